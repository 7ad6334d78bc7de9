//! The API's small print: names, `Debug` and `Display`, `Failure`'s accessors, the registry.

use std::{
    error::Error,
    fmt,
    pin::pin,
    sync::{Arc, Mutex},
    task::{Context, Waker},
};

use breaker_runtime::{BreakerError, CircuitBreaker, Config, Failure, Name, State, registry};

#[derive(Debug)]
struct Lookup(std::io::Error);

impl fmt::Display for Lookup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("lookup failed")
    }
}

impl Error for Lookup {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        Some(&self.0)
    }
}

#[test]
fn a_name_reads_as_the_string_it_was_made_from() {
    for name in [
        Name::from("api::fixed"),
        Name::from(String::from("api::built")),
    ] {
        let text = name.to_string();
        assert!(text.starts_with("api::"));
        assert_eq!(&*name, text);
        assert_eq!(name.as_ref(), text);
        assert_eq!(name.as_str(), text);
        assert_eq!(format!("{name:?}"), format!("{text:?}"));
    }
}

#[test]
fn a_breaker_and_its_errors_carry_its_name() {
    let breaker = CircuitBreaker::new(
        String::from("api::ledger"),
        Config::builder().consecutive_failures(1).build().unwrap(),
    );
    assert_eq!(breaker.name(), "api::ledger");
    let debug = format!("{breaker:?}");
    assert!(
        debug.starts_with(
            r#"CircuitBreaker { name: "api::ledger", state: Closed, config: Config {"#
        ),
        "{debug}"
    );
    let _ = breaker.call(|| Err::<(), _>("down"));
    match breaker.call(|| Ok::<_, &str>(())) {
        Err(Failure::Breaker(error)) => assert_eq!(error.name(), "api::ledger"),
        other => panic!("expected a rejection, got {other:?}"),
    }
}

#[test]
fn failure_is_transparent_over_the_error_it_holds() {
    let own: Failure<Lookup> = Failure::Error(Lookup(std::io::Error::other("reset")));
    assert_eq!(own.to_string(), "lookup failed");
    assert_eq!(
        own.source().map(ToString::to_string).as_deref(),
        Some("reset")
    );
    assert!(own.breaker_error().is_none());

    let breaker = CircuitBreaker::new("api::transparent", Config::default());
    breaker.force_open();
    let rejected = breaker.call(|| Ok::<_, Lookup>(())).unwrap_err();
    assert_eq!(
        rejected.to_string(),
        "circuit breaker `api::transparent` is forced open"
    );
    assert!(
        rejected.source().is_none(),
        "a rejection has no cause beyond itself"
    );
    assert!(matches!(
        rejected.breaker_error(),
        Some(BreakerError::Open {
            state: State::ForcedOpen,
            ..
        })
    ));
}

#[test]
fn an_async_call_shows_how_far_it_has_come() {
    let breaker = CircuitBreaker::new("api::stock", Config::default());
    let mut call = pin!(breaker.call_async(std::future::pending::<Result<(), ()>>()));
    assert_eq!(
        format!("{call:?}"),
        r#"CallAsync { breaker: "api::stock", stage: "not polled yet", timer: false, .. }"#
    );
    let _ = call.as_mut().poll(&mut Context::from_waker(Waker::noop()));
    assert!(format!("{call:?}").contains(r#"stage: "running""#));

    let mut done = pin!(breaker.call_async(async { Ok::<_, ()>(7) }));
    assert!(
        done.as_mut()
            .poll(&mut Context::from_waker(Waker::noop()))
            .is_ready()
    );
    assert!(format!("{done:?}").contains(r#"stage: "finished""#));
}

#[test]
fn the_registry_finds_breakers_by_name_and_tells_of_every_transition() {
    static SEEN: Mutex<Vec<(String, State)>> = Mutex::new(Vec::new());
    registry::on_transition(|t| {
        if t.name.starts_with("api::registry::") {
            SEEN.lock().unwrap().push((t.name.to_string(), t.to));
        }
    });

    let orders = registry::get_or_register("api::registry::orders", Config::default());
    assert!(Arc::ptr_eq(
        &orders,
        &registry::get("api::registry::orders").unwrap()
    ));
    let strict = Config::builder().error_threshold(10).build().unwrap();
    assert!(
        Arc::ptr_eq(
            &orders,
            &registry::get_or_register("api::registry::orders", strict)
        ),
        "the first registration's breaker and configuration stay"
    );
    assert_eq!(orders.config(), Config::default());
    let payments = CircuitBreaker::new("api::registry::payments", Config::default());
    let payments = registry::register(payments).unwrap();
    let again = CircuitBreaker::new("api::registry::payments", Config::default());
    assert!(Arc::ptr_eq(
        &registry::register(again).unwrap_err().existing,
        &payments
    ));
    let all = registry::all();
    let names: Vec<&str> = all.iter().map(|b| b.name()).collect();
    assert!(names.contains(&"api::registry::orders") && names.contains(&"api::registry::payments"));
    assert!(registry::get("api::registry::nobody").is_none());

    orders.force_open();
    CircuitBreaker::new("api::registry::unregistered", Config::default()).force_closed();
    let seen = SEEN.lock().unwrap().clone();
    assert_eq!(
        seen,
        [
            ("api::registry::orders".to_owned(), State::ForcedOpen),
            (
                "api::registry::unregistered".to_owned(),
                State::ForcedClosed
            )
        ]
    );
}
