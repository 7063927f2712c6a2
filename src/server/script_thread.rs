//! The thread that scripts and functions run on.
//!
//! What it owns: one OS thread, started on first use, and the queue of
//! jobs it runs in order. A job is a connection's script and the rest of
//! its batch (see `connection::run_script`); the connection's task awaits
//! the job's answer while the runtime goes on serving other clients, which
//! is what lets them be told BUSY. One thread, not the blocking pool:
//! scripts run one at a time anyway, and back-to-back jobs on one thread
//! hand no lock between threads. Jobs run in rounds: every job queued when
//! one ends runs before the answers go out, so a round costs the runtime
//! one wake-up however many connections it serves. Used only where the
//! runtime cannot hand a worker's thread over (a current-thread runtime,
//! as when cachet is embedded in a test); see `scripting::run_state`.
//! What it must not touch: shards, clients, the Lua state; the job does.

use parking_lot::Mutex;
use std::cell::RefCell;
use std::sync::mpsc;

/// A queued job: runs, and returns the delivery of its answer.
type Job = Box<dyn FnOnce() -> Answer + Send>;
type Answer = Box<dyn FnOnce() + Send>;

/// At most this many queued jobs run before their answers go out.
const MAX_JOBS_PER_ROUND: usize = 64;

#[derive(Default)]
pub struct ScriptThread {
    jobs: Mutex<Option<mpsc::Sender<Job>>>,
}

impl ScriptThread {
    /// Queues `job`; the receiver gets its result, or an error if the job
    /// panicked or the thread could not start.
    pub fn run<R: Send + 'static>(
        &self,
        job: impl FnOnce() -> R + Send + 'static,
    ) -> tokio::sync::oneshot::Receiver<R> {
        let (answer, receiver) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move || {
            let result = job();
            Box::new(move || {
                let _ = answer.send(result);
            })
        });
        let mut jobs = self.jobs.lock();
        if jobs.is_none() {
            *jobs = start();
        }
        if let Some(sender) = jobs.as_ref() {
            if let Err(mpsc::SendError(job)) = sender.send(job) {
                // The thread is gone: a new one takes this job.
                *jobs = start();
                if let Some(sender) = jobs.as_ref() {
                    let _ = sender.send(job);
                }
            }
        }
        receiver
    }
}

/// Starts the thread; it ends when the queue's sender is dropped.
fn start() -> Option<mpsc::Sender<Job>> {
    let (sender, receiver) = mpsc::channel::<Job>();
    let spawned = std::thread::Builder::new()
        .name("cachet-script".into())
        // Deep cjson/cmsgpack nesting recurses; unoptimized builds need room.
        .stack_size(64 << 20)
        .spawn(move || run_jobs(receiver));
    match spawned {
        Ok(_) => Some(sender),
        Err(error) => {
            tracing::error!("cannot start the script thread: {}", error);
            None
        }
    }
}

thread_local! {
    /// Answers of jobs that ran in this round and are not delivered yet.
    static PENDING_ANSWERS: RefCell<Vec<Answer>> = const { RefCell::new(Vec::new()) };
}

/// Delivers the answers of the jobs that have run. The Lua hook calls it
/// too, so that a long script does not hold back the replies of the
/// scripts that ran before it.
pub fn deliver_answers() {
    let answers = PENDING_ANSWERS.with(|pending| std::mem::take(&mut *pending.borrow_mut()));
    for answer in answers {
        answer();
    }
}

/// Runs the queue's jobs until its sender is dropped: every job queued
/// meanwhile (up to `MAX_JOBS_PER_ROUND`) runs before the answers go out,
/// so that a round of waiting connections costs the runtime one wake-up.
fn run_jobs(receiver: mpsc::Receiver<Job>) {
    while let Ok(first) = receiver.recv() {
        let mut next = Some(first);
        let mut ran = 0;
        while let Some(job) = next.take() {
            // A panicking job drops its answer; the thread goes on.
            if let Ok(answer) = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job)) {
                PENDING_ANSWERS.with(|pending| pending.borrow_mut().push(answer));
            }
            ran += 1;
            if ran < MAX_JOBS_PER_ROUND {
                next = receiver.try_recv().ok();
            }
        }
        deliver_answers();
    }
}
