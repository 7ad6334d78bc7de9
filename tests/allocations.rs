//! Zero heap allocations per call, counted by a global allocator: closed, rejected while open,
//! served by a fallback, sync and async, through the attribute and the runtime API.
//!
//! The first call of an annotated function registers its breaker (one allocation, once); each
//! case warms up before it counts. Only this thread's allocations are counted, so the test
//! harness's other threads cannot disturb the count.
#![deny(warnings, clippy::pedantic)]
#![allow(clippy::unnecessary_wraps)]

use std::{
    future::Future,
    hint::black_box,
    pin::pin,
    task::{Context, Poll, Waker},
};

use fusebox::{BreakerError, CircuitBreaker, Config, circuit_breaker, registry};

mod counting_allocator;

use counting_allocator::{allocations, live_bytes};

/// Allocations made on this thread while `run` ran a thousand times, after one warm-up run.
fn allocations_in_1000_calls(mut run: impl FnMut()) -> u64 {
    run(); // warm up: registration, lazy statics
    let before = allocations();
    for _ in 0..1_000 {
        run();
    }
    allocations() - before
}

/// Drives a future that never waits to completion without an executor (and without one's
/// allocations).
fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    loop {
        if let Poll::Ready(output) = future
            .as_mut()
            .poll(&mut Context::from_waker(Waker::noop()))
        {
            return output;
        }
    }
}

#[derive(Debug)]
struct Error;

impl From<BreakerError> for Error {
    fn from(_: BreakerError) -> Self {
        Error
    }
}

#[circuit_breaker(name = "alloc::sync")]
fn sync_call(x: u64) -> Result<u64, Error> {
    Ok(black_box(x))
}

#[circuit_breaker(name = "alloc::async")]
async fn async_call(x: u64) -> Result<u64, Error> {
    Ok(black_box(x))
}

fn cached(x: u64) -> Result<u64, Error> {
    Ok(x + 1)
}

#[circuit_breaker(
    name = "alloc::fallback",
    consecutive_failures = 1,
    fallback = "cached"
)]
fn with_fallback(x: u64) -> Result<u64, Error> {
    if x == 0 {
        return Err(Error);
    }
    Ok(x)
}

async fn cached_async(x: u64) -> Result<u64, Error> {
    Ok(x + 1)
}

#[circuit_breaker(name = "alloc::async_fallback", fallback = "cached_async")]
async fn async_with_fallback(x: u64) -> Result<u64, Error> {
    Ok(x)
}

#[test]
fn the_counter_sees_allocations() {
    assert_eq!(
        allocations_in_1000_calls(|| drop(black_box(vec![1_u8]))),
        1_000
    );
}

#[test]
fn closed_calls_do_not_allocate() {
    assert!(allocations_in_1000_calls(|| drop(black_box(sync_call(1)))) == 0);
    assert!(allocations_in_1000_calls(|| drop(black_box(block_on(async_call(1))))) == 0);
    let direct = CircuitBreaker::new("alloc::direct", Config::default());
    assert!(allocations_in_1000_calls(|| drop(black_box(direct.call(|| Ok::<_, Error>(1))))) == 0);
    assert!(
        allocations_in_1000_calls(|| {
            drop(black_box(block_on(
                direct.call_async(async { Ok::<_, Error>(1) }),
            )));
        }) == 0
    );
}

#[test]
fn rejected_calls_do_not_allocate() {
    let open = CircuitBreaker::new(
        String::from("alloc::open-with-a-run-time-name"),
        Config::default(),
    );
    open.force_open();
    assert!(allocations_in_1000_calls(|| drop(black_box(open.call(|| Ok::<_, Error>(1))))) == 0);
    let _ = block_on(async_with_fallback(1));
    registry::get("alloc::async_fallback").unwrap().force_open();
    assert!(allocations_in_1000_calls(|| drop(black_box(block_on(async_with_fallback(1))))) == 0);
}

#[test]
fn fallbacks_do_not_allocate() {
    assert!(
        matches!(with_fallback(0), Ok(1)),
        "failed, and the breaker opened"
    );
    assert!(allocations_in_1000_calls(|| drop(black_box(with_fallback(5)))) == 0);
    assert_eq!(
        registry::get("alloc::fallback")
            .unwrap()
            .metrics()
            .rejections,
        1_001
    );
}

/// Fails every other attempt: each call is retried once (while the budget allows). Half the
/// attempts fail, under the error threshold of 100 %: the circuit stays closed.
#[circuit_breaker(
    name = "alloc::retry",
    retry = 2,
    retry_backoff_ms = 1,
    error_threshold = 100
)]
fn with_retry(name: String, attempt: &std::cell::Cell<u64>) -> Result<usize, Error> {
    attempt.set(attempt.get() + 1);
    if attempt.get() % 2 == 1 {
        return Err(Error);
    }
    Ok(black_box(name.len()))
}

#[test]
fn retries_do_not_allocate() {
    let attempt = std::cell::Cell::new(0);
    let direct = CircuitBreaker::new(
        "alloc::call_with_retry",
        Config::builder()
            .retry(2)
            .retry_backoff(std::time::Duration::from_millis(1))
            .error_threshold(100)
            .build()
            .unwrap(),
    );
    let retry = fusebox::Retry::of(&direct.config()).unwrap();
    let mut attempts = 0;
    // A fifth of the calls and ten more retried (the budget), the others denied: both paths
    // counted, along with the first attempts.
    assert!(
        allocations_in_1000_calls(|| {
            drop(black_box(direct.call_with_retry(&retry, || {
                attempts += 1;
                if attempts % 2 == 1 { Err(Error) } else { Ok(1) }
            })));
        }) == 0
    );
    assert!(direct.metrics().counters.retries > 0);
    assert!(direct.metrics().counters.retries_denied > 0);
    // The attribute's arguments are cloned for each attempt: an empty `String` clones without
    // allocating, so what is counted is the retry's own cost.
    assert!(
        allocations_in_1000_calls(|| drop(black_box(with_retry(String::new(), &attempt)))) == 0
    );
    assert!(
        registry::get("alloc::retry")
            .unwrap()
            .metrics()
            .counters
            .retries
            > 0
    );
}

/// `record`: the ring is made once, at the first recorded call, and is all a recording breaker
/// holds beyond a plain one, however many calls it records: 128 KiB (`TRACE_LEN` words), and
/// the extras' few hundred bytes. Recorded calls allocate nothing.
#[test]
fn recording_is_bounded_in_bytes() {
    let live = live_bytes;
    let plain = CircuitBreaker::new("bytes::plain", Config::default());
    let recording = CircuitBreaker::new(
        "bytes::recording",
        Config::builder().record(true).build().unwrap(),
    );
    let _ = plain.call(|| Ok::<_, Error>(()));
    let before = live();
    let _ = recording.call(|| Ok::<_, Error>(()));
    let ring = live() - before;
    let calls = 3 * fusebox::TRACE_LEN;
    let allocated = allocations_in_1000_calls(|| {
        for i in 0..calls / 1_000 {
            let _ = recording.call(|| if i % 3 == 0 { Err(Error) } else { Ok(i) });
        }
    });
    assert_eq!(allocated, 0, "recorded calls allocate nothing");
    let held = live() - before;
    assert_eq!(
        held, ring,
        "the bytes held did not grow with {calls} calls and more"
    );
    let words = i64::try_from(fusebox::TRACE_LEN * std::mem::size_of::<u64>()).unwrap();
    assert!(
        (words..words + 1_024).contains(&ring),
        "{ring} bytes: the ring's {words} and the extras"
    );
    assert_eq!(recording.trace().calls.len(), fusebox::TRACE_LEN);
}

/// 100,000 breakers with names built at run time, called, some tripped, then dropped: the heap
/// (this thread's) is back where it started. Names are owned by their breakers, not interned.
#[test]
fn dropped_breakers_give_back_every_byte() {
    let live = live_bytes;
    let config = Config::builder().consecutive_failures(1).build().unwrap();
    // Once, to set up what the first use of anything sets up once per process.
    drop(CircuitBreaker::new(String::from("warm-up"), config).call(|| Ok::<_, Error>(())));
    let before = live();
    let breakers: Vec<CircuitBreaker> = (0..100_000)
        .map(|i| CircuitBreaker::new(format!("host-{i}"), config))
        .collect();
    for (i, breaker) in breakers.iter().enumerate() {
        let _ = breaker.call(|| if i % 7 == 0 { Err(Error) } else { Ok(i) });
    }
    let in_use = live() - before;
    assert!(
        in_use > 100_000 * 200,
        "the breakers were counted: {in_use} bytes"
    );
    drop(breakers);
    assert_eq!(
        live() - before,
        0,
        "bytes still held after dropping every breaker"
    );
}

#[test]
fn requests_through_the_tower_layer_do_not_allocate() {
    use tower::{Layer, Service, ServiceExt};

    let layer =
        fusebox::tower::CircuitBreakerLayer::new(String::from("alloc::layer"), Config::default());
    let mut service = layer.layer(tower::service_fn(|x: u64| async move {
        Ok::<_, Error>(black_box(x))
    }));
    let mut request = || {
        let ready = block_on(service.ready()).expect("ready");
        drop(black_box(block_on(ready.call(1))));
    };
    assert!(allocations_in_1000_calls(&mut request) == 0, "closed");
    layer.breaker().force_open();
    assert!(allocations_in_1000_calls(&mut request) == 0, "rejected");
}
