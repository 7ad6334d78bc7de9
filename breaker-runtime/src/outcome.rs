//! What a call is to its breaker, as plain values: the [`Ticket`] admission gives it, and the
//! [`Outcome`] it finishes with. A leaf: admission, the window and the trip rules all speak of
//! calls in these terms, and this module needs none of them.

/// What a finished call counts as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// It returned `Ok`, or an `Err` that the failure predicate let pass.
    Success,
    /// It returned a counted `Err`, or panicked.
    Failure,
    /// It ran past the timeout and was dropped: a failure, also counted as a timeout.
    Timeout,
}

impl Outcome {
    /// `Ok` is a success; an `Err` is a failure if `is_failure` says so.
    #[inline]
    pub(crate) fn of<T, E>(result: &Result<T, E>, is_failure: impl FnOnce(&E) -> bool) -> Outcome {
        match result {
            Err(error) if is_failure(error) => Outcome::Failure,
            _ => Outcome::Success,
        }
    }

    pub(crate) const fn is_failure(self) -> bool {
        !matches!(self, Outcome::Success)
    }
}

/// What admission gave a call: the period it was admitted in, whether as a half-open trial,
/// and, when slow calls are counted, when it started.
///
/// One word (`start_ms << 32 | generation << 4 | flags`: the trial bit, the permit (`admission::Permit`)'s two,
/// and whether a start time is kept, and on which clock) rather than several fields: a permit is moved around the
/// operation (into an async call's future, say), and a value written as several fields and
/// read back whole stalls the processor (a failed store-to-load forward) on every call, while a
/// permit of two words moves in registers. The start is the low 32 bits of the clock's
/// milliseconds, enough to time calls of up to 49 days.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
// The field is the crate's: a permit keeps its own two flags in the bits the ticket leaves free.
pub(crate) struct Ticket(pub(crate) u64);

impl Ticket {
    const TRIAL: u64 = 1;
    /// `start_ms` holds when the call started.
    const TIMED: u64 = 8;
    /// With `TIMED`: the start is in microseconds of the fine clock (`record_latency`), not
    /// milliseconds of the coarse one. Above the generation's bits.
    const FINE: u64 = 1 << 31;
    /// Call listeners hear of the call's outcome.
    const LISTENED: u64 = 1 << 30;
    /// The call runs in a span (`trace_calls`).
    const TRACED: u64 = 1 << 29;
    const GENERATION_SHIFT: u32 = 4;
    const GENERATION_MASK: u64 = (1 << crate::state::GENERATION_BITS) - 1;
    const START_SHIFT: u32 = 32;

    pub(crate) const fn normal(generation: u32) -> Ticket {
        Ticket((generation as u64) << Ticket::GENERATION_SHIFT)
    }

    pub(crate) const fn trial(generation: u32) -> Ticket {
        Ticket((generation as u64) << Ticket::GENERATION_SHIFT | Ticket::TRIAL)
    }

    /// The same ticket, for a call that started at `now_ms`.
    pub(crate) const fn started(self, now_ms: u64) -> Ticket {
        Ticket((self.0 & 0xffff_ffff) | Ticket::TIMED | (now_ms << Ticket::START_SHIFT))
    }

    /// The same ticket, for a call that started at `now_us` on the fine clock.
    pub(crate) const fn started_fine(self, now_us: u64) -> Ticket {
        Ticket(
            (self.0 & 0xffff_ffff) | Ticket::TIMED | Ticket::FINE | (now_us << Ticket::START_SHIFT),
        )
    }

    /// The same ticket, for a call whose outcome call listeners hear of.
    pub(crate) const fn listened(self) -> Ticket {
        Ticket(self.0 | Ticket::LISTENED)
    }

    /// Whether the call is a half-open trial or call listeners hear of it: either takes the
    /// rare way when it ends.
    pub(crate) const fn is_trial_or_listened(self) -> bool {
        self.0 & (Ticket::TRIAL | Ticket::LISTENED) != 0
    }

    /// The same ticket, for a call that runs in a span.
    pub(crate) const fn traced(self) -> Ticket {
        Ticket(self.0 | Ticket::TRACED)
    }

    /// Whether the call runs in a span.
    #[cfg_attr(not(feature = "tracing"), allow(dead_code))]
    pub(crate) const fn is_traced(self) -> bool {
        self.0 & Ticket::TRACED != 0
    }

    /// Whether call listeners hear of the call's outcome.
    pub(crate) const fn is_listened(self) -> bool {
        self.0 & Ticket::LISTENED != 0
    }

    /// Whether the call's start is on the fine clock.
    pub(crate) const fn is_fine(self) -> bool {
        self.0 & Ticket::FINE != 0
    }

    /// How long a call timed on the fine clock has run at `now_us` (up to 71 minutes).
    pub(crate) const fn elapsed_us(self, now_us: u64) -> u64 {
        now_us.wrapping_sub(self.0 >> Ticket::START_SHIFT) & 0xffff_ffff
    }

    /// The state period the call was admitted in.
    pub(crate) const fn generation(self) -> u32 {
        // Masked to 22 bits.
        #[allow(clippy::cast_possible_truncation)]
        let generation = ((self.0 >> Ticket::GENERATION_SHIFT) & Ticket::GENERATION_MASK) as u32;
        generation
    }

    /// Whether the call is a half-open trial.
    pub(crate) const fn is_trial(self) -> bool {
        self.0 & Ticket::TRIAL != 0
    }

    /// How long the call has run at `now_ms`, if its start was kept.
    #[inline]
    pub(crate) const fn elapsed_ms(self, now_ms: u64) -> Option<u64> {
        if self.0 & Ticket::TIMED == 0 {
            return None;
        }
        let start = self.0 >> Ticket::START_SHIFT;
        Some(now_ms.wrapping_sub(start) & 0xffff_ffff)
    }
}
