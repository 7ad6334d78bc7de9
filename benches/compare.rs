//! `breaker` side by side with the Rust peers, in one run: `cargo bench --bench compare`.
//!
//! Every case calls the same trivial operation, `fn(x) -> Result<u64, E>` returning
//! `Ok(black_box(x))`, through: nothing (direct); the floor (an atomic state load, the call, one
//! shared `fetch_add`: what any breaker that counts outcomes must at least pay); a
//! `#[circuit_breaker]` function; the runtime's `CircuitBreaker::call`; `recloser` (default
//! configuration); `failsafe` (consecutive-failures policy).
//!
//! Cases: closed on one thread; closed on two threads sharing one breaker (nanoseconds per call
//! per thread); open, i.e. rejecting, on one thread; async closed on a current-thread Tokio
//! runtime. Each figure is the median of `SAMPLES` samples of `CALLS` calls. A plain harness
//! rather than criterion, because the two-thread case needs threads started together on a
//! barrier, and so that every number and ratio comes out of the same run.

// The workload is a trivial `Result`-returning operation on purpose.
#![allow(clippy::unnecessary_wraps, clippy::unused_async)]

use std::{
    hint::black_box,
    sync::{
        Barrier,
        atomic::{AtomicU8, AtomicU64, Ordering},
    },
    thread,
    time::{Duration, Instant},
};

use breaker::{BreakerError, CircuitBreaker, Config, circuit_breaker, registry};

const SAMPLES: usize = 15;
const CALLS: u64 = 1_000_000;

#[derive(Debug)]
struct Error;

impl From<BreakerError> for Error {
    fn from(_: BreakerError) -> Self {
        Error
    }
}

#[inline(never)]
fn operation(x: u64) -> Result<u64, Error> {
    Ok(black_box(x))
}

#[inline(never)]
async fn async_operation(x: u64) -> Result<u64, Error> {
    Ok(black_box(x))
}

#[circuit_breaker(name = "bench::closed")]
fn annotated(x: u64) -> Result<u64, Error> {
    Ok(black_box(x))
}

#[circuit_breaker(name = "bench::shared")]
fn annotated_shared(x: u64) -> Result<u64, Error> {
    Ok(black_box(x))
}

#[circuit_breaker(name = "bench::open")]
fn annotated_open(x: u64) -> Result<u64, Error> {
    Ok(black_box(x))
}

#[circuit_breaker(name = "bench::async")]
async fn annotated_async(x: u64) -> Result<u64, Error> {
    Ok(black_box(x))
}

static FLOOR_STATE: AtomicU8 = AtomicU8::new(0);
static FLOOR_CALLS: AtomicU64 = AtomicU64::new(0);

/// The least a breaker that counts outcomes can do.
#[inline]
fn floor(x: u64) -> Result<u64, Error> {
    if FLOOR_STATE.load(Ordering::Acquire) != 0 {
        return Err(Error);
    }
    let result = operation(x);
    FLOOR_CALLS.fetch_add(1, Ordering::Relaxed);
    result
}

/// Nanoseconds per call of `call`, median over the samples.
fn one_thread(mut call: impl FnMut(u64)) -> f64 {
    median((0..SAMPLES).map(|_| {
        let start = Instant::now();
        for i in 0..CALLS {
            call(i);
        }
        per_call(start.elapsed())
    }))
}

/// Nanoseconds per call per thread with two threads calling at once, median over the samples.
fn two_threads(call: impl Fn(u64) + Sync) -> f64 {
    median((0..SAMPLES).map(|_| {
        let barrier = Barrier::new(2);
        let elapsed: Vec<Duration> = thread::scope(|scope| {
            let workers: Vec<_> = (0..2)
                .map(|_| {
                    scope.spawn(|| {
                        barrier.wait();
                        let start = Instant::now();
                        for i in 0..CALLS {
                            call(i);
                        }
                        start.elapsed()
                    })
                })
                .collect();
            workers
                .into_iter()
                .map(|w| w.join().expect("bench thread"))
                .collect()
        });
        elapsed.into_iter().map(per_call).sum::<f64>() / 2.0
    }))
}

/// Nanoseconds per awaited call on a current-thread runtime, median over the samples.
fn on_tokio<F: Future<Output = ()>>(call: impl Fn(u64) -> F) -> f64 {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("tokio runtime");
    median((0..SAMPLES).map(|_| {
        runtime.block_on(async {
            let start = Instant::now();
            for i in 0..CALLS {
                call(i).await;
            }
            per_call(start.elapsed())
        })
    }))
}

#[allow(clippy::cast_precision_loss)]
fn per_call(elapsed: Duration) -> f64 {
    elapsed.as_nanos() as f64 / CALLS as f64
}

fn median(samples: impl Iterator<Item = f64>) -> f64 {
    let mut samples: Vec<f64> = samples.collect();
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

fn recloser_open() -> recloser::Recloser {
    let recloser = recloser::Recloser::custom()
        .closed_len(1)
        .open_wait(Duration::from_secs(3_600))
        .build();
    for _ in 0..2 {
        let _ = recloser.call(|| Err::<(), _>(Error));
    }
    recloser
}

fn failsafe_breaker() -> impl failsafe::CircuitBreaker + failsafe::futures::CircuitBreaker {
    let backoff = failsafe::backoff::constant(Duration::from_secs(3_600));
    failsafe::Config::new()
        .failure_policy(failsafe::failure_policy::consecutive_failures(5, backoff))
        .build()
}

struct Row {
    case: &'static str,
    direct: f64,
    floor: f64,
    annotated: f64,
    runtime: f64,
    recloser: f64,
    failsafe: f64,
}

fn main() {
    // `cargo test --benches` runs bench targets with no `--bench` flag: stay quick then.
    if !std::env::args().any(|arg| arg == "--bench") {
        return;
    }
    let runtime_breaker = CircuitBreaker::new("bench::runtime", Config::default());
    let recloser = recloser::Recloser::default();
    let failsafe = failsafe_breaker();

    let closed = Row {
        case: "closed, 1 thread",
        direct: one_thread(|i| drop(black_box(operation(i)))),
        floor: one_thread(|i| drop(black_box(floor(i)))),
        annotated: one_thread(|i| drop(black_box(annotated(i)))),
        runtime: one_thread(|i| drop(black_box(runtime_breaker.call(|| operation(i))))),
        recloser: one_thread(|i| drop(black_box(recloser.call(|| operation(i))))),
        failsafe: one_thread(|i| {
            drop(black_box(failsafe::CircuitBreaker::call(&failsafe, || {
                operation(i)
            })));
        }),
    };

    let shared_runtime = CircuitBreaker::new("bench::runtime-shared", Config::default());
    let shared_recloser = recloser::Recloser::default();
    let shared_failsafe = failsafe_breaker();
    let contended = Row {
        case: "closed, 2 threads (per thread)",
        direct: two_threads(|i| drop(black_box(operation(i)))),
        floor: two_threads(|i| drop(black_box(floor(i)))),
        annotated: two_threads(|i| drop(black_box(annotated_shared(i)))),
        runtime: two_threads(|i| drop(black_box(shared_runtime.call(|| operation(i))))),
        recloser: two_threads(|i| drop(black_box(shared_recloser.call(|| operation(i))))),
        failsafe: two_threads(|i| {
            drop(black_box(failsafe::CircuitBreaker::call(
                &shared_failsafe,
                || operation(i),
            )));
        }),
    };

    let _ = annotated_open(0);
    registry::get("bench::open")
        .expect("registered")
        .force_open();
    let open_runtime = CircuitBreaker::new("bench::runtime-open", Config::default());
    open_runtime.force_open();
    let open_recloser = recloser_open();
    let open_failsafe = failsafe_breaker();
    for _ in 0..5 {
        let _ = failsafe::CircuitBreaker::call(&open_failsafe, || Err::<(), _>(Error));
    }
    FLOOR_STATE.store(1, Ordering::Release);
    let open = Row {
        case: "open (rejection), 1 thread",
        direct: f64::NAN,
        floor: one_thread(|i| drop(black_box(floor(i)))),
        annotated: one_thread(|i| drop(black_box(annotated_open(i)))),
        runtime: one_thread(|i| drop(black_box(open_runtime.call(|| operation(i))))),
        recloser: one_thread(|i| drop(black_box(open_recloser.call(|| operation(i))))),
        failsafe: one_thread(|i| {
            drop(black_box(failsafe::CircuitBreaker::call(
                &open_failsafe,
                || operation(i),
            )));
        }),
    };
    FLOOR_STATE.store(0, Ordering::Release);

    let async_runtime = CircuitBreaker::new("bench::runtime-async", Config::default());
    let async_recloser = recloser::AsyncRecloser::from(recloser::Recloser::default());
    let async_failsafe = failsafe_breaker();
    let asynchronous = Row {
        case: "async closed, current-thread tokio",
        direct: on_tokio(|i| async move { drop(black_box(async_operation(i).await)) }),
        floor: on_tokio(|i| async move {
            if FLOOR_STATE.load(Ordering::Acquire) == 0 {
                drop(black_box(async_operation(i).await));
                FLOOR_CALLS.fetch_add(1, Ordering::Relaxed);
            }
        }),
        annotated: on_tokio(|i| async move { drop(black_box(annotated_async(i).await)) }),
        runtime: on_tokio(|i| {
            let breaker = &async_runtime;
            async move { drop(black_box(breaker.call_async(async_operation(i)).await)) }
        }),
        recloser: on_tokio(|i| {
            let recloser = &async_recloser;
            async move { drop(black_box(recloser.call(async_operation(i)).await)) }
        }),
        failsafe: on_tokio(|i| {
            let breaker = &async_failsafe;
            async move {
                drop(black_box(
                    failsafe::futures::CircuitBreaker::call(breaker, async_operation(i)).await,
                ));
            }
        }),
    };

    print_table(&[closed, contended, open, asynchronous]);
}

fn print_table(rows: &[Row]) {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|line| line.starts_with("model name"))
                .and_then(|line| line.split(':').nth(1))
                .map(|name| name.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".to_owned());
    let cores = thread::available_parallelism().map_or(0, std::num::NonZero::get);
    println!("\n{cpu}, {cores} cores; median of {SAMPLES} samples of {CALLS} calls, ns per call\n");
    println!(
        "| case | direct | floor | #[circuit_breaker] | CircuitBreaker::call | recloser | failsafe | attribute ÷ recloser | attribute ÷ floor |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    for row in rows {
        println!(
            "| {} | {} | {:.1} | {:.1} | {:.1} | {:.1} | {:.1} | {:.2} | {:.2} |",
            row.case,
            if row.direct.is_nan() {
                "—".to_owned()
            } else {
                format!("{:.1}", row.direct)
            },
            row.floor,
            row.annotated,
            row.runtime,
            row.recloser,
            row.failsafe,
            row.annotated / row.recloser,
            row.annotated / row.floor,
        );
    }
}
