//! Configuration that reaches every breaker: a `Keyed` family configured by its name, for keys
//! made before the overrides, after them, and again after an eviction; a key's own entry before
//! its first call, in a file and in the environment; a reload naming a key not seen yet; a key
//! to come checked under both sources' entries, as it will be made; `defaults` under the keys
//! code did not set, for breakers made in code, a tower layer's and the reqwest middleware's
//! per-host breakers; and a breaker with `fleet = true` in a process that runs no fleet, which
//! says so.
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
fn a_key_to_come_is_checked_under_every_source_as_it_will_be_made() {
    let _turn = serial();
    clear_overrides();
    let mirrors: Keyed<String> = Keyed::new("configuration::mirrors", Config::default());
    let sleep_of = |key: &str| {
        let config = registry::get(&format!("configuration::mirrors/{key}"))
            .unwrap_or_else(|| panic!("{key} is made"))
            .config();
        (config.sleep_window(), config.sleep_window_max())
    };
    // The environment's entry for a key is over the file's when the key is made: a file whose
    // entry is valid only under its own value of a key the environment sets is refused, and
    // one invalid only under its own value is accepted.
    registry::apply(&env(&[
        (
            "BREAKER__CONFIGURATION__MIRRORS__A__SLEEP_WINDOW_MAX_MS",
            "6000",
        ),
        (
            "BREAKER__CONFIGURATION__MIRRORS__B__SLEEP_WINDOW_MS",
            "1000",
        ),
        (
            "BREAKER__CONFIGURATION__MIRRORS__B__SLEEP_WINDOW_MAX_MS",
            "1000",
        ),
    ]))
    .expect("each key valid under the environment's entries");
    let error = registry::apply(&toml(
        "[breakers.\"configuration::mirrors/a\"]\n\
         sleep_window_ms = 8000\nsleep_window_max_ms = 9000\n",
    ))
    .expect_err("key a would run with the environment's 6 s under the file's 8 s")
    .to_string();
    assert!(
        error.contains("configuration::mirrors/a")
            && error.contains("sleep_window_max_ms (6000) must be at least sleep_window_ms (8000)"),
        "{error}"
    );
    registry::apply(&toml(
        "[breakers.\"configuration::mirrors/b\"]\nsleep_window_ms = 3000\n",
    ))
    .expect("key b runs with the environment's 1 s, within its 1 s longest");
    // A file's defaults are checked against the environment's keys to come too.
    let error = registry::apply(&toml("[defaults]\nsleep_window_ms = 7000\n"))
        .expect_err("key a would run with the environment's 6 s under the defaults' 7 s")
        .to_string();
    assert!(
        error.contains("BREAKER__CONFIGURATION_MIRRORS_A__")
            && error.contains("sleep_window_max_ms (6000) must be at least sleep_window_ms (7000)"),
        "{error}"
    );
    for key in ["a", "b"] {
        mirrors.call(key, || Ok::<(), ()>(())).unwrap();
    }
    assert_eq!(
        sleep_of("a"),
        (Duration::from_secs(5), Some(Duration::from_secs(6)))
    );
    assert_eq!(
        sleep_of("b"),
        (Duration::from_secs(1), Some(Duration::from_secs(1)))
    );
    // Each made with the configuration checked, none refused it.
    if let Err(error) = registry::check() {
        assert!(
            !error.to_string().contains("configuration::mirrors"),
            "{error}"
        );
    }
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
