//! Who may run while a script runs: the script gate, the busy state past
//! `busy-reply-threshold`, and SCRIPT KILL / FUNCTION KILL.
//!
//! What it owns: the gate (a read-write lock: every batch of client
//! commands and every background sweep holds it for reading; a script holds
//! it for writing), what is known of the running script (its name,
//! command, start, whether it wrote, whether a kill was asked), and the
//! hand-off of a busy script's runtime worker. What it must not touch:
//! shards, sockets, the Lua state.
//!
//! Why a gate and a hand-off: a script can run for seconds, and Redis
//! answers other clients `-BUSY` meanwhile. A script runs where its client's
//! task runs, on a runtime worker, so short scripts cost nothing extra; once
//! one passes the threshold the worker's place goes to a new thread and the
//! script finishes on the old one. The runtime's tasks never wait on a lock
//! the script holds: they `try_read` the gate and, when a script holds it,
//! wait asynchronously until the script ends or turns busy. Only the Lua
//! hook turns a script busy, and it hands the worker over first, so a
//! waiter woken by it always finds a worker to run on. A current-thread
//! runtime cannot hand its thread over: there scripts run on the script
//! thread (`server::script_thread`), which takes the gate with `exclusive`.

use crate::stats::clock::Stamp;
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
    pub command: crate::protocol::OwnedArgs,
    pub started: Stamp,
    pub threshold: Duration,
    pub is_function: bool,
}

impl Running {
    /// How long the script has been running.
    pub fn elapsed(&self) -> Duration {
        Duration::from_micros(Stamp::now().micros_since(self.started))
    }
}

/// A script about to start, for `RunState::begin`.
pub struct Start<'a> {
    pub name: &'a str,
    pub command: crate::protocol::Args<'a>,
    /// When its command started (the client's clock mark).
    pub started: Stamp,
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

/// The script gate held for writing by a script; see `try_exclusive`.
pub struct Exclusive<'a> {
    state: &'a RunState,
    guard: Option<RwLockWriteGuard<'a, ()>>,
}

impl Drop for Exclusive<'_> {
    fn drop(&mut self) {
        self.state.exclusive_held.store(false, Ordering::Release);
        drop(self.guard.take());
        self.state.changed.notify_waiters();
    }
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
    /// A script holds the gate (not so for a script inside EXEC).
    exclusive_held: AtomicBool,
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

    /// Taken before a script locks any shard, unless a batch or another
    /// script holds the gate. Dropping it lets the gate go and wakes the
    /// clients waiting for it (also when a script panics).
    pub fn try_exclusive(&self) -> Option<Exclusive<'_>> {
        Some(self.hold_exclusive(self.gate.try_write()?))
    }

    /// `try_exclusive` for the script thread, which may wait for batches
    /// to let the gate go.
    pub fn exclusive(&self) -> Exclusive<'_> {
        self.hold_exclusive(self.gate.write())
    }

    fn hold_exclusive<'a>(&'a self, guard: RwLockWriteGuard<'a, ()>) -> Exclusive<'a> {
        self.exclusive_held.store(true, Ordering::Release);
        Exclusive {
            state: self,
            guard: Some(guard),
        }
    }

    /// Holds the gate for reading, waiting (blocking the thread) while a
    /// script holds it: for the few paths outside a batch that lock several
    /// shards at once, since a script takes its shards out of index order
    /// (`Keyspace::lock_on_demand`). Recursive: a batch may already hold it.
    pub fn hold_blocking(&self) -> RwLockReadGuard<'_, ()> {
        self.gate.read_recursive()
    }

    /// Whether a script holds the gate (when `try_exclusive` fails without
    /// one, batches on other workers hold it for a moment).
    pub fn script_holds_gate(&self) -> bool {
        self.exclusive_held.load(Ordering::Acquire)
    }

    /// A script starts (its thread holds the gate). The record of the
    /// last script is reused: a pipeline of scripts allocates nothing here.
    pub fn begin(&self, start: Start) {
        self.kill_requested.store(false, Ordering::Release);
        self.wrote.store(false, Ordering::Release);
        self.busy.store(false, Ordering::Release);
        let mut current = self.current.lock();
        let started = start.started;
        let running = current.get_or_insert_with(|| Running {
            name: String::new(),
            command: crate::protocol::OwnedArgs::default(),
            started,
            threshold: start.threshold,
            is_function: start.is_function,
        });
        running.name.clear();
        running.name.push_str(start.name);
        running.command.copy_from(start.command);
        running.started = started;
        running.threshold = start.threshold;
        running.is_function = start.is_function;
        drop(current);
        self.running.store(true, Ordering::Release);
    }

    /// The script ended, however it ended. Its record stays for the next
    /// one to reuse, unless it holds a big command (an EVAL's long body).
    pub fn end(&self) {
        self.running.store(false, Ordering::Release);
        self.busy.store(false, Ordering::Release);
        let mut current = self.current.lock();
        if current.as_ref().is_some_and(|r| !r.command.worth_keeping()) {
            *current = None;
        }
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
            if self.exclusive_held.load(Ordering::Acquire) {
                hand_off_runtime(|| self.changed.notify_waiters());
            }
            self.changed.notify_waiters();
        }
        self.kill_requested.load(Ordering::Acquire)
    }

    fn past_threshold(&self) -> bool {
        // The record outlives its script (`end` keeps it for reuse), and
        // the hook also runs while FUNCTION LOAD runs a library's code.
        if !self.running.load(Ordering::Acquire) {
            return false;
        }
        self.current
            .lock()
            .as_ref()
            .is_some_and(|r| r.elapsed() >= r.threshold)
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
            // The gate's release, or the hook as the script turns busy,
            // wakes this (only the hook turns a script busy: it hands the
            // runtime worker's place on first).
            changed.await;
        }
    }
}

/// How long a busy script waits for a new thread to take its worker's place.
const HAND_OFF_WAIT: Duration = Duration::from_secs(1);

/// With several workers, another one may run the probe task first: the new
/// thread gets at least this long to take the worker's place.
const HAND_OFF_SETTLE: Duration = Duration::from_millis(10);

/// Whether scripts may run on this task's runtime worker: only a
/// multi-thread runtime can hand a busy script's worker over.
pub fn runtime_can_hand_off() -> bool {
    tokio::runtime::Handle::try_current()
        .is_ok_and(|handle| handle.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread)
}

/// Called on a runtime worker that runs a script past the threshold: hands
/// the worker's place to a new thread (`block_in_place`) and returns once
/// that thread serves tasks, so the script goes on here while the runtime
/// answers other clients BUSY. `wake_waiters` runs off the worker, so the
/// tasks it wakes queue where any worker takes them. Clients never wait on
/// the script's locks: the gate sends them to wait asynchronously. Off a
/// multi-thread runtime (a script on the script thread) it does nothing.
fn hand_off_runtime(wake_waiters: impl FnOnce()) {
    let Ok(handle) = tokio::runtime::Handle::try_current() else {
        return;
    };
    if handle.runtime_flavor() != tokio::runtime::RuntimeFlavor::MultiThread {
        return;
    }
    tokio::task::block_in_place(|| {
        wake_waiters();
        let serving = std::sync::Arc::new(AtomicBool::new(false));
        let flag = serving.clone();
        handle.spawn(async move { flag.store(true, Ordering::Release) });
        let started = Instant::now();
        loop {
            let elapsed = started.elapsed();
            let settled = serving.load(Ordering::Acquire) && elapsed >= HAND_OFF_SETTLE;
            if settled || elapsed >= HAND_OFF_WAIT {
                break;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn running(
        command: &crate::protocol::OwnedArgs,
        is_function: bool,
        threshold_ms: u64,
    ) -> Start<'_> {
        Start {
            name: "f",
            command: command.args(),
            started: Stamp::now(),
            threshold: Duration::from_millis(threshold_ms),
            is_function,
        }
    }

    #[test]
    fn kill_answers_as_redis() {
        let state = RunState::default();
        let command = crate::protocol::OwnedArgs::from_slices([&b"fcall"[..]]);
        assert_eq!(state.request_kill(false), Err(NOT_BUSY));
        state.begin(running(&command, false, 0));
        assert_eq!(state.request_kill(true), Err(BUSY_SCRIPT));
        assert_eq!(state.request_kill(false), Ok(()));
        assert!(state.check_from_hook());
        state.end();
        state.begin(running(&command, true, 0));
        state.note_write();
        assert_eq!(state.request_kill(true), Err(UNKILLABLE));
        state.end();
        assert!(state.running().is_none());
        // An ended script's record (kept for reuse) never turns busy.
        assert!(!state.check_from_hook());
        assert!(!state.is_busy());
    }

    #[test]
    fn admission_follows_the_gate_and_the_threshold() {
        let state = RunState::default();
        let command = crate::protocol::OwnedArgs::from_slices([&b"fcall"[..]]);
        assert!(matches!(state.admit(), Admission::Open(_)));
        let exclusive = state.try_exclusive().expect("free");
        state.begin(running(&command, false, 60_000));
        assert!(matches!(state.admit(), Admission::Wait));
        assert!(!state.check_from_hook());
        state.end();
        state.begin(running(&command, false, 0));
        state.check_from_hook();
        assert!(matches!(state.admit(), Admission::Busy));
        state.end();
        drop(exclusive);
        assert!(matches!(state.admit(), Admission::Open(_)));
    }
}
