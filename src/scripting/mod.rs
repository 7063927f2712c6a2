//! Lua scripting (EVAL, EVALSHA, SCRIPT, and FUNCTION's libraries): the
//! Lua 5.1 interpreters, their sandbox, the script cache, the function
//! libraries, the run state of the script that runs, and the conversions
//! between Lua values and replies.
//!
//! What it owns: two `Lua` states, each behind a mutex (scripts run one at
//! a time, as in Redis): one for EVAL scripts, cached by SHA1, and one for
//! function libraries (`functions.rs`), which SCRIPT FLUSH leaves alone;
//! the hook that stops a killed script; the gate and busy state
//! (`run_state.rs`); the value conversions (`convert.rs`) and the libraries
//! scripts rely on (`codecs.rs`, the `bit` library in `sandbox.rs`). What it
//! must not touch: locks and the socket. A script runs inside its
//! command's handler, on its connection's runtime worker, which holds the
//! gate and every shard, so the script is atomic for every other client;
//! commands it calls run through `commands::run_locked` on those same
//! shards.

pub mod codecs;
pub mod convert;
pub mod functions;
pub mod run_state;
pub mod sandbox;

use mlua::{Function, Lua};
use parking_lot::Mutex;
use run_state::RunState;
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// The lowercase hex SHA1 of `bytes` (script names, `redis.sha1hex`).
pub fn sha1_hex(bytes: &[u8]) -> String {
    sha1_smol::Sha1::from(bytes).digest().to_string()
}

/// A cached script: its body, its compiled function, and the flags of
/// its `#!lua flags=...` line (None without one: Redis's compatibility mode).
pub struct Script {
    pub body: Vec<u8>,
    pub function: Function,
    pub flags: Option<u32>,
}

/// The interpreter and what it has compiled.
pub struct Engine {
    pub lua: Lua,
    /// By SHA1 (hex), hashed with foldhash (SipHash showed in profiles).
    pub scripts: HashMap<String, Script, foldhash::fast::RandomState>,
}

/// The scripting state of one server.
pub struct Scripting {
    engine: Mutex<Option<Engine>>,
    /// FUNCTION libraries, in an interpreter of their own (created on first use).
    functions: Mutex<Option<functions::Functions>>,
    /// The running script, the gate and the kill switch.
    pub run: Arc<RunState>,
    /// Libraries and functions loaded, for FUNCTION STATS while a function
    /// runs (and holds `functions`).
    function_counts: [AtomicUsize; 2],
}

impl Default for Scripting {
    fn default() -> Self {
        Scripting {
            engine: Mutex::new(None),
            functions: Mutex::new(None),
            run: Arc::new(RunState::default()),
            function_counts: Default::default(),
        }
    }
}

/// Lua instructions between two checks of the clock and the kill switch
/// (Redis checks as often).
const HOOK_EVERY: u32 = 100_000;

/// A sandboxed interpreter whose scripts stop when killed.
pub fn new_interpreter(run: &Arc<RunState>) -> mlua::Result<Lua> {
    let lua = sandbox::new_lua()?;
    install_hook(&lua, run, false)?;
    Ok(lua)
}

/// Marks (in the Lua app data) that the hook fires on every line since a
/// kill, until the killed script has ended.
struct KilledHook;

/// The hook: every `HOOK_EVERY` instructions it checks the clock and the
/// kill switch. Once a script is killed it fires on every line, as in
/// Redis, so that a `pcall` in a loop cannot swallow the kill.
fn install_hook(lua: &Lua, run: &Arc<RunState>, every_line: bool) -> mlua::Result<()> {
    let triggers = if every_line {
        mlua::HookTriggers::EVERY_LINE
    } else {
        mlua::HookTriggers::new().every_nth_instruction(HOOK_EVERY)
    };
    let run = run.clone();
    lua.set_hook(triggers, move |lua, _| {
        // On the script thread, scripts that ran before this long one have
        // their replies sent (elsewhere there are none waiting).
        crate::server::script_thread::deliver_answers();
        let loading_too_long = lua
            .app_data_ref::<functions::LoadDeadline>()
            .is_some_and(|deadline| std::time::Instant::now() >= deadline.0);
        if loading_too_long {
            return Err(mlua::Error::RuntimeError("FUNCTION LOAD timeout".into()));
        }
        if !run.check_from_hook() {
            return Ok(mlua::VmState::Continue);
        }
        if !every_line {
            install_hook(lua, &run, true)?;
            lua.set_app_data(KilledHook);
        }
        Err(mlua::Error::RuntimeError(run_state::KILLED.into()))
    })
}

/// After a script ends: back to the cheap hook if a kill switched it.
pub fn reset_hook(lua: &Lua, run: &Arc<RunState>) {
    if lua.remove_app_data::<KilledHook>().is_some() {
        if let Err(error) = install_hook(lua, run, false) {
            tracing::warn!("cannot reset the script hook: {}", error);
        }
    }
}

impl Scripting {
    /// Runs `f` with the engine, creating it on first use.
    pub fn with_engine<R>(&self, f: impl FnOnce(&mut Engine) -> R) -> Result<R, String> {
        let mut guard = self.engine.lock();
        if guard.is_none() {
            let lua = new_interpreter(&self.run).map_err(|e| e.to_string())?;
            *guard = Some(Engine {
                lua,
                scripts: HashMap::default(),
            });
        }
        match guard.as_mut() {
            Some(engine) => Ok(f(engine)),
            None => Err("the Lua interpreter is unavailable".into()),
        }
    }

    /// Runs `f` with the function libraries, creating them on first use.
    pub fn with_functions<R>(
        &self,
        f: impl FnOnce(&mut functions::Functions) -> R,
    ) -> Result<R, String> {
        let mut guard = self.functions.lock();
        if guard.is_none() {
            *guard = Some(functions::Functions::new(&self.run).map_err(|e| e.to_string())?);
        }
        let Some(functions) = guard.as_mut() else {
            return Err("the Lua interpreter is unavailable".into());
        };
        let result = f(functions);
        let counts = [functions.libraries().count(), functions.function_count()];
        for (kept, count) in self.function_counts.iter().zip(counts) {
            kept.store(count, Ordering::Relaxed);
        }
        Ok(result)
    }

    /// How many libraries and functions are loaded.
    pub fn function_counts(&self) -> (usize, usize) {
        let [libraries, functions] = &self.function_counts;
        (
            libraries.load(Ordering::Relaxed),
            functions.load(Ordering::Relaxed),
        )
    }

    /// SCRIPT FLUSH: forgets every script (and starts a fresh interpreter).
    pub fn flush(&self) {
        *self.engine.lock() = None;
    }

    /// The body of the cached script with this SHA1.
    pub fn cached_body(&self, sha: &[u8]) -> Option<Vec<u8>> {
        let sha = String::from_utf8_lossy(sha).to_ascii_lowercase();
        let engine = self.engine.lock();
        engine.as_ref()?.scripts.get(&sha).map(|s| s.body.clone())
    }

    /// Whether the cached script with this SHA1 says `flags=no-writes`.
    pub fn cached_cannot_write(&self, sha: &[u8]) -> bool {
        self.cached_body(sha)
            .is_some_and(|body| self.body_cannot_write(&body))
    }

    /// Whether a script's shebang line says `flags=no-writes`.
    pub fn body_cannot_write(&self, body: &[u8]) -> bool {
        matches!(parse_shebang(body), Ok((Some(flags), _)) if flags & functions::NO_WRITES != 0)
    }

    /// How many scripts are cached (INFO's `number_of_cached_scripts`).
    pub fn script_count(&self) -> usize {
        self.engine.lock().as_ref().map_or(0, |e| e.scripts.len())
    }

    /// Whether a script with this SHA1 is cached.
    pub fn exists(&self, sha: &str) -> bool {
        self.engine
            .lock()
            .as_ref()
            .is_some_and(|e| e.scripts.contains_key(&sha.to_ascii_lowercase()))
    }
}

impl Engine {
    /// Compiles and caches `body`; returns its SHA1, or Redis's compile error.
    pub fn load(&mut self, body: &[u8]) -> Result<String, String> {
        let sha = sha1_hex(body);
        if self.scripts.contains_key(&sha) {
            return Ok(sha);
        }
        let (flags, code_start) = parse_shebang(body)?;
        let env: mlua::Table = self
            .lua
            .named_registry_value(sandbox::SCRIPT_ENV_KEY)
            .map_err(|e| format!("ERR {}", e))?;
        let function = self
            .lua
            .load(&body[code_start..])
            .set_name("@user_script")
            .set_environment(env)
            .into_function()
            .map_err(|e| {
                format!(
                    "ERR Error compiling script (new function): {}",
                    sandbox::plain_message(&e)
                )
            })?;
        self.scripts.insert(
            sha.clone(),
            Script {
                body: body.to_vec(),
                function,
                flags,
            },
        );
        Ok(sha)
    }
}

/// The words of the first line of a script or library (a `#!` line), and
/// where that line ends; None when there is no line end.
pub(crate) fn first_line_words(code: &[u8]) -> Option<(Vec<String>, usize)> {
    let end = code.iter().position(|&c| c == b'\n')?;
    let words = crate::protocol::parser::split_args(&code[..end]).unwrap_or_default();
    let words = words
        .iter()
        .map(|w| String::from_utf8_lossy(w).into_owned())
        .collect();
    Some((words, end))
}

/// The flags of an EVAL script's `#!lua [flags=a,b]` first line, and where
/// its code starts (at that line's newline, so line numbers stay).
fn parse_shebang(body: &[u8]) -> Result<(Option<u32>, usize), String> {
    if !body.starts_with(b"#!") {
        return Ok((None, 0));
    }
    let Some((words, end)) = first_line_words(body) else {
        return Err("ERR Invalid script shebang".into());
    };
    let mut parts = words.iter().map(String::as_str);
    match parts.next() {
        Some("#!lua") => {}
        Some(_) => return Err("ERR Unexpected engine in script shebang".into()),
        None => return Err("ERR Invalid engine in script shebang".into()),
    }
    let mut flags = 0;
    for part in parts {
        let Some(list) = part.strip_prefix("flags=") else {
            return Err(format!("ERR Unknown lua shebang option: {}", part));
        };
        for name in list.split(',').filter(|n| !n.is_empty()) {
            flags |= functions::flag_named(name.as_bytes())
                .ok_or_else(|| format!("ERR Unexpected flag in script shebang: {}", name))?;
        }
    }
    Ok((Some(flags), end))
}

/// `redis.REDIS_VERSION_NUM`: the version as 0x00MMmmpp.
pub fn redis_version_num() -> i64 {
    crate::REDIS_VERSION
        .split('.')
        .take(3)
        .map(|part| part.parse::<i64>().unwrap_or(0))
        .fold(0, |number, part| (number << 8) | (part & 0xff))
}
