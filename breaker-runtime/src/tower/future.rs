//! The response future: the inner service's, with its outcome recorded when it finishes, or
//! the breaker's refusal.

use std::{
    fmt,
    future::Future,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
};

use pin_project_lite::pin_project;
use tower_service::Service;

use super::Classify;
use crate::{BreakerError, CircuitBreaker, Failure, admission::Permit, call::Timer};

/// Calls `inner` through `breaker`, or refuses at once.
#[inline]
pub(super) fn respond<S: Service<Request>, Request, C>(
    breaker: &Arc<CircuitBreaker>,
    inner: &mut S,
    request: Request,
    classifier: C,
) -> ResponseFuture<S::Future, C> {
    ResponseFuture {
        stage: match breaker.admit() {
            Ok(permit) => Stage::Running {
                span: span_for(breaker, &permit),
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

/// The call's span, with `trace_calls` (the `tracing` feature): boxed, a word in the future
/// rather than the span's own size; nothing without the feature.
#[cfg(feature = "tracing")]
type CallSpan = Option<Box<tracing::Span>>;
#[cfg(not(feature = "tracing"))]
type CallSpan = ();

#[cfg(feature = "tracing")]
fn span_for(breaker: &CircuitBreaker, permit: &Permit<&CircuitBreaker>) -> CallSpan {
    permit.ticket().is_traced().then(|| {
        let state = crate::span::admitted_in(breaker, permit.ticket());
        Box::new(crate::span::for_call(breaker.name(), state))
    })
}

#[cfg(not(feature = "tracing"))]
fn span_for(_: &CircuitBreaker, _: &Permit<&CircuitBreaker>) -> CallSpan {}

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
            span: CallSpan,
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
                span,
            } => {
                #[cfg(feature = "tracing")]
                let entered = span.as_ref().map(|span| span.enter());
                #[cfg(not(feature = "tracing"))]
                let () = span;
                let poll = permit.poll(inner, cx);
                #[cfg(feature = "tracing")]
                drop(entered);
                if let Poll::Ready(result) = poll {
                    let verdict = this.classifier.classify(result.as_ref());
                    if let StageReplaced::Running { permit, span, .. } =
                        this.stage.project_replace(Stage::Finished)
                    {
                        #[cfg(feature = "tracing")]
                        if let Some(span) = span {
                            span.record("outcome", crate::span::verdict_name(verdict));
                        }
                        #[cfg(not(feature = "tracing"))]
                        let () = span;
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
            && let StageReplaced::Running { permit, span, .. } =
                this.stage.project_replace(Stage::Finished)
        {
            #[cfg(feature = "tracing")]
            if let Some(span) = span {
                span.record("outcome", "timeout");
            }
            #[cfg(not(feature = "tracing"))]
            let () = span;
            return Poll::Ready(Err(Failure::Breaker(permit.time_out())));
        }
        Poll::Pending
    }
}
