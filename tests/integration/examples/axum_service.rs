//! An axum service with two routes in front of a flaky backend: `/layered` behind
//! `CircuitBreakerLayer`, `/annotated` a handler with `#[circuit_breaker]`. When the backend
//! fails, both answer 503 with `Retry-After` at once instead of waiting on it.
//!
//! Run it with `cargo run -p integration-tests --example axum_service`: it serves on loopback,
//! calls both routes while the backend is up, down and up again, and prints what came back.

use std::{
    sync::atomic::{AtomicBool, Ordering},
    time::Duration,
};

use axum::{
    Router,
    extract::Path,
    http::StatusCode,
    response::{IntoResponse, Response},
    routing::get,
};
use fusebox::{
    BreakerError, Config, circuit_breaker,
    tower::{CircuitBreakerLayer, HttpClassifier},
};

/// Whether the backend is down.
static DOWN: AtomicBool = AtomicBool::new(false);

/// The backend both routes call (a remote service in a real application).
async fn backend(item: u64) -> Result<String, StatusCode> {
    tokio::task::yield_now().await;
    if DOWN.load(Ordering::Relaxed) {
        Err(StatusCode::BAD_GATEWAY)
    } else {
        Ok(format!("item {item}: in stock\n"))
    }
}

/// `/layered/{item}`: a plain handler; the layer counts its 5xx answers as failures.
async fn layered(Path(item): Path<u64>) -> Result<String, StatusCode> {
    backend(item).await
}

/// The annotated handler's error: the backend's status, or the breaker's refusal.
enum AppError {
    Backend(StatusCode),
    Unavailable(BreakerError),
}

impl From<BreakerError> for AppError {
    fn from(error: BreakerError) -> Self {
        AppError::Unavailable(error)
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        match self {
            AppError::Backend(status) => status.into_response(),
            // 503 with `Retry-After` while open, 503 when busy, 504 on a timeout.
            AppError::Unavailable(error) => error.into_response(),
        }
    }
}

/// `/annotated/{item}`: the breaker is the handler's own.
#[circuit_breaker(
    name = "shop::annotated",
    consecutive_failures = 3,
    sleep_window_ms = 2000
)]
async fn annotated(Path(item): Path<u64>) -> Result<String, AppError> {
    backend(item).await.map_err(AppError::Backend)
}

fn app() -> Router {
    let breaker = CircuitBreakerLayer::new(
        "shop::layered",
        Config::builder()
            .consecutive_failures(3)
            .sleep_window(Duration::from_secs(2))
            .build()
            .expect("a valid configuration"),
    )
    .classifier(HttpClassifier::default())
    // Refusals answered as 503 (with `Retry-After`) or 504: straight onto the route.
    .answered();
    Router::new()
        .route("/layered/{item}", get(layered).layer(breaker))
        .route("/annotated/{item}", get(annotated))
}

/// `GET path` on `server`: the status line and `Retry-After`, if any.
async fn get_status(server: std::net::SocketAddr, path: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let mut stream = tokio::net::TcpStream::connect(server)
        .await
        .expect("connect");
    let request = format!("GET {path} HTTP/1.1\r\nHost: {server}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.expect("send");
    let mut response = String::new();
    stream.read_to_string(&mut response).await.expect("read");
    let status = response.lines().next().unwrap_or_default().to_owned();
    let retry_after = response
        .lines()
        .find(|line| line.to_ascii_lowercase().starts_with("retry-after"))
        .map(|line| format!(" ({line})"))
        .unwrap_or_default();
    status + &retry_after
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind a loopback port");
    let server = listener.local_addr().expect("local address");
    tokio::spawn(async move { axum::serve(listener, app()).await });
    println!("serving on http://{server}/layered/1 and http://{server}/annotated/1");

    for (phase, down, requests) in [("up", false, 2), ("down", true, 5), ("up again", false, 2)] {
        DOWN.store(down, Ordering::Relaxed);
        if phase == "up again" {
            tokio::time::sleep(Duration::from_millis(2_100)).await; // past the sleep window
        }
        println!("\nbackend {phase}:");
        for request in 0..requests {
            for route in ["layered", "annotated"] {
                let answer = get_status(server, &format!("/{route}/{request}")).await;
                println!("  /{route}/{request:<2} {answer}");
            }
        }
    }
}
