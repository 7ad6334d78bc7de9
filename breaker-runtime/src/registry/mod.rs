//! Breakers by name, for the whole process: how generated code finds its breaker, how an
//! application lists every breaker to export metrics or to force one open, and where overrides
//! are put in force.
//!
//! Every `#[circuit_breaker]` function's breaker is here from the start (the first use of the
//! registry makes them all, from the declarations the linker gathered): [`all`] lists them
//! before any of them was called, and [`check`] says whether two functions share one by
//! accident. An annotated breaker's name is the one its attribute gives, or by default
//! `module_path!()::function_name` (`shop::catalog::search`); a method's type is not part of
//! it, so two methods of one name in one module need a `name` each ([`check`] finds them).
//!
//! The registry also knows every [`Keyed`](crate::Keyed) family by its name (an annotated
//! function's with `key = "arg"` from the start, one made in code from
//! [`Keyed::new`](crate::Keyed::new)), so that overrides can configure a family's keys before
//! they exist: a key made later, or evicted and made again, starts with the overrides in force.
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

#[cfg(feature = "serde")]
mod apply;
mod entry;
mod health;
mod layers;
#[cfg(all(feature = "serde", feature = "tokio"))]
mod reload;

use std::{
    collections::BTreeMap,
    panic::Location,
    sync::{Arc, LazyLock, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard},
};

pub use crate::config::declaration::{Conflict, Origin, RegistryError, Site};
#[cfg(feature = "serde")]
pub use apply::{Applied, Change};
pub(crate) use entry::Family;
pub use health::{BreakerHealth, Health, HealthStatus};
#[cfg(all(feature = "serde", feature = "tokio"))]
pub use reload::Reload;

use crate::{
    CircuitBreaker, Config, Name, Transition,
    config::declaration::{self, DECLARATIONS, Declaration},
    transition::EVERY_BREAKER,
};
use entry::{Declared, Entry};
use layers::Layers;

/// Everything the registry holds, under one lock.
pub(crate) struct Registry {
    breakers: BTreeMap<Name, Entry>,
    families: BTreeMap<Name, Arc<Family>>,
    /// Conflicts found among breakers and families made in code, as they were made.
    conflicts: Vec<Conflict>,
    /// The configuration each breaker registered in code declared, once overrides replaced it.
    originals: BTreeMap<Name, Config>,
    /// The overrides in force, for breakers made from now on.
    layers: Layers,
    /// The shadows the overrides declared, by breaker.
    #[cfg(feature = "serde")]
    shadows: BTreeMap<String, crate::PartialConfig>,
}

/// Made at the registry's first use, with every annotated function's breaker and family in it.
static REGISTRY: LazyLock<RwLock<Registry>> = LazyLock::new(|| {
    let mut registry = Registry {
        breakers: BTreeMap::new(),
        families: BTreeMap::new(),
        conflicts: Vec::new(),
        originals: BTreeMap::new(),
        layers: Layers::default(),
        #[cfg(feature = "serde")]
        shadows: BTreeMap::new(),
    };
    for declared in DECLARATIONS {
        // Functions that share a name share the breaker (or the family) of whichever comes
        // first; if they configure it differently, `check` says so.
        if declared.keyed {
            registry
                .families
                .entry(Name::from(declared.name))
                .or_insert_with(|| Arc::new(Family::declared(declared)));
        } else {
            registry
                .breakers
                .entry(Name::from(declared.name))
                .or_insert_with(|| Entry::declared(declared));
        }
    }
    RwLock::new(registry)
});

fn read() -> RwLockReadGuard<'static, Registry> {
    REGISTRY.read().unwrap_or_else(PoisonError::into_inner)
}

fn write() -> RwLockWriteGuard<'static, Registry> {
    REGISTRY.write().unwrap_or_else(PoisonError::into_inner)
}

impl Registry {
    /// Puts the overrides in force on `breaker`, just registered under `name` with the
    /// configuration its code declared. A configuration the overrides make invalid (they were
    /// checked against the breakers there were when they were applied) is not put in force:
    /// the breaker keeps its own, and [`check`] reports it.
    fn configure_new(&mut self, name: &Name, breaker: &CircuitBreaker, declared: &Declared) {
        let family = declared.family().map(|family| &*family.name);
        let layered = self
            .layers
            .partial(name, family, &declared.code_layer(breaker, None));
        match layered.build() {
            Ok(config) if config != breaker.config() => {
                if declared.keeps_original() {
                    self.originals.insert(name.clone(), breaker.config());
                }
                breaker.put_in_force(config);
            }
            Ok(_) => {}
            Err(error) => {
                #[cfg(feature = "tracing")]
                tracing::warn!(
                    breaker = %name,
                    "the overrides in force do not apply to this breaker, made after them: {error}; \
                     it runs with its own configuration"
                );
                self.record(Conflict::OverridesRefused {
                    name: name.to_string(),
                    error,
                });
            }
        }
        self.shadow_new(name, family, breaker);
    }

    /// Runs the shadow the overrides declared for a breaker made after them (its own, or its
    /// family's), if any. Keys that make no valid configuration over this breaker's leave it
    /// without one, as overrides that do not apply to it leave its configuration.
    #[cfg_attr(not(feature = "serde"), allow(clippy::unused_self))]
    fn shadow_new(&self, name: &str, family: Option<&str>, breaker: &CircuitBreaker) {
        #[cfg(feature = "serde")]
        if let Some((_, keys)) = apply::shadow_of(&self.shadows, name, family) {
            let _ = breaker.set_shadow(keys);
        }
        #[cfg(not(feature = "serde"))]
        let _ = (name, family, breaker);
    }

    /// Records a conflict found in code, once.
    fn record(&mut self, conflict: Conflict) {
        if !self.conflicts.contains(&conflict) {
            self.conflicts.push(conflict);
        }
    }
}

/// The breaker registered under `name`, if any.
#[must_use]
pub fn get(name: &str) -> Option<Arc<CircuitBreaker>> {
    read()
        .breakers
        .get(name)
        .map(|entry| Arc::clone(&entry.breaker))
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
        .breakers
        .values()
        .map(|entry| Arc::clone(&entry.breaker))
        .collect()
}

/// The service's health as its breakers see it: `Down` if a breaker marked
/// [`critical`](crate::ConfigBuilder::critical) is open, half-open or forced open; `Degraded`
/// if another one is; `Up` otherwise; and every registered breaker's state (a
/// [`Keyed`](crate::Keyed) family's keys each as a breaker of its own). With the `http`
/// feature, `GET /health` on `http::router()` answers it, `503` when
/// `Down`.
///
/// `critical` is off by default: an open breaker means one dependency is failing, and taking
/// every instance out of rotation for it (a readiness probe failing on `Degraded`) would turn
/// that partial outage into a total one. Mark critical only a dependency without which the
/// service can answer nothing useful.
///
/// ```
/// use fusebox::{CircuitBreaker, Config, registry::{self, HealthStatus}};
///
/// let ledger = registry::get_or_register(
///     "health-doc::ledger",
///     Config::builder().critical(true).build().unwrap(),
/// );
/// let search = registry::get_or_register("health-doc::search", Config::default());
/// search.force_open();
/// assert_eq!(registry::health().status, HealthStatus::Degraded);
/// ledger.force_open();
/// assert_eq!(registry::health().status, HealthStatus::Down);
/// let health = registry::health();
/// let refusing: Vec<&str> = health
///     .refusing()
///     .map(|breaker| breaker.name.as_str())
///     .filter(|name| name.starts_with("health-doc::"))
///     .collect();
/// assert_eq!(refusing, ["health-doc::ledger", "health-doc::search"]);
/// # ledger.release(); search.release();
/// ```
#[must_use]
pub fn health() -> Health {
    let breakers = read()
        .breakers
        .values()
        .map(|entry| {
            let breaker = &entry.breaker;
            BreakerHealth {
                name: breaker.name().to_owned(),
                state: breaker.state(),
                critical: breaker.config().critical(),
            }
        })
        .collect();
    Health::of(breakers)
}

/// The breaker of an annotated function: the one registered under its name at startup, or, if
/// the name was removed since (or the declaration escaped the linker), one registered now.
#[doc(hidden)]
#[must_use]
pub fn declared(declaration: &'static Declaration) -> Arc<CircuitBreaker> {
    if let Some(breaker) = get(declaration.name) {
        return breaker;
    }
    let mut registry = write();
    if let Some(entry) = registry.breakers.get(declaration.name) {
        return Arc::clone(&entry.breaker);
    }
    let entry = Entry::declared(declaration);
    let breaker = Arc::clone(&entry.breaker);
    let name = Name::from(declaration.name);
    registry.configure_new(&name, &breaker, &entry.declared);
    registry.breakers.insert(name, entry);
    breaker
}

/// The family of an annotated function with `key = "arg"`: the one registered at startup,
/// or one registered now. Not public API.
#[doc(hidden)]
#[must_use]
pub fn declared_family(declaration: &'static Declaration) -> Arc<Family> {
    Arc::clone(
        write()
            .families
            .entry(Name::from(declaration.name))
            .or_insert_with(|| Arc::new(Family::declared(declaration))),
    )
}

/// A family made in code ([`Keyed::new`](crate::Keyed::new)) under `name`, with `config`, at
/// `site`. A family of that name already registered keeps the name (and the overrides); the
/// new one is a [`Conflict`] that [`check`] reports, naming both places, and it works on
/// with the overrides of no name.
pub(crate) fn code_family(
    name: Name,
    config: Config,
    site: &'static Location<'static>,
) -> Arc<Family> {
    let family = Arc::new(Family::code(name.clone(), config, site));
    let mut registry = write();
    match registry.families.get(&name) {
        Some(holder) => {
            let conflict = Conflict::FamilyTaken {
                name: name.to_string(),
                holder: holder.origin(),
                asked: family.origin(),
            };
            registry.record(conflict);
        }
        None => {
            registry.families.insert(name, Arc::clone(&family));
        }
    }
    family
}

/// Unlists `family` if it is the one registered under its name (a `Keyed` that is dropped).
pub(crate) fn forget_family(family: &Arc<Family>) {
    let mut registry = write();
    if registry
        .families
        .get(&family.name)
        .is_some_and(|registered| Arc::ptr_eq(registered, family))
    {
        registry.families.remove(&family.name);
    }
}

/// A key of `family` named `name`: its breaker, made by `make` with the configuration the
/// family and the overrides in force give it (a key's own entry over the family's, over the
/// family's code, over the defaults), and registered. A name another breaker holds leaves
/// this one out of the registry; it still works.
pub(crate) fn register_key(
    family: &Arc<Family>,
    name: String,
    make: impl FnOnce(String, Config) -> Arc<CircuitBreaker>,
) -> Arc<CircuitBreaker> {
    let mut registry = write();
    let declared = Declared::Key(Arc::clone(family));
    let config = match registry
        .layers
        .partial(&name, Some(&family.name), &family.code_layer())
        .build()
    {
        // The keys its code set are the family's; the rest came from overrides.
        Ok(layered) => layered.with_set_of(&family.config()),
        Err(error) => {
            registry.record(Conflict::OverridesRefused {
                name: name.clone(),
                error,
            });
            family.config()
        }
    };
    let breaker = make(name, config);
    registry.shadow_new(breaker.name(), Some(&family.name), &breaker);
    if !registry.breakers.contains_key(breaker.name()) {
        registry.breakers.insert(
            breaker.name.clone(),
            Entry {
                breaker: Arc::clone(&breaker),
                declared,
            },
        );
    }
    breaker
}

/// Checks that no two breakers share a name by accident, and that the overrides in force
/// reached every breaker:
///
/// - two `#[circuit_breaker]` functions whose default names are the same (two `fn get` in
///   different impls of one module), or two that give one `name` and configure it
///   differently (functions that give the same `name` with the same keys share one breaker,
///   on purpose);
/// - a breaker asked for in code ([`get_or_register`], a tower layer) under a name already
///   held with a different configuration: the code got the breaker that holds the name, and
///   runs with its configuration, not its own;
/// - a [`Keyed`](crate::Keyed) family made under a name another family holds;
/// - a breaker made after overrides were applied, whose configuration they would make
///   invalid (it runs with its own).
///
/// Each names both places by file and line. [`apply`] calls it; an application that loads no
/// overrides can call it at startup, or in a test (`assert_eq!(registry::check(), Ok(()))`) to
/// learn of a collision before it ships.
///
/// # Errors
/// A [`RegistryError`] listing every conflict, each saying what to do.
///
/// ```
/// use fusebox::{Config, registry};
///
/// registry::get_or_register("check-doc::catalog", Config::default());
/// assert_eq!(registry::check(), Ok(()));
///
/// // The same name asked for elsewhere with another configuration: a conflict, not a surprise.
/// let stricter = Config::builder().error_threshold(10).build()?;
/// let shared = registry::get_or_register("check-doc::catalog", stricter);
/// assert_eq!(shared.config().error_threshold(), 50, "the breaker that holds the name");
/// let error = registry::check().unwrap_err();
/// assert!(error.to_string().contains("check-doc::catalog"));
/// # Ok::<(), fusebox::ConfigError>(())
/// ```
pub fn check() -> Result<(), RegistryError> {
    let mut conflicts = declaration::conflicts(DECLARATIONS.iter());
    conflicts.extend(read().conflicts.iter().cloned());
    if conflicts.is_empty() {
        Ok(())
    } else {
        Err(RegistryError { conflicts })
    }
}

/// The breaker registered under `name`, registering a new one with `config` if there is none,
/// with the overrides in force (`defaults` for the keys `config` did not set, see
/// [`Overrides`](crate::Overrides)). Whoever registers a name first sets its configuration;
/// later callers share that breaker, and one that asks with a different configuration is a
/// [`Conflict`] that [`check`] reports, naming both places.
#[track_caller]
pub fn get_or_register(name: impl Into<Name>, config: Config) -> Arc<CircuitBreaker> {
    let name = name.into();
    let site = Location::caller();
    // One write lock, not a read first: a name already held is compared with what is asked
    // for, and a conflict recorded, under the same lock that found it.
    let mut registry = write();
    if let Some(entry) = registry.breakers.get(&name) {
        let existing = Arc::clone(&entry.breaker);
        registry.note_asked(&name, config, site);
        return existing;
    }
    let entry = Entry::code(Arc::new(CircuitBreaker::new(name.clone(), config)), site);
    let breaker = Arc::clone(&entry.breaker);
    registry.configure_new(&name, &breaker, &entry.declared);
    registry.breakers.insert(name, entry);
    breaker
}

impl Registry {
    /// `config` was asked for at `site` under `name`, which a breaker holds: a conflict if the
    /// configuration its code declared is another.
    fn note_asked(&mut self, name: &str, config: Config, site: &'static Location<'static>) {
        let Some(entry) = self.breakers.get(name) else {
            return;
        };
        let declared = entry
            .declared
            .declared_config(&entry.breaker, self.originals.get(name));
        if declared != config {
            let conflict = Conflict::Taken {
                name: name.to_owned(),
                holder: (entry.declared.origin(), declared.set_keys()),
                asked: (Origin::code(site), config.set_keys()),
            };
            self.record(conflict);
        }
    }
}

/// A breaker of that name is already registered.
#[derive(Debug, thiserror::Error)]
#[error("a circuit breaker named `{}` is already registered", .existing.name())]
pub struct AlreadyRegistered {
    /// The breaker registered under that name.
    pub existing: Arc<CircuitBreaker>,
}

/// Registers `breaker` under its name, with the overrides in force, and returns a handle to
/// it.
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
#[track_caller]
pub fn register(breaker: CircuitBreaker) -> Result<Arc<CircuitBreaker>, AlreadyRegistered> {
    register_shared(Arc::new(breaker))
}

/// [`register`] for a breaker already in an `Arc`.
///
/// # Errors
/// As [`register`].
#[track_caller]
pub fn register_shared(
    breaker: Arc<CircuitBreaker>,
) -> Result<Arc<CircuitBreaker>, AlreadyRegistered> {
    let site = Location::caller();
    let mut registry = write();
    if let Some(existing) = registry.breakers.get(breaker.name()) {
        return Err(AlreadyRegistered {
            existing: Arc::clone(&existing.breaker),
        });
    }
    let entry = Entry::code(Arc::clone(&breaker), site);
    registry.configure_new(&breaker.name, &breaker, &entry.declared);
    registry.breakers.insert(breaker.name.clone(), entry);
    Ok(breaker)
}

/// Takes the breaker registered under `name` out of the registry and returns it; `None` if no
/// breaker has that name. The breaker goes on working for whoever holds it, and is freed when
/// the last of them drops it.
// Not `must_use`: unlisting is the point; the breaker is returned for whoever wants it.
#[allow(clippy::must_use_candidate)]
pub fn remove(name: &str) -> Option<Arc<CircuitBreaker>> {
    let mut registry = write();
    registry.originals.remove(name);
    registry.breakers.remove(name).map(|entry| entry.breaker)
}

/// Removes `breaker` if it is the one registered under its name (and not another of the same
/// name registered since).
pub(crate) fn remove_this(breaker: &Arc<CircuitBreaker>) {
    let mut registry = write();
    if registry
        .breakers
        .get(breaker.name())
        .is_some_and(|registered| Arc::ptr_eq(&registered.breaker, breaker))
    {
        registry.breakers.remove(breaker.name());
        registry.originals.remove(breaker.name());
    }
}

/// Puts `overrides` in force: on every registered breaker, on every [`Keyed`](crate::Keyed)
/// family's keys (those made already, those made later, and those evicted and made again), and
/// on every breaker registered later. At startup, or at run time as a hot reload (a live
/// breaker keeps its state and its window; see [`CircuitBreaker::reconfigure`] for how each key
/// takes effect). Everything is checked first ([`check`]'s conflicts, every name, every value,
/// every breaker's, family's and waiting key's resulting configuration) and then all of it is
/// applied, or nothing. See [`Overrides`](crate::Overrides) for the layers and their
/// precedence.
///
/// A breaker configured with [`reconfigure`](CircuitBreaker::reconfigure) is left alone (and
/// listed in [`Applied::reconfigured`]).
///
/// # Errors
/// [`OverridesError`](crate::OverridesError): a conflict ([`check`]), a name that is no
/// breaker's, no family's and no key's of a known family (with the closest registered one), a
/// value outside its limit (naming the breaker, the key and the range), or a breaker whose
/// layers add up to an invalid configuration.
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
pub fn apply(overrides: &crate::Overrides) -> Result<Applied, crate::OverridesError> {
    check()?;
    apply::apply(&mut write(), overrides)
}

/// Puts the configuration of the shadow of the breaker named `name` in force and ends the
/// shadow ([`CircuitBreaker::promote_shadow`]): the window and the state are kept, and
/// overrides leave the breaker alone from then on, as after
/// [`reconfigure`](CircuitBreaker::reconfigure) (write the keys into the overrides' file, under
/// `breakers`, to keep them past a restart). The configuration put in force, or `None` if no
/// registered breaker of that name has a shadow. `POST /breakers/{name}/promote-shadow` on the
/// admin router (`http` feature) calls it.
///
/// ```
/// use fusebox::{CircuitBreaker, Config, PartialConfig, registry};
///
/// let search = registry::register(CircuitBreaker::new("promote-doc::search", Config::default()))?;
/// let mut keys = PartialConfig::new();
/// keys.error_threshold = Some(30);
/// search.set_shadow(&keys)?;
/// let promoted = registry::promote_shadow("promote-doc::search").expect("a shadow");
/// assert_eq!(promoted.error_threshold(), 30);
/// assert_eq!(search.config().error_threshold(), 30);
/// assert_eq!(registry::promote_shadow("promote-doc::search"), None); // promoted: gone
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
// Called for what it does; the configuration is for the caller who wants to say what it did.
#[allow(clippy::must_use_candidate)]
pub fn promote_shadow(name: &str) -> Option<Config> {
    get(name)?.promote_shadow()
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

/// Puts the overrides in the TOML file at `path` in force now ([`apply`]), and again whenever
/// the file changes: its bytes are read every `period` (at least 10 ms) and compared with the
/// last reading, whatever its timestamps say (a file replaced by a `ConfigMap` update, an
/// editor's rename). Each reading that changed is applied as a whole or refused as a whole: a
/// malformed file, an unknown name or a value out of range leaves every breaker as it was.
/// With the `tracing` feature each outcome is an event (`info` applied, `warn` refused);
/// [`Reload::last`] has the last one. Runs on Tokio until [`Reload::stop`].
///
/// The file is the overrides' file layer (see [`Overrides`](crate::Overrides)): watch one
/// file, or the last applied replaces the others' keys. The environment's layer is left
/// alone.
///
/// # Errors
/// The first reading's [`OverridesError`](crate::OverridesError) (the file must be good at
/// startup), or [`OverridesError::NoRuntime`](crate::OverridesError::NoRuntime) outside a
/// Tokio runtime.
///
/// ```
/// use std::time::Duration;
/// use fusebox::{CircuitBreaker, Config, registry};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// registry::register(CircuitBreaker::new("watch-doc::search", Config::default()))?;
/// let path = std::env::temp_dir().join(format!("watch-doc-{}.toml", std::process::id()));
/// std::fs::write(&path, "[breakers.\"watch-doc::search\"]\nerror_threshold = 30\n")?;
/// let reload = registry::watch_file(&path, Duration::from_secs(5))?;
/// let search = registry::get("watch-doc::search").unwrap();
/// assert_eq!(search.config().error_threshold(), 30);
/// reload.stop();
/// # std::fs::remove_file(&path)?;
/// # Ok(())
/// # }
/// ```
#[cfg(all(feature = "serde", feature = "tokio"))]
pub fn watch_file(
    path: impl Into<std::path::PathBuf>,
    period: std::time::Duration,
) -> Result<Reload, crate::OverridesError> {
    reload::watch_file(path.into(), period)
}

/// Puts the overrides in the TOML file at `path` in force now, and again each time the process
/// receives `SIGHUP` (`kill -HUP <pid>`, `systemctl reload`), as [`watch_file`] does on a
/// change: a file refused leaves everything as it was, and each outcome is reported the same
/// way. Unix only; runs on Tokio until [`Reload::stop`].
///
/// # Errors
/// As [`watch_file`], or [`OverridesError::Read`](crate::OverridesError::Read) if the signal
/// cannot be listened for.
#[cfg(all(feature = "serde", feature = "tokio", unix, not(loom)))]
pub fn reload_on_sighup(
    path: impl Into<std::path::PathBuf>,
) -> Result<Reload, crate::OverridesError> {
    reload::reload_on_sighup(path.into())
}

/// Calls `listener` after every call of every breaker in the registry and of every breaker
/// made from now on (registered or not), with what became of it; see
/// [`CircuitBreaker::on_call`] for when it runs and what it costs. A breaker made in code
/// before this call and never registered is not heard: give it a listener of its own.
///
/// ```
/// use std::sync::{Arc, atomic::{AtomicU64, Ordering}};
/// use fusebox::{CallKind, CircuitBreaker, Config, registry};
///
/// let rejected = Arc::new(AtomicU64::new(0));
/// let counted = Arc::clone(&rejected);
/// registry::on_call(move |event| {
///     if event.kind == CallKind::Rejected && event.name == "every-call-doc" {
///         counted.fetch_add(1, Ordering::Relaxed);
///     }
/// });
/// let breaker = CircuitBreaker::new("every-call-doc", Config::default());
/// breaker.force_open();
/// let _ = breaker.call(|| Ok::<_, ()>(()));
/// assert_eq!(rejected.load(Ordering::Relaxed), 1);
/// ```
pub fn on_call(listener: impl Fn(&crate::CallEvent<'_>) + Send + Sync + 'static) {
    crate::call_event::EVERY_CALL.add(Box::new(listener));
    // Breakers made from now on listen from the start; those registered already, from now.
    for breaker in all() {
        breaker.listen_to_calls();
    }
}
