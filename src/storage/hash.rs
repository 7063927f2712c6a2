//! `Hash`: the value of a Redis hash, in Redis's two encodings.
//!
//! Small hashes (at most `hash-max-listpack-entries` fields, none longer than
//! `hash-max-listpack-value` bytes) are a flat vector of field/value pairs
//! in insertion order, like Redis's listpack: a handful of allocations and a
//! linear search that beats hashing at that size. Past either limit the hash
//! converts, once and for good, to a `Dict` so HSCAN keeps SCAN's guarantee.

use super::dict::Dict;
use super::value::EncodingLimits;

#[derive(Debug, Clone)]
pub enum Hash {
    Listpack(Vec<(Vec<u8>, Vec<u8>)>),
    Table(Dict<Vec<u8>>),
}

impl Default for Hash {
    fn default() -> Self {
        Hash::Listpack(Vec::new())
    }
}

impl Hash {
    pub fn len(&self) -> usize {
        match self {
            Hash::Listpack(pairs) => pairs.len(),
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
            Hash::Listpack(pairs) => pairs
                .iter()
                .find(|(f, _)| f.as_slice() == field)
                .map(|(_, v)| v.as_slice()),
            Hash::Table(table) => table.get(field).map(|v| v.as_slice()),
        }
    }

    pub fn contains(&self, field: &[u8]) -> bool {
        self.get(field).is_some()
    }

    /// Sets `field` to `value`; true if the field is new.
    pub fn insert(&mut self, field: &[u8], value: Vec<u8>, limits: &EncodingLimits) -> bool {
        if let Hash::Listpack(pairs) = self {
            let too_long = field.len() > limits.hash_max_listpack_value
                || value.len() > limits.hash_max_listpack_value;
            if !too_long {
                if let Some(slot) = pairs.iter_mut().find(|(f, _)| f.as_slice() == field) {
                    slot.1 = value;
                    return false;
                }
                pairs.push((field.to_vec(), value));
                if pairs.len() > limits.hash_max_listpack_entries {
                    self.convert_to_table();
                }
                return true;
            }
            self.convert_to_table();
        }
        match self {
            Hash::Table(table) => table.insert(field, value).is_none(),
            Hash::Listpack(_) => unreachable!("converted above"),
        }
    }

    /// Removes `field`; true if it was there.
    pub fn remove(&mut self, field: &[u8]) -> bool {
        match self {
            Hash::Listpack(pairs) => match pairs.iter().position(|(f, _)| f.as_slice() == field) {
                Some(index) => {
                    pairs.remove(index);
                    true
                }
                None => false,
            },
            Hash::Table(table) => table.remove(field).is_some(),
        }
    }

    fn convert_to_table(&mut self) {
        if let Hash::Listpack(pairs) = self {
            let mut table = Dict::new();
            for (field, value) in pairs.drain(..) {
                table.insert(&field, value);
            }
            *self = Hash::Table(table);
        }
    }

    /// Every field and value (listpack: insertion order).
    pub fn iter(&self) -> Box<dyn Iterator<Item = (&[u8], &[u8])> + '_> {
        match self {
            Hash::Listpack(pairs) => {
                Box::new(pairs.iter().map(|(f, v)| (f.as_slice(), v.as_slice())))
            }
            Hash::Table(table) => Box::new(table.iter().map(|(f, v)| (f, v.as_slice()))),
        }
    }

    /// One HSCAN step. A listpack hash is returned whole with cursor 0, as Redis does.
    pub fn scan(&self, cursor: u64, mut visit: impl FnMut(&[u8], &[u8])) -> u64 {
        match self {
            Hash::Listpack(pairs) => {
                for (f, v) in pairs {
                    visit(f, v);
                }
                0
            }
            Hash::Table(table) => table.scan(cursor, |f, v| visit(f, v)),
        }
    }

    /// A field/value pair chosen at random (None when empty).
    pub fn random_pair(&self, rng: &mut impl rand::Rng) -> Option<(&[u8], &[u8])> {
        match self {
            Hash::Listpack(pairs) if pairs.is_empty() => None,
            Hash::Listpack(pairs) => {
                let (f, v) = &pairs[rng.random_range(0..pairs.len())];
                Some((f, v))
            }
            Hash::Table(table) => table.random_entry(rng).map(|(f, v)| (f, v.as_slice())),
        }
    }

    pub fn approx_size(&self) -> usize {
        match self {
            Hash::Listpack(pairs) => {
                pairs.capacity() * 48
                    + pairs
                        .iter()
                        .map(|(f, v)| f.capacity() + v.capacity())
                        .sum::<usize>()
            }
            Hash::Table(table) => {
                table.bucket_count() * 8
                    + table
                        .iter()
                        .map(|(f, v)| f.len() + v.capacity() + 56)
                        .sum::<usize>()
            }
        }
    }
}
