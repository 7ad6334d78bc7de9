//! What a breaker in fleet mode knows of the fleet: the shared counts and state as the last
//! sync brought them, and how its own outcomes are getting there. Part of
//! [`Metrics`](crate::Metrics) whatever the features, so that code reading metrics compiles
//! the same with fleet mode on or off.

use std::time::Duration;

/// The fleet's circuit, as the shared store last said it was.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum FleetState {
    /// The fleet's failures are under the thresholds, or too few instances see them.
    #[default]
    Closed,
    /// The fleet tripped: every instance holds its breaker open.
    Open,
    /// The fleet's sleep window has passed: instances holding a trial lease let trial calls
    /// through, the others stay open.
    HalfOpen,
}

/// A fleet-mode breaker's view of the fleet, in [`Metrics::fleet`](crate::Metrics::fleet).
///
/// The counts of outcomes (`synced`, `pending`, `expired`) account for every outcome the
/// breaker saw since it joined the fleet: each is in exactly one of them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub struct FleetView {
    /// Whether fleet mode runs for this breaker: the process called `fleet::start`, or the
    /// breaker joined a `Fleet`. A breaker with `fleet = true` in a process that runs no fleet
    /// decides alone: its view is not started and stale, and says so in the metrics, the JSON
    /// and the dashboard.
    pub started: bool,
    /// The fleet's state at the last sync.
    pub state: FleetState,
    /// Whether this view is out of date: no sync has succeeded for more than two sync
    /// periods and the sync's timeout (room for one late answer; for a quiet breaker, which
    /// syncs every half window at most eight periods, that and a period), or none has yet. The store
    /// is slow, down, answering garbage, or losing the fleet's data at every answer (a sync
    /// that finds the data lost counted nothing). The breaker then decides on its own counts
    /// alone, as without fleet mode.
    pub stale: bool,
    /// Time since the last successful sync; `None` before the first.
    #[cfg_attr(
        feature = "serde",
        serde(rename = "since_sync_ms", with = "optional_millis")
    )]
    pub since_sync: Option<Duration>,
    /// Instances that synced this breaker within its window.
    pub instances: u64,
    /// Of those, the instances whose own window is failing at the error threshold.
    pub failing_instances: u64,
    /// Calls in the fleet's window, every instance's.
    pub calls: u64,
    /// Failed calls in the fleet's window.
    pub failures: u64,
    /// `failures * 100 / calls`, rounded down; 0 with no calls.
    pub error_percent: u64,
    /// Outcomes of this instance that the store has counted.
    pub synced: u64,
    /// Outcomes of this instance waiting to be sent (or sent without an answer yet).
    pub pending: u64,
    /// Outcomes that left the window before they could be sent (the store was unreachable
    /// for longer than the window): no longer part of any window, so not sent.
    pub expired: u64,
    /// Syncs that failed: no connection, a timeout, an error from the server.
    pub sync_errors: u64,
    /// Replies that did not have the shape the sync script returns, ignored.
    pub bad_replies: u64,
    /// Times the store was found to have lost the fleet's data (restarted empty, flushed, its
    /// keys evicted) and was seeded again with this instance's window: at once, or, when it
    /// lost the data again right after a re-seed, after backing off as from a failed sync.
    /// Growing while the view is `stale`, it is a store that does not keep the data (a proxy
    /// over servers that do not share it, a failover flapping).
    pub reseeds: u64,
}

impl FleetView {
    /// The view of a breaker with `fleet = true` that joined no fleet: `started` says whether
    /// the process runs fleet mode (then it joins within a second), and it is stale.
    pub(crate) fn not_joined(started: bool) -> FleetView {
        FleetView {
            started,
            stale: true,
            ..FleetView::default()
        }
    }

    /// The fleet's window, as the store sums it.
    #[cfg(feature = "redis")]
    pub(crate) fn with_counts(mut self, calls: u64, failures: u64) -> FleetView {
        self.calls = calls;
        self.failures = failures;
        self.error_percent = percent_of(failures, calls);
        self
    }
}

#[cfg(feature = "serde")]
mod optional_millis {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    #[allow(clippy::ref_option)] // the signature serde's `with` calls
    pub(super) fn serialize<S: Serializer>(
        duration: &Option<Duration>,
        to: S,
    ) -> Result<S::Ok, S::Error> {
        match duration {
            Some(duration) => to.serialize_some(&crate::config::millis(*duration)),
            None => to.serialize_none(),
        }
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        from: D,
    ) -> Result<Option<Duration>, D::Error> {
        Option::<u64>::deserialize(from).map(|millis| millis.map(Duration::from_millis))
    }
}

/// `part * 100 / calls`, rounded down; 0 with no calls: every percent a snapshot shows, the
/// fleet's here and the breaker's own in [`Metrics`](crate::Metrics).
pub(crate) fn percent_of(part: u64, calls: u64) -> u64 {
    (part * 100).checked_div(calls).unwrap_or(0)
}

/// Whether this process started fleet mode (`fleet::start`).
#[cfg(feature = "redis")]
static STARTED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Whether this process called `fleet::start`.
#[cfg(feature = "redis")]
pub(crate) fn is_started() -> bool {
    STARTED.load(std::sync::atomic::Ordering::Acquire)
}

/// Marks fleet mode started; whether it was already.
#[cfg(feature = "redis")]
pub(crate) fn mark_started() -> bool {
    STARTED.swap(true, std::sync::atomic::Ordering::AcqRel)
}

#[cfg(feature = "redis")]
pub(crate) use link::Link;

/// A breaker's tie to the fleet, kept beside the view it fills (in the breaker's extras), so
/// that the core holds no type of the integration that syncs it.
#[cfg(feature = "redis")]
mod link {
    use std::{
        sync::{
            Mutex, PoisonError,
            atomic::{AtomicBool, AtomicU64, Ordering},
        },
        time::Duration,
    };

    use crate::FleetView;

    /// A breaker's tie to the fleet: the view its sync keeps, read by `metrics()`.
    #[derive(Default)]
    pub(crate) struct Link {
        view: Mutex<FleetView>,
        /// When a sync last succeeded, on the breaker's clock; 0 before the first.
        last_ok_ms: AtomicU64,
        /// Whether the last sync failed.
        failing: AtomicBool,
        /// How old a view may be before it is stale.
        pub(crate) stale_after_ms: AtomicU64,
        /// The breaker's calls since creation at the sync's last look: later ones are pending too.
        captured: AtomicU64,
    }

    impl Link {
        /// The view as of `now_ms`, for a breaker that has seen `calls` since its creation.
        pub(crate) fn view(&self, now_ms: u64, calls: u64) -> FleetView {
            let (mut view, captured) = {
                let view = self.view.lock().unwrap_or_else(PoisonError::into_inner);
                // Read with the view, which `captured` changes with.
                (*view, self.captured.load(Ordering::Acquire))
            };
            // Outcomes since the sync last looked wait as well.
            view.pending += calls.saturating_sub(captured);
            view.started = true;
            let last_ok = self.last_ok_ms.load(Ordering::Acquire);
            // `Default` leaves it 0: no sync has run.
            let synced_once = last_ok != 0;
            view.since_sync =
                synced_once.then(|| Duration::from_millis(now_ms.saturating_sub(last_ok)));
            view.stale = !synced_once
                || self.failing.load(Ordering::Acquire)
                || now_ms.saturating_sub(last_ok) > self.stale_after_ms.load(Ordering::Relaxed);
            view
        }

        /// The sync looked at the breaker's counts: `calls` since creation, `pending` of them
        /// not yet counted by the store.
        pub(crate) fn captured(&self, calls: u64, pending: u64) {
            let mut view = self.view.lock().unwrap_or_else(PoisonError::into_inner);
            view.pending = pending;
            self.captured.store(calls, Ordering::Release);
        }

        pub(crate) fn update(&self, change: impl FnOnce(&mut FleetView)) {
            change(&mut self.view.lock().unwrap_or_else(PoisonError::into_inner));
        }

        pub(crate) fn succeeded(&self, now_ms: u64) {
            // 0 means "never": a clock at 0 counts as 1.
            self.last_ok_ms.store(now_ms.max(1), Ordering::Release);
            self.failing.store(false, Ordering::Release);
        }

        pub(crate) fn failed(&self) {
            self.failing.store(true, Ordering::Release);
        }
    }
}
