//! Every breaker's figures for Prometheus: `metrics-exporter-prometheus` renders them at
//! `GET /metrics`, and each scrape first calls `fusebox::metrics::publish()`, so what Prometheus
//! reads is the breakers' figures at that moment (the calls themselves push nothing).
//!
//! Run it with `cargo run -p integration-tests --example prometheus`: it prints the address on
//! a line that starts with `metrics:`, makes calls for a few seconds (a quote service that goes
//! down and comes back), and prints the scrape it ends with. `-- --watch` keeps it serving.
//!
//! With another exporter, or with the exporter's own listener, call
//! `fusebox::metrics::spawn_publisher(period)` once instead.

use std::{
    net::SocketAddr,
    sync::atomic::{AtomicBool, Ordering},
    time::Duration,
};

use axum::{Router, routing::get};
use fusebox::{BreakerError, circuit_breaker};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder};

/// Whether the quote service is down.
pub(crate) static DOWN: AtomicBool = AtomicBool::new(false);

#[derive(Debug)]
pub(crate) enum QuoteError {
    Refused,
    Unavailable(BreakerError),
}

impl From<BreakerError> for QuoteError {
    fn from(error: BreakerError) -> Self {
        QuoteError::Unavailable(error)
    }
}

/// A price quote, through a breaker that opens after 3 failures in a row and times its calls.
#[circuit_breaker(
    name = "quotes",
    consecutive_failures = 3,
    sleep_window_ms = 60000,
    record_latency = true
)]
pub(crate) fn quote(item: u64) -> Result<u64, QuoteError> {
    if DOWN.load(Ordering::Relaxed) {
        Err(QuoteError::Refused)
    } else {
        Ok(100 + item % 7)
    }
}

/// The application's `/metrics` route, with the Prometheus recorder installed.
pub(crate) fn app() -> Router {
    // Latency as a Prometheus histogram (the exporter's default is a summary).
    let prometheus = PrometheusBuilder::new()
        .set_buckets_for_metric(
            Matcher::Full("breaker_call_duration_seconds".to_owned()),
            &[0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0],
        )
        .expect("buckets")
        .install_recorder()
        .expect("no other metrics recorder is installed");
    Router::new().route(
        "/metrics",
        get(move || {
            let prometheus = prometheus.clone();
            async move {
                fusebox::metrics::publish();
                prometheus.render()
            }
        }),
    )
}

/// Serves `app` on `listener`.
pub(crate) async fn serve(listener: tokio::net::TcpListener) {
    axum::serve(listener, app()).await.expect("serve /metrics");
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind a loopback port");
    let address: SocketAddr = listener.local_addr().expect("local address");
    tokio::spawn(serve(listener));
    println!("metrics: http://{address}/metrics");

    // Up, down (the breaker opens after three failures), and calls turned away.
    for item in 0..20 {
        DOWN.store((8..14).contains(&item), Ordering::Relaxed);
        match quote(item) {
            Ok(price) => println!("quote({item}) = {price}"),
            Err(QuoteError::Refused) => println!("quote({item}): the service refused"),
            Err(QuoteError::Unavailable(error)) => println!("quote({item}): {error}"),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let scrape = scrape(address).await;
    println!(
        "\n{}",
        scrape
            .lines()
            .filter(|line| line.starts_with("breaker_"))
            .collect::<Vec<_>>()
            .join("\n")
    );
    if std::env::args().any(|argument| argument == "--watch") {
        println!("\nserving until stopped (Ctrl-C)");
        std::future::pending::<()>().await;
    }
}

/// `GET /metrics` over a plain TCP connection: the body.
pub(crate) async fn scrape(address: SocketAddr) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let mut stream = tokio::net::TcpStream::connect(address)
        .await
        .expect("connect to /metrics");
    let request = format!("GET /metrics HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n");
    stream
        .write_all(request.as_bytes())
        .await
        .expect("send the request");
    let mut response = String::new();
    stream
        .read_to_string(&mut response)
        .await
        .expect("read the response");
    response
        .split_once("\r\n\r\n")
        .map_or(String::new(), |(_, body)| body.to_owned())
}
