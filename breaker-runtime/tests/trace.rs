//! `record`: a breaker's last calls, in order, bounded, with what became of each and how long
//! it ran when it was timed; nothing kept without the key.

use std::time::Duration;

use fusebox::{CallKind, CircuitBreaker, Config, TRACE_LEN, TestClock};

#[allow(clippy::large_types_passed_by_value)] // as the builder's methods take it
fn recorded(config: fusebox::ConfigBuilder) -> (CircuitBreaker, TestClock) {
    let breaker = CircuitBreaker::new("traced", config.record(true).build().unwrap());
    let clock = TestClock::new();
    assert!(breaker.set_clock(&clock));
    (breaker, clock)
}

#[test]
fn every_kind_of_call_is_kept_in_order_with_its_time() {
    let (breaker, clock) = recorded(
        Config::builder()
            .consecutive_failures(2)
            .slow_call(Duration::from_millis(100))
            .max_concurrent(1),
    );
    let _ = breaker.call(|| Ok::<_, ()>(()));
    clock.advance(Duration::from_millis(250));
    let _ = breaker.call(|| {
        clock.advance(Duration::from_millis(200));
        Ok::<_, ()>(())
    });
    // A call made while one is in flight is busy.
    let _ = breaker.call(|| {
        let _ = breaker.call(|| Ok::<_, ()>(()));
        Err::<(), _>("down")
    });
    let _ = breaker.call(|| Err::<(), _>("down"));
    let _ = breaker.call(|| Ok::<_, ()>(())); // open: rejected
    let trace = breaker.trace().calls;
    let kinds: Vec<CallKind> = trace.iter().map(|entry| entry.kind).collect();
    assert_eq!(
        kinds,
        [
            CallKind::Success,
            CallKind::Slow,
            CallKind::Busy,
            CallKind::Failure,
            CallKind::Failure,
            CallKind::Rejected
        ]
    );
    // Times: 450 ms from the first call to the last, on the test clock.
    assert_eq!(trace[5].at_ms - trace[0].at_ms, 450);
    // Timed calls (slow_call_ms times them on the coarse clock) carry their duration.
    assert_eq!(trace[1].duration, Some(Duration::from_millis(200)));
    assert_eq!(trace[5].duration, None, "a refused call did not run");
}

#[test]
fn the_ring_keeps_the_last_calls_and_no_more() {
    let (breaker, clock) = recorded(Config::builder().request_volume_threshold(u32::MAX.into()));
    let calls = 3 * TRACE_LEN + 17;
    for i in 0..calls {
        clock.advance(Duration::from_millis(1));
        let _ = breaker.call(|| if i.is_multiple_of(3) { Err(()) } else { Ok(()) });
    }
    let trace = breaker.trace().calls;
    assert_eq!(trace.len(), TRACE_LEN);
    // The oldest kept is call `calls - TRACE_LEN`, one millisecond after the one before it.
    let oldest = calls - TRACE_LEN;
    let expected = if oldest.is_multiple_of(3) {
        CallKind::Failure
    } else {
        CallKind::Success
    };
    assert_eq!(trace[0].kind, expected);
    assert!(
        trace
            .windows(2)
            .all(|pair| pair[1].at_ms == pair[0].at_ms + 1)
    );
}

#[test]
fn without_record_nothing_is_kept() {
    let breaker = CircuitBreaker::new("untraced", Config::default());
    let _ = breaker.call(|| Ok::<_, ()>(()));
    assert!(breaker.trace().calls.is_empty());
    // Overrides turn it on and off at run time.
    breaker.reconfigure(Config::builder().record(true).build().unwrap());
    let _ = breaker.call(|| Ok::<_, ()>(()));
    breaker.reconfigure(Config::default());
    let _ = breaker.call(|| Ok::<_, ()>(()));
    assert_eq!(
        breaker.trace().calls.len(),
        1,
        "only the call made while recording"
    );
}
