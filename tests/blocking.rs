//! Blocking pops across connections: BLPOP, BRPOP, BLMOVE, BRPOPLPUSH,
//! BLMPOP, BZPOPMIN, BZPOPMAX and BZMPOP. Who is served first, from which
//! key, when (after EXEC, not before), what a timeout and CLIENT UNBLOCK
//! answer, and that nothing is lost when a blocked client goes away.
//!
//! Waits are polls of INFO's `blocked_clients` with a deadline; no test
//! sleeps to wait for a condition.

mod common;

use common::*;
use std::time::Duration;

/// Waits (bounded) until INFO reports `count` blocked clients.
async fn wait_for_blocked(con: &mut redis::aio::MultiplexedConnection, count: usize) {
    let reached = wait_until(Duration::from_secs(10), || {
        let mut con = con.clone();
        async move {
            let info: String = query(&mut con, &["INFO", "clients"]).await;
            info_field(&info, "blocked_clients").as_deref() == Some(&count.to_string())
        }
    })
    .await;
    assert!(reached, "blocked_clients never reached {}", count);
}

/// Starts `args` on its own blocking connection and returns its pending reply.
async fn start_blocking(
    server: &TestServer,
    args: &'static [&'static str],
) -> tokio::task::JoinHandle<redis::Value> {
    let mut con = server.conn_blocking().await;
    tokio::spawn(async move { query::<redis::Value>(&mut con, args).await })
}

fn strings(value: &redis::Value) -> Vec<String> {
    match value {
        redis::Value::Array(items) => items
            .iter()
            .map(|v| match v {
                redis::Value::BulkString(b) => String::from_utf8_lossy(b).into_owned(),
                redis::Value::Int(n) => n.to_string(),
                other => format!("{:?}", other),
            })
            .collect(),
        redis::Value::BulkString(b) => vec![String::from_utf8_lossy(b).into_owned()],
        redis::Value::Nil => Vec::new(),
        other => panic!("unexpected reply {:?}", other),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn producer_and_consumers_move_every_job_exactly_once() {
    let server = TestServer::start().await;
    let mut producer = server.conn().await;
    let consumers = 4;
    let jobs = 400;
    let mut handles = Vec::new();
    for _ in 0..consumers {
        let mut con = server.conn_blocking().await;
        handles.push(tokio::spawn(async move {
            let mut got = Vec::new();
            loop {
                let reply: Option<(String, String)> =
                    query(&mut con, &["BRPOP", "jobs:high", "jobs:low", "2"]).await;
                match reply {
                    Some((_, job)) if job == "stop" => return got,
                    Some((queue, job)) => got.push((queue, job)),
                    None => return got,
                }
            }
        }));
    }
    wait_for_blocked(&mut producer, consumers).await;
    for i in 0..jobs {
        let queue = if i % 3 == 0 { "jobs:high" } else { "jobs:low" };
        query::<i64>(&mut producer, &["LPUSH", queue, &format!("job-{i}")]).await;
    }
    for _ in 0..consumers {
        query::<i64>(&mut producer, &["LPUSH", "jobs:low", "stop"]).await;
    }
    let mut all = Vec::new();
    for handle in handles {
        all.extend(handle.await.expect("consumer task"));
    }
    let mut names: Vec<String> = all.iter().map(|(_, job)| job.clone()).collect();
    names.sort();
    names.dedup();
    assert_eq!(names.len(), jobs, "every job consumed once");
    assert_eq!(all.len(), jobs, "no job consumed twice");
    assert!(all
        .iter()
        .all(|(q, job)| (q == "jobs:high") == (job[4..].parse::<usize>().unwrap() % 3 == 0)));
    assert_eq!(
        query::<i64>(&mut producer, &["EXISTS", "jobs:high", "jobs:low"]).await,
        0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blpop_serves_first_blocked_client_first() {
    let server = TestServer::start().await;
    let mut con = server.conn().await;
    let first = start_blocking(&server, &["BLPOP", "queue", "0"]).await;
    wait_for_blocked(&mut con, 1).await;
    let second = start_blocking(&server, &["BLPOP", "queue", "0"]).await;
    wait_for_blocked(&mut con, 2).await;
    query::<i64>(&mut con, &["RPUSH", "queue", "a"]).await;
    assert_eq!(strings(&first.await.unwrap()), vec!["queue", "a"]);
    wait_for_blocked(&mut con, 1).await;
    query::<i64>(&mut con, &["RPUSH", "queue", "b"]).await;
    assert_eq!(strings(&second.await.unwrap()), vec!["queue", "b"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_push_of_many_elements_serves_waiters_in_order() {
    let server = TestServer::start().await;
    let mut con = server.conn().await;
    let first = start_blocking(&server, &["BLPOP", "q", "0"]).await;
    wait_for_blocked(&mut con, 1).await;
    let second = start_blocking(&server, &["BRPOP", "q", "0"]).await;
    wait_for_blocked(&mut con, 2).await;
    assert_eq!(
        query::<i64>(&mut con, &["RPUSH", "q", "x", "y", "z"]).await,
        3
    );
    assert_eq!(strings(&first.await.unwrap()), vec!["q", "x"]);
    assert_eq!(strings(&second.await.unwrap()), vec!["q", "z"]);
    let rest: Vec<String> = query(&mut con, &["LRANGE", "q", "0", "-1"]).await;
    assert_eq!(rest, vec!["y"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_on_several_keys_is_served_from_the_first_named_key_with_data() {
    let server = TestServer::start().await;
    let mut con = server.conn().await;
    // Data already there: the first named key that has elements wins.
    query::<i64>(&mut con, &["RPUSH", "k3", "three"]).await;
    query::<i64>(&mut con, &["RPUSH", "k2", "two"]).await;
    let reply: (String, String) = query(&mut con, &["BLPOP", "k1", "k2", "k3", "0"]).await;
    assert_eq!(reply, ("k2".into(), "two".into()));
    // Blocked: whichever key gets data first serves it.
    query::<i64>(&mut con, &["DEL", "k3"]).await;
    let waiter = start_blocking(&server, &["BLPOP", "k1", "k2", "k3", "0"]).await;
    wait_for_blocked(&mut con, 1).await;
    query::<i64>(&mut con, &["RPUSH", "k3", "late"]).await;
    assert_eq!(strings(&waiter.await.unwrap()), vec!["k3", "late"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn push_inside_multi_wakes_waiters_only_after_exec() {
    let server = TestServer::start().await;
    let mut con = server.conn().await;
    let waiter = start_blocking(&server, &["BLPOP", "tx", "0"]).await;
    wait_for_blocked(&mut con, 1).await;
    let mut raw = server.raw().await;
    assert_eq!(raw.cmd(&["MULTI"]).await, Reply::Simple("OK".into()));
    assert_eq!(
        raw.cmd(&["RPUSH", "tx", "a", "b"]).await,
        Reply::Simple("QUEUED".into())
    );
    assert_eq!(
        raw.cmd(&["LPOP", "tx"]).await,
        Reply::Simple("QUEUED".into())
    );
    // Queued, not run: the waiter is still blocked.
    assert_eq!(query::<i64>(&mut con, &["EXISTS", "tx"]).await, 0);
    assert!(!waiter.is_finished());
    let exec = raw.cmd(&["EXEC"]).await;
    assert_eq!(exec, Reply::array(vec![Reply::Int(2), Reply::bulk("a")]));
    // The transaction popped "a" itself; the waiter gets what is left after EXEC.
    assert_eq!(strings(&waiter.await.unwrap()), vec!["tx", "b"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blocking_pop_inside_multi_answers_at_once() {
    let server = TestServer::start().await;
    let mut raw = server.raw().await;
    raw.cmd(&["MULTI"]).await;
    raw.cmd(&["BLPOP", "empty", "0"]).await;
    raw.cmd(&["BLMOVE", "empty", "dst", "LEFT", "LEFT", "0"])
        .await;
    raw.cmd(&["BZPOPMIN", "empty", "0"]).await;
    let exec = raw.cmd(&["EXEC"]).await;
    assert_eq!(
        exec,
        Reply::array(vec![Reply::Array(None), Reply::nil(), Reply::Array(None)])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn zero_timeout_waits_until_data_and_fractional_timeouts_expire() {
    let server = TestServer::start().await;
    let mut con = server.conn_blocking().await;
    // A fractional timeout on a key nobody fills answers nil.
    let reply: Option<(String, String)> = query(&mut con, &["BLPOP", "nothing", "0.05"]).await;
    assert_eq!(reply, None);
    let reply: Option<(String, String, String)> =
        query(&mut con, &["BZPOPMIN", "nothing", "0.05"]).await;
    assert_eq!(reply, None);
    let mut control = server.conn().await;
    assert_eq!(
        info_field(
            &query::<String>(&mut control, &["INFO", "clients"]).await,
            "blocked_clients"
        )
        .as_deref(),
        Some("0")
    );
    // Timeout 0 waits as long as it takes.
    let waiter = start_blocking(&server, &["BRPOP", "later", "0"]).await;
    wait_for_blocked(&mut control, 1).await;
    query::<i64>(&mut control, &["LPUSH", "later", "v"]).await;
    assert_eq!(strings(&waiter.await.unwrap()), vec!["later", "v"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blmove_chain_feeds_the_client_waiting_on_the_destination() {
    let server = TestServer::start().await;
    let mut con = server.conn().await;
    let mover = start_blocking(
        &server,
        &["BLMOVE", "stage1", "stage2", "LEFT", "RIGHT", "0"],
    )
    .await;
    wait_for_blocked(&mut con, 1).await;
    let last = start_blocking(&server, &["BLPOP", "stage2", "0"]).await;
    wait_for_blocked(&mut con, 2).await;
    query::<i64>(&mut con, &["RPUSH", "stage1", "item"]).await;
    assert_eq!(strings(&mover.await.unwrap()), vec!["item"]);
    assert_eq!(strings(&last.await.unwrap()), vec!["stage2", "item"]);
    assert_eq!(
        query::<i64>(&mut con, &["EXISTS", "stage1", "stage2"]).await,
        0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sorted_set_pops_wait_for_zadd() {
    let server = TestServer::start().await;
    let mut con = server.conn().await;
    let min = start_blocking(&server, &["BZPOPMIN", "scores", "0"]).await;
    wait_for_blocked(&mut con, 1).await;
    let multi = start_blocking(
        &server,
        &["BZMPOP", "0", "1", "scores", "MAX", "COUNT", "5"],
    )
    .await;
    wait_for_blocked(&mut con, 2).await;
    query::<i64>(&mut con, &["ZADD", "scores", "3", "c", "1", "a", "2", "b"]).await;
    assert_eq!(strings(&min.await.unwrap()), vec!["scores", "a", "1"]);
    match multi.await.unwrap() {
        redis::Value::Array(parts) => {
            assert_eq!(strings(&parts[0]), vec!["scores"]);
            let redis::Value::Array(pairs) = &parts[1] else {
                panic!("pairs: {:?}", parts[1]);
            };
            let members: Vec<Vec<String>> = pairs.iter().map(strings).collect();
            assert_eq!(members, vec![vec!["c", "3"], vec!["b", "2"]]);
        }
        other => panic!("BZMPOP reply {:?}", other),
    }
    // A list push does not wake a sorted-set waiter.
    let waiter = start_blocking(&server, &["BZPOPMAX", "typed", "0"]).await;
    wait_for_blocked(&mut con, 1).await;
    query::<i64>(&mut con, &["RPUSH", "typed", "x"]).await;
    query::<i64>(&mut con, &["DEL", "typed"]).await;
    assert!(!waiter.is_finished());
    query::<i64>(&mut con, &["ZADD", "typed", "7", "z"]).await;
    assert_eq!(strings(&waiter.await.unwrap()), vec!["typed", "z", "7"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_unblock_answers_as_timeout_or_with_the_unblocked_error() {
    let server = TestServer::start().await;
    let mut con = server.conn().await;
    let mut blocked = server.conn_blocking().await;
    let id: i64 = query(&mut blocked, &["CLIENT", "ID"]).await;
    let (first_done, mut first_reply) = tokio::sync::mpsc::channel(1);
    let pending = tokio::spawn(async move {
        let first = try_query::<Option<(String, String)>>(&mut blocked, &["BLPOP", "k", "0"]).await;
        let _ = first_done.send(first).await;
        try_query::<Option<(String, String)>>(&mut blocked, &["BLPOP", "k", "0"]).await
    });
    wait_for_blocked(&mut con, 1).await;
    let id = id.to_string();
    assert_eq!(
        query::<i64>(&mut con, &["CLIENT", "UNBLOCK", &id, "TIMEOUT"]).await,
        1
    );
    let first = first_reply.recv().await.expect("first BLPOP answered");
    assert_eq!(first.unwrap(), None);
    // The first answer came after the server let go of that wait, so one
    // blocked client now is the second BLPOP.
    wait_for_blocked(&mut con, 1).await;
    assert_eq!(
        query::<i64>(&mut con, &["CLIENT", "UNBLOCK", &id, "ERROR"]).await,
        1
    );
    let error = pending.await.unwrap().unwrap_err();
    assert_eq!(
        error_text(&error),
        "UNBLOCKED client unblocked via CLIENT UNBLOCK"
    );
    assert_eq!(query::<i64>(&mut con, &["CLIENT", "UNBLOCK", &id]).await, 0);
    assert_eq!(
        query_err(&mut con, &["CLIENT", "UNBLOCK", &id, "BOGUS"]).await,
        "ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn element_is_not_lost_when_the_first_waiter_disconnects() {
    let server = TestServer::start().await;
    let mut con = server.conn().await;
    let mut gone = server.raw().await;
    gone.send(&encode_command(&["BLPOP", "keep", "0"])).await;
    wait_for_blocked(&mut con, 1).await;
    let survivor = start_blocking(&server, &["BLPOP", "keep", "0"]).await;
    wait_for_blocked(&mut con, 2).await;
    drop(gone);
    wait_for_blocked(&mut con, 1).await;
    query::<i64>(&mut con, &["RPUSH", "keep", "precious"]).await;
    assert_eq!(strings(&survivor.await.unwrap()), vec!["keep", "precious"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn waiter_on_a_renamed_in_key_is_served() {
    let server = TestServer::start().await;
    let mut con = server.conn().await;
    let waiter = start_blocking(&server, &["BLMPOP", "0", "1", "dest", "LEFT", "COUNT", "2"]).await;
    wait_for_blocked(&mut con, 1).await;
    query::<i64>(&mut con, &["RPUSH", "staging", "a", "b", "c"]).await;
    query::<()>(&mut con, &["RENAME", "staging", "dest"]).await;
    match waiter.await.unwrap() {
        redis::Value::Array(parts) => {
            assert_eq!(strings(&parts[0]), vec!["dest"]);
            assert_eq!(strings(&parts[1]), vec!["a", "b"]);
        }
        other => panic!("BLMPOP reply {:?}", other),
    }
}
