#![deny(warnings, missing_docs)]
//! Docs and attributes on an annotated function stay on it.

use fusebox::{BreakerError, circuit_breaker};

/// The error.
#[derive(Debug, PartialEq)]
pub struct Error;

impl From<BreakerError> for Error {
    fn from(_: BreakerError) -> Self {
        Error
    }
}

/// Recommendations for a user.
#[circuit_breaker]
#[inline]
#[must_use = "the recommendations are the point"]
#[doc(alias = "recs")]
pub fn recommendations(user_id: u64) -> Result<Vec<u64>, Error> {
    Ok(vec![user_id])
}

#[circuit_breaker]
#[cfg_attr(all(), doc = "Kept through `cfg_attr` too.")]
#[allow(clippy::unnecessary_wraps)]
pub fn documented_by_cfg_attr() -> Result<(), Error> {
    Ok(())
}

fn main() {
    assert_eq!(recommendations(3), Ok(vec![3]));
    assert_eq!(documented_by_cfg_attr(), Ok(()));
}
