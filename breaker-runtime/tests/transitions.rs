//! Every transition of the state machine (documented on `CircuitBreaker`), driven by a `TestClock`: no sleeps.

use std::{
    pin::Pin,
    sync::{Arc, Mutex},
    task::{Context, Waker},
    time::Duration,
};

use breaker_runtime::{
    BreakerError, CircuitBreaker, Config, ConfigBuilder, Failure, State, TestClock, Transition,
};

/// A breaker on a test clock, plus the transitions it has reported.
struct Rig {
    breaker: CircuitBreaker,
    clock: TestClock,
    seen: Arc<Mutex<Vec<(State, State)>>>,
}

impl Rig {
    // By value, as the builder's own methods take it.
    #[allow(clippy::large_types_passed_by_value)]
    fn new(config: ConfigBuilder) -> Rig {
        let breaker = CircuitBreaker::new("under-test", config.build().expect("valid config"));
        let clock = TestClock::new();
        assert!(breaker.set_clock(&clock));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = Arc::clone(&seen);
        breaker.on_transition(move |t: &Transition| log.lock().unwrap().push((t.from, t.to)));
        Rig {
            breaker,
            clock,
            seen,
        }
    }

    fn ok(&self) -> Result<u32, Failure<&'static str>> {
        self.breaker.call(|| Ok(1))
    }

    fn fail(&self) -> Result<u32, Failure<&'static str>> {
        self.breaker.call(|| Err("boom"))
    }

    fn advance(&self, millis: u64) {
        self.clock.advance(Duration::from_millis(millis));
    }

    fn transitions(&self) -> Vec<(State, State)> {
        self.seen.lock().unwrap().clone()
    }
}

fn is_open_rejection<T: std::fmt::Debug>(result: &Result<T, Failure<&str>>) -> bool {
    matches!(result, Err(Failure::Breaker(BreakerError::Open { .. })))
}

/// Trips on the first failure: the shortest way to an open breaker.
fn trips_at_once() -> ConfigBuilder {
    Config::builder()
        .consecutive_failures(1)
        .sleep_window(Duration::from_secs(1))
}

#[test]
fn closed_stays_closed_below_the_volume_threshold() {
    let rig = Rig::new(
        Config::builder()
            .request_volume_threshold(5)
            .error_threshold(50),
    );
    for _ in 0..4 {
        let _ = rig.fail();
    }
    assert_eq!(
        rig.breaker.state(),
        State::Closed,
        "4 calls < volume threshold 5"
    );
    let _ = rig.fail();
    assert_eq!(rig.breaker.state(), State::Open);
    assert_eq!(rig.transitions(), [(State::Closed, State::Open)]);
}

#[test]
fn closed_trips_exactly_at_the_error_threshold() {
    let rig = Rig::new(
        Config::builder()
            .request_volume_threshold(4)
            .error_threshold(50),
    );
    let _ = rig.ok();
    let _ = rig.ok();
    let _ = rig.ok();
    let _ = rig.fail(); // 1 of 4 = 25 %
    assert_eq!(rig.breaker.state(), State::Closed);
    let _ = rig.fail(); // 2 of 5 = 40 %
    assert_eq!(rig.breaker.state(), State::Closed);
    let _ = rig.fail(); // 3 of 6 = 50 %: failures × 100 ≥ threshold × calls
    assert_eq!(rig.breaker.state(), State::Open);
}

#[test]
fn a_success_that_reaches_the_volume_threshold_trips() {
    let rig = Rig::new(
        Config::builder()
            .request_volume_threshold(4)
            .error_threshold(50),
    );
    let _ = rig.fail();
    let _ = rig.fail();
    let _ = rig.ok();
    assert_eq!(rig.breaker.state(), State::Closed, "3 calls < 4");
    let _ = rig.ok(); // 2 of 4 failed = 50 %, and now the volume is there
    assert_eq!(rig.breaker.state(), State::Open);
}

#[test]
fn a_success_trips_when_old_successes_have_aged_out() {
    // Window 1 s in 10 buckets of 100 ms.
    let rig = Rig::new(
        Config::builder()
            .request_volume_threshold(3)
            .error_threshold(60)
            .window(Duration::from_secs(1))
            .window_buckets(10),
    );
    for _ in 0..4 {
        let _ = rig.ok();
    }
    rig.advance(500);
    let _ = rig.fail();
    let _ = rig.fail(); // 2 of 6 = 33 %
    assert_eq!(rig.breaker.state(), State::Closed);
    rig.advance(600); // the four successes have left the window, the failures have not
    let _ = rig.ok(); // 2 of 3 = 66 %
    assert_eq!(rig.breaker.state(), State::Open);
}

#[test]
fn failures_age_out_of_the_window() {
    let rig = Rig::new(
        Config::builder()
            .request_volume_threshold(2)
            .error_threshold(50)
            .window(Duration::from_secs(1))
            .window_buckets(4),
    );
    let _ = rig.fail();
    rig.advance(1_000);
    let _ = rig.fail(); // the first failure is gone: 1 call < volume 2
    assert_eq!(rig.breaker.state(), State::Closed);
    assert_eq!(rig.breaker.metrics().failures, 1);
}

#[test]
fn consecutive_failures_trip_whatever_the_rate() {
    let rig = Rig::new(
        Config::builder()
            .consecutive_failures(3)
            .request_volume_threshold(1_000),
    );
    let _ = rig.fail();
    let _ = rig.fail();
    let _ = rig.ok(); // breaks the run
    let _ = rig.fail();
    let _ = rig.fail();
    assert_eq!(rig.breaker.state(), State::Closed);
    let _ = rig.fail();
    assert_eq!(rig.breaker.state(), State::Open);
}

#[test]
fn open_rejects_until_the_sleep_window_has_passed() {
    let rig = Rig::new(trips_at_once());
    let _ = rig.fail();
    rig.advance(400);
    let rejected = rig.ok();
    assert!(is_open_rejection(&rejected));
    let Err(Failure::Breaker(BreakerError::Open {
        retry_in, state, ..
    })) = rejected
    else {
        unreachable!()
    };
    assert_eq!(retry_in, Some(Duration::from_millis(600)));
    assert_eq!(state, State::Open);
    rig.advance(599);
    assert!(is_open_rejection(&rig.ok()));
    assert_eq!(
        rig.breaker.state(),
        State::Open,
        "no background thread moves it"
    );
    rig.advance(1);
    assert_eq!(
        rig.ok(),
        Ok(1),
        "the first call after the sleep window is a trial"
    );
    assert_eq!(
        rig.transitions(),
        [
            (State::Closed, State::Open),
            (State::Open, State::HalfOpen),
            (State::HalfOpen, State::Closed)
        ]
    );
}

#[test]
fn a_failed_trial_reopens_for_a_new_sleep_window() {
    let rig = Rig::new(trips_at_once());
    let _ = rig.fail();
    rig.advance(1_000);
    assert_eq!(rig.fail(), Err(Failure::Error("boom")));
    assert_eq!(rig.breaker.state(), State::Open);
    rig.advance(999);
    assert!(is_open_rejection(&rig.ok()), "the sleep window restarted");
    rig.advance(1);
    assert_eq!(rig.ok(), Ok(1));
    assert_eq!(rig.breaker.state(), State::Closed);
}

#[test]
fn half_open_closes_only_after_all_trials_succeed_and_rejects_beyond_them() {
    let rig = Rig::new(trips_at_once().half_open_max_calls(3));
    let _ = rig.fail();
    rig.advance(1_000);
    assert_eq!(rig.ok(), Ok(1));
    assert_eq!(rig.ok(), Ok(1));
    assert_eq!(rig.breaker.state(), State::HalfOpen, "two of three trials");
    assert_eq!(rig.ok(), Ok(1));
    assert_eq!(rig.breaker.state(), State::Closed);
    let metrics = rig.breaker.metrics();
    assert_eq!(
        (metrics.calls, metrics.rejections),
        (0, 0),
        "closed with an empty window"
    );
}

#[test]
fn half_open_rejects_calls_beyond_its_permits() {
    let rig = Rig::new(trips_at_once().half_open_max_calls(1));
    let _ = rig.fail();
    rig.advance(1_000);
    // The trial is in flight while a second call arrives.
    let nested = rig.breaker.call(|| {
        let second = rig.ok();
        assert!(matches!(
            second,
            Err(Failure::Breaker(BreakerError::Open {
                state: State::HalfOpen,
                retry_in: None,
                ..
            }))
        ));
        Ok::<_, &str>(2)
    });
    assert_eq!(nested, Ok(2));
    assert_eq!(rig.breaker.state(), State::Closed);
}

#[test]
fn a_slow_success_from_before_the_trip_does_not_close_it() {
    let rig = Rig::new(trips_at_once());
    let slow = rig.breaker.call(|| {
        let _ = rig.fail(); // meanwhile another call trips the breaker
        assert_eq!(rig.breaker.state(), State::Open);
        Ok::<_, &str>(7)
    });
    assert_eq!(slow, Ok(7), "the caller still gets its value");
    assert_eq!(
        rig.breaker.state(),
        State::Open,
        "admitted while closed: no say now"
    );
    assert_eq!(
        rig.breaker.metrics().successes,
        0,
        "and not counted in the new period"
    );
}

#[test]
fn a_late_failure_does_not_reopen_a_circuit_that_has_closed_since() {
    let rig = Rig::new(trips_at_once());
    let late = rig.breaker.call(|| {
        // While this call runs, the breaker trips, sleeps, and a trial closes it again.
        let _ = rig.fail();
        rig.advance(1_000);
        assert_eq!(rig.ok(), Ok(1));
        assert_eq!(rig.breaker.state(), State::Closed);
        Err::<u32, _>("late")
    });
    assert_eq!(
        late,
        Err(Failure::Error("late")),
        "the caller still gets its error"
    );
    assert_eq!(
        rig.breaker.state(),
        State::Closed,
        "one failure would trip a new period"
    );
    assert_eq!(rig.breaker.metrics().failures, 0);
}

#[test]
fn a_trial_outliving_a_reset_has_no_say() {
    let rig = Rig::new(trips_at_once().half_open_max_calls(1));
    let _ = rig.fail();
    rig.advance(1_000);
    let trial = rig.breaker.call(|| {
        assert_eq!(rig.breaker.state(), State::HalfOpen);
        rig.breaker.reset();
        Err::<u32, _>("late")
    });
    assert_eq!(trial, Err(Failure::Error("late")));
    assert_eq!(
        rig.breaker.state(),
        State::Closed,
        "a counted trial failure would re-open"
    );
    assert_eq!(rig.breaker.metrics().failures, 0);
}

#[test]
fn forced_open_rejects_everything_and_never_half_opens() {
    let rig = Rig::new(trips_at_once());
    rig.breaker.force_open();
    assert!(matches!(
        rig.ok(),
        Err(Failure::Breaker(BreakerError::Open {
            state: State::ForcedOpen,
            retry_in: None,
            ..
        }))
    ));
    rig.advance(1_000_000);
    assert!(is_open_rejection(&rig.ok()));
    assert_eq!(rig.breaker.state(), State::ForcedOpen);
    rig.breaker.release();
    assert_eq!(rig.breaker.state(), State::Closed);
    assert_eq!(rig.ok(), Ok(1));
}

#[test]
fn forced_closed_admits_everything_counts_and_never_trips() {
    let rig = Rig::new(trips_at_once());
    rig.breaker.force_closed();
    for _ in 0..10 {
        assert_eq!(rig.fail(), Err(Failure::Error("boom")));
    }
    assert_eq!(rig.breaker.state(), State::ForcedClosed);
    assert_eq!(rig.breaker.metrics().failures, 10);
    rig.breaker.release();
    assert_eq!(rig.breaker.state(), State::Closed);
    assert_eq!(
        rig.breaker.metrics().failures,
        10,
        "release keeps the window"
    );
    let _ = rig.fail(); // consecutive count restarted at release: 1 ≥ 1
    assert_eq!(rig.breaker.state(), State::Open);
}

#[test]
fn forcing_works_from_open_and_half_open() {
    let rig = Rig::new(trips_at_once().half_open_max_calls(2));
    let _ = rig.fail();
    rig.breaker.force_closed();
    assert_eq!(rig.ok(), Ok(1));
    rig.breaker.force_open();
    assert_eq!(rig.breaker.state(), State::ForcedOpen);
    rig.breaker.force_open(); // already there: no transition
    rig.breaker.release();
    rig.breaker.release(); // not forced: nothing to release
    assert_eq!(
        rig.transitions(),
        [
            (State::Closed, State::Open),
            (State::Open, State::ForcedClosed),
            (State::ForcedClosed, State::ForcedOpen),
            (State::ForcedOpen, State::Closed)
        ]
    );
}

#[test]
fn reset_closes_from_any_state_with_an_empty_window() {
    let rig = Rig::new(trips_at_once());
    let _ = rig.fail();
    assert_eq!(rig.breaker.state(), State::Open);
    rig.breaker.reset();
    assert_eq!(rig.breaker.state(), State::Closed);
    let metrics = rig.breaker.metrics();
    assert_eq!((metrics.calls, metrics.failures), (0, 0));
    rig.breaker.force_open();
    rig.breaker.reset();
    assert_eq!(rig.breaker.state(), State::Closed);
}

#[test]
fn time_in_state_follows_the_clock() {
    let rig = Rig::new(trips_at_once());
    let _ = rig.fail();
    rig.advance(250);
    assert_eq!(
        rig.breaker.metrics().time_in_state,
        Duration::from_millis(250)
    );
}

/// A trial call's future, polled once: admitted and left running.
fn pending_trial(
    breaker: &CircuitBreaker,
) -> Pin<Box<impl Future<Output = Result<u32, Failure<&'static str>>> + '_>> {
    let mut call = Box::pin(breaker.call_async(std::future::pending::<Result<u32, &str>>()));
    let poll = call.as_mut().poll(&mut Context::from_waker(Waker::noop()));
    assert!(poll.is_pending(), "admitted and still running");
    call
}

#[test]
fn a_trial_dropped_after_its_half_open_period_gives_no_permit_to_the_next() {
    let rig = Rig::new(trips_at_once().half_open_max_calls(2));
    let _ = rig.fail();
    rig.advance(1_000);
    // The first half-open period: a trial that hangs, and one that fails and re-opens.
    let hung = pending_trial(&rig.breaker);
    let _ = rig.fail();
    assert_eq!(rig.breaker.state(), State::Open);
    rig.advance(1_000);
    // The second: one of its two trial permits taken…
    let _first = pending_trial(&rig.breaker);
    assert_eq!(rig.breaker.state(), State::HalfOpen);
    // …when the first period's hung trial is dropped: its permit belonged to that period.
    drop(hung);
    let _second = pending_trial(&rig.breaker);
    assert!(
        is_open_rejection(&rig.ok()),
        "both trial permits of this period are taken"
    );
}
