use fusebox::{BreakerError, circuit_breaker};

#[derive(Debug)]
struct Error;

impl From<BreakerError> for Error {
    fn from(_: BreakerError) -> Self {
        Error
    }
}

#[circuit_breaker(key = "user", max_key_len = 0)]
fn fetch(user: u64) -> Result<u64, Error> {
    Ok(user)
}

fn main() {
    let _ = fetch(1);
}
