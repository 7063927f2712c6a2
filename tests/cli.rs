//! The real `redis-cli` (Redis 7.0) against the server: plain commands,
//! `--scan --pattern`, RESP3 (`-3`), authentication, and a `--pipe` bulk load.
//! Every redis-cli run is killed if it has not finished within its timeout.

mod common;

use common::*;
use std::collections::HashSet;
use std::time::Duration;

const CLI_TIMEOUT: Duration = Duration::from_secs(30);

async fn cli(s: &TestServer, args: &[&str]) -> CliOutput {
    let out = redis_cli(s.addr(), args, None, CLI_TIMEOUT).await;
    assert!(
        out.status.success(),
        "redis-cli {:?} failed: {:?}",
        args,
        out
    );
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_set_then_get_prints_ok_and_the_value() {
    let s = TestServer::start().await;
    assert_eq!(
        cli(&s, &["set", "greeting", "hello world"]).await.stdout,
        "OK\n"
    );
    assert_eq!(cli(&s, &["get", "greeting"]).await.stdout, "hello world\n");
    assert_eq!(cli(&s, &["get", "nosuchkey"]).await.stdout, "\n");
    assert_eq!(cli(&s, &["incr", "counter"]).await.stdout, "1\n");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_prints_error_replies() {
    let s = TestServer::start().await;
    cli(&s, &["set", "word", "bar"]).await;
    let out = redis_cli(s.addr(), &["incr", "word"], None, CLI_TIMEOUT).await;
    assert_eq!(
        out.stdout,
        "ERR value is not an integer or out of range\n\n"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_scan_with_pattern_lists_exactly_the_matching_keys() {
    let s = TestServer::start().await;
    let mut c = s.conn().await;
    let mut expected = HashSet::new();
    for i in 0..500 {
        let user = format!("user:{}", i);
        query::<()>(&mut c, &["SET", &user, "v"]).await;
        expected.insert(user);
        query::<()>(&mut c, &["SET", &format!("session:{}", i), "v"]).await;
    }
    let out = cli(&s, &["--scan", "--pattern", "user:*"]).await;
    let lines: Vec<&str> = out.stdout.lines().collect();
    let seen: HashSet<String> = lines.iter().map(|l| l.to_string()).collect();
    assert_eq!(seen, expected);
    let all = cli(&s, &["--scan"]).await;
    let all: HashSet<&str> = all.stdout.lines().collect();
    assert_eq!(all.len(), 1000);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_resp3_hello_prints_the_server_map() {
    let s = TestServer::start().await;
    let out = cli(&s, &["-3", "hello", "3"]).await;
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines.len(), 7, "{:?}", out.stdout);
    assert_eq!(lines[0], "server redis");
    assert_eq!(lines[1], "version 7.0.15");
    assert_eq!(lines[2], "proto 3");
    assert!(lines[3].starts_with("id "), "{}", lines[3]);
    assert_eq!(lines[4], "mode standalone");
    assert_eq!(lines[5], "role master");
    assert_eq!(lines[6], "modules ");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_authenticates_with_dash_a() {
    let s = TestServer::start_with(|c| c.requirepass = Some("clipass".into())).await;
    let out = redis_cli(s.addr(), &["ping"], None, CLI_TIMEOUT).await;
    assert_eq!(out.stdout, "NOAUTH Authentication required.\n\n");
    let out = cli(&s, &["-a", "clipass", "--no-auth-warning", "ping"]).await;
    assert_eq!(out.stdout, "PONG\n");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_selects_a_database_with_dash_n() {
    let s = TestServer::start().await;
    cli(&s, &["-n", "4", "set", "k", "in-db-4"]).await;
    assert_eq!(cli(&s, &["get", "k"]).await.stdout, "\n");
    assert_eq!(cli(&s, &["-n", "4", "get", "k"]).await.stdout, "in-db-4\n");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_pipe_loads_ten_thousand_sets() {
    let s = TestServer::start().await;
    let mut input = Vec::new();
    for i in 0..10_000 {
        input.extend(encode_command(&[
            "SET",
            &format!("pipe:key:{}", i),
            &format!("value-{}", i),
        ]));
    }
    let out = redis_cli(s.addr(), &["--pipe"], Some(input), Duration::from_secs(60)).await;
    assert!(out.status.success(), "{:?}", out);
    assert!(
        out.stdout.contains("errors: 0, replies: 10000"),
        "unexpected --pipe output: {:?}",
        out
    );
    let mut c = s.conn().await;
    assert_eq!(query::<i64>(&mut c, &["DBSIZE"]).await, 10_000);
    assert_eq!(
        query::<String>(&mut c, &["GET", "pipe:key:9999"]).await,
        "value-9999"
    );
}
