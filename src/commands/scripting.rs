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
use crate::scripting::{convert, sandbox};
use mlua::{Lua, MultiValue, Value};
use std::cell::RefCell;

/// The Lua side of `redis.call` and `redis.pcall`: both go through
/// `__raw_call`, which answers error replies as `{err=...}`; `call` raises
/// them (as Redis does, a table error value) and `pcall` returns them.
const REDIS_LIBRARY: &str = r#"
local raw = ...
local lib = {}
lib.call = function(...)
    local reply = raw(...)
    if type(reply) == 'table' and reply.err then error(reply, 0) end
    return reply
end
lib.pcall = function(...) return raw(...) end
lib.error_reply = function(text)
    if type(text) ~= 'string' then error('wrong number or type of arguments', 2) end
    return { err = text }
end
lib.status_reply = function(text)
    if type(text) ~= 'string' then error('wrong number or type of arguments', 2) end
    return { ok = text }
end
lib.LOG_DEBUG, lib.LOG_VERBOSE, lib.LOG_NOTICE, lib.LOG_WARNING = 0, 1, 2, 3
lib.REPL_NONE, lib.REPL_AOF, lib.REPL_REPLICA, lib.REPL_SLAVE, lib.REPL_ALL = 0, 1, 2, 2, 3
lib.set_repl = function(_) end
lib.replicate_commands = function() return true end
return lib
"#;

/// Runs a script (given by body or by SHA1) with Redis's argument checks.
fn run(ctx: &mut Ctx, args: Args, by_sha: bool, read_only: bool) -> CommandResult {
    let numkeys = super::parse_int(&args[2])?;
    if numkeys < 0 {
        return Err(CommandError::err("Number of keys can't be negative"));
    }
    if numkeys as usize > args.len() - 3 {
        return Err(CommandError::err(
            "Number of keys can't be greater than number of args",
        ));
    }
    if ctx.shared.upstream.is_configured() {
        return Err(CommandError::err(
            "scripts are not supported with an upstream yet",
        ));
    }
    let numkeys = numkeys as usize;
    let keys: Vec<Vec<u8>> = (3..3 + numkeys).map(|i| args[i].to_vec()).collect();
    let argv: Vec<Vec<u8>> = (3 + numkeys..args.len())
        .map(|i| args[i].to_vec())
        .collect();
    let shared = ctx.shared;
    let outcome = shared.scripting.with_engine(|engine| {
        let sha = if by_sha {
            let sha = String::from_utf8_lossy(&args[1]).to_ascii_lowercase();
            if !engine.scripts.contains_key(&sha) {
                return Err(CommandError::Raw(
                    "NOSCRIPT No matching script. Please use EVAL.".into(),
                ));
            }
            sha
        } else {
            engine.load(&args[1]).map_err(CommandError::Raw)?
        };
        let function = match engine.scripts.get(&sha) {
            Some(script) => script.function.clone(),
            None => {
                return Err(CommandError::Raw(
                    "NOSCRIPT No matching script. Please use EVAL.".into(),
                ))
            }
        };
        let (result, read_something) =
            execute(ctx, &engine.lua, &function, &sha, &keys, &argv, read_only);
        if read_something && crate::events::tracking::should_remember(ctx.client) {
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
    });
    match outcome {
        Ok(result) => result,
        Err(reason) => Err(CommandError::err(reason)),
    }
}

/// Calls the compiled script and writes its result (or error) as the reply.
fn execute(
    ctx: &mut Ctx,
    lua: &Lua,
    function: &mlua::Function,
    sha: &str,
    keys: &[Vec<u8>],
    argv: &[Vec<u8>],
    read_only: bool,
) -> (CommandResult, bool) {
    let read_something = std::cell::Cell::new(false);
    let result = execute_tracked(
        ctx,
        lua,
        function,
        sha,
        keys,
        argv,
        read_only,
        &read_something,
    );
    (result, read_something.get())
}

/// `execute`, noting in `read_something` whether the script called a read command.
#[allow(clippy::too_many_arguments)]
fn execute_tracked(
    ctx: &mut Ctx,
    lua: &Lua,
    function: &mlua::Function,
    sha: &str,
    keys: &[Vec<u8>],
    argv: &[Vec<u8>],
    read_only: bool,
    read_something: &std::cell::Cell<bool>,
) -> CommandResult {
    let lua_error = |e: mlua::Error| CommandError::err(sandbox::plain_message(&e));
    let globals = lua.globals();
    let as_table = |items: &[Vec<u8>]| -> mlua::Result<mlua::Table> {
        let table = lua.create_table()?;
        for (i, item) in items.iter().enumerate() {
            table.raw_set(i + 1, lua.create_string(item)?)?;
        }
        Ok(table)
    };
    globals
        .raw_set("KEYS", as_table(keys).map_err(lua_error)?)
        .map_err(lua_error)?;
    globals
        .raw_set("ARGV", as_table(argv).map_err(lua_error)?)
        .map_err(lua_error)?;
    sandbox::reset_random(lua, 0);
    let was_denied = ctx.client.deny_blocking;
    ctx.client.deny_blocking = true;
    ctx.client.in_script = true;
    let resp = std::cell::Cell::new(2u8);
    let state = RefCell::new(&mut *ctx);
    let result: mlua::Result<(bool, Value)> = lua.scope(|scope| {
        let raw_call = scope.create_function(|lua, args: MultiValue| {
            call_command(lua, &state, args, read_only, resp.get(), read_something)
        })?;
        let set_resp = scope.create_function(|_, version: i64| {
            if version != 2 && version != 3 {
                return Err(mlua::Error::RuntimeError(
                    "RESP version must be 2 or 3.".into(),
                ));
            }
            resp.set(version as u8);
            Ok(())
        })?;
        let sha1hex = scope.create_function(|_, text: mlua::LuaString| {
            Ok(crate::scripting::sha1_hex(&text.as_bytes()))
        })?;
        let log = scope.create_function(
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
        let library: mlua::Table = lua.load(REDIS_LIBRARY).set_name("=redis").call(raw_call)?;
        library.set("setresp", set_resp)?;
        library.set("sha1hex", sha1hex)?;
        library.set("log", log)?;
        lua.globals().raw_set("redis", library)?;
        // pcall at the top keeps Lua's error value (a table from
        // redis.call, or a message) for the reply.
        let pcall: mlua::Function = lua.globals().get("pcall")?;
        let (ok, value): (bool, Value) = pcall.call(function.clone())?;
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
    Err(CommandError::Raw(script_error(&value, sha)))
}

/// The error reply for a script that failed: Redis 7.0 names the script.
fn script_error(value: &Value, sha: &str) -> String {
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
                .strip_prefix("user_script:")
                .and_then(|rest| rest.split(':').next())
                .and_then(|n| n.parse::<u32>().ok());
            (format!("ERR {}", message), line)
        }
        Value::Error(error) => (format!("ERR {}", sandbox::plain_message(error)), None),
        other => (format!("ERR {:?}", other), None),
    };
    match line {
        Some(line) => format!("{} script: {}, on @user_script:{}.", text, sha, line),
        None => format!("{} script: {}", text, sha),
    }
}

/// An error reply as a Lua value (`{err=...}`), for `redis.pcall` to return
/// and `redis.call` to raise.
fn error_table(lua: &Lua, text: &str) -> mlua::Result<Value> {
    let table = lua.create_table()?;
    table.set("err", text)?;
    Ok(Value::Table(table))
}

/// One `redis.call` / `redis.pcall`: checks the command as Redis does for
/// scripts, runs it on the held shards and converts its reply.
fn call_command(
    lua: &Lua,
    state: &RefCell<&mut Ctx>,
    args: MultiValue,
    read_only: bool,
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
    if read_only && spec.has(flags::WRITE) {
        return error_table(
            lua,
            "ERR Write commands are not allowed from read-only scripts.",
        );
    }
    if spec.has(flags::READONLY) {
        read_something.set(true);
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
