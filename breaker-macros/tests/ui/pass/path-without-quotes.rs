#![deny(warnings)]

// `fallback`, `failure_if` and `crate` take a path as it is, as rustc's own fix for a
// misspelt path writes it, or as a string.
use fusebox::{BreakerError, circuit_breaker};

#[derive(Debug, PartialEq)]
struct Error;

impl From<BreakerError> for Error {
    fn from(_: BreakerError) -> Self {
        Error
    }
}

fn default_fetch() -> Result<u32, Error> {
    Ok(0)
}

#[circuit_breaker(fallback = default_fetch)]
fn fetch() -> Result<u32, Error> {
    Err(Error)
}

fn main() {
    assert_eq!(fetch(), Ok(0));
}
