//! List commands through the `redis` crate: a job queue's pushes and pops,
//! ranges, in-place edits and moves between lists. (Blocking pops are in
//! `blocking.rs`.)

mod common;

use common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pushes_and_pops_work_at_both_ends() {
    let server = TestServer::start().await;
    let mut c = server.conn().await;
    assert_eq!(query::<i64>(&mut c, &["RPUSH", "l", "b", "c"]).await, 2);
    assert_eq!(query::<i64>(&mut c, &["LPUSH", "l", "a", "z"]).await, 4);
    let all: Vec<String> = query(&mut c, &["LRANGE", "l", "0", "-1"]).await;
    assert_eq!(all, vec!["z", "a", "b", "c"]);
    assert_eq!(query::<String>(&mut c, &["LPOP", "l"]).await, "z");
    assert_eq!(query::<String>(&mut c, &["RPOP", "l"]).await, "c");
    let two: Vec<String> = query(&mut c, &["LPOP", "l", "5"]).await;
    assert_eq!(two, vec!["a", "b"]);
    assert_eq!(query::<i64>(&mut c, &["EXISTS", "l"]).await, 0);
    assert_eq!(query::<Option<String>>(&mut c, &["LPOP", "l"]).await, None);
    assert_eq!(query::<i64>(&mut c, &["LPUSHX", "l", "x"]).await, 0);
    assert_eq!(query::<i64>(&mut c, &["EXISTS", "l"]).await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ranges_and_indexes_count_from_either_end() {
    let server = TestServer::start().await;
    let mut c = server.conn().await;
    let items: Vec<String> = (0..10).map(|i| i.to_string()).collect();
    let mut args = vec!["RPUSH", "l"];
    args.extend(items.iter().map(|s| s.as_str()));
    query::<i64>(&mut c, &args).await;
    let middle: Vec<String> = query(&mut c, &["LRANGE", "l", "2", "-3"]).await;
    assert_eq!(middle, vec!["2", "3", "4", "5", "6", "7"]);
    let past_end: Vec<String> = query(&mut c, &["LRANGE", "l", "8", "100"]).await;
    assert_eq!(past_end, vec!["8", "9"]);
    let empty: Vec<String> = query(&mut c, &["LRANGE", "l", "5", "2"]).await;
    assert!(empty.is_empty());
    assert_eq!(query::<String>(&mut c, &["LINDEX", "l", "-1"]).await, "9");
    assert_eq!(
        query::<Option<String>>(&mut c, &["LINDEX", "l", "10"]).await,
        None
    );
    assert_eq!(query::<i64>(&mut c, &["LLEN", "l"]).await, 10);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_place_edits_follow_redis() {
    let server = TestServer::start().await;
    let mut c = server.conn().await;
    query::<i64>(&mut c, &["RPUSH", "l", "a", "b", "a", "c", "a"]).await;
    query::<()>(&mut c, &["LSET", "l", "1", "B"]).await;
    assert_eq!(
        query_err(&mut c, &["LSET", "l", "9", "x"]).await,
        "ERR index out of range"
    );
    assert_eq!(
        query_err(&mut c, &["LSET", "nokey", "0", "x"]).await,
        "ERR no such key"
    );
    assert_eq!(
        query::<i64>(&mut c, &["LINSERT", "l", "BEFORE", "c", "pre"]).await,
        6
    );
    assert_eq!(
        query::<i64>(&mut c, &["LINSERT", "l", "AFTER", "zz", "x"]).await,
        -1
    );
    assert_eq!(query::<i64>(&mut c, &["LREM", "l", "-1", "a"]).await, 1);
    let now: Vec<String> = query(&mut c, &["LRANGE", "l", "0", "-1"]).await;
    assert_eq!(now, vec!["a", "B", "a", "pre", "c"]);
    assert_eq!(query::<i64>(&mut c, &["LREM", "l", "0", "a"]).await, 2);
    query::<()>(&mut c, &["LTRIM", "l", "1", "-1"]).await;
    let trimmed: Vec<String> = query(&mut c, &["LRANGE", "l", "0", "-1"]).await;
    assert_eq!(trimmed, vec!["pre", "c"]);
    query::<()>(&mut c, &["LTRIM", "l", "5", "9"]).await;
    assert_eq!(query::<i64>(&mut c, &["EXISTS", "l"]).await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lpos_finds_matches_by_rank_count_and_maxlen() {
    let server = TestServer::start().await;
    let mut c = server.conn().await;
    query::<i64>(
        &mut c,
        &["RPUSH", "l", "a", "b", "c", "1", "2", "3", "c", "c"],
    )
    .await;
    assert_eq!(query::<i64>(&mut c, &["LPOS", "l", "c"]).await, 2);
    assert_eq!(
        query::<i64>(&mut c, &["LPOS", "l", "c", "RANK", "2"]).await,
        6
    );
    assert_eq!(
        query::<i64>(&mut c, &["LPOS", "l", "c", "RANK", "-1"]).await,
        7
    );
    let all: Vec<i64> = query(&mut c, &["LPOS", "l", "c", "COUNT", "0"]).await;
    assert_eq!(all, vec![2, 6, 7]);
    let within: Vec<i64> = query(&mut c, &["LPOS", "l", "c", "COUNT", "0", "MAXLEN", "3"]).await;
    assert_eq!(within, vec![2]);
    assert_eq!(
        query::<Option<i64>>(&mut c, &["LPOS", "l", "zz"]).await,
        None
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lmove_and_rpoplpush_rotate_and_transfer() {
    let server = TestServer::start().await;
    let mut c = server.conn().await;
    query::<i64>(&mut c, &["RPUSH", "ring", "1", "2", "3"]).await;
    assert_eq!(
        query::<String>(&mut c, &["RPOPLPUSH", "ring", "ring"]).await,
        "3"
    );
    let rotated: Vec<String> = query(&mut c, &["LRANGE", "ring", "0", "-1"]).await;
    assert_eq!(rotated, vec!["3", "1", "2"]);
    assert_eq!(
        query::<String>(&mut c, &["LMOVE", "ring", "done", "LEFT", "RIGHT"]).await,
        "3"
    );
    let mut popped: Vec<redis::Value> = Vec::new();
    popped.push(
        query(
            &mut c,
            &["LMPOP", "2", "missing", "ring", "RIGHT", "COUNT", "5"],
        )
        .await,
    );
    match &popped[0] {
        redis::Value::Array(parts) => {
            assert_eq!(parts[0], redis::Value::BulkString(b"ring".to_vec()));
        }
        other => panic!("LMPOP reply {:?}", other),
    }
    assert_eq!(query::<i64>(&mut c, &["EXISTS", "ring"]).await, 0);
    query::<()>(&mut c, &["SET", "str", "x"]).await;
    assert_eq!(
        query_err(&mut c, &["LMOVE", "done", "str", "LEFT", "LEFT"]).await,
        "WRONGTYPE Operation against a key holding the wrong kind of value"
    );
    assert_eq!(query::<i64>(&mut c, &["LLEN", "done"]).await, 1);
}
