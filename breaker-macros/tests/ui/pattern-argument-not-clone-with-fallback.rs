use fusebox::{BreakerError, circuit_breaker};

#[derive(Debug)]
struct Error;

impl From<BreakerError> for Error {
    fn from(_: BreakerError) -> Self {
        Error
    }
}

/// An extractor as axum's: not `Clone`.
struct Path<T>(T);

fn default_user(_user: Path<u64>) -> Result<u64, Error> {
    Ok(0)
}

// A fallback that takes the argument needs a clone of it: a fallback without parameters does not.
#[circuit_breaker(fallback = "default_user")]
fn user(Path(id): Path<u64>) -> Result<u64, Error> {
    Ok(id)
}

fn main() {
    let _ = user(Path(7));
}
