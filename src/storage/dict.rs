//! `Dict`: a map from byte strings to values over `Table` (see `table.rs`
//! for the bucket layout and why SCAN keeps Redis's guarantee over it). Each
//! pair is one boxed `Pair`; the large encodings of hashes, sets and sorted
//! sets use it. The keyspace uses `Table` directly, with its own one-block
//! entries. Knows nothing of what the values mean.

use super::table::{Element, Table};

/// One key and its value.
pub struct Pair<V> {
    key: Box<[u8]>,
    value: V,
}

// SAFETY: a Box of a sized type is one non-null, 8-aligned pointer (Pair
// holds a Box) that owns its block.
unsafe impl<V> Element for Box<Pair<V>> {
    fn key(&self) -> &[u8] {
        &self.key
    }
}

pub struct Dict<V> {
    table: Table<Box<Pair<V>>>,
}

impl<V: Clone> Clone for Dict<V> {
    fn clone(&self) -> Self {
        let mut copy = Dict::new();
        for (key, value) in self.iter() {
            copy.insert(key, value.clone());
        }
        copy
    }
}

impl<V> std::fmt::Debug for Dict<V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Dict({} entries)", self.len())
    }
}

impl<V> Default for Dict<V> {
    fn default() -> Self {
        Self::new()
    }
}

impl<V> Dict<V> {
    pub fn new() -> Self {
        Dict {
            table: Table::new(),
        }
    }

    pub fn len(&self) -> usize {
        self.table.len()
    }

    pub fn is_empty(&self) -> bool {
        self.table.is_empty()
    }

    pub fn bucket_count(&self) -> usize {
        self.table.bucket_count()
    }

    pub fn get(&self, key: &[u8]) -> Option<&V> {
        self.table.get(key).map(|pair| &pair.value)
    }

    pub fn contains_key(&self, key: &[u8]) -> bool {
        self.table.contains_key(key)
    }

    pub fn get_mut(&mut self, key: &[u8]) -> Option<&mut V> {
        self.table.get_mut(key).map(|pair| &mut pair.value)
    }

    /// Inserts or replaces; returns the previous value.
    pub fn insert(&mut self, key: &[u8], value: V) -> Option<V> {
        if let Some(slot) = self.get_mut(key) {
            return Some(std::mem::replace(slot, value));
        }
        self.insert_new(key.into(), value);
        None
    }

    /// Inserts a key known to be absent.
    pub fn insert_new(&mut self, key: Box<[u8]>, value: V) -> &mut V {
        &mut self.table.insert_new(Box::new(Pair { key, value })).value
    }

    pub fn remove(&mut self, key: &[u8]) -> Option<V> {
        self.remove_entry(key).map(|(_, v)| v)
    }

    pub fn remove_entry(&mut self, key: &[u8]) -> Option<(Box<[u8]>, V)> {
        let pair = self.table.remove(key)?;
        let Pair { key, value } = *pair;
        Some((key, value))
    }

    pub fn clear(&mut self) {
        self.table.clear();
    }

    /// One SCAN step over one bucket; returns the next cursor (0: done).
    pub fn scan(&self, cursor: u64, mut visit: impl FnMut(&[u8], &V)) -> u64 {
        self.table
            .scan(cursor, |pair| visit(&pair.key, &pair.value))
    }

    /// A pair chosen uniformly at random.
    pub fn random_entry(&self, rng: &mut impl rand::Rng) -> Option<(&[u8], &V)> {
        self.table.random(rng).map(|pair| (&*pair.key, &pair.value))
    }

    /// Up to `count` pairs from neighbouring buckets (see `Table::sample`).
    pub fn sample(&self, rng: &mut impl rand::Rng, count: usize, mut visit: impl FnMut(&[u8], &V)) {
        self.table
            .sample(rng, count, |pair| visit(&pair.key, &pair.value))
    }

    pub fn iter(&self) -> impl Iterator<Item = (&[u8], &V)> {
        self.table.iter().map(|pair| (&*pair.key, &pair.value))
    }

    pub fn keys(&self) -> impl Iterator<Item = &[u8]> {
        self.table.iter().map(|pair| &*pair.key)
    }

    /// Moves every entry out, leaving the table empty.
    pub fn drain(&mut self) -> Vec<(Box<[u8]>, V)> {
        self.table
            .drain()
            .into_iter()
            .map(|pair| {
                let Pair { key, value } = *pair;
                (key, value)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn sample_visits_present_entries_up_to_the_count() {
        let mut d = Dict::new();
        let mut rng = rand::rng();
        let mut seen = Vec::new();
        d.sample(&mut rng, 5, |k, _| seen.push(k.to_vec()));
        assert!(seen.is_empty());
        for i in 0..1000u32 {
            d.insert(i.to_string().as_bytes(), i);
        }
        for _ in 0..100 {
            let mut seen = HashSet::new();
            d.sample(&mut rng, 5, |k, v| {
                assert_eq!(d.get(k), Some(v));
                seen.insert(k.to_vec());
            });
            assert_eq!(seen.len(), 5);
        }
        // A sparse table still yields what it has, without looking at every bucket.
        for i in 0..998u32 {
            d.remove(i.to_string().as_bytes());
        }
        let mut found = 0;
        for _ in 0..200 {
            d.sample(&mut rng, 5, |_, _| found += 1);
        }
        assert!(found > 0);
    }

    #[test]
    fn insert_get_remove() {
        let mut d = Dict::new();
        for i in 0..1000u32 {
            assert!(d.insert(i.to_string().as_bytes(), i).is_none());
        }
        assert_eq!(d.len(), 1000);
        assert_eq!(d.get(b"500"), Some(&500));
        assert_eq!(d.remove(b"500"), Some(500));
        assert_eq!(d.get(b"500"), None);
        for i in 0..1000u32 {
            d.remove(i.to_string().as_bytes());
        }
        assert!(d.is_empty());
        assert!(d.bucket_count() <= 8);
    }
}
