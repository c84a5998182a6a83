//! The pipe of death (POD): how the parent asks *one* child to leave without choosing which.
//!
//! Source: `server/mpm_unix.c` (`ap_mpm_pod_*` for prefork, `ap_mpm_podx_*` for worker and
//! event); apache-mpm-rules.md §1.5, rule 7.
//!
//! Protocol, prefork flavour (`signal`, `check`, `killpg`):
//! 1. The parent writes one `'!'` byte into the pipe, then makes a *dummy connection* to one of
//!    the listeners: `OPTIONS * HTTP/1.0` with a `User-Agent` ending in
//!    "(internal dummy connection)". Without it, every idle child could sleep in `accept()`
//!    for a long time and nobody would read the byte.
//! 2. Whichever child accepts the dummy connection serves it (it is logged like any request,
//!    rule 7), then, between connections, reads the pipe without blocking (`check`).
//! 3. The child that gets the byte exits; the others find the pipe empty and go on.
//! 4. `killpg(n)` writes no byte: it makes one dummy connection per `Ready` slot among the
//!    first n, so idle children wake up and notice the new generation or the stop.
//!
//! Protocol, podx flavour (`signal_x`, `killpg_x`, `read_x`, `try_read_x`):
//! 1. The parent writes one byte per message: `'!'` graceful, `'$'` restart (ungraceful).
//! 2. Each threaded child's main thread waits on the read end; whichever reads a byte first
//!    acts on it, so n bytes stop n children. No dummy connection is needed, because the
//!    main thread is not stuck in `accept()`.
// ANCHOR: pod_signal
use std::io::{self, Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpStream};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::time::Duration;

use nix::fcntl::{FcntlArg, OFlag, fcntl};
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};

use crate::scoreboard::{Scoreboard, WorkerStatus};

/// The byte a prefork POD message carries, and podx's graceful message.
const GRACEFUL_CHAR: u8 = b'!';
/// podx's ungraceful (restart/stop) message.
const RESTART_CHAR: u8 = b'$';
/// How long the parent waits to connect for a dummy connection (Apache: 3 s).
const DUMMY_CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

/// A podx message (`ap_podx_restart_t`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PodxMsg {
    /// Finish the connections in hand, then exit (`'!'`).
    Graceful,
    /// Exit now, closing every connection (`'$'`).
    Restart,
}

/// A pipe of death. Both ends are close-on-exec; the read end is non-blocking.
pub struct Pod {
    read: std::fs::File,
    write: std::fs::File,
}

impl Pod {
    /// Create the pipe (parent, before forking the children that will read it).
    pub fn new() -> io::Result<Pod> {
        let (r, w): (OwnedFd, OwnedFd) = nix::unistd::pipe2(OFlag::O_CLOEXEC)?;
        let flags = OFlag::from_bits_truncate(fcntl(&r, FcntlArg::F_GETFL)?);
        fcntl(&r, FcntlArg::F_SETFL(flags | OFlag::O_NONBLOCK))?;
        Ok(Pod {
            read: r.into(),
            write: w.into(),
        })
    }

    /// Prefork step 1: one byte, then a dummy connection to `listener` so an idle child wakes.
    pub fn signal(&self, listener: SocketAddr) {
        if (&self.write).write_all(&[GRACEFUL_CHAR]).is_ok() {
            dummy_connection(listener);
        }
    }

    /// Prefork step 2, in the child between connections: is there a byte for me?
    pub fn check(&self) -> bool {
        let mut b = [0u8];
        matches!((&self.read).read(&mut b), Ok(1))
    }

    /// Prefork step 4: wake the idle children among the first `n` slots.
    pub fn killpg(&self, sb: &Scoreboard, n: usize, listener: SocketAddr) {
        for slot in 0..n.min(sb.server_limit()) {
            if sb.worker(slot, 0).status() == WorkerStatus::Ready {
                dummy_connection(listener);
            }
        }
    }

    /// podx step 1: send one message.
    pub fn signal_x(&self, msg: PodxMsg) {
        let byte = match msg {
            PodxMsg::Graceful => GRACEFUL_CHAR,
            PodxMsg::Restart => RESTART_CHAR,
        };
        let _ = (&self.write).write_all(&[byte]);
    }

    /// podx: send `n` messages (one per child to stop).
    pub fn killpg_x(&self, n: usize, msg: PodxMsg) {
        for _ in 0..n {
            self.signal_x(msg);
        }
    }

    /// podx step 2, non-blocking: a message if one is waiting right now.
    pub fn try_read_x(&self) -> Option<PodxMsg> {
        let mut b = [0u8];
        match (&self.read).read(&mut b) {
            Ok(1) if b[0] == RESTART_CHAR => Some(PodxMsg::Restart),
            Ok(1) => Some(PodxMsg::Graceful),
            _ => None,
        }
    }

    /// podx step 2, blocking: wait until this process gets a message. Another child may take
    /// the byte between our poll and our read; then we simply wait again.
    pub fn read_x(&self) -> PodxMsg {
        loop {
            if let Some(m) = self.try_read_x() {
                return m;
            }
            let mut fds = [PollFd::new(self.read.as_fd(), PollFlags::POLLIN)];
            let _ = poll(&mut fds, PollTimeout::NONE);
        }
    }
}

impl AsFd for Pod {
    /// The read end, for a child that polls the POD together with other descriptors.
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.read.as_fd()
    }
}

/// `dummy_connection`: connect to our own listener and send a request a child will serve.
fn dummy_connection(listener: SocketAddr) {
    let target = match listener.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => {
            SocketAddr::new(Ipv4Addr::LOCALHOST.into(), listener.port())
        }
        IpAddr::V6(ip) if ip.is_unspecified() => {
            SocketAddr::new(Ipv6Addr::LOCALHOST.into(), listener.port())
        }
        _ => listener,
    };
    if let Ok(mut s) = TcpStream::connect_timeout(&target, DUMMY_CONNECT_TIMEOUT) {
        let req = format!(
            "OPTIONS * HTTP/1.0\r\nUser-Agent: {} (internal dummy connection)\r\n\r\n",
            crate::SERVER_VERSION
        );
        let _ = s.set_write_timeout(Some(DUMMY_CONNECT_TIMEOUT));
        let _ = s.write_all(req.as_bytes());
        // Like Apache, close without waiting for the answer: the child serves it anyway.
    }
}
// ANCHOR_END: pod_signal

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn podx_messages_are_read_once_in_order() {
        let pod = Pod::new().unwrap();
        assert_eq!(pod.try_read_x(), None);
        pod.signal_x(PodxMsg::Restart);
        pod.killpg_x(2, PodxMsg::Graceful);
        assert_eq!(pod.try_read_x(), Some(PodxMsg::Restart));
        assert_eq!(pod.read_x(), PodxMsg::Graceful);
        assert_eq!(pod.try_read_x(), Some(PodxMsg::Graceful));
        assert_eq!(pod.try_read_x(), None);
    }

    #[test]
    fn prefork_signal_writes_a_byte_and_makes_a_dummy_connection() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let pod = Pod::new().unwrap();
        pod.signal(l.local_addr().unwrap());
        let (mut c, _) = l.accept().unwrap();
        let mut req = String::new();
        c.read_to_string(&mut req).unwrap();
        assert!(req.starts_with("OPTIONS * HTTP/1.0\r\n"), "{req}");
        assert!(req.contains("(internal dummy connection)"));
        assert!(pod.check());
        assert!(!pod.check(), "one byte stops one child");
    }
}
