use fusebox::{BreakerError, circuit_breaker};

#[derive(Debug)]
struct Error;

impl From<BreakerError> for Error {
    fn from(_: BreakerError) -> Self {
        Error
    }
}

// Ten buckets of 5 ms: finer than the coarse clock ticks.
#[circuit_breaker(window_ms = 50, window_buckets = 10)]
fn fetch() -> Result<u32, Error> {
    Ok(1)
}

fn main() {
    let _ = fetch();
}
