//! The pub/sub hub: which clients listen on which channels, patterns and
//! shard channels, and the delivery of one published message to all of them.
//!
//! A message is encoded once per protocol (RESP2 array, RESP3 push) and the
//! same bytes are queued in every receiver's outbox, so publishing to many
//! subscribers costs one encoding and one queue push each. The hub never
//! waits on a subscriber: a slow one fills its own outbox until its output
//! limit closes it. Each client keeps its own list of subscriptions
//! (`Subscriptions`, in its `Client`); the hub keeps the reverse index.
//!
//! This module owns the index and the message encoding; replies to the
//! SUBSCRIBE family are written by `commands::pubsub`.

use crate::glob::glob_match;
use crate::protocol::{Protocol, ReplyWriter};
use crate::server::client::ClientInfo;
use crate::server::outbox::OutputLimits;
use bytes::Bytes;
use parking_lot::RwLock;
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// The two kinds of named channel (patterns are separate).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChannelKind {
    /// SUBSCRIBE / PUBLISH.
    Global,
    /// SSUBSCRIBE / SPUBLISH (one shard: cachet is not a cluster).
    Shard,
}

impl ChannelKind {
    /// The first element of a delivered message.
    fn message_word(self) -> &'static [u8] {
        match self {
            ChannelKind::Global => b"message",
            ChannelKind::Shard => b"smessage",
        }
    }
}

type Subscribers = HashMap<Box<[u8]>, Vec<Arc<ClientInfo>>>;

/// Every subscription on the server, by channel and by pattern.
#[derive(Default)]
pub struct Hub {
    channels: RwLock<Subscribers>,
    shard_channels: RwLock<Subscribers>,
    patterns: RwLock<Subscribers>,
    /// Subscriptions of every kind, so publishers (keyspace notifications
    /// above all) skip all work while nobody listens.
    total: AtomicUsize,
}

impl Hub {
    fn table(&self, kind: ChannelKind) -> &RwLock<Subscribers> {
        match kind {
            ChannelKind::Global => &self.channels,
            ChannelKind::Shard => &self.shard_channels,
        }
    }

    /// Whether nobody is subscribed to anything.
    pub fn is_idle(&self) -> bool {
        self.total.load(Ordering::Relaxed) == 0
    }

    /// Adds `client` to a channel's subscribers (the caller checked it was not there).
    pub fn subscribe(&self, kind: ChannelKind, channel: &[u8], client: &Arc<ClientInfo>) {
        add(&mut self.table(kind).write(), channel, client);
        self.total.fetch_add(1, Ordering::Relaxed);
    }

    pub fn unsubscribe(&self, kind: ChannelKind, channel: &[u8], client_id: u64) {
        if remove(&mut self.table(kind).write(), channel, client_id) {
            self.total.fetch_sub(1, Ordering::Relaxed);
        }
    }

    pub fn psubscribe(&self, pattern: &[u8], client: &Arc<ClientInfo>) {
        add(&mut self.patterns.write(), pattern, client);
        self.total.fetch_add(1, Ordering::Relaxed);
    }

    pub fn punsubscribe(&self, pattern: &[u8], client_id: u64) {
        if remove(&mut self.patterns.write(), pattern, client_id) {
            self.total.fetch_sub(1, Ordering::Relaxed);
        }
    }

    /// Delivers `message` to the subscribers of `channel` (and, for global
    /// channels, of every matching pattern); returns how many deliveries
    /// were made, as PUBLISH answers.
    pub fn publish(
        &self,
        kind: ChannelKind,
        channel: &[u8],
        message: &[u8],
        limits: &OutputLimits,
    ) -> usize {
        if self.is_idle() {
            return 0;
        }
        let mut receivers = 0;
        if let Some(subscribers) = self.table(kind).read().get(channel) {
            let frames = Frames::new(&[kind.message_word(), channel, message]);
            for subscriber in subscribers {
                subscriber.send(frames.for_client(subscriber), limits);
            }
            receivers += subscribers.len();
        }
        if kind == ChannelKind::Global {
            for (pattern, subscribers) in self.patterns.read().iter() {
                if !glob_match(pattern, channel, false) {
                    continue;
                }
                let frames = Frames::new(&[b"pmessage", pattern, channel, message]);
                for subscriber in subscribers {
                    subscriber.send(frames.for_client(subscriber), limits);
                }
                receivers += subscribers.len();
            }
        }
        receivers
    }

    /// Channels with at least one subscriber, optionally matching a pattern
    /// (PUBSUB CHANNELS / SHARDCHANNELS).
    pub fn active_channels(&self, kind: ChannelKind, pattern: Option<&[u8]>) -> Vec<Box<[u8]>> {
        self.table(kind)
            .read()
            .keys()
            .filter(|channel| pattern.is_none_or(|p| glob_match(p, channel, false)))
            .cloned()
            .collect()
    }

    /// Subscribers of one channel (PUBSUB NUMSUB / SHARDNUMSUB).
    pub fn subscriber_count(&self, kind: ChannelKind, channel: &[u8]) -> usize {
        self.table(kind).read().get(channel).map_or(0, Vec::len)
    }

    /// Distinct patterns with a subscriber (PUBSUB NUMPAT).
    pub fn pattern_count(&self) -> usize {
        self.patterns.read().len()
    }

    /// Channels and patterns with a subscriber (INFO's pubsub_channels,
    /// pubsub_patterns, pubsubshard_channels).
    pub fn counts(&self) -> (usize, usize, usize) {
        (
            self.channels.read().len(),
            self.patterns.read().len(),
            self.shard_channels.read().len(),
        )
    }
}

fn add(table: &mut Subscribers, name: &[u8], client: &Arc<ClientInfo>) {
    table
        .entry(Box::from(name))
        .or_default()
        .push(client.clone());
}

/// Removes one subscriber; a channel left without any is forgotten, so
/// subscribing to millions of names and leaving them costs nothing after.
fn remove(table: &mut Subscribers, name: &[u8], client_id: u64) -> bool {
    let Some(subscribers) = table.get_mut(name) else {
        return false;
    };
    let before = subscribers.len();
    subscribers.retain(|s| s.id != client_id);
    let removed = subscribers.len() < before;
    if subscribers.is_empty() {
        table.remove(name);
    }
    removed
}

/// One message, encoded for RESP2 (an array) and RESP3 (a push).
pub struct Frames {
    resp2: Bytes,
    resp3: Bytes,
}

impl Frames {
    /// A message of bulk strings.
    pub fn new(parts: &[&[u8]]) -> Frames {
        let mut resp2 = Vec::with_capacity(16 + parts.iter().map(|p| p.len() + 16).sum::<usize>());
        let mut writer = ReplyWriter::new(&mut resp2, Protocol::Resp2);
        writer.push_len(parts.len());
        for part in parts {
            writer.bulk(part);
        }
        Frames::from_resp2(resp2)
    }

    /// A RESP2 array whose RESP3 form differs only in its first byte.
    pub fn from_resp2(resp2: Vec<u8>) -> Frames {
        let mut resp3 = resp2.clone();
        if let Some(first) = resp3.first_mut() {
            *first = b'>';
        }
        Frames {
            resp2: Bytes::from(resp2),
            resp3: Bytes::from(resp3),
        }
    }

    pub fn for_protocol(&self, protocol: Protocol) -> Bytes {
        match protocol {
            Protocol::Resp2 => self.resp2.clone(),
            Protocol::Resp3 => self.resp3.clone(),
        }
    }

    fn for_client(&self, client: &ClientInfo) -> Bytes {
        self.for_protocol(client.protocol())
    }
}

/// One client's subscriptions, as it keeps them: channels and shard
/// channels as sets (Redis keeps dictionaries), patterns in the order they
/// were subscribed (Redis keeps a list).
#[derive(Default)]
pub struct Subscriptions {
    pub channels: HashSet<Box<[u8]>>,
    pub shard_channels: HashSet<Box<[u8]>>,
    pub patterns: Vec<Box<[u8]>>,
}

impl Subscriptions {
    pub fn of_kind(&mut self, kind: ChannelKind) -> &mut HashSet<Box<[u8]>> {
        match kind {
            ChannelKind::Global => &mut self.channels,
            ChannelKind::Shard => &mut self.shard_channels,
        }
    }

    /// Channels plus patterns: the count SUBSCRIBE and PSUBSCRIBE report.
    pub fn count(&self) -> usize {
        self.channels.len() + self.patterns.len()
    }

    /// The count SSUBSCRIBE reports.
    pub fn shard_count(&self) -> usize {
        self.shard_channels.len()
    }

    /// Whether the client is in pub/sub mode (RESP2 restricts its commands).
    pub fn active(&self) -> bool {
        self.count() + self.shard_count() > 0
    }

    pub fn count_of(&self, kind: ChannelKind) -> usize {
        match kind {
            ChannelKind::Global => self.count(),
            ChannelKind::Shard => self.shard_count(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_differ_only_in_the_type_byte() {
        let frames = Frames::new(&[b"message", b"ch", b"hi"]);
        assert_eq!(
            &frames.for_protocol(Protocol::Resp2)[..],
            b"*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n"
        );
        assert_eq!(
            &frames.for_protocol(Protocol::Resp3)[..],
            b">3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n"
        );
    }

    #[test]
    fn removing_the_last_subscriber_forgets_the_channel() {
        let mut table = Subscribers::new();
        let addr = "127.0.0.1:1".parse().unwrap_or_else(|_| unreachable!());
        let client = Arc::new(ClientInfo::new(7, addr, addr));
        add(&mut table, b"ch", &client);
        assert!(!remove(&mut table, b"ch", 8));
        assert!(remove(&mut table, b"ch", 7));
        assert!(table.is_empty());
        assert!(!remove(&mut table, b"ch", 7));
    }
}
