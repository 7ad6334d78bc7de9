//! Lanes: a small number per process, each owned by at most one thread at a time, so that a
//! thread can count its calls into memory no other thread writes — a plain load and store
//! instead of a lock-prefixed read-modify-write, which costs several nanoseconds even
//! uncontended and far more when threads contend for one cache line.
//!
//! A thread takes the lowest free lane at its first counted call and gives it back when it
//! exits, so thread pools keep their lanes and short-lived threads reuse them. Threads beyond
//! [`LANES`] count into the window's shared atomic buckets instead: slower, never wrong.

/// Lanes per process; each breaker keeps counters for the lanes that have called it.
pub(crate) const LANES: usize = 64;

#[cfg(not(loom))]
mod owner {
    use std::{
        cell::Cell,
        sync::{Mutex, PoisonError},
    };

    use super::LANES;

    const UNASSIGNED: usize = usize::MAX;
    const NONE_FREE: usize = usize::MAX - 1;

    /// Which lanes are taken (a bit per lane). Touched only when a thread takes or gives back
    /// its lane, never on a call.
    static TAKEN: Mutex<u64> = Mutex::new(0);

    thread_local! {
        static LANE: Cell<usize> = const { Cell::new(UNASSIGNED) };
        static RELEASE: Release = const { Release };
    }

    /// Gives the thread's lane back when the thread exits.
    struct Release;

    impl Drop for Release {
        fn drop(&mut self) {
            let lane = LANE.with(Cell::get);
            // Calls this thread still makes (from other thread-local destructors) count into the
            // shared buckets: the lane may belong to another thread from now on.
            LANE.with(|current| current.set(NONE_FREE));
            if lane < LANES {
                *TAKEN.lock().unwrap_or_else(PoisonError::into_inner) &= !(1 << lane);
            }
        }
    }

    /// Whether `lane` belongs to a thread now.
    #[cfg(test)]
    pub(crate) fn is_taken(lane: usize) -> bool {
        *TAKEN.lock().unwrap_or_else(PoisonError::into_inner) & (1 << lane) != 0
    }

    /// This thread's lane, taking one if it has none; `None` if every lane is taken.
    #[inline]
    pub(crate) fn current() -> Option<usize> {
        match LANE.with(Cell::get) {
            lane if lane < LANES => Some(lane),
            NONE_FREE => None,
            _ => take(),
        }
    }

    #[cold]
    fn take() -> Option<usize> {
        let mut taken = TAKEN.lock().unwrap_or_else(PoisonError::into_inner);
        let free = taken.trailing_ones() as usize;
        if free >= LANES {
            LANE.with(|lane| lane.set(NONE_FREE));
            return None;
        }
        *taken |= 1 << free;
        drop(taken);
        LANE.with(|lane| lane.set(free));
        // Registers the destructor; if the thread is already being torn down it cannot be, and
        // the lane stays taken, which only costs a later thread its lane.
        let _ = RELEASE.try_with(|_| ());
        Some(free)
    }
}

/// Under loom every thread counts into the shared buckets, whose atomics loom checks; a lane
/// has one writer by construction.
#[cfg(loom)]
mod owner {
    pub(crate) fn current() -> Option<usize> {
        None
    }
}

pub(crate) use owner::current;

/// Held by the tests that need most of the lanes, so that they do not take them from each other.
#[cfg(all(test, not(loom)))]
pub(crate) static MANY_LANES: std::sync::Mutex<()> = std::sync::Mutex::new(());

#[cfg(all(test, not(loom)))]
mod tests {
    use std::{sync::mpsc, thread};

    use super::*;

    #[test]
    fn a_thread_keeps_one_lane_and_gives_it_back_when_it_exits() {
        let _many = MANY_LANES.lock();
        // One thread holds a lane throughout, so the others cycle through a lane that is not
        // the lowest.
        let (release, released) = mpsc::channel::<()>();
        let (report_lane, holder_lane) = mpsc::channel();
        let holder = thread::spawn(move || {
            report_lane.send(current()).unwrap();
            released.recv().unwrap();
        });
        let held = holder_lane.recv().unwrap().expect("a lane for the holder");
        for _ in 0..LANES * 2 {
            let lane = thread::spawn(|| {
                let lane = current();
                assert_eq!(current(), lane, "the same lane on every call");
                lane
            })
            .join()
            .unwrap();
            let lane = lane.expect("exited threads give their lanes back");
            assert_ne!(lane, held, "a live thread's lane is never handed out again");
            assert!(owner::is_taken(held), "the holder's lane stays taken");
        }
        release.send(()).unwrap();
        holder.join().unwrap();
    }
}
