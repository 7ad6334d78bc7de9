#![deny(unused_must_use)]

use fusebox::{BreakerError, circuit_breaker};

#[derive(Debug)]
struct Error;

impl From<BreakerError> for Error {
    fn from(_: BreakerError) -> Self {
        Error
    }
}

// The user's own lints still fire on an annotated function.
#[circuit_breaker]
#[must_use = "the recommendations are the point"]
fn recs(user_id: u64) -> Result<Vec<u64>, Error> {
    Ok(vec![user_id])
}

fn main() {
    recs(7);
}
