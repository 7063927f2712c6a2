//! The data libraries Redis 7.0 gives scripts besides `bit`: `cjson`
//! (lua-cjson 2.1.0), `cmsgpack` (lua-cmsgpack 0.4.0) and `struct`
//! (lstruct), written in Rust to behave as Redis's bundled C libraries do,
//! error messages included.
//!
//! What it owns: the three global tables, the `cjson` settings (one set per
//! module table, as the C library keeps one per `cjson.new()`), and the
//! byte-level encoders and decoders. What it must not touch: the rest of
//! the sandbox (global protection, `redis`, `bit`, `math`), the script
//! cache, and anything outside the Lua state it is handed.
//!
//! Script input is hostile: every read is bounds-checked, and every
//! recursion is bounded (`HARD_DEPTH`), so bad input gives a Lua error,
//! never a panic or a stack overflow.

use mlua::{IntoLuaMulti, Lua, LuaString, MultiValue, Table, Value};
use parking_lot::Mutex;
use std::sync::Arc;

/// Sets the globals `cjson`, `cmsgpack` and `struct`.
pub fn register(lua: &Lua) -> mlua::Result<()> {
    let globals = lua.globals();
    globals.raw_set("cjson", cjson_module(lua)?)?;
    globals.raw_set("cmsgpack", cmsgpack_module(lua)?)?;
    globals.raw_set("struct", struct_module(lua)?)?;
    Ok(())
}

// ===== Shared helpers =====

/// The deepest nesting any encoder or decoder here follows. The C
/// libraries stop where Lua 5.1's C stack (8000 slots) runs out; this keeps
/// the Rust stack and mlua's reference stack well inside their limits.
const HARD_DEPTH: usize = 1000;

/// Results one call may return: Lua 5.1's C stack holds 8000 slots.
const MAX_RESULTS: usize = 7990;

#[inline(never)]
fn runtime(text: impl Into<String>) -> mlua::Error {
    mlua::Error::RuntimeError(text.into())
}

/// `lua_typename` as Lua 5.1 spells it.
fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Nil => "nil",
        Value::Boolean(_) => "boolean",
        Value::Integer(_) | Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Table(_) => "table",
        Value::Function(_) => "function",
        Value::Thread(_) => "thread",
        _ => "userdata",
    }
}

/// `luaL_argerror`'s message.
fn bad_argument(n: usize, function: &str, message: &str) -> mlua::Error {
    runtime(format!("bad argument #{n} to '{function}' ({message})"))
}

fn type_error(args: &[Value], n: usize, function: &str, expected: &str) -> mlua::Error {
    let got = args.get(n - 1).map(type_name).unwrap_or("no value");
    bad_argument(n, function, &format!("{expected} expected, got {got}"))
}

fn is_absent(args: &[Value], n: usize) -> bool {
    matches!(args.get(n - 1), None | Some(Value::Nil))
}

/// `luaL_checklstring`: a string, or a number converted as Lua does.
fn check_string(lua: &Lua, args: &[Value], n: usize, function: &str) -> mlua::Result<LuaString> {
    let value = args.get(n - 1).cloned().unwrap_or(Value::Nil);
    lua.coerce_string(value)?
        .ok_or_else(|| type_error(args, n, function, "string"))
}

/// `luaL_checknumber`: a number, or a string Lua reads as one.
fn check_number(lua: &Lua, args: &[Value], n: usize, function: &str) -> mlua::Result<f64> {
    let value = args.get(n - 1).cloned().unwrap_or(Value::Nil);
    lua.coerce_number(value)?
        .ok_or_else(|| type_error(args, n, function, "number"))
}

/// `luaL_checkinteger`: the number truncated, as `lua_tointeger` does.
fn check_integer(lua: &Lua, args: &[Value], n: usize, function: &str) -> mlua::Result<i64> {
    check_number(lua, args, n, function).map(|number| number as i64)
}

/// `luaL_optinteger`.
fn opt_integer(
    lua: &Lua,
    args: &[Value],
    n: usize,
    function: &str,
    default: i64,
) -> mlua::Result<i64> {
    if is_absent(args, n) {
        Ok(default)
    } else {
        check_integer(lua, args, n, function)
    }
}

/// Table access kept out of the recursive encoders' and decoders' frames.
#[inline(never)]
fn raw_get_index(table: &Table, i: i64) -> mlua::Result<Value> {
    table.raw_get(i)
}

#[inline(never)]
fn raw_set_pair(table: &Table, key: Value, value: Value) -> mlua::Result<()> {
    table.raw_set(key, value)
}

#[inline(never)]
fn new_table(lua: &Lua) -> mlua::Result<Table> {
    lua.create_table()
}

fn number_of(value: &Value) -> Option<f64> {
    match value {
        Value::Integer(i) => Some(*i as f64),
        Value::Number(n) => Some(*n),
        _ => None,
    }
}

/// C's `printf("%.<precision>g", n)`, glibc's spelling of inf and nan.
fn format_g(n: f64, precision: usize) -> String {
    if n.is_nan() {
        return if n.is_sign_negative() { "-nan" } else { "nan" }.into();
    }
    if n.is_infinite() {
        return if n < 0.0 { "-inf" } else { "inf" }.into();
    }
    if n == 0.0 {
        return if n.is_sign_negative() { "-0" } else { "0" }.into();
    }
    let precision = precision.max(1);
    let scientific = format!("{:.*e}", precision - 1, n);
    let (mantissa, exponent) = match scientific.split_once('e') {
        Some((m, e)) => (m, e.parse::<i32>().unwrap_or(0)),
        None => (scientific.as_str(), 0),
    };
    if exponent < -4 || exponent >= precision as i32 {
        let sign = if exponent < 0 { '-' } else { '+' };
        format!(
            "{}e{}{:02}",
            strip_fraction_zeros(mantissa),
            sign,
            exponent.unsigned_abs()
        )
    } else {
        let decimals = (precision as i32 - 1 - exponent).max(0) as usize;
        strip_fraction_zeros(&format!("{:.*}", decimals, n)).to_string()
    }
}

fn strip_fraction_zeros(text: &str) -> &str {
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.')
    } else {
        text
    }
}

fn starts_with_ignore_case(text: &[u8], prefix: &[u8]) -> bool {
    text.len() >= prefix.len() && text[..prefix.len()].eq_ignore_ascii_case(prefix)
}

/// glibc's `strtod` on `text`: the value and how many bytes it read (0
/// when no number starts there). Reads decimal and hexadecimal numbers,
/// `inf`, `infinity` and `nan(...)`, with an optional sign.
fn strtod(text: &[u8]) -> (f64, usize) {
    let (negative, start) = match text.first() {
        Some(b'-') => (true, 1),
        Some(b'+') => (false, 1),
        _ => (false, 0),
    };
    let rest = &text[start..];
    let signed = |v: f64| if negative { -v } else { v };
    if starts_with_ignore_case(rest, b"inf") {
        let len = if starts_with_ignore_case(rest, b"infinity") {
            8
        } else {
            3
        };
        return (signed(f64::INFINITY), start + len);
    }
    if starts_with_ignore_case(rest, b"nan") {
        return (signed(f64::NAN), start + nan_length(rest));
    }
    if let Some((value, len)) = strtod_hex(rest) {
        return (signed(value), start + len);
    }
    match decimal_length(rest) {
        0 => (0.0, 0),
        len => {
            let value = std::str::from_utf8(&rest[..len])
                .ok()
                .and_then(|digits| digits.parse::<f64>().ok())
                .unwrap_or(0.0);
            (signed(value), start + len)
        }
    }
}

/// Length of `nan` or `nan(chars)` at the start of `text`.
fn nan_length(text: &[u8]) -> usize {
    if text.get(3) != Some(&b'(') {
        return 3;
    }
    let body = text[4..]
        .iter()
        .take_while(|b| b.is_ascii_alphanumeric() || **b == b'_')
        .count();
    if text.get(4 + body) == Some(&b')') {
        body + 5
    } else {
        3
    }
}

fn count_digits(text: &[u8], from: usize, hex: bool) -> usize {
    text.get(from..)
        .unwrap_or(&[])
        .iter()
        .take_while(|b| {
            if hex {
                b.is_ascii_hexdigit()
            } else {
                b.is_ascii_digit()
            }
        })
        .count()
}

/// Length of an exponent (`e12`, `p-3`) at `at`, or 0 when none is there.
fn exponent_length(text: &[u8], at: usize, marker: u8) -> usize {
    if text.get(at).map(|b| b.to_ascii_lowercase()) != Some(marker) {
        return 0;
    }
    let sign = usize::from(matches!(text.get(at + 1), Some(b'+' | b'-')));
    match count_digits(text, at + 1 + sign, false) {
        0 => 0,
        digits => 1 + sign + digits,
    }
}

/// Length of an unsigned decimal number at the start of `text`.
fn decimal_length(text: &[u8]) -> usize {
    let whole = count_digits(text, 0, false);
    let mut len = whole;
    let mut fraction = 0;
    if text.get(len) == Some(&b'.') {
        fraction = count_digits(text, len + 1, false);
        if whole + fraction > 0 {
            len += 1 + fraction;
        }
    }
    if whole + fraction == 0 {
        return 0;
    }
    len + exponent_length(text, len, b'e')
}

/// An unsigned hexadecimal float (`0x1.8p3`) at the start of `text`.
fn strtod_hex(text: &[u8]) -> Option<(f64, usize)> {
    if text.first() != Some(&b'0') || !matches!(text.get(1), Some(b'x' | b'X')) {
        return None;
    }
    let whole = count_digits(text, 2, true);
    let mut len = 2 + whole;
    let mut fraction = 0;
    if text.get(len) == Some(&b'.') {
        fraction = count_digits(text, len + 1, true);
        len += 1;
    }
    if whole + fraction == 0 {
        return None; // only the "0" is a number
    }
    len += fraction;
    let (mut mantissa, mut exponent) = (0u64, 0i64);
    for (i, b) in text[2..len].iter().enumerate() {
        let Some(digit) = (*b as char).to_digit(16) else {
            continue; // the point
        };
        if mantissa < (1 << 60) {
            mantissa = mantissa * 16 + digit as u64;
            if i > whole {
                exponent -= 4;
            }
        } else if i < whole {
            exponent += 4;
        }
    }
    let exponent_len = exponent_length(text, len, b'p');
    if exponent_len > 0 {
        let digits = &text[len + 1..len + exponent_len];
        let value = std::str::from_utf8(digits)
            .ok()
            .and_then(|d| d.parse::<i64>().ok())
            .unwrap_or(if digits.first() == Some(&b'-') {
                -100_000
            } else {
                100_000
            });
        exponent = exponent.saturating_add(value.clamp(-100_000, 100_000));
    }
    Some((
        scale_by_power_of_two(mantissa as f64, exponent),
        len + exponent_len,
    ))
}

fn scale_by_power_of_two(mut value: f64, mut exponent: i64) -> f64 {
    while exponent != 0 && value != 0.0 && value.is_finite() {
        let step = exponent.clamp(-1000, 1000);
        value *= 2f64.powi(step as i32);
        exponent -= step;
    }
    value
}

// ===== cjson =====

/// One `cjson` table's settings (`json_config_t`). Enumerated settings
/// keep the C library's numbering: 0 off, 1 on, 2 "null".
#[derive(Clone, Copy, Debug)]
struct JsonConfig {
    sparse_convert: u8,
    sparse_ratio: i32,
    sparse_safe: i32,
    encode_max_depth: i32,
    decode_max_depth: i32,
    encode_invalid_numbers: u8,
    decode_invalid_numbers: u8,
    encode_keep_buffer: u8,
    number_precision: i32,
}

impl Default for JsonConfig {
    fn default() -> Self {
        JsonConfig {
            sparse_convert: 0,
            sparse_ratio: 2,
            sparse_safe: 10,
            encode_max_depth: 1000,
            decode_max_depth: 1000,
            encode_invalid_numbers: 0,
            decode_invalid_numbers: 1,
            encode_keep_buffer: 1,
            number_precision: 14,
        }
    }
}

impl JsonConfig {
    fn encode_depth_limit(&self) -> usize {
        (self.encode_max_depth.max(1) as usize).min(HARD_DEPTH)
    }

    fn decode_depth_limit(&self) -> usize {
        (self.decode_max_depth.max(1) as usize).min(HARD_DEPTH)
    }
}

type JsonSettings = Arc<Mutex<JsonConfig>>;
type JsonFunction<R> = fn(&Lua, &JsonSettings, &[Value]) -> mlua::Result<R>;

const BOOL_OPTIONS: &[&str] = &["off", "on"];

/// A `cjson` table with settings of its own (`cjson.new()` makes another).
fn cjson_module(lua: &Lua) -> mlua::Result<Table> {
    let settings: JsonSettings = Arc::new(Mutex::new(JsonConfig::default()));
    let module = lua.create_table()?;
    let s = &settings;
    add_json_function(lua, &module, s, "encode", json_encode)?;
    add_json_function(lua, &module, s, "decode", json_decode)?;
    add_json_function(lua, &module, s, "encode_sparse_array", cfg_sparse_array)?;
    add_json_function(lua, &module, s, "encode_max_depth", cfg_encode_max_depth)?;
    add_json_function(lua, &module, s, "decode_max_depth", cfg_decode_max_depth)?;
    add_json_function(lua, &module, s, "encode_number_precision", cfg_precision)?;
    add_json_function(lua, &module, s, "encode_keep_buffer", cfg_keep_buffer)?;
    add_json_function(
        lua,
        &module,
        s,
        "encode_invalid_numbers",
        cfg_encode_invalid,
    )?;
    add_json_function(
        lua,
        &module,
        s,
        "decode_invalid_numbers",
        cfg_decode_invalid,
    )?;
    module.raw_set(
        "new",
        lua.create_function(|lua, _: MultiValue| cjson_module(lua))?,
    )?;
    module.raw_set("null", Value::NULL)?;
    module.raw_set("_NAME", "cjson")?;
    module.raw_set("_VERSION", "2.1.0")?;
    Ok(module)
}

fn add_json_function<R: IntoLuaMulti + 'static>(
    lua: &Lua,
    module: &Table,
    settings: &JsonSettings,
    name: &'static str,
    function: JsonFunction<R>,
) -> mlua::Result<()> {
    let settings = settings.clone();
    let callback = lua
        .create_function(move |lua, args: MultiValue| function(lua, &settings, &args.into_vec()))?;
    module.raw_set(name, callback)
}

/// `json_arg_init`: at most `count` arguments.
fn check_arg_count(args: &[Value], count: usize, function: &str) -> mlua::Result<()> {
    if args.len() > count {
        return Err(bad_argument(
            count + 1,
            function,
            "found too many arguments",
        ));
    }
    Ok(())
}

/// `json_integer_option`: sets `setting` from argument `n` when given, and
/// returns the setting. (The C library reports a range error as argument
/// #1 whichever argument it was.)
fn integer_option(
    lua: &Lua,
    args: &[Value],
    n: usize,
    function: &str,
    setting: &mut i32,
    range: (i32, i32),
) -> mlua::Result<Value> {
    if !is_absent(args, n) {
        let value = check_integer(lua, args, n, function)? as i32;
        if value < range.0 || value > range.1 {
            let message = format!("expected integer between {} and {}", range.0, range.1);
            return Err(bad_argument(1, function, &message));
        }
        *setting = value;
    }
    Ok(Value::Integer(*setting as i64))
}

/// `json_enum_option`: a boolean or one of `options` sets `setting`; the
/// result is a boolean for off/on, else the option's name.
fn enum_option(
    lua: &Lua,
    args: &[Value],
    n: usize,
    function: &str,
    setting: &mut u8,
    options: &[&str],
) -> mlua::Result<Value> {
    match args.get(n - 1) {
        None | Some(Value::Nil) => {}
        Some(Value::Boolean(on)) => *setting = u8::from(*on),
        Some(_) => {
            let name = check_string(lua, args, n, function)?;
            let name = name.as_bytes();
            match options.iter().position(|o| o.as_bytes() == &name[..]) {
                Some(index) => *setting = index as u8,
                None => {
                    let text = format!("invalid option '{}'", String::from_utf8_lossy(&name));
                    return Err(bad_argument(n, function, &text));
                }
            }
        }
    }
    match options.get(*setting as usize) {
        Some(name) if *setting > 1 => Ok(Value::String(lua.create_string(name)?)),
        _ => Ok(Value::Boolean(*setting == 1)),
    }
}

fn cfg_sparse_array(
    lua: &Lua,
    settings: &JsonSettings,
    args: &[Value],
) -> mlua::Result<MultiValue> {
    let name = "encode_sparse_array";
    check_arg_count(args, 3, name)?;
    let mut cfg = settings.lock();
    let convert = enum_option(lua, args, 1, name, &mut cfg.sparse_convert, BOOL_OPTIONS)?;
    let range = (0, i32::MAX);
    let ratio = integer_option(lua, args, 2, name, &mut cfg.sparse_ratio, range)?;
    let safe = integer_option(lua, args, 3, name, &mut cfg.sparse_safe, range)?;
    Ok(MultiValue::from_vec(vec![convert, ratio, safe]))
}

fn cfg_encode_max_depth(lua: &Lua, settings: &JsonSettings, args: &[Value]) -> mlua::Result<Value> {
    let name = "encode_max_depth";
    check_arg_count(args, 1, name)?;
    let mut cfg = settings.lock();
    integer_option(lua, args, 1, name, &mut cfg.encode_max_depth, (1, i32::MAX))
}

fn cfg_decode_max_depth(lua: &Lua, settings: &JsonSettings, args: &[Value]) -> mlua::Result<Value> {
    let name = "decode_max_depth";
    check_arg_count(args, 1, name)?;
    let mut cfg = settings.lock();
    integer_option(lua, args, 1, name, &mut cfg.decode_max_depth, (1, i32::MAX))
}

fn cfg_precision(lua: &Lua, settings: &JsonSettings, args: &[Value]) -> mlua::Result<Value> {
    let name = "encode_number_precision";
    check_arg_count(args, 1, name)?;
    let mut cfg = settings.lock();
    integer_option(lua, args, 1, name, &mut cfg.number_precision, (1, 14))
}

fn cfg_keep_buffer(lua: &Lua, settings: &JsonSettings, args: &[Value]) -> mlua::Result<Value> {
    let name = "encode_keep_buffer";
    check_arg_count(args, 1, name)?;
    let mut cfg = settings.lock();
    enum_option(
        lua,
        args,
        1,
        name,
        &mut cfg.encode_keep_buffer,
        BOOL_OPTIONS,
    )
}

fn cfg_encode_invalid(lua: &Lua, settings: &JsonSettings, args: &[Value]) -> mlua::Result<Value> {
    let name = "encode_invalid_numbers";
    check_arg_count(args, 1, name)?;
    let mut cfg = settings.lock();
    let options = &["off", "on", "null"];
    enum_option(lua, args, 1, name, &mut cfg.encode_invalid_numbers, options)
}

fn cfg_decode_invalid(lua: &Lua, settings: &JsonSettings, args: &[Value]) -> mlua::Result<Value> {
    let name = "decode_invalid_numbers";
    check_arg_count(args, 1, name)?;
    let mut cfg = settings.lock();
    enum_option(
        lua,
        args,
        1,
        name,
        &mut cfg.decode_invalid_numbers,
        BOOL_OPTIONS,
    )
}

// ----- cjson encoding -----

#[inline(never)]
fn cannot_serialise(type_name: &str, reason: &str) -> mlua::Error {
    runtime(format!("Cannot serialise {type_name}: {reason}"))
}

fn json_encode(lua: &Lua, settings: &JsonSettings, args: &[Value]) -> mlua::Result<LuaString> {
    let [value] = args else {
        return Err(bad_argument(1, "encode", "expected 1 argument"));
    };
    let cfg = *settings.lock();
    let mut encoder = JsonEncoder {
        cfg,
        max_depth: cfg.encode_depth_limit(),
        out: Vec::new(),
    };
    encoder.value(value, 0)?;
    lua.create_string(&encoder.out)
}

struct JsonEncoder {
    cfg: JsonConfig,
    max_depth: usize,
    out: Vec<u8>,
}

impl JsonEncoder {
    fn value(&mut self, value: &Value, depth: usize) -> mlua::Result<()> {
        match value {
            Value::String(s) => self.string(&s.as_bytes()),
            Value::Integer(i) => self.number(*i as f64)?,
            Value::Number(n) => self.number(*n)?,
            Value::Boolean(true) => self.out.extend_from_slice(b"true"),
            Value::Boolean(false) => self.out.extend_from_slice(b"false"),
            Value::Table(table) => self.table(table, depth + 1)?,
            Value::Nil => self.out.extend_from_slice(b"null"),
            Value::LightUserData(p) if p.0.is_null() => self.out.extend_from_slice(b"null"),
            other => return Err(cannot_serialise(type_name(other), "type not supported")),
        }
        Ok(())
    }

    /// Escapes as lua-cjson does: control characters, `"`, `\`, `/` and
    /// DEL; every other byte, UTF-8 or not, passes through.
    #[inline(never)]
    fn string(&mut self, bytes: &[u8]) {
        self.out.reserve(bytes.len() + 2);
        self.out.push(b'"');
        for &b in bytes {
            match b {
                b'"' => self.out.extend_from_slice(b"\\\""),
                b'\\' => self.out.extend_from_slice(b"\\\\"),
                b'/' => self.out.extend_from_slice(b"\\/"),
                0x08 => self.out.extend_from_slice(b"\\b"),
                b'\t' => self.out.extend_from_slice(b"\\t"),
                b'\n' => self.out.extend_from_slice(b"\\n"),
                0x0c => self.out.extend_from_slice(b"\\f"),
                b'\r' => self.out.extend_from_slice(b"\\r"),
                0..=0x1f | 0x7f => self
                    .out
                    .extend_from_slice(format!("\\u{:04x}", b).as_bytes()),
                _ => self.out.push(b),
            }
        }
        self.out.push(b'"');
    }

    #[inline(never)]
    fn number(&mut self, n: f64) -> mlua::Result<()> {
        match self.cfg.encode_invalid_numbers {
            0 if !n.is_finite() => {
                return Err(cannot_serialise("number", "must not be NaN or Inf"));
            }
            1 if n.is_nan() => {
                self.out.extend_from_slice(b"nan");
                return Ok(());
            }
            2 if !n.is_finite() => {
                self.out.extend_from_slice(b"null");
                return Ok(());
            }
            _ => {}
        }
        let precision = self.cfg.number_precision.clamp(1, 14) as usize;
        self.out
            .extend_from_slice(format_g(n, precision).as_bytes());
        Ok(())
    }

    fn table(&mut self, table: &Table, depth: usize) -> mlua::Result<()> {
        if depth > self.max_depth {
            return Err(runtime(format!(
                "Cannot serialise, excessive nesting ({depth})"
            )));
        }
        match json_array_length(table, &self.cfg)? {
            length if length > 0 => self.array(table, length, depth),
            _ => self.object(table, depth),
        }
    }

    fn array(&mut self, table: &Table, length: i64, depth: usize) -> mlua::Result<()> {
        self.out.push(b'[');
        for i in 1..=length {
            if i > 1 {
                self.out.push(b',');
            }
            let item = raw_get_index(table, i)?;
            self.value(&item, depth)?;
        }
        self.out.push(b']');
        Ok(())
    }

    fn object(&mut self, table: &Table, depth: usize) -> mlua::Result<()> {
        self.out.push(b'{');
        let mut first = true;
        for pair in table.pairs::<Value, Value>() {
            let (key, item) = pair?;
            if !first {
                self.out.push(b',');
            }
            first = false;
            match &key {
                Value::String(s) => {
                    self.string(&s.as_bytes());
                    self.out.push(b':');
                }
                other => match number_of(other) {
                    Some(n) => {
                        self.out.push(b'"');
                        self.number(n)?;
                        self.out.extend_from_slice(b"\":");
                    }
                    None => {
                        let reason = "table key must be a number or string";
                        return Err(cannot_serialise(type_name(other), reason));
                    }
                },
            }
            self.value(&item, depth)?;
        }
        self.out.push(b'}');
        Ok(())
    }
}

/// C's `(int)k` on x86-64: out of range gives `INT_MIN`.
fn c_int(k: f64) -> i32 {
    if k >= i32::MIN as f64 && k < 2_147_483_648.0 {
        k as i32
    } else {
        i32::MIN
    }
}

/// `lua_array_length`: the array's length when every key is an integer
/// >= 1 and the array is not too sparse, else -1 (encode as an object).
#[inline(never)]
fn json_array_length(table: &Table, cfg: &JsonConfig) -> mlua::Result<i64> {
    let mut max: i32 = 0;
    let mut items: i32 = 0;
    for pair in table.pairs::<Value, Value>() {
        let (key, _) = pair?;
        match number_of(&key) {
            Some(k) if k != 0.0 && k.floor() == k && k >= 1.0 => {
                if k > max as f64 {
                    max = c_int(k);
                }
                items = items.wrapping_add(1);
            }
            _ => return Ok(-1),
        }
    }
    if cfg.sparse_ratio > 0 && max > items.wrapping_mul(cfg.sparse_ratio) && max > cfg.sparse_safe {
        if cfg.sparse_convert == 0 {
            return Err(cannot_serialise("table", "excessively sparse array"));
        }
        return Ok(-1);
    }
    Ok(max as i64)
}

// ----- cjson decoding -----

fn json_decode(lua: &Lua, settings: &JsonSettings, args: &[Value]) -> mlua::Result<Value> {
    if args.len() != 1 {
        return Err(bad_argument(1, "decode", "expected 1 argument"));
    }
    let cfg = *settings.lock();
    let text = check_string(lua, args, 1, "decode")?;
    let bytes = text.as_bytes();
    if bytes.len() >= 2 && (bytes[0] == 0 || bytes[1] == 0) {
        return Err(runtime("JSON parser does not support UTF-16 or UTF-32"));
    }
    // The C parser reads a NUL-terminated string: a NUL ends the text.
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    let mut parser = JsonParser {
        data: &bytes[..end],
        pos: 0,
        depth: 0,
        max_depth: cfg.decode_depth_limit(),
        invalid_numbers: cfg.decode_invalid_numbers != 0,
    };
    let token = parser.next_token();
    let value = parser.value(lua, token)?;
    let token = parser.next_token();
    if !matches!(token.kind, TokenKind::End) {
        return Err(parse_error("the end", &token));
    }
    Ok(value)
}

enum TokenKind {
    ObjectBegin,
    ObjectEnd,
    ArrayBegin,
    ArrayEnd,
    String(Vec<u8>),
    Number(f64),
    Boolean(bool),
    Null,
    Colon,
    Comma,
    End,
    Error(&'static str),
}

struct Token {
    kind: TokenKind,
    /// 0-based offset of the token (of the fault, for errors).
    index: usize,
}

impl Token {
    /// What a parse error says was found: the C token name or the fault.
    fn found(&self) -> &'static str {
        match self.kind {
            TokenKind::ObjectBegin => "T_OBJ_BEGIN",
            TokenKind::ObjectEnd => "T_OBJ_END",
            TokenKind::ArrayBegin => "T_ARR_BEGIN",
            TokenKind::ArrayEnd => "T_ARR_END",
            TokenKind::String(_) => "T_STRING",
            TokenKind::Number(_) => "T_NUMBER",
            TokenKind::Boolean(_) => "T_BOOLEAN",
            TokenKind::Null => "T_NULL",
            TokenKind::Colon => "T_COLON",
            TokenKind::Comma => "T_COMMA",
            TokenKind::End => "T_END",
            TokenKind::Error(message) => message,
        }
    }
}

#[inline(never)]
fn parse_error(expected: &str, token: &Token) -> mlua::Error {
    runtime(format!(
        "Expected {expected} but found {} at character {}",
        token.found(),
        token.index + 1
    ))
}

struct JsonParser<'a> {
    data: &'a [u8],
    pos: usize,
    depth: usize,
    max_depth: usize,
    invalid_numbers: bool,
}

impl JsonParser<'_> {
    /// The byte at `i`; past the end reads as the terminating NUL.
    fn at(&self, i: usize) -> u8 {
        self.data.get(i).copied().unwrap_or(0)
    }

    fn rest(&self) -> &[u8] {
        self.data.get(self.pos..).unwrap_or(&[])
    }

    fn error_here(&self, message: &'static str) -> Token {
        Token {
            kind: TokenKind::Error(message),
            index: self.pos,
        }
    }

    #[inline(never)]
    fn next_token(&mut self) -> Token {
        while matches!(self.at(self.pos), b' ' | b'\t' | b'\n' | b'\r') {
            self.pos += 1;
        }
        let index = self.pos;
        let single = match self.at(index) {
            0 => {
                return Token {
                    kind: TokenKind::End,
                    index,
                }
            }
            b'{' => TokenKind::ObjectBegin,
            b'}' => TokenKind::ObjectEnd,
            b'[' => TokenKind::ArrayBegin,
            b']' => TokenKind::ArrayEnd,
            b',' => TokenKind::Comma,
            b':' => TokenKind::Colon,
            b'"' => return self.string_token(index),
            b'-' | b'0'..=b'9' => {
                if !self.invalid_numbers && self.is_invalid_number() {
                    return self.error_here("invalid number");
                }
                return self.number_token(index);
            }
            b't' | b'f' | b'n' | b'i' | b'I' | b'N' | b'+' => return self.word_token(index),
            _ => return self.error_here("invalid token"),
        };
        self.pos += 1;
        Token {
            kind: single,
            index,
        }
    }

    fn word_token(&mut self, index: usize) -> Token {
        let words: [(&[u8], TokenKind); 3] = [
            (b"true", TokenKind::Boolean(true)),
            (b"false", TokenKind::Boolean(false)),
            (b"null", TokenKind::Null),
        ];
        for (word, kind) in words {
            if self.rest().starts_with(word) {
                self.pos += word.len();
                return Token { kind, index };
            }
        }
        if self.invalid_numbers && self.is_invalid_number() {
            return self.number_token(index);
        }
        self.error_here("invalid token")
    }

    /// `json_is_invalid_number`: numbers `strtod` reads but JSON forbids
    /// (a leading `+` or zero, hex, inf, nan).
    fn is_invalid_number(&self) -> bool {
        let mut p = self.pos;
        if self.at(p) == b'+' {
            return true;
        }
        if self.at(p) == b'-' {
            p += 1;
        }
        let ch = self.at(p);
        if ch == b'0' {
            let next = self.at(p + 1);
            return next | 0x20 == b'x' || next.is_ascii_digit();
        }
        if ch <= b'9' {
            return false;
        }
        let tail = self.data.get(p..).unwrap_or(&[]);
        starts_with_ignore_case(tail, b"inf") || starts_with_ignore_case(tail, b"nan")
    }

    fn number_token(&mut self, index: usize) -> Token {
        match strtod(self.rest()) {
            (_, 0) => self.error_here("invalid number"),
            (value, used) => {
                self.pos += used;
                Token {
                    kind: TokenKind::Number(value),
                    index,
                }
            }
        }
    }

    fn string_token(&mut self, index: usize) -> Token {
        self.pos += 1;
        let mut text = Vec::new();
        loop {
            let ch = self.at(self.pos);
            match ch {
                b'"' => break,
                0 => return self.error_here("unexpected end of string"),
                b'\\' => {
                    let plain = match self.at(self.pos + 1) {
                        b'"' => b'"',
                        b'\\' => b'\\',
                        b'/' => b'/',
                        b'b' => 0x08,
                        b't' => b'\t',
                        b'n' => b'\n',
                        b'f' => 0x0c,
                        b'r' => b'\r',
                        b'u' => {
                            if self.unicode_escape(&mut text) {
                                continue;
                            }
                            return self.error_here("invalid unicode escape code");
                        }
                        _ => return self.error_here("invalid escape code"),
                    };
                    text.push(plain);
                    self.pos += 2;
                }
                _ => {
                    text.push(ch);
                    self.pos += 1;
                }
            }
        }
        self.pos += 1;
        Token {
            kind: TokenKind::String(text),
            index,
        }
    }

    fn hex4(&self, at: usize) -> Option<u32> {
        (0..4).try_fold(0u32, |acc, i| {
            let digit = (self.at(at + i) as char).to_digit(16)?;
            Some(acc << 4 | digit)
        })
    }

    /// `\uXXXX` (or a surrogate pair) at `pos`, appended as UTF-8.
    fn unicode_escape(&mut self, text: &mut Vec<u8>) -> bool {
        let Some(mut codepoint) = self.hex4(self.pos + 2) else {
            return false;
        };
        let mut length = 6;
        if codepoint & 0xF800 == 0xD800 {
            if codepoint & 0x400 != 0 {
                return false; // a low surrogate first
            }
            if self.at(self.pos + 6) != b'\\' || self.at(self.pos + 7) != b'u' {
                return false;
            }
            let Some(low) = self.hex4(self.pos + 8) else {
                return false;
            };
            if low & 0xFC00 != 0xDC00 {
                return false;
            }
            codepoint = (((codepoint & 0x3FF) << 10) | (low & 0x3FF)) + 0x10000;
            length = 12;
        }
        push_utf8(text, codepoint);
        self.pos += length;
        true
    }

    fn descend(&mut self) -> mlua::Result<()> {
        self.depth += 1;
        if self.depth > self.max_depth {
            return Err(runtime(format!(
                "Found too many nested data structures ({}) at character {}",
                self.depth, self.pos
            )));
        }
        Ok(())
    }

    fn value(&mut self, lua: &Lua, token: Token) -> mlua::Result<Value> {
        match token.kind {
            TokenKind::String(text) => Ok(Value::String(lua.create_string(&text)?)),
            TokenKind::Number(n) => Ok(Value::Number(n)),
            TokenKind::Boolean(b) => Ok(Value::Boolean(b)),
            TokenKind::Null => Ok(Value::NULL),
            TokenKind::ObjectBegin => self.object(lua).map(Value::Table),
            TokenKind::ArrayBegin => self.array(lua).map(Value::Table),
            _ => Err(parse_error("value", &token)),
        }
    }

    fn object(&mut self, lua: &Lua) -> mlua::Result<Table> {
        self.descend()?;
        let table = new_table(lua)?;
        let mut token = self.next_token();
        if matches!(token.kind, TokenKind::ObjectEnd) {
            self.depth -= 1;
            return Ok(table);
        }
        loop {
            let TokenKind::String(key) = &token.kind else {
                return Err(parse_error("object key string", &token));
            };
            let key = Value::String(lua.create_string(key)?);
            let colon = self.next_token();
            if !matches!(colon.kind, TokenKind::Colon) {
                return Err(parse_error("colon", &colon));
            }
            let first = self.next_token();
            let item = self.value(lua, first)?;
            raw_set_pair(&table, key, item)?;
            let after = self.next_token();
            match after.kind {
                TokenKind::ObjectEnd => break,
                TokenKind::Comma => token = self.next_token(),
                _ => return Err(parse_error("comma or object end", &after)),
            }
        }
        self.depth -= 1;
        Ok(table)
    }

    fn array(&mut self, lua: &Lua) -> mlua::Result<Table> {
        self.descend()?;
        let table = new_table(lua)?;
        let mut token = self.next_token();
        if matches!(token.kind, TokenKind::ArrayEnd) {
            self.depth -= 1;
            return Ok(table);
        }
        for i in 1i64.. {
            let item = self.value(lua, token)?;
            raw_set_pair(&table, Value::Integer(i), item)?;
            let after = self.next_token();
            match after.kind {
                TokenKind::ArrayEnd => break,
                TokenKind::Comma => token = self.next_token(),
                _ => return Err(parse_error("comma or array end", &after)),
            }
        }
        self.depth -= 1;
        Ok(table)
    }
}

fn push_utf8(text: &mut Vec<u8>, codepoint: u32) {
    let c = codepoint;
    match c {
        0..=0x7F => text.push(c as u8),
        0x80..=0x7FF => text.extend_from_slice(&[0xC0 | (c >> 6) as u8, 0x80 | (c & 0x3F) as u8]),
        0x800..=0xFFFF => text.extend_from_slice(&[
            0xE0 | (c >> 12) as u8,
            0x80 | ((c >> 6) & 0x3F) as u8,
            0x80 | (c & 0x3F) as u8,
        ]),
        _ => text.extend_from_slice(&[
            0xF0 | ((c >> 18) & 0x07) as u8,
            0x80 | ((c >> 12) & 0x3F) as u8,
            0x80 | ((c >> 6) & 0x3F) as u8,
            0x80 | (c & 0x3F) as u8,
        ]),
    }
}

// ===== cmsgpack =====

/// Tables nested this deep are packed as nil (`LUACMSGPACK_MAX_NESTING`),
/// which also ends cycles.
const MSGPACK_MAX_NESTING: usize = 16;

const TOO_MANY_VALUES: &str =
    "stack overflow (too many return values at once; use unpack_one or unpack_limit instead.)";

fn cmsgpack_module(lua: &Lua) -> mlua::Result<Table> {
    let module = lua.create_table()?;
    module.raw_set(
        "pack",
        lua.create_function(|lua, args: MultiValue| msgpack_pack(lua, &args.into_vec()))?,
    )?;
    module.raw_set(
        "unpack",
        lua.create_function(|lua, args: MultiValue| {
            let args = args.into_vec();
            let data = check_string(lua, &args, 1, "unpack")?;
            msgpack_unpack(lua, &data.as_bytes(), 0, 0)
        })?,
    )?;
    module.raw_set(
        "unpack_one",
        lua.create_function(|lua, args: MultiValue| {
            let args = args.into_vec();
            let offset = opt_integer(lua, &args, 2, "unpack_one", 0)?;
            let data = check_string(lua, &args, 1, "unpack_one")?;
            msgpack_unpack(lua, &data.as_bytes(), 1, offset)
        })?,
    )?;
    module.raw_set(
        "unpack_limit",
        lua.create_function(|lua, args: MultiValue| {
            let args = args.into_vec();
            let limit = check_integer(lua, &args, 2, "unpack_limit")?;
            let offset = opt_integer(lua, &args, 3, "unpack_limit", 0)?;
            let data = check_string(lua, &args, 1, "unpack_limit")?;
            msgpack_unpack(lua, &data.as_bytes(), limit, offset)
        })?,
    )?;
    module.raw_set("_NAME", "cmsgpack")?;
    module.raw_set("_VERSION", "lua-cmsgpack 0.4.0")?;
    module.raw_set("_COPYRIGHT", "Copyright (C) 2012, Salvatore Sanfilippo")?;
    module.raw_set("_DESCRIPTION", "MessagePack C implementation for Lua")?;
    Ok(module)
}

// ----- cmsgpack encoding -----

fn msgpack_pack(lua: &Lua, args: &[Value]) -> mlua::Result<LuaString> {
    if args.is_empty() {
        return Err(bad_argument(0, "pack", "MessagePack pack needs input."));
    }
    let mut out = Vec::new();
    for value in args {
        msgpack_encode(&mut out, value, 0)?;
    }
    lua.create_string(&out)
}

fn msgpack_encode(out: &mut Vec<u8>, value: &Value, level: usize) -> mlua::Result<()> {
    match value {
        Value::Table(table) if level < MSGPACK_MAX_NESTING => {
            return msgpack_encode_table(out, table, level);
        }
        Value::String(s) => msgpack_encode_bytes(out, &s.as_bytes()),
        Value::Boolean(b) => out.push(if *b { 0xc3 } else { 0xc2 }),
        Value::Integer(i) => msgpack_encode_int(out, *i),
        Value::Number(n) if is_int64_equivalent(*n) => msgpack_encode_int(out, *n as i64),
        Value::Number(n) => msgpack_encode_double(out, *n),
        _ => out.push(0xc0),
    }
    Ok(())
}

/// C's `(int64_t)n == n` on x86-64, where out-of-range casts give
/// `INT64_MIN`.
fn is_int64_equivalent(n: f64) -> bool {
    n.is_finite()
        && n.trunc() == n
        && (-9_223_372_036_854_775_808.0..9_223_372_036_854_775_808.0).contains(&n)
}

#[inline(never)]
fn msgpack_encode_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    let len = bytes.len();
    if len < 32 {
        out.push(0xa0 | len as u8);
    } else if len <= 0xff {
        out.extend_from_slice(&[0xd9, len as u8]);
    } else if len <= 0xffff {
        out.push(0xda);
        out.extend_from_slice(&(len as u16).to_be_bytes());
    } else {
        out.push(0xdb);
        out.extend_from_slice(&(len as u32).to_be_bytes());
    }
    out.extend_from_slice(bytes);
}

#[inline(never)]
fn msgpack_encode_double(out: &mut Vec<u8>, d: f64) {
    let f = d as f32;
    if f as f64 == d {
        out.push(0xca);
        out.extend_from_slice(&f.to_be_bytes());
    } else {
        out.push(0xcb);
        out.extend_from_slice(&d.to_be_bytes());
    }
}

/// The smallest encoding of `n`.
#[inline(never)]
fn msgpack_encode_int(out: &mut Vec<u8>, n: i64) {
    if n >= 0 {
        match n {
            0..=127 => out.push(n as u8),
            128..=0xff => out.extend_from_slice(&[0xcc, n as u8]),
            0x100..=0xffff => {
                out.push(0xcd);
                out.extend_from_slice(&(n as u16).to_be_bytes());
            }
            0x1_0000..=0xffff_ffff => {
                out.push(0xce);
                out.extend_from_slice(&(n as u32).to_be_bytes());
            }
            _ => {
                out.push(0xcf);
                out.extend_from_slice(&(n as u64).to_be_bytes());
            }
        }
    } else if n >= -32 {
        out.push(n as i8 as u8);
    } else if n >= -128 {
        out.extend_from_slice(&[0xd0, n as i8 as u8]);
    } else if n >= -32768 {
        out.push(0xd1);
        out.extend_from_slice(&(n as i16).to_be_bytes());
    } else if n >= -2_147_483_648 {
        out.push(0xd2);
        out.extend_from_slice(&(n as i32).to_be_bytes());
    } else {
        out.push(0xd3);
        out.extend_from_slice(&n.to_be_bytes());
    }
}

#[inline(never)]
fn msgpack_container_header(out: &mut Vec<u8>, n: usize, fix: u8, wide: u8) {
    if n <= 15 {
        out.push(fix | n as u8);
    } else if n <= 0xffff {
        out.push(wide);
        out.extend_from_slice(&(n as u16).to_be_bytes());
    } else {
        out.push(wide + 1);
        out.extend_from_slice(&(n as u32).to_be_bytes());
    }
}

/// `table_is_an_array`: keys exactly 1..n (so `{}` is an empty array).
#[inline(never)]
fn msgpack_array_length(table: &Table) -> mlua::Result<Option<usize>> {
    let (mut count, mut max) = (0usize, 0i32);
    for pair in table.pairs::<Value, Value>() {
        let (key, _) = pair?;
        match number_of(&key) {
            Some(n) if n > 0.0 && c_int(n) as f64 == n => max = max.max(c_int(n)),
            _ => return Ok(None),
        }
        count += 1;
    }
    Ok((max as usize == count).then_some(count))
}

fn msgpack_encode_table(out: &mut Vec<u8>, table: &Table, level: usize) -> mlua::Result<()> {
    if let Some(length) = msgpack_array_length(table)? {
        msgpack_container_header(out, length, 0x90, 0xdc);
        for i in 1..=length {
            let item = raw_get_index(table, i as i64)?;
            msgpack_encode(out, &item, level + 1)?;
        }
        return Ok(());
    }
    let mut count = 0;
    for pair in table.pairs::<Value, Value>() {
        pair?;
        count += 1;
    }
    msgpack_container_header(out, count, 0x80, 0xde);
    for pair in table.pairs::<Value, Value>() {
        let (key, item) = pair?;
        msgpack_encode(out, &key, level + 1)?;
        msgpack_encode(out, &item, level + 1)?;
    }
    Ok(())
}

// ----- cmsgpack decoding -----

/// `mp_unpack_full`: decodes up to `limit` values from `offset` (both 0:
/// everything, without the offset result). Otherwise the first result is
/// the offset after the last value read, or -1 at the end of the input.
fn msgpack_unpack(lua: &Lua, data: &[u8], limit: i64, offset: i64) -> mlua::Result<MultiValue> {
    let len = data.len();
    if offset < 0 || limit < 0 {
        return Err(runtime(format!(
            "Invalid request to unpack with offset of {} and limit of {}.",
            offset as i32, len as i32
        )));
    }
    if offset as u64 > len as u64 {
        return Err(runtime(format!(
            "Start offset {} greater than input length {}.",
            offset as i32, len as i32
        )));
    }
    let decode_all = limit == 0 && offset == 0;
    let limit = if decode_all { i32::MAX as i64 } else { limit };
    let mut cursor = MsgpackCursor {
        data,
        pos: offset as usize,
    };
    let mut values = Vec::new();
    while cursor.pos < len && (values.len() as i64) < limit {
        if values.len() >= MAX_RESULTS {
            return Err(runtime(TOO_MANY_VALUES));
        }
        values.push(cursor.value(lua, 0)?);
    }
    if !decode_all {
        let next = if cursor.pos >= len {
            -1
        } else {
            cursor.pos as i64
        };
        values.insert(0, Value::Integer(next));
    }
    Ok(MultiValue::from_vec(values))
}

struct MsgpackCursor<'a> {
    data: &'a [u8],
    pos: usize,
}

fn missing_bytes() -> mlua::Error {
    runtime("Missing bytes in input.")
}

impl MsgpackCursor<'_> {
    fn take(&mut self, n: usize) -> mlua::Result<&[u8]> {
        let end = self.pos.checked_add(n).ok_or_else(missing_bytes)?;
        let bytes = self.data.get(self.pos..end).ok_or_else(missing_bytes)?;
        self.pos = end;
        Ok(bytes)
    }

    fn array<const N: usize>(&mut self) -> mlua::Result<[u8; N]> {
        let bytes = self.take(N)?;
        let mut out = [0u8; N];
        out.copy_from_slice(bytes);
        Ok(out)
    }

    fn length(&mut self, width: usize) -> mlua::Result<usize> {
        Ok(match width {
            1 => self.array::<1>()?[0] as usize,
            2 => u16::from_be_bytes(self.array()?) as usize,
            _ => u32::from_be_bytes(self.array()?) as usize,
        })
    }

    #[inline(never)]
    fn string(&mut self, lua: &Lua, len: usize) -> mlua::Result<Value> {
        let bytes = self.take(len)?;
        Ok(Value::String(lua.create_string(bytes)?))
    }

    fn value(&mut self, lua: &Lua, depth: usize) -> mlua::Result<Value> {
        let [tag] = self.array::<1>()?;
        match tag {
            0x90..=0x9f => self.array_table(lua, (tag & 0x0f) as usize, depth),
            0x80..=0x8f => self.map_table(lua, (tag & 0x0f) as usize, depth),
            0xdc | 0xdd => {
                let len = self.length(if tag == 0xdc { 2 } else { 4 })?;
                self.array_table(lua, len, depth)
            }
            0xde | 0xdf => {
                let len = self.length(if tag == 0xde { 2 } else { 4 })?;
                self.map_table(lua, len, depth)
            }
            _ => self.scalar(lua, tag),
        }
    }

    /// Everything but arrays and maps.
    #[inline(never)]
    fn scalar(&mut self, lua: &Lua, tag: u8) -> mlua::Result<Value> {
        let number = |n: f64| Ok(Value::Number(n));
        match tag {
            0x00..=0x7f => number(tag as f64),
            0xe0..=0xff => number(tag as i8 as f64),
            0xa0..=0xbf => self.string(lua, (tag & 0x1f) as usize),
            0xc0 => Ok(Value::Nil),
            0xc2 => Ok(Value::Boolean(false)),
            0xc3 => Ok(Value::Boolean(true)),
            0xcc => number(self.array::<1>()?[0] as f64),
            0xcd => number(u16::from_be_bytes(self.array()?) as f64),
            0xce => number(u32::from_be_bytes(self.array()?) as f64),
            // lua_pushinteger of a uint64 wraps to a signed value.
            0xcf => number(u64::from_be_bytes(self.array()?) as i64 as f64),
            0xd0 => number(self.array::<1>()?[0] as i8 as f64),
            0xd1 => number(i16::from_be_bytes(self.array()?) as f64),
            0xd2 => number(i32::from_be_bytes(self.array()?) as f64),
            0xd3 => number(i64::from_be_bytes(self.array()?) as f64),
            0xca => number(f32::from_be_bytes(self.array()?) as f64),
            0xcb => number(f64::from_be_bytes(self.array()?)),
            0xd9..=0xdb => {
                let len = self.length(1 << (tag - 0xd9))?;
                self.string(lua, len)
            }
            _ => Err(runtime("Bad data format in input.")),
        }
    }

    fn nested(&self, lua: &Lua, depth: usize) -> mlua::Result<Table> {
        if depth >= HARD_DEPTH {
            return Err(runtime(TOO_MANY_VALUES));
        }
        new_table(lua)
    }

    fn array_table(&mut self, lua: &Lua, len: usize, depth: usize) -> mlua::Result<Value> {
        let table = self.nested(lua, depth)?;
        for i in 1..=len {
            let item = self.value(lua, depth + 1)?;
            raw_set_pair(&table, Value::Integer(i as i64), item)?;
        }
        Ok(Value::Table(table))
    }

    fn map_table(&mut self, lua: &Lua, len: usize, depth: usize) -> mlua::Result<Value> {
        let table = self.nested(lua, depth)?;
        for _ in 0..len {
            let key = self.value(lua, depth + 1)?;
            let item = self.value(lua, depth + 1)?;
            match number_of(&key) {
                _ if key.is_nil() => return Err(runtime("table index is nil")),
                Some(n) if n.is_nan() => return Err(runtime("table index is NaN")),
                _ => raw_set_pair(&table, key, item)?,
            }
        }
        Ok(Value::Table(table))
    }
}

// ===== struct =====

/// `MAXINTSIZE`: the widest integer option.
const STRUCT_MAX_INT_SIZE: usize = 32;
/// `MAXALIGN` on x86-64 (the alignment of a double).
const STRUCT_MAX_ALIGN: usize = 8;

fn struct_module(lua: &Lua) -> mlua::Result<Table> {
    let module = lua.create_table()?;
    module.raw_set(
        "pack",
        lua.create_function(|lua, args: MultiValue| struct_pack(lua, &args.into_vec()))?,
    )?;
    module.raw_set(
        "unpack",
        lua.create_function(|lua, args: MultiValue| struct_unpack(lua, &args.into_vec()))?,
    )?;
    module.raw_set(
        "size",
        lua.create_function(|lua, args: MultiValue| struct_size(lua, &args.into_vec()))?,
    )?;
    Ok(module)
}

/// Byte order and maximum alignment, as `<`, `>` and `!` set them.
struct Header {
    little: bool,
    align: usize,
}

impl Default for Header {
    fn default() -> Self {
        Header {
            little: cfg!(target_endian = "little"),
            align: 1,
        }
    }
}

/// A format string, read up to its first NUL as C reads it.
struct Format<'a> {
    text: &'a [u8],
    pos: usize,
}

impl<'a> Format<'a> {
    fn new(text: &'a [u8]) -> Self {
        let end = text.iter().position(|&b| b == 0).unwrap_or(text.len());
        Format {
            text: &text[..end],
            pos: 0,
        }
    }

    fn next_option(&mut self) -> Option<u8> {
        let opt = *self.text.get(self.pos)?;
        self.pos += 1;
        Some(opt)
    }

    /// `getnum`: the digits after an option, or `default`.
    fn number(&mut self, default: usize) -> mlua::Result<usize> {
        let mut value: usize = 0;
        let mut any = false;
        while let Some(digit) = self.text.get(self.pos).filter(|b| b.is_ascii_digit()) {
            let digit = (digit - b'0') as usize;
            if value > i32::MAX as usize / 10 || value * 10 > i32::MAX as usize - digit {
                return Err(runtime("integral size overflow"));
            }
            value = value * 10 + digit;
            self.pos += 1;
            any = true;
        }
        Ok(if any { value } else { default })
    }

    /// `optsize`: the size of option `opt`, reading its count if it has one.
    fn size(&mut self, opt: u8) -> mlua::Result<usize> {
        Ok(match opt {
            b'B' | b'b' | b'x' => 1,
            b'H' | b'h' => 2,
            b'L' | b'l' | b'T' | b'd' => 8,
            b'f' => 4,
            b'c' => self.number(1)?,
            b'i' | b'I' => {
                let size = self.number(4)?;
                if size > STRUCT_MAX_INT_SIZE {
                    return Err(runtime(format!(
                        "integral size {size} is larger than limit of {STRUCT_MAX_INT_SIZE}"
                    )));
                }
                size
            }
            _ => 0,
        })
    }

    /// `controloptions`: spaces, byte order and alignment; anything else is
    /// an invalid option.
    fn control(&mut self, opt: u8, header: &mut Header, function: &str) -> mlua::Result<()> {
        match opt {
            b' ' => {}
            b'>' => header.little = false,
            b'<' => header.little = true,
            b'!' => {
                let align = self.number(STRUCT_MAX_ALIGN)?;
                if !align.is_power_of_two() {
                    return Err(runtime(format!("alignment {align} is not a power of 2")));
                }
                header.align = align;
            }
            _ => {
                let message = format!("invalid format option '{}'", opt as char);
                return Err(bad_argument(1, function, &message));
            }
        }
        Ok(())
    }
}

/// `gettoalign`: padding before an item of `size` at offset `len`.
fn struct_padding(len: usize, header: &Header, opt: u8, size: usize) -> usize {
    if size == 0 || opt == b'c' {
        return 0;
    }
    let size = size.min(header.align);
    size.wrapping_sub(len & (size - 1)) & (size - 1)
}

fn is_integer_option(opt: u8) -> bool {
    matches!(
        opt,
        b'b' | b'B' | b'h' | b'H' | b'l' | b'L' | b'T' | b'i' | b'I'
    )
}

fn struct_pack(lua: &Lua, args: &[Value]) -> mlua::Result<LuaString> {
    let text = check_string(lua, args, 1, "pack")?;
    let text = text.as_bytes();
    let mut format = Format::new(&text);
    let mut header = Header::default();
    let mut out = Vec::new();
    let mut arg = 2;
    while let Some(opt) = format.next_option() {
        let size = format.size(opt)?;
        let padding = struct_padding(out.len(), &header, opt, size);
        out.resize(out.len() + padding, 0);
        match opt {
            _ if is_integer_option(opt) => {
                let n = check_number(lua, args, arg, "pack")?;
                arg += 1;
                struct_put_integer(&mut out, n, header.little, size);
            }
            b'x' => out.push(0),
            b'f' => {
                let f = check_number(lua, args, arg, "pack")? as f32;
                arg += 1;
                out.extend_from_slice(&if header.little {
                    f.to_le_bytes()
                } else {
                    f.to_be_bytes()
                });
            }
            b'd' => {
                let d = check_number(lua, args, arg, "pack")?;
                arg += 1;
                out.extend_from_slice(&if header.little {
                    d.to_le_bytes()
                } else {
                    d.to_be_bytes()
                });
            }
            b'c' | b's' => {
                let s = check_string(lua, args, arg, "pack")?;
                arg += 1;
                let s = s.as_bytes();
                let size = if size == 0 { s.len() } else { size };
                let Some(bytes) = s.get(..size) else {
                    return Err(bad_argument(arg, "pack", "string too short"));
                };
                out.extend_from_slice(bytes);
                if opt == b's' {
                    out.push(0);
                }
            }
            _ => format.control(opt, &mut header, "pack")?,
        }
    }
    lua.create_string(&out)
}

/// `putinteger`: `n` as a `size`-byte integer (bytes past the eighth are
/// zero, as with C's 64-bit `unsigned long`).
fn struct_put_integer(out: &mut Vec<u8>, n: f64, little: bool, size: usize) {
    let mut value: u64 = if n < 0.0 { n as i64 as u64 } else { n as u64 };
    let start = out.len();
    out.resize(start + size, 0);
    let bytes = &mut out[start..];
    for i in 0..size {
        let index = if little { i } else { size - 1 - i };
        bytes[index] = (value & 0xff) as u8;
        value >>= 8;
    }
}

/// `getinteger`: a `size`-byte integer, keeping the low 64 bits as C does.
fn struct_get_integer(bytes: &[u8], little: bool, signed: bool) -> f64 {
    let fold = |acc: u64, b: &u8| (acc << 8) | *b as u64;
    let value = if little {
        bytes.iter().rev().fold(0, fold)
    } else {
        bytes.iter().fold(0, fold)
    };
    if !signed {
        return value as f64;
    }
    // C shifts by size*8-1, which x86 takes modulo 64.
    let shift = (bytes.len() as i64 * 8 - 1) as u32;
    let mask = u64::MAX.wrapping_shl(shift);
    let value = if value & mask != 0 {
        value | mask
    } else {
        value
    };
    value as i64 as f64
}

fn struct_unpack(lua: &Lua, args: &[Value]) -> mlua::Result<MultiValue> {
    let text = check_string(lua, args, 1, "unpack")?;
    let text = text.as_bytes();
    let data = check_string(lua, args, 2, "unpack")?;
    let data = data.as_bytes();
    // A negative offset becomes a huge size_t in C, then fails the length check.
    let start = opt_integer(lua, args, 3, "unpack", 1)? as u64 as usize;
    if start == 0 {
        return Err(bad_argument(3, "unpack", "offset must be 1 or greater"));
    }
    let mut unpacker = Unpacker {
        lua,
        data: &data,
        pos: start - 1,
        header: Header::default(),
        results: Vec::new(),
    };
    let mut format = Format::new(&text);
    while let Some(opt) = format.next_option() {
        unpacker.item(&mut format, opt)?;
    }
    let next = unpacker.pos.wrapping_add(1) as i64;
    let mut results = unpacker.results;
    results.push(Value::Integer(next));
    Ok(MultiValue::from_vec(results))
}

struct Unpacker<'a> {
    lua: &'a Lua,
    data: &'a [u8],
    pos: usize,
    header: Header,
    results: Vec<Value>,
}

impl<'a> Unpacker<'a> {
    /// The `size` bytes at the current position, or the C error.
    fn bytes(&self, size: usize) -> mlua::Result<&'a [u8]> {
        let data: &'a [u8] = self.data;
        let len = data.len();
        if size > len || self.pos > len - size {
            return Err(bad_argument(2, "unpack", "data string too short"));
        }
        Ok(&data[self.pos..self.pos + size])
    }

    fn item(&mut self, format: &mut Format, opt: u8) -> mlua::Result<()> {
        let mut size = format.size(opt)?;
        self.pos = self
            .pos
            .wrapping_add(struct_padding(self.pos, &self.header, opt, size));
        let bytes = self.bytes(size)?;
        if self.results.len() + 2 > MAX_RESULTS {
            return Err(runtime("stack overflow (too many results)"));
        }
        let little = self.header.little;
        let value = match opt {
            _ if is_integer_option(opt) => {
                let signed = opt.is_ascii_lowercase();
                Some(Value::Number(struct_get_integer(bytes, little, signed)))
            }
            b'x' => None,
            b'f' => {
                let raw: [u8; 4] = bytes.try_into().map_err(|_| runtime("bad float size"))?;
                let f = if little {
                    f32::from_le_bytes(raw)
                } else {
                    f32::from_be_bytes(raw)
                };
                Some(Value::Number(f as f64))
            }
            b'd' => {
                let raw: [u8; 8] = bytes.try_into().map_err(|_| runtime("bad double size"))?;
                let d = if little {
                    f64::from_le_bytes(raw)
                } else {
                    f64::from_be_bytes(raw)
                };
                Some(Value::Number(d))
            }
            b'c' => {
                if size == 0 {
                    size = self.previous_size()?;
                }
                let bytes = self.bytes(size)?;
                Some(Value::String(self.lua.create_string(bytes)?))
            }
            b's' => {
                let rest = self.data.get(self.pos..).unwrap_or(&[]);
                let Some(end) = rest.iter().position(|&b| b == 0) else {
                    return Err(runtime("unfinished string in data"));
                };
                size = end + 1;
                Some(Value::String(self.lua.create_string(&rest[..end])?))
            }
            _ => {
                format.control(opt, &mut self.header, "unpack")?;
                None
            }
        };
        self.results.extend(value);
        self.pos = self.pos.wrapping_add(size);
        Ok(())
    }

    /// `c0` takes its length from the previous result, which it replaces.
    fn previous_size(&mut self) -> mlua::Result<usize> {
        let needs = || runtime("format 'c0' needs a previous size");
        let previous = self.results.last().cloned().ok_or_else(needs)?;
        let n = self.lua.coerce_number(previous)?.ok_or_else(needs)?;
        self.results.pop();
        Ok(if n < 0.0 {
            n as i64 as u64 as usize
        } else {
            n as usize
        })
    }
}

fn struct_size(lua: &Lua, args: &[Value]) -> mlua::Result<i64> {
    let text = check_string(lua, args, 1, "size")?;
    let text = text.as_bytes();
    let mut format = Format::new(&text);
    let mut header = Header::default();
    let mut pos: usize = 0;
    while let Some(opt) = format.next_option() {
        let size = format.size(opt)?;
        pos = pos.wrapping_add(struct_padding(pos, &header, opt, size));
        if opt == b's' {
            return Err(bad_argument(1, "size", "option 's' has no fixed size"));
        }
        if opt == b'c' && size == 0 {
            return Err(bad_argument(1, "size", "option 'c0' has no fixed size"));
        }
        if !opt.is_ascii_alphanumeric() {
            format.control(opt, &mut header, "size")?;
        }
        pos = pos.wrapping_add(size);
    }
    Ok(pos as i64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scripting::sandbox::{new_lua, plain_message};
    use mlua::Function;
    use proptest::collection::vec;
    use proptest::prelude::*;

    fn lua() -> Lua {
        new_lua().expect("sandbox")
    }

    fn bytes(lua: &Lua, code: &str) -> Vec<u8> {
        let s: LuaString = lua.load(code).eval().expect(code);
        s.as_bytes().to_vec()
    }

    fn error(lua: &Lua, code: &str) -> String {
        match lua.load(code).exec() {
            Ok(()) => panic!("{code} succeeded"),
            Err(e) => plain_message(&e),
        }
    }

    fn function(lua: &Lua, path: &str) -> Function {
        lua.load(format!("return {path}")).eval().expect(path)
    }

    fn lua_bytes(lua: &Lua, data: &[u8]) -> LuaString {
        lua.create_string(data).expect("string")
    }

    /// Deep equality of Lua values (numbers by value, tables by contents).
    fn same(a: &Value, b: &Value) -> bool {
        match (a, b) {
            (Value::Table(x), Value::Table(y)) => same_table(x, y) && same_table(y, x),
            _ => match (number_of(a), number_of(b)) {
                (Some(x), Some(y)) => x == y || (x.is_nan() && y.is_nan()),
                _ => a == b,
            },
        }
    }

    fn same_table(x: &Table, y: &Table) -> bool {
        x.pairs::<Value, Value>().all(|pair| match pair {
            Ok((k, v)) => y.raw_get::<Value>(k).map(|w| same(&v, &w)).unwrap_or(false),
            Err(_) => false,
        })
    }

    // ----- cjson -----

    #[test]
    fn cjson_known_encodings() {
        on_big_stack(|| {
            let lua = lua();
            let cases: &[(&str, &[u8])] = &[
                ("{1,2,3}", b"[1,2,3]"),
                ("{a=1}", b"{\"a\":1}"),
                ("{}", b"{}"),
                (
                    "'a/b\"c\\\\d\\n\\1\\127\\128'",
                    b"\"a\\/b\\\"c\\\\d\\n\\u0001\\u007f\x80\"",
                ),
                ("0.1", b"0.1"),
                ("1/3", b"0.33333333333333"),
                ("1e100", b"1e+100"),
                ("-1.5e-7", b"-1.5e-07"),
                ("123456789012345678", b"1.2345678901235e+17"),
                ("2^53", b"9.007199254741e+15"),
                ("-0", b"-0"),
                ("true", b"true"),
                ("cjson.null", b"null"),
                ("{1,nil,3}", b"[1,null,3]"),
                ("{[1]=1,[2]=2,[4]=4}", b"[1,2,null,4]"),
                ("{[1.5]=true}", b"{\"1.5\":true}"),
                ("{{},{{}}}", b"[{},[{}]]"),
            ];
            for (input, expected) in cases {
                let got = bytes(&lua, &format!("return cjson.encode({input})"));
                assert_eq!(got, *expected, "{input}: {}", String::from_utf8_lossy(&got));
            }
        });
    }

    #[test]
    fn cjson_encode_errors() {
        on_big_stack(|| {
            let lua = lua();
            let cases = [
                (
                    "cjson.encode({[20]=1})",
                    "Cannot serialise table: excessively sparse array",
                ),
                (
                    "cjson.encode(0/0)",
                    "Cannot serialise number: must not be NaN or Inf",
                ),
                (
                    "cjson.encode({[true]=1})",
                    "Cannot serialise boolean: table key must be a number or string",
                ),
                (
                    "cjson.encode(tostring)",
                    "Cannot serialise function: type not supported",
                ),
                (
                    "cjson.encode()",
                    "bad argument #1 to 'encode' (expected 1 argument)",
                ),
                (
                    "cjson.encode(1, 2)",
                    "bad argument #1 to 'encode' (expected 1 argument)",
                ),
                (
                    "local t = {} t[1] = t cjson.encode(t)",
                    "Cannot serialise, excessive nesting (1001)",
                ),
            ];
            for (code, message) in cases {
                assert_eq!(error(&lua, code), message, "{code}");
            }
        });
    }

    #[test]
    fn cjson_nesting_limits() {
        on_big_stack(|| {
            let lua = lua();
            let nest = |n: usize| {
                format!("local t = {{}} local c = t for i = 2, {n} do c[1] = {{}} c = c[1] end return cjson.encode(t)")
            };
            let ok = bytes(&lua, &nest(1000));
            assert_eq!(ok.len(), 2000);
            assert_eq!(
                error(&lua, &nest(1001)),
                "Cannot serialise, excessive nesting (1001)"
            );
            let decode = |n: usize| {
                format!("return cjson.decode(string.rep('[', {n}) .. string.rep(']', {n}))")
            };
            lua.load(decode(1000)).exec().expect("1000 deep");
            assert_eq!(
                error(&lua, &decode(1001)),
                "Found too many nested data structures (1001) at character 1001"
            );
            assert_eq!(
                error(&lua, "cjson.encode_max_depth(3) cjson.encode({{{{}}}})"),
                "Cannot serialise, excessive nesting (4)"
            );
            assert_eq!(
                error(&lua, "cjson.decode_max_depth(2) cjson.decode('[[[1]]]')"),
                "Found too many nested data structures (3) at character 3"
            );
        });
    }

    #[test]
    fn cjson_decodes() {
        on_big_stack(|| {
            let lua = lua();
            let checks = [
                "local t = cjson.decode('[1,2,3]') return #t == 3 and t[3] == 3",
                "local t = cjson.decode(' {\"a\" : [true, false, null]} ') return t.a[1] == true and t.a[2] == false and t.a[3] == cjson.null",
                "return cjson.decode('null') == cjson.null",
                "return cjson.decode('\"\\\\u00e9\"') == '\\195\\169'",
                "return cjson.decode('\"\\\\ud83d\\\\ude00\"') == '\\240\\159\\152\\128'",
                "return cjson.decode('\"\\\\/\\\\b\\\\f\\\\n\\\\r\\\\t\"') == '/\\b\\f\\n\\r\\t'",
                "return cjson.decode('-1.5e3') == -1500",
                "return cjson.decode('0x10') == 16",
                "return cjson.decode('Infinity') == math.huge",
                "local n = cjson.decode('NaN') return n ~= n",
                "return cjson.decode(123) == 123",
                "return cjson.decode('[1]\\0garbage')[1] == 1",
                "local t = cjson.decode('{\"a\":1,\"a\":2}') return t.a == 2",
            ];
            for code in checks {
                assert!(lua.load(code).eval::<bool>().expect(code), "{code}");
            }
        });
    }

    #[test]
    fn cjson_decode_errors() {
        on_big_stack(|| {
            let lua = lua();
            let cases = [
                ("''", "Expected value but found T_END at character 1"),
                (
                    "'{'",
                    "Expected object key string but found T_END at character 2",
                ),
                (
                    "'[1,]'",
                    "Expected value but found T_ARR_END at character 4",
                ),
                (
                    "'{\"a\" 1}'",
                    "Expected colon but found T_NUMBER at character 6",
                ),
                (
                    "'[1 2]'",
                    "Expected comma or array end but found T_NUMBER at character 4",
                ),
                (
                    "'{\"a\":1 \"b\"}'",
                    "Expected comma or object end but found T_STRING at character 8",
                ),
                (
                    "'[1] x'",
                    "Expected the end but found invalid token at character 5",
                ),
                (
                    "'\"ab'",
                    "Expected value but found unexpected end of string at character 4",
                ),
                (
                    "'\"\\\\x\"'",
                    "Expected value but found invalid escape code at character 2",
                ),
                (
                    "'\"\\\\udc00\"'",
                    "Expected value but found invalid unicode escape code at character 2",
                ),
                (
                    "'nil'",
                    "Expected value but found invalid token at character 1",
                ),
                (
                    "'-'",
                    "Expected value but found invalid number at character 1",
                ),
                ("'a\\0'", "JSON parser does not support UTF-16 or UTF-32"),
                (
                    "{}",
                    "bad argument #1 to 'decode' (string expected, got table)",
                ),
            ];
            for (input, message) in cases {
                assert_eq!(
                    error(&lua, &format!("cjson.decode({input})")),
                    message,
                    "{input}"
                );
            }
            assert_eq!(
                error(
                    &lua,
                    "cjson.decode_invalid_numbers(false) cjson.decode('01')"
                ),
                "Expected value but found invalid number at character 1"
            );
        });
    }

    #[test]
    fn cjson_settings() {
        on_big_stack(|| {
            let lua = lua();
            let checks = [
                "local a, b, c = cjson.encode_sparse_array() return a == false and b == 2 and c == 10",
                "return cjson.encode_max_depth() == 1000 and cjson.decode_max_depth() == 1000",
                "return cjson.encode_number_precision(3) == 3 and cjson.encode(1/3) == '0.333'",
                "return cjson.encode_invalid_numbers('null') == 'null' and cjson.encode(1/0) == 'null'",
                "return cjson.encode_invalid_numbers(true) == true and cjson.encode(-1/0) == '-inf' and cjson.encode(0/0) == 'nan'",
                "return cjson.encode_sparse_array(true) == true and cjson.encode({[20]=1}) == '{\"20\":1}'",
                "return cjson.encode_keep_buffer(false) == false",
                "local j = cjson.new() return j.encode_number_precision() == 14 and j.encode(1/3) == '0.33333333333333'",
            ];
            for code in checks {
                assert!(lua.load(code).eval::<bool>().expect(code), "{code}");
            }
            let cases = [
                (
                    "cjson.encode_number_precision(15)",
                    "bad argument #1 to 'encode_number_precision' (expected integer between 1 and 14)",
                ),
                (
                    "cjson.encode_max_depth(1, 2)",
                    "bad argument #2 to 'encode_max_depth' (found too many arguments)",
                ),
                (
                    "cjson.encode_keep_buffer('maybe')",
                    "bad argument #1 to 'encode_keep_buffer' (invalid option 'maybe')",
                ),
                (
                    "cjson.encode_max_depth({})",
                    "bad argument #1 to 'encode_max_depth' (number expected, got table)",
                ),
            ];
            for (code, message) in cases {
                assert_eq!(error(&lua, code), message, "{code}");
            }
        });
    }

    // ----- cmsgpack -----

    #[test]
    fn cmsgpack_known_encodings() {
        on_big_stack(|| {
            let lua = lua();
            let cases: &[(&str, &[u8])] = &[
                ("1", b"\x01"),
                ("-1", b"\xff"),
                ("0", b"\x00"),
                ("-0", b"\x00"),
                ("127", b"\x7f"),
                ("128", b"\xcc\x80"),
                ("-32", b"\xe0"),
                ("-33", b"\xd0\xdf"),
                ("256", b"\xcd\x01\x00"),
                ("-129", b"\xd1\xff\x7f"),
                ("65536", b"\xce\x00\x01\x00\x00"),
                ("-32769", b"\xd2\xff\xff\x7f\xff"),
                ("2^32", b"\xcf\x00\x00\x00\x01\x00\x00\x00\x00"),
                ("-2^31 - 1", b"\xd3\xff\xff\xff\xff\x7f\xff\xff\xff"),
                ("1.5", b"\xca\x3f\xc0\x00\x00"),
                ("0.1", b"\xcb\x3f\xb9\x99\x99\x99\x99\x99\x9a"),
                ("2^63", b"\xca\x5f\x00\x00\x00"),
                ("'abc'", b"\xa3abc"),
                (
                    "string.rep('x', 32)",
                    &[&b"\xd9\x20"[..], &[b'x'; 32]].concat(),
                ),
                ("{1,2}", b"\x92\x01\x02"),
                ("{}", b"\x90"),
                ("{a=1}", b"\x81\xa1a\x01"),
                ("{[2]=1}", b"\x81\x02\x01"),
                ("nil", b"\xc0"),
                ("true, false", b"\xc3\xc2"),
                ("1, 'a', {3}", b"\x01\xa1a\x91\x03"),
                ("tostring", b"\xc0"),
                ("cjson.null", b"\xc0"),
            ];
            for (input, expected) in cases {
                let got = bytes(&lua, &format!("return cmsgpack.pack({input})"));
                assert_eq!(got, *expected, "{input}");
            }
            let cyclic = bytes(&lua, "local t = {} t[1] = t return cmsgpack.pack(t)");
            assert_eq!(cyclic, [&[0x91u8; 16][..], b"\xc0"].concat());
        });
    }

    #[test]
    fn cmsgpack_unpacks() {
        on_big_stack(|| {
            let lua = lua();
            let checks = [
                "local a, b, c = cmsgpack.unpack(cmsgpack.pack(1, 'x', {y=2})) return a == 1 and b == 'x' and c.y == 2",
                "return select('#', cmsgpack.unpack('')) == 0",
                "local s = cmsgpack.pack(7, 8) local o, v = cmsgpack.unpack_one(s) return o == 1 and v == 7",
                "local s = cmsgpack.pack(7, 8) local o, v = cmsgpack.unpack_one(s, 1) return o == -1 and v == 8",
                "local s = cmsgpack.pack(7, 8, 9) local o, a, b = cmsgpack.unpack_limit(s, 2) return o == 2 and a == 7 and b == 8",
                "local s = cmsgpack.pack(7, 8) return select('#', cmsgpack.unpack_limit(s, 0)) == 2",
                "return cmsgpack.unpack('\\207\\255\\255\\255\\255\\255\\255\\255\\255') == -1",
                "return cmsgpack.unpack('\\206\\255\\255\\255\\255') == 4294967295",
                "local t = cmsgpack.unpack('\\147\\1\\192\\3') return t[1] == 1 and t[2] == nil and t[3] == 3",
                "return cmsgpack.unpack('\\218\\0\\3abc') == 'abc'",
            ];
            for code in checks {
                assert!(lua.load(code).eval::<bool>().expect(code), "{code}");
            }
            let cases = [
                ("cmsgpack.unpack('\\145')", "Missing bytes in input."),
                ("cmsgpack.unpack('\\193')", "Bad data format in input."),
                ("cmsgpack.unpack('\\196\\1a')", "Bad data format in input."),
                ("cmsgpack.unpack('\\129\\192\\1')", "table index is nil"),
                (
                    "cmsgpack.unpack_one('ab', -1)",
                    "Invalid request to unpack with offset of -1 and limit of 2.",
                ),
                (
                    "cmsgpack.unpack_one('ab', 3)",
                    "Start offset 3 greater than input length 2.",
                ),
                (
                    "cmsgpack.pack()",
                    "bad argument #0 to 'pack' (MessagePack pack needs input.)",
                ),
                (
                    "cmsgpack.unpack()",
                    "bad argument #1 to 'unpack' (string expected, got no value)",
                ),
                (
                    "cmsgpack.unpack_limit('a')",
                    "bad argument #2 to 'unpack_limit' (number expected, got no value)",
                ),
                (
                    "cmsgpack.unpack(string.rep('\\145', 5000))",
                    TOO_MANY_VALUES,
                ),
                ("cmsgpack.unpack(string.rep('\\1', 9000))", TOO_MANY_VALUES),
            ];
            for (code, message) in cases {
                assert_eq!(error(&lua, code), message, "{code}");
            }
            let many: usize = lua
                .load("return select('#', cmsgpack.unpack(string.rep('\\1', 7000)))")
                .eval()
                .expect("7000 values");
            assert_eq!(many, 7000);
        });
    }

    // ----- struct -----

    #[test]
    fn struct_known_encodings() {
        on_big_stack(|| {
            let lua = lua();
            let cases: &[(&str, &[u8])] = &[
                ("'>I2', 258", b"\x01\x02"),
                ("'<I2', 258", b"\x02\x01"),
                ("'<i4', -2", b"\xfe\xff\xff\xff"),
                ("'>b B', -1, 255", b"\xff\xff"),
                ("'>h', -2", b"\xff\xfe"),
                ("'<i3', -1", b"\xff\xff\xff"),
                ("'<l', 1", b"\x01\0\0\0\0\0\0\0"),
                ("'<i10', -1", b"\xff\xff\xff\xff\xff\xff\xff\xff\0\0"),
                ("'s', 'ab'", b"ab\0"),
                ("'c3', 'abcdef'", b"abc"),
                ("'c0', 'abcdef'", b"abcdef"),
                ("'x'", b"\0"),
                ("'>d', 1", b"\x3f\xf0\0\0\0\0\0\0"),
                ("'>f', 1.5", b"\x3f\xc0\0\0"),
                ("'!4 b i4', 1, 2", b"\x01\0\0\0\x02\0\0\0"),
                ("'!8 b d', 0, 0", b"\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0"),
                ("'b i4', 1, 2", b"\x01\x02\0\0\0"),
            ];
            for (input, expected) in cases {
                let got = bytes(&lua, &format!("return struct.pack({input})"));
                assert_eq!(got, *expected, "{input}");
            }
        });
    }

    #[test]
    fn struct_unpack_and_size() {
        on_big_stack(|| {
            let lua = lua();
            let checks = [
                "local v, n = struct.unpack('>I2', '\\1\\2') return v == 258 and n == 3",
                "local v, n = struct.unpack('<i2', '\\254\\255') return v == -2 and n == 3",
                "local a, b, n = struct.unpack('s b', 'ab\\0\\5') return a == 'ab' and b == 5 and n == 5",
                "local s, n = struct.unpack('b c0', '\\3abcd') return s == 'abc' and n == 5",
                "local v, n = struct.unpack('b', '\\1\\2', 2) return v == 2 and n == 3",
                "local a, b = struct.unpack('!4 b i4', struct.pack('!4 b i4', 7, -9)) return a == 7 and b == -9",
                "local d = struct.unpack('<d', struct.pack('<d', 0.1)) return d == 0.1",
                "return struct.size('i4d') == 12 and struct.size('!8 i4 d') == 16 and struct.size('bhz') == 3",
                "return select('#', struct.unpack('', 'abc', 10)) == 1",
            ];
            for code in checks {
                assert!(lua.load(code).eval::<bool>().expect(code), "{code}");
            }
            let cases = [
                (
                    "struct.unpack('i4', 'ab')",
                    "bad argument #2 to 'unpack' (data string too short)",
                ),
                (
                    "struct.unpack('b', 'a', 0)",
                    "bad argument #3 to 'unpack' (offset must be 1 or greater)",
                ),
                (
                    "struct.unpack('b', 'a', -1)",
                    "bad argument #2 to 'unpack' (data string too short)",
                ),
                ("struct.unpack('s', 'ab')", "unfinished string in data"),
                (
                    "struct.unpack('c0', 'ab')",
                    "format 'c0' needs a previous size",
                ),
                (
                    "struct.pack('c3', 'ab')",
                    "bad argument #3 to 'pack' (string too short)",
                ),
                (
                    "struct.pack('i4')",
                    "bad argument #2 to 'pack' (number expected, got no value)",
                ),
                (
                    "struct.pack('z')",
                    "bad argument #1 to 'pack' (invalid format option 'z')",
                ),
                (
                    "struct.pack('i33', 1)",
                    "integral size 33 is larger than limit of 32",
                ),
                ("struct.pack('!3')", "alignment 3 is not a power of 2"),
                ("struct.pack('c99999999999')", "integral size overflow"),
                (
                    "struct.size('s')",
                    "bad argument #1 to 'size' (option 's' has no fixed size)",
                ),
                (
                    "struct.size('c0')",
                    "bad argument #1 to 'size' (option 'c0' has no fixed size)",
                ),
                (
                    "struct.size('?')",
                    "bad argument #1 to 'size' (invalid format option '?')",
                ),
            ];
            for (code, message) in cases {
                assert_eq!(error(&lua, code), message, "{code}");
            }
        });
    }

    /// Runs `test` on a thread with room for 1000 levels of unoptimized
    /// recursion (test threads have 2 MiB).
    fn on_big_stack(test: impl FnOnce() + Send + 'static) {
        let thread = std::thread::Builder::new()
            .stack_size(64 << 20)
            .spawn(test)
            .expect("thread");
        if let Err(panic) = thread.join() {
            std::panic::resume_unwind(panic);
        }
    }

    #[test]
    fn deep_input_fits_a_worker_stack() {
        let worker = std::thread::Builder::new()
            // tokio's default worker stack; unoptimized frames are bigger.
            .stack_size(if cfg!(debug_assertions) {
                64 << 20
            } else {
                2 << 20
            })
            .spawn(|| {
                let lua = lua();
                let code = "local t = {} local c = t for i = 2, 1000 do c.k = {} c = c.k end
                    local j = cjson.decode(cjson.encode(t))
                    local m = cmsgpack.unpack(string.rep('\\145', 999) .. '\\1')
                    return j ~= nil and m ~= nil";
                lua.load(code).eval::<bool>().expect("deep")
            })
            .expect("thread");
        assert!(worker.join().expect("no overflow"));
    }

    // ----- properties -----

    #[derive(Debug, Clone)]
    enum Tree {
        Number(f64),
        Text(Vec<u8>),
        Flag(bool),
        List(Vec<Tree>),
        Map(Vec<(Vec<u8>, Tree)>),
    }

    fn tree(numbers: BoxedStrategy<f64>) -> impl Strategy<Value = Tree> {
        let leaf = prop_oneof![
            numbers.prop_map(Tree::Number),
            vec(any::<u8>(), 0..40).prop_map(Tree::Text),
            any::<bool>().prop_map(Tree::Flag),
        ];
        leaf.prop_recursive(4, 64, 8, |inner| {
            prop_oneof![
                vec(inner.clone(), 0..8).prop_map(Tree::List),
                vec((vec(any::<u8>(), 0..8), inner), 0..8).prop_map(Tree::Map),
            ]
        })
    }

    /// Numbers `%.14g` writes exactly.
    fn json_numbers() -> BoxedStrategy<f64> {
        prop_oneof![
            (-(1i64 << 40)..(1i64 << 40)).prop_map(|n| n as f64),
            (-1_000_000_000i64..1_000_000_000).prop_map(|n| n as f64 / 8.0),
        ]
        .boxed()
    }

    fn any_number() -> BoxedStrategy<f64> {
        prop_oneof![
            any::<f64>().prop_filter("not NaN", |n| !n.is_nan()),
            any::<i64>().prop_map(|n| n as f64),
            (-40_000i64..70_000).prop_map(|n| n as f64),
        ]
        .boxed()
    }

    fn to_lua(lua: &Lua, tree: &Tree) -> Value {
        match tree {
            Tree::Number(n) => Value::Number(*n),
            Tree::Text(t) => Value::String(lua_bytes(lua, t)),
            Tree::Flag(b) => Value::Boolean(*b),
            Tree::List(items) => {
                let table = lua.create_table().expect("table");
                for (i, item) in items.iter().enumerate() {
                    table.raw_set(i + 1, to_lua(lua, item)).expect("set");
                }
                Value::Table(table)
            }
            Tree::Map(entries) => {
                let table = lua.create_table().expect("table");
                for (key, item) in entries {
                    table
                        .raw_set(lua_bytes(lua, key), to_lua(lua, item))
                        .expect("set");
                }
                Value::Table(table)
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]

        #[test]
        fn cjson_round_trips(t in tree(json_numbers())) {
            let lua = lua();
            let value = to_lua(&lua, &t);
            let encoded: LuaString = function(&lua, "cjson.encode").call(value.clone()).expect("encode");
            let decoded: Value = function(&lua, "cjson.decode").call(encoded.clone()).expect("decode");
            prop_assert!(same(&value, &decoded), "{:?}", encoded);
            if matches!(value, Value::Table(_)) {
                let text = encoded.as_bytes().to_vec();
                for cut in 0..text.len() {
                    let prefix = lua_bytes(&lua, &text[..cut]);
                    let result: mlua::Result<Value> = function(&lua, "cjson.decode").call(prefix);
                    prop_assert!(result.is_err());
                }
            }
        }

        #[test]
        fn cmsgpack_round_trips(t in tree(any_number()), u in tree(any_number())) {
            let lua = lua();
            let (a, b) = (to_lua(&lua, &t), to_lua(&lua, &u));
            let packed: LuaString = function(&lua, "cmsgpack.pack").call((a.clone(), b.clone())).expect("pack");
            let values: Vec<Value> = function(&lua, "cmsgpack.unpack").call::<MultiValue>(packed).expect("unpack").into_vec();
            prop_assert_eq!(values.len(), 2);
            prop_assert!(same(&a, &values[0]) && same(&b, &values[1]));
            let single: LuaString = function(&lua, "cmsgpack.pack").call(a).expect("pack");
            let data = single.as_bytes().to_vec();
            for cut in 1..data.len() {
                let prefix = lua_bytes(&lua, &data[..cut]);
                let result = function(&lua, "cmsgpack.unpack").call::<MultiValue>(prefix);
                let message = result.err().map(|e| plain_message(&e));
                prop_assert_eq!(message.as_deref(), Some("Missing bytes in input."));
            }
        }

        #[test]
        fn struct_integers_round_trip(size in 1usize..=8, signed: bool, little: bool, seed: u64) {
            let bits = (8 * size).min(53) as u32;
            let value = if signed {
                let half = 1i64 << (bits - 1);
                ((seed % (2 * half as u64)) as i64 - half) as f64
            } else {
                (seed % (1u64 << bits)) as f64
            };
            let format = format!("{}{}{}", if little { '<' } else { '>' }, if signed { 'i' } else { 'I' }, size);
            let lua = lua();
            let packed: LuaString = function(&lua, "struct.pack").call((format.as_str(), value)).expect("pack");
            prop_assert_eq!(packed.as_bytes().len(), size);
            let (back, next): (f64, i64) = function(&lua, "struct.unpack").call((format.as_str(), packed)).expect("unpack");
            prop_assert_eq!(back, value);
            prop_assert_eq!(next, size as i64 + 1);
        }

        #[test]
        fn struct_mixed_round_trip(a: i16, b: u32, d: f64, s in "[a-z]{0,12}", c in vec(any::<u8>(), 5)) {
            prop_assume!(!d.is_nan());
            let lua = lua();
            let c = lua_bytes(&lua, &c);
            let fmt = "!8 <h >I4 d s c5";
            let packed: LuaString = function(&lua, "struct.pack").call((fmt, a, b, d, s.as_str(), c.clone())).expect("pack");
            let (ra, rb, rd, rs, rc, _): (i16, u32, f64, String, LuaString, i64) =
                function(&lua, "struct.unpack").call((fmt, packed)).expect("unpack");
            prop_assert_eq!((ra, rb, rd, rs), (a, b, d, s));
            prop_assert_eq!(rc.as_bytes().to_vec(), c.as_bytes().to_vec());
        }

        #[test]
        fn garbage_never_panics(data in vec(any::<u8>(), 0..64), fmt in "[<>! xbBhHlLTiIsfdc0-9]{0,12}", offset in 0i64..70) {
            let lua = lua();
            let text = lua_bytes(&lua, &data);
            let _ = function(&lua, "cjson.decode").call::<Value>(text.clone());
            let _ = function(&lua, "cmsgpack.unpack").call::<MultiValue>(text.clone());
            let _ = function(&lua, "cmsgpack.unpack_one").call::<MultiValue>((text.clone(), offset));
            let _ = function(&lua, "cmsgpack.unpack_limit").call::<MultiValue>((text.clone(), 3, offset));
            let _ = function(&lua, "struct.unpack").call::<MultiValue>((fmt.as_str(), text.clone(), offset));
            let _ = function(&lua, "struct.size").call::<MultiValue>(fmt.as_str());
            let _ = function(&lua, "struct.pack").call::<MultiValue>((fmt.as_str(), 1, 2, text.clone()));
        }
    }

    #[test]
    fn format_g_matches_printf() {
        let cases = [
            (0.5, "0.5"),
            (100.0, "100"),
            (1e14, "1e+14"),
            (99999999999999.0, "99999999999999"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (f64::INFINITY, "inf"),
            (-f64::INFINITY, "-inf"),
            (1.0 / 3.0, "0.33333333333333"),
            (2.5e-300, "2.5e-300"),
        ];
        for (n, text) in cases {
            assert_eq!(format_g(n, 14), text);
        }
        assert_eq!(strtod(b"1.e5x"), (100000.0, 4));
        assert_eq!(strtod(b"0x1.8p1"), (3.0, 7));
        assert_eq!(strtod(b"-infinityx"), (f64::NEG_INFINITY, 9));
        assert_eq!(strtod(b"1e+"), (1.0, 1));
        assert_eq!(strtod(b"."), (0.0, 0));
    }
}
