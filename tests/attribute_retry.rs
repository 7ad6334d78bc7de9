//! `#[circuit_breaker(retry = …)]`: attempts through the breaker, refusals never retried, the
//! budget, `retry_if`, timeouts and fallbacks. Async cases run on Tokio's paused clock, so the
//! waits between attempts take no real time; the budget's windows move on a test clock.
#![deny(warnings, clippy::pedantic)]
#![allow(clippy::unnecessary_wraps, clippy::unused_async)]

use std::{
    sync::{
        Mutex,
        atomic::{AtomicU32, AtomicU64, Ordering},
    },
    time::Duration,
};

use fusebox::{BreakerError, Failure, State, TestClock, circuit_breaker, registry};

#[derive(Clone, Debug, PartialEq)]
enum FetchError {
    Down,
    NotFound,
    Unavailable(BreakerError),
}

impl From<BreakerError> for FetchError {
    fn from(error: BreakerError) -> Self {
        FetchError::Unavailable(error)
    }
}

/// A backend that fails its first `fails` requests of each script, counting every request.
struct Backend {
    requests: AtomicU32,
    fails: AtomicU32,
}

impl Backend {
    const fn new() -> Self {
        Backend {
            requests: AtomicU32::new(0),
            fails: AtomicU32::new(0),
        }
    }

    /// The next requests: `fails` failures, then successes.
    fn script(&self, fails: u32) {
        self.requests.store(0, Ordering::SeqCst);
        self.fails.store(fails, Ordering::SeqCst);
    }

    fn request(&self, error: FetchError) -> Result<u32, FetchError> {
        let n = self.requests.fetch_add(1, Ordering::SeqCst) + 1;
        if n <= self.fails.load(Ordering::SeqCst) {
            Err(error)
        } else {
            Ok(n)
        }
    }

    fn requests(&self) -> u32 {
        self.requests.load(Ordering::SeqCst)
    }
}

static FLAKY: Backend = Backend::new();

#[circuit_breaker(name = "retry::flaky", retry = 3, retry_backoff_ms = 100)]
async fn flaky() -> Result<u32, FetchError> {
    FLAKY.request(FetchError::Down)
}

#[tokio::test(start_paused = true)]
async fn a_success_after_two_failures_is_three_attempts_counted_by_the_breaker() {
    FLAKY.script(2);
    let started = tokio::time::Instant::now();
    assert_eq!(flaky().await, Ok(3));
    // Waits of 100 ms and 200 ms: the base, doubled once.
    assert_eq!(started.elapsed(), Duration::from_millis(300));
    let counters = registry::get("retry::flaky").unwrap().metrics().counters;
    assert_eq!(
        (
            counters.calls,
            counters.failures,
            counters.successes,
            counters.retries
        ),
        (3, 2, 1, 2)
    );
    assert_eq!(counters.retries_denied, 0);
}

static FRAGILE: Backend = Backend::new();

#[circuit_breaker(name = "retry::fragile", retry = 5, consecutive_failures = 2)]
async fn fragile() -> Result<u32, FetchError> {
    FRAGILE.request(FetchError::Down)
}

#[tokio::test(start_paused = true)]
async fn no_attempt_is_made_into_an_open_circuit() {
    FRAGILE.script(u32::MAX);
    // Two failures trip the circuit; the third attempt is refused, and the refusal ends them.
    let answer = fragile().await;
    assert!(
        matches!(
            &answer,
            Err(FetchError::Unavailable(BreakerError::Open { .. }))
        ),
        "{answer:?}"
    );
    assert_eq!(FRAGILE.requests(), 2);
    // While open, a call makes no attempt and no retry.
    assert!(fragile().await.is_err());
    assert_eq!(FRAGILE.requests(), 2);
    let breaker = registry::get("retry::fragile").unwrap();
    assert_eq!(breaker.state(), State::Open);
    let counters = breaker.metrics().counters;
    assert_eq!(
        (counters.calls, counters.rejected, counters.retries),
        (2, 2, 2)
    );
}

static DOWN: Backend = Backend::new();

/// Never trips (no volume is ever reached): only the budget holds the retries back.
#[circuit_breaker(
    name = "retry::budgeted",
    retry = 3,
    retry_backoff_ms = 1,
    request_volume_threshold = 4294967295
)]
async fn budgeted() -> Result<u32, FetchError> {
    DOWN.request(FetchError::Down)
}

#[tokio::test(start_paused = true)]
async fn the_budget_holds_a_failing_dependency_to_a_share_of_first_attempts() {
    DOWN.script(u32::MAX);
    let breaker = registry::get("retry::budgeted").unwrap();
    let clock = TestClock::new();
    assert!(breaker.set_clock(&clock));
    // The budget's window is the breaker's: ten slots of a second, aligned with the clock as
    // the window's buckets are, so each window measured here starts at a slot's start.
    clock.advance(Duration::from_millis(10_000 - clock.now_ms() % 10_000));
    let (windows, calls_per_window): (u64, u64) = (6, 200);
    for _ in 0..windows {
        let before = DOWN.requests();
        for _ in 0..calls_per_window {
            assert_eq!(budgeted().await, Err(FetchError::Down));
            clock.advance(Duration::from_millis(10_000 / calls_per_window));
        }
        let attempts = DOWN.requests() - before;
        // At most 1.2 × the window's first attempts + 10, not the 4 × that `retry = 3` allows.
        assert!(
            u64::from(attempts) * 10 <= 12 * calls_per_window + 100,
            "{attempts} attempts for {calls_per_window} calls"
        );
    }
    let counters = breaker.metrics().counters;
    let allowed = windows * calls_per_window * 20 / 100 + 10 * windows;
    assert!(counters.retries <= allowed, "{counters:?}");
    assert!(
        counters.retries >= allowed / 2,
        "the budget was used: {counters:?}"
    );
    // Every attempt fails: a call ends with its three retries made, or with one refused.
    assert!(
        counters.retries_denied >= windows * calls_per_window - counters.retries / 3,
        "{counters:?}"
    );
    assert_eq!(
        counters.calls,
        counters.retries + windows * calls_per_window
    );
}

static SERVED: Mutex<Vec<String>> = Mutex::new(Vec::new());
static WITH_FALLBACK: Backend = Backend::new();

async fn stale(id: u64, why: Failure<FetchError>) -> Result<u32, FetchError> {
    SERVED.lock().unwrap().push(format!("{id}: {why:?}"));
    Ok(0)
}

#[circuit_breaker(name = "retry::fallback", retry = 2, fallback = "stale")]
async fn with_fallback(id: u64) -> Result<u32, FetchError> {
    let _ = id;
    WITH_FALLBACK.request(FetchError::Down)
}

#[tokio::test(start_paused = true)]
async fn the_fallback_runs_once_after_the_last_attempt() {
    WITH_FALLBACK.script(u32::MAX);
    assert_eq!(with_fallback(7).await, Ok(0));
    assert_eq!(WITH_FALLBACK.requests(), 3);
    assert_eq!(*SERVED.lock().unwrap(), ["7: Error(Down)"]);
    let counters = registry::get("retry::fallback").unwrap().metrics().counters;
    assert_eq!((counters.fallbacks, counters.retries), (1, 2));
}

static PICKY: Backend = Backend::new();

fn is_transient(error: &FetchError) -> bool {
    *error == FetchError::Down
}

#[circuit_breaker(name = "retry::picky", retry = 3, retry_if = "is_transient")]
async fn picky(error: FetchError) -> Result<u32, FetchError> {
    PICKY.request(error)
}

#[tokio::test(start_paused = true)]
async fn an_error_retry_if_refuses_is_one_attempt() {
    PICKY.script(1);
    assert_eq!(picky(FetchError::NotFound).await, Err(FetchError::NotFound));
    assert_eq!(PICKY.requests(), 1);
    PICKY.script(1);
    assert_eq!(picky(FetchError::Down).await, Ok(2));
    assert_eq!(PICKY.requests(), 2);
}

static ANSWERS: Backend = Backend::new();

fn is_outage(error: &FetchError) -> bool {
    *error != FetchError::NotFound
}

#[circuit_breaker(name = "retry::failure_if", retry = 3, failure_if = "is_outage")]
async fn answers(error: FetchError) -> Result<u32, FetchError> {
    ANSWERS.request(error)
}

#[tokio::test(start_paused = true)]
async fn an_error_that_is_no_failure_is_an_answer_not_retried() {
    ANSWERS.script(1);
    assert_eq!(
        answers(FetchError::NotFound).await,
        Err(FetchError::NotFound)
    );
    assert_eq!(ANSWERS.requests(), 1);
}

static SLOW: Backend = Backend::new();

#[circuit_breaker(name = "retry::timeout", retry = 1, timeout_ms = 100)]
async fn slow_then_fast() -> Result<u32, FetchError> {
    if SLOW.requests.fetch_add(1, Ordering::SeqCst) == 0 {
        tokio::time::sleep(Duration::from_secs(30)).await;
    }
    Ok(SLOW.requests())
}

#[tokio::test(start_paused = true)]
async fn timeout_ms_bounds_each_attempt_and_a_timeout_is_retried() {
    SLOW.script(0);
    let started = tokio::time::Instant::now();
    assert_eq!(slow_then_fast().await, Ok(2));
    assert_eq!(started.elapsed(), Duration::from_millis(100 + 50));
    let counters = registry::get("retry::timeout").unwrap().metrics().counters;
    assert_eq!((counters.timeouts, counters.retries), (1, 1));
}

static SYNC: Backend = Backend::new();
static LENGTHS: AtomicU64 = AtomicU64::new(0);

/// A sync function: the thread sleeps between attempts. Its arguments are each attempt's own:
/// the owned one a clone, the `&mut` one reborrowed.
#[circuit_breaker(name = "retry::sync", retry = 2, retry_backoff_ms = 1)]
fn sync_fetch(mut path: String, log: &mut Vec<String>) -> Result<u32, FetchError> {
    path.push_str("?attempt");
    LENGTHS.fetch_add(path.len() as u64, Ordering::SeqCst);
    log.push(path);
    SYNC.request(FetchError::Down)
}

#[test]
fn a_sync_function_retries_with_each_attempt_given_its_own_arguments() {
    SYNC.script(2);
    let mut log = Vec::new();
    assert_eq!(sync_fetch("/a".to_owned(), &mut log), Ok(3));
    assert_eq!(log, ["/a?attempt", "/a?attempt", "/a?attempt"]);
    assert_eq!(LENGTHS.load(Ordering::SeqCst), 3 * 10);
    let counters = registry::get("retry::sync").unwrap().metrics().counters;
    assert_eq!((counters.calls, counters.retries), (3, 2));
}
