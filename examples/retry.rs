//! Retry that knows the breaker: a flaky backend served through retries, and the two ways
//! retries can hurt a dependency that is failing, held back by the budget and the breaker.
//!
//! A price service fails a share of its requests (a deterministic pattern, so every run prints
//! the same figures). A thousand calls go to it in each of three scenarios, once through a
//! hand-written retry loop of four attempts (what a service without this crate writes), and
//! once through `price`, annotated with `retry = 3` and the default `retry_budget` of 20 %:
//!
//! - **flaky**, 10 % of requests fail: both loops turn almost every failure into a success;
//! - **brownout**, 40 % fail: too few for the breaker to trip (its threshold is 50 %), so only
//!   the budget stands between the retries and a dependency that is already struggling;
//! - **outage**, every request fails: the breaker trips, and no attempt goes into the open
//!   circuit.
//!
//! For each, it prints the calls that failed and the requests the service had to answer. The
//! waits between attempts are Tokio's, on a paused clock: the example takes no time.
//!
//! Run it with `cargo run --example retry`.

use std::sync::atomic::{AtomicU64, Ordering};

use fusebox::{BreakerError, circuit_breaker, registry};

/// Calls per scenario.
const CALLS: u64 = 1_000;

/// The price service: it fails `failing_percent` of its requests, spread evenly.
struct PriceService {
    requests: AtomicU64,
    failing_percent: AtomicU64,
}

static SERVICE: PriceService = PriceService {
    requests: AtomicU64::new(0),
    failing_percent: AtomicU64::new(0),
};

#[derive(Debug)]
enum PriceError {
    Unavailable,
    Breaker(BreakerError),
}

impl From<BreakerError> for PriceError {
    fn from(error: BreakerError) -> Self {
        PriceError::Breaker(error)
    }
}

impl PriceService {
    fn start(&self, failing_percent: u64) {
        self.requests.store(0, Ordering::SeqCst);
        self.failing_percent
            .store(failing_percent, Ordering::SeqCst);
    }

    /// One request: the n-th fails if a hash of n lands in the failing share.
    fn request(&self, sku: u64) -> Result<u64, PriceError> {
        let n = self.requests.fetch_add(1, Ordering::SeqCst);
        let spread = n.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 32;
        if spread % 100 < self.failing_percent.load(Ordering::SeqCst) {
            Err(PriceError::Unavailable)
        } else {
            Ok(100 + sku % 50)
        }
    }

    fn requests(&self) -> u64 {
        self.requests.load(Ordering::SeqCst)
    }
}

/// Through the breaker, with retries: one breaker (and budget) per scenario.
#[circuit_breaker(key = "scenario", retry = 3, retry_backoff_ms = 50, retry_jitter = 20)]
async fn price(scenario: &str, sku: u64) -> Result<u64, PriceError> {
    let _ = scenario;
    SERVICE.request(sku)
}

/// What a service writes by hand: four attempts, the same waits, no breaker, no budget.
async fn price_by_hand(sku: u64) -> Result<u64, PriceError> {
    let mut wait = std::time::Duration::from_millis(50);
    let mut attempt = 1;
    loop {
        match SERVICE.request(sku) {
            Ok(price) => return Ok(price),
            Err(error) if attempt == 4 => return Err(error),
            Err(_) => {
                tokio::time::sleep(wait).await;
                wait *= 2;
                attempt += 1;
            }
        }
    }
}

/// Requests per call, to two decimals.
fn per_call(requests: u64) -> String {
    let hundredths = requests * 100 / CALLS;
    format!("{}.{:02}", hundredths / 100, hundredths % 100)
}

#[tokio::main(flavor = "current_thread", start_paused = true)]
async fn main() {
    println!(
        "{:<19}| {:<26}| #[circuit_breaker(retry = 3)]",
        "", "retry loop by hand"
    );
    println!(
        "{:<9}{:>8}  | {:>6} {:>17}  | {:>6} {:>7} {:>17} {:>8} {:>7}",
        "scenario",
        "failing",
        "failed",
        "requests",
        "failed",
        "refused",
        "requests",
        "retries",
        "denied"
    );
    for (scenario, failing_percent) in [("flaky", 10), ("brownout", 40), ("outage", 100)] {
        SERVICE.start(failing_percent);
        let mut failed_by_hand = 0;
        for sku in 0..CALLS {
            failed_by_hand += u64::from(price_by_hand(sku).await.is_err());
        }
        let by_hand = SERVICE.requests();

        SERVICE.start(failing_percent);
        let (mut failed, mut refused) = (0, 0);
        for sku in 0..CALLS {
            match price(scenario, sku).await {
                Ok(_) => {}
                Err(PriceError::Unavailable) => failed += 1,
                Err(PriceError::Breaker(refusal)) => {
                    assert!(matches!(refusal, BreakerError::Open { .. }), "{refusal}");
                    refused += 1;
                }
            }
        }
        let counters = registry::get(&format!("retry::price/{scenario}"))
            .expect("the scenario's breaker")
            .metrics()
            .counters;
        let requests = SERVICE.requests();
        println!(
            "{scenario:<9}{failing_percent:>7}%  | {failed_by_hand:>6} {by_hand:>8} ({}×)  | \
             {failed:>6} {refused:>7} {requests:>8} ({}×) {:>8} {:>7}",
            per_call(by_hand),
            per_call(requests),
            counters.retries,
            counters.retries_denied,
        );
    }
    println!(
        "\nrequests: what the price service answered for {CALLS} calls (× per call); refused: \
         answered by the open breaker at once.\nIn the brownout the breaker stays closed (40 % is \
         under its 50 % threshold): the budget holds the retries to a fifth\nof the calls, plus \
         10. In the outage the breaker opens after 20 failed requests, and no attempt goes into \
         the open circuit."
    );
}
