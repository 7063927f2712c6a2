//! Blocked clients: BLPOP, BRPOP, BLMOVE, BRPOPLPUSH, BLMPOP, BZPOPMIN,
//! BZPOPMAX and BZMPOP waiting for a key to gain elements.
//!
//! The idea. A blocking command that finds nothing to pop registers a
//! `Waiter` on each of its keys, in arrival order, while it still holds the
//! shards of those keys, so no push can slip between "nothing there" and
//! "registered". A command that adds elements to a blocked-on key marks the
//! key ready in its shard (`DbShard::signal_ready`). When that command has
//! finished and released its shards, its connection serves the ready keys
//! (`serve_ready`): it wakes the first waiter of the key and waits for that
//! client to run its command again, then the next, until a waiter finds
//! nothing left. The woken client re-runs its own command on its own
//! connection (so replies, statistics and RESP versions stay its own), and
//! serves any key its command fed in turn (BLMOVE chains) before it answers
//! the waker. So when a push returns to its client, the blocked clients it
//! fed have been served, as in Redis, and no shard lock is ever held while
//! anyone waits.
//!
//! A woken client that finds the key empty again (another client was
//! faster) registers again at the front of the queues, keeping its turn and
//! its original deadline. Timeouts, CLIENT UNBLOCK and disconnection remove
//! a waiter under the registry lock, so a wake-up and a timeout can never
//! both win.
//!
//! This module owns the registry and the wake-up protocol; it does not pop
//! anything (the command handlers do) and never touches a socket.

use super::Shared;
use crate::protocol::OwnedArgs;
use parking_lot::Mutex;
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{oneshot, Notify};

/// How long a waker waits for a woken client to answer before moving on.
const WAKE_ACK_TIMEOUT: Duration = Duration::from_secs(5);
/// Wake-ups one ready key may cause in one serving round.
const MAX_WAKES_PER_KEY: usize = 100_000;

/// Why a blocked client stopped waiting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WakeReason {
    /// A key it waits on gained elements: run the command again.
    Ready,
    /// Its deadline passed.
    Timeout,
    /// CLIENT UNBLOCK: answer as on timeout, or with the UNBLOCKED error.
    Unblocked { error: bool },
}

#[derive(Default)]
struct WaiterState {
    wake: Option<WakeReason>,
    ack: Option<oneshot::Sender<bool>>,
}

/// One blocked client.
pub struct Waiter {
    pub client_id: u64,
    pub db: usize,
    /// The distinct keys it waits on, in the order it named them.
    pub keys: Vec<Box<[u8]>>,
    /// The type it pops (TYPE's name: "list" or "zset"); a key holding
    /// anything else does not wake it, as in Redis.
    pub wants: &'static str,
    notify: Notify,
    state: Mutex<WaiterState>,
}

impl Waiter {
    pub fn new(client_id: u64, db: usize, keys: Vec<Box<[u8]>>, wants: &'static str) -> Arc<Self> {
        Arc::new(Waiter {
            client_id,
            db,
            keys,
            wants,
            notify: Notify::new(),
            state: Mutex::new(WaiterState::default()),
        })
    }

    /// Resolves when the waiter has been woken (a permit is kept, so a wake
    /// before the wait is not lost).
    pub async fn woken(&self) {
        self.notify.notified().await
    }

    /// The reason it was woken, if it was.
    pub fn wake_reason(&self) -> Option<WakeReason> {
        self.state.lock().wake
    }

    /// The waker's acknowledgement channel (present after a `Ready` wake-up).
    pub fn take_ack(&self) -> Option<oneshot::Sender<bool>> {
        self.state.lock().ack.take()
    }
}

/// A client's blocked command, kept until it is served, times out or leaves.
pub struct BlockedCommand {
    pub waiter: Arc<Waiter>,
    pub args: OwnedArgs,
    pub deadline: Option<tokio::time::Instant>,
}

/// A key in one database.
type DbKey = (usize, Box<[u8]>);

#[derive(Default)]
struct Queues {
    by_key: HashMap<DbKey, VecDeque<Arc<Waiter>>>,
    by_client: HashMap<u64, Arc<Waiter>>,
}

impl Queues {
    fn detach(&mut self, waiter: &Arc<Waiter>) {
        for key in &waiter.keys {
            let slot = (waiter.db, key.clone());
            if let Some(queue) = self.by_key.get_mut(&slot) {
                queue.retain(|w| !Arc::ptr_eq(w, waiter));
                if queue.is_empty() {
                    self.by_key.remove(&slot);
                }
            }
        }
    }
}

/// Every blocked client, queued per (database, key) in arrival order.
#[derive(Default)]
pub struct BlockingRegistry {
    queues: Mutex<Queues>,
    blocked: AtomicUsize,
}

impl BlockingRegistry {
    /// Clients blocked now (INFO's `blocked_clients`).
    pub fn blocked_clients(&self) -> usize {
        self.blocked.load(Ordering::Relaxed)
    }

    /// Whether any client is blocked (commands skip ready-key work otherwise).
    pub fn any(&self) -> bool {
        self.blocked_clients() > 0
    }

    /// Queues `waiter` on its keys: at the back, or at the front for a client
    /// that was woken and found nothing (it keeps its turn). The caller holds
    /// the shards of the waiter's keys.
    pub fn register(&self, waiter: Arc<Waiter>, front: bool) {
        let mut queues = self.queues.lock();
        for key in &waiter.keys {
            let queue = queues.by_key.entry((waiter.db, key.clone())).or_default();
            if front {
                queue.push_front(waiter.clone());
            } else {
                queue.push_back(waiter.clone());
            }
        }
        if queues
            .by_client
            .insert(waiter.client_id, waiter.clone())
            .is_none()
        {
            self.blocked.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Forgets the client's waiter, whatever its state.
    pub fn unregister(&self, client_id: u64) {
        let mut queues = self.queues.lock();
        if let Some(waiter) = queues.by_client.remove(&client_id) {
            queues.detach(&waiter);
            self.blocked.fetch_sub(1, Ordering::Relaxed);
        }
    }

    /// Wakes the first not-yet-woken waiter on (db, key) and returns the
    /// channel on which it reports whether it was served.
    fn wake_first(&self, db: usize, key: &[u8], holds: &str) -> Option<oneshot::Receiver<bool>> {
        let mut queues = self.queues.lock();
        let queue = queues.by_key.get(&(db, Box::from(key)))?;
        let waiter = queue
            .iter()
            .find(|w| w.wants == holds && w.state.lock().wake.is_none())?
            .clone();
        let (ack, answer) = oneshot::channel();
        {
            let mut state = waiter.state.lock();
            state.wake = Some(WakeReason::Ready);
            state.ack = Some(ack);
        }
        queues.detach(&waiter);
        waiter.notify.notify_one();
        Some(answer)
    }

    /// The deadline of a waiter passed: true if it times out, false if a
    /// wake-up got there first (then it must act on that).
    pub fn time_out(&self, waiter: &Arc<Waiter>) -> bool {
        let _queues = self.queues.lock();
        let mut state = waiter.state.lock();
        if state.wake.is_some() {
            return false;
        }
        state.wake = Some(WakeReason::Timeout);
        true
    }

    /// CLIENT UNBLOCK: true if the client was blocked and is now released.
    pub fn unblock(&self, client_id: u64, error: bool) -> bool {
        let mut queues = self.queues.lock();
        let Some(waiter) = queues.by_client.get(&client_id).cloned() else {
            return false;
        };
        {
            let mut state = waiter.state.lock();
            if state.wake.is_some() {
                return false;
            }
            state.wake = Some(WakeReason::Unblocked { error });
        }
        queues.detach(&waiter);
        waiter.notify.notify_one();
        true
    }
}

/// Serves clients blocked on `ready` keys, one at a time per key, each to
/// completion (see the module comment). Holds no lock while it waits.
pub async fn serve_ready(shared: &Shared, ready: Vec<(usize, Box<[u8]>)>) {
    for (db, key) in ready {
        for _ in 0..MAX_WAKES_PER_KEY {
            let check = || servable_type(shared, db, &key);
            let Some(holds) = shared.scripting.run.when_free(check).await else {
                break;
            };
            let Some(answer) = shared.blocking.wake_first(db, &key, holds) else {
                break;
            };
            match tokio::time::timeout(WAKE_ACK_TIMEOUT, answer).await {
                // Served: there may be more for the next waiter.
                Ok(Ok(true)) => continue,
                // Found nothing: the key is empty again.
                Ok(Ok(false)) => break,
                // The client went away or stalled: try the next one.
                _ => continue,
            }
        }
    }
}

/// The type of a non-empty list or sorted set at `key`, which a blocked
/// client may pop from; None for anything else (a key deleted, or replaced
/// by a string, after it was fed).
fn servable_type(shared: &Shared, db: usize, key: &[u8]) -> Option<&'static str> {
    let mut locked = shared.keyspace.lock_one(key);
    let mut view =
        crate::storage::KeyView::new(&shared.keyspace, &mut locked, db, crate::util::now_ms());
    let value = view.peek(key)?.contents();
    (value.can_serve_blocked() && value.aggregate_len() != Some(0)).then(|| value.type_name())
}

/// Drops a blocked client's registration and its per-shard key counts
/// (after it was served, timed out, was unblocked, or disconnected).
pub fn release(shared: &Shared, blocked: &BlockedCommand) {
    let waiter = &blocked.waiter;
    shared.blocking.unregister(waiter.client_id);
    let mut locked = shared.keyspace.lock_keys(waiter.keys.iter().map(|k| &**k));
    let mut view = crate::storage::KeyView::new(
        &shared.keyspace,
        &mut locked,
        waiter.db,
        crate::util::now_ms(),
    );
    for key in &waiter.keys {
        view.table(key).unblock_key(key);
    }
}
