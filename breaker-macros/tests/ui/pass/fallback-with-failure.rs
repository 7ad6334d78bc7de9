#![deny(warnings)]

use std::{
    pin::pin,
    task::{Context, Poll, Waker},
};

use fusebox::{Failure, circuit_breaker, registry};

#[derive(Debug, PartialEq)]
enum Error {
    Down,
}

#[derive(Debug, PartialEq)]
enum Why {
    Breaker,
    Error(Error),
}

fn why(failure: Failure<Error>) -> Why {
    match failure {
        Failure::Breaker(_) => Why::Breaker,
        Failure::Error(error) => Why::Error(error),
    }
}

// The fallback may take a last `Failure<E>` saying why it runs.
#[circuit_breaker(name = "pass::recs", fallback = "explain")]
fn recs(user_id: u64) -> Result<(u64, Option<Why>), Error> {
    if user_id == 0 {
        return Err(Error::Down);
    }
    Ok((user_id, None))
}

fn explain(user_id: u64, failure: Failure<Error>) -> Result<(u64, Option<Why>), Error> {
    Ok((user_id, Some(why(failure))))
}

#[circuit_breaker(name = "pass::recs_async", fallback = "explain_async")]
async fn recs_async(user_id: u64) -> Result<(u64, Option<Why>), Error> {
    if user_id == 0 {
        return Err(Error::Down);
    }
    Ok((user_id, None))
}

async fn explain_async(user_id: u64, failure: Failure<Error>) -> Result<(u64, Option<Why>), Error> {
    Ok((user_id, Some(why(failure))))
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
    assert_eq!(recs(1), Ok((1, None)));
    assert_eq!(recs(0), Ok((0, Some(Why::Error(Error::Down)))));
    registry::get("pass::recs").unwrap().force_open();
    assert_eq!(recs(1), Ok((1, Some(Why::Breaker))));

    assert_eq!(block_on(recs_async(1)), Ok((1, None)));
    assert_eq!(
        block_on(recs_async(0)),
        Ok((0, Some(Why::Error(Error::Down))))
    );
    registry::get("pass::recs_async").unwrap().force_open();
    assert_eq!(block_on(recs_async(1)), Ok((1, Some(Why::Breaker))));
}
