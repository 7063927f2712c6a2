//! One client connection: read, parse every complete command in the buffer,
//! run them in order, and write all their replies in one write (pipelining).
//!
//! The loop enforces the connection-level limits: `maxclients` at accept,
//! protected mode, the query buffer limit for a command still arriving,
//! protocol errors (reply, then close), CLIENT KILL, idle `timeout`, and
//! shutdown. It never interprets commands; `commands::dispatch` does.

use super::blocking::{self, WakeReason};
use super::client::{Client, ClientInfo};
use super::Shared;
use crate::commands::{dispatch, transactions};
use crate::protocol::{Parsed, ParserLimits, RequestParser};
use bytes::{Buf, BytesMut};
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::broadcast;

const READ_CHUNK: usize = 16 * 1024;
/// A pending bulk grows the buffer by at most this much per read.
const MAX_RESERVE_STEP: usize = 4 * 1024 * 1024;
/// Output capacity kept between batches; anything above is released.
const OUTPUT_KEEP: usize = 64 * 1024;

const PROTECTED_MODE_MESSAGE: &str = "-DENIED Redis is running in protected mode because protected mode is enabled and no password is set for the default user. In this mode connections are only accepted from the loopback interface. If you want to connect from external computers to Redis you may adopt one of the following solutions: 1) Just disable protected mode sending the command 'CONFIG SET protected-mode no' from the loopback interface by connecting to Redis from the same host the server is running, however MAKE SURE Redis is not publicly accessible from internet if you do so. Use CONFIG REWRITE to make this change permanent. 2) Alternatively you can just disable the protected mode by editing the Redis configuration file, and setting the protected mode option to 'no', and then restarting the server. 3) If you started the server manually just for testing, restart it with the '--protected-mode no' option. 4) Set up an authentication password for the default user. NOTE: You only need to do one of the above things in order for the server to start accepting connections from the outside.\r\n";

/// Serves one accepted connection until it closes.
pub async fn serve(shared: Arc<Shared>, mut stream: TcpStream, peer: SocketAddr) {
    shared
        .stats
        .connections_received
        .fetch_add(1, Ordering::Relaxed);
    let _ = stream.set_nodelay(true);
    let hot = &shared.hot;
    if shared.clients.len() >= hot.maxclients.load(Ordering::Relaxed) {
        shared
            .stats
            .rejected_connections
            .fetch_add(1, Ordering::Relaxed);
        let _ = stream
            .write_all(b"-ERR max number of clients reached\r\n")
            .await;
        return;
    }
    if hot.protected_mode.load(Ordering::Relaxed)
        && !hot.requirepass_set.load(Ordering::Relaxed)
        && !peer.ip().is_loopback()
    {
        shared
            .stats
            .rejected_connections
            .fetch_add(1, Ordering::Relaxed);
        let _ = stream.write_all(PROTECTED_MODE_MESSAGE.as_bytes()).await;
        return;
    }
    let local = stream.local_addr().unwrap_or_else(|_| shared.local_addr());
    let info = Arc::new(ClientInfo::new(shared.clients.next_id(), peer, local));
    shared.clients.insert(info.clone());
    let _registration = Registration {
        shared: &shared,
        info: info.clone(),
    };
    // Shutdown kills every registered client; one registered just after that
    // sweep sees the flag here instead.
    if shared.is_shutting_down() {
        return;
    }
    let mut client = Client::new(info, !hot.requirepass_set.load(Ordering::Relaxed));
    if let Err(error) = run(&shared, &mut client, &mut stream).await {
        tracing::debug!("client {} closed: {}", peer, error);
    }
    if let Some(blocked) = client.blocked.take() {
        blocking::release(&shared, &blocked);
    }
    transactions::release_client(&shared, &mut client);
    shared.flush_client_stats(&mut client);
}

/// Removes a client from the registry when its task ends, even by a panic,
/// so a crashed connection can never hold a `maxclients` slot.
struct Registration<'a> {
    shared: &'a Shared,
    info: Arc<ClientInfo>,
}

impl Drop for Registration<'_> {
    fn drop(&mut self) {
        if self.info.has_flag(super::client::flags::MONITOR) {
            self.shared.monitor.remove();
        }
        self.shared.clients.remove(self.info.id);
    }
}

enum Wake {
    Read(usize),
    Monitor(Vec<u8>),
    Close,
}

async fn next_monitor_line(feed: &mut Option<broadcast::Receiver<Arc<[u8]>>>) -> Option<Vec<u8>> {
    let receiver = feed.as_mut()?;
    loop {
        match receiver.recv().await {
            Ok(line) => return Some(line.to_vec()),
            Err(broadcast::error::RecvError::Lagged(_)) => continue,
            Err(broadcast::error::RecvError::Closed) => return None,
        }
    }
}

async fn run(
    shared: &Arc<Shared>,
    client: &mut Client,
    stream: &mut TcpStream,
) -> std::io::Result<()> {
    let mut input = BytesMut::with_capacity(READ_CHUNK);
    let mut output: Vec<u8> = Vec::with_capacity(READ_CHUNK);
    let mut parser = RequestParser::new();
    let mut monitor_feed: Option<broadcast::Receiver<Arc<[u8]>>> = None;
    let info = client.info.clone();
    // Registered once for the whole connection, so waiting for input does
    // not re-register with the kill switch on every read.
    let kill = info.kill.notified();
    tokio::pin!(kill);
    // After DEBUG SLEEP, commands already buffered run before the next read.
    let mut resume_buffered = false;
    loop {
        if resume_buffered {
            resume_buffered = false;
        } else if !wait_for_input(
            shared,
            client,
            stream,
            &mut input,
            &mut monitor_feed,
            kill.as_mut(),
        )
        .await?
        {
            return Ok(());
        }
        if info.killed.load(Ordering::Acquire) {
            return Ok(());
        }
        let now_ms = crate::util::now_ms();
        info.last_interaction_ms.store(now_ms, Ordering::Relaxed);
        client.clock_mark = crate::stats::clock::Stamp::now();
        info.query_buffer.store(input.len(), Ordering::Relaxed);
        run_batch(shared, client, &mut parser, &input, &mut output, now_ms);
        input.advance(parser.consume());
        let limit = shared.hot.query_buffer_limit.load(Ordering::Relaxed) as usize;
        if parser.pending_bytes(input.len()) > limit {
            tracing::warn!(
                "closing client {}: query buffer of {} bytes exceeds client-query-buffer-limit",
                info.addr,
                input.len()
            );
            return Ok(());
        }
        let wanted = parser.bytes_wanted(input.len());
        if wanted > 0 {
            input.reserve(wanted.min(MAX_RESERVE_STEP));
        }
        info.query_buffer.store(input.len(), Ordering::Relaxed);
        if !output.is_empty() {
            client.counters.output_bytes += output.len() as u64;
            stream.write_all(&output).await?;
            output.clear();
            if output.capacity() > OUTPUT_KEEP {
                output.shrink_to(READ_CHUNK);
            }
        }
        shared.flush_client_stats(client);
        if client.close_after_reply || info.killed.load(Ordering::Acquire) {
            let _ = stream.shutdown().await;
            return Ok(());
        }
        if client.monitor && monitor_feed.is_none() {
            monitor_feed = Some(shared.monitor.subscribe());
        } else if !client.monitor && monitor_feed.is_some() {
            // RESET ended MONITOR mode.
            monitor_feed = None;
        }
        if let Some(pause) = client.pending_sleep.take() {
            tokio::time::sleep(pause).await;
            resume_buffered = true;
        }
        if !client.ready_keys.is_empty() {
            // Clients blocked on keys this command fed are served before
            // this client's next command runs.
            let ready = std::mem::take(&mut client.ready_keys);
            blocking::serve_ready(shared, ready).await;
            resume_buffered = true;
        }
        if client.blocked.is_some() {
            if !wait_while_blocked(shared, client, stream, &mut input, kill.as_mut()).await? {
                return Ok(());
            }
            resume_buffered = true;
        }
    }
}

/// Waits in a blocking command until it is woken, times out, is unblocked,
/// or the connection closes; then finishes the command and writes its reply.
/// Bytes that arrive meanwhile stay buffered for after. Returns false when
/// the connection should close.
async fn wait_while_blocked(
    shared: &Arc<Shared>,
    client: &mut Client,
    stream: &mut TcpStream,
    input: &mut BytesMut,
    mut kill: std::pin::Pin<&mut tokio::sync::futures::Notified<'_>>,
) -> std::io::Result<bool> {
    let Some(blocked) = client.blocked.as_ref() else {
        return Ok(true);
    };
    let waiter = blocked.waiter.clone();
    let deadline = blocked.deadline;
    let limit = shared.hot.query_buffer_limit.load(Ordering::Relaxed) as usize;
    let reason = loop {
        if input.capacity() - input.len() < READ_CHUNK / 4 {
            input.reserve(READ_CHUNK);
        }
        let timeout = async {
            match deadline {
                Some(at) => tokio::time::sleep_until(at).await,
                None => std::future::pending::<()>().await,
            }
        };
        tokio::select! {
            biased;
            _ = kill.as_mut() => return Ok(false),
            _ = waiter.woken() => {
                if let Some(reason) = waiter.wake_reason() {
                    break reason;
                }
            }
            _ = timeout => {
                if shared.blocking.time_out(&waiter) {
                    break WakeReason::Timeout;
                }
                if let Some(reason) = waiter.wake_reason() {
                    break reason;
                }
            }
            read = stream.read_buf(input) => {
                let n = read?;
                if n == 0 || input.len() > limit {
                    return Ok(false);
                }
                client.counters.input_bytes += n as u64;
            }
        }
    };
    let Some(blocked) = client.blocked.take() else {
        return Ok(true);
    };
    blocking::release(shared, &blocked);
    let mut output = Vec::new();
    let mut reply = crate::protocol::ReplyWriter::new(&mut output, client.protocol);
    match reason {
        WakeReason::Ready => {
            let ack = waiter.take_ack();
            client.block_retry = Some(blocked.deadline);
            client.clock_mark = crate::stats::clock::Stamp::now();
            let now_ms = crate::util::now_ms();
            dispatch(shared, client, blocked.args.args(), &mut output, now_ms);
            client.block_retry = None;
            if !client.ready_keys.is_empty() {
                let ready = std::mem::take(&mut client.ready_keys);
                blocking::serve_ready(shared, ready).await;
            }
            if let Some(ack) = ack {
                let _ = ack.send(client.blocked.is_none());
            }
        }
        WakeReason::Timeout | WakeReason::Unblocked { error: false } => {
            // Redis answers every blocking timeout with a null array.
            reply.null_array();
        }
        WakeReason::Unblocked { error: true } => {
            reply.error_bytes(b"UNBLOCKED client unblocked via CLIENT UNBLOCK");
        }
    }
    if !output.is_empty() {
        client.counters.output_bytes += output.len() as u64;
        stream.write_all(&output).await?;
    }
    shared.flush_client_stats(client);
    Ok(true)
}

/// Waits for bytes from the client (forwarding MONITOR lines meanwhile).
/// Returns false when the connection should close.
async fn wait_for_input(
    shared: &Arc<Shared>,
    client: &mut Client,
    stream: &mut TcpStream,
    input: &mut BytesMut,
    monitor_feed: &mut Option<broadcast::Receiver<Arc<[u8]>>>,
    mut kill: std::pin::Pin<&mut tokio::sync::futures::Notified<'_>>,
) -> std::io::Result<bool> {
    loop {
        if input.capacity() - input.len() < READ_CHUNK / 4 {
            input.reserve(READ_CHUNK);
        }
        let idle_timeout = shared.hot.idle_timeout_s.load(Ordering::Relaxed);
        let idle_limit =
            (idle_timeout != 0 && !client.monitor).then(|| Duration::from_secs(idle_timeout));
        let idle = async {
            match idle_limit {
                Some(limit) => tokio::time::sleep(limit).await,
                None => std::future::pending::<()>().await,
            }
        };
        let wake = tokio::select! {
            biased;
            _ = kill.as_mut() => Wake::Close,
            Some(line) = next_monitor_line(monitor_feed), if monitor_feed.is_some() => Wake::Monitor(line),
            read = stream.read_buf(input) => Wake::Read(read?),
            _ = idle => Wake::Close,
        };
        match wake {
            Wake::Close | Wake::Read(0) => return Ok(false),
            Wake::Monitor(line) => stream.write_all(&line).await?,
            Wake::Read(n) => {
                client.counters.input_bytes += n as u64;
                return Ok(true);
            }
        }
    }
}

/// Runs every complete command in `input`, appending replies to `output`.
fn run_batch(
    shared: &Shared,
    client: &mut Client,
    parser: &mut RequestParser,
    input: &[u8],
    output: &mut Vec<u8>,
    now_ms: u64,
) {
    let max_bulk_len = shared.hot.proto_max_bulk_len.load(Ordering::Relaxed) as i64;
    loop {
        let limits = ParserLimits {
            max_bulk_len,
            authenticated: client.authenticated,
        };
        match parser.next(input, limits) {
            Ok(Parsed::Command) => {
                dispatch(shared, client, parser.args(input), output, now_ms);
                if client.close_after_reply
                    || client.pending_sleep.is_some()
                    || client.blocked.is_some()
                    || !client.ready_keys.is_empty()
                {
                    // Stop here: QUIT closes, DEBUG SLEEP pauses, a blocking
                    // command waits, and blocked clients fed by this command
                    // are served, all before the next command runs.
                    return;
                }
            }
            Ok(Parsed::Incomplete) => return,
            Err(error) => {
                shared.stats.record_error("ERR");
                crate::protocol::ReplyWriter::new(output, client.protocol)
                    .error_bytes(&error.to_bytes());
                client.close_after_reply = true;
                return;
            }
        }
    }
}
