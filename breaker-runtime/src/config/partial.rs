//! Any subset of a configuration's keys: what an attribute wrote, what an override sets, what
//! a builder was given. Layers of these, merged in order of precedence, make the [`Config`] a
//! breaker runs with. The fields, [`PartialConfig::with`], [`PartialConfig::value`] and
//! [`PartialConfig::or`] are made from the key table (`keys.rs`); building one is in
//! `builder.rs`.

use super::{Config, ConfigError, ConfigKey, KeyKind, PartialConfig};

impl PartialConfig {
    /// These keys over `config`: a candidate configuration for a breaker that runs with
    /// `config`, as a shadow and a replay make one. The keys `config` has away from their
    /// defaults are kept where these are silent; a key it leaves at its default is left to
    /// the candidate's own rules (the adaptive policy's values, say), as in any
    /// configuration.
    ///
    /// # Errors
    /// [`ConfigError`] if the keys together are not a valid configuration.
    ///
    /// ```
    /// use fusebox::{Config, PartialConfig};
    ///
    /// let live = Config::builder().error_threshold(30).request_volume_threshold(50).build()?;
    /// let mut candidate = PartialConfig::new();
    /// candidate.request_volume_threshold = Some(10);
    /// let config = candidate.over(&live)?;
    /// assert_eq!((config.error_threshold(), config.request_volume_threshold()), (30, 10));
    /// # Ok::<(), fusebox::ConfigError>(())
    /// ```
    pub fn over(&self, config: &Config) -> Result<Config, ConfigError> {
        let defaults = Config::default();
        let base = ConfigKey::ALL
            .into_iter()
            .filter(|key| config.value(*key) != defaults.value(*key))
            .fold(PartialConfig::new(), |base, key| {
                base.with(key, config.value(key).unwrap_or(0))
            });
        self.or(base).build()
    }

    /// Sets the key named `key` (as the attribute names it) to `value`, unchecked until
    /// [`build`](Self::build). A flag takes 1 for on and 0 for off, a choice its index in
    /// [`ConfigKey::choices`].
    ///
    /// # Errors
    /// [`ConfigError::UnknownKey`] if no key has that name; [`ConfigError::OutOfRange`] for a
    /// flag other than 0 or 1.
    pub fn set(&mut self, key: &str, value: u64) -> Result<(), ConfigError> {
        let key = ConfigKey::from_name(key).ok_or(ConfigError::UnknownKey)?;
        if matches!(key.kind(), KeyKind::Flag | KeyKind::Choice) {
            key.limit().check(value)?;
        }
        *self = self.with(key, value);
        Ok(())
    }

    /// The keys set here, with their values (a flag as 1 or 0), in [`ConfigKey::ALL`]'s order.
    pub fn iter(&self) -> impl Iterator<Item = (ConfigKey, u64)> + '_ {
        ConfigKey::ALL
            .into_iter()
            .filter_map(|key| Some((key, self.value(key)?)))
    }

    /// The value of the key named `key`, if it is set here (a flag as 1 or 0).
    #[must_use]
    pub fn get(&self, key: &str) -> Option<u64> {
        self.value(ConfigKey::from_name(key)?)
    }

    /// Whether no key is set.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.iter().next().is_none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Config;

    #[test]
    fn a_config_round_trips_through_its_keys() {
        let config = Config::builder()
            .error_threshold(10)
            .max_concurrent(7)
            .build()
            .unwrap();
        let partial = PartialConfig::from(config);
        assert_eq!(partial.build(), Ok(config));
        assert_eq!(
            partial.iter().count(),
            7,
            "the optional keys that are off are left out"
        );
        assert_eq!(PartialConfig::new().build(), Ok(Config::default()));
    }

    #[test]
    fn every_key_can_be_set_by_name() {
        let mut partial = PartialConfig::new();
        for (value, key) in (1..).zip(ConfigKey::ALL) {
            // A flag takes 1 or 0.
            let value = if matches!(key.kind(), KeyKind::Flag | KeyKind::Choice) {
                1
            } else {
                value
            };
            partial.set(key.name(), value).unwrap();
        }
        assert_eq!(
            partial.iter().map(|(key, _)| key).collect::<Vec<_>>(),
            ConfigKey::ALL
        );
        assert_eq!(partial.get("window_ms"), Some(3));
        assert_eq!(partial.get("fleet"), Some(1));
        assert_eq!(
            partial.set("fleet", 2),
            Err(ConfigError::OutOfRange {
                key: "fleet",
                min: 0,
                max: 1,
                value: 2
            })
        );
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
