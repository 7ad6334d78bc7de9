#![deny(warnings)]

use std::{
    pin::pin,
    task::{Context, Poll, Waker},
};

use fusebox::{circuit_breaker, registry};

#[derive(Debug, PartialEq)]
enum Error {
    Down,
}

// With a fallback, the error type needs no `From<BreakerError>`.
#[circuit_breaker(name = "pass::recs", fallback = "default_recs")]
fn recs(user_id: u64, label: String) -> Result<Vec<String>, Error> {
    if user_id == 0 {
        return Err(Error::Down);
    }
    Ok(vec![label])
}

fn default_recs(user_id: u64, label: String) -> Result<Vec<String>, Error> {
    Ok(vec![format!("default {label} for {user_id}")])
}

#[circuit_breaker(name = "pass::recs_async", fallback = "default_recs_async")]
async fn recs_async(user_id: u64) -> Result<Vec<u64>, Error> {
    if user_id == 0 {
        return Err(Error::Down);
    }
    Ok(vec![user_id])
}

async fn default_recs_async(user_id: u64) -> Result<Vec<u64>, Error> {
    Ok(vec![user_id, 100])
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
    assert_eq!(recs(1, "heat".to_owned()), Ok(vec!["heat".to_owned()]));
    assert_eq!(
        recs(0, "heat".to_owned()),
        Ok(vec!["default heat for 0".to_owned()])
    );
    registry::get("pass::recs").unwrap().force_open();
    assert_eq!(
        recs(1, "heat".to_owned()),
        Ok(vec!["default heat for 1".to_owned()])
    );

    assert_eq!(block_on(recs_async(1)), Ok(vec![1]));
    assert_eq!(block_on(recs_async(0)), Ok(vec![0, 100]));
    registry::get("pass::recs_async").unwrap().force_open();
    assert_eq!(block_on(recs_async(1)), Ok(vec![1, 100]));
}
