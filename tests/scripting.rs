//! EVAL, EVALSHA, EVAL_RO and SCRIPT through the `redis` crate: the
//! scripts applications run (a lock, a rate limiter, a queue move), Redis's
//! conversions, errors and sandbox, and atomicity against another client.

mod common;

use common::{query, query_err, TestServer};
use redis::Value;

const RELEASE_LOCK: &str = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end";
const EXTEND_LOCK: &str = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lock_acquire_extend_release() {
    let server = TestServer::start().await;
    let mut con = server.conn().await;
    let acquired: Option<String> =
        query(&mut con, &["SET", "lock", "me", "NX", "PX", "10000"]).await;
    assert_eq!(acquired.as_deref(), Some("OK"));
    let other: Option<String> = query(&mut con, &["SET", "lock", "you", "NX", "PX", "10000"]).await;
    assert_eq!(other, None);

    let release_sha: String = query(&mut con, &["SCRIPT", "LOAD", RELEASE_LOCK]).await;
    let extended: i64 = query(&mut con, &["EVAL", EXTEND_LOCK, "1", "lock", "me", "60000"]).await;
    assert_eq!(extended, 1);
    let ttl: i64 = query(&mut con, &["PTTL", "lock"]).await;
    assert!(ttl > 50_000, "{}", ttl);
    // Someone else's token releases nothing.
    let released: i64 = query(&mut con, &["EVALSHA", &release_sha, "1", "lock", "you"]).await;
    assert_eq!(released, 0);
    let released: i64 = query(&mut con, &["EVALSHA", &release_sha, "1", "lock", "me"]).await;
    assert_eq!(released, 1);
    let exists: i64 = query(&mut con, &["EXISTS", "lock"]).await;
    assert_eq!(exists, 0);

    // The redis crate's Script runs EVALSHA and falls back to EVAL.
    let script = redis::Script::new(RELEASE_LOCK);
    let _: () = query(&mut con, &["SCRIPT", "FLUSH"]).await;
    let released: i64 = script
        .key("lock")
        .arg("me")
        .invoke_async(&mut con)
        .await
        .expect("Script::invoke");
    assert_eq!(released, 0);
    server.stop().await;
}

/// A token bucket as rate limiters write it: refill by elapsed time, take
/// one token if there is one.
const TOKEN_BUCKET: &str = r#"
local capacity = tonumber(ARGV[1])
local refill_per_ms = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1]) or capacity
local at = tonumber(state[2]) or now
tokens = math.min(capacity, tokens + (now - at) * refill_per_ms)
local allowed = 0
if tokens >= 1 then
    tokens = tokens - 1
    allowed = 1
end
redis.call('HSET', KEYS[1], 'tokens', tokens, 'at', now)
redis.call('PEXPIRE', KEYS[1], 60000)
return { allowed, math.floor(tokens) }
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_bucket_rate_limiter() {
    let server = TestServer::start().await;
    let mut con = server.conn().await;
    let mut allowed = 0;
    for _ in 0..8 {
        let (ok, _left): (i64, i64) = query(
            &mut con,
            &[
                "EVAL",
                TOKEN_BUCKET,
                "1",
                "bucket:user1",
                "5",
                "0.001",
                "1000",
            ],
        )
        .await;
        allowed += ok;
    }
    // Five tokens at the same instant: five allowed, three refused.
    assert_eq!(allowed, 5);
    // 2 seconds later at 1 token per second: two more.
    let (ok, left): (i64, i64) = query(
        &mut con,
        &[
            "EVAL",
            TOKEN_BUCKET,
            "1",
            "bucket:user1",
            "5",
            "0.001",
            "3000",
        ],
    )
    .await;
    assert_eq!((ok, left), (1, 1));
    let tokens: String = query(&mut con, &["HGET", "bucket:user1", "tokens"]).await;
    assert_eq!(tokens, "1");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queue_move_is_atomic() {
    let server = TestServer::start().await;
    let mut con = server.conn().await;
    let _: i64 = query(&mut con, &["RPUSH", "jobs", "a", "b", "c"]).await;
    let script = "local job = redis.call('LPOP', KEYS[1]) if not job then return false end redis.call('ZADD', KEYS[2], ARGV[1], job) return job";
    let job: Option<String> =
        query(&mut con, &["EVAL", script, "2", "jobs", "running", "100"]).await;
    assert_eq!(job.as_deref(), Some("a"));
    let running: Vec<String> = query(&mut con, &["ZRANGE", "running", "0", "-1"]).await;
    assert_eq!(running, ["a"]);
    let _: Option<String> = query(&mut con, &["EVAL", script, "2", "jobs", "running", "101"]).await;
    let _: Option<String> = query(&mut con, &["EVAL", script, "2", "jobs", "running", "102"]).await;
    let none: Option<String> =
        query(&mut con, &["EVAL", script, "2", "jobs", "running", "103"]).await;
    assert_eq!(none, None);

    // Another client never sees half of a script.
    let _: () = query(&mut con, &["MSET", "x", "0", "y", "0"]).await;
    let mut reader = server.conn().await;
    let writer = tokio::spawn(async move {
        for _ in 0..200 {
            let _: Value = query(
                &mut con,
                &[
                    "EVAL",
                    "redis.call('INCR', 'x') redis.call('INCR', 'y') return 1",
                    "0",
                ],
            )
            .await;
        }
    });
    for _ in 0..200 {
        let (x, y): (i64, i64) = query(&mut reader, &["MGET", "x", "y"]).await;
        assert_eq!(x, y);
    }
    writer.await.expect("writer");
    server.stop().await;
}

/// A script takes the shards it touches as it goes: keys in many shards,
/// then commands that see the whole keyspace (KEYS, DBSIZE, SCAN) after
/// some shards are held, and a pipeline of scripts on one connection.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scripts_see_the_whole_keyspace() {
    let server = TestServer::start().await;
    let mut con = server.conn().await;
    let mut mset = vec!["MSET".to_string()];
    for i in 0..100 {
        mset.push(format!("k{i}"));
        mset.push(i.to_string());
    }
    let mset: Vec<&str> = mset.iter().map(String::as_str).collect();
    let _: () = query(&mut con, &mset).await;
    let script = r#"
local sum = 0
for i = 0, 99 do sum = sum + tonumber(redis.call('GET', 'k' .. i)) end
redis.call('SET', 'after', sum)
local keys = #redis.call('KEYS', '*')
local size = redis.call('DBSIZE')
local scanned = #redis.call('SCAN', '0', 'COUNT', '1000')[2]
redis.call('DEL', 'k7')
return {sum, keys, size, scanned, redis.call('DBSIZE')}
"#;
    let seen: Vec<i64> = query(&mut con, &["EVAL", script, "0"]).await;
    assert_eq!(seen, [4950, 101, 101, 101, 100]);
    let after: i64 = query(&mut con, &["GET", "after"]).await;
    assert_eq!(after, 4950);

    let sha: String = query(
        &mut con,
        &["SCRIPT", "LOAD", "return redis.call('INCR', KEYS[1])"],
    )
    .await;
    let mut pipe = redis::pipe();
    for _ in 0..50 {
        pipe.cmd("EVALSHA").arg(&sha).arg(1).arg("counter");
    }
    pipe.cmd("GET").arg("counter");
    let mut counts: Vec<i64> = pipe.query_async(&mut con).await.expect("pipeline");
    let last = counts.pop();
    assert_eq!(counts, (1..=50).collect::<Vec<i64>>());
    assert_eq!(last, Some(50));
    server.stop().await;
}

/// Keys in every shard written together by one client (MSET) and read by
/// scripts from another, in changing orders: a script sees all of one MSET
/// or none of it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_script_never_sees_half_of_a_multi_key_write() {
    let server = TestServer::start().await;
    let mut writer_con = server.conn().await;
    let keys: Vec<String> = (0..32).map(|i| format!("s{i}")).collect();
    let writer_keys = keys.clone();
    let writer = tokio::spawn(async move {
        for round in 0..300 {
            let mut args = vec!["MSET".to_string()];
            for key in &writer_keys {
                args.push(key.clone());
                args.push(round.to_string());
            }
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let _: () = query(&mut writer_con, &args).await;
        }
    });
    let script = r#"
local first = redis.call('GET', KEYS[1])
for i = 2, #KEYS do
    if redis.call('GET', KEYS[i]) ~= first then return 0 end
end
return 1
"#;
    let mut reader = server.conn().await;
    for round in 0..300 {
        let mut args = vec![
            "EVAL".to_string(),
            script.to_string(),
            keys.len().to_string(),
        ];
        // Forward on even rounds, backward on odd ones.
        let ordered: Vec<&String> = if round % 2 == 0 {
            keys.iter().collect()
        } else {
            keys.iter().rev().collect()
        };
        args.extend(ordered.into_iter().cloned());
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let consistent: i64 = query(&mut reader, &args).await;
        assert_eq!(consistent, 1, "round {round}");
    }
    writer.await.expect("writer");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conversions_follow_redis() {
    let server = TestServer::start().await;
    let mut con = server.conn().await;
    let value: Value = query(&mut con, &["EVAL", "return {1, 'two', {3}, nil, 5}", "0"]).await;
    assert_eq!(
        value,
        Value::Array(vec![
            Value::Int(1),
            Value::BulkString(b"two".to_vec()),
            Value::Array(vec![Value::Int(3)]),
        ])
    );
    let value: i64 = query(&mut con, &["EVAL", "return 3.99", "0"]).await;
    assert_eq!(value, 3);
    let value: i64 = query(&mut con, &["EVAL", "return true", "0"]).await;
    assert_eq!(value, 1);
    let value: Option<String> = query(&mut con, &["EVAL", "return false", "0"]).await;
    assert_eq!(value, None);
    let value: String = query(
        &mut con,
        &["EVAL", "return redis.status_reply('FINE')", "0"],
    )
    .await;
    assert_eq!(value, "FINE");
    let error = query_err(
        &mut con,
        &["EVAL", "return redis.error_reply('MYERR custom')", "0"],
    )
    .await;
    assert_eq!(error, "MYERR custom");
    // Replies into Lua: a missing key is false, a status is {ok=...}.
    let value: String = query(
        &mut con,
        &[
            "EVAL",
            "if redis.call('GET', 'missing') == false then return 'false' end return 'other'",
            "0",
        ],
    )
    .await;
    assert_eq!(value, "false");
    let value: String = query(
        &mut con,
        &["EVAL", "return redis.call('SET', 'k', 'v').ok", "0"],
    )
    .await;
    assert_eq!(value, "OK");
    // Numbers passed to commands are written as Lua writes them.
    let _: Value = query(
        &mut con,
        &["EVAL", "return redis.call('SET', 'n', 3.5)", "0"],
    )
    .await;
    let n: String = query(&mut con, &["GET", "n"]).await;
    assert_eq!(n, "3.5");
    let sha: String = query(&mut con, &["EVAL", "return redis.sha1hex('')", "0"]).await;
    assert_eq!(sha, "da39a3ee5e6b4b0d3255bfef95601890afd80709");
    let keys: Vec<String> = query(
        &mut con,
        &[
            "EVAL",
            "return {KEYS[1], KEYS[2], ARGV[1]}",
            "2",
            "a",
            "b",
            "c",
        ],
    )
    .await;
    assert_eq!(keys, ["a", "b", "c"]);
    let bits: i64 = query(
        &mut con,
        &["EVAL", "return bit.bor(bit.lshift(1, 4), 3)", "0"],
    )
    .await;
    assert_eq!(bits, 19);
    // As in Redis 7.0, math.random goes on from script to script, and
    // math.randomseed makes a sequence repeatable.
    let script = "return {math.random(1000000), math.random(1000000)}";
    let first: Vec<i64> = query(&mut con, &["EVAL", script, "0"]).await;
    let next: Vec<i64> = query(&mut con, &["EVAL", script, "0"]).await;
    assert_ne!(first, next);
    let seeded = "math.randomseed(42) return {math.random(1000), math.random(1000)}";
    let first: Vec<i64> = query(&mut con, &["EVAL", seeded, "0"]).await;
    let again: Vec<i64> = query(&mut con, &["EVAL", seeded, "0"]).await;
    assert_eq!(first, again);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_and_sandbox() {
    let server = TestServer::start().await;
    let mut con = server.conn().await;
    let _: () = query(&mut con, &["SET", "s", "text"]).await;
    let error = query_err(&mut con, &["EVAL", "return redis.call('INCR', 's')", "0"]).await;
    assert!(
        error.starts_with("ERR value is not an integer or out of range script: "),
        "{}",
        error
    );
    let error = query_err(
        &mut con,
        &["EVAL", "return redis.call('LPUSH', 's', 'x')", "0"],
    )
    .await;
    assert!(error.starts_with("WRONGTYPE"), "{}", error);
    // pcall returns the error instead of raising it.
    let caught: String = query(
        &mut con,
        &[
            "EVAL",
            "local r = redis.pcall('INCR', 's') return r.err",
            "0",
        ],
    )
    .await;
    assert_eq!(caught, "ERR value is not an integer or out of range");
    let error = query_err(&mut con, &["EVAL", "return redis.call('NOSUCH')", "0"]).await;
    assert!(
        error.starts_with("ERR Unknown Redis command called from script"),
        "{}",
        error
    );
    let error = query_err(&mut con, &["EVAL", "return redis.call('GET')", "0"]).await;
    assert!(
        error.starts_with("ERR Wrong number of args calling Redis command from script"),
        "{}",
        error
    );
    let error = query_err(&mut con, &["EVAL", "return redis.call('MULTI')", "0"]).await;
    assert!(
        error.starts_with("ERR This Redis command is not allowed from script"),
        "{}",
        error
    );
    let error = query_err(
        &mut con,
        &["EVAL_RO", "return redis.call('SET', 'a', 'b')", "0"],
    )
    .await;
    assert!(
        error.starts_with("ERR Write commands are not allowed from read-only scripts."),
        "{}",
        error
    );
    let value: String = query(&mut con, &["EVAL_RO", "return redis.call('GET', 's')", "0"]).await;
    assert_eq!(value, "text");
    let error = query_err(&mut con, &["EVAL", "this is not lua", "0"]).await;
    assert!(
        error.starts_with("ERR Error compiling script (new function): user_script:1:"),
        "{}",
        error
    );
    let error = query_err(&mut con, &["EVAL", "x = 1", "0"]).await;
    assert!(
        error.contains("Attempt to modify a readonly table"),
        "{}",
        error
    );
    let error = query_err(&mut con, &["EVAL", "return os.time()", "0"]).await;
    assert!(
        error.contains("nonexistent global variable 'os'"),
        "{}",
        error
    );
    let error = query_err(&mut con, &["EVAL", "return loadfile('/etc/passwd')", "0"]).await;
    assert!(
        error.contains("nonexistent global variable 'loadfile'"),
        "{}",
        error
    );
    let error = query_err(&mut con, &["EVAL", "return 1", "-1"]).await;
    assert_eq!(error, "ERR Number of keys can't be negative");
    let error = query_err(&mut con, &["EVAL", "return 1", "3", "a"]).await;
    assert_eq!(
        error,
        "ERR Number of keys can't be greater than number of args"
    );
    let error = query_err(
        &mut con,
        &["EVALSHA", "ffffffffffffffffffffffffffffffffffffffff", "0"],
    )
    .await;
    assert_eq!(error, "NOSCRIPT No matching script. Please use EVAL.");

    // SCRIPT LOAD / EXISTS / FLUSH.
    let sha: String = query(&mut con, &["SCRIPT", "LOAD", "return 42"]).await;
    assert_eq!(sha, "1fa00e76656cc152ad327c13fe365858fd7be306");
    let exists: Vec<i64> = query(&mut con, &["SCRIPT", "EXISTS", &sha, "nope"]).await;
    assert_eq!(exists, [1, 0]);
    let answer: i64 = query(&mut con, &["EVALSHA", &sha.to_uppercase(), "0"]).await;
    assert_eq!(answer, 42);
    let _: () = query(&mut con, &["SCRIPT", "FLUSH", "ASYNC"]).await;
    let exists: Vec<i64> = query(&mut con, &["SCRIPT", "EXISTS", &sha]).await;
    assert_eq!(exists, [0]);
    // The server still serves after all of that.
    let pong: String = query(&mut con, &["PING"]).await;
    assert_eq!(pong, "PONG");
    server.stop().await;
}

/// Sends `args` on a connection of its own and waits (bounded) for the
/// reply: for a script that runs until killed.
fn spawn_long_query(
    mut con: redis::aio::MultiplexedConnection,
    args: &'static [&'static str],
) -> tokio::task::JoinHandle<redis::RedisResult<Value>> {
    tokio::spawn(async move {
        tokio::time::timeout(
            std::time::Duration::from_secs(30),
            common::cmd(args).query_async::<Value>(&mut con),
        )
        .await
        .expect("the long script never ended")
    })
}

/// Polls until PING answers BUSY (the script is past the threshold).
async fn wait_for_busy(con: &mut redis::aio::MultiplexedConnection) {
    let busy = common::wait_until(std::time::Duration::from_secs(10), || {
        let mut con = con.clone();
        async move {
            match common::try_query::<Value>(&mut con, &["PING"]).await {
                Err(e) => common::error_text(&e).starts_with("BUSY"),
                Ok(Value::ServerError(e)) => e.code() == "BUSY",
                Ok(_) => false,
            }
        }
    })
    .await;
    assert!(busy, "PING never answered BUSY");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn script_kill_stops_a_busy_read_only_script() {
    // Scripts run on the connection's worker, which hands itself over.
    kill_stops_a_busy_read_only_script().await;
}

#[tokio::test]
async fn script_kill_stops_a_busy_script_on_a_current_thread_runtime() {
    // Embedded on a current-thread runtime, scripts run on the script thread.
    kill_stops_a_busy_read_only_script().await;
}

async fn kill_stops_a_busy_read_only_script() {
    let server = TestServer::start().await;
    let mut con = server.conn().await;
    assert_eq!(
        query_err(&mut con, &["SCRIPT", "KILL"]).await,
        "NOTBUSY No scripts in execution right now."
    );
    let _: () = query(&mut con, &["CONFIG", "SET", "busy-reply-threshold", "100"]).await;
    let _: () = query(&mut con, &["SET", "k", "v"]).await;
    let looping = spawn_long_query(
        server.conn_blocking().await,
        // Bounded (20 s) even if the kill never came.
        &[
            "EVAL",
            "redis.call('get', 'k') local s = tonumber(redis.call('time')[1]) \
             while tonumber(redis.call('time')[1]) < s + 20 do end return 'ended'",
            "0",
        ],
    );
    wait_for_busy(&mut con).await;
    let busy = query_err(&mut con, &["GET", "k"]).await;
    assert_eq!(
        busy,
        "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE."
    );
    assert!(query_err(&mut con, &["FUNCTION", "KILL"])
        .await
        .starts_with("BUSY"));
    let _: () = query(&mut con, &["SCRIPT", "KILL"]).await;
    let killed = looping.await.expect("task");
    let text = match killed {
        Err(e) => common::error_text(&e),
        Ok(other) => panic!("the killed script answered {:?}", other),
    };
    assert!(
        text.contains("Script killed by user with SCRIPT KILL"),
        "{}",
        text
    );
    // The server serves again, and no lock is left held.
    let value: String = query(&mut con, &["GET", "k"]).await;
    assert_eq!(value, "v");
    let again: i64 = query(&mut con, &["EVAL", "return redis.call('incr', 'n')", "0"]).await;
    assert_eq!(again, 1);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_script_that_wrote_is_unkillable_and_finishes() {
    let server = TestServer::start().await;
    let mut con = server.conn().await;
    let _: () = query(&mut con, &["CONFIG", "SET", "lua-time-limit", "50"]).await;
    // Writes, then spins for a while (bounded: about a second of work).
    let writer = spawn_long_query(
        server.conn_blocking().await,
        &[
            "EVAL",
            "redis.call('set', 'w', '1') local t = redis.call('time') local s = tonumber(t[1]) \
             while tonumber(redis.call('time')[1]) < s + 2 do end return 'done'",
            "0",
        ],
    );
    wait_for_busy(&mut con).await;
    let refused = query_err(&mut con, &["SCRIPT", "KILL"]).await;
    assert!(
        refused.starts_with("UNKILLABLE Sorry the script already executed write commands"),
        "{}",
        refused
    );
    let stats: Value = query(&mut con, &["FUNCTION", "STATS"]).await;
    assert!(
        format!("{:?}", stats).contains("duration_ms"),
        "{:?}",
        stats
    );
    let done = writer
        .await
        .expect("task")
        .expect("the script ends by itself");
    assert_eq!(done, Value::BulkString(b"done".to_vec()));
    let w: String = query(&mut con, &["GET", "w"]).await;
    assert_eq!(w, "1");
    server.stop().await;
}

const LIBRARY: &str = "#!lua name=locks\n\
redis.register_function('acquire', function(keys, args)\n\
  return redis.call('set', keys[1], args[1], 'NX', 'PX', args[2])\n\
end)\n\
redis.register_function{function_name='owner', callback=function(keys) return redis.call('get', keys[1]) end, flags={'no-writes'}, description='who holds it'}\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn functions_load_call_list_dump_restore() {
    let server = TestServer::start().await;
    let mut con = server.conn().await;
    let name: String = query(&mut con, &["FUNCTION", "LOAD", LIBRARY]).await;
    assert_eq!(name, "locks");
    assert_eq!(
        query_err(&mut con, &["FUNCTION", "LOAD", LIBRARY]).await,
        "ERR Library 'locks' already exists"
    );
    let got: String = query(&mut con, &["FCALL", "acquire", "1", "lock", "me", "10000"]).await;
    assert_eq!(got, "OK");
    let owner: String = query(&mut con, &["FCALL_RO", "OWNER", "1", "lock"]).await;
    assert_eq!(owner, "me");
    assert_eq!(
        query_err(&mut con, &["FCALL_RO", "acquire", "1", "lock", "x", "1"]).await,
        "ERR Can not execute a script with write flag using *_ro command."
    );
    assert_eq!(
        query_err(&mut con, &["FCALL", "nope", "0"]).await,
        "ERR Function not found"
    );
    assert_eq!(
        query_err(&mut con, &["FCALL", "acquire", "x"]).await,
        "ERR Bad number of keys provided"
    );
    let list: Value = query(&mut con, &["FUNCTION", "LIST", "WITHCODE"]).await;
    let text = format!("{:?}", list);
    for part in [
        "locks",
        "LUA",
        "acquire",
        "owner",
        "who holds it",
        "no-writes",
        "library_code",
    ] {
        assert!(text.contains(part), "{} missing from {}", part, text);
    }
    let dump: Vec<u8> = query(&mut con, &["FUNCTION", "DUMP"]).await;
    let _: () = query(&mut con, &["FUNCTION", "FLUSH"]).await;
    assert_eq!(
        query_err(&mut con, &["FCALL", "acquire", "0"]).await,
        "ERR Function not found"
    );
    let restored: String = redis::cmd("FUNCTION")
        .arg("RESTORE")
        .arg(&dump)
        .query_async(&mut con)
        .await
        .expect("FUNCTION RESTORE");
    assert_eq!(restored, "OK");
    let owner: String = query(&mut con, &["FCALL", "owner", "1", "lock"]).await;
    assert_eq!(owner, "me");
    let bad = query_err(&mut con, &["FUNCTION", "RESTORE", "bad_payload"]).await;
    assert_eq!(bad, "ERR payload version or checksum are wrong");
    let stats: Value = query(&mut con, &["FUNCTION", "STATS"]).await;
    let text = format!("{:?}", stats);
    assert!(
        text.contains("libraries_count") && text.contains("functions_count"),
        "{}",
        text
    );
    let _: () = query(&mut con, &["FUNCTION", "DELETE", "locks"]).await;
    assert_eq!(
        query_err(&mut con, &["FUNCTION", "DELETE", "locks"]).await,
        "ERR Library not found"
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn function_kill_stops_a_busy_function() {
    let server = TestServer::start().await;
    let mut con = server.conn().await;
    let _: () = query(&mut con, &["CONFIG", "SET", "busy-reply-threshold", "100"]).await;
    let _: String = query(
        &mut con,
        &[
            "FUNCTION",
            "LOAD",
            "#!lua name=spin\nredis.register_function('spin', function() local s = tonumber(redis.call('time')[1]) while tonumber(redis.call('time')[1]) < s + 20 do end end)",
        ],
    )
    .await;
    let spinning = spawn_long_query(server.conn_blocking().await, &["FCALL", "spin", "0"]);
    wait_for_busy(&mut con).await;
    assert_eq!(
        query_err(&mut con, &["PING"]).await,
        "BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE."
    );
    let stats: Value = query(&mut con, &["FUNCTION", "STATS"]).await;
    let text = format!("{:?}", stats);
    assert!(
        text.contains("spin") && text.contains("duration_ms"),
        "{}",
        text
    );
    assert!(query_err(&mut con, &["SCRIPT", "KILL"])
        .await
        .starts_with("BUSY"));
    let _: () = query(&mut con, &["FUNCTION", "KILL"]).await;
    assert!(spinning.await.expect("task").is_err());
    let pong: String = query(&mut con, &["PING"]).await;
    assert_eq!(pong, "PONG");
    server.stop().await;
}

/// A script's reply, and those of the commands before it, go out before a
/// blocking command pipelined after them starts to wait: PING, EVAL, BLPOP
/// in one write answers PONG and the script at once, and BLPOP once a
/// value arrives (before, the script's reply waited behind BLPOP's).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replies_before_a_blocking_command_go_out_before_it_waits() {
    use common::{encode_command, Reply};
    let server = TestServer::start().await;
    let mut raw = server.raw().await;
    let mut pipeline = encode_command(&["PING"]);
    pipeline.extend(encode_command(&["EVAL", "return 7", "0"]));
    pipeline.extend(encode_command(&["BLPOP", "jobs", "0"]));
    raw.send(&pipeline).await;
    assert_eq!(raw.read_reply().await, Reply::Simple("PONG".into()));
    assert_eq!(raw.read_reply().await, Reply::Int(7));
    let mut pusher = server.conn().await;
    let pushed: i64 = query(&mut pusher, &["RPUSH", "jobs", "j1"]).await;
    assert_eq!(pushed, 1);
    assert_eq!(
        raw.read_reply().await,
        Reply::Array(Some(vec![
            Reply::Bulk(Some(b"jobs".to_vec())),
            Reply::Bulk(Some(b"j1".to_vec())),
        ]))
    );
    server.stop().await;
}
