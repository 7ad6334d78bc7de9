//! With the `tracing` feature, every transition is a `tracing` event naming the breaker and
//! both states. A minimal subscriber records what it is sent.

use std::{
    fmt::{Debug, Write},
    sync::{Arc, Mutex},
};

use breaker_runtime::{CircuitBreaker, Config};
use tracing::{
    Event, Level, Metadata, Subscriber,
    field::{Field, Visit},
    span::{Attributes, Id, Record},
};

#[derive(Clone, Default)]
struct Recorder(Arc<Mutex<Vec<(Level, String)>>>);

struct Fields(String);

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn Debug) {
        let _ = write!(self.0, "{}={:?} ", field.name(), value);
    }
}

impl Subscriber for Recorder {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, _: &Attributes<'_>) -> Id {
        Id::from_u64(1)
    }
    fn record(&self, _: &Id, _: &Record<'_>) {}
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, event: &Event<'_>) {
        let mut fields = Fields(String::new());
        event.record(&mut fields);
        self.0
            .lock()
            .unwrap()
            .push((*event.metadata().level(), fields.0.trim_end().to_owned()));
    }
    fn enter(&self, _: &Id) {}
    fn exit(&self, _: &Id) {}
}

#[test]
fn every_transition_is_an_event() {
    let recorder = Recorder::default();
    tracing::subscriber::with_default(recorder.clone(), || {
        let breaker = CircuitBreaker::new("traced", Config::default());
        breaker.force_open();
        breaker.release();
    });
    let events = recorder.0.lock().unwrap().clone();
    assert_eq!(
        events,
        [
            (
                Level::WARN,
                "message=circuit breaker opened breaker=traced from=closed to=forced_open"
                    .to_owned()
            ),
            (
                Level::INFO,
                "message=circuit breaker changed state breaker=traced from=forced_open to=closed"
                    .to_owned()
            ),
        ]
    );
}

#[test]
fn a_fleet_breaker_in_a_process_without_a_fleet_warns_once_at_its_first_call() {
    let recorder = Recorder::default();
    tracing::subscriber::with_default(recorder.clone(), || {
        let alone = CircuitBreaker::new(
            "traced-alone",
            Config::builder().fleet(true).build().unwrap(),
        );
        for _ in 0..3 {
            let _ = alone.call(|| Ok::<_, ()>(()));
        }
        let failing = CircuitBreaker::new(
            "traced-failing-alone",
            Config::builder().fleet(true).build().unwrap(),
        );
        let _ = failing.call(|| Err::<(), _>(()));
        let _ = failing.call(|| Err::<(), _>(()));
        let plain = CircuitBreaker::new("traced-plain", Config::default());
        let _ = plain.call(|| Ok::<_, ()>(()));
    });
    let events = recorder.0.lock().unwrap().clone();
    let warnings: Vec<_> = events
        .iter()
        .filter(|(level, fields)| *level == Level::WARN && fields.contains("runs no fleet"))
        .collect();
    assert_eq!(warnings.len(), 2, "one per fleet breaker: {events:?}");
    assert!(
        warnings[0].1.contains("breaker=traced-alone"),
        "{warnings:?}"
    );
    assert!(
        warnings[1].1.contains("breaker=traced-failing-alone"),
        "{warnings:?}"
    );
}
