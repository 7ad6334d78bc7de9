//! Breakers by name, for the whole process: how generated code finds its breaker, and how an
//! application lists every breaker to export metrics or to force one open.
//!
//! Every `#[circuit_breaker]` function's breaker is here from the start (the first use of the
//! registry makes them all, from the declarations the linker gathered): [`all`] lists them
//! before any of them was called, and [`check`] says whether two functions share one by
//! accident. An annotated breaker's name is the one its attribute gives, or by default
//! `module_path!()::function_name` (`shop::catalog::search`); a method's type is not part of
//! it, so two methods of one name in one module need a `name` each ([`check`] finds them).
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
    fmt,
    sync::{Arc, LazyLock, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard},
};

use once_cell::race::OnceBox;

use crate::{
    CircuitBreaker, Config, Name, PartialConfig, Transition,
    declaration::{self, DECLARATIONS, Declaration},
    listener::EVERY_BREAKER,
};

pub use crate::declaration::{Conflict, Site};

/// A registered breaker, and the configuration its code declared: the layer that overrides
/// go over (see [`Overrides`](crate::Overrides)).
pub(crate) struct Entry {
    pub(crate) breaker: Arc<CircuitBreaker>,
    #[cfg_attr(not(feature = "serde"), allow(dead_code))] // read by `registry::apply`
    pub(crate) declared: Declared,
}

/// What a registered breaker's code declared, in two words: every breaker of a
/// [`Keyed`](crate::Keyed) family is registered, so this is paid per key.
pub(crate) enum Declared {
    /// An annotated function's: its attribute's literals are in its declaration.
    Attribute(&'static Declaration),
    /// A breaker registered in code: every key of the configuration it was registered with.
    /// Until overrides change it, that is the configuration in force (code that sets its own
    /// with `reconfigure` is left alone by overrides), so it is kept only from then on.
    Code(OnceBox<Config>),
}

#[cfg_attr(not(feature = "serde"), allow(dead_code))] // read by `registry::apply`
impl Declared {
    fn code() -> Declared {
        Declared::Code(OnceBox::new())
    }

    /// The layer of precedence this is, as overrides see it, for `breaker`.
    pub(crate) fn layer(&self, breaker: &CircuitBreaker) -> PartialConfig {
        match self {
            Declared::Attribute(declaration) => declaration.literals,
            Declared::Code(registered) => PartialConfig::from(
                registered
                    .get()
                    .copied()
                    .unwrap_or_else(|| breaker.config()),
            ),
        }
    }

    /// Overrides are about to replace `before`, the configuration in force: a breaker
    /// registered in code keeps it, if it had not yet.
    pub(crate) fn replacing(&self, before: Config) {
        if let Declared::Code(registered) = self {
            let _ = registered.get_or_init(|| Box::new(before));
        }
    }
}

pub(crate) type Breakers = BTreeMap<Name, Entry>;

/// Made at the registry's first use, with every annotated function's breaker in it.
static BREAKERS: LazyLock<RwLock<Breakers>> = LazyLock::new(|| {
    let mut breakers = Breakers::new();
    for declared in DECLARATIONS {
        if !declared.keyed {
            // Functions that share a name share the breaker of whichever comes first; if they
            // configure it differently, `check` says so.
            breakers
                .entry(Name::from(declared.name))
                .or_insert_with(|| entry_of(declared));
        }
    }
    RwLock::new(breakers)
});

fn entry_of(declared: &'static Declaration) -> Entry {
    Entry {
        breaker: Arc::new(CircuitBreaker::new(declared.name, declared.config())),
        declared: Declared::Attribute(declared),
    }
}

pub(crate) fn read() -> RwLockReadGuard<'static, Breakers> {
    BREAKERS.read().unwrap_or_else(PoisonError::into_inner)
}

fn write() -> RwLockWriteGuard<'static, Breakers> {
    BREAKERS.write().unwrap_or_else(PoisonError::into_inner)
}

/// The breaker registered under `name`, if any.
#[must_use]
pub fn get(name: &str) -> Option<Arc<CircuitBreaker>> {
    read().get(name).map(|entry| Arc::clone(&entry.breaker))
}

/// Every registered breaker, ordered by name: every `#[circuit_breaker]` function's from the
/// start, called or not, and those registered in code.
///
/// ```
/// use fusebox::{circuit_breaker, registry};
///
/// #[circuit_breaker(error_threshold = 30)]
/// fn stock_level(sku: u32) -> Result<u32, fusebox::BreakerError> {
///     Ok(sku % 7)
/// }
///
/// // Listed, with its configuration, before its first call.
/// let listed = registry::all()
///     .into_iter()
///     .find(|breaker| breaker.name().ends_with("::stock_level"))
///     .expect("registered at startup");
/// assert_eq!(listed.config().error_threshold(), 30);
/// # let _ = stock_level(1);
/// ```
#[must_use]
pub fn all() -> Vec<Arc<CircuitBreaker>> {
    read()
        .values()
        .map(|entry| Arc::clone(&entry.breaker))
        .collect()
}

/// The breaker of an annotated function: the one registered under its name at startup, or, if
/// the name was removed since (or the declaration escaped the linker), one registered now.
#[doc(hidden)]
#[must_use]
pub fn declared(declaration: &'static Declaration) -> Arc<CircuitBreaker> {
    if let Some(breaker) = get(declaration.name) {
        return breaker;
    }
    Arc::clone(
        &write()
            .entry(Name::from(declaration.name))
            .or_insert_with(|| entry_of(declaration))
            .breaker,
    )
}

/// Two or more annotated functions would share a breaker by accident; see [`check`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RegistryError {
    /// Every conflict found, ordered by name.
    pub conflicts: Vec<Conflict>,
}

impl fmt::Display for RegistryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, conflict) in self.conflicts.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{conflict}")?;
        }
        Ok(())
    }
}

impl std::error::Error for RegistryError {}

/// Checks that no two `#[circuit_breaker]` functions share a breaker by accident: two
/// functions whose default names are the same (two `fn get` in different impls of one module),
/// or two that give one `name` and configure it differently. Functions that give the same
/// `name` with the same keys share one breaker, on purpose.
///
/// [`apply`] calls it; an application that loads no overrides can call it at startup, or in a
/// test (`assert_eq!(registry::check(), Ok(()))`) to learn of a collision before it ships.
///
/// # Errors
/// A [`RegistryError`] listing every conflict, each naming both functions by file and line
/// and saying what to do.
///
/// ```
/// use fusebox::registry;
///
/// // This crate's examples declare no colliding breakers.
/// assert_eq!(registry::check(), Ok(()));
/// ```
pub fn check() -> Result<(), RegistryError> {
    let conflicts = declaration::conflicts(DECLARATIONS.iter());
    if conflicts.is_empty() {
        Ok(())
    } else {
        Err(RegistryError { conflicts })
    }
}

/// The breaker registered under `name`, registering a new one with `config` if there is none.
/// Whoever registers a name first sets its configuration; later callers share that breaker.
pub fn get_or_register(name: impl Into<Name>, config: Config) -> Arc<CircuitBreaker> {
    let name = name.into();
    if let Some(breaker) = get(&name) {
        return breaker;
    }
    Arc::clone(
        &write()
            .entry(name.clone())
            .or_insert_with(|| Entry {
                breaker: Arc::new(CircuitBreaker::new(name, config)),
                declared: Declared::code(),
            })
            .breaker,
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
            existing: Arc::clone(&existing.breaker),
        });
    }
    let entry = Entry {
        breaker: Arc::clone(&breaker),
        declared: Declared::code(),
    };
    breakers.insert(breaker.name.clone(), entry);
    Ok(breaker)
}

/// Takes the breaker registered under `name` out of the registry and returns it; `None` if no
/// breaker has that name. The breaker goes on working for whoever holds it, and is freed when
/// the last of them drops it.
// Not `must_use`: unlisting is the point; the breaker is returned for whoever wants it.
#[allow(clippy::must_use_candidate)]
pub fn remove(name: &str) -> Option<Arc<CircuitBreaker>> {
    write().remove(name).map(|entry| entry.breaker)
}

/// Removes `breaker` if it is the one registered under its name (and not another of the same
/// name registered since).
pub(crate) fn remove_this(breaker: &Arc<CircuitBreaker>) {
    let mut breakers = write();
    if breakers
        .get(breaker.name())
        .is_some_and(|registered| Arc::ptr_eq(&registered.breaker, breaker))
    {
        breakers.remove(breaker.name());
    }
}

/// Puts `overrides` in force on every registered breaker: at startup, or at run time as a hot
/// reload (a live breaker keeps its state and its window; see
/// [`CircuitBreaker::reconfigure`] for how each key takes effect). Everything is checked
/// first ([`check`]'s conflicts, every name, every value, every breaker's resulting
/// configuration) and then all of it is applied, or nothing. See [`Overrides`](crate::Overrides)
/// for the layers and their precedence.
///
/// Breakers registered later are not affected by it; a breaker configured with
/// [`reconfigure`](CircuitBreaker::reconfigure) is left alone (and listed in
/// [`Applied::reconfigured`](crate::Applied::reconfigured)).
///
/// # Errors
/// [`OverridesError`](crate::OverridesError): a conflict between annotated functions, a name
/// no breaker has (with the closest registered one), a value outside its limit (naming the
/// breaker, the key and the range), or a breaker whose layers add up to an invalid
/// configuration.
///
/// ```
/// use fusebox::{CircuitBreaker, Config, Overrides, OverridesError, registry};
///
/// registry::register(CircuitBreaker::new("apply-doc::pricing", Config::default()))?;
/// let overrides = Overrides::from_toml_str(r#"
///     [breakers."apply-doc::pricing"]
///     error_threshold = 25
/// "#)?;
/// let applied = registry::apply(&overrides)?;
/// assert!(applied.changed.iter().any(|change| change.name == "apply-doc::pricing"));
/// assert_eq!(registry::get("apply-doc::pricing").unwrap().config().error_threshold(), 25);
///
/// let typo = Overrides::from_toml_str("[breakers.\"apply-doc::pricng\"]\nerror_threshold = 5")?;
/// assert_eq!(
///     registry::apply(&typo).unwrap_err().to_string(),
///     "no circuit breaker is named `apply-doc::pricng`; did you mean `apply-doc::pricing`?"
/// );
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[cfg(feature = "serde")]
#[cfg_attr(docsrs, doc(cfg(feature = "serde")))]
pub fn apply(overrides: &crate::Overrides) -> Result<crate::Applied, crate::OverridesError> {
    crate::overrides::apply(overrides)
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
