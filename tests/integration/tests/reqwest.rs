//! The reqwest middleware against two servers on loopback: the failing host's breaker opens
//! and its requests are not sent; the healthy host's are.

mod support;

use axum::{Router, http::StatusCode, routing::get};
use fusebox::{BreakerError, Config, State, reqwest::CircuitBreakerMiddleware};

#[tokio::test]
async fn one_failing_host_opens_its_own_breaker_only() {
    let healthy = support::serve(Router::new().route("/", get(|| async { "catalog" })));
    let failing =
        support::serve(Router::new().route("/", get(|| async { StatusCode::SERVICE_UNAVAILABLE })));
    let middleware = CircuitBreakerMiddleware::per_host(
        "reqwest::hosts",
        Config::builder().consecutive_failures(3).build().unwrap(),
    );
    let family = std::sync::Arc::clone(middleware.family());
    let client = reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
        .with(middleware)
        .build();

    for _ in 0..3 {
        let response = client
            .get(format!("http://{failing}/"))
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.status(),
            503,
            "the server's own answer, counted as a failure"
        );
    }
    let refused = client
        .get(format!("http://{failing}/"))
        .send()
        .await
        .unwrap_err();
    let reqwest_middleware::Error::Middleware(error) = refused else {
        panic!("a refusal of the breaker, got {refused:?}");
    };
    let error = error
        .downcast_ref::<BreakerError>()
        .expect("the breaker's error");
    assert!(matches!(error, BreakerError::Open { .. }), "{error}");

    let response = client
        .get(format!("http://{healthy}/"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.text().await.unwrap(), "catalog");
    assert_eq!(family.state(&failing.to_string()), Some(State::Open));
    assert_eq!(family.state(&healthy.to_string()), Some(State::Closed));
    let counters = family.breaker(&failing.to_string()).metrics().counters;
    assert_eq!((counters.failures, counters.rejected), (3, 1));
}
