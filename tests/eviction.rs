//! maxmemory and the eviction policies: which keys go and which stay, the
//! OOM reply when nothing may go, `evicted` notifications and counters, a
//! write burst from 50 connections held near the limit, and CONFIG SET
//! maxmemory below current use.
//!
//! Every test runs the cachet binary as a process (`start_process`): only
//! there is `used_memory` the allocator's own figure, as in Redis. Limits
//! are set relative to the memory in use when the test starts, so they mean
//! the same in a debug build and against redis-server
//! (CACHET_TEST_AGAINST_REDIS=1). Every wait polls with a deadline.

mod common;

use common::*;
use redis::aio::MultiplexedConnection;
use std::time::Duration;

const OOM: &str = "OOM command not allowed when used memory > 'maxmemory'.";

async fn used_memory(c: &mut MultiplexedConnection) -> u64 {
    let info: String = query(c, &["INFO", "memory"]).await;
    info_field(&info, "used_memory")
        .and_then(|v| v.parse().ok())
        .expect("used_memory in INFO")
}

async fn info_number(c: &mut MultiplexedConnection, section: &str, field: &str) -> u64 {
    let info: String = query(c, &["INFO", section]).await;
    info_field(&info, field)
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("{field} in INFO {section}"))
}

/// Writes `count` keys `prefix:N` with `size`-byte values (and a TTL of
/// `ttl_s` seconds unless 0), pipelined in chunks.
async fn fill(
    c: &mut MultiplexedConnection,
    prefix: &str,
    range: std::ops::Range<usize>,
    size: usize,
    ttl_s: u64,
) {
    let value = "v".repeat(size);
    let keys: Vec<usize> = range.collect();
    for chunk in keys.chunks(200) {
        let mut pipe = redis::pipe();
        for n in chunk {
            let key = format!("{prefix}:{n}");
            if ttl_s > 0 {
                pipe.cmd("SET")
                    .arg(&key)
                    .arg(&value)
                    .arg("EX")
                    .arg(ttl_s)
                    .ignore();
            } else {
                pipe.cmd("SET").arg(&key).arg(&value).ignore();
            }
        }
        let result: redis::RedisResult<()> = tokio::time::timeout(IO_TIMEOUT, pipe.query_async(c))
            .await
            .expect("fill timed out");
        result.expect("fill failed");
    }
}

/// DBSIZE and INFO's evicted_keys read in one transaction, so no eviction
/// falls between them.
async fn keys_and_evicted(c: &mut MultiplexedConnection) -> (u64, u64) {
    let mut pipe = redis::pipe();
    pipe.atomic().cmd("DBSIZE").cmd("INFO").arg("stats");
    let (keys, info): (u64, String) = tokio::time::timeout(IO_TIMEOUT, pipe.query_async(c))
        .await
        .expect("MULTI timed out")
        .expect("MULTI failed");
    let evicted = info_field(&info, "evicted_keys")
        .and_then(|v| v.parse().ok())
        .expect("evicted_keys in INFO");
    (keys, evicted)
}

async fn exists(c: &mut MultiplexedConnection, key: &str) -> bool {
    query::<i64>(c, &["EXISTS", key]).await == 1
}

async fn surviving(
    c: &mut MultiplexedConnection,
    prefix: &str,
    range: std::ops::Range<usize>,
) -> usize {
    let mut kept = 0;
    for n in range {
        if exists(c, &format!("{prefix}:{n}")).await {
            kept += 1;
        }
    }
    kept
}

async fn set_policy(c: &mut MultiplexedConnection, policy: &str, maxmemory: u64) {
    query::<()>(c, &["CONFIG", "SET", "maxmemory-policy", policy]).await;
    query::<()>(c, &["CONFIG", "SET", "maxmemory", &maxmemory.to_string()]).await;
}

#[tokio::test]
async fn noeviction_refuses_writes_and_keeps_reads_and_deletes_working() {
    let server = TestServer::start_process().await;
    let mut c = server.conn().await;
    fill(&mut c, "k", 0..100, 100, 0).await;
    set_policy(&mut c, "noeviction", 1).await;
    assert_eq!(query_err(&mut c, &["SET", "new", "v"]).await, OOM);
    assert_eq!(query_err(&mut c, &["INCR", "counter"]).await, OOM);
    assert_eq!(query_err(&mut c, &["LPUSH", "list", "a"]).await, OOM);
    assert_eq!(
        query::<String>(&mut c, &["GET", "k:1"]).await,
        "v".repeat(100)
    );
    assert_eq!(query::<i64>(&mut c, &["DEL", "k:1"]).await, 1);
    assert_eq!(query::<i64>(&mut c, &["DBSIZE"]).await, 99);
    // In MULTI, queueing is refused too, and EXEC then aborts.
    query::<()>(&mut c, &["MULTI"]).await;
    assert_eq!(query_err(&mut c, &["SET", "new", "v"]).await, OOM);
    assert_eq!(query_err(&mut c, &["GET", "k:2"]).await, OOM);
    let exec = query_err(&mut c, &["EXEC"]).await;
    assert!(exec.starts_with("EXECABORT"), "{exec}");
    assert_eq!(info_number(&mut c, "stats", "evicted_keys").await, 0);
    // Lifting the limit lets writes through again.
    query::<()>(&mut c, &["CONFIG", "SET", "maxmemory", "0"]).await;
    query::<()>(&mut c, &["SET", "new", "v"]).await;
    server.stop().await;
}

#[tokio::test]
async fn volatile_policies_with_no_volatile_keys_answer_oom() {
    let server = TestServer::start_process().await;
    let mut c = server.conn().await;
    fill(&mut c, "k", 0..200, 100, 0).await;
    for policy in [
        "volatile-lru",
        "volatile-lfu",
        "volatile-random",
        "volatile-ttl",
    ] {
        set_policy(&mut c, policy, 1).await;
        assert_eq!(
            query_err(&mut c, &["SET", "new", "v"]).await,
            OOM,
            "{policy}"
        );
        assert_eq!(query::<i64>(&mut c, &["DBSIZE"]).await, 200, "{policy}");
    }
    server.stop().await;
}

#[tokio::test]
async fn volatile_policies_evict_only_keys_with_a_ttl() {
    for policy in [
        "volatile-lru",
        "volatile-lfu",
        "volatile-random",
        "volatile-ttl",
    ] {
        let server = TestServer::start_process().await;
        let mut c = server.conn().await;
        let base = used_memory(&mut c).await;
        fill(&mut c, "keep", 0..300, 1000, 0).await;
        fill(&mut c, "ttl", 0..3000, 1000, 3600).await;
        let used = used_memory(&mut c).await;
        // Room for the persistent keys and about a third of the volatile ones.
        set_policy(&mut c, policy, base + (used - base) / 3).await;
        fill(&mut c, "more", 0..200, 1000, 0).await;
        assert_eq!(surviving(&mut c, "keep", 0..300).await, 300, "{policy}");
        assert_eq!(surviving(&mut c, "more", 0..200).await, 200, "{policy}");
        let (keys, evicted) = keys_and_evicted(&mut c).await;
        assert!(evicted > 0, "{policy}: no volatile key evicted");
        assert_eq!(keys + evicted, 3500, "{policy}");
        server.stop().await;
    }
}

#[tokio::test]
async fn volatile_ttl_evicts_the_soonest_deadlines_first() {
    let server = TestServer::start_process().await;
    let mut c = server.conn().await;
    let base = used_memory(&mut c).await;
    let value = "v".repeat(1000);
    let mut pipe = redis::pipe();
    for n in 0..4000usize {
        // Deadlines rise with n: 1 to 2 hours ahead.
        pipe.cmd("SET")
            .arg(format!("ttl:{n}"))
            .arg(&value)
            .arg("EX")
            .arg(3600 + n)
            .ignore();
    }
    let _: () = tokio::time::timeout(IO_TIMEOUT, pipe.query_async(&mut c))
        .await
        .expect("fill timed out")
        .expect("fill failed");
    let used = used_memory(&mut c).await;
    set_policy(&mut c, "volatile-ttl", base + (used - base) / 2).await;
    query::<()>(&mut c, &["SET", "trigger", "v"]).await;
    let soonest = surviving(&mut c, "ttl", 0..1000).await;
    let latest = surviving(&mut c, "ttl", 3000..4000).await;
    assert!(
        soonest <= 100,
        "{soonest} of the 1000 soonest deadlines survived"
    );
    assert!(
        latest >= 900,
        "only {latest} of the 1000 latest deadlines survived"
    );
    server.stop().await;
}

/// Writes 1 KB values past the limit while reading 50 hot keys every 100
/// writes; returns how many hot keys survived.
async fn hot_keys_kept(policy: &str) -> usize {
    let server = TestServer::start_process().await;
    let mut c = server.conn().await;
    let base = used_memory(&mut c).await;
    set_policy(&mut c, policy, base + 4 * 1024 * 1024).await;
    fill(&mut c, "hot", 0..50, 100, 0).await;
    for round in 0..150 {
        fill(&mut c, "cold", round * 100..(round + 1) * 100, 1000, 0).await;
        let mut pipe = redis::pipe();
        for n in 0..50 {
            pipe.cmd("GET").arg(format!("hot:{n}")).ignore();
        }
        let _: () = tokio::time::timeout(IO_TIMEOUT, pipe.query_async(&mut c))
            .await
            .expect("reads timed out")
            .expect("reads failed");
    }
    assert!(
        info_number(&mut c, "stats", "evicted_keys").await > 0,
        "{policy}: nothing evicted"
    );
    let kept = surviving(&mut c, "hot", 0..50).await;
    server.stop().await;
    kept
}

#[tokio::test]
async fn allkeys_lru_keeps_recently_read_keys() {
    let kept = hot_keys_kept("allkeys-lru").await;
    if !against_redis() {
        assert!(kept >= 48, "allkeys-lru kept {kept} of 50 hot keys");
    }
}

#[tokio::test]
async fn allkeys_lfu_keeps_frequently_read_keys() {
    let kept = hot_keys_kept("allkeys-lfu").await;
    if !against_redis() {
        assert!(kept >= 48, "allkeys-lfu kept {kept} of 50 hot keys");
    }
}

#[tokio::test]
async fn allkeys_random_evicts_and_stays_near_the_limit() {
    let server = TestServer::start_process().await;
    let mut c = server.conn().await;
    let base = used_memory(&mut c).await;
    let limit = base + 4 * 1024 * 1024;
    set_policy(&mut c, "allkeys-random", limit).await;
    fill(&mut c, "k", 0..20_000, 1000, 0).await;
    let (keys, evicted) = keys_and_evicted(&mut c).await;
    assert!(keys < 20_000 && keys > 0, "{keys} keys left");
    assert_eq!(keys + evicted, 20_000);
    let used = used_memory(&mut c).await;
    assert!(
        used <= limit + limit / 10,
        "used {used} with maxmemory {limit}"
    );
    server.stop().await;
}

#[tokio::test]
async fn every_eviction_publishes_evicted() {
    let server = TestServer::start_process().await;
    let mut c = server.conn().await;
    query::<()>(&mut c, &["CONFIG", "SET", "notify-keyspace-events", "KEe"]).await;
    let mut sub = server.raw().await;
    sub.cmd(&["SUBSCRIBE", "__keyevent@0__:evicted"]).await;
    let base = used_memory(&mut c).await;
    set_policy(&mut c, "allkeys-lru", base + 2 * 1024 * 1024).await;
    fill(&mut c, "k", 0..6000, 1000, 0).await;
    let evicted = info_number(&mut c, "stats", "evicted_keys").await;
    assert!(evicted > 0, "nothing evicted");
    let mut announced = std::collections::HashSet::new();
    while announced.len() < evicted as usize {
        let message = sub.read_reply().await;
        let Reply::Array(Some(parts)) = message else {
            panic!("not a message: {message:?}");
        };
        assert_eq!(parts[1], Reply::bulk("__keyevent@0__:evicted"));
        let key = parts[2].text();
        assert!(
            !exists(&mut c, &key).await,
            "{key} announced as evicted but still there"
        );
        assert!(announced.insert(key.clone()), "{key} announced twice");
    }
    server.stop().await;
}

#[tokio::test]
async fn object_freq_and_idletime_report_real_figures() {
    let server = TestServer::start_process().await;
    let mut c = server.conn().await;
    query::<()>(&mut c, &["SET", "k", "v"]).await;
    query::<()>(
        &mut c,
        &["CONFIG", "SET", "maxmemory-policy", "allkeys-lfu"],
    )
    .await;
    let before: i64 = query(&mut c, &["OBJECT", "FREQ", "k"]).await;
    for _ in 0..100 {
        query::<String>(&mut c, &["GET", "k"]).await;
    }
    let after: i64 = query(&mut c, &["OBJECT", "FREQ", "k"]).await;
    assert!(after > before, "FREQ {before} -> {after} after 100 reads");
    query::<()>(
        &mut c,
        &["CONFIG", "SET", "maxmemory-policy", "allkeys-lru"],
    )
    .await;
    let payload: Vec<u8> = query(&mut c, &["DUMP", "k"]).await;
    let restored: redis::RedisResult<()> = tokio::time::timeout(
        IO_TIMEOUT,
        redis::cmd("RESTORE")
            .arg("old")
            .arg(0)
            .arg(payload)
            .arg("IDLETIME")
            .arg(1000)
            .query_async(&mut c),
    )
    .await
    .expect("RESTORE timed out");
    restored.expect("RESTORE failed");
    let idle: i64 = query(&mut c, &["OBJECT", "IDLETIME", "old"]).await;
    assert!((1000..1010).contains(&idle), "IDLETIME {idle}");
    server.stop().await;
}

#[tokio::test]
async fn write_burst_from_50_connections_stays_near_maxmemory() {
    let server = TestServer::start_process().await;
    let mut c = server.conn().await;
    let base = used_memory(&mut c).await;
    let limit = base + 16 * 1024 * 1024;
    set_policy(&mut c, "allkeys-lru", limit).await;
    let mut writers = Vec::new();
    for w in 0..50 {
        let mut conn = server.conn().await;
        writers.push(tokio::spawn(async move {
            fill(&mut conn, &format!("w{w}"), 0..1000, 1000, 0).await;
        }));
    }
    let mut highest = 0;
    let mut finished = false;
    for _ in 0..6000 {
        highest = highest.max(used_memory(&mut c).await);
        if writers.iter().all(|w| w.is_finished()) {
            finished = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert!(finished, "writers did not finish");
    for w in writers {
        w.await.expect("writer panicked");
    }
    highest = highest.max(used_memory(&mut c).await);
    assert!(
        highest <= limit + limit / 10,
        "used_memory reached {highest} with maxmemory {limit}"
    );
    assert!(info_number(&mut c, "stats", "evicted_keys").await > 0);
    server.stop().await;
}

#[tokio::test]
async fn config_set_maxmemory_below_use_evicts_down_to_it() {
    let server = TestServer::start_process().await;
    let mut c = server.conn().await;
    let base = used_memory(&mut c).await;
    fill(&mut c, "k", 0..30_000, 1000, 0).await;
    let used = used_memory(&mut c).await;
    let limit = base + (used - base) / 3;
    query::<()>(
        &mut c,
        &["CONFIG", "SET", "maxmemory-policy", "allkeys-lru"],
    )
    .await;
    query::<()>(&mut c, &["CONFIG", "SET", "maxmemory", &limit.to_string()]).await;
    // No command needs memory: the background task brings it down, and
    // other clients keep being served meanwhile.
    let mut other = server.conn().await;
    let mut down = false;
    for _ in 0..1000 {
        assert_eq!(query::<String>(&mut other, &["PING"]).await, "PONG");
        if used_memory(&mut c).await <= limit {
            down = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(down, "used_memory never came down to {limit}");
    let keys = query::<i64>(&mut c, &["DBSIZE"]).await;
    assert!(keys < 30_000 && keys > 0, "{keys} keys left");
    server.stop().await;
}
