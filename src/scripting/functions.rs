//! Redis 7.0 functions: libraries of Lua functions that FUNCTION LOAD
//! registers and FCALL calls, in an interpreter of their own.
//!
//! What it owns: that interpreter, the libraries (name, code, functions)
//! and the index of functions by name, the parsing of a library's
//! `#!lua name=...` line, and the two environments a library's code sees:
//! while it loads, only `redis.register_function` and `redis.log`; when its
//! functions run, the usual globals. Both are read-only, as in Redis. What
//! it must not touch: shards, clients, replies (`commands::functions`
//! does that).

use super::run_state::RunState;
use super::sandbox::plain_message;
use mlua::{Function, Lua, Table, Value};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long a library's code may run while it loads (Redis's LOAD_TIMEOUT_MS).
const LOAD_TIMEOUT: Duration = Duration::from_millis(500);

/// Function flags, in the order FUNCTION LIST shows them.
pub const FLAG_NAMES: &[(u32, &str)] = &[
    (NO_WRITES, "no-writes"),
    (ALLOW_OOM, "allow-oom"),
    (ALLOW_STALE, "allow-stale"),
    (NO_CLUSTER, "no-cluster"),
    (ALLOW_CROSS_SLOT_KEYS, "allow-cross-slot-keys"),
];
pub const NO_WRITES: u32 = 1;
pub const ALLOW_OOM: u32 = 2;
pub const ALLOW_STALE: u32 = 4;
pub const NO_CLUSTER: u32 = 8;
pub const ALLOW_CROSS_SLOT_KEYS: u32 = 16;

/// The Lua side: the read-only environment every library chunk runs in
/// (its `__index` looks in the load-time API while loading, in the globals
/// after), and the load-time `redis` table.
const ENVIRONMENT: &str = r#"
local register_function, log, version, version_num = ...
local globals = _G
local loading = { on = false }
local function readonly(source, is_loading)
    return setmetatable({}, {
        __index = function(_, name)
            local value = rawget(is_loading and is_loading() or source, name)
            if value == nil then
                error("Script attempted to access nonexistent global variable '" .. tostring(name) .. "'", 2)
            end
            return value
        end,
        __newindex = function()
            error("Attempt to modify a readonly table", 2)
        end,
        __metatable = false,
    })
end
local load_redis = readonly({
    register_function = register_function,
    log = log,
    LOG_DEBUG = 0, LOG_VERBOSE = 1, LOG_NOTICE = 2, LOG_WARNING = 3,
    REDIS_VERSION = version, REDIS_VERSION_NUM = version_num,
})
local load_api = { redis = load_redis }
local env = readonly(nil, function()
    if loading.on then return load_api end
    return globals
end)
local set_loading = function(on) loading.on = on end
return env, set_loading
"#;

/// One registered function.
pub struct FunctionDef {
    pub name: String,
    pub description: Option<Vec<u8>>,
    pub flags: u32,
    pub callback: Function,
}

/// One library: its name, its whole code (shebang included), its functions
/// in registration order.
pub struct Library {
    pub name: String,
    pub code: Vec<u8>,
    pub functions: Vec<FunctionDef>,
}

/// What FUNCTION RESTORE does with libraries already loaded.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum RestorePolicy {
    Flush,
    Append,
    Replace,
}

/// The functions interpreter and its libraries.
pub struct Functions {
    pub lua: Lua,
    env: Table,
    set_loading: Function,
    /// By lowercase library name.
    libraries: BTreeMap<String, Library>,
    /// Lowercase function name -> lowercase library name.
    index: HashMap<String, String>,
}

/// Registrations collected while a library loads (in the Lua app data).
struct Loading(Vec<FunctionDef>);

/// When the loading library's code must stop (in the Lua app data).
pub struct LoadDeadline(pub Instant);

impl Functions {
    pub fn new(run: &Arc<RunState>) -> mlua::Result<Functions> {
        let lua = super::new_interpreter(run)?;
        let register = lua.create_function(register_function)?;
        let log = lua.create_function(|_, args: mlua::Variadic<Value>| {
            log_from_library(&args);
            Ok(())
        })?;
        let (env, set_loading): (Table, Function) =
            lua.load(ENVIRONMENT).set_name("=functions").call((
                register,
                log,
                crate::REDIS_VERSION,
                super::redis_version_num(),
            ))?;
        Ok(Functions {
            lua,
            env,
            set_loading,
            libraries: BTreeMap::new(),
            index: HashMap::new(),
        })
    }

    /// The function called `name` (any case) and whether it exists.
    pub fn function(&self, name: &str) -> Option<&FunctionDef> {
        let lower = name.to_ascii_lowercase();
        let library = self.libraries.get(self.index.get(&lower)?)?;
        library
            .functions
            .iter()
            .find(|f| f.name.eq_ignore_ascii_case(name))
    }

    pub fn libraries(&self) -> impl Iterator<Item = &Library> {
        self.libraries.values()
    }

    pub fn function_count(&self) -> usize {
        self.index.len()
    }

    /// FUNCTION LOAD: compiles `code` and links it; returns the library name.
    pub fn load(&mut self, code: &[u8], replace: bool) -> Result<String, String> {
        let library = self.compile(code)?;
        let key = library.name.to_ascii_lowercase();
        if self.libraries.contains_key(&key) && !replace {
            return Err(format!("Library '{}' already exists", library.name));
        }
        let old = self.unlink(&key);
        if let Some(taken) = self.first_taken_function(&library) {
            if let Some(old) = old {
                self.link(old);
            }
            return Err(format!("Function {} already exists", taken));
        }
        let name = library.name.clone();
        self.link(library);
        Ok(name)
    }

    /// FUNCTION DELETE.
    pub fn delete(&mut self, name: &str) -> bool {
        self.unlink(&name.to_ascii_lowercase()).is_some()
    }

    /// FUNCTION FLUSH.
    pub fn flush(&mut self) {
        self.libraries.clear();
        self.index.clear();
    }

    /// FUNCTION RESTORE: every library in `codes`, all or none.
    pub fn restore(&mut self, codes: &[Vec<u8>], policy: RestorePolicy) -> Result<(), String> {
        let mut incoming = Vec::with_capacity(codes.len());
        for code in codes {
            incoming.push(self.compile(code)?);
        }
        match policy {
            RestorePolicy::Flush => {
                let libraries = std::mem::take(&mut self.libraries);
                let index = std::mem::take(&mut self.index);
                let joined = self.link_all(incoming);
                if joined.is_err() {
                    self.libraries = libraries;
                    self.index = index;
                }
                joined
            }
            RestorePolicy::Append => {
                if let Some(clash) = incoming
                    .iter()
                    .find(|l| self.libraries.contains_key(&l.name.to_ascii_lowercase()))
                {
                    return Err(format!("Library {} already exists", clash.name));
                }
                self.link_all(incoming)
            }
            RestorePolicy::Replace => {
                let replaced: Vec<Library> = incoming
                    .iter()
                    .filter_map(|l| self.unlink(&l.name.to_ascii_lowercase()))
                    .collect();
                let joined = self.link_all(incoming);
                if joined.is_err() {
                    self.relink(replaced);
                }
                joined
            }
        }
    }

    /// Links every library, or none when a function name is taken.
    fn link_all(&mut self, incoming: Vec<Library>) -> Result<(), String> {
        let mut linked: Vec<String> = Vec::with_capacity(incoming.len());
        for library in incoming {
            if let Some(taken) = self.first_taken_function(&library) {
                for name in linked {
                    self.unlink(&name);
                }
                return Err(format!("Function {} already exists", taken));
            }
            linked.push(library.name.to_ascii_lowercase());
            self.link(library);
        }
        Ok(())
    }

    fn relink(&mut self, libraries: impl IntoIterator<Item = Library>) {
        for library in libraries {
            self.link(library);
        }
    }

    fn first_taken_function(&self, library: &Library) -> Option<String> {
        library
            .functions
            .iter()
            .find(|f| self.index.contains_key(&f.name.to_ascii_lowercase()))
            .map(|f| f.name.clone())
    }

    fn link(&mut self, library: Library) {
        let key = library.name.to_ascii_lowercase();
        for function in &library.functions {
            self.index
                .insert(function.name.to_ascii_lowercase(), key.clone());
        }
        self.libraries.insert(key, library);
    }

    fn unlink(&mut self, key: &str) -> Option<Library> {
        let library = self.libraries.remove(key)?;
        for function in &library.functions {
            self.index.remove(&function.name.to_ascii_lowercase());
        }
        Some(library)
    }

    /// Parses the library line, compiles the code and runs it so that it
    /// registers its functions; links nothing.
    fn compile(&self, code: &[u8]) -> Result<Library, String> {
        let metadata = parse_metadata(code)?;
        if !valid_name(metadata.name.as_bytes()) {
            return Err(INVALID_NAME.into());
        }
        if !metadata.engine.eq_ignore_ascii_case("lua") {
            return Err(format!("Engine '{}' not found", metadata.engine));
        }
        let chunk = self
            .lua
            .load(&code[metadata.body_start..])
            .set_name("@user_function")
            .set_environment(self.env.clone())
            .into_function()
            .map_err(|e| format!("Error compiling function: {}", plain_message(&e)))?;
        let functions = self.run_registration(&chunk)?;
        if functions.is_empty() {
            return Err("No functions registered".into());
        }
        Ok(Library {
            name: metadata.name,
            code: code.to_vec(),
            functions,
        })
    }

    fn run_registration(&self, chunk: &Function) -> Result<Vec<FunctionDef>, String> {
        let lua = &self.lua;
        lua.set_app_data(Loading(Vec::new()));
        lua.set_app_data(LoadDeadline(Instant::now() + LOAD_TIMEOUT));
        let loading = self.set_loading.call::<()>(true);
        let ran = loading.and_then(|_| chunk.call::<()>(()));
        let _ = self.set_loading.call::<()>(false);
        lua.remove_app_data::<LoadDeadline>();
        let registered = lua.remove_app_data::<Loading>().map(|l| l.0);
        ran.map_err(|e| format!("Error registering functions: {}", plain_message(&e)))?;
        Ok(registered.unwrap_or_default())
    }
}

const INVALID_NAME: &str = "Library names can only contain letters, numbers, or underscores(_) and must be at least one character long";

fn valid_name(name: &[u8]) -> bool {
    !name.is_empty() && name.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'_')
}

/// What a library's first line says.
struct Metadata {
    engine: String,
    name: String,
    /// Where the code after the first line starts (at its newline, so that
    /// error line numbers count the first line).
    body_start: usize,
}

fn parse_metadata(code: &[u8]) -> Result<Metadata, String> {
    if !code.starts_with(b"#!") {
        return Err("Missing library metadata".into());
    }
    let Some((words, end)) = super::first_line_words(code) else {
        return Err("Invalid library metadata".into());
    };
    let mut parts = words.iter();
    let Some(first) = parts.next() else {
        return Err("Invalid library metadata".into());
    };
    let engine = first.get(2..).unwrap_or_default().to_string();
    let mut name = None;
    for part in parts {
        match part.get(..5) {
            Some(prefix) if prefix.eq_ignore_ascii_case("name=") => {
                if name.is_some() {
                    return Err(
                        "Invalid metadata value, name argument was given multiple times".into(),
                    );
                }
                name = Some(part[5..].to_string());
            }
            _ => return Err(format!("Invalid metadata value given: {}", part)),
        }
    }
    let name = name.ok_or_else(|| "Library name was not given".to_string())?;
    Ok(Metadata {
        engine,
        name,
        body_start: end,
    })
}

fn runtime_error(text: &str) -> mlua::Error {
    mlua::Error::RuntimeError(text.into())
}

/// `redis.register_function(name, callback)` or
/// `redis.register_function{function_name=..., callback=..., flags=..., description=...}`.
fn register_function(lua: &Lua, args: mlua::MultiValue) -> mlua::Result<()> {
    if lua.app_data_ref::<Loading>().is_none() {
        return Err(runtime_error(
            "redis.register_function can only be called on FUNCTION LOAD command",
        ));
    }
    let function = match args.len() {
        1 => named_registration(&args[0])?,
        2 => positional_registration(&args[0], &args[1])?,
        _ => {
            return Err(runtime_error(
                "wrong number of arguments to redis.register_function",
            ))
        }
    };
    if !valid_name(function.name.as_bytes()) {
        return Err(runtime_error(INVALID_NAME));
    }
    let Some(mut loading) = lua.app_data_mut::<Loading>() else {
        return Err(runtime_error(
            "redis.register_function can only be called on FUNCTION LOAD command",
        ));
    };
    if loading.0.iter().any(|f| f.name == function.name) {
        return Err(runtime_error("Function already exists in the library"));
    }
    loading.0.push(function);
    Ok(())
}

fn lua_text(value: &Value) -> Option<Vec<u8>> {
    match value {
        Value::String(s) => Some(s.as_bytes().to_vec()),
        Value::Integer(n) => Some(n.to_string().into_bytes()),
        Value::Number(n) => Some(crate::util::format_general(*n, 14).into_bytes()),
        _ => None,
    }
}

fn positional_registration(name: &Value, callback: &Value) -> mlua::Result<FunctionDef> {
    let name = lua_text(name).ok_or_else(|| {
        runtime_error("first argument to redis.register_function must be a string")
    })?;
    let Value::Function(callback) = callback else {
        return Err(runtime_error(
            "second argument to redis.register_function must be a function",
        ));
    };
    Ok(FunctionDef {
        name: String::from_utf8_lossy(&name).into_owned(),
        description: None,
        flags: 0,
        callback: callback.clone(),
    })
}

fn named_registration(arguments: &Value) -> mlua::Result<FunctionDef> {
    let Value::Table(table) = arguments else {
        return Err(runtime_error("calling redis.register_function with a single argument is only applicable to Lua table (representing named arguments)."));
    };
    let (mut name, mut description, mut callback, mut flags) = (None, None, None, 0);
    for pair in table.pairs::<Value, Value>() {
        let (key, value) = pair?;
        let key = match &key {
            Value::String(s) => s.to_string_lossy().to_ascii_lowercase(),
            _ => {
                return Err(runtime_error(
                    "named argument key given to redis.register_function is not a string",
                ))
            }
        };
        match key.as_str() {
            "function_name" => {
                name = Some(lua_text(&value).ok_or_else(|| {
                    runtime_error(
                        "function_name argument given to redis.register_function must be a string",
                    )
                })?)
            }
            "description" => {
                description = Some(lua_text(&value).ok_or_else(|| {
                    runtime_error(
                        "description argument given to redis.register_function must be a string",
                    )
                })?)
            }
            "callback" => match value {
                Value::Function(f) => callback = Some(f),
                _ => {
                    return Err(runtime_error(
                        "callback argument given to redis.register_function must be a function",
                    ))
                }
            },
            "flags" => flags = read_flags(&value)?,
            _ => {
                return Err(runtime_error(
                    "unknown argument given to redis.register_function",
                ))
            }
        }
    }
    let name = name.ok_or_else(|| {
        runtime_error("redis.register_function must get a function name argument")
    })?;
    let callback = callback
        .ok_or_else(|| runtime_error("redis.register_function must get a callback argument"))?;
    Ok(FunctionDef {
        name: String::from_utf8_lossy(&name).into_owned(),
        description,
        flags,
        callback,
    })
}

/// A table of flag names, as `register_function` and `#!lua flags=` take them.
fn read_flags(value: &Value) -> mlua::Result<u32> {
    let Value::Table(table) = value else {
        return Err(runtime_error(
            "flags argument to redis.register_function must be a table representing function flags",
        ));
    };
    let mut flags = 0;
    for item in table.sequence_values::<Value>() {
        let item = item?;
        let text = lua_text(&item).unwrap_or_default();
        flags |= flag_named(&text).ok_or_else(|| runtime_error("unknown flag given"))?;
    }
    Ok(flags)
}

/// The flag called `name` (exactly, as Redis compares).
pub fn flag_named(name: &[u8]) -> Option<u32> {
    FLAG_NAMES
        .iter()
        .find(|(_, n)| n.as_bytes() == name)
        .map(|(flag, _)| *flag)
}

fn log_from_library(args: &[Value]) {
    let text: Vec<String> = args
        .iter()
        .skip(1)
        .filter_map(lua_text)
        .map(|t| String::from_utf8_lossy(&t).into_owned())
        .collect();
    tracing::info!("function library: {}", text.join(" "));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn engine() -> Functions {
        Functions::new(&Arc::new(RunState::default())).expect("interpreter")
    }

    fn library(name: &str, function: &str, body: &str) -> Vec<u8> {
        format!(
            "#!lua name={}\nredis.register_function('{}', function(keys, args) {} end)",
            name, function, body
        )
        .into_bytes()
    }

    #[test]
    fn metadata_errors_are_redis_errors() {
        let mut f = engine();
        assert_eq!(
            f.load(b"return 1", false).unwrap_err(),
            "Missing library metadata"
        );
        assert_eq!(
            f.load(b"#!lua name=a", false).unwrap_err(),
            "Invalid library metadata"
        );
        assert_eq!(
            f.load(b"#!bad name=a\n", false).unwrap_err(),
            "Engine 'bad' not found"
        );
        assert_eq!(
            f.load(b"#!lua name=a foo=b\n", false).unwrap_err(),
            "Invalid metadata value given: foo=b"
        );
        assert_eq!(
            f.load(b"#!lua\n", false).unwrap_err(),
            "Library name was not given"
        );
        assert_eq!(
            f.load(b"#!lua name=a\nreturn 1", false).unwrap_err(),
            "No functions registered"
        );
    }

    #[test]
    fn load_replace_and_collisions() {
        let mut f = engine();
        assert_eq!(
            f.load(&library("lib", "f1", "return 1"), false).unwrap(),
            "lib"
        );
        assert!(f.function("F1").is_some());
        assert_eq!(
            f.load(&library("lib", "f1", "return 2"), false)
                .unwrap_err(),
            "Library 'lib' already exists"
        );
        assert_eq!(
            f.load(&library("other", "f1", "return 2"), false)
                .unwrap_err(),
            "Function f1 already exists"
        );
        f.load(&library("lib", "f2", "return 2"), true).unwrap();
        assert!(f.function("f1").is_none());
        assert!(f.function("f2").is_some());
        assert!(f.delete("LIB"));
        assert_eq!(f.function_count(), 0);
    }

    #[test]
    fn the_load_environment_is_read_only_and_small() {
        let mut f = engine();
        let error = f.load(b"#!lua name=a\na = 1", false).unwrap_err();
        assert!(
            error.contains("Attempt to modify a readonly table"),
            "{}",
            error
        );
        let error = f
            .load(b"#!lua name=a\nreturn math.random()", false)
            .unwrap_err();
        assert!(
            error.contains("nonexistent global variable 'math'"),
            "{}",
            error
        );
        let error = f
            .load(b"#!lua name=a\nreturn redis.call('ping')", false)
            .unwrap_err();
        assert!(
            error.contains("nonexistent global variable 'call'"),
            "{}",
            error
        );
        let error = f
            .load(b"#!lua name=a\nlocal a = 1 while 1 do a = a + 1 end", false)
            .unwrap_err();
        assert!(error.contains("FUNCTION LOAD timeout"), "{}", error);
    }

    #[test]
    fn restore_policies() {
        let mut f = engine();
        f.load(&library("a", "fa", "return 1"), false).unwrap();
        let codes = vec![
            library("a", "fa", "return 2"),
            library("b", "fb", "return 3"),
        ];
        assert_eq!(
            f.restore(&codes, RestorePolicy::Append).unwrap_err(),
            "Library a already exists"
        );
        assert_eq!(f.function_count(), 1);
        f.restore(&codes, RestorePolicy::Replace).unwrap();
        assert_eq!(f.function_count(), 2);
        f.restore(&codes[1..], RestorePolicy::Flush).unwrap();
        assert_eq!(f.function_count(), 1);
        assert!(f.function("fa").is_none());
    }

    #[test]
    fn named_registration_reads_flags_and_description() {
        let mut f = engine();
        f.load(
            b"#!lua name=a\nredis.register_function{function_name='x', callback=function() return 1 end, flags={'no-writes'}, description='d'}",
            false,
        )
        .unwrap();
        let function = f.function("x").expect("registered");
        assert_eq!(function.flags, NO_WRITES);
        assert_eq!(function.description.as_deref(), Some(&b"d"[..]));
        let error = f
            .load(
                b"#!lua name=b\nredis.register_function{function_name='y', callback=function() end, flags={'bad'}}",
                false,
            )
            .unwrap_err();
        assert!(error.contains("unknown flag given"), "{}", error);
    }
}
