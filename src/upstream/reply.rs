//! Writing the upstream's answers to a client.
//!
//! A client's command goes to the upstream connection that speaks the
//! client's protocol, so the reply keeps the upstream's own shapes (maps,
//! pairs, doubles). What the `redis` crate's `Value` loses is only RESP2's
//! two nulls: `$-1` and `*-1` both become `Nil`. Redis answers `*-1` for
//! the blocking pops' timeouts, LMPOP and ZMPOP with nothing to pop, and an
//! EXEC that did not run; every other null is `$-1`.

use crate::protocol::ReplyWriter;
use redis::Value as Reply;

/// Commands whose null reply is the null array in RESP2.
const NULL_ARRAY_COMMANDS: &[&str] = &[
    "blpop",
    "brpop",
    "brpoplpush",
    "blmove",
    "blmpop",
    "bzpopmin",
    "bzpopmax",
    "bzmpop",
    "lmpop",
    "zmpop",
    "exec",
];

/// Whether `command`'s null reply is the null array.
pub fn null_is_array(command: &str) -> bool {
    NULL_ARRAY_COMMANDS.contains(&command)
}

/// Writes one reply of the upstream; `null_array` says which null a top-level `Nil` is.
pub fn write(reply: &mut ReplyWriter, value: &Reply, null_array: bool) {
    match value {
        Reply::Nil if null_array => reply.null_array(),
        Reply::Nil => reply.null(),
        Reply::Int(n) => reply.integer(*n),
        Reply::BulkString(bytes) => reply.bulk(bytes),
        Reply::Array(items) => {
            reply.array_len(items.len());
            for item in items {
                write(reply, item, false);
            }
        }
        Reply::SimpleString(text) => reply.simple(text),
        Reply::Okay => reply.ok(),
        Reply::Map(pairs) => {
            reply.map_len(pairs.len());
            for (key, value) in pairs {
                write(reply, key, false);
                write(reply, value, false);
            }
        }
        Reply::Attribute { data, .. } => write(reply, data, null_array),
        Reply::Set(items) => {
            reply.set_len(items.len());
            for item in items {
                write(reply, item, false);
            }
        }
        Reply::Double(d) => reply.double(*d),
        Reply::Boolean(b) => reply.boolean(*b),
        Reply::VerbatimString { text, .. } => reply.verbatim(text),
        Reply::BigNumber(digits) => reply.big_number(&String::from_utf8_lossy(digits)),
        Reply::Push { kind, data } => {
            reply.push_len(data.len() + 1);
            reply.bulk(kind.to_string().as_bytes());
            for item in data {
                write(reply, item, false);
            }
        }
        Reply::ServerError(error) => reply.error_bytes(error_line(error).as_bytes()),
        // `Value` is non-exhaustive; a kind of reply this build does not know.
        _ => reply.error("ERR upstream sent a reply cachet cannot relay"),
    }
}

/// The error line the upstream sent (`CODE details`).
pub fn error_line(error: &redis::ServerError) -> String {
    match error.details() {
        Some(details) => format!("{} {}", error.code(), details),
        None => error.code().to_string(),
    }
}

/// Writes EXEC's reply: each queued command's result with its own null.
pub fn write_exec(reply: &mut ReplyWriter, value: &Reply, commands: &[&str]) {
    match value {
        Reply::Array(items) if items.len() == commands.len() => {
            reply.array_len(items.len());
            for (item, command) in items.iter().zip(commands) {
                write(reply, item, null_is_array(command));
            }
        }
        other => write(reply, other, true),
    }
}
