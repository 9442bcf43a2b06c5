//! Counts the heap bytes of the current thread, to check that a session
//! stays within the memory its limits allow.
//!
//! The harness runs each session on a current-thread runtime on the
//! calling thread, so the session's own buffers are allocated here; the
//! store's writer thread and tokio's blocking pool (SQLite, argon2) are
//! not counted, and need not be: their memory does not grow with what a
//! client sends. Memory allocated here and freed on another thread (a
//! message handed to the store's writer) stays counted, so the count can
//! only overstate the session's use; the bound allows for that.
//!
//! The counters are const-initialised thread-locals of plain `Cell`s:
//! nothing in the allocator allocates, and a thread being torn down
//! (whose thread-locals are gone) is simply not counted.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

/// The global allocator of every binary that links this crate: the
/// system's, counted.
pub struct Counting;

thread_local! {
    static CURRENT: Cell<isize> = const { Cell::new(0) };
    static PEAK: Cell<isize> = const { Cell::new(0) };
}

fn add(bytes: isize) {
    let _ = CURRENT.try_with(|current| {
        let now = current.get() + bytes;
        current.set(now);
        let _ = PEAK.try_with(|peak| {
            if now > peak.get() {
                peak.set(now);
            }
        });
    });
}

// SAFETY: every call is passed to `System` unchanged; the counting
// around it touches only thread-local cells and never allocates.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract is `System`'s.
        let ptr = unsafe { System.alloc(layout) };
        if !ptr.is_null() {
            add(layout.size() as isize);
        }
        ptr
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as above.
        let ptr = unsafe { System.alloc_zeroed(layout) };
        if !ptr.is_null() {
            add(layout.size() as isize);
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) };
        add(-(layout.size() as isize));
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: as above.
        let new = unsafe { System.realloc(ptr, layout, new_size) };
        if !new.is_null() {
            add(new_size as isize - layout.size() as isize);
        }
        new
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Starts a measurement: from now, [`peak`] is the most this thread held
/// at once above what it holds now.
pub fn reset() {
    let now = CURRENT.with(Cell::get);
    PEAK.with(|peak| peak.set(now));
    BASE.with(|base| base.set(now));
}

thread_local! {
    static BASE: Cell<isize> = const { Cell::new(0) };
}

/// The most bytes this thread held at once since [`reset`], above what it
/// held then.
pub fn peak() -> usize {
    let peak = PEAK.with(Cell::get);
    let base = BASE.with(Cell::get);
    peak.saturating_sub(base).max(0) as usize
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_large_allocation_shows_in_the_peak() {
        super::reset();
        let block = vec![1u8; 1 << 20];
        drop(std::hint::black_box(block));
        assert!(super::peak() >= 1 << 20);
        super::reset();
        assert_eq!(super::peak(), 0);
    }
}
