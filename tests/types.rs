//! What holds across every data type: TYPE and OBJECT ENCODING names,
//! WRONGTYPE, SCAN's TYPE filter, RENAME/COPY/MOVE/DEL keeping values
//! whole, empty aggregates disappearing, MEMORY USAGE following a value as
//! it grows and shrinks, and SORT over lists, sets and sorted sets.

mod common;

use common::*;

/// One key of each type, filled the same way on every server.
async fn fill_every_type(c: &mut redis::aio::MultiplexedConnection) {
    query::<()>(c, &["SET", "str", "v"]).await;
    query::<i64>(c, &["RPUSH", "list", "a", "b"]).await;
    query::<i64>(c, &["HSET", "hash", "f", "v"]).await;
    query::<i64>(c, &["SADD", "set", "m1", "m2"]).await;
    query::<i64>(c, &["ZADD", "zset", "1", "a", "2", "b"]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn type_and_encoding_name_every_type() {
    let server = TestServer::start().await;
    let mut c = server.conn().await;
    fill_every_type(&mut c).await;
    query::<i64>(&mut c, &["SADD", "ints", "1", "2"]).await;
    for (key, type_name, encoding) in [
        ("str", "string", "embstr"),
        ("list", "list", "quicklist"),
        ("hash", "hash", "listpack"),
        ("set", "set", "hashtable"),
        ("ints", "set", "intset"),
        ("zset", "zset", "listpack"),
    ] {
        assert_eq!(query::<String>(&mut c, &["TYPE", key]).await, type_name);
        assert_eq!(
            query::<String>(&mut c, &["OBJECT", "ENCODING", key]).await,
            encoding
        );
    }
    assert_eq!(query::<String>(&mut c, &["TYPE", "missing"]).await, "none");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_family_refuses_the_other_types() {
    let server = TestServer::start().await;
    let mut c = server.conn().await;
    fill_every_type(&mut c).await;
    let wrongtype = "WRONGTYPE Operation against a key holding the wrong kind of value";
    let probes: [(&str, &[&str]); 5] = [
        ("str", &["GET"]),
        ("list", &["LLEN"]),
        ("hash", &["HLEN"]),
        ("set", &["SCARD"]),
        ("zset", &["ZCARD"]),
    ];
    for (owner, _) in probes {
        for (other, command) in probes {
            if owner == other {
                continue;
            }
            let mut args = command.to_vec();
            args.push(owner);
            assert_eq!(query_err(&mut c, &args).await, wrongtype, "{:?}", args);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scan_type_filter_selects_keys_by_type() {
    let server = TestServer::start().await;
    let mut c = server.conn().await;
    fill_every_type(&mut c).await;
    for (type_name, key) in [
        ("string", "str"),
        ("list", "list"),
        ("hash", "hash"),
        ("set", "set"),
        ("zset", "zset"),
    ] {
        let mut found = Vec::new();
        let mut cursor = "0".to_string();
        for _ in 0..1000 {
            let (next, keys): (String, Vec<String>) =
                query(&mut c, &["SCAN", &cursor, "TYPE", type_name]).await;
            found.extend(keys);
            cursor = next;
            if cursor == "0" {
                break;
            }
        }
        assert_eq!(found, vec![key.to_string()], "TYPE {}", type_name);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rename_copy_and_move_keep_every_type_whole() {
    let server = TestServer::start().await;
    let mut c = server.conn().await;
    fill_every_type(&mut c).await;
    for key in ["list", "hash", "set", "zset"] {
        let copy = format!("{key}:copy");
        let renamed = format!("{key}:renamed");
        assert_eq!(query::<i64>(&mut c, &["COPY", key, &copy]).await, 1);
        query::<()>(&mut c, &["RENAME", key, &renamed]).await;
        assert_eq!(query::<i64>(&mut c, &["MOVE", &renamed, "1"]).await, 1);
    }
    assert_eq!(
        query::<Vec<String>>(&mut c, &["LRANGE", "list:copy", "0", "-1"]).await,
        vec!["a", "b"]
    );
    assert_eq!(
        query::<String>(&mut c, &["HGET", "hash:copy", "f"]).await,
        "v"
    );
    assert_eq!(query::<i64>(&mut c, &["SCARD", "set:copy"]).await, 2);
    assert_eq!(
        query::<f64>(&mut c, &["ZSCORE", "zset:copy", "b"]).await,
        2.0
    );
    // The copy is independent of the original.
    query::<i64>(&mut c, &["RPUSH", "list:copy", "c"]).await;
    let mut db1 = server.conn_db(1).await;
    assert_eq!(query::<i64>(&mut db1, &["LLEN", "list:renamed"]).await, 2);
    assert_eq!(query::<i64>(&mut db1, &["ZCARD", "zset:renamed"]).await, 2);
    assert_eq!(
        query::<String>(&mut db1, &["TYPE", "hash:renamed"]).await,
        "hash"
    );
    assert_eq!(
        query::<i64>(
            &mut c,
            &["DEL", "list:copy", "hash:copy", "set:copy", "zset:copy"]
        )
        .await,
        4
    );
    assert_eq!(query::<i64>(&mut c, &["DBSIZE"]).await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn emptied_aggregates_are_deleted() {
    let server = TestServer::start().await;
    let mut c = server.conn().await;
    fill_every_type(&mut c).await;
    query::<Vec<String>>(&mut c, &["LPOP", "list", "2"]).await;
    query::<i64>(&mut c, &["HDEL", "hash", "f"]).await;
    query::<i64>(&mut c, &["SREM", "set", "m1", "m2"]).await;
    query::<i64>(&mut c, &["ZREMRANGEBYSCORE", "zset", "-inf", "+inf"]).await;
    assert_eq!(
        query::<i64>(&mut c, &["EXISTS", "list", "hash", "set", "zset"]).await,
        0
    );
    assert_eq!(query::<i64>(&mut c, &["DBSIZE"]).await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_usage_grows_and_shrinks_with_the_value() {
    let server = TestServer::start().await;
    let mut c = server.conn().await;
    for (key, fill, empty_some) in [
        ("h", "HSET", "HDEL"),
        ("s", "SADD", "SREM"),
        ("l", "RPUSH", "LREM"),
    ] {
        let first: Vec<&str> = if fill == "HSET" {
            vec![fill, key, "f0", "v"]
        } else {
            vec![fill, key, "m0"]
        };
        query::<i64>(&mut c, &first).await;
        let small = query::<i64>(&mut c, &["MEMORY", "USAGE", key]).await;
        for i in 1..2000 {
            let member = format!("member-{i}");
            let args: Vec<&str> = if fill == "HSET" {
                vec![fill, key, &member, "value-value-value"]
            } else {
                vec![fill, key, &member]
            };
            query::<i64>(&mut c, &args).await;
        }
        let big = query::<i64>(&mut c, &["MEMORY", "USAGE", key, "SAMPLES", "0"]).await;
        assert!(big > small * 20, "{key}: {small} -> {big}");
        for i in 1..1900 {
            let member = format!("member-{i}");
            let args: Vec<&str> = if empty_some == "LREM" {
                vec![empty_some, key, "0", &member]
            } else {
                vec![empty_some, key, &member]
            };
            query::<i64>(&mut c, &args).await;
        }
        let after = query::<i64>(&mut c, &["MEMORY", "USAGE", key, "SAMPLES", "0"]).await;
        assert!(after < big / 4, "{key}: {big} -> {after}");
    }
    query::<i64>(&mut c, &["ZADD", "z", "1", "a"]).await;
    let small = query::<i64>(&mut c, &["MEMORY", "USAGE", "z"]).await;
    for i in 0..1000 {
        query::<i64>(&mut c, &["ZADD", "z", &i.to_string(), &format!("m{i}")]).await;
    }
    assert!(query::<i64>(&mut c, &["MEMORY", "USAGE", "z"]).await > small * 20);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sort_orders_lists_sets_and_sorted_sets() {
    let server = TestServer::start().await;
    let mut c = server.conn().await;
    query::<i64>(&mut c, &["RPUSH", "ids", "3", "1", "2"]).await;
    assert_eq!(
        query::<Vec<String>>(&mut c, &["SORT", "ids"]).await,
        vec!["1", "2", "3"]
    );
    assert_eq!(
        query::<Vec<String>>(&mut c, &["SORT", "ids", "DESC", "LIMIT", "0", "2"]).await,
        vec!["3", "2"]
    );
    for (id, name, rank) in [("1", "zed", "30"), ("2", "amy", "10"), ("3", "bob", "20")] {
        query::<()>(&mut c, &["SET", &format!("rank_{id}"), rank]).await;
        query::<i64>(&mut c, &["HSET", &format!("user_{id}"), "name", name]).await;
    }
    let by_rank: Vec<String> = query(
        &mut c,
        &[
            "SORT",
            "ids",
            "BY",
            "rank_*",
            "GET",
            "#",
            "GET",
            "user_*->name",
        ],
    )
    .await;
    assert_eq!(by_rank, vec!["2", "amy", "3", "bob", "1", "zed"]);
    query::<i64>(&mut c, &["SADD", "words", "pear", "apple", "fig"]).await;
    assert_eq!(
        query::<Vec<String>>(&mut c, &["SORT", "words", "ALPHA"]).await,
        vec!["apple", "fig", "pear"]
    );
    assert_eq!(
        query_err(&mut c, &["SORT", "words"]).await,
        "ERR One or more scores can't be converted into double"
    );
    assert_eq!(
        query::<i64>(&mut c, &["SORT", "words", "ALPHA", "STORE", "sorted"]).await,
        3
    );
    assert_eq!(query::<String>(&mut c, &["TYPE", "sorted"]).await, "list");
    query::<i64>(&mut c, &["ZADD", "z", "3", "c", "1", "a"]).await;
    assert_eq!(
        query::<Vec<String>>(&mut c, &["SORT", "z", "BY", "nosort", "DESC"]).await,
        vec!["c", "a"]
    );
    assert_eq!(
        query::<Vec<String>>(&mut c, &["SORT_RO", "z", "ALPHA"]).await,
        vec!["a", "c"]
    );
    assert_eq!(
        query_err(&mut c, &["SORT_RO", "z", "STORE", "x"]).await,
        "ERR syntax error"
    );
}
