use fusebox::{BreakerError, circuit_breaker};

#[derive(Debug)]
struct Error;

impl From<BreakerError> for Error {
    fn from(_: BreakerError) -> Self {
        Error
    }
}

/// Hash, Eq and Display, but it cannot be cloned into a key of its own.
#[derive(Hash, PartialEq, Eq)]
struct Session(u64);

impl std::fmt::Display for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "session-{}", self.0)
    }
}

#[circuit_breaker(key = "session")]
fn fetch(session: &Session) -> Result<u64, Error> {
    Ok(session.0)
}

fn main() {
    let _ = fetch(&Session(1));
}
