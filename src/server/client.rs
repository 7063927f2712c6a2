//! Client state: what one connection carries between commands (`Client`,
//! owned by its connection task) and what other connections may read or act
//! on (`ClientInfo`, shared through the `ClientRegistry` for CLIENT LIST,
//! CLIENT KILL and INFO clients).
//!
//! This module owns no sockets and no keys; the connection loop and the
//! command handlers use it.

use super::outbox::{LimitClass, Outbox, OutputLimits, Pushed};
use crate::events::pubsub::Subscriptions;
use crate::events::tracking::{self, Invalidated, TrackingState};
use crate::protocol::{OwnedArgs, Protocol};
use crate::stats::LocalCounters;
use crate::storage::WatchEntry;
use dashmap::DashMap;
use parking_lot::Mutex;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicU8, AtomicUsize, Ordering};
use std::sync::Arc;

/// CLIENT REPLY mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplyMode {
    On,
    Off,
    /// Skip the reply of the next command only.
    Skip,
}

/// A transaction being queued between MULTI and EXEC.
#[derive(Default)]
pub struct MultiState {
    pub queue: Vec<(usize, OwnedArgs)>,
    /// A command was refused while queueing: EXEC answers EXECABORT.
    pub aborted: bool,
}

/// One WATCHed key of this client.
pub struct WatchedKey {
    pub db: usize,
    pub key: Box<[u8]>,
    pub entry: Arc<WatchEntry>,
}

/// The state a connection keeps for itself.
pub struct Client {
    pub id: u64,
    pub db: usize,
    pub protocol: Protocol,
    pub authenticated: bool,
    pub multi: Option<MultiState>,
    pub watched: Vec<WatchedKey>,
    pub watch_dirty: Arc<AtomicBool>,
    pub reply_mode: ReplyMode,
    /// Close the connection once pending replies are written (QUIT, protocol error).
    pub close_after_reply: bool,
    pub monitor: bool,
    /// Set by DEBUG SLEEP: the connection pauses this long after the batch.
    pub pending_sleep: Option<std::time::Duration>,
    pub info: Arc<ClientInfo>,
    pub counters: LocalCounters,
    /// End of the previous command (or start of the batch): each command is
    /// timed from here, so it costs one clock read instead of two.
    pub clock_mark: crate::stats::clock::Stamp,
    /// The last command name this client sent and its table entry, so a
    /// stream of the same command skips the table lookup.
    pub last_lookup: crate::commands::table::LookupCache,
    /// Buffers and lookup cache kept for `redis.call` between scripts.
    pub script_call: crate::commands::scripting::CallBuffers,
    /// The blocking command this client waits in (BLPOP and friends).
    pub blocked: Option<crate::server::blocking::BlockedCommand>,
    /// Set while a woken client re-runs its blocking command: if it must
    /// block again it keeps its turn and this deadline.
    pub block_retry: Option<Option<tokio::time::Instant>>,
    /// Blocking commands answer at once instead of blocking (inside EXEC).
    pub deny_blocking: bool,
    /// Keys this client's last command fed that clients are blocked on.
    pub ready_keys: Vec<(usize, Box<[u8]>)>,
    /// Channels, patterns and shard channels this client is subscribed to.
    pub subscriptions: Subscriptions,
    /// The BCAST prefixes of CLIENT TRACKING, sorted.
    pub tracking_prefixes: std::collections::BTreeSet<Box<[u8]>>,
    /// Invalidations this client's own command caused, sent after its reply.
    pub pending_invalidations: Vec<Invalidated>,
    /// Notifications this client's own command published to it (it is
    /// subscribed in RESP3), each with the reply position it happened at.
    pub own_pushes: Vec<(Option<usize>, Vec<u8>)>,
    /// The running command's reply is a push (the SUBSCRIBE family): CLIENT
    /// REPLY OFF/SKIP does not silence it, as in Redis.
    pub reply_is_push: bool,
    /// A command waiting on the upstream (the connection loop serves it).
    pub upstream_request: Option<crate::upstream::Request>,
    /// Keys the upstream just said it lacks: the re-run of the command that
    /// filled them need not fill them again.
    pub upstream_absent: Vec<Box<[u8]>>,
    /// A script is running commands for this client (`redis.call`).
    pub in_script: bool,
    /// A script or function this client asked for: the connection runs it
    /// once it holds the script gate (see `scripting::run_state`).
    pub script_request: Option<crate::protocol::OwnedArgs>,
    /// The buffers of the last script request, kept for the next one.
    pub spare_script_args: crate::protocol::OwnedArgs,
    /// Set while the connection holds the gate: the script runs now.
    pub script_admitted: bool,
    /// Commands run from the input read last (the connection defers the
    /// write of a pipeline's replies; see `connection::run`).
    pub batch_commands: usize,
    /// The server was out of memory when this command was dispatched
    /// (scripts refuse to start, or to call deny-oom commands, by it).
    pub out_of_memory: bool,
    /// The forwarded command's table index and start, for its statistics.
    pub upstream_command: Option<(usize, crate::stats::clock::Stamp)>,
}

impl Client {
    pub fn new(info: Arc<ClientInfo>, authenticated: bool) -> Self {
        Client {
            id: info.id,
            db: 0,
            protocol: Protocol::Resp2,
            authenticated,
            multi: None,
            watched: Vec::new(),
            watch_dirty: Arc::new(AtomicBool::new(false)),
            reply_mode: ReplyMode::On,
            close_after_reply: false,
            monitor: false,
            pending_sleep: None,
            info,
            counters: LocalCounters::default(),
            clock_mark: crate::stats::clock::Stamp::now(),
            last_lookup: Default::default(),
            script_call: Default::default(),
            blocked: None,
            block_retry: None,
            deny_blocking: false,
            ready_keys: Vec::new(),
            subscriptions: Subscriptions::default(),
            tracking_prefixes: Default::default(),
            pending_invalidations: Vec::new(),
            own_pushes: Vec::new(),
            reply_is_push: false,
            upstream_request: None,
            upstream_absent: Vec::new(),
            in_script: false,
            script_request: None,
            spare_script_args: Default::default(),
            script_admitted: false,
            batch_commands: 0,
            out_of_memory: false,
            upstream_command: None,
        }
    }

    /// Keeps a script request's buffers for the next request, unless they
    /// grew big (an EVAL's long body).
    pub fn keep_script_args(&mut self, args: crate::protocol::OwnedArgs) {
        if args.worth_keeping() {
            self.spare_script_args = args;
        }
    }

    /// Publishes this client's subscription counts for other connections
    /// (CLIENT LIST, the output limit class, RESP2 invalidation redirects).
    pub fn publish_subscription_counts(&self) {
        let counts = [
            self.subscriptions.channels.len(),
            self.subscriptions.patterns.len(),
            self.subscriptions.shard_channels.len(),
        ];
        for (slot, count) in self.info.subscriptions.iter().zip(counts) {
            slot.store(count, Ordering::Relaxed);
        }
    }

    pub fn in_multi(&self) -> bool {
        self.multi.is_some()
    }

    pub fn select(&mut self, db: usize) {
        self.db = db;
        self.info.db.store(db, Ordering::Relaxed);
    }
}

/// Flag bits shown by CLIENT LIST's `flags=` field.
pub mod flags {
    pub const MULTI: u32 = 1 << 0;
    pub const MONITOR: u32 = 1 << 1;
    pub const NO_EVICT: u32 = 1 << 2;
    pub const NO_TOUCH: u32 = 1 << 3;
    pub const CLOSE_ASAP: u32 = 1 << 4;
}

/// Why `ClientInfo::attention` woke the connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attention {
    Killed,
    Outbox,
}

/// What other connections may see of a client.
pub struct ClientInfo {
    pub id: u64,
    pub addr: String,
    pub laddr: String,
    pub created_ms: u64,
    pub last_interaction_ms: AtomicU64,
    pub db: AtomicUsize,
    pub name: Mutex<Option<String>>,
    pub lib_name: Mutex<Option<String>>,
    pub lib_ver: Mutex<Option<String>>,
    /// Index in the command table of the last command run (for `cmd=`).
    pub last_command: AtomicU32,
    pub flags: AtomicU32,
    pub resp: AtomicU8,
    pub multi_len: AtomicUsize,
    pub watch_len: AtomicUsize,
    pub query_buffer: AtomicUsize,
    pub output_buffer: AtomicUsize,
    /// Wakes the connection when it is killed or frames reach its outbox.
    attention: crate::util::signal::Signal,
    pub killed: AtomicBool,
    /// Frames from other connections (messages, notifications, invalidations).
    pub outbox: Outbox,
    /// Channels, patterns and shard channels subscribed to.
    pub subscriptions: [AtomicUsize; 3],
    pub tracking: TrackingState,
}

impl ClientInfo {
    /// Bytes of replies and pushes waiting to go out (CLIENT LIST's omem).
    pub fn output_bytes(&self) -> u64 {
        (self.output_buffer.load(Ordering::Relaxed) + self.outbox.len()) as u64
    }

    pub fn new(id: u64, addr: SocketAddr, laddr: SocketAddr) -> Self {
        let now = crate::util::now_ms();
        ClientInfo {
            id,
            addr: addr.to_string(),
            laddr: laddr.to_string(),
            created_ms: now,
            last_interaction_ms: AtomicU64::new(now),
            db: AtomicUsize::new(0),
            name: Mutex::new(None),
            lib_name: Mutex::new(None),
            lib_ver: Mutex::new(None),
            last_command: AtomicU32::new(u32::MAX),
            flags: AtomicU32::new(0),
            resp: AtomicU8::new(2),
            multi_len: AtomicUsize::new(0),
            watch_len: AtomicUsize::new(0),
            query_buffer: AtomicUsize::new(0),
            output_buffer: AtomicUsize::new(0),
            attention: Default::default(),
            killed: AtomicBool::new(false),
            outbox: Outbox::default(),
            subscriptions: Default::default(),
            tracking: TrackingState::default(),
        }
    }

    /// The protocol the client speaks now.
    pub fn protocol(&self) -> Protocol {
        if self.resp.load(Ordering::Relaxed) == 3 {
            Protocol::Resp3
        } else {
            Protocol::Resp2
        }
    }

    /// Subscriptions of every kind.
    pub fn subscription_total(&self) -> usize {
        self.subscriptions
            .iter()
            .map(|c| c.load(Ordering::Relaxed))
            .sum()
    }

    /// Queues a frame from another connection (or from this client's own
    /// command, out of band). Passing the client's output limit closes it.
    pub fn send(&self, frame: bytes::Bytes, limits: &OutputLimits) {
        let class = if self.subscription_total() > 0 {
            LimitClass::Pubsub
        } else {
            LimitClass::Normal
        };
        if self.outbox.push(frame, limits.get(class)) == Pushed::OverLimit {
            tracing::warn!(
                "Client id={} addr={} scheduled to be closed ASAP for overcoming of output buffer limits.",
                self.id,
                self.addr
            );
            self.set_flag(flags::CLOSE_ASAP, true);
            self.request_kill();
        }
        self.attention.wake();
    }

    pub fn set_flag(&self, flag: u32, on: bool) {
        if on {
            self.flags.fetch_or(flag, Ordering::Relaxed);
        } else {
            self.flags.fetch_and(!flag, Ordering::Relaxed);
        }
    }

    pub fn has_flag(&self, flag: u32) -> bool {
        self.flags.load(Ordering::Relaxed) & flag != 0
    }

    /// Asks the connection to close at its next chance.
    pub fn request_kill(&self) {
        self.killed.store(true, Ordering::Release);
        self.attention.wake();
    }

    /// Resolves once the connection has been asked to close.
    pub async fn killed(&self) {
        self.attention
            .until(|| self.killed.load(Ordering::Acquire))
            .await
    }

    /// Resolves once the connection has been asked to close, or frames
    /// wait in its outbox (or it overflowed): one registration for both.
    pub async fn attention(&self) -> Attention {
        self.attention
            .until(|| {
                self.killed.load(Ordering::Acquire)
                    || !self.outbox.is_empty()
                    || self.outbox.overflowed()
            })
            .await;
        if self.killed.load(Ordering::Acquire) {
            Attention::Killed
        } else {
            Attention::Outbox
        }
    }

    pub fn name(&self) -> String {
        self.name.lock().clone().unwrap_or_default()
    }

    /// One line of CLIENT LIST / CLIENT INFO, with Redis 7.0's fields.
    pub fn describe(&self, now_ms: u64, command_name: &str) -> String {
        let bits = self.flags.load(Ordering::Relaxed);
        let tracking_flags = self.tracking.flags();
        let [sub, psub, ssub] = [0, 1, 2].map(|i| self.subscriptions[i].load(Ordering::Relaxed));
        let mut flag_text = String::new();
        if bits & flags::MONITOR != 0 {
            flag_text.push('O');
        }
        if sub + psub + ssub > 0 {
            flag_text.push('P');
        }
        if bits & flags::MULTI != 0 {
            flag_text.push('x');
        }
        for (bit, letter) in [
            (tracking::mode::ON, 't'),
            (tracking::mode::BROKEN_REDIRECT, 'R'),
            (tracking::mode::BCAST, 'B'),
        ] {
            if tracking_flags & bit != 0 {
                flag_text.push(letter);
            }
        }
        if bits & flags::NO_EVICT != 0 {
            flag_text.push('e');
        }
        if bits & flags::NO_TOUCH != 0 {
            flag_text.push('T');
        }
        if bits & flags::CLOSE_ASAP != 0 {
            flag_text.push('A');
        }
        if flag_text.is_empty() {
            flag_text.push('N');
        }
        let age = now_ms.saturating_sub(self.created_ms) / 1000;
        let idle = now_ms.saturating_sub(self.last_interaction_ms.load(Ordering::Relaxed)) / 1000;
        let multi = if bits & flags::MULTI != 0 {
            self.multi_len.load(Ordering::Relaxed) as i64
        } else {
            -1
        };
        let qbuf = self.query_buffer.load(Ordering::Relaxed);
        let omem = self.output_bytes();
        let redirect = if tracking_flags & tracking::mode::ON != 0 {
            self.tracking.redirect() as i64
        } else {
            -1
        };
        format!(
            "id={} addr={} laddr={} fd=0 name={} age={} idle={} flags={} db={} sub={} psub={} ssub={} multi={} qbuf={} qbuf-free=0 argv-mem=0 multi-mem=0 rbs=16384 rbp=0 obl=0 oll={} omem={} tot-mem={} events=r cmd={} user=default redir={} resp={} lib-name={} lib-ver={}",
            self.id,
            self.addr,
            self.laddr,
            self.name(),
            age,
            idle,
            flag_text,
            self.db.load(Ordering::Relaxed),
            sub,
            psub,
            ssub,
            multi,
            qbuf,
            self.outbox.frame_count(),
            omem,
            qbuf as u64 + omem + 16384,
            command_name,
            redirect,
            self.resp.load(Ordering::Relaxed),
            self.lib_name.lock().clone().unwrap_or_default(),
            self.lib_ver.lock().clone().unwrap_or_default(),
        )
    }
}

/// Every connected client, by id.
#[derive(Default)]
pub struct ClientRegistry {
    clients: DashMap<u64, Arc<ClientInfo>>,
    next_id: AtomicU64,
}

impl ClientRegistry {
    pub fn next_id(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::Relaxed) + 1
    }

    pub fn insert(&self, info: Arc<ClientInfo>) {
        self.clients.insert(info.id, info);
    }

    pub fn remove(&self, id: u64) {
        self.clients.remove(&id);
    }

    pub fn len(&self) -> usize {
        self.clients.len()
    }

    pub fn is_empty(&self) -> bool {
        self.clients.is_empty()
    }

    pub fn get(&self, id: u64) -> Option<Arc<ClientInfo>> {
        self.clients.get(&id).map(|c| c.clone())
    }

    /// All clients, ordered by id.
    pub fn all(&self) -> Vec<Arc<ClientInfo>> {
        let mut all: Vec<Arc<ClientInfo>> =
            self.clients.iter().map(|c| c.value().clone()).collect();
        all.sort_by_key(|c| c.id);
        all
    }
}
