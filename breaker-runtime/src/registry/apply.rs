//! [`registry::apply`](super::apply): overrides resolved to what they configure (breakers,
//! families, and keys of families to come), every resulting configuration checked, then all of
//! them put in force, or none.

use std::fmt;

use super::{
    Family, Registry,
    layers::{Layer, Layers},
};
use crate::{
    Config, ConfigKey, KeyKind, Name, Overrides, OverridesError, PartialConfig, Source,
    config::overrides::written_form, name::variable_form,
};

/// A set of changes [`registry::apply`](super::apply) made.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Applied {
    /// The breakers whose configuration changed, ordered by name.
    pub changed: Vec<Change>,
    /// Breakers left alone because code set their configuration with
    /// [`reconfigure`](crate::CircuitBreaker::reconfigure).
    pub reconfigured: Vec<String>,
    /// Entries for keys of a [`Keyed`](crate::Keyed) family that have no breaker yet: each
    /// applies when its key is made (`upstreams/10.0.0.7:8080`, or for the environment
    /// `BREAKER__UPSTREAMS_10_0_0_7_8080__…`).
    pub waiting: Vec<String>,
    /// The breakers whose shadow started (`[shadow."<name>"]`), or started again with other
    /// keys, ordered by name.
    pub shadows: Vec<String>,
    /// The breakers whose shadow ended, its entry gone from the overrides.
    pub shadows_ended: Vec<String>,
}

/// One breaker's configuration, before and after.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Change {
    /// The breaker.
    pub name: String,
    /// The configuration it had.
    pub before: Config,
    /// The configuration it has now.
    pub after: Config,
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:", self.name)?;
        for key in ConfigKey::ALL {
            let shown = |config: &Config| match (config.value(key), key.kind()) {
                (None, _) => "off".to_owned(),
                (Some(value), KeyKind::Flag) => (value == 1).to_string(),
                (Some(value), KeyKind::Choice) => usize::try_from(value)
                    .ok()
                    .and_then(|index| key.choices().get(index))
                    .map_or_else(|| value.to_string(), |name| (*name).to_owned()),
                (Some(value), _) => value.to_string(),
            };
            let (old, new) = (shown(&self.before), shown(&self.after));
            if old != new {
                write!(f, " {key} {old} → {new}")?;
            }
        }
        Ok(())
    }
}

/// What an entry of the overrides configures.
enum Target {
    /// A registered breaker, or a family (all its keys), by name.
    Named(String),
    /// A key of a known family that has no breaker yet, by name.
    Key(String),
    /// A key of a known family that has no breaker yet, by its name's variable form.
    KeyForm(String),
}

/// Every key to come that `layers` have an entry for, from either source: the name its
/// configuration is looked up by (an environment's entry by its variable form, which the
/// environment's layer finds it under), its family, and how an error names it. Each is
/// checked as [`register_key`](super::register_key) will make it, under every layer: a key
/// that both sources name is checked under its name, the environment's entry over the file's.
fn to_come<'r>(registry: &'r Registry, layers: &Layers) -> Vec<(String, &'r Family, String)> {
    let mut keys = Vec::new();
    let mut named_forms = Vec::new();
    for name in layers
        .config
        .named
        .keys()
        .chain(layers.environment.named.keys())
    {
        if registry.breakers.contains_key(name.as_str())
            || registry.families.contains_key(name.as_str())
        {
            continue;
        }
        if let Some(family) = family_of_key(registry, name) {
            named_forms.push(variable_form(name));
            keys.push((name.clone(), family, name.clone()));
        }
    }
    for form in layers
        .config
        .by_form
        .keys()
        .chain(layers.environment.by_form.keys())
    {
        if named_forms.contains(form) {
            continue; // checked under the name above
        }
        if let Some(family) = family_of_form(registry, form) {
            keys.push((form.clone(), family, shown_form(form)));
        }
    }
    keys
}

/// The family a key to come named `name` (`<family>/<key>`) belongs to: the longest known
/// family its name starts with.
fn family_of_key<'r>(registry: &'r Registry, name: &str) -> Option<&'r Family> {
    registry
        .families
        .iter()
        .filter(|(family, _)| {
            name.strip_prefix(family.as_str())
                .and_then(|rest| rest.strip_prefix('/'))
                .is_some_and(|key| !key.is_empty())
        })
        .max_by_key(|(family, _)| family.len())
        .map(|(_, family)| &**family)
}

/// The family a key to come whose name's variable form is `form` belongs to: the longest known
/// family whose variable form starts it.
fn family_of_form<'r>(registry: &'r Registry, form: &str) -> Option<&'r Family> {
    registry
        .families
        .iter()
        .filter(|(family, _)| {
            form.strip_prefix(&variable_form(family))
                .and_then(|rest| rest.strip_prefix('_'))
                .is_some_and(|key| !key.is_empty())
        })
        .max_by_key(|(family, _)| family.len())
        .map(|(_, family)| &**family)
}

/// A key to come of the environment's, as its variables write it: `BREAKER__<FORM>__…`.
fn shown_form(form: &str) -> String {
    format!("{}{form}__…", crate::ENV_PREFIX)
}

/// `registry::apply`, under the registry's lock.
pub(super) fn apply(
    registry: &mut Registry,
    overrides: &Overrides,
) -> Result<Applied, OverridesError> {
    let source = overrides.source();
    check_ranges(None, &overrides.defaults)?;
    let mut layer = Layer {
        defaults: overrides.defaults,
        ..Layer::default()
    };
    let mut waiting = Vec::new();
    for (name, entry) in &overrides.breakers {
        match resolve(registry, source, name)? {
            Target::Named(found) => {
                check_ranges(Some(&found), entry)?;
                layer.named.insert(found, *entry);
            }
            Target::Key(name) => {
                check_ranges(Some(&name), entry)?;
                waiting.push(name.clone());
                layer.named.insert(name, *entry);
            }
            Target::KeyForm(form) => {
                let shown = shown_form(&form);
                check_ranges(Some(&shown), entry)?;
                waiting.push(shown);
                layer.by_form.insert(form, *entry);
            }
        }
    }
    check_shadows(registry, overrides)?;
    let mut layers = registry.layers.clone();
    match source {
        Source::Config => layers.config = layer,
        Source::Environment => layers.environment = layer,
    }

    // Every configuration these layers make, all checked before any is put in force: every
    // breaker's, every family's for the keys it will make, every waiting key's.
    let invalid = |name: &str| {
        let name = name.to_owned();
        move |error| OverridesError::Invalid {
            breaker: Some(name),
            error,
        }
    };
    let mut planned = Vec::new();
    for (name, entry) in &registry.breakers {
        let family = entry.declared.family().map(|family| &*family.name);
        let code = entry
            .declared
            .code_layer(&entry.breaker, registry.originals.get(name));
        let after = layers
            .partial(name, family, &code)
            .build()
            .map_err(invalid(name))?;
        if let Some((declared, keys)) = shadow_of(&overrides.shadow, name, family) {
            keys.over(&after)
                .map_err(invalid(&format!("shadow.{declared}")))?;
        }
        planned.push((name, entry, after));
    }
    for (name, family) in &registry.families {
        layers
            .family_partial(name, &family.code_layer())
            .build()
            .map_err(invalid(&format!("{name}/…")))?;
    }
    for (name, family, shown) in to_come(registry, &layers) {
        layers
            .partial(&name, Some(&family.name), &family.code_layer())
            .build()
            .map_err(invalid(&shown))?;
    }

    let mut applied = Applied {
        waiting,
        ..Applied::default()
    };
    // What the code of each breaker registered in code declared, kept as overrides replace it.
    let mut originals = Vec::new();
    for (name, entry, after) in planned {
        let (breaker, before) = (&entry.breaker, entry.breaker.config());
        if breaker.is_reconfigured() {
            applied.reconfigured.push(name.to_string());
        } else if before != after {
            if entry.declared.keeps_original() {
                originals.push((name.clone(), before));
            }
            breaker.put_in_force(after);
            applied.changed.push(Change {
                name: name.to_string(),
                before,
                after,
            });
        }
    }
    for (name, before) in originals {
        registry.originals.entry(name).or_insert(before);
    }
    if source == Source::Config {
        shadows(registry, &overrides.shadow, &mut applied);
    }
    registry.layers = layers;
    Ok(applied)
}

/// The shadow `declared` gives the breaker `name` of `family`: its own entry, or its family's
/// (with the name it is declared under).
pub(super) fn shadow_of<'d>(
    declared: &'d std::collections::BTreeMap<String, PartialConfig>,
    name: &'d str,
    family: Option<&'d str>,
) -> Option<(&'d str, &'d PartialConfig)> {
    if let Some(keys) = declared.get(name) {
        return Some((name, keys));
    }
    let family = family?;
    Some((family, declared.get(family)?))
}

/// Each shadow is a registered breaker's or a family's, its keys each within its limit.
fn check_shadows(registry: &Registry, overrides: &Overrides) -> Result<(), OverridesError> {
    for (name, keys) in &overrides.shadow {
        if !registry.breakers.contains_key(name.as_str())
            && !registry.families.contains_key(name.as_str())
        {
            let names = registry.breakers.keys().chain(registry.families.keys());
            return Err(OverridesError::UnknownBreaker {
                name: name.clone(),
                suggestion: closest(name, names.map(Name::as_str)).map(str::to_owned),
            });
        }
        check_ranges(Some(name), keys)?;
    }
    Ok(())
}

/// Runs the shadows `declared` (checked) over the breakers' configurations now in force, and
/// ends those the overrides declared before and no longer do.
/// Says which started and which ended in `applied`.
fn shadows(
    registry: &mut Registry,
    declared: &std::collections::BTreeMap<String, PartialConfig>,
    applied: &mut Applied,
) {
    for (name, entry) in &registry.breakers {
        let family = entry.declared.family().map(|family| &*family.name);
        let was = shadow_of(&registry.shadows, name, family).is_some();
        match shadow_of(declared, name, family).map(|(_, keys)| keys) {
            // Checked above, over the configuration now in force; started, or kept as it was.
            Some(keys) if entry.breaker.set_shadow(keys) == Ok(true) => {
                applied.shadows.push(name.to_string());
            }
            None if was && entry.breaker.remove_shadow() => {
                applied.shadows_ended.push(name.to_string());
            }
            _ => {}
        }
    }
    registry.shadows.clone_from(declared);
}

/// Each key of `entry` within its limit (before any breaker's whole configuration is built,
/// so that a bad value in a table is reported at that table).
fn check_ranges(breaker: Option<&str>, entry: &PartialConfig) -> Result<(), OverridesError> {
    for (key, value) in entry.iter() {
        key.limit()
            .check(value)
            .map_err(|error| OverridesError::Invalid {
                breaker: breaker.map(str::to_owned),
                error,
            })?;
    }
    Ok(())
}

/// What `name` configures, in overrides from `source`.
fn resolve(registry: &Registry, source: Source, name: &str) -> Result<Target, OverridesError> {
    let names = || {
        registry
            .breakers
            .keys()
            .chain(registry.families.keys())
            .map(Name::as_str)
    };
    match source {
        Source::Config => {
            if registry.breakers.contains_key(name) || registry.families.contains_key(name) {
                return Ok(Target::Named(name.to_owned()));
            }
            // `<family>/<key>` of a known family.
            match family_of_key(registry, name) {
                Some(_) => Ok(Target::Key(name.to_owned())),
                None => Err(OverridesError::UnknownBreaker {
                    name: name.to_owned(),
                    suggestion: closest(name, names()).map(str::to_owned),
                }),
            }
        }
        Source::Environment => {
            let form = variable_form(name);
            // Each registered name in variable form, beside the name.
            let forms: Vec<(String, &str)> = names()
                .map(|registered| (variable_form(registered), registered))
                .collect();
            let matching: Vec<&str> = forms
                .iter()
                .filter(|(registered, _)| *registered == form)
                .map(|(_, registered)| *registered)
                .collect();
            match matching[..] {
                [one] => return Ok(Target::Named(one.to_owned())),
                [] => {}
                _ => {
                    return Err(OverridesError::AmbiguousName {
                        variable: format!("{}{name}__…", crate::ENV_PREFIX),
                        names: matching.into_iter().map(str::to_owned).collect(),
                    });
                }
            }
            match family_of_form(registry, &form) {
                Some(_) => Ok(Target::KeyForm(form)),
                None => Err(OverridesError::UnknownBreaker {
                    name: format!("{}{name}__…", crate::ENV_PREFIX),
                    suggestion: closest(&form, forms.iter().map(|(form, _)| form.as_str()))
                        .and_then(|near| forms.iter().find(|(form, _)| form == near))
                        .map(|(_, found)| {
                            format!("{}{}__… ({found})", crate::ENV_PREFIX, written_form(found))
                        }),
                }),
            }
        }
    }
}

/// The name among `names` that `name` most likely meant: one that ends in `::name` (the
/// function's name without its module), or else the most similar one, if it is similar enough.
fn closest<'a>(name: &str, names: impl Iterator<Item = &'a str> + Clone) -> Option<&'a str> {
    let suffix = format!("::{name}");
    if let Some(found) = names
        .clone()
        .find(|registered| registered.ends_with(&suffix))
    {
        return Some(found);
    }
    names
        .map(|registered| {
            (
                strsim::normalized_damerau_levenshtein(name, registered),
                registered,
            )
        })
        .filter(|(similarity, _)| *similarity >= 0.7)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, registered)| registered)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_closest_name_prefers_the_function_name() {
        let names = ["shop::catalog::search", "shop::cart::add"];
        assert_eq!(
            closest("search", names.into_iter()),
            Some("shop::catalog::search")
        );
        assert_eq!(
            closest("shop::catalog::serch", names.into_iter()),
            Some("shop::catalog::search")
        );
        assert_eq!(closest("payments", names.into_iter()), None);
    }
}
