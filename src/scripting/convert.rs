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
use mlua::{Lua, Table, Value};

/// A reply read back from RESP bytes (cachet's own, so well formed; every
/// read is still bounded).
struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

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

    fn value(&mut self, lua: &Lua, depth: usize) -> mlua::Result<Value> {
        let bad = || mlua::Error::RuntimeError("cannot convert the command's reply".into());
        if depth > 1000 {
            return Err(bad());
        }
        let line = self.line().ok_or_else(bad)?;
        let (&kind, body) = line.split_first().ok_or_else(bad)?;
        let text = |lua: &Lua, bytes: &[u8]| lua.create_string(bytes).map(Value::String);
        match kind {
            b':' => Ok(Value::Integer(Self::number(body).ok_or_else(bad)?)),
            b'$' | b'=' => {
                let len = Self::number(body).ok_or_else(bad)?;
                if len < 0 {
                    return Ok(Value::Boolean(false));
                }
                let len = len as usize;
                let data = self.bytes.get(self.at..self.at + len).ok_or_else(bad)?;
                self.at += len + 2;
                // Verbatim strings carry a "txt:" format prefix.
                let data = if kind == b'=' && data.len() >= 4 {
                    &data[4..]
                } else {
                    data
                };
                text(lua, data)
            }
            b'+' => {
                let table = lua.create_table()?;
                table.set("ok", lua.create_string(body)?)?;
                Ok(Value::Table(table))
            }
            b'-' => {
                let table = lua.create_table()?;
                table.set("err", lua.create_string(body)?)?;
                Ok(Value::Table(table))
            }
            b'*' | b'~' | b'>' => {
                let len = Self::number(body).ok_or_else(bad)?;
                if len < 0 {
                    return Ok(Value::Boolean(false));
                }
                let items = lua.create_table()?;
                for i in 0..len {
                    let item = self.value(lua, depth + 1)?;
                    if kind == b'~' {
                        items.set(item, true)?;
                    } else {
                        items.raw_set(i + 1, item)?;
                    }
                }
                if kind == b'~' {
                    let wrapper = lua.create_table()?;
                    wrapper.set("set", items)?;
                    return Ok(Value::Table(wrapper));
                }
                Ok(Value::Table(items))
            }
            b'%' => {
                let len = Self::number(body).ok_or_else(bad)?;
                let map = lua.create_table()?;
                for _ in 0..len.max(0) {
                    let key = self.value(lua, depth + 1)?;
                    let value = self.value(lua, depth + 1)?;
                    map.set(key, value)?;
                }
                let wrapper = lua.create_table()?;
                wrapper.set("map", map)?;
                Ok(Value::Table(wrapper))
            }
            b',' => {
                let n: f64 = std::str::from_utf8(body)
                    .ok()
                    .and_then(|t| t.parse().ok())
                    .ok_or_else(bad)?;
                let wrapper = lua.create_table()?;
                wrapper.set("double", n)?;
                Ok(Value::Table(wrapper))
            }
            b'_' => Ok(Value::Nil),
            b'#' => Ok(Value::Boolean(body == b"t")),
            b'(' => {
                let wrapper = lua.create_table()?;
                wrapper.set("big_number", lua.create_string(body)?)?;
                Ok(Value::Table(wrapper))
            }
            _ => Err(bad()),
        }
    }
}

/// The Lua value of one reply in `bytes`.
pub fn reply_to_lua(lua: &Lua, bytes: &[u8]) -> mlua::Result<Value> {
    Reader { bytes, at: 0 }.value(lua, 0)
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
