//! Every error a command can answer, with Redis 7.0's exact text in one place.
//!
//! Handlers return `CommandError` values; only the dispatcher turns them into
//! `-ERR ...` lines (and counts them for `INFO errorstats`). Nothing here
//! touches the keyspace or the connection.

use std::fmt;

/// The error of a deny-oom command refused when memory is full.
pub const OUT_OF_MEMORY: &str = "OOM command not allowed when used memory > 'maxmemory'.";

/// An error reply. `Display` yields the text after the leading `-`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommandError {
    WrongType,
    NotInteger,
    NotFloat,
    Overflow,
    IncrNanOrInf,
    Syntax,
    NoSuchKey,
    WrongArity(String),
    /// Raw bytes, as Redis prints them with `%.128s` (so they end at a NUL).
    UnknownCommand {
        name: Vec<u8>,
        args: Vec<u8>,
    },
    UnknownSubcommand {
        sub: String,
        command: String,
    },
    InvalidExpire(String),
    InvalidDbIndex,
    DbIndexOutOfRange,
    SameObject,
    StringTooLong,
    OffsetOutOfRange,
    NoAuth,
    WrongPass,
    NestedMulti,
    ExecWithoutMulti,
    DiscardWithoutMulti,
    WatchInMulti,
    ExecAbort,
    NoProto,
    Timeout,
    MaxClients,
    OutOfMemory,
    /// A message that already carries its own error code (`ERR ...`, `OOM ...`).
    Raw(String),
}

impl CommandError {
    pub fn err(msg: impl Into<String>) -> Self {
        CommandError::Raw(format!("ERR {}", msg.into()))
    }

    /// The reply text as bytes: client-supplied bytes go back unchanged, as in Redis.
    pub fn to_bytes(&self) -> Vec<u8> {
        match self {
            CommandError::UnknownCommand { name, args } => {
                let mut text = b"ERR unknown command '".to_vec();
                text.extend_from_slice(name);
                text.extend_from_slice(b"', with args beginning with: ");
                text.extend_from_slice(args);
                text
            }
            other => other.to_string().into_bytes(),
        }
    }

    /// The first word of the error, as `INFO errorstats` files it.
    pub fn code(&self) -> String {
        let text = self.to_string();
        text.split(' ').next().unwrap_or("ERR").to_string()
    }
}

impl fmt::Display for CommandError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use CommandError::*;
        match self {
            WrongType => {
                f.write_str("WRONGTYPE Operation against a key holding the wrong kind of value")
            }
            NotInteger => f.write_str("ERR value is not an integer or out of range"),
            NotFloat => f.write_str("ERR value is not a valid float"),
            Overflow => f.write_str("ERR increment or decrement would overflow"),
            IncrNanOrInf => f.write_str("ERR increment would produce NaN or Infinity"),
            Syntax => f.write_str("ERR syntax error"),
            NoSuchKey => f.write_str("ERR no such key"),
            WrongArity(cmd) => write!(
                f,
                "ERR wrong number of arguments for '{}' command",
                cmd.to_lowercase()
            ),
            UnknownCommand { name, args } => write!(
                f,
                "ERR unknown command '{}', with args beginning with: {}",
                String::from_utf8_lossy(name),
                String::from_utf8_lossy(args)
            ),
            UnknownSubcommand { sub, command } => write!(
                f,
                "ERR unknown subcommand '{}'. Try {} HELP.",
                sub,
                command.to_uppercase()
            ),
            InvalidExpire(cmd) => write!(f, "ERR invalid expire time in '{}' command", cmd),
            InvalidDbIndex => f.write_str("ERR invalid DB index"),
            DbIndexOutOfRange => f.write_str("ERR DB index is out of range"),
            SameObject => f.write_str("ERR source and destination objects are the same"),
            StringTooLong => {
                f.write_str("ERR string exceeds maximum allowed size (proto-max-bulk-len)")
            }
            OffsetOutOfRange => f.write_str("ERR offset is out of range"),
            NoAuth => f.write_str("NOAUTH Authentication required."),
            WrongPass => {
                f.write_str("WRONGPASS invalid username-password pair or user is disabled.")
            }
            NestedMulti => f.write_str("ERR MULTI calls can not be nested"),
            ExecWithoutMulti => f.write_str("ERR EXEC without MULTI"),
            DiscardWithoutMulti => f.write_str("ERR DISCARD without MULTI"),
            WatchInMulti => f.write_str("ERR WATCH inside MULTI is not allowed"),
            ExecAbort => f.write_str("EXECABORT Transaction discarded because of previous errors."),
            NoProto => f.write_str("NOPROTO unsupported protocol version"),
            Timeout => f.write_str("ERR timeout is not a float or out of range"),
            MaxClients => f.write_str("ERR max number of clients reached"),
            OutOfMemory => f.write_str(OUT_OF_MEMORY),
            Raw(s) => f.write_str(s),
        }
    }
}

impl From<crate::storage::WrongType> for CommandError {
    fn from(_: crate::storage::WrongType) -> Self {
        CommandError::WrongType
    }
}

/// Protocol errors: the connection gets `-ERR Protocol error: <text>` and is closed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProtocolError {
    TooBigInline,
    TooBigMbulkCount,
    TooBigBulkCount,
    InvalidMultibulkLength,
    InvalidBulkLength,
    UnauthenticatedMultibulkLength,
    UnauthenticatedBulkLength,
    ExpectedDollar(u8),
    UnbalancedQuotes,
}

impl ProtocolError {
    /// The reply line's bytes (after '-'): the offending byte goes back raw, as Redis's `%c` does.
    pub fn to_bytes(&self) -> Vec<u8> {
        match self {
            ProtocolError::ExpectedDollar(c) => {
                let mut text = b"ERR Protocol error: expected '$', got '".to_vec();
                text.push(*c);
                text.push(b'\'');
                text
            }
            other => other.to_string().into_bytes(),
        }
    }
}

impl fmt::Display for ProtocolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use ProtocolError::*;
        f.write_str("ERR Protocol error: ")?;
        match self {
            TooBigInline => f.write_str("too big inline request"),
            TooBigMbulkCount => f.write_str("too big mbulk count string"),
            TooBigBulkCount => f.write_str("too big bulk count string"),
            InvalidMultibulkLength => f.write_str("invalid multibulk length"),
            InvalidBulkLength => f.write_str("invalid bulk length"),
            UnauthenticatedMultibulkLength => f.write_str("unauthenticated multibulk length"),
            UnauthenticatedBulkLength => f.write_str("unauthenticated bulk length"),
            ExpectedDollar(c) => write!(f, "expected '$', got '{}'", *c as char),
            UnbalancedQuotes => f.write_str("unbalanced quotes in request"),
        }
    }
}

pub type CommandResult = Result<(), CommandError>;
