//! Configuration that reaches every breaker: a `Keyed` family configured by its name, for keys
//! made before the overrides, after them, and again after an eviction; a key's own entry before
//! its first call, in a file and in the environment; a reload naming a key not seen yet;
//! `defaults` under the keys code did not set, for breakers made in code, a tower layer's and
//! the reqwest middleware's per-host breakers; and a breaker with `fleet = true` in a process
//! that runs no fleet, which says so.
//!
//! Overrides are process-wide layers, so the tests take turns (`SERIAL`).
#![deny(warnings, clippy::pedantic)]

mod support;

use std::{
    sync::{Mutex, MutexGuard, PoisonError},
    time::Duration,
};
use support::{clear_overrides, env, toml};

use fusebox::{
    BreakerError, Config, Keyed, TestClock, circuit_breaker, registry,
    reqwest::CircuitBreakerMiddleware, tower::CircuitBreakerLayer,
};

static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(PoisonError::into_inner)
}

fn threshold_of(name: &str) -> u64 {
    registry::get(name)
        .unwrap_or_else(|| panic!("{name} is registered"))
        .config()
        .error_threshold()
}

#[circuit_breaker(name = "configuration::tenants", key = "tenant", error_threshold = 40)]
fn bill(tenant: &str) -> Result<u32, BreakerError> {
    Ok(u32::try_from(tenant.len()).unwrap_or(0))
}

#[test]
fn a_family_is_configured_by_its_name_for_keys_made_before_after_and_again() {
    let _turn = serial();
    clear_overrides();
    let hosts: Keyed<String> = Keyed::new("configuration::upstreams", Config::default());
    let clock = TestClock::new();
    assert!(hosts.set_clock(&clock));
    hosts.call("10.0.0.1", || Ok::<(), ()>(())).unwrap();

    let applied = registry::apply(&toml(
        "[breakers.\"configuration::upstreams\"]\nerror_threshold = 20\n",
    ))
    .expect("a family is a configuration target");
    assert!(applied.waiting.is_empty());
    assert_eq!(
        threshold_of("configuration::upstreams/10.0.0.1"),
        20,
        "made before"
    );
    hosts.call("10.0.0.2", || Ok::<(), ()>(())).unwrap();
    assert_eq!(
        threshold_of("configuration::upstreams/10.0.0.2"),
        20,
        "made after"
    );

    // Idle for a whole window: evicted, then made again at its next call.
    clock.advance(Duration::from_secs(11));
    assert_eq!(hosts.evict_idle(), 2);
    assert!(registry::get("configuration::upstreams/10.0.0.1").is_none());
    hosts.call("10.0.0.1", || Ok::<(), ()>(())).unwrap();
    assert_eq!(
        threshold_of("configuration::upstreams/10.0.0.1"),
        20,
        "made again after its eviction"
    );

    // The annotated function's family, by its name, with its literals under the entry.
    assert_eq!(bill("acme"), Ok(4));
    assert_eq!(
        threshold_of("configuration::tenants/acme"),
        40,
        "its literal"
    );
    registry::apply(&toml(
        "[breakers.\"configuration::tenants\"]\nerror_threshold = 30\n",
    ))
    .unwrap();
    assert_eq!(threshold_of("configuration::tenants/acme"), 30);
    assert_eq!(bill("initech"), Ok(7));
    assert_eq!(threshold_of("configuration::tenants/initech"), 30);
    clear_overrides();
    assert_eq!(
        threshold_of("configuration::tenants/acme"),
        40,
        "back to its literal"
    );
}

#[test]
fn a_key_is_configured_before_its_first_call_and_a_reload_may_name_keys_not_seen() {
    let _turn = serial();
    clear_overrides();
    let hosts: Keyed<String> = Keyed::new("configuration::edges", Config::default());
    hosts.call("10.0.0.3", || Ok::<(), ()>(())).unwrap();

    // A file naming the family and a key it has not made yet: accepted, and said to wait.
    let applied = registry::apply(&toml(
        "[breakers.\"configuration::edges\"]\nerror_threshold = 20\n\n\
         [breakers.\"configuration::edges/10.0.0.9\"]\nerror_threshold = 25\n",
    ))
    .expect("a key not seen yet, of a known family");
    assert_eq!(applied.waiting, ["configuration::edges/10.0.0.9"]);
    hosts.call("10.0.0.9", || Ok::<(), ()>(())).unwrap();
    assert_eq!(
        threshold_of("configuration::edges/10.0.0.9"),
        25,
        "the key's entry, over the family's"
    );
    assert_eq!(threshold_of("configuration::edges/10.0.0.3"), 20);

    // The environment, with the key's host and port in its variable form, before the key.
    let applied = registry::apply(&env(&[(
        "BREAKER__CONFIGURATION__EDGES__127_0_0_1_38725__ERROR_THRESHOLD",
        "15",
    )]))
    .expect("a key of a known family, by its variable form");
    assert_eq!(applied.waiting.len(), 1, "{:?}", applied.waiting);
    hosts.call("127.0.0.1:38725", || Ok::<(), ()>(())).unwrap();
    assert_eq!(threshold_of("configuration::edges/127.0.0.1:38725"), 15);
    assert_eq!(
        threshold_of("configuration::edges/10.0.0.9"),
        25,
        "the file's key entry, under no variable"
    );

    // A family nobody made is still a typo.
    let error = registry::apply(&toml(
        "[breakers.\"configuration::egdes/10.0.0.9\"]\nerror_threshold = 25\n",
    ))
    .unwrap_err()
    .to_string();
    assert!(error.starts_with("no circuit breaker is named"), "{error}");
    // A value a key's configuration refuses is refused for the family, before any key.
    let error = registry::apply(&toml(
        "[breakers.\"configuration::edges/10.0.0.10\"]\nwindow_buckets = 7\n",
    ))
    .unwrap_err()
    .to_string();
    assert!(
        error.contains("configuration::edges/10.0.0.10")
            && error.contains("must be divisible by window_buckets (7)"),
        "{error}"
    );
    assert_eq!(
        threshold_of("configuration::edges/10.0.0.9"),
        25,
        "nothing half-applied"
    );
    clear_overrides();
}

#[test]
fn defaults_reach_every_breaker_made_in_code_under_the_keys_it_did_not_set() {
    let _turn = serial();
    clear_overrides();
    // A tower layer's breaker, made before the overrides, with one key set.
    let layer = CircuitBreakerLayer::new(
        "configuration::layer",
        Config::builder().error_threshold(10).build().unwrap(),
    );
    registry::apply(&env(&[
        ("BREAKER__DEFAULTS__SLEEP_WINDOW_MS", "9000"),
        ("BREAKER__DEFAULTS__ERROR_THRESHOLD", "35"),
    ]))
    .unwrap();
    let config = layer.breaker().config();
    assert_eq!(config.sleep_window(), Duration::from_secs(9), "a default");
    assert_eq!(config.error_threshold(), 10, "the key its code set");

    // Breakers made after the overrides: one asked for by name, one per host of a reqwest
    // client.
    let asked_later = registry::get_or_register("configuration::later", Config::default());
    assert_eq!(
        (
            asked_later.config().sleep_window(),
            asked_later.config().error_threshold()
        ),
        (Duration::from_secs(9), 35)
    );
    let server =
        support::serve(axum::Router::new().route("/", axum::routing::get(|| async { "up" })));
    let client = reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
        .with(CircuitBreakerMiddleware::per_host(
            "configuration::hosts",
            Config::default(),
        ))
        .build();
    let answer = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a Tokio runtime")
        .block_on(async {
            let answer = client.get(format!("http://{server}/")).send().await?;
            answer.text().await.map_err(reqwest_middleware::Error::from)
        })
        .expect("an answer");
    assert_eq!(answer, "up");
    let host = registry::get(&format!("configuration::hosts/{server}")).expect("a host's breaker");
    assert_eq!(host.config().sleep_window(), Duration::from_secs(9));
    assert_eq!(host.config().error_threshold(), 35);

    clear_overrides();
    assert_eq!(
        layer.breaker().config().sleep_window(),
        Duration::from_secs(5),
        "the built-in default again"
    );
}

#[test]
fn a_fleet_breaker_in_a_process_without_a_fleet_says_it_decides_alone() {
    let alone = registry::get_or_register(
        "configuration::alone",
        Config::builder().fleet(true).build().unwrap(),
    );
    let view = alone
        .metrics()
        .fleet
        .expect("fleet = true shows a fleet view");
    assert!(!view.started && view.stale, "{view:?}");
    let plain = registry::get_or_register("configuration::plain", Config::default());
    assert!(plain.metrics().fleet.is_none(), "no view without the key");
}
