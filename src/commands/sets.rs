//! The set family: SADD, SREM, SCARD, SISMEMBER/SMISMEMBER, SMEMBERS,
//! SRANDMEMBER, SPOP, SMOVE, the algebra (SINTER, SINTERCARD, SUNION, SDIFF
//! and their STORE forms) and SSCAN.
//!
//! The algebra follows Redis's algorithms, which also fix the order of the
//! reply for integer sets: intersections walk the smallest set testing the
//! others, unions and differences build a fresh set (an intset while every
//! member is an integer, so its members come out in ascending order).
//! Missing keys are empty sets; an empty result deletes a STORE destination.

use super::keys::{scan_collection, write_scan_reply, ScanOptions};
use super::{parse_int, parse_range_int, sampling, Ctx};
use crate::errors::{CommandError, CommandResult};
use crate::protocol::Args;
use crate::storage::Entry;
use crate::storage::{class, Contents, EncodingLimits, Set, Value};

fn new_set_for(member: &[u8]) -> impl FnOnce() -> Value + '_ {
    move || Value::Set(Box::new(Set::for_member(member)))
}

/// Writes members as a set reply (RESP3 `~`, an array in RESP2).
fn write_set<T: AsRef<[u8]>>(ctx: &mut Ctx, members: &[T]) {
    ctx.reply.set_len(members.len());
    for member in members {
        ctx.reply.bulk(member.as_ref());
    }
}

pub fn sadd(ctx: &mut Ctx, args: Args) -> CommandResult {
    let limits = ctx.limits();
    let set = ctx
        .keys
        .write_or_create_as(&args[1], Entry::as_set_mut, new_set_for(&args[2]))?;
    let added = args
        .from(2)
        .iter()
        .filter(|member| set.insert(member, &limits))
        .count();
    if added > 0 {
        ctx.notify(class::SET, "sadd", &args[1]);
    }
    ctx.reply.integer(added as i64);
    Ok(())
}

pub fn srem(ctx: &mut Ctx, args: Args) -> CommandResult {
    let removed = super::remove_members(
        ctx,
        &args[1],
        args.from(2),
        &super::MemberRemoval {
            pick: Entry::as_set_mut,
            contains: Set::contains,
            remove: Set::remove,
            event_class: class::SET,
            event: "srem",
        },
    )?;
    ctx.reply.integer(removed);
    Ok(())
}

pub fn scard(ctx: &mut Ctx, args: Args) -> CommandResult {
    let len = ctx
        .keys
        .lookup_read(&args[1], Entry::as_set_mut)?
        .map_or(0, |s| s.len());
    ctx.reply.integer(len as i64);
    Ok(())
}

pub fn sismember(ctx: &mut Ctx, args: Args) -> CommandResult {
    let found = ctx
        .keys
        .lookup_read(&args[1], Entry::as_set_mut)?
        .is_some_and(|s| s.contains(&args[2]));
    ctx.reply.integer(i64::from(found));
    Ok(())
}

pub fn smismember(ctx: &mut Ctx, args: Args) -> CommandResult {
    let set = ctx.keys.lookup_read(&args[1], Entry::as_set_mut)?;
    let set: Option<&Set> = set.map(|s| &*s);
    let members = args.from(2);
    ctx.reply.array_len(members.len());
    for member in members.iter() {
        let found = set.is_some_and(|s| s.contains(member));
        ctx.reply.integer(i64::from(found));
    }
    Ok(())
}

pub fn smembers(ctx: &mut Ctx, args: Args) -> CommandResult {
    let members: Vec<Vec<u8>> = match ctx.keys.lookup_read(&args[1], Entry::as_set_mut)? {
        Some(set) => set.iter().map(|m| m.into_owned()).collect(),
        None => Vec::new(),
    };
    write_set(ctx, &members);
    Ok(())
}

/// Members of `set` for a COUNT argument, with Redis's rules (see `sampling`).
fn sample_members(set: &Set, count: i64) -> Vec<Vec<u8>> {
    let mut rng = rand::rng();
    sampling::sample(
        set.len(),
        count,
        &mut rng,
        |rng| set.random_member(rng).unwrap_or_default(),
        || set.iter().map(|m| m.into_owned()).collect(),
    )
}

pub fn srandmember(ctx: &mut Ctx, args: Args) -> CommandResult {
    match args.len() {
        2 => {
            let member = ctx
                .keys
                .lookup_read(&args[1], Entry::as_set_mut)?
                .and_then(|set| set.random_member(&mut rand::rng()));
            match member {
                Some(member) => ctx.reply.bulk(&member),
                None => ctx.reply.null(),
            }
        }
        3 => {
            let count = parse_range_int(&args[2], -i64::MAX, i64::MAX)?;
            let members = match ctx.keys.lookup_read(&args[1], Entry::as_set_mut)? {
                Some(set) => sample_members(set, count),
                None => Vec::new(),
            };
            ctx.reply.array_len(members.len());
            for member in &members {
                ctx.reply.bulk(member);
            }
        }
        _ => return Err(CommandError::Syntax),
    }
    Ok(())
}

pub fn spop(ctx: &mut Ctx, args: Args) -> CommandResult {
    let key = &args[1];
    match args.len() {
        2 => {
            let Some(set) = ctx.keys.write_as(key, Entry::as_set_mut)? else {
                ctx.reply.null();
                return Ok(());
            };
            let member = set.random_member(&mut rand::rng());
            if let Some(member) = &member {
                set.remove(member);
            }
            // Redis: `spop`, the reply, then `del` if the set emptied.
            ctx.notify(class::SET, "spop", key);
            match &member {
                Some(member) => ctx.reply.bulk(member),
                None => ctx.reply.null(),
            }
            if ctx.keys.remove_if_empty(key) {
                ctx.notify(class::GENERIC, "del", key);
            }
        }
        3 => {
            let count = parse_int(&args[2])
                .ok()
                .filter(|n| *n >= 0)
                .ok_or_else(|| CommandError::err("value is out of range, must be positive"))?;
            let limits = ctx.limits();
            let Some(set) = ctx.keys.write_as(key, Entry::as_set_mut)? else {
                ctx.reply.set_len(0);
                return Ok(());
            };
            let everything = count as u64 >= set.len() as u64;
            let popped = if everything {
                // Everything goes: Redis answers with a copy of the whole set.
                let whole = union_of(&[Some(&*set)], &limits);
                whole.iter().map(|m| m.into_owned()).collect()
            } else {
                let popped = sample_members(set, count);
                for member in &popped {
                    set.remove(member);
                }
                popped
            };
            if everything {
                ctx.notify(class::SET, "spop", key);
                ctx.keys.remove(key);
                ctx.notify(class::GENERIC, "del", key);
            } else if count > 0 {
                notify_popped(ctx, key);
            }
            write_set(ctx, &popped);
        }
        _ => return Err(CommandError::Syntax),
    }
    Ok(())
}

pub fn smove(ctx: &mut Ctx, args: Args) -> CommandResult {
    let (source, destination, member) = (&args[1], &args[2], &args[3]);
    if ctx.keys.peek(source).is_none() {
        ctx.reply.integer(0);
        return Ok(());
    }
    ctx.keys.read_as(source, Entry::as_set_mut)?;
    ctx.keys.read_as(destination, Entry::as_set_mut)?;
    if source == destination {
        let found = ctx
            .keys
            .read_as(source, Entry::as_set_mut)?
            .is_some_and(|s| s.contains(member));
        ctx.reply.integer(i64::from(found));
        return Ok(());
    }
    let removed = match ctx.keys.read_as(source, Entry::as_set_mut)? {
        Some(set) if set.contains(member) => {
            if let Some(set) = ctx.keys.write_as(source, Entry::as_set_mut)? {
                set.remove(member);
            }
            true
        }
        _ => false,
    };
    if !removed {
        ctx.reply.integer(0);
        return Ok(());
    }
    ctx.notify(class::SET, "srem", source);
    if ctx.keys.remove_if_empty(source) {
        ctx.notify(class::GENERIC, "del", source);
    }
    let limits = ctx.limits();
    let already = ctx
        .keys
        .read_as(destination, Entry::as_set_mut)?
        .is_some_and(|s| s.contains(member));
    if !already {
        ctx.keys
            .write_or_create_as(destination, Entry::as_set_mut, new_set_for(member))?
            .insert(member, &limits);
        ctx.notify(class::SET, "sadd", destination);
    }
    ctx.reply.integer(1);
    Ok(())
}

// ---- algebra -------------------------------------------------------------------

/// The sets at `keys` (None for a missing key); WRONGTYPE if any is not a set.
fn load_sets<'v>(ctx: &'v mut Ctx, keys: &Args) -> Result<Vec<Option<&'v Set>>, CommandError> {
    let names: Vec<&[u8]> = keys.iter().collect();
    ctx.keys
        .lookup_read_many(&names)
        .into_iter()
        .map(|value| match value {
            None => Ok(None),
            Some(Contents::Set(set)) => Ok(Some(set)),
            Some(_) => Err(CommandError::WrongType),
        })
        .collect()
}

/// Members of every set, in the order Redis finds them: walking the
/// smallest and testing the rest. Stops after `limit` (0: no limit).
fn intersection(sets: &[Option<&Set>], limit: usize) -> Vec<Vec<u8>> {
    if sets.iter().any(|s| s.is_none()) {
        return Vec::new();
    }
    let mut order: Vec<&Set> = sets.iter().flatten().copied().collect();
    order.sort_by_key(|s| s.len());
    let Some((first, rest)) = order.split_first() else {
        return Vec::new();
    };
    let mut members = Vec::new();
    for member in first.iter() {
        if rest.iter().all(|s| s.contains(&member)) {
            members.push(member.into_owned());
            if limit != 0 && members.len() >= limit {
                break;
            }
        }
    }
    members
}

/// Every member of any set, as a fresh set.
fn union_of(sets: &[Option<&Set>], limits: &EncodingLimits) -> Set {
    let mut result = Set::default();
    for set in sets.iter().flatten() {
        for member in set.iter() {
            result.insert(&member, limits);
        }
    }
    result
}

/// The members of the first set that no other set has, as a fresh set.
fn difference(sets: &[Option<&Set>], limits: &EncodingLimits) -> Set {
    let mut result = Set::default();
    let Some(Some(first)) = sets.first() else {
        return result;
    };
    let others: Vec<&Set> = sets[1..].iter().flatten().copied().collect();
    for member in first.iter() {
        if !others.iter().any(|s| s.contains(&member)) {
            result.insert(&member, limits);
        }
    }
    result
}

/// Which set operation SUNION/SDIFF and their STORE forms run.
#[derive(Clone, Copy)]
enum Algebra {
    Union,
    Difference,
}

fn combine(ctx: &mut Ctx, keys: &Args, op: Algebra) -> Result<Set, CommandError> {
    let limits = ctx.limits();
    let refs = load_sets(ctx, keys)?;
    // The same key twice in SDIFF: the first set minus itself is empty.
    if let Algebra::Difference = op {
        let first = &keys[0];
        if keys.iter().skip(1).any(|k| k == first) && refs[0].is_some() {
            return Ok(Set::default());
        }
    }
    Ok(match op {
        Algebra::Union => union_of(&refs, &limits),
        Algebra::Difference => difference(&refs, &limits),
    })
}

/// Stores `result` at `destination` (deleting it when empty) and answers
/// its size (first, unless `answer_first` is false).
fn store_set(
    ctx: &mut Ctx,
    destination: &[u8],
    result: Set,
    event: &'static str,
    answer_first: bool,
) {
    let result = Value::Set(Box::new(result));
    super::store_result(ctx, destination, result, (class::SET, event), answer_first);
}

/// SPOP's events: `spop`, then `del` if the set emptied.
fn notify_popped(ctx: &mut Ctx, key: &[u8]) {
    ctx.notify(class::SET, "spop", key);
    if ctx.keys.remove_if_empty(key) {
        ctx.notify(class::GENERIC, "del", key);
    }
}

pub fn sinter(ctx: &mut Ctx, args: Args) -> CommandResult {
    let members = intersection(&load_sets(ctx, &args.from(1))?, 0);
    write_set(ctx, &members);
    Ok(())
}

pub fn sinterstore(ctx: &mut Ctx, args: Args) -> CommandResult {
    let limits = ctx.limits();
    let sets = load_sets(ctx, &args.from(2))?;
    // Redis takes a shortcut when a source is missing or empty, and then
    // deletes the destination before answering rather than after.
    let answer_first = sets.iter().all(|s| s.is_some_and(|s| !s.is_empty()));
    let members = intersection(&sets, 0);
    let mut result = Set::default();
    for member in members {
        result.insert(&member, &limits);
    }
    store_set(ctx, &args[1], result, "sinterstore", answer_first);
    Ok(())
}

pub fn sintercard(ctx: &mut Ctx, args: Args) -> CommandResult {
    let numkeys = parse_int(&args[1])
        .ok()
        .filter(|n| *n >= 1)
        .ok_or_else(|| CommandError::err("numkeys should be greater than 0"))?;
    if numkeys as u64 > (args.len() - 2) as u64 {
        return Err(CommandError::err(
            "Number of keys can't be greater than number of args",
        ));
    }
    let end = 2 + numkeys as usize;
    let mut limit = 0usize;
    let mut i = end;
    while i < args.len() {
        if crate::util::eq_ignore_case(&args[i], "limit") && i + 1 < args.len() {
            limit = parse_int(&args[i + 1])
                .ok()
                .and_then(|n| usize::try_from(n).ok())
                .ok_or_else(|| CommandError::err("LIMIT can't be negative"))?;
            i += 2;
        } else {
            return Err(CommandError::Syntax);
        }
    }
    let count = intersection(&load_sets(ctx, &args.slice(2, end))?, limit).len();
    ctx.reply.integer(count as i64);
    Ok(())
}

pub fn sunion(ctx: &mut Ctx, args: Args) -> CommandResult {
    let result = combine(ctx, &args.from(1), Algebra::Union)?;
    let members: Vec<Vec<u8>> = result.iter().map(|m| m.into_owned()).collect();
    write_set(ctx, &members);
    Ok(())
}

pub fn sunionstore(ctx: &mut Ctx, args: Args) -> CommandResult {
    let result = combine(ctx, &args.from(2), Algebra::Union)?;
    store_set(ctx, &args[1], result, "sunionstore", true);
    Ok(())
}

pub fn sdiff(ctx: &mut Ctx, args: Args) -> CommandResult {
    let result = combine(ctx, &args.from(1), Algebra::Difference)?;
    let members: Vec<Vec<u8>> = result.iter().map(|m| m.into_owned()).collect();
    write_set(ctx, &members);
    Ok(())
}

pub fn sdiffstore(ctx: &mut Ctx, args: Args) -> CommandResult {
    let result = combine(ctx, &args.from(2), Algebra::Difference)?;
    store_set(ctx, &args[1], result, "sdiffstore", true);
    Ok(())
}

pub fn sscan(ctx: &mut Ctx, args: Args) -> CommandResult {
    let options = ScanOptions::parse(args, 2, false)?;
    let Some(set) = ctx.keys.lookup_read(&args[1], Entry::as_set_mut)? else {
        write_scan_reply::<&[u8]>(ctx, 0, &[]);
        return Ok(());
    };
    let set: &Set = set;
    let mut items = Vec::new();
    let cursor = scan_collection(&options, 1, &mut items, |cursor, items| {
        set.scan(cursor, |member| items.push(member.to_vec()))
    });
    write_scan_reply(ctx, cursor, &items);
    Ok(())
}
