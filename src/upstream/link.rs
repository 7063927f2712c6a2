//! The link: connecting to the upstream, switching on CLIENT TRACKING,
//! watching the connection's health, and reconnecting with backoff.
//!
//! One supervisor task per server runs the link. For each target it
//! connects two multiplexed connections (the `redis` crate's): a RESP3 one
//! that carries CLIENT TRACKING, every fill and RESP3 clients' commands,
//! and a RESP2 one for RESP2 clients' commands, so each client gets the
//! upstream's own reply shapes. Invalidations arrive as RESP3 pushes, which
//! the crate hands to a callback in socket order; the callback applies
//! them at once (`fill::invalidated`).
//!
//! The `redis` crate's `ConnectionManager` is not used: it neither re-runs
//! CLIENT TRACKING after a reconnect nor tells which pushes came from which
//! connection, and both matter for coherence. The supervisor does that
//! itself: every link has a generation, and when it ends every copy is
//! dropped before the next link serves.

use super::{Target, UpstreamError};
use crate::server::Shared;
use redis::aio::MultiplexedConnection;
use redis::{AsyncConnectionConfig, IntoConnectionInfo, ProtocolVersion, PushInfo, PushKind};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};
use tokio::sync::Notify;

/// The lifetime of a copy when the upstream cannot track and
/// `upstream-max-ttl` is 0 (unlimited would mean never refreshed).
pub const UNTRACKED_DEFAULT_TTL_MS: u64 = 1000;
/// How often the supervisor checks that the upstream answers.
const HEALTH_INTERVAL: Duration = Duration::from_millis(100);
const BACKOFF_MIN: Duration = Duration::from_millis(50);
const BACKOFF_MAX: Duration = Duration::from_secs(1);

/// How the upstream tells cachet about changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tracking {
    /// CLIENT TRACKING ON: keys cachet read.
    Default,
    /// CLIENT TRACKING ON BCAST: every key under these prefixes.
    Broadcast(Vec<Vec<u8>>),
    /// No invalidations: copies live at most `upstream-max-ttl`.
    Off,
}

impl Tracking {
    pub fn name(&self) -> &'static str {
        match self {
            Tracking::Default => "default",
            Tracking::Broadcast(_) => "bcast",
            Tracking::Off => "off",
        }
    }
}

/// One live link (both connections), valid for one generation.
pub struct Link {
    pub generation: u64,
    pub address: String,
    pub tracking: Tracking,
    resp3: MultiplexedConnection,
    resp2: MultiplexedConnection,
    resp3_client: redis::Client,
    resp2_client: redis::Client,
    connect_timeout: Duration,
}

impl Link {
    /// The connection that answers in `protocol`'s shapes. Fills always use
    /// the RESP3 one, which carries the tracking.
    pub fn connection(&self, resp3: bool) -> MultiplexedConnection {
        if resp3 {
            self.resp3.clone()
        } else {
            self.resp2.clone()
        }
    }

    /// A connection of its own, for a blocking command (it may wait forever).
    pub async fn dedicated(&self, resp3: bool) -> Result<MultiplexedConnection, UpstreamError> {
        let config = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(self.connect_timeout))
            .set_response_timeout(None);
        let client = if resp3 {
            &self.resp3_client
        } else {
            &self.resp2_client
        };
        client
            .get_multiplexed_async_connection_with_config(&config)
            .await
            .map_err(|error| UpstreamError::Failed {
                address: self.address.clone(),
                reason: error.to_string(),
            })
    }

    /// Whether a copy of `key` would be kept fresh (or bounded) by this link.
    pub fn may_cache(&self, key: &[u8]) -> bool {
        match &self.tracking {
            Tracking::Broadcast(prefixes) => prefixes.iter().any(|p| key.starts_with(p)),
            Tracking::Default | Tracking::Off => true,
        }
    }
}

/// Starts the supervisor; it ends when the server shuts down.
pub fn spawn(shared: &Arc<Shared>) {
    let weak = Arc::downgrade(shared);
    let mut shutdown = shared.shutdown_signal();
    tokio::spawn(async move {
        tokio::select! {
            _ = supervise(weak) => {}
            _ = crate::server::stopped(&mut shutdown) => {}
        }
    });
}

async fn supervise(weak: Weak<Shared>) {
    let Some(mut targets) = weak.upgrade().map(|s| s.upstream.target.subscribe()) else {
        return;
    };
    loop {
        let target = targets.borrow_and_update().clone();
        match target {
            None => {
                if let Some(shared) = weak.upgrade() {
                    take_down(&shared, "no upstream configured", false);
                    shared.upstream.status.lock().state = "none";
                }
            }
            Some(target) => run_target(&weak, &target, &mut targets).await,
        }
        if !targets.has_changed().unwrap_or(false) && targets.changed().await.is_err() {
            return;
        }
    }
}

/// Connects to `target` and keeps the link up until the target changes.
async fn run_target(
    weak: &Weak<Shared>,
    target: &Target,
    targets: &mut tokio::sync::watch::Receiver<Option<Target>>,
) {
    let mut backoff = BACKOFF_MIN;
    loop {
        let Some(shared) = weak.upgrade() else { return };
        let generation = shared.upstream.bump_generation();
        {
            let mut status = shared.upstream.status.lock();
            status.address = display_address(&target.url);
            if status.state != "down" {
                status.state = "connecting";
            }
        }
        let disconnected = Arc::new(Notify::new());
        match connect(&shared, target, generation, disconnected.clone()).await {
            Ok(link) => {
                backoff = BACKOFF_MIN;
                let link = Arc::new(link);
                bring_up(&shared, link.clone());
                drop(shared);
                let reason = watch_link(weak, &link, &disconnected, targets).await;
                let Some(shared) = weak.upgrade() else { return };
                take_down(&shared, &reason, true);
                if targets.has_changed().unwrap_or(true) {
                    return;
                }
            }
            Err(reason) => {
                let mut status = shared.upstream.status.lock();
                if status.last_error != reason {
                    tracing::warn!("upstream {}: {}", status.address, reason);
                }
                status.last_error = reason;
                status.state = "down";
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(backoff) => {}
            _ = targets.changed() => return,
        }
        backoff = (backoff * 2).min(BACKOFF_MAX);
    }
}

/// Publishes a new link, after dropping every copy the old one may have
/// left stale (invalidations sent while no link was up are lost).
fn bring_up(shared: &Shared, link: Arc<Link>) {
    super::fill::drop_all_copies(shared);
    let upstream = &shared.upstream;
    {
        let mut status = upstream.status.lock();
        status.state = "up";
        status.last_error.clear();
        status.tracking = link.tracking.name();
        status.connected_since_ms = crate::util::now_ms();
        tracing::info!(
            "upstream {} link up (tracking: {})",
            status.address,
            status.tracking
        );
        if link.tracking == Tracking::Off {
            tracing::warn!(
                "upstream {} cannot track keys: copies live at most {} ms",
                status.address,
                upstream.copy_ttl_cap(false)
            );
        }
    }
    *upstream.link.write() = Some(link);
}

/// Ends the current link: no fill of its generation installs after this.
fn take_down(shared: &Shared, reason: &str, count_reconnect: bool) {
    let upstream = &shared.upstream;
    let had_link = upstream.link.write().take().is_some();
    upstream.bump_generation();
    upstream.fills.void_all();
    if !upstream
        .settings
        .serve_stale
        .load(std::sync::atomic::Ordering::Relaxed)
    {
        super::fill::drop_all_copies(shared);
    }
    if had_link {
        let mut status = upstream.status.lock();
        tracing::warn!("upstream {} link down: {}", status.address, reason);
        status.state = "down";
        status.last_error = reason.to_string();
        if count_reconnect {
            upstream
                .stats
                .reconnects
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
    }
}

/// Waits until the link fails or the target changes; returns why.
async fn watch_link(
    weak: &Weak<Shared>,
    link: &Link,
    disconnected: &Notify,
    targets: &mut tokio::sync::watch::Receiver<Option<Target>>,
) -> String {
    let mut last_answer = Instant::now();
    loop {
        tokio::select! {
            _ = disconnected.notified() => return "connection closed".into(),
            _ = targets.changed() => return "upstream changed".into(),
            _ = tokio::time::sleep(HEALTH_INTERVAL) => {}
        }
        let Some(shared) = weak.upgrade() else {
            return "server stopped".into();
        };
        let timeout = shared.upstream.timeout();
        let down_after = Duration::from_millis(
            shared
                .config
                .read()
                .upstream_down_after_ms
                .max(timeout.as_millis() as u64),
        );
        drop(shared);
        for resp3 in [true, false] {
            let mut connection = link.connection(resp3);
            let ping = redis::cmd("PING");
            match tokio::time::timeout(timeout, connection.send_packed_command(&ping)).await {
                Ok(Ok(_)) => last_answer = Instant::now(),
                Ok(Err(error)) => return error.to_string(),
                Err(_) if last_answer.elapsed() > down_after => {
                    return format!("no answer for {} ms", last_answer.elapsed().as_millis())
                }
                Err(_) => {}
            }
        }
    }
}

/// `host:port` of a URL, without credentials.
pub fn display_address(url: &str) -> String {
    match url.into_connection_info() {
        Ok(info) => info.addr().to_string(),
        Err(_) => url.to_string(),
    }
}

fn with_protocol(info: &redis::ConnectionInfo, protocol: ProtocolVersion) -> redis::ConnectionInfo {
    let settings = info.redis_settings().clone().set_protocol(protocol);
    info.clone().set_redis_settings(settings)
}

/// Opens both connections and switches tracking on.
async fn connect(
    shared: &Arc<Shared>,
    target: &Target,
    generation: u64,
    disconnected: Arc<Notify>,
) -> Result<Link, String> {
    // rustls needs a process-wide crypto provider for rediss:// links.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let info = target
        .url
        .as_str()
        .into_connection_info()
        .map_err(|e| format!("bad upstream URL: {}", e))?;
    let address = info.addr().to_string();
    let resp3_client = redis::Client::open(with_protocol(&info, ProtocolVersion::RESP3))
        .map_err(|e| e.to_string())?;
    let resp2_client = redis::Client::open(with_protocol(&info, ProtocolVersion::RESP2))
        .map_err(|e| e.to_string())?;
    let base = AsyncConnectionConfig::new()
        .set_connection_timeout(Some(target.connect_timeout))
        .set_response_timeout(None);
    let weak = Arc::downgrade(shared);
    let on_push = move |push: PushInfo| -> Result<(), std::convert::Infallible> {
        match push.kind {
            PushKind::Invalidate => {
                if let Some(shared) = weak.upgrade() {
                    super::fill::invalidated(&shared, generation, push.data);
                }
            }
            PushKind::Disconnection => disconnected.notify_one(),
            _ => {}
        }
        Ok(())
    };
    let limit = target.connect_timeout * 2;
    let tracked = tokio::time::timeout(
        limit,
        resp3_client
            .get_multiplexed_async_connection_with_config(&base.clone().set_push_sender(on_push)),
    )
    .await;
    let (mut resp3, mut tracking) = match tracked {
        Ok(Ok(connection)) => (connection, desired_tracking(target)),
        Ok(Err(error)) if is_connection_failure(&error) => return Err(error.to_string()),
        // The upstream answered but not in RESP3 (no HELLO 3): no tracking.
        Ok(Err(_)) => (open(&resp2_client, &base, limit).await?, Tracking::Off),
        Err(_) => return Err(format!("connect timed out after {} ms", limit.as_millis())),
    };
    if tracking != Tracking::Off {
        let mut command = redis::cmd("CLIENT");
        command.arg("TRACKING").arg("ON");
        if let Tracking::Broadcast(prefixes) = &tracking {
            command.arg("BCAST");
            for prefix in prefixes {
                command.arg("PREFIX").arg(prefix.as_slice());
            }
        }
        match tokio::time::timeout(limit, resp3.send_packed_command(&command)).await {
            Ok(Ok(redis::Value::Okay)) => {}
            Ok(Ok(redis::Value::ServerError(error))) => {
                tracing::warn!("upstream {}: CLIENT TRACKING refused: {:?}", address, error);
                tracking = Tracking::Off;
            }
            Ok(Ok(_)) => tracking = Tracking::Off,
            Ok(Err(error)) if is_connection_failure(&error) => return Err(error.to_string()),
            Ok(Err(error)) => {
                tracing::warn!("upstream {}: CLIENT TRACKING refused: {}", address, error);
                tracking = Tracking::Off;
            }
            Err(_) => return Err("CLIENT TRACKING timed out".into()),
        }
    }
    let resp2 = open(&resp2_client, &base, limit).await?;
    Ok(Link {
        generation,
        address,
        tracking,
        resp3,
        resp2,
        resp3_client,
        resp2_client,
        connect_timeout: target.connect_timeout,
    })
}

async fn open(
    client: &redis::Client,
    config: &AsyncConnectionConfig,
    limit: Duration,
) -> Result<MultiplexedConnection, String> {
    match tokio::time::timeout(
        limit,
        client.get_multiplexed_async_connection_with_config(config),
    )
    .await
    {
        Ok(Ok(connection)) => Ok(connection),
        Ok(Err(error)) => Err(error.to_string()),
        Err(_) => Err(format!("connect timed out after {} ms", limit.as_millis())),
    }
}

fn desired_tracking(target: &Target) -> Tracking {
    if target.prefixes.is_empty() {
        Tracking::Default
    } else {
        Tracking::Broadcast(
            target
                .prefixes
                .iter()
                .map(|p| p.as_bytes().to_vec())
                .collect(),
        )
    }
}

fn is_connection_failure(error: &redis::RedisError) -> bool {
    error.is_io_error()
        || error.is_connection_dropped()
        || error.is_connection_refusal()
        || error.is_timeout()
}
