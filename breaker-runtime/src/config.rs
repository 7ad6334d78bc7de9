//! A breaker's configuration, validated once when it is built.

use std::{
    sync::atomic::{AtomicBool, AtomicU32, Ordering},
    time::Duration,
};

use crate::{
    PartialConfig,
    limits::{self, Limit},
};

/// Why a [`ConfigBuilder`] refused its values. The messages say what is allowed, in the same
/// words the `#[circuit_breaker]` attribute uses at compile time.
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
    #[error(
        "unknown key: the keys are error_threshold, request_volume_threshold, window_ms, window_buckets, sleep_window_ms, half_open_max_calls, consecutive_failures, timeout_ms, max_concurrent, slow_call_ms, slow_call_threshold, sleep_window_max_ms, sleep_window_jitter, half_open_max_wait_ms, fleet"
    )]
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

/// How a [`CircuitBreaker`](crate::CircuitBreaker) decides; see the crate documentation for
/// the state machine these values drive. Build one with [`Config::builder`]; every value is
/// checked against [`limits`] there, so a `Config` is always valid.
///
/// The defaults are Hystrix's where Hystrix has one (50 % errors over at least 20 calls in a
/// 10 s window of 10 buckets, 5 s sleep window) and one trial call while half-open.
///
/// ```
/// use std::time::Duration;
/// use fusebox::Config;
///
/// let config = Config::builder()
///     .error_threshold(25)
///     .sleep_window(Duration::from_secs(10))
///     .consecutive_failures(5)
///     .build()?;
/// assert_eq!(config.error_threshold(), 25);
/// assert_eq!(config.request_volume_threshold(), 20);
/// assert_eq!(config.sleep_window(), Duration::from_secs(10));
/// assert_eq!(config.consecutive_failures(), Some(5));
/// # Ok::<(), fusebox::ConfigError>(())
/// ```
// Every limit's maximum fits in 32 bits, so a `Config` takes 60 bytes rather than 144 (it is in
// every breaker); an unset optional value is 0, below each optional key's minimum of 1.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(
    feature = "serde",
    serde(into = "PartialConfig", try_from = "PartialConfig")
)]
pub struct Config {
    pub(crate) error_threshold: u32,
    pub(crate) request_volume_threshold: u32,
    pub(crate) window_ms: u32,
    pub(crate) window_buckets: u32,
    pub(crate) sleep_window_ms: u32,
    pub(crate) half_open_max_calls: u32,
    pub(crate) consecutive_failures: u32,
    pub(crate) timeout_ms: u32,
    pub(crate) max_concurrent: u32,
    pub(crate) slow_call_ms: u32,
    pub(crate) slow_call_threshold: u32,
    pub(crate) sleep_window_max_ms: u32,
    pub(crate) sleep_window_jitter: u32,
    pub(crate) half_open_max_wait_ms: u32,
    pub(crate) fleet: bool,
}

impl Config {
    /// A builder holding the defaults.
    pub const fn builder() -> ConfigBuilder {
        ConfigBuilder {
            config: PartialConfig::new(),
        }
    }

    /// Percent of failed calls in the window at or above which the breaker trips.
    #[must_use]
    pub const fn error_threshold(&self) -> u64 {
        self.error_threshold as u64
    }

    /// Calls the window must hold before the error rate can trip the breaker.
    #[must_use]
    pub const fn request_volume_threshold(&self) -> u64 {
        self.request_volume_threshold as u64
    }

    /// Length of the rolling window (`window_ms`).
    #[must_use]
    pub const fn window(&self) -> Duration {
        Duration::from_millis(self.window_ms as u64)
    }

    pub(crate) const fn window_ms(&self) -> u64 {
        self.window_ms as u64
    }

    /// Number of buckets the window is kept in.
    #[must_use]
    pub const fn window_buckets(&self) -> u64 {
        self.window_buckets as u64
    }

    /// How long the circuit stays open before a trial call is let through
    /// (`sleep_window_ms`).
    #[must_use]
    pub const fn sleep_window(&self) -> Duration {
        Duration::from_millis(self.sleep_window_ms as u64)
    }

    pub(crate) const fn sleep_window_ms(&self) -> u64 {
        self.sleep_window_ms as u64
    }

    /// Trial calls admitted while half-open; all of them must succeed to close.
    #[must_use]
    pub const fn half_open_max_calls(&self) -> u64 {
        self.half_open_max_calls as u64
    }

    /// Failures in a row that trip the breaker whatever the error rate, if set.
    #[must_use]
    pub const fn consecutive_failures(&self) -> Option<u64> {
        optional(self.consecutive_failures)
    }

    /// How long an async call may run before it is dropped and counted as a failure
    /// (`timeout_ms`), if set. Enforced with the `tokio` feature, the only way to set it.
    #[must_use]
    pub const fn timeout(&self) -> Option<Duration> {
        match optional(self.timeout_ms) {
            Some(millis) => Some(Duration::from_millis(millis)),
            None => None,
        }
    }

    pub(crate) const fn timeout_ms(&self) -> Option<u64> {
        optional(self.timeout_ms)
    }

    /// Calls allowed in flight at once (the bulkhead), if set.
    #[must_use]
    pub const fn max_concurrent(&self) -> Option<u64> {
        optional(self.max_concurrent)
    }

    /// How long a call may take before it counts as slow (`slow_call_ms`), if set.
    #[must_use]
    pub const fn slow_call(&self) -> Option<Duration> {
        match optional(self.slow_call_ms) {
            Some(millis) => Some(Duration::from_millis(millis)),
            None => None,
        }
    }

    pub(crate) const fn slow_call_ms(&self) -> Option<u64> {
        optional(self.slow_call_ms)
    }

    /// Percent of slow calls in the window at or above which the breaker trips, when
    /// `slow_call_ms` is set (100 unless given).
    #[must_use]
    pub const fn slow_call_threshold(&self) -> u64 {
        self.slow_call_threshold as u64
    }

    /// The longest sleep window open-duration backoff grows to (`sleep_window_max_ms`), if set.
    #[must_use]
    pub const fn sleep_window_max(&self) -> Option<Duration> {
        match optional(self.sleep_window_max_ms) {
            Some(millis) => Some(Duration::from_millis(millis)),
            None => None,
        }
    }

    pub(crate) const fn sleep_window_max_ms(&self) -> Option<u64> {
        optional(self.sleep_window_max_ms)
    }

    /// Up to how many percent each sleep window is randomly lengthened
    /// (`sleep_window_jitter`), if set.
    #[must_use]
    pub const fn sleep_window_jitter(&self) -> Option<u64> {
        optional(self.sleep_window_jitter)
    }

    /// How long a half-open period may wait on its trials before it ends as a failure
    /// (`half_open_max_wait_ms`), if set.
    #[must_use]
    pub const fn half_open_max_wait(&self) -> Option<Duration> {
        match optional(self.half_open_max_wait_ms) {
            Some(millis) => Some(Duration::from_millis(millis)),
            None => None,
        }
    }

    pub(crate) const fn half_open_max_wait_ms(&self) -> Option<u64> {
        optional(self.half_open_max_wait_ms)
    }

    /// Whether the breaker shares its counts with the other instances of the service
    /// (`fleet`), when the process runs fleet mode (feature `redis`). Off by default.
    #[must_use]
    pub const fn fleet(&self) -> bool {
        self.fleet
    }
}

/// The configuration a breaker runs with: a [`Config`] that can be replaced while calls read
/// it. Each key is an atomic of its own, read with a relaxed load (the same instruction as a
/// plain load on x86-64 and `AArch64`), so a call pays nothing for the configuration being
/// replaceable. A call that reads keys while they are being replaced may see some old and some
/// new ones; each decision reads the keys it needs once, and every mix of two valid
/// configurations' thresholds is itself a valid one. The window's shape is the exception: it
/// lives in the window, which changes it under its own lock
/// ([`Window::reshape`](crate::window::Window::reshape)).
pub(crate) struct LiveConfig {
    error_threshold: AtomicU32,
    request_volume_threshold: AtomicU32,
    window_ms: AtomicU32,
    window_buckets: AtomicU32,
    sleep_window_ms: AtomicU32,
    half_open_max_calls: AtomicU32,
    consecutive_failures: AtomicU32,
    timeout_ms: AtomicU32,
    max_concurrent: AtomicU32,
    slow_call_ms: AtomicU32,
    slow_call_threshold: AtomicU32,
    sleep_window_max_ms: AtomicU32,
    sleep_window_jitter: AtomicU32,
    half_open_max_wait_ms: AtomicU32,
    fleet: AtomicBool,
    /// Set by `CircuitBreaker::reconfigure`: overrides no longer apply to this breaker.
    pub(crate) reconfigured: AtomicBool,
}

impl LiveConfig {
    pub(crate) fn new(config: Config) -> LiveConfig {
        let live = |value| AtomicU32::new(value);
        LiveConfig {
            error_threshold: live(config.error_threshold),
            request_volume_threshold: live(config.request_volume_threshold),
            window_ms: live(config.window_ms),
            window_buckets: live(config.window_buckets),
            sleep_window_ms: live(config.sleep_window_ms),
            half_open_max_calls: live(config.half_open_max_calls),
            consecutive_failures: live(config.consecutive_failures),
            timeout_ms: live(config.timeout_ms),
            max_concurrent: live(config.max_concurrent),
            slow_call_ms: live(config.slow_call_ms),
            slow_call_threshold: live(config.slow_call_threshold),
            sleep_window_max_ms: live(config.sleep_window_max_ms),
            sleep_window_jitter: live(config.sleep_window_jitter),
            half_open_max_wait_ms: live(config.half_open_max_wait_ms),
            fleet: AtomicBool::new(config.fleet),
            reconfigured: AtomicBool::new(false),
        }
    }

    /// The configuration in force.
    pub(crate) fn load(&self) -> Config {
        let get = |key: &AtomicU32| key.load(Ordering::Relaxed);
        Config {
            error_threshold: get(&self.error_threshold),
            request_volume_threshold: get(&self.request_volume_threshold),
            window_ms: get(&self.window_ms),
            window_buckets: get(&self.window_buckets),
            sleep_window_ms: get(&self.sleep_window_ms),
            half_open_max_calls: get(&self.half_open_max_calls),
            consecutive_failures: get(&self.consecutive_failures),
            timeout_ms: get(&self.timeout_ms),
            max_concurrent: get(&self.max_concurrent),
            slow_call_ms: get(&self.slow_call_ms),
            slow_call_threshold: get(&self.slow_call_threshold),
            sleep_window_max_ms: get(&self.sleep_window_max_ms),
            sleep_window_jitter: get(&self.sleep_window_jitter),
            half_open_max_wait_ms: get(&self.half_open_max_wait_ms),
            fleet: self.fleet.load(Ordering::Relaxed),
        }
    }

    /// Puts `config` in force, key by key.
    pub(crate) fn store(&self, config: Config) {
        let set = |key: &AtomicU32, value| key.store(value, Ordering::Relaxed);
        set(&self.error_threshold, config.error_threshold);
        set(
            &self.request_volume_threshold,
            config.request_volume_threshold,
        );
        set(&self.window_ms, config.window_ms);
        set(&self.window_buckets, config.window_buckets);
        set(&self.sleep_window_ms, config.sleep_window_ms);
        set(&self.half_open_max_calls, config.half_open_max_calls);
        set(&self.consecutive_failures, config.consecutive_failures);
        set(&self.timeout_ms, config.timeout_ms);
        set(&self.max_concurrent, config.max_concurrent);
        set(&self.slow_call_ms, config.slow_call_ms);
        set(&self.slow_call_threshold, config.slow_call_threshold);
        set(&self.sleep_window_max_ms, config.sleep_window_max_ms);
        set(&self.sleep_window_jitter, config.sleep_window_jitter);
        set(&self.half_open_max_wait_ms, config.half_open_max_wait_ms);
        self.fleet.store(config.fleet, Ordering::Relaxed);
    }

    /// Whether the breaker is in fleet mode: read by the fleet's sync, never by a call.
    #[cfg_attr(not(feature = "redis"), allow(dead_code))]
    pub(crate) fn fleet(&self) -> bool {
        self.fleet.load(Ordering::Relaxed)
    }

    #[inline]
    pub(crate) fn error_threshold(&self) -> u64 {
        u64::from(self.error_threshold.load(Ordering::Relaxed))
    }

    #[inline]
    pub(crate) fn request_volume_threshold(&self) -> u64 {
        u64::from(self.request_volume_threshold.load(Ordering::Relaxed))
    }

    #[inline]
    pub(crate) fn sleep_window_ms(&self) -> u64 {
        u64::from(self.sleep_window_ms.load(Ordering::Relaxed))
    }

    #[inline]
    pub(crate) fn half_open_max_calls(&self) -> u64 {
        u64::from(self.half_open_max_calls.load(Ordering::Relaxed))
    }

    #[inline]
    pub(crate) fn consecutive_failures(&self) -> Option<u64> {
        optional(self.consecutive_failures.load(Ordering::Relaxed))
    }

    #[inline]
    pub(crate) fn timeout(&self) -> Option<Duration> {
        optional(self.timeout_ms.load(Ordering::Relaxed)).map(Duration::from_millis)
    }

    #[inline]
    pub(crate) fn max_concurrent(&self) -> Option<u64> {
        optional(self.max_concurrent.load(Ordering::Relaxed))
    }

    #[inline]
    pub(crate) fn slow_call_ms(&self) -> Option<u64> {
        optional(self.slow_call_ms.load(Ordering::Relaxed))
    }

    #[inline]
    pub(crate) fn slow_call_threshold(&self) -> u64 {
        u64::from(self.slow_call_threshold.load(Ordering::Relaxed))
    }

    #[inline]
    pub(crate) fn sleep_window_max_ms(&self) -> Option<u64> {
        optional(self.sleep_window_max_ms.load(Ordering::Relaxed))
    }

    #[inline]
    pub(crate) fn sleep_window_jitter(&self) -> Option<u64> {
        optional(self.sleep_window_jitter.load(Ordering::Relaxed))
    }

    #[inline]
    pub(crate) fn half_open_max_wait_ms(&self) -> Option<u64> {
        optional(self.half_open_max_wait_ms.load(Ordering::Relaxed))
    }
}

/// An optional value as stored: 0 is unset.
const fn optional(value: u32) -> Option<u64> {
    match value {
        0 => None,
        value => Some(value as u64),
    }
}

impl Default for Config {
    /// The defaults listed on [`Config`].
    fn default() -> Self {
        match Config::builder().build() {
            Ok(config) => config,
            Err(_) => unreachable!("the defaults are within their limits"),
        }
    }
}

pub(crate) const fn default_of(limit: Limit) -> u64 {
    match limit.default {
        Some(value) => value,
        None => 0,
    }
}

/// Builds a [`Config`]; every method is `const`, so a configuration can be checked at compile
/// time in a `const` item. Values are checked in [`build`](ConfigBuilder::build), against the
/// limits of the keys named after each method (durations as `…_ms`, in whole milliseconds:
/// a fraction of a millisecond is dropped).
///
/// ```
/// use fusebox::Config;
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
    config: PartialConfig,
}

impl ConfigBuilder {
    /// Trip when failures are at least this percent (1..=100) of the calls in the window.
    pub const fn error_threshold(mut self, percent: u64) -> Self {
        self.config.error_threshold = Some(percent);
        self
    }

    /// …and the window holds at least this many calls (≥ 1).
    pub const fn request_volume_threshold(mut self, calls: u64) -> Self {
        self.config.request_volume_threshold = Some(calls);
        self
    }

    /// Length of the rolling window, `window_ms` (10 ms to one day).
    pub const fn window(mut self, length: Duration) -> Self {
        self.config.window_ms = Some(millis(length));
        self
    }

    /// Buckets the window is kept in (1..=1000); they must split the window evenly into
    /// buckets of at least [`limits::MIN_BUCKET_MS`].
    pub const fn window_buckets(mut self, buckets: u64) -> Self {
        self.config.window_buckets = Some(buckets);
        self
    }

    /// How long the circuit stays open before it lets a trial call through,
    /// `sleep_window_ms` (1 ms to one day).
    pub const fn sleep_window(mut self, sleep: Duration) -> Self {
        self.config.sleep_window_ms = Some(millis(sleep));
        self
    }

    /// Trial calls admitted while half-open (1..=65535); all of them must succeed to close.
    pub const fn half_open_max_calls(mut self, calls: u64) -> Self {
        self.config.half_open_max_calls = Some(calls);
        self
    }

    /// Also trip after this many failures in a row (≥ 1), like pybreaker's `fail_max`.
    pub const fn consecutive_failures(mut self, failures: u64) -> Self {
        self.config.consecutive_failures = Some(failures);
        self
    }

    /// Drop an async call still running after this long, `timeout_ms` (1 ms to one day), and
    /// count it as a failure ([`BreakerError::Timeout`](crate::BreakerError::Timeout)). Sync
    /// calls cannot be abandoned and ignore it. Needs the `tokio` feature, whose timer enforces
    /// it; without that feature this method does not exist, so a timeout cannot be silently
    /// ignored.
    #[cfg(feature = "tokio")]
    #[cfg_attr(docsrs, doc(cfg(feature = "tokio")))]
    pub const fn timeout(mut self, limit: Duration) -> Self {
        self.config.timeout_ms = Some(millis(limit));
        self
    }

    /// Reject calls at once ([`BreakerError::Busy`](crate::BreakerError::Busy)) while this
    /// many (≥ 1) are in flight: a bulkhead, as Hystrix's semaphore isolation.
    pub const fn max_concurrent(mut self, calls: u64) -> Self {
        self.config.max_concurrent = Some(calls);
        self
    }

    /// Count a call that takes longer than this as slow, `slow_call_ms` (10 ms to one day; see
    /// [`limits::SLOW_CALL_MS`] for why not less): the breaker trips when slow calls are at
    /// least [`slow_call_threshold`](Self::slow_call_threshold) percent of the window's calls,
    /// as Resilience4j's slow-call rule. A slow success is still a success, a slow failure both
    /// slow and a failure.
    pub const fn slow_call(mut self, limit: Duration) -> Self {
        self.config.slow_call_ms = Some(millis(limit));
        self
    }

    /// Trip when slow calls are at least this percent (1..=100, default 100) of the calls in
    /// the window, once it holds `request_volume_threshold` calls. Needs
    /// [`slow_call`](Self::slow_call).
    pub const fn slow_call_threshold(mut self, percent: u64) -> Self {
        self.config.slow_call_threshold = Some(percent);
        self
    }

    /// Open-duration backoff: each re-opening after a failed trial sleeps twice as long as the
    /// one before, from `sleep_window_ms` up to this, `sleep_window_max_ms` (at least
    /// `sleep_window_ms`, at most one day); back to `sleep_window_ms` once the circuit closes.
    pub const fn sleep_window_max(mut self, longest: Duration) -> Self {
        self.config.sleep_window_max_ms = Some(millis(longest));
        self
    }

    /// Lengthen each sleep window by a random share of itself, up to this percent (1..=100),
    /// `sleep_window_jitter`: many instances of a service that opened together half-open at
    /// different moments.
    pub const fn sleep_window_jitter(mut self, percent: u64) -> Self {
        self.config.sleep_window_jitter = Some(percent);
        self
    }

    /// End a half-open period whose trials have not all finished after this long as a failure,
    /// `half_open_max_wait_ms` (1 ms to one day): the circuit re-opens, and the late trials'
    /// outcomes are ignored. Without it, a sync trial call that never returns keeps the circuit
    /// half-open, and every other call rejected, for as long as it hangs.
    pub const fn half_open_max_wait(mut self, limit: Duration) -> Self {
        self.config.half_open_max_wait_ms = Some(millis(limit));
        self
    }

    /// Share this breaker's counts with the other instances of the service, `fleet`: when the
    /// process runs `fleet::start` (feature `redis`), the fleet trips on the fleet's
    /// failures. Without fleet mode running, the key changes nothing.
    pub const fn fleet(mut self, on: bool) -> Self {
        self.config.fleet = Some(on);
        self
    }

    /// Checks every value against [`limits`] and returns the configuration.
    ///
    /// # Errors
    /// The first value outside its limit, or [`ConfigError::WindowNotDivisible`],
    /// [`ConfigError::BucketTooNarrow`], [`ConfigError::BelowKey`] (`sleep_window_max_ms`) or
    /// [`ConfigError::Requires`] (`slow_call_threshold`).
    pub const fn build(self) -> Result<Config, ConfigError> {
        self.config.build()
    }
}

/// An optional value as a `Config` stores it (checked, so it fits).
#[allow(clippy::cast_possible_truncation)]
pub(crate) const fn stored(value: Option<u64>) -> u32 {
    match value {
        Some(value) => value as u32,
        None => 0,
    }
}

/// Whole milliseconds, saturating: a duration beyond `u64::MAX` ms is out of every range.
pub(crate) const fn millis(duration: Duration) -> u64 {
    let millis = duration.as_millis();
    if millis > u64::MAX as u128 {
        u64::MAX
    } else {
        // Checked just above.
        #[allow(clippy::cast_possible_truncation)]
        let millis = millis as u64;
        millis
    }
}

pub(crate) const fn check_optional(limit: Limit, value: Option<u64>) -> Result<u64, ConfigError> {
    match value {
        Some(value) => limit.check(value),
        None => Ok(0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_limit_fits_the_32_bits_a_config_stores() {
        assert!(
            limits::ALL
                .iter()
                .all(|limit| u32::try_from(limit.max).is_ok())
        );
        assert_eq!(std::mem::size_of::<Config>(), 60);
        // The flag `fleet` takes padding of the live configuration, not a word of its own.
        assert_eq!(std::mem::size_of::<LiveConfig>(), 60);
    }

    #[test]
    fn defaults_are_hystrix_defaults() {
        let config = Config::default();
        assert_eq!(config, Config::builder().build().unwrap());
        assert_eq!(config.error_threshold(), 50);
        assert_eq!(config.request_volume_threshold(), 20);
        assert_eq!(config.window(), Duration::from_secs(10));
        assert_eq!(config.window_buckets(), 10);
        assert_eq!(config.sleep_window(), Duration::from_secs(5));
        assert_eq!(config.half_open_max_calls(), 1);
        assert_eq!(config.consecutive_failures(), None);
        assert_eq!(config.timeout(), None);
        assert_eq!(config.max_concurrent(), None);
        assert_eq!(config.slow_call(), None);
        assert_eq!(config.slow_call_threshold(), 100);
        assert_eq!(config.sleep_window_max(), None);
        assert_eq!(config.sleep_window_jitter(), None);
        assert_eq!(config.half_open_max_wait(), None);
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
            (limits::WINDOW_MS, |b, v| {
                b.window(Duration::from_millis(v)).window_buckets(1)
            }),
            // A window of 10 000 s divides into 1 and into 1000 buckets of at least 10 ms.
            (limits::WINDOW_BUCKETS, |b, v| {
                b.window(Duration::from_secs(10_000)).window_buckets(v)
            }),
            (limits::SLEEP_WINDOW_MS, |b, v| {
                b.sleep_window(Duration::from_millis(v))
            }),
            (
                limits::HALF_OPEN_MAX_CALLS,
                ConfigBuilder::half_open_max_calls,
            ),
            (
                limits::CONSECUTIVE_FAILURES,
                ConfigBuilder::consecutive_failures,
            ),
            (limits::MAX_CONCURRENT, ConfigBuilder::max_concurrent),
            (limits::SLOW_CALL_MS, |b, v| {
                b.slow_call(Duration::from_millis(v))
            }),
            (limits::SLOW_CALL_THRESHOLD, |b, v| {
                b.slow_call(Duration::from_secs(1)).slow_call_threshold(v)
            }),
            // The longest sleep window must not be shorter than the first.
            (limits::SLEEP_WINDOW_MAX_MS, |b, v| {
                b.sleep_window(Duration::from_millis(1))
                    .sleep_window_max(Duration::from_millis(v))
            }),
            (
                limits::SLEEP_WINDOW_JITTER,
                ConfigBuilder::sleep_window_jitter,
            ),
            (limits::HALF_OPEN_MAX_WAIT_MS, |b, v| {
                b.half_open_max_wait(Duration::from_millis(v))
            }),
        ];
        #[cfg(feature = "tokio")]
        setters.push((limits::TIMEOUT_MS, |b, v| {
            b.timeout(Duration::from_millis(v))
        }));
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
    fn window_must_divide_into_buckets_of_at_least_10_ms() {
        let window = |millis, buckets| {
            Config::builder()
                .window(Duration::from_millis(millis))
                .window_buckets(buckets)
                .build()
        };
        assert_eq!(
            window(1_000, 3),
            Err(ConfigError::WindowNotDivisible {
                window_ms: 1_000,
                window_buckets: 3
            })
        );
        assert!(window(1_000, 8).is_ok());
        assert!(window(1_000, 100).is_ok(), "10 ms buckets");
        assert_eq!(
            window(1_000, 200),
            Err(ConfigError::BucketTooNarrow {
                window_ms: 1_000,
                window_buckets: 200
            })
        );
    }

    #[test]
    fn keys_that_involve_another_key() {
        let backoff = |first, longest| {
            Config::builder()
                .sleep_window(Duration::from_millis(first))
                .sleep_window_max(Duration::from_millis(longest))
                .build()
        };
        assert_eq!(
            backoff(5_000, 4_999),
            Err(ConfigError::BelowKey {
                key: "sleep_window_max_ms",
                value: 4_999,
                other: "sleep_window_ms",
                minimum: 5_000
            })
        );
        assert_eq!(
            backoff(5_000, 5_000).unwrap().sleep_window_max(),
            Some(Duration::from_secs(5))
        );
        // The default sleep window (5 s) counts when none is given.
        assert!(matches!(
            Config::builder()
                .sleep_window_max(Duration::from_secs(1))
                .build(),
            Err(ConfigError::BelowKey { minimum: 5_000, .. })
        ));
        assert_eq!(
            Config::builder().slow_call_threshold(50).build(),
            Err(ConfigError::Requires {
                key: "slow_call_threshold",
                needs: "slow_call_ms",
                because: "the time past which a call is slow"
            })
        );
        let slow = Config::builder()
            .slow_call(Duration::from_millis(250))
            .build()
            .unwrap();
        assert_eq!(
            (slow.slow_call(), slow.slow_call_threshold()),
            (Some(Duration::from_millis(250)), 100)
        );
    }

    #[test]
    fn durations_count_in_whole_milliseconds() {
        let config = Config::builder()
            .sleep_window(Duration::from_micros(2_500))
            .build()
            .unwrap();
        assert_eq!(config.sleep_window(), Duration::from_millis(2));
        assert_eq!(
            Config::builder()
                .sleep_window(Duration::from_micros(999))
                .build(),
            Err(ConfigError::OutOfRange {
                key: "sleep_window_ms",
                min: 1,
                max: limits::MAX_MS,
                value: 0
            })
        );
        // Durations beyond `u64::MAX` ms saturate rather than wrap into range.
        for huge in [Duration::MAX, Duration::from_secs(u64::MAX)] {
            assert!(matches!(
                Config::builder().window(huge).build(),
                Err(ConfigError::OutOfRange {
                    value: u64::MAX,
                    ..
                })
            ));
        }
    }
}
