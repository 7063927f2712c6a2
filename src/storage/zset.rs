//! `ZSet`: the value of a Redis sorted set, in Redis's two encodings.
//!
//! Small sets (at most `zset-max-listpack-entries` members, none longer than
//! `zset-max-listpack-value` bytes) are one `Listpack` of member/score pairs
//! kept in order (score, then member bytes), the score as its eight bytes:
//! one allocation, and a linear walk that beats anything cleverer at that
//! size. Past either limit the set converts, once and for good, to a
//! skiplist with a member index.
//!
//! The skiplist is Redis's: nodes in (score, member) order on level 0, each
//! higher level skipping ahead, and every forward link carrying its *span*
//! (how many level-0 steps it jumps). Summing spans on the way down gives a
//! node's rank, and following spans finds the node at a rank, both in
//! O(log n); so every rank, score-range and lex-range question is answered
//! by finding the ranks of its two ends, and a range of m members costs
//! O(log n + m). Nodes live in an arena (`Vec<Node>`, links are indexes,
//! freed slots are reused), which keeps the structure in safe Rust. A `Dict`
//! from member to score answers ZSCORE in O(1) and lets ZSCAN keep SCAN's
//! guarantee.
//!
//! Everything a command asks is expressed in ranks (0-based, ascending):
//! `rank`, `first_rank_in`/`last_rank_in` for score and lex ranges, `iter_from`
//! a rank in either direction, `remove_ranks`. Nothing here parses arguments
//! or knows about replies.

use super::dict::Dict;
use super::listpack::Listpack;
use super::value::EncodingLimits;
use std::cmp::Ordering;

/// A score ordered totally (NaN never enters a sorted set).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Score(pub f64);

impl Eq for Score {}

impl PartialOrd for Score {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Score {
    fn cmp(&self, other: &Self) -> Ordering {
        self.0.total_cmp(&other.0)
    }
}

/// (score, member) order, Redis's: scores numerically (-0 equals 0), then
/// member bytes.
fn order(a_score: f64, a_member: &[u8], b_score: f64, b_member: &[u8]) -> Ordering {
    match a_score.partial_cmp(&b_score) {
        Some(Ordering::Equal) | None => a_member.cmp(b_member),
        Some(other) => other,
    }
}

/// A score interval, each end inclusive or exclusive.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScoreRange {
    pub min: f64,
    pub max: f64,
    pub min_exclusive: bool,
    pub max_exclusive: bool,
}

impl ScoreRange {
    fn above_min(&self, score: f64) -> bool {
        if self.min_exclusive {
            score > self.min
        } else {
            score >= self.min
        }
    }

    fn below_max(&self, score: f64) -> bool {
        if self.max_exclusive {
            score < self.max
        } else {
            score <= self.max
        }
    }

    /// Whether the interval can hold anything at all.
    pub fn is_empty(&self) -> bool {
        self.min > self.max || (self.min == self.max && (self.min_exclusive || self.max_exclusive))
    }
}

/// One end of a lex interval.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LexBound {
    /// `-`
    Min,
    /// `+`
    Max,
    /// `[member`
    Inclusive(Vec<u8>),
    /// `(member`
    Exclusive(Vec<u8>),
}

/// A member interval for the BYLEX commands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LexRange {
    pub min: LexBound,
    pub max: LexBound,
}

impl LexRange {
    fn above_min(&self, member: &[u8]) -> bool {
        match &self.min {
            LexBound::Min => true,
            LexBound::Max => false,
            LexBound::Inclusive(m) => member >= m.as_slice(),
            LexBound::Exclusive(m) => member > m.as_slice(),
        }
    }

    fn below_max(&self, member: &[u8]) -> bool {
        match &self.max {
            LexBound::Min => false,
            LexBound::Max => true,
            LexBound::Inclusive(m) => member <= m.as_slice(),
            LexBound::Exclusive(m) => member < m.as_slice(),
        }
    }

    /// Whether the interval can hold anything at all.
    pub fn is_empty(&self) -> bool {
        match (&self.min, &self.max) {
            (LexBound::Max, _) | (_, LexBound::Min) => true,
            (LexBound::Min, _) | (_, LexBound::Max) => false,
            (LexBound::Inclusive(a), LexBound::Inclusive(b)) => a > b,
            (LexBound::Inclusive(a), LexBound::Exclusive(b))
            | (LexBound::Exclusive(a), LexBound::Inclusive(b))
            | (LexBound::Exclusive(a), LexBound::Exclusive(b)) => a >= b,
        }
    }
}

/// What ZADD did to one member.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddOutcome {
    Added,
    Updated,
    /// An existing member was given the score it had.
    Unchanged,
    /// The conditions refused the change (NX on an existing member, XX on a
    /// missing one, GT/LT against the score): ZADD INCR answers nil.
    Skipped,
}

/// ZADD's conditions.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AddFlags {
    pub nx: bool,
    pub xx: bool,
    pub gt: bool,
    pub lt: bool,
    pub incr: bool,
}

/// The increment made the score NaN (`+inf` plus `-inf`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NanScore;

#[derive(Debug, Clone)]
pub enum ZSet {
    /// member, score (8 bytes, little endian), member, score, ... in order.
    Listpack(Listpack),
    Skiplist(Box<Indexed>),
}

/// The large encoding: the skiplist plus the member -> score index.
#[derive(Debug, Clone, Default)]
pub struct Indexed {
    list: SkipList,
    scores: Dict<f64>,
}

/// A score as the small encoding keeps it. Redis stores a listpack score
/// that is a whole number as an integer, so -0 comes back as 0.
fn score_bytes(score: f64) -> [u8; 8] {
    let score = if score == 0.0 { 0.0 } else { score };
    score.to_le_bytes()
}

fn score_of(bytes: &[u8]) -> f64 {
    let mut raw = [0u8; 8];
    raw.copy_from_slice(&bytes[..8]);
    f64::from_le_bytes(raw)
}

impl ZSet {
    /// An empty sorted set in the encoding Redis would create when the first
    /// member is `first_len` bytes long.
    pub fn new(first_len: usize, limits: &EncodingLimits) -> Self {
        if limits.zset_max_listpack_entries == 0 || first_len > limits.zset_max_listpack_value {
            ZSet::Skiplist(Box::default())
        } else {
            ZSet::Listpack(Listpack::new())
        }
    }

    /// An empty set in the small encoding (results that may convert back).
    pub fn new_small() -> Self {
        ZSet::Listpack(Listpack::new())
    }

    pub fn len(&self) -> usize {
        match self {
            ZSet::Listpack(lp) => lp.len() / 2,
            ZSet::Skiplist(z) => z.list.len,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn encoding_name(&self) -> &'static str {
        match self {
            ZSet::Listpack(_) => "listpack",
            ZSet::Skiplist(_) => "skiplist",
        }
    }

    pub fn score(&self, member: &[u8]) -> Option<f64> {
        match self {
            ZSet::Listpack(lp) => lp
                .find_pair(member)
                .and_then(|slot| lp.slot_at(slot.end))
                .map(|slot| score_of(lp.data(slot))),
            ZSet::Skiplist(z) => z.scores.get(member).copied(),
        }
    }

    /// ZADD for one member: applies the flags and returns what happened and
    /// the member's score afterwards (None when absent and not added).
    pub fn add(
        &mut self,
        member: &[u8],
        score: f64,
        flags: AddFlags,
        limits: &EncodingLimits,
    ) -> Result<(AddOutcome, Option<f64>), NanScore> {
        if score.is_nan() {
            return Err(NanScore);
        }
        let current = self.score(member);
        let Some(old) = current else {
            if flags.xx {
                return Ok((AddOutcome::Skipped, None));
            }
            self.insert_new(member, score, limits);
            return Ok((AddOutcome::Added, Some(score)));
        };
        if flags.nx {
            return Ok((AddOutcome::Skipped, Some(old)));
        }
        let new = if flags.incr { old + score } else { score };
        if new.is_nan() {
            return Err(NanScore);
        }
        if (flags.gt && new <= old) || (flags.lt && new >= old) {
            return Ok((AddOutcome::Skipped, Some(old)));
        }
        if new == old {
            return Ok((AddOutcome::Unchanged, Some(old)));
        }
        self.remove(member);
        self.insert_new(member, new, limits);
        Ok((AddOutcome::Updated, Some(new)))
    }

    /// Inserts a member known to be absent, converting when a limit is passed.
    pub fn insert_new(&mut self, member: &[u8], score: f64, limits: &EncodingLimits) {
        if let ZSet::Listpack(lp) = self {
            if lp.len() / 2 + 1 > limits.zset_max_listpack_entries
                || member.len() > limits.zset_max_listpack_value
                || !lp.has_room_for(member.len() + 20)
            {
                self.convert_to_skiplist();
            } else {
                let score = f64::from_le_bytes(score_bytes(score));
                let at = listpack_insert_point(lp, score, member);
                lp.insert_at(at, &[member, &score_bytes(score)]);
                return;
            }
        }
        if let ZSet::Skiplist(z) = self {
            z.scores.insert(member, score);
            z.list.insert(score, member.into());
        }
    }

    /// Removes a member; true if it was there.
    pub fn remove(&mut self, member: &[u8]) -> bool {
        match self {
            ZSet::Listpack(lp) => match lp.find_pair(member) {
                Some(slot) => {
                    lp.remove_entries(slot.start, 2);
                    true
                }
                None => false,
            },
            ZSet::Skiplist(z) => match z.scores.remove(member) {
                Some(score) => {
                    z.list.delete(score, member);
                    true
                }
                None => false,
            },
        }
    }

    fn convert_to_skiplist(&mut self) {
        if let ZSet::Listpack(lp) = self {
            let lp = std::mem::take(lp);
            let mut indexed = Box::<Indexed>::default();
            let mut entries = lp.iter();
            while let (Some(member), Some(score)) = (entries.next(), entries.next()) {
                let score = score_of(score);
                indexed.scores.insert(member, score);
                indexed.list.insert(score, member.into());
            }
            *self = ZSet::Skiplist(indexed);
        }
    }

    /// Converts a skiplist back to the small encoding when it fits the
    /// limits (ZUNIONSTORE, ZRANGESTORE and friends do this to their result).
    pub fn shrink_if_small(&mut self, limits: &EncodingLimits) {
        let ZSet::Skiplist(z) = self else {
            return;
        };
        if z.list.len > limits.zset_max_listpack_entries {
            return;
        }
        if z.list
            .iter_from_rank(0, false)
            .any(|(m, _)| m.len() > limits.zset_max_listpack_value)
            || !fits_listpack(z.list.iter_from_rank(0, false).map(|(m, _)| m.len()))
        {
            return;
        }
        let mut lp = Listpack::new();
        for (member, score) in z.list.iter_from_rank(0, false) {
            lp.push(member);
            lp.push(&score_bytes(score));
        }
        *self = ZSet::Listpack(lp);
    }

    /// The 0-based ascending rank of a member.
    pub fn rank(&self, member: &[u8]) -> Option<usize> {
        match self {
            ZSet::Listpack(lp) => {
                let mut entries = lp.iter();
                let mut rank = 0;
                while let (Some(m), Some(_)) = (entries.next(), entries.next()) {
                    if m == member {
                        return Some(rank);
                    }
                    rank += 1;
                }
                None
            }
            ZSet::Skiplist(z) => {
                let score = *z.scores.get(member)?;
                z.list.rank_of(score, member).map(|r| r - 1)
            }
        }
    }

    /// Members with their scores from `rank` on, ascending or (with
    /// `reverse`, ranks counted from the top) descending.
    pub fn iter_from(&self, rank: usize, reverse: bool) -> ZIter<'_> {
        match self {
            ZSet::Listpack(lp) => {
                let pairs: Vec<(&[u8], f64)> = listpack_pairs(lp).collect();
                let items: Vec<(&[u8], f64)> = if reverse {
                    pairs.into_iter().rev().skip(rank).collect()
                } else {
                    pairs.into_iter().skip(rank).collect()
                };
                ZIter::Small(items.into_iter())
            }
            ZSet::Skiplist(z) => ZIter::Large(z.list.iter_from_rank(rank, reverse)),
        }
    }

    /// Every member with its score, ascending.
    pub fn iter(&self) -> ZIter<'_> {
        self.iter_from(0, false)
    }

    /// The rank of the first member whose score is in `range`.
    pub fn first_rank_in(&self, range: &ScoreRange) -> Option<usize> {
        if range.is_empty() {
            return None;
        }
        match self {
            ZSet::Listpack(lp) => listpack_pairs(lp)
                .position(|(_, s)| range.above_min(s))
                .filter(|&i| {
                    listpack_pairs(lp)
                        .nth(i)
                        .is_some_and(|(_, s)| range.below_max(s))
                }),
            ZSet::Skiplist(z) => z.list.first_in_score_range(range),
        }
    }

    /// The rank of the last member whose score is in `range`.
    pub fn last_rank_in(&self, range: &ScoreRange) -> Option<usize> {
        if range.is_empty() {
            return None;
        }
        match self {
            ZSet::Listpack(lp) => {
                let pairs: Vec<(&[u8], f64)> = listpack_pairs(lp).collect();
                let i = pairs.iter().rposition(|(_, s)| range.below_max(*s))?;
                range.above_min(pairs[i].1).then_some(i)
            }
            ZSet::Skiplist(z) => z.list.last_in_score_range(range),
        }
    }

    /// The rank of the first member in the lex `range`.
    pub fn first_rank_in_lex(&self, range: &LexRange) -> Option<usize> {
        if range.is_empty() {
            return None;
        }
        match self {
            ZSet::Listpack(lp) => {
                let pairs: Vec<(&[u8], f64)> = listpack_pairs(lp).collect();
                let i = pairs.iter().position(|(m, _)| range.above_min(m))?;
                range.below_max(pairs[i].0).then_some(i)
            }
            ZSet::Skiplist(z) => z.list.first_in_lex_range(range),
        }
    }

    /// The rank of the last member in the lex `range`.
    pub fn last_rank_in_lex(&self, range: &LexRange) -> Option<usize> {
        if range.is_empty() {
            return None;
        }
        match self {
            ZSet::Listpack(lp) => {
                let pairs: Vec<(&[u8], f64)> = listpack_pairs(lp).collect();
                let i = pairs.iter().rposition(|(m, _)| range.below_max(m))?;
                range.above_min(pairs[i].0).then_some(i)
            }
            ZSet::Skiplist(z) => z.list.last_in_lex_range(range),
        }
    }

    /// Removes the members of ascending ranks `first..=last` (clamped);
    /// returns how many went.
    pub fn remove_ranks(&mut self, first: usize, last: usize) -> usize {
        let len = self.len();
        if first >= len || first > last {
            return 0;
        }
        let last = last.min(len - 1);
        let count = last - first + 1;
        match self {
            ZSet::Listpack(lp) => {
                let Some(start) = lp.slots().nth(first * 2) else {
                    return 0;
                };
                lp.remove_entries(start.start, count * 2);
            }
            ZSet::Skiplist(z) => {
                for member in z.list.delete_ranks(first + 1, last + 1) {
                    z.scores.remove(&member);
                }
            }
        }
        count
    }

    /// One ZSCAN step. A listpack set is returned whole with cursor 0, as Redis does.
    pub fn scan(&self, cursor: u64, mut visit: impl FnMut(&[u8], f64)) -> u64 {
        match self {
            ZSet::Listpack(lp) => {
                for (member, score) in listpack_pairs(lp) {
                    visit(member, score);
                }
                0
            }
            ZSet::Skiplist(z) => z.scores.scan(cursor, |m, s| visit(m, *s)),
        }
    }

    /// A member chosen uniformly at random, with its score.
    pub fn random_member(&self, rng: &mut impl rand::Rng) -> Option<(&[u8], f64)> {
        match self {
            ZSet::Listpack(_) => {
                let len = self.len();
                if len == 0 {
                    return None;
                }
                self.at_rank(rng.random_range(0..len))
            }
            ZSet::Skiplist(z) => z.scores.random_entry(rng).map(|(m, s)| (m, *s)),
        }
    }

    /// A set holding `items`, which are in (score, member) order with no
    /// repeated member, in the encoding Redis gives a result of that size.
    pub fn from_sorted(items: &[(Vec<u8>, f64)], limits: &EncodingLimits) -> Self {
        let small = items.len() <= limits.zset_max_listpack_entries
            && items
                .iter()
                .all(|(m, _)| m.len() <= limits.zset_max_listpack_value)
            && fits_listpack(items.iter().map(|(m, _)| m.len()));
        if small {
            let mut lp = Listpack::new();
            for (member, score) in items {
                lp.push(member);
                lp.push(&score_bytes(*score));
            }
            return ZSet::Listpack(lp);
        }
        let mut indexed = Box::<Indexed>::default();
        for (member, score) in items {
            indexed.scores.insert(member, *score);
            indexed.list.insert(*score, member.as_slice().into());
        }
        ZSet::Skiplist(indexed)
    }

    /// The member at an ascending rank, with its score.
    pub fn at_rank(&self, rank: usize) -> Option<(&[u8], f64)> {
        self.iter_from(rank, false).next()
    }

    /// Approximate bytes used, for MEMORY USAGE.
    pub fn approx_size(&self) -> usize {
        match self {
            ZSet::Listpack(lp) => 16 + lp.capacity(),
            ZSet::Skiplist(z) => {
                let members: usize = z.list.iter_from_rank(0, false).map(|(m, _)| m.len()).sum();
                z.scores.bucket_count() * 8 + z.list.len * (48 + 48 + 16) + 2 * members
            }
        }
    }
}

/// The (member, score) pairs of a listpack-encoded set, in order.
fn listpack_pairs(lp: &Listpack) -> impl Iterator<Item = (&[u8], f64)> + '_ {
    let mut entries = lp.iter();
    std::iter::from_fn(move || {
        let member = entries.next()?;
        let score = entries.next()?;
        Some((member, score_of(score)))
    })
}

/// Where (score, member) goes in a listpack set: the header offset of the
/// first pair that sorts after it, or the end.
fn listpack_insert_point(lp: &Listpack, score: f64, member: &[u8]) -> usize {
    let mut slots = lp.slots();
    while let (Some(m), Some(s)) = (slots.next(), slots.next()) {
        if order(score, member, score_of(lp.data(s)), lp.data(m)) == Ordering::Less {
            return m.start;
        }
    }
    lp.byte_len()
}

/// Iterates members with scores, over either encoding.
pub enum ZIter<'a> {
    Small(std::vec::IntoIter<(&'a [u8], f64)>),
    Large(SkipIter<'a>),
}

impl<'a> Iterator for ZIter<'a> {
    type Item = (&'a [u8], f64);

    fn next(&mut self) -> Option<Self::Item> {
        match self {
            ZIter::Small(items) => items.next(),
            ZIter::Large(nodes) => nodes.next(),
        }
    }
}

// ---- the skiplist ------------------------------------------------------------

const MAX_LEVEL: usize = 32;
const NIL: u32 = u32::MAX;
const HEAD: u32 = 0;

#[derive(Debug, Clone, Copy)]
struct Level {
    forward: u32,
    span: u32,
}

#[derive(Debug, Clone)]
struct Node {
    member: Box<[u8]>,
    score: f64,
    backward: u32,
    levels: Box<[Level]>,
}

#[derive(Debug, Clone)]
pub struct SkipList {
    nodes: Vec<Node>,
    free: Vec<u32>,
    tail: u32,
    len: usize,
    level: usize,
}

impl Default for SkipList {
    fn default() -> Self {
        let head = Node {
            member: Box::default(),
            score: 0.0,
            backward: NIL,
            levels: vec![
                Level {
                    forward: NIL,
                    span: 0
                };
                MAX_LEVEL
            ]
            .into_boxed_slice(),
        };
        SkipList {
            nodes: vec![head],
            free: Vec::new(),
            tail: NIL,
            len: 0,
            level: 1,
        }
    }
}

/// Redis's level draw: each extra level with probability 1/4.
fn random_level() -> usize {
    use std::cell::Cell;
    thread_local! {
        static STATE: Cell<u64> = const { Cell::new(0x9e37_79b9_7f4a_7c15) };
    }
    STATE.with(|state| {
        let mut level = 1;
        loop {
            // xorshift64*: cheap and good enough for a coin.
            let mut x = state.get();
            x ^= x >> 12;
            x ^= x << 25;
            x ^= x >> 27;
            state.set(x);
            let draw = (x.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 48) & 0xffff;
            if draw < 0xffff / 4 && level < MAX_LEVEL {
                level += 1;
            } else {
                return level;
            }
        }
    })
}

impl SkipList {
    fn node(&self, index: u32) -> &Node {
        &self.nodes[index as usize]
    }

    fn node_mut(&mut self, index: u32) -> &mut Node {
        &mut self.nodes[index as usize]
    }

    fn forward(&self, index: u32, level: usize) -> u32 {
        self.node(index).levels[level].forward
    }

    fn span(&self, index: u32, level: usize) -> u32 {
        self.node(index).levels[level].span
    }

    fn allocate(&mut self, node: Node) -> u32 {
        match self.free.pop() {
            Some(index) => {
                self.nodes[index as usize] = node;
                index
            }
            None => {
                self.nodes.push(node);
                (self.nodes.len() - 1) as u32
            }
        }
    }

    fn release(&mut self, index: u32) -> Box<[u8]> {
        let node = self.node_mut(index);
        node.levels = Box::default();
        let member = std::mem::take(&mut node.member);
        self.free.push(index);
        member
    }

    /// After deletions: rebuilds the arena once most of it is free slots.
    /// Never called while indexes into the arena are held.
    fn compact_if_sparse(&mut self) {
        if self.free.len() > 64 && self.free.len() > self.len {
            self.compact();
        }
    }

    /// Whether `index`'s node sorts before (score, member).
    fn before(&self, index: u32, score: f64, member: &[u8]) -> bool {
        let node = self.node(index);
        order(node.score, &node.member, score, member) == Ordering::Less
    }

    /// For each level, the last node before (score, member), and the rank of it.
    fn predecessors(&self, score: f64, member: &[u8]) -> ([u32; MAX_LEVEL], [u32; MAX_LEVEL]) {
        let mut update = [HEAD; MAX_LEVEL];
        let mut rank = [0u32; MAX_LEVEL];
        let mut x = HEAD;
        for i in (0..self.level).rev() {
            rank[i] = if i == self.level - 1 { 0 } else { rank[i + 1] };
            loop {
                let next = self.forward(x, i);
                if next == NIL || !self.before(next, score, member) {
                    break;
                }
                rank[i] += self.span(x, i);
                x = next;
            }
            update[i] = x;
        }
        (update, rank)
    }

    /// Inserts a member known to be absent.
    pub fn insert(&mut self, score: f64, member: Box<[u8]>) {
        let (mut update, mut rank) = self.predecessors(score, &member);
        let level = random_level();
        if level > self.level {
            for i in self.level..level {
                rank[i] = 0;
                update[i] = HEAD;
                self.node_mut(HEAD).levels[i].span = self.len as u32;
            }
            self.level = level;
        }
        let node = Node {
            member,
            score,
            backward: NIL,
            levels: vec![
                Level {
                    forward: NIL,
                    span: 0
                };
                level
            ]
            .into_boxed_slice(),
        };
        let x = self.allocate(node);
        for i in 0..level {
            let before = update[i];
            let next = self.forward(before, i);
            let before_span = self.span(before, i);
            let distance = rank[0] - rank[i];
            self.node_mut(x).levels[i] = Level {
                forward: next,
                span: before_span - distance,
            };
            self.node_mut(before).levels[i] = Level {
                forward: x,
                span: distance + 1,
            };
        }
        // Links above the new node's levels now jump over one more node.
        for (i, &before) in update.iter().enumerate().take(self.level).skip(level) {
            self.node_mut(before).levels[i].span += 1;
        }
        self.node_mut(x).backward = if update[0] == HEAD { NIL } else { update[0] };
        let next = self.forward(x, 0);
        if next == NIL {
            self.tail = x;
        } else {
            self.node_mut(next).backward = x;
        }
        self.len += 1;
    }

    /// Unlinks node `x` given its predecessors on every level.
    fn unlink(&mut self, x: u32, update: &[u32; MAX_LEVEL]) {
        for (i, &before) in update.iter().enumerate().take(self.level) {
            if self.forward(before, i) == x {
                let x_level = self.node(x).levels[i];
                let link = &mut self.node_mut(before).levels[i];
                link.span = link.span + x_level.span - 1;
                link.forward = x_level.forward;
            } else {
                self.node_mut(before).levels[i].span -= 1;
            }
        }
        let next = self.forward(x, 0);
        let back = self.node(x).backward;
        if next == NIL {
            self.tail = back;
        } else {
            self.node_mut(next).backward = back;
        }
        while self.level > 1 && self.forward(HEAD, self.level - 1) == NIL {
            self.level -= 1;
        }
        self.len -= 1;
    }

    /// Removes (score, member); true if it was there.
    pub fn delete(&mut self, score: f64, member: &[u8]) -> bool {
        let (update, _) = self.predecessors(score, member);
        let x = self.forward(update[0], 0);
        if x == NIL {
            return false;
        }
        let node = self.node(x);
        if node.score != score || &*node.member != member {
            return false;
        }
        self.unlink(x, &update);
        self.release(x);
        self.compact_if_sparse();
        true
    }

    /// Removes the nodes of 1-based ranks `first..=last`; returns their members.
    fn delete_ranks(&mut self, first: usize, last: usize) -> Vec<Box<[u8]>> {
        let mut update = [HEAD; MAX_LEVEL];
        let mut traversed = 0usize;
        let mut x = HEAD;
        for (i, slot) in update.iter_mut().enumerate().take(self.level).rev() {
            loop {
                let next = self.forward(x, i);
                if next == NIL || traversed + self.span(x, i) as usize >= first {
                    break;
                }
                traversed += self.span(x, i) as usize;
                x = next;
            }
            *slot = x;
        }
        let mut removed = Vec::new();
        let mut x = self.forward(x, 0);
        let mut rank = traversed + 1;
        while x != NIL && rank <= last {
            let next = self.forward(x, 0);
            self.unlink(x, &update);
            removed.push(self.release(x));
            x = next;
            rank += 1;
        }
        self.compact_if_sparse();
        removed
    }

    /// The 1-based rank of (score, member), if present.
    fn rank_of(&self, score: f64, member: &[u8]) -> Option<usize> {
        let mut x = HEAD;
        let mut rank = 0usize;
        for i in (0..self.level).rev() {
            loop {
                let next = self.forward(x, i);
                if next == NIL {
                    break;
                }
                let node = self.node(next);
                if order(node.score, &node.member, score, member) == Ordering::Greater {
                    break;
                }
                rank += self.span(x, i) as usize;
                x = next;
            }
            if x != HEAD && &*self.node(x).member == member {
                return Some(rank);
            }
        }
        None
    }

    /// The node at a 1-based rank.
    fn node_at_rank(&self, rank: usize) -> u32 {
        let mut x = HEAD;
        let mut traversed = 0usize;
        for i in (0..self.level).rev() {
            loop {
                let next = self.forward(x, i);
                if next == NIL || traversed + self.span(x, i) as usize > rank {
                    break;
                }
                traversed += self.span(x, i) as usize;
                x = next;
            }
            if traversed == rank {
                return x;
            }
        }
        NIL
    }

    /// Walks forward past every node `go_past` accepts (they must form a
    /// prefix of the order); returns the last node passed (HEAD if none)
    /// and its 1-based rank (0 for HEAD).
    fn last_before(&self, mut go_past: impl FnMut(&Node) -> bool) -> (u32, usize) {
        let mut x = HEAD;
        let mut rank = 0usize;
        for i in (0..self.level).rev() {
            loop {
                let next = self.forward(x, i);
                if next == NIL || !go_past(self.node(next)) {
                    break;
                }
                rank += self.span(x, i) as usize;
                x = next;
            }
        }
        (x, rank)
    }

    fn first_in_score_range(&self, range: &ScoreRange) -> Option<usize> {
        let (x, rank) = self.last_before(|n| !range.above_min(n.score));
        let first = self.forward(x, 0);
        (first != NIL && range.below_max(self.node(first).score)).then_some(rank)
    }

    fn last_in_score_range(&self, range: &ScoreRange) -> Option<usize> {
        let (x, rank) = self.last_before(|n| range.below_max(n.score));
        (x != HEAD && range.above_min(self.node(x).score)).then(|| rank - 1)
    }

    fn first_in_lex_range(&self, range: &LexRange) -> Option<usize> {
        let (x, rank) = self.last_before(|n| !range.above_min(&n.member));
        let first = self.forward(x, 0);
        (first != NIL && range.below_max(&self.node(first).member)).then_some(rank)
    }

    fn last_in_lex_range(&self, range: &LexRange) -> Option<usize> {
        let (x, rank) = self.last_before(|n| range.below_max(&n.member));
        (x != HEAD && range.above_min(&self.node(x).member)).then(|| rank - 1)
    }

    /// Members from 0-based `rank` on, ascending, or with `reverse` from the
    /// `rank`-th highest down.
    fn iter_from_rank(&self, rank: usize, reverse: bool) -> SkipIter<'_> {
        let start = if rank >= self.len {
            NIL
        } else if reverse {
            self.node_at_rank(self.len - rank)
        } else {
            self.node_at_rank(rank + 1)
        };
        SkipIter {
            list: self,
            next: start,
            reverse,
        }
    }

    /// Rebuilds the arena without its free slots (after many deletions).
    fn compact(&mut self) {
        let mut fresh = SkipList::default();
        let mut x = self.forward(HEAD, 0);
        while x != NIL {
            let next = self.forward(x, 0);
            let node = self.node_mut(x);
            let member = std::mem::take(&mut node.member);
            let score = node.score;
            fresh.insert(score, member);
            x = next;
        }
        *self = fresh;
    }
}

/// Walks skiplist nodes from a start node, forwards or backwards.
pub struct SkipIter<'a> {
    list: &'a SkipList,
    next: u32,
    reverse: bool,
}

impl<'a> Iterator for SkipIter<'a> {
    type Item = (&'a [u8], f64);

    fn next(&mut self) -> Option<Self::Item> {
        if self.next == NIL {
            return None;
        }
        let node = self.list.node(self.next);
        self.next = if self.reverse {
            node.backward
        } else {
            node.levels[0].forward
        };
        Some((&node.member, node.score))
    }
}

/// Whether members of these lengths, each with its score, stay within a
/// listpack's size limit (`Listpack::MAX_BYTES`, as Redis's safety limit).
fn fits_listpack(member_lengths: impl Iterator<Item = usize>) -> bool {
    let mut total = 0usize;
    for len in member_lengths {
        total = total.saturating_add(len + 20);
        if total > Listpack::MAX_BYTES {
            return false;
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> EncodingLimits {
        EncodingLimits::default()
    }

    fn large() -> ZSet {
        ZSet::Skiplist(Box::default())
    }

    fn members(z: &ZSet) -> Vec<(String, f64)> {
        z.iter()
            .map(|(m, s)| (String::from_utf8_lossy(m).into_owned(), s))
            .collect()
    }

    #[test]
    fn both_encodings_agree_on_order_ranks_and_ranges() {
        let mut small = ZSet::new_small();
        let mut big = large();
        let scores = [5.0, 1.0, 3.0, 3.0, -2.0, 8.0, 3.0, 0.0];
        for (i, score) in scores.iter().enumerate() {
            let member = format!("m{}", i);
            for z in [&mut small, &mut big] {
                z.add(member.as_bytes(), *score, AddFlags::default(), &limits())
                    .unwrap();
            }
        }
        assert_eq!(members(&small), members(&big));
        for i in 0..scores.len() {
            let member = format!("m{}", i);
            assert_eq!(small.rank(member.as_bytes()), big.rank(member.as_bytes()));
        }
        let range = ScoreRange {
            min: 0.0,
            max: 3.0,
            min_exclusive: true,
            max_exclusive: false,
        };
        assert_eq!(small.first_rank_in(&range), big.first_rank_in(&range));
        assert_eq!(small.last_rank_in(&range), big.last_rank_in(&range));
        assert_eq!(big.first_rank_in(&range), Some(2));
        assert_eq!(big.last_rank_in(&range), Some(5));
        let top: Vec<_> = big.iter_from(1, true).take(2).map(|(_, s)| s).collect();
        assert_eq!(top, vec![5.0, 3.0]);
        assert_eq!(small.remove_ranks(1, 3), 3);
        assert_eq!(big.remove_ranks(1, 3), 3);
        assert_eq!(members(&small), members(&big));
        assert_eq!(big.len(), 5);
    }

    #[test]
    fn skiplist_ranks_hold_through_many_changes() {
        let mut z = large();
        let mut reference: Vec<(i64, String)> = Vec::new();
        for i in 0..2000i64 {
            let score = (i * 7919) % 1000;
            let member = format!("k{}", i);
            z.add(
                member.as_bytes(),
                score as f64,
                AddFlags::default(),
                &limits(),
            )
            .unwrap();
            reference.push((score, member));
        }
        for i in (0..2000).step_by(3) {
            let member = format!("k{}", i);
            assert!(z.remove(member.as_bytes()));
            reference.retain(|(_, m)| *m != member);
        }
        reference.sort();
        assert_eq!(z.len(), reference.len());
        for (rank, (score, member)) in reference.iter().enumerate().step_by(37) {
            assert_eq!(z.rank(member.as_bytes()), Some(rank));
            let (m, s) = z.at_rank(rank).unwrap();
            assert_eq!((m, s), (member.as_bytes(), *score as f64));
        }
    }

    #[test]
    fn lex_ranges_find_their_ends() {
        let mut z = large();
        for m in ["a", "b", "c", "d", "e"] {
            z.add(m.as_bytes(), 0.0, AddFlags::default(), &limits())
                .unwrap();
        }
        let range = LexRange {
            min: LexBound::Exclusive(b"a".to_vec()),
            max: LexBound::Inclusive(b"d".to_vec()),
        };
        assert_eq!(z.first_rank_in_lex(&range), Some(1));
        assert_eq!(z.last_rank_in_lex(&range), Some(3));
        let empty = LexRange {
            min: LexBound::Exclusive(b"e".to_vec()),
            max: LexBound::Max,
        };
        assert_eq!(z.first_rank_in_lex(&empty), None);
    }

    #[test]
    fn add_flags_follow_redis() {
        let mut z = ZSet::new_small();
        let l = limits();
        let gt = AddFlags {
            gt: true,
            ..AddFlags::default()
        };
        z.add(b"a", 5.0, AddFlags::default(), &l).unwrap();
        assert_eq!(
            z.add(b"a", 3.0, gt, &l),
            Ok((AddOutcome::Skipped, Some(5.0)))
        );
        assert_eq!(
            z.add(b"a", 7.0, gt, &l),
            Ok((AddOutcome::Updated, Some(7.0)))
        );
        let incr = AddFlags {
            incr: true,
            ..AddFlags::default()
        };
        z.add(b"b", f64::INFINITY, AddFlags::default(), &l).unwrap();
        assert_eq!(z.add(b"b", f64::NEG_INFINITY, incr, &l), Err(NanScore));
    }
}
