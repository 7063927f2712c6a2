//! The keyspace family: DEL, EXISTS, TYPE, KEYS, SCAN, RANDOMKEY, RENAME,
//! COPY, MOVE, DUMP/RESTORE, the expiry commands, TOUCH, OBJECT, and the
//! database-wide DBSIZE, FLUSHDB, FLUSHALL and SWAPDB.

use super::{parse_int, Ctx};
use crate::errors::{CommandError, CommandResult};
use crate::glob::glob_match;
use crate::protocol::Args;
use crate::storage::{class, evict, SHARD_COUNT};
use crate::util::eq_ignore_case;
use rand::Rng;

pub fn del(ctx: &mut Ctx, args: Args) -> CommandResult {
    let mut removed = 0;
    for key in args.from(1).iter() {
        if ctx.keys.remove(key).is_some() {
            ctx.notify(class::GENERIC, "del", key);
            removed += 1;
        }
    }
    ctx.reply.integer(removed);
    Ok(())
}

pub fn exists(ctx: &mut Ctx, args: Args) -> CommandResult {
    let count = args
        .from(1)
        .iter()
        .filter(|key| ctx.keys.peek_read(key).is_some())
        .count();
    ctx.reply.integer(count as i64);
    Ok(())
}

pub fn type_of(ctx: &mut Ctx, args: Args) -> CommandResult {
    let name = ctx
        .keys
        .peek_read(&args[1])
        .map(|e| e.type_name())
        .unwrap_or("none");
    ctx.reply.simple(name);
    Ok(())
}

pub fn touch(ctx: &mut Ctx, args: Args) -> CommandResult {
    let count = args
        .from(1)
        .iter()
        .filter(|key| ctx.keys.get_read(key).is_some())
        .count();
    ctx.reply.integer(count as i64);
    Ok(())
}

/// Keys of the current database matching `pattern` that have not expired.
fn matching_keys(ctx: &mut Ctx, pattern: &[u8]) -> Vec<Vec<u8>> {
    let now = ctx.now_ms();
    let db = ctx.keys.db;
    let match_all = pattern == b"*";
    let mut out = Vec::new();
    for table in ctx.keys.all_tables(db) {
        for entry in table.dict.iter() {
            let key = entry.key();
            if !entry.is_expired(now) && (match_all || glob_match(pattern, key, false)) {
                out.push(key.to_vec());
            }
        }
    }
    out
}

pub fn keys(ctx: &mut Ctx, args: Args) -> CommandResult {
    let found = matching_keys(ctx, &args[1]);
    ctx.reply.array_len(found.len());
    for key in &found {
        ctx.reply.bulk(key);
    }
    Ok(())
}

/// Reads a cursor the way Redis's `strtoul` does: an optional sign, digits,
/// nothing else; a negative value wraps around.
fn parse_cursor(text: &[u8]) -> Option<u64> {
    let s = std::str::from_utf8(text).ok()?;
    let (negative, digits) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let value: u64 = digits.parse().ok()?;
    Some(if negative {
        value.wrapping_neg()
    } else {
        value
    })
}

/// The arguments of SCAN, HSCAN, SSCAN and ZSCAN: a cursor, then options.
pub struct ScanOptions {
    pub cursor: u64,
    pub pattern: Option<Vec<u8>>,
    pub count: i64,
    /// SCAN's TYPE filter, lowercased (the per-key scans do not take one).
    pub type_filter: Option<Vec<u8>>,
}

impl ScanOptions {
    /// Parses the cursor at `args[at]` and the options after it.
    pub fn parse(args: Args, at: usize, allow_type: bool) -> Result<Self, CommandError> {
        let cursor = parse_cursor(&args[at]).ok_or_else(|| CommandError::err("invalid cursor"))?;
        let mut options = ScanOptions {
            cursor,
            pattern: None,
            count: 10,
            type_filter: None,
        };
        let mut i = at + 1;
        while i < args.len() {
            let has_next = i + 1 < args.len();
            if eq_ignore_case(&args[i], "count") && has_next {
                options.count = parse_int(&args[i + 1])?;
                if options.count < 1 {
                    return Err(CommandError::Syntax);
                }
            } else if eq_ignore_case(&args[i], "match") && has_next {
                options.pattern = Some(args[i + 1].to_vec());
            } else if allow_type && eq_ignore_case(&args[i], "type") && has_next {
                options.type_filter = Some(args[i + 1].to_ascii_lowercase());
            } else {
                return Err(CommandError::Syntax);
            }
            i += 2;
        }
        Ok(options)
    }

    /// Whether `item` passes MATCH.
    pub fn matches(&self, item: &[u8]) -> bool {
        self.pattern
            .as_ref()
            .is_none_or(|p| glob_match(p, item, false))
    }
}

/// Walks a collection for HSCAN, SSCAN or ZSCAN the way Redis's
/// `scanGenericCommand` does: `step` visits one bucket from a cursor,
/// appends what it found to `items` (`per_member` items per member: 2 for a
/// field and its value) and returns the next cursor. Stops at cursor 0, at
/// COUNT members collected, or after ten times as many steps; then drops
/// the members MATCH rejects. Returns the cursor to hand back.
pub fn scan_collection(
    options: &ScanOptions,
    per_member: usize,
    items: &mut Vec<Vec<u8>>,
    mut step: impl FnMut(u64, &mut Vec<Vec<u8>>) -> u64,
) -> u64 {
    let wanted = options.count.saturating_mul(per_member as i64);
    let mut iterations_left = wanted.saturating_mul(10);
    let mut cursor = options.cursor;
    loop {
        cursor = step(cursor, items);
        if cursor == 0 || iterations_left == 0 || items.len() as i64 >= wanted {
            break;
        }
        iterations_left -= 1;
    }
    if options.pattern.is_some() {
        let mut kept = Vec::with_capacity(items.len());
        let mut chunks = std::mem::take(items).into_iter();
        while let Some(member) = chunks.next() {
            let rest: Vec<Vec<u8>> = chunks.by_ref().take(per_member - 1).collect();
            if options.matches(&member) {
                kept.push(member);
                kept.extend(rest);
            }
        }
        *items = kept;
    }
    cursor
}

/// Writes a SCAN-family reply: the next cursor, then the items.
pub fn write_scan_reply<T: AsRef<[u8]>>(ctx: &mut Ctx, cursor: u64, items: &[T]) {
    ctx.reply.array_len(2);
    ctx.reply.bulk(cursor.to_string().as_bytes());
    ctx.reply.array_len(items.len());
    for item in items {
        ctx.reply.bulk(item.as_ref());
    }
}

/// SCAN's cursor combines a shard index (low bits) with that shard's table
/// cursor (see `storage::dict` for the reverse-binary walk that keeps
/// Redis's guarantee across resizes).
pub fn scan(ctx: &mut Ctx, args: Args) -> CommandResult {
    let ScanOptions {
        cursor,
        pattern,
        count,
        type_filter,
    } = ScanOptions::parse(args, 1, true)?;
    let now = ctx.now_ms();
    let db = ctx.keys.db;
    let shard_bits = SHARD_COUNT.trailing_zeros();
    let mut shard = (cursor as usize) & (SHARD_COUNT - 1);
    let mut table_cursor = cursor >> shard_bits;
    let mut found: Vec<Vec<u8>> = Vec::new();
    let mut expired: Vec<Vec<u8>> = Vec::new();
    let mut steps = 0i64;
    let max_steps = count.saturating_mul(10);
    let mut tables = ctx.keys.all_tables(db);
    let next_cursor = loop {
        let table = &mut tables[shard];
        table_cursor = table.dict.scan(table_cursor, |entry| {
            if entry.is_expired(now) {
                expired.push(entry.key().to_vec());
            } else {
                found.push(entry.key().to_vec());
            }
        });
        steps += 1;
        if table_cursor == 0 {
            shard += 1;
            if shard == SHARD_COUNT {
                break 0;
            }
        }
        if found.len() as i64 >= count || steps >= max_steps {
            break (table_cursor << shard_bits) | shard as u64;
        }
    };
    drop(tables);
    for key in expired {
        ctx.keys.remove(&key);
    }
    let keys: Vec<Vec<u8>> = found
        .into_iter()
        .filter(|key| pattern.as_ref().is_none_or(|p| glob_match(p, key, false)))
        .filter(|key| match &type_filter {
            None => true,
            Some(t) => ctx
                .keys
                .get(key)
                .is_some_and(|e| e.type_name().as_bytes() == t.as_slice()),
        })
        .collect();
    write_scan_reply(ctx, next_cursor, &keys);
    Ok(())
}

pub fn randomkey(ctx: &mut Ctx, _args: Args) -> CommandResult {
    let now = ctx.now_ms();
    let db = ctx.keys.db;
    let mut rng = rand::rng();
    let mut chosen: Option<Vec<u8>> = None;
    // Bounded retries: an expired pick is removed and another is drawn.
    for _ in 0..100 {
        let mut tables = ctx.keys.all_tables(db);
        let total: usize = tables.iter().map(|t| t.len()).sum();
        if total == 0 {
            break;
        }
        let mut pick = rng.random_range(0..total);
        let mut candidate = None;
        for table in tables.iter_mut() {
            if pick < table.len() {
                candidate = table
                    .dict
                    .random(&mut rng)
                    .map(|e| (e.key().to_vec(), e.is_expired(now)));
                break;
            }
            pick -= table.len();
        }
        drop(tables);
        match candidate {
            Some((key, false)) => {
                chosen = Some(key);
                break;
            }
            Some((key, true)) => {
                ctx.keys.remove(&key);
            }
            None => break,
        }
    }
    match chosen {
        Some(key) => ctx.reply.bulk(&key),
        None => ctx.reply.null(),
    }
    Ok(())
}

fn rename_generic(ctx: &mut Ctx, args: Args, only_if_absent: bool) -> CommandResult {
    let (source, target) = (&args[1], &args[2]);
    if !ctx.keys.exists(source) {
        return Err(CommandError::NoSuchKey);
    }
    if source == target {
        if only_if_absent {
            ctx.reply.integer(0);
        } else {
            ctx.reply.ok();
        }
        return Ok(());
    }
    if only_if_absent && ctx.keys.exists(target) {
        ctx.reply.integer(0);
        return Ok(());
    }
    let Some(entry) = ctx.keys.remove(source) else {
        return Err(CommandError::NoSuchKey);
    };
    ctx.keys.remove(target);
    ctx.keys.table(target).put_entry(entry.with_key(target));
    ctx.notify(class::GENERIC, "rename_from", source);
    ctx.notify(class::GENERIC, "rename_to", target);
    if only_if_absent {
        ctx.reply.integer(1);
    } else {
        ctx.reply.ok();
    }
    Ok(())
}

pub fn rename(ctx: &mut Ctx, args: Args) -> CommandResult {
    rename_generic(ctx, args, false)
}

pub fn renamenx(ctx: &mut Ctx, args: Args) -> CommandResult {
    rename_generic(ctx, args, true)
}

fn parse_db_index(ctx: &Ctx, arg: &[u8]) -> Result<usize, CommandError> {
    let index = parse_int(arg)?;
    if index < 0 || index as usize >= ctx.shared.keyspace.databases() || index > i32::MAX as i64 {
        return Err(CommandError::DbIndexOutOfRange);
    }
    Ok(index as usize)
}

/// DUMP key: the value in Redis's RDB encoding (see `storage::rdb`).
pub fn dump(ctx: &mut Ctx, args: Args) -> CommandResult {
    match ctx.keys.lookup_entry(&args[1]) {
        Some(entry) => {
            let payload = crate::storage::rdb::dump(entry.contents());
            ctx.reply.bulk(&payload);
        }
        None => ctx.reply.null(),
    }
    Ok(())
}

/// RESTORE key ttl payload [REPLACE] [ABSTTL] [IDLETIME s] [FREQ f].
pub fn restore(ctx: &mut Ctx, args: Args) -> CommandResult {
    let key = &args[1];
    let mut replace = false;
    let mut absolute = false;
    let mut idle: Option<i64> = None;
    let mut freq: Option<i64> = None;
    let mut i = 4;
    while i < args.len() {
        let more = i + 1 < args.len();
        if eq_ignore_case(&args[i], "replace") {
            replace = true;
        } else if eq_ignore_case(&args[i], "absttl") {
            absolute = true;
        } else if eq_ignore_case(&args[i], "idletime") && more && freq.is_none() {
            let seconds = parse_int(&args[i + 1])?;
            if seconds < 0 {
                return Err(CommandError::err("Invalid IDLETIME value, must be >= 0"));
            }
            idle = Some(seconds);
            i += 1;
        } else if eq_ignore_case(&args[i], "freq") && more && idle.is_none() {
            let count = parse_int(&args[i + 1])?;
            if !(0..=255).contains(&count) {
                return Err(CommandError::err(
                    "Invalid FREQ value, must be >= 0 and <= 255",
                ));
            }
            freq = Some(count);
            i += 1;
        } else {
            return Err(CommandError::Syntax);
        }
        i += 1;
    }
    if !replace && ctx.keys.peek(key).is_some() {
        return Err(CommandError::Raw(
            "BUSYKEY Target key name already exists.".into(),
        ));
    }
    let ttl = parse_int(&args[2])?;
    if ttl < 0 {
        return Err(CommandError::err("Invalid TTL value, must be >= 0"));
    }
    let limits = ctx.limits();
    let value = crate::storage::rdb::restore(&args[3], &limits).map_err(|error| match error {
        crate::storage::rdb::RestoreError::VersionOrChecksum => {
            CommandError::err("DUMP payload version or checksum are wrong")
        }
        crate::storage::rdb::RestoreError::BadFormat => CommandError::err("Bad data format"),
    })?;
    let replaced = replace && ctx.keys.remove(key).is_some();
    let now = ctx.now_ms();
    let deadline = match (ttl, absolute) {
        (0, _) => 0,
        (ms, true) => ms as u64,
        (ms, false) => now.saturating_add(ms as u64),
    };
    // Already past its deadline: the key is not created, as in Redis.
    if deadline != 0 && deadline <= now {
        if replaced {
            ctx.notify(class::GENERIC, "del", key);
        }
        ctx.reply.ok();
        return Ok(());
    }
    ctx.keys.set(key, value, deadline);
    ctx.notify(class::GENERIC, "restore", key);
    // As Redis's objectSetLRUOrLFU: FREQ counts under an LFU policy, IDLETIME under any other.
    let lfu = is_lfu_policy(ctx);
    if let Some(entry) = ctx.keys.peek(key) {
        match (lfu, idle, freq) {
            (false, Some(seconds), _) => {
                let idle_ms = (seconds.max(0) as u64).saturating_mul(1000);
                entry.set_access(evict::lru_clock(now.saturating_sub(idle_ms)));
            }
            (true, _, Some(count)) => {
                entry.set_access(evict::lfu_word(evict::lfu_minutes(now), count as u8));
            }
            _ => {}
        }
    }
    ctx.reply.ok();
    Ok(())
}

pub fn copy(ctx: &mut Ctx, args: Args) -> CommandResult {
    let (source, target) = (&args[1], &args[2]);
    let mut target_db = ctx.keys.db;
    let mut replace = false;
    let mut i = 3;
    while i < args.len() {
        if eq_ignore_case(&args[i], "replace") {
            replace = true;
        } else if eq_ignore_case(&args[i], "db") && i + 1 < args.len() {
            target_db = parse_db_index(ctx, &args[i + 1])?;
            i += 1;
        } else {
            return Err(CommandError::Syntax);
        }
        i += 1;
    }
    if source == target && target_db == ctx.keys.db {
        return Err(CommandError::SameObject);
    }
    let Some(entry) = ctx.keys.get_read(source).map(|e| e.clone()) else {
        ctx.reply.integer(0);
        return Ok(());
    };
    let now = ctx.now_ms();
    let table = ctx.keys.db_of(target_db, target);
    if table.contains_live(target, now) {
        if !replace {
            ctx.reply.integer(0);
            return Ok(());
        }
        table.remove(target, now);
    }
    table.put_entry(entry.with_key(target));
    table.notify(class::GENERIC, "copy_to", target);
    ctx.reply.integer(1);
    Ok(())
}

pub fn move_key(ctx: &mut Ctx, args: Args) -> CommandResult {
    let key = &args[1];
    let index = parse_int(&args[2]).map_err(|_| CommandError::NotInteger)?;
    if index < 0 || index as usize >= ctx.shared.keyspace.databases() {
        return Err(CommandError::DbIndexOutOfRange);
    }
    let target_db = index as usize;
    if target_db == ctx.keys.db {
        return Err(CommandError::SameObject);
    }
    let now = ctx.now_ms();
    if !ctx.keys.exists(key) || ctx.keys.db_of(target_db, key).contains_live(key, now) {
        ctx.reply.integer(0);
        return Ok(());
    }
    let Some(entry) = ctx.keys.remove(key) else {
        ctx.reply.integer(0);
        return Ok(());
    };
    ctx.keys.db_of(target_db, key).put_entry(entry);
    ctx.notify(class::GENERIC, "move_from", key);
    ctx.keys
        .notify_in(target_db, class::GENERIC, "move_to", key);
    ctx.reply.integer(1);
    Ok(())
}

pub fn dbsize(ctx: &mut Ctx, _args: Args) -> CommandResult {
    let db = ctx.keys.db;
    let total: usize = ctx.keys.all_tables(db).iter().map(|t| t.len()).sum();
    ctx.reply.integer(total as i64);
    Ok(())
}

fn check_flush_args(args: Args) -> CommandResult {
    match args.len() {
        1 => Ok(()),
        2 if eq_ignore_case(&args[1], "async") || eq_ignore_case(&args[1], "sync") => Ok(()),
        _ => Err(CommandError::Syntax),
    }
}

pub fn flushdb(ctx: &mut Ctx, args: Args) -> CommandResult {
    check_flush_args(args)?;
    let db = ctx.keys.db;
    for table in ctx.keys.all_tables(db) {
        table.flush();
    }
    // Like Redis, flushing one database drops the whole tracking table.
    crate::events::tracking::invalidate_everything(
        ctx.shared,
        ctx.keys.locked.shards_mut(),
        Some(ctx.client),
    );
    ctx.reply.ok();
    Ok(())
}

pub fn flushall(ctx: &mut Ctx, args: Args) -> CommandResult {
    check_flush_args(args)?;
    for shard in ctx.keys.locked.shards_mut() {
        for table in shard.dbs.iter_mut() {
            table.flush();
        }
    }
    crate::events::tracking::invalidate_everything(
        ctx.shared,
        ctx.keys.locked.shards_mut(),
        Some(ctx.client),
    );
    ctx.reply.ok();
    Ok(())
}

pub fn swapdb(ctx: &mut Ctx, args: Args) -> CommandResult {
    let databases = ctx.shared.keyspace.databases();
    let first = crate::util::parse_i64(&args[1])
        .ok_or_else(|| CommandError::err("invalid first DB index"))?;
    let second = crate::util::parse_i64(&args[2])
        .ok_or_else(|| CommandError::err("invalid second DB index"))?;
    if first < 0 || second < 0 || first as usize >= databases || second as usize >= databases {
        return Err(CommandError::DbIndexOutOfRange);
    }
    let (a, b) = (first as usize, second as usize);
    if a != b {
        for shard in ctx.keys.locked.shards_mut() {
            let data_b = shard.dbs[b].take_data();
            shard.dbs[a].touch_all_watched(Some(&data_b.0));
            let data_a = shard.dbs[a].take_data();
            shard.dbs[b].touch_all_watched(Some(&data_a.0));
            shard.dbs[a].put_data(data_b);
            shard.dbs[b].put_data(data_a);
        }
    }
    ctx.reply.ok();
    Ok(())
}

/// EXPIRE's NX/XX/GT/LT.
#[derive(Default)]
struct ExpireConditions {
    nx: bool,
    xx: bool,
    gt: bool,
    lt: bool,
}

fn parse_expire_conditions(args: Args) -> Result<ExpireConditions, CommandError> {
    let mut c = ExpireConditions::default();
    for arg in args.from(3).iter() {
        if eq_ignore_case(arg, "nx") {
            c.nx = true;
        } else if eq_ignore_case(arg, "xx") {
            c.xx = true;
        } else if eq_ignore_case(arg, "gt") {
            c.gt = true;
        } else if eq_ignore_case(arg, "lt") {
            c.lt = true;
        } else {
            return Err(CommandError::err(format!(
                "Unsupported option {}",
                String::from_utf8_lossy(arg)
            )));
        }
    }
    if c.nx && (c.xx || c.gt || c.lt) {
        return Err(CommandError::err(
            "NX and XX, GT or LT options at the same time are not compatible",
        ));
    }
    if c.gt && c.lt {
        return Err(CommandError::err(
            "GT and LT options at the same time are not compatible",
        ));
    }
    Ok(c)
}

fn expire_generic(ctx: &mut Ctx, args: Args, unit_ms: bool, absolute: bool) -> CommandResult {
    let key = &args[1];
    let command = String::from_utf8_lossy(&args[0]).to_lowercase();
    let mut when = parse_int(&args[2])?;
    let conditions = parse_expire_conditions(args)?;
    if !unit_ms {
        if !(i64::MIN / 1000..=i64::MAX / 1000).contains(&when) {
            return Err(CommandError::InvalidExpire(command));
        }
        when *= 1000;
    }
    let now = ctx.now_ms() as i64;
    if !absolute {
        if when > i64::MAX - now {
            return Err(CommandError::InvalidExpire(command));
        }
        when += now;
    }
    let Some(current) = ctx.keys.get(key).map(|e| e.deadline()) else {
        ctx.reply.integer(0);
        return Ok(());
    };
    let has_ttl = current != 0;
    let allowed = if conditions.nx {
        !has_ttl
    } else if conditions.xx && !has_ttl {
        false
    } else if conditions.gt {
        has_ttl && when > current as i64
    } else if conditions.lt {
        !has_ttl || when < current as i64
    } else {
        true
    };
    if !allowed {
        ctx.reply.integer(0);
        return Ok(());
    }
    // Redis's order, which a client subscribed to its own events sees.
    if when <= now {
        ctx.keys.remove(key);
        ctx.notify(class::GENERIC, "del", key);
        ctx.reply.integer(1);
    } else {
        ctx.keys.set_expiry(key, when as u64);
        ctx.reply.integer(1);
        ctx.notify(class::GENERIC, "expire", key);
    }
    Ok(())
}

pub fn expire(ctx: &mut Ctx, args: Args) -> CommandResult {
    expire_generic(ctx, args, false, false)
}

pub fn pexpire(ctx: &mut Ctx, args: Args) -> CommandResult {
    expire_generic(ctx, args, true, false)
}

pub fn expireat(ctx: &mut Ctx, args: Args) -> CommandResult {
    expire_generic(ctx, args, false, true)
}

pub fn pexpireat(ctx: &mut Ctx, args: Args) -> CommandResult {
    expire_generic(ctx, args, true, true)
}

fn ttl_generic(ctx: &mut Ctx, args: Args, output_ms: bool, absolute: bool) -> CommandResult {
    let now = ctx.now_ms() as i64;
    let Some(deadline) = ctx.keys.peek_read(&args[1]).map(|e| e.deadline()) else {
        ctx.reply.integer(-2);
        return Ok(());
    };
    if deadline == 0 {
        ctx.reply.integer(-1);
        return Ok(());
    }
    let value = if absolute {
        deadline as i64
    } else {
        (deadline as i64 - now).max(0)
    };
    ctx.reply.integer(if output_ms {
        value
    } else {
        (value + 500) / 1000
    });
    Ok(())
}

pub fn ttl(ctx: &mut Ctx, args: Args) -> CommandResult {
    ttl_generic(ctx, args, false, false)
}

pub fn pttl(ctx: &mut Ctx, args: Args) -> CommandResult {
    ttl_generic(ctx, args, true, false)
}

pub fn expiretime(ctx: &mut Ctx, args: Args) -> CommandResult {
    ttl_generic(ctx, args, false, true)
}

pub fn pexpiretime(ctx: &mut Ctx, args: Args) -> CommandResult {
    ttl_generic(ctx, args, true, true)
}

pub fn persist(ctx: &mut Ctx, args: Args) -> CommandResult {
    let key = &args[1];
    let has_ttl = ctx.keys.get(key).is_some_and(|e| e.deadline() != 0);
    if has_ttl {
        ctx.keys.set_expiry(key, 0);
        ctx.notify(class::GENERIC, "persist", key);
    }
    ctx.reply.integer(has_ttl as i64);
    Ok(())
}

fn is_lfu_policy(ctx: &Ctx) -> bool {
    ctx.shared.keyspace.eviction.policy().is_lfu()
}

pub fn object_encoding(ctx: &mut Ctx, args: Args) -> CommandResult {
    match ctx.keys.peek(&args[2]).map(|e| e.encoding_name()) {
        Some(name) => ctx.reply.bulk(name.as_bytes()),
        None => ctx.reply.null(),
    }
    Ok(())
}

pub fn object_idletime(ctx: &mut Ctx, args: Args) -> CommandResult {
    if ctx.keys.peek(&args[2]).is_none() {
        ctx.reply.null();
        return Ok(());
    }
    if is_lfu_policy(ctx) {
        return Err(CommandError::err("An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust."));
    }
    let now = ctx.now_ms();
    match ctx.keys.peek(&args[2]) {
        Some(entry) => ctx
            .reply
            .integer((evict::idle_ms(entry, now) / 1000) as i64),
        None => ctx.reply.null(),
    }
    Ok(())
}

pub fn object_freq(ctx: &mut Ctx, args: Args) -> CommandResult {
    // Like Redis, a missing key answers nil before the policy is checked.
    if ctx.keys.peek(&args[2]).is_none() {
        ctx.reply.null();
        return Ok(());
    }
    if !is_lfu_policy(ctx) {
        return Err(CommandError::err("An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust."));
    }
    let now = ctx.now_ms();
    let settings = ctx.shared.keyspace.eviction.clone();
    match ctx.keys.peek(&args[2]) {
        Some(entry) => ctx.reply.integer(settings.lfu_decayed(entry, now) as i64),
        None => ctx.reply.null(),
    }
    Ok(())
}

/// Redis keeps the integers 0..9999 as shared objects (unless an LRU/LFU
/// policy needs per-key access data) and reports INT_MAX for them; clients
/// and the test suite see that figure, so cachet reports the same for such
/// values. Every other value has exactly one owner.
pub fn object_refcount(ctx: &mut Ctx, args: Args) -> CommandResult {
    let shares_integers = {
        let policy = ctx.shared.keyspace.eviction.policy();
        ctx.shared.config.read().maxmemory == 0
            || !(policy.is_lfu() || policy.name().ends_with("-lru"))
    };
    let refcount = match ctx.keys.peek(&args[2]).map(|e| e.contents()) {
        None => {
            ctx.reply.null();
            return Ok(());
        }
        Some(crate::storage::Contents::Str(bytes))
            if shares_integers
                && crate::util::parse_i64(bytes).is_some_and(|n| (0..10_000).contains(&n)) =>
        {
            i32::MAX as i64
        }
        Some(_) => 1,
    };
    ctx.reply.integer(refcount);
    Ok(())
}

pub fn object_help(ctx: &mut Ctx, _args: Args) -> CommandResult {
    super::server::write_help(
        ctx,
        "OBJECT",
        &[
            "ENCODING <key>",
            "    Return the kind of internal representation used in order to store the value",
            "    associated with a <key>.",
            "FREQ <key>",
            "    Return the access frequency index of the <key>. The returned integer is",
            "    proportional to the logarithm of the recent access frequency of the key.",
            "IDLETIME <key>",
            "    Return the idle time of the <key>, that is the approximated number of",
            "    seconds elapsed since the last access to the key.",
            "REFCOUNT <key>",
            "    Return the number of references of the value associated with the specified",
            "    <key>.",
        ],
    );
    Ok(())
}

/// Bytes a key and its value occupy, as MEMORY USAGE estimates them: the
/// key, the value's payload and the per-entry bookkeeping (table node,
/// entry record, allocation headers).
pub fn memory_usage(ctx: &mut Ctx, args: Args) -> CommandResult {
    let mut i = 3;
    while i < args.len() {
        if eq_ignore_case(&args[i], "samples") && i + 1 < args.len() {
            if parse_int(&args[i + 1])? < 0 {
                return Err(CommandError::Syntax);
            }
            i += 2;
        } else {
            return Err(CommandError::Syntax);
        }
    }
    let key = &args[2];
    match ctx.keys.peek(key).map(|e| e.approx_bytes()) {
        Some(size) => ctx.reply.integer(size as i64),
        None => ctx.reply.null(),
    }
    Ok(())
}

pub fn memory_help(ctx: &mut Ctx, _args: Args) -> CommandResult {
    super::server::write_help(
        ctx,
        "MEMORY",
        &[
            "DOCTOR",
            "    Return memory problems reports.",
            "STATS",
            "    Return information about the memory usage of the server.",
            "USAGE <key> [SAMPLES <count>]",
            "    Return memory in bytes used by <key> and its value. Nested values are",
            "    sampled up to <count> times (default: 5, 0 means sample all).",
        ],
    );
    Ok(())
}
