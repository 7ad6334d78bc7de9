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

trait Recommender {
    fn recs(&self, user_id: u64) -> Result<Vec<u64>, Error>;
    fn reset(&mut self) -> Result<(), Error>;
    async fn recs_async(&self, user_id: u64) -> Result<Vec<u64>, Error>;

    // A default body can carry the attribute too.
    #[circuit_breaker]
    fn top(&self) -> Result<u64, Error> {
        Ok(self.recs(0)?.first().copied().unwrap_or_default())
    }
}

struct Client {
    seen: Vec<u64>,
}

impl Recommender for Client {
    #[circuit_breaker(fallback = "cached")]
    fn recs(&self, user_id: u64) -> Result<Vec<u64>, Error> {
        Ok(vec![user_id])
    }

    #[circuit_breaker]
    fn reset(&mut self) -> Result<(), Error> {
        self.seen.clear();
        Ok(())
    }

    #[circuit_breaker(fallback = "cached_async")]
    async fn recs_async(&self, user_id: u64) -> Result<Vec<u64>, Error> {
        Ok(vec![user_id + 1])
    }
}

impl Client {
    fn cached(&self, _user_id: u64) -> Result<Vec<u64>, Error> {
        Ok(self.seen.clone())
    }

    async fn cached_async(&self, _user_id: u64) -> Result<Vec<u64>, Error> {
        Ok(self.seen.clone())
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
    let mut client = Client { seen: vec![9] };
    assert_eq!(client.recs(1), Ok(vec![1]));
    assert_eq!(block_on(client.recs_async(1)), Ok(vec![2]));
    assert_eq!(client.top(), Ok(0));
    assert_eq!(client.reset(), Ok(()));
    assert!(client.seen.is_empty());
}
