//! What the on-call features cost a call: `cargo bench -p benchmarks --bench on_call`.
//!
//! One thread, closed breakers, a call that returns `Ok` at once; ns per call (medians of
//! interleaved rounds) and ratios to the plain breaker within rounds:
//!
//! - a plain breaker (no `record_latency`, no call listener in the process yet), and the same
//!   between two readings of `Instant`, for the clock's own cost;
//! - `record_latency`: two readings of the fine clock and an atomic add per call;
//! - `record`: the listeners' path, a reading of the coarse clock, an atomic add and a store
//!   into the trace's ring;
//! - a shadow (`set_shadow`, a candidate that sees every call): a reading of the coarse clock,
//!   the listeners' path, and the shadow's own admission and outcome;
//! - a call listener on the breaker (it counts): the event, built and handed over;
//! - then the plain breaker again, now that the process has a call listener: the one relaxed
//!   load every call pays once any listener exists, anywhere.

use std::{
    hint::black_box,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::Instant,
};

use fusebox::{CircuitBreaker, Config};

mod harness;

fn main() {
    let plain = CircuitBreaker::new("on-call::plain", Config::default());
    let timed = CircuitBreaker::new(
        "on-call::timed",
        Config::builder().record_latency(true).build().unwrap(),
    );
    let call = |breaker: &CircuitBreaker| {
        let _ = black_box(breaker.call(|| Ok::<_, ()>(black_box(1))));
    };
    // The plain call and two readings of `Instant`, for scale: what `record_latency` adds
    // beyond the clock.
    let clocked = |breaker: &CircuitBreaker| {
        black_box(Instant::now());
        call(breaker);
        black_box(Instant::now());
    };
    let recorded = CircuitBreaker::new(
        "on-call::recorded",
        Config::builder().record(true).build().unwrap(),
    );
    let shadowed = CircuitBreaker::new("on-call::shadowed", Config::default());
    let mut stricter = fusebox::PartialConfig::new();
    stricter.error_threshold = Some(25);
    shadowed.set_shadow(&stricter).unwrap();
    let [plain_ns, timed_ns, clocked_ns, recorded_ns, shadowed_ns] = harness::interleaved([
        harness::one_thread(|_| call(&plain)),
        harness::one_thread(|_| call(&timed)),
        harness::one_thread(|_| clocked(&plain)),
        harness::one_thread(|_| call(&recorded)),
        harness::one_thread(|_| call(&shadowed)),
    ]);
    assert!(shadowed.metrics().shadow.is_some());
    assert_eq!(recorded.trace().calls.len(), fusebox::TRACE_LEN);

    let listened = CircuitBreaker::new("on-call::listened", Config::default());
    let heard = Arc::new(AtomicU64::new(0));
    let counted = Arc::clone(&heard);
    listened.on_call(move |_| {
        counted.fetch_add(1, Ordering::Relaxed);
    });
    let [plain_after, listened_ns] = harness::interleaved([
        harness::one_thread(|_| call(&plain)),
        harness::one_thread(|_| call(&listened)),
    ]);
    assert!(heard.load(Ordering::Relaxed) > 0);

    let (cpu, cores) = harness::machine();
    println!(
        "{cpu}, {cores} cores; one thread, closed, ns per call (median), ratios within rounds\n"
    );
    println!("| breaker | ns per call | ÷ plain |");
    println!("|---|---:|---:|");
    println!(
        "| plain | {:.1} | 1.00 |",
        harness::median(plain_ns.clone())
    );
    println!(
        "| plain, between two `Instant::now()` (the clock's cost, for scale) | {:.1} | {:.2} |",
        harness::median(clocked_ns.clone()),
        harness::ratio(&clocked_ns, &plain_ns)
    );
    println!(
        "| `record_latency = true` | {:.1} | {:.2} |",
        harness::median(timed_ns.clone()),
        harness::ratio(&timed_ns, &plain_ns)
    );
    println!(
        "| `record = true` (the trace's ring) | {:.1} | {:.2} |",
        harness::median(recorded_ns.clone()),
        harness::ratio(&recorded_ns, &plain_ns)
    );
    println!(
        "| with a shadow (`set_shadow`) | {:.1} | {:.2} |",
        harness::median(shadowed_ns.clone()),
        harness::ratio(&shadowed_ns, &plain_ns)
    );
    println!(
        "| plain, once the process has a call listener | {:.1} | {:.2} |",
        harness::median(plain_after.clone()),
        harness::ratio(&plain_after, &plain_ns[..plain_after.len()])
    );
    println!(
        "| with a call listener (an atomic add) | {:.1} | {:.2} |",
        harness::median(listened_ns.clone()),
        harness::ratio(&listened_ns, &plain_after)
    );
}
