use fusebox::{BreakerError, circuit_breaker};

#[derive(Debug)]
struct Error;

impl From<BreakerError> for Error {
    fn from(_: BreakerError) -> Self {
        Error
    }
}

fn is_transient(_: &std::io::Error) -> bool {
    true
}

#[circuit_breaker(retry = 2, retry_if = "is_transient")]
fn fetch() -> Result<u32, Error> {
    Ok(1)
}

fn main() {
    let _ = fetch();
}
