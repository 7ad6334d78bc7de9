//! The tower layers side by side, in one run: `cargo bench -p benchmarks --bench layer`.
//!
//! Each contender wraps the same trivial inner service (`service_fn` answering `Ok(x)` at once)
//! and is driven as tower services are, `ready().await` then `call(x).await`, on a
//! current-thread Tokio runtime: the inner service alone (the floor), `fusebox`'s
//! `CircuitBreakerLayer` (default classifier), tower-resilience's circuit breaker (its default
//! configuration) and the `breaker` 2.x crate's `BreakerLayer` (its standard configuration).
//! Samples are taken round by round, one of each contender per round; ratios are medians of the
//! ratios within each round. Every breaker stays closed.

use std::{convert::Infallible, future::ready, hint::black_box, time::Instant};

use fusebox::{Config, tower::CircuitBreakerLayer};
use tower::{Layer, Service, ServiceExt, service_fn};

mod harness;

use harness::{CALLS, SAMPLES, Sampler, interleaved, median, per_call, ratio};

/// `CALLS` requests through `service`, one after another.
fn serving<'a, S>(runtime: &'a tokio::runtime::Runtime, mut service: S) -> Sampler<'a>
where
    S: Service<u64, Response = u64> + 'a,
    S::Error: std::fmt::Debug,
{
    Box::new(move || {
        runtime.block_on(async {
            let start = Instant::now();
            for i in 0..CALLS {
                let ready = service.ready().await.expect("a ready service");
                black_box(ready.call(black_box(i)).await.expect("an answer"));
            }
            per_call(start.elapsed())
        })
    })
}

fn main() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a Tokio runtime");
    let inner = || service_fn(|x: u64| ready(Ok::<_, Infallible>(x)));

    let ours = CircuitBreakerLayer::new("bench::layer", Config::default()).layer(inner());
    let resilience = tower_resilience::circuitbreaker::CircuitBreakerLayer::builder()
        .build()
        .expect("tower-resilience's default configuration")
        .layer(inner());
    let breaker2 = breaker2::tower::BreakerLayer::new(breaker2::CircuitBreaker::new(
        breaker2::CircuitBreakerConfig::standard(),
    ))
    .layer(inner());

    let samples = interleaved([
        serving(&runtime, inner()),
        serving(&runtime, ours),
        serving(&runtime, resilience),
        serving(&runtime, breaker2),
    ]);
    let [floor, ours, resilience, breaker2] = &samples;
    let (cpu, cores) = harness::machine();
    println!(
        "\n{cpu}, {cores} cores; tower layers over a trivial service, current-thread Tokio; \
         median of {SAMPLES} samples of {CALLS} requests, ns per request; ratios within rounds\n"
    );
    println!(
        "| contender | ns per request | ÷ tower-resilience | ÷ `breaker` 2.x | overhead over the inner service |"
    );
    println!("|---|---:|---:|---:|---:|");
    for (name, contender) in [
        ("the inner service alone", floor),
        ("fusebox `CircuitBreakerLayer`", ours),
        ("tower-resilience 0.13 circuit breaker", resilience),
        ("`breaker` 2.0.2 `BreakerLayer`", breaker2),
    ] {
        let overhead: Vec<f64> = contender.iter().zip(floor).map(|(c, f)| c - f).collect();
        println!(
            "| {name} | {:.1} | {:.2} | {:.2} | {:.1} |",
            median(contender.clone()),
            ratio(contender, resilience),
            ratio(contender, breaker2),
            median(overhead),
        );
    }
}
