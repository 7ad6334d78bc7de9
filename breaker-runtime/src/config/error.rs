//! What a refused configuration is told: the key, the value and what is allowed, in the same
//! words the attribute uses at compile time.

use super::{ConfigKey, limits};

/// Why a [`ConfigBuilder`](super::ConfigBuilder) refused its values. The messages say what is
/// allowed, in the same words the `#[circuit_breaker]` attribute uses at compile time.
///
/// ```
/// use std::time::Duration;
/// use fusebox::{Config, ConfigError};
///
/// let error = Config::builder()
///     .window(Duration::from_secs(1))
///     .window_buckets(3)
///     .build()
///     .unwrap_err();
/// assert!(matches!(error, ConfigError::WindowNotDivisible { .. }));
/// assert_eq!(error.to_string(), "window_ms (1000) must be divisible by window_buckets (3)");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A value outside its key's [`Limit`](super::limits::Limit).
    #[error("{key} must be between {min} and {max}, got {value}")]
    OutOfRange {
        /// The key, e.g. `error_threshold`.
        key: &'static str,
        /// The smallest allowed value.
        min: u64,
        /// The largest allowed value.
        max: u64,
        /// The value that was given.
        value: u64,
    },
    /// `window_buckets` does not split `window_ms` into equal buckets.
    #[error("window_ms ({window_ms}) must be divisible by window_buckets ({window_buckets})")]
    WindowNotDivisible {
        /// The window's length in milliseconds.
        window_ms: u64,
        /// The number of buckets asked for.
        window_buckets: u64,
    },
    /// `window_ms / window_buckets` is under [`limits::MIN_BUCKET_MS`], finer than the clock.
    #[error(
        "window_ms / window_buckets must be at least {min} ms (the clock's resolution), got {window_ms} / {window_buckets} = {width} ms",
        min = limits::MIN_BUCKET_MS,
        width = window_ms / window_buckets
    )]
    BucketTooNarrow {
        /// The window's length in milliseconds.
        window_ms: u64,
        /// The number of buckets asked for.
        window_buckets: u64,
    },
    /// A value below another key's, which it must not be below (`sleep_window_max_ms` under
    /// `sleep_window_ms`).
    #[error("{key} ({value}) must be at least {other} ({minimum})")]
    BelowKey {
        /// The key, e.g. `sleep_window_max_ms`.
        key: &'static str,
        /// Its value.
        value: u64,
        /// The key it must not be below.
        other: &'static str,
        /// That key's value (given, or its default).
        minimum: u64,
    },
    /// A key that means nothing without another one (`slow_call_threshold` without
    /// `slow_call_ms`).
    #[error("{key} needs {needs}, {because}")]
    Requires {
        /// The key given.
        key: &'static str,
        /// The key it needs.
        needs: &'static str,
        /// What the needed key says.
        because: &'static str,
    },
    /// A name that is none of the configuration's keys.
    #[error("unknown key: the keys are {}", ConfigKey::names())]
    UnknownKey,
    /// A key that only a cargo feature of this crate can enforce, given without that feature
    /// (`timeout_ms` in an override, without `tokio`).
    #[error("{key} needs the `{feature}` feature of fusebox, which enforces it")]
    NeedsFeature {
        /// The key.
        key: &'static str,
        /// The feature it needs.
        feature: &'static str,
    },
}
