//! Counts the heap bytes the current thread allocated and still holds, to
//! check that a session stays within the memory its limits allow.
//!
//! The harness runs each session on a current-thread runtime on the
//! calling thread, so the session's own buffers are allocated here; the
//! store's writer thread and tokio's blocking pool (SQLite, argon2) are
//! not counted, and need not be: their memory does not grow with what a
//! client sends.
//!
//! Memory moves between threads (a message read by a blocking task is
//! freed here; a message handed to the store's writer is freed there), so
//! every block carries, in a header before it, a tag of the thread that
//! allocated it, and only that thread's count goes down when it is freed.
//! Without the tags a session that FETCHes much from the store looked
//! smaller than it was: blocks read elsewhere and freed here lowered its
//! count. A block freed elsewhere stays counted, which can only overstate
//! what the session holds; the bounds allow for that.
//!
//! The counters are const-initialised thread-locals of plain `Cell`s:
//! nothing in the allocator allocates, and a thread being torn down
//! (whose thread-locals are gone) is simply not counted.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicU64, Ordering};

/// The global allocator of every binary that links this crate: the
/// system's, counted.
pub struct Counting;

thread_local! {
    static CURRENT: Cell<isize> = const { Cell::new(0) };
    static PEAK: Cell<isize> = const { Cell::new(0) };
    static BASE: Cell<isize> = const { Cell::new(0) };
    static TAG: Cell<u64> = const { Cell::new(0) };
    static PAUSED: Cell<bool> = const { Cell::new(false) };
}

/// Runs `f` with this thread's count paused: what it allocates belongs to
/// nobody, so the harness's own work (the transcript, the checks) does
/// not count as the session's.
pub fn uncounted<R>(f: impl FnOnce() -> R) -> R {
    let was = PAUSED.replace(true);
    let result = f();
    PAUSED.set(was);
    result
}

/// The tag of a new block: this thread's, or nobody's (0) while paused.
fn owner_of_new() -> u64 {
    if PAUSED.try_with(Cell::get).unwrap_or(true) {
        0
    } else {
        tag()
    }
}

/// This thread's tag (from 1); `u64::MAX` once its thread-locals are gone.
fn tag() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    TAG.try_with(|tag| {
        if tag.get() == 0 {
            tag.set(NEXT.fetch_add(1, Ordering::Relaxed));
        }
        tag.get()
    })
    .unwrap_or(u64::MAX)
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

/// The header before a block: at least 16 bytes (the tag sits in the last
/// 8), and a multiple of the block's alignment so the block keeps it.
fn header(layout: Layout) -> usize {
    layout.align().max(16)
}

/// The layout of a block with its header.
fn with_header(layout: Layout) -> Option<Layout> {
    let size = layout.size().checked_add(header(layout))?;
    Layout::from_size_align(size, layout.align().max(8)).ok()
}

impl Counting {
    /// Tags a block fresh from `System` and counts it.
    ///
    /// # Safety
    /// `base` is null or a block of `with_header(layout)`.
    unsafe fn tagged(base: *mut u8, layout: Layout) -> *mut u8 {
        if base.is_null() {
            return base;
        }
        // SAFETY: the block is `header` bytes longer than `layout` asks.
        let block = unsafe { base.add(header(layout)) };
        let owner = owner_of_new();
        // SAFETY: the 8 bytes before the block are within the header.
        unsafe { block.sub(8).cast::<u64>().write_unaligned(owner) };
        if owner != 0 {
            add(layout.size() as isize);
        }
        block
    }
}

// SAFETY: every block is `System`'s, asked for with room for the header
// and given back with the same layout; the counting touches only
// thread-local cells and never allocates.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let Some(full) = with_header(layout) else {
            return std::ptr::null_mut();
        };
        // SAFETY: `full` has a non-zero size (the header).
        unsafe { Self::tagged(System.alloc(full), layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let Some(full) = with_header(layout) else {
            return std::ptr::null_mut();
        };
        // SAFETY: as above.
        unsafe { Self::tagged(System.alloc_zeroed(full), layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `alloc` with this layout, so its header
        // is before it and `with_header` succeeded then.
        unsafe {
            let owner = ptr.sub(8).cast::<u64>().read_unaligned();
            let full = with_header(layout).unwrap_unchecked();
            System.dealloc(ptr.sub(header(layout)), full);
            if owner == tag() {
                add(-(layout.size() as isize));
            }
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: the caller's contract: `new_size` with the old alignment
        // is a valid layout.
        let new_layout = unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
        // SAFETY: as in `alloc`; the copy stays within both blocks.
        unsafe {
            let new = self.alloc(new_layout);
            if !new.is_null() {
                std::ptr::copy_nonoverlapping(ptr, new, layout.size().min(new_size));
                self.dealloc(ptr, layout);
            }
            new
        }
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

    #[test]
    fn blocks_from_another_thread_do_not_lower_the_count() {
        let blocks: Vec<Vec<u8>> = std::thread::spawn(|| (0..64).map(|_| vec![0u8; 4096]).collect())
            .join()
            .unwrap();
        super::reset();
        drop(blocks);
        let mine = vec![1u8; 100_000];
        assert!(super::peak() >= 100_000, "peak {}", super::peak());
        drop(std::hint::black_box(mine));
    }

    #[test]
    fn uncounted_work_is_nobodys() {
        super::reset();
        let block = super::uncounted(|| vec![1u8; 1 << 20]);
        drop(std::hint::black_box(block));
        assert!(super::peak() < 1 << 16, "peak {}", super::peak());
    }
}
