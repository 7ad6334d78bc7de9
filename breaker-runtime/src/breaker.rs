//! The circuit breaker: the public type and its API. A call reads top-down from here:
//! [admission](crate::admission) → the operation → [the trip rules](crate::trip) → the
//! [state machine](crate::state) → [listeners](crate::transition).

use std::{fmt, time::Duration};

use crate::{
    CallEvent, CallKind, Config, Failure, Metrics, Name, State, Transition,
    clock::Clock,
    config::LiveConfig,
    counters::Counters,
    extras::Extras,
    outcome::Outcome,
    state::{StateWord, Transitioned},
    transition::EVERY_BREAKER,
    tripwires::Tripwires,
    window::Window,
};

/// A circuit breaker: runs calls while they succeed, rejects them at once while the operation
/// behind it is failing, and probes it with trial calls to find out when it has recovered.
///
/// One breaker guards one operation (one host, one endpoint, one key); share it by reference or
/// in an `Arc`, or put it in the [`registry`](crate::registry), which hands out `Arc`s. Every
/// method takes `&self` and is safe to call from any number of threads.
///
/// # Closed
/// Calls run. Their outcomes go into a rolling window of [`Config::window_buckets`] buckets
/// covering [`Config::window`]. After each outcome, if the window holds at least
/// [`Config::request_volume_threshold`] calls and at least [`Config::error_threshold`] percent
/// of them failed, or at least [`Config::slow_call_threshold`] percent of them were slower than
/// [`Config::slow_call`] (when set), or [`Config::consecutive_failures`] failures came in a row,
/// the breaker trips.
///
/// The buckets are aligned with the clock: bucket periods start at multiples of
/// `window_ms / window_buckets` milliseconds, and the window is the current bucket and the
/// `window_buckets - 1` before it. So an outcome stays in the window for between
/// (n − 1)/n × `window_ms` and `window_ms` (n buckets), depending on when in its bucket's
/// period it came, as Hystrix's rolling statistics do.
///
/// # Open
/// Calls are rejected with [`BreakerError::Open`](crate::BreakerError::Open) without running. Once
/// its sleep window has passed, the next call moves it to half-open (there is no background
/// thread: the first call after the sleep window does it). The sleep window is
/// [`Config::sleep_window`]; with [`Config::sleep_window_max`] each re-opening after a failed
/// half-open period doubles it, up to that maximum, until the circuit closes; with
/// [`Config::sleep_window_jitter`] each is lengthened by a random share, drawn at the opening.
///
/// # Half-open
/// At most [`Config::half_open_max_calls`] trial calls are admitted; the others are rejected as
/// open. A failed (or slow) trial opens the circuit again for a new sleep window; once that many
/// trials have succeeded it closes with an empty window. A trial call that is dropped before it
/// finishes gives its permit back to the next caller. With [`Config::half_open_max_wait`], a
/// half-open period with every trial taken for that long ends as a failed one (the next caller
/// finds it open again); without it, a trial that never finishes (a sync call that hangs) keeps
/// the circuit half-open and every other call rejected.
///
/// # Generations
/// Each state period has a generation, and an outcome only counts in the period its call was
/// admitted in: a slow success admitted before the circuit opened does not close it, and a late
/// failure does not re-open a circuit that has closed since. (Under concurrency, an outcome
/// being recorded during the few nanoseconds of a transition may still land in the new
/// period's statistics; it never causes a transition by itself. Two outcomes recorded at the
/// same instant that trip the breaker together do trip it, on weakly ordered processors such
/// as `AArch64` too: the counts are added and read in one sequentially consistent order.)
///
/// # Outcomes
/// `Ok` is a success and `Err` a failure, unless [`call_with`](Self::call_with)'s predicate
/// says an error is not one. A panic is a failure and keeps unwinding. A timed-out async call
/// ([`Config::timeout`]) is a failure and a timeout. A future dropped before it finished
/// records nothing and gives back its trial permit and bulkhead slot. Rejections (open, or
/// [`Config::max_concurrent`] reached) are counted apart and never in the error rate.
///
/// # Operators
/// [`force_open`](Self::force_open), [`force_closed`](Self::force_closed),
/// [`release`](Self::release) and [`reset`](Self::reset), as Hystrix's `forceOpen` and
/// `forceClosed` properties and Resilience4j's `transitionTo…` methods.
///
/// ```
/// use fusebox::{BreakerError, CircuitBreaker, Config, Failure, State};
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
/// # Ok::<(), fusebox::ConfigError>(())
/// ```
pub struct CircuitBreaker {
    pub(crate) state: StateWord,
    pub(crate) config: LiveConfig,
    pub(crate) window: Window,
    pub(crate) tripwires: Tripwires,
    pub(crate) name: Name,
    pub(crate) clock: Clock,
    /// Listeners, rare counts, the bulkhead and the fleet tie: made at the first one needed.
    pub(crate) extras: Extras,
}

impl CircuitBreaker {
    /// A closed breaker named `name` (a `&'static str`, or a `String` or `Arc<str>` that the
    /// breaker keeps and frees with itself: see [`Name`]).
    ///
    /// An idle breaker with the default 10-bucket window takes about 310 bytes, its own size
    /// included (`cargo bench -p benchmarks --bench memory`), and does not grow with the number
    /// of threads that call it one after another; threads that call it at once give it
    /// contention cells (see [`Keyed`](crate::Keyed) for many breakers).
    ///
    /// The breaker is not registered; see [`registry::register`](crate::registry::register).
    ///
    /// ```
    /// use fusebox::{CircuitBreaker, Config, State};
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
        CircuitBreaker::on_clock(name, config, Clock::default())
    }

    /// A closed breaker that reads `clock` from its first moment: its closed period starts at
    /// that clock's now (a breaker given a test clock after it was made started on the system
    /// clock's).
    pub(crate) fn on_clock(name: impl Into<Name>, config: Config, clock: Clock) -> Self {
        CircuitBreaker {
            state: StateWord::new(clock.now_ms()),
            window: Window::new(config.window_ms(), config.window_buckets()),
            config: LiveConfig::new(config),
            tripwires: Tripwires::new(&config),
            name: name.into(),
            clock,
            extras: Extras::new(),
        }
    }

    /// The breaker's name.
    #[must_use]
    pub fn name(&self) -> &str {
        self.name.as_str()
    }

    /// The configuration in force: the one the breaker was made with, or the last one put in
    /// force by [`reconfigure`](Self::reconfigure) or by
    /// [`registry::apply`](crate::registry::apply).
    #[must_use]
    pub fn config(&self) -> Config {
        self.config.load()
    }

    /// Puts `config` in force from the next call, keeping the state, the window's counts and
    /// the failures in a row, and makes later [`Overrides`](crate::Overrides) leave this
    /// breaker alone: a configuration set in code at run time is the last word.
    ///
    /// - New thresholds judge the window as it is: if the failures already in it cross them,
    ///   the next call's outcome trips the breaker.
    /// - A new `half_open_max_calls` or `half_open_max_wait_ms` applies to a half-open circuit
    ///   from the next call (trials already admitted run on). A new `sleep_window_ms`,
    ///   `sleep_window_max_ms` or `sleep_window_jitter` applies to an open circuit from the next
    ///   call: its sleep window is drawn again, counted from when it opened.
    /// - A new `slow_call_ms` times calls admitted from then on.
    /// - A new `window_ms` or `window_buckets` re-buckets the window's counts: each bucket
    ///   still inside the new window keeps its counts, in the new bucket holding the moment it
    ///   started; a smaller window drops what falls outside it. The bucket array is never
    ///   reallocated (calls index it without a lock): asked for more buckets than it was made
    ///   with, a breaker keeps the window's length exact and counts it in the most buckets its
    ///   array holds that divide it. [`config`](Self::config) shows what was asked for.
    /// - A new `consecutive_failures` starts the count of failures in a row afresh.
    /// - A new `max_concurrent` or `timeout_ms` applies to calls admitted from then on.
    ///
    /// ```
    /// use fusebox::{CircuitBreaker, Config, State};
    ///
    /// let breaker = CircuitBreaker::new("quotes", Config::default());
    /// for _ in 0..3 {
    ///     let _ = breaker.call(|| Err::<(), _>("timeout"));
    /// }
    /// assert_eq!(breaker.state(), State::Closed); // 3 calls, under the volume threshold of 20
    ///
    /// breaker.reconfigure(Config::builder().request_volume_threshold(3).build()?);
    /// assert_eq!(breaker.config().request_volume_threshold(), 3);
    /// assert_eq!(breaker.metrics().failures, 3, "the window is kept");
    /// let _ = breaker.call(|| Err::<(), _>("timeout"));
    /// assert_eq!(breaker.state(), State::Open);
    /// # Ok::<(), fusebox::ConfigError>(())
    /// ```
    pub fn reconfigure(&self, config: Config) {
        self.config.mark_reconfigured();
        self.put_in_force(config);
    }

    /// Whether [`reconfigure`](Self::reconfigure) has set this breaker's configuration.
    #[cfg_attr(not(feature = "serde"), allow(dead_code))] // read by `registry::apply`
    pub(crate) fn is_reconfigured(&self) -> bool {
        self.config.is_reconfigured()
    }

    /// Puts `config` in force (see [`reconfigure`](Self::reconfigure)).
    pub(crate) fn put_in_force(&self, config: Config) {
        let now = self.clock.now_ms();
        let mut before = config;
        // Under the window's lock, so that two changes at once do not mix their keys.
        self.window
            .reshape(config.window_ms(), config.window_buckets(), now, || {
                before = self.config.load();
                self.config.store(config);
            });
        self.config_changed(&before, now);
    }

    /// The current state.
    ///
    /// An open breaker whose sleep window has passed still reads `Open` until a call moves it
    /// to half-open.
    #[must_use]
    pub fn state(&self) -> State {
        self.state.load().state()
    }

    /// Counts over the rolling window, as of now.
    ///
    /// ```
    /// use fusebox::{CircuitBreaker, Config};
    ///
    /// let breaker = CircuitBreaker::new("geo", Config::default());
    /// let _ = breaker.call(|| Ok::<_, ()>(()));
    /// let _ = breaker.call(|| Err::<(), _>(()));
    /// let metrics = breaker.metrics();
    /// assert_eq!((metrics.calls, metrics.failures, metrics.error_percent), (2, 1, 50));
    /// ```
    #[must_use]
    pub fn metrics(&self) -> Metrics {
        let now = self.clock.now_ms();
        let totals = self.window.totals(now);
        let since = self.state.since_ms();
        let mut metrics = Metrics::new(
            self.state(),
            &totals,
            Duration::from_millis(now.saturating_sub(since)),
            Counters::new(
                &self.window.since_creation(),
                self.extras.get().and_then(|extras| extras.tallies.get()),
            ),
        );
        metrics.fleet = self.fleet_view(now, metrics.counters.calls);
        metrics.latency = self
            .extras
            .get()
            .and_then(crate::extras::Parts::latency_if_made)
            .map(crate::latency::Histogram::summary);
        metrics.shadow = self.shadow_metrics();
        metrics
    }

    /// What the breaker knows of the fleet: its view, once it joined one; for a breaker with
    /// `fleet = true` that joined none, a view that says whether fleet mode was started at all
    /// (without it, the breaker decides alone: a key that silently did nothing would lie).
    pub(crate) fn fleet_view(&self, now: u64, calls: u64) -> Option<crate::FleetView> {
        #[cfg(feature = "redis")]
        if let Some(link) = self.extras.fleet() {
            return Some(link.view(now, calls));
        }
        let _ = (now, calls);
        #[cfg(feature = "redis")]
        let started = crate::fleet_view::is_started();
        #[cfg(not(feature = "redis"))]
        let started = false;
        self.config
            .fleet()
            .then(|| crate::FleetView::not_joined(started))
    }

    /// Counts a fallback served for a call of this breaker, in
    /// [`Counters::fallbacks`](crate::Counters::fallbacks). `#[circuit_breaker]`'s fallbacks
    /// are counted for you; code that serves its own, after [`call`](Self::call) failed, says
    /// so here.
    ///
    /// ```
    /// use fusebox::{CircuitBreaker, Config};
    ///
    /// let breaker = CircuitBreaker::new("prices", Config::default());
    /// breaker.force_open();
    /// let price = breaker.call(|| Ok::<_, ()>(12)).unwrap_or_else(|_| {
    ///     breaker.fallback_served();
    ///     10 // the last known price
    /// });
    /// assert_eq!((price, breaker.metrics().counters.fallbacks), (10, 1));
    /// ```
    pub fn fallback_served(&self) {
        self.extras.made().tallies.fallback();
    }

    /// Calls `listener` on every state change of this breaker. Listeners stay for the breaker's
    /// life; see [`Transition`] for when they run.
    pub fn on_transition(&self, listener: impl Fn(&Transition) + Send + Sync + 'static) {
        self.extras.made().listeners.add(Box::new(listener));
    }

    /// Calls `listener` after every call of this breaker with what became of it (a
    /// [`CallEvent`]): its success, failure, timeout or slowness, or its refusal. Listeners
    /// stay for the breaker's life and run on the calling thread, after the outcome is counted
    /// (before a refused call's error is returned), so they must be quick: a channel's `send`,
    /// a counter. A listener that panics unwinds into the call. A breaker no listener hears
    /// pays nothing for them on a call that runs (admission reads one word that says what to
    /// observe, as it did for `slow_call_ms` alone), and a refused call pays one relaxed load.
    ///
    /// ```
    /// use std::sync::{Arc, Mutex};
    /// use fusebox::{CallKind, CircuitBreaker, Config};
    ///
    /// let breaker = CircuitBreaker::new("on-call-doc", Config::default());
    /// let kinds = Arc::new(Mutex::new(Vec::new()));
    /// let seen = Arc::clone(&kinds);
    /// breaker.on_call(move |event| seen.lock().unwrap().push(event.kind));
    /// let _ = breaker.call(|| Ok::<_, ()>(1));
    /// let _ = breaker.call(|| Err::<(), _>("down"));
    /// breaker.force_open();
    /// let _ = breaker.call(|| Ok::<_, ()>(2));
    /// assert_eq!(
    ///     *kinds.lock().unwrap(),
    ///     [CallKind::Success, CallKind::Failure, CallKind::Rejected]
    /// );
    /// ```
    pub fn on_call(&self, listener: impl Fn(&CallEvent<'_>) + Send + Sync + 'static) {
        self.extras.made().call_listeners.add(Box::new(listener));
        self.config.listen();
    }

    /// Keeps a call in the trace (`record`), and tells the call listeners, this breaker's and
    /// every breaker's, of it.
    #[cold]
    #[inline(never)]
    pub(crate) fn called(&self, kind: CallKind, duration: Option<std::time::Duration>) {
        let observed = self.config.observed();
        if observed & crate::config::OBSERVE_RECORDED != 0 {
            let now = self.clock.now_ms();
            self.extras.made().trace(now).push(now, kind, duration);
        }
        if observed & crate::config::OBSERVE_SHADOWED != 0 {
            self.tell_shadow(kind, duration);
        }
        if !self.heard_by_listeners() {
            return;
        }
        let event = CallEvent {
            name: self.name(),
            kind,
            duration,
        };
        if let Some(extras) = self.extras.get() {
            extras.call_listeners.each(|listener| listener(&event));
        }
        crate::call_event::EVERY_CALL.each(|listener| listener(&event));
    }

    /// The latency histogram, if the breaker ever timed a call (`record_latency`).
    #[cfg(feature = "metrics")]
    pub(crate) fn latency_histogram(&self) -> Option<&crate::latency::Histogram> {
        self.extras.get()?.latency_if_made()
    }

    /// From now on, this breaker's calls are reported (a listener of every breaker's calls).
    pub(crate) fn listen_to_calls(&self) {
        self.config.listen();
    }

    /// Whether a call listener hears this breaker's calls, or its trace or its shadow does.
    fn heard(&self) -> bool {
        self.config.observed() & crate::config::OBSERVE_KEPT != 0 || self.heard_by_listeners()
    }

    /// Whether a call listener hears this breaker's calls: its own, or every breaker's.
    fn heard_by_listeners(&self) -> bool {
        crate::call_event::EVERY_CALL.any()
            || self
                .extras
                .get()
                .is_some_and(|extras| extras.call_listeners.any())
    }

    /// Tells the call listeners of a call turned away: busy, or rejected.
    #[cold]
    #[inline(never)]
    pub(crate) fn refused(&self, busy: bool, state: Option<State>) {
        let kind = if busy {
            CallKind::Busy
        } else {
            CallKind::Rejected
        };
        #[cfg(feature = "tracing")]
        if self.config.observed() & crate::config::OBSERVE_TRACED != 0 {
            let span = crate::span::for_call(self.name(), state.unwrap_or(State::Closed));
            span.record("outcome", kind.as_str());
        }
        #[cfg(not(feature = "tracing"))]
        let _ = state;
        self.called(kind, None);
    }

    /// Tells the call listeners of a call that ran, with ticket `ticket`, to `outcome`.
    #[cold]
    #[inline(never)]
    pub(crate) fn ran(&self, ticket: crate::outcome::Ticket, outcome: Outcome) {
        if !self.heard() {
            return;
        }
        // How long it ran, in microseconds: on the fine clock, or the coarse one's milliseconds.
        let micros = if ticket.is_fine() {
            Some(ticket.elapsed_us(self.clock.now_us()))
        } else {
            ticket
                .elapsed_ms(self.clock.now_ms())
                .map(|millis| millis * 1000)
        };
        let slow = micros.is_some_and(|micros| self.is_slow(micros / 1000));
        let kind = match outcome {
            Outcome::Success if slow => CallKind::Slow,
            Outcome::Success => CallKind::Success,
            Outcome::Failure => CallKind::Failure,
            Outcome::Timeout => CallKind::Timeout,
        };
        self.called(kind, micros.map(std::time::Duration::from_micros));
    }

    /// Runs `operation` through the breaker; every `Err` counts as a failure.
    ///
    /// # Errors
    /// [`Failure::Breaker`] if the breaker rejected the call (it did not run), or
    /// [`Failure::Error`] with the operation's own error.
    ///
    /// ```
    /// use fusebox::{CircuitBreaker, Config};
    ///
    /// let breaker = CircuitBreaker::new("prices", Config::default());
    /// assert_eq!(breaker.call(|| Ok::<_, std::io::Error>(42)).unwrap(), 42);
    /// ```
    #[inline]
    pub fn call<T, E>(&self, operation: impl FnOnce() -> Result<T, E>) -> Result<T, Failure<E>> {
        self.call_with(operation, every_error)
    }

    /// Runs `operation` through the breaker; an `Err` counts as a failure only if `is_failure`
    /// says so. An error it lets pass (the backend answered, "not found" say) counts as a
    /// success and is still returned to the caller.
    ///
    /// # Errors
    /// As [`call`](Self::call).
    ///
    /// ```
    /// use fusebox::{CircuitBreaker, Config, Failure};
    ///
    /// #[derive(Debug)]
    /// enum Lookup { NotFound, Unreachable }
    ///
    /// let breaker = CircuitBreaker::new("users", Config::builder().consecutive_failures(1).build()?);
    /// let answer = breaker.call_with(|| Err::<(), _>(Lookup::NotFound), |e| matches!(e, Lookup::Unreachable));
    /// assert!(matches!(answer, Err(Failure::Error(Lookup::NotFound))));
    /// assert_eq!(breaker.metrics().successes, 1);
    /// # Ok::<(), fusebox::ConfigError>(())
    /// ```
    #[inline]
    pub fn call_with<T, E>(
        &self,
        operation: impl FnOnce() -> Result<T, E>,
        is_failure: impl FnOnce(&E) -> bool,
    ) -> Result<T, Failure<E>> {
        let mut permit = self
            .admit()
            .map_err(|refusal| Failure::Breaker(self.rejection(refusal)))?;
        #[cfg(feature = "tracing")]
        if permit.ticket().is_traced() {
            return crate::span::call_traced(self, permit, operation, is_failure);
        }
        let result = permit.run(operation);
        permit.finish(Outcome::of(&result, is_failure));
        result.map_err(Failure::Error)
    }

    /// Opens the circuit until [`release`](Self::release) or [`reset`](Self::reset): every call
    /// is rejected and it never half-opens by itself.
    pub fn force_open(&self) {
        let moved = self.state.transition_to_forced_open(self.clock.now_ms());
        self.report(moved);
    }

    /// Closes the circuit until [`release`](Self::release) or [`reset`](Self::reset): every call
    /// runs and is counted in the metrics, and it never trips.
    pub fn force_closed(&self) {
        let moved = self.state.transition_to_forced_closed(self.clock.now_ms());
        self.report(moved);
    }

    /// Ends [`force_open`](Self::force_open) or [`force_closed`](Self::force_closed): the breaker
    /// closes and judges calls again, keeping the window (outcomes counted while forced closed
    /// still count). Does nothing when the breaker is not forced.
    pub fn release(&self) {
        let moved = self.state.transition_to_released(self.clock.now_ms());
        if moved.is_some() {
            self.tripwires.restart();
        }
        self.report(moved);
    }

    /// Returns the breaker to a new start from any state: closed, with an empty window.
    pub fn reset(&self) {
        let moved = self.state.transition_to_reset(self.clock.now_ms());
        self.empty_window();
        self.report(moved);
    }

    /// Makes this breaker read time from `clock` instead of the system clock. Returns `false`
    /// (and changes nothing) if a clock was already set.
    #[cfg(feature = "test-util")]
    #[cfg_attr(docsrs, doc(cfg(feature = "test-util")))]
    pub fn set_clock(&self, clock: &crate::TestClock) -> bool {
        self.clock.set(clock)
    }
}

/// The predicate of `call` and `call_async`: every `Err` is a failure.
#[inline]
pub(crate) fn every_error<E>(_: &E) -> bool {
    true
}

impl CircuitBreaker {
    /// Reports a transition the state machine made, if it made one.
    #[inline]
    pub(crate) fn report(&self, moved: Option<Transitioned>) {
        if let Some(moved) = moved {
            self.report_transition(moved);
        }
    }

    /// Tells `tracing`, this breaker's listeners, then every breaker's.
    #[cold]
    #[inline(never)]
    fn report_transition(&self, Transitioned { from, to }: Transitioned) {
        let extras = self.extras.made();
        extras.tallies.transition(from, to);
        let transition = Transition {
            name: self.name.clone(),
            from,
            to,
        };
        if extras.is_silent() {
            // A shadow, or a replay: its own listeners only, so that it pages nobody.
            extras.listeners.notify(&transition);
            return;
        }
        #[cfg(feature = "tracing")]
        {
            if to.is_open() {
                tracing::warn!(breaker = %transition.name, %from, %to, "circuit breaker opened");
            } else {
                tracing::info!(breaker = %transition.name, %from, %to, "circuit breaker changed state");
            }
        }
        extras.listeners.notify(&transition);
        EVERY_BREAKER.notify(&transition);
    }
}

impl fmt::Debug for CircuitBreaker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CircuitBreaker")
            .field("name", &self.name)
            .field("state", &self.state())
            .field("config", &self.config())
            .finish_non_exhaustive()
    }
}
