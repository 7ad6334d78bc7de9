use fusebox::{BreakerError, circuit_breaker};

#[derive(Debug)]
struct Error;

impl From<BreakerError> for Error {
    fn from(_: BreakerError) -> Self {
        Error
    }
}

struct Client;

#[circuit_breaker]
impl Client {
    fn recs(&self, user_id: u64) -> Result<Vec<u64>, Error> {
        Ok(vec![user_id])
    }
}

fn main() {
    let _ = Client.recs(7);
}
