//! Configuration in production: the attribute's values are compiled defaults; a TOML file and
//! the environment override them at startup, and applying the file again is a hot reload.
//!
//! ```text
//! cargo run --example overrides
//! BREAKER__OVERRIDES__RATINGS__ERROR_THRESHOLD=80 cargo run --example overrides
//! ```

use fusebox::{BreakerError, Overrides, circuit_breaker, registry};

#[circuit_breaker(error_threshold = 50, sleep_window_ms = 5000)]
fn recommendations(user: u64) -> Result<Vec<u64>, BreakerError> {
    Ok(vec![user % 7, user % 11])
}

#[circuit_breaker(consecutive_failures = 5)]
fn ratings(movie: u64) -> Result<u8, BreakerError> {
    Ok(u8::try_from(movie % 5).unwrap_or(0))
}

fn print_configs(when: &str) {
    println!("{when}:");
    for breaker in registry::all() {
        let config = breaker.config();
        println!(
            "  {:<30} error_threshold {:>3}  volume {:>3}  window {:>6} ms / {:>2}  sleep {:>6} ms",
            breaker.name(),
            config.error_threshold(),
            config.request_volume_threshold(),
            config.window().as_millis(),
            config.window_buckets(),
            config.sleep_window().as_millis(),
        );
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Every annotated breaker is registered before its first call, with its attribute's values.
    print_configs("compiled");
    registry::check()?; // no two functions share a breaker by accident

    let file = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/breakers.toml");
    for change in registry::apply(&Overrides::from_toml_file(file)?)?.changed {
        println!("  file        {change}");
    }
    // The environment beats the file (`Overrides::from_env()` reads the process's; here one
    // variable is added to them, as if it had been set).
    let simulated = (
        "BREAKER__OVERRIDES__RECOMMENDATIONS__SLEEP_WINDOW_MS",
        "20000",
    );
    let vars = std::env::vars_os().chain([(simulated.0.into(), simulated.1.into())]);
    for change in registry::apply(&Overrides::from_vars(vars)?)?.changed {
        println!("  environment {change}");
    }
    print_configs("in force");

    // A bad file is refused as a whole, with what is wrong and where; nothing changes.
    let typo = Overrides::from_toml_str("[breakers.\"overrides::ratngs\"]\nerror_threshold = 10");
    println!("refused: {}", registry::apply(&typo?).unwrap_err());

    let _ = (recommendations(42)?, ratings(7)?);
    Ok(())
}
