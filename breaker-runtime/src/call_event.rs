//! Per-call events: what became of each call, for the listeners that asked
//! ([`CircuitBreaker::on_call`](crate::CircuitBreaker::on_call),
//! [`registry::on_call`](crate::registry::on_call)). Admission marks a call of a breaker that
//! is listened to on its ticket, from the word it reads anyway; a breaker nobody listens to
//! pays nothing for events on a call that runs, and a refused call one relaxed load.

use std::time::Duration;

use crate::listeners::Listeners;

/// What became of a call.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CallKind {
    /// It ran and succeeded (an `Ok`, or an `Err` the failure predicate let pass), in time.
    Success,
    /// It ran and failed (a counted `Err`, or a panic). A failure that was also slow is a
    /// failure.
    Failure,
    /// It ran past `timeout_ms` and was dropped: a failure, counted as a timeout.
    Timeout,
    /// It was turned away: the circuit was open, half-open with its trials taken, or forced
    /// open. It did not run.
    Rejected,
    /// It was turned away: `max_concurrent` calls were in flight. It did not run.
    Busy,
    /// It ran, and a classifier (the tower layer's, the reqwest middleware's) said it is
    /// neither a success nor a failure.
    Ignored,
    /// It succeeded, but took longer than `slow_call_ms`.
    Slow,
}

impl CallKind {
    /// Every kind, in the order they are declared (each at its discriminant's place).
    pub const ALL: [CallKind; 7] = [
        CallKind::Success,
        CallKind::Failure,
        CallKind::Timeout,
        CallKind::Rejected,
        CallKind::Busy,
        CallKind::Ignored,
        CallKind::Slow,
    ];

    /// Its name: `success`, `failure`, `timeout`, `rejected`, `busy`, `ignored` or `slow`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            CallKind::Success => "success",
            CallKind::Failure => "failure",
            CallKind::Timeout => "timeout",
            CallKind::Rejected => "rejected",
            CallKind::Busy => "busy",
            CallKind::Ignored => "ignored",
            CallKind::Slow => "slow",
        }
    }

    /// Whether the call ran (it was not turned away).
    #[must_use]
    pub const fn ran(self) -> bool {
        !matches!(self, CallKind::Rejected | CallKind::Busy)
    }
}

// The trace codes a kind by its discriminant and decodes it through `ALL`: they must agree.
const _: () = {
    let mut i = 0;
    while i < CallKind::ALL.len() {
        assert!(
            CallKind::ALL[i] as usize == i,
            "CallKind::ALL is out of order"
        );
        i += 1;
    }
};

impl std::fmt::Display for CallKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One call of a breaker, as its listeners see it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct CallEvent<'a> {
    /// The breaker's name.
    pub name: &'a str,
    /// What became of the call.
    pub kind: CallKind,
    /// How long it ran, when the breaker timed it: to the millisecond with `slow_call_ms`
    /// set, `None` otherwise, and for calls turned away.
    pub duration: Option<Duration>,
}

/// A function called on every call.
pub(crate) type CallListener = dyn Fn(&CallEvent<'_>) + Send + Sync;

/// Listeners of every breaker's calls, added with [`registry::on_call`](crate::registry::on_call).
pub(crate) static EVERY_CALL: Listeners<CallListener> = Listeners::new();
