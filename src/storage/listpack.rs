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

#[derive(Clone, Default, PartialEq, Eq)]
pub struct Listpack {
    bytes: Vec<u8>,
    len: usize,
}

impl std::fmt::Debug for Listpack {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Listpack({} entries, {} bytes)",
            self.len,
            self.bytes.len()
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
    pub fn new() -> Self {
        Listpack::default()
    }

    /// Entries held.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Bytes of the packed form (headers included).
    pub fn byte_len(&self) -> usize {
        self.bytes.len()
    }

    /// Bytes allocated for it.
    pub fn capacity(&self) -> usize {
        self.bytes.capacity()
    }

    /// The entry whose header starts at `start`, or None past the end.
    pub fn slot_at(&self, start: usize) -> Option<Slot> {
        let mut value = 0usize;
        let mut shift = 0;
        let mut at = start;
        loop {
            let byte = *self.bytes.get(at)?;
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
        &self.bytes[slot.data..slot.end]
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
        // Exact growth, as Redis's listpack reallocates per insert: doubling
        // would leave up to half of every small hash's block unused.
        self.bytes
            .reserve_exact(varint_len(entry.len()) + entry.len());
        put_varint(&mut self.bytes, entry.len());
        self.bytes.extend_from_slice(entry);
        self.len += 1;
    }

    /// Inserts entries before the entry starting at `at` (or at the end when
    /// `at` is the byte length).
    pub fn insert_at(&mut self, at: usize, entries: &[&[u8]]) {
        let mut packed = Vec::new();
        for entry in entries {
            packed.extend_from_slice(&encode(entry));
        }
        self.bytes.reserve_exact(packed.len());
        self.bytes.splice(at..at, packed);
        self.len += entries.len();
    }

    /// Replaces the data of the entry in `slot`.
    pub fn replace(&mut self, slot: Slot, entry: &[u8]) {
        self.bytes.splice(slot.start..slot.end, encode(entry));
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
        self.bytes.drain(start..end);
        self.len -= count;
        if self.bytes.capacity() > 64 && self.bytes.capacity() > self.bytes.len() * 2 {
            self.bytes.shrink_to_fit();
        }
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
}
