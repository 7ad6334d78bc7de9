//! Per-call events (`CircuitBreaker::on_call`, `registry::on_call`): one for every call, with
//! what became of it, for each `CallKind`.

// tower is a dev-dependency only outside the loom models' build.
#![cfg(not(loom))]

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use fusebox::{
    CallKind, CircuitBreaker, Config, TestClock, registry,
    tower::{CircuitBreakerLayer, Verdict},
};
use tower::{Layer, Service, ServiceExt, service_fn};

type Seen = Arc<Mutex<Vec<(CallKind, Option<Duration>)>>>;

fn listened(breaker: &CircuitBreaker) -> Seen {
    let seen: Seen = Arc::default();
    let kept = Arc::clone(&seen);
    breaker.on_call(move |event| kept.lock().unwrap().push((event.kind, event.duration)));
    seen
}

fn kinds(seen: &Seen) -> Vec<CallKind> {
    seen.lock().unwrap().iter().map(|(kind, _)| *kind).collect()
}

#[test]
fn every_call_is_an_event_success_failure_slow_rejected_and_busy() {
    let clock = TestClock::new();
    let breaker = CircuitBreaker::new(
        "call-events::sync",
        Config::builder()
            .slow_call(Duration::from_millis(100))
            .max_concurrent(1)
            .consecutive_failures(3)
            .build()
            .unwrap(),
    );
    breaker.set_clock(&clock);
    let seen = listened(&breaker);
    let _ = breaker.call(|| Ok::<_, ()>(()));
    let _ = breaker.call(|| Err::<(), _>("down"));
    let _ = breaker.call(|| {
        clock.advance(Duration::from_millis(250));
        Ok::<_, ()>(())
    });
    // A call while another holds the bulkhead's only slot.
    let _ = breaker.call(|| {
        let _ = breaker.call(|| Ok::<_, ()>(()));
        Ok::<_, ()>(())
    });
    breaker.force_open();
    let _ = breaker.call(|| Ok::<_, ()>(()));
    assert_eq!(
        kinds(&seen),
        [
            CallKind::Success,
            CallKind::Failure,
            CallKind::Slow,
            CallKind::Busy,
            CallKind::Success,
            CallKind::Rejected
        ]
    );
    let seen = seen.lock().unwrap();
    assert_eq!(
        seen[2].1,
        Some(Duration::from_millis(250)),
        "timed: slow_call_ms is set"
    );
    assert_eq!(seen[0].1, Some(Duration::ZERO));
    assert_eq!(seen[5].1, None, "turned away: it did not run");
}

#[test]
fn a_breaker_that_does_not_time_its_calls_reports_no_duration() {
    let breaker = CircuitBreaker::new("call-events::untimed", Config::default());
    let seen = listened(&breaker);
    let _ = breaker.call(|| Ok::<_, ()>(()));
    assert_eq!(*seen.lock().unwrap(), [(CallKind::Success, None)]);
}

#[tokio::test(start_paused = true)]
async fn a_call_past_its_timeout_is_a_timeout() {
    let breaker = CircuitBreaker::new(
        "call-events::timeout",
        Config::builder()
            .timeout(Duration::from_millis(50))
            .build()
            .unwrap(),
    );
    let seen = listened(&breaker);
    let _ = breaker
        .call_async(async {
            tokio::time::sleep(Duration::from_secs(1)).await;
            Ok::<_, ()>(())
        })
        .await;
    let _ = breaker.call_async(async { Ok::<_, ()>(()) }).await;
    assert_eq!(kinds(&seen), [CallKind::Timeout, CallKind::Success]);
}

#[tokio::test]
async fn a_call_a_classifier_ignores_is_ignored_and_every_breaker_is_heard() {
    let layer = CircuitBreakerLayer::new("call-events::tower", Config::default()).classifier(
        |result: Result<&u16, &std::convert::Infallible>| match result {
            Ok(404) => Verdict::Ignored,
            Ok(status) if *status >= 500 => Verdict::Failure,
            _ => Verdict::Success,
        },
    );
    let everywhere: Seen = Arc::default();
    let kept = Arc::clone(&everywhere);
    registry::on_call(move |event| {
        if event.name == "call-events::tower" {
            kept.lock().unwrap().push((event.kind, event.duration));
        }
    });
    let mut service = layer.layer(service_fn(|status: u16| async move {
        Ok::<_, std::convert::Infallible>(status)
    }));
    for status in [200, 404, 503] {
        let _ = service.ready().await.unwrap().call(status).await;
    }
    assert_eq!(
        kinds(&everywhere),
        [CallKind::Success, CallKind::Ignored, CallKind::Failure]
    );
}

#[test]
fn kinds_have_one_spelling_and_say_whether_the_call_ran() {
    let all = CallKind::ALL;
    let names: Vec<String> = all.iter().map(ToString::to_string).collect();
    assert_eq!(
        names,
        [
            "success", "failure", "timeout", "rejected", "busy", "ignored", "slow"
        ]
    );
    assert_eq!(all.iter().filter(|kind| !kind.ran()).count(), 2);
}

#[test]
fn record_latency_times_each_call_for_the_metrics_and_the_events() {
    let clock = TestClock::new();
    let breaker = CircuitBreaker::new(
        "call-events::latency",
        Config::builder()
            .record_latency(true)
            .slow_call(Duration::from_millis(500))
            .build()
            .unwrap(),
    );
    breaker.set_clock(&clock);
    assert_eq!(breaker.metrics().latency, None, "nothing timed yet");
    let seen = listened(&breaker);
    for millis in (0..98).map(|_| 10).chain([400, 900]) {
        let _ = breaker.call(|| {
            clock.advance(Duration::from_millis(millis));
            Ok::<_, ()>(())
        });
    }
    let latency = breaker.metrics().latency.expect("timed");
    assert_eq!(latency.calls, 100);
    let within_an_eighth = |got: Duration, want_ms: u64| {
        let (got, want) = (got.as_micros(), u128::from(want_ms) * 1000);
        got.abs_diff(want) <= want / 8
    };
    assert!(within_an_eighth(latency.p50, 10), "{latency:?}");
    assert!(within_an_eighth(latency.p99, 400), "{latency:?}");
    let seen = seen.lock().unwrap();
    assert_eq!(
        seen[0],
        (CallKind::Success, Some(Duration::from_millis(10)))
    );
    assert_eq!(
        seen[99],
        (CallKind::Slow, Some(Duration::from_millis(900))),
        "slow by the fine clock too"
    );
    assert_eq!(breaker.metrics().slow_calls, 1);

    let untimed = CircuitBreaker::new("call-events::no-latency", Config::default());
    let _ = untimed.call(|| Ok::<_, ()>(()));
    assert_eq!(untimed.metrics().latency, None);
}
