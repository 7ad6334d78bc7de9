//! What fleet mode costs Redis and the instances as the fleet grows:
//! `cargo bench -p benchmarks --bench fleet_scale` (`-- 20x50` runs one shape).
//!
//! Each shape is `instances × breakers`: that many fleet clients (`Fleet::connect`, each with
//! its own connection and instance id, as separate processes would have), each joining the
//! same `breakers` breakers (default windows: 10 s in 1 s buckets), all in this process on a
//! two-thread Tokio runtime, against one `redis-server` of the benchmark's own on a unix
//! socket. Every breaker gets a trickle of calls (a success every 500 ms). After a warm-up of
//! `WARM_UP`, the benchmark reads the server's `INFO commandstats` and both processes' CPU
//! time (`/proc/<pid>/stat`), waits `MEASURED`, and reads them again:
//!
//! - script calls per second (`EVALSHA` and `EVAL`), and the server's µs per script;
//! - the server's CPU and this process's (the instances' syncs and the calls), in percent of
//!   one core;
//! - the sync errors and the outcomes pending at the end, over every instance's breakers.
//!
//! Linux only (it reads `/proc`); without `redis-server` it says so and measures nothing.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use fusebox::{
    CircuitBreaker, Config,
    fleet::{Fleet, FleetOptions},
};

mod harness;
#[path = "../tests/integration/tests/redis_server/mod.rs"]
mod redis_server;

use redis_server::RedisServer;

/// How long the fleet runs before the measured period: every breaker has synced a few times.
const WARM_UP: Duration = Duration::from_secs(3);
/// The measured period.
const MEASURED: Duration = Duration::from_secs(10);
/// How often each breaker is called.
const TRICKLE: Duration = Duration::from_millis(500);
/// The shapes measured: instances × breakers.
const SHAPES: [(usize, usize); 4] = [(20, 50), (200, 5), (500, 2), (100, 100)];

fn main() {
    let only: Option<String> = std::env::args().skip(1).find(|arg| !arg.starts_with('-'));
    let Some(redis) = RedisServer::start() else {
        println!("fleet scale not measured: redis-server is not installed");
        return;
    };
    let runtime = harness::two_worker_runtime();
    let (cpu, cores) = harness::machine();
    println!(
        "{cpu}, {cores} cores; one redis-server on a unix socket, instances simulated in one \
         process; {} s measured after {} s of warm-up, a call on every breaker every {} ms\n",
        MEASURED.as_secs(),
        WARM_UP.as_secs(),
        TRICKLE.as_millis()
    );
    println!(
        "| instances × breakers | script calls/s | µs per script (server) | redis-server CPU | \
         this process's CPU | sync errors | outcomes pending at the end |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|");
    for (instances, breakers) in SHAPES {
        let shape = format!("{instances}x{breakers}");
        if only.as_ref().is_some_and(|only| *only != shape) {
            continue;
        }
        let _ = redis.cli(&["FLUSHALL"]);
        let row = runtime.block_on(measure(&redis, instances, breakers));
        println!(
            "| {instances} × {breakers} | {:.0} | {:.0} | {:.1} % | {:.1} % | {} | {} |",
            row.scripts_per_second,
            row.usec_per_script,
            row.server_cpu_percent,
            row.client_cpu_percent,
            row.sync_errors,
            row.pending
        );
    }
}

/// One shape's figures.
struct Row {
    scripts_per_second: f64,
    usec_per_script: f64,
    server_cpu_percent: f64,
    client_cpu_percent: f64,
    sync_errors: u64,
    pending: u64,
}

async fn measure(redis: &RedisServer, instances: usize, breakers: usize) -> Row {
    let url = redis.url();
    let mut fleets = Vec::with_capacity(instances);
    let mut all = Vec::with_capacity(instances * breakers);
    for instance in 0..instances {
        let options = FleetOptions::new().instance(format!("scale-{instance}"));
        let fleet = Fleet::connect(&url, options).expect("a valid URL");
        for breaker in 0..breakers {
            let breaker = Arc::new(CircuitBreaker::new(
                format!("scale::{breaker}"),
                Config::default(),
            ));
            fleet.join(Arc::clone(&breaker)).expect("joins once");
            all.push(breaker);
        }
        fleets.push(fleet);
    }
    let all = Arc::new(all);
    let caller = tokio::spawn({
        let all = Arc::clone(&all);
        async move {
            let mut tick = tokio::time::interval(TRICKLE);
            loop {
                tick.tick().await;
                for breaker in all.iter() {
                    let _ = breaker.call(|| Ok::<_, ()>(()));
                }
            }
        }
    });
    tokio::time::sleep(WARM_UP).await;
    let server_pid = redis.pid();
    let (scripts_before, server_before, client_before) = (
        redis.scripts(),
        cpu_seconds(server_pid),
        cpu_seconds(std::process::id()),
    );
    let start = Instant::now();
    tokio::time::sleep(MEASURED).await;
    let elapsed = start.elapsed().as_secs_f64();
    let (scripts_after, server_after, client_after) = (
        redis.scripts(),
        cpu_seconds(server_pid),
        cpu_seconds(std::process::id()),
    );
    caller.abort();
    let (mut sync_errors, mut pending) = (0, 0);
    for breaker in all.iter() {
        if let Some(fleet) = breaker.metrics().fleet {
            sync_errors += fleet.sync_errors;
            pending += fleet.pending;
        }
    }
    for fleet in &fleets {
        fleet.stop();
    }
    let calls = scripts_after.0.saturating_sub(scripts_before.0);
    let usec = scripts_after.1.saturating_sub(scripts_before.1);
    #[allow(clippy::cast_precision_loss)]
    Row {
        scripts_per_second: calls as f64 / elapsed,
        usec_per_script: if calls == 0 {
            0.0
        } else {
            usec as f64 / calls as f64
        },
        server_cpu_percent: (server_after - server_before) / elapsed * 100.0,
        client_cpu_percent: (client_after - client_before) / elapsed * 100.0,
        sync_errors,
        pending,
    }
}

/// A process's CPU time so far, user and system, in seconds (`/proc/<pid>/stat`, in clock
/// ticks of 1/100 s, as Linux reports them to user space).
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // The fields after the command name, which is in parentheses and may hold spaces.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    // utime and stime are the 14th and 15th fields, the 12th and 13th after the name.
    let ticks: u64 = [11, 12]
        .iter()
        .filter_map(|&i| fields.get(i)?.parse::<u64>().ok())
        .sum();
    #[allow(clippy::cast_precision_loss)]
    let seconds = ticks as f64 / 100.0;
    seconds
}
