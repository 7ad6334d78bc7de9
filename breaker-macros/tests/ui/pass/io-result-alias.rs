#![deny(warnings)]

use std::io;

use breaker::circuit_breaker;

mod api {
    pub type Result<T> = std::result::Result<T, super::ApiError>;
}

#[derive(Debug)]
pub struct ApiError;

impl From<breaker::BreakerError> for ApiError {
    fn from(_: breaker::BreakerError) -> Self {
        ApiError
    }
}

// `io::Error` has no `From<BreakerError>`: with an alias, a fallback works as well.
#[circuit_breaker(fallback = "read_nothing")]
fn read() -> io::Result<u32> {
    Ok(1)
}

fn read_nothing(failure: breaker::Failure<io::Error>) -> io::Result<u32> {
    Err(match failure {
        breaker::Failure::Breaker(error) => io::Error::other(error),
        breaker::Failure::Error(error) => error,
    })
}

#[circuit_breaker(fallback = "cached")]
fn fetch() -> api::Result<u32> {
    Err(ApiError)
}

fn cached() -> api::Result<u32> {
    Ok(0)
}

fn main() {
    assert_eq!(read().unwrap(), 1);
    assert_eq!(fetch().unwrap(), 0);
}
