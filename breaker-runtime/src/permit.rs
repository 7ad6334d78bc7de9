//! A call's permission to run, as a drop guard: whatever way the call ends — an outcome, a
//! panic, or a future dropped half-way — the breaker hears of it exactly once and gets back
//! the trial permit and bulkhead slot the call held.

use std::{
    future::Future,
    pin::Pin,
    task::{Context, Poll},
};

use crate::{CircuitBreaker, window::Outcome};

/// What admission gave a call: the period it was admitted in, and whether as a half-open trial.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Ticket {
    pub(crate) generation: u32,
    pub(crate) trial: bool,
}

impl Ticket {
    pub(crate) const fn normal(generation: u32) -> Ticket {
        Ticket {
            generation,
            trial: false,
        }
    }

    pub(crate) const fn trial(generation: u32) -> Ticket {
        Ticket {
            generation,
            trial: true,
        }
    }
}

/// An admitted call that has not reported its outcome yet.
#[must_use]
pub(crate) struct Permit<'b> {
    breaker: &'b CircuitBreaker,
    ticket: Ticket,
    holds_slot: bool,
    settled: bool,
}

impl<'b> Permit<'b> {
    pub(crate) fn new(breaker: &'b CircuitBreaker, ticket: Ticket) -> Self {
        Permit {
            breaker,
            ticket,
            holds_slot: breaker.config().max_concurrent().is_some(),
            settled: false,
        }
    }

    /// Runs the operation; if it panics, the call is recorded as a failure as the panic
    /// unwinds past.
    #[inline]
    pub(crate) fn run<R>(&mut self, operation: impl FnOnce() -> R) -> R {
        let guard = PanicGuard(self);
        let result = operation();
        std::mem::forget(guard);
        result
    }

    /// Polls the operation once, recording a failure if the poll panics. (A future is not
    /// dropped while a panic leaves its `poll`, so the permit's own drop cannot see that
    /// panic; the guard around each poll does.)
    #[inline]
    pub(crate) fn poll<F: Future>(
        &mut self,
        operation: Pin<&mut F>,
        cx: &mut Context<'_>,
    ) -> Poll<F::Output> {
        let guard = PanicGuard(self);
        let poll = operation.poll(cx);
        std::mem::forget(guard);
        poll
    }

    /// Records the outcome; dropping the permit then frees its bulkhead slot.
    // Always inlined: out of line (as the compiler leaves it in a large async state machine),
    // saving and restoring registers around it costs more than the common outcome itself.
    #[allow(clippy::inline_always)]
    #[inline(always)]
    pub(crate) fn finish(mut self, outcome: Outcome) {
        self.settle(outcome);
    }

    /// Records a timeout and says so.
    pub(crate) fn time_out(self) -> crate::BreakerError {
        let breaker = self.breaker;
        self.finish(Outcome::Timeout);
        breaker.timed_out()
    }

    #[inline]
    fn settle(&mut self, outcome: Outcome) {
        if !self.settled {
            self.settled = true;
            self.breaker.record(self.ticket, outcome);
        }
    }
}

impl Drop for Permit<'_> {
    #[inline]
    fn drop(&mut self) {
        if !self.settled {
            // Dropped before an outcome: a cancelled future. It records nothing.
            self.breaker.give_back(self.ticket);
        }
        if self.holds_slot {
            self.breaker.leave();
        }
    }
}

/// Armed while user code runs; dropped only by unwinding, since the normal path forgets it.
struct PanicGuard<'p, 'b>(&'p mut Permit<'b>);

impl Drop for PanicGuard<'_, '_> {
    fn drop(&mut self) {
        self.0.settle(Outcome::Failure);
    }
}
