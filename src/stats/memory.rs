//! How much memory cachet uses, measured the way Redis measures it.
//!
//! The `cachet` binary makes jemalloc its global allocator (feature
//! `jemalloc`, on by default) and calls `use_jemalloc_statistics`; then
//! `used_memory` is jemalloc's count of bytes allocated, like Redis's
//! `used_memory`. The library never picks an allocator for a program that
//! embeds it: there, unless the program opts in the same way, `used_memory`
//! falls back to the resident set, which overstates the data but never
//! understates it. `used_memory_rss` is always the resident set from /proc.

use std::sync::atomic::{AtomicBool, Ordering};

static JEMALLOC_ACTIVE: AtomicBool = AtomicBool::new(false);

/// Declares that jemalloc is this program's global allocator, so its
/// statistics describe the program's memory.
#[cfg(feature = "jemalloc")]
pub fn use_jemalloc_statistics() {
    JEMALLOC_ACTIVE.store(true, Ordering::Relaxed);
}

/// The allocator INFO reports as `mem_allocator`.
pub fn allocator_name() -> &'static str {
    if JEMALLOC_ACTIVE.load(Ordering::Relaxed) {
        "jemalloc-5.3.0"
    } else {
        "libc"
    }
}

/// Bytes currently allocated by the program.
pub fn used_memory() -> u64 {
    #[cfg(feature = "jemalloc")]
    if JEMALLOC_ACTIVE.load(Ordering::Relaxed) {
        use tikv_jemalloc_ctl::{epoch, stats};
        if epoch::advance().is_ok() {
            if let Ok(allocated) = stats::allocated::read() {
                return allocated as u64;
            }
        }
    }
    resident_set_size()
}

/// Net bytes the calling thread has allocated over its life (allocated
/// minus freed), from jemalloc's per-thread counters: two pointer reads,
/// where `used_memory` costs microseconds. None without jemalloc.
pub fn thread_net_allocated() -> Option<i64> {
    #[cfg(feature = "jemalloc")]
    if JEMALLOC_ACTIVE.load(Ordering::Relaxed) {
        use tikv_jemalloc_ctl::thread::{allocatedp, deallocatedp, ThreadLocal};
        type Counters = Option<(ThreadLocal<u64>, ThreadLocal<u64>)>;
        thread_local! {
            static COUNTERS: Counters = allocatedp::read().ok().zip(deallocatedp::read().ok());
        }
        return COUNTERS.with(|counters| {
            counters.map(|(allocated, freed)| allocated.get() as i64 - freed.get() as i64)
        });
    }
    None
}

/// Resident set size in bytes, from /proc (0 where unavailable).
pub fn resident_set_size() -> u64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| {
            s.split_whitespace()
                .nth(1)
                .and_then(|v| v.parse::<u64>().ok())
        })
        .map(|pages| pages * 4096)
        .unwrap_or(0)
}
