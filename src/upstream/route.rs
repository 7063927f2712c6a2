//! Routing with an upstream: what each command does, and serving the
//! commands that wait on the upstream.
//!
//! - Writes (the table's `write` flag) are forwarded; the client's reply is
//!   the upstream's. Blocking ones get a connection of their own.
//! - EXEC sends the queued commands as one MULTI/EXEC.
//! - Reads of keys run on local copies; a key with no copy is filled first
//!   (`fill.rs`), then the command runs locally.
//! - Reads that describe the keyspace or upstream-side metadata (KEYS,
//!   SCAN, DBSIZE, RANDOMKEY, TTL and friends, OBJECT, SORT with patterns)
//!   are forwarded: copies are a subset, with capped TTLs.
//! - Everything else (connection, server, pub/sub) is local.
//!
//! The dispatcher asks `route` after its usual checks; the connection loop
//! calls `serve` for what was deferred, outside any lock.

use super::fill::{self, Outcome};
use super::{reply, UpstreamError};
use crate::commands::table::flags;
use crate::commands::CommandSpec;
use crate::errors::CommandError;
use crate::protocol::{Args, OwnedArgs, Protocol, ReplyWriter};
use crate::server::client::Client;
use crate::server::Shared;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

/// Reads answered by the upstream even though they name keys.
const FORWARDED_READS: &[&str] = &[
    "keys",
    "scan",
    "dbsize",
    "randomkey",
    "ttl",
    "pttl",
    "expiretime",
    "pexpiretime",
    "object",
    "touch",
    "sort_ro",
];

/// Writes that replace the copies of their keys with the upstream's new
/// values when every key has a copy (`fill::write_and_refresh`): their
/// replies have the same shape in RESP2 and RESP3, as the refresh runs on
/// the RESP3 tracking connection whoever sent the write.
const REFRESHED_WRITES: &[&str] = &[
    "set",
    "setnx",
    "setex",
    "psetex",
    "getset",
    "getdel",
    "append",
    "setrange",
    "incr",
    "decr",
    "incrby",
    "decrby",
    "incrbyfloat",
    "mset",
    "msetnx",
    "hset",
    "hsetnx",
    "hmset",
    "hdel",
    "hincrby",
    "hincrbyfloat",
    "lpush",
    "rpush",
    "lpushx",
    "rpushx",
    "lset",
    "linsert",
    "lrem",
    "ltrim",
    "lpop",
    "rpop",
    "sadd",
    "srem",
    "zadd",
    "zincrby",
    "zrem",
    "expire",
    "pexpire",
    "expireat",
    "pexpireat",
    "persist",
    "del",
    "unlink",
];

/// The most keys one refreshed write may have.
const MAX_REFRESHED_KEYS: usize = 16;

/// Fills a command may need before it runs locally, before it is forwarded instead.
const MAX_FILL_ROUNDS: u8 = 3;

/// What the dispatcher does with a command.
pub enum Route {
    /// Run it here (a local command, or a read whose copies are all present).
    Local,
    /// Run it here if these keys have copies (or are known absent); fill them otherwise.
    LocalIfPresent,
    /// Wait on the upstream: the connection loop calls `serve`.
    Defer(Request),
    /// Refuse it with this error.
    Refuse(CommandError),
}

/// A command waiting on the upstream.
pub enum Request {
    Forward {
        args: OwnedArgs,
        command: &'static str,
        write: bool,
        blocking: bool,
        keys: Vec<Box<[u8]>>,
        /// Replace the keys' copies with the new values (all had copies).
        refresh: bool,
    },
    Transaction {
        queue: Vec<(usize, OwnedArgs)>,
    },
    Fill {
        args: OwnedArgs,
        keys: Vec<Box<[u8]>>,
    },
    /// A script that may write: EVALSHA upstream, EVAL if it lacks the script.
    Script {
        args: OwnedArgs,
        keys: Vec<Box<[u8]>>,
    },
}

/// Redis Cluster's answer to keys of different slots in one command.
const CROSSSLOT: &str = "CROSSSLOT Keys in request don't hash to the same slot";

fn same_slot(keys: &[Box<[u8]>]) -> bool {
    let mut slots = keys.iter().map(|k| super::slot::slot_of(k));
    match slots.next() {
        Some(first) => slots.all(|s| s == first),
        None => true,
    }
}

/// Every key the queued commands of a transaction name.
fn transaction_keys(shared: &Shared, queue: &[(usize, OwnedArgs)]) -> Vec<Box<[u8]>> {
    queue
        .iter()
        .flat_map(|(index, args)| keys_of(shared.commands.spec(*index), args.args()))
        .collect()
}

/// The command's keys, as its key specs find them.
pub fn keys_of(spec: &CommandSpec, args: Args) -> Vec<Box<[u8]>> {
    let mut keys: Vec<Box<[u8]>> = Vec::new();
    if let Ok(found) = spec.find_keys(args, true) {
        for key in found {
            let key = args.get(key.position);
            if !keys.iter().any(|k| &**k == key) {
                keys.push(key.into());
            }
        }
    }
    keys
}

/// Decides where a command runs. `spec` is the resolved (sub)command.
pub fn route(shared: &Shared, client: &mut Client, spec: &CommandSpec, args: Args) -> Route {
    let upstream = &shared.upstream;
    let top = if spec.parent.is_empty() {
        spec.name
    } else {
        spec.parent
    };
    if spec.has(flags::RUNS_SCRIPT) {
        return route_script(shared, spec, args);
    }
    let data_command = spec.has(flags::WRITE)
        || spec.has(flags::READONLY)
        || FORWARDED_READS.contains(&top)
        || top == "exec";
    if !data_command {
        return match top {
            "watch" => Route::Refuse(CommandError::err(
                "WATCH is not supported with an upstream: send the transaction without it",
            )),
            "select" if &args[1] != b"0" => Route::Refuse(CommandError::err(
                "SELECT is not allowed with an upstream: cachet serves the upstream's database",
            )),
            _ => Route::Local,
        };
    }
    let up = upstream.is_up();
    if top == "exec" {
        // EXEC without MULTI, or of an aborted transaction, fails here as
        // without an upstream; any other ends the transaction and goes up.
        if client.multi.as_ref().is_none_or(|m| m.aborted) {
            return Route::Local;
        }
        let queue = client.multi.take().unwrap_or_default().queue;
        client
            .info
            .set_flag(crate::server::client::flags::MULTI, false);
        if !up {
            return Route::Refuse(down_error(shared));
        }
        if upstream.is_cluster() && !same_slot(&transaction_keys(shared, &queue)) {
            return Route::Refuse(CommandError::Raw(format!(
                "EXECABORT Transaction discarded because of: {}",
                CROSSSLOT
            )));
        }
        return Route::Defer(Request::Transaction { queue });
    }
    let serve_stale = upstream.settings.serve_stale.load(Ordering::Relaxed);
    if !up && !serve_stale {
        return Route::Refuse(down_error(shared));
    }
    if upstream.is_cluster() && !same_slot(&keys_of(spec, args)) {
        return Route::Refuse(CommandError::Raw(CROSSSLOT.into()));
    }
    if spec.has(flags::WRITE) || FORWARDED_READS.contains(&top) || top == "sort" {
        let keys = keys_of(spec, args);
        let refresh = up
            && REFRESHED_WRITES.contains(&top)
            && !keys.is_empty()
            && keys.len() <= MAX_REFRESHED_KEYS
            && fill::all_cached(shared, &keys);
        return Route::Defer(Request::Forward {
            args: args.to_owned(),
            command: top,
            write: spec.has(flags::WRITE),
            blocking: spec.has(flags::BLOCKING),
            keys,
            refresh,
        });
    }
    Route::LocalIfPresent
}

/// Scripts and functions with an upstream: one that cannot write runs
/// here, on copies of its declared keys; one that may write runs on the
/// upstream, and its declared keys' copies are dropped. Functions live on
/// the upstream (FUNCTION LOAD is forwarded as a write), so FCALL and
/// FCALL_RO go there.
fn route_script(shared: &Shared, spec: &CommandSpec, args: Args) -> Route {
    if super::super::commands::scripting::keys_and_args(args).is_err() {
        // A bad numkeys: the handler answers Redis's error.
        return Route::Local;
    }
    let upstream = &shared.upstream;
    let up = upstream.is_up();
    if !up && !upstream.settings.serve_stale.load(Ordering::Relaxed) {
        return Route::Refuse(down_error(shared));
    }
    let keys = keys_of(spec, args);
    if upstream.is_cluster() && !same_slot(&keys) {
        return Route::Refuse(CommandError::Raw(CROSSSLOT.into()));
    }
    let script_cannot_write = match spec.name {
        "eval_ro" | "evalsha_ro" => true,
        "eval" => shared.scripting.body_cannot_write(&args[1]),
        "evalsha" => shared.scripting.cached_cannot_write(&args[1]),
        _ => false,
    };
    if script_cannot_write {
        return Route::LocalIfPresent;
    }
    if !up {
        return Route::Refuse(down_error(shared));
    }
    match spec.name {
        "fcall" | "fcall_ro" => Route::Defer(Request::Forward {
            args: args.to_owned(),
            command: spec.name,
            write: spec.name == "fcall",
            blocking: false,
            keys,
            refresh: false,
        }),
        _ => Route::Defer(Request::Script {
            args: args.to_owned(),
            keys,
        }),
    }
}

/// Runs a script that may write on the upstream: by its SHA1 first, by its
/// body when the upstream answers NOSCRIPT and the body is known here.
/// The declared keys' copies are dropped before and after.
async fn forward_script(
    shared: &Arc<Shared>,
    client: &mut Client,
    args: &OwnedArgs,
    keys: &[Box<[u8]>],
    out: &mut Vec<u8>,
) {
    let stats = &shared.upstream.stats;
    stats.writes_forwarded.fetch_add(1, Ordering::Relaxed);
    fill::void_keys(shared, keys.iter().map(|k| &**k));
    let args = args.args();
    let by_body = crate::util::eq_ignore_case(&args[0], "eval");
    let body = if by_body {
        Some(args[1].to_vec())
    } else {
        shared.scripting.cached_body(&args[1])
    };
    let sha = match by_body {
        true => crate::scripting::sha1_hex(&args[1]).into_bytes(),
        false => args[1].to_vec(),
    };
    let line = |name: &str, script: &[u8]| {
        let mut command = redis::Cmd::new();
        command.arg(name).arg(script);
        for i in 2..args.len() {
            command.arg(&args[i]);
        }
        command
    };
    let resp3 = client.protocol == Protocol::Resp3;
    let mut answer = send(shared, client, &line("EVALSHA", &sha), resp3, false).await;
    if let (Some(body), true) = (&body, answer.as_ref().is_ok_and(is_noscript)) {
        answer = send(shared, client, &line("EVAL", body), resp3, false).await;
    }
    fill::void_keys(shared, keys.iter().map(|k| &**k));
    match answer {
        Ok(answer) => {
            if answer.is_error() {
                stats.write_errors.fetch_add(1, Ordering::Relaxed);
            }
            write_answer(out, client, &answer, |writer, value| {
                reply::write(writer, value, false)
            });
        }
        Err(error) => {
            stats.write_errors.fetch_add(1, Ordering::Relaxed);
            error_reply(shared, client, out, &error.reply_text());
        }
    }
}

fn is_noscript(answer: &Answer) -> bool {
    match answer {
        Answer::Value(redis::Value::ServerError(error)) => error.code() == "NOSCRIPT",
        Answer::Error(text) => text.starts_with("NOSCRIPT"),
        _ => false,
    }
}

/// The keys of a read that have no copy (and are not known to be absent
/// upstream from this command's own fill). Called with the keys' shards held.
pub fn missing_keys(
    keys: &mut crate::storage::KeyView,
    spec: &CommandSpec,
    args: Args,
    known_absent: &[Box<[u8]>],
) -> Vec<Box<[u8]>> {
    let mut missing = Vec::new();
    for key in keys_of(spec, args) {
        if !known_absent.contains(&key) && keys.peek(&key).is_none() {
            missing.push(key);
        }
    }
    missing
}

pub fn down_error(shared: &Shared) -> CommandError {
    let error = shared
        .upstream
        .current()
        .err()
        .unwrap_or(UpstreamError::Down {
            address: shared.upstream.status.lock().address.clone(),
            reason: "not connected".into(),
        });
    CommandError::Raw(error.reply_text())
}

/// Serves a deferred command, appending its reply to `out`.
pub async fn serve(shared: &Arc<Shared>, client: &mut Client, request: Request, out: &mut Vec<u8>) {
    let mut request = request;
    let mut rounds = 0u8;
    let reply_start = out.len();
    let counted = client.upstream_command.take();
    // The statistics of a command the upstream answered (one that ran
    // locally after its fill counted itself).
    let count = |client: &mut Client, out: &[u8], args: Args| {
        if let Some((index, started)) = counted {
            let failed = out.get(reply_start) == Some(&b'-');
            crate::commands::record_call(shared, client, index, args, started, failed);
        }
    };
    loop {
        match request {
            Request::Forward {
                args,
                command,
                write,
                blocking,
                keys,
                refresh,
            } => {
                let how = Forwarding {
                    command,
                    write,
                    blocking,
                    refresh,
                };
                forward(shared, client, &args, how, &keys, out).await;
                count(client, out, args.args());
                return;
            }
            Request::Script { args, keys } => {
                forward_script(shared, client, &args, &keys, out).await;
                count(client, out, args.args());
                return;
            }
            Request::Transaction { queue } => {
                transaction(shared, client, queue, out).await;
                count(client, out, OwnedArgs::from_slices([&b"exec"[..]]).args());
                return;
            }
            Request::Fill { args, keys } => {
                rounds += 1;
                match fill::fill(shared, &keys).await {
                    Err(error) => {
                        shared
                            .upstream
                            .stats
                            .read_errors
                            .fetch_add(1, Ordering::Relaxed);
                        error_reply(shared, client, out, &error.reply_text());
                        count(client, out, args.args());
                        return;
                    }
                    Ok(outcomes)
                        if outcomes.contains(&Outcome::Uncacheable) || rounds > MAX_FILL_ROUNDS =>
                    {
                        let how = Forwarding {
                            command: command_name(shared, client, &args),
                            write: false,
                            blocking: false,
                            refresh: false,
                        };
                        forward(shared, client, &args, how, &keys, out).await;
                        count(client, out, args.args());
                        return;
                    }
                    Ok(outcomes) => {
                        client.upstream_absent = keys
                            .iter()
                            .zip(&outcomes)
                            .filter(|(_, o)| **o == Outcome::Absent)
                            .map(|(k, _)| k.clone())
                            .collect();
                        let now = crate::util::now_ms();
                        client.clock_mark = crate::stats::clock::Stamp::now();
                        crate::commands::dispatch(shared, client, args.args(), out, now);
                        client.upstream_absent.clear();
                        match client.upstream_request.take() {
                            Some(next) => request = next,
                            None => return,
                        }
                    }
                }
            }
        }
    }
}

fn command_name(shared: &Shared, client: &mut Client, args: &OwnedArgs) -> &'static str {
    match shared
        .commands
        .resolve_cached(args.args(), &mut client.last_lookup)
    {
        Ok(index) => {
            let spec = shared.commands.spec(index);
            if spec.parent.is_empty() {
                spec.name
            } else {
                spec.parent
            }
        }
        Err(_) => "",
    }
}

fn error_reply(shared: &Shared, client: &Client, out: &mut Vec<u8>, text: &str) {
    let mut writer = ReplyWriter::new(out, client.protocol);
    crate::commands::write_error(shared, &mut writer, &CommandError::Raw(text.to_string()));
}

fn command_of(args: &OwnedArgs) -> redis::Cmd {
    let mut command = redis::Cmd::new();
    for arg in args.args().iter() {
        command.arg(arg);
    }
    command
}

/// How one command is forwarded.
struct Forwarding {
    command: &'static str,
    write: bool,
    blocking: bool,
    refresh: bool,
}

async fn forward(
    shared: &Arc<Shared>,
    client: &mut Client,
    args: &OwnedArgs,
    how: Forwarding,
    keys: &[Box<[u8]>],
    out: &mut Vec<u8>,
) {
    let Forwarding {
        command,
        write,
        blocking,
        refresh,
    } = how;
    let upstream = &shared.upstream;
    let stats = &upstream.stats;
    let flushes = matches!(command, "flushall" | "flushdb" | "swapdb");
    if write {
        stats.writes_forwarded.fetch_add(1, Ordering::Relaxed);
        fill::void_keys(shared, keys.iter().map(|k| &**k));
    } else {
        stats.reads_forwarded.fetch_add(1, Ordering::Relaxed);
    }
    let resp3 = client.protocol == Protocol::Resp3;
    let command_line = command_of(args);
    let refreshed = match refresh {
        true => fill::write_and_refresh(shared, &command_line, keys).await,
        false => Ok(None),
    };
    let (answer, refreshed) = match refreshed {
        Ok(Some(value)) => (Ok(Answer::Value(value)), true),
        Ok(None) => (
            send(shared, client, &command_line, resp3, blocking).await,
            false,
        ),
        Err(error) => (Err(error), false),
    };
    if write && !refreshed {
        fill::void_keys(shared, keys.iter().map(|k| &**k));
        if flushes {
            fill::drop_all_copies(shared);
        }
    } else if !write && answer.is_ok() {
        // The reply came on a forwarding connection: it waits for the
        // invalidations queued on the tracking connection before it.
        fill::barrier(shared, keys).await;
    }
    match answer {
        Ok(answer) => {
            if write && answer.is_error() {
                stats.write_errors.fetch_add(1, Ordering::Relaxed);
            }
            write_answer(out, client, &answer, |writer, value| {
                reply::write(writer, value, reply::null_is_array(command))
            });
        }
        Err(error) => {
            let counter = if write {
                &stats.write_errors
            } else {
                &stats.read_errors
            };
            counter.fetch_add(1, Ordering::Relaxed);
            error_reply(shared, client, out, &error.reply_text());
        }
    }
}

/// Sends one command on the connection for the client's protocol.
async fn send(
    shared: &Shared,
    client: &Client,
    command: &redis::Cmd,
    resp3: bool,
    blocking: bool,
) -> Result<Answer, UpstreamError> {
    let upstream = &shared.upstream;
    let link = upstream.current()?;
    let timeout = upstream.timeout();
    let started = Instant::now();
    let result = if blocking {
        let mut connection = link.dedicated(resp3).await?;
        tokio::select! {
            result = connection.send(command) => Ok(result),
            _ = client.info.killed() => return Err(UpstreamError::Failed {
                address: link.address.clone(),
                reason: "client killed while blocked".into(),
            }),
        }
    } else {
        let mut connection = link.connection(resp3);
        tokio::time::timeout(timeout, connection.send(command)).await
    };
    upstream.stats.record_round_trip(started.elapsed());
    match result {
        Ok(result) => answer_of(result, &link.address),
        Err(_) => Err(UpstreamError::Timeout {
            address: link.address.clone(),
            ms: timeout.as_millis() as u64,
        }),
    }
}

/// What the upstream answered: a reply, or an error line (which the
/// `redis` crate may hand back as a failure).
enum Answer {
    Value(redis::Value),
    Error(String),
}

impl Answer {
    fn is_error(&self) -> bool {
        matches!(
            self,
            Answer::Error(_) | Answer::Value(redis::Value::ServerError(_))
        )
    }
}

/// Sorts a failed call into an error the upstream answered and a failure of the link.
fn answer_of(
    result: redis::RedisResult<redis::Value>,
    address: &str,
) -> Result<Answer, UpstreamError> {
    match result {
        Ok(value) => Ok(Answer::Value(value)),
        Err(error) => match error.code() {
            Some(code) => Ok(Answer::Error(match error.detail() {
                Some(detail) => format!("{} {}", code, detail),
                None => code.to_string(),
            })),
            None => Err(UpstreamError::Failed {
                address: address.to_string(),
                reason: error.to_string(),
            }),
        },
    }
}

fn write_answer(
    out: &mut Vec<u8>,
    client: &Client,
    answer: &Answer,
    write: impl FnOnce(&mut ReplyWriter, &redis::Value),
) {
    let mut writer = ReplyWriter::new(out, client.protocol);
    match answer {
        Answer::Value(value) => write(&mut writer, value),
        Answer::Error(line) => writer.error_bytes(line.as_bytes()),
    }
}

async fn transaction(
    shared: &Arc<Shared>,
    client: &mut Client,
    queue: Vec<(usize, OwnedArgs)>,
    out: &mut Vec<u8>,
) {
    let upstream = &shared.upstream;
    let mut keys: Vec<Box<[u8]>> = Vec::new();
    let mut names: Vec<&'static str> = Vec::with_capacity(queue.len());
    let mut flushes = false;
    let mut pipe = redis::pipe();
    pipe.cmd("MULTI");
    for (index, args) in &queue {
        let spec = shared.commands.spec(*index);
        let top = if spec.parent.is_empty() {
            spec.name
        } else {
            spec.parent
        };
        flushes |= matches!(top, "flushall" | "flushdb" | "swapdb");
        names.push(top);
        for key in keys_of(spec, args.args()) {
            if !keys.contains(&key) {
                keys.push(key);
            }
        }
        pipe.add_command(command_of(args));
    }
    pipe.cmd("EXEC");
    upstream
        .stats
        .writes_forwarded
        .fetch_add(1, Ordering::Relaxed);
    fill::void_keys(shared, keys.iter().map(|k| &**k));
    let answer = match upstream.current() {
        Ok(link) => {
            let mut connection = link.connection(client.protocol == Protocol::Resp3);
            let timeout = upstream.timeout();
            let started = Instant::now();
            let result =
                tokio::time::timeout(timeout, connection.send_many(&pipe, queue.len() + 1, 1))
                    .await;
            upstream.stats.record_round_trip(started.elapsed());
            match result {
                Ok(Ok(mut values)) if values.len() == 1 => {
                    Ok(Answer::Value(values.pop().unwrap_or_default()))
                }
                Ok(Ok(_)) => Err(UpstreamError::Failed {
                    address: link.address.clone(),
                    reason: "unexpected reply to EXEC".into(),
                }),
                Ok(Err(error)) => answer_of(Err(error), &link.address),
                Err(_) => Err(UpstreamError::Timeout {
                    address: link.address.clone(),
                    ms: timeout.as_millis() as u64,
                }),
            }
        }
        Err(error) => Err(error),
    };
    fill::void_keys(shared, keys.iter().map(|k| &**k));
    if flushes {
        fill::drop_all_copies(shared);
    }
    if answer.is_ok() {
        // The transaction may have read keys other than those it wrote.
        fill::barrier(shared, &keys).await;
    }
    match answer {
        Ok(answer) => write_answer(out, client, &answer, |writer, value| {
            reply::write_exec(writer, value, &names)
        }),
        Err(error) => {
            upstream.stats.write_errors.fetch_add(1, Ordering::Relaxed);
            error_reply(shared, client, out, &error.reply_text());
        }
    }
}
