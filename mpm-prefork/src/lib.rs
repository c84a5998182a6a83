//! # mpm-prefork: Apache's prefork MPM in Rust
//!
//! Why prefork exists: some code cannot share a process with other requests (non-thread-safe
//! libraries, crashes that must stay contained). prefork gives every connection a whole process.
//! A parent that never serves forks children ahead of demand ("pre-forks"); each child accepts
//! one connection, serves every keep-alive request on it, and goes back to `accept`. The parent
//! only counts idle children once per second and forks or stops a few, so a burst is absorbed by
//! children that already exist.
//!
//! ```text
//!  mpm-prefork (parent, root, single-threaded: it forks)          parent.rs
//!   │  binds listeners · creates the scoreboard · writes PidFile
//!   │  loop: reap (WNOHANG) ─ wait ≤1 s on the signal fd ─ maintenance::decide ─ act
//!   │
//!   ├── child slot 0 (User/Group)   accept ─▶ serve_connection ─▶ check POD ─▶ accept …   child.rs
//!   ├── child slot 1                 "
//!   ├── …                            one connection at a time, one thread
//!   └── child slot N < MaxRequestWorkers
//!        ▲                              │ status S _ R W K L G in its scoreboard slot
//!        └── pipe of death ('!' + dummy connection): "one idle child, please exit"
//! ```
//!
//! | our module | Apache | what it does |
//! |---|---|---|
//! | [`config`] | `prefork.c: prefork_pre_config`, `prefork_check_config`, top of `prefork_run` | defaults, clamping with AH00175–AH00188, silent adjustments |
//! | [`maintenance`] | `prefork.c: perform_idle_server_maintenance` | the pure once-a-second decision: spawn 1,2,4…32, stop one, AH00161/AH00162 |
//! | [`parent`] | `prefork.c: startup_children`, `make_child`, `prefork_note_child_*`; `main.c`'s restart loop | the control process: start-up, `-X`, forking, re-reading the config |
//! | `parent/prefork_run.rs` | `prefork.c: prefork_run`; `mpm_common.c: ap_wait_or_timeout`, `ap_relieve_child_processes` | one generation: retire the old one, the 1-second loop executing decisions, stop/graceful stop |
//! | [`child`] | `prefork.c: child_main`, `just_die`, `stop_listening` | a child: drop privileges, accept, serve, POD, MaxConnectionsPerChild |
//! | [`sim`] | (none) | the same `decide` on a virtual clock with a synthetic load |
//!
//! What this crate does not do: HTTP (that is `httpd_core::http`), the scoreboard, the pipe of
//! death and signal plumbing (`httpd_core::{scoreboard, pod, signals}`); listener buckets
//! (`ListenCoresBucketsRatio`) and the accept mutex: we always run one bucket, and with several
//! `Listen` sockets every child polls them and a non-blocking accept lets the losers of the race
//! go back to polling (Apache serialises with a mutex instead).

pub mod child;
pub mod config;
pub mod maintenance;
pub mod parent;
pub mod sim;

use std::process::ExitCode;

/// How this binary names itself to the shared start-up code.
pub const IDENT: httpd_core::config::MpmIdent = httpd_core::config::MpmIdent::PREFORK;

/// The `mpm-prefork` program: command line, configuration, then the control process
/// (or a single child with `-X`).
pub fn main() -> ExitCode {
    let code = parent::main();
    // Apache's pool cleanups at exit: stop and reap the piped loggers.
    httpd_core::log::piped::shutdown();
    code
}
