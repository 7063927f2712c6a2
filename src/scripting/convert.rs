//! Conversions as Redis documents them: a command's reply (the RESP bytes
//! cachet wrote for it) into a Lua value for `redis.call`, and a script's
//! Lua result into the client's reply.
//!
//! RESP2 to Lua: integer to number, bulk string to string, null to false,
//! array to table, status to `{ok=...}`, error to `{err=...}`. RESP3 (after
//! `redis.setresp(3)`) adds map to `{map={...}}`, set to `{set={...}}`,
//! double to `{double=n}`, null to nil, boolean to boolean.
//!
//! Lua to reply: number to integer (truncated), string to bulk, true to 1,
//! false and nil to null, `{ok=...}` to status, `{err=...}` to error, and an
//! array table to an array up to its first nil.

use crate::protocol::ReplyWriter;
use mlua::{ffi, Table, Value};

/// A reply read back from RESP bytes (cachet's own, so well formed; every
/// read is still bounded) and pushed onto a Lua stack with Lua's C API,
/// which keeps `redis.call` free of per-value handles.
struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

/// Why a reply could not be pushed (the caller answers an error instead).
#[derive(Debug)]
pub struct Unconvertible;

/// Nesting deeper than this is refused (Lua's C stack has room for it).
const MAX_DEPTH: usize = 1000;

impl<'a> Reader<'a> {
    fn line(&mut self) -> Option<&'a [u8]> {
        let rest = self.bytes.get(self.at..)?;
        let end = rest.windows(2).position(|w| w == b"\r\n")?;
        self.at += end + 2;
        Some(&rest[..end])
    }

    fn number(text: &[u8]) -> Option<i64> {
        std::str::from_utf8(text).ok()?.parse().ok()
    }

    fn bulk(&mut self, len: usize) -> Option<&'a [u8]> {
        let data = self.bytes.get(self.at..self.at.checked_add(len)?)?;
        self.at += len + 2;
        Some(data)
    }

    /// Pushes the next reply as one Lua value.
    ///
    /// # Safety
    /// `state` is a live Lua state on this thread; this may raise a Lua
    /// memory error, so the caller's frames must own nothing that needs
    /// dropping.
    unsafe fn push(
        &mut self,
        state: *mut ffi::lua_State,
        depth: usize,
    ) -> Result<(), Unconvertible> {
        if depth > MAX_DEPTH || ffi::lua_checkstack(state, 4) == 0 {
            return Err(Unconvertible);
        }
        let line = self.line().ok_or(Unconvertible)?;
        let (&kind, body) = line.split_first().ok_or(Unconvertible)?;
        match kind {
            b':' => ffi::lua_pushnumber(state, Self::number(body).ok_or(Unconvertible)? as f64),
            b'$' | b'=' => {
                let len = Self::number(body).ok_or(Unconvertible)?;
                if len < 0 {
                    ffi::lua_pushboolean(state, 0);
                    return Ok(());
                }
                let data = self.bulk(len as usize).ok_or(Unconvertible)?;
                // Verbatim strings carry a "txt:" format prefix.
                let data = if kind == b'=' && data.len() >= 4 {
                    &data[4..]
                } else {
                    data
                };
                push_bytes(state, data);
            }
            b'+' => push_field_table(state, "ok", |state| push_bytes(state, body)),
            b'-' => push_field_table(state, "err", |state| push_bytes(state, body)),
            b'*' | b'>' => {
                let len = Self::number(body).ok_or(Unconvertible)?;
                if len < 0 {
                    ffi::lua_pushboolean(state, 0);
                    return Ok(());
                }
                ffi::lua_createtable(state, len.min(1 << 16) as i32, 0);
                for i in 0..len {
                    self.push(state, depth + 1)?;
                    ffi::lua_rawseti(state, -2, (i + 1) as ffi::lua_Integer);
                }
            }
            b'~' => self.push_keyed(state, depth, body, c"set", false)?,
            b'%' => self.push_keyed(state, depth, body, c"map", true)?,
            b',' => {
                let n: f64 = std::str::from_utf8(body)
                    .ok()
                    .and_then(|t| t.parse().ok())
                    .ok_or(Unconvertible)?;
                push_field_table(state, "double", |state| ffi::lua_pushnumber(state, n));
            }
            b'_' => ffi::lua_pushnil(state),
            b'#' => ffi::lua_pushboolean(state, (body == b"t") as i32),
            b'(' => push_field_table(state, "big_number", |state| push_bytes(state, body)),
            _ => return Err(Unconvertible),
        }
        Ok(())
    }

    /// A set as `{set={member=true,...}}` or a map as `{map={key=value,...}}`.
    unsafe fn push_keyed(
        &mut self,
        state: *mut ffi::lua_State,
        depth: usize,
        body: &[u8],
        name: &std::ffi::CStr,
        with_values: bool,
    ) -> Result<(), Unconvertible> {
        let len = Self::number(body).ok_or(Unconvertible)?;
        ffi::lua_createtable(state, 0, 1);
        ffi::lua_createtable(state, 0, len.clamp(0, 1 << 16) as i32);
        for _ in 0..len.max(0) {
            self.push_key(state, depth)?;
            if with_values {
                self.push(state, depth + 1)?;
            } else {
                ffi::lua_pushboolean(state, 1);
            }
            ffi::lua_rawset(state, -3);
        }
        ffi::lua_setfield(state, -2, name.as_ptr());
        Ok(())
    }

    /// A set member or map key: a table key may be neither nil nor NaN.
    unsafe fn push_key(
        &mut self,
        state: *mut ffi::lua_State,
        depth: usize,
    ) -> Result<(), Unconvertible> {
        self.push(state, depth + 1)?;
        let key_type = ffi::lua_type(state, -1);
        let nan = key_type == ffi::LUA_TNUMBER && ffi::lua_tonumber(state, -1).is_nan();
        if key_type == ffi::LUA_TNIL || nan {
            return Err(Unconvertible);
        }
        Ok(())
    }
}

unsafe fn push_bytes(state: *mut ffi::lua_State, bytes: &[u8]) {
    ffi::lua_pushlstring(state, bytes.as_ptr() as *const _, bytes.len());
}

/// Pushes `{name = value}`, the value pushed by `value`.
unsafe fn push_field_table(
    state: *mut ffi::lua_State,
    name: &str,
    value: impl FnOnce(*mut ffi::lua_State),
) {
    ffi::lua_createtable(state, 0, 1);
    push_bytes(state, name.as_bytes());
    value(state);
    ffi::lua_rawset(state, -3);
}

/// Pushes an error reply table, `{err = text}`.
///
/// # Safety
/// As for [`push_reply`].
pub unsafe fn push_error(state: *mut ffi::lua_State, text: &str) {
    push_field_table(state, "err", |state| push_bytes(state, text.as_bytes()));
}

/// Pushes the Lua value of the one reply in `bytes`; on failure the stack
/// is as it was.
///
/// # Safety
/// `state` is a live Lua state on this thread with room for a few values;
/// this may raise a Lua memory error, so the caller's frames must own
/// nothing that needs dropping.
pub unsafe fn push_reply(state: *mut ffi::lua_State, bytes: &[u8]) -> Result<(), Unconvertible> {
    let top = ffi::lua_gettop(state);
    let pushed = Reader { bytes, at: 0 }.push(state, 0);
    if pushed.is_err() {
        ffi::lua_settop(state, top);
    }
    pushed
}

/// The text of an error reply (`{err=...}`) or a status (`{ok=...}`).
fn field(table: &Table, name: &str) -> Option<Vec<u8>> {
    match table.raw_get::<Value>(name).ok()? {
        Value::String(s) => Some(s.as_bytes().to_vec()),
        _ => None,
    }
}

/// Whether a Lua value is an error reply table, and its text.
pub fn error_of(value: &Value) -> Option<Vec<u8>> {
    match value {
        Value::Table(table) => field(table, "err"),
        _ => None,
    }
}

/// Writes a script's result as the client's reply.
pub fn lua_to_reply(reply: &mut ReplyWriter, value: &Value, depth: usize) {
    match value {
        Value::Nil => reply.null(),
        Value::Boolean(true) => reply.integer(1),
        Value::Boolean(false) => reply.null(),
        Value::Integer(n) => reply.integer(*n),
        Value::Number(n) => reply.integer(*n as i64),
        Value::String(s) => reply.bulk(&s.as_bytes()),
        Value::Table(table) => {
            if let Some(error) = field(table, "err") {
                reply.error_bytes(&error);
                return;
            }
            if let Some(status) = field(table, "ok") {
                reply.simple(&String::from_utf8_lossy(&status));
                return;
            }
            if depth > 1000 {
                reply.error("ERR reached lua stack limit");
                return;
            }
            if write_resp3_table(reply, table, depth) {
                return;
            }
            let mut items = Vec::new();
            for i in 1.. {
                match table.raw_get::<Value>(i) {
                    Ok(Value::Nil) | Err(_) => break,
                    Ok(item) => items.push(item),
                }
            }
            reply.array_len(items.len());
            for item in &items {
                lua_to_reply(reply, item, depth + 1);
            }
        }
        _ => reply.null(),
    }
}

/// The RESP3 shapes a script returns as tables (`{map=...}`, `{set=...}`,
/// `{double=...}`, `{big_number=...}`), as Redis 7.0 reads them; false
/// when `table` is none of them.
fn write_resp3_table(reply: &mut ReplyWriter, table: &mlua::Table, depth: usize) -> bool {
    if let Ok(Value::Table(map)) = table.raw_get::<Value>("map") {
        let pairs: Vec<(Value, Value)> =
            map.pairs::<Value, Value>().filter_map(Result::ok).collect();
        reply.map_len(pairs.len());
        for (key, value) in &pairs {
            lua_to_reply(reply, key, depth + 1);
            lua_to_reply(reply, value, depth + 1);
        }
        return true;
    }
    if let Ok(Value::Table(set)) = table.raw_get::<Value>("set") {
        let members: Vec<Value> = set
            .pairs::<Value, Value>()
            .filter_map(Result::ok)
            .map(|(member, _)| member)
            .collect();
        reply.set_len(members.len());
        for member in &members {
            lua_to_reply(reply, member, depth + 1);
        }
        return true;
    }
    match table.raw_get::<Value>("double") {
        Ok(Value::Number(n)) => {
            reply.double(n);
            return true;
        }
        Ok(Value::Integer(n)) => {
            reply.double(n as f64);
            return true;
        }
        _ => {}
    }
    if let Ok(Value::String(digits)) = table.raw_get::<Value>("big_number") {
        reply.big_number(&digits.to_string_lossy());
        return true;
    }
    false
}
