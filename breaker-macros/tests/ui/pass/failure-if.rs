#![deny(warnings)]

use std::{
    pin::pin,
    task::{Context, Poll, Waker},
};

use fusebox::{BreakerError, circuit_breaker, registry};

#[derive(Clone, Debug, PartialEq)]
enum Error {
    Down,
    NotFound,
    Breaker,
}

impl From<BreakerError> for Error {
    fn from(_: BreakerError) -> Self {
        Error::Breaker
    }
}

fn is_outage(error: &Error) -> bool {
    *error == Error::Down
}

mod errors {
    pub fn is_outage<E: PartialEq<super::Error>>(error: &E) -> bool {
        *error == super::Error::Down
    }
}

#[circuit_breaker(
    name = "pass::find",
    failure_if = "is_outage",
    consecutive_failures = 1
)]
fn find(found: bool) -> Result<u64, Error> {
    if found { Ok(1) } else { Err(Error::NotFound) }
}

// An error `failure_if` says is no failure reaches the caller, not the fallback.
#[circuit_breaker(
    name = "pass::find_or_default",
    failure_if = "errors::is_outage",
    fallback = "zero"
)]
fn find_or_default(error: Error) -> Result<u64, Error> {
    Err(error)
}

fn zero(_error: Error) -> Result<u64, Error> {
    Ok(0)
}

#[circuit_breaker(
    name = "pass::find_async",
    failure_if = "is_outage",
    fallback = "zero_async"
)]
async fn find_async(error: Error) -> Result<u64, Error> {
    Err(error)
}

async fn zero_async(_error: Error) -> Result<u64, Error> {
    Ok(0)
}

// Paths written as they are rather than as strings.
#[circuit_breaker(name = "pass::find_bare", failure_if = errors::is_outage, fallback = zero)]
fn find_bare(error: Error) -> Result<u64, Error> {
    Err(error)
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
    assert_eq!(find(true), Ok(1));
    assert_eq!(find(false), Err(Error::NotFound));
    assert_eq!(
        find(false),
        Err(Error::NotFound),
        "not found is not an outage: still closed"
    );
    assert_eq!(registry::get("pass::find").unwrap().metrics().failures, 0);

    assert_eq!(find_or_default(Error::NotFound), Err(Error::NotFound));
    assert_eq!(find_or_default(Error::Down), Ok(0));
    assert_eq!(block_on(find_async(Error::NotFound)), Err(Error::NotFound));
    assert_eq!(block_on(find_async(Error::Down)), Ok(0));
    assert_eq!(find_bare(Error::NotFound), Err(Error::NotFound));
    assert_eq!(find_bare(Error::Down), Ok(0));
}
