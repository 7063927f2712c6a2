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
            Value::Str(bytes) => string_encoding(bytes),
            Value::List(_) => "quicklist",
            Value::Hash(h) => h.encoding_name(),
            Value::Set(s) => s.encoding_name(),
            Value::SortedSet(z) => z.encoding_name(),
        }
    }

    /// Approximate bytes this value occupies.
    pub fn approx_size(&self) -> usize {
        match self {
            Value::Str(bytes) => bytes.capacity(),
            Value::List(l) => {
                l.capacity() * std::mem::size_of::<Box<[u8]>>()
                    + l.iter().map(|e| e.len().max(8)).sum::<usize>()
            }
            Value::Hash(h) => h.approx_size(),
            Value::Set(s) => s.approx_size(),
            Value::SortedSet(z) => z.approx_size(),
        }
    }

    /// Elements in an aggregate (0 for a string): an aggregate at 0 is deleted.
    pub fn aggregate_len(&self) -> Option<usize> {
        match self {
            Value::Str(_) => None,
            Value::List(l) => Some(l.len()),
            Value::Hash(h) => Some(h.len()),
            Value::Set(s) => Some(s.len()),
            Value::SortedSet(z) => Some(z.len()),
        }
    }

    /// Whether pushing to this key can serve a client blocked on it (lists
    /// and sorted sets are what blocking pops wait for).
    pub fn can_serve_blocked(&self) -> bool {
        matches!(self, Value::List(_) | Value::SortedSet(_))
    }

    pub fn as_list_mut(&mut self) -> Result<&mut List, WrongType> {
        match self {
            Value::List(l) => Ok(&mut **l),
            _ => Err(WrongType),
        }
    }

    pub fn as_hash_mut(&mut self) -> Result<&mut Hash, WrongType> {
        match self {
            Value::Hash(h) => Ok(h),
            _ => Err(WrongType),
        }
    }

    pub fn as_set_mut(&mut self) -> Result<&mut Set, WrongType> {
        match self {
            Value::Set(s) => Ok(&mut **s),
            _ => Err(WrongType),
        }
    }

    pub fn as_zset_mut(&mut self) -> Result<&mut ZSet, WrongType> {
        match self {
            Value::SortedSet(z) => Ok(&mut **z),
            _ => Err(WrongType),
        }
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
