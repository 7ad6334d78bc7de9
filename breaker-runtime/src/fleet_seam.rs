//! The seam between a breaker and fleet mode (the `redis` feature): all that fleet mode reads
//! of a breaker and does to it, in one place. Fleet mode reaches the breaker through
//! [`Seam`]'s methods, never through its parts (the state word, the window, the clock), so
//! that what it may do is listed here and the breaker's parts can change without it.

use crate::{CircuitBreaker, State, fleet_view::Link, window::Totals};

/// What fleet mode may read of one breaker and do to it: [`CircuitBreaker::seam`].
pub(crate) struct Seam<'b>(&'b CircuitBreaker);

/// Counts as fleet mode sends them: calls that ran to an outcome, and the failures among them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Tally {
    pub(crate) calls: u64,
    pub(crate) failures: u64,
}

impl Tally {
    fn of(totals: &Totals) -> Tally {
        Tally {
            calls: totals.calls(),
            failures: totals.failures,
        }
    }
}

/// Where the breaker stands: its state, and the period (generation) it is in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Standing {
    pub(crate) state: State,
    pub(crate) generation: u32,
}

impl CircuitBreaker {
    /// The breaker, as fleet mode sees it.
    pub(crate) fn seam(&self) -> Seam<'_> {
        Seam(self)
    }
}

impl<'b> Seam<'b> {
    /// The breaker's clock.
    pub(crate) fn now_ms(&self) -> u64 {
        self.0.clock.now_ms()
    }

    /// How wide the window's buckets are: the sync period.
    pub(crate) fn bucket_ms(&self) -> u64 {
        self.0.window.shape().bucket_ms
    }

    /// Whether the breaker's `fleet` key is on.
    pub(crate) fn fleet_key(&self) -> bool {
        self.0.config.fleet()
    }

    /// Every outcome since the breaker was made: what the ledger captures its batches from.
    pub(crate) fn since_creation(&self) -> Tally {
        Tally::of(&self.0.window.since_creation())
    }

    /// The outcomes in the window at `now_ms`.
    pub(crate) fn in_window(&self, now_ms: u64) -> Tally {
        Tally::of(&self.0.window.totals(now_ms))
    }

    /// The window's buckets at `now_ms`, newest first, each with its start: what seeds a store
    /// that lost the fleet's data.
    pub(crate) fn buckets(&self, now_ms: u64) -> Vec<(u64, Tally)> {
        self.0
            .window
            .buckets(now_ms)
            .into_iter()
            .map(|(start_ms, totals)| (start_ms, Tally::of(&totals)))
            .collect()
    }

    /// The breaker's state and period now.
    pub(crate) fn standing(&self) -> Standing {
        let word = self.0.state.load();
        Standing {
            state: word.state(),
            generation: word.generation(),
        }
    }

    /// The breaker's tie to its fleet, once it joined one.
    pub(crate) fn link(&self) -> Option<&'b Link> {
        self.0.extras.fleet()
    }

    /// Ties the breaker to a fleet; `false` if it is tied to one already.
    pub(crate) fn join(&self, link: Link) -> bool {
        self.0.extras.made().fleet.set(Box::new(link)).is_ok()
    }

    /// Holds the breaker open until `end_ms` (or its own sleep window's end, if later) because
    /// the fleet is open; the period it is held in, if it is open now.
    pub(crate) fn hold_open(&self, now_ms: u64, end_ms: u64) -> Option<u32> {
        let (generation, moved) = self.0.state.transition_to_held_open(now_ms, end_ms);
        self.0.report(moved);
        generation
    }

    /// Lets the held open period `generation` take a trial call: this instance holds one of
    /// the fleet's trial leases.
    pub(crate) fn wake_for_trial(&self, now_ms: u64, generation: u32) {
        self.0.state.transition_to_awake(now_ms, generation);
    }

    /// Closes the period `generation`, held by the fleet, because the fleet closed: its window
    /// starts empty, as after any closing.
    pub(crate) fn close(&self, now_ms: u64, generation: u32) {
        let breaker = self.0;
        let moved = breaker
            .state
            .transition_to_closed_by_fleet(now_ms, generation, || breaker.empty_window());
        breaker.report(moved);
    }
}
