//! A snapshot of what a breaker has seen.

use std::time::Duration;

use crate::{Counters, FleetView, State, window::Totals};

/// Counts over a breaker's rolling window, and its state, at one moment; and in `counters`,
/// what it has seen since it was created.
///
/// `calls` are the calls that ran to an outcome (`successes + failures`); `timeouts` are
/// included in `failures`; `rejections` (open or busy) are not calls and never count in
/// `error_percent`. The window empties when a circuit closes (a new closed period starts from
/// nothing) and as its buckets age out; the [`Counters`] never do.
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
///
/// With the `serde` feature it (de)serializes with `time_in_state` as `time_in_state_ms`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
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
    /// Calls that took longer than `slow_call_ms` (also in `successes` or `failures`); 0
    /// without `slow_call_ms`.
    pub slow_calls: u64,
    /// `slow_calls * 100 / calls`, rounded down; 0 with no calls.
    pub slow_call_percent: u64,
    /// How long the breaker has been in `state`.
    #[cfg_attr(
        feature = "serde",
        serde(rename = "time_in_state_ms", with = "whole_millis")
    )]
    pub time_in_state: Duration,
    /// Counts since the breaker was created.
    pub counters: Counters,
    /// What the breaker knows of the fleet, when it syncs with one (fleet mode, feature
    /// `redis`); `None` otherwise.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub fleet: Option<FleetView>,
}

impl Metrics {
    pub(crate) fn new(
        state: State,
        totals: &Totals,
        time_in_state: Duration,
        counters: Counters,
    ) -> Metrics {
        let calls = totals.calls();
        Metrics {
            state,
            calls,
            successes: totals.successes,
            failures: totals.failures,
            timeouts: totals.timeouts,
            rejections: totals.rejections,
            error_percent: percent_of(totals.failures, calls),
            slow_calls: totals.slow,
            slow_call_percent: percent_of(totals.slow, calls),
            time_in_state,
            counters,
            fleet: None,
        }
    }
}

/// `part * 100 / calls`, rounded down; 0 with no calls: every percent a snapshot shows.
pub(crate) fn percent_of(part: u64, calls: u64) -> u64 {
    (part * 100).checked_div(calls).unwrap_or(0)
}

/// A duration as whole milliseconds, the unit of every duration in the configuration.
#[cfg(feature = "serde")]
mod whole_millis {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(duration: &Duration, to: S) -> Result<S::Ok, S::Error> {
        to.serialize_u64(u64::try_from(duration.as_millis()).unwrap_or(u64::MAX))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(from: D) -> Result<Duration, D::Error> {
        u64::deserialize(from).map(Duration::from_millis)
    }
}
