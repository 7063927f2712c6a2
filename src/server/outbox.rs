//! A client's outbox: what other connections send it that does not answer
//! one of its own commands (pub/sub messages, keyspace notifications,
//! invalidations). Senders append encoded frames without waiting; the
//! client's own connection task writes them out as soon as it can, and
//! before the replies of any command it reads afterwards.
//!
//! The outbox is where `client-output-buffer-limit` applies: a subscriber
//! that does not read lets its frames pile up here (once the socket's own
//! buffer is full), and passing the hard limit, or staying over the soft
//! limit for longer than its seconds, closes the connection, as Redis does.
//! Frames beyond that are dropped, so memory stays bounded however fast a
//! publisher sends. This module knows bytes and limits, not commands.

use bytes::Bytes;
use parking_lot::Mutex;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// One class's `client-output-buffer-limit`: hard bytes, soft bytes, soft
/// seconds (0 bytes: no limit).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OutputLimit {
    pub hard_bytes: u64,
    pub soft_bytes: u64,
    pub soft_seconds: u64,
}

impl OutputLimit {
    /// From `client-output-buffer-limit`'s hard, soft, seconds triple.
    pub fn from_triple(triple: [u64; 3]) -> Self {
        OutputLimit {
            hard_bytes: triple[0],
            soft_bytes: triple[1],
            soft_seconds: triple[2],
        }
    }
}

/// Which of `client-output-buffer-limit`'s classes a client is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LimitClass {
    Normal,
    /// Subscribed to a channel, pattern or shard channel.
    Pubsub,
}

/// The limits of both classes, readable without a lock by every sender.
#[derive(Default)]
pub struct OutputLimits {
    normal: [AtomicU64; 3],
    pubsub: [AtomicU64; 3],
}

impl OutputLimits {
    fn slots(&self, class: LimitClass) -> &[AtomicU64; 3] {
        match class {
            LimitClass::Normal => &self.normal,
            LimitClass::Pubsub => &self.pubsub,
        }
    }

    pub fn set(&self, class: LimitClass, triple: [u64; 3]) {
        for (slot, value) in self.slots(class).iter().zip(triple) {
            slot.store(value, Ordering::Relaxed);
        }
    }

    pub fn get(&self, class: LimitClass) -> OutputLimit {
        let slots = self.slots(class);
        OutputLimit::from_triple([
            slots[0].load(Ordering::Relaxed),
            slots[1].load(Ordering::Relaxed),
            slots[2].load(Ordering::Relaxed),
        ])
    }
}

#[derive(Default)]
struct Queue {
    frames: VecDeque<Bytes>,
    /// Since when the queue has been over the soft limit.
    over_soft_since: Option<Instant>,
}

/// Frames waiting for one client's socket.
#[derive(Default)]
pub struct Outbox {
    queue: Mutex<Queue>,
    /// Bytes queued, readable without the lock (CLIENT LIST's `omem`, the
    /// connection's "anything to send?" check).
    bytes: AtomicUsize,
    /// Past a limit: the connection is closing and takes nothing more.
    overflowed: AtomicBool,
}

/// What happened to a frame handed to `Outbox::push`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pushed {
    Queued,
    /// The client passed its output limit: the frame was dropped and the
    /// client must be closed.
    OverLimit,
    /// The client was already over its limit.
    Dropped,
}

impl Outbox {
    /// Appends a frame, checking `limit` (the client's class).
    pub fn push(&self, frame: Bytes, limit: OutputLimit) -> Pushed {
        if self.overflowed.load(Ordering::Acquire) {
            return Pushed::Dropped;
        }
        let mut queue = self.queue.lock();
        let total = self.bytes.load(Ordering::Relaxed) + frame.len();
        if over_limit(&mut queue, total as u64, limit) {
            self.overflowed.store(true, Ordering::Release);
            queue.frames.clear();
            self.bytes.store(0, Ordering::Relaxed);
            drop(queue);
            return Pushed::OverLimit;
        }
        self.bytes.store(total, Ordering::Relaxed);
        queue.frames.push_back(frame);
        drop(queue);
        Pushed::Queued
    }

    /// Bytes waiting to be written.
    pub fn len(&self) -> usize {
        self.bytes.load(Ordering::Relaxed)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Frames queued (CLIENT LIST's `oll`).
    pub fn frame_count(&self) -> usize {
        self.queue.lock().frames.len()
    }

    /// Whether the client passed its output limit (it is being closed).
    pub fn overflowed(&self) -> bool {
        self.overflowed.load(Ordering::Acquire)
    }

    /// Moves every queued frame to the end of `out`.
    pub fn drain_into(&self, out: &mut Vec<u8>) {
        if self.is_empty() {
            return;
        }
        let mut queue = self.queue.lock();
        for frame in queue.frames.drain(..) {
            out.extend_from_slice(&frame);
        }
        queue.over_soft_since = None;
        self.bytes.store(0, Ordering::Relaxed);
    }
}

/// Redis's rule: at or over the hard limit, or over the soft limit for
/// longer than its seconds.
fn over_limit(queue: &mut Queue, used: u64, limit: OutputLimit) -> bool {
    if limit.hard_bytes != 0 && used >= limit.hard_bytes {
        return true;
    }
    if limit.soft_bytes != 0 && used >= limit.soft_bytes {
        let since = *queue.over_soft_since.get_or_insert_with(Instant::now);
        return since.elapsed() > Duration::from_secs(limit.soft_seconds);
    }
    queue.over_soft_since = None;
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_queue_in_order_and_drain_whole() {
        let outbox = Outbox::default();
        let unlimited = OutputLimit::default();
        assert_eq!(
            outbox.push(Bytes::from_static(b"ab"), unlimited),
            Pushed::Queued
        );
        assert_eq!(
            outbox.push(Bytes::from_static(b"cd"), unlimited),
            Pushed::Queued
        );
        assert_eq!(outbox.len(), 4);
        let mut out = b"x".to_vec();
        outbox.drain_into(&mut out);
        assert_eq!(out, b"xabcd");
        assert!(outbox.is_empty());
    }

    #[test]
    fn the_hard_limit_closes_and_drops() {
        let outbox = Outbox::default();
        let limit = OutputLimit {
            hard_bytes: 10,
            soft_bytes: 0,
            soft_seconds: 0,
        };
        assert_eq!(
            outbox.push(Bytes::from(vec![0u8; 6]), limit),
            Pushed::Queued
        );
        assert_eq!(
            outbox.push(Bytes::from(vec![0u8; 6]), limit),
            Pushed::OverLimit
        );
        assert!(outbox.overflowed());
        assert!(outbox.is_empty());
        assert_eq!(
            outbox.push(Bytes::from(vec![0u8; 1]), limit),
            Pushed::Dropped
        );
    }

    #[test]
    fn the_soft_limit_needs_its_seconds() {
        let outbox = Outbox::default();
        let limit = OutputLimit {
            hard_bytes: 0,
            soft_bytes: 4,
            soft_seconds: 3600,
        };
        assert_eq!(
            outbox.push(Bytes::from(vec![0u8; 8]), limit),
            Pushed::Queued
        );
        assert_eq!(
            outbox.push(Bytes::from(vec![0u8; 8]), limit),
            Pushed::Queued
        );
        let instant = OutputLimit {
            soft_seconds: 0,
            ..limit
        };
        std::thread::sleep(Duration::from_millis(5));
        assert_eq!(
            outbox.push(Bytes::from(vec![0u8; 1]), instant),
            Pushed::OverLimit
        );
    }
}
