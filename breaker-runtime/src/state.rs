//! The state machine: everything admission decides on, kept in one `u64` so that every
//! transition is a single compare-and-swap and a reader always sees a consistent state.
//!
//! ```text
//!  63                          30 29      25 24                  3 2      0
//! +------------------------------+----------+---------------------+--------+
//! |           payload            |  streak  |     generation      |  kind  |
//! +------------------------------+----------+---------------------+--------+
//!   Open:     when a trial may be let through (ms, 34 bits, wrapping)
//!   HalfOpen: trial permits taken (16 bits) | trial successes (16 bits)
//!   others:   zero
//!   streak:   re-openings after a failed (or timed-out) half-open period since the circuit
//!             last closed, which lengthen the next sleep window (open-duration backoff);
//!             zero in every state but Open and HalfOpen
//! ```
//!
//! [`StateWord`] holds the word; a [`Snapshot`] is one value of it. Every change goes through
//! [`StateWord::fetch_update_action`], and each change the breaker makes has a named
//! transition here (`transition_to_*`), so the whole machine reads in this one file.
//!
//! The generation grows by one on every transition. A call remembers the generation it was
//! admitted in, and its outcome is applied only if the word still has that generation: a slow
//! success from before the circuit opened cannot close it, a late failure cannot re-open a
//! circuit that has closed since. 22 bits wrap after four million transitions, far more than can
//! happen while one call is in flight.
//!
//! An open circuit keeps the moment its sleep window ends rather than the moment it opened: the
//! window's length (backed off, with jitter) is drawn once, by the transition that opens it, and
//! every reader then agrees on it. When the configuration changes, an open circuit's end is
//! drawn again from when it opened ([`StateWord::transition_to_new_sleep`]).

use std::fmt;

use crate::sync::{AtomicU64, Ordering};

/// Where a breaker is in its cycle.
///
/// ```
/// use fusebox::State;
///
/// assert_eq!(State::HalfOpen.to_string(), "half_open");
/// assert!(State::ForcedOpen.is_open());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
#[non_exhaustive]
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
    /// Every state, in the order of the variants.
    ///
    /// ```
    /// use fusebox::State;
    ///
    /// assert_eq!(State::ALL.len(), 5);
    /// assert_eq!(State::ALL[0], State::Closed);
    /// ```
    pub const ALL: [State; 5] = [
        State::Closed,
        State::Open,
        State::HalfOpen,
        State::ForcedOpen,
        State::ForcedClosed,
    ];

    /// This state's place in [`ALL`](Self::ALL).
    // The state word's codes are the variants' order.
    #[allow(clippy::cast_possible_truncation)]
    pub(crate) const fn index(self) -> usize {
        self.kind() as usize
    }

    /// The state's name in snake case, as everywhere the crate writes it (`Display`, JSON,
    /// metric labels, `tracing` events): `half_open`.
    ///
    /// ```
    /// use fusebox::State;
    ///
    /// assert_eq!(State::ForcedOpen.as_str(), "forced_open");
    /// ```
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            State::Closed => "closed",
            State::Open => "open",
            State::HalfOpen => "half_open",
            State::ForcedOpen => "forced_open",
            State::ForcedClosed => "forced_closed",
        }
    }

    /// Whether calls are being rejected by default in this state (`Open` or `ForcedOpen`).
    #[must_use]
    pub const fn is_open(self) -> bool {
        matches!(self, State::Open | State::ForcedOpen)
    }

    /// The state word's code for this state.
    pub(crate) const fn kind(self) -> u64 {
        match self {
            State::Closed => KIND_CLOSED,
            State::Open => KIND_OPEN,
            State::HalfOpen => KIND_HALF_OPEN,
            State::ForcedOpen => KIND_FORCED_OPEN,
            State::ForcedClosed => KIND_FORCED_CLOSED,
        }
    }

    /// The state of a code from [`kind`](Self::kind).
    pub(crate) const fn from_kind(kind: u64) -> State {
        match kind {
            KIND_OPEN => State::Open,
            KIND_HALF_OPEN => State::HalfOpen,
            KIND_FORCED_OPEN => State::ForcedOpen,
            KIND_FORCED_CLOSED => State::ForcedClosed,
            _ => State::Closed,
        }
    }
}

/// The state's one spelling, [`State::as_str`], the same as in JSON, metric labels and
/// `tracing` events, so that a log line, a scrape and an API answer can be matched.
impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

const KIND_BITS: u32 = 3;
const KIND_MASK: u64 = (1 << KIND_BITS) - 1;
const KIND_CLOSED: u64 = 0;
const KIND_OPEN: u64 = 1;
const KIND_HALF_OPEN: u64 = 2;
const KIND_FORCED_OPEN: u64 = 3;
const KIND_FORCED_CLOSED: u64 = 4;

pub(crate) const GENERATION_BITS: u32 = 22;
const GENERATION_MASK: u64 = (1 << GENERATION_BITS) - 1;
const STREAK_SHIFT: u32 = KIND_BITS + GENERATION_BITS;
const STREAK_BITS: u32 = 5;
/// The longest streak counted: doubling 31 times takes any sleep window past any maximum.
pub(crate) const MAX_STREAK: u32 = (1 << STREAK_BITS) - 1;
const PAYLOAD_SHIFT: u32 = STREAK_SHIFT + STREAK_BITS;

/// Bits of the time an open circuit remembers: 2^34 ms is 198 days.
const TIME_BITS: u32 = 64 - PAYLOAD_SHIFT;
const TIME_MASK: u64 = (1 << TIME_BITS) - 1;
/// How far a reading may lag behind the opening time (a thread that read the clock just before
/// another one opened the circuit) and still count as "no time has passed".
const CLOCK_SKEW_MS: u64 = 60_000;
/// The longest a sleep window can be: the longest `sleep_window_max_ms`, lengthened by the
/// largest jitter (100 %). A sleep window's end further ahead than this (and the clock skew) is
/// one that has passed, seen through the wrapping of the 34-bit time.
pub(crate) const LONGEST_SLEEP_MS: u64 = 2 * crate::limits::MAX_MS;

const COUNT_BITS: u32 = 16;
const COUNT_MASK: u64 = (1 << COUNT_BITS) - 1;

/// One value of the state word; see the module documentation for its layout.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Snapshot(u64);

impl Snapshot {
    /// The first word of a new breaker: closed, generation 0.
    const INITIAL: Snapshot = Snapshot(KIND_CLOSED);

    const fn new(kind: u64, generation: u32, payload: u64) -> Snapshot {
        Snapshot::with_streak(kind, generation, 0, payload)
    }

    const fn with_streak(kind: u64, generation: u32, streak: u32, payload: u64) -> Snapshot {
        Snapshot(
            kind | ((generation as u64 & GENERATION_MASK) << KIND_BITS)
                | ((streak as u64) << STREAK_SHIFT)
                | (payload << PAYLOAD_SHIFT),
        )
    }

    pub(crate) const fn state(self) -> State {
        State::from_kind(self.0 & KIND_MASK)
    }

    /// The state period this value belongs to.
    pub(crate) const fn generation(self) -> u32 {
        // The mask keeps the value within 22 bits.
        #[allow(clippy::cast_possible_truncation)]
        let generation = ((self.0 >> KIND_BITS) & GENERATION_MASK) as u32;
        generation
    }

    /// Whether calls run without asking for a permit (`Closed` or `ForcedClosed`).
    #[inline]
    pub(crate) const fn admits_freely(self) -> bool {
        let kind = self.0 & KIND_MASK;
        kind == KIND_CLOSED || kind == KIND_FORCED_CLOSED
    }

    /// Open, and inside its sleep window at `now_ms`: how much of it is left.
    #[inline]
    pub(crate) const fn asleep_for(self, now_ms: u64) -> Option<u64> {
        if self.0 & KIND_MASK != KIND_OPEN {
            return None;
        }
        let left = self.payload().wrapping_sub(now_ms) & TIME_MASK;
        // Past the end, the difference wraps to nearly 2^34: more than any sleep window.
        if left > 0 && left <= LONGEST_SLEEP_MS + CLOCK_SKEW_MS {
            Some(left)
        } else {
            None
        }
    }

    /// The same open period, its sleep window ending at `end_ms` instead.
    const fn sleeping_until(self, end_ms: u64) -> Snapshot {
        Snapshot::with_streak(
            KIND_OPEN,
            self.generation(),
            self.streak(),
            end_ms & TIME_MASK,
        )
    }

    /// Open or half-open: the failed half-open periods in a row so far.
    pub(crate) const fn streak(self) -> u32 {
        // Five bits.
        #[allow(clippy::cast_possible_truncation)]
        let streak = ((self.0 >> STREAK_SHIFT) & MAX_STREAK as u64) as u32;
        streak
    }

    const fn payload(self) -> u64 {
        self.0 >> PAYLOAD_SHIFT
    }

    const fn next_generation(self) -> u32 {
        self.generation().wrapping_add(1)
    }

    /// The next period, closed.
    const fn closed(self) -> Snapshot {
        Snapshot::new(KIND_CLOSED, self.next_generation(), 0)
    }

    /// The next period, open from `now_ms` for `sleep_ms`, after `streak` failed half-open
    /// periods in a row.
    const fn opened(self, now_ms: u64, sleep_ms: u64, streak: u32) -> Snapshot {
        Snapshot::with_streak(
            KIND_OPEN,
            self.next_generation(),
            streak,
            now_ms.wrapping_add(sleep_ms) & TIME_MASK,
        )
    }

    /// The streak the next opening from this value has: one more after a half-open period,
    /// none from any other state.
    const fn next_streak(self) -> u32 {
        if self.0 & KIND_MASK == KIND_HALF_OPEN {
            let streak = self.streak() + 1;
            if streak > MAX_STREAK {
                MAX_STREAK
            } else {
                streak
            }
        } else {
            0
        }
    }

    /// The next period, half-open with one trial permit taken (by the call that moved it),
    /// keeping the streak.
    const fn half_opened(self) -> Snapshot {
        Snapshot::with_streak(KIND_HALF_OPEN, self.next_generation(), self.streak(), 1)
    }

    const fn forced_open(self) -> Snapshot {
        Snapshot::new(KIND_FORCED_OPEN, self.next_generation(), 0)
    }

    const fn forced_closed(self) -> Snapshot {
        Snapshot::new(KIND_FORCED_CLOSED, self.next_generation(), 0)
    }

    /// Half-open: trial permits taken and not given back.
    const fn trials(self) -> u64 {
        self.payload() & COUNT_MASK
    }

    /// Half-open: trials that have succeeded.
    const fn trial_successes(self) -> u64 {
        (self.payload() >> COUNT_BITS) & COUNT_MASK
    }

    /// The same half-open period with its counts changed.
    const fn with_trials(self, trials: u64, successes: u64) -> Snapshot {
        Snapshot::with_streak(
            KIND_HALF_OPEN,
            self.generation(),
            self.streak(),
            (trials & COUNT_MASK) | ((successes & COUNT_MASK) << COUNT_BITS),
        )
    }
}

/// A change of state that was made, for the caller to report to the listeners.
#[must_use = "a transition is reported to the breaker's listeners"]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Transitioned {
    pub(crate) from: State,
    pub(crate) to: State,
}

/// How admission may let a call through, decided by [`StateWord::transition_to_trial`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Entry {
    /// Closed or forced closed: the call runs without a permit.
    Free { generation: u32 },
    /// A half-open trial permit, taken.
    Trial { generation: u32 },
    /// Refused in `state`; `retry_in_ms` is when a trial will be let through, 0 when that is not
    /// known in advance (half-open with its trials taken, forced open).
    Refused { state: State, retry_in_ms: u64 },
}

/// What admission needs to know of the half-open rules.
#[derive(Clone, Copy, Debug)]
pub(crate) struct HalfOpen {
    /// `half_open_max_calls`.
    pub(crate) max_trials: u64,
    /// `half_open_max_wait_ms`, if set.
    pub(crate) max_wait_ms: Option<u64>,
}

/// A breaker's state word, and when its current state period began.
pub(crate) struct StateWord {
    /// Read by every call, written only by transitions.
    word: AtomicU64,
    /// When the current period began, `ms << GENERATION_BITS | generation`: stored just after
    /// the transition, so the generation tells a reader whether the value it sees is the
    /// current period's (for `Metrics::time_in_state` and `half_open_max_wait_ms`).
    since: AtomicU64,
}

impl StateWord {
    /// Closed, generation 0, since `now_ms`.
    pub(crate) fn new(now_ms: u64) -> StateWord {
        StateWord {
            word: AtomicU64::new(Snapshot::INITIAL.0),
            since: AtomicU64::new(now_ms << GENERATION_BITS),
        }
    }

    #[inline]
    pub(crate) fn load(&self) -> Snapshot {
        Snapshot(self.word.load(Ordering::Acquire))
    }

    /// When the current state period began.
    pub(crate) fn since_ms(&self) -> u64 {
        self.since.load(Ordering::Relaxed) >> GENERATION_BITS
    }

    /// When the period `generation` began, if that is what the last transition stored (the
    /// thread that made the transition may not have stored its time yet).
    pub(crate) fn since_ms_of(&self, generation: u32) -> Option<u64> {
        let since = self.since.load(Ordering::Acquire);
        (since & GENERATION_MASK == u64::from(generation)).then_some(since >> GENERATION_BITS)
    }

    /// The one way the word changes, as tokio's task state: `f` looks at the current value
    /// (first `current`, then whatever another thread put there) and returns its answer and the
    /// next value, or `None` to leave the word alone. Retries until the swap succeeds or `f`
    /// declines; returns `f`'s last answer and the state change made at `now_ms`, if any.
    fn fetch_update_action<T>(
        &self,
        mut current: Snapshot,
        now_ms: u64,
        mut f: impl FnMut(Snapshot) -> (T, Option<Snapshot>),
    ) -> (T, Option<Transitioned>) {
        loop {
            let (answer, next) = f(current);
            let Some(next) = next else {
                return (answer, None);
            };
            match self
                .word
                .compare_exchange(current.0, next.0, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => return (answer, self.entered(current, next, now_ms)),
                Err(actual) => current = Snapshot(actual),
            }
        }
    }

    /// [`fetch_update_action`](Self::fetch_update_action) from the current value, with nothing
    /// to answer but the change.
    fn fetch_update(
        &self,
        now_ms: u64,
        mut f: impl FnMut(Snapshot) -> Option<Snapshot>,
    ) -> Option<Transitioned> {
        self.fetch_update_action(self.load(), now_ms, |current| ((), f(current)))
            .1
    }

    /// After a swap from `from` to `to`: a new period began at `now_ms`, and unless it is a new
    /// period of the same state (a reset while closed) it is a transition to report.
    fn entered(&self, from: Snapshot, to: Snapshot, now_ms: u64) -> Option<Transitioned> {
        if from.generation() == to.generation() {
            return None; // the same period with its trial counts changed
        }
        self.since.store(
            (now_ms << GENERATION_BITS) | u64::from(to.generation()),
            Ordering::Release,
        );
        (from.state() != to.state()).then_some(Transitioned {
            from: from.state(),
            to: to.state(),
        })
    }

    /// Admission when the circuit was not closed in `current`: open → half-open once the sleep
    /// window has passed (the moving call takes the first trial permit), or one more of
    /// `half_open.max_trials` trial permits taken while half-open; otherwise a refusal. A
    /// half-open period with every permit taken for `half_open.max_wait_ms` or longer ends as a
    /// failed one would: open again, for `sleep_ms(streak)`.
    pub(crate) fn transition_to_trial(
        &self,
        current: Snapshot,
        now_ms: u64,
        half_open: HalfOpen,
        sleep_ms: impl Fn(u32) -> u64,
    ) -> (Entry, Option<Transitioned>) {
        self.fetch_update_action(current, now_ms, |word| match word.state() {
            State::Closed | State::ForcedClosed => (
                Entry::Free {
                    generation: word.generation(),
                },
                None,
            ),
            State::ForcedOpen => (
                Entry::Refused {
                    state: State::ForcedOpen,
                    retry_in_ms: 0,
                },
                None,
            ),
            State::Open => {
                if let Some(retry_in_ms) = word.asleep_for(now_ms) {
                    let state = State::Open;
                    return (Entry::Refused { state, retry_in_ms }, None);
                }
                let next = word.half_opened();
                let generation = next.generation();
                (Entry::Trial { generation }, Some(next))
            }
            State::HalfOpen if word.trials() >= half_open.max_trials => {
                if self.waited_too_long(word, now_ms, half_open.max_wait_ms) {
                    let streak = word.next_streak();
                    let sleep = sleep_ms(streak);
                    return (
                        Entry::Refused {
                            state: State::Open,
                            retry_in_ms: sleep,
                        },
                        Some(word.opened(now_ms, sleep, streak)),
                    );
                }
                (
                    Entry::Refused {
                        state: State::HalfOpen,
                        retry_in_ms: 0,
                    },
                    None,
                )
            }
            State::HalfOpen => (
                Entry::Trial {
                    generation: word.generation(),
                },
                Some(word.with_trials(word.trials() + 1, word.trial_successes())),
            ),
        })
    }

    /// Whether the half-open period `word` has waited on its trials for `max_wait_ms` or
    /// longer at `now_ms`. A period whose start is not stored yet has only just begun.
    fn waited_too_long(&self, word: Snapshot, now_ms: u64, max_wait_ms: Option<u64>) -> bool {
        max_wait_ms.is_some_and(|max_wait| {
            self.since_ms_of(word.generation())
                .is_some_and(|since| now_ms.saturating_sub(since) >= max_wait)
        })
    }

    /// A trial admitted in the half-open period `generation` ended without an outcome: its
    /// permit goes back to that period, if it is still the current one.
    pub(crate) fn give_back_trial(&self, generation: u32) {
        let moved = self.fetch_update(0, |word| {
            (word.state() == State::HalfOpen
                && word.generation() == generation
                && word.trials() > 0)
                .then(|| word.with_trials(word.trials() - 1, word.trial_successes()))
        });
        debug_assert!(moved.is_none(), "the same period, so no transition");
    }

    /// Closed → Open at `now_ms` for `sleep_ms`, if the breaker is still in the closed period
    /// `current`.
    pub(crate) fn transition_to_open(
        &self,
        current: Snapshot,
        now_ms: u64,
        sleep_ms: u64,
    ) -> Option<Transitioned> {
        // One attempt: if anything changed the word, the period that tripped is over.
        self.fetch_update_action(current, now_ms, |word| {
            (
                (),
                (word == current).then(|| word.opened(now_ms, sleep_ms, 0)),
            )
        })
        .1
    }

    /// A trial of the half-open period `current` finished: a failure re-opens the circuit for
    /// `sleep_ms(streak)`, one streak longer; the success that makes `max_trials` closes it,
    /// with `empty_window` run first so that the new closed period starts from nothing; an
    /// earlier success is counted. Nothing happens if the period has ended meanwhile (an
    /// operator moved the breaker, or it waited too long on its trials).
    pub(crate) fn transition_after_trial(
        &self,
        current: Snapshot,
        failed: bool,
        max_trials: u64,
        now_ms: u64,
        sleep_ms: impl Fn(u32) -> u64,
        empty_window: impl Fn(),
    ) -> Option<Transitioned> {
        let generation = current.generation();
        self.fetch_update_action(current, now_ms, |word| {
            if word.state() != State::HalfOpen || word.generation() != generation {
                return ((), None);
            }
            let next = if failed {
                let streak = word.next_streak();
                word.opened(now_ms, sleep_ms(streak), streak)
            } else if word.trial_successes() + 1 >= max_trials {
                // Every trial has succeeded, so none is still running to count into the window.
                empty_window();
                word.closed()
            } else {
                word.with_trials(word.trials(), word.trial_successes() + 1)
            };
            ((), Some(next))
        })
        .1
    }

    /// An open circuit's sleep window drawn again, as `sleep_ms(streak)` from when it opened
    /// (the configuration changed); nothing in any other state. The same period: no
    /// transition.
    pub(crate) fn transition_to_new_sleep(&self, now_ms: u64, sleep_ms: impl Fn(u32) -> u64) {
        let moved = self.fetch_update(now_ms, |word| {
            (word.state() == State::Open).then(|| {
                let opened = self.since_ms_of(word.generation()).unwrap_or(now_ms);
                word.sleeping_until(opened + sleep_ms(word.streak()))
            })
        });
        debug_assert!(moved.is_none(), "the same period, so no transition");
    }

    /// The fleet is open: closed or half-open → open until `end_ms` (a new period; a half-open
    /// period's trials are over, their outcomes ignored), or an open circuit's sleep window
    /// lengthened to end no sooner than `end_ms` (the same period). Forced states are the
    /// operator's and stay. Returns the generation of the open period, and the transition.
    #[cfg(feature = "redis")]
    pub(crate) fn transition_to_held_open(
        &self,
        now_ms: u64,
        end_ms: u64,
    ) -> (Option<u32>, Option<Transitioned>) {
        self.fetch_update_action(self.load(), now_ms, |word| match word.state() {
            State::Closed | State::HalfOpen => {
                let sleep = end_ms.saturating_sub(now_ms);
                let next = word.opened(now_ms, sleep, word.next_streak());
                (Some(next.generation()), Some(next))
            }
            State::Open => {
                let left = word.asleep_for(now_ms).unwrap_or(0);
                let generation = Some(word.generation());
                if now_ms + left >= end_ms {
                    (generation, None)
                } else {
                    (generation, Some(word.sleeping_until(end_ms)))
                }
            }
            State::ForcedOpen | State::ForcedClosed => (None, None),
        })
    }

    /// The fleet lent this instance a trial: the open period `generation` ends its sleep
    /// window now, so the next call half-opens the circuit as after any sleep window.
    #[cfg(feature = "redis")]
    pub(crate) fn transition_to_awake(&self, now_ms: u64, generation: u32) {
        let moved = self.fetch_update(now_ms, |word| {
            (word.state() == State::Open
                && word.generation() == generation
                && word.asleep_for(now_ms).is_some())
            .then(|| word.sleeping_until(now_ms))
        });
        debug_assert!(moved.is_none(), "the same period, so no transition");
    }

    /// The fleet closed: the open or half-open period `generation`, which the fleet held,
    /// closes, with `empty_window` run first as when trials close it.
    #[cfg(feature = "redis")]
    pub(crate) fn transition_to_closed_by_fleet(
        &self,
        now_ms: u64,
        generation: u32,
        empty_window: impl Fn(),
    ) -> Option<Transitioned> {
        self.fetch_update(now_ms, |word| {
            (matches!(word.state(), State::Open | State::HalfOpen)
                && word.generation() == generation)
                .then(|| {
                    empty_window();
                    word.closed()
                })
        })
    }

    /// An operator's force open: every call rejected, no half-opening, until released.
    pub(crate) fn transition_to_forced_open(&self, now_ms: u64) -> Option<Transitioned> {
        self.fetch_update(now_ms, |word| {
            (word.state() != State::ForcedOpen).then(|| word.forced_open())
        })
    }

    /// An operator's force closed: every call admitted, no tripping, until released.
    pub(crate) fn transition_to_forced_closed(&self, now_ms: u64) -> Option<Transitioned> {
        self.fetch_update(now_ms, |word| {
            (word.state() != State::ForcedClosed).then(|| word.forced_closed())
        })
    }

    /// Forced open or forced closed → Closed; nothing otherwise.
    pub(crate) fn transition_to_released(&self, now_ms: u64) -> Option<Transitioned> {
        self.fetch_update(now_ms, |word| {
            matches!(word.state(), State::ForcedOpen | State::ForcedClosed).then(|| word.closed())
        })
    }

    /// Any state → a new closed period.
    pub(crate) fn transition_to_reset(&self, now_ms: u64) -> Option<Transitioned> {
        self.fetch_update(now_ms, |word| Some(word.closed()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_round_trip() {
        let open = Snapshot::INITIAL.opened(123_456, 500, 0);
        assert_eq!(open.state(), State::Open);
        assert_eq!(open.generation(), 1);
        assert_eq!(open.asleep_for(123_456 + 70), Some(430));
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
        assert!(Snapshot::INITIAL.admits_freely());
        assert!(Snapshot::INITIAL.forced_closed().admits_freely());
        assert!(!Snapshot::INITIAL.forced_open().admits_freely());
    }

    #[test]
    fn the_streak_grows_through_half_open_periods_and_ends_elsewhere() {
        let open = Snapshot::INITIAL.opened(0, 100, Snapshot::INITIAL.next_streak());
        assert_eq!(open.streak(), 0, "a first opening, from closed");
        let half = open.half_opened().with_trials(3, 2);
        assert_eq!(half.streak(), 0);
        let reopened = half.opened(100, 200, half.next_streak());
        assert_eq!(reopened.streak(), 1);
        let again = reopened.half_opened();
        assert_eq!(again.next_streak(), 2);
        let longest = Snapshot::with_streak(KIND_HALF_OPEN, 9, MAX_STREAK, 1);
        assert_eq!(longest.next_streak(), MAX_STREAK, "saturates");
        assert_eq!(longest.generation(), 9);
        assert_eq!((longest.trials(), longest.trial_successes()), (1, 0));
        for ended in [again.closed(), again.forced_open(), again.forced_closed()] {
            assert_eq!(ended.streak(), 0);
            assert_eq!(ended.next_streak(), 0);
        }
    }

    #[test]
    fn generation_wraps_without_touching_other_fields() {
        let last = Snapshot::new(KIND_HALF_OPEN, u32::try_from(GENERATION_MASK).unwrap(), 0);
        let next = last.opened(5, 10, MAX_STREAK);
        assert_eq!(next.generation(), 0);
        assert_eq!(next.state(), State::Open);
        assert_eq!(next.streak(), MAX_STREAK);
        assert_eq!(next.asleep_for(5), Some(10));
    }

    #[test]
    fn a_sleep_window_tolerates_a_slightly_older_reading_and_wraps() {
        let open = Snapshot::INITIAL.opened(1_000_000, 5_000, 0);
        assert_eq!(open.asleep_for(999_990), Some(5_010));
        assert_eq!(open.asleep_for(1_000_000 + 4_000), Some(1_000));
        assert_eq!(open.asleep_for(1_000_000 + 5_000), None);
        let near_wrap = Snapshot::INITIAL.opened(TIME_MASK - 10, 40, 0);
        assert_eq!(near_wrap.asleep_for(TIME_MASK + 20), Some(10));
        assert_eq!(near_wrap.asleep_for(TIME_MASK + 30), None);
    }

    #[test]
    fn a_sleep_window_may_be_as_long_as_the_longest_backoff_with_jitter() {
        let open = Snapshot::INITIAL.opened(1_000_000, LONGEST_SLEEP_MS, 0);
        assert_eq!(open.asleep_for(1_000_000), Some(LONGEST_SLEEP_MS));
        assert_eq!(open.asleep_for(1_000_000 + LONGEST_SLEEP_MS - 1), Some(1));
        assert_eq!(open.asleep_for(1_000_000 + LONGEST_SLEEP_MS), None);
        // Long after the end, until the 34-bit time comes round again (198 days), it has passed.
        let later = TIME_MASK - LONGEST_SLEEP_MS - CLOCK_SKEW_MS;
        assert_eq!(open.asleep_for(1_000_000 + LONGEST_SLEEP_MS + later), None);
    }

    #[test]
    fn asleep_only_while_open_inside_the_sleep_window() {
        let open = Snapshot::INITIAL.opened(1_000, 500, 0);
        assert_eq!(open.asleep_for(1_000), Some(500));
        assert_eq!(open.asleep_for(1_499), Some(1));
        assert_eq!(open.asleep_for(1_500), None);
        assert_eq!(Snapshot::INITIAL.asleep_for(1_000), None);
        assert_eq!(open.half_opened().asleep_for(1_000), None);
    }

    #[test]
    fn a_half_open_period_full_for_too_long_reopens_with_a_longer_sleep() {
        let word = StateWord::new(0);
        let rules = HalfOpen {
            max_trials: 1,
            max_wait_ms: Some(1_000),
        };
        let sleep = |streak: u32| 100 << streak;
        assert!(word.transition_to_open(word.load(), 0, 100).is_some());
        let (entry, moved) = word.transition_to_trial(word.load(), 100, rules, sleep);
        assert!(matches!(entry, Entry::Trial { .. }));
        assert_eq!(moved.map(|m| m.to), Some(State::HalfOpen));
        // The trial hangs: the next callers are refused as half-open until the wait is over.
        let (entry, moved) = word.transition_to_trial(word.load(), 1_099, rules, sleep);
        assert_eq!(
            entry,
            Entry::Refused {
                state: State::HalfOpen,
                retry_in_ms: 0
            }
        );
        assert_eq!(moved, None);
        let (entry, moved) = word.transition_to_trial(word.load(), 1_100, rules, sleep);
        assert_eq!(
            entry,
            Entry::Refused {
                state: State::Open,
                retry_in_ms: 200
            }
        );
        assert_eq!(
            moved,
            Some(Transitioned {
                from: State::HalfOpen,
                to: State::Open
            })
        );
        assert_eq!(word.load().streak(), 1);
        assert_eq!(word.load().asleep_for(1_100), Some(200));
        // Without the rule, the same wait changes nothing.
        let patient = HalfOpen {
            max_wait_ms: None,
            ..rules
        };
        let (_, moved) = word.transition_to_trial(word.load(), 1_300, patient, sleep);
        assert_eq!(moved.map(|m| m.to), Some(State::HalfOpen));
        let (entry, moved) = word.transition_to_trial(word.load(), 90_000, patient, sleep);
        assert!(matches!(
            entry,
            Entry::Refused {
                state: State::HalfOpen,
                ..
            }
        ));
        assert_eq!(moved, None);
    }

    #[test]
    fn a_half_open_period_whose_start_is_not_stored_yet_has_only_begun() {
        let word = StateWord::new(0);
        let open = Snapshot::INITIAL.opened(0, 10, 0);
        let half = open.half_opened();
        word.word.store(half.0, Ordering::Relaxed);
        // `since` still holds the closed period's start (generation 0).
        assert!(!word.waited_too_long(half, 1_000_000, Some(1)));
        word.since.store(
            (5 << GENERATION_BITS) | u64::from(half.generation()),
            Ordering::Relaxed,
        );
        assert!(!word.waited_too_long(half, 5, Some(1)));
        assert!(word.waited_too_long(half, 6, Some(1)));
    }

    #[test]
    fn transitions_report_a_change_of_state_and_restart_its_time() {
        let word = StateWord::new(7);
        assert_eq!(
            word.transition_to_reset(10),
            None,
            "a new closed period is no change of state"
        );
        assert_eq!(word.since_ms(), 10);
        assert_eq!(
            word.transition_to_forced_open(20),
            Some(Transitioned {
                from: State::Closed,
                to: State::ForcedOpen
            })
        );
        assert_eq!(
            word.transition_to_forced_open(30),
            None,
            "already forced open"
        );
        assert_eq!(word.since_ms(), 20);
        assert!(word.transition_to_released(40).is_some());
        assert_eq!(word.transition_to_released(50), None, "not forced");
        assert_eq!(word.load().state(), State::Closed);
    }

    #[test]
    fn a_trip_from_an_ended_period_changes_nothing() {
        let word = StateWord::new(0);
        let closed = word.load();
        assert!(word.transition_to_reset(1).is_none());
        assert_eq!(word.transition_to_open(closed, 2, 100), None);
        assert_eq!(word.load().state(), State::Closed);
    }
}
