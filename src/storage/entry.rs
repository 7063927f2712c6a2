//! `Entry`: one key of the keyspace, its value, deadline and access data, in
//! a single heap block.
//!
//! Layout (8-aligned; every multi-byte field sits at an aligned offset):
//!
//! ```text
//! 0  access   u32    LRU clock (ms) or, under an LFU policy, minutes | counter << 16
//! 4  flags    u8     kind (3 bits), DEADLINE, LONG_KEY
//! 5  key_len  u24    the key's length (0 with LONG_KEY)
//! 8  payload         by kind: nothing (inline string), a Vec<u8> (24 bytes,
//!                    a string that grows in place), or one word: Box<List>,
//!                    Hash, Box<Set>, Box<ZSet>
//! .  deadline u64    only with DEADLINE (Unix ms)
//! .  long len u64    only with LONG_KEY (keys of 16 MB and more)
//! .  key      bytes
//! .  string   varint length + bytes, only for an inline string
//! ```
//!
//! A string set by SET and friends lives inline, so a key with a short
//! string value is one allocation: a 16-byte key with a 10-byte value is 35
//! bytes (jemalloc's 48-byte class), with a 100-byte value 125 (the 128
//! class). Redis spends a dictEntry, a key sds, a robj and the string on the
//! same key (about 104 and 200 bytes). An aggregate costs its entry one
//! word: a 16-byte key holding a small hash is a 32-byte block plus the
//! hash's listpack (`Hash` is itself one word). A deadline costs 8 bytes
//! only on keys that have one. Strings that grow in place (APPEND,
//! SETRANGE, SETBIT) hold a `Vec`; `string_mut` turns an inline string into
//! one, as Redis turns an embstr into a raw string. The access word is
//! shared by LRU and LFU, as Redis shares its 24 bits: switching the policy
//! at run time reinterprets it until keys are touched again.
//!
//! `Value` is how values travel in and out (`new`, `into_value`); inside,
//! the kind in the flags says what the payload is, and `contents` and the
//! `as_*_mut` accessors hand out the parts. The table (`table.rs`) keeps each
//! entry as one pointer. This module owns the block format; it knows
//! nothing of tables, shards or policies.

use super::hash::Hash;
use super::set::Set;
use super::table::Element;
use super::value::{string_encoding, List, Value, WrongType};
use super::zset::ZSet;
use std::alloc::Layout;
use std::ptr::NonNull;

const KIND_MASK: u8 = 7;
const DEADLINE: u8 = 8;
const LONG_KEY: u8 = 16;

/// What the payload is (the low bits of the flags).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[repr(u8)]
enum Kind {
    InlineStr = 0,
    Str = 1,
    List = 2,
    Hash = 3,
    Set = 4,
    SortedSet = 5,
}

impl Kind {
    fn from_flags(flags: u8) -> Kind {
        match flags & KIND_MASK {
            1 => Kind::Str,
            2 => Kind::List,
            3 => Kind::Hash,
            4 => Kind::Set,
            5 => Kind::SortedSet,
            _ => Kind::InlineStr,
        }
    }

    fn payload_size(self) -> usize {
        match self {
            Kind::InlineStr => 0,
            Kind::Str => std::mem::size_of::<Vec<u8>>(),
            Kind::List | Kind::Hash | Kind::Set | Kind::SortedSet => 8,
        }
    }

    fn of(value: &Value) -> Kind {
        match value {
            Value::Str(_) => Kind::Str,
            Value::List(_) => Kind::List,
            Value::Hash(_) => Kind::Hash,
            Value::Set(_) => Kind::Set,
            Value::SortedSet(_) => Kind::SortedSet,
        }
    }
}

const HEADER: usize = 8;
const LONG_KEY_LIMIT: usize = 1 << 24;

const _: () = assert!(
    std::mem::size_of::<Box<List>>() == 8
        && std::mem::size_of::<Hash>() == 8
        && std::mem::size_of::<Vec<u8>>() == 24
);

/// What an entry is built with.
enum Payload<'a> {
    Inline(&'a [u8]),
    Value(Value),
}

/// A borrowed view of what an entry (or a `Value`) holds.
#[derive(Clone, Copy)]
pub enum Contents<'a> {
    /// A string, inline or growable.
    Str(&'a [u8]),
    List(&'a List),
    Hash(&'a Hash),
    Set(&'a Set),
    SortedSet(&'a ZSet),
}

impl<'a> Contents<'a> {
    /// The name TYPE answers.
    pub fn type_name(self) -> &'static str {
        match self {
            Contents::Str(_) => "string",
            Contents::List(_) => "list",
            Contents::Hash(_) => "hash",
            Contents::Set(_) => "set",
            Contents::SortedSet(_) => "zset",
        }
    }

    /// The name OBJECT ENCODING answers, following Redis 7.0's rules.
    pub fn encoding_name(self) -> &'static str {
        match self {
            Contents::Str(bytes) => string_encoding(bytes),
            Contents::List(_) => "quicklist",
            Contents::Hash(h) => h.encoding_name(),
            Contents::Set(s) => s.encoding_name(),
            Contents::SortedSet(z) => z.encoding_name(),
        }
    }

    /// Approximate bytes the value holds on the heap.
    pub fn approx_size(self) -> usize {
        match self {
            Contents::Str(bytes) => bytes.len(),
            Contents::List(l) => {
                l.capacity() * std::mem::size_of::<Box<[u8]>>()
                    + l.iter().map(|e| e.len().max(8)).sum::<usize>()
            }
            Contents::Hash(h) => h.approx_size(),
            Contents::Set(s) => s.approx_size(),
            Contents::SortedSet(z) => z.approx_size(),
        }
    }

    /// Elements in an aggregate (None for a string): an aggregate at 0 is deleted.
    pub fn aggregate_len(self) -> Option<usize> {
        match self {
            Contents::Str(_) => None,
            Contents::List(l) => Some(l.len()),
            Contents::Hash(h) => Some(h.len()),
            Contents::Set(s) => Some(s.len()),
            Contents::SortedSet(z) => Some(z.len()),
        }
    }

    /// Whether this value can serve clients blocked on its key (lists and
    /// sorted sets are what blocking pops wait for).
    pub fn can_serve_blocked(self) -> bool {
        matches!(self, Contents::List(_) | Contents::SortedSet(_))
    }
}

/// One keyspace entry: an owning pointer to its block.
#[repr(transparent)]
pub struct Entry {
    block: NonNull<u8>,
}

// SAFETY: the block is owned exclusively, and its parts are Send and Sync.
unsafe impl Send for Entry {}
unsafe impl Sync for Entry {}

// SAFETY: one non-null pointer to an 8-aligned block the entry owns.
unsafe impl Element for Entry {
    fn key(&self) -> &[u8] {
        Entry::key(self)
    }
}

fn varint_len(mut value: usize) -> usize {
    let mut n = 1;
    while value >= 0x80 {
        value >>= 7;
        n += 1;
    }
    n
}

fn block_layout(size: usize) -> Layout {
    match Layout::from_size_align(size, 8) {
        Ok(layout) => layout,
        Err(_) => panic!("entry of {size} bytes"),
    }
}

/// Where things are in a block with these flags and this key length.
#[derive(Clone, Copy)]
struct Offsets {
    deadline: usize,
    long_key: usize,
    key: usize,
    after_key: usize,
}

impl Offsets {
    fn of(flags: u8, key_len: usize) -> Offsets {
        let deadline = HEADER + Kind::from_flags(flags).payload_size();
        let long_key = deadline + if flags & DEADLINE != 0 { 8 } else { 0 };
        let key = long_key + if flags & LONG_KEY != 0 { 8 } else { 0 };
        Offsets {
            deadline,
            long_key,
            key,
            after_key: key + key_len,
        }
    }
}

/// Moves `value`'s payload to `at`.
///
/// # Safety
/// `at` is 8-aligned and has room for the kind's payload.
unsafe fn write_payload(at: *mut u8, value: Value) {
    match value {
        Value::Str(bytes) => (at as *mut Vec<u8>).write(bytes),
        Value::List(list) => (at as *mut Box<List>).write(list),
        Value::Hash(hash) => (at as *mut Hash).write(hash),
        Value::Set(set) => (at as *mut Box<Set>).write(set),
        Value::SortedSet(zset) => (at as *mut Box<ZSet>).write(zset),
    }
}

/// Moves the payload of kind `kind` at `at` out, as a `Value`.
///
/// # Safety
/// `at` holds a live payload of that kind (not an inline string), which
/// the caller then treats as moved.
unsafe fn read_payload(at: *const u8, kind: Kind) -> Value {
    match kind {
        Kind::Str | Kind::InlineStr => Value::Str(std::ptr::read(at as *const Vec<u8>)),
        Kind::List => Value::List(std::ptr::read(at as *const Box<List>)),
        Kind::Hash => Value::Hash(std::ptr::read(at as *const Hash)),
        Kind::Set => Value::Set(std::ptr::read(at as *const Box<Set>)),
        Kind::SortedSet => Value::SortedSet(std::ptr::read(at as *const Box<ZSet>)),
    }
}

impl Entry {
    /// An entry for `key` holding `value`; a string is stored inline.
    pub fn new(key: &[u8], value: Value, deadline: u64, access: u32) -> Entry {
        match value {
            Value::Str(bytes) => Entry::build(key, Payload::Inline(&bytes), deadline, access),
            value => Entry::build(key, Payload::Value(value), deadline, access),
        }
    }

    /// An entry for `key` holding the string `bytes` inline.
    pub fn new_string(key: &[u8], bytes: &[u8], deadline: u64, access: u32) -> Entry {
        Entry::build(key, Payload::Inline(bytes), deadline, access)
    }

    fn build(key: &[u8], payload: Payload<'_>, deadline: u64, access: u32) -> Entry {
        let kind = match &payload {
            Payload::Inline(_) => Kind::InlineStr,
            Payload::Value(value) => Kind::of(value),
        };
        let mut flags = kind as u8;
        if deadline != 0 {
            flags |= DEADLINE;
        }
        if key.len() >= LONG_KEY_LIMIT {
            flags |= LONG_KEY;
        }
        let at = Offsets::of(flags, key.len());
        let size = match &payload {
            Payload::Inline(bytes) => at.after_key + varint_len(bytes.len()) + bytes.len(),
            Payload::Value(_) => at.after_key,
        };
        let layout = block_layout(size);
        // SAFETY: the layout has a non-zero size (at least the header); every
        // write below stays inside it, at offsets aligned for its type.
        unsafe {
            let block = std::alloc::alloc(layout);
            let Some(block) = NonNull::new(block) else {
                std::alloc::handle_alloc_error(layout);
            };
            let base = block.as_ptr();
            (base as *mut u32).write(access);
            base.add(4).write(flags);
            let short_len = if flags & LONG_KEY != 0 { 0 } else { key.len() };
            std::ptr::copy_nonoverlapping(
                (short_len as u32).to_le_bytes().as_ptr(),
                base.add(5),
                3,
            );
            if flags & DEADLINE != 0 {
                (base.add(at.deadline) as *mut u64).write(deadline);
            }
            if flags & LONG_KEY != 0 {
                (base.add(at.long_key) as *mut u64).write(key.len() as u64);
            }
            std::ptr::copy_nonoverlapping(key.as_ptr(), base.add(at.key), key.len());
            match payload {
                Payload::Inline(bytes) => {
                    let mut p = base.add(at.after_key);
                    let mut len = bytes.len();
                    while len >= 0x80 {
                        p.write((len as u8 & 0x7f) | 0x80);
                        p = p.add(1);
                        len >>= 7;
                    }
                    p.write(len as u8);
                    std::ptr::copy_nonoverlapping(bytes.as_ptr(), p.add(1), bytes.len());
                }
                Payload::Value(value) => write_payload(base.add(HEADER), value),
            }
            Entry { block }
        }
    }

    fn base(&self) -> *mut u8 {
        self.block.as_ptr()
    }

    fn payload(&self) -> *mut u8 {
        unsafe { self.base().add(HEADER) }
    }

    fn flags(&self) -> u8 {
        unsafe { *self.base().add(4) }
    }

    fn kind(&self) -> Kind {
        Kind::from_flags(self.flags())
    }

    fn is_inline(&self) -> bool {
        self.kind() == Kind::InlineStr
    }

    fn key_len(&self) -> usize {
        let flags = self.flags();
        unsafe {
            if flags & LONG_KEY != 0 {
                let at = Offsets::of(flags, 0);
                *(self.base().add(at.long_key) as *const u64) as usize
            } else {
                let mut word = [0u8; 4];
                std::ptr::copy_nonoverlapping(self.base().add(5), word.as_mut_ptr(), 3);
                u32::from_le_bytes(word) as usize
            }
        }
    }

    fn offsets(&self) -> Offsets {
        Offsets::of(self.flags(), self.key_len())
    }

    pub fn key(&self) -> &[u8] {
        let at = self.offsets();
        unsafe { std::slice::from_raw_parts(self.base().add(at.key), at.after_key - at.key) }
    }

    /// The inline string's (start offset, length), decoding its varint.
    fn inline_span(&self) -> (usize, usize) {
        let mut at = self.offsets().after_key;
        let mut len = 0usize;
        let mut shift = 0;
        loop {
            let byte = unsafe { *self.base().add(at) };
            at += 1;
            len |= ((byte & 0x7f) as usize) << shift;
            if byte & 0x80 == 0 {
                return (at, len);
            }
            shift += 7;
        }
    }

    fn inline_bytes(&self) -> &[u8] {
        let (start, len) = self.inline_span();
        unsafe { std::slice::from_raw_parts(self.base().add(start), len) }
    }

    fn block_size(&self) -> usize {
        if self.is_inline() {
            let (start, len) = self.inline_span();
            start + len
        } else {
            self.offsets().after_key
        }
    }

    /// The access word (see the module comment).
    pub fn access(&self) -> u32 {
        unsafe { *(self.base() as *const u32) }
    }

    pub fn set_access(&mut self, access: u32) {
        unsafe { (self.base() as *mut u32).write(access) }
    }

    /// The absolute deadline in Unix milliseconds; 0 means none.
    pub fn deadline(&self) -> u64 {
        let flags = self.flags();
        if flags & DEADLINE == 0 {
            return 0;
        }
        let at = Offsets::of(flags, 0);
        unsafe { *(self.base().add(at.deadline) as *const u64) }
    }

    pub fn is_expired(&self, now_ms: u64) -> bool {
        let deadline = self.deadline();
        deadline != 0 && deadline <= now_ms
    }

    /// Sets or clears (0) the deadline; adding or dropping the field moves
    /// the entry to a new block.
    pub fn set_deadline(&mut self, deadline: u64) {
        let has = self.flags() & DEADLINE != 0;
        if has && deadline != 0 {
            let at = Offsets::of(self.flags(), 0);
            unsafe { (self.base().add(at.deadline) as *mut u64).write(deadline) };
        } else if has || deadline != 0 {
            self.rebuild(None, deadline, None);
        }
    }

    /// What the entry holds.
    pub fn contents(&self) -> Contents<'_> {
        // SAFETY: the kind says what the payload is.
        unsafe {
            let at = self.payload();
            match self.kind() {
                Kind::InlineStr => Contents::Str(self.inline_bytes()),
                Kind::Str => Contents::Str(&*(at as *const Vec<u8>)),
                Kind::List => Contents::List(&*(at as *const Box<List>)),
                Kind::Hash => Contents::Hash(&*(at as *const Hash)),
                Kind::Set => Contents::Set(&*(at as *const Box<Set>)),
                Kind::SortedSet => Contents::SortedSet(&*(at as *const Box<ZSet>)),
            }
        }
    }

    /// The string held, inline or not; None for an aggregate.
    pub fn string(&self) -> Option<&[u8]> {
        match self.contents() {
            Contents::Str(bytes) => Some(bytes),
            _ => None,
        }
    }

    /// The payload as a `T` when the entry is of kind `kind`.
    fn payload_as<T>(&mut self, kind: Kind) -> Result<&mut T, WrongType> {
        if self.kind() != kind {
            return Err(WrongType);
        }
        // SAFETY: the kind says the payload is a T.
        Ok(unsafe { &mut *(self.payload() as *mut T) })
    }

    pub fn as_list_mut(&mut self) -> Result<&mut List, WrongType> {
        self.payload_as::<Box<List>>(Kind::List).map(|b| &mut **b)
    }

    pub fn as_hash_mut(&mut self) -> Result<&mut Hash, WrongType> {
        self.payload_as::<Hash>(Kind::Hash)
    }

    pub fn as_set_mut(&mut self) -> Result<&mut Set, WrongType> {
        self.payload_as::<Box<Set>>(Kind::Set).map(|b| &mut **b)
    }

    pub fn as_zset_mut(&mut self) -> Result<&mut ZSet, WrongType> {
        self.payload_as::<Box<ZSet>>(Kind::SortedSet)
            .map(|b| &mut **b)
    }

    /// The string held, as a growable buffer (APPEND, SETRANGE, SETBIT): an
    /// inline string becomes a `Vec` first. None for an aggregate.
    pub fn string_mut(&mut self) -> Option<&mut Vec<u8>> {
        if self.is_inline() {
            let bytes = self.inline_bytes().to_vec();
            self.rebuild(
                None,
                self.deadline(),
                Some(Payload::Value(Value::Str(bytes))),
            );
        }
        self.payload_as::<Vec<u8>>(Kind::Str).ok()
    }

    /// Replaces what the entry holds with the string `bytes`, stored inline;
    /// deadline and access data stay.
    pub fn set_string(&mut self, bytes: &[u8]) {
        if self.is_inline() && self.inline_bytes().len() == bytes.len() {
            let (start, len) = self.inline_span();
            unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), self.base().add(start), len) };
            return;
        }
        self.rebuild(None, self.deadline(), Some(Payload::Inline(bytes)));
    }

    /// The same entry under another key (RENAME).
    pub fn with_key(mut self, key: &[u8]) -> Entry {
        self.rebuild(Some(key), self.deadline(), None);
        self
    }

    /// Takes the value out, dropping the rest.
    pub fn into_value(self) -> Value {
        if self.is_inline() {
            return Value::Str(self.inline_bytes().to_vec());
        }
        let size = self.block_size();
        let kind = self.kind();
        let this = std::mem::ManuallyDrop::new(self);
        // SAFETY: the payload is read out once and the block freed without
        // dropping it again.
        unsafe {
            let value = read_payload(this.payload(), kind);
            std::alloc::dealloc(this.base(), block_layout(size));
            value
        }
    }

    /// A copy of the value (COPY).
    pub fn to_value(&self) -> Value {
        match self.contents() {
            Contents::Str(bytes) => Value::Str(bytes.to_vec()),
            Contents::List(list) => Value::List(Box::new(list.clone())),
            Contents::Hash(hash) => Value::Hash(hash.clone()),
            Contents::Set(set) => Value::Set(Box::new(set.clone())),
            Contents::SortedSet(zset) => Value::SortedSet(Box::new(zset.clone())),
        }
    }

    /// Builds this entry again with another key, deadline or payload.
    fn rebuild(&mut self, key: Option<&[u8]>, deadline: u64, payload: Option<Payload<'_>>) {
        let access = self.access();
        let key = key.unwrap_or(self.key());
        match payload {
            Some(payload) => {
                // The old entry, payload and all, is dropped by the assignment.
                let rebuilt = Entry::build(key, payload, deadline, access);
                *self = rebuilt;
            }
            None if self.is_inline() => {
                let rebuilt =
                    Entry::build(key, Payload::Inline(self.inline_bytes()), deadline, access);
                *self = rebuilt;
            }
            None => {
                let size = self.block_size();
                let kind = self.kind();
                // SAFETY: the payload moves to the new block; the old block
                // is freed without dropping it, and replaced without a drop.
                unsafe {
                    let value = read_payload(self.payload(), kind);
                    let rebuilt = Entry::build(key, Payload::Value(value), deadline, access);
                    std::alloc::dealloc(self.base(), block_layout(size));
                    std::ptr::write(self, rebuilt);
                }
            }
        }
    }

    /// The name TYPE answers.
    pub fn type_name(&self) -> &'static str {
        self.contents().type_name()
    }

    /// The name OBJECT ENCODING answers.
    pub fn encoding_name(&self) -> &'static str {
        self.contents().encoding_name()
    }

    /// Elements in an aggregate (None for a string).
    pub fn aggregate_len(&self) -> Option<usize> {
        self.contents().aggregate_len()
    }

    /// Whether this key can serve clients blocked on it (lists, sorted sets).
    pub fn can_serve_blocked(&self) -> bool {
        self.contents().can_serve_blocked()
    }

    /// Estimated bytes this entry occupies: its block, what its value holds
    /// on the heap, and its bucket. MEMORY USAGE answers it; eviction counts it.
    pub fn approx_bytes(&self) -> usize {
        const BUCKET: usize = 8;
        let heap = match self.kind() {
            Kind::InlineStr => 0,
            _ => self.contents().approx_size(),
        };
        self.block_size().next_multiple_of(16) + heap + BUCKET
    }
}

impl Clone for Entry {
    fn clone(&self) -> Self {
        let payload = match self.kind() {
            Kind::InlineStr => Payload::Inline(self.inline_bytes()),
            _ => Payload::Value(self.to_value()),
        };
        Entry::build(self.key(), payload, self.deadline(), self.access())
    }
}

impl Drop for Entry {
    fn drop(&mut self) {
        let size = self.block_size();
        let kind = self.kind();
        // SAFETY: the kind says what live payload the block holds.
        unsafe {
            if kind != Kind::InlineStr {
                drop(read_payload(self.payload(), kind));
            }
            std::alloc::dealloc(self.base(), block_layout(size));
        }
    }
}

impl std::fmt::Debug for Entry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Entry")
            .field("key", &String::from_utf8_lossy(self.key()))
            .field("type", &self.type_name())
            .field("deadline", &self.deadline())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::List;

    #[test]
    fn strings_live_inline_in_one_small_block() {
        let entry = Entry::new_string(b"key:000000000001", b"0123456789", 0, 7);
        assert_eq!(entry.block_size(), 8 + 16 + 1 + 10);
        assert_eq!(entry.key(), b"key:000000000001");
        assert_eq!(entry.string(), Some(&b"0123456789"[..]));
        assert_eq!(entry.kind(), Kind::InlineStr);
        assert_eq!((entry.deadline(), entry.access()), (0, 7));
        let hundred = Entry::new_string(b"key:000000000001", &[b'x'; 100], 0, 0);
        assert!(hundred.block_size() <= 128);
    }

    #[test]
    fn deadlines_come_and_go_without_touching_the_rest() {
        let mut entry = Entry::new_string(b"k", b"v", 0, 3);
        entry.set_deadline(1234);
        assert_eq!(entry.deadline(), 1234);
        assert!(entry.is_expired(1234) && !entry.is_expired(1233));
        entry.set_deadline(99);
        entry.set_deadline(0);
        assert_eq!(
            (entry.key(), entry.string(), entry.access()),
            (&b"k"[..], Some(&b"v"[..]), 3)
        );
        let mut list = Entry::new(
            b"l",
            Value::List(Box::new(List::from(vec![Box::from(&b"a"[..])]))),
            5,
            0,
        );
        list.set_deadline(0);
        list.set_deadline(10);
        assert_eq!(
            (list.deadline(), list.type_name(), list.aggregate_len()),
            (10, "list", Some(1))
        );
    }

    #[test]
    fn strings_convert_for_growth_and_back() {
        let mut entry = Entry::new_string(b"k", b"abc", 50, 0);
        entry
            .string_mut()
            .expect("a string")
            .extend_from_slice(b"def");
        assert_eq!(entry.string(), Some(&b"abcdef"[..]));
        assert_eq!(entry.kind(), Kind::Str);
        entry.set_string(b"12");
        assert_eq!(entry.kind(), Kind::InlineStr);
        entry.set_string(b"13");
        assert_eq!((entry.string(), entry.deadline()), (Some(&b"13"[..]), 50));
        let renamed = entry.clone().with_key(b"other");
        assert_eq!(
            (renamed.key(), renamed.string()),
            (&b"other"[..], Some(&b"13"[..]))
        );
        assert!(matches!(entry.into_value(), Value::Str(s) if s == b"13"));
    }

    #[test]
    fn long_keys_and_long_strings_round_trip() {
        let key = vec![b'k'; LONG_KEY_LIMIT + 3];
        let value = vec![b'v'; 70_000];
        let entry = Entry::new_string(&key, &value, 77, 1);
        assert_eq!(entry.key(), &key[..]);
        assert_eq!(entry.string(), Some(&value[..]));
        assert_eq!(entry.deadline(), 77);
        let copy = entry.clone().with_key(b"short");
        assert_eq!(
            (copy.key(), copy.string()),
            (&b"short"[..], Some(&value[..]))
        );
    }

    use crate::storage::table::Table;
    use proptest::prelude::*;
    use std::collections::HashMap;

    #[derive(Debug, Clone)]
    enum Op {
        SetString(u8, Vec<u8>),
        SetList(u8, u8),
        Remove(u8),
        SetDeadline(u8, u64),
        Append(u8, Vec<u8>),
        Rename(u8, u8),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            (any::<u8>(), proptest::collection::vec(any::<u8>(), 0..300))
                .prop_map(|(k, v)| Op::SetString(k, v)),
            (any::<u8>(), 0u8..5).prop_map(|(k, n)| Op::SetList(k, n)),
            any::<u8>().prop_map(Op::Remove),
            (any::<u8>(), prop_oneof![Just(0u64), 1u64..1_000_000])
                .prop_map(|(k, d)| Op::SetDeadline(k, d)),
            (any::<u8>(), proptest::collection::vec(any::<u8>(), 0..40))
                .prop_map(|(k, v)| Op::Append(k, v)),
            (any::<u8>(), any::<u8>()).prop_map(|(a, b)| Op::Rename(a, b)),
        ]
    }

    /// What the model holds per key: a string or a list length, and the deadline.
    #[derive(Debug, Clone, PartialEq)]
    enum Held {
        Str(Vec<u8>),
        List(usize),
    }

    fn key_of(k: u8) -> Vec<u8> {
        // Keys of varied lengths, so blocks of many sizes are built.
        format!("key:{}:{}", k, "x".repeat(k as usize % 23)).into_bytes()
    }

    fn held(entry: &Entry) -> Held {
        match entry.contents() {
            Contents::Str(bytes) => Held::Str(bytes.to_vec()),
            other => Held::List(other.aggregate_len().unwrap_or(0)),
        }
    }

    proptest! {
        #[test]
        fn table_of_entries_matches_a_map(ops in proptest::collection::vec(op(), 1..400)) {
            let mut table: Table<Entry> = Table::new();
            let mut model: HashMap<Vec<u8>, (Held, u64)> = HashMap::new();
            for op in ops {
                match op {
                    Op::SetString(k, v) => {
                        let key = key_of(k);
                        table.insert(Entry::new_string(&key, &v, 0, 1));
                        model.insert(key, (Held::Str(v), 0));
                    }
                    Op::SetList(k, n) => {
                        let key = key_of(k);
                        let list: List = (0..n).map(|i| Box::from(&[i][..])).collect();
                        table.insert(Entry::new(&key, Value::List(Box::new(list)), 0, 1));
                        model.insert(key, (Held::List(n as usize), 0));
                    }
                    Op::Remove(k) => {
                        let key = key_of(k);
                        let removed = table.remove(&key).map(|e| (held(&e), e.deadline()));
                        prop_assert_eq!(removed, model.remove(&key));
                    }
                    Op::SetDeadline(k, d) => {
                        let key = key_of(k);
                        if let Some(entry) = table.get_mut(&key) {
                            entry.set_deadline(d);
                        }
                        if let Some(held) = model.get_mut(&key) {
                            held.1 = d;
                        }
                    }
                    Op::Append(k, v) => {
                        let key = key_of(k);
                        if let Some(bytes) = table.get_mut(&key).and_then(Entry::string_mut) {
                            bytes.extend_from_slice(&v);
                        }
                        if let Some((Held::Str(bytes), _)) = model.get_mut(&key) {
                            bytes.extend_from_slice(&v);
                        }
                    }
                    Op::Rename(a, b) => {
                        let (from, to) = (key_of(a), key_of(b));
                        if let Some(entry) = table.remove(&from) {
                            table.insert(entry.with_key(&to));
                        }
                        if let Some(held) = model.remove(&from) {
                            model.insert(to, held);
                        }
                    }
                }
                prop_assert_eq!(table.len(), model.len());
            }
            for entry in table.iter() {
                let expected = model.get(entry.key()).cloned();
                prop_assert_eq!(Some((held(entry), entry.deadline())), expected);
            }
        }
    }
}
