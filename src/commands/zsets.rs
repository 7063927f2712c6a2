//! The sorted-set family: ZADD/ZINCRBY, ZREM, ZCARD, ZSCORE/ZMSCORE,
//! ZRANK/ZREVRANK, the range reads (ZRANGE with BYSCORE/BYLEX/REV/LIMIT and
//! the older ZRANGEBYSCORE, ZREVRANGE... forms) and ZRANGESTORE, ZCOUNT and
//! ZLEXCOUNT, the ZREMRANGEBY* removals, the pops (ZPOPMIN/ZPOPMAX, ZMPOP
//! and the blocking BZPOPMIN, BZPOPMAX, BZMPOP), ZRANDMEMBER, the algebra
//! (ZUNION, ZINTER, ZDIFF, ZINTERCARD and the STORE forms, with WEIGHTS and
//! AGGREGATE; plain sets count as members scored 1) and ZSCAN.
//!
//! Every range is turned into ranks by `storage::ZSet` and read from there
//! (O(log n + m)); this module parses arguments the way Redis's `t_zset.c`
//! does, with its error texts, and writes replies: scores as doubles, and in
//! RESP3 member/score pairs as two-element arrays.

use super::keys::{scan_collection, write_scan_reply, ScanOptions};
use super::{parse_int, parse_timeout, sampling, Ctx, MultiPopArgs};
use crate::errors::{CommandError, CommandResult};
use crate::protocol::Args;
use crate::storage::Entry;
use crate::storage::{
    class, AddFlags, AddOutcome, Contents, LexBound, LexRange, ScoreRange, Set, Value, ZSet,
};
use crate::util::c_numbers;
use crate::util::eq_ignore_case;
use std::borrow::Cow;
use std::collections::HashMap;

/// Members with their scores, in reply order.
type Scored = Vec<(Vec<u8>, f64)>;

fn not_float() -> CommandError {
    CommandError::err("min or max is not a float")
}

fn not_lex() -> CommandError {
    CommandError::err("min or max not valid string range item")
}

/// One end of a score range: `(x` exclusive, `x` inclusive (zslParseRange).
fn parse_score_end(arg: &[u8]) -> Result<(f64, bool), CommandError> {
    match arg.first() {
        Some(b'(') => c_numbers::range_score(&arg[1..])
            .map(|v| (v, true))
            .ok_or_else(not_float),
        _ => c_numbers::range_score(arg)
            .map(|v| (v, false))
            .ok_or_else(not_float),
    }
}

fn parse_score_range(min: &[u8], max: &[u8]) -> Result<ScoreRange, CommandError> {
    let (min, min_exclusive) = parse_score_end(min)?;
    let (max, max_exclusive) = parse_score_end(max)?;
    Ok(ScoreRange {
        min,
        max,
        min_exclusive,
        max_exclusive,
    })
}

/// One end of a lex range: `-`, `+`, `(member` or `[member`.
fn parse_lex_end(arg: &[u8]) -> Result<LexBound, CommandError> {
    match arg.first() {
        Some(b'+') if arg.len() == 1 => Ok(LexBound::Max),
        Some(b'-') if arg.len() == 1 => Ok(LexBound::Min),
        Some(b'(') => Ok(LexBound::Exclusive(arg[1..].to_vec())),
        Some(b'[') => Ok(LexBound::Inclusive(arg[1..].to_vec())),
        _ => Err(not_lex()),
    }
}

fn parse_lex_range(min: &[u8], max: &[u8]) -> Result<LexRange, CommandError> {
    Ok(LexRange {
        min: parse_lex_end(min)?,
        max: parse_lex_end(max)?,
    })
}

/// Writes members (with scores when asked): a flat array in RESP2, pairs
/// in RESP3.
fn write_scored(ctx: &mut Ctx, items: &[(Vec<u8>, f64)], with_scores: bool) {
    let pairs = with_scores && ctx.reply.is_resp3();
    if with_scores && !pairs {
        ctx.reply.array_len(items.len() * 2);
    } else {
        ctx.reply.array_len(items.len());
    }
    for (member, score) in items {
        if pairs {
            ctx.reply.array_len(2);
        }
        ctx.reply.bulk(member);
        if with_scores {
            ctx.reply.double(*score);
        }
    }
}

fn owned(items: impl Iterator<Item = (impl AsRef<[u8]>, f64)>) -> Scored {
    items.map(|(m, s)| (m.as_ref().to_vec(), s)).collect()
}

// ---- ZADD and friends -------------------------------------------------------------

fn zadd_generic(ctx: &mut Ctx, args: Args, incr_command: bool) -> CommandResult {
    let key = &args[1];
    let mut flags = AddFlags {
        incr: incr_command,
        ..AddFlags::default()
    };
    let mut ch = false;
    let mut at = 2;
    while at < args.len() {
        let option = &args[at];
        if eq_ignore_case(option, "nx") {
            flags.nx = true;
        } else if eq_ignore_case(option, "xx") {
            flags.xx = true;
        } else if eq_ignore_case(option, "ch") {
            ch = true;
        } else if eq_ignore_case(option, "incr") {
            flags.incr = true;
        } else if eq_ignore_case(option, "gt") {
            flags.gt = true;
        } else if eq_ignore_case(option, "lt") {
            flags.lt = true;
        } else {
            break;
        }
        at += 1;
    }
    let elements = args.len() - at;
    if elements % 2 == 1 || elements == 0 {
        return Err(CommandError::Syntax);
    }
    if flags.nx && flags.xx {
        return Err(CommandError::err(
            "XX and NX options at the same time are not compatible",
        ));
    }
    if (flags.nx && (flags.gt || flags.lt)) || (flags.gt && flags.lt) {
        return Err(CommandError::err(
            "GT, LT, and/or NX options at the same time are not compatible",
        ));
    }
    if flags.incr && elements > 2 {
        return Err(CommandError::err(
            "INCR option supports a single increment-element pair",
        ));
    }
    let mut pairs = Vec::with_capacity(elements / 2);
    let mut i = at;
    while i + 1 < args.len() {
        let score = c_numbers::parse_double(&args[i]).ok_or(CommandError::NotFloat)?;
        pairs.push((score, &args[i + 1]));
        i += 2;
    }
    let limits = ctx.limits();
    let exists = ctx.keys.read_as(key, Entry::as_zset_mut)?.is_some();
    if !exists && flags.xx {
        return reply_zadd(ctx, flags.incr, ch, 0, 0, 0, None);
    }
    let first_len = pairs[0].1.len();
    let zset = ctx.keys.write_or_create_as(key, Entry::as_zset_mut, || {
        Value::SortedSet(Box::new(ZSet::new(first_len, &limits)))
    })?;
    let (mut added, mut updated, mut processed) = (0, 0, 0);
    let mut last_score = None;
    for (score, member) in pairs {
        let (outcome, score) = zset
            .add(member, score, flags, &limits)
            .map_err(|_| CommandError::err("resulting score is not a number (NaN)"))?;
        match outcome {
            AddOutcome::Added => added += 1,
            AddOutcome::Updated => updated += 1,
            AddOutcome::Unchanged | AddOutcome::Skipped => {}
        }
        if outcome != AddOutcome::Skipped {
            processed += 1;
        }
        last_score = score;
    }
    ctx.keys.remove_if_empty(key);
    if added > 0 || updated > 0 {
        ctx.keys.signal_ready(key);
    }
    // Redis answers, then notifies.
    reply_zadd(ctx, flags.incr, ch, added, updated, processed, last_score)?;
    if added > 0 || updated > 0 {
        ctx.notify(class::ZSET, if flags.incr { "zincr" } else { "zadd" }, key);
    }
    Ok(())
}

fn reply_zadd(
    ctx: &mut Ctx,
    incr: bool,
    ch: bool,
    added: i64,
    updated: i64,
    processed: i64,
    score: Option<f64>,
) -> CommandResult {
    if incr {
        match score {
            Some(score) if processed > 0 => ctx.reply.double(score),
            _ => ctx.reply.null(),
        }
    } else {
        ctx.reply.integer(if ch { added + updated } else { added });
    }
    Ok(())
}

pub fn zadd(ctx: &mut Ctx, args: Args) -> CommandResult {
    zadd_generic(ctx, args, false)
}

pub fn zincrby(ctx: &mut Ctx, args: Args) -> CommandResult {
    zadd_generic(ctx, args, true)
}

pub fn zrem(ctx: &mut Ctx, args: Args) -> CommandResult {
    let removed = super::remove_members(
        ctx,
        &args[1],
        args.from(2),
        &super::MemberRemoval {
            pick: Entry::as_zset_mut,
            contains: |z, m| z.score(m).is_some(),
            remove: ZSet::remove,
            event_class: class::ZSET,
            event: "zrem",
        },
    )?;
    ctx.reply.integer(removed);
    Ok(())
}

pub fn zcard(ctx: &mut Ctx, args: Args) -> CommandResult {
    let len = ctx
        .keys
        .lookup_read(&args[1], Entry::as_zset_mut)?
        .map_or(0, |z| z.len());
    ctx.reply.integer(len as i64);
    Ok(())
}

pub fn zscore(ctx: &mut Ctx, args: Args) -> CommandResult {
    match ctx
        .keys
        .lookup_read(&args[1], Entry::as_zset_mut)?
        .and_then(|z| z.score(&args[2]))
    {
        Some(score) => ctx.reply.double(score),
        None => ctx.reply.null(),
    }
    Ok(())
}

pub fn zmscore(ctx: &mut Ctx, args: Args) -> CommandResult {
    let zset = ctx.keys.lookup_read(&args[1], Entry::as_zset_mut)?;
    let scores: Vec<Option<f64>> = args
        .from(2)
        .iter()
        .map(|m| zset.as_ref().and_then(|z| z.score(m)))
        .collect();
    ctx.reply.array_len(scores.len());
    for score in scores {
        match score {
            Some(score) => ctx.reply.double(score),
            None => ctx.reply.null(),
        }
    }
    Ok(())
}

fn rank_generic(ctx: &mut Ctx, args: Args, reverse: bool) -> CommandResult {
    let rank = ctx
        .keys
        .lookup_read(&args[1], Entry::as_zset_mut)?
        .and_then(|z| {
            z.rank(&args[2])
                .map(|r| if reverse { z.len() - 1 - r } else { r })
        });
    match rank {
        Some(rank) => ctx.reply.integer(rank as i64),
        None => ctx.reply.null(),
    }
    Ok(())
}

pub fn zrank(ctx: &mut Ctx, args: Args) -> CommandResult {
    rank_generic(ctx, args, false)
}

pub fn zrevrank(ctx: &mut Ctx, args: Args) -> CommandResult {
    rank_generic(ctx, args, true)
}

// ---- ranges -----------------------------------------------------------------------

/// What a range command selects.
enum Selection {
    /// Z[REV]RANGE start stop: ranks, negative from the end.
    Rank(i64, i64),
    Score(ScoreRange),
    Lex(LexRange),
}

/// A parsed range request (Redis's `zrangeGenericCommand`).
struct RangeQuery {
    selection: Selection,
    reverse: bool,
    offset: i64,
    /// Negative: no limit.
    limit: i64,
    with_scores: bool,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum RangeKind {
    /// ZRANGE and ZRANGESTORE: BYSCORE/BYLEX choose.
    Auto,
    Rank,
    Score,
    Lex,
}

/// Parses `<src> <min> <max> [options]` starting at `at` (the source key).
fn parse_range_query(
    args: Args,
    at: usize,
    store: bool,
    mut kind: RangeKind,
    mut reverse: Option<bool>,
) -> Result<RangeQuery, CommandError> {
    let mut with_scores = false;
    let mut offset = 0;
    let mut limit = -1;
    let mut j = at + 3;
    while j < args.len() {
        let arg = &args[j];
        let left = args.len() - j - 1;
        if !store && eq_ignore_case(arg, "withscores") {
            with_scores = true;
        } else if eq_ignore_case(arg, "limit") && left >= 2 {
            offset = parse_int(&args[j + 1])?;
            limit = parse_int(&args[j + 2])?;
            j += 2;
        } else if reverse.is_none() && eq_ignore_case(arg, "rev") {
            reverse = Some(true);
        } else if kind == RangeKind::Auto && eq_ignore_case(arg, "bylex") {
            kind = RangeKind::Lex;
        } else if kind == RangeKind::Auto && eq_ignore_case(arg, "byscore") {
            kind = RangeKind::Score;
        } else {
            return Err(CommandError::Syntax);
        }
        j += 1;
    }
    let reverse = reverse.unwrap_or(false);
    if kind == RangeKind::Auto {
        kind = RangeKind::Rank;
    }
    if limit != -1 && kind == RangeKind::Rank {
        return Err(CommandError::err(
            "syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX",
        ));
    }
    if with_scores && kind == RangeKind::Lex {
        return Err(CommandError::err(
            "syntax error, WITHSCORES not supported in combination with BYLEX",
        ));
    }
    let (mut min_at, mut max_at) = (at + 1, at + 2);
    if reverse && kind != RangeKind::Rank {
        std::mem::swap(&mut min_at, &mut max_at);
    }
    let selection = match kind {
        RangeKind::Score => Selection::Score(parse_score_range(&args[min_at], &args[max_at])?),
        RangeKind::Lex => Selection::Lex(parse_lex_range(&args[min_at], &args[max_at])?),
        _ => Selection::Rank(parse_int(&args[min_at])?, parse_int(&args[max_at])?),
    };
    Ok(RangeQuery {
        selection,
        reverse,
        offset,
        limit,
        with_scores,
    })
}

/// The members a range query selects, in reply order.
fn select(zset: &ZSet, query: &RangeQuery) -> Scored {
    let len = zset.len() as i64;
    match &query.selection {
        Selection::Rank(start, end) => {
            let mut start = if *start < 0 { len + start } else { *start };
            let end = if *end < 0 { len + end } else { *end };
            if start < 0 {
                start = 0;
            }
            if start > end || start >= len {
                return Vec::new();
            }
            let end = end.min(len - 1);
            owned(
                zset.iter_from(start as usize, query.reverse)
                    .take((end - start + 1) as usize),
            )
        }
        Selection::Score(range) => {
            let first = if query.reverse {
                zset.last_rank_in(range).map(|r| zset.len() - 1 - r)
            } else {
                zset.first_rank_in(range)
            };
            let in_range = |score: f64| {
                if query.reverse {
                    if range.min_exclusive {
                        score > range.min
                    } else {
                        score >= range.min
                    }
                } else if range.max_exclusive {
                    score < range.max
                } else {
                    score <= range.max
                }
            };
            walk_range(zset, query, first, |_, score| in_range(score))
        }
        Selection::Lex(range) => {
            let first = if query.reverse {
                zset.last_rank_in_lex(range).map(|r| zset.len() - 1 - r)
            } else {
                zset.first_rank_in_lex(range)
            };
            let in_range = |member: &[u8]| {
                let bound = if query.reverse {
                    &range.min
                } else {
                    &range.max
                };
                match bound {
                    LexBound::Min => query.reverse,
                    LexBound::Max => !query.reverse,
                    LexBound::Inclusive(m) if query.reverse => member >= m.as_slice(),
                    LexBound::Exclusive(m) if query.reverse => member > m.as_slice(),
                    LexBound::Inclusive(m) => member <= m.as_slice(),
                    LexBound::Exclusive(m) => member < m.as_slice(),
                }
            };
            walk_range(zset, query, first, |member, _| in_range(member))
        }
    }
}

/// From the first member in range (a rank in the walking direction), skips
/// the offset and takes up to the limit while `inside` holds, as Redis's
/// range walks do (a negative offset walks off the end: nothing).
fn walk_range(
    zset: &ZSet,
    query: &RangeQuery,
    first: Option<usize>,
    inside: impl Fn(&[u8], f64) -> bool,
) -> Scored {
    if query.offset > 0 && query.offset >= zset.len() as i64 {
        return Vec::new();
    }
    let (Some(first), true) = (first, query.offset >= 0) else {
        return Vec::new();
    };
    let take = if query.limit < 0 {
        usize::MAX
    } else {
        query.limit as usize
    };
    owned(
        zset.iter_from(first, query.reverse)
            .skip(query.offset as usize)
            .take_while(|(m, s)| inside(m, *s))
            .take(take),
    )
}

fn range_generic(
    ctx: &mut Ctx,
    args: Args,
    kind: RangeKind,
    reverse: Option<bool>,
) -> CommandResult {
    let query = parse_range_query(args, 1, false, kind, reverse)?;
    let items = match ctx.keys.lookup_read(&args[1], Entry::as_zset_mut)? {
        Some(zset) => select(zset, &query),
        None => Vec::new(),
    };
    write_scored(ctx, &items, query.with_scores);
    Ok(())
}

pub fn zrange(ctx: &mut Ctx, args: Args) -> CommandResult {
    range_generic(ctx, args, RangeKind::Auto, None)
}

pub fn zrevrange(ctx: &mut Ctx, args: Args) -> CommandResult {
    range_generic(ctx, args, RangeKind::Rank, Some(true))
}

pub fn zrangebyscore(ctx: &mut Ctx, args: Args) -> CommandResult {
    range_generic(ctx, args, RangeKind::Score, Some(false))
}

pub fn zrevrangebyscore(ctx: &mut Ctx, args: Args) -> CommandResult {
    range_generic(ctx, args, RangeKind::Score, Some(true))
}

pub fn zrangebylex(ctx: &mut Ctx, args: Args) -> CommandResult {
    range_generic(ctx, args, RangeKind::Lex, Some(false))
}

pub fn zrevrangebylex(ctx: &mut Ctx, args: Args) -> CommandResult {
    range_generic(ctx, args, RangeKind::Lex, Some(true))
}

/// Stores `items` (in score order) at `destination` as a new sorted set,
/// deleting it when empty, and answers the count.
fn store_scored(ctx: &mut Ctx, destination: &[u8], mut items: Scored, event: &'static str) {
    items.sort_by(|a, b| {
        a.1.partial_cmp(&b.1)
            .unwrap_or(std::cmp::Ordering::Equal)
            .then_with(|| a.0.cmp(&b.0))
    });
    let zset = ZSet::from_sorted(&items, &ctx.limits());
    let result = Value::SortedSet(Box::new(zset));
    super::store_result(ctx, destination, result, (class::ZSET, event), true);
}

pub fn zrangestore(ctx: &mut Ctx, args: Args) -> CommandResult {
    let query = parse_range_query(args, 2, true, RangeKind::Auto, None)?;
    let items = match ctx.keys.lookup_read(&args[2], Entry::as_zset_mut)? {
        Some(zset) => select(zset, &query),
        None => Vec::new(),
    };
    store_scored(ctx, &args[1], items, "zrangestore");
    Ok(())
}

/// ZCOUNT and ZLEXCOUNT: the members between two ranks found for a range.
fn count_between(first: Option<usize>, last: Option<usize>) -> i64 {
    match (first, last) {
        (Some(first), Some(last)) if last >= first => (last - first + 1) as i64,
        _ => 0,
    }
}

pub fn zcount(ctx: &mut Ctx, args: Args) -> CommandResult {
    let range = parse_score_range(&args[2], &args[3])?;
    let count = ctx
        .keys
        .lookup_read(&args[1], Entry::as_zset_mut)?
        .map_or(0, |z| {
            count_between(z.first_rank_in(&range), z.last_rank_in(&range))
        });
    ctx.reply.integer(count);
    Ok(())
}

pub fn zlexcount(ctx: &mut Ctx, args: Args) -> CommandResult {
    let range = parse_lex_range(&args[2], &args[3])?;
    let count = ctx
        .keys
        .lookup_read(&args[1], Entry::as_zset_mut)?
        .map_or(0, |z| {
            count_between(z.first_rank_in_lex(&range), z.last_rank_in_lex(&range))
        });
    ctx.reply.integer(count);
    Ok(())
}

/// The ascending ranks a ZREMRANGEBY* command removes.
fn remove_ranks_generic(
    ctx: &mut Ctx,
    args: Args,
    event: &'static str,
    ranks: impl FnOnce(&ZSet) -> Option<(usize, usize)>,
) -> CommandResult {
    let key = &args[1];
    let target = match ctx.keys.read_as(key, Entry::as_zset_mut)? {
        None => None,
        Some(zset) => ranks(zset),
    };
    let mut removed = 0;
    if let Some((first, last)) = target {
        if let Some(zset) = ctx.keys.write_as(key, Entry::as_zset_mut)? {
            removed = zset.remove_ranks(first, last);
        }
        notify_removed(ctx, key, event);
    }
    ctx.reply.integer(removed as i64);
    Ok(())
}

pub fn zremrangebyrank(ctx: &mut Ctx, args: Args) -> CommandResult {
    let start = parse_int(&args[2])?;
    let end = parse_int(&args[3])?;
    remove_ranks_generic(ctx, args, "zremrangebyrank", |zset| {
        let len = zset.len() as i64;
        let mut start = if start < 0 { len + start } else { start };
        let end = if end < 0 { len + end } else { end };
        if start < 0 {
            start = 0;
        }
        if start > end || start >= len {
            return None;
        }
        Some((start as usize, end.min(len - 1) as usize))
    })
}

pub fn zremrangebyscore(ctx: &mut Ctx, args: Args) -> CommandResult {
    let range = parse_score_range(&args[2], &args[3])?;
    remove_ranks_generic(ctx, args, "zremrangebyscore", |zset| {
        Some((zset.first_rank_in(&range)?, zset.last_rank_in(&range)?))
    })
}

pub fn zremrangebylex(ctx: &mut Ctx, args: Args) -> CommandResult {
    let range = parse_lex_range(&args[2], &args[3])?;
    remove_ranks_generic(ctx, args, "zremrangebylex", |zset| {
        Some((
            zset.first_rank_in_lex(&range)?,
            zset.last_rank_in_lex(&range)?,
        ))
    })
}

/// The events of a removal: `event`, then `del` if the set emptied.
fn notify_removed(ctx: &mut Ctx, key: &[u8], event: &'static str) {
    ctx.notify(class::ZSET, event, key);
    if ctx.keys.remove_if_empty(key) {
        ctx.notify(class::GENERIC, "del", key);
    }
}

// ---- pops -------------------------------------------------------------------------

#[derive(Clone, Copy, PartialEq, Eq)]
enum Extreme {
    Min,
    Max,
}

/// Members a pop removed, and whether their key went with them.
struct Popped {
    members: Scored,
    deleted: bool,
}

/// Removes up to `count` members from `key`'s low or high end (deleting
/// the key when it empties); the caller answers with `answer_popped`.
fn pop_members(
    ctx: &mut Ctx,
    key: &[u8],
    end: Extreme,
    count: usize,
) -> Result<Popped, CommandError> {
    let Some(zset) = ctx.keys.write_as(key, Entry::as_zset_mut)? else {
        return Ok(Popped {
            members: Vec::new(),
            deleted: false,
        });
    };
    let take = count.min(zset.len());
    let members = owned(zset.iter_from(0, end == Extreme::Max).take(take));
    if take > 0 {
        match end {
            Extreme::Min => zset.remove_ranks(0, take - 1),
            Extreme::Max => zset.remove_ranks(zset.len() - take, zset.len() - 1),
        };
    }
    let deleted = ctx.keys.remove_if_empty(key);
    Ok(Popped { members, deleted })
}

/// Writes popped members after the reply's header (written by the caller),
/// each as a `[member, score]` pair or flat, with the events where Redis
/// sends them: `zpopmin`/`zpopmax` just before the first member (Redis
/// notifies inside its reply loop), `del` after the last.
fn answer_popped(ctx: &mut Ctx, key: &[u8], end: Extreme, popped: &Popped, pairs: bool) {
    let event = match end {
        Extreme::Min => "zpopmin",
        Extreme::Max => "zpopmax",
    };
    for (i, (member, score)) in popped.members.iter().enumerate() {
        if i == 0 {
            ctx.notify(class::ZSET, event, key);
        }
        if pairs {
            ctx.reply.array_len(2);
        }
        ctx.reply.bulk(member);
        ctx.reply.double(*score);
    }
    if popped.deleted {
        ctx.notify(class::GENERIC, "del", key);
    }
}

fn zpop_generic(ctx: &mut Ctx, args: Args, end: Extreme) -> CommandResult {
    if args.len() > 3 {
        return Err(CommandError::Syntax);
    }
    let count = match args.get_opt(2) {
        None => None,
        Some(arg) => Some(
            parse_int(arg)
                .ok()
                .filter(|n| *n >= 0)
                .ok_or_else(|| CommandError::err("value is out of range, must be positive"))?,
        ),
    };
    let key = &args[1];
    if ctx.keys.read_as(key, Entry::as_zset_mut)?.is_none() {
        ctx.reply.array_len(0);
        return Ok(());
    }
    if count == Some(0) {
        ctx.reply.array_len(0);
        return Ok(());
    }
    let popped = pop_members(ctx, key, end, count.unwrap_or(1) as usize)?;
    let nested = count.is_some() && ctx.reply.is_resp3();
    let len = popped.members.len();
    ctx.reply.array_len(if nested { len } else { len * 2 });
    answer_popped(ctx, key, end, &popped, nested);
    Ok(())
}

pub fn zpopmin(ctx: &mut Ctx, args: Args) -> CommandResult {
    zpop_generic(ctx, args, Extreme::Min)
}

pub fn zpopmax(ctx: &mut Ctx, args: Args) -> CommandResult {
    zpop_generic(ctx, args, Extreme::Max)
}

/// The first of `keys` holding a non-empty sorted set (a wrong type before
/// it is an error).
fn first_nonempty<'k>(
    ctx: &mut Ctx,
    keys: impl Iterator<Item = &'k [u8]>,
) -> Result<Option<&'k [u8]>, CommandError> {
    for key in keys {
        if let Some(zset) = ctx.keys.read_as(key, Entry::as_zset_mut)? {
            if !zset.is_empty() {
                return Ok(Some(key));
            }
        }
    }
    Ok(None)
}

fn bzpop_generic(ctx: &mut Ctx, args: Args, end: Extreme) -> CommandResult {
    let timeout = parse_timeout(&args[args.len() - 1])?;
    let keys = args.slice(1, args.len() - 1);
    if let Some(key) = first_nonempty(ctx, keys.iter())? {
        let popped = pop_members(ctx, key, end, 1)?;
        ctx.reply.array_len(1 + popped.members.len() * 2);
        ctx.reply.bulk(key);
        answer_popped(ctx, key, end, &popped, false);
        return Ok(());
    }
    if !ctx.may_block() {
        ctx.reply.null_array();
        return Ok(());
    }
    ctx.block(args, keys.iter(), timeout, "zset");
    Ok(())
}

pub fn bzpopmin(ctx: &mut Ctx, args: Args) -> CommandResult {
    bzpop_generic(ctx, args, Extreme::Min)
}

pub fn bzpopmax(ctx: &mut Ctx, args: Args) -> CommandResult {
    bzpop_generic(ctx, args, Extreme::Max)
}

/// ZMPOP's arguments from `numkeys_at` on.
fn parse_zset_multi_pop(args: Args, numkeys_at: usize) -> Result<MultiPopArgs, CommandError> {
    super::parse_multi_pop(args, numkeys_at, ["min", "max"])
}

/// Pops for ZMPOP/BZMPOP; false when every key was empty.
fn multi_pop(ctx: &mut Ctx, request: &MultiPopArgs) -> Result<bool, CommandError> {
    let Some(key) = first_nonempty(ctx, request.keys.iter())? else {
        return Ok(false);
    };
    let end = if request.end == 0 {
        Extreme::Min
    } else {
        Extreme::Max
    };
    let popped = pop_members(ctx, key, end, request.count)?;
    ctx.reply.array_len(2);
    ctx.reply.bulk(key);
    ctx.reply.array_len(popped.members.len());
    answer_popped(ctx, key, end, &popped, true);
    Ok(true)
}

pub fn zmpop(ctx: &mut Ctx, args: Args) -> CommandResult {
    let request = parse_zset_multi_pop(args, 1)?;
    if !multi_pop(ctx, &request)? {
        ctx.reply.null_array();
    }
    Ok(())
}

pub fn bzmpop(ctx: &mut Ctx, args: Args) -> CommandResult {
    let request = parse_zset_multi_pop(args, 2)?;
    let timeout = parse_timeout(&args[1])?;
    if multi_pop(ctx, &request)? {
        return Ok(());
    }
    if !ctx.may_block() {
        ctx.reply.null_array();
        return Ok(());
    }
    ctx.block(args, request.keys.iter(), timeout, "zset");
    Ok(())
}

pub fn zrandmember(ctx: &mut Ctx, args: Args) -> CommandResult {
    let Some((count, with_scores)) = super::parse_random_count(args, "withscores")? else {
        let member = ctx
            .keys
            .lookup_read(&args[1], Entry::as_zset_mut)?
            .and_then(|z| z.random_member(&mut rand::rng()).map(|(m, _)| m.to_vec()));
        match member {
            Some(member) => ctx.reply.bulk(&member),
            None => ctx.reply.null(),
        }
        return Ok(());
    };
    let Some(zset) = ctx.keys.lookup_read(&args[1], Entry::as_zset_mut)? else {
        ctx.reply.array_len(0);
        return Ok(());
    };
    let zset: &ZSet = zset;
    let mut rng = rand::rng();
    let members = sampling::sample(
        zset.len(),
        count,
        &mut rng,
        |rng| {
            zset.random_member(rng)
                .map(|(m, _)| m.to_vec())
                .unwrap_or_default()
        },
        // Redis walks sorted sets from the top here.
        || zset.iter_from(0, true).map(|(m, _)| m.to_vec()).collect(),
    );
    let items: Scored = members
        .into_iter()
        .map(|m| {
            let score = zset.score(&m).unwrap_or(0.0);
            (m, score)
        })
        .collect();
    write_scored(ctx, &items, with_scores);
    Ok(())
}

// ---- algebra ----------------------------------------------------------------------

/// One input of ZUNION/ZINTER/ZDIFF: a sorted set, a plain set (every
/// member scored 1), or a missing key.
#[derive(Clone, Copy)]
enum Source<'a> {
    Missing,
    Sorted(&'a ZSet),
    Plain(&'a Set),
}

impl<'a> Source<'a> {
    fn len(&self) -> usize {
        match self {
            Source::Missing => 0,
            Source::Sorted(z) => z.len(),
            Source::Plain(s) => s.len(),
        }
    }

    fn members(&self) -> Vec<(Cow<'a, [u8]>, f64)> {
        match self {
            Source::Missing => Vec::new(),
            Source::Sorted(z) => z.iter().map(|(m, s)| (Cow::Borrowed(m), s)).collect(),
            Source::Plain(s) => s.iter().map(|m| (m, 1.0)).collect(),
        }
    }

    fn score(&self, member: &[u8]) -> Option<f64> {
        match self {
            Source::Missing => None,
            Source::Sorted(z) => z.score(member),
            Source::Plain(s) => s.contains(member).then_some(1.0),
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Operation {
    Union,
    Inter,
    Diff,
}

#[derive(Clone, Copy)]
enum Aggregate {
    Sum,
    Min,
    Max,
}

fn aggregate(target: &mut f64, value: f64, how: Aggregate) {
    match how {
        Aggregate::Sum => {
            *target += value;
            // +inf plus -inf: Redis's convention is 0.
            if target.is_nan() {
                *target = 0.0;
            }
        }
        Aggregate::Min => {
            if value < *target {
                *target = value;
            }
        }
        Aggregate::Max => {
            if value > *target {
                *target = value;
            }
        }
    }
}

/// What ZUNION/ZINTER/ZDIFF (and their STORE and CARD forms) compute.
struct AlgebraRequest {
    weights: Vec<f64>,
    aggregate: Aggregate,
    with_scores: bool,
    limit: usize,
}

/// Runs the algebra for keys announced at `numkeys_at`: returns the result
/// in score order (or just counts it, with `card_only`).
fn algebra(
    ctx: &mut Ctx,
    args: Args,
    numkeys_at: usize,
    op: Operation,
    store: bool,
    card_only: bool,
) -> Result<(Scored, bool), CommandError> {
    let command = ctx
        .shared
        .commands
        .resolve(args)
        .map(|i| ctx.shared.commands.spec(i).full_name())
        .unwrap_or_default();
    let numkeys = parse_int(&args[numkeys_at])?;
    if numkeys < 1 {
        return Err(CommandError::err(format!(
            "at least 1 input key is needed for '{}' command",
            command
        )));
    }
    if numkeys as u64 > (args.len() - numkeys_at - 1) as u64 {
        return Err(CommandError::Syntax);
    }
    let first_key = numkeys_at + 1;
    let after_keys = first_key + numkeys as usize;
    let names: Vec<&[u8]> = args.slice(first_key, after_keys).iter().collect();
    let values = ctx.keys.lookup_read_many(&names);
    let mut sources = Vec::with_capacity(values.len());
    for value in values {
        sources.push(match value {
            None => Source::Missing,
            Some(Contents::SortedSet(z)) => Source::Sorted(z),
            Some(Contents::Set(s)) => Source::Plain(s),
            Some(_) => return Err(CommandError::WrongType),
        });
    }
    let mut request = AlgebraRequest {
        weights: vec![1.0; sources.len()],
        aggregate: Aggregate::Sum,
        with_scores: false,
        limit: 0,
    };
    let mut j = after_keys;
    while j < args.len() {
        let remaining = args.len() - j;
        let arg = &args[j];
        if op != Operation::Diff
            && !card_only
            && remaining > sources.len()
            && eq_ignore_case(arg, "weights")
        {
            for (i, weight) in request.weights.iter_mut().enumerate() {
                *weight = c_numbers::parse_double(&args[j + 1 + i])
                    .ok_or_else(|| CommandError::err("weight value is not a float"))?;
            }
            j += 1 + sources.len();
        } else if op != Operation::Diff
            && !card_only
            && remaining >= 2
            && eq_ignore_case(arg, "aggregate")
        {
            let how = &args[j + 1];
            request.aggregate = if eq_ignore_case(how, "sum") {
                Aggregate::Sum
            } else if eq_ignore_case(how, "min") {
                Aggregate::Min
            } else if eq_ignore_case(how, "max") {
                Aggregate::Max
            } else {
                return Err(CommandError::Syntax);
            };
            j += 2;
        } else if !store && !card_only && eq_ignore_case(arg, "withscores") {
            request.with_scores = true;
            j += 1;
        } else if card_only && remaining >= 2 && eq_ignore_case(arg, "limit") {
            request.limit = parse_int(&args[j + 1])
                .ok()
                .and_then(|n| usize::try_from(n).ok())
                .ok_or_else(|| CommandError::err("LIMIT can't be negative"))?;
            j += 2;
        } else {
            return Err(CommandError::Syntax);
        }
    }
    let mut weighted: Vec<(Source, f64)> = sources
        .into_iter()
        .zip(request.weights.iter().copied())
        .collect();
    if op != Operation::Diff {
        weighted.sort_by_key(|(s, _)| s.len());
    }
    let result = match op {
        Operation::Inter => intersect(&weighted, request.aggregate, card_only, request.limit),
        Operation::Union => unite(&weighted, request.aggregate),
        Operation::Diff => subtract(&weighted),
    };
    Ok((result, request.with_scores))
}

fn weighted_score(score: f64, weight: f64) -> f64 {
    let value = score * weight;
    if value.is_nan() {
        0.0
    } else {
        value
    }
}

fn sort_scored(items: &mut Scored) {
    items.sort_by(|a, b| {
        a.1.partial_cmp(&b.1)
            .unwrap_or(std::cmp::Ordering::Equal)
            .then_with(|| a.0.cmp(&b.0))
    });
}

fn intersect(sources: &[(Source, f64)], how: Aggregate, card_only: bool, limit: usize) -> Scored {
    let Some(((first, first_weight), rest)) = sources.split_first() else {
        return Vec::new();
    };
    if first.len() == 0 {
        return Vec::new();
    }
    let mut result = Vec::new();
    'members: for (member, score) in first.members() {
        let mut total = weighted_score(score, *first_weight);
        for (source, weight) in rest {
            match source.score(&member) {
                Some(value) => aggregate(&mut total, value * weight, how),
                None => continue 'members,
            }
        }
        result.push((member.into_owned(), total));
        if card_only && limit != 0 && result.len() >= limit {
            break;
        }
    }
    if !card_only {
        sort_scored(&mut result);
    }
    result
}

fn unite(sources: &[(Source, f64)], how: Aggregate) -> Scored {
    let mut totals: HashMap<Vec<u8>, f64> = HashMap::new();
    for (source, weight) in sources {
        for (member, score) in source.members() {
            let value = weighted_score(score, *weight);
            match totals.get_mut(member.as_ref()) {
                Some(total) => aggregate(total, value, how),
                None => {
                    totals.insert(member.into_owned(), value);
                }
            }
        }
    }
    let mut result: Scored = totals.into_iter().collect();
    sort_scored(&mut result);
    result
}

fn subtract(sources: &[(Source, f64)]) -> Scored {
    let Some(((first, _), rest)) = sources.split_first() else {
        return Vec::new();
    };
    let mut result: Scored = first
        .members()
        .into_iter()
        .filter(|(member, _)| rest.iter().all(|(s, _)| s.score(member).is_none()))
        .map(|(m, s)| (m.into_owned(), s))
        .collect();
    sort_scored(&mut result);
    result
}

fn algebra_reply(ctx: &mut Ctx, args: Args, op: Operation) -> CommandResult {
    let (items, with_scores) = algebra(ctx, args, 1, op, false, false)?;
    write_scored(ctx, &items, with_scores);
    Ok(())
}

fn algebra_store(ctx: &mut Ctx, args: Args, op: Operation) -> CommandResult {
    let (items, _) = algebra(ctx, args, 2, op, true, false)?;
    let event = match op {
        Operation::Union => "zunionstore",
        Operation::Inter => "zinterstore",
        Operation::Diff => "zdiffstore",
    };
    store_scored(ctx, &args[1], items, event);
    Ok(())
}

pub fn zunion(ctx: &mut Ctx, args: Args) -> CommandResult {
    algebra_reply(ctx, args, Operation::Union)
}

pub fn zinter(ctx: &mut Ctx, args: Args) -> CommandResult {
    algebra_reply(ctx, args, Operation::Inter)
}

pub fn zdiff(ctx: &mut Ctx, args: Args) -> CommandResult {
    algebra_reply(ctx, args, Operation::Diff)
}

pub fn zunionstore(ctx: &mut Ctx, args: Args) -> CommandResult {
    algebra_store(ctx, args, Operation::Union)
}

pub fn zinterstore(ctx: &mut Ctx, args: Args) -> CommandResult {
    algebra_store(ctx, args, Operation::Inter)
}

pub fn zdiffstore(ctx: &mut Ctx, args: Args) -> CommandResult {
    algebra_store(ctx, args, Operation::Diff)
}

pub fn zintercard(ctx: &mut Ctx, args: Args) -> CommandResult {
    let (items, _) = algebra(ctx, args, 1, Operation::Inter, false, true)?;
    ctx.reply.integer(items.len() as i64);
    Ok(())
}

pub fn zscan(ctx: &mut Ctx, args: Args) -> CommandResult {
    let options = ScanOptions::parse(args, 2, false)?;
    let Some(zset) = ctx.keys.lookup_read(&args[1], Entry::as_zset_mut)? else {
        write_scan_reply::<&[u8]>(ctx, 0, &[]);
        return Ok(());
    };
    let zset: &ZSet = zset;
    let small = matches!(zset, ZSet::Listpack(_));
    let mut items = Vec::new();
    let cursor = scan_collection(&options, 2, &mut items, |cursor, items| {
        zset.scan(cursor, |member, score| {
            items.push(member.to_vec());
            // A small set shows its stored text (d2string), a large one %.17Lg.
            let text = if small {
                crate::util::format_d2string(score)
            } else {
                crate::util::format_double(score)
            };
            items.push(text.into_bytes());
        })
    });
    write_scan_reply(ctx, cursor, &items);
    Ok(())
}
