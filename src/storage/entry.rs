//! `Entry`: one key of the keyspace, its value, deadline and access data, in
//! a single heap block.
//!
//! Layout (8-aligned; every multi-byte field sits at an aligned offset):
//!
//! ```text
//! 0  access   u32   LRU clock (ms) or, under an LFU policy, minutes | counter << 16
//! 4  flags    u8    INLINE, DEADLINE, LONG_KEY
//! 5  key_len  u24   the key's length (0 with LONG_KEY)
//! 8  value    Value 24 bytes, only without INLINE
//! .  deadline u64   only with DEADLINE (Unix ms)
//! .  long len u64   only with LONG_KEY (keys of 16 MB and more)
//! .  key      bytes
//! .  string   varint length + bytes, only with INLINE
//! ```
//!
//! A string set by SET and friends lives inline, so a key with a short
//! string value is one allocation: a 16-byte key with a 10-byte value is 35
//! bytes (jemalloc's 48-byte class), with a 100-byte value 125 (the 128
//! class). Redis spends a dictEntry, a key sds, a robj and the string on the
//! same key (about 104 and 200 bytes). A deadline costs 8 bytes only on keys
//! that have one. Aggregates and strings that grow in place (APPEND,
//! SETRANGE, SETBIT) hold a `Value` instead; `string_mut` turns an inline
//! string into one, as Redis turns an embstr into a raw string. The access
//! word is shared by LRU and LFU, as Redis shares its 24 bits: switching the
//! policy at run time reinterprets it until keys are touched again.
//!
//! The table (`table.rs`) keeps each entry as one pointer. This module owns
//! the block format; it knows nothing of tables, shards or policies.

use super::table::Element;
use super::value::{string_encoding, Value};
use std::alloc::Layout;
use std::ptr::NonNull;

const INLINE: u8 = 1;
const DEADLINE: u8 = 2;
const LONG_KEY: u8 = 4;

const HEADER: usize = 8;
const VALUE_SIZE: usize = std::mem::size_of::<Value>();
const LONG_KEY_LIMIT: usize = 1 << 24;

const _: () = assert!(VALUE_SIZE.is_multiple_of(8) && std::mem::align_of::<Value>() <= 8);

/// What an entry is built with.
enum Payload<'a> {
    Inline(&'a [u8]),
    Value(Value),
}

/// A borrowed view of what an entry holds.
#[derive(Clone, Copy)]
pub enum Contents<'a> {
    /// A string, inline or in a `Value::Str`.
    Str(&'a [u8]),
    /// An aggregate.
    Aggregate(&'a Value),
}

/// One keyspace entry: an owning pointer to its block.
#[repr(transparent)]
pub struct Entry {
    block: NonNull<u8>,
}

// SAFETY: the block is owned exclusively, and `Value` is Send and Sync.
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
        let deadline = HEADER + if flags & INLINE == 0 { VALUE_SIZE } else { 0 };
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
        let mut flags = 0;
        if matches!(payload, Payload::Inline(_)) {
            flags |= INLINE;
        }
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
                Payload::Value(value) => (base.add(HEADER) as *mut Value).write(value),
            }
            Entry { block }
        }
    }

    fn base(&self) -> *mut u8 {
        self.block.as_ptr()
    }

    fn flags(&self) -> u8 {
        unsafe { *self.base().add(4) }
    }

    fn is_inline(&self) -> bool {
        self.flags() & INLINE != 0
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

    /// Bytes of the block itself (header, key, inline string).
    pub fn block_bytes(&self) -> usize {
        self.block_size()
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
        match self.value() {
            None => Contents::Str(self.inline_bytes()),
            Some(Value::Str(bytes)) => Contents::Str(bytes),
            Some(value) => Contents::Aggregate(value),
        }
    }

    /// The string held, inline or not; None for an aggregate.
    pub fn string(&self) -> Option<&[u8]> {
        match self.contents() {
            Contents::Str(bytes) => Some(bytes),
            Contents::Aggregate(_) => None,
        }
    }

    /// The `Value` held, unless the entry holds an inline string.
    pub fn value(&self) -> Option<&Value> {
        if self.is_inline() {
            return None;
        }
        Some(unsafe { &*(self.base().add(HEADER) as *const Value) })
    }

    /// Like `value`, to modify it in place.
    pub fn value_mut(&mut self) -> Option<&mut Value> {
        if self.is_inline() {
            return None;
        }
        Some(unsafe { &mut *(self.base().add(HEADER) as *mut Value) })
    }

    /// The string held, as a growable buffer (APPEND, SETRANGE, SETBIT): an
    /// inline string becomes a `Value::Str` first. None for an aggregate.
    pub fn string_mut(&mut self) -> Option<&mut Vec<u8>> {
        if self.is_inline() {
            let bytes = self.inline_bytes().to_vec();
            self.rebuild(
                None,
                self.deadline(),
                Some(Payload::Value(Value::Str(bytes))),
            );
        }
        match self.value_mut() {
            Some(Value::Str(bytes)) => Some(bytes),
            _ => None,
        }
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

    /// Replaces what the entry holds; deadline and access data stay.
    pub fn set_value(&mut self, value: Value) {
        match value {
            Value::Str(bytes) => self.set_string(&bytes),
            value => self.rebuild(None, self.deadline(), Some(Payload::Value(value))),
        }
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
        let this = std::mem::ManuallyDrop::new(self);
        // SAFETY: the value is read out once and the block freed without
        // dropping it again.
        unsafe {
            let value = std::ptr::read(this.base().add(HEADER) as *const Value);
            std::alloc::dealloc(this.base(), block_layout(size));
            value
        }
    }

    /// A copy of the value (COPY, DUMP of an inline string).
    pub fn to_value(&self) -> Value {
        match self.value() {
            Some(value) => value.clone(),
            None => Value::Str(self.inline_bytes().to_vec()),
        }
    }

    /// Builds this entry again with another key, deadline or payload.
    fn rebuild(&mut self, key: Option<&[u8]>, deadline: u64, payload: Option<Payload<'_>>) {
        let access = self.access();
        let key = key.unwrap_or(self.key());
        match payload {
            Some(payload) => {
                // The old entry, value and all, is dropped by the assignment.
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
                // SAFETY: the value moves to the new block; the old block is
                // freed without dropping it, and replaced without a drop.
                unsafe {
                    let value = std::ptr::read(self.base().add(HEADER) as *const Value);
                    let rebuilt = Entry::build(key, Payload::Value(value), deadline, access);
                    std::alloc::dealloc(self.base(), block_layout(size));
                    std::ptr::write(self, rebuilt);
                }
            }
        }
    }

    /// The name TYPE answers.
    pub fn type_name(&self) -> &'static str {
        match self.contents() {
            Contents::Str(_) => "string",
            Contents::Aggregate(value) => value.type_name(),
        }
    }

    /// The name OBJECT ENCODING answers.
    pub fn encoding_name(&self) -> &'static str {
        match self.contents() {
            Contents::Str(bytes) => string_encoding(bytes),
            Contents::Aggregate(value) => value.encoding_name(),
        }
    }

    /// Elements in an aggregate (None for a string).
    pub fn aggregate_len(&self) -> Option<usize> {
        self.value().and_then(Value::aggregate_len)
    }

    /// Whether this key can serve clients blocked on it (lists, sorted sets).
    pub fn can_serve_blocked(&self) -> bool {
        self.value().is_some_and(Value::can_serve_blocked)
    }

    /// Estimated bytes this entry occupies: its block, what its value holds
    /// on the heap, and its bucket. MEMORY USAGE answers it; eviction counts it.
    pub fn approx_bytes(&self) -> usize {
        const BUCKET: usize = 8;
        let heap = self.value().map(Value::approx_size).unwrap_or(0);
        self.block_size().next_multiple_of(16) + heap + BUCKET
    }
}

impl Clone for Entry {
    fn clone(&self) -> Self {
        let payload = match self.value() {
            Some(value) => Payload::Value(value.clone()),
            None => Payload::Inline(self.inline_bytes()),
        };
        Entry::build(self.key(), payload, self.deadline(), self.access())
    }
}

impl Drop for Entry {
    fn drop(&mut self) {
        let size = self.block_size();
        // SAFETY: the block holds a live Value exactly when not INLINE.
        unsafe {
            if !self.is_inline() {
                std::ptr::drop_in_place(self.base().add(HEADER) as *mut Value);
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
        assert_eq!(entry.block_bytes(), 8 + 16 + 1 + 10);
        assert_eq!(entry.key(), b"key:000000000001");
        assert_eq!(entry.string(), Some(&b"0123456789"[..]));
        assert!(entry.value().is_none());
        assert_eq!((entry.deadline(), entry.access()), (0, 7));
        let hundred = Entry::new_string(b"key:000000000001", &[b'x'; 100], 0, 0);
        assert!(hundred.block_bytes() <= 128);
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
        assert!(entry.value().is_some());
        entry.set_string(b"12");
        assert!(entry.value().is_none());
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
            Contents::Aggregate(value) => Held::List(value.aggregate_len().unwrap_or(0)),
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
