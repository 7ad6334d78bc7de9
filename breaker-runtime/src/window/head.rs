//! The head and its rotation: which bucket is current, and moving on to the next bucket
//! period, emptying the buckets it reuses, under the head's lock.

use super::{Shape, Window};
use crate::sync::{Ordering, back_off};

/// The head: `start_ms << 11 | slot << 1 | locked`. 53 bits of milliseconds outlast any
/// monotonic clock; `window_buckets` is at most 1000, below 2^10.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Head(pub(super) u64);

impl Head {
    const LOCKED: u64 = 1;

    pub(super) const fn new(start_ms: u64, slot: usize) -> Head {
        Head((start_ms << 11) | ((slot as u64) << 1))
    }

    pub(super) const fn start_ms(self) -> u64 {
        self.0 >> 11
    }

    pub(super) const fn slot(self) -> usize {
        // 10 bits.
        ((self.0 >> 1) & 0x3ff) as usize
    }

    pub(super) const fn is_locked(self) -> bool {
        self.0 & Head::LOCKED != 0
    }

    pub(super) const fn locked(self) -> Head {
        Head(self.0 | Head::LOCKED)
    }
}

impl Window {
    /// The buckets of a window of `shape` whose head is `head` that are still inside it at
    /// `now_ms`, newest first: each one's start and slot.
    pub(super) fn inside(
        head: Head,
        shape: Shape,
        now_ms: u64,
    ) -> impl Iterator<Item = (u64, usize)> {
        let Shape { count, bucket_ms } = shape;
        (0..count).map_while(move |back| {
            let start_ms = head.start_ms().checked_sub(back as u64 * bucket_ms)?;
            // Once a bucket has aged out, so has every older one. The head's slot is below the
            // count, except for a reading that raced a reshape, which the modulo keeps inside
            // the array.
            (start_ms + bucket_ms * count as u64 > now_ms)
                .then_some((start_ms, (head.slot() + count - back) % count))
        })
    }

    /// The head of the bucket for `now_ms`, moving it forward if `now_ms` is past its period.
    #[inline]
    pub(super) fn current(&self, now_ms: u64) -> Head {
        let head = Head(self.head.load(Ordering::Acquire));
        // A reading older than the head (this thread read the clock before another moved the
        // head) counts in the newest bucket: late by less than a bucket, never lost.
        if !head.is_locked() && now_ms < head.start_ms() + self.shape().bucket_ms {
            return head;
        }
        self.current_slow(now_ms)
    }

    /// `current` when the head is locked or its period is over: once per bucket period.
    #[cold]
    #[inline(never)]
    pub(super) fn current_slow(&self, now_ms: u64) -> Head {
        let mut attempt = 0;
        loop {
            let head = Head(self.head.load(Ordering::Acquire));
            if head.is_locked() {
                back_off(&mut attempt);
                continue;
            }
            if now_ms < head.start_ms() + self.shape().bucket_ms {
                return head;
            }
            if let Some(advanced) = self.advance(head, now_ms) {
                return advanced;
            }
        }
    }

    /// Moves the head from `head` to the bucket period holding `now_ms`, emptying the buckets
    /// it passes over. `None` if another thread moved or locked the head first.
    #[cold]
    pub(super) fn advance(&self, head: Head, now_ms: u64) -> Option<Head> {
        self.head
            .compare_exchange(
                head.0,
                head.locked().0,
                Ordering::Acquire,
                Ordering::Relaxed,
            )
            .ok()?;
        let Shape { count, bucket_ms } = self.shape();
        let start_ms = now_ms - now_ms % bucket_ms;
        let steps = (start_ms - head.start_ms()) / bucket_ms;
        let reused = usize::try_from(steps).unwrap_or(usize::MAX).min(count);
        // `steps % count` is below `count`, which fits in a usize.
        #[allow(clippy::cast_possible_truncation)]
        let slot = (head.slot() + (steps % count as u64) as usize) % count;
        self.fold(|moved, closed| {
            for step in 1..=reused {
                self.take((head.slot() + step) % count, moved);
            }
            if reused == count {
                0 // every bucket emptied
            } else if slot < head.slot() {
                // Once per turn of the window, read whole: the successes counted into a bucket
                // after the head left it are in the bounds again.
                self.closed_successes(slot, count)
            } else {
                // The emptied buckets' successes go, the bucket the head leaves joins. What
                // was counted into an emptied bucket after the head left it goes too, though
                // it never came: the bounds stay bounds.
                closed.saturating_sub(moved.successes) + self.successes_of(head.slot())
            }
        });
        let advanced = Head::new(start_ms, slot);
        self.head.store(advanced.0, Ordering::Release);
        Some(advanced)
    }

    /// Takes the head's lock, waiting out a thread that holds it.
    pub(super) fn lock(&self) -> Head {
        let mut attempt = 0;
        loop {
            let head = Head(self.head.load(Ordering::Relaxed));
            if !head.is_locked()
                && self
                    .head
                    .compare_exchange(
                        head.0,
                        head.locked().0,
                        Ordering::Acquire,
                        Ordering::Relaxed,
                    )
                    .is_ok()
            {
                return head;
            }
            back_off(&mut attempt);
        }
    }

    pub(super) fn unlocked_head(&self) -> Head {
        let mut attempt = 0;
        loop {
            let head = Head(self.head.load(Ordering::Acquire));
            if !head.is_locked() {
                return head;
            }
            back_off(&mut attempt);
        }
    }
}
