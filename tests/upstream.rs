//! cachet as an L1 tier in front of a real redis-server (issue 6).
//!
//! Each test starts its own redis-server child on a free port (and a
//! cachet in-process whose `upstream` points at it), talks to both through
//! the `redis` crate, and checks what a client of cachet sees: writes land
//! upstream before they are acknowledged, reads are filled with their TTL,
//! other clients' upstream writes invalidate copies, and faults (restart,
//! SIGSTOP, no tracking) never make cachet serve a value the upstream no
//! longer holds. Every wait is bounded and polled.

mod common;

use common::{info_field, query, query_err, try_query, wait_until, TestServer};
use redis::aio::MultiplexedConnection;
use redis::Value;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(5);

/// A redis-server child process on a free port, restartable on the same port.
struct Upstream {
    child: Option<Child>,
    port: u16,
    extra: Vec<String>,
    dir: std::path::PathBuf,
}

impl Upstream {
    async fn start(extra: &[&str]) -> Upstream {
        let dir = std::env::temp_dir().join(format!(
            "cachet-upstream-{}-{}",
            std::process::id(),
            common::free_port()
        ));
        std::fs::create_dir_all(&dir).expect("temp dir");
        for _attempt in 0..3 {
            let mut upstream = Upstream {
                child: None,
                port: common::free_port(),
                extra: extra.iter().map(|s| s.to_string()).collect(),
                dir: dir.clone(),
            };
            if upstream.spawn().await {
                return upstream;
            }
        }
        panic!("redis-server did not start");
    }

    /// Starts the process; returns whether it answers PING.
    async fn spawn(&mut self) -> bool {
        let mut command = Command::new("redis-server");
        command
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--dir"])
            .arg(&self.dir)
            .args(&self.extra)
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        self.child = Some(command.spawn().expect("redis-server is installed"));
        let url = self.url();
        wait_until(WAIT, || {
            let url = url.clone();
            async move {
                let Ok(client) = redis::Client::open(url.as_str()) else {
                    return false;
                };
                let Ok(Ok(mut con)) = tokio::time::timeout(
                    Duration::from_millis(500),
                    client.get_multiplexed_async_connection(),
                )
                .await
                else {
                    return false;
                };
                matches!(
                    tokio::time::timeout(
                        Duration::from_millis(500),
                        redis::cmd("PING").query_async::<String>(&mut con)
                    )
                    .await,
                    Ok(Ok(_))
                )
            }
        })
        .await
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    async fn conn(&self) -> MultiplexedConnection {
        common::connect(&self.url()).await
    }

    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    async fn restart(&mut self) {
        self.kill();
        assert!(self.spawn().await, "redis-server did not restart");
    }

    fn signal(&self, signal: &str) {
        if let Some(child) = &self.child {
            let status = Command::new("kill")
                .args([signal, &child.id().to_string()])
                .status()
                .expect("kill runs");
            assert!(status.success());
        }
    }
}

impl Drop for Upstream {
    fn drop(&mut self) {
        self.signal("-CONT");
        self.kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A cachet whose upstream is `upstream`, once its link is up.
async fn cachet_before(upstream: &Upstream, tweak: impl FnOnce(&mut cachet::Config)) -> TestServer {
    let url = upstream.url();
    let server = TestServer::start_with(|c| {
        c.upstream = url;
        tweak(c);
    })
    .await;
    let mut con = server.conn().await;
    assert!(
        link_is(&con, true, WAIT).await,
        "the upstream link did not come up"
    );
    let _: String = query(&mut con, &["PING"]).await;
    server
}

/// Polls until cachet's link is up (or not), within `within`.
async fn link_is(con: &MultiplexedConnection, up: bool, within: Duration) -> bool {
    wait_until(within, || {
        let mut con = con.clone();
        async move { (upstream_field(&mut con, "upstream_link_status").await == "up") == up }
    })
    .await
}

async fn upstream_field(con: &mut MultiplexedConnection, field: &str) -> String {
    let info: String = query(con, &["INFO", "upstream"]).await;
    info_field(&info, field).unwrap_or_default()
}

async fn counter(con: &mut MultiplexedConnection, field: &str) -> u64 {
    upstream_field(con, field).await.parse().unwrap_or(0)
}

/// Polls until `args` on `con` answers `expected` (bounded).
async fn eventually(con: &MultiplexedConnection, args: &[&str], expected: Value) -> bool {
    wait_until(WAIT, || {
        let mut con = con.clone();
        let expected = expected.clone();
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        async move {
            let args: Vec<&str> = args.iter().map(|s| s.as_str()).collect();
            try_query::<Value>(&mut con, &args).await.ok() == Some(expected)
        }
    })
    .await
}

fn bulk(s: &str) -> Value {
    Value::BulkString(s.as_bytes().to_vec())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_land_upstream_and_replies_are_the_upstreams() {
    let upstream = Upstream::start(&[]).await;
    let server = cachet_before(&upstream, |_| {}).await;
    let mut l1 = server.conn().await;
    let mut direct = upstream.conn().await;

    let _: () = query(&mut l1, &["SET", "greeting", "hello"]).await;
    let stored: String = query(&mut direct, &["GET", "greeting"]).await;
    assert_eq!(stored, "hello");
    let appended: i64 = query(&mut l1, &["APPEND", "greeting", " world"]).await;
    assert_eq!(appended, 11);
    let read: String = query(&mut l1, &["GET", "greeting"]).await;
    assert_eq!(read, "hello world");

    // An error is the upstream's, word for word.
    let via_l1 = query_err(&mut l1, &["INCR", "greeting"]).await;
    let via_direct = query_err(&mut direct, &["INCR", "greeting"]).await;
    assert_eq!(via_l1, via_direct);
    let via_l1 = query_err(&mut l1, &["LPUSH", "greeting", "x"]).await;
    assert!(via_l1.starts_with("WRONGTYPE"), "{}", via_l1);

    // Multi-key writes and transactions run upstream as one.
    let _: () = query(&mut l1, &["MSET", "a", "1", "b", "2"]).await;
    let both: Vec<String> = query(&mut direct, &["MGET", "a", "b"]).await;
    assert_eq!(both, ["1", "2"]);
    let mut pipe = redis::pipe();
    pipe.atomic()
        .cmd("INCR")
        .arg("a")
        .cmd("INCRBY")
        .arg("b")
        .arg(10)
        .cmd("GET")
        .arg("a");
    let (a, b, a_again): (i64, i64, String) = pipe.query_async(&mut l1).await.expect("EXEC");
    assert_eq!((a, b, a_again.as_str()), (2, 12, "2"));
    let b_direct: i64 = query(&mut direct, &["GET", "b"]).await;
    assert_eq!(b_direct, 12);

    // Whole-keyspace reads and flushes are the upstream's.
    let _: () = query(&mut direct, &["SET", "only-upstream", "x"]).await;
    let size: i64 = query(&mut l1, &["DBSIZE"]).await;
    let direct_size: i64 = query(&mut direct, &["DBSIZE"]).await;
    assert_eq!(size, direct_size);
    let mut keys: Vec<String> = query(&mut l1, &["KEYS", "*"]).await;
    keys.sort();
    assert_eq!(keys, ["a", "b", "greeting", "only-upstream"]);
    let _: () = query(&mut l1, &["FLUSHALL"]).await;
    let size: i64 = query(&mut direct, &["DBSIZE"]).await;
    assert_eq!(size, 0);
    let gone: Option<String> = query(&mut l1, &["GET", "a"]).await;
    assert_eq!(gone, None);

    assert!(counter(&mut l1, "upstream_writes_forwarded").await >= 6);
    // Forwarded commands count in commandstats like local ones.
    let stats: String = query(&mut l1, &["INFO", "commandstats"]).await;
    let sets = info_field(&stats, "cmdstat_mset").unwrap_or_default();
    assert!(sets.starts_with("calls=1,"), "{}", stats);
    let incrs = info_field(&stats, "cmdstat_incr").unwrap_or_default();
    assert!(incrs.contains("failed_calls=1"), "{}", stats);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_fill_copies_with_their_ttl_and_are_then_local() {
    let upstream = Upstream::start(&[]).await;
    let server = cachet_before(&upstream, |_| {}).await;
    let mut l1 = server.conn().await;
    let mut direct = upstream.conn().await;

    let _: () = query(&mut direct, &["SET", "session", "s1", "PX", "60000"]).await;
    let _: () = query(&mut direct, &["HSET", "user", "name", "ada", "lang", "en"]).await;
    let _: () = query(&mut direct, &["RPUSH", "queue", "a", "b", "c"]).await;
    let _: () = query(&mut direct, &["SADD", "tags", "x", "y"]).await;
    let _: () = query(&mut direct, &["ZADD", "board", "1", "one", "2.5", "two"]).await;

    let session: String = query(&mut l1, &["GET", "session"]).await;
    assert_eq!(session, "s1");
    let user: Vec<String> = query(&mut l1, &["HMGET", "user", "name", "lang"]).await;
    assert_eq!(user, ["ada", "en"]);
    let queue: Vec<String> = query(&mut l1, &["LRANGE", "queue", "0", "-1"]).await;
    assert_eq!(queue, ["a", "b", "c"]);
    let mut tags: Vec<String> = query(&mut l1, &["SMEMBERS", "tags"]).await;
    tags.sort();
    assert_eq!(tags, ["x", "y"]);
    let board: Vec<String> = query(&mut l1, &["ZRANGE", "board", "0", "-1", "WITHSCORES"]).await;
    assert_eq!(board, ["one", "1", "two", "2.5"]);

    // The copies are local now, with the upstream's TTL on the volatile one.
    let info: String = query(&mut l1, &["INFO", "keyspace"]).await;
    assert!(info.contains("local copies"), "{}", info);
    let db0 = info_field(&info, "db0").expect("copies in db0");
    assert!(db0.starts_with("keys=5,expires=1,"), "{}", db0);
    let ttl: i64 = query(&mut l1, &["PTTL", "session"]).await;
    assert!(ttl > 50_000 && ttl <= 60_000, "{}", ttl);

    let hits_before = counter(&mut l1, "upstream_l1_hits").await;
    let fills_before = counter(&mut l1, "upstream_fills").await;
    for _ in 0..10 {
        let session: String = query(&mut l1, &["GET", "session"]).await;
        assert_eq!(session, "s1");
    }
    assert_eq!(counter(&mut l1, "upstream_fills").await, fills_before);
    assert!(counter(&mut l1, "upstream_l1_hits").await >= hits_before + 10);

    // A key the upstream lacks reads as missing, and the type checks are the upstream's.
    let missing: Option<String> = query(&mut l1, &["GET", "nothing-here"]).await;
    assert_eq!(missing, None);
    let error = query_err(&mut l1, &["GET", "user"]).await;
    assert!(error.starts_with("WRONGTYPE"), "{}", error);

    // RESP3 clients get RESP3 shapes.
    let mut l1_resp3 = common::connect(&server.url_resp3()).await;
    let user: Value = query(&mut l1_resp3, &["HGETALL", "user"]).await;
    assert!(
        matches!(user, Value::Map(ref pairs) if pairs.len() == 2),
        "{:?}",
        user
    );
    let score: Value = query(&mut l1_resp3, &["ZSCORE", "board", "two"]).await;
    assert_eq!(score, Value::Double(2.5));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upstream_max_ttl_caps_copies() {
    let upstream = Upstream::start(&[]).await;
    let server = cachet_before(&upstream, |c| c.upstream_max_ttl_ms = 300).await;
    let mut l1 = server.conn().await;
    let mut direct = upstream.conn().await;
    let _: () = query(&mut direct, &["SET", "k", "v"]).await;
    let v: String = query(&mut l1, &["GET", "k"]).await;
    assert_eq!(v, "v");
    let info: String = query(&mut l1, &["INFO", "keyspace"]).await;
    assert!(
        info_field(&info, "db0").is_some_and(|d| d.starts_with("keys=1,expires=1,")),
        "{}",
        info
    );
    // The local copy expires; the upstream key does not, and TTL is the upstream's.
    let ttl: i64 = query(&mut l1, &["TTL", "k"]).await;
    assert_eq!(ttl, -1);
    assert!(
        wait_until(WAIT, || {
            let mut l1 = l1.clone();
            async move {
                let info: String = query(&mut l1, &["INFO", "keyspace"]).await;
                info_field(&info, "db0").is_none()
            }
        })
        .await
    );
    let v: String = query(&mut l1, &["GET", "k"]).await;
    assert_eq!(v, "v");
    server.stop().await;
}

/// Create upstream, read through cachet, change upstream, then what the
/// read answers before and after the change.
type InvalidationCase = (
    &'static [&'static str],
    &'static [&'static str],
    &'static [&'static str],
    Value,
    Value,
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn other_clients_upstream_writes_invalidate_every_type() {
    let upstream = Upstream::start(&[]).await;
    let server = cachet_before(&upstream, |_| {}).await;
    let l1 = server.conn().await;
    let mut reader = l1.clone();
    let mut direct = upstream.conn().await;

    let cases: &[InvalidationCase] = &[
        (
            &["SET", "s", "1"],
            &["GET", "s"],
            &["SET", "s", "2"],
            bulk("1"),
            bulk("2"),
        ),
        (
            &["HSET", "h", "f", "1"],
            &["HGET", "h", "f"],
            &["HSET", "h", "f", "2"],
            bulk("1"),
            bulk("2"),
        ),
        (
            &["RPUSH", "l", "a"],
            &["LLEN", "l"],
            &["RPUSH", "l", "b"],
            Value::Int(1),
            Value::Int(2),
        ),
        (
            &["SADD", "set", "a"],
            &["SCARD", "set"],
            &["SADD", "set", "b"],
            Value::Int(1),
            Value::Int(2),
        ),
        (
            &["ZADD", "z", "1", "m"],
            &["ZSCORE", "z", "m"],
            &["ZADD", "z", "7", "m"],
            bulk("1"),
            bulk("7"),
        ),
        (
            &["SET", "gone", "x"],
            &["EXISTS", "gone"],
            &["DEL", "gone"],
            Value::Int(1),
            Value::Int(0),
        ),
    ];
    for (create, read, change, before, after) in cases {
        let _: Value = query(&mut direct, create).await;
        let seen: Value = query(&mut reader, read).await;
        assert_eq!(&seen, before, "{:?}", read);
        // Read again: a local hit.
        let seen: Value = query(&mut reader, read).await;
        assert_eq!(&seen, before, "{:?}", read);
        let _: Value = query(&mut direct, change).await;
        assert!(
            eventually(&l1, read, after.clone()).await,
            "{:?} never showed the upstream's change",
            read
        );
    }
    let _: () = query(&mut direct, &["FLUSHALL"]).await;
    assert!(eventually(&l1, &["GET", "s"], Value::Nil).await);
    assert!(counter(&mut reader, "upstream_invalidations").await >= 6);
    server.stop().await;
}

/// Readers keep filling a key while a writer changes it upstream: once the
/// last write is acknowledged, every read soon sees it and keeps seeing it
/// (a fill that raced an invalidation never wins).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fills_never_overwrite_newer_invalidations() {
    let upstream = Upstream::start(&[]).await;
    let server = cachet_before(&upstream, |_| {}).await;
    let mut direct = upstream.conn().await;
    let _: () = query(&mut direct, &["SET", "counter", "0"]).await;
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut readers = Vec::new();
    for _ in 0..4 {
        let mut con = server.conn().await;
        let stop = stop.clone();
        readers.push(tokio::spawn(async move {
            let mut last = 0i64;
            let mut reads = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) && reads < 20_000 {
                let value: i64 = query(&mut con, &["GET", "counter"]).await;
                // Each reader's view only moves forward.
                assert!(value >= last, "read {} after {}", value, last);
                last = value;
                reads += 1;
            }
        }));
    }
    let writes = 300;
    for _ in 0..writes {
        let _: i64 = query(&mut direct, &["INCR", "counter"]).await;
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for reader in readers {
        reader.await.expect("reader");
    }
    let l1 = server.conn().await;
    assert!(eventually(&l1, &["GET", "counter"], bulk(&writes.to_string())).await);
    let mut l1 = l1;
    for _ in 0..50 {
        let value: i64 = query(&mut l1, &["GET", "counter"]).await;
        assert_eq!(value, writes);
    }
    server.stop().await;
}

/// Concurrent misses on one key make one upstream fetch: the upstream is
/// paused while twenty clients miss, so all of them are in flight at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_misses_make_one_fetch() {
    let upstream = Upstream::start(&[]).await;
    let server = cachet_before(&upstream, |c| {
        c.upstream_timeout_ms = 5000;
        c.upstream_down_after_ms = 10_000;
    })
    .await;
    let mut direct = upstream.conn().await;
    let _: () = query(&mut direct, &["SET", "hot", "value"]).await;
    let _: () = query(&mut direct, &["CONFIG", "RESETSTAT"]).await;
    let mut l1 = server.conn().await;
    let fills_before = counter(&mut l1, "upstream_fills").await;
    upstream.signal("-STOP");
    let mut clients = Vec::new();
    for _ in 0..20 {
        let mut con = common::connect_for_blocking(&server.url()).await;
        clients.push(tokio::spawn(async move {
            let value: String = query(&mut con, &["GET", "hot"]).await;
            value
        }));
    }
    // All twenty are waiting on the one fill.
    assert!(
        wait_until(WAIT, || {
            let mut l1 = l1.clone();
            async move { counter(&mut l1, "upstream_l1_misses").await >= 20 }
        })
        .await
    );
    upstream.signal("-CONT");
    for client in clients {
        assert_eq!(client.await.expect("client"), "value");
    }
    assert_eq!(counter(&mut l1, "upstream_fills").await, fills_before + 1);
    let stats: String = query(&mut direct, &["INFO", "commandstats"]).await;
    let dumps = info_field(&stats, "cmdstat_dump").unwrap_or_default();
    assert!(dumps.starts_with("calls=1,"), "{}", dumps);
    server.stop().await;
}

/// The upstream dies and comes back (with its AOF): no acknowledged write
/// is lost, nothing is served while it is away, and no copy from before
/// the outage is served after it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upstream_restart_loses_no_write_and_serves_nothing_stale() {
    let mut upstream = Upstream::start(&["--appendonly", "yes", "--appendfsync", "always"]).await;
    let server = cachet_before(&upstream, |_| {}).await;
    let mut l1 = server.conn().await;
    let _: () = query(&mut l1, &["SET", "k", "before"]).await;
    let v: String = query(&mut l1, &["GET", "k"]).await;
    assert_eq!(v, "before");

    let mut acknowledged = Vec::new();
    for i in 0..20 {
        if i == 10 {
            upstream.kill();
            // The link notices the closed connection.
            assert!(link_is(&l1, false, WAIT).await);
            let error = query_err(&mut l1, &["GET", "k"]).await;
            assert!(error.starts_with("UPSTREAMDOWN"), "{}", error);
            assert!(error.contains(&upstream.port.to_string()), "{}", error);
            let error = query_err(&mut l1, &["SET", "w", "x"]).await;
            assert!(error.starts_with("UPSTREAMDOWN"), "{}", error);
            // Someone changes the key while cachet cannot hear about it.
            upstream.restart().await;
            let mut direct = upstream.conn().await;
            let _: () = query(&mut direct, &["SET", "k", "after"]).await;
        }
        let key = format!("w{}", i);
        let result: redis::RedisResult<()> = try_query(&mut l1, &["SET", &key, "x"]).await;
        if result.is_ok() {
            acknowledged.push(key);
        }
    }
    // After the outage, the link is back and the old copy is gone.
    assert!(eventually(&l1, &["GET", "k"], bulk("after")).await);
    let mut direct = upstream.conn().await;
    for key in &acknowledged {
        let exists: i64 = query(&mut direct, &["EXISTS", key]).await;
        assert_eq!(exists, 1, "acknowledged write {} was lost", key);
    }
    assert!(acknowledged.len() >= 10);
    assert!(counter(&mut l1, "upstream_reconnects").await >= 1);
    server.stop().await;
}

/// A paused upstream (SIGSTOP): local hits are still served, writes fail
/// with a clear timeout, and the link carries on when it resumes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paused_upstream_still_serves_hits_and_writes_time_out() {
    let upstream = Upstream::start(&[]).await;
    let server = cachet_before(&upstream, |c| {
        c.upstream_timeout_ms = 200;
        c.upstream_down_after_ms = 30_000;
    })
    .await;
    let mut l1 = server.conn().await;
    let _: () = query(&mut l1, &["SET", "k", "v"]).await;
    let v: String = query(&mut l1, &["GET", "k"]).await;
    assert_eq!(v, "v");
    upstream.signal("-STOP");
    for _ in 0..20 {
        let v: String = query(&mut l1, &["GET", "k"]).await;
        assert_eq!(v, "v");
    }
    let error = query_err(&mut l1, &["SET", "other", "x"]).await;
    assert!(error.starts_with("UPSTREAMTIMEOUT"), "{}", error);
    assert!(error.contains(&upstream.port.to_string()), "{}", error);
    let error = query_err(&mut l1, &["GET", "not-cached"]).await;
    assert!(error.starts_with("UPSTREAMTIMEOUT"), "{}", error);
    // Another client of cachet with a local hit is not held up meanwhile.
    let mut other = server.conn().await;
    let v: String = query(&mut other, &["GET", "k"]).await;
    assert_eq!(v, "v");
    upstream.signal("-CONT");
    let _: () = query(&mut l1, &["SET", "k", "v2"]).await;
    let v: String = query(&mut l1, &["GET", "k"]).await;
    assert_eq!(v, "v2");
    let mut direct = upstream.conn().await;
    let other_value: Option<String> = query(&mut direct, &["GET", "other"]).await;
    // The timed-out write may or may not have landed; nothing else is possible.
    assert!(matches!(other_value.as_deref(), None | Some("x")));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_stale_yes_serves_cached_keys_while_down() {
    let mut upstream = Upstream::start(&[]).await;
    let server = cachet_before(&upstream, |c| c.upstream_serve_stale = true).await;
    let mut l1 = server.conn().await;
    let _: () = query(&mut l1, &["SET", "k", "v"]).await;
    let v: String = query(&mut l1, &["GET", "k"]).await;
    assert_eq!(v, "v");
    upstream.kill();
    assert!(link_is(&l1, false, WAIT).await);
    let v: String = query(&mut l1, &["GET", "k"]).await;
    assert_eq!(v, "v");
    let error = query_err(&mut l1, &["GET", "miss"]).await;
    assert!(error.starts_with("UPSTREAMDOWN"), "{}", error);
    let error = query_err(&mut l1, &["SET", "k", "w"]).await;
    assert!(error.starts_with("UPSTREAMDOWN"), "{}", error);
    // Back up (empty, no persistence): the stale copy is dropped.
    upstream.restart().await;
    assert!(eventually(&l1, &["GET", "k"], Value::Nil).await);
    server.stop().await;
}

/// An upstream user that may not run CLIENT: no tracking, so INFO says so
/// and copies live at most upstream-max-ttl.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_tracking_copies_are_bounded_by_max_ttl() {
    let upstream = Upstream::start(&[]).await;
    let mut direct = upstream.conn().await;
    let _: () = query(
        &mut direct,
        &[
            "ACL", "SETUSER", "l1", "on", ">pw", "~*", "+@all", "-client",
        ],
    )
    .await;
    let url = format!("redis://l1:pw@127.0.0.1:{}", upstream.port);
    let server = TestServer::start_with(|c| {
        c.upstream = url;
        c.upstream_max_ttl_ms = 200;
    })
    .await;
    let mut l1 = server.conn().await;
    assert!(link_is(&l1, true, WAIT).await);
    assert_eq!(upstream_field(&mut l1, "upstream_tracking").await, "off");
    let _: () = query(&mut direct, &["SET", "k", "1"]).await;
    let v: String = query(&mut l1, &["GET", "k"]).await;
    assert_eq!(v, "1");
    let _: () = query(&mut direct, &["SET", "k", "2"]).await;
    // No invalidation comes, but the copy's life is capped.
    assert!(eventually(&l1, &["GET", "k"], bulk("2")).await);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broadcast_tracking_caches_only_its_prefixes() {
    let upstream = Upstream::start(&[]).await;
    let server = cachet_before(&upstream, |c| {
        c.upstream_tracking_prefixes = vec!["user:".into()];
    })
    .await;
    let mut l1 = server.conn().await;
    assert_eq!(upstream_field(&mut l1, "upstream_tracking").await, "bcast");
    let mut direct = upstream.conn().await;
    let _: () = query(&mut direct, &["MSET", "user:1", "a", "other", "b"]).await;
    let v: String = query(&mut l1, &["GET", "user:1"]).await;
    assert_eq!(v, "a");
    let v: String = query(&mut l1, &["GET", "other"]).await;
    assert_eq!(v, "b");
    let info: String = query(&mut l1, &["INFO", "keyspace"]).await;
    assert!(
        info_field(&info, "db0").is_some_and(|d| d.starts_with("keys=1,")),
        "{}",
        info
    );
    let _: () = query(&mut direct, &["SET", "user:1", "c"]).await;
    assert!(eventually(&l1, &["GET", "user:1"], bulk("c")).await);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blocking_pops_wait_on_the_upstream() {
    let upstream = Upstream::start(&[]).await;
    let server = cachet_before(&upstream, |_| {}).await;
    let mut waiter = common::connect_for_blocking(&server.url()).await;
    let popped = tokio::spawn(async move {
        let popped: Option<(String, String)> = query(&mut waiter, &["BLPOP", "jobs", "5"]).await;
        popped
    });
    let mut direct = upstream.conn().await;
    assert!(
        wait_until(WAIT, || {
            let mut direct = direct.clone();
            async move {
                let clients: String = query(&mut direct, &["CLIENT", "LIST"]).await;
                clients.contains("cmd=blpop")
            }
        })
        .await
    );
    let _: i64 = query(&mut direct, &["RPUSH", "jobs", "j1"]).await;
    let popped = popped.await.expect("waiter");
    assert_eq!(popped, Some(("jobs".into(), "j1".into())));
    // A timeout is the null array, as Redis answers it.
    let mut con = common::connect_for_blocking(&server.url()).await;
    let nothing: Value = query(&mut con, &["BLPOP", "jobs", "0.1"]).await;
    assert_eq!(nothing, Value::Nil);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scripts_that_write_run_upstream_and_read_only_ones_locally() {
    let upstream = Upstream::start(&[]).await;
    let server = cachet_before(&upstream, |_| {}).await;
    let mut l1 = server.conn().await;
    let mut direct = upstream.conn().await;
    let incr = "return redis.call('incr', KEYS[1])";

    // A cached copy of the key, then a writing script: it runs upstream
    // (the upstream has never seen it: EVALSHA falls back to EVAL) and the
    // copy is dropped, so the next read is the upstream's value.
    let _: () = query(&mut direct, &["SET", "counter", "10"]).await;
    let cached: String = query(&mut l1, &["GET", "counter"]).await;
    assert_eq!(cached, "10");
    let sha: String = query(&mut l1, &["SCRIPT", "LOAD", incr]).await;
    let upstream_has: Vec<i64> = query(&mut direct, &["SCRIPT", "EXISTS", &sha]).await;
    assert_eq!(upstream_has, [0]);
    let after: i64 = query(&mut l1, &["EVALSHA", &sha, "1", "counter"]).await;
    assert_eq!(after, 11);
    let upstream_has: Vec<i64> = query(&mut direct, &["SCRIPT", "EXISTS", &sha]).await;
    assert_eq!(upstream_has, [1]);
    let read: String = query(&mut l1, &["GET", "counter"]).await;
    assert_eq!(read, "11");
    let by_body: i64 = query(&mut l1, &["EVAL", incr, "1", "counter"]).await;
    assert_eq!(by_body, 12);
    let stored: String = query(&mut direct, &["GET", "counter"]).await;
    assert_eq!(stored, "12");

    // Read-only scripts run here, on filled copies; writes inside them fail.
    let forwarded = counter(&mut l1, "upstream_writes_forwarded").await;
    let read: String = query(
        &mut l1,
        &[
            "EVAL_RO",
            "return redis.call('get', KEYS[1])",
            "1",
            "counter",
        ],
    )
    .await;
    assert_eq!(read, "12");
    let flagged = "#!lua flags=no-writes\nreturn redis.call('get', KEYS[1])";
    let read: String = query(&mut l1, &["EVAL", flagged, "1", "counter"]).await;
    assert_eq!(read, "12");
    assert_eq!(
        counter(&mut l1, "upstream_writes_forwarded").await,
        forwarded
    );
    let refused = query_err(
        &mut l1,
        &[
            "EVAL_RO",
            "return redis.call('set', KEYS[1], 'x')",
            "1",
            "counter",
        ],
    )
    .await;
    assert!(
        refused.contains("Write commands are not allowed from read-only scripts"),
        "{}",
        refused
    );

    // An unknown SHA1 is the upstream's NOSCRIPT.
    let missing = query_err(
        &mut l1,
        &["EVALSHA", "0123456789012345678901234567890123456789", "0"],
    )
    .await;
    assert!(missing.starts_with("NOSCRIPT"), "{}", missing);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commands_that_cannot_work_through_an_upstream_say_so() {
    let upstream = Upstream::start(&[]).await;
    let server = cachet_before(&upstream, |_| {}).await;
    let mut l1 = server.conn().await;
    let error = query_err(&mut l1, &["WATCH", "k"]).await;
    assert!(error.contains("upstream"), "{}", error);
    let error = query_err(&mut l1, &["SELECT", "1"]).await;
    assert!(error.contains("upstream"), "{}", error);
    let _: () = query(&mut l1, &["SELECT", "0"]).await;
    let error = query_err(
        &mut l1,
        &["CONFIG", "SET", "upstream", "memcached://127.0.0.1:1"],
    )
    .await;
    assert!(error.contains("redis-cluster:// URL"), "{}", error);
    server.stop().await;
}

/// A port whose cluster bus port (port + 10000) is free too.
fn cluster_port() -> u16 {
    for _ in 0..100 {
        let port = common::free_port();
        if port < 55_000 && std::net::TcpListener::bind(("127.0.0.1", port + 10_000)).is_ok() {
            return port;
        }
    }
    panic!("no free port pair for a cluster node");
}

/// Three masters, created with `redis-cli --cluster create`.
async fn start_cluster() -> Vec<Upstream> {
    let mut nodes = Vec::new();
    for _ in 0..3 {
        let port = cluster_port();
        let dir =
            std::env::temp_dir().join(format!("cachet-cluster-{}-{}", std::process::id(), port));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let mut node = Upstream {
            child: None,
            port,
            extra: vec![
                "--cluster-enabled".into(),
                "yes".into(),
                "--cluster-config-file".into(),
                dir.join("nodes.conf").display().to_string(),
            ],
            dir,
        };
        assert!(node.spawn().await, "cluster node did not start");
        nodes.push(node);
    }
    let addresses: Vec<String> = nodes
        .iter()
        .map(|n| format!("127.0.0.1:{}", n.port))
        .collect();
    let status = Command::new("redis-cli")
        .args(["--cluster", "create"])
        .args(&addresses)
        .args(["--cluster-replicas", "0", "--cluster-yes"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("redis-cli runs");
    assert!(status.success(), "redis-cli --cluster create failed");
    for node in &nodes {
        let con = node.conn().await;
        assert!(
            wait_until(Duration::from_secs(20), || {
                let mut con = con.clone();
                async move {
                    let info: String = query(&mut con, &["CLUSTER", "INFO"]).await;
                    info.contains("cluster_state:ok")
                }
            })
            .await,
            "the cluster did not come up"
        );
    }
    nodes
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_master_cluster_upstream() {
    let nodes = start_cluster().await;
    let url = format!(
        "redis-cluster://127.0.0.1:{},127.0.0.1:{}",
        nodes[0].port, nodes[1].port
    );
    let server = TestServer::start_with(|c| c.upstream = url).await;
    // Pipelines of a thousand misses outlast the crate's 500 ms default;
    // each is bounded by the timeouts below instead.
    let mut l1 = common::connect_for_blocking(&server.url()).await;
    assert!(
        link_is(&l1, true, Duration::from_secs(10)).await,
        "the cluster link did not come up"
    );
    assert_eq!(
        upstream_field(&mut l1, "upstream_tracking").await,
        "default"
    );
    let cluster =
        redis::cluster::ClusterClient::new(nodes.iter().map(|n| n.url()).collect::<Vec<_>>())
            .expect("cluster client");
    let mut direct = tokio::time::timeout(WAIT, cluster.get_async_connection())
        .await
        .expect("cluster connect in time")
        .expect("cluster connect");

    // One key in every one of the 16384 slots (a hash tag per slot):
    // written through cachet, read back through it and directly.
    let mut tag_of_slot: Vec<Option<u64>> = vec![None; 16384];
    let mut missing = 16384;
    let mut n = 0u64;
    while missing > 0 && n < 10_000_000 {
        let slot = cachet::upstream::slot::slot_of(format!("{{{}}}", n).as_bytes()) as usize;
        if tag_of_slot[slot].is_none() {
            tag_of_slot[slot] = Some(n);
            missing -= 1;
        }
        n += 1;
    }
    let keys: Vec<String> = tag_of_slot
        .iter()
        .map(|t| format!("{{{}}}k", t.expect("a tag for every slot")))
        .collect();
    for chunk in keys.chunks(512) {
        let mut pipe = redis::pipe();
        for key in chunk {
            pipe.cmd("SET").arg(key).arg(key).ignore();
        }
        let _: () = tokio::time::timeout(WAIT * 4, pipe.query_async(&mut l1))
            .await
            .expect("SETs through cachet in time")
            .expect("SETs through cachet");
    }
    for node in &nodes {
        let size: i64 = query(&mut node.conn().await, &["DBSIZE"]).await;
        assert!(size > 4000, "a master holds only {} keys", size);
    }
    for chunk in keys.chunks(512) {
        let mut pipe = redis::pipe();
        for key in chunk {
            pipe.cmd("GET").arg(key);
        }
        let via_l1: Vec<String> = tokio::time::timeout(WAIT * 4, pipe.query_async(&mut l1))
            .await
            .expect("GETs through cachet in time")
            .expect("GETs through cachet");
        assert_eq!(via_l1, chunk);
        // The cluster client takes no pipeline across slots: a sample, one by one.
        for key in chunk.iter().step_by(64) {
            let direct_value: String = redis::cmd("GET")
                .arg(key)
                .query_async(&mut direct)
                .await
                .expect("direct GET");
            assert_eq!(&direct_value, key);
        }
    }
    assert!(counter(&mut l1, "upstream_fills").await >= keys.len() as u64);
    let info: String = query(&mut l1, &["INFO", "keyspace"]).await;
    assert!(
        info_field(&info, "db0").is_some_and(|d| d.starts_with("keys=16384,")),
        "{}",
        info
    );

    // Another client's writes on any master invalidate the copies.
    for key in keys.iter().step_by(331) {
        let _: () = redis::cmd("SET")
            .arg(key)
            .arg("changed")
            .query_async(&mut direct)
            .await
            .expect("direct SET");
        assert!(
            eventually(&l1, &["GET", key], bulk("changed")).await,
            "{} kept its old value",
            key
        );
    }
    // Cluster rules are the cluster's: keys of different slots in one command fail.
    let error = query_err(&mut l1, &["MSET", "a", "1", "b", "2"]).await;
    assert!(error.starts_with("CROSSSLOT"), "{}", error);
    let _: () = query(&mut l1, &["MSET", "{t}a", "1", "{t}b", "2"]).await;
    let both: Vec<String> = query(&mut l1, &["MGET", "{t}a", "{t}b"]).await;
    assert_eq!(both, ["1", "2"]);
    server.stop().await;
}

/// A write to a key with a copy replaces the copy with the upstream's new
/// value (no refill on the next read), and the upstream keeps tracking it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_to_cached_keys_refresh_their_copies() {
    let upstream = Upstream::start(&[]).await;
    let server = cachet_before(&upstream, |_| {}).await;
    let mut l1 = server.conn().await;
    let mut direct = upstream.conn().await;
    let _: () = query(&mut direct, &["SET", "k", "1"]).await;
    let _: () = query(&mut direct, &["RPUSH", "l", "a"]).await;
    let v: String = query(&mut l1, &["GET", "k"]).await;
    assert_eq!(v, "1");
    let n: i64 = query(&mut l1, &["LLEN", "l"]).await;
    assert_eq!(n, 1);
    let misses = counter(&mut l1, "upstream_l1_misses").await;

    let v: i64 = query(&mut l1, &["INCR", "k"]).await;
    assert_eq!(v, 2);
    let n: i64 = query(&mut l1, &["RPUSH", "l", "b"]).await;
    assert_eq!(n, 2);
    let _: () = query(&mut l1, &["EXPIRE", "k", "100"]).await;
    let v: String = query(&mut l1, &["GET", "k"]).await;
    assert_eq!(v, "2");
    let items: Vec<String> = query(&mut l1, &["LRANGE", "l", "0", "-1"]).await;
    assert_eq!(items, ["a", "b"]);
    let info: String = query(&mut l1, &["INFO", "keyspace"]).await;
    assert!(
        info_field(&info, "db0").is_some_and(|d| d.starts_with("keys=2,expires=1,")),
        "{}",
        info
    );
    assert_eq!(counter(&mut l1, "upstream_l1_misses").await, misses);
    // An error reply is still the upstream's, and the copy stays right.
    let error = query_err(&mut l1, &["LPUSH", "k", "x"]).await;
    assert!(error.starts_with("WRONGTYPE"), "{}", error);
    let v: String = query(&mut l1, &["GET", "k"]).await;
    assert_eq!(v, "2");

    // Someone else's write after cachet's still invalidates the refreshed copy.
    let _: () = query(&mut direct, &["SET", "k", "from-elsewhere"]).await;
    assert!(eventually(&l1, &["GET", "k"], bulk("from-elsewhere")).await);
    let _: () = query(&mut l1, &["DEL", "k"]).await;
    let gone: Option<String> = query(&mut l1, &["GET", "k"]).await;
    assert_eq!(gone, None);
    server.stop().await;
}

/// Local memory limits evict copies only: the upstream keeps every key.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn evicting_copies_never_touches_the_upstream() {
    let upstream = Upstream::start(&[]).await;
    let server = cachet_before(&upstream, |c| {
        c.maxmemory = 4 * 1024 * 1024;
        c.maxmemory_policy = "allkeys-lru".into();
    })
    .await;
    let mut l1 = common::connect_for_blocking(&server.url()).await;
    let mut direct = upstream.conn().await;
    let value = "v".repeat(1000);
    let keys = 8000;
    for chunk in (0..keys).collect::<Vec<_>>().chunks(500) {
        let mut pipe = redis::pipe();
        for i in chunk {
            pipe.cmd("SET").arg(format!("k{}", i)).arg(&value).ignore();
        }
        let _: () = pipe.query_async(&mut direct).await.expect("preload");
    }
    for chunk in (0..keys).collect::<Vec<_>>().chunks(500) {
        let mut pipe = redis::pipe();
        for i in chunk {
            pipe.cmd("GET").arg(format!("k{}", i));
        }
        let values: Vec<String> = tokio::time::timeout(WAIT * 4, pipe.query_async(&mut l1))
            .await
            .expect("reads in time")
            .expect("reads");
        assert!(values.iter().all(|v| *v == value));
    }
    let stats: String = query(&mut l1, &["INFO", "stats"]).await;
    let evicted: u64 = info_field(&stats, "evicted_keys")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    assert!(evicted > 0, "nothing was evicted: {}", stats);
    let size: i64 = query(&mut direct, &["DBSIZE"]).await;
    assert_eq!(size, keys as i64);
    // Writes are not refused for local memory: they go upstream.
    let _: () = query(&mut l1, &["SET", "one-more", &value]).await;
    let size: i64 = query(&mut direct, &["DBSIZE"]).await;
    assert_eq!(size, keys as i64 + 1);
    server.stop().await;
}

/// The upstream dies between MULTI and EXEC: EXEC fails cleanly, nothing
/// hangs, and transactions work again once it is back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upstream_restart_mid_transaction() {
    let mut upstream = Upstream::start(&[]).await;
    let server = cachet_before(&upstream, |_| {}).await;
    let mut l1 = server.conn().await;
    let _: () = query(&mut l1, &["MULTI"]).await;
    let queued: String = query(&mut l1, &["SET", "t", "1"]).await;
    assert_eq!(queued, "QUEUED");
    upstream.kill();
    let error = query_err(&mut l1, &["EXEC"]).await;
    assert!(error.starts_with("UPSTREAM"), "{}", error);
    // EXEC ended the transaction.
    let error = query_err(&mut l1, &["EXEC"]).await;
    assert_eq!(error, "ERR EXEC without MULTI");
    upstream.restart().await;
    assert!(link_is(&l1, true, WAIT).await);
    let mut pipe = redis::pipe();
    pipe.atomic()
        .cmd("SET")
        .arg("t")
        .arg("2")
        .cmd("GET")
        .arg("t");
    let ((), value): ((), String) = pipe.query_async(&mut l1).await.expect("EXEC after restart");
    assert_eq!(value, "2");
    server.stop().await;
}

/// CONFIG SET moves cachet between upstreams at run time: copies of the
/// old one are never served as data of the new one, nor as standalone data.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn config_set_upstream_switches_and_unsets_cleanly() {
    let first = Upstream::start(&[]).await;
    let second = Upstream::start(&[]).await;
    let server = cachet_before(&first, |c| c.upstream_serve_stale = true).await;
    let mut l1 = server.conn().await;
    let _: () = query(&mut first.conn().await, &["SET", "k", "first"]).await;
    let _: () = query(&mut second.conn().await, &["SET", "k", "second"]).await;
    let v: String = query(&mut l1, &["GET", "k"]).await;
    assert_eq!(v, "first");

    let _: () = query(&mut l1, &["CONFIG", "SET", "upstream", &second.url()]).await;
    assert!(eventually(&l1, &["GET", "k"], bulk("second")).await);
    let address = upstream_field(&mut l1, "upstream_address").await;
    assert_eq!(address, format!("127.0.0.1:{}", second.port));

    let _: () = query(&mut l1, &["CONFIG", "SET", "upstream", ""]).await;
    // Standalone again: the copy went with the upstream.
    assert!(eventually(&l1, &["GET", "k"], Value::Nil).await);
    let _: () = query(&mut l1, &["SET", "local", "x"]).await;
    let local: Option<String> = query(&mut second.conn().await, &["GET", "local"]).await;
    assert_eq!(local, None);
    server.stop().await;
}
