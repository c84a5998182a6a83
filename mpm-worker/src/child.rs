//! One child process: its threads, and how it stops.
//!
//! Source: Apache `server/mpm/worker/worker.c: child_main, start_threads, signal_threads,
//! join_workers`; spec apache-mpm-rules.md §4.2, rules 2, 51, 54, 55, 70. The stop protocol
//! (steps 1–5) is in `httpd_core::threaded::child`.
//!
//! # Start-up, in order (`child_main`)
//! 1. Default signal dispositions (done by the parent's `make_child` right after fork), then
//!    block the child's signals before any thread exists (stop step 1).
//! 2. Drop root (`unixd`): a failure is fatal for the whole server (exit 15, rule 55).
//! 3. `start_threads`: a start thread creates ThreadsPerChild workers, each in a worker slot of
//!    our process slot that is DEAD or GRACEFUL. A slot still used by the process we squat on
//!    is retried every second. The listener is created as soon as the first worker exists.
//! 4. The main thread waits on the pipe of death (stop step 2), then signals the threads
//!    (step 4), joins them and exits (step 5).

use std::net::{SocketAddr, TcpStream};
use std::os::fd::AsFd;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use httpd_core::ap_log;
use httpd_core::fdqueue::{FdQueue, QueueInfo};
use httpd_core::http::HttpServer;
use httpd_core::listen::Listener;
use httpd_core::log::ErrorLog;
use httpd_core::pod::{Pod, PodxMsg};
use httpd_core::scoreboard::{Scoreboard, WorkerStatus};
use httpd_core::threaded::view::is_free_thread;
use httpd_core::threaded::{
    BusySockets, ChildControl, ChildSignals, StopMode, WakeReason, wait_for_stop,
};
use httpd_core::unixd::Identity;

use crate::config::WorkerConfig;
use crate::{listener, worker};

const MODULE: &str = "mpm_worker";

/// `APEXIT_CHILDSICK`: a resource shortage; the parent slows down forking.
pub(crate) const APEXIT_CHILDSICK: i32 = 7;
/// `APEXIT_CHILDFATAL`: the whole server must stop.
pub(crate) const APEXIT_CHILDFATAL: i32 = 15;

/// What a child gets from the parent (all inherited through fork).
pub(crate) struct ChildArgs<'a> {
    pub wcfg: &'a WorkerConfig,
    pub sb: &'a Arc<Scoreboard>,
    pub listeners: &'a [Listener],
    /// `None` in `-X` mode.
    pub pod: Option<&'a Pod>,
    pub log: &'a ErrorLog,
    pub identity: &'a Identity,
    pub server: &'a HttpServer,
    pub generation: u64,
    pub slot: usize,
}

/// State every thread of the child shares.
pub(crate) struct Shared {
    pub ctl: ChildControl,
    pub queue_info: QueueInfo,
    pub queue: FdQueue<(TcpStream, SocketAddr)>,
    pub busy: BusySockets,
    /// MaxConnectionsPerChild budget, decremented by workers after each connection (rule 54);
    /// `i64::MAX` when unlimited.
    pub conns_left: AtomicI64,
    /// Set when a thread saw a resource shortage: exit with APEXIT_CHILDSICK.
    pub sick: std::sync::atomic::AtomicBool,
    pub sb: Arc<Scoreboard>,
    pub server: HttpServer,
    pub log: ErrorLog,
    pub slot: usize,
    pub generation: u64,
    /// The listener's wake-up pipe: written by `signal_threads` so a listener blocked in
    /// poll(2) notices `listener_may_exit` at once.
    pub wake: (
        std::os::unix::net::UnixStream,
        std::os::unix::net::UnixStream,
    ),
    /// The listener thread, for [`listener::wakeup_listener`] (set when it starts).
    pub listener_thread: std::sync::OnceLock<nix::sys::pthread::Pthread>,
}

/// `child_main`: returns the exit code.
pub(crate) fn child_main(a: &ChildArgs<'_>) -> i32 {
    // Step 1.
    let signals = match ChildSignals::block() {
        Ok(s) => s,
        Err(e) => {
            ap_log!(
                a.log,
                MODULE,
                Emerg,
                "({}): couldn't set up the child's signals",
                e
            );
            return APEXIT_CHILDSICK;
        }
    };
    // Step 2: the error carries Apache's AH02156/AH02157/AH02162 text; logged as unixd does.
    if let Err(e) = a.identity.drop_privileges() {
        a.log
            .log("unixd", httpd_core::log::Level::Alert, format_args!("{e}"));
        return APEXIT_CHILDFATAL;
    }
    let tpc = a.wcfg.threads_per_child;
    let wake = match std::os::unix::net::UnixStream::pair() {
        Ok(p) => p,
        Err(e) => {
            ap_log!(
                a.log,
                MODULE,
                Emerg,
                "({e}): couldn't create the listener wake-up pipe"
            );
            return APEXIT_CHILDSICK;
        }
    };
    let budget = match a.wcfg.max_connections_per_child {
        0 => i64::MAX,
        n => i64::try_from(n).unwrap_or(i64::MAX),
    };
    let shared = Arc::new(Shared {
        ctl: ChildControl::new(),
        queue_info: QueueInfo::new(),
        queue: FdQueue::new(tpc),
        busy: BusySockets::new(tpc),
        conns_left: AtomicI64::new(budget),
        sick: Default::default(),
        sb: a.sb.clone(),
        server: a.server.clone(),
        log: a.log.clone(),
        slot: a.slot,
        generation: a.generation,
        wake,
        listener_thread: std::sync::OnceLock::new(),
    });
    let listeners: Vec<std::net::TcpListener> = a
        .listeners
        .iter()
        .filter_map(|l| l.listener.try_clone().ok())
        .collect();

    // Step 3.
    let starter = {
        let shared = shared.clone();
        thread::Builder::new()
            .name("start".into())
            .spawn(move || start_threads(&shared, tpc, listeners))
    };
    let starter = match starter {
        Ok(h) => h,
        Err(e) => {
            ap_log!(
                a.log,
                MODULE,
                Alert,
                "({e}): AH00282: ap_thread_create: unable to create worker thread"
            );
            return APEXIT_CHILDSICK;
        }
    };

    // Step 4.
    let mode = match a.pod {
        Some(pod) => {
            let reason = wait_for_stop(
                Some(pod.as_fd()),
                || {
                    pod.try_read_x().map(|m| match m {
                        PodxMsg::Graceful => StopMode::Graceful,
                        PodxMsg::Restart => StopMode::Ungraceful,
                    })
                },
                &signals,
                &shared.ctl,
            );
            match reason {
                WakeReason::Stop(m) => m,
                WakeReason::Signal(_) => StopMode::Ungraceful,
            }
        }
        None => match wait_for_stop(None, || None, &signals, &shared.ctl) {
            WakeReason::Stop(m) => m,
            WakeReason::Signal(_) => StopMode::Ungraceful,
        },
    };
    signal_threads(&shared, mode);
    let threads = starter.join().unwrap_or_default();
    // Step 5: join. While a graceful stop drains, a SIGTERM from the parent (its reclaim after
    // GracefulShutdownTimeout, or a stop) turns it ungraceful, so busy connections are cut
    // now rather than by SIGKILL 9 s later (a listed deviation, rule 46).
    let mut mode = mode;
    while !threads.iter().all(|t| t.is_finished()) {
        if signals.wait_foreign_term(Duration::from_millis(200)) && mode == StopMode::Graceful {
            mode = StopMode::Ungraceful;
            signal_threads(&shared, mode);
        }
        // A wake-up signal sent just before the listener entered accept(2) is lost: repeat it.
        listener::wakeup_listener(&shared);
    }
    for t in threads {
        let _ = t.join();
    }
    if shared.sick.load(Ordering::SeqCst) {
        APEXIT_CHILDSICK
    } else {
        0
    }
}

/// `signal_threads` (stop step 4).
pub(crate) fn signal_threads(shared: &Shared, mode: StopMode) {
    shared.ctl.note_stop(mode);
    shared.ctl.set_listener_may_exit();
    // Wake the listener wherever it sleeps: waiting for an idler, in poll(2) or in accept(2).
    shared.queue_info.term();
    let _ = std::io::Write::write(&mut &shared.wake.0, b"!");
    listener::wakeup_listener(shared);
    if mode == StopMode::Ungraceful {
        shared.ctl.set_workers_may_exit();
        shared.busy.shutdown_all();
        shared.queue.interrupt_all();
    }
}

/// `start_threads`: create the workers (and the listener after the first one), retrying every
/// second for worker slots still held by the process we squat on. Returns every handle.
fn start_threads(
    shared: &Arc<Shared>,
    tpc: usize,
    listeners: Vec<std::net::TcpListener>,
) -> Vec<JoinHandle<()>> {
    let mut handles = Vec::with_capacity(tpc + 1);
    let mut created = vec![false; tpc];
    let mut listeners = Some(listeners);
    let mut waited = 0u32;
    loop {
        for (i, done) in created.iter_mut().enumerate() {
            if *done || shared.ctl.stopping() {
                continue;
            }
            let ws = shared.sb.worker(shared.slot, i);
            if !is_free_thread(ws.status()) {
                continue;
            }
            ws.set_status(WorkerStatus::Starting);
            let s = shared.clone();
            match thread::Builder::new()
                .name(format!("worker {i}"))
                .spawn(move || worker::worker_thread(&s, i))
            {
                Ok(h) => {
                    handles.push(h);
                    *done = true;
                }
                Err(e) => {
                    ap_log!(
                        shared.log,
                        MODULE,
                        Alert,
                        "({e}): AH00282: ap_thread_create: unable to create worker thread"
                    );
                    ws.set_status(WorkerStatus::Dead);
                    shared.sick.store(true, Ordering::SeqCst);
                    shared.ctl.request_stop(StopMode::Graceful);
                    return handles;
                }
            }
            if let Some(l) = listeners.take() {
                let s = shared.clone();
                match thread::Builder::new()
                    .name("listener".into())
                    .spawn(move || listener::listener_thread(&s, l))
                {
                    Ok(h) => handles.push(h),
                    Err(e) => {
                        ap_log!(
                            shared.log,
                            MODULE,
                            Alert,
                            "({e}): AH00275: ap_thread_create: unable to create listener thread"
                        );
                        shared.sick.store(true, Ordering::SeqCst);
                        shared.ctl.request_stop(StopMode::Graceful);
                        return handles;
                    }
                }
            }
        }
        if created.iter().all(|&c| c) || shared.ctl.stopping() {
            return handles;
        }
        waited += 1;
        if waited % 120 == 0 {
            let n = created.iter().filter(|&&c| c).count();
            ap_log!(
                shared.log,
                MODULE,
                Debug,
                "AH00270: child {} isn't taking over slots very quickly ({n} of {tpc})",
                std::process::id()
            );
        }
        thread::sleep(Duration::from_secs(1));
    }
}

/// Run `f` for one connection, turning a panic into an error-log line instead of a dead
/// thread: the worker goes back to work (the connection itself is lost).
pub(crate) fn catch_connection_panic(log: &ErrorLog, peer: SocketAddr, f: impl FnOnce()) {
    if let Err(p) = std::panic::catch_unwind(AssertUnwindSafe(f)) {
        let what = p
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| p.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "(non-string panic)".into());
        log.log_client(
            MODULE,
            httpd_core::log::Level::Error,
            peer,
            format_args!("worker thread panicked while serving the connection: {what}"),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_while_serving_is_caught_and_the_thread_goes_on() {
        let log = ErrorLog::stderr();
        let peer: SocketAddr = "127.0.0.1:9".parse().expect("literal address");
        catch_connection_panic(&log, peer, || panic!("handler bug"));
        let mut served_next = false;
        catch_connection_panic(&log, peer, || served_next = true);
        assert!(served_next);
    }
}
