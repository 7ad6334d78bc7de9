//! Any subset of a configuration's keys: what an attribute wrote, what an override sets.
//! Layers of these, merged in order of precedence, make the [`Config`] a breaker runs with.

use crate::{
    Config, ConfigError,
    config::{check_optional, default_of, stored},
    limits,
};

/// Some of a [`Config`]'s keys, each named and valued as the `#[circuit_breaker]` attribute
/// writes it (durations as `…_ms` integers). A key left `None` is not set here and falls to the
/// layer below (see [`Overrides`](crate::Overrides) for the layers).
///
/// With the `serde` feature it (de)serializes as a table of those keys; an unknown key is an
/// error that lists the known ones.
///
/// ```
/// use fusebox::PartialConfig;
///
/// let mut stricter = PartialConfig::new();
/// stricter.error_threshold = Some(25);
/// let config = stricter.build()?;
/// assert_eq!(config.error_threshold(), 25);
/// assert_eq!(config.request_volume_threshold(), 20); // the built-in default
///
/// let mut out_of_range = PartialConfig::new();
/// out_of_range.set("error_threshold", 150)?;
/// assert_eq!(
///     out_of_range.build().unwrap_err().to_string(),
///     "error_threshold must be between 1 and 100, got 150"
/// );
/// # Ok::<(), fusebox::ConfigError>(())
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(default, deny_unknown_fields))]
#[non_exhaustive]
#[allow(missing_docs)] // each field is the key of the same name, documented on `Config`
pub struct PartialConfig {
    #[cfg_attr(feature = "serde", serde(skip_serializing_if = "Option::is_none"))]
    pub error_threshold: Option<u64>,
    #[cfg_attr(feature = "serde", serde(skip_serializing_if = "Option::is_none"))]
    pub request_volume_threshold: Option<u64>,
    #[cfg_attr(feature = "serde", serde(skip_serializing_if = "Option::is_none"))]
    pub window_ms: Option<u64>,
    #[cfg_attr(feature = "serde", serde(skip_serializing_if = "Option::is_none"))]
    pub window_buckets: Option<u64>,
    #[cfg_attr(feature = "serde", serde(skip_serializing_if = "Option::is_none"))]
    pub sleep_window_ms: Option<u64>,
    #[cfg_attr(feature = "serde", serde(skip_serializing_if = "Option::is_none"))]
    pub half_open_max_calls: Option<u64>,
    #[cfg_attr(feature = "serde", serde(skip_serializing_if = "Option::is_none"))]
    pub consecutive_failures: Option<u64>,
    #[cfg_attr(feature = "serde", serde(skip_serializing_if = "Option::is_none"))]
    pub timeout_ms: Option<u64>,
    #[cfg_attr(feature = "serde", serde(skip_serializing_if = "Option::is_none"))]
    pub max_concurrent: Option<u64>,
    #[cfg_attr(feature = "serde", serde(skip_serializing_if = "Option::is_none"))]
    pub slow_call_ms: Option<u64>,
    #[cfg_attr(feature = "serde", serde(skip_serializing_if = "Option::is_none"))]
    pub slow_call_threshold: Option<u64>,
    #[cfg_attr(feature = "serde", serde(skip_serializing_if = "Option::is_none"))]
    pub sleep_window_max_ms: Option<u64>,
    #[cfg_attr(feature = "serde", serde(skip_serializing_if = "Option::is_none"))]
    pub sleep_window_jitter: Option<u64>,
    #[cfg_attr(feature = "serde", serde(skip_serializing_if = "Option::is_none"))]
    pub half_open_max_wait_ms: Option<u64>,
    /// `fleet`, the one key that is a flag: `true` or `false` in files, the environment and
    /// the attribute.
    #[cfg_attr(feature = "serde", serde(skip_serializing_if = "Option::is_none"))]
    pub fleet: Option<bool>,
}

impl PartialConfig {
    /// The numeric keys a `PartialConfig` has, in the order the attribute's documentation lists
    /// them: every numeric key of the attribute but `max_keys` and `max_key_len`, which belong to
    /// a family. The flag `fleet` is the field of that name.
    pub const KEYS: [&str; 14] = [
        "error_threshold",
        "request_volume_threshold",
        "window_ms",
        "window_buckets",
        "sleep_window_ms",
        "half_open_max_calls",
        "consecutive_failures",
        "timeout_ms",
        "max_concurrent",
        "slow_call_ms",
        "slow_call_threshold",
        "sleep_window_max_ms",
        "sleep_window_jitter",
        "half_open_max_wait_ms",
    ];

    /// No key set.
    #[must_use]
    pub const fn new() -> Self {
        PartialConfig {
            error_threshold: None,
            request_volume_threshold: None,
            window_ms: None,
            window_buckets: None,
            sleep_window_ms: None,
            half_open_max_calls: None,
            consecutive_failures: None,
            timeout_ms: None,
            max_concurrent: None,
            slow_call_ms: None,
            slow_call_threshold: None,
            sleep_window_max_ms: None,
            sleep_window_jitter: None,
            half_open_max_wait_ms: None,
            fleet: None,
        }
    }

    /// The slot of `key`, if it is one of [`KEYS`](Self::KEYS).
    fn slot(&mut self, key: &str) -> Option<&mut Option<u64>> {
        Some(match key {
            "error_threshold" => &mut self.error_threshold,
            "request_volume_threshold" => &mut self.request_volume_threshold,
            "window_ms" => &mut self.window_ms,
            "window_buckets" => &mut self.window_buckets,
            "sleep_window_ms" => &mut self.sleep_window_ms,
            "half_open_max_calls" => &mut self.half_open_max_calls,
            "consecutive_failures" => &mut self.consecutive_failures,
            "timeout_ms" => &mut self.timeout_ms,
            "max_concurrent" => &mut self.max_concurrent,
            "slow_call_ms" => &mut self.slow_call_ms,
            "slow_call_threshold" => &mut self.slow_call_threshold,
            "sleep_window_max_ms" => &mut self.sleep_window_max_ms,
            "sleep_window_jitter" => &mut self.sleep_window_jitter,
            "half_open_max_wait_ms" => &mut self.half_open_max_wait_ms,
            _ => return None,
        })
    }

    /// Sets the key named `key` (as the attribute names it) to `value`, unchecked until
    /// [`build`](Self::build).
    ///
    /// The flag `fleet` takes 1 for on and 0 for off.
    ///
    /// # Errors
    /// [`ConfigError::UnknownKey`] if no key has that name; [`ConfigError::OutOfRange`] for a
    /// `fleet` other than 0 or 1.
    pub fn set(&mut self, key: &str, value: u64) -> Result<(), ConfigError> {
        if key == limits::FLEET.key {
            let on = limits::FLEET.check(value)?;
            self.fleet = Some(on == 1);
            return Ok(());
        }
        let slot = self.slot(key).ok_or(ConfigError::UnknownKey)?;
        *slot = Some(value);
        Ok(())
    }

    /// The keys set here, with their values.
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, u64)> {
        let values = [
            self.error_threshold,
            self.request_volume_threshold,
            self.window_ms,
            self.window_buckets,
            self.sleep_window_ms,
            self.half_open_max_calls,
            self.consecutive_failures,
            self.timeout_ms,
            self.max_concurrent,
            self.slow_call_ms,
            self.slow_call_threshold,
            self.sleep_window_max_ms,
            self.sleep_window_jitter,
            self.half_open_max_wait_ms,
        ];
        Self::KEYS
            .into_iter()
            .zip(values)
            .filter_map(|(key, value)| Some((key, value?)))
    }

    /// The value of the key named `key`, if it is set here.
    #[must_use]
    pub fn get(&self, key: &str) -> Option<u64> {
        self.iter()
            .find_map(|(set, value)| (set == key).then_some(value))
    }

    /// Whether no key is set.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.iter().next().is_none() && self.fleet.is_none()
    }

    /// These keys where set, `lower`'s elsewhere: `self` is the layer of higher precedence.
    ///
    /// ```
    /// use fusebox::PartialConfig;
    ///
    /// let (mut file, mut attribute) = (PartialConfig::new(), PartialConfig::new());
    /// file.error_threshold = Some(30);
    /// attribute.error_threshold = Some(50);
    /// attribute.sleep_window_ms = Some(10_000);
    /// let merged = file.or(attribute);
    /// assert_eq!((merged.error_threshold, merged.sleep_window_ms), (Some(30), Some(10_000)));
    /// ```
    #[must_use]
    pub const fn or(self, lower: PartialConfig) -> PartialConfig {
        const fn either(higher: Option<u64>, lower: Option<u64>) -> Option<u64> {
            match higher {
                Some(value) => Some(value),
                None => lower,
            }
        }
        PartialConfig {
            error_threshold: either(self.error_threshold, lower.error_threshold),
            request_volume_threshold: either(
                self.request_volume_threshold,
                lower.request_volume_threshold,
            ),
            window_ms: either(self.window_ms, lower.window_ms),
            window_buckets: either(self.window_buckets, lower.window_buckets),
            sleep_window_ms: either(self.sleep_window_ms, lower.sleep_window_ms),
            half_open_max_calls: either(self.half_open_max_calls, lower.half_open_max_calls),
            consecutive_failures: either(self.consecutive_failures, lower.consecutive_failures),
            timeout_ms: either(self.timeout_ms, lower.timeout_ms),
            max_concurrent: either(self.max_concurrent, lower.max_concurrent),
            slow_call_ms: either(self.slow_call_ms, lower.slow_call_ms),
            slow_call_threshold: either(self.slow_call_threshold, lower.slow_call_threshold),
            sleep_window_max_ms: either(self.sleep_window_max_ms, lower.sleep_window_max_ms),
            sleep_window_jitter: either(self.sleep_window_jitter, lower.sleep_window_jitter),
            half_open_max_wait_ms: either(self.half_open_max_wait_ms, lower.half_open_max_wait_ms),
            fleet: match self.fleet {
                Some(on) => Some(on),
                None => lower.fleet,
            },
        }
    }

    /// The configuration: these keys, the built-in defaults for the others, every value
    /// checked against [`limits`] as [`ConfigBuilder::build`](crate::ConfigBuilder::build)
    /// checks it.
    ///
    /// # Errors
    /// The first value outside its limit, [`ConfigError::WindowNotDivisible`],
    /// [`ConfigError::BucketTooNarrow`], [`ConfigError::BelowKey`] for a `sleep_window_max_ms`
    /// under `sleep_window_ms`, [`ConfigError::Requires`] for `slow_call_threshold` without
    /// `slow_call_ms`, or [`ConfigError::NeedsFeature`] for `timeout_ms` without the `tokio`
    /// feature.
    pub const fn build(self) -> Result<Config, ConfigError> {
        const fn or_default(value: Option<u64>, limit: limits::Limit) -> u64 {
            match value {
                Some(value) => value,
                None => default_of(limit),
            }
        }
        let error_threshold = or_default(self.error_threshold, limits::ERROR_THRESHOLD);
        let request_volume_threshold = or_default(
            self.request_volume_threshold,
            limits::REQUEST_VOLUME_THRESHOLD,
        );
        let window_ms = or_default(self.window_ms, limits::WINDOW_MS);
        let window_buckets = or_default(self.window_buckets, limits::WINDOW_BUCKETS);
        let sleep_window_ms = or_default(self.sleep_window_ms, limits::SLEEP_WINDOW_MS);
        let half_open_max_calls = or_default(self.half_open_max_calls, limits::HALF_OPEN_MAX_CALLS);
        let slow_call_threshold = or_default(self.slow_call_threshold, limits::SLOW_CALL_THRESHOLD);
        let checks = [
            limits::ERROR_THRESHOLD.check(error_threshold),
            limits::REQUEST_VOLUME_THRESHOLD.check(request_volume_threshold),
            limits::WINDOW_MS.check(window_ms),
            limits::WINDOW_BUCKETS.check(window_buckets),
            limits::SLEEP_WINDOW_MS.check(sleep_window_ms),
            limits::HALF_OPEN_MAX_CALLS.check(half_open_max_calls),
            check_optional(limits::CONSECUTIVE_FAILURES, self.consecutive_failures),
            check_optional(limits::TIMEOUT_MS, self.timeout_ms),
            check_optional(limits::MAX_CONCURRENT, self.max_concurrent),
            check_optional(limits::SLOW_CALL_MS, self.slow_call_ms),
            limits::SLOW_CALL_THRESHOLD.check(slow_call_threshold),
            check_optional(limits::SLEEP_WINDOW_MAX_MS, self.sleep_window_max_ms),
            check_optional(limits::SLEEP_WINDOW_JITTER, self.sleep_window_jitter),
            check_optional(limits::HALF_OPEN_MAX_WAIT_MS, self.half_open_max_wait_ms),
        ];
        let mut i = 0;
        while i < checks.len() {
            if let Err(error) = checks[i] {
                return Err(error);
            }
            i += 1;
        }
        let relations = [
            limits::check_window(window_ms, window_buckets),
            limits::check_sleep_window_max(sleep_window_ms, self.sleep_window_max_ms),
            limits::check_slow_calls(self.slow_call_ms, self.slow_call_threshold),
        ];
        let mut i = 0;
        while i < relations.len() {
            if let Err(error) = relations[i] {
                return Err(error);
            }
            i += 1;
        }
        // Without tokio nothing would enforce a timeout: refuse it rather than ignore it.
        if self.timeout_ms.is_some() && !cfg!(feature = "tokio") {
            return Err(ConfigError::NeedsFeature {
                key: "timeout_ms",
                feature: "tokio",
            });
        }
        // Every value is within its limit, and every limit's maximum fits in 32 bits.
        #[allow(clippy::cast_possible_truncation)]
        Ok(Config {
            error_threshold: error_threshold as u32,
            request_volume_threshold: request_volume_threshold as u32,
            window_ms: window_ms as u32,
            window_buckets: window_buckets as u32,
            sleep_window_ms: sleep_window_ms as u32,
            half_open_max_calls: half_open_max_calls as u32,
            consecutive_failures: stored(self.consecutive_failures),
            timeout_ms: stored(self.timeout_ms),
            max_concurrent: stored(self.max_concurrent),
            slow_call_ms: stored(self.slow_call_ms),
            slow_call_threshold: slow_call_threshold as u32,
            sleep_window_max_ms: stored(self.sleep_window_max_ms),
            sleep_window_jitter: stored(self.sleep_window_jitter),
            half_open_max_wait_ms: stored(self.half_open_max_wait_ms),
            fleet: matches!(self.fleet, Some(true)),
        })
    }
}

impl From<Config> for PartialConfig {
    /// Every key of `config`, its optional keys where they are on.
    fn from(config: Config) -> Self {
        PartialConfig {
            error_threshold: Some(config.error_threshold()),
            request_volume_threshold: Some(config.request_volume_threshold()),
            window_ms: Some(config.window_ms()),
            window_buckets: Some(config.window_buckets()),
            sleep_window_ms: Some(config.sleep_window_ms()),
            half_open_max_calls: Some(config.half_open_max_calls()),
            consecutive_failures: config.consecutive_failures(),
            timeout_ms: config.timeout_ms(),
            max_concurrent: config.max_concurrent(),
            slow_call_ms: config.slow_call_ms(),
            // Only with slow calls on: alone, the threshold would not build.
            slow_call_threshold: config.slow_call_ms().map(|_| config.slow_call_threshold()),
            sleep_window_max_ms: config.sleep_window_max_ms(),
            sleep_window_jitter: config.sleep_window_jitter(),
            half_open_max_wait_ms: config.half_open_max_wait_ms(),
            // Only when on, as the optional keys: off is the default.
            fleet: config.fleet().then_some(true),
        }
    }
}

impl TryFrom<PartialConfig> for Config {
    type Error = ConfigError;

    fn try_from(partial: PartialConfig) -> Result<Config, ConfigError> {
        partial.build()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_config_round_trips_through_its_keys() {
        let config = Config::builder()
            .error_threshold(10)
            .max_concurrent(7)
            .build()
            .unwrap();
        let partial = PartialConfig::from(config);
        assert_eq!(partial.build(), Ok(config));
        assert_eq!(partial.iter().count(), 7, "two optional keys are off");
        assert_eq!(PartialConfig::new().build(), Ok(Config::default()));
    }

    #[test]
    fn every_key_can_be_set_by_name() {
        let mut partial = PartialConfig::new();
        for (value, key) in (1..).zip(PartialConfig::KEYS) {
            partial.set(key, value).unwrap();
        }
        assert_eq!(
            partial.iter().map(|(key, _)| key).collect::<Vec<_>>(),
            PartialConfig::KEYS
        );
        assert_eq!(partial.iter().map(|(_, value)| value).sum::<u64>(), 105); // 1 + 2 + … + 14
        assert_eq!(partial.get("window_ms"), Some(3));
        assert_eq!(PartialConfig::new().get("window_ms"), None);
        assert_eq!(partial.set("threshold", 1), Err(ConfigError::UnknownKey));
        assert!(!partial.is_empty());
        assert!(PartialConfig::new().is_empty());
    }

    #[test]
    fn timeout_needs_tokio() {
        let mut partial = PartialConfig::new();
        partial.timeout_ms = Some(100);
        if cfg!(feature = "tokio") {
            assert_eq!(partial.build().unwrap().timeout_ms(), Some(100));
        } else {
            assert!(matches!(
                partial.build(),
                Err(ConfigError::NeedsFeature { .. })
            ));
        }
    }
}
