//! Admission: whether a call may run, and the permit it runs under.
//!
//! A closed breaker admits with one load of the state word. Otherwise the state machine
//! decides (a half-open trial permit, or a refusal); then the bulkhead, if configured, takes a
//! slot. What admission hands out is a [`Permit`], a drop guard: whatever way the call ends —
//! an outcome, a panic, or a future dropped half-way — the breaker hears of it exactly once
//! and gets back the trial permit and bulkhead slot the call held.

use std::{
    future::Future,
    ops::Deref,
    pin::Pin,
    task::{Context, Poll},
    time::Duration,
};

use crate::{
    BreakerError, CircuitBreaker, State,
    outcome::{Outcome, Ticket},
    state::{Entry, HalfOpen, Snapshot},
};

impl CircuitBreaker {
    /// Admits a call, or says why not. The closed path is one load of the state word.
    ///
    /// A refusal is one word; the caller turns it into a [`BreakerError`] with
    /// [`rejection`](Self::rejection) only when the call was refused, so that the admitted path
    /// carries no error (with a name to clone and drop) through its registers and stack.
    // Always inlined: returned through memory, the result costs more than the admission.
    #[allow(clippy::inline_always)]
    #[inline(always)]
    pub(crate) fn admit(&self) -> Result<Permit<&Self>, Refusal> {
        let word = self.state.load();
        let mut ticket = if word.admits_freely() {
            Ticket::normal(word.generation())
        } else {
            self.admit_slow(word)?
        };
        // Only timed calls need the start: without `slow_call_ms` or `record_latency`, no
        // clock reading here.
        let observed = self.config.observed();
        if observed != 0 {
            ticket = self.observe(ticket, observed);
        }
        // Read once: the permit and the bulkhead must agree on whether a slot is held.
        let max_concurrent = self.config.max_concurrent();
        let permit = Permit::new(self, ticket, max_concurrent.is_some());
        if let Some(limit) = max_concurrent
            && !self.extras.made().bulkhead.enter(limit)
        {
            drop(permit); // gives back the slot, and the trial permit if it took one
            self.extras.made().tallies.busy();
            self.window.record_rejection(self.clock.now_ms());
            return Err(Refusal::BUSY);
        }
        Ok(permit)
    }

    /// `ticket`, marked for what the breaker observes of its call (`observed`): when it
    /// started (on the fine clock with `record_latency`, else on the coarse one, for
    /// `slow_call_ms`), and that call listeners hear of it. Out of line: most breakers observe
    /// nothing.
    #[inline(never)]
    fn observe(&self, mut ticket: Ticket, observed: u8) -> Ticket {
        // A recorded or shadowed call is timed too, so that a replay or the shadow can judge
        // its own `slow_call_ms` and `timeout_ms`.
        let kept = crate::config::OBSERVE_KEPT;
        if observed & crate::config::OBSERVE_TIMED != 0 {
            ticket = if self.config.record_latency() {
                ticket.started_fine(self.clock.now_us())
            } else {
                ticket.started(self.clock.now_ms())
            };
        } else if observed & kept != 0 {
            ticket = ticket.started(self.clock.now_ms());
        }
        // A recorded or shadowed call takes the listeners' path: its outcome is reported where
        // theirs is.
        if observed & (crate::config::OBSERVE_LISTENED | kept) != 0 {
            ticket = ticket.listened();
        }
        if observed & crate::config::OBSERVE_TRACED != 0 {
            ticket = ticket.traced();
        }
        ticket
    }

    /// The error a refused call gets; the call listeners hear of the refusal here, where every
    /// refused call passes, off admission's path.
    // Inlined: built out of line and returned through memory, the error is read back in wider
    // pieces than it was written in, which stalls the processor on every rejection.
    #[inline]
    pub(crate) fn rejection(&self, refusal: Refusal) -> BreakerError {
        // Listened to, traced, recorded or shadowed: one load, as the flag alone was.
        if self.config.observed() & crate::config::OBSERVE_HEARD != 0 {
            self.refused(refusal == Refusal::BUSY, refusal.open_state());
        }
        let name = self.name.clone();
        match refusal.open_state() {
            Some(state) => BreakerError::Open {
                name,
                state,
                retry_in: refusal.retry_in(),
            },
            None => BreakerError::Busy {
                name,
                max_concurrent: self.config.max_concurrent().unwrap_or_default(),
            },
        }
    }

    /// Admission when the circuit is not closed: open, half-open or forced open.
    #[cold]
    #[inline(never)]
    fn admit_slow(&self, word: Snapshot) -> Result<Ticket, Refusal> {
        self.admit_slow_at(word, self.clock.now_ms())
    }

    /// Admission at `now` when the circuit is not closed (a shadow or a replay admits a call
    /// when it started, which may be a moment ago).
    #[inline]
    pub(crate) fn admit_slow_at(&self, word: Snapshot, now: u64) -> Result<Ticket, Refusal> {
        // An open circuit inside its sleep window, by far the most frequent case here, is
        // answered before the state machine's loop, on a path short enough to keep rejections
        // cheap.
        if let Some(retry_in) = word.asleep_for(now) {
            return Err(self.refuse(now, State::Open, retry_in));
        }
        let half_open = HalfOpen {
            max_trials: self.config.half_open_max_calls(),
            max_wait_ms: self.config.half_open_max_wait_ms(),
        };
        let (entry, moved) = self
            .state
            .transition_to_trial(word, now, half_open, |streak| self.sleep_window_ms(streak));
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
        Refusal::open(state, retry_in_ms)
    }
}

/// Why a call was turned away, in one word (`retry_in_ms << 8 | state`, or `BUSY`):
/// [`CircuitBreaker::rejection`] adds the name and the rest. A word, as [`Ticket`] is, so that
/// `Result<Ticket, Refusal>` comes back from `admit_slow` in two registers rather than through
/// memory, where it would be written in pieces and read back whole (a failed store-to-load
/// forward, on every rejection).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Refusal(u64);

impl Refusal {
    /// `max_concurrent` calls were in flight.
    pub(crate) const BUSY: Refusal = Refusal(0xff);

    /// Refused in `state` (open, half-open with its trials taken, forced open); `retry_in_ms`
    /// is 0 when that is not known in advance.
    fn open(state: State, retry_in_ms: u64) -> Refusal {
        // At most the longest sleep window, two days: it fits in 32 bits.
        let retry_in_ms = retry_in_ms.min(u64::from(u32::MAX));
        Refusal(retry_in_ms << 8 | state.kind())
    }

    /// The state that refused, or `None` for a full bulkhead.
    fn open_state(self) -> Option<State> {
        (self != Refusal::BUSY).then(|| State::from_kind(self.0 & 0xff))
    }

    fn retry_in(self) -> Option<Duration> {
        match self.0 >> 8 {
            0 => None,
            millis => Some(Duration::from_millis(millis)),
        }
    }
}

/// An admitted call that has not reported its outcome yet, holding its breaker by reference
/// (`&CircuitBreaker`, a call's) or by `Arc` (a future that must be `'static`, a tower
/// service's).
#[must_use]
pub(crate) struct Permit<B: Deref<Target = CircuitBreaker>> {
    breaker: B,
    /// The ticket, with `HOLDS_SLOT` and `SETTLED` in its spare bits.
    ticket: Ticket,
}

impl<'b> Permit<&'b CircuitBreaker> {
    /// A permit for `ticket`; `holds_slot` when the call takes a bulkhead slot.
    #[inline]
    pub(crate) fn new(breaker: &'b CircuitBreaker, ticket: Ticket, holds_slot: bool) -> Self {
        let flags = if holds_slot { HOLDS_SLOT } else { 0 };
        Permit {
            breaker,
            ticket: Ticket(ticket.0 | flags),
        }
    }

    /// The same permit, holding its breaker through `holder` (which must lead to the same
    /// breaker).
    #[cfg_attr(not(feature = "tower"), allow(dead_code))]
    #[inline]
    pub(crate) fn held_by<H: Deref<Target = CircuitBreaker>>(self, holder: H) -> Permit<H> {
        debug_assert!(std::ptr::eq(self.breaker, std::ptr::from_ref(&*holder)));
        let ticket = self.ticket;
        // The permit moves: nothing to give back for this one.
        std::mem::forget(self);
        Permit {
            breaker: holder,
            ticket,
        }
    }
}

/// The call took a bulkhead slot, to give back when the permit drops.
const HOLDS_SLOT: u64 = 2;
/// The outcome was recorded.
const SETTLED: u64 = 4;
// `Ticket::TIMED` is 8.

impl<B: Deref<Target = CircuitBreaker>> Permit<B> {
    /// What admission gave the call.
    #[cfg_attr(not(feature = "tracing"), allow(dead_code))]
    pub(crate) const fn ticket(&self) -> Ticket {
        self.ticket
    }

    const fn has(&self, flag: u64) -> bool {
        self.ticket.0 & flag != 0
    }

    const fn is_settled(&self) -> bool {
        self.has(SETTLED)
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

    /// Records nothing: the call was neither a success nor a failure (a classifier said to
    /// ignore it). A half-open trial gives its permit back, as a cancelled call does.
    #[cfg_attr(not(feature = "tower"), allow(dead_code))]
    pub(crate) fn ignore(self) {
        self.breaker.extras.made().tallies.ignored();
        if self.ticket.is_listened() {
            self.breaker.called(crate::CallKind::Ignored, None);
        }
    }

    /// Records a timeout and says so.
    pub(crate) fn time_out(self) -> BreakerError {
        let error = BreakerError::Timeout {
            name: self.breaker.name.clone(),
            after: self.breaker.config.timeout().unwrap_or_default(),
        };
        self.finish(Outcome::Timeout);
        error
    }

    #[inline]
    fn settle(&mut self, outcome: Outcome) {
        if !self.is_settled() {
            self.ticket.0 |= SETTLED;
            // Call listeners hear of it from there too.
            self.breaker.record(self.ticket, outcome);
        }
    }
}

#[cfg(feature = "tower")]
impl<B: Deref<Target = CircuitBreaker>> Permit<B> {
    /// Records the call as a classifier judged it (the tower layer's and the reqwest
    /// middleware's).
    pub(crate) fn judged(self, verdict: crate::classify::Verdict) {
        use crate::classify::Verdict;
        match verdict {
            Verdict::Success => self.finish(Outcome::Success),
            Verdict::Failure => self.finish(Outcome::Failure),
            Verdict::Ignored => self.ignore(),
        }
    }
}

impl<B: Deref<Target = CircuitBreaker>> Drop for Permit<B> {
    #[inline]
    fn drop(&mut self) {
        if !self.is_settled() && self.ticket.is_trial() {
            // Dropped before an outcome: a cancelled future. It records nothing, and its trial
            // permit goes back to its half-open period.
            self.breaker.state.give_back_trial(self.ticket.generation());
        }
        if self.has(HOLDS_SLOT)
            && let Some(extras) = self.breaker.extras.get()
        {
            extras.bulkhead.leave();
        }
    }
}

/// Armed while user code runs; dropped only by unwinding, since the normal path forgets it.
struct PanicGuard<'p, B: Deref<Target = CircuitBreaker>>(&'p mut Permit<B>);

impl<B: Deref<Target = CircuitBreaker>> Drop for PanicGuard<'_, B> {
    fn drop(&mut self) {
        self.0.settle(Outcome::Failure);
    }
}
