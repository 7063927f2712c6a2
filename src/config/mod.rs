//! Configuration: the typed `Config`, the table of directives that drives
//! config files, command-line `--directive value` pairs, CONFIG GET and
//! CONFIG SET alike, and the redis.conf syntax.
//!
//! Every directive is one row of `DIRECTIVES`: its name, aliases, whether
//! CONFIG SET may change it at run time, and how to read and write it. Adding
//! a directive is one row plus a field. This module never touches sockets or
//! the keyspace; the server reads the `Config` it produces.

use crate::events::notify::{format_classes, parse_classes};
use crate::glob::glob_match;
use crate::protocol::parser::split_args;
use std::fmt;

/// Everything that can be configured. `Config::default()` is Redis 7.0's
/// defaults where they apply.
#[derive(Debug, Clone)]
pub struct Config {
    pub port: u16,
    pub bind: Vec<String>,
    pub protected_mode: bool,
    pub requirepass: Option<String>,
    pub databases: usize,
    pub maxclients: usize,
    pub proto_max_bulk_len: u64,
    pub client_query_buffer_limit: u64,
    pub maxmemory: u64,
    pub maxmemory_policy: String,
    pub maxmemory_samples: u64,
    pub maxmemory_eviction_tenacity: u64,
    pub lfu_log_factor: u64,
    pub lfu_decay_time: u64,
    pub timeout: u64,
    /// `busy-reply-threshold` (alias `lua-time-limit`), in milliseconds.
    pub busy_reply_threshold: u64,
    pub tcp_keepalive: u64,
    pub hz: u64,
    pub loglevel: String,
    pub logfile: String,
    pub io_threads: usize,
    /// `busy-poll-us`: how long the serving worker keeps polling its
    /// sockets after a read before it sleeps (0: it sleeps at once).
    pub busy_poll_us: u64,
    /// `busy-poll-min-load`: the least share of worker time (percent) spent
    /// on real work at which busy polling is worth its CPU.
    pub busy_poll_min_load: u64,
    pub slowlog_log_slower_than: i64,
    pub slowlog_max_len: u64,
    pub latency_tracking: bool,
    pub latency_tracking_info_percentiles: Vec<f64>,
    /// The `notify-keyspace-events` classes as bits (`storage::class`).
    pub notify_keyspace_events: u32,
    /// `client-output-buffer-limit`: hard bytes, soft bytes, soft seconds
    /// for the normal, replica and pubsub classes.
    pub client_output_buffer_limit: [[u64; 3]; 3],
    pub tracking_table_max_keys: u64,
    pub save: String,
    pub appendonly: bool,
    pub dir: String,
    pub dbfilename: String,
    pub daemonize: bool,
    pub pidfile: String,
    pub lazyfree_lazy_user_del: bool,
    pub lazyfree_lazy_user_flush: bool,
    pub active_expire_effort: u64,
    /// Encoding thresholds (they decide what OBJECT ENCODING reports).
    pub hash_max_listpack_entries: u64,
    pub hash_max_listpack_value: u64,
    pub zset_max_listpack_entries: u64,
    pub zset_max_listpack_value: u64,
    pub set_max_intset_entries: u64,
    pub list_max_listpack_size: i64,
    pub list_compress_depth: u64,
    /// The upstream Redis/Valkey URL (empty: standalone).
    pub upstream: String,
    /// The longest a local copy lives (ms; 0: as long as its upstream TTL).
    pub upstream_max_ttl_ms: u64,
    /// Serve cached keys while the upstream is unreachable.
    pub upstream_serve_stale: bool,
    pub upstream_timeout_ms: u64,
    pub upstream_connect_timeout_ms: u64,
    /// How long the upstream may leave health checks unanswered before the
    /// link counts as down (copies dropped, reconnect).
    pub upstream_down_after_ms: u64,
    /// CLIENT TRACKING BCAST prefixes (empty: default tracking).
    pub upstream_tracking_prefixes: Vec<String>,
    /// The configuration file this config came from, for CONFIG REWRITE.
    pub config_file: Option<std::path::PathBuf>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            port: 6379,
            bind: vec!["127.0.0.1".into(), "-::1".into()],
            protected_mode: true,
            requirepass: None,
            databases: 16,
            maxclients: 10000,
            proto_max_bulk_len: 512 * 1024 * 1024,
            client_query_buffer_limit: 1024 * 1024 * 1024,
            maxmemory: 0,
            maxmemory_policy: "noeviction".into(),
            maxmemory_samples: 5,
            maxmemory_eviction_tenacity: 10,
            lfu_log_factor: 10,
            lfu_decay_time: 1,
            timeout: 0,
            busy_reply_threshold: 5000,
            tcp_keepalive: 300,
            hz: 10,
            loglevel: "notice".into(),
            logfile: String::new(),
            io_threads: 0,
            busy_poll_us: 100,
            busy_poll_min_load: 25,
            slowlog_log_slower_than: 10000,
            slowlog_max_len: 128,
            latency_tracking: true,
            latency_tracking_info_percentiles: vec![50.0, 99.0, 99.9],
            notify_keyspace_events: 0,
            client_output_buffer_limit: [
                [0, 0, 0],
                [256 * 1024 * 1024, 64 * 1024 * 1024, 60],
                [32 * 1024 * 1024, 8 * 1024 * 1024, 60],
            ],
            tracking_table_max_keys: 1_000_000,
            save: String::new(),
            appendonly: false,
            dir: ".".into(),
            dbfilename: "dump.rdb".into(),
            daemonize: false,
            pidfile: String::new(),
            lazyfree_lazy_user_del: false,
            lazyfree_lazy_user_flush: false,
            active_expire_effort: 1,
            hash_max_listpack_entries: 512,
            hash_max_listpack_value: 64,
            zset_max_listpack_entries: 128,
            zset_max_listpack_value: 64,
            set_max_intset_entries: 512,
            list_max_listpack_size: -2,
            list_compress_depth: 0,
            upstream: String::new(),
            upstream_max_ttl_ms: 0,
            upstream_serve_stale: false,
            upstream_timeout_ms: 500,
            upstream_connect_timeout_ms: 1000,
            upstream_down_after_ms: 3000,
            upstream_tracking_prefixes: Vec::new(),
            config_file: None,
        }
    }
}

/// A configuration error: where it was found and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub source: String,
    pub line: usize,
    pub text: String,
    pub reason: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "*** FATAL CONFIG FILE ERROR (cachet {}) ***\nReading the configuration file, at line {} of {}\n>>> '{}'\n{}",
            env!("CARGO_PKG_VERSION"),
            self.line,
            self.source,
            self.text,
            self.reason
        )
    }
}

impl std::error::Error for ConfigError {}

type Getter = fn(&Config) -> String;
type Setter = fn(&mut Config, &[String]) -> Result<(), String>;

/// One configuration directive.
pub struct Directive {
    pub name: &'static str,
    pub aliases: &'static [&'static str],
    /// CONFIG SET may change it while the server runs.
    pub mutable: bool,
    pub get: Getter,
    pub set: Setter,
}

fn one(values: &[String]) -> Result<&str, String> {
    match values {
        [v] => Ok(v.as_str()),
        _ => Err("wrong number of arguments".into()),
    }
}

fn parse_yes_no(values: &[String]) -> Result<bool, String> {
    match one(values)?.to_ascii_lowercase().as_str() {
        "yes" => Ok(true),
        "no" => Ok(false),
        _ => Err("argument must be 'yes' or 'no'".into()),
    }
}

/// An upstream URL: `redis://` or `rediss://` (TLS), or empty for none.
fn parse_upstream_url(url: &str) -> Result<String, String> {
    if url.is_empty() {
        return Ok(String::new());
    }
    if !(url.starts_with("redis://")
        || url.starts_with("rediss://")
        || url.starts_with("redis-cluster://"))
    {
        return Err("argument must be a redis://, rediss:// or redis-cluster:// URL".into());
    }
    let nodes = crate::upstream::link::node_urls(url)
        .ok_or_else(|| "a redis-cluster:// URL needs at least one host:port".to_string())?;
    for node in nodes {
        redis::IntoConnectionInfo::into_connection_info(node.as_str())
            .map_err(|e| format!("invalid upstream URL: {}", e))?;
    }
    Ok(url.to_string())
}

fn yes_no(b: bool) -> String {
    if b { "yes" } else { "no" }.into()
}

/// Parses sizes the way redis.conf does: `1k` = 1000, `1kb` = 1024, `100mb`, `1gb`.
pub fn parse_memory(text: &str) -> Option<u64> {
    let lower = text.to_ascii_lowercase();
    let split = lower
        .find(|c: char| !c.is_ascii_digit() && c != '-')
        .unwrap_or(lower.len());
    let (digits, unit) = lower.split_at(split);
    let number: i64 = digits.parse().ok()?;
    if number < 0 {
        return None;
    }
    let multiplier: u64 = match unit {
        "" | "b" => 1,
        "k" => 1000,
        "kb" => 1024,
        "m" => 1000 * 1000,
        "mb" => 1024 * 1024,
        "g" => 1000 * 1000 * 1000,
        "gb" => 1024 * 1024 * 1024,
        _ => return None,
    };
    (number as u64).checked_mul(multiplier)
}

fn parse_size(values: &[String]) -> Result<u64, String> {
    let v = one(values)?;
    parse_memory(v).ok_or_else(|| "argument must be a memory value".to_string())
}

fn parse_number<T: std::str::FromStr>(values: &[String], min: i64, max: i64) -> Result<T, String> {
    let v = one(values)?;
    let n: i64 = v
        .parse()
        .map_err(|_| "argument couldn't be parsed into an integer".to_string())?;
    if n < min || n > max {
        return Err(format!(
            "argument must be between {} and {} inclusive",
            min, max
        ));
    }
    v.parse::<T>()
        .map_err(|_| "argument out of range".to_string())
}

fn parse_enum(values: &[String], allowed: &[&str]) -> Result<String, String> {
    let v = one(values)?.to_ascii_lowercase();
    if allowed.contains(&v.as_str()) {
        Ok(v)
    } else {
        Err(format!(
            "argument(s) must be one of the following: {}",
            allowed.join(", ")
        ))
    }
}

const POLICIES: &[&str] = &[
    "volatile-lru",
    "volatile-lfu",
    "volatile-random",
    "volatile-ttl",
    "allkeys-lru",
    "allkeys-lfu",
    "allkeys-random",
    "noeviction",
];

/// Every directive cachet understands.
pub static DIRECTIVES: &[Directive] = &[
    Directive {
        name: "port",
        aliases: &[],
        mutable: true,
        get: |c| c.port.to_string(),
        set: |c, v| {
            c.port = parse_number(v, 0, 65535)?;
            Ok(())
        },
    },
    Directive {
        name: "bind",
        aliases: &[],
        mutable: true,
        get: |c| c.bind.join(" "),
        set: |c, v| {
            if v.is_empty() {
                return Err("wrong number of arguments".into());
            }
            c.bind = v
                .iter()
                .flat_map(|s| s.split_whitespace().map(String::from))
                .collect();
            Ok(())
        },
    },
    Directive {
        name: "upstream",
        aliases: &[],
        mutable: true,
        get: |c| c.upstream.clone(),
        set: |c, v| {
            c.upstream = parse_upstream_url(one(v)?)?;
            Ok(())
        },
    },
    Directive {
        name: "upstream-max-ttl",
        aliases: &[],
        mutable: true,
        get: |c| c.upstream_max_ttl_ms.to_string(),
        set: |c, v| {
            c.upstream_max_ttl_ms = parse_number(v, 0, i64::MAX / 2)?;
            Ok(())
        },
    },
    Directive {
        name: "upstream-serve-stale",
        aliases: &[],
        mutable: true,
        get: |c| yes_no(c.upstream_serve_stale),
        set: |c, v| {
            c.upstream_serve_stale = parse_yes_no(v)?;
            Ok(())
        },
    },
    Directive {
        name: "upstream-timeout",
        aliases: &[],
        mutable: true,
        get: |c| c.upstream_timeout_ms.to_string(),
        set: |c, v| {
            c.upstream_timeout_ms = parse_number(v, 1, 3_600_000)?;
            Ok(())
        },
    },
    Directive {
        name: "upstream-connect-timeout",
        aliases: &[],
        mutable: true,
        get: |c| c.upstream_connect_timeout_ms.to_string(),
        set: |c, v| {
            c.upstream_connect_timeout_ms = parse_number(v, 1, 3_600_000)?;
            Ok(())
        },
    },
    Directive {
        name: "upstream-down-after",
        aliases: &[],
        mutable: true,
        get: |c| c.upstream_down_after_ms.to_string(),
        set: |c, v| {
            c.upstream_down_after_ms = parse_number(v, 1, 3_600_000)?;
            Ok(())
        },
    },
    Directive {
        name: "upstream-tracking-prefixes",
        aliases: &[],
        mutable: true,
        get: |c| c.upstream_tracking_prefixes.join(" "),
        set: |c, v| {
            c.upstream_tracking_prefixes = v
                .iter()
                .flat_map(|p| p.split_whitespace())
                .map(str::to_string)
                .collect();
            Ok(())
        },
    },
    Directive {
        name: "protected-mode",
        aliases: &[],
        mutable: true,
        get: |c| yes_no(c.protected_mode),
        set: |c, v| {
            c.protected_mode = parse_yes_no(v)?;
            Ok(())
        },
    },
    Directive {
        name: "requirepass",
        aliases: &[],
        mutable: true,
        get: |c| c.requirepass.clone().unwrap_or_default(),
        set: |c, v| {
            let p = one(v)?;
            c.requirepass = if p.is_empty() {
                None
            } else {
                Some(p.to_string())
            };
            Ok(())
        },
    },
    Directive {
        name: "databases",
        aliases: &[],
        mutable: false,
        get: |c| c.databases.to_string(),
        set: |c, v| {
            c.databases = parse_number(v, 1, 1 << 20)?;
            Ok(())
        },
    },
    Directive {
        name: "maxclients",
        aliases: &[],
        mutable: true,
        get: |c| c.maxclients.to_string(),
        set: |c, v| {
            c.maxclients = parse_number(v, 1, i32::MAX as i64)?;
            Ok(())
        },
    },
    Directive {
        name: "proto-max-bulk-len",
        aliases: &[],
        mutable: true,
        get: |c| c.proto_max_bulk_len.to_string(),
        set: |c, v| {
            let n = parse_size(v)?;
            if n < 1024 * 1024 {
                return Err("argument must be a memory value of at least 1mb".into());
            }
            c.proto_max_bulk_len = n;
            Ok(())
        },
    },
    Directive {
        name: "client-query-buffer-limit",
        aliases: &[],
        mutable: true,
        get: |c| c.client_query_buffer_limit.to_string(),
        set: |c, v| {
            let n = parse_size(v)?;
            if n < 1024 * 1024 {
                return Err("argument must be a memory value of at least 1mb".into());
            }
            c.client_query_buffer_limit = n;
            Ok(())
        },
    },
    Directive {
        name: "maxmemory",
        aliases: &[],
        mutable: true,
        get: |c| c.maxmemory.to_string(),
        set: |c, v| {
            c.maxmemory = parse_size(v)?;
            Ok(())
        },
    },
    Directive {
        name: "maxmemory-policy",
        aliases: &[],
        mutable: true,
        get: |c| c.maxmemory_policy.clone(),
        set: |c, v| {
            c.maxmemory_policy = parse_enum(v, POLICIES)?;
            Ok(())
        },
    },
    Directive {
        name: "maxmemory-samples",
        aliases: &[],
        mutable: true,
        get: |c| c.maxmemory_samples.to_string(),
        set: |c, v| {
            c.maxmemory_samples = parse_number(v, 1, 64)?;
            Ok(())
        },
    },
    Directive {
        name: "maxmemory-eviction-tenacity",
        aliases: &[],
        mutable: true,
        get: |c| c.maxmemory_eviction_tenacity.to_string(),
        set: |c, v| {
            c.maxmemory_eviction_tenacity = parse_number(v, 0, 100)?;
            Ok(())
        },
    },
    Directive {
        name: "lfu-log-factor",
        aliases: &[],
        mutable: true,
        get: |c| c.lfu_log_factor.to_string(),
        set: |c, v| {
            c.lfu_log_factor = parse_number(v, 0, i32::MAX as i64)?;
            Ok(())
        },
    },
    Directive {
        name: "lfu-decay-time",
        aliases: &[],
        mutable: true,
        get: |c| c.lfu_decay_time.to_string(),
        set: |c, v| {
            c.lfu_decay_time = parse_number(v, 0, i32::MAX as i64)?;
            Ok(())
        },
    },
    Directive {
        name: "timeout",
        aliases: &[],
        mutable: true,
        get: |c| c.timeout.to_string(),
        set: |c, v| {
            c.timeout = parse_number(v, 0, i32::MAX as i64)?;
            Ok(())
        },
    },
    Directive {
        name: "busy-reply-threshold",
        aliases: &["lua-time-limit"],
        mutable: true,
        get: |c| c.busy_reply_threshold.to_string(),
        set: |c, v| {
            c.busy_reply_threshold = parse_number(v, 0, i64::MAX)?;
            Ok(())
        },
    },
    Directive {
        name: "tcp-keepalive",
        aliases: &[],
        mutable: true,
        get: |c| c.tcp_keepalive.to_string(),
        set: |c, v| {
            c.tcp_keepalive = parse_number(v, 0, i32::MAX as i64)?;
            Ok(())
        },
    },
    Directive {
        name: "hz",
        aliases: &[],
        mutable: true,
        get: |c| c.hz.to_string(),
        set: |c, v| {
            c.hz = parse_number::<u64>(v, 0, i32::MAX as i64)?.clamp(1, 500);
            Ok(())
        },
    },
    Directive {
        name: "loglevel",
        aliases: &[],
        mutable: true,
        get: |c| c.loglevel.clone(),
        set: |c, v| {
            c.loglevel = parse_enum(v, &["debug", "verbose", "notice", "warning", "nothing"])?;
            Ok(())
        },
    },
    Directive {
        name: "logfile",
        aliases: &[],
        mutable: false,
        get: |c| c.logfile.clone(),
        set: |c, v| {
            c.logfile = one(v)?.to_string();
            Ok(())
        },
    },
    Directive {
        name: "io-threads",
        aliases: &[],
        mutable: false,
        get: |c| c.io_threads.to_string(),
        set: |c, v| {
            c.io_threads = parse_number(v, 0, 128)?;
            Ok(())
        },
    },
    Directive {
        name: "busy-poll-us",
        aliases: &[],
        mutable: true,
        get: |c| c.busy_poll_us.to_string(),
        set: |c, v| {
            c.busy_poll_us = parse_number(v, 0, 100_000)?;
            Ok(())
        },
    },
    Directive {
        name: "busy-poll-min-load",
        aliases: &[],
        mutable: true,
        get: |c| c.busy_poll_min_load.to_string(),
        set: |c, v| {
            c.busy_poll_min_load = parse_number(v, 0, 100)?;
            Ok(())
        },
    },
    Directive {
        name: "slowlog-log-slower-than",
        aliases: &[],
        mutable: true,
        get: |c| c.slowlog_log_slower_than.to_string(),
        set: |c, v| {
            c.slowlog_log_slower_than = parse_number(v, -1, i64::MAX)?;
            Ok(())
        },
    },
    Directive {
        name: "slowlog-max-len",
        aliases: &[],
        mutable: true,
        get: |c| c.slowlog_max_len.to_string(),
        set: |c, v| {
            c.slowlog_max_len = parse_number(v, 0, i64::MAX)?;
            Ok(())
        },
    },
    Directive {
        name: "latency-tracking",
        aliases: &[],
        mutable: true,
        get: |c| yes_no(c.latency_tracking),
        set: |c, v| {
            c.latency_tracking = parse_yes_no(v)?;
            Ok(())
        },
    },
    Directive {
        name: "latency-tracking-info-percentiles",
        aliases: &[],
        mutable: true,
        get: |c| {
            c.latency_tracking_info_percentiles
                .iter()
                .map(|p| crate::util::format_trimmed_fixed(*p))
                .collect::<Vec<_>>()
                .join(" ")
        },
        set: |c, v| {
            let mut out = Vec::new();
            for item in v.iter().flat_map(|s| s.split_whitespace()) {
                let p: f64 = item.parse().map_err(|_| {
                    "Invalid latency-tracking-info-percentiles parameters".to_string()
                })?;
                if !(0.0..=100.0).contains(&p) {
                    return Err("Invalid latency-tracking-info-percentiles parameters".into());
                }
                out.push(p);
            }
            c.latency_tracking_info_percentiles = out;
            Ok(())
        },
    },
    Directive {
        name: "notify-keyspace-events",
        aliases: &[],
        mutable: true,
        get: |c| format_classes(c.notify_keyspace_events),
        set: |c, v| {
            c.notify_keyspace_events = parse_classes(one(v)?)
                .ok_or("Invalid event class character. Use 'Ag$lshzxeKEtmdn'.")?;
            Ok(())
        },
    },
    Directive {
        name: "client-output-buffer-limit",
        aliases: &[],
        mutable: true,
        get: |c| {
            let names = ["normal", "slave", "pubsub"];
            names
                .iter()
                .zip(c.client_output_buffer_limit)
                .map(|(name, [hard, soft, seconds])| {
                    format!("{} {} {} {}", name, hard, soft, seconds)
                })
                .collect::<Vec<_>>()
                .join(" ")
        },
        set: |c, v| {
            let words: Vec<&str> = v.iter().flat_map(|s| s.split_whitespace()).collect();
            if !words.len().is_multiple_of(4) {
                return Err("Wrong number of arguments in buffer limit configuration.".into());
            }
            let mut limits = c.client_output_buffer_limit;
            for group in words.chunks(4) {
                let class = match group[0].to_ascii_lowercase().as_str() {
                    "normal" => 0,
                    "slave" | "replica" => 1,
                    "pubsub" => 2,
                    _ => {
                        return Err(
                            "Invalid client class specified in buffer limit configuration.".into(),
                        )
                    }
                };
                let bad = || {
                    "Error in hard, soft or soft_seconds setting in buffer limit configuration."
                        .to_string()
                };
                let hard = parse_memory(group[1]).ok_or_else(bad)?;
                let soft = parse_memory(group[2]).ok_or_else(bad)?;
                let seconds: u64 = group[3].parse().map_err(|_| bad())?;
                limits[class] = [hard, soft, seconds];
            }
            c.client_output_buffer_limit = limits;
            Ok(())
        },
    },
    Directive {
        name: "tracking-table-max-keys",
        aliases: &[],
        mutable: true,
        get: |c| c.tracking_table_max_keys.to_string(),
        set: |c, v| {
            c.tracking_table_max_keys = parse_number(v, 0, i64::MAX)?;
            Ok(())
        },
    },
    Directive {
        name: "save",
        aliases: &[],
        mutable: true,
        get: |c| c.save.clone(),
        set: |c, v| {
            c.save = v.join(" ");
            Ok(())
        },
    },
    Directive {
        name: "appendonly",
        aliases: &[],
        mutable: true,
        get: |c| yes_no(c.appendonly),
        set: |c, v| {
            if parse_yes_no(v)? {
                return Err("cachet is an in-memory cache and does not persist data".into());
            }
            c.appendonly = false;
            Ok(())
        },
    },
    Directive {
        name: "dir",
        aliases: &[],
        mutable: true,
        get: |c| c.dir.clone(),
        set: |c, v| {
            c.dir = one(v)?.to_string();
            Ok(())
        },
    },
    Directive {
        name: "dbfilename",
        aliases: &[],
        mutable: true,
        get: |c| c.dbfilename.clone(),
        set: |c, v| {
            c.dbfilename = one(v)?.to_string();
            Ok(())
        },
    },
    Directive {
        name: "daemonize",
        aliases: &[],
        mutable: false,
        get: |c| yes_no(c.daemonize),
        set: |c, v| {
            if parse_yes_no(v)? {
                return Err(
                    "cachet runs in the foreground; use a service manager to daemonize".into(),
                );
            }
            c.daemonize = false;
            Ok(())
        },
    },
    Directive {
        name: "pidfile",
        aliases: &[],
        mutable: false,
        get: |c| c.pidfile.clone(),
        set: |c, v| {
            c.pidfile = one(v)?.to_string();
            Ok(())
        },
    },
    Directive {
        name: "lazyfree-lazy-user-del",
        aliases: &[],
        mutable: true,
        get: |c| yes_no(c.lazyfree_lazy_user_del),
        set: |c, v| {
            c.lazyfree_lazy_user_del = parse_yes_no(v)?;
            Ok(())
        },
    },
    Directive {
        name: "lazyfree-lazy-user-flush",
        aliases: &[],
        mutable: true,
        get: |c| yes_no(c.lazyfree_lazy_user_flush),
        set: |c, v| {
            c.lazyfree_lazy_user_flush = parse_yes_no(v)?;
            Ok(())
        },
    },
    Directive {
        name: "active-expire-effort",
        aliases: &[],
        mutable: true,
        get: |c| c.active_expire_effort.to_string(),
        set: |c, v| {
            c.active_expire_effort = parse_number(v, 1, 10)?;
            Ok(())
        },
    },
    Directive {
        name: "hash-max-listpack-entries",
        aliases: &["hash-max-ziplist-entries"],
        mutable: true,
        get: |c| c.hash_max_listpack_entries.to_string(),
        set: |c, v| {
            c.hash_max_listpack_entries = parse_number(v, 0, i64::MAX)?;
            Ok(())
        },
    },
    Directive {
        name: "hash-max-listpack-value",
        aliases: &["hash-max-ziplist-value"],
        mutable: true,
        get: |c| c.hash_max_listpack_value.to_string(),
        set: |c, v| {
            c.hash_max_listpack_value = parse_number(v, 0, i64::MAX)?;
            Ok(())
        },
    },
    Directive {
        name: "zset-max-listpack-entries",
        aliases: &["zset-max-ziplist-entries"],
        mutable: true,
        get: |c| c.zset_max_listpack_entries.to_string(),
        set: |c, v| {
            c.zset_max_listpack_entries = parse_number(v, 0, i64::MAX)?;
            Ok(())
        },
    },
    Directive {
        name: "zset-max-listpack-value",
        aliases: &["zset-max-ziplist-value"],
        mutable: true,
        get: |c| c.zset_max_listpack_value.to_string(),
        set: |c, v| {
            c.zset_max_listpack_value = parse_number(v, 0, i64::MAX)?;
            Ok(())
        },
    },
    Directive {
        name: "set-max-intset-entries",
        aliases: &[],
        mutable: true,
        get: |c| c.set_max_intset_entries.to_string(),
        set: |c, v| {
            c.set_max_intset_entries = parse_number(v, 0, i64::MAX)?;
            Ok(())
        },
    },
    Directive {
        name: "list-max-listpack-size",
        aliases: &["list-max-ziplist-size"],
        mutable: true,
        get: |c| c.list_max_listpack_size.to_string(),
        set: |c, v| {
            c.list_max_listpack_size = parse_number(v, -5, i64::MAX)?;
            Ok(())
        },
    },
    Directive {
        name: "list-compress-depth",
        aliases: &[],
        mutable: true,
        get: |c| c.list_compress_depth.to_string(),
        set: |c, v| {
            c.list_compress_depth = parse_number(v, 0, i64::MAX)?;
            Ok(())
        },
    },
];

pub fn find_directive(name: &str) -> Option<&'static Directive> {
    DIRECTIVES.iter().find(|d| {
        d.name.eq_ignore_ascii_case(name) || d.aliases.iter().any(|a| a.eq_ignore_ascii_case(name))
    })
}

impl Config {
    /// Applies one directive with its values.
    pub fn apply(&mut self, name: &str, values: &[String]) -> Result<(), String> {
        let directive = find_directive(name)
            .ok_or_else(|| "Bad directive or wrong number of arguments".to_string())?;
        (directive.set)(self, values)
    }

    /// `(name, value)` for every directive whose name or alias matches `pattern`.
    pub fn matching(&self, pattern: &str) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        for d in DIRECTIVES {
            if glob_match(pattern.as_bytes(), d.name.as_bytes(), true) {
                out.push((d.name, (d.get)(self)));
            }
            // Like Redis, aliases answer only to their exact name, not to globs.
            for alias in d.aliases {
                if pattern.eq_ignore_ascii_case(alias) {
                    out.push((alias, (d.get)(self)));
                }
            }
        }
        out
    }

    /// Applies a redis.conf-syntax text. `source` names it in errors.
    pub fn apply_text(&mut self, text: &str, source: &str) -> Result<(), ConfigError> {
        for (index, line) in text.lines().enumerate() {
            let trimmed = line.trim();
            if trimmed.is_empty() || trimmed.starts_with('#') {
                continue;
            }
            let error = |reason: String| ConfigError {
                source: source.to_string(),
                line: index + 1,
                text: trimmed.to_string(),
                reason,
            };
            let words: Vec<String> = split_args(trimmed.as_bytes())
                .ok_or_else(|| error("Unbalanced quotes in configuration line".into()))?
                .iter()
                .map(|word| String::from_utf8_lossy(word).into_owned())
                .collect();
            let Some((name, values)) = words.split_first() else {
                continue;
            };
            if name.eq_ignore_ascii_case("include") {
                let path = one(values).map_err(error)?;
                let included = std::fs::read_to_string(path)
                    .map_err(|e| error(format!("Can't open the include file: {}", e)))?;
                self.apply_text(&included, path)?;
                continue;
            }
            self.apply(name, values).map_err(error)?;
        }
        Ok(())
    }

    /// Builds a config the way `redis-server` reads its command line: an
    /// optional config file first, then `--directive value ...` pairs, which
    /// win over the file.
    pub fn from_args(args: &[String]) -> Result<Config, ConfigError> {
        let mut config = Config::default();
        let mut rest = args;
        if let Some(first) = args.first() {
            if !first.starts_with("--") {
                let text = std::fs::read_to_string(first).map_err(|e| ConfigError {
                    source: first.clone(),
                    line: 0,
                    text: String::new(),
                    reason: format!("Fatal error, can't open config file '{}': {}", first, e),
                })?;
                config.apply_text(&text, first)?;
                config.config_file = Some(std::path::PathBuf::from(first));
                rest = &args[1..];
            }
        }
        // Group `--name v1 v2` the way redis-server does, then apply as config lines.
        let mut lines: Vec<Vec<String>> = Vec::new();
        for arg in rest {
            if let Some(name) = arg.strip_prefix("--") {
                lines.push(vec![name.to_string()]);
            } else if let Some(line) = lines.last_mut() {
                line.push(arg.clone());
            } else {
                return Err(ConfigError {
                    source: "command line".into(),
                    line: 0,
                    text: arg.clone(),
                    reason: "arguments after the config file must be --directive value pairs"
                        .into(),
                });
            }
        }
        for (i, line) in lines.iter().enumerate() {
            let (name, values) = line.split_first().unwrap_or_else(|| unreachable!());
            // `--save ""` arrives as an empty value; treat an absent value likewise.
            let values: Vec<String> = if values.is_empty() {
                vec![String::new()]
            } else {
                values.to_vec()
            };
            config.apply(name, &values).map_err(|reason| ConfigError {
                source: "command line".into(),
                line: i + 1,
                text: line.join(" "),
                reason,
            })?;
        }
        Ok(config)
    }

    /// The redis.conf text that reproduces this config (CONFIG REWRITE).
    pub fn to_text(&self) -> String {
        let mut out = String::from("# Written by cachet's CONFIG REWRITE\n");
        for d in DIRECTIVES {
            let value = (d.get)(self);
            if value.is_empty() || value.contains(' ') {
                out.push_str(&format!("{} \"{}\"\n", d.name, value));
            } else {
                out.push_str(&format!("{} {}\n", d.name, value));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_like_redis() {
        assert_eq!(parse_memory("100mb"), Some(100 * 1024 * 1024));
        assert_eq!(parse_memory("1gb"), Some(1 << 30));
        assert_eq!(parse_memory("1k"), Some(1000));
        assert_eq!(parse_memory("12"), Some(12));
        assert_eq!(parse_memory("12xb"), None);
    }

    #[test]
    fn command_line_overrides_and_groups_values() {
        let args: Vec<String> = [
            "--port",
            "7000",
            "--maxmemory",
            "100mb",
            "--bind",
            "127.0.0.1",
            "::1",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let c = Config::from_args(&args).unwrap();
        assert_eq!(c.port, 7000);
        assert_eq!(c.maxmemory, 100 * 1024 * 1024);
        assert_eq!(c.bind, vec!["127.0.0.1", "::1"]);
    }

    #[test]
    fn bad_line_names_line_and_reason() {
        let mut c = Config::default();
        let err = c
            .apply_text("port 6379\n\nmaxmemory lots\n", "test.conf")
            .unwrap_err();
        assert_eq!(err.line, 3);
        assert!(err.reason.contains("memory value"));
    }
}
