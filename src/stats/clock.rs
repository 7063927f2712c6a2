//! A cheap monotonic clock for timing every command (commandstats,
//! latencystats, SLOWLOG).
//!
//! A command is timed on every call, and at a million calls a second the
//! vDSO `clock_gettime` behind `Instant::now` shows up at a few percent of
//! the server's CPU. On x86-64 processors whose time-stamp counter runs at a
//! constant rate and does not stop (`constant_tsc` and `nonstop_tsc` in
//! /proc/cpuinfo, which is also when Linux itself uses the TSC as its
//! clock), reading the counter directly costs a fraction of that; its rate
//! is measured once against `Instant`. Anywhere else `Stamp` falls back to
//! `Instant`. Stamps are only compared with each other, never shown.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// A point in time, in the clock's own ticks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Stamp(u64);

enum Source {
    /// The time-stamp counter, with this many ticks per microsecond.
    Tsc { ticks_per_us: f64 },
    /// `Instant`, as nanoseconds since `origin`.
    Instant { origin: Instant },
}

fn source() -> &'static Source {
    static SOURCE: OnceLock<Source> = OnceLock::new();
    SOURCE.get_or_init(|| match calibrate_tsc() {
        Some(ticks_per_us) => Source::Tsc { ticks_per_us },
        None => Source::Instant {
            origin: Instant::now(),
        },
    })
}

#[cfg(target_arch = "x86_64")]
fn read_tsc() -> u64 {
    // SAFETY: RDTSC has no preconditions on x86-64; it reads a counter.
    unsafe { core::arch::x86_64::_rdtsc() }
}

#[cfg(target_arch = "x86_64")]
fn calibrate_tsc() -> Option<f64> {
    let flags = std::fs::read_to_string("/proc/cpuinfo").ok()?;
    let flag_line = flags.lines().find(|l| l.starts_with("flags"))?;
    let has = |flag: &str| flag_line.split_whitespace().any(|f| f == flag);
    if !has("constant_tsc") || !has("nonstop_tsc") {
        return None;
    }
    let start = Instant::now();
    let ticks_start = read_tsc();
    while start.elapsed() < Duration::from_millis(5) {
        std::hint::spin_loop();
    }
    let ticks = read_tsc().checked_sub(ticks_start)?;
    let micros = start.elapsed().as_secs_f64() * 1e6;
    let rate = ticks as f64 / micros;
    // A sane counter runs between 100 MHz and 10 GHz.
    (100.0..10_000.0).contains(&rate).then_some(rate)
}

#[cfg(not(target_arch = "x86_64"))]
fn read_tsc() -> u64 {
    0
}

#[cfg(not(target_arch = "x86_64"))]
fn calibrate_tsc() -> Option<f64> {
    None
}

impl Stamp {
    pub fn now() -> Stamp {
        match source() {
            Source::Tsc { .. } => Stamp(read_tsc()),
            Source::Instant { origin } => Stamp(origin.elapsed().as_nanos() as u64),
        }
    }

    /// Whole microseconds from `earlier` to `self` (0 if `earlier` is later).
    pub fn micros_since(self, earlier: Stamp) -> u64 {
        let delta = self.0.saturating_sub(earlier.0);
        match source() {
            Source::Tsc { ticks_per_us } => (delta as f64 / ticks_per_us) as u64,
            Source::Instant { .. } => delta / 1000,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn measures_a_sleep_within_reason() {
        let before = Stamp::now();
        std::thread::sleep(Duration::from_millis(20));
        let micros = Stamp::now().micros_since(before);
        assert!((19_000..2_000_000).contains(&micros), "{micros} us");
        assert_eq!(before.micros_since(Stamp::now()), 0);
    }
}
