//! The rolling window: outcome counts over the last `window_ms`, kept in `window_buckets`
//! buckets as Hystrix's rolling statistics are, so that old outcomes age out a bucket at a time.
//!
//! The head names the current bucket and the time its period started; when a reading falls
//! past that period, the thread that wins the head (a compare-and-swap that sets its lock bit)
//! empties the buckets being reused and publishes the new head. That takes a few stores, once
//! per bucket period; other writers wait for it rather than count into a bucket that is being
//! emptied.
//!
//! Every count is a 32-bit atomic counter. A bucket holds successes and failures; rejections,
//! timeouts and slow calls, which many breakers never have, are counted beside the buckets in
//! arrays made at their first count. Successes and rejections, the counts of nearly every
//! call, go into their shared counter with one `fetch_add` while threads call the breaker one
//! at a time; once two threads are seen adding to a counter at once, the window gets
//! [contention cells](cells) and counts them there from then on. Failures and
//! timeouts, rare, always go into the shared buckets. Emptying a bucket empties its counts in
//! the cells too, and a reading adds them up.
//!
//! A failure is followed by a look at the window's rates, and so is every success while the
//! window holds enough failures to trip on: reading every bucket then would make a struggling
//! dependency's calls cost more the more buckets the window has. So the window also keeps what
//! bounds its rates without a walk ([`Bounds`]): the failures and slow calls its buckets hold,
//! counted as they are added and taken (never below what the buckets hold), and the successes
//! of the buckets behind the head as of when the head left them (never above), which the
//! thread that moves the head keeps up to date. The trip rules read the bounds first and walk
//! the buckets only when the bounds cannot rule a trip out.

mod bucket;
pub(crate) mod cells;
mod folded;
mod head;
mod reshape;

use bucket::{BesideBuckets, Bucket, SLOW, TIMEOUTS};
use cells::{Cells, HotCounts, LazyCells};
pub(crate) use folded::Bounds;
use folded::LazyFolded;
use head::Head;
pub(crate) use reshape::Shape;

use crate::{
    limits,
    outcome::Outcome,
    sync::{
        AtomicU32, AtomicU64, COUNTED, Ordering, add_one, add_one_watching, counted_before_reading,
    },
};

/// Counts over the window, or over one bucket.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Totals {
    pub(crate) successes: u64,
    /// Includes the timeouts.
    pub(crate) failures: u64,
    pub(crate) timeouts: u64,
    pub(crate) rejections: u64,
    /// Calls that took longer than `slow_call_ms`, successes and failures alike: also in
    /// `successes` or `failures`.
    pub(crate) slow: u64,
}

impl Totals {
    /// Calls that ran to an outcome: what the error rate is a rate of.
    pub(crate) const fn calls(&self) -> u64 {
        self.successes + self.failures
    }

    fn add(&mut self, other: &Totals) {
        self.successes += other.successes;
        self.failures += other.failures;
        self.timeouts += other.timeouts;
        self.rejections += other.rejections;
        self.slow += other.slow;
    }

    fn is_empty(&self) -> bool {
        *self == Totals::default()
    }
}

pub(crate) struct Window {
    head: AtomicU64,
    buckets: Box<[Bucket]>,
    /// Rejections per bucket: only a breaker that has opened has any.
    rejections: BesideBuckets<1>,
    /// Timeouts and slow calls per bucket: only a breaker with a timeout or `slow_call_ms` has
    /// any.
    rare: BesideBuckets<2>,
    /// Allocated at the first collision of two threads on a counter of this window.
    cells: LazyCells,
    /// `bucket_ms << 32 | count`: the window is `count` buckets of `bucket_ms` (the
    /// configuration checks that they divide it), the first `count` of `buckets`. Changed only
    /// under the head's lock, by [`reshape`](Window::reshape).
    shape: AtomicU64,
    /// What emptied buckets held, made at the first bucket emptied.
    folded: LazyFolded,
}

impl Window {
    /// A window of `window_ms` in `buckets` buckets.
    pub(crate) fn new(window_ms: u64, buckets: u64) -> Window {
        let capacity = usize::try_from(buckets.clamp(1, limits::WINDOW_BUCKETS.max)).unwrap_or(1);
        let shape = Shape::fitting(window_ms, buckets, capacity);
        Window {
            head: AtomicU64::new(Head::new(0, 0).0),
            buckets: (0..capacity).map(|_| Bucket::default()).collect(),
            rejections: BesideBuckets::new(capacity),
            rare: BesideBuckets::new(capacity),
            cells: LazyCells::new(capacity),
            shape: AtomicU64::new(shape.packed()),
            folded: LazyFolded::new(),
        }
    }

    /// The buckets in use, and their width.
    #[inline]
    pub(crate) fn shape(&self) -> Shape {
        Shape::unpacked(self.shape.load(Ordering::Relaxed))
    }

    /// Counts an outcome at `now_ms`, and returns the start of the bucket period it went into.
    #[inline]
    pub(crate) fn record(&self, now_ms: u64, outcome: Outcome) -> u64 {
        let head = self.current(now_ms);
        match outcome {
            Outcome::Success => self.count_hot(
                head,
                |slot| &self.buckets[slot].successes,
                |counts| &counts.successes,
            ),
            Outcome::Failure => self.count_failure(head.slot()),
            Outcome::Timeout => self.count_timeout(head.slot()),
        }
        counted_before_reading();
        head.start_ms()
    }

    /// Counts a slow call's outcome at `now_ms`, and that it was slow, in one bucket; returns
    /// the start of its period.
    pub(crate) fn record_slow(&self, now_ms: u64, outcome: Outcome) -> u64 {
        let head = self.current(now_ms);
        self.count_slow(head.slot());
        match outcome {
            Outcome::Success => {
                let _ = add_one(&self.buckets[head.slot()].successes);
            }
            Outcome::Failure => self.count_failure(head.slot()),
            Outcome::Timeout => self.count_timeout(head.slot()),
        }
        counted_before_reading();
        head.start_ms()
    }

    /// Counts a rejected call at `now_ms`.
    // Always inlined: a rejection's whole cost is this, a clock reading and a state load.
    #[allow(clippy::inline_always)]
    #[inline(always)]
    pub(crate) fn record_rejection(&self, now_ms: u64) {
        let head = self.current(now_ms);
        let buckets = self.buckets.len();
        self.count_hot(
            head,
            |slot| self.rejections.at(slot, 0, buckets),
            |counts| &counts.rejections,
        );
    }

    /// Adds one to a success or rejection counter of `head`'s bucket: the shared one (`shared`
    /// of the slot), unless threads have collided on this window, then this thread's cell's.
    // Always inlined, as `record_rejection` is: out of line it adds a call to every rejection.
    #[allow(clippy::inline_always)]
    #[inline(always)]
    fn count_hot<'w>(
        &'w self,
        head: Head,
        shared: impl FnOnce(usize) -> &'w AtomicU32,
        pick: impl Fn(&HotCounts) -> &AtomicU32,
    ) {
        match self.cells.get() {
            None => {
                if add_one_watching(shared(head.slot())) {
                    self.contended(); // the next counts go to the cells
                }
            }
            Some(cells) => cells.add(head.slot(), pick),
        }
    }

    /// The cells, allocated by the first thread that finds a counter contended.
    #[cold]
    #[inline(never)]
    pub(crate) fn contended(&self) -> &Cells {
        self.cells.get_or_make(self.buckets.len())
    }

    /// When a failure counted into the bucket starting at `bucket_start_ms` leaves the window.
    pub(crate) fn expiry_of(&self, bucket_start_ms: u64) -> u64 {
        let shape = self.shape();
        bucket_start_ms + shape.bucket_ms * shape.count as u64
    }

    /// The counts of the buckets still inside the window at `now_ms`.
    pub(crate) fn totals(&self, now_ms: u64) -> Totals {
        #[cfg(all(test, not(loom)))]
        tests::WALKS.with(|walks| walks.set(walks.get() + 1));
        let head = self.unlocked_head();
        let mut totals = Totals::default();
        for (_, slot) in Window::inside(head, self.shape(), now_ms) {
            self.add_bucket(slot, &mut totals);
        }
        totals
    }

    /// The buckets still inside the window at `now_ms`, newest first: each one's start and
    /// counts (fleet mode seeds a store that lost its data with them).
    #[cfg(feature = "redis")]
    pub(crate) fn buckets(&self, now_ms: u64) -> Vec<(u64, Totals)> {
        let head = self.unlocked_head();
        Window::inside(head, self.shape(), now_ms)
            .map(|(start_ms, slot)| {
                let mut totals = Totals::default();
                self.add_bucket(slot, &mut totals);
                (start_ms, totals)
            })
            .collect()
    }

    /// Counts a failure (timeouts included) in bucket `slot`: held first, so that the held
    /// count is never below what the buckets hold (see [`Held`]).
    fn count_failure(&self, slot: usize) {
        let held = &self.folded.get_or_make().held;
        held.failures.fetch_add(1, COUNTED);
        if !add_one(&self.buckets[slot].failures) {
            held.failures.fetch_sub(1, COUNTED); // the bucket is at its cap: not counted
        }
    }

    /// Counts a timeout in bucket `slot`: a failure, counted beside the bucket as a timeout
    /// too.
    fn count_timeout(&self, slot: usize) {
        let _ = add_one(self.rare.at(slot, TIMEOUTS, self.buckets.len()));
        self.count_failure(slot);
    }

    /// Counts a slow call in bucket `slot`, as [`count_failure`](Self::count_failure) does a
    /// failure.
    fn count_slow(&self, slot: usize) {
        let held = &self.folded.get_or_make().held;
        held.slow.fetch_add(1, COUNTED);
        if !add_one(self.rare.at(slot, SLOW, self.buckets.len())) {
            held.slow.fetch_sub(1, COUNTED);
        }
    }

    /// Bucket `slot`'s counts in every contention cell (none before the cells are made).
    fn cells_of(&self, slot: usize) -> impl Iterator<Item = &HotCounts> {
        self.cells
            .get()
            .into_iter()
            .flat_map(move |cells| cells.of_slot(slot))
    }

    /// Bucket `slot`'s successes, in the shared bucket and in the cells.
    fn successes_of(&self, slot: usize) -> u64 {
        let shared = u64::from(self.buckets[slot].successes.load(COUNTED));
        self.cells_of(slot).fold(shared, |successes, counts| {
            successes + u64::from(counts.successes.load(COUNTED))
        })
    }
}

#[cfg(all(test, not(loom)))]
pub(crate) mod tests {
    use super::*;

    thread_local! {
        /// Walks over a window's buckets made by this thread: what the trip rules' bounds
        /// save.
        pub(crate) static WALKS: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
    }

    /// The bounds of `w` at `now`, which must hold the window's counts exactly when one
    /// thread counts: at most and at least are both what the walk finds.
    fn assert_bounds_exact(w: &Window, now: u64) {
        let totals = w.totals(now);
        assert_eq!(
            w.bounds(),
            Some(Bounds {
                failures_at_most: totals.failures,
                slow_at_most: totals.slow,
                successes_at_least: totals.successes,
            }),
            "at {now}: {totals:?}"
        );
    }

    #[test]
    fn bounds_follow_the_window_exactly_through_rotations_reshapes_and_clears() {
        let w = window();
        // No failure yet: nothing held, nothing to bound.
        w.record(10_000, Outcome::Success);
        assert_bounds_exact(&w, 10_000);
        // Outcomes every 30 ms for three turns of the window: the head moves one bucket at a
        // time, wraps, and the buckets it reuses take their counts out of the bounds.
        for i in 0..100_u64 {
            let now = 10_000 + i * 30;
            let outcome = match i % 7 {
                0 | 3 => Outcome::Failure,
                5 => Outcome::Timeout,
                _ => Outcome::Success,
            };
            if i % 11 == 0 {
                w.record_slow(now, outcome);
            } else {
                w.record(now, outcome);
            }
            w.record_rejection(now);
            assert_bounds_exact(&w, now);
        }
        // Contention cells, a jump of several buckets, a reshape each way, a clear.
        w.contended();
        w.record(13_500, Outcome::Success);
        w.record(13_520, Outcome::Failure);
        assert_bounds_exact(&w, 13_520);
        w.record(13_950, Outcome::Success);
        assert_bounds_exact(&w, 13_950);
        w.reshape(500, 5, 13_960, || {});
        assert_bounds_exact(&w, 13_960);
        w.reshape(2_000, 20, 13_970, || {});
        w.record(13_980, Outcome::Failure);
        assert_bounds_exact(&w, 13_980);
        w.clear();
        assert_bounds_exact(&w, 13_980);
        w.record(20_000, Outcome::Success);
        w.record_slow(20_000, Outcome::Failure);
        assert_bounds_exact(&w, 20_000);
    }

    #[test]
    fn a_success_counted_after_the_head_left_its_bucket_keeps_the_bounds_bounds() {
        let w = window();
        w.record(10_000, Outcome::Failure);
        w.record(10_000, Outcome::Success);
        w.record(10_100, Outcome::Success); // the head moves on
        // A thread that found the head at 10_000 counts its success only now, in the bucket
        // the head left: the walk sees it, the bounds do not, and stay below.
        let _ = add_one(&w.buckets[0].successes);
        let bounds = w.bounds().expect("no rotation under way");
        assert_eq!(bounds.successes_at_least, 2);
        assert_eq!(w.totals(10_100).successes, 3);
        // When its bucket is reused, the bounds lose what they never had: still a bound.
        w.record(11_000, Outcome::Success);
        assert!(w.bounds().unwrap().successes_at_least <= w.totals(11_000).successes);
        // At the next turn of the window, they are whole again.
        for now in (11_100..=12_000).step_by(100) {
            w.record(now, Outcome::Success);
            assert!(w.bounds().unwrap().successes_at_least <= w.totals(now).successes);
        }
        assert_bounds_exact(&w, 12_000);
    }

    #[test]
    fn a_rotation_under_way_gives_no_bounds() {
        let w = window();
        w.record(10_000, Outcome::Failure);
        let head = w.lock();
        assert_eq!(w.bounds(), None, "the head is locked");
        w.head.store(head.0, Ordering::Release);
        assert!(w.bounds().is_some());
    }

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
        w.record_slow(10_160, Outcome::Success);
        w.record_slow(10_170, Outcome::Timeout);
        let totals = w.totals(10_200);
        assert_eq!(
            totals,
            Totals {
                successes: 2,
                failures: 3,
                timeouts: 2,
                rejections: 1,
                slow: 2,
            }
        );
        assert_eq!(totals.calls(), 5);
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
    fn counts_since_creation_outlive_the_buckets() {
        let w = window();
        w.record(10_000, Outcome::Success);
        w.record(10_050, Outcome::Timeout);
        w.record_rejection(10_100);
        w.record_slow(10_150, Outcome::Failure);
        let all = Totals {
            successes: 1,
            failures: 2,
            timeouts: 1,
            rejections: 1,
            slow: 1,
        };
        assert_eq!(
            w.since_creation(),
            all,
            "nothing emptied yet: the buckets hold it all"
        );
        // Long after the window: the buckets are reused, their counts kept.
        w.record(90_000, Outcome::Failure);
        assert_eq!(w.totals(90_000).calls(), 1);
        let mut more = all;
        more.failures += 1;
        assert_eq!(w.since_creation(), more);
        w.clear();
        assert_eq!(w.totals(90_000), Totals::default());
        assert_eq!(w.since_creation(), more, "emptying the window keeps them");
    }

    #[test]
    fn counts_since_creation_survive_a_reshape() {
        let w = window();
        for i in 0..10 {
            w.record(10_000 + i * 100, Outcome::Failure);
        }
        w.record_rejection(10_950);
        // Half the window: five buckets' failures leave it, and stay in the counts since creation.
        w.reshape(500, 5, 10_950, || {});
        assert_eq!(w.totals(10_950).failures, 5);
        let since = w.since_creation();
        assert_eq!((since.failures, since.rejections), (10, 1));
        w.reshape(2_000, 20, 10_950, || {});
        assert_eq!(w.since_creation(), since);
    }

    #[test]
    fn counts_in_cells_are_kept_when_emptied() {
        let w = window();
        w.contended();
        w.record(10_000, Outcome::Success);
        w.record_rejection(10_000);
        w.record(20_000, Outcome::Success);
        let since = w.since_creation();
        assert_eq!((since.successes, since.rejections), (2, 1));
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
    fn threads_calling_one_at_a_time_never_allocate_cells() {
        let w = std::sync::Arc::new(window());
        for _ in 0..16 {
            let w = std::sync::Arc::clone(&w);
            std::thread::spawn(move || {
                w.record(10_000, Outcome::Success);
                w.record_rejection(10_000);
            })
            .join()
            .unwrap();
        }
        assert!(w.cells.get().is_none());
        assert_eq!(w.totals(10_000).successes, 16);
    }

    #[test]
    fn threads_counting_at_once_lose_nothing() {
        use std::sync::{Arc, Barrier};
        const THREADS: usize = 4;
        const CALLS: u64 = 20_000;
        let w = Arc::new(window());
        let barrier = Arc::new(Barrier::new(THREADS));
        let handles: Vec<_> = (0..THREADS)
            .map(|_| {
                let (w, barrier) = (Arc::clone(&w), Arc::clone(&barrier));
                std::thread::spawn(move || {
                    barrier.wait();
                    for _ in 0..CALLS {
                        w.record(10_000, Outcome::Success);
                        w.record_rejection(10_000);
                    }
                })
            })
            .collect();
        for handle in handles {
            handle.join().unwrap();
        }
        let totals = w.totals(10_000);
        assert_eq!(totals.successes, 4 * CALLS);
        assert_eq!(totals.rejections, 4 * CALLS);
    }

    #[test]
    fn counts_in_cells_age_out_and_clear_with_their_bucket() {
        let w = window();
        w.contended();
        w.record(10_000, Outcome::Success);
        w.record_rejection(10_000);
        w.record(10_100, Outcome::Success);
        let in_cells: u32 = (0..10)
            .flat_map(|slot| w.cells.get().unwrap().of_slot(slot))
            .map(|counts| counts.successes.load(Ordering::Relaxed))
            .sum();
        assert_eq!(in_cells, 2, "with cells, successes go to them");
        assert_eq!(w.totals(10_100).successes, 2);
        assert_eq!(w.totals(10_100).rejections, 1);
        assert_eq!(w.totals(11_000).successes, 1, "the first bucket aged out");
        // Coming back to the first slot a window later starts it from zero.
        w.record(11_000, Outcome::Success);
        assert_eq!(w.totals(11_000).successes, 2);
        w.clear();
        assert_eq!(w.totals(11_000), Totals::default());
    }

    #[test]
    fn counters_stop_at_their_cap() {
        let w = window();
        w.buckets[0].successes.store(u32::MAX, Ordering::Relaxed);
        w.buckets[0].failures.store(u32::MAX, Ordering::Relaxed);
        w.record(0, Outcome::Success);
        w.record(0, Outcome::Failure);
        let totals = w.totals(0);
        assert_eq!(totals.successes, u64::from(u32::MAX));
        assert_eq!(totals.failures, u64::from(u32::MAX));
        assert!(
            w.cells.get().is_none(),
            "a capped counter is not a contended one"
        );
    }

    #[test]
    fn a_late_reading_counts_in_the_newest_bucket() {
        let w = window();
        w.record(10_500, Outcome::Success);
        w.record(10_300, Outcome::Failure); // read before the head moved to 10_500
        assert_eq!(w.totals(10_500).calls(), 2);
    }

    #[test]
    fn a_shape_fits_the_array_it_is_given() {
        let shape = |window_ms, buckets, capacity| {
            let Shape { count, bucket_ms } = Shape::fitting(window_ms, buckets, capacity);
            (count, bucket_ms)
        };
        assert_eq!(shape(10_000, 10, 10), (10, 1_000));
        assert_eq!(shape(5_000, 5, 10), (5, 1_000));
        assert_eq!(shape(20_000, 40, 10), (10, 2_000), "at most the array");
        assert_eq!(shape(7_000, 14, 10), (10, 700));
        assert_eq!(
            shape(1_000, 12, 7),
            (5, 200),
            "the most that divides the window"
        );
        assert_eq!(shape(1_001, 7, 5), (1, 1_001), "1001 = 7 × 11 × 13");
        assert_eq!(shape(100, 10, 20), (10, 10));
    }

    #[test]
    fn a_reshape_moves_counts_timeouts_and_cells_to_the_buckets_holding_them() {
        let w = Window::new(10_000, 10); // 10 buckets of 1 s
        for second in 0..10 {
            w.record(second * 1_000, Outcome::Failure);
            w.record(second * 1_000, Outcome::Timeout);
        }
        w.contended()
            .add(w.current(9_000).slot(), |counts| &counts.successes);
        w.reshape(4_000, 2, 9_500, || {});
        assert_eq!(
            w.shape(),
            Shape {
                count: 2,
                bucket_ms: 2_000
            }
        );
        // The 2 s buckets at 8 s (the counts of 8 s and 9 s) and at 6 s (those of 6 s, 7 s).
        let totals = w.totals(9_500);
        assert_eq!(
            (totals.failures, totals.timeouts, totals.successes),
            (8, 4, 1)
        );
        assert_eq!(
            w.totals(10_500).failures,
            4,
            "the bucket at 6 s ages out at 10 s"
        );
        w.record(10_500, Outcome::Success);
        assert_eq!(
            w.totals(10_500).calls(),
            6,
            "counting goes on in the new shape"
        );
        let mut unchanged = false;
        w.reshape(4_000, 2, 10_500, || unchanged = true);
        assert!(
            unchanged,
            "the closure runs under the lock even with nothing to change"
        );
        assert_eq!(w.totals(10_500).calls(), 6);
    }
}
