//! Commands: the one command table (`table.rs`), the dispatcher (here), and
//! one file per family of commands.
//!
//! Dispatch follows Redis's `processCommand`: look the name up in the table,
//! check arity and subcommand, authentication, queue inside MULTI, then lock
//! the shards the command's keys live in (or all of them, for commands that
//! see the whole keyspace) and call the handler. A handler parses its
//! arguments, acts on the locked `KeyView`, and writes its reply through the
//! `ReplyWriter`; it returns a `CommandError` instead of writing errors, so
//! error replies are counted in one place. Handlers never lock shards and
//! never touch the socket.

pub mod connection;
pub mod docs;
pub mod functions;
pub mod hashes;
pub mod keys;
pub mod lists;
pub mod pubsub;
pub mod sampling;
pub mod scripting;
pub mod server;
pub mod sets;
pub mod sort;
pub mod strings;
pub mod table;
pub mod tracking;
pub mod transactions;
pub mod zsets;

use crate::errors::{CommandError, CommandResult};
use crate::protocol::{Args, ReplyWriter};
use crate::server::blocking;
use crate::server::client::{Client, ReplyMode};
use crate::server::Shared;
use crate::storage::Entry;
use crate::storage::{class, KeyView, Locked, Value, WrongType};
use crate::upstream::Route;
pub use table::{CommandSpec, CommandTable, LockMode};

/// Everything a handler may use while it runs.
pub struct Ctx<'a, 'k> {
    pub shared: &'a Shared,
    pub client: &'a mut Client,
    pub reply: ReplyWriter<'a>,
    pub keys: KeyView<'a, 'k>,
}

pub type Handler = fn(&mut Ctx, Args) -> CommandResult;

impl Ctx<'_, '_> {
    pub fn now_ms(&self) -> u64 {
        self.keys.now_ms
    }

    /// Blocks the client on `keys` until one of them gains elements or
    /// `timeout` passes (None: forever); the command runs again then (see
    /// `server::blocking`). Must be called with the keys' shards held, i.e.
    /// from the blocking command's handler.
    pub fn block<'x>(
        &mut self,
        args: Args,
        keys: impl Iterator<Item = &'x [u8]>,
        timeout: Option<std::time::Duration>,
        wants: &'static str,
    ) {
        let mut distinct: Vec<Box<[u8]>> = Vec::new();
        for key in keys {
            if !distinct.iter().any(|d| &**d == key) {
                distinct.push(key.into());
            }
        }
        for key in &distinct {
            self.keys.table(key).block_key(key);
        }
        let (front, deadline) = match self.client.block_retry {
            Some(deadline) => (true, deadline),
            // A deadline past what the clock can hold is never reached.
            None => (
                false,
                timeout.and_then(|t| tokio::time::Instant::now().checked_add(t)),
            ),
        };
        let waiter = blocking::Waiter::new(self.client.id, self.keys.db, distinct, wants);
        self.shared.blocking.register(waiter.clone(), front);
        self.client.blocked = Some(blocking::BlockedCommand {
            waiter,
            args: crate::protocol::OwnedArgs::from_slices(args.iter()),
            deadline,
        });
    }

    /// Records a keyspace notification about `key` (Redis's
    /// `notifyKeyspaceEvent`): published after the command, if enabled.
    pub fn notify(&mut self, event_class: u32, event: &'static str, key: &[u8]) {
        // Inside EXEC a client's own pushes go before the whole EXEC reply,
        // never into the middle of its array.
        let reply_at = (!self.client.deny_blocking).then(|| self.reply.position());
        self.keys.notify(event_class, event, key, reply_at);
    }

    /// Whether a blocking command may block now (not inside EXEC).
    pub fn may_block(&self) -> bool {
        !self.client.deny_blocking
    }

    /// The `*-max-listpack-*` / `set-max-intset-entries` thresholds.
    pub fn limits(&self) -> crate::storage::EncodingLimits {
        self.shared.hot.encoding_limits()
    }
}

/// Runs one command from a client and appends its reply to `out`.
/// `now_ms` is the batch's clock reading: every command of one read sees the same time.
///
/// What other connections sent the client (messages, invalidations) goes
/// out before the reply; what the command itself published to the client
/// goes just before its reply, as in Redis 7.0, and the invalidations it
/// caused for the client go after it.
pub fn dispatch(shared: &Shared, client: &mut Client, args: Args, out: &mut Vec<u8>, now_ms: u64) {
    if args.is_empty() {
        return;
    }
    if shared.tracking.client_count() > 0 {
        crate::events::tracking::enforce_table_limit(shared);
    }
    let outbox = &client.info.outbox;
    if !outbox.is_empty() {
        outbox.drain_into(out);
    }
    let reply_start = out.len();
    let index = dispatch_command(shared, client, args, out, now_ms);
    let spec = index.map(|i| shared.commands.spec(i));
    let subscribing = spec.is_some_and(|s| s.parent.is_empty() && s.name.ends_with("subscribe"));
    let own = std::mem::take(&mut client.own_pushes);
    let outbox = &client.info.outbox;
    if !own.is_empty() || (!outbox.is_empty() && !subscribing) {
        place_pushes(out, reply_start, outbox, own, !subscribing);
    }
    if !client.pending_invalidations.is_empty() {
        crate::events::tracking::send_pending(shared, client);
    }
    let command_was_client = spec.is_some_and(|s| s.name == "client" || s.parent == "client");
    crate::events::tracking::end_of_command(client, command_was_client);
}

/// Puts what was queued for the client during its command around the
/// command's reply (which starts at `reply_start` in `out`): frames from
/// other connections before it (unless the command was a subscription
/// change, whose confirmation must come first), and the client's own
/// notifications where each happened, as Redis 7.0 writes them.
fn place_pushes(
    out: &mut Vec<u8>,
    reply_start: usize,
    outbox: &crate::server::outbox::Outbox,
    own: Vec<(Option<usize>, Vec<u8>)>,
    others_first: bool,
) {
    let reply: Vec<u8> = out.split_off(reply_start);
    if others_first {
        outbox.drain_into(out);
    }
    let mut written = 0;
    for (at, frames) in own {
        let at = at
            .map_or(0, |p| p.saturating_sub(reply_start))
            .clamp(written, reply.len());
        out.extend_from_slice(&reply[written..at]);
        written = at;
        out.extend_from_slice(&frames);
    }
    out.extend_from_slice(&reply[written..]);
}

/// The commands a RESP2 connection may send while subscribed.
fn allowed_while_subscribed(spec: &CommandSpec) -> bool {
    spec.parent.is_empty()
        && matches!(
            spec.name,
            "ping"
                | "subscribe"
                | "ssubscribe"
                | "unsubscribe"
                | "sunsubscribe"
                | "psubscribe"
                | "punsubscribe"
                | "quit"
                | "reset"
        )
}

/// Looks the command up, checks it may run, and runs it; returns its table
/// index when it was found.
fn dispatch_command(
    shared: &Shared,
    client: &mut Client,
    args: Args,
    out: &mut Vec<u8>,
    now_ms: u64,
) -> Option<usize> {
    let table = &shared.commands;
    let mut reply = ReplyWriter::new(out, client.protocol);
    let index = match table.resolve_cached(args, &mut client.last_lookup) {
        Ok(index) => index,
        Err(error) => {
            reject(shared, client, None, &mut reply, error);
            return None;
        }
    };
    let spec = table.spec(index);
    if let Err(error) = check_arity(spec, args) {
        reject(shared, client, Some(index), &mut reply, error);
        return Some(index);
    }
    if !client.authenticated && !spec.has(table::flags::NO_AUTH) {
        reject(
            shared,
            client,
            Some(index),
            &mut reply,
            CommandError::NoAuth,
        );
        return Some(index);
    }
    if client.protocol == crate::protocol::Protocol::Resp2
        && client.subscriptions.active()
        && !allowed_while_subscribed(spec)
    {
        let error = CommandError::err(format!(
            "Can't execute '{}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context",
            spec.full_name()
        ));
        reject(shared, client, Some(index), &mut reply, error);
        return Some(index);
    }
    if shared.scripting.run.is_busy()
        && (!spec.has(table::flags::ALLOW_BUSY) || spec.lock != LockMode::Nothing)
    {
        // A script runs past busy-reply-threshold and holds every shard.
        let busy = CommandError::Raw(shared.scripting.run.busy_error().into());
        let error = match spec.name {
            "exec" => abort_transaction(client, busy),
            _ => busy,
        };
        reject(shared, client, Some(index), &mut reply, error);
        return Some(index);
    }
    let upstream = shared.upstream.is_configured();
    // With an upstream, local memory holds copies only: writes go upstream.
    let out_of_memory = !upstream
        && shared
            .hot
            .maxmemory
            .load(std::sync::atomic::Ordering::Relaxed)
            != 0
        && crate::server::eviction::make_room(shared) == crate::server::eviction::Room::Exhausted;
    client.out_of_memory = out_of_memory;
    if out_of_memory && needs_memory(shared, client, spec) {
        let error = match spec.name {
            "exec" => abort_transaction(client, CommandError::OutOfMemory),
            _ => CommandError::OutOfMemory,
        };
        reject(shared, client, Some(index), &mut reply, error);
        return Some(index);
    }
    if client.in_multi() && !spec.has(table::flags::NO_QUEUE) {
        transactions::queue(shared, client, index, args, &mut reply);
        return Some(index);
    }
    let mut fill_if_missing = false;
    if upstream {
        match crate::upstream::route::route(shared, client, spec, args) {
            Route::Local => {}
            Route::LocalIfPresent => fill_if_missing = true,
            Route::Defer(request) => {
                client.upstream_request = Some(request);
                client.upstream_command = Some((index, client.clock_mark));
                return Some(index);
            }
            Route::Refuse(error) => {
                reject(shared, client, Some(index), &mut reply, error);
                return Some(index);
            }
        }
    }
    if spec.has(table::flags::RUNS_SCRIPT) {
        if !client.script_admitted {
            // The connection runs it once it holds the script gate, outside
            // this batch's hold of it.
            let mut request = std::mem::take(&mut client.spare_script_args);
            request.copy_from(args);
            client.script_request = Some(request);
            return Some(index);
        }
        if shared.monitor.active() {
            // As in Redis, monitors see the script before what it calls.
            shared.monitor.feed(client, args);
        }
    }
    let mut locked = match spec.lock {
        LockMode::Nothing => shared.keyspace.lock_nothing(),
        LockMode::All => shared.keyspace.lock_all(),
        // Only a script gets here, holding the script gate (it was deferred
        // above until it did).
        LockMode::AsTouched => shared.keyspace.lock_on_demand(),
        LockMode::Keys => match shared.commands.single_key(index) {
            Some(position) => shared.keyspace.lock_one(args.get(position)),
            // Keys the specs cannot find (a bad numkeys) are not locked: the
            // handler rejects such a command before touching any key.
            None => match spec.find_keys(args, true) {
                Ok(keys) => shared
                    .keyspace
                    .lock_keys(keys.iter().map(|k| args.get(k.position))),
                Err(_) => shared.keyspace.lock_nothing(),
            },
        },
    };
    if fill_if_missing {
        let mut view = KeyView::new(&shared.keyspace, &mut locked, client.db, now_ms);
        let missing =
            crate::upstream::route::missing_keys(&mut view, spec, args, &client.upstream_absent);
        if !missing.is_empty() {
            client.upstream_request = Some(crate::upstream::Request::Fill {
                args: args.to_owned(),
                keys: missing,
            });
            return Some(index);
        }
        shared
            .upstream
            .stats
            .hits
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }
    run_locked(shared, client, &mut reply, &mut locked, index, args, now_ms);
    if shared.blocking.any() {
        client.ready_keys.extend(locked.take_ready());
    }
    Some(index)
}

/// Parses a blocking command's timeout in seconds (fractions allowed; 0:
/// forever), as Redis 7.0 reads it.
pub fn parse_timeout(arg: &[u8]) -> Result<Option<std::time::Duration>, CommandError> {
    use crate::util::c_numbers::{timeout_ms, TimeoutError};
    match timeout_ms(arg) {
        Ok(0) => Ok(None),
        Ok(ms) => Ok(Some(std::time::Duration::from_millis(ms))),
        Err(TimeoutError::Negative) => Err(CommandError::err("timeout is negative")),
        Err(TimeoutError::NotANumber) => Err(CommandError::Timeout),
    }
}

/// Runs a command whose shards are already held (directly, or queued in EXEC).
pub fn run_locked<'k>(
    shared: &Shared,
    client: &mut Client,
    reply: &mut ReplyWriter,
    locked: &mut Locked<'k>,
    index: usize,
    args: Args,
    now_ms: u64,
) {
    let spec = shared.commands.spec(index);
    let started = client.clock_mark;
    let reply_start = reply.position();
    let reply_mode = client.reply_mode;
    // Set before running, so CLIENT LIST shows `cmd=client|list` for itself.
    client
        .info
        .last_command
        .store(index as u32, std::sync::atomic::Ordering::Relaxed);
    let result = {
        let db = client.db;
        let mut ctx = Ctx {
            shared,
            client,
            reply: reply.reborrow(),
            keys: KeyView::new(&shared.keyspace, locked, db, now_ms),
        };
        let result = (spec.handler)(&mut ctx, args);
        ctx.client.counters.hits += ctx.keys.hits;
        ctx.client.counters.misses += ctx.keys.misses;
        result
    };
    crate::events::after_command(shared, client, locked);
    // Scripts track their declared keys, once, if they read (scripting.rs).
    if spec.has(table::flags::READONLY)
        && !spec.has(table::flags::PUBSUB)
        && !client.in_script
        && spec.group != table::SCRIPTING
        && crate::events::tracking::should_remember(client)
    {
        remember_tracked_keys(shared, client, locked, spec, args);
    }
    let failed = result.is_err();
    if let Err(error) = result {
        write_error(shared, reply, &error);
    }
    record_call(shared, client, index, args, started, failed);
    let pushed = std::mem::take(&mut client.reply_is_push);
    apply_reply_mode(client, reply, reply_start, reply_mode, pushed);
}

/// Counts a command that ran (commandstats, latency, slowlog, MONITOR),
/// from `started` to now. Also called for commands the upstream answered.
pub fn record_call(
    shared: &Shared,
    client: &mut Client,
    index: usize,
    args: Args,
    started: crate::stats::clock::Stamp,
    failed: bool,
) {
    let spec = shared.commands.spec(index);
    let finished = crate::stats::clock::Stamp::now();
    let usec = finished.micros_since(started);
    client.clock_mark = finished;
    client.counters.calls.push(crate::stats::CallRecord {
        command: index,
        usec,
        failed,
    });
    client.counters.commands += 1;
    if !spec.has(table::flags::SKIP_SLOWLOG) {
        shared.slowlog.consider(&shared.hot, client, args, usec);
    }
    // Like Redis, a command reaches MONITOR after it ran, so EXEC follows its queue.
    if shared.monitor.active() && !spec.has(table::flags::SKIP_MONITOR | table::flags::ADMIN) {
        shared.monitor.feed(client, args);
    }
}

/// A tracking client read these keys: changes to them will invalidate its copies.
pub(crate) fn remember_tracked_keys(
    shared: &Shared,
    client: &Client,
    locked: &mut Locked,
    spec: &CommandSpec,
    args: Args,
) {
    let Ok(keys) = spec.find_keys(args, true) else {
        return;
    };
    let totals = &shared.keyspace.tracking_totals;
    for found in keys {
        let key = args.get(found.position);
        let index = shared.keyspace.shard_index(key);
        locked.shard(index).tracked.remember(key, client.id, totals);
    }
}

/// CLIENT REPLY: OFF drops every reply; SKIP drops the next command's reply.
/// `before` is the mode when the command started. A push reply (the
/// SUBSCRIBE family's) is never dropped, but still counts as the skipped one.
fn apply_reply_mode(
    client: &mut Client,
    reply: &mut ReplyWriter,
    start: usize,
    before: ReplyMode,
    pushed: bool,
) {
    let drop_reply = |reply: &mut ReplyWriter| {
        if !pushed {
            reply.truncate(start)
        }
    };
    match (before, client.reply_mode) {
        // CLIENT REPLY ON answers OK whatever the mode was.
        (_, ReplyMode::On) if before != ReplyMode::On => {}
        (ReplyMode::Off, _) => drop_reply(reply),
        (ReplyMode::Skip, ReplyMode::Skip) => {
            drop_reply(reply);
            client.reply_mode = ReplyMode::On;
        }
        (ReplyMode::Skip, _) => drop_reply(reply),
        // CLIENT REPLY SKIP itself answers nothing.
        (ReplyMode::On, ReplyMode::Skip) => drop_reply(reply),
        (ReplyMode::On, _) => {}
    }
}

/// EXEC refused before it runs (out of memory, a busy script): the
/// transaction is discarded and the error says why, as Redis's does.
fn abort_transaction(client: &mut Client, cause: CommandError) -> CommandError {
    client.multi = None;
    client
        .info
        .set_flag(crate::server::client::flags::MULTI, false);
    CommandError::Raw(format!(
        "EXECABORT Transaction discarded because of: {}",
        cause
    ))
}

/// A command refused before it ran: counted as rejected, and inside MULTI it
/// dooms the transaction.
fn reject(
    shared: &Shared,
    client: &mut Client,
    index: Option<usize>,
    reply: &mut ReplyWriter,
    error: CommandError,
) {
    if let Some(index) = index {
        shared
            .commands
            .stats(index)
            .record_rejected(client.id as usize);
    }
    if let Some(multi) = client.multi.as_mut() {
        multi.aborted = true;
    }
    let start = reply.position();
    write_error(shared, reply, &error);
    apply_reply_mode(client, reply, start, client.reply_mode, false);
}

pub fn write_error(shared: &Shared, reply: &mut ReplyWriter, error: &CommandError) {
    let text = error.to_bytes();
    let code_len = text.iter().position(|&b| b == b' ').unwrap_or(text.len());
    shared
        .stats
        .record_error(&String::from_utf8_lossy(&text[..code_len]));
    reply.error_bytes(&text);
}

/// Commands flagged denyoom need memory; so does an EXEC whose queue holds
/// one, and queueing any command in MULTI (the queue grows without bound).
fn needs_memory(shared: &Shared, client: &Client, spec: &CommandSpec) -> bool {
    if spec.has(table::flags::DENYOOM) {
        return true;
    }
    if client.in_multi()
        && !matches!(
            spec.name,
            "exec" | "discard" | "multi" | "watch" | "quit" | "reset"
        )
    {
        return true;
    }
    spec.name == "exec"
        && client.multi.as_ref().is_some_and(|m| {
            m.queue
                .iter()
                .any(|(index, _)| shared.commands.spec(*index).has(table::flags::DENYOOM))
        })
}

fn check_arity(spec: &CommandSpec, args: Args) -> CommandResult {
    let argc = args.len() as i32;
    if (spec.arity > 0 && argc != spec.arity) || (spec.arity < 0 && argc < -spec.arity) {
        return Err(CommandError::WrongArity(spec.full_name()));
    }
    Ok(())
}

/// The bytes of `arg` as C's `%.*s` prints them: up to `max` bytes, ending at a NUL.
pub fn c_string_prefix(arg: &[u8], max: usize) -> &[u8] {
    let arg = &arg[..arg.len().min(max)];
    match arg.iter().position(|&b| b == 0) {
        Some(nul) => &arg[..nul],
        None => arg,
    }
}

/// Quotes the arguments of an unknown command the way Redis's error does.
pub fn quote_args_for_error(args: Args) -> Vec<u8> {
    let mut out = Vec::new();
    for arg in args.iter() {
        if out.len() >= 128 {
            break;
        }
        let room = 128 - out.len();
        out.push(b'\'');
        out.extend_from_slice(c_string_prefix(arg, room));
        out.extend_from_slice(b"' ");
    }
    out
}

/// The arguments LMPOP, BLMPOP, ZMPOP and BZMPOP share, from their
/// `numkeys` on: the keys, which of the two ends (0 for `ends[0]`), and the
/// COUNT (1 when absent), with Redis's errors.
pub struct MultiPopArgs<'a> {
    pub keys: Args<'a>,
    pub end: usize,
    pub count: usize,
}

pub fn parse_multi_pop<'a>(
    args: Args<'a>,
    numkeys_at: usize,
    ends: [&str; 2],
) -> Result<MultiPopArgs<'a>, CommandError> {
    let numkeys = parse_int(&args[numkeys_at])
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| CommandError::err("numkeys should be greater than 0"))?;
    let end_at = usize::try_from(numkeys)
        .ok()
        .and_then(|n| n.checked_add(numkeys_at + 1))
        .filter(|at| *at < args.len())
        .ok_or(CommandError::Syntax)?;
    let end = ends
        .iter()
        .position(|e| crate::util::eq_ignore_case(&args[end_at], e))
        .ok_or(CommandError::Syntax)?;
    let mut count: Option<usize> = None;
    let mut i = end_at + 1;
    while i < args.len() {
        if count.is_none() && crate::util::eq_ignore_case(&args[i], "count") && i + 1 < args.len() {
            let n = parse_int(&args[i + 1])
                .ok()
                .filter(|n| *n > 0)
                .ok_or_else(|| CommandError::err("count should be greater than 0"))?;
            count = Some(usize::try_from(n).unwrap_or(usize::MAX));
            i += 2;
        } else {
            return Err(CommandError::Syntax);
        }
    }
    Ok(MultiPopArgs {
        keys: args.slice(numkeys_at + 1, end_at),
        end,
        count: count.unwrap_or(1),
    })
}

/// HRANDFIELD's and ZRANDMEMBER's `count [WITHVALUES|WITHSCORES]`, with
/// Redis's range checks; None when there is no count.
pub fn parse_random_count(
    args: Args,
    with_word: &str,
) -> Result<Option<(i64, bool)>, CommandError> {
    let Some(count_arg) = args.get_opt(2) else {
        return Ok(None);
    };
    let count = parse_range_int(count_arg, -i64::MAX, i64::MAX)?;
    let with = match args.len() {
        3 => false,
        4 if crate::util::eq_ignore_case(&args[3], with_word) => true,
        _ => return Err(CommandError::Syntax),
    };
    // With values or scores the reply is twice as long: Redis keeps room for that.
    if with && !(-i64::MAX / 2..=i64::MAX / 2).contains(&count) {
        return Err(CommandError::err("value is out of range"));
    }
    Ok(Some((count, with)))
}

/// How one family removes members (HDEL, SREM, ZREM): how to reach its
/// value, test and remove a member, and the event a removal sends.
pub struct MemberRemoval<T: ?Sized> {
    pub pick: fn(&mut Entry) -> Result<&mut T, WrongType>,
    pub contains: fn(&T, &[u8]) -> bool,
    pub remove: fn(&mut T, &[u8]) -> bool,
    pub event_class: u32,
    pub event: &'static str,
}

/// HDEL, SREM and ZREM: removes `members` from the `T` at `key`, deleting
/// the key when it empties, and returns how many went. It looks before it
/// writes, so a command that removes nothing changes nothing (for WATCH)
/// and sends no event.
pub fn remove_members<T: ?Sized>(
    ctx: &mut Ctx,
    key: &[u8],
    members: Args,
    how: &MemberRemoval<T>,
) -> Result<i64, CommandError> {
    let Some(value) = ctx.keys.read_as(key, how.pick)? else {
        return Ok(0);
    };
    if !members.iter().any(|m| (how.contains)(value, m)) {
        return Ok(0);
    }
    let mut removed = 0;
    if let Some(value) = ctx.keys.write_as(key, how.pick)? {
        removed = members.iter().filter(|m| (how.remove)(value, m)).count() as i64;
    }
    ctx.notify(how.event_class, how.event, key);
    if ctx.keys.remove_if_empty(key) {
        ctx.notify(class::GENERIC, "del", key);
    }
    Ok(removed)
}

/// The STORE forms (SORT STORE, SINTERSTORE, ZUNIONSTORE...): a non-empty
/// result replaces `destination` and sends `event`; an empty one deletes
/// it, sending `del` if there was a key. Answers the result's size, before
/// the event when `answer_first` (most STORE forms) or after it (SORT), as
/// Redis orders them.
pub fn store_result(
    ctx: &mut Ctx,
    destination: &[u8],
    result: Value,
    event: (u32, &'static str),
    answer_first: bool,
) {
    let size = result.contents().aggregate_len().unwrap_or(0);
    if answer_first {
        ctx.reply.integer(size as i64);
    }
    if size == 0 {
        if ctx.keys.remove(destination).is_some() {
            ctx.notify(class::GENERIC, "del", destination);
        }
    } else {
        ctx.keys.set(destination, result, 0);
        ctx.notify(event.0, event.1, destination);
    }
    if !answer_first {
        ctx.reply.integer(size as i64);
    }
}

/// Parses an integer that must lie in `min..=max`, with Redis's
/// `getRangeLongFromObjectOrReply` errors.
pub fn parse_range_int(arg: &[u8], min: i64, max: i64) -> Result<i64, CommandError> {
    let value = parse_int(arg)?;
    if value < min || value > max {
        return Err(CommandError::err(format!(
            "value is out of range, value must between {} and {}",
            min, max
        )));
    }
    Ok(value)
}

/// Parses an integer argument or answers Redis's "not an integer" error.
pub fn parse_int(arg: &[u8]) -> Result<i64, CommandError> {
    crate::util::parse_i64(arg).ok_or(CommandError::NotInteger)
}
