//! The command table: the single description of every command, as Redis
//! 7.0's `src/commands/*.json` describe them: name, arity, flags, key specs,
//! ACL categories, command tips, the documentation fields of COMMAND DOCS
//! (group, since, complexity, summary, deprecation), the lock the dispatcher
//! takes, the handler and the subcommands. Dispatch, COMMAND
//! INFO/DOCS/LIST/GETKEYS/GETKEYSANDFLAGS and the per-command statistics all
//! read it; adding a command is one entry here plus its handler in the
//! family's file.
//!
//! Key specs are Redis's: where to start looking (an index, or after a
//! keyword) and how to find the keys from there (a range, or a count
//! argument). Everything else about keys is derived from them the way Redis
//! derives it: the legacy first/last/step triple of COMMAND INFO, the
//! `movablekeys` flag, the shards the dispatcher locks. This module describes
//! commands; it runs none of them.

use super::{
    connection, functions, hashes, keys, lists, pubsub, scripting, server, sets, sort, strings,
    tracking, transactions, zsets, Handler,
};
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
    pub const ASKING: u32 = 1 << 11;
    pub const FAST: u32 = 1 << 12;
    pub const NO_AUTH: u32 = 1 << 13;
    pub const NO_MANDATORY_KEYS: u32 = 1 << 14;
    pub const NO_ASYNC_LOADING: u32 = 1 << 15;
    pub const NO_MULTI: u32 = 1 << 16;
    pub const ALLOW_BUSY: u32 = 1 << 17;
    /// cachet's own: runs at once even inside MULTI (EXEC, DISCARD, MULTI,
    /// WATCH, QUIT, RESET); COMMAND INFO does not show it.
    pub const NO_QUEUE: u32 = 1 << 31;
    /// cachet's own: a script or function runs here, on a thread of its
    /// own (see `scripting::run_state`); COMMAND INFO does not show it.
    pub const RUNS_SCRIPT: u32 = 1 << 30;

    /// In Redis's COMMAND INFO order; `movablekeys` (derived) goes between
    /// `no_multi` and `allow_busy`.
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
        (ASKING, "asking"),
        (FAST, "fast"),
        (NO_AUTH, "no_auth"),
        (NO_MANDATORY_KEYS, "no_mandatory_keys"),
        (NO_ASYNC_LOADING, "no_async_loading"),
        (NO_MULTI, "no_multi"),
        (ALLOW_BUSY, "allow_busy"),
    ];
}

/// How a command uses one of its keys (COMMAND INFO key specs, GETKEYSANDFLAGS).
pub mod key_flags {
    pub const RO: u16 = 1 << 0;
    pub const RW: u16 = 1 << 1;
    pub const OW: u16 = 1 << 2;
    pub const RM: u16 = 1 << 3;
    pub const ACCESS: u16 = 1 << 4;
    pub const UPDATE: u16 = 1 << 5;
    pub const INSERT: u16 = 1 << 6;
    pub const DELETE: u16 = 1 << 7;
    pub const NOT_KEY: u16 = 1 << 8;
    pub const INCOMPLETE: u16 = 1 << 9;
    pub const VARIABLE_FLAGS: u16 = 1 << 10;

    pub const NAMES: &[(u16, &str)] = &[
        (RO, "RO"),
        (RW, "RW"),
        (OW, "OW"),
        (RM, "RM"),
        (ACCESS, "access"),
        (UPDATE, "update"),
        (INSERT, "insert"),
        (DELETE, "delete"),
        (NOT_KEY, "not_key"),
        (INCOMPLETE, "incomplete"),
        (VARIABLE_FLAGS, "variable_flags"),
    ];
}

/// ACL categories, in Redis's table order (which COMMAND INFO follows).
pub mod acl {
    pub const KEYSPACE: u32 = 1 << 0;
    pub const READ: u32 = 1 << 1;
    pub const WRITE: u32 = 1 << 2;
    pub const SET: u32 = 1 << 3;
    pub const SORTEDSET: u32 = 1 << 4;
    pub const LIST: u32 = 1 << 5;
    pub const HASH: u32 = 1 << 6;
    pub const STRING: u32 = 1 << 7;
    pub const BITMAP: u32 = 1 << 8;
    pub const HYPERLOGLOG: u32 = 1 << 9;
    pub const GEO: u32 = 1 << 10;
    pub const STREAM: u32 = 1 << 11;
    pub const PUBSUB: u32 = 1 << 12;
    pub const ADMIN: u32 = 1 << 13;
    pub const FAST: u32 = 1 << 14;
    pub const SLOW: u32 = 1 << 15;
    pub const BLOCKING: u32 = 1 << 16;
    pub const DANGEROUS: u32 = 1 << 17;
    pub const CONNECTION: u32 = 1 << 18;
    pub const TRANSACTION: u32 = 1 << 19;
    pub const SCRIPTING: u32 = 1 << 20;

    pub const NAMES: &[(u32, &str)] = &[
        (KEYSPACE, "@keyspace"),
        (READ, "@read"),
        (WRITE, "@write"),
        (SET, "@set"),
        (SORTEDSET, "@sortedset"),
        (LIST, "@list"),
        (HASH, "@hash"),
        (STRING, "@string"),
        (BITMAP, "@bitmap"),
        (HYPERLOGLOG, "@hyperloglog"),
        (GEO, "@geo"),
        (STREAM, "@stream"),
        (PUBSUB, "@pubsub"),
        (ADMIN, "@admin"),
        (FAST, "@fast"),
        (SLOW, "@slow"),
        (BLOCKING, "@blocking"),
        (DANGEROUS, "@dangerous"),
        (CONNECTION, "@connection"),
        (TRANSACTION, "@transaction"),
        (SCRIPTING, "@scripting"),
    ];
}

use flags::*;
use key_flags::*;

/// Which shards the dispatcher locks before the handler runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LockMode {
    Nothing,
    /// The shards of the keys the key specs find.
    Keys,
    /// Every shard (commands that see the whole keyspace, and EXEC).
    All,
    /// Each shard the command touches, from the first touch to its end:
    /// scripts, which run alone under the script gate
    /// (`Keyspace::lock_on_demand`).
    AsTouched,
}

/// Where a key spec starts looking for keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BeginSearch {
    /// At this argument.
    Index(i32),
    /// After the first argument equal to `keyword` (case-insensitively),
    /// searching from `start_from` (negative: from the end, backwards).
    Keyword {
        keyword: &'static str,
        start_from: i32,
    },
    /// The keys cannot be found from the arguments alone (SORT's BY/GET).
    Unknown,
}

/// How a key spec finds its keys from where it started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FindKeys {
    /// Keys up to `last` (relative to the start; negative: from the end),
    /// every `step`; `limit` > 0 takes 1/limit of what remains.
    Range { last: i32, step: i32, limit: i32 },
    /// The argument at `count_at` (relative) says how many keys follow from
    /// `first` (relative), every `step`.
    Keynum {
        count_at: i32,
        first: i32,
        step: i32,
    },
    /// The keys cannot be found from the arguments alone.
    Unknown,
}

/// One of a command's key specs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeySpec {
    pub flags: u16,
    pub begin: BeginSearch,
    pub find: FindKeys,
    /// Redis's note on the spec (why its flags are what they are), or "".
    pub notes: &'static str,
}

const fn key(flags: u16, begin: BeginSearch, find: FindKeys) -> KeySpec {
    KeySpec {
        flags,
        begin,
        find,
        notes: "",
    }
}

impl KeySpec {
    const fn noted(mut self, notes: &'static str) -> Self {
        self.notes = notes;
        self
    }
}

const fn at(index: i32) -> BeginSearch {
    BeginSearch::Index(index)
}

#[allow(dead_code)] // keyword specs arrive with SORT and the STORE options
const fn keyword(keyword: &'static str, start_from: i32) -> BeginSearch {
    BeginSearch::Keyword {
        keyword,
        start_from,
    }
}

const fn unknown_begin() -> BeginSearch {
    BeginSearch::Unknown
}

const fn unknown_find() -> FindKeys {
    FindKeys::Unknown
}

const fn range(last: i32, step: i32, limit: i32) -> FindKeys {
    FindKeys::Range { last, step, limit }
}

const fn keynum(count_at: i32, first: i32, step: i32) -> FindKeys {
    FindKeys::Keynum {
        count_at,
        first,
        step,
    }
}

/// One key a command names: its argument index and how it is used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyRef {
    pub position: usize,
    pub flags: u16,
}

/// The command's arguments do not hold the keys its specs promise (a bad
/// numkeys, a missing argument): the command will answer an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InvalidKeyArguments;

// Command groups, as COMMAND DOCS names them.
const STRING: &str = "string";
const GENERIC: &str = "generic";
const CONNECTION: &str = "connection";
const SERVER: &str = "server";
const TRANSACTIONS: &str = "transactions";
const LIST: &str = "list";
#[allow(dead_code)]
const HASH: &str = "hash";
#[allow(dead_code)]
const SET: &str = "set";
#[allow(dead_code)]
const SORTED_SET: &str = "sorted-set";
pub const SCRIPTING: &str = "scripting";
const BITMAP: &str = "bitmap";
const PUBSUB_GROUP: &str = "pubsub";

// Explicit ACL categories (the ones flags do not imply).
const ACL_KEYSPACE: u32 = acl::KEYSPACE;
const ACL_STRING: u32 = acl::STRING;
const ACL_BITMAP: u32 = acl::BITMAP;
const ACL_LIST: u32 = acl::LIST;
const ACL_HASH: u32 = acl::HASH;
const ACL_SET: u32 = acl::SET;
const ACL_SORTEDSET: u32 = acl::SORTEDSET;
const ACL_CONNECTION: u32 = acl::CONNECTION;
const ACL_TRANSACTION: u32 = acl::TRANSACTION;
const ACL_SCRIPTING: u32 = acl::SCRIPTING;
const ACL_DANGEROUS: u32 = acl::DANGEROUS;
const ACL_ADMIN: u32 = acl::ADMIN;

pub struct CommandSpec {
    pub name: &'static str,
    /// Redis arity: N exactly, or -N for at least N (the name counts).
    pub arity: i32,
    pub flags: u32,
    pub key_specs: &'static [KeySpec],
    /// ACL categories beyond those the flags imply (see `acl_categories`).
    pub acl: u32,
    pub tips: &'static [&'static str],
    /// Command group as COMMAND DOCS names it.
    pub group: &'static str,
    pub since: &'static str,
    pub complexity: &'static str,
    pub summary: &'static str,
    /// COMMAND DOCS `doc_flags`: `deprecated` or `syscmd`.
    pub doc_flag: Option<&'static str>,
    pub deprecated_since: &'static str,
    pub replaced_by: &'static str,
    pub lock: LockMode,
    /// Finds the keys and their flags where the key specs cannot (Redis's
    /// `getkeys_proc`): variable flags (SET), unknown specs (SORT).
    pub getkeys: Option<fn(Args) -> Vec<KeyRef>>,
    pub handler: Handler,
    pub subcommands: &'static [CommandSpec],
    /// Set for subcommands: the container's name.
    pub parent: &'static str,
}

/// A command row; the builder methods below fill in the rest.
const fn cmd(name: &'static str, arity: i32, flags: u32, handler: Handler) -> CommandSpec {
    CommandSpec {
        name,
        arity,
        flags,
        key_specs: &[],
        acl: 0,
        tips: &[],
        group: SERVER,
        since: "",
        complexity: "",
        summary: "",
        doc_flag: None,
        deprecated_since: "",
        replaced_by: "",
        lock: LockMode::Nothing,
        getkeys: None,
        handler,
        subcommands: &[],
        parent: "",
    }
}

/// A subcommand row of `parent`.
const fn sub(
    parent: &'static str,
    name: &'static str,
    arity: i32,
    flags: u32,
    handler: Handler,
) -> CommandSpec {
    CommandSpec {
        parent,
        ..cmd(name, arity, flags, handler)
    }
}

impl CommandSpec {
    /// COMMAND DOCS: group, since, complexity and summary.
    const fn doc(
        mut self,
        group: &'static str,
        since: &'static str,
        complexity: &'static str,
        summary: &'static str,
    ) -> Self {
        self.group = group;
        self.since = since;
        self.complexity = complexity;
        self.summary = summary;
        self
    }

    /// The key specs; the dispatcher then locks the keys they find.
    const fn keys(mut self, specs: &'static [KeySpec]) -> Self {
        self.key_specs = specs;
        self.lock = LockMode::Keys;
        self
    }

    const fn acl(mut self, categories: u32) -> Self {
        self.acl = categories;
        self
    }

    const fn tips(mut self, tips: &'static [&'static str]) -> Self {
        self.tips = tips;
        self
    }

    const fn deprecated(mut self, since: &'static str, replaced_by: &'static str) -> Self {
        self.doc_flag = Some("deprecated");
        self.deprecated_since = since;
        self.replaced_by = replaced_by;
        self
    }

    const fn syscmd(mut self) -> Self {
        self.doc_flag = Some("syscmd");
        self
    }

    /// The command sees the whole keyspace: every shard is locked.
    const fn lock_all(mut self) -> Self {
        self.lock = LockMode::All;
        self
    }

    /// A script: it locks what its commands touch, as they touch it.
    const fn lock_as_touched(mut self) -> Self {
        self.lock = LockMode::AsTouched;
        self
    }

    const fn getkeys(mut self, find: fn(Args) -> Vec<KeyRef>) -> Self {
        self.getkeys = Some(find);
        self
    }

    const fn subcommands(mut self, subcommands: &'static [CommandSpec]) -> Self {
        self.subcommands = subcommands;
        self
    }

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

    /// The keys in `args`, found with the key specs as Redis's
    /// `getKeysUsingKeySpecs` finds them. Specs marked `not_key` are skipped.
    /// With `partial`, a spec that cannot be followed is skipped; without,
    /// it makes the whole search fail.
    pub fn find_keys(&self, args: Args, partial: bool) -> Result<Vec<KeyRef>, InvalidKeyArguments> {
        let argc = args.len() as i64;
        let mut found = Vec::new();
        for spec in self.key_specs {
            if spec.flags & NOT_KEY != 0 {
                continue;
            }
            let followed = follow_spec(spec, args, argc, &mut found);
            if followed.is_err() || spec.flags & INCOMPLETE != 0 {
                if partial {
                    continue;
                }
                return Err(InvalidKeyArguments);
            }
        }
        Ok(found)
    }

    /// The keys and their flags as COMMAND GETKEYS reports them (Redis's
    /// `getKeysFromCommandWithSpecs`): from the key specs when they can be
    /// followed and their flags are fixed, else from the command's own
    /// `getkeys` finder. Empty when neither finds any.
    pub fn keys_with_flags(&self, args: Args) -> Vec<KeyRef> {
        let variable = self.key_specs.iter().any(|s| s.flags & VARIABLE_FLAGS != 0);
        if !variable {
            if let Ok(keys) = self.find_keys(args, false) {
                return keys;
            }
        }
        self.getkeys.map(|find| find(args)).unwrap_or_default()
    }

    /// Whether any key spec names real keys (COMMAND GETKEYS refuses others).
    pub fn has_keys(&self) -> bool {
        self.key_specs.iter().any(|s| s.flags & NOT_KEY == 0)
    }

    /// The legacy first/last/step of COMMAND INFO and whether the keys are
    /// movable, derived from the key specs as Redis's
    /// `populateCommandLegacyRangeSpec` derives them.
    pub fn legacy_range(&self) -> LegacyRange {
        let mut movable = false;
        match self.key_specs {
            [] => {
                return LegacyRange::default();
            }
            [KeySpec {
                flags,
                begin: BeginSearch::Index(first),
                find: FindKeys::Range { last, step, .. },
                ..
            }] => {
                let last = if *last >= 0 { first + last } else { *last };
                return LegacyRange {
                    first: *first,
                    last,
                    step: *step,
                    movable: flags & INCOMPLETE != 0,
                };
            }
            _ => {}
        }
        let mut first_key = i32::MAX;
        let mut last_key: i32 = 0;
        let mut previous_last = 0;
        for spec in self.key_specs {
            let (BeginSearch::Index(first), FindKeys::Range { last, step, .. }) =
                (spec.begin, spec.find)
            else {
                movable = true;
                continue;
            };
            if step != 1 || (previous_last != 0 && previous_last != first - 1) {
                movable = true;
                continue;
            }
            if spec.flags & INCOMPLETE != 0 {
                movable = true;
            }
            first_key = first_key.min(first);
            let last_absolute = if last >= 0 { last + first } else { last };
            // Redis compares as unsigned, so a negative (from the end) last wins.
            if (last_absolute as u32) > (last_key as u32) {
                last_key = last_absolute;
            }
            previous_last = last_key;
        }
        if first_key == i32::MAX {
            return LegacyRange {
                movable: true,
                ..LegacyRange::default()
            };
        }
        LegacyRange {
            first: first_key,
            last: last_key,
            step: 1,
            movable,
        }
    }

    /// The ACL categories: the explicit ones plus those Redis derives from
    /// the flags (`setImplicitACLCategories`), in Redis's order.
    pub fn acl_categories(&self) -> Vec<&'static str> {
        let mut bits = self.acl;
        if self.has(WRITE) {
            bits |= acl::WRITE;
        }
        if self.has(READONLY) && self.acl & acl::SCRIPTING == 0 {
            bits |= acl::READ;
        }
        if self.has(ADMIN) {
            bits |= acl::ADMIN | acl::DANGEROUS;
        }
        if self.has(PUBSUB) {
            bits |= acl::PUBSUB;
        }
        if self.has(FAST) {
            bits |= acl::FAST;
        }
        if self.has(BLOCKING) {
            bits |= acl::BLOCKING;
        }
        if bits & acl::FAST == 0 {
            bits |= acl::SLOW;
        }
        acl::NAMES
            .iter()
            .filter(|(bit, _)| bits & bit != 0)
            .map(|(_, name)| *name)
            .collect()
    }
}

/// SET's key: OW unless the GET option makes it read the old value too.
fn set_keys(args: Args) -> Vec<KeyRef> {
    let has_get = args.iter().skip(3).any(|a| a.eq_ignore_ascii_case(b"get"));
    vec![KeyRef {
        position: 1,
        flags: if has_get {
            RW | ACCESS | UPDATE
        } else {
            OW | UPDATE
        },
    }]
}

/// SORT's keys: the sorted key, and the last STORE destination, skipping
/// the arguments of LIMIT, GET and BY as Redis's `sortGetKeys` does.
fn sort_keys(args: Args) -> Vec<KeyRef> {
    let mut keys = vec![KeyRef {
        position: 1,
        flags: RO | ACCESS,
    }];
    let mut store = None;
    let mut i = 2;
    while i < args.len() {
        let arg = &args[i];
        if arg.eq_ignore_ascii_case(b"limit") {
            i += 2;
        } else if arg.eq_ignore_ascii_case(b"get") || arg.eq_ignore_ascii_case(b"by") {
            i += 1;
        } else if arg.eq_ignore_ascii_case(b"store") && i + 1 < args.len() {
            store = Some(i + 1);
        }
        i += 1;
    }
    if let Some(position) = store {
        keys.push(KeyRef {
            position,
            flags: OW | UPDATE,
        });
    }
    keys
}

/// SORT_RO's only key: the sorted one.
fn sort_ro_keys(_args: Args) -> Vec<KeyRef> {
    vec![KeyRef {
        position: 1,
        flags: RO | ACCESS,
    }]
}

/// COMMAND INFO's first key, last key and step, and the `movablekeys` flag.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LegacyRange {
    pub first: i32,
    pub last: i32,
    pub step: i32,
    pub movable: bool,
}

/// Follows one key spec over `args`, appending what it finds.
fn follow_spec(
    spec: &KeySpec,
    args: Args,
    argc: i64,
    found: &mut Vec<KeyRef>,
) -> Result<(), InvalidKeyArguments> {
    let first = match spec.begin {
        BeginSearch::Unknown => return Err(InvalidKeyArguments),
        BeginSearch::Index(index) => i64::from(index),
        BeginSearch::Keyword {
            keyword,
            start_from,
        } => match find_keyword(args, argc, keyword, start_from) {
            Some(at) => at + 1,
            // No keyword: the spec has no keys here, which is fine.
            None => return Ok(()),
        },
    };
    let (first, last, step) = match spec.find {
        FindKeys::Range { last, step, limit } => {
            let last = if last >= 0 {
                first + i64::from(last)
            } else if limit == 0 {
                argc + i64::from(last)
            } else {
                first + ((argc - first) / i64::from(limit) + i64::from(last))
            };
            (first, last, i64::from(step))
        }
        FindKeys::Keynum {
            count_at,
            first: first_offset,
            step,
        } => {
            let count_position = first + i64::from(count_at);
            if count_position >= argc {
                return Err(InvalidKeyArguments);
            }
            let count = crate::util::parse_i64(&args[count_position as usize])
                .filter(|n| *n >= 0)
                .ok_or(InvalidKeyArguments)?;
            let start = first + i64::from(first_offset);
            (start, start.saturating_add(count) - 1, i64::from(step))
        }
        FindKeys::Unknown => return Err(InvalidKeyArguments),
    };
    if last >= argc || last < first || first >= argc {
        return Err(InvalidKeyArguments);
    }
    let mut position = first;
    while position <= last {
        found.push(KeyRef {
            position: position as usize,
            flags: spec.flags,
        });
        position += step.max(1);
    }
    Ok(())
}

fn find_keyword(args: Args, argc: i64, keyword: &str, start_from: i32) -> Option<i64> {
    // As Redis: forwards up to the next-to-last argument, backwards down to
    // the second, since a key must follow the keyword.
    let (start, end, step) = if start_from > 0 {
        (i64::from(start_from), argc - 1, 1)
    } else {
        (argc + i64::from(start_from), 1, -1)
    };
    let mut i = start;
    while i != end && (1..argc).contains(&i) {
        if args[i as usize].eq_ignore_ascii_case(keyword.as_bytes()) {
            return Some(i);
        }
        i += step;
    }
    None
}
static OBJECT_SUBCOMMANDS: &[CommandSpec] = &[
    sub("object", "encoding", 3, READONLY, keys::object_encoding)
        .doc(
            GENERIC,
            "2.2.3",
            "O(1)",
            "Inspect the internal encoding of a Redis object",
        )
        .keys(&[key(RO, at(2), range(0, 1, 0))])
        .acl(ACL_KEYSPACE)
        .tips(&["nondeterministic_output"]),
    sub("object", "idletime", 3, READONLY, keys::object_idletime)
        .doc(
            GENERIC,
            "2.2.3",
            "O(1)",
            "Get the time since a Redis object was last accessed",
        )
        .keys(&[key(RO, at(2), range(0, 1, 0))])
        .acl(ACL_KEYSPACE)
        .tips(&["nondeterministic_output"]),
    sub("object", "freq", 3, READONLY, keys::object_freq)
        .doc(
            GENERIC,
            "4.0.0",
            "O(1)",
            "Get the logarithmic access frequency counter of a Redis object",
        )
        .keys(&[key(RO, at(2), range(0, 1, 0))])
        .acl(ACL_KEYSPACE)
        .tips(&["nondeterministic_output"]),
    sub("object", "refcount", 3, READONLY, keys::object_refcount)
        .doc(
            GENERIC,
            "2.2.3",
            "O(1)",
            "Get the number of references to the value of the key",
        )
        .keys(&[key(RO, at(2), range(0, 1, 0))])
        .acl(ACL_KEYSPACE)
        .tips(&["nondeterministic_output"]),
    sub("object", "help", 2, LOADING | STALE, keys::object_help)
        .doc(
            GENERIC,
            "6.2.0",
            "O(1)",
            "Show helpful text about the different subcommands",
        )
        .acl(ACL_KEYSPACE),
];

static MEMORY_SUBCOMMANDS: &[CommandSpec] = &[
    sub("memory", "usage", -3, READONLY, keys::memory_usage)
        .doc(
            SERVER,
            "4.0.0",
            "O(N) where N is the number of samples.",
            "Estimate the memory usage of a key",
        )
        .keys(&[key(RO, at(2), range(0, 1, 0))]),
    sub("memory", "stats", 2, 0, server::memory_stats)
        .doc(SERVER, "4.0.0", "O(1)", "Show memory usage details")
        .tips(&[
            "nondeterministic_output",
            "request_policy:all_shards",
            "response_policy:special",
        ])
        .lock_all(),
    sub("memory", "doctor", 2, 0, server::memory_doctor)
        .doc(SERVER, "4.0.0", "O(1)", "Outputs memory problems report")
        .tips(&[
            "nondeterministic_output",
            "request_policy:all_shards",
            "response_policy:special",
        ])
        .lock_all(),
    sub("memory", "help", 2, LOADING | STALE, keys::memory_help).doc(
        SERVER,
        "4.0.0",
        "O(1)",
        "Show helpful text about the different subcommands",
    ),
];

static CLIENT_SUBCOMMANDS: &[CommandSpec] = &[
    sub("client", "id", 2, NOSCRIPT | LOADING | STALE, connection::client_id)
        .doc(CONNECTION, "5.0.0", "O(1)", "Returns the client ID for the current connection")
        .acl(ACL_CONNECTION),
    sub("client", "setname", 3, NOSCRIPT | LOADING | STALE, connection::client_setname)
        .doc(CONNECTION, "2.6.9", "O(1)", "Set the current connection name")
        .acl(ACL_CONNECTION),
    sub("client", "getname", 2, NOSCRIPT | LOADING | STALE, connection::client_getname)
        .doc(CONNECTION, "2.6.9", "O(1)", "Get the current connection name")
        .acl(ACL_CONNECTION),
    sub("client", "list", -2, ADMIN | NOSCRIPT | LOADING | STALE, connection::client_list)
        .doc(CONNECTION, "2.4.0", "O(N) where N is the number of client connections", "Get the list of client connections")
        .acl(ACL_CONNECTION)
        .tips(&["nondeterministic_output"]),
    sub("client", "info", 2, NOSCRIPT | LOADING | STALE, connection::client_info)
        .doc(CONNECTION, "6.2.0", "O(1)", "Returns information about the current client connection.")
        .acl(ACL_CONNECTION)
        .tips(&["nondeterministic_output"]),
    sub("client", "kill", -3, ADMIN | NOSCRIPT | LOADING | STALE, connection::client_kill)
        .doc(CONNECTION, "2.4.0", "O(N) where N is the number of client connections", "Kill the connection of a client")
        .acl(ACL_CONNECTION),
    sub("client", "setinfo", 4, NOSCRIPT | LOADING | STALE, connection::client_setinfo)
        .doc(CONNECTION, "7.2.0", "O(1)", "Set client or connection specific info")
        .acl(ACL_CONNECTION)
        .tips(&["request_policy:all_nodes", "response_policy:all_succeeded"]),
    sub("client", "no-evict", 3, ADMIN | NOSCRIPT | LOADING | STALE, connection::client_no_evict)
        .doc(CONNECTION, "7.0.0", "O(1)", "Set client eviction mode for the current connection")
        .acl(ACL_CONNECTION),
    sub("client", "no-touch", 3, NOSCRIPT | LOADING | STALE, connection::client_no_touch)
        .doc(CONNECTION, "7.2.0", "O(1)", "Controls whether commands sent by the client will alter the LRU/LFU of the keys they access.")
        .acl(ACL_CONNECTION),
    sub("client", "reply", 3, NOSCRIPT | LOADING | STALE, connection::client_reply)
        .doc(CONNECTION, "3.2.0", "O(1)", "Instruct the server whether to reply to commands")
        .acl(ACL_CONNECTION),
    sub("client", "unblock", -3, ADMIN | NOSCRIPT | LOADING | STALE, connection::client_unblock)
        .doc(CONNECTION, "5.0.0", "O(log N) where N is the number of client connections", "Unblock a client blocked in a blocking command from a different connection")
        .acl(ACL_CONNECTION),
    sub("client", "tracking", -3, NOSCRIPT | LOADING | STALE, tracking::client_tracking)
        .doc(CONNECTION, "6.0.0", "O(1). Some options may introduce additional complexity.", "Enable or disable server assisted client side caching support")
        .acl(ACL_CONNECTION),
    sub("client", "caching", 3, NOSCRIPT | LOADING | STALE, tracking::client_caching)
        .doc(CONNECTION, "6.0.0", "O(1)", "Instruct the server about tracking or not keys in the next request")
        .acl(ACL_CONNECTION),
    sub("client", "trackinginfo", 2, NOSCRIPT | LOADING | STALE, tracking::client_trackinginfo)
        .doc(CONNECTION, "6.2.0", "O(1)", "Return information about server assisted client side caching for the current connection")
        .acl(ACL_CONNECTION),
    sub("client", "getredir", 2, NOSCRIPT | LOADING | STALE, tracking::client_getredir)
        .doc(CONNECTION, "6.0.0", "O(1)", "Get tracking notifications redirection client ID if any")
        .acl(ACL_CONNECTION),
    sub("client", "help", 2, LOADING | STALE, connection::client_help)
        .doc(CONNECTION, "5.0.0", "O(1)", "Show helpful text about the different subcommands")
        .acl(ACL_CONNECTION),
];

static PUBSUB_SUBCOMMANDS: &[CommandSpec] = &[
    sub("pubsub", "channels", -2, PUBSUB | LOADING | STALE, pubsub::pubsub_channels)
        .doc(PUBSUB_GROUP, "2.8.0", "O(N) where N is the number of active channels, and assuming constant time pattern matching (relatively short channels and patterns)", "List active channels"),
    sub("pubsub", "numsub", -2, PUBSUB | LOADING | STALE, pubsub::pubsub_numsub)
        .doc(PUBSUB_GROUP, "2.8.0", "O(N) for the NUMSUB subcommand, where N is the number of requested channels", "Get the count of subscribers for channels"),
    sub("pubsub", "numpat", 2, PUBSUB | LOADING | STALE, pubsub::pubsub_numpat)
        .doc(PUBSUB_GROUP, "2.8.0", "O(1)", "Get the count of unique patterns pattern subscriptions"),
    sub("pubsub", "shardchannels", -2, PUBSUB | LOADING | STALE, pubsub::pubsub_shardchannels)
        .doc(PUBSUB_GROUP, "7.0.0", "O(N) where N is the number of active shard channels, and assuming constant time pattern matching (relatively short shard channels).", "List active shard channels"),
    sub("pubsub", "shardnumsub", -2, PUBSUB | LOADING | STALE, pubsub::pubsub_shardnumsub)
        .doc(PUBSUB_GROUP, "7.0.0", "O(N) for the SHARDNUMSUB subcommand, where N is the number of requested shard channels", "Get the count of subscribers for shard channels"),
    sub("pubsub", "help", 2, LOADING | STALE, pubsub::pubsub_help)
        .doc(PUBSUB_GROUP, "6.2.0", "O(1)", "Show helpful text about the different subcommands"),
];

static CONFIG_SUBCOMMANDS: &[CommandSpec] = &[
    sub(
        "config",
        "get",
        -3,
        ADMIN | NOSCRIPT | LOADING | STALE,
        server::config_get,
    )
    .doc(
        SERVER,
        "2.0.0",
        "O(N) when N is the number of configuration parameters provided",
        "Get the values of configuration parameters",
    ),
    sub(
        "config",
        "set",
        -4,
        ADMIN | NOSCRIPT | LOADING | STALE,
        server::config_set,
    )
    .doc(
        SERVER,
        "2.0.0",
        "O(N) when N is the number of configuration parameters provided",
        "Set configuration parameters to the given values",
    )
    .tips(&["request_policy:all_nodes", "response_policy:all_succeeded"]),
    sub(
        "config",
        "resetstat",
        2,
        ADMIN | NOSCRIPT | LOADING | STALE,
        server::config_resetstat,
    )
    .doc(SERVER, "2.0.0", "O(1)", "Reset the stats returned by INFO"),
    sub(
        "config",
        "rewrite",
        2,
        ADMIN | NOSCRIPT | LOADING | STALE,
        server::config_rewrite,
    )
    .doc(
        SERVER,
        "2.8.0",
        "O(1)",
        "Rewrite the configuration file with the in memory configuration",
    ),
    sub("config", "help", 2, LOADING | STALE, server::config_help).doc(
        SERVER,
        "5.0.0",
        "O(1)",
        "Show helpful text about the different subcommands",
    ),
];

static SLOWLOG_SUBCOMMANDS: &[CommandSpec] = &[
    sub(
        "slowlog",
        "get",
        -2,
        ADMIN | LOADING | STALE,
        server::slowlog_get,
    )
    .doc(
        SERVER,
        "2.2.12",
        "O(N) where N is the number of entries returned",
        "Get the slow log's entries",
    )
    .tips(&["request_policy:all_nodes", "nondeterministic_output"]),
    sub(
        "slowlog",
        "len",
        2,
        ADMIN | LOADING | STALE,
        server::slowlog_len,
    )
    .doc(SERVER, "2.2.12", "O(1)", "Get the slow log's length")
    .tips(&[
        "request_policy:all_nodes",
        "response_policy:agg_sum",
        "nondeterministic_output",
    ]),
    sub(
        "slowlog",
        "reset",
        2,
        ADMIN | LOADING | STALE,
        server::slowlog_reset,
    )
    .doc(
        SERVER,
        "2.2.12",
        "O(N) where N is the number of entries in the slowlog",
        "Clear all entries from the slow log",
    )
    .tips(&["request_policy:all_nodes", "response_policy:all_succeeded"]),
    sub("slowlog", "help", 2, LOADING | STALE, server::slowlog_help).doc(
        SERVER,
        "6.2.0",
        "O(1)",
        "Show helpful text about the different subcommands",
    ),
];

static SCRIPT_SUBCOMMANDS: &[CommandSpec] = &[
    sub("script", "exists", -3, NOSCRIPT, scripting::script_exists)
        .doc(SCRIPTING, "2.6.0", "O(N) with N being the number of scripts to check (so checking a single script is an O(1) operation).", "Check existence of scripts in the script cache.")
        .acl(ACL_SCRIPTING)
        .tips(&["request_policy:all_shards", "response_policy:agg_logical_and"]),
    sub("script", "kill", 2, NOSCRIPT | ALLOW_BUSY, scripting::script_kill)
        .doc(SCRIPTING, "2.6.0", "O(1)", "Kill the script currently in execution.")
        .acl(ACL_SCRIPTING)
        .tips(&["request_policy:all_shards", "response_policy:one_succeeded"]),
    sub("script", "flush", -2, NOSCRIPT, scripting::script_flush)
        .doc(SCRIPTING, "2.6.0", "O(N) with N being the number of scripts in cache", "Remove all the scripts from the script cache.")
        .acl(ACL_SCRIPTING)
        .tips(&["request_policy:all_nodes", "response_policy:all_succeeded"]),
    sub("script", "load", 3, NOSCRIPT | STALE, scripting::script_load)
        .doc(SCRIPTING, "2.6.0", "O(N) with N being the length in bytes of the script body.", "Load the specified Lua script into the script cache.")
        .acl(ACL_SCRIPTING)
        .tips(&["request_policy:all_nodes", "response_policy:all_succeeded"]),
];

static FUNCTION_SUBCOMMANDS: &[CommandSpec] = &[
    sub(
        "function",
        "delete",
        3,
        WRITE | NOSCRIPT,
        functions::function_delete,
    )
    .doc(SCRIPTING, "7.0.0", "O(1)", "Delete a function by name")
    .acl(ACL_SCRIPTING)
    .tips(&["request_policy:all_shards", "response_policy:all_succeeded"]),
    sub("function", "dump", 2, NOSCRIPT, functions::function_dump)
        .doc(
            SCRIPTING,
            "7.0.0",
            "O(N) where N is the number of functions",
            "Dump all functions into a serialized binary payload",
        )
        .acl(ACL_SCRIPTING),
    sub(
        "function",
        "flush",
        -2,
        WRITE | NOSCRIPT,
        functions::function_flush,
    )
    .doc(
        SCRIPTING,
        "7.0.0",
        "O(N) where N is the number of functions deleted",
        "Deleting all functions",
    )
    .acl(ACL_SCRIPTING)
    .tips(&["request_policy:all_shards", "response_policy:all_succeeded"]),
    sub(
        "function",
        "help",
        2,
        LOADING | STALE,
        functions::function_help,
    )
    .doc(
        SCRIPTING,
        "7.0.0",
        "O(1)",
        "Show helpful text about the different subcommands",
    )
    .acl(ACL_SCRIPTING),
    sub(
        "function",
        "kill",
        2,
        NOSCRIPT | ALLOW_BUSY,
        functions::function_kill,
    )
    .doc(
        SCRIPTING,
        "7.0.0",
        "O(1)",
        "Kill the function currently in execution.",
    )
    .acl(ACL_SCRIPTING)
    .tips(&["request_policy:all_shards", "response_policy:one_succeeded"]),
    sub("function", "list", -2, NOSCRIPT, functions::function_list)
        .doc(
            SCRIPTING,
            "7.0.0",
            "O(N) where N is the number of functions",
            "List information about all the functions",
        )
        .acl(ACL_SCRIPTING)
        .tips(&["nondeterministic_output_order"]),
    sub(
        "function",
        "load",
        -3,
        WRITE | DENYOOM | NOSCRIPT,
        functions::function_load,
    )
    .doc(
        SCRIPTING,
        "7.0.0",
        "O(1) (considering compilation time is redundant)",
        "Create a function with the given arguments (name, code, description)",
    )
    .acl(ACL_SCRIPTING)
    .tips(&["request_policy:all_shards", "response_policy:all_succeeded"]),
    sub(
        "function",
        "restore",
        -3,
        WRITE | DENYOOM | NOSCRIPT,
        functions::function_restore,
    )
    .doc(
        SCRIPTING,
        "7.0.0",
        "O(N) where N is the number of functions on the payload",
        "Restore all the functions on the given payload",
    )
    .acl(ACL_SCRIPTING)
    .tips(&["request_policy:all_shards", "response_policy:all_succeeded"]),
    sub(
        "function",
        "stats",
        2,
        NOSCRIPT | ALLOW_BUSY,
        functions::function_stats,
    )
    .doc(
        SCRIPTING,
        "7.0.0",
        "O(1)",
        "Return information about the function currently running (name, description, duration)",
    )
    .acl(ACL_SCRIPTING)
    .tips(&[
        "nondeterministic_output",
        "request_policy:all_shards",
        "response_policy:special",
    ]),
];

static COMMAND_SUBCOMMANDS: &[CommandSpec] = &[
    sub(
        "command",
        "count",
        2,
        LOADING | STALE,
        server::command_count,
    )
    .doc(
        SERVER,
        "2.8.13",
        "O(1)",
        "Get total number of Redis commands",
    )
    .acl(ACL_CONNECTION),
    sub("command", "info", -2, LOADING | STALE, server::command_info)
        .doc(
            SERVER,
            "2.8.13",
            "O(N) where N is the number of commands to look up",
            "Get array of specific Redis command details, or all when no argument is given.",
        )
        .acl(ACL_CONNECTION)
        .tips(&["nondeterministic_output_order"]),
    sub("command", "docs", -2, LOADING | STALE, server::command_docs)
        .doc(
            SERVER,
            "7.0.0",
            "O(N) where N is the number of commands to look up",
            "Get array of specific Redis command documentation",
        )
        .acl(ACL_CONNECTION)
        .tips(&["nondeterministic_output_order"]),
    sub("command", "list", -2, LOADING | STALE, server::command_list)
        .doc(
            SERVER,
            "7.0.0",
            "O(N) where N is the total number of Redis commands",
            "Get an array of Redis command names",
        )
        .acl(ACL_CONNECTION)
        .tips(&["nondeterministic_output_order"]),
    sub(
        "command",
        "getkeys",
        -4,
        LOADING | STALE,
        server::command_getkeys,
    )
    .doc(
        SERVER,
        "2.8.13",
        "O(N) where N is the number of arguments to the command",
        "Extract keys given a full Redis command",
    )
    .acl(ACL_CONNECTION),
    sub(
        "command",
        "getkeysandflags",
        -4,
        LOADING | STALE,
        server::command_getkeysandflags,
    )
    .doc(
        SERVER,
        "7.0.0",
        "O(N) where N is the number of arguments to the command",
        "Extract keys and access flags given a full Redis command",
    )
    .acl(ACL_CONNECTION),
    sub("command", "help", 2, LOADING | STALE, server::command_help)
        .doc(
            SERVER,
            "5.0.0",
            "O(1)",
            "Show helpful text about the different subcommands",
        )
        .acl(ACL_CONNECTION),
];

pub static COMMANDS: &[CommandSpec] = &[
    cmd("get", 2, READONLY | FAST, strings::get)
        .doc(STRING, "1.0.0", "O(1)", "Get the value of a key")
        .keys(&[key(RO | ACCESS, at(1), range(0, 1, 0))])
        .acl(ACL_STRING),
    cmd("set", -3, WRITE | DENYOOM, strings::set)
        .doc(STRING, "1.0.0", "O(1)", "Set the string value of a key")
        .keys(&[key(RW | ACCESS | UPDATE | VARIABLE_FLAGS, at(1), range(0, 1, 0)).noted("RW and ACCESS due to the optional `GET` argument")])
        .acl(ACL_STRING)
        .getkeys(set_keys),
    cmd("setnx", 3, WRITE | DENYOOM | FAST, strings::setnx)
        .doc(STRING, "1.0.0", "O(1)", "Set the value of a key, only if the key does not exist")
        .keys(&[key(OW | INSERT, at(1), range(0, 1, 0))])
        .acl(ACL_STRING),
    cmd("setex", 4, WRITE | DENYOOM, strings::setex)
        .doc(STRING, "2.0.0", "O(1)", "Set the value and expiration of a key")
        .keys(&[key(OW | UPDATE, at(1), range(0, 1, 0))])
        .acl(ACL_STRING),
    cmd("psetex", 4, WRITE | DENYOOM, strings::psetex)
        .doc(STRING, "2.6.0", "O(1)", "Set the value and expiration in milliseconds of a key")
        .keys(&[key(OW | UPDATE, at(1), range(0, 1, 0))])
        .acl(ACL_STRING),
    cmd("mget", -2, READONLY | FAST, strings::mget)
        .doc(STRING, "1.0.0", "O(N) where N is the number of keys to retrieve.", "Get the values of all the given keys")
        .keys(&[key(RO | ACCESS, at(1), range(-1, 1, 0))])
        .acl(ACL_STRING)
        .tips(&["request_policy:multi_shard"]),
    cmd("mset", -3, WRITE | DENYOOM, strings::mset)
        .doc(STRING, "1.0.1", "O(N) where N is the number of keys to set.", "Set multiple keys to multiple values")
        .keys(&[key(OW | UPDATE, at(1), range(-1, 2, 0))])
        .acl(ACL_STRING)
        .tips(&["request_policy:multi_shard", "response_policy:all_succeeded"]),
    cmd("msetnx", -3, WRITE | DENYOOM, strings::msetnx)
        .doc(STRING, "1.0.1", "O(N) where N is the number of keys to set.", "Set multiple keys to multiple values, only if none of the keys exist")
        .keys(&[key(OW | INSERT, at(1), range(-1, 2, 0))])
        .acl(ACL_STRING)
        .tips(&["request_policy:multi_shard", "response_policy:agg_min"]),
    cmd("getset", 3, WRITE | DENYOOM | FAST, strings::getset)
        .doc(STRING, "1.0.0", "O(1)", "Set the string value of a key and return its old value")
        .keys(&[key(RW | ACCESS | UPDATE, at(1), range(0, 1, 0))])
        .acl(ACL_STRING)
        .deprecated("6.2.0", "`SET` with the `!GET` argument"),
    cmd("getdel", 2, WRITE | FAST, strings::getdel)
        .doc(STRING, "6.2.0", "O(1)", "Get the value of a key and delete the key")
        .keys(&[key(RW | ACCESS | DELETE, at(1), range(0, 1, 0))])
        .acl(ACL_STRING),
    cmd("getex", -2, WRITE | FAST, strings::getex)
        .doc(STRING, "6.2.0", "O(1)", "Get the value of a key and optionally set its expiration")
        .keys(&[key(RW | ACCESS | UPDATE, at(1), range(0, 1, 0)).noted("RW and UPDATE because it changes the TTL")])
        .acl(ACL_STRING),
    cmd("append", 3, WRITE | DENYOOM | FAST, strings::append)
        .doc(STRING, "2.0.0", "O(1). The amortized time complexity is O(1) assuming the appended value is small and the already present value is of any size, since the dynamic string library used by Redis will double the free space available on every reallocation.", "Append a value to a key")
        .keys(&[key(RW | INSERT, at(1), range(0, 1, 0))])
        .acl(ACL_STRING),
    cmd("strlen", 2, READONLY | FAST, strings::strlen)
        .doc(STRING, "2.2.0", "O(1)", "Get the length of the value stored in a key")
        .keys(&[key(RO, at(1), range(0, 1, 0))])
        .acl(ACL_STRING),
    cmd("getrange", 4, READONLY, strings::getrange)
        .doc(STRING, "2.4.0", "O(N) where N is the length of the returned string. The complexity is ultimately determined by the returned length, but because creating a substring from an existing string is very cheap, it can be considered O(1) for small strings.", "Get a substring of the string stored at a key")
        .keys(&[key(RO | ACCESS, at(1), range(0, 1, 0))])
        .acl(ACL_STRING),
    cmd("setrange", 4, WRITE | DENYOOM, strings::setrange)
        .doc(STRING, "2.2.0", "O(1), not counting the time taken to copy the new string in place. Usually, this string is very small so the amortized complexity is O(1). Otherwise, complexity is O(M) with M being the length of the value argument.", "Overwrite part of a string at key starting at the specified offset")
        .keys(&[key(RW | UPDATE, at(1), range(0, 1, 0))])
        .acl(ACL_STRING),
    cmd("substr", 4, READONLY, strings::getrange)
        .doc(STRING, "1.0.0", "O(N) where N is the length of the returned string. The complexity is ultimately determined by the returned length, but because creating a substring from an existing string is very cheap, it can be considered O(1) for small strings.", "Get a substring of the string stored at a key")
        .keys(&[key(RO | ACCESS, at(1), range(0, 1, 0))])
        .acl(ACL_STRING)
        .deprecated("2.0.0", "`GETRANGE`"),
    cmd("incr", 2, WRITE | DENYOOM | FAST, strings::incr)
        .doc(STRING, "1.0.0", "O(1)", "Increment the integer value of a key by one")
        .keys(&[key(RW | ACCESS | UPDATE, at(1), range(0, 1, 0))])
        .acl(ACL_STRING),
    cmd("decr", 2, WRITE | DENYOOM | FAST, strings::decr)
        .doc(STRING, "1.0.0", "O(1)", "Decrement the integer value of a key by one")
        .keys(&[key(RW | ACCESS | UPDATE, at(1), range(0, 1, 0))])
        .acl(ACL_STRING),
    cmd("incrby", 3, WRITE | DENYOOM | FAST, strings::incrby)
        .doc(STRING, "1.0.0", "O(1)", "Increment the integer value of a key by the given amount")
        .keys(&[key(RW | ACCESS | UPDATE, at(1), range(0, 1, 0))])
        .acl(ACL_STRING),
    cmd("decrby", 3, WRITE | DENYOOM | FAST, strings::decrby)
        .doc(STRING, "1.0.0", "O(1)", "Decrement the integer value of a key by the given number")
        .keys(&[key(RW | ACCESS | UPDATE, at(1), range(0, 1, 0))])
        .acl(ACL_STRING),
    cmd("incrbyfloat", 3, WRITE | DENYOOM | FAST, strings::incrbyfloat)
        .doc(STRING, "2.6.0", "O(1)", "Increment the float value of a key by the given amount")
        .keys(&[key(RW | ACCESS | UPDATE, at(1), range(0, 1, 0))])
        .acl(ACL_STRING),
    cmd("setbit", 4, WRITE | DENYOOM, strings::setbit)
        .doc(BITMAP, "2.2.0", "O(1)", "Sets or clears the bit at offset in the string value stored at key")
        .keys(&[key(RW | ACCESS | UPDATE, at(1), range(0, 1, 0))])
        .acl(ACL_BITMAP),
    cmd("getbit", 3, READONLY | FAST, strings::getbit)
        .doc(BITMAP, "2.2.0", "O(1)", "Returns the bit value at offset in the string value stored at key")
        .keys(&[key(RO | ACCESS, at(1), range(0, 1, 0))])
        .acl(ACL_BITMAP),
    cmd("lcs", -3, READONLY, strings::lcs)
        .doc(STRING, "7.0.0", "O(N*M) where N and M are the lengths of s1 and s2, respectively", "Find longest common substring")
        .keys(&[key(RO | ACCESS, at(1), range(1, 1, 0))])
        .acl(ACL_STRING),
    cmd("del", -2, WRITE, keys::del)
        .doc(GENERIC, "1.0.0", "O(N) where N is the number of keys that will be removed. When a key to remove holds a value other than a string, the individual complexity for this key is O(M) where M is the number of elements in the list, set, sorted set or hash. Removing a single key that holds a string value is O(1).", "Delete a key")
        .keys(&[key(RM | DELETE, at(1), range(-1, 1, 0))])
        .acl(ACL_KEYSPACE)
        .tips(&["request_policy:multi_shard", "response_policy:agg_sum"]),
    cmd("unlink", -2, WRITE | FAST, keys::del)
        .doc(GENERIC, "4.0.0", "O(1) for each key removed regardless of its size. Then the command does O(N) work in a different thread in order to reclaim memory, where N is the number of allocations the deleted objects where composed of.", "Delete a key asynchronously in another thread. Otherwise it is just as DEL, but non blocking.")
        .keys(&[key(RM | DELETE, at(1), range(-1, 1, 0))])
        .acl(ACL_KEYSPACE)
        .tips(&["request_policy:multi_shard", "response_policy:agg_sum"]),
    cmd("exists", -2, READONLY | FAST, keys::exists)
        .doc(GENERIC, "1.0.0", "O(N) where N is the number of keys to check.", "Determine if a key exists")
        .keys(&[key(RO, at(1), range(-1, 1, 0))])
        .acl(ACL_KEYSPACE)
        .tips(&["request_policy:multi_shard", "response_policy:agg_sum"]),
    cmd("type", 2, READONLY | FAST, keys::type_of)
        .doc(GENERIC, "1.0.0", "O(1)", "Determine the type stored at key")
        .keys(&[key(RO, at(1), range(0, 1, 0))])
        .acl(ACL_KEYSPACE),
    cmd("keys", 2, READONLY, keys::keys)
        .doc(GENERIC, "1.0.0", "O(N) with N being the number of keys in the database, under the assumption that the key names in the database and the given pattern have limited length.", "Find all keys matching the given pattern")
        .acl(ACL_KEYSPACE | ACL_DANGEROUS)
        .tips(&["request_policy:all_shards", "nondeterministic_output_order"])
        .lock_all(),
    cmd("scan", -2, READONLY, keys::scan)
        .doc(GENERIC, "2.8.0", "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection.", "Incrementally iterate the keys space")
        .acl(ACL_KEYSPACE)
        .tips(&["nondeterministic_output", "request_policy:special"])
        .lock_all(),
    cmd("randomkey", 1, READONLY, keys::randomkey)
        .doc(GENERIC, "1.0.0", "O(1)", "Return a random key from the keyspace")
        .acl(ACL_KEYSPACE)
        .tips(&["request_policy:all_shards", "nondeterministic_output"])
        .lock_all(),
    cmd("rename", 3, WRITE, keys::rename)
        .doc(GENERIC, "1.0.0", "O(1)", "Rename a key")
        .keys(&[key(RW | ACCESS | DELETE, at(1), range(0, 1, 0)), key(OW | UPDATE, at(2), range(0, 1, 0))])
        .acl(ACL_KEYSPACE),
    cmd("renamenx", 3, WRITE | FAST, keys::renamenx)
        .doc(GENERIC, "1.0.0", "O(1)", "Rename a key, only if the new key does not exist")
        .keys(&[key(RW | ACCESS | DELETE, at(1), range(0, 1, 0)), key(OW | INSERT, at(2), range(0, 1, 0))])
        .acl(ACL_KEYSPACE),
    cmd("copy", -3, WRITE | DENYOOM, keys::copy)
        .doc(GENERIC, "6.2.0", "O(N) worst case for collections, where N is the number of nested items. O(1) for string values.", "Copy a key")
        .keys(&[key(RO | ACCESS, at(1), range(0, 1, 0)), key(OW | UPDATE, at(2), range(0, 1, 0))])
        .acl(ACL_KEYSPACE),
    cmd("move", 3, WRITE | FAST, keys::move_key)
        .doc(GENERIC, "1.0.0", "O(1)", "Move a key to another database")
        .keys(&[key(RW | ACCESS | UPDATE, at(1), range(0, 1, 0))])
        .acl(ACL_KEYSPACE),
    cmd("dbsize", 1, READONLY | FAST, keys::dbsize)
        .doc(SERVER, "1.0.0", "O(1)", "Return the number of keys in the selected database")
        .acl(ACL_KEYSPACE)
        .tips(&["request_policy:all_shards", "response_policy:agg_sum"])
        .lock_all(),
    cmd("flushdb", -1, WRITE, keys::flushdb)
        .doc(SERVER, "1.0.0", "O(N) where N is the number of keys in the selected database", "Remove all keys from the current database")
        .acl(ACL_KEYSPACE | ACL_DANGEROUS)
        .tips(&["request_policy:all_shards", "response_policy:all_succeeded"])
        .lock_all(),
    cmd("flushall", -1, WRITE, keys::flushall)
        .doc(SERVER, "1.0.0", "O(N) where N is the total number of keys in all databases", "Remove all keys from all databases")
        .acl(ACL_KEYSPACE | ACL_DANGEROUS)
        .tips(&["request_policy:all_shards", "response_policy:all_succeeded"])
        .lock_all(),
    cmd("swapdb", 3, WRITE | FAST, keys::swapdb)
        .doc(SERVER, "4.0.0", "O(N) where N is the count of clients watching or blocking on keys from both databases.", "Swaps two Redis databases")
        .acl(ACL_KEYSPACE | ACL_DANGEROUS)
        .lock_all(),
    cmd("expire", -3, WRITE | FAST, keys::expire)
        .doc(GENERIC, "1.0.0", "O(1)", "Set a key's time to live in seconds")
        .keys(&[key(RW | UPDATE, at(1), range(0, 1, 0))])
        .acl(ACL_KEYSPACE),
    cmd("pexpire", -3, WRITE | FAST, keys::pexpire)
        .doc(GENERIC, "2.6.0", "O(1)", "Set a key's time to live in milliseconds")
        .keys(&[key(RW | UPDATE, at(1), range(0, 1, 0))])
        .acl(ACL_KEYSPACE),
    cmd("expireat", -3, WRITE | FAST, keys::expireat)
        .doc(GENERIC, "1.2.0", "O(1)", "Set the expiration for a key as a UNIX timestamp")
        .keys(&[key(RW | UPDATE, at(1), range(0, 1, 0))])
        .acl(ACL_KEYSPACE),
    cmd("pexpireat", -3, WRITE | FAST, keys::pexpireat)
        .doc(GENERIC, "2.6.0", "O(1)", "Set the expiration for a key as a UNIX timestamp specified in milliseconds")
        .keys(&[key(RW | UPDATE, at(1), range(0, 1, 0))])
        .acl(ACL_KEYSPACE),
    cmd("ttl", 2, READONLY | FAST, keys::ttl)
        .doc(GENERIC, "1.0.0", "O(1)", "Get the time to live for a key in seconds")
        .keys(&[key(RO | ACCESS, at(1), range(0, 1, 0))])
        .acl(ACL_KEYSPACE)
        .tips(&["nondeterministic_output"]),
    cmd("pttl", 2, READONLY | FAST, keys::pttl)
        .doc(GENERIC, "2.6.0", "O(1)", "Get the time to live for a key in milliseconds")
        .keys(&[key(RO | ACCESS, at(1), range(0, 1, 0))])
        .acl(ACL_KEYSPACE)
        .tips(&["nondeterministic_output"]),
    cmd("expiretime", 2, READONLY | FAST, keys::expiretime)
        .doc(GENERIC, "7.0.0", "O(1)", "Get the expiration Unix timestamp for a key")
        .keys(&[key(RO | ACCESS, at(1), range(0, 1, 0))])
        .acl(ACL_KEYSPACE),
    cmd("pexpiretime", 2, READONLY | FAST, keys::pexpiretime)
        .doc(GENERIC, "7.0.0", "O(1)", "Get the expiration Unix timestamp for a key in milliseconds")
        .keys(&[key(RO | ACCESS, at(1), range(0, 1, 0))])
        .acl(ACL_KEYSPACE),
    cmd("persist", 2, WRITE | FAST, keys::persist)
        .doc(GENERIC, "2.2.0", "O(1)", "Remove the expiration from a key")
        .keys(&[key(RW | UPDATE, at(1), range(0, 1, 0))])
        .acl(ACL_KEYSPACE),
    cmd("sort", -2, WRITE | DENYOOM, sort::sort)
        .doc(GENERIC, "1.0.0", "O(N+M*log(M)) where N is the number of elements in the list or set to sort, and M the number of returned elements. When the elements are not sorted, complexity is O(N).", "Sort the elements in a list, set or sorted set")
        .keys(&[key(RO | ACCESS, at(1), range(0, 1, 0)), key(RO | ACCESS, unknown_begin(), unknown_find()).noted("For the optional BY/GET keyword. It is marked 'unknown' because the key names derive from the content of the key we sort"), key(OW | UPDATE, unknown_begin(), unknown_find()).noted("For the optional STORE keyword. It is marked 'unknown' because the keyword can appear anywhere in the argument array")])
        .acl(ACL_SET | ACL_SORTEDSET | ACL_LIST | ACL_DANGEROUS)
        .lock_all()
        .getkeys(sort_keys),
    cmd("sort_ro", -2, READONLY, sort::sort_ro)
        .doc(GENERIC, "7.0.0", "O(N+M*log(M)) where N is the number of elements in the list or set to sort, and M the number of returned elements. When the elements are not sorted, complexity is O(N).", "Sort the elements in a list, set or sorted set. Read-only variant of SORT.")
        .keys(&[key(RO | ACCESS, at(1), range(0, 1, 0)), key(RO | ACCESS, unknown_begin(), unknown_find()).noted("For the optional BY/GET keyword. It is marked 'unknown' because the key names derive from the content of the key we sort")])
        .acl(ACL_SET | ACL_SORTEDSET | ACL_LIST | ACL_DANGEROUS)
        .lock_all()
        .getkeys(sort_ro_keys),
    cmd("dump", 2, READONLY, keys::dump)
        .doc(GENERIC, "2.6.0", "O(1) to access the key and additional O(N*M) to serialize it, where N is the number of Redis objects composing the value and M their average size. For small string values the time complexity is thus O(1)+O(1*M) where M is small, so simply O(1).", "Return a serialized version of the value stored at the specified key.")
        .keys(&[key(RO | ACCESS, at(1), range(0, 1, 0))])
        .acl(ACL_KEYSPACE)
        .tips(&["nondeterministic_output"]),
    cmd("restore", -4, WRITE | DENYOOM, keys::restore)
        .doc(GENERIC, "2.6.0", "O(1) to create the new key and additional O(N*M) to reconstruct the serialized value, where N is the number of Redis objects composing the value and M their average size. For small string values the time complexity is thus O(1)+O(1*M) where M is small, so simply O(1). However for sorted set values the complexity is O(N*M*log(N)) because inserting values into sorted sets is O(log(N)).", "Create a key using the provided serialized value, previously obtained using DUMP.")
        .keys(&[key(OW | UPDATE, at(1), range(0, 1, 0))])
        .acl(ACL_KEYSPACE | ACL_DANGEROUS),
    cmd("touch", -2, READONLY | FAST, keys::touch)
        .doc(GENERIC, "3.2.1", "O(N) where N is the number of keys that will be touched.", "Alters the last access time of a key(s). Returns the number of existing keys specified.")
        .keys(&[key(RO, at(1), range(-1, 1, 0))])
        .acl(ACL_KEYSPACE)
        .tips(&["request_policy:multi_shard", "response_policy:agg_sum"]),
    cmd("memory", -2, 0, server::container_without_subcommand)
        .doc(SERVER, "4.0.0", "Depends on subcommand.", "A container for memory diagnostics commands")
        .subcommands(MEMORY_SUBCOMMANDS),
    cmd("object", -2, 0, server::container_without_subcommand)
        .doc(GENERIC, "2.2.3", "Depends on subcommand.", "A container for object introspection commands")
        .subcommands(OBJECT_SUBCOMMANDS),
    cmd("ping", -1, FAST, connection::ping)
        .doc(CONNECTION, "1.0.0", "O(1)", "Ping the server")
        .acl(ACL_CONNECTION)
        .tips(&["request_policy:all_shards", "response_policy:all_succeeded"]),
    cmd("echo", 2, LOADING | STALE | FAST, connection::echo)
        .doc(CONNECTION, "1.0.0", "O(1)", "Echo the given string")
        .acl(ACL_CONNECTION),
    cmd("quit", -1, NOSCRIPT | LOADING | STALE | FAST | NO_AUTH | ALLOW_BUSY | NO_QUEUE, connection::quit)
        .doc(CONNECTION, "1.0.0", "O(1)", "Close the connection")
        .acl(ACL_CONNECTION),
    cmd("reset", 1, NOSCRIPT | LOADING | STALE | FAST | NO_AUTH | ALLOW_BUSY | NO_QUEUE, connection::reset)
        .doc(CONNECTION, "6.2.0", "O(1)", "Reset the connection")
        .acl(ACL_CONNECTION)
        .lock_all(),
    cmd("hello", -1, NOSCRIPT | LOADING | STALE | FAST | NO_AUTH | ALLOW_BUSY, connection::hello)
        .doc(CONNECTION, "6.0.0", "O(1)", "Handshake with Redis")
        .acl(ACL_CONNECTION),
    cmd("auth", -2, NOSCRIPT | LOADING | STALE | FAST | NO_AUTH | ALLOW_BUSY, connection::auth)
        .doc(CONNECTION, "1.0.0", "O(N) where N is the number of passwords defined for the user", "Authenticate to the server")
        .acl(ACL_CONNECTION),
    cmd("select", 2, LOADING | STALE | FAST, connection::select)
        .doc(CONNECTION, "1.0.0", "O(1)", "Change the selected database for the current connection")
        .acl(ACL_CONNECTION),
    cmd("client", -2, 0, server::container_without_subcommand)
        .doc(CONNECTION, "2.4.0", "Depends on subcommand.", "A container for client connection commands")
        .subcommands(CLIENT_SUBCOMMANDS),
    cmd("info", -1, LOADING | STALE, server::info)
        .doc(SERVER, "1.0.0", "O(1)", "Get information and statistics about the server")
        .acl(ACL_DANGEROUS)
        .tips(&["nondeterministic_output", "request_policy:all_shards", "response_policy:special"])
        .lock_all(),
    cmd("config", -2, 0, server::container_without_subcommand)
        .doc(SERVER, "2.0.0", "Depends on subcommand.", "A container for server configuration commands")
        .subcommands(CONFIG_SUBCOMMANDS),
    cmd("time", 1, LOADING | STALE | FAST, server::time)
        .doc(SERVER, "2.6.0", "O(1)", "Return the current server time")
        .tips(&["nondeterministic_output"]),
    cmd("lastsave", 1, LOADING | STALE | FAST, server::lastsave)
        .doc(SERVER, "1.0.0", "O(1)", "Get the UNIX time stamp of the last successful save to disk")
        .acl(ACL_ADMIN | ACL_DANGEROUS)
        .tips(&["nondeterministic_output"]),
    cmd("shutdown", -1, ADMIN | NOSCRIPT | LOADING | STALE | NO_MULTI | ALLOW_BUSY, server::shutdown)
        .doc(SERVER, "1.0.0", "O(N) when saving, where N is the total number of keys in all databases when saving data, otherwise O(1)", "Synchronously save the dataset to disk and then shut down the server"),
    cmd("slowlog", -2, 0, server::container_without_subcommand)
        .doc(SERVER, "2.2.12", "Depends on subcommand.", "A container for slow log commands")
        .subcommands(SLOWLOG_SUBCOMMANDS),
    cmd("monitor", 1, ADMIN | NOSCRIPT | LOADING | STALE, server::monitor)
        .doc(SERVER, "1.0.0", "", "Listen for all requests received by the server in real time"),
    cmd("debug", -2, ADMIN | NOSCRIPT | LOADING | STALE, server::debug)
        .doc(SERVER, "1.0.0", "Depends on subcommand.", "A container for debugging commands")
        .syscmd(),
    cmd("eval", -3, NOSCRIPT | SKIP_MONITOR | STALE | NO_MANDATORY_KEYS | RUNS_SCRIPT, scripting::eval)
        .doc(SCRIPTING, "2.6.0", "Depends on the script that is executed.", "Execute a Lua script server side")
        .keys(&[key(RW | ACCESS | UPDATE, at(2), keynum(0, 1, 1))
            .noted("We cannot tell how the keys will be used so we assume the worst, RW and UPDATE")])
        .acl(ACL_SCRIPTING)
        .lock_as_touched(),
    cmd("evalsha", -3, NOSCRIPT | SKIP_MONITOR | STALE | NO_MANDATORY_KEYS | RUNS_SCRIPT, scripting::evalsha)
        .doc(SCRIPTING, "2.6.0", "Depends on the script that is executed.", "Execute a Lua script server side")
        .keys(&[key(RW | ACCESS | UPDATE, at(2), keynum(0, 1, 1))])
        .acl(ACL_SCRIPTING)
        .lock_as_touched(),
    cmd("eval_ro", -3, NOSCRIPT | SKIP_MONITOR | STALE | NO_MANDATORY_KEYS | RUNS_SCRIPT | READONLY, scripting::eval_ro)
        .doc(SCRIPTING, "7.0.0", "Depends on the script that is executed.", "Execute a read-only Lua script server side")
        .keys(&[key(RO | ACCESS, at(2), keynum(0, 1, 1))
            .noted("We cannot tell how the keys will be used so we assume the worst, RO and ACCESS")])
        .acl(ACL_SCRIPTING)
        .lock_as_touched(),
    cmd("evalsha_ro", -3, NOSCRIPT | SKIP_MONITOR | STALE | NO_MANDATORY_KEYS | RUNS_SCRIPT | READONLY, scripting::evalsha_ro)
        .doc(SCRIPTING, "7.0.0", "Depends on the script that is executed.", "Execute a read-only Lua script server side")
        .keys(&[key(RO | ACCESS, at(2), keynum(0, 1, 1))])
        .acl(ACL_SCRIPTING)
        .lock_as_touched(),
    cmd("fcall", -3, NOSCRIPT | SKIP_MONITOR | STALE | NO_MANDATORY_KEYS | RUNS_SCRIPT, functions::fcall)
        .doc(SCRIPTING, "7.0.0", "Depends on the function that is executed.", "Invoke a function")
        .keys(&[key(RW | ACCESS | UPDATE, at(2), keynum(0, 1, 1))
            .noted("We cannot tell how the keys will be used so we assume the worst, RW and UPDATE")])
        .acl(ACL_SCRIPTING)
        .lock_as_touched(),
    cmd("fcall_ro", -3, NOSCRIPT | SKIP_MONITOR | STALE | NO_MANDATORY_KEYS | RUNS_SCRIPT | READONLY, functions::fcall_ro)
        .doc(SCRIPTING, "7.0.0", "Depends on the function that is executed.", "Invoke a read-only function")
        .keys(&[key(RO | ACCESS, at(2), keynum(0, 1, 1))
            .noted("We cannot tell how the keys will be used so we assume the worst, RO and ACCESS")])
        .acl(ACL_SCRIPTING)
        .lock_as_touched(),
    cmd("script", -2, 0, server::container_without_subcommand)
        .doc(SCRIPTING, "2.6.0", "Depends on subcommand.", "A container for Lua scripts management commands")
        .subcommands(SCRIPT_SUBCOMMANDS),
    cmd("function", -2, 0, server::container_without_subcommand)
        .doc(SCRIPTING, "7.0.0", "Depends on subcommand.", "A container for function commands")
        .subcommands(FUNCTION_SUBCOMMANDS),
    cmd("multi", 1, NOSCRIPT | LOADING | STALE | FAST | ALLOW_BUSY | NO_QUEUE, transactions::multi)
        .doc(TRANSACTIONS, "1.2.0", "O(1)", "Mark the start of a transaction block")
        .acl(ACL_TRANSACTION),
    cmd("exec", 1, NOSCRIPT | LOADING | STALE | SKIP_SLOWLOG | NO_QUEUE, transactions::exec)
        .doc(TRANSACTIONS, "1.2.0", "Depends on commands in the transaction", "Execute all commands issued after MULTI")
        .acl(ACL_TRANSACTION)
        .lock_all(),
    cmd("discard", 1, NOSCRIPT | LOADING | STALE | FAST | ALLOW_BUSY | NO_QUEUE, transactions::discard)
        .doc(TRANSACTIONS, "2.0.0", "O(N), when N is the number of queued commands", "Discard all commands issued after MULTI")
        .acl(ACL_TRANSACTION)
        .lock_all(),
    cmd("watch", -2, NOSCRIPT | LOADING | STALE | FAST | ALLOW_BUSY | NO_QUEUE, transactions::watch)
        .doc(TRANSACTIONS, "2.2.0", "O(1) for every key.", "Watch the given keys to determine execution of the MULTI/EXEC block")
        .keys(&[key(RO, at(1), range(-1, 1, 0))])
        .acl(ACL_TRANSACTION),
    cmd("unwatch", 1, NOSCRIPT | LOADING | STALE | FAST | ALLOW_BUSY, transactions::unwatch)
        .doc(TRANSACTIONS, "2.2.0", "O(1)", "Forget about all watched keys")
        .acl(ACL_TRANSACTION)
        .lock_all(),
    cmd("lpush", -3, WRITE | DENYOOM | FAST, lists::lpush)
        .doc(LIST, "1.0.0", "O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments.", "Prepend one or multiple elements to a list")
        .keys(&[key(RW | INSERT, at(1), range(0, 1, 0))])
        .acl(ACL_LIST),
    cmd("rpush", -3, WRITE | DENYOOM | FAST, lists::rpush)
        .doc(LIST, "1.0.0", "O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments.", "Append one or multiple elements to a list")
        .keys(&[key(RW | INSERT, at(1), range(0, 1, 0))])
        .acl(ACL_LIST),
    cmd("lpushx", -3, WRITE | DENYOOM | FAST, lists::lpushx)
        .doc(LIST, "2.2.0", "O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments.", "Prepend an element to a list, only if the list exists")
        .keys(&[key(RW | INSERT, at(1), range(0, 1, 0))])
        .acl(ACL_LIST),
    cmd("rpushx", -3, WRITE | DENYOOM | FAST, lists::rpushx)
        .doc(LIST, "2.2.0", "O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments.", "Append an element to a list, only if the list exists")
        .keys(&[key(RW | INSERT, at(1), range(0, 1, 0))])
        .acl(ACL_LIST),
    cmd("lpop", -2, WRITE | FAST, lists::lpop)
        .doc(LIST, "1.0.0", "O(N) where N is the number of elements returned", "Remove and get the first elements in a list")
        .keys(&[key(RW | ACCESS | DELETE, at(1), range(0, 1, 0))])
        .acl(ACL_LIST),
    cmd("rpop", -2, WRITE | FAST, lists::rpop)
        .doc(LIST, "1.0.0", "O(N) where N is the number of elements returned", "Remove and get the last elements in a list")
        .keys(&[key(RW | ACCESS | DELETE, at(1), range(0, 1, 0))])
        .acl(ACL_LIST),
    cmd("blpop", -3, WRITE | NOSCRIPT | BLOCKING, lists::blpop)
        .doc(LIST, "2.0.0", "O(N) where N is the number of provided keys.", "Remove and get the first element in a list, or block until one is available")
        .keys(&[key(RW | ACCESS | DELETE, at(1), range(-2, 1, 0))])
        .acl(ACL_LIST),
    cmd("brpop", -3, WRITE | NOSCRIPT | BLOCKING, lists::brpop)
        .doc(LIST, "2.0.0", "O(N) where N is the number of provided keys.", "Remove and get the last element in a list, or block until one is available")
        .keys(&[key(RW | ACCESS | DELETE, at(1), range(-2, 1, 0))])
        .acl(ACL_LIST),
    cmd("lmpop", -4, WRITE, lists::lmpop)
        .doc(LIST, "7.0.0", "O(N+M) where N is the number of provided keys and M is the number of elements returned.", "Pop elements from a list")
        .keys(&[key(RW | ACCESS | DELETE, at(1), keynum(0, 1, 1))])
        .acl(ACL_LIST),
    cmd("blmpop", -5, WRITE | BLOCKING, lists::blmpop)
        .doc(LIST, "7.0.0", "O(N+M) where N is the number of provided keys and M is the number of elements returned.", "Pop elements from a list, or block until one is available")
        .keys(&[key(RW | ACCESS | DELETE, at(2), keynum(0, 1, 1))])
        .acl(ACL_LIST),
    cmd("lmove", 5, WRITE | DENYOOM, lists::lmove)
        .doc(LIST, "6.2.0", "O(1)", "Pop an element from a list, push it to another list and return it")
        .keys(&[key(RW | ACCESS | DELETE, at(1), range(0, 1, 0)), key(RW | INSERT, at(2), range(0, 1, 0))])
        .acl(ACL_LIST),
    cmd("rpoplpush", 3, WRITE | DENYOOM, lists::rpoplpush)
        .doc(LIST, "1.2.0", "O(1)", "Remove the last element in a list, prepend it to another list and return it")
        .keys(&[key(RW | ACCESS | DELETE, at(1), range(0, 1, 0)), key(RW | INSERT, at(2), range(0, 1, 0))])
        .acl(ACL_LIST)
        .deprecated("6.2.0", "`LMOVE` with the `RIGHT` and `LEFT` arguments"),
    cmd("blmove", 6, WRITE | DENYOOM | NOSCRIPT | BLOCKING, lists::blmove)
        .doc(LIST, "6.2.0", "O(1)", "Pop an element from a list, push it to another list and return it; or block until one is available")
        .keys(&[key(RW | ACCESS | DELETE, at(1), range(0, 1, 0)), key(RW | INSERT, at(2), range(0, 1, 0))])
        .acl(ACL_LIST),
    cmd("brpoplpush", 4, WRITE | DENYOOM | NOSCRIPT | BLOCKING, lists::brpoplpush)
        .doc(LIST, "2.2.0", "O(1)", "Pop an element from a list, push it to another list and return it; or block until one is available")
        .keys(&[key(RW | ACCESS | DELETE, at(1), range(0, 1, 0)), key(RW | INSERT, at(2), range(0, 1, 0))])
        .acl(ACL_LIST)
        .deprecated("6.2.0", "`BLMOVE` with the `RIGHT` and `LEFT` arguments"),
    cmd("llen", 2, READONLY | FAST, lists::llen)
        .doc(LIST, "1.0.0", "O(1)", "Get the length of a list")
        .keys(&[key(RO, at(1), range(0, 1, 0))])
        .acl(ACL_LIST),
    cmd("lindex", 3, READONLY, lists::lindex)
        .doc(LIST, "1.0.0", "O(N) where N is the number of elements to traverse to get to the element at index. This makes asking for the first or the last element of the list O(1).", "Get an element from a list by its index")
        .keys(&[key(RO | ACCESS, at(1), range(0, 1, 0))])
        .acl(ACL_LIST),
    cmd("lrange", 4, READONLY, lists::lrange)
        .doc(LIST, "1.0.0", "O(S+N) where S is the distance of start offset from HEAD for small lists, from nearest end (HEAD or TAIL) for large lists; and N is the number of elements in the specified range.", "Get a range of elements from a list")
        .keys(&[key(RO | ACCESS, at(1), range(0, 1, 0))])
        .acl(ACL_LIST),
    cmd("lpos", -3, READONLY, lists::lpos)
        .doc(LIST, "6.0.6", "O(N) where N is the number of elements in the list, for the average case. When searching for elements near the head or the tail of the list, or when the MAXLEN option is provided, the command may run in constant time.", "Return the index of matching elements on a list")
        .keys(&[key(RO | ACCESS, at(1), range(0, 1, 0))])
        .acl(ACL_LIST),
    cmd("lset", 4, WRITE | DENYOOM, lists::lset)
        .doc(LIST, "1.0.0", "O(N) where N is the length of the list. Setting either the first or the last element of the list is O(1).", "Set the value of an element in a list by its index")
        .keys(&[key(RW | UPDATE, at(1), range(0, 1, 0))])
        .acl(ACL_LIST),
    cmd("linsert", 5, WRITE | DENYOOM, lists::linsert)
        .doc(LIST, "2.2.0", "O(N) where N is the number of elements to traverse before seeing the value pivot. This means that inserting somewhere on the left end on the list (head) can be considered O(1) and inserting somewhere on the right end (tail) is O(N).", "Insert an element before or after another element in a list")
        .keys(&[key(RW | INSERT, at(1), range(0, 1, 0))])
        .acl(ACL_LIST),
    cmd("lrem", 4, WRITE, lists::lrem)
        .doc(LIST, "1.0.0", "O(N+M) where N is the length of the list and M is the number of elements removed.", "Remove elements from a list")
        .keys(&[key(RW | DELETE, at(1), range(0, 1, 0))])
        .acl(ACL_LIST),
    cmd("ltrim", 4, WRITE, lists::ltrim)
        .doc(LIST, "1.0.0", "O(N) where N is the number of elements to be removed by the operation.", "Trim a list to the specified range")
        .keys(&[key(RW | DELETE, at(1), range(0, 1, 0))])
        .acl(ACL_LIST),
    cmd("command", -1, LOADING | STALE, server::command_all)
        .doc(SERVER, "2.8.13", "O(N) where N is the total number of Redis commands", "Get array of Redis command details")
        .acl(ACL_CONNECTION)
        .tips(&["nondeterministic_output_order"])
        .subcommands(COMMAND_SUBCOMMANDS),
    cmd("hset", -4, WRITE | DENYOOM | FAST, hashes::hset)
        .doc(HASH, "2.0.0", "O(1) for each field/value pair added, so O(N) to add N field/value pairs when the command is called with multiple field/value pairs.", "Set the string value of a hash field")
        .keys(&[key(RW | UPDATE, at(1), range(0, 1, 0))])
        .acl(ACL_HASH),
    cmd("hsetnx", 4, WRITE | DENYOOM | FAST, hashes::hsetnx)
        .doc(HASH, "2.0.0", "O(1)", "Set the value of a hash field, only if the field does not exist")
        .keys(&[key(RW | INSERT, at(1), range(0, 1, 0))])
        .acl(ACL_HASH),
    cmd("hget", 3, READONLY | FAST, hashes::hget)
        .doc(HASH, "2.0.0", "O(1)", "Get the value of a hash field")
        .keys(&[key(RO | ACCESS, at(1), range(0, 1, 0))])
        .acl(ACL_HASH),
    cmd("hmget", -3, READONLY | FAST, hashes::hmget)
        .doc(HASH, "2.0.0", "O(N) where N is the number of fields being requested.", "Get the values of all the given hash fields")
        .keys(&[key(RO | ACCESS, at(1), range(0, 1, 0))])
        .acl(ACL_HASH),
    cmd("hmset", -4, WRITE | DENYOOM | FAST, hashes::hmset)
        .doc(HASH, "2.0.0", "O(N) where N is the number of fields being set.", "Set multiple hash fields to multiple values")
        .keys(&[key(RW | UPDATE, at(1), range(0, 1, 0))])
        .acl(ACL_HASH)
        .deprecated("4.0.0", "`HSET` with multiple field-value pairs"),
    cmd("hdel", -3, WRITE | FAST, hashes::hdel)
        .doc(HASH, "2.0.0", "O(N) where N is the number of fields to be removed.", "Delete one or more hash fields")
        .keys(&[key(RW | DELETE, at(1), range(0, 1, 0))])
        .acl(ACL_HASH),
    cmd("hlen", 2, READONLY | FAST, hashes::hlen)
        .doc(HASH, "2.0.0", "O(1)", "Get the number of fields in a hash")
        .keys(&[key(RO, at(1), range(0, 1, 0))])
        .acl(ACL_HASH),
    cmd("hstrlen", 3, READONLY | FAST, hashes::hstrlen)
        .doc(HASH, "3.2.0", "O(1)", "Get the length of the value of a hash field")
        .keys(&[key(RO, at(1), range(0, 1, 0))])
        .acl(ACL_HASH),
    cmd("hexists", 3, READONLY | FAST, hashes::hexists)
        .doc(HASH, "2.0.0", "O(1)", "Determine if a hash field exists")
        .keys(&[key(RO, at(1), range(0, 1, 0))])
        .acl(ACL_HASH),
    cmd("hkeys", 2, READONLY, hashes::hkeys)
        .doc(HASH, "2.0.0", "O(N) where N is the size of the hash.", "Get all the fields in a hash")
        .keys(&[key(RO | ACCESS, at(1), range(0, 1, 0))])
        .acl(ACL_HASH)
        .tips(&["nondeterministic_output_order"]),
    cmd("hvals", 2, READONLY, hashes::hvals)
        .doc(HASH, "2.0.0", "O(N) where N is the size of the hash.", "Get all the values in a hash")
        .keys(&[key(RO | ACCESS, at(1), range(0, 1, 0))])
        .acl(ACL_HASH)
        .tips(&["nondeterministic_output_order"]),
    cmd("hgetall", 2, READONLY, hashes::hgetall)
        .doc(HASH, "2.0.0", "O(N) where N is the size of the hash.", "Get all the fields and values in a hash")
        .keys(&[key(RO | ACCESS, at(1), range(0, 1, 0))])
        .acl(ACL_HASH)
        .tips(&["nondeterministic_output_order"]),
    cmd("hincrby", 4, WRITE | DENYOOM | FAST, hashes::hincrby)
        .doc(HASH, "2.0.0", "O(1)", "Increment the integer value of a hash field by the given number")
        .keys(&[key(RW | ACCESS | UPDATE, at(1), range(0, 1, 0))])
        .acl(ACL_HASH),
    cmd("hincrbyfloat", 4, WRITE | DENYOOM | FAST, hashes::hincrbyfloat)
        .doc(HASH, "2.6.0", "O(1)", "Increment the float value of a hash field by the given amount")
        .keys(&[key(RW | ACCESS | UPDATE, at(1), range(0, 1, 0))])
        .acl(ACL_HASH),
    cmd("hrandfield", -2, READONLY, hashes::hrandfield)
        .doc(HASH, "6.2.0", "O(N) where N is the number of fields returned", "Get one or multiple random fields from a hash")
        .keys(&[key(RO | ACCESS, at(1), range(0, 1, 0))])
        .acl(ACL_HASH)
        .tips(&["nondeterministic_output"]),
    cmd("hscan", -3, READONLY, hashes::hscan)
        .doc(HASH, "2.8.0", "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection..", "Incrementally iterate hash fields and associated values")
        .keys(&[key(RO | ACCESS, at(1), range(0, 1, 0))])
        .acl(ACL_HASH)
        .tips(&["nondeterministic_output"]),
    cmd("sadd", -3, WRITE | DENYOOM | FAST, sets::sadd)
        .doc(SET, "1.0.0", "O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments.", "Add one or more members to a set")
        .keys(&[key(RW | INSERT, at(1), range(0, 1, 0))])
        .acl(ACL_SET),
    cmd("srem", -3, WRITE | FAST, sets::srem)
        .doc(SET, "1.0.0", "O(N) where N is the number of members to be removed.", "Remove one or more members from a set")
        .keys(&[key(RW | DELETE, at(1), range(0, 1, 0))])
        .acl(ACL_SET),
    cmd("scard", 2, READONLY | FAST, sets::scard)
        .doc(SET, "1.0.0", "O(1)", "Get the number of members in a set")
        .keys(&[key(RO, at(1), range(0, 1, 0))])
        .acl(ACL_SET),
    cmd("sismember", 3, READONLY | FAST, sets::sismember)
        .doc(SET, "1.0.0", "O(1)", "Determine if a given value is a member of a set")
        .keys(&[key(RO, at(1), range(0, 1, 0))])
        .acl(ACL_SET),
    cmd("smismember", -3, READONLY | FAST, sets::smismember)
        .doc(SET, "6.2.0", "O(N) where N is the number of elements being checked for membership", "Returns the membership associated with the given elements for a set")
        .keys(&[key(RO | ACCESS, at(1), range(0, 1, 0))])
        .acl(ACL_SET),
    cmd("smembers", 2, READONLY, sets::smembers)
        .doc(SET, "1.0.0", "O(N) where N is the set cardinality.", "Get all the members in a set")
        .keys(&[key(RO | ACCESS, at(1), range(0, 1, 0))])
        .acl(ACL_SET)
        .tips(&["nondeterministic_output_order"]),
    cmd("srandmember", -2, READONLY, sets::srandmember)
        .doc(SET, "1.0.0", "Without the count argument O(1), otherwise O(N) where N is the absolute value of the passed count.", "Get one or multiple random members from a set")
        .keys(&[key(RO | ACCESS, at(1), range(0, 1, 0))])
        .acl(ACL_SET)
        .tips(&["nondeterministic_output"]),
    cmd("spop", -2, WRITE | FAST, sets::spop)
        .doc(SET, "1.0.0", "Without the count argument O(1), otherwise O(N) where N is the value of the passed count.", "Remove and return one or multiple random members from a set")
        .keys(&[key(RW | ACCESS | DELETE, at(1), range(0, 1, 0))])
        .acl(ACL_SET)
        .tips(&["nondeterministic_output"]),
    cmd("smove", 4, WRITE | FAST, sets::smove)
        .doc(SET, "1.0.0", "O(1)", "Move a member from one set to another")
        .keys(&[key(RW | ACCESS | DELETE, at(1), range(0, 1, 0)), key(RW | INSERT, at(2), range(0, 1, 0))])
        .acl(ACL_SET),
    cmd("sinter", -2, READONLY, sets::sinter)
        .doc(SET, "1.0.0", "O(N*M) worst case where N is the cardinality of the smallest set and M is the number of sets.", "Intersect multiple sets")
        .keys(&[key(RO | ACCESS, at(1), range(-1, 1, 0))])
        .acl(ACL_SET)
        .tips(&["nondeterministic_output_order"]),
    cmd("sintercard", -3, READONLY, sets::sintercard)
        .doc(SET, "7.0.0", "O(N*M) worst case where N is the cardinality of the smallest set and M is the number of sets.", "Intersect multiple sets and return the cardinality of the result")
        .keys(&[key(RO | ACCESS, at(1), keynum(0, 1, 1))])
        .acl(ACL_SET),
    cmd("sunion", -2, READONLY, sets::sunion)
        .doc(SET, "1.0.0", "O(N) where N is the total number of elements in all given sets.", "Add multiple sets")
        .keys(&[key(RO | ACCESS, at(1), range(-1, 1, 0))])
        .acl(ACL_SET)
        .tips(&["nondeterministic_output_order"]),
    cmd("sdiff", -2, READONLY, sets::sdiff)
        .doc(SET, "1.0.0", "O(N) where N is the total number of elements in all given sets.", "Subtract multiple sets")
        .keys(&[key(RO | ACCESS, at(1), range(-1, 1, 0))])
        .acl(ACL_SET)
        .tips(&["nondeterministic_output_order"]),
    cmd("sinterstore", -3, WRITE | DENYOOM, sets::sinterstore)
        .doc(SET, "1.0.0", "O(N*M) worst case where N is the cardinality of the smallest set and M is the number of sets.", "Intersect multiple sets and store the resulting set in a key")
        .keys(&[key(RW | UPDATE, at(1), range(0, 1, 0)), key(RO | ACCESS, at(2), range(-1, 1, 0))])
        .acl(ACL_SET),
    cmd("sunionstore", -3, WRITE | DENYOOM, sets::sunionstore)
        .doc(SET, "1.0.0", "O(N) where N is the total number of elements in all given sets.", "Add multiple sets and store the resulting set in a key")
        .keys(&[key(OW | UPDATE, at(1), range(0, 1, 0)), key(RO | ACCESS, at(2), range(-1, 1, 0))])
        .acl(ACL_SET),
    cmd("sdiffstore", -3, WRITE | DENYOOM, sets::sdiffstore)
        .doc(SET, "1.0.0", "O(N) where N is the total number of elements in all given sets.", "Subtract multiple sets and store the resulting set in a key")
        .keys(&[key(OW | UPDATE, at(1), range(0, 1, 0)), key(RO | ACCESS, at(2), range(-1, 1, 0))])
        .acl(ACL_SET),
    cmd("sscan", -3, READONLY, sets::sscan)
        .doc(SET, "2.8.0", "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection..", "Incrementally iterate Set elements")
        .keys(&[key(RO | ACCESS, at(1), range(0, 1, 0))])
        .acl(ACL_SET)
        .tips(&["nondeterministic_output"]),
    cmd("zadd", -4, WRITE | DENYOOM | FAST, zsets::zadd)
        .doc(SORTED_SET, "1.2.0", "O(log(N)) for each item added, where N is the number of elements in the sorted set.", "Add one or more members to a sorted set, or update its score if it already exists")
        .keys(&[key(RW | UPDATE, at(1), range(0, 1, 0))])
        .acl(ACL_SORTEDSET),
    cmd("zincrby", 4, WRITE | DENYOOM | FAST, zsets::zincrby)
        .doc(SORTED_SET, "1.2.0", "O(log(N)) where N is the number of elements in the sorted set.", "Increment the score of a member in a sorted set")
        .keys(&[key(RW | ACCESS | UPDATE, at(1), range(0, 1, 0))])
        .acl(ACL_SORTEDSET),
    cmd("zrem", -3, WRITE | FAST, zsets::zrem)
        .doc(SORTED_SET, "1.2.0", "O(M*log(N)) with N being the number of elements in the sorted set and M the number of elements to be removed.", "Remove one or more members from a sorted set")
        .keys(&[key(RW | DELETE, at(1), range(0, 1, 0))])
        .acl(ACL_SORTEDSET),
    cmd("zcard", 2, READONLY | FAST, zsets::zcard)
        .doc(SORTED_SET, "1.2.0", "O(1)", "Get the number of members in a sorted set")
        .keys(&[key(RO, at(1), range(0, 1, 0))])
        .acl(ACL_SORTEDSET),
    cmd("zcount", 4, READONLY | FAST, zsets::zcount)
        .doc(SORTED_SET, "2.0.0", "O(log(N)) with N being the number of elements in the sorted set.", "Count the members in a sorted set with scores within the given values")
        .keys(&[key(RO | ACCESS, at(1), range(0, 1, 0))])
        .acl(ACL_SORTEDSET),
    cmd("zlexcount", 4, READONLY | FAST, zsets::zlexcount)
        .doc(SORTED_SET, "2.8.9", "O(log(N)) with N being the number of elements in the sorted set.", "Count the number of members in a sorted set between a given lexicographical range")
        .keys(&[key(RO | ACCESS, at(1), range(0, 1, 0))])
        .acl(ACL_SORTEDSET),
    cmd("zscore", 3, READONLY | FAST, zsets::zscore)
        .doc(SORTED_SET, "1.2.0", "O(1)", "Get the score associated with the given member in a sorted set")
        .keys(&[key(RO | ACCESS, at(1), range(0, 1, 0))])
        .acl(ACL_SORTEDSET),
    cmd("zmscore", -3, READONLY | FAST, zsets::zmscore)
        .doc(SORTED_SET, "6.2.0", "O(N) where N is the number of members being requested.", "Get the score associated with the given members in a sorted set")
        .keys(&[key(RO | ACCESS, at(1), range(0, 1, 0))])
        .acl(ACL_SORTEDSET),
    cmd("zrank", 3, READONLY | FAST, zsets::zrank)
        .doc(SORTED_SET, "2.0.0", "O(log(N))", "Determine the index of a member in a sorted set")
        .keys(&[key(RO | ACCESS, at(1), range(0, 1, 0))])
        .acl(ACL_SORTEDSET),
    cmd("zrevrank", 3, READONLY | FAST, zsets::zrevrank)
        .doc(SORTED_SET, "2.0.0", "O(log(N))", "Determine the index of a member in a sorted set, with scores ordered from high to low")
        .keys(&[key(RO | ACCESS, at(1), range(0, 1, 0))])
        .acl(ACL_SORTEDSET),
    cmd("zrange", -4, READONLY, zsets::zrange)
        .doc(SORTED_SET, "1.2.0", "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements returned.", "Return a range of members in a sorted set")
        .keys(&[key(RO | ACCESS, at(1), range(0, 1, 0))])
        .acl(ACL_SORTEDSET),
    cmd("zrangestore", -5, WRITE | DENYOOM, zsets::zrangestore)
        .doc(SORTED_SET, "6.2.0", "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements stored into the destination key.", "Store a range of members from sorted set into another key")
        .keys(&[key(OW | UPDATE, at(1), range(0, 1, 0)), key(RO | ACCESS, at(2), range(0, 1, 0))])
        .acl(ACL_SORTEDSET),
    cmd("zrangebyscore", -4, READONLY, zsets::zrangebyscore)
        .doc(SORTED_SET, "1.0.5", "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements being returned. If M is constant (e.g. always asking for the first 10 elements with LIMIT), you can consider it O(log(N)).", "Return a range of members in a sorted set, by score")
        .keys(&[key(RO | ACCESS, at(1), range(0, 1, 0))])
        .acl(ACL_SORTEDSET)
        .deprecated("6.2.0", "`ZRANGE` with the `BYSCORE` argument"),
    cmd("zrevrangebyscore", -4, READONLY, zsets::zrevrangebyscore)
        .doc(SORTED_SET, "2.2.0", "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements being returned. If M is constant (e.g. always asking for the first 10 elements with LIMIT), you can consider it O(log(N)).", "Return a range of members in a sorted set, by score, with scores ordered from high to low")
        .keys(&[key(RO | ACCESS, at(1), range(0, 1, 0))])
        .acl(ACL_SORTEDSET)
        .deprecated("6.2.0", "`ZRANGE` with the `REV` and `BYSCORE` arguments"),
    cmd("zrangebylex", -4, READONLY, zsets::zrangebylex)
        .doc(SORTED_SET, "2.8.9", "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements being returned. If M is constant (e.g. always asking for the first 10 elements with LIMIT), you can consider it O(log(N)).", "Return a range of members in a sorted set, by lexicographical range")
        .keys(&[key(RO | ACCESS, at(1), range(0, 1, 0))])
        .acl(ACL_SORTEDSET)
        .deprecated("6.2.0", "`ZRANGE` with the `BYLEX` argument"),
    cmd("zrevrangebylex", -4, READONLY, zsets::zrevrangebylex)
        .doc(SORTED_SET, "2.8.9", "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements being returned. If M is constant (e.g. always asking for the first 10 elements with LIMIT), you can consider it O(log(N)).", "Return a range of members in a sorted set, by lexicographical range, ordered from higher to lower strings.")
        .keys(&[key(RO | ACCESS, at(1), range(0, 1, 0))])
        .acl(ACL_SORTEDSET)
        .deprecated("6.2.0", "`ZRANGE` with the `REV` and `BYLEX` arguments"),
    cmd("zrevrange", -4, READONLY, zsets::zrevrange)
        .doc(SORTED_SET, "1.2.0", "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements returned.", "Return a range of members in a sorted set, by index, with scores ordered from high to low")
        .keys(&[key(RO | ACCESS, at(1), range(0, 1, 0))])
        .acl(ACL_SORTEDSET)
        .deprecated("6.2.0", "`ZRANGE` with the `REV` argument"),
    cmd("zremrangebyrank", 4, WRITE, zsets::zremrangebyrank)
        .doc(SORTED_SET, "2.0.0", "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements removed by the operation.", "Remove all members in a sorted set within the given indexes")
        .keys(&[key(RW | DELETE, at(1), range(0, 1, 0))])
        .acl(ACL_SORTEDSET),
    cmd("zremrangebyscore", 4, WRITE, zsets::zremrangebyscore)
        .doc(SORTED_SET, "1.2.0", "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements removed by the operation.", "Remove all members in a sorted set within the given scores")
        .keys(&[key(RW | DELETE, at(1), range(0, 1, 0))])
        .acl(ACL_SORTEDSET),
    cmd("zremrangebylex", 4, WRITE, zsets::zremrangebylex)
        .doc(SORTED_SET, "2.8.9", "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements removed by the operation.", "Remove all members in a sorted set between the given lexicographical range")
        .keys(&[key(RW | DELETE, at(1), range(0, 1, 0))])
        .acl(ACL_SORTEDSET),
    cmd("zpopmin", -2, WRITE | FAST, zsets::zpopmin)
        .doc(SORTED_SET, "5.0.0", "O(log(N)*M) with N being the number of elements in the sorted set, and M being the number of elements popped.", "Remove and return members with the lowest scores in a sorted set")
        .keys(&[key(RW | ACCESS | DELETE, at(1), range(0, 1, 0))])
        .acl(ACL_SORTEDSET),
    cmd("zpopmax", -2, WRITE | FAST, zsets::zpopmax)
        .doc(SORTED_SET, "5.0.0", "O(log(N)*M) with N being the number of elements in the sorted set, and M being the number of elements popped.", "Remove and return members with the highest scores in a sorted set")
        .keys(&[key(RW | ACCESS | DELETE, at(1), range(0, 1, 0))])
        .acl(ACL_SORTEDSET),
    cmd("bzpopmin", -3, WRITE | NOSCRIPT | BLOCKING | FAST, zsets::bzpopmin)
        .doc(SORTED_SET, "5.0.0", "O(log(N)) with N being the number of elements in the sorted set.", "Remove and return the member with the lowest score from one or more sorted sets, or block until one is available")
        .keys(&[key(RW | ACCESS | DELETE, at(1), range(-2, 1, 0))])
        .acl(ACL_SORTEDSET),
    cmd("bzpopmax", -3, WRITE | NOSCRIPT | BLOCKING | FAST, zsets::bzpopmax)
        .doc(SORTED_SET, "5.0.0", "O(log(N)) with N being the number of elements in the sorted set.", "Remove and return the member with the highest score from one or more sorted sets, or block until one is available")
        .keys(&[key(RW | ACCESS | DELETE, at(1), range(-2, 1, 0))])
        .acl(ACL_SORTEDSET),
    cmd("zmpop", -4, WRITE, zsets::zmpop)
        .doc(SORTED_SET, "7.0.0", "O(K) + O(M*log(N)) where K is the number of provided keys, N being the number of elements in the sorted set, and M being the number of elements popped.", "Remove and return members with scores in a sorted set")
        .keys(&[key(RW | ACCESS | DELETE, at(1), keynum(0, 1, 1))])
        .acl(ACL_SORTEDSET),
    cmd("bzmpop", -5, WRITE | BLOCKING, zsets::bzmpop)
        .doc(SORTED_SET, "7.0.0", "O(K) + O(M*log(N)) where K is the number of provided keys, N being the number of elements in the sorted set, and M being the number of elements popped.", "Remove and return members with scores in a sorted set or block until one is available")
        .keys(&[key(RW | ACCESS | DELETE, at(2), keynum(0, 1, 1))])
        .acl(ACL_SORTEDSET),
    cmd("zrandmember", -2, READONLY, zsets::zrandmember)
        .doc(SORTED_SET, "6.2.0", "O(N) where N is the number of elements returned", "Get one or multiple random elements from a sorted set")
        .keys(&[key(RO | ACCESS, at(1), range(0, 1, 0))])
        .acl(ACL_SORTEDSET)
        .tips(&["nondeterministic_output"]),
    cmd("zunion", -3, READONLY, zsets::zunion)
        .doc(SORTED_SET, "6.2.0", "O(N)+O(M*log(M)) with N being the sum of the sizes of the input sorted sets, and M being the number of elements in the resulting sorted set.", "Add multiple sorted sets")
        .keys(&[key(RO | ACCESS, at(1), keynum(0, 1, 1))])
        .acl(ACL_SORTEDSET),
    cmd("zinter", -3, READONLY, zsets::zinter)
        .doc(SORTED_SET, "6.2.0", "O(N*K)+O(M*log(M)) worst case with N being the smallest input sorted set, K being the number of input sorted sets and M being the number of elements in the resulting sorted set.", "Intersect multiple sorted sets")
        .keys(&[key(RO | ACCESS, at(1), keynum(0, 1, 1))])
        .acl(ACL_SORTEDSET),
    cmd("zdiff", -3, READONLY, zsets::zdiff)
        .doc(SORTED_SET, "6.2.0", "O(L + (N-K)log(N)) worst case where L is the total number of elements in all the sets, N is the size of the first set, and K is the size of the result set.", "Subtract multiple sorted sets")
        .keys(&[key(RO | ACCESS, at(1), keynum(0, 1, 1))])
        .acl(ACL_SORTEDSET),
    cmd("zintercard", -3, READONLY, zsets::zintercard)
        .doc(SORTED_SET, "7.0.0", "O(N*K) worst case with N being the smallest input sorted set, K being the number of input sorted sets.", "Intersect multiple sorted sets and return the cardinality of the result")
        .keys(&[key(RO | ACCESS, at(1), keynum(0, 1, 1))])
        .acl(ACL_SORTEDSET),
    cmd("zunionstore", -4, WRITE | DENYOOM, zsets::zunionstore)
        .doc(SORTED_SET, "2.0.0", "O(N)+O(M log(M)) with N being the sum of the sizes of the input sorted sets, and M being the number of elements in the resulting sorted set.", "Add multiple sorted sets and store the resulting sorted set in a new key")
        .keys(&[key(OW | UPDATE, at(1), range(0, 1, 0)), key(RO | ACCESS, at(2), keynum(0, 1, 1))])
        .acl(ACL_SORTEDSET),
    cmd("zinterstore", -4, WRITE | DENYOOM, zsets::zinterstore)
        .doc(SORTED_SET, "2.0.0", "O(N*K)+O(M*log(M)) worst case with N being the smallest input sorted set, K being the number of input sorted sets and M being the number of elements in the resulting sorted set.", "Intersect multiple sorted sets and store the resulting sorted set in a new key")
        .keys(&[key(OW | UPDATE, at(1), range(0, 1, 0)), key(RO | ACCESS, at(2), keynum(0, 1, 1))])
        .acl(ACL_SORTEDSET),
    cmd("zdiffstore", -4, WRITE | DENYOOM, zsets::zdiffstore)
        .doc(SORTED_SET, "6.2.0", "O(L + (N-K)log(N)) worst case where L is the total number of elements in all the sets, N is the size of the first set, and K is the size of the result set.", "Subtract multiple sorted sets and store the resulting sorted set in a new key")
        .keys(&[key(OW | UPDATE, at(1), range(0, 1, 0)), key(RO | ACCESS, at(2), keynum(0, 1, 1))])
        .acl(ACL_SORTEDSET),
    cmd("zscan", -3, READONLY, zsets::zscan)
        .doc(SORTED_SET, "2.8.0", "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection..", "Incrementally iterate sorted sets elements and associated scores")
        .keys(&[key(RO | ACCESS, at(1), range(0, 1, 0))])
        .acl(ACL_SORTEDSET)
        .tips(&["nondeterministic_output"]),
    cmd("subscribe", -2, PUBSUB | NOSCRIPT | LOADING | STALE, pubsub::subscribe)
        .doc(PUBSUB_GROUP, "2.0.0", "O(N) where N is the number of channels to subscribe to.", "Listen for messages published to the given channels"),
    cmd("unsubscribe", -1, PUBSUB | NOSCRIPT | LOADING | STALE, pubsub::unsubscribe)
        .doc(PUBSUB_GROUP, "2.0.0", "O(N) where N is the number of clients already subscribed to a channel.", "Stop listening for messages posted to the given channels"),
    cmd("psubscribe", -2, PUBSUB | NOSCRIPT | LOADING | STALE, pubsub::psubscribe)
        .doc(PUBSUB_GROUP, "2.0.0", "O(N) where N is the number of patterns the client is already subscribed to.", "Listen for messages published to channels matching the given patterns"),
    cmd("punsubscribe", -1, PUBSUB | NOSCRIPT | LOADING | STALE, pubsub::punsubscribe)
        .doc(PUBSUB_GROUP, "2.0.0", "O(N+M) where N is the number of patterns the client is already subscribed and M is the number of total patterns subscribed in the system (by any client).", "Stop listening for messages posted to channels matching the given patterns"),
    cmd("publish", 3, PUBSUB | LOADING | STALE | FAST, pubsub::publish)
        .doc(PUBSUB_GROUP, "2.0.0", "O(N+M) where N is the number of clients subscribed to the receiving channel and M is the total number of subscribed patterns (by any client).", "Post a message to a channel"),
    cmd("ssubscribe", -2, PUBSUB | NOSCRIPT | LOADING | STALE, pubsub::ssubscribe)
        .doc(PUBSUB_GROUP, "7.0.0", "O(N) where N is the number of shard channels to subscribe to.", "Listen for messages published to the given shard channels")
        .keys(&[key(NOT_KEY, at(1), range(-1, 1, 0))]),
    cmd("sunsubscribe", -1, PUBSUB | NOSCRIPT | LOADING | STALE, pubsub::sunsubscribe)
        .doc(PUBSUB_GROUP, "7.0.0", "O(N) where N is the number of clients already subscribed to a shard channel.", "Stop listening for messages posted to the given shard channels")
        .keys(&[key(NOT_KEY, at(1), range(-1, 1, 0))]),
    cmd("spublish", 3, PUBSUB | LOADING | STALE | FAST, pubsub::spublish)
        .doc(PUBSUB_GROUP, "7.0.0", "O(N) where N is the number of clients subscribed to the receiving shard channel.", "Post a message to a shard channel")
        .keys(&[key(NOT_KEY, at(1), range(0, 1, 0))]),
    cmd("pubsub", -2, 0, server::container_without_subcommand)
        .doc(PUBSUB_GROUP, "2.8.0", "Depends on subcommand.", "A container for Pub/Sub commands")
        .subcommands(PUBSUB_SUBCOMMANDS),
];

/// One remembered name -> entry lookup (see `Client::last_lookup`).
#[derive(Default)]
pub struct LookupCache {
    name: [u8; 16],
    len: usize,
    index: usize,
}

fn single_key_position(spec: &CommandSpec) -> Option<usize> {
    match spec.key_specs {
        [KeySpec {
            flags,
            begin: BeginSearch::Index(index),
            find: FindKeys::Range { last: 0, .. },
            ..
        }] if flags & (NOT_KEY | INCOMPLETE) == 0 && *index > 0 => {
            // The arity check guarantees the argument is there.
            let minimum = spec.arity.unsigned_abs() as i32;
            (*index < minimum).then_some(*index as usize)
        }
        _ => None,
    }
}

/// The table as one server instance uses it: lookups by name plus statistics.
pub struct CommandTable {
    specs: Vec<&'static CommandSpec>,
    by_name: HashMap<&'static str, usize, foldhash::fast::RandomState>,
    /// Per entry: the argument holding its only key, for commands whose
    /// specs name exactly one key at a fixed place (the dispatcher's fast path).
    single_key: Vec<Option<usize>>,
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
        let single_key = specs.iter().map(|spec| single_key_position(spec)).collect();
        CommandTable {
            specs,
            by_name,
            single_key,
            stats,
        }
    }

    /// The argument holding the command's only key, when there is exactly one at a fixed place.
    pub fn single_key(&self, index: usize) -> Option<usize> {
        self.single_key[index]
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
