//! Lua scripting (EVAL, EVALSHA, SCRIPT): the one Lua 5.1 interpreter,
//! its sandbox, the script cache, and the conversions between Lua values
//! and replies.
//!
//! What it owns: the `Lua` state (created once, behind a mutex: scripts
//! run one at a time, as in Redis), the cache of scripts by SHA1, the
//! `redis` library that scripts call, and the value conversions
//! (`convert.rs`). What it must not touch: locks and the socket. A script
//! runs inside the EVAL handler, which the dispatcher called with every
//! shard held, so the script is atomic for every other client; commands it
//! calls run through `commands::run_locked` on those same shards.

pub mod convert;
pub mod sandbox;

use mlua::{Function, Lua};
use parking_lot::Mutex;
use std::collections::HashMap;

/// The lowercase hex SHA1 of `bytes` (script names, `redis.sha1hex`).
pub fn sha1_hex(bytes: &[u8]) -> String {
    sha1_smol::Sha1::from(bytes).digest().to_string()
}

/// A cached script: its body and its compiled function.
pub struct Script {
    pub body: Vec<u8>,
    pub function: Function,
}

/// The interpreter and what it has compiled.
pub struct Engine {
    pub lua: Lua,
    pub scripts: HashMap<String, Script>,
}

/// The scripting state of one server.
pub struct Scripting {
    engine: Mutex<Option<Engine>>,
}

impl Default for Scripting {
    fn default() -> Self {
        Scripting {
            engine: Mutex::new(None),
        }
    }
}

impl Scripting {
    /// Runs `f` with the engine, creating it on first use.
    pub fn with_engine<R>(&self, f: impl FnOnce(&mut Engine) -> R) -> Result<R, String> {
        let mut guard = self.engine.lock();
        if guard.is_none() {
            let lua = sandbox::new_lua().map_err(|e| e.to_string())?;
            *guard = Some(Engine {
                lua,
                scripts: HashMap::new(),
            });
        }
        match guard.as_mut() {
            Some(engine) => Ok(f(engine)),
            None => Err("the Lua interpreter is unavailable".into()),
        }
    }

    /// SCRIPT FLUSH: forgets every script (and starts a fresh interpreter).
    pub fn flush(&self) {
        *self.engine.lock() = None;
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
        let function = self
            .lua
            .load(body)
            .set_name("@user_script")
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
            },
        );
        Ok(sha)
    }
}
