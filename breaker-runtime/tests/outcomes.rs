//! Every row of the outcome table (documented on `CircuitBreaker`), for sync and async calls.

use std::{
    future::Future,
    panic::{AssertUnwindSafe, catch_unwind},
    pin::pin,
    task::{Context, Poll, Waker},
    time::Duration,
};

use breaker_runtime::{
    BreakerError, CircuitBreaker, Config, ConfigBuilder, Failure, Metrics, State, TestClock,
};

#[allow(clippy::large_types_passed_by_value)] // as the builder's methods take it
fn breaker(config: ConfigBuilder) -> (CircuitBreaker, TestClock) {
    let breaker = CircuitBreaker::new("outcomes", config.build().expect("valid config"));
    let clock = TestClock::new();
    breaker.set_clock(&clock);
    (breaker, clock)
}

/// (calls, successes, failures, timeouts, rejections)
fn counts(metrics: &Metrics) -> (u64, u64, u64, u64, u64) {
    (
        metrics.calls,
        metrics.successes,
        metrics.failures,
        metrics.timeouts,
        metrics.rejections,
    )
}

/// Polls a future once, without an executor.
fn poll_once<F: Future>(future: std::pin::Pin<&mut F>) -> Poll<F::Output> {
    future.poll(&mut Context::from_waker(Waker::noop()))
}

#[derive(Debug, PartialEq)]
enum Backend {
    NotFound,
    Down,
}

fn is_outage(error: &Backend) -> bool {
    *error == Backend::Down
}

#[test]
fn ok_is_a_success_and_returned() {
    let (b, _) = breaker(Config::builder());
    assert_eq!(b.call(|| Ok::<_, Backend>(5)), Ok(5));
    assert_eq!(counts(&b.metrics()), (1, 1, 0, 0, 0));
}

#[test]
fn err_is_a_failure_and_returned() {
    let (b, _) = breaker(Config::builder());
    assert_eq!(
        b.call(|| Err::<(), _>(Backend::Down)),
        Err(Failure::Error(Backend::Down))
    );
    assert_eq!(
        b.call_with(|| Err::<(), _>(Backend::Down), is_outage),
        Err(Failure::Error(Backend::Down))
    );
    assert_eq!(counts(&b.metrics()), (2, 0, 2, 0, 0));
}

#[test]
fn err_the_predicate_lets_pass_is_a_success_and_returned() {
    let (b, _) = breaker(Config::builder().consecutive_failures(1));
    let answer = b.call_with(|| Err::<(), _>(Backend::NotFound), is_outage);
    assert_eq!(answer, Err(Failure::Error(Backend::NotFound)));
    assert_eq!(counts(&b.metrics()), (1, 1, 0, 0, 0));
    assert_eq!(b.state(), State::Closed);
}

#[test]
fn open_rejects_without_running_and_outside_the_error_rate() {
    let (b, _) = breaker(Config::builder().consecutive_failures(1));
    let _ = b.call(|| Err::<(), _>(Backend::Down));
    let mut ran = false;
    let answer = b.call(|| {
        ran = true;
        Ok::<_, Backend>(())
    });
    assert!(!ran);
    let Err(Failure::Breaker(error)) = answer else {
        panic!("expected a rejection, got {answer:?}")
    };
    assert!(matches!(error, BreakerError::Open { .. }));
    assert_eq!(error.name(), "outcomes");
    assert_eq!(
        error.to_string(),
        "circuit breaker `outcomes` is open; next trial call in 5000 ms"
    );
    let metrics = b.metrics();
    assert_eq!(counts(&metrics), (1, 0, 1, 0, 1));
    assert_eq!(metrics.error_percent, 100, "the rejection is not a call");
}

#[test]
fn busy_rejects_without_running_and_outside_the_error_rate() {
    let (b, _) = breaker(Config::builder().max_concurrent(1));
    let inner = b.call(|| Ok::<_, Backend>(b.call(|| Ok::<_, Backend>(()))));
    let Ok(Err(Failure::Breaker(error))) = inner else {
        panic!("expected the inner call to be rejected, got {inner:?}")
    };
    assert!(matches!(
        error,
        BreakerError::Busy {
            max_concurrent: 1,
            ..
        }
    ));
    assert_eq!(
        error.to_string(),
        "circuit breaker `outcomes` is busy: 1 calls already in flight"
    );
    assert_eq!(counts(&b.metrics()), (1, 1, 0, 0, 1));
    assert_eq!(
        b.call(|| Ok::<_, Backend>(3)),
        Ok(3),
        "the slot was given back"
    );
}

#[test]
fn busy_gives_back_the_trial_permit_it_took() {
    let (b, clock) = breaker(Config::builder().consecutive_failures(1).max_concurrent(1));
    // A call admitted while closed is still in flight when the breaker trips and sleeps.
    let _ = b.call(|| {
        let _ = b.call(|| Err::<(), _>(Backend::Down)); // busy: the slot is taken
        Ok::<_, Backend>(())
    });
    let _ = b.call(|| Err::<(), _>(Backend::Down));
    assert_eq!(b.state(), State::Open);
    clock.advance(Duration::from_secs(5));
    let held = b.call(|| {
        // The trial holds the only slot; a second caller is rejected as open (no permit left).
        let second = b.call(|| Ok::<_, Backend>(()));
        assert!(matches!(
            second,
            Err(Failure::Breaker(BreakerError::Open { .. }))
        ));
        Ok::<_, Backend>(())
    });
    assert_eq!(held, Ok(()));
    assert_eq!(b.state(), State::Closed);
}

#[test]
fn a_panic_is_a_failure_and_keeps_unwinding() {
    let (b, _) = breaker(Config::builder().consecutive_failures(1).max_concurrent(1));
    let unwound = catch_unwind(AssertUnwindSafe(|| {
        b.call(|| -> Result<(), Backend> { panic!("bug in the client") })
    }));
    let payload = unwound.expect_err("the panic reaches the caller");
    assert_eq!(payload.downcast_ref::<&str>(), Some(&"bug in the client"));
    assert_eq!(counts(&b.metrics()), (1, 0, 1, 0, 0));
    assert_eq!(b.state(), State::Open);
    b.reset();
    assert_eq!(
        b.call(|| Ok::<_, Backend>(1)),
        Ok(1),
        "the bulkhead slot was given back"
    );
}

#[test]
fn a_panicking_trial_reopens_the_circuit() {
    let (b, clock) = breaker(Config::builder().consecutive_failures(1));
    let _ = b.call(|| Err::<(), _>(Backend::Down));
    clock.advance(Duration::from_secs(5));
    let _ = catch_unwind(AssertUnwindSafe(|| {
        b.call(|| -> Result<(), Backend> { panic!("trial panicked") })
    }));
    assert_eq!(b.state(), State::Open);
}

#[test]
fn async_outcomes_match_sync_ones() {
    let (b, _) = breaker(Config::builder().consecutive_failures(3));
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    rt.block_on(async {
        assert_eq!(b.call_async(async { Ok::<_, Backend>(1) }).await, Ok(1));
        assert_eq!(
            b.call_async(async { Err::<(), _>(Backend::Down) }).await,
            Err(Failure::Error(Backend::Down))
        );
        assert_eq!(
            b.call_async_with(async { Err::<(), _>(Backend::NotFound) }, is_outage)
                .await,
            Err(Failure::Error(Backend::NotFound))
        );
    });
    assert_eq!(counts(&b.metrics()), (3, 2, 1, 0, 0));
    b.force_open();
    let rejected = rt.block_on(b.call_async(async { Ok::<_, Backend>(1) }));
    assert!(matches!(
        rejected,
        Err(Failure::Breaker(BreakerError::Open { .. }))
    ));
    assert_eq!(counts(&b.metrics()), (3, 2, 1, 0, 1));
}

#[test]
fn an_async_call_is_admitted_at_its_first_poll() {
    let (b, _) = breaker(Config::builder());
    let call = b.call_async(async { Ok::<_, Backend>(1) });
    b.force_open();
    let mut call = pin!(call);
    assert!(matches!(
        poll_once(call.as_mut()),
        Poll::Ready(Err(Failure::Breaker(BreakerError::Open { .. })))
    ));
}

#[test]
fn an_async_call_pending_at_first_is_admitted_once_and_counted_once() {
    let (b, _) = breaker(Config::builder().max_concurrent(1));
    let mut first_poll = true;
    let operation = std::future::poll_fn(move |cx| {
        if std::mem::take(&mut first_poll) {
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        Poll::Ready(Ok::<_, Backend>(5))
    });
    let mut call = pin!(b.call_async(operation));
    assert!(poll_once(call.as_mut()).is_pending());
    // A second admission would find the only bulkhead slot taken and answer `Busy`.
    assert_eq!(poll_once(call.as_mut()), Poll::Ready(Ok(5)));
    assert_eq!(counts(&b.metrics()), (1, 1, 0, 0, 0));
    assert_eq!(b.call(|| Ok::<_, Backend>(6)), Ok(6), "the slot was freed");
}

#[test]
#[should_panic(expected = "polled after it returned `Ready`")]
fn an_async_call_polled_after_it_finished_panics_as_an_async_fn_would() {
    let (b, _) = breaker(Config::builder());
    let mut call = pin!(b.call_async(async { Ok::<_, Backend>(1) }));
    assert_eq!(poll_once(call.as_mut()), Poll::Ready(Ok(1)));
    let _ = poll_once(call.as_mut());
}

#[test]
fn a_panic_in_an_async_call_is_a_failure_and_keeps_unwinding() {
    let (b, _) = breaker(Config::builder().consecutive_failures(1).max_concurrent(1));
    {
        let mut call = pin!(b.call_async(async {
            panic!("async bug");
            #[allow(unreachable_code)]
            Ok::<(), Backend>(())
        }));
        let unwound = catch_unwind(AssertUnwindSafe(|| poll_once(call.as_mut())));
        assert!(unwound.is_err());
        assert_eq!(counts(&b.metrics()), (1, 0, 1, 0, 0));
        assert_eq!(b.state(), State::Open);
    } // dropping the poisoned future records nothing more
    assert_eq!(counts(&b.metrics()), (1, 0, 1, 0, 0));
    b.reset();
    assert_eq!(
        b.call(|| Ok::<_, Backend>(1)),
        Ok(1),
        "the bulkhead slot was given back"
    );
}

#[test]
fn a_dropped_future_records_nothing_and_returns_its_slot() {
    let (b, _) = breaker(Config::builder().max_concurrent(1));
    {
        let mut call = pin!(b.call_async(std::future::pending::<Result<(), Backend>>()));
        assert!(poll_once(call.as_mut()).is_pending());
        let busy = b.call(|| Ok::<_, Backend>(()));
        assert!(matches!(
            busy,
            Err(Failure::Breaker(BreakerError::Busy { .. }))
        ));
    }
    assert_eq!(counts(&b.metrics()), (0, 0, 0, 0, 1));
    assert_eq!(b.call(|| Ok::<_, Backend>(2)), Ok(2));
}

#[test]
fn a_dropped_trial_gives_its_permit_to_the_next_caller() {
    let (b, clock) = breaker(Config::builder().consecutive_failures(1));
    let _ = b.call(|| Err::<(), _>(Backend::Down));
    clock.advance(Duration::from_secs(5));
    {
        let mut trial = pin!(b.call_async(std::future::pending::<Result<(), Backend>>()));
        assert!(poll_once(trial.as_mut()).is_pending());
        assert_eq!(b.state(), State::HalfOpen);
        assert!(
            b.call(|| Ok::<_, Backend>(())).is_err(),
            "the only permit is taken"
        );
    }
    assert_eq!(
        b.call(|| Ok::<_, Backend>(9)),
        Ok(9),
        "the permit came back"
    );
    assert_eq!(b.state(), State::Closed);
}

#[tokio::test(start_paused = true)]
async fn a_timeout_is_a_failure_and_a_timeout() {
    let (b, _) = breaker(
        Config::builder()
            .timeout(Duration::from_millis(100))
            .consecutive_failures(1)
            .max_concurrent(1),
    );
    let answer = b
        .call_async(async {
            tokio::time::sleep(Duration::from_secs(30)).await;
            Ok::<_, Backend>(())
        })
        .await;
    let Err(Failure::Breaker(error)) = answer else {
        panic!("expected a timeout, got {answer:?}")
    };
    assert!(
        matches!(error, BreakerError::Timeout { after, .. } if after == Duration::from_millis(100))
    );
    assert_eq!(
        error.to_string(),
        "circuit breaker `outcomes` timed the call out after 100 ms"
    );
    assert_eq!(counts(&b.metrics()), (1, 0, 1, 1, 0));
    assert_eq!(b.state(), State::Open);
    b.reset();
    let quick = b.call_async(async { Ok::<_, Backend>(4) }).await;
    assert_eq!(
        quick,
        Ok(4),
        "the slot was given back and a fast call is unaffected"
    );
}
