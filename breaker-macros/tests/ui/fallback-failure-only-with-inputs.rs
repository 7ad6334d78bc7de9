use fusebox::{BreakerError, Failure, circuit_breaker};

#[derive(Debug)]
struct Error;

impl From<BreakerError> for Error {
    fn from(_: BreakerError) -> Self {
        Error
    }
}

// With inputs, a fallback takes all of them (and may add a `Failure<E>`), or nothing: one
// parameter for a function of two is neither.
fn why_only(_why: Failure<Error>) -> Result<u64, Error> {
    Ok(0)
}

#[circuit_breaker(fallback = "why_only")]
fn lookup(user: u64, region: u8) -> Result<u64, Error> {
    Ok(user + u64::from(region))
}

fn main() {
    let _ = lookup(1, 2);
}
