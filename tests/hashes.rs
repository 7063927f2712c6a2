//! Hash commands through the `redis` crate: what a user storing objects as
//! hashes sees, in RESP2 and RESP3, including the listpack/hashtable switch
//! and HSCAN over a large hash.

mod common;

use common::*;
use redis::Value;
use std::collections::{HashMap, HashSet};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hset_counts_new_fields_and_hget_reads_them_back() {
    let server = TestServer::start().await;
    let mut c = server.conn().await;
    assert_eq!(
        query::<i64>(&mut c, &["HSET", "user:1", "name", "ada", "lang", "en"]).await,
        2
    );
    assert_eq!(
        query::<i64>(&mut c, &["HSET", "user:1", "name", "Ada", "age", "36"]).await,
        1
    );
    assert_eq!(
        query::<String>(&mut c, &["HGET", "user:1", "name"]).await,
        "Ada"
    );
    assert_eq!(
        query::<Option<String>>(&mut c, &["HGET", "user:1", "nope"]).await,
        None
    );
    let values: Vec<Option<String>> =
        query(&mut c, &["HMGET", "user:1", "age", "nope", "lang"]).await;
    assert_eq!(values, vec![Some("36".into()), None, Some("en".into())]);
    assert_eq!(query::<i64>(&mut c, &["HLEN", "user:1"]).await, 3);
    assert_eq!(
        query::<i64>(&mut c, &["HSTRLEN", "user:1", "name"]).await,
        3
    );
    assert!(query::<bool>(&mut c, &["HEXISTS", "user:1", "lang"]).await);
    assert_eq!(
        query::<i64>(&mut c, &["HSETNX", "user:1", "lang", "fr"]).await,
        0
    );
    assert_eq!(
        query::<i64>(&mut c, &["HSETNX", "user:1", "city", "London"]).await,
        1
    );
    let all: HashMap<String, String> = query(&mut c, &["HGETALL", "user:1"]).await;
    assert_eq!(all.len(), 4);
    assert_eq!(all["city"], "London");
    let mut keys: Vec<String> = query(&mut c, &["HKEYS", "user:1"]).await;
    keys.sort();
    assert_eq!(keys, vec!["age", "city", "lang", "name"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hgetall_is_a_map_in_resp3_and_a_flat_array_in_resp2() {
    let server = TestServer::start().await;
    let mut c2 = server.conn().await;
    query::<i64>(&mut c2, &["HSET", "h", "f", "v"]).await;
    let flat: Value = query(&mut c2, &["HGETALL", "h"]).await;
    assert_eq!(
        flat,
        Value::Array(vec![
            Value::BulkString(b"f".to_vec()),
            Value::BulkString(b"v".to_vec())
        ])
    );
    let mut c3 = server.conn3().await;
    let map: Value = query(&mut c3, &["HGETALL", "h"]).await;
    assert_eq!(
        map,
        Value::Map(vec![(
            Value::BulkString(b"f".to_vec()),
            Value::BulkString(b"v".to_vec())
        )])
    );
    let empty: Value = query(&mut c3, &["HGETALL", "missing"]).await;
    assert_eq!(empty, Value::Map(vec![]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn counters_in_hashes_follow_redis_rules() {
    let server = TestServer::start().await;
    let mut c = server.conn().await;
    assert_eq!(
        query::<i64>(&mut c, &["HINCRBY", "stats", "hits", "5"]).await,
        5
    );
    assert_eq!(
        query::<i64>(&mut c, &["HINCRBY", "stats", "hits", "-7"]).await,
        -2
    );
    assert_eq!(
        query::<String>(&mut c, &["HINCRBYFLOAT", "stats", "ratio", "0.1"]).await,
        "0.1"
    );
    assert_eq!(
        query::<String>(&mut c, &["HINCRBYFLOAT", "stats", "ratio", "0.2"]).await,
        "0.3"
    );
    query::<i64>(&mut c, &["HSET", "stats", "name", "x"]).await;
    assert_eq!(
        query_err(&mut c, &["HINCRBY", "stats", "name", "1"]).await,
        "ERR hash value is not an integer"
    );
    assert_eq!(
        query_err(&mut c, &["HINCRBYFLOAT", "stats", "name", "1"]).await,
        "ERR hash value is not a float"
    );
    assert_eq!(
        query_err(&mut c, &["HINCRBY", "stats", "hits", "x"]).await,
        "ERR value is not an integer or out of range"
    );
    query::<i64>(&mut c, &["HSET", "stats", "big", "9223372036854775807"]).await;
    assert_eq!(
        query_err(&mut c, &["HINCRBY", "stats", "big", "1"]).await,
        "ERR increment or decrement would overflow"
    );
    assert_eq!(
        query_err(&mut c, &["HINCRBYFLOAT", "stats", "ratio", "inf"]).await,
        "ERR value is NaN or Infinity"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_the_last_field_deletes_the_hash() {
    let server = TestServer::start().await;
    let mut c = server.conn().await;
    query::<i64>(&mut c, &["HSET", "h", "a", "1", "b", "2"]).await;
    assert_eq!(query::<i64>(&mut c, &["HDEL", "h", "a", "zzz"]).await, 1);
    assert_eq!(query::<i64>(&mut c, &["EXISTS", "h"]).await, 1);
    assert_eq!(query::<i64>(&mut c, &["HDEL", "h", "b"]).await, 1);
    assert_eq!(query::<i64>(&mut c, &["EXISTS", "h"]).await, 0);
    assert_eq!(query::<i64>(&mut c, &["HDEL", "h", "b"]).await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn small_hashes_are_listpacks_until_a_configured_limit() {
    let server = TestServer::start().await;
    let mut c = server.conn().await;
    query::<()>(&mut c, &["CONFIG", "SET", "hash-max-listpack-entries", "4"]).await;
    for i in 0..4 {
        query::<i64>(&mut c, &["HSET", "h", &format!("f{i}"), "v"]).await;
    }
    assert_eq!(
        query::<String>(&mut c, &["OBJECT", "ENCODING", "h"]).await,
        "listpack"
    );
    query::<i64>(&mut c, &["HSET", "h", "f4", "v"]).await;
    assert_eq!(
        query::<String>(&mut c, &["OBJECT", "ENCODING", "h"]).await,
        "hashtable"
    );
    query::<i64>(&mut c, &["HSET", "long", "f", &"x".repeat(65)]).await;
    assert_eq!(
        query::<String>(&mut c, &["OBJECT", "ENCODING", "long"]).await,
        "hashtable"
    );
    assert_eq!(query::<i64>(&mut c, &["HLEN", "h"]).await, 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hscan_visits_every_field_of_a_large_hash_once() {
    let server = TestServer::start().await;
    let mut c = server.conn().await;
    let mut pipe = redis::pipe();
    for i in 0..2000 {
        pipe.cmd("HSET")
            .arg("big")
            .arg(format!("field:{i}"))
            .arg(i)
            .ignore();
    }
    let _: () = pipe.query_async(&mut c).await.unwrap();
    let mut seen = HashSet::new();
    let mut cursor = "0".to_string();
    for _ in 0..10_000 {
        let (next, items): (String, Vec<String>) =
            query(&mut c, &["HSCAN", "big", &cursor, "COUNT", "50"]).await;
        for pair in items.chunks(2) {
            assert_eq!(pair[0][6..], pair[1]);
            seen.insert(pair[0].clone());
        }
        cursor = next;
        if cursor == "0" {
            break;
        }
    }
    assert_eq!(cursor, "0");
    assert_eq!(seen.len(), 2000);
    let (_, matched): (String, Vec<String>) = query(
        &mut c,
        &["HSCAN", "big", "0", "MATCH", "field:1999", "COUNT", "5000"],
    )
    .await;
    assert_eq!(matched, vec!["field:1999", "1999"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hrandfield_counts_mean_distinct_or_repeated_fields() {
    let server = TestServer::start().await;
    let mut c = server.conn().await;
    for i in 0..10 {
        query::<i64>(&mut c, &["HSET", "h", &format!("f{i}"), &i.to_string()]).await;
    }
    let distinct: Vec<String> = query(&mut c, &["HRANDFIELD", "h", "5"]).await;
    assert_eq!(distinct.iter().collect::<HashSet<_>>().len(), 5);
    let all: Vec<String> = query(&mut c, &["HRANDFIELD", "h", "50"]).await;
    assert_eq!(all.len(), 10);
    let repeated: Vec<String> = query(&mut c, &["HRANDFIELD", "h", "-30"]).await;
    assert_eq!(repeated.len(), 30);
    let pairs: Vec<String> = query(&mut c, &["HRANDFIELD", "h", "3", "WITHVALUES"]).await;
    assert_eq!(pairs.len(), 6);
    for pair in pairs.chunks(2) {
        assert_eq!(pair[0][1..], pair[1]);
    }
    let one: String = query(&mut c, &["HRANDFIELD", "h"]).await;
    assert!(one.starts_with('f'));
    assert_eq!(
        query::<Option<String>>(&mut c, &["HRANDFIELD", "none"]).await,
        None
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hash_commands_refuse_other_types() {
    let server = TestServer::start().await;
    let mut c = server.conn().await;
    query::<()>(&mut c, &["SET", "s", "v"]).await;
    let wrongtype = "WRONGTYPE Operation against a key holding the wrong kind of value";
    for args in [
        &["HSET", "s", "f", "v"][..],
        &["HGET", "s", "f"],
        &["HGETALL", "s"],
        &["HINCRBY", "s", "f", "1"],
        &["HSCAN", "s", "0"],
    ] {
        assert_eq!(query_err(&mut c, args).await, wrongtype, "{:?}", args);
    }
    assert_eq!(
        query_err(&mut c, &["HSET", "h", "f"]).await,
        "ERR wrong number of arguments for 'hset' command"
    );
}
