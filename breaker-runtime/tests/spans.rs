//! `trace_calls` (the `tracing` feature): each call runs inside a `circuit_breaker` span with
//! the breaker's name, the state at admission and the outcome. A minimal subscriber records the
//! spans, their fields, and which span was entered when the operation logged.

use std::{
    collections::BTreeMap,
    fmt::Debug,
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
    },
};

use breaker_runtime::{CircuitBreaker, Config};
use tracing::{
    Event, Metadata, Subscriber,
    field::{Field, Visit},
    span::{Attributes, Id, Record},
};

#[derive(Default)]
struct Seen {
    /// Each span: its name and fields, by id.
    spans: BTreeMap<u64, (String, BTreeMap<String, String>)>,
    /// The span entered now.
    entered: Vec<u64>,
    /// Each event's message, and the span entered when it was sent.
    events: Vec<(String, Option<u64>)>,
}

#[derive(Clone, Default)]
struct Recorder {
    seen: Arc<Mutex<Seen>>,
    next: Arc<AtomicU64>,
}

struct Fields<'a>(&'a mut BTreeMap<String, String>);

impl Visit for Fields<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_owned(), value.to_owned());
    }
    fn record_debug(&mut self, field: &Field, value: &dyn Debug) {
        self.0.insert(field.name().to_owned(), format!("{value:?}"));
    }
}

impl Subscriber for Recorder {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, span: &Attributes<'_>) -> Id {
        let id = self.next.fetch_add(1, Ordering::Relaxed) + 1;
        let mut fields = BTreeMap::new();
        span.record(&mut Fields(&mut fields));
        let mut seen = self.seen.lock().unwrap();
        seen.spans
            .insert(id, (span.metadata().name().to_owned(), fields));
        Id::from_u64(id)
    }
    fn record(&self, id: &Id, values: &Record<'_>) {
        let mut seen = self.seen.lock().unwrap();
        if let Some((_, fields)) = seen.spans.get_mut(&id.into_u64()) {
            values.record(&mut Fields(fields));
        }
    }
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, event: &Event<'_>) {
        let mut fields = BTreeMap::new();
        event.record(&mut Fields(&mut fields));
        let mut seen = self.seen.lock().unwrap();
        let current = seen.entered.last().copied();
        seen.events
            .push((fields.remove("message").unwrap_or_default(), current));
    }
    fn enter(&self, id: &Id) {
        self.seen.lock().unwrap().entered.push(id.into_u64());
    }
    fn exit(&self, _: &Id) {
        self.seen.lock().unwrap().entered.pop();
    }
}

fn traced(name: &str) -> CircuitBreaker {
    CircuitBreaker::new(
        name.to_owned(),
        Config::builder().trace_calls(true).build().unwrap(),
    )
}

/// The spans named `circuit_breaker`, as (breaker, state, outcome), in the order made.
fn spans(recorder: &Recorder) -> Vec<(String, String, String)> {
    let seen = recorder.seen.lock().unwrap();
    seen.spans
        .values()
        .filter(|(name, _)| name == "circuit_breaker")
        .map(|(_, fields)| {
            let field = |key: &str| fields.get(key).cloned().unwrap_or_default();
            (field("breaker"), field("state"), field("outcome"))
        })
        .collect()
}

#[test]
fn each_call_runs_in_a_span_with_the_state_and_the_outcome() {
    let recorder = Recorder::default();
    tracing::subscriber::with_default(recorder.clone(), || {
        let breaker = traced("spans::sync");
        let _ = breaker.call(|| {
            tracing::info!("inside the call");
            Ok::<_, ()>(1)
        });
        let _ = breaker.call(|| Err::<(), _>("down"));
        breaker.force_open();
        let _ = breaker.call(|| Ok::<_, ()>(2));
        let plain = CircuitBreaker::new("spans::plain", Config::default());
        let _ = plain.call(|| Ok::<_, ()>(3));
    });
    let owned = |s: [&str; 3]| (s[0].to_owned(), s[1].to_owned(), s[2].to_owned());
    assert_eq!(
        spans(&recorder),
        [
            owned(["spans::sync", "closed", "success"]),
            owned(["spans::sync", "closed", "failure"]),
            owned(["spans::sync", "forced_open", "rejected"]),
        ],
        "a span per call of the traced breaker, none for the other"
    );
    let seen = recorder.seen.lock().unwrap();
    let (message, inside) = &seen.events[0];
    assert_eq!(message, "inside the call");
    assert_eq!(
        *inside,
        Some(1),
        "the operation ran inside the first call's span"
    );
}

#[tokio::test]
async fn an_async_call_is_polled_inside_its_span() {
    let recorder = Recorder::default();
    let dispatch = tracing::Dispatch::new(recorder.clone());
    let _default = tracing::dispatcher::set_default(&dispatch);
    let breaker = traced("spans::async");
    let _ = breaker
        .call_async(async {
            tokio::task::yield_now().await;
            tracing::info!("after a yield");
            Ok::<_, ()>(1)
        })
        .await;
    assert_eq!(
        spans(&recorder),
        [(
            "spans::async".to_owned(),
            "closed".to_owned(),
            "success".to_owned()
        )]
    );
    let seen = recorder.seen.lock().unwrap();
    assert_eq!(seen.events[0], ("after a yield".to_owned(), Some(1)));
}

#[tokio::test]
async fn a_request_through_the_tower_layer_runs_in_its_span() {
    use tower::{Layer, Service, ServiceExt, service_fn};

    let recorder = Recorder::default();
    let dispatch = tracing::Dispatch::new(recorder.clone());
    let _default = tracing::dispatcher::set_default(&dispatch);
    let layer = breaker_runtime::tower::CircuitBreakerLayer::new(
        "spans::tower",
        Config::builder().trace_calls(true).build().unwrap(),
    );
    let mut service = layer.layer(service_fn(|fail: bool| async move {
        tracing::info!("serving");
        if fail { Err("down") } else { Ok(()) }
    }));
    for fail in [false, true] {
        let _ = service.ready().await.unwrap().call(fail).await;
    }
    breaker_runtime::registry::get("spans::tower")
        .unwrap()
        .force_open();
    let _ = service.ready().await.unwrap().call(false).await;
    let owned = |s: [&str; 3]| (s[0].to_owned(), s[1].to_owned(), s[2].to_owned());
    assert_eq!(
        spans(&recorder),
        [
            owned(["spans::tower", "closed", "success"]),
            owned(["spans::tower", "closed", "failure"]),
            owned(["spans::tower", "forced_open", "rejected"]),
        ]
    );
    let seen = recorder.seen.lock().unwrap();
    assert_eq!(seen.events[0], ("serving".to_owned(), Some(1)));
}
