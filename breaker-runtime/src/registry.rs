//! Breakers by name, for the whole process: how generated code finds its breaker, and how an
//! application lists every breaker to export metrics or to force one open.
//!
//! Registered breakers live until the process ends (the registry hands out `&'static`
//! references), as Hystrix's and Resilience4j's registries keep theirs.
//!
//! ```
//! use fusebox::{CircuitBreaker, Config, registry};
//!
//! let orders = registry::get_or_register("registry-doc::orders", Config::default());
//! assert!(std::ptr::eq(orders, registry::get("registry-doc::orders").unwrap()));
//! assert!(registry::all().iter().any(|b| b.name() == "registry-doc::orders"));
//! ```

use std::{
    collections::BTreeMap,
    sync::{PoisonError, RwLock},
};

use crate::{CircuitBreaker, Config, Transition, listener::EVERY_BREAKER};

static BREAKERS: RwLock<BTreeMap<&'static str, &'static CircuitBreaker>> =
    RwLock::new(BTreeMap::new());

/// The breaker registered under `name`, if any. (A `#[circuit_breaker]` function's breaker is
/// registered at the function's first call.)
#[must_use]
pub fn get(name: &str) -> Option<&'static CircuitBreaker> {
    BREAKERS
        .read()
        .unwrap_or_else(PoisonError::into_inner)
        .get(name)
        .copied()
}

/// Every registered breaker, ordered by name.
#[must_use]
pub fn all() -> Vec<&'static CircuitBreaker> {
    BREAKERS
        .read()
        .unwrap_or_else(PoisonError::into_inner)
        .values()
        .copied()
        .collect()
}

/// The breaker registered under `name`, registering a new one with `config` if there is none.
/// Whoever registers a name first sets its configuration; later callers share that breaker.
pub fn get_or_register(name: &'static str, config: Config) -> &'static CircuitBreaker {
    if let Some(breaker) = get(name) {
        return breaker;
    }
    let mut breakers = BREAKERS.write().unwrap_or_else(PoisonError::into_inner);
    breakers
        .entry(name)
        .or_insert_with(|| Box::leak(Box::new(CircuitBreaker::new(name, config))))
}

/// A breaker of that name is already registered.
#[derive(Debug, thiserror::Error)]
#[error("a circuit breaker named `{}` is already registered", .existing.name())]
pub struct AlreadyRegistered {
    /// The breaker registered under that name.
    pub existing: &'static CircuitBreaker,
}

/// Registers `breaker` under its name and returns it for the rest of the process.
///
/// # Errors
/// [`AlreadyRegistered`], holding the existing breaker, if the name is taken; `breaker` is
/// then dropped.
///
/// ```
/// use fusebox::{CircuitBreaker, Config, registry};
///
/// let host = "10.1.2.3";
/// let breaker = registry::register(CircuitBreaker::new(format!("search@{host}"), Config::default()))?;
/// assert!(registry::register(CircuitBreaker::new(format!("search@{host}"), Config::default())).is_err());
/// assert_eq!(registry::get("search@10.1.2.3").unwrap().name(), breaker.name());
/// # Ok::<(), registry::AlreadyRegistered>(())
/// ```
pub fn register(breaker: CircuitBreaker) -> Result<&'static CircuitBreaker, AlreadyRegistered> {
    let mut breakers = BREAKERS.write().unwrap_or_else(PoisonError::into_inner);
    if let Some(existing) = breakers.get(breaker.name()) {
        return Err(AlreadyRegistered { existing });
    }
    let breaker: &'static CircuitBreaker = Box::leak(Box::new(breaker));
    breakers.insert(breaker.name(), breaker);
    Ok(breaker)
}

/// Calls `listener` on every state change of every breaker, registered or not, including
/// breakers created later. See [`Transition`] for when listeners run.
///
/// ```
/// use std::sync::atomic::{AtomicUsize, Ordering};
/// use fusebox::{CircuitBreaker, Config, registry};
///
/// static OPENED: AtomicUsize = AtomicUsize::new(0);
/// registry::on_transition(|t| {
///     if t.to.is_open() && t.name.starts_with("on-transition-doc") {
///         OPENED.fetch_add(1, Ordering::Relaxed);
///     }
/// });
/// CircuitBreaker::new("on-transition-doc", Config::default()).force_open();
/// assert_eq!(OPENED.load(Ordering::Relaxed), 1);
/// ```
pub fn on_transition(listener: impl Fn(&Transition) + Send + Sync + 'static) {
    EVERY_BREAKER.add(Box::new(listener));
}
