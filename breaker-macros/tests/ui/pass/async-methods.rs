#![deny(warnings)]

use std::{
    pin::pin,
    task::{Context, Poll, Waker},
};

use fusebox::{BreakerError, circuit_breaker};

#[derive(Debug, PartialEq)]
struct Error;

impl From<BreakerError> for Error {
    fn from(_: BreakerError) -> Self {
        Error
    }
}

#[derive(Clone)]
struct Client {
    calls: u32,
}

impl Client {
    #[circuit_breaker]
    async fn by_ref(&self) -> Result<u32, Error> {
        Ok(self.calls)
    }

    #[circuit_breaker]
    async fn by_mut(&mut self) -> Result<u32, Error> {
        self.calls += 1;
        Ok(self.calls)
    }

    #[circuit_breaker]
    async fn by_value(self) -> Result<u32, Error> {
        Ok(self.calls)
    }
}

fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let mut context = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut context) {
            return output;
        }
    }
}

fn main() {
    let mut client = Client { calls: 1 };
    assert_eq!(block_on(client.by_mut()), Ok(2));
    assert_eq!(block_on(client.by_ref()), Ok(2));
    assert_eq!(block_on(client.by_value()), Ok(2));
}
