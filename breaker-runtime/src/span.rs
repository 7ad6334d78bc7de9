//! Calls in `tracing` spans, for breakers with `trace_calls` (the `tracing` feature): each call
//! runs inside a `circuit_breaker` span carrying the breaker's name, the state it was admitted
//! (or refused) in and its outcome, so a trace shows the breaker's decision around the call.

use tracing::{Span, field::Empty};

use crate::{
    CircuitBreaker, Failure, State,
    admission::Permit,
    outcome::{Outcome, Ticket},
};

/// A call's span, its outcome to be recorded.
pub(crate) fn for_call(name: &str, state: State) -> Span {
    tracing::info_span!(
        "circuit_breaker",
        breaker = name,
        state = state.as_str(),
        outcome = Empty
    )
}

/// The state a call was admitted in, as its span says: `half_open` for a trial, else the
/// state now (closed, or forced closed).
pub(crate) fn admitted_in(breaker: &CircuitBreaker, ticket: Ticket) -> State {
    if ticket.is_trial() {
        State::HalfOpen
    } else {
        breaker.state()
    }
}

/// The outcome as the span records it.
pub(crate) const fn outcome_name(outcome: Outcome) -> &'static str {
    match outcome {
        Outcome::Success => "success",
        Outcome::Failure => "failure",
        Outcome::Timeout => "timeout",
    }
}

/// A classifier's verdict as the span records it.
#[cfg(feature = "tower")]
pub(crate) const fn verdict_name(verdict: crate::classify::Verdict) -> &'static str {
    match verdict {
        crate::classify::Verdict::Success => "success",
        crate::classify::Verdict::Failure => "failure",
        crate::classify::Verdict::Ignored => "ignored",
    }
}

/// `CircuitBreaker::call_with` for a call that runs in a span.
#[cold]
#[inline(never)]
pub(crate) fn call_traced<T, E>(
    breaker: &CircuitBreaker,
    mut permit: Permit<&CircuitBreaker>,
    operation: impl FnOnce() -> Result<T, E>,
    is_failure: impl FnOnce(&E) -> bool,
) -> Result<T, Failure<E>> {
    let span = for_call(breaker.name(), admitted_in(breaker, permit.ticket()));
    let result = span.in_scope(|| permit.run(operation));
    let outcome = Outcome::of(&result, is_failure);
    span.record("outcome", outcome_name(outcome));
    permit.finish(outcome);
    result.map_err(Failure::Error)
}
