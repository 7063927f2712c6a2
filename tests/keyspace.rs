//! Keyspace commands: DEL/EXISTS/TYPE/TOUCH, RENAME/COPY/MOVE (with TTLs),
//! SWAPDB, FLUSHDB/FLUSHALL, KEYS patterns, SCAN, RANDOMKEY, DBSIZE.

mod common;

use common::*;
use std::collections::{HashMap, HashSet};

async fn setup() -> (TestServer, redis::aio::MultiplexedConnection) {
    let server = TestServer::start().await;
    let con = server.conn().await;
    (server, con)
}

async fn ttl(c: &mut redis::aio::MultiplexedConnection, key: &str) -> i64 {
    query(c, &["TTL", key]).await
}

fn assert_ttl_near(ttl: i64, expected: i64, key: &str) {
    assert!(
        (expected - 1..=expected).contains(&ttl),
        "TTL of {} is {}, expected about {}",
        key,
        ttl,
        expected
    );
}

// ---------------------------------------------------------------------------
// DEL / EXISTS / UNLINK / TYPE / TOUCH
// ---------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn del_counts_each_deleted_key_once_even_when_repeated() {
    let (_s, mut c) = setup().await;
    query::<()>(&mut c, &["MSET", "a", "1", "b", "2"]).await;
    assert_eq!(
        query::<i64>(&mut c, &["DEL", "a", "a", "b", "missing"]).await,
        2
    );
    assert_eq!(query::<i64>(&mut c, &["DEL", "a"]).await, 0);
    assert_eq!(query::<i64>(&mut c, &["DBSIZE"]).await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exists_counts_repeated_keys_every_time() {
    let (_s, mut c) = setup().await;
    query::<()>(&mut c, &["MSET", "a", "1", "b", "2"]).await;
    assert_eq!(
        query::<i64>(&mut c, &["EXISTS", "a", "a", "b", "missing", "a"]).await,
        4
    );
    assert_eq!(query::<i64>(&mut c, &["EXISTS", "missing"]).await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unlink_removes_keys_and_counts_them() {
    let (_s, mut c) = setup().await;
    query::<()>(&mut c, &["MSET", "a", "1", "b", "2", "c", "3"]).await;
    assert_eq!(
        query::<i64>(&mut c, &["UNLINK", "a", "b", "b", "zz"]).await,
        2
    );
    assert_eq!(
        query::<Vec<String>>(&mut c, &["KEYS", "*"]).await,
        vec!["c".to_string()]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn type_is_string_or_none_as_simple_string() {
    let (s, mut c) = setup().await;
    query::<()>(&mut c, &["SET", "k", "v"]).await;
    let mut raw = s.raw().await;
    assert_eq!(
        raw.cmd(&["TYPE", "k"]).await,
        Reply::Simple("string".into())
    );
    assert_eq!(
        raw.cmd(&["TYPE", "nokey"]).await,
        Reply::Simple("none".into())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn touch_counts_existing_keys() {
    let (_s, mut c) = setup().await;
    query::<()>(&mut c, &["MSET", "a", "1", "b", "2"]).await;
    assert_eq!(query::<i64>(&mut c, &["TOUCH", "a", "b", "c"]).await, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn object_encoding_follows_value_shape() {
    let (s, mut c) = setup().await;
    let long = "x".repeat(45);
    query::<()>(&mut c, &["MSET", "i", "12345", "e", "hello", "r", &long]).await;
    let mut raw = s.raw().await;
    assert_eq!(
        raw.cmd(&["OBJECT", "ENCODING", "i"]).await,
        Reply::bulk("int")
    );
    assert_eq!(
        raw.cmd(&["OBJECT", "ENCODING", "e"]).await,
        Reply::bulk("embstr")
    );
    assert_eq!(
        raw.cmd(&["OBJECT", "ENCODING", "r"]).await,
        Reply::bulk("raw")
    );
    assert_eq!(
        raw.cmd(&["OBJECT", "ENCODING", "missing"]).await,
        Reply::nil()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn object_refcount_reports_shared_small_integers() {
    let (s, mut c) = setup().await;
    query::<()>(&mut c, &["MSET", "small", "100", "text", "hello"]).await;
    let mut raw = s.raw().await;
    assert_eq!(
        raw.cmd(&["OBJECT", "REFCOUNT", "small"]).await,
        Reply::Int(2147483647)
    );
    assert_eq!(
        raw.cmd(&["OBJECT", "REFCOUNT", "text"]).await,
        Reply::Int(1)
    );
    assert_eq!(
        raw.cmd(&["OBJECT", "REFCOUNT", "missing"]).await,
        Reply::nil()
    );
}

// ---------------------------------------------------------------------------
// RENAME / RENAMENX
// ---------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rename_moves_value_and_keeps_ttl() {
    let (s, mut c) = setup().await;
    query::<()>(&mut c, &["SET", "src", "v", "EX", "100"]).await;
    let mut raw = s.raw().await;
    assert_eq!(raw.cmd(&["RENAME", "src", "dst"]).await, Reply::ok());
    assert_eq!(raw.cmd(&["GET", "dst"]).await, Reply::bulk("v"));
    assert_eq!(raw.cmd(&["EXISTS", "src"]).await, Reply::Int(0));
    assert_ttl_near(ttl(&mut c, "dst").await, 100, "dst");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rename_overwrites_destination_including_its_ttl() {
    let (_s, mut c) = setup().await;
    query::<()>(&mut c, &["SET", "src", "new"]).await;
    query::<()>(&mut c, &["SET", "dst", "old", "EX", "100"]).await;
    query::<()>(&mut c, &["RENAME", "src", "dst"]).await;
    assert_eq!(query::<String>(&mut c, &["GET", "dst"]).await, "new");
    assert_eq!(ttl(&mut c, "dst").await, -1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rename_of_missing_key_is_no_such_key() {
    let (_s, mut c) = setup().await;
    assert_eq!(
        query_err(&mut c, &["RENAME", "nokey", "x"]).await,
        "ERR no such key"
    );
    assert_eq!(
        query_err(&mut c, &["RENAMENX", "nokey", "x"]).await,
        "ERR no such key"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rename_onto_itself_keeps_the_key() {
    let (s, mut c) = setup().await;
    query::<()>(&mut c, &["SET", "k", "v", "EX", "100"]).await;
    let mut raw = s.raw().await;
    assert_eq!(raw.cmd(&["RENAME", "k", "k"]).await, Reply::ok());
    assert_eq!(raw.cmd(&["GET", "k"]).await, Reply::bulk("v"));
    assert_eq!(raw.cmd(&["RENAMENX", "k", "k"]).await, Reply::Int(0));
    assert_ttl_near(ttl(&mut c, "k").await, 100, "k");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn renamenx_does_not_overwrite_existing_destination() {
    let (_s, mut c) = setup().await;
    query::<()>(&mut c, &["MSET", "src", "a", "dst", "b"]).await;
    assert_eq!(query::<i64>(&mut c, &["RENAMENX", "src", "dst"]).await, 0);
    let got: Vec<String> = query(&mut c, &["MGET", "src", "dst"]).await;
    assert_eq!(got, vec!["a", "b"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn renamenx_moves_value_and_keeps_ttl() {
    let (_s, mut c) = setup().await;
    query::<()>(&mut c, &["SET", "src", "v", "PX", "100000"]).await;
    assert_eq!(query::<i64>(&mut c, &["RENAMENX", "src", "dst"]).await, 1);
    assert_eq!(query::<String>(&mut c, &["GET", "dst"]).await, "v");
    assert_ttl_near(ttl(&mut c, "dst").await, 100, "dst");
}

// ---------------------------------------------------------------------------
// COPY
// ---------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn copy_duplicates_value_and_ttl() {
    let (_s, mut c) = setup().await;
    query::<()>(&mut c, &["SET", "src", "v", "EX", "100"]).await;
    assert_eq!(query::<i64>(&mut c, &["COPY", "src", "dst"]).await, 1);
    let got: Vec<String> = query(&mut c, &["MGET", "src", "dst"]).await;
    assert_eq!(got, vec!["v", "v"]);
    assert_ttl_near(ttl(&mut c, "dst").await, 100, "dst");
    // The copy is independent of the source.
    query::<()>(&mut c, &["APPEND", "dst", "2"]).await;
    assert_eq!(query::<String>(&mut c, &["GET", "src"]).await, "v");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn copy_to_existing_destination_needs_replace() {
    let (_s, mut c) = setup().await;
    query::<()>(&mut c, &["MSET", "src", "new", "dst", "old"]).await;
    query::<()>(&mut c, &["EXPIRE", "dst", "100"]).await;
    assert_eq!(query::<i64>(&mut c, &["COPY", "src", "dst"]).await, 0);
    assert_eq!(query::<String>(&mut c, &["GET", "dst"]).await, "old");
    assert_eq!(
        query::<i64>(&mut c, &["COPY", "src", "dst", "REPLACE"]).await,
        1
    );
    assert_eq!(query::<String>(&mut c, &["GET", "dst"]).await, "new");
    assert_eq!(ttl(&mut c, "dst").await, -1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn copy_of_missing_source_returns_zero() {
    let (_s, mut c) = setup().await;
    assert_eq!(query::<i64>(&mut c, &["COPY", "nokey", "dst"]).await, 0);
    assert_eq!(query::<i64>(&mut c, &["EXISTS", "dst"]).await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn copy_to_another_db_keeps_ttl_and_leaves_source() {
    let (s, mut c) = setup().await;
    query::<()>(&mut c, &["SET", "k", "v", "EX", "100"]).await;
    assert_eq!(
        query::<i64>(&mut c, &["COPY", "k", "k", "DB", "3"]).await,
        1
    );
    assert_eq!(query::<String>(&mut c, &["GET", "k"]).await, "v");
    let mut c3 = s.conn_db(3).await;
    assert_eq!(query::<String>(&mut c3, &["GET", "k"]).await, "v");
    assert_ttl_near(ttl(&mut c3, "k").await, 100, "k in db 3");
    // Existing in the target DB: 0 without REPLACE, 1 with it.
    query::<()>(&mut c3, &["SET", "k", "other"]).await;
    assert_eq!(
        query::<i64>(&mut c, &["COPY", "k", "k", "DB", "3"]).await,
        0
    );
    assert_eq!(query::<String>(&mut c3, &["GET", "k"]).await, "other");
    assert_eq!(
        query::<i64>(&mut c, &["COPY", "k", "k", "DB", "3", "REPLACE"]).await,
        1
    );
    assert_eq!(query::<String>(&mut c3, &["GET", "k"]).await, "v");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn copy_errors() {
    let (_s, mut c) = setup().await;
    query::<()>(&mut c, &["SET", "k", "v"]).await;
    assert_eq!(
        query_err(&mut c, &["COPY", "k", "k"]).await,
        "ERR source and destination objects are the same"
    );
    assert_eq!(
        query_err(&mut c, &["COPY", "k", "k", "DB", "0"]).await,
        "ERR source and destination objects are the same"
    );
    assert_eq!(
        query_err(&mut c, &["COPY", "k", "x", "DB", "16"]).await,
        "ERR DB index is out of range"
    );
    assert_eq!(
        query_err(&mut c, &["COPY", "k", "x", "DB", "abc"]).await,
        "ERR value is not an integer or out of range"
    );
    assert_eq!(
        query_err(&mut c, &["COPY", "k", "x", "BOGUS"]).await,
        "ERR syntax error"
    );
}

// ---------------------------------------------------------------------------
// MOVE
// ---------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn move_transfers_key_and_ttl_to_target_db() {
    let (s, mut c) = setup().await;
    query::<()>(&mut c, &["SET", "k", "v", "EX", "100"]).await;
    assert_eq!(query::<i64>(&mut c, &["MOVE", "k", "1"]).await, 1);
    assert_eq!(query::<i64>(&mut c, &["EXISTS", "k"]).await, 0);
    let mut c1 = s.conn_db(1).await;
    assert_eq!(query::<String>(&mut c1, &["GET", "k"]).await, "v");
    assert_ttl_near(ttl(&mut c1, "k").await, 100, "k in db 1");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn move_does_not_overwrite_key_in_target_db() {
    let (s, mut c) = setup().await;
    query::<()>(&mut c, &["SET", "k", "mine"]).await;
    let mut c1 = s.conn_db(1).await;
    query::<()>(&mut c1, &["SET", "k", "theirs"]).await;
    assert_eq!(query::<i64>(&mut c, &["MOVE", "k", "1"]).await, 0);
    assert_eq!(query::<String>(&mut c, &["GET", "k"]).await, "mine");
    assert_eq!(query::<String>(&mut c1, &["GET", "k"]).await, "theirs");
    assert_eq!(query::<i64>(&mut c, &["MOVE", "missing", "1"]).await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn move_errors() {
    let (_s, mut c) = setup().await;
    query::<()>(&mut c, &["SET", "k", "v"]).await;
    assert_eq!(
        query_err(&mut c, &["MOVE", "k", "0"]).await,
        "ERR source and destination objects are the same"
    );
    assert_eq!(
        query_err(&mut c, &["MOVE", "k", "16"]).await,
        "ERR DB index is out of range"
    );
    assert_eq!(
        query_err(&mut c, &["MOVE", "k", "x"]).await,
        "ERR value is not an integer or out of range"
    );
}

// ---------------------------------------------------------------------------
// SWAPDB / FLUSHDB / FLUSHALL / DBSIZE / SELECT
// ---------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn swapdb_exchanges_contents_for_every_connection() {
    let (s, mut c0) = setup().await;
    let mut c1 = s.conn_db(1).await;
    query::<()>(&mut c0, &["SET", "zero", "0", "EX", "100"]).await;
    query::<()>(&mut c1, &["MSET", "one", "1", "uno", "1"]).await;
    let mut raw = s.raw().await;
    assert_eq!(raw.cmd(&["SWAPDB", "0", "1"]).await, Reply::ok());
    assert_eq!(query::<i64>(&mut c0, &["DBSIZE"]).await, 2);
    assert_eq!(query::<String>(&mut c0, &["GET", "one"]).await, "1");
    assert_eq!(query::<i64>(&mut c1, &["DBSIZE"]).await, 1);
    assert_eq!(query::<String>(&mut c1, &["GET", "zero"]).await, "0");
    assert_ttl_near(ttl(&mut c1, "zero").await, 100, "zero");
    assert_eq!(raw.cmd(&["SWAPDB", "1", "1"]).await, Reply::ok());
    assert_eq!(query::<i64>(&mut c1, &["DBSIZE"]).await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn swapdb_errors() {
    let (_s, mut c) = setup().await;
    assert_eq!(
        query_err(&mut c, &["SWAPDB", "a", "1"]).await,
        "ERR invalid first DB index"
    );
    assert_eq!(
        query_err(&mut c, &["SWAPDB", "0", "b"]).await,
        "ERR invalid second DB index"
    );
    assert_eq!(
        query_err(&mut c, &["SWAPDB", "0", "16"]).await,
        "ERR DB index is out of range"
    );
    assert_eq!(
        query_err(&mut c, &["SWAPDB", "-1", "0"]).await,
        "ERR DB index is out of range"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flushdb_clears_only_the_selected_db() {
    let (s, mut c0) = setup().await;
    let mut c1 = s.conn_db(1).await;
    query::<()>(&mut c0, &["MSET", "a", "1", "b", "2"]).await;
    query::<()>(&mut c1, &["SET", "c", "3"]).await;
    let mut raw = s.raw().await;
    assert_eq!(raw.cmd(&["FLUSHDB"]).await, Reply::ok());
    assert_eq!(query::<i64>(&mut c0, &["DBSIZE"]).await, 0);
    assert_eq!(query::<i64>(&mut c1, &["DBSIZE"]).await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flushall_clears_every_db() {
    let (s, mut c0) = setup().await;
    let mut c1 = s.conn_db(1).await;
    let mut c15 = s.conn_db(15).await;
    query::<()>(&mut c0, &["SET", "a", "1"]).await;
    query::<()>(&mut c1, &["SET", "b", "1"]).await;
    query::<()>(&mut c15, &["SET", "c", "1", "EX", "100"]).await;
    let mut raw = s.raw().await;
    assert_eq!(raw.cmd(&["FLUSHALL"]).await, Reply::ok());
    for c in [&mut c0, &mut c1, &mut c15] {
        assert_eq!(query::<i64>(c, &["DBSIZE"]).await, 0);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flush_modes_async_and_sync_are_accepted_and_others_are_syntax_errors() {
    let (s, mut c) = setup().await;
    let mut raw = s.raw().await;
    query::<()>(&mut c, &["SET", "a", "1"]).await;
    assert_eq!(raw.cmd(&["FLUSHDB", "ASYNC"]).await, Reply::ok());
    assert_eq!(query::<i64>(&mut c, &["DBSIZE"]).await, 0);
    query::<()>(&mut c, &["SET", "a", "1"]).await;
    assert_eq!(raw.cmd(&["FLUSHALL", "sync"]).await, Reply::ok());
    assert_eq!(query::<i64>(&mut c, &["DBSIZE"]).await, 0);
    assert_eq!(
        raw.cmd(&["FLUSHDB", "LATER"]).await,
        Reply::err("ERR syntax error")
    );
    assert_eq!(
        raw.cmd(&["FLUSHALL", "LATER"]).await,
        Reply::err("ERR syntax error")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dbsize_counts_keys_of_the_selected_db() {
    let (s, mut c) = setup().await;
    assert_eq!(query::<i64>(&mut c, &["DBSIZE"]).await, 0);
    for i in 0..25 {
        query::<()>(&mut c, &["SET", &format!("k{}", i), "v"]).await;
    }
    assert_eq!(query::<i64>(&mut c, &["DBSIZE"]).await, 25);
    let mut raw = s.raw().await;
    assert_eq!(raw.cmd(&["SELECT", "2"]).await, Reply::ok());
    assert_eq!(raw.cmd(&["DBSIZE"]).await, Reply::Int(0));
}

// ---------------------------------------------------------------------------
// KEYS
// ---------------------------------------------------------------------------

async fn keys(c: &mut redis::aio::MultiplexedConnection, pattern: &str) -> Vec<String> {
    let mut v: Vec<String> = query(c, &["KEYS", pattern]).await;
    v.sort();
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_matches_glob_patterns() {
    let (_s, mut c) = setup().await;
    query::<()>(
        &mut c,
        &[
            "MSET", "hello", "1", "hallo", "1", "hxllo", "1", "hllo", "1", "heeeello", "1",
            "h*llo", "1", "other", "1",
        ],
    )
    .await;
    assert_eq!(
        keys(&mut c, "h?llo").await,
        vec!["h*llo", "hallo", "hello", "hxllo"]
    );
    assert_eq!(
        keys(&mut c, "h*llo").await,
        vec!["h*llo", "hallo", "heeeello", "hello", "hllo", "hxllo"]
    );
    assert_eq!(keys(&mut c, "h[ae]llo").await, vec!["hallo", "hello"]);
    assert_eq!(
        keys(&mut c, "h[^e]llo").await,
        vec!["h*llo", "hallo", "hxllo"]
    );
    assert_eq!(keys(&mut c, "h[a-b]llo").await, vec!["hallo"]);
    assert_eq!(keys(&mut c, "h\\*llo").await, vec!["h*llo"]);
    assert_eq!(keys(&mut c, "*").await.len(), 7);
    assert_eq!(keys(&mut c, "nomatch*").await, Vec::<String>::new());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_does_not_list_expired_keys() {
    let (_s, mut c) = setup().await;
    query::<()>(&mut c, &["SET", "live", "1"]).await;
    query::<()>(&mut c, &["SET", "dying", "1", "PX", "1"]).await;
    let gone = wait_until(std::time::Duration::from_secs(5), || {
        let mut c = c.clone();
        async move { keys(&mut c, "*").await == vec!["live".to_string()] }
    })
    .await;
    assert!(gone, "expired key still listed by KEYS");
}

// ---------------------------------------------------------------------------
// SCAN
// ---------------------------------------------------------------------------

/// Runs a full SCAN iteration with `extra` arguments; returns every key seen
/// (with repetitions) and fails if the cursor does not return to 0 in time.
async fn scan_all(c: &mut redis::aio::MultiplexedConnection, extra: &[&str]) -> Vec<String> {
    let mut cursor = "0".to_string();
    let mut seen = Vec::new();
    for _ in 0..100_000 {
        let mut args = vec!["SCAN", cursor.as_str()];
        args.extend_from_slice(extra);
        let (next, batch): (String, Vec<String>) = query(c, &args).await;
        seen.extend(batch);
        if next == "0" {
            return seen;
        }
        cursor = next;
    }
    panic!("SCAN did not finish within 100000 calls");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scan_full_iteration_returns_every_key_at_least_once() {
    let (_s, mut c) = setup().await;
    let mut expected = HashSet::new();
    for chunk in (0..1000).collect::<Vec<_>>().chunks(100) {
        let mut args = vec!["MSET".to_string()];
        for i in chunk {
            let k = format!("key:{}", i);
            expected.insert(k.clone());
            args.push(k);
            args.push(i.to_string());
        }
        let refs: Vec<&str> = args.iter().map(|s| s.as_str()).collect();
        query::<()>(&mut c, &refs).await;
    }
    for count in [&[][..], &["COUNT", "7"], &["COUNT", "1000"]] {
        let seen = scan_all(&mut c, count).await;
        let set: HashSet<String> = seen.iter().cloned().collect();
        assert_eq!(set, expected, "SCAN {:?}", count);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scan_match_returns_only_matching_keys() {
    let (_s, mut c) = setup().await;
    let mut expected = HashSet::new();
    for i in 0..300 {
        let k = format!("user:{}", i);
        if k.starts_with("user:1") {
            expected.insert(k.clone());
        }
        query::<()>(&mut c, &["SET", &k, "v"]).await;
        query::<()>(&mut c, &["SET", &format!("other:{}", i), "v"]).await;
    }
    let seen = scan_all(&mut c, &["MATCH", "user:1*", "COUNT", "10"]).await;
    let set: HashSet<String> = seen.into_iter().collect();
    assert_eq!(set, expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scan_type_filters_by_value_type() {
    let (_s, mut c) = setup().await;
    for i in 0..50 {
        query::<()>(&mut c, &["SET", &format!("s{}", i), "v"]).await;
    }
    let strings: HashSet<String> = scan_all(&mut c, &["TYPE", "string"])
        .await
        .into_iter()
        .collect();
    assert_eq!(strings.len(), 50);
    let hashes = scan_all(&mut c, &["TYPE", "hash", "COUNT", "100"]).await;
    assert!(hashes.is_empty(), "{:?}", hashes);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scan_on_empty_db_returns_cursor_zero_and_no_keys() {
    let (s, _c) = setup().await;
    let mut raw = s.raw().await;
    assert_eq!(
        raw.cmd(&["SCAN", "0"]).await,
        Reply::array(vec![Reply::bulk("0"), Reply::array(vec![])])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scan_cursor_is_parsed_like_strtoul() {
    // Redis parses the cursor with strtoul: "-1" wraps to the last cursor,
    // which finishes the iteration.
    let (_s, mut c) = setup().await;
    query::<()>(&mut c, &["MSET", "a", "1", "b", "2", "c", "3"]).await;
    let (cursor, _keys): (String, Vec<String>) = query(&mut c, &["SCAN", "-1"]).await;
    assert_eq!(cursor, "0");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scan_argument_errors() {
    let (_s, mut c) = setup().await;
    assert_eq!(
        query_err(&mut c, &["SCAN", "abc"]).await,
        "ERR invalid cursor"
    );
    assert_eq!(
        query_err(&mut c, &["SCAN", "0", "COUNT", "0"]).await,
        "ERR syntax error"
    );
    assert_eq!(
        query_err(&mut c, &["SCAN", "0", "COUNT", "x"]).await,
        "ERR value is not an integer or out of range"
    );
    assert_eq!(
        query_err(&mut c, &["SCAN", "0", "BOGUS", "1"]).await,
        "ERR syntax error"
    );
    assert_eq!(
        query_err(&mut c, &["SCAN", "0", "MATCH"]).await,
        "ERR syntax error"
    );
}

// ---------------------------------------------------------------------------
// RANDOMKEY
// ---------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn randomkey_is_nil_on_empty_db_and_an_existing_key_otherwise() {
    let (s, mut c) = setup().await;
    let mut raw = s.raw().await;
    assert_eq!(raw.cmd(&["RANDOMKEY"]).await, Reply::nil());
    query::<()>(&mut c, &["MSET", "a", "1", "b", "2", "c", "3"]).await;
    let mut counts: HashMap<String, usize> = HashMap::new();
    for _ in 0..300 {
        let k: String = query(&mut c, &["RANDOMKEY"]).await;
        *counts.entry(k).or_default() += 1;
    }
    let mut seen: Vec<&String> = counts.keys().collect();
    seen.sort();
    assert_eq!(
        seen,
        vec!["a", "b", "c"],
        "every key should come up in 300 draws"
    );
}
