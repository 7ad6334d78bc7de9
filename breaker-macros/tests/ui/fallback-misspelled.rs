use fusebox::{BreakerError, circuit_breaker};

#[derive(Debug)]
struct Error;

impl From<BreakerError> for Error {
    fn from(_: BreakerError) -> Self {
        Error
    }
}

fn default_recs(_user_id: u64) -> Result<Vec<u64>, Error> {
    Ok(Vec::new())
}

#[circuit_breaker(fallback = "default_rec")]
fn recs(user_id: u64) -> Result<Vec<u64>, Error> {
    Ok(vec![user_id])
}

fn main() {
    let _ = recs(7);
}
