//! A bucket's counts: the two every breaker has in the bucket itself, and the kinds only some
//! breakers have, beside the buckets; and the one walk that reads or empties them all.

#[cfg(not(loom))]
use once_cell::race::OnceBox;

use super::{Totals, Window};
use crate::sync::{AtomicU32, COUNTED, Ordering};

/// One bucket's counts: 8 bytes, the counts every breaker has. Rejections, which only a
/// breaker that has opened has, and timeouts and slow calls, which only a breaker with a
/// timeout or `slow_call_ms` has, are counted beside the buckets.
#[derive(Debug, Default)]
pub(super) struct Bucket {
    pub(super) successes: AtomicU32,
    /// Includes the timeouts.
    pub(super) failures: AtomicU32,
}

/// Counts per bucket that only some breakers keep, `KINDS` of them, beside the buckets rather
/// than in them: allocated at the first count, so that a breaker that never has one does not
/// pay for it in every bucket (a tenth of an idle breaker's bytes, for rejections alone).
///
/// loom cannot see through `OnceBox` (see [`LazyCells`]), so under loom they are made with the
/// window.
pub(super) struct BesideBuckets<const KINDS: usize> {
    #[cfg(not(loom))]
    pub(super) counts: OnceBox<Box<[[AtomicU32; KINDS]]>>,
    #[cfg(loom)]
    pub(super) counts: Box<[[AtomicU32; KINDS]]>,
}

/// The kinds of [`Window::rare`]: a timeout is also a failure and a slow call a success or a
/// failure, so they are counted twice, which is what keeps them off most breakers' buckets.
pub(super) const TIMEOUTS: usize = 0;
pub(super) const SLOW: usize = 1;

impl<const KINDS: usize> BesideBuckets<KINDS> {
    #[cfg_attr(not(loom), allow(unused_variables))]
    pub(super) fn new(buckets: usize) -> Self {
        BesideBuckets {
            #[cfg(not(loom))]
            counts: OnceBox::new(),
            #[cfg(loom)]
            counts: Self::made(buckets),
        }
    }

    pub(super) fn made(buckets: usize) -> Box<[[AtomicU32; KINDS]]> {
        (0..buckets)
            .map(|_| std::array::from_fn(|_| AtomicU32::new(0)))
            .collect()
    }

    /// The counter of `kind` in bucket `slot` of `buckets`, made with the others at the first
    /// count.
    pub(super) fn at(&self, slot: usize, kind: usize, buckets: usize) -> &AtomicU32 {
        #[cfg(not(loom))]
        let counts = self.counts.get_or_init(|| Box::new(Self::made(buckets)));
        #[cfg(loom)]
        let counts = {
            let _ = buckets;
            &self.counts
        };
        &counts[slot][kind]
    }

    /// The counts, if one was ever made.
    pub(super) fn get(&self) -> Option<&[[AtomicU32; KINDS]]> {
        #[cfg(not(loom))]
        return self.counts.get().map(|counts| &**counts);
        #[cfg(loom)]
        return Some(&self.counts);
    }

    /// The counter of `kind` in bucket `slot`, read with `read`; 0 before the first count.
    fn read(&self, slot: usize, kind: usize, read: impl Fn(&AtomicU32) -> u32) -> u64 {
        self.get()
            .map_or(0, |counts| u64::from(read(&counts[slot][kind])))
    }
}

impl Window {
    /// Adds the counts of bucket `slot` (in the bucket, beside it and in the cells) to
    /// `totals`.
    pub(super) fn add_bucket(&self, slot: usize, totals: &mut Totals) {
        totals.add(&self.walk_bucket(slot, |counter| counter.load(COUNTED)));
    }

    /// Empties bucket `slot`, returning what it held. Each counter is swapped out, so that a
    /// count racing the emptying is either returned or stays, never lost.
    pub(super) fn empty_bucket(&self, slot: usize) -> Totals {
        self.walk_bucket(slot, |counter| counter.swap(0, Ordering::Relaxed))
    }

    /// Every counter of bucket `slot`, each read with `read`: the one walk over what a bucket
    /// holds, wherever it is held, for reading it and for emptying it alike.
    fn walk_bucket(&self, slot: usize, read: impl Fn(&AtomicU32) -> u32) -> Totals {
        let bucket = &self.buckets[slot];
        let mut totals = Totals {
            successes: u64::from(read(&bucket.successes)),
            failures: u64::from(read(&bucket.failures)),
            rejections: self.rejections.read(slot, 0, &read),
            timeouts: self.rare.read(slot, TIMEOUTS, &read),
            slow: self.rare.read(slot, SLOW, &read),
        };
        for counts in self.cells_of(slot) {
            totals.successes += u64::from(read(&counts.successes));
            totals.rejections += u64::from(read(&counts.rejections));
        }
        totals
    }
}
