//! Overrides: the configuration operations change without recompiling, from a TOML file, the
//! environment, or whatever configuration loader the application already uses.

use std::{
    collections::BTreeMap,
    ffi::OsString,
    path::{Path, PathBuf},
};

use crate::{ConfigError, ConfigKey, KeyKind, PartialConfig, config::declaration::RegistryError};

#[cfg(doc)]
use crate::Config;

/// The prefix of every environment variable [`Overrides::from_env`] reads.
pub const ENV_PREFIX: &str = "BREAKER__";

/// Configuration over the compiled-in one: a `defaults` table for every breaker, and a
/// `breakers` table by name (a breaker's, a [`Keyed`](crate::Keyed) family's for all its keys,
/// or one key's, `<family>/<key>`, made yet or not); each entry sets any of the
/// `#[circuit_breaker]` attribute's configuration keys ([`ConfigKey`]), under the same names.
/// Load it with [`from_toml_str`](Self::from_toml_str), [`from_toml_file`](Self::from_toml_file)
/// or [`from_env`](Self::from_env), or embed it in the application's own configuration (it is
/// a plain `serde::Deserialize` type), then put it in force with
/// [`registry::apply`](crate::registry::apply).
///
/// # Precedence
/// Lowest first; each key comes from the highest layer that sets it:
///
/// | layer | where from |
/// |---|---|
/// | built-in defaults | [`Config::default`] |
/// | `defaults` | the file's, then the environment's (`BREAKER__DEFAULTS__…`); for every breaker, under the keys its code did not set |
/// | the code's keys | the attribute's literals (`#[circuit_breaker(error_threshold = 50)]`), or the keys a builder set (`Config::builder().error_threshold(10)`; `Config::default()` sets none): of the breaker, or of the family a key belongs to |
/// | `breakers.<family>` | the file (or any source but the environment): every key of the family |
/// | `breakers.<family>/<key>`, `breakers.<name>` | the file: one key of a family (before its first call too), or one breaker |
/// | environment | `BREAKER__<FAMILY>__<KEY>`, then `BREAKER__<NAME>__<KEY>` (a key's name, or a breaker's) |
/// | [`CircuitBreaker::reconfigure`](crate::CircuitBreaker::reconfigure) | code, at run time: the last word |
///
/// Overrides reach the breakers there are when they are applied and every breaker made after:
/// a family's key made later, or evicted and made again, starts with them; so does a breaker
/// registered later ([`registry::get_or_register`](crate::registry::get_or_register), a tower
/// layer). A breaker that is not registered ([`CircuitBreaker::new`](crate::CircuitBreaker::new)
/// alone) is not reached.
///
/// Each [`apply`](crate::registry::apply) replaces the layer its overrides came from (the
/// environment's, or the file's), so applying a file again after editing it is a hot reload:
/// a key deleted from the file falls back to the layer below.
///
/// ```
/// use fusebox::Overrides;
///
/// let overrides = Overrides::from_toml_str(r#"
///     [defaults]
///     sleep_window_ms = 10000
///
///     [breakers."shop::catalog::search"]
///     error_threshold = 30
///     request_volume_threshold = 50
/// "#)?;
/// assert_eq!(overrides.defaults.sleep_window_ms, Some(10_000));
/// assert_eq!(overrides.breakers["shop::catalog::search"].error_threshold, Some(30));
///
/// let typo = Overrides::from_toml_str("[defaults]\nerror_treshold = 30\n").unwrap_err();
/// assert!(typo.to_string().contains("unknown field `error_treshold`"));
/// assert!(typo.to_string().contains("line 2"));
/// # Ok::<(), fusebox::OverridesError>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct Overrides {
    /// Keys for every breaker, under the keys its code does not set.
    #[serde(skip_serializing_if = "PartialConfig::is_empty")]
    pub defaults: PartialConfig,
    /// Keys for one breaker, one family or one key of a family each, by name (the
    /// environment's: by the name's [variable form](Overrides::variable)).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub breakers: BTreeMap<String, PartialConfig>,
    /// A candidate configuration per registered breaker, or per [`Keyed`](crate::Keyed)
    /// family for each of its keys (made yet or later; a key's own entry wins), by name: keys
    /// over the breaker's configuration, run in its shadow (see
    /// [`CircuitBreaker::set_shadow`](crate::CircuitBreaker::set_shadow)): it sees every
    /// outcome and never decides. A breaker whose entry is gone from the next overrides
    /// applied from the same source loses its shadow;
    /// [`registry::promote_shadow`](crate::registry::promote_shadow) puts one in force. Not
    /// read from the environment.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub shadow: BTreeMap<String, PartialConfig>,
    #[serde(skip)]
    source: Source,
}

/// Which layer an [`Overrides`] is (see its precedence table).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Source {
    /// A file, a configuration loader, or code: `breakers.<name>` beats the attribute.
    #[default]
    Config,
    /// The environment, read by [`Overrides::from_env`]: beats every other override.
    Environment,
}

/// Why overrides could not be loaded or applied. Nothing was changed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum OverridesError {
    /// Two annotated functions would share a breaker by accident (see
    /// [`registry::check`](crate::registry::check)).
    #[error(transparent)]
    Conflicts(#[from] RegistryError),
    /// No registered breaker has this name.
    #[error("no circuit breaker is named `{name}`{}", suggest(.suggestion.as_deref()))]
    UnknownBreaker {
        /// The name in the overrides.
        name: String,
        /// The registered name closest to it, if one is close.
        suggestion: Option<String>,
    },
    /// Several breakers' names have this environment form.
    #[error(
        "{variable} could mean any of the circuit breakers {}: their names differ only in characters that environment variables turn into `_`; give one another name",
        .names.join(", ")
    )]
    AmbiguousName {
        /// The environment variable.
        variable: String,
        /// The breakers it could mean.
        names: Vec<String>,
    },
    /// A value, or the configuration it makes, is not allowed.
    #[error("{}: {error}", place(.breaker.as_deref()))]
    Invalid {
        /// The breaker whose configuration is refused; `None` for the `defaults` table.
        breaker: Option<String>,
        /// What is wrong, and what is allowed.
        error: ConfigError,
    },
    /// A malformed TOML document; the message has the line and column.
    #[error("{}{message}", in_file(.path.as_deref()))]
    Toml {
        /// The file, if it was read from one.
        path: Option<PathBuf>,
        /// The parser's message.
        message: String,
    },
    /// A file that could not be read.
    #[error("cannot read {}: {message}", .path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        message: String,
    },
    /// An environment variable that does not parse.
    #[error("{variable}: {message}")]
    Environment {
        /// The variable.
        variable: String,
        /// What is wrong, and what is allowed.
        message: String,
    },
    /// `registry::watch_file` or `registry::reload_on_sighup` (the `tokio` feature) outside a
    /// Tokio runtime.
    #[error("reloading overrides runs on Tokio: call it from within a Tokio runtime")]
    NoRuntime,
}

fn suggest(suggestion: Option<&str>) -> String {
    suggestion.map_or_else(
        || " (`fusebox::registry::all()` lists the registered names)".to_owned(),
        |name| format!("; did you mean `{name}`?"),
    )
}

fn place(breaker: Option<&str>) -> String {
    breaker.map_or_else(
        || "defaults".to_owned(),
        |name| format!("circuit breaker `{name}`"),
    )
}

fn in_file(path: Option<&Path>) -> String {
    path.map(|path| format!("{}: ", path.display()))
        .unwrap_or_default()
}

impl Overrides {
    /// No overrides, from code.
    const EMPTY: Overrides = Overrides {
        defaults: PartialConfig::new(),
        breakers: BTreeMap::new(),
        shadow: BTreeMap::new(),
        source: Source::Config,
    };

    /// No overrides.
    #[must_use]
    pub fn new() -> Self {
        Overrides::EMPTY
    }

    /// The layer these overrides are.
    #[must_use]
    pub fn source(&self) -> Source {
        self.source
    }

    /// Overrides from a TOML document: a `[defaults]` table and `[breakers."<name>"]` tables.
    ///
    /// # Errors
    /// [`OverridesError::Toml`] with the line and column of a syntax error, an unknown key or
    /// a value of the wrong type. Values are checked against their limits by
    /// [`registry::apply`](crate::registry::apply).
    pub fn from_toml_str(document: &str) -> Result<Overrides, OverridesError> {
        toml::from_str(document).map_err(|error| OverridesError::Toml {
            path: None,
            message: error.to_string(),
        })
    }

    /// [`from_toml_str`](Self::from_toml_str) on the file at `path`.
    ///
    /// # Errors
    /// [`OverridesError::Read`] if the file cannot be read, otherwise as `from_toml_str`, with
    /// the file's path.
    pub fn from_toml_file(path: impl AsRef<Path>) -> Result<Overrides, OverridesError> {
        let path = path.as_ref();
        Overrides::from_file_document(path, &Overrides::read_document(path)?)
    }

    /// The text of the file at `path`, or why it cannot be read.
    pub(crate) fn read_document(path: &Path) -> Result<String, OverridesError> {
        std::fs::read_to_string(path).map_err(|error| OverridesError::Read {
            path: path.to_owned(),
            message: error.to_string(),
        })
    }

    /// Overrides from `document`, the text of the file at `path` (which its errors name).
    pub(crate) fn from_file_document(
        path: &Path,
        document: &str,
    ) -> Result<Overrides, OverridesError> {
        Overrides::from_toml_str(document).map_err(|error| match error {
            OverridesError::Toml { message, .. } => OverridesError::Toml {
                path: Some(path.to_owned()),
                message,
            },
            other => other,
        })
    }

    /// Overrides from the process's environment: every variable that starts with
    /// [`ENV_PREFIX`], `BREAKER__<NAME>__<KEY>=<integer>`, where `<KEY>` is an attribute key in
    /// upper case and `<NAME>` is the breaker's name in [variable form](Self::variable) (or
    /// `DEFAULTS`, for the `defaults` table):
    ///
    /// ```text
    /// BREAKER__SHOP__CATALOG__SEARCH__ERROR_THRESHOLD=30    # breaker `shop::catalog::search`
    /// BREAKER__DEFAULTS__SLEEP_WINDOW_MS=10000
    /// ```
    ///
    /// # Errors
    /// [`OverridesError::Environment`] for a variable whose key is unknown, whose value is not
    /// a whole number, or that is not Unicode.
    pub fn from_env() -> Result<Overrides, OverridesError> {
        Overrides::from_vars(std::env::vars_os().filter(|(name, _)| {
            name.to_str()
                .is_some_and(|name| name.starts_with(ENV_PREFIX))
        }))
    }

    /// [`from_env`](Self::from_env) over the variables given instead of the process's (for
    /// tests, or variables read from elsewhere). Variables without the prefix are ignored.
    ///
    /// ```
    /// use fusebox::Overrides;
    ///
    /// let overrides = Overrides::from_vars([
    ///     ("BREAKER__SHOP__CATALOG__SEARCH__ERROR_THRESHOLD", "30"),
    ///     ("BREAKER__DEFAULTS__SLEEP_WINDOW_MS", "10000"),
    ///     ("PATH", "/usr/bin"),
    /// ])?;
    /// assert_eq!(overrides.breakers["SHOP__CATALOG__SEARCH"].error_threshold, Some(30));
    /// assert_eq!(overrides.defaults.sleep_window_ms, Some(10_000));
    ///
    /// let error = Overrides::from_vars([("BREAKER__SHOP__ERROR_THRESHOLD", "high")]).unwrap_err();
    /// assert_eq!(
    ///     error.to_string(),
    ///     "BREAKER__SHOP__ERROR_THRESHOLD: `high` is not a whole number (error_threshold must be between 1 and 100)"
    /// );
    /// # Ok::<(), fusebox::OverridesError>(())
    /// ```
    ///
    /// # Errors
    /// As [`from_env`](Self::from_env).
    pub fn from_vars<K, V>(
        vars: impl IntoIterator<Item = (K, V)>,
    ) -> Result<Overrides, OverridesError>
    where
        K: Into<OsString>,
        V: Into<OsString>,
    {
        let mut overrides = Overrides {
            source: Source::Environment,
            ..Overrides::default()
        };
        for (variable, value) in vars {
            let (variable, value) = (variable.into(), value.into());
            let lossy = variable.to_string_lossy().into_owned();
            let Some(rest) = lossy.strip_prefix(ENV_PREFIX) else {
                continue;
            };
            let error = |message: String| OverridesError::Environment {
                variable: lossy.clone(),
                message,
            };
            if variable.to_str().is_none() {
                return Err(error("the name is not Unicode".to_owned()));
            }
            let Some((name, key)) = split_key(rest) else {
                return Err(error(format!(
                    "expected {ENV_PREFIX}<NAME>__<KEY>, where <KEY> is one of {}",
                    ConfigKey::ALL
                        .map(|key| key.name().to_uppercase())
                        .join(", ")
                )));
            };
            let value = value
                .to_str()
                .ok_or_else(|| error("the value is not Unicode".to_owned()))?;
            let value = if matches!(key.kind(), KeyKind::Choice) {
                key.choice(value.trim()).ok_or_else(|| {
                    error(format!(
                        "`{value}` is not one of {key}'s values ({})",
                        key.choices().join(", ")
                    ))
                })?
            } else if matches!(key.kind(), KeyKind::Flag) {
                let on = parse_flag(value).ok_or_else(|| {
                    error(format!(
                        "`{value}` is not a flag ({key} must be true or false)"
                    ))
                })?;
                u64::from(on)
            } else {
                let limit = key.limit();
                let number = value.trim().parse::<u64>().map_err(|_| {
                    error(format!(
                        "`{value}` is not a whole number ({key} must be between {} and {})",
                        limit.min, limit.max
                    ))
                })?;
                // Checked here too, so that the error names the variable.
                limit
                    .check(number)
                    .map_err(|config| error(config.to_string()))?
            };
            let entry = overrides.variable_entry(name);
            *entry = entry.with(key, value);
        }
        Ok(overrides)
    }

    /// The layer a variable naming `name` (in its variable form) writes to: `DEFAULTS`, or
    /// that breaker's.
    fn variable_entry(&mut self, name: &str) -> &mut PartialConfig {
        if name == "DEFAULTS" {
            &mut self.defaults
        } else {
            self.breakers.entry(name.to_owned()).or_default()
        }
    }

    /// The name of the environment variable that sets `key` for the breaker `name`: the name
    /// in upper case with each character other than a letter or digit turned into `_`.
    /// Variables are matched with runs of `_` counting as one, so
    /// `BREAKER__UPSTREAMS__127_0_0_1_8080__ERROR_THRESHOLD` and
    /// `BREAKER__UPSTREAMS_127_0_0_1_8080__ERROR_THRESHOLD` both set the key
    /// `upstreams/127.0.0.1:8080` of the family `upstreams`, made yet or not.
    ///
    /// ```
    /// use fusebox::Overrides;
    ///
    /// assert_eq!(
    ///     Overrides::variable("shop::catalog::search", "error_threshold"),
    ///     "BREAKER__SHOP__CATALOG__SEARCH__ERROR_THRESHOLD"
    /// );
    /// assert_eq!(Overrides::variable("catalog/10.0.0.7", "window_ms"), "BREAKER__CATALOG_10_0_0_7__WINDOW_MS");
    /// ```
    #[must_use]
    pub fn variable(name: &str, key: &str) -> String {
        format!("{ENV_PREFIX}{}__{}", written_form(name), key.to_uppercase())
    }
}

/// A breaker's name as [`Overrides::variable`] writes it: each character but a letter or a
/// digit as `_`.
pub(crate) fn written_form(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect()
}

/// `<NAME>__<key>` → the name, the key in any case.
fn name_before<'a>(rest: &'a str, key: &str) -> Option<&'a str> {
    let (name, suffix) = rest.split_at_checked(rest.len().checked_sub(key.len())?)?;
    let name = name.strip_suffix("__").filter(|name| !name.is_empty())?;
    suffix.eq_ignore_ascii_case(key).then_some(name)
}

/// A flag as the environment writes it: `true`/`false` in any case, or `1`/`0`.
fn parse_flag(value: &str) -> Option<bool> {
    match value.trim() {
        "1" => Some(true),
        "0" => Some(false),
        value if value.eq_ignore_ascii_case("true") => Some(true),
        value if value.eq_ignore_ascii_case("false") => Some(false),
        _ => None,
    }
}

/// `<NAME>__<KEY>` → the name and the key, the key in any case.
fn split_key(rest: &str) -> Option<(&str, ConfigKey)> {
    ConfigKey::ALL
        .into_iter()
        .find_map(|key| Some((name_before(rest, key.name())?, key)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_variable_splits_at_its_key_whatever_the_name_holds() {
        let (name, key) = split_key("SHOP__CATALOG__SEARCH__ERROR_THRESHOLD").unwrap();
        assert_eq!(
            (name, key),
            ("SHOP__CATALOG__SEARCH", ConfigKey::ErrorThreshold)
        );
        let (name, key) = split_key("A___window_ms").unwrap();
        assert_eq!((name, key), ("A_", ConfigKey::WindowMs));
        assert_eq!(split_key("A__FLEET"), Some(("A", ConfigKey::Fleet)));
        assert!(split_key("__ERROR_THRESHOLD").is_none(), "no name");
        assert!(split_key("SHOP__MAX_KEYS").is_none(), "not an override key");
        assert!(split_key("SHOP_ERROR_THRESHOLD").is_none());
    }
}
