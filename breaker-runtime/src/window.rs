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
//! [contention cells](crate::cells) and counts them there from then on. Failures and
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

use once_cell::race::OnceBox;

use crate::{
    cells::{Cells, HotCounts, LazyCells},
    limits::{self, MIN_BUCKET_MS},
    outcome::Outcome,
    sync::{
        AtomicU32, AtomicU64, COUNTED, Ordering, add_one, add_one_watching, back_off,
        counted_before_reading, fence,
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

    fn add_hot(&mut self, counts: &HotCounts) {
        self.successes += u64::from(counts.successes.load(COUNTED));
        self.rejections += u64::from(counts.rejections.load(COUNTED));
    }

    fn take_hot(&mut self, counts: &HotCounts) {
        let (successes, rejections) = counts.take();
        self.successes += u64::from(successes);
        self.rejections += u64::from(rejections);
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

/// One bucket's counts: 8 bytes, the counts every breaker has. Rejections, which only a
/// breaker that has opened has, and timeouts and slow calls, which only a breaker with a
/// timeout or `slow_call_ms` has, are counted beside the buckets.
#[derive(Debug, Default)]
struct Bucket {
    successes: AtomicU32,
    /// Includes the timeouts.
    failures: AtomicU32,
}

impl Bucket {
    fn take(&self, totals: &mut Totals) {
        totals.successes += u64::from(self.successes.swap(0, Ordering::Relaxed));
        totals.failures += u64::from(self.failures.swap(0, Ordering::Relaxed));
    }
}

/// Counts per bucket that only some breakers keep, `KINDS` of them, beside the buckets rather
/// than in them: allocated at the first count, so that a breaker that never has one does not
/// pay for it in every bucket (a tenth of an idle breaker's bytes, for rejections alone).
///
/// loom cannot see through `OnceBox` (see [`LazyCells`]), so under loom they are made with the
/// window.
struct BesideBuckets<const KINDS: usize> {
    #[cfg(not(loom))]
    counts: OnceBox<Box<[[AtomicU32; KINDS]]>>,
    #[cfg(loom)]
    counts: Box<[[AtomicU32; KINDS]]>,
}

/// The kinds of [`Window::rare`]: a timeout is also a failure and a slow call a success or a
/// failure, so they are counted twice, which is what keeps them off most breakers' buckets.
const TIMEOUTS: usize = 0;
const SLOW: usize = 1;

impl<const KINDS: usize> BesideBuckets<KINDS> {
    #[cfg_attr(not(loom), allow(unused_variables))]
    fn new(buckets: usize) -> Self {
        BesideBuckets {
            #[cfg(not(loom))]
            counts: OnceBox::new(),
            #[cfg(loom)]
            counts: Self::made(buckets),
        }
    }

    fn made(buckets: usize) -> Box<[[AtomicU32; KINDS]]> {
        (0..buckets)
            .map(|_| std::array::from_fn(|_| AtomicU32::new(0)))
            .collect()
    }

    /// The counter of `kind` in bucket `slot` of `buckets`, made with the others at the first
    /// count.
    fn at(&self, slot: usize, kind: usize, buckets: usize) -> &AtomicU32 {
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
    fn get(&self) -> Option<&[[AtomicU32; KINDS]]> {
        #[cfg(not(loom))]
        return self.counts.get().map(|counts| &**counts);
        #[cfg(loom)]
        return Some(&self.counts);
    }

    /// What bucket `slot` holds of `kind`.
    fn count(&self, slot: usize, kind: usize) -> u64 {
        self.get()
            .map_or(0, |counts| u64::from(counts[slot][kind].load(COUNTED)))
    }

    /// Empties `kind` in bucket `slot`, returning what it held.
    fn take(&self, slot: usize, kind: usize) -> u64 {
        self.get().map_or(0, |counts| {
            u64::from(counts[slot][kind].swap(0, Ordering::Relaxed))
        })
    }
}

/// The head: `start_ms << 11 | slot << 1 | locked`. 53 bits of milliseconds outlast any
/// monotonic clock; `window_buckets` is at most 1000, below 2^10.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Head(u64);

impl Head {
    const LOCKED: u64 = 1;

    const fn new(start_ms: u64, slot: usize) -> Head {
        Head((start_ms << 11) | ((slot as u64) << 1))
    }

    const fn start_ms(self) -> u64 {
        self.0 >> 11
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

/// The counts buckets held when they were emptied: with what the buckets hold now, the
/// window's counts since it was created. Written only by the holder of the head's lock; and
/// what the buckets hold now, kept for [`Bounds`].
#[derive(Default)]
struct Folded {
    /// Odd while counts move from buckets to here, so that a reader adding both up can tell
    /// it may have seen a count in both places, or in neither, and read again (a sequence
    /// lock: the mover is the head's holder, so there is only ever one).
    generation: AtomicU64,
    successes: AtomicU64,
    failures: AtomicU64,
    timeouts: AtomicU64,
    rejections: AtomicU64,
    slow: AtomicU64,
    held: Held,
}

/// What the buckets hold, kept as it changes, for [`Bounds`].
#[derive(Default)]
struct Held {
    /// Failures in the buckets: one is added here before a bucket counts it, and what a bucket
    /// held is taken off after the bucket is emptied, so this is never below what the buckets
    /// hold.
    failures: AtomicU64,
    /// Slow calls in the buckets, kept as the failures are.
    slow: AtomicU64,
    /// Successes in the buckets other than the head's, as of when the head left each of them
    /// (and, once per turn of the window, as they all are): never above what they hold, since a
    /// count only grows until its bucket is emptied. Written only by the holder of the head's
    /// lock, inside [`Window::fold`], so a reading checks it against `Folded::generation`.
    closed_successes: AtomicU64,
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
    fn totals(&self) -> Totals {
        Totals {
            successes: self.successes.load(Ordering::Relaxed),
            failures: self.failures.load(Ordering::Relaxed),
            timeouts: self.timeouts.load(Ordering::Relaxed),
            rejections: self.rejections.load(Ordering::Relaxed),
            slow: self.slow.load(Ordering::Relaxed),
        }
    }

    fn add(&self, totals: &Totals) {
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
struct LazyFolded {
    #[cfg(not(loom))]
    folded: OnceBox<Folded>,
    #[cfg(loom)]
    folded: Folded,
}

impl LazyFolded {
    fn new() -> Self {
        LazyFolded {
            #[cfg(not(loom))]
            folded: OnceBox::new(),
            #[cfg(loom)]
            folded: Folded::default(),
        }
    }

    fn get(&self) -> Option<&Folded> {
        #[cfg(not(loom))]
        return self.folded.get();
        #[cfg(loom)]
        return Some(&self.folded);
    }

    fn get_or_make(&self) -> &Folded {
        #[cfg(not(loom))]
        return self.folded.get_or_init(Box::default);
        #[cfg(loom)]
        return &self.folded;
    }

    /// The generation a reading starts or ends at; 0 before any bucket was emptied.
    fn generation(&self, order: Ordering) -> u64 {
        self.get().map_or(0, |folded| folded.generation.load(order))
    }
}

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
    fn fitting(window_ms: u64, buckets: u64, capacity: usize) -> Shape {
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

    const fn packed(self) -> u64 {
        (self.bucket_ms << 32) | self.count as u64
    }

    // The count is at most 1000 and a bucket at most a day: each fits its half.
    #[allow(clippy::cast_possible_truncation)]
    const fn unpacked(word: u64) -> Shape {
        Shape {
            count: (word & 0xffff_ffff) as usize,
            bucket_ms: word >> 32,
        }
    }
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

    /// The buckets of a window of `shape` whose head is `head` that are still inside it at
    /// `now_ms`, newest first: each one's start and slot.
    fn inside(head: Head, shape: Shape, now_ms: u64) -> impl Iterator<Item = (u64, usize)> {
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

    /// Adds the counts of bucket `slot`, its timeouts and its cells' counts, to `totals`.
    fn add_bucket(&self, slot: usize, totals: &mut Totals) {
        self.add_hot_of(slot, totals);
        totals.failures += u64::from(self.buckets[slot].failures.load(COUNTED));
        totals.timeouts += self.rare.count(slot, TIMEOUTS);
        totals.slow += self.rare.count(slot, SLOW);
    }

    /// Adds bucket `slot`'s hot counts (successes, rejections), in the shared bucket and in
    /// the cells, to `totals`.
    fn add_hot_of(&self, slot: usize, totals: &mut Totals) {
        totals.successes += u64::from(self.buckets[slot].successes.load(COUNTED));
        totals.rejections += self.rejections.count(slot, 0);
        for counts in self.cells_of(slot) {
            totals.add_hot(counts);
        }
    }

    /// Bucket `slot`'s counts in every contention cell (none before the cells are made).
    fn cells_of(&self, slot: usize) -> impl Iterator<Item = &HotCounts> {
        self.cells
            .get()
            .into_iter()
            .flat_map(move |cells| cells.of_slot(slot))
    }

    /// Adds `totals` to the shared counters of bucket `slot` (saturating, as every count), and
    /// returns what did not fit.
    fn add_totals(&self, slot: usize, totals: &Totals) -> Totals {
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
            Outcome::Timeout => {
                let _ = add_one(self.rare.at(head.slot(), TIMEOUTS, self.buckets.len()));
                self.count_failure(head.slot());
            }
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
            Outcome::Timeout => {
                let _ = add_one(self.rare.at(head.slot(), TIMEOUTS, self.buckets.len()));
                self.count_failure(head.slot());
            }
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
    fn fold(&self, empty: impl FnOnce(&mut Totals, u64) -> u64) {
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
    fn take(&self, slot: usize, totals: &mut Totals) {
        let mut taken = Totals::default();
        self.buckets[slot].take(&mut taken);
        taken.rejections += self.rejections.take(slot, 0);
        taken.timeouts += self.rare.take(slot, TIMEOUTS);
        taken.slow += self.rare.take(slot, SLOW);
        for counts in self.cells_of(slot) {
            taken.take_hot(counts);
        }
        if let Some(folded) = self.folded.get() {
            // After the bucket was emptied: the held counts never fall below the buckets'.
            folded.held.failures.fetch_sub(taken.failures, COUNTED);
            folded.held.slow.fetch_sub(taken.slow, COUNTED);
        }
        totals.add(&taken);
    }

    /// Bucket `slot`'s successes, in the shared bucket and in the cells.
    fn successes_of(&self, slot: usize) -> u64 {
        let mut totals = Totals::default();
        self.add_hot_of(slot, &mut totals);
        totals.successes
    }

    /// The successes of the first `count` buckets but `head_slot`: the closed successes of a
    /// window whose head is at `head_slot`, read whole.
    fn closed_successes(&self, head_slot: usize, count: usize) -> u64 {
        (0..count)
            .filter(|&slot| slot != head_slot)
            .map(|slot| self.successes_of(slot))
            .sum()
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

    /// Counts a slow call in bucket `slot`, as [`count_failure`](Self::count_failure) does a
    /// failure.
    fn count_slow(&self, slot: usize) {
        let held = &self.folded.get_or_make().held;
        held.slow.fetch_add(1, COUNTED);
        if !add_one(self.rare.at(slot, SLOW, self.buckets.len())) {
            held.slow.fetch_sub(1, COUNTED);
        }
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

    /// The head of the bucket for `now_ms`, moving it forward if `now_ms` is past its period.
    #[inline]
    fn current(&self, now_ms: u64) -> Head {
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
    fn current_slow(&self, now_ms: u64) -> Head {
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
    fn advance(&self, head: Head, now_ms: u64) -> Option<Head> {
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
