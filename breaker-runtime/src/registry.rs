//! Breakers by name, for the whole process: how generated code finds its breaker, and how an
//! application lists every breaker to export metrics or to force one open.
//!
//! The registry holds each breaker in an [`Arc`] and hands out clones of it. A breaker stays
//! registered until [`remove`] takes it out (a [`Keyed`](crate::Keyed) family removes the keys
//! it evicts); it is freed when the last handle to it is dropped. A `#[circuit_breaker]`
//! function keeps its own handle, so removing its name from the registry only unlists it: the
//! function goes on calling through the same breaker.
//!
//! ```
//! use std::sync::Arc;
//! use fusebox::{CircuitBreaker, Config, registry};
//!
//! let orders = registry::get_or_register("registry-doc::orders", Config::default());
//! assert!(Arc::ptr_eq(&orders, &registry::get("registry-doc::orders").unwrap()));
//! assert!(registry::all().iter().any(|b| b.name() == "registry-doc::orders"));
//!
//! let removed = registry::remove("registry-doc::orders").unwrap();
//! assert!(Arc::ptr_eq(&orders, &removed));
//! assert!(registry::get("registry-doc::orders").is_none());
//! ```

use std::{
    collections::BTreeMap,
    sync::{Arc, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard},
};

use crate::{CircuitBreaker, Config, Name, Transition, listener::EVERY_BREAKER};

static BREAKERS: RwLock<BTreeMap<Name, Arc<CircuitBreaker>>> = RwLock::new(BTreeMap::new());

fn read() -> RwLockReadGuard<'static, BTreeMap<Name, Arc<CircuitBreaker>>> {
    BREAKERS.read().unwrap_or_else(PoisonError::into_inner)
}

fn write() -> RwLockWriteGuard<'static, BTreeMap<Name, Arc<CircuitBreaker>>> {
    BREAKERS.write().unwrap_or_else(PoisonError::into_inner)
}

/// The breaker registered under `name`, if any. (A `#[circuit_breaker]` function's breaker is
/// registered at the function's first call.)
#[must_use]
pub fn get(name: &str) -> Option<Arc<CircuitBreaker>> {
    read().get(name).cloned()
}

/// Every registered breaker, ordered by name.
#[must_use]
pub fn all() -> Vec<Arc<CircuitBreaker>> {
    read().values().cloned().collect()
}

/// The breaker registered under `name`, registering a new one with `config` if there is none.
/// Whoever registers a name first sets its configuration; later callers share that breaker.
pub fn get_or_register(name: impl Into<Name>, config: Config) -> Arc<CircuitBreaker> {
    let name = name.into();
    if let Some(breaker) = get(&name) {
        return breaker;
    }
    Arc::clone(
        write()
            .entry(name.clone())
            .or_insert_with(|| Arc::new(CircuitBreaker::new(name, config))),
    )
}

/// A breaker of that name is already registered.
#[derive(Debug, thiserror::Error)]
#[error("a circuit breaker named `{}` is already registered", .existing.name())]
pub struct AlreadyRegistered {
    /// The breaker registered under that name.
    pub existing: Arc<CircuitBreaker>,
}

/// Registers `breaker` under its name and returns a handle to it.
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
pub fn register(breaker: CircuitBreaker) -> Result<Arc<CircuitBreaker>, AlreadyRegistered> {
    register_shared(Arc::new(breaker))
}

/// [`register`] for a breaker already in an `Arc`.
///
/// # Errors
/// As [`register`].
pub fn register_shared(
    breaker: Arc<CircuitBreaker>,
) -> Result<Arc<CircuitBreaker>, AlreadyRegistered> {
    let mut breakers = write();
    if let Some(existing) = breakers.get(breaker.name()) {
        return Err(AlreadyRegistered {
            existing: Arc::clone(existing),
        });
    }
    breakers.insert(breaker.name.clone(), Arc::clone(&breaker));
    Ok(breaker)
}

/// Takes the breaker registered under `name` out of the registry and returns it; `None` if no
/// breaker has that name. The breaker goes on working for whoever holds it, and is freed when
/// the last of them drops it.
// Not `must_use`: unlisting is the point; the breaker is returned for whoever wants it.
#[allow(clippy::must_use_candidate)]
pub fn remove(name: &str) -> Option<Arc<CircuitBreaker>> {
    write().remove(name)
}

/// Removes `breaker` if it is the one registered under its name (and not another of the same
/// name registered since).
pub(crate) fn remove_this(breaker: &Arc<CircuitBreaker>) {
    let mut breakers = write();
    if breakers
        .get(breaker.name())
        .is_some_and(|registered| Arc::ptr_eq(registered, breaker))
    {
        breakers.remove(breaker.name());
    }
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
