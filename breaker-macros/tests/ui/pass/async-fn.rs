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

#[circuit_breaker(error_threshold = 25, max_concurrent = 8)]
async fn fetch(user_id: u64) -> Result<u64, Error> {
    Ok(user_id * 2)
}

/// Polls a future that never waits to its end.
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
    assert_eq!(block_on(fetch(21)), Ok(42));
}
