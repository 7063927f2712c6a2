//! One client connection: read, parse every complete command in the buffer,
//! run them in order, and write all their replies in one write (pipelining).
//!
//! The loop enforces the connection-level limits: `maxclients` at accept,
//! protected mode, the query buffer limit for a command still arriving,
//! protocol errors (reply, then close), CLIENT KILL, idle `timeout`, and
//! shutdown. It never interprets commands; `commands::dispatch` does.

use super::blocking::{self, WakeReason};
use super::client::{Attention, Client, ClientInfo};
use super::outbox::LimitClass;
use super::Shared;
use crate::commands::{dispatch, transactions};
use crate::protocol::{Parsed, ParserLimits, RequestParser};
use crate::scripting::run_state::Admission;
use bytes::{Buf, BufMut, BytesMut};
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio::sync::broadcast;

const READ_CHUNK: usize = 16 * 1024;
/// A pending bulk grows the buffer by at most this much per read.
const MAX_RESERVE_STEP: usize = 4 * 1024 * 1024;

const PROTECTED_MODE_MESSAGE: &str = "-DENIED Redis is running in protected mode because protected mode is enabled and no password is set for the default user. In this mode connections are only accepted from the loopback interface. If you want to connect from external computers to Redis you may adopt one of the following solutions: 1) Just disable protected mode sending the command 'CONFIG SET protected-mode no' from the loopback interface by connecting to Redis from the same host the server is running, however MAKE SURE Redis is not publicly accessible from internet if you do so. Use CONFIG REWRITE to make this change permanent. 2) Alternatively you can just disable the protected mode by editing the Redis configuration file, and setting the protected mode option to 'no', and then restarting the server. 3) If you started the server manually just for testing, restart it with the '--protected-mode no' option. 4) Set up an authentication password for the default user. NOTE: You only need to do one of the above things in order for the server to start accepting connections from the outside.\r\n";

/// Reads what the socket holds into `input` with one system call where
/// tokio's `read_buf` usually needs two. Tokio keeps a socket marked
/// readable until a read fails with WouldBlock, so after a read that
/// drained the socket, the next `read_buf` is a wasted EAGAIN before the
/// task sleeps; at one request per read (`-P 1`) that is one system call
/// in four. A read that returns less than it had room for has drained the
/// socket, so this clears the mark itself; tokio clears it only if no new
/// readiness has been signalled since it was observed, so no wakeup is lost.
async fn read_available(stream: &TcpStream, input: &mut BytesMut) -> std::io::Result<usize> {
    if input.len() == input.capacity() {
        // A zero-length read would look like the peer closing.
        input.reserve(READ_CHUNK);
    }
    loop {
        stream.readable().await?;
        let mut received = 0;
        let outcome = stream.try_io(tokio::io::Interest::READABLE, || {
            let spare = input.spare_capacity_mut();
            let room = spare.len();
            let n = socket2::SockRef::from(stream).recv(spare)?;
            received = n;
            if n > 0 && n < room {
                // Drained: report WouldBlock so tokio clears the mark.
                return Err(std::io::ErrorKind::WouldBlock.into());
            }
            Ok(n)
        });
        match outcome {
            Ok(_) | Err(_) if received > 0 => {
                // SAFETY: `recv` initialised the first `received` bytes of
                // the spare capacity it was given.
                unsafe { input.advance_mut(received) };
                return Ok(received);
            }
            Ok(_) => return Ok(0),
            Err(error) if error.kind() == std::io::ErrorKind::WouldBlock => continue,
            Err(error) => return Err(error),
        }
    }
}

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
    crate::commands::pubsub::release_client(&shared, &mut client);
    crate::events::tracking::disable(&shared, &mut client);
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
    /// Other connections queued frames for this client.
    Outbox,
    Close,
}

/// Writes `bytes`, unless the client is killed first (CLIENT KILL, or its
/// output limit) while the socket is full. Returns false when killed.
async fn write_unless_killed(
    stream: &mut TcpStream,
    bytes: &[u8],
    info: &ClientInfo,
) -> std::io::Result<bool> {
    // The write is polled first: what can go out now still does (CLIENT
    // KILL's own reply to a client that killed itself, for one).
    tokio::select! {
        biased;
        written = stream.write_all(bytes) => written.map(|_| true),
        _ = info.killed() => Ok(false),
    }
}

/// Writes a batch of replies (and what was queued with them) under the
/// client's `client-output-buffer-limit`: at or over the hard limit the
/// connection closes without writing; over the soft limit, the write must
/// finish within the soft seconds. Returns false when the connection should
/// close. cachet stops reading a client whose replies cannot be written, so
/// this one batch is all a slow reader can make the server hold.
async fn write_replies(
    shared: &Shared,
    client: &Client,
    stream: &mut TcpStream,
    output: &[u8],
    info: &ClientInfo,
) -> std::io::Result<bool> {
    let class = if client.subscriptions.active() {
        LimitClass::Pubsub
    } else {
        LimitClass::Normal
    };
    let limit = shared.output_limits.get(class);
    let pending = output.len() as u64;
    let over = |bytes: u64| bytes != 0 && pending >= bytes;
    if over(limit.hard_bytes) {
        warn_output_limit(client);
        return Ok(false);
    }
    if !over(limit.soft_bytes) {
        return write_unless_killed(stream, output, info).await;
    }
    let allowed = Duration::from_secs(limit.soft_seconds);
    match tokio::time::timeout(allowed, write_unless_killed(stream, output, info)).await {
        Ok(result) => result,
        Err(_) => {
            warn_output_limit(client);
            Ok(false)
        }
    }
}

/// Writes the replies waiting in `output` (if any) and empties it, keeping
/// a modest buffer. Returns false when the connection should close.
async fn write_pending(
    shared: &Shared,
    client: &mut Client,
    stream: &mut TcpStream,
    output: &mut Vec<u8>,
    info: &ClientInfo,
) -> std::io::Result<bool> {
    if output.is_empty() {
        return Ok(true);
    }
    client.counters.output_bytes += output.len() as u64;
    if !write_replies(shared, client, stream, output, info).await? {
        return Ok(false);
    }
    output.clear();
    if output.capacity() > crate::util::KEEP_BUFFER_BYTES {
        output.shrink_to(READ_CHUNK);
    }
    Ok(true)
}

fn warn_output_limit(client: &Client) {
    tracing::warn!(
        "Client id={} addr={} closed for overcoming of output buffer limits.",
        client.id,
        client.info.addr
    );
}

/// Writes what other connections queued for the client. Returns false when
/// the connection should close (it was killed, or passed its output limit).
async fn write_outbox(
    client: &mut Client,
    stream: &mut TcpStream,
    info: &ClientInfo,
) -> std::io::Result<bool> {
    let outbox = &client.info.outbox;
    if outbox.overflowed() {
        return Ok(false);
    }
    if outbox.is_empty() {
        return Ok(true);
    }
    let mut frames = Vec::with_capacity(outbox.len());
    outbox.drain_into(&mut frames);
    client.counters.output_bytes += frames.len() as u64;
    write_unless_killed(stream, &frames, info).await
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
    // After DEBUG SLEEP, commands already buffered run before the next read.
    let mut resume_buffered = false;
    loop {
        if resume_buffered {
            resume_buffered = false;
        } else if !wait_for_input(shared, client, stream, &mut input, &mut monitor_feed, &info)
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
        let now_ms =
            run_admitted_batches(shared, client, &mut parser, &input, &mut output, now_ms).await;
        if output.is_empty() && info.outbox.is_empty() && !info.killed.load(Ordering::Acquire) {
            if let Some(request) = client.script_request.take() {
                // Nothing goes out before the script's reply: it runs in
                // this pass, and its reply leaves with those of the
                // commands buffered after it.
                let batch = Batch {
                    parser: &mut parser,
                    input: &mut input,
                    output: &mut output,
                };
                let rest_waits = run_script(shared, client, request, batch, Some(now_ms)).await;
                resume_buffered |= rest_waits;
            }
        }
        crate::events::tracking::flush_broadcasts(shared);
        if !info.outbox.is_empty() {
            info.outbox.drain_into(&mut output);
        }
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
            if client.batch_commands > 1 {
                // A pipeline's replies go out once the other connections
                // that are ready have run their commands too, so that the
                // writes leave back to back, as Redis's do. Written as each
                // batch ends, they found a pipelining client asleep again
                // each time, and waking it took the server about a sixth
                // of its time on a pipeline of scripts (perf, EVALSHA at
                // -P 16). A lone command's reply goes at once.
                tokio::task::yield_now().await;
            }
            if !write_pending(shared, client, stream, &mut output, &info).await? {
                return Ok(());
            }
        }
        client.batch_commands = 0;
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
        if let Some(request) = client.script_request.take() {
            // The replies so far are out; the script's goes next, with the
            // commands buffered after it.
            let batch = Batch {
                parser: &mut parser,
                input: &mut input,
                output: &mut output,
            };
            run_script(shared, client, request, batch, None).await;
            resume_buffered = true;
        }
        if let Some(request) = client.upstream_request.take() {
            // The replies so far are out; the upstream's goes next, then
            // the commands still buffered.
            crate::upstream::route::serve(shared, client, request, &mut output).await;
            resume_buffered = true;
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
            // What ran before the blocking command in this pass (a script
            // and the commands after it) is answered before it waits.
            if !write_pending(shared, client, stream, &mut output, &info).await? {
                return Ok(());
            }
            if !wait_while_blocked(shared, client, stream, &mut input, &info).await? {
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
    info: &ClientInfo,
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
            attention = info.attention() => {
                if attention == Attention::Killed || !write_outbox(client, stream, info).await? {
                    return Ok(false);
                }
            }
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
            read = read_available(stream, input) => {
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
    let run = &shared.scripting.run;
    run.when_free(|| blocking::release(shared, &blocked)).await;
    let mut output = Vec::new();
    let mut reply = crate::protocol::ReplyWriter::new(&mut output, client.protocol);
    match reason {
        WakeReason::Ready => {
            let ack = waiter.take_ack();
            client.block_retry = Some(blocked.deadline);
            client.clock_mark = crate::stats::clock::Stamp::now();
            run.when_free(|| {
                let now_ms = crate::util::now_ms();
                dispatch(shared, client, blocked.args.args(), &mut output, now_ms)
            })
            .await;
            client.block_retry = None;
            if !client.ready_keys.is_empty() {
                let ready = std::mem::take(&mut client.ready_keys);
                blocking::serve_ready(shared, ready).await;
            }
            if let Some(ack) = ack {
                let _ = ack.send(client.blocked.is_none());
            }
            crate::events::tracking::flush_broadcasts(shared);
        }
        WakeReason::Timeout | WakeReason::Unblocked { error: false } => {
            // Redis answers every blocking timeout with a null array.
            reply.null_array();
        }
        WakeReason::Unblocked { error: true } => {
            reply.error_bytes(b"UNBLOCKED client unblocked via CLIENT UNBLOCK");
        }
    }
    if !client.info.outbox.is_empty() {
        client.info.outbox.drain_into(&mut output);
    }
    if !write_pending(shared, client, stream, &mut output, info).await? {
        return Ok(false);
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
    info: &ClientInfo,
) -> std::io::Result<bool> {
    loop {
        if input.capacity() - input.len() < READ_CHUNK / 4 {
            input.reserve(READ_CHUNK);
        }
        let idle_timeout = shared.hot.idle_timeout_s.load(Ordering::Relaxed);
        let idle_limit =
            // Like Redis, `timeout` spares monitors and subscribers.
            (idle_timeout != 0 && !client.monitor && !client.subscriptions.active())
                .then(|| Duration::from_secs(idle_timeout));
        let idle = async {
            match idle_limit {
                Some(limit) => tokio::time::sleep(limit).await,
                None => std::future::pending::<()>().await,
            }
        };
        let wake = tokio::select! {
            biased;
            attention = info.attention() => match attention {
                Attention::Killed => Wake::Close,
                Attention::Outbox => Wake::Outbox,
            },
            Some(line) = next_monitor_line(monitor_feed), if monitor_feed.is_some() => Wake::Monitor(line),
            read = read_available(stream, input) => Wake::Read(read?),
            _ = idle => Wake::Close,
        };
        match wake {
            Wake::Close | Wake::Read(0) => return Ok(false),
            Wake::Outbox => {
                if !write_outbox(client, stream, info).await? {
                    return Ok(false);
                }
            }
            Wake::Monitor(line) => {
                if !write_unless_killed(stream, &line, info).await? {
                    return Ok(false);
                }
            }
            Wake::Read(n) => {
                client.counters.input_bytes += n as u64;
                shared.busy_poll.note_read();
                return Ok(true);
            }
        }
    }
}

/// Runs the buffered commands once no script holds the keyspace: all of
/// them when none runs, one at a time (each answered BUSY unless it may
/// run) while a script runs past busy-reply-threshold, none before that.
/// Returns the time it last read.
async fn run_admitted_batches(
    shared: &Shared,
    client: &mut Client,
    parser: &mut RequestParser,
    input: &[u8],
    output: &mut Vec<u8>,
    mut now_ms: u64,
) -> u64 {
    loop {
        match run_if_admitted(shared, client, parser, input, output, now_ms) {
            Step::Done => return now_ms,
            Step::More => {}
            Step::Wait => {
                shared.scripting.run.wait_until_free_or_busy().await;
                now_ms = crate::util::now_ms();
                client.clock_mark = crate::stats::clock::Stamp::now();
            }
        }
    }
}

/// What `run_if_admitted` did.
enum Step {
    Done,
    /// Ran one command while a script is busy; there may be more.
    More,
    /// A script runs: nothing ran.
    Wait,
}

fn run_if_admitted(
    shared: &Shared,
    client: &mut Client,
    parser: &mut RequestParser,
    input: &[u8],
    output: &mut Vec<u8>,
    now_ms: u64,
) -> Step {
    match shared.scripting.run.admit() {
        Admission::Open(_gate) => {
            run_batch(shared, client, parser, input, output, now_ms, usize::MAX);
            Step::Done
        }
        Admission::Busy => match run_batch(shared, client, parser, input, output, now_ms, 1) {
            true => Step::More,
            false => Step::Done,
        },
        Admission::Wait => Step::Wait,
    }
}

/// The connection's parser, buffered input and pending output.
struct Batch<'a> {
    parser: &'a mut RequestParser,
    input: &'a mut BytesMut,
    output: &'a mut Vec<u8>,
}

/// Runs a script or function, and the commands buffered after it, holding
/// the script gate for writing, so that no other batch runs meanwhile and
/// no other task waits on the shards the script holds (they wait on the
/// gate, asynchronously). On a multi-thread runtime it runs right here, on
/// this task's worker, which a script past busy-reply-threshold hands to a
/// new thread (see `run_state`); on a current-thread runtime (cachet
/// embedded in a test's runtime) it runs on the script thread, since that
/// runtime cannot hand its thread over. `now_ms` is the time just read, if
/// nothing could have waited since. The client keeps the request's buffers
/// for its next script. Returns true when the commands buffered after the
/// script did not run (it was answered BUSY): the caller runs them next.
async fn run_script(
    shared: &Arc<Shared>,
    client: &mut Client,
    request: crate::protocol::OwnedArgs,
    batch: Batch<'_>,
    now_ms: Option<u64>,
) -> bool {
    let done = if crate::scripting::run_state::runtime_can_hand_off() {
        run_script_here(shared, client, request, batch, now_ms).await
    } else {
        run_script_on_thread(shared, client, request, batch).await
    };
    client.keep_script_args(done.args);
    done.rest_waits
}

/// What running a deferred script gives back.
struct ScriptDone {
    /// The request, whose buffers the client keeps.
    args: crate::protocol::OwnedArgs,
    /// The commands buffered after the script have not run.
    rest_waits: bool,
}

/// `run_script` on this task's worker: waits while another script holds
/// the gate, or answers BUSY once that one is past the threshold.
async fn run_script_here(
    shared: &Arc<Shared>,
    client: &mut Client,
    request: crate::protocol::OwnedArgs,
    batch: Batch<'_>,
    mut now_ms: Option<u64>,
) -> ScriptDone {
    let run = &shared.scripting.run;
    loop {
        let now = *now_ms.get_or_insert_with(crate::util::now_ms);
        if let Some(exclusive) = run.try_exclusive() {
            run_script_batch(shared, client, &request, batch, now);
            drop(exclusive);
            return ScriptDone {
                args: request,
                rest_waits: false,
            };
        }
        if run.is_busy() {
            // Refused with BUSY by the dispatcher, like any other command;
            // so are the commands after it, which the caller runs next.
            dispatch(shared, client, request.args(), batch.output, now);
            return ScriptDone {
                args: request,
                rest_waits: true,
            };
        }
        now_ms = None;
        if run.script_holds_gate() {
            // Another script runs: its release (or its turning busy) wakes this.
            run.wait_until_free_or_busy().await;
        } else {
            // A batch on another worker holds the gate for a moment.
            tokio::task::yield_now().await;
        }
    }
}

/// `run_script` on the script thread, while this connection's task waits
/// and the runtime goes on serving others. The client, parser and buffers
/// move to that thread and back; a pipeline of scripts costs one trip.
async fn run_script_on_thread(
    shared: &Arc<Shared>,
    client: &mut Client,
    request: crate::protocol::OwnedArgs,
    batch: Batch<'_>,
) -> ScriptDone {
    let stand_in = Client::new(client.info.clone(), client.authenticated);
    let mut moved = std::mem::replace(client, stand_in);
    let mut parser = std::mem::take(batch.parser);
    let mut input = std::mem::take(batch.input);
    let mut out = std::mem::take(batch.output);
    let on_thread = Arc::clone(shared);
    let answer = shared.script_thread.run(move || {
        let exclusive = on_thread.scripting.run.exclusive();
        let moved_batch = Batch {
            parser: &mut parser,
            input: &mut input,
            output: &mut out,
        };
        let now_ms = crate::util::now_ms();
        run_script_batch(&on_thread, &mut moved, &request, moved_batch, now_ms);
        drop(exclusive);
        (moved, parser, input, out, request)
    });
    match answer.await {
        Ok((moved, parser, input, out, request)) => {
            *client = moved;
            *batch.parser = parser;
            *batch.input = input;
            *batch.output = out;
            ScriptDone {
                args: request,
                rest_waits: false,
            }
        }
        Err(_) => {
            tracing::error!("a script failed inside the server");
            crate::protocol::ReplyWriter::new(batch.output, client.protocol)
                .error_bytes(b"ERR the script failed inside the server");
            client.close_after_reply = true;
            ScriptDone {
                args: Default::default(),
                rest_waits: false,
            }
        }
    }
}

/// The script, then the commands buffered after it, with the gate held.
fn run_script_batch(
    shared: &Shared,
    client: &mut Client,
    request: &crate::protocol::OwnedArgs,
    batch: Batch<'_>,
    now_ms: u64,
) {
    client.script_admitted = true;
    client.clock_mark = crate::stats::clock::Stamp::now();
    dispatch(shared, client, request.args(), batch.output, now_ms);
    client.batch_commands += 1;
    if !stops_batch(client) {
        run_batch(
            shared,
            client,
            batch.parser,
            batch.input,
            batch.output,
            now_ms,
            usize::MAX,
        );
    }
    client.script_admitted = false;
}

/// Whether the last command must be dealt with before the next one runs:
/// QUIT closes, DEBUG SLEEP pauses, a blocking command waits, blocked
/// clients fed by this command are served, the upstream or a script
/// answers.
fn stops_batch(client: &Client) -> bool {
    client.close_after_reply
        || client.upstream_request.is_some()
        || client.script_request.is_some()
        || client.pending_sleep.is_some()
        || client.blocked.is_some()
        || !client.ready_keys.is_empty()
}

/// Runs complete commands in `input` (at most `max_commands`), appending
/// replies to `output`; true when it stopped at that limit.
fn run_batch(
    shared: &Shared,
    client: &mut Client,
    parser: &mut RequestParser,
    input: &[u8],
    output: &mut Vec<u8>,
    now_ms: u64,
    max_commands: usize,
) -> bool {
    let max_bulk_len = shared.hot.proto_max_bulk_len.load(Ordering::Relaxed) as i64;
    let mut ran = 0;
    loop {
        let limits = ParserLimits {
            max_bulk_len,
            authenticated: client.authenticated,
        };
        match parser.next(input, limits) {
            Ok(Parsed::Command) => {
                dispatch(shared, client, parser.args(input), output, now_ms);
                ran += 1;
                if client.script_request.is_none() {
                    // A deferred script counts where it runs.
                    client.batch_commands += 1;
                }
                if stops_batch(client) {
                    return false;
                }
                if ran >= max_commands {
                    return true;
                }
            }
            Ok(Parsed::Incomplete) => return false,
            Err(error) => {
                shared.stats.record_error("ERR");
                crate::protocol::ReplyWriter::new(output, client.protocol)
                    .error_bytes(&error.to_bytes());
                client.close_after_reply = true;
                return false;
            }
        }
    }
}
