//! Set commands through the `redis` crate: membership, tags, the algebra
//! and its STORE forms, random members, and the intset/hashtable switch.

mod common;

use common::*;
use redis::Value;
use std::collections::HashSet;

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn membership_commands_follow_redis() {
    let server = TestServer::start().await;
    let mut c = server.conn().await;
    assert_eq!(
        query::<i64>(&mut c, &["SADD", "tags", "rust", "db", "rust"]).await,
        2
    );
    assert_eq!(query::<i64>(&mut c, &["SCARD", "tags"]).await, 2);
    assert!(query::<bool>(&mut c, &["SISMEMBER", "tags", "db"]).await);
    let flags: Vec<i64> = query(&mut c, &["SMISMEMBER", "tags", "db", "go", "rust"]).await;
    assert_eq!(flags, vec![1, 0, 1]);
    assert_eq!(query::<i64>(&mut c, &["SREM", "tags", "db", "go"]).await, 1);
    assert_eq!(
        query::<Vec<String>>(&mut c, &["SMEMBERS", "tags"]).await,
        vec!["rust"]
    );
    assert_eq!(query::<i64>(&mut c, &["SREM", "tags", "rust"]).await, 1);
    assert_eq!(query::<i64>(&mut c, &["EXISTS", "tags"]).await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn smembers_is_a_set_in_resp3() {
    let server = TestServer::start().await;
    let mut c = server.conn3().await;
    query::<i64>(&mut c, &["SADD", "s", "1", "2"]).await;
    let reply: Value = query(&mut c, &["SMEMBERS", "s"]).await;
    assert_eq!(
        reply,
        Value::Set(vec![
            Value::BulkString(b"1".to_vec()),
            Value::BulkString(b"2".to_vec())
        ])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn algebra_and_store_forms_agree() {
    let server = TestServer::start().await;
    let mut c = server.conn().await;
    query::<i64>(&mut c, &["SADD", "a", "1", "2", "3", "x"]).await;
    query::<i64>(&mut c, &["SADD", "b", "2", "3", "4"]).await;
    query::<i64>(&mut c, &["SADD", "c", "3", "x"]).await;
    assert_eq!(
        sorted(query(&mut c, &["SINTER", "a", "b"]).await),
        vec!["2", "3"]
    );
    assert_eq!(
        sorted(query(&mut c, &["SINTER", "a", "b", "c"]).await),
        vec!["3"]
    );
    assert_eq!(
        sorted(query(&mut c, &["SUNION", "a", "b"]).await),
        vec!["1", "2", "3", "4", "x"]
    );
    assert_eq!(
        sorted(query(&mut c, &["SDIFF", "a", "b", "c"]).await),
        vec!["1"]
    );
    assert_eq!(
        query::<i64>(&mut c, &["SINTERSTORE", "dst", "a", "b"]).await,
        2
    );
    assert_eq!(
        sorted(query(&mut c, &["SMEMBERS", "dst"]).await),
        vec!["2", "3"]
    );
    assert_eq!(
        query::<String>(&mut c, &["OBJECT", "ENCODING", "dst"]).await,
        "intset"
    );
    assert_eq!(
        query::<i64>(&mut c, &["SUNIONSTORE", "dst", "a", "c"]).await,
        4
    );
    assert_eq!(
        query::<String>(&mut c, &["OBJECT", "ENCODING", "dst"]).await,
        "hashtable"
    );
    assert_eq!(
        query::<i64>(&mut c, &["SDIFFSTORE", "dst", "a", "a"]).await,
        0
    );
    assert_eq!(query::<i64>(&mut c, &["EXISTS", "dst"]).await, 0);
    assert_eq!(
        query::<i64>(&mut c, &["SINTERCARD", "2", "a", "b"]).await,
        2
    );
    assert_eq!(
        query::<i64>(&mut c, &["SINTERCARD", "2", "a", "b", "LIMIT", "1"]).await,
        1
    );
    assert_eq!(
        query::<i64>(&mut c, &["SINTERCARD", "2", "a", "missing"]).await,
        0
    );
    assert_eq!(
        query_err(&mut c, &["SINTERCARD", "3", "a", "b"]).await,
        "ERR Number of keys can't be greater than number of args"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn integer_sets_become_hashtables_past_the_limit_or_on_a_string() {
    let server = TestServer::start().await;
    let mut c = server.conn().await;
    query::<()>(&mut c, &["CONFIG", "SET", "set-max-intset-entries", "3"]).await;
    query::<i64>(&mut c, &["SADD", "n", "3", "1", "2"]).await;
    assert_eq!(
        query::<String>(&mut c, &["OBJECT", "ENCODING", "n"]).await,
        "intset"
    );
    // Integer sets list their members in ascending order.
    assert_eq!(
        query::<Vec<String>>(&mut c, &["SMEMBERS", "n"]).await,
        vec!["1", "2", "3"]
    );
    query::<i64>(&mut c, &["SADD", "n", "4"]).await;
    assert_eq!(
        query::<String>(&mut c, &["OBJECT", "ENCODING", "n"]).await,
        "hashtable"
    );
    query::<i64>(&mut c, &["SADD", "m", "1"]).await;
    query::<i64>(&mut c, &["SADD", "m", "one"]).await;
    assert_eq!(
        query::<String>(&mut c, &["OBJECT", "ENCODING", "m"]).await,
        "hashtable"
    );
    assert_eq!(query::<i64>(&mut c, &["SCARD", "m"]).await, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn random_members_and_pops_follow_count_rules() {
    let server = TestServer::start().await;
    let mut c = server.conn().await;
    let members: Vec<String> = (0..20).map(|i| format!("m{i}")).collect();
    let mut args = vec!["SADD", "s"];
    args.extend(members.iter().map(|s| s.as_str()));
    query::<i64>(&mut c, &args).await;
    let distinct: Vec<String> = query(&mut c, &["SRANDMEMBER", "s", "8"]).await;
    assert_eq!(distinct.iter().collect::<HashSet<_>>().len(), 8);
    let repeated: Vec<String> = query(&mut c, &["SRANDMEMBER", "s", "-40"]).await;
    assert_eq!(repeated.len(), 40);
    assert_eq!(query::<i64>(&mut c, &["SCARD", "s"]).await, 20);
    let popped: Vec<String> = query(&mut c, &["SPOP", "s", "15"]).await;
    assert_eq!(popped.iter().collect::<HashSet<_>>().len(), 15);
    assert_eq!(query::<i64>(&mut c, &["SCARD", "s"]).await, 5);
    for member in &popped {
        assert!(!query::<bool>(&mut c, &["SISMEMBER", "s", member]).await);
    }
    let rest: Vec<String> = query(&mut c, &["SPOP", "s", "100"]).await;
    assert_eq!(rest.len(), 5);
    assert_eq!(query::<i64>(&mut c, &["EXISTS", "s"]).await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn smove_transfers_one_member() {
    let server = TestServer::start().await;
    let mut c = server.conn().await;
    query::<i64>(&mut c, &["SADD", "from", "a", "b"]).await;
    assert_eq!(query::<i64>(&mut c, &["SMOVE", "from", "to", "a"]).await, 1);
    assert_eq!(
        query::<i64>(&mut c, &["SMOVE", "from", "to", "zzz"]).await,
        0
    );
    assert_eq!(
        query::<Vec<String>>(&mut c, &["SMEMBERS", "to"]).await,
        vec!["a"]
    );
    assert_eq!(query::<i64>(&mut c, &["SMOVE", "from", "to", "b"]).await, 1);
    assert_eq!(query::<i64>(&mut c, &["EXISTS", "from"]).await, 0);
    assert_eq!(query::<i64>(&mut c, &["SCARD", "to"]).await, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sscan_returns_every_member_of_a_large_set() {
    let server = TestServer::start().await;
    let mut c = server.conn().await;
    let mut pipe = redis::pipe();
    for i in 0..3000 {
        pipe.cmd("SADD")
            .arg("big")
            .arg(format!("member:{i}"))
            .ignore();
    }
    let _: () = pipe.query_async(&mut c).await.unwrap();
    let mut seen = HashSet::new();
    let mut cursor = "0".to_string();
    for _ in 0..10_000 {
        let (next, items): (String, Vec<String>) = query(&mut c, &["SSCAN", "big", &cursor]).await;
        seen.extend(items);
        cursor = next;
        if cursor == "0" {
            break;
        }
    }
    assert_eq!(seen.len(), 3000);
}
