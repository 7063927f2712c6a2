//! Sorted-set commands through the `redis` crate: leaderboards and
//! schedules (ZADD's options, rank and range queries in every form, the
//! STORE and algebra commands, pops), and a model check of ranks and ranges
//! on a large set after many random changes.

mod common;

use common::*;
use redis::Value;
use std::collections::{BTreeSet, HashMap};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn zadd_options_follow_redis() {
    let server = TestServer::start().await;
    let mut c = server.conn().await;
    assert_eq!(
        query::<i64>(&mut c, &["ZADD", "board", "10", "ann", "20", "bob"]).await,
        2
    );
    assert_eq!(
        query::<i64>(&mut c, &["ZADD", "board", "NX", "99", "ann", "5", "cid"]).await,
        1
    );
    assert_eq!(
        query::<f64>(&mut c, &["ZSCORE", "board", "ann"]).await,
        10.0
    );
    assert_eq!(
        query::<i64>(
            &mut c,
            &["ZADD", "board", "XX", "CH", "11", "ann", "1", "dan"]
        )
        .await,
        1
    );
    assert_eq!(
        query::<Option<f64>>(&mut c, &["ZSCORE", "board", "dan"]).await,
        None
    );
    assert_eq!(
        query::<i64>(&mut c, &["ZADD", "board", "GT", "CH", "5", "bob"]).await,
        0
    );
    assert_eq!(
        query::<i64>(&mut c, &["ZADD", "board", "LT", "CH", "5", "bob"]).await,
        1
    );
    assert_eq!(
        query::<String>(&mut c, &["ZADD", "board", "INCR", "2.5", "bob"]).await,
        "7.5"
    );
    assert_eq!(
        query::<Option<String>>(&mut c, &["ZADD", "board", "INCR", "NX", "1", "bob"]).await,
        None
    );
    assert_eq!(
        query::<String>(&mut c, &["ZINCRBY", "board", "-0.5", "bob"]).await,
        "7"
    );
    assert_eq!(
        query_err(&mut c, &["ZADD", "board", "NX", "XX", "1", "x"]).await,
        "ERR XX and NX options at the same time are not compatible"
    );
    assert_eq!(
        query_err(&mut c, &["ZADD", "board", "GT", "LT", "1", "x"]).await,
        "ERR GT, LT, and/or NX options at the same time are not compatible"
    );
    assert_eq!(
        query_err(&mut c, &["ZADD", "board", "1", "x", "2"]).await,
        "ERR syntax error"
    );
    assert_eq!(
        query_err(&mut c, &["ZADD", "board", "one", "x"]).await,
        "ERR value is not a valid float"
    );
    query::<i64>(&mut c, &["ZADD", "nan", "inf", "x"]).await;
    assert_eq!(
        query_err(&mut c, &["ZINCRBY", "nan", "-inf", "x"]).await,
        "ERR resulting score is not a number (NaN)"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn range_queries_by_rank_score_and_lex() {
    let server = TestServer::start().await;
    let mut c = server.conn().await;
    query::<i64>(
        &mut c,
        &[
            "ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e",
        ],
    )
    .await;
    let top: Vec<String> = query(&mut c, &["ZRANGE", "z", "0", "1", "REV"]).await;
    assert_eq!(top, vec!["e", "d"]);
    let scored: Vec<(String, f64)> =
        query(&mut c, &["ZRANGE", "z", "(1", "3", "BYSCORE", "WITHSCORES"]).await;
    assert_eq!(scored, vec![("b".into(), 2.0), ("c".into(), 3.0)]);
    let page: Vec<String> = query(
        &mut c,
        &[
            "ZRANGE", "z", "+inf", "-inf", "BYSCORE", "REV", "LIMIT", "1", "2",
        ],
    )
    .await;
    assert_eq!(page, vec!["d", "c"]);
    let old: Vec<String> = query(&mut c, &["ZREVRANGEBYSCORE", "z", "4", "2"]).await;
    assert_eq!(old, vec!["d", "c", "b"]);
    assert_eq!(query::<i64>(&mut c, &["ZCOUNT", "z", "2", "(4"]).await, 2);
    assert_eq!(query::<i64>(&mut c, &["ZRANK", "z", "c"]).await, 2);
    assert_eq!(query::<i64>(&mut c, &["ZREVRANK", "z", "c"]).await, 2);
    query::<i64>(
        &mut c,
        &[
            "ZADD", "names", "0", "alice", "0", "bob", "0", "carol", "0", "dave",
        ],
    )
    .await;
    let lex: Vec<String> = query(&mut c, &["ZRANGE", "names", "[b", "(d", "BYLEX"]).await;
    assert_eq!(lex, vec!["bob", "carol"]);
    assert_eq!(
        query::<i64>(&mut c, &["ZLEXCOUNT", "names", "-", "+"]).await,
        4
    );
    assert_eq!(
        query_err(&mut c, &["ZRANGE", "z", "0", "1", "LIMIT", "0", "1"]).await,
        "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX"
    );
    assert_eq!(
        query_err(&mut c, &["ZRANGEBYSCORE", "z", "x", "1"]).await,
        "ERR min or max is not a float"
    );
    assert_eq!(
        query_err(&mut c, &["ZRANGEBYLEX", "names", "b", "c"]).await,
        "ERR min or max not valid string range item"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scores_are_doubles_in_resp3_and_pairs_with_withscores() {
    let server = TestServer::start().await;
    let mut c = server.conn3().await;
    query::<i64>(&mut c, &["ZADD", "z", "1.5", "a"]).await;
    let score: Value = query(&mut c, &["ZSCORE", "z", "a"]).await;
    assert_eq!(score, Value::Double(1.5));
    let pairs: Value = query(&mut c, &["ZRANGE", "z", "0", "-1", "WITHSCORES"]).await;
    assert_eq!(
        pairs,
        Value::Array(vec![Value::Array(vec![
            Value::BulkString(b"a".to_vec()),
            Value::Double(1.5)
        ])])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn store_forms_weights_and_aggregates() {
    let server = TestServer::start().await;
    let mut c = server.conn().await;
    query::<i64>(&mut c, &["ZADD", "week1", "10", "ann", "5", "bob"]).await;
    query::<i64>(&mut c, &["ZADD", "week2", "3", "ann", "7", "cid"]).await;
    query::<i64>(&mut c, &["SADD", "active", "ann", "cid"]).await;
    assert_eq!(
        query::<i64>(&mut c, &["ZUNIONSTORE", "total", "2", "week1", "week2"]).await,
        3
    );
    let total: Vec<(String, f64)> =
        query(&mut c, &["ZRANGE", "total", "0", "-1", "WITHSCORES"]).await;
    assert_eq!(
        total,
        vec![
            ("bob".into(), 5.0),
            ("cid".into(), 7.0),
            ("ann".into(), 13.0)
        ]
    );
    assert_eq!(
        query::<i64>(
            &mut c,
            &[
                "ZINTERSTORE",
                "best",
                "2",
                "week1",
                "week2",
                "AGGREGATE",
                "MAX"
            ]
        )
        .await,
        1
    );
    assert_eq!(query::<f64>(&mut c, &["ZSCORE", "best", "ann"]).await, 10.0);
    let weighted: Vec<(String, f64)> = query(
        &mut c,
        &[
            "ZUNION",
            "2",
            "week1",
            "active",
            "WEIGHTS",
            "2",
            "100",
            "WITHSCORES",
        ],
    )
    .await;
    assert_eq!(
        weighted,
        vec![
            ("bob".into(), 10.0),
            ("cid".into(), 100.0),
            ("ann".into(), 120.0)
        ]
    );
    let only: Vec<String> = query(&mut c, &["ZDIFF", "2", "week1", "week2"]).await;
    assert_eq!(only, vec!["bob"]);
    assert_eq!(
        query::<i64>(&mut c, &["ZINTERCARD", "2", "week1", "active"]).await,
        1
    );
    assert_eq!(
        query::<i64>(&mut c, &["ZRANGESTORE", "top", "total", "0", "0", "REV"]).await,
        1
    );
    assert_eq!(
        query::<Vec<String>>(&mut c, &["ZRANGE", "top", "0", "-1"]).await,
        vec!["ann"]
    );
    assert_eq!(
        query_err(&mut c, &["ZUNIONSTORE", "x", "0", "week1"]).await,
        "ERR at least 1 input key is needed for 'zunionstore' command"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pops_take_from_the_low_or_high_end() {
    let server = TestServer::start().await;
    let mut c = server.conn().await;
    query::<i64>(
        &mut c,
        &["ZADD", "jobs", "30", "c", "10", "a", "20", "b", "40", "d"],
    )
    .await;
    let first: Vec<String> = query(&mut c, &["ZPOPMIN", "jobs"]).await;
    assert_eq!(first, vec!["a", "10"]);
    let last: Vec<String> = query(&mut c, &["ZPOPMAX", "jobs", "2"]).await;
    assert_eq!(last, vec!["d", "40", "c", "30"]);
    let reply: Value = query(&mut c, &["ZMPOP", "2", "none", "jobs", "MIN", "COUNT", "9"]).await;
    assert_eq!(
        reply,
        Value::Array(vec![
            Value::BulkString(b"jobs".to_vec()),
            Value::Array(vec![Value::Array(vec![
                Value::BulkString(b"b".to_vec()),
                Value::BulkString(b"20".to_vec())
            ])])
        ])
    );
    assert_eq!(query::<i64>(&mut c, &["EXISTS", "jobs"]).await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn zrandmember_counts_follow_redis() {
    let server = TestServer::start().await;
    let mut c = server.conn().await;
    query::<i64>(
        &mut c,
        &["ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d"],
    )
    .await;
    let two: Vec<String> = query(&mut c, &["ZRANDMEMBER", "z", "2"]).await;
    assert_eq!(two.iter().collect::<BTreeSet<_>>().len(), 2);
    let many: Vec<String> = query(&mut c, &["ZRANDMEMBER", "z", "-9"]).await;
    assert_eq!(many.len(), 9);
    let scored: Vec<(String, f64)> = query(&mut c, &["ZRANDMEMBER", "z", "10", "WITHSCORES"]).await;
    let expected: HashMap<&str, f64> = [("a", 1.0), ("b", 2.0), ("c", 3.0), ("d", 4.0)].into();
    assert_eq!(scored.len(), 4);
    for (member, score) in scored {
        assert_eq!(expected[member.as_str()], score);
    }
}

/// A tiny deterministic generator, so the model test is the same every run.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, bound: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % bound
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ranks_and_ranges_match_a_model_after_many_changes() {
    let server = TestServer::start().await;
    let mut c = server.conn().await;
    let mut model: HashMap<String, i64> = HashMap::new();
    let mut rng = Lcg(7);
    for round in 0..40 {
        let mut pipe = redis::pipe();
        for _ in 0..100 {
            let member = format!("m{}", rng.next(3000));
            if rng.next(4) == 0 {
                model.remove(&member);
                pipe.cmd("ZREM").arg("big").arg(&member).ignore();
            } else {
                let score = rng.next(500) as i64 - 250;
                model.insert(member.clone(), score);
                pipe.cmd("ZADD").arg("big").arg(score).arg(&member).ignore();
            }
        }
        let _: () = pipe.query_async(&mut c).await.unwrap();
        let mut ordered: Vec<(i64, String)> = model.iter().map(|(m, s)| (*s, m.clone())).collect();
        ordered.sort();
        assert_eq!(
            query::<usize>(&mut c, &["ZCARD", "big"]).await,
            ordered.len()
        );
        // A probe at a few ranks and score windows each round.
        let rank = rng.next(ordered.len() as u64) as usize;
        let (score, member) = &ordered[rank];
        assert_eq!(
            query::<usize>(&mut c, &["ZRANK", "big", member]).await,
            rank,
            "round {round}"
        );
        let slice: Vec<String> = query(
            &mut c,
            &["ZRANGE", "big", &rank.to_string(), &(rank + 9).to_string()],
        )
        .await;
        let expected: Vec<String> = ordered
            .iter()
            .skip(rank)
            .take(10)
            .map(|(_, m)| m.clone())
            .collect();
        assert_eq!(slice, expected);
        let (low, high) = (*score - 5, *score + 5);
        let in_window: Vec<String> = ordered
            .iter()
            .filter(|(s, _)| *s >= low && *s < high)
            .map(|(_, m)| m.clone())
            .collect();
        let got: Vec<String> = query(
            &mut c,
            &[
                "ZRANGEBYSCORE",
                "big",
                &low.to_string(),
                &format!("({high}"),
            ],
        )
        .await;
        assert_eq!(got, in_window);
        assert_eq!(
            query::<usize>(
                &mut c,
                &["ZCOUNT", "big", &low.to_string(), &format!("({high}")]
            )
            .await,
            in_window.len()
        );
    }
    assert_eq!(
        query::<String>(&mut c, &["OBJECT", "ENCODING", "big"]).await,
        "skiplist"
    );
}
