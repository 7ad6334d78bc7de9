//! Refusals answered as HTTP responses, so that a layer goes straight onto an axum route (the
//! `axum` feature).
//!
//! axum asks of a route's layer a service that never fails (`Error = Infallible`): a response
//! for every request. [`CircuitBreakerLayer`](super::CircuitBreakerLayer)'s service fails with
//! [`Failure`](crate::Failure), whose refusals axum cannot answer by itself, and the compiler
//! says only that `Infallible: From<Failure<Infallible>>` does not hold. `.answered()` turns
//! each error into its response (`IntoResponse`: 503 with `Retry-After` when open, 503 when
//! busy, 504 on a timeout, the inner service's own error as it answers), which is what a
//! `HandleErrorLayer` returning the failure as it is would do, without one.

use std::{
    convert::Infallible,
    fmt,
    future::Future,
    pin::Pin,
    sync::{Mutex, PoisonError},
    task::{Context, Poll},
};

use axum::response::{IntoResponse, Response};
use pin_project_lite::pin_project;
use tower_layer::Layer;
use tower_service::Service;

use super::{CircuitBreakerLayer, PerKeyLayer};

/// A layer whose service answers every error as an HTTP response: made by
/// [`CircuitBreakerLayer::answered`] or [`PerKeyLayer::answered`].
#[derive(Clone, Debug)]
pub struct Answered<L> {
    layer: L,
}

impl<C> CircuitBreakerLayer<C> {
    /// The same layer, its refusals answered as HTTP responses (503 with `Retry-After`, 504),
    /// so that it goes straight onto an axum route or router, without a `HandleErrorLayer`.
    ///
    /// ```
    /// use axum::{Router, routing::get};
    /// use fusebox::{Config, tower::{CircuitBreakerLayer, HttpClassifier}};
    ///
    /// let breaker = CircuitBreakerLayer::new("docs::catalog", Config::default())
    ///     .classifier(HttpClassifier::default()) // a 5xx answer is a failure
    ///     .answered();
    /// let app: Router = Router::new().route("/items", get(|| async { "items" }).layer(breaker));
    /// ```
    #[must_use]
    pub fn answered(self) -> Answered<Self> {
        Answered { layer: self }
    }
}

impl<K, F, C> PerKeyLayer<K, F, C> {
    /// The same layer, its refusals answered as HTTP responses, as
    /// [`CircuitBreakerLayer::answered`]'s.
    #[must_use]
    pub fn answered(self) -> Answered<Self> {
        Answered { layer: self }
    }
}

impl<S, L: Layer<S>> Layer<S> for Answered<L> {
    type Service = AnsweredService<L::Service>;

    fn layer(&self, inner: S) -> Self::Service {
        AnsweredService {
            inner: self.layer.layer(inner),
            not_ready: None,
        }
    }
}

/// A service whose errors are answered as HTTP responses, made by [`Answered`].
pub struct AnsweredService<S> {
    inner: S,
    /// An error the inner service gave when asked whether it is ready: the next request is
    /// answered with it, since a service that never fails cannot return it from `poll_ready`.
    /// In a mutex only so that the service stays `Sync` (a response body is not), as axum
    /// asks; it is never locked, only moved.
    not_ready: Option<Mutex<Response>>,
}

impl<S: Clone> Clone for AnsweredService<S> {
    /// A clone of the inner service, not yet asked whether it is ready (as tower clones a
    /// service: `poll_ready` is asked of each clone).
    fn clone(&self) -> Self {
        AnsweredService {
            inner: self.inner.clone(),
            not_ready: None,
        }
    }
}

impl<S: fmt::Debug> fmt::Debug for AnsweredService<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AnsweredService")
            .field("inner", &self.inner)
            .finish_non_exhaustive()
    }
}

impl<S, Request> Service<Request> for AnsweredService<S>
where
    S: Service<Request>,
    S::Response: IntoResponse,
    S::Error: IntoResponse,
{
    type Response = Response;
    type Error = Infallible;
    type Future = AnsweredFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        if self.not_ready.is_none()
            && let Err(error) = std::task::ready!(self.inner.poll_ready(cx))
        {
            self.not_ready = Some(Mutex::new(error.into_response()));
        }
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request) -> Self::Future {
        AnsweredFuture {
            stage: match self.not_ready.take() {
                Some(answer) => Stage::Answered {
                    answer: Some(answer.into_inner().unwrap_or_else(PoisonError::into_inner)),
                },
                None => Stage::Running {
                    inner: self.inner.call(request),
                },
            },
        }
    }
}

pin_project! {
    /// The response of an [`AnsweredService`]: the inner service's, or its error's answer.
    #[must_use = "futures do nothing unless you `.await` or poll them"]
    pub struct AnsweredFuture<F> {
        #[pin]
        stage: Stage<F>,
    }
}

pin_project! {
    #[project = StageProjection]
    enum Stage<F> {
        Running {
            #[pin]
            inner: F,
        },
        Answered {
            answer: Option<Response>,
        },
    }
}

impl<F> fmt::Debug for AnsweredFuture<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AnsweredFuture").finish_non_exhaustive()
    }
}

impl<F, T, E> Future for AnsweredFuture<F>
where
    F: Future<Output = Result<T, E>>,
    T: IntoResponse,
    E: IntoResponse,
{
    type Output = Result<Response, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Poll::Ready(Ok(match self.project().stage.project() {
            StageProjection::Running { inner } => match std::task::ready!(inner.poll(cx)) {
                Ok(response) => response.into_response(),
                Err(error) => error.into_response(),
            },
            StageProjection::Answered { answer } => answer
                .take()
                .expect("`AnsweredFuture` polled after it returned `Ready`"),
        }))
    }
}
