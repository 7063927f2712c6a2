//! Eviction: which key goes when memory is over `maxmemory`, and the access
//! data (recency and frequency) that decides it.
//!
//! Recency. Redis keeps a 24-bit clock of seconds per object, so within one
//! second it cannot tell a hot key from a cold one. cachet keeps the last
//! access in milliseconds (`Entry::access`, a wrapping 32-bit clock: idle
//! times are exact up to 24 days; see `idle_ms`). Under an LFU policy the
//! same 32-bit word holds the LFU data instead, as Redis's 24 bits do.
//!
//! Frequency. Redis's LFU counter as Redis defines it: 8 bits that grow
//! logarithmically (`lfu-log-factor`) and lose one per `lfu-decay-time`
//! minutes without access, starting at 5 for a new key. Ties between keys of
//! the same counter go to the one idle the longest (Redis leaves them to
//! chance).
//!
//! Choosing victims. Each shard keeps its own pool of the best candidates
//! seen so far, filled by sampling `maxmemory-samples` keys per database on
//! every eviction (as Redis's pool does, but per shard, so no lock beyond the
//! one shard is ever held). A candidate is scored again before it goes: a key
//! read since it was sampled goes back in the pool with its new score
//! instead of being evicted. volatile-ttl needs no sampling: the deadline
//! index gives each shard's soonest deadline exactly.
//!
//! This module owns the policy settings, the access-data rules and the pool.
//! It knows nothing of memory figures, clients or notifications (the tables
//! log `evicted` like any change; `server::eviction` drives the loop).

use super::entry::Entry;
use super::DbShard;
use rand::Rng;
use std::sync::atomic::{AtomicU32, AtomicU8, Ordering};

/// The eight `maxmemory-policy` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Policy {
    NoEviction,
    AllKeysLru,
    AllKeysLfu,
    AllKeysRandom,
    VolatileLru,
    VolatileLfu,
    VolatileRandom,
    VolatileTtl,
}

impl Policy {
    const ALL: [Policy; 8] = [
        Policy::NoEviction,
        Policy::AllKeysLru,
        Policy::AllKeysLfu,
        Policy::AllKeysRandom,
        Policy::VolatileLru,
        Policy::VolatileLfu,
        Policy::VolatileRandom,
        Policy::VolatileTtl,
    ];

    /// The policy named `name` as `maxmemory-policy` spells it.
    pub fn from_name(name: &str) -> Option<Policy> {
        Policy::ALL
            .into_iter()
            .find(|p| p.name().eq_ignore_ascii_case(name))
    }

    pub fn name(self) -> &'static str {
        match self {
            Policy::NoEviction => "noeviction",
            Policy::AllKeysLru => "allkeys-lru",
            Policy::AllKeysLfu => "allkeys-lfu",
            Policy::AllKeysRandom => "allkeys-random",
            Policy::VolatileLru => "volatile-lru",
            Policy::VolatileLfu => "volatile-lfu",
            Policy::VolatileRandom => "volatile-random",
            Policy::VolatileTtl => "volatile-ttl",
        }
    }

    pub fn is_lfu(self) -> bool {
        matches!(self, Policy::AllKeysLfu | Policy::VolatileLfu)
    }

    /// Only keys with a deadline may go.
    fn volatile_only(self) -> bool {
        matches!(
            self,
            Policy::VolatileLru
                | Policy::VolatileLfu
                | Policy::VolatileRandom
                | Policy::VolatileTtl
        )
    }

    fn is_random(self) -> bool {
        matches!(self, Policy::AllKeysRandom | Policy::VolatileRandom)
    }

    fn index(self) -> u8 {
        Policy::ALL.iter().position(|p| *p == self).unwrap_or(0) as u8
    }
}

/// The eviction settings, read on every access and every eviction, so kept
/// as atomics (the server stores them on CONFIG SET).
#[derive(Debug)]
pub struct EvictionSettings {
    policy: AtomicU8,
    samples: AtomicU32,
    lfu_log_factor: AtomicU32,
    lfu_decay_minutes: AtomicU32,
    tenacity: AtomicU32,
}

impl Default for EvictionSettings {
    fn default() -> Self {
        EvictionSettings {
            policy: AtomicU8::new(Policy::NoEviction.index()),
            samples: AtomicU32::new(5),
            lfu_log_factor: AtomicU32::new(10),
            lfu_decay_minutes: AtomicU32::new(1),
            tenacity: AtomicU32::new(10),
        }
    }
}

impl EvictionSettings {
    pub fn set(&self, policy: Policy, samples: u32, log_factor: u32, decay: u32, tenacity: u32) {
        self.policy.store(policy.index(), Ordering::Relaxed);
        self.samples.store(samples.max(1), Ordering::Relaxed);
        self.lfu_log_factor.store(log_factor, Ordering::Relaxed);
        self.lfu_decay_minutes.store(decay, Ordering::Relaxed);
        self.tenacity.store(tenacity, Ordering::Relaxed);
    }

    pub fn policy(&self) -> Policy {
        Policy::ALL[self.policy.load(Ordering::Relaxed) as usize % Policy::ALL.len()]
    }

    /// How long one command may spend evicting before the rest is left to
    /// the background (`maxmemory-eviction-tenacity`, Redis's formula:
    /// 50 µs per step up to 10, then 15% more per step; 100 is unlimited).
    pub fn time_limit_us(&self) -> Option<u64> {
        let tenacity = self.tenacity.load(Ordering::Relaxed).min(100);
        match tenacity {
            0..=10 => Some(50 * tenacity as u64),
            100 => None,
            _ => Some((500.0 * 1.15f64.powi(tenacity as i32 - 10)) as u64),
        }
    }

    /// The access word of a key created now: the LRU clock, or under an
    /// LFU policy the initial counter (Redis's `LFU_INIT_VAL`) stamped now.
    pub fn new_access(&self, now_ms: u64) -> u32 {
        if self.policy().is_lfu() {
            lfu_word(lfu_minutes(now_ms), LFU_INIT_VAL)
        } else {
            lru_clock(now_ms)
        }
    }

    /// Records an access to `entry` (Redis's `updateLFU`/LRU update).
    pub fn touch(&self, entry: &mut Entry, now_ms: u64) {
        if self.policy().is_lfu() {
            let decayed = self.lfu_decayed(entry, now_ms);
            let counter = lfu_log_increment(decayed, self.lfu_log_factor.load(Ordering::Relaxed));
            entry.set_access(lfu_word(lfu_minutes(now_ms), counter));
        } else {
            entry.set_access(lru_clock(now_ms));
        }
    }

    /// The LFU counter of `entry` after the decay owed since its last
    /// decrement (what OBJECT FREQ answers; nothing is stored).
    pub fn lfu_decayed(&self, entry: &Entry, now_ms: u64) -> u8 {
        let (minutes, counter) = lfu_parts(entry.access());
        let decay = self.lfu_decay_minutes.load(Ordering::Relaxed);
        if decay == 0 {
            return counter;
        }
        let elapsed = lfu_minutes(now_ms).wrapping_sub(minutes) as u32;
        let periods = elapsed / decay;
        counter.saturating_sub(periods.min(255) as u8)
    }

    /// How strongly `entry` deserves to go under `policy` (higher goes first).
    fn score(&self, policy: Policy, entry: &Entry, now_ms: u64) -> u64 {
        let idle = idle_ms(entry, now_ms).min(u32::MAX as u64);
        match policy {
            Policy::AllKeysLfu | Policy::VolatileLfu => {
                let rarity = 255 - self.lfu_decayed(entry, now_ms) as u64;
                (rarity << 32) | idle
            }
            Policy::VolatileTtl => u64::MAX - entry.deadline(),
            _ => idle,
        }
    }
}

/// The counter a new key starts at (Redis's LFU_INIT_VAL).
pub const LFU_INIT_VAL: u8 = 5;

/// The access clock: milliseconds, wrapping at 2^32.
pub fn lru_clock(now_ms: u64) -> u32 {
    now_ms as u32
}

/// Milliseconds since the last access to `entry` (under an LRU-clock
/// policy). An access stamped a little after `now_ms` (by another thread,
/// whose clock read came later) counts as idle 0, not as a wrapped clock;
/// so idle times are exact up to 2^31 ms (24 days).
pub fn idle_ms(entry: &Entry, now_ms: u64) -> u64 {
    let idle = lru_clock(now_ms).wrapping_sub(entry.access());
    if idle > i32::MAX as u32 {
        0
    } else {
        idle as u64
    }
}

/// The access word under an LFU policy: the decrement clock in the low 16
/// bits, the counter above it (Redis keeps the same two in 24 bits).
pub fn lfu_word(minutes: u16, counter: u8) -> u32 {
    minutes as u32 | (counter as u32) << 16
}

/// (decrement clock, counter) of an LFU access word.
fn lfu_parts(access: u32) -> (u16, u8) {
    (access as u16, (access >> 16) as u8)
}

/// The LFU decrement clock: minutes, wrapping at 2^16 (as Redis's).
pub fn lfu_minutes(now_ms: u64) -> u16 {
    (now_ms / 60_000) as u16
}

/// Redis's logarithmic increment: the higher the counter, the less likely
/// one access raises it.
fn lfu_log_increment(counter: u8, log_factor: u32) -> u8 {
    if counter == u8::MAX {
        return counter;
    }
    let base = counter.saturating_sub(LFU_INIT_VAL) as f64;
    let chance = 1.0 / (base * log_factor as f64 + 1.0);
    if rand::rng().random::<f64>() < chance {
        counter + 1
    } else {
        counter
    }
}

/// Candidates a shard's pool keeps (Redis's EVPOOL_SIZE).
const POOL_SIZE: usize = 16;

#[derive(Debug)]
struct Candidate {
    score: u64,
    db: usize,
    key: Box<[u8]>,
}

/// The best eviction candidates one shard has sampled, lowest score first.
#[derive(Debug, Default)]
pub struct EvictionPool {
    candidates: Vec<Candidate>,
}

impl EvictionPool {
    /// Adds a candidate unless the pool is full of better ones. A key already
    /// in the pool with the same score is not added twice (one re-scored
    /// since may be: the stale copy is dropped when it comes up).
    fn offer(&mut self, score: u64, db: usize, key: &[u8]) {
        let full = self.candidates.len() == POOL_SIZE;
        if full && self.candidates[0].score >= score {
            return;
        }
        if self
            .candidates
            .iter()
            .any(|c| c.score == score && c.db == db && &*c.key == key)
        {
            return;
        }
        if full {
            self.candidates.remove(0);
        }
        let at = self.candidates.partition_point(|c| c.score < score);
        self.candidates.insert(
            at,
            Candidate {
                score,
                db,
                key: Box::from(key),
            },
        );
    }

    fn take_best(&mut self) -> Option<Candidate> {
        self.candidates.pop()
    }

    /// Forgets every candidate (FLUSHALL, SWAPDB: the keys may have moved).
    pub fn clear(&mut self) {
        self.candidates.clear();
    }
}

/// One key chosen and removed by `evict_one`.
pub struct Evicted {
    /// Estimated bytes its entry occupied.
    pub bytes: usize,
}

/// Removes one key from this shard's databases under `policy`, if any is
/// eligible; the table logs `evicted` and the modification.
pub fn evict_one(
    dbs: &mut [DbShard],
    pool: &mut EvictionPool,
    settings: &EvictionSettings,
    policy: Policy,
    now_ms: u64,
) -> Option<Evicted> {
    let mut rng = rand::rng();
    let (db, key) = if policy.is_random() {
        pick_random(dbs, policy, &mut rng)?
    } else if policy == Policy::VolatileTtl {
        pick_soonest(dbs)?
    } else {
        pick_from_pool(dbs, pool, settings, policy, now_ms, &mut rng)?
    };
    dbs[db].evict(&key).map(|bytes| Evicted { bytes })
}

fn pick_random(dbs: &[DbShard], policy: Policy, rng: &mut impl Rng) -> Option<(usize, Box<[u8]>)> {
    let eligible = |db: &DbShard| {
        if policy.volatile_only() {
            db.volatile_len() > 0
        } else {
            !db.is_empty()
        }
    };
    let eligible_count = dbs.iter().filter(|db| eligible(db)).count();
    if eligible_count == 0 {
        return None;
    }
    let nth = rng.random_range(0..eligible_count);
    let db = (0..dbs.len()).filter(|&i| eligible(&dbs[i])).nth(nth)?;
    let key = if policy.volatile_only() {
        dbs[db].sample_volatile(rng)?
    } else {
        Box::from(dbs[db].dict.random(rng)?.key())
    };
    Some((db, key))
}

fn pick_soonest(dbs: &[DbShard]) -> Option<(usize, Box<[u8]>)> {
    dbs.iter()
        .enumerate()
        .filter_map(|(i, db)| {
            db.soonest_deadline()
                .map(|(deadline, key)| (deadline, i, key))
        })
        .min_by_key(|(deadline, _, _)| *deadline)
        .map(|(_, i, key)| (i, Box::from(key)))
}

fn pick_from_pool(
    dbs: &[DbShard],
    pool: &mut EvictionPool,
    settings: &EvictionSettings,
    policy: Policy,
    now_ms: u64,
    rng: &mut impl Rng,
) -> Option<(usize, Box<[u8]>)> {
    let samples = settings.samples.load(Ordering::Relaxed) as usize;
    // The best candidate so far is likely the one to go: start loading its
    // bucket now, so that miss overlaps the sampling below.
    if let Some(best) = pool.candidates.last() {
        if let Some(db) = dbs.get(best.db) {
            db.dict.prefetch_bucket(&best.key);
        }
    }
    for (i, db) in dbs.iter().enumerate() {
        if policy.volatile_only() {
            for _ in 0..samples.min(db.volatile_len()) {
                let Some(key) = db.sample_volatile(rng) else {
                    break;
                };
                if let Some(entry) = db.dict.get(&key) {
                    pool.offer(settings.score(policy, entry, now_ms), i, &key);
                }
            }
        } else {
            db.dict.sample(rng, samples, |entry| {
                pool.offer(settings.score(policy, entry, now_ms), i, entry.key());
            });
        }
    }
    // A candidate read since it was sampled scores lower now: it goes back
    // with its new score and the next best is tried (at most a pool's worth).
    for _ in 0..=POOL_SIZE {
        let candidate = pool.take_best()?;
        let Some(entry) = dbs
            .get(candidate.db)
            .and_then(|db| db.dict.get(&candidate.key))
        else {
            continue;
        };
        if policy.volatile_only() && entry.deadline() == 0 {
            continue;
        }
        let score = settings.score(policy, entry, now_ms);
        if score < candidate.score {
            pool.offer(score, candidate.db, &candidate.key);
            continue;
        }
        return Some((candidate.db, candidate.key));
    }
    pool.take_best().map(|best| (best.db, best.key))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_names_round_trip() {
        for policy in Policy::ALL {
            assert_eq!(Policy::from_name(policy.name()), Some(policy));
        }
        assert_eq!(Policy::from_name("ALLKEYS-LRU"), Some(Policy::AllKeysLru));
        assert_eq!(Policy::from_name("lru"), None);
    }

    #[test]
    fn tenacity_time_limits_follow_redis() {
        let settings = EvictionSettings::default();
        assert_eq!(settings.time_limit_us(), Some(500));
        settings.set(Policy::AllKeysLru, 5, 10, 1, 0);
        assert_eq!(settings.time_limit_us(), Some(0));
        settings.set(Policy::AllKeysLru, 5, 10, 1, 11);
        assert_eq!(settings.time_limit_us(), Some(575));
        settings.set(Policy::AllKeysLru, 5, 10, 1, 100);
        assert_eq!(settings.time_limit_us(), None);
    }

    #[test]
    fn lfu_counter_saturates_and_grows_slower_as_it_rises() {
        assert_eq!(lfu_log_increment(255, 10), 255);
        // From the initial value one access always counts.
        assert_eq!(lfu_log_increment(LFU_INIT_VAL, 10), LFU_INIT_VAL + 1);
        let mut counter = LFU_INIT_VAL;
        for _ in 0..1000 {
            counter = lfu_log_increment(counter, 10);
        }
        assert!(counter > 10 && counter < 40, "counter {counter}");
    }

    #[test]
    fn lfu_decays_one_per_period() {
        let settings = EvictionSettings::default();
        let entry = Entry::new_string(b"k", b"v", 0, lfu_word(lfu_minutes(0), 20));
        assert_eq!(settings.lfu_decayed(&entry, 3 * 60_000), 17);
        assert_eq!(settings.lfu_decayed(&entry, 60 * 60_000), 0);
    }

    #[test]
    fn pool_keeps_the_highest_scores_without_duplicates() {
        let mut pool = EvictionPool::default();
        for score in 0..40u64 {
            pool.offer(score, 0, format!("k{score}").as_bytes());
        }
        pool.offer(39, 0, b"k39");
        assert_eq!(pool.candidates.len(), POOL_SIZE);
        assert_eq!(pool.take_best().map(|c| c.score), Some(39));
        assert_eq!(pool.take_best().map(|c| c.score), Some(38));
    }
}
