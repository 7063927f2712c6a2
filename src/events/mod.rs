//! Events: pub/sub (`pubsub`), keyspace notifications (`notify`) and
//! client-side caching (`tracking`).
//!
//! While a command runs, the keyspace records what happened to keys
//! (`storage::changes`); once the handler has finished, and while the
//! command's shards are still locked, `after_command` publishes the
//! notifications in the order they happened and sends the invalidations,
//! so every other client sees them before anything it does afterwards.
//! Active expiry and eviction hand their changes over the same way
//! (`after_server_changes`).
//!
//! This module decides who receives what; it never writes to a socket
//! (frames go to the receivers' outboxes) and never locks a shard except
//! to enforce the tracking table's size limit.

pub mod notify;
pub mod pubsub;
pub mod tracking;

use crate::protocol::Protocol;
use crate::server::client::Client;
use crate::server::Shared;
use crate::storage::{ChangeKind, KeyChange, Locked, Shard};

/// Publishes the notifications and sends the invalidations of the command
/// `client` just ran, from the shards it holds, in the order they happened
/// (across shards too). When the client itself is subscribed in RESP3, its
/// own pushes are set aside with the reply position each event happened at
/// (`Client::own_pushes`), for the dispatcher to place as Redis 7.0 does.
pub fn after_command(shared: &Shared, client: &mut Client, locked: &mut Locked) {
    if !shared.keyspace.changes.any() {
        return;
    }
    let mut changes = Vec::new();
    for shard in locked.shards_mut() {
        take_changes(shard, &mut changes);
    }
    if changes.is_empty() {
        return;
    }
    changes.sort_by_key(|(_, change)| change.sequence);
    let keeps_own = client.protocol == Protocol::Resp3 && client.subscriptions.active();
    for (db, change) in changes {
        match change.kind {
            ChangeKind::Modified { by_server } => {
                let shard = locked.shard(shared.keyspace.shard_index(&change.key));
                tracking::key_modified(shared, shard, &change.key, by_server, Some(&mut *client));
            }
            ChangeKind::Event { name, .. } => {
                notify::publish(shared, db, name, &change.key);
                let outbox = &client.info.outbox;
                if keeps_own && !outbox.is_empty() {
                    let mut frames = Vec::new();
                    outbox.drain_into(&mut frames);
                    client.own_pushes.push((change.reply_at, frames));
                }
            }
        }
    }
}

/// The same for one shard that active expiry or eviction has just changed.
pub fn after_server_changes(shared: &Shared, shard: &mut Shard) {
    let mut changes = Vec::new();
    take_changes(shard, &mut changes);
    changes.sort_by_key(|(_, change)| change.sequence);
    for (db, change) in changes {
        match change.kind {
            ChangeKind::Modified { by_server } => {
                tracking::key_modified(shared, shard, &change.key, by_server, None)
            }
            ChangeKind::Event { name, .. } => notify::publish(shared, db, name, &change.key),
        }
    }
}

/// Moves a shard's recorded changes, tagged with their database, to `out`.
fn take_changes(shard: &mut Shard, out: &mut Vec<(usize, KeyChange)>) {
    for (db, table) in shard.dbs.iter_mut().enumerate() {
        if table.has_changes() {
            table.take_changes(db, out);
        }
    }
}
