//! Who may run while a script runs: the script gate, the busy state past
//! `busy-reply-threshold`, and SCRIPT KILL / FUNCTION KILL.
//!
//! What it owns: the gate (a read-write lock: every batch of client
//! commands and every background sweep holds it for reading; a script holds
//! it for writing, on a thread of its own), and what is known of the
//! running script (its name, command, start, whether it wrote, whether a
//! kill was asked). What it must not touch: shards, sockets, the Lua state.
//!
//! Why a gate and a thread: a script can run for seconds, and Redis answers
//! other clients `-BUSY` meanwhile. So a script runs on a blocking thread,
//! never on the runtime's, and the runtime's tasks never wait on a lock the
//! script holds: they `try_read` the gate and, when a script holds it, wait
//! asynchronously until the script ends or turns busy.

use parking_lot::{Mutex, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

pub const BUSY_SCRIPT: &str =
    "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.";
pub const BUSY_FUNCTION: &str =
    "BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE.";
pub const NOT_BUSY: &str = "NOTBUSY No scripts in execution right now.";
pub const UNKILLABLE: &str = "UNKILLABLE Sorry the script already executed write commands against the dataset. You can either wait the script termination or kill the server in a hard way using the SHUTDOWN NOSAVE command.";
/// The Lua error a killed script ends with.
pub const KILLED: &str = "Script killed by user with SCRIPT KILL...";

/// The script now running, for FUNCTION STATS and the busy check.
#[derive(Clone)]
pub struct Running {
    pub name: String,
    pub command: Vec<Vec<u8>>,
    pub started: Instant,
    pub threshold: Duration,
    pub is_function: bool,
}

/// What a client batch (or a background sweep) may do now.
pub enum Admission<'a> {
    /// No script runs; hold this while touching shards.
    Open(RwLockReadGuard<'a, ()>),
    /// A script has run past the threshold: only ALLOW_BUSY commands that
    /// touch no shard may run, the rest get `-BUSY`.
    Busy,
    /// A script runs, still within the threshold: wait.
    Wait,
}

#[derive(Default)]
pub struct RunState {
    gate: RwLock<()>,
    running: AtomicBool,
    busy: AtomicBool,
    kill_requested: AtomicBool,
    wrote: AtomicBool,
    current: Mutex<Option<Running>>,
    changed: tokio::sync::Notify,
}

impl RunState {
    /// Admission for a batch of commands or a sweep.
    pub fn admit(&self) -> Admission<'_> {
        match self.gate.try_read() {
            Some(guard) => Admission::Open(guard),
            None if self.is_busy() => Admission::Busy,
            None => Admission::Wait,
        }
    }

    /// Taken by the script's thread before it locks any shard; dropping it
    /// lets the gate go. Waiting clients are told at the end of the
    /// thread's round of jobs (`round_ended`), not after each script.
    pub fn exclusive(&self) -> RwLockWriteGuard<'_, ()> {
        self.gate.write()
    }

    /// The script thread has run its queued jobs: clients waiting for the
    /// gate go on.
    pub fn round_ended(&self) {
        self.changed.notify_waiters();
    }

    /// A script starts (its thread holds the gate and every shard).
    pub fn begin(&self, running: Running) {
        self.kill_requested.store(false, Ordering::Release);
        self.wrote.store(false, Ordering::Release);
        self.busy.store(false, Ordering::Release);
        *self.current.lock() = Some(running);
        self.running.store(true, Ordering::Release);
    }

    /// The script ended, however it ended.
    pub fn end(&self) {
        self.running.store(false, Ordering::Release);
        self.busy.store(false, Ordering::Release);
        *self.current.lock() = None;
    }

    pub fn is_busy(&self) -> bool {
        self.busy.load(Ordering::Acquire)
    }

    /// The error for a command refused because a script is busy.
    pub fn busy_error(&self) -> &'static str {
        match self.current.lock().as_ref() {
            Some(running) if running.is_function => BUSY_FUNCTION,
            _ => BUSY_SCRIPT,
        }
    }

    /// Whether the running script has run a write command.
    pub fn has_written(&self) -> bool {
        self.wrote.load(Ordering::Acquire)
    }

    /// The script ran a write command: it can no longer be killed.
    pub fn note_write(&self) {
        self.wrote.store(true, Ordering::Release);
    }

    /// Called from the Lua hook: turns busy once past the threshold and
    /// answers whether the script must stop.
    pub fn check_from_hook(&self) -> bool {
        if !self.busy.load(Ordering::Relaxed) && self.past_threshold() {
            self.busy.store(true, Ordering::Release);
            self.changed.notify_waiters();
        }
        self.kill_requested.load(Ordering::Acquire)
    }

    fn past_threshold(&self) -> bool {
        self.current
            .lock()
            .as_ref()
            .is_some_and(|r| r.started.elapsed() >= r.threshold)
    }

    /// SCRIPT KILL (`function` false) or FUNCTION KILL (true).
    pub fn request_kill(&self, function: bool) -> Result<(), &'static str> {
        let current = self.current.lock();
        let Some(running) = current
            .as_ref()
            .filter(|_| self.running.load(Ordering::Acquire))
        else {
            return Err(NOT_BUSY);
        };
        if self.wrote.load(Ordering::Acquire) {
            return Err(UNKILLABLE);
        }
        match (function, running.is_function) {
            (false, true) => Err(BUSY_FUNCTION),
            (true, false) => Err(BUSY_SCRIPT),
            _ => {
                self.kill_requested.store(true, Ordering::Release);
                Ok(())
            }
        }
    }

    /// The running script, for FUNCTION STATS.
    pub fn running(&self) -> Option<Running> {
        if !self.running.load(Ordering::Acquire) {
            return None;
        }
        self.current.lock().clone()
    }

    /// Waits until the gate is free or the script has turned busy.
    pub async fn wait_until_free_or_busy(&self) {
        self.wait(true).await
    }

    /// Runs `f` (which locks shards) once no script holds the gate.
    pub async fn when_free<R>(&self, f: impl FnOnce() -> R) -> R {
        loop {
            if let Some(_gate) = self.gate.try_read() {
                return f();
            }
            self.wait(false).await;
        }
    }

    async fn wait(&self, until_busy: bool) {
        loop {
            let changed = self.changed.notified();
            tokio::pin!(changed);
            changed.as_mut().enable();
            if self.gate.try_read().is_some() {
                return;
            }
            if until_busy && self.is_busy() {
                return;
            }
            if until_busy && self.running.load(Ordering::Acquire) && self.past_threshold() {
                self.busy.store(true, Ordering::Release);
                return;
            }
            // The script thread's round end, or the hook as the script
            // turns busy, wakes this.
            changed.await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn running(is_function: bool, threshold_ms: u64) -> Running {
        Running {
            name: "f".into(),
            command: vec![b"fcall".to_vec()],
            started: Instant::now(),
            threshold: Duration::from_millis(threshold_ms),
            is_function,
        }
    }

    #[test]
    fn kill_answers_as_redis() {
        let state = RunState::default();
        assert_eq!(state.request_kill(false), Err(NOT_BUSY));
        state.begin(running(false, 0));
        assert_eq!(state.request_kill(true), Err(BUSY_SCRIPT));
        assert_eq!(state.request_kill(false), Ok(()));
        assert!(state.check_from_hook());
        state.end();
        state.begin(running(true, 0));
        state.note_write();
        assert_eq!(state.request_kill(true), Err(UNKILLABLE));
        state.end();
        assert!(state.running().is_none());
    }

    #[test]
    fn admission_follows_the_gate_and_the_threshold() {
        let state = RunState::default();
        assert!(matches!(state.admit(), Admission::Open(_)));
        let exclusive = state.exclusive();
        state.begin(running(false, 60_000));
        assert!(matches!(state.admit(), Admission::Wait));
        assert!(!state.check_from_hook());
        state.end();
        state.begin(running(false, 0));
        state.check_from_hook();
        assert!(matches!(state.admit(), Admission::Busy));
        state.end();
        drop(exclusive);
        assert!(matches!(state.admit(), Admission::Open(_)));
    }
}
