//! Fills: copying upstream keys into the local keyspace, and dropping
//! copies when the upstream says they changed.
//!
//! A fill reads each key with `MULTI; DUMP k; PTTL k; EXEC` on the tracking
//! connection, so it gets the whole value of any type and its remaining
//! TTL at one instant, and the upstream starts tracking the key for cachet.
//!
//! Every key being filled has a slot here. Concurrent misses on one key
//! wait on the one slot instead of fetching again. Invalidations, writes
//! and link changes void slots; a fill installs only if its slot was not
//! voided and its link's generation is still current, checked under the
//! slots lock, which invalidations also hold while they drop copies. That
//! lock is taken before any shard lock, never after.
//!
//! Copies live in database 0: with an upstream, cachet serves the
//! upstream's one database.

use super::UpstreamError;
use crate::server::Shared;
use parking_lot::Mutex;
use redis::aio::MultiplexedConnection;
use redis::Value as Reply;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::watch;

/// The database copies live in.
pub const COPY_DB: usize = 0;

/// What a fill did for one key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The copy is in the local keyspace.
    Installed,
    /// The upstream has no such key.
    Absent,
    /// The key cannot be held locally (a type cachet does not keep, a key
    /// outside the BCAST prefixes, or no memory): the command is forwarded.
    Uncacheable,
    /// An invalidation, write or reconnect overtook the fill, or another
    /// client's fill of the key finished: look again.
    Retry,
}

struct Slot {
    voided: AtomicBool,
    done: watch::Sender<bool>,
}

#[derive(Default)]
pub struct Fills {
    slots: Mutex<HashMap<Box<[u8]>, Arc<Slot>>>,
}

impl Fills {
    /// Voids every fill in flight (the link changed).
    pub fn void_all(&self) {
        for slot in self.slots.lock().values() {
            slot.voided.store(true, Ordering::Release);
        }
    }
}

/// Fills `keys` (distinct, all missing locally); returns an outcome per key.
pub async fn fill(shared: &Arc<Shared>, keys: &[Box<[u8]>]) -> Result<Vec<Outcome>, UpstreamError> {
    let upstream = &shared.upstream;
    let link = upstream.current()?;
    let mut outcomes = vec![Outcome::Retry; keys.len()];
    let mut mine: Vec<(usize, Arc<Slot>)> = Vec::new();
    let mut theirs: Vec<watch::Receiver<bool>> = Vec::new();
    {
        let mut slots = upstream.fills.slots.lock();
        for (i, key) in keys.iter().enumerate() {
            if !link.may_cache(key) {
                outcomes[i] = Outcome::Uncacheable;
                continue;
            }
            match slots.get(key) {
                Some(slot) => theirs.push(slot.done.subscribe()),
                None => {
                    let slot = Arc::new(Slot {
                        voided: AtomicBool::new(false),
                        done: watch::channel(false).0,
                    });
                    slots.insert(key.clone(), slot.clone());
                    mine.push((i, slot));
                }
            }
        }
    }
    upstream
        .stats
        .misses
        .fetch_add(keys.len() as u64, std::sync::atomic::Ordering::Relaxed);
    if !mine.is_empty() {
        let fetched = fetch_all(shared, &link, keys, &mine).await;
        let finished = finish(shared, &link, keys, &mine, fetched.as_deref().ok());
        for ((i, _), outcome) in mine.iter().zip(finished) {
            outcomes[*i] = outcome;
        }
        fetched?;
    }
    let wait = upstream.timeout() * 2;
    for mut done in theirs {
        let _ = tokio::time::timeout(wait, done.wait_for(|d| *d)).await;
    }
    Ok(outcomes)
}

/// Ends the fills of `mine`: each installs its copy unless its slot was
/// voided or the link changed meanwhile, checked under the slots lock that
/// invalidations also hold. Wakes whoever waited on the slots.
fn finish(
    shared: &Shared,
    link: &super::link::Link,
    keys: &[Box<[u8]>],
    mine: &[(usize, Arc<Slot>)],
    copies: Option<&[Copy]>,
) -> Vec<Outcome> {
    let upstream = &shared.upstream;
    let mut slots = upstream.fills.slots.lock();
    let current = upstream.generation() == link.generation && upstream.is_up();
    let tracks = link.tracking != super::link::Tracking::Off;
    let mut outcomes = Vec::with_capacity(mine.len());
    for (n, (i, slot)) in mine.iter().enumerate() {
        let key = &keys[*i];
        if slots.get(key).is_some_and(|s| Arc::ptr_eq(s, slot)) {
            slots.remove(key);
        }
        let fresh = current && !slot.voided.load(Ordering::Acquire);
        outcomes.push(match copies {
            Some(copies) if fresh => install(shared, key, &copies[n], tracks),
            Some(_) => {
                upstream
                    .stats
                    .fills_discarded
                    .fetch_add(1, Ordering::Relaxed);
                Outcome::Retry
            }
            None => Outcome::Retry,
        });
        slot.done.send_replace(true);
    }
    outcomes
}

/// Registers a fresh slot for each key, voiding any fill already in
/// flight for it (its read may predate a write about to be sent).
fn take_slots(shared: &Shared, keys: &[Box<[u8]>]) -> Vec<(usize, Arc<Slot>)> {
    let mut slots = shared.upstream.fills.slots.lock();
    keys.iter()
        .enumerate()
        .map(|(i, key)| {
            let slot = Arc::new(Slot {
                voided: AtomicBool::new(false),
                done: watch::channel(false).0,
            });
            if let Some(old) = slots.insert(key.clone(), slot.clone()) {
                old.voided.store(true, Ordering::Release);
            }
            (i, slot)
        })
        .collect()
}

/// Waits until the tracking connections of `keys` have delivered every
/// invalidation the upstream queued before now: a PING on each, answered
/// after them in socket order. A read answered on the RESP2 connection
/// calls this before its reply goes out, so a client that saw a value there
/// cannot then read an older copy whose invalidation was still on its way.
pub async fn barrier(shared: &Shared, keys: &[Box<[u8]>]) {
    let Ok(link) = shared.upstream.current() else {
        return;
    };
    let mut groups: Vec<u16> = Vec::new();
    for key in keys {
        let (mut connection, group) = link.tracking_connection(key);
        if groups.contains(&group) {
            continue;
        }
        groups.push(group);
        let ping = redis::cmd("PING");
        let _ = tokio::time::timeout(
            shared.upstream.timeout(),
            connection.send_packed_command(&ping),
        )
        .await;
    }
}

/// Whether every key has a copy now.
pub fn all_cached(shared: &Shared, keys: &[Box<[u8]>]) -> bool {
    let now = crate::util::now_ms();
    keys.iter().all(|key| {
        let keyspace = &shared.keyspace;
        let mut locked = keyspace.lock_one(key);
        locked.shard(keyspace.shard_index(key)).dbs[COPY_DB]
            .get_ref(key, now)
            .is_some()
    })
}

/// A write to keys that all have copies: sent on the tracking connection as
/// `MULTI; write; DUMP k; PTTL k...; EXEC`, so the copies are replaced by
/// the upstream's new values at the instant of the write, and the upstream
/// tracks them again (NOLOOP spares cachet an invalidation of its own
/// write). Returns the write's own reply, or None when the upstream
/// discarded the transaction (a slot that moved, say): then nothing was
/// applied, and the caller forwards the write plainly.
pub async fn write_and_refresh(
    shared: &Shared,
    command: &redis::Cmd,
    keys: &[Box<[u8]>],
) -> Result<Option<Reply>, UpstreamError> {
    let upstream = &shared.upstream;
    let link = upstream.current()?;
    let (mut connection, _) = link.tracking_connection(&keys[0]);
    let mine = take_slots(shared, keys);
    let mut pipe = redis::pipe();
    pipe.cmd("MULTI");
    pipe.add_command(command.clone());
    for key in keys {
        pipe.cmd("DUMP").arg(&**key);
        pipe.cmd("PTTL").arg(&**key);
    }
    pipe.cmd("EXEC");
    let timeout = upstream.timeout();
    let started = Instant::now();
    let answer = tokio::time::timeout(
        timeout,
        connection.send_packed_commands(&pipe, 2 + 2 * keys.len(), 1),
    )
    .await;
    upstream.stats.record_round_trip(started.elapsed());
    let failed = |reason: String| UpstreamError::Failed {
        address: link.address.clone(),
        reason,
    };
    let items = match answer {
        Ok(Ok(mut replies)) if replies.len() == 1 => match replies.pop() {
            Some(Reply::Array(items)) if items.len() == 1 + 2 * keys.len() => Ok(items),
            other => Err(failed(format!("unexpected reply to a write: {:?}", other))),
        },
        Ok(Ok(_)) => Err(failed("unexpected reply to a write".into())),
        Ok(Err(error)) if error.code().is_some() => {
            finish(shared, &link, keys, &mine, None);
            if link.is_cluster() {
                link.request_reconnect();
            }
            return Ok(None);
        }
        Ok(Err(error)) => Err(failed(error.to_string())),
        Err(_) => Err(UpstreamError::Timeout {
            address: link.address.clone(),
            ms: timeout.as_millis() as u64,
        }),
    };
    let mut items = match items {
        Ok(items) => items.into_iter(),
        Err(error) => {
            finish(shared, &link, keys, &mine, None);
            return Err(error);
        }
    };
    let reply = items.next().unwrap_or_default();
    let copies = copies_of(items);
    finish(shared, &link, keys, &mine, Some(&copies));
    Ok(Some(reply))
}

/// What the upstream holds for one key.
enum Copy {
    Absent,
    Value { dump: Vec<u8>, pttl: i64 },
    Unreadable,
}

/// Reads the keys of `mine`: one transaction per group of keys that one
/// tracking connection serves together (all of them for one node, a slot
/// for a cluster). Returns a copy per key of `mine`, in order.
async fn fetch_all(
    shared: &Shared,
    link: &super::link::Link,
    keys: &[Box<[u8]>],
    mine: &[(usize, Arc<Slot>)],
) -> Result<Vec<Copy>, UpstreamError> {
    let mut groups: Vec<(u16, MultiplexedConnection, Vec<usize>)> = Vec::new();
    for (n, (i, _)) in mine.iter().enumerate() {
        let (connection, group) = link.tracking_connection(&keys[*i]);
        match groups.iter_mut().find(|g| g.0 == group) {
            Some(existing) => existing.2.push(n),
            None => groups.push((group, connection, vec![n])),
        }
    }
    let mut copies: Vec<Option<Copy>> = (0..mine.len()).map(|_| None).collect();
    for (_, connection, members) in groups {
        let wanted: Vec<&[u8]> = members.iter().map(|n| &*keys[mine[*n].0]).collect();
        let fetched = fetch(shared, link, connection, &wanted).await?;
        for (n, copy) in members.into_iter().zip(fetched) {
            copies[n] = Some(copy);
        }
    }
    Ok(copies
        .into_iter()
        .map(|c| c.unwrap_or(Copy::Unreadable))
        .collect())
}

/// Reads `keys` in one transaction on a tracking connection.
async fn fetch(
    shared: &Shared,
    link: &super::link::Link,
    mut connection: MultiplexedConnection,
    keys: &[&[u8]],
) -> Result<Vec<Copy>, UpstreamError> {
    let mut pipe = redis::pipe();
    pipe.cmd("MULTI");
    for key in keys {
        pipe.cmd("DUMP").arg(*key);
        pipe.cmd("PTTL").arg(*key);
    }
    pipe.cmd("EXEC");
    let timeout = shared.upstream.timeout();
    let started = Instant::now();
    let answer = tokio::time::timeout(
        timeout,
        connection.send_packed_commands(&pipe, 1 + 2 * keys.len(), 1),
    )
    .await;
    shared.upstream.stats.record_round_trip(started.elapsed());
    let replies = match answer {
        Ok(Ok(mut replies)) if replies.len() == 1 => match replies.pop() {
            Some(Reply::Array(items)) if items.len() == 2 * keys.len() => items,
            other => {
                return Err(UpstreamError::Failed {
                    address: link.address.clone(),
                    reason: format!("unexpected reply to a fill: {:?}", other),
                })
            }
        },
        Ok(Ok(_)) => {
            return Err(UpstreamError::Failed {
                address: link.address.clone(),
                reason: "unexpected reply to a fill".into(),
            })
        }
        Ok(Err(error)) if error.code().is_some() => {
            // The upstream refused the read (an ACL, a slot that moved):
            // the command is forwarded instead, and a cluster link
            // reconnects to learn the new slot map.
            if link.is_cluster() {
                link.request_reconnect();
            }
            return Ok(keys.iter().map(|_| Copy::Unreadable).collect());
        }
        Ok(Err(error)) => {
            return Err(UpstreamError::Failed {
                address: link.address.clone(),
                reason: error.to_string(),
            })
        }
        Err(_) => {
            return Err(UpstreamError::Timeout {
                address: link.address.clone(),
                ms: timeout.as_millis() as u64,
            })
        }
    };
    Ok(copies_of(replies.into_iter()))
}

/// Pairs of DUMP and PTTL replies, read as copies.
fn copies_of(mut items: impl Iterator<Item = Reply>) -> Vec<Copy> {
    let mut copies = Vec::new();
    while let (Some(dump), Some(pttl)) = (items.next(), items.next()) {
        copies.push(match (dump, pttl) {
            (Reply::Nil, _) | (_, Reply::Int(-2)) => Copy::Absent,
            (Reply::BulkString(dump), Reply::Int(pttl)) => Copy::Value { dump, pttl },
            _ => Copy::Unreadable,
        });
    }
    copies
}

/// Puts one fetched copy in the local keyspace. Called with the slots lock held.
fn install(shared: &Shared, key: &[u8], copy: &Copy, tracks: bool) -> Outcome {
    let (dump, pttl) = match copy {
        Copy::Absent => return Outcome::Absent,
        Copy::Unreadable => return Outcome::Uncacheable,
        Copy::Value { dump, pttl } => (dump, *pttl),
    };
    let limits = shared.hot.encoding_limits();
    let Ok(value) = crate::storage::rdb::restore_from_upstream(dump, &limits) else {
        return Outcome::Uncacheable;
    };
    let cap = shared.upstream.copy_ttl_cap(tracks);
    let now = crate::util::now_ms();
    let remaining = match (pttl > 0, cap > 0) {
        (true, true) => (pttl as u64).min(cap),
        (true, false) => pttl as u64,
        (false, true) => cap,
        (false, false) => 0,
    };
    let deadline = if remaining == 0 { 0 } else { now + remaining };
    let keyspace = &shared.keyspace;
    let mut locked = keyspace.lock_one(key);
    let shard = locked.shard(keyspace.shard_index(key));
    shard.dbs[COPY_DB].set(key, value, deadline, now);
    crate::events::after_server_changes(shared, shard);
    shared.upstream.stats.fills.fetch_add(1, Ordering::Relaxed);
    Outcome::Installed
}

/// Drops the copies of `keys` and voids fills in flight for them (a write
/// is about to be sent, or was answered).
pub fn void_keys<'k>(shared: &Shared, keys: impl Iterator<Item = &'k [u8]>) {
    let slots = shared.upstream.fills.slots.lock();
    for key in keys {
        if let Some(slot) = slots.get(key) {
            slot.voided.store(true, Ordering::Release);
        }
        drop_copy(shared, key);
    }
}

fn drop_copy(shared: &Shared, key: &[u8]) {
    let keyspace = &shared.keyspace;
    let mut locked = keyspace.lock_one(key);
    let shard = locked.shard(keyspace.shard_index(key));
    if shard.dbs[COPY_DB].drop_copy(key) {
        crate::events::after_server_changes(shared, shard);
    }
}

/// Drops every copy and voids every fill (the link changed, or a FLUSHALL).
pub fn drop_all_copies(shared: &Shared) {
    let slots = shared.upstream.fills.slots.lock();
    for slot in slots.values() {
        slot.voided.store(true, Ordering::Release);
    }
    // Several shards at once: not while a script holds some of them.
    let _gate = shared.scripting.run.hold_blocking();
    let mut locked = shared.keyspace.lock_all();
    let mut shards = locked.shards_mut();
    for shard in shards.iter_mut() {
        for table in shard.dbs.iter_mut() {
            table.flush();
        }
    }
    crate::events::tracking::invalidate_everything(shared, shards, None);
}

/// An invalidation push from the tracking connection of `generation`:
/// `[keys...]`, or null when the upstream flushed.
pub fn invalidated(shared: &Shared, generation: u64, data: Vec<Reply>) {
    let upstream = &shared.upstream;
    if upstream.generation() != generation {
        return;
    }
    match data.into_iter().next() {
        Some(Reply::Array(keys)) => {
            let keys: Vec<Vec<u8>> = keys
                .into_iter()
                .filter_map(|k| match k {
                    Reply::BulkString(key) => Some(key),
                    Reply::SimpleString(key) => Some(key.into_bytes()),
                    _ => None,
                })
                .collect();
            upstream
                .stats
                .invalidations
                .fetch_add(keys.len() as u64, Ordering::Relaxed);
            void_keys(shared, keys.iter().map(|k| k.as_slice()));
        }
        _ => {
            upstream.stats.invalidations.fetch_add(1, Ordering::Relaxed);
            drop_all_copies(shared);
        }
    }
}
