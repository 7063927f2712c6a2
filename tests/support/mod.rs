//! Helpers shared by `protocol_differential.rs` and `hostile_input.rs`:
//! a capping global allocator, a raw-TCP exchange with bounded waits, a
//! redis-server child process with a Drop guard, and an in-process cachet.
//!
//! Everything here is bounded: connects and reads have timeouts, polls have
//! deadlines, and nothing listens on a fixed port.
#![allow(dead_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

// ---------------------------------------------------------------------------
// Allocation cap.

/// No single allocation in a test binary may exceed this. A larger request
/// gets null and Rust aborts with "memory allocation of N bytes failed": a
/// runaway server (cachet runs inside the test process) then stops the test
/// binary at once instead of taking the machine's memory.
pub const HARD_CAP: usize = 512 * 1024 * 1024;

/// Largest single allocation requested anywhere in the process so far.
pub static LARGEST_ALLOCATION: AtomicUsize = AtomicUsize::new(0);

pub struct CappedAlloc;

thread_local! {
    /// Largest allocation requested on this thread since
    /// `reset_thread_largest`. Const-initialised without a destructor, so
    /// touching it from the allocator never allocates.
    static THREAD_LARGEST: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

fn note(size: usize) {
    LARGEST_ALLOCATION.fetch_max(size, Ordering::Relaxed);
    let _ = THREAD_LARGEST.try_with(|l| {
        if l.get() < size {
            l.set(size)
        }
    });
}

/// Starts a new measurement of this thread's largest allocation.
pub fn reset_thread_largest() {
    THREAD_LARGEST.with(|l| l.set(0));
}

/// This thread's largest allocation since `reset_thread_largest`.
pub fn thread_largest() -> usize {
    THREAD_LARGEST.with(|l| l.get())
}

unsafe impl GlobalAlloc for CappedAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note(layout.size());
        if layout.size() > HARD_CAP {
            return std::ptr::null_mut();
        }
        System.alloc(layout)
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note(layout.size());
        if layout.size() > HARD_CAP {
            return std::ptr::null_mut();
        }
        System.alloc_zeroed(layout)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout)
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note(new_size);
        if new_size > HARD_CAP {
            return std::ptr::null_mut();
        }
        System.realloc(ptr, layout, new_size)
    }
}

// ---------------------------------------------------------------------------
// Raw exchanges.

/// Pause between two chunks of one exchange, so the server sees them in
/// separate reads (a best effort, not a wait for a condition).
pub const CHUNK_PAUSE: Duration = Duration::from_millis(40);
/// After the last chunk is sent: no byte for this long means the server has
/// said all it will say and the connection is still open.
pub const QUIET: Duration = Duration::from_millis(300);
/// No exchange lasts longer than this.
pub const EXCHANGE_DEADLINE: Duration = Duration::from_secs(15);
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// What a server did with some bytes: everything it answered, and whether it
/// closed the connection (EOF or reset) rather than staying quiet and open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub reply: Vec<u8>,
    pub closed: bool,
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} ({} bytes), connection {}",
            show(&self.reply),
            self.reply.len(),
            if self.closed { "CLOSED" } else { "open" }
        )
    }
}

/// Bytes as an escaped string, long runs shortened.
pub fn show(bytes: &[u8]) -> String {
    const MAX: usize = 400;
    let shown = &bytes[..bytes.len().min(MAX)];
    let mut text = format!("\"{}\"", shown.escape_ascii());
    if bytes.len() > MAX {
        text.push_str(&format!("...(+{} bytes)", bytes.len() - MAX));
    }
    text
}

pub async fn connect(addr: SocketAddr) -> tokio::net::TcpStream {
    let stream = tokio::time::timeout(CONNECT_TIMEOUT, tokio::net::TcpStream::connect(addr))
        .await
        .unwrap_or_else(|_| panic!("connect to {addr} timed out"))
        .unwrap_or_else(|e| panic!("connect to {addr}: {e}"));
    stream.set_nodelay(true).ok();
    stream
}

/// Sends `chunks` (pausing between them) on a fresh connection while reading
/// everything the server answers; returns when the server closes, or when it
/// has been quiet for `QUIET` after the last chunk.
pub async fn exchange(addr: SocketAddr, chunks: &[Vec<u8>]) -> Outcome {
    let stream = connect(addr).await;
    let (mut rd, mut wr) = stream.into_split();
    let writes_done = std::sync::atomic::AtomicBool::new(false);
    let writer = async {
        for (i, chunk) in chunks.iter().enumerate() {
            if i > 0 {
                tokio::time::sleep(CHUNK_PAUSE).await;
            }
            // A write error means the server has closed: the reader sees that.
            if wr.write_all(chunk).await.is_err() || wr.flush().await.is_err() {
                break;
            }
        }
        writes_done.store(true, Ordering::SeqCst);
        wr
    };
    let reader = async {
        let start = Instant::now();
        let mut reply = Vec::new();
        let mut buf = vec![0u8; 64 * 1024];
        let closed = loop {
            if start.elapsed() > EXCHANGE_DEADLINE {
                break false;
            }
            match tokio::time::timeout(QUIET, rd.read(&mut buf)).await {
                Ok(Ok(0)) => break true,
                Ok(Ok(n)) => reply.extend_from_slice(&buf[..n]),
                Ok(Err(_)) => break true, // reset by the server
                Err(_) => {
                    if writes_done.load(Ordering::SeqCst) {
                        break false;
                    }
                }
            }
        };
        Outcome { reply, closed }
    };
    let (_wr, outcome) = tokio::join!(writer, reader);
    outcome
}

/// Reads from `stream` until `want` bytes arrived, EOF, or `timeout`.
pub async fn read_exact_within(
    stream: &mut tokio::net::TcpStream,
    want: usize,
    timeout: Duration,
) -> Vec<u8> {
    let deadline = Instant::now() + timeout;
    let mut out = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    while out.len() < want {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break;
        }
        match tokio::time::timeout(left, stream.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) | Err(_) => break,
            Ok(Ok(n)) => out.extend_from_slice(&buf[..n]),
        }
    }
    out
}

/// Reads one RESP reply (any type, nested) from `stream`, within `timeout`.
pub async fn read_reply(stream: &mut tokio::net::TcpStream, timeout: Duration) -> Vec<u8> {
    let deadline = Instant::now() + timeout;
    let mut out = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        if let Some(len) = complete_reply_len(&out) {
            assert_eq!(len, out.len(), "more than one reply: {}", show(&out));
            return out;
        }
        let left = deadline.saturating_duration_since(Instant::now());
        assert!(
            !left.is_zero(),
            "no complete reply within {timeout:?}: {}",
            show(&out)
        );
        match tokio::time::timeout(left, stream.read(&mut buf)).await {
            Ok(Ok(0)) => panic!("connection closed after {}", show(&out)),
            Ok(Ok(n)) => out.extend_from_slice(&buf[..n]),
            Ok(Err(e)) => panic!("read error {e} after {}", show(&out)),
            Err(_) => panic!("no complete reply within {timeout:?}: {}", show(&out)),
        }
    }
}

/// The length of the first complete RESP2 reply in `buf`, if it is all there.
pub fn complete_reply_len(buf: &[u8]) -> Option<usize> {
    fn line_end(buf: &[u8], from: usize) -> Option<usize> {
        buf[from..]
            .windows(2)
            .position(|w| w == b"\r\n")
            .map(|p| from + p)
    }
    fn one(buf: &[u8], at: usize) -> Option<usize> {
        let kind = *buf.get(at)?;
        let end = line_end(buf, at)?;
        let after = end + 2;
        match kind {
            b'+' | b'-' | b':' => Some(after),
            b'$' => {
                let n: i64 = std::str::from_utf8(&buf[at + 1..end]).ok()?.parse().ok()?;
                if n < 0 {
                    Some(after)
                } else if buf.len() >= after + n as usize + 2 {
                    Some(after + n as usize + 2)
                } else {
                    None
                }
            }
            b'*' => {
                let n: i64 = std::str::from_utf8(&buf[at + 1..end]).ok()?.parse().ok()?;
                let mut pos = after;
                for _ in 0..n.max(0) {
                    pos = one(buf, pos)?;
                }
                Some(pos)
            }
            _ => panic!("not a RESP2 reply: {}", show(buf)),
        }
    }
    one(buf, 0)
}

/// A command as RESP multibulk.
pub fn resp(args: &[&[u8]]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for arg in args {
        out.extend_from_slice(format!("${}\r\n", arg.len()).as_bytes());
        out.extend_from_slice(arg);
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// Sends one command and reads its reply.
pub async fn call(stream: &mut tokio::net::TcpStream, args: &[&[u8]]) -> Vec<u8> {
    tokio::time::timeout(Duration::from_secs(10), stream.write_all(&resp(args)))
        .await
        .expect("write timed out")
        .expect("write failed");
    read_reply(stream, Duration::from_secs(10)).await
}

// ---------------------------------------------------------------------------
// Servers.

/// A redis-server child process on a free port, stopped on drop.
///
/// redis-server runs under a small `sh` watchdog whose standard input is a
/// pipe from this process: when the pipe closes (on drop, or when this test
/// binary dies in any way, abort included) the watchdog kills redis-server,
/// so no server outlives the tests.
pub struct RedisServer {
    child: Child,
    pub addr: SocketAddr,
}

/// `$@` are redis-server's arguments. fd 3 keeps the pipe for the watcher
/// (an asynchronous list's own standard input is /dev/null); the shell
/// exits when redis-server does, so an early exit is seen by `try_wait`.
const WATCHDOG: &str = r#"exec 3<&0
/usr/bin/redis-server "$@" 3<&- </dev/null &
r=$!
(read _ <&3; kill -9 $r 2>/dev/null) &
wait $r"#;

impl RedisServer {
    pub const BINARY: &'static str = "/usr/bin/redis-server";

    /// `redis-server --port P --bind 127.0.0.1 --save "" --appendonly no`
    /// plus `extra`, on a port the kernel just handed out; waits (at most
    /// 10 s per attempt) for it to answer PING. Retries on another port if
    /// it exits (the port was taken in between).
    pub fn start(extra: &[&str]) -> RedisServer {
        assert!(
            std::path::Path::new(Self::BINARY).exists(),
            "{} is not installed",
            Self::BINARY
        );
        let mut last_error = String::new();
        for _attempt in 0..5 {
            let port = free_port();
            let mut child = Command::new("sh")
                .args(["-c", WATCHDOG, "sh"])
                .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
                .args(["--save", "", "--appendonly", "no"])
                .args(extra)
                .stdin(Stdio::piped())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap_or_else(|e| panic!("cannot start sh for {}: {e}", Self::BINARY));
            let addr: SocketAddr = ([127, 0, 0, 1], port).into();
            let deadline = Instant::now() + Duration::from_secs(10);
            loop {
                if let Ok(Some(status)) = child.try_wait() {
                    last_error = format!("redis-server exited: {status}");
                    break;
                }
                if ping_blocking(addr) {
                    return RedisServer { child, addr };
                }
                if Instant::now() > deadline {
                    stop(&mut child);
                    last_error = "redis-server did not answer PING within 10 s".into();
                    break;
                }
                std::thread::sleep(Duration::from_millis(10));
            }
            stop(&mut child);
        }
        panic!("could not start redis-server: {last_error}");
    }
}

/// Closes the watchdog's pipe (it kills redis-server) and waits, at most
/// 5 s, for the shell to finish; kills the shell if it does not.
fn stop(child: &mut Child) {
    drop(child.stdin.take());
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let _ = child.kill();
    let _ = child.wait();
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        stop(&mut self.child);
    }
}

fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    listener.local_addr().unwrap().port()
}

/// True if something at `addr` answers `PING` with `+PONG` (or `-NOAUTH`,
/// which also means it is up) within a second.
fn ping_blocking(addr: SocketAddr) -> bool {
    let Ok(mut stream) = TcpStream::connect_timeout(&addr, Duration::from_millis(200)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(1)));
    let _ = stream.set_write_timeout(Some(Duration::from_secs(1)));
    if stream.write_all(b"PING\r\n").is_err() {
        return false;
    }
    let mut buf = [0u8; 64];
    match stream.read(&mut buf) {
        Ok(n) if n > 0 => buf[..n].starts_with(b"+PONG") || buf[..n].starts_with(b"-NOAUTH"),
        _ => false,
    }
}

/// cachet in this process on a free port of 127.0.0.1.
pub async fn start_cachet(configure: impl FnOnce(&mut cachet::Config)) -> cachet::ServerHandle {
    let mut config = cachet::Config {
        port: 0,
        bind: vec!["127.0.0.1".into()],
        ..cachet::Config::default()
    };
    configure(&mut config);
    tokio::time::timeout(Duration::from_secs(10), cachet::ServerHandle::start(config))
        .await
        .expect("cachet start timed out")
        .expect("cachet start failed")
}

pub async fn stop_cachet(server: cachet::ServerHandle) {
    // A stuck connection task must not hang the test: bounded.
    let _ = tokio::time::timeout(Duration::from_secs(10), server.shutdown()).await;
}
