//! String commands: SET and its options, counters, ranges, multi-key forms,
//! GETEX/GETDEL and LCS, checked against Redis 7.0's replies and error texts.

mod common;

use common::*;
use redis::Value;

async fn setup() -> (TestServer, redis::aio::MultiplexedConnection) {
    let server = TestServer::start().await;
    let con = server.conn().await;
    (server, con)
}

// ---------------------------------------------------------------------------
// SET and its options
// ---------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn set_replies_ok_and_get_returns_the_value() {
    let (_s, mut c) = setup().await;
    let mut raw = _s.raw().await;
    assert_eq!(raw.cmd(&["SET", "k", "hello"]).await, Reply::ok());
    assert_eq!(raw.cmd(&["GET", "k"]).await, Reply::bulk("hello"));
    assert_eq!(
        query::<Option<String>>(&mut c, &["GET", "k"])
            .await
            .as_deref(),
        Some("hello")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_of_missing_key_is_nil() {
    let (s, _c) = setup().await;
    let mut raw = s.raw().await;
    assert_eq!(raw.cmd(&["GET", "nosuchkey"]).await, Reply::nil());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn set_is_binary_safe() {
    let (_s, mut c) = setup().await;
    let value: Vec<u8> = (0u8..=255).collect();
    let reply: Value = redis::cmd("SET")
        .arg("bin")
        .arg(&value)
        .query_async(&mut c)
        .await
        .unwrap();
    assert_eq!(reply, Value::Okay);
    let got: Vec<u8> = query(&mut c, &["GET", "bin"]).await;
    assert_eq!(got, value);
    assert_eq!(query::<i64>(&mut c, &["STRLEN", "bin"]).await, 256);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn set_nx_does_not_overwrite_existing_key() {
    let (s, mut c) = setup().await;
    query::<()>(&mut c, &["SET", "k", "v1"]).await;
    let mut raw = s.raw().await;
    assert_eq!(raw.cmd(&["SET", "k", "v2", "NX"]).await, Reply::nil());
    assert_eq!(raw.cmd(&["GET", "k"]).await, Reply::bulk("v1"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn set_nx_creates_missing_key() {
    let (s, _c) = setup().await;
    let mut raw = s.raw().await;
    assert_eq!(raw.cmd(&["SET", "k", "v", "NX"]).await, Reply::ok());
    assert_eq!(raw.cmd(&["GET", "k"]).await, Reply::bulk("v"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn set_xx_on_missing_key_returns_nil_and_creates_nothing() {
    let (s, mut c) = setup().await;
    let mut raw = s.raw().await;
    assert_eq!(raw.cmd(&["SET", "k", "v", "XX"]).await, Reply::nil());
    assert_eq!(query::<i64>(&mut c, &["EXISTS", "k"]).await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn set_xx_overwrites_existing_key() {
    let (s, mut c) = setup().await;
    query::<()>(&mut c, &["SET", "k", "old"]).await;
    let mut raw = s.raw().await;
    assert_eq!(raw.cmd(&["SET", "k", "new", "XX"]).await, Reply::ok());
    assert_eq!(raw.cmd(&["GET", "k"]).await, Reply::bulk("new"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn set_get_returns_previous_value_and_sets_new_one() {
    let (s, _c) = setup().await;
    let mut raw = s.raw().await;
    assert_eq!(raw.cmd(&["SET", "k", "first", "GET"]).await, Reply::nil());
    assert_eq!(
        raw.cmd(&["SET", "k", "second", "GET"]).await,
        Reply::bulk("first")
    );
    assert_eq!(raw.cmd(&["GET", "k"]).await, Reply::bulk("second"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn set_nx_get_returns_old_value_without_overwriting() {
    let (s, _c) = setup().await;
    let mut raw = s.raw().await;
    assert_eq!(raw.cmd(&["SET", "k", "a", "NX", "GET"]).await, Reply::nil());
    assert_eq!(raw.cmd(&["GET", "k"]).await, Reply::bulk("a"));
    assert_eq!(
        raw.cmd(&["SET", "k", "b", "NX", "GET"]).await,
        Reply::bulk("a")
    );
    assert_eq!(raw.cmd(&["GET", "k"]).await, Reply::bulk("a"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn set_with_conflicting_options_is_a_syntax_error() {
    let (_s, mut c) = setup().await;
    for args in [
        &["SET", "k", "v", "NX", "XX"][..],
        &["SET", "k", "v", "EX", "10", "PX", "100"],
        &["SET", "k", "v", "EX", "10", "KEEPTTL"],
        &["SET", "k", "v", "KEEPTTL", "PXAT", "100000000000000"],
        &["SET", "k", "v", "EXAT", "100", "EX", "10"],
        &["SET", "k", "v", "EX"],
        &["SET", "k", "v", "BOGUS"],
        &["SET", "k", "v", "NX", "NX", "XX"],
    ] {
        assert_eq!(
            query_err(&mut c, args).await,
            "ERR syntax error",
            "{:?}",
            args
        );
    }
    assert_eq!(query::<i64>(&mut c, &["EXISTS", "k"]).await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn set_repeating_nx_is_accepted() {
    let (s, _c) = setup().await;
    let mut raw = s.raw().await;
    assert_eq!(raw.cmd(&["SET", "k", "v", "NX", "NX"]).await, Reply::ok());
    assert_eq!(raw.cmd(&["SET", "k", "w", "XX", "xx"]).await, Reply::ok());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn set_repeating_get_is_accepted() {
    let (s, _c) = setup().await;
    let mut raw = s.raw().await;
    assert_eq!(raw.cmd(&["SET", "k", "v"]).await, Reply::ok());
    assert_eq!(
        raw.cmd(&["SET", "k", "w", "get", "GET"]).await,
        Reply::bulk("v")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn set_with_non_positive_expire_is_invalid_expire_time() {
    let (_s, mut c) = setup().await;
    for args in [
        &["SET", "k", "v", "EX", "0"][..],
        &["SET", "k", "v", "EX", "-1"],
        &["SET", "k", "v", "PX", "0"],
        &["SET", "k", "v", "PX", "-100"],
        &["SET", "k", "v", "EXAT", "0"],
        &["SET", "k", "v", "PXAT", "-5"],
    ] {
        assert_eq!(
            query_err(&mut c, args).await,
            "ERR invalid expire time in 'set' command",
            "{:?}",
            args
        );
    }
    assert_eq!(query::<i64>(&mut c, &["EXISTS", "k"]).await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn set_with_expire_overflowing_milliseconds_is_invalid_expire_time() {
    let (_s, mut c) = setup().await;
    assert_eq!(
        query_err(&mut c, &["SET", "k", "v", "EX", "10000000000000000"]).await,
        "ERR invalid expire time in 'set' command"
    );
    assert_eq!(
        query_err(&mut c, &["SET", "k", "v", "PX", "9223372036854775807"]).await,
        "ERR invalid expire time in 'set' command"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn set_with_non_integer_expire_is_not_an_integer() {
    let (_s, mut c) = setup().await;
    assert_eq!(
        query_err(&mut c, &["SET", "k", "v", "EX", "ten"]).await,
        "ERR value is not an integer or out of range"
    );
    assert_eq!(
        query_err(&mut c, &["SET", "k", "v", "PX", "1.5"]).await,
        "ERR value is not an integer or out of range"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn set_with_wrong_argument_count_names_the_command() {
    let (_s, mut c) = setup().await;
    assert_eq!(
        query_err(&mut c, &["SET", "k"]).await,
        "ERR wrong number of arguments for 'set' command"
    );
    assert_eq!(
        query_err(&mut c, &["GET"]).await,
        "ERR wrong number of arguments for 'get' command"
    );
    assert_eq!(
        query_err(&mut c, &["GET", "a", "b"]).await,
        "ERR wrong number of arguments for 'get' command"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_command_error_quotes_name_and_arguments() {
    let (_s, mut c) = setup().await;
    assert_eq!(
        query_err(&mut c, &["NOSUCHCMD", "a", "b"]).await,
        "ERR unknown command 'NOSUCHCMD', with args beginning with: 'a' 'b' "
    );
    assert_eq!(
        query_err(&mut c, &["nosuchcmd"]).await,
        "ERR unknown command 'nosuchcmd', with args beginning with: "
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn setnx_setex_psetex_getset() {
    let (s, mut c) = setup().await;
    let mut raw = s.raw().await;
    assert_eq!(raw.cmd(&["SETNX", "k", "a"]).await, Reply::Int(1));
    assert_eq!(raw.cmd(&["SETNX", "k", "b"]).await, Reply::Int(0));
    assert_eq!(raw.cmd(&["GET", "k"]).await, Reply::bulk("a"));
    assert_eq!(raw.cmd(&["SETEX", "e", "100", "v"]).await, Reply::ok());
    let ttl: i64 = query(&mut c, &["TTL", "e"]).await;
    assert!((99..=100).contains(&ttl), "ttl {}", ttl);
    assert_eq!(raw.cmd(&["PSETEX", "p", "100000", "v"]).await, Reply::ok());
    let pttl: i64 = query(&mut c, &["PTTL", "p"]).await;
    assert!((99_000..=100_000).contains(&pttl), "pttl {}", pttl);
    assert_eq!(raw.cmd(&["GETSET", "k", "z"]).await, Reply::bulk("a"));
    assert_eq!(raw.cmd(&["GETSET", "fresh", "z"]).await, Reply::nil());
    assert_eq!(raw.cmd(&["GET", "fresh"]).await, Reply::bulk("z"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn setex_and_psetex_reject_non_positive_expire_with_their_own_name() {
    let (_s, mut c) = setup().await;
    assert_eq!(
        query_err(&mut c, &["SETEX", "k", "0", "v"]).await,
        "ERR invalid expire time in 'setex' command"
    );
    assert_eq!(
        query_err(&mut c, &["PSETEX", "k", "-1", "v"]).await,
        "ERR invalid expire time in 'psetex' command"
    );
}

// ---------------------------------------------------------------------------
// MGET / MSET / MSETNX
// ---------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mget_returns_nil_for_missing_keys_in_order() {
    let (_s, mut c) = setup().await;
    query::<()>(&mut c, &["MSET", "a", "1", "c", "3"]).await;
    let got: Vec<Option<String>> = query(&mut c, &["MGET", "a", "b", "c", "a"]).await;
    assert_eq!(
        got,
        vec![Some("1".into()), None, Some("3".into()), Some("1".into())]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mset_with_odd_argument_count_is_wrong_number_of_arguments() {
    let (_s, mut c) = setup().await;
    assert_eq!(
        query_err(&mut c, &["MSET", "a", "1", "b"]).await,
        "ERR wrong number of arguments for 'mset' command"
    );
    assert_eq!(
        query_err(&mut c, &["MSETNX", "a", "1", "b"]).await,
        "ERR wrong number of arguments for 'msetnx' command"
    );
    assert_eq!(query::<i64>(&mut c, &["EXISTS", "a"]).await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn msetnx_with_a_repeated_key_sets_it_to_the_last_value() {
    let (_s, mut c) = setup().await;
    assert_eq!(
        query::<i64>(&mut c, &["MSETNX", "x", "1", "x", "2"]).await,
        1
    );
    assert_eq!(query::<String>(&mut c, &["GET", "x"]).await, "2");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn msetnx_sets_nothing_when_any_key_exists() {
    let (_s, mut c) = setup().await;
    query::<()>(&mut c, &["SET", "b", "old"]).await;
    assert_eq!(
        query::<i64>(&mut c, &["MSETNX", "a", "1", "b", "2", "c", "3"]).await,
        0
    );
    let got: Vec<Option<String>> = query(&mut c, &["MGET", "a", "b", "c"]).await;
    assert_eq!(got, vec![None, Some("old".into()), None]);
}

// ---------------------------------------------------------------------------
// Counters
// ---------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn incr_creates_missing_key_and_counts() {
    let (s, _c) = setup().await;
    let mut raw = s.raw().await;
    assert_eq!(raw.cmd(&["INCR", "n"]).await, Reply::Int(1));
    assert_eq!(raw.cmd(&["INCR", "n"]).await, Reply::Int(2));
    assert_eq!(raw.cmd(&["INCRBY", "n", "40"]).await, Reply::Int(42));
    assert_eq!(raw.cmd(&["DECR", "n"]).await, Reply::Int(41));
    assert_eq!(raw.cmd(&["DECRBY", "n", "50"]).await, Reply::Int(-9));
    assert_eq!(raw.cmd(&["INCRBY", "n", "-1"]).await, Reply::Int(-10));
    assert_eq!(raw.cmd(&["GET", "n"]).await, Reply::bulk("-10"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn incr_on_non_integer_value_is_an_error() {
    let (_s, mut c) = setup().await;
    for value in [
        "abc",
        "1.5",
        " 1",
        "1 ",
        "",
        "01x",
        "007",
        "+1",
        "99999999999999999999",
    ] {
        query::<()>(&mut c, &["SET", "n", value]).await;
        assert_eq!(
            query_err(&mut c, &["INCR", "n"]).await,
            "ERR value is not an integer or out of range",
            "value {:?}",
            value
        );
    }
    assert_eq!(
        query_err(&mut c, &["INCRBY", "m", "x"]).await,
        "ERR value is not an integer or out of range"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn incr_past_i64_max_would_overflow() {
    let (_s, mut c) = setup().await;
    query::<()>(&mut c, &["SET", "n", "9223372036854775807"]).await;
    assert_eq!(
        query_err(&mut c, &["INCR", "n"]).await,
        "ERR increment or decrement would overflow"
    );
    assert_eq!(
        query::<String>(&mut c, &["GET", "n"]).await,
        "9223372036854775807"
    );
    query::<()>(&mut c, &["SET", "n", "1"]).await;
    assert_eq!(
        query_err(&mut c, &["INCRBY", "n", "9223372036854775807"]).await,
        "ERR increment or decrement would overflow"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn decr_past_i64_min_would_overflow() {
    let (_s, mut c) = setup().await;
    query::<()>(&mut c, &["SET", "n", "-9223372036854775808"]).await;
    assert_eq!(
        query_err(&mut c, &["DECR", "n"]).await,
        "ERR increment or decrement would overflow"
    );
    assert_eq!(
        query_err(&mut c, &["INCRBY", "n", "-1"]).await,
        "ERR increment or decrement would overflow"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn decrby_i64_min_is_decrement_would_overflow() {
    let (_s, mut c) = setup().await;
    query::<()>(&mut c, &["SET", "n", "0"]).await;
    assert_eq!(
        query_err(&mut c, &["DECRBY", "n", "-9223372036854775808"]).await,
        "ERR decrement would overflow"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn incr_keeps_the_ttl() {
    let (_s, mut c) = setup().await;
    query::<()>(&mut c, &["SET", "n", "1", "EX", "100"]).await;
    assert_eq!(query::<i64>(&mut c, &["INCR", "n"]).await, 2);
    let ttl: i64 = query(&mut c, &["TTL", "n"]).await;
    assert!((99..=100).contains(&ttl), "ttl {}", ttl);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn incrbyfloat_formats_like_redis() {
    let (s, mut c) = setup().await;
    let mut raw = s.raw().await;
    // The example from the Redis documentation.
    query::<()>(&mut c, &["SET", "f", "10.50"]).await;
    assert_eq!(
        raw.cmd(&["INCRBYFLOAT", "f", "0.1"]).await,
        Reply::bulk("10.6")
    );
    assert_eq!(
        raw.cmd(&["INCRBYFLOAT", "f", "-5"]).await,
        Reply::bulk("5.6")
    );
    query::<()>(&mut c, &["SET", "f", "5.0e3"]).await;
    assert_eq!(
        raw.cmd(&["INCRBYFLOAT", "f", "2.0e2"]).await,
        Reply::bulk("5200")
    );
    assert_eq!(raw.cmd(&["GET", "f"]).await, Reply::bulk("5200"));
    // Missing key counts from 0; integral results have no decimal point.
    assert_eq!(raw.cmd(&["INCRBYFLOAT", "g", "3"]).await, Reply::bulk("3"));
    assert_eq!(
        raw.cmd(&["INCRBYFLOAT", "g", "1.5"]).await,
        Reply::bulk("4.5")
    );
    assert_eq!(
        raw.cmd(&["INCRBYFLOAT", "z", "-0.5"]).await,
        Reply::bulk("-0.5")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn incrbyfloat_uses_long_double_precision() {
    // Redis computes in long double and prints with %.17Lf: 0.1 + 0.2 is 0.3.
    let (s, mut c) = setup().await;
    let mut raw = s.raw().await;
    query::<()>(&mut c, &["SET", "h", "0.1"]).await;
    assert_eq!(
        raw.cmd(&["INCRBYFLOAT", "h", "0.2"]).await,
        Reply::bulk("0.3")
    );
    assert_eq!(raw.cmd(&["GET", "h"]).await, Reply::bulk("0.3"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn incrbyfloat_to_infinity_or_nan_is_refused() {
    let (_s, mut c) = setup().await;
    query::<()>(&mut c, &["SET", "f", "1"]).await;
    assert_eq!(
        query_err(&mut c, &["INCRBYFLOAT", "f", "inf"]).await,
        "ERR increment would produce NaN or Infinity"
    );
    assert_eq!(
        query_err(&mut c, &["INCRBYFLOAT", "f", "-inf"]).await,
        "ERR increment would produce NaN or Infinity"
    );
    assert_eq!(
        query_err(&mut c, &["INCRBYFLOAT", "f", "nan"]).await,
        "ERR value is not a valid float"
    );
    assert_eq!(query::<String>(&mut c, &["GET", "f"]).await, "1");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn incrbyfloat_with_out_of_range_increment_is_not_a_valid_float() {
    // 1e5000 overflows even a long double: Redis rejects it while parsing.
    let (_s, mut c) = setup().await;
    query::<()>(&mut c, &["SET", "f", "1"]).await;
    assert_eq!(
        query_err(&mut c, &["INCRBYFLOAT", "f", "1e5000"]).await,
        "ERR value is not a valid float"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn incrbyfloat_accepts_hexadecimal_like_strtold() {
    let (s, mut c) = setup().await;
    query::<()>(&mut c, &["SET", "f", "1"]).await;
    let mut raw = s.raw().await;
    assert_eq!(
        raw.cmd(&["INCRBYFLOAT", "f", "0x10"]).await,
        Reply::bulk("17")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn incrbyfloat_on_non_float_is_not_a_valid_float() {
    let (_s, mut c) = setup().await;
    assert_eq!(
        query_err(&mut c, &["INCRBYFLOAT", "f", "abc"]).await,
        "ERR value is not a valid float"
    );
    query::<()>(&mut c, &["SET", "f", "hello"]).await;
    assert_eq!(
        query_err(&mut c, &["INCRBYFLOAT", "f", "1"]).await,
        "ERR value is not a valid float"
    );
    query::<()>(&mut c, &["SET", "f", "1"]).await;
    assert_eq!(
        query_err(&mut c, &["INCRBYFLOAT", "f", " 1"]).await,
        "ERR value is not a valid float"
    );
}

// ---------------------------------------------------------------------------
// APPEND / SETRANGE / GETRANGE / STRLEN
// ---------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn append_creates_and_extends_returning_length() {
    let (s, _c) = setup().await;
    let mut raw = s.raw().await;
    assert_eq!(raw.cmd(&["APPEND", "k", "Hello"]).await, Reply::Int(5));
    assert_eq!(raw.cmd(&["APPEND", "k", " World"]).await, Reply::Int(11));
    assert_eq!(raw.cmd(&["APPEND", "k", ""]).await, Reply::Int(11));
    assert_eq!(raw.cmd(&["GET", "k"]).await, Reply::bulk("Hello World"));
    assert_eq!(raw.cmd(&["STRLEN", "k"]).await, Reply::Int(11));
    assert_eq!(raw.cmd(&["STRLEN", "missing"]).await, Reply::Int(0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn append_to_an_integer_value_appends_text() {
    let (s, mut c) = setup().await;
    query::<()>(&mut c, &["SET", "k", "12"]).await;
    let mut raw = s.raw().await;
    assert_eq!(raw.cmd(&["APPEND", "k", "34"]).await, Reply::Int(4));
    assert_eq!(raw.cmd(&["INCR", "k"]).await, Reply::Int(1235));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn setrange_pads_missing_key_with_zero_bytes() {
    let (_s, mut c) = setup().await;
    assert_eq!(query::<i64>(&mut c, &["SETRANGE", "k", "5", "x"]).await, 6);
    let got: Vec<u8> = query(&mut c, &["GET", "k"]).await;
    assert_eq!(got, b"\0\0\0\0\0x".to_vec());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn setrange_overwrites_and_extends() {
    let (s, mut c) = setup().await;
    query::<()>(&mut c, &["SET", "k", "Hello World"]).await;
    let mut raw = s.raw().await;
    assert_eq!(
        raw.cmd(&["SETRANGE", "k", "6", "Redis"]).await,
        Reply::Int(11)
    );
    assert_eq!(raw.cmd(&["GET", "k"]).await, Reply::bulk("Hello Redis"));
    assert_eq!(
        raw.cmd(&["SETRANGE", "k", "6", "Redis!!"]).await,
        Reply::Int(13)
    );
    assert_eq!(raw.cmd(&["GET", "k"]).await, Reply::bulk("Hello Redis!!"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn setrange_with_empty_value_does_not_create_key() {
    let (s, mut c) = setup().await;
    let mut raw = s.raw().await;
    assert_eq!(raw.cmd(&["SETRANGE", "k", "10", ""]).await, Reply::Int(0));
    assert_eq!(query::<i64>(&mut c, &["EXISTS", "k"]).await, 0);
    query::<()>(&mut c, &["SET", "e", "abc"]).await;
    assert_eq!(raw.cmd(&["SETRANGE", "e", "100", ""]).await, Reply::Int(3));
    assert_eq!(raw.cmd(&["GET", "e"]).await, Reply::bulk("abc"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn setrange_with_negative_offset_is_out_of_range() {
    let (_s, mut c) = setup().await;
    query::<()>(&mut c, &["SET", "k", "abc"]).await;
    assert_eq!(
        query_err(&mut c, &["SETRANGE", "k", "-1", "x"]).await,
        "ERR offset is out of range"
    );
    assert_eq!(
        query_err(&mut c, &["SETRANGE", "k", "x", "x"]).await,
        "ERR value is not an integer or out of range"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn setrange_beyond_512mb_exceeds_maximum_allowed_size() {
    let (_s, mut c) = setup().await;
    assert_eq!(
        query_err(&mut c, &["SETRANGE", "k", "536870911", "xy"]).await,
        "ERR string exceeds maximum allowed size (proto-max-bulk-len)"
    );
    assert_eq!(query::<i64>(&mut c, &["EXISTS", "k"]).await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn append_beyond_proto_max_bulk_len_exceeds_maximum_allowed_size() {
    let server = TestServer::start_with(|c| c.proto_max_bulk_len = 1024 * 1024).await;
    let mut c = server.conn().await;
    let big = "x".repeat(1024 * 1024);
    query::<()>(&mut c, &["SET", "k", &big]).await;
    assert_eq!(
        query_err(&mut c, &["APPEND", "k", "y"]).await,
        "ERR string exceeds maximum allowed size (proto-max-bulk-len)"
    );
    assert_eq!(query::<i64>(&mut c, &["STRLEN", "k"]).await, 1024 * 1024);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn getrange_handles_negative_and_out_of_range_indexes() {
    let (s, mut c) = setup().await;
    query::<()>(&mut c, &["SET", "k", "This is a string"]).await;
    let mut raw = s.raw().await;
    assert_eq!(
        raw.cmd(&["GETRANGE", "k", "0", "3"]).await,
        Reply::bulk("This")
    );
    assert_eq!(
        raw.cmd(&["GETRANGE", "k", "-3", "-1"]).await,
        Reply::bulk("ing")
    );
    assert_eq!(
        raw.cmd(&["GETRANGE", "k", "0", "-1"]).await,
        Reply::bulk("This is a string")
    );
    assert_eq!(
        raw.cmd(&["GETRANGE", "k", "10", "100"]).await,
        Reply::bulk("string")
    );
    assert_eq!(raw.cmd(&["GETRANGE", "k", "5", "3"]).await, Reply::bulk(""));
    assert_eq!(
        raw.cmd(&["GETRANGE", "k", "-1", "-5"]).await,
        Reply::bulk("")
    );
    assert_eq!(
        raw.cmd(&["GETRANGE", "k", "100", "200"]).await,
        Reply::bulk("")
    );
    assert_eq!(
        raw.cmd(&["SUBSTR", "k", "0", "3"]).await,
        Reply::bulk("This")
    );
    assert_eq!(
        raw.cmd(&["GETRANGE", "missing", "0", "-1"]).await,
        Reply::bulk("")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn getrange_with_both_indexes_before_start_clamps_to_first_byte() {
    // Redis 7.0 clamps a negative end to 0 and returns the first byte.
    let (s, mut c) = setup().await;
    query::<()>(&mut c, &["SET", "k", "Hello"]).await;
    let mut raw = s.raw().await;
    assert_eq!(
        raw.cmd(&["GETRANGE", "k", "-100", "-50"]).await,
        Reply::bulk("H")
    );
    assert_eq!(
        raw.cmd(&["GETRANGE", "k", "0", "-100"]).await,
        Reply::bulk("H")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn getrange_on_integer_encoded_value_uses_its_digits() {
    let (s, mut c) = setup().await;
    query::<()>(&mut c, &["SET", "k", "1234567"]).await;
    let mut raw = s.raw().await;
    assert_eq!(
        raw.cmd(&["GETRANGE", "k", "1", "3"]).await,
        Reply::bulk("234")
    );
}

// ---------------------------------------------------------------------------
// GETEX / GETDEL
// ---------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn getex_sets_and_persists_ttl() {
    let (s, mut c) = setup().await;
    query::<()>(&mut c, &["SET", "k", "v"]).await;
    let mut raw = s.raw().await;
    assert_eq!(raw.cmd(&["GETEX", "k"]).await, Reply::bulk("v"));
    assert_eq!(query::<i64>(&mut c, &["TTL", "k"]).await, -1);
    assert_eq!(
        raw.cmd(&["GETEX", "k", "EX", "100"]).await,
        Reply::bulk("v")
    );
    let ttl: i64 = query(&mut c, &["TTL", "k"]).await;
    assert!((99..=100).contains(&ttl), "ttl {}", ttl);
    assert_eq!(
        raw.cmd(&["GETEX", "k", "PX", "50000"]).await,
        Reply::bulk("v")
    );
    let pttl: i64 = query(&mut c, &["PTTL", "k"]).await;
    assert!((49_000..=50_000).contains(&pttl), "pttl {}", pttl);
    let at = (unix_ms() / 1000 + 200).to_string();
    assert_eq!(
        raw.cmd(&["GETEX", "k", "EXAT", &at]).await,
        Reply::bulk("v")
    );
    let ttl: i64 = query(&mut c, &["TTL", "k"]).await;
    assert!((198..=200).contains(&ttl), "ttl {}", ttl);
    assert_eq!(raw.cmd(&["GETEX", "k", "PERSIST"]).await, Reply::bulk("v"));
    assert_eq!(query::<i64>(&mut c, &["TTL", "k"]).await, -1);
    assert_eq!(
        raw.cmd(&["GETEX", "missing", "EX", "10"]).await,
        Reply::nil()
    );
    assert_eq!(query::<i64>(&mut c, &["EXISTS", "missing"]).await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn getex_repeating_an_option_is_accepted() {
    let (s, mut c) = setup().await;
    query::<()>(&mut c, &["SET", "k", "v", "EX", "100"]).await;
    let mut raw = s.raw().await;
    assert_eq!(
        raw.cmd(&["GETEX", "k", "PERSIST", "PERSIST"]).await,
        Reply::bulk("v")
    );
    assert_eq!(query::<i64>(&mut c, &["TTL", "k"]).await, -1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn getex_option_errors() {
    let (_s, mut c) = setup().await;
    query::<()>(&mut c, &["SET", "k", "v"]).await;
    assert_eq!(
        query_err(&mut c, &["GETEX", "k", "EX", "0"]).await,
        "ERR invalid expire time in 'getex' command"
    );
    assert_eq!(
        query_err(&mut c, &["GETEX", "k", "EX", "10", "PX", "100"]).await,
        "ERR syntax error"
    );
    assert_eq!(
        query_err(&mut c, &["GETEX", "k", "PERSIST", "EX", "10"]).await,
        "ERR syntax error"
    );
    assert_eq!(
        query_err(&mut c, &["GETEX", "k", "KEEPTTL"]).await,
        "ERR syntax error"
    );
    assert_eq!(
        query_err(&mut c, &["GETEX", "k", "EX", "x"]).await,
        "ERR value is not an integer or out of range"
    );
    assert_eq!(query::<i64>(&mut c, &["TTL", "k"]).await, -1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn getex_on_missing_key_is_nil_even_with_an_invalid_expire() {
    // Redis looks the key up before it validates the expire value.
    let (s, _c) = setup().await;
    let mut raw = s.raw().await;
    assert_eq!(
        raw.cmd(&["GETEX", "missing", "EX", "0"]).await,
        Reply::nil()
    );
    assert_eq!(
        raw.cmd(&["GETEX", "missing", "PX", "-5"]).await,
        Reply::nil()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn getdel_returns_value_and_removes_key() {
    let (s, mut c) = setup().await;
    query::<()>(&mut c, &["SET", "k", "v"]).await;
    let mut raw = s.raw().await;
    assert_eq!(raw.cmd(&["GETDEL", "k"]).await, Reply::bulk("v"));
    assert_eq!(raw.cmd(&["GETDEL", "k"]).await, Reply::nil());
    assert_eq!(query::<i64>(&mut c, &["EXISTS", "k"]).await, 0);
}

// ---------------------------------------------------------------------------
// LCS (examples from the Redis documentation)
// ---------------------------------------------------------------------------

async fn lcs_setup() -> (TestServer, RawConn) {
    let s = TestServer::start().await;
    let mut raw = s.raw().await;
    assert_eq!(
        raw.cmd(&["MSET", "key1", "ohmytext", "key2", "mynewtext"])
            .await,
        Reply::ok()
    );
    (s, raw)
}

fn range(a: i64, b: i64) -> Reply {
    Reply::array(vec![Reply::Int(a), Reply::Int(b)])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lcs_returns_the_longest_common_subsequence() {
    let (_s, mut raw) = lcs_setup().await;
    assert_eq!(
        raw.cmd(&["LCS", "key1", "key2"]).await,
        Reply::bulk("mytext")
    );
    assert_eq!(raw.cmd(&["LCS", "key1", "nokey"]).await, Reply::bulk(""));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lcs_len_returns_the_length() {
    let (_s, mut raw) = lcs_setup().await;
    assert_eq!(
        raw.cmd(&["LCS", "key1", "key2", "LEN"]).await,
        Reply::Int(6)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lcs_idx_returns_matches_and_len() {
    let (_s, mut raw) = lcs_setup().await;
    let expected = Reply::array(vec![
        Reply::bulk("matches"),
        Reply::array(vec![
            Reply::array(vec![range(4, 7), range(5, 8)]),
            Reply::array(vec![range(2, 3), range(0, 1)]),
        ]),
        Reply::bulk("len"),
        Reply::Int(6),
    ]);
    assert_eq!(raw.cmd(&["LCS", "key1", "key2", "IDX"]).await, expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lcs_idx_minmatchlen_withmatchlen_filters_and_reports_lengths() {
    let (_s, mut raw) = lcs_setup().await;
    let expected = Reply::array(vec![
        Reply::bulk("matches"),
        Reply::array(vec![Reply::array(vec![
            range(4, 7),
            range(5, 8),
            Reply::Int(4),
        ])]),
        Reply::bulk("len"),
        Reply::Int(6),
    ]);
    assert_eq!(
        raw.cmd(&[
            "LCS",
            "key1",
            "key2",
            "IDX",
            "MINMATCHLEN",
            "4",
            "WITHMATCHLEN"
        ])
        .await,
        expected
    );
    let expected_min = Reply::array(vec![
        Reply::bulk("matches"),
        Reply::array(vec![Reply::array(vec![range(4, 7), range(5, 8)])]),
        Reply::bulk("len"),
        Reply::Int(6),
    ]);
    assert_eq!(
        raw.cmd(&["LCS", "key1", "key2", "IDX", "MINMATCHLEN", "4"])
            .await,
        expected_min
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lcs_idx_over_resp3_is_a_map() {
    let (_s, mut raw) = lcs_setup().await;
    let hello = raw.cmd(&["HELLO", "3"]).await;
    assert!(matches!(hello, Reply::Map(_)), "{:?}", hello);
    let expected = Reply::Map(vec![
        (
            Reply::bulk("matches"),
            Reply::array(vec![Reply::array(vec![
                range(4, 7),
                range(5, 8),
                Reply::Int(4),
            ])]),
        ),
        (Reply::bulk("len"), Reply::Int(6)),
    ]);
    assert_eq!(
        raw.cmd(&[
            "LCS",
            "key1",
            "key2",
            "IDX",
            "MINMATCHLEN",
            "4",
            "WITHMATCHLEN"
        ])
        .await,
        expected
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lcs_len_with_idx_is_refused() {
    let (_s, mut raw) = lcs_setup().await;
    assert_eq!(
        raw.cmd(&["LCS", "key1", "key2", "LEN", "IDX"]).await,
        Reply::err("ERR If you want both the length and indexes, please just use IDX.")
    );
    assert_eq!(
        raw.cmd(&["LCS", "key1", "key2", "FOO"]).await,
        Reply::err("ERR syntax error")
    );
}
