//! `GET /health` (`http` feature) over real HTTP, as a readiness probe reads it. A test binary
//! of its own: the health is the whole registry's, and here the registry holds only what this
//! test makes.

mod support;

use fusebox::{Config, registry};
use serde_json::Value;
use support::request;

fn json(body: &str) -> Value {
    serde_json::from_str(body).unwrap_or_else(|error| panic!("not JSON ({error}): {body}"))
}

#[test]
fn health_is_up_degraded_or_down_by_the_critical_breakers_and_the_probe_sees_its_status() {
    let read_only =
        support::serve(axum::Router::new().nest_service("/ops", fusebox::http::router()));
    let probe = || {
        let (status, headers, body) = request(read_only, "GET", "/ops/health");
        assert!(
            headers
                .to_ascii_lowercase()
                .contains("cache-control: no-store"),
            "{headers}"
        );
        (status, json(&body))
    };
    let (status, body) = probe();
    assert_eq!(
        (status, body["status"].as_str()),
        (200, Some("up")),
        "{body}"
    );
    assert_eq!(body["refusing"], serde_json::json!([]));

    // A dependency down: the service still serves, degraded, and says which.
    let search = registry::get_or_register("http::health-search", Config::default());
    search.force_open();
    let (status, body) = probe();
    assert_eq!(
        (status, body["status"].as_str()),
        (200, Some("degraded")),
        "{body}"
    );
    assert_eq!(
        body["refusing"],
        serde_json::json!([{"name": "http::health-search", "state": "forced_open", "critical": false}])
    );

    // A critical one: the probe fails, and the critical breaker is named first.
    let ledger = registry::get_or_register(
        "http::health-ledger",
        Config::builder().critical(true).build().unwrap(),
    );
    ledger.force_open();
    let (status, body) = probe();
    assert_eq!(
        (status, body["status"].as_str()),
        (503, Some("down")),
        "{body}"
    );
    assert_eq!(body["refusing"][0]["name"], "http::health-ledger");
    assert_eq!(body["refusing"][0]["critical"], true);
    assert_eq!(body["refusing"].as_array().unwrap().len(), 2);

    // Many keyed breakers open (names from request data): the answer names a hundred.
    let hosts: fusebox::Keyed<u32> = fusebox::Keyed::new("http::health-hosts", Config::default());
    for host in 0..150 {
        let _ = hosts.call(&host, || Ok::<_, ()>(()));
        registry::get(&format!("http::health-hosts/{host}"))
            .unwrap()
            .force_open();
    }
    let (status, body) = probe();
    assert_eq!(status, 503);
    assert_eq!(body["refusing"].as_array().unwrap().len(), 100, "{body}");
    assert_eq!(body["more_refusing"], 52);
    assert_eq!(body["refusing"][0]["name"], "http::health-ledger");
    assert_eq!(
        body["breakers"].as_u64().unwrap(),
        registry::all().len() as u64
    );

    for breaker in registry::all() {
        breaker.reset();
    }
    let (status, body) = probe();
    assert_eq!(
        (status, body["status"].as_str()),
        (200, Some("up")),
        "{body}"
    );

    // An override marks a breaker critical at run time.
    let overrides = fusebox::Overrides::from_toml_str(
        r#"[breakers."http::health-search"]
critical = true"#,
    )
    .unwrap();
    registry::apply(&overrides).unwrap();
    search.force_open();
    let (status, body) = probe();
    assert_eq!(
        (status, body["status"].as_str()),
        (503, Some("down")),
        "{body}"
    );
    assert_eq!(body["refusing"][0]["name"], "http::health-search");
    search.release();
}
