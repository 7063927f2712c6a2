//! The hash family: HSET/HMSET/HSETNX, HGET/HMGET, HDEL, HLEN, HSTRLEN,
//! HEXISTS, HKEYS/HVALS/HGETALL, HINCRBY/HINCRBYFLOAT, HRANDFIELD and HSCAN.
//!
//! Handlers work on the locked `KeyView` through `storage::Hash` and write
//! through the `ReplyWriter`; an emptied hash is deleted, as in Redis.

use super::keys::{scan_collection, write_scan_reply, ScanOptions};
use super::{parse_int, sampling, Ctx};
use crate::errors::{CommandError, CommandResult};
use crate::protocol::Args;
use crate::storage::Entry;
use crate::storage::{class, Hash, Value};
use crate::util::c_numbers::{self, IncrementError};

fn new_hash() -> Value {
    Value::Hash(Hash::default())
}

/// HSET and HMSET: field/value pairs from argument 2 on. Returns how many
/// fields were new.
fn set_pairs(ctx: &mut Ctx, args: Args) -> Result<i64, CommandError> {
    if args.len() % 2 == 1 {
        return Err(CommandError::WrongArity(
            String::from_utf8_lossy(&args[0]).to_lowercase(),
        ));
    }
    let limits = ctx.limits();
    let hash = ctx
        .keys
        .write_or_create_as(&args[1], Entry::as_hash_mut, new_hash)?;
    let mut added = 0;
    let mut i = 2;
    while i + 1 < args.len() {
        if hash.insert(&args[i], &args[i + 1], &limits) {
            added += 1;
        }
        i += 2;
    }
    Ok(added)
}

// Redis answers the hash writes first, then notifies.

pub fn hset(ctx: &mut Ctx, args: Args) -> CommandResult {
    let added = set_pairs(ctx, args)?;
    ctx.reply.integer(added);
    ctx.notify(class::HASH, "hset", &args[1]);
    Ok(())
}

pub fn hmset(ctx: &mut Ctx, args: Args) -> CommandResult {
    set_pairs(ctx, args)?;
    ctx.reply.ok();
    ctx.notify(class::HASH, "hset", &args[1]);
    Ok(())
}

pub fn hsetnx(ctx: &mut Ctx, args: Args) -> CommandResult {
    let limits = ctx.limits();
    if let Some(hash) = ctx.keys.read_as(&args[1], Entry::as_hash_mut)? {
        if hash.contains(&args[2]) {
            ctx.reply.integer(0);
            return Ok(());
        }
    }
    let hash = ctx
        .keys
        .write_or_create_as(&args[1], Entry::as_hash_mut, new_hash)?;
    hash.insert(&args[2], &args[3], &limits);
    ctx.reply.integer(1);
    ctx.notify(class::HASH, "hset", &args[1]);
    Ok(())
}

pub fn hget(ctx: &mut Ctx, args: Args) -> CommandResult {
    match ctx
        .keys
        .lookup_read(&args[1], Entry::as_hash_mut)?
        .and_then(|hash| hash.get(&args[2]))
    {
        Some(value) => ctx.reply.bulk(value),
        None => ctx.reply.null(),
    }
    Ok(())
}

pub fn hmget(ctx: &mut Ctx, args: Args) -> CommandResult {
    let fields = args.from(2);
    let hash = ctx.keys.lookup_read(&args[1], Entry::as_hash_mut)?;
    let hash: Option<&Hash> = hash.map(|h| &*h);
    ctx.reply.array_len(fields.len());
    for field in fields.iter() {
        match hash.and_then(|h| h.get(field)) {
            Some(value) => ctx.reply.bulk(value),
            None => ctx.reply.null(),
        }
    }
    Ok(())
}

pub fn hdel(ctx: &mut Ctx, args: Args) -> CommandResult {
    let deleted = super::remove_members(
        ctx,
        &args[1],
        args.from(2),
        &super::MemberRemoval {
            pick: Entry::as_hash_mut,
            contains: Hash::contains,
            remove: Hash::remove,
            event_class: class::HASH,
            event: "hdel",
        },
    )?;
    ctx.reply.integer(deleted);
    Ok(())
}

pub fn hlen(ctx: &mut Ctx, args: Args) -> CommandResult {
    let len = ctx
        .keys
        .lookup_read(&args[1], Entry::as_hash_mut)?
        .map_or(0, |h| h.len());
    ctx.reply.integer(len as i64);
    Ok(())
}

pub fn hstrlen(ctx: &mut Ctx, args: Args) -> CommandResult {
    let len = ctx
        .keys
        .lookup_read(&args[1], Entry::as_hash_mut)?
        .and_then(|h| h.get(&args[2]).map(|v| v.len()))
        .unwrap_or(0);
    ctx.reply.integer(len as i64);
    Ok(())
}

pub fn hexists(ctx: &mut Ctx, args: Args) -> CommandResult {
    let exists = ctx
        .keys
        .lookup_read(&args[1], Entry::as_hash_mut)?
        .is_some_and(|h| h.contains(&args[2]));
    ctx.reply.integer(i64::from(exists));
    Ok(())
}

/// Which halves of each pair HKEYS, HVALS and HGETALL answer.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Halves {
    Fields,
    Values,
    Both,
}

fn get_all(ctx: &mut Ctx, args: Args, halves: Halves) -> CommandResult {
    let Some(hash) = ctx.keys.lookup_read(&args[1], Entry::as_hash_mut)? else {
        match halves {
            Halves::Both => ctx.reply.map_len(0),
            _ => ctx.reply.array_len(0),
        }
        return Ok(());
    };
    let hash: &Hash = hash;
    match halves {
        Halves::Both => ctx.reply.map_len(hash.len()),
        _ => ctx.reply.array_len(hash.len()),
    }
    for (field, value) in hash.iter() {
        if halves != Halves::Values {
            ctx.reply.bulk(field);
        }
        if halves != Halves::Fields {
            ctx.reply.bulk(value);
        }
    }
    Ok(())
}

pub fn hkeys(ctx: &mut Ctx, args: Args) -> CommandResult {
    get_all(ctx, args, Halves::Fields)
}

pub fn hvals(ctx: &mut Ctx, args: Args) -> CommandResult {
    get_all(ctx, args, Halves::Values)
}

pub fn hgetall(ctx: &mut Ctx, args: Args) -> CommandResult {
    get_all(ctx, args, Halves::Both)
}

pub fn hincrby(ctx: &mut Ctx, args: Args) -> CommandResult {
    let increment = parse_int(&args[3])?;
    let limits = ctx.limits();
    let hash = ctx
        .keys
        .write_or_create_as(&args[1], Entry::as_hash_mut, new_hash)?;
    let current = match hash.get(&args[2]) {
        None => 0,
        Some(text) => crate::util::parse_i64(text)
            .ok_or_else(|| CommandError::err("hash value is not an integer"))?,
    };
    let next = current
        .checked_add(increment)
        .ok_or(CommandError::Overflow)?;
    let mut buffer = [0u8; 20];
    let text = crate::protocol::reply::format_i64(next, &mut buffer);
    hash.insert(&args[2], text, &limits);
    ctx.reply.integer(next);
    ctx.notify(class::HASH, "hincrby", &args[1]);
    Ok(())
}

pub fn hincrbyfloat(ctx: &mut Ctx, args: Args) -> CommandResult {
    c_numbers::check_increment(&args[3]).map_err(|error| match error {
        IncrementError::IncrementNotFinite => CommandError::err("value is NaN or Infinity"),
        _ => CommandError::NotFloat,
    })?;
    let limits = ctx.limits();
    let hash = ctx
        .keys
        .write_or_create_as(&args[1], Entry::as_hash_mut, new_hash)?;
    let text =
        c_numbers::increment(hash.get(&args[2]), &args[3], true).map_err(|error| match error {
            IncrementError::BadCurrent => CommandError::err("hash value is not a float"),
            IncrementError::BadIncrement => CommandError::NotFloat,
            IncrementError::IncrementNotFinite => CommandError::err("value is NaN or Infinity"),
            IncrementError::ResultNotFinite => CommandError::IncrNanOrInf,
        })?;
    hash.insert(&args[2], &text, &limits);
    ctx.reply.bulk(&text);
    ctx.notify(class::HASH, "hincrbyfloat", &args[1]);
    Ok(())
}

pub fn hrandfield(ctx: &mut Ctx, args: Args) -> CommandResult {
    let Some((count, with_values)) = super::parse_random_count(args, "withvalues")? else {
        match ctx.keys.lookup_read(&args[1], Entry::as_hash_mut)? {
            None => ctx.reply.null(),
            Some(hash) => {
                let mut rng = rand::rng();
                match hash.random_pair(&mut rng) {
                    Some((field, _)) => ctx.reply.bulk(field),
                    None => ctx.reply.null(),
                }
            }
        }
        return Ok(());
    };
    let Some(hash) = ctx.keys.lookup_read(&args[1], Entry::as_hash_mut)? else {
        ctx.reply.array_len(0);
        return Ok(());
    };
    let hash: &Hash = hash;
    let mut rng = rand::rng();
    let fields = sampling::sample(
        hash.len(),
        count,
        &mut rng,
        |rng| {
            hash.random_pair(rng)
                .map(|(f, _)| f.to_vec())
                .unwrap_or_default()
        },
        || hash.iter().map(|(f, _)| f.to_vec()).collect(),
    );
    let resp3 = ctx.reply.is_resp3();
    if with_values && !resp3 {
        ctx.reply.array_len(fields.len() * 2);
    } else {
        ctx.reply.array_len(fields.len());
    }
    for field in &fields {
        if with_values && resp3 {
            ctx.reply.array_len(2);
        }
        ctx.reply.bulk(field);
        if with_values {
            ctx.reply.bulk(hash.get(field).unwrap_or_default());
        }
    }
    Ok(())
}

pub fn hscan(ctx: &mut Ctx, args: Args) -> CommandResult {
    let options = ScanOptions::parse(args, 2, false)?;
    let Some(hash) = ctx.keys.lookup_read(&args[1], Entry::as_hash_mut)? else {
        write_scan_reply::<&[u8]>(ctx, 0, &[]);
        return Ok(());
    };
    let hash: &Hash = hash;
    let mut items = Vec::new();
    let cursor = scan_collection(&options, 2, &mut items, |cursor, items| {
        hash.scan(cursor, |field, value| {
            items.push(field.to_vec());
            items.push(value.to_vec());
        })
    });
    write_scan_reply(ctx, cursor, &items);
    Ok(())
}
