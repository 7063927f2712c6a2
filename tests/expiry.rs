//! Expiry: SET's EX/PX/EXAT/PXAT/KEEPTTL, TTL/PTTL rounding, the EXPIRE
//! family and its NX/XX/GT/LT options, PERSIST, lazy and active expiry.
//!
//! Waiting for a key to expire always polls with a deadline; nothing sleeps a
//! fixed time to wait for a condition.

mod common;

use common::*;
use redis::aio::MultiplexedConnection;
use std::time::Duration;

async fn setup() -> (TestServer, MultiplexedConnection) {
    let server = TestServer::start().await;
    let con = server.conn().await;
    (server, con)
}

async fn ttl(c: &mut MultiplexedConnection, key: &str) -> i64 {
    query(c, &["TTL", key]).await
}

async fn pttl(c: &mut MultiplexedConnection, key: &str) -> i64 {
    query(c, &["PTTL", key]).await
}

fn assert_between(value: i64, low: i64, high: i64, what: &str) {
    assert!(
        (low..=high).contains(&value),
        "{} is {}, expected {}..={}",
        what,
        value,
        low,
        high
    );
}

// ---------------------------------------------------------------------------
// SET options
// ---------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn set_ex_gives_a_ttl_in_seconds() {
    let (_s, mut c) = setup().await;
    query::<()>(&mut c, &["SET", "k", "v", "EX", "100"]).await;
    assert_eq!(ttl(&mut c, "k").await, 100);
    assert_between(pttl(&mut c, "k").await, 99_000, 100_000, "PTTL");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn set_px_gives_a_ttl_in_milliseconds() {
    let (_s, mut c) = setup().await;
    query::<()>(&mut c, &["SET", "k", "v", "PX", "100000"]).await;
    assert_between(pttl(&mut c, "k").await, 99_000, 100_000, "PTTL");
    assert_eq!(ttl(&mut c, "k").await, 100);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ttl_rounds_remaining_milliseconds_to_the_nearest_second() {
    let (_s, mut c) = setup().await;
    query::<()>(&mut c, &["SET", "up", "v", "PX", "2800"]).await;
    query::<()>(&mut c, &["SET", "down", "v", "PX", "2200"]).await;
    query::<()>(&mut c, &["SET", "zero", "v", "PX", "20000"]).await;
    query::<()>(&mut c, &["PEXPIRE", "zero", "350"]).await;
    assert_eq!(ttl(&mut c, "up").await, 3, "2.8 s left rounds up to 3");
    assert_eq!(ttl(&mut c, "down").await, 2, "2.2 s left rounds down to 2");
    // A live key with under half a second left reports 0, not -2.
    assert_eq!(ttl(&mut c, "zero").await, 0, "0.35 s left rounds to 0");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ttl_and_pttl_of_missing_and_persistent_keys() {
    let (_s, mut c) = setup().await;
    assert_eq!(ttl(&mut c, "missing").await, -2);
    assert_eq!(pttl(&mut c, "missing").await, -2);
    query::<()>(&mut c, &["SET", "k", "v"]).await;
    assert_eq!(ttl(&mut c, "k").await, -1);
    assert_eq!(pttl(&mut c, "k").await, -1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn set_exat_and_pxat_expire_at_absolute_times() {
    let (_s, mut c) = setup().await;
    let now_ms = unix_ms();
    let at_s = (now_ms / 1000 + 100).to_string();
    query::<()>(&mut c, &["SET", "s", "v", "EXAT", &at_s]).await;
    assert_between(ttl(&mut c, "s").await, 99, 100, "TTL after EXAT");
    let at_ms = (now_ms + 50_000).to_string();
    query::<()>(&mut c, &["SET", "m", "v", "PXAT", &at_ms]).await;
    assert_between(pttl(&mut c, "m").await, 48_000, 50_000, "PTTL after PXAT");
    let expiretime: i64 = query(&mut c, &["PEXPIRETIME", "m"]).await;
    assert_eq!(expiretime, now_ms as i64 + 50_000);
    let expiretime_s: i64 = query(&mut c, &["EXPIRETIME", "s"]).await;
    assert_eq!(expiretime_s, (now_ms / 1000 + 100) as i64);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn set_with_exat_in_the_past_leaves_no_key() {
    let (s, mut c) = setup().await;
    let mut raw = s.raw().await;
    assert_eq!(raw.cmd(&["SET", "k", "v", "EXAT", "1"]).await, Reply::ok());
    assert_eq!(raw.cmd(&["GET", "k"]).await, Reply::nil());
    assert_eq!(query::<i64>(&mut c, &["DBSIZE"]).await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn set_keepttl_keeps_the_ttl_and_plain_set_clears_it() {
    let (_s, mut c) = setup().await;
    query::<()>(&mut c, &["SET", "k", "v1", "EX", "100"]).await;
    query::<()>(&mut c, &["SET", "k", "v2", "KEEPTTL"]).await;
    assert_eq!(query::<String>(&mut c, &["GET", "k"]).await, "v2");
    assert_between(ttl(&mut c, "k").await, 99, 100, "TTL after KEEPTTL");
    query::<()>(&mut c, &["SET", "k", "v3"]).await;
    assert_eq!(ttl(&mut c, "k").await, -1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_that_replace_the_value_clear_ttl_and_in_place_edits_keep_it() {
    let (_s, mut c) = setup().await;
    query::<()>(&mut c, &["SET", "a", "1", "EX", "100"]).await;
    query::<()>(&mut c, &["APPEND", "a", "2"]).await;
    query::<()>(&mut c, &["SETRANGE", "a", "0", "x"]).await;
    assert_between(ttl(&mut c, "a").await, 99, 100, "TTL after APPEND/SETRANGE");
    query::<()>(&mut c, &["SET", "n", "1", "EX", "100"]).await;
    query::<()>(&mut c, &["INCRBYFLOAT", "n", "1.5"]).await;
    assert_between(ttl(&mut c, "n").await, 99, 100, "TTL after INCRBYFLOAT");
    query::<()>(&mut c, &["SET", "g", "1", "EX", "100"]).await;
    query::<String>(&mut c, &["GETSET", "g", "2"]).await;
    assert_eq!(ttl(&mut c, "g").await, -1, "GETSET clears the TTL");
    query::<()>(&mut c, &["SET", "m", "1", "EX", "100"]).await;
    query::<()>(&mut c, &["MSET", "m", "2"]).await;
    assert_eq!(ttl(&mut c, "m").await, -1, "MSET clears the TTL");
}

// ---------------------------------------------------------------------------
// EXPIRE family
// ---------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expire_family_sets_ttls_and_reports_missing_keys() {
    let (_s, mut c) = setup().await;
    query::<()>(&mut c, &["MSET", "a", "1", "b", "1", "c", "1", "d", "1"]).await;
    assert_eq!(query::<i64>(&mut c, &["EXPIRE", "a", "100"]).await, 1);
    assert_eq!(ttl(&mut c, "a").await, 100);
    assert_eq!(query::<i64>(&mut c, &["PEXPIRE", "b", "100000"]).await, 1);
    assert_between(pttl(&mut c, "b").await, 99_000, 100_000, "PTTL of b");
    let at = (unix_ms() / 1000 + 200).to_string();
    assert_eq!(query::<i64>(&mut c, &["EXPIREAT", "c", &at]).await, 1);
    assert_between(ttl(&mut c, "c").await, 199, 200, "TTL of c");
    let at_ms = (unix_ms() + 300_000).to_string();
    assert_eq!(query::<i64>(&mut c, &["PEXPIREAT", "d", &at_ms]).await, 1);
    assert_between(ttl(&mut c, "d").await, 299, 300, "TTL of d");
    for cmd in ["EXPIRE", "PEXPIRE", "EXPIREAT", "PEXPIREAT"] {
        assert_eq!(
            query::<i64>(&mut c, &[cmd, "missing", "100"]).await,
            0,
            "{}",
            cmd
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expire_with_a_time_in_the_past_deletes_the_key() {
    let (_s, mut c) = setup().await;
    query::<()>(&mut c, &["MSET", "a", "1", "b", "1", "c", "1"]).await;
    assert_eq!(query::<i64>(&mut c, &["EXPIRE", "a", "-1"]).await, 1);
    assert_eq!(query::<i64>(&mut c, &["PEXPIRE", "b", "0"]).await, 1);
    assert_eq!(query::<i64>(&mut c, &["EXPIREAT", "c", "1"]).await, 1);
    assert_eq!(query::<i64>(&mut c, &["EXISTS", "a", "b", "c"]).await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expiretime_reports_absolute_deadline_or_minus_one_and_minus_two() {
    let (_s, mut c) = setup().await;
    query::<()>(&mut c, &["SET", "k", "v"]).await;
    assert_eq!(query::<i64>(&mut c, &["EXPIRETIME", "k"]).await, -1);
    assert_eq!(query::<i64>(&mut c, &["PEXPIRETIME", "k"]).await, -1);
    assert_eq!(query::<i64>(&mut c, &["EXPIRETIME", "missing"]).await, -2);
    assert_eq!(query::<i64>(&mut c, &["PEXPIRETIME", "missing"]).await, -2);
    query::<i64>(&mut c, &["EXPIREAT", "k", "33177117420"]).await;
    assert_eq!(
        query::<i64>(&mut c, &["EXPIRETIME", "k"]).await,
        33177117420
    );
    assert_eq!(
        query::<i64>(&mut c, &["PEXPIRETIME", "k"]).await,
        33177117420000
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expire_nx_only_sets_when_there_is_no_ttl() {
    let (_s, mut c) = setup().await;
    query::<()>(&mut c, &["SET", "k", "v"]).await;
    assert_eq!(query::<i64>(&mut c, &["EXPIRE", "k", "100", "NX"]).await, 1);
    assert_eq!(query::<i64>(&mut c, &["EXPIRE", "k", "200", "NX"]).await, 0);
    assert_eq!(ttl(&mut c, "k").await, 100);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expire_xx_only_sets_when_there_is_a_ttl() {
    let (_s, mut c) = setup().await;
    query::<()>(&mut c, &["SET", "k", "v"]).await;
    assert_eq!(query::<i64>(&mut c, &["EXPIRE", "k", "100", "XX"]).await, 0);
    assert_eq!(ttl(&mut c, "k").await, -1);
    query::<i64>(&mut c, &["EXPIRE", "k", "100"]).await;
    assert_eq!(query::<i64>(&mut c, &["EXPIRE", "k", "200", "XX"]).await, 1);
    assert_eq!(ttl(&mut c, "k").await, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expire_gt_only_extends_and_treats_no_ttl_as_infinite() {
    let (_s, mut c) = setup().await;
    query::<()>(&mut c, &["SET", "k", "v"]).await;
    assert_eq!(query::<i64>(&mut c, &["EXPIRE", "k", "100", "GT"]).await, 0);
    assert_eq!(ttl(&mut c, "k").await, -1);
    query::<i64>(&mut c, &["EXPIRE", "k", "100"]).await;
    assert_eq!(query::<i64>(&mut c, &["EXPIRE", "k", "50", "GT"]).await, 0);
    assert_eq!(query::<i64>(&mut c, &["EXPIRE", "k", "200", "GT"]).await, 1);
    assert_eq!(ttl(&mut c, "k").await, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expire_lt_only_shortens_and_treats_no_ttl_as_infinite() {
    let (_s, mut c) = setup().await;
    query::<()>(&mut c, &["SET", "k", "v"]).await;
    assert_eq!(query::<i64>(&mut c, &["EXPIRE", "k", "300", "LT"]).await, 1);
    assert_eq!(ttl(&mut c, "k").await, 300);
    assert_eq!(query::<i64>(&mut c, &["EXPIRE", "k", "400", "LT"]).await, 0);
    assert_eq!(query::<i64>(&mut c, &["EXPIRE", "k", "100", "LT"]).await, 1);
    assert_eq!(ttl(&mut c, "k").await, 100);
    assert_eq!(
        query::<i64>(&mut c, &["PEXPIRE", "k", "50000", "XX", "LT"]).await,
        1
    );
    assert_eq!(ttl(&mut c, "k").await, 50);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expire_option_conflicts_are_refused() {
    let (_s, mut c) = setup().await;
    query::<()>(&mut c, &["SET", "k", "v"]).await;
    assert_eq!(
        query_err(&mut c, &["EXPIRE", "k", "100", "NX", "XX"]).await,
        "ERR NX and XX, GT or LT options at the same time are not compatible"
    );
    assert_eq!(
        query_err(&mut c, &["EXPIRE", "k", "100", "NX", "GT"]).await,
        "ERR NX and XX, GT or LT options at the same time are not compatible"
    );
    assert_eq!(
        query_err(&mut c, &["EXPIRE", "k", "100", "GT", "LT"]).await,
        "ERR GT and LT options at the same time are not compatible"
    );
    assert_eq!(
        query_err(&mut c, &["EXPIRE", "k", "100", "SOON"]).await,
        "ERR Unsupported option SOON"
    );
    assert_eq!(ttl(&mut c, "k").await, -1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expire_with_bad_numbers_is_refused() {
    let (_s, mut c) = setup().await;
    query::<()>(&mut c, &["SET", "k", "v"]).await;
    assert_eq!(
        query_err(&mut c, &["EXPIRE", "k", "soon"]).await,
        "ERR value is not an integer or out of range"
    );
    assert_eq!(
        query_err(&mut c, &["EXPIRE", "k", "9223372036854775807"]).await,
        "ERR invalid expire time in 'expire' command"
    );
    assert_eq!(
        query_err(&mut c, &["PEXPIRE", "k", "9223372036854775807"]).await,
        "ERR invalid expire time in 'pexpire' command"
    );
    assert_eq!(
        query_err(&mut c, &["EXPIREAT", "k", "9223372036854775807"]).await,
        "ERR invalid expire time in 'expireat' command"
    );
    assert_eq!(ttl(&mut c, "k").await, -1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn persist_removes_the_ttl_once() {
    let (_s, mut c) = setup().await;
    query::<()>(&mut c, &["SET", "k", "v", "EX", "100"]).await;
    assert_eq!(query::<i64>(&mut c, &["PERSIST", "k"]).await, 1);
    assert_eq!(ttl(&mut c, "k").await, -1);
    assert_eq!(query::<i64>(&mut c, &["PERSIST", "k"]).await, 0);
    assert_eq!(query::<i64>(&mut c, &["PERSIST", "missing"]).await, 0);
}

// ---------------------------------------------------------------------------
// Lazy and active expiry
// ---------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_key_reads_as_missing() {
    let (_s, mut c) = setup().await;
    query::<()>(&mut c, &["SET", "k", "v", "PX", "50"]).await;
    let gone = wait_until(Duration::from_secs(5), || {
        let mut c = c.clone();
        async move {
            query::<Option<String>>(&mut c, &["GET", "k"])
                .await
                .is_none()
        }
    })
    .await;
    assert!(gone, "key with PX 50 still readable after 5 s");
    assert_eq!(ttl(&mut c, "k").await, -2);
    assert_eq!(query::<i64>(&mut c, &["EXISTS", "k"]).await, 0);
    // Commands that create keys start fresh.
    assert_eq!(query::<i64>(&mut c, &["APPEND", "k", "new"]).await, 3);
    assert_eq!(ttl(&mut c, "k").await, -1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn active_expiry_removes_keys_that_are_never_accessed() {
    let (_s, mut c) = setup().await;
    for i in 0..10 {
        query::<()>(&mut c, &["SET", &format!("keep:{}", i), "v"]).await;
    }
    for i in 0..100 {
        query::<()>(&mut c, &["SET", &format!("temp:{}", i), "v", "PX", "100"]).await;
    }
    assert!(query::<i64>(&mut c, &["DBSIZE"]).await > 10);
    // Only DBSIZE and INFO are used from here on: they touch no key.
    let removed = wait_until(Duration::from_secs(10), || {
        let mut c = c.clone();
        async move { query::<i64>(&mut c, &["DBSIZE"]).await == 10 }
    })
    .await;
    assert!(removed, "volatile keys still counted by DBSIZE after 10 s");
    let info: String = query(&mut c, &["INFO", "stats"]).await;
    assert_eq!(info_field(&info, "expired_keys").as_deref(), Some("100"));
    let keyspace: String = query(&mut c, &["INFO", "keyspace"]).await;
    assert_eq!(
        info_field(&keyspace, "db0").as_deref(),
        Some("keys=10,expires=0,avg_ttl=0")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn active_expiry_works_in_every_database() {
    let (s, mut c0) = setup().await;
    let mut c7 = s.conn_db(7).await;
    for i in 0..20 {
        query::<()>(&mut c0, &["SET", &format!("a{}", i), "v", "PX", "50"]).await;
        query::<()>(&mut c7, &["SET", &format!("b{}", i), "v", "PX", "50"]).await;
    }
    let removed = wait_until(Duration::from_secs(10), || {
        let (mut c0, mut c7) = (c0.clone(), c7.clone());
        async move {
            query::<i64>(&mut c0, &["DBSIZE"]).await == 0
                && query::<i64>(&mut c7, &["DBSIZE"]).await == 0
        }
    })
    .await;
    assert!(removed, "keys in db 0 or db 7 not removed by active expiry");
    let info: String = query(&mut c0, &["INFO", "stats"]).await;
    assert_eq!(info_field(&info, "expired_keys").as_deref(), Some("40"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn persist_before_the_deadline_saves_the_key() {
    let (_s, mut c) = setup().await;
    query::<()>(&mut c, &["SET", "saved", "v", "PX", "300"]).await;
    query::<()>(&mut c, &["SET", "doomed", "v", "PX", "300"]).await;
    assert_eq!(query::<i64>(&mut c, &["PERSIST", "saved"]).await, 1);
    let gone = wait_until(Duration::from_secs(10), || {
        let mut c = c.clone();
        async move { query::<i64>(&mut c, &["DBSIZE"]).await == 1 }
    })
    .await;
    assert!(gone, "doomed key not removed");
    assert_eq!(query::<String>(&mut c, &["GET", "saved"]).await, "v");
}
