//! Pub/sub: SUBSCRIBE, PSUBSCRIBE, SSUBSCRIBE and their UNSUBSCRIBE forms,
//! PUBLISH and SPUBLISH, PUBSUB's subcommands, the commands a RESP2
//! subscriber may send, RESP3 pushes interleaved with replies, pattern
//! syntax, CLIENT LIST/KILL by type, and slow subscribers cut off by
//! `client-output-buffer-limit` while the server's memory stays bounded.
//!
//! Through the `redis` crate (its PubSub connection for RESP2, its push
//! channel for RESP3) and the raw client where exact frames matter. Every
//! read is bounded; waits for a state poll with a deadline.

mod common;

use common::*;
use futures_util::StreamExt;
use std::time::Duration;

/// A RESP2 subscriber connection from the `redis` crate.
async fn pubsub(server: &TestServer) -> redis::aio::PubSub {
    let client = redis::Client::open(server.url()).expect("url");
    tokio::time::timeout(IO_TIMEOUT, client.get_async_pubsub())
        .await
        .expect("pubsub connect timed out")
        .expect("pubsub connect failed")
}

/// The next message on a `redis` crate subscriber: (pattern, channel, payload).
async fn next_message(sub: &mut redis::aio::PubSub) -> (Option<String>, String, String) {
    let message = tokio::time::timeout(IO_TIMEOUT, sub.on_message().next())
        .await
        .expect("no message in time")
        .expect("subscriber stream ended");
    let pattern: Option<String> = message.get_pattern().ok();
    let payload: String = message.get_payload().expect("string payload");
    (pattern, message.get_channel_name().to_string(), payload)
}

fn bulk(text: &str) -> Reply {
    Reply::bulk(text)
}

/// `[kind, name, count]` as a subscribe confirmation, RESP2 or RESP3.
fn confirmation(resp3: bool, kind: &str, name: Option<&str>, count: i64) -> Reply {
    let items = vec![
        bulk(kind),
        name.map(bulk)
            .unwrap_or_else(|| if resp3 { Reply::Null } else { Reply::nil() }),
        Reply::Int(count),
    ];
    if resp3 {
        Reply::Push(items)
    } else {
        Reply::array(items)
    }
}

#[tokio::test]
async fn publish_reaches_channel_and_pattern_subscribers() {
    let server = TestServer::start().await;
    let mut publisher = server.conn().await;
    let mut first = pubsub(&server).await;
    let mut second = pubsub(&server).await;
    first.subscribe("news").await.expect("subscribe");
    second.psubscribe("ne*").await.expect("psubscribe");
    let receivers: i64 = query(&mut publisher, &["PUBLISH", "news", "hello"]).await;
    assert_eq!(receivers, 2);
    assert_eq!(
        next_message(&mut first).await,
        (None, "news".into(), "hello".into())
    );
    assert_eq!(
        next_message(&mut second).await,
        (Some("ne*".into()), "news".into(), "hello".into())
    );
    let nobody: i64 = query(&mut publisher, &["PUBLISH", "sports", "x"]).await;
    assert_eq!(nobody, 0);
    first.unsubscribe("news").await.expect("unsubscribe");
    let after: i64 = query(&mut publisher, &["PUBLISH", "news", "again"]).await;
    assert_eq!(after, 1);
}

#[tokio::test]
async fn a_client_on_a_channel_and_a_matching_pattern_gets_both_in_order() {
    let server = TestServer::start().await;
    let mut raw = server.raw().await;
    assert_eq!(
        raw.cmd(&["SUBSCRIBE", "foo.bar"]).await,
        confirmation(false, "subscribe", Some("foo.bar"), 1)
    );
    assert_eq!(
        raw.cmd(&["PSUBSCRIBE", "foo.*"]).await,
        confirmation(false, "psubscribe", Some("foo.*"), 2)
    );
    let mut publisher = server.conn().await;
    let receivers: i64 = query(&mut publisher, &["PUBLISH", "foo.bar", "hi"]).await;
    assert_eq!(receivers, 2);
    assert_eq!(
        raw.read_reply().await,
        Reply::array(vec![bulk("message"), bulk("foo.bar"), bulk("hi")])
    );
    assert_eq!(
        raw.read_reply().await,
        Reply::array(vec![
            bulk("pmessage"),
            bulk("foo.*"),
            bulk("foo.bar"),
            bulk("hi")
        ])
    );
}

#[tokio::test]
async fn subscription_counts_and_unsubscribing_everything() {
    let server = TestServer::start().await;
    let mut raw = server.raw().await;
    raw.send(&encode_command(&["SUBSCRIBE", "a", "b", "a"]))
        .await;
    for (name, count) in [("a", 1), ("b", 2), ("a", 2)] {
        assert_eq!(
            raw.read_reply().await,
            confirmation(false, "subscribe", Some(name), count)
        );
    }
    assert_eq!(
        raw.cmd(&["PSUBSCRIBE", "p*"]).await,
        confirmation(false, "psubscribe", Some("p*"), 3)
    );
    // UNSUBSCRIBE with no argument leaves every channel, one reply each.
    raw.send(&encode_command(&["UNSUBSCRIBE"])).await;
    let mut left = Vec::new();
    for _ in 0..2 {
        match raw.read_reply().await {
            Reply::Array(Some(items)) => left.push(items[1].text()),
            other => panic!("unexpected {:?}", other),
        }
    }
    left.sort();
    assert_eq!(left, ["a", "b"]);
    // Still subscribed to the pattern: the count stays 1.
    assert_eq!(
        raw.cmd(&["PUNSUBSCRIBE"]).await,
        confirmation(false, "punsubscribe", Some("p*"), 0)
    );
    // Nothing left: both still answer, with a nil name.
    assert_eq!(
        raw.cmd(&["UNSUBSCRIBE"]).await,
        confirmation(false, "unsubscribe", None, 0)
    );
    assert_eq!(
        raw.cmd(&["PUNSUBSCRIBE"]).await,
        confirmation(false, "punsubscribe", None, 0)
    );
    assert_eq!(
        raw.cmd(&["UNSUBSCRIBE", "never"]).await,
        confirmation(false, "unsubscribe", Some("never"), 0)
    );
    // Out of pub/sub mode, ordinary commands work again.
    assert_eq!(raw.cmd(&["PING"]).await, Reply::Simple("PONG".into()));
}

#[tokio::test]
async fn a_resp2_subscriber_may_only_send_subscription_commands_and_ping() {
    let server = TestServer::start().await;
    let mut raw = server.raw().await;
    raw.cmd(&["SUBSCRIBE", "ch"]).await;
    assert_eq!(
        raw.cmd(&["GET", "k"]).await,
        Reply::err("ERR Can't execute 'get': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context")
    );
    assert_eq!(
        raw.cmd(&["CLIENT", "LIST"]).await,
        Reply::err("ERR Can't execute 'client|list': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context")
    );
    assert_eq!(
        raw.cmd(&["PING"]).await,
        Reply::array(vec![bulk("pong"), bulk("")])
    );
    assert_eq!(
        raw.cmd(&["PING", "hi"]).await,
        Reply::array(vec![bulk("pong"), bulk("hi")])
    );
    assert_eq!(raw.cmd(&["RESET"]).await, Reply::Simple("RESET".into()));
    assert_eq!(raw.cmd(&["PING"]).await, Reply::Simple("PONG".into()));
    let mut publisher = server.conn().await;
    let receivers: i64 = query(&mut publisher, &["PUBLISH", "ch", "x"]).await;
    assert_eq!(receivers, 0, "RESET left the channel");
}

#[tokio::test]
async fn resp3_messages_arrive_as_pushes_between_ordinary_replies() {
    let server = TestServer::start().await;
    let mut raw = server.raw().await;
    assert!(matches!(raw.cmd(&["HELLO", "3"]).await, Reply::Map(_)));
    assert_eq!(
        raw.cmd(&["SUBSCRIBE", "ch"]).await,
        confirmation(true, "subscribe", Some("ch"), 1)
    );
    // RESP3 lifts the pub/sub context: any command runs.
    assert_eq!(raw.cmd(&["SET", "k", "v"]).await, Reply::ok());
    let mut publisher = server.conn().await;
    let receivers: i64 = query(&mut publisher, &["PUBLISH", "ch", "hello"]).await;
    assert_eq!(receivers, 1);
    // The push was queued before this GET was sent: it comes first.
    raw.send(&encode_command(&["GET", "k"])).await;
    assert_eq!(
        raw.read_reply().await,
        Reply::Push(vec![bulk("message"), bulk("ch"), bulk("hello")])
    );
    assert_eq!(raw.read_reply().await, bulk("v"));
    assert_eq!(raw.cmd(&["PING"]).await, Reply::Simple("PONG".into()));
}

#[tokio::test]
async fn resp3_pushes_through_the_redis_crate() {
    let server = TestServer::start().await;
    let client = redis::Client::open(server.url_resp3()).expect("url");
    let (sender, mut pushes) = tokio::sync::mpsc::unbounded_channel();
    let config = redis::AsyncConnectionConfig::new().set_push_sender(sender);
    let mut con = tokio::time::timeout(
        IO_TIMEOUT,
        client.get_multiplexed_async_connection_with_config(&config),
    )
    .await
    .expect("connect timed out")
    .expect("connect failed");
    con.subscribe("ch").await.expect("subscribe");
    con.psubscribe("c*").await.expect("psubscribe");
    let mut publisher = server.conn().await;
    let receivers: i64 = query(&mut publisher, &["PUBLISH", "ch", "payload"]).await;
    assert_eq!(receivers, 2);
    let mut kinds = Vec::new();
    while kinds.len() < 2 {
        let push = tokio::time::timeout(IO_TIMEOUT, pushes.recv())
            .await
            .expect("no push in time")
            .expect("push channel closed");
        if matches!(
            push.kind,
            redis::PushKind::Message | redis::PushKind::PMessage
        ) {
            let payload: String =
                redis::FromRedisValue::from_redis_value(push.data.last().expect("payload").clone())
                    .expect("string payload");
            assert_eq!(payload, "payload");
            kinds.push(push.kind);
        }
    }
    assert_eq!(kinds, [redis::PushKind::Message, redis::PushKind::PMessage]);
    // Ordinary commands still work on the same connection.
    let value: Option<String> = query(&mut con, &["GET", "missing"]).await;
    assert_eq!(value, None);
}

#[tokio::test]
async fn patterns_follow_redis_glob_syntax() {
    let server = TestServer::start().await;
    let mut raw = server.raw().await;
    let patterns = [
        "h?llo",
        "h*llo",
        "h[ae]llo",
        "h[^e]llo",
        "h[a-b]llo",
        "h\\*llo",
        "*",
    ];
    let mut args = vec!["PSUBSCRIBE"];
    args.extend(patterns);
    raw.send(&encode_command(&args)).await;
    for _ in patterns {
        raw.read_reply().await;
    }
    let mut publisher = server.conn().await;
    // (channel, how many of the patterns above match it)
    let cases = [
        ("hello", 4),   // h?llo h*llo h[ae]llo *
        ("hallo", 6),   // all but h\*llo
        ("hxllo", 4),   // h?llo h*llo h[^e]llo *
        ("heeello", 2), // h*llo *
        ("h*llo", 5),   // h?llo h*llo h[^e]llo h\*llo *
        ("other", 1),
    ];
    for (channel, expected) in cases {
        let receivers: i64 = query(&mut publisher, &["PUBLISH", channel, "m"]).await;
        assert_eq!(receivers, expected, "channel {}", channel);
        for _ in 0..expected {
            match raw.read_reply().await {
                Reply::Array(Some(items)) => assert_eq!(items[2].text(), channel),
                other => panic!("unexpected {:?}", other),
            }
        }
    }
}

#[tokio::test]
async fn shard_channels_are_separate_from_global_ones() {
    let server = TestServer::start().await;
    let mut raw = server.raw().await;
    assert_eq!(
        raw.cmd(&["SSUBSCRIBE", "s1"]).await,
        confirmation(false, "ssubscribe", Some("s1"), 1)
    );
    // The global count does not include shard channels.
    assert_eq!(
        raw.cmd(&["SUBSCRIBE", "g1"]).await,
        confirmation(false, "subscribe", Some("g1"), 1)
    );
    let mut publisher = server.conn().await;
    let global: i64 = query(&mut publisher, &["PUBLISH", "s1", "x"]).await;
    assert_eq!(global, 0, "PUBLISH does not reach shard subscribers");
    let shard: i64 = query(&mut publisher, &["SPUBLISH", "s1", "hello"]).await;
    assert_eq!(shard, 1);
    assert_eq!(
        raw.read_reply().await,
        Reply::array(vec![bulk("smessage"), bulk("s1"), bulk("hello")])
    );
    let channels: Vec<String> = query(&mut publisher, &["PUBSUB", "SHARDCHANNELS"]).await;
    assert_eq!(channels, ["s1"]);
    let counts: Vec<redis::Value> =
        query(&mut publisher, &["PUBSUB", "SHARDNUMSUB", "s1", "s2"]).await;
    assert_eq!(
        counts,
        [
            redis::Value::BulkString(b"s1".to_vec()),
            redis::Value::Int(1),
            redis::Value::BulkString(b"s2".to_vec()),
            redis::Value::Int(0)
        ]
    );
    assert_eq!(
        raw.cmd(&["SUNSUBSCRIBE"]).await,
        confirmation(false, "sunsubscribe", Some("s1"), 0)
    );
    assert_eq!(
        raw.cmd(&["SUNSUBSCRIBE"]).await,
        confirmation(false, "sunsubscribe", None, 0)
    );
}

#[tokio::test]
async fn pubsub_introspection_counts_channels_patterns_and_subscribers() {
    let server = TestServer::start().await;
    let mut con = server.conn().await;
    let mut a = pubsub(&server).await;
    let mut b = pubsub(&server).await;
    a.subscribe("news.tech").await.expect("subscribe");
    a.subscribe("news.art").await.expect("subscribe");
    b.subscribe("news.tech").await.expect("subscribe");
    a.psubscribe("news.*").await.expect("psubscribe");
    b.psubscribe("news.*").await.expect("psubscribe");
    b.psubscribe("other.*").await.expect("psubscribe");
    let mut channels: Vec<String> = query(&mut con, &["PUBSUB", "CHANNELS"]).await;
    channels.sort();
    assert_eq!(channels, ["news.art", "news.tech"]);
    let matching: Vec<String> = query(&mut con, &["PUBSUB", "CHANNELS", "*tech"]).await;
    assert_eq!(matching, ["news.tech"]);
    let counts: Vec<redis::Value> = query(
        &mut con,
        &["PUBSUB", "NUMSUB", "news.tech", "news.art", "none"],
    )
    .await;
    assert_eq!(
        counts,
        [
            redis::Value::BulkString(b"news.tech".to_vec()),
            redis::Value::Int(2),
            redis::Value::BulkString(b"news.art".to_vec()),
            redis::Value::Int(1),
            redis::Value::BulkString(b"none".to_vec()),
            redis::Value::Int(0)
        ]
    );
    let patterns: i64 = query(&mut con, &["PUBSUB", "NUMPAT"]).await;
    assert_eq!(patterns, 2, "distinct patterns");
    let info: String = query(&mut con, &["INFO", "stats"]).await;
    assert_eq!(info_field(&info, "pubsub_channels").as_deref(), Some("2"));
    assert_eq!(info_field(&info, "pubsub_patterns").as_deref(), Some("2"));
    assert_eq!(
        query_err(&mut con, &["PUBSUB", "CHANNELS", "a", "b"]).await,
        "ERR unknown subcommand or wrong number of arguments for 'CHANNELS'. Try PUBSUB HELP."
    );
    // A subscriber that goes away leaves its channels.
    drop(a);
    drop(b);
    let emptied = wait_until(Duration::from_secs(10), || {
        let mut con = con.clone();
        async move {
            let channels: Vec<String> = query(&mut con, &["PUBSUB", "CHANNELS"]).await;
            let patterns: i64 = query(&mut con, &["PUBSUB", "NUMPAT"]).await;
            channels.is_empty() && patterns == 0
        }
    })
    .await;
    assert!(emptied, "subscriptions outlived their connections");
}

#[tokio::test]
async fn client_reply_off_does_not_silence_subscription_replies() {
    let server = TestServer::start().await;
    let mut raw = server.raw().await;
    raw.send(&encode_command(&["CLIENT", "REPLY", "OFF"])).await;
    assert_eq!(
        raw.cmd(&["SUBSCRIBE", "ch"]).await,
        confirmation(false, "subscribe", Some("ch"), 1)
    );
    let mut publisher = server.conn().await;
    let _: i64 = query(&mut publisher, &["PUBLISH", "ch", "m"]).await;
    assert_eq!(
        raw.read_reply().await,
        Reply::array(vec![bulk("message"), bulk("ch"), bulk("m")])
    );
}

#[tokio::test]
async fn client_list_and_kill_know_pubsub_clients() {
    let server = TestServer::start().await;
    let mut con = server.conn().await;
    let mut sub = pubsub(&server).await;
    sub.subscribe("a").await.expect("subscribe");
    sub.psubscribe("b*").await.expect("psubscribe");
    let list: String = query(&mut con, &["CLIENT", "LIST", "TYPE", "pubsub"]).await;
    let line = list.lines().next().expect("one pubsub client");
    assert_eq!(list.lines().count(), 1, "{}", list);
    assert!(line.contains(" flags=P "), "{}", line);
    assert!(line.contains(" sub=1 psub=1 ssub=0 "), "{}", line);
    let normal: String = query(&mut con, &["CLIENT", "LIST", "TYPE", "normal"]).await;
    assert!(!normal.contains("flags=P"), "{}", normal);
    let killed: i64 = query(&mut con, &["CLIENT", "KILL", "TYPE", "pubsub"]).await;
    assert_eq!(killed, 1);
    let gone = wait_until(Duration::from_secs(10), || {
        let mut con = con.clone();
        async move {
            let list: String = query(&mut con, &["CLIENT", "LIST", "TYPE", "pubsub"]).await;
            list.is_empty()
        }
    })
    .await;
    assert!(gone, "the pubsub client was not killed");
}

/// Waits until no client is subscribed to `channel`.
async fn wait_no_subscriber(con: &mut redis::aio::MultiplexedConnection, channel: &str) -> bool {
    wait_until(Duration::from_secs(20), || {
        let mut con = con.clone();
        let channel = channel.to_string();
        async move {
            let counts: Vec<redis::Value> = query(&mut con, &["PUBSUB", "NUMSUB", &channel]).await;
            counts.get(1) == Some(&redis::Value::Int(0))
        }
    })
    .await
}

/// A subscriber that never reads while 100 MB are published to it is cut
/// off at the pubsub hard limit, and the server's memory stays bounded.
#[tokio::test]
async fn a_subscriber_that_never_reads_is_disconnected_at_the_hard_limit() {
    let server = TestServer::start_process().await;
    let mut publisher = server.conn().await;
    // The default pubsub limit: 32mb hard, 8mb soft for 60 s.
    let limit: Vec<String> = query(
        &mut publisher,
        &["CONFIG", "GET", "client-output-buffer-limit"],
    )
    .await;
    assert!(
        limit[1].contains("pubsub 33554432 8388608 60"),
        "{:?}",
        limit
    );
    let before: String = query(&mut publisher, &["INFO", "memory"]).await;
    let before: u64 = info_field(&before, "used_memory")
        .and_then(|v| v.parse().ok())
        .expect("used_memory");
    let mut silent = server.raw().await;
    silent.cmd(&["SUBSCRIBE", "flood"]).await;
    // Never read from `silent` again.
    let message = "x".repeat(1024 * 1024);
    let mut peak = before;
    for _ in 0..100 {
        let _: i64 = query(&mut publisher, &["PUBLISH", "flood", &message]).await;
        let info: String = query(&mut publisher, &["INFO", "memory"]).await;
        let used: u64 = info_field(&info, "used_memory")
            .and_then(|v| v.parse().ok())
            .expect("used_memory");
        peak = peak.max(used);
    }
    assert!(
        wait_no_subscriber(&mut publisher, "flood").await,
        "the silent subscriber was never disconnected"
    );
    let growth = peak.saturating_sub(before);
    assert!(
        growth < 80 * 1024 * 1024,
        "memory grew by {} bytes while 100 MB were published",
        growth
    );
    assert!(silent.is_closed_by_server().await);
}

/// Over the soft limit for longer than its seconds is enough, too.
#[tokio::test]
async fn a_subscriber_over_the_soft_limit_for_its_seconds_is_disconnected() {
    let server = TestServer::start().await;
    let mut publisher = server.conn().await;
    let _: () = query(
        &mut publisher,
        &[
            "CONFIG",
            "SET",
            "client-output-buffer-limit",
            "pubsub 0 256kb 1",
        ],
    )
    .await;
    let mut silent = server.raw().await;
    silent.cmd(&["SUBSCRIBE", "slow"]).await;
    let message = "y".repeat(64 * 1024);
    // Keep the subscriber's queue over 256 KB (its socket buffers fill
    // first) until the server gives up on it; bounded by the deadline.
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let mut disconnected = false;
    while std::time::Instant::now() < deadline {
        let receivers: i64 = query(&mut publisher, &["PUBLISH", "slow", &message]).await;
        if receivers == 0 {
            disconnected = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(disconnected, "the slow subscriber was never disconnected");
    assert!(silent.is_closed_by_server().await);
}

#[tokio::test]
async fn output_buffer_limit_config_is_validated_like_redis() {
    let server = TestServer::start().await;
    let mut con = server.conn().await;
    let _: () = query(
        &mut con,
        &[
            "CONFIG",
            "SET",
            "client-output-buffer-limit",
            "normal 1mb 512kb 10 pubsub 64mb 16mb 30",
        ],
    )
    .await;
    let value: Vec<String> =
        query(&mut con, &["CONFIG", "GET", "client-output-buffer-limit"]).await;
    assert_eq!(
        value[1],
        "normal 1048576 524288 10 slave 268435456 67108864 60 pubsub 67108864 16777216 30"
    );
    for (bad, reason) in [
        (
            "normal 1 2",
            "Wrong number of arguments in buffer limit configuration.",
        ),
        (
            "master 1 2 3",
            "Invalid client class specified in buffer limit configuration.",
        ),
        (
            "bogus 1 2 3",
            "Invalid client class specified in buffer limit configuration.",
        ),
        (
            "pubsub 1x 2 3",
            "Error in hard, soft or soft_seconds setting in buffer limit configuration.",
        ),
        (
            "pubsub 1 2 -3",
            "Error in hard, soft or soft_seconds setting in buffer limit configuration.",
        ),
    ] {
        let error = query_err(
            &mut con,
            &["CONFIG", "SET", "client-output-buffer-limit", bad],
        )
        .await;
        assert!(error.contains(reason), "{}: {}", bad, error);
    }
}

/// The normal class's limit applies to a client's own replies.
#[tokio::test]
async fn a_reply_past_the_normal_hard_limit_closes_the_connection() {
    let server = TestServer::start().await;
    let mut con = server.conn().await;
    let _: () = query(
        &mut con,
        &[
            "CONFIG",
            "SET",
            "client-output-buffer-limit",
            "normal 100kb 0 0",
        ],
    )
    .await;
    let element = "e".repeat(100);
    let mut push = vec!["RPUSH", "big"];
    push.extend(std::iter::repeat_n(element.as_str(), 2000));
    let _: i64 = query(&mut con, &push).await;
    let mut small = server.raw().await;
    assert_eq!(small.cmd(&["LLEN", "big"]).await, Reply::Int(2000));
    small
        .send(&encode_command(&["LRANGE", "big", "0", "-1"]))
        .await;
    assert!(
        small.is_closed_by_server().await,
        "a 200 KB reply passed a 100 KB hard limit"
    );
    // Other clients are unaffected (the CONFIG connection's replies are small).
    let len: i64 = query(&mut con, &["LLEN", "big"]).await;
    assert_eq!(len, 2000);
}
