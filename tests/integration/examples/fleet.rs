//! Fleet mode: three instances of a service call one backend that has just gone down, first
//! each on its own, then as a fleet that shares its counts through Redis. Each instance stands
//! for a process of its own: its own fleet client, its own breaker of the same name.
//!
//! ```text
//! cargo run -p integration-tests --example fleet
//! ```
//!
//! Starts a `redis-server` of its own (on a unix socket in a temporary directory, without
//! persistence) if one is installed; says how to get one otherwise.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use fusebox::{
    CircuitBreaker, Config, Failure, State,
    fleet::{Fleet, FleetOptions},
};

// The same helper the fleet tests start their servers with.
#[path = "../tests/redis_server/mod.rs"]
mod redis_server;

use redis_server::RedisServer;

const INSTANCES: usize = 3;

/// Hystrix's rule over 60 calls: alone, an instance needs 60 failed calls to trip.
fn config(fleet: bool) -> Config {
    Config::builder()
        .request_volume_threshold(60)
        .error_threshold(50)
        .window(Duration::from_secs(2))
        .window_buckets(10) // 200 ms buckets: a fleet sync every 200 ms
        .sleep_window(Duration::from_secs(30))
        .fleet(fleet)
        .build()
        .expect("a valid configuration")
}

/// Every instance calls the dead backend every 10 ms until its breaker stops it; returns the
/// failed calls each one made.
async fn outage(url: Option<&str>, name: &str) -> Vec<u64> {
    let mut fleets = Vec::new();
    let instances: Vec<Arc<CircuitBreaker>> = (0..INSTANCES)
        .map(|i| {
            let breaker = Arc::new(CircuitBreaker::new(name.to_owned(), config(url.is_some())));
            if let Some(url) = url {
                let fleet = Fleet::connect(url, FleetOptions::new().instance(format!("web-{i}")))
                    .expect("a fleet client");
                fleet.join(Arc::clone(&breaker)).expect("joined");
                fleets.push(fleet);
            }
            breaker
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(300)).await; // every instance has synced once
    let mut failed = vec![0; INSTANCES];
    let start = Instant::now();
    while instances.iter().any(|b| b.state() == State::Closed) {
        for (breaker, failed) in instances.iter().zip(&mut failed) {
            let outcome = breaker.call(|| Err::<(), _>("connection refused"));
            if matches!(outcome, Err(Failure::Error(_))) {
                *failed += 1;
            }
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "the breakers never opened"
        );
    }
    for fleet in fleets {
        fleet.stop();
    }
    failed
}

#[tokio::main]
async fn main() {
    let Some(server) = RedisServer::start() else {
        eprintln!(
            "This example needs redis-server (Debian and Ubuntu: `apt-get install redis-server`; \
             macOS: `brew install redis`); it starts one of its own on a unix socket."
        );
        return;
    };
    let alone = outage(None, "recommendations").await;
    println!("each instance on its own: failed calls before its breaker opened: {alone:?}");
    let together = outage(Some(&server.url()), "recommendations").await;
    println!("as a fleet through Redis: failed calls before the fleet opened: {together:?}");
    println!(
        "the backend took {} failed calls alone, {} as a fleet",
        alone.iter().sum::<u64>(),
        together.iter().sum::<u64>()
    );
}
