//! Contention cells: where the counts of calls go once threads collide on a breaker's shared
//! counters, as Java's `LongAdder` (which Hystrix counts with) spreads an add over cells.
//!
//! A breaker starts with one counter per kind and bucket (in [`window`](crate::window)), which
//! a call adds to with one `fetch_add`. While one thread at a time calls the breaker, that is
//! all it ever has. When threads are seen adding to a counter at once (see
//! [`add_one_watching`](crate::sync::add_one_watching)), the breaker gets cells: one small
//! array of bucket counts per cell, a few cache lines each, as many cells as the machine runs
//! threads at once (a power of two, from 2 to 64). From then on each thread adds to the cell
//! its probe picks, with a compare-and-swap; two threads that collide on a cell (the swap
//! fails) move apart by rehashing their probes. A cell is written by whichever threads land on
//! it, so the adds stay atomic; what the cells buy is that threads rarely share a cache line,
//! which is what makes a shared counter slow.
//!
//! So an uncontended breaker costs its buckets and no more, whatever the number of threads
//! that call it one after another; a contended one costs at most 64 cells of
//! ⌈buckets / 8⌉ × 64 bytes, allocated once.

use crate::sync::{AtomicU32, CacheLine, add_one, try_add_one};

/// The counts a call adds to on the common paths, successes and rejections, for one bucket:
/// in the shared buckets and in every cell.
#[derive(Debug, Default)]
pub(crate) struct HotCounts {
    pub(crate) successes: AtomicU32,
    pub(crate) rejections: AtomicU32,
}

/// Bucket counts per cache line.
const PER_LINE: usize = 8;

/// Tries before a thread stops moving to another cell and waits its turn on the one it has.
const MOVES: u32 = 2;

/// Every cell's counts, cell after cell, each cell starting on a cache line of its own.
pub(crate) struct Cells {
    lines: Box<[CacheLine<[HotCounts; PER_LINE]>]>,
    lines_per_cell: usize,
    /// How many cells: a power of two.
    count: usize,
}

impl Cells {
    /// Cells for a window of `buckets` buckets, as many as the machine runs threads at once.
    #[cold]
    pub(crate) fn new(buckets: usize) -> Cells {
        Cells::with_cells(buckets, parallelism().next_power_of_two().clamp(2, 64))
    }

    fn with_cells(buckets: usize, cells: usize) -> Cells {
        let lines_per_cell = buckets.div_ceil(PER_LINE);
        Cells {
            lines: (0..cells * lines_per_cell)
                .map(|_| CacheLine(Default::default()))
                .collect(),
            lines_per_cell,
            count: cells,
        }
    }

    /// The cell a probe picks: its low bits.
    const fn cell_of(&self, probe: u32) -> usize {
        probe as usize & (self.count - 1)
    }

    fn counts(&self, cell: usize, slot: usize) -> &HotCounts {
        &self.lines[cell * self.lines_per_cell + slot / PER_LINE][slot % PER_LINE]
    }

    /// Adds one to the counter `pick` chooses, for bucket `slot`, in this thread's cell.
    pub(crate) fn add(&self, slot: usize, pick: impl Fn(&HotCounts) -> &AtomicU32) {
        let mut probe = probe::current();
        for _ in 0..MOVES {
            if try_add_one(pick(self.counts(self.cell_of(probe), slot))) {
                return;
            }
            probe = probe::rehash();
        }
        // At the cap, the count stops there, as every count does.
        let _ = add_one(pick(self.counts(self.cell_of(probe), slot)));
    }

    /// Bucket `slot`'s counts in every cell.
    pub(crate) fn of_slot(&self, slot: usize) -> impl Iterator<Item = &HotCounts> {
        (0..self.count).map(move |cell| self.counts(cell, slot))
    }
}

/// A window's cells, made by the first thread that finds a counter contended.
///
/// `OnceBox`'s swap publishes them (release, then acquire on every later read). loom cannot see
/// through it, so under loom the cells are made with the window and published by a loom atomic
/// with the same orderings: the models then check every count's path through the cells, and
/// the publication's happens-before as the real one provides it.
pub(crate) struct LazyCells {
    #[cfg(not(loom))]
    cells: once_cell::race::OnceBox<Cells>,
    #[cfg(loom)]
    cells: Cells,
    #[cfg(loom)]
    published: loom::sync::atomic::AtomicBool,
}

impl LazyCells {
    #[cfg_attr(not(loom), allow(unused_variables))]
    pub(crate) fn new(buckets: usize) -> LazyCells {
        LazyCells {
            #[cfg(not(loom))]
            cells: once_cell::race::OnceBox::new(),
            #[cfg(loom)]
            cells: Cells::new(buckets),
            #[cfg(loom)]
            published: loom::sync::atomic::AtomicBool::new(false),
        }
    }

    /// The cells, if they were made.
    #[inline]
    pub(crate) fn get(&self) -> Option<&Cells> {
        #[cfg(not(loom))]
        return self.cells.get();
        #[cfg(loom)]
        return self
            .published
            .load(crate::sync::Ordering::Acquire)
            .then_some(&self.cells);
    }

    /// The cells, made now if they were not.
    #[cold]
    #[inline(never)]
    pub(crate) fn get_or_make(&self, buckets: usize) -> &Cells {
        #[cfg(not(loom))]
        return self.cells.get_or_init(|| Box::new(Cells::new(buckets)));
        #[cfg(loom)]
        {
            let _ = buckets;
            self.published.store(true, crate::sync::Ordering::Release);
            &self.cells
        }
    }
}

impl std::fmt::Debug for Cells {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cells")
            .field("cells", &self.count)
            .finish_non_exhaustive()
    }
}

#[cfg(not(loom))]
fn parallelism() -> usize {
    std::thread::available_parallelism().map_or(1, std::num::NonZero::get)
}

/// Two cells under loom: enough for two threads to collide and move apart.
#[cfg(loom)]
fn parallelism() -> usize {
    2
}

/// A thread's probe: a number that picks its cell in every breaker, as `LongAdder`'s
/// per-thread probe. Threads get probes spread by the golden ratio in the order they first
/// count; a thread that collides with another moves on to a pseudo-random next probe.
mod probe {
    #[cfg(loom)]
    use loom::thread_local;
    use std::cell::Cell;
    #[cfg(not(loom))]
    use std::sync::atomic::{AtomicU32, Ordering};

    #[cfg(not(loom))]
    thread_local! {
        static PROBE: Cell<u32> = const { Cell::new(0) };
    }

    // loom's `thread_local!` takes a plain initializer.
    #[cfg(loom)]
    thread_local! {
        static PROBE: Cell<u32> = Cell::new(0);
    }

    #[inline]
    pub(super) fn current() -> u32 {
        PROBE.with(|probe| match probe.get() {
            0 => {
                let first = first();
                probe.set(first);
                first
            }
            seen => seen,
        })
    }

    /// Moves this thread to another probe and returns it.
    pub(super) fn rehash() -> u32 {
        PROBE.with(|probe| {
            let next = next(probe.get());
            probe.set(next);
            next
        })
    }

    /// The probe after `probe`: xorshift32, which never gives 0 from a probe that is not 0.
    pub(super) const fn next(probe: u32) -> u32 {
        let mut x = if probe == 0 { 1 } else { probe };
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        x
    }

    #[cfg(not(loom))]
    fn first() -> u32 {
        static THREADS: AtomicU32 = AtomicU32::new(0);
        spread(THREADS.fetch_add(1, Ordering::Relaxed))
    }

    #[cfg(not(loom))]
    /// The `nth` thread's first probe: the golden ratio's multiples, whose low bits differ for
    /// any run of consecutive threads as long as the number of cells (the multiplier is odd).
    pub(super) const fn spread(nth: u32) -> u32 {
        match nth.wrapping_add(1).wrapping_mul(0x9e37_79b9) {
            0 => 1,
            probe => probe,
        }
    }

    /// Under loom all of a model's threads start on the same probe (odd: cell 1 of 2), so they
    /// collide at once and the model explores moving apart.
    #[cfg(loom)]
    fn first() -> u32 {
        1
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::sync::Ordering;

    #[test]
    fn each_cell_starts_on_its_own_cache_line() {
        let cells = Cells::with_cells(10, 4);
        assert_eq!(cells.lines.len(), 8, "two lines per cell for ten buckets");
        assert_eq!(format!("{cells:?}"), "Cells { cells: 4, .. }");
        let address = |cell| std::ptr::from_ref(cells.counts(cell, 0)) as usize;
        for cell in 0..4 {
            assert_eq!(address(cell) % 64, 0);
            assert_eq!(
                std::ptr::from_ref(cells.counts(cell, 9)) as usize - address(cell),
                64 + 8,
                "bucket 9 is the second of the cell's second line"
            );
        }
    }

    #[test]
    fn a_slot_reads_the_same_bucket_in_every_cell() {
        let cells = Cells::with_cells(3, 2);
        cells.counts(0, 2).successes.store(5, Ordering::Relaxed);
        cells.counts(1, 2).successes.store(7, Ordering::Relaxed);
        cells.counts(1, 1).successes.store(100, Ordering::Relaxed);
        let sum: u32 = cells
            .of_slot(2)
            .map(|counts| counts.successes.load(Ordering::Relaxed))
            .sum();
        assert_eq!(sum, 12);
    }

    #[test]
    fn adds_land_in_the_threads_cell_and_collisions_move_it() {
        let cells = Cells::with_cells(1, 2);
        let before = probe::current();
        cells.add(0, |counts| &counts.successes);
        assert_eq!(
            cells
                .counts(before as usize & 1, 0)
                .successes
                .load(Ordering::Relaxed),
            1
        );
        let moved = probe::rehash();
        assert_ne!(moved, before);
        assert_eq!(probe::current(), moved, "the thread keeps its new probe");
    }

    #[test]
    fn a_probe_picks_each_cell_and_no_other() {
        let cells = Cells::with_cells(1, 8);
        let picked: std::collections::HashSet<usize> =
            (0..1_000).map(|probe| cells.cell_of(probe)).collect();
        assert_eq!(picked, (0..8).collect());
        assert_eq!(cells.cell_of(u32::MAX), 7);
    }

    #[test]
    fn rehashing_moves_a_thread_through_every_cell() {
        // From a thread's first probe, the rehashes a collision makes visit every one of 8
        // cells soon: a thread stuck on one cell would keep colliding.
        let mut probe = probe::spread(3);
        let mut visited = std::collections::HashSet::new();
        for _ in 0..64 {
            visited.insert(probe & 7);
            probe = probe::next(probe);
            assert_ne!(probe, 0, "a probe is never 0 (0 means not yet assigned)");
        }
        assert_eq!(visited.len(), 8, "{visited:?}");
    }

    #[test]
    fn fresh_threads_get_probes_of_their_own() {
        let [a, b] = [(); 2].map(|()| std::thread::spawn(probe::current).join().unwrap());
        assert!(a != 0 && b != 0);
        assert_ne!(a, b);
    }

    #[test]
    fn consecutive_threads_get_different_cells() {
        for cells in [2_u32, 8, 64] {
            let picked: std::collections::HashSet<u32> = (100..100 + cells)
                .map(|nth| probe::spread(nth) & (cells - 1))
                .collect();
            assert_eq!(u32::try_from(picked.len()).unwrap(), cells);
        }
        assert!((0..100_000).all(|nth| probe::spread(nth) != 0));
    }
}
