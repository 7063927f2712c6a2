//! The connection family: PING, ECHO, QUIT, RESET, HELLO, AUTH, SELECT and
//! the CLIENT subcommands. These act on the calling client's own state (or,
//! for CLIENT LIST/KILL, on the client registry); only RESET touches the
//! keyspace, to drop the client's watched keys.

use super::{parse_int, Ctx};
use crate::errors::{CommandError, CommandResult};
use crate::protocol::{Args, Protocol};
use crate::server::client::{flags, ClientInfo, ReplyMode};
use crate::util::eq_ignore_case;
use std::sync::atomic::Ordering;

pub fn ping(ctx: &mut Ctx, args: Args) -> CommandResult {
    if args.len() > 2 {
        return Err(CommandError::WrongArity("ping".into()));
    }
    if ctx.client.protocol == Protocol::Resp2 && ctx.client.subscriptions.active() {
        // A RESP2 subscriber's replies share the stream with messages.
        ctx.reply.array_len(2);
        ctx.reply.bulk_str("pong");
        ctx.reply.bulk(args.get_opt(1).unwrap_or(b""));
        return Ok(());
    }
    match args.get_opt(1) {
        None => ctx.reply.simple("PONG"),
        Some(message) => ctx.reply.bulk(message),
    }
    Ok(())
}

pub fn echo(ctx: &mut Ctx, args: Args) -> CommandResult {
    ctx.reply.bulk(&args[1]);
    Ok(())
}

pub fn quit(ctx: &mut Ctx, _args: Args) -> CommandResult {
    ctx.reply.ok();
    ctx.client.close_after_reply = true;
    Ok(())
}

pub fn reset(ctx: &mut Ctx, _args: Args) -> CommandResult {
    super::transactions::discard_state(ctx);
    super::pubsub::release_client(ctx.shared, ctx.client);
    crate::events::tracking::disable(ctx.shared, ctx.client);
    let requires_auth = ctx.shared.hot.requirepass_set.load(Ordering::Relaxed);
    let client = &mut *ctx.client;
    client.select(0);
    ctx.keys.db = 0;
    client.protocol = Protocol::Resp2;
    client.info.resp.store(2, Ordering::Relaxed);
    client.reply_mode = ReplyMode::On;
    if client.monitor {
        client.monitor = false;
        ctx.shared.monitor.remove();
        client.info.set_flag(flags::MONITOR, false);
    }
    client
        .info
        .set_flag(flags::NO_EVICT | flags::NO_TOUCH, false);
    client.authenticated = !requires_auth;
    ctx.reply.set_protocol(Protocol::Resp2);
    ctx.reply.simple("RESET");
    Ok(())
}

/// Checks a password against `requirepass`; `username` must be "default".
fn check_password(ctx: &Ctx, username: &[u8], password: &[u8]) -> CommandResult {
    let config = ctx.shared.config.read();
    let ok = username == b"default"
        && match &config.requirepass {
            Some(pass) => pass.as_bytes() == password,
            None => true,
        };
    if ok {
        Ok(())
    } else {
        Err(CommandError::WrongPass)
    }
}

pub fn auth(ctx: &mut Ctx, args: Args) -> CommandResult {
    let (username, password) = match args.len() {
        2 => (&b"default"[..], &args[1]),
        3 => (&args[1], &args[2]),
        _ => return Err(CommandError::Syntax),
    };
    if args.len() == 2 && !ctx.shared.hot.requirepass_set.load(Ordering::Relaxed) {
        return Err(CommandError::err(
            "AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?",
        ));
    }
    check_password(ctx, username, password)?;
    ctx.client.authenticated = true;
    ctx.reply.ok();
    Ok(())
}

fn valid_client_name(name: &[u8]) -> bool {
    name.iter().all(|&c| (b'!'..=b'~').contains(&c))
}

fn set_name(ctx: &mut Ctx, name: &[u8]) -> CommandResult {
    if !valid_client_name(name) {
        return Err(CommandError::err(
            "Client names cannot contain spaces, newlines or special characters.",
        ));
    }
    let mut slot = ctx.client.info.name.lock();
    *slot = if name.is_empty() {
        None
    } else {
        Some(String::from_utf8_lossy(name).into_owned())
    };
    Ok(())
}

pub fn hello(ctx: &mut Ctx, args: Args) -> CommandResult {
    let mut protocol = ctx.client.protocol;
    let mut i = 1;
    if args.len() >= 2 {
        let version = parse_int(&args[1])
            .map_err(|_| CommandError::err("Protocol version is not an integer or out of range"))?;
        protocol = match version {
            2 => Protocol::Resp2,
            3 => Protocol::Resp3,
            _ => return Err(CommandError::NoProto),
        };
        i = 2;
    }
    let mut credentials: Option<(Vec<u8>, Vec<u8>)> = None;
    let mut name: Option<Vec<u8>> = None;
    while i < args.len() {
        let remaining = args.len() - i - 1;
        if eq_ignore_case(&args[i], "auth") && remaining >= 2 {
            credentials = Some((args[i + 1].to_vec(), args[i + 2].to_vec()));
            i += 3;
        } else if eq_ignore_case(&args[i], "setname") && remaining >= 1 {
            name = Some(args[i + 1].to_vec());
            i += 2;
        } else {
            return Err(CommandError::err(format!(
                "Syntax error in HELLO option '{}'",
                String::from_utf8_lossy(&args[i])
            )));
        }
    }
    if let Some((user, pass)) = &credentials {
        check_password(ctx, user, pass)?;
        ctx.client.authenticated = true;
    }
    if !ctx.client.authenticated {
        return Err(CommandError::Raw(
            "NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time".into(),
        ));
    }
    if let Some(name) = &name {
        set_name(ctx, name)?;
    }
    ctx.client.protocol = protocol;
    ctx.client.info.resp.store(
        if protocol == Protocol::Resp3 { 3 } else { 2 },
        Ordering::Relaxed,
    );
    ctx.reply.set_protocol(protocol);
    let r = &mut ctx.reply;
    r.map_len(7);
    r.bulk(b"server");
    r.bulk(b"redis");
    r.bulk(b"version");
    r.bulk(crate::REDIS_VERSION.as_bytes());
    r.bulk(b"proto");
    r.integer(if protocol == Protocol::Resp3 { 3 } else { 2 });
    r.bulk(b"id");
    r.integer(ctx.client.id as i64);
    r.bulk(b"mode");
    r.bulk(b"standalone");
    r.bulk(b"role");
    r.bulk(b"master");
    r.bulk(b"modules");
    r.array_len(0);
    Ok(())
}

pub fn select(ctx: &mut Ctx, args: Args) -> CommandResult {
    let index = parse_int(&args[1])?;
    if index < 0 || index as usize >= ctx.shared.keyspace.databases() {
        return Err(CommandError::DbIndexOutOfRange);
    }
    ctx.client.select(index as usize);
    ctx.keys.db = index as usize;
    ctx.reply.ok();
    Ok(())
}

pub fn client_id(ctx: &mut Ctx, _args: Args) -> CommandResult {
    ctx.reply.integer(ctx.client.id as i64);
    Ok(())
}

pub fn client_setname(ctx: &mut Ctx, args: Args) -> CommandResult {
    set_name(ctx, &args[2])?;
    ctx.reply.ok();
    Ok(())
}

pub fn client_getname(ctx: &mut Ctx, _args: Args) -> CommandResult {
    let name = ctx.client.info.name.lock().clone();
    match name {
        Some(name) => ctx.reply.bulk(name.as_bytes()),
        None => ctx.reply.null(),
    }
    Ok(())
}

fn describe(ctx: &Ctx, info: &crate::server::client::ClientInfo) -> String {
    let index = info.last_command.load(Ordering::Relaxed) as usize;
    let name = if index < ctx.shared.commands.len() {
        ctx.shared.commands.spec(index).full_name()
    } else {
        "NULL".to_string()
    };
    info.describe(ctx.now_ms(), &name)
}

/// CLIENT LIST / CLIENT KILL's TYPE: which clients it names (cachet has no
/// masters or replicas, so those types name nobody).
#[derive(Clone, Copy, PartialEq, Eq)]
enum ClientType {
    Normal,
    Pubsub,
    Replication,
}

fn parse_client_type(text: &[u8]) -> Result<ClientType, CommandError> {
    match String::from_utf8_lossy(text).to_lowercase().as_str() {
        "normal" => Ok(ClientType::Normal),
        "pubsub" => Ok(ClientType::Pubsub),
        "master" | "replica" | "slave" => Ok(ClientType::Replication),
        _ => Err(CommandError::err(format!(
            "Unknown client type '{}'",
            String::from_utf8_lossy(text)
        ))),
    }
}

fn client_type_of(info: &ClientInfo) -> ClientType {
    if info.subscription_total() > 0 {
        ClientType::Pubsub
    } else {
        ClientType::Normal
    }
}

pub fn client_list(ctx: &mut Ctx, args: Args) -> CommandResult {
    let mut ids: Option<Vec<u64>> = None;
    let mut wanted_type: Option<ClientType> = None;
    let mut i = 2;
    while i < args.len() {
        if eq_ignore_case(&args[i], "type") && i + 1 < args.len() {
            wanted_type = Some(parse_client_type(&args[i + 1])?);
            i += 2;
        } else if eq_ignore_case(&args[i], "id") && i + 1 < args.len() {
            let mut list = ids.take().unwrap_or_default();
            i += 1;
            while i < args.len() {
                let id = crate::util::parse_i64(&args[i])
                    .filter(|v| *v > 0)
                    .ok_or_else(|| CommandError::err("Invalid client ID"))?;
                list.push(id as u64);
                i += 1;
            }
            ids = Some(list);
        } else {
            return Err(CommandError::Syntax);
        }
    }
    let mut text = String::new();
    for info in ctx.shared.clients.all() {
        if ids.as_ref().is_some_and(|ids| !ids.contains(&info.id))
            || wanted_type.is_some_and(|t| t != client_type_of(&info))
        {
            continue;
        }
        text.push_str(&describe(ctx, &info));
        text.push('\n');
    }
    ctx.reply.verbatim(&text);
    Ok(())
}

pub fn client_info(ctx: &mut Ctx, _args: Args) -> CommandResult {
    let info = ctx.client.info.clone();
    let mut text = describe(ctx, &info);
    text.push('\n');
    ctx.reply.verbatim(&text);
    Ok(())
}

pub fn client_kill(ctx: &mut Ctx, args: Args) -> CommandResult {
    if args.len() == 3 {
        // Old form: CLIENT KILL addr:port.
        let addr = String::from_utf8_lossy(&args[2]).into_owned();
        let target = ctx
            .shared
            .clients
            .all()
            .into_iter()
            .find(|c| c.addr == addr);
        return match target {
            Some(info) => {
                info.request_kill();
                ctx.reply.ok();
                Ok(())
            }
            None => Err(CommandError::err("No such client")),
        };
    }
    let mut id: Option<u64> = None;
    let mut addr: Option<String> = None;
    let mut laddr: Option<String> = None;
    let mut skip_me = true;
    let mut max_age: Option<u64> = None;
    let mut wanted_type: Option<ClientType> = None;
    let mut i = 2;
    while i + 1 < args.len() {
        let (option, value) = (&args[i], &args[i + 1]);
        let text = String::from_utf8_lossy(value).into_owned();
        if eq_ignore_case(option, "id") {
            id = Some(
                crate::util::parse_i64(value)
                    .filter(|v| *v > 0)
                    .ok_or_else(|| CommandError::err("client-id should be greater than 0"))?
                    as u64,
            );
        } else if eq_ignore_case(option, "addr") {
            addr = Some(text);
        } else if eq_ignore_case(option, "laddr") {
            laddr = Some(text);
        } else if eq_ignore_case(option, "type") {
            wanted_type = Some(parse_client_type(value)?);
        } else if eq_ignore_case(option, "user") {
            if text != "default" {
                return Err(CommandError::err(format!("No such user '{}'", text)));
            }
        } else if eq_ignore_case(option, "skipme") {
            skip_me = match text.to_lowercase().as_str() {
                "yes" => true,
                "no" => false,
                _ => return Err(CommandError::Syntax),
            };
        } else if eq_ignore_case(option, "maxage") {
            max_age = Some(parse_int(value)?.max(0) as u64);
        } else {
            return Err(CommandError::Syntax);
        }
        i += 2;
    }
    if i != args.len() {
        return Err(CommandError::Syntax);
    }
    let now = ctx.now_ms();
    let mut killed = 0;
    for info in ctx.shared.clients.all() {
        if skip_me && info.id == ctx.client.id {
            continue;
        }
        if id.is_some_and(|id| id != info.id)
            || addr.as_ref().is_some_and(|a| *a != info.addr)
            || laddr.as_ref().is_some_and(|a| *a != info.laddr)
            || max_age.is_some_and(|age| now.saturating_sub(info.created_ms) / 1000 < age)
            || wanted_type.is_some_and(|t| t != client_type_of(&info))
        {
            continue;
        }
        info.request_kill();
        killed += 1;
    }
    ctx.reply.integer(killed);
    Ok(())
}

pub fn client_setinfo(ctx: &mut Ctx, args: Args) -> CommandResult {
    let value = String::from_utf8_lossy(&args[3]).into_owned();
    if !valid_client_name(&args[3]) {
        return Err(CommandError::err(format!(
            "{} cannot contain spaces, newlines or special characters.",
            String::from_utf8_lossy(&args[2]).to_lowercase()
        )));
    }
    let value = if value.is_empty() { None } else { Some(value) };
    if eq_ignore_case(&args[2], "lib-name") {
        *ctx.client.info.lib_name.lock() = value;
    } else if eq_ignore_case(&args[2], "lib-ver") {
        *ctx.client.info.lib_ver.lock() = value;
    } else {
        return Err(CommandError::err(format!(
            "Unrecognized option '{}'",
            String::from_utf8_lossy(&args[2])
        )));
    }
    ctx.reply.ok();
    Ok(())
}

fn on_off(arg: &[u8]) -> Result<bool, CommandError> {
    if eq_ignore_case(arg, "on") {
        Ok(true)
    } else if eq_ignore_case(arg, "off") {
        Ok(false)
    } else {
        Err(CommandError::Syntax)
    }
}

pub fn client_no_evict(ctx: &mut Ctx, args: Args) -> CommandResult {
    let on = on_off(&args[2])?;
    ctx.client.info.set_flag(flags::NO_EVICT, on);
    ctx.reply.ok();
    Ok(())
}

pub fn client_no_touch(ctx: &mut Ctx, args: Args) -> CommandResult {
    let on = on_off(&args[2])?;
    ctx.client.info.set_flag(flags::NO_TOUCH, on);
    ctx.reply.ok();
    Ok(())
}

pub fn client_reply(ctx: &mut Ctx, args: Args) -> CommandResult {
    let mode = &args[2];
    if eq_ignore_case(mode, "on") {
        ctx.client.reply_mode = ReplyMode::On;
        ctx.reply.ok();
    } else if eq_ignore_case(mode, "off") {
        ctx.client.reply_mode = ReplyMode::Off;
    } else if eq_ignore_case(mode, "skip") {
        if ctx.client.reply_mode == ReplyMode::On {
            ctx.client.reply_mode = ReplyMode::Skip;
        }
    } else {
        return Err(CommandError::Syntax);
    }
    Ok(())
}

/// CLIENT UNBLOCK id [TIMEOUT|ERROR]: releases a client blocked in BLPOP
/// and friends, as if it timed out or with the UNBLOCKED error.
pub fn client_unblock(ctx: &mut Ctx, args: Args) -> CommandResult {
    let id = super::parse_int(&args[2])?;
    let error = match args.len() {
        3 => false,
        4 if eq_ignore_case(&args[3], "timeout") => false,
        4 if eq_ignore_case(&args[3], "error") => true,
        4 => {
            return Err(CommandError::err(
                "CLIENT UNBLOCK reason should be TIMEOUT or ERROR",
            ))
        }
        _ => return Err(CommandError::Syntax),
    };
    let unblocked = u64::try_from(id).is_ok_and(|id| ctx.shared.blocking.unblock(id, error));
    ctx.reply.integer(i64::from(unblocked));
    Ok(())
}

pub fn client_help(ctx: &mut Ctx, _args: Args) -> CommandResult {
    super::server::write_help(
        ctx,
        "CLIENT",
        &[
            "CACHING (YES|NO)",
            "    Enable/disable tracking of the keys for next command in OPTIN/OPTOUT modes.",
            "GETREDIR",
            "    Return the client ID we are redirecting to when tracking is enabled.",
            "GETNAME",
            "    Return the name of the current connection.",
            "ID",
            "    Return the ID of the current connection.",
            "INFO",
            "    Return information about the current client connection.",
            "KILL <ip:port>",
            "    Kill connection made from <ip:port>.",
            "KILL <option> <value> [<option> <value> [...]]",
            "    Kill connections. Options are: ID, ADDR, LADDR, TYPE, USER, SKIPME, MAXAGE.",
            "LIST [options ...]",
            "    Return information about client connections. Options: TYPE, ID.",
            "NO-EVICT (ON|OFF)",
            "    Protect current client connection from eviction.",
            "NO-TOUCH (ON|OFF)",
            "    Will not touch LRU/LFU stats when this mode is on.",
            "REPLY (ON|OFF|SKIP)",
            "    Control the replies sent to the current connection.",
            "SETNAME <name>",
            "    Assign the name <name> to the current connection.",
            "SETINFO <option> <value>",
            "    Set client meta attr. Options are: LIB-NAME, LIB-VER.",
            "UNBLOCK <clientid> [TIMEOUT|ERROR]",
            "    Unblock the specified blocked client.",
            "TRACKING (ON|OFF) [REDIRECT <id>] [BCAST] [PREFIX <prefix> [...]]",
            "         [OPTIN] [OPTOUT] [NOLOOP]",
            "    Control server assisted client side caching.",
            "TRACKINGINFO",
            "    Report tracking status for the current connection.",
        ],
    );
    Ok(())
}
