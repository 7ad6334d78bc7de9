use fusebox::{BreakerError, circuit_breaker};

#[derive(Debug)]
struct Error;

impl From<BreakerError> for Error {
    fn from(_: BreakerError) -> Self {
        Error
    }
}

trait Recommender {
    #[circuit_breaker]
    fn recs(&self, user_id: u64) -> Result<Vec<u64>, Error>;
}

struct Client;

impl Recommender for Client {
    fn recs(&self, user_id: u64) -> Result<Vec<u64>, Error> {
        Ok(vec![user_id])
    }
}

fn main() {
    let _ = Client.recs(7);
}
