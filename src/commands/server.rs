//! The server family: INFO, CONFIG, COMMAND, SLOWLOG, TIME, LASTSAVE,
//! SHUTDOWN, MONITOR, DEBUG, and FUNCTION FLUSH. These read the server's
//! shared state (configuration, statistics, the command table); INFO also
//! reads the locked keyspace for its keyspace section.

use super::table::{flags as cmd_flags, key_flags, BeginSearch, CommandSpec, FindKeys, KeySpec};
use super::{parse_int, Ctx};
use crate::errors::{CommandError, CommandResult};
use crate::protocol::Args;
use crate::server::client::flags;
use crate::stats::memory;
use crate::util::{bytes_human, eq_ignore_case};
use std::fmt::Write as _;
use std::sync::atomic::Ordering;

/// Writes a HELP reply: a header line, the given lines, and the HELP line.
pub fn write_help(ctx: &mut Ctx, command: &str, lines: &[&str]) {
    let header = format!(
        "{} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        command
    );
    ctx.reply.array_len(lines.len() + 3);
    ctx.reply.simple(&header);
    for line in lines {
        ctx.reply.simple(line);
    }
    ctx.reply.simple("HELP");
    ctx.reply.simple("    Prints this help.");
}

/// A container command (CONFIG, CLIENT, ...) called without a subcommand.
pub fn container_without_subcommand(ctx: &mut Ctx, args: Args) -> CommandResult {
    let name = String::from_utf8_lossy(&args[0]).to_lowercase();
    let _ = ctx;
    Err(CommandError::WrongArity(name))
}

// ---- INFO -------------------------------------------------------------

/// INFO's sections in Redis's order (genRedisInfoString), and whether a
/// plain INFO (or INFO default) includes them; `all` adds the rest.
const SECTIONS: &[(&str, bool)] = &[
    ("server", true),
    ("clients", true),
    ("memory", true),
    ("persistence", true),
    ("stats", true),
    ("replication", true),
    ("cpu", true),
    ("module_list", true),
    ("modules", false),
    ("commandstats", false),
    ("errorstats", true),
    ("latencystats", false),
    ("cluster", true),
    // In a plain INFO only when an upstream is configured.
    ("upstream", false),
    ("keyspace", true),
];

fn default_sections() -> impl Iterator<Item = String> {
    SECTIONS
        .iter()
        .filter(|(_, default)| *default)
        .map(|(name, _)| name.to_string())
}

fn all_sections() -> impl Iterator<Item = String> {
    SECTIONS
        .iter()
        // `upstream` joins when one is configured (see `info`).
        .filter(|(name, _)| *name != "modules" && *name != "upstream")
        .map(|(name, _)| name.to_string())
}

pub fn info(ctx: &mut Ctx, args: Args) -> CommandResult {
    // Figures of this batch's earlier commands count too.
    ctx.shared.flush_client_stats(ctx.client);
    let mut sections: Vec<String> = Vec::new();
    for arg in args.from(1).iter() {
        let name = String::from_utf8_lossy(arg).to_lowercase();
        match name.as_str() {
            "default" => sections.extend(default_sections()),
            "all" | "everything" => sections.extend(all_sections()),
            _ => sections.push(name),
        }
    }
    if args.len() == 1 {
        sections.extend(default_sections());
    }
    if ctx.shared.upstream.is_configured()
        && sections.iter().any(|s| s == "keyspace")
        && !sections.iter().any(|s| s == "upstream")
    {
        sections.push("upstream".into());
    }
    let mut text = String::new();
    for (name, _) in SECTIONS {
        let name = *name;
        if !sections.iter().any(|s| s == name) {
            continue;
        }
        let body = match name {
            "server" => info_server(ctx),
            "clients" => info_clients(ctx),
            "memory" => info_memory(ctx),
            "persistence" => info_persistence(ctx),
            "stats" => info_stats(ctx),
            "replication" => info_replication(),
            "cpu" => info_cpu(),
            "module_list" | "modules" => String::new(),
            "errorstats" => info_errorstats(ctx),
            "cluster" => "cluster_enabled:0\r\n".to_string(),
            "keyspace" => info_keyspace(ctx),
            "upstream" => {
                let mut body = String::new();
                ctx.shared.upstream.info_section(&mut body);
                body.replace('\n', "\r\n")
            }
            "commandstats" => info_commandstats(ctx),
            "latencystats" => info_latencystats(ctx),
            _ => continue,
        };
        if !text.is_empty() {
            text.push_str("\r\n");
        }
        let title = match name {
            "module_list" | "modules" => "Modules".to_string(),
            // With an upstream the local keyspace holds copies, a subset.
            "keyspace" if ctx.shared.upstream.is_configured() => {
                "Keyspace (local copies of upstream keys)".to_string()
            }
            "cpu" => "CPU".to_string(),
            other => {
                let mut chars = other.chars();
                match chars.next() {
                    Some(first) => first.to_uppercase().collect::<String>() + chars.as_str(),
                    None => String::new(),
                }
            }
        };
        let _ = write!(text, "# {}\r\n{}", title, body);
    }
    ctx.reply.verbatim(&text);
    Ok(())
}

fn info_server(ctx: &Ctx) -> String {
    let shared = ctx.shared;
    let config = shared.config.read();
    let now = crate::util::now_us();
    let uptime = (now / 1000).saturating_sub(shared.started_ms) / 1000;
    let executable = std::env::current_exe()
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    let config_file = config
        .config_file
        .as_ref()
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    format!(
        "redis_version:{}\r\ncachet_version:{}\r\nredis_git_sha1:00000000\r\nredis_git_dirty:0\r\nredis_build_id:0\r\nredis_mode:standalone\r\nos:{} {}\r\narch_bits:64\r\nmonotonic_clock:POSIX clock_gettime\r\nmultiplexing_api:epoll\r\natomicvar_api:c11-builtin\r\ngcc_version:0.0.0\r\nprocess_id:{}\r\nprocess_supervised:no\r\nrun_id:{}\r\ntcp_port:{}\r\nserver_time_usec:{}\r\nuptime_in_seconds:{}\r\nuptime_in_days:{}\r\nhz:{}\r\nconfigured_hz:{}\r\nlru_clock:{}\r\nexecutable:{}\r\nconfig_file:{}\r\nio_threads_active:0\r\n",
        crate::REDIS_VERSION,
        env!("CARGO_PKG_VERSION"),
        std::env::consts::OS,
        std::env::consts::ARCH,
        std::process::id(),
        shared.run_id,
        shared.local_addr().port(),
        now,
        uptime,
        uptime / 86400,
        config.hz,
        config.hz,
        (now / 1_000_000) & ((1 << 24) - 1),
        executable,
        config_file,
    )
}

fn info_clients(ctx: &Ctx) -> String {
    let config = ctx.shared.config.read();
    format!(
        "connected_clients:{}\r\ncluster_connections:0\r\nmaxclients:{}\r\nclient_recent_max_input_buffer:0\r\nclient_recent_max_output_buffer:0\r\nblocked_clients:{}\r\ntracking_clients:{}\r\nclients_in_timeout_table:0\r\n",
        ctx.shared.clients.len(),
        config.maxclients,
        ctx.shared.blocking.blocked_clients(),
        ctx.shared.tracking.client_count(),
    )
}

fn info_memory(ctx: &Ctx) -> String {
    let config = ctx.shared.config.read();
    ctx.shared.sample_memory();
    let used = ctx.shared.used_memory.load(Ordering::Relaxed);
    let peak = ctx.shared.peak_memory.load(Ordering::Relaxed);
    let rss = memory::resident_set_size();
    let ratio = if used > 0 {
        rss as f64 / used as f64
    } else {
        0.0
    };
    let lines = [
        ("used_memory", used.to_string()),
        ("used_memory_human", bytes_human(used)),
        ("used_memory_rss", rss.to_string()),
        ("used_memory_rss_human", bytes_human(rss)),
        ("used_memory_peak", peak.to_string()),
        ("used_memory_peak_human", bytes_human(peak)),
        (
            "used_memory_peak_perc",
            format!(
                "{:.2}%",
                if peak > 0 {
                    used as f64 * 100.0 / peak as f64
                } else {
                    100.0
                }
            ),
        ),
        ("used_memory_dataset", used.to_string()),
        ("allocator_allocated", used.to_string()),
        ("allocator_resident", rss.to_string()),
        ("used_memory_lua", "0".to_string()),
        ("used_memory_scripts", "0".to_string()),
        (
            "number_of_cached_scripts",
            ctx.shared.scripting.script_count().to_string(),
        ),
        ("maxmemory", config.maxmemory.to_string()),
        ("maxmemory_human", bytes_human(config.maxmemory)),
        ("maxmemory_policy", config.maxmemory_policy.clone()),
        ("mem_not_counted_for_evict", "0".to_string()),
        ("mem_fragmentation_ratio", format!("{:.2}", ratio)),
        (
            "mem_fragmentation_bytes",
            (rss as i64 - used as i64).to_string(),
        ),
        ("mem_allocator", memory::allocator_name().to_string()),
        ("lazyfree_pending_objects", "0".to_string()),
        ("lazyfreed_objects", "0".to_string()),
    ];
    let mut text = String::new();
    for (name, value) in lines {
        let _ = write!(text, "{}:{}\r\n", name, value);
    }
    text
}

/// The figures MEMORY STATS and MEMORY DOCTOR work from.
struct MemoryFigures {
    used: u64,
    peak: u64,
    startup: u64,
    rss: u64,
    keys: u64,
    clients_normal: u64,
}

fn memory_figures(ctx: &mut Ctx) -> MemoryFigures {
    ctx.shared.sample_memory();
    let keys = keyspace_totals(ctx).iter().map(|t| t.keys).sum();
    let clients_normal = ctx
        .shared
        .clients
        .all()
        .iter()
        .map(|client| client.output_bytes())
        .sum();
    MemoryFigures {
        used: ctx.shared.used_memory.load(Ordering::Relaxed),
        peak: ctx.shared.peak_memory.load(Ordering::Relaxed),
        startup: ctx.shared.startup_memory,
        rss: memory::resident_set_size(),
        keys,
        clients_normal,
    }
}

/// MEMORY STATS: Redis's fields, from the allocator's figures. Overheads
/// cachet does not have (replication, AOF, scripts) are 0; the dataset is
/// what is allocated beyond the startup figure and the client buffers.
pub fn memory_stats(ctx: &mut Ctx, _args: Args) -> CommandResult {
    let m = memory_figures(ctx);
    let overhead = m.startup + m.clients_normal;
    let dataset = m.used.saturating_sub(overhead);
    let ratio = |a: u64, b: u64| if b == 0 { 0.0 } else { a as f64 / b as f64 };
    let integers: [(&str, u64); 10] = [
        ("peak.allocated", m.peak),
        ("total.allocated", m.used),
        ("startup.allocated", m.startup),
        ("replication.backlog", 0),
        ("clients.slaves", 0),
        ("clients.normal", m.clients_normal),
        ("cluster.links", 0),
        ("aof.buffer", 0),
        ("lua.caches", 0),
        ("functions.caches", 0),
    ];
    ctx.reply.map_len(integers.len() + 19);
    for (name, value) in integers {
        ctx.reply.bulk_str(name);
        ctx.reply.integer(value as i64);
    }
    let tail_integers = [
        ("overhead.total", overhead),
        ("keys.count", m.keys),
        (
            "keys.bytes-per-key",
            dataset.checked_div(m.keys).unwrap_or(0),
        ),
        ("dataset.bytes", dataset),
    ];
    for (name, value) in tail_integers {
        ctx.reply.bulk_str(name);
        ctx.reply.integer(value as i64);
    }
    let rest: [(&str, f64, bool); 15] = [
        (
            "dataset.percentage",
            100.0 * ratio(dataset, m.used.saturating_sub(m.startup)),
            true,
        ),
        ("peak.percentage", 100.0 * ratio(m.used, m.peak), true),
        ("allocator.allocated", m.used as f64, false),
        ("allocator.active", m.used as f64, false),
        ("allocator.resident", m.rss as f64, false),
        ("allocator-fragmentation.ratio", 1.0, true),
        ("allocator-fragmentation.bytes", 0.0, false),
        ("allocator.rss-ratio", ratio(m.rss, m.used), true),
        ("allocator.rss-bytes", m.rss as f64 - m.used as f64, false),
        ("rss-overhead.ratio", 1.0, true),
        ("rss-overhead.bytes", 0.0, false),
        ("fragmentation", ratio(m.rss, m.used), true),
        ("fragmentation.bytes", m.rss as f64 - m.used as f64, false),
        ("lazyfree.pending", 0.0, false),
        ("lazyfreed.objects", 0.0, false),
    ];
    for (name, value, is_double) in rest {
        ctx.reply.bulk_str(name);
        if is_double {
            ctx.reply.double(value);
        } else {
            ctx.reply.integer(value as i64);
        }
    }
    Ok(())
}

/// MEMORY DOCTOR: Redis's report for the conditions cachet can have (an
/// almost empty instance, a high peak, high fragmentation, big client
/// buffers), or its all-clear.
pub fn memory_doctor(ctx: &mut Ctx, _args: Args) -> CommandResult {
    let m = memory_figures(ctx);
    let mut findings = Vec::new();
    if m.peak > m.used.saturating_mul(3) / 2 {
        findings.push(" * Peak memory: In the past this instance used more than 150% the memory that is currently using. The allocator is normally not able to release memory after a peak, so you can expect to see a big fragmentation ratio, however this is actually harmless and is only due to the memory peak, and if the Redis instance Resident Set Size (RSS) is currently bigger than expected, the memory will be used as soon as you fill the Redis instance with more data. If the memory peak was only occasional and you want to try to reclaim memory, please try the MEMORY PURGE command, otherwise the only other option is to shutdown and restart the instance.");
    }
    if m.used > 0 && m.rss as f64 / m.used as f64 > 1.4 && m.rss > 10 * 1024 * 1024 {
        findings.push(" * High total RSS: This instance has a memory fragmentation and RSS overhead greater than 1.4 (this means that the Resident Set Size of the Redis process is much larger than the sum of the logical allocations Redis performed). This problem is usually due either to a large peak memory (check if there is a peak memory entry above in the report) or may result from a workload that causes the allocator to fragment memory a lot. If the problem is a large peak memory, then there is no issue. Otherwise, make sure you are using the Jemalloc allocator and not the default libc malloc.");
    }
    if m.clients_normal > 200 * 1024 {
        findings.push(" * Big client buffers: The client output buffers are using a lot of memory. Check CLIENT LIST for clients with a large 'omem' or 'qbuf' field: they are reading replies slower than the server produces them.");
    }
    let text = if m.used < 5 * 1024 * 1024 {
        "Hi Sam, this instance is empty or is using very little memory, my issues detector can't be used in these conditions. Please, leave for your mission on Earth and fill it with some data. The new Sam and I will be back to our programming as soon as I finished rebooting.".to_string()
    } else if findings.is_empty() {
        "Hi Sam, I can't find any memory issue in your instance. I can only account for what occurs on this base.".to_string()
    } else {
        format!(
            "Sam, I detected a few issues in this Redis instance memory implants:\n\n{}\n\nI'm here to keep you safe, Sam. I want to help you.\n",
            findings.join("\n\n")
        )
    };
    ctx.reply.verbatim(&text);
    Ok(())
}

fn info_persistence(ctx: &Ctx) -> String {
    format!(
        "loading:0\r\nasync_loading:0\r\ncurrent_cow_peak:0\r\ncurrent_cow_size:0\r\ncurrent_cow_size_age:0\r\ncurrent_fork_perc:0.00\r\ncurrent_save_keys_processed:0\r\ncurrent_save_keys_total:0\r\nrdb_changes_since_last_save:0\r\nrdb_bgsave_in_progress:0\r\nrdb_last_save_time:{}\r\nrdb_last_bgsave_status:ok\r\nrdb_last_bgsave_time_sec:-1\r\nrdb_current_bgsave_time_sec:-1\r\nrdb_saves:0\r\nrdb_last_cow_size:0\r\nrdb_last_load_keys_expired:0\r\nrdb_last_load_keys_loaded:0\r\naof_enabled:0\r\naof_rewrite_in_progress:0\r\naof_rewrite_scheduled:0\r\naof_last_rewrite_time_sec:-1\r\naof_current_rewrite_time_sec:-1\r\naof_last_bgrewrite_status:ok\r\naof_rewrites:0\r\naof_rewrites_consecutive_failures:0\r\naof_last_write_status:ok\r\naof_last_cow_size:0\r\nmodule_fork_in_progress:0\r\nmodule_fork_last_cow_size:0\r\n",
        ctx.shared.started_ms / 1000
    )
}

fn info_stats(ctx: &mut Ctx) -> String {
    let shared = ctx.shared;
    let stats = &shared.stats;
    let totals = keyspace_totals(ctx);
    let expired: u64 = totals.iter().map(|t| t.expired).sum();
    let evicted: u64 = totals.iter().map(|t| t.evicted).sum();
    let expiry = &shared.keyspace.expiry_stats;
    let lag_p99 = expiry
        .lag_histogram
        .lock()
        .as_ref()
        .map(|h| h.value_at_quantile(0.99))
        .unwrap_or(0);
    let (pubsub_channels, pubsub_patterns, pubsub_shard_channels) = shared.pubsub.counts();
    format!(
        "total_connections_received:{}\r\ntotal_commands_processed:{}\r\ninstantaneous_ops_per_sec:{}\r\ntotal_net_input_bytes:{}\r\ntotal_net_output_bytes:{}\r\ntotal_net_repl_input_bytes:0\r\ntotal_net_repl_output_bytes:0\r\ninstantaneous_input_kbps:0.00\r\ninstantaneous_output_kbps:0.00\r\ninstantaneous_input_repl_kbps:0.00\r\ninstantaneous_output_repl_kbps:0.00\r\nrejected_connections:{}\r\nsync_full:0\r\nsync_partial_ok:0\r\nsync_partial_err:0\r\nexpired_keys:{}\r\nexpired_stale_perc:0.00\r\nexpired_time_cap_reached_count:0\r\nexpire_cycle_cpu_milliseconds:0\r\nexpired_lag_max_ms:{}\r\nexpired_lag_p99_ms:{}\r\nevicted_keys:{}\r\nevicted_clients:0\r\ntotal_eviction_exceeded_time:0\r\ncurrent_eviction_exceeded_time:0\r\nkeyspace_hits:{}\r\nkeyspace_misses:{}\r\npubsub_channels:{}\r\npubsub_patterns:{}\r\npubsubshard_channels:{}\r\nlatest_fork_usec:0\r\ntotal_forks:0\r\nmigrate_cached_sockets:0\r\nslave_expires_tracked_keys:0\r\nactive_defrag_hits:0\r\nactive_defrag_misses:0\r\nactive_defrag_key_hits:0\r\nactive_defrag_key_misses:0\r\ntotal_active_defrag_time:0\r\ncurrent_active_defrag_time:0\r\ntracking_total_keys:{}\r\ntracking_total_items:{}\r\ntracking_total_prefixes:{}\r\nunexpected_error_replies:0\r\ntotal_error_replies:{}\r\ndump_payload_sanitizations:0\r\ntotal_reads_processed:{}\r\ntotal_writes_processed:{}\r\nio_threaded_reads_processed:0\r\nio_threaded_writes_processed:0\r\nreply_buffer_shrinks:0\r\nreply_buffer_expands:0\r\nbusy_poll_wakeups:{}\r\nbusy_poll_spin_usec:{}\r\nbusy_poll_load_percent:{}\r\n",
        stats.connections_received.load(Ordering::Relaxed),
        stats.commands_processed.load(Ordering::Relaxed),
        shared.ops_per_sec.load(Ordering::Relaxed),
        stats.net_input_bytes.load(Ordering::Relaxed),
        stats.net_output_bytes.load(Ordering::Relaxed),
        stats.rejected_connections.load(Ordering::Relaxed),
        expired.saturating_sub(stats.expired_keys_reset_base.load(Ordering::Relaxed)),
        expiry.lag_max_ms.load(Ordering::Relaxed),
        lag_p99,
        evicted.saturating_sub(stats.evicted_keys_reset_base.load(Ordering::Relaxed)),
        stats.keyspace_hits.load(Ordering::Relaxed),
        stats.keyspace_misses.load(Ordering::Relaxed),
        pubsub_channels,
        pubsub_patterns,
        pubsub_shard_channels,
        shared.keyspace.tracking_totals.keys(),
        shared.keyspace.tracking_totals.items(),
        shared.tracking.prefix_count(),
        stats.error_replies.load(Ordering::Relaxed),
        stats.commands_processed.load(Ordering::Relaxed),
        stats.commands_processed.load(Ordering::Relaxed),
        shared.busy_poll.wakeups(),
        shared.busy_poll.spin_us(),
        shared.busy_poll.load_percent(),
    )
}

fn info_replication() -> String {
    "role:master\r\nconnected_slaves:0\r\nmaster_failover_state:no-failover\r\nmaster_replid:0000000000000000000000000000000000000000\r\nmaster_replid2:0000000000000000000000000000000000000000\r\nmaster_repl_offset:0\r\nsecond_repl_offset:-1\r\nrepl_backlog_active:0\r\nrepl_backlog_size:1048576\r\nrepl_backlog_first_byte_offset:0\r\nrepl_backlog_histlen:0\r\n".to_string()
}

/// User and system CPU seconds of this process, from /proc.
fn cpu_seconds() -> (f64, f64) {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return (0.0, 0.0);
    };
    // Fields after the command name (which is in parentheses and may contain spaces).
    let after = stat.rsplit_once(')').map(|(_, rest)| rest).unwrap_or("");
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
            / 100.0
    };
    (ticks(11), ticks(12))
}

fn info_cpu() -> String {
    let (user, sys) = cpu_seconds();
    format!(
        "used_cpu_sys:{:.6}\r\nused_cpu_user:{:.6}\r\nused_cpu_sys_children:0.000000\r\nused_cpu_user_children:0.000000\r\nused_cpu_sys_main_thread:{:.6}\r\nused_cpu_user_main_thread:{:.6}\r\n",
        sys, user, sys, user
    )
}

fn info_errorstats(ctx: &Ctx) -> String {
    let mut text = String::new();
    for (code, count) in ctx.shared.stats.errors_by_code() {
        let _ = write!(text, "errorstat_{}:count={}\r\n", code, count);
    }
    text
}

fn keyspace_totals(ctx: &mut Ctx) -> Vec<crate::storage::DbTotals> {
    let mut totals = vec![crate::storage::DbTotals::default(); ctx.shared.keyspace.databases()];
    let now = ctx.now_ms();
    for shard in ctx.keys.locked.shards_mut() {
        shard.add_totals(&mut totals, now);
    }
    totals
}

fn info_keyspace(ctx: &mut Ctx) -> String {
    let mut text = String::new();
    for (i, totals) in keyspace_totals(ctx).iter().enumerate() {
        if totals.keys > 0 {
            let avg_ttl = if totals.volatile > 0 {
                totals.ttl_sum_ms / totals.volatile as u128
            } else {
                0
            };
            let _ = write!(
                text,
                "db{}:keys={},expires={},avg_ttl={}\r\n",
                i, totals.keys, totals.volatile, avg_ttl
            );
        }
    }
    text
}

fn info_commandstats(ctx: &Ctx) -> String {
    let mut text = String::new();
    for (index, spec) in ctx.shared.commands.iter() {
        let totals = ctx.shared.commands.stats(index).totals();
        if totals.calls == 0 && totals.rejected == 0 && totals.failed == 0 {
            continue;
        }
        let per_call = if totals.calls > 0 {
            totals.usec as f64 / totals.calls as f64
        } else {
            0.0
        };
        let _ = write!(
            text,
            "cmdstat_{}:calls={},usec={},usec_per_call={:.2},rejected_calls={},failed_calls={}\r\n",
            spec.full_name(),
            totals.calls,
            totals.usec,
            per_call,
            totals.rejected,
            totals.failed
        );
    }
    text
}

fn info_latencystats(ctx: &Ctx) -> String {
    let percentiles = ctx
        .shared
        .config
        .read()
        .latency_tracking_info_percentiles
        .clone();
    let mut text = String::new();
    for (index, spec) in ctx.shared.commands.iter() {
        let totals = ctx.shared.commands.stats(index).totals();
        let Some(histogram) = totals.latency else {
            continue;
        };
        if histogram.is_empty() {
            continue;
        }
        let parts: Vec<String> = percentiles
            .iter()
            .map(|p| {
                format!(
                    "p{}={:.3}",
                    crate::util::format_trimmed_fixed(*p),
                    histogram.value_at_quantile(p / 100.0) as f64
                )
            })
            .collect();
        let _ = write!(
            text,
            "latency_percentiles_usec_{}:{}\r\n",
            spec.full_name(),
            parts.join(",")
        );
    }
    text
}

// ---- CONFIG -----------------------------------------------------------

pub fn config_get(ctx: &mut Ctx, args: Args) -> CommandResult {
    let config = ctx.shared.config.read().clone();
    let mut pairs: Vec<(&'static str, String)> = Vec::new();
    for pattern in args.from(2).iter() {
        let pattern = String::from_utf8_lossy(pattern);
        for (name, value) in config.matching(&pattern) {
            if !pairs.iter().any(|(n, _)| *n == name) {
                pairs.push((name, value));
            }
        }
    }
    ctx.reply.map_len(pairs.len());
    for (name, value) in pairs {
        ctx.reply.bulk(name.as_bytes());
        ctx.reply.bulk(value.as_bytes());
    }
    Ok(())
}

pub fn config_set(ctx: &mut Ctx, args: Args) -> CommandResult {
    if !args.len().is_multiple_of(2) {
        return Err(CommandError::WrongArity("config|set".into()));
    }
    let mut updated = ctx.shared.config.read().clone();
    let mut seen: Vec<&'static str> = Vec::new();
    for pair in (2..args.len()).step_by(2) {
        let name = String::from_utf8_lossy(&args[pair]).into_owned();
        let value = String::from_utf8_lossy(&args[pair + 1]).into_owned();
        let Some(directive) = crate::config::find_directive(&name) else {
            return Err(CommandError::err(format!(
                "Unknown option or number of arguments for CONFIG SET - '{}'",
                name
            )));
        };
        let fail = |reason: &str| {
            CommandError::err(format!(
                "CONFIG SET failed (possibly related to argument '{}') - {}",
                name, reason
            ))
        };
        if seen.contains(&directive.name) {
            return Err(fail("duplicate parameter"));
        }
        seen.push(directive.name);
        if !directive.mutable {
            return Err(fail("can't set immutable config"));
        }
        (directive.set)(&mut updated, &[value]).map_err(|reason| fail(&reason))?;
    }
    // Applying a new port or bind list can fail (the port is taken); then
    // nothing of this CONFIG SET takes effect, as in Redis.
    let current = ctx.shared.config.read().clone();
    if updated.port != current.port || updated.bind != current.bind {
        let (argument, reason) = if updated.port != current.port {
            ("port", "Unable to listen on this port. Check server logs.")
        } else {
            ("bind", "Failed to bind to specified addresses.")
        };
        if let Err(error) = ctx.shared.rebind(&updated) {
            tracing::warn!("CONFIG SET {}: {}", argument, error);
            return Err(CommandError::err(format!(
                "CONFIG SET failed (possibly related to argument '{}') - {}",
                argument, reason
            )));
        }
    }
    ctx.shared.apply_config(updated);
    ctx.reply.ok();
    Ok(())
}

pub fn config_resetstat(ctx: &mut Ctx, _args: Args) -> CommandResult {
    let shared = ctx.shared;
    shared.flush_client_stats(ctx.client);
    shared.stats.reset();
    for (index, _) in shared.commands.iter() {
        shared.commands.stats(index).reset();
    }
    let totals = keyspace_totals(ctx);
    let expired: u64 = totals.iter().map(|t| t.expired).sum();
    let evicted: u64 = totals.iter().map(|t| t.evicted).sum();
    shared
        .stats
        .expired_keys_reset_base
        .store(expired, Ordering::Relaxed);
    shared
        .stats
        .evicted_keys_reset_base
        .store(evicted, Ordering::Relaxed);
    shared
        .keyspace
        .expiry_stats
        .lag_max_ms
        .store(0, Ordering::Relaxed);
    *shared.keyspace.expiry_stats.lag_histogram.lock() = None;
    ctx.reply.ok();
    Ok(())
}

pub fn config_rewrite(ctx: &mut Ctx, _args: Args) -> CommandResult {
    let config = ctx.shared.config.read().clone();
    let Some(path) = config.config_file.clone() else {
        return Err(CommandError::err(
            "The server is running without a config file",
        ));
    };
    std::fs::write(&path, config.to_text())
        .map_err(|e| CommandError::err(format!("Rewriting config file: {}", e)))?;
    ctx.reply.ok();
    Ok(())
}

pub fn config_help(ctx: &mut Ctx, _args: Args) -> CommandResult {
    write_help(
        ctx,
        "CONFIG",
        &[
            "GET <pattern>",
            "    Return parameters matching the glob-like <pattern> and their values.",
            "SET <directive> <value>",
            "    Set the configuration <directive> to <value>.",
            "RESETSTAT",
            "    Reset statistics reported by the INFO command.",
            "REWRITE",
            "    Rewrite the configuration file.",
        ],
    );
    Ok(())
}

// ---- Small server commands -------------------------------------------------

pub fn time(ctx: &mut Ctx, _args: Args) -> CommandResult {
    let now = crate::util::now_us();
    ctx.reply.array_len(2);
    ctx.reply.bulk((now / 1_000_000).to_string().as_bytes());
    ctx.reply.bulk((now % 1_000_000).to_string().as_bytes());
    Ok(())
}

pub fn lastsave(ctx: &mut Ctx, _args: Args) -> CommandResult {
    ctx.reply.integer((ctx.shared.started_ms / 1000) as i64);
    Ok(())
}

pub fn shutdown(ctx: &mut Ctx, args: Args) -> CommandResult {
    let mut abort = false;
    for arg in args.from(1).iter() {
        if eq_ignore_case(arg, "abort") {
            abort = true;
        } else if !(eq_ignore_case(arg, "nosave")
            || eq_ignore_case(arg, "save")
            || eq_ignore_case(arg, "now")
            || eq_ignore_case(arg, "force"))
        {
            return Err(CommandError::Syntax);
        }
    }
    if abort {
        return Err(CommandError::err("No shutdown in progress."));
    }
    tracing::info!("User requested shutdown...");
    ctx.shared.request_shutdown();
    ctx.client.close_after_reply = true;
    Ok(())
}

pub fn monitor(ctx: &mut Ctx, _args: Args) -> CommandResult {
    if !ctx.client.monitor {
        ctx.client.monitor = true;
        ctx.client.info.set_flag(flags::MONITOR, true);
        ctx.shared.monitor.add();
    }
    ctx.reply.ok();
    Ok(())
}

/// DEBUG PROTOCOL <type>: one sample reply of each protocol type, as
/// Redis sends them (client libraries test their parsers with it).
fn debug_protocol(ctx: &mut Ctx, name: &[u8]) -> CommandResult {
    let r = &mut ctx.reply;
    let is = |t: &str| eq_ignore_case(name, t);
    if is("string") {
        r.bulk(b"Hello World");
    } else if is("integer") {
        r.integer(12345);
    } else if is("double") {
        // Redis's sample value, not an approximation of pi.
        #[allow(clippy::approx_constant)]
        r.double(3.141);
    } else if is("bignum") {
        r.big_number("1234567999999999999999999999999999999");
    } else if is("null") {
        r.null();
    } else if is("array") || is("set") {
        if is("array") {
            r.array_len(3);
        } else {
            r.set_len(3);
        }
        for j in 0..3 {
            r.integer(j);
        }
    } else if is("map") {
        r.map_len(3);
        for j in 0..3 {
            r.integer(j);
            r.boolean(j == 1);
        }
    } else if is("attrib") {
        if r.is_resp3() {
            r.attribute_len(1);
            r.bulk(b"key-popularity");
            r.array_len(2);
            r.bulk(b"key:123");
            r.integer(90);
        }
        r.bulk(b"Some real reply following the attribute");
    } else if is("push") {
        if !r.is_resp3() {
            return Err(CommandError::err("RESP2 is not supported by this command"));
        }
        r.push_len(2);
        r.bulk(b"server-cpu-usage");
        r.integer(42);
        r.bulk(b"Some real reply following the push reply");
    } else if is("true") || is("false") {
        r.boolean(is("true"));
    } else if is("verbatim") {
        r.verbatim("This is a verbatim\nstring");
    } else {
        return Err(CommandError::err("Wrong protocol type name. Please use one of the following: string|integer|double|bignum|null|array|set|map|attrib|push|verbatim|true|false"));
    }
    Ok(())
}

pub fn debug(ctx: &mut Ctx, args: Args) -> CommandResult {
    let sub = &args[1];
    if eq_ignore_case(sub, "sleep") && args.len() == 3 {
        let seconds = crate::util::parse_f64(&args[2])
            .filter(|s| *s >= 0.0)
            .ok_or(CommandError::NotFloat)?;
        // DEBUG SLEEP stalls the calling connection only (cachet has no single event loop to stall).
        ctx.client.pending_sleep = Some(std::time::Duration::from_secs_f64(seconds.min(3600.0)));
        ctx.reply.ok();
    } else if eq_ignore_case(sub, "set-active-expire") && args.len() == 3 {
        let on = parse_int(&args[2])? != 0;
        ctx.shared
            .keyspace
            .active_expire
            .store(on, Ordering::Relaxed);
        ctx.reply.ok();
    } else if eq_ignore_case(sub, "protocol") && args.len() == 3 {
        debug_protocol(ctx, &args[2])?;
    } else if eq_ignore_case(sub, "log") && args.len() == 3 {
        tracing::warn!("DEBUG LOG: {}", String::from_utf8_lossy(&args[2]));
        ctx.reply.ok();
    } else if eq_ignore_case(sub, "help") {
        write_help(
            ctx,
            "DEBUG",
            &[
                "LOG <message>",
                "    Write <message> to the server log.",
                "PROTOCOL <type>",
                "    Reply with a test value of the specified type. <type> can be: string,",
                "    integer, double, bignum, null, array, set, map, attrib, push, verbatim,",
                "    true, false.",
                "SET-ACTIVE-EXPIRE <0|1>",
                "    Setting it to 0 disables expiring keys in background when they are not accessed.",
                "SLEEP <seconds>",
                "    Stall the calling connection for <seconds> (a float).",
            ],
        );
    } else {
        return Err(CommandError::UnknownSubcommand {
            sub: String::from_utf8_lossy(sub).into_owned(),
            command: "debug".into(),
        });
    }
    Ok(())
}

// ---- SLOWLOG ----------------------------------------------------------

pub fn slowlog_get(ctx: &mut Ctx, args: Args) -> CommandResult {
    let count = if args.len() >= 3 {
        let n = crate::util::parse_i64(&args[2])
            .filter(|n| *n >= -1)
            .ok_or_else(|| CommandError::err("count should be greater than or equal to -1"))?;
        if n == -1 {
            usize::MAX
        } else {
            n as usize
        }
    } else {
        10
    };
    let entries = ctx.shared.slowlog.latest(count);
    ctx.reply.array_len(entries.len());
    for entry in entries {
        ctx.reply.array_len(6);
        ctx.reply.integer(entry.id as i64);
        ctx.reply.integer(entry.timestamp as i64);
        ctx.reply.integer(entry.duration_us as i64);
        ctx.reply.array_len(entry.args.len());
        for arg in &entry.args {
            ctx.reply.bulk(arg);
        }
        ctx.reply.bulk(entry.client_addr.as_bytes());
        ctx.reply.bulk(entry.client_name.as_bytes());
    }
    Ok(())
}

pub fn slowlog_len(ctx: &mut Ctx, _args: Args) -> CommandResult {
    ctx.reply.integer(ctx.shared.slowlog.len() as i64);
    Ok(())
}

pub fn slowlog_reset(ctx: &mut Ctx, _args: Args) -> CommandResult {
    ctx.shared.slowlog.reset();
    ctx.reply.ok();
    Ok(())
}

pub fn slowlog_help(ctx: &mut Ctx, _args: Args) -> CommandResult {
    write_help(
        ctx,
        "SLOWLOG",
        &[
            "GET [<count>]",
            "    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
            "    Entries are made of:",
            "    id, timestamp, time in microseconds, arguments array, client IP and port,",
            "    client name",
            "LEN",
            "    Return the length of the slowlog.",
            "RESET",
            "    Reset the slowlog.",
        ],
    );
    Ok(())
}

// ---- COMMAND ----------------------------------------------------------

fn write_command_info(ctx: &mut Ctx, spec: &CommandSpec) {
    let legacy = spec.legacy_range();
    let r = &mut ctx.reply;
    r.array_len(10);
    r.bulk(spec.full_name().as_bytes());
    r.integer(spec.arity as i64);
    let mut flag_names: Vec<&str> = Vec::new();
    for (bit, name) in cmd_flags::NAMES {
        // `movablekeys` is derived, and Redis lists it just before allow_busy.
        if *bit == cmd_flags::ALLOW_BUSY && legacy.movable {
            flag_names.push("movablekeys");
        }
        if spec.flags & bit != 0 {
            flag_names.push(name);
        }
    }
    r.set_len(flag_names.len());
    for name in flag_names {
        r.simple(name);
    }
    r.integer(legacy.first as i64);
    r.integer(legacy.last as i64);
    r.integer(legacy.step as i64);
    let cats = spec.acl_categories();
    r.set_len(cats.len());
    for cat in cats {
        r.simple(cat);
    }
    r.set_len(spec.tips.len());
    for tip in spec.tips {
        r.bulk(tip.as_bytes());
    }
    r.set_len(spec.key_specs.len());
    for key_spec in spec.key_specs {
        write_key_spec(r, key_spec);
    }
    let subs = spec.subcommands;
    if subs.is_empty() {
        ctx.reply.set_len(0);
    } else {
        ctx.reply.array_len(subs.len());
    }
    for sub in subs {
        write_command_info(ctx, sub);
    }
}

fn write_key_flags(r: &mut crate::protocol::ReplyWriter, flags: u16) {
    let names: Vec<&str> = key_flags::NAMES
        .iter()
        .filter(|(bit, _)| flags & bit != 0)
        .map(|(_, name)| *name)
        .collect();
    r.set_len(names.len());
    for name in names {
        r.simple(name);
    }
}

/// A value in a key spec's `spec` map.
enum SpecValue {
    Int(i32),
    Text(&'static str),
}

/// One step of a key spec (`begin_search` or `find_keys`): its type and the
/// fields of its `spec` map.
fn write_spec_step(r: &mut crate::protocol::ReplyWriter, kind: &str, fields: &[(&str, SpecValue)]) {
    r.map_len(2);
    r.bulk(b"type");
    r.bulk(kind.as_bytes());
    r.bulk(b"spec");
    r.map_len(fields.len());
    for (name, value) in fields {
        r.bulk(name.as_bytes());
        match value {
            SpecValue::Int(n) => r.integer(i64::from(*n)),
            SpecValue::Text(text) => r.bulk(text.as_bytes()),
        }
    }
}

fn write_key_spec(r: &mut crate::protocol::ReplyWriter, key_spec: &KeySpec) {
    use SpecValue::{Int, Text};
    let noted = !key_spec.notes.is_empty();
    r.map_len(3 + usize::from(noted));
    if noted {
        r.bulk(b"notes");
        r.bulk(key_spec.notes.as_bytes());
    }
    r.bulk(b"flags");
    write_key_flags(r, key_spec.flags);
    r.bulk(b"begin_search");
    match key_spec.begin {
        BeginSearch::Unknown => write_spec_step(r, "unknown", &[]),
        BeginSearch::Index(index) => write_spec_step(r, "index", &[("index", Int(index))]),
        BeginSearch::Keyword {
            keyword,
            start_from,
        } => write_spec_step(
            r,
            "keyword",
            &[("keyword", Text(keyword)), ("startfrom", Int(start_from))],
        ),
    }
    r.bulk(b"find_keys");
    match key_spec.find {
        FindKeys::Unknown => write_spec_step(r, "unknown", &[]),
        FindKeys::Range { last, step, limit } => write_spec_step(
            r,
            "range",
            &[
                ("lastkey", Int(last)),
                ("keystep", Int(step)),
                ("limit", Int(limit)),
            ],
        ),
        FindKeys::Keynum {
            count_at,
            first,
            step,
        } => write_spec_step(
            r,
            "keynum",
            &[
                ("keynumidx", Int(count_at)),
                ("firstkey", Int(first)),
                ("keystep", Int(step)),
            ],
        ),
    }
}

pub fn command_all(ctx: &mut Ctx, _args: Args) -> CommandResult {
    write_all_commands(ctx);
    Ok(())
}

fn write_all_commands(ctx: &mut Ctx) {
    let specs: Vec<&CommandSpec> = ctx.shared.commands.top_level().collect();
    ctx.reply.array_len(specs.len());
    for spec in specs {
        write_command_info(ctx, spec);
    }
}

pub fn command_count(ctx: &mut Ctx, _args: Args) -> CommandResult {
    ctx.reply
        .integer(ctx.shared.commands.top_level().count() as i64);
    Ok(())
}

pub fn command_info(ctx: &mut Ctx, args: Args) -> CommandResult {
    if args.len() == 2 {
        write_all_commands(ctx);
        return Ok(());
    }
    ctx.reply.array_len(args.len() - 2);
    for name in args.from(2).iter() {
        match ctx.shared.commands.find_full(name) {
            Some(index) => {
                let spec = ctx.shared.commands.spec(index);
                write_command_info(ctx, spec);
            }
            None => ctx.reply.null(),
        }
    }
    Ok(())
}

fn write_command_docs(ctx: &mut Ctx, spec: &CommandSpec) {
    let docs = super::docs::lookup(&spec.full_name());
    let history = docs.map_or(&[][..], |d| d.history);
    let arguments = docs.map_or(&[][..], |d| d.args);
    let r = &mut ctx.reply;
    let has_subs = !spec.subcommands.is_empty();
    let deprecated = !spec.deprecated_since.is_empty();
    let has_complexity = !spec.complexity.is_empty();
    let fields = 3
        + usize::from(has_complexity)
        + usize::from(spec.doc_flag.is_some())
        + 2 * usize::from(deprecated)
        + usize::from(!history.is_empty())
        + usize::from(!arguments.is_empty())
        + usize::from(has_subs);
    r.map_len(fields);
    r.bulk(b"summary");
    r.bulk(spec.summary.as_bytes());
    r.bulk(b"since");
    r.bulk(spec.since.as_bytes());
    r.bulk(b"group");
    r.bulk(spec.group.as_bytes());
    if has_complexity {
        r.bulk(b"complexity");
        r.bulk(spec.complexity.as_bytes());
    }
    if let Some(flag) = spec.doc_flag {
        r.bulk(b"doc_flags");
        r.set_len(1);
        r.simple(flag);
    }
    if deprecated {
        r.bulk(b"deprecated_since");
        r.bulk(spec.deprecated_since.as_bytes());
        r.bulk(b"replaced_by");
        r.bulk(spec.replaced_by.as_bytes());
    }
    if !history.is_empty() {
        r.bulk(b"history");
        r.set_len(history.len());
        for (version, change) in history {
            r.array_len(2);
            r.bulk(version.as_bytes());
            r.bulk(change.as_bytes());
        }
    }
    if !arguments.is_empty() {
        r.bulk(b"arguments");
        write_argument_docs(r, arguments);
    }
    if has_subs {
        ctx.reply.bulk(b"subcommands");
        ctx.reply.map_len(spec.subcommands.len());
        for sub in spec.subcommands {
            ctx.reply.bulk(sub.full_name().as_bytes());
            write_command_docs(ctx, sub);
        }
    }
}

/// COMMAND DOCS' `arguments`: each a map, in Redis's field order.
fn write_argument_docs(r: &mut crate::protocol::ReplyWriter, arguments: &[super::docs::ArgDoc]) {
    r.array_len(arguments.len());
    for arg in arguments {
        let nested = arg.kind == "oneof" || arg.kind == "block";
        let fields = 2
            + usize::from(arg.key_spec_index.is_some())
            + usize::from(!arg.token.is_empty())
            + usize::from(!arg.summary.is_empty())
            + usize::from(!arg.since.is_empty())
            + usize::from(!arg.deprecated_since.is_empty())
            + usize::from(arg.flags != 0)
            + usize::from(nested);
        r.map_len(fields);
        r.bulk(b"name");
        r.bulk(arg.name.as_bytes());
        r.bulk(b"type");
        r.bulk(arg.kind.as_bytes());
        if let Some(index) = arg.key_spec_index {
            r.bulk(b"key_spec_index");
            r.integer(i64::from(index));
        }
        for (field, value) in [
            ("token", arg.token),
            ("summary", arg.summary),
            ("since", arg.since),
            ("deprecated_since", arg.deprecated_since),
        ] {
            if !value.is_empty() {
                r.bulk(field.as_bytes());
                r.bulk(value.as_bytes());
            }
        }
        if arg.flags != 0 {
            r.bulk(b"flags");
            let names: Vec<&str> = super::docs::FLAG_NAMES
                .iter()
                .filter(|(bit, _)| arg.flags & bit != 0)
                .map(|(_, name)| *name)
                .collect();
            r.set_len(names.len());
            for name in names {
                r.simple(name);
            }
        }
        if nested {
            r.bulk(b"arguments");
            write_argument_docs(r, arg.args);
        }
    }
}

pub fn command_docs(ctx: &mut Ctx, args: Args) -> CommandResult {
    let specs: Vec<&CommandSpec> = if args.len() == 2 {
        ctx.shared.commands.top_level().collect()
    } else {
        args.from(2)
            .iter()
            .filter_map(|name| ctx.shared.commands.find_full(name))
            .map(|index| ctx.shared.commands.spec(index))
            .collect()
    };
    ctx.reply.map_len(specs.len());
    for spec in specs {
        ctx.reply.bulk(spec.full_name().as_bytes());
        write_command_docs(ctx, spec);
    }
    Ok(())
}

pub fn command_list(ctx: &mut Ctx, args: Args) -> CommandResult {
    let mut pattern: Option<Vec<u8>> = None;
    let mut category: Option<String> = None;
    if args.len() > 2 {
        if args.len() != 5 || !eq_ignore_case(&args[2], "filterby") {
            return Err(CommandError::Syntax);
        }
        let value = &args[4];
        if eq_ignore_case(&args[3], "pattern") {
            pattern = Some(value.to_vec());
        } else if eq_ignore_case(&args[3], "aclcat") {
            category = Some(format!(
                "@{}",
                String::from_utf8_lossy(value).to_lowercase()
            ));
        } else if eq_ignore_case(&args[3], "module") {
            ctx.reply.array_len(0);
            return Ok(());
        } else {
            return Err(CommandError::Syntax);
        }
    }
    let mut names = Vec::new();
    for (_, spec) in ctx.shared.commands.iter() {
        let name = spec.full_name();
        if pattern
            .as_ref()
            .is_some_and(|p| !crate::glob::glob_match(p, name.as_bytes(), true))
        {
            continue;
        }
        if category
            .as_ref()
            .is_some_and(|c| !spec.acl_categories().contains(&c.as_str()))
        {
            continue;
        }
        names.push(name);
    }
    ctx.reply.array_len(names.len());
    for name in names {
        ctx.reply.bulk(name.as_bytes());
    }
    Ok(())
}

/// COMMAND GETKEYS and GETKEYSANDFLAGS: the keys of a full command line.
fn write_command_keys(ctx: &mut Ctx, args: Args, with_flags: bool) -> CommandResult {
    let target = args.from(2);
    let table = &ctx.shared.commands;
    let index = table
        .resolve(target)
        .map_err(|_| CommandError::err("Invalid command specified"))?;
    let spec = table.spec(index);
    if !spec.has_keys() {
        return Err(CommandError::err("The command has no key arguments"));
    }
    let argc = target.len() as i32;
    if (spec.arity > 0 && argc != spec.arity) || (spec.arity < 0 && argc < -spec.arity) {
        return Err(CommandError::err(
            "Invalid number of arguments specified for command",
        ));
    }
    let keys = spec.keys_with_flags(target);
    if keys.is_empty() {
        if spec.has(cmd_flags::NO_MANDATORY_KEYS) {
            ctx.reply.array_len(0);
            return Ok(());
        }
        return Err(CommandError::err("Invalid arguments specified for command"));
    }
    ctx.reply.array_len(keys.len());
    for key in keys {
        if with_flags {
            ctx.reply.array_len(2);
            ctx.reply.bulk(&target[key.position]);
            write_key_flags(&mut ctx.reply, key.flags);
        } else {
            ctx.reply.bulk(&target[key.position]);
        }
    }
    Ok(())
}

pub fn command_getkeys(ctx: &mut Ctx, args: Args) -> CommandResult {
    write_command_keys(ctx, args, false)
}

pub fn command_getkeysandflags(ctx: &mut Ctx, args: Args) -> CommandResult {
    write_command_keys(ctx, args, true)
}

pub fn command_help(ctx: &mut Ctx, _args: Args) -> CommandResult {
    write_help(
        ctx,
        "COMMAND",
        &[
            "(no subcommand)",
            "    Return details about all Redis commands.",
            "COUNT",
            "    Return the total number of commands in this Redis server.",
            "LIST",
            "    Return a list of all commands in this Redis server.",
            "INFO [<command-name> ...]",
            "    Return details about multiple Redis commands.",
            "DOCS [<command-name> ...]",
            "    Return documentation details about multiple Redis commands.",
            "GETKEYS <full-command>",
            "    Return the keys from a full Redis command.",
            "GETKEYSANDFLAGS <full-command>",
            "    Return the keys and the access flags from a full Redis command.",
        ],
    );
    Ok(())
}
