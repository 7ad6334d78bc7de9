use fusebox::{BreakerError, circuit_breaker};

#[derive(Debug)]
struct Error;

impl From<BreakerError> for Error {
    fn from(_: BreakerError) -> Self {
        Error
    }
}

#[circuit_breaker(key = "user")]
fn fetch(id: u64, page: u32) -> Result<u64, Error> {
    Ok(id + u64::from(page))
}

fn main() {
    let _ = fetch(1, 2);
}
