//! The smallest use: one annotated function, a fallback, and what happens when it fails.
//!
//! Run it with `cargo run --example quickstart`.

use fusebox::{BreakerError, State, circuit_breaker, registry};

#[derive(Debug)]
enum PriceError {
    Backend(&'static str),
    Unavailable(BreakerError),
}

impl From<BreakerError> for PriceError {
    fn from(error: BreakerError) -> Self {
        PriceError::Unavailable(error)
    }
}

/// Asks a pricing backend; `up` stands in for whether it is reachable.
#[circuit_breaker(
    consecutive_failures = 3,
    sleep_window_ms = 10000,
    fallback = "last_known_price"
)]
fn price(item: u32, up: bool) -> Result<u32, PriceError> {
    price_backend(item, up)
}

/// What callers get instead while the backend is failing or the circuit is open.
#[allow(clippy::unnecessary_wraps)] // a fallback returns the function's own type
fn last_known_price(item: u32, _up: bool) -> Result<u32, PriceError> {
    Ok(item * 90)
}

/// The same call without a fallback: a rejection comes back as the function's own error.
#[circuit_breaker(name = "quickstart::strict_price", consecutive_failures = 1)]
fn strict_price(item: u32, up: bool) -> Result<u32, PriceError> {
    price_backend(item, up)
}

fn price_backend(item: u32, up: bool) -> Result<u32, PriceError> {
    if up {
        Ok(item * 100)
    } else {
        Err(PriceError::Backend(
            "pricing backend refused the connection",
        ))
    }
}

fn main() {
    println!("backend up:      price(7) = {:?}", price(7, true));
    for attempt in 1..=4 {
        println!("backend down #{attempt}: price(7) = {:?}", price(7, false));
    }
    let breaker = registry::get("quickstart::price").expect("registered at the first call");
    assert_eq!(breaker.state(), State::Open);
    println!(
        "breaker `{}` is {} after 3 failures in a row",
        breaker.name(),
        breaker.state()
    );
    println!(
        "backend up again, but the circuit is open: price(7) = {:?}",
        price(7, true)
    );

    println!("\nwithout a fallback:");
    for up in [false, true] {
        match strict_price(7, up) {
            Ok(price) => println!("strict_price(7) = {price}"),
            Err(PriceError::Backend(reason)) => println!("strict_price(7) failed: {reason}"),
            Err(PriceError::Unavailable(error)) => println!("strict_price(7) rejected: {error}"),
        }
    }
}
