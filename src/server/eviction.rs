//! Keeping memory under `maxmemory`: before each command (as Redis's
//! `performEvictions`), and in the background when one command's share of
//! time (`maxmemory-eviction-tenacity`) was not enough or CONFIG SET lowered
//! the limit below what is in use.
//!
//! The loop: read `used_memory` (the allocator's figure, at most a
//! millisecond old), evict keys until their estimated sizes cover the excess,
//! read the figure again, repeat. Keys go one shard lock at a time, and each
//! shard's changes (`evicted` notifications, tracking invalidations) are
//! published while that shard is still held, as active expiry does.
//!
//! This module owns the decision to evict and the background task. Which key
//! goes is the storage module's business (`storage::evict`).

use super::Shared;
use crate::storage::Policy;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Whether a command may use more memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Room {
    /// Under the limit (or no limit).
    Enough,
    /// Still over, and eviction goes on in the background.
    Freeing,
    /// Over, and nothing more may be evicted: commands that need memory fail.
    Exhausted,
}

/// Keys evicted between two looks at the clock (Redis checks every 16).
const KEYS_PER_CLOCK_CHECK: usize = 16;

/// Makes room before a command runs; `Exhausted` means denyoom commands
/// must be refused.
pub fn make_room(shared: &Shared) -> Room {
    let limit = shared.hot.maxmemory.load(Ordering::Relaxed);
    if limit == 0 || shared.fresh_used_memory() <= limit {
        return Room::Enough;
    }
    if shared.keyspace.eviction.policy() == Policy::NoEviction {
        return Room::Exhausted;
    }
    let time_limit = shared
        .keyspace
        .eviction
        .time_limit_us()
        .map(Duration::from_micros);
    match evict_down_to(shared, limit, time_limit) {
        Room::Freeing => {
            start_background_eviction(shared);
            Room::Freeing
        }
        room => room,
    }
}

/// Evicts until used memory is at most `limit`, nothing more may go, or
/// `time_limit` has passed (`Freeing`).
fn evict_down_to(shared: &Shared, limit: u64, time_limit: Option<Duration>) -> Room {
    let started = Instant::now();
    let mut evicted = 0u64;
    let room = loop {
        shared.sample_memory();
        let used = shared.used_memory.load(Ordering::Relaxed);
        if used <= limit {
            break Room::Enough;
        }
        let want = usize::try_from(used - limit).unwrap_or(usize::MAX);
        let mut freed = 0;
        let mut exhausted = false;
        while freed < want && !exhausted {
            let round = shared.keyspace.evict(
                crate::util::now_ms(),
                want - freed,
                KEYS_PER_CLOCK_CHECK,
                |shard| crate::events::after_server_changes(shared, shard),
            );
            freed += round.bytes;
            evicted += round.keys as u64;
            exhausted = round.exhausted;
            if time_limit.is_some_and(|limit| started.elapsed() >= limit) {
                break;
            }
        }
        if exhausted {
            shared.sample_memory();
            if shared.used_memory.load(Ordering::Relaxed) <= limit {
                break Room::Enough;
            }
            break Room::Exhausted;
        }
        if time_limit.is_some_and(|limit| started.elapsed() >= limit) {
            break Room::Freeing;
        }
    };
    if evicted > 0 {
        crate::events::tracking::flush_broadcasts(shared);
    }
    room
}

/// Starts the background eviction task unless it runs already. It evicts
/// in slices of a millisecond, yielding between them, so clients keep being
/// served while memory comes down.
pub fn start_background_eviction(shared: &Shared) {
    let Some(shared) = shared.this.upgrade() else {
        return;
    };
    let Ok(runtime) = tokio::runtime::Handle::try_current() else {
        return;
    };
    if shared.eviction_running.swap(true, Ordering::AcqRel) {
        return;
    }
    runtime.spawn(background_eviction(shared));
}

async fn background_eviction(shared: Arc<Shared>) {
    const SLICE: Duration = Duration::from_millis(1);
    loop {
        let limit = shared.hot.maxmemory.load(Ordering::Relaxed);
        if limit == 0
            || shared.is_shutting_down()
            || shared.keyspace.eviction.policy() == Policy::NoEviction
            || evict_down_to(&shared, limit, Some(SLICE)) != Room::Freeing
        {
            break;
        }
        tokio::task::yield_now().await;
    }
    shared.eviction_running.store(false, Ordering::Release);
}
