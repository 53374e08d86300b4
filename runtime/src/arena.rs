//! A bump allocator for the values of one chunk: strings that needed unescaping, list
//! elements, vectors. Allocation is a pointer bump; memory is given back all at once by
//! [`Arena::reset`] (when the chunk is finished) or by dropping the arena.
//!
//! Memory comes from big blocks (256 KiB at first, then doubling up to 16 MiB; a request
//! larger than a quarter of the next block gets a block of its own). A block never moves,
//! so pointers handed out stay valid until the next `reset`. After a reset that saw more
//! than one block, the arena keeps a single block as big as everything used, so a steady
//! workload settles into one block and no allocation per chunk.

use std::alloc::{Layout, alloc, dealloc};
use std::ptr::NonNull;

const FIRST_BLOCK: usize = 256 * 1024;
const MAX_BLOCK: usize = 16 * 1024 * 1024;
/// At most this many bytes of blocks are kept across a `reset` for reuse, so a chunk that
/// needs more than one block does not take fresh pages from the system (page faults and
/// zeroing) every time.
const KEEP_MAX: usize = 48 * 1024 * 1024;
/// Every block is aligned to this, so any request with a smaller alignment never needs
/// padding at the start of a block.
const BLOCK_ALIGN: usize = 64;

struct Block {
    ptr: NonNull<u8>,
    size: usize,
}

impl Block {
    fn new(size: usize) -> Option<Block> {
        let layout = Layout::from_size_align(size, BLOCK_ALIGN).ok()?;
        // SAFETY: `size` is non-zero (callers ask for at least FIRST_BLOCK bytes) and the
        // layout was validated just above.
        let ptr = unsafe { alloc(layout) };
        NonNull::new(ptr).map(|ptr| Block { ptr, size })
    }
}

impl Drop for Block {
    fn drop(&mut self) {
        // SAFETY: `ptr` was returned by `alloc` with exactly this layout (checked valid in
        // `Block::new`), and a Block is dropped once.
        unsafe {
            dealloc(self.ptr.as_ptr(), Layout::from_size_align_unchecked(self.size, BLOCK_ALIGN))
        }
    }
}

/// A bump allocator. See the module documentation.
pub struct Arena {
    /// Blocks in the order they were taken; the last one is the current block.
    blocks: Vec<Block>,
    /// Bytes used in the current block.
    used: usize,
    /// Bytes used in all earlier blocks (for sizing the block kept by `reset`).
    used_before: usize,
    /// Blocks kept by `reset`, taken again before asking the system for more.
    spare: Vec<Block>,
}

// SAFETY: the arena owns its blocks exclusively (raw pointers only because they are
// handed out as raw pointers); moving it to another thread moves that ownership.
unsafe impl Send for Arena {}

impl Default for Arena {
    fn default() -> Self {
        Arena::new()
    }
}

impl Arena {
    /// An arena that takes no memory until the first allocation.
    pub fn new() -> Arena {
        Arena { blocks: Vec::new(), used: 0, used_before: 0, spare: Vec::new() }
    }

    /// `size` bytes aligned to `align` (rounded up to a power of two), uninitialized.
    /// A zero-sized request gets a dangling, aligned, non-null pointer. Returns null only
    /// when the system is out of memory or the request cannot be represented.
    pub fn alloc(&mut self, size: usize, align: usize) -> *mut u8 {
        let Some(align) = align.max(1).checked_next_power_of_two() else {
            return std::ptr::null_mut();
        };
        if size == 0 {
            // An address equal to the alignment is non-null and aligned; nothing is read
            // or written through it.
            return std::ptr::without_provenance_mut(align);
        }
        if let Some(block) = self.blocks.last() {
            let base = block.ptr.as_ptr() as usize;
            let start = (base + self.used).checked_next_multiple_of(align).map(|a| a - base);
            if let Some(start) = start
                && let Some(end) = start.checked_add(size)
                && end <= block.size
            {
                self.used = end;
                // SAFETY: `start + size <= block.size`, so the result stays inside the
                // block's allocation.
                return unsafe { block.ptr.as_ptr().add(start) };
            }
        }
        self.alloc_slow(size, align)
    }

    #[cold]
    fn alloc_slow(&mut self, size: usize, align: usize) -> *mut u8 {
        let next = match self.blocks.last() {
            Some(b) => (b.size * 2).min(MAX_BLOCK),
            None => FIRST_BLOCK,
        };
        let Some(need) = size.checked_add(align.saturating_sub(BLOCK_ALIGN)) else {
            return std::ptr::null_mut();
        };
        let block_size = if need > next / 4 { need.max(next) } else { next };
        let block = match self.spare.iter().position(|b| b.size >= need) {
            Some(i) => self.spare.swap_remove(i),
            None => match Block::new(block_size) {
                Some(b) => b,
                None => return std::ptr::null_mut(),
            },
        };
        let base = block.ptr.as_ptr() as usize;
        let Some(start) = base.checked_next_multiple_of(align).map(|a| a - base) else {
            return std::ptr::null_mut();
        };
        self.used_before += self.used;
        self.used = start + size;
        let ptr = block.ptr.as_ptr();
        self.blocks.push(block);
        // SAFETY: the block holds `size + max(0, align - BLOCK_ALIGN)` bytes or more, and
        // `start` is at most `align - BLOCK_ALIGN` when align > BLOCK_ALIGN (else 0).
        unsafe { ptr.add(start) }
    }

    /// Copies `bytes` into the arena (alignment 1). Null when out of memory.
    pub fn alloc_copy(&mut self, bytes: &[u8]) -> *mut u8 {
        let p = self.alloc(bytes.len(), 1);
        if !p.is_null() && !bytes.is_empty() {
            // SAFETY: `p` points to `bytes.len()` fresh bytes of the arena, which cannot
            // overlap `bytes` (a shared borrow that is not arena memory handed out now).
            unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), p, bytes.len()) };
        }
        p
    }

    /// `size` zeroed bytes aligned to `align`. Null when out of memory.
    pub fn alloc_zeroed(&mut self, size: usize, align: usize) -> *mut u8 {
        let p = self.alloc(size, align);
        if !p.is_null() && size > 0 {
            // SAFETY: `p` points to `size` writable bytes just allocated.
            unsafe { std::ptr::write_bytes(p, 0, size) };
        }
        p
    }

    /// Bytes handed out since the last reset (alignment padding included).
    pub fn used(&self) -> usize {
        self.used_before + self.used
    }

    /// Bytes held from the system.
    pub fn capacity(&self) -> usize {
        self.blocks.iter().chain(&self.spare).map(|b| b.size).sum()
    }

    /// Frees everything allocated so far. Every pointer handed out becomes invalid.
    pub fn reset(&mut self) {
        if self.blocks.len() > 1 || !self.spare.is_empty() {
            // Keep the biggest blocks, up to KEEP_MAX bytes: the biggest is the current
            // block, the others are reused by `alloc_slow` before the system is asked.
            let mut all: Vec<Block> = self.blocks.drain(..).chain(self.spare.drain(..)).collect();
            all.sort_by_key(|b| std::cmp::Reverse(b.size));
            let mut kept = 0;
            for b in all {
                if kept + b.size <= KEEP_MAX || self.blocks.is_empty() {
                    kept += b.size;
                    if self.blocks.is_empty() {
                        self.blocks.push(b);
                    } else {
                        self.spare.push(b);
                    }
                }
            }
        }
        self.used = 0;
        self.used_before = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allocations_are_aligned_and_disjoint() {
        let mut a = Arena::new();
        let mut spans = Vec::new();
        for i in 0..2000usize {
            let size = (i * 37) % 300;
            let align = 1 << (i % 7);
            let p = a.alloc(size, align);
            assert!(!p.is_null());
            assert_eq!(p as usize % align, 0);
            if size > 0 {
                // SAFETY: p points to `size` bytes just allocated.
                unsafe { std::ptr::write_bytes(p, (i % 251) as u8, size) };
                spans.push((p as usize, size, (i % 251) as u8));
            }
        }
        spans.sort();
        for w in spans.windows(2) {
            assert!(w[0].0 + w[0].1 <= w[1].0, "overlap");
        }
        for (p, size, v) in spans {
            // SAFETY: still allocated (no reset), and `size` bytes were written.
            let s = unsafe { std::slice::from_raw_parts(p as *const u8, size) };
            assert!(s.iter().all(|&b| b == v), "an allocation was overwritten or moved");
        }
    }

    #[test]
    fn big_and_over_aligned_requests() {
        let mut a = Arena::new();
        let p = a.alloc(10 * 1024 * 1024, 32);
        assert!(!p.is_null());
        assert_eq!(p as usize % 32, 0);
        let q = a.alloc(100, 4096);
        assert_eq!(q as usize % 4096, 0);
        assert_eq!(a.alloc(0, 8) as usize % 8, 0);
        assert!(!a.alloc(0, 8).is_null());
        assert!(a.alloc(usize::MAX - 10, 8).is_null());
        assert!(a.alloc(8, usize::MAX).is_null());
        assert!(a.alloc(8, 1 << 62).is_null());
        let c = a.alloc_copy(b"hello");
        // SAFETY: 5 bytes were copied there.
        assert_eq!(unsafe { std::slice::from_raw_parts(c, 5) }, b"hello");
        let z = a.alloc_zeroed(64, 8);
        // SAFETY: 64 zeroed bytes.
        assert!(unsafe { std::slice::from_raw_parts(z, 64) }.iter().all(|&b| b == 0));
    }

    #[test]
    fn reset_settles_into_one_block() {
        let mut a = Arena::new();
        for _ in 0..3 {
            for _ in 0..10_000 {
                assert!(!a.alloc(100, 8).is_null());
            }
            assert!(a.used() >= 1_000_000);
            a.reset();
            assert_eq!(a.used(), 0);
        }
        assert_eq!(a.blocks.len(), 1);
        for _ in 0..10_000 {
            a.alloc(100, 8);
        }
        assert_eq!(a.blocks.len(), 1, "the kept block fits a steady workload");
    }
}
