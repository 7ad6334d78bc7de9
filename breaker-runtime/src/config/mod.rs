//! Configuration: every key declared once, and everything made of the keys.
//!
//! - `keys.rs`: the table, one row per key; `table.rs`, how the rows become [`ConfigKey`],
//!   [`Config`]'s fields and getters, [`ConfigBuilder`]'s setters, the live configuration a
//!   breaker runs with (one atomic per key, replaceable under running calls), the
//!   [`PartialConfig`] layers and the limits' constants.
//! - `builder.rs`: [`Config`] and [`ConfigBuilder`]: building and checking a configuration.
//! - `error.rs`: [`ConfigError`], what a refused value or key is told.
//! - `limits.rs`: the allowed values of every key and the rules between keys, shared with the
//!   attribute.
//! - `partial.rs`: [`PartialConfig`], any subset of the keys: a layer of precedence.
//! - `declaration.rs`: what each annotated function declares, gathered by the linker.
//! - `overrides.rs` (`serde` feature): [`Overrides`](crate::Overrides) read from TOML, the
//!   environment or any serde loader. Reading only: the registry puts them in force
//!   ([`registry::apply`](crate::registry::apply)).

mod builder;
pub(crate) mod declaration;
mod error;
mod keys;
pub mod limits;
#[cfg(feature = "serde")]
pub(crate) mod overrides;
mod partial;
mod table;

pub use builder::ConfigBuilder;
pub(crate) use builder::millis;
pub use error::ConfigError;
pub use keys::{Config, ConfigKey, PartialConfig};
pub(crate) use keys::{LiveConfig, key_limits};

/// What kind of value a [`ConfigKey`] takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum KeyKind {
    /// A whole number.
    Count,
    /// A whole number, or off (not set).
    OptionalCount,
    /// A duration in whole milliseconds (the key's name ends in `_ms`).
    Millis,
    /// A duration in whole milliseconds, or off.
    OptionalMillis,
    /// `true` or `false`; 1 or 0 as a number.
    Flag,
    /// One of the names [`ConfigKey::choices`] lists; its index as a number.
    Choice,
}

impl KeyKind {
    /// Whether a key of this kind is off unless it is set.
    #[must_use]
    pub const fn is_optional(self) -> bool {
        matches!(self, KeyKind::OptionalCount | KeyKind::OptionalMillis)
    }
}

/// An optional value as stored: 0 is unset.
pub(crate) const fn optional(value: u64) -> Option<u64> {
    match value {
        0 => None,
        value => Some(value),
    }
}

impl ConfigKey {
    /// The key named `name`, as the attribute, the builder and override files name it.
    ///
    /// ```
    /// use fusebox::ConfigKey;
    ///
    /// const WINDOW: Option<ConfigKey> = ConfigKey::from_name("window_ms");
    /// assert_eq!(WINDOW, Some(ConfigKey::WindowMs));
    /// assert_eq!(ConfigKey::from_name("window"), None);
    /// ```
    #[must_use]
    pub const fn from_name(name: &str) -> Option<ConfigKey> {
        let mut i = 0;
        while i < ConfigKey::ALL.len() {
            if same_bytes(ConfigKey::ALL[i].name(), name) {
                return Some(ConfigKey::ALL[i]);
            }
            i += 1;
        }
        None
    }

    /// Every key's name, joined by `, `: what an unknown key's error lists.
    #[must_use]
    pub fn names() -> String {
        ConfigKey::ALL.map(ConfigKey::name).join(", ")
    }

    /// The number of the choice named `name`, for a key of the
    /// [`Choice`](KeyKind::Choice) kind; `None` for a name it does not list.
    ///
    /// ```
    /// use fusebox::ConfigKey;
    ///
    /// assert_eq!(ConfigKey::Policy.choice("adaptive"), Some(1));
    /// assert_eq!(ConfigKey::Policy.choice("fast"), None);
    /// ```
    #[must_use]
    pub fn choice(self, name: &str) -> Option<u64> {
        let index = self
            .choices()
            .iter()
            .position(|choice| *choice == name.trim())?;
        u64::try_from(index).ok()
    }
}

impl std::fmt::Display for ConfigKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl LiveConfig {
    /// The timeout in force, as the tokio timer takes it.
    #[inline]
    #[allow(dead_code)] // read with the `tokio` feature
    pub(crate) fn timeout(&self) -> Option<std::time::Duration> {
        self.timeout_ms().map(std::time::Duration::from_millis)
    }
}

/// Whether two strings are the same, in a `const fn`.
const fn same_bytes(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// How many low bits of the live configuration's `set` word hold what admission observes; the
/// keys the code set are above them (26 keys at most). Low, so that admission reads them as
/// the word's first byte.
pub(crate) const OBSERVED_BITS: u32 = 6;
const _: () = assert!(
    ConfigKey::ALL.len() <= (32 - OBSERVED_BITS) as usize,
    "the keys' bits run out of the word"
);

/// Admission times the call (`slow_call_ms`, `record_latency`).
pub(crate) const OBSERVE_TIMED: u8 = 1;
/// Admission marks the call for the call listeners.
pub(crate) const OBSERVE_LISTENED: u8 = 2;
/// Admission marks the call for a span (`trace_calls`, with the `tracing` feature).
pub(crate) const OBSERVE_TRACED: u8 = 4;
/// Admission marks the call to be recorded in the breaker's trace (`record`).
pub(crate) const OBSERVE_RECORDED: u8 = 8;
/// Not an observation: the breaker was reconfigured in code, and overrides leave it alone.
pub(crate) const RECONFIGURED: u8 = 16;
/// Admission marks the call for the breaker's shadow, which is told of its outcome.
pub(crate) const OBSERVE_SHADOWED: u8 = 32;
/// The observations that keep a call's outcome (the trace, the shadow): such a call is timed
/// and takes the listeners' path.
pub(crate) const OBSERVE_KEPT: u8 = OBSERVE_RECORDED | OBSERVE_SHADOWED;
/// The observations that hear of a call, refused ones included: all but timing.
pub(crate) const OBSERVE_HEARD: u8 = OBSERVE_LISTENED | OBSERVE_TRACED | OBSERVE_KEPT;
/// Every observation's bit: the low bits of the word but `RECONFIGURED`.
pub(crate) const OBSERVATIONS: u8 = !(u8::MAX << OBSERVED_BITS) & !RECONFIGURED;

/// What a breaker made now with `config` observes of its calls: timing and spans as the
/// configuration says, and listening if a listener of every breaker's calls exists already.
pub(crate) fn observed_from_start(config: &Config) -> u8 {
    let listened = if crate::call_event::EVERY_CALL.any() {
        OBSERVE_LISTENED
    } else {
        0
    };
    config_observed(config) | listened
}

/// What `config` makes a breaker observe of its calls: timing, spans, and recording.
pub(crate) fn config_observed(config: &Config) -> u8 {
    let timed = if config.times_calls() {
        OBSERVE_TIMED
    } else {
        0
    };
    let traced = if cfg!(feature = "tracing") && config.trace_calls() {
        OBSERVE_TRACED
    } else {
        0
    };
    let recorded = if config.record() { OBSERVE_RECORDED } else { 0 };
    timed | traced | recorded
}
