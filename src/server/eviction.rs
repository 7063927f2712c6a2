//! Keeping memory under `maxmemory`: before each command (as Redis's
//! `performEvictions`), and in the background when one command's share of
//! time (`maxmemory-eviction-tenacity`) was not enough or CONFIG SET lowered
//! the limit below what is in use.
//!
//! The loop: read `used_memory` (the allocator's figure, at most a
//! millisecond old, less the estimated size of what was evicted since),
//! evict keys until their estimated sizes cover the excess, repeat. Keys go one shard lock at a time, and each
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
    if limit == 0 {
        return Room::Enough;
    }
    if shared.estimated_used_memory() <= limit {
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
/// `time_limit` has passed (`Freeing`). Between two samples of the
/// allocator's figure (a millisecond apart) the bytes evicted since are
/// subtracted from it, so a burst of writes evicts about what it adds
/// instead of sampling on every command.
fn evict_down_to(shared: &Shared, limit: u64, time_limit: Option<Duration>) -> Room {
    // The clocks are read again, and the time limit checked, only from the
    // second round on: most commands need one round.
    let mut now_ms = crate::util::now_ms();
    let mut started: Option<Instant> = None;
    let mut evicted = 0;
    let room = loop {
        let used = shared.estimated_used_memory();
        if used <= limit {
            break Room::Enough;
        }
        if evicted > 0 {
            now_ms = crate::util::now_ms();
            let started = *started.get_or_insert_with(Instant::now);
            if time_limit.is_some_and(|limit| started.elapsed() >= limit) {
                break Room::Freeing;
            }
        }
        let want = usize::try_from(used - limit).unwrap_or(usize::MAX);
        let round = shared
            .keyspace
            .evict(now_ms, want, KEYS_PER_CLOCK_CHECK, |shard| {
                crate::events::after_server_changes(shared, shard)
            });
        shared.note_evicted_bytes(round.bytes as u64);
        evicted += round.keys;
        if round.exhausted {
            break if shared.estimated_used_memory() <= limit {
                Room::Enough
            } else {
                Room::Exhausted
            };
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

/// One slice of eviction, unless a script holds the keyspace (None).
fn evict_slice_if_admitted(shared: &Shared, limit: u64, slice: Duration) -> Option<Room> {
    match shared.scripting.run.admit() {
        crate::scripting::run_state::Admission::Open(_gate) => {
            Some(evict_down_to(shared, limit, Some(slice)))
        }
        _ => None,
    }
}

async fn background_eviction(shared: Arc<Shared>) {
    const SLICE: Duration = Duration::from_millis(1);
    loop {
        let limit = shared.hot.maxmemory.load(Ordering::Relaxed);
        if limit == 0
            || shared.is_shutting_down()
            || shared.keyspace.eviction.policy() == Policy::NoEviction
        {
            break;
        }
        match evict_slice_if_admitted(&shared, limit, SLICE) {
            Some(Room::Freeing) => tokio::task::yield_now().await,
            Some(_) => break,
            // A running script holds the keyspace.
            None => tokio::time::sleep(Duration::from_millis(10)).await,
        }
    }
    shared.eviction_running.store(false, Ordering::Release);
}
