//! `#[circuit_breaker]` on `async fn`: outcomes, fallbacks, timeouts, the bulkhead, panics and
//! dropped futures. Timeouts run on Tokio's paused clock, so no test waits for real.
#![deny(warnings, clippy::pedantic)]
// A fallback returns the function's own `Result` even when it cannot fail: pedantic flags
// that in the user's code, not ours.
#![allow(clippy::unnecessary_wraps, clippy::unused_async)]

use std::{
    future::Future,
    panic::AssertUnwindSafe,
    pin::pin,
    task::{Context, Poll, Waker},
    time::Duration,
};

use fusebox::{BreakerError, Failure, State, circuit_breaker, registry};

#[derive(Debug, PartialEq)]
enum FetchError {
    Down,
    Unavailable(BreakerError),
}

impl From<BreakerError> for FetchError {
    fn from(error: BreakerError) -> Self {
        FetchError::Unavailable(error)
    }
}

/// How long the fake backend takes, and whether it answers.
#[derive(Clone, Copy, Debug)]
enum Backend {
    Fast,
    Down,
    Hangs,
}

async fn backend(kind: Backend, id: u32) -> Result<u32, FetchError> {
    match kind {
        Backend::Fast => Ok(id),
        Backend::Down => Err(FetchError::Down),
        Backend::Hangs => {
            tokio::time::sleep(Duration::from_secs(30)).await;
            Ok(id)
        }
    }
}

fn poll_once<F: Future>(future: std::pin::Pin<&mut F>) -> Poll<F::Output> {
    future.poll(&mut Context::from_waker(Waker::noop()))
}

#[circuit_breaker(name = "async::timeout", timeout_ms = 100, consecutive_failures = 2)]
async fn with_timeout(kind: Backend, id: u32) -> Result<u32, FetchError> {
    backend(kind, id).await
}

#[tokio::test(start_paused = true)]
async fn a_hanging_call_times_out_and_counts_as_a_failure() {
    assert_eq!(with_timeout(Backend::Fast, 1).await, Ok(1));
    let started = tokio::time::Instant::now();
    let timed_out = with_timeout(Backend::Hangs, 2).await;
    assert_eq!(
        started.elapsed(),
        Duration::from_millis(100),
        "not the backend's 30 s"
    );
    assert!(
        matches!(&timed_out, Err(FetchError::Unavailable(BreakerError::Timeout { after, .. })) if *after == Duration::from_millis(100)),
        "{timed_out:?}"
    );
    let _ = with_timeout(Backend::Hangs, 3).await;
    let breaker = registry::get("async::timeout").unwrap();
    assert_eq!(breaker.state(), State::Open);
    let metrics = breaker.metrics();
    assert_eq!((metrics.failures, metrics.timeouts), (2, 2));
    let started = tokio::time::Instant::now();
    assert!(matches!(
        with_timeout(Backend::Hangs, 4).await,
        Err(FetchError::Unavailable(BreakerError::Open { .. }))
    ));
    assert_eq!(started.elapsed(), Duration::ZERO, "open: answered at once");
}

async fn cached(kind: Backend, id: u32) -> Result<u32, FetchError> {
    let _ = kind;
    Ok(id + 1_000)
}

#[circuit_breaker(
    name = "async::plain_fallback",
    timeout_ms = 100,
    consecutive_failures = 1,
    fallback = "cached"
)]
async fn with_fallback(kind: Backend, id: u32) -> Result<u32, FetchError> {
    backend(kind, id).await
}

#[tokio::test(start_paused = true)]
async fn an_async_fallback_serves_timeouts_failures_and_rejections() {
    assert_eq!(with_fallback(Backend::Fast, 1).await, Ok(1));
    assert_eq!(
        with_fallback(Backend::Hangs, 2).await,
        Ok(1_002),
        "timed out"
    );
    assert_eq!(with_fallback(Backend::Fast, 3).await, Ok(1_003), "open");
    registry::get("async::plain_fallback").unwrap().reset();
    assert_eq!(with_fallback(Backend::Down, 4).await, Ok(1_004), "failed");
    // Every fallback served is counted, across the reset; the success was not one.
    let counters = registry::get("async::plain_fallback")
        .unwrap()
        .metrics()
        .counters;
    assert_eq!(
        (counters.fallbacks, counters.calls, counters.timeouts),
        (3, 3, 1)
    );
}

async fn explained(kind: Backend, id: u32, why: Failure<FetchError>) -> Result<u32, FetchError> {
    let _ = kind;
    Ok(match why {
        Failure::Breaker(BreakerError::Timeout { .. }) => id + 100,
        Failure::Breaker(_) => id + 200,
        Failure::Error(_) => id + 300,
    })
}

#[circuit_breaker(
    name = "async::explained",
    timeout_ms = 50,
    max_concurrent = 1,
    fallback = "explained"
)]
async fn with_explained_fallback(kind: Backend, id: u32) -> Result<u32, FetchError> {
    backend(kind, id).await
}

#[tokio::test(start_paused = true)]
async fn an_async_fallback_can_learn_why_it_was_called() {
    assert_eq!(with_explained_fallback(Backend::Hangs, 1).await, Ok(101));
    assert_eq!(with_explained_fallback(Backend::Down, 2).await, Ok(302));
    // A second call while the first holds the only slot is busy.
    let (first, second) = tokio::join!(
        with_explained_fallback(Backend::Hangs, 3),
        with_explained_fallback(Backend::Fast, 4)
    );
    assert_eq!((first, second), (Ok(103), Ok(204)));
}

#[circuit_breaker(name = "async::dropped", max_concurrent = 1)]
async fn held(kind: Backend) -> Result<u32, FetchError> {
    backend(kind, 0).await
}

#[tokio::test(start_paused = true)]
async fn a_dropped_call_records_nothing_and_frees_its_slot() {
    {
        let mut call = pin!(held(Backend::Hangs));
        assert!(poll_once(call.as_mut()).is_pending());
        assert!(matches!(
            held(Backend::Fast).await,
            Err(FetchError::Unavailable(BreakerError::Busy { .. }))
        ));
    }
    assert_eq!(held(Backend::Fast).await, Ok(0), "the slot came back");
    let metrics = registry::get("async::dropped").unwrap().metrics();
    assert_eq!(
        (metrics.calls, metrics.rejections),
        (1, 1),
        "the dropped call is not counted"
    );
}

#[circuit_breaker(name = "async::panics", consecutive_failures = 1, fallback = "cached")]
async fn panics(kind: Backend, id: u32) -> Result<u32, FetchError> {
    assert!(id != 0, "the client has a bug");
    backend(kind, id).await
}

#[test]
fn a_panic_in_an_async_fn_is_a_failure_without_fallback() {
    let mut call = pin!(panics(Backend::Fast, 0));
    let unwound = std::panic::catch_unwind(AssertUnwindSafe(|| poll_once(call.as_mut())));
    assert!(unwound.is_err(), "the panic reached the caller");
    let breaker = registry::get("async::panics").unwrap();
    assert_eq!(breaker.state(), State::Open);
    assert_eq!(breaker.metrics().failures, 1);
}

struct Client {
    base: u32,
}

impl Client {
    #[circuit_breaker(name = "async::method", consecutive_failures = 1, fallback = "offline")]
    async fn fetch(&self, kind: Backend) -> Result<u32, FetchError> {
        backend(kind, self.base).await
    }

    async fn offline(&self, kind: Backend, why: Failure<FetchError>) -> Result<u32, FetchError> {
        let _ = (kind, why);
        Ok(self.base + 1)
    }

    #[circuit_breaker(name = "async::method_mut")]
    async fn bump(&mut self) -> Result<u32, FetchError> {
        self.base += 1;
        Ok(self.base)
    }
}

trait Source {
    async fn get(&self, id: u32) -> Result<u32, FetchError>;
}

impl Source for Client {
    #[circuit_breaker(name = "async::trait_impl")]
    async fn get(&self, id: u32) -> Result<u32, FetchError> {
        Ok(self.base + id)
    }
}

#[tokio::test]
async fn async_methods_and_async_trait_methods_work() {
    let mut client = Client { base: 10 };
    assert_eq!(client.fetch(Backend::Fast).await, Ok(10));
    assert_eq!(client.fetch(Backend::Down).await, Ok(11));
    assert_eq!(client.bump().await, Ok(11));
    assert_eq!(client.get(5).await, Ok(16));
}

#[circuit_breaker(name = "async::send")]
async fn sendable(id: u32) -> Result<u32, FetchError> {
    tokio::task::yield_now().await;
    Ok(id)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_future_is_send_when_the_body_is() {
    let handles: Vec<_> = (0..8).map(|id| tokio::spawn(sendable(id))).collect();
    for (id, handle) in (0..8).zip(handles) {
        assert_eq!(handle.await.unwrap(), Ok(id));
    }
}
