//! `Listpack`: a packed sequence of byte strings in one allocation, the
//! small encoding of hashes and sorted sets (Redis's listpack plays the same
//! part).
//!
//! Each entry is its length as a LEB128 varint followed by its bytes, so a
//! field of up to 127 bytes costs one byte of overhead and a whole small
//! hash is a single heap block instead of two allocations per field. Lookups
//! walk the entries from the start: at the sizes where this encoding is used
//! (`hash-max-listpack-entries`, 128 by default) that is faster than hashing.
//! Offsets handed out by `find`/`entries_from` stay valid until the next
//! change. Knows nothing of hashes or scores: the callers give entries their
//! meaning.
//!
//! The whole listpack is one pointer: its block starts with the byte length
//! and the entry count (u32 each) and is always exactly as long as its
//! contents, as Redis's listpack is reallocated on every insert. That keeps
//! a small hash at one 8-byte word in its key's entry plus one block, and no
//! block grows past `MAX_BYTES` (callers convert to the large encoding first,
//! as Redis does at its listpack safety limit).

use std::alloc::Layout;
use std::ptr::NonNull;

#[derive(Default)]
#[repr(transparent)]
pub struct Listpack {
    /// None while empty; else [byte length u32][entry count u32][entries].
    block: Option<NonNull<u8>>,
}

// SAFETY: the block is owned exclusively.
unsafe impl Send for Listpack {}
unsafe impl Sync for Listpack {}

const HEADER: usize = 8;

fn block_layout(data_len: usize) -> Layout {
    match Layout::from_size_align(HEADER + data_len, 4) {
        Ok(layout) => layout,
        Err(_) => panic!("listpack of {data_len} bytes"),
    }
}

impl Clone for Listpack {
    fn clone(&self) -> Self {
        let mut copy = Listpack::new();
        copy.splice(0, 0, self.bytes(), self.len() as isize);
        copy
    }
}

impl PartialEq for Listpack {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.bytes() == other.bytes()
    }
}

impl Eq for Listpack {}

impl Drop for Listpack {
    fn drop(&mut self) {
        if let Some(block) = self.block.take() {
            let len = self.header_of(block).0;
            unsafe { std::alloc::dealloc(block.as_ptr(), block_layout(len)) };
        }
    }
}

impl std::fmt::Debug for Listpack {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Listpack({} entries, {} bytes)",
            self.len(),
            self.byte_len()
        )
    }
}

/// One entry's place: where its header starts and where its bytes are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slot {
    /// Offset of the length header.
    pub start: usize,
    /// Offset of the first byte of the entry's data.
    pub data: usize,
    /// Offset just past the entry.
    pub end: usize,
}

fn varint_len(mut value: usize) -> usize {
    let mut n = 1;
    while value >= 0x80 {
        value >>= 7;
        n += 1;
    }
    n
}

fn put_varint(out: &mut Vec<u8>, mut value: usize) {
    while value >= 0x80 {
        out.push((value as u8 & 0x7f) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

/// Encodes one entry (header and data).
fn encode(entry: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(varint_len(entry.len()) + entry.len());
    put_varint(&mut out, entry.len());
    out.extend_from_slice(entry);
    out
}

impl Listpack {
    /// The largest a listpack may grow (Redis's LISTPACK_MAX_SAFETY_SIZE).
    pub const MAX_BYTES: usize = 1 << 30;

    pub fn new() -> Self {
        Listpack::default()
    }

    fn header_of(&self, block: NonNull<u8>) -> (usize, usize) {
        let words = block.as_ptr() as *const u32;
        unsafe { (*words as usize, *words.add(1) as usize) }
    }

    /// (byte length, entry count).
    fn header(&self) -> (usize, usize) {
        self.block.map(|b| self.header_of(b)).unwrap_or((0, 0))
    }

    /// The packed entries.
    fn bytes(&self) -> &[u8] {
        match self.block {
            None => &[],
            Some(block) => {
                let len = self.header_of(block).0;
                unsafe { std::slice::from_raw_parts(block.as_ptr().add(HEADER), len) }
            }
        }
    }

    /// Replaces bytes `start..end` with `insert` and changes the entry
    /// count by `count_change`: the one way the block changes, reallocated
    /// to its exact new size.
    fn splice(&mut self, start: usize, end: usize, insert: &[u8], count_change: isize) {
        let (old_len, old_count) = self.header();
        debug_assert!(start <= end && end <= old_len);
        let new_len = old_len - (end - start) + insert.len();
        let new_count = (old_count as isize + count_change) as usize;
        assert!(new_len <= u32::MAX as usize, "listpack past 4 GB");
        if new_len == 0 {
            drop(std::mem::take(self));
            return;
        }
        let tail = old_len - end;
        // SAFETY: offsets stay within the old and new blocks; the tail is
        // moved with `copy` (overlapping) before a shrink and after a growth.
        unsafe {
            let base = match self.block {
                None => std::alloc::alloc(block_layout(new_len)),
                Some(block) if new_len > old_len => {
                    std::alloc::realloc(block.as_ptr(), block_layout(old_len), HEADER + new_len)
                }
                Some(block) => block.as_ptr(),
            };
            let Some(block) = NonNull::new(base) else {
                std::alloc::handle_alloc_error(block_layout(new_len));
            };
            let data = block.as_ptr().add(HEADER);
            std::ptr::copy(data.add(end), data.add(start + insert.len()), tail);
            std::ptr::copy_nonoverlapping(insert.as_ptr(), data.add(start), insert.len());
            let mut block = block;
            if new_len < old_len {
                let shrunk =
                    std::alloc::realloc(block.as_ptr(), block_layout(old_len), HEADER + new_len);
                match NonNull::new(shrunk) {
                    Some(shrunk) => block = shrunk,
                    None => std::alloc::handle_alloc_error(block_layout(new_len)),
                }
            }
            let words = block.as_ptr() as *mut u32;
            words.write(new_len as u32);
            words.add(1).write(new_count as u32);
            self.block = Some(block);
        }
    }

    /// Entries held.
    pub fn len(&self) -> usize {
        self.header().1
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Bytes of the packed form (headers included).
    pub fn byte_len(&self) -> usize {
        self.header().0
    }

    /// Bytes allocated for it.
    pub fn capacity(&self) -> usize {
        if self.block.is_some() {
            HEADER + self.byte_len()
        } else {
            0
        }
    }

    /// Whether `extra` more bytes keep it within `MAX_BYTES`.
    pub fn has_room_for(&self, extra: usize) -> bool {
        self.byte_len().saturating_add(extra) <= Self::MAX_BYTES
    }

    /// The entry whose header starts at `start`, or None past the end.
    pub fn slot_at(&self, start: usize) -> Option<Slot> {
        let mut value = 0usize;
        let mut shift = 0;
        let mut at = start;
        loop {
            let byte = *self.bytes().get(at)?;
            value |= usize::from(byte & 0x7f) << shift;
            at += 1;
            if byte & 0x80 == 0 {
                break;
            }
            shift += 7;
        }
        Some(Slot {
            start,
            data: at,
            end: at + value,
        })
    }

    /// The data of an entry.
    pub fn data(&self, slot: Slot) -> &[u8] {
        &self.bytes()[slot.data..slot.end]
    }

    /// Every entry's slot, in order.
    pub fn slots(&self) -> SlotIter<'_> {
        SlotIter {
            pack: self,
            next: 0,
        }
    }

    /// Every entry's data, in order.
    pub fn iter(&self) -> impl Iterator<Item = &[u8]> + '_ {
        self.slots().map(move |slot| self.data(slot))
    }

    /// Appends an entry.
    pub fn push(&mut self, entry: &[u8]) {
        let end = self.byte_len();
        self.splice(end, end, &encode(entry), 1);
    }

    /// Inserts entries before the entry starting at `at` (or at the end when
    /// `at` is the byte length).
    pub fn insert_at(&mut self, at: usize, entries: &[&[u8]]) {
        let mut packed = Vec::new();
        for entry in entries {
            packed.extend_from_slice(&encode(entry));
        }
        self.splice(at, at, &packed, entries.len() as isize);
    }

    /// Replaces the data of the entry in `slot`.
    pub fn replace(&mut self, slot: Slot, entry: &[u8]) {
        self.splice(slot.start, slot.end, &encode(entry), 0);
    }

    /// Removes `count` consecutive entries, the first of which starts at `start`.
    pub fn remove_entries(&mut self, start: usize, count: usize) {
        let mut end = start;
        for _ in 0..count {
            match self.slot_at(end) {
                Some(slot) => end = slot.end,
                None => break,
            }
        }
        self.splice(start, end, &[], -(count as isize));
    }

    /// The slot of the first entry at an even position (0, 2, 4...) equal to
    /// `key`: the key of a key/value pair.
    pub fn find_pair(&self, key: &[u8]) -> Option<Slot> {
        let mut slots = self.slots();
        while let Some(slot) = slots.next() {
            if self.data(slot) == key {
                return Some(slot);
            }
            slots.next()?;
        }
        None
    }
}

/// Walks a listpack's entries.
pub struct SlotIter<'a> {
    pack: &'a Listpack,
    next: usize,
}

impl Iterator for SlotIter<'_> {
    type Item = Slot;

    fn next(&mut self) -> Option<Slot> {
        let slot = self.pack.slot_at(self.next)?;
        self.next = slot.end;
        Some(slot)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pushes_replaces_and_removes() {
        let mut lp = Listpack::new();
        lp.push(b"a");
        lp.push(&[7u8; 300]);
        lp.push(b"");
        assert_eq!(lp.len(), 3);
        let items: Vec<Vec<u8>> = lp.iter().map(|e| e.to_vec()).collect();
        assert_eq!(items, vec![b"a".to_vec(), vec![7u8; 300], Vec::new()]);
        let second = lp.slots().nth(1).unwrap();
        lp.replace(second, b"bb");
        assert_eq!(lp.iter().nth(1).unwrap(), b"bb");
        let first = lp.slots().next().unwrap();
        lp.remove_entries(first.start, 2);
        assert_eq!(lp.len(), 1);
        assert_eq!(lp.iter().next().unwrap(), b"");
    }

    #[test]
    fn finds_keys_of_pairs_only() {
        let mut lp = Listpack::new();
        for e in [&b"f1"[..], b"v1", b"v1", b"v2"] {
            lp.push(e);
        }
        let slot = lp.find_pair(b"v1").unwrap();
        assert_eq!(lp.data(slot), b"v1");
        assert_eq!(slot.start, lp.slots().nth(2).unwrap().start);
        assert!(lp.find_pair(b"v2").is_none());
        lp.insert_at(0, &[b"x", b"y"]);
        assert_eq!(lp.iter().next().unwrap(), b"x");
        assert_eq!(lp.len(), 6);
    }

    use proptest::prelude::*;

    proptest! {
        /// Every change keeps the packed form equal to a plain vector of entries.
        #[test]
        fn matches_a_vector_of_entries(ops in proptest::collection::vec(
            (0u8..4, any::<u16>(), proptest::collection::vec(any::<u8>(), 0..200)), 1..200)) {
            let mut lp = Listpack::new();
            let mut model: Vec<Vec<u8>> = Vec::new();
            for (kind, at, bytes) in ops {
                let index = if model.is_empty() { 0 } else { at as usize % model.len() };
                let slot = lp.slots().nth(index);
                match (kind, slot) {
                    (0, _) => {
                        lp.push(&bytes);
                        model.push(bytes);
                    }
                    (1, Some(slot)) => {
                        lp.insert_at(slot.start, &[&bytes, b"pair"]);
                        model.splice(index..index, [bytes, b"pair".to_vec()]);
                    }
                    (2, Some(slot)) => {
                        lp.replace(slot, &bytes);
                        model[index] = bytes;
                    }
                    (3, Some(slot)) => {
                        let count = (model.len() - index).min(2);
                        lp.remove_entries(slot.start, count);
                        model.drain(index..index + count);
                    }
                    _ => {}
                }
                prop_assert_eq!(lp.len(), model.len());
                let entries: Vec<Vec<u8>> = lp.iter().map(|e| e.to_vec()).collect();
                prop_assert_eq!(&entries, &model);
                prop_assert_eq!(lp.clone(), lp.clone());
            }
        }
    }
}
