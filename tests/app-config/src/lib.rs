//! An application whose configuration, loaded with config-rs from a TOML file and the
//! environment, carries the breakers' overrides in a table of its own.

use fusebox::{BreakerError, Overrides, circuit_breaker};
use serde::Deserialize;

/// The application's whole configuration.
#[derive(Debug, Deserialize)]
pub struct Settings {
    pub listen: String,
    /// `[breakers.defaults]` and `[breakers.breakers."<name>"]`.
    #[serde(default)]
    pub breakers: Overrides,
}

impl Settings {
    /// The file, then `APP__…` variables over it, as config-rs layers them.
    pub fn load(file: &str, env: &[(&str, &str)]) -> Result<Settings, config::ConfigError> {
        let vars = env
            .iter()
            .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
            .collect();
        config::Config::builder()
            .add_source(config::File::from_str(file, config::FileFormat::Toml))
            .add_source(
                config::Environment::with_prefix("APP")
                    .separator("__")
                    .try_parsing(true)
                    .source(Some(vars)),
            )
            .build()?
            .try_deserialize()
    }
}

#[circuit_breaker(error_threshold = 50)]
pub fn search(query: &str) -> Result<usize, BreakerError> {
    Ok(query.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use fusebox::registry;

    const FILE: &str = r#"
        listen = "127.0.0.1:8080"

        [breakers.defaults]
        sleep_window_ms = 10000

        [breakers.breakers."app_config::search"]
        error_threshold = 30
    "#;

    #[test]
    fn the_apps_own_config_carries_the_overrides() {
        let settings = Settings::load(FILE, &[("APP__LISTEN", "0.0.0.0:80")]).unwrap();
        assert_eq!(settings.listen, "0.0.0.0:80");
        let applied = registry::apply(&settings.breakers).unwrap();
        assert_eq!(applied.changed.len(), 1);
        let search = registry::get("app_config::search").unwrap();
        assert_eq!(search.config().error_threshold(), 30);
        assert_eq!(search.config().sleep_window().as_secs(), 10);
        assert_eq!(super::search("shoes"), Ok(5));

        let bad = Settings::load(&FILE.replace("30", "300"), &[]).unwrap();
        let error = registry::apply(&bad.breakers).unwrap_err();
        assert_eq!(
            error.to_string(),
            "circuit breaker `app_config::search`: error_threshold must be between 1 and 100, got 300"
        );
        let typo = Settings::load(&FILE.replace("error_threshold", "error_treshold"), &[]);
        assert!(
            typo.unwrap_err()
                .to_string()
                .contains("unknown field `error_treshold`")
        );
    }
}
