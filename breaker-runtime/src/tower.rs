//! A tower [`Layer`] that puts a breaker in front of any [`Service`]: an axum or tonic route,
//! a hyper or reqwest client.
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
//! - **The breaker lives outside the layer**, in the [registry] under its name
//!   (or any `Arc<CircuitBreaker>` given to [`CircuitBreakerLayer::from_breaker`]): a layer
//!   made again, or applied once per request as axum's routers do, is the same breaker.
//! - **Readiness is the inner service's.** A rejection is an error from `call`, never from
//!   `poll_ready`, which tower treats as the service having failed for good; and nothing
//!   clones a service that is not ready.
//! - **The error** is [`Failure<S::Error>`](crate::Failure): the breaker's refusal
//!   ([`BreakerError`]: open, busy, timeout) or the inner service's own
//!   error. With the `axum` feature both answer as HTTP responses (`IntoResponse`).
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

mod classify;

use std::{
    fmt::{self, Display},
    future::Future,
    hash::Hash,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
};

use http::uri::Authority;

use pin_project_lite::pin_project;
use tower_layer::Layer;
use tower_service::Service;

pub use classify::{Classify, DefaultClassifier, GrpcClassifier, HttpClassifier, Verdict};

use crate::{
    BreakerError, CircuitBreaker, Config, Failure, Keyed, admission::Permit, call::Timer,
    name::Name, outcome::Outcome, registry,
};

/// Wraps a service in a circuit breaker: see the [module](self).
///
/// Cloning the layer, or applying it many times, shares one breaker.
#[derive(Clone)]
pub struct CircuitBreakerLayer<C = DefaultClassifier> {
    breaker: Arc<CircuitBreaker>,
    classifier: C,
}

impl CircuitBreakerLayer {
    /// A layer over the breaker registered as `name`, registered now with `config` if there is
    /// none ([`registry::get_or_register`]: an existing breaker keeps its configuration, and a
    /// different `config` is a conflict [`registry::check`] reports, naming this line).
    ///
    /// ```
    /// use fusebox::{Config, registry, tower::CircuitBreakerLayer};
    ///
    /// let layer = CircuitBreakerLayer::new("catalog", Config::default());
    /// assert!(registry::get("catalog").is_some());
    /// assert_eq!(layer.breaker().name(), "catalog");
    /// ```
    #[track_caller]
    pub fn new(name: impl Into<Name>, config: Config) -> Self {
        CircuitBreakerLayer::from_breaker(registry::get_or_register(name, config))
    }

    /// A layer over `breaker`, registered or not.
    #[must_use]
    pub fn from_breaker(breaker: Arc<CircuitBreaker>) -> Self {
        CircuitBreakerLayer {
            breaker,
            classifier: DefaultClassifier,
        }
    }
}

impl<C> CircuitBreakerLayer<C> {
    /// The same layer, judging outcomes with `classifier`.
    #[must_use]
    pub fn classifier<D>(self, classifier: D) -> CircuitBreakerLayer<D> {
        CircuitBreakerLayer {
            breaker: self.breaker,
            classifier,
        }
    }

    /// The breaker.
    #[must_use]
    pub fn breaker(&self) -> &Arc<CircuitBreaker> {
        &self.breaker
    }
}

impl<C> fmt::Debug for CircuitBreakerLayer<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CircuitBreakerLayer")
            .field("breaker", &self.breaker.name())
            .finish_non_exhaustive()
    }
}

impl<S, C: Clone> Layer<S> for CircuitBreakerLayer<C> {
    type Service = CircuitBreakerService<S, C>;

    fn layer(&self, inner: S) -> Self::Service {
        CircuitBreakerService {
            inner,
            breaker: Arc::clone(&self.breaker),
            classifier: self.classifier.clone(),
        }
    }
}

/// A service behind a circuit breaker, made by [`CircuitBreakerLayer`].
///
/// `Clone`, `Send` and `Sync` when the inner service and the classifier are; it asks nothing of
/// the request type beyond what the inner service does.
#[derive(Clone)]
pub struct CircuitBreakerService<S, C = DefaultClassifier> {
    inner: S,
    breaker: Arc<CircuitBreaker>,
    classifier: C,
}

impl<S, C> CircuitBreakerService<S, C> {
    /// The breaker.
    #[must_use]
    pub fn breaker(&self) -> &Arc<CircuitBreaker> {
        &self.breaker
    }

    /// The inner service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The inner service, to change.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// The inner service, without the breaker.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S: fmt::Debug, C> fmt::Debug for CircuitBreakerService<S, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CircuitBreakerService")
            .field("inner", &self.inner)
            .field("breaker", &self.breaker.name())
            .finish_non_exhaustive()
    }
}

impl<S, C, Request> Service<Request> for CircuitBreakerService<S, C>
where
    S: Service<Request>,
    C: Classify<S::Response, S::Error> + Clone,
{
    type Response = S::Response;
    type Error = Failure<S::Error>;
    type Future = ResponseFuture<S::Future, C>;

    #[inline]
    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx).map_err(Failure::Error)
    }

    // Inlined, so that the response future is built where the caller keeps it: returned from
    // an out-of-line call, it was copied out of the callee's frame at once, a quarter of a
    // request's cost in the `layer` benchmark.
    #[inline]
    fn call(&mut self, request: Request) -> Self::Future {
        respond(
            &self.breaker,
            &mut self.inner,
            request,
            self.classifier.clone(),
        )
    }
}

/// Calls `inner` through `breaker`, or refuses at once.
#[inline]
fn respond<S: Service<Request>, Request, C>(
    breaker: &Arc<CircuitBreaker>,
    inner: &mut S,
    request: Request,
    classifier: C,
) -> ResponseFuture<S::Future, C> {
    ResponseFuture {
        stage: match breaker.admit() {
            Ok(permit) => Stage::Running {
                inner: inner.call(request),
                timer: timer_for(breaker),
                permit: permit.held_by(Arc::clone(breaker)),
            },
            // The inner service is not called: its readiness stays reserved for the next call.
            Err(refusal) => Stage::Refused {
                rejection: breaker.rejection(refusal),
            },
        },
        classifier,
    }
}

/// One breaker per key of the request (per host, per tenant), from a [`Keyed`] family: made by
/// [`CircuitBreakerLayer::per_key`].
///
/// Each key's breaker is `<family>/<key>` in the registry, as any `Keyed` breaker; the family
/// is bounded ([`Keyed::max_keys`], [`Keyed::max_key_len`]) and evicts idle keys. The key
/// function runs on every request: a key that clones cheaply (an [`http::uri::Authority`],
/// which shares the request's bytes, as [`authority`] returns) keeps the layer free of
/// allocations.
pub struct PerKeyLayer<K, F, C = DefaultClassifier> {
    family: Arc<Keyed<K>>,
    key: F,
    classifier: C,
}

impl CircuitBreakerLayer {
    /// A layer with one breaker per key `key` finds in each request, in the family `family`
    /// configured with `config` (at most 10,000 keys; [`per_key_in`](Self::per_key_in) takes
    /// a family built with other bounds).
    ///
    /// ```
    /// use fusebox::{Config, State, registry};
    /// use fusebox::tower::{CircuitBreakerLayer, HttpClassifier, authority};
    /// use tower::{Layer, Service, ServiceExt};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// // A client: one breaker per host it calls.
    /// let client = tower::service_fn(|request: http::Request<()>| async move {
    ///     let status = if request.uri().host() == Some("down.example") { 503 } else { 200 };
    ///     http::Response::builder().status(status).body(())
    /// });
    /// let layer = CircuitBreakerLayer::per_key("docs::hosts", Config::builder().consecutive_failures(1).build()?, authority)
    ///     .classifier(HttpClassifier::default());
    /// let mut client = layer.layer(client);
    /// for uri in ["http://down.example/a", "http://up.example/b"] {
    ///     let request = http::Request::get(uri).body(())?;
    ///     client.ready().await?.call(request).await?;
    /// }
    /// assert_eq!(registry::get("docs::hosts/down.example").unwrap().state(), State::Open);
    /// assert_eq!(registry::get("docs::hosts/up.example").unwrap().state(), State::Closed);
    /// # Ok(())
    /// # }
    /// ```
    #[track_caller]
    pub fn per_key<K, F>(family: impl Into<Name>, config: Config, key: F) -> PerKeyLayer<K, F>
    where
        K: Hash + Eq + Clone + Display + Send + Sync + 'static,
    {
        CircuitBreakerLayer::per_key_in(Arc::new(Keyed::new(family, config)), key)
    }

    /// [`per_key`](Self::per_key) over a family of breakers the application built (with its
    /// own `max_keys`, say) and may share with other code.
    pub fn per_key_in<K, F>(family: Arc<Keyed<K>>, key: F) -> PerKeyLayer<K, F> {
        PerKeyLayer {
            family,
            key,
            classifier: DefaultClassifier,
        }
    }
}

impl<K, F, C> PerKeyLayer<K, F, C> {
    /// The same layer, judging outcomes with `classifier`.
    #[must_use]
    pub fn classifier<D>(self, classifier: D) -> PerKeyLayer<K, F, D> {
        PerKeyLayer {
            family: self.family,
            key: self.key,
            classifier,
        }
    }

    /// The family of breakers.
    #[must_use]
    pub fn family(&self) -> &Arc<Keyed<K>> {
        &self.family
    }
}

impl<K, F: Clone, C: Clone> Clone for PerKeyLayer<K, F, C> {
    fn clone(&self) -> Self {
        PerKeyLayer {
            family: Arc::clone(&self.family),
            key: self.key.clone(),
            classifier: self.classifier.clone(),
        }
    }
}

impl<K: Hash + Eq + Clone + Display + Send + Sync + 'static, F, C> fmt::Debug
    for PerKeyLayer<K, F, C>
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PerKeyLayer")
            .field("family", &self.family.name())
            .finish_non_exhaustive()
    }
}

impl<S, K, F: Clone, C: Clone> Layer<S> for PerKeyLayer<K, F, C> {
    type Service = PerKeyService<S, K, F, C>;

    fn layer(&self, inner: S) -> Self::Service {
        PerKeyService {
            inner,
            layer: self.clone(),
        }
    }
}

/// A service behind one breaker per key of its requests, made by [`PerKeyLayer`].
pub struct PerKeyService<S, K, F, C = DefaultClassifier> {
    inner: S,
    layer: PerKeyLayer<K, F, C>,
}

impl<S: Clone, K, F: Clone, C: Clone> Clone for PerKeyService<S, K, F, C> {
    fn clone(&self) -> Self {
        PerKeyService {
            inner: self.inner.clone(),
            layer: self.layer.clone(),
        }
    }
}

impl<S: fmt::Debug, K: Hash + Eq + Clone + Display + Send + Sync + 'static, F, C> fmt::Debug
    for PerKeyService<S, K, F, C>
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PerKeyService")
            .field("inner", &self.inner)
            .field("family", &self.layer.family.name())
            .finish_non_exhaustive()
    }
}

impl<S, K, F, C, Request> Service<Request> for PerKeyService<S, K, F, C>
where
    S: Service<Request>,
    K: Hash + Eq + Clone + Display + Send + Sync + 'static,
    F: Fn(&Request) -> K,
    C: Classify<S::Response, S::Error> + Clone,
{
    type Response = S::Response;
    type Error = Failure<S::Error>;
    type Future = ResponseFuture<S::Future, C>;

    #[inline]
    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx).map_err(Failure::Error)
    }

    #[inline]
    fn call(&mut self, request: Request) -> Self::Future {
        let breaker = self.layer.family.breaker(&(self.layer.key)(&request));
        respond(
            &breaker,
            &mut self.inner,
            request,
            self.layer.classifier.clone(),
        )
    }
}

/// The authority (`host:port`) a request is for, as a key for
/// [`CircuitBreakerLayer::per_key`]: the URI's (a client's requests have absolute URIs), else
/// the `Host` header (a server's), else `unknown`. Cloning it shares the request's bytes.
///
/// ```
/// let request = http::Request::get("https://catalog.internal:8443/items").body(()).unwrap();
/// assert_eq!(fusebox::tower::authority(&request), "catalog.internal:8443");
/// ```
#[must_use]
pub fn authority<B>(request: &http::Request<B>) -> Authority {
    if let Some(authority) = request.uri().authority() {
        return authority.clone();
    }
    request
        .headers()
        .get(http::header::HOST)
        .and_then(|host| Authority::try_from(host.as_bytes()).ok())
        .unwrap_or_else(|| Authority::from_static("unknown"))
}

impl<B: std::ops::Deref<Target = CircuitBreaker>> Permit<B> {
    /// Records the call as a classifier judged it (the layer's and the reqwest middleware's).
    pub(crate) fn judged(self, verdict: Verdict) {
        match verdict {
            Verdict::Success => self.finish(Outcome::Success),
            Verdict::Failure => self.finish(Outcome::Failure),
            Verdict::Ignored => self.ignore(),
        }
    }
}

/// The timer of a call admitted now, if the breaker has a timeout: boxed, so that a request
/// without one moves a word for it rather than the timer's hundred bytes (which made the layer
/// more than twice as costly per request, in the `layer` benchmark).
#[cfg(feature = "tokio")]
#[inline]
fn timer_for(breaker: &CircuitBreaker) -> Option<Pin<Box<Timer>>> {
    breaker
        .config
        .timeout()
        .map(|limit| Box::pin(tokio::time::sleep(limit)))
}

#[cfg(not(feature = "tokio"))]
fn timer_for(_: &CircuitBreaker) -> Option<Pin<Box<Timer>>> {
    None
}

pin_project! {
    /// The response of a [`CircuitBreakerService`]: the inner service's, with its outcome
    /// recorded when it finishes; or the breaker's refusal, at once.
    ///
    /// Dropping it before it finishes records nothing and gives back the half-open permit and
    /// bulkhead slot the call held.
    #[must_use = "futures do nothing unless you `.await` or poll them"]
    pub struct ResponseFuture<F, C> {
        #[pin]
        stage: Stage<F>,
        classifier: C,
    }
}

pin_project! {
    /// Where a request stands: one of three, so that the future is no larger than its largest
    /// stage (a future moved on every request costs per byte, in the `layer` benchmark).
    #[project = StageProjection]
    #[project_replace = StageReplaced]
    enum Stage<F> {
        Running {
            // Before the permit, so that a cancelled request is dropped before its permit is
            // given back.
            #[pin]
            inner: F,
            timer: Option<Pin<Box<Timer>>>,
            permit: Permit<Arc<CircuitBreaker>>,
        },
        Refused {
            rejection: BreakerError,
        },
        Finished,
    }
}

impl<F, C> fmt::Debug for ResponseFuture<F, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let stage = match self.stage {
            Stage::Running { .. } => "running",
            Stage::Refused { .. } => "rejected",
            Stage::Finished => "finished",
        };
        f.debug_struct("ResponseFuture")
            .field("stage", &stage)
            .finish_non_exhaustive()
    }
}

impl<F, C, T, E> Future for ResponseFuture<F, C>
where
    F: Future<Output = Result<T, E>>,
    C: Classify<T, E>,
{
    type Output = Result<T, Failure<E>>;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        let timed_out = match this.stage.as_mut().project() {
            StageProjection::Running {
                inner,
                timer,
                permit,
            } => {
                if let Poll::Ready(result) = permit.poll(inner, cx) {
                    let verdict = this.classifier.classify(result.as_ref());
                    if let StageReplaced::Running { permit, .. } =
                        this.stage.project_replace(Stage::Finished)
                    {
                        permit.judged(verdict);
                    }
                    return Poll::Ready(result.map_err(Failure::Error));
                }
                match timer {
                    Some(timer) => timer.as_mut().poll(cx).is_ready(),
                    None => false,
                }
            }
            StageProjection::Refused { .. } | StageProjection::Finished => {
                return match this.stage.project_replace(Stage::Finished) {
                    StageReplaced::Refused { rejection } => {
                        Poll::Ready(Err(Failure::Breaker(rejection)))
                    }
                    _ => panic!("`ResponseFuture` polled after it returned `Ready`"),
                };
            }
        };
        if timed_out
            && let StageReplaced::Running { permit, .. } =
                this.stage.project_replace(Stage::Finished)
        {
            return Poll::Ready(Err(Failure::Breaker(permit.time_out())));
        }
        Poll::Pending
    }
}
