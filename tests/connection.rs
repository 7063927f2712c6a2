//! Connection and server commands: PING/ECHO, HELLO (RESP3 map), AUTH with
//! requirepass, SELECT, CLIENT, INFO, CONFIG GET/SET, COMMAND, maxclients.

mod common;

use common::*;
use redis::Value;
use std::time::Duration;

const PASSWORD: &str = "s3cret-pass";

async fn setup() -> (TestServer, RawConn) {
    let server = TestServer::start().await;
    let raw = server.raw().await;
    (server, raw)
}

async fn with_password() -> TestServer {
    TestServer::start_with(|c| c.requirepass = Some(PASSWORD.into())).await
}

fn map_get<'a>(map: &'a [(Reply, Reply)], key: &str) -> &'a Reply {
    &map.iter()
        .find(|(k, _)| k.text() == key)
        .unwrap_or_else(|| panic!("no {:?} in {:?}", key, map))
        .1
}

// ---------------------------------------------------------------------------
// PING / ECHO
// ---------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ping_replies_pong_or_echoes_its_argument() {
    let (_s, mut raw) = setup().await;
    assert_eq!(raw.cmd(&["PING"]).await, Reply::Simple("PONG".into()));
    assert_eq!(
        raw.cmd(&["PING", "hello world"]).await,
        Reply::bulk("hello world")
    );
    assert_eq!(
        raw.cmd(&["PING", "a", "b"]).await,
        Reply::err("ERR wrong number of arguments for 'ping' command")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ping_through_the_redis_crate() {
    let s = TestServer::start().await;
    let mut c = s.conn().await;
    assert_eq!(query::<String>(&mut c, &["PING"]).await, "PONG");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn echo_returns_its_argument_as_bulk_string() {
    let (_s, mut raw) = setup().await;
    assert_eq!(
        raw.cmd(&["ECHO", "Hello World"]).await,
        Reply::bulk("Hello World")
    );
    assert_eq!(raw.cmd(&["ECHO", ""]).await, Reply::bulk(""));
    assert_eq!(
        raw.cmd(&["ECHO"]).await,
        Reply::err("ERR wrong number of arguments for 'echo' command")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inline_commands_are_understood() {
    let (_s, mut raw) = setup().await;
    raw.send(b"SET inline \"two words\"\r\n").await;
    assert_eq!(raw.read_reply().await, Reply::ok());
    raw.send(b"GET inline\r\n").await;
    assert_eq!(raw.read_reply().await, Reply::bulk("two words"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pipelined_commands_reply_in_order() {
    let (_s, mut raw) = setup().await;
    let mut batch = Vec::new();
    for i in 0..100 {
        batch.extend(encode_command(&["INCR", "counter"]));
        batch.extend(encode_command(&["ECHO", &i.to_string()]));
    }
    raw.send(&batch).await;
    for i in 0..100 {
        assert_eq!(raw.read_reply().await, Reply::Int(i + 1));
        assert_eq!(raw.read_reply().await, Reply::bulk(&i.to_string()));
    }
}

// ---------------------------------------------------------------------------
// HELLO
// ---------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hello_3_replies_with_a_server_map() {
    let (_s, mut raw) = setup().await;
    let id = match raw.cmd(&["CLIENT", "ID"]).await {
        Reply::Int(id) => id,
        other => panic!("CLIENT ID gave {:?}", other),
    };
    let reply = raw.cmd(&["HELLO", "3"]).await;
    let expected = Reply::Map(vec![
        (Reply::bulk("server"), Reply::bulk("redis")),
        (Reply::bulk("version"), Reply::bulk("7.0.15")),
        (Reply::bulk("proto"), Reply::Int(3)),
        (Reply::bulk("id"), Reply::Int(id)),
        (Reply::bulk("mode"), Reply::bulk("standalone")),
        (Reply::bulk("role"), Reply::bulk("master")),
        (Reply::bulk("modules"), Reply::array(vec![])),
    ]);
    assert_eq!(reply, expected);
    // The connection now speaks RESP3: a missing key is a RESP3 null.
    assert_eq!(raw.cmd(&["GET", "missing"]).await, Reply::Null);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hello_without_version_replies_in_current_protocol() {
    let (_s, mut raw) = setup().await;
    match raw.cmd(&["HELLO"]).await {
        Reply::Array(Some(items)) => {
            assert_eq!(items.len(), 14);
            assert_eq!(items[0], Reply::bulk("server"));
            assert_eq!(items[4], Reply::bulk("proto"));
            assert_eq!(items[5], Reply::Int(2));
        }
        other => panic!("HELLO gave {:?}", other),
    }
    assert_eq!(raw.cmd(&["GET", "missing"]).await, Reply::nil());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hello_2_switches_back_to_resp2() {
    let (_s, mut raw) = setup().await;
    assert!(matches!(raw.cmd(&["HELLO", "3"]).await, Reply::Map(_)));
    assert!(matches!(
        raw.cmd(&["HELLO", "2"]).await,
        Reply::Array(Some(_))
    ));
    assert_eq!(raw.cmd(&["GET", "missing"]).await, Reply::nil());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hello_with_unsupported_version_is_noproto() {
    let (_s, mut raw) = setup().await;
    assert_eq!(
        raw.cmd(&["HELLO", "4"]).await,
        Reply::err("NOPROTO unsupported protocol version")
    );
    assert_eq!(
        raw.cmd(&["HELLO", "1"]).await,
        Reply::err("NOPROTO unsupported protocol version")
    );
    assert_eq!(
        raw.cmd(&["HELLO", "three"]).await,
        Reply::err("ERR Protocol version is not an integer or out of range")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hello_setname_names_the_connection() {
    let (_s, mut raw) = setup().await;
    assert!(matches!(
        raw.cmd(&["HELLO", "3", "SETNAME", "worker-1"]).await,
        Reply::Map(_)
    ));
    assert_eq!(
        raw.cmd(&["CLIENT", "GETNAME"]).await,
        Reply::bulk("worker-1")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resp3_connection_from_the_redis_crate_sees_maps_and_nulls() {
    let s = TestServer::start().await;
    let mut c = s.conn3().await;
    match query::<Value>(&mut c, &["HELLO", "3"]).await {
        Value::Map(pairs) => {
            let get = |k: &str| {
                pairs
                    .iter()
                    .find(|(key, _)| *key == Value::BulkString(k.as_bytes().to_vec()))
                    .map(|(_, v)| v.clone())
            };
            assert_eq!(get("proto"), Some(Value::Int(3)));
            assert_eq!(get("server"), Some(Value::BulkString(b"redis".to_vec())));
            assert_eq!(get("version"), Some(Value::BulkString(b"7.0.15".to_vec())));
        }
        other => panic!("HELLO 3 over RESP3 gave {:?}", other),
    }
    assert_eq!(
        query::<Value>(&mut c, &["GET", "missing"]).await,
        Value::Nil
    );
    match query::<Value>(&mut c, &["CONFIG", "GET", "maxclients"]).await {
        Value::Map(pairs) => assert_eq!(
            pairs,
            vec![(
                Value::BulkString(b"maxclients".to_vec()),
                Value::BulkString(b"10000".to_vec())
            )]
        ),
        other => panic!("CONFIG GET over RESP3 gave {:?}", other),
    }
    query::<()>(&mut c, &["SET", "k", "v"]).await;
    assert_eq!(query::<String>(&mut c, &["GET", "k"]).await, "v");
}

// ---------------------------------------------------------------------------
// AUTH and requirepass
// ---------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commands_before_auth_are_refused_with_noauth() {
    let s = with_password().await;
    let mut raw = s.raw().await;
    assert_eq!(
        raw.cmd(&["GET", "k"]).await,
        Reply::err("NOAUTH Authentication required.")
    );
    assert_eq!(
        raw.cmd(&["PING"]).await,
        Reply::err("NOAUTH Authentication required.")
    );
    assert_eq!(
        raw.cmd(&["SELECT", "1"]).await,
        Reply::err("NOAUTH Authentication required.")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auth_with_wrong_password_is_wrongpass() {
    let s = with_password().await;
    let mut raw = s.raw().await;
    assert_eq!(
        raw.cmd(&["AUTH", "wrong"]).await,
        Reply::err("WRONGPASS invalid username-password pair or user is disabled.")
    );
    assert_eq!(
        raw.cmd(&["AUTH", "default", "wrong"]).await,
        Reply::err("WRONGPASS invalid username-password pair or user is disabled.")
    );
    assert_eq!(
        raw.cmd(&["AUTH", "nobody", PASSWORD]).await,
        Reply::err("WRONGPASS invalid username-password pair or user is disabled.")
    );
    assert_eq!(
        raw.cmd(&["GET", "k"]).await,
        Reply::err("NOAUTH Authentication required.")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auth_with_right_password_unlocks_the_connection() {
    let s = with_password().await;
    let mut raw = s.raw().await;
    assert_eq!(raw.cmd(&["AUTH", PASSWORD]).await, Reply::ok());
    assert_eq!(raw.cmd(&["SET", "k", "v"]).await, Reply::ok());
    let mut other = s.raw().await;
    assert_eq!(other.cmd(&["AUTH", "default", PASSWORD]).await, Reply::ok());
    assert_eq!(other.cmd(&["GET", "k"]).await, Reply::bulk("v"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auth_with_too_many_arguments_is_a_syntax_error() {
    let s = with_password().await;
    let mut raw = s.raw().await;
    assert_eq!(
        raw.cmd(&["AUTH", "a", "b", "c"]).await,
        Reply::err("ERR syntax error")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auth_without_configured_password_is_an_error() {
    let (_s, mut raw) = setup().await;
    assert_eq!(
        raw.cmd(&["AUTH", "anything"]).await,
        Reply::err(
            "ERR AUTH <password> called without any password configured for the default user. \
             Are you sure your configuration is correct?"
        )
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hello_before_auth_is_refused_with_noauth() {
    let s = with_password().await;
    let mut raw = s.raw().await;
    assert_eq!(
        raw.cmd(&["HELLO", "3"]).await,
        Reply::err(
            "NOAUTH HELLO must be called with the client already authenticated, otherwise the \
             HELLO AUTH <user> <pass> option can be used to authenticate the client and select \
             the RESP protocol version at the same time"
        )
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hello_auth_authenticates_and_switches_protocol() {
    let s = with_password().await;
    let mut raw = s.raw().await;
    assert_eq!(
        raw.cmd(&["HELLO", "3", "AUTH", "default", "wrong"]).await,
        Reply::err("WRONGPASS invalid username-password pair or user is disabled.")
    );
    let reply = raw.cmd(&["HELLO", "3", "AUTH", "default", PASSWORD]).await;
    match reply {
        Reply::Map(pairs) => assert_eq!(map_get(&pairs, "proto"), &Reply::Int(3)),
        other => panic!("HELLO 3 AUTH gave {:?}", other),
    }
    assert_eq!(raw.cmd(&["GET", "k"]).await, Reply::Null);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_crate_authenticates_from_the_url_in_both_protocols() {
    let s = with_password().await;
    let mut c2 = s.conn().await;
    query::<()>(&mut c2, &["SET", "k", "v"]).await;
    let mut c3 = s.conn3().await;
    assert_eq!(query::<String>(&mut c3, &["GET", "k"]).await, "v");
    // Without the password the same URL fails.
    let client = redis::Client::open(s.url_no_auth()).unwrap();
    let mut unauth = tokio::time::timeout(IO_TIMEOUT, client.get_multiplexed_async_connection())
        .await
        .expect("connect timed out")
        .expect("TCP connect works");
    assert_eq!(
        query_err(&mut unauth, &["GET", "k"]).await,
        "NOAUTH Authentication required."
    );
}

// ---------------------------------------------------------------------------
// SELECT
// ---------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn select_switches_between_independent_databases() {
    let (_s, mut raw) = setup().await;
    assert_eq!(raw.cmd(&["SET", "k", "db0"]).await, Reply::ok());
    assert_eq!(raw.cmd(&["SELECT", "15"]).await, Reply::ok());
    assert_eq!(raw.cmd(&["GET", "k"]).await, Reply::nil());
    assert_eq!(raw.cmd(&["SET", "k", "db15"]).await, Reply::ok());
    assert_eq!(raw.cmd(&["SELECT", "0"]).await, Reply::ok());
    assert_eq!(raw.cmd(&["GET", "k"]).await, Reply::bulk("db0"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn select_out_of_range_is_refused() {
    let (_s, mut raw) = setup().await;
    assert_eq!(
        raw.cmd(&["SELECT", "16"]).await,
        Reply::err("ERR DB index is out of range")
    );
    assert_eq!(
        raw.cmd(&["SELECT", "-1"]).await,
        Reply::err("ERR DB index is out of range")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn select_with_non_integer_is_not_an_integer() {
    let (_s, mut raw) = setup().await;
    assert_eq!(
        raw.cmd(&["SELECT", "one"]).await,
        Reply::err("ERR value is not an integer or out of range")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn databases_setting_limits_select() {
    let s = TestServer::start_with(|c| c.databases = 4).await;
    let mut raw = s.raw().await;
    assert_eq!(raw.cmd(&["SELECT", "3"]).await, Reply::ok());
    assert_eq!(
        raw.cmd(&["SELECT", "4"]).await,
        Reply::err("ERR DB index is out of range")
    );
}

// ---------------------------------------------------------------------------
// CLIENT
// ---------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_setname_and_getname() {
    let (_s, mut raw) = setup().await;
    assert_eq!(raw.cmd(&["CLIENT", "GETNAME"]).await, Reply::nil());
    assert_eq!(
        raw.cmd(&["CLIENT", "SETNAME", "my-conn"]).await,
        Reply::ok()
    );
    assert_eq!(
        raw.cmd(&["CLIENT", "GETNAME"]).await,
        Reply::bulk("my-conn")
    );
    // An empty name clears it.
    assert_eq!(raw.cmd(&["CLIENT", "SETNAME", ""]).await, Reply::ok());
    assert_eq!(raw.cmd(&["CLIENT", "GETNAME"]).await, Reply::nil());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_setname_refuses_spaces() {
    let (_s, mut raw) = setup().await;
    assert_eq!(
        raw.cmd(&["CLIENT", "SETNAME", "has space"]).await,
        Reply::err("ERR Client names cannot contain spaces, newlines or special characters.")
    );
    assert_eq!(
        raw.cmd(&["CLIENT", "SETNAME", "new\nline"]).await,
        Reply::err("ERR Client names cannot contain spaces, newlines or special characters.")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_id_is_distinct_per_connection() {
    let (s, mut a) = setup().await;
    let mut b = s.raw().await;
    let ia = a.cmd(&["CLIENT", "ID"]).await;
    let ib = b.cmd(&["CLIENT", "ID"]).await;
    match (&ia, &ib) {
        (Reply::Int(x), Reply::Int(y)) => assert!(x != y && *x > 0 && *y > 0),
        other => panic!("CLIENT ID gave {:?}", other),
    }
    assert_eq!(a.cmd(&["CLIENT", "ID"]).await, ia);
}

async fn client_list_line(raw: &mut RawConn) -> (i64, String) {
    let id = match raw.cmd(&["CLIENT", "ID"]).await {
        Reply::Int(id) => id,
        other => panic!("CLIENT ID gave {:?}", other),
    };
    let list = raw.cmd(&["CLIENT", "LIST"]).await;
    let text = match &list {
        Reply::Bulk(Some(_)) => list.text(),
        other => panic!("CLIENT LIST should be a bulk string, got {:?}", other),
    };
    let line = text
        .lines()
        .find(|l| l.starts_with(&format!("id={} ", id)))
        .unwrap_or_else(|| panic!("own id {} not in CLIENT LIST:\n{}", id, text))
        .to_string();
    (id, line)
}

fn fields(line: &str) -> Vec<(String, String)> {
    line.split(' ')
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            (k.to_string(), v.to_string())
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_list_lists_every_connection_with_name_and_db() {
    let (s, mut raw) = setup().await;
    let mut other = s.raw().await;
    assert_eq!(
        other.cmd(&["CLIENT", "SETNAME", "other-conn"]).await,
        Reply::ok()
    );
    assert_eq!(raw.cmd(&["CLIENT", "SETNAME", "lister"]).await, Reply::ok());
    assert_eq!(raw.cmd(&["SELECT", "5"]).await, Reply::ok());
    let (_, line) = client_list_line(&mut raw).await;
    let f = fields(&line);
    let get = |k: &str| f.iter().find(|(key, _)| key == k).map(|(_, v)| v.as_str());
    assert_eq!(get("name"), Some("lister"));
    assert_eq!(get("db"), Some("5"));
    assert_eq!(get("flags"), Some("N"));
    assert_eq!(get("multi"), Some("-1"));
    assert_eq!(get("resp"), Some("2"));
    assert_eq!(get("user"), Some("default"));
    let laddr = s.addr().to_string();
    assert_eq!(get("laddr"), Some(laddr.as_str()));
    let all = raw.cmd(&["CLIENT", "LIST"]).await.text();
    assert!(all.contains(" name=other-conn "), "{}", all);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_list_has_redis_7_0_fields_in_order() {
    let (_s, mut raw) = setup().await;
    let (_, line) = client_list_line(&mut raw).await;
    let names: Vec<String> = fields(&line).into_iter().map(|(k, _)| k).collect();
    let expected = [
        "id",
        "addr",
        "laddr",
        "fd",
        "name",
        "age",
        "idle",
        "flags",
        "db",
        "sub",
        "psub",
        "ssub",
        "multi",
        "qbuf",
        "qbuf-free",
        "argv-mem",
        "multi-mem",
        "rbs",
        "rbp",
        "obl",
        "oll",
        "omem",
        "tot-mem",
        "events",
        "cmd",
        "user",
        "redir",
        "resp",
    ];
    // Redis 7.0's fields, in its order. cachet implements CLIENT SETINFO (a
    // Redis 7.2 command its specification asks for), so like Redis 7.2 it
    // adds lib-name and lib-ver after them.
    assert_eq!(
        &names[..expected.len()],
        &expected[..],
        "CLIENT LIST line: {}",
        line
    );
    if !against_redis() {
        assert_eq!(
            &names[expected.len()..],
            &["lib-name", "lib-ver"],
            "CLIENT LIST line: {}",
            line
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_list_shows_the_running_command_for_the_caller() {
    let (_s, mut raw) = setup().await;
    let (_, line) = client_list_line(&mut raw).await;
    assert!(line.contains(" cmd=client|list "), "{}", line);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_info_describes_the_caller() {
    let (_s, mut raw) = setup().await;
    let id = match raw.cmd(&["CLIENT", "ID"]).await {
        Reply::Int(id) => id,
        other => panic!("{:?}", other),
    };
    let info = raw.cmd(&["CLIENT", "INFO"]).await.text();
    assert!(info.starts_with(&format!("id={} addr=", id)), "{}", info);
    assert!(info.ends_with('\n'), "{:?}", info);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_setinfo_names_the_library_in_client_list() {
    // CLIENT SETINFO arrived in Redis 7.2; cachet has it because client
    // libraries send it on connect. Redis 7.0 answers unknown subcommand.
    if against_redis() {
        return;
    }
    let (_s, mut raw) = setup().await;
    assert_eq!(
        raw.cmd(&["CLIENT", "SETINFO", "lib-name", "mylib"]).await,
        Reply::ok()
    );
    assert_eq!(
        raw.cmd(&["CLIENT", "SETINFO", "lib-ver", "1.2.3"]).await,
        Reply::ok()
    );
    let info = raw.cmd(&["CLIENT", "INFO"]).await.text();
    assert!(info.contains(" lib-name=mylib lib-ver=1.2.3"), "{}", info);
    assert_eq!(
        raw.cmd(&["CLIENT", "SETINFO", "lib-name", "my lib"]).await,
        Reply::err("ERR lib-name cannot contain spaces, newlines or special characters.")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_unknown_subcommand_is_an_error() {
    let (_s, mut raw) = setup().await;
    assert_eq!(
        raw.cmd(&["CLIENT", "BOGUS"]).await,
        Reply::err("ERR unknown subcommand 'BOGUS'. Try CLIENT HELP.")
    );
}

// ---------------------------------------------------------------------------
// INFO
// ---------------------------------------------------------------------------

fn section_headers(info: &str) -> Vec<String> {
    info.lines()
        .filter(|l| l.starts_with("# "))
        .map(|l| l.trim_end().to_string())
        .collect()
}

const DEFAULT_SECTIONS: [&str; 11] = [
    "# Server",
    "# Clients",
    "# Memory",
    "# Persistence",
    "# Stats",
    "# Replication",
    "# CPU",
    "# Modules",
    "# Errorstats",
    "# Cluster",
    "# Keyspace",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn info_without_arguments_has_the_default_sections_in_order() {
    let (_s, mut raw) = setup().await;
    let info = raw.cmd(&["INFO"]).await;
    assert!(
        matches!(info, Reply::Bulk(Some(_))),
        "INFO must be a bulk string"
    );
    let info = info.text();
    assert_eq!(section_headers(&info), DEFAULT_SECTIONS);
    assert!(info.contains("\r\n"), "INFO lines end with CRLF");
    assert_eq!(
        section_headers(&raw.cmd(&["INFO", "default"]).await.text()),
        DEFAULT_SECTIONS
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn info_all_orders_sections_like_redis() {
    let (_s, mut raw) = setup().await;
    let expected = [
        "# Server",
        "# Clients",
        "# Memory",
        "# Persistence",
        "# Stats",
        "# Replication",
        "# CPU",
        "# Modules",
        "# Commandstats",
        "# Errorstats",
        "# Latencystats",
        "# Cluster",
        "# Keyspace",
    ];
    assert_eq!(
        section_headers(&raw.cmd(&["INFO", "all"]).await.text()),
        expected
    );
    assert_eq!(
        section_headers(&raw.cmd(&["INFO", "everything"]).await.text()),
        expected
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn info_selected_sections_only() {
    let (s, mut raw) = setup().await;
    let server = raw.cmd(&["INFO", "server"]).await.text();
    assert_eq!(section_headers(&server), ["# Server"]);
    assert_eq!(
        info_field(&server, "redis_version").as_deref(),
        Some("7.0.15")
    );
    assert_eq!(
        info_field(&server, "redis_mode").as_deref(),
        Some("standalone")
    );
    assert_eq!(
        info_field(&server, "tcp_port").as_deref(),
        Some(s.port().to_string().as_str())
    );
    let two = raw.cmd(&["INFO", "CLIENTS", "keyspace"]).await.text();
    assert_eq!(section_headers(&two), ["# Clients", "# Keyspace"]);
    assert_eq!(raw.cmd(&["INFO", "nosuchsection"]).await, Reply::bulk(""));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn info_clients_counts_connections() {
    let (s, mut raw) = setup().await;
    let mut b = s.raw().await;
    let mut c = s.raw().await;
    assert_eq!(b.cmd(&["PING"]).await, Reply::Simple("PONG".into()));
    assert_eq!(c.cmd(&["PING"]).await, Reply::Simple("PONG".into()));
    let info = raw.cmd(&["INFO", "clients"]).await.text();
    assert_eq!(info_field(&info, "connected_clients").as_deref(), Some("3"));
    assert_eq!(info_field(&info, "maxclients").as_deref(), Some("10000"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn info_keyspace_reports_keys_and_expires_per_db() {
    let (_s, mut raw) = setup().await;
    assert_eq!(
        raw.cmd(&["INFO", "keyspace"]).await.text(),
        "# Keyspace\r\n"
    );
    raw.cmd(&["SET", "a", "1"]).await;
    raw.cmd(&["SET", "b", "1", "EX", "1000"]).await;
    raw.cmd(&["SELECT", "3"]).await;
    raw.cmd(&["SET", "c", "1"]).await;
    let info = raw.cmd(&["INFO", "keyspace"]).await.text();
    let db0 = info_field(&info, "db0").expect("db0 line");
    assert!(db0.starts_with("keys=2,expires=1,avg_ttl="), "{}", db0);
    assert_eq!(
        info_field(&info, "db3").as_deref(),
        Some("keys=1,expires=0,avg_ttl=0")
    );
    assert_eq!(info_field(&info, "db1"), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn info_keyspace_estimates_the_average_ttl() {
    let (_s, mut raw) = setup().await;
    for i in 0..20 {
        raw.cmd(&["SET", &format!("k{}", i), "v", "EX", "1000"])
            .await;
    }
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let avg_ttl = loop {
        let info = raw.cmd(&["INFO", "keyspace"]).await.text();
        let db0 = info_field(&info, "db0").expect("db0 line");
        let avg: u64 = db0
            .rsplit("avg_ttl=")
            .next()
            .unwrap()
            .parse()
            .expect("avg_ttl number");
        if avg > 0 || std::time::Instant::now() >= deadline {
            break avg;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    };
    assert!(
        (900_000..=1_000_000).contains(&avg_ttl),
        "avg_ttl {} for keys with 1000 s left",
        avg_ttl
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn info_stats_counts_commands_and_keyspace_hits() {
    let (s, mut raw) = setup().await;
    raw.cmd(&["SET", "k", "v"]).await;
    raw.cmd(&["GET", "k"]).await;
    raw.cmd(&["GET", "k"]).await;
    raw.cmd(&["GET", "missing"]).await;
    let mut other = s.raw().await;
    let info = other.cmd(&["INFO", "stats"]).await.text();
    assert_eq!(info_field(&info, "keyspace_hits").as_deref(), Some("2"));
    assert_eq!(info_field(&info, "keyspace_misses").as_deref(), Some("1"));
    let processed: u64 = info_field(&info, "total_commands_processed")
        .unwrap()
        .parse()
        .unwrap();
    assert!(processed >= 4, "total_commands_processed {}", processed);
}

// ---------------------------------------------------------------------------
// CONFIG
// ---------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn config_get_returns_name_value_pairs() {
    let (_s, mut raw) = setup().await;
    assert_eq!(
        raw.cmd(&["CONFIG", "GET", "maxmemory"]).await,
        Reply::array(vec![Reply::bulk("maxmemory"), Reply::bulk("0")])
    );
    assert_eq!(
        raw.cmd(&["CONFIG", "GET", "databases"]).await,
        Reply::array(vec![Reply::bulk("databases"), Reply::bulk("16")])
    );
    assert_eq!(
        raw.cmd(&["CONFIG", "GET", "no-such-param"]).await,
        Reply::array(vec![])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn config_get_accepts_globs_and_several_parameters() {
    let (_s, mut raw) = setup().await;
    let pairs = |r: Reply| -> Vec<(String, String)> {
        match r {
            Reply::Array(Some(items)) => items
                .chunks(2)
                .map(|p| (p[0].text(), p[1].text()))
                .collect(),
            other => panic!("{:?}", other),
        }
    };
    let glob = pairs(raw.cmd(&["CONFIG", "GET", "maxmemory*"]).await);
    for (name, value) in [
        ("maxmemory", "0"),
        ("maxmemory-policy", "noeviction"),
        ("maxmemory-samples", "5"),
    ] {
        assert!(
            glob.contains(&(name.to_string(), value.to_string())),
            "{} missing from {:?}",
            name,
            glob
        );
    }
    assert!(
        glob.iter().all(|(n, _)| n.starts_with("maxmemory")),
        "{:?}",
        glob
    );
    let mut several = pairs(raw.cmd(&["CONFIG", "GET", "timeout", "hz"]).await);
    several.sort();
    assert_eq!(
        several,
        vec![("hz".into(), "10".into()), ("timeout".into(), "0".into())]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn config_set_changes_what_config_get_returns() {
    let (_s, mut raw) = setup().await;
    assert_eq!(
        raw.cmd(&["CONFIG", "SET", "maxmemory", "10mb"]).await,
        Reply::ok()
    );
    assert_eq!(
        raw.cmd(&["CONFIG", "GET", "maxmemory"]).await,
        Reply::array(vec![Reply::bulk("maxmemory"), Reply::bulk("10485760")])
    );
    assert_eq!(
        raw.cmd(&[
            "CONFIG",
            "SET",
            "maxmemory",
            "0",
            "maxmemory-policy",
            "allkeys-lru"
        ])
        .await,
        Reply::ok()
    );
    assert_eq!(
        raw.cmd(&["CONFIG", "GET", "maxmemory-policy"]).await,
        Reply::array(vec![
            Reply::bulk("maxmemory-policy"),
            Reply::bulk("allkeys-lru")
        ])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn config_set_unknown_parameter_is_refused() {
    let (_s, mut raw) = setup().await;
    assert_eq!(
        raw.cmd(&["CONFIG", "SET", "no-such-param", "1"]).await,
        Reply::err("ERR Unknown option or number of arguments for CONFIG SET - 'no-such-param'")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn config_set_immutable_parameter_is_refused() {
    let (_s, mut raw) = setup().await;
    assert_eq!(
        raw.cmd(&["CONFIG", "SET", "databases", "32"]).await,
        Reply::err(
            "ERR CONFIG SET failed (possibly related to argument 'databases') - can't set immutable config"
        )
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn config_set_port_moves_the_listener_and_keeps_open_connections() {
    let server = TestServer::start().await;
    let mut old = server.raw().await;
    assert_eq!(old.cmd(&["SET", "k", "v"]).await, Reply::ok());
    let port = free_port();
    assert_eq!(
        old.cmd(&["CONFIG", "SET", "port", &port.to_string()]).await,
        Reply::ok()
    );
    // The connection made before the move still works...
    assert_eq!(old.cmd(&["GET", "k"]).await, Reply::bulk("v"));
    // ...new ones arrive on the new port...
    let mut moved = RawConn::connect(([127, 0, 0, 1], port).into()).await;
    assert_eq!(moved.cmd(&["GET", "k"]).await, Reply::bulk("v"));
    assert_eq!(
        moved.cmd(&["CONFIG", "GET", "port"]).await,
        Reply::array(vec![Reply::bulk("port"), Reply::bulk(&port.to_string())])
    );
    // ...and the old port no longer accepts them.
    let refused = tokio::net::TcpStream::connect(server.addr()).await;
    assert!(refused.is_err(), "the old port still accepts connections");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn config_set_port_that_is_taken_changes_nothing() {
    let server = TestServer::start().await;
    let mut raw = server.raw().await;
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let taken_port = taken.local_addr().unwrap().port().to_string();
    assert_eq!(
        raw.cmd(&["CONFIG", "SET", "maxmemory", "12345678", "port", &taken_port]).await,
        Reply::err(
            "ERR CONFIG SET failed (possibly related to argument 'port') - Unable to listen on this port. Check server logs."
        )
    );
    assert_eq!(
        raw.cmd(&["CONFIG", "GET", "maxmemory"]).await,
        Reply::array(vec![Reply::bulk("maxmemory"), Reply::bulk("0")])
    );
    let mut again = server.raw().await;
    assert_eq!(again.cmd(&["PING"]).await, Reply::Simple("PONG".into()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn config_set_invalid_memory_value_is_refused() {
    let (_s, mut raw) = setup().await;
    assert_eq!(
        raw.cmd(&["CONFIG", "SET", "maxmemory", "lots"]).await,
        Reply::err(
            "ERR CONFIG SET failed (possibly related to argument 'maxmemory') - argument must be a memory value"
        )
    );
    assert_eq!(
        raw.cmd(&["CONFIG", "GET", "maxmemory"]).await,
        Reply::array(vec![Reply::bulk("maxmemory"), Reply::bulk("0")])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn config_set_invalid_integer_value_is_refused() {
    let (_s, mut raw) = setup().await;
    assert_eq!(
        raw.cmd(&["CONFIG", "SET", "hz", "often"]).await,
        Reply::err(
            "ERR CONFIG SET failed (possibly related to argument 'hz') - argument couldn't be parsed into an integer"
        )
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn config_set_hz_above_500_is_clamped() {
    let (_s, mut raw) = setup().await;
    assert_eq!(raw.cmd(&["CONFIG", "SET", "hz", "1000"]).await, Reply::ok());
    assert_eq!(
        raw.cmd(&["CONFIG", "GET", "hz"]).await,
        Reply::array(vec![Reply::bulk("hz"), Reply::bulk("500")])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn small_writes_succeed_under_a_generous_maxmemory() {
    // An empty Redis 7.0 uses about 1 MB; 8 MB leaves plenty of room for one key.
    // The binary runs as its own process: its used_memory comes from jemalloc.
    let server = TestServer::start_process().await;
    let mut raw = server.raw().await;
    assert_eq!(
        raw.cmd(&["CONFIG", "SET", "maxmemory", "8mb"]).await,
        Reply::ok()
    );
    assert_eq!(raw.cmd(&["SET", "k", "v"]).await, Reply::ok());
    let info = raw.cmd(&["INFO", "memory"]).await.text();
    let used: u64 = info_field(&info, "used_memory").unwrap().parse().unwrap();
    assert!(used < 8 * 1024 * 1024, "used_memory {} with one key", used);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn config_set_invalid_enum_value_lists_the_choices() {
    let (_s, mut raw) = setup().await;
    assert_eq!(
        raw.cmd(&["CONFIG", "SET", "maxmemory-policy", "sometimes"]).await,
        Reply::err(
            "ERR CONFIG SET failed (possibly related to argument 'maxmemory-policy') - argument(s) must be one of the following: volatile-lru, volatile-lfu, volatile-random, volatile-ttl, allkeys-lru, allkeys-lfu, allkeys-random, noeviction"
        )
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn config_help_matches_redis() {
    let (_s, mut raw) = setup().await;
    let lines: Vec<Reply> = [
        "CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "GET <pattern>",
        "    Return parameters matching the glob-like <pattern> and their values.",
        "SET <directive> <value>",
        "    Set the configuration <directive> to <value>.",
        "RESETSTAT",
        "    Reset statistics reported by the INFO command.",
        "REWRITE",
        "    Rewrite the configuration file.",
        "HELP",
        "    Prints this help.",
    ]
    .iter()
    .map(|l| Reply::Simple(l.to_string()))
    .collect();
    assert_eq!(raw.cmd(&["CONFIG", "HELP"]).await, Reply::array(lines));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn config_wrong_arity_names_the_subcommand() {
    let (_s, mut raw) = setup().await;
    assert_eq!(
        raw.cmd(&["CONFIG", "GET"]).await,
        Reply::err("ERR wrong number of arguments for 'config|get' command")
    );
    assert_eq!(
        raw.cmd(&["CONFIG", "SET", "maxmemory"]).await,
        Reply::err("ERR wrong number of arguments for 'config|set' command")
    );
}

// ---------------------------------------------------------------------------
// SLOWLOG
// ---------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slowlog_get_with_bad_count_is_refused() {
    let (_s, mut raw) = setup().await;
    assert_eq!(
        raw.cmd(&["SLOWLOG", "GET", "many"]).await,
        Reply::err("ERR count should be greater than or equal to -1")
    );
    assert_eq!(
        raw.cmd(&["SLOWLOG", "GET", "-2"]).await,
        Reply::err("ERR count should be greater than or equal to -1")
    );
    assert_eq!(raw.cmd(&["SLOWLOG", "LEN"]).await, Reply::Int(0));
}

// ---------------------------------------------------------------------------
// COMMAND
// ---------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn command_count_matches_the_command_reply() {
    let (_s, mut raw) = setup().await;
    let count = match raw.cmd(&["COMMAND", "COUNT"]).await {
        Reply::Int(n) => n,
        other => panic!("{:?}", other),
    };
    let list = match raw.cmd(&["COMMAND", "LIST"]).await {
        Reply::Array(Some(items)) => items,
        other => panic!("{:?}", other),
    };
    let all = match raw.cmd(&["COMMAND"]).await {
        Reply::Array(Some(items)) => items,
        other => panic!("{:?}", other),
    };
    assert_eq!(count as usize, all.len());
    // COMMAND LIST also names subcommands (container|sub).
    let names: Vec<String> = list.iter().map(|r| r.text()).collect();
    assert!(names.len() > all.len());
    for name in [
        "get",
        "set",
        "mset",
        "lcs",
        "scan",
        "multi",
        "exec",
        "hello",
        "command",
        "config|get",
        "client|list",
    ] {
        assert!(
            names.iter().any(|n| n == name),
            "{} missing from COMMAND LIST",
            name
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn command_info_get_reports_arity_flags_keys_and_categories() {
    let (_s, mut raw) = setup().await;
    let reply = raw.cmd(&["COMMAND", "INFO", "get"]).await;
    let entry = match reply {
        Reply::Array(Some(mut items)) if items.len() == 1 => items.remove(0),
        other => panic!("{:?}", other),
    };
    let items = match entry {
        Reply::Array(Some(items)) => items,
        other => panic!("{:?}", other),
    };
    assert_eq!(items.len(), 10);
    let s = |x: &str| Reply::Simple(x.into());
    assert_eq!(
        items[..7].to_vec(),
        vec![
            Reply::bulk("get"),
            Reply::Int(2),
            Reply::array(vec![s("readonly"), s("fast")]),
            Reply::Int(1),
            Reply::Int(1),
            Reply::Int(1),
            Reply::array(vec![s("@read"), s("@string"), s("@fast")]),
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn command_info_get_reports_key_specs() {
    let (_s, mut raw) = setup().await;
    let reply = raw.cmd(&["COMMAND", "INFO", "GET"]).await;
    let items = match reply {
        Reply::Array(Some(mut outer)) => match outer.remove(0) {
            Reply::Array(Some(items)) => items,
            other => panic!("{:?}", other),
        },
        other => panic!("{:?}", other),
    };
    let s = |x: &str| Reply::Simple(x.into());
    let b = Reply::bulk;
    let expected_spec = Reply::array(vec![
        b("flags"),
        Reply::array(vec![s("RO"), s("access")]),
        b("begin_search"),
        Reply::array(vec![
            b("type"),
            b("index"),
            b("spec"),
            Reply::array(vec![b("index"), Reply::Int(1)]),
        ]),
        b("find_keys"),
        Reply::array(vec![
            b("type"),
            b("range"),
            b("spec"),
            Reply::array(vec![
                b("lastkey"),
                Reply::Int(0),
                b("keystep"),
                Reply::Int(1),
                b("limit"),
                Reply::Int(0),
            ]),
        ]),
    ]);
    assert_eq!(items[8], Reply::array(vec![expected_spec]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn command_info_of_a_subcommand_lists_its_categories() {
    let (_s, mut raw) = setup().await;
    let reply = raw.cmd(&["COMMAND", "INFO", "client|id"]).await;
    let s = |x: &str| Reply::Simple(x.into());
    let expected = Reply::array(vec![Reply::array(vec![
        Reply::bulk("client|id"),
        Reply::Int(2),
        Reply::array(vec![s("noscript"), s("loading"), s("stale")]),
        Reply::Int(0),
        Reply::Int(0),
        Reply::Int(0),
        Reply::array(vec![s("@slow"), s("@connection")]),
        Reply::array(vec![]),
        Reply::array(vec![]),
        Reply::array(vec![]),
    ])]);
    assert_eq!(reply, expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "cachet differs: COMMAND DOCS has summary, since and group but not Redis 7.0's complexity and arguments"]
async fn command_docs_get_matches_redis_7_0() {
    let (_s, mut raw) = setup().await;
    let b = Reply::bulk;
    let expected = Reply::array(vec![
        b("get"),
        Reply::array(vec![
            b("summary"),
            b("Get the value of a key"),
            b("since"),
            b("1.0.0"),
            b("group"),
            b("string"),
            b("complexity"),
            b("O(1)"),
            b("arguments"),
            Reply::array(vec![Reply::array(vec![
                b("name"),
                b("key"),
                b("type"),
                b("key"),
                b("key_spec_index"),
                Reply::Int(0),
            ])]),
        ]),
    ]);
    assert_eq!(raw.cmd(&["COMMAND", "DOCS", "get"]).await, expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn command_info_of_unknown_command_is_nil() {
    let (_s, mut raw) = setup().await;
    match raw.cmd(&["COMMAND", "INFO", "nosuchcommand", "set"]).await {
        Reply::Array(Some(items)) => {
            assert_eq!(items.len(), 2);
            assert_eq!(items[0], Reply::nil());
            assert!(matches!(&items[1], Reply::Array(Some(v)) if v[0] == Reply::bulk("set")));
        }
        other => panic!("{:?}", other),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn command_getkeys_extracts_key_arguments() {
    let (_s, mut raw) = setup().await;
    let b = Reply::bulk;
    assert_eq!(
        raw.cmd(&["COMMAND", "GETKEYS", "MSET", "a", "1", "b", "2"])
            .await,
        Reply::array(vec![b("a"), b("b")])
    );
    assert_eq!(
        raw.cmd(&["COMMAND", "GETKEYS", "SET", "k", "v", "EX", "10"])
            .await,
        Reply::array(vec![b("k")])
    );
    assert_eq!(
        raw.cmd(&["COMMAND", "GETKEYS", "COPY", "src", "dst", "DB", "1"])
            .await,
        Reply::array(vec![b("src"), b("dst")])
    );
    assert_eq!(
        raw.cmd(&["COMMAND", "GETKEYS", "DEL", "x", "y", "z"]).await,
        Reply::array(vec![b("x"), b("y"), b("z")])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn command_getkeys_errors() {
    let (_s, mut raw) = setup().await;
    assert_eq!(
        raw.cmd(&["COMMAND", "GETKEYS", "nosuchcommand", "a"]).await,
        Reply::err("ERR Invalid command specified")
    );
    assert_eq!(
        raw.cmd(&["COMMAND", "GETKEYS", "SET", "k"]).await,
        Reply::err("ERR Invalid number of arguments specified for command")
    );
    assert_eq!(
        raw.cmd(&["COMMAND", "GETKEYS", "PING", "x"]).await,
        Reply::err("ERR The command has no key arguments")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn command_getkeys_with_only_a_command_name_is_wrong_arity() {
    // COMMAND GETKEYS has arity -4 in Redis 7.0.
    let (_s, mut raw) = setup().await;
    assert_eq!(
        raw.cmd(&["COMMAND", "GETKEYS", "GET"]).await,
        Reply::err("ERR wrong number of arguments for 'command|getkeys' command")
    );
}

// ---------------------------------------------------------------------------
// maxclients
// ---------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connection_beyond_maxclients_is_rejected_with_redis_error() {
    let s = TestServer::start_with(|c| c.maxclients = 2).await;
    let mut a = s.raw().await;
    let mut b = s.raw().await;
    assert_eq!(a.cmd(&["PING"]).await, Reply::Simple("PONG".into()));
    assert_eq!(b.cmd(&["PING"]).await, Reply::Simple("PONG".into()));
    let mut c = s.raw().await;
    assert_eq!(
        c.try_read_reply().await,
        Some(Reply::err("ERR max number of clients reached"))
    );
    assert!(
        c.is_closed_by_server().await,
        "rejected connection stays open"
    );
    // The rejection is counted, and the admitted clients still work.
    let info = a.cmd(&["INFO", "stats"]).await.text();
    assert_eq!(
        info_field(&info, "rejected_connections").as_deref(),
        Some("1")
    );
    // Once a slot frees up, a new client gets in.
    drop(b);
    let admitted = wait_until(std::time::Duration::from_secs(5), || {
        let addr = s.addr();
        async move {
            let mut d = RawConn::connect(addr).await;
            d.try_send(&encode_command(&["PING"])).await
                && d.try_read_reply().await == Some(Reply::Simple("PONG".into()))
        }
    })
    .await;
    assert!(admitted, "no client admitted after one disconnected");
}

async fn busy_poll_wakeups(con: &mut redis::aio::MultiplexedConnection) -> u64 {
    let info: String = query(con, &["INFO", "stats"]).await;
    info_field(&info, "busy_poll_wakeups")
        .and_then(|v| v.parse().ok())
        .expect("INFO stats has busy_poll_wakeups")
}

#[tokio::test]
async fn busy_poll_spins_after_reads_only_while_configured() {
    // A test's load is light: with the default threshold the spinner would
    // rightly never spin, so the threshold is 0 here.
    let s = TestServer::start_with(|c| c.busy_poll_min_load = 0).await;
    let mut con = s.conn().await;
    let budget: Vec<String> = query(&mut con, &["CONFIG", "GET", "busy-poll-us"]).await;
    assert_eq!(budget, vec!["busy-poll-us".to_string(), "100".to_string()]);
    // On (the default): reads wake the spinner, and the server answers.
    for i in 0..50 {
        let echoed: String = query(&mut con, &["ECHO", &i.to_string()]).await;
        assert_eq!(echoed, i.to_string());
    }
    let mut probe = s.conn().await;
    assert!(
        wait_until(Duration::from_secs(10), || {
            let mut probe = probe.clone();
            async move { busy_poll_wakeups(&mut probe).await > 0 }
        })
        .await,
        "reads never woke the busy-poll spinner"
    );
    // Off: the spinner stays asleep however many requests come.
    let _: () = query(&mut con, &["CONFIG", "SET", "busy-poll-us", "0"]).await;
    let before = busy_poll_wakeups(&mut probe).await;
    for i in 0..50 {
        let echoed: String = query(&mut con, &["ECHO", &i.to_string()]).await;
        assert_eq!(echoed, i.to_string());
    }
    assert_eq!(busy_poll_wakeups(&mut probe).await, before);
    // On again: it spins after reads once more.
    let _: () = query(&mut con, &["CONFIG", "SET", "busy-poll-us", "20"]).await;
    assert!(
        wait_until(Duration::from_secs(10), || {
            let mut con = con.clone();
            let mut probe = probe.clone();
            async move {
                let _: String = query(&mut con, &["PING"]).await;
                busy_poll_wakeups(&mut probe).await > before
            }
        })
        .await,
        "busy-poll-us 20 did not turn the spinner back on"
    );
    let err = query_err(&mut con, &["CONFIG", "SET", "busy-poll-us", "-1"]).await;
    assert!(err.contains("busy-poll-us"), "{}", err);
    let err = query_err(&mut con, &["CONFIG", "SET", "busy-poll-min-load", "101"]).await;
    assert!(err.contains("busy-poll-min-load"), "{}", err);
}

#[tokio::test]
async fn busy_poll_stays_off_below_its_load_threshold() {
    // Requests 5 ms apart keep the workers mostly idle, far below 100%
    // (back to back, client and server on one runtime would reach it).
    let s = TestServer::start_with(|c| c.busy_poll_min_load = 100).await;
    let mut con = s.conn().await;
    for i in 0..40 {
        let echoed: String = query(&mut con, &["ECHO", &i.to_string()]).await;
        assert_eq!(echoed, i.to_string());
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert_eq!(busy_poll_wakeups(&mut con).await, 0);
}
