//! `Table`: the chained hash table under the keyspace and under every large
//! hash, set and sorted set, built so that SCAN keeps Redis's guarantee and
//! so that a key costs as little as possible beside its own bytes.
//!
//! Why not `hashbrown`: SCAN must return every key that is present for the
//! whole scan, even while the table grows or shrinks between calls. Redis
//! gets that from chaining plus a *reverse-binary* cursor: the cursor walks
//! bucket indexes by incrementing their bits from the top down, so when the
//! table doubles (bucket `b` splits into `b` and `b + size`) or halves, every
//! bucket not yet visited at the old size maps to buckets not yet visited at
//! the new size. Open addressing moves entries to arbitrary slots on
//! resize, so no cursor over it can promise that.
//!
//! Why no `next` pointer per element: a bucket is one machine word. It is
//! empty, or it *is* the single element's pointer (the common case at a
//! load factor of at most 1), or it points to a small exact-size array of
//! the elements that collided there (tagged by its low bit). So an element
//! pays nothing for chaining; only collisions pay, once per bucket. The
//! table stores no hashes either: resizing hashes each key again, which is
//! cheap next to the eight bytes per key it saves.
//!
//! Elements are thin owning pointers (`Element`): the keyspace's one-block
//! `Entry` and `Box<Pair<V>>` for the tables inside values (`Dict`). The
//! table resizes all at once (each keyspace shard holds a fraction of the
//! keys, so a resize is short). Knows nothing of values, expiry or commands.

use foldhash::fast::FixedState;
use std::alloc::Layout;
use std::hash::BuildHasher;
use std::marker::PhantomData;

/// What a `Table` holds: an owning pointer to a heap block that contains
/// the element's key.
///
/// # Safety
/// The implementing type must have the layout of one non-null pointer to
/// memory aligned to at least 2 (the table keeps it in a machine word whose
/// low bit is free), and must own what it points to: the table moves it
/// around as that word and drops it exactly once.
pub unsafe trait Element: Sized {
    fn key(&self) -> &[u8];
}

/// An element's word: its pointer, provenance kept (the table tags the
/// low bit of bucket words with `map_addr`, never through integers).
type Word = *mut u8;

fn to_raw<E: Element>(element: E) -> Word {
    const { assert!(std::mem::size_of::<E>() == std::mem::size_of::<Word>()) };
    // SAFETY: E is one pointer (the trait's contract).
    let raw = unsafe { std::mem::transmute_copy::<E, Word>(&element) };
    std::mem::forget(element);
    debug_assert!(!raw.is_null() && raw.addr() & 1 == 0);
    raw
}

/// # Safety
/// `raw` came from `to_raw::<E>` and is taken back exactly once.
unsafe fn from_raw<E: Element>(raw: Word) -> E {
    std::mem::transmute_copy::<Word, E>(&raw)
}

/// Asks the CPU to start loading the block `element` points to.
fn prefetch<E: Element>(element: &E) {
    // SAFETY: an element is one pointer wide (the trait's contract).
    prefetch_address(unsafe { *(element as *const E as *const Word) });
}

/// Asks the CPU to start loading the cache line at `address`.
fn prefetch_address(address: *const u8) {
    // SAFETY: a prefetch never faults, whatever the address.
    #[cfg(target_arch = "x86_64")]
    unsafe {
        std::arch::x86_64::_mm_prefetch(address as *const i8, std::arch::x86_64::_MM_HINT_T0);
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = address;
}

/// A bucket: null (empty), an element's word (low bit 0), or a chain's
/// address with the low bit set. A chain is an exact-size array of element
/// words; one of 2 to 4 elements keeps its length in bits 1 and 2 of the
/// bucket word (so two colliding keys cost a 16-byte block), a longer one
/// in a length word before the elements (bits 1 and 2 clear).
struct Slot<E: Element> {
    raw: Word,
    owns: PhantomData<E>,
}

const CHAIN_TAG: usize = 1;
/// The longest chain whose length lives in the bucket word.
const SHORT_CHAIN: usize = 4;

fn chain_layout(len: usize) -> Layout {
    let words = if len <= SHORT_CHAIN { len } else { len + 1 };
    // Cannot fail for the chain lengths a table can reach (each element is
    // a live allocation).
    match Layout::array::<Word>(words) {
        Ok(layout) => layout,
        Err(_) => panic!("chain of {len} elements"),
    }
}

fn is_chain(raw: Word) -> bool {
    raw.addr() & CHAIN_TAG != 0
}

/// Allocates a chain holding the words of `parts`, in order (at least 2),
/// and returns its bucket word.
fn new_chain(parts: &[&[Word]]) -> Word {
    let len: usize = parts.iter().map(|p| p.len()).sum();
    debug_assert!(len >= 2);
    let layout = chain_layout(len);
    // SAFETY: the layout is non-empty and 8-aligned; every write is inside it.
    unsafe {
        let block = std::alloc::alloc(layout);
        if block.is_null() {
            std::alloc::handle_alloc_error(layout);
        }
        let (elements, tag) = if len <= SHORT_CHAIN {
            (block as *mut Word, (len - 1) << 1)
        } else {
            (block as *mut usize).write(len);
            ((block as *mut Word).add(1), 0)
        };
        for (i, &word) in parts.iter().flat_map(|p| p.iter()).enumerate() {
            elements.add(i).write(word);
        }
        block.map_addr(|a| a | tag | CHAIN_TAG)
    }
}

/// (block, first element, length) of the chain with bucket word `raw`.
///
/// # Safety
/// `raw` is a live chain's bucket word.
unsafe fn chain_parts(raw: Word) -> (*mut u8, *mut Word, usize) {
    let block = raw.map_addr(|a| a & !7);
    match (raw.addr() >> 1) & 3 {
        0 => (block, (block as *mut Word).add(1), *(block as *const usize)),
        short => (block, block as *mut Word, short + 1),
    }
}

/// Frees a chain's block (its elements have been moved out).
///
/// # Safety
/// `raw` is a live chain's bucket word, not used again.
unsafe fn free_chain(raw: Word) {
    let (block, _, len) = chain_parts(raw);
    std::alloc::dealloc(block, chain_layout(len));
}

impl<E: Element> Slot<E> {
    const EMPTY: Slot<E> = Slot {
        raw: std::ptr::null_mut(),
        owns: PhantomData,
    };

    fn elements(&self) -> &[E] {
        match self.raw {
            raw if raw.is_null() => &[],
            raw if !is_chain(raw) => {
                // SAFETY: the word is an element (E is one pointer wide).
                std::slice::from_ref(unsafe { &*(&self.raw as *const Word as *const E) })
            }
            raw => unsafe {
                let (_, elements, len) = chain_parts(raw);
                std::slice::from_raw_parts(elements as *const E, len)
            },
        }
    }

    fn elements_mut(&mut self) -> &mut [E] {
        match self.raw {
            raw if raw.is_null() => &mut [],
            raw if !is_chain(raw) => {
                std::slice::from_mut(unsafe { &mut *(&mut self.raw as *mut Word as *mut E) })
            }
            raw => unsafe {
                let (_, elements, len) = chain_parts(raw);
                std::slice::from_raw_parts_mut(elements as *mut E, len)
            },
        }
    }

    /// The element words, without taking them.
    fn words(&self) -> &[Word] {
        let elements = self.elements();
        // SAFETY: an element is one word.
        unsafe { std::slice::from_raw_parts(elements.as_ptr() as *const Word, elements.len()) }
    }

    fn push(&mut self, element: E) {
        let word = to_raw(element);
        if self.raw.is_null() {
            self.raw = word;
            return;
        }
        let old = self.raw;
        let grown = new_chain(&[self.words(), &[word]]);
        if is_chain(old) {
            unsafe { free_chain(old) };
        }
        self.raw = grown;
    }

    /// Takes out the element at `index` (of `elements()`).
    fn take(&mut self, index: usize) -> E {
        let old = self.raw;
        let words = self.words();
        let taken = words[index];
        self.raw = match words.len() {
            1 => std::ptr::null_mut(),
            2 => words[1 - index],
            _ => new_chain(&[&words[..index], &words[index + 1..]]),
        };
        if is_chain(old) {
            unsafe { free_chain(old) };
        }
        // SAFETY: the word left the bucket and is handed out once.
        unsafe { from_raw(taken) }
    }

    /// Empties the bucket, handing each element to `out`.
    fn drain(&mut self, mut out: impl FnMut(E)) {
        let old = std::mem::replace(&mut self.raw, std::ptr::null_mut());
        match old {
            raw if raw.is_null() => {}
            raw if !is_chain(raw) => out(unsafe { from_raw(raw) }),
            raw => unsafe {
                let (_, elements, len) = chain_parts(raw);
                for i in 0..len {
                    out(from_raw(*elements.add(i)));
                }
                free_chain(raw);
            },
        }
    }
}

impl<E: Element> Drop for Slot<E> {
    fn drop(&mut self) {
        self.drain(drop);
    }
}

// SAFETY: a slot owns its elements as a Vec<E> would.
unsafe impl<E: Element + Send> Send for Slot<E> {}
unsafe impl<E: Element + Sync> Sync for Slot<E> {}

pub struct Table<E: Element> {
    slots: Vec<Slot<E>>,
    len: usize,
    /// At least the length of the longest chain (it may overstate after
    /// removals): the bound that makes `random` fair.
    longest_chain: usize,
    hasher: FixedState,
}

/// What `Table::lookup_mut` found.
pub enum Lookup<'a, E> {
    Missing,
    /// The element failed the liveness test and was removed; here it is.
    Removed(E),
    Live(&'a mut E),
}

const MIN_BUCKETS: usize = 4;

fn process_seed() -> u64 {
    use std::sync::OnceLock;
    static SEED: OnceLock<u64> = OnceLock::new();
    *SEED.get_or_init(rand::random::<u64>)
}

/// The SCAN cursor after `cursor` in a table of `mask + 1` buckets: the
/// bucket index incremented from its top bit down (see the module comment).
pub fn next_cursor(cursor: u64, mask: u64) -> u64 {
    (cursor | !mask)
        .reverse_bits()
        .wrapping_add(1)
        .reverse_bits()
}

impl<E: Element> Default for Table<E> {
    fn default() -> Self {
        Self::new()
    }
}

impl<E: Element> Table<E> {
    pub fn new() -> Self {
        Table {
            slots: Vec::new(),
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
        self.slots.len()
    }

    fn index_of(&self, key: &[u8]) -> usize {
        (self.hasher.hash_one(key) as usize) & (self.slots.len() - 1)
    }

    /// Starts loading the bucket `key` belongs in (see `sample`).
    pub fn prefetch_bucket(&self, key: &[u8]) {
        if let Some(slot) = self.slots.get(self.index_of_or_zero(key)) {
            prefetch_address(slot as *const Slot<E> as *const u8);
        }
    }

    fn index_of_or_zero(&self, key: &[u8]) -> usize {
        if self.slots.is_empty() {
            return 0;
        }
        self.index_of(key)
    }

    /// Bucket and place in it of `key`.
    fn position(&self, key: &[u8]) -> Option<(usize, usize)> {
        if self.len == 0 {
            return None;
        }
        let bucket = self.index_of(key);
        let place = self.slots[bucket]
            .elements()
            .iter()
            .position(|e| e.key() == key)?;
        Some((bucket, place))
    }

    pub fn get(&self, key: &[u8]) -> Option<&E> {
        let (bucket, place) = self.position(key)?;
        self.slots[bucket].elements().get(place)
    }

    pub fn contains_key(&self, key: &[u8]) -> bool {
        self.position(key).is_some()
    }

    pub fn get_mut(&mut self, key: &[u8]) -> Option<&mut E> {
        let (bucket, place) = self.position(key)?;
        self.slots[bucket].elements_mut().get_mut(place)
    }

    /// Finds `key`; if `is_dead` says the element should no longer exist (it
    /// expired), removes it and hands it back instead.
    pub fn lookup_mut(&mut self, key: &[u8], is_dead: impl FnOnce(&E) -> bool) -> Lookup<'_, E> {
        let Some((bucket, place)) = self.position(key) else {
            return Lookup::Missing;
        };
        if is_dead(&self.slots[bucket].elements()[place]) {
            return Lookup::Removed(self.take_at(bucket, place));
        }
        Lookup::Live(&mut self.slots[bucket].elements_mut()[place])
    }

    /// Inserts or replaces the element with the same key; returns the one replaced.
    pub fn insert(&mut self, element: E) -> Option<E> {
        match self.position(element.key()) {
            Some((bucket, place)) => Some(std::mem::replace(
                &mut self.slots[bucket].elements_mut()[place],
                element,
            )),
            None => {
                self.insert_new(element);
                None
            }
        }
    }

    /// Inserts an element whose key is known to be absent.
    pub fn insert_new(&mut self, element: E) -> &mut E {
        self.grow_if_needed();
        let bucket = self.index_of(element.key());
        let slot = &mut self.slots[bucket];
        slot.push(element);
        self.len += 1;
        let chain = slot.elements().len();
        self.longest_chain = self.longest_chain.max(chain);
        let elements = self.slots[bucket].elements_mut();
        let last = elements.len() - 1;
        &mut elements[last]
    }

    pub fn remove(&mut self, key: &[u8]) -> Option<E> {
        let (bucket, place) = self.position(key)?;
        Some(self.take_at(bucket, place))
    }

    fn take_at(&mut self, bucket: usize, place: usize) -> E {
        let element = self.slots[bucket].take(place);
        self.len -= 1;
        self.shrink_if_needed();
        element
    }

    pub fn clear(&mut self) {
        self.slots = Vec::new();
        self.len = 0;
        self.longest_chain = 0;
    }

    fn grow_if_needed(&mut self) {
        if self.slots.is_empty() {
            self.slots.resize_with(MIN_BUCKETS, || Slot::EMPTY);
        } else if self.len >= self.slots.len() {
            self.resize(self.slots.len() * 2);
        }
    }

    fn shrink_if_needed(&mut self) {
        let size = self.slots.len();
        if size > MIN_BUCKETS && self.len * 8 < size {
            let mut target = MIN_BUCKETS;
            while target < self.len {
                target *= 2;
            }
            self.resize(target);
        }
    }

    fn resize(&mut self, new_size: usize) {
        let mut new_slots: Vec<Slot<E>> = Vec::new();
        new_slots.resize_with(new_size, || Slot::EMPTY);
        let mask = new_size - 1;
        let hasher = self.hasher;
        for slot in self.slots.iter_mut() {
            slot.drain(|element| {
                let index = (hasher.hash_one(element.key()) as usize) & mask;
                new_slots[index].push(element);
            });
        }
        self.slots = new_slots;
        self.longest_chain = self
            .slots
            .iter()
            .map(|s| s.elements().len())
            .max()
            .unwrap_or(0);
    }

    /// One SCAN step: visits every element of one bucket and returns the
    /// next cursor (0 when the walk is complete). See the module comment.
    pub fn scan(&self, cursor: u64, mut visit: impl FnMut(&E)) -> u64 {
        if self.slots.is_empty() {
            return 0;
        }
        let mask = (self.slots.len() - 1) as u64;
        for element in self.slots[(cursor & mask) as usize].elements() {
            visit(element);
        }
        next_cursor(cursor, mask)
    }

    /// An element chosen uniformly at random. Rejection sampling: draw a
    /// bucket and a depth below the longest chain, and keep the element
    /// found there if there is one, so every element has the same chance
    /// (picking a random member of a random bucket would favour short chains).
    pub fn random(&self, rng: &mut impl rand::Rng) -> Option<&E> {
        if self.len == 0 {
            return None;
        }
        let depth_bound = self.longest_chain.max(1);
        for _ in 0..1000 {
            let bucket = rng.random_range(0..self.slots.len());
            let depth = rng.random_range(0..depth_bound);
            if let Some(element) = self.slots[bucket].elements().get(depth) {
                return Some(element);
            }
        }
        // A very sparse table: pick by position instead.
        let skip = rng.random_range(0..self.len);
        self.iter().nth(skip)
    }

    /// Up to `count` elements from a run of neighbouring buckets that starts
    /// at a random one (Redis's `dictGetSomeKeys`): cheap, and random enough
    /// for eviction sampling, though not uniform. Looks at no more than
    /// `count * 10` buckets, so a sparse table costs little too. The buckets
    /// are read first and every element found is prefetched before any is
    /// visited, so the cache misses on the elements overlap instead of
    /// following one another (they are most of what eviction costs).
    pub fn sample(&self, rng: &mut impl rand::Rng, count: usize, mut visit: impl FnMut(&E)) {
        const BATCH: usize = 16;
        if self.len == 0 || count == 0 {
            return;
        }
        let mask = self.slots.len() - 1;
        let mut bucket = rng.random_range(0..self.slots.len());
        let mut batch: [Option<&E>; BATCH] = [None; BATCH];
        let mut batched = 0;
        let mut found = 0;
        let mut flush = |batch: &mut [Option<&E>; BATCH], batched: &mut usize| {
            for element in batch[..*batched].iter_mut().filter_map(Option::take) {
                visit(element);
            }
            *batched = 0;
        };
        'buckets: for _ in 0..self.slots.len().min(count * 10) {
            for element in self.slots[bucket].elements() {
                prefetch(element);
                batch[batched] = Some(element);
                batched += 1;
                found += 1;
                if found == count {
                    break 'buckets;
                }
                if batched == BATCH {
                    flush(&mut batch, &mut batched);
                }
            }
            bucket = (bucket + 1) & mask;
        }
        flush(&mut batch, &mut batched);
    }

    pub fn iter(&self) -> impl Iterator<Item = &E> {
        self.slots.iter().flat_map(|slot| slot.elements().iter())
    }

    /// Moves every element out, leaving the table empty.
    pub fn drain(&mut self) -> Vec<E> {
        let mut out = Vec::with_capacity(self.len);
        for slot in self.slots.iter_mut() {
            slot.drain(|element| out.push(element));
        }
        self.clear();
        out
    }
}

impl<E: Element> std::fmt::Debug for Table<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Table({} elements)", self.len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    /// A test element: a boxed key.
    struct Key(Box<Box<[u8]>>);

    unsafe impl Element for Key {
        fn key(&self) -> &[u8] {
            &self.0
        }
    }

    fn key(text: &str) -> Key {
        Key(Box::new(Box::from(text.as_bytes())))
    }

    #[test]
    fn insert_get_remove_through_collisions_and_resizes() {
        let mut t = Table::new();
        for i in 0..5000u32 {
            assert!(t.insert(key(&i.to_string())).is_none());
        }
        assert_eq!(t.len(), 5000);
        assert!(t.insert(key("77")).is_some());
        assert_eq!(t.len(), 5000);
        assert_eq!(t.iter().count(), 5000);
        // With 5000 keys in at most 8192 buckets some buckets hold chains.
        assert!(t.longest_chain >= 2);
        for i in (0..5000u32).step_by(2) {
            assert!(t.remove(i.to_string().as_bytes()).is_some());
        }
        for i in 0..5000u32 {
            assert_eq!(t.contains_key(i.to_string().as_bytes()), i % 2 == 1);
        }
        for i in 0..5000u32 {
            t.remove(i.to_string().as_bytes());
        }
        assert!(t.is_empty());
        assert!(t.bucket_count() <= 8);
    }

    #[test]
    fn a_bucket_holds_short_and_long_chains() {
        let mut slot: Slot<Key> = Slot::EMPTY;
        let names: Vec<String> = (0..7).map(|i| format!("k{i}")).collect();
        for (n, name) in names.iter().enumerate() {
            slot.push(key(name));
            let held: Vec<&[u8]> = slot.elements().iter().map(|e| e.key()).collect();
            let expected: Vec<&[u8]> = names[..=n].iter().map(|n| n.as_bytes()).collect();
            assert_eq!(held, expected);
        }
        // Take from the middle, the front and the back down to empty, across
        // the long (length word) and short (length in the bucket) forms.
        let mut left: Vec<String> = names.clone();
        for index in [3, 0, 4, 1, 2, 0, 0] {
            let taken = slot.take(index);
            assert_eq!(taken.key(), left.remove(index).as_bytes());
            let mut held: Vec<Vec<u8>> = slot.elements().iter().map(|e| e.key().to_vec()).collect();
            let mut expected: Vec<Vec<u8>> = left.iter().map(|n| n.as_bytes().to_vec()).collect();
            held.sort();
            expected.sort();
            assert_eq!(held, expected);
        }
        assert!(slot.raw.is_null());
    }

    #[test]
    fn lookup_removes_what_the_test_calls_dead() {
        let mut t = Table::new();
        t.insert(key("a"));
        t.insert(key("b"));
        assert!(matches!(t.lookup_mut(b"a", |_| true), Lookup::Removed(_)));
        assert!(matches!(t.lookup_mut(b"a", |_| false), Lookup::Missing));
        assert!(matches!(t.lookup_mut(b"b", |_| false), Lookup::Live(_)));
        assert_eq!(t.len(), 1);
    }

    #[test]
    fn sample_and_random_visit_present_elements() {
        let mut t = Table::new();
        let mut rng = rand::rng();
        assert!(t.random(&mut rng).is_none());
        for i in 0..1000u32 {
            t.insert(key(&i.to_string()));
        }
        for _ in 0..100 {
            let mut seen = HashSet::new();
            t.sample(&mut rng, 5, |e| {
                assert!(t.contains_key(e.key()));
                seen.insert(e.key().to_vec());
            });
            assert_eq!(seen.len(), 5);
            let picked = t.random(&mut rng).map(|e| e.key().to_vec());
            assert!(picked.is_some_and(|k| t.contains_key(&k)));
        }
        let drained = t.drain();
        assert_eq!(drained.len(), 1000);
        assert!(t.is_empty());
    }

    #[test]
    fn scan_sees_every_key_present_throughout_while_table_resizes() {
        let mut t = Table::new();
        for i in 0..500u32 {
            t.insert(key(&format!("stable:{i}")));
        }
        let mut seen = HashSet::new();
        let mut cursor = 0;
        let mut step = 0u32;
        loop {
            cursor = t.scan(cursor, |e| {
                seen.insert(e.key().to_vec());
            });
            // Grow, then shrink, the table between steps.
            if step < 200 {
                for j in 0..20 {
                    t.insert(key(&format!("extra:{step}:{j}")));
                }
            } else {
                for s in 0..200 {
                    for j in 0..20 {
                        t.remove(format!("extra:{s}:{j}").as_bytes());
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
