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
fn render<T, const N: usize>(items: [T; N]) -> Result<String, Error>
where
    T: Display,
{
    Ok(items.iter().map(ToString::to_string).collect())
}

#[circuit_breaker(fallback = "render_nothing")]
fn render_with_fallback<'a, T>(items: &'a [T], extra: T) -> Result<String, Error>
where
    T: Display + Clone + 'a,
{
    Ok(items
        .iter()
        .chain([&extra])
        .map(ToString::to_string)
        .collect())
}

fn render_nothing<T: Display>(_items: &[T], _extra: T) -> Result<String, Error> {
    Ok(String::new())
}

fn main() {
    // Both instantiations share one breaker.
    assert_eq!(render([1, 2]), Ok("12".to_owned()));
    assert_eq!(render(["a"]), Ok("a".to_owned()));
    assert_eq!(render_with_fallback(&[1], 2), Ok("12".to_owned()));
}
