//! Client-side caching (CLIENT TRACKING): each client's tracking mode, the
//! broadcast (BCAST) prefix table, and the invalidation messages, as Redis
//! 7.0's `tracking.c` sends them.
//!
//! Default mode: a tracking client's READONLY commands remember their keys
//! in the shards' tracking tables (`storage::tracked`); a change to such a
//! key sends an invalidation to every client that remembered it, and the
//! entry goes. BCAST mode: the client names prefixes; every change to a key
//! under one is collected and sent in one message per prefix after the
//! batch of commands that made it. Invalidations travel as RESP3 pushes, or
//! in RESP2 as messages on `__redis__:invalidate` to the client named by
//! REDIRECT. A client's own invalidations follow the reply of the command
//! that caused them (Redis 7.0 defers them the same way); anybody else's are
//! queued at once, while the shard that changed is still locked, so they
//! reach the client before the reply to any command it sends afterwards.
//!
//! This module decides who is told what; queuing bytes is the outbox's job.

use crate::protocol::Protocol;
use crate::server::client::{Client, ClientInfo};
use crate::server::Shared;
use crate::storage::Shard;
use bytes::Bytes;
use parking_lot::Mutex;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

/// Tracking flags of one client (`TrackingState::flags`).
pub mod mode {
    pub const ON: u32 = 1 << 0;
    pub const BCAST: u32 = 1 << 1;
    pub const OPTIN: u32 = 1 << 2;
    pub const OPTOUT: u32 = 1 << 3;
    pub const NOLOOP: u32 = 1 << 4;
    /// The REDIRECT client went away.
    pub const BROKEN_REDIRECT: u32 = 1 << 5;
    /// CLIENT CACHING YES (in OPTIN mode) or NO (in OPTOUT mode) applies to
    /// the next command.
    pub const CACHING: u32 = 1 << 6;
}

/// What other connections read of a client's tracking mode.
#[derive(Default, Debug)]
pub struct TrackingState {
    flags: AtomicU32,
    /// REDIRECT's client id, 0 for none.
    redirect: AtomicU64,
}

impl TrackingState {
    pub fn flags(&self) -> u32 {
        self.flags.load(Ordering::Relaxed)
    }

    pub fn has(&self, flag: u32) -> bool {
        self.flags() & flag != 0
    }

    pub fn redirect(&self) -> u64 {
        self.redirect.load(Ordering::Relaxed)
    }

    fn set(&self, flag: u32, on: bool) {
        if on {
            self.flags.fetch_or(flag, Ordering::Relaxed);
        } else {
            self.flags.fetch_and(!flag, Ordering::Relaxed);
        }
    }
}

/// One BCAST prefix: who listens, and the keys under it changed since the
/// last broadcast, each with the id of the client that changed it last (0:
/// the server itself, e.g. expiry), for NOLOOP.
#[derive(Default)]
struct Prefix {
    clients: Vec<Arc<ClientInfo>>,
    changed: BTreeMap<Box<[u8]>, u64>,
}

/// The server-wide tracking state.
#[derive(Default)]
pub struct Tracking {
    prefixes: Mutex<BTreeMap<Box<[u8]>, Prefix>>,
    prefix_count: AtomicUsize,
    /// Some prefix has changed keys waiting to be broadcast.
    broadcast_pending: AtomicBool,
    clients: AtomicUsize,
    /// Rounds in a row the table stayed over `tracking-table-max-keys`:
    /// each round tries harder (Redis's `timeout_counter`).
    limit_rounds: AtomicU32,
    /// Serialises `refresh_switch`, so its decision reflects one moment.
    switch_lock: Mutex<()>,
}

/// Keeps the keyspace recording modifications while anyone tracks or the
/// table still holds keys: as in Redis, a change to a tracked key drops its
/// entry even while no client is tracking, so nothing stale is sent later.
fn refresh_switch(shared: &Shared) {
    let tracking = &shared.tracking;
    let _serial = tracking.switch_lock.lock();
    let needed = tracking.client_count() > 0 || shared.keyspace.tracking_totals.keys() > 0;
    shared.keyspace.changes.set_tracking(needed);
}

/// An invalidation's contents, already encoded: an array of keys, or a null
/// (everything: FLUSHALL / FLUSHDB).
#[derive(Clone)]
pub enum Invalidated {
    Keys(Bytes),
    All,
}

impl Invalidated {
    pub fn key(key: &[u8]) -> Invalidated {
        let mut out = Vec::with_capacity(key.len() + 16);
        let mut writer = crate::protocol::ReplyWriter::new(&mut out, Protocol::Resp2);
        writer.array_len(1);
        writer.bulk(key);
        Invalidated::Keys(Bytes::from(out))
    }
}

impl Tracking {
    /// Clients with tracking on (INFO's tracking_clients).
    pub fn client_count(&self) -> usize {
        self.clients.load(Ordering::Relaxed)
    }

    /// BCAST prefixes in use (INFO's tracking_total_prefixes).
    pub fn prefix_count(&self) -> usize {
        self.prefix_count.load(Ordering::Relaxed)
    }

    /// Notes a change to `key` for the BCAST prefixes it falls under.
    fn remember_for_broadcast(&self, key: &[u8], changed_by: u64) {
        if self.prefix_count() == 0 {
            return;
        }
        let mut prefixes = self.prefixes.lock();
        let mut any = false;
        for (prefix, state) in prefixes.iter_mut() {
            if key.starts_with(prefix) {
                state.changed.insert(Box::from(key), changed_by);
                any = true;
            }
        }
        if any {
            self.broadcast_pending.store(true, Ordering::Release);
        }
    }
}

/// CLIENT TRACKING ON: sets the mode (the caller has validated the options).
pub fn enable(
    shared: &Shared,
    client: &mut Client,
    redirect: u64,
    options: u32,
    prefixes: &[&[u8]],
) {
    let state = &client.info.tracking;
    if !state.has(mode::ON) {
        shared.tracking.clients.fetch_add(1, Ordering::Relaxed);
        refresh_switch(shared);
    }
    let keep = state.flags() & mode::CACHING;
    state
        .flags
        .store(mode::ON | keep | options, Ordering::Relaxed);
    state.redirect.store(redirect, Ordering::Relaxed);
    if options & mode::BCAST != 0 {
        let mut table = shared.tracking.prefixes.lock();
        let wanted: Vec<&[u8]> = if prefixes.is_empty() {
            vec![b""]
        } else {
            prefixes.to_vec()
        };
        for prefix in wanted {
            if client.tracking_prefixes.contains(prefix) {
                continue;
            }
            let entry = table.entry(Box::from(prefix)).or_insert_with(|| {
                shared.tracking.prefix_count.fetch_add(1, Ordering::Relaxed);
                Prefix::default()
            });
            entry.clients.push(client.info.clone());
            client.tracking_prefixes.insert(Box::from(prefix));
        }
    }
}

/// CLIENT TRACKING OFF (also RESET and disconnection).
pub fn disable(shared: &Shared, client: &mut Client) {
    let state = &client.info.tracking;
    if !client.tracking_prefixes.is_empty() {
        let mut table = shared.tracking.prefixes.lock();
        for prefix in std::mem::take(&mut client.tracking_prefixes) {
            if let Some(entry) = table.get_mut(&prefix) {
                entry.clients.retain(|c| c.id != client.id);
                if entry.clients.is_empty() {
                    table.remove(&prefix);
                    shared.tracking.prefix_count.fetch_sub(1, Ordering::Relaxed);
                }
            }
        }
    }
    if state.has(mode::ON) {
        state.flags.store(0, Ordering::Relaxed);
        state.redirect.store(0, Ordering::Relaxed);
        shared.tracking.clients.fetch_sub(1, Ordering::Relaxed);
        refresh_switch(shared);
    }
}

/// Whether a prefix collides with one the client has, or with another
/// requested one: Redis's error text, or None.
pub fn prefix_collision(client: &Client, requested: &[&[u8]]) -> Option<String> {
    let overlaps = |a: &[u8], b: &[u8]| a.starts_with(b) || b.starts_with(a);
    for (i, prefix) in requested.iter().enumerate() {
        if let Some(existing) = client
            .tracking_prefixes
            .iter()
            .find(|e| overlaps(prefix, e))
        {
            return Some(format!(
                "Prefix '{}' overlaps with an existing prefix '{}'. Prefixes for a single client must not overlap.",
                String::from_utf8_lossy(prefix),
                String::from_utf8_lossy(existing)
            ));
        }
        if let Some(other) = requested[i + 1..].iter().find(|o| overlaps(prefix, o)) {
            return Some(format!(
                "Prefix '{}' overlaps with another provided prefix '{}'. Prefixes for a single client must not overlap.",
                String::from_utf8_lossy(prefix),
                String::from_utf8_lossy(other)
            ));
        }
    }
    None
}

/// After a READONLY command of a client tracking in default mode: remember
/// the keys it read, unless OPTIN/OPTOUT and CLIENT CACHING say otherwise.
pub fn should_remember(client: &Client) -> bool {
    let flags = client.info.tracking.flags();
    if flags & mode::ON == 0 || flags & mode::BCAST != 0 {
        return false;
    }
    let caching = flags & mode::CACHING != 0;
    !((flags & mode::OPTIN != 0 && !caching) || (flags & mode::OPTOUT != 0 && caching))
}

/// Clears CLIENT CACHING's one-command effect (Redis keeps it through
/// MULTI and through any CLIENT subcommand).
pub fn end_of_command(client: &Client, command_was_client: bool) {
    if !client.in_multi() && !command_was_client {
        client.info.tracking.set(mode::CACHING, false);
    }
}

pub fn set_caching(client: &Client) {
    client.info.tracking.set(mode::CACHING, true);
}

/// A key changed: every client that cached it is told (the entry goes),
/// and the BCAST prefixes note it. `origin` is the client whose command
/// ran when it changed (None: none, e.g. active expiry); its own
/// invalidations wait until its reply is written. A change `by_server`
/// (expiry) counts as nobody's for NOLOOP broadcasts, as in Redis.
pub fn key_modified(
    shared: &Shared,
    shard: &mut Shard,
    key: &[u8],
    by_server: bool,
    origin: Option<&mut Client>,
) {
    let changed_by = match &origin {
        Some(client) if !by_server => client.id,
        _ => 0,
    };
    shared.tracking.remember_for_broadcast(key, changed_by);
    if shard.tracked.is_empty() {
        return;
    }
    let Some(ids) = shard.tracked.take(key, &shared.keyspace.tracking_totals) else {
        return;
    };
    if shared.keyspace.tracking_totals.keys() == 0 && shared.tracking.client_count() == 0 {
        refresh_switch(shared);
    }
    let message = Invalidated::key(key);
    let mut origin = origin;
    for id in ids {
        match origin.as_deref_mut() {
            Some(client) if client.id == id => {
                let flags = client.info.tracking.flags();
                if flags & mode::ON != 0 && flags & (mode::BCAST | mode::NOLOOP) == 0 {
                    client.pending_invalidations.push(message.clone());
                }
            }
            _ => {
                let Some(target) = shared.clients.get(id) else {
                    continue;
                };
                let flags = target.tracking.flags();
                if flags & mode::ON != 0 && flags & mode::BCAST == 0 {
                    send(shared, &target, &message);
                }
            }
        }
    }
}

/// FLUSHALL / FLUSHDB: every tracking client gets the null invalidation
/// (the flushing one after its reply) and the whole table is dropped.
pub fn invalidate_everything(
    shared: &Shared,
    shards: Vec<&mut Shard>,
    mut origin: Option<&mut Client>,
) {
    if shared.tracking.client_count() > 0 {
        for target in shared.clients.all() {
            if !target.tracking.has(mode::ON) {
                continue;
            }
            if let Some(origin) = origin.as_deref_mut().filter(|o| o.id == target.id) {
                origin.pending_invalidations.push(Invalidated::All);
            } else {
                send(shared, &target, &Invalidated::All);
            }
        }
    }
    for shard in shards {
        shard.tracked.clear(&shared.keyspace.tracking_totals);
    }
    refresh_switch(shared);
}

/// Sends the invalidations a client's own commands caused, after their replies.
pub fn send_pending(shared: &Shared, client: &mut Client) {
    for message in std::mem::take(&mut client.pending_invalidations) {
        send(shared, &client.info, &message);
    }
}

/// Sends one invalidation for the tracking client `tracker`: to it (RESP3)
/// or to its REDIRECT client (RESP3 push, or RESP2 message on
/// `__redis__:invalidate` if that client is subscribed). A vanished
/// REDIRECT client marks the redirect broken and tells a RESP3 tracker.
pub fn send(shared: &Shared, tracker: &Arc<ClientInfo>, message: &Invalidated) {
    let limits = &shared.output_limits;
    let redirect = tracker.tracking.redirect();
    let (target, redirected) = if redirect == 0 {
        (tracker.clone(), false)
    } else {
        match shared.clients.get(redirect) {
            Some(target) => (target, true),
            None => {
                tracker.tracking.set(mode::BROKEN_REDIRECT, true);
                if tracker.protocol() == Protocol::Resp3 {
                    let mut frame = b">2\r\n$21\r\ntracking-redir-broken\r\n".to_vec();
                    frame.extend_from_slice(format!(":{}\r\n", redirect).as_bytes());
                    tracker.send(Bytes::from(frame), limits);
                }
                return;
            }
        }
    };
    let mut frame = match target.protocol() {
        Protocol::Resp3 => b">2\r\n$10\r\ninvalidate\r\n".to_vec(),
        Protocol::Resp2 if redirected && target.subscription_total() > 0 => {
            b"*3\r\n$7\r\nmessage\r\n$20\r\n__redis__:invalidate\r\n".to_vec()
        }
        // A RESP2 connection cannot take pushes on its own replies.
        Protocol::Resp2 => return,
    };
    match message {
        Invalidated::Keys(keys) => frame.extend_from_slice(keys),
        // Redis sends the null of the tracking client's protocol.
        Invalidated::All => frame.extend_from_slice(match tracker.protocol() {
            Protocol::Resp2 => b"$-1\r\n",
            Protocol::Resp3 => b"_\r\n",
        }),
    }
    target.send(Bytes::from(frame), limits);
}

/// Sends the BCAST invalidations collected since the last call: one
/// message per prefix, to every client on it (NOLOOP clients without the
/// keys they changed themselves). Runs after each batch of commands and
/// each active-expiry round.
pub fn flush_broadcasts(shared: &Shared) {
    let tracking = &shared.tracking;
    if !tracking.broadcast_pending.swap(false, Ordering::AcqRel) {
        return;
    }
    let mut outgoing: Vec<(Arc<ClientInfo>, Invalidated)> = Vec::new();
    {
        let mut prefixes = tracking.prefixes.lock();
        for state in prefixes.values_mut() {
            if state.changed.is_empty() {
                continue;
            }
            let changed = std::mem::take(&mut state.changed);
            let everyone = encode_keys(changed.keys().map(|k| &**k));
            for client in &state.clients {
                if client.tracking.has(mode::NOLOOP) {
                    let others: Vec<&[u8]> = changed
                        .iter()
                        .filter(|(_, by)| **by != client.id)
                        .map(|(k, _)| &**k)
                        .collect();
                    if !others.is_empty() {
                        outgoing.push((client.clone(), encode_keys(others.into_iter())));
                    }
                } else {
                    outgoing.push((client.clone(), everyone.clone()));
                }
            }
        }
    }
    for (client, message) in outgoing {
        send(shared, &client, &message);
    }
}

fn encode_keys<'k>(keys: impl ExactSizeIterator<Item = &'k [u8]>) -> Invalidated {
    let mut out = Vec::new();
    let mut writer = crate::protocol::ReplyWriter::new(&mut out, Protocol::Resp2);
    writer.array_len(keys.len());
    for key in keys {
        writer.bulk(key);
    }
    Invalidated::Keys(Bytes::from(out))
}

/// Keeps the tracking table within `tracking-table-max-keys`: invalidates
/// keys (their clients are told at once) until it fits, trying harder each
/// round it does not (100 keys, then 200, ...), as Redis does before each
/// command and in its cron. Must be called with no shard locked.
pub fn enforce_table_limit(shared: &Shared) {
    let max_keys = shared.hot.tracking_table_max_keys.load(Ordering::Relaxed) as usize;
    let totals = &shared.keyspace.tracking_totals;
    if max_keys == 0 || totals.keys() <= max_keys {
        shared.tracking.limit_rounds.store(0, Ordering::Relaxed);
        return;
    }
    let rounds = shared.tracking.limit_rounds.load(Ordering::Relaxed) as usize;
    let mut effort = 100 * (rounds + 1);
    'shards: for index in 0..crate::storage::SHARD_COUNT {
        let mut locked = shared.keyspace.lock_index(index);
        let shard = locked.shard(index);
        while effort > 0 {
            if totals.keys() <= max_keys {
                break 'shards;
            }
            let Some(key) = shard.tracked.any_key() else {
                continue 'shards;
            };
            effort -= 1;
            key_modified_quietly(shared, shard, &key);
        }
        if effort == 0 {
            break;
        }
    }
    if totals.keys() <= max_keys {
        shared.tracking.limit_rounds.store(0, Ordering::Relaxed);
    } else {
        shared.tracking.limit_rounds.fetch_add(1, Ordering::Relaxed);
    }
}

/// Invalidates a tracked key without it having changed (the table limit):
/// its clients are told at once, BCAST prefixes are not involved.
fn key_modified_quietly(shared: &Shared, shard: &mut Shard, key: &[u8]) {
    let Some(ids) = shard.tracked.take(key, &shared.keyspace.tracking_totals) else {
        return;
    };
    let message = Invalidated::key(key);
    for id in ids {
        if let Some(target) = shared.clients.get(id) {
            let flags = target.tracking.flags();
            if flags & mode::ON != 0 && flags & mode::BCAST == 0 {
                send(shared, &target, &message);
            }
        }
    }
}

/// CLIENT TRACKINGINFO's flags, in Redis's order.
pub fn flag_names(flags: u32) -> Vec<&'static str> {
    let mut names = vec![if flags & mode::ON != 0 { "on" } else { "off" }];
    if flags & mode::BCAST != 0 {
        names.push("bcast");
    }
    if flags & mode::OPTIN != 0 {
        names.push("optin");
        if flags & mode::CACHING != 0 {
            names.push("caching-yes");
        }
    }
    if flags & mode::OPTOUT != 0 {
        names.push("optout");
        if flags & mode::CACHING != 0 {
            names.push("caching-no");
        }
    }
    if flags & mode::NOLOOP != 0 {
        names.push("noloop");
    }
    if flags & mode::BROKEN_REDIRECT != 0 {
        names.push("broken_redirect");
    }
    names
}

/// The client's BCAST prefixes, sorted (CLIENT TRACKINGINFO).
pub fn prefixes(client: &Client) -> &BTreeSet<Box<[u8]>> {
    &client.tracking_prefixes
}
