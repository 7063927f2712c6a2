//! cachet: a Redis-compatible cache server.
//!
//! Redis 7.0 is the specification: `redis-cli`, `redis-benchmark` and Redis
//! client libraries talk to cachet unchanged, over RESP2 or RESP3.
//!
//! # Map of the crate
//! - [`config`]: the `Config` struct and the directive table behind config
//!   files, `--directive value` arguments and CONFIG GET/SET.
//! - [`protocol`]: the resumable request parser (multibulk and inline) and
//!   the `ReplyWriter` that knows RESP2 from RESP3.
//! - [`server`]: the listener, one task per connection (pipelined batches),
//!   client state, background tasks, shutdown, and the embedding API.
//! - [`commands`]: the single command table and one file per family
//!   (strings, keys, connection, server, transactions).
//! - [`storage`]: the sharded keyspace, its hash table, values, expiry index,
//!   WATCH bookkeeping, the change log and the tracking table.
//! - [`events`]: pub/sub, keyspace notifications and client-side caching.
//! - [`stats`]: counters and hdrhistogram latency figures for INFO.
//! - [`errors`]: every error reply's text, in one place.
//! - [`glob`], [`util`]: pattern matching and Redis's number rules.
//!
//! # Embedding
//! Start a server inside your own tests, on a free port:
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! let mut config = cachet::Config::default();
//! config.port = 0;
//! let server = cachet::ServerHandle::start(config).await?;
//! println!("listening on {}", server.addr());
//! server.shutdown().await?;
//! # Ok(()) }
//! ```
//! Code without an async runtime can use [`BackgroundServer::start`].

pub mod commands;
pub mod config;
pub mod errors;
pub mod events;
pub mod glob;
pub mod protocol;
pub mod scripting;
pub mod server;
pub mod stats;
pub mod storage;
pub mod upstream;
pub mod util;

pub use config::Config;
pub use server::{BackgroundServer, Server, ServerHandle};

/// The Redis version whose behaviour cachet follows (reported by INFO and HELLO).
pub const REDIS_VERSION: &str = "7.0.15";

/// The stack of the runtime's worker threads: scripts run there, and the
/// `cjson`/`cmsgpack` codecs recurse up to 1000 levels.
pub const WORKER_STACK: usize = 16 << 20;
