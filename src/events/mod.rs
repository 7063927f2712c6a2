//! Events: pub/sub (`pubsub`), keyspace notifications (`notify`) and
//! client-side caching (`tracking`).
//!
//! While a command runs, the keyspace records what happened to keys
//! (`storage::changes`); once the handler has finished, and while the
//! command's shards are still locked, `after_command` publishes the
//! notifications in the order they happened and sends the invalidations,
//! so every other client sees them before anything it does afterwards.
//! Active expiry hands its changes over the same way (`after_expiry`).
//!
//! This module decides who receives what; it never writes to a socket
//! (frames go to the receivers' outboxes) and never locks a shard except
//! to enforce the tracking table's size limit.

pub mod notify;
pub mod pubsub;
pub mod tracking;

use crate::server::client::Client;
use crate::server::Shared;
use crate::storage::{ChangeKind, KeyChange, Locked, Shard};

/// Publishes the notifications and sends the invalidations of the command
/// `client` just ran, from the shards it holds.
pub fn after_command(shared: &Shared, client: &mut Client, locked: &mut Locked) {
    if !shared.keyspace.changes.any() {
        return;
    }
    let mut events = Vec::new();
    for shard in locked.shards_mut() {
        take_changes(shared, shard, Some(&mut *client), &mut events);
    }
    publish_in_order(shared, events);
}

/// The same for one shard active expiry has just swept.
pub fn after_expiry(shared: &Shared, shard: &mut Shard) {
    let mut events = Vec::new();
    take_changes(shared, shard, None, &mut events);
    publish_in_order(shared, events);
}

/// Takes a shard's recorded changes: modifications are acted on at once
/// (tracking), notifications are collected in `events`.
fn take_changes(
    shared: &Shared,
    shard: &mut Shard,
    mut origin: Option<&mut Client>,
    events: &mut Vec<(usize, KeyChange)>,
) {
    if !shard.dbs.iter().any(|table| table.has_changes()) {
        return;
    }
    let mut changes = Vec::new();
    for (db, table) in shard.dbs.iter_mut().enumerate() {
        if table.has_changes() {
            table.take_changes(db, &mut changes);
        }
    }
    for (db, change) in changes {
        match change.kind {
            ChangeKind::Modified { by_server } => {
                tracking::key_modified(shared, shard, &change.key, by_server, origin.as_deref_mut())
            }
            ChangeKind::Event { .. } => events.push((db, change)),
        }
    }
}

fn publish_in_order(shared: &Shared, mut events: Vec<(usize, KeyChange)>) {
    if events.is_empty() {
        return;
    }
    events.sort_by_key(|(_, change)| change.sequence);
    for (db, change) in events {
        if let ChangeKind::Event { name, .. } = change.kind {
            notify::publish(shared, db, name, &change.key);
        }
    }
}
