#![deny(warnings)]

use std::time::Duration;

use fusebox::{BreakerError, circuit_breaker, registry};

#[derive(Debug)]
struct Error;

impl From<BreakerError> for Error {
    fn from(_: BreakerError) -> Self {
        Error
    }
}

#[circuit_breaker(
    name = "quotes",
    slow_call_ms = 2000,
    slow_call_threshold = 60,
    sleep_window_ms = 1000,
    sleep_window_max_ms = 60000,
    sleep_window_jitter = 20,
    half_open_max_wait_ms = 10000
)]
fn quote() -> Result<u32, Error> {
    Ok(1)
}

// Alone, the threshold defaults to 100 and the maximum may equal the default sleep window.
#[circuit_breaker(name = "prices", slow_call_ms = 10, sleep_window_max_ms = 5000, fleet = true)]
async fn price() -> Result<u32, Error> {
    Ok(2)
}

// Critical: an open breaker takes the service's health down.
#[circuit_breaker(name = "ledger", critical = true)]
fn ledger() -> Result<u32, Error> {
    Ok(3)
}

// The adaptive policy: the valid twin of `policy-unknown` and `policy-without-quotes`.
#[circuit_breaker(name = "search", policy = "adaptive")]
fn search() -> Result<u32, Error> {
    Ok(4)
}

fn main() {
    let _ = search();
    let search = registry::get("search").expect("registered").config();
    assert_eq!(search.policy(), fusebox::Policy::Adaptive);
    assert_eq!(search.error_threshold(), 61);
    let _ = quote();
    let _ = price();
    let quotes = registry::get("quotes").expect("registered").config();
    assert_eq!(quotes.slow_call(), Some(Duration::from_secs(2)));
    assert_eq!(quotes.slow_call_threshold(), 60);
    assert_eq!(quotes.sleep_window_max(), Some(Duration::from_secs(60)));
    assert_eq!(quotes.sleep_window_jitter(), Some(20));
    assert_eq!(quotes.half_open_max_wait(), Some(Duration::from_secs(10)));
    let prices = registry::get("prices").expect("registered").config();
    assert_eq!(prices.slow_call(), Some(Duration::from_millis(10)));
    assert_eq!(prices.slow_call_threshold(), 100);
    assert_eq!(prices.sleep_window_max(), Some(Duration::from_secs(5)));
    assert!(prices.fleet());
    assert!(!quotes.fleet(), "off by default");
    let _ = ledger();
    assert!(registry::get("ledger").expect("registered").config().critical());
    assert!(!prices.critical(), "off by default");
}
