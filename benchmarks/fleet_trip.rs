//! How long a fleet trip takes to reach every instance:
//! `cargo bench -p benchmarks --bench fleet_trip`.
//!
//! Each round, five fleet clients (`Fleet::connect`, each with its own connection and instance
//! id, as five processes would have) join a breaker of the same name (default windows: 10 s in
//! 1 s buckets; 20 calls of volume, 50 % errors), against one `redis-server` of the
//! benchmark's own on a unix socket. After every instance has synced, each makes five failing
//! calls at once: 25 calls fleet-wide, over the volume, while each instance's own window (5
//! calls) stays under it, so only the fleet can trip them. A transition listener on each
//! breaker notes when it opened. The figures, medians over the rounds:
//!
//! - **delivery**: from the first instance open (the one whose sync tripped the fleet learns
//!   it in that sync's answer) to every instance open: how long the trip takes to reach the
//!   fleet once the store has decided it;
//! - **failures to all open**: from the failing calls to every instance open (the failures'
//!   syncs, then the delivery).
//!
//! Linux only; without `redis-server` it says so and measures nothing.

use std::{
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use fusebox::{
    CircuitBreaker, Config, State,
    fleet::{Fleet, FleetOptions},
};

mod harness;
#[path = "../tests/integration/tests/redis_server/mod.rs"]
mod redis_server;

use redis_server::RedisServer;

const INSTANCES: usize = 5;
const ROUNDS: usize = 11;
/// Long enough for every instance to have synced at least twice; each round adds a part of a
/// period to it (`round × 91 ms`, modulo 1 s), so that the failures fall at every phase of the
/// instances' looks and syncs rather than always at the same one.
const SETTLE: Duration = Duration::from_millis(2_500);
/// A round that has not opened every instance by then counts as never delivered.
const GIVE_UP: Duration = Duration::from_secs(10);

fn main() {
    let Some(redis) = RedisServer::start() else {
        println!("fleet trips not measured: redis-server is not installed");
        return;
    };
    let runtime = harness::two_worker_runtime();
    let (cpu, cores) = harness::machine();
    println!(
        "{cpu}, {cores} cores; one redis-server on a unix socket, {INSTANCES} instances \
         simulated in one process, {ROUNDS} rounds\n"
    );
    let (mut delivery, mut total, mut missed) = (Vec::new(), Vec::new(), 0);
    for round in 0..ROUNDS {
        match runtime.block_on(trip(&redis, round)) {
            Some((first_to_all, failures_to_all)) => {
                delivery.push(first_to_all.as_secs_f64() * 1e3);
                total.push(failures_to_all.as_secs_f64() * 1e3);
            }
            None => missed += 1,
        }
    }
    println!("| figure (median over {} rounds) | ms |", delivery.len());
    println!("|---|---:|");
    println!(
        "| delivery: first instance open to every instance open | {:.2} |",
        harness::median(delivery)
    );
    println!(
        "| failures to every instance open | {:.1} |",
        harness::median(total)
    );
    if missed > 0 {
        println!("\n{missed} rounds did not open every instance within {GIVE_UP:?}");
    }
}

/// One round: the time from the first instance open to the last, and from the failures to the
/// last; `None` if some instance did not open in time.
async fn trip(redis: &RedisServer, round: usize) -> Option<(Duration, Duration)> {
    let _ = redis.cli(&["FLUSHALL"]);
    let config = Config::builder()
        .request_volume_threshold(20)
        .error_threshold(50)
        .build()
        .expect("a valid configuration");
    let mut fleets = Vec::new();
    let mut breakers = Vec::new();
    let opened: Arc<Mutex<Vec<Option<Instant>>>> = Arc::new(Mutex::new(vec![None; INSTANCES]));
    for instance in 0..INSTANCES {
        let options = FleetOptions::new().instance(format!("trip-{instance}"));
        let fleet = Fleet::connect(&redis.url(), options).expect("a valid URL");
        let breaker = Arc::new(CircuitBreaker::new(format!("trip::{round}"), config));
        let noted = Arc::clone(&opened);
        breaker.on_transition(move |transition| {
            if transition.to == State::Open {
                let mut opened = noted.lock().expect("not poisoned");
                opened[instance].get_or_insert_with(Instant::now);
            }
        });
        fleet.join(Arc::clone(&breaker)).expect("joins once");
        fleets.push(fleet);
        breakers.push(breaker);
    }
    let phase = Duration::from_millis((round as u64 * 91) % 1_000);
    tokio::time::sleep(SETTLE + phase).await;
    let failed_at = Instant::now();
    for breaker in &breakers {
        for _ in 0..5 {
            let _ = breaker.call(|| Err::<(), _>("down"));
        }
    }
    let all_open = || {
        opened
            .lock()
            .expect("not poisoned")
            .iter()
            .all(Option::is_some)
    };
    while !all_open() && failed_at.elapsed() < GIVE_UP {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    for fleet in &fleets {
        fleet.stop();
    }
    let opened: Vec<Instant> = opened
        .lock()
        .expect("not poisoned")
        .iter()
        .copied()
        .collect::<Option<_>>()?;
    let first = *opened.iter().min()?;
    let last = *opened.iter().max()?;
    Some((last - first, last - failed_at))
}
