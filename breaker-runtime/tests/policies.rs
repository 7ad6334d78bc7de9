//! The policies beyond Hystrix's, each on a `TestClock` (no sleeps): slow calls
//! (`slow_call_ms`, `slow_call_threshold`), open-duration backoff with jitter
//! (`sleep_window_max_ms`, `sleep_window_jitter`) and the half-open period that cannot hang
//! (`half_open_max_wait_ms`).

use std::{
    future::Future,
    pin::Pin,
    sync::{Arc, Mutex},
    task::{Context, Poll, Waker},
    time::Duration,
};

use breaker_runtime::{
    BreakerError, CircuitBreaker, Config, ConfigBuilder, Failure, State, TestClock, Transition,
};

type Answer = Result<u32, Failure<&'static str>>;

/// A breaker on a test clock, plus the transitions it has reported.
struct Rig {
    breaker: CircuitBreaker,
    clock: TestClock,
    seen: Arc<Mutex<Vec<(State, State)>>>,
}

impl Rig {
    #[allow(clippy::large_types_passed_by_value)] // as the builder's methods take it
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

    /// A call that takes `millis` on the clock and then answers `answer`.
    fn taking(&self, millis: u64, answer: Result<u32, &'static str>) -> Answer {
        self.breaker.call(|| {
            self.clock.advance(Duration::from_millis(millis));
            answer
        })
    }

    fn ok(&self) -> Answer {
        self.taking(0, Ok(1))
    }

    fn fail(&self) -> Answer {
        self.taking(0, Err("boom"))
    }

    fn advance(&self, millis: u64) {
        self.clock.advance(Duration::from_millis(millis));
    }

    fn transitions(&self) -> Vec<(State, State)> {
        self.seen.lock().unwrap().clone()
    }

    /// How long the open circuit says a caller must wait, from a rejected call.
    fn retry_in(&self) -> Option<Duration> {
        match self.ok() {
            Err(Failure::Breaker(BreakerError::Open { retry_in, .. })) => retry_in,
            other => panic!("expected a rejection as open, got {other:?}"),
        }
    }
}

fn slow_calls(limit_ms: u64, threshold: u64) -> ConfigBuilder {
    Config::builder()
        .request_volume_threshold(4)
        .error_threshold(100)
        .slow_call(Duration::from_millis(limit_ms))
        .slow_call_threshold(threshold)
}

#[test]
fn slow_calls_trip_the_breaker_at_their_threshold_with_the_volume_reached() {
    let rig = Rig::new(slow_calls(100, 50));
    assert!(rig.ok().is_ok());
    assert!(rig.taking(101, Ok(1)).is_ok(), "slow, and a success");
    assert!(rig.ok().is_ok());
    assert_eq!(rig.breaker.state(), State::Closed, "below the volume");
    assert!(rig.taking(250, Ok(1)).is_ok());
    // 2 slow calls of 4: 50 %.
    assert_eq!(rig.breaker.state(), State::Open);
    let metrics = rig.breaker.metrics();
    assert_eq!(
        (metrics.successes, metrics.failures, metrics.slow_calls),
        (4, 0, 2)
    );
    assert_eq!((metrics.slow_call_percent, metrics.error_percent), (50, 0));
    assert_eq!(metrics.counters.slow, 2);
    assert_eq!(rig.transitions(), [(State::Closed, State::Open)]);
}

#[test]
fn a_call_is_slow_only_past_the_limit_and_only_with_the_key_set() {
    let rig = Rig::new(slow_calls(100, 25));
    for _ in 0..4 {
        assert!(rig.taking(100, Ok(1)).is_ok());
    }
    assert_eq!(
        rig.breaker.metrics().slow_calls,
        0,
        "exactly the limit is not slow"
    );
    assert_eq!(rig.breaker.state(), State::Closed);

    let untimed = Rig::new(Config::builder().request_volume_threshold(1));
    assert!(untimed.taking(3_600_000, Ok(1)).is_ok());
    assert_eq!(untimed.breaker.metrics().slow_calls, 0);
    assert_eq!(untimed.breaker.state(), State::Closed);
}

#[test]
fn a_slow_failure_is_both_slow_and_a_failure() {
    let rig = Rig::new(slow_calls(100, 100).error_threshold(75));
    assert!(rig.taking(500, Err("late and wrong")).is_err());
    let metrics = rig.breaker.metrics();
    assert_eq!((metrics.failures, metrics.slow_calls), (1, 1));
    assert_eq!(rig.breaker.metrics().counters.failures, 1);
    for _ in 0..3 {
        assert!(rig.ok().is_ok());
    }
    // 1 failure and 1 slow call of 4: under both thresholds.
    assert_eq!(rig.breaker.state(), State::Closed);
}

#[test]
fn a_fast_success_that_brings_the_volume_up_trips_on_the_slow_rate() {
    let rig = Rig::new(slow_calls(100, 50));
    assert!(rig.taking(200, Ok(1)).is_ok());
    assert!(rig.taking(200, Ok(1)).is_ok());
    assert!(rig.ok().is_ok());
    assert_eq!(rig.breaker.state(), State::Closed);
    // The fourth call is fast, but it makes the volume: 2 of 4 slow.
    assert!(rig.ok().is_ok());
    assert_eq!(rig.breaker.state(), State::Open);
}

#[test]
fn slow_calls_age_out_of_the_window_but_not_out_of_the_counters() {
    let rig = Rig::new(
        slow_calls(100, 50)
            .window(Duration::from_secs(1))
            .window_buckets(10),
    );
    assert!(rig.taking(200, Ok(1)).is_ok());
    rig.advance(2_000);
    for _ in 0..4 {
        assert!(rig.ok().is_ok());
    }
    assert_eq!(
        rig.breaker.state(),
        State::Closed,
        "the slow call has aged out"
    );
    let metrics = rig.breaker.metrics();
    assert_eq!((metrics.slow_calls, metrics.counters.slow), (0, 1));
}

#[test]
fn a_slow_trial_reopens_the_circuit() {
    let rig = Rig::new(
        slow_calls(100, 100)
            .consecutive_failures(1)
            .sleep_window(Duration::from_millis(500)),
    );
    assert!(rig.fail().is_err());
    assert_eq!(rig.breaker.state(), State::Open);
    rig.advance(500);
    assert!(
        rig.taking(300, Ok(7)).is_ok(),
        "the trial's answer reaches the caller"
    );
    assert_eq!(rig.breaker.state(), State::Open, "too slow to close on");
    rig.advance(500);
    assert!(rig.taking(50, Ok(7)).is_ok());
    assert_eq!(rig.breaker.state(), State::Closed);
    assert_eq!(
        rig.transitions(),
        [
            (State::Closed, State::Open),
            (State::Open, State::HalfOpen),
            (State::HalfOpen, State::Open),
            (State::Open, State::HalfOpen),
            (State::HalfOpen, State::Closed),
        ]
    );
}

fn backoff() -> ConfigBuilder {
    Config::builder()
        .consecutive_failures(1)
        .sleep_window(Duration::from_millis(100))
        .sleep_window_max(Duration::from_secs(1))
}

#[test]
fn each_failed_trial_doubles_the_sleep_window_up_to_the_maximum() {
    let rig = Rig::new(backoff());
    assert!(rig.fail().is_err());
    let mut sleeps = Vec::new();
    for _ in 0..6 {
        let sleep = rig.retry_in().expect("open, with a known wait");
        sleeps.push(sleep.as_millis());
        // One millisecond short, still open and a millisecond to go.
        rig.advance(u64::try_from(sleep.as_millis()).unwrap() - 1);
        assert_eq!(rig.retry_in(), Some(Duration::from_millis(1)));
        rig.advance(1);
        assert!(rig.fail().is_err(), "the trial runs, and fails");
    }
    assert_eq!(sleeps, [100, 200, 400, 800, 1_000, 1_000]);
}

#[test]
fn closing_starts_the_backoff_again_from_the_first_sleep_window() {
    let rig = Rig::new(backoff());
    assert!(rig.fail().is_err());
    rig.advance(100);
    assert!(rig.fail().is_err());
    assert_eq!(rig.retry_in(), Some(Duration::from_millis(200)));
    rig.advance(200);
    assert!(rig.ok().is_ok());
    assert_eq!(rig.breaker.state(), State::Closed);
    assert!(rig.fail().is_err());
    assert_eq!(rig.retry_in(), Some(Duration::from_millis(100)));
}

#[test]
fn the_rejection_says_the_real_remaining_wait() {
    let rig = Rig::new(backoff());
    assert!(rig.fail().is_err());
    rig.advance(100);
    assert!(rig.fail().is_err());
    rig.advance(50);
    let Err(Failure::Breaker(error)) = rig.ok() else {
        panic!("rejected")
    };
    assert_eq!(
        error.to_string(),
        "circuit breaker `under-test` is open; next trial call in 150 ms"
    );
}

#[test]
fn forced_states_know_no_backoff() {
    let rig = Rig::new(backoff());
    assert!(rig.fail().is_err());
    rig.advance(100);
    assert!(rig.fail().is_err());
    rig.breaker.force_open();
    assert_eq!(rig.retry_in(), None, "forced open: no trial to wait for");
    rig.advance(10_000);
    assert_eq!(rig.breaker.state(), State::ForcedOpen);
    rig.breaker.release();
    assert!(rig.fail().is_err());
    assert_eq!(
        rig.retry_in(),
        Some(Duration::from_millis(100)),
        "released: the streak is gone"
    );
}

#[test]
fn jitter_spreads_the_half_opens_of_breakers_that_opened_together() {
    let clock = TestClock::new();
    let config = Config::builder()
        .consecutive_failures(1)
        .sleep_window(Duration::from_secs(1))
        .sleep_window_jitter(50)
        .build()
        .unwrap();
    let sleeps: Vec<u128> = (0..200)
        .map(|i| {
            let breaker = CircuitBreaker::new(format!("instance-{i}"), config);
            assert!(breaker.set_clock(&clock));
            let _ = breaker.call(|| Err::<(), _>("down"));
            match breaker.call(|| Ok::<_, ()>(())) {
                Err(Failure::Breaker(BreakerError::Open {
                    retry_in: Some(wait),
                    ..
                })) => wait.as_millis(),
                other => panic!("expected a rejection as open, got {other:?}"),
            }
        })
        .collect();
    assert!(sleeps.iter().all(|&sleep| (1_000..=1_500).contains(&sleep)));
    let earliest = sleeps.iter().min().unwrap();
    let latest = sleeps.iter().max().unwrap();
    assert!(
        latest - earliest > 250,
        "200 draws over 500 ms spread over more than half of it: {earliest}..{latest}"
    );
}

#[test]
fn jitter_and_backoff_together_stay_within_the_maximum_lengthened_by_the_jitter() {
    let rig = Rig::new(backoff().sleep_window_jitter(20));
    assert!(rig.fail().is_err());
    for (floor, ceiling) in [
        (100, 120),
        (200, 240),
        (400, 480),
        (800, 960),
        (1_000, 1_200),
    ] {
        let sleep = rig.retry_in().unwrap().as_millis();
        assert!(
            (floor..=ceiling).contains(&sleep),
            "{sleep} in {floor}..={ceiling}"
        );
        rig.advance(u64::try_from(sleep).unwrap());
        assert!(rig.fail().is_err());
    }
}

/// An async trial call admitted and left hanging.
fn hanging_trial(breaker: &CircuitBreaker) -> Pin<Box<impl Future<Output = Answer> + '_>> {
    let mut call = Box::pin(breaker.call_async(std::future::pending::<Result<u32, &str>>()));
    let poll = call.as_mut().poll(&mut Context::from_waker(Waker::noop()));
    assert!(poll.is_pending(), "admitted and still running");
    call
}

#[test]
fn a_half_open_period_whose_trial_hangs_ends_as_a_failure_after_the_max_wait() {
    let rig = Rig::new(backoff().half_open_max_wait(Duration::from_millis(300)));
    assert!(rig.fail().is_err());
    rig.advance(100);
    let hung = hanging_trial(&rig.breaker);
    assert_eq!(rig.breaker.state(), State::HalfOpen);
    rig.advance(299);
    assert!(matches!(
        rig.ok(),
        Err(Failure::Breaker(BreakerError::Open {
            state: State::HalfOpen,
            ..
        }))
    ));
    rig.advance(1);
    // The wait is over: the next caller finds the circuit open again, one backoff step longer.
    assert_eq!(rig.retry_in(), Some(Duration::from_millis(200)));
    assert_eq!(rig.breaker.state(), State::Open);
    drop(hung); // the late trial's end belongs to the old period: nothing changes
    assert_eq!(rig.breaker.state(), State::Open);
    rig.advance(200);
    assert!(rig.ok().is_ok());
    assert_eq!(rig.breaker.state(), State::Closed);
    assert_eq!(
        rig.transitions(),
        [
            (State::Closed, State::Open),
            (State::Open, State::HalfOpen),
            (State::HalfOpen, State::Open),
            (State::Open, State::HalfOpen),
            (State::HalfOpen, State::Closed),
        ]
    );
}

#[test]
fn a_late_trial_success_does_not_close_the_circuit_reopened_without_it() {
    let rig = Rig::new(backoff().half_open_max_wait(Duration::from_millis(300)));
    assert!(rig.fail().is_err());
    rig.advance(100);
    let answer = Arc::new(Mutex::new(None));
    let reply = Arc::clone(&answer);
    let mut late = Box::pin(rig.breaker.call_async(std::future::poll_fn(move |_| {
        match reply.lock().unwrap().take() {
            Some(answer) => Poll::Ready(answer),
            None => Poll::Pending,
        }
    })));
    let mut cx = Context::from_waker(Waker::noop());
    assert!(late.as_mut().poll(&mut cx).is_pending());
    rig.advance(300);
    assert!(rig.retry_in().is_some(), "re-opened by the wait");
    *answer.lock().unwrap() = Some(Ok::<u32, &str>(5));
    assert!(matches!(late.as_mut().poll(&mut cx), Poll::Ready(Ok(5))));
    assert_eq!(
        rig.breaker.state(),
        State::Open,
        "the success came too late"
    );
    assert_eq!(rig.breaker.metrics().successes, 0, "and is not counted");
}

#[test]
fn without_a_max_wait_a_hanging_trial_keeps_the_circuit_half_open() {
    let rig = Rig::new(backoff());
    assert!(rig.fail().is_err());
    rig.advance(100);
    let _hung = hanging_trial(&rig.breaker);
    rig.advance(86_400_000);
    assert!(matches!(
        rig.ok(),
        Err(Failure::Breaker(BreakerError::Open {
            state: State::HalfOpen,
            ..
        }))
    ));
    assert_eq!(rig.breaker.state(), State::HalfOpen);
}

#[test]
fn a_new_sleep_window_applies_to_an_open_circuit_from_when_it_opened() {
    let rig = Rig::new(backoff());
    assert!(rig.fail().is_err());
    rig.advance(100);
    assert!(
        rig.fail().is_err(),
        "re-opened for 200 ms, one step of backoff"
    );
    rig.advance(30);
    assert_eq!(rig.retry_in(), Some(Duration::from_millis(170)));
    let faster = backoff()
        .sleep_window(Duration::from_millis(50))
        .build()
        .unwrap();
    rig.breaker.reconfigure(faster);
    // One step of backoff from 50 ms is 100 ms, of which 30 have passed.
    assert_eq!(rig.retry_in(), Some(Duration::from_millis(70)));
    rig.advance(70);
    assert!(rig.ok().is_ok());
    assert_eq!(rig.breaker.state(), State::Closed);
}
