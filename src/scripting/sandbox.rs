//! The interpreter as Redis sets it up: the base, table, string and math
//! libraries, no `os`, `io`, `loadfile` or `dofile`, a deterministic
//! `math.random`, a `bit` library, and globals that a script can neither
//! create nor read when undefined.

use mlua::{Lua, LuaOptions, StdLib, Value};

/// The interpreter's PRNG state (48-bit, as `lrand48`), kept in the Lua
/// state's app data; reset before each script so `math.random` gives the
/// same sequence every run.
struct RandomState(u64);

const LRAND48_MAX: i64 = i32::MAX as i64;

/// Seeds the script PRNG as `srand48(seed)` does.
pub fn reset_random(lua: &Lua, seed: u32) {
    lua.set_app_data(RandomState(((seed as u64) << 16) | 0x330e));
}

fn lrand48(lua: &Lua) -> i64 {
    let x = lua
        .app_data_ref::<RandomState>()
        .map(|s| s.0)
        .unwrap_or(0x330e);
    let next = (x.wrapping_mul(0x5_deec_e66d).wrapping_add(0xb)) & ((1 << 48) - 1);
    lua.set_app_data(RandomState(next));
    (next >> 17) as i64
}

/// A Lua error message without mlua's wrapping ("runtime error: ...").
pub fn plain_message(error: &mlua::Error) -> String {
    match error {
        mlua::Error::SyntaxError { message, .. } => message.clone(),
        mlua::Error::RuntimeError(message) => message.clone(),
        mlua::Error::CallbackError { cause, .. } => plain_message(cause),
        other => other.to_string(),
    }
}

pub fn new_lua() -> mlua::Result<Lua> {
    let lua = Lua::new_with(
        StdLib::TABLE | StdLib::STRING | StdLib::MATH,
        LuaOptions::default(),
    )?;
    let globals = lua.globals();
    for name in ["loadfile", "dofile", "print"] {
        globals.raw_set(name, Value::Nil)?;
    }
    let math: mlua::Table = globals.get("math")?;
    math.set(
        "random",
        lua.create_function(|lua, args: mlua::Variadic<f64>| {
            let r = (lrand48(lua) % LRAND48_MAX) as f64 / LRAND48_MAX as f64;
            match args.len() {
                0 => Ok(r),
                1 => {
                    let upper = args[0].floor();
                    if upper < 1.0 {
                        return Err(mlua::Error::RuntimeError(
                            "bad argument #1 to 'random' (interval is empty)".into(),
                        ));
                    }
                    Ok((r * upper).floor() + 1.0)
                }
                2 => {
                    let (lower, upper) = (args[0].floor(), args[1].floor());
                    if lower > upper {
                        return Err(mlua::Error::RuntimeError(
                            "bad argument #2 to 'random' (interval is empty)".into(),
                        ));
                    }
                    Ok((r * (upper - lower + 1.0)).floor() + lower)
                }
                _ => Err(mlua::Error::RuntimeError(
                    "wrong number of arguments".into(),
                )),
            }
        })?,
    )?;
    math.set(
        "randomseed",
        lua.create_function(|lua, seed: f64| {
            reset_random(lua, seed as i64 as u32);
            Ok(())
        })?,
    )?;
    globals.raw_set("bit", bit_library(&lua)?)?;
    super::codecs::register(&lua)?;
    protect_globals(&lua)?;
    Ok(lua)
}

/// LuaBitOp's functions on 32-bit integers.
fn bit_library(lua: &Lua) -> mlua::Result<mlua::Table> {
    let bit = lua.create_table()?;
    fn to32(n: f64) -> i32 {
        (n as i64) as i32
    }
    let fold = |lua: &Lua, f: fn(i32, i32) -> i32| {
        lua.create_function(move |_, args: mlua::Variadic<f64>| {
            let mut iter = args.iter();
            let first = iter.next().map(|n| to32(*n)).ok_or_else(|| {
                mlua::Error::RuntimeError("bad argument #1 (number expected, got no value)".into())
            })?;
            Ok(iter.fold(first, |acc, n| f(acc, to32(*n))) as f64)
        })
    };
    bit.set("band", fold(lua, |a, b| a & b)?)?;
    bit.set("bor", fold(lua, |a, b| a | b)?)?;
    bit.set("bxor", fold(lua, |a, b| a ^ b)?)?;
    bit.set(
        "tobit",
        lua.create_function(|_, n: f64| Ok(to32(n) as f64))?,
    )?;
    bit.set(
        "bnot",
        lua.create_function(|_, n: f64| Ok(!to32(n) as f64))?,
    )?;
    let shift = |lua: &Lua, f: fn(i32, u32) -> i32| {
        lua.create_function(move |_, (n, by): (f64, f64)| {
            Ok(f(to32(n), (to32(by) & 31) as u32) as f64)
        })
    };
    bit.set("lshift", shift(lua, |a, b| ((a as u32) << b) as i32)?)?;
    bit.set("rshift", shift(lua, |a, b| ((a as u32) >> b) as i32)?)?;
    bit.set("arshift", shift(lua, |a, b| a >> b)?)?;
    bit.set("rol", shift(lua, |a, b| (a as u32).rotate_left(b) as i32)?)?;
    bit.set("ror", shift(lua, |a, b| (a as u32).rotate_right(b) as i32)?)?;
    bit.set(
        "bswap",
        lua.create_function(|_, n: f64| Ok(to32(n).swap_bytes() as f64))?,
    )?;
    bit.set(
        "tohex",
        lua.create_function(|_, (n, digits): (f64, Option<f64>)| {
            let digits = digits.map(to32).unwrap_or(8);
            let upper = digits < 0;
            let width = digits.unsigned_abs().clamp(1, 8) as usize;
            let value = to32(n) as u32 as u64;
            let masked = if width == 8 {
                value
            } else {
                value & ((1u64 << (4 * width)) - 1)
            };
            Ok(if upper {
                format!("{:0width$X}", masked, width = width)
            } else {
                format!("{:0width$x}", masked, width = width)
            })
        })?,
    )?;
    Ok(bit)
}

/// The registry name of the Lua function that makes a read-only view of a
/// table (`readonly(t)`), for the `redis` table built later.
pub const READONLY_KEY: &str = "cachet.readonly";
/// The registry name of the environment EVAL scripts are compiled with.
pub const SCRIPT_ENV_KEY: &str = "cachet.script_env";

/// Globals are fixed once the sandbox is set up, as Redis 7.0 fixes them:
/// assigning a global, or a field of a library table, raises "Attempt to
/// modify a readonly table"; reading an undefined global raises Redis's
/// error; the metatables cannot be changed. Errors are raised from Lua, so
/// they carry the script's line.
fn protect_globals(lua: &Lua) -> mlua::Result<()> {
    let (readonly, script_env): (mlua::Function, mlua::Table) = lua
        .load(
            r#"
        local readonly_error = function() error("Attempt to modify a readonly table", 2) end
        local protected = setmetatable({}, { __mode = 'k' })
        local raw_setmetatable = setmetatable
        local function readonly(t)
            local meta = { __index = t, __newindex = readonly_error }
            meta.__metatable = meta
            local proxy = raw_setmetatable({}, meta)
            protected[proxy] = true
            return proxy
        end
        for _, name in ipairs({ 'string', 'math', 'table', 'bit', 'cjson', 'cmsgpack', 'struct' }) do
            local library = rawget(_G, name)
            if type(library) == 'table' then rawset(_G, name, readonly(library)) end
        end
        local raw_loadstring = loadstring
        rawset(_G, 'loadstring', function(code, name)
            if type(code) == 'string' and code:byte(1) == 27 then
                return nil, 'binary chunks are not allowed'
            end
            return raw_loadstring(code, name)
        end)
        rawset(_G, 'setmetatable', function(t, meta)
            if protected[t] or t == _G then readonly_error() end
            return raw_setmetatable(t, meta)
        end)
        local globals_meta = {
            __newindex = readonly_error,
            __index = function(_, name)
                error("Script attempted to access nonexistent global variable '" .. tostring(name) .. "'", 2)
            end,
        }
        globals_meta.__metatable = readonly(globals_meta)
        raw_setmetatable(_G, globals_meta)
        -- What EVAL scripts see as their globals: _G itself cannot be
        -- assigned to even where a name exists (`redis = 1`, `_G = {}`).
        local script_env_meta = { __index = _G, __newindex = readonly_error }
        script_env_meta.__metatable = readonly(script_env_meta)
        local script_env = raw_setmetatable({}, script_env_meta)
        protected[script_env] = true
        local raw_rawset = rawset
        raw_rawset(_G, 'rawset', function(t, key, value)
            if protected[t] or t == _G then readonly_error() end
            return raw_rawset(t, key, value)
        end)
        return readonly, script_env
        "#,
        )
        .set_name("=sandbox")
        .call(())?;
    lua.set_named_registry_value(READONLY_KEY, readonly)?;
    lua.set_named_registry_value(SCRIPT_ENV_KEY, script_env)
}
