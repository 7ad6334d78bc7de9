//! Overrides put in force again from a file when it changes (`registry::watch_file`), on the
//! paused Tokio clock. (`SIGHUP` is in `reload_sighup.rs`: the overrides' file layer is the
//! process's, one file at a time.)

use std::{path::PathBuf, time::Duration};

use fusebox::{CircuitBreaker, Config, OverridesError, registry};

fn file(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("fusebox-reload-{}-{name}.toml", std::process::id()))
}

fn threshold(name: &str, percent: &str) -> String {
    format!("[breakers.\"{name}\"]\nerror_threshold = {percent}\n")
}

#[tokio::test(start_paused = true)]
async fn a_changed_file_is_applied_and_a_refused_one_changes_nothing() {
    let name = "reload::search";
    let search = registry::register(CircuitBreaker::new(name, Config::default())).unwrap();
    let path = file("watched");
    std::fs::write(&path, threshold(name, "30")).unwrap();
    let reload = registry::watch_file(&path, Duration::from_secs(1)).unwrap();
    assert_eq!(search.config().error_threshold(), 30, "applied at once");

    let next_reading = || tokio::time::sleep(Duration::from_millis(1_100));
    std::fs::write(&path, threshold(name, "40")).unwrap();
    next_reading().await;
    assert_eq!(search.config().error_threshold(), 40);
    assert!(matches!(reload.last(), Some(Ok(_))));

    // Out of range, malformed, a name no breaker has: each refused whole.
    for (bad, refused) in [
        (threshold(name, "500"), "must be"),
        ("[breakers\n".to_owned(), "line"),
        (
            threshold("reload::serch", "20"),
            "did you mean `reload::search`",
        ),
    ] {
        std::fs::write(&path, bad).unwrap();
        next_reading().await;
        assert_eq!(search.config().error_threshold(), 40, "everything stays");
        let error = reload.last().unwrap().unwrap_err().to_string();
        assert!(error.contains(refused), "{error}");
    }

    // Unchanged bytes are not applied again; changed ones are.
    std::fs::write(&path, threshold(name, "25")).unwrap();
    next_reading().await;
    assert_eq!(search.config().error_threshold(), 25);
    reload.stop();
    std::fs::write(&path, threshold(name, "35")).unwrap();
    next_reading().await;
    assert_eq!(search.config().error_threshold(), 25, "stopped");
    let _ = std::fs::remove_file(&path);
}

#[test]
fn a_bad_file_at_startup_or_no_runtime_is_an_error() {
    let path = file("outside");
    std::fs::write(&path, "[defaults]\nerror_threshold = 30\n").unwrap();
    assert_eq!(
        registry::watch_file(&path, Duration::from_secs(1)).unwrap_err(),
        OverridesError::NoRuntime
    );
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let missing = registry::watch_file(file("missing"), Duration::from_secs(1)).unwrap_err();
        assert!(matches!(missing, OverridesError::Read { .. }), "{missing}");
    });
    let _ = std::fs::remove_file(&path);
}
