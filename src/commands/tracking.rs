//! CLIENT TRACKING, CLIENT CACHING, CLIENT TRACKINGINFO and CLIENT
//! GETREDIR: the commands of client-side caching, with Redis 7.0's option
//! rules and error texts. What tracking does is `events::tracking`'s.

use super::{parse_int, Ctx};
use crate::errors::{CommandError, CommandResult};
use crate::events::tracking::{self, mode};
use crate::protocol::Args;
use crate::util::eq_ignore_case;

/// The options of CLIENT TRACKING after ON|OFF.
struct TrackingOptions<'a> {
    redirect: u64,
    flags: u32,
    prefixes: Vec<&'a [u8]>,
}

fn parse_options<'a>(ctx: &Ctx, args: Args<'a>) -> Result<TrackingOptions<'a>, CommandError> {
    let mut options = TrackingOptions {
        redirect: 0,
        flags: 0,
        prefixes: Vec::new(),
    };
    let mut i = 3;
    while i < args.len() {
        let more = i + 1 < args.len();
        let word = &args[i];
        if eq_ignore_case(word, "redirect") && more {
            i += 1;
            if options.redirect != 0 {
                return Err(CommandError::err(
                    "A client can only redirect to a single other client",
                ));
            }
            let id = parse_int(&args[i])?;
            let known = u64::try_from(id)
                .ok()
                .filter(|id| ctx.shared.clients.get(*id).is_some());
            options.redirect = known.ok_or_else(|| {
                CommandError::err("The client ID you want redirect to does not exist")
            })?;
        } else if eq_ignore_case(word, "bcast") {
            options.flags |= mode::BCAST;
        } else if eq_ignore_case(word, "optin") {
            options.flags |= mode::OPTIN;
        } else if eq_ignore_case(word, "optout") {
            options.flags |= mode::OPTOUT;
        } else if eq_ignore_case(word, "noloop") {
            options.flags |= mode::NOLOOP;
        } else if eq_ignore_case(word, "prefix") && more {
            i += 1;
            options.prefixes.push(args.get(i));
        } else {
            return Err(CommandError::Syntax);
        }
        i += 1;
    }
    Ok(options)
}

/// Redis's checks before tracking is switched on, in its order.
fn check_compatible(ctx: &Ctx, options: &TrackingOptions) -> CommandResult {
    let wanted = options.flags;
    let current = ctx.client.info.tracking.flags();
    if wanted & mode::BCAST == 0 && !options.prefixes.is_empty() {
        return Err(CommandError::err(
            "PREFIX option requires BCAST mode to be enabled",
        ));
    }
    if current & mode::ON != 0 && (current & mode::BCAST != 0) != (wanted & mode::BCAST != 0) {
        return Err(CommandError::err(
            "You can't switch BCAST mode on/off before disabling tracking for this client, and then re-enabling it with a different mode.",
        ));
    }
    if wanted & mode::BCAST != 0 && wanted & (mode::OPTIN | mode::OPTOUT) != 0 {
        return Err(CommandError::err(
            "OPTIN and OPTOUT are not compatible with BCAST",
        ));
    }
    if wanted & mode::OPTIN != 0 && wanted & mode::OPTOUT != 0 {
        return Err(CommandError::err(
            "You can't specify both OPTIN mode and OPTOUT mode",
        ));
    }
    if (wanted & mode::OPTIN != 0 && current & mode::OPTOUT != 0)
        || (wanted & mode::OPTOUT != 0 && current & mode::OPTIN != 0)
    {
        return Err(CommandError::err(
            "You can't switch OPTIN/OPTOUT mode before disabling tracking for this client, and then re-enabling it with a different mode.",
        ));
    }
    if wanted & mode::BCAST != 0 {
        if let Some(collision) = tracking::prefix_collision(ctx.client, &options.prefixes) {
            return Err(CommandError::err(collision));
        }
    }
    Ok(())
}

/// CLIENT TRACKING ON|OFF [REDIRECT id] [PREFIX p ...] [BCAST] [OPTIN] [OPTOUT] [NOLOOP]
pub fn client_tracking(ctx: &mut Ctx, args: Args) -> CommandResult {
    let options = parse_options(ctx, args)?;
    if eq_ignore_case(&args[2], "on") {
        check_compatible(ctx, &options)?;
        tracking::enable(
            ctx.shared,
            ctx.client,
            options.redirect,
            options.flags,
            &options.prefixes,
        );
    } else if eq_ignore_case(&args[2], "off") {
        tracking::disable(ctx.shared, ctx.client);
    } else {
        return Err(CommandError::Syntax);
    }
    ctx.reply.ok();
    Ok(())
}

/// CLIENT CACHING YES|NO: the next command's keys are (not) tracked.
pub fn client_caching(ctx: &mut Ctx, args: Args) -> CommandResult {
    let flags = ctx.client.info.tracking.flags();
    if flags & mode::ON == 0 {
        return Err(CommandError::err(
            "CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT mode enabled",
        ));
    }
    if eq_ignore_case(&args[2], "yes") {
        if flags & mode::OPTIN == 0 {
            return Err(CommandError::err(
                "CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode.",
            ));
        }
    } else if eq_ignore_case(&args[2], "no") {
        if flags & mode::OPTOUT == 0 {
            return Err(CommandError::err(
                "CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode.",
            ));
        }
    } else {
        return Err(CommandError::Syntax);
    }
    tracking::set_caching(ctx.client);
    ctx.reply.ok();
    Ok(())
}

/// The REDIRECT client id (0: none), or -1 when tracking is off.
fn redirect_id(ctx: &Ctx) -> i64 {
    let state = &ctx.client.info.tracking;
    if state.has(mode::ON) {
        state.redirect() as i64
    } else {
        -1
    }
}

pub fn client_getredir(ctx: &mut Ctx, _args: Args) -> CommandResult {
    let id = redirect_id(ctx);
    ctx.reply.integer(id);
    Ok(())
}

pub fn client_trackinginfo(ctx: &mut Ctx, _args: Args) -> CommandResult {
    let names = tracking::flag_names(ctx.client.info.tracking.flags());
    let redirect = redirect_id(ctx);
    ctx.reply.map_len(3);
    ctx.reply.bulk_str("flags");
    ctx.reply.set_len(names.len());
    for name in names {
        ctx.reply.bulk_str(name);
    }
    ctx.reply.bulk_str("redirect");
    ctx.reply.integer(redirect);
    ctx.reply.bulk_str("prefixes");
    let prefixes = tracking::prefixes(ctx.client);
    ctx.reply.array_len(prefixes.len());
    for prefix in prefixes {
        ctx.reply.bulk(prefix);
    }
    Ok(())
}
