//! One event child process: its threads, and how it stops.
//!
//! Source: Apache `event.c: child_main`, `start_threads`, `setup_threads_runtime`,
//! `signal_threads`, `join_workers`. Spec: apache-mpm-rules.md §4.2–§4.3, §6.5, §6.7;
//! rules 2, 43, 51, 55. The stop protocol is httpd-core's (`httpd_core::threaded::child`,
//! steps 1–5); the thread tree is drawn in the crate doc.
//!
//! # Start-up (numbered)
//!
//! 1. Reset the parent's signal handling, then block the child's signals before any thread
//!    exists (threaded step 1), so SIGTERM only wakes the main thread (rule 51).
//! 2. Open the access log and build the HTTP server with mod_status on our scoreboard while
//!    still root (it opens the virtual hosts' own logs: Debian's `/var/log/apache2` is not
//!    writable by `User`), then drop privileges (rule 55; failure = exit 15, which stops the
//!    whole server).
//! 3. Start ThreadsPerChild workers (status `S`, then `_`) and the listener thread.
//! 4. The main thread waits on the pipe of death (threaded step 2); on a byte it tells the
//!    threads (threaded step 4), joins them and exits 0.

use std::net::TcpListener;
use std::os::fd::AsFd;
use std::sync::Arc;
use std::sync::atomic::AtomicUsize;
use std::thread;

use httpd_core::config::ServerConfig;
use httpd_core::http::{HttpServer, StatusContext};
use httpd_core::log::{AccessLog, ErrorLog, Level};
use httpd_core::pod::{Pod, PodxMsg};
use httpd_core::scoreboard::{Scoreboard, WorkerStatus};
use httpd_core::status::MpmStatusInfo;
use httpd_core::threaded::{
    BusySockets, ChildControl, ChildSignals, StopMode, WakeReason, wait_for_stop,
};
use httpd_core::unixd::Identity;
use nix::sys::eventfd::{EfdFlags, EventFd};

use crate::config::EventConfig;
use crate::handoff::Handoff;
use crate::listener::{ChildShared, Listener, ListenerConfig};
use crate::worker::{self, WorkerShared};

/// `APEXIT_CHILDFATAL`: the parent shuts the server down.
pub const APEXIT_CHILDFATAL: i32 = 15;
/// `APEXIT_CHILDSICK`: resource shortage; the parent slows down.
pub const APEXIT_CHILDSICK: i32 = 7;

/// Everything a child needs from its parent.
pub struct ChildArgs<'a> {
    /// Process slot in the scoreboard.
    pub slot: usize,
    /// The server configuration.
    pub config: Arc<ServerConfig>,
    /// The effective MPM configuration.
    pub event: &'a EventConfig,
    /// The shared scoreboard.
    pub scoreboard: Arc<Scoreboard>,
    /// The listening sockets (inherited; cloned for the listener thread).
    pub listeners: Vec<TcpListener>,
    /// The pipe of death; `None` in `-X` mode.
    pub pod: Option<&'a Pod>,
    /// The error log.
    pub log: ErrorLog,
    /// User/Group to become; `None` when not root or in `-X` mode.
    pub identity: Option<&'a Identity>,
}

/// The `mod_status` description of this MPM.
pub fn status_info(ev: &EventConfig) -> MpmStatusInfo {
    MpmStatusInfo {
        mpm: "event",
        is_async: true,
        threads_per_child: ev.threads_per_child,
        max_daemons: ev.active_daemons_limit,
        server_limit: ev.server_limit,
    }
}

/// Run the child until it is told to stop; returns the exit status.
pub fn child_main(args: ChildArgs<'_>) -> i32 {
    // Step 1.
    let signals = match ChildSignals::block() {
        Ok(s) => s,
        Err(e) => {
            args.log.log(
                "mpm_event",
                Level::Emerg,
                format_args!("cannot block signals in the child: {e}"),
            );
            return APEXIT_CHILDSICK;
        }
    };
    // Step 2.
    let access = match AccessLog::open(&args.config) {
        Ok(a) => a,
        Err(e) => {
            args.log.log(
                "mpm_event",
                Level::Emerg,
                format_args!("could not open access log: {e}"),
            );
            return APEXIT_CHILDFATAL;
        }
    };
    let status = StatusContext {
        scoreboard: Arc::clone(&args.scoreboard),
        info: status_info(args.event),
    };
    let server = match HttpServer::new(
        Arc::clone(&args.config),
        args.log.clone(),
        access,
        Some(status),
    ) {
        Ok(s) => s,
        Err(e) => {
            args.log.log(
                "mpm_event",
                Level::Emerg,
                format_args!("cannot set up the HTTP server: {e}"),
            );
            return APEXIT_CHILDSICK;
        }
    };
    // Only now: the server above opened the virtual hosts' logs, which User may not write
    // (Apache opens every log in the parent, as root).
    if let Some(id) = args.identity
        && let Err(e) = id.drop_privileges()
    {
        args.log.log("unixd", Level::Alert, format_args!("{e}"));
        return APEXIT_CHILDFATAL;
    }
    let waker = match EventFd::from_flags(EfdFlags::EFD_NONBLOCK | EfdFlags::EFD_CLOEXEC) {
        Ok(w) => w,
        Err(e) => {
            args.log.log(
                "mpm_event",
                Level::Emerg,
                format_args!("cannot create the listener's waker: {e}"),
            );
            return APEXIT_CHILDSICK;
        }
    };

    // Step 3.
    let tpc = args.event.threads_per_child;
    let control = Arc::new(ChildControl::new());
    let shared = Arc::new(ChildShared {
        handoff: Handoff::new(tpc, args.event.worker_factor.effective()),
        waker,
        control: Arc::clone(&control),
        scoreboard: Arc::clone(&args.scoreboard),
        slot: args.slot,
        threads_per_child: tpc,
        log: args.log.clone(),
    });
    let ws = Arc::new(WorkerShared {
        server,
        busy: BusySockets::new(tpc),
        threads_shutdown: AtomicUsize::new(0),
    });
    for t in 0..tpc {
        args.scoreboard
            .worker(args.slot, t)
            .set_status(WorkerStatus::Starting);
    }
    let mut workers = Vec::with_capacity(tpc);
    for t in 0..tpc {
        let (s, w) = (Arc::clone(&shared), Arc::clone(&ws));
        match thread::Builder::new()
            .name(format!("worker-{t}"))
            .spawn(move || worker::run(t, s, w))
        {
            Ok(h) => workers.push(h),
            Err(e) => {
                args.log.log(
                    "mpm_event",
                    Level::Alert,
                    format_args!("AH03104: ap_thread_create: unable to create worker thread: {e}"),
                );
                control.note_stop(StopMode::Graceful);
                break;
            }
        }
    }
    let lcfg = ListenerConfig {
        keep_alive_timeout: args.config.keep_alive_timeout,
        timeout: args.config.timeout,
        max_connections_per_child: args.event.max_connections_per_child,
        keep_alive: args.config.keep_alive,
    };
    let listener = match Listener::new(Arc::clone(&shared), args.listeners, &lcfg) {
        Ok(l) => l,
        Err(e) => {
            args.log.log(
                "mpm_event",
                Level::Emerg,
                format_args!("AH00474: cannot set up the listener: {e}"),
            );
            stop_threads(&shared, &ws, StopMode::Ungraceful);
            return APEXIT_CHILDSICK;
        }
    };
    let listener = match thread::Builder::new()
        .name("listener".into())
        .spawn(move || listener.run())
    {
        Ok(h) => h,
        Err(e) => {
            args.log.log(
                "mpm_event",
                Level::Alert,
                format_args!("AH00475: ap_thread_create: unable to create listener thread: {e}"),
            );
            stop_threads(&shared, &ws, StopMode::Ungraceful);
            return APEXIT_CHILDSICK;
        }
    };

    // Step 4.
    let pod_fd = args.pod.map(|p| p.as_fd());
    let try_read = || {
        args.pod.and_then(|p| p.try_read_x()).map(|m| match m {
            PodxMsg::Graceful => StopMode::Graceful,
            PodxMsg::Restart => StopMode::Ungraceful,
        })
    };
    let mode = match wait_for_stop(pod_fd, try_read, &signals, &control) {
        WakeReason::Stop(mode) => mode,
        // -X: SIGTERM/SIGINT stop the single process at once, like Apache's one_process mode.
        WakeReason::Signal(_) => StopMode::Ungraceful,
    };
    stop_threads(&shared, &ws, mode);
    let _ = listener.join();
    for w in workers {
        let _ = w.join();
    }
    0
}

/// Threaded step 4 (`signal_threads`).
fn stop_threads(shared: &ChildShared, ws: &WorkerShared, mode: StopMode) {
    shared.control.note_stop(mode);
    shared.control.set_listener_may_exit();
    if mode == StopMode::Ungraceful {
        shared.control.set_workers_may_exit();
        ws.busy.shutdown_all();
        shared.handoff.queue.interrupt_all();
    }
    shared.wake_listener();
}
