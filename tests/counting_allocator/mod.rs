//! A global allocator that counts, per thread, the allocations made and the bytes held: the
//! system allocator, unchanged, with two thread-local counters beside it. A test binary that
//! wants it declares `mod counting_allocator;` (it installs itself as the binary's global
//! allocator) and reads [`allocations`] and [`live_bytes`] before and after what it measures.
//! Shared by `tests/allocations.rs` and the runtime's `tests/keyed_bytes.rs`.

// Each binary reads the counters it needs.
#![allow(dead_code)]

use std::{
    alloc::{GlobalAlloc, Layout, System},
    cell::Cell,
};

struct CountingAllocator;

thread_local! {
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
    /// Bytes allocated minus bytes freed on this thread.
    static LIVE_BYTES: Cell<i64> = const { Cell::new(0) };
}

/// Allocations made on this thread so far (a reallocation counts as one).
pub fn allocations() -> u64 {
    ALLOCATIONS.with(Cell::get)
}

/// Bytes allocated minus bytes freed on this thread so far.
pub fn live_bytes() -> i64 {
    LIVE_BYTES.with(Cell::get)
}

/// Counts `allocations` allocations and `bytes` bytes (negative: freed) on this thread.
fn count(allocations: u64, bytes: i64) {
    ALLOCATIONS.with(|count| count.set(count.get() + allocations));
    LIVE_BYTES.with(|live| live.set(live.get() + bytes));
}

fn bytes(layout: Layout) -> i64 {
    i64::try_from(layout.size()).unwrap_or(i64::MAX)
}

// SAFETY: every method forwards to the system allocator unchanged; counting touches only a
// const-initialised thread-local `Cell`, which does not allocate.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count(1, bytes(layout));
        // SAFETY: forwarded with the caller's layout.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        count(0, -bytes(layout));
        // SAFETY: forwarded with the caller's pointer and layout.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count(
            1,
            i64::try_from(new_size).unwrap_or(i64::MAX) - bytes(layout),
        );
        // SAFETY: forwarded with the caller's arguments.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;
