//! The atomics the runtime is built on: std's, or loom's under `cfg(loom)` so the model checker
//! can explore every interleaving of the state word and the window's head.

#[cfg(loom)]
pub(crate) use loom::sync::atomic::{AtomicU64, Ordering};
#[cfg(not(loom))]
pub(crate) use std::sync::atomic::{AtomicU64, Ordering};

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
