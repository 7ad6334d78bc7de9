//! Every registered breaker's figures through the [`metrics`](https://docs.rs/metrics) facade,
//! for whichever recorder the application installed (Prometheus, `StatsD`, `OpenTelemetry`…).
//!
//! The call path pushes nothing: [`publish`] reads each breaker's own counters (the ones
//! [`CircuitBreaker::metrics`](crate::CircuitBreaker::metrics) returns) and sets the facade's
//! counters and gauges to them. Call it before each scrape or export, or let
//! [`spawn_publisher`] call it every few seconds.
//!
//! | metric | type | labels | value |
//! |---|---|---|---|
//! | `breaker_calls_total` | counter | `breaker`, `kind` | calls since the breaker was created, by `kind`: `successful`, `failed` (failures other than timeouts), `timeout`, `rejected` (open), `busy` (`max_concurrent`), `ignored` (neither, by a tower classifier) |
//! | `breaker_fallbacks_total` | counter | `breaker` | fallbacks served |
//! | `breaker_retries_total` | counter | `breaker` | attempts after a call's first (`retry`; each also in `breaker_calls_total`) |
//! | `breaker_retries_denied_total` | counter | `breaker` | retries the retry budget refused (`retry_budget`) |
//! | `breaker_shadow_refusals_total` | counter | `breaker`, `kind` (`success`, `failure`) | calls the breaker's shadow would have refused, since it was declared (a breaker with a shadow only) |
//! | `breaker_transitions_total` | counter | `breaker`, `from`, `to` | state changes, per pair that happened |
//! | `breaker_state` | gauge | `breaker`, `state` | 1 for the current state, 0 for the four others |
//! | `breaker_slow_calls_total` | counter | `breaker` | calls slower than `slow_call_ms` since the breaker was created (also counted by their outcome in `breaker_calls_total`) |
//! | `breaker_failure_rate` | gauge | `breaker` | failed calls in the rolling window, in percent (0 with no calls) |
//! | `breaker_slow_call_rate` | gauge | `breaker` | slow calls in the rolling window, in percent (0 with no calls, or without `slow_call_ms`) |
//! | `breaker_window_calls` | gauge | `breaker` | calls in the rolling window |
//! | `breaker_shed_ratio` | gauge | `breaker` | the share of the window's calls refused (0 to 1; `Metrics::shed_percent` / 100) |
//! | `breaker_call_duration_seconds` | histogram | `breaker`, `kind` | with `record_latency`: how long calls took, by `kind` (`successful`, `failed`, `timeout`); each publication records the calls timed since the last, each at the middle of its bucket of the breaker's histogram (within 12.5 %), so the exporter's buckets or quantiles see them |
//! | `breaker_fleet_started` | gauge | `breaker` | for a breaker with `fleet = true`: 1 when the process runs fleet mode, 0 when it does not (the breaker decides alone) |
//! | `breaker_fleet_*` | | `breaker` | the fleet view of a fleet-mode breaker: `stale`, `open`, `instances`, `failing_instances`, `failure_rate`, `pending_outcomes`, `outcomes_total{kind}`, `sync_faults_total{kind}` |
//!
//! States are `closed`, `open`, `half_open`, `forced_open` and `forced_closed`
//! ([`State::as_str`]). The kinds add up to every call the breaker was asked to make, so
//! `sum by (breaker) (rate(breaker_calls_total[1m]))` is its request rate. The label is
//! `breaker`, never `name`, as Resilience4j's `name` would clash with other libraries' labels.
//!
//! In the `breaker` label, `%` is written `%25` and `\` is written `%5C`; every other
//! character is the name's own (decode it as percent-encoding to get the name back). Names
//! can come from request data (a [`Keyed`](crate::Keyed) family's keys), and distinct
//! breakers must stay distinct series: `metrics-exporter-prometheus` (0.18) takes a backslash
//! before a quote or a line feed for an escape already written and passes it through, so
//! without this `a\"b` and `a"b` would be one series. With no backslash left, its escaping
//! of quotes and line feeds is one-to-one, and so is this.
//!
//! A breaker removed from the registry is no longer published; what the recorder does with its
//! last values is the recorder's choice (Prometheus's exporter can drop idle series).
//!
//! ```
//! // With a recorder installed (for example `metrics_exporter_prometheus`), this sets its
//! // counters and gauges; without one, it does nothing.
//! let breaker = fusebox::registry::get_or_register("quotes", fusebox::Config::default());
//! let _ = breaker.call(|| Ok::<_, ()>(()));
//! fusebox::metrics::publish();
//! ```
//!
//! [`Metrics`], what one breaker has seen (the answer of
//! [`CircuitBreaker::metrics`](crate::CircuitBreaker::metrics)), lives
//! here too: it is what the publisher publishes, and it is always there, feature or not.

#[cfg(feature = "metrics")]
mod publish;

#[cfg(all(feature = "metrics", feature = "tokio"))]
pub use publish::spawn_publisher;
#[cfg(feature = "metrics")]
pub use publish::{publish, publish_one};

use std::time::Duration;

use crate::{Counters, FleetView, State, fleet_view::percent_of, window::Totals};

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
    /// The share of the calls asked for in the window that were refused,
    /// `rejections * 100 / (calls + rejections)`, rounded down: what the breaker sheds (the
    /// adaptive policy's figure, and the threshold policy's too); 0 with no calls.
    pub shed_percent: u64,
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
    /// How long its calls take, with `record_latency` (once a call was timed); `None`
    /// otherwise.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub latency: Option<crate::Latency>,
    /// What the breaker's shadow would have done, when it has one
    /// ([`CircuitBreaker::set_shadow`](crate::CircuitBreaker::set_shadow), or `[shadow."<name>"]`
    /// in the overrides); `None` otherwise.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub shadow: Option<crate::ShadowMetrics>,
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
            shed_percent: percent_of(totals.rejections, calls + totals.rejections),
            time_in_state,
            counters,
            fleet: None,
            latency: None,
            shadow: None,
        }
    }
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
