//! A tower [`Layer`](tower_layer::Layer) that puts a breaker in front of any
//! [`Service`](tower_service::Service): an axum or tonic route, a hyper or reqwest client.
//!
//! ```
//! use fusebox::{BreakerError, Config, Failure};
//! use fusebox::tower::{CircuitBreakerLayer, HttpClassifier};
//! use tower::{Layer, Service, ServiceExt};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let backend = tower::service_fn(|_: ()| async {
//!     http::Response::builder().status(503).body(()) // an answer, or an `http::Error`
//! });
//! let layer = CircuitBreakerLayer::new("docs::backend", Config::builder().consecutive_failures(2).build()?)
//!     .classifier(HttpClassifier::default()); // 5xx are failures
//! let mut client = layer.layer(backend);
//!
//! for _ in 0..2 {
//!     let response = client.ready().await?.call(()).await?;
//!     assert_eq!(response.status(), 503); // the backend's own answer, counted as a failure
//! }
//! // Open: the backend is not called, the caller is answered at once.
//! let rejected = client.ready().await?.call(()).await;
//! assert!(matches!(rejected, Err(Failure::Breaker(BreakerError::Open { .. }))));
//! # Ok(())
//! # }
//! ```
//!
//! # How it fits tower
//!
//! - **The breaker lives outside the layer**, in the [registry](crate::registry) under its name
//!   (or any `Arc<CircuitBreaker>` given to [`CircuitBreakerLayer::from_breaker`]): a layer
//!   made again, or applied once per request as axum's routers do, is the same breaker.
//! - **Readiness is the inner service's.** A rejection is an error from `call`, never from
//!   `poll_ready`, which tower treats as the service having failed for good; and nothing
//!   clones a service that is not ready.
//! - **The error** is [`Failure<S::Error>`](crate::Failure): the breaker's refusal
//!   ([`BreakerError`](crate::BreakerError): open, busy, timeout) or the inner service's own
//!   error. With the `axum` feature both answer as HTTP responses (`IntoResponse`), and
//!   [`CircuitBreakerLayer::answered`] makes a layer that goes straight onto an axum route
//!   or router: axum asks for a service that never fails, and without it the compiler says
//!   only that `Infallible: From<Failure<Infallible>>` does not hold.
//! - **Outcomes** are classified ([`Classify`]): by default an inner error is a failure and a
//!   response a success; [`HttpClassifier`] and [`GrpcClassifier`] read statuses. A response
//!   future dropped before it finishes records nothing and gives back its half-open permit and
//!   bulkhead slot, as a dropped [`CallAsync`](crate::CallAsync) does.
//! - [`Config::timeout`](crate::Config::timeout) bounds the response future (the `tokio`
//!   feature), and `max_concurrent` is a bulkhead, as for any call.
//! - Nothing is allocated per request: the future holds the inner service's future, one
//!   reference count of the breaker and the classifier. A breaker with a timeout boxes each
//!   request's timer (tokio's `Sleep`, about 100 bytes): kept inline, it made every request
//!   more than twice as costly to move, timeout or not (`cargo bench -p benchmarks --bench
//!   layer`).

#[cfg(feature = "axum")]
mod answer;
mod future;
mod layer;
mod per_key;
#[cfg(feature = "tokio")]
mod retry;
mod service;

pub use crate::classify::{Classify, DefaultClassifier, GrpcClassifier, HttpClassifier, Verdict};
#[cfg(feature = "axum")]
#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
pub use answer::{Answered, AnsweredFuture, AnsweredService};
pub use future::ResponseFuture;
pub use layer::CircuitBreakerLayer;
pub use per_key::{PerKeyLayer, PerKeyService, authority};
#[cfg(feature = "tokio")]
#[cfg_attr(docsrs, doc(cfg(feature = "tokio")))]
pub use retry::{PerKeyRetryPolicy, RetryPolicy};
pub use service::CircuitBreakerService;
