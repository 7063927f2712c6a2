//! The command table: the single description of every command (name, arity,
//! flags, key positions, ACL categories, group, summary, handler,
//! subcommands). Dispatch, COMMAND INFO/DOCS/LIST/GETKEYS and the per-command
//! statistics all read it; adding a command is one entry here plus its
//! handler in the family's file.

#[allow(unused_imports)]
use super::{connection, hashes, keys, lists, server, sets, strings, transactions, zsets, Handler};
use crate::errors::CommandError;
use crate::protocol::Args;
use crate::stats::CommandStats;
use std::collections::HashMap;

/// Command flags, named as COMMAND INFO shows them.
pub mod flags {
    pub const WRITE: u32 = 1 << 0;
    pub const READONLY: u32 = 1 << 1;
    pub const DENYOOM: u32 = 1 << 2;
    pub const ADMIN: u32 = 1 << 3;
    pub const PUBSUB: u32 = 1 << 4;
    pub const NOSCRIPT: u32 = 1 << 5;
    pub const BLOCKING: u32 = 1 << 6;
    pub const LOADING: u32 = 1 << 7;
    pub const STALE: u32 = 1 << 8;
    pub const SKIP_MONITOR: u32 = 1 << 9;
    pub const SKIP_SLOWLOG: u32 = 1 << 10;
    pub const FAST: u32 = 1 << 11;
    pub const NO_AUTH: u32 = 1 << 12;
    pub const MAY_REPLICATE: u32 = 1 << 13;
    pub const NO_MULTI: u32 = 1 << 14;
    pub const ALLOW_BUSY: u32 = 1 << 15;
    /// Runs at once even inside MULTI (EXEC, DISCARD, MULTI, WATCH, QUIT, RESET).
    pub const NO_QUEUE: u32 = 1 << 16;

    pub const NAMES: &[(u32, &str)] = &[
        (WRITE, "write"),
        (READONLY, "readonly"),
        (DENYOOM, "denyoom"),
        (ADMIN, "admin"),
        (PUBSUB, "pubsub"),
        (NOSCRIPT, "noscript"),
        (BLOCKING, "blocking"),
        (LOADING, "loading"),
        (STALE, "stale"),
        (SKIP_MONITOR, "skip_monitor"),
        (SKIP_SLOWLOG, "skip_slowlog"),
        (FAST, "fast"),
        (NO_AUTH, "no_auth"),
        (MAY_REPLICATE, "may_replicate"),
        (NO_MULTI, "no_multi"),
        (ALLOW_BUSY, "allow_busy"),
    ];
}

use flags::*;

/// Which shards the dispatcher locks before the handler runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LockMode {
    Nothing,
    /// The shards of the keys at the command's key positions.
    Keys,
    /// Every shard (commands that see the whole keyspace, and EXEC).
    All,
}

pub struct CommandSpec {
    pub name: &'static str,
    /// Redis arity: N exactly, or -N for at least N (the name counts).
    pub arity: i32,
    pub flags: u32,
    pub first_key: i32,
    pub last_key: i32,
    pub step: i32,
    /// Position of a `numkeys` argument followed by that many keys
    /// (LMPOP, ZUNIONSTORE, SINTERCARD...); 0 when the command has none.
    pub numkeys_at: i32,
    /// Command group as COMMAND DOCS names it (string, generic, connection, server, transactions).
    pub group: &'static str,
    pub since: &'static str,
    pub summary: &'static str,
    pub lock: LockMode,
    pub handler: Handler,
    pub subcommands: &'static [CommandSpec],
    /// Set for subcommands: the container's name.
    pub parent: &'static str,
}

impl CommandSpec {
    pub fn has(&self, flag: u32) -> bool {
        self.flags & flag != 0
    }

    /// `config|get` for subcommands, `get` otherwise.
    pub fn full_name(&self) -> String {
        if self.parent.is_empty() {
            self.name.to_string()
        } else {
            format!("{}|{}", self.parent, self.name)
        }
    }

    /// Argument indexes holding keys in `args`: the fixed range, then the
    /// keys a valid `numkeys` argument announces (an invalid one announces
    /// none, and the handler rejects the command before touching a key).
    pub fn key_positions(&self, args: Args) -> Vec<usize> {
        let mut positions: Vec<usize> = self.range_key_positions(args.len()).collect();
        if let Some(count) = self.numkeys(args) {
            let first = self.numkeys_at as usize + 1;
            positions.extend(first..first + count);
        }
        positions
    }

    /// The `numkeys` argument when it is a count the arguments can hold.
    pub fn numkeys(&self, args: Args) -> Option<usize> {
        if self.numkeys_at <= 0 || args.len() <= self.numkeys_at as usize {
            return None;
        }
        let count = crate::util::parse_i64(&args[self.numkeys_at as usize])?;
        let room = args.len() - self.numkeys_at as usize - 1;
        (count > 0 && count as u64 <= room as u64).then_some(count as usize)
    }

    pub fn has_movable_keys(&self) -> bool {
        self.numkeys_at > 0
    }

    /// Indexes of the fixed key range, for a command of `argc` arguments.
    fn range_key_positions(&self, argc: usize) -> impl Iterator<Item = usize> {
        let argc = argc as i32;
        let first = self.first_key;
        let last = if self.last_key < 0 {
            argc + self.last_key
        } else {
            self.last_key
        };
        let step = self.step.max(1);
        let valid = first > 0 && last >= first;
        let end = if valid { last.min(argc - 1) } else { first - 1 };
        (first..=end).step_by(step as usize).map(|i| i as usize)
    }

    /// The ACL categories Redis derives for this command.
    /// The ACL categories Redis derives for this command, in Redis's order.
    pub fn acl_categories(&self) -> Vec<&'static str> {
        let mut cats = Vec::new();
        match self.group {
            "string" => cats.push("@string"),
            "bitmap" => cats.push("@bitmap"),
            "hash" => cats.push("@hash"),
            "list" => cats.push("@list"),
            "set" => cats.push("@set"),
            "sorted-set" => cats.push("@sortedset"),
            "generic" => cats.push("@keyspace"),
            "connection" => cats.push("@connection"),
            "transactions" => cats.push("@transaction"),
            "scripting" => cats.push("@scripting"),
            _ => {}
        }
        let implied = [
            (WRITE, "@write"),
            (READONLY, "@read"),
            (ADMIN, "@admin"),
            (ADMIN, "@dangerous"),
            (PUBSUB, "@pubsub"),
            (FAST, "@fast"),
            (BLOCKING, "@blocking"),
        ];
        for (flag, cat) in implied {
            if self.has(flag) {
                cats.push(cat);
            }
        }
        if !self.has(FAST) {
            cats.push("@slow");
        }
        cats.sort_by_key(|c| ACL_CATEGORY_ORDER.iter().position(|o| o == c));
        cats
    }
}

/// Redis's ACL category table order, which COMMAND INFO follows.
const ACL_CATEGORY_ORDER: &[&str] = &[
    "@keyspace",
    "@read",
    "@write",
    "@set",
    "@sortedset",
    "@list",
    "@hash",
    "@string",
    "@bitmap",
    "@hyperloglog",
    "@geo",
    "@stream",
    "@pubsub",
    "@admin",
    "@fast",
    "@slow",
    "@blocking",
    "@dangerous",
    "@connection",
    "@transaction",
    "@scripting",
];

/// Defaults for a table row; entries override what differs.
const fn cmd(name: &'static str, arity: i32, flags: u32, handler: Handler) -> CommandSpec {
    CommandSpec {
        name,
        arity,
        flags,
        first_key: 0,
        last_key: 0,
        step: 0,
        numkeys_at: 0,
        group: "server",
        since: "1.0.0",
        summary: "",
        lock: LockMode::Nothing,
        handler,
        subcommands: &[],
        parent: "",
    }
}

/// A command on one key at position 1.
const fn key1(
    name: &'static str,
    arity: i32,
    flags: u32,
    group: &'static str,
    summary: &'static str,
    handler: Handler,
) -> CommandSpec {
    CommandSpec {
        first_key: 1,
        last_key: 1,
        step: 0,
        group,
        summary,
        lock: LockMode::Keys,
        ..cmd(name, arity, flags, handler)
    }
}

/// A command on keys from `first` to `last` (negative: from the end) every `step`.
#[allow(clippy::too_many_arguments)]
const fn keys_at(
    name: &'static str,
    arity: i32,
    flags: u32,
    first: i32,
    last: i32,
    step: i32,
    group: &'static str,
    summary: &'static str,
    handler: Handler,
) -> CommandSpec {
    CommandSpec {
        first_key: first,
        last_key: last,
        step,
        group,
        summary,
        lock: LockMode::Keys,
        ..cmd(name, arity, flags, handler)
    }
}

/// A command whose keys follow a `numkeys` argument at `numkeys_at`, after
/// an optional fixed key at 1 (`dest` of ZUNIONSTORE: pass `dest_key`).
#[allow(dead_code)] // used as the family tables land
const fn numkeys(
    name: &'static str,
    arity: i32,
    flags: u32,
    numkeys_at: i32,
    dest_key: bool,
    group: &'static str,
    summary: &'static str,
    handler: Handler,
) -> CommandSpec {
    let fixed = if dest_key { 1 } else { 0 };
    CommandSpec {
        first_key: fixed,
        last_key: fixed,
        step: fixed,
        numkeys_at,
        group,
        summary,
        lock: LockMode::Keys,
        ..cmd(name, arity, flags, handler)
    }
}

/// A command that sees the whole keyspace.
const fn whole(
    name: &'static str,
    arity: i32,
    flags: u32,
    group: &'static str,
    summary: &'static str,
    handler: Handler,
) -> CommandSpec {
    CommandSpec {
        group,
        summary,
        lock: LockMode::All,
        ..cmd(name, arity, flags, handler)
    }
}

/// A command that touches no keys.
const fn keyless(
    name: &'static str,
    arity: i32,
    flags: u32,
    group: &'static str,
    summary: &'static str,
    handler: Handler,
) -> CommandSpec {
    CommandSpec {
        group,
        summary,
        ..cmd(name, arity, flags, handler)
    }
}

/// A subcommand of `parent`.
const fn sub(
    parent: &'static str,
    group: &'static str,
    name: &'static str,
    arity: i32,
    flags: u32,
    summary: &'static str,
    handler: Handler,
) -> CommandSpec {
    CommandSpec {
        parent,
        group,
        summary,
        ..cmd(name, arity, flags, handler)
    }
}

/// A subcommand whose key is its first argument (`OBJECT ENCODING key`).
const fn key_sub(
    parent: &'static str,
    group: &'static str,
    name: &'static str,
    arity: i32,
    flags: u32,
    summary: &'static str,
    handler: Handler,
) -> CommandSpec {
    CommandSpec {
        first_key: 2,
        last_key: 2,
        step: 1,
        lock: LockMode::Keys,
        ..sub(parent, group, name, arity, flags, summary, handler)
    }
}

const fn container(
    name: &'static str,
    arity: i32,
    flags: u32,
    group: &'static str,
    summary: &'static str,
    subcommands: &'static [CommandSpec],
) -> CommandSpec {
    CommandSpec {
        group,
        summary,
        subcommands,
        ..cmd(name, arity, flags, server::container_without_subcommand)
    }
}

const RW: u32 = WRITE | DENYOOM;
const ADMIN_CMD: u32 = ADMIN | NOSCRIPT | LOADING | STALE;
const CONN: u32 = LOADING | STALE | FAST;

static OBJECT_SUBCOMMANDS: &[CommandSpec] = &[
    key_sub(
        "object",
        "generic",
        "encoding",
        3,
        READONLY,
        "Returns the internal encoding of a Redis object.",
        keys::object_encoding,
    ),
    key_sub(
        "object",
        "generic",
        "idletime",
        3,
        READONLY,
        "Returns the time since the last access to a Redis object.",
        keys::object_idletime,
    ),
    key_sub(
        "object",
        "generic",
        "freq",
        3,
        READONLY,
        "Returns the logarithmic access frequency counter of a Redis object.",
        keys::object_freq,
    ),
    key_sub(
        "object",
        "generic",
        "refcount",
        3,
        READONLY,
        "Returns the reference count of a value of a key.",
        keys::object_refcount,
    ),
    sub(
        "object",
        "generic",
        "help",
        2,
        LOADING | STALE,
        "Returns helpful text about the different subcommands.",
        keys::object_help,
    ),
];

static MEMORY_SUBCOMMANDS: &[CommandSpec] = &[
    key_sub(
        "memory",
        "server",
        "usage",
        -3,
        READONLY,
        "Estimates the memory usage of a key.",
        keys::memory_usage,
    ),
    sub(
        "memory",
        "server",
        "help",
        2,
        LOADING | STALE,
        "Returns helpful text about the different subcommands.",
        keys::memory_help,
    ),
];

static CLIENT_SUBCOMMANDS: &[CommandSpec] = &[
    sub(
        "client",
        "connection",
        "id",
        2,
        NOSCRIPT | LOADING | STALE,
        "Returns the unique client ID of the connection.",
        connection::client_id,
    ),
    sub(
        "client",
        "connection",
        "setname",
        3,
        NOSCRIPT | LOADING | STALE,
        "Sets the connection name.",
        connection::client_setname,
    ),
    sub(
        "client",
        "connection",
        "getname",
        2,
        NOSCRIPT | LOADING | STALE,
        "Returns the name of the connection.",
        connection::client_getname,
    ),
    sub(
        "client",
        "connection",
        "list",
        -2,
        ADMIN_CMD,
        "Lists open connections.",
        connection::client_list,
    ),
    sub(
        "client",
        "connection",
        "info",
        2,
        NOSCRIPT | LOADING | STALE,
        "Returns information about the connection.",
        connection::client_info,
    ),
    sub(
        "client",
        "connection",
        "kill",
        -3,
        ADMIN_CMD,
        "Terminates open connections.",
        connection::client_kill,
    ),
    sub(
        "client",
        "connection",
        "setinfo",
        4,
        NOSCRIPT | LOADING | STALE,
        "Sets information specific to the client or connection.",
        connection::client_setinfo,
    ),
    sub(
        "client",
        "connection",
        "no-evict",
        3,
        ADMIN_CMD,
        "Sets the client eviction mode of the connection.",
        connection::client_no_evict,
    ),
    sub(
        "client",
        "connection",
        "no-touch",
        3,
        NOSCRIPT | LOADING | STALE,
        "Controls whether commands sent by the client affect the LRU/LFU of accessed keys.",
        connection::client_no_touch,
    ),
    sub(
        "client",
        "connection",
        "reply",
        3,
        NOSCRIPT | LOADING | STALE,
        "Instructs the server whether to reply to commands.",
        connection::client_reply,
    ),
    sub(
        "client",
        "connection",
        "help",
        2,
        LOADING | STALE,
        "Returns helpful text about the different subcommands.",
        connection::client_help,
    ),
];

static CONFIG_SUBCOMMANDS: &[CommandSpec] = &[
    sub(
        "config",
        "server",
        "get",
        -3,
        ADMIN_CMD,
        "Returns the effective values of configuration parameters.",
        server::config_get,
    ),
    sub(
        "config",
        "server",
        "set",
        -4,
        ADMIN_CMD,
        "Sets configuration parameters in-flight.",
        server::config_set,
    ),
    sub(
        "config",
        "server",
        "resetstat",
        2,
        ADMIN_CMD,
        "Resets the server's statistics.",
        server::config_resetstat,
    ),
    sub(
        "config",
        "server",
        "rewrite",
        2,
        ADMIN_CMD,
        "Persists the effective configuration to file.",
        server::config_rewrite,
    ),
    sub(
        "config",
        "server",
        "help",
        2,
        LOADING | STALE,
        "Returns helpful text about the different subcommands.",
        server::config_help,
    ),
];

static SLOWLOG_SUBCOMMANDS: &[CommandSpec] = &[
    sub(
        "slowlog",
        "server",
        "get",
        -2,
        ADMIN | LOADING | STALE,
        "Returns the slow log's entries.",
        server::slowlog_get,
    ),
    sub(
        "slowlog",
        "server",
        "len",
        2,
        ADMIN | LOADING | STALE,
        "Returns the number of entries in the slow log.",
        server::slowlog_len,
    ),
    sub(
        "slowlog",
        "server",
        "reset",
        2,
        ADMIN | LOADING | STALE,
        "Clears all entries from the slow log.",
        server::slowlog_reset,
    ),
    sub(
        "slowlog",
        "server",
        "help",
        2,
        LOADING | STALE,
        "Show helpful text about the different subcommands.",
        server::slowlog_help,
    ),
];

static FUNCTION_SUBCOMMANDS: &[CommandSpec] = &[
    sub(
        "function",
        "scripting",
        "flush",
        -2,
        WRITE | NOSCRIPT,
        "Deletes all libraries and functions.",
        server::function_flush,
    ),
    sub(
        "function",
        "scripting",
        "help",
        2,
        LOADING | STALE,
        "Returns helpful text about the different subcommands.",
        server::function_help,
    ),
];

static COMMAND_SUBCOMMANDS: &[CommandSpec] = &[
    sub(
        "command",
        "server",
        "count",
        2,
        LOADING | STALE,
        "Returns a count of commands.",
        server::command_count,
    ),
    sub(
        "command",
        "server",
        "info",
        -2,
        LOADING | STALE,
        "Returns information about one, multiple or all commands.",
        server::command_info,
    ),
    sub(
        "command",
        "server",
        "docs",
        -2,
        LOADING | STALE,
        "Returns documentary information about one, multiple or all commands.",
        server::command_docs,
    ),
    sub(
        "command",
        "server",
        "list",
        -2,
        LOADING | STALE,
        "Returns a list of command names.",
        server::command_list,
    ),
    sub(
        "command",
        "server",
        "getkeys",
        -4,
        LOADING | STALE,
        "Extracts the key names from an arbitrary command.",
        server::command_getkeys,
    ),
    sub(
        "command",
        "server",
        "help",
        2,
        LOADING | STALE,
        "Returns helpful text about the different subcommands.",
        server::command_help,
    ),
];

/// Every command cachet implements.
pub static COMMANDS: &[CommandSpec] = &[
    // Strings
    key1("get", 2, READONLY | FAST, "string", "Returns the string value of a key.", strings::get),
    key1("set", -3, RW, "string", "Sets the string value of a key, ignoring its type. The key is created if it doesn't exist.", strings::set),
    key1("setnx", 3, RW | FAST, "string", "Set the string value of a key only when the key doesn't exist.", strings::setnx),
    key1("setex", 4, RW, "string", "Sets the string value and expiration time of a key. Creates the key if it doesn't exist.", strings::setex),
    key1("psetex", 4, RW, "string", "Sets both string value and expiration time in milliseconds of a key. The key is created if it doesn't exist.", strings::psetex),
    keys_at("mget", -2, READONLY | FAST, 1, -1, 1, "string", "Atomically returns the string values of one or more keys.", strings::mget),
    keys_at("mset", -3, RW, 1, -1, 2, "string", "Atomically creates or modifies the string values of one or more keys.", strings::mset),
    keys_at("msetnx", -3, RW, 1, -1, 2, "string", "Atomically modifies the string values of one or more keys only when all keys don't exist.", strings::msetnx),
    key1("getset", 3, RW | FAST, "string", "Returns the previous string value of a key after setting it to a new value.", strings::getset),
    key1("getdel", 2, WRITE | FAST, "string", "Returns the string value of a key after deleting the key.", strings::getdel),
    key1("getex", -2, WRITE | FAST, "string", "Returns the string value of a key after setting its expiration time.", strings::getex),
    key1("append", 3, RW | FAST, "string", "Appends a string to the value of a key. Creates the key if it doesn't exist.", strings::append),
    key1("strlen", 2, READONLY | FAST, "string", "Returns the length of a string value.", strings::strlen),
    key1("getrange", 4, READONLY, "string", "Returns a substring of the string stored at a key.", strings::getrange),
    key1("setrange", 4, RW, "string", "Overwrites a part of a string value with another by an offset. Creates the key if it doesn't exist.", strings::setrange),
    key1("substr", 4, READONLY, "string", "Returns a substring from a string value.", strings::getrange),
    key1("incr", 2, RW | FAST, "string", "Increments the integer value of a key by one. Uses 0 as initial value if the key doesn't exist.", strings::incr),
    key1("decr", 2, RW | FAST, "string", "Decrements the integer value of a key by one. Uses 0 as initial value if the key doesn't exist.", strings::decr),
    key1("incrby", 3, RW | FAST, "string", "Increments the integer value of a key by a number. Uses 0 as initial value if the key doesn't exist.", strings::incrby),
    key1("decrby", 3, RW | FAST, "string", "Decrements a number from the integer value of a key. Uses 0 as initial value if the key doesn't exist.", strings::decrby),
    key1("incrbyfloat", 3, RW | FAST, "string", "Increment the floating point value of a key by a number. Uses 0 as initial value if the key doesn't exist.", strings::incrbyfloat),
    key1("setbit", 4, RW, "bitmap", "Sets or clears the bit at offset of the string value. Creates the key if it doesn't exist.", strings::setbit),
    key1("getbit", 3, READONLY | FAST, "bitmap", "Returns a bit value by offset.", strings::getbit),
    keys_at("lcs", -3, READONLY, 1, 2, 1, "string", "Finds the longest common substring.", strings::lcs),
    // Keyspace
    keys_at("del", -2, WRITE, 1, -1, 1, "generic", "Deletes one or more keys.", keys::del),
    keys_at("unlink", -2, WRITE | FAST, 1, -1, 1, "generic", "Asynchronously deletes one or more keys.", keys::del),
    keys_at("exists", -2, READONLY | FAST, 1, -1, 1, "generic", "Determines whether one or more keys exist.", keys::exists),
    key1("type", 2, READONLY | FAST, "generic", "Determines the type of value stored at a key.", keys::type_of),
    whole("keys", 2, READONLY, "generic", "Returns all key names that match a pattern.", keys::keys),
    whole("scan", -2, READONLY, "generic", "Iterates over the key names in the database.", keys::scan),
    whole("randomkey", 1, READONLY, "generic", "Returns a random key name from the database.", keys::randomkey),
    keys_at("rename", 3, WRITE, 1, 2, 1, "generic", "Renames a key and overwrites the destination.", keys::rename),
    keys_at("renamenx", 3, WRITE | FAST, 1, 2, 1, "generic", "Renames a key only when the target key name doesn't exist.", keys::renamenx),
    keys_at("copy", -3, RW, 1, 2, 1, "generic", "Copies the value of a key to a new key.", keys::copy),
    key1("move", 3, WRITE | FAST, "generic", "Moves a key to another database.", keys::move_key),
    whole("dbsize", 1, READONLY | FAST, "server", "Returns the number of keys in the database.", keys::dbsize),
    whole("flushdb", -1, WRITE, "server", "Remove all keys from the current database.", keys::flushdb),
    whole("flushall", -1, WRITE, "server", "Removes all keys from all databases.", keys::flushall),
    whole("swapdb", 3, WRITE | FAST, "server", "Swaps two Redis databases.", keys::swapdb),
    key1("expire", -3, WRITE | FAST, "generic", "Sets the expiration time of a key in seconds.", keys::expire),
    key1("pexpire", -3, WRITE | FAST, "generic", "Sets the expiration time of a key in milliseconds.", keys::pexpire),
    key1("expireat", -3, WRITE | FAST, "generic", "Sets the expiration time of a key to a Unix timestamp.", keys::expireat),
    key1("pexpireat", -3, WRITE | FAST, "generic", "Sets the expiration time of a key to a Unix milliseconds timestamp.", keys::pexpireat),
    key1("ttl", 2, READONLY | FAST, "generic", "Returns the expiration time in seconds of a key.", keys::ttl),
    key1("pttl", 2, READONLY | FAST, "generic", "Returns the expiration time in milliseconds of a key.", keys::pttl),
    key1("expiretime", 2, READONLY | FAST, "generic", "Returns the expiration time of a key as a Unix timestamp.", keys::expiretime),
    key1("pexpiretime", 2, READONLY | FAST, "generic", "Returns the expiration time of a key as a Unix milliseconds timestamp.", keys::pexpiretime),
    key1("persist", 2, WRITE | FAST, "generic", "Removes the expiration time of a key.", keys::persist),
    keys_at("touch", -2, READONLY | FAST, 1, -1, 1, "generic", "Returns the number of existing keys out of those specified after updating the time they were last accessed.", keys::touch),
    container("memory", -2, 0, "server", "A container for memory diagnostics commands.", MEMORY_SUBCOMMANDS),
    container("object", -2, READONLY, "generic", "A container for object introspection commands.", OBJECT_SUBCOMMANDS),
    // Connection
    keyless("ping", -1, FAST, "connection", "Returns the server's liveliness response.", connection::ping),
    keyless("echo", 2, FAST, "connection", "Returns the given string.", connection::echo),
    keyless("quit", -1, NO_AUTH | ALLOW_BUSY | NOSCRIPT | LOADING | STALE | FAST | NO_QUEUE, "connection", "Closes the connection.", connection::quit),
    whole("reset", 1, NO_AUTH | ALLOW_BUSY | CONN | NOSCRIPT | NO_QUEUE, "connection", "Resets the connection.", connection::reset),
    keyless("hello", -1, NO_AUTH | ALLOW_BUSY | CONN | NOSCRIPT | SKIP_MONITOR, "connection", "Handshakes with the Redis server.", connection::hello),
    keyless("auth", -2, NO_AUTH | ALLOW_BUSY | CONN | NOSCRIPT | SKIP_MONITOR, "connection", "Authenticates the connection.", connection::auth),
    keyless("select", 2, CONN, "connection", "Changes the selected database.", connection::select),
    container("client", -2, NOSCRIPT | LOADING | STALE, "connection", "A container for client connection commands.", CLIENT_SUBCOMMANDS),
    // Server
    whole("info", -1, LOADING | STALE, "server", "Returns information and statistics about the server.", server::info),
    container("config", -2, ADMIN_CMD, "server", "A container for server configuration commands.", CONFIG_SUBCOMMANDS),
    keyless("time", 1, CONN, "server", "Returns the server time.", server::time),
    keyless("lastsave", 1, CONN, "server", "Returns the Unix timestamp of the last successful save to disk.", server::lastsave),
    keyless("shutdown", -1, ADMIN_CMD | NO_MULTI, "server", "Synchronously saves the database(s) to disk and shuts down the Redis server.", server::shutdown),
    container("slowlog", -2, ADMIN | LOADING | STALE, "server", "A container for slow log commands.", SLOWLOG_SUBCOMMANDS),
    keyless("monitor", 1, ADMIN_CMD, "server", "Listens for all requests received by the server in real-time.", server::monitor),
    keyless("debug", -2, ADMIN_CMD, "server", "A container for debugging commands.", server::debug),
    CommandSpec { subcommands: COMMAND_SUBCOMMANDS, handler: server::command_all, ..keyless("command", -1, LOADING | STALE, "server", "Returns detailed information about all commands.", server::command_all) },
    container("function", -2, NOSCRIPT, "scripting", "A container for function commands.", FUNCTION_SUBCOMMANDS),
    // Transactions
    keyless("multi", 1, NOSCRIPT | CONN | ALLOW_BUSY | NO_QUEUE, "transactions", "Starts a transaction.", transactions::multi),
    whole("exec", 1, NOSCRIPT | LOADING | STALE | SKIP_SLOWLOG | NO_QUEUE, "transactions", "Executes all commands in a transaction.", transactions::exec),
    whole("discard", 1, NOSCRIPT | CONN | ALLOW_BUSY | NO_QUEUE, "transactions", "Discards a transaction.", transactions::discard),
    keys_at("watch", -2, NOSCRIPT | CONN | ALLOW_BUSY | NO_QUEUE, 1, -1, 1, "transactions", "Monitors changes to keys to determine the execution of a transaction.", transactions::watch),
    whole("unwatch", 1, NOSCRIPT | CONN | ALLOW_BUSY, "transactions", "Forgets about watched keys of a transaction.", transactions::unwatch),
    // Hashes (commands/hashes.rs): entries go below this line.

    // ---- end of hashes
    // Lists (commands/lists.rs): entries go below this line.

    // ---- end of lists
    // Sets (commands/sets.rs): entries go below this line.

    // ---- end of sets
    // Sorted sets (commands/zsets.rs): entries go below this line.

    // ---- end of sorted sets
];

/// One remembered name -> entry lookup (see `Client::last_lookup`).
#[derive(Default)]
pub struct LookupCache {
    name: [u8; 16],
    len: usize,
    index: usize,
}

/// The table as one server instance uses it: lookups by name plus statistics.
pub struct CommandTable {
    specs: Vec<&'static CommandSpec>,
    by_name: HashMap<&'static str, usize, foldhash::fast::RandomState>,
    /// `parent|sub` -> index.
    stats: Vec<CommandStats>,
}

impl Default for CommandTable {
    fn default() -> Self {
        Self::new()
    }
}

impl CommandTable {
    pub fn new() -> Self {
        let mut specs = Vec::new();
        let mut by_name = HashMap::with_hasher(foldhash::fast::RandomState::default());
        for spec in COMMANDS {
            by_name.insert(spec.name, specs.len());
            specs.push(spec);
            for sub in spec.subcommands {
                specs.push(sub);
            }
        }
        let stats = specs.iter().map(|_| CommandStats::default()).collect();
        CommandTable {
            specs,
            by_name,
            stats,
        }
    }

    pub fn spec(&self, index: usize) -> &'static CommandSpec {
        self.specs[index]
    }

    pub fn stats(&self, index: usize) -> &CommandStats {
        &self.stats[index]
    }

    /// Hands a connection's pending calls to the per-command figures: one
    /// lock per distinct command instead of one per call.
    pub fn flush_calls(
        &self,
        stripe: usize,
        calls: &mut Vec<crate::stats::CallRecord>,
        track_latency: bool,
    ) {
        if calls.is_empty() {
            return;
        }
        calls.sort_unstable_by_key(|c| c.command);
        for group in calls.chunk_by(|a, b| a.command == b.command) {
            if let Some(stats) = self.stats.get(group[0].command) {
                stats.record_calls(stripe, group, track_latency);
            }
        }
        calls.clear();
    }

    pub fn len(&self) -> usize {
        self.specs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.specs.is_empty()
    }

    /// Every spec with its index: top-level commands and subcommands.
    pub fn iter(&self) -> impl Iterator<Item = (usize, &'static CommandSpec)> + '_ {
        self.specs.iter().copied().enumerate()
    }

    /// Top-level commands only.
    pub fn top_level(&self) -> impl Iterator<Item = &'static CommandSpec> + '_ {
        COMMANDS.iter()
    }

    pub fn find(&self, name: &[u8]) -> Option<usize> {
        let mut buffer = [0u8; 32];
        let lower = crate::util::ascii_lower(name, &mut buffer)?;
        let text = std::str::from_utf8(lower).ok()?;
        self.by_name.get(text).copied()
    }

    /// Finds a subcommand of the command at `index`.
    pub fn find_sub(&self, index: usize, name: &[u8]) -> Option<usize> {
        let spec = self.specs[index];
        spec.subcommands
            .iter()
            .position(|s| s.name.as_bytes().eq_ignore_ascii_case(name))
            .map(|p| index + 1 + p)
    }

    /// `resolve`, answered from `cache` when the name is the one seen last
    /// (exact bytes; containers are never cached, their subcommand varies).
    pub fn resolve_cached(
        &self,
        args: Args,
        cache: &mut LookupCache,
    ) -> Result<usize, CommandError> {
        let name = args.get(0);
        if cache.len != 0 && &cache.name[..cache.len] == name {
            return Ok(cache.index);
        }
        let index = self.resolve(args)?;
        if name.len() <= cache.name.len()
            && self.specs[index].subcommands.is_empty()
            && self.specs[index].parent.is_empty()
        {
            cache.name[..name.len()].copy_from_slice(name);
            cache.len = name.len();
            cache.index = index;
        }
        Ok(index)
    }

    /// Finds the entry a command line runs: the command, or its subcommand.
    pub fn resolve(&self, args: Args) -> Result<usize, CommandError> {
        let name = args.get(0);
        let Some(index) = self.find(name) else {
            return Err(CommandError::UnknownCommand {
                name: super::c_string_prefix(name, 128).to_vec(),
                args: super::quote_args_for_error(args.from(1)),
            });
        };
        let spec = self.specs[index];
        if spec.subcommands.is_empty() || args.len() < 2 {
            return Ok(index);
        }
        match self.find_sub(index, args.get(1)) {
            Some(sub) => Ok(sub),
            None => Err(CommandError::UnknownSubcommand {
                sub: String::from_utf8_lossy(args.get(1)).into_owned(),
                command: spec.name.to_string(),
            }),
        }
    }

    /// Looks up `name` or `parent|sub` (COMMAND INFO/DOCS).
    pub fn find_full(&self, name: &[u8]) -> Option<usize> {
        match name.iter().position(|&b| b == b'|') {
            Some(bar) => {
                let parent = self.find(&name[..bar])?;
                self.find_sub(parent, &name[bar + 1..])
            }
            None => self.find(name),
        }
    }
}
