use fusebox::{BreakerError, circuit_breaker};

#[derive(Debug)]
struct Error;

impl From<BreakerError> for Error {
    fn from(_: BreakerError) -> Self {
        Error
    }
}

#[circuit_breaker(policy = "fast")]
fn fetch() -> Result<u32, Error> {
    Ok(1)
}

fn main() {
    let _ = fetch();
}
