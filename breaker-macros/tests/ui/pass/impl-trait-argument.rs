#![deny(warnings)]

use std::fmt::Display;

use fusebox::{BreakerError, circuit_breaker};

#[derive(Debug, PartialEq)]
struct Error;

impl From<BreakerError> for Error {
    fn from(_: BreakerError) -> Self {
        Error
    }
}

#[circuit_breaker]
fn describe(item: impl Display, tags: impl IntoIterator<Item = u8>) -> Result<String, Error> {
    Ok(format!("{item}:{}", tags.into_iter().count()))
}

fn main() {
    assert_eq!(describe("heat", [1, 2]), Ok("heat:2".to_owned()));
}
