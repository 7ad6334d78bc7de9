//! Admission: whether a call may run, and the permit it runs under.
//!
//! A closed breaker admits with one load of the state word. Otherwise the state machine
//! decides (a half-open trial permit, or a refusal); then the bulkhead, if configured, takes a
//! slot. What admission hands out is a [`Permit`], a drop guard: whatever way the call ends —
//! an outcome, a panic, or a future dropped half-way — the breaker hears of it exactly once
//! and gets back the trial permit and bulkhead slot the call held.

use std::{
    future::Future,
    pin::Pin,
    task::{Context, Poll},
    time::Duration,
};

use crate::{
    BreakerError, CircuitBreaker, Name, State,
    outcome::Outcome,
    state::{Entry, Snapshot},
    sync::{AtomicU64, CacheLine, Ordering},
};

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

/// Calls in flight, counted only when `max_concurrent` is set (Hystrix's semaphore isolation).
#[derive(Debug, Default)]
pub(crate) struct Bulkhead {
    in_flight: CacheLine<AtomicU64>,
}

impl Bulkhead {
    /// Takes a slot if one of `limit` is free; `false` if they are all taken.
    fn enter(&self, limit: u64) -> bool {
        // Counted before the check, so that two callers cannot both see room for one; a caller
        // turned away gives its count back when its permit drops.
        self.in_flight.fetch_add(1, Ordering::Acquire) < limit
    }

    fn leave(&self) {
        self.in_flight.fetch_sub(1, Ordering::Release);
    }
}

impl CircuitBreaker {
    /// Admits a call, or says why not. The closed path is one load of the state word.
    // Always inlined: returned through memory, the 48-byte result costs more than the
    // admission itself.
    #[allow(clippy::inline_always)]
    #[inline(always)]
    pub(crate) fn admit(&self) -> Result<Permit<'_>, BreakerError> {
        let word = self.state.load();
        let ticket = if word.admits_freely() {
            Ticket::normal(word.generation())
        } else {
            self.admit_slow(word)
                .map_err(|refusal| refusal.into_error(self.name))?
        };
        let permit = Permit::new(self, ticket);
        if let Some(limit) = self.config.max_concurrent()
            && !self.bulkhead.enter(limit)
        {
            drop(permit); // gives back the slot, and the trial permit if it took one
            self.window.record_rejection(self.clock.now_ms());
            return Err(BreakerError::Busy {
                name: self.name,
                max_concurrent: limit,
            });
        }
        Ok(permit)
    }

    /// Admission when the circuit is not closed: open, half-open or forced open.
    #[cold]
    #[inline(never)]
    fn admit_slow(&self, word: Snapshot) -> Result<Ticket, Refusal> {
        let now = self.clock.now_ms();
        let sleep = self.config.sleep_window_ms();
        // An open circuit inside its sleep window, by far the most frequent case here, is
        // answered before the state machine's loop, on a path short enough to keep rejections
        // cheap.
        if let Some(retry_in) = word.asleep_for(now, sleep) {
            return Err(self.refuse(now, State::Open, retry_in));
        }
        let (entry, moved) =
            self.state
                .transition_to_trial(word, now, sleep, self.config.half_open_max_calls());
        self.report(moved);
        match entry {
            Entry::Free { generation } => Ok(Ticket::normal(generation)),
            Entry::Trial { generation } => Ok(Ticket::trial(generation)),
            Entry::Refused { state, retry_in_ms } => Err(self.refuse(now, state, retry_in_ms)),
        }
    }

    /// Counts a rejection and says why.
    #[inline]
    fn refuse(&self, now: u64, state: State, retry_in_ms: u64) -> Refusal {
        self.window.record_rejection(now);
        Refusal {
            state,
            // At most `sleep_window_ms`, which is at most a day: it fits.
            retry_in_ms: u32::try_from(retry_in_ms).unwrap_or(u32::MAX),
        }
    }
}

/// Why `admit_slow` turned a call away: eight bytes to write and read back rather than a whole
/// `BreakerError`'s forty; the caller adds the name.
#[derive(Clone, Copy)]
struct Refusal {
    state: State,
    /// 0 when not known in advance (half-open, forced open).
    retry_in_ms: u32,
}

impl Refusal {
    #[inline]
    fn into_error(self, name: Name) -> BreakerError {
        BreakerError::Open {
            name,
            state: self.state,
            retry_in: (self.retry_in_ms != 0)
                .then(|| Duration::from_millis(self.retry_in_ms.into())),
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
    pub(crate) fn time_out(self) -> BreakerError {
        let breaker = self.breaker;
        self.finish(Outcome::Timeout);
        BreakerError::Timeout {
            name: breaker.name,
            after: breaker.config().timeout().unwrap_or_default(),
        }
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
        if !self.settled && self.ticket.trial {
            // Dropped before an outcome: a cancelled future. It records nothing, and its trial
            // permit goes back to its half-open period.
            self.breaker.state.give_back_trial(self.ticket.generation);
        }
        if self.holds_slot {
            self.breaker.bulkhead.leave();
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
