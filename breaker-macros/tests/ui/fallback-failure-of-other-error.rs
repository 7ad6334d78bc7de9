use fusebox::{BreakerError, circuit_breaker};

#[derive(Debug)]
struct Error;

impl From<BreakerError> for Error {
    fn from(_: BreakerError) -> Self {
        Error
    }
}

#[derive(Debug)]
struct OtherError;

fn default_recs(_user_id: u64, _failure: fusebox::Failure<OtherError>) -> Result<Vec<u64>, Error> {
    Ok(Vec::new())
}

#[circuit_breaker(fallback = "default_recs")]
fn recs(user_id: u64) -> Result<Vec<u64>, Error> {
    Ok(vec![user_id])
}

fn main() {
    let _ = recs(7);
}
