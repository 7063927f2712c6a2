//! The string family: GET, SET and its variants, MGET/MSET, counters,
//! ranges, APPEND and LCS, with Redis 7.0's replies and errors.

use super::{parse_int, Ctx};
use crate::errors::{CommandError, CommandResult};
use crate::protocol::Args;
use crate::storage::{class, Value};
use crate::util::c_numbers::{self, IncrementError};
use crate::util::{eq_ignore_case, parse_i64};

fn check_length(ctx: &Ctx, len: u64) -> CommandResult {
    let max = ctx
        .shared
        .hot
        .proto_max_bulk_len
        .load(std::sync::atomic::Ordering::Relaxed);
    if len > max {
        return Err(CommandError::StringTooLong);
    }
    Ok(())
}

pub fn get(ctx: &mut Ctx, args: Args) -> CommandResult {
    match ctx.keys.read_string(&args[1])? {
        Some(bytes) => ctx.reply.bulk(bytes),
        None => ctx.reply.null(),
    }
    Ok(())
}

/// Turns an EX/PX/EXAT/PXAT argument into an absolute deadline, with Redis's checks.
fn deadline_from(
    ctx: &Ctx,
    arg: &[u8],
    unit_ms: bool,
    absolute: bool,
    command: &str,
) -> Result<u64, CommandError> {
    let value = parse_int(arg)?;
    if value <= 0 || (!unit_ms && value > i64::MAX / 1000) {
        return Err(CommandError::InvalidExpire(command.to_string()));
    }
    let mut ms = if unit_ms { value } else { value * 1000 };
    if !absolute {
        ms = ms
            .checked_add(ctx.now_ms() as i64)
            .ok_or_else(|| CommandError::InvalidExpire(command.to_string()))?;
    }
    Ok(ms as u64)
}

/// Options of SET and GETEX, parsed with the rules of Redis's
/// `parseExtendedStringArgumentsOrReply`: a flag may repeat, but flags that
/// contradict each other (NX with XX, two kinds of expiry) are a syntax error.
#[derive(Default)]
struct StringOptions {
    nx: bool,
    xx: bool,
    get: bool,
    keep_ttl: bool,
    persist: bool,
    /// The expiry argument: (unit is ms, deadline is absolute, argument index).
    expire: Option<(bool, bool, usize)>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum StringCommand {
    Set,
    Getex,
}

fn parse_string_options(
    args: Args,
    start: usize,
    command: StringCommand,
) -> Result<StringOptions, CommandError> {
    let mut o = StringOptions::default();
    let is_set = command == StringCommand::Set;
    let mut i = start;
    while i < args.len() {
        let arg = &args[i];
        let has_next = i + 1 < args.len();
        let expire_kind = o.expire.map(|(ms, abs, _)| (ms, abs));
        let expiry = |ms: bool, abs: bool| {
            !o.keep_ttl
                && !o.persist
                && expire_kind.is_none_or(|kind| kind == (ms, abs))
                && has_next
        };
        if eq_ignore_case(arg, "nx") && !o.xx && is_set {
            o.nx = true;
        } else if eq_ignore_case(arg, "xx") && !o.nx && is_set {
            o.xx = true;
        } else if eq_ignore_case(arg, "get") && is_set {
            o.get = true;
        } else if eq_ignore_case(arg, "keepttl") && !o.persist && o.expire.is_none() && is_set {
            o.keep_ttl = true;
        } else if eq_ignore_case(arg, "persist") && !is_set && o.expire.is_none() && !o.keep_ttl {
            o.persist = true;
        } else if eq_ignore_case(arg, "ex") && expiry(false, false) {
            o.expire = Some((false, false, i + 1));
            i += 1;
        } else if eq_ignore_case(arg, "px") && expiry(true, false) {
            o.expire = Some((true, false, i + 1));
            i += 1;
        } else if eq_ignore_case(arg, "exat") && expiry(false, true) {
            o.expire = Some((false, true, i + 1));
            i += 1;
        } else if eq_ignore_case(arg, "pxat") && expiry(true, true) {
            o.expire = Some((true, true, i + 1));
            i += 1;
        } else {
            return Err(CommandError::Syntax);
        }
        i += 1;
    }
    Ok(o)
}

/// The absolute deadline the options ask for, validated as Redis does.
fn options_deadline(
    ctx: &Ctx,
    args: Args,
    o: &StringOptions,
    command: &str,
) -> Result<Option<u64>, CommandError> {
    match o.expire {
        None => Ok(None),
        Some((unit_ms, absolute, index)) => {
            deadline_from(ctx, &args[index], unit_ms, absolute, command).map(Some)
        }
    }
}

pub fn set(ctx: &mut Ctx, args: Args) -> CommandResult {
    let options = parse_string_options(args, 3, StringCommand::Set)?;
    let deadline = options_deadline(ctx, args, &options, "set")?;
    let key = &args[1];
    // GET reads the old value first, as a read (a miss sends `keymiss`).
    let old_value = if options.get {
        ctx.keys.read_string(key)?.map(|bytes| bytes.to_vec())
    } else {
        None
    };
    let now = ctx.now_ms();
    let table = ctx.keys.table(key);
    let existing = table.get_live(key, now);
    let exists = existing.is_some();
    let old_deadline = existing.as_ref().map(|e| e.deadline()).unwrap_or(0);
    let allowed = if exists { !options.nx } else { !options.xx };
    if allowed {
        let deadline = match deadline {
            Some(at) => at,
            None if options.keep_ttl => old_deadline,
            None => 0,
        };
        table.set_string(key, &args[2], deadline, now);
        table.notify(class::STRING, "set", key);
        if options.expire.is_some() {
            table.notify(class::GENERIC, "expire", key);
        }
    }
    if options.get {
        match old_value {
            Some(bytes) => ctx.reply.bulk(&bytes),
            None => ctx.reply.null(),
        }
    } else if allowed {
        ctx.reply.ok();
    } else {
        ctx.reply.null();
    }
    Ok(())
}

pub fn setnx(ctx: &mut Ctx, args: Args) -> CommandResult {
    let key = &args[1];
    if ctx.keys.exists(key) {
        ctx.reply.integer(0);
    } else {
        ctx.keys.set_string(key, &args[2], 0);
        ctx.notify(class::STRING, "set", key);
        ctx.reply.integer(1);
    }
    Ok(())
}

fn set_with_ttl(ctx: &mut Ctx, args: Args, unit_ms: bool, command: &str) -> CommandResult {
    let deadline = deadline_from(ctx, &args[2], unit_ms, false, command)?;
    ctx.keys.set_string(&args[1], &args[3], deadline);
    ctx.notify(class::STRING, "set", &args[1]);
    ctx.notify(class::GENERIC, "expire", &args[1]);
    ctx.reply.ok();
    Ok(())
}

pub fn setex(ctx: &mut Ctx, args: Args) -> CommandResult {
    set_with_ttl(ctx, args, false, "setex")
}

pub fn psetex(ctx: &mut Ctx, args: Args) -> CommandResult {
    set_with_ttl(ctx, args, true, "psetex")
}

pub fn mget(ctx: &mut Ctx, args: Args) -> CommandResult {
    ctx.reply.array_len(args.len() - 1);
    for key in args.from(1).iter() {
        match ctx.keys.read_string(key) {
            Ok(Some(bytes)) => ctx.reply.bulk(bytes),
            // A key of another type reads as missing (but counts as a hit).
            _ => ctx.reply.null(),
        }
    }
    Ok(())
}

pub fn mset(ctx: &mut Ctx, args: Args) -> CommandResult {
    if args.len().is_multiple_of(2) {
        return Err(CommandError::WrongArity("mset".into()));
    }
    for pair in (1..args.len()).step_by(2) {
        ctx.keys.set_string(&args[pair], &args[pair + 1], 0);
        ctx.notify(class::STRING, "set", &args[pair]);
    }
    ctx.reply.ok();
    Ok(())
}

pub fn msetnx(ctx: &mut Ctx, args: Args) -> CommandResult {
    if args.len().is_multiple_of(2) {
        return Err(CommandError::WrongArity("msetnx".into()));
    }
    let any_exists = (1..args.len())
        .step_by(2)
        .any(|i| ctx.keys.exists(&args[i]));
    if any_exists {
        ctx.reply.integer(0);
        return Ok(());
    }
    // A repeated key is simply set twice, the last value winning (CVE-2023-28425).
    for pair in (1..args.len()).step_by(2) {
        ctx.keys.set_string(&args[pair], &args[pair + 1], 0);
        ctx.notify(class::STRING, "set", &args[pair]);
    }
    ctx.reply.integer(1);
    Ok(())
}

pub fn getset(ctx: &mut Ctx, args: Args) -> CommandResult {
    let key = &args[1];
    let old = ctx.keys.read_string(key)?.map(|b| b.to_vec());
    // Redis answers with the old value before it writes (and notifies).
    match old {
        Some(bytes) => ctx.reply.bulk(&bytes),
        None => ctx.reply.null(),
    }
    ctx.keys.set_string(key, &args[2], 0);
    ctx.notify(class::STRING, "set", key);
    Ok(())
}

pub fn getdel(ctx: &mut Ctx, args: Args) -> CommandResult {
    let key = &args[1];
    if ctx.keys.read_string(key)?.is_none() {
        ctx.reply.null();
        return Ok(());
    }
    let removed = ctx.keys.remove(key).map(|e| e.into_value());
    match &removed {
        Some(Value::Str(bytes)) => ctx.reply.bulk(bytes),
        _ => ctx.reply.null(),
    }
    if removed.is_some() {
        ctx.notify(class::GENERIC, "del", key);
    }
    Ok(())
}

pub fn getex(ctx: &mut Ctx, args: Args) -> CommandResult {
    let options = parse_string_options(args, 2, StringCommand::Getex)?;
    let key = &args[1];
    let Some(value) = ctx.keys.read_string(key)?.map(|b| b.to_vec()) else {
        ctx.reply.null();
        return Ok(());
    };
    // Like Redis, the expiry is validated only once the key is known to
    // exist, and the value is answered before the key changes.
    let deadline = options_deadline(ctx, args, &options, "getex")?;
    ctx.reply.bulk(&value);
    match deadline {
        Some(at) if at <= ctx.now_ms() => {
            ctx.keys.remove(key);
            ctx.notify(class::GENERIC, "del", key);
        }
        Some(at) => {
            ctx.keys.set_expiry(key, at);
            ctx.notify(class::GENERIC, "expire", key);
        }
        None if options.persist => {
            let has_ttl = ctx.keys.peek(key).is_some_and(|e| e.deadline() != 0);
            if has_ttl {
                ctx.keys.set_expiry(key, 0);
                ctx.notify(class::GENERIC, "persist", key);
            }
        }
        None => {}
    }
    Ok(())
}

pub fn append(ctx: &mut Ctx, args: Args) -> CommandResult {
    let key = &args[1];
    let addition = &args[2];
    let current_len = ctx.keys.write_string(key)?.map(|b| b.len());
    match current_len {
        None => {
            check_length(ctx, addition.len() as u64)?;
            ctx.keys.set_string(key, addition, 0);
            ctx.notify(class::STRING, "append", key);
            ctx.reply.integer(addition.len() as i64);
        }
        Some(len) => {
            check_length(ctx, (len + addition.len()) as u64)?;
            let mut new_len = 0;
            if let Some(entry) = ctx.keys.get_for_write(key) {
                if let Some(bytes) = entry.string_mut() {
                    bytes.extend_from_slice(addition);
                    new_len = bytes.len();
                }
            }
            ctx.notify(class::STRING, "append", key);
            ctx.reply.integer(new_len as i64);
        }
    }
    Ok(())
}

pub fn strlen(ctx: &mut Ctx, args: Args) -> CommandResult {
    let len = ctx
        .keys
        .read_string(&args[1])?
        .map(|b| b.len())
        .unwrap_or(0);
    ctx.reply.integer(len as i64);
    Ok(())
}

pub fn getrange(ctx: &mut Ctx, args: Args) -> CommandResult {
    let start = parse_int(&args[2])?;
    let end = parse_int(&args[3])?;
    let Some(bytes) = ctx.keys.read_string(&args[1])? else {
        ctx.reply.bulk(b"");
        return Ok(());
    };
    let len = bytes.len() as i64;
    if (start < 0 && end < 0 && start > end) || len == 0 {
        ctx.reply.bulk(b"");
        return Ok(());
    }
    let mut start = if start < 0 { len + start } else { start };
    let mut end = if end < 0 { len + end } else { end };
    start = start.max(0);
    end = end.max(0);
    if end >= len {
        end = len - 1;
    }
    if start > end {
        ctx.reply.bulk(b"");
        return Ok(());
    }
    let slice = bytes[start as usize..=end as usize].to_vec();
    ctx.reply.bulk(&slice);
    Ok(())
}

pub fn setrange(ctx: &mut Ctx, args: Args) -> CommandResult {
    let key = &args[1];
    let offset = parse_int(&args[2])?;
    let value = &args[3];
    if offset < 0 {
        return Err(CommandError::OffsetOutOfRange);
    }
    let current = ctx.keys.write_string(key)?.map(|b| b.len());
    let Some(current_len) = current else {
        if value.is_empty() {
            ctx.reply.integer(0);
            return Ok(());
        }
        check_length(ctx, offset as u64 + value.len() as u64)?;
        let mut bytes = vec![0u8; offset as usize];
        bytes.extend_from_slice(value);
        let len = bytes.len();
        ctx.keys.set_string(key, &bytes, 0);
        ctx.notify(class::STRING, "setrange", key);
        ctx.reply.integer(len as i64);
        return Ok(());
    };
    if value.is_empty() {
        ctx.reply.integer(current_len as i64);
        return Ok(());
    }
    check_length(ctx, offset as u64 + value.len() as u64)?;
    let mut new_len = current_len;
    if let Some(entry) = ctx.keys.get_for_write(key) {
        if let Some(bytes) = entry.string_mut() {
            let offset = offset as usize;
            if bytes.len() < offset + value.len() {
                bytes.resize(offset + value.len(), 0);
            }
            bytes[offset..offset + value.len()].copy_from_slice(value);
            new_len = bytes.len();
        }
    }
    ctx.notify(class::STRING, "setrange", key);
    ctx.reply.integer(new_len as i64);
    Ok(())
}

/// Adds `delta` to the integer at `key` (0 if absent) and answers the result.
fn increment(ctx: &mut Ctx, key: &[u8], delta: i64) -> CommandResult {
    let now = ctx.now_ms();
    let table = ctx.keys.table(key);
    let result = match table.get_for_write(key, now) {
        None => {
            let mut buffer = [0u8; 20];
            let text = crate::protocol::reply::format_i64(delta, &mut buffer);
            table.set_string(key, text, 0, now);
            delta
        }
        Some(entry) => {
            let bytes = entry.string().ok_or(CommandError::WrongType)?;
            let current = parse_i64(bytes).ok_or(CommandError::NotInteger)?;
            let next = current.checked_add(delta).ok_or(CommandError::Overflow)?;
            let mut buffer = [0u8; 20];
            let text = crate::protocol::reply::format_i64(next, &mut buffer);
            entry.set_string(text);
            next
        }
    };
    ctx.notify(class::STRING, "incrby", key);
    ctx.reply.integer(result);
    Ok(())
}

pub fn incr(ctx: &mut Ctx, args: Args) -> CommandResult {
    increment(ctx, &args[1], 1)
}

pub fn decr(ctx: &mut Ctx, args: Args) -> CommandResult {
    increment(ctx, &args[1], -1)
}

pub fn incrby(ctx: &mut Ctx, args: Args) -> CommandResult {
    let delta = parse_int(&args[2])?;
    increment(ctx, &args[1], delta)
}

pub fn decrby(ctx: &mut Ctx, args: Args) -> CommandResult {
    let delta = parse_int(&args[2])?;
    if delta == i64::MIN {
        return Err(CommandError::err("decrement would overflow"));
    }
    increment(ctx, &args[1], -delta)
}

pub fn incrbyfloat(ctx: &mut Ctx, args: Args) -> CommandResult {
    let key = &args[1];
    let current = ctx.keys.write_string(key)?;
    let text = c_numbers::increment(current, &args[2], false).map_err(|error| match error {
        IncrementError::BadCurrent | IncrementError::BadIncrement => CommandError::NotFloat,
        IncrementError::IncrementNotFinite | IncrementError::ResultNotFinite => {
            CommandError::IncrNanOrInf
        }
    })?;
    let now = ctx.now_ms();
    let table = ctx.keys.table(key);
    match table.get_for_write(key, now) {
        Some(entry) => entry.set_string(&text),
        None => table.set_string(key, &text, 0, now),
    }
    table.notify(class::STRING, "incrbyfloat", key);
    ctx.reply.bulk(&text);
    Ok(())
}

pub fn lcs(ctx: &mut Ctx, args: Args) -> CommandResult {
    let mut want_len = false;
    let mut want_idx = false;
    let mut with_match_len = false;
    let mut min_match_len: i64 = 0;
    let mut i = 3;
    while i < args.len() {
        let arg = &args[i];
        if eq_ignore_case(arg, "idx") {
            want_idx = true;
        } else if eq_ignore_case(arg, "len") {
            want_len = true;
        } else if eq_ignore_case(arg, "withmatchlen") {
            with_match_len = true;
        } else if eq_ignore_case(arg, "minmatchlen") && i + 1 < args.len() {
            min_match_len = parse_int(&args[i + 1])?.max(0);
            i += 1;
        } else {
            return Err(CommandError::Syntax);
        }
        i += 1;
    }
    let a = lcs_operand(ctx, &args[1])?;
    let b = lcs_operand(ctx, &args[2])?;
    if want_idx && want_len {
        return Err(CommandError::err(
            "If you want both the length and indexes, please just use IDX.",
        ));
    }
    let cells = (a.len() as u64 + 1) * (b.len() as u64 + 1);
    let max = ctx
        .shared
        .hot
        .proto_max_bulk_len
        .load(std::sync::atomic::Ordering::Relaxed);
    if cells >= u32::MAX as u64 || cells * 4 > max {
        return Err(CommandError::err(
            "Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len",
        ));
    }
    let result = longest_common_subsequence(&a, &b, min_match_len as usize);
    if want_len {
        ctx.reply.integer(result.text.len() as i64);
    } else if want_idx {
        ctx.reply.map_len(2);
        ctx.reply.bulk(b"matches");
        ctx.reply.array_len(result.matches.len());
        for m in &result.matches {
            ctx.reply.array_len(if with_match_len { 3 } else { 2 });
            ctx.reply.array_len(2);
            ctx.reply.integer(m.a.0 as i64);
            ctx.reply.integer(m.a.1 as i64);
            ctx.reply.array_len(2);
            ctx.reply.integer(m.b.0 as i64);
            ctx.reply.integer(m.b.1 as i64);
            if with_match_len {
                ctx.reply.integer(m.len as i64);
            }
        }
        ctx.reply.bulk(b"len");
        ctx.reply.integer(result.text.len() as i64);
    } else {
        ctx.reply.bulk(&result.text);
    }
    Ok(())
}

fn lcs_operand(ctx: &mut Ctx, key: &[u8]) -> Result<Vec<u8>, CommandError> {
    match ctx.keys.get_read(key) {
        None => Ok(Vec::new()),
        Some(entry) => match entry.string() {
            Some(bytes) => Ok(bytes.to_vec()),
            None => Err(CommandError::err(
                "The specified keys must contain string values",
            )),
        },
    }
}

struct LcsMatch {
    a: (usize, usize),
    b: (usize, usize),
    len: usize,
}

struct LcsResult {
    text: Vec<u8>,
    matches: Vec<LcsMatch>,
}

/// The classic dynamic program, then a walk back from the end that reports
/// matching ranges from last to first, as Redis does.
fn longest_common_subsequence(a: &[u8], b: &[u8], min_match_len: usize) -> LcsResult {
    let (alen, blen) = (a.len(), b.len());
    let width = blen + 1;
    let mut table = vec![0u32; (alen + 1) * width];
    for i in 1..=alen {
        for j in 1..=blen {
            table[i * width + j] = if a[i - 1] == b[j - 1] {
                table[(i - 1) * width + j - 1] + 1
            } else {
                table[(i - 1) * width + j].max(table[i * width + j - 1])
            };
        }
    }
    let mut idx = table[alen * width + blen] as usize;
    let mut text = vec![0u8; idx];
    let mut matches = Vec::new();
    let (mut i, mut j) = (alen, blen);
    let none = alen;
    let (mut a_start, mut a_end, mut b_start, mut b_end) = (none, 0, 0, 0);
    while i > 0 && j > 0 {
        let mut emit = false;
        if a[i - 1] == b[j - 1] {
            text[idx - 1] = a[i - 1];
            if a_start == none {
                a_start = i - 1;
                a_end = i - 1;
                b_start = j - 1;
                b_end = j - 1;
            } else if a_start == i && b_start == j {
                a_start -= 1;
                b_start -= 1;
            } else {
                emit = true;
            }
            if a_start == 0 || b_start == 0 {
                emit = true;
            }
            idx -= 1;
            i -= 1;
            j -= 1;
        } else {
            if table[(i - 1) * width + j] > table[i * width + j - 1] {
                i -= 1;
            } else {
                j -= 1;
            }
            if a_start != none {
                emit = true;
            }
        }
        if emit {
            let len = a_end - a_start + 1;
            if min_match_len == 0 || len >= min_match_len {
                matches.push(LcsMatch {
                    a: (a_start, a_end),
                    b: (b_start, b_end),
                    len,
                });
            }
            a_start = none;
        }
    }
    LcsResult { text, matches }
}

/// Parses a bit offset: a non-negative integer addressing a bit inside the
/// largest string `proto-max-bulk-len` allows.
fn parse_bit_offset(ctx: &Ctx, arg: &[u8]) -> Result<usize, CommandError> {
    let max_bytes = ctx
        .shared
        .hot
        .proto_max_bulk_len
        .load(std::sync::atomic::Ordering::Relaxed);
    match parse_i64(arg) {
        Some(offset) if offset >= 0 && (offset as u64 >> 3) < max_bytes => Ok(offset as usize),
        _ => Err(CommandError::err(
            "bit offset is not an integer or out of range",
        )),
    }
}

pub fn setbit(ctx: &mut Ctx, args: Args) -> CommandResult {
    let key = &args[1];
    let offset = parse_bit_offset(ctx, &args[2])?;
    let on = match &args[3] {
        b"1" => true,
        b"0" => false,
        _ => return Err(CommandError::err("bit is not an integer or out of range")),
    };
    let byte = offset >> 3;
    let mask = 0x80u8 >> (offset & 7);
    match ctx.keys.write_string(key)? {
        None => ctx.keys.set_string(key, b"", 0),
        Some(bytes) if byte < bytes.len() && (bytes[byte] & mask != 0) == on => {
            // Nothing changes: no write, no event (as in Redis).
            ctx.reply.integer(on as i64);
            return Ok(());
        }
        Some(_) => {}
    }
    let mut previous = false;
    if let Some(entry) = ctx.keys.get_for_write(key) {
        if let Some(bytes) = entry.string_mut() {
            if bytes.len() <= byte {
                bytes.resize(byte + 1, 0);
            }
            previous = bytes[byte] & mask != 0;
            if on {
                bytes[byte] |= mask;
            } else {
                bytes[byte] &= !mask;
            }
        }
    }
    ctx.notify(class::STRING, "setbit", key);
    ctx.reply.integer(previous as i64);
    Ok(())
}

pub fn getbit(ctx: &mut Ctx, args: Args) -> CommandResult {
    let offset = parse_bit_offset(ctx, &args[2])?;
    let bit = ctx
        .keys
        .read_string(&args[1])?
        .and_then(|bytes| bytes.get(offset >> 3).copied())
        .is_some_and(|b| b & (0x80 >> (offset & 7)) != 0);
    ctx.reply.integer(bit as i64);
    Ok(())
}
