//! `ExpiryIndex`: every volatile key of one table, ordered by deadline.
//!
//! Redis finds expired keys by sampling random volatile keys, so with many of
//! them a key can outlive its deadline by seconds. Ordering keys by deadline
//! lets active expiry take exactly the due keys, oldest first, in
//! O(log n) each, however many volatile keys there are. The index also keeps
//! the sum of deadlines so INFO's `avg_ttl` costs nothing to compute.
//!
//! It only indexes; the table (`DbShard`) owns the keys and entries.

use std::collections::BTreeSet;

#[derive(Default)]
pub struct ExpiryIndex {
    by_deadline: BTreeSet<(u64, Box<[u8]>)>,
    deadline_sum: u128,
}

impl ExpiryIndex {
    pub fn len(&self) -> usize {
        self.by_deadline.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_deadline.is_empty()
    }

    /// Moves `key` from deadline `old` to deadline `new` (0 means none).
    pub fn update(&mut self, key: &[u8], old: u64, new: u64) {
        if old == new {
            return;
        }
        if old != 0 && self.by_deadline.remove(&(old, Box::from(key))) {
            self.deadline_sum -= old as u128;
        }
        if new != 0 && self.by_deadline.insert((new, Box::from(key))) {
            self.deadline_sum += new as u128;
        }
    }

    /// Takes the earliest entry if its deadline is at or before `now_ms`.
    pub fn pop_due(&mut self, now_ms: u64) -> Option<(u64, Box<[u8]>)> {
        let (deadline, _) = self.by_deadline.first()?;
        if *deadline > now_ms {
            return None;
        }
        let (deadline, key) = self.by_deadline.pop_first()?;
        self.deadline_sum -= deadline as u128;
        Some((deadline, key))
    }

    /// The soonest deadline and its key.
    pub fn first(&self) -> Option<(u64, &[u8])> {
        self.by_deadline.first().map(|(d, k)| (*d, &**k))
    }

    /// A volatile key picked at random: the first at or after a random
    /// deadline between the soonest and the latest (O(log n); keys in
    /// sparse stretches of time are likelier, which eviction tolerates).
    pub fn sample(&self, rng: &mut impl rand::Rng) -> Option<&[u8]> {
        let (low, _) = self.by_deadline.first()?;
        let (high, _) = self.by_deadline.last()?;
        let at = rng.random_range(*low..=*high);
        let empty: Box<[u8]> = Box::default();
        self.by_deadline
            .range((at, empty)..)
            .next()
            .map(|(_, key)| &**key)
    }

    pub fn clear(&mut self) {
        self.by_deadline.clear();
        self.deadline_sum = 0;
    }

    /// Sum of remaining time to live over all indexed keys, in ms, and their count.
    pub fn ttl_total(&self, now_ms: u64) -> (u128, usize) {
        let count = self.by_deadline.len();
        let base = now_ms as u128 * count as u128;
        (self.deadline_sum.saturating_sub(base), count)
    }
}

#[cfg(test)]
mod tests {
    use super::ExpiryIndex;

    #[test]
    fn pops_in_deadline_order_and_tracks_ttl() {
        let mut index = ExpiryIndex::default();
        index.update(b"b", 0, 200);
        index.update(b"a", 0, 100);
        index.update(b"c", 0, 300);
        index.update(b"c", 300, 400);
        assert_eq!(index.ttl_total(50), (50 + 150 + 350, 3));
        assert_eq!(
            index.pop_due(150).map(|(d, k)| (d, k.to_vec())),
            Some((100, b"a".to_vec()))
        );
        assert_eq!(index.pop_due(150), None);
        index.update(b"b", 200, 0);
        assert_eq!(index.len(), 1);
    }
}
