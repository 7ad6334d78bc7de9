//! One breaker per key of the request (a host, a tenant), from a `Keyed` family.

use std::{
    fmt::{self, Display},
    hash::Hash,
    sync::Arc,
    task::{Context, Poll},
};

use http::uri::Authority;
use tower_layer::Layer;
use tower_service::Service;

use super::{CircuitBreakerLayer, Classify, DefaultClassifier, ResponseFuture, future::respond};
use crate::{Config, Failure, Keyed, name::Name};

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

    /// The key function.
    #[cfg_attr(not(feature = "tokio"), allow(dead_code))]
    pub(crate) const fn key_ref(&self) -> &F {
        &self.key
    }

    /// The classifier.
    #[cfg_attr(not(feature = "tokio"), allow(dead_code))]
    pub(crate) const fn classifier_ref(&self) -> &C {
        &self.classifier
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
