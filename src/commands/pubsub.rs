//! Pub/sub commands: SUBSCRIBE, UNSUBSCRIBE, PSUBSCRIBE, PUNSUBSCRIBE,
//! PUBLISH, SSUBSCRIBE, SUNSUBSCRIBE, SPUBLISH and PUBSUB's subcommands.
//!
//! The (un)subscribe commands answer with one push per channel (an array in
//! RESP2), which CLIENT REPLY OFF does not silence. The client's own list of
//! subscriptions and the hub's index change together here; delivery is
//! `events::pubsub`'s.

use super::Ctx;
use crate::errors::{CommandError, CommandResult};
use crate::events::pubsub::ChannelKind;
use crate::protocol::Args;
use crate::server::client::Client;
use crate::server::Shared;

/// One (un)subscription confirmation: `[kind, name or nil, count]`.
fn confirm(ctx: &mut Ctx, word: &str, name: Option<&[u8]>, count: usize) {
    ctx.reply.push_len(3);
    ctx.reply.bulk_str(word);
    match name {
        Some(name) => ctx.reply.bulk(name),
        None => ctx.reply.null(),
    }
    ctx.reply.integer(count as i64);
}

fn subscribe_channels(ctx: &mut Ctx, args: Args, kind: ChannelKind, word: &str) {
    for channel in args.iter().skip(1) {
        if ctx
            .client
            .subscriptions
            .of_kind(kind)
            .insert(Box::from(channel))
        {
            ctx.shared.pubsub.subscribe(kind, channel, &ctx.client.info);
        }
        let count = ctx.client.subscriptions.count_of(kind);
        confirm(ctx, word, Some(channel), count);
    }
    ctx.client.publish_subscription_counts();
    ctx.client.reply_is_push = true;
}

fn unsubscribe_channels(ctx: &mut Ctx, args: Args, kind: ChannelKind, word: &str) {
    let named: Vec<Box<[u8]>> = if args.len() > 1 {
        args.iter().skip(1).map(Box::from).collect()
    } else {
        ctx.client
            .subscriptions
            .of_kind(kind)
            .iter()
            .cloned()
            .collect()
    };
    if named.is_empty() {
        let count = ctx.client.subscriptions.count_of(kind);
        confirm(ctx, word, None, count);
    }
    for channel in named {
        if ctx.client.subscriptions.of_kind(kind).remove(&channel) {
            ctx.shared.pubsub.unsubscribe(kind, &channel, ctx.client.id);
        }
        let count = ctx.client.subscriptions.count_of(kind);
        confirm(ctx, word, Some(&channel), count);
    }
    ctx.client.publish_subscription_counts();
    ctx.client.reply_is_push = true;
}

pub fn subscribe(ctx: &mut Ctx, args: Args) -> CommandResult {
    subscribe_channels(ctx, args, ChannelKind::Global, "subscribe");
    Ok(())
}

pub fn unsubscribe(ctx: &mut Ctx, args: Args) -> CommandResult {
    unsubscribe_channels(ctx, args, ChannelKind::Global, "unsubscribe");
    Ok(())
}

pub fn ssubscribe(ctx: &mut Ctx, args: Args) -> CommandResult {
    if !ctx.may_block() {
        // Inside EXEC: Redis refuses shard subscriptions to clients that
        // expect one reply per command.
        return Err(CommandError::err(
            "SSUBSCRIBE isn't allowed for a DENY BLOCKING client",
        ));
    }
    subscribe_channels(ctx, args, ChannelKind::Shard, "ssubscribe");
    Ok(())
}

pub fn sunsubscribe(ctx: &mut Ctx, args: Args) -> CommandResult {
    unsubscribe_channels(ctx, args, ChannelKind::Shard, "sunsubscribe");
    Ok(())
}

pub fn psubscribe(ctx: &mut Ctx, args: Args) -> CommandResult {
    for pattern in args.iter().skip(1) {
        let patterns = &mut ctx.client.subscriptions.patterns;
        if !patterns.iter().any(|p| &**p == pattern) {
            patterns.push(Box::from(pattern));
            ctx.shared.pubsub.psubscribe(pattern, &ctx.client.info);
        }
        let count = ctx.client.subscriptions.count();
        confirm(ctx, "psubscribe", Some(pattern), count);
    }
    ctx.client.publish_subscription_counts();
    ctx.client.reply_is_push = true;
    Ok(())
}

pub fn punsubscribe(ctx: &mut Ctx, args: Args) -> CommandResult {
    let named: Vec<Box<[u8]>> = if args.len() > 1 {
        args.iter().skip(1).map(Box::from).collect()
    } else {
        ctx.client.subscriptions.patterns.clone()
    };
    if named.is_empty() {
        let count = ctx.client.subscriptions.count();
        confirm(ctx, "punsubscribe", None, count);
    }
    for pattern in named {
        let patterns = &mut ctx.client.subscriptions.patterns;
        if let Some(at) = patterns.iter().position(|p| *p == pattern) {
            patterns.remove(at);
            ctx.shared.pubsub.punsubscribe(&pattern, ctx.client.id);
        }
        let count = ctx.client.subscriptions.count();
        confirm(ctx, "punsubscribe", Some(&pattern), count);
    }
    ctx.client.publish_subscription_counts();
    ctx.client.reply_is_push = true;
    Ok(())
}

pub fn publish(ctx: &mut Ctx, args: Args) -> CommandResult {
    let shared = ctx.shared;
    let receivers = shared.pubsub.publish(
        ChannelKind::Global,
        &args[1],
        &args[2],
        &shared.output_limits,
    );
    ctx.reply.integer(receivers as i64);
    Ok(())
}

pub fn spublish(ctx: &mut Ctx, args: Args) -> CommandResult {
    let shared = ctx.shared;
    let receivers = shared.pubsub.publish(
        ChannelKind::Shard,
        &args[1],
        &args[2],
        &shared.output_limits,
    );
    ctx.reply.integer(receivers as i64);
    Ok(())
}

fn list_channels(ctx: &mut Ctx, args: Args, kind: ChannelKind) -> CommandResult {
    if args.len() > 3 {
        return Err(CommandError::err(format!(
            "unknown subcommand or wrong number of arguments for '{}'. Try PUBSUB HELP.",
            String::from_utf8_lossy(super::c_string_prefix(&args[1], 128))
        )));
    }
    let pattern = args.get_opt(2);
    let channels = ctx.shared.pubsub.active_channels(kind, pattern);
    ctx.reply.array_len(channels.len());
    for channel in &channels {
        ctx.reply.bulk(channel);
    }
    Ok(())
}

fn count_subscribers(ctx: &mut Ctx, args: Args, kind: ChannelKind) -> CommandResult {
    ctx.reply.array_len((args.len() - 2) * 2);
    for channel in args.iter().skip(2) {
        ctx.reply.bulk(channel);
        let count = ctx.shared.pubsub.subscriber_count(kind, channel);
        ctx.reply.integer(count as i64);
    }
    Ok(())
}

pub fn pubsub_channels(ctx: &mut Ctx, args: Args) -> CommandResult {
    list_channels(ctx, args, ChannelKind::Global)
}

pub fn pubsub_shardchannels(ctx: &mut Ctx, args: Args) -> CommandResult {
    list_channels(ctx, args, ChannelKind::Shard)
}

pub fn pubsub_numsub(ctx: &mut Ctx, args: Args) -> CommandResult {
    count_subscribers(ctx, args, ChannelKind::Global)
}

pub fn pubsub_shardnumsub(ctx: &mut Ctx, args: Args) -> CommandResult {
    count_subscribers(ctx, args, ChannelKind::Shard)
}

pub fn pubsub_numpat(ctx: &mut Ctx, _args: Args) -> CommandResult {
    let count = ctx.shared.pubsub.pattern_count();
    ctx.reply.integer(count as i64);
    Ok(())
}

pub fn pubsub_help(ctx: &mut Ctx, _args: Args) -> CommandResult {
    super::server::write_help(
        ctx,
        "PUBSUB",
        &[
            "CHANNELS [<pattern>]",
            "    Return the currently active channels matching a <pattern> (default: '*').",
            "NUMPAT",
            "    Return number of subscriptions to patterns.",
            "NUMSUB [<channel> ...]",
            "    Return the number of subscribers for the specified channels, excluding",
            "    pattern subscriptions(default: no channels).",
            "SHARDCHANNELS [<pattern>]",
            "    Return the currently active shard level channels matching a <pattern> (default: '*').",
            "SHARDNUMSUB [<shardchannel> ...]",
            "    Return the number of subscribers for the specified shard level channel(s)",
        ],
    );
    Ok(())
}

/// Drops every subscription of a client (RESET, disconnection), without replies.
pub fn release_client(shared: &Shared, client: &mut Client) {
    let subscriptions = std::mem::take(&mut client.subscriptions);
    for channel in &subscriptions.channels {
        shared
            .pubsub
            .unsubscribe(ChannelKind::Global, channel, client.id);
    }
    for channel in &subscriptions.shard_channels {
        shared
            .pubsub
            .unsubscribe(ChannelKind::Shard, channel, client.id);
    }
    for pattern in &subscriptions.patterns {
        shared.pubsub.punsubscribe(pattern, client.id);
    }
    client.publish_subscription_counts();
}
