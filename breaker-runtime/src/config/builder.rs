//! Building a [`Config`]: the builder's values, checked against every key's limit and the rules
//! between keys, or the error that says what is allowed. The per-key parts (fields, getters,
//! setters) are made from the key table (`keys.rs`).

use std::time::Duration;

use super::{Config, ConfigError, ConfigKey, KeyKind, PartialConfig, limits};

impl Config {
    /// A builder holding the defaults, with no key set.
    pub const fn builder() -> ConfigBuilder {
        ConfigBuilder {
            config: PartialConfig::new(),
        }
    }

    /// The keys this configuration's code set, with their values: the layer of precedence it
    /// is (see [`Overrides`](crate::Overrides)). [`Config::default`] sets none.
    ///
    /// ```
    /// use fusebox::{Config, ConfigKey};
    ///
    /// let config = Config::builder().error_threshold(10).build()?;
    /// let set: Vec<_> = config.set_keys().iter().collect();
    /// assert_eq!(set, [(ConfigKey::ErrorThreshold, 10)]);
    /// assert!(Config::default().set_keys().is_empty());
    /// # Ok::<(), fusebox::ConfigError>(())
    /// ```
    #[must_use]
    pub fn set_keys(&self) -> PartialConfig {
        ConfigKey::ALL
            .into_iter()
            .filter(|key| self.is_set(*key))
            .fold(PartialConfig::new(), |partial, key| {
                partial.with(key, self.value(key).unwrap_or(0))
            })
    }

    /// Whether this configuration's code set `key`.
    #[must_use]
    pub const fn is_set(&self, key: ConfigKey) -> bool {
        self.set & (1 << key as u32) != 0
    }
}

impl Config {
    /// These values, with the keys `other`'s code set as the ones this configuration's code
    /// set: a configuration that overrides made, for a breaker whose code declared `other`.
    pub(crate) const fn with_set_of(mut self, other: &Config) -> Config {
        self.set = other.set;
        self
    }

    /// Whether a breaker with this configuration times its calls.
    pub(crate) fn times_calls(&self) -> bool {
        self.slow_call().is_some() || self.record_latency()
    }
}

impl Default for Config {
    /// The defaults listed on [`Config`], no key set.
    fn default() -> Self {
        match Config::builder().build() {
            Ok(config) => config,
            Err(_) => unreachable!("the defaults are within their limits"),
        }
    }
}

/// Builds a [`Config`]; every method is `const`, so a configuration can be checked at compile
/// time in a `const` item. Values are checked in [`build`](ConfigBuilder::build), against the
/// limits of the keys named after each method (durations as `…_ms`, in whole milliseconds:
/// a fraction of a millisecond is dropped). The configuration remembers which keys were set:
/// overrides' `defaults` fill in the others.
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
    pub(crate) config: PartialConfig,
}

impl ConfigBuilder {
    /// Checks every value against [`limits`] and returns the configuration.
    ///
    /// # Errors
    /// The first value outside its limit, or [`ConfigError::WindowNotDivisible`],
    /// [`ConfigError::BucketTooNarrow`], [`ConfigError::BelowKey`] or
    /// [`ConfigError::Requires`] for the rules between keys.
    pub const fn build(self) -> Result<Config, ConfigError> {
        self.config.build()
    }
}

impl PartialConfig {
    /// The configuration: these keys, the built-in defaults for the others, every value
    /// checked against [`limits`] as [`ConfigBuilder::build`] checks it. The keys set here
    /// are the ones the configuration remembers as set ([`Config::set_keys`]).
    ///
    /// # Errors
    /// The first value outside its limit, [`ConfigError::WindowNotDivisible`],
    /// [`ConfigError::BucketTooNarrow`], [`ConfigError::BelowKey`] for a key under the key
    /// it must be at least (`sleep_window_max_ms` under `sleep_window_ms`),
    /// [`ConfigError::Requires`] for a key set without the key it needs (`slow_call_threshold`
    /// without `slow_call_ms`), or [`ConfigError::NeedsFeature`] for `timeout_ms` without the
    /// `tokio` feature.
    pub const fn build(self) -> Result<Config, ConfigError> {
        let mut values = [0; ConfigKey::ALL.len()];
        let mut set = 0;
        let mut i = 0;
        while i < ConfigKey::ALL.len() {
            let key = ConfigKey::ALL[i];
            let limit = key.limit();
            let value = match self.value(key) {
                Some(value) => {
                    set |= 1 << key as u32;
                    match limit.check(value) {
                        Ok(value) => value,
                        Err(error) => return Err(error),
                    }
                }
                // Off unless set: stored as 0, under each optional key's minimum of 1.
                None if key.kind().is_optional() => 0,
                None => limits::default_of(limit),
            };
            values[i] = value;
            i += 1;
        }
        if let Err(error) = limits::check_relations(&self) {
            return Err(error);
        }
        // The adaptive policy sets the keys it decides by, whatever the layers said.
        if values[ConfigKey::Policy as usize] == crate::Policy::Adaptive as u64 {
            let mut i = 0;
            while i < ADAPTIVE.len() {
                let (key, value) = ADAPTIVE[i];
                values[key as usize] = value;
                i += 1;
            }
        }
        // Without tokio nothing would enforce a timeout: refuse it rather than ignore it.
        if self.value(ConfigKey::TimeoutMs).is_some() && !cfg!(feature = "tokio") {
            return Err(ConfigError::NeedsFeature {
                key: ConfigKey::TimeoutMs.name(),
                feature: "tokio",
            });
        }
        Ok(Config::from_checked(&values, set))
    }
}

/// The values the adaptive policy gives the keys it decides by (see
/// [`Policy::Adaptive`](crate::Policy::Adaptive)).
const ADAPTIVE: [(ConfigKey, u64); 7] = [
    (ConfigKey::WindowMs, 1_000),
    (ConfigKey::WindowBuckets, 10),
    (ConfigKey::ErrorThreshold, 61),
    (ConfigKey::RequestVolumeThreshold, 5),
    (ConfigKey::SleepWindowMs, 100),
    (ConfigKey::SleepWindowMaxMs, 1_000),
    (ConfigKey::HalfOpenMaxCalls, 1),
];

impl From<Config> for PartialConfig {
    /// Every key of `config` that says something: the keys that are always on, the optional
    /// ones that are on, a flag that is on, and a key that needs another only with it.
    fn from(config: Config) -> Self {
        let mut partial = PartialConfig::new();
        for key in ConfigKey::ALL {
            let Some(value) = config.value(key) else {
                continue; // an optional key that is off
            };
            // A flag that is off, or the first choice (the default policy), says nothing.
            let off = matches!(key.kind(), KeyKind::Flag | KeyKind::Choice) && value == 0;
            let alone = key
                .needs()
                .is_some_and(|(needed, _)| config.value(needed).is_none());
            if !off && !alone {
                partial = partial.with(key, value);
            }
        }
        partial
    }
}

impl TryFrom<PartialConfig> for Config {
    type Error = ConfigError;

    fn try_from(partial: PartialConfig) -> Result<Config, ConfigError> {
        partial.build()
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{config::LiveConfig, limits::Limit};

    #[test]
    fn every_limit_fits_the_32_bits_a_config_stores() {
        assert!(
            limits::ALL
                .iter()
                .all(|limit| u32::try_from(limit.max).is_ok())
        );
        // Eleven numbers of 32 bits, two of 16 and six of 8 (the keys whose values fit, `store`
        // in the key table), the four flags and the keys set: one cache line.
        assert_eq!(std::mem::size_of::<Config>(), 64);
        assert_eq!(std::mem::size_of::<LiveConfig>(), 64);
    }

    #[test]
    fn keys_the_code_set_are_not_observations() {
        // The first keys' bits sit right above the observations' in the same word: a breaker
        // whose code set them observes nothing, and its calls take no detour through
        // admission's observing path.
        let config = Config::builder()
            .error_threshold(50)
            .request_volume_threshold(10)
            .window(std::time::Duration::from_secs(5))
            .build()
            .unwrap();
        assert_eq!(LiveConfig::new(config).observed(), 0);
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
