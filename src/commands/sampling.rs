//! Random picks with Redis's rules for a COUNT argument, shared by
//! HRANDFIELD, SRANDMEMBER, ZRANDMEMBER and SPOP.
//!
//! A negative count asks for that many picks that may repeat; a positive
//! one for distinct members, all of them when it reaches the size. For
//! distinct picks Redis switches strategy with the ratio of count to size:
//! when the count is close to the size it copies everything and drops random
//! members until the count is left (cheaper than rejecting repeats), and
//! otherwise it draws until it has enough distinct ones. The same is done
//! here, over whatever the caller's collection is, through two closures: one
//! that draws a random member, one that lists them all.

use std::collections::HashSet;

/// Past `count * SUB_STRATEGY_MUL > size`, copy everything and remove
/// instead of drawing (Redis's `*_SUB_STRATEGY_MUL`).
const SUB_STRATEGY_MUL: u64 = 3;

/// Members picked for `count` from a collection of `len`: `random` draws
/// one member, `all` lists every member.
pub fn sample<R: rand::Rng>(
    len: usize,
    count: i64,
    rng: &mut R,
    mut random: impl FnMut(&mut R) -> Vec<u8>,
    all: impl FnOnce() -> Vec<Vec<u8>>,
) -> Vec<Vec<u8>> {
    if len == 0 || count == 0 {
        return Vec::new();
    }
    if count < 0 {
        let picks = count.unsigned_abs();
        return (0..picks).map(|_| random(rng)).collect();
    }
    let count = count as u64;
    if count >= len as u64 {
        return all();
    }
    if count * SUB_STRATEGY_MUL > len as u64 {
        let mut members = all();
        while members.len() as u64 > count {
            let drop = rng.random_range(0..members.len());
            members.swap_remove(drop);
        }
        return members;
    }
    let mut seen = HashSet::with_capacity(count as usize);
    let mut picked = Vec::with_capacity(count as usize);
    while (picked.len() as u64) < count {
        let member = random(rng);
        if seen.insert(member.clone()) {
            picked.push(member);
        }
    }
    picked
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::Rng;

    fn members(n: usize) -> Vec<Vec<u8>> {
        (0..n).map(|i| i.to_string().into_bytes()).collect()
    }

    fn run(len: usize, count: i64) -> Vec<Vec<u8>> {
        let all = members(len);
        let mut rng = rand::rng();
        sample(
            len,
            count,
            &mut rng,
            |rng| all[rng.random_range(0..len)].clone(),
            || all.clone(),
        )
    }

    #[test]
    fn counts_follow_redis() {
        assert!(run(10, 0).is_empty());
        assert_eq!(run(10, -25).len(), 25);
        assert_eq!(run(10, 10).len(), 10);
        assert_eq!(run(10, 50).len(), 10);
        for count in [1, 3, 5, 9] {
            let picked = run(10, count);
            let distinct: HashSet<_> = picked.iter().collect();
            assert_eq!(picked.len(), count as usize);
            assert_eq!(distinct.len(), count as usize);
        }
        assert!(run(0, 5).is_empty());
    }
}
