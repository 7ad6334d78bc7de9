//! `policy = "adaptive"`: its invariants, on the test clock. It never sheds without failures;
//! under a total outage it sheds everything but its trials, which back off to one a second;
//! once the backend recovers it sheds nothing again within about a second. Overrides and the
//! environment take it by name.

use std::time::Duration;

use fusebox::{
    CircuitBreaker, Config, ConfigKey, Failure, Overrides, PartialConfig, Policy, State, TestClock,
};
use proptest::prelude::*;

fn adaptive() -> (CircuitBreaker, TestClock) {
    let breaker = CircuitBreaker::new(
        "adaptive",
        Config::builder().policy(Policy::Adaptive).build().unwrap(),
    );
    let clock = TestClock::new();
    assert!(breaker.set_clock(&clock));
    (breaker, clock)
}

/// A call that ends in `success` if it runs; whether it ran.
fn call(breaker: &CircuitBreaker, success: bool) -> bool {
    let result = breaker.call(|| if success { Ok(()) } else { Err(()) });
    !matches!(result, Err(Failure::Breaker(_)))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Successes at any pace, and up to three failures anywhere among them (a trip needs more
    /// than 60 % of at least five calls in a second): nothing is ever refused.
    #[test]
    fn never_sheds_without_a_majority_of_failures(
        gaps_ms in prop::collection::vec(0..300u64, 1..400),
        failures_at in prop::collection::vec(0..400usize, 0..=3),
    ) {
        let (breaker, clock) = adaptive();
        for (i, gap_ms) in gaps_ms.iter().enumerate() {
            clock.advance(Duration::from_millis(*gap_ms));
            let success = !failures_at.contains(&i);
            prop_assert!(call(&breaker, success), "call {i} refused");
        }
        prop_assert_eq!(breaker.metrics().counters.rejected, 0);
    }
}

#[test]
fn a_total_outage_is_shed_within_a_second_but_for_trials_that_back_off() {
    let (breaker, clock) = adaptive();
    // Healthy, 100 calls a second.
    for _ in 0..500 {
        clock.advance(Duration::from_millis(10));
        assert!(call(&breaker, true));
    }
    // Down: refused within a second.
    let mut ran = Vec::new();
    for i in 0..1_000 {
        clock.advance(Duration::from_millis(10));
        if call(&breaker, false) {
            ran.push(i);
        }
    }
    let first_refused = (0..1_000).find(|i| !ran.contains(i)).unwrap();
    assert!(
        first_refused < 100,
        "the first refusal came at call {first_refused}"
    );
    // Over the last five seconds only trials ran, one a second once backed off.
    let trials = ran.iter().filter(|&&i| i >= 500).count();
    assert!((4..=6).contains(&trials), "{trials} trials in 5 s: {ran:?}");
    assert_eq!(breaker.state(), State::Open);
    assert!(breaker.metrics().shed_percent >= 95);

    // Recovered: within about a second (the next trial), nothing is refused again.
    let mut refused_after = Vec::new();
    for i in 0..300 {
        clock.advance(Duration::from_millis(10));
        if !call(&breaker, true) {
            refused_after.push(i);
        }
    }
    let last = refused_after.last().copied().unwrap_or(0);
    assert!(last <= 100, "refused until call {last} after recovery");
    assert_eq!(breaker.state(), State::Closed);
    assert_eq!(breaker.metrics().shed_percent, 0);
}

#[test]
fn it_sets_the_keys_it_decides_by_and_leaves_the_others() {
    let config = Config::builder()
        .policy(Policy::Adaptive)
        .error_threshold(10)
        .consecutive_failures(3)
        .build()
        .unwrap();
    assert_eq!(config.policy(), Policy::Adaptive);
    assert_eq!(
        config.error_threshold(),
        61,
        "the policy's, not the builder's"
    );
    assert_eq!(config.request_volume_threshold(), 5);
    assert_eq!(config.sleep_window(), Duration::from_millis(100));
    assert_eq!(config.sleep_window_max(), Some(Duration::from_secs(1)));
    assert_eq!(
        config.consecutive_failures(),
        Some(3),
        "a key it does not set"
    );
    assert_eq!(Config::default().policy(), Policy::Threshold);
}

#[test]
fn overrides_and_the_environment_name_the_policy() {
    let overrides = Overrides::from_toml_str(
        r#"
        [breakers."search"]
        policy = "adaptive"
        "#,
    )
    .unwrap();
    let _ = overrides;
    let refused = Overrides::from_toml_str(
        r#"
        [breakers."search"]
        policy = "fast"
        "#,
    )
    .unwrap_err()
    .to_string();
    assert!(
        refused.contains("threshold") && refused.contains("adaptive"),
        "{refused}"
    );

    let from_env = Overrides::from_vars([(
        Overrides::variable("search", "policy"),
        "adaptive".to_owned(),
    )])
    .unwrap();
    let _ = from_env;
    let refused =
        Overrides::from_vars([(Overrides::variable("search", "policy"), "fast".to_owned())])
            .unwrap_err()
            .to_string();
    assert!(refused.contains("threshold, adaptive"), "{refused}");

    let mut partial = PartialConfig::new();
    partial.set("policy", 1).unwrap();
    assert_eq!(partial.policy, Some(Policy::Adaptive));
    assert!(partial.set("policy", 2).is_err());
    assert_eq!(ConfigKey::Policy.choices(), ["threshold", "adaptive"]);
}
