//! The upstream tier: cachet as a local L1 in front of a shared Redis or
//! Valkey (`upstream redis://host:port`).
//!
//! What it owns:
//! - the link (`link.rs`): the connections to the upstream, their
//!   supervision (health checks, reconnects with backoff) and the
//!   invalidations that CLIENT TRACKING sends;
//! - the fills (`fill.rs`): copying an upstream key into the local keyspace
//!   so that reads are served locally, one fetch per key however many
//!   clients miss on it at once, and never over a newer invalidation;
//! - routing (`route.rs`): which commands run on local copies, which are
//!   forwarded, and which need a fill first;
//! - replies (`reply.rs`): the upstream's answers, written for the client's
//!   protocol;
//! - the figures of INFO's `upstream` section.
//!
//! What it must not touch: command handlers (they run through
//! `commands::dispatch`, on local copies only), the client socket (the
//! connection loop writes what this module answers), and the local keyspace
//! other than through `DbShard`'s put and drop of copies.
//!
//! The rules that keep the copies coherent, in plain words:
//! - A copy is only ever made from a read on the tracking connection, so
//!   the upstream remembers that cachet holds it and sends an invalidation
//!   when anyone changes it, after the reply of that read on the same socket.
//! - A fill registers a token before it sends its read. An invalidation
//!   that arrives for the key removes the token (and any copy) under the
//!   same lock as the fill installs under, so a fill whose key changed
//!   after its read never installs: the race of Lettuce issue 3481.
//! - A write drops the copies of its keys before it is sent and again when
//!   the upstream answers, and voids fills in flight for them, so a client
//!   never reads its own acknowledged write's old value.
//! - Each connection has a generation. When the link drops, the generation
//!   changes: fills of the old one cannot install, and every copy is
//!   dropped before the new link serves anything, since invalidations may
//!   have been missed.
//! - Without tracking (an upstream that cannot do it), every copy lives at
//!   most `upstream-max-ttl`; that bounds staleness, and INFO says so.

pub mod fill;
pub mod link;
pub mod reply;
pub mod route;
pub mod slot;

use hdrhistogram::Histogram;
use parking_lot::{Mutex, RwLock};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

pub use route::{Request, Route};

/// Where the upstream is and how cachet talks to it (from the config).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub url: String,
    /// BCAST prefixes for CLIENT TRACKING; empty: default tracking mode.
    pub prefixes: Vec<String>,
    pub connect_timeout: Duration,
}

/// Why a command could not be answered by the upstream.
#[derive(Debug, Clone)]
pub enum UpstreamError {
    /// There is no link (never connected, or it dropped).
    Down { address: String, reason: String },
    /// The upstream did not answer in time.
    Timeout { address: String, ms: u64 },
    /// The link failed while the command was in flight.
    Failed { address: String, reason: String },
}

impl UpstreamError {
    /// The error line a client gets.
    pub fn reply_text(&self) -> String {
        match self {
            UpstreamError::Down { address, reason } => {
                format!("UPSTREAMDOWN upstream {} is unreachable: {}", address, reason)
            }
            UpstreamError::Timeout { address, ms } => format!(
                "UPSTREAMTIMEOUT upstream {} did not answer within {} ms; a write may or may not have been applied",
                address, ms
            ),
            UpstreamError::Failed { address, reason } => format!(
                "UPSTREAMDOWN upstream {} failed: {}; a write may or may not have been applied",
                address, reason
            ),
        }
    }
}

/// INFO's counters.
#[derive(Default)]
pub struct Stats {
    pub hits: AtomicU64,
    pub misses: AtomicU64,
    pub fills: AtomicU64,
    pub fills_discarded: AtomicU64,
    pub invalidations: AtomicU64,
    pub writes_forwarded: AtomicU64,
    pub write_errors: AtomicU64,
    pub reads_forwarded: AtomicU64,
    pub read_errors: AtomicU64,
    pub reconnects: AtomicU64,
    /// Round trips in microseconds.
    round_trips: Mutex<Option<Histogram<u64>>>,
}

impl Stats {
    pub fn record_round_trip(&self, elapsed: Duration) {
        let micros = (elapsed.as_micros() as u64).clamp(1, 60_000_000);
        let mut histogram = self.round_trips.lock();
        let histogram = histogram.get_or_insert_with(|| {
            // 1 µs to 60 s at 3 significant digits: a fixed, small table.
            Histogram::new_with_bounds(1, 60_000_000, 3).expect("valid histogram bounds")
        });
        let _ = histogram.record(micros);
    }

    /// p50, p99, p99.9 and the count, in microseconds.
    pub fn round_trip_percentiles(&self) -> Option<(u64, u64, u64, u64)> {
        let histogram = self.round_trips.lock();
        let histogram = histogram.as_ref()?;
        Some((
            histogram.value_at_quantile(0.50),
            histogram.value_at_quantile(0.99),
            histogram.value_at_quantile(0.999),
            histogram.len(),
        ))
    }
}

/// How the link is doing, for INFO and for error replies.
#[derive(Debug, Clone, Default)]
pub struct Status {
    pub address: String,
    pub state: &'static str,
    pub last_error: String,
    /// `default`, `bcast`, or `off` (the upstream cannot track).
    pub tracking: &'static str,
    pub connected_since_ms: u64,
}

/// Settings CONFIG SET changes while the link runs.
pub struct Settings {
    pub serve_stale: AtomicBool,
    pub max_ttl_ms: AtomicU64,
    pub timeout_ms: AtomicU64,
}

/// The upstream tier's shared state (one per server).
pub struct Upstream {
    configured: AtomicBool,
    /// The upstream is a Redis Cluster (`redis-cluster://`).
    cluster: AtomicBool,
    target: watch::Sender<Option<Target>>,
    link: RwLock<Option<Arc<link::Link>>>,
    pub status: Mutex<Status>,
    /// Bumped whenever a link comes up or goes down.
    generation: AtomicU64,
    pub fills: fill::Fills,
    pub stats: Stats,
    pub settings: Settings,
}

impl Default for Upstream {
    fn default() -> Self {
        Upstream {
            configured: AtomicBool::new(false),
            cluster: AtomicBool::new(false),
            target: watch::channel(None).0,
            link: RwLock::new(None),
            status: Mutex::new(Status::default()),
            generation: AtomicU64::new(0),
            fills: fill::Fills::default(),
            stats: Stats::default(),
            settings: Settings {
                serve_stale: AtomicBool::new(false),
                max_ttl_ms: AtomicU64::new(0),
                timeout_ms: AtomicU64::new(500),
            },
        }
    }
}

impl Upstream {
    /// Whether an upstream is configured (commands are routed through it).
    #[inline]
    pub fn is_configured(&self) -> bool {
        self.configured.load(Ordering::Relaxed)
    }

    /// Applies the `upstream*` directives; a changed target restarts the link.
    pub fn configure(&self, config: &crate::config::Config) {
        let settings = &self.settings;
        settings
            .serve_stale
            .store(config.upstream_serve_stale, Ordering::Relaxed);
        settings
            .max_ttl_ms
            .store(config.upstream_max_ttl_ms, Ordering::Relaxed);
        settings
            .timeout_ms
            .store(config.upstream_timeout_ms.max(1), Ordering::Relaxed);
        let target = (!config.upstream.is_empty()).then(|| Target {
            url: config.upstream.clone(),
            prefixes: config.upstream_tracking_prefixes.clone(),
            connect_timeout: Duration::from_millis(config.upstream_connect_timeout_ms.max(1)),
        });
        self.configured.store(target.is_some(), Ordering::Relaxed);
        self.cluster.store(
            config.upstream.starts_with("redis-cluster://"),
            Ordering::Relaxed,
        );
        self.target.send_if_modified(|current| {
            if *current == target {
                return false;
            }
            *current = target;
            true
        });
    }

    /// Whether the upstream is a cluster (same-slot rules apply).
    pub fn is_cluster(&self) -> bool {
        self.cluster.load(Ordering::Relaxed)
    }

    pub fn timeout(&self) -> Duration {
        Duration::from_millis(self.settings.timeout_ms.load(Ordering::Relaxed))
    }

    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    fn bump_generation(&self) -> u64 {
        self.generation.fetch_add(1, Ordering::AcqRel) + 1
    }

    /// The live link, or why there is none.
    pub fn current(&self) -> Result<Arc<link::Link>, UpstreamError> {
        if let Some(link) = self.link.read().as_ref() {
            return Ok(link.clone());
        }
        let status = self.status.lock();
        Err(UpstreamError::Down {
            address: status.address.clone(),
            reason: if status.last_error.is_empty() {
                "not connected yet".into()
            } else {
                status.last_error.clone()
            },
        })
    }

    /// Whether the link is up now.
    pub fn is_up(&self) -> bool {
        self.link.read().is_some()
    }

    /// The lifetime cap for a copy, if any (ms).
    pub fn copy_ttl_cap(&self, tracking: bool) -> u64 {
        let cap = self.settings.max_ttl_ms.load(Ordering::Relaxed);
        if cap == 0 && !tracking {
            // Nothing else would ever refresh a copy.
            return link::UNTRACKED_DEFAULT_TTL_MS;
        }
        cap
    }

    /// INFO's `upstream` section.
    pub fn info_section(&self, out: &mut String) {
        use std::fmt::Write;
        let status = self.status.lock().clone();
        let configured = self.is_configured();
        let _ = writeln!(out, "upstream_configured:{}", configured as u8);
        if !configured {
            return;
        }
        let stats = &self.stats;
        let load = |c: &AtomicU64| c.load(Ordering::Relaxed);
        let _ = writeln!(out, "upstream_address:{}", status.address);
        let _ = writeln!(out, "upstream_link_status:{}", status.state);
        let _ = writeln!(out, "upstream_tracking:{}", status.tracking);
        let _ = writeln!(
            out,
            "upstream_max_ttl_ms:{}",
            self.copy_ttl_cap(status.tracking != "off")
        );
        let _ = writeln!(
            out,
            "upstream_serve_stale:{}",
            if self.settings.serve_stale.load(Ordering::Relaxed) {
                "yes"
            } else {
                "no"
            }
        );
        let _ = writeln!(out, "upstream_last_error:{}", status.last_error);
        let _ = writeln!(out, "upstream_l1_hits:{}", load(&stats.hits));
        let _ = writeln!(out, "upstream_l1_misses:{}", load(&stats.misses));
        let _ = writeln!(out, "upstream_fills:{}", load(&stats.fills));
        let _ = writeln!(
            out,
            "upstream_fills_discarded:{}",
            load(&stats.fills_discarded)
        );
        let _ = writeln!(out, "upstream_invalidations:{}", load(&stats.invalidations));
        let _ = writeln!(
            out,
            "upstream_writes_forwarded:{}",
            load(&stats.writes_forwarded)
        );
        let _ = writeln!(out, "upstream_write_errors:{}", load(&stats.write_errors));
        let _ = writeln!(
            out,
            "upstream_reads_forwarded:{}",
            load(&stats.reads_forwarded)
        );
        let _ = writeln!(out, "upstream_read_errors:{}", load(&stats.read_errors));
        let _ = writeln!(out, "upstream_reconnects:{}", load(&stats.reconnects));
        let (p50, p99, p999, count) = stats.round_trip_percentiles().unwrap_or_default();
        let _ = writeln!(out, "upstream_round_trips:{}", count);
        let _ = writeln!(
            out,
            "upstream_round_trip_usec_percentiles:p50={},p99={},p99.9={}",
            p50, p99, p999
        );
    }
}
