//! `[shadow."<name>"]` in the overrides: a candidate run beside a registered breaker, checked
//! with the rest of the file, ended when its entry goes, promoted by name.

use std::sync::{Mutex, MutexGuard, PoisonError};

use fusebox::{CircuitBreaker, Config, Overrides, State, registry};

/// Each apply replaces the file's layer, shadows included: the tests take turns.
fn one_at_a_time() -> MutexGuard<'static, ()> {
    static TURN: Mutex<()> = Mutex::new(());
    TURN.lock().unwrap_or_else(PoisonError::into_inner)
}

#[test]
fn a_shadow_declared_in_the_overrides_runs_until_its_entry_goes() {
    let _turn = one_at_a_time();
    let live = registry::register(CircuitBreaker::new(
        "shadow-overrides::search",
        Config::builder()
            .error_threshold(40)
            .slow_call(std::time::Duration::from_millis(500))
            .build()
            .unwrap(),
    ))
    .unwrap();
    let declared = Overrides::from_toml_str(
        r#"
        [shadow."shadow-overrides::search"]
        consecutive_failures = 2
        policy = "adaptive"
        "#,
    )
    .unwrap();
    let applied = registry::apply(&declared).unwrap();
    assert_eq!(applied.shadows, ["shadow-overrides::search"]);
    let shadow = live.metrics().shadow.expect("a shadow");
    // The shadow's keys over the live configuration: its code's slow calls kept, its
    // threshold the adaptive policy's.
    assert_eq!(shadow.config.consecutive_failures(), Some(2));
    assert_eq!(
        shadow.config.slow_call(),
        Some(std::time::Duration::from_millis(500))
    );
    assert_eq!(shadow.config.policy(), fusebox::Policy::Adaptive);
    assert_eq!(shadow.config.error_threshold(), 61);
    for _ in 0..2 {
        let _ = live.call(|| Err::<(), _>("down"));
    }
    assert_eq!(live.state(), State::Closed);
    assert_eq!(live.metrics().shadow.unwrap().state, State::Open);

    // Applied again, the same entry keeps the shadow as it is.
    assert!(registry::apply(&declared).unwrap().shadows.is_empty());
    assert_eq!(live.metrics().shadow.unwrap().state, State::Open);

    // Gone from the file: the shadow ends.
    let applied = registry::apply(&Overrides::from_toml_str("").unwrap()).unwrap();
    assert_eq!(applied.shadows_ended, ["shadow-overrides::search"]);
    assert!(live.metrics().shadow.is_none());
    assert_eq!(registry::promote_shadow("shadow-overrides::search"), None);
}

#[test]
fn a_shadow_of_no_breaker_or_of_no_valid_configuration_is_refused_with_the_file() {
    let _turn = one_at_a_time();
    registry::register(CircuitBreaker::new(
        "shadow-overrides::ratings",
        Config::default(),
    ))
    .unwrap();
    let unknown =
        Overrides::from_toml_str("[shadow.\"shadow-overrides::ratingz\"]\nerror_threshold = 30\n")
            .unwrap();
    let error = registry::apply(&unknown).unwrap_err().to_string();
    assert!(error.contains("shadow-overrides::ratings"), "{error}");

    let invalid =
        Overrides::from_toml_str("[shadow.\"shadow-overrides::ratings\"]\nretry_budget = 30\n")
            .unwrap();
    let error = registry::apply(&invalid).unwrap_err().to_string();
    assert!(
        error.contains("shadow.shadow-overrides::ratings") && error.contains("retry"),
        "{error}"
    );
    assert!(
        registry::get("shadow-overrides::ratings")
            .unwrap()
            .metrics()
            .shadow
            .is_none()
    );
}

#[test]
fn a_promoted_shadow_is_the_configuration_in_force() {
    let _turn = one_at_a_time();
    let live = registry::register(CircuitBreaker::new(
        "shadow-overrides::cart",
        Config::default(),
    ))
    .unwrap();
    registry::apply(
        &Overrides::from_toml_str("[shadow.\"shadow-overrides::cart\"]\nerror_threshold = 25\n")
            .unwrap(),
    )
    .unwrap();
    let promoted = registry::promote_shadow("shadow-overrides::cart").unwrap();
    assert_eq!(promoted.error_threshold(), 25);
    assert_eq!(live.config().error_threshold(), 25);
    assert!(live.metrics().shadow.is_none());
}

#[test]
fn a_familys_shadow_reaches_its_keys_made_before_and_after() {
    let _turn = one_at_a_time();
    let hosts: fusebox::Keyed<String> =
        fusebox::Keyed::new("shadow-overrides::hosts", Config::default());
    let before = hosts.breaker("10.0.0.1");
    registry::apply(
        &Overrides::from_toml_str(
            "[shadow.\"shadow-overrides::hosts\"]\nconsecutive_failures = 1\n",
        )
        .unwrap(),
    )
    .unwrap();
    let after = hosts.breaker("10.0.0.2");
    for breaker in [&before, &after] {
        let shadow = breaker.metrics().shadow.expect("the family's shadow");
        assert_eq!(shadow.config.consecutive_failures(), Some(1));
    }
    let _ = after.call(|| Err::<(), _>("down"));
    assert_eq!(after.metrics().shadow.unwrap().state, State::Open);
    assert_eq!(before.metrics().shadow.unwrap().state, State::Closed);

    // Gone from the file: every key's shadow ends.
    registry::apply(&Overrides::from_toml_str("").unwrap()).unwrap();
    assert!(before.metrics().shadow.is_none() && after.metrics().shadow.is_none());
    assert!(hosts.breaker("10.0.0.3").metrics().shadow.is_none());
}
