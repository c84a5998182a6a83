//! The listener thread: accept only when a worker is free.
//!
//! Source: Apache `server/mpm/worker/worker.c: listener_thread, check_infinite_requests` and
//! `os/unix/unixd.c: ap_unixd_accept`; spec apache-mpm-rules.md §4.2, §6.6, rules 2 and 54.
//!
//! # One iteration (numbers continue `httpd_core::fdqueue`'s hand-off steps)
//! 1. If MaxConnectionsPerChild is used up, ask for a graceful stop of this child and leave.
//! 2. Reserve an idle worker (`wait_for_idler`): **nothing is accepted while every worker is
//!    busy**, connections wait in the kernel backlog, where another child may take them.
//! 3. One `Listen`: block in accept(2), as Apache does ("Only one listener, so skip the
//!    poll"). The kernel wakes one blocked acceptor per connection, where poll(2) would wake
//!    the listener of every child and all but one would find nothing (measured with six
//!    children: 9 context switches per `Connection: close` request, 5.3 without the herd). A
//!    stop interrupts the accept with [`LISTENER_SIGNAL`] ([`wakeup_listener`]).
//!    Several `Listen`s: wait until one is readable (poll(2), with the wake-up pipe, so a stop
//!    is seen at once). Those sockets are non-blocking and shared by every child: a sibling may
//!    take the connection first (EAGAIN), then we poll again with the same reservation.
//! 4. Accept and push the socket with the reservation.
//!
//! O_NONBLOCK belongs to the socket, which every child and generation shares: a single-listener
//! child makes it blocking, a several-listener one non-blocking. Both kinds only coexist during
//! a graceful restart that changes the number of `Listen`s; then an accept that meets the other
//! kind's setting either gets EAGAIN (we poll first, next time) or waits for the next
//! connection, and the stop signal still interrupts it.
//!
//! On exit: close our listening sockets, terminate the queue (workers drain it and leave),
//! mark the process slot quiescing (the parent may then fork a replacement into it), and wake
//! the main thread.

use std::io;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::fd::AsFd;
use std::sync::atomic::Ordering;

use httpd_core::ap_log;
use httpd_core::threaded::StopMode;
use httpd_core::threaded::child::LISTENER_SIGNAL;
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::pthread::{pthread_kill, pthread_self};
use nix::sys::signal::{SaFlags, SigAction, SigHandler, SigSet, SigmaskHow, pthread_sigmask};

use crate::child::Shared;

const MODULE: &str = "mpm_worker";

// ANCHOR: listener_loop
/// `listener_thread`.
pub(crate) fn listener_thread(shared: &Shared, listeners: Vec<TcpListener>) {
    // Step 3: one listener is accepted on directly (blocking); several are polled, and then a
    // sibling may accept first, so they must not block.
    let mut skip_poll = listeners.len() == 1 && make_wakeable().is_ok();
    for l in &listeners {
        let _ = l.set_nonblocking(!skip_poll);
    }
    if skip_poll {
        // Only a listener that can be interrupted is ever signalled.
        let _ = shared.listener_thread.set(pthread_self());
    }
    'accepting: loop {
        if shared.ctl.listener_may_exit() {
            break;
        }
        // Step 1 (rule 54: workers decrement the budget after a connection, so up to TPC−1
        // extra connections may already be in progress when we notice).
        if shared.conns_left.load(Ordering::SeqCst) <= 0 {
            shared.ctl.request_stop(StopMode::Graceful);
            break;
        }
        // Step 2.
        let Ok(idler) = shared.queue_info.wait_for_idler() else {
            break;
        };
        // Steps 3 and 4, with the same reservation until a socket is accepted.
        loop {
            if shared.ctl.listener_may_exit() {
                break 'accepting;
            }
            if skip_poll {
                match accept_interruptible(&listeners[0]) {
                    Ok(conn) => {
                        shared.queue.push(conn, idler);
                        continue 'accepting;
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                        // Made non-blocking by a several-listener generation: poll this time.
                        skip_poll = false;
                        continue;
                    }
                    // EINTR (the stop signal) and the rest of the transient list.
                    Err(e) if is_transient(&e) => continue,
                    Err(e) => {
                        accept_failed(shared, &e);
                        break 'accepting;
                    }
                }
            }
            let mut fds: Vec<PollFd> = listeners
                .iter()
                .map(|l| PollFd::new(l.as_fd(), PollFlags::POLLIN))
                .collect();
            fds.push(PollFd::new(shared.wake.1.as_fd(), PollFlags::POLLIN));
            match poll(&mut fds, PollTimeout::NONE) {
                Ok(_) | Err(nix::errno::Errno::EINTR) => {}
                Err(e) => {
                    ap_log!(
                        shared.log,
                        MODULE,
                        Error,
                        "({}){}: AH03295: apr_pollset_poll failed",
                        e as i32,
                        e.desc()
                    );
                    shared.sick.store(true, Ordering::SeqCst);
                    break 'accepting;
                }
            }
            let ready: Vec<usize> = fds[..listeners.len()]
                .iter()
                .enumerate()
                .filter(|(_, f)| f.revents().is_some_and(|r| r.contains(PollFlags::POLLIN)))
                .map(|(i, _)| i)
                .collect();
            drop(fds);
            for i in ready {
                match listeners[i].accept() {
                    Ok((stream, peer)) => {
                        // Linux's accept(2) does not pass the listener's O_NONBLOCK on: the
                        // socket is blocking already, as serve_connection wants it.
                        shared.queue.push((stream, peer), idler);
                        continue 'accepting;
                    }
                    Err(e) if is_transient(&e) => continue,
                    Err(e) => {
                        accept_failed(shared, &e);
                        break 'accepting;
                    }
                }
            }
        }
    }
    // On exit (see the module doc).
    drop(listeners);
    shared.queue.term();
    shared.sb.process(shared.slot).set_quiescing(1);
    shared.ctl.request_stop(StopMode::Graceful);
}
// ANCHOR_END: listener_loop

/// `ap_unixd_accept`: an error off the transient list means this child is unwell.
fn accept_failed(shared: &Shared, e: &io::Error) {
    ap_log!(
        shared.log,
        MODULE,
        Error,
        "({}){}: AH02179: apr_socket_accept: (client socket)",
        e.raw_os_error().unwrap_or(0),
        e
    );
    shared.sick.store(true, Ordering::SeqCst);
}

/// accept(2) that reports EINTR: std's `TcpListener::accept` retries it, which would swallow
/// the stop signal; socket2's is the plain system call (with close-on-exec).
fn accept_interruptible(l: &TcpListener) -> io::Result<(TcpStream, SocketAddr)> {
    let (sock, addr) = socket2::SockRef::from(l).accept()?;
    let peer = addr
        .as_socket()
        .ok_or_else(|| io::Error::other("accepted a socket that is not TCP/IP"))?;
    Ok((sock.into(), peer))
}

/// `dummy_signal_handler`: the signal only has to interrupt accept(2).
extern "C" fn dummy_signal_handler(_sig: libc::c_int) {}

/// Let [`LISTENER_SIGNAL`] interrupt this thread's accept(2): a handler installed without
/// SA_RESTART (so the accept fails with EINTR instead of resuming), then unblocked in this
/// thread only (every other thread keeps it blocked, `ChildSignals::block`).
#[allow(unsafe_code)]
fn make_wakeable() -> nix::Result<()> {
    let act = SigAction::new(
        SigHandler::Handler(dummy_signal_handler),
        SaFlags::empty(),
        SigSet::empty(),
    );
    // SAFETY: the handler does nothing at all, so it is async-signal-safe.
    unsafe { nix::sys::signal::sigaction(LISTENER_SIGNAL, &act) }?;
    let mut set = SigSet::empty();
    set.add(LISTENER_SIGNAL);
    pthread_sigmask(SigmaskHow::SIG_UNBLOCK, Some(&set), None)
}

/// `wakeup_listener`: interrupt a listener blocked in accept(2). The signal can arrive just
/// before the listener enters accept and be lost, so the stopping main thread repeats it until
/// the listener has left (child.rs, step 5), as Apache's `join_workers` does every 500 ms.
pub(crate) fn wakeup_listener(shared: &Shared) {
    // The id stays valid until the listener is joined, which happens after the last call.
    if let Some(&tid) = shared.listener_thread.get() {
        let _ = pthread_kill(tid, LISTENER_SIGNAL);
    }
}

/// Errors after which another accept is simply tried (`ap_unixd_accept`'s list).
fn is_transient(e: &io::Error) -> bool {
    use nix::errno::Errno;
    if e.kind() == io::ErrorKind::WouldBlock || e.kind() == io::ErrorKind::Interrupted {
        return true;
    }
    matches!(
        e.raw_os_error().map(Errno::from_raw),
        Some(
            Errno::ECONNABORTED
                | Errno::ECONNRESET
                | Errno::ETIMEDOUT
                | Errno::EHOSTUNREACH
                | Errno::ENETUNREACH
                | Errno::EPROTO
                | Errno::ENOPROTOOPT
                | Errno::EHOSTDOWN
                | Errno::ENONET
                | Errno::EOPNOTSUPP
                | Errno::EMFILE
                | Errno::ENFILE
                | Errno::ENOBUFS
                | Errno::ENOMEM
        )
    )
}
