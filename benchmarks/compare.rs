//! `fusebox` side by side with the Rust peers, in one run:
//! `cargo bench -p benchmarks --bench compare`.
//!
//! Every case calls the same trivial operation, `fn(x) -> Result<u64, E>` returning
//! `Ok(black_box(x))`, through: nothing (direct); the floor (an atomic state load, the call, one
//! shared `fetch_add`: what any breaker that counts outcomes must at least pay); a
//! `#[circuit_breaker]` function; the runtime's `CircuitBreaker::call`; `recloser` (default
//! configuration); `failsafe` (consecutive-failures policy).
//!
//! Cases: closed on one thread; closed on two threads sharing one breaker (nanoseconds per call
//! per thread); open, i.e. rejecting, on one thread (every breaker tripped by a failure, none
//! forced open); async closed on a current-thread Tokio runtime; closed but degraded (45 % of
//! calls fail, under the threshold) with windows of 10, 100 and 1,000 buckets. Each figure is
//! the median of `SAMPLES` samples of `CALLS` calls, and the samples of a case are taken round
//! by round, one of each contender per round, so that the slow and fast moments of a shared
//! machine fall on all of them alike; a ratio is the median of the ratios within each round. A
//! plain harness rather than criterion, because the two-thread case needs threads started
//! together on a barrier, and so that every number and ratio comes out of the same run.

// The workload is a trivial `Result`-returning operation on purpose.
#![allow(clippy::unnecessary_wraps, clippy::unused_async)]

use std::{
    hint::black_box,
    sync::atomic::{AtomicU8, AtomicU64, Ordering},
    time::Duration,
};

use fusebox::{BreakerError, CircuitBreaker, Config, Keyed, State, circuit_breaker, registry};

mod fleet_mode;
mod harness;
#[path = "../tests/integration/tests/redis_server/mod.rs"]
mod redis_server;

use harness::{CALLS, SAMPLES, interleaved, median, on_tokio, one_thread, ratio, two_threads};

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

#[circuit_breaker(
    name = "bench::open",
    consecutive_failures = 1,
    sleep_window_ms = 3_600_000
)]
fn annotated_open(x: u64) -> Result<u64, Error> {
    Ok(black_box(x))
}

#[circuit_breaker(name = "bench::async")]
async fn annotated_async(x: u64) -> Result<u64, Error> {
    Ok(black_box(x))
}

static FLOOR_STATE: AtomicU8 = AtomicU8::new(0);
static OPEN_FLOOR_STATE: AtomicU8 = AtomicU8::new(0);
static FLOOR_CALLS: AtomicU64 = AtomicU64::new(0);

/// The least a breaker that counts outcomes can do.
#[inline]
fn floor_of(state: &AtomicU8, x: u64) -> Result<u64, Error> {
    if state.load(Ordering::Acquire) != 0 {
        return Err(Error);
    }
    let result = operation(x);
    FLOOR_CALLS.fetch_add(1, Ordering::Relaxed);
    result
}

fn floor(x: u64) -> Result<u64, Error> {
    floor_of(&FLOOR_STATE, x)
}

fn open_floor(x: u64) -> Result<u64, Error> {
    floor_of(&OPEN_FLOOR_STATE, x)
}

/// The configuration of the open case's breakers: one failure opens them for an hour.
fn open_config() -> Config {
    Config::builder()
        .consecutive_failures(1)
        .sleep_window(Duration::from_secs(3_600))
        .build()
        .expect("a valid configuration")
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
    /// Medians: direct, floor, attribute, runtime, recloser, failsafe.
    medians: [f64; 6],
    /// Per-round ratios' medians: attribute ÷ recloser, attribute ÷ floor.
    to_recloser: f64,
    to_floor: f64,
}

impl Row {
    /// From the samples, in the order `[direct, floor, annotated, runtime, recloser, failsafe]`.
    fn new(case: &'static str, samples: [Vec<f64>; 6]) -> Row {
        let to_recloser = ratio(&samples[2], &samples[4]);
        let to_floor = ratio(&samples[2], &samples[1]);
        Row {
            case,
            medians: samples.map(median),
            to_recloser,
            to_floor,
        }
    }
}

fn main() {
    // `cargo test --benches` runs bench targets with no `--bench` flag: stay quick then.
    if !std::env::args().any(|arg| arg == "--bench") {
        return;
    }
    // `cargo bench -p benchmarks --bench compare -- open degraded` runs those cases alone
    // (closed, contended, open, async, degraded, keyed, policies), without fleet mode.
    let cases: Vec<String> = std::env::args()
        .skip(1)
        .filter(|arg| !arg.starts_with("--"))
        .collect();
    if !cases.is_empty() {
        let rows: Vec<Row> = [
            ("closed", closed as fn() -> Row),
            ("contended", contended),
            ("open", open),
            ("async", asynchronous),
        ]
        .into_iter()
        .filter(|(name, _)| cases.iter().any(|case| case == name))
        .map(|(_, case)| case())
        .collect();
        if !rows.is_empty() {
            print_table(&rows);
        }
        if cases.iter().any(|case| case == "degraded") {
            degraded();
        }
        if cases.iter().any(|case| case == "keyed") {
            keyed();
        }
        if cases.iter().any(|case| case == "policies") {
            policies();
        }
        return;
    }
    let server = fleet_mode::start();
    print_table(&[closed(), contended(), open(), asynchronous()]);
    degraded();
    keyed();
    policies();
    // The same, with fusebox's breakers in fleet mode: their counts are synced to Redis in
    // the background while they are measured.
    if let Some(_server) = server {
        fleet_mode::joining();
        for name in [
            "bench::closed",
            "bench::shared",
            "bench::open",
            "bench::async",
        ] {
            fleet_mode::join(&registry::get(name).expect("declared"));
        }
        std::thread::sleep(Duration::from_secs(2));
        println!(
            "
fleet mode on for the #[circuit_breaker] and CircuitBreaker::call breakers:"
        );
        print_table(&[closed(), contended(), open(), asynchronous()]);
        let synced = registry::get("bench::closed")
            .and_then(|breaker| breaker.metrics().fleet)
            .expect("in fleet mode");
        println!(
            "
bench::closed's fleet view at the end: {} synced, {} pending, {} sync errors, stale: {}",
            synced.synced, synced.pending, synced.sync_errors, synced.stale
        );
    }
}

fn closed() -> Row {
    let runtime_breaker =
        fleet_mode::member(CircuitBreaker::new("bench::runtime", Config::default()));
    let recloser = recloser::Recloser::default();
    let failsafe = failsafe_breaker();
    Row::new(
        "closed, 1 thread",
        interleaved([
            one_thread(|i| drop(black_box(operation(i)))),
            one_thread(|i| drop(black_box(floor(i)))),
            one_thread(|i| drop(black_box(annotated(i)))),
            one_thread(|i| drop(black_box(runtime_breaker.call(|| operation(i))))),
            one_thread(|i| drop(black_box(recloser.call(|| operation(i))))),
            one_thread(|i| {
                drop(black_box(failsafe::CircuitBreaker::call(&failsafe, || {
                    operation(i)
                })));
            }),
        ]),
    )
}

fn contended() -> Row {
    let shared_runtime = fleet_mode::member(CircuitBreaker::new(
        "bench::runtime-shared",
        Config::default(),
    ));
    let shared_recloser = recloser::Recloser::default();
    let shared_failsafe = failsafe_breaker();
    Row::new(
        "closed, 2 threads (per thread)",
        interleaved([
            two_threads(|i| drop(black_box(operation(i)))),
            two_threads(|i| drop(black_box(floor(i)))),
            two_threads(|i| drop(black_box(annotated_shared(i)))),
            two_threads(|i| drop(black_box(shared_runtime.call(|| operation(i))))),
            two_threads(|i| drop(black_box(shared_recloser.call(|| operation(i))))),
            two_threads(|i| {
                drop(black_box(failsafe::CircuitBreaker::call(
                    &shared_failsafe,
                    || operation(i),
                )));
            }),
        ]),
    )
}

fn open() -> Row {
    // Every contender is tripped by failures, none forced open, and stays open for an hour.
    let _ = annotated_open(0);
    let _ = registry::get("bench::open")
        .expect("registered at its first call")
        .call(|| Err::<(), _>(Error));
    let open_runtime =
        fleet_mode::member(CircuitBreaker::new("bench::runtime-open", open_config()));
    let _ = open_runtime.call(|| Err::<(), _>(Error));
    assert_eq!(open_runtime.state(), State::Open);
    let open_recloser = recloser_open();
    let open_failsafe = failsafe_breaker();
    for _ in 0..5 {
        let _ = failsafe::CircuitBreaker::call(&open_failsafe, || Err::<(), _>(Error));
    }
    OPEN_FLOOR_STATE.store(1, Ordering::Release);
    Row::new(
        "open (rejection), 1 thread",
        interleaved([
            one_thread(|i| drop(black_box(operation(i)))),
            one_thread(|i| drop(black_box(open_floor(i)))),
            one_thread(|i| drop(black_box(annotated_open(i)))),
            one_thread(|i| drop(black_box(open_runtime.call(|| operation(i))))),
            one_thread(|i| drop(black_box(open_recloser.call(|| operation(i))))),
            one_thread(|i| {
                drop(black_box(failsafe::CircuitBreaker::call(
                    &open_failsafe,
                    || operation(i),
                )));
            }),
        ]),
    )
}

fn asynchronous() -> Row {
    let tokio = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("tokio runtime");
    let async_runtime = fleet_mode::member(CircuitBreaker::new(
        "bench::runtime-async",
        Config::default(),
    ));
    let async_recloser = recloser::AsyncRecloser::from(recloser::Recloser::default());
    let async_failsafe = failsafe_breaker();
    Row::new(
        "async closed, current-thread tokio",
        interleaved([
            on_tokio(&tokio, |i| async move {
                drop(black_box(async_operation(i).await));
            }),
            on_tokio(&tokio, |i| async move {
                if FLOOR_STATE.load(Ordering::Acquire) == 0 {
                    drop(black_box(async_operation(i).await));
                    FLOOR_CALLS.fetch_add(1, Ordering::Relaxed);
                }
            }),
            on_tokio(&tokio, |i| async move {
                drop(black_box(annotated_async(i).await));
            }),
            on_tokio(&tokio, |i| {
                let breaker = &async_runtime;
                async move { drop(black_box(breaker.call_async(async_operation(i)).await)) }
            }),
            on_tokio(&tokio, |i| {
                let recloser = &async_recloser;
                async move { drop(black_box(recloser.call(async_operation(i)).await)) }
            }),
            on_tokio(&tokio, |i| {
                let breaker = &async_failsafe;
                async move {
                    drop(black_box(
                        failsafe::futures::CircuitBreaker::call(breaker, async_operation(i)).await,
                    ));
                }
            }),
        ]),
    )
}

fn print_table(rows: &[Row]) {
    let (cpu, cores) = harness::machine();
    println!(
        "\n{cpu}, {cores} cores; median of {SAMPLES} samples of {CALLS} calls, ns per call; \
         ratios are medians of the ratios within each round\n"
    );
    println!(
        "| case | direct | floor | #[circuit_breaker] | CircuitBreaker::call | recloser | failsafe | attribute ÷ recloser | attribute ÷ floor |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    for row in rows {
        let [direct, floor, annotated, runtime, recloser, failsafe] = row.medians;
        println!(
            "| {} | {direct:.1} | {floor:.1} | {annotated:.1} | {runtime:.1} | {recloser:.1} | {failsafe:.1} | {:.2} | {:.2} |",
            row.case, row.to_recloser, row.to_floor,
        );
    }
}

/// Whether call `i` of the degraded case fails: 9 calls in 20, never two in a row (so that no
/// peer's consecutive-failures rule trips either).
fn degraded_fails(i: u64) -> bool {
    i % 20 < 18 && i.is_multiple_of(2)
}

#[inline(never)]
fn degraded_operation(i: u64) -> Result<u64, Error> {
    if degraded_fails(i) {
        Err(Error)
    } else {
        operation(i)
    }
}

/// A closed breaker whose backend fails 45 % of calls, under the 50 % threshold: the path a
/// service is on while its dependency struggles, every failure (and, with enough failures in
/// the window to trip on, every success) followed by a look at the window's rate. The
/// runtime's breaker with the default 10 s window in 10, 100 and 1,000 buckets, beside
/// recloser (its default 50 % rate rule) and failsafe (consecutive failures).
fn degraded() {
    let with_buckets = |buckets: u64| {
        let config = Config::builder()
            .window_buckets(buckets)
            .build()
            .expect("a valid configuration");
        let breaker = CircuitBreaker::new(format!("bench::degraded-{buckets}"), config);
        for i in 0..1_000 {
            let _ = breaker.call(|| degraded_operation(i));
        }
        assert_eq!(breaker.state(), State::Closed, "45 % stays under 50 %");
        breaker
    };
    let (ten, hundred, thousand) = (with_buckets(10), with_buckets(100), with_buckets(1_000));
    let recloser = recloser::Recloser::default();
    let failsafe = failsafe_breaker();
    let samples = interleaved([
        one_thread(|i| drop(black_box(ten.call(|| degraded_operation(i))))),
        one_thread(|i| drop(black_box(hundred.call(|| degraded_operation(i))))),
        one_thread(|i| drop(black_box(thousand.call(|| degraded_operation(i))))),
        one_thread(|i| drop(black_box(recloser.call(|| degraded_operation(i))))),
        one_thread(|i| {
            drop(black_box(failsafe::CircuitBreaker::call(&failsafe, || {
                degraded_operation(i)
            })));
        }),
    ]);
    for breaker in [&ten, &hundred, &thousand] {
        assert_eq!(breaker.state(), State::Closed, "{}", breaker.name());
    }
    let medians = samples.clone().map(median);
    let (cpu, cores) = harness::machine();
    println!(
        "\nclosed at 45 % failures, 1 thread ({cpu}, {cores} cores); ns per call (median), \
         ratios within rounds\n"
    );
    println!("| contender | ns per call | ÷ 10 buckets | ÷ recloser |");
    println!("|---|---:|---:|---:|");
    for (contender, name) in [
        "`CircuitBreaker::call`, 10 buckets",
        "`CircuitBreaker::call`, 100 buckets",
        "`CircuitBreaker::call`, 1,000 buckets",
        "recloser",
        "failsafe",
    ]
    .iter()
    .enumerate()
    {
        println!(
            "| {name} | {:.1} | {:.2} | {:.2} |",
            medians[contender],
            ratio(&samples[contender], &samples[0]),
            ratio(&samples[contender], &samples[3]),
        );
    }
}

/// The two policies on the closed path (every call succeeds) and at 45 % failures, one thread:
/// `CircuitBreaker::call` with `policy = "adaptive"` beside the threshold policy's, and
/// recloser's.
fn policies() {
    let threshold = CircuitBreaker::new("bench::threshold", Config::default());
    let adaptive_config = Config::builder()
        .policy(fusebox::Policy::Adaptive)
        .build()
        .expect("the adaptive policy");
    let adaptive = CircuitBreaker::new("bench::adaptive", adaptive_config);
    let degraded_threshold = CircuitBreaker::new("bench::threshold-degraded", Config::default());
    let degraded_adaptive = CircuitBreaker::new("bench::adaptive-degraded", adaptive_config);
    let recloser = recloser::Recloser::default();
    let samples = interleaved([
        one_thread(|i| drop(black_box(recloser.call(|| operation(i))))),
        one_thread(|i| drop(black_box(threshold.call(|| operation(i))))),
        one_thread(|i| drop(black_box(adaptive.call(|| operation(i))))),
        one_thread(|i| drop(black_box(degraded_threshold.call(|| degraded_operation(i))))),
        one_thread(|i| drop(black_box(degraded_adaptive.call(|| degraded_operation(i))))),
    ]);
    let medians = samples.clone().map(median);
    println!("\npolicies, 1 thread; ns per call (median), ratios within rounds\n");
    println!("| contender | ns per call | ÷ threshold policy | ÷ recloser |");
    println!("|---|---:|---:|---:|");
    for (contender, name, base) in [
        (0, "recloser, closed", 1),
        (1, "`CircuitBreaker::call`, threshold, closed", 1),
        (2, "`CircuitBreaker::call`, adaptive, closed", 1),
        (3, "`CircuitBreaker::call`, threshold, 45 % failures", 3),
        (4, "`CircuitBreaker::call`, adaptive, 45 % failures", 3),
    ] {
        println!(
            "| {name} | {:.1} | {:.2} | {:.2} |",
            medians[contender],
            ratio(&samples[contender], &samples[base]),
            ratio(&samples[contender], &samples[0]),
        );
    }
}

/// Keys in the keyed case.
const KEYS: usize = 10_000;

/// One breaker per key, 10,000 keys, closed, one thread: `Keyed::call` on one hot key and on
/// every key in turn, beside a plain call through recloser and through `CircuitBreaker`, and
/// beside what a recloser user writes for per-key breakers (a map of reclosers, same hasher).
fn keyed() {
    let hosts: Vec<String> = (0..KEYS)
        .map(|i| format!("10.0.{}.{}", i / 256, i % 256))
        .collect();
    let family: Keyed<String> = Keyed::new("bench::hosts", Config::default()).max_keys(KEYS);
    let mut reclosers: std::collections::HashMap<
        String,
        recloser::Recloser,
        foldhash::fast::RandomState,
    > = std::collections::HashMap::default();
    for host in &hosts {
        drop(family.call(host.as_str(), || operation(0)));
        reclosers.insert(host.clone(), recloser::Recloser::default());
    }
    let host = |i: u64| hosts[usize::try_from(i).unwrap_or(0) % KEYS].as_str();
    let runtime_breaker = CircuitBreaker::new("bench::keyed-plain", Config::default());
    let recloser = recloser::Recloser::default();
    let samples = interleaved([
        one_thread(|i| drop(black_box(recloser.call(|| operation(i))))),
        one_thread(|i| drop(black_box(runtime_breaker.call(|| operation(i))))),
        one_thread(|i| drop(black_box(family.call("10.0.0.7", || operation(i))))),
        one_thread(|i| drop(black_box(family.call(host(i), || operation(i))))),
        one_thread(|i| drop(black_box(reclosers[host(i)].call(|| operation(i))))),
    ]);
    let to_recloser = |contender: usize| ratio(&samples[contender], &samples[0]);
    let medians = samples.clone().map(median);
    println!(
        "\nkeyed, {KEYS} keys, closed, 1 thread; ns per call (median), ratios within rounds\n"
    );
    println!("| contender | ns per call | ÷ recloser (one breaker) |");
    println!("|---|---:|---:|");
    for (contender, name) in [
        "recloser, one breaker",
        "`CircuitBreaker::call`, one breaker",
        "`Keyed::call`, one hot key",
        "`Keyed::call`, every key in turn",
        "recloser per key (a `HashMap` of reclosers), every key in turn",
    ]
    .iter()
    .enumerate()
    {
        println!(
            "| {name} | {:.1} | {:.2} |",
            medians[contender],
            to_recloser(contender)
        );
    }
}
