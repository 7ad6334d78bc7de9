//! Startup registration: every `#[circuit_breaker]` function's breaker is in the registry
//! before its first call, with the configuration its attribute declares.
#![deny(warnings, clippy::pedantic)]
#![allow(clippy::unused_self)] // a method, as a method is annotated

use fusebox::{BreakerError, circuit_breaker, registry};

#[circuit_breaker(error_threshold = 30, sleep_window_ms = 2000)]
fn never_called(id: u32) -> Result<u32, BreakerError> {
    Ok(id)
}

#[circuit_breaker(name = "registration::named", consecutive_failures = 3)]
async fn async_never_called() -> Result<(), BreakerError> {
    Ok(())
}

struct Catalog;

impl Catalog {
    #[circuit_breaker(window_ms = 5000, window_buckets = 5)]
    fn lookup<T: Default>(&self) -> Result<T, BreakerError> {
        Ok(T::default())
    }
}

#[circuit_breaker(key = "host")]
fn per_host(host: &str) -> Result<usize, BreakerError> {
    Ok(host.len())
}

#[test]
fn every_annotated_breaker_is_listed_before_its_first_call() {
    let names: Vec<String> = registry::all()
        .iter()
        .map(|breaker| breaker.name().to_owned())
        .collect();
    for name in [
        "registration::never_called",
        "registration::named",
        "registration::lookup",
    ] {
        assert!(names.iter().any(|n| n == name), "{name} in {names:?}");
    }
    // A family has no breaker until its first key.
    assert!(
        !names
            .iter()
            .any(|n| n.starts_with("registration::per_host"))
    );

    let never = registry::get("registration::never_called").unwrap();
    assert_eq!(never.config().error_threshold(), 30);
    assert_eq!(never.config().sleep_window().as_millis(), 2000);
    assert_eq!(never.metrics().calls, 0);
    let by_name = registry::get("registration::named").unwrap();
    assert_eq!(by_name.config().consecutive_failures(), Some(3));
    let lookup = registry::get("registration::lookup").unwrap();
    assert_eq!(lookup.config().window_buckets(), 5);

    // The first call goes through the breaker the registry made at startup.
    assert_eq!(never_called(7), Ok(7));
    assert_eq!(Catalog.lookup::<u8>(), Ok(0));
    assert_eq!(never.metrics().calls, 1);
    assert_eq!(lookup.metrics().calls, 1);
    assert_eq!(per_host("db-1"), Ok(4));
    assert!(registry::get("registration::per_host/db-1").is_some());
    drop(async_never_called());
}

#[test]
fn no_breakers_are_shared_by_accident_here() {
    assert_eq!(registry::check(), Ok(()));
}
