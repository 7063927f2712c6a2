//! Counters and latency figures for INFO: per-command calls, time and
//! latency percentiles (hdrhistogram), error counts, and server-wide totals.
//!
//! Hot-path cost matters here: every command records itself. Per-command
//! figures are striped (a connection always uses the stripe of its id), so two
//! worker threads rarely touch the same cache line; keyspace hits and misses
//! are summed per connection and flushed once per batch of commands. This
//! module only counts; it never touches the keyspace or sockets.

pub mod clock;
pub mod memory;

use hdrhistogram::Histogram;
use parking_lot::Mutex;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};

const STRIPES: usize = 8;

#[repr(align(128))]
struct Padded<T>(T);

#[derive(Default)]
struct Stripe {
    calls: u64,
    usec: u64,
    rejected: u64,
    failed: u64,
    latency: Option<Histogram<u64>>,
}

fn new_histogram() -> Option<Histogram<u64>> {
    // 1 µs to 1000 s with 2 significant figures, like Redis's latency tracking.
    Histogram::new_with_bounds(1, 1_000_000_000, 2).ok()
}

/// Figures for one command.
pub struct CommandStats {
    stripes: Box<[Padded<Mutex<Stripe>>]>,
}

/// A command's figures summed over stripes.
pub struct CommandTotals {
    pub calls: u64,
    pub usec: u64,
    pub rejected: u64,
    pub failed: u64,
    pub latency: Option<Histogram<u64>>,
}

impl Default for CommandStats {
    fn default() -> Self {
        CommandStats {
            stripes: (0..STRIPES)
                .map(|_| Padded(Mutex::new(Stripe::default())))
                .collect(),
        }
    }
}

impl CommandStats {
    /// Records a call refused before it ran (arity, unknown subcommand, auth, ...).
    pub fn record_rejected(&self, stripe: usize) {
        self.stripes[stripe % STRIPES].0.lock().rejected += 1;
    }

    pub fn totals(&self) -> CommandTotals {
        let mut totals = CommandTotals {
            calls: 0,
            usec: 0,
            rejected: 0,
            failed: 0,
            latency: None,
        };
        for stripe in self.stripes.iter() {
            let s = stripe.0.lock();
            totals.calls += s.calls;
            totals.usec += s.usec;
            totals.rejected += s.rejected;
            totals.failed += s.failed;
            if let Some(h) = &s.latency {
                match totals.latency.as_mut() {
                    None => totals.latency = Some(h.clone()),
                    Some(t) => {
                        let _ = t.add(h);
                    }
                }
            }
        }
        totals
    }

    pub fn reset(&self) {
        for stripe in self.stripes.iter() {
            *stripe.0.lock() = Stripe::default();
        }
    }
}

/// Server-wide totals.
#[derive(Default)]
pub struct ServerStats {
    pub connections_received: AtomicU64,
    pub rejected_connections: AtomicU64,
    pub commands_processed: AtomicU64,
    pub keyspace_hits: AtomicU64,
    pub keyspace_misses: AtomicU64,
    pub net_input_bytes: AtomicU64,
    pub net_output_bytes: AtomicU64,
    pub error_replies: AtomicU64,
    pub expired_keys_reset_base: AtomicU64,
    /// `evicted_keys` at the last CONFIG RESETSTAT (INFO reports the difference).
    pub evicted_keys_reset_base: AtomicU64,
    errors_by_code: Mutex<BTreeMap<String, u64>>,
}

/// One command call, kept by its connection until the end of the batch.
#[derive(Debug, Clone, Copy)]
pub struct CallRecord {
    pub command: usize,
    pub usec: u64,
    pub failed: bool,
}

impl CommandStats {
    /// Records calls of this command; `calls` all have the same command.
    pub fn record_calls(&self, stripe: usize, calls: &[CallRecord], track_latency: bool) {
        let mut s = self.stripes[stripe % STRIPES].0.lock();
        for call in calls {
            s.calls += 1;
            s.usec += call.usec;
            if call.failed {
                s.failed += 1;
            }
            if track_latency {
                if s.latency.is_none() {
                    s.latency = new_histogram();
                }
                if let Some(h) = s.latency.as_mut() {
                    let _ = h.record(call.usec.max(1));
                }
            }
        }
    }
}

/// Figures a connection sums locally and hands over once per batch.
#[derive(Default)]
pub struct LocalCounters {
    /// Calls since the last flush, for the per-command figures.
    pub calls: Vec<CallRecord>,
    pub commands: u64,
    pub hits: u64,
    pub misses: u64,
    pub input_bytes: u64,
    pub output_bytes: u64,
}

impl ServerStats {
    pub fn flush(&self, local: &mut LocalCounters) {
        if local.commands != 0 {
            self.commands_processed
                .fetch_add(local.commands, Ordering::Relaxed);
        }
        if local.hits != 0 {
            self.keyspace_hits.fetch_add(local.hits, Ordering::Relaxed);
        }
        if local.misses != 0 {
            self.keyspace_misses
                .fetch_add(local.misses, Ordering::Relaxed);
        }
        if local.input_bytes != 0 {
            self.net_input_bytes
                .fetch_add(local.input_bytes, Ordering::Relaxed);
        }
        if local.output_bytes != 0 {
            self.net_output_bytes
                .fetch_add(local.output_bytes, Ordering::Relaxed);
        }
        local.commands = 0;
        local.hits = 0;
        local.misses = 0;
        local.input_bytes = 0;
        local.output_bytes = 0;
    }

    pub fn record_error(&self, code: &str) {
        self.error_replies.fetch_add(1, Ordering::Relaxed);
        let mut map = self.errors_by_code.lock();
        // Bounded like Redis's errorstats (128 distinct codes).
        if map.len() < 128 || map.contains_key(code) {
            *map.entry(code.to_string()).or_insert(0) += 1;
        }
    }

    pub fn errors_by_code(&self) -> Vec<(String, u64)> {
        self.errors_by_code
            .lock()
            .iter()
            .map(|(k, v)| (k.clone(), *v))
            .collect()
    }

    pub fn reset(&self) {
        for counter in [
            &self.connections_received,
            &self.rejected_connections,
            &self.commands_processed,
            &self.keyspace_hits,
            &self.keyspace_misses,
            &self.net_input_bytes,
            &self.net_output_bytes,
            &self.error_replies,
        ] {
            counter.store(0, Ordering::Relaxed);
        }
        self.errors_by_code.lock().clear();
    }
}
