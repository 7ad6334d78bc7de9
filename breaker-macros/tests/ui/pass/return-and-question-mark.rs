#![deny(warnings)]

use std::{
    num::ParseIntError,
    pin::pin,
    task::{Context, Poll, Waker},
};

use fusebox::{BreakerError, circuit_breaker};

#[derive(Debug, PartialEq)]
enum Error {
    Parse(ParseIntError),
    Breaker,
}

impl From<BreakerError> for Error {
    fn from(_: BreakerError) -> Self {
        Error::Breaker
    }
}

impl From<ParseIntError> for Error {
    fn from(error: ParseIntError) -> Self {
        Error::Parse(error)
    }
}

// `return` and `?` leave the body, not the generated function.
#[circuit_breaker]
fn parse(text: &str) -> Result<u64, Error> {
    if text.is_empty() {
        return Ok(0);
    }
    let number: u64 = text.parse()?;
    Ok(number)
}

#[circuit_breaker]
async fn parse_async(text: &str) -> Result<u64, Error> {
    if text.is_empty() {
        return Ok(0);
    }
    let number: u64 = text.parse()?;
    Ok(number)
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
    assert_eq!(parse(""), Ok(0));
    assert_eq!(parse("7"), Ok(7));
    assert!(matches!(parse("x"), Err(Error::Parse(_))));
    assert_eq!(block_on(parse_async("")), Ok(0));
    assert!(matches!(block_on(parse_async("x")), Err(Error::Parse(_))));
    assert!(matches!(Error::from(breaker_error()), Error::Breaker));
}

fn breaker_error() -> BreakerError {
    let breaker = fusebox::CircuitBreaker::new("pass::return", fusebox::Config::default());
    breaker.force_open();
    match breaker.call(|| Ok::<(), ()>(())) {
        Err(fusebox::Failure::Breaker(error)) => error,
        _ => unreachable!("forced open"),
    }
}
