//! The list family: pushes, pops (with COUNT and across keys: LMPOP), ranges,
//! LSET/LINSERT/LREM/LTRIM/LPOS, moves (LMOVE, RPOPLPUSH), and the blocking
//! forms BLPOP, BRPOP, BLMOVE, BRPOPLPUSH and BLMPOP.
//!
//! Every handler works on the locked `KeyView` and writes through the
//! `ReplyWriter`. A blocking handler that finds nothing calls `Ctx::block`
//! and answers nothing; it runs again when a key it waits on is fed (see
//! `server::blocking`). Commands that add elements call `signal_ready` so
//! such clients are served. This module does not wait or touch sockets.

use super::{parse_int, parse_timeout, Ctx, MultiPopArgs};
use crate::errors::{CommandError, CommandResult};
use crate::protocol::Args;
use crate::storage::Entry;
use crate::storage::{class, List, Value};
use crate::util::eq_ignore_case;

/// Which end of a list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    Left,
    Right,
}

impl End {
    fn parse(arg: &[u8]) -> Result<End, CommandError> {
        if eq_ignore_case(arg, "left") {
            Ok(End::Left)
        } else if eq_ignore_case(arg, "right") {
            Ok(End::Right)
        } else {
            Err(CommandError::Syntax)
        }
    }
}

impl End {
    fn push_event(self) -> &'static str {
        match self {
            End::Left => "lpush",
            End::Right => "rpush",
        }
    }

    fn pop_event(self) -> &'static str {
        match self {
            End::Left => "lpop",
            End::Right => "rpop",
        }
    }
}

/// The events of a pop, as Redis sends them: `lpop`/`rpop`, then `del`
/// if the list emptied.
fn notify_popped(ctx: &mut Ctx, key: &[u8], end: End, deleted: bool) {
    ctx.notify(class::LIST, end.pop_event(), key);
    if deleted {
        ctx.notify(class::GENERIC, "del", key);
    }
}

fn new_list() -> Value {
    Value::List(Box::default())
}

fn push_end(list: &mut List, end: End, element: Box<[u8]>) {
    match end {
        End::Left => list.push_front(element),
        End::Right => list.push_back(element),
    }
}

fn pop_end(list: &mut List, end: End) -> Option<Box<[u8]>> {
    match end {
        End::Left => list.pop_front(),
        End::Right => list.pop_back(),
    }
}

/// Resolves a Redis start/stop pair (negative: from the end) to a
/// half-open range of `len` elements, or None when it selects nothing.
pub fn resolve_range(start: i64, stop: i64, len: usize) -> Option<(usize, usize)> {
    let len = len as i64;
    let start = if start < 0 {
        (len + start).max(0)
    } else {
        start
    };
    let stop = if stop < 0 { len + stop } else { stop };
    if start > stop || start >= len {
        return None;
    }
    let stop = stop.min(len - 1);
    Some((start as usize, stop as usize + 1))
}

/// A list index (negative: from the end) resolved against `len`.
fn resolve_index(index: i64, len: usize) -> Option<usize> {
    let len = len as i64;
    let index = if index < 0 { len + index } else { index };
    (0..len).contains(&index).then_some(index as usize)
}

// ---- pushes ---------------------------------------------------------------

fn push(ctx: &mut Ctx, args: Args, end: End, only_existing: bool) -> CommandResult {
    let key = &args[1];
    let list = if only_existing {
        match ctx.keys.write_as(key, Entry::as_list_mut)? {
            Some(list) => list,
            None => {
                ctx.reply.integer(0);
                return Ok(());
            }
        }
    } else {
        ctx.keys
            .write_or_create_as(key, Entry::as_list_mut, new_list)?
    };
    for element in args.from(2).iter() {
        push_end(list, end, element.into());
    }
    let len = list.len();
    ctx.keys.signal_ready(key);
    ctx.reply.integer(len as i64);
    ctx.notify(class::LIST, end.push_event(), key);
    Ok(())
}

pub fn lpush(ctx: &mut Ctx, args: Args) -> CommandResult {
    push(ctx, args, End::Left, false)
}

pub fn rpush(ctx: &mut Ctx, args: Args) -> CommandResult {
    push(ctx, args, End::Right, false)
}

pub fn lpushx(ctx: &mut Ctx, args: Args) -> CommandResult {
    push(ctx, args, End::Left, true)
}

pub fn rpushx(ctx: &mut Ctx, args: Args) -> CommandResult {
    push(ctx, args, End::Right, true)
}

// ---- pops -----------------------------------------------------------------

/// Pops up to `count` elements from `key`'s end, deleting the key when it
/// empties; `answer` writes the reply, and the pop's events follow it, in
/// Redis's order. False: no such key (nothing is answered).
fn pop_and_answer(
    ctx: &mut Ctx,
    key: &[u8],
    end: End,
    count: usize,
    answer: impl FnOnce(&mut Ctx, Vec<Box<[u8]>>),
) -> Result<bool, CommandError> {
    let Some(list) = ctx.keys.write_as(key, Entry::as_list_mut)? else {
        return Ok(false);
    };
    let take = count.min(list.len());
    let popped: Vec<Box<[u8]>> = (0..take).filter_map(|_| pop_end(list, end)).collect();
    release_slack(list);
    let deleted = ctx.keys.remove_if_empty(key);
    answer(ctx, popped);
    notify_popped(ctx, key, end, deleted);
    Ok(true)
}

/// Gives back the room a list no longer needs after it shrank to a quarter
/// of what it had, so memory follows the list down as well as up.
fn release_slack(list: &mut List) {
    if list.capacity() > 64 && list.len() < list.capacity() / 4 {
        list.shrink_to(list.len() * 2);
    }
}

/// The COUNT argument of LPOP/RPOP: a non-negative integer.
fn parse_pop_count(arg: &[u8]) -> Result<usize, CommandError> {
    let count =
        parse_int(arg).map_err(|_| CommandError::err("value is out of range, must be positive"))?;
    usize::try_from(count).map_err(|_| CommandError::err("value is out of range, must be positive"))
}

fn pop(ctx: &mut Ctx, args: Args, end: End) -> CommandResult {
    if args.len() > 3 {
        return Err(CommandError::WrongArity(
            String::from_utf8_lossy(&args[0]).to_string(),
        ));
    }
    let key = &args[1];
    let Some(count_arg) = args.get_opt(2) else {
        let answered = pop_and_answer(ctx, key, end, 1, |ctx, popped| match popped.first() {
            Some(element) => ctx.reply.bulk(element),
            None => ctx.reply.null(),
        })?;
        if !answered {
            ctx.reply.null();
        }
        return Ok(());
    };
    let count = parse_pop_count(count_arg)?;
    if count == 0 {
        // Redis answers an empty array for an existing key, null for a missing one.
        match ctx.keys.read_as(key, Entry::as_list_mut)? {
            Some(_) => ctx.reply.array_len(0),
            None => ctx.reply.null_array(),
        }
        return Ok(());
    }
    if !pop_and_answer(ctx, key, end, count, |ctx, popped| {
        write_elements(ctx, &popped)
    })? {
        ctx.reply.null_array();
    }
    Ok(())
}

fn write_elements(ctx: &mut Ctx, elements: &[Box<[u8]>]) {
    ctx.reply.array_len(elements.len());
    for element in elements {
        ctx.reply.bulk(element);
    }
}

pub fn lpop(ctx: &mut Ctx, args: Args) -> CommandResult {
    pop(ctx, args, End::Left)
}

pub fn rpop(ctx: &mut Ctx, args: Args) -> CommandResult {
    pop(ctx, args, End::Right)
}

/// The first of `keys` holding a non-empty list, checking types in order
/// as Redis does (a wrong type before it is an error).
fn first_nonempty<'k>(
    ctx: &mut Ctx,
    keys: impl Iterator<Item = &'k [u8]>,
) -> Result<Option<&'k [u8]>, CommandError> {
    for key in keys {
        if let Some(list) = ctx.keys.read_as(key, Entry::as_list_mut)? {
            if !list.is_empty() {
                return Ok(Some(key));
            }
        }
    }
    Ok(None)
}

fn blocking_pop(ctx: &mut Ctx, args: Args, end: End) -> CommandResult {
    let timeout = parse_timeout(&args[args.len() - 1])?;
    let keys = args.slice(1, args.len() - 1);
    if let Some(key) = first_nonempty(ctx, keys.iter())? {
        let answer = |ctx: &mut Ctx, popped: Vec<Box<[u8]>>| {
            ctx.reply.array_len(2);
            ctx.reply.bulk(key);
            ctx.reply.bulk(popped.first().map_or(&b""[..], |e| &e[..]));
        };
        if pop_and_answer(ctx, key, end, 1, answer)? {
            return Ok(());
        }
    }
    if !ctx.may_block() {
        ctx.reply.null_array();
        return Ok(());
    }
    ctx.block(args, keys.iter(), timeout, "list");
    Ok(())
}

pub fn blpop(ctx: &mut Ctx, args: Args) -> CommandResult {
    blocking_pop(ctx, args, End::Left)
}

pub fn brpop(ctx: &mut Ctx, args: Args) -> CommandResult {
    blocking_pop(ctx, args, End::Right)
}

/// LMPOP's arguments from `numkeys_at` on: the keys, the end, the count.
fn parse_list_multi_pop(args: Args, numkeys_at: usize) -> Result<MultiPopArgs, CommandError> {
    super::parse_multi_pop(args, numkeys_at, ["left", "right"])
}

fn end_of(request: &MultiPopArgs) -> End {
    if request.end == 0 {
        End::Left
    } else {
        End::Right
    }
}

/// Pops for LMPOP/BLMPOP from the first non-empty key; false if there was none.
fn multi_pop(ctx: &mut Ctx, request: &MultiPopArgs) -> Result<bool, CommandError> {
    let Some(key) = first_nonempty(ctx, request.keys.iter())? else {
        return Ok(false);
    };
    pop_and_answer(ctx, key, end_of(request), request.count, |ctx, popped| {
        ctx.reply.array_len(2);
        ctx.reply.bulk(key);
        write_elements(ctx, &popped);
    })
}

pub fn lmpop(ctx: &mut Ctx, args: Args) -> CommandResult {
    let request = parse_list_multi_pop(args, 1)?;
    if !multi_pop(ctx, &request)? {
        ctx.reply.null_array();
    }
    Ok(())
}

pub fn blmpop(ctx: &mut Ctx, args: Args) -> CommandResult {
    let timeout = parse_timeout(&args[1])?;
    let request = parse_list_multi_pop(args, 2)?;
    if multi_pop(ctx, &request)? {
        return Ok(());
    }
    if !ctx.may_block() {
        ctx.reply.null_array();
        return Ok(());
    }
    ctx.block(args, request.keys.iter(), timeout, "list");
    Ok(())
}

// ---- moves ----------------------------------------------------------------

/// Moves one element from `source`'s `from` end to `destination`'s `to`
/// end and answers it. False: the source is empty (nothing answered). The
/// destination's type is checked first, so a wrong type moves nothing.
fn move_element(
    ctx: &mut Ctx,
    source: &[u8],
    destination: &[u8],
    from: End,
    to: End,
) -> Result<bool, CommandError> {
    if ctx.keys.read_as(source, Entry::as_list_mut)?.is_none() {
        return Ok(false);
    }
    ctx.keys.read_as(destination, Entry::as_list_mut)?;
    // Redis pops, pushes, answers, then deletes an emptied source; its
    // events come in that order too: the push's, the reply, the pop's, `del`.
    let Some(list) = ctx.keys.write_as(source, Entry::as_list_mut)? else {
        return Ok(false);
    };
    let Some(element) = pop_end(list, from) else {
        return Ok(false);
    };
    if source == destination {
        push_end(list, to, element.clone());
    } else {
        release_slack(list);
        let list = ctx
            .keys
            .write_or_create_as(destination, Entry::as_list_mut, new_list)?;
        push_end(list, to, element.clone());
    }
    ctx.keys.signal_ready(destination);
    ctx.notify(class::LIST, to.push_event(), destination);
    ctx.reply.bulk(&element);
    let deleted = ctx.keys.remove_if_empty(source);
    notify_popped(ctx, source, from, deleted);
    Ok(true)
}

fn reply_moved(ctx: &mut Ctx, moved: bool) {
    if !moved {
        ctx.reply.null();
    }
}

pub fn lmove(ctx: &mut Ctx, args: Args) -> CommandResult {
    let from = End::parse(&args[3])?;
    let to = End::parse(&args[4])?;
    let moved = move_element(ctx, &args[1], &args[2], from, to)?;
    reply_moved(ctx, moved);
    Ok(())
}

pub fn rpoplpush(ctx: &mut Ctx, args: Args) -> CommandResult {
    let moved = move_element(ctx, &args[1], &args[2], End::Right, End::Left)?;
    reply_moved(ctx, moved);
    Ok(())
}

fn blocking_move(
    ctx: &mut Ctx,
    args: Args,
    from: End,
    to: End,
    timeout_at: usize,
) -> CommandResult {
    let timeout = parse_timeout(&args[timeout_at])?;
    if move_element(ctx, &args[1], &args[2], from, to)? {
        return Ok(());
    }
    if !ctx.may_block() {
        ctx.reply.null();
        return Ok(());
    }
    ctx.block(args, std::iter::once(&args[1]), timeout, "list");
    Ok(())
}

pub fn blmove(ctx: &mut Ctx, args: Args) -> CommandResult {
    let from = End::parse(&args[3])?;
    let to = End::parse(&args[4])?;
    blocking_move(ctx, args, from, to, 5)
}

pub fn brpoplpush(ctx: &mut Ctx, args: Args) -> CommandResult {
    blocking_move(ctx, args, End::Right, End::Left, 3)
}

// ---- reads ----------------------------------------------------------------

pub fn llen(ctx: &mut Ctx, args: Args) -> CommandResult {
    let len = ctx
        .keys
        .lookup_read(&args[1], Entry::as_list_mut)?
        .map_or(0, |l| l.len());
    ctx.reply.integer(len as i64);
    Ok(())
}

pub fn lindex(ctx: &mut Ctx, args: Args) -> CommandResult {
    let index = parse_int(&args[2])?;
    let element = ctx
        .keys
        .lookup_read(&args[1], Entry::as_list_mut)?
        .and_then(|list| resolve_index(index, list.len()).and_then(|i| list.get(i)));
    match element {
        Some(element) => ctx.reply.bulk(element),
        None => ctx.reply.null(),
    }
    Ok(())
}

pub fn lrange(ctx: &mut Ctx, args: Args) -> CommandResult {
    let start = parse_int(&args[2])?;
    let stop = parse_int(&args[3])?;
    let Some(list) = ctx.keys.lookup_read(&args[1], Entry::as_list_mut)? else {
        ctx.reply.array_len(0);
        return Ok(());
    };
    match resolve_range(start, stop, list.len()) {
        None => ctx.reply.array_len(0),
        Some((from, to)) => {
            ctx.reply.array_len(to - from);
            for element in list.range(from..to) {
                ctx.reply.bulk(element);
            }
        }
    }
    Ok(())
}

/// LPOS options: RANK (1-based, negative from the tail), COUNT (0: all), MAXLEN (0: no limit).
struct PositionQuery {
    rank: i64,
    count: Option<usize>,
    maxlen: usize,
}

fn parse_position_query(args: Args) -> Result<PositionQuery, CommandError> {
    let mut query = PositionQuery {
        rank: 1,
        count: None,
        maxlen: 0,
    };
    let mut i = 3;
    while i < args.len() {
        if i + 1 >= args.len() {
            return Err(CommandError::Syntax);
        }
        let value = &args[i + 1];
        if eq_ignore_case(&args[i], "rank") {
            query.rank = parse_int(value)?;
            if query.rank == 0 {
                return Err(CommandError::err(
                    "RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list",
                ));
            }
        } else if eq_ignore_case(&args[i], "count") {
            let count = parse_int(value)?;
            query.count = Some(
                usize::try_from(count).map_err(|_| CommandError::err("COUNT can't be negative"))?,
            );
        } else if eq_ignore_case(&args[i], "maxlen") {
            let maxlen = parse_int(value)?;
            query.maxlen = usize::try_from(maxlen)
                .map_err(|_| CommandError::err("MAXLEN can't be negative"))?;
        } else {
            return Err(CommandError::Syntax);
        }
        i += 2;
    }
    Ok(query)
}

pub fn lpos(ctx: &mut Ctx, args: Args) -> CommandResult {
    let query = parse_position_query(args)?;
    let element = &args[2];
    let Some(list) = ctx.keys.lookup_read(&args[1], Entry::as_list_mut)? else {
        match query.count {
            Some(_) => ctx.reply.array_len(0),
            None => ctx.reply.null(),
        }
        return Ok(());
    };
    let len = list.len();
    let wanted = match query.count {
        Some(0) => usize::MAX,
        Some(n) => n,
        None => 1,
    };
    let scan_limit = if query.maxlen == 0 {
        len
    } else {
        query.maxlen.min(len)
    };
    // As Redis: a negative rank searches from the tail; the match count
    // must reach the rank (negating i64::MIN leaves it negative, which
    // Redis 7.0 then treats as "the first match from the tail").
    let from_tail = query.rank < 0;
    let rank = if from_tail {
        query.rank.wrapping_neg()
    } else {
        query.rank
    };
    let mut matches: i64 = 0;
    let mut found = Vec::new();
    let indexes: Box<dyn Iterator<Item = usize>> = if from_tail {
        Box::new((len - scan_limit..len).rev())
    } else {
        Box::new(0..scan_limit)
    };
    for index in indexes {
        if *list[index] != *element {
            continue;
        }
        matches += 1;
        if matches < rank {
            continue;
        }
        found.push(index as i64);
        if found.len() >= wanted {
            break;
        }
    }
    match query.count {
        Some(_) => {
            ctx.reply.array_len(found.len());
            for index in found {
                ctx.reply.integer(index);
            }
        }
        None => match found.first() {
            Some(&index) => ctx.reply.integer(index),
            None => ctx.reply.null(),
        },
    }
    Ok(())
}

// ---- in-place changes -------------------------------------------------------

pub fn lset(ctx: &mut Ctx, args: Args) -> CommandResult {
    let index = parse_int(&args[2])?;
    let Some(list) = ctx.keys.write_as(&args[1], Entry::as_list_mut)? else {
        return Err(CommandError::NoSuchKey);
    };
    let slot = resolve_index(index, list.len())
        .and_then(|i| list.get_mut(i))
        .ok_or_else(|| CommandError::err("index out of range"))?;
    *slot = args[3].into();
    ctx.reply.ok();
    ctx.notify(class::LIST, "lset", &args[1]);
    Ok(())
}

pub fn linsert(ctx: &mut Ctx, args: Args) -> CommandResult {
    let after = if eq_ignore_case(&args[2], "after") {
        true
    } else if eq_ignore_case(&args[2], "before") {
        false
    } else {
        return Err(CommandError::Syntax);
    };
    let pivot = &args[3];
    // Look before writing: a missing pivot changes nothing (and WATCH sees no change).
    let Some(list) = ctx.keys.read_as(&args[1], Entry::as_list_mut)? else {
        ctx.reply.integer(0);
        return Ok(());
    };
    let Some(at) = list.iter().position(|e| **e == *pivot) else {
        ctx.reply.integer(-1);
        return Ok(());
    };
    let Some(list) = ctx.keys.write_as(&args[1], Entry::as_list_mut)? else {
        ctx.reply.integer(0);
        return Ok(());
    };
    list.insert(if after { at + 1 } else { at }, args[4].into());
    let len = list.len();
    ctx.keys.signal_ready(&args[1]);
    ctx.notify(class::LIST, "linsert", &args[1]);
    ctx.reply.integer(len as i64);
    Ok(())
}

pub fn lrem(ctx: &mut Ctx, args: Args) -> CommandResult {
    let count = parse_int(&args[2])?;
    let element = &args[3];
    let Some(list) = ctx.keys.read_as(&args[1], Entry::as_list_mut)? else {
        ctx.reply.integer(0);
        return Ok(());
    };
    let limit = if count == 0 {
        usize::MAX
    } else {
        usize::try_from(count.unsigned_abs()).unwrap_or(usize::MAX)
    };
    let is_match = |e: &[u8]| *e == *element;
    let mut remove = vec![false; list.len()];
    let mut removed = 0;
    let order: Box<dyn Iterator<Item = usize>> = if count >= 0 {
        Box::new(0..list.len())
    } else {
        Box::new((0..list.len()).rev())
    };
    for index in order {
        if removed == limit {
            break;
        }
        if is_match(&list[index][..]) {
            remove[index] = true;
            removed += 1;
        }
    }
    if removed > 0 {
        if let Some(list) = ctx.keys.write_as(&args[1], Entry::as_list_mut)? {
            let mut index = 0;
            list.retain(|_| {
                let keep = !remove[index];
                index += 1;
                keep
            });
            release_slack(list);
        }
        ctx.notify(class::LIST, "lrem", &args[1]);
        if ctx.keys.remove_if_empty(&args[1]) {
            ctx.notify(class::GENERIC, "del", &args[1]);
        }
    }
    ctx.reply.integer(removed as i64);
    Ok(())
}

pub fn ltrim(ctx: &mut Ctx, args: Args) -> CommandResult {
    let start = parse_int(&args[2])?;
    let stop = parse_int(&args[3])?;
    if let Some(list) = ctx.keys.write_as(&args[1], Entry::as_list_mut)? {
        match resolve_range(start, stop, list.len()) {
            None => list.clear(),
            Some((from, to)) => {
                list.truncate(to);
                list.drain(..from);
            }
        }
        release_slack(list);
        ctx.notify(class::LIST, "ltrim", &args[1]);
        if ctx.keys.remove_if_empty(&args[1]) {
            ctx.notify(class::GENERIC, "del", &args[1]);
        }
    }
    ctx.reply.ok();
    Ok(())
}
