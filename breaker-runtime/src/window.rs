//! The rolling window: outcome counts over the last `window_ms`, kept in `window_buckets`
//! buckets as Hystrix's rolling statistics are, so that old outcomes age out a bucket at a time.
//!
//! The head names the current bucket and the time its period started; when a reading falls
//! past that period, the thread that wins the head (a compare-and-swap that sets its lock bit)
//! empties the buckets being reused and publishes the new head. That takes a few stores, once
//! per bucket period; other writers wait for it rather than count into a bucket that is being
//! emptied.
//!
//! The outcomes of every call — successes, and rejections while open — are counted in the
//! calling thread's [lane](crate::lane): one load of the head, then a plain load and store into
//! a cache line only that thread writes. A lane bucket is tagged with the head it counts for,
//! so its owner empties it when the head has moved on, and readers skip it when it has aged
//! out or the window was cleared since (a clear bumps the head's reset count). Failures and
//! timeouts, rare and followed by a look at the whole window anyway, and the counts of threads
//! without a lane, go into the shared atomic buckets.

use std::sync::OnceLock;

use crate::{
    lane::{self, LANES},
    outcome::Outcome,
    sync::{AtomicU64, CacheLine, Ordering, back_off},
};

/// Counts over the window, or over one bucket.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Totals {
    pub(crate) successes: u64,
    /// Includes the timeouts.
    pub(crate) failures: u64,
    pub(crate) timeouts: u64,
    pub(crate) rejections: u64,
}

impl Totals {
    /// Calls that ran to an outcome: what the error rate is a rate of.
    pub(crate) const fn calls(&self) -> u64 {
        self.successes + self.failures
    }
}

#[derive(Debug, Default)]
struct Bucket {
    successes: AtomicU64,
    failures: AtomicU64,
    timeouts: AtomicU64,
    rejections: AtomicU64,
}

impl Bucket {
    fn empty(&self) {
        for counter in [
            &self.successes,
            &self.failures,
            &self.timeouts,
            &self.rejections,
        ] {
            counter.store(0, Ordering::Relaxed);
        }
    }

    fn add_to(&self, totals: &mut Totals) {
        totals.successes += self.successes.load(Ordering::Relaxed);
        totals.failures += self.failures.load(Ordering::Relaxed);
        totals.timeouts += self.timeouts.load(Ordering::Relaxed);
        totals.rejections += self.rejections.load(Ordering::Relaxed);
    }
}

/// A thread's counts for one bucket period, written only by the thread that owns the lane.
#[derive(Debug, Default)]
struct LaneBucket {
    /// The head (unlocked) these counts belong to.
    head: AtomicU64,
    successes: AtomicU64,
    rejections: AtomicU64,
}

impl LaneBucket {
    /// Starts a slot that last counted for an older period, or before a clear, afresh; only
    /// then says which head it counts for, so a reader never adds old counts to the new head.
    #[cold]
    fn restart(&self, head: Head) {
        self.successes.store(0, Ordering::Relaxed);
        self.rejections.store(0, Ordering::Relaxed);
        self.head.store(head.0, Ordering::Release);
    }
}

/// One lane's buckets, each on a cache line of its own.
type LaneBuckets = Box<[CacheLine<LaneBucket>]>;

/// The head: `start_ms << 23 | resets << 11 | slot << 1 | locked`. 41 bits of milliseconds
/// last 69 years of the monotonic clock; `window_buckets` is at most 1000, below 2^10.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Head(u64);

impl Head {
    const LOCKED: u64 = 1;
    const RESETS_MASK: u64 = (1 << 12) - 1;

    const fn new(start_ms: u64, resets: u64, slot: usize) -> Head {
        Head((start_ms << 23) | ((resets & Head::RESETS_MASK) << 11) | ((slot as u64) << 1))
    }

    const fn start_ms(self) -> u64 {
        self.0 >> 23
    }

    /// How many times the window was cleared (wrapping at 4096): lane counts from before a
    /// clear carry an older count and are skipped.
    const fn resets(self) -> u64 {
        (self.0 >> 11) & Head::RESETS_MASK
    }

    const fn slot(self) -> usize {
        // 10 bits.
        ((self.0 >> 1) & 0x3ff) as usize
    }

    const fn is_locked(self) -> bool {
        self.0 & Head::LOCKED != 0
    }

    const fn locked(self) -> Head {
        Head(self.0 | Head::LOCKED)
    }
}

pub(crate) struct Window {
    head: CacheLine<AtomicU64>,
    buckets: Box<[Bucket]>,
    /// Per lane, allocated at the lane's first call through this breaker. A fixed-size array
    /// kept inline: a call finds its lane's buckets with one load less and no bounds check.
    lanes: [OnceLock<LaneBuckets>; LANES],
    bucket_ms: u64,
    length_ms: u64,
}

impl Window {
    pub(crate) fn new(window_ms: u64, buckets: u64) -> Window {
        let count = usize::try_from(buckets).unwrap_or(1).max(1);
        Window {
            head: CacheLine(AtomicU64::new(Head::new(0, 0, 0).0)),
            buckets: (0..count).map(|_| Bucket::default()).collect(),
            lanes: [const { OnceLock::new() }; LANES],
            bucket_ms: window_ms / buckets.max(1),
            length_ms: window_ms,
        }
    }

    /// Counts an outcome at `now_ms`, and returns the start of the bucket period it went into.
    #[inline]
    pub(crate) fn record(&self, now_ms: u64, outcome: Outcome) -> u64 {
        let head = self.current(now_ms);
        match outcome {
            Outcome::Success => {
                self.count_per_thread(head, |counts| &counts.successes, |b| &b.successes);
            }
            Outcome::Failure => {
                self.buckets[head.slot()]
                    .failures
                    .fetch_add(1, Ordering::Relaxed);
            }
            Outcome::Timeout => {
                let bucket = &self.buckets[head.slot()];
                bucket.timeouts.fetch_add(1, Ordering::Relaxed);
                bucket.failures.fetch_add(1, Ordering::Relaxed);
            }
        }
        head.start_ms()
    }

    /// Counts a rejected call at `now_ms`.
    // Always inlined: a rejection's whole cost is this, a clock reading and a state load.
    #[allow(clippy::inline_always)]
    #[inline(always)]
    pub(crate) fn record_rejection(&self, now_ms: u64) {
        let head = self.current(now_ms);
        self.count_per_thread(head, |counts| &counts.rejections, |b| &b.rejections);
    }

    /// Adds one to a counter of this thread's lane for `head`, or, for a thread without a lane,
    /// to the same counter of the shared bucket.
    // Always inlined, as `record_rejection` is: out of line it adds a call to every rejection.
    #[allow(clippy::inline_always)]
    #[inline(always)]
    fn count_per_thread(
        &self,
        head: Head,
        in_lane: impl Fn(&LaneBucket) -> &AtomicU64,
        shared: impl Fn(&Bucket) -> &AtomicU64,
    ) {
        if !self.count_in_lane(head, in_lane) {
            shared(&self.buckets[head.slot()]).fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Adds one to a counter of this thread's lane for `head`; `false` if the thread has no
    /// lane. Only the lane's owner writes it, so a load and a store are an exact increment.
    #[inline]
    fn count_in_lane(&self, head: Head, counter: impl Fn(&LaneBucket) -> &AtomicU64) -> bool {
        let Some(lane) = lane::current() else {
            return false;
        };
        let buckets = match self.lanes[lane].get() {
            Some(buckets) => buckets,
            None => self.open_lane(lane),
        };
        let counts = &buckets[head.slot()];
        if counts.head.load(Ordering::Relaxed) != head.0 {
            counts.restart(head);
        }
        let counter = counter(counts);
        counter.store(counter.load(Ordering::Relaxed) + 1, Ordering::Relaxed);
        true
    }

    /// When a failure counted into the bucket starting at `bucket_start_ms` leaves the window.
    pub(crate) const fn expiry_of(&self, bucket_start_ms: u64) -> u64 {
        bucket_start_ms + self.length_ms
    }

    /// A lane's buckets, allocated at its first call through this breaker.
    #[cold]
    #[inline(never)]
    fn open_lane(&self, lane: usize) -> &LaneBuckets {
        self.lanes[lane].get_or_init(|| {
            (0..self.buckets.len())
                .map(|_| CacheLine(LaneBucket::default()))
                .collect()
        })
    }

    /// The counts of the buckets still inside the window at `now_ms`.
    pub(crate) fn totals(&self, now_ms: u64) -> Totals {
        let head = self.unlocked_head();
        let mut totals = Totals::default();
        let count = self.buckets.len();
        for back in 0..count {
            let Some(start_ms) = head.start_ms().checked_sub(back as u64 * self.bucket_ms) else {
                break;
            };
            if start_ms + self.length_ms <= now_ms {
                break; // this bucket and every older one have aged out
            }
            self.buckets[(head.slot() + count - back) % count].add_to(&mut totals);
        }
        for buckets in self.lanes.iter().filter_map(OnceLock::get) {
            for counts in &**buckets {
                let tag = Head(counts.head.load(Ordering::Acquire));
                if tag.resets() == head.resets()
                    && tag.start_ms() <= head.start_ms()
                    && tag.start_ms() + self.length_ms > now_ms
                {
                    totals.successes += counts.successes.load(Ordering::Relaxed);
                    totals.rejections += counts.rejections.load(Ordering::Relaxed);
                }
            }
        }
        totals
    }

    /// Empties every bucket: the shared ones now, the lanes' by moving to the next reset count.
    pub(crate) fn clear(&self) {
        let head = self.lock();
        for bucket in &*self.buckets {
            bucket.empty();
        }
        let cleared = Head::new(head.start_ms(), head.resets() + 1, head.slot());
        self.head.store(cleared.0, Ordering::Release);
    }

    /// The head of the bucket for `now_ms`, moving it forward if `now_ms` is past its period.
    #[inline]
    fn current(&self, now_ms: u64) -> Head {
        let head = Head(self.head.load(Ordering::Acquire));
        // A reading older than the head (this thread read the clock before another moved the
        // head) counts in the newest bucket: late by less than a bucket, never lost.
        if !head.is_locked() && now_ms < head.start_ms() + self.bucket_ms {
            return head;
        }
        self.current_slow(now_ms)
    }

    /// `current` when the head is locked or its period is over: once per bucket period.
    #[cold]
    #[inline(never)]
    fn current_slow(&self, now_ms: u64) -> Head {
        let mut attempt = 0;
        loop {
            let head = Head(self.head.load(Ordering::Acquire));
            if head.is_locked() {
                back_off(&mut attempt);
                continue;
            }
            if now_ms < head.start_ms() + self.bucket_ms {
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
    fn advance(&self, head: Head, now_ms: u64) -> Option<Head> {
        self.head
            .compare_exchange(
                head.0,
                head.locked().0,
                Ordering::Acquire,
                Ordering::Relaxed,
            )
            .ok()?;
        let count = self.buckets.len();
        let start_ms = now_ms - now_ms % self.bucket_ms;
        let steps = (start_ms - head.start_ms()) / self.bucket_ms;
        let reused = usize::try_from(steps).unwrap_or(usize::MAX).min(count);
        for step in 1..=reused {
            self.buckets[(head.slot() + step) % count].empty();
        }
        // `steps % count` is below `count`, which fits in a usize.
        #[allow(clippy::cast_possible_truncation)]
        let slot = (head.slot() + (steps % count as u64) as usize) % count;
        let advanced = Head::new(start_ms, head.resets(), slot);
        self.head.store(advanced.0, Ordering::Release);
        Some(advanced)
    }

    /// Takes the head's lock, waiting out a thread that holds it.
    fn lock(&self) -> Head {
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

    fn unlocked_head(&self) -> Head {
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

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    fn window() -> Window {
        Window::new(1_000, 10) // ten buckets of 100 ms
    }

    #[test]
    fn counts_outcomes_in_the_window() {
        let w = window();
        w.record(10_000, Outcome::Success);
        w.record(10_050, Outcome::Failure);
        w.record(10_150, Outcome::Timeout);
        w.record_rejection(10_150);
        let totals = w.totals(10_200);
        assert_eq!(
            totals,
            Totals {
                successes: 1,
                failures: 2,
                timeouts: 1,
                rejections: 1
            }
        );
        assert_eq!(totals.calls(), 3);
    }

    #[test]
    fn buckets_age_out_one_at_a_time() {
        let w = window();
        w.record(10_000, Outcome::Failure); // bucket [10_000, 10_100)
        w.record(10_100, Outcome::Success); // bucket [10_100, 10_200)
        assert_eq!(w.totals(10_999).calls(), 2);
        assert_eq!(
            w.totals(11_000).calls(),
            1,
            "the first bucket has left the window"
        );
        assert_eq!(w.totals(11_100).calls(), 0);
        // Writing after a long pause reuses the slots and starts from zero.
        w.record(50_000, Outcome::Success);
        assert_eq!(w.totals(50_000).calls(), 1);
    }

    #[test]
    fn a_pause_longer_than_the_window_empties_every_bucket() {
        let w = window();
        for i in 0..10 {
            w.record(10_000 + i * 100, Outcome::Failure);
        }
        assert_eq!(w.totals(10_900).failures, 10);
        w.record(10_900 + 5_000, Outcome::Success);
        assert_eq!(w.totals(15_900).failures, 0);
        assert_eq!(w.totals(15_900).successes, 1);
    }

    #[test]
    fn expiry_matches_aging_out() {
        let w = window();
        let start = w.record(10_042, Outcome::Failure);
        assert_eq!(start, 10_000);
        assert_eq!(w.totals(w.expiry_of(start) - 1).failures, 1);
        assert_eq!(w.totals(w.expiry_of(start)).failures, 0);
    }

    #[test]
    fn clear_empties_and_keeps_counting() {
        let w = window();
        w.record(10_000, Outcome::Failure);
        w.clear();
        assert_eq!(w.totals(10_000), Totals::default());
        w.record(10_010, Outcome::Success);
        assert_eq!(w.totals(10_010).successes, 1);
    }

    #[test]
    fn threads_beyond_the_lanes_count_in_the_shared_buckets() {
        use std::sync::{Arc, Barrier};
        let _many = lane::MANY_LANES.lock();
        let w = Arc::new(window());
        let threads = LANES + 8;
        // Every thread holds its lane until all have counted, so some run out of lanes.
        let barrier = Arc::new(Barrier::new(threads));
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                let (w, barrier) = (Arc::clone(&w), Arc::clone(&barrier));
                std::thread::spawn(move || {
                    w.record(10_000, Outcome::Success);
                    w.record_rejection(10_000);
                    barrier.wait();
                })
            })
            .collect();
        for handle in handles {
            handle.join().unwrap();
        }
        let totals = w.totals(10_000);
        assert_eq!(totals.successes, threads as u64);
        assert_eq!(totals.rejections, threads as u64);
        let shared = w
            .buckets
            .iter()
            .map(|b| b.successes.load(Ordering::Relaxed))
            .sum::<u64>();
        assert!(shared >= 8, "at least 8 threads had no lane: {shared}");
    }

    #[test]
    fn a_lane_given_back_by_an_exited_thread_keeps_its_counts_for_the_next() {
        let _many = lane::MANY_LANES.lock();
        let w = std::sync::Arc::new(window());
        for _ in 0..(LANES * 2) {
            let w = std::sync::Arc::clone(&w);
            std::thread::spawn(move || {
                w.record(10_000, Outcome::Success);
            })
            .join()
            .unwrap();
        }
        assert_eq!(w.totals(10_000).successes, (LANES * 2) as u64);
    }

    #[test]
    fn clear_forgets_lane_counts() {
        let w = window();
        w.record(10_000, Outcome::Success);
        w.record_rejection(10_000);
        w.clear();
        assert_eq!(w.totals(10_000), Totals::default());
        w.record(10_000, Outcome::Success);
        assert_eq!(
            w.totals(10_000).successes,
            1,
            "the lane starts afresh in the same period"
        );
    }

    #[test]
    fn a_late_reading_counts_in_the_newest_bucket() {
        let w = window();
        w.record(10_500, Outcome::Success);
        w.record(10_300, Outcome::Failure); // read before the head moved to 10_500
        assert_eq!(w.totals(10_500).calls(), 2);
    }
}
