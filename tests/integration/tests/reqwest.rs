//! The reqwest middleware against two servers on loopback: the failing host's breaker opens
//! and its requests are not sent; the healthy host's are.

mod support;

use std::{
    net::SocketAddr,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
};

use axum::{Router, http::StatusCode, routing::get};
use fusebox::{BreakerError, Config, Keyed, State, reqwest::CircuitBreakerMiddleware};
use reqwest_middleware::ClientWithMiddleware;

/// A client sending through `middleware`, and the middleware's family of breakers.
fn client_through(
    middleware: CircuitBreakerMiddleware,
) -> (Arc<Keyed<String>>, ClientWithMiddleware) {
    let family = Arc::clone(middleware.family());
    let client = reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
        .with(middleware)
        .build();
    (family, client)
}

/// A server on loopback that answers `answer(n)`, `n` the requests it answered before, and the
/// count of requests it answered.
fn counting_server(
    answer: fn(usize) -> Result<&'static str, StatusCode>,
) -> (SocketAddr, Arc<AtomicUsize>) {
    let served = Arc::new(AtomicUsize::new(0));
    let count = Arc::clone(&served);
    let address = support::serve(Router::new().route(
        "/",
        get(move || {
            let n = count.fetch_add(1, Ordering::SeqCst);
            async move { answer(n) }
        }),
    ));
    (address, served)
}

/// The breaker's error a request was refused with.
fn refusal(refused: &reqwest_middleware::Error) -> &BreakerError {
    let reqwest_middleware::Error::Middleware(error) = refused else {
        panic!("a refusal of the breaker, got {refused:?}");
    };
    error
        .downcast_ref::<BreakerError>()
        .expect("the breaker's error")
}

#[tokio::test]
async fn one_failing_host_opens_its_own_breaker_only() {
    let healthy = support::serve(Router::new().route("/", get(|| async { "catalog" })));
    let failing =
        support::serve(Router::new().route("/", get(|| async { StatusCode::SERVICE_UNAVAILABLE })));
    let middleware = CircuitBreakerMiddleware::per_host(
        "reqwest::hosts",
        Config::builder().consecutive_failures(3).build().unwrap(),
    );
    let (family, client) = client_through(middleware);

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
    let error = refusal(&refused);
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

/// Records the `outcome` each span is given.
#[derive(Clone, Default)]
struct Outcomes(
    std::sync::Arc<std::sync::Mutex<Vec<String>>>,
    std::sync::Arc<std::sync::atomic::AtomicU64>,
);

impl tracing::field::Visit for Outcomes {
    fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
        if field.name() == "outcome" {
            self.0.lock().unwrap().push(value.to_owned());
        }
    }
    fn record_debug(&mut self, _: &tracing::field::Field, _: &dyn std::fmt::Debug) {}
}

impl tracing::Subscriber for Outcomes {
    fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, span: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        assert_eq!(span.metadata().name(), "circuit_breaker");
        let id = self.1.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
        tracing::span::Id::from_u64(id)
    }
    fn record(&self, _: &tracing::span::Id, values: &tracing::span::Record<'_>) {
        values.record(&mut self.clone());
    }
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, _: &tracing::Event<'_>) {}
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
}

#[tokio::test]
async fn with_trace_calls_each_request_runs_in_a_span_with_its_outcome() {
    let outcomes = Outcomes::default();
    let _default = tracing::subscriber::set_default(outcomes.clone());
    let up = support::serve(Router::new().route("/", get(|| async { "up" })));
    let down = support::serve(Router::new().route("/", get(|| async { StatusCode::BAD_GATEWAY })));
    let middleware = CircuitBreakerMiddleware::per_host(
        "reqwest::traced",
        Config::builder().trace_calls(true).build().unwrap(),
    );
    let (_, client) = client_through(middleware);
    for host in [up, down] {
        let _ = client.get(format!("http://{host}/")).send().await;
    }
    assert_eq!(*outcomes.0.lock().unwrap(), ["success", "failure"]);
}

#[tokio::test]
async fn with_retry_a_failed_request_is_sent_again_through_the_hosts_breaker() {
    // Every other request is a 503, the first among them.
    let (flaky, served) = counting_server(|n| {
        if n.is_multiple_of(2) {
            Err(StatusCode::SERVICE_UNAVAILABLE)
        } else {
            Ok("catalog")
        }
    });
    let middleware = CircuitBreakerMiddleware::per_host(
        "reqwest::retried",
        Config::builder()
            .retry(2)
            .retry_backoff(std::time::Duration::from_millis(1))
            .build()
            .unwrap(),
    );
    let (family, client) = client_through(middleware);
    let response = client.get(format!("http://{flaky}/")).send().await.unwrap();
    assert_eq!(
        response.text().await.unwrap(),
        "catalog",
        "the 503 was retried"
    );
    assert_eq!(served.load(Ordering::SeqCst), 2);
    let counters = family.breaker(&flaky.to_string()).metrics().counters;
    assert_eq!(
        (counters.calls, counters.failures, counters.retries),
        (2, 1, 1)
    );
}

#[tokio::test]
async fn with_retry_a_refusal_ends_the_attempts() {
    let (down, served) = counting_server(|_| Err(StatusCode::SERVICE_UNAVAILABLE));
    let middleware = CircuitBreakerMiddleware::per_host(
        "reqwest::retried_down",
        Config::builder()
            .consecutive_failures(2)
            .retry(3)
            .retry_backoff(std::time::Duration::from_millis(1))
            .build()
            .unwrap(),
    );
    let (family, client) = client_through(middleware);
    // Two attempts fail and open the circuit; the third is refused, and not retried.
    let refused = client
        .get(format!("http://{down}/"))
        .send()
        .await
        .unwrap_err();
    assert!(matches!(refusal(&refused), BreakerError::Open { .. }));
    assert_eq!(served.load(Ordering::SeqCst), 2);
    let counters = family.breaker(&down.to_string()).metrics().counters;
    assert_eq!(
        (counters.failures, counters.rejected, counters.retries),
        (2, 1, 2)
    );
}
