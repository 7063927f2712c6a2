//! The tracking table of client-side caching: for each key name, the ids
//! of the clients that read it while tracking (CLIENT TRACKING ON, default
//! mode), so a change to it can invalidate their copies. Like Redis's, the
//! table is keyed by name alone, whatever the database, and an entry is
//! dropped once its invalidation is sent; clients that went away are left
//! for the sender to skip.
//!
//! Each shard holds the part of the table for its keys, under the shard's
//! lock; `TrackingTotals` keeps the table-wide counts (INFO, and the
//! `tracking-table-max-keys` limit) without locking every shard. This module
//! stores ids; it never sends anything.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Table-wide figures: keys tracked and (key, client) pairs.
#[derive(Default, Debug)]
pub struct TrackingTotals {
    keys: AtomicUsize,
    items: AtomicUsize,
}

impl TrackingTotals {
    pub fn keys(&self) -> usize {
        self.keys.load(Ordering::Relaxed)
    }

    pub fn items(&self) -> usize {
        self.items.load(Ordering::Relaxed)
    }
}

/// One shard's part of the tracking table.
#[derive(Default, Debug)]
pub struct TrackedKeys {
    /// Client ids per key, sorted.
    by_key: HashMap<Box<[u8]>, Vec<u64>>,
}

impl TrackedKeys {
    pub fn is_empty(&self) -> bool {
        self.by_key.is_empty()
    }

    /// Notes that client `id` holds a copy of `key`.
    pub fn remember(&mut self, key: &[u8], id: u64, totals: &TrackingTotals) {
        let ids = match self.by_key.get_mut(key) {
            Some(ids) => ids,
            None => {
                totals.keys.fetch_add(1, Ordering::Relaxed);
                self.by_key.entry(Box::from(key)).or_default()
            }
        };
        if let Err(at) = ids.binary_search(&id) {
            ids.insert(at, id);
            totals.items.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Removes `key` and returns the clients that held copies of it.
    pub fn take(&mut self, key: &[u8], totals: &TrackingTotals) -> Option<Vec<u64>> {
        let ids = self.by_key.remove(key)?;
        totals.keys.fetch_sub(1, Ordering::Relaxed);
        totals.items.fetch_sub(ids.len(), Ordering::Relaxed);
        Some(ids)
    }

    /// Some tracked key (the table-size limit invalidates keys this way).
    pub fn any_key(&self) -> Option<Box<[u8]>> {
        self.by_key.keys().next().cloned()
    }

    /// Forgets every key (FLUSHALL, FLUSHDB: a null invalidation covers them).
    pub fn clear(&mut self, totals: &TrackingTotals) {
        let items: usize = self.by_key.values().map(Vec::len).sum();
        totals.keys.fetch_sub(self.by_key.len(), Ordering::Relaxed);
        totals.items.fetch_sub(items, Ordering::Relaxed);
        self.by_key.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remember_take_and_clear_keep_the_totals() {
        let totals = TrackingTotals::default();
        let mut table = TrackedKeys::default();
        table.remember(b"a", 2, &totals);
        table.remember(b"a", 1, &totals);
        table.remember(b"a", 2, &totals);
        table.remember(b"b", 1, &totals);
        assert_eq!((totals.keys(), totals.items()), (2, 3));
        assert_eq!(table.take(b"a", &totals), Some(vec![1, 2]));
        assert_eq!(table.take(b"a", &totals), None);
        assert_eq!((totals.keys(), totals.items()), (1, 1));
        table.clear(&totals);
        assert_eq!((totals.keys(), totals.items()), (0, 0));
        assert!(table.is_empty());
    }
}
