//! A breaker's extras: the parts most breakers never use, behind one pointer, made when the
//! first of them is needed.
//!
//! A breaker that only ever runs calls and stays closed needs its state, configuration,
//! window and name. Listeners, the tallies of rare events (transitions, fallbacks, busy and
//! ignored calls), a bulkhead's count of calls in flight and a tie to a fleet are each made at
//! their first use, and live here rather than each in a pointer of its own: an idle breaker
//! pays one word for all of them (a tenth of its bytes, where one per host is the norm), and a
//! breaker that uses one pays a second load to reach it, off the closed path.

use once_cell::race::OnceBox;

use crate::{
    counters::LazyTallies,
    sync::{AtomicU64, CacheLine, Ordering},
    transition::Listeners,
};

/// The extras, made with the first one needed.
#[derive(Default)]
pub(crate) struct Extras(OnceBox<Parts>);

/// What the extras hold, each still made at its own first use.
#[derive(Default)]
pub(crate) struct Parts {
    pub(crate) bulkhead: Bulkhead,
    pub(crate) listeners: Listeners,
    pub(crate) call_listeners: crate::listeners::Listeners<crate::call_event::CallListener>,
    /// Call latency, with `record_latency`: made at the first timed call.
    latency: OnceBox<crate::latency::Histogram>,
    /// The retry budget, with `retry`: made at the first retrying call.
    retry_budget: OnceBox<crate::retry::RetryBudget>,
    /// The last calls, with `record`: made at the first call recorded.
    trace: OnceBox<crate::trace::Ring>,
    pub(crate) tallies: LazyTallies,
    /// The breaker's shadow, when one is declared.
    pub(crate) shadow: crate::shadow::ShadowSlot,
    /// A shadow, or a breaker in a replay: it tells only its own listeners of its transitions.
    /// (Of its calls, nobody: they are offered to it, never admitted by `admit`, so none takes
    /// the listeners' path.)
    silent: bool,
    /// The breaker's tie to the fleet, once it joins one (fleet mode).
    #[cfg(feature = "redis")]
    pub(crate) fleet: OnceBox<crate::fleet_view::Link>,
}

impl Parts {
    /// The latency histogram, made now if it was not.
    pub(crate) fn latency(&self) -> &crate::latency::Histogram {
        self.latency.get_or_init(Box::default)
    }

    /// The retry budget, made now if it was not.
    pub(crate) fn retry_budget(&self) -> &crate::retry::RetryBudget {
        self.retry_budget.get_or_init(Box::default)
    }

    /// The trace, made now (beginning at `now_ms`) if it was not.
    pub(crate) fn trace(&self, now_ms: u64) -> &crate::trace::Ring {
        self.trace
            .get_or_init(|| Box::new(crate::trace::Ring::new(now_ms)))
    }

    /// The trace, if a call was ever recorded.
    pub(crate) fn trace_if_made(&self) -> Option<&crate::trace::Ring> {
        self.trace.get()
    }

    /// Whether the breaker tells only its own listeners.
    pub(crate) fn is_silent(&self) -> bool {
        self.silent
    }

    /// The latency histogram, if a call was ever timed.
    pub(crate) fn latency_if_made(&self) -> Option<&crate::latency::Histogram> {
        self.latency.get()
    }
}

impl Extras {
    pub(crate) const fn new() -> Self {
        Extras(OnceBox::new())
    }

    /// The extras, made now if they were not: to add to one of them.
    pub(crate) fn made(&self) -> &Parts {
        self.0.get_or_init(Box::default)
    }

    /// Makes the extras of a breaker that tells only its own listeners of its transitions and
    /// calls (before anything else made them).
    pub(crate) fn make_silent(&self) {
        let _ = self.0.set(Box::new(Parts {
            silent: true,
            ..Parts::default()
        }));
    }

    /// The extras, if one of them was ever needed: to read them.
    pub(crate) fn get(&self) -> Option<&Parts> {
        self.0.get()
    }

    /// The breaker's tie to the fleet, if it joined one.
    #[cfg(feature = "redis")]
    pub(crate) fn fleet(&self) -> Option<&crate::fleet_view::Link> {
        self.get()?.fleet.get()
    }
}

/// Calls in flight, counted only when `max_concurrent` is set (Hystrix's semaphore isolation).
///
/// The count is written twice by every call, so it lives on a cache line of its own, allocated
/// at the first call that counts: off the breaker's lines, which every call reads, and not
/// paid for by breakers without a bulkhead.
#[derive(Debug, Default)]
pub(crate) struct Bulkhead {
    in_flight: OnceBox<CacheLine<AtomicU64>>,
}

impl Bulkhead {
    /// Takes a slot if one of `limit` is free; `false` if they are all taken.
    pub(crate) fn enter(&self, limit: u64) -> bool {
        let in_flight = self
            .in_flight
            .get_or_init(|| Box::new(CacheLine(AtomicU64::new(0))));
        // Counted before the check, so that two callers cannot both see room for one; a caller
        // turned away gives its count back when its permit drops.
        in_flight.fetch_add(1, Ordering::Acquire) < limit
    }

    /// Gives back the slot `enter` counted.
    pub(crate) fn leave(&self) {
        if let Some(in_flight) = self.in_flight.get() {
            in_flight.fetch_sub(1, Ordering::Release);
        }
    }
}
