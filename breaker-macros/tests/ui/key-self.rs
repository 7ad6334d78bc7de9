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
    #[circuit_breaker(key = "self")]
    fn fetch(&self, user: u64) -> Result<u64, Error> {
        Ok(user)
    }
}

fn main() {
    let _ = Client.fetch(1);
}
