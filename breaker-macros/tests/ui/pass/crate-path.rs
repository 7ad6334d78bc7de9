#![deny(warnings)]

use fusebox::BreakerError;

/// The facade under another path, as a crate that re-exports it would have it.
mod reexport {
    pub use fusebox::*;
}

#[derive(Debug, PartialEq)]
struct Error;

impl From<BreakerError> for Error {
    fn from(_: BreakerError) -> Self {
        Error
    }
}

#[fusebox::circuit_breaker(crate = "::fusebox")]
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

// The path written as it is, as `fallback` and `failure_if` may be too.
#[reexport::circuit_breaker(crate = crate::reexport, fallback = zero)]
fn reexported_bare() -> Result<u32, Error> {
    Ok(3)
}

fn main() {
    assert_eq!(absolute(), Ok(1));
    assert_eq!(reexported(), Ok(2));
    assert_eq!(reexported_bare(), Ok(3));
}
