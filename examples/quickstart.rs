//! The smallest use: one annotated function, a fallback, and what happens when it fails.
//!
//! Run it with `cargo run --example quickstart`.

use fusebox::{BreakerError, Failure, State, circuit_breaker, registry};

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

/// A price, and where it came from.
#[derive(Debug)]
struct Price {
    cents: u32,
    source: &'static str,
}

/// Asks a pricing backend; `up` stands in for whether it is reachable.
#[circuit_breaker(
    consecutive_failures = 3,
    sleep_window_ms = 10000,
    fallback = "last_known_price"
)]
fn price(item: u32, up: bool) -> Result<Price, PriceError> {
    let cents = price_backend(item, up)?;
    Ok(Price {
        cents,
        source: "the backend",
    })
}

/// What callers get instead while the backend is failing or the circuit is open; the last
/// parameter says which.
#[allow(clippy::unnecessary_wraps, clippy::needless_pass_by_value)] // a fallback has the function's signature
fn last_known_price(item: u32, _up: bool, why: Failure<PriceError>) -> Result<Price, PriceError> {
    let source = match why {
        Failure::Error(_) => "the fallback: the backend failed",
        Failure::Breaker(BreakerError::Open { .. }) => "the fallback: the circuit is open",
        Failure::Breaker(_) => "the fallback: the breaker refused the call",
    };
    Ok(Price {
        cents: item * 90,
        source,
    })
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

fn show(when: &str, up: bool) {
    match price(7, up) {
        Ok(price) => println!(
            "{when:<38} price(7) = {:>3} from {}",
            price.cents, price.source
        ),
        Err(error) => println!("{when:<38} price(7) failed: {error:?}"),
    }
}

fn main() {
    show("backend up:", true);
    for attempt in 1..=4 {
        show(&format!("backend down, call {attempt}:"), false);
    }
    let breaker = registry::get("quickstart::price").expect("registered at the first call");
    assert_eq!(breaker.state(), State::Open);
    println!(
        "breaker `{}` is {} after 3 failures in a row",
        breaker.name(),
        breaker.state()
    );
    show("backend up again, circuit still open:", true);

    println!("\nwithout a fallback:");
    for up in [false, true] {
        match strict_price(7, up) {
            Ok(price) => println!("strict_price(7) = {price}"),
            Err(PriceError::Backend(reason)) => println!("strict_price(7) failed: {reason}"),
            Err(PriceError::Unavailable(error)) => println!("strict_price(7) rejected: {error}"),
        }
    }
}
