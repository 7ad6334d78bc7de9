#![deny(warnings)]

use fusebox::{circuit_breaker, registry};

#[derive(Debug, PartialEq)]
struct Error;

#[derive(Clone, Copy, Debug, PartialEq)]
struct UserId(u64);

#[circuit_breaker(name = "pass::score", fallback = "no_score")]
fn score(
    user: UserId,
    weight: f64,
    flag: bool,
    tag: char,
) -> Result<(UserId, f64, bool, char), Error> {
    Ok((user, weight, flag, tag))
}

fn no_score(
    user: UserId,
    weight: f64,
    flag: bool,
    tag: char,
) -> Result<(UserId, f64, bool, char), Error> {
    Ok((user, -weight, !flag, tag))
}

fn main() {
    assert_eq!(
        score(UserId(1), 0.5, true, 'a'),
        Ok((UserId(1), 0.5, true, 'a'))
    );
    registry::get("pass::score").unwrap().force_open();
    assert_eq!(
        score(UserId(1), 0.5, true, 'a'),
        Ok((UserId(1), -0.5, false, 'a'))
    );
}
