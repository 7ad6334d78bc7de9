//! Run-time configuration: every step of the precedence, hot reload on live breakers, and a
//! sweep of malformed input that must each be refused and change nothing.
//!
//! Overrides are process-wide layers, so the tests that apply them take turns (`SERIAL`).
#![deny(warnings, clippy::pedantic)]

// The helpers live beside the HTTP tests' in `tests/integration`, whose configuration tests use
// both.
#[path = "integration/tests/support/mod.rs"]
mod support;

use std::{
    sync::{Arc, Mutex, MutexGuard, PoisonError},
    time::Duration,
};
use support::{clear_overrides, env, toml};

use fusebox::{
    BreakerError, CircuitBreaker, Config, Overrides, OverridesError, State, TestClock,
    circuit_breaker, registry,
};

static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(PoisonError::into_inner)
}

#[circuit_breaker(error_threshold = 40, sleep_window_ms = 2000)]
fn search(query: u32) -> Result<u32, BreakerError> {
    Ok(query)
}

#[circuit_breaker(name = "overrides::pinned", error_threshold = 40)]
fn pinned() -> Result<(), BreakerError> {
    Ok(())
}

fn config_of(name: &str) -> Config {
    registry::get(name).expect("registered").config()
}

#[test]
fn each_layer_beats_the_one_below() {
    let _turn = serial();
    clear_overrides();
    let search = "overrides::search";
    // Built-in defaults < the attribute's literals.
    let compiled = config_of(search);
    assert_eq!(compiled.error_threshold(), 40);
    assert_eq!(compiled.request_volume_threshold(), 20);

    // `defaults` beat the built-in defaults, not the literals.
    let file = "[defaults]\nerror_threshold = 10\nrequest_volume_threshold = 5\n";
    let applied = registry::apply(&toml(file)).unwrap();
    assert!(applied.changed.iter().any(|change| change.name == search));
    assert_eq!(config_of(search).error_threshold(), 40);
    assert_eq!(config_of(search).request_volume_threshold(), 5);

    // `breakers.<name>` beats the literals.
    let file = format!("{file}[breakers.\"{search}\"]\nerror_threshold = 60\n");
    registry::apply(&toml(&file)).unwrap();
    assert_eq!(config_of(search).error_threshold(), 60);

    // The environment beats the file, whichever is applied last.
    registry::apply(&env(&[(
        "BREAKER__OVERRIDES__SEARCH__ERROR_THRESHOLD",
        "70",
    )]))
    .unwrap();
    assert_eq!(config_of(search).error_threshold(), 70);
    registry::apply(&toml(&file.replace("60", "65"))).unwrap();
    assert_eq!(config_of(search).error_threshold(), 70);

    // The environment's defaults beat the file's, and stay below the literals.
    registry::apply(&env(&[
        ("BREAKER__OVERRIDES__SEARCH__ERROR_THRESHOLD", "70"),
        ("BREAKER__DEFAULTS__REQUEST_VOLUME_THRESHOLD", "7"),
        ("BREAKER__DEFAULTS__SLEEP_WINDOW_MS", "9000"),
    ]))
    .unwrap();
    assert_eq!(config_of(search).request_volume_threshold(), 7);
    assert_eq!(config_of(search).sleep_window(), Duration::from_secs(2));

    // `reconfigure` beats everything, and later overrides leave that breaker alone.
    let pinned = registry::get("overrides::pinned").unwrap();
    let by_code = Config::builder().error_threshold(99).build().unwrap();
    pinned.reconfigure(by_code);
    let applied = registry::apply(&toml(
        "[breakers.\"overrides::pinned\"]\nerror_threshold = 5\n",
    ))
    .unwrap();
    assert_eq!(pinned.config(), by_code);
    assert!(
        applied
            .reconfigured
            .iter()
            .any(|name| name == "overrides::pinned")
    );

    // A layer replaced by one without a key falls back to the layer below.
    clear_overrides();
    assert_eq!(config_of(search), compiled);
    assert_eq!((search_call(), pinned_call()), (Ok(3), Ok(())));
}

fn search_call() -> Result<u32, BreakerError> {
    search(3)
}

fn pinned_call() -> Result<(), BreakerError> {
    pinned()
}

/// A breaker registered in code, on a test clock, under `name`.
fn live(name: &str, config: Config) -> (Arc<CircuitBreaker>, TestClock) {
    let breaker = registry::register(CircuitBreaker::new(name.to_owned(), config)).unwrap();
    let clock = TestClock::new();
    assert!(breaker.set_clock(&clock));
    (breaker, clock)
}

fn fail(breaker: &CircuitBreaker) {
    let _ = breaker.call(|| Err::<(), _>("down"));
}

fn succeed(breaker: &CircuitBreaker) {
    let _ = breaker.call(|| Ok::<_, ()>(()));
}

#[test]
fn hot_reload_keeps_the_state_and_the_window() {
    let _turn = serial();
    clear_overrides();
    let (breaker, clock) = live("overrides::hot", Config::default());
    for _ in 0..3 {
        fail(&breaker);
        succeed(&breaker);
    }
    let file =
        "[breakers.\"overrides::hot\"]\nrequest_volume_threshold = 7\nerror_threshold = 50\n";
    let applied = registry::apply(&toml(file)).unwrap();
    let change = applied
        .changed
        .iter()
        .find(|c| c.name == "overrides::hot")
        .unwrap();
    assert_eq!(
        change.to_string(),
        "overrides::hot: request_volume_threshold 20 → 7"
    );
    let metrics = breaker.metrics();
    assert_eq!(
        (metrics.calls, metrics.failures, metrics.state),
        (6, 3, State::Closed)
    );

    // The seventh call brings the kept window to the new volume threshold: 4 of 7 failed.
    fail(&breaker);
    assert_eq!(breaker.state(), State::Open);

    // A shorter sleep window applies to the open circuit from the next call.
    registry::apply(&toml(&format!("{file}sleep_window_ms = 100\n"))).unwrap();
    assert_eq!(breaker.state(), State::Open);
    clock.advance(Duration::from_millis(100));
    succeed(&breaker);
    assert_eq!(breaker.state(), State::Closed);
    // Without the file's table, the breaker is back to the configuration it was registered with.
    clear_overrides();
    assert_eq!(breaker.config(), Config::default());
    registry::remove("overrides::hot");
}

#[test]
fn the_policies_keys_come_from_files_and_the_environment_with_their_rules_checked() {
    let _turn = serial();
    clear_overrides();
    let (breaker, _clock) = live("overrides::policies", Config::default());
    let file = "[breakers.\"overrides::policies\"]\nslow_call_ms = 250\nslow_call_threshold = 40\n\
                sleep_window_max_ms = 60000\n";
    registry::apply(&toml(file)).unwrap();
    registry::apply(&env(&[
        ("BREAKER__OVERRIDES__POLICIES__SLEEP_WINDOW_JITTER", "10"),
        (
            "BREAKER__OVERRIDES__POLICIES__HALF_OPEN_MAX_WAIT_MS",
            "3000",
        ),
    ]))
    .unwrap();
    let config = breaker.config();
    assert_eq!(config.slow_call(), Some(Duration::from_millis(250)));
    assert_eq!(config.slow_call_threshold(), 40);
    assert_eq!(config.sleep_window_max(), Some(Duration::from_secs(60)));
    assert_eq!(config.sleep_window_jitter(), Some(10));
    assert_eq!(config.half_open_max_wait(), Some(Duration::from_secs(3)));

    // The rules between keys are checked on the merged layers, naming the breaker.
    let error = registry::apply(&toml(
        "[breakers.\"overrides::policies\"]\nsleep_window_max_ms = 1000\n",
    ))
    .unwrap_err()
    .to_string();
    assert!(error.contains("overrides::policies"), "{error}");
    assert!(
        error.contains("sleep_window_max_ms (1000) must be at least sleep_window_ms (5000)"),
        "{error}"
    );
    assert_eq!(breaker.config(), config, "nothing half-applied");
    clear_overrides();
    registry::remove("overrides::policies");
}

#[test]
fn fleet_is_a_flag_in_files_and_the_environment() {
    let _turn = serial();
    clear_overrides();
    let (breaker, _clock) = live("overrides::fleet", Config::default());
    assert!(!breaker.config().fleet(), "off by default");
    registry::apply(&toml("[breakers.\"overrides::fleet\"]\nfleet = true\n")).unwrap();
    assert!(breaker.config().fleet());
    // The environment beats the file, in any case; a breaker's own variable beats defaults.
    registry::apply(&env(&[
        ("BREAKER__OVERRIDES__FLEET__FLEET", "False"),
        ("BREAKER__DEFAULTS__FLEET", "1"),
    ]))
    .unwrap();
    assert!(!breaker.config().fleet());
    registry::apply(&env(&[])).unwrap();
    assert!(breaker.config().fleet(), "the file's layer again");
    let change = registry::apply(&Overrides::new()).unwrap();
    assert!(
        change
            .changed
            .iter()
            .any(|change| change.to_string() == "overrides::fleet: fleet true → false"),
        "{:?}",
        change
            .changed
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
    );
    for bad in ["yes", "2", ""] {
        let error = Overrides::from_vars([("BREAKER__OVERRIDES__FLEET__FLEET", bad)]).unwrap_err();
        assert!(
            error.to_string().contains("fleet must be true or false"),
            "{error}"
        );
    }
    let error = Overrides::from_toml_str("[breakers.x]\nfleet = 1\n").unwrap_err();
    assert!(error.to_string().contains("fleet"), "{error}");
    clear_overrides();
    registry::remove("overrides::fleet");
}

#[test]
fn lower_thresholds_judge_the_failures_already_in_the_window() {
    let _turn = serial();
    clear_overrides();
    let (breaker, _clock) = live("overrides::lowered", Config::default());
    for _ in 0..5 {
        fail(&breaker);
    }
    for _ in 0..15 {
        succeed(&breaker);
    }
    assert_eq!(breaker.state(), State::Closed, "25 % errors, under 50 %");
    registry::apply(&toml(
        "[breakers.\"overrides::lowered\"]\nerror_threshold = 20\n",
    ))
    .unwrap();
    // A success is the next outcome: it must look at the rate with the new threshold.
    succeed(&breaker);
    assert_eq!(
        breaker.state(),
        State::Open,
        "5 of 21 calls failed: 23 %, over 20 %"
    );
    registry::remove("overrides::lowered");
}

#[test]
fn a_smaller_window_keeps_the_buckets_inside_it() {
    let _turn = serial();
    clear_overrides();
    let (breaker, clock) = live("overrides::window", Config::default());
    // One failure per one-second bucket, over the whole 10 s window.
    for _ in 0..10 {
        fail(&breaker);
        clock.advance(Duration::from_secs(1));
    }
    assert_eq!(breaker.metrics().failures, 9, "the first bucket aged out");
    let file = "[breakers.\"overrides::window\"]\nwindow_ms = 5000\nwindow_buckets = 5\n";
    registry::apply(&toml(file)).unwrap();
    assert_eq!(breaker.config().window(), Duration::from_secs(5));
    assert_eq!(breaker.metrics().failures, 4, "the buckets of the last 5 s");
    clock.advance(Duration::from_secs(1));
    assert_eq!(
        breaker.metrics().failures,
        3,
        "and they age out one a second"
    );

    // More buckets than the breaker was made with: the window's length is exact.
    let file = "[breakers.\"overrides::window\"]\nwindow_ms = 20000\nwindow_buckets = 40\n";
    registry::apply(&toml(file)).unwrap();
    assert_eq!(breaker.config().window_buckets(), 40);
    assert_eq!(breaker.metrics().failures, 3);
    fail(&breaker);
    clock.advance(Duration::from_secs(18));
    assert_eq!(
        breaker.metrics().failures,
        1,
        "only the newest is inside 20 s"
    );
    registry::remove("overrides::window");
}

#[test]
fn unknown_names_get_the_closest_registered_one() {
    let _turn = serial();
    let error = registry::apply(&toml(
        "[breakers.\"overrides::serch\"]\nerror_threshold = 5\n",
    ))
    .unwrap_err();
    assert_eq!(
        error.to_string(),
        "no circuit breaker is named `overrides::serch`; did you mean `overrides::search`?"
    );
    let error = registry::apply(&toml("[breakers.search]\nerror_threshold = 5\n")).unwrap_err();
    assert!(
        error
            .to_string()
            .ends_with("did you mean `overrides::search`?"),
        "{error}"
    );
    let error =
        registry::apply(&env(&[("BREAKER__OVERRIDES__SERCH__ERROR_THRESHOLD", "5")])).unwrap_err();
    assert_eq!(
        error.to_string(),
        "no circuit breaker is named `BREAKER__OVERRIDES__SERCH__…`; did you mean `BREAKER__OVERRIDES__SEARCH__… (overrides::search)`?"
    );
    let error = registry::apply(&toml(
        "[breakers.\"overrides::search\"]\nwindow_buckets = 3\n",
    ))
    .unwrap_err();
    assert_eq!(
        error.to_string(),
        "circuit breaker `overrides::search`: window_ms (10000) must be divisible by window_buckets (3)"
    );
}

#[test]
fn names_alike_in_the_environment_are_ambiguous() {
    let _turn = serial();
    let a = registry::register(CircuitBreaker::new("overrides::a-b", Config::default())).unwrap();
    let b = registry::register(CircuitBreaker::new("overrides::a.b", Config::default())).unwrap();
    let error =
        registry::apply(&env(&[("BREAKER__OVERRIDES__A_B__ERROR_THRESHOLD", "5")])).unwrap_err();
    assert!(
        matches!(error, OverridesError::AmbiguousName { ref names, .. } if names.len() == 2),
        "{error}"
    );
    assert_eq!(
        (a.config(), b.config()),
        (Config::default(), Config::default())
    );
    registry::remove(a.name());
    registry::remove(b.name());
}

/// Documents that must each be refused: generated over every key, value and place.
fn malformed_documents() -> Vec<String> {
    let keys = [
        ("error_threshold", 100),
        ("request_volume_threshold", u64::from(u32::MAX)),
        ("window_ms", 86_400_000),
        ("window_buckets", 1_000),
        ("sleep_window_ms", 86_400_000),
        ("half_open_max_calls", 65_535),
        ("consecutive_failures", u64::from(u32::MAX)),
        ("timeout_ms", 86_400_000),
        ("max_concurrent", u64::from(u32::MAX)),
        ("slow_call_ms", 86_400_000),
        ("slow_call_threshold", 100),
        ("sleep_window_max_ms", 86_400_000),
        ("sleep_window_jitter", 100),
        ("half_open_max_wait_ms", 86_400_000),
    ];
    let places = [
        "[defaults]",
        "[breakers.\"overrides::search\"]",
        "[breakers.\"overrides::nowhere\"]",
    ];
    let mut documents = Vec::new();
    for (key, max) in keys {
        let values = [
            "-1".to_owned(),
            "0".to_owned(),
            (max + 1).to_string(),
            "\"50\"".to_owned(),
            "1.5".to_owned(),
            "true".to_owned(),
            "[1]".to_owned(),
            "{ a = 1 }".to_owned(),
            "99999999999999999999".to_owned(),
            String::new(),
        ];
        for place in places {
            for value in &values {
                documents.push(format!("{place}\n{key} = {value}\n"));
            }
            documents.push(format!("{place}\n{key}s = 10\n"));
            documents.push(format!("{place}\n{} = 10\n", key.to_uppercase()));
        }
    }
    for window in [
        "window_ms = 1000\nwindow_buckets = 3",
        "window_ms = 100\nwindow_buckets = 20",
    ] {
        for place in &places[..2] {
            documents.push(format!("{place}\n{window}\n"));
        }
    }
    documents.extend(
        [
            "[defaults",
            "[defaults]\nerror_threshold",
            "[defaults]\nerror_threshold = = 5",
            "[breakers]\nsearch = 5",
            "[breakers.\"overrides::search\"]\n[breakers.\"overrides::search\"]",
            "[defaults]\nerror_threshold = 5\nerror_threshold = 6",
            "[default]\nerror_threshold = 5",
            "defaults = 5",
            "breakers = []",
            "[breakers.\"\"]\nerror_threshold = 5",
            "[breakers.\"overrides::search\".nested]\nerror_threshold = 5",
            "\u{0}",
            "[defaults]\nerror_threshold = 5 # ok\n[extra]",
        ]
        .map(str::to_owned),
    );
    documents
}

/// Variables that must each be refused.
fn malformed_variables() -> Vec<Vec<(String, String)>> {
    let mut sets = Vec::new();
    for key in [
        "ERROR_THRESHOLD",
        "WINDOW_MS",
        "HALF_OPEN_MAX_CALLS",
        "MAX_CONCURRENT",
    ] {
        for value in [
            "",
            "abc",
            "-1",
            "1.5",
            "0",
            "99999999999999999999",
            "18446744073709551615",
        ] {
            for name in ["DEFAULTS", "OVERRIDES__SEARCH", "OVERRIDES__NOWHERE"] {
                sets.push(vec![(format!("BREAKER__{name}__{key}"), value.to_owned())]);
            }
        }
    }
    for variable in [
        "BREAKER__OVERRIDES__SEARCH",
        "BREAKER__ERROR_THRESHOLD",
        "BREAKER__X__THRESHOLD",
        "BREAKER__OVERRIDES__SEARCH__MAX_KEYS",
    ] {
        sets.push(vec![(variable.to_owned(), "5".to_owned())]);
    }
    sets
}

fn every_config() -> Vec<(String, Config)> {
    registry::all()
        .iter()
        .map(|breaker| (breaker.name().to_owned(), breaker.config()))
        .collect()
}

#[test]
fn malformed_input_is_refused_and_changes_nothing() {
    let _turn = serial();
    clear_overrides();
    let before = every_config();
    let mut refused = 0;
    for document in malformed_documents() {
        let outcome =
            Overrides::from_toml_str(&document).and_then(|overrides| registry::apply(&overrides));
        let error = outcome.expect_err(&document);
        assert!(!error.to_string().is_empty());
        assert_eq!(every_config(), before, "{document}");
        refused += 1;
    }
    for vars in malformed_variables() {
        let outcome =
            Overrides::from_vars(vars.clone()).and_then(|overrides| registry::apply(&overrides));
        let error = outcome.expect_err(&format!("{vars:?}"));
        assert!(
            error.to_string().starts_with("BREAKER__")
                || error.to_string().contains("circuit breaker"),
            "{error}"
        );
        assert_eq!(every_config(), before, "{vars:?}");
        refused += 1;
    }
    assert!(refused > 300, "{refused} inputs");
}

#[test]
fn a_file_that_cannot_be_read_or_parsed_names_itself() {
    let missing = Overrides::from_toml_file("no/such/breakers.toml").unwrap_err();
    assert!(
        missing
            .to_string()
            .starts_with("cannot read no/such/breakers.toml: "),
        "{missing}"
    );
    let dir = std::env::temp_dir().join(format!("fusebox-overrides-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("breakers.toml");
    std::fs::write(
        &path,
        "[defaults]\nerror_threshold = 5\nsleep_window_ms = \"soon\"\n",
    )
    .unwrap();
    let error = Overrides::from_toml_file(&path).unwrap_err().to_string();
    assert!(
        error.starts_with(&format!("{}: ", path.display())),
        "{error}"
    );
    assert!(error.contains("line 3, column 19"), "{error}");
    std::fs::write(&path, "[defaults]\nerror_threshold = 5\n").unwrap();
    assert_eq!(
        Overrides::from_toml_file(&path)
            .unwrap()
            .defaults
            .error_threshold,
        Some(5)
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn config_and_metrics_serialize_with_the_attribute_keys() {
    let config = Config::builder()
        .error_threshold(30)
        .max_concurrent(4)
        .build()
        .unwrap();
    let text = toml_text(&config);
    assert_eq!(
        text,
        "error_threshold = 30\nrequest_volume_threshold = 20\nwindow_ms = 10000\nwindow_buckets = 10\nsleep_window_ms = 5000\nhalf_open_max_calls = 1\nmax_concurrent = 4\n"
    );
    let back: Config = Overrides::from_toml_str(&format!("[defaults]\n{text}"))
        .unwrap()
        .defaults
        .build()
        .unwrap();
    assert_eq!(back, config);
    let breaker = CircuitBreaker::new("serialized", config);
    succeed(&breaker);
    let metrics = toml_text(&breaker.metrics());
    assert!(
        metrics.starts_with("state = \"closed\"\ncalls = 1\nsuccesses = 1\n"),
        "{metrics}"
    );
    assert!(metrics.contains("time_in_state_ms = "), "{metrics}");
}

fn toml_text(value: &impl serde::Serialize) -> String {
    toml::to_string(value).unwrap()
}
