//! Shared helpers for cachet's integration tests.
//!
//! * [`TestServer`] starts a server on a free port (optionally with a
//!   `Config` tweak) and hands out connections: the `redis` crate's async
//!   connections over RESP2 or RESP3, and a small raw RESP client
//!   ([`RawConn`]) for byte-exact replies (error texts, simple vs bulk
//!   strings, rejected connections).
//! * [`redis_cli`] runs `/usr/bin/redis-cli` against a server with a timeout.
//!
//! Reference mode: with `CACHET_TEST_AGAINST_REDIS=1` in the environment,
//! [`TestServer`] starts a real `redis-server` (Redis 7.0, the specification)
//! instead of cachet, with the same tweaks passed as command-line options.
//! Every test that does not use the embedding API directly must pass in that
//! mode: that is how these tests themselves are checked against Redis.
//!
//! Every wait here is bounded: connections, commands and child processes all
//! run under a timeout, and polling loops carry a deadline.
#![allow(dead_code)]

use redis::aio::MultiplexedConnection;
use redis::{FromRedisValue, RedisError, Value};
use std::io::{Read, Write};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// How long any single command, connect or read may take before a test fails.
pub const IO_TIMEOUT: Duration = Duration::from_secs(10);

/// True when the tests run against a real redis-server (reference mode).
pub fn against_redis() -> bool {
    std::env::var("CACHET_TEST_AGAINST_REDIS")
        .map(|v| !v.is_empty() && v != "0")
        .unwrap_or(false)
}

enum Backend {
    Cachet(Option<cachet::ServerHandle>),
    Redis(Child),
}

/// A server under test, on a free port of 127.0.0.1.
pub struct TestServer {
    backend: Backend,
    addr: SocketAddr,
    password: Option<String>,
}

impl TestServer {
    /// A server with the default configuration.
    pub async fn start() -> TestServer {
        Self::start_with(|_| {}).await
    }

    /// A server whose `Config` has been changed by `tweak` (port is always 0).
    pub async fn start_with(tweak: impl FnOnce(&mut cachet::Config)) -> TestServer {
        let mut config = cachet::Config::default();
        tweak(&mut config);
        config.port = 0;
        let password = config.requirepass.clone();
        if against_redis() {
            return start_redis_server(&config, password).await;
        }
        let handle = tokio::time::timeout(IO_TIMEOUT, cachet::ServerHandle::start(config))
            .await
            .expect("cachet did not start in time")
            .expect("cachet failed to start");
        let addr = handle.addr();
        TestServer {
            backend: Backend::Cachet(Some(handle)),
            addr,
            password,
        }
    }

    /// The cachet *binary* as a separate process (redis-server in reference
    /// mode): for what only the real program has, such as jemalloc's
    /// memory accounting behind `used_memory`.
    pub async fn start_process() -> TestServer {
        let config = cachet::Config::default();
        let program = if against_redis() {
            "redis-server"
        } else {
            env!("CARGO_BIN_EXE_cachet")
        };
        start_server_process(program, &config, None).await
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// `redis://127.0.0.1:PORT` (with the password when one is configured).
    pub fn url(&self) -> String {
        match &self.password {
            Some(p) => format!("redis://:{}@{}", p, self.addr),
            None => format!("redis://{}", self.addr),
        }
    }

    /// The URL without credentials, whatever the configuration.
    pub fn url_no_auth(&self) -> String {
        format!("redis://{}", self.addr)
    }

    /// The URL selecting RESP3 (the client sends `HELLO 3` on connect).
    pub fn url_resp3(&self) -> String {
        format!("{}/?protocol=resp3", self.url())
    }

    /// A RESP2 connection (authenticated if the server has a password).
    pub async fn conn(&self) -> MultiplexedConnection {
        connect(&self.url()).await
    }

    /// A RESP2 connection on database `db`.
    pub async fn conn_db(&self, db: usize) -> MultiplexedConnection {
        connect(&format!("{}/{}", self.url(), db)).await
    }

    /// A RESP2 connection for blocking commands (see [`connect_for_blocking`]).
    pub async fn conn_blocking(&self) -> MultiplexedConnection {
        connect_for_blocking(&self.url()).await
    }

    /// A RESP3 connection (authenticated if the server has a password).
    pub async fn conn3(&self) -> MultiplexedConnection {
        connect(&self.url_resp3()).await
    }

    /// A raw RESP connection, not authenticated, speaking RESP2 until told otherwise.
    pub async fn raw(&self) -> RawConn {
        RawConn::connect(self.addr).await
    }

    /// Stops the server and waits (bounded) for it to finish.
    pub async fn stop(mut self) {
        self.stop_inner().await;
    }

    async fn stop_inner(&mut self) {
        match &mut self.backend {
            Backend::Cachet(handle) => {
                if let Some(handle) = handle.take() {
                    tokio::time::timeout(IO_TIMEOUT, handle.shutdown())
                        .await
                        .expect("cachet did not shut down in time")
                        .expect("cachet shutdown failed");
                }
            }
            Backend::Redis(child) => {
                let _ = child.kill();
                let _ = child.wait();
            }
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Backend::Redis(child) = &mut self.backend {
            let _ = child.kill();
            let _ = child.wait();
        }
        // A cachet ServerHandle requests shutdown when dropped.
    }
}

/// A port that was free a moment ago on 127.0.0.1.
pub fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    listener.local_addr().unwrap().port()
}

async fn start_redis_server(config: &cachet::Config, password: Option<String>) -> TestServer {
    start_server_process("redis-server", config, password).await
}

/// Starts `program` (redis-server, or the cachet binary) as a child process
/// with the parts of `config` the tests change, on a free port.
async fn start_server_process(
    program: &str,
    config: &cachet::Config,
    password: Option<String>,
) -> TestServer {
    let defaults = cachet::Config::default();
    for _attempt in 0..3 {
        let port = free_port();
        let mut args: Vec<String> = vec![
            "--port".into(),
            port.to_string(),
            "--bind".into(),
            "127.0.0.1".into(),
            "--save".into(),
            "".into(),
            "--appendonly".into(),
            "no".into(),
            "--daemonize".into(),
            "no".into(),
            "--dir".into(),
            std::env::temp_dir().to_string_lossy().into_owned(),
            "--logfile".into(),
            "".into(),
        ];
        if let Some(p) = &config.requirepass {
            args.extend(["--requirepass".into(), p.clone()]);
        }
        if config.maxclients != defaults.maxclients {
            args.extend(["--maxclients".into(), config.maxclients.to_string()]);
        }
        if config.databases != defaults.databases {
            args.extend(["--databases".into(), config.databases.to_string()]);
        }
        if config.proto_max_bulk_len != defaults.proto_max_bulk_len {
            args.extend([
                "--proto-max-bulk-len".into(),
                config.proto_max_bulk_len.to_string(),
            ]);
        }
        if config.hz != defaults.hz {
            args.extend(["--hz".into(), config.hz.to_string()]);
        }
        let mut child = Command::new(program)
            .args(&args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn redis-server");
        let addr: SocketAddr = format!("127.0.0.1:{}", port).parse().unwrap();
        let deadline = Instant::now() + IO_TIMEOUT;
        let mut up = false;
        while Instant::now() < deadline {
            if let Ok(Some(_)) = child.try_wait() {
                break; // exited: the port was taken meanwhile, try another
            }
            if redis_server_answers(addr) {
                up = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        if up {
            return TestServer {
                backend: Backend::Redis(child),
                addr,
                password,
            };
        }
        let _ = child.kill();
        let _ = child.wait();
    }
    panic!("{} did not start", program);
}

/// Sends QUIT and reads until the server closes: true once redis-server
/// answers. Waiting for the close means the probe no longer counts as a
/// client (which matters for tests of maxclients).
fn redis_server_answers(addr: SocketAddr) -> bool {
    let Ok(mut stream) = std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(200))
    else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let _ = stream.set_write_timeout(Some(Duration::from_secs(2)));
    if stream.write_all(b"*1\r\n$4\r\nQUIT\r\n").is_err() {
        return false;
    }
    let mut reply = Vec::new();
    match stream.read_to_end(&mut reply) {
        Ok(_) => reply.starts_with(b"+OK"),
        Err(_) => false,
    }
}

/// An async connection from the `redis` crate, bounded by [`IO_TIMEOUT`].
pub async fn connect(url: &str) -> MultiplexedConnection {
    let client = redis::Client::open(url).expect("valid url");
    tokio::time::timeout(IO_TIMEOUT, client.get_multiplexed_async_connection())
        .await
        .expect("connect timed out")
        .expect("connect failed")
}

/// A connection for blocking commands (BLPOP and friends): the `redis`
/// crate's default 500 ms response timeout is lifted, and each command is
/// still bounded by [`IO_TIMEOUT`] in [`try_query`].
pub async fn connect_for_blocking(url: &str) -> MultiplexedConnection {
    let client = redis::Client::open(url).expect("valid url");
    let config = redis::AsyncConnectionConfig::new().set_response_timeout(None);
    tokio::time::timeout(
        IO_TIMEOUT,
        client.get_multiplexed_async_connection_with_config(&config),
    )
    .await
    .expect("connect timed out")
    .expect("connect failed")
}

/// Builds a command from string arguments.
pub fn cmd(args: &[&str]) -> redis::Cmd {
    let mut c = redis::cmd(args[0]);
    for a in &args[1..] {
        c.arg(*a);
    }
    c
}

/// Runs a command (bounded), returning the client's result.
pub async fn try_query<T: FromRedisValue>(
    con: &mut MultiplexedConnection,
    args: &[&str],
) -> redis::RedisResult<T> {
    tokio::time::timeout(IO_TIMEOUT, cmd(args).query_async::<T>(con))
        .await
        .unwrap_or_else(|_| panic!("command {:?} timed out", args))
}

/// Runs a command and returns its reply converted to `T`; panics on an error reply.
pub async fn query<T: FromRedisValue>(con: &mut MultiplexedConnection, args: &[&str]) -> T {
    match try_query::<T>(con, args).await {
        Ok(v) => v,
        Err(e) => panic!("command {:?} failed: {}", args, e),
    }
}

/// Runs a command that must fail and returns the error as the server wrote
/// it (`"ERR syntax error"`).
pub async fn query_err(con: &mut MultiplexedConnection, args: &[&str]) -> String {
    match try_query::<Value>(con, args).await {
        Ok(Value::ServerError(e)) => server_error_text(&e),
        Ok(v) => panic!("command {:?} should have failed, got {:?}", args, v),
        Err(e) => error_text(&e),
    }
}

/// The server's error line for an error the `redis` crate returned.
pub fn error_text(e: &RedisError) -> String {
    match (e.code(), e.detail()) {
        (Some(code), Some(detail)) => format!("{} {}", code, detail),
        (Some(code), None) => code.to_string(),
        _ => panic!("not a server error: {}", e),
    }
}

/// The server's error line for an error reply nested in a value (EXEC results).
pub fn server_error_text(e: &redis::ServerError) -> String {
    match e.details() {
        Some(d) => format!("{} {}", e.code(), d),
        None => e.code().to_string(),
    }
}

/// Polls `check` every 10 ms until it returns true or `within` passes;
/// returns whether it became true.
pub async fn wait_until<F, Fut>(within: Duration, mut check: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + within;
    loop {
        if check().await {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// A field of an INFO reply (`field:value` lines).
pub fn info_field(info: &str, field: &str) -> Option<String> {
    info.lines().find_map(|line| {
        line.trim_end()
            .strip_prefix(field)
            .and_then(|rest| rest.strip_prefix(':'))
            .map(|v| v.to_string())
    })
}

/// Current Unix time in seconds and milliseconds.
pub fn unix_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

// ---------------------------------------------------------------------------
// Raw RESP client
// ---------------------------------------------------------------------------

/// One reply, exactly as the server framed it.
#[derive(Clone, PartialEq)]
pub enum Reply {
    /// `+text`
    Simple(String),
    /// `-text`
    Error(String),
    /// `:n`
    Int(i64),
    /// `$n` (`None` for `$-1`)
    Bulk(Option<Vec<u8>>),
    /// `*n` (`None` for `*-1`)
    Array(Option<Vec<Reply>>),
    /// RESP3 `_`
    Null,
    /// RESP3 `,` (the text as sent)
    Double(String),
    /// RESP3 `#`
    Bool(bool),
    /// RESP3 `%`
    Map(Vec<(Reply, Reply)>),
    /// RESP3 `~`
    Set(Vec<Reply>),
    /// RESP3 `=` (format, text)
    Verbatim(String, String),
    /// RESP3 `(`
    BigNumber(String),
    /// RESP3 `>`
    Push(Vec<Reply>),
}

impl Reply {
    pub fn ok() -> Reply {
        Reply::Simple("OK".into())
    }

    pub fn bulk(s: &str) -> Reply {
        Reply::Bulk(Some(s.as_bytes().to_vec()))
    }

    pub fn err(s: &str) -> Reply {
        Reply::Error(s.into())
    }

    pub fn nil() -> Reply {
        Reply::Bulk(None)
    }

    pub fn array(items: Vec<Reply>) -> Reply {
        Reply::Array(Some(items))
    }

    /// The text of a simple, bulk or verbatim string.
    pub fn text(&self) -> String {
        match self {
            Reply::Simple(s) => s.clone(),
            Reply::Bulk(Some(b)) => String::from_utf8_lossy(b).into_owned(),
            Reply::Verbatim(_, t) => t.clone(),
            other => panic!("not a string reply: {:?}", other),
        }
    }
}

impl std::fmt::Debug for Reply {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Reply::Simple(s) => write!(f, "+{:?}", s),
            Reply::Error(s) => write!(f, "-{:?}", s),
            Reply::Int(n) => write!(f, ":{}", n),
            Reply::Bulk(None) => write!(f, "nil"),
            Reply::Bulk(Some(b)) => write!(f, "{:?}", String::from_utf8_lossy(b)),
            Reply::Array(None) => write!(f, "*nil"),
            Reply::Array(Some(items)) => f.debug_list().entries(items).finish(),
            Reply::Null => write!(f, "_null"),
            Reply::Double(d) => write!(f, ",{}", d),
            Reply::Bool(b) => write!(f, "#{}", b),
            Reply::Map(pairs) => f
                .debug_map()
                .entries(pairs.iter().map(|(k, v)| (k, v)))
                .finish(),
            Reply::Set(items) => {
                write!(f, "~")?;
                f.debug_set().entries(items).finish()
            }
            Reply::Verbatim(fmt, t) => write!(f, "={}:{:?}", fmt, t),
            Reply::BigNumber(n) => write!(f, "({}", n),
            Reply::Push(items) => {
                write!(f, ">")?;
                f.debug_list().entries(items).finish()
            }
        }
    }
}

/// Parses one reply from `buf`; `None` when more bytes are needed.
pub fn parse_reply(buf: &[u8]) -> Option<(Reply, usize)> {
    let line_end = buf.windows(2).position(|w| w == b"\r\n")?;
    let line = std::str::from_utf8(&buf[1..line_end]).expect("utf-8 reply header");
    let after = line_end + 2;
    let kind = *buf.first()?;
    let aggregate = |n: usize, start: usize| -> Option<(Vec<Reply>, usize)> {
        let mut items = Vec::with_capacity(n);
        let mut pos = start;
        for _ in 0..n {
            let (item, used) = parse_reply(&buf[pos..])?;
            items.push(item);
            pos += used;
        }
        Some((items, pos))
    };
    match kind {
        b'+' => Some((Reply::Simple(line.to_string()), after)),
        b'-' => Some((Reply::Error(line.to_string()), after)),
        b':' => Some((Reply::Int(line.parse().expect("integer reply")), after)),
        b'_' => Some((Reply::Null, after)),
        b',' => Some((Reply::Double(line.to_string()), after)),
        b'#' => Some((Reply::Bool(line == "t"), after)),
        b'(' => Some((Reply::BigNumber(line.to_string()), after)),
        b'$' | b'=' | b'!' => {
            let n: i64 = line.parse().expect("bulk length");
            if n < 0 {
                return Some((Reply::Bulk(None), after));
            }
            let n = n as usize;
            if buf.len() < after + n + 2 {
                return None;
            }
            let data = buf[after..after + n].to_vec();
            let reply = match kind {
                b'$' => Reply::Bulk(Some(data)),
                b'!' => Reply::Error(String::from_utf8_lossy(&data).into_owned()),
                _ => {
                    let s = String::from_utf8_lossy(&data).into_owned();
                    Reply::Verbatim(s[..3].to_string(), s[4..].to_string())
                }
            };
            Some((reply, after + n + 2))
        }
        b'*' | b'~' | b'>' => {
            let n: i64 = line.parse().expect("aggregate length");
            if n < 0 {
                return Some((Reply::Array(None), after));
            }
            let (items, end) = aggregate(n as usize, after)?;
            let reply = match kind {
                b'*' => Reply::Array(Some(items)),
                b'~' => Reply::Set(items),
                _ => Reply::Push(items),
            };
            Some((reply, end))
        }
        b'%' | b'|' => {
            let n: usize = line.parse().expect("map length");
            let (items, end) = aggregate(n * 2, after)?;
            let mut pairs = Vec::with_capacity(n);
            let mut it = items.into_iter();
            while let (Some(k), Some(v)) = (it.next(), it.next()) {
                pairs.push((k, v));
            }
            Some((Reply::Map(pairs), end))
        }
        other => panic!("unknown RESP type byte {:?}", other as char),
    }
}

/// Encodes a command as a RESP multibulk request.
pub fn encode_command<A: AsRef<[u8]>>(args: &[A]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for a in args {
        let a = a.as_ref();
        out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// A plain TCP connection speaking RESP, for byte-exact replies.
pub struct RawConn {
    stream: TcpStream,
    buf: Vec<u8>,
}

impl RawConn {
    pub async fn connect(addr: SocketAddr) -> RawConn {
        let stream = tokio::time::timeout(IO_TIMEOUT, TcpStream::connect(addr))
            .await
            .expect("connect timed out")
            .expect("connect failed");
        RawConn {
            stream,
            buf: Vec::new(),
        }
    }

    /// Sends one command and reads its reply.
    pub async fn cmd(&mut self, args: &[&str]) -> Reply {
        self.send(&encode_command(args)).await;
        self.read_reply().await
    }

    /// Writes raw bytes.
    pub async fn send(&mut self, bytes: &[u8]) {
        tokio::time::timeout(IO_TIMEOUT, self.stream.write_all(bytes))
            .await
            .expect("write timed out")
            .expect("write failed");
    }

    /// Writes raw bytes; false if the server has closed the connection.
    pub async fn try_send(&mut self, bytes: &[u8]) -> bool {
        matches!(
            tokio::time::timeout(IO_TIMEOUT, self.stream.write_all(bytes)).await,
            Ok(Ok(()))
        )
    }

    /// Reads one reply (bounded by [`IO_TIMEOUT`]); panics if the server closes first.
    pub async fn read_reply(&mut self) -> Reply {
        match self.try_read_reply().await {
            Some(r) => r,
            None => panic!(
                "connection closed before a full reply; got {:?}",
                String::from_utf8_lossy(&self.buf)
            ),
        }
    }

    /// Reads one reply, or `None` if the server closed the connection first.
    pub async fn try_read_reply(&mut self) -> Option<Reply> {
        let deadline = tokio::time::Instant::now() + IO_TIMEOUT;
        loop {
            if let Some((reply, used)) = parse_reply(&self.buf) {
                self.buf.drain(..used);
                return Some(reply);
            }
            let mut chunk = [0u8; 16384];
            // A reset counts as closed.
            let n = tokio::time::timeout_at(deadline, self.stream.read(&mut chunk))
                .await
                .expect("read timed out")
                .unwrap_or(0);
            if n == 0 {
                return None;
            }
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }

    /// True once the server has closed the connection (bounded wait).
    pub async fn is_closed_by_server(&mut self) -> bool {
        let mut chunk = [0u8; 1024];
        loop {
            match tokio::time::timeout(IO_TIMEOUT, self.stream.read(&mut chunk)).await {
                Err(_) => return false,
                Ok(Ok(0)) | Ok(Err(_)) => return true,
                Ok(Ok(n)) => self.buf.extend_from_slice(&chunk[..n]),
            }
        }
    }
}

// ---------------------------------------------------------------------------
// redis-cli
// ---------------------------------------------------------------------------

/// What a redis-cli run produced.
#[derive(Debug)]
pub struct CliOutput {
    pub status: std::process::ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

pub const REDIS_CLI: &str = "/usr/bin/redis-cli";

/// Runs `redis-cli -h 127.0.0.1 -p PORT <args>` with `stdin` as its input,
/// killing it if it has not finished within `timeout`.
pub fn redis_cli_blocking(
    addr: SocketAddr,
    args: &[&str],
    stdin: Option<Vec<u8>>,
    timeout: Duration,
) -> CliOutput {
    let mut child = Command::new(REDIS_CLI)
        .arg("-h")
        .arg(addr.ip().to_string())
        .arg("-p")
        .arg(addr.port().to_string())
        .args(args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn redis-cli");
    let writer = stdin.map(|input| {
        let mut pipe = child.stdin.take().unwrap();
        std::thread::spawn(move || {
            let _ = pipe.write_all(&input);
            // dropping the pipe closes redis-cli's stdin
        })
    });
    let mut out_pipe = child.stdout.take().unwrap();
    let mut err_pipe = child.stderr.take().unwrap();
    let out_reader = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = out_pipe.read_to_end(&mut s);
        s
    });
    let err_reader = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = err_pipe.read_to_end(&mut s);
        s
    });
    let deadline = Instant::now() + timeout;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait redis-cli") {
            break status;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("redis-cli {:?} did not finish within {:?}", args, timeout);
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    if let Some(w) = writer {
        let _ = w.join();
    }
    let stdout = String::from_utf8_lossy(&out_reader.join().unwrap()).into_owned();
    let stderr = String::from_utf8_lossy(&err_reader.join().unwrap()).into_owned();
    CliOutput {
        status,
        stdout,
        stderr,
    }
}

/// [`redis_cli_blocking`] from async code (runs on the blocking pool).
pub async fn redis_cli(
    addr: SocketAddr,
    args: &[&str],
    stdin: Option<Vec<u8>>,
    timeout: Duration,
) -> CliOutput {
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    tokio::task::spawn_blocking(move || {
        let refs: Vec<&str> = args.iter().map(|s| s.as_str()).collect();
        redis_cli_blocking(addr, &refs, stdin, timeout)
    })
    .await
    .expect("redis-cli task panicked")
}

// ---------------------------------------------------------------------------
// Differential scripts (command_differential.rs, notifications.rs)

/// Splits a script line into arguments: spaces separate, double quotes group.
pub fn split_args(line: &str) -> Vec<String> {
    let mut args = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    let mut has_arg = false;
    for ch in line.chars() {
        match ch {
            '"' => {
                quoted = !quoted;
                has_arg = true;
            }
            ' ' if !quoted => {
                if has_arg {
                    args.push(std::mem::take(&mut current));
                    has_arg = false;
                }
            }
            _ => {
                current.push(ch);
                has_arg = true;
            }
        }
    }
    if has_arg {
        args.push(current);
    }
    args
}

fn sort_key(reply: &Reply) -> String {
    format!("{:?}", reply)
}

/// The reply with the elements of every array, set and map in a canonical
/// order, at every level (for HSCAN's nested reply too).
pub fn sorted(reply: Reply) -> Reply {
    match reply {
        Reply::Array(Some(items)) => {
            let mut items: Vec<Reply> = items.into_iter().map(sorted).collect();
            items.sort_by_key(sort_key);
            Reply::Array(Some(items))
        }
        Reply::Set(items) => {
            let mut items: Vec<Reply> = items.into_iter().map(sorted).collect();
            items.sort_by_key(sort_key);
            Reply::Set(items)
        }
        Reply::Map(pairs) => {
            let mut pairs: Vec<(Reply, Reply)> =
                pairs.into_iter().map(|(k, v)| (k, sorted(v))).collect();
            pairs.sort_by_key(|(k, _)| sort_key(k));
            Reply::Map(pairs)
        }
        other => other,
    }
}
