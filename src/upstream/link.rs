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
use redis::aio::{ConnectionLike, MultiplexedConnection};
use redis::cluster::ClusterClient;
use redis::cluster_async::ClusterConnection;
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

/// A connection that commands are forwarded on: to one node, or to a
/// cluster (the `redis` crate routes by slot and follows MOVED/ASK).
#[derive(Clone)]
pub enum Forwarder {
    Node(MultiplexedConnection),
    Cluster(ClusterConnection),
}

impl Forwarder {
    pub async fn send(&mut self, command: &redis::Cmd) -> redis::RedisResult<redis::Value> {
        match self {
            Forwarder::Node(c) => c.req_packed_command(command).await,
            Forwarder::Cluster(c) => c.req_packed_command(command).await,
        }
    }

    pub async fn send_many(
        &mut self,
        pipe: &redis::Pipeline,
        offset: usize,
        count: usize,
    ) -> redis::RedisResult<Vec<redis::Value>> {
        match self {
            Forwarder::Node(c) => c.req_packed_commands(pipe, offset, count).await,
            Forwarder::Cluster(c) => c.req_packed_commands(pipe, offset, count).await,
        }
    }
}

/// The connections of one node upstream.
struct NodeLink {
    /// The tracking connection: fills and refreshed writes only.
    tracking: MultiplexedConnection,
    /// Forwarded commands, in each protocol. Plain writes never go on the
    /// tracking connection: its NOLOOP would hide a write whose answer
    /// timed out from a fill that raced it.
    resp3: MultiplexedConnection,
    resp2: MultiplexedConnection,
    resp3_client: redis::Client,
    resp2_client: redis::Client,
}

/// The connections to a cluster: one client per protocol for forwarding,
/// and a tracking connection to each master, which fills of its slots use.
struct ClusterLink {
    resp3: ClusterConnection,
    resp2: ClusterConnection,
    resp3_client: ClusterClient,
    resp2_client: ClusterClient,
    masters: Vec<Master>,
    /// For each of the 16384 slots, its master's index in `masters`.
    slot_owner: Vec<u16>,
}

struct Master {
    address: String,
    tracking: MultiplexedConnection,
}

enum Connections {
    Node(Box<NodeLink>),
    Cluster(Box<ClusterLink>),
}

/// One live link (all its connections), valid for one generation.
pub struct Link {
    pub generation: u64,
    pub address: String,
    pub tracking: Tracking,
    connections: Connections,
    connect_timeout: Duration,
    /// Wakes the supervisor to reconnect (the link's connection closed, or
    /// a fill met a moved slot).
    reconnect: Arc<Notify>,
}

impl Link {
    pub fn is_cluster(&self) -> bool {
        matches!(self.connections, Connections::Cluster(_))
    }

    /// Asks the supervisor to drop this link and connect again.
    pub fn request_reconnect(&self) {
        self.reconnect.notify_one();
    }

    /// The connection that answers in the client's protocol's shapes.
    pub fn connection(&self, resp3: bool) -> Forwarder {
        match &self.connections {
            Connections::Node(node) if resp3 => Forwarder::Node(node.resp3.clone()),
            Connections::Node(node) => Forwarder::Node(node.resp2.clone()),
            Connections::Cluster(cluster) if resp3 => Forwarder::Cluster(cluster.resp3.clone()),
            Connections::Cluster(cluster) => Forwarder::Cluster(cluster.resp2.clone()),
        }
    }

    /// The tracking connection that fills of `key` use, and the group of
    /// keys one fill transaction may hold (a cluster slot).
    pub fn tracking_connection(&self, key: &[u8]) -> (MultiplexedConnection, u16) {
        match &self.connections {
            Connections::Node(node) => (node.tracking.clone(), 0),
            Connections::Cluster(cluster) => {
                let slot = super::slot::slot_of(key);
                let owner = cluster.slot_owner[slot as usize] as usize;
                (cluster.masters[owner].tracking.clone(), slot)
            }
        }
    }

    /// Every tracking connection, for health checks.
    fn tracking_connections(&self) -> Vec<(String, MultiplexedConnection)> {
        match &self.connections {
            Connections::Node(node) => vec![
                (self.address.clone(), node.resp3.clone()),
                (self.address.clone(), node.resp2.clone()),
                (self.address.clone(), node.tracking.clone()),
            ],
            Connections::Cluster(cluster) => cluster
                .masters
                .iter()
                .map(|m| (m.address.clone(), m.tracking.clone()))
                .collect(),
        }
    }

    /// A connection of its own, for a blocking command (it may wait forever).
    pub async fn dedicated(&self, resp3: bool) -> Result<Forwarder, UpstreamError> {
        let failed = |error: redis::RedisError| UpstreamError::Failed {
            address: self.address.clone(),
            reason: error.to_string(),
        };
        match &self.connections {
            Connections::Node(node) => {
                let config = AsyncConnectionConfig::new()
                    .set_connection_timeout(Some(self.connect_timeout))
                    .set_response_timeout(None);
                let client = if resp3 {
                    &node.resp3_client
                } else {
                    &node.resp2_client
                };
                client
                    .get_multiplexed_async_connection_with_config(&config)
                    .await
                    .map(Forwarder::Node)
                    .map_err(failed)
            }
            Connections::Cluster(cluster) => {
                let client = if resp3 {
                    &cluster.resp3_client
                } else {
                    &cluster.resp2_client
                };
                client
                    .get_async_connection()
                    .await
                    .map(Forwarder::Cluster)
                    .map_err(failed)
            }
        }
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
    let mut had_target = false;
    loop {
        let target = targets.borrow_and_update().clone();
        let configured = target.is_some();
        match target {
            None => {
                if let Some(shared) = weak.upgrade() {
                    // Without an upstream before either, the keyspace is the
                    // server's own data, not copies: nothing to drop.
                    if had_target {
                        take_down(&shared, "no upstream configured", false);
                        // Copies must not outlive their upstream as local
                        // data (`upstream-serve-stale yes` kept them).
                        if shared.upstream.link.read().is_none() {
                            super::fill::drop_all_copies(&shared);
                        }
                    }
                    shared.upstream.status.lock().state = "none";
                }
            }
            Some(target) => run_target(&weak, &target, &mut targets).await,
        }
        had_target = configured;
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
        let mut probe = targets.clone();
        tokio::select! {
            _ = tokio::time::sleep(backoff) => {}
            _ = probe.changed() => return,
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
    // A clone, so the change stays unseen for the caller, which then moves
    // on to the new target.
    let mut probe = targets.clone();
    loop {
        tokio::select! {
            _ = disconnected.notified() => return "connection closed".into(),
            _ = probe.changed() => return "upstream changed".into(),
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
        for (address, mut connection) in link.tracking_connections() {
            let ping = redis::cmd("PING");
            match tokio::time::timeout(timeout, connection.send_packed_command(&ping)).await {
                Ok(Ok(_)) => last_answer = Instant::now(),
                Ok(Err(error)) => return format!("{}: {}", address, error),
                Err(_) if last_answer.elapsed() > down_after => {
                    return format!("no answer for {} ms", last_answer.elapsed().as_millis())
                }
                Err(_) => {}
            }
        }
    }
}

/// The node URLs of an upstream URL: one for `redis://` and `rediss://`,
/// each listed node for `redis-cluster://[user:pass@]host:port[,host:port...]`
/// (given as `redis://` URLs with the same credentials).
pub fn node_urls(url: &str) -> Option<Vec<String>> {
    let Some(rest) = url.strip_prefix("redis-cluster://") else {
        return Some(vec![url.to_string()]);
    };
    let (credentials, nodes) = match rest.rsplit_once('@') {
        Some((credentials, nodes)) => (format!("{}@", credentials), nodes),
        None => (String::new(), rest),
    };
    let nodes: Vec<String> = nodes
        .trim_end_matches('/')
        .split(',')
        .filter(|n| !n.is_empty())
        .map(|n| format!("redis://{}{}", credentials, n))
        .collect();
    (!nodes.is_empty()).then_some(nodes)
}

/// `host:port` of a URL (each node of a cluster URL), without credentials.
pub fn display_address(url: &str) -> String {
    let Some(nodes) = node_urls(url) else {
        return url.to_string();
    };
    nodes
        .iter()
        .map(|node| match node.as_str().into_connection_info() {
            Ok(info) => info.addr().to_string(),
            Err(_) => node.clone(),
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// TCP settings of every upstream connection: no Nagle delay. The links
/// are multiplexed, so a request is often sent while another is still
/// unacknowledged, and Nagle would hold it until that ACK (a round trip).
fn tcp_settings() -> redis::io::tcp::TcpSettings {
    redis::io::tcp::TcpSettings::default().set_nodelay(true)
}

fn with_protocol(info: &redis::ConnectionInfo, protocol: ProtocolVersion) -> redis::ConnectionInfo {
    let settings = info.redis_settings().clone().set_protocol(protocol);
    info.clone()
        .set_redis_settings(settings)
        .set_tcp_settings(tcp_settings())
}

/// The callback that receives a tracking connection's pushes.
fn push_handler(
    shared: &Arc<Shared>,
    generation: u64,
    disconnected: Arc<Notify>,
) -> impl Fn(PushInfo) -> Result<(), std::convert::Infallible> + Send + Sync + 'static {
    let weak = Arc::downgrade(shared);
    move |push: PushInfo| {
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
    }
}

/// Opens a tracking connection to one node: RESP3 with the push callback,
/// then CLIENT TRACKING. An upstream that cannot do either gives a plain
/// RESP2 connection and `Tracking::Off`.
async fn open_tracking(
    shared: &Arc<Shared>,
    info: &redis::ConnectionInfo,
    target: &Target,
    generation: u64,
    disconnected: Arc<Notify>,
) -> Result<(MultiplexedConnection, Tracking), String> {
    let address = info.addr().to_string();
    let client = redis::Client::open(with_protocol(info, ProtocolVersion::RESP3))
        .map_err(|e| e.to_string())?;
    let base = AsyncConnectionConfig::new()
        .set_connection_timeout(Some(target.connect_timeout))
        .set_response_timeout(None);
    let limit = target.connect_timeout * 2;
    let pushes = base
        .clone()
        .set_push_sender(push_handler(shared, generation, disconnected));
    let opened = tokio::time::timeout(
        limit,
        client.get_multiplexed_async_connection_with_config(&pushes),
    )
    .await;
    let mut connection = match opened {
        Ok(Ok(connection)) => connection,
        Ok(Err(error)) if is_connection_failure(&error) => {
            return Err(format!("{}: {}", address, error))
        }
        // The upstream answered but not in RESP3 (no HELLO 3): no tracking.
        Ok(Err(_)) => {
            let client = redis::Client::open(with_protocol(info, ProtocolVersion::RESP2))
                .map_err(|e| e.to_string())?;
            return Ok((open(&client, &base, limit).await?, Tracking::Off));
        }
        Err(_) => {
            return Err(format!(
                "{}: connect timed out after {} ms",
                address,
                limit.as_millis()
            ))
        }
    };
    let tracking = desired_tracking(target);
    let mut command = redis::cmd("CLIENT");
    // NOLOOP: cachet drops or refreshes its copies of keys it writes
    // itself (`route::forward`), so it needs no invalidation of those.
    command.arg("TRACKING").arg("ON").arg("NOLOOP");
    if let Tracking::Broadcast(prefixes) = &tracking {
        command.arg("BCAST");
        for prefix in prefixes {
            command.arg("PREFIX").arg(prefix.as_slice());
        }
    }
    let answer = tokio::time::timeout(limit, connection.send_packed_command(&command)).await;
    let refusal = match answer {
        Ok(Ok(redis::Value::Okay)) => return Ok((connection, tracking)),
        Ok(Ok(other)) => format!("{:?}", other),
        Ok(Err(error)) if is_connection_failure(&error) => {
            return Err(format!("{}: {}", address, error))
        }
        Ok(Err(error)) => error.to_string(),
        Err(_) => return Err(format!("{}: CLIENT TRACKING timed out", address)),
    };
    tracing::warn!("upstream {}: CLIENT TRACKING refused: {}", address, refusal);
    Ok((connection, Tracking::Off))
}

/// Opens every connection of the link and switches tracking on.
async fn connect(
    shared: &Arc<Shared>,
    target: &Target,
    generation: u64,
    disconnected: Arc<Notify>,
) -> Result<Link, String> {
    // rustls needs a process-wide crypto provider for rediss:// links.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let nodes = node_urls(&target.url).ok_or("an upstream URL with no node")?;
    let infos = nodes
        .iter()
        .map(|n| n.as_str().into_connection_info())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("bad upstream URL: {}", e))?;
    if target.url.starts_with("redis-cluster://") {
        return connect_cluster(shared, target, &infos, generation, disconnected).await;
    }
    let info = &infos[0];
    let address = info.addr().to_string();
    let (resp3, tracking) =
        open_tracking(shared, info, target, generation, disconnected.clone()).await?;
    let resp3_client = redis::Client::open(with_protocol(info, ProtocolVersion::RESP3))
        .map_err(|e| e.to_string())?;
    let resp2_client = redis::Client::open(with_protocol(info, ProtocolVersion::RESP2))
        .map_err(|e| e.to_string())?;
    let base = AsyncConnectionConfig::new()
        .set_connection_timeout(Some(target.connect_timeout))
        .set_response_timeout(None);
    let resp2 = open(&resp2_client, &base, target.connect_timeout * 2).await?;
    let data3 = if tracking == Tracking::Off {
        // No RESP3 here (or no tracking to keep apart): share the one.
        resp3.clone()
    } else {
        open(&resp3_client, &base, target.connect_timeout * 2).await?
    };
    Ok(Link {
        generation,
        address,
        tracking,
        connections: Connections::Node(Box::new(NodeLink {
            tracking: resp3,
            resp3: data3,
            resp2,
            resp3_client,
            resp2_client,
        })),
        connect_timeout: target.connect_timeout,
        reconnect: disconnected,
    })
}

/// Connects to a cluster: reads the slot map from the first node that
/// answers, opens a tracking connection to each master, and a cluster
/// client per protocol for forwarding.
async fn connect_cluster(
    shared: &Arc<Shared>,
    target: &Target,
    seeds: &[redis::ConnectionInfo],
    generation: u64,
    disconnected: Arc<Notify>,
) -> Result<Link, String> {
    let limit = target.connect_timeout * 2;
    let base = AsyncConnectionConfig::new()
        .set_connection_timeout(Some(target.connect_timeout))
        .set_response_timeout(None);
    let mut last_error = String::from("no seed node");
    let mut layout = None;
    for seed in seeds {
        let client = redis::Client::open(with_protocol(seed, ProtocolVersion::RESP2))
            .map_err(|e| e.to_string())?;
        let mut connection = match open(&client, &base, limit).await {
            Ok(connection) => connection,
            Err(error) => {
                last_error = format!("{}: {}", seed.addr(), error);
                continue;
            }
        };
        let slots = redis::cmd("CLUSTER").arg("SLOTS").to_owned();
        match tokio::time::timeout(limit, connection.send_packed_command(&slots)).await {
            Ok(Ok(reply)) => {
                match super::slot::Layout::from_cluster_slots(&reply, &seed_host(seed)) {
                    Some(found) => {
                        layout = Some(found);
                        break;
                    }
                    None => {
                        last_error = format!("{}: CLUSTER SLOTS gave no full slot map", seed.addr())
                    }
                }
            }
            Ok(Err(error)) => last_error = format!("{}: {}", seed.addr(), error),
            Err(_) => last_error = format!("{}: CLUSTER SLOTS timed out", seed.addr()),
        }
    }
    let layout = layout.ok_or(last_error)?;
    let seed = &seeds[0];
    let mut masters = Vec::with_capacity(layout.masters.len());
    let mut tracking = desired_tracking(target);
    for (host, port) in &layout.masters {
        let info = with_address(seed, host, *port)?;
        let (connection, mode) =
            open_tracking(shared, &info, target, generation, disconnected.clone()).await?;
        if mode == Tracking::Off {
            tracking = Tracking::Off;
        }
        masters.push(Master {
            address: format!("{}:{}", host, port),
            tracking: connection,
        });
    }
    let cluster_client = |protocol: ProtocolVersion| {
        redis::cluster::ClusterClientBuilder::new(seeds.to_vec())
            .use_protocol(protocol)
            .tcp_settings(tcp_settings())
            .connection_timeout(target.connect_timeout)
            .response_timeout(Duration::from_secs(3600))
            .retries(2)
            .build()
            .map_err(|e| e.to_string())
    };
    let resp3_client = cluster_client(ProtocolVersion::RESP3)?;
    let resp2_client = cluster_client(ProtocolVersion::RESP2)?;
    let connect = |client: &ClusterClient| {
        let client = client.clone();
        async move {
            match tokio::time::timeout(limit, client.get_async_connection()).await {
                Ok(Ok(connection)) => Ok(connection),
                Ok(Err(error)) => Err(error.to_string()),
                Err(_) => Err("cluster connect timed out".to_string()),
            }
        }
    };
    let resp3 = connect(&resp3_client).await?;
    let resp2 = connect(&resp2_client).await?;
    Ok(Link {
        generation,
        address: display_address(&target.url),
        tracking,
        connections: Connections::Cluster(Box::new(ClusterLink {
            resp3,
            resp2,
            resp3_client,
            resp2_client,
            masters,
            slot_owner: layout.slot_owner,
        })),
        connect_timeout: target.connect_timeout,
        reconnect: disconnected,
    })
}

fn seed_host(seed: &redis::ConnectionInfo) -> String {
    match seed.addr() {
        redis::ConnectionAddr::Tcp(host, _) | redis::ConnectionAddr::TcpTls { host, .. } => {
            host.clone()
        }
        _ => "127.0.0.1".into(),
    }
}

/// `seed`'s settings (credentials, TLS) for another node.
fn with_address(
    seed: &redis::ConnectionInfo,
    host: &str,
    port: u16,
) -> Result<redis::ConnectionInfo, String> {
    let scheme = match seed.addr() {
        redis::ConnectionAddr::TcpTls { .. } => "rediss",
        _ => "redis",
    };
    let info = format!("{}://{}:{}", scheme, host, port)
        .as_str()
        .into_connection_info()
        .map_err(|e| e.to_string())?;
    Ok(info.set_redis_settings(seed.redis_settings().clone()))
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
