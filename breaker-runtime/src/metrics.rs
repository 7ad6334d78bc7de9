//! A snapshot of what a breaker has seen.

use std::time::Duration;

use crate::{State, window::Totals};

/// Counts over a breaker's rolling window, and its state, at one moment.
///
/// `calls` are the calls that ran to an outcome (`successes + failures`); `timeouts` are
/// included in `failures`; `rejections` (open or busy) are not calls and never count in
/// `error_percent`.
///
/// ```
/// use fusebox::{CircuitBreaker, Config, State};
///
/// let breaker = CircuitBreaker::new("cart", Config::default());
/// breaker.force_open();
/// let _ = breaker.call(|| Ok::<_, ()>(()));
/// let metrics = breaker.metrics();
/// assert_eq!(metrics.state, State::ForcedOpen);
/// assert_eq!((metrics.calls, metrics.rejections), (0, 1));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Metrics {
    /// The state.
    pub state: State,
    /// Calls that ran to an outcome.
    pub calls: u64,
    /// Calls that succeeded (including errors the failure predicate let pass).
    pub successes: u64,
    /// Calls that failed, timeouts and panics included.
    pub failures: u64,
    /// Calls that timed out.
    pub timeouts: u64,
    /// Calls rejected without running: open, half-open with its trials taken, or busy.
    pub rejections: u64,
    /// `failures * 100 / calls`, rounded down; 0 with no calls.
    pub error_percent: u64,
    /// How long the breaker has been in `state`.
    pub time_in_state: Duration,
}

impl Metrics {
    pub(crate) fn new(state: State, totals: &Totals, time_in_state: Duration) -> Metrics {
        let calls = totals.calls();
        Metrics {
            state,
            calls,
            successes: totals.successes,
            failures: totals.failures,
            timeouts: totals.timeouts,
            rejections: totals.rejections,
            error_percent: (totals.failures * 100).checked_div(calls).unwrap_or(0),
            time_in_state,
        }
    }
}
