//! The change log: what the keyspace records while a command (or active
//! expiry) runs, for the events module to act on once it has finished —
//! keyspace notifications (the named events of `notify-keyspace-events`)
//! and key modifications (client-side caching invalidates on those).
//!
//! Recording is off unless someone listens: `ChangeSwitch` says which
//! notification classes are enabled and whether any client tracks keys,
//! and every `DbShard` holds the one switch of its keyspace, so a table
//! decides on its own, with one relaxed load, whether to record. Entries
//! carry a sequence number from the switch so the events of one command
//! can be put back in order across shards.
//!
//! This module records; it never publishes, and it knows nothing of
//! clients or channels.

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};

/// Notification classes, with Redis's bit values (`notify-keyspace-events`).
pub mod class {
    pub const KEYSPACE: u32 = 1 << 0;
    pub const KEYEVENT: u32 = 1 << 1;
    pub const GENERIC: u32 = 1 << 2;
    pub const STRING: u32 = 1 << 3;
    pub const LIST: u32 = 1 << 4;
    pub const SET: u32 = 1 << 5;
    pub const HASH: u32 = 1 << 6;
    pub const ZSET: u32 = 1 << 7;
    pub const EXPIRED: u32 = 1 << 8;
    pub const EVICTED: u32 = 1 << 9;
    pub const STREAM: u32 = 1 << 10;
    /// Not part of `A`, as in Redis.
    pub const KEY_MISS: u32 = 1 << 11;
    pub const MODULE: u32 = 1 << 13;
    pub const NEW: u32 = 1 << 14;
    /// What `A` stands for.
    pub const ALL: u32 =
        GENERIC | STRING | LIST | SET | HASH | ZSET | EXPIRED | EVICTED | STREAM | MODULE;
}

/// Which changes the tables of one keyspace record.
#[derive(Default, Debug)]
pub struct ChangeSwitch {
    /// The `notify-keyspace-events` classes (0: notifications off).
    notify: AtomicU32,
    /// Some client tracks keys (CLIENT TRACKING ON).
    tracking: AtomicBool,
    sequence: AtomicU64,
}

impl ChangeSwitch {
    pub fn set_notify_classes(&self, classes: u32) {
        self.notify.store(classes, Ordering::Relaxed);
    }

    pub fn notify_classes(&self) -> u32 {
        self.notify.load(Ordering::Relaxed)
    }

    pub fn set_tracking(&self, on: bool) {
        self.tracking.store(on, Ordering::Relaxed);
    }

    pub fn tracking(&self) -> bool {
        self.tracking.load(Ordering::Relaxed)
    }

    /// Whether an event of `event_class` would be published: its class is
    /// on, and so is at least one of the keyspace and keyevent channels.
    pub fn wants(&self, event_class: u32) -> bool {
        let classes = self.notify.load(Ordering::Relaxed);
        classes & event_class != 0 && classes & (class::KEYSPACE | class::KEYEVENT) != 0
    }

    /// Whether anything is recorded at all (the dispatcher's fast check).
    pub fn any(&self) -> bool {
        self.tracking() || self.notify.load(Ordering::Relaxed) != 0
    }

    fn next_sequence(&self) -> u64 {
        self.sequence.fetch_add(1, Ordering::Relaxed)
    }
}

/// What happened to a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeKind {
    /// A keyspace notification: its class and Redis's event name.
    Event { class: u32, name: &'static str },
    /// The key's value changed (or it went): tracked copies are stale.
    /// `by_server` when no command did it (expiry), which NOLOOP does not
    /// filter out of broadcasts.
    Modified { by_server: bool },
}

/// One recorded change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyChange {
    pub sequence: u64,
    pub kind: ChangeKind,
    pub key: Box<[u8]>,
    /// How much of the command's reply had been written when the event
    /// happened (None: not known, taken as before the reply). A client
    /// subscribed to its own events gets each where Redis 7.0 puts it.
    pub reply_at: Option<usize>,
}

/// The changes one table recorded since they were last taken.
#[derive(Default, Debug)]
pub struct ChangeLog {
    entries: Vec<KeyChange>,
}

impl ChangeLog {
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Records an event if its class is enabled.
    pub fn event(
        &mut self,
        switch: &ChangeSwitch,
        event_class: u32,
        name: &'static str,
        key: &[u8],
    ) {
        self.event_at(switch, event_class, name, key, None);
    }

    /// Records an event, with the reply position it happened at.
    pub fn event_at(
        &mut self,
        switch: &ChangeSwitch,
        event_class: u32,
        name: &'static str,
        key: &[u8],
        reply_at: Option<usize>,
    ) {
        if switch.wants(event_class) {
            let kind = ChangeKind::Event {
                class: event_class,
                name,
            };
            self.push(switch, kind, key, reply_at);
        }
    }

    /// Records a modification if some client tracks keys.
    pub fn modified(&mut self, switch: &ChangeSwitch, key: &[u8], by_server: bool) {
        if switch.tracking() {
            self.push(switch, ChangeKind::Modified { by_server }, key, None);
        }
    }

    /// A key went because its deadline passed: `expired`, and tracked
    /// copies are stale (a change by the server, not by a command).
    pub fn expired(&mut self, switch: &ChangeSwitch, key: &[u8]) {
        self.event(switch, class::EXPIRED, "expired", key);
        self.modified(switch, key, true);
    }

    fn push(
        &mut self,
        switch: &ChangeSwitch,
        kind: ChangeKind,
        key: &[u8],
        reply_at: Option<usize>,
    ) {
        self.entries.push(KeyChange {
            sequence: switch.next_sequence(),
            kind,
            key: Box::from(key),
            reply_at,
        });
    }

    /// Moves every recorded change to `out`, tagged with `db`.
    pub fn drain_into(&mut self, db: usize, out: &mut Vec<(usize, KeyChange)>) {
        out.extend(self.entries.drain(..).map(|change| (db, change)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_is_recorded_while_nobody_listens() {
        let switch = ChangeSwitch::default();
        let mut log = ChangeLog::default();
        log.event(&switch, class::STRING, "set", b"k");
        log.modified(&switch, b"k", false);
        assert!(log.is_empty());
        // A class without K or E publishes nothing either.
        switch.set_notify_classes(class::STRING);
        log.event(&switch, class::STRING, "set", b"k");
        assert!(log.is_empty());
    }

    #[test]
    fn enabled_classes_and_tracking_are_recorded_in_order() {
        let switch = ChangeSwitch::default();
        switch.set_notify_classes(class::KEYEVENT | class::STRING);
        switch.set_tracking(true);
        let mut log = ChangeLog::default();
        log.event(&switch, class::LIST, "lpush", b"ignored");
        log.event(&switch, class::STRING, "set", b"a");
        log.modified(&switch, b"a", false);
        let mut out = Vec::new();
        log.drain_into(3, &mut out);
        assert!(log.is_empty());
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].0, 3);
        assert_eq!(
            out[0].1.kind,
            ChangeKind::Event {
                class: class::STRING,
                name: "set"
            }
        );
        assert_eq!(out[1].1.kind, ChangeKind::Modified { by_server: false });
        assert!(out[0].1.sequence < out[1].1.sequence);
    }
}
