//! The one place concurrency primitives come from.
//!
//! Files that loom models (see `conformance/tests/conformance/loom_*.rs`) import their
//! `Mutex`, `Condvar`, atomics and `Arc` only from `crate::sync`. The conformance crate
//! compiles the *same source file* with its own `sync` module that re-exports loom's types,
//! so the model checks exactly the code the servers run (STYLE.md, "One sync facade").
//!
//! `lock()` ignores poisoning: a panic in one worker is caught at the connection boundary
//! and must not turn every later `lock()` into a second panic.

pub use std::sync::atomic;
pub use std::sync::{Arc, Condvar, Mutex, MutexGuard};
pub use std::thread;

/// Lock a mutex, ignoring poisoning (see the module doc for why).
pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Wait on a condvar, ignoring poisoning like [`lock`].
pub fn wait<'a, T>(cv: &Condvar, g: MutexGuard<'a, T>) -> MutexGuard<'a, T> {
    cv.wait(g).unwrap_or_else(|e| e.into_inner())
}
