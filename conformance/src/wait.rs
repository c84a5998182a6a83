//! Polling with a deadline: the only way tests wait for a server to do something.
//!
//! A fixed `sleep(2s)` standing in for "the server has spawned its children" is either too long
//! (a slow suite) or too short (a flaky one). [`wait_until`] polls instead and fails with the
//! condition's description and the last observed value when the deadline passes.

use std::fmt::Debug;
use std::time::{Duration, Instant};

/// How often conditions are re-checked. Short against Apache's 1 s maintenance tick.
pub const POLL: Duration = Duration::from_millis(50);

/// Poll `probe` until it returns `Some(value)`, or give up after `timeout`.
/// Returns the last `None`-producing observation count on failure.
pub fn try_wait_until<T>(timeout: Duration, mut probe: impl FnMut() -> Option<T>) -> Option<T> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = probe() {
            return Some(v);
        }
        if Instant::now() >= deadline {
            return None;
        }
        std::thread::sleep(POLL);
    }
}

/// Poll `observe` until `accept(&observed)` holds; panic after `timeout` naming `what` and the
/// last value observed. Returns the accepted value.
///
/// ```no_run
/// # use conformance::wait_until;
/// # use std::time::Duration;
/// # let count = || 5usize;
/// let n = wait_until("5 children", Duration::from_secs(10), count, |n| *n == 5);
/// ```
pub fn wait_until<T: Debug>(
    what: &str,
    timeout: Duration,
    mut observe: impl FnMut() -> T,
    mut accept: impl FnMut(&T) -> bool,
) -> T {
    let start = Instant::now();
    let mut last = None;
    let got = try_wait_until(timeout, || {
        let v = observe();
        if accept(&v) {
            Some(v)
        } else {
            last = Some(v);
            None
        }
    });
    match got {
        Some(v) => v,
        None => panic!(
            "timed out after {:.1} s waiting for {what}; last observed: {last:?}",
            start.elapsed().as_secs_f64()
        ),
    }
}
