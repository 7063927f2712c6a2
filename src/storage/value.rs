//! Values and keyspace entries: what one key holds.
//!
//! Each type keeps Redis's two encodings where Redis has two, because
//! OBJECT ENCODING, the `*-max-listpack-*` settings and the memory figures
//! depend on them: a small hash is one packed `Listpack` (`listpack`), a
//! large one a `Dict` (`hashtable`); a set of integers is a sorted
//! `Vec<i64>` (`intset`), any other a `Dict` (`hashtable`); a sorted set is
//! a packed `Listpack` (`listpack`) or a skiplist with a member index
//! (`skiplist`). Conversions go one way, small to large, as in Redis.
//! Lists are a `VecDeque` of elements (Redis 7.0 calls every list a
//! `quicklist`). Aggregates are boxed so a `Value` stays the size of a
//! string's `Vec` (24 bytes), which is what a keyspace entry holding one
//! spends on it (`entry.rs`; short strings live in the entry itself).
//!
//! Nothing here knows about shards, locks or commands.

use super::entry::Contents;
use super::hash::Hash;
use super::set::Set;
use super::zset::ZSet;
use std::collections::VecDeque;

/// The thresholds that decide when a small encoding converts to a large one
/// (`hash-max-listpack-entries` and friends), read once per command.
#[derive(Debug, Clone, Copy)]
pub struct EncodingLimits {
    pub hash_max_listpack_entries: usize,
    pub hash_max_listpack_value: usize,
    pub set_max_intset_entries: usize,
    pub zset_max_listpack_entries: usize,
    pub zset_max_listpack_value: usize,
}

impl Default for EncodingLimits {
    fn default() -> Self {
        EncodingLimits {
            hash_max_listpack_entries: 512,
            hash_max_listpack_value: 64,
            set_max_intset_entries: 512,
            zset_max_listpack_entries: 128,
            zset_max_listpack_value: 64,
        }
    }
}

/// The value held a different type than the command works on (WRONGTYPE).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WrongType;

/// A list: its elements, front to back.
pub type List = VecDeque<Box<[u8]>>;

#[derive(Debug, Clone)]
pub enum Value {
    Str(Vec<u8>),
    List(Box<List>),
    Hash(Hash),
    Set(Box<Set>),
    SortedSet(Box<ZSet>),
}

impl Value {
    /// A borrowed view of the value, which answers TYPE, OBJECT ENCODING,
    /// sizes and lengths (the same view a keyspace entry gives).
    pub fn contents(&self) -> Contents<'_> {
        match self {
            Value::Str(bytes) => Contents::Str(bytes),
            Value::List(list) => Contents::List(list),
            Value::Hash(hash) => Contents::Hash(hash),
            Value::Set(set) => Contents::Set(set),
            Value::SortedSet(zset) => Contents::SortedSet(zset),
        }
    }

    /// Whether pushing to this key can serve a client blocked on it.
    pub fn can_serve_blocked(&self) -> bool {
        self.contents().can_serve_blocked()
    }
}

/// The name OBJECT ENCODING answers for a string, following Redis 7.0's rules.
pub fn string_encoding(bytes: &[u8]) -> &'static str {
    if bytes.len() <= 20 && crate::util::parse_i64(bytes).is_some() {
        "int"
    } else if bytes.len() <= 44 {
        "embstr"
    } else {
        "raw"
    }
}
