//! `#[circuit_breaker]` on sync functions and methods: every row of the outcome table (see
//! `CircuitBreaker` and the attribute's documentation), fallbacks in both forms, `failure_if`,
//! the bulkhead, panics, shared names and generics.
//!
//! The file denies every warning and clippy's pedantic lints: the generated code must compile
//! cleanly in a strict user crate.
#![deny(warnings, clippy::pedantic)]
// A fallback returns the function's own `Result` even when it cannot fail, and takes its
// arguments by value as the function does: pedantic flags that in the user's code, not ours.
#![allow(clippy::unnecessary_wraps, clippy::needless_pass_by_value)]

use std::{
    cell::Cell,
    panic::{AssertUnwindSafe, catch_unwind},
    time::Duration,
};

use fusebox::{BreakerError, Failure, State, TestClock, circuit_breaker, registry};

#[derive(Debug, PartialEq)]
enum RecsError {
    Down,
    NotFound,
    Unavailable(BreakerError),
}

impl From<BreakerError> for RecsError {
    fn from(error: BreakerError) -> Self {
        RecsError::Unavailable(error)
    }
}

fn is_outage(error: &RecsError) -> bool {
    *error == RecsError::Down
}

/// What the fake backend does on the next call.
#[derive(Clone, Copy)]
enum Backend {
    Up,
    Down,
    Missing,
}

fn answer(backend: Backend, user: u64) -> Result<Vec<u64>, RecsError> {
    match backend {
        Backend::Up => Ok(vec![user]),
        Backend::Down => Err(RecsError::Down),
        Backend::Missing => Err(RecsError::NotFound),
    }
}

/// The breaker behind a function, once its first call has registered it, on a test clock.
fn breaker_of(name: &str) -> (std::sync::Arc<fusebox::CircuitBreaker>, TestClock) {
    let breaker = registry::get(name).expect("registered at the first call");
    let clock = TestClock::new();
    assert!(breaker.set_clock(&clock), "one clock per breaker");
    (breaker, clock)
}

#[circuit_breaker(
    name = "sync::no_fallback",
    consecutive_failures = 2,
    failure_if = "is_outage"
)]
fn no_fallback(backend: Backend, user: u64) -> Result<Vec<u64>, RecsError> {
    answer(backend, user)
}

#[test]
fn without_a_fallback_every_outcome_reaches_the_caller() {
    assert_eq!(no_fallback(Backend::Up, 1), Ok(vec![1]));
    let (breaker, clock) = breaker_of("sync::no_fallback");
    assert_eq!(no_fallback(Backend::Missing, 2), Err(RecsError::NotFound));
    assert_eq!(
        breaker.metrics().successes,
        2,
        "failure_if said not-found is no failure"
    );
    assert_eq!(no_fallback(Backend::Down, 3), Err(RecsError::Down));
    assert_eq!(no_fallback(Backend::Down, 4), Err(RecsError::Down));
    assert_eq!(breaker.state(), State::Open);
    let rejected = no_fallback(Backend::Up, 5);
    assert!(
        matches!(&rejected, Err(RecsError::Unavailable(BreakerError::Open { name, .. })) if &**name == "sync::no_fallback"),
        "{rejected:?}"
    );
    clock.advance(Duration::from_secs(5));
    assert_eq!(no_fallback(Backend::Up, 6), Ok(vec![6]), "the trial call");
    assert_eq!(breaker.state(), State::Closed);
}

fn popular(user: u64) -> Result<Vec<u64>, RecsError> {
    Ok(vec![user, 0])
}

#[circuit_breaker(
    name = "sync::plain_fallback",
    consecutive_failures = 1,
    fallback = "popular"
)]
fn with_plain_fallback(user: u64) -> Result<Vec<u64>, RecsError> {
    if user == 0 {
        return Err(RecsError::Down);
    }
    Ok(vec![user])
}

#[test]
fn a_plain_fallback_serves_failures_and_rejections() {
    assert_eq!(with_plain_fallback(7), Ok(vec![7]));
    assert_eq!(
        with_plain_fallback(0),
        Ok(vec![0, 0]),
        "a failure is served by the fallback"
    );
    let breaker = registry::get("sync::plain_fallback").unwrap();
    assert_eq!(breaker.state(), State::Open);
    assert_eq!(
        with_plain_fallback(8),
        Ok(vec![8, 0]),
        "and so is a rejection"
    );
    assert_eq!(breaker.metrics().rejections, 1);
}

/// Records why it was called.
fn explained(backend: Backend, user: u64, why: Failure<RecsError>) -> Result<Vec<u64>, RecsError> {
    let _ = backend;
    match why {
        Failure::Breaker(BreakerError::Open { .. }) => Ok(vec![user, 1]),
        Failure::Breaker(_) => Ok(vec![user, 2]),
        Failure::Error(error) => {
            assert_eq!(
                error,
                RecsError::Down,
                "not-found is not a failure: no fallback"
            );
            Ok(vec![user, 3])
        }
    }
}

#[circuit_breaker(
    name = "sync::explained_fallback",
    consecutive_failures = 1,
    failure_if = "is_outage",
    fallback = "explained"
)]
fn with_explained_fallback(backend: Backend, user: u64) -> Result<Vec<u64>, RecsError> {
    answer(backend, user)
}

#[test]
fn a_fallback_can_learn_why_it_was_called() {
    assert_eq!(
        with_explained_fallback(Backend::Missing, 1),
        Err(RecsError::NotFound)
    );
    assert_eq!(with_explained_fallback(Backend::Down, 2), Ok(vec![2, 3]));
    assert_eq!(with_explained_fallback(Backend::Up, 3), Ok(vec![3, 1]));
}

#[circuit_breaker(name = "sync::busy", max_concurrent = 1, fallback = "popular")]
fn nested(user: u64) -> Result<Vec<u64>, RecsError> {
    if user > 0 {
        // A second call while this one holds the only slot.
        return nested(0).map(|inner| [vec![user], inner].concat());
    }
    Ok(vec![42])
}

#[test]
fn a_busy_bulkhead_is_served_by_the_fallback() {
    assert_eq!(
        nested(5),
        Ok(vec![5, 0, 0]),
        "the inner call got the fallback"
    );
    let metrics = registry::get("sync::busy").unwrap().metrics();
    assert_eq!(
        (metrics.calls, metrics.failures, metrics.rejections),
        (1, 0, 1)
    );
    let counters = metrics.counters;
    assert_eq!(
        (counters.busy, counters.rejected, counters.fallbacks),
        (1, 0, 1),
        "a busy rejection, not an open one, served by the fallback"
    );
}

#[circuit_breaker(name = "sync::panics", consecutive_failures = 1, fallback = "popular")]
fn panics(user: u64) -> Result<Vec<u64>, RecsError> {
    assert!(user != 0, "the client has a bug");
    Ok(vec![user])
}

#[test]
fn a_panic_counts_as_a_failure_keeps_unwinding_and_gets_no_fallback() {
    assert_eq!(panics(1), Ok(vec![1]));
    let unwound = catch_unwind(|| panics(0));
    assert!(unwound.is_err(), "the panic reached the caller");
    let breaker = registry::get("sync::panics").unwrap();
    assert_eq!(breaker.state(), State::Open);
    assert_eq!(breaker.metrics().failures, 1);
}

#[circuit_breaker(name = "sync::shared", consecutive_failures = 2)]
fn shared_a(backend: Backend) -> Result<Vec<u64>, RecsError> {
    answer(backend, 1)
}

#[circuit_breaker(name = "sync::shared", consecutive_failures = 2)]
fn shared_b(backend: Backend) -> Result<Vec<u64>, RecsError> {
    answer(backend, 2)
}

#[test]
fn functions_that_give_the_same_name_share_one_breaker() {
    let _ = shared_a(Backend::Down);
    let _ = shared_b(Backend::Down);
    assert_eq!(registry::get("sync::shared").unwrap().state(), State::Open);
    assert!(matches!(
        shared_a(Backend::Up),
        Err(RecsError::Unavailable(_))
    ));
}

#[circuit_breaker]
fn default_name() -> Result<u8, RecsError> {
    Ok(1)
}

#[test]
fn the_default_name_is_the_module_path_and_function() {
    assert_eq!(default_name(), Ok(1));
    assert!(registry::get("attribute_sync::default_name").is_some());
}

#[circuit_breaker(name = "sync::generic", fallback = "generic_fallback")]
fn generic<T: Clone + Into<u64>>(
    value: T,
    label: impl AsRef<str> + Clone,
) -> Result<u64, RecsError> {
    if label.as_ref().is_empty() {
        return Err(RecsError::Down);
    }
    Ok(value.into())
}

fn generic_fallback<T: Clone + Into<u64>>(
    value: T,
    _label: impl AsRef<str> + Clone,
) -> Result<u64, RecsError> {
    Ok(value.into() + 100)
}

#[test]
fn generic_functions_share_one_breaker_across_instantiations() {
    assert_eq!(generic(3_u8, "x"), Ok(3));
    assert_eq!(generic(4_u32, String::from("y")), Ok(4));
    assert_eq!(generic(5_u16, ""), Ok(105));
    assert_eq!(registry::get("sync::generic").unwrap().metrics().calls, 3);
}

struct Catalog {
    calls: Cell<u32>,
    stock: Vec<u32>,
}

impl Catalog {
    #[circuit_breaker(
        name = "sync::method_ref",
        consecutive_failures = 1,
        fallback = "cached"
    )]
    fn price(&self, item: usize) -> Result<u32, RecsError> {
        self.calls.set(self.calls.get() + 1);
        self.stock.get(item).copied().ok_or(RecsError::Down)
    }

    fn cached(&self, item: usize) -> Result<u32, RecsError> {
        let _ = item;
        Ok(self.stock.len().try_into().unwrap_or(u32::MAX))
    }

    #[circuit_breaker(name = "sync::method_mut", fallback = "Self::restock_failed")]
    fn restock(&mut self, items: &[u32]) -> Result<usize, RecsError> {
        self.stock.extend_from_slice(items);
        if items.contains(&0) {
            return Err(RecsError::Down);
        }
        Ok(self.stock.len())
    }

    fn restock_failed(
        &mut self,
        items: &[u32],
        why: Failure<RecsError>,
    ) -> Result<usize, RecsError> {
        assert!(matches!(why, Failure::Error(RecsError::Down)));
        self.stock.retain(|stocked| !items.contains(stocked));
        Ok(self.stock.len())
    }

    #[circuit_breaker(name = "sync::method_value", fallback = "into_fallback")]
    fn into_total(self) -> Result<u32, RecsError> {
        if self.stock.is_empty() {
            return Err(RecsError::Down);
        }
        Ok(self.stock.iter().sum())
    }

    fn into_fallback(self) -> Result<u32, RecsError> {
        Ok(1_000 + self.calls.get())
    }
}

impl Clone for Catalog {
    fn clone(&self) -> Self {
        Catalog {
            calls: Cell::new(self.calls.get()),
            stock: self.stock.clone(),
        }
    }
}

#[test]
fn methods_take_their_receiver_to_the_fallback() {
    let mut catalog = Catalog {
        calls: Cell::new(0),
        stock: vec![10, 20],
    };
    assert_eq!(catalog.price(1), Ok(20));
    assert_eq!(catalog.price(9), Ok(2), "&self fallback by bare name");
    assert_eq!(
        catalog.price(0),
        Ok(2),
        "open: served without calling the body"
    );
    assert_eq!(catalog.calls.get(), 2);
    assert_eq!(catalog.restock(&[30]), Ok(3));
    assert_eq!(
        catalog.restock(&[0, 5]),
        Ok(3),
        "&mut self fallback by Self:: path"
    );
    assert_eq!(catalog.stock, [10, 20, 30]);
    assert_eq!(catalog.clone().into_total(), Ok(60));
    catalog.stock.clear();
    assert_eq!(
        catalog.into_total(),
        Ok(1_002),
        "self fallback gets a clone"
    );
}

trait Prices {
    fn price(&self, item: u32) -> Result<u32, RecsError>;
}

struct Flat;

impl Prices for Flat {
    #[circuit_breaker(name = "sync::trait_impl")]
    fn price(&self, item: u32) -> Result<u32, RecsError> {
        Ok(item * 2)
    }
}

#[test]
fn trait_impl_methods_work() {
    assert_eq!(Flat.price(4), Ok(8));
    assert!(registry::get("sync::trait_impl").is_some());
}

#[circuit_breaker(name = "sync::question_mark")]
fn parses(text: &str) -> Result<u32, RecsError> {
    let number: u32 = text.parse().map_err(|_| RecsError::NotFound)?;
    if number == 0 {
        return Err(RecsError::Down);
    }
    Ok(number)
}

#[test]
fn return_and_question_mark_keep_their_meaning() {
    assert_eq!(parses("12"), Ok(12));
    assert_eq!(parses("x"), Err(RecsError::NotFound));
    assert_eq!(parses("0"), Err(RecsError::Down));
}

#[circuit_breaker(name = "sync::panics_in_bulkhead", max_concurrent = 1)]
fn panics_holding_a_slot(user: u64) -> Result<u64, RecsError> {
    assert!(user != 0, "the client has a bug");
    Ok(user)
}

#[test]
fn a_panic_gives_back_its_bulkhead_slot() {
    let _ = catch_unwind(AssertUnwindSafe(|| panics_holding_a_slot(0)));
    assert_eq!(
        panics_holding_a_slot(3),
        Ok(3),
        "the only slot was returned"
    );
}
