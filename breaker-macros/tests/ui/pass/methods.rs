#![deny(warnings)]

use fusebox::{BreakerError, circuit_breaker};

#[derive(Debug, PartialEq)]
struct Error;

impl From<BreakerError> for Error {
    fn from(_: BreakerError) -> Self {
        Error
    }
}

#[derive(Clone)]
struct Client {
    calls: u32,
}

impl Client {
    #[circuit_breaker]
    fn by_ref(&self) -> Result<u32, Error> {
        Ok(self.calls)
    }

    #[circuit_breaker]
    fn by_mut(&mut self) -> Result<u32, Error> {
        self.calls += 1;
        Ok(self.calls)
    }

    #[circuit_breaker]
    fn by_value(self) -> Result<u32, Error> {
        Ok(self.calls)
    }

    #[circuit_breaker]
    fn associated(calls: u32) -> Result<Self, Error> {
        Ok(Client { calls })
    }
}

fn main() {
    let mut client = Client::associated(1).unwrap();
    assert_eq!(client.by_mut(), Ok(2));
    assert_eq!(client.by_ref(), Ok(2));
    assert_eq!(client.by_value(), Ok(2));
}
