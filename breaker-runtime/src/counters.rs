//! Counters since a breaker was created: what the rolling window has seen and let go of, plus
//! the events the window does not count (busy rejections, fallbacks served, transitions).
//!
//! None of them costs the call path anything: calls count into the window's buckets as they
//! always have, and a bucket's counts move into the window's running totals when the bucket is
//! emptied (see [`Window::since_creation`](crate::window::Window::since_creation)). Busy
//! rejections, fallbacks and transitions are counted where they happen, which is never on the
//! path of an admitted call.

use std::fmt;

use once_cell::race::OnceBox;

use crate::{
    State,
    sync::{AtomicU32, AtomicU64, Ordering},
    window::Totals,
};

/// What a breaker has seen since it was created: never reset, not by a transition and not by
/// [`reset`](crate::CircuitBreaker::reset) (which empties the rolling window), so that these
/// are counters in Prometheus's sense.
///
/// `calls` ran to an outcome (`successes + failures`; `timeouts` are among the failures);
/// `rejected` were turned away by an open circuit (or a half-open one with its trials
/// taken), `busy` by `max_concurrent`; `fallbacks` is how many times a fallback answered (the
/// attribute counts its fallbacks; code that serves its own calls
/// [`fallback_served`](crate::CircuitBreaker::fallback_served)); `retries` and
/// `retries_denied` are the retries made and refused by the budget (see
/// [`Retry`](crate::Retry)).
///
/// Read while calls are being counted, a snapshot may miss the outcomes being recorded at that
/// moment (the next one has them), and `rejected` and `busy` may each be off by the busy
/// rejections being counted then.
///
/// ```
/// use fusebox::{CircuitBreaker, Config, State};
///
/// let breaker = CircuitBreaker::new("cart", Config::builder().consecutive_failures(2).build()?);
/// for _ in 0..2 {
///     let _ = breaker.call(|| Err::<(), _>("refused"));
/// }
/// let _ = breaker.call(|| Ok::<_, ()>(())); // rejected: the circuit is open
/// breaker.reset();
///
/// let counters = breaker.metrics().counters;
/// assert_eq!((counters.calls, counters.failures, counters.rejected), (2, 2, 1));
/// assert_eq!(counters.transitions.count(State::Closed, State::Open), 1);
/// assert_eq!(breaker.metrics().calls, 0, "the window starts afresh; the counters do not");
/// # Ok::<(), fusebox::ConfigError>(())
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub struct Counters {
    /// Calls that ran to an outcome.
    pub calls: u64,
    /// Calls that succeeded (including errors the failure predicate let pass).
    pub successes: u64,
    /// Calls that failed, timeouts and panics included.
    pub failures: u64,
    /// Calls that timed out.
    pub timeouts: u64,
    /// Calls that took longer than `slow_call_ms` (also in `successes` or `failures`).
    pub slow: u64,
    /// Calls rejected by an open circuit, or a half-open one with its trial permits taken.
    pub rejected: u64,
    /// Calls rejected because `max_concurrent` calls were in flight.
    pub busy: u64,
    /// Calls a classifier said to count as neither success nor failure (the tower layer's
    /// `Verdict::Ignored`, `tower` feature); not in `calls`.
    pub ignored: u64,
    /// Fallbacks served.
    pub fallbacks: u64,
    /// Attempts made after a call's first (`retry`); each is also in `calls` or `rejected`.
    pub retries: u64,
    /// Retries the retry budget refused (`retry_budget`): the call's last error went back.
    pub retries_denied: u64,
    /// State changes, by the state left and the state entered.
    pub transitions: Transitions,
}

impl Counters {
    pub(crate) fn new(since_creation: &Totals, tallies: Option<&Tallies>) -> Counters {
        let busy = tallies.map_or(0, |t| t.busy.load(Ordering::Relaxed));
        Counters {
            calls: since_creation.calls(),
            successes: since_creation.successes,
            failures: since_creation.failures,
            timeouts: since_creation.timeouts,
            slow: since_creation.slow,
            rejected: since_creation.rejections.saturating_sub(busy),
            busy,
            ignored: tallies.map_or(0, |t| t.ignored.load(Ordering::Relaxed)),
            fallbacks: tallies.map_or(0, |t| t.fallbacks.load(Ordering::Relaxed)),
            retries: tallies.map_or(0, |t| t.retries.load(Ordering::Relaxed)),
            retries_denied: tallies.map_or(0, |t| t.retries_denied.load(Ordering::Relaxed)),
            transitions: tallies.map_or_else(Transitions::default, Tallies::transitions),
        }
    }
}

/// How many times a breaker went from each state to each other.
///
/// ```
/// use fusebox::{CircuitBreaker, Config, State};
///
/// let breaker = CircuitBreaker::new("cart", Config::default());
/// breaker.force_open();
/// breaker.release();
/// let transitions = breaker.metrics().counters.transitions;
/// assert_eq!(transitions.count(State::Closed, State::ForcedOpen), 1);
/// assert_eq!(
///     transitions.iter().collect::<Vec<_>>(),
///     [(State::Closed, State::ForcedOpen, 1), (State::ForcedOpen, State::Closed, 1)]
/// );
/// assert_eq!(transitions.total(), 2);
/// ```
///
/// With the `serde` feature it (de)serializes as a list of `{"from", "to", "count"}`, the pairs
/// that happened.
#[derive(Clone, Copy, Default, PartialEq, Eq)]
pub struct Transitions([[u32; STATES]; STATES]);

/// The number of [`State`]s.
const STATES: usize = State::ALL.len();

impl Transitions {
    /// How many times the breaker went from `from` to `to`.
    #[must_use]
    pub fn count(&self, from: State, to: State) -> u64 {
        u64::from(self.0[from.index()][to.index()])
    }

    /// Every pair of states the breaker went between, with how many times, in the order of
    /// [`State`]'s variants (from, then to).
    pub fn iter(&self) -> impl Iterator<Item = (State, State, u64)> + '_ {
        State::ALL.into_iter().flat_map(move |from| {
            State::ALL.into_iter().filter_map(move |to| {
                let count = self.count(from, to);
                (count > 0).then_some((from, to, count))
            })
        })
    }

    /// Every transition.
    #[must_use]
    pub fn total(&self) -> u64 {
        self.iter().map(|(_, _, count)| count).sum()
    }
}

impl fmt::Debug for Transitions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

#[cfg(feature = "serde")]
mod transitions_serde {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    use super::Transitions;
    use crate::State;

    #[derive(Serialize, Deserialize)]
    struct Pair {
        from: State,
        to: State,
        count: u64,
    }

    impl Serialize for Transitions {
        fn serialize<S: Serializer>(&self, to: S) -> Result<S::Ok, S::Error> {
            to.collect_seq(
                self.iter()
                    .map(|(from, to, count)| Pair { from, to, count }),
            )
        }
    }

    impl<'de> Deserialize<'de> for Transitions {
        fn deserialize<D: Deserializer<'de>>(from: D) -> Result<Self, D::Error> {
            let mut transitions = Transitions::default();
            for Pair { from, to, count } in Vec::<Pair>::deserialize(from)? {
                let cell = &mut transitions.0[from.index()][to.index()];
                *cell = cell.saturating_add(u32::try_from(count).unwrap_or(u32::MAX));
            }
            Ok(transitions)
        }
    }
}

/// The events a breaker counts outside its window. Allocated at the first one: a breaker that
/// is never busy, never falls back and never changes state does not pay for them.
#[derive(Default)]
pub(crate) struct Tallies {
    busy: AtomicU64,
    ignored: AtomicU64,
    fallbacks: AtomicU64,
    retries: AtomicU64,
    retries_denied: AtomicU64,
    transitions: [[AtomicU32; STATES]; STATES],
}

impl Tallies {
    fn transitions(&self) -> Transitions {
        Transitions(std::array::from_fn(|from| {
            std::array::from_fn(|to| self.transitions[from][to].load(Ordering::Relaxed))
        }))
    }
}

/// A breaker's [`Tallies`], in one pointer until the first event.
#[derive(Default)]
pub(crate) struct LazyTallies(OnceBox<Tallies>);

impl LazyTallies {
    pub(crate) fn get(&self) -> Option<&Tallies> {
        self.0.get()
    }

    fn tallies(&self) -> &Tallies {
        self.0.get_or_init(Box::default)
    }

    pub(crate) fn busy(&self) {
        self.tallies().busy.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn ignored(&self) {
        self.tallies().ignored.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn fallback(&self) {
        self.tallies().fallbacks.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn retry(&self) {
        self.tallies().retries.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn retry_denied(&self) {
        self.tallies()
            .retries_denied
            .fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn transition(&self, from: State, to: State) {
        // Four billion transitions of one breaker: stop there rather than wrap.
        let _ = self.tallies().transitions[from.index()][to.index()].fetch_update(
            Ordering::Relaxed,
            Ordering::Relaxed,
            |count| count.checked_add(1),
        );
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use std::time::Duration;

    use crate::{CircuitBreaker, Config, State, TestClock};

    /// The case the counters are for: after an outage the circuit has closed and its window is
    /// empty, but what happened is still there.
    #[test]
    fn an_outage_is_still_counted_after_the_circuit_closed() {
        let clock = TestClock::new();
        let breaker = CircuitBreaker::new(
            "recommendations",
            Config::builder()
                .request_volume_threshold(4)
                .sleep_window(Duration::from_secs(5))
                .build()
                .unwrap(),
        );
        breaker.set_clock(&clock);
        for _ in 0..4 {
            let _ = breaker.call(|| Err::<(), _>("timed out"));
        }
        for _ in 0..3 {
            let _ = breaker.call(|| Ok::<_, ()>(()));
        }
        clock.advance(Duration::from_secs(6));
        let _ = breaker.call(|| Ok::<_, ()>(())); // the trial: closes the circuit
        assert_eq!(breaker.state(), State::Closed);
        clock.advance(Duration::from_secs(20)); // every bucket has aged out, too
        let _ = breaker.call(|| Ok::<_, ()>(()));

        let metrics = breaker.metrics();
        assert_eq!(
            (metrics.calls, metrics.failures),
            (1, 0),
            "the window is new"
        );
        let counters = metrics.counters;
        assert_eq!(
            (
                counters.calls,
                counters.successes,
                counters.failures,
                counters.rejected
            ),
            (6, 2, 4, 3)
        );
        let transitions = counters.transitions;
        assert_eq!(
            transitions.iter().collect::<Vec<_>>(),
            [
                (State::Closed, State::Open, 1),
                (State::Open, State::HalfOpen, 1),
                (State::HalfOpen, State::Closed, 1),
            ]
        );
    }

    #[test]
    fn an_idle_breaker_allocates_no_tallies() {
        let breaker = CircuitBreaker::new("idle", Config::default());
        let _ = breaker.call(|| Ok::<_, ()>(()));
        assert!(breaker.extras.get().is_none());
        assert_eq!(breaker.metrics().counters.transitions.total(), 0);
    }
}
