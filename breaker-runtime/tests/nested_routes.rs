//! The dashboard's router nested in an application's: every route answers where the docs say,
//! with or without a trailing slash.

// axum is a dev-dependency only outside the loom models' build.
#![cfg(not(loom))]

use axum::{Router, body::Body, http::Request, http::StatusCode};
use tower::ServiceExt;

async fn status(app: &Router, path: &str) -> StatusCode {
    let request = Request::get(path).body(Body::empty()).unwrap();
    app.clone().oneshot(request).await.unwrap().status()
}

#[tokio::test]
async fn the_nested_dashboard_answers_with_or_without_the_trailing_slash() {
    for app in [
        Router::new().nest_service("/ops", fusebox::http::router()),
        Router::new().nest_service("/ops", fusebox::http::admin_router()),
    ] {
        for path in [
            "/ops",
            "/ops/",
            "/ops/breakers",
            "/ops/breakers/",
            "/ops/events",
        ] {
            assert_eq!(status(&app, path).await, StatusCode::OK, "{path}");
        }
        assert_eq!(
            status(&app, "/ops/breakers/nobody").await,
            StatusCode::NOT_FOUND
        );
    }
}
