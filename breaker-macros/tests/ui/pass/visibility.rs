#![deny(warnings)]

use fusebox::{BreakerError, circuit_breaker};

#[derive(Debug, PartialEq)]
pub struct Error;

impl From<BreakerError> for Error {
    fn from(_: BreakerError) -> Self {
        Error
    }
}

pub mod api {
    use super::{Error, circuit_breaker};

    #[circuit_breaker]
    pub fn public() -> Result<u32, Error> {
        crate_only()
    }

    #[circuit_breaker]
    pub(crate) fn crate_only() -> Result<u32, Error> {
        Ok(1)
    }

    #[circuit_breaker]
    pub(super) fn parent_only() -> Result<u32, Error> {
        Ok(2)
    }
}

fn main() {
    assert_eq!(api::public(), Ok(1));
    assert_eq!(api::crate_only(), Ok(1));
    assert_eq!(api::parent_only(), Ok(2));
}
