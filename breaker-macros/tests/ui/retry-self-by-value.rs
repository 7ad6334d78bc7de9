use fusebox::{BreakerError, circuit_breaker};

#[derive(Debug)]
struct Error;

impl From<BreakerError> for Error {
    fn from(_: BreakerError) -> Self {
        Error
    }
}

#[derive(Clone)]
struct Client;

impl Client {
    #[circuit_breaker(retry = 2)]
    fn fetch(self) -> Result<u32, Error> {
        Ok(1)
    }
}

fn main() {
    let _ = Client.fetch();
}
