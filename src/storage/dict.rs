//! `Dict`: a chained hash table keyed by byte strings, with power-of-two
//! bucket counts, built so that SCAN can keep Redis's guarantee.
//!
//! Why not `hashbrown`: SCAN must return every key that is present for the
//! whole scan, even while the table grows or shrinks between calls. Redis gets
//! that from chaining plus a *reverse-binary* cursor: the cursor walks bucket
//! indexes by incrementing their bits from the top down, so when the table
//! doubles (bucket `b` splits into `b` and `b + size`) or halves, every bucket
//! not yet visited at the old size maps to buckets not yet visited at the new
//! size. Open addressing moves entries to arbitrary slots on resize, so no
//! cursor over it can promise that. This table resizes all at once (each
//! keyspace shard holds a fraction of the keys, so a resize is short) and
//! keeps the hash in each node so resizing never re-hashes a key.

use foldhash::fast::FixedState;
use std::hash::BuildHasher;

struct Node<V> {
    hash: u64,
    key: Box<[u8]>,
    value: V,
    next: Option<Box<Node<V>>>,
}

pub struct Dict<V> {
    buckets: Vec<Option<Box<Node<V>>>>,
    len: usize,
    /// At least the length of the longest chain (it may overstate after
    /// removals): the bound that makes `random_entry` fair.
    longest_chain: usize,
    hasher: FixedState,
}

/// What `Dict::lookup_mut` found.
pub enum Lookup<'a, V> {
    Missing,
    /// The entry failed the liveness test and was removed; here it is.
    Removed(Box<[u8]>, V),
    Live(&'a mut V),
}

const MIN_BUCKETS: usize = 4;

fn process_seed() -> u64 {
    use std::sync::OnceLock;
    static SEED: OnceLock<u64> = OnceLock::new();
    *SEED.get_or_init(rand::random::<u64>)
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
        write!(f, "Dict({} entries)", self.len)
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
            buckets: Vec::new(),
            len: 0,
            longest_chain: 0,
            hasher: FixedState::with_seed(process_seed()),
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn bucket_count(&self) -> usize {
        self.buckets.len()
    }

    fn hash(&self, key: &[u8]) -> u64 {
        self.hasher.hash_one(key)
    }

    fn index(&self, hash: u64) -> usize {
        (hash as usize) & (self.buckets.len() - 1)
    }

    pub fn get(&self, key: &[u8]) -> Option<&V> {
        if self.len == 0 {
            return None;
        }
        let hash = self.hash(key);
        let mut node = self.buckets[self.index(hash)].as_deref();
        while let Some(n) = node {
            if n.hash == hash && &*n.key == key {
                return Some(&n.value);
            }
            node = n.next.as_deref();
        }
        None
    }

    pub fn contains_key(&self, key: &[u8]) -> bool {
        self.get(key).is_some()
    }

    pub fn get_mut(&mut self, key: &[u8]) -> Option<&mut V> {
        if self.len == 0 {
            return None;
        }
        let hash = self.hash(key);
        let index = self.index(hash);
        let mut node = self.buckets[index].as_deref_mut();
        while let Some(n) = node {
            if n.hash == hash && &*n.key == key {
                return Some(&mut n.value);
            }
            node = n.next.as_deref_mut();
        }
        None
    }

    /// Finds `key`; if `is_dead` says the entry should no longer exist (it
    /// expired), removes it and hands it back instead.
    pub fn lookup_mut(&mut self, key: &[u8], is_dead: impl FnOnce(&V) -> bool) -> Lookup<'_, V> {
        if self.len == 0 {
            return Lookup::Missing;
        }
        let hash = self.hash(key);
        let index = self.index(hash);
        // First pass (shared): find the node's depth in its chain and judge it.
        let mut depth = 0;
        let mut verdict = None;
        let mut node = self.buckets[index].as_deref();
        while let Some(n) = node {
            if n.hash == hash && &*n.key == key {
                verdict = Some(is_dead(&n.value));
                break;
            }
            depth += 1;
            node = n.next.as_deref();
        }
        match verdict {
            None => Lookup::Missing,
            Some(true) => match self.remove_entry(key) {
                Some((k, v)) => Lookup::Removed(k, v),
                None => Lookup::Missing,
            },
            Some(false) => {
                // Second pass (exclusive): walk to the same depth, no key comparisons.
                let mut node = self.buckets[index].as_deref_mut();
                for _ in 0..depth {
                    node = node.and_then(|n| n.next.as_deref_mut());
                }
                match node {
                    Some(n) => Lookup::Live(&mut n.value),
                    None => Lookup::Missing,
                }
            }
        }
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
        self.grow_if_needed();
        let hash = self.hash(&key);
        let index = self.index(hash);
        let next = self.buckets[index].take();
        self.buckets[index] = Some(Box::new(Node {
            hash,
            key,
            value,
            next,
        }));
        self.len += 1;
        let chain = self.chain_len(index);
        if chain > self.longest_chain {
            self.longest_chain = chain;
        }
        match self.buckets[index].as_deref_mut() {
            Some(node) => &mut node.value,
            None => unreachable!("bucket was just filled"),
        }
    }

    pub fn remove(&mut self, key: &[u8]) -> Option<V> {
        self.remove_entry(key).map(|(_, v)| v)
    }

    pub fn remove_entry(&mut self, key: &[u8]) -> Option<(Box<[u8]>, V)> {
        if self.len == 0 {
            return None;
        }
        let hash = self.hash(key);
        let index = self.index(hash);
        let mut link = &mut self.buckets[index];
        loop {
            match link {
                None => return None,
                Some(node) if node.hash == hash && &*node.key == key => {
                    let mut taken = link.take()?;
                    *link = taken.next.take();
                    self.len -= 1;
                    let Node { key, value, .. } = *taken;
                    self.shrink_if_needed();
                    return Some((key, value));
                }
                Some(node) => link = &mut node.next,
            }
        }
    }

    pub fn clear(&mut self) {
        // Unlink chains iteratively so that a long chain cannot overflow the stack on drop.
        for bucket in self.buckets.iter_mut() {
            let mut next = bucket.take();
            while let Some(mut node) = next {
                next = node.next.take();
            }
        }
        self.buckets = Vec::new();
        self.len = 0;
        self.longest_chain = 0;
    }

    fn grow_if_needed(&mut self) {
        if self.buckets.is_empty() {
            self.buckets.resize_with(MIN_BUCKETS, || None);
        } else if self.len >= self.buckets.len() {
            self.resize(self.buckets.len() * 2);
        }
    }

    fn shrink_if_needed(&mut self) {
        let size = self.buckets.len();
        if size > MIN_BUCKETS && self.len * 8 < size {
            let mut target = MIN_BUCKETS;
            while target < self.len {
                target *= 2;
            }
            self.resize(target);
        }
    }

    fn resize(&mut self, new_size: usize) {
        let mut new_buckets: Vec<Option<Box<Node<V>>>> = Vec::new();
        new_buckets.resize_with(new_size, || None);
        let mask = new_size - 1;
        for bucket in self.buckets.iter_mut() {
            let mut next = bucket.take();
            while let Some(mut node) = next {
                next = node.next.take();
                let index = (node.hash as usize) & mask;
                node.next = new_buckets[index].take();
                new_buckets[index] = Some(node);
            }
        }
        self.buckets = new_buckets;
        self.longest_chain = (0..self.buckets.len())
            .map(|i| self.chain_len(i))
            .max()
            .unwrap_or(0);
    }

    fn chain_len(&self, index: usize) -> usize {
        let mut len = 0;
        let mut node = self.buckets[index].as_deref();
        while let Some(n) = node {
            len += 1;
            node = n.next.as_deref();
        }
        len
    }

    /// One SCAN step: visits every entry of one bucket and returns the next
    /// cursor (0 when the walk is complete). See the module comment.
    pub fn scan(&self, cursor: u64, mut visit: impl FnMut(&[u8], &V)) -> u64 {
        if self.buckets.is_empty() {
            return 0;
        }
        let mask = (self.buckets.len() - 1) as u64;
        let mut node = self.buckets[(cursor & mask) as usize].as_deref();
        while let Some(n) = node {
            visit(&n.key, &n.value);
            node = n.next.as_deref();
        }
        let mut v = cursor | !mask;
        v = v.reverse_bits();
        v = v.wrapping_add(1);
        v.reverse_bits()
    }

    /// An entry chosen uniformly at random. Rejection sampling: draw a
    /// bucket and a depth below the longest chain, and keep the entry found
    /// there if there is one, so every entry has the same chance (picking a
    /// random member of a random bucket would favour short chains).
    pub fn random_entry(&self, rng: &mut impl rand::Rng) -> Option<(&[u8], &V)> {
        if self.len == 0 {
            return None;
        }
        let depth_bound = self.longest_chain.max(1);
        for _ in 0..1000 {
            let index = rng.random_range(0..self.buckets.len());
            let depth = rng.random_range(0..depth_bound);
            let mut node = self.buckets[index].as_deref();
            for _ in 0..depth {
                node = node.and_then(|n| n.next.as_deref());
            }
            if let Some(n) = node {
                return Some((&n.key, &n.value));
            }
        }
        // A very sparse table: pick by position instead.
        let skip = rng.random_range(0..self.len);
        self.iter().nth(skip)
    }

    /// Up to `count` entries from a run of neighbouring buckets that starts
    /// at a random one (Redis's `dictGetSomeKeys`): cheap, and random enough
    /// for eviction sampling, though not uniform. Looks at no more than
    /// `count * 10` buckets, so a sparse table costs little too.
    pub fn sample(&self, rng: &mut impl rand::Rng, count: usize, mut visit: impl FnMut(&[u8], &V)) {
        if self.len == 0 || count == 0 {
            return;
        }
        let mask = self.buckets.len() - 1;
        let mut index = rng.random_range(0..self.buckets.len());
        let mut found = 0;
        for _ in 0..self.buckets.len().min(count * 10) {
            let mut node = self.buckets[index].as_deref();
            while let Some(n) = node {
                visit(&n.key, &n.value);
                found += 1;
                if found == count {
                    return;
                }
                node = n.next.as_deref();
            }
            index = (index + 1) & mask;
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = (&[u8], &V)> {
        self.buckets.iter().flat_map(|bucket| {
            let mut node = bucket.as_deref();
            std::iter::from_fn(move || {
                let n = node?;
                node = n.next.as_deref();
                Some((&*n.key, &n.value))
            })
        })
    }

    pub fn keys(&self) -> impl Iterator<Item = &[u8]> {
        self.iter().map(|(k, _)| k)
    }

    /// Moves every entry out, leaving the table empty.
    pub fn drain(&mut self) -> Vec<(Box<[u8]>, V)> {
        let mut out = Vec::with_capacity(self.len);
        for bucket in self.buckets.iter_mut() {
            let mut next = bucket.take();
            while let Some(mut node) = next {
                next = node.next.take();
                let Node { key, value, .. } = *node;
                out.push((key, value));
            }
        }
        self.buckets = Vec::new();
        self.len = 0;
        out
    }
}

impl<V> Drop for Dict<V> {
    fn drop(&mut self) {
        self.clear();
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

    #[test]
    fn scan_sees_every_key_present_throughout_while_table_resizes() {
        let mut d = Dict::new();
        for i in 0..500u32 {
            d.insert(format!("stable:{i}").as_bytes(), ());
        }
        let mut seen = HashSet::new();
        let mut cursor = 0;
        let mut step = 0u32;
        loop {
            cursor = d.scan(cursor, |k, _| {
                seen.insert(k.to_vec());
            });
            // Grow, then shrink, the table between steps.
            if step < 200 {
                for j in 0..20 {
                    d.insert(format!("extra:{step}:{j}").as_bytes(), ());
                }
            } else {
                for s in 0..200 {
                    for j in 0..20 {
                        d.remove(format!("extra:{s}:{j}").as_bytes());
                    }
                }
            }
            step += 1;
            if cursor == 0 || step > 1_000_000 {
                break;
            }
        }
        for i in 0..500u32 {
            assert!(
                seen.contains(format!("stable:{i}").as_bytes()),
                "missed stable:{i}"
            );
        }
    }
}
