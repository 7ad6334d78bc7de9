//! Counts since creation: what the buckets held when they were emptied, folded into totals
//! that outlive them; and the bounds on what the buckets hold now, kept as counts come and go,
//! which the trip rules read instead of walking every bucket.

#[cfg(not(loom))]
use once_cell::race::OnceBox;

use super::{Totals, Window, head::Head};
use crate::sync::{AtomicU64, COUNTED, Ordering, back_off, fence};

/// The counts buckets held when they were emptied: with what the buckets hold now, the
/// window's counts since it was created. Written only by the holder of the head's lock; and
/// what the buckets hold now, kept for [`Bounds`].
#[derive(Default)]
pub(super) struct Folded {
    /// Odd while counts move from buckets to here, so that a reader adding both up can tell
    /// it may have seen a count in both places, or in neither, and read again (a sequence
    /// lock: the mover is the head's holder, so there is only ever one).
    pub(super) generation: AtomicU64,
    pub(super) successes: AtomicU64,
    pub(super) failures: AtomicU64,
    pub(super) timeouts: AtomicU64,
    pub(super) rejections: AtomicU64,
    pub(super) slow: AtomicU64,
    pub(super) held: Held,
}

/// What the buckets hold, kept as it changes, for [`Bounds`].
#[derive(Default)]
pub(super) struct Held {
    /// Failures in the buckets: one is added here before a bucket counts it, and what a bucket
    /// held is taken off after the bucket is emptied, so this is never below what the buckets
    /// hold.
    pub(super) failures: AtomicU64,
    /// Slow calls in the buckets, kept as the failures are.
    pub(super) slow: AtomicU64,
    /// Successes in the buckets other than the head's, as of when the head left each of them
    /// (and, once per turn of the window, as they all are): never above what they hold, since a
    /// count only grows until its bucket is emptied. Written only by the holder of the head's
    /// lock, inside [`Window::fold`], so a reading checks it against `Folded::generation`.
    pub(super) closed_successes: AtomicU64,
}

/// Bounds on what a window holds, read without a walk over its buckets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Bounds {
    /// At least the failures (timeouts included) in the window.
    pub(crate) failures_at_most: u64,
    /// At least the slow calls in the window.
    pub(crate) slow_at_most: u64,
    /// At most the successes in the window.
    pub(crate) successes_at_least: u64,
}

impl Folded {
    pub(super) fn totals(&self) -> Totals {
        Totals {
            successes: self.successes.load(Ordering::Relaxed),
            failures: self.failures.load(Ordering::Relaxed),
            timeouts: self.timeouts.load(Ordering::Relaxed),
            rejections: self.rejections.load(Ordering::Relaxed),
            slow: self.slow.load(Ordering::Relaxed),
        }
    }

    pub(super) fn add(&self, totals: &Totals) {
        // One writer: a load and a store, not a read-modify-write.
        let add = |counter: &AtomicU64, count: u64| {
            counter.store(
                counter.load(Ordering::Relaxed).saturating_add(count),
                Ordering::Relaxed,
            );
        };
        add(&self.successes, totals.successes);
        add(&self.failures, totals.failures);
        add(&self.timeouts, totals.timeouts);
        add(&self.rejections, totals.rejections);
        add(&self.slow, totals.slow);
    }
}

/// A window's [`Folded`], in one pointer until the first bucket is emptied: a breaker that is
/// never called past its first bucket period does not pay for it. loom cannot see through
/// `OnceBox` (see [`LazyCells`]), so under loom it is made with the window.
pub(super) struct LazyFolded {
    #[cfg(not(loom))]
    pub(super) folded: OnceBox<Folded>,
    #[cfg(loom)]
    pub(super) folded: Folded,
}

impl LazyFolded {
    pub(super) fn new() -> Self {
        LazyFolded {
            #[cfg(not(loom))]
            folded: OnceBox::new(),
            #[cfg(loom)]
            folded: Folded::default(),
        }
    }

    pub(super) fn get(&self) -> Option<&Folded> {
        #[cfg(not(loom))]
        return self.folded.get();
        #[cfg(loom)]
        return Some(&self.folded);
    }

    pub(super) fn get_or_make(&self) -> &Folded {
        #[cfg(not(loom))]
        return self.folded.get_or_init(Box::default);
        #[cfg(loom)]
        return &self.folded;
    }

    /// The generation a reading starts or ends at; 0 before any bucket was emptied.
    pub(super) fn generation(&self, order: Ordering) -> u64 {
        self.get().map_or(0, |folded| folded.generation.load(order))
    }
}

impl Window {
    /// The counts since the window was made: what every bucket emptied so far held, and what
    /// the buckets hold now (inside the window or not).
    pub(crate) fn since_creation(&self) -> Totals {
        let mut attempt = 0;
        loop {
            let before = self.folded.generation(Ordering::Acquire);
            if before.is_multiple_of(2) {
                let mut totals = self
                    .folded
                    .get()
                    .map_or_else(Totals::default, Folded::totals);
                for slot in 0..self.buckets.len() {
                    self.add_bucket(slot, &mut totals);
                }
                fence(Ordering::Acquire);
                if self.folded.generation(Ordering::Relaxed) == before {
                    return totals;
                }
            }
            // Counts were moving from buckets to the folded totals: read again.
            back_off(&mut attempt);
        }
    }

    /// Empties every bucket.
    pub(crate) fn clear(&self) {
        let head = self.lock();
        self.fold(|moved, _| {
            for slot in 0..self.buckets.len() {
                self.take(slot, moved);
            }
            0
        });
        self.head.store(head.0, Ordering::Release);
    }

    /// Runs `empty`, which empties buckets into the totals it is given, and adds those to the
    /// folded totals, in one step for readers of [`since_creation`](Self::since_creation).
    /// `empty` is given the closed successes before and returns them after (see [`Held`]),
    /// published in the same step for readers of [`bounds`](Self::bounds). Only with the head
    /// locked.
    pub(super) fn fold(&self, empty: impl FnOnce(&mut Totals, u64) -> u64) {
        let folded = self.folded.get_or_make();
        let generation = folded.generation.load(Ordering::Relaxed);
        folded.generation.store(generation + 1, Ordering::Relaxed);
        fence(Ordering::Release);
        let mut moved = Totals::default();
        let closed = &folded.held.closed_successes;
        closed.store(
            empty(&mut moved, closed.load(Ordering::Relaxed)),
            Ordering::Relaxed,
        );
        if !moved.is_empty() {
            folded.add(&moved);
        }
        folded.generation.store(generation + 2, Ordering::Release);
    }

    /// Empties bucket `slot`, in the shared buckets and in the cells, into `totals`. Only
    /// inside [`fold`](Self::fold), which made the held counts this takes the bucket's off.
    pub(super) fn take(&self, slot: usize, totals: &mut Totals) {
        let taken = self.empty_bucket(slot);
        if let Some(folded) = self.folded.get() {
            // After the bucket was emptied: the held counts never fall below the buckets'.
            folded.held.failures.fetch_sub(taken.failures, COUNTED);
            folded.held.slow.fetch_sub(taken.slow, COUNTED);
        }
        totals.add(&taken);
    }

    /// The successes of the first `count` buckets but `head_slot`: the closed successes of a
    /// window whose head is at `head_slot`, read whole.
    pub(super) fn closed_successes(&self, head_slot: usize, count: usize) -> u64 {
        (0..count)
            .filter(|&slot| slot != head_slot)
            .map(|slot| self.successes_of(slot))
            .sum()
    }

    /// Bounds on what the window holds, from a few loads, whatever its number of buckets:
    /// `None` while the head moves (or moved during the reading), when only a walk over the
    /// buckets tells. Read right after counting at `now_ms` (so that the head's period holds
    /// `now_ms`, and every bucket is inside the window), as the trip rules do.
    pub(crate) fn bounds(&self) -> Option<Bounds> {
        let folded = self.folded.get()?;
        let before = folded.generation.load(Ordering::Acquire);
        let head = Head(self.head.load(Ordering::Acquire));
        if !before.is_multiple_of(2) || head.is_locked() {
            return None;
        }
        let closed = folded.held.closed_successes.load(Ordering::Relaxed);
        let bounds = Bounds {
            failures_at_most: folded.held.failures.load(COUNTED),
            slow_at_most: folded.held.slow.load(COUNTED),
            successes_at_least: closed.saturating_add(self.successes_of(head.slot())),
        };
        fence(Ordering::Acquire);
        (folded.generation.load(Ordering::Relaxed) == before).then_some(bounds)
    }
}
