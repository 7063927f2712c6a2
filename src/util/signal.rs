//! A wake-up for the one task that waits on a condition other threads make
//! true (a connection waiting for its outbox or its kill switch), without a
//! lock on either side: the waiter registers its waker with an
//! `AtomicWaker` and checks the condition again; a setter makes the
//! condition true, then wakes. No permits are stored: the condition itself
//! is what is waited on, so a wake-up is never lost and a stale one only
//! makes the waiter look again. This module knows wakers, not what the
//! conditions mean.

use atomic_waker::AtomicWaker;
use std::task::Poll;

#[derive(Default)]
pub struct Signal {
    waker: AtomicWaker,
}

impl Signal {
    /// Wakes the task waiting in `until`, if one waits. Call it after
    /// making the condition true.
    pub fn wake(&self) {
        self.waker.wake();
    }

    /// Resolves once `condition` holds: checked at once, and again after
    /// each wake-up. One task waits on a signal at a time (the last one to
    /// poll is the one woken).
    pub async fn until(&self, condition: impl Fn() -> bool) {
        std::future::poll_fn(|cx| {
            if condition() {
                return Poll::Ready(());
            }
            self.waker.register(cx.waker());
            if condition() {
                Poll::Ready(())
            } else {
                Poll::Pending
            }
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;

    #[tokio::test]
    async fn a_condition_already_true_resolves_at_once() {
        let signal = Signal::default();
        signal.until(|| true).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_setter_on_another_thread_wakes_the_waiter() {
        for _ in 0..200 {
            let signal = Arc::new(Signal::default());
            let flag = Arc::new(AtomicBool::new(false));
            let setter = {
                let (signal, flag) = (signal.clone(), flag.clone());
                std::thread::spawn(move || {
                    flag.store(true, Ordering::Release);
                    signal.wake();
                })
            };
            let waited = tokio::time::timeout(
                std::time::Duration::from_secs(10),
                signal.until(|| flag.load(Ordering::Acquire)),
            )
            .await;
            assert!(waited.is_ok(), "the wake-up was lost");
            setter.join().expect("setter thread");
        }
    }
}
