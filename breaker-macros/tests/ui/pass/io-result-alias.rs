#![deny(warnings)]

use std::io;

use fusebox::circuit_breaker;

mod api {
    pub type Result<T> = std::result::Result<T, super::ApiError>;
}

#[derive(Debug)]
pub struct ApiError;

impl From<fusebox::BreakerError> for ApiError {
    fn from(_: fusebox::BreakerError) -> Self {
        ApiError
    }
}

// `io::Error` has no `From<BreakerError>`: with an alias, a fallback works as well.
#[circuit_breaker(fallback = "read_nothing")]
fn read() -> io::Result<u32> {
    Ok(1)
}

fn read_nothing(failure: fusebox::Failure<io::Error>) -> io::Result<u32> {
    Err(match failure {
        fusebox::Failure::Breaker(error) => io::Error::other(error),
        fusebox::Failure::Error(error) => error,
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
