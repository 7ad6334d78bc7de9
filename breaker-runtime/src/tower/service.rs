//! The service: the inner one, behind its breaker.

use std::{
    fmt,
    sync::Arc,
    task::{Context, Poll},
};

use tower_service::Service;

use super::{Classify, DefaultClassifier, ResponseFuture, future::respond};
use crate::{CircuitBreaker, Failure};

/// A service behind a circuit breaker, made by [`CircuitBreakerLayer`](super::CircuitBreakerLayer).
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
    pub(super) fn new(inner: S, breaker: Arc<CircuitBreaker>, classifier: C) -> Self {
        CircuitBreakerService {
            inner,
            breaker,
            classifier,
        }
    }

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
