//! EVAL, EVALSHA, EVAL_RO, EVALSHA_RO and SCRIPT LOAD / EXISTS / FLUSH.
//!
//! A script runs holding the script gate, so no other client's command
//! runs meanwhile, and each shard it touches stays locked to its end
//! (`Keyspace::lock_on_demand`; inside EXEC it runs on EXEC's lock of every
//! shard). `redis.call` runs each command through `run_locked` on those
//! shards, with the EVAL's client, so commands a
//! script calls count in commandstats and notify as usual; blocking
//! commands behave as inside MULTI (they do not block).

use super::table::{flags, LookupCache};
use super::Ctx;
use crate::errors::{CommandError, CommandResult};
use crate::protocol::{Args, OwnedArgs, Protocol, ReplyWriter};
use crate::scripting::functions::{ALLOW_OOM, NO_WRITES};
use crate::scripting::run_state::{RunState, Start};
use crate::scripting::{convert, sandbox};
use mlua::{ffi, Lua, Value};
use std::cell::{Cell, RefCell};

/// The Lua side of `redis.call` and `redis.pcall`: both go through `raw`
/// (the C function [`raw_call`]), which answers error replies as
/// `{err=...}`; `call` raises them (as Redis does, a table error value) and
/// `pcall` returns them. Built once per interpreter.
const REDIS_LIBRARY: &str = r#"
local readonly, lib, raw, set_resp, version, version_num = ...
lib.call = function(...)
    local reply = raw(...)
    if type(reply) == 'table' and reply.err then error(reply, 0) end
    return reply
end
lib.pcall = raw
lib.setresp = function(version)
    if version ~= 2 and version ~= 3 then error('RESP version must be 2 or 3.', 0) end
    set_resp(version)
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
lib.REDIS_VERSION, lib.REDIS_VERSION_NUM = version, version_num
lib.REPL_NONE, lib.REPL_AOF, lib.REPL_REPLICA, lib.REPL_SLAVE, lib.REPL_ALL = 0, 1, 2, 2, 3
lib.set_repl = function(_) end
lib.replicate_commands = function() return true end
return readonly(lib)
"#;

/// Marks (in the Lua app data) that the interpreter's `redis` global is set.
struct RedisLibrary;

/// Sets the interpreter's `redis` global on first use (globals are
/// read-only to scripts, so once is enough).
fn install_redis_library(lua: &Lua) -> mlua::Result<()> {
    if lua.app_data_ref::<RedisLibrary>().is_some() {
        return Ok(());
    }
    let readonly: mlua::Function = lua.named_registry_value(sandbox::READONLY_KEY)?;
    let raw_table: mlua::Table = lua.create_table()?;
    add_pure_functions(lua, &raw_table)?;
    // SAFETY: both are plain C functions of the Lua API's signature.
    let (raw, set_resp) = unsafe {
        (
            lua.create_c_function(raw_call)?,
            lua.create_c_function(set_resp)?,
        )
    };
    let table: mlua::Table = lua.load(REDIS_LIBRARY).set_name("=redis").call((
        readonly,
        raw_table,
        raw,
        set_resp,
        crate::REDIS_VERSION,
        crate::scripting::redis_version_num(),
    ))?;
    lua.globals().raw_set("redis", table)?;
    lua.set_app_data(RedisLibrary);
    Ok(())
}

/// A script's KEYS and ARGV (borrowed from its command).
pub type KeysAndArgs<'a> = (Args<'a>, Args<'a>);

/// The keys and arguments of EVAL or FCALL, checked as Redis checks them.
pub fn keys_and_args(args: Args<'_>) -> Result<KeysAndArgs<'_>, CommandError> {
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
    Ok((args.slice(3, 3 + numkeys), args.from(3 + numkeys)))
}

/// Runs a script (given by body or by SHA1) with Redis's argument checks.
fn run(ctx: &mut Ctx, args: Args, by_sha: bool, read_only: bool) -> CommandResult {
    let (keys, argv) = keys_and_args(args)?;
    let shared = ctx.shared;
    let outcome = shared.scripting.with_engine(|engine| {
        let sha = if by_sha {
            script_name(args.get(1))
        } else {
            std::borrow::Cow::Owned(engine.load(&args[1]).map_err(CommandError::Raw)?)
        };
        let Some(script) = engine.scripts.get(&*sha) else {
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
            function: &script.function,
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

/// EVALSHA's SHA1 as the script cache names it (lowercase), borrowed when
/// it already is.
fn script_name(sha: &[u8]) -> std::borrow::Cow<'_, str> {
    match std::str::from_utf8(sha) {
        Ok(text) if !text.bytes().any(|b| b.is_ascii_uppercase()) => {
            std::borrow::Cow::Borrowed(text)
        }
        _ => std::borrow::Cow::Owned(String::from_utf8_lossy(sha).to_ascii_lowercase()),
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
    pub function: &'a mlua::Function,
    /// The script's SHA1 or the function's name, for errors and STATS.
    pub name: &'a str,
    pub keys: Args<'a>,
    pub argv: Args<'a>,
    pub read_only: bool,
    /// Deny-oom commands may run even when memory is full.
    pub allow_oom: bool,
    pub is_function: bool,
}

/// Calls the compiled script or function and writes its result (or error)
/// as the reply; a script that read tracks its declared keys.
pub fn execute(ctx: &mut Ctx, lua: &Lua, call: &Invocation, args: Args) -> CommandResult {
    let shared = ctx.shared;
    let read_something = Cell::new(false);
    let run = &shared.scripting.run;
    let threshold = shared
        .hot
        .busy_reply_threshold_ms
        .load(std::sync::atomic::Ordering::Relaxed);
    run.begin(Start {
        name: call.name,
        command: args,
        started: ctx.client.clock_mark,
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
    read_something: &Cell<bool>,
) -> CommandResult {
    let lua_error = |e: mlua::Error| CommandError::err(sandbox::plain_message(&e));
    install_redis_library(lua).map_err(lua_error)?;
    let was_denied = ctx.client.deny_blocking;
    ctx.client.deny_blocking = true;
    ctx.client.in_script = true;
    let buffers = std::mem::take(&mut ctx.client.script_call);
    let site = CallSite {
        ctx: RefCell::new(&mut *ctx),
        limits: CallLimits {
            read_only: call.read_only,
            allow_oom: call.allow_oom,
        },
        resp: Cell::new(2),
        read_something,
        args: RefCell::new(buffers.args),
        out: RefCell::new(buffers.out),
        lookup: RefCell::new(buffers.lookup),
    };
    let result = {
        let _running = RunningCall::enter(&site);
        call_script(lua, call)
    };
    let CallSite {
        args, out, lookup, ..
    } = site;
    ctx.client.script_call =
        CallBuffers::kept(args.into_inner(), out.into_inner(), lookup.into_inner());
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

/// Calls the script (KEYS and ARGV set as globals) or the function (given
/// them as arguments) in protected mode: whether it returned, and its
/// result or its error value. The tables are built with Lua's C API.
fn call_script(lua: &Lua, call: &Invocation) -> mlua::Result<(bool, Value)> {
    let is_function = call.is_function;
    // SAFETY: the closure only uses the Lua API on the state it is given,
    // within the stack room it checks, and leaves two values.
    unsafe {
        lua.exec_raw::<(bool, Value)>(call.function, |state| {
            if ffi::lua_checkstack(state, 8) == 0 {
                ffi::lua_pushboolean(state, 0);
                push_text(state, b"not enough Lua stack to run the script");
                return;
            }
            push_array(state, call.keys);
            push_array(state, call.argv);
            let nargs = if is_function {
                2
            } else {
                set_global(state, c"ARGV");
                set_global(state, c"KEYS");
                0
            };
            let status = ffi::lua_pcall(state, nargs, 1, 0);
            ffi::lua_pushboolean(state, (status == 0) as i32);
            ffi::lua_insert(state, -2);
        })
    }
}

/// Pushes `items` as a Lua array of strings.
unsafe fn push_array(state: *mut ffi::lua_State, items: Args) {
    ffi::lua_createtable(state, items.len().min(1 << 16) as i32, 0);
    for (i, item) in items.iter().enumerate() {
        push_text(state, item);
        ffi::lua_rawseti(state, -2, (i + 1) as ffi::lua_Integer);
    }
}

unsafe fn push_text(state: *mut ffi::lua_State, bytes: &[u8]) {
    ffi::lua_pushlstring(state, bytes.as_ptr() as *const _, bytes.len());
}

/// Pops the top value into the global `name` (raw: globals are read-only
/// to scripts, not to the server).
unsafe fn set_global(state: *mut ffi::lua_State, name: &std::ffi::CStr) {
    ffi::lua_pushvalue(state, ffi::LUA_GLOBALSINDEX);
    ffi::lua_pushstring(state, name.as_ptr());
    ffi::lua_pushvalue(state, -3);
    ffi::lua_rawset(state, -3);
    ffi::lua_settop(state, -3);
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

/// What a script's calls may do.
#[derive(Clone, Copy)]
struct CallLimits {
    read_only: bool,
    allow_oom: bool,
}

/// The running script's side of `redis.call`: its client and shards, its
/// limits and RESP version, and buffers reused by each call.
struct CallSite<'s, 'a, 'k> {
    ctx: RefCell<&'s mut Ctx<'a, 'k>>,
    limits: CallLimits,
    resp: Cell<u8>,
    read_something: &'s Cell<bool>,
    args: RefCell<OwnedArgs>,
    out: RefCell<Vec<u8>>,
    lookup: RefCell<LookupCache>,
}

/// What `redis.call` reuses from one script to the next (kept on the
/// client): the arguments' and the reply's buffers, and the last command
/// name a script called with its table entry.
#[derive(Default)]
pub struct CallBuffers {
    args: OwnedArgs,
    out: Vec<u8>,
    lookup: LookupCache,
}

impl CallBuffers {
    /// The buffers a script used, emptied, unless they grew big.
    fn kept(args: OwnedArgs, mut out: Vec<u8>, lookup: LookupCache) -> CallBuffers {
        out.clear();
        if out.capacity() > crate::util::KEEP_BUFFER_BYTES {
            out = Vec::new();
        }
        CallBuffers {
            args: if args.worth_keeping() {
                args
            } else {
                OwnedArgs::default()
            },
            out,
            lookup,
        }
    }
}

thread_local! {
    /// The `CallSite` of the script running on this thread (null when none).
    static RUNNING_CALL: Cell<*const ()> = const { Cell::new(std::ptr::null()) };
}

/// Makes a `CallSite` the running one until dropped.
struct RunningCall {
    previous: *const (),
}

impl RunningCall {
    fn enter(site: &CallSite) -> RunningCall {
        let pointer = site as *const CallSite as *const ();
        RunningCall {
            previous: RUNNING_CALL.with(|running| running.replace(pointer)),
        }
    }
}

impl Drop for RunningCall {
    fn drop(&mut self) {
        RUNNING_CALL.with(|running| running.set(self.previous));
    }
}

/// Runs `f` with the running script's `CallSite`, if one runs.
fn with_running_call<R>(f: impl FnOnce(&CallSite) -> R) -> Option<R> {
    let pointer = RUNNING_CALL.with(Cell::get);
    if pointer.is_null() {
        return None;
    }
    // SAFETY: `RunningCall` keeps the pointer set only while the
    // `CallSite` it points to lives, on this thread.
    let site = unsafe { &*(pointer as *const CallSite) };
    Some(f(site))
}

/// `redis.setresp`'s C side (the version is checked in Lua).
unsafe extern "C-unwind" fn set_resp(state: *mut ffi::lua_State) -> std::os::raw::c_int {
    let version = ffi::lua_tonumber(state, 1) as u8;
    with_running_call(|site| site.resp.set(version));
    0
}

/// `redis.pcall` (and the inside of `redis.call`), called from Lua with the
/// command's arguments: reads them off the stack, runs the command and
/// pushes its reply (an error reply as `{err=...}`). Raises no Lua error
/// of its own; nothing that needs dropping is held while it pushes.
unsafe extern "C-unwind" fn raw_call(state: *mut ffi::lua_State) -> std::os::raw::c_int {
    let outcome = with_running_call(|site| {
        let read = read_arguments(state, site);
        // The arguments are copied: their stack room goes to the reply.
        ffi::lua_settop(state, 0);
        if !read {
            return Err("ERR Lua redis lib command arguments must be strings or integers");
        }
        let ran = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| call_command(site)));
        ran.unwrap_or(Err("ERR the command failed inside the server"))?;
        let out = site
            .out
            .try_borrow()
            .map_err(|_| "ERR cannot convert the command's reply")?;
        convert::push_reply(state, &out).map_err(|_| "ERR cannot convert the command's reply")
    });
    let outcome = outcome.unwrap_or(Err("ERR redis.call is only available while a script runs"));
    if let Err(text) = outcome {
        convert::push_error(state, text);
    }
    1
}

/// Copies the call's arguments into the site's buffer: strings as they
/// are, numbers as Lua writes them; false on any other type.
unsafe fn read_arguments(state: *mut ffi::lua_State, site: &CallSite) -> bool {
    let Ok(mut args) = site.args.try_borrow_mut() else {
        return false;
    };
    args.clear();
    for index in 1..=ffi::lua_gettop(state) {
        match ffi::lua_type(state, index) {
            ffi::LUA_TSTRING => {
                let mut len = 0;
                let text = ffi::lua_tolstring(state, index, &mut len);
                args.push(std::slice::from_raw_parts(text as *const u8, len));
            }
            ffi::LUA_TNUMBER => args.push(number_text(ffi::lua_tonumber(state, index)).as_bytes()),
            _ => return false,
        }
    }
    true
}

/// A Lua number as an argument: integral ones as integers, the rest as
/// `lua_tolstring` writes them (`%.14g`).
fn number_text(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 9.2e18 {
        return (n as i64).to_string();
    }
    lua_number_text(n)
}

/// One `redis.call` / `redis.pcall` on the arguments in the site's
/// buffer: checks the command as Redis does for scripts, runs it on the
/// held shards and leaves its RESP reply in the site's `out`.
fn call_command(site: &CallSite) -> Result<(), &'static str> {
    let args = site
        .args
        .try_borrow()
        .map_err(|_| "ERR script call reentered")?;
    let args = args.args();
    if args.is_empty() {
        return Err("ERR Please specify at least one argument for this redis lib call");
    }
    let mut guard = site
        .ctx
        .try_borrow_mut()
        .map_err(|_| "ERR script call reentered")?;
    let ctx = &mut **guard;
    let shared = ctx.shared;
    let mut lookup = site
        .lookup
        .try_borrow_mut()
        .map_err(|_| "ERR script call reentered")?;
    let index = shared
        .commands
        .resolve_cached(args, &mut lookup)
        .map_err(|_| "ERR Unknown Redis command called from script")?;
    drop(lookup);
    let spec = shared.commands.spec(index);
    let argc = args.len() as i32;
    if (spec.arity > 0 && argc != spec.arity) || (spec.arity < 0 && argc < -spec.arity) {
        return Err("ERR Wrong number of args calling Redis command from script");
    }
    if spec.has(flags::NOSCRIPT) {
        return Err("ERR This Redis command is not allowed from script");
    }
    if site.limits.read_only && spec.has(flags::WRITE) {
        return Err("ERR Write commands are not allowed from read-only scripts.");
    }
    let run = &shared.scripting.run;
    if spec.has(flags::DENYOOM)
        && ctx.client.out_of_memory
        && !site.limits.allow_oom
        && !run.has_written()
    {
        return Err(crate::errors::OUT_OF_MEMORY);
    }
    if spec.has(flags::READONLY) {
        site.read_something.set(true);
    }
    if spec.has(flags::WRITE) {
        run.note_write();
    }
    let protocol = if site.resp.get() == 3 {
        Protocol::Resp3
    } else {
        Protocol::Resp2
    };
    let mut out = site
        .out
        .try_borrow_mut()
        .map_err(|_| "ERR script call reentered")?;
    out.clear();
    let mut writer = ReplyWriter::new(&mut out, protocol);
    if spec.lock == super::table::LockMode::All {
        ctx.keys.locked.hold_every_shard();
    }
    let now = ctx.keys.now_ms;
    let client_protocol = ctx.client.protocol;
    ctx.client.protocol = protocol;
    super::run_locked(
        shared,
        ctx.client,
        &mut writer,
        ctx.keys.locked,
        index,
        args,
        now,
    );
    ctx.client.protocol = client_protocol;
    Ok(())
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
