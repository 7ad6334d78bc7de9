//! The circuit breaker: admission, outcomes and transitions.

use std::{fmt, future::Future, time::Duration};

use crate::{
    BreakerError, CallAsync, Config, Failure, Metrics, Name, State, Transition, clock,
    permit::{Permit, Ticket},
    state::Word,
    sync::{AtomicU64, CacheLine, Ordering},
    transition::{self, Listeners},
    window::{Outcome, Totals, Window},
};

/// A circuit breaker: runs calls while they succeed, rejects them at once while the operation
/// behind it is failing, and probes it with trial calls to find out when it has recovered.
///
/// One breaker guards one operation (one host, one endpoint, one key); share it by reference or
/// in an `Arc`, or put it in the [`registry`](crate::registry) to get a `&'static` one. Every
/// method takes `&self` and is safe to call from any number of threads.
///
/// # Closed
/// Calls run. Their outcomes go into a rolling window of [`Config::window_buckets`] buckets
/// covering [`Config::window_ms`]. After each outcome, if the window holds at least
/// [`Config::request_volume_threshold`] calls and at least [`Config::error_threshold`] percent
/// of them failed, or [`Config::consecutive_failures`] failures came in a row, the breaker trips.
///
/// # Open
/// Calls are rejected with [`BreakerError::Open`] without running. Once
/// [`Config::sleep_window_ms`] has passed since it opened, the next call moves it to half-open
/// (there is no background thread: the first call after the sleep window does it).
///
/// # Half-open
/// At most [`Config::half_open_max_calls`] trial calls are admitted; the others are rejected as
/// open. A failed trial opens the circuit again for a new sleep window; once that many trials
/// have succeeded it closes with an empty window. A trial call that is dropped before it
/// finishes gives its permit back to the next caller.
///
/// # Generations
/// Each state period has a generation, and an outcome only counts in the period its call was
/// admitted in: a slow success admitted before the circuit opened does not close it, and a late
/// failure does not re-open a circuit that has closed since. (Under concurrency, an outcome
/// being recorded during the few nanoseconds of a transition may still land in the new
/// period's statistics; it never causes a transition by itself. And on weakly ordered
/// processors such as `AArch64`, when two outcomes recorded at the same instant each just miss
/// the other's count, the trip they would have made together is made by the next outcome:
/// ordering every count for this would cost every call a fence.)
///
/// # Outcomes
/// `Ok` is a success and `Err` a failure, unless [`call_with`](Self::call_with)'s predicate
/// says an error is not one. A panic is a failure and keeps unwinding. A timed-out async call
/// ([`Config::timeout_ms`]) is a failure and a timeout. A future dropped before it finished
/// records nothing and gives back its trial permit and bulkhead slot. Rejections (open, or
/// [`Config::max_concurrent`] reached) are counted apart and never in the error rate.
///
/// # Operators
/// [`force_open`](Self::force_open), [`force_closed`](Self::force_closed),
/// [`release`](Self::release) and [`reset`](Self::reset), as Hystrix's `forceOpen` and
/// `forceClosed` properties and Resilience4j's `transitionTo…` methods.
///
/// ```
/// use breaker_runtime::{BreakerError, CircuitBreaker, Config, Failure, State};
///
/// let breaker = CircuitBreaker::new("inventory", Config::builder()
///     .error_threshold(50)
///     .request_volume_threshold(4)
///     .build()?);
///
/// for _ in 0..2 {
///     let _ = breaker.call(|| Ok::<_, &str>("in stock"));
///     let _ = breaker.call(|| Err::<&str, _>("connection refused"));
/// }
/// // Four calls, half of them failed: the breaker is open and answers for the backend.
/// assert_eq!(breaker.state(), State::Open);
/// let rejected = breaker.call(|| Ok::<_, &str>("never runs"));
/// assert!(matches!(rejected, Err(Failure::Breaker(BreakerError::Open { .. }))));
/// # Ok::<(), breaker_runtime::ConfigError>(())
/// ```
pub struct CircuitBreaker {
    /// Read by every call, written only by transitions.
    state: AtomicU64,
    config: Config,
    window: Window,
    /// Until when successes must check the error rate: the time the newest failure that left
    /// enough failures in the window to trip on successes alone ages out (see `note_failure`).
    failure_expiry: AtomicU64,
    /// Failures in a row, when `consecutive_failures` is set.
    consecutive: CacheLine<AtomicU64>,
    /// Calls in flight, when `max_concurrent` is set.
    in_flight: CacheLine<AtomicU64>,
    /// When the current state was entered (for `Metrics::time_in_state`).
    state_since_ms: AtomicU64,
    name: Name,
    listeners: Listeners,
    #[cfg(feature = "test-util")]
    clock: std::sync::OnceLock<crate::TestClock>,
}

impl CircuitBreaker {
    /// A closed breaker named `name` (a `&'static str`, or a `String` or `Arc<str>`, which is
    /// interned: see [`Name`]).
    ///
    /// The breaker is not registered; see [`registry::register`](crate::registry::register).
    ///
    /// ```
    /// use breaker_runtime::{CircuitBreaker, Config, State};
    ///
    /// let hosts = ["10.0.0.1", "10.0.0.2"];
    /// let breakers: Vec<CircuitBreaker> = hosts
    ///     .iter()
    ///     .map(|host| CircuitBreaker::new(format!("catalog@{host}"), Config::default()))
    ///     .collect();
    /// assert_eq!(breakers[1].name(), "catalog@10.0.0.2");
    /// assert_eq!(breakers[1].state(), State::Closed);
    /// ```
    pub fn new(name: impl Into<Name>, config: Config) -> Self {
        CircuitBreaker {
            state: AtomicU64::new(Word::INITIAL.0),
            window: Window::new(config.window_ms(), config.window_buckets()),
            config,
            failure_expiry: AtomicU64::new(0),
            consecutive: CacheLine(AtomicU64::new(0)),
            in_flight: CacheLine(AtomicU64::new(0)),
            state_since_ms: AtomicU64::new(clock::system_now_ms()),
            name: name.into(),
            listeners: Listeners::new(),
            #[cfg(feature = "test-util")]
            clock: std::sync::OnceLock::new(),
        }
    }

    /// The breaker's name.
    #[must_use]
    pub fn name(&self) -> &'static str {
        self.name.as_str()
    }

    /// The breaker's configuration.
    #[must_use]
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The current state.
    ///
    /// An open breaker whose sleep window has passed still reads `Open` until a call moves it
    /// to half-open.
    #[must_use]
    pub fn state(&self) -> State {
        Word(self.state.load(Ordering::Acquire)).state()
    }

    /// Counts over the rolling window, as of now.
    ///
    /// ```
    /// use breaker_runtime::{CircuitBreaker, Config};
    ///
    /// let breaker = CircuitBreaker::new("geo", Config::default());
    /// let _ = breaker.call(|| Ok::<_, ()>(()));
    /// let _ = breaker.call(|| Err::<(), _>(()));
    /// let metrics = breaker.metrics();
    /// assert_eq!((metrics.calls, metrics.failures, metrics.error_percent), (2, 1, 50));
    /// ```
    #[must_use]
    pub fn metrics(&self) -> Metrics {
        let now = self.now_ms();
        let totals = self.window.totals(now);
        let since = self.state_since_ms.load(Ordering::Relaxed);
        Metrics::new(
            self.state(),
            &totals,
            Duration::from_millis(now.saturating_sub(since)),
        )
    }

    /// Calls `listener` on every state change of this breaker. Listeners stay for the breaker's
    /// life; see [`Transition`] for when they run.
    pub fn on_transition(&self, listener: impl Fn(&Transition) + Send + Sync + 'static) {
        self.listeners.add(Box::new(listener));
    }

    /// Runs `operation` through the breaker; every `Err` counts as a failure.
    ///
    /// # Errors
    /// [`Failure::Breaker`] if the breaker rejected the call (it did not run), or
    /// [`Failure::Error`] with the operation's own error.
    ///
    /// ```
    /// use breaker_runtime::{CircuitBreaker, Config};
    ///
    /// let breaker = CircuitBreaker::new("prices", Config::default());
    /// assert_eq!(breaker.call(|| Ok::<_, std::io::Error>(42)).unwrap(), 42);
    /// ```
    #[inline]
    pub fn call<T, E>(&self, operation: impl FnOnce() -> Result<T, E>) -> Result<T, Failure<E>> {
        self.call_with(operation, |_| true)
    }

    /// Runs `operation` through the breaker; an `Err` counts as a failure only if `is_failure`
    /// says so. An error it lets pass (the backend answered, "not found" say) counts as a
    /// success and is still returned to the caller.
    ///
    /// # Errors
    /// As [`call`](Self::call).
    ///
    /// ```
    /// use breaker_runtime::{CircuitBreaker, Config, Failure};
    ///
    /// #[derive(Debug)]
    /// enum Lookup { NotFound, Unreachable }
    ///
    /// let breaker = CircuitBreaker::new("users", Config::builder().consecutive_failures(1).build()?);
    /// let answer = breaker.call_with(|| Err::<(), _>(Lookup::NotFound), |e| matches!(e, Lookup::Unreachable));
    /// assert!(matches!(answer, Err(Failure::Error(Lookup::NotFound))));
    /// assert_eq!(breaker.metrics().successes, 1);
    /// # Ok::<(), breaker_runtime::ConfigError>(())
    /// ```
    #[inline]
    pub fn call_with<T, E>(
        &self,
        operation: impl FnOnce() -> Result<T, E>,
        is_failure: impl FnOnce(&E) -> bool,
    ) -> Result<T, Failure<E>> {
        let mut permit = self.admit()?;
        let result = permit.run(operation);
        permit.finish(classify(&result, is_failure));
        result.map_err(Failure::Error)
    }

    /// Runs the future `operation` through the breaker; every `Err` counts as a failure.
    ///
    /// The call is admitted when the returned future is first polled. It works on any executor;
    /// with the `tokio` feature and [`Config::timeout_ms`] set, an operation still running after
    /// the timeout is abandoned (dropped with the returned future) and the call fails with
    /// [`BreakerError::Timeout`] (this needs a Tokio runtime with its timer enabled, as
    /// `tokio::time::timeout` does). Dropping the returned future before it finishes records
    /// nothing and frees its permits.
    ///
    /// # Errors
    /// The future resolves as [`call`](Self::call) returns, plus [`BreakerError::Timeout`].
    ///
    /// ```
    /// use breaker_runtime::{CircuitBreaker, Config};
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
        CallAsync::new(self, operation, |_: &E| true)
    }

    /// [`call_async`](Self::call_async) with a failure predicate, as
    /// [`call_with`](Self::call_with).
    ///
    /// # Errors
    /// As [`call_async`](Self::call_async).
    ///
    /// ```
    /// use breaker_runtime::{CircuitBreaker, Config};
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

    /// Opens the circuit until [`release`](Self::release) or [`reset`](Self::reset): every call
    /// is rejected and it never half-opens by itself.
    pub fn force_open(&self) {
        self.move_to(|word| (word.state() != State::ForcedOpen).then(|| word.forced_open()));
    }

    /// Closes the circuit until [`release`](Self::release) or [`reset`](Self::reset): every call
    /// runs and is counted in the metrics, and it never trips.
    pub fn force_closed(&self) {
        self.move_to(|word| (word.state() != State::ForcedClosed).then(|| word.forced_closed()));
    }

    /// Ends [`force_open`](Self::force_open) or [`force_closed`](Self::force_closed): the breaker
    /// closes and judges calls again, keeping the window (outcomes counted while forced closed
    /// still count). Does nothing when the breaker is not forced.
    pub fn release(&self) {
        let released = self.move_to(|word| {
            matches!(word.state(), State::ForcedOpen | State::ForcedClosed).then(|| word.closed())
        });
        if released {
            self.consecutive.store(0, Ordering::Relaxed);
        }
    }

    /// Returns the breaker to a new start from any state: closed, with an empty window.
    pub fn reset(&self) {
        self.move_to(|word| Some(word.closed()));
        self.window.clear();
        self.consecutive.store(0, Ordering::Relaxed);
    }

    /// Makes this breaker read time from `clock` instead of the system clock. Returns `false`
    /// (and changes nothing) if a clock was already set.
    #[cfg(feature = "test-util")]
    pub fn set_clock(&self, clock: &crate::TestClock) -> bool {
        self.clock.set(clock.clone()).is_ok()
    }

    /// The one clock reading a call makes.
    #[inline]
    #[cfg_attr(not(feature = "test-util"), allow(clippy::unused_self))]
    fn now_ms(&self) -> u64 {
        #[cfg(feature = "test-util")]
        if let Some(clock) = self.clock.get() {
            return test_clock_now(clock);
        }
        clock::system_now_ms()
    }

    /// Admits a call, or says why not. The closed path is one load of the state word.
    // Always inlined: returned through memory, the 48-byte result costs more than the
    // admission itself (measured in `benches/compare.rs`).
    #[allow(clippy::inline_always)]
    #[inline(always)]
    pub(crate) fn admit(&self) -> Result<Permit<'_>, BreakerError> {
        let word = Word(self.state.load(Ordering::Acquire));
        let ticket = if word.admits_freely() {
            Ticket::normal(word.generation())
        } else {
            self.admit_slow(word)
                .map_err(|refusal| refusal.into_error(self.name))?
        };
        let permit = Permit::new(self, ticket);
        if let Some(limit) = self.config.max_concurrent() {
            // Counted before the check, so that two callers cannot both see room for one.
            if self.in_flight.fetch_add(1, Ordering::Acquire) >= limit {
                drop(permit); // gives back the slot, and the trial permit if it took one
                self.window.record_rejection(self.now_ms());
                return Err(BreakerError::Busy {
                    name: self.name,
                    max_concurrent: limit,
                });
            }
        }
        Ok(permit)
    }

    /// Admission when the circuit is not closed: open, half-open or forced open.
    #[cold]
    #[inline(never)]
    fn admit_slow(&self, word: Word) -> Result<Ticket, Refusal> {
        let now = self.now_ms();
        // An open circuit inside its sleep window, by far the most frequent case here, is
        // answered before the transition loop, on a path short enough to keep rejections cheap.
        if word.state() == State::Open
            && let Some(refusal) = self.reject_while_asleep(word, now)
        {
            return Err(refusal);
        }
        self.admit_or_move(word, now)
    }

    /// Rejects a call to the open circuit `word` describes if its sleep window has not passed
    /// at `now`; `None` once it has.
    // Always inlined: the common rejection is this, and out of line it costs a call.
    #[allow(clippy::inline_always)]
    #[inline(always)]
    fn reject_while_asleep(&self, word: Word, now: u64) -> Option<Refusal> {
        let open_for = word.open_for(now);
        let sleep = self.config.sleep_window_ms();
        (open_for < sleep).then(|| self.reject(now, State::Open, sleep - open_for))
    }

    /// Admits a trial call, moving the breaker to half-open if its sleep window has passed, or
    /// rejects; retries when another thread changes the state word first.
    #[inline(never)]
    fn admit_or_move(&self, mut word: Word, now: u64) -> Result<Ticket, Refusal> {
        loop {
            let next = match word.state() {
                State::Closed | State::ForcedClosed => {
                    return Ok(Ticket::normal(word.generation()));
                }
                State::ForcedOpen => return Err(self.reject(now, State::ForcedOpen, 0)),
                State::Open => {
                    if let Some(refusal) = self.reject_while_asleep(word, now) {
                        return Err(refusal);
                    }
                    word.half_opened()
                }
                State::HalfOpen => {
                    if word.trials() >= self.config.half_open_max_calls() {
                        return Err(self.reject(now, State::HalfOpen, 0));
                    }
                    word.with_trials(word.trials() + 1, word.trial_successes())
                }
            };
            match self.swap(word, next) {
                Ok(()) => {
                    if next.generation() != word.generation() {
                        self.transitioned(word, next, now);
                    }
                    return Ok(Ticket::trial(next.generation()));
                }
                Err(actual) => word = actual,
            }
        }
    }

    /// Counts a rejection and says why; `retry_in_ms` is 0 when that is not known in advance.
    #[inline]
    fn reject(&self, now: u64, state: State, retry_in_ms: u64) -> Refusal {
        self.window.record_rejection(now);
        Refusal {
            state,
            // At most `sleep_window_ms`, which is at most a day: it fits.
            retry_in_ms: u32::try_from(retry_in_ms).unwrap_or(u32::MAX),
        }
    }

    /// Gives back the trial permit of a call dropped without an outcome, if it took one.
    pub(crate) fn give_back(&self, ticket: Ticket) {
        if !ticket.trial {
            return;
        }
        let mut word = Word(self.state.load(Ordering::Acquire));
        while word.state() == State::HalfOpen
            && word.generation() == ticket.generation
            && word.trials() > 0
        {
            let next = word.with_trials(word.trials() - 1, word.trial_successes());
            match self.swap(word, next) {
                Ok(()) => return,
                Err(actual) => word = actual,
            }
        }
    }

    /// How long an async call may run, if [`Config::timeout_ms`] is set.
    pub(crate) fn timeout(&self) -> Option<Duration> {
        self.config.timeout_ms().map(Duration::from_millis)
    }

    /// The error of a call that ran past its [`timeout`](Self::timeout).
    pub(crate) fn timed_out(&self) -> BreakerError {
        BreakerError::Timeout {
            name: self.name,
            after: self.timeout().unwrap_or_default(),
        }
    }

    /// Frees the bulkhead slot an admitted call held.
    pub(crate) fn leave(&self) {
        self.in_flight.fetch_sub(1, Ordering::Release);
    }

    /// Counts a finished call's outcome and makes the transition it calls for, if any.
    #[inline]
    pub(crate) fn record(&self, ticket: Ticket, outcome: Outcome) {
        let now = self.now_ms();
        let word = Word(self.state.load(Ordering::Acquire));
        if word.generation() != ticket.generation {
            return; // admitted in an earlier period: it has no say in this one
        }
        // The path nearly every call takes, kept small enough to inline into the caller.
        if outcome == Outcome::Success && !ticket.trial {
            self.window.record(now, outcome);
            if word.state() == State::Closed {
                self.closed_success(word, now);
            }
            return; // forced closed: counted, never trips
        }
        self.record_rare(ticket, outcome, word, now);
    }

    /// Failures, timeouts and trial outcomes.
    #[inline(never)]
    fn record_rare(&self, ticket: Ticket, outcome: Outcome, word: Word, now: u64) {
        let bucket_start = self.window.record(now, outcome);
        // A failure is followed by a look at the whole window, whatever the state: the rate
        // decides a trip in Closed, and failures counted while forced closed or half-open are
        // still in the window after `release`.
        let totals = outcome
            .is_failure()
            .then(|| self.note_failure(bucket_start, now));
        if ticket.trial {
            self.settle_trial(word, outcome, now);
        } else if word.state() == State::Closed
            && let Some(totals) = totals
        {
            self.closed_failure(word, &totals, now);
        }
        // Forced closed: counted above, never trips.
    }

    /// After a failure counted into the bucket at `bucket_start`: if the window now holds
    /// enough failures that successes alone could trip it (failures × 100 ≥ threshold ×
    /// volume), successes must check the rate until this failure ages out. A success can only
    /// trip the breaker when that holds, and the failures in the window at any later moment
    /// are a subset of those counted here, so below it successes need not look.
    fn note_failure(&self, bucket_start: u64, now: u64) -> Totals {
        let totals = self.window.totals(now);
        if totals.failures * 100
            >= self.config.error_threshold() * self.config.request_volume_threshold()
        {
            let expiry = self.window.expiry_of(bucket_start);
            // Only write the shared line when the value moves; successes read it on every call.
            if self.failure_expiry.load(Ordering::Relaxed) < expiry {
                self.failure_expiry.fetch_max(expiry, Ordering::Relaxed);
            }
        }
        totals
    }

    fn closed_failure(&self, word: Word, totals: &Totals, now: u64) {
        if let Some(limit) = self.config.consecutive_failures()
            && self.consecutive.fetch_add(1, Ordering::Relaxed) + 1 >= limit
        {
            self.trip(word, now);
            return;
        }
        self.trip_on_error_rate(word, totals, now);
    }

    #[inline]
    fn closed_success(&self, word: Word, now: u64) {
        if self.config.consecutive_failures().is_some()
            && self.consecutive.load(Ordering::Relaxed) != 0
        {
            self.consecutive.store(0, Ordering::Relaxed);
        }
        // The error rate is only worth computing when the window holds enough failures to trip
        // on: a success then may bring it up to the volume threshold, or old successes may have
        // aged out under it. Otherwise it cannot trip.
        if now < self.failure_expiry.load(Ordering::Relaxed) {
            self.check_error_rate(word, now);
        }
    }

    #[cold]
    #[inline(never)]
    fn check_error_rate(&self, word: Word, now: u64) {
        self.trip_on_error_rate(word, &self.window.totals(now), now);
    }

    fn trip_on_error_rate(&self, word: Word, totals: &Totals, now: u64) {
        let calls = totals.calls();
        if calls >= self.config.request_volume_threshold()
            && totals.failures * 100 >= self.config.error_threshold() * calls
        {
            self.trip(word, now);
        }
    }

    /// Closed → Open, if the breaker is still in the period `word` describes.
    fn trip(&self, word: Word, now: u64) {
        let opened = word.opened(now);
        if self.swap(word, opened).is_ok() {
            self.transitioned(word, opened, now);
        }
    }

    /// Applies a trial call's outcome: one failure re-opens; the last needed success closes.
    fn settle_trial(&self, mut word: Word, outcome: Outcome, now: u64) {
        let generation = word.generation();
        loop {
            let next = if outcome.is_failure() {
                word.opened(now)
            } else if word.trial_successes() + 1 >= self.config.half_open_max_calls() {
                // Every trial has succeeded, so none is still running to count into the window:
                // empty it before closing, and the new period starts from nothing.
                self.window.clear();
                self.consecutive.store(0, Ordering::Relaxed);
                word.closed()
            } else {
                word.with_trials(word.trials(), word.trial_successes() + 1)
            };
            match self.swap(word, next) {
                Ok(()) => {
                    if next.generation() != generation {
                        self.transitioned(word, next, now);
                    }
                    return;
                }
                Err(actual)
                    if actual.state() == State::HalfOpen && actual.generation() == generation =>
                {
                    word = actual;
                }
                Err(_) => return, // an operator moved the breaker meanwhile
            }
        }
    }

    /// An operator's transition: applies `to` to the current word until it sticks. Returns
    /// whether a transition was made.
    fn move_to(&self, to: impl Fn(Word) -> Option<Word>) -> bool {
        let mut word = Word(self.state.load(Ordering::Acquire));
        loop {
            let Some(next) = to(word) else {
                return false;
            };
            match self.swap(word, next) {
                Ok(()) => {
                    self.transitioned(word, next, self.now_ms());
                    return true;
                }
                Err(actual) => word = actual,
            }
        }
    }

    fn swap(&self, current: Word, next: Word) -> Result<(), Word> {
        self.state
            .compare_exchange(current.0, next.0, Ordering::AcqRel, Ordering::Acquire)
            .map(drop)
            .map_err(Word)
    }

    fn transitioned(&self, from: Word, to: Word, now: u64) {
        self.state_since_ms.store(now, Ordering::Relaxed);
        if from.state() == to.state() {
            return; // a new period of the same state (reset while closed): nothing to report
        }
        transition::report(
            &self.listeners,
            &Transition {
                breaker: self.name,
                from: from.state(),
                to: to.state(),
            },
        );
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

/// Kept out of line, so that a build with `test-util` keeps the system clock's path as short as
/// a build without it.
#[cfg(feature = "test-util")]
#[cold]
#[inline(never)]
fn test_clock_now(clock: &crate::TestClock) -> u64 {
    clock.now_ms()
}

pub(crate) fn classify<T, E>(
    result: &Result<T, E>,
    is_failure: impl FnOnce(&E) -> bool,
) -> Outcome {
    match result {
        Err(error) if is_failure(error) => Outcome::Failure,
        _ => Outcome::Success,
    }
}

impl fmt::Debug for CircuitBreaker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CircuitBreaker")
            .field("name", &self.name)
            .field("state", &self.state())
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}
