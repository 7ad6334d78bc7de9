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
    fn cached(_user_id: u64) -> Result<Vec<u32>, Error> {
        Ok(Vec::new())
    }

    #[circuit_breaker(fallback = "cached")]
    fn recs(&self, user_id: u64) -> Result<Vec<u32>, Error> {
        Ok(vec![u32::from(user_id == 0)])
    }
}

fn main() {
    let _ = Client.recs(7);
}
