//! `ZSet`: the value of a Redis sorted set. (Placeholder layout; the
//! sorted-set work replaces it with a skiplist indexed by rank.)

use super::value::EncodingLimits;
use std::collections::{BTreeSet, HashMap};

/// A score ordered totally (NaN never enters a sorted set).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Score(pub f64);

impl Eq for Score {}

impl PartialOrd for Score {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Score {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.total_cmp(&other.0)
    }
}

#[derive(Debug, Clone, Default)]
#[allow(dead_code)] // placeholder until the sorted-set layout lands
pub struct ZSet {
    by_member: HashMap<Vec<u8>, f64>,
    by_score: BTreeSet<(Score, Vec<u8>)>,
    listpack: bool,
}

impl ZSet {
    pub fn new(_limits: &EncodingLimits) -> Self {
        ZSet {
            listpack: true,
            ..Default::default()
        }
    }

    pub fn len(&self) -> usize {
        self.by_member.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn encoding_name(&self) -> &'static str {
        if self.listpack {
            "listpack"
        } else {
            "skiplist"
        }
    }

    pub fn approx_size(&self) -> usize {
        self.by_member.keys().map(|m| 2 * m.len() + 80).sum()
    }
}
