//! The listener thread: accept only when a worker is free.
//!
//! Source: Apache `server/mpm/worker/worker.c: listener_thread, check_infinite_requests` and
//! `os/unix/unixd.c: ap_unixd_accept`; spec apache-mpm-rules.md §4.2, §6.6, rules 2 and 54.
//!
//! # One iteration (numbers continue `httpd_core::fdqueue`'s hand-off steps)
//! 1. If MaxConnectionsPerChild is used up, ask for a graceful stop of this child and leave.
//! 2. Reserve an idle worker (`wait_for_idler`): **nothing is accepted while every worker is
//!    busy**, connections wait in the kernel backlog, where another child may take them.
//! 3. Wait until a listening socket is readable (poll(2), with the wake-up pipe, so a stop is
//!    seen at once). The sockets are non-blocking and shared by every child: a sibling may take
//!    the connection first (EAGAIN), then we poll again with the same reservation.
//! 4. Accept and push the socket with the reservation.
//!
//! On exit: close our listening sockets, terminate the queue (workers drain it and leave),
//! mark the process slot quiescing (the parent may then fork a replacement into it), and wake
//! the main thread.

use std::io;
use std::net::TcpListener;
use std::os::fd::AsFd;
use std::sync::atomic::Ordering;

use httpd_core::ap_log;
use httpd_core::threaded::StopMode;
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};

use crate::child::Shared;

const MODULE: &str = "mpm_worker";

// ANCHOR: listener_loop
/// `listener_thread`.
pub(crate) fn listener_thread(shared: &Shared, listeners: Vec<TcpListener>) {
    for l in &listeners {
        // Shared with sibling children: after poll says "readable" a sibling may accept first,
        // and a blocking accept would then hang where no stop request can reach it.
        let _ = l.set_nonblocking(true);
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
                        // `ap_unixd_accept`: anything else means this child is unwell.
                        ap_log!(
                            shared.log,
                            MODULE,
                            Error,
                            "({}){}: AH02179: apr_socket_accept: (client socket)",
                            e.raw_os_error().unwrap_or(0),
                            e
                        );
                        shared.sick.store(true, Ordering::SeqCst);
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
