//! Busy polling (`busy-poll-us`, `busy-poll-min-load`): after a client's
//! bytes arrive, the worker that serves connections keeps checking its
//! sockets for a short while instead of going to sleep, so that the next
//! request, when it comes soon, finds the worker awake.
//!
//! Why: at `-P 1` a request that finds the server's thread asleep costs a
//! wake-up (on a VM, an inter-processor interrupt and a context switch,
//! several microseconds) both in the client's `send` and in the server's
//! latency. Spinning for about one sleep-and-wake's cost before sleeping is
//! the ski-rental answer, and what Go's scheduler does (an idle worker polls
//! the network before it parks) and Linux's `net.core.busy_poll` offers.
//!
//! How: one task per server, the spinner. Once woken by a read it loops on
//! `tokio::task::yield_now()`; a worker whose only runnable task yielded
//! polls the IO driver with a zero timeout (`epoll_wait(.., 0)`) instead of
//! parking, runs whatever became ready, then the spinner again. The spinner
//! stops after `busy-poll-us` microseconds without a read and sleeps until
//! the next one.
//!
//! The price is CPU: spinning burns the worker's core between requests. So
//! it only happens while the runtime's workers spend at least
//! `busy-poll-min-load` percent of their time on real work (tokio's
//! busy-time metric, sampled every 10 ms): at the default of 25 the spinning
//! fills at most the other 75%, three times the work at worst, and a lightly
//! loaded server waits for requests asleep as usual. An idle server burns
//! nothing: the spinner sleeps until a read comes. (Seastar's reactor spins
//! 200 us before sleeping, with no such gate.) With several workers only
//! the one running the spinner polls; the others park as usual.
//!
//! This module owns the spinner, its flags and its load gauge only; it does
//! not read sockets or know what a request is: connections call
//! `note_read`.

use crate::util::signal::Signal;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// How often the load gauge is read, and how long the spinner waits before
/// looking again when the load is below the threshold.
const LOAD_SAMPLE_INTERVAL: Duration = Duration::from_millis(10);

#[derive(Default)]
pub struct BusyPoll {
    /// The spin budget in microseconds (0: off).
    budget_us: AtomicU64,
    /// The least worker load, in percent, at which spinning pays.
    min_load_percent: AtomicU64,
    /// A read happened that the spinner has not yet taken note of.
    read_pending: AtomicBool,
    /// Spins started (INFO `busy_poll_wakeups`).
    wakeups: AtomicU64,
    /// Microseconds spent spinning, in total (INFO `busy_poll_spin_usec`).
    spin_us: AtomicU64,
    /// The spinner is spinning (not asleep).
    spinning: AtomicBool,
    /// The workers' load at the last sample, in percent.
    load_percent: AtomicU64,
    signal: Signal,
}

impl BusyPoll {
    /// Called by a connection after each read: cheap (one load) while the
    /// spinner has not yet seen the previous read.
    #[inline]
    pub fn note_read(&self) {
        if !self.read_pending.load(Ordering::Relaxed) {
            self.read_pending.store(true, Ordering::Release);
            self.signal.wake();
        }
    }

    /// Sets `busy-poll-us` and `busy-poll-min-load`; they take effect at once.
    pub fn configure(&self, budget_us: u64, min_load_percent: u64) {
        self.budget_us.store(budget_us, Ordering::Relaxed);
        self.min_load_percent
            .store(min_load_percent, Ordering::Relaxed);
        self.signal.wake();
    }

    /// How many spins have started.
    pub fn wakeups(&self) -> u64 {
        self.wakeups.load(Ordering::Relaxed)
    }

    /// Microseconds spent spinning, in total.
    pub fn spin_us(&self) -> u64 {
        self.spin_us.load(Ordering::Relaxed)
    }

    /// The workers' load, in percent, when last sampled.
    pub fn load_percent(&self) -> u64 {
        self.load_percent.load(Ordering::Relaxed)
    }

    /// Whether the spinner is spinning now (it sleeps when idle).
    pub fn spinning(&self) -> bool {
        self.spinning.load(Ordering::Relaxed)
    }

    fn budget(&self) -> Duration {
        Duration::from_micros(self.budget_us.load(Ordering::Relaxed))
    }

    fn loaded_enough(&self, gauge: &mut LoadGauge) -> bool {
        let load = gauge.sample();
        self.load_percent.store(load, Ordering::Relaxed);
        load >= self.min_load_percent.load(Ordering::Relaxed)
    }

    /// The spinner: runs until the server stops (its task is dropped).
    pub async fn run(&self) {
        let mut gauge = LoadGauge::new();
        loop {
            self.signal
                .until(|| !self.budget().is_zero() && self.read_pending.load(Ordering::Acquire))
                .await;
            if !self.loaded_enough(&mut gauge) {
                // Too little work for spinning to pay: look again later,
                // leaving the read noted so that reads stay cheap meanwhile.
                tokio::time::sleep(LOAD_SAMPLE_INTERVAL).await;
                continue;
            }
            self.wakeups.fetch_add(1, Ordering::Relaxed);
            self.spinning.store(true, Ordering::Relaxed);
            let started = Instant::now();
            self.spin(&mut gauge).await;
            let spun = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
            self.spin_us.fetch_add(spun, Ordering::Relaxed);
            self.spinning.store(false, Ordering::Relaxed);
        }
    }

    /// Yields to the runtime until no read came for a whole budget, or the
    /// load fell below the threshold.
    async fn spin(&self, gauge: &mut LoadGauge) {
        let mut last_read = Instant::now();
        loop {
            let budget = self.budget();
            if budget.is_zero() {
                return;
            }
            tokio::task::yield_now().await;
            let now = Instant::now();
            if self.read_pending.swap(false, Ordering::AcqRel) {
                last_read = now;
            } else if now.duration_since(last_read) > budget {
                return;
            }
            if gauge.due(now) && !self.loaded_enough(gauge) {
                return;
            }
        }
    }
}

/// The share of the runtime's worker time spent running tasks since the
/// previous sample (tokio's `worker_total_busy_duration`, which leaves out
/// the time a worker waits in, or polls, its IO driver).
struct LoadGauge {
    sampled_at: Instant,
    busy_total: Duration,
    load_percent: u64,
}

impl LoadGauge {
    fn new() -> Self {
        LoadGauge {
            sampled_at: Instant::now(),
            busy_total: worker_time().0,
            load_percent: 0,
        }
    }

    fn due(&self, now: Instant) -> bool {
        now.duration_since(self.sampled_at) >= LOAD_SAMPLE_INTERVAL
    }

    /// The load over the time since the last sample, sampling at most every
    /// `LOAD_SAMPLE_INTERVAL` (in between, the last figure).
    fn sample(&mut self) -> u64 {
        let now = Instant::now();
        if !self.due(now) {
            return self.load_percent;
        }
        let (busy, workers) = worker_time();
        let span = now.duration_since(self.sampled_at).as_nanos() * workers.max(1) as u128;
        let worked = busy.saturating_sub(self.busy_total).as_nanos();
        self.load_percent = u64::try_from((worked * 100 / span.max(1)).min(100)).unwrap_or(100);
        self.sampled_at = now;
        self.busy_total = busy;
        self.load_percent
    }
}

/// Busy time summed over the current runtime's workers, and how many
/// workers there are (none outside a runtime).
fn worker_time() -> (Duration, usize) {
    let Ok(handle) = tokio::runtime::Handle::try_current() else {
        return (Duration::ZERO, 0);
    };
    let metrics = handle.metrics();
    let workers = metrics.num_workers();
    let busy = (0..workers)
        .map(|worker| metrics.worker_total_busy_duration(worker))
        .sum();
    (busy, workers)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    /// Yields until `condition` holds; false after 10 s.
    async fn eventually(condition: impl Fn() -> bool) -> bool {
        tokio::time::timeout(Duration::from_secs(10), async {
            while !condition() {
                tokio::task::yield_now().await;
            }
        })
        .await
        .is_ok()
    }

    fn start(
        budget_us: u64,
        min_load_percent: u64,
    ) -> (Arc<BusyPoll>, tokio::task::JoinHandle<()>) {
        let busy_poll = Arc::new(BusyPoll::default());
        busy_poll.configure(budget_us, min_load_percent);
        let spinner = tokio::spawn({
            let busy_poll = busy_poll.clone();
            async move { busy_poll.run().await }
        });
        (busy_poll, spinner)
    }

    #[tokio::test]
    async fn an_idle_spinner_goes_to_sleep_and_a_read_wakes_it() {
        let (busy_poll, spinner) = start(50, 0);
        for round in 1..=3 {
            busy_poll.note_read();
            assert!(
                eventually(|| busy_poll.wakeups() == round).await,
                "round {}: the read did not wake the spinner",
                round
            );
            // With no further reads the spinner stops by itself.
            assert!(
                eventually(|| !busy_poll.spinning()).await,
                "round {}: the spinner did not go back to sleep",
                round
            );
        }
        spinner.abort();
    }

    #[tokio::test]
    async fn a_zero_budget_never_spins_until_one_is_set() {
        let (busy_poll, spinner) = start(0, 0);
        busy_poll.note_read();
        for _ in 0..100 {
            tokio::task::yield_now().await;
        }
        assert_eq!(busy_poll.wakeups(), 0);
        busy_poll.configure(20, 0);
        assert!(
            eventually(|| busy_poll.wakeups() == 1).await,
            "setting a budget did not start the spinner"
        );
        // Turning it off again stops a spin at once.
        busy_poll.configure(0, 0);
        assert!(eventually(|| !busy_poll.spinning()).await);
        spinner.abort();
    }

    #[tokio::test]
    async fn below_the_load_threshold_reads_do_not_start_spins() {
        // Nothing else runs here, so the load stays far below 100%.
        let (busy_poll, spinner) = start(50, 100);
        for _ in 0..5 {
            busy_poll.note_read();
            tokio::time::sleep(LOAD_SAMPLE_INTERVAL * 2).await;
        }
        assert_eq!(busy_poll.wakeups(), 0);
        assert!(busy_poll.load_percent() < 100);
        spinner.abort();
    }
}
