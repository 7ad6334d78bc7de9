//! A tower layer straight on an axum route, its refusals answered as HTTP responses
//! (`CircuitBreakerLayer::answered`), without a `HandleErrorLayer`.

// axum is a dev-dependency only outside the loom models' build.
#![cfg(not(loom))]

use std::convert::Infallible;

use axum::{Router, body::Body, http::Request, http::StatusCode, routing::get};
use fusebox::{
    Config, State, registry,
    tower::{CircuitBreakerLayer, HttpClassifier},
};
use tower::{Layer, Service, ServiceExt};

async fn status_of(app: &Router, path: &str) -> (StatusCode, Option<String>) {
    let response = app
        .clone()
        .oneshot(Request::get(path).body(Body::empty()).unwrap())
        .await
        .unwrap();
    let retry_after = response
        .headers()
        .get("retry-after")
        .map(|value| value.to_str().unwrap().to_owned());
    (response.status(), retry_after)
}

#[tokio::test]
async fn a_route_layer_answers_its_refusals_as_503_with_retry_after() {
    let layer = CircuitBreakerLayer::new(
        "answered::route",
        Config::builder().consecutive_failures(2).build().unwrap(),
    )
    .classifier(HttpClassifier::default())
    .answered();
    let app = Router::new()
        .route(
            "/down",
            get(|| async { StatusCode::BAD_GATEWAY }).layer(layer.clone()),
        )
        .route("/up", get(|| async { "fine" }));

    for _ in 0..2 {
        assert_eq!(
            status_of(&app, "/down").await,
            (StatusCode::BAD_GATEWAY, None)
        );
    }
    assert_eq!(
        registry::get("answered::route").unwrap().state(),
        State::Open
    );
    assert_eq!(
        status_of(&app, "/down").await,
        (StatusCode::SERVICE_UNAVAILABLE, Some("5".to_owned())),
        "open: answered at once, the default 5 s sleep window in Retry-After"
    );
    assert_eq!(
        status_of(&app, "/up").await,
        (StatusCode::OK, None),
        "another route is not behind it"
    );
}

#[tokio::test]
async fn a_router_layer_and_a_per_key_layer_answer_too() {
    let per_host = CircuitBreakerLayer::per_key(
        "answered::hosts",
        Config::builder().consecutive_failures(1).build().unwrap(),
        fusebox::tower::authority,
    )
    .classifier(HttpClassifier::default())
    .answered();
    let app = Router::new()
        .route("/", get(|| async { StatusCode::INTERNAL_SERVER_ERROR }))
        .layer(per_host);
    let request = |host: &str| {
        Request::get("/")
            .header("host", host)
            .body(Body::empty())
            .unwrap()
    };
    let first = app.clone().oneshot(request("a.example")).await.unwrap();
    assert_eq!(first.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let refused = app.clone().oneshot(request("a.example")).await.unwrap();
    assert_eq!(refused.status(), StatusCode::SERVICE_UNAVAILABLE);
    let other = app.clone().oneshot(request("b.example")).await.unwrap();
    assert_eq!(
        other.status(),
        StatusCode::INTERNAL_SERVER_ERROR,
        "one breaker per host"
    );
}

#[tokio::test]
async fn an_error_from_readiness_answers_the_next_request() {
    // A service that is never ready: its error is the next request's answer.
    #[derive(Clone)]
    struct NeverReady;
    impl Service<Request<Body>> for NeverReady {
        type Response = &'static str;
        type Error = StatusCode;
        type Future = std::future::Ready<Result<&'static str, StatusCode>>;
        fn poll_ready(
            &mut self,
            _: &mut std::task::Context<'_>,
        ) -> std::task::Poll<Result<(), StatusCode>> {
            std::task::Poll::Ready(Err(StatusCode::IM_A_TEAPOT))
        }
        fn call(&mut self, _: Request<Body>) -> Self::Future {
            std::future::ready(Ok("never"))
        }
    }
    let mut service = CircuitBreakerLayer::new("answered::not_ready", Config::default())
        .answered()
        .layer(NeverReady);
    let answer: Result<_, Infallible> = service
        .ready()
        .await
        .unwrap()
        .call(Request::get("/").body(Body::empty()).unwrap())
        .await;
    assert_eq!(answer.unwrap().status(), StatusCode::IM_A_TEAPOT);
}
