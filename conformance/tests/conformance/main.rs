//! The conformance suite: one test binary, one module per area.
//!
//! Run it all with `cargo test -p conformance`; one rule with `cargo test -p conformance rule_60`.
//! Tests that start servers use the `conf-prefork`, `conf-worker` and `conf-event` shims through
//! [`conformance::ServerTest`]; loom models include the servers' own source files (below).

/// The loom flavour of `httpd_core::sync`, with exactly the same API.
///
/// Loom models `#[path]`-include real server files (`httpd-core/src/fdqueue.rs`, mpm-event's
/// hand-off module); those files import every primitive from `crate::sync`, so here, at this
/// crate's root, `crate::sync` resolves to loom's types and the model checks the code the
/// servers run (STYLE.md, "One sync facade"). Keep this in step with `httpd-core/src/sync.rs`.
#[allow(dead_code, unused_imports)]
mod sync {
    pub use loom::sync::*;
    pub use loom::thread;

    /// Lock a mutex, ignoring poisoning (as `httpd_core::sync::lock`).
    pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
        m.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Wait on a condvar, ignoring poisoning (as `httpd_core::sync::wait`).
    pub fn wait<'a, T>(cv: &Condvar, g: MutexGuard<'a, T>) -> MutexGuard<'a, T> {
        cv.wait(g).unwrap_or_else(|e| e.into_inner())
    }
}

// Compile-time check that the facade offers every name httpd-core/src/sync.rs exports
// (the text-level check is `harness_selftest::loom_sync_facade_mirrors_httpd_core_sync`).
#[allow(unused_imports)]
use sync::{Arc, Condvar, Mutex, MutexGuard, atomic, lock, thread, wait};

// The harness and the core HTTP behaviour, checked against all three MPM binaries.
mod auth_basic;
mod cgi;
mod debian_tree;
mod differential;
mod harness_selftest;
mod http_errors;
mod http_keepalive;
mod http_limits;
mod http_parse;
mod lab_tools;
mod listeners;
mod logs_access;
mod logs_format;
mod logs_lifecycle;
mod logs_piped;
mod modules_debian;
mod reqtimeout;
mod rules;
mod service;
mod status_generation;
mod status_page;
mod top_live;
mod vhosts;

// The MPM engineers' modules (prefork_*, worker_*, event_*, loom_*) go below this line.
mod event_props;
mod event_server;
mod fdqueue_std;
mod lifecycle_fatal;
mod lifecycle_kill_under_load;
mod lifecycle_kills;
mod lifecycle_threaded;
mod loom_event;
mod loom_fdqueue;
mod prefork_props;
mod prefork_server;
mod threaded_props;
mod worker_maintenance;
mod worker_server;
