//! The publisher: every registered breaker's figures set on the `metrics` facade's counters
//! and gauges (see the [module](super)).

use metrics::{
    Unit, counter, describe_counter, describe_gauge, describe_histogram, gauge, histogram,
};

use crate::{CircuitBreaker, State, registry};

/// Sets the metrics of every registered breaker to its current figures.
///
/// Counters are set with `absolute`, so publishing twice, or from two places, counts nothing
/// twice. It takes the registry's lock only to list the breakers, and each breaker's figures
/// are read without stopping its calls.
pub fn publish() {
    describe();
    for breaker in registry::all() {
        publish_one(&breaker);
    }
}

/// Sets the metrics of one breaker (registered or not) to its current figures, as [`publish`]
/// does for each registered breaker.
///
/// ```
/// use fusebox::{CircuitBreaker, Config};
///
/// let breaker = CircuitBreaker::new("inventory@10.0.0.7", Config::default());
/// fusebox::metrics::publish_one(&breaker);
/// ```
pub fn publish_one(breaker: &CircuitBreaker) {
    let name = label(breaker.name());
    let metrics = breaker.metrics();
    let counters = &metrics.counters;
    for (kind, count) in [
        ("successful", counters.successes),
        // A timeout being recorded may be read before its failure: never below zero.
        (
            "failed",
            counters.failures.saturating_sub(counters.timeouts),
        ),
        ("timeout", counters.timeouts),
        ("rejected", counters.rejected),
        ("busy", counters.busy),
        ("ignored", counters.ignored),
    ] {
        counter!("breaker_calls_total", "breaker" => name.clone(), "kind" => kind).absolute(count);
    }
    counter!("breaker_fallbacks_total", "breaker" => name.clone()).absolute(counters.fallbacks);
    counter!("breaker_retries_total", "breaker" => name.clone()).absolute(counters.retries);
    counter!("breaker_retries_denied_total", "breaker" => name.clone())
        .absolute(counters.retries_denied);
    counter!("breaker_slow_calls_total", "breaker" => name.clone()).absolute(counters.slow);
    if let Some(shadow) = &metrics.shadow {
        // Counted since the shadow was declared: a new shadow starts again from zero.
        for (kind, count) in [
            ("success", shadow.successes_refused),
            ("failure", shadow.failures_refused),
        ] {
            counter!("breaker_shadow_refusals_total", "breaker" => name.clone(), "kind" => kind)
                .absolute(count);
        }
    }
    for (from, to, count) in counters.transitions.iter() {
        counter!(
            "breaker_transitions_total",
            "breaker" => name.clone(), "from" => from.as_str(), "to" => to.as_str()
        )
        .absolute(count);
    }
    for state in State::ALL {
        let current = if state == metrics.state { 1.0 } else { 0.0 };
        gauge!("breaker_state", "breaker" => name.clone(), "state" => state.as_str()).set(current);
    }
    gauge!("breaker_failure_rate", "breaker" => name.clone())
        .set(percent(metrics.failures, metrics.calls));
    gauge!("breaker_slow_call_rate", "breaker" => name.clone())
        .set(percent(metrics.slow_calls, metrics.calls));
    // Calls in a window are far below 2^52: the conversion is exact.
    #[allow(clippy::cast_precision_loss)]
    gauge!("breaker_window_calls", "breaker" => name.clone()).set(metrics.calls as f64);
    gauge!("breaker_shed_ratio", "breaker" => name.clone())
        .set(percent(metrics.rejections, metrics.calls + metrics.rejections) / 100.0);
    if let Some(fleet) = metrics.fleet {
        publish_fleet(&name, &fleet);
    }
    if let Some(latency) = breaker.latency_histogram() {
        // What was timed since the last publication, each bucket's count as samples at its
        // middle: the exporter's own buckets (or quantiles) then see the calls to within the
        // histogram's 12.5 %.
        latency.export(|kind, seconds, count| {
            histogram!(
                "breaker_call_duration_seconds",
                "breaker" => name.clone(), "kind" => kind
            )
            .record_many(seconds, usize::try_from(count).unwrap_or(usize::MAX));
        });
    }
}

/// `name` as the `breaker` label: `%` as `%25`, `\` as `%5C` (see the [module](self)).
fn label(name: &str) -> String {
    let mut label = String::with_capacity(name.len());
    for c in name.chars() {
        match c {
            '%' => label.push_str("%25"),
            '\\' => label.push_str("%5C"),
            c => label.push(c),
        }
    }
    label
}

/// A fleet-mode breaker's view of the fleet: `breaker_fleet_*`; for a breaker with
/// `fleet = true` in a process that runs no fleet, `breaker_fleet_started` 0 and stale.
// Counts far below 2^52: the conversions are exact.
#[allow(clippy::cast_precision_loss)]
fn publish_fleet(name: &str, fleet: &crate::FleetView) {
    let name = name.to_owned();
    gauge!("breaker_fleet_started", "breaker" => name.clone())
        .set(f64::from(u8::from(fleet.started)));
    gauge!("breaker_fleet_stale", "breaker" => name.clone()).set(f64::from(u8::from(fleet.stale)));
    gauge!("breaker_fleet_open", "breaker" => name.clone()).set(f64::from(u8::from(
        fleet.state != crate::FleetState::Closed,
    )));
    gauge!("breaker_fleet_instances", "breaker" => name.clone()).set(fleet.instances as f64);
    gauge!("breaker_fleet_failing_instances", "breaker" => name.clone())
        .set(fleet.failing_instances as f64);
    gauge!("breaker_fleet_failure_rate", "breaker" => name.clone())
        .set(percent(fleet.failures, fleet.calls));
    gauge!("breaker_fleet_pending_outcomes", "breaker" => name.clone()).set(fleet.pending as f64);
    for (kind, count) in [("synced", fleet.synced), ("expired", fleet.expired)] {
        counter!("breaker_fleet_outcomes_total", "breaker" => name.clone(), "kind" => kind)
            .absolute(count);
    }
    for (kind, count) in [
        ("error", fleet.sync_errors),
        ("bad_reply", fleet.bad_replies),
        ("reseed", fleet.reseeds),
    ] {
        counter!("breaker_fleet_sync_faults_total", "breaker" => name.clone(), "kind" => kind)
            .absolute(count);
    }
}

/// `part` of the window's `calls` in percent, unrounded; 0 with no calls.
// Window counts are far below 2^52: the conversions are exact.
#[allow(clippy::cast_precision_loss)]
fn percent(part: u64, calls: u64) -> f64 {
    if calls == 0 {
        0.0
    } else {
        part as f64 * 100.0 / calls as f64
    }
}

/// Tells the recorder what each metric means (recorders that keep descriptions keep the last
/// one, so describing at every publication is harmless).
fn describe() {
    describe_histogram!(
        "breaker_call_duration_seconds",
        Unit::Seconds,
        "How long the calls of a circuit breaker with record_latency took, by outcome"
    );
    describe_counter!(
        "breaker_calls_total",
        "Calls a circuit breaker was asked to make since it was created, by outcome"
    );
    describe_counter!(
        "breaker_fallbacks_total",
        "Fallbacks a circuit breaker served since it was created"
    );
    describe_counter!(
        "breaker_retries_total",
        "Attempts a circuit breaker's retrying calls made after their first, since it was created"
    );
    describe_counter!(
        "breaker_retries_denied_total",
        "Retries a circuit breaker's retry budget refused since it was created"
    );
    describe_counter!(
        "breaker_shadow_refusals_total",
        "Calls a circuit breaker's shadow would have refused since it was declared, by what became of them"
    );
    describe_counter!(
        "breaker_transitions_total",
        "State changes of a circuit breaker since it was created"
    );
    describe_gauge!(
        "breaker_state",
        "1 for a circuit breaker's current state, 0 for the others"
    );
    describe_gauge!(
        "breaker_failure_rate",
        Unit::Percent,
        "Failed calls in a circuit breaker's rolling window"
    );
    describe_counter!(
        "breaker_slow_calls_total",
        "Calls slower than slow_call_ms since a circuit breaker was created"
    );
    describe_gauge!(
        "breaker_slow_call_rate",
        Unit::Percent,
        "Slow calls in a circuit breaker's rolling window"
    );
    describe_gauge!(
        "breaker_fleet_started",
        "0 for a breaker with fleet = true in a process that runs no fleet (it decides alone)"
    );
    describe_gauge!(
        "breaker_fleet_stale",
        "1 while a fleet-mode breaker's view of the fleet is out of date (the store is away)"
    );
    describe_gauge!(
        "breaker_fleet_open",
        "1 while the fleet's circuit is open or half-open, as last synced"
    );
    describe_gauge!(
        "breaker_fleet_instances",
        Unit::Count,
        "Instances syncing a fleet-mode breaker within its window"
    );
    describe_gauge!(
        "breaker_fleet_failing_instances",
        Unit::Count,
        "Instances whose own window fails at the error threshold"
    );
    describe_gauge!(
        "breaker_fleet_failure_rate",
        Unit::Percent,
        "Failed calls in the fleet's rolling window"
    );
    describe_gauge!(
        "breaker_fleet_pending_outcomes",
        Unit::Count,
        "Outcomes of this instance waiting to reach the fleet's store"
    );
    describe_counter!(
        "breaker_fleet_outcomes_total",
        "Outcomes of this instance the store counted (synced) or that aged out unsent (expired)"
    );
    describe_counter!(
        "breaker_fleet_sync_faults_total",
        "Failed syncs, replies of the wrong shape ignored, and stores found empty and re-seeded"
    );
    describe_gauge!(
        "breaker_window_calls",
        Unit::Count,
        "Calls in a circuit breaker's rolling window"
    );
    describe_gauge!(
        "breaker_shed_ratio",
        "The share of the calls asked of a circuit breaker in its rolling window that it refused"
    );
}

/// Calls [`publish`] every `every` on the Tokio runtime this is called on, until the returned
/// task is aborted (or the runtime stops). Publishes once at once, then once per period; a
/// period missed because the runtime was busy is skipped, not caught up.
///
/// A zero period is taken as one millisecond.
///
/// # Panics
/// Outside a Tokio runtime, as [`tokio::spawn`].
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// use std::time::Duration;
///
/// let publisher = fusebox::metrics::spawn_publisher(Duration::from_secs(5));
/// // … serve the application; on shutdown:
/// publisher.abort();
/// # }
/// ```
#[cfg(feature = "tokio")]
#[cfg_attr(docsrs, doc(cfg(feature = "tokio")))]
#[must_use = "dropping the handle detaches the task, which keeps publishing; keep it to stop it"]
pub fn spawn_publisher(every: std::time::Duration) -> tokio::task::JoinHandle<()> {
    let mut ticks = tokio::time::interval(every.max(std::time::Duration::from_millis(1)));
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    tokio::spawn(async move {
        loop {
            ticks.tick().await;
            publish();
        }
    })
}

#[cfg(test)]
mod tests {
    use super::label;

    #[test]
    fn a_label_writes_percent_and_backslash_encoded_and_nothing_else() {
        assert_eq!(
            label("shop::quotes/10.0.0.7:80"),
            "shop::quotes/10.0.0.7:80"
        );
        assert_eq!(label("a\\\"b\n%"), "a%5C\"b\n%25");
        assert_eq!(label("é\u{202E}"), "é\u{202E}");
    }
}
