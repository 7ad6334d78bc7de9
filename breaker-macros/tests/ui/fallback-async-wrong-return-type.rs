use fusebox::{BreakerError, circuit_breaker};

#[derive(Debug)]
struct Error;

impl From<BreakerError> for Error {
    fn from(_: BreakerError) -> Self {
        Error
    }
}

async fn default_recs(_user_id: u64) -> Vec<u64> {
    Vec::new()
}

#[circuit_breaker(fallback = "default_recs")]
async fn recs(user_id: u64) -> Result<Vec<u64>, Error> {
    Ok(vec![user_id])
}

fn main() {
    let _ = recs(7);
}
