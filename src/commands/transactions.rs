//! Transactions: MULTI, EXEC, DISCARD, WATCH, UNWATCH.
//!
//! Between MULTI and EXEC commands are checked (name, arity, auth) and
//! queued; a refused one dooms the transaction (EXECABORT). EXEC holds every
//! shard for its whole run, so no other client sees a transaction half done.
//! WATCH registers the client in the shard that holds each key; any change
//! to the key marks the client dirty, and EXEC then answers a null array.

use super::{run_locked, Ctx};
use crate::errors::{CommandError, CommandResult};
use crate::protocol::{Args, ReplyWriter};
use crate::server::client::{flags, Client, MultiState, WatchedKey};
use crate::server::Shared;
use crate::storage::{KeyView, WatchEntry};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

pub fn multi(ctx: &mut Ctx, _args: Args) -> CommandResult {
    if ctx.client.in_multi() {
        return Err(CommandError::NestedMulti);
    }
    ctx.client.multi = Some(MultiState::default());
    ctx.client.info.set_flag(flags::MULTI, true);
    ctx.client.info.multi_len.store(0, Ordering::Relaxed);
    ctx.reply.ok();
    Ok(())
}

/// Queues a command inside MULTI (called by the dispatcher).
pub fn queue(
    shared: &Shared,
    client: &mut Client,
    index: usize,
    args: Args,
    reply: &mut ReplyWriter,
) {
    let spec = shared.commands.spec(index);
    if spec.has(super::table::flags::NO_MULTI) {
        if let Some(multi) = client.multi.as_mut() {
            multi.aborted = true;
        }
        super::write_error(
            shared,
            reply,
            &CommandError::err("Command not allowed inside a transaction"),
        );
        return;
    }
    if let Some(multi) = client.multi.as_mut() {
        multi.queue.push((index, args.to_owned()));
        client
            .info
            .multi_len
            .store(multi.queue.len(), Ordering::Relaxed);
    }
    reply.simple("QUEUED");
}

pub fn exec(ctx: &mut Ctx, _args: Args) -> CommandResult {
    let Some(multi) = ctx.client.multi.take() else {
        return Err(CommandError::ExecWithoutMulti);
    };
    ctx.client.info.set_flag(flags::MULTI, false);
    if multi.aborted {
        unwatch_all(ctx.client, &mut ctx.keys);
        return Err(CommandError::ExecAbort);
    }
    if watched_key_changed(ctx) {
        unwatch_all(ctx.client, &mut ctx.keys);
        ctx.reply.null_array();
        return Ok(());
    }
    unwatch_all(ctx.client, &mut ctx.keys);
    ctx.reply.array_len(multi.queue.len());
    let now = ctx.keys.now_ms;
    ctx.client.deny_blocking = true;
    for (index, args) in &multi.queue {
        let mut reply = ctx.reply.reborrow();
        // The protocol may change inside the transaction (HELLO); follow the client.
        reply.set_protocol(ctx.client.protocol);
        run_locked(
            ctx.shared,
            ctx.client,
            &mut reply,
            ctx.keys.locked,
            *index,
            args.args(),
            now,
        );
    }
    ctx.client.deny_blocking = false;
    Ok(())
}

fn watched_key_changed(ctx: &mut Ctx) -> bool {
    if ctx.client.watch_dirty.load(Ordering::Relaxed) {
        return true;
    }
    let now = ctx.keys.now_ms;
    for watched in &ctx.client.watched {
        let table = ctx.keys.db_of(watched.db, &watched.key);
        if table.watched_key_expired(&watched.key, &watched.entry, now) {
            return true;
        }
    }
    false
}

/// Leaves MULTI and forgets watched keys (DISCARD, RESET).
pub fn discard_state(ctx: &mut Ctx) {
    ctx.client.multi = None;
    ctx.client.info.set_flag(flags::MULTI, false);
    unwatch_all(ctx.client, &mut ctx.keys);
}

pub fn discard(ctx: &mut Ctx, _args: Args) -> CommandResult {
    if !ctx.client.in_multi() {
        return Err(CommandError::DiscardWithoutMulti);
    }
    discard_state(ctx);
    ctx.reply.ok();
    Ok(())
}

pub fn watch(ctx: &mut Ctx, args: Args) -> CommandResult {
    if ctx.client.in_multi() {
        return Err(CommandError::WatchInMulti);
    }
    let db = ctx.keys.db;
    let now = ctx.keys.now_ms;
    for key in args.from(1).iter() {
        if ctx
            .client
            .watched
            .iter()
            .any(|w| w.db == db && &*w.key == key)
        {
            continue;
        }
        let table = ctx.keys.db_of(db, key);
        let entry = Arc::new(WatchEntry {
            client_dirty: ctx.client.watch_dirty.clone(),
            stale_at_watch: AtomicBool::new(table.is_stale(key, now)),
        });
        table.watch(key, entry.clone());
        ctx.client.watched.push(WatchedKey {
            db,
            key: key.into(),
            entry,
        });
    }
    ctx.client
        .info
        .watch_len
        .store(ctx.client.watched.len(), Ordering::Relaxed);
    ctx.reply.ok();
    Ok(())
}

pub fn unwatch(ctx: &mut Ctx, _args: Args) -> CommandResult {
    unwatch_all(ctx.client, &mut ctx.keys);
    ctx.reply.ok();
    Ok(())
}

/// Removes every watch of `client`; `keys` must hold the shards of its watched keys.
pub fn unwatch_all(client: &mut Client, keys: &mut KeyView) {
    for watched in client.watched.drain(..) {
        keys.db_of(watched.db, &watched.key)
            .unwatch(&watched.key, &watched.entry);
    }
    client.watch_dirty.store(false, Ordering::Relaxed);
    client.info.watch_len.store(0, Ordering::Relaxed);
}

/// Connection teardown: drop watches, locking only the shards involved.
pub fn release_client(shared: &Shared, client: &mut Client) {
    if client.watched.is_empty() {
        return;
    }
    let mut locked = shared
        .keyspace
        .lock_keys(client.watched.iter().map(|w| &*w.key));
    let mut view = KeyView::new(&shared.keyspace, &mut locked, 0, crate::util::now_ms());
    unwatch_all(client, &mut view);
}
