#![deny(warnings)]

use fusebox::{BreakerError, State, circuit_breaker, registry};

#[derive(Debug, PartialEq)]
enum Error {
    Down,
    Breaker,
}

impl From<BreakerError> for Error {
    fn from(_: BreakerError) -> Self {
        Error::Breaker
    }
}

// Two functions in front of one backend share its breaker.
#[circuit_breaker(name = "pass::catalog", consecutive_failures = 1)]
fn titles() -> Result<u32, Error> {
    Err(Error::Down)
}

#[circuit_breaker(name = "pass::catalog")]
fn posters() -> Result<u32, Error> {
    Ok(1)
}

fn main() {
    assert_eq!(titles(), Err(Error::Down));
    assert_eq!(registry::get("pass::catalog").unwrap().state(), State::Open);
    assert_eq!(
        posters(),
        Err(Error::Breaker),
        "the other function's breaker opened"
    );
}
