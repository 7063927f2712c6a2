//! MULTI/EXEC/DISCARD/WATCH, and atomicity of multi-key commands and EXEC
//! as seen from a second connection.

mod common;

use common::*;
use std::time::{Duration, Instant};

fn queued() -> Reply {
    Reply::Simple("QUEUED".into())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn multi_exec_runs_queued_commands_in_order() {
    let s = TestServer::start().await;
    let mut t = s.raw().await;
    assert_eq!(t.cmd(&["MULTI"]).await, Reply::ok());
    assert_eq!(t.cmd(&["SET", "k", "1"]).await, queued());
    assert_eq!(t.cmd(&["INCR", "k"]).await, queued());
    assert_eq!(t.cmd(&["GET", "k"]).await, queued());
    assert_eq!(t.cmd(&["GET", "missing"]).await, queued());
    assert_eq!(
        t.cmd(&["EXEC"]).await,
        Reply::array(vec![
            Reply::ok(),
            Reply::Int(2),
            Reply::bulk("2"),
            Reply::nil()
        ])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queued_commands_are_invisible_until_exec() {
    let s = TestServer::start().await;
    let mut t = s.raw().await;
    let mut other = s.conn().await;
    assert_eq!(t.cmd(&["MULTI"]).await, Reply::ok());
    assert_eq!(t.cmd(&["SET", "k", "v"]).await, queued());
    assert_eq!(
        query::<Option<String>>(&mut other, &["GET", "k"]).await,
        None
    );
    assert_eq!(t.cmd(&["EXEC"]).await, Reply::array(vec![Reply::ok()]));
    assert_eq!(
        query::<Option<String>>(&mut other, &["GET", "k"])
            .await
            .as_deref(),
        Some("v")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn empty_transaction_returns_empty_array() {
    let s = TestServer::start().await;
    let mut t = s.raw().await;
    assert_eq!(t.cmd(&["MULTI"]).await, Reply::ok());
    assert_eq!(t.cmd(&["EXEC"]).await, Reply::array(vec![]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discard_drops_queued_commands() {
    let s = TestServer::start().await;
    let mut t = s.raw().await;
    assert_eq!(t.cmd(&["MULTI"]).await, Reply::ok());
    assert_eq!(t.cmd(&["SET", "k", "v"]).await, queued());
    assert_eq!(t.cmd(&["DISCARD"]).await, Reply::ok());
    assert_eq!(t.cmd(&["GET", "k"]).await, Reply::nil());
    // Back to normal mode: commands run at once.
    assert_eq!(t.cmd(&["SET", "k", "w"]).await, Reply::ok());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exec_and_discard_without_multi_and_nested_multi_are_errors() {
    let s = TestServer::start().await;
    let mut t = s.raw().await;
    assert_eq!(t.cmd(&["EXEC"]).await, Reply::err("ERR EXEC without MULTI"));
    assert_eq!(
        t.cmd(&["DISCARD"]).await,
        Reply::err("ERR DISCARD without MULTI")
    );
    assert_eq!(t.cmd(&["MULTI"]).await, Reply::ok());
    assert_eq!(
        t.cmd(&["MULTI"]).await,
        Reply::err("ERR MULTI calls can not be nested")
    );
    // The nested MULTI does not abort the transaction.
    assert_eq!(t.cmd(&["SET", "k", "v"]).await, queued());
    assert_eq!(t.cmd(&["EXEC"]).await, Reply::array(vec![Reply::ok()]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_arity_while_queueing_makes_exec_fail_with_execabort() {
    let s = TestServer::start().await;
    let mut t = s.raw().await;
    assert_eq!(t.cmd(&["MULTI"]).await, Reply::ok());
    assert_eq!(t.cmd(&["SET", "a", "1"]).await, queued());
    assert_eq!(
        t.cmd(&["SET", "k"]).await,
        Reply::err("ERR wrong number of arguments for 'set' command")
    );
    assert_eq!(t.cmd(&["SET", "b", "2"]).await, queued());
    assert_eq!(
        t.cmd(&["EXEC"]).await,
        Reply::err("EXECABORT Transaction discarded because of previous errors.")
    );
    assert_eq!(t.cmd(&["EXISTS", "a", "b", "k"]).await, Reply::Int(0));
    assert_eq!(t.cmd(&["EXEC"]).await, Reply::err("ERR EXEC without MULTI"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_command_while_queueing_makes_exec_fail_with_execabort() {
    let s = TestServer::start().await;
    let mut t = s.raw().await;
    assert_eq!(t.cmd(&["MULTI"]).await, Reply::ok());
    assert_eq!(
        t.cmd(&["NOSUCH", "x"]).await,
        Reply::err("ERR unknown command 'NOSUCH', with args beginning with: 'x' ")
    );
    assert_eq!(t.cmd(&["SET", "a", "1"]).await, queued());
    assert_eq!(
        t.cmd(&["EXEC"]).await,
        Reply::err("EXECABORT Transaction discarded because of previous errors.")
    );
    assert_eq!(t.cmd(&["GET", "a"]).await, Reply::nil());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runtime_error_inside_exec_does_not_stop_other_commands() {
    let s = TestServer::start().await;
    let mut t = s.raw().await;
    assert_eq!(t.cmd(&["MULTI"]).await, Reply::ok());
    assert_eq!(t.cmd(&["SET", "k", "abc"]).await, queued());
    assert_eq!(t.cmd(&["INCR", "k"]).await, queued());
    assert_eq!(t.cmd(&["SET", "k2", "v"]).await, queued());
    assert_eq!(
        t.cmd(&["EXEC"]).await,
        Reply::array(vec![
            Reply::ok(),
            Reply::err("ERR value is not an integer or out of range"),
            Reply::ok(),
        ])
    );
    assert_eq!(t.cmd(&["GET", "k2"]).await, Reply::bulk("v"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exec_results_through_the_redis_crate() {
    let s = TestServer::start().await;
    let mut c = s.conn().await;
    let (a, b): (String, i64) = redis::pipe()
        .atomic()
        .cmd("SET")
        .arg("n")
        .arg("41")
        .ignore()
        .cmd("GET")
        .arg("n")
        .cmd("INCR")
        .arg("n")
        .query_async(&mut c)
        .await
        .unwrap();
    assert_eq!((a.as_str(), b), ("41", 42));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn select_inside_multi_applies_to_later_commands_and_stays() {
    let s = TestServer::start().await;
    let mut t = s.raw().await;
    assert_eq!(t.cmd(&["MULTI"]).await, Reply::ok());
    assert_eq!(t.cmd(&["SELECT", "1"]).await, queued());
    assert_eq!(t.cmd(&["SET", "k", "v"]).await, queued());
    assert_eq!(
        t.cmd(&["EXEC"]).await,
        Reply::array(vec![Reply::ok(), Reply::ok()])
    );
    assert_eq!(t.cmd(&["GET", "k"]).await, Reply::bulk("v"));
    let mut c0 = s.conn().await;
    assert_eq!(query::<i64>(&mut c0, &["EXISTS", "k"]).await, 0);
}

// ---------------------------------------------------------------------------
// WATCH
// ---------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_aborts_exec_when_another_connection_modifies_the_key() {
    let s = TestServer::start().await;
    let mut t = s.raw().await;
    let mut other = s.conn().await;
    query::<()>(&mut other, &["SET", "k", "1"]).await;
    assert_eq!(t.cmd(&["WATCH", "k"]).await, Reply::ok());
    query::<()>(&mut other, &["SET", "k", "2"]).await;
    assert_eq!(t.cmd(&["MULTI"]).await, Reply::ok());
    assert_eq!(t.cmd(&["SET", "k", "mine"]).await, queued());
    assert_eq!(t.cmd(&["EXEC"]).await, Reply::Array(None));
    assert_eq!(t.cmd(&["GET", "k"]).await, Reply::bulk("2"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_aborts_exec_when_the_key_is_modified_between_multi_and_exec() {
    let s = TestServer::start().await;
    let mut t = s.raw().await;
    let mut other = s.conn().await;
    assert_eq!(t.cmd(&["WATCH", "k"]).await, Reply::ok());
    assert_eq!(t.cmd(&["MULTI"]).await, Reply::ok());
    assert_eq!(t.cmd(&["SET", "k", "mine"]).await, queued());
    query::<()>(&mut other, &["SET", "k", "theirs"]).await;
    assert_eq!(t.cmd(&["EXEC"]).await, Reply::Array(None));
    assert_eq!(t.cmd(&["GET", "k"]).await, Reply::bulk("theirs"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_aborts_exec_in_resp3_with_a_null() {
    let s = TestServer::start().await;
    let mut t = s.raw().await;
    let mut other = s.conn().await;
    assert!(matches!(t.cmd(&["HELLO", "3"]).await, Reply::Map(_)));
    assert_eq!(t.cmd(&["WATCH", "k"]).await, Reply::ok());
    query::<()>(&mut other, &["SET", "k", "x"]).await;
    assert_eq!(t.cmd(&["MULTI"]).await, Reply::ok());
    assert_eq!(t.cmd(&["GET", "k"]).await, queued());
    assert_eq!(t.cmd(&["EXEC"]).await, Reply::Null);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_does_not_abort_when_the_key_is_untouched() {
    let s = TestServer::start().await;
    let mut t = s.raw().await;
    let mut other = s.conn().await;
    query::<()>(&mut other, &["SET", "k", "1"]).await;
    assert_eq!(t.cmd(&["WATCH", "k"]).await, Reply::ok());
    // Reads of the key and writes to other keys do not count.
    query::<Option<String>>(&mut other, &["GET", "k"]).await;
    query::<()>(&mut other, &["SET", "unrelated", "1"]).await;
    assert_eq!(t.cmd(&["MULTI"]).await, Reply::ok());
    assert_eq!(t.cmd(&["INCR", "k"]).await, queued());
    assert_eq!(t.cmd(&["EXEC"]).await, Reply::array(vec![Reply::Int(2)]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_aborts_when_the_key_is_deleted_or_created() {
    let s = TestServer::start().await;
    let mut t = s.raw().await;
    let mut other = s.conn().await;
    query::<()>(&mut other, &["SET", "k", "1"]).await;
    assert_eq!(t.cmd(&["WATCH", "k", "newkey"]).await, Reply::ok());
    query::<i64>(&mut other, &["DEL", "k"]).await;
    assert_eq!(t.cmd(&["MULTI"]).await, Reply::ok());
    assert_eq!(t.cmd(&["PING"]).await, queued());
    assert_eq!(t.cmd(&["EXEC"]).await, Reply::Array(None));

    assert_eq!(t.cmd(&["WATCH", "newkey"]).await, Reply::ok());
    query::<()>(&mut other, &["SET", "newkey", "1"]).await;
    assert_eq!(t.cmd(&["MULTI"]).await, Reply::ok());
    assert_eq!(t.cmd(&["PING"]).await, queued());
    assert_eq!(t.cmd(&["EXEC"]).await, Reply::Array(None));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_aborts_when_flushdb_removes_the_key() {
    let s = TestServer::start().await;
    let mut t = s.raw().await;
    let mut other = s.conn().await;
    query::<()>(&mut other, &["SET", "k", "1"]).await;
    assert_eq!(t.cmd(&["WATCH", "k"]).await, Reply::ok());
    query::<()>(&mut other, &["FLUSHDB"]).await;
    assert_eq!(t.cmd(&["MULTI"]).await, Reply::ok());
    assert_eq!(t.cmd(&["SET", "k", "2"]).await, queued());
    assert_eq!(t.cmd(&["EXEC"]).await, Reply::Array(None));
    assert_eq!(t.cmd(&["EXISTS", "k"]).await, Reply::Int(0));
}

/// WATCHes `k` (holding "1") on a fresh connection, lets another connection
/// run `commands`, and returns what EXEC answers.
async fn exec_after_other_runs(commands: &[&[&str]]) -> Reply {
    let s = TestServer::start().await;
    let mut t = s.raw().await;
    let mut other = s.conn().await;
    query::<()>(&mut other, &["SET", "k", "1"]).await;
    query::<()>(&mut other, &["SET", "src", "x"]).await;
    assert_eq!(t.cmd(&["WATCH", "k"]).await, Reply::ok());
    for args in commands {
        query::<redis::Value>(&mut other, args).await;
    }
    assert_eq!(t.cmd(&["MULTI"]).await, Reply::ok());
    assert_eq!(t.cmd(&["PING"]).await, queued());
    t.cmd(&["EXEC"]).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_aborts_when_the_key_is_renamed_away_or_overwritten_by_rename() {
    assert_eq!(
        exec_after_other_runs(&[&["RENAME", "k", "k2"]]).await,
        Reply::Array(None)
    );
    assert_eq!(
        exec_after_other_runs(&[&["RENAME", "src", "k"]]).await,
        Reply::Array(None)
    );
    assert_eq!(
        exec_after_other_runs(&[&["COPY", "src", "k", "REPLACE"]]).await,
        Reply::Array(None)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_to_other_keys_do_not_abort_watchers() {
    assert_eq!(
        exec_after_other_runs(&[&["MSET", "src", "y", "other", "z"], &["DEL", "src"]]).await,
        Reply::array(vec![Reply::Simple("PONG".into())])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_aborts_when_the_key_gets_a_ttl_or_loses_it() {
    assert_eq!(
        exec_after_other_runs(&[&["EXPIRE", "k", "100"]]).await,
        Reply::Array(None)
    );
    assert_eq!(
        exec_after_other_runs(&[&["SET", "k", "1", "EX", "100"]]).await,
        Reply::Array(None)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_aborts_when_the_key_is_moved_to_another_db() {
    assert_eq!(
        exec_after_other_runs(&[&["MOVE", "k", "1"]]).await,
        Reply::Array(None)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_aborts_when_swapdb_replaces_the_database() {
    assert_eq!(
        exec_after_other_runs(&[&["SWAPDB", "0", "1"]]).await,
        Reply::Array(None)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_aborts_when_flushall_removes_the_key() {
    assert_eq!(
        exec_after_other_runs(&[&["FLUSHALL"]]).await,
        Reply::Array(None)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_write_commands_do_not_abort_watchers() {
    // SET NX on an existing key changes nothing.
    assert_eq!(
        exec_after_other_runs(&[&["SET", "k", "2", "NX"]]).await,
        Reply::array(vec![Reply::Simple("PONG".into())])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_aborts_exec_when_the_watched_key_expires() {
    let s = TestServer::start().await;
    let mut t = s.raw().await;
    let mut other = s.conn().await;
    query::<()>(&mut other, &["SET", "k", "v", "PX", "200"]).await;
    assert_eq!(t.cmd(&["WATCH", "k"]).await, Reply::ok());
    // Wait without touching the key: DBSIZE drops when it is expired.
    let expired = wait_until(Duration::from_secs(10), || {
        let mut c = other.clone();
        async move { query::<i64>(&mut c, &["DBSIZE"]).await == 0 }
    })
    .await;
    assert!(expired, "key did not expire");
    assert_eq!(t.cmd(&["MULTI"]).await, Reply::ok());
    assert_eq!(t.cmd(&["PING"]).await, queued());
    assert_eq!(t.cmd(&["EXEC"]).await, Reply::Array(None));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_is_per_database() {
    let s = TestServer::start().await;
    let mut t = s.raw().await;
    let mut db1 = s.conn_db(1).await;
    assert_eq!(t.cmd(&["WATCH", "k"]).await, Reply::ok());
    query::<()>(&mut db1, &["SET", "k", "in db 1"]).await;
    assert_eq!(t.cmd(&["MULTI"]).await, Reply::ok());
    assert_eq!(t.cmd(&["SET", "k", "in db 0"]).await, queued());
    assert_eq!(t.cmd(&["EXEC"]).await, Reply::array(vec![Reply::ok()]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn own_write_to_watched_key_before_multi_aborts_exec() {
    let s = TestServer::start().await;
    let mut t = s.raw().await;
    assert_eq!(t.cmd(&["WATCH", "k"]).await, Reply::ok());
    assert_eq!(t.cmd(&["SET", "k", "self"]).await, Reply::ok());
    assert_eq!(t.cmd(&["MULTI"]).await, Reply::ok());
    assert_eq!(t.cmd(&["GET", "k"]).await, queued());
    assert_eq!(t.cmd(&["EXEC"]).await, Reply::Array(None));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unwatch_forgets_watched_keys() {
    let s = TestServer::start().await;
    let mut t = s.raw().await;
    let mut other = s.conn().await;
    assert_eq!(t.cmd(&["WATCH", "k"]).await, Reply::ok());
    assert_eq!(t.cmd(&["UNWATCH"]).await, Reply::ok());
    query::<()>(&mut other, &["SET", "k", "x"]).await;
    assert_eq!(t.cmd(&["MULTI"]).await, Reply::ok());
    assert_eq!(t.cmd(&["GET", "k"]).await, queued());
    assert_eq!(t.cmd(&["EXEC"]).await, Reply::array(vec![Reply::bulk("x")]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exec_and_discard_clear_watches() {
    let s = TestServer::start().await;
    let mut t = s.raw().await;
    let mut other = s.conn().await;
    // An aborted EXEC unwatches.
    assert_eq!(t.cmd(&["WATCH", "k"]).await, Reply::ok());
    query::<()>(&mut other, &["SET", "k", "1"]).await;
    assert_eq!(t.cmd(&["MULTI"]).await, Reply::ok());
    assert_eq!(t.cmd(&["EXEC"]).await, Reply::Array(None));
    query::<()>(&mut other, &["SET", "k", "2"]).await;
    assert_eq!(t.cmd(&["MULTI"]).await, Reply::ok());
    assert_eq!(t.cmd(&["EXEC"]).await, Reply::array(vec![]));
    // DISCARD unwatches.
    assert_eq!(t.cmd(&["WATCH", "k"]).await, Reply::ok());
    assert_eq!(t.cmd(&["MULTI"]).await, Reply::ok());
    assert_eq!(t.cmd(&["DISCARD"]).await, Reply::ok());
    query::<()>(&mut other, &["SET", "k", "3"]).await;
    assert_eq!(t.cmd(&["MULTI"]).await, Reply::ok());
    assert_eq!(t.cmd(&["GET", "k"]).await, queued());
    assert_eq!(t.cmd(&["EXEC"]).await, Reply::array(vec![Reply::bulk("3")]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_inside_multi_is_not_allowed() {
    let s = TestServer::start().await;
    let mut t = s.raw().await;
    assert_eq!(t.cmd(&["MULTI"]).await, Reply::ok());
    assert_eq!(
        t.cmd(&["WATCH", "k"]).await,
        Reply::err("ERR WATCH inside MULTI is not allowed")
    );
    // The refused WATCH does not abort the transaction.
    assert_eq!(t.cmd(&["SET", "k", "v"]).await, queued());
    assert_eq!(t.cmd(&["EXEC"]).await, Reply::array(vec![Reply::ok()]));
}

// ---------------------------------------------------------------------------
// Atomicity seen from another connection
// ---------------------------------------------------------------------------

const KEYS: [&str; 4] = ["atom:a", "atom:b", "atom:c", "atom:d"];

/// Reads the keys with MGET from a second connection while `writer` runs;
/// fails if one read sees values from two different rounds.
async fn assert_reads_never_mixed<W>(server: &TestServer, writer: W)
where
    W: std::future::Future<Output = ()> + Send + 'static,
{
    let mut reader = server.conn().await;
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flag = done.clone();
    let handle = tokio::spawn(async move {
        writer.await;
        flag.store(true, std::sync::atomic::Ordering::SeqCst);
    });
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut reads = 0u64;
    let mut distinct_rounds = std::collections::HashSet::new();
    while !done.load(std::sync::atomic::Ordering::SeqCst) {
        assert!(
            Instant::now() < deadline,
            "writer did not finish within 60 s"
        );
        let mut args = vec!["MGET"];
        args.extend_from_slice(&KEYS);
        let values: Vec<Option<String>> = query(&mut reader, &args).await;
        reads += 1;
        let first = &values[0];
        assert!(
            values.iter().all(|v| v == first),
            "read {} saw a mix of rounds: {:?}",
            reads,
            values
        );
        if let Some(v) = first {
            distinct_rounds.insert(v.clone());
        }
    }
    tokio::time::timeout(IO_TIMEOUT, handle)
        .await
        .expect("writer task hung")
        .expect("writer task panicked");
    assert!(reads > 0);
    assert!(
        !distinct_rounds.is_empty(),
        "reader never saw a written round"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn mset_is_atomic_for_a_concurrent_mget() {
    let s = TestServer::start().await;
    let mut writer = s.conn().await;
    let write = async move {
        for round in 0..2000 {
            let tag = format!("round-{}", round);
            let mut args = vec!["MSET"];
            for k in KEYS.iter() {
                args.push(k);
                args.push(&tag);
            }
            query::<()>(&mut writer, &args).await;
        }
    };
    assert_reads_never_mixed(&s, write).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn exec_is_atomic_for_a_concurrent_mget() {
    let s = TestServer::start().await;
    let mut writer = s.raw().await;
    let write = async move {
        for round in 0..1000 {
            let tag = format!("round-{}", round);
            let mut batch = encode_command(&["MULTI"]);
            for k in KEYS.iter() {
                batch.extend(encode_command(&["SET", k, &tag]));
            }
            batch.extend(encode_command(&["EXEC"]));
            writer.send(&batch).await;
            assert_eq!(writer.read_reply().await, Reply::ok());
            for _ in KEYS.iter() {
                assert_eq!(writer.read_reply().await, queued());
            }
            assert_eq!(
                writer.read_reply().await,
                Reply::array(vec![Reply::ok(); KEYS.len()])
            );
        }
    };
    assert_reads_never_mixed(&s, write).await;
}
