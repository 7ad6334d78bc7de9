//! One breaker per host, with the runtime API: the healthy replica keeps serving while the
//! broken one is cut off, probed, and let back in once it recovers.
//!
//! Run it with `cargo run --example direct_api`.

use std::{
    collections::HashMap,
    sync::atomic::{AtomicBool, Ordering},
    thread,
    time::Duration,
};

use fusebox::{BreakerError, CircuitBreaker, Config, Failure};

/// Stands in for a network client: `10.0.0.2` is down until the flag is cleared.
static REPLICA_2_DOWN: AtomicBool = AtomicBool::new(true);

fn fetch_price(host: &str, item: u32) -> Result<u64, String> {
    if host == "10.0.0.2" && REPLICA_2_DOWN.load(Ordering::Relaxed) {
        return Err(format!("{host}: connection refused"));
    }
    Ok(u64::from(item) * 100)
}

fn main() -> Result<(), fusebox::ConfigError> {
    let config = Config::builder()
        .consecutive_failures(3)
        .sleep_window(Duration::from_millis(300))
        .build()?;
    let hosts = ["10.0.0.1", "10.0.0.2"];
    let breakers: HashMap<&str, CircuitBreaker> = hosts
        .iter()
        .map(|&host| {
            let breaker = CircuitBreaker::new(format!("prices@{host}"), config);
            breaker.on_transition(|t| println!("    [{}] {} -> {}", t.name, t.from, t.to));
            (host, breaker)
        })
        .collect();

    for round in 1..=12 {
        if round == 8 {
            println!("  (10.0.0.2 comes back)");
            REPLICA_2_DOWN.store(false, Ordering::Relaxed);
        }
        for host in hosts {
            let answer = breakers[host].call(|| fetch_price(host, round));
            let shown = match answer {
                Ok(price) => format!("price {price}"),
                Err(Failure::Error(error)) => format!("failed: {error}"),
                Err(Failure::Breaker(BreakerError::Open { retry_in, .. })) => match retry_in {
                    Some(wait) => format!("short-circuited, next trial in {} ms", wait.as_millis()),
                    None => "short-circuited".to_owned(),
                },
                Err(Failure::Breaker(other)) => format!("rejected: {other}"),
            };
            println!("round {round:2} {host}: {shown}");
        }
        thread::sleep(Duration::from_millis(60));
    }

    for host in hosts {
        let m = breakers[host].metrics();
        println!(
            "{host}: {} — {} calls, {} failed, {} short-circuited",
            m.state, m.calls, m.failures, m.rejections
        );
    }
    Ok(())
}
