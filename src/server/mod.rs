//! The server: the listener, the state every connection shares (`Shared`),
//! background work (active expiry, the ops/sec sampler), shutdown, and the
//! embedding API (`Server`, `ServerHandle`).
//!
//! One tokio task per connection runs `connection::serve`. Shutdown is one
//! `watch` signal that the listener, every connection and every background
//! task select on. This module owns sockets and tasks; what a command does is
//! the commands module's business.

pub mod blocking;
pub mod busy_poll;
pub mod client;
pub mod connection;
pub mod eviction;
pub mod outbox;
pub mod script_thread;

use crate::commands::CommandTable;
use crate::config::Config;
use crate::protocol::Args;
use crate::stats::ServerStats;
use crate::storage::Keyspace;
use client::{Client, ClientRegistry};
use parking_lot::{Mutex, RwLock};
use std::collections::VecDeque;
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::{broadcast, watch};
use tokio::task::JoinSet;

/// Configuration values read on every command, kept as atomics so the hot
/// path never takes the configuration lock. `Shared::apply_config` updates them.
#[derive(Default)]
pub struct HotConfig {
    pub requirepass_set: AtomicBool,
    pub proto_max_bulk_len: AtomicU64,
    pub query_buffer_limit: AtomicU64,
    pub slowlog_slower_than: AtomicI64,
    pub slowlog_max_len: AtomicU64,
    pub latency_tracking: AtomicBool,
    pub maxclients: AtomicUsize,
    pub idle_timeout_s: AtomicU64,
    pub busy_reply_threshold_ms: AtomicU64,
    pub protected_mode: AtomicBool,
    pub maxmemory: AtomicU64,
    pub hash_max_listpack_entries: AtomicUsize,
    pub hash_max_listpack_value: AtomicUsize,
    pub set_max_intset_entries: AtomicUsize,
    pub zset_max_listpack_entries: AtomicUsize,
    pub zset_max_listpack_value: AtomicUsize,
    pub tracking_table_max_keys: AtomicU64,
}

impl HotConfig {
    fn load_from(&self, config: &Config) {
        self.requirepass_set
            .store(config.requirepass.is_some(), Ordering::Relaxed);
        self.proto_max_bulk_len
            .store(config.proto_max_bulk_len, Ordering::Relaxed);
        self.query_buffer_limit
            .store(config.client_query_buffer_limit, Ordering::Relaxed);
        self.slowlog_slower_than
            .store(config.slowlog_log_slower_than, Ordering::Relaxed);
        self.slowlog_max_len
            .store(config.slowlog_max_len, Ordering::Relaxed);
        self.latency_tracking
            .store(config.latency_tracking, Ordering::Relaxed);
        self.maxclients.store(config.maxclients, Ordering::Relaxed);
        self.idle_timeout_s.store(config.timeout, Ordering::Relaxed);
        self.busy_reply_threshold_ms
            .store(config.busy_reply_threshold, Ordering::Relaxed);
        self.maxmemory.store(config.maxmemory, Ordering::Relaxed);
        self.protected_mode
            .store(config.protected_mode, Ordering::Relaxed);
        let size = |n: u64| usize::try_from(n).unwrap_or(usize::MAX);
        self.hash_max_listpack_entries
            .store(size(config.hash_max_listpack_entries), Ordering::Relaxed);
        self.hash_max_listpack_value
            .store(size(config.hash_max_listpack_value), Ordering::Relaxed);
        self.set_max_intset_entries
            .store(size(config.set_max_intset_entries), Ordering::Relaxed);
        self.zset_max_listpack_entries
            .store(size(config.zset_max_listpack_entries), Ordering::Relaxed);
        self.zset_max_listpack_value
            .store(size(config.zset_max_listpack_value), Ordering::Relaxed);
        self.tracking_table_max_keys
            .store(config.tracking_table_max_keys, Ordering::Relaxed);
    }

    /// The encoding thresholds as they stand now.
    pub fn encoding_limits(&self) -> crate::storage::EncodingLimits {
        crate::storage::EncodingLimits {
            hash_max_listpack_entries: self.hash_max_listpack_entries.load(Ordering::Relaxed),
            hash_max_listpack_value: self.hash_max_listpack_value.load(Ordering::Relaxed),
            set_max_intset_entries: self.set_max_intset_entries.load(Ordering::Relaxed),
            zset_max_listpack_entries: self.zset_max_listpack_entries.load(Ordering::Relaxed),
            zset_max_listpack_value: self.zset_max_listpack_value.load(Ordering::Relaxed),
        }
    }
}

/// One SLOWLOG entry.
#[derive(Clone)]
pub struct SlowLogEntry {
    pub id: u64,
    pub timestamp: u64,
    pub duration_us: u64,
    pub args: Vec<Vec<u8>>,
    pub client_addr: String,
    pub client_name: String,
}

/// Commands slower than `slowlog-log-slower-than`, newest first, at most `slowlog-max-len`.
#[derive(Default)]
pub struct SlowLog {
    entries: Mutex<VecDeque<SlowLogEntry>>,
    next_id: AtomicU64,
}

/// Redis keeps at most this many arguments of a slow command, each cut to this length.
const SLOWLOG_MAX_ARGS: usize = 32;
const SLOWLOG_MAX_ARG_LEN: usize = 128;

impl SlowLog {
    pub fn consider(&self, hot: &HotConfig, client: &Client, args: Args, usec: u64) {
        let threshold = hot.slowlog_slower_than.load(Ordering::Relaxed);
        if threshold < 0 || (usec as i64) < threshold {
            return;
        }
        let max_len = hot.slowlog_max_len.load(Ordering::Relaxed) as usize;
        let mut kept: Vec<Vec<u8>> = Vec::new();
        for (i, arg) in args.iter().enumerate() {
            if i == SLOWLOG_MAX_ARGS - 1 && args.len() > SLOWLOG_MAX_ARGS {
                kept.push(format!("... ({} more arguments)", args.len() - i).into_bytes());
                break;
            }
            if arg.len() > SLOWLOG_MAX_ARG_LEN {
                let mut cut = arg[..SLOWLOG_MAX_ARG_LEN].to_vec();
                cut.extend_from_slice(
                    format!("... ({} more bytes)", arg.len() - SLOWLOG_MAX_ARG_LEN).as_bytes(),
                );
                kept.push(cut);
            } else {
                kept.push(arg.to_vec());
            }
        }
        let entry = SlowLogEntry {
            id: self.next_id.fetch_add(1, Ordering::Relaxed),
            timestamp: crate::util::now_ms() / 1000,
            duration_us: usec,
            args: kept,
            client_addr: client.info.addr.clone(),
            client_name: client.info.name(),
        };
        let mut entries = self.entries.lock();
        entries.push_front(entry);
        entries.truncate(max_len);
    }

    pub fn latest(&self, count: usize) -> Vec<SlowLogEntry> {
        self.entries.lock().iter().take(count).cloned().collect()
    }

    pub fn len(&self) -> usize {
        self.entries.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn reset(&self) {
        self.entries.lock().clear();
    }
}

/// The MONITOR feed: every command, formatted once, broadcast to monitors.
pub struct MonitorFeed {
    monitors: AtomicUsize,
    sender: broadcast::Sender<Arc<[u8]>>,
}

impl Default for MonitorFeed {
    fn default() -> Self {
        MonitorFeed {
            monitors: AtomicUsize::new(0),
            sender: broadcast::channel(4096).0,
        }
    }
}

impl MonitorFeed {
    pub fn active(&self) -> bool {
        self.monitors.load(Ordering::Relaxed) > 0
    }

    pub fn add(&self) {
        self.monitors.fetch_add(1, Ordering::Relaxed);
    }

    pub fn remove(&self) {
        self.monitors.fetch_sub(1, Ordering::Relaxed);
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Arc<[u8]>> {
        self.sender.subscribe()
    }

    /// Formats a command the way Redis's MONITOR shows it.
    pub fn feed(&self, client: &Client, args: Args) {
        let now = crate::util::now_us();
        // Commands a script calls show "lua" for the client, as in Redis.
        let origin = match client.in_script {
            true => "lua".to_string(),
            false => client.info.addr.to_string(),
        };
        let mut line = format!(
            "+{}.{:06} [{} {}]",
            now / 1_000_000,
            now % 1_000_000,
            client.db,
            origin
        );
        for arg in args.iter() {
            line.push(' ');
            line.push_str(&quote_repr(arg));
        }
        line.push_str("\r\n");
        let _ = self
            .sender
            .send(Arc::from(line.into_bytes().into_boxed_slice()));
    }
}

/// Quotes bytes like Redis's `sdscatrepr`.
pub fn quote_repr(bytes: &[u8]) -> String {
    let mut out = String::from("\"");
    for &b in bytes {
        match b {
            b'\\' => out.push_str("\\\\"),
            b'"' => out.push_str("\\\""),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            0x07 => out.push_str("\\a"),
            0x08 => out.push_str("\\b"),
            b if b.is_ascii_graphic() || b == b' ' => out.push(b as char),
            b => out.push_str(&format!("\\x{:02x}", b)),
        }
    }
    out.push('"');
    out
}

/// State every connection and background task shares.
pub struct Shared {
    pub config: RwLock<Config>,
    pub hot: HotConfig,
    pub keyspace: Keyspace,
    pub blocking: blocking::BlockingRegistry,
    pub commands: CommandTable,
    pub clients: ClientRegistry,
    pub stats: ServerStats,
    pub slowlog: SlowLog,
    pub monitor: MonitorFeed,
    pub pubsub: crate::events::pubsub::Hub,
    pub tracking: crate::events::tracking::Tracking,
    /// The upstream tier (issue 6): link, fills, routing figures.
    pub upstream: crate::upstream::Upstream,
    /// The Lua interpreter and the script cache.
    pub scripting: crate::scripting::Scripting,
    /// Where scripts run when the runtime cannot hand a worker over.
    pub script_thread: script_thread::ScriptThread,
    /// `client-output-buffer-limit` for the normal and pubsub classes.
    pub output_limits: outbox::OutputLimits,
    pub started_ms: u64,
    /// `used_memory` when the server had started (MEMORY STATS's startup.allocated).
    pub startup_memory: u64,
    pub run_id: String,
    /// The first address listened on (it changes with CONFIG SET port/bind).
    local_addr: RwLock<SocketAddr>,
    /// Bumped when CONFIG SET port/bind replaces the listeners: the accept
    /// loops of older generations stop (their connections carry on).
    listen_generation: watch::Sender<u64>,
    /// Every connection task, so shutdown can wait for them (and stop any
    /// that will not end).
    connections: Mutex<JoinSet<()>>,
    /// This value's own `Arc`, for tasks started from a command (rebinding).
    this: std::sync::Weak<Shared>,
    /// The spinner that keeps the worker awake between close requests.
    pub busy_poll: busy_poll::BusyPoll,
    pub ops_per_sec: AtomicU64,
    pub peak_memory: AtomicU64,
    /// Memory in use, sampled every 100 ms (and on CONFIG SET) for the maxmemory check.
    pub used_memory: AtomicU64,
    /// When `used_memory` was last sampled (Unix ms).
    memory_sampled_ms: AtomicU64,
    /// Bytes eviction estimates it freed since that sample.
    evicted_since_sample: AtomicU64,
    /// Counts samples, so threads know when to take a new baseline.
    memory_generation: AtomicU64,
    /// A background task is evicting down to `maxmemory`.
    eviction_running: AtomicBool,
    shutdown: watch::Sender<bool>,
}

impl Shared {
    fn new(config: Config, local_addr: SocketAddr, this: std::sync::Weak<Shared>) -> Self {
        let hot = HotConfig::default();
        hot.load_from(&config);
        let keyspace = Keyspace::new(config.databases);
        let upstream = crate::upstream::Upstream::default();
        upstream.configure(&config);
        let output_limits = outbox::OutputLimits::default();
        let scripting = crate::scripting::Scripting::default();
        let busy_poll = busy_poll::BusyPoll::default();
        busy_poll.configure(config.busy_poll_us, config.busy_poll_min_load);
        apply_event_config(&config, &keyspace, &output_limits);
        let run_id: String = (0..40)
            .map(|_| {
                let digit: u32 = rand::random_range(0..16);
                std::char::from_digit(digit, 16).unwrap_or('0')
            })
            .collect();
        Shared {
            keyspace,
            blocking: Default::default(),
            config: RwLock::new(config),
            hot,
            commands: CommandTable::new(),
            clients: ClientRegistry::default(),
            stats: ServerStats::default(),
            slowlog: SlowLog::default(),
            monitor: MonitorFeed::default(),
            pubsub: Default::default(),
            tracking: Default::default(),
            upstream,
            script_thread: Default::default(),
            scripting,
            output_limits,
            started_ms: crate::util::now_ms(),
            startup_memory: crate::stats::memory::used_memory(),
            run_id,
            local_addr: RwLock::new(local_addr),
            listen_generation: watch::channel(0).0,
            connections: Mutex::new(JoinSet::new()),
            this,
            busy_poll,
            ops_per_sec: AtomicU64::new(0),
            peak_memory: AtomicU64::new(0),
            used_memory: AtomicU64::new(crate::stats::memory::used_memory()),
            memory_sampled_ms: AtomicU64::new(0),
            evicted_since_sample: AtomicU64::new(0),
            memory_generation: AtomicU64::new(0),
            eviction_running: AtomicBool::new(false),
            shutdown: watch::channel(false).0,
        }
    }

    /// The address the server listens on (the first, if several).
    pub fn local_addr(&self) -> SocketAddr {
        *self.local_addr.read()
    }

    /// Listens on `config`'s port and bind addresses instead of the current
    /// ones (CONFIG SET port/bind). Connections already open stay; on an
    /// error nothing changes. Must run inside the server's runtime.
    pub fn rebind(&self, config: &Config) -> io::Result<()> {
        let shared = self
            .this
            .upgrade()
            .ok_or_else(|| io::Error::other("the server is stopping"))?;
        let listeners = bind_all_now(config)?;
        let first = listeners[0].local_addr()?;
        let generation = *self.listen_generation.borrow() + 1;
        self.listen_generation.send_replace(generation);
        for listener in listeners {
            tokio::spawn(accept_loop(shared.clone(), listener, generation));
        }
        *self.local_addr.write() = first;
        Ok(())
    }

    /// Installs a new configuration (CONFIG SET).
    pub fn apply_config(&self, config: Config) {
        self.sample_memory();
        self.hot.load_from(&config);
        apply_event_config(&config, &self.keyspace, &self.output_limits);
        self.upstream.configure(&config);
        self.busy_poll
            .configure(config.busy_poll_us, config.busy_poll_min_load);
        let limit = config.maxmemory;
        *self.config.write() = config;
        // A limit below what is in use: evict down to it without stalling anyone.
        if limit != 0 && self.used_memory.load(Ordering::Relaxed) > limit {
            eviction::start_background_eviction(self);
        }
    }

    /// Hands a client's locally summed figures to the shared ones (end of a
    /// batch, before INFO reads them, and when the client goes).
    pub fn flush_client_stats(&self, client: &mut Client) {
        let track_latency = self.hot.latency_tracking.load(Ordering::Relaxed);
        self.commands.flush_calls(
            client.id as usize,
            &mut client.counters.calls,
            track_latency,
        );
        self.stats.flush(&mut client.counters);
    }

    /// Refreshes `used_memory` (and the peak) from the process's resident size.
    pub fn sample_memory(&self) {
        let used = crate::stats::memory::used_memory();
        self.used_memory.store(used, Ordering::Relaxed);
        self.evicted_since_sample.store(0, Ordering::Relaxed);
        self.memory_generation.fetch_add(1, Ordering::Release);
        self.peak_memory.fetch_max(used, Ordering::Relaxed);
    }

    /// `used_memory` less the bytes evicted since it was sampled, sampled
    /// again if the sample is a millisecond old or more (the allocator's
    /// figures cost microseconds to read; eviction asks on every command).
    ///
    /// With jemalloc, what this thread allocated and freed since it first
    /// looked after the sample is added (per-thread counters, exact and
    /// cheap), so one large write is seen by the very next command, as
    /// Redis's exact counter sees it. Without, the bytes eviction estimates
    /// it freed since the sample are subtracted.
    pub fn estimated_used_memory(&self) -> u64 {
        let sampled = self.fresh_used_memory();
        let Some(net) = crate::stats::memory::thread_net_allocated() else {
            return sampled.saturating_sub(self.evicted_since_sample.load(Ordering::Relaxed));
        };
        thread_local! {
            /// (server, sample generation, this thread's net allocation then).
            static BASELINE: std::cell::Cell<(usize, u64, i64)> = const { std::cell::Cell::new((0, 0, 0)) };
        }
        let server = self as *const Shared as usize;
        let generation = self.memory_generation.load(Ordering::Acquire);
        let (seen_server, seen_generation, base) = BASELINE.get();
        if (seen_server, seen_generation) != (server, generation) {
            BASELINE.set((server, generation, net));
            return sampled;
        }
        (sampled as i64 + (net - base)).max(0) as u64
    }

    /// Counts bytes eviction freed since the last sample.
    pub fn note_evicted_bytes(&self, bytes: u64) {
        self.evicted_since_sample
            .fetch_add(bytes, Ordering::Relaxed);
    }

    fn fresh_used_memory(&self) -> u64 {
        let now = crate::util::now_ms();
        let last = self.memory_sampled_ms.load(Ordering::Relaxed);
        if now != last
            && self
                .memory_sampled_ms
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            self.sample_memory();
        }
        self.used_memory.load(Ordering::Relaxed)
    }

    /// Stops the server: the listener and background tasks watch the
    /// signal; connections are told one by one through their own kill switch,
    /// so the hot read path never touches a signal shared by every client.
    pub fn request_shutdown(&self) {
        self.shutdown.send_replace(true);
        for client in self.clients.all() {
            client.request_kill();
        }
    }

    pub fn shutdown_signal(&self) -> watch::Receiver<bool> {
        self.shutdown.subscribe()
    }

    pub fn is_shutting_down(&self) -> bool {
        *self.shutdown.borrow()
    }
}

/// Hands the event settings to where they are read: the keyspace's change
/// switch (notification classes) and the output limits.
fn apply_event_config(config: &Config, keyspace: &Keyspace, limits: &outbox::OutputLimits) {
    keyspace
        .changes
        .set_notify_classes(config.notify_keyspace_events);
    let policy = crate::storage::Policy::from_name(&config.maxmemory_policy)
        .unwrap_or(crate::storage::Policy::NoEviction);
    let small = |n: u64| u32::try_from(n).unwrap_or(u32::MAX);
    keyspace.eviction.set(
        policy,
        small(config.maxmemory_samples),
        small(config.lfu_log_factor),
        small(config.lfu_decay_time),
        small(config.maxmemory_eviction_tenacity),
    );
    let [normal, _replica, pubsub] = config.client_output_buffer_limit;
    limits.set(outbox::LimitClass::Normal, normal);
    limits.set(outbox::LimitClass::Pubsub, pubsub);
}

/// A bound server, not yet accepting connections.
pub struct Server {
    shared: Arc<Shared>,
    listeners: Vec<TcpListener>,
}

/// Binds every address in `bind` on `port`; an address with a leading '-'
/// is optional. Synchronous (binding a socket does not wait on the
/// network), so CONFIG SET can rebind from a command handler; the sockets
/// are handed to tokio, so this must run inside a runtime.
fn bind_all_now(config: &Config) -> io::Result<Vec<TcpListener>> {
    let mut listeners: Vec<TcpListener> = Vec::new();
    let mut port = config.port;
    let mut first_error = None;
    for address in &config.bind {
        let (optional, host) = match address.strip_prefix('-') {
            Some(host) => (true, host),
            None => (false, address.as_str()),
        };
        let host = if host == "*" { "0.0.0.0" } else { host };
        let target = if host.contains(':') {
            format!("[{}]:{}", host, port)
        } else {
            format!("{}:{}", host, port)
        };
        let bound = std::net::TcpListener::bind(&target).and_then(|listener| {
            listener.set_nonblocking(true)?;
            TcpListener::from_std(listener)
        });
        match bound {
            Ok(listener) => {
                if port == 0 {
                    port = listener.local_addr()?.port();
                }
                listeners.push(listener);
            }
            Err(error) if optional => {
                tracing::debug!("skipping optional bind address {}: {}", target, error);
            }
            Err(error) => {
                first_error.get_or_insert(io::Error::new(
                    error.kind(),
                    format!(
                        "Could not create server TCP listening socket {}: {}",
                        target, error
                    ),
                ));
            }
        }
    }
    if let Some(error) = first_error {
        return Err(error);
    }
    if listeners.is_empty() {
        return Err(io::Error::new(
            io::ErrorKind::AddrNotAvailable,
            "no bind address could be used",
        ));
    }
    Ok(listeners)
}

impl Server {
    /// Binds the configured addresses (`port 0` picks a free port).
    pub async fn bind(config: Config) -> io::Result<Server> {
        let listeners = bind_all_now(&config)?;
        let local_addr = listeners[0].local_addr()?;
        let shared = Arc::new_cyclic(|this| Shared::new(config, local_addr, this.clone()));
        Ok(Server { shared, listeners })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.shared.local_addr()
    }

    pub fn shared(&self) -> Arc<Shared> {
        self.shared.clone()
    }

    /// Serves until shutdown is requested (SHUTDOWN, `ServerHandle::shutdown`).
    pub async fn run(self) -> io::Result<()> {
        let shared = self.shared;
        let mut tasks = JoinSet::new();
        tasks.spawn(active_expiry_loop(shared.clone()));
        tasks.spawn(ops_sampler_loop(shared.clone()));
        tasks.spawn(busy_poll_loop(shared.clone()));
        crate::upstream::link::spawn(&shared);
        for listener in self.listeners {
            tasks.spawn(accept_loop(shared.clone(), listener, 0));
        }
        let mut signal = shared.shutdown_signal();
        while !*signal.borrow_and_update() {
            if signal.changed().await.is_err() {
                break;
            }
        }
        // Give tasks and connections a moment to finish cleanly (every
        // client has been told to close), then stop whatever is left.
        let mut connections = std::mem::take(&mut *shared.connections.lock());
        let deadline = tokio::time::sleep(Duration::from_secs(2));
        tokio::pin!(deadline);
        // An empty set's `join_next` is ready at once: only the sets still
        // holding tasks are waited on, or this would spin (and starve a
        // current-thread runtime's connections).
        while !tasks.is_empty() || !connections.is_empty() {
            tokio::select! {
                _ = tasks.join_next(), if !tasks.is_empty() => {}
                _ = connections.join_next(), if !connections.is_empty() => {}
                _ = &mut deadline => {
                    tasks.abort_all();
                    connections.abort_all();
                    break;
                }
            }
        }
        tracing::info!("cachet is now ready to exit, bye bye...");
        Ok(())
    }
}

/// Accepts connections until shutdown or until CONFIG SET port/bind moves
/// the server to new listeners (a newer generation). Connections are
/// spawned into the shared set, so they outlive the loop that accepted them.
async fn accept_loop(shared: Arc<Shared>, listener: TcpListener, generation: u64) {
    let mut signal = shared.shutdown_signal();
    let mut generations = shared.listen_generation.subscribe();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                match accepted {
                    Ok((stream, peer)) => spawn_connection(&shared, stream, peer),
                    Err(error) => {
                        tracing::warn!("accept failed: {}", error);
                        tokio::time::sleep(Duration::from_millis(10)).await;
                    }
                }
            }
            _ = retired(&mut generations, generation) => break,
            _ = stopped(&mut signal) => break,
        }
    }
}

/// Resolves once listeners newer than `generation` have taken over.
async fn retired(generations: &mut watch::Receiver<u64>, generation: u64) {
    let _ = generations
        .wait_for(|current| *current != generation)
        .await
        .map(|_| ());
}

/// Starts serving an accepted connection, in the shared set of connection
/// tasks (reaping the finished ones, so the set holds live ones only).
fn spawn_connection(shared: &Arc<Shared>, stream: tokio::net::TcpStream, peer: SocketAddr) {
    let mut connections = shared.connections.lock();
    while connections.try_join_next().is_some() {}
    connections.spawn(connection::serve(shared.clone(), stream, peer));
}

/// Active expiry: every 10 ms, remove every key whose deadline has passed.
/// The deadline index makes each round cost O(expired · log n), so keys go
/// within a tick of their deadline however many volatile keys exist.
async fn active_expiry_loop(shared: Arc<Shared>) {
    let mut signal = shared.shutdown_signal();
    let mut ticker = tokio::time::interval(Duration::from_millis(10));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = ticker.tick() => {}
            _ = stopped(&mut signal) => return,
        }
        // A running script holds the keyspace: this round waits for the next tick.
        let admitted = shared.scripting.run.admit();
        if shared.keyspace.active_expire.load(Ordering::Relaxed)
            && matches!(admitted, crate::scripting::run_state::Admission::Open(_))
        {
            shared
                .keyspace
                .active_expire_cycle(crate::util::now_ms(), 512, |shard| {
                    crate::events::after_server_changes(&shared, shard)
                });
            crate::events::tracking::flush_broadcasts(&shared);
        }
        drop(admitted);
    }
}

/// Samples commands processed every 100 ms for `instantaneous_ops_per_sec`.
/// Runs the busy-poll spinner until shutdown.
async fn busy_poll_loop(shared: Arc<Shared>) {
    let mut signal = shared.shutdown_signal();
    tokio::select! {
        _ = shared.busy_poll.run() => {}
        _ = stopped(&mut signal) => {}
    }
}

async fn ops_sampler_loop(shared: Arc<Shared>) {
    let mut signal = shared.shutdown_signal();
    let mut ticker = tokio::time::interval(Duration::from_millis(100));
    let mut samples: VecDeque<u64> = VecDeque::with_capacity(16);
    let mut last = shared.stats.commands_processed.load(Ordering::Relaxed);
    loop {
        tokio::select! {
            _ = ticker.tick() => {}
            _ = stopped(&mut signal) => return,
        }
        let now = shared.stats.commands_processed.load(Ordering::Relaxed);
        samples.push_back(now.saturating_sub(last) * 10);
        last = now;
        if samples.len() > 16 {
            samples.pop_front();
        }
        let average = samples.iter().sum::<u64>() / samples.len() as u64;
        shared.ops_per_sec.store(average, Ordering::Relaxed);
        shared.sample_memory();
        let limit = shared.hot.maxmemory.load(Ordering::Relaxed);
        if limit != 0 && shared.used_memory.load(Ordering::Relaxed) > limit {
            eviction::start_background_eviction(&shared);
        }
        if shared.tracking.client_count() > 0 {
            crate::events::tracking::enforce_table_limit(&shared);
        }
    }
}

/// A running server: its address, and a way to stop it.
pub struct ServerHandle {
    shared: Arc<Shared>,
    task: Option<tokio::task::JoinHandle<io::Result<()>>>,
}

impl ServerHandle {
    /// Binds and starts serving on the current tokio runtime.
    pub async fn start(config: Config) -> io::Result<ServerHandle> {
        let server = Server::bind(config).await?;
        let shared = server.shared();
        let task = tokio::spawn(server.run());
        Ok(ServerHandle {
            shared,
            task: Some(task),
        })
    }

    /// The address the server listens on (the first, if several).
    pub fn addr(&self) -> SocketAddr {
        self.shared.local_addr()
    }

    /// `redis://host:port` for client libraries.
    pub fn url(&self) -> String {
        format!("redis://{}", self.addr())
    }

    pub fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }

    /// Stops accepting, closes every connection, and waits for the server to finish.
    pub async fn shutdown(mut self) -> io::Result<()> {
        self.shared.request_shutdown();
        match self.task.take() {
            Some(task) => task.await.map_err(io::Error::other)?,
            None => Ok(()),
        }
    }
}

impl Drop for ServerHandle {
    fn drop(&mut self) {
        self.shared.request_shutdown();
    }
}

/// The runtime cachet's binary (and `BackgroundServer`) serves on: a
/// multi-thread runtime even for one worker, so that a script past
/// busy-reply-threshold can hand its worker over (see
/// `scripting::run_state`); workers with room for the script codecs'
/// recursion; and, built with `--cfg tokio_unstable` (`.cargo/config.toml`),
/// no LIFO slot, so that tasks woken together run in the order they were
/// woken, the order their requests arrived in.
pub fn runtime_builder(workers: usize) -> tokio::runtime::Builder {
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    builder
        .worker_threads(workers)
        .thread_stack_size(crate::WORKER_STACK)
        .enable_all();
    #[cfg(tokio_unstable)]
    builder.disable_lifo_slot();
    builder
}

/// A server on a runtime of its own, for users whose tests are not async.
pub struct BackgroundServer {
    shared: Arc<Shared>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl BackgroundServer {
    /// Starts a server on a dedicated thread with its own runtime; returns once it is listening.
    pub fn start(config: Config) -> io::Result<BackgroundServer> {
        let runtime = runtime_builder(2).build()?;
        let server = runtime.block_on(Server::bind(config))?;
        let shared = server.shared();
        let thread = std::thread::Builder::new()
            .name("cachet-server".into())
            .spawn(move || {
                if let Err(error) = runtime.block_on(server.run()) {
                    tracing::error!("server stopped: {}", error);
                }
            })?;
        Ok(BackgroundServer {
            shared,
            thread: Some(thread),
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.shared.local_addr()
    }

    pub fn url(&self) -> String {
        format!("redis://{}", self.addr())
    }

    /// Stops the server and waits for its thread.
    pub fn shutdown(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        self.shared.request_shutdown();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for BackgroundServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Resolves once shutdown has been requested, even if that happened before
/// the receiver was created (a `changed()` alone would miss it).
pub async fn stopped(signal: &mut watch::Receiver<bool>) {
    let _ = signal.wait_for(|stop| *stop).await.map(|_| ());
}
