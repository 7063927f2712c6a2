//! Differential command tests: the same commands go to cachet (in this
//! process) and to a real redis-server 7.0 (a child process) over two raw
//! RESP connections, and the replies must be equal, byte for byte once
//! parsed. Redis 7.0 is the specification, so every case here is a claim
//! that cachet answers exactly what Redis answers.
//!
//! Cases are scripts: one command per line, arguments split on spaces, a
//! double-quoted argument may hold spaces. A line may start with a mode:
//!
//! * `sorted:` the reply is an unordered collection (SMEMBERS, HKEYS...):
//!   its top-level elements are compared as sorted lists;
//! * `shape:` only the reply's kind and length are compared (SRANDMEMBER,
//!   SPOP: random members);
//! * `resp3` on a line of its own switches both connections to RESP3.
//!
//! `# comment` lines and blank lines are skipped. A failure names the line
//! and shows both replies.

mod common;
mod support;

use common::{sorted, split_args, RawConn, Reply};
use support::{start_cachet, stop_cachet, RedisServer};

/// Both servers and a connection to each.
struct Pair {
    redis: RedisServer,
    cachet: Option<cachet::ServerHandle>,
    to_redis: RawConn,
    to_cachet: RawConn,
}

impl Pair {
    async fn start() -> Pair {
        let redis = tokio::task::spawn_blocking(|| RedisServer::start(&[]))
            .await
            .expect("redis-server start");
        let cachet = start_cachet(|_| {}).await;
        let to_redis = RawConn::connect(redis.addr).await;
        let to_cachet = RawConn::connect(cachet.addr()).await;
        Pair {
            redis,
            cachet: Some(cachet),
            to_redis,
            to_cachet,
        }
    }

    async fn both(&mut self, args: &[&str]) -> (Reply, Reply) {
        let limit = std::time::Duration::from_secs(5);
        let from_redis = tokio::time::timeout(limit, self.to_redis.cmd(args))
            .await
            .unwrap_or_else(|_| panic!("redis-server did not answer {:?}", args));
        let from_cachet = tokio::time::timeout(limit, self.to_cachet.cmd(args))
            .await
            .unwrap_or_else(|_| panic!("cachet did not answer {:?}", args));
        (from_redis, from_cachet)
    }

    /// Runs a script (see the module comment), asserting every line.
    async fn script(&mut self, script: &str) {
        for (number, line) in script.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (mode, command) = match line.split_once(':') {
                Some((mode @ ("sorted" | "shape"), rest)) => (mode, rest.trim()),
                _ => ("exact", line),
            };
            if command == "resp3" {
                self.both(&["HELLO", "3"]).await;
                continue;
            }
            let args = split_args(command);
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let (from_redis, from_cachet) = self.both(&args).await;
            let (expected, actual) = match mode {
                "sorted" => (sorted(from_redis), sorted(from_cachet)),
                "shape" => (
                    Reply::Simple(shape(&from_redis)),
                    Reply::Simple(shape(&from_cachet)),
                ),
                _ => (from_redis, from_cachet),
            };
            assert_eq!(
                actual,
                expected,
                "line {}: {}\n  redis:  {:?}\n  cachet: {:?}",
                number + 1,
                line,
                expected,
                actual
            );
        }
    }

    async fn stop(mut self) {
        if let Some(cachet) = self.cachet.take() {
            stop_cachet(cachet).await;
        }
        drop(self.redis);
    }
}

/// The reply's kind and size, for replies with random content.
fn shape(reply: &Reply) -> String {
    match reply {
        Reply::Array(Some(items)) => format!("array of {}", items.len()),
        Reply::Set(items) => format!("set of {}", items.len()),
        Reply::Map(pairs) => format!("map of {}", pairs.len()),
        Reply::Bulk(Some(_)) => "bulk".into(),
        other => format!("{:?}", other),
    }
}

fn text_items(reply: &Reply) -> Vec<String> {
    match reply {
        Reply::Array(Some(items)) => items.iter().map(Reply::text).collect(),
        other => panic!("not an array: {:?}", other),
    }
}

/// Commands cachet has that Redis 7.0 does not (Redis 7.2 additions that
/// client libraries send on connect).
const CACHET_ONLY: &[&str] = &["client|setinfo", "client|no-touch"];

/// COMMAND INFO's ten fields for one command, with a container's list of
/// subcommands left out (cachet implements fewer of some containers'
/// subcommands; each of those it has is compared on its own).
fn info_without_subcommands(reply: Reply) -> Reply {
    let reply = match reply {
        // RESP3: a map of one command name to its fields.
        Reply::Map(mut pairs) if pairs.len() == 1 => Reply::Array(Some(vec![pairs.remove(0).1])),
        other => other,
    };
    match reply {
        Reply::Array(Some(mut outer)) if outer.len() == 1 => match outer.remove(0) {
            Reply::Array(Some(mut fields)) if fields.len() == 10 => {
                let no_subcommands = matches!(&fields[9], Reply::Set(s) if s.is_empty())
                    || matches!(&fields[9], Reply::Array(Some(a)) if a.is_empty());
                if !no_subcommands {
                    fields[9] = Reply::Simple("(subcommands: compared one by one)".into());
                }
                Reply::Array(Some(fields))
            }
            other => other,
        },
        other => other,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn command_info_matches_redis_for_every_command() {
    compare_command_info(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn command_info_matches_redis_for_every_command_in_resp3() {
    compare_command_info(true).await;
}

async fn compare_command_info(resp3: bool) {
    let mut pair = Pair::start().await;
    if resp3 {
        pair.script("resp3").await;
    }
    let names = text_items(&pair.to_cachet.cmd(&["COMMAND", "LIST"]).await);
    assert!(names.len() > 100, "COMMAND LIST: {:?}", names);
    let mut compared = 0;
    for name in &names {
        if CACHET_ONLY.contains(&name.as_str()) {
            continue;
        }
        let (from_redis, from_cachet) = pair.both(&["COMMAND", "INFO", name]).await;
        assert_eq!(
            info_without_subcommands(from_cachet),
            info_without_subcommands(from_redis),
            "COMMAND INFO {}",
            name
        );
        compared += 1;
    }
    assert!(compared > 100);
    pair.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn command_getkeys_and_flags_match_redis() {
    let mut pair = Pair::start().await;
    pair.script(
        r#"
        COMMAND GETKEYSANDFLAGS set k1 v1
        COMMAND GETKEYSANDFLAGS set k1 v1 get
        COMMAND GETKEYSANDFLAGS mset k1 v1 k2 v2
        COMMAND GETKEYSANDFLAGS lmove k1 k2 left right
        COMMAND GETKEYSANDFLAGS del a b c
        COMMAND GETKEYSANDFLAGS rename a b
        COMMAND GETKEYS lmpop 2 a b left
        COMMAND GETKEYS lmpop 0 a left
        COMMAND GETKEYS lmpop 3 a b left
        COMMAND GETKEYS blmpop 0 2 a b left
        COMMAND GETKEYS blpop a b c 0
        COMMAND GETKEYS get
        COMMAND GETKEYS ping
        COMMAND GETKEYS nosuchcommand a
        COMMAND GETKEYS memory usage key
        COMMAND GETKEYS object encoding key
        COMMAND GETKEYS lcs a b
        "#,
    )
    .await;
    pair.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn command_docs_match_redis_for_every_command() {
    let mut pair = Pair::start().await;
    let names = text_items(&pair.to_cachet.cmd(&["COMMAND", "LIST"]).await);
    for name in names.iter().filter(|n| !CACHET_ONLY.contains(&n.as_str())) {
        let (from_redis, from_cachet) = pair.both(&["COMMAND", "DOCS", name]).await;
        assert_eq!(
            docs_fields(from_cachet),
            docs_fields(from_redis),
            "COMMAND DOCS {}",
            name
        );
    }
    pair.stop().await;
}

/// COMMAND DOCS for one command, field by field, without the subcommands
/// (cachet has fewer of some containers'; each one it has is compared).
fn docs_fields(reply: Reply) -> Vec<(String, Reply)> {
    let Reply::Array(Some(items)) = reply else {
        panic!("COMMAND DOCS reply: {:?}", reply);
    };
    let Some(Reply::Array(Some(fields))) = items.get(1) else {
        return Vec::new();
    };
    let mut kept = Vec::new();
    for pair in fields.chunks(2) {
        let field = pair[0].text();
        match field.as_str() {
            "subcommands" => {}
            _ => kept.push((field, pair[1].clone())),
        }
    }
    kept
}

// ---- hashes --------------------------------------------------------------------

const HASH_SCRIPT: &str = r#"
HSET h f1 v1 f2 v2
HSET h f1 v1b
HGET h f1
HGET h nofield
HGET nokey f
HMGET h f1 f2 nofield
HMGET nokey a b
HLEN h
HLEN nokey
HSTRLEN h f1
HSTRLEN h nofield
HEXISTS h f1
HEXISTS h nope
sorted: HKEYS h
sorted: HVALS h
sorted: HGETALL h
HKEYS nokey
HGETALL nokey
HSETNX h f1 x
HSETNX h f3 x
HDEL h f1 nope
HDEL h nope
HDEL nokey f
HSET h
HSET h f
HSET h f v extra
HMSET h f v extra
HMSET h f v
HINCRBY h n 5
HINCRBY h n -10
HINCRBY h n notanumber
HINCRBY h n 1.5
HSET h s abc
HINCRBY h s 1
HSET h big 9223372036854775800
HINCRBY h big 7
HINCRBY h big 1
HINCRBY h neg -9223372036854775808
HINCRBY h neg -1
HINCRBYFLOAT h fl 0.1
HINCRBYFLOAT h fl 0.2
HINCRBYFLOAT h fl inf
HINCRBYFLOAT h fl -inf
HINCRBYFLOAT h fl nan
HINCRBYFLOAT h fl abc
HINCRBYFLOAT h s 1
HINCRBYFLOAT h fl 1e300
HINCRBYFLOAT h fl -1e300
HINCRBYFLOAT newhash f 2.5e3
HGET h fl
SET str x
HSET str f v
HGET str f
HGETALL str
HLEN str
HRANDFIELD str
HRANDFIELD nokey
HRANDFIELD nokey 5
HRANDFIELD nokey 5 withvalues
HRANDFIELD h 0
HRANDFIELD h 0 withvalues
shape: HRANDFIELD h
shape: HRANDFIELD h -5
shape: HRANDFIELD h -5 withvalues
shape: HRANDFIELD h 3
shape: HRANDFIELD h 3 withvalues
sorted: HRANDFIELD h 100
sorted: HRANDFIELD h 100 withvalues
HRANDFIELD h 1 withvalue
HRANDFIELD h 1 withvalues extra
HRANDFIELD h -9223372036854775808
HRANDFIELD h 9223372036854775807 withvalues
HRANDFIELD h notanumber
sorted: HSCAN h 0
sorted: HSCAN h 0 MATCH f*
HSCAN h 0 COUNT 0
HSCAN h abc
HSCAN h 0 NOVALUES
HSCAN nokey 0
TYPE h
OBJECT ENCODING h
HSET long f 0123456789012345678901234567890123456789012345678901234567890123456789
OBJECT ENCODING long
HDEL long f
EXISTS long
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hashes_match_redis() {
    let mut pair = Pair::start().await;
    pair.script(HASH_SCRIPT).await;
    pair.script("resp3").await;
    pair.script(
        r#"
        sorted: HGETALL h
        HGETALL nokey
        shape: HRANDFIELD h -3 withvalues
        shape: HRANDFIELD h 2 withvalues
        sorted: HSCAN h 0
        "#,
    )
    .await;
    pair.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_hashes_convert_and_scan_like_redis() {
    let mut pair = Pair::start().await;
    let mut script = String::new();
    for i in 0..600 {
        script.push_str(&format!("HSET big field:{i} value:{i}\n"));
        if i == 511 || i == 512 {
            script.push_str("OBJECT ENCODING big\n");
        }
    }
    script.push_str(
        "HLEN big\nHGET big field:150\nsorted: HKEYS big\nHDEL big field:0 field:1\nHLEN big\n",
    );
    pair.script(&script).await;
    // A full HSCAN returns every field exactly once on both.
    let fields = full_scan(&mut pair.to_cachet, &["HSCAN", "big"], 2).await;
    assert_eq!(fields.len(), 598);
    pair.stop().await;
}

/// Runs a SCAN-family command from cursor 0 to the end and returns the
/// members seen (the first of each `per_member` items), checking none repeats.
async fn full_scan(conn: &mut RawConn, command: &[&str], per_member: usize) -> Vec<String> {
    let mut seen = std::collections::BTreeSet::new();
    let mut cursor = "0".to_string();
    for _ in 0..10_000 {
        let mut args: Vec<&str> = command.to_vec();
        args.insert(2, &cursor);
        let Reply::Array(Some(parts)) = conn.cmd(&args).await else {
            panic!("bad scan reply");
        };
        cursor = parts[0].text();
        for chunk in text_items(&parts[1]).chunks(per_member) {
            assert!(seen.insert(chunk[0].clone()), "{} returned twice", chunk[0]);
        }
        if cursor == "0" {
            return seen.into_iter().collect();
        }
    }
    panic!("scan did not finish");
}

// ---- lists ---------------------------------------------------------------------

const LIST_SCRIPT: &str = r#"
RPUSH l a b c
LPUSH l z y
LRANGE l 0 -1
LLEN l
LLEN nokey
LINDEX l 0
LINDEX l -1
LINDEX l 100
LINDEX l notanumber
LPUSHX nokey a
RPUSHX nokey a
LPUSHX l x1 x2
RPUSHX l x3
LRANGE l 0 -1
LRANGE l -3 -2
LRANGE l 5 2
LRANGE l -100 100
LRANGE l 100 200
LRANGE nokey 0 -1
LRANGE l a b
LPOP l
RPOP l
LPOP l 2
RPOP l 0
LPOP l -1
LPOP l notanumber
LPOP nokey
LPOP nokey 2
LPOP nokey 0
LPOP l 1 2
RPOP l 100
EXISTS l
RPUSH l a b c a b c a
LPOS l a
LPOS l a RANK 2
LPOS l a RANK -1
LPOS l a RANK -2 COUNT 2
LPOS l a COUNT 0
LPOS l a COUNT 0 MAXLEN 3
LPOS l a RANK 0
LPOS l a COUNT -1
LPOS l a MAXLEN -1
LPOS l nothere
LPOS l nothere COUNT 0
LPOS nokey a
LPOS nokey a COUNT 1
LPOS l a RANK
LPOS l a BOGUS 1
LPOS l a RANK -9223372036854775808
LSET l 0 first
LSET l -1 last
LSET l 100 x
LSET nokey 0 x
LRANGE l 0 -1
LINSERT l BEFORE b newb
LINSERT l AFTER last end
LINSERT l AFTER nothere x
LINSERT l MIDDLE b x
LINSERT nokey BEFORE a b
LRANGE l 0 -1
LREM l 1 a
LREM l -1 c
LREM l 0 b
LREM l 0 nothere
LREM nokey 0 a
LRANGE l 0 -1
LTRIM l 1 -2
LRANGE l 0 -1
LTRIM l 5 1
EXISTS l
LTRIM nokey 0 1
RPUSH src 1 2 3
LMOVE src dst LEFT RIGHT
LMOVE src dst RIGHT LEFT
LMOVE src dst UP DOWN
LRANGE dst 0 -1
RPOPLPUSH src dst
RPOPLPUSH src dst
EXISTS src
LRANGE dst 0 -1
LMOVE dst dst LEFT RIGHT
LRANGE dst 0 -1
LMOVE nokey dst LEFT LEFT
SET str x
LPUSH str a
LRANGE str 0 1
LMOVE dst str LEFT LEFT
LMOVE str dst LEFT LEFT
LRANGE dst 0 -1
RPUSH m1 a b c
RPUSH m2 d
LMPOP 2 nokey m1 LEFT
LMPOP 2 nokey m1 RIGHT COUNT 10
LMPOP 2 m1 m2 LEFT COUNT 2
LMPOP 1 nokey LEFT
LMPOP 0 m2 LEFT
LMPOP -1 m2 LEFT
LMPOP 2 m2 LEFT
LMPOP 1 m2 MIDDLE
LMPOP 1 m2 LEFT COUNT 0
LMPOP 1 m2 LEFT COUNT 1 COUNT 2
LMPOP 1 m2 LEFT COUNT
LMPOP 1 str LEFT
BLPOP nokey 0.01
BRPOP nokey other 0.01
BLPOP nokey -1
BLPOP nokey abc
BLMOVE nokey dst LEFT LEFT 0.01
BRPOPLPUSH nokey dst 0.01
BLMPOP 0.01 1 nokey LEFT
RPUSH b1 x y
BLPOP nokey b1 0
BRPOP b1 0
BLPOP b1 0.01
TYPE dst
OBJECT ENCODING dst
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lists_match_redis() {
    let mut pair = Pair::start().await;
    pair.script(LIST_SCRIPT).await;
    pair.script("resp3").await;
    pair.script(
        r#"
        RPUSH r3 a b
        LPOP nokey 2
        BLPOP nokey 0.01
        LMPOP 1 nokey LEFT
        LMPOP 1 r3 LEFT COUNT 5
        LRANGE r3 0 -1
        "#,
    )
    .await;
    pair.stop().await;
}

// ---- sets ----------------------------------------------------------------------

const SET_SCRIPT: &str = r#"
SADD ints 3 1 2 1
SMEMBERS ints
OBJECT ENCODING ints
SADD ints -5 0 9223372036854775807 -9223372036854775808
SMEMBERS ints
SADD ints 01
OBJECT ENCODING ints
sorted: SMEMBERS ints
SADD words apple banana cherry
OBJECT ENCODING words
SCARD words
SCARD nokey
SISMEMBER words apple
SISMEMBER words nope
SISMEMBER nokey a
SMISMEMBER words apple nope banana
SMISMEMBER nokey a b
SREM words apple nope
SREM words nope
SREM nokey a
sorted: SMEMBERS words
SMEMBERS nokey
SADD a 1 2 3 4
SADD b 3 4 5
SADD c 4 5 6
SINTER a b
SINTER a b c
SINTER a nokey
SINTER nokey a
SUNION a b c
SUNION a nokey
SDIFF a b
SDIFF a b c
SDIFF a a
SDIFF a nokey
SDIFF nokey a
SINTERSTORE dst a b
SMEMBERS dst
SINTERSTORE dst a nokey
EXISTS dst
SUNIONSTORE dst a b c
SMEMBERS dst
OBJECT ENCODING dst
SDIFFSTORE dst a b
SMEMBERS dst
SDIFFSTORE dst a a
EXISTS dst
SINTERCARD 2 a b
SINTERCARD 3 a b c
SINTERCARD 2 a b LIMIT 1
SINTERCARD 2 a b LIMIT 0
SINTERCARD 2 a b LIMIT -1
SINTERCARD 0 a b
SINTERCARD 3 a b
SINTERCARD notanumber a
SINTERCARD 1 a LIMIT
SINTERCARD 1 a BOGUS 1
SINTERCARD 1 nokey
SMOVE a b 1
SMEMBERS a
SMEMBERS b
SMOVE a b nothere
SMOVE nokey b 1
SMOVE a a 2
SMOVE a a nothere
SMOVE a newset 2
SMEMBERS newset
SET str x
SMOVE nokey str 1
SMOVE a str 3
SMOVE str a 3
SADD str a
SMEMBERS str
SINTER a str
SUNION a str
SDIFF str a
SCARD str
SADD single only
SPOP single
EXISTS single
SPOP nokey
SPOP nokey 3
SPOP a 0
SPOP a -1
SPOP a notanumber
SPOP a 1 2
SADD popme 1 2 3
sorted: SPOP popme 10
EXISTS popme
SRANDMEMBER nokey
SRANDMEMBER nokey 5
SRANDMEMBER a 0
SRANDMEMBER a -9223372036854775808
SRANDMEMBER a 1 2
shape: SRANDMEMBER a
shape: SRANDMEMBER a -10
shape: SRANDMEMBER a 2
SRANDMEMBER a 100
sorted: SSCAN ints 0
sorted: SSCAN ints 0 MATCH 1*
SSCAN ints 0 COUNT 0
SSCAN nokey 0
sorted: SSCAN words 0
TYPE a
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sets_match_redis() {
    let mut pair = Pair::start().await;
    pair.script(SET_SCRIPT).await;
    pair.script("resp3").await;
    pair.script(
        r#"
        sorted: SMEMBERS ints
        SMEMBERS nokey
        SINTER a b
        SUNION a b
        SDIFF a b
        SPOP nokey 2
        SADD p3 1 2
        SPOP p3 5
        SRANDMEMBER a 100
        "#,
    )
    .await;
    pair.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_sets_convert_like_redis() {
    let mut pair = Pair::start().await;
    let mut script = String::new();
    for i in 0..520 {
        script.push_str(&format!("SADD big {i}\n"));
        if i == 511 || i == 512 {
            script.push_str("OBJECT ENCODING big\n");
        }
    }
    script.push_str("SCARD big\nSISMEMBER big 300\nsorted: SMEMBERS big\n");
    for i in 0..300 {
        script.push_str(&format!("SADD words w{i}\n"));
    }
    script.push_str("SINTERCARD 2 big words\nSADD words 5 6\nsorted: SINTER big words\n");
    pair.script(&script).await;
    let members = full_scan(&mut pair.to_cachet, &["SSCAN", "words"], 1).await;
    assert_eq!(members.len(), 302);
    pair.stop().await;
}

// ---- sorted sets ---------------------------------------------------------------

const ZSET_SCRIPT: &str = r#"
ZADD z 1 a 2 b 3 c
ZADD z 1.5 ab 2.5 bc -1 neg
ZRANGE z 0 -1
ZRANGE z 0 -1 WITHSCORES
ZRANGE z -2 -1 WITHSCORES
ZRANGE z 5 1
ZRANGE z 0 100 REV
ZRANGE z 0 1 LIMIT 0 1
ZRANGE z 1 2 BYSCORE
ZRANGE z (1 2 BYSCORE WITHSCORES
ZRANGE z -inf +inf BYSCORE LIMIT 1 2
ZRANGE z -inf +inf BYSCORE LIMIT -1 2
ZRANGE z -inf +inf BYSCORE LIMIT 1 -1
ZRANGE z -inf +inf BYSCORE LIMIT 10 1
ZRANGE z 3 1 BYSCORE REV WITHSCORES
ZRANGE z (3 (1 BYSCORE REV
ZRANGE z 2 1 BYSCORE
ZRANGE z x 1 BYSCORE
ZRANGE z 1 2 BYSCORE BYLEX
ZRANGE z - + BYLEX
ZRANGE z - + BYLEX WITHSCORES
ZRANGE z 0 -1 REV REV
ZRANGE z 0 -1 BOGUS
ZRANGE nokey 0 -1
ZREVRANGE z 0 2 WITHSCORES
ZREVRANGE z 0 2 REV
ZREVRANGE z 0 2 LIMIT 0 1
ZRANGEBYSCORE z -inf 2 WITHSCORES
ZRANGEBYSCORE z (-1 (2.5
ZRANGEBYSCORE z 1 2 LIMIT 0 1 WITHSCORES
ZRANGEBYSCORE z "" 2
ZRANGEBYSCORE z ( 2
ZRANGEBYSCORE z nan 2
ZRANGEBYSCORE z 1e400 +inf
ZRANGEBYSCORE z 1 2 BYSCORE
ZREVRANGEBYSCORE z 2 1 WITHSCORES
ZREVRANGEBYSCORE z +inf -inf LIMIT 2 2
ZCOUNT z -inf +inf
ZCOUNT z (1 3
ZCOUNT z 3 1
ZCOUNT z x 1
ZCOUNT nokey 0 1
ZCARD z
ZCARD nokey
ZSCORE z ab
ZSCORE z nope
ZSCORE nokey a
ZMSCORE z a nope bc
ZMSCORE nokey a b
ZRANK z a
ZRANK z neg
ZRANK z nope
ZREVRANK z a
ZREVRANK nokey a
ZADD z NX 10 a 10 new
ZADD z XX 20 a 20 nothere
ZADD z XX CH 21 a
ZADD z GT 5 a
ZADD z GT CH 30 a
ZADD z LT 40 a
ZADD z LT CH 25 a 7 fresh
ZADD z NX XX 1 a
ZADD z GT LT 1 a
ZADD z NX GT 1 a
ZADD z INCR 1 a 2 b
ZADD z INCR 5 a
ZADD z INCR NX 5 a
ZADD z INCR XX 5 nothere
ZADD z INCR GT -100 a
ZADD z 1
ZADD z
ZADD z abc a
ZADD z nan a
ZADD z inf big -inf small
ZINCRBY z 1 a
ZINCRBY z -inf big
ZINCRBY z abc a
ZINCRBY z 0 a
ZRANGE z 0 -1 WITHSCORES
ZADD nokey2 XX 1 a
EXISTS nokey2
ZADD nokey3 XX INCR 1 a
ZREM z a nope
ZREM z nope
ZREM nokey a
ZADD lex 0 a 0 b 0 c 0 d 0 e 0 f
ZRANGEBYLEX lex - +
ZRANGEBYLEX lex [b (e
ZRANGEBYLEX lex (b [e LIMIT 1 2
ZRANGEBYLEX lex + -
ZRANGEBYLEX lex b c
ZRANGEBYLEX lex [b
ZRANGEBYLEX lex - +x
ZREVRANGEBYLEX lex + -
ZREVRANGEBYLEX lex [e (b
ZREVRANGEBYLEX lex + - LIMIT 0 2
ZLEXCOUNT lex - +
ZLEXCOUNT lex [b [d
ZLEXCOUNT lex (a (b
ZLEXCOUNT lex x y
ZRANGE lex [c + BYLEX LIMIT 0 2
ZRANGE lex + [c BYLEX REV
ZREMRANGEBYLEX lex [e +
ZREMRANGEBYLEX lex - (b
ZRANGE lex 0 -1
ZREMRANGEBYLEX lex x y
ZREMRANGEBYLEX nokey - +
ZADD r 1 a 2 b 3 c 4 d 5 e
ZREMRANGEBYRANK r 0 0
ZREMRANGEBYRANK r -1 -1
ZREMRANGEBYRANK r 5 10
ZREMRANGEBYRANK r x 1
ZRANGE r 0 -1
ZREMRANGEBYSCORE r (2 3
ZREMRANGEBYSCORE r 10 20
ZREMRANGEBYSCORE r x 1
ZRANGE r 0 -1 WITHSCORES
ZREMRANGEBYSCORE r -inf +inf
EXISTS r
ZADD p 1 a 2 b 3 c 4 d
ZPOPMIN p
ZPOPMAX p
ZPOPMIN p 0
ZPOPMIN p -1
ZPOPMIN p 1 2
ZPOPMAX p 10
EXISTS p
ZPOPMIN nokey
ZPOPMIN nokey 2
ZADD p 1 a 2 b 3 c
ZMPOP 2 nokey p MIN
ZMPOP 1 p MAX COUNT 10
ZMPOP 1 p MIN
ZMPOP 0 p MIN
ZMPOP 1 p MIDDLE
ZMPOP 1 p MIN COUNT 0
ZMPOP 1 p MIN COUNT 1 COUNT 1
ZMPOP 3 p MIN
BZPOPMIN nokey 0.01
BZPOPMAX nokey other 0.01
BZPOPMIN nokey -1
BZMPOP 0.01 1 nokey MIN
BZMPOP 0.01 0 nokey MIN
ZADD bp 1 a 2 b 3 c 4 d
BZPOPMIN nokey bp 0
BZPOPMAX bp 0
BZMPOP 0 1 bp MIN COUNT 5
SET str x
ZADD str 1 a
ZRANGE str 0 -1
ZSCORE str a
ZCARD str
BZPOPMIN str 0
ZMPOP 1 str MIN
ZRANDMEMBER nokey
ZRANDMEMBER nokey 5
ZADD rm 1 a 2 b 3 c
ZRANDMEMBER rm 0
ZRANDMEMBER rm 10
ZRANDMEMBER rm 10 WITHSCORES
shape: ZRANDMEMBER rm
shape: ZRANDMEMBER rm -5 WITHSCORES
shape: ZRANDMEMBER rm 2
ZRANDMEMBER rm 1 WITHSCORE
ZRANDMEMBER rm -9223372036854775808
ZRANDMEMBER rm -9223372036854770000 WITHSCORES
ZADD u1 1 a 2 b 3 c
ZADD u2 10 b 20 c 30 d
SADD s1 a d x
ZUNION 2 u1 u2
ZUNION 2 u1 u2 WITHSCORES
ZUNION 2 u1 u2 WEIGHTS 2 3 WITHSCORES
ZUNION 2 u1 u2 AGGREGATE MIN WITHSCORES
ZUNION 2 u1 u2 AGGREGATE MAX WITHSCORES
ZUNION 3 u1 u2 s1 WITHSCORES
ZUNION 2 u1 nokey WITHSCORES
ZINTER 2 u1 u2 WITHSCORES
ZINTER 2 u1 u2 WEIGHTS 1 -1 WITHSCORES
ZINTER 3 u1 u2 s1 WITHSCORES
ZINTER 2 u1 nokey
ZDIFF 2 u1 u2 WITHSCORES
ZDIFF 2 u2 u1
ZDIFF 2 u1 nokey WITHSCORES
ZDIFF 2 u1 u1
ZDIFF 2 u1 u2 WEIGHTS 1 2
ZINTERCARD 2 u1 u2
ZINTERCARD 2 u1 u2 LIMIT 1
ZINTERCARD 2 u1 u2 LIMIT -1
ZINTERCARD 0 u1
ZINTERCARD 3 u1 u2
ZINTERCARD 2 u1 u2 WITHSCORES
ZUNION 0 u1
ZUNION -1 u1
ZUNION x u1
ZUNION 3 u1 u2
ZUNION 2 u1 u2 WEIGHTS 1
ZUNION 2 u1 u2 WEIGHTS 1 x
ZUNION 2 u1 u2 AGGREGATE avg
ZUNION 2 u1 str
ZUNIONSTORE dst 2 u1 u2
ZRANGE dst 0 -1 WITHSCORES
OBJECT ENCODING dst
ZUNIONSTORE dst 2 u1 u2 WITHSCORES
ZINTERSTORE dst 2 u1 u2 AGGREGATE MAX
ZRANGE dst 0 -1 WITHSCORES
ZDIFFSTORE dst 2 u1 u2
ZRANGE dst 0 -1 WITHSCORES
ZINTERSTORE dst 2 u1 nokey
EXISTS dst
ZUNIONSTORE dst 0 u1
ZADD inf 1 a
ZUNION 2 inf inf WEIGHTS inf -inf WITHSCORES
ZADD infs +inf a -inf b
ZUNION 2 infs infs WEIGHTS 1 -1 WITHSCORES
ZINTER 1 infs WEIGHTS 0 WITHSCORES
ZRANGESTORE dst u2 0 1
ZRANGE dst 0 -1 WITHSCORES
ZRANGESTORE dst u2 (10 +inf BYSCORE LIMIT 0 1
ZRANGE dst 0 -1 WITHSCORES
ZRANGESTORE dst u2 0 -1 WITHSCORES
ZRANGESTORE dst nokey 0 -1
EXISTS dst
ZRANGESTORE dst u2 5 10
ZSCAN u1 0
ZSCAN u1 0 MATCH a*
ZSCAN u2 0 COUNT 0
ZSCAN nokey 0
ZADD zf 1.5 a 1e18 b -0 c 1e300 d
ZSCAN zf 0
ZRANGE zf 0 -1 WITHSCORES
ZSCORE zf b
ZSCORE zf d
TYPE u1
OBJECT ENCODING u1
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sorted_sets_match_redis() {
    let mut pair = Pair::start().await;
    pair.script(ZSET_SCRIPT).await;
    pair.script("resp3").await;
    pair.script(
        r#"
        ZRANGE u1 0 -1 WITHSCORES
        ZRANGE u1 0 -1
        ZSCORE u1 a
        ZMSCORE u1 a nope
        ZADD r3 1 a 2 b 3 c 4 d
        ZPOPMIN r3
        ZPOPMIN r3 2
        ZPOPMAX r3 0
        ZMPOP 1 r3 MAX COUNT 3
        ZUNION 2 u1 u2 WITHSCORES
        ZINCRBY u1 1 a
        ZADD u1 INCR 1 a
        ZRANDMEMBER u1 10 WITHSCORES
        shape: ZRANDMEMBER u1 -3 WITHSCORES
        ZADD bp3 1 x
        BZPOPMIN bp3 0
        BZMPOP 0 1 u2 MAX
        "#,
    )
    .await;
    pair.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_sorted_sets_match_redis() {
    let mut pair = Pair::start().await;
    let mut script = String::new();
    for i in 0..300 {
        script.push_str(&format!("ZADD big {} m{:03}\n", (i * 37) % 101, i));
        if i == 127 || i == 128 {
            script.push_str("OBJECT ENCODING big\n");
        }
    }
    script.push_str(
        "ZCARD big\nZRANGE big 0 9 WITHSCORES\nZRANGE big -10 -1 WITHSCORES\n\
         ZRANGE big 100 110 REV WITHSCORES\nZRANK big m150\nZREVRANK big m150\n\
         ZRANGEBYSCORE big 50 52 WITHSCORES\nZREVRANGEBYSCORE big 52 (50 LIMIT 1 3\n\
         ZCOUNT big 10 20\nZCOUNT big (10 (20\nZREMRANGEBYSCORE big 90 +inf\nZCARD big\n\
         ZREMRANGEBYRANK big 0 9\nZRANGE big 0 4 WITHSCORES\nZPOPMAX big 3\nZPOPMIN big 3\n\
         ZMPOP 1 big MIN COUNT 2\nZRANGESTORE small big 0 9\nOBJECT ENCODING small\n\
         ZUNIONSTORE u 2 big small WEIGHTS 1 2\nZRANGE u 0 -1 WITHSCORES\nOBJECT ENCODING u\n\
         ZINTERSTORE i 2 big small\nOBJECT ENCODING i\nZRANGE i 0 -1 WITHSCORES\n",
    );
    for i in 0..200 {
        script.push_str(&format!("ZADD lexbig 0 w{:04}\n", i * 7));
    }
    script.push_str(
        "ZRANGEBYLEX lexbig [w0100 (w0300\nZLEXCOUNT lexbig - +\nZLEXCOUNT lexbig (w0007 [w0700\n\
         ZREVRANGEBYLEX lexbig + - LIMIT 5 5\nZREMRANGEBYLEX lexbig [w0500 +\nZCARD lexbig\n",
    );
    pair.script(&script).await;
    let members = full_scan(&mut pair.to_cachet, &["ZSCAN", "lexbig"], 2).await;
    assert_eq!(members.len(), 72);
    pair.stop().await;
}

// ---- DUMP / RESTORE -------------------------------------------------------------

/// Keys of every type and encoding, made with the same commands on a server.
const DUMP_FIXTURE: &str = r#"
SET small 12
SET neg -40000
SET big 123456789012345
SET text "hello world"
SET repeated "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
SET empty ""
RPUSH list a b 1 -2 300 70000 5000000000 "an element"
SADD ints16 1 2 3
SADD ints32 1 100000
SADD ints64 1 10000000000
SADD words a b c
HSET hsmall f1 v1 f2 2 f3 -100000 f4 "a longer value here"
ZADD zsmall 1 a 2.5 b -3 c 1e18 d
HSET hbig f0 "012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789"
ZADD zbig 1 "012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789" 2 other
"#;

/// What each fixture key holds, read back with ordinary commands.
const DUMP_READBACK: &str = r#"
GET small
GET neg
GET big
GET text
GET repeated
GET empty
LRANGE list 0 -1
sorted: SMEMBERS ints16
sorted: SMEMBERS ints32
sorted: SMEMBERS ints64
sorted: SMEMBERS words
sorted: HGETALL hsmall
ZRANGE zsmall 0 -1 WITHSCORES
sorted: HGETALL hbig
ZRANGE zbig 0 -1 WITHSCORES
OBJECT ENCODING ints16
OBJECT ENCODING hsmall
OBJECT ENCODING zbig
"#;

const DUMP_KEYS: &[&str] = &[
    "small", "neg", "big", "text", "repeated", "empty", "list", "ints16", "ints32", "ints64",
    "words", "hsmall", "zsmall", "hbig", "zbig",
];

async fn run_on(conn: &mut RawConn, script: &str) {
    for line in script.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let args = split_args(line);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let reply = conn.cmd(&args).await;
        assert!(!matches!(reply, Reply::Error(_)), "{}: {:?}", line, reply);
    }
}

/// DUMPs every fixture key from `from` and RESTOREs it under the same name on `to`.
async fn copy_by_dump(from: &mut RawConn, to: &mut RawConn) {
    for key in DUMP_KEYS {
        let Reply::Bulk(Some(payload)) = from.cmd(&["DUMP", key]).await else {
            panic!("DUMP {} gave no payload", key);
        };
        let mut request = vec![
            b"RESTORE".to_vec(),
            key.as_bytes().to_vec(),
            b"0".to_vec(),
            payload,
        ];
        request.push(b"REPLACE".to_vec());
        to.send(&common::encode_command(&request)).await;
        assert_eq!(to.read_reply().await, Reply::ok(), "RESTORE {}", key);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_dumps_restore_into_cachet_unchanged() {
    let mut pair = Pair::start().await;
    run_on(&mut pair.to_redis, DUMP_FIXTURE).await;
    copy_by_dump(&mut pair.to_redis, &mut pair.to_cachet).await;
    pair.script(DUMP_READBACK).await;
    pair.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cachet_dumps_restore_into_redis_unchanged() {
    let mut pair = Pair::start().await;
    run_on(&mut pair.to_cachet, DUMP_FIXTURE).await;
    copy_by_dump(&mut pair.to_cachet, &mut pair.to_redis).await;
    pair.script(DUMP_READBACK).await;
    pair.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restore_errors_match_redis() {
    let mut pair = Pair::start().await;
    pair.script(
        r#"
        SET k v
        DUMP nokey
        RESTORE k 0 x
        RESTORE k2 0 x
        RESTORE k2 -1 x
        RESTORE k2 abc x
        RESTORE k2 0 x BOGUS
        RESTORE k2 0 x IDLETIME -1
        RESTORE k2 0 x FREQ 256
        RESTORE k2 0 x IDLETIME 1 FREQ 1
        "#,
    )
    .await;
    // A payload with a good footer and a broken body is bad data on both.
    let Reply::Bulk(Some(mut payload)) = pair.to_redis.cmd(&["DUMP", "k"]).await else {
        panic!("no payload");
    };
    payload[1] = 0x3f;
    let body = payload.len() - 8;
    let crc = crc64_for_test(&payload[..body]);
    payload[body..].copy_from_slice(&crc.to_le_bytes());
    let request = common::encode_command(&[&b"RESTORE"[..], b"bad", b"0", &payload]);
    pair.to_redis.send(&request).await;
    pair.to_cachet.send(&request).await;
    let (from_redis, from_cachet) = (
        pair.to_redis.read_reply().await,
        pair.to_cachet.read_reply().await,
    );
    assert_eq!(from_cachet, from_redis);
    // A TTL in the past, absolute: OK, and no key.
    let Reply::Bulk(Some(good)) = pair.to_redis.cmd(&["DUMP", "k"]).await else {
        panic!("no payload");
    };
    let request = common::encode_command(&[&b"RESTORE"[..], b"gone", b"1000", &good, b"ABSTTL"]);
    pair.to_redis.send(&request).await;
    pair.to_cachet.send(&request).await;
    assert_eq!(
        pair.to_redis.read_reply().await,
        pair.to_cachet.read_reply().await
    );
    pair.script("EXISTS gone\n").await;
    pair.stop().await;
}

/// CRC-64 (Jones, reflected), computed bit by bit so the test does not
/// share cachet's table-driven code.
fn crc64_for_test(bytes: &[u8]) -> u64 {
    let mut crc = 0u64;
    for &b in bytes {
        crc ^= u64::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0x95ac_9329_ac4b_c9b5
            } else {
                crc >> 1
            };
        }
    }
    crc
}
