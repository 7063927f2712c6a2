//! FUNCTION LOAD / LIST / DELETE / FLUSH / DUMP / RESTORE / STATS / KILL /
//! HELP, FCALL and FCALL_RO.
//!
//! The libraries live in `scripting::functions`; this module reads the
//! arguments, answers in Redis's shapes and errors, and runs a function
//! through the same path as a script (`scripting::execute`), so FCALL is
//! atomic, killable and off the runtime's threads like EVAL. It must not
//! touch shards itself.

use super::scripting::{execute, keys_and_args, Invocation};
use super::Ctx;
use crate::errors::{CommandError, CommandResult};
use crate::protocol::Args;
use crate::scripting::functions::{self, Library, RestorePolicy};
use crate::storage::rdb;
use crate::util::eq_ignore_case;

fn engine_error(reason: String) -> CommandError {
    CommandError::err(reason)
}

pub fn function_load(ctx: &mut Ctx, args: Args) -> CommandResult {
    let mut replace = false;
    let mut at = 2;
    while at < args.len() - 1 {
        if eq_ignore_case(&args[at], "replace") {
            replace = true;
            at += 1;
            continue;
        }
        return Err(CommandError::err(format!(
            "Unknown option given: {}",
            String::from_utf8_lossy(&args[at])
        )));
    }
    if at >= args.len() {
        return Err(CommandError::err("Function code is missing"));
    }
    let code = &args[at];
    let loaded = ctx
        .shared
        .scripting
        .with_functions(|f| f.load(code, replace))
        .map_err(engine_error)?;
    let name = loaded.map_err(engine_error)?;
    ctx.reply.bulk(name.as_bytes());
    Ok(())
}

pub fn function_delete(ctx: &mut Ctx, args: Args) -> CommandResult {
    let name = String::from_utf8_lossy(&args[2]).into_owned();
    let deleted = ctx
        .shared
        .scripting
        .with_functions(|f| f.delete(&name))
        .map_err(engine_error)?;
    if !deleted {
        return Err(CommandError::err("Library not found"));
    }
    ctx.reply.ok();
    Ok(())
}

/// Redis's error for a FUNCTION subcommand given too many arguments.
fn syntax_error(subcommand: &str) -> CommandError {
    CommandError::err(format!(
        "unknown subcommand or wrong number of arguments for '{}'. Try FUNCTION HELP.",
        subcommand
    ))
}

pub fn function_flush(ctx: &mut Ctx, args: Args) -> CommandResult {
    if args.len() > 3 {
        return Err(syntax_error("flush"));
    }
    match args.len() {
        2 => {}
        3 if eq_ignore_case(&args[2], "async") || eq_ignore_case(&args[2], "sync") => {}
        _ => {
            return Err(CommandError::err(
                "FUNCTION FLUSH only supports SYNC|ASYNC option",
            ))
        }
    }
    ctx.shared
        .scripting
        .with_functions(|f| f.flush())
        .map_err(engine_error)?;
    ctx.reply.ok();
    Ok(())
}

/// FUNCTION LIST [WITHCODE] [LIBRARYNAME pattern].
pub fn function_list(ctx: &mut Ctx, args: Args) -> CommandResult {
    let (with_code, pattern) = list_options(args)?;
    let scripting = &ctx.shared.scripting;
    let reply = &mut ctx.reply;
    scripting
        .with_functions(|f| {
            let chosen: Vec<&Library> = f
                .libraries()
                .filter(|l| {
                    pattern
                        .as_ref()
                        .is_none_or(|p| crate::glob::glob_match(p, l.name.as_bytes(), true))
                })
                .collect();
            reply.array_len(chosen.len());
            for library in chosen {
                write_library(reply, library, with_code);
            }
        })
        .map_err(engine_error)
}

fn list_options(args: Args) -> Result<(bool, Option<Vec<u8>>), CommandError> {
    let (mut with_code, mut pattern) = (false, None);
    let mut at = 2;
    while at < args.len() {
        let arg = &args[at];
        if !with_code && eq_ignore_case(arg, "withcode") {
            with_code = true;
        } else if pattern.is_none() && eq_ignore_case(arg, "libraryname") {
            at += 1;
            if at >= args.len() {
                return Err(CommandError::err("library name argument was not given"));
            }
            pattern = Some(args[at].to_vec());
        } else {
            return Err(CommandError::err(format!(
                "Unknown argument {}",
                String::from_utf8_lossy(arg)
            )));
        }
        at += 1;
    }
    Ok((with_code, pattern))
}

fn write_library(reply: &mut crate::protocol::ReplyWriter, library: &Library, with_code: bool) {
    reply.map_len(if with_code { 4 } else { 3 });
    reply.bulk_str("library_name");
    reply.bulk(library.name.as_bytes());
    reply.bulk_str("engine");
    reply.bulk_str("LUA");
    reply.bulk_str("functions");
    reply.array_len(library.functions.len());
    for function in &library.functions {
        reply.map_len(3);
        reply.bulk_str("name");
        reply.bulk(function.name.as_bytes());
        reply.bulk_str("description");
        match &function.description {
            Some(text) => reply.bulk(text),
            None => reply.null(),
        }
        reply.bulk_str("flags");
        let names: Vec<&str> = functions::FLAG_NAMES
            .iter()
            .filter(|(flag, _)| function.flags & flag != 0)
            .map(|(_, name)| *name)
            .collect();
        reply.set_len(names.len());
        for name in names {
            reply.bulk_str(name);
        }
    }
    if with_code {
        reply.bulk_str("library_code");
        reply.bulk(&library.code);
    }
}

pub fn function_dump(ctx: &mut Ctx, _args: Args) -> CommandResult {
    let payload = ctx
        .shared
        .scripting
        .with_functions(|f| rdb::dump_functions(f.libraries().map(|l| l.code.as_slice())))
        .map_err(engine_error)?;
    ctx.reply.bulk(&payload);
    Ok(())
}

/// FUNCTION RESTORE payload [FLUSH|APPEND|REPLACE].
pub fn function_restore(ctx: &mut Ctx, args: Args) -> CommandResult {
    if args.len() > 4 {
        return Err(syntax_error("restore"));
    }
    let policy = match args.len() {
        3 => RestorePolicy::Append,
        _ if eq_ignore_case(&args[3], "flush") => RestorePolicy::Flush,
        _ if eq_ignore_case(&args[3], "append") => RestorePolicy::Append,
        _ if eq_ignore_case(&args[3], "replace") => RestorePolicy::Replace,
        _ => {
            return Err(CommandError::err(
                "Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE.",
            ))
        }
    };
    let codes = rdb::restore_functions(&args[2])
        .map_err(|_| CommandError::err("payload version or checksum are wrong"))?;
    let restored = ctx
        .shared
        .scripting
        .with_functions(|f| f.restore(&codes, policy))
        .map_err(engine_error)?;
    restored.map_err(engine_error)?;
    ctx.reply.ok();
    Ok(())
}

/// FUNCTION STATS: the running script, and the counts per engine. It runs
/// while a script is busy, so it reads counts the engine keeps outside
/// its lock.
pub fn function_stats(ctx: &mut Ctx, _args: Args) -> CommandResult {
    let scripting = &ctx.shared.scripting;
    let (libraries, functions) = scripting.function_counts();
    let reply = &mut ctx.reply;
    reply.map_len(2);
    reply.bulk_str("running_script");
    match scripting.run.running() {
        Some(running) => {
            reply.map_len(3);
            reply.bulk_str("name");
            reply.bulk(running.name.as_bytes());
            reply.bulk_str("command");
            let command = running.command.args();
            reply.array_len(command.len());
            for i in 0..command.len() {
                reply.bulk(command.get(i));
            }
            reply.bulk_str("duration_ms");
            reply.integer(running.elapsed().as_millis() as i64);
        }
        None => reply.null(),
    }
    reply.bulk_str("engines");
    reply.map_len(1);
    reply.bulk_str("LUA");
    reply.map_len(2);
    reply.bulk_str("libraries_count");
    reply.integer(libraries as i64);
    reply.bulk_str("functions_count");
    reply.integer(functions as i64);
    Ok(())
}

pub fn function_kill(ctx: &mut Ctx, _args: Args) -> CommandResult {
    super::scripting::kill(ctx, true)
}

pub fn function_help(ctx: &mut Ctx, _args: Args) -> CommandResult {
    super::server::write_help(
        ctx,
        "FUNCTION",
        &[
            "LOAD [REPLACE] <FUNCTION CODE>",
            "    Create a new library with the given library name and code.",
            "DELETE <LIBRARY NAME>",
            "    Delete the given library.",
            "LIST [LIBRARYNAME PATTERN] [WITHCODE]",
            "    Return general information on all the libraries:",
            "    * Library name",
            "    * The engine used to run the Library",
            "    * Library description",
            "    * Functions list",
            "    * Library code (if WITHCODE is given)",
            "    It also possible to get only function that matches a pattern using LIBRARYNAME argument.",
            "STATS",
            "    Return information about the current function running:",
            "    * Function name",
            "    * Command used to run the function",
            "    * Duration in MS that the function is running",
            "    If no function is running, return nil",
            "    In addition, returns a list of available engines.",
            "KILL",
            "    Kill the current running function.",
            "FLUSH [ASYNC|SYNC]",
            "    Delete all the libraries.",
            "    When called without the optional mode argument, the behavior is determined by the",
            "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
            "    * ASYNC: Asynchronously flush the libraries.",
            "    * SYNC: Synchronously flush the libraries.",
            "DUMP",
            "    Return a serialized payload representing the current libraries, can be restored using FUNCTION RESTORE command",
            "RESTORE <PAYLOAD> [FLUSH|APPEND|REPLACE]",
            "    Restore the libraries represented by the given payload, it is possible to give a restore policy to",
            "    control how to handle existing libraries (default APPEND):",
            "    * FLUSH: delete all existing libraries.",
            "    * APPEND: appends the restored libraries to the existing libraries. On collision, abort.",
            "    * REPLACE: appends the restored libraries to the existing libraries, On collision, replace the old",
            "      libraries with the new libraries (notice that even on this option there is a chance of failure",
            "      in case of functions name collision with another library).",
        ],
    );
    Ok(())
}

pub fn fcall(ctx: &mut Ctx, args: Args) -> CommandResult {
    call_function(ctx, args, false)
}

pub fn fcall_ro(ctx: &mut Ctx, args: Args) -> CommandResult {
    call_function(ctx, args, true)
}

fn call_function(ctx: &mut Ctx, args: Args, read_only: bool) -> CommandResult {
    if super::parse_int(&args[2]).is_err() {
        return Err(CommandError::err("Bad number of keys provided"));
    }
    let (keys, argv) = keys_and_args(args)?;
    if ctx.shared.upstream.is_configured() {
        // The router sends functions to the upstream, where they live.
        return Err(CommandError::err(
            "with an upstream, functions run on the upstream only",
        ));
    }
    let name = String::from_utf8_lossy(&args[1]).into_owned();
    let shared = ctx.shared;
    let outcome = shared.scripting.with_functions(|f| {
        let Some(function) = f.function(&name) else {
            return Err(CommandError::err("Function not found"));
        };
        let no_writes = function.flags & functions::NO_WRITES != 0;
        super::scripting::check_flags(ctx, Some(function.flags), read_only)?;
        let call = Invocation {
            function: &function.callback,
            name: &function.name,
            keys,
            argv,
            read_only: read_only || no_writes,
            allow_oom: function.flags & (functions::ALLOW_OOM | functions::NO_WRITES) != 0,
            is_function: true,
        };
        execute(ctx, &f.lua, &call, args)
    });
    outcome.map_err(engine_error)?
}
