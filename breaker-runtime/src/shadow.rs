//! Shadows: a candidate configuration that sees every outcome of a live breaker and never
//! decides.
//!
//! A shadow is a breaker of its own (state, window, clock), made silent: its transitions and
//! calls reach no listener of every breaker, no `tracing` event and no metric but its own
//! figures, so a would-be trip pages nobody. The live breaker offers it each call's outcome as
//! the call ends, with how long it ran; the shadow admits or refuses it as of when it started
//! (its end less its duration: the moment the live breaker admitted it), counts its outcome,
//! and counts what it would have refused. A call in flight when the shadow tripped was admitted
//! before, as the live breaker's were. A replay ([`simulate`](crate::simulate)) of the same
//! outcomes counts the same, but for one thing: it takes calls in order of time, starts and
//! ends, where a shadow hears of a call only as it ends. While a half-open trial runs long,
//! calls that arrive then are refused live and in a replay; a shadow, which has not heard of
//! the trial yet, may count them as calls it would have run. `max_concurrent` is not
//! shadowed (the shadow's calls are not in flight).
//!
//! A call the live breaker refused never ran: its outcome is unknown, and it is counted as such
//! rather than guessed; the shadow is asked only whether it would have refused it too (a
//! trial permit it would have given is given back). A call a classifier ignored is ignored
//! by the shadow too.

use std::{
    sync::{Arc, PoisonError, RwLock},
    time::Duration,
};

use crate::{
    CallKind, CircuitBreaker, Config, ConfigError, Name, PartialConfig, State, Transitions,
    admission::Permit,
    clock::Clock,
    config::millis,
    outcome::{Outcome, Ticket},
    sync::{AtomicU64, Ordering},
};

/// What a breaker offered another's call did with it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Offered {
    /// It would have run the call, and counted its outcome: this one (a timeout if the call
    /// ran past its `timeout_ms`).
    Ran(Outcome),
    /// It would have refused the call.
    Refused,
    /// The live breaker refused the call, and so would this one.
    RefusedUnknown,
    /// The live breaker refused the call, and this one would have run it: its outcome is not
    /// known, and nothing is counted (a trial permit it took is given back).
    Unknown,
    /// A classifier said the call is neither a success nor a failure: not offered.
    Ignored,
}

impl CircuitBreaker {
    /// A breaker that tells only its own listeners of its transitions and calls: a shadow, or a
    /// configuration in a replay.
    pub(crate) fn silent(name: impl Into<Name>, config: Config, clock: Clock) -> CircuitBreaker {
        let breaker = CircuitBreaker::on_clock(name, config, clock);
        breaker.extras.make_silent();
        breaker
    }

    /// Offers this breaker a call that ended now as `kind` after `duration` (when it was
    /// timed), as if the call were its own: admitted when it started (or refused, the
    /// rejection counted), its outcome counted now (a timeout if it ran past this breaker's
    /// `timeout_ms`, slow if past its `slow_call_ms`).
    pub(crate) fn offer(&self, kind: CallKind, duration: Option<Duration>) -> Offered {
        let Some(outcome) = outcome_of(kind) else {
            return self.offer_refused(kind);
        };
        let ran_ms = duration.map(millis);
        let started_ms = self.clock.now_ms().saturating_sub(ran_ms.unwrap_or(0));
        let Some(ticket) = self.admit_offered(started_ms) else {
            return Offered::Refused;
        };
        let outcome = cut_short(outcome, ran_ms, self.config.timeout());
        self.end_offered(ticket, outcome);
        Offered::Ran(outcome)
    }

    /// Offers this breaker a call another refused (or a classifier ignored), now: whether it
    /// would have refused it too. Admitted, the call has no outcome to count: its permit is
    /// dropped unsettled, which gives a trial permit back.
    pub(crate) fn offer_refused(&self, kind: CallKind) -> Offered {
        if kind == CallKind::Ignored {
            return Offered::Ignored;
        }
        match self.admit_offered(self.clock.now_ms()) {
            Some(ticket) => {
                drop(Permit::new(self, ticket, false));
                Offered::Unknown
            }
            None => Offered::RefusedUnknown,
        }
    }

    /// Admits an offered call that started at `started_ms`, as admission would have then (a
    /// bulkhead aside: offered calls are not in flight): its ticket, or `None` if this
    /// breaker refuses it (the rejection counted).
    pub(crate) fn admit_offered(&self, started_ms: u64) -> Option<Ticket> {
        let word = self.state.load();
        // Started before the circuit tripped, and in flight as it did: admitted in the closed
        // period, as the live breaker's calls in flight were, its outcome with no say in the
        // open one. (After a failed trial, a call that started while half-open was refused
        // unless it was the trial, which ended already.)
        if word.state() == State::Open && word.streak() == 0 && self.state.since_ms() > started_ms {
            let earlier =
                word.generation().wrapping_sub(1) & ((1 << crate::state::GENERATION_BITS) - 1);
            return Some(Ticket::normal(earlier).started(started_ms));
        }
        let ticket = if word.admits_freely() {
            Ticket::normal(word.generation())
        } else {
            self.admit_slow_at(word, started_ms).ok()?
        };
        // Started then, so that this breaker's own `slow_call_ms` judges it when it ends.
        Some(ticket.started(started_ms))
    }

    /// Counts the outcome of an offered call admitted with `ticket`, ending now.
    pub(crate) fn end_offered(&self, ticket: Ticket, outcome: Outcome) {
        Permit::new(self, ticket, false).finish(outcome);
    }
}

/// What a call that ended as `kind` counts as, if it ran.
pub(crate) const fn outcome_of(kind: CallKind) -> Option<Outcome> {
    match kind {
        CallKind::Success | CallKind::Slow => Some(Outcome::Success),
        CallKind::Failure => Some(Outcome::Failure),
        CallKind::Timeout => Some(Outcome::Timeout),
        CallKind::Rejected | CallKind::Busy | CallKind::Ignored => None,
    }
}

/// `outcome`, or a timeout if the call ran `ran_ms`, past `timeout`.
pub(crate) const fn cut_short(
    outcome: Outcome,
    ran_ms: Option<u64>,
    timeout: Option<Duration>,
) -> Outcome {
    match (ran_ms, timeout) {
        (Some(ran_ms), Some(limit)) if ran_ms > millis(limit) => Outcome::Timeout,
        _ => outcome,
    }
}

/// A live breaker's shadow: the candidate breaker and what it would have done.
pub(crate) struct Shadow {
    /// The keys it was declared with, over the live configuration.
    keys: PartialConfig,
    breaker: CircuitBreaker,
    successes_refused: AtomicU64,
    failures_refused: AtomicU64,
    failures_let_through: AtomicU64,
    unknown: AtomicU64,
    unknown_refused: AtomicU64,
}

impl Shadow {
    /// A shadow of `live` with `keys` over its configuration.
    fn new(live: &CircuitBreaker, keys: &PartialConfig) -> Result<Shadow, ConfigError> {
        let config = keys.over(&live.config())?;
        let breaker = CircuitBreaker::silent(live.name.clone(), config, live.clock.shared());
        Ok(Shadow {
            keys: *keys,
            breaker,
            successes_refused: AtomicU64::new(0),
            failures_refused: AtomicU64::new(0),
            failures_let_through: AtomicU64::new(0),
            unknown: AtomicU64::new(0),
            unknown_refused: AtomicU64::new(0),
        })
    }

    /// Hears of a call of the live breaker.
    pub(crate) fn hear(&self, kind: CallKind, duration: Option<Duration>) {
        let counter = match self.breaker.offer(kind, duration) {
            Offered::Ran(outcome) if outcome.is_failure() => &self.failures_let_through,
            Offered::Ran(_) | Offered::Ignored => return,
            Offered::Unknown => &self.unknown,
            Offered::RefusedUnknown => {
                self.unknown.fetch_add(1, Ordering::Relaxed);
                &self.unknown_refused
            }
            Offered::Refused if matches!(kind, CallKind::Success | CallKind::Slow) => {
                &self.successes_refused
            }
            Offered::Refused => &self.failures_refused,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    fn metrics(&self) -> ShadowMetrics {
        let metrics = self.breaker.metrics();
        ShadowMetrics {
            state: metrics.state,
            config: self.breaker.config(),
            successes_refused: self.successes_refused.load(Ordering::Relaxed),
            failures_refused: self.failures_refused.load(Ordering::Relaxed),
            failures_let_through: self.failures_let_through.load(Ordering::Relaxed),
            unknown: self.unknown.load(Ordering::Relaxed),
            unknown_refused: self.unknown_refused.load(Ordering::Relaxed),
            transitions: metrics.counters.transitions,
        }
    }
}

/// What a breaker's shadow would have done with the calls it heard of, since it was declared:
/// [`Metrics::shadow`](crate::Metrics::shadow).
///
/// With the `serde` feature it serializes with the configuration as a table of its keys.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub struct ShadowMetrics {
    /// The shadow's state.
    pub state: State,
    /// Its configuration: the live one, with the shadow's keys over it.
    pub config: Config,
    /// Calls that succeeded and the shadow would have refused.
    pub successes_refused: u64,
    /// Calls that failed (or timed out) and the shadow would have refused.
    pub failures_refused: u64,
    /// Calls that failed (or timed out by its `timeout_ms`) and the shadow would have let
    /// through.
    pub failures_let_through: u64,
    /// Calls the live breaker refused: they never ran, and their outcome is not known.
    pub unknown: u64,
    /// Of those, the calls the shadow would have refused too. (The others it would have run,
    /// to an outcome nobody knows: they are counted nowhere else.)
    pub unknown_refused: u64,
    /// The transitions the shadow made.
    pub transitions: Transitions,
}

impl ShadowMetrics {
    /// Every call the shadow would have refused.
    #[must_use]
    pub const fn refusals(&self) -> u64 {
        self.successes_refused + self.failures_refused + self.unknown_refused
    }
}

/// A breaker's shadow, if it has one: read by each call it hears of, replaced whole.
#[derive(Default)]
pub(crate) struct ShadowSlot(RwLock<Option<Arc<Shadow>>>);

impl ShadowSlot {
    fn get(&self) -> Option<Arc<Shadow>> {
        self.0
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Calls `hear` with the shadow, if there is one, under the read lock (without the two
    /// atomic counts an `Arc` clone and drop would add to every call the shadow hears of).
    fn with(&self, hear: impl FnOnce(&Shadow)) {
        if let Some(shadow) = &*self.0.read().unwrap_or_else(PoisonError::into_inner) {
            hear(shadow);
        }
    }

    fn replace(&self, shadow: Option<Arc<Shadow>>) -> Option<Arc<Shadow>> {
        std::mem::replace(
            &mut *self.0.write().unwrap_or_else(PoisonError::into_inner),
            shadow,
        )
    }
}

impl CircuitBreaker {
    /// Runs a candidate configuration in this breaker's shadow: `keys` over the configuration
    /// in force. The shadow sees the outcome of every call from now on and never decides; its
    /// figures are in [`Metrics::shadow`](crate::Metrics::shadow), and
    /// [`promote_shadow`](Self::promote_shadow) puts its configuration in force. Declaring the
    /// keys the shadow already has keeps it as it is (`false`); other keys start a new one (a
    /// fresh window, closed: `true`).
    ///
    /// While a breaker has a shadow, each of its calls is timed on the coarse clock (so the
    /// shadow can judge `slow_call_ms` and `timeout_ms` of its own) and takes the calls'
    /// listeners' path, which costs tens of nanoseconds per call; without one, a call pays
    /// nothing for shadows (admission reads one word for what it observes, as before).
    ///
    /// # Errors
    /// [`ConfigError`] if `keys` over the configuration in force are not a valid one.
    ///
    /// ```
    /// use fusebox::{CircuitBreaker, Config, PartialConfig, State};
    ///
    /// let breaker = CircuitBreaker::new("search", Config::default());
    /// let mut stricter = PartialConfig::new();
    /// stricter.consecutive_failures = Some(2);
    /// breaker.set_shadow(&stricter)?;
    /// for _ in 0..2 {
    ///     let _ = breaker.call(|| Err::<(), _>("down"));
    /// }
    /// let shadow = breaker.metrics().shadow.expect("a shadow");
    /// assert_eq!((breaker.state(), shadow.state), (State::Closed, State::Open));
    /// let _ = breaker.call(|| Ok::<_, &str>(()));
    /// assert_eq!(breaker.metrics().shadow.unwrap().successes_refused, 1);
    /// # Ok::<(), fusebox::ConfigError>(())
    /// ```
    pub fn set_shadow(&self, keys: &PartialConfig) -> Result<bool, ConfigError> {
        let parts = self.extras.made();
        if let Some(shadow) = parts.shadow.get()
            && shadow.keys == *keys
            && keys.over(&self.config())? == shadow.breaker.config()
        {
            return Ok(false);
        }
        parts
            .shadow
            .replace(Some(Arc::new(Shadow::new(self, keys)?)));
        self.config.shadow(true);
        Ok(true)
    }

    /// Ends this breaker's shadow, if it had one; `true` if it did.
    pub fn remove_shadow(&self) -> bool {
        let Some(parts) = self.extras.get() else {
            return false;
        };
        self.config.shadow(false);
        parts.shadow.replace(None).is_some()
    }

    /// Puts the shadow's configuration in force, as
    /// [`reconfigure`](Self::reconfigure) does (the window and the state are kept; overrides
    /// leave the breaker alone from then on), and ends the shadow. The configuration it put in
    /// force, or `None` if the breaker had no shadow.
    ///
    /// ```
    /// use fusebox::{CircuitBreaker, Config, PartialConfig};
    ///
    /// let breaker = CircuitBreaker::new("ratings", Config::default());
    /// let mut keys = PartialConfig::new();
    /// keys.error_threshold = Some(25);
    /// breaker.set_shadow(&keys)?;
    /// let promoted = breaker.promote_shadow().expect("a shadow");
    /// assert_eq!(breaker.config().error_threshold(), 25);
    /// assert_eq!(promoted, breaker.config());
    /// assert!(breaker.metrics().shadow.is_none());
    /// # Ok::<(), fusebox::ConfigError>(())
    /// ```
    pub fn promote_shadow(&self) -> Option<Config> {
        let shadow = self.extras.get()?.shadow.get()?;
        self.remove_shadow();
        // The live breaker's keys set by code stay its own.
        let config = shadow.breaker.config().with_set_of(&self.config());
        self.reconfigure(config);
        Some(config)
    }

    /// Tells the shadow, if there is one, of a call that ended as `kind`.
    pub(crate) fn tell_shadow(&self, kind: CallKind, duration: Option<Duration>) {
        if let Some(parts) = self.extras.get() {
            parts.shadow.with(|shadow| shadow.hear(kind, duration));
        }
    }

    /// The shadow's figures, if the breaker has one.
    pub(crate) fn shadow_metrics(&self) -> Option<ShadowMetrics> {
        Some(self.extras.get()?.shadow.get()?.metrics())
    }
}
