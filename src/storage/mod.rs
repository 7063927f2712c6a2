//! The keyspace: sharded in-memory storage for 16 (by default) logical
//! databases, with deadlines for expiry and the watch lists of WATCH.
//!
//! Layout. Keys are spread over a fixed number of shards by hash; each shard
//! is a mutex around one `DbShard` per logical database, so SELECT costs
//! nothing and SWAPDB swaps tables shard by shard. A `DbShard` holds the key
//! table (`Table`, see `table.rs` for why it is hand-written: SCAN's guarantee),
//! the expiry index (deadline-ordered, so active expiry finds due keys in
//! O(log n) instead of sampling), and the keys clients WATCH.
//!
//! Why shards of our own and not `dashmap`: a command that touches several
//! keys (MSET, RENAME, DEL k1 k2, a whole MULTI/EXEC) must hold every shard it
//! touches at once, taken in index order so two such commands cannot
//! deadlock; dashmap does not lock several shards together, and it cannot
//! keep per-shard state beside the table (expiry index, watch lists, counts).
//! `dashmap` is used for the registries that need none of that (clients).
//!
//! Memory per key. A key costs one heap block and one word of its table:
//! the block (`entry.rs`) holds an 8-byte header (access clock or LFU data,
//! flags, key length), the deadline only if the key has one, the key's
//! bytes and, for a string set whole, the string itself; any other value
//! sits in the block as a 24-byte `Value` whose contents (a list, a
//! listpack, a table) are one more block. The table (`table.rs`) keeps one
//! word per bucket that is the entry's pointer itself, so there is no node
//! and no `next` link per key; only buckets where keys collide pay for a
//! small array. A 16-byte key with a 10-byte value is a 48-byte block plus
//! about 16 bytes of table; Redis spends a dictEntry, an sds key, a robj and
//! the value (about 104 bytes). `benches/memory.py` measures both.
//!
//! Locking. The dispatcher locks what a command needs before it runs
//! (`Keyspace::lock_keys` for the command's keys, `lock_all` for commands
//! that see the whole keyspace and for EXEC), and the handler works on the
//! resulting `Locked` view; handlers never lock anything themselves. A
//! script is the exception: it holds the script gate, so nothing else runs,
//! and its `Locked` takes each shard the first time one of its commands
//! asks for it (`lock_on_demand`), keeping it to the end.
//!
//! This module owns keys, values and deadlines. It knows nothing of clients,
//! the protocol or commands.

pub mod changes;
pub mod dict;
pub mod entry;
pub mod evict;
pub mod expiry;
pub mod hash;
pub mod listpack;
pub mod rdb;
pub mod set;
pub mod table;
pub mod tracked;
pub mod value;
pub mod zset;

pub use changes::{class, ChangeKind, ChangeSwitch, KeyChange};
pub use dict::Dict;
pub use entry::{Contents, Entry};
pub use evict::{EvictionPool, EvictionSettings, Policy};
pub use expiry::ExpiryIndex;
pub use hash::Hash;
pub use listpack::Listpack;
pub use set::Set;
pub use table::{Lookup, Table};
pub use tracked::{TrackedKeys, TrackingTotals};
pub use value::{EncodingLimits, List, Value, WrongType};
pub use zset::{AddFlags, AddOutcome, LexBound, LexRange, Score, ScoreRange, ZSet};

use parking_lot::{Mutex, MutexGuard};
use std::collections::HashMap;
use std::hash::BuildHasher;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

/// Shards the keyspace is divided into (a power of two).
pub const SHARD_COUNT: usize = 32;
const SHARD_BITS: u32 = SHARD_COUNT.trailing_zeros();

/// A table's contents, moved whole by SWAPDB.
pub type TableData = (Table<Entry>, ExpiryIndex);

/// A client's interest in one watched key.
#[derive(Debug)]
pub struct WatchEntry {
    /// The watching client's "a watched key changed" flag.
    pub client_dirty: Arc<AtomicBool>,
    /// The key had already expired when it was watched: deleting it then is no change.
    pub stale_at_watch: AtomicBool,
}

/// One database's part of one shard.
pub struct DbShard {
    pub dict: Table<Entry>,
    /// Every key with an expiry, by deadline.
    expires: ExpiryIndex,
    watched: HashMap<Box<[u8]>, Vec<Arc<WatchEntry>>>,
    /// Keys removed because they expired (lazily or actively).
    pub expired_keys: u64,
    /// Keys removed by eviction.
    pub evicted_keys: u64,
    /// Keys that clients are blocked on (BLPOP and friends), with how many wait on each.
    blocked: HashMap<Box<[u8]>, usize>,
    /// Blocked-on keys that gained elements since the last `take_ready`.
    ready: Vec<Box<[u8]>>,
    /// The keyspace's switch: which changes are recorded in `changes`.
    switch: Arc<ChangeSwitch>,
    /// Notifications and modifications since the events module last took them.
    changes: changes::ChangeLog,
    /// The eviction settings, which decide what an access records.
    access: Arc<EvictionSettings>,
}

impl DbShard {
    fn new(switch: Arc<ChangeSwitch>, access: Arc<EvictionSettings>) -> Self {
        DbShard {
            dict: Table::default(),
            expires: ExpiryIndex::default(),
            watched: HashMap::new(),
            expired_keys: 0,
            evicted_keys: 0,
            blocked: HashMap::new(),
            ready: Vec::new(),
            switch,
            changes: changes::ChangeLog::default(),
            access,
        }
    }

    /// Records a keyspace notification (if its class is enabled) for the
    /// events module to publish once the command has finished.
    pub fn notify(&mut self, event_class: u32, event: &'static str, key: &[u8]) {
        self.changes.event(&self.switch, event_class, event, key);
    }

    /// `notify`, noting how much of the reply had been written.
    pub fn notify_at(
        &mut self,
        event_class: u32,
        event: &'static str,
        key: &[u8],
        reply_at: Option<usize>,
    ) {
        self.changes
            .event_at(&self.switch, event_class, event, key, reply_at);
    }

    /// Whether changes wait in the log.
    pub fn has_changes(&self) -> bool {
        !self.changes.is_empty()
    }

    /// Moves the recorded changes to `out`, tagged with database `db`.
    pub fn take_changes(&mut self, db: usize, out: &mut Vec<(usize, KeyChange)>) {
        self.changes.drain_into(db, out);
    }

    pub fn len(&self) -> usize {
        self.dict.len()
    }

    pub fn is_empty(&self) -> bool {
        self.dict.is_empty()
    }

    pub fn volatile_len(&self) -> usize {
        self.expires.len()
    }

    /// (sum of remaining TTLs in ms, number of volatile keys), for INFO's avg_ttl.
    pub fn ttl_total(&self, now_ms: u64) -> (u128, usize) {
        self.expires.ttl_total(now_ms)
    }

    /// The live entry for `key`, its access time updated; an expired one is
    /// removed on the way (lazy expiry).
    pub fn get_live(&mut self, key: &[u8], now_ms: u64) -> Option<&mut Entry> {
        self.lookup(key, now_ms, true)
    }

    /// The live entry for `key` without changing anything (the caller has
    /// already removed it if it expired).
    pub fn get_ref(&self, key: &[u8], now_ms: u64) -> Option<&Entry> {
        self.dict.get(key).filter(|e| !e.is_expired(now_ms))
    }

    /// Like `get_live` without updating the access time (OBJECT, TTL).
    pub fn get_untouched(&mut self, key: &[u8], now_ms: u64) -> Option<&mut Entry> {
        self.lookup(key, now_ms, false)
    }

    fn lookup(&mut self, key: &[u8], now_ms: u64, record_access: bool) -> Option<&mut Entry> {
        match self.dict.lookup_mut(key, |e| e.is_expired(now_ms)) {
            Lookup::Missing => None,
            Lookup::Removed(entry) => {
                self.expires.update(entry.key(), entry.deadline(), 0);
                self.expired_keys += 1;
                self.changes.expired(&self.switch, entry.key());
                None
            }
            Lookup::Live(entry) => {
                if record_access {
                    self.access.touch(entry, now_ms);
                }
                Some(entry)
            }
        }
    }

    /// Like `get_live`, for a caller about to modify the value in place:
    /// watchers of the key are told it changed.
    pub fn get_for_write(&mut self, key: &[u8], now_ms: u64) -> Option<&mut Entry> {
        if !self.watched.is_empty() || self.switch.tracking() {
            self.get_untouched(key, now_ms)?;
            self.touch(key);
        }
        self.get_live(key, now_ms)
    }

    pub fn contains_live(&mut self, key: &[u8], now_ms: u64) -> bool {
        self.get_live(key, now_ms).is_some()
    }

    /// Stores `value` under `key` with the given deadline (0: none), replacing
    /// whatever was there.
    pub fn set(&mut self, key: &[u8], value: Value, expires_at: u64, now_ms: u64) {
        if value.can_serve_blocked() {
            self.signal_ready(key);
        }
        let access = self.access.new_access(now_ms);
        self.put_new(key, Entry::new(key, value, expires_at, access), now_ms);
    }

    /// `set` for a string value, stored in the entry itself.
    pub fn set_string(&mut self, key: &[u8], bytes: &[u8], expires_at: u64, now_ms: u64) {
        let access = self.access.new_access(now_ms);
        self.put_new(
            key,
            Entry::new_string(key, bytes, expires_at, access),
            now_ms,
        );
    }

    /// Stores a new `entry` for `key`, replacing whatever was there.
    fn put_new(&mut self, key: &[u8], entry: Entry, now_ms: u64) {
        let expires_at = entry.deadline();
        let old = self.dict.insert(entry);
        // Replacing a key past its deadline: it expired first, as when
        // Redis looks it up for writing, and this one is new.
        let replaced_expired = old.as_ref().is_some_and(|e| e.is_expired(now_ms));
        if let (false, Some(old)) = (replaced_expired, old.as_ref()) {
            if self.access.policy().is_lfu() {
                // Under LFU an overwritten key keeps its frequency, as in Redis.
                if let Some(new) = self.dict.get_mut(key) {
                    new.set_access(old.access());
                }
            }
        }
        if replaced_expired {
            self.expired_keys += 1;
            self.changes.expired(&self.switch, key);
        }
        if old.is_none() || replaced_expired {
            self.notify(class::NEW, "new", key);
        }
        let old_deadline = old.map(|e| e.deadline()).unwrap_or(0);
        self.expires.update(key, old_deadline, expires_at);
        self.touch(key);
    }

    /// Inserts a whole entry under its own key (RENAME, MOVE, COPY keep
    /// deadlines and access data).
    pub fn put_entry(&mut self, entry: Entry) {
        let key: Box<[u8]> = Box::from(entry.key());
        if entry.can_serve_blocked() {
            self.signal_ready(&key);
        }
        let deadline = entry.deadline();
        let old = self.dict.insert(entry);
        if old.is_none() {
            self.notify(class::NEW, "new", &key);
        }
        let old_deadline = old.map(|old| old.deadline()).unwrap_or(0);
        self.expires.update(&key, old_deadline, deadline);
        self.touch(&key);
    }

    /// Removes a live key and returns its entry.
    pub fn remove(&mut self, key: &[u8], now_ms: u64) -> Option<Entry> {
        self.get_live(key, now_ms)?;
        let entry = self.dict.remove(key)?;
        self.expires.update(key, entry.deadline(), 0);
        self.touch(key);
        Some(entry)
    }

    /// Removes `key` to free memory: watchers and trackers are told (a change
    /// by the server) and `evicted` is logged. Returns the bytes estimated freed.
    pub fn evict(&mut self, key: &[u8]) -> Option<usize> {
        let entry = self.dict.remove(key)?;
        self.expires.update(key, entry.deadline(), 0);
        self.evicted_keys += 1;
        self.touch_watchers(key);
        self.changes.modified(&self.switch, key, true);
        self.notify(class::EVICTED, "evicted", key);
        Some(entry.approx_bytes())
    }

    /// A volatile key picked at random (volatile eviction policies).
    pub fn sample_volatile(&self, rng: &mut impl rand::Rng) -> Option<Box<[u8]>> {
        self.expires.sample(rng).map(Box::from)
    }

    /// The key with the soonest deadline (volatile-ttl).
    pub fn soonest_deadline(&self) -> Option<(u64, &[u8])> {
        self.expires.first()
    }

    /// Sets or clears (`0`) the deadline of a live key. Returns false if the key is absent.
    pub fn set_expiry(&mut self, key: &[u8], expires_at: u64, now_ms: u64) -> bool {
        let Some(entry) = self.get_live(key, now_ms) else {
            return false;
        };
        let old = entry.deadline();
        entry.set_deadline(expires_at);
        self.expires.update(key, old, expires_at);
        self.touch(key);
        true
    }

    /// Removes up to `budget` keys whose deadline is at or before `now_ms`;
    /// returns how many went and the largest lateness seen (ms).
    pub fn expire_due(&mut self, now_ms: u64, budget: usize, lags: &mut Vec<u64>) -> usize {
        let mut removed = 0;
        while removed < budget {
            let Some((deadline, key)) = self.expires.pop_due(now_ms) else {
                break;
            };
            if let Some(entry) = self.dict.get(&key) {
                if entry.deadline() == deadline {
                    self.dict.remove(&key);
                    self.expired_keys += 1;
                    self.changes.expired(&self.switch, &key);
                    self.touch_watchers(&key);
                    lags.push(now_ms - deadline);
                }
            }
            removed += 1;
        }
        removed
    }

    /// Drops the copy of an upstream key that changed upstream (the
    /// upstream tier): a change by the server, like eviction, without an
    /// `evicted` event. Returns whether there was a copy.
    pub fn drop_copy(&mut self, key: &[u8]) -> bool {
        let Some(entry) = self.dict.remove(key) else {
            return false;
        };
        self.expires.update(key, entry.deadline(), 0);
        self.touch_watchers(key);
        self.changes.modified(&self.switch, key, true);
        true
    }

    /// Deletes everything, telling watchers first.
    pub fn flush(&mut self) {
        self.touch_all_watched(None);
        self.dict.clear();
        self.expires.clear();
    }

    /// Moves this table's contents out (for SWAPDB and MOVE-like operations).
    pub fn take_data(&mut self) -> TableData {
        (
            std::mem::take(&mut self.dict),
            std::mem::take(&mut self.expires),
        )
    }

    pub fn put_data(&mut self, data: TableData) {
        self.dict = data.0;
        self.expires = data.1;
        // SWAPDB: a blocked-on key that exists in the new contents can serve its waiters.
        let present: Vec<Box<[u8]>> = self
            .blocked
            .keys()
            .filter(|key| self.dict.contains_key(key))
            .cloned()
            .collect();
        for key in present {
            self.signal_ready(&key);
        }
    }

    // ---- blocking-pop support --------------------------------------------

    /// Records one more client blocked on `key`.
    pub fn block_key(&mut self, key: &[u8]) {
        *self.blocked.entry(Box::from(key)).or_default() += 1;
    }

    /// Records one client fewer blocked on `key`.
    pub fn unblock_key(&mut self, key: &[u8]) {
        if let Some(count) = self.blocked.get_mut(key) {
            *count -= 1;
            if *count == 0 {
                self.blocked.remove(key);
            }
        }
    }

    /// Notes that `key` gained elements, if a client is blocked on it.
    pub fn signal_ready(&mut self, key: &[u8]) {
        if self.blocked.is_empty() || !self.blocked.contains_key(key) {
            return;
        }
        if !self.ready.iter().any(|k| &**k == key) {
            self.ready.push(Box::from(key));
        }
    }

    /// The blocked-on keys that gained elements since the last call.
    pub fn take_ready(&mut self) -> Vec<Box<[u8]>> {
        std::mem::take(&mut self.ready)
    }

    // ---- WATCH support -------------------------------------------------

    pub fn watch(&mut self, key: &[u8], entry: Arc<WatchEntry>) {
        self.watched.entry(Box::from(key)).or_default().push(entry);
    }

    pub fn unwatch(&mut self, key: &[u8], entry: &Arc<WatchEntry>) {
        if let Some(list) = self.watched.get_mut(key) {
            list.retain(|w| !Arc::ptr_eq(w, entry));
            if list.is_empty() {
                self.watched.remove(key);
            }
        }
    }

    /// Tells the watchers of `key` and the clients tracking it that it
    /// changed (called after every change to it; Redis's `signalModifiedKey`).
    pub fn touch(&mut self, key: &[u8]) {
        self.changes.modified(&self.switch, key, false);
        self.touch_watchers(key);
    }

    /// Marks the watchers of `key` dirty.
    fn touch_watchers(&mut self, key: &[u8]) {
        if self.watched.is_empty() {
            return;
        }
        let Some(list) = self.watched.get(key) else {
            return;
        };
        let exists = self.dict.contains_key(key);
        for w in list {
            if w.stale_at_watch.load(Ordering::Relaxed) && !exists {
                // The key had already expired when watched and is now gone: no change.
                w.stale_at_watch.store(false, Ordering::Relaxed);
                continue;
            }
            w.client_dirty.store(true, Ordering::Relaxed);
        }
    }

    /// FLUSHDB/SWAPDB: every watched key that exists here (or will exist,
    /// in `replacement`) counts as changed.
    pub fn touch_all_watched(&mut self, replacement: Option<&Table<Entry>>) {
        if self.watched.is_empty() {
            return;
        }
        for (key, list) in &self.watched {
            let here = self.dict.contains_key(key);
            let there = replacement.is_some_and(|r| r.contains_key(key));
            if !here && !there {
                continue;
            }
            for w in list {
                if w.stale_at_watch.load(Ordering::Relaxed) && !there {
                    w.stale_at_watch.store(false, Ordering::Relaxed);
                    continue;
                }
                w.client_dirty.store(true, Ordering::Relaxed);
            }
        }
    }

    /// True if a watched key that was live when watched has expired since (EXEC checks this).
    pub fn watched_key_expired(&self, key: &[u8], entry: &Arc<WatchEntry>, now_ms: u64) -> bool {
        if entry.stale_at_watch.load(Ordering::Relaxed) {
            return false;
        }
        self.dict.get(key).is_some_and(|e| e.is_expired(now_ms))
    }

    /// Whether the key exists but is logically expired (WATCH records this).
    pub fn is_stale(&self, key: &[u8], now_ms: u64) -> bool {
        self.dict.get(key).is_some_and(|e| e.is_expired(now_ms))
    }
}

/// One shard: a `DbShard` per logical database, and the part of the
/// tracking table for the key names that hash here.
pub struct Shard {
    pub dbs: Vec<DbShard>,
    pub tracked: TrackedKeys,
    /// The best eviction candidates sampled here so far.
    pub eviction_pool: EvictionPool,
}

/// Cache-line padding so neighbouring shard locks do not share a line.
#[repr(align(128))]
struct Padded<T>(T);

/// Figures the active expiry cycle publishes for INFO.
#[derive(Default)]
pub struct ExpiryStats {
    pub lag_max_ms: AtomicU64,
    pub lag_histogram: Mutex<Option<hdrhistogram::Histogram<u64>>>,
    pub cycles: AtomicU64,
}

pub struct Keyspace {
    shards: Box<[Padded<Mutex<Shard>>]>,
    databases: usize,
    hasher: foldhash::fast::FixedState,
    pub active_expire: AtomicBool,
    pub expiry_stats: ExpiryStats,
    /// Which changes the tables record for the events module.
    pub changes: Arc<ChangeSwitch>,
    pub tracking_totals: TrackingTotals,
    /// The eviction policy and access-data settings.
    pub eviction: Arc<EvictionSettings>,
    /// Where the next eviction looks first (round robin over shards).
    next_eviction_shard: AtomicUsize,
}

/// What one call to `Keyspace::evict` did.
#[derive(Debug, Default, Clone, Copy)]
pub struct EvictionRound {
    pub keys: usize,
    pub bytes: usize,
    /// No shard had a key the policy may evict.
    pub exhausted: bool,
}

/// The shards a command holds while it runs.
pub struct Locked<'a> {
    held: Held<'a>,
}

enum Held<'a> {
    Nothing,
    One(usize, MutexGuard<'a, Shard>),
    Many(Vec<(usize, MutexGuard<'a, Shard>)>),
    All(Vec<MutexGuard<'a, Shard>>),
    /// Each shard locked the first time it is asked for, and held from then
    /// on (see `Keyspace::lock_on_demand`).
    OnDemand(&'a Keyspace, Vec<(usize, MutexGuard<'a, Shard>)>),
}

impl Keyspace {
    pub fn new(databases: usize) -> Self {
        let databases = databases.max(1);
        let changes = Arc::new(ChangeSwitch::default());
        let eviction = Arc::new(EvictionSettings::default());
        let shards = (0..SHARD_COUNT)
            .map(|_| {
                Padded(Mutex::new(Shard {
                    dbs: (0..databases)
                        .map(|_| DbShard::new(changes.clone(), eviction.clone()))
                        .collect(),
                    tracked: TrackedKeys::default(),
                    eviction_pool: EvictionPool::default(),
                }))
            })
            .collect();
        Keyspace {
            shards,
            databases,
            hasher: foldhash::fast::FixedState::with_seed(0x5eed_cac4e7),
            active_expire: AtomicBool::new(true),
            expiry_stats: ExpiryStats::default(),
            changes,
            tracking_totals: TrackingTotals::default(),
            eviction,
            next_eviction_shard: AtomicUsize::new(0),
        }
    }

    /// Evicts up to `max_keys` keys, or fewer once about `want_bytes` are
    /// freed, one shard lock at a time, round robin. `after` sees each
    /// shard that lost a key, still locked, to act on its changes.
    pub fn evict(
        &self,
        now_ms: u64,
        want_bytes: usize,
        max_keys: usize,
        mut after: impl FnMut(&mut Shard),
    ) -> EvictionRound {
        let policy = self.eviction.policy();
        let mut round = EvictionRound::default();
        let mut fruitless = 0;
        while round.bytes < want_bytes && round.keys < max_keys {
            let index = self.next_eviction_shard.fetch_add(1, Ordering::Relaxed) % SHARD_COUNT;
            let mut guard = self.shards[index].0.lock();
            let shard = &mut *guard;
            let evicted = evict::evict_one(
                &mut shard.dbs,
                &mut shard.eviction_pool,
                &self.eviction,
                policy,
                now_ms,
            );
            match evicted {
                Some(evicted) => {
                    round.keys += 1;
                    round.bytes += evicted.bytes;
                    fruitless = 0;
                    after(shard);
                }
                None => {
                    fruitless += 1;
                    if fruitless >= SHARD_COUNT {
                        round.exhausted = true;
                        break;
                    }
                }
            }
        }
        round
    }

    pub fn databases(&self) -> usize {
        self.databases
    }

    pub fn shard_index(&self, key: &[u8]) -> usize {
        (self.hasher.hash_one(key) >> (64 - SHARD_BITS)) as usize
    }

    pub fn lock_nothing(&self) -> Locked<'_> {
        Locked {
            held: Held::Nothing,
        }
    }

    /// Locks the shards of `keys`, in index order.
    pub fn lock_keys<'k>(&self, keys: impl Iterator<Item = &'k [u8]>) -> Locked<'_> {
        let mut indexes: Vec<usize> = keys.map(|k| self.shard_index(k)).collect();
        match indexes.len() {
            0 => self.lock_nothing(),
            1 => Locked {
                held: Held::One(indexes[0], self.shards[indexes[0]].0.lock()),
            },
            _ => {
                indexes.sort_unstable();
                indexes.dedup();
                if indexes.len() == 1 {
                    return Locked {
                        held: Held::One(indexes[0], self.shards[indexes[0]].0.lock()),
                    };
                }
                let guards = indexes
                    .into_iter()
                    .map(|i| (i, self.shards[i].0.lock()))
                    .collect();
                Locked {
                    held: Held::Many(guards),
                }
            }
        }
    }

    /// Locks the shard with this index.
    pub fn lock_index(&self, index: usize) -> Locked<'_> {
        Locked {
            held: Held::One(index, self.shards[index].0.lock()),
        }
    }

    pub fn lock_one(&self, key: &[u8]) -> Locked<'_> {
        let index = self.shard_index(key);
        Locked {
            held: Held::One(index, self.shards[index].0.lock()),
        }
    }

    pub fn lock_all(&self) -> Locked<'_> {
        Locked {
            held: Held::All(self.shards.iter().map(|s| s.0.lock()).collect()),
        }
    }

    /// Locks each shard the first time a command asks for it and holds it
    /// until the `Locked` drops: a script holds what it touched, as atomic
    /// as `lock_all` without taking 32 locks for a script that touches one
    /// key. Shards are taken out of index order, so this is only for a
    /// script that holds the script gate for writing: no batch of client
    /// commands and no sweep runs then, and the paths outside the gate that
    /// lock shards take one at a time (or the gate first, as
    /// `upstream::fill::drop_all_copies` does), so none can hold a shard
    /// while waiting for another.
    pub fn lock_on_demand(&self) -> Locked<'_> {
        Locked {
            held: Held::OnDemand(self, Vec::with_capacity(4)),
        }
    }

    /// Runs one round of active expiry over every shard. Each shard is held
    /// for at most `budget` removals at a time, so clients are never stalled
    /// behind a long sweep. Returns the number of keys removed.
    /// `after` sees each swept shard, still locked, to act on its changes.
    pub fn active_expire_cycle(
        &self,
        now_ms: u64,
        budget: usize,
        mut after: impl FnMut(&mut Shard),
    ) -> usize {
        let mut total = 0;
        let mut lags = Vec::new();
        for shard in self.shards.iter() {
            loop {
                let mut guard = shard.0.lock();
                let mut removed = 0;
                for db in guard.dbs.iter_mut() {
                    removed += db.expire_due(now_ms, budget, &mut lags);
                }
                if removed > 0 {
                    after(&mut guard);
                }
                drop(guard);
                total += removed;
                if removed < budget {
                    break;
                }
            }
        }
        self.record_lags(&lags);
        total
    }

    fn record_lags(&self, lags: &[u64]) {
        self.expiry_stats.cycles.fetch_add(1, Ordering::Relaxed);
        if lags.is_empty() {
            return;
        }
        let mut histogram = self.expiry_stats.lag_histogram.lock();
        let histogram = histogram.get_or_insert_with(|| {
            hdrhistogram::Histogram::new_with_bounds(1, 3_600_000, 2).unwrap_or_else(|_| {
                hdrhistogram::Histogram::new(2).unwrap_or_else(|_| unreachable!())
            })
        });
        for &lag in lags {
            let _ = histogram.record(lag.max(1));
            self.expiry_stats
                .lag_max_ms
                .fetch_max(lag, Ordering::Relaxed);
        }
    }
}

#[derive(Debug, Clone, Copy, Default)]
pub struct DbTotals {
    pub keys: u64,
    pub volatile: u64,
    pub expired: u64,
    pub evicted: u64,
    /// Sum of the remaining TTLs of the volatile keys, in ms.
    pub ttl_sum_ms: u128,
}

impl Shard {
    /// Adds this shard's figures to per-database totals (INFO keyspace and stats).
    pub fn add_totals(&self, totals: &mut [DbTotals], now_ms: u64) {
        for (db, total) in self.dbs.iter().zip(totals.iter_mut()) {
            total.keys += db.len() as u64;
            total.volatile += db.volatile_len() as u64;
            total.expired += db.expired_keys;
            total.evicted += db.evicted_keys;
            total.ttl_sum_ms += db.ttl_total(now_ms).0;
        }
    }
}

impl<'a> Locked<'a> {
    /// The shard holding `key`. Panics if the dispatcher did not lock it:
    /// that is a bug in a command's key specification.
    pub fn shard(&mut self, index: usize) -> &mut Shard {
        match &mut self.held {
            Held::One(i, guard) if *i == index => guard,
            Held::Many(guards) => match guards.iter_mut().find(|(i, _)| *i == index) {
                Some((_, guard)) => guard,
                None => panic!("shard {index} not locked"),
            },
            Held::All(guards) => &mut guards[index],
            Held::OnDemand(keyspace, guards) => {
                let position = match guards.iter().position(|(i, _)| *i == index) {
                    Some(position) => position,
                    None => {
                        guards.push((index, keyspace.shards[index].0.lock()));
                        guards.len() - 1
                    }
                };
                &mut guards[position].1
            }
            _ => panic!("shard {index} not locked"),
        }
    }

    /// Makes an on-demand hold (`Keyspace::lock_on_demand`) hold every
    /// shard, in index order, for a command that sees the whole keyspace.
    /// Other holds are left as they are.
    pub fn hold_every_shard(&mut self) {
        let Held::OnDemand(keyspace, guards) = &mut self.held else {
            return;
        };
        let keyspace: &Keyspace = keyspace;
        let mut slots: Vec<Option<MutexGuard<Shard>>> = (0..SHARD_COUNT).map(|_| None).collect();
        for (index, guard) in guards.drain(..) {
            slots[index] = Some(guard);
        }
        let all = slots
            .into_iter()
            .enumerate()
            .map(|(index, slot)| slot.unwrap_or_else(|| keyspace.shards[index].0.lock()))
            .collect();
        self.held = Held::All(all);
    }

    /// The held shard with this index, for reading.
    pub fn shard_ref(&self, index: usize) -> &Shard {
        match &self.held {
            Held::One(i, guard) if *i == index => guard,
            Held::Many(guards) | Held::OnDemand(_, guards) => {
                match guards.iter().find(|(i, _)| *i == index) {
                    Some((_, guard)) => guard,
                    None => panic!("shard {index} not locked"),
                }
            }
            Held::All(guards) => &guards[index],
            _ => panic!("shard {index} not locked"),
        }
    }

    /// Every (database, key) that became ready for blocked clients in the held shards.
    pub fn take_ready(&mut self) -> Vec<(usize, Box<[u8]>)> {
        let mut ready = Vec::new();
        for shard in self.shards_mut() {
            for (db, table) in shard.dbs.iter_mut().enumerate() {
                if !table.ready.is_empty() {
                    ready.extend(table.take_ready().into_iter().map(|key| (db, key)));
                }
            }
        }
        ready
    }

    pub fn holds_all(&self) -> bool {
        matches!(self.held, Held::All(_))
    }

    /// Every held shard (all of them when `holds_all`).
    pub fn shards_mut(&mut self) -> Vec<&mut Shard> {
        match &mut self.held {
            Held::Nothing => Vec::new(),
            Held::One(_, g) => vec![&mut **g],
            Held::Many(gs) | Held::OnDemand(_, gs) => {
                gs.iter_mut().map(|(_, g)| &mut **g).collect()
            }
            Held::All(gs) => gs.iter_mut().map(|g| &mut **g).collect(),
        }
    }
}

/// The keyspace as one command sees it: the locked shards plus the current
/// database and time.
pub struct KeyView<'a, 'k> {
    pub keyspace: &'a Keyspace,
    pub locked: &'a mut Locked<'k>,
    pub db: usize,
    pub now_ms: u64,
    /// Keyspace hits and misses of `lookup_read` (INFO's keyspace_hits/misses).
    pub hits: u64,
    pub misses: u64,
}

impl<'a, 'k> KeyView<'a, 'k> {
    pub fn new(keyspace: &'a Keyspace, locked: &'a mut Locked<'k>, db: usize, now_ms: u64) -> Self {
        KeyView {
            keyspace,
            locked,
            db,
            now_ms,
            hits: 0,
            misses: 0,
        }
    }

    /// The value at `key` as a `T` for a command that reads it (Redis's
    /// `lookupKeyRead`): counted as a keyspace hit or a miss.
    pub fn lookup_read<T: ?Sized>(
        &mut self,
        key: &[u8],
        pick: impl FnOnce(&mut Entry) -> Result<&mut T, WrongType>,
    ) -> Result<Option<&mut T>, WrongType> {
        match self.lookup_entry(key) {
            None => Ok(None),
            Some(entry) => pick(entry).map(Some),
        }
    }

    /// The live entry at `key` for a command that reads it (Redis's
    /// `lookupKeyRead`): counted as a keyspace hit or a miss, its access
    /// time updated.
    pub fn lookup_entry(&mut self, key: &[u8]) -> Option<&mut Entry> {
        let now = self.now_ms;
        let index = self.keyspace.shard_index(key);
        let db = self.db;
        if self.keyspace.changes.wants(class::KEY_MISS) {
            // Looked up twice only while keymiss events are on.
            let table = &mut self.locked.shard(index).dbs[db];
            if !table.contains_live(key, now) {
                self.misses += 1;
                table.notify(class::KEY_MISS, "keymiss", key);
                return None;
            }
        }
        let found = self.locked.shard(index).dbs[db].get_live(key, now);
        if found.is_some() {
            self.hits += 1;
        } else {
            self.misses += 1;
        }
        found
    }

    /// Records a keyspace notification about `key` in the current database
    /// (published once the command has finished, if its class is enabled),
    /// `reply_at` bytes into the reply.
    pub fn notify(
        &mut self,
        event_class: u32,
        event: &'static str,
        key: &[u8],
        reply_at: Option<usize>,
    ) {
        self.table(key).notify_at(event_class, event, key, reply_at);
    }

    /// Like `peek`, for a command that reads the key (Redis's
    /// `lookupKeyRead` with LOOKUP_NOTOUCH): counted as a hit or a miss, and
    /// a miss sends `keymiss`.
    pub fn peek_read(&mut self, key: &[u8]) -> Option<&mut Entry> {
        if self.peek(key).is_none() {
            self.misses += 1;
            self.notify(class::KEY_MISS, "keymiss", key, None);
            return None;
        }
        self.hits += 1;
        self.peek(key)
    }

    /// Like `get`, for a command that reads the key (`lookupKeyRead`).
    pub fn get_read(&mut self, key: &[u8]) -> Option<&mut Entry> {
        self.peek_read(key)?;
        self.get(key)
    }

    /// Records a notification about `key` in database `db` (MOVE, COPY DB).
    pub fn notify_in(&mut self, db: usize, event_class: u32, event: &'static str, key: &[u8]) {
        self.db_of(db, key).notify_at(event_class, event, key, None);
    }

    /// The part of database `db` that holds `key`.
    pub fn db_of(&mut self, db: usize, key: &[u8]) -> &mut DbShard {
        let index = self.keyspace.shard_index(key);
        &mut self.locked.shard(index).dbs[db]
    }

    /// The part of the current database that holds `key`.
    pub fn table(&mut self, key: &[u8]) -> &mut DbShard {
        let db = self.db;
        self.db_of(db, key)
    }

    pub fn get(&mut self, key: &[u8]) -> Option<&mut Entry> {
        let now = self.now_ms;
        self.table(key).get_live(key, now)
    }

    /// The values of several keys at once, for a command that reads them
    /// all (SINTER, ZUNION...): each lookup counts as a hit or a miss and
    /// expires the key if it is due, as `lookup_read` does.
    pub fn lookup_read_many<'v>(&'v mut self, keys: &[&[u8]]) -> Vec<Option<Contents<'v>>> {
        for key in keys {
            let now = self.now_ms;
            let table = self.table(key);
            if table.get_live(key, now).is_some() {
                self.hits += 1;
            } else {
                table.notify(class::KEY_MISS, "keymiss", key);
                self.misses += 1;
            }
        }
        let now = self.now_ms;
        let db = self.db;
        let this: &'v Self = self;
        keys.iter()
            .map(|key| {
                let index = this.keyspace.shard_index(key);
                this.locked.shard_ref(index).dbs[db]
                    .get_ref(key, now)
                    .map(Entry::contents)
            })
            .collect()
    }

    /// The live entry for `key` without updating its access time (TTL, TYPE, EXISTS, OBJECT).
    pub fn peek(&mut self, key: &[u8]) -> Option<&mut Entry> {
        let now = self.now_ms;
        self.table(key).get_untouched(key, now)
    }

    pub fn get_for_write(&mut self, key: &[u8]) -> Option<&mut Entry> {
        let now = self.now_ms;
        self.table(key).get_for_write(key, now)
    }

    pub fn exists(&mut self, key: &[u8]) -> bool {
        self.get(key).is_some()
    }

    pub fn set(&mut self, key: &[u8], value: Value, expires_at: u64) {
        let now = self.now_ms;
        self.table(key).set(key, value, expires_at, now)
    }

    /// `set` for a string, stored in the entry itself.
    pub fn set_string(&mut self, key: &[u8], bytes: &[u8], expires_at: u64) {
        let now = self.now_ms;
        self.table(key).set_string(key, bytes, expires_at, now)
    }

    /// The string at `key` for a command that reads it (`lookupKeyRead`:
    /// counted as a hit or a miss); WRONGTYPE for an aggregate.
    pub fn read_string(&mut self, key: &[u8]) -> Result<Option<&[u8]>, WrongType> {
        match self.lookup_entry(key) {
            None => Ok(None),
            Some(entry) => entry.string().map(Some).ok_or(WrongType),
        }
    }

    /// The string at `key` for a command about to write it (no hit or miss
    /// counted); WRONGTYPE for an aggregate.
    pub fn write_string(&mut self, key: &[u8]) -> Result<Option<&[u8]>, WrongType> {
        match self.get(key) {
            None => Ok(None),
            Some(entry) => entry.string().map(Some).ok_or(WrongType),
        }
    }

    pub fn remove(&mut self, key: &[u8]) -> Option<Entry> {
        let now = self.now_ms;
        self.table(key).remove(key, now)
    }

    pub fn set_expiry(&mut self, key: &[u8], expires_at: u64) -> bool {
        let now = self.now_ms;
        self.table(key).set_expiry(key, expires_at, now)
    }

    /// The value at `key` as type `T`, for reading (None: no such key).
    pub fn read_as<T: ?Sized>(
        &mut self,
        key: &[u8],
        pick: impl FnOnce(&mut Entry) -> Result<&mut T, WrongType>,
    ) -> Result<Option<&mut T>, WrongType> {
        match self.get(key) {
            None => Ok(None),
            Some(entry) => pick(entry).map(Some),
        }
    }

    /// The value at `key` as type `T`, about to be modified (watchers are
    /// told); None: no such key. A wrong type changes nothing.
    pub fn write_as<T: ?Sized>(
        &mut self,
        key: &[u8],
        pick: impl Fn(&mut Entry) -> Result<&mut T, WrongType>,
    ) -> Result<Option<&mut T>, WrongType> {
        match self.peek(key) {
            None => return Ok(None),
            Some(entry) => {
                pick(entry)?;
            }
        }
        match self.get_for_write(key) {
            None => Ok(None),
            Some(entry) => pick(entry).map(Some),
        }
    }

    /// Like `write_as`, creating the key with `create()` when it is absent.
    pub fn write_or_create_as<T: ?Sized>(
        &mut self,
        key: &[u8],
        pick: impl Fn(&mut Entry) -> Result<&mut T, WrongType>,
        create: impl FnOnce() -> Value,
    ) -> Result<&mut T, WrongType> {
        if self.peek(key).is_none() {
            self.set(key, create(), 0);
        }
        match self.write_as(key, pick)? {
            Some(value) => Ok(value),
            // `set` above stored a live key; only a zero-deadline entry could vanish, and it has none.
            None => Err(WrongType),
        }
    }

    /// Deletes `key` if it holds an empty aggregate (Redis never keeps one). True if deleted.
    pub fn remove_if_empty(&mut self, key: &[u8]) -> bool {
        let empty = self.peek(key).is_some_and(|e| e.aggregate_len() == Some(0));
        if empty {
            self.remove(key);
        }
        empty
    }

    /// Notes that `key` gained elements, for clients blocked on it.
    pub fn signal_ready(&mut self, key: &[u8]) {
        self.table(key).signal_ready(key);
    }

    /// Every `DbShard` of database `db` (requires all shards held).
    pub fn all_tables(&mut self, db: usize) -> Vec<&mut DbShard> {
        self.locked
            .shards_mut()
            .into_iter()
            .map(|s| &mut s.dbs[db])
            .collect()
    }
}
