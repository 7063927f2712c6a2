//! `Hash`: the value of a Redis hash, in Redis's two encodings.
//!
//! Small hashes (at most `hash-max-listpack-entries` fields, no field or
//! value longer than `hash-max-listpack-value` bytes) are one `Listpack` of
//! field, value, field, value... in insertion order, like Redis's listpack:
//! a single allocation for the whole hash, which is what makes many small
//! hashes cheap. Past either limit the hash converts, once and for good, to
//! a `Dict` so HSCAN keeps SCAN's guarantee.

use super::dict::Dict;
use super::listpack::Listpack;
use super::value::EncodingLimits;

/// A hash in one machine word, so that a key holding a small hash spends
/// eight bytes of its entry on it: 0 (an empty listpack), a listpack
/// block's address (low bit clear; listpack blocks are 4-aligned), or a
/// boxed table's address with the low bit set.
pub struct Hash {
    word: *mut u8,
}

type FieldTable = Dict<Box<[u8]>>;

const TABLE_TAG: usize = 1;

/// A hash's encoding, borrowed.
enum Repr<'a> {
    Listpack(&'a Listpack),
    Table(&'a FieldTable),
}

/// A hash's encoding, borrowed to change it.
enum ReprMut<'a> {
    Listpack(&'a mut Listpack),
    Table(&'a mut FieldTable),
}

// SAFETY: a Hash owns its listpack or table exclusively.
unsafe impl Send for Hash {}
unsafe impl Sync for Hash {}

impl Default for Hash {
    fn default() -> Self {
        Hash::from_listpack(Listpack::new())
    }
}

impl Clone for Hash {
    fn clone(&self) -> Self {
        match self.repr() {
            Repr::Listpack(lp) => Hash::from_listpack(lp.clone()),
            Repr::Table(table) => Hash::from_table(table.clone()),
        }
    }
}

impl Drop for Hash {
    fn drop(&mut self) {
        // SAFETY: the word holds what `repr` says; each is dropped once.
        unsafe {
            if self.is_table() {
                drop(Box::from_raw(self.table_ptr()));
            } else {
                std::ptr::drop_in_place(&mut self.word as *mut *mut u8 as *mut Listpack);
            }
        }
    }
}

impl std::fmt::Debug for Hash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.repr() {
            Repr::Listpack(lp) => write!(f, "Hash({lp:?})"),
            Repr::Table(table) => write!(f, "Hash({table:?})"),
        }
    }
}

impl Hash {
    fn from_listpack(lp: Listpack) -> Hash {
        const { assert!(std::mem::size_of::<Listpack>() == std::mem::size_of::<*mut u8>()) };
        // SAFETY: a Listpack is one nullable pointer to a 4-aligned block.
        let word = unsafe { std::mem::transmute_copy::<Listpack, *mut u8>(&lp) };
        std::mem::forget(lp);
        Hash { word }
    }

    fn from_table(table: FieldTable) -> Hash {
        let table = Box::into_raw(Box::new(table)) as *mut u8;
        Hash {
            word: table.map_addr(|a| a | TABLE_TAG),
        }
    }

    fn is_table(&self) -> bool {
        self.word.addr() & TABLE_TAG != 0
    }

    fn table_ptr(&self) -> *mut FieldTable {
        self.word.map_addr(|a| a & !TABLE_TAG) as *mut FieldTable
    }

    fn repr(&self) -> Repr<'_> {
        // SAFETY: see the type's comment.
        unsafe {
            if self.is_table() {
                Repr::Table(&*self.table_ptr())
            } else {
                Repr::Listpack(&*(&self.word as *const *mut u8 as *const Listpack))
            }
        }
    }

    fn repr_mut(&mut self) -> ReprMut<'_> {
        // SAFETY: see the type's comment.
        unsafe {
            if self.is_table() {
                ReprMut::Table(&mut *self.table_ptr())
            } else {
                ReprMut::Listpack(&mut *(&mut self.word as *mut *mut u8 as *mut Listpack))
            }
        }
    }

    /// Whether the hash is in the small encoding.
    pub fn is_listpack(&self) -> bool {
        matches!(self.repr(), Repr::Listpack(_))
    }
}

impl Hash {
    pub fn len(&self) -> usize {
        match self.repr() {
            Repr::Listpack(lp) => lp.len() / 2,
            Repr::Table(table) => table.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn encoding_name(&self) -> &'static str {
        match self.repr() {
            Repr::Listpack(_) => "listpack",
            Repr::Table(_) => "hashtable",
        }
    }

    pub fn get(&self, field: &[u8]) -> Option<&[u8]> {
        match self.repr() {
            Repr::Listpack(lp) => {
                let key = lp.find_pair(field)?;
                let value = lp.slot_at(key.end)?;
                Some(lp.data(value))
            }
            Repr::Table(table) => table.get(field).map(|v| &**v),
        }
    }

    pub fn contains(&self, field: &[u8]) -> bool {
        self.get(field).is_some()
    }

    /// Converts to a table first if `field` and `value` would not fit the
    /// small encoding (Redis checks lengths before it inserts).
    fn make_room(&mut self, field: &[u8], value: &[u8], limits: &EncodingLimits) {
        if let ReprMut::Listpack(lp) = self.repr_mut() {
            if field.len() > limits.hash_max_listpack_value
                || value.len() > limits.hash_max_listpack_value
                || !lp.has_room_for(field.len() + value.len() + 20)
            {
                self.convert_to_table();
            }
        }
    }

    /// Sets `field` to `value`; true if the field is new.
    pub fn insert(&mut self, field: &[u8], value: &[u8], limits: &EncodingLimits) -> bool {
        self.make_room(field, value, limits);
        match self.repr_mut() {
            ReprMut::Listpack(lp) => {
                if let Some(key) = lp.find_pair(field) {
                    if let Some(slot) = lp.slot_at(key.end) {
                        lp.replace(slot, value);
                    }
                    return false;
                }
                lp.push(field);
                lp.push(value);
                if lp.len() / 2 > limits.hash_max_listpack_entries {
                    self.convert_to_table();
                }
                true
            }
            ReprMut::Table(table) => table.insert(field, value.into()).is_none(),
        }
    }

    /// Removes `field`; true if it was there.
    pub fn remove(&mut self, field: &[u8]) -> bool {
        match self.repr_mut() {
            ReprMut::Listpack(lp) => match lp.find_pair(field) {
                Some(key) => {
                    lp.remove_entries(key.start, 2);
                    true
                }
                None => false,
            },
            ReprMut::Table(table) => table.remove(field).is_some(),
        }
    }

    fn convert_to_table(&mut self) {
        if let ReprMut::Listpack(lp) = self.repr_mut() {
            let lp = std::mem::take(lp);
            let mut table = Dict::new();
            let mut entries = lp.iter();
            while let (Some(field), Some(value)) = (entries.next(), entries.next()) {
                table.insert(field, value.into());
            }
            *self = Hash::from_table(table);
        }
    }

    /// Every field and value (listpack: insertion order).
    pub fn iter(&self) -> HashIter<'_> {
        match self.repr() {
            Repr::Listpack(lp) => HashIter::Small(Box::new(lp.iter())),
            Repr::Table(table) => HashIter::Large(Box::new(table.iter())),
        }
    }

    /// One HSCAN step. A listpack hash is returned whole with cursor 0, as Redis does.
    pub fn scan(&self, cursor: u64, mut visit: impl FnMut(&[u8], &[u8])) -> u64 {
        match self.repr() {
            Repr::Listpack(_) => {
                for (field, value) in self.iter() {
                    visit(field, value);
                }
                0
            }
            Repr::Table(table) => table.scan(cursor, |f, v| visit(f, v)),
        }
    }

    /// A field/value pair chosen at random (None when empty).
    pub fn random_pair(&self, rng: &mut impl rand::Rng) -> Option<(&[u8], &[u8])> {
        match self.repr() {
            Repr::Listpack(_) => {
                let len = self.len();
                if len == 0 {
                    return None;
                }
                self.iter().nth(rng.random_range(0..len))
            }
            Repr::Table(table) => table.random_entry(rng).map(|(f, v)| (f, &**v)),
        }
    }

    /// Approximate bytes used, for MEMORY USAGE.
    pub fn approx_size(&self) -> usize {
        match self.repr() {
            Repr::Listpack(lp) => 16 + lp.capacity(),
            Repr::Table(table) => {
                table.bucket_count() * 8
                    + table
                        .iter()
                        .map(|(f, v)| f.len() + v.len() + 48)
                        .sum::<usize>()
            }
        }
    }
}

type TablePairs<'a> = Box<dyn Iterator<Item = (&'a [u8], &'a Box<[u8]>)> + 'a>;

/// Iterates a hash's (field, value) pairs.
pub enum HashIter<'a> {
    Small(Box<dyn Iterator<Item = &'a [u8]> + 'a>),
    Large(TablePairs<'a>),
}

impl<'a> Iterator for HashIter<'a> {
    type Item = (&'a [u8], &'a [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        match self {
            HashIter::Small(entries) => {
                let field = entries.next()?;
                let value = entries.next()?;
                Some((field, value))
            }
            HashIter::Large(pairs) => pairs.next().map(|(f, v)| (f, &**v)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converts_when_a_limit_is_passed_and_keeps_every_field() {
        let limits = EncodingLimits {
            hash_max_listpack_entries: 4,
            ..EncodingLimits::default()
        };
        let mut hash = Hash::default();
        for i in 0..4 {
            assert!(hash.insert(format!("f{i}").as_bytes(), b"v", &limits));
        }
        assert_eq!(hash.encoding_name(), "listpack");
        assert!(!hash.insert(b"f0", b"new", &limits));
        assert_eq!(hash.get(b"f0"), Some(&b"new"[..]));
        assert!(hash.insert(b"f4", b"v", &limits));
        assert_eq!(hash.encoding_name(), "hashtable");
        assert_eq!(hash.len(), 5);
        assert_eq!(hash.get(b"f0"), Some(&b"new"[..]));
        let mut long = Hash::default();
        long.insert(b"f", &[b'x'; 65], &EncodingLimits::default());
        assert_eq!(long.encoding_name(), "hashtable");
    }

    #[test]
    fn removes_from_both_encodings() {
        let limits = EncodingLimits::default();
        let mut hash = Hash::default();
        hash.insert(b"a", b"1", &limits);
        hash.insert(b"b", b"2", &limits);
        assert!(hash.remove(b"a"));
        assert!(!hash.remove(b"a"));
        assert_eq!(
            hash.iter().collect::<Vec<_>>(),
            vec![(&b"b"[..], &b"2"[..])]
        );
    }
}
