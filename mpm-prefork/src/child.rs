//! A prefork child: one process, one thread, one connection at a time.
//!
//! Source: `prefork.c: child_main`, `just_die`, `stop_listening` (apache-mpm-rules.md §4.1, §6.6;
//! rules 51, 52, 55, 70). The child is forked by `parent.rs: make_child` and never returns into
//! parent code: every way out is [`exit`] (`_exit(2)`, no destructors, no atexit handlers that
//! belong to the parent).
//!
//! Steps, in Apache's order:
//! 1. Signals (`child_reset`, then ours): SIGTERM and SIGHUP exit at once (`just_die`); SIGINT is
//!    ignored (a Ctrl-C reaches the whole foreground group; the parent decides); SIGUSR1 closes this
//!    child's copies of the listeners and sets *die_now* (`stop_listening`): an idle child blocked
//!    in accept wakes with EBADF/EINTR and exits, a busy one finishes its request first.
//! 2. Drop privileges to User/Group; on failure exit 15 (CHILDFATAL), which stops the server.
//! 3. Mark the slot READY, then loop until *die_now*:
//!    a. MaxConnectionsPerChild: exit if this child already accepted N connections (rule 52);
//!    b. READY; accept (one listener: blocking accept; several: poll them, 10 s timeout);
//!    c. serve the whole connection (`serve_connection`: every keep-alive request, slot status
//!    R/W/K/L/C kept true, lingering close unless the client asked to close and left nothing
//!    unread); it stops keep-alive once *stopping* says so (rule 70);
//!    d. a byte in the pipe of death, or a new generation in the scoreboard → *die_now*.
//! 4. Exit 0.
#![allow(unsafe_code)]

use std::io;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::fd::{AsFd, AsRawFd};
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};

use httpd_core::http::{ConnCtx, HttpServer, serve_connection};
use httpd_core::listen::Listener;
use httpd_core::log::{ErrorLog, Level};
use httpd_core::pod::Pod;
use httpd_core::scoreboard::{Scoreboard, WorkerStatus};
use httpd_core::unixd::Identity;
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::signal::{SaFlags, SigAction, SigHandler, SigSet, Signal, sigaction};

/// `APEXIT_CHILDSICK`: a resource shortage; the parent resets its spawn rate.
pub const APEXIT_CHILDSICK: i32 = 7;
/// `APEXIT_CHILDFATAL`: unrecoverable (e.g. setuid failed); the parent stops the server.
pub const APEXIT_CHILDFATAL: i32 = 15;

/// Set by SIGUSR1 (`stop_listening`): finish the current connection, then exit.
static DIE_NOW: AtomicBool = AtomicBool::new(false);
/// The raw listener fds, for the SIGUSR1 handler to close (-1 = none). A signal handler may only
/// touch lock-free statics, hence fixed atomics rather than a Vec.
static LISTEN_FDS: [AtomicI32; MAX_LISTENERS] = [const { AtomicI32::new(-1) }; MAX_LISTENERS];
const MAX_LISTENERS: usize = 64;

/// Everything a child needs, borrowed from the parent's memory image (inherited by fork).
pub struct ChildCtx<'a> {
    /// Scoreboard slot of this child.
    pub slot: usize,
    /// Generation the child was started in.
    pub generation: u32,
    /// The shared scoreboard.
    pub scoreboard: &'a Scoreboard,
    /// This generation's listeners (one bucket).
    pub listeners: &'a [Listener],
    /// The pipe of death; `None` with `-X` (no parent to write it).
    pub pod: Option<&'a Pod>,
    /// User/Group resolved by the parent before the fork.
    pub identity: &'a Identity,
    /// HTTP context (config, logs, status page).
    pub server: &'a HttpServer,
    /// The error log (inherited fd).
    pub log: &'a ErrorLog,
    /// MaxConnectionsPerChild (0 = unlimited).
    pub max_connections: u64,
    /// `-X`: this process is the whole server, so SIGINT (Ctrl-C) stops it too.
    pub one_process: bool,
}

/// Leave the process now with `code`, without running anything that belongs to the parent.
pub fn exit(code: i32) -> ! {
    // The child pool's cleanup: BufferedLogs' last lines (`flush_all_logs`).
    httpd_core::log::flush_buffered_logs();
    // SAFETY: _exit(2) ends the process at once; we are in a forked child (or the -X process)
    // whose every resource the kernel reclaims; skipping destructors and atexit handlers is the
    // point (they belong to the parent's image).
    unsafe { libc::_exit(code) }
}

extern "C" fn just_die(_sig: libc::c_int) {
    // Apache's just_die runs the child pool's cleanups, BufferedLogs' flush among them; this
    // flush only tries locks and writes (see its doc), so it cannot deadlock here.
    httpd_core::log::flush_buffered_logs_from_signal();
    // SAFETY: _exit(2) is async-signal-safe; unbuffered log lines are single write(2) calls.
    unsafe { libc::_exit(0) }
}

extern "C" fn stop_listening(_sig: libc::c_int) {
    DIE_NOW.store(true, Ordering::SeqCst);
    for fd in &LISTEN_FDS {
        let raw = fd.swap(-1, Ordering::SeqCst);
        if raw >= 0 {
            // SAFETY: close(2) is async-signal-safe. The fd is a listener this child owns and
            // never closes elsewhere (the child leaves with _exit, so no destructor closes it
            // twice); swap(-1) makes sure it is closed once. A blocked accept then fails with
            // EBADF and the loop sees DIE_NOW.
            unsafe { libc::close(raw) };
        }
    }
}

/// Step 1: the child's signal dispositions.
fn install_child_signals(one_process: bool) -> nix::Result<()> {
    httpd_core::signals::child_reset();
    let die = SigAction::new(
        SigHandler::Handler(just_die),
        SaFlags::empty(),
        SigSet::empty(),
    );
    // SA_RESTART so that SIGUSR1 does not break a read inside serve_connection (the in-flight
    // request must finish, rule 70); a restarted accept on the closed fd fails with EBADF.
    let usr1 = SigAction::new(
        SigHandler::Handler(stop_listening),
        SaFlags::SA_RESTART,
        SigSet::empty(),
    );
    let ignore = SigAction::new(SigHandler::SigIgn, SaFlags::empty(), SigSet::empty());
    let default = SigAction::new(SigHandler::SigDfl, SaFlags::empty(), SigSet::empty());
    // SAFETY: the handlers only call async-signal-safe functions (_exit, close) and touch atomics.
    unsafe {
        sigaction(Signal::SIGTERM, &die)?;
        sigaction(Signal::SIGHUP, &die)?;
        sigaction(Signal::SIGUSR1, &usr1)?;
        sigaction(Signal::SIGINT, if one_process { &die } else { &ignore })?;
        // Rust's runtime catches SIGSEGV/SIGBUS to report stack overflows, and its handler
        // swallows a SIGSEGV sent with kill(2). A child must die of it like Apache's children do,
        // so that the parent logs AH00051/AH00052.
        sigaction(Signal::SIGSEGV, &default)?;
        sigaction(Signal::SIGBUS, &default)?;
    }
    Ok(())
}

/// The child's whole life. Never returns.
pub fn child_main(ctx: ChildCtx<'_>) -> ! {
    for (cell, l) in LISTEN_FDS.iter().zip(ctx.listeners) {
        cell.store(l.listener.as_raw_fd(), Ordering::SeqCst);
    }
    if let Err(e) = install_child_signals(ctx.one_process) {
        ctx.log.log(
            "mpm_prefork",
            Level::Emerg,
            format_args!("AH10271: Couldn't initialize signal handling: {e}"),
        );
        exit(APEXIT_CHILDFATAL);
    }
    let worker = ctx.scoreboard.worker(ctx.slot, 0);

    // Step 2.
    if let Err(e) = ctx.identity.drop_privileges() {
        ctx.log.log("unixd", Level::Alert, format_args!("{e}"));
        exit(APEXIT_CHILDFATAL);
    }

    // Step 3.
    worker.set_status(WorkerStatus::Ready);
    let stopping = || {
        DIE_NOW.load(Ordering::SeqCst)
            || ctx.scoreboard.global().running_generation() != ctx.generation
    };
    let mut accepted: u64 = 0;
    let mut last_poll_idx = 0usize;
    // ANCHOR: child_loop
    while !DIE_NOW.load(Ordering::SeqCst) {
        // a. MaxConnectionsPerChild counts accepted connections, checked before accepting.
        if ctx.max_connections > 0 && accepted >= ctx.max_connections {
            exit(0);
        }
        accepted += 1;
        // b.
        worker.set_status(WorkerStatus::Ready);
        let (stream, peer) = match accept_one(ctx.listeners, &mut last_poll_idx) {
            Ok(Some(conn)) => conn,
            Ok(None) => {
                // Interrupted or lost an accept race: nothing was accepted.
                accepted -= 1;
                continue;
            }
            Err(e) => accept_failed(&ctx, e),
        };
        // c.
        serve_connection(
            stream,
            peer,
            &ConnCtx {
                server: ctx.server,
                slot: Some(worker),
                stopping: &stopping,
            },
        );
        // d. Chosen by the pipe of death, or a restart happened while we served?
        if ctx.pod.is_some_and(Pod::check)
            || ctx.scoreboard.global().running_generation() != ctx.generation
        {
            DIE_NOW.store(true, Ordering::SeqCst);
        }
    }
    // ANCHOR_END: child_loop
    exit(0)
}

/// An accept error: EBADF/EINVAL after SIGUSR1 closed the listeners is the normal way out;
/// anything else is a resource problem (`ap_unixd_accept`: AH02177 / AH02179, CHILDSICK).
fn accept_failed(ctx: &ChildCtx<'_>, e: io::Error) -> ! {
    if DIE_NOW.load(Ordering::SeqCst) {
        exit(0);
    }
    if e.raw_os_error() == Some(libc::ENETDOWN) {
        ctx.log.log(
            "core",
            Level::Emerg,
            format_args!(
                "({}) {e}: AH02177: apr_socket_accept: giving up.",
                libc::ENETDOWN
            ),
        );
    } else {
        ctx.log.log(
            "core",
            Level::Error,
            format_args!(
                "({}) {e}: AH02179: apr_socket_accept: (client socket)",
                e.raw_os_error().unwrap_or(0)
            ),
        );
    }
    exit(APEXIT_CHILDSICK)
}

/// Errors after which the child simply tries again (`ap_accept_error_is_nonfatal` and friends).
fn transient(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::Interrupted
            | io::ErrorKind::WouldBlock
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    ) || matches!(
        e.raw_os_error(),
        Some(libc::EPROTO | libc::EHOSTUNREACH | libc::ENETUNREACH | libc::ETIMEDOUT | libc::EPERM)
    )
}

/// Step 3b. `Ok(None)`: nothing accepted this time (signal, race lost, poll timeout).
fn accept_one(
    listeners: &[Listener],
    last_poll_idx: &mut usize,
) -> io::Result<Option<(TcpStream, SocketAddr)>> {
    let lr: &TcpListener = if listeners.len() == 1 {
        &listeners[0].listener
    } else {
        match poll_listeners(listeners, last_poll_idx)? {
            Some(i) => &listeners[i].listener,
            None => return Ok(None),
        }
    };
    if DIE_NOW.load(Ordering::SeqCst) {
        exit(0);
    }
    match lr.accept() {
        Ok(conn) => Ok(Some(conn)),
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
            // Another child won the race (several listeners), or the socket was left
            // non-blocking by a previous generation: wait until it is readable.
            wait_readable(lr)?;
            Ok(None)
        }
        Err(e) if transient(&e) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Several listeners: poll them all (10 s, so the stop flag is re-checked), then pick the ready
/// ones round-robin so that no socket starves (`child_main`'s `last_poll_idx`).
fn poll_listeners(listeners: &[Listener], last_poll_idx: &mut usize) -> io::Result<Option<usize>> {
    loop {
        if DIE_NOW.load(Ordering::SeqCst) {
            exit(0);
        }
        let mut fds: Vec<PollFd> = listeners
            .iter()
            .map(|l| PollFd::new(l.listener.as_fd(), PollFlags::POLLIN))
            .collect();
        match poll(&mut fds, PollTimeout::from(10_000u16)) {
            Ok(0) => continue,
            Ok(_) => {
                let ready: Vec<usize> = fds
                    .iter()
                    .enumerate()
                    .filter(|(_, f)| f.revents().is_some_and(|r| r.intersects(PollFlags::POLLIN)))
                    .map(|(i, _)| i)
                    .collect();
                if ready.is_empty() {
                    // POLLNVAL/POLLERR: listeners closed under us (SIGUSR1) or broken.
                    if DIE_NOW.load(Ordering::SeqCst) {
                        exit(0);
                    }
                    return Err(io::Error::from_raw_os_error(libc::EBADF));
                }
                if *last_poll_idx >= ready.len() {
                    *last_poll_idx = 0;
                }
                let pick = ready[*last_poll_idx];
                *last_poll_idx += 1;
                return Ok(Some(pick));
            }
            Err(nix::errno::Errno::EINTR) => continue,
            Err(e) => return Err(io::Error::from(e)),
        }
    }
}

/// Block until `l` is readable (or a signal interrupts), for a non-blocking listener.
fn wait_readable(l: &TcpListener) -> io::Result<()> {
    let mut fds = [PollFd::new(l.as_fd(), PollFlags::POLLIN)];
    match poll(&mut fds, PollTimeout::from(10_000u16)) {
        Ok(_) | Err(nix::errno::Errno::EINTR) => Ok(()),
        Err(e) => Err(io::Error::from(e)),
    }
}
