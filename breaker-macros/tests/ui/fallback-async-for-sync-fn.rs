use fusebox::{BreakerError, circuit_breaker};

#[derive(Debug)]
struct Error;

impl From<BreakerError> for Error {
    fn from(_: BreakerError) -> Self {
        Error
    }
}

async fn default_recs(_user_id: u64) -> Result<Vec<u32>, Error> {
    Ok(Vec::new())
}

#[circuit_breaker(fallback = "default_recs")]
fn recs(user_id: u64) -> Result<Vec<u32>, Error> {
    Ok(vec![u32::from(user_id == 0)])
}

fn main() {
    let _ = recs(7);
}
