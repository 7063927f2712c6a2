//! Values and keyspace entries: what one key holds.
//!
//! A string is its bytes; the other types use ordinary collections for now
//! (hashes, lists, sets and sorted sets are filled in by the data-types work).
//! Nothing here knows about shards, locks or commands.

use std::collections::{BTreeSet, HashMap, HashSet, VecDeque};

/// A sorted-set score ordered totally (NaN never enters a sorted set).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Score(pub f64);

impl Eq for Score {}

impl PartialOrd for Score {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Score {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.total_cmp(&other.0)
    }
}

/// Members by score and scores by member.
#[derive(Debug, Clone, Default)]
pub struct SortedSet {
    pub by_member: HashMap<Vec<u8>, f64>,
    pub by_score: BTreeSet<(Score, Vec<u8>)>,
}

#[derive(Debug, Clone)]
pub enum Value {
    Str(Vec<u8>),
    List(VecDeque<Vec<u8>>),
    Hash(HashMap<Vec<u8>, Vec<u8>>),
    Set(HashSet<Vec<u8>>),
    SortedSet(Box<SortedSet>),
}

impl Value {
    /// The name TYPE answers.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Str(_) => "string",
            Value::List(_) => "list",
            Value::Hash(_) => "hash",
            Value::Set(_) => "set",
            Value::SortedSet(_) => "zset",
        }
    }

    /// The name OBJECT ENCODING answers, following Redis 7.0's rules.
    pub fn encoding_name(&self) -> &'static str {
        match self {
            Value::Str(bytes) => {
                if bytes.len() <= 20 && crate::util::parse_i64(bytes).is_some() {
                    "int"
                } else if bytes.len() <= 44 {
                    "embstr"
                } else {
                    "raw"
                }
            }
            Value::List(_) => "quicklist",
            Value::Hash(h) => {
                if h.len() <= 128 && h.iter().all(|(k, v)| k.len() <= 64 && v.len() <= 64) {
                    "listpack"
                } else {
                    "hashtable"
                }
            }
            Value::Set(s) => {
                if s.len() <= 512 && s.iter().all(|m| crate::util::parse_i64(m).is_some()) {
                    "intset"
                } else {
                    "hashtable"
                }
            }
            Value::SortedSet(z) => {
                if z.by_member.len() <= 128 && z.by_member.keys().all(|m| m.len() <= 64) {
                    "listpack"
                } else {
                    "skiplist"
                }
            }
        }
    }

    /// Approximate bytes this value occupies.
    pub fn approx_size(&self) -> usize {
        match self {
            Value::Str(bytes) => bytes.capacity(),
            Value::List(l) => l.iter().map(|e| e.capacity() + 24).sum(),
            Value::Hash(h) => h
                .iter()
                .map(|(k, v)| k.capacity() + v.capacity() + 64)
                .sum(),
            Value::Set(s) => s.iter().map(|m| m.capacity() + 40).sum(),
            Value::SortedSet(z) => z.by_member.keys().map(|m| 2 * m.capacity() + 80).sum(),
        }
    }
}

/// One key's record: its value, its deadline, and its last access.
#[derive(Debug, Clone)]
pub struct Entry {
    pub value: Value,
    /// Absolute deadline in Unix milliseconds; 0 means no expiry.
    pub expires_at: u64,
    /// Last access, in seconds since the server started (for OBJECT IDLETIME).
    pub accessed: u32,
    /// Access frequency counter (for OBJECT FREQ).
    pub frequency: u8,
}

impl Entry {
    pub fn new(value: Value) -> Self {
        Entry {
            value,
            expires_at: 0,
            accessed: 0,
            frequency: 0,
        }
    }

    pub fn is_expired(&self, now_ms: u64) -> bool {
        self.expires_at != 0 && self.expires_at <= now_ms
    }
}
