use fusebox::{BreakerError, circuit_breaker};

#[derive(Debug)]
struct Error;

impl From<BreakerError> for Error {
    fn from(_: BreakerError) -> Self {
        Error
    }
}

struct Client;

impl Client {
    #[circuit_breaker(fallback = "cached")]
    fn recs(&self, user_id: u64) -> Result<Vec<u64>, Error> {
        Ok(vec![user_id])
    }
}

fn main() {
    let _ = Client.recs(7);
}
