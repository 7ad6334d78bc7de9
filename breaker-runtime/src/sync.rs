//! The atomics the runtime is built on: std's, or loom's under `cfg(loom)` so the model checker
//! can explore every interleaving of the state word and the window's head.

#[cfg(loom)]
pub(crate) use loom::sync::atomic::{AtomicU32, AtomicU64, Ordering, fence};
#[cfg(not(loom))]
pub(crate) use std::sync::atomic::{AtomicU32, AtomicU64, Ordering, fence};

/// The ordering of every count added to a window and every count read back for a trip
/// decision: sequentially consistent, so that when two outcomes are recorded at the same moment
/// (a failure and a success, or two failures) the two threads' adds and readings fall in one
/// order, and at least one of them reads the other's count. With weaker orderings both readings
/// may miss the other's add (the store-buffering shape), and a trip the two outcomes make
/// together waits for the next outcome.
///
/// It costs nothing on x86, where an atomic add is a full barrier whatever its ordering and a
/// load is a plain load; on `AArch64` it makes the adds acquire-release and the loads acquire
/// loads.
pub(crate) const COUNTED: Ordering = Ordering::SeqCst;

/// Where the argument for [`COUNTED`] needs a count to be in the total order before the reads
/// that follow it. loom models `SeqCst` loads and adds only as acquire-release (it supports
/// `SeqCst` fences), so under loom this is a `SeqCst` fence, which gives what the accesses give
/// in the real program; otherwise the accesses themselves do and this is nothing.
#[inline]
pub(crate) fn counted_before_reading() {
    #[cfg(loom)]
    loom::sync::atomic::fence(Ordering::SeqCst);
}

/// Adds one to `counter` with one compare-and-swap; `false` if another thread changed it
/// between the load and the swap (the counter is contended), and then nothing was added.
///
/// Counters are 32 bits, to keep a bucket at 8 bytes, and stop at `u32::MAX` rather than
/// wrap: a bucket is at least 10 ms, and it would take four billion calls in one bucket of one
/// breaker to reach the cap.
#[inline]
pub(crate) fn try_add_one(counter: &AtomicU32) -> bool {
    let seen = counter.load(Ordering::Relaxed);
    seen == u32::MAX
        || counter
            .compare_exchange(seen, seen + 1, COUNTED, Ordering::Relaxed)
            .is_ok()
}

/// Adds one to `counter`, the way the counts of nearly every call are added while a window has
/// no contention cells: one `fetch_add`, the cheapest atomic add there is. Stops at `u32::MAX`,
/// as [`try_add_one`].
///
/// Returns whether the counter is contended. A `fetch_add` cannot tell, so one add in
/// `WATCHED` (256) also loads the counter and swaps it for itself: the swap fails if another
/// thread added in between. Threads that call a breaker one after another never make it fail;
/// threads that hammer it at once do within a few watched adds.
#[inline]
pub(crate) fn add_one_watching(counter: &AtomicU32) -> bool {
    let before = counter.fetch_add(1, COUNTED);
    before & (WATCHED - 1) == WATCHED - 1 && watch(counter, before)
}

/// One add in this many looks for contention (a power of two); under loom every add does, so
/// that the models reach the contended path.
#[cfg(not(loom))]
const WATCHED: u32 = 256;
#[cfg(loom)]
const WATCHED: u32 = 1;

#[cold]
#[inline(never)]
fn watch(counter: &AtomicU32, before: u32) -> bool {
    if before == u32::MAX {
        // The add wrapped the counter: put it back at the cap.
        counter.store(u32::MAX, Ordering::Relaxed);
        return false;
    }
    let seen = counter.load(Ordering::Relaxed);
    counter
        .compare_exchange(seen, seen, Ordering::Relaxed, Ordering::Relaxed)
        .is_err()
}

/// Adds one to `counter`, however many tries it takes; stops at `u32::MAX`, as
/// [`try_add_one`]. Returns whether it added (`false`: the counter is at the cap).
pub(crate) fn add_one(counter: &AtomicU32) -> bool {
    counter
        .fetch_update(COUNTED, Ordering::Relaxed, |seen| seen.checked_add(1))
        .is_ok()
}

/// Waits a moment for another thread to finish a short critical step (rotating the window's
/// head). The step is a handful of stores, so spin first; yield if the other thread was
/// preempted in the middle of it.
pub(crate) fn back_off(attempt: &mut u32) {
    #[cfg(loom)]
    {
        let _ = attempt;
        loom::thread::yield_now();
    }
    #[cfg(not(loom))]
    {
        *attempt += 1;
        if *attempt < 64 {
            std::hint::spin_loop();
        } else {
            std::thread::yield_now();
        }
    }
}

/// Keeps a value on a cache line of its own, so that counters written on every call do not
/// slow down the state word every call reads (false sharing).
#[derive(Debug, Default)]
#[repr(align(64))]
pub(crate) struct CacheLine<T>(pub(crate) T);

impl<T> std::ops::Deref for CacheLine<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}
