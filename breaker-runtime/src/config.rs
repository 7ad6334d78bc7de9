//! A breaker's configuration, validated once when it is built.

use crate::limits::{self, Limit};

/// Why a [`ConfigBuilder`] refused its values. The messages say what is allowed, in the same
/// words the `#[circuit_breaker]` attribute uses at compile time.
///
/// ```
/// use breaker_runtime::{Config, ConfigError};
///
/// let error = Config::builder().window_ms(1_000).window_buckets(3).build().unwrap_err();
/// assert!(matches!(error, ConfigError::WindowNotDivisible { .. }));
/// assert_eq!(error.to_string(), "window_ms (1000) must be divisible by window_buckets (3)");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A value outside its key's [`Limit`].
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
}

/// How a [`CircuitBreaker`](crate::CircuitBreaker) decides; see the crate documentation for
/// the state machine these values drive. Build one with [`Config::builder`]; every value is
/// checked against [`limits`] there, so a `Config` is always valid.
///
/// The defaults are Hystrix's where Hystrix has one (50 % errors over at least 20 calls in a
/// 10 s window of 10 buckets, 5 s sleep window) and one trial call while half-open.
///
/// ```
/// use breaker_runtime::Config;
///
/// let config = Config::builder()
///     .error_threshold(25)
///     .sleep_window_ms(10_000)
///     .consecutive_failures(5)
///     .build()?;
/// assert_eq!(config.error_threshold(), 25);
/// assert_eq!(config.request_volume_threshold(), 20);
/// assert_eq!(config.consecutive_failures(), Some(5));
/// # Ok::<(), breaker_runtime::ConfigError>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Config {
    error_threshold: u64,
    request_volume_threshold: u64,
    window_ms: u64,
    window_buckets: u64,
    sleep_window_ms: u64,
    half_open_max_calls: u64,
    consecutive_failures: Option<u64>,
    timeout_ms: Option<u64>,
    max_concurrent: Option<u64>,
}

impl Config {
    /// A builder holding the defaults.
    pub const fn builder() -> ConfigBuilder {
        ConfigBuilder {
            config: Config {
                error_threshold: default_of(limits::ERROR_THRESHOLD),
                request_volume_threshold: default_of(limits::REQUEST_VOLUME_THRESHOLD),
                window_ms: default_of(limits::WINDOW_MS),
                window_buckets: default_of(limits::WINDOW_BUCKETS),
                sleep_window_ms: default_of(limits::SLEEP_WINDOW_MS),
                half_open_max_calls: default_of(limits::HALF_OPEN_MAX_CALLS),
                consecutive_failures: None,
                timeout_ms: None,
                max_concurrent: None,
            },
        }
    }

    /// Percent of failed calls in the window at or above which the breaker trips.
    #[must_use]
    pub const fn error_threshold(&self) -> u64 {
        self.error_threshold
    }

    /// Calls the window must hold before the error rate can trip the breaker.
    #[must_use]
    pub const fn request_volume_threshold(&self) -> u64 {
        self.request_volume_threshold
    }

    /// Length of the rolling window in milliseconds.
    #[must_use]
    pub const fn window_ms(&self) -> u64 {
        self.window_ms
    }

    /// Number of buckets the window is kept in.
    #[must_use]
    pub const fn window_buckets(&self) -> u64 {
        self.window_buckets
    }

    /// Milliseconds the circuit stays open before a trial call is let through.
    #[must_use]
    pub const fn sleep_window_ms(&self) -> u64 {
        self.sleep_window_ms
    }

    /// Trial calls admitted while half-open; all of them must succeed to close.
    #[must_use]
    pub const fn half_open_max_calls(&self) -> u64 {
        self.half_open_max_calls
    }

    /// Failures in a row that trip the breaker whatever the error rate, if set.
    #[must_use]
    pub const fn consecutive_failures(&self) -> Option<u64> {
        self.consecutive_failures
    }

    /// Milliseconds after which an async call is dropped and counted as a failure, if set.
    /// Enforced only with the `tokio` feature, which is the only way to set it.
    #[must_use]
    pub const fn timeout_ms(&self) -> Option<u64> {
        self.timeout_ms
    }

    /// Calls allowed in flight at once (the bulkhead), if set.
    #[must_use]
    pub const fn max_concurrent(&self) -> Option<u64> {
        self.max_concurrent
    }
}

impl Default for Config {
    /// The defaults listed on [`Config`].
    fn default() -> Self {
        Config::builder().config
    }
}

const fn default_of(limit: Limit) -> u64 {
    match limit.default {
        Some(value) => value,
        None => 0,
    }
}

/// Builds a [`Config`]; every method is `const`, so a configuration can be checked at compile
/// time in a `const` item. Values are checked in [`build`](ConfigBuilder::build).
///
/// ```
/// use breaker_runtime::Config;
///
/// const SEARCH: Config = match Config::builder().error_threshold(30).build() {
///     Ok(config) => config,
///     Err(_) => panic!("invalid breaker configuration"),
/// };
/// assert_eq!(SEARCH.error_threshold(), 30);
/// ```
#[derive(Clone, Copy, Debug)]
#[must_use]
pub struct ConfigBuilder {
    config: Config,
}

impl ConfigBuilder {
    /// Trip when failures are at least this percent (1..=100) of the calls in the window.
    pub const fn error_threshold(mut self, percent: u64) -> Self {
        self.config.error_threshold = percent;
        self
    }

    /// …and the window holds at least this many calls (≥ 1).
    pub const fn request_volume_threshold(mut self, calls: u64) -> Self {
        self.config.request_volume_threshold = calls;
        self
    }

    /// Length of the rolling window in milliseconds (1 ms to one day).
    pub const fn window_ms(mut self, millis: u64) -> Self {
        self.config.window_ms = millis;
        self
    }

    /// Buckets the window is kept in (1..=1000); must divide `window_ms`.
    pub const fn window_buckets(mut self, buckets: u64) -> Self {
        self.config.window_buckets = buckets;
        self
    }

    /// How long the circuit stays open before it lets a trial call through (1 ms to one day).
    pub const fn sleep_window_ms(mut self, millis: u64) -> Self {
        self.config.sleep_window_ms = millis;
        self
    }

    /// Trial calls admitted while half-open (1..=65535); all of them must succeed to close.
    pub const fn half_open_max_calls(mut self, calls: u64) -> Self {
        self.config.half_open_max_calls = calls;
        self
    }

    /// Also trip after this many failures in a row (≥ 1), like pybreaker's `fail_max`.
    pub const fn consecutive_failures(mut self, failures: u64) -> Self {
        self.config.consecutive_failures = Some(failures);
        self
    }

    /// Drop an async call still running after this many milliseconds (1 ms to one day) and
    /// count it as a failure ([`BreakerError::Timeout`](crate::BreakerError::Timeout)). Sync
    /// calls cannot be abandoned and ignore it. Needs the `tokio` feature, whose timer enforces
    /// it; without that feature this method does not exist, so a timeout cannot be silently
    /// ignored.
    #[cfg(feature = "tokio")]
    pub const fn timeout_ms(mut self, millis: u64) -> Self {
        self.config.timeout_ms = Some(millis);
        self
    }

    /// Reject calls at once ([`BreakerError::Busy`](crate::BreakerError::Busy)) while this
    /// many (≥ 1) are in flight: a bulkhead, as Hystrix's semaphore isolation.
    pub const fn max_concurrent(mut self, calls: u64) -> Self {
        self.config.max_concurrent = Some(calls);
        self
    }

    /// Checks every value against [`limits`] and returns the configuration.
    ///
    /// # Errors
    /// The first value outside its limit, or [`ConfigError::WindowNotDivisible`].
    pub const fn build(self) -> Result<Config, ConfigError> {
        let c = self.config;
        let checks = [
            limits::ERROR_THRESHOLD.check(c.error_threshold),
            limits::REQUEST_VOLUME_THRESHOLD.check(c.request_volume_threshold),
            limits::WINDOW_MS.check(c.window_ms),
            limits::WINDOW_BUCKETS.check(c.window_buckets),
            limits::SLEEP_WINDOW_MS.check(c.sleep_window_ms),
            limits::HALF_OPEN_MAX_CALLS.check(c.half_open_max_calls),
            check_optional(limits::CONSECUTIVE_FAILURES, c.consecutive_failures),
            check_optional(limits::TIMEOUT_MS, c.timeout_ms),
            check_optional(limits::MAX_CONCURRENT, c.max_concurrent),
        ];
        let mut i = 0;
        while i < checks.len() {
            if let Err(error) = checks[i] {
                return Err(error);
            }
            i += 1;
        }
        if let Err(error) = limits::check_window(c.window_ms, c.window_buckets) {
            return Err(error);
        }
        Ok(c)
    }
}

const fn check_optional(limit: Limit, value: Option<u64>) -> Result<u64, ConfigError> {
    match value {
        Some(value) => limit.check(value),
        None => Ok(0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_hystrix_defaults() {
        let config = Config::default();
        assert_eq!(config, Config::builder().build().unwrap());
        assert_eq!(config.error_threshold(), 50);
        assert_eq!(config.request_volume_threshold(), 20);
        assert_eq!(config.window_ms(), 10_000);
        assert_eq!(config.window_buckets(), 10);
        assert_eq!(config.sleep_window_ms(), 5_000);
        assert_eq!(config.half_open_max_calls(), 1);
        assert_eq!(config.consecutive_failures(), None);
        assert_eq!(config.timeout_ms(), None);
        assert_eq!(config.max_concurrent(), None);
    }

    #[test]
    fn every_limit_is_enforced_at_both_ends() {
        type Setter = fn(ConfigBuilder, u64) -> ConfigBuilder;
        let mut setters: Vec<(Limit, Setter)> = vec![
            (limits::ERROR_THRESHOLD, ConfigBuilder::error_threshold),
            (
                limits::REQUEST_VOLUME_THRESHOLD,
                ConfigBuilder::request_volume_threshold,
            ),
            // The window must stay divisible by its buckets: use one bucket.
            (limits::WINDOW_MS, |b, v| b.window_ms(v).window_buckets(1)),
            // The default window (10 000 ms) divides into 1 and into 1000 buckets.
            (limits::WINDOW_BUCKETS, ConfigBuilder::window_buckets),
            (limits::SLEEP_WINDOW_MS, ConfigBuilder::sleep_window_ms),
            (
                limits::HALF_OPEN_MAX_CALLS,
                ConfigBuilder::half_open_max_calls,
            ),
            (
                limits::CONSECUTIVE_FAILURES,
                ConfigBuilder::consecutive_failures,
            ),
            (limits::MAX_CONCURRENT, ConfigBuilder::max_concurrent),
        ];
        #[cfg(feature = "tokio")]
        setters.push((limits::TIMEOUT_MS, ConfigBuilder::timeout_ms));
        for (limit, set) in setters {
            assert!(
                set(Config::builder(), limit.min).build().is_ok(),
                "{}",
                limit.key
            );
            assert!(
                set(Config::builder(), limit.max).build().is_ok(),
                "{}",
                limit.key
            );
            assert_eq!(
                set(Config::builder(), limit.min - 1).build(),
                Err(ConfigError::OutOfRange {
                    key: limit.key,
                    min: limit.min,
                    max: limit.max,
                    value: limit.min - 1
                })
            );
            assert_eq!(
                set(Config::builder(), limit.max + 1)
                    .build()
                    .unwrap_err()
                    .to_string(),
                format!(
                    "{} must be between {} and {}, got {}",
                    limit.key,
                    limit.min,
                    limit.max,
                    limit.max + 1
                )
            );
        }
    }

    #[test]
    fn window_must_divide_into_buckets() {
        assert_eq!(
            Config::builder().window_ms(1_000).window_buckets(3).build(),
            Err(ConfigError::WindowNotDivisible {
                window_ms: 1_000,
                window_buckets: 3
            })
        );
        assert!(
            Config::builder()
                .window_ms(1_000)
                .window_buckets(8)
                .build()
                .is_ok()
        );
    }
}
