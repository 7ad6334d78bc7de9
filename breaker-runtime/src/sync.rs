//! The atomics the runtime is built on: std's, or loom's under `cfg(loom)` so the model checker
//! can explore every interleaving of the state word and the window's head.

#[cfg(loom)]
pub(crate) use loom::sync::atomic::{AtomicU32, AtomicU64, Ordering};
#[cfg(not(loom))]
pub(crate) use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

/// Adds one to `counter` with one compare-and-swap; `false` if another thread changed it
/// between the load and the swap (the counter is contended), and then nothing was added.
///
/// Counters are 32 bits, to keep a bucket at 16 bytes, and stop at `u32::MAX` rather than
/// wrap: a bucket is at least 10 ms, and it would take four billion calls in one bucket of one
/// breaker to reach the cap.
#[inline]
pub(crate) fn try_add_one(counter: &AtomicU32) -> bool {
    let seen = counter.load(Ordering::Relaxed);
    seen == u32::MAX
        || counter
            .compare_exchange(seen, seen + 1, Ordering::Relaxed, Ordering::Relaxed)
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
    let before = counter.fetch_add(1, Ordering::Relaxed);
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
/// [`try_add_one`].
pub(crate) fn add_one(counter: &AtomicU32) {
    // `Err` means the counter is at the cap: nothing to add.
    let _ = counter.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |seen| {
        seen.checked_add(1)
    });
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
