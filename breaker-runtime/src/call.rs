//! The future of an async call through a breaker: admitted at its first poll, the operation
//! polled under a panic guard (and, with the `tokio` feature, against its timeout), the outcome
//! recorded when it finishes.
//!
//! Written by hand rather than as an `async fn`: one flat state, with no inner future to create,
//! move and drop, it costs about half as much on top of the operation (see the README's
//! performance section).

use std::{
    fmt,
    future::Future,
    pin::Pin,
    task::{Context, Poll},
};

use pin_project_lite::pin_project;

use crate::{CircuitBreaker, Failure, admission::Permit, breaker::every_error, outcome::Outcome};

#[cfg(feature = "tokio")]
pub(crate) type Timer = tokio::time::Sleep;

/// Without the `tokio` feature no call has a timer: a type with no values.
#[cfg(not(feature = "tokio"))]
pub(crate) enum Timer {}

#[cfg(not(feature = "tokio"))]
impl Future for Timer {
    type Output = ();

    fn poll(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<()> {
        match *self {}
    }
}

pin_project! {
    /// An async call through a breaker, returned by
    /// [`CircuitBreaker::call_async`] and [`CircuitBreaker::call_async_with`].
    ///
    /// The call is admitted when the future is first polled. Dropping it before it finishes
    /// records nothing and frees the trial permit and bulkhead slot it held. Like an `async fn`'s
    /// future, it must not be polled again once it has returned `Ready`.
    ///
    /// ```
    /// use fusebox::{CallAsync, CircuitBreaker, Config};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let breaker = CircuitBreaker::new("stock", Config::default());
    /// // A named type, so it can be stored in a struct or returned from a trait method.
    /// let call: CallAsync<'_, _, _> = breaker.call_async(async { Ok::<_, ()>(7) });
    /// assert_eq!(call.await, Ok(7));
    /// # }
    /// ```
    #[must_use = "futures do nothing unless you `.await` or poll them"]
    pub struct CallAsync<'b, F, P> {
        // Before the permit, so that a cancelled operation is dropped before its permit is
        // given back.
        #[pin]
        operation: F,
        #[pin]
        timer: Option<Timer>,
        breaker: &'b CircuitBreaker,
        permit: Option<Permit<&'b CircuitBreaker>>,
        // Taken when the call finishes: `None` afterwards.
        is_failure: Option<P>,
        // The call's span, with `trace_calls` (nothing without the `tracing` feature).
        span: CallSpan,
    }
}

#[cfg(feature = "tracing")]
type CallSpan = Option<tracing::Span>;
#[cfg(not(feature = "tracing"))]
type CallSpan = ();

impl<'b, F, P> CallAsync<'b, F, P> {
    pub(crate) fn new(breaker: &'b CircuitBreaker, operation: F, is_failure: P) -> Self {
        CallAsync {
            operation,
            timer: None,
            breaker,
            permit: None,
            is_failure: Some(is_failure),
            span: CallSpan::default(),
        }
    }
}

/// Shows the breaker and how far the call has come; the operation and predicate need not be
/// `Debug`.
impl<F, P> fmt::Debug for CallAsync<'_, F, P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let stage = match (&self.permit, &self.is_failure) {
            (Some(_), _) => "running",
            (None, Some(_)) => "not polled yet",
            (None, None) => "finished",
        };
        f.debug_struct("CallAsync")
            .field("breaker", &self.breaker.name())
            .field("stage", &stage)
            .field("timer", &self.timer.is_some())
            .finish_non_exhaustive()
    }
}

impl<F, P, T, E> Future for CallAsync<'_, F, P>
where
    F: Future<Output = Result<T, E>>,
    P: FnOnce(&E) -> bool,
{
    type Output = Result<T, Failure<E>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // `this` is mutated only to set a timer, which needs the `tokio` feature.
        #[cfg_attr(not(feature = "tokio"), allow(unused_mut))]
        let mut this = self.project();
        let permit = if let Some(permit) = this.permit {
            permit
        } else {
            assert!(
                this.is_failure.is_some(),
                "`CallAsync` polled after it returned `Ready`"
            );
            match this.breaker.admit() {
                Ok(permit) => {
                    #[cfg(feature = "tokio")]
                    if let Some(limit) = this.breaker.config.timeout() {
                        this.timer.set(Some(tokio::time::sleep(limit)));
                    }
                    #[cfg(feature = "tracing")]
                    if permit.ticket().is_traced() {
                        let state = crate::span::admitted_in(this.breaker, permit.ticket());
                        *this.span = Some(crate::span::for_call(this.breaker.name(), state));
                    }
                    this.permit.insert(permit)
                }
                Err(refusal) => {
                    *this.is_failure = None;
                    return Poll::Ready(Err(Failure::Breaker(this.breaker.rejection(refusal))));
                }
            }
        };
        #[cfg(feature = "tracing")]
        let entered = this.span.as_ref().map(tracing::Span::enter);
        let poll = permit.poll(this.operation, cx);
        #[cfg(feature = "tracing")]
        drop(entered);
        if let Poll::Ready(result) = poll {
            if let (Some(permit), Some(is_failure)) = (this.permit.take(), this.is_failure.take()) {
                let outcome = Outcome::of(&result, is_failure);
                #[cfg(feature = "tracing")]
                if let Some(span) = this.span.take() {
                    span.record("outcome", crate::span::outcome_name(outcome));
                }
                permit.finish(outcome);
            }
            return Poll::Ready(result.map_err(Failure::Error));
        }
        if let Some(timer) = this.timer.as_pin_mut()
            && timer.poll(cx).is_ready()
        {
            *this.is_failure = None;
            #[cfg(feature = "tracing")]
            if let Some(span) = this.span.take() {
                span.record("outcome", "timeout");
            }
            if let Some(permit) = this.permit.take() {
                return Poll::Ready(Err(Failure::Breaker(permit.time_out())));
            }
        }
        Poll::Pending
    }
}

impl CircuitBreaker {
    /// Runs the future `operation` through the breaker; every `Err` counts as a failure.
    ///
    /// The call is admitted when the returned future is first polled. It works on any executor;
    /// with the `tokio` feature and [`Config::timeout`](crate::Config::timeout) set, an
    /// operation still running after the timeout is abandoned (dropped with the returned
    /// future) and the call fails with [`BreakerError::Timeout`] (this needs a Tokio runtime
    /// with its timer enabled, as `tokio::time::timeout` does). Dropping the returned future
    /// before it finishes records nothing and frees its permits.
    ///
    /// # Errors
    /// The future resolves as [`call`](Self::call) returns, plus [`BreakerError::Timeout`].
    ///
    /// [`BreakerError::Timeout`]: crate::BreakerError::Timeout
    ///
    /// ```
    /// use fusebox::{CircuitBreaker, Config};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let breaker = CircuitBreaker::new("reviews", Config::default());
    /// let reviews = breaker.call_async(async { Ok::<_, std::io::Error>(vec!["great"]) }).await;
    /// assert_eq!(reviews.unwrap(), ["great"]);
    /// # }
    /// ```
    pub fn call_async<T, E, F>(&self, operation: F) -> CallAsync<'_, F, impl FnOnce(&E) -> bool>
    where
        F: Future<Output = Result<T, E>>,
    {
        CallAsync::new(self, operation, every_error::<E>)
    }

    /// [`call_async`](Self::call_async) with a failure predicate, as
    /// [`call_with`](Self::call_with).
    ///
    /// # Errors
    /// As [`call_async`](Self::call_async).
    ///
    /// ```
    /// use fusebox::{CircuitBreaker, Config};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let breaker = CircuitBreaker::new("users", Config::default());
    /// let not_found = breaker.call_async_with(async { Err::<(), _>(404) }, |status| *status >= 500);
    /// assert!(not_found.await.is_err());
    /// assert_eq!(breaker.metrics().failures, 0);
    /// # }
    /// ```
    pub fn call_async_with<T, E, F, P>(&self, operation: F, is_failure: P) -> CallAsync<'_, F, P>
    where
        F: Future<Output = Result<T, E>>,
        P: FnOnce(&E) -> bool,
    {
        CallAsync::new(self, operation, is_failure)
    }
}
