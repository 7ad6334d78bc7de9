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

/// An extractor as axum's: a pattern-friendly wrapper that is not `Clone`.
struct Path<T>(T);

// A pattern argument with a fallback: the fallback gets the whole argument.
#[circuit_breaker(name = "pass::pattern", consecutive_failures = 1, fallback = "default_pair")]
fn pair((user, limit): (u64, u64)) -> Result<Vec<u64>, Error> {
    if user == 0 {
        return Err(Error::Down);
    }
    Ok(vec![user, limit])
}

fn default_pair(pair: (u64, u64), _why: Failure<Error>) -> Result<Vec<u64>, Error> {
    Ok(vec![pair.1])
}

// An argument that cannot be cloned (an axum extractor): a fallback without parameters.
#[circuit_breaker(name = "pass::handler", consecutive_failures = 1, fallback = "unavailable")]
async fn handler(Path(user): Path<u64>, label: String) -> Result<String, Error> {
    if user == 0 {
        return Err(Error::Down);
    }
    Ok(format!("{label} {user}"))
}

async fn unavailable() -> Result<String, Error> {
    Ok("try again later".to_owned())
}

// The same for a sync function with one argument.
#[circuit_breaker(name = "pass::one_path", fallback = "nothing_to_say")]
fn one_path(Path(id): Path<u32>) -> Result<u32, Error> {
    if id == 0 { Err(Error::Down) } else { Ok(id) }
}

fn nothing_to_say() -> Result<u32, Error> {
    Ok(0)
}

fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    loop {
        if let Poll::Ready(output) = future
            .as_mut()
            .poll(&mut Context::from_waker(Waker::noop()))
        {
            return output;
        }
    }
}

fn main() {
    assert_eq!(pair((7, 3)), Ok(vec![7, 3]));
    assert_eq!(pair((0, 3)), Ok(vec![3]), "the fallback, with the argument");
    assert_eq!(block_on(handler(Path(5), "user".to_owned())), Ok("user 5".to_owned()));
    assert_eq!(block_on(handler(Path(0), "user".to_owned())), Ok("try again later".to_owned()));
    assert_eq!(
        block_on(handler(Path(5), "user".to_owned())),
        Ok("try again later".to_owned()),
        "open: the fallback answers at once"
    );
    assert_eq!(one_path(Path(9)), Ok(9));
    assert_eq!(one_path(Path(0)), Ok(0));
    assert_eq!(registry::get("pass::handler").unwrap().metrics().counters.fallbacks, 2);
}
