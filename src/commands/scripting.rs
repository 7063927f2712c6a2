//! EVAL, EVALSHA, EVAL_RO, EVALSHA_RO and SCRIPT LOAD / EXISTS / FLUSH.
//!
//! EVAL holds every shard (the table's `lock_all`), so a script is atomic
//! for every other client. `redis.call` runs each command through
//! `run_locked` on those shards, with the EVAL's client, so commands a
//! script calls count in commandstats and notify as usual; blocking
//! commands behave as inside MULTI (they do not block).

use super::table::flags;
use super::Ctx;
use crate::errors::{CommandError, CommandResult};
use crate::protocol::{Args, OwnedArgs, Protocol, ReplyWriter};
use crate::scripting::functions::{ALLOW_OOM, NO_WRITES};
use crate::scripting::run_state::{RunState, Running};
use crate::scripting::{convert, sandbox};
use mlua::{Lua, MultiValue, Value};
use std::cell::RefCell;

/// The Lua side of `redis.call` and `redis.pcall`: both go through the
/// running script's `raw` call, which answers error replies as
/// `{err=...}`; `call` raises them (as Redis does, a table error value) and
/// `pcall` returns them. Built once per interpreter; `bind` gives it each
/// script's `raw` (and resets the RESP version) before the script runs.
const REDIS_LIBRARY: &str = r#"
local readonly, lib = ...
local current = { resp = 2 }
lib.call = function(...)
    local reply = current.raw(current.resp, ...)
    if type(reply) == 'table' and reply.err then error(reply, 0) end
    return reply
end
lib.pcall = function(...) return current.raw(current.resp, ...) end
lib.setresp = function(version)
    if version ~= 2 and version ~= 3 then error('RESP version must be 2 or 3.', 0) end
    current.resp = version
end
lib.error_reply = function(text)
    if type(text) ~= 'string' then error('wrong number or type of arguments', 2) end
    return { err = text }
end
lib.status_reply = function(text)
    if type(text) ~= 'string' then error('wrong number or type of arguments', 2) end
    return { ok = text }
end
lib.LOG_DEBUG, lib.LOG_VERBOSE, lib.LOG_NOTICE, lib.LOG_WARNING = 0, 1, 2, 3
lib.REDIS_VERSION, lib.REDIS_VERSION_NUM = '7.0.15', 0x07000f
lib.REPL_NONE, lib.REPL_AOF, lib.REPL_REPLICA, lib.REPL_SLAVE, lib.REPL_ALL = 0, 1, 2, 2, 3
lib.set_repl = function(_) end
lib.replicate_commands = function() return true end
local bind = function(raw) current.raw = raw current.resp = 2 end
return readonly(lib), bind
"#;

/// The `redis` table of one interpreter and its `bind` (Lua app data).
struct RedisLibrary {
    table: mlua::Table,
    bind: mlua::Function,
}

/// The interpreter's `redis` table, built on first use.
fn redis_library(lua: &Lua) -> mlua::Result<(mlua::Table, mlua::Function)> {
    if let Some(library) = lua.app_data_ref::<RedisLibrary>() {
        return Ok((library.table.clone(), library.bind.clone()));
    }
    let readonly: mlua::Function = lua.named_registry_value(sandbox::READONLY_KEY)?;
    let raw_table: mlua::Table = lua.create_table()?;
    add_pure_functions(lua, &raw_table)?;
    let (table, bind): (mlua::Table, mlua::Function) = lua
        .load(REDIS_LIBRARY)
        .set_name("=redis")
        .call((readonly, raw_table))?;
    lua.set_app_data(RedisLibrary {
        table: table.clone(),
        bind: bind.clone(),
    });
    Ok((table, bind))
}

/// A script's KEYS and ARGV.
pub type KeysAndArgs = (Vec<Vec<u8>>, Vec<Vec<u8>>);

/// The keys and arguments of EVAL or FCALL, checked as Redis checks them.
pub fn keys_and_args(args: Args) -> Result<KeysAndArgs, CommandError> {
    let numkeys = super::parse_int(&args[2])?;
    if numkeys < 0 {
        return Err(CommandError::err("Number of keys can't be negative"));
    }
    if numkeys as usize > args.len() - 3 {
        return Err(CommandError::err(
            "Number of keys can't be greater than number of args",
        ));
    }
    let numkeys = numkeys as usize;
    let keys = (3..3 + numkeys).map(|i| args[i].to_vec()).collect();
    let argv = (3 + numkeys..args.len())
        .map(|i| args[i].to_vec())
        .collect();
    Ok((keys, argv))
}

/// Runs a script (given by body or by SHA1) with Redis's argument checks.
fn run(ctx: &mut Ctx, args: Args, by_sha: bool, read_only: bool) -> CommandResult {
    let (keys, argv) = keys_and_args(args)?;
    let shared = ctx.shared;
    let outcome = shared.scripting.with_engine(|engine| {
        let sha = if by_sha {
            String::from_utf8_lossy(&args[1]).to_ascii_lowercase()
        } else {
            engine.load(&args[1]).map_err(CommandError::Raw)?
        };
        let Some(script) = engine.scripts.get(&sha) else {
            return Err(CommandError::Raw(
                "NOSCRIPT No matching script. Please use EVAL.".into(),
            ));
        };
        let flags = script.flags.unwrap_or(0);
        check_flags(ctx, script.flags, read_only)?;
        if shared.upstream.is_configured() && !read_only && flags & NO_WRITES == 0 {
            // The router sent it upstream unless it came some other way.
            return Err(CommandError::err(
                "with an upstream, a script that may write runs on the upstream only",
            ));
        }
        let call = Invocation {
            function: script.function.clone(),
            name: &sha,
            keys,
            argv,
            read_only: read_only || flags & NO_WRITES != 0,
            allow_oom: flags & (ALLOW_OOM | NO_WRITES) != 0,
            is_function: false,
        };
        execute(ctx, &engine.lua, &call, args)
    });
    match outcome {
        Ok(result) => result,
        Err(reason) => Err(CommandError::err(reason)),
    }
}

/// Redis's checks of a script's flags before it runs (`flags` is None for
/// a script without a shebang line, which Redis runs in compatibility mode).
pub fn check_flags(ctx: &Ctx, flags: Option<u32>, read_only: bool) -> CommandResult {
    let Some(flags) = flags else {
        return Ok(());
    };
    if read_only && flags & NO_WRITES == 0 {
        return Err(CommandError::err(
            "Can not execute a script with write flag using *_ro command.",
        ));
    }
    if ctx.client.out_of_memory && flags & (ALLOW_OOM | NO_WRITES) == 0 {
        return Err(CommandError::Raw(
            "OOM allow-oom flag is not set on the script, can not run it when used memory > 'maxmemory'"
                .into(),
        ));
    }
    Ok(())
}

/// One call of a script or a function.
pub struct Invocation<'a> {
    pub function: mlua::Function,
    /// The script's SHA1 or the function's name, for errors and STATS.
    pub name: &'a str,
    pub keys: Vec<Vec<u8>>,
    pub argv: Vec<Vec<u8>>,
    pub read_only: bool,
    /// Deny-oom commands may run even when memory is full.
    pub allow_oom: bool,
    pub is_function: bool,
}

/// Calls the compiled script or function and writes its result (or error)
/// as the reply; a script that read tracks its declared keys.
pub fn execute(ctx: &mut Ctx, lua: &Lua, call: &Invocation, args: Args) -> CommandResult {
    let shared = ctx.shared;
    let read_something = std::cell::Cell::new(false);
    let run = &shared.scripting.run;
    let threshold = shared
        .hot
        .busy_reply_threshold_ms
        .load(std::sync::atomic::Ordering::Relaxed);
    run.begin(Running {
        name: call.name.to_string(),
        command: (0..args.len()).map(|i| args[i].to_vec()).collect(),
        started: std::time::Instant::now(),
        threshold: std::time::Duration::from_millis(threshold),
        is_function: call.is_function,
    });
    let ended = EndsRun(run);
    let result = execute_tracked(ctx, lua, call, &read_something);
    drop(ended);
    crate::scripting::reset_hook(lua, run);
    if read_something.get() && crate::events::tracking::should_remember(ctx.client) {
        // As in Redis, a script that read tracks the keys it declared.
        if let Ok(index) = shared
            .commands
            .resolve_cached(args, &mut ctx.client.last_lookup)
        {
            let spec = shared.commands.spec(index);
            super::remember_tracked_keys(shared, ctx.client, ctx.keys.locked, spec, args);
        }
    }
    result
}

/// Ends the run state however the script ends (an error, a kill, a panic).
struct EndsRun<'a>(&'a RunState);

impl Drop for EndsRun<'_> {
    fn drop(&mut self) {
        self.0.end();
    }
}

/// `execute`, noting in `read_something` whether the script called a read command.
fn execute_tracked(
    ctx: &mut Ctx,
    lua: &Lua,
    call: &Invocation,
    read_something: &std::cell::Cell<bool>,
) -> CommandResult {
    let lua_error = |e: mlua::Error| CommandError::err(sandbox::plain_message(&e));
    let as_table = |items: &[Vec<u8>]| -> mlua::Result<mlua::Table> {
        let table = lua.create_table()?;
        for (i, item) in items.iter().enumerate() {
            table.raw_set(i + 1, lua.create_string(item)?)?;
        }
        Ok(table)
    };
    let keys = as_table(&call.keys).map_err(lua_error)?;
    let argv = as_table(&call.argv).map_err(lua_error)?;
    if !call.is_function {
        let globals = lua.globals();
        globals.raw_set("KEYS", keys.clone()).map_err(lua_error)?;
        globals.raw_set("ARGV", argv.clone()).map_err(lua_error)?;
    }
    let was_denied = ctx.client.deny_blocking;
    ctx.client.deny_blocking = true;
    ctx.client.in_script = true;
    let limits = CallLimits {
        read_only: call.read_only,
        allow_oom: call.allow_oom,
    };
    let state = RefCell::new(&mut *ctx);
    let result: mlua::Result<(bool, Value)> = lua.scope(|scope| {
        let raw_call = scope.create_function(|lua, (resp, args): (u8, MultiValue)| {
            call_command(lua, &state, args, limits, resp, read_something)
        })?;
        let (library, bind) = redis_library(lua)?;
        bind.call::<()>(raw_call)?;
        lua.globals().raw_set("redis", library)?;
        // pcall at the top keeps Lua's error value (a table from
        // redis.call, or a message) for the reply.
        let pcall: mlua::Function = lua.globals().get("pcall")?;
        let (ok, value): (bool, Value) = if call.is_function {
            pcall.call((call.function.clone(), keys, argv))?
        } else {
            pcall.call(call.function.clone())?
        };
        Ok((ok, value))
    });
    ctx.client.deny_blocking = was_denied;
    ctx.client.in_script = false;
    let (ok, value) = result.map_err(lua_error)?;
    let mut reply = ctx.reply.reborrow();
    if ok {
        convert::lua_to_reply(&mut reply, &value, 0);
        return Ok(());
    }
    Err(CommandError::Raw(script_error(&value, call)))
}

/// The `redis` functions that need no client: `sha1hex` and `log` (also
/// given to function libraries while they load).
pub fn add_pure_functions(lua: &Lua, library: &mlua::Table) -> mlua::Result<()> {
    let sha1hex = lua.create_function(|_, args: mlua::Variadic<Value>| match args.first() {
        Some(Value::String(text)) if args.len() == 1 => {
            Ok(crate::scripting::sha1_hex(&text.as_bytes()))
        }
        Some(Value::Integer(n)) if args.len() == 1 => {
            Ok(crate::scripting::sha1_hex(n.to_string().as_bytes()))
        }
        Some(Value::Number(n)) if args.len() == 1 => {
            Ok(crate::scripting::sha1_hex(lua_number_text(*n).as_bytes()))
        }
        _ => Err(mlua::Error::RuntimeError(
            "wrong number of arguments".into(),
        )),
    })?;
    let log = lua.create_function(
        |_, (level, message): (i64, mlua::Variadic<mlua::LuaString>)| {
            let text: Vec<String> = message
                .iter()
                .map(|m| String::from_utf8_lossy(&m.as_bytes()).into_owned())
                .collect();
            match level {
                3 => tracing::warn!("script: {}", text.join(" ")),
                2 => tracing::info!("script: {}", text.join(" ")),
                _ => tracing::debug!("script: {}", text.join(" ")),
            }
            Ok(())
        },
    )?;
    library.set("sha1hex", sha1hex)?;
    library.set("log", log)?;
    Ok(())
}

/// The error reply for a script that failed: Redis 7.0 names the script
/// (or the function) and the line.
fn script_error(value: &Value, call: &Invocation) -> String {
    let chunk = if call.is_function {
        "user_function"
    } else {
        "user_script"
    };
    let (text, line) = match value {
        Value::Table(_) => {
            let text = convert::error_of(value)
                .map(|t| String::from_utf8_lossy(&t).into_owned())
                .unwrap_or_else(|| "ERR unknown error".into());
            (text, None)
        }
        Value::String(message) => {
            let message = message.to_string_lossy();
            let line = message
                .strip_prefix(chunk)
                .and_then(|rest| rest.strip_prefix(':'))
                .and_then(|rest| rest.split(':').next())
                .and_then(|n| n.parse::<u32>().ok());
            (format!("ERR {}", message), line)
        }
        Value::Error(error) => (format!("ERR {}", sandbox::plain_message(error)), None),
        other => (format!("ERR {:?}", other), None),
    };
    match line {
        Some(line) => format!("{} script: {}, on @{}:{}.", text, call.name, chunk, line),
        None => format!("{} script: {}", text, call.name),
    }
}

/// An error reply as a Lua value (`{err=...}`), for `redis.pcall` to return
/// and `redis.call` to raise.
fn error_table(lua: &Lua, text: &str) -> mlua::Result<Value> {
    let table = lua.create_table()?;
    table.set("err", text)?;
    Ok(Value::Table(table))
}

/// What a script's calls may do.
#[derive(Clone, Copy)]
struct CallLimits {
    read_only: bool,
    allow_oom: bool,
}

/// One `redis.call` / `redis.pcall`: checks the command as Redis does for
/// scripts, runs it on the held shards and converts its reply.
fn call_command(
    lua: &Lua,
    state: &RefCell<&mut Ctx>,
    args: MultiValue,
    limits: CallLimits,
    resp: u8,
    read_something: &std::cell::Cell<bool>,
) -> mlua::Result<Value> {
    let mut parts: Vec<Vec<u8>> = Vec::with_capacity(args.len());
    for arg in args.iter() {
        match arg {
            Value::String(s) => parts.push(s.as_bytes().to_vec()),
            Value::Integer(n) => parts.push(n.to_string().into_bytes()),
            Value::Number(n) => parts.push(lua_number_text(*n).into_bytes()),
            _ => {
                return error_table(
                    lua,
                    "ERR Lua redis lib command arguments must be strings or integers",
                )
            }
        }
    }
    if parts.is_empty() {
        return error_table(
            lua,
            "ERR Please specify at least one argument for this redis lib call",
        );
    }
    let owned = OwnedArgs::from_slices(parts.iter().map(|p| p.as_slice()));
    let mut guard = state.borrow_mut();
    let ctx = &mut **guard;
    let shared = ctx.shared;
    let index = match shared
        .commands
        .resolve_cached(owned.args(), &mut ctx.client.last_lookup)
    {
        Ok(index) => index,
        Err(_) => return error_table(lua, "ERR Unknown Redis command called from script"),
    };
    let spec = shared.commands.spec(index);
    let argc = parts.len() as i32;
    if (spec.arity > 0 && argc != spec.arity) || (spec.arity < 0 && argc < -spec.arity) {
        return error_table(
            lua,
            "ERR Wrong number of args calling Redis command from script",
        );
    }
    if spec.has(flags::NOSCRIPT) {
        return error_table(lua, "ERR This Redis command is not allowed from script");
    }
    if limits.read_only && spec.has(flags::WRITE) {
        return error_table(
            lua,
            "ERR Write commands are not allowed from read-only scripts.",
        );
    }
    let run = &shared.scripting.run;
    if spec.has(flags::DENYOOM)
        && ctx.client.out_of_memory
        && !limits.allow_oom
        && !run.has_written()
    {
        return error_table(lua, &CommandError::OutOfMemory.to_string());
    }
    if spec.has(flags::READONLY) {
        read_something.set(true);
    }
    if spec.has(flags::WRITE) {
        run.note_write();
    }
    let protocol = if resp == 3 {
        Protocol::Resp3
    } else {
        Protocol::Resp2
    };
    let mut out = Vec::new();
    let mut writer = ReplyWriter::new(&mut out, protocol);
    let now = ctx.keys.now_ms;
    let client_protocol = ctx.client.protocol;
    ctx.client.protocol = protocol;
    super::run_locked(
        shared,
        ctx.client,
        &mut writer,
        ctx.keys.locked,
        index,
        owned.args(),
        now,
    );
    ctx.client.protocol = client_protocol;
    drop(guard);
    convert::reply_to_lua(lua, &out)
}

/// A Lua number as `lua_tolstring` writes it (`%.14g`).
fn lua_number_text(n: f64) -> String {
    crate::util::format_general(n, 14)
}

pub fn eval(ctx: &mut Ctx, args: Args) -> CommandResult {
    run(ctx, args, false, false)
}

pub fn evalsha(ctx: &mut Ctx, args: Args) -> CommandResult {
    run(ctx, args, true, false)
}

pub fn eval_ro(ctx: &mut Ctx, args: Args) -> CommandResult {
    run(ctx, args, false, true)
}

pub fn evalsha_ro(ctx: &mut Ctx, args: Args) -> CommandResult {
    run(ctx, args, true, true)
}

pub fn script_load(ctx: &mut Ctx, args: Args) -> CommandResult {
    let loaded = ctx
        .shared
        .scripting
        .with_engine(|engine| engine.load(&args[2]))
        .map_err(CommandError::err)?;
    let sha = loaded.map_err(CommandError::Raw)?;
    ctx.reply.bulk(sha.as_bytes());
    Ok(())
}

pub fn script_exists(ctx: &mut Ctx, args: Args) -> CommandResult {
    let scripting = &ctx.shared.scripting;
    let found: Vec<bool> = (2..args.len())
        .map(|i| scripting.exists(&String::from_utf8_lossy(&args[i])))
        .collect();
    ctx.reply.array_len(found.len());
    for exists in found {
        ctx.reply.integer(exists as i64);
    }
    Ok(())
}

pub fn script_flush(ctx: &mut Ctx, args: Args) -> CommandResult {
    match args.len() {
        2 => {}
        3 if crate::util::eq_ignore_case(&args[2], "async")
            || crate::util::eq_ignore_case(&args[2], "sync") => {}
        _ => {
            return Err(CommandError::err(
                "SCRIPT FLUSH only support SYNC|ASYNC option",
            ))
        }
    }
    ctx.shared.scripting.flush();
    ctx.reply.ok();
    Ok(())
}

/// SCRIPT KILL: stops the running script unless it wrote (or is a function).
pub fn script_kill(ctx: &mut Ctx, _args: Args) -> CommandResult {
    kill(ctx, false)
}

/// SCRIPT KILL and FUNCTION KILL.
pub fn kill(ctx: &mut Ctx, function: bool) -> CommandResult {
    ctx.shared
        .scripting
        .run
        .request_kill(function)
        .map_err(|error| CommandError::Raw(error.into()))?;
    ctx.reply.ok();
    Ok(())
}
