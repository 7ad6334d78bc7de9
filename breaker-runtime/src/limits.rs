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

use crate::ConfigError;

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

/// `error_threshold`: percent of failed calls in the window that trips the breaker.
pub const ERROR_THRESHOLD: Limit = Limit {
    key: "error_threshold",
    min: 1,
    max: 100,
    default: Some(50),
};

/// `request_volume_threshold`: calls the window must hold before the error rate can trip it.
pub const REQUEST_VOLUME_THRESHOLD: Limit = Limit {
    key: "request_volume_threshold",
    min: 1,
    max: u32::MAX as u64,
    default: Some(20),
};

/// `window_ms`: length of the rolling window (at least one bucket of [`MIN_BUCKET_MS`]).
pub const WINDOW_MS: Limit = Limit {
    key: "window_ms",
    min: MIN_BUCKET_MS,
    max: MAX_MS,
    default: Some(10_000),
};

/// `window_buckets`: buckets the rolling window is kept in; must divide `window_ms`.
pub const WINDOW_BUCKETS: Limit = Limit {
    key: "window_buckets",
    min: 1,
    max: 1_000,
    default: Some(10),
};

/// `sleep_window_ms`: how long the circuit stays open before it lets a trial call through.
pub const SLEEP_WINDOW_MS: Limit = Limit {
    key: "sleep_window_ms",
    min: 1,
    max: MAX_MS,
    default: Some(5_000),
};

/// `half_open_max_calls`: trial calls admitted while half-open, all of which must succeed.
pub const HALF_OPEN_MAX_CALLS: Limit = Limit {
    key: "half_open_max_calls",
    min: 1,
    max: u16::MAX as u64,
    default: Some(1),
};

/// `consecutive_failures`: also trip after this many failures in a row (off by default).
pub const CONSECUTIVE_FAILURES: Limit = Limit {
    key: "consecutive_failures",
    min: 1,
    max: u32::MAX as u64,
    default: None,
};

/// `timeout_ms`: an async call still running after this long is dropped and fails (off by
/// default).
pub const TIMEOUT_MS: Limit = Limit {
    key: "timeout_ms",
    min: 1,
    max: MAX_MS,
    default: None,
};

/// `max_concurrent`: calls in flight beyond this many are rejected at once (off by default).
pub const MAX_CONCURRENT: Limit = Limit {
    key: "max_concurrent",
    min: 1,
    max: u32::MAX as u64,
    default: None,
};

/// `slow_call_ms`: a call that takes longer than this is slow (off by default). At least
/// [`MIN_BUCKET_MS`]: calls are timed on the breaker's coarse clock, whose tick is 1 to 10 ms
/// (4 on most kernels), so a measured time is within a tick or so of the real one; at 10 ms
/// that is a large share of the threshold, at 100 ms a few percent.
pub const SLOW_CALL_MS: Limit = Limit {
    key: "slow_call_ms",
    min: MIN_BUCKET_MS,
    max: MAX_MS,
    default: None,
};

/// `slow_call_threshold`: percent of slow calls in the window that trips the breaker, once the
/// window holds `request_volume_threshold` calls; only with `slow_call_ms`.
pub const SLOW_CALL_THRESHOLD: Limit = Limit {
    key: "slow_call_threshold",
    min: 1,
    max: 100,
    default: Some(100),
};

/// `sleep_window_max_ms`: the longest sleep window open-duration backoff grows to; at least
/// `sleep_window_ms` (off by default: every sleep window is `sleep_window_ms`).
pub const SLEEP_WINDOW_MAX_MS: Limit = Limit {
    key: "sleep_window_max_ms",
    min: 1,
    max: MAX_MS,
    default: None,
};

/// `sleep_window_jitter`: each sleep window is lengthened by a random share of itself, up to
/// this percent, so that many instances do not half-open at once (off by default).
pub const SLEEP_WINDOW_JITTER: Limit = Limit {
    key: "sleep_window_jitter",
    min: 1,
    max: 100,
    default: None,
};

/// `half_open_max_wait_ms`: a half-open period whose trials have not all finished after this
/// long ends as a failure (off by default).
pub const HALF_OPEN_MAX_WAIT_MS: Limit = Limit {
    key: "half_open_max_wait_ms",
    min: 1,
    max: MAX_MS,
    default: None,
};

/// `fleet`, a flag: as a number, 1 is on and 0 off (off by default). Not in [`ALL`], whose
/// keys are numbers.
pub const FLEET: Limit = Limit {
    key: "fleet",
    min: 0,
    max: 1,
    default: Some(0),
};

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

/// Every numeric key, in the order the attribute's documentation lists them. A slice, so that
/// new keys can join it.
pub const ALL: &[Limit] = &[
    ERROR_THRESHOLD,
    REQUEST_VOLUME_THRESHOLD,
    WINDOW_MS,
    WINDOW_BUCKETS,
    SLEEP_WINDOW_MS,
    HALF_OPEN_MAX_CALLS,
    CONSECUTIVE_FAILURES,
    TIMEOUT_MS,
    MAX_CONCURRENT,
    SLOW_CALL_MS,
    SLOW_CALL_THRESHOLD,
    SLEEP_WINDOW_MAX_MS,
    SLEEP_WINDOW_JITTER,
    HALF_OPEN_MAX_WAIT_MS,
    MAX_KEYS,
    MAX_KEY_LEN,
];

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

/// Checks that open-duration backoff grows: `sleep_window_max_ms`, when set, is at least
/// `sleep_window_ms`.
///
/// # Errors
/// [`ConfigError::BelowKey`] when it is shorter.
///
/// ```
/// use fusebox::limits;
///
/// assert!(limits::check_sleep_window_max(5_000, Some(60_000)).is_ok());
/// assert_eq!(
///     limits::check_sleep_window_max(5_000, Some(1_000)).unwrap_err().to_string(),
///     "sleep_window_max_ms (1000) must be at least sleep_window_ms (5000)"
/// );
/// ```
pub const fn check_sleep_window_max(
    sleep_window_ms: u64,
    sleep_window_max_ms: Option<u64>,
) -> Result<(), ConfigError> {
    match sleep_window_max_ms {
        Some(max) if max < sleep_window_ms => Err(ConfigError::BelowKey {
            key: SLEEP_WINDOW_MAX_MS.key,
            value: max,
            other: SLEEP_WINDOW_MS.key,
            minimum: sleep_window_ms,
        }),
        _ => Ok(()),
    }
}

/// Checks that `slow_call_threshold` is given only with `slow_call_ms`, which says what a
/// slow call is.
///
/// # Errors
/// [`ConfigError::Requires`] when the threshold is given alone.
///
/// ```
/// use fusebox::limits;
///
/// assert!(limits::check_slow_calls(Some(1_000), Some(50)).is_ok());
/// assert!(limits::check_slow_calls(Some(1_000), None).is_ok());
/// assert_eq!(
///     limits::check_slow_calls(None, Some(50)).unwrap_err().to_string(),
///     "slow_call_threshold needs slow_call_ms, the time past which a call is slow"
/// );
/// ```
pub const fn check_slow_calls(
    slow_call_ms: Option<u64>,
    slow_call_threshold: Option<u64>,
) -> Result<(), ConfigError> {
    if slow_call_ms.is_none() && slow_call_threshold.is_some() {
        Err(ConfigError::Requires {
            key: SLOW_CALL_THRESHOLD.key,
            needs: SLOW_CALL_MS.key,
            because: "the time past which a call is slow",
        })
    } else {
        Ok(())
    }
}
