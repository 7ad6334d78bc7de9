//! Overrides put in force again on `SIGHUP` (`registry::reload_on_sighup`), with a real
//! signal to this process. A binary of its own: the overrides' file layer is the process's, and
//! another test applying a file would replace this one's.

use std::{path::PathBuf, time::Duration};

use fusebox::{CircuitBreaker, Config, registry};

fn file(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("fusebox-reload-{}-{name}.toml", std::process::id()))
}

fn threshold(name: &str, percent: &str) -> String {
    format!("[breakers.\"{name}\"]\nerror_threshold = {percent}\n")
}

#[cfg(unix)]
#[tokio::test]
async fn sighup_applies_the_file_again() {
    let name = "reload::pricing";
    let pricing = registry::register(CircuitBreaker::new(name, Config::default())).unwrap();
    let path = file("hangup");
    std::fs::write(&path, threshold(name, "30")).unwrap();
    let reload = registry::reload_on_sighup(&path).unwrap();
    assert_eq!(pricing.config().error_threshold(), 30);
    std::fs::write(&path, threshold(name, "45")).unwrap();
    assert_eq!(
        pricing.config().error_threshold(),
        30,
        "not before the signal"
    );
    let status = std::process::Command::new("kill")
        .args(["-HUP", &std::process::id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while pricing.config().error_threshold() != 45 {
        assert!(
            std::time::Instant::now() < deadline,
            "SIGHUP did not reload"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    reload.stop();
    let _ = std::fs::remove_file(&path);
}
