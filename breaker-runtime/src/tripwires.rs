//! What the trip rules remember between outcomes: until when successes must check the error
//! rate, and the failures in a row. The rules themselves are in [`trip`](crate::trip).

use crate::{
    Config,
    sync::{AtomicU64, Ordering},
};

/// The failure expiry of a breaker whose first call has something to say (see
/// `Tripwires::new`): no failure's expiry is ever this late.
pub(crate) const FIRST_CALL: u64 = u64::MAX;

/// What the trip rules remember between outcomes.
#[derive(Debug, Default)]
pub(crate) struct Tripwires {
    /// Until when successes must check the error rate: the time the newest failure that left
    /// enough failures in the window to trip on successes alone ages out (see `note_failure`).
    pub(crate) failure_expiry: AtomicU64,
    /// Failures in a row, when `consecutive_failures` is set.
    pub(crate) consecutive: AtomicU64,
}

impl Tripwires {
    /// A breaker's, with `config`. With the `tracing` feature, a breaker with `fleet = true`
    /// has something to say at its first call (see `first_call`): its failure expiry starts
    /// at the end of time, so that the first success takes the path that checks the rates,
    /// once, as a failure always does, and the call path pays nothing for it.
    pub(crate) fn new(config: &Config) -> Tripwires {
        let tripwires = Tripwires::default();
        if cfg!(feature = "tracing") && config.fleet() {
            tripwires
                .failure_expiry
                .store(FIRST_CALL, Ordering::Relaxed);
        }
        tripwires
    }

    /// Forgets the failures in a row: a new period starts.
    pub(crate) fn restart(&self) {
        self.consecutive.store(0, Ordering::Relaxed);
    }
}
