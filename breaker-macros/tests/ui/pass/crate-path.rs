#![deny(warnings)]

use breaker::BreakerError;

/// The facade under another path, as a crate that re-exports it would have it.
mod reexport {
    pub use breaker::*;
}

#[derive(Debug, PartialEq)]
struct Error;

impl From<BreakerError> for Error {
    fn from(_: BreakerError) -> Self {
        Error
    }
}

#[breaker::circuit_breaker(crate = "::breaker")]
fn absolute() -> Result<u32, Error> {
    Ok(1)
}

#[reexport::circuit_breaker(crate = "crate::reexport", fallback = "zero")]
fn reexported() -> Result<u32, Error> {
    Ok(2)
}

fn zero() -> Result<u32, Error> {
    Ok(0)
}

fn main() {
    assert_eq!(absolute(), Ok(1));
    assert_eq!(reexported(), Ok(2));
}
