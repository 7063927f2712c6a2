//! The wire: turning bytes from a client into commands (`parser`) and replies
//! into bytes (`reply`). Owns nothing but framing rules; it never looks at
//! what a command means and never touches the keyspace or a socket.

pub mod parser;
pub mod reply;

pub use parser::{Args, OwnedArgs, Parsed, ParserLimits, RequestParser, Span};
pub use reply::{Protocol, ReplyWriter};
