//! Replay and shadows: a recorded trace replayed on the same configuration makes the live
//! breaker's transitions at the same times; a candidate that trips sooner lets fewer failures
//! through; a shadow counts what a replay of the same outcomes counts; promotion keeps the
//! window.

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use fusebox::{
    CircuitBreaker, Config, PartialConfig, State, TestClock, Trace,
    simulate::{self, Scenario, SimulatedTransition},
};

/// Whether call `index` of 900 (ten a second) fails: healthy for 30 s, down for 30 s (every
/// call but one in ten), healthy again.
fn fails(index: u64) -> bool {
    (300..600).contains(&index) && !index.is_multiple_of(10)
}

/// A breaker recording its calls on a test clock that is not aligned to anything, and the
/// transitions it made, in milliseconds since its first call.
struct Live {
    breaker: CircuitBreaker,
    clock: TestClock,
    transitions: Arc<Mutex<Vec<(u64, State, State)>>>,
}

impl Live {
    fn new(config: Config) -> Live {
        let breaker = CircuitBreaker::new("live", config);
        let clock = TestClock::new();
        assert!(breaker.set_clock(&clock));
        // Off any bucket's boundary: the replay must find where the buckets were.
        clock.advance(Duration::from_millis(
            137 + 1000 - clock.now_ms() % 1000 + 60_000 - clock.now_ms() % 60_000,
        ));
        let transitions = Arc::new(Mutex::new(Vec::new()));
        let (heard, told) = (Arc::clone(&transitions), clock.clone());
        let first = told.now_ms();
        breaker.on_transition(move |transition| {
            heard
                .lock()
                .unwrap()
                .push((told.now_ms() - first, transition.from, transition.to));
        });
        Live {
            breaker,
            clock,
            transitions,
        }
    }

    /// 900 calls, ten a second, each taking 3 ms (15 ms, from the tenth second to the
    /// twentieth).
    fn drive(&self) {
        for index in 0..900 {
            let ran = if (100..200).contains(&index) { 15 } else { 3 };
            let _ = self.breaker.call(|| {
                self.clock.advance(Duration::from_millis(ran));
                if fails(index) { Err("down") } else { Ok(()) }
            });
            self.clock.advance(Duration::from_millis(100 - ran));
        }
    }

    fn transitions(&self) -> Vec<(u64, State, State)> {
        self.transitions.lock().unwrap().clone()
    }
}

fn replayed(transitions: &[SimulatedTransition]) -> Vec<(u64, State, State)> {
    transitions
        .iter()
        .map(|moved| {
            (
                u64::try_from(moved.at.as_millis()).unwrap(),
                moved.from,
                moved.to,
            )
        })
        .collect()
}

#[test]
fn a_recorded_trace_replayed_on_its_configuration_makes_the_same_transitions_at_the_same_times() {
    let config = Config::builder()
        .record(true)
        .request_volume_threshold(10)
        .window_buckets(10)
        .build()
        .unwrap();
    let live = Live::new(config);
    live.drive();
    let expected = live.transitions();
    assert!(
        expected.len() >= 4,
        "the outage trips it, trials fail, the recovery closes it: {expected:?}"
    );
    assert_eq!(expected.last().map(|moved| moved.2), Some(State::Closed));

    // Through its JSON lines, as `what_if` reads a trace a service served.
    let trace = Trace::from_json_lines(&live.breaker.trace().to_json_lines()).unwrap();
    assert_eq!(trace.calls.len(), 900);
    assert_eq!(trace, live.breaker.trace());
    let replay = simulate::replay(&trace, &[("recorded", trace.config)]);
    // Both from the first call's start.
    assert_eq!(replayed(&replay.reports[0].transitions), expected);
    let report = &replay.reports[0];
    assert_eq!(
        report.unknown,
        live.breaker.metrics().counters.rejected,
        "the calls the breaker refused are the unknown ones"
    );
    assert_eq!(report.successes_refused + report.failures_refused, 0);
    assert_eq!(
        report.failures_let_through,
        live.breaker.metrics().counters.failures
    );
}

#[test]
fn the_same_trace_gives_the_same_report() {
    let trace = Scenario::new()
        .phase(Duration::from_secs(20), 50, 2)
        .phase(Duration::from_secs(20), 50, 80)
        .phase(Duration::from_secs(20), 50, 2)
        .trace();
    let configs = [("default", Config::default())];
    assert_eq!(
        simulate::replay(&trace, &configs),
        simulate::replay(&trace, &configs)
    );
}

#[test]
fn a_candidate_that_trips_sooner_lets_fewer_failures_through() {
    let trace = Scenario::new()
        .phase(Duration::from_secs(30), 50, 1)
        .phase(Duration::from_secs(60), 50, 100)
        .phase(Duration::from_secs(30), 50, 1)
        .trace();
    let sooner = Config::builder()
        .request_volume_threshold(5)
        .window(Duration::from_secs(1))
        .sleep_window(Duration::from_millis(500))
        .build()
        .unwrap();
    let replay = simulate::replay(
        &trace,
        &[("hystrix", Config::default()), ("sooner", sooner)],
    );
    let (hystrix, quick) = (&replay.reports[0], &replay.reports[1]);
    assert!(
        quick.failures_let_through < hystrix.failures_let_through,
        "{replay}"
    );
    assert!(quick.first_refusal < hystrix.first_refusal, "{replay}");
    // Degraded from 30 s to 90 s, and neither refuses good calls long after.
    assert_eq!(replay.period, Duration::from_secs(1));
    assert_eq!(replay.periods.len(), 120);
    assert!(replay.periods[30].is_degraded() && !replay.periods[90].is_degraded());
    for report in &replay.reports {
        assert!(
            report.recovery_to_last_refusal.unwrap() <= Duration::from_secs(6),
            "{replay}"
        );
        assert_eq!(report.refused_per_period.len(), 120);
    }
    let svg = replay.chart("outage").svg();
    assert!(svg.contains("sooner: refused"));
}

#[test]
fn a_shadow_counts_what_a_replay_of_the_same_outcomes_counts() {
    let live = Live::new(
        Config::builder()
            .record(true)
            .request_volume_threshold(10)
            .build()
            .unwrap(),
    );
    let mut keys = PartialConfig::new();
    keys.request_volume_threshold = Some(5);
    keys.window_ms = Some(2_000);
    keys.slow_call_ms = Some(10);
    keys.sleep_window_ms = Some(1_000);
    live.breaker.set_shadow(&keys).unwrap();
    live.drive();

    let shadow = live.breaker.metrics().shadow.expect("a shadow");
    assert_eq!(shadow.config.window(), Duration::from_secs(2));
    assert_eq!(shadow.config.request_volume_threshold(), 5);
    let replay = simulate::replay(&live.breaker.trace(), &[("shadow", shadow.config)]);
    let report = &replay.reports[0];
    assert_eq!(
        (
            shadow.successes_refused,
            shadow.failures_refused,
            shadow.failures_let_through,
            shadow.unknown,
            shadow.transitions.total(),
        ),
        (
            report.successes_refused,
            report.failures_refused,
            report.failures_let_through,
            report.unknown,
            report.transitions.len() as u64,
        ),
        "{replay}"
    );
    assert!(
        shadow.refusals() > 0,
        "the shadow, for which 15 ms calls are slow, refuses calls"
    );
    assert_eq!(shadow.unknown, live.breaker.metrics().counters.rejected);
}

#[test]
fn a_shadow_tells_nobody_but_its_breakers_figures() {
    let live = CircuitBreaker::new("shadow-silent", Config::default());
    let heard = Arc::new(Mutex::new(Vec::new()));
    let told = Arc::clone(&heard);
    live.on_transition(move |transition| told.lock().unwrap().push(transition.to));
    let mut keys = PartialConfig::new();
    keys.consecutive_failures = Some(1);
    live.set_shadow(&keys).unwrap();
    let _ = live.call(|| Err::<(), _>("down"));
    let shadow = live.metrics().shadow.unwrap();
    assert_eq!(shadow.state, State::Open);
    assert_eq!(live.state(), State::Closed);
    assert!(heard.lock().unwrap().is_empty());
    // Declaring the same keys keeps it; other keys start a new one.
    live.set_shadow(&keys).unwrap();
    assert_eq!(live.metrics().shadow.unwrap().state, State::Open);
    keys.consecutive_failures = Some(2);
    live.set_shadow(&keys).unwrap();
    assert_eq!(live.metrics().shadow.unwrap().state, State::Closed);
    assert!(live.remove_shadow());
    assert!(live.metrics().shadow.is_none());
    assert!(!live.remove_shadow());
}

#[test]
fn a_shadow_that_makes_no_valid_configuration_is_refused() {
    let live = CircuitBreaker::new("shadow-invalid", Config::default());
    let mut keys = PartialConfig::new();
    keys.retry_budget = Some(10); // needs `retry`
    let error = live.set_shadow(&keys).unwrap_err();
    assert!(error.to_string().contains("retry"), "{error}");
    assert!(live.metrics().shadow.is_none());
}

#[test]
fn promotion_keeps_the_window_and_the_state() {
    let live = CircuitBreaker::new("promoted", Config::default());
    let clock = TestClock::new();
    assert!(live.set_clock(&clock));
    for index in 0..30 {
        let _ = live.call(|| if index % 3 == 0 { Err("down") } else { Ok(()) });
        clock.advance(Duration::from_millis(100));
    }
    let before = live.metrics();
    let mut keys = PartialConfig::new();
    keys.error_threshold = Some(30);
    live.set_shadow(&keys).unwrap();
    let promoted = live.promote_shadow().unwrap();
    assert_eq!(promoted.error_threshold(), 30);
    let after = live.metrics();
    assert_eq!(live.config().error_threshold(), 30);
    assert_eq!(
        (after.calls, after.failures, after.state),
        (before.calls, before.failures, before.state)
    );
    assert!(after.shadow.is_none());
    // The next failure trips it on the window it kept: 11 of 31 is over 30 %.
    let _ = live.call(|| Err::<(), _>("down"));
    assert_eq!(live.state(), State::Open);
    assert_eq!(live.promote_shadow(), None);
}

/// Calls `depth` nested calls of `breaker`, each started a millisecond after the one around
/// it and failing after it ran 10 ms more: the innermost ends first.
fn nested(breaker: &CircuitBreaker, clock: &TestClock, depth: u32) {
    let _ = breaker.call(|| {
        clock.advance(Duration::from_millis(1));
        if depth > 1 {
            nested(breaker, clock, depth - 1);
        }
        clock.advance(Duration::from_millis(10));
        Err::<(), _>("down")
    });
}

#[test]
fn calls_in_flight_when_the_shadow_trips_were_admitted_as_they_were_live() {
    let live = CircuitBreaker::new("in-flight", Config::builder().record(true).build().unwrap());
    let clock = TestClock::new();
    assert!(live.set_clock(&clock));
    let mut keys = PartialConfig::new();
    keys.consecutive_failures = Some(3);
    live.set_shadow(&keys).unwrap();
    nested(&live, &clock, 10);

    let shadow = live.metrics().shadow.unwrap();
    assert_eq!(shadow.state, State::Open);
    assert_eq!(
        (shadow.failures_let_through, shadow.failures_refused),
        (10, 0),
        "the seven calls that started before the trip ran, as they did live"
    );
    let replay = simulate::replay(&live.trace(), &[("shadow", shadow.config)]);
    let report = &replay.reports[0];
    assert_eq!(
        (report.failures_let_through, report.failures_refused),
        (10, 0)
    );
}

#[test]
fn a_replay_counts_calls_in_flight_against_max_concurrent() {
    // Ten calls a second, each running 350 ms: three or four in flight at once.
    let trace = Scenario::new()
        .phase(Duration::from_secs(10), 10, 0)
        .latency(Duration::from_millis(350))
        .trace();
    let two = Config::builder().max_concurrent(2).build().unwrap();
    let replay = simulate::replay(&trace, &[("unbounded", Config::default()), ("two", two)]);
    assert_eq!(replay.reports[0].successes_refused, 0);
    // Of every four calls in 400 ms, two find both places taken.
    let refused = replay.reports[1].successes_refused;
    assert!((45..=55).contains(&refused), "{refused} of 100: {replay}");
}

#[test]
fn a_trace_over_a_long_time_is_cut_into_a_bounded_number_of_periods() {
    // Two calls a year apart (a breaker called now and then, or a trace from elsewhere).
    let trace = Trace::from_json_lines(concat!(
        r#"{"at_ms":1000000,"kind":"failure","duration_us":1000000000}"#,
        "\n",
        r#"{"at_ms":31537000000,"kind":"success"}"#,
        "\n",
    ))
    .unwrap();
    let replay = simulate::replay(&trace, &[("default", Config::default())]);
    assert!(replay.periods.len() <= 86_401, "{}", replay.periods.len());
    assert_eq!(replay.period, Duration::from_secs(366));
    assert_eq!(replay.reports[0].failures_let_through, 1);
    assert!(replay.chart("a year").svg().contains("calls per 366 s"));
}

#[test]
fn a_trace_with_times_at_the_ends_of_the_clock_replays_without_overflow() {
    let trace = Trace::from_json_lines(&format!(
        "{}\n{}\n",
        r#"{"at_ms":0,"kind":"failure"}"#,
        format_args!(
            r#"{{"at_ms":{},"kind":"failure","duration_us":{}}}"#,
            u64::MAX,
            u64::MAX
        ),
    ))
    .unwrap();
    let replay = simulate::replay(&trace, &[("default", Config::default())]);
    assert!(replay.periods.len() <= 86_401);
    assert_eq!(replay.reports[0].failures_let_through, 2);
}

#[test]
fn the_calls_a_full_bulkhead_turned_away_are_turned_away_again_on_its_configuration() {
    let live = CircuitBreaker::new(
        "bulkhead-replayed",
        Config::builder()
            .record(true)
            .max_concurrent(1)
            .build()
            .unwrap(),
    );
    let clock = TestClock::new();
    assert!(live.set_clock(&clock));
    for _ in 0..20 {
        // A call in flight, and one more made while it runs: busy.
        let _ = live.call(|| {
            clock.advance(Duration::from_millis(5));
            let _ = live.call(|| Ok::<_, ()>(()));
            clock.advance(Duration::from_millis(5));
            Ok::<_, ()>(())
        });
        clock.advance(Duration::from_millis(90));
    }
    assert_eq!(live.metrics().counters.busy, 20);
    let trace = live.trace();
    let replay = simulate::replay(&trace, &[("recorded", trace.config)]);
    let report = &replay.reports[0];
    assert_eq!(
        (report.unknown, report.unknown_refused),
        (20, 20),
        "{replay}"
    );
}

#[test]
fn calls_refused_while_a_trial_ran_are_refused_again_on_the_recorded_configuration() {
    let live = CircuitBreaker::new(
        "trial-replayed",
        Config::builder()
            .record(true)
            .consecutive_failures(1)
            .sleep_window(Duration::from_millis(500))
            .build()
            .unwrap(),
    );
    let clock = TestClock::new();
    assert!(live.set_clock(&clock));
    let _ = live.call(|| Err::<(), _>("down"));
    clock.advance(Duration::from_millis(500));
    // The trial: while it runs, in its first millisecond and later, other calls are refused.
    let _ = live.call(|| {
        let _ = live.call(|| Ok::<_, &str>(()));
        clock.advance(Duration::from_millis(50));
        let _ = live.call(|| Ok::<_, &str>(()));
        clock.advance(Duration::from_millis(50));
        Ok::<_, &str>(())
    });
    assert_eq!(live.metrics().counters.rejected, 2);
    let trace = live.trace();
    let replay = simulate::replay(&trace, &[("recorded", trace.config)]);
    let report = &replay.reports[0];
    assert_eq!((report.unknown, report.unknown_refused), (2, 2), "{replay}");
}
