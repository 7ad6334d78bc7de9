#![deny(dead_code, unused_variables)]

use fusebox::{BreakerError, circuit_breaker};

#[derive(Debug)]
struct Error;

impl From<BreakerError> for Error {
    fn from(_: BreakerError) -> Self {
        Error
    }
}

// Never called: the user's own `dead_code` lint must still see it.
#[circuit_breaker]
fn never_called(unused: u32) -> Result<u32, Error> {
    Ok(1)
}

fn main() {}
