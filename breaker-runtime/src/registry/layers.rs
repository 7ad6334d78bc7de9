//! The overrides in force, resolved to what they configure, and the precedence that makes a
//! breaker's configuration of them.

use std::collections::BTreeMap;

use crate::{PartialConfig, name::variable_form};

/// The last overrides applied from each source (see [`Overrides`](crate::Overrides)): a file or
/// a loader, and the environment.
#[derive(Clone, Debug, Default)]
pub(crate) struct Layers {
    pub(crate) config: Layer,
    pub(crate) environment: Layer,
}

/// One source's overrides, each entry under the name of what it configures.
#[derive(Clone, Debug, Default)]
pub(crate) struct Layer {
    /// For every breaker, under the keys its code did not set.
    pub(crate) defaults: PartialConfig,
    /// By name: a registered breaker's, a family's (all its keys), or a family's key not made
    /// yet (`<family>/<key>`).
    pub(crate) named: BTreeMap<String, PartialConfig>,
    /// The environment's entries for a family's keys not made yet, by the name's variable
    /// form: a key's name cannot be read back from that form, so it is matched when the key
    /// is made.
    pub(crate) by_form: BTreeMap<String, PartialConfig>,
}

impl Layer {
    /// The entry for `name`, or nothing set.
    fn entry(&self, name: &str) -> PartialConfig {
        if let Some(entry) = self.named.get(name) {
            return *entry;
        }
        if self.by_form.is_empty() {
            return PartialConfig::new();
        }
        self.by_form
            .get(&variable_form(name))
            .copied()
            .unwrap_or_default()
    }
}

impl Layers {
    /// The keys of breaker `name` (a key of `family`, if it has one) whose code set `code`,
    /// each from the highest layer that sets it. Lowest first: the built-in defaults (left to
    /// `build`), the file's `defaults`, the environment's, the code's keys, the file's entry
    /// for the family, for the breaker (or the key), the environment's for the family, for the
    /// breaker.
    pub(crate) fn partial(
        &self,
        name: &str,
        family: Option<&str>,
        code: &PartialConfig,
    ) -> PartialConfig {
        let (environment, file) = (&self.environment, &self.config);
        let family_entry =
            |layer: &Layer| family.map_or_else(PartialConfig::new, |family| layer.entry(family));
        environment
            .entry(name)
            .or(family_entry(environment))
            .or(file.entry(name))
            .or(family_entry(file))
            .or(*code)
            .or(environment.defaults)
            .or(file.defaults)
    }

    /// The keys every key of `family` (whose code set `code`) starts with, before a key's own
    /// entries: the family's entries over its code, over the defaults.
    #[cfg_attr(not(feature = "serde"), allow(dead_code))] // read by `registry::apply`
    pub(crate) fn family_partial(&self, family: &str, code: &PartialConfig) -> PartialConfig {
        self.environment
            .entry(family)
            .or(self.config.entry(family))
            .or(*code)
            .or(self.environment.defaults)
            .or(self.config.defaults)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ConfigKey;

    fn set(key: ConfigKey, value: u64) -> PartialConfig {
        PartialConfig::new().with(key, value)
    }

    #[test]
    fn each_key_comes_from_the_highest_layer_that_sets_it() {
        let threshold = ConfigKey::ErrorThreshold;
        let mut layers = Layers::default();
        let code = set(threshold, 40);
        let name = "hosts/10.0.0.1";
        let of = |layers: &Layers| layers.partial(name, Some("hosts"), &code).value(threshold);
        assert_eq!(of(&layers), Some(40), "the code's");
        layers.config.defaults = set(threshold, 10).with(ConfigKey::WindowBuckets, 5);
        assert_eq!(
            of(&layers),
            Some(40),
            "defaults only where the code is silent"
        );
        assert_eq!(
            layers
                .partial(name, Some("hosts"), &code)
                .value(ConfigKey::WindowBuckets),
            Some(5)
        );
        layers
            .config
            .named
            .insert("hosts".to_owned(), set(threshold, 30));
        assert_eq!(of(&layers), Some(30), "the family's entry");
        layers
            .config
            .named
            .insert(name.to_owned(), set(threshold, 25));
        assert_eq!(of(&layers), Some(25), "the key's, over the family's");
        layers
            .environment
            .named
            .insert("hosts".to_owned(), set(threshold, 20));
        assert_eq!(
            of(&layers),
            Some(20),
            "the environment's family, over the file"
        );
        layers
            .environment
            .by_form
            .insert("HOSTS_10_0_0_1".to_owned(), set(threshold, 15));
        assert_eq!(
            of(&layers),
            Some(15),
            "the environment's key, by its variable form"
        );
    }
}
