//! # mpm-worker: Apache's worker MPM, rebuilt
//!
//! prefork gives every connection a whole process. That is robust but heavy: a server holding
//! 150 slow clients needs 150 processes. Apache's *worker* MPM serves each connection with a
//! **thread**: a few child processes, each with a fixed number of worker threads
//! (ThreadsPerChild) fed by one listener thread. The parent keeps the number of *idle threads*
//! between MinSpareThreads and MaxSpareThreads by forking or stopping whole children. A
//! connection still owns its thread for its whole life, keep-alive waits included; that is the
//! problem mpm-event solves next.
//!
//! ```text
//! mpm-worker (parent, keeps root; never serves)      parent.rs: worker_run, server_main_loop
//! │  1 s tick: reap (waitpid WNOHANG) or maintenance  maintenance.rs: decide → parent.rs executes
//! │  signals: TERM/INT stop, HUP restart, USR1 graceful, WINCH graceful stop
//! │
//! ├── child, process slot 0 (User/Group)             child.rs: child_main
//! │   ├── main thread ── waits on the pipe of death ── signal_threads, join, exit
//! │   ├── listener thread ── wait_for_idler → accept (poll first if several Listen) → push
//! │   │                      (a stop interrupts accept with LISTENER_SIGNAL)   listener.rs
//! │   └── worker threads × ThreadsPerChild ── set_idle → pop → serve_connection   worker.rs
//! ├── child, process slot 1 …
//! └── child, process slot n−1   (n ≤ MaxRequestWorkers / ThreadsPerChild ≤ ServerLimit)
//! ```
//!
//! | module | Apache (`server/mpm/worker/worker.c` unless noted) | what it does |
//! |---|---|---|
//! | [`config`] | `worker_pre_config`, `worker_check_config`, top of `worker_run` | defaults, clamping with AH00300…AH00323, silent floors |
//! | [`maintenance`] | `perform_idle_server_maintenance` | the pure per-bucket decision: spawn, stop one, or log |
//! | [`parent`] | `server_main_loop`, `make_child`, `startup_children` | the control process: fork, reap, maintenance |
//! | [`signals`] | the end of `worker_run` | stop, graceful stop, restart, graceful restart, `-X` |
//! | [`child`] | `child_main`, `start_threads`, `signal_threads` | a child's threads and how it stops |
//! | [`listener`] | `listener_thread` | reserve an idle worker, then accept, then hand over |
//! | [`worker`] | `worker_thread` | pop a socket, serve the whole connection, count it |
//! | [`sim`] | (none) | the same `decide` on a virtual clock |
//! | `httpd_core::fdqueue` | `server/mpm_fdqueue.c` | queue_info and the fd queue |
//! | `httpd_core::threaded` | shared parts of worker.c / event.c | stop flags, main thread on the POD, scoreboard view |
//!
//! What this crate does not do: HTTP (that is `httpd_core::http`), accept mutexes (one listener
//! needs none on Linux, as in Apache; several are polled non-blocking instead), listener buckets (`ListenCoresBucketsRatio` is read but
//! we always run one bucket), APR pools (nothing to recycle).
//!
//! Known deviations from Apache are listed in `conformance/DEVIATIONS.md`.

pub mod config;
pub mod maintenance;
pub mod sim;

mod child;
mod listener;
mod parent;
mod signals;
mod worker;

use std::process::ExitCode;

use httpd_core::config::MpmIdent;
use httpd_core::startup::{Startup, startup};

/// The worker MPM's identity (error-log module `mpm_worker`, binary `mpm-worker`).
pub const IDENT: MpmIdent = MpmIdent::WORKER;

/// The `mpm-worker` binary: parse the command line, then run the control process.
pub fn main() -> ExitCode {
    match startup(&IDENT, console_check, std::env::args_os()) {
        Startup::Exit(code) => code,
        Startup::Run(started) => {
            let code = parent::run(*started);
            // Apache's pool cleanups at exit: stop and reap the piped loggers.
            httpd_core::log::piped::shutdown();
            code
        }
    }
}

/// check_config at first start, for `-t` (startup step 4): the warnings printed on the console.
fn console_check(cfg: &httpd_core::config::ServerConfig) -> Result<Vec<String>, String> {
    let (_, warnings) = config::check_config(&cfg.mpm, None, 1);
    Ok(warnings.into_iter().map(|w| w.startup).collect())
}
