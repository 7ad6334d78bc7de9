//! Heap bytes per breaker, `fusebox` beside the Rust peers, in one run:
//! `cargo bench -p benchmarks --bench memory`.
//!
//! A global allocator counts the bytes live in the process. For each crate, `BREAKERS`
//! breakers with a 10-outcome (or 10-bucket) window are built into a `Vec` reserved for them
//! (so a breaker's own size counts, wherever it lives), each with a name of its own where the
//! crate has names (`host-00042`); then 16 threads, one after another, each call every breaker
//! once; then the breakers are dropped. Each column is the growth of the live heap over the
//! start, divided by the number of breakers.
//!
//! A last table shows a breaker that threads do contend on: 16 threads call one breaker at
//! once, and the growth is what its contention cells take.

use std::{
    alloc::{GlobalAlloc, Layout, System},
    future::Future,
    hint::black_box,
    pin::pin,
    sync::{
        Arc, Barrier,
        atomic::{AtomicIsize, Ordering},
    },
    task::{Context, Poll, Waker},
    thread,
    time::Duration,
};

use fusebox::{CircuitBreaker, Config, registry};

const BREAKERS: usize = 50_000;
const THREADS: usize = 16;

struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);

#[allow(clippy::cast_possible_wrap)]
fn size_of_layout(layout: Layout) -> isize {
    layout.size() as isize
}

// SAFETY: every method forwards to the system allocator unchanged; counting touches only a
// static atomic, which does not allocate.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(size_of_layout(layout), Ordering::Relaxed);
        // SAFETY: forwarded with the caller's layout.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(size_of_layout(layout), Ordering::Relaxed);
        // SAFETY: forwarded with the caller's pointer and layout.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        #[allow(clippy::cast_possible_wrap)]
        LIVE.fetch_add(
            new_size as isize - size_of_layout(layout),
            Ordering::Relaxed,
        );
        // SAFETY: forwarded with the caller's pointer, layout and size.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn live() -> isize {
    LIVE.load(Ordering::Relaxed)
}

/// One crate's figures, in bytes per breaker.
struct Row {
    name: &'static str,
    idle: f64,
    called: f64,
    kept: f64,
}

/// Builds `BREAKERS` breakers with `make`, has `THREADS` threads one after another call each
/// once with `call`, drops them, and measures the heap at each step.
fn measure<B: Send + Sync>(
    name: &'static str,
    make: impl Fn(usize) -> B,
    call: impl Fn(&B) + Sync,
    drop_all: impl FnOnce(Vec<B>),
) -> Row {
    #[allow(clippy::cast_precision_loss)]
    let per_breaker = |bytes: isize| bytes as f64 / BREAKERS as f64;
    let start = live();
    let mut breakers = Vec::with_capacity(BREAKERS);
    breakers.extend((0..BREAKERS).map(&make));
    let idle = per_breaker(live() - start);
    let breakers = Arc::new(breakers);
    for _ in 0..THREADS {
        let (breakers, call) = (Arc::clone(&breakers), &call);
        thread::scope(|scope| {
            scope.spawn(move || breakers.iter().for_each(call));
        });
    }
    // The `Arc` around the `Vec` is the benchmark's, not the breakers'.
    let arc = isize::try_from(std::mem::size_of::<usize>() * 2 + std::mem::size_of::<Vec<B>>())
        .unwrap_or(0);
    let called = per_breaker(live() - start - arc);
    drop_all(Arc::into_inner(breakers).expect("the threads are done"));
    Row {
        name,
        idle,
        called,
        kept: per_breaker(live() - start),
    }
}

/// Rounded to whole bytes, without the sign of a negative zero (a few bytes that std freed
/// during a step, spread over every breaker).
fn whole(bytes: f64) -> String {
    format!("{:.0}", bytes.round() + 0.0)
}

fn host(i: usize) -> String {
    format!("host-{i:05}")
}

/// Runs a future that completes without waiting (the peers' async-only calls).
fn now<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    match future
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
    {
        Poll::Ready(output) => output,
        Poll::Pending => unreachable!("the operation never waits"),
    }
}

/// The trivial operation every breaker runs: a `Result`, on purpose.
#[allow(clippy::unnecessary_wraps)]
fn ok() -> Result<u8, ()> {
    Ok(black_box(1))
}

fn failsafe_breaker() -> impl failsafe::CircuitBreaker {
    let backoff = failsafe::backoff::constant(Duration::from_secs(3_600));
    failsafe::Config::new()
        .failure_policy(failsafe::failure_policy::consecutive_failures(5, backoff))
        .build()
}

fn main() {
    // `cargo test --benches` runs bench targets with no `--bench` flag: stay quick then.
    if !std::env::args().any(|arg| arg == "--bench") {
        return;
    }
    let config = Config::default(); // 10 buckets over 10 s
    let rows = [
        measure(
            "fusebox, owned name",
            |i| CircuitBreaker::new(host(i), config),
            |b| drop(black_box(b.call(ok))),
            drop,
        ),
        measure(
            "fusebox, `&'static str` name",
            |_| CircuitBreaker::new("host", config),
            |b| drop(black_box(b.call(ok))),
            drop,
        ),
        measure(
            "fusebox, owned name, registered",
            |i| registry::get_or_register(host(i), config),
            |b| drop(black_box(b.call(ok))),
            |breakers| {
                for breaker in &breakers {
                    registry::remove(breaker.name());
                }
            },
        ),
        measure(
            "`breaker` 2.0.2",
            |i| {
                let config = breaker2::CircuitBreakerConfig::builder()
                    .sliding_window_size(10)
                    .build();
                breaker2::CircuitBreaker::builder(config)
                    .name(host(i))
                    .build()
            },
            |b| drop(black_box(now(b.call(|| async { ok() })))),
            drop,
        ),
        measure(
            "recloser 1.4 (no names without its `tracing` feature)",
            |_| recloser::Recloser::custom().closed_len(10).build(),
            |b| drop(black_box(b.call(ok))),
            drop,
        ),
        measure(
            "failsafe 1.3 (consecutive)",
            |_| failsafe_breaker(),
            |b| drop(black_box(failsafe::CircuitBreaker::call(b, ok))),
            drop,
        ),
    ];
    println!(
        "\n{BREAKERS} breakers, 10-outcome window; heap bytes per breaker \
         (its own size included)\n"
    );
    println!(
        "| crate | idle | after {THREADS} threads each called every breaker once | kept after drop |"
    );
    println!("|---|---:|---:|---:|");
    for row in rows {
        println!(
            "| {} | {} | {} | {} |",
            row.name,
            whole(row.idle),
            whole(row.called),
            whole(row.kept)
        );
    }
    contended(config);
}

/// One breaker, `THREADS` threads calling it at once: what its contention cells cost.
///
/// The threads are started before the first reading and still running at the second (they
/// wait for it), so that what std allocates and frees to start and end a thread is not
/// counted.
fn contended(config: Config) {
    let before = live();
    let breaker = CircuitBreaker::new(host(0), config);
    let idle = live() - before;
    let [ready, go, done, measured] = [(); 4].map(|()| Barrier::new(THREADS + 1));
    let mut growth = 0;
    thread::scope(|scope| {
        for _ in 0..THREADS {
            scope.spawn(|| {
                ready.wait();
                go.wait();
                for _ in 0..100_000 {
                    drop(black_box(breaker.call(ok)));
                }
                done.wait();
                measured.wait();
            });
        }
        ready.wait();
        let started = live();
        go.wait();
        done.wait();
        growth = live() - started;
        measured.wait();
    });
    println!(
        "\none fusebox breaker (its own {} bytes not counted here), {THREADS} threads calling it \
         at once on {} cores: {idle} bytes of heap idle, {growth} more after\n",
        std::mem::size_of::<CircuitBreaker>(),
        thread::available_parallelism().map_or(0, std::num::NonZero::get),
    );
}
