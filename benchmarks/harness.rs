//! The plain harness the benchmarks share: samplers of `CALLS` calls, taken round by round, one
//! of each contender per round, and ratios taken within rounds.

// Each benchmark uses the samplers it needs.
#![allow(dead_code)]

use std::{
    sync::Barrier,
    thread,
    time::{Duration, Instant},
};

pub const SAMPLES: usize = 101;
pub const CALLS: u64 = 200_000;

/// A sampler: runs `CALLS` calls once and returns nanoseconds per call.
pub type Sampler<'a> = Box<dyn FnMut() -> f64 + 'a>;

/// Calls from this thread.
pub fn one_thread<'a>(call: impl Fn(u64) + 'a) -> Sampler<'a> {
    Box::new(move || {
        let start = Instant::now();
        for i in 0..CALLS {
            call(i);
        }
        per_call(start.elapsed())
    })
}

/// Calls from two threads at once, started on a barrier: nanoseconds per call per thread.
pub fn two_threads<'a>(call: impl Fn(u64) + Sync + 'a) -> Sampler<'a> {
    Box::new(move || {
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
    })
}

/// Awaited calls on a current-thread Tokio runtime.
pub fn on_tokio<'a, F: Future<Output = ()>>(
    runtime: &'a tokio::runtime::Runtime,
    call: impl Fn(u64) -> F + 'a,
) -> Sampler<'a> {
    Box::new(move || {
        runtime.block_on(async {
            let start = Instant::now();
            for i in 0..CALLS {
                call(i).await;
            }
            per_call(start.elapsed())
        })
    })
}

/// Takes the samples round by round, one of each contender per round, so that the slow and
/// fast moments of a shared machine fall on every contender alike; returns each contender's
/// samples in round order.
pub fn interleaved<const N: usize>(mut samplers: [Sampler<'_>; N]) -> [Vec<f64>; N] {
    let mut results = [(); N].map(|()| Vec::with_capacity(SAMPLES));
    for _ in 0..SAMPLES {
        for (sampler, taken) in samplers.iter_mut().zip(&mut results) {
            taken.push(sampler());
        }
    }
    results
}

/// The median over rounds of `numerator ÷ denominator` taken in the same round: a ratio that a
/// slow or fast moment of the machine moves less than it moves either median.
pub fn ratio(numerator: &[f64], denominator: &[f64]) -> f64 {
    median(
        numerator
            .iter()
            .zip(denominator)
            .map(|(n, d)| n / d)
            .collect(),
    )
}

#[allow(clippy::cast_precision_loss)]
pub fn per_call(elapsed: Duration) -> f64 {
    elapsed.as_nanos() as f64 / CALLS as f64
}

pub fn median(mut samples: Vec<f64>) -> f64 {
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

/// The processor's name and how many threads the machine runs at once.
pub fn machine() -> (String, usize) {
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
    (cpu, cores)
}

/// A Tokio runtime of two workers, for the fleet benchmarks' simulated instances (one per
/// core of the machines this runs on).
pub fn two_worker_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a Tokio runtime")
}
