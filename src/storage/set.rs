//! `Set`: the value of a Redis set, in Redis 7.0's two encodings.
//!
//! A set whose members are all integers (in Redis's canonical form, the one
//! `string2ll` accepts) and number at most `set-max-intset-entries` is a
//! sorted `Vec<i64>` (`intset`): eight bytes a member, binary search. Any
//! other member, or one too many, converts it once and for good to a
//! `Dict<()>` (`hashtable`) so SSCAN keeps SCAN's guarantee.

use super::dict::Dict;
use super::value::EncodingLimits;
use crate::util::parse_i64;
use std::borrow::Cow;

#[derive(Debug, Clone)]
pub enum Set {
    Intset(Vec<i64>),
    Table(Dict<()>),
}

impl Default for Set {
    fn default() -> Self {
        Set::Intset(Vec::new())
    }
}

impl Set {
    /// An empty set in the encoding Redis would create for `first` member.
    pub fn for_member(first: &[u8]) -> Self {
        if parse_i64(first).is_some() {
            Set::Intset(Vec::new())
        } else {
            Set::Table(Dict::new())
        }
    }

    pub fn len(&self) -> usize {
        match self {
            Set::Intset(ints) => ints.len(),
            Set::Table(table) => table.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn encoding_name(&self) -> &'static str {
        match self {
            Set::Intset(_) => "intset",
            Set::Table(_) => "hashtable",
        }
    }

    pub fn contains(&self, member: &[u8]) -> bool {
        match self {
            Set::Intset(ints) => parse_i64(member).is_some_and(|n| ints.binary_search(&n).is_ok()),
            Set::Table(table) => table.contains_key(member),
        }
    }

    /// Adds `member`; true if it is new.
    pub fn insert(&mut self, member: &[u8], limits: &EncodingLimits) -> bool {
        if let Set::Intset(ints) = self {
            if let Some(n) = parse_i64(member) {
                return match ints.binary_search(&n) {
                    Ok(_) => false,
                    Err(at) => {
                        ints.insert(at, n);
                        if ints.len() > limits.set_max_intset_entries {
                            self.convert_to_table();
                        }
                        true
                    }
                };
            }
            self.convert_to_table();
        }
        match self {
            Set::Table(table) => {
                if table.contains_key(member) {
                    false
                } else {
                    table.insert(member, ());
                    true
                }
            }
            Set::Intset(_) => unreachable!("converted above"),
        }
    }

    /// Removes `member`; true if it was there.
    pub fn remove(&mut self, member: &[u8]) -> bool {
        match self {
            Set::Intset(ints) => match parse_i64(member).map(|n| ints.binary_search(&n)) {
                Some(Ok(at)) => {
                    ints.remove(at);
                    true
                }
                _ => false,
            },
            Set::Table(table) => table.remove(member).is_some(),
        }
    }

    /// Converts to a hashtable (also used when a result must not stay an intset).
    pub fn convert_to_table(&mut self) {
        if let Set::Intset(ints) = self {
            let mut table = Dict::new();
            for n in ints.iter() {
                table.insert(n.to_string().as_bytes(), ());
            }
            *self = Set::Table(table);
        }
    }

    /// Every member (intset: ascending).
    pub fn iter(&self) -> Box<dyn Iterator<Item = Cow<'_, [u8]>> + '_> {
        match self {
            Set::Intset(ints) => {
                Box::new(ints.iter().map(|n| Cow::Owned(n.to_string().into_bytes())))
            }
            Set::Table(table) => Box::new(table.keys().map(Cow::Borrowed)),
        }
    }

    /// One SSCAN step. An intset is returned whole with cursor 0, as Redis does.
    pub fn scan(&self, cursor: u64, mut visit: impl FnMut(&[u8])) -> u64 {
        match self {
            Set::Intset(ints) => {
                for n in ints {
                    visit(n.to_string().as_bytes());
                }
                0
            }
            Set::Table(table) => table.scan(cursor, |m, _| visit(m)),
        }
    }

    /// A member chosen at random (None when empty).
    pub fn random_member(&self, rng: &mut impl rand::Rng) -> Option<Vec<u8>> {
        match self {
            Set::Intset(ints) if ints.is_empty() => None,
            Set::Intset(ints) => Some(
                ints[rng.random_range(0..ints.len())]
                    .to_string()
                    .into_bytes(),
            ),
            Set::Table(table) => table.random_entry(rng).map(|(m, _)| m.to_vec()),
        }
    }

    pub fn approx_size(&self) -> usize {
        match self {
            Set::Intset(ints) => ints.capacity() * 8,
            Set::Table(table) => {
                table.bucket_count() * 8 + table.keys().map(|m| m.len() + 40).sum::<usize>()
            }
        }
    }
}
