//! Client-side caching: CLIENT TRACKING and the invalidation messages it
//! produces, checked against Redis 7.0's `tracking.c`.
//!
//! * Default mode over RESP3: what a read remembers (every key of MGET,
//!   missing keys too, nothing for write commands), which writes invalidate
//!   (and that no-op writes do not), that a change is told once until the
//!   key is read again, in every database, to every client that read it,
//!   key by key in argument order, and before the reply to anything the
//!   client sends later; a change drops the key's entry even while nobody
//!   tracks.
//! * A client's own changes: the invalidation follows the reply (after EXEC
//!   for a transaction, after the reply of an unblocked BLMOVE); NOLOOP.
//! * REDIRECT: RESP2 messages on `__redis__:invalidate` (through the raw
//!   client and the `redis` crate's PubSub), pushes to a RESP3 client, the
//!   errors, and the `tracking-redir-broken` push once the target is gone.
//! * BCAST: one message per prefix, the empty prefix, NOLOOP, adding
//!   prefixes, and the option errors (prefix collisions, PREFIX without
//!   BCAST, mode switches, OPTIN/OPTOUT combinations, syntax).
//! * OPTIN / OPTOUT with CLIENT CACHING, and CLIENT CACHING's errors.
//! * FLUSHALL / FLUSHDB: the null invalidation, and an empty table after.
//! * Expiry (active, and lazy with active expiry off) and
//!   `tracking-table-max-keys`.
//! * Introspection: CLIENT TRACKINGINFO (RESP3 and RESP2), CLIENT GETREDIR,
//!   INFO's tracking fields, CLIENT LIST's `t`/`R`/`B` flags and `redir=`.
//! * CLIENT REPLY OFF keeps pushes flowing; RESET turns tracking off; the
//!   `redis` crate's RESP3 push channel receives invalidations.
//!
//! "Nothing else was sent" is checked with a PING sentinel: an invalidation
//! caused by another client's command is queued before that command's reply
//! (Redis is single-threaded; cachet queues it while the key's shard is
//! locked), so once the writer has its reply, a PING from the tracking
//! client is answered after any invalidation that is due. Every read is
//! bounded by [`IO_TIMEOUT`]; waits for a state poll with a deadline.
//!
//! The lazy-expiry tests need `DEBUG SET-ACTIVE-EXPIRE 0`, which a stock
//! redis-server 7.0 refuses (`enable-debug-command no`): in reference mode
//! they start their own redis-server with `--enable-debug-command local`
//! ([`DebugServer`]).

mod common;

use common::*;
use futures_util::StreamExt;
use redis::aio::MultiplexedConnection;
use redis::Value;
use std::net::SocketAddr;
use std::time::Duration;

const CHANNEL: &str = "__redis__:invalidate";

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

/// A raw connection switched to RESP3 with `HELLO 3`.
async fn resp3_at(addr: SocketAddr) -> RawConn {
    let mut raw = RawConn::connect(addr).await;
    match raw.cmd(&["HELLO", "3"]).await {
        Reply::Map(_) => {}
        other => panic!("HELLO 3 answered {:?}", other),
    }
    raw
}

async fn resp3(server: &TestServer) -> RawConn {
    resp3_at(server.addr()).await
}

/// A RESP3 raw connection with `CLIENT TRACKING ON <options>`.
async fn tracker_at(addr: SocketAddr, options: &[&str]) -> RawConn {
    let mut raw = resp3_at(addr).await;
    tracking_on(&mut raw, options).await;
    raw
}

async fn tracker(server: &TestServer, options: &[&str]) -> RawConn {
    tracker_at(server.addr(), options).await
}

/// `CLIENT TRACKING ON <options>`, which must succeed.
async fn tracking_on(raw: &mut RawConn, options: &[&str]) {
    let mut args = vec!["CLIENT", "TRACKING", "ON"];
    args.extend_from_slice(options);
    assert_eq!(raw.cmd(&args).await, Reply::ok(), "{:?}", args);
}

/// The error a raw command answers (panics on anything else).
async fn error_of(raw: &mut RawConn, args: &[&str]) -> String {
    match raw.cmd(args).await {
        Reply::Error(e) => e,
        other => panic!("{:?} should have failed, got {:?}", args, other),
    }
}

/// The push `invalidate [keys...]`.
fn invalidate(keys: &[&str]) -> Reply {
    Reply::Push(vec![Reply::bulk("invalidate"), bulks(keys)])
}

/// The push `invalidate _` (everything: FLUSHALL / FLUSHDB).
fn invalidate_all() -> Reply {
    Reply::Push(vec![Reply::bulk("invalidate"), Reply::Null])
}

fn bulks(items: &[&str]) -> Reply {
    Reply::array(items.iter().map(|k| Reply::bulk(k)).collect())
}

/// A RESP2 message on `__redis__:invalidate` carrying `payload`.
fn invalidation_message(payload: Reply) -> Reply {
    Reply::array(vec![Reply::bulk("message"), Reply::bulk(CHANNEL), payload])
}

/// Sends PING and returns what came before its PONG: everything already
/// due to this RESP3 connection.
async fn pushes_before_pong(raw: &mut RawConn) -> Vec<Reply> {
    raw.send(&encode_command(&["PING"])).await;
    let mut before = Vec::new();
    loop {
        match raw.read_reply().await {
            Reply::Simple(s) if s == "PONG" => return before,
            push @ Reply::Push(_) => before.push(push),
            other => panic!("unexpected reply before PONG: {:?}", other),
        }
        assert!(before.len() < 1000, "endless pushes: {:?}", before);
    }
}

/// Sends a command and returns the pushes read before its reply, and the reply.
async fn cmd_after_pushes(raw: &mut RawConn, args: &[&str]) -> (Vec<Reply>, Reply) {
    raw.send(&encode_command(args)).await;
    let mut before = Vec::new();
    loop {
        match raw.read_reply().await {
            push @ Reply::Push(_) => before.push(push),
            reply => return (before, reply),
        }
        assert!(before.len() < 1000, "endless pushes: {:?}", before);
    }
}

/// Asserts that nothing is due to this RESP3 connection.
async fn assert_nothing_due(raw: &mut RawConn) {
    let due = pushes_before_pong(raw).await;
    assert!(due.is_empty(), "unexpected pushes: {:?}", due);
}

/// The keys of every `invalidate` push, each push's keys sorted, the pushes
/// sorted (BCAST messages of different prefixes come in no promised order).
fn sorted_key_lists(pushes: &[Reply]) -> Vec<Vec<String>> {
    let mut lists: Vec<Vec<String>> = pushes
        .iter()
        .map(|push| match push {
            Reply::Push(items) if items.len() == 2 && items[0] == Reply::bulk("invalidate") => {
                match &items[1] {
                    Reply::Array(Some(keys)) => {
                        let mut keys: Vec<String> = keys.iter().map(Reply::text).collect();
                        keys.sort();
                        keys
                    }
                    other => panic!("invalidate without keys: {:?}", other),
                }
            }
            other => panic!("not an invalidate push: {:?}", other),
        })
        .collect();
    lists.sort();
    lists
}

fn lists(expected: &[&[&str]]) -> Vec<Vec<String>> {
    let mut lists: Vec<Vec<String>> = expected
        .iter()
        .map(|keys| {
            let mut keys: Vec<String> = keys.iter().map(|k| k.to_string()).collect();
            keys.sort();
            keys
        })
        .collect();
    lists.sort();
    lists
}

/// A RESP2 raw connection subscribed to `__redis__:invalidate`, and its id.
async fn invalidation_subscriber_at(addr: SocketAddr) -> (RawConn, i64) {
    let mut raw = RawConn::connect(addr).await;
    let id = client_id(&mut raw).await;
    assert_eq!(
        raw.cmd(&["SUBSCRIBE", CHANNEL]).await,
        Reply::array(vec![
            Reply::bulk("subscribe"),
            Reply::bulk(CHANNEL),
            Reply::Int(1)
        ])
    );
    (raw, id)
}

async fn invalidation_subscriber(server: &TestServer) -> (RawConn, i64) {
    invalidation_subscriber_at(server.addr()).await
}

/// Sends PING on a RESP2 subscriber and returns the messages before its
/// `["pong", ""]`.
async fn messages_before_pong(raw: &mut RawConn) -> Vec<Reply> {
    raw.send(&encode_command(&["PING"])).await;
    let pong = bulks(&["pong", ""]);
    let mut before = Vec::new();
    loop {
        let reply = raw.read_reply().await;
        if reply == pong {
            return before;
        }
        before.push(reply);
        assert!(before.len() < 1000, "endless messages: {:?}", before);
    }
}

async fn client_id(raw: &mut RawConn) -> i64 {
    match raw.cmd(&["CLIENT", "ID"]).await {
        Reply::Int(id) => id,
        other => panic!("CLIENT ID answered {:?}", other),
    }
}

/// Runs a command on a `redis` crate connection, ignoring its reply.
async fn run(con: &mut MultiplexedConnection, args: &[&str]) {
    query::<Value>(con, args).await;
}

async fn info(con: &mut MultiplexedConnection) -> String {
    query(con, &["INFO"]).await
}

fn info_number(info: &str, field: &str) -> i64 {
    info_field(info, field)
        .unwrap_or_else(|| panic!("no {} in INFO", field))
        .parse()
        .expect("numeric INFO field")
}

/// INFO's (tracking_clients, tracking_total_keys, tracking_total_items,
/// tracking_total_prefixes).
async fn tracking_counters(con: &mut MultiplexedConnection) -> (i64, i64, i64, i64) {
    let info = info(con).await;
    (
        info_number(&info, "tracking_clients"),
        info_number(&info, "tracking_total_keys"),
        info_number(&info, "tracking_total_items"),
        info_number(&info, "tracking_total_prefixes"),
    )
}

/// The CLIENT LIST line of client `id` ("" once it is gone).
async fn client_line(con: &mut MultiplexedConnection, id: i64) -> String {
    let list: String = query(con, &["CLIENT", "LIST", "ID", &id.to_string()]).await;
    list.trim().to_string()
}

/// A `name=value` field of a CLIENT LIST line.
fn line_field(line: &str, name: &str) -> String {
    line.split(' ')
        .find_map(|part| part.strip_prefix(name)?.strip_prefix('='))
        .unwrap_or_else(|| panic!("no {} in {:?}", name, line))
        .to_string()
}

/// Waits (bounded) until client `id` no longer appears in CLIENT LIST.
async fn wait_gone(con: &mut MultiplexedConnection, id: i64) {
    let gone = wait_until(IO_TIMEOUT, || {
        let mut con = con.clone();
        async move { client_line(&mut con, id).await.is_empty() }
    })
    .await;
    assert!(gone, "client {} never went away", id);
}

/// The server's clock (TIME) in milliseconds.
async fn server_ms(con: &mut MultiplexedConnection) -> u64 {
    let (secs, micros): (u64, u64) = query(con, &["TIME"]).await;
    secs * 1000 + micros / 1000
}

/// Waits (bounded) until the server's clock is past `deadline_ms`.
async fn wait_server_past(con: &mut MultiplexedConnection, deadline_ms: u64) {
    let past = wait_until(IO_TIMEOUT, || {
        let mut con = con.clone();
        async move { server_ms(&mut con).await > deadline_ms }
    })
    .await;
    assert!(past, "the server clock never passed {}", deadline_ms);
}

/// A server on which `DEBUG SET-ACTIVE-EXPIRE` works: cachet, or in
/// reference mode a redis-server started with `--enable-debug-command
/// local` (common's TestServer has no way to pass that option).
struct DebugServer {
    _cachet: Option<TestServer>,
    redis: Option<std::process::Child>,
    addr: SocketAddr,
}

impl DebugServer {
    async fn start() -> DebugServer {
        if !against_redis() {
            let server = TestServer::start().await;
            let addr = server.addr();
            return DebugServer {
                _cachet: Some(server),
                redis: None,
                addr,
            };
        }
        for _attempt in 0..3 {
            let port = free_port();
            let dir = std::env::temp_dir().to_string_lossy().into_owned();
            let mut child = std::process::Command::new("redis-server")
                .args([
                    "--port",
                    &port.to_string(),
                    "--bind",
                    "127.0.0.1",
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                    "--daemonize",
                    "no",
                    "--dir",
                    &dir,
                    "--logfile",
                    "",
                    "--enable-debug-command",
                    "local",
                ])
                .stdin(std::process::Stdio::null())
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn()
                .expect("spawn redis-server");
            let addr: SocketAddr = format!("127.0.0.1:{}", port).parse().unwrap();
            let deadline = std::time::Instant::now() + IO_TIMEOUT;
            loop {
                if let Ok(Some(_)) = child.try_wait() {
                    break; // the port was taken meanwhile: try another
                }
                if tokio::net::TcpStream::connect(addr).await.is_ok() {
                    // Whoever answers must be our child, not a server that
                    // took the port first (ours then exits).
                    let mut probe = RawConn::connect(addr).await;
                    let info = probe.cmd(&["INFO", "server"]).await.text();
                    if info_field(&info, "process_id") == Some(child.id().to_string()) {
                        return DebugServer {
                            _cachet: None,
                            redis: Some(child),
                            addr,
                        };
                    }
                    let _ = child.kill();
                    let _ = child.wait();
                    break;
                }
                if std::time::Instant::now() >= deadline {
                    let _ = child.kill();
                    let _ = child.wait();
                    panic!("redis-server did not start");
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
        panic!("redis-server did not start");
    }

    async fn conn(&self) -> MultiplexedConnection {
        connect(&format!("redis://{}", self.addr)).await
    }
}

impl Drop for DebugServer {
    fn drop(&mut self) {
        if let Some(child) = &mut self.redis {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

// ---------------------------------------------------------------------------
// Default mode over RESP3
// ---------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_clients_write_sends_an_invalidate_push() {
    let server = TestServer::start().await;
    let mut writer = server.conn().await;
    let mut t = tracker(&server, &[]).await;
    run(&mut writer, &["SET", "k", "1"]).await;
    assert_eq!(t.cmd(&["GET", "k"]).await, Reply::bulk("1"));
    run(&mut writer, &["SET", "k", "2"]).await;
    // The push is due before the reply to anything sent afterwards.
    t.send(&encode_command(&["PING"])).await;
    assert_eq!(t.read_reply().await, invalidate(&["k"]));
    assert_eq!(t.read_reply().await, Reply::Simple("PONG".into()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_tracking_client_receives_the_push_unprompted() {
    let server = TestServer::start().await;
    let mut writer = server.conn().await;
    let mut t = tracker(&server, &[]).await;
    assert_eq!(t.cmd(&["GET", "k"]).await, Reply::Null);
    run(&mut writer, &["SET", "k", "v"]).await;
    assert_eq!(t.read_reply().await, invalidate(&["k"]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_is_invalidated_once_until_read_again() {
    let server = TestServer::start().await;
    let mut writer = server.conn().await;
    let mut t = tracker(&server, &[]).await;
    t.cmd(&["GET", "k"]).await;
    run(&mut writer, &["SET", "k", "1"]).await;
    assert_eq!(pushes_before_pong(&mut t).await, vec![invalidate(&["k"])]);
    // Not read since: further changes say nothing.
    run(&mut writer, &["SET", "k", "2"]).await;
    run(&mut writer, &["DEL", "k"]).await;
    assert_nothing_due(&mut t).await;
    // Read again: tracked again.
    t.cmd(&["GET", "k"]).await;
    run(&mut writer, &["SET", "k", "3"]).await;
    assert_eq!(pushes_before_pong(&mut t).await, vec![invalidate(&["k"])]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_keys_read_by_read_commands_are_tracked() {
    let server = TestServer::start().await;
    let mut writer = server.conn().await;
    let mut t = tracker(&server, &[]).await;
    run(&mut writer, &["MSET", "read", "1", "unread", "1"]).await;
    t.cmd(&["GET", "read"]).await;
    // A write command's keys are not remembered.
    assert_eq!(t.cmd(&["INCR", "written"]).await, Reply::Int(1));
    // A missing key that was read is remembered.
    assert_eq!(t.cmd(&["GET", "missing"]).await, Reply::Null);
    run(&mut writer, &["SET", "unread", "2"]).await;
    run(&mut writer, &["SET", "written", "2"]).await;
    assert_nothing_due(&mut t).await;
    run(&mut writer, &["SET", "missing", "now"]).await;
    run(&mut writer, &["SET", "read", "2"]).await;
    assert_eq!(
        pushes_before_pong(&mut t).await,
        vec![invalidate(&["missing"]), invalidate(&["read"])]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mget_remembers_every_key() {
    let server = TestServer::start().await;
    let mut writer = server.conn().await;
    let mut t = tracker(&server, &[]).await;
    run(&mut writer, &["SET", "b", "1"]).await;
    assert_eq!(
        t.cmd(&["MGET", "a", "b", "c"]).await,
        Reply::array(vec![Reply::Null, Reply::bulk("1"), Reply::Null])
    );
    run(&mut writer, &["SET", "c", "x"]).await;
    run(&mut writer, &["SET", "a", "x"]).await;
    assert_eq!(
        pushes_before_pong(&mut t).await,
        vec![invalidate(&["c"]), invalidate(&["a"])]
    );
    // One invalidation per key, even for a command writing several.
    t.cmd(&["MGET", "a", "b", "c"]).await;
    run(&mut writer, &["MSET", "a", "1", "b", "2", "c", "3"]).await;
    let due = pushes_before_pong(&mut t).await;
    assert_eq!(sorted_key_lists(&due), lists(&[&["a"], &["b"], &["c"]]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_multi_key_write_invalidates_in_argument_order() {
    // Redis signals each key as the command changes it, in argument order.
    let server = TestServer::start().await;
    let mut writer = server.conn().await;
    let mut t = tracker(&server, &[]).await;
    let keys = ["k1", "k2", "k3", "k4", "k5", "k6", "k7", "k8"];
    let mut mget = vec!["MGET"];
    mget.extend_from_slice(&keys);
    t.cmd(&mget).await;
    let mut mset = vec!["MSET"];
    for key in &keys {
        mset.extend_from_slice(&[key, "v"]);
    }
    run(&mut writer, &mset).await;
    let expected: Vec<Reply> = keys.iter().map(|k| invalidate(&[k])).collect();
    assert_eq!(pushes_before_pong(&mut t).await, expected);
    t.cmd(&mget).await;
    let mut del = vec!["DEL"];
    del.extend(keys.iter().rev());
    run(&mut writer, &del).await;
    let expected: Vec<Reply> = keys.iter().rev().map(|k| invalidate(&[k])).collect();
    assert_eq!(pushes_before_pong(&mut t).await, expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_kind_of_change_invalidates() {
    let server = TestServer::start().await;
    let mut writer = server.conn().await;
    let mut t = tracker(&server, &[]).await;
    // (setup, read, change)
    let cases: &[(&[&str], &[&str], &[&str])] = &[
        (&["SET", "s1", "v"], &["GET", "s1"], &["DEL", "s1"]),
        (
            &["SET", "s2", "v"],
            &["STRLEN", "s2"],
            &["APPEND", "s2", "x"],
        ),
        (
            &["SET", "s3", "v"],
            &["GET", "s3"],
            &["EXPIRE", "s3", "100"],
        ),
        (
            &["SET", "s4", "v", "EX", "100"],
            &["GET", "s4"],
            &["PERSIST", "s4"],
        ),
        (
            &["SET", "s5", "1"],
            &["EXISTS", "s5"],
            &["INCRBY", "s5", "5"],
        ),
        (&["SET", "s6", "v"], &["TYPE", "s6"], &["GETDEL", "s6"]),
        (
            &["SET", "s7", "abc"],
            &["GETRANGE", "s7", "0", "1"],
            &["SETRANGE", "s7", "1", "z"],
        ),
        (
            &["RPUSH", "l", "a"],
            &["LRANGE", "l", "0", "-1"],
            &["LPUSH", "l", "b"],
        ),
        (
            &["HSET", "h", "f", "v"],
            &["HGET", "h", "f"],
            &["HSET", "h", "f", "w"],
        ),
        (
            &["SADD", "st", "a"],
            &["SMEMBERS", "st"],
            &["SREM", "st", "a"],
        ),
        (
            &["ZADD", "z", "1", "a"],
            &["ZSCORE", "z", "a"],
            &["ZINCRBY", "z", "1", "a"],
        ),
    ];
    for (setup, read, change) in cases {
        run(&mut writer, setup).await;
        t.cmd(read).await;
        run(&mut writer, change).await;
        assert_eq!(
            pushes_before_pong(&mut t).await,
            vec![invalidate(&[read[1]])],
            "after {:?} then {:?}",
            read,
            change
        );
    }
    // Commands changing several keys, or a key other than the first:
    // (setup, change, keys changed). The keys are read with EXISTS, a
    // multi-key read whatever their type.
    let cases: &[(&[&str], &[&str], &[&str])] = &[
        (
            &["MSET", "from", "1", "to", "2"],
            &["RENAME", "from", "to"],
            &["from", "to"],
        ),
        (
            &["SET", "c:src", "v"],
            &["COPY", "c:src", "c:dst"],
            &["c:dst"],
        ),
        (
            &["RPUSH", "m:src", "a"],
            &["LMOVE", "m:src", "m:dst", "LEFT", "RIGHT"],
            &["m:src", "m:dst"],
        ),
        (
            &["RPUSH", "r:src", "a"],
            &["RPOPLPUSH", "r:src", "r:dst"],
            &["r:src", "r:dst"],
        ),
        (
            &["SADD", "u:a", "x"],
            &["SUNIONSTORE", "u:dst", "u:a"],
            &["u:dst"],
        ),
        (
            &["SADD", "v:src", "x"],
            &["SMOVE", "v:src", "v:dst", "x"],
            &["v:src", "v:dst"],
        ),
        (
            &["ZADD", "w:a", "1", "x"],
            &["ZUNIONSTORE", "w:dst", "1", "w:a"],
            &["w:dst"],
        ),
        (
            &["RPUSH", "o:src", "2", "1"],
            &["SORT", "o:src", "STORE", "o:dst"],
            &["o:dst"],
        ),
        (&["SET", "mv", "v"], &["MOVE", "mv", "1"], &["mv"]),
        (&["SET", "gx", "v"], &["GETEX", "gx", "EX", "100"], &["gx"]),
        (
            &["SET", "ea", "v"],
            &["EXPIREAT", "ea", "99999999999"],
            &["ea"],
        ),
        (&["SET", "bit", ""], &["SETBIT", "bit", "3", "1"], &["bit"]),
        (&["SET", "fl", "1"], &["INCRBYFLOAT", "fl", "0.5"], &["fl"]),
        (
            &["HSET", "hi", "f", "1"],
            &["HINCRBY", "hi", "f", "2"],
            &["hi"],
        ),
        (
            &["RPUSH", "li", "a"],
            &["LINSERT", "li", "BEFORE", "a", "b"],
            &["li"],
        ),
        (&["RPUSH", "ls", "a"], &["LSET", "ls", "0", "b"], &["ls"]),
        (
            &["RPUSH", "lt", "a", "b"],
            &["LTRIM", "lt", "0", "0"],
            &["lt"],
        ),
    ];
    for (setup, change, changed) in cases {
        run(&mut writer, setup).await;
        let mut exists = vec!["EXISTS"];
        exists.extend_from_slice(changed);
        t.cmd(&exists).await;
        run(&mut writer, change).await;
        let due = pushes_before_pong(&mut t).await;
        let expected: Vec<&[&str]> = changed.iter().map(std::slice::from_ref).collect();
        assert_eq!(
            sorted_key_lists(&due),
            lists(&expected),
            "after {:?}",
            change
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_that_change_nothing_do_not_invalidate() {
    let server = TestServer::start().await;
    let mut writer = server.conn().await;
    let mut t = tracker(&server, &[]).await;
    run(&mut writer, &["SET", "k", "v"]).await;
    run(&mut writer, &["HSET", "h", "f", "v"]).await;
    t.cmd(&["GET", "k"]).await;
    t.cmd(&["GET", "missing"]).await;
    t.cmd(&["HGET", "h", "f"]).await;
    let nil: Option<String> = query(&mut writer, &["SET", "k", "w", "NX"]).await;
    assert_eq!(nil, None);
    assert_eq!(query::<i64>(&mut writer, &["DEL", "missing"]).await, 0);
    assert_eq!(
        query::<i64>(&mut writer, &["EXPIRE", "missing", "10"]).await,
        0
    );
    assert_eq!(
        query::<i64>(&mut writer, &["HDEL", "h", "nofield"]).await,
        0
    );
    assert_nothing_due(&mut t).await;
    // The keys are still tracked.
    run(&mut writer, &["SET", "k", "w"]).await;
    run(&mut writer, &["SET", "missing", "w"]).await;
    run(&mut writer, &["HDEL", "h", "f"]).await;
    assert_eq!(
        pushes_before_pong(&mut t).await,
        vec![
            invalidate(&["k"]),
            invalidate(&["missing"]),
            invalidate(&["h"])
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_are_tracked_by_name_across_databases() {
    // Redis's tracking table holds key names, whatever the database.
    let server = TestServer::start().await;
    let mut writer_db1 = server.conn_db(1).await;
    let mut writer_db0 = server.conn().await;
    let mut t = tracker(&server, &[]).await;
    t.cmd(&["GET", "k"]).await;
    run(&mut writer_db1, &["SET", "k", "in-db1"]).await;
    assert_eq!(pushes_before_pong(&mut t).await, vec![invalidate(&["k"])]);
    assert_eq!(t.cmd(&["SELECT", "1"]).await, Reply::ok());
    assert_eq!(t.cmd(&["GET", "j"]).await, Reply::Null);
    run(&mut writer_db0, &["SET", "j", "in-db0"]).await;
    assert_eq!(pushes_before_pong(&mut t).await, vec![invalidate(&["j"])]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_client_that_read_a_key_is_told() {
    let server = TestServer::start().await;
    let mut writer = server.conn().await;
    let (mut subscriber, sid) = invalidation_subscriber(&server).await;
    let mut t1 = tracker(&server, &[]).await;
    let mut t2 = tracker(&server, &[]).await;
    let mut t3 = server.raw().await; // RESP2, redirected
    assert_eq!(
        t3.cmd(&["CLIENT", "TRACKING", "ON", "REDIRECT", &sid.to_string()])
            .await,
        Reply::ok()
    );
    run(&mut writer, &["SET", "k", "1"]).await;
    for t in [&mut t1, &mut t2, &mut t3] {
        assert_eq!(t.cmd(&["GET", "k"]).await, Reply::bulk("1"));
    }
    run(&mut writer, &["INCR", "k"]).await;
    assert_eq!(pushes_before_pong(&mut t1).await, vec![invalidate(&["k"])]);
    assert_eq!(pushes_before_pong(&mut t2).await, vec![invalidate(&["k"])]);
    assert_eq!(
        messages_before_pong(&mut subscriber).await,
        vec![invalidation_message(bulks(&["k"]))]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resp2_client_without_redirect_gets_nothing_inline() {
    let server = TestServer::start().await;
    let mut writer = server.conn().await;
    let mut t = server.raw().await;
    assert_eq!(t.cmd(&["CLIENT", "TRACKING", "ON"]).await, Reply::ok());
    assert_eq!(t.cmd(&["GET", "k"]).await, Reply::nil());
    assert_eq!(tracking_counters(&mut writer).await.1, 1);
    run(&mut writer, &["SET", "k", "v"]).await;
    // The entry went with the change all the same.
    assert_eq!(tracking_counters(&mut writer).await.1, 0);
    // RESP2 has no pushes: the next reply is the PING's.
    assert_eq!(t.cmd(&["PING"]).await, Reply::Simple("PONG".into()));
    assert_eq!(t.cmd(&["GET", "k"]).await, Reply::bulk("v"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changes_while_nobody_tracks_still_clear_old_entries() {
    // Redis drops a key's entry whenever the key changes, whether or not
    // anyone still tracks: keys read before OFF and changed while off are
    // not reported after ON again, and the table is left empty.
    let server = TestServer::start().await;
    let mut writer = server.conn().await;
    let mut t = tracker(&server, &[]).await;
    t.cmd(&["MGET", "k1", "k2"]).await;
    assert_eq!(t.cmd(&["CLIENT", "TRACKING", "OFF"]).await, Reply::ok());
    // Nobody tracks now.
    assert_eq!(tracking_counters(&mut writer).await.0, 0);
    run(&mut writer, &["SET", "k1", "1"]).await;
    run(&mut writer, &["SET", "k2", "1"]).await;
    tracking_on(&mut t, &[]).await;
    run(&mut writer, &["SET", "k1", "2"]).await;
    assert_nothing_due(&mut t).await;
    let (_, keys, items, _) = tracking_counters(&mut writer).await;
    assert_eq!((keys, items), (0, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tracking_off_stops_invalidations() {
    let server = TestServer::start().await;
    let mut writer = server.conn().await;
    let mut t = tracker(&server, &[]).await;
    t.cmd(&["GET", "k"]).await;
    assert_eq!(t.cmd(&["CLIENT", "TRACKING", "OFF"]).await, Reply::ok());
    run(&mut writer, &["SET", "k", "v"]).await;
    assert_nothing_due(&mut t).await;
    t.cmd(&["GET", "k"]).await;
    run(&mut writer, &["SET", "k", "w"]).await;
    assert_nothing_due(&mut t).await;
}

// ---------------------------------------------------------------------------
// A client's own changes
// ---------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn own_write_reply_comes_before_its_invalidation() {
    let server = TestServer::start().await;
    let mut t = tracker(&server, &[]).await;
    assert_eq!(t.cmd(&["SET", "n", "1"]).await, Reply::ok());
    assert_eq!(t.cmd(&["GET", "n"]).await, Reply::bulk("1"));
    assert_eq!(t.cmd(&["INCR", "n"]).await, Reply::Int(2));
    assert_eq!(t.read_reply().await, invalidate(&["n"]));

    assert_eq!(t.cmd(&["HSET", "myhash", "f", "1"]).await, Reply::Int(1));
    assert_eq!(t.cmd(&["HGET", "myhash", "f"]).await, Reply::bulk("1"));
    assert_eq!(t.cmd(&["HDEL", "myhash", "f"]).await, Reply::Int(1));
    assert_eq!(t.read_reply().await, invalidate(&["myhash"]));

    // Pipelined: the push sits between the write's reply and the next one.
    let mut batch = encode_command(&["GET", "j"]);
    batch.extend(encode_command(&["SET", "j", "x"]));
    batch.extend(encode_command(&["PING"]));
    t.send(&batch).await;
    assert_eq!(t.read_reply().await, Reply::Null);
    assert_eq!(t.read_reply().await, Reply::ok());
    assert_eq!(t.read_reply().await, invalidate(&["j"]));
    assert_eq!(t.read_reply().await, Reply::Simple("PONG".into()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalidation_inside_multi_follows_the_exec_reply() {
    let server = TestServer::start().await;
    let mut t = tracker(&server, &[]).await;
    assert_eq!(t.cmd(&["MSET", "a", "1", "b", "2"]).await, Reply::ok());
    assert_eq!(t.cmd(&["GET", "a"]).await, Reply::bulk("1"));
    assert_eq!(t.cmd(&["MULTI"]).await, Reply::ok());
    assert_eq!(t.cmd(&["INCR", "a"]).await, Reply::Simple("QUEUED".into()));
    assert_eq!(t.cmd(&["GET", "b"]).await, Reply::Simple("QUEUED".into()));
    assert_eq!(
        t.cmd(&["EXEC"]).await,
        Reply::array(vec![Reply::Int(2), Reply::bulk("2")])
    );
    assert_eq!(t.read_reply().await, invalidate(&["a"]));
    assert_nothing_due(&mut t).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn noloop_suppresses_only_own_invalidations() {
    let server = TestServer::start().await;
    let mut writer = server.conn().await;
    let mut t = tracker(&server, &["NOLOOP"]).await;
    assert_eq!(
        t.cmd(&["MGET", "other1", "loop", "other2"]).await,
        Reply::array(vec![Reply::Null, Reply::Null, Reply::Null])
    );
    run(&mut writer, &["SET", "other1", "1"]).await;
    // other1's push is due before this reply.
    let (before, reply) = cmd_after_pushes(&mut t, &["SET", "loop", "1"]).await;
    assert_eq!(reply, Reply::ok());
    run(&mut writer, &["SET", "other2", "1"]).await;
    let mut pushes = before;
    pushes.extend(pushes_before_pong(&mut t).await);
    assert_eq!(
        pushes,
        vec![invalidate(&["other1"]), invalidate(&["other2"])]
    );
    // The own change still consumed the entry: another client's change
    // to the key is not reported until it is read again.
    run(&mut writer, &["SET", "loop", "2"]).await;
    assert_nothing_due(&mut t).await;
    t.cmd(&["GET", "loop"]).await;
    run(&mut writer, &["SET", "loop", "3"]).await;
    assert_eq!(
        pushes_before_pong(&mut t).await,
        vec![invalidate(&["loop"])]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unblocked_blmove_reply_precedes_its_invalidation() {
    let server = TestServer::start().await;
    let mut writer = server.conn().await;
    run(&mut writer, &["RPUSH", "list2", "a"]).await;
    let mut t = tracker(&server, &[]).await;
    assert_eq!(t.cmd(&["LRANGE", "list2", "0", "-1"]).await, bulks(&["a"]));
    t.send(&encode_command(&[
        "BLMOVE", "list1", "list2", "LEFT", "LEFT", "0",
    ]))
    .await;
    let blocked = wait_until(IO_TIMEOUT, || {
        let mut con = writer.clone();
        async move {
            let info: String = query(&mut con, &["INFO", "clients"]).await;
            info_field(&info, "blocked_clients").as_deref() == Some("1")
        }
    })
    .await;
    assert!(blocked, "BLMOVE never blocked");
    run(&mut writer, &["RPUSH", "list1", "foo"]).await;
    assert_eq!(t.read_reply().await, Reply::bulk("foo"));
    assert_eq!(t.read_reply().await, invalidate(&["list2"]));
}

// ---------------------------------------------------------------------------
// REDIRECT
// ---------------------------------------------------------------------------

/// The next message on a `redis` crate subscriber (bounded).
async fn next_message(pubsub: &mut redis::aio::PubSub) -> redis::Msg {
    tokio::time::timeout(IO_TIMEOUT, pubsub.on_message().next())
        .await
        .expect("no invalidation message in time")
        .expect("subscriber stream ended")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resp2_redirect_through_the_redis_crate_pubsub() {
    let server = TestServer::start().await;
    let mut writer = server.conn().await;
    let client = redis::Client::open(server.url()).expect("url");
    let mut pubsub = tokio::time::timeout(IO_TIMEOUT, client.get_async_pubsub())
        .await
        .expect("pubsub connect timed out")
        .expect("pubsub connect failed");
    tokio::time::timeout(IO_TIMEOUT, pubsub.subscribe(CHANNEL))
        .await
        .expect("subscribe timed out")
        .expect("subscribe failed");
    let list: String = query(&mut writer, &["CLIENT", "LIST", "TYPE", "pubsub"]).await;
    let sid = line_field(list.trim(), "id");

    let mut t = server.conn().await;
    let ok: String = query(&mut t, &["CLIENT", "TRACKING", "ON", "REDIRECT", &sid]).await;
    assert_eq!(ok, "OK");
    run(&mut t, &["MSET", "a", "1", "b", "1"]).await;
    run(&mut t, &["GET", "a"]).await;
    run(&mut t, &["INCR", "b"]).await; // not read: no message
    run(&mut writer, &["INCR", "a"]).await;

    let message = next_message(&mut pubsub).await;
    assert_eq!(message.get_channel_name(), CHANNEL);
    assert_eq!(
        message.get_payload::<Vec<String>>().unwrap(),
        vec!["a".to_string()]
    );

    // BCAST to the same subscriber: one message per prefix.
    run(&mut t, &["CLIENT", "TRACKING", "OFF"]).await;
    run(
        &mut t,
        &[
            "CLIENT", "TRACKING", "ON", "BCAST", "REDIRECT", &sid, "PREFIX", "a:", "PREFIX", "b:",
        ],
    )
    .await;
    let _: Vec<i64> = redis::pipe()
        .atomic()
        .cmd("INCR")
        .arg("a:1")
        .cmd("INCR")
        .arg("a:2")
        .cmd("INCR")
        .arg("b:1")
        .cmd("INCR")
        .arg("c:1")
        .query_async(&mut writer)
        .await
        .expect("transaction");
    let mut got = Vec::new();
    for _ in 0..2 {
        let message = next_message(&mut pubsub).await;
        let mut keys: Vec<String> = message.get_payload().unwrap();
        keys.sort();
        got.push(keys);
    }
    got.sort();
    assert_eq!(got, lists(&[&["a:1", "a:2"], &["b:1"]]));

    // FLUSHALL: the payload is a null.
    run(&mut writer, &["FLUSHALL"]).await;
    let message = next_message(&mut pubsub).await;
    assert_eq!(message.get_payload::<Value>().unwrap(), Value::Nil);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resp2_redirect_subscriber_gets_exactly_the_changed_keys() {
    let server = TestServer::start().await;
    let mut writer = server.conn().await;
    let (mut subscriber, sid) = invalidation_subscriber(&server).await;
    let mut t = server.raw().await;
    assert_eq!(
        t.cmd(&["CLIENT", "TRACKING", "ON", "REDIRECT", &sid.to_string()])
            .await,
        Reply::ok()
    );
    t.cmd(&["MGET", "x", "y"]).await;
    run(&mut writer, &["SET", "y", "1"]).await;
    run(&mut writer, &["SET", "unread", "1"]).await;
    // The tracking RESP2 connection itself sees only its replies.
    assert_eq!(t.cmd(&["PING"]).await, Reply::Simple("PONG".into()));
    assert_eq!(
        messages_before_pong(&mut subscriber).await,
        vec![invalidation_message(bulks(&["y"]))]
    );
    // Its own change goes to the subscriber too.
    assert_eq!(t.cmd(&["SET", "x", "1"]).await, Reply::ok());
    assert_eq!(
        messages_before_pong(&mut subscriber).await,
        vec![invalidation_message(bulks(&["x"]))]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redirect_to_a_resp2_client_that_is_not_subscribed_sends_nothing() {
    let server = TestServer::start().await;
    let mut writer = server.conn().await;
    let mut target = server.raw().await;
    let tid = client_id(&mut target).await;
    let mut t = tracker(&server, &["REDIRECT", &tid.to_string()]).await;
    t.cmd(&["GET", "k"]).await;
    run(&mut writer, &["SET", "k", "v"]).await;
    assert_eq!(target.cmd(&["PING"]).await, Reply::Simple("PONG".into()));
    // Nor does the redirecting client get it itself.
    assert_nothing_due(&mut t).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resp2_target_subscribed_to_any_channel_gets_the_messages() {
    // Redis only asks that the RESP2 target be in Pub/Sub mode; the
    // messages come on __redis__:invalidate whatever it subscribed to.
    let server = TestServer::start().await;
    let mut writer = server.conn().await;
    let mut target = server.raw().await;
    let tid = client_id(&mut target).await;
    assert_eq!(
        target.cmd(&["PSUBSCRIBE", "news.*"]).await,
        Reply::array(vec![
            Reply::bulk("psubscribe"),
            Reply::bulk("news.*"),
            Reply::Int(1)
        ])
    );
    let mut t = tracker(&server, &["REDIRECT", &tid.to_string()]).await;
    t.cmd(&["GET", "k"]).await;
    run(&mut writer, &["SET", "k", "v"]).await;
    assert_eq!(
        messages_before_pong(&mut target).await,
        vec![invalidation_message(bulks(&["k"]))]
    );
    // Out of Pub/Sub mode, nothing can be sent to it.
    assert_eq!(
        target.cmd(&["PUNSUBSCRIBE"]).await,
        Reply::array(vec![
            Reply::bulk("punsubscribe"),
            Reply::bulk("news.*"),
            Reply::Int(0)
        ])
    );
    t.cmd(&["GET", "k"]).await;
    run(&mut writer, &["SET", "k", "w"]).await;
    assert_eq!(target.cmd(&["PING"]).await, Reply::Simple("PONG".into()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redirect_to_a_resp3_client_sends_pushes() {
    let server = TestServer::start().await;
    let mut writer = server.conn().await;
    let mut target = resp3(&server).await;
    let tid = client_id(&mut target).await;
    let mut t = server.raw().await;
    assert_eq!(
        t.cmd(&["CLIENT", "TRACKING", "ON", "REDIRECT", &tid.to_string()])
            .await,
        Reply::ok()
    );
    t.cmd(&["GET", "k"]).await;
    run(&mut writer, &["SET", "k", "v"]).await;
    assert_eq!(
        pushes_before_pong(&mut target).await,
        vec![invalidate(&["k"])]
    );
    // Two clients may redirect to the same one.
    let mut t2 = tracker(&server, &["REDIRECT", &tid.to_string()]).await;
    t.cmd(&["GET", "k1"]).await;
    t2.cmd(&["GET", "k2"]).await;
    run(&mut writer, &["SET", "k1", "v"]).await;
    run(&mut writer, &["SET", "k2", "v"]).await;
    assert_eq!(
        pushes_before_pong(&mut target).await,
        vec![invalidate(&["k1"]), invalidate(&["k2"])]
    );
    assert_nothing_due(&mut t2).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redirect_errors() {
    let server = TestServer::start().await;
    let mut other = server.raw().await;
    let oid = client_id(&mut other).await.to_string();
    let mut t = server.raw().await;
    for bad in ["987654321", "0", "-1"] {
        assert_eq!(
            error_of(&mut t, &["CLIENT", "TRACKING", "ON", "REDIRECT", bad]).await,
            "ERR The client ID you want redirect to does not exist",
            "REDIRECT {}",
            bad
        );
    }
    assert_eq!(
        error_of(&mut t, &["CLIENT", "TRACKING", "ON", "REDIRECT", "abc"]).await,
        "ERR value is not an integer or out of range"
    );
    assert_eq!(
        error_of(
            &mut t,
            &["CLIENT", "TRACKING", "ON", "REDIRECT", &oid, "REDIRECT", &oid]
        )
        .await,
        "ERR A client can only redirect to a single other client"
    );
    assert_eq!(
        error_of(&mut t, &["CLIENT", "TRACKING", "ON", "REDIRECT"]).await,
        "ERR syntax error"
    );
    // None of these turned tracking on.
    assert_eq!(t.cmd(&["CLIENT", "GETREDIR"]).await, Reply::Int(-1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_vanished_redirect_target_is_reported_as_broken() {
    let server = TestServer::start().await;
    let mut writer = server.conn().await;
    let (mut subscriber, sid) = invalidation_subscriber(&server).await;
    let sid_text = sid.to_string();
    let mut t = tracker(&server, &["REDIRECT", &sid_text]).await;
    let tid = client_id(&mut t).await;
    let mut t2 = server.raw().await; // RESP2: can not be told
    assert_eq!(
        t2.cmd(&["CLIENT", "TRACKING", "ON", "REDIRECT", &sid_text])
            .await,
        Reply::ok()
    );
    run(&mut writer, &["SET", "key1", "1"]).await;
    t.cmd(&["GET", "key1"]).await;
    t2.cmd(&["GET", "key1"]).await;

    assert_eq!(
        subscriber.cmd(&["QUIT"]).await,
        Reply::ok(),
        "QUIT while subscribed"
    );
    drop(subscriber);
    wait_gone(&mut writer, sid).await;
    // Nothing is noticed until there is something to send.
    assert_eq!(
        t.cmd(&["CLIENT", "TRACKINGINFO"]).await,
        Reply::Map(vec![
            (Reply::bulk("flags"), Reply::Set(vec![Reply::bulk("on")])),
            (Reply::bulk("redirect"), Reply::Int(sid)),
            (Reply::bulk("prefixes"), Reply::array(vec![])),
        ])
    );
    run(&mut writer, &["SET", "key1", "2"]).await;
    assert_eq!(
        pushes_before_pong(&mut t).await,
        vec![Reply::Push(vec![
            Reply::bulk("tracking-redir-broken"),
            Reply::Int(sid)
        ])]
    );
    assert_eq!(
        t.cmd(&["CLIENT", "TRACKINGINFO"]).await,
        Reply::Map(vec![
            (
                Reply::bulk("flags"),
                Reply::Set(vec![Reply::bulk("on"), Reply::bulk("broken_redirect")])
            ),
            (Reply::bulk("redirect"), Reply::Int(sid)),
            (Reply::bulk("prefixes"), Reply::array(vec![])),
        ])
    );
    assert_eq!(t.cmd(&["CLIENT", "GETREDIR"]).await, Reply::Int(sid));
    let line = client_line(&mut writer, tid).await;
    assert_eq!(line_field(&line, "flags"), "tR");
    assert_eq!(line_field(&line, "redir"), sid_text);
    // The RESP2 tracker is marked too, without being told.
    assert_eq!(t2.cmd(&["PING"]).await, Reply::Simple("PONG".into()));
    assert_eq!(
        t2.cmd(&["CLIENT", "TRACKINGINFO"]).await,
        Reply::array(vec![
            Reply::bulk("flags"),
            bulks(&["on", "broken_redirect"]),
            Reply::bulk("redirect"),
            Reply::Int(sid),
            Reply::bulk("prefixes"),
            Reply::array(vec![]),
        ])
    );
    // Turning tracking on again clears the mark.
    tracking_on(&mut t, &[]).await;
    assert_eq!(
        t.cmd(&["CLIENT", "TRACKINGINFO"]).await,
        Reply::Map(vec![
            (Reply::bulk("flags"), Reply::Set(vec![Reply::bulk("on")])),
            (Reply::bulk("redirect"), Reply::Int(0)),
            (Reply::bulk("prefixes"), Reply::array(vec![])),
        ])
    );
}

// ---------------------------------------------------------------------------
// BCAST
// ---------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bcast_sends_one_message_per_prefix() {
    let server = TestServer::start().await;
    let mut writer = server.conn().await;
    let mut t = tracker(&server, &["BCAST", "PREFIX", "a:", "PREFIX", "b:"]).await;
    let _: Vec<i64> = redis::pipe()
        .atomic()
        .cmd("INCR")
        .arg("a:1")
        .cmd("INCR")
        .arg("a:2")
        .cmd("INCR")
        .arg("a:1")
        .cmd("INCR")
        .arg("b:1")
        .cmd("INCR")
        .arg("c:1")
        .query_async(&mut writer)
        .await
        .expect("transaction");
    let due = pushes_before_pong(&mut t).await;
    assert_eq!(due.len(), 2, "{:?}", due);
    assert_eq!(sorted_key_lists(&due), lists(&[&["a:1", "a:2"], &["b:1"]]));
    // Keys outside the prefixes say nothing; keys need not have been read.
    run(&mut writer, &["SET", "c:2", "1"]).await;
    run(&mut writer, &["SET", "xa:1", "1"]).await;
    assert_nothing_due(&mut t).await;
    run(&mut writer, &["DEL", "b:1"]).await;
    assert_eq!(pushes_before_pong(&mut t).await, vec![invalidate(&["b:1"])]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bcast_without_prefix_covers_every_key() {
    let server = TestServer::start().await;
    let mut writer = server.conn().await;
    let mut t = tracker(&server, &["BCAST"]).await;
    run(&mut writer, &["MSET", "a", "1", "b", "2", "c", "3"]).await;
    let due = pushes_before_pong(&mut t).await;
    assert_eq!(sorted_key_lists(&due), lists(&[&["a", "b", "c"]]));
    // Every change is reported, read or not, again and again.
    run(&mut writer, &["INCR", "a"]).await;
    run(&mut writer, &["INCR", "a"]).await;
    assert_eq!(
        pushes_before_pong(&mut t).await,
        vec![invalidate(&["a"]), invalidate(&["a"])]
    );
    assert_eq!(
        t.cmd(&["CLIENT", "TRACKINGINFO"]).await,
        Reply::Map(vec![
            (
                Reply::bulk("flags"),
                Reply::Set(vec![Reply::bulk("on"), Reply::bulk("bcast")])
            ),
            (Reply::bulk("redirect"), Reply::Int(0)),
            (Reply::bulk("prefixes"), bulks(&[""])),
        ])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bcast_prefixes_can_be_added() {
    let server = TestServer::start().await;
    let mut writer = server.conn().await;
    let mut t = tracker(&server, &["BCAST", "PREFIX", "a:"]).await;
    tracking_on(&mut t, &["BCAST", "PREFIX", "c:"]).await;
    run(&mut writer, &["INCR", "c:1234"]).await;
    assert_eq!(
        pushes_before_pong(&mut t).await,
        vec![invalidate(&["c:1234"])]
    );
    run(&mut writer, &["INCR", "a:1"]).await;
    assert_eq!(pushes_before_pong(&mut t).await, vec![invalidate(&["a:1"])]);
    match t.cmd(&["CLIENT", "TRACKINGINFO"]).await {
        Reply::Map(pairs) => {
            assert_eq!(pairs[2].0, Reply::bulk("prefixes"));
            let mut prefixes: Vec<String> = match &pairs[2].1 {
                Reply::Array(Some(items)) => items.iter().map(Reply::text).collect(),
                other => panic!("prefixes: {:?}", other),
            };
            prefixes.sort();
            assert_eq!(prefixes, vec!["a:", "c:"]);
        }
        other => panic!("TRACKINGINFO: {:?}", other),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bcast_noloop_skips_own_changes_only() {
    let server = TestServer::start().await;
    let mut writer = server.conn().await;
    let mut t = tracker(&server, &["BCAST", "NOLOOP", "PREFIX", "k:"]).await;
    let mut plain = tracker(&server, &["BCAST", "PREFIX", "k:"]).await;
    assert_eq!(t.cmd(&["SET", "k:own", "1"]).await, Reply::ok());
    assert_nothing_due(&mut t).await;
    assert_eq!(
        pushes_before_pong(&mut plain).await,
        vec![invalidate(&["k:own"])]
    );
    // A client without NOLOOP hears of its own change, after the reply.
    assert_eq!(plain.cmd(&["SET", "k:mine", "1"]).await, Reply::ok());
    assert_eq!(plain.read_reply().await, invalidate(&["k:mine"]));
    assert_nothing_due(&mut plain).await;
    assert_eq!(
        pushes_before_pong(&mut t).await,
        vec![invalidate(&["k:mine"])]
    );
    run(&mut writer, &["SET", "k:other", "1"]).await;
    assert_eq!(
        pushes_before_pong(&mut t).await,
        vec![invalidate(&["k:other"])]
    );
    assert_eq!(
        pushes_before_pong(&mut plain).await,
        vec![invalidate(&["k:other"])]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn switching_to_bcast_forgets_keys_read_before() {
    let server = TestServer::start().await;
    let mut writer = server.conn().await;
    let mut t = tracker(&server, &[]).await;
    run(&mut writer, &["SET", "key1", "1"]).await;
    t.cmd(&["GET", "key1"]).await;
    assert_eq!(t.cmd(&["CLIENT", "TRACKING", "OFF"]).await, Reply::ok());
    tracking_on(&mut t, &["BCAST"]).await;
    run(&mut writer, &["INCR", "key1"]).await;
    // Only the broadcast, not the old default-mode entry as well.
    assert_eq!(
        pushes_before_pong(&mut t).await,
        vec![invalidate(&["key1"])]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tracking_option_errors() {
    let server = TestServer::start().await;
    let mut t = server.raw().await;
    let on = |extra: &[&'static str]| {
        let mut args = vec!["CLIENT", "TRACKING", "ON"];
        args.extend_from_slice(extra);
        args
    };
    // Prefixes overlapping each other.
    assert_eq!(
        error_of(&mut t, &on(&["BCAST", "PREFIX", "FOOBAR", "PREFIX", "FOO"])).await,
        "ERR Prefix 'FOOBAR' overlaps with another provided prefix 'FOO'. Prefixes for a single client must not overlap."
    );
    assert_eq!(
        error_of(&mut t, &on(&["BCAST", "PREFIX", "FOO", "PREFIX", "FOOBAR"])).await,
        "ERR Prefix 'FOO' overlaps with another provided prefix 'FOOBAR'. Prefixes for a single client must not overlap."
    );
    assert_eq!(t.cmd(&["CLIENT", "GETREDIR"]).await, Reply::Int(-1));
    // Prefixes overlapping ones the client has.
    assert_eq!(
        t.cmd(&on(&["BCAST", "PREFIX", "FOO", "PREFIX", "BAR"]))
            .await,
        Reply::ok()
    );
    assert_eq!(
        error_of(&mut t, &on(&["BCAST", "PREFIX", "FO"])).await,
        "ERR Prefix 'FO' overlaps with an existing prefix 'FOO'. Prefixes for a single client must not overlap."
    );
    assert_eq!(
        error_of(&mut t, &on(&["BCAST", "PREFIX", "BARB"])).await,
        "ERR Prefix 'BARB' overlaps with an existing prefix 'BAR'. Prefixes for a single client must not overlap."
    );
    assert_eq!(
        error_of(&mut t, &on(&["BCAST", "PREFIX", "FOO"])).await,
        "ERR Prefix 'FOO' overlaps with an existing prefix 'FOO'. Prefixes for a single client must not overlap."
    );
    // BCAST can not be switched on or off without OFF first.
    assert_eq!(
        error_of(&mut t, &on(&[])).await,
        "ERR You can't switch BCAST mode on/off before disabling tracking for this client, and then re-enabling it with a different mode."
    );
    // The failed commands changed nothing.
    assert_eq!(
        t.cmd(&["CLIENT", "TRACKINGINFO"]).await,
        Reply::array(vec![
            Reply::bulk("flags"),
            bulks(&["on", "bcast"]),
            Reply::bulk("redirect"),
            Reply::Int(0),
            Reply::bulk("prefixes"),
            bulks(&["BAR", "FOO"]),
        ])
    );
    assert_eq!(t.cmd(&["CLIENT", "TRACKING", "OFF"]).await, Reply::ok());
    assert_eq!(t.cmd(&on(&[])).await, Reply::ok());
    assert_eq!(
        error_of(&mut t, &on(&["BCAST"])).await,
        "ERR You can't switch BCAST mode on/off before disabling tracking for this client, and then re-enabling it with a different mode."
    );
    assert_eq!(t.cmd(&["CLIENT", "TRACKING", "OFF"]).await, Reply::ok());
    // PREFIX needs BCAST (checked first).
    assert_eq!(
        error_of(&mut t, &on(&["PREFIX", "x"])).await,
        "ERR PREFIX option requires BCAST mode to be enabled"
    );
    assert_eq!(
        error_of(&mut t, &on(&["PREFIX", "x", "OPTIN", "OPTOUT"])).await,
        "ERR PREFIX option requires BCAST mode to be enabled"
    );
    // OPTIN / OPTOUT.
    for mode in ["OPTIN", "OPTOUT"] {
        assert_eq!(
            error_of(&mut t, &on(&["BCAST", mode])).await,
            "ERR OPTIN and OPTOUT are not compatible with BCAST"
        );
    }
    assert_eq!(
        error_of(&mut t, &on(&["OPTIN", "OPTOUT"])).await,
        "ERR You can't specify both OPTIN mode and OPTOUT mode"
    );
    assert_eq!(t.cmd(&on(&["OPTIN"])).await, Reply::ok());
    assert_eq!(
        error_of(&mut t, &on(&["OPTOUT"])).await,
        "ERR You can't switch OPTIN/OPTOUT mode before disabling tracking for this client, and then re-enabling it with a different mode."
    );
    // ON again without OPTIN is allowed, and leaves OPTIN.
    assert_eq!(t.cmd(&on(&[])).await, Reply::ok());
    assert_eq!(
        t.cmd(&["CLIENT", "TRACKINGINFO"]).await,
        Reply::array(vec![
            Reply::bulk("flags"),
            bulks(&["on"]),
            Reply::bulk("redirect"),
            Reply::Int(0),
            Reply::bulk("prefixes"),
            Reply::array(vec![]),
        ])
    );
    assert_eq!(t.cmd(&["CLIENT", "TRACKING", "OFF"]).await, Reply::ok());
    // Syntax.
    for args in [
        vec!["CLIENT", "TRACKING", "ON", "FOO"],
        vec!["CLIENT", "TRACKING", "MAYBE"],
        vec!["CLIENT", "TRACKING", "ON", "BCAST", "PREFIX"],
        vec!["CLIENT", "TRACKING", "OFF", "BOGUS"],
    ] {
        assert_eq!(
            error_of(&mut t, &args).await,
            "ERR syntax error",
            "{:?}",
            args
        );
    }
    assert_eq!(
        error_of(&mut t, &["CLIENT", "TRACKING"]).await,
        "ERR wrong number of arguments for 'client|tracking' command"
    );
    assert_eq!(t.cmd(&["CLIENT", "GETREDIR"]).await, Reply::Int(-1));
}

// ---------------------------------------------------------------------------
// OPTIN / OPTOUT and CLIENT CACHING
// ---------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn optin_tracks_only_the_command_after_caching_yes() {
    let server = TestServer::start().await;
    let mut writer = server.conn().await;
    let mut t = tracker(&server, &["OPTIN"]).await;
    t.cmd(&["GET", "a"]).await;
    assert_eq!(t.cmd(&["CLIENT", "CACHING", "YES"]).await, Reply::ok());
    t.cmd(&["GET", "b"]).await;
    t.cmd(&["GET", "c"]).await;
    run(&mut writer, &["SET", "a", "1"]).await;
    run(&mut writer, &["SET", "b", "1"]).await;
    run(&mut writer, &["SET", "c", "1"]).await;
    assert_eq!(pushes_before_pong(&mut t).await, vec![invalidate(&["b"])]);
    // Other CLIENT subcommands in between do not use it up.
    assert_eq!(t.cmd(&["CLIENT", "CACHING", "YES"]).await, Reply::ok());
    assert!(matches!(t.cmd(&["CLIENT", "ID"]).await, Reply::Int(_)));
    t.cmd(&["GET", "d"]).await;
    run(&mut writer, &["SET", "d", "1"]).await;
    assert_eq!(pushes_before_pong(&mut t).await, vec![invalidate(&["d"])]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn optin_caching_yes_covers_a_whole_transaction() {
    let server = TestServer::start().await;
    let mut writer = server.conn().await;
    let mut t = tracker(&server, &["OPTIN"]).await;
    assert_eq!(t.cmd(&["CLIENT", "CACHING", "YES"]).await, Reply::ok());
    assert_eq!(t.cmd(&["MULTI"]).await, Reply::ok());
    assert_eq!(t.cmd(&["GET", "x"]).await, Reply::Simple("QUEUED".into()));
    assert_eq!(t.cmd(&["GET", "y"]).await, Reply::Simple("QUEUED".into()));
    assert_eq!(
        t.cmd(&["EXEC"]).await,
        Reply::array(vec![Reply::Null, Reply::Null])
    );
    t.cmd(&["GET", "z"]).await;
    run(&mut writer, &["SET", "x", "1"]).await;
    run(&mut writer, &["SET", "y", "1"]).await;
    run(&mut writer, &["SET", "z", "1"]).await;
    assert_eq!(
        pushes_before_pong(&mut t).await,
        vec![invalidate(&["x"]), invalidate(&["y"])]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn optout_skips_only_the_command_after_caching_no() {
    let server = TestServer::start().await;
    let mut writer = server.conn().await;
    let mut t = tracker(&server, &["OPTOUT"]).await;
    t.cmd(&["GET", "a"]).await;
    assert_eq!(t.cmd(&["CLIENT", "CACHING", "NO"]).await, Reply::ok());
    t.cmd(&["GET", "b"]).await;
    t.cmd(&["GET", "c"]).await;
    run(&mut writer, &["SET", "a", "1"]).await;
    run(&mut writer, &["SET", "b", "1"]).await;
    run(&mut writer, &["SET", "c", "1"]).await;
    assert_eq!(
        pushes_before_pong(&mut t).await,
        vec![invalidate(&["a"]), invalidate(&["c"])]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_caching_errors() {
    let server = TestServer::start().await;
    let mut t = server.raw().await;
    let not_tracking = "ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT mode enabled";
    let yes_error = "ERR CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode.";
    let no_error = "ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode.";
    assert_eq!(
        error_of(&mut t, &["CLIENT", "CACHING", "YES"]).await,
        not_tracking
    );
    assert_eq!(
        error_of(&mut t, &["CLIENT", "CACHING", "NO"]).await,
        not_tracking
    );
    assert_eq!(t.cmd(&["CLIENT", "TRACKING", "ON"]).await, Reply::ok());
    assert_eq!(
        error_of(&mut t, &["CLIENT", "CACHING", "YES"]).await,
        yes_error
    );
    assert_eq!(
        error_of(&mut t, &["CLIENT", "CACHING", "NO"]).await,
        no_error
    );
    assert_eq!(t.cmd(&["CLIENT", "TRACKING", "OFF"]).await, Reply::ok());
    assert_eq!(
        t.cmd(&["CLIENT", "TRACKING", "ON", "OPTIN"]).await,
        Reply::ok()
    );
    assert_eq!(
        error_of(&mut t, &["CLIENT", "CACHING", "NO"]).await,
        no_error
    );
    assert_eq!(
        error_of(&mut t, &["CLIENT", "CACHING", "MAYBE"]).await,
        "ERR syntax error"
    );
    assert_eq!(t.cmd(&["CLIENT", "CACHING", "yes"]).await, Reply::ok());
    assert_eq!(t.cmd(&["CLIENT", "TRACKING", "OFF"]).await, Reply::ok());
    assert_eq!(
        t.cmd(&["CLIENT", "TRACKING", "ON", "OPTOUT"]).await,
        Reply::ok()
    );
    assert_eq!(
        error_of(&mut t, &["CLIENT", "CACHING", "YES"]).await,
        yes_error
    );
    assert_eq!(t.cmd(&["CLIENT", "CACHING", "no"]).await, Reply::ok());
    assert_eq!(t.cmd(&["CLIENT", "TRACKING", "OFF"]).await, Reply::ok());
    assert_eq!(
        t.cmd(&["CLIENT", "TRACKING", "ON", "BCAST"]).await,
        Reply::ok()
    );
    assert_eq!(
        error_of(&mut t, &["CLIENT", "CACHING", "YES"]).await,
        yes_error
    );
    assert_eq!(
        error_of(&mut t, &["CLIENT", "CACHING"]).await,
        "ERR wrong number of arguments for 'client|caching' command"
    );
}

// ---------------------------------------------------------------------------
// FLUSHALL / FLUSHDB
// ---------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flushall_sends_the_null_invalidation_to_every_tracking_client() {
    let server = TestServer::start().await;
    let mut writer = server.conn().await;
    let (mut subscriber, sid) = invalidation_subscriber(&server).await;
    let mut reader = tracker(&server, &[]).await;
    let mut idle = tracker(&server, &[]).await; // read nothing
    let mut bcast = tracker(&server, &["BCAST", "PREFIX", "p:"]).await;
    let mut redirected = server.raw().await;
    assert_eq!(
        redirected
            .cmd(&["CLIENT", "TRACKING", "ON", "REDIRECT", &sid.to_string()])
            .await,
        Reply::ok()
    );
    let mut untracked = resp3(&server).await;
    run(&mut writer, &["MSET", "key1", "1", "key2", "2"]).await;
    reader.cmd(&["MGET", "key1", "key2"]).await;
    redirected.cmd(&["GET", "key1"]).await;
    untracked.cmd(&["GET", "key1"]).await;
    let (_, keys, items, _) = tracking_counters(&mut writer).await;
    assert_eq!((keys, items), (2, 3));

    run(&mut writer, &["FLUSHALL"]).await;
    for t in [&mut reader, &mut idle, &mut bcast] {
        assert_eq!(pushes_before_pong(t).await, vec![invalidate_all()]);
    }
    assert_nothing_due(&mut untracked).await;
    assert_eq!(
        messages_before_pong(&mut subscriber).await,
        vec![invalidation_message(Reply::nil())]
    );
    let (_, keys, items, _) = tracking_counters(&mut writer).await;
    assert_eq!((keys, items), (0, 0));

    // FLUSHDB, even of another database, says the same.
    reader.cmd(&["MGET", "key1", "key2"]).await;
    assert_eq!(tracking_counters(&mut writer).await.1, 2);
    let mut writer_db1 = server.conn_db(1).await;
    run(&mut writer_db1, &["FLUSHDB"]).await;
    assert_eq!(
        pushes_before_pong(&mut reader).await,
        vec![invalidate_all()]
    );
    assert_eq!(pushes_before_pong(&mut bcast).await, vec![invalidate_all()]);
    assert_eq!(
        messages_before_pong(&mut subscriber).await,
        vec![invalidation_message(Reply::nil())]
    );
    let (_, keys, items, _) = tracking_counters(&mut writer).await;
    assert_eq!((keys, items), (0, 0));
    // The table really is empty: nothing for keys read before the flush.
    run(&mut writer, &["SET", "key1", "x"]).await;
    run(&mut writer, &["SET", "key2", "x"]).await;
    assert_nothing_due(&mut reader).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn own_flush_invalidation_follows_the_reply() {
    let server = TestServer::start().await;
    let mut t = tracker(&server, &[]).await;
    assert_eq!(t.cmd(&["SET", "a", "1"]).await, Reply::ok());
    t.cmd(&["GET", "a"]).await;
    assert_eq!(t.cmd(&["FLUSHDB"]).await, Reply::ok());
    assert_eq!(t.read_reply().await, invalidate_all());
    assert_nothing_due(&mut t).await;

    assert_eq!(t.cmd(&["SET", "a", "1"]).await, Reply::ok());
    t.cmd(&["GET", "a"]).await;
    assert_eq!(t.cmd(&["MULTI"]).await, Reply::ok());
    assert_eq!(t.cmd(&["FLUSHALL"]).await, Reply::Simple("QUEUED".into()));
    assert_eq!(t.cmd(&["EXEC"]).await, Reply::array(vec![Reply::ok()]));
    assert_eq!(t.read_reply().await, invalidate_all());
    assert_nothing_due(&mut t).await;
}

// ---------------------------------------------------------------------------
// Expiry
// ---------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn active_expiry_invalidates_a_tracked_key() {
    let server = TestServer::start().await;
    let mut writer = server.conn().await;
    let mut t = tracker(&server, &[]).await;
    run(&mut writer, &["SET", "k", "v", "PX", "300"]).await;
    // Whatever GET answers (the key may already have gone on a slow
    // machine), an invalidation follows without any further command.
    let first = t.cmd(&["GET", "k"]).await;
    assert!(
        first == Reply::bulk("v") || first == Reply::Null,
        "{:?}",
        first
    );
    assert_eq!(t.read_reply().await, invalidate(&["k"]));
    let (_, keys, items, _) = tracking_counters(&mut writer).await;
    assert_eq!((keys, items), (0, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expiry_counts_as_nobodys_change_for_bcast_noloop() {
    let server = TestServer::start().await;
    let mut t = tracker(&server, &["BCAST", "NOLOOP"]).await;
    assert_eq!(t.cmd(&["SET", "mykeyotherkey", "v"]).await, Reply::ok());
    assert_eq!(t.cmd(&["SET", "mykey", "v", "PX", "1"]).await, Reply::ok());
    // Its own SETs are not reported; the expiry (by the server) is.
    assert_eq!(t.read_reply().await, invalidate(&["mykey"]));
    assert_nothing_due(&mut t).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lazy_expiry_invalidation_follows_the_reply() {
    let server = DebugServer::start().await;
    let mut writer = server.conn().await;
    run(&mut writer, &["DEBUG", "SET-ACTIVE-EXPIRE", "0"]).await;
    let mut t = tracker_at(server.addr, &[]).await;
    let deadline = server_ms(&mut writer).await + 100;
    let at = deadline.to_string();
    run(&mut writer, &["SET", "x", "1"]).await;
    run(&mut writer, &["SET", "y", "2", "PXAT", &at]).await;
    run(&mut writer, &["SET", "z", "3", "PXAT", &at]).await;
    assert_eq!(
        t.cmd(&["MGET", "x", "y"]).await,
        Reply::array(vec![Reply::bulk("1"), Reply::bulk("2")])
    );
    assert_eq!(t.cmd(&["GET", "z"]).await, Reply::bulk("3"));
    wait_server_past(&mut writer, deadline).await;
    // Nothing expired by itself.
    assert_nothing_due(&mut t).await;
    // Reading the expired key deletes it: the reply, then the push.
    assert_eq!(
        t.cmd(&["MGET", "x", "y"]).await,
        Reply::array(vec![Reply::bulk("1"), Reply::Null])
    );
    assert_eq!(t.read_reply().await, invalidate(&["y"]));
    assert_eq!(t.cmd(&["GET", "z"]).await, Reply::Null);
    assert_eq!(t.read_reply().await, invalidate(&["z"]));
    assert_nothing_due(&mut t).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lazy_expiry_by_another_client_invalidates() {
    let server = DebugServer::start().await;
    let mut writer = server.conn().await;
    run(&mut writer, &["DEBUG", "SET-ACTIVE-EXPIRE", "0"]).await;
    let mut t = tracker_at(server.addr, &[]).await;
    let mut bcast = tracker_at(server.addr, &["BCAST", "NOLOOP"]).await;
    let deadline = server_ms(&mut writer).await + 100;
    assert_eq!(
        bcast
            .cmd(&["SET", "k", "v", "PXAT", &deadline.to_string()])
            .await,
        Reply::ok()
    );
    assert_eq!(t.cmd(&["GET", "k"]).await, Reply::bulk("v"));
    wait_server_past(&mut writer, deadline).await;
    assert_nothing_due(&mut t).await;
    assert_nothing_due(&mut bcast).await;
    let exists: i64 = query(&mut writer, &["EXISTS", "k"]).await;
    assert_eq!(exists, 0);
    assert_eq!(pushes_before_pong(&mut t).await, vec![invalidate(&["k"])]);
    // The NOLOOP client set the key, but the server expired it.
    assert_eq!(
        pushes_before_pong(&mut bcast).await,
        vec![invalidate(&["k"])]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn noloop_hides_lazy_expiry_caused_by_the_clients_own_read() {
    // Redis skips a NOLOOP client for changes made while its own command
    // runs, an expiry its read triggered included.
    let server = DebugServer::start().await;
    let mut writer = server.conn().await;
    run(&mut writer, &["DEBUG", "SET-ACTIVE-EXPIRE", "0"]).await;
    let mut t = tracker_at(server.addr, &["NOLOOP"]).await;
    let deadline = server_ms(&mut writer).await + 100;
    let at = deadline.to_string();
    run(&mut writer, &["SET", "mine", "v", "PXAT", &at]).await;
    run(&mut writer, &["SET", "theirs", "v", "PXAT", &at]).await;
    t.cmd(&["MGET", "mine", "theirs"]).await;
    wait_server_past(&mut writer, deadline).await;
    assert_eq!(t.cmd(&["GET", "mine"]).await, Reply::Null);
    assert_nothing_due(&mut t).await;
    assert_eq!(query::<i64>(&mut writer, &["EXISTS", "theirs"]).await, 0);
    assert_eq!(
        pushes_before_pong(&mut t).await,
        vec![invalidate(&["theirs"])]
    );
}

// ---------------------------------------------------------------------------
// tracking-table-max-keys
// ---------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tracking_table_max_keys_invalidates_all_but_the_allowed_keys() {
    let server = TestServer::start().await;
    let mut admin = server.conn().await;
    let mut t = tracker(&server, &[]).await;
    // More keys than one round's effort (100): rounds try harder.
    let owned: Vec<String> = (0..250).map(|i| format!("key{}", i)).collect();
    let names: Vec<&str> = owned.iter().map(String::as_str).collect();
    let mut mget = vec!["MGET"];
    mget.extend_from_slice(&names);
    t.cmd(&mget).await;
    assert_eq!(tracking_counters(&mut admin).await.1, 250);
    run(
        &mut admin,
        &["CONFIG", "SET", "tracking-table-max-keys", "1"],
    )
    .await;
    // The table shrinks on the next command or in the background.
    let shrunk = wait_until(IO_TIMEOUT, || {
        let mut con = admin.clone();
        async move { tracking_counters(&mut con).await.1 <= 1 }
    })
    .await;
    assert!(shrunk, "the tracking table never shrank");
    assert_eq!(tracking_counters(&mut admin).await.1, 1);
    let mut invalidated = Vec::new();
    while invalidated.len() < names.len() - 1 {
        match t.read_reply().await {
            Reply::Push(items) if items.len() == 2 => match &items[1] {
                Reply::Array(Some(keys)) if keys.len() == 1 => invalidated.push(keys[0].text()),
                other => panic!("unexpected invalidation {:?}", other),
            },
            other => panic!("unexpected reply {:?}", other),
        }
    }
    assert_nothing_due(&mut t).await;
    invalidated.sort();
    invalidated.dedup();
    assert_eq!(invalidated.len(), names.len() - 1, "{:?}", invalidated);
    assert!(invalidated.iter().all(|k| names.contains(&k.as_str())));
    // The one key left is still tracked.
    let kept = names
        .iter()
        .find(|k| !invalidated.iter().any(|i| i == *k))
        .unwrap();
    run(&mut admin, &["SET", *kept, "v"]).await;
    assert_eq!(pushes_before_pong(&mut t).await, vec![invalidate(&[*kept])]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn table_limit_is_enforced_for_a_client_inside_multi() {
    // Redis issue #11715: the limit bites while the tracking client is
    // queueing a transaction; the push comes before the QUEUED reply.
    let server = TestServer::start().await;
    let mut admin = server.conn().await;
    let max: Vec<String> = query(&mut admin, &["CONFIG", "GET", "tracking-table-max-keys"]).await;
    assert_eq!(max, vec!["tracking-table-max-keys", "1000000"]);
    run(
        &mut admin,
        &["CONFIG", "SET", "tracking-table-max-keys", "2"],
    )
    .await;
    let mut t = tracker(&server, &[]).await;
    assert_eq!(
        t.cmd(&["MGET", "1{tag}", "2{tag}"]).await,
        Reply::array(vec![Reply::Null, Reply::Null])
    );
    assert_eq!(t.cmd(&["MULTI"]).await, Reply::ok());
    run(
        &mut admin,
        &["CONFIG", "SET", "tracking-table-max-keys", "1"],
    )
    .await;
    let mut batch = encode_command(&["PING"]);
    batch.extend(encode_command(&["EXEC"]));
    t.send(&batch).await;
    match t.read_reply().await {
        Reply::Push(items) => {
            assert_eq!(items[0], Reply::bulk("invalidate"));
            let key = match &items[1] {
                Reply::Array(Some(keys)) if keys.len() == 1 => keys[0].text(),
                other => panic!("invalidate payload {:?}", other),
            };
            assert!(key == "1{tag}" || key == "2{tag}", "{}", key);
        }
        other => panic!("expected an invalidation first, got {:?}", other),
    }
    assert_eq!(t.read_reply().await, Reply::Simple("QUEUED".into()));
    assert_eq!(
        t.read_reply().await,
        Reply::array(vec![Reply::Simple("PONG".into())])
    );
    assert_eq!(tracking_counters(&mut admin).await.1, 1);
}

// ---------------------------------------------------------------------------
// Introspection
// ---------------------------------------------------------------------------

fn trackinginfo3(flags: &[&str], redirect: i64, prefixes: &[&str]) -> Reply {
    Reply::Map(vec![
        (
            Reply::bulk("flags"),
            Reply::Set(flags.iter().map(|f| Reply::bulk(f)).collect()),
        ),
        (Reply::bulk("redirect"), Reply::Int(redirect)),
        (Reply::bulk("prefixes"), bulks(prefixes)),
    ])
}

fn trackinginfo2(flags: &[&str], redirect: i64, prefixes: &[&str]) -> Reply {
    Reply::array(vec![
        Reply::bulk("flags"),
        bulks(flags),
        Reply::bulk("redirect"),
        Reply::Int(redirect),
        Reply::bulk("prefixes"),
        bulks(prefixes),
    ])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_trackinginfo_in_resp3() {
    let server = TestServer::start().await;
    let mut other = server.raw().await;
    let oid = client_id(&mut other).await;
    let oid_text = oid.to_string();
    let mut t = resp3(&server).await;
    let info = ["CLIENT", "TRACKINGINFO"];
    assert_eq!(t.cmd(&info).await, trackinginfo3(&["off"], -1, &[]));
    tracking_on(&mut t, &[]).await;
    assert_eq!(t.cmd(&info).await, trackinginfo3(&["on"], 0, &[]));
    tracking_on(&mut t, &["REDIRECT", &oid_text, "NOLOOP"]).await;
    assert_eq!(
        t.cmd(&info).await,
        trackinginfo3(&["on", "noloop"], oid, &[])
    );
    assert_eq!(t.cmd(&["CLIENT", "TRACKING", "OFF"]).await, Reply::ok());
    assert_eq!(t.cmd(&info).await, trackinginfo3(&["off"], -1, &[]));
    tracking_on(&mut t, &["OPTIN"]).await;
    assert_eq!(t.cmd(&info).await, trackinginfo3(&["on", "optin"], 0, &[]));
    assert_eq!(t.cmd(&["CLIENT", "CACHING", "YES"]).await, Reply::ok());
    assert_eq!(
        t.cmd(&info).await,
        trackinginfo3(&["on", "optin", "caching-yes"], 0, &[])
    );
    // Any other command uses CLIENT CACHING up.
    t.cmd(&["GET", "k"]).await;
    assert_eq!(t.cmd(&info).await, trackinginfo3(&["on", "optin"], 0, &[]));
    assert_eq!(t.cmd(&["CLIENT", "TRACKING", "OFF"]).await, Reply::ok());
    tracking_on(&mut t, &["OPTOUT"]).await;
    assert_eq!(t.cmd(&info).await, trackinginfo3(&["on", "optout"], 0, &[]));
    assert_eq!(t.cmd(&["CLIENT", "CACHING", "NO"]).await, Reply::ok());
    assert_eq!(
        t.cmd(&info).await,
        trackinginfo3(&["on", "optout", "caching-no"], 0, &[])
    );
    assert_eq!(t.cmd(&["CLIENT", "TRACKING", "OFF"]).await, Reply::ok());
    tracking_on(
        &mut t,
        &["BCAST", "NOLOOP", "PREFIX", "foo", "PREFIX", "bar"],
    )
    .await;
    assert_eq!(
        t.cmd(&info).await,
        trackinginfo3(&["on", "bcast", "noloop"], 0, &["bar", "foo"])
    );
    assert_eq!(t.cmd(&["CLIENT", "TRACKING", "OFF"]).await, Reply::ok());
    assert_eq!(t.cmd(&info).await, trackinginfo3(&["off"], -1, &[]));
    tracking_on(&mut t, &["BCAST"]).await;
    assert_eq!(
        t.cmd(&info).await,
        trackinginfo3(&["on", "bcast"], 0, &[""])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_trackinginfo_in_resp2() {
    let server = TestServer::start().await;
    let mut other = server.raw().await;
    let oid = client_id(&mut other).await;
    let mut t = server.raw().await;
    let info = ["CLIENT", "TRACKINGINFO"];
    assert_eq!(t.cmd(&info).await, trackinginfo2(&["off"], -1, &[]));
    assert_eq!(
        t.cmd(&[
            "CLIENT",
            "TRACKING",
            "ON",
            "BCAST",
            "REDIRECT",
            &oid.to_string(),
            "PREFIX",
            "p:"
        ])
        .await,
        Reply::ok()
    );
    assert_eq!(
        t.cmd(&info).await,
        trackinginfo2(&["on", "bcast"], oid, &["p:"])
    );
    assert_eq!(
        error_of(&mut t, &["CLIENT", "TRACKINGINFO", "extra"]).await,
        "ERR wrong number of arguments for 'client|trackinginfo' command"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_getredir_reports_the_redirect() {
    let server = TestServer::start().await;
    let mut other = server.raw().await;
    let oid = client_id(&mut other).await;
    let mut t = server.raw().await;
    let getredir = ["CLIENT", "GETREDIR"];
    assert_eq!(t.cmd(&getredir).await, Reply::Int(-1));
    assert_eq!(t.cmd(&["CLIENT", "TRACKING", "ON"]).await, Reply::ok());
    assert_eq!(t.cmd(&getredir).await, Reply::Int(0));
    assert_eq!(
        t.cmd(&["CLIENT", "TRACKING", "ON", "REDIRECT", &oid.to_string()])
            .await,
        Reply::ok()
    );
    assert_eq!(t.cmd(&getredir).await, Reply::Int(oid));
    // ON without REDIRECT drops it.
    assert_eq!(t.cmd(&["CLIENT", "TRACKING", "ON"]).await, Reply::ok());
    assert_eq!(t.cmd(&getredir).await, Reply::Int(0));
    assert_eq!(t.cmd(&["CLIENT", "TRACKING", "OFF"]).await, Reply::ok());
    assert_eq!(t.cmd(&getredir).await, Reply::Int(-1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn info_reports_tracking_counters() {
    let server = TestServer::start().await;
    let mut admin = server.conn().await;
    assert_eq!(tracking_counters(&mut admin).await, (0, 0, 0, 0));
    let mut a = tracker(&server, &[]).await;
    a.cmd(&["GET", "key1"]).await;
    a.cmd(&["GET", "key2"]).await;
    assert_eq!(tracking_counters(&mut admin).await, (1, 2, 2, 0));
    let mut b = tracker(&server, &[]).await;
    b.cmd(&["GET", "key1"]).await;
    // Reading again adds nothing.
    a.cmd(&["MGET", "key1", "key2"]).await;
    assert_eq!(tracking_counters(&mut admin).await, (2, 2, 3, 0));
    let c = tracker(&server, &["BCAST", "PREFIX", "p:"]).await;
    let mut d = tracker(&server, &["BCAST", "PREFIX", "p:", "PREFIX", "q:"]).await;
    // BCAST clients' reads are not remembered.
    d.cmd(&["GET", "p:1"]).await;
    assert_eq!(tracking_counters(&mut admin).await, (4, 2, 3, 2));
    run(&mut admin, &["SET", "key1", "v"]).await;
    assert_eq!(tracking_counters(&mut admin).await, (4, 1, 1, 2));
    assert_eq!(d.cmd(&["CLIENT", "TRACKING", "OFF"]).await, Reply::ok());
    assert_eq!(tracking_counters(&mut admin).await, (3, 1, 1, 1));
    // Tracking clients that disconnect no longer count, nor do their prefixes.
    drop(c);
    drop(b);
    let counted = wait_until(IO_TIMEOUT, || {
        let mut con = admin.clone();
        async move {
            let (clients, _, _, prefixes) = tracking_counters(&mut con).await;
            (clients, prefixes) == (1, 0)
        }
    })
    .await;
    assert!(
        counted,
        "tracking_clients / prefixes never dropped to 1 / 0"
    );
    assert_eq!(
        pushes_before_pong(&mut a).await,
        vec![invalidate(&["key1"])]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_list_shows_tracking_flags_and_redir() {
    let server = TestServer::start().await;
    let mut admin = server.conn().await;
    let (_subscriber, sid) = invalidation_subscriber(&server).await;
    let mut plain = server.raw().await;
    let plain_id = client_id(&mut plain).await;
    let mut default = tracker(&server, &[]).await;
    let default_id = client_id(&mut default).await;
    let mut bcast = tracker(&server, &["BCAST"]).await;
    let bcast_id = client_id(&mut bcast).await;
    let mut redirected = tracker(&server, &["REDIRECT", &sid.to_string()]).await;
    let redirected_id = client_id(&mut redirected).await;
    let expected = [
        (plain_id, "N", "-1".to_string()),
        (default_id, "t", "0".to_string()),
        (bcast_id, "tB", "0".to_string()),
        (redirected_id, "t", sid.to_string()),
        (sid, "P", "-1".to_string()),
    ];
    for (id, flags, redir) in &expected {
        let line = client_line(&mut admin, *id).await;
        assert_eq!(&line_field(&line, "flags"), flags, "{}", line);
        assert_eq!(&line_field(&line, "redir"), redir, "{}", line);
    }
    assert_eq!(
        default.cmd(&["CLIENT", "TRACKING", "OFF"]).await,
        Reply::ok()
    );
    let line = client_line(&mut admin, default_id).await;
    assert_eq!(line_field(&line, "flags"), "N");
    assert_eq!(line_field(&line, "redir"), "-1");
}

// ---------------------------------------------------------------------------
// CLIENT REPLY OFF, RESET, the redis crate
// ---------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_reply_off_does_not_silence_invalidations() {
    let server = TestServer::start().await;
    let mut writer = server.conn().await;
    let mut t = tracker(&server, &[]).await;
    run(&mut writer, &["SET", "foo", "bar"]).await;
    assert_eq!(t.cmd(&["GET", "foo"]).await, Reply::bulk("bar"));
    t.send(&encode_command(&["CLIENT", "REPLY", "OFF"])).await;
    // Make sure REPLY OFF has run before the change.
    let off = wait_until(IO_TIMEOUT, || {
        let mut con = writer.clone();
        async move {
            let list: String = query(&mut con, &["CLIENT", "LIST"]).await;
            list.lines().any(|l| l.contains("cmd=client|reply"))
        }
    })
    .await;
    assert!(off, "CLIENT REPLY OFF never ran");
    run(&mut writer, &["SET", "foo", "bar2"]).await;
    assert_eq!(t.read_reply().await, invalidate(&["foo"]));
    assert_eq!(t.cmd(&["CLIENT", "REPLY", "ON"]).await, Reply::ok());
    assert_eq!(t.cmd(&["PING"]).await, Reply::Simple("PONG".into()));

    // The same for a RESP3 REDIRECT target with replies off.
    let mut target = resp3(&server).await;
    let tid = client_id(&mut target).await;
    let mut r = server.raw().await;
    assert_eq!(
        r.cmd(&["CLIENT", "TRACKING", "ON", "REDIRECT", &tid.to_string()])
            .await,
        Reply::ok()
    );
    r.cmd(&["GET", "foo"]).await;
    target
        .send(&encode_command(&["CLIENT", "REPLY", "OFF"]))
        .await;
    let off = wait_until(IO_TIMEOUT, || {
        let mut con = writer.clone();
        async move {
            let line = client_line(&mut con, tid).await;
            line.contains("cmd=client|reply")
        }
    })
    .await;
    assert!(off, "the target's CLIENT REPLY OFF never ran");
    run(&mut writer, &["SET", "foo", "bar3"]).await;
    assert_eq!(target.read_reply().await, invalidate(&["foo"]));
    assert_eq!(target.cmd(&["CLIENT", "REPLY", "ON"]).await, Reply::ok());
    assert_eq!(target.cmd(&["PING"]).await, Reply::Simple("PONG".into()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reset_turns_tracking_off() {
    let server = TestServer::start().await;
    let mut writer = server.conn().await;
    let mut t = tracker(&server, &[]).await;
    t.cmd(&["GET", "k"]).await;
    assert_eq!(tracking_counters(&mut writer).await.0, 1);
    assert_eq!(t.cmd(&["RESET"]).await, Reply::Simple("RESET".into()));
    assert_eq!(tracking_counters(&mut writer).await.0, 0);
    // RESET also went back to RESP2.
    assert_eq!(
        t.cmd(&["CLIENT", "TRACKINGINFO"]).await,
        trackinginfo2(&["off"], -1, &[])
    );
    assert_eq!(t.cmd(&["CLIENT", "GETREDIR"]).await, Reply::Int(-1));
    assert!(matches!(t.cmd(&["HELLO", "3"]).await, Reply::Map(_)));
    run(&mut writer, &["SET", "k", "v"]).await;
    assert_nothing_due(&mut t).await;

    // BCAST prefixes go with it.
    tracking_on(&mut t, &["BCAST", "PREFIX", "p:"]).await;
    let (clients, _, _, prefixes) = tracking_counters(&mut writer).await;
    assert_eq!((clients, prefixes), (1, 1));
    assert_eq!(t.cmd(&["RESET"]).await, Reply::Simple("RESET".into()));
    let (clients, _, _, prefixes) = tracking_counters(&mut writer).await;
    assert_eq!((clients, prefixes), (0, 0));
    assert!(matches!(t.cmd(&["HELLO", "3"]).await, Reply::Map(_)));
    run(&mut writer, &["SET", "p:1", "v"]).await;
    assert_nothing_due(&mut t).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_crate_resp3_push_channel_receives_invalidations() {
    let server = TestServer::start().await;
    let mut writer = server.conn().await;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let config = redis::AsyncConnectionConfig::new().set_push_sender(tx);
    let client = redis::Client::open(server.url_resp3()).expect("url");
    let mut t = tokio::time::timeout(
        IO_TIMEOUT,
        client.get_multiplexed_async_connection_with_config(&config),
    )
    .await
    .expect("connect timed out")
    .expect("connect failed");
    let ok: String = query(&mut t, &["CLIENT", "TRACKING", "ON"]).await;
    assert_eq!(ok, "OK");
    run(&mut writer, &["SET", "k", "1"]).await;
    let value: String = query(&mut t, &["GET", "k"]).await;
    assert_eq!(value, "1");
    run(&mut writer, &["SET", "k", "2"]).await;
    let push = tokio::time::timeout(IO_TIMEOUT, rx.recv())
        .await
        .expect("no push in time")
        .expect("push channel closed");
    assert_eq!(push.kind, redis::PushKind::Invalidate);
    assert_eq!(
        push.data,
        vec![Value::Array(vec![Value::BulkString(b"k".to_vec())])]
    );
    run(&mut writer, &["FLUSHALL"]).await;
    let push = tokio::time::timeout(IO_TIMEOUT, rx.recv())
        .await
        .expect("no push in time")
        .expect("push channel closed");
    assert_eq!(push.kind, redis::PushKind::Invalidate);
    assert_eq!(push.data, vec![Value::Nil]);
}
