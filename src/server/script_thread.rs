//! The thread that scripts and functions run on.
//!
//! What it owns: one OS thread, started on first use, and the queue of
//! jobs it runs in order. A job is a connection's script and the rest of
//! its batch (see `connection::run_script`); the connection's task awaits
//! the job's answer while the runtime goes on serving other clients, which
//! is what lets them be told BUSY. One thread, not the blocking pool:
//! scripts run one at a time anyway, and back-to-back jobs on one thread
//! hand no lock between threads. What it must not touch: shards, clients,
//! the Lua state; the job does.

use parking_lot::Mutex;
use std::sync::mpsc;

type Job = Box<dyn FnOnce() + Send>;

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
            let _ = answer.send(job());
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
        .spawn(move || {
            for job in receiver {
                // A panicking job drops its answer; the thread goes on.
                let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
            }
        });
    match spawned {
        Ok(_) => Some(sender),
        Err(error) => {
            tracing::error!("cannot start the script thread: {}", error);
            None
        }
    }
}
