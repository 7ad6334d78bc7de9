//! The allowed range of every configuration key, in one place.
//!
//! [`Config::builder`](crate::Config::builder) checks values against these at run time and the
//! `#[circuit_breaker]` attribute checks the same table at compile time, so both accept exactly
//! the same configurations and explain a bad one in the same words.
//!
//! The upper bounds are not in Hystrix: they keep a typo from allocating gigabytes of buckets
//! and keep times inside what the state word can represent (one day for every duration).
//!
//! ```
//! use fusebox::limits;
//!
//! assert!(limits::ERROR_THRESHOLD.check(50).is_ok());
//! let error = limits::ERROR_THRESHOLD.check(0).unwrap_err();
//! assert_eq!(error.to_string(), "error_threshold must be between 1 and 100, got 0");
//! ```

use super::{ConfigError, ConfigKey, PartialConfig};

/// One day, the longest any of the breaker's durations may be.
pub const MAX_MS: u64 = 86_400_000;

/// The narrowest bucket a rolling window may have, `window_ms / window_buckets`: the coarse
/// monotonic clock the breaker reads ticks every 1 to 10 ms, so a narrower bucket would be
/// skipped or merged with its neighbour by the clock.
pub const MIN_BUCKET_MS: u64 = 10;

/// The allowed values of one configuration key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limit {
    /// The key, as written in the attribute and as the builder method is named.
    pub key: &'static str,
    /// The smallest allowed value.
    pub min: u64,
    /// The largest allowed value.
    pub max: u64,
    /// The value used when the key is not given; `None` when the feature is off by default.
    pub default: Option<u64>,
}

impl Limit {
    /// `Ok(value)` when `value` is allowed, otherwise the error that says what is.
    ///
    /// # Errors
    /// [`ConfigError::OutOfRange`] when `value` is outside `min..=max`.
    pub const fn check(&self, value: u64) -> Result<u64, ConfigError> {
        if value < self.min || value > self.max {
            Err(ConfigError::OutOfRange {
                key: self.key,
                min: self.min,
                max: self.max,
                value,
            })
        } else {
            Ok(value)
        }
    }
}

// One constant per configuration key, made from the key table.
pub use super::key_limits::*;

/// `max_keys`: breakers of their own a [`Keyed`](crate::Keyed) family (or an attribute with
/// `key = …`) keeps at most; keys beyond it share an overflow breaker.
pub const MAX_KEYS: Limit = Limit {
    key: "max_keys",
    min: 1,
    max: 1_000_000,
    default: Some(10_000),
};

/// `max_key_len`: the longest key, in bytes of its `Display`, that a [`Keyed`](crate::Keyed)
/// family (or an attribute with `key = …`) gives a breaker of its own; longer keys share the
/// overflow breaker, so that what a family holds is bounded by its keys' length as well as by
/// their number.
pub const MAX_KEY_LEN: Limit = Limit {
    key: "max_key_len",
    min: 1,
    max: 65_536,
    default: Some(256),
};

/// Every key's limit: the configuration's keys in [`ConfigKey::ALL`]'s order (a flag as 0 or
/// 1), then those of a [`Keyed`](crate::Keyed) family, [`MAX_KEYS`] and [`MAX_KEY_LEN`].
pub const ALL: [Limit; ConfigKey::ALL.len() + 2] = {
    let mut all = [MAX_KEYS; ConfigKey::ALL.len() + 2];
    let mut i = 0;
    while i < ConfigKey::ALL.len() {
        all[i] = ConfigKey::ALL[i].limit();
        i += 1;
    }
    all[i + 1] = MAX_KEY_LEN;
    all
};

/// The limit of the key named `key`, if it is one of [`ALL`].
///
/// ```
/// use fusebox::limits;
///
/// assert_eq!(limits::for_key("window_buckets"), Some(limits::WINDOW_BUCKETS));
/// assert_eq!(limits::for_key("threshold"), None);
/// ```
#[must_use]
pub fn for_key(key: &str) -> Option<Limit> {
    ALL.iter().find(|limit| limit.key == key).copied()
}

/// The value a key has when nothing sets it: its default, or 0 for a key that is off unless
/// set.
pub(crate) const fn default_of(limit: Limit) -> u64 {
    match limit.default {
        Some(value) => value,
        None => 0,
    }
}

/// Checks the rules that involve two keys: the buckets must split the window evenly, as in
/// Hystrix (`metrics.rollingStats.numBuckets`), and each must be at least [`MIN_BUCKET_MS`]
/// wide.
///
/// # Errors
/// [`ConfigError::WindowNotDivisible`] when `!window_ms.is_multiple_of(window_buckets)`,
/// [`ConfigError::BucketTooNarrow`] when `window_ms / window_buckets < MIN_BUCKET_MS`.
///
/// ```
/// use fusebox::{ConfigError, limits};
///
/// assert!(limits::check_window(10_000, 10).is_ok());
/// assert!(matches!(limits::check_window(1_000, 3), Err(ConfigError::WindowNotDivisible { .. })));
/// assert_eq!(
///     limits::check_window(100, 20).unwrap_err().to_string(),
///     "window_ms / window_buckets must be at least 10 ms (the clock's resolution), got 100 / 20 = 5 ms"
/// );
/// ```
pub const fn check_window(window_ms: u64, window_buckets: u64) -> Result<(), ConfigError> {
    if window_buckets == 0 || !window_ms.is_multiple_of(window_buckets) {
        Err(ConfigError::WindowNotDivisible {
            window_ms,
            window_buckets,
        })
    } else if window_ms / window_buckets < MIN_BUCKET_MS {
        Err(ConfigError::BucketTooNarrow {
            window_ms,
            window_buckets,
        })
    } else {
        Ok(())
    }
}

/// Checks the rule of one key that involves another, declared in its row of the key table:
/// a key that must be at least another's value ([`ConfigKey::at_least`]), given or by default,
/// or one that means nothing unless another is set ([`ConfigKey::needs`]).
///
/// # Errors
/// [`ConfigError::BelowKey`] or [`ConfigError::Requires`].
///
/// ```
/// use fusebox::{ConfigKey, PartialConfig, limits};
///
/// let backoff = PartialConfig::new().with(ConfigKey::SleepWindowMaxMs, 1_000);
/// assert_eq!(
///     limits::check_key_rule(&backoff, ConfigKey::SleepWindowMaxMs).unwrap_err().to_string(),
///     "sleep_window_max_ms (1000) must be at least sleep_window_ms (5000)"
/// );
/// let alone = PartialConfig::new().with(ConfigKey::SlowCallThreshold, 50);
/// assert_eq!(
///     limits::check_key_rule(&alone, ConfigKey::SlowCallThreshold).unwrap_err().to_string(),
///     "slow_call_threshold needs slow_call_ms, the time past which a call is slow"
/// );
/// ```
pub const fn check_key_rule(partial: &PartialConfig, key: ConfigKey) -> Result<(), ConfigError> {
    let Some(value) = partial.value(key) else {
        return Ok(()); // only a key that is set
    };
    if let Some(other) = key.at_least() {
        let minimum = value_or_default(partial, other);
        if value < minimum {
            return Err(ConfigError::BelowKey {
                key: key.name(),
                value,
                other: other.name(),
                minimum,
            });
        }
    }
    if let Some((needed, because)) = key.needs()
        && partial.value(needed).is_none()
    {
        return Err(ConfigError::Requires {
            key: key.name(),
            needs: needed.name(),
            because,
        });
    }
    Ok(())
}

/// Checks every rule between keys of `partial`: the window's ([`check_window`], with the
/// defaults for what is not set) and each key's ([`check_key_rule`]). The first broken one.
///
/// # Errors
/// [`ConfigError::WindowNotDivisible`], [`ConfigError::BucketTooNarrow`],
/// [`ConfigError::BelowKey`] or [`ConfigError::Requires`].
pub const fn check_relations(partial: &PartialConfig) -> Result<(), ConfigError> {
    if let Err(error) = check_window_of(partial) {
        return Err(error);
    }
    let mut i = 0;
    while i < ConfigKey::ALL.len() {
        if let Err(error) = check_key_rule(partial, ConfigKey::ALL[i]) {
            return Err(error);
        }
        i += 1;
    }
    Ok(())
}

/// Every rule between keys that `partial` breaks, each with the key to blame and the keys it
/// involves (for the attribute, which reports each at the value at fault, and skips a rule that
/// involves a value it already found out of range). Not public API.
#[doc(hidden)]
#[must_use]
pub fn broken_rules(partial: &PartialConfig) -> Vec<(ConfigKey, Vec<ConfigKey>, ConfigError)> {
    let mut broken = Vec::new();
    if let Err(error) = check_window_of(partial) {
        let blamed = if partial.value(ConfigKey::WindowBuckets).is_some() {
            ConfigKey::WindowBuckets
        } else {
            ConfigKey::WindowMs
        };
        broken.push((
            blamed,
            vec![ConfigKey::WindowMs, ConfigKey::WindowBuckets],
            error,
        ));
    }
    for key in ConfigKey::ALL {
        if let Err(error) = check_key_rule(partial, key) {
            let involved = std::iter::once(key)
                .chain(key.at_least())
                .chain(key.needs().map(|(needed, _)| needed))
                .collect();
            broken.push((key, involved, error));
        }
    }
    broken
}

/// [`check_window`] on `partial`'s window, or the defaults'.
const fn check_window_of(partial: &PartialConfig) -> Result<(), ConfigError> {
    check_window(
        value_or_default(partial, ConfigKey::WindowMs),
        value_or_default(partial, ConfigKey::WindowBuckets),
    )
}

/// `key`'s value in `partial`, or its default.
const fn value_or_default(partial: &PartialConfig, key: ConfigKey) -> u64 {
    match partial.value(key) {
        Some(value) => value,
        None => default_of(key.limit()),
    }
}
