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

#[derive(Debug, Clone)]
pub enum Hash {
    Listpack(Listpack),
    /// Boxed so a `Hash` is two words, and a small one costs its key's
    /// entry nothing beyond the listpack's pointer.
    Table(Box<Dict<Box<[u8]>>>),
}

impl Default for Hash {
    fn default() -> Self {
        Hash::Listpack(Listpack::new())
    }
}

impl Hash {
    pub fn len(&self) -> usize {
        match self {
            Hash::Listpack(lp) => lp.len() / 2,
            Hash::Table(table) => table.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn encoding_name(&self) -> &'static str {
        match self {
            Hash::Listpack(_) => "listpack",
            Hash::Table(_) => "hashtable",
        }
    }

    pub fn get(&self, field: &[u8]) -> Option<&[u8]> {
        match self {
            Hash::Listpack(lp) => {
                let key = lp.find_pair(field)?;
                let value = lp.slot_at(key.end)?;
                Some(lp.data(value))
            }
            Hash::Table(table) => table.get(field).map(|v| &**v),
        }
    }

    pub fn contains(&self, field: &[u8]) -> bool {
        self.get(field).is_some()
    }

    /// Converts to a table first if `field` and `value` would not fit the
    /// small encoding (Redis checks lengths before it inserts).
    fn make_room(&mut self, field: &[u8], value: &[u8], limits: &EncodingLimits) {
        if let Hash::Listpack(lp) = self {
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
        match self {
            Hash::Listpack(lp) => {
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
            Hash::Table(table) => table.insert(field, value.into()).is_none(),
        }
    }

    /// Removes `field`; true if it was there.
    pub fn remove(&mut self, field: &[u8]) -> bool {
        match self {
            Hash::Listpack(lp) => match lp.find_pair(field) {
                Some(key) => {
                    lp.remove_entries(key.start, 2);
                    true
                }
                None => false,
            },
            Hash::Table(table) => table.remove(field).is_some(),
        }
    }

    fn convert_to_table(&mut self) {
        if let Hash::Listpack(lp) = self {
            let lp = std::mem::take(lp);
            let mut table = Dict::new();
            let mut entries = lp.iter();
            while let (Some(field), Some(value)) = (entries.next(), entries.next()) {
                table.insert(field, value.into());
            }
            *self = Hash::Table(Box::new(table));
        }
    }

    /// Every field and value (listpack: insertion order).
    pub fn iter(&self) -> HashIter<'_> {
        match self {
            Hash::Listpack(lp) => HashIter::Small(Box::new(lp.iter())),
            Hash::Table(table) => HashIter::Large(Box::new(table.iter())),
        }
    }

    /// One HSCAN step. A listpack hash is returned whole with cursor 0, as Redis does.
    pub fn scan(&self, cursor: u64, mut visit: impl FnMut(&[u8], &[u8])) -> u64 {
        match self {
            Hash::Listpack(_) => {
                for (field, value) in self.iter() {
                    visit(field, value);
                }
                0
            }
            Hash::Table(table) => table.scan(cursor, |f, v| visit(f, v)),
        }
    }

    /// A field/value pair chosen at random (None when empty).
    pub fn random_pair(&self, rng: &mut impl rand::Rng) -> Option<(&[u8], &[u8])> {
        match self {
            Hash::Listpack(_) => {
                let len = self.len();
                if len == 0 {
                    return None;
                }
                self.iter().nth(rng.random_range(0..len))
            }
            Hash::Table(table) => table.random_entry(rng).map(|(f, v)| (f, &**v)),
        }
    }

    /// Approximate bytes used, for MEMORY USAGE.
    pub fn approx_size(&self) -> usize {
        match self {
            Hash::Listpack(lp) => 16 + lp.capacity(),
            Hash::Table(table) => {
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
