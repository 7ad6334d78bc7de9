use fusebox::{BreakerError, circuit_breaker};

#[derive(Debug)]
struct Error;

impl From<BreakerError> for Error {
    fn from(_: BreakerError) -> Self {
        Error
    }
}

/// Eq and Display, but not Hash.
#[derive(Clone, PartialEq, Eq)]
struct Region(u8);

impl std::fmt::Display for Region {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "region-{}", self.0)
    }
}

#[circuit_breaker(key = "region")]
fn fetch(region: Region) -> Result<u8, Error> {
    Ok(region.0)
}

fn main() {
    let _ = fetch(Region(1));
}
