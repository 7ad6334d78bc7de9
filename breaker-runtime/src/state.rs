//! The state word: everything admission decides on, in one `u64`, so that every transition is a
//! single compare-and-swap and a reader always sees a consistent state.
//!
//! ```text
//!  63                                  30 29                            3 2      0
//! +--------------------------------------+-------------------------------+--------+
//! |               payload                |          generation           |  kind  |
//! +--------------------------------------+-------------------------------+--------+
//!   Open:     when it opened (ms, 34 bits, wrapping)
//!   HalfOpen: trial permits taken (16 bits) | trial successes (16 bits)
//!   others:   zero
//! ```
//!
//! The generation grows by one on every transition. A call remembers the generation it was
//! admitted in, and its outcome is applied only if the word still has that generation: a slow
//! success from before the circuit opened cannot close it, a late failure cannot re-open a
//! circuit that has closed since. 27 bits wrap after 134 million transitions, far more than can
//! happen while one call is in flight.

use std::fmt;

/// Where a breaker is in its cycle.
///
/// ```
/// use breaker_runtime::State;
///
/// assert_eq!(State::HalfOpen.to_string(), "half-open");
/// assert!(State::ForcedOpen.is_open());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum State {
    /// Calls run and their outcomes are counted.
    Closed,
    /// Calls are rejected until the sleep window has passed.
    Open,
    /// A few trial calls run; the rest are rejected.
    HalfOpen,
    /// An operator opened it: every call is rejected, and it never half-opens by itself.
    ForcedOpen,
    /// An operator closed it: every call runs, outcomes are counted, and it never trips.
    ForcedClosed,
}

impl State {
    /// Whether calls are being rejected by default in this state (`Open` or `ForcedOpen`).
    #[must_use]
    pub const fn is_open(self) -> bool {
        matches!(self, State::Open | State::ForcedOpen)
    }

    const fn from_kind(kind: u64) -> State {
        match kind {
            KIND_OPEN => State::Open,
            KIND_HALF_OPEN => State::HalfOpen,
            KIND_FORCED_OPEN => State::ForcedOpen,
            KIND_FORCED_CLOSED => State::ForcedClosed,
            _ => State::Closed,
        }
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            State::Closed => "closed",
            State::Open => "open",
            State::HalfOpen => "half-open",
            State::ForcedOpen => "forced open",
            State::ForcedClosed => "forced closed",
        })
    }
}

const KIND_BITS: u32 = 3;
const KIND_MASK: u64 = (1 << KIND_BITS) - 1;
const KIND_CLOSED: u64 = 0;
const KIND_OPEN: u64 = 1;
const KIND_HALF_OPEN: u64 = 2;
const KIND_FORCED_OPEN: u64 = 3;
const KIND_FORCED_CLOSED: u64 = 4;

const GENERATION_BITS: u32 = 27;
const GENERATION_MASK: u64 = (1 << GENERATION_BITS) - 1;
const PAYLOAD_SHIFT: u32 = KIND_BITS + GENERATION_BITS;

/// Bits of the time an open circuit remembers: 2^34 ms is 198 days.
const TIME_BITS: u32 = 64 - PAYLOAD_SHIFT;
const TIME_MASK: u64 = (1 << TIME_BITS) - 1;
/// How far a reading may lag behind the opening time (a thread that read the clock just before
/// another one opened the circuit) and still count as "no time has passed".
const CLOCK_SKEW_MS: u64 = 60_000;

const COUNT_BITS: u32 = 16;
const COUNT_MASK: u64 = (1 << COUNT_BITS) - 1;

/// One value of the state word; see the module documentation for its layout.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Word(pub(crate) u64);

impl Word {
    /// The first word of a new breaker: closed, generation 0.
    pub(crate) const INITIAL: Word = Word(KIND_CLOSED);

    const fn new(kind: u64, generation: u32, payload: u64) -> Word {
        Word(
            kind | ((generation as u64 & GENERATION_MASK) << KIND_BITS)
                | (payload << PAYLOAD_SHIFT),
        )
    }

    pub(crate) const fn state(self) -> State {
        State::from_kind(self.0 & KIND_MASK)
    }

    pub(crate) const fn generation(self) -> u32 {
        // The mask keeps the value within 27 bits.
        #[allow(clippy::cast_possible_truncation)]
        let generation = ((self.0 >> KIND_BITS) & GENERATION_MASK) as u32;
        generation
    }

    const fn payload(self) -> u64 {
        self.0 >> PAYLOAD_SHIFT
    }

    /// The generation the next state period will have.
    const fn next_generation(self) -> u32 {
        self.generation().wrapping_add(1)
    }

    /// Whether calls run without asking for a permit (`Closed` or `ForcedClosed`).
    pub(crate) const fn admits_freely(self) -> bool {
        let kind = self.0 & KIND_MASK;
        kind == KIND_CLOSED || kind == KIND_FORCED_CLOSED
    }

    /// The next period, closed.
    pub(crate) const fn closed(self) -> Word {
        Word::new(KIND_CLOSED, self.next_generation(), 0)
    }

    /// The next period, open since `now_ms`.
    pub(crate) const fn opened(self, now_ms: u64) -> Word {
        Word::new(KIND_OPEN, self.next_generation(), now_ms & TIME_MASK)
    }

    /// The next period, half-open with one trial permit taken (by the call that moved it).
    pub(crate) const fn half_opened(self) -> Word {
        Word::new(KIND_HALF_OPEN, self.next_generation(), 1)
    }

    /// The next period, forced open.
    pub(crate) const fn forced_open(self) -> Word {
        Word::new(KIND_FORCED_OPEN, self.next_generation(), 0)
    }

    /// The next period, forced closed.
    pub(crate) const fn forced_closed(self) -> Word {
        Word::new(KIND_FORCED_CLOSED, self.next_generation(), 0)
    }

    /// Milliseconds since an open circuit opened, as seen at `now_ms`. Readings up to a minute
    /// older than the opening count as zero; the 34-bit time wraps after 198 days, so a circuit
    /// left open and untouched that long may wait up to one more sleep window.
    pub(crate) const fn open_for(self, now_ms: u64) -> u64 {
        let elapsed = (now_ms.wrapping_sub(self.payload())) & TIME_MASK;
        if elapsed > TIME_MASK - CLOCK_SKEW_MS {
            0
        } else {
            elapsed
        }
    }

    /// Half-open: trial permits taken and not given back.
    pub(crate) const fn trials(self) -> u64 {
        self.payload() & COUNT_MASK
    }

    /// Half-open: trials that have succeeded.
    pub(crate) const fn trial_successes(self) -> u64 {
        (self.payload() >> COUNT_BITS) & COUNT_MASK
    }

    /// The same half-open period with its counts changed.
    pub(crate) const fn with_trials(self, trials: u64, successes: u64) -> Word {
        Word::new(
            KIND_HALF_OPEN,
            self.generation(),
            (trials & COUNT_MASK) | ((successes & COUNT_MASK) << COUNT_BITS),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_round_trip() {
        let open = Word::INITIAL.opened(123_456);
        assert_eq!(open.state(), State::Open);
        assert_eq!(open.generation(), 1);
        assert_eq!(open.open_for(123_456 + 70), 70);
        let half = open.half_opened();
        assert_eq!((half.state(), half.generation()), (State::HalfOpen, 2));
        assert_eq!((half.trials(), half.trial_successes()), (1, 0));
        let counted = half.with_trials(65_535, 65_534);
        assert_eq!(
            (counted.trials(), counted.trial_successes()),
            (65_535, 65_534)
        );
        assert_eq!(counted.generation(), 2);
        assert_eq!(counted.closed().state(), State::Closed);
        assert_eq!(counted.closed().generation(), 3);
        assert!(Word::INITIAL.admits_freely());
        assert!(Word::INITIAL.forced_closed().admits_freely());
        assert!(!Word::INITIAL.forced_open().admits_freely());
    }

    #[test]
    fn generation_wraps_without_touching_other_fields() {
        let last = Word::new(KIND_CLOSED, u32::try_from(GENERATION_MASK).unwrap(), 0);
        let next = last.opened(5);
        assert_eq!(next.generation(), 0);
        assert_eq!(next.state(), State::Open);
        assert_eq!(next.open_for(5), 0);
    }

    #[test]
    fn open_time_tolerates_a_slightly_older_reading_and_wraps() {
        let open = Word::INITIAL.opened(1_000_000);
        assert_eq!(open.open_for(999_990), 0);
        assert_eq!(open.open_for(1_000_000 + 5_000), 5_000);
        let near_wrap = Word::INITIAL.opened(TIME_MASK - 10);
        assert_eq!(near_wrap.open_for(TIME_MASK + 20), 30);
    }
}
