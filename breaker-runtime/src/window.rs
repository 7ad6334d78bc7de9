//! The rolling window: outcome counts over the last `window_ms`, kept in `window_buckets`
//! buckets as Hystrix's rolling statistics are, so that old outcomes age out a bucket at a time.
//!
//! Recording is one load of the head and one `fetch_add` on the current bucket. The head names
//! the current bucket and the time its period started; when a reading falls past that period,
//! the thread that wins the head (a compare-and-swap that sets its lock bit) empties the buckets
//! being reused and publishes the new head. That takes a few stores, once per bucket period;
//! other writers wait for it rather than count into a bucket that is being emptied.

use crate::sync::{AtomicU64, CacheLine, Ordering, back_off};

/// What a finished call counts as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// It returned `Ok`, or an `Err` that the failure predicate let pass.
    Success,
    /// It returned a counted `Err`, or panicked.
    Failure,
    /// It ran past the timeout and was dropped: a failure, also counted as a timeout.
    #[cfg_attr(not(feature = "tokio"), allow(dead_code))]
    Timeout,
}

impl Outcome {
    pub(crate) const fn is_failure(self) -> bool {
        !matches!(self, Outcome::Success)
    }
}

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

/// The head: `start_ms << 16 | slot << 1 | locked`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Head(u64);

impl Head {
    const LOCKED: u64 = 1;

    const fn new(start_ms: u64, slot: usize) -> Head {
        Head((start_ms << 16) | ((slot as u64) << 1))
    }

    const fn start_ms(self) -> u64 {
        self.0 >> 16
    }

    const fn slot(self) -> usize {
        // 15 bits, and `window_buckets` is at most 1000.
        ((self.0 >> 1) & 0x7fff) as usize
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
    bucket_ms: u64,
    length_ms: u64,
}

impl Window {
    pub(crate) fn new(window_ms: u64, buckets: u64) -> Window {
        let count = usize::try_from(buckets).unwrap_or(1).max(1);
        Window {
            head: CacheLine(AtomicU64::new(Head::new(0, 0).0)),
            buckets: (0..count).map(|_| Bucket::default()).collect(),
            bucket_ms: window_ms / buckets.max(1),
            length_ms: window_ms,
        }
    }

    /// Counts an outcome at `now_ms`, and returns the start of the bucket period it went into.
    pub(crate) fn record(&self, now_ms: u64, outcome: Outcome) -> u64 {
        let (bucket, start_ms) = self.current(now_ms);
        match outcome {
            Outcome::Success => bucket.successes.fetch_add(1, Ordering::Relaxed),
            Outcome::Failure => bucket.failures.fetch_add(1, Ordering::Relaxed),
            Outcome::Timeout => {
                bucket.timeouts.fetch_add(1, Ordering::Relaxed);
                bucket.failures.fetch_add(1, Ordering::Relaxed)
            }
        };
        start_ms
    }

    /// Counts a rejected call at `now_ms`.
    pub(crate) fn record_rejection(&self, now_ms: u64) {
        self.current(now_ms)
            .0
            .rejections
            .fetch_add(1, Ordering::Relaxed);
    }

    /// When a failure counted into the bucket starting at `bucket_start_ms` leaves the window.
    pub(crate) const fn expiry_of(&self, bucket_start_ms: u64) -> u64 {
        bucket_start_ms + self.length_ms
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
        totals
    }

    /// Empties every bucket.
    pub(crate) fn clear(&self) {
        let head = self.lock();
        for bucket in &*self.buckets {
            bucket.empty();
        }
        self.head.store(head.0, Ordering::Release);
    }

    /// The bucket for `now_ms`, moving the head forward if `now_ms` is past its period.
    fn current(&self, now_ms: u64) -> (&Bucket, u64) {
        let mut attempt = 0;
        loop {
            let head = Head(self.head.load(Ordering::Acquire));
            if head.is_locked() {
                back_off(&mut attempt);
                continue;
            }
            // A reading older than the head (this thread read the clock before another moved
            // the head) counts in the newest bucket: late by less than a bucket, never lost.
            if now_ms < head.start_ms() + self.bucket_ms {
                return (&self.buckets[head.slot()], head.start_ms());
            }
            if let Some(advanced) = self.advance(head, now_ms) {
                return (&self.buckets[advanced.slot()], advanced.start_ms());
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
        let advanced = Head::new(start_ms, slot);
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
    fn a_late_reading_counts_in_the_newest_bucket() {
        let w = window();
        w.record(10_500, Outcome::Success);
        w.record(10_300, Outcome::Failure); // read before the head moved to 10_500
        assert_eq!(w.totals(10_500).calls(), 2);
    }
}
