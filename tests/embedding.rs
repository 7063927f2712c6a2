//! The embedding API: `ServerHandle` (inside a tokio runtime) and
//! `BackgroundServer` (from plain synchronous code), on free ports.

mod common;

use common::{parse_reply, Reply, IO_TIMEOUT};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

fn config() -> cachet::Config {
    cachet::Config {
        port: 0,
        ..cachet::Config::default()
    }
}

/// One command over a fresh blocking TCP connection, with timeouts.
fn blocking_cmd(addr: SocketAddr, args: &[&str]) -> Reply {
    let mut stream = TcpStream::connect_timeout(&addr, IO_TIMEOUT).expect("connect");
    stream.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
    stream.set_write_timeout(Some(IO_TIMEOUT)).unwrap();
    stream.write_all(&common::encode_command(args)).unwrap();
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        if let Some((reply, _)) = parse_reply(&buf) {
            return reply;
        }
        let n = stream.read(&mut chunk).expect("read reply");
        assert!(n > 0, "connection closed before a reply");
        buf.extend_from_slice(&chunk[..n]);
    }
}

fn refuses_connections(addr: SocketAddr) -> bool {
    TcpStream::connect_timeout(&addr, Duration::from_secs(2)).is_err()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_handle_with_port_zero_listens_on_a_free_port() {
    let server = cachet::ServerHandle::start(config()).await.unwrap();
    let addr = server.addr();
    assert_ne!(addr.port(), 0);
    assert!(addr.ip().is_loopback());
    assert_eq!(server.url(), format!("redis://127.0.0.1:{}", addr.port()));
    let client = redis::Client::open(server.url()).unwrap();
    let mut con = tokio::time::timeout(IO_TIMEOUT, client.get_multiplexed_async_connection())
        .await
        .unwrap()
        .unwrap();
    let pong: String = redis::cmd("PING").query_async(&mut con).await.unwrap();
    assert_eq!(pong, "PONG");
    tokio::time::timeout(IO_TIMEOUT, server.shutdown())
        .await
        .expect("shutdown hung")
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_embedded_servers_get_distinct_ports_and_separate_data() {
    let a = cachet::ServerHandle::start(config()).await.unwrap();
    let b = cachet::ServerHandle::start(config()).await.unwrap();
    assert_ne!(a.addr().port(), b.addr().port());
    let mut ca = common::connect(&a.url()).await;
    let mut cb = common::connect(&b.url()).await;
    common::query::<()>(&mut ca, &["SET", "k", "from-a"]).await;
    assert_eq!(
        common::query::<Option<String>>(&mut cb, &["GET", "k"]).await,
        None
    );
    a.shutdown().await.unwrap();
    b.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_shutdown_the_port_refuses_connections() {
    let server = cachet::ServerHandle::start(config()).await.unwrap();
    let addr = server.addr();
    assert!(
        !refuses_connections(addr),
        "server not accepting before shutdown"
    );
    tokio::time::timeout(IO_TIMEOUT, server.shutdown())
        .await
        .expect("shutdown hung")
        .unwrap();
    assert!(
        refuses_connections(addr),
        "port still accepts after shutdown"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_right_after_start_is_prompt() {
    // Nothing has connected yet: the server must still notice the request at
    // once. Several rounds, because the failure depends on task scheduling.
    for round in 0..5 {
        let server = cachet::ServerHandle::start(config()).await.unwrap();
        let addr = server.addr();
        let started = Instant::now();
        tokio::time::timeout(IO_TIMEOUT, server.shutdown())
            .await
            .expect("shutdown hung")
            .unwrap();
        let took = started.elapsed();
        assert!(
            took < Duration::from_millis(500),
            "round {}: shutdown took {:?}",
            round,
            took
        );
        assert!(
            refuses_connections(addr),
            "port still accepts after shutdown"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_closes_open_client_connections() {
    let server = cachet::ServerHandle::start(config()).await.unwrap();
    let mut raw = common::RawConn::connect(server.addr()).await;
    assert_eq!(raw.cmd(&["SET", "k", "v"]).await, Reply::ok());
    tokio::time::timeout(IO_TIMEOUT, server.shutdown())
        .await
        .expect("shutdown hung with a client connected")
        .unwrap();
    assert!(
        raw.is_closed_by_server().await,
        "client connection left open"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_the_server_handle_stops_the_server() {
    let server = cachet::ServerHandle::start(config()).await.unwrap();
    let addr = server.addr();
    drop(server);
    let deadline = Instant::now() + IO_TIMEOUT;
    while !refuses_connections(addr) {
        assert!(
            Instant::now() < deadline,
            "server still accepting 10 s after drop"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn embedded_config_is_honoured() {
    let mut cfg = config();
    cfg.requirepass = Some("embedded-pass".into());
    cfg.databases = 2;
    let server = cachet::ServerHandle::start(cfg).await.unwrap();
    let mut raw = common::RawConn::connect(server.addr()).await;
    assert_eq!(
        raw.cmd(&["PING"]).await,
        Reply::err("NOAUTH Authentication required.")
    );
    assert_eq!(raw.cmd(&["AUTH", "embedded-pass"]).await, Reply::ok());
    assert_eq!(raw.cmd(&["SELECT", "1"]).await, Reply::ok());
    assert_eq!(
        raw.cmd(&["SELECT", "2"]).await,
        Reply::err("ERR DB index is out of range")
    );
    server.shutdown().await.unwrap();
}

#[test]
fn background_server_works_from_a_plain_test() {
    let server = cachet::BackgroundServer::start(config()).expect("start");
    let addr = server.addr();
    assert_ne!(addr.port(), 0);
    assert_eq!(server.url(), format!("redis://{}", addr));
    assert_eq!(blocking_cmd(addr, &["SET", "k", "v"]), Reply::ok());
    assert_eq!(blocking_cmd(addr, &["GET", "k"]), Reply::bulk("v"));
    // The redis crate's synchronous client works too.
    let client = redis::Client::open(server.url()).unwrap();
    let mut con = client.get_connection_with_timeout(IO_TIMEOUT).unwrap();
    con.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
    let got: String = redis::cmd("GET").arg("k").query(&mut con).unwrap();
    assert_eq!(got, "v");
    server.shutdown();
    assert!(
        refuses_connections(addr),
        "port still accepts after shutdown"
    );
}

#[test]
fn dropping_a_background_server_stops_it() {
    let server = cachet::BackgroundServer::start(config()).expect("start");
    let addr = server.addr();
    assert_eq!(blocking_cmd(addr, &["PING"]), Reply::Simple("PONG".into()));
    drop(server);
    assert!(refuses_connections(addr), "port still accepts after drop");
}

#[test]
fn background_servers_run_side_by_side() {
    let a = cachet::BackgroundServer::start(config()).expect("start a");
    let b = cachet::BackgroundServer::start(config()).expect("start b");
    assert_ne!(a.addr(), b.addr());
    assert_eq!(blocking_cmd(a.addr(), &["SET", "k", "a"]), Reply::ok());
    assert_eq!(blocking_cmd(b.addr(), &["GET", "k"]), Reply::nil());
    a.shutdown();
    assert_eq!(
        blocking_cmd(b.addr(), &["PING"]),
        Reply::Simple("PONG".into())
    );
    b.shutdown();
}
