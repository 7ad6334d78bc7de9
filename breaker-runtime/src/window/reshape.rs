//! The window's shape (how many buckets, how wide) and changing it on a live window.

use super::{
    Totals, Window,
    bucket::{SLOW, TIMEOUTS},
    head::Head,
};
use crate::{
    limits::MIN_BUCKET_MS,
    sync::{AtomicU32, COUNTED, Ordering},
};

/// A window's buckets: how many, and how wide.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Shape {
    pub(crate) count: usize,
    pub(crate) bucket_ms: u64,
}

impl Shape {
    /// `window_ms` in `buckets` buckets, in an array of `capacity`: the largest number of
    /// buckets, at most `buckets` and at most `capacity`, that divides the window into buckets
    /// of at least [`MIN_BUCKET_MS`] (for a valid configuration within its array, `buckets`).
    pub(super) fn fitting(window_ms: u64, buckets: u64, capacity: usize) -> Shape {
        let most = usize::try_from(buckets).unwrap_or(usize::MAX).min(capacity);
        let count = (1..=most.max(1))
            .rev()
            .find(|&count| {
                let count = count as u64;
                window_ms.is_multiple_of(count) && window_ms / count >= MIN_BUCKET_MS
            })
            .unwrap_or(1);
        Shape {
            count,
            bucket_ms: (window_ms / count as u64).max(1),
        }
    }

    pub(super) const fn packed(self) -> u64 {
        (self.bucket_ms << 32) | self.count as u64
    }

    // The count is at most 1000 and a bucket at most a day: each fits its half.
    #[allow(clippy::cast_possible_truncation)]
    pub(super) const fn unpacked(word: u64) -> Shape {
        Shape {
            count: (word & 0xffff_ffff) as usize,
            bucket_ms: word >> 32,
        }
    }
}

impl Window {
    /// Makes the window `window_ms` long in `buckets` buckets, at `now_ms`, keeping its
    /// counts: each bucket still inside the new window moves, counts and all, to the new
    /// bucket that holds the moment it started (so a count may age out up to a bucket early
    /// or late, as buckets always make it). The bucket array is never reallocated, because
    /// calls index it without a lock: a window asked for more buckets than it was made with
    /// keeps its length and its counts in the most buckets its array holds that divide it.
    /// An outcome being counted at the very moment of the change may be left out of the
    /// window (never out of the call's result).
    ///
    /// `while_locked` runs under the head's lock, before the change: what it does is
    /// serialised with every other reshape.
    pub(crate) fn reshape(
        &self,
        window_ms: u64,
        buckets: u64,
        now_ms: u64,
        while_locked: impl FnOnce(),
    ) {
        let new = Shape::fitting(window_ms, buckets, self.buckets.len());
        let head = self.lock();
        while_locked();
        let old = self.shape();
        if new == old {
            self.head.store(head.0, Ordering::Release);
            return;
        }
        let start_ms = now_ms - now_ms % new.bucket_ms;
        let newest = new.count - 1;
        self.fold(|moved, _| {
            // What each old bucket inside the window holds, and when it started.
            let kept: Vec<(u64, Totals)> = Window::inside(head, old, now_ms)
                .map(|(start_ms, slot)| {
                    let mut totals = Totals::default();
                    self.take(slot, &mut totals);
                    (start_ms, totals)
                })
                .collect();
            for slot in 0..self.buckets.len() {
                self.take(slot, moved);
            }
            for (old_start, totals) in kept {
                let back =
                    start_ms.saturating_sub(old_start - old_start % new.bucket_ms) / new.bucket_ms;
                match usize::try_from(back) {
                    Ok(back) if back < new.count => {
                        let dropped = self.add_totals(newest - back, &totals);
                        moved.add(&dropped);
                    }
                    // Outside the new window: it ages out now, into the totals since creation.
                    _ => moved.add(&totals),
                }
            }
            self.closed_successes(newest, new.count)
        });
        self.shape.store(new.packed(), Ordering::Relaxed);
        self.head
            .store(Head::new(start_ms, newest).0, Ordering::Release);
    }

    /// Adds `totals` to the shared counters of bucket `slot` (saturating, as every count), and
    /// returns what did not fit.
    pub(super) fn add_totals(&self, slot: usize, totals: &Totals) -> Totals {
        let add = |counter: &AtomicU32, count: u64| {
            let mut left = count;
            let _ = counter.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |value| {
                let room = u64::from(u32::MAX - value).min(count);
                left = count - room;
                // `room` is at most the counter's headroom, which fits.
                #[allow(clippy::cast_possible_truncation)]
                Some(value + room as u32)
            });
            left
        };
        let bucket = &self.buckets[slot];
        // Held before the buckets count them, as every failure and slow call is; what did not
        // fit is taken off again below.
        let held = &self.folded.get_or_make().held;
        held.failures.fetch_add(totals.failures, COUNTED);
        held.slow.fetch_add(totals.slow, COUNTED);
        let left = Totals {
            successes: add(&bucket.successes, totals.successes),
            rejections: if totals.rejections > 0 {
                add(
                    self.rejections.at(slot, 0, self.buckets.len()),
                    totals.rejections,
                )
            } else {
                0
            },
            failures: add(&bucket.failures, totals.failures),
            timeouts: if totals.timeouts > 0 {
                add(
                    self.rare.at(slot, TIMEOUTS, self.buckets.len()),
                    totals.timeouts,
                )
            } else {
                0
            },
            slow: if totals.slow > 0 {
                add(self.rare.at(slot, SLOW, self.buckets.len()), totals.slow)
            } else {
                0
            },
        };
        held.failures.fetch_sub(left.failures, COUNTED);
        held.slow.fetch_sub(left.slow, COUNTED);
        left
    }
}
