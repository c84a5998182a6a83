//! The threaded child's control state and its main thread.
//!
//! Source: `worker.c: child_main, signal_threads, dummy_signal_handler` (event.c has the same
//! shape); spec apache-mpm-rules.md §4.2, rule 51.
//!
//! # How a threaded child stops (numbered; tests cite these steps)
//!
//! 1. Before creating any thread the child blocks TERM, HUP, USR1, INT, WINCH, PIPE and
//!    [`LISTENER_SIGNAL`] ([`ChildSignals::block`]); every thread created later inherits the
//!    mask, and only a listener that waits in accept(2) unblocks [`LISTENER_SIGNAL`]. So SIGTERM sent
//!    to a worker child does **not** stop it (rule 51): it only wakes the main thread, which
//!    reads it from a signalfd. (Apache unblocks SIGTERM in the main thread with a no-op
//!    handler; a signalfd gives the same effect without a signal handler.)
//! 2. The main thread waits in [`wait_for_stop`] on the pipe of death and on that signalfd.
//! 3. A GRACEFUL byte, or the child's own listener calling [`ChildControl::request_stop`]
//!    (MaxConnectionsPerChild reached) — which records the mode and sends SIGTERM to its own
//!    process, as Apache does — ends the wait with [`StopMode::Graceful`]; a RESTART byte with
//!    [`StopMode::Ungraceful`].
//! 4. The MPM then signals its threads (`signal_threads`): graceful = the listener stops
//!    accepting, idle workers leave, busy workers finish their connection (the HTTP loop sees
//!    [`ChildControl::stopping`] and closes after the current request, rule 70); ungraceful
//!    additionally sets [`ChildControl::workers_may_exit`] and shuts down every socket in
//!    [`BusySockets`] so blocked reads return at once.
//! 5. The main thread joins all threads and the process exits.

use std::io;
use std::net::{Shutdown, TcpStream};
use std::os::fd::{AsFd, BorrowedFd};

use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::signal::{SigSet, SigmaskHow, Signal, kill, pthread_sigmask};
use nix::sys::signalfd::{SfdFlags, SignalFd};
use nix::unistd::getpid;

use crate::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use crate::sync::{Mutex, lock};

/// How a child stops (Apache's `ST_GRACEFUL` / `ST_UNGRACEFUL`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopMode {
    /// Finish every connection in progress (the in-flight request), accept no more.
    Graceful,
    /// Close every connection now.
    Ungraceful,
}

const MODE_NONE: u8 = 0;
const MODE_GRACEFUL: u8 = 1;
const MODE_UNGRACEFUL: u8 = 2;

/// Flags every thread of a threaded child reads (Apache's `terminate_mode`, `listener_may_exit`,
/// `workers_may_exit`, `dying` globals).
#[derive(Debug, Default)]
pub struct ChildControl {
    /// MODE_NONE / MODE_GRACEFUL / MODE_UNGRACEFUL; only ever goes up.
    mode: AtomicU8,
    /// Set by step 4; the listener polls it between accepts.
    listener_may_exit: AtomicBool,
    /// Set by step 4 when ungraceful: workers leave without serving queued sockets.
    workers_may_exit: AtomicBool,
}

impl ChildControl {
    /// Nothing requested yet.
    pub fn new() -> ChildControl {
        ChildControl::default()
    }

    /// Record a stop (an ungraceful request upgrades a graceful one, never the reverse) and
    /// wake the main thread by sending SIGTERM to our own process (step 3).
    pub fn request_stop(&self, mode: StopMode) {
        self.note_stop(mode);
        // SIGTERM is blocked in every thread (step 1), so it stays pending until the main
        // thread's signalfd reads it. kill(2) on our own pid cannot fail with a valid signal.
        let _ = kill(getpid(), Signal::SIGTERM);
    }

    /// Record a stop without waking anyone (the main thread itself, after reading the POD).
    pub fn note_stop(&self, mode: StopMode) {
        let m = match mode {
            StopMode::Graceful => MODE_GRACEFUL,
            StopMode::Ungraceful => MODE_UNGRACEFUL,
        };
        self.mode.fetch_max(m, Ordering::SeqCst);
    }

    /// The stop requested so far, if any.
    pub fn stop_requested(&self) -> Option<StopMode> {
        match self.mode.load(Ordering::SeqCst) {
            MODE_NONE => None,
            MODE_GRACEFUL => Some(StopMode::Graceful),
            _ => Some(StopMode::Ungraceful),
        }
    }

    /// True once any stop was requested: the MPM state is STOPPING, so the HTTP keep-alive
    /// loop closes after the current request (rule 70). Pass this as `ConnCtx::stopping`.
    pub fn stopping(&self) -> bool {
        self.stop_requested().is_some()
    }

    /// Step 4: tell the listener to leave its loop.
    pub fn set_listener_may_exit(&self) {
        self.listener_may_exit.store(true, Ordering::SeqCst);
    }

    /// True once the listener should stop accepting.
    pub fn listener_may_exit(&self) -> bool {
        self.listener_may_exit.load(Ordering::SeqCst)
    }

    /// Step 4, ungraceful: workers must not serve anything more.
    pub fn set_workers_may_exit(&self) {
        self.workers_may_exit.store(true, Ordering::SeqCst);
    }

    /// True once workers should leave without serving.
    pub fn workers_may_exit(&self) -> bool {
        self.workers_may_exit.load(Ordering::SeqCst)
    }
}

/// The sockets workers are serving right now, so an ungraceful stop can shut them all down
/// (Apache closes `worker_sockets[i]` in `close_worker_sockets`, step 4).
pub struct BusySockets {
    slots: Vec<Mutex<Option<TcpStream>>>,
}

impl BusySockets {
    /// Room for `n` workers.
    pub fn new(n: usize) -> BusySockets {
        BusySockets {
            slots: (0..n).map(|_| Mutex::new(None)).collect(),
        }
    }

    /// Worker `i` starts serving `stream`: keep a clone of the fd. If cloning fails (out of
    /// fds) the connection is simply not interruptible; it still ends by its own timeouts.
    pub fn set(&self, i: usize, stream: &TcpStream) {
        *lock(&self.slots[i]) = stream.try_clone().ok();
    }

    /// Worker `i` is done with its connection.
    pub fn clear(&self, i: usize) {
        *lock(&self.slots[i]) = None;
    }

    /// Shut down every registered socket (both directions): blocked reads and writes return.
    pub fn shutdown_all(&self) {
        for s in &self.slots {
            if let Some(stream) = lock(s).as_ref() {
                let _ = stream.shutdown(Shutdown::Both);
            }
        }
    }
}

/// Apache's `LISTENER_SIGNAL`: sent to the listener thread alone (`pthread_kill`) to interrupt
/// a blocking accept(2) when the child stops (`worker.c: wakeup_listener`). Apache uses SIGHUP;
/// our children read SIGHUP from their signalfd, so the listener gets a signal of its own.
/// Every other thread keeps it blocked: a process-directed SIGUSR2 can only reach the listener,
/// where it interrupts an accept and nothing else.
pub const LISTENER_SIGNAL: Signal = Signal::SIGUSR2;

/// The signals a threaded child blocks (step 1), readable from a signalfd.
pub struct ChildSignals {
    fd: SignalFd,
}

impl ChildSignals {
    /// Block TERM, HUP, USR1, INT, WINCH, PIPE and [`LISTENER_SIGNAL`] in the calling thread — call it in the
    /// child's main thread before spawning any other thread — and open a signalfd for TERM,
    /// HUP, USR1 and INT (`-X` mode stops on them).
    pub fn block() -> io::Result<ChildSignals> {
        let mut set = SigSet::empty();
        for s in [
            Signal::SIGTERM,
            Signal::SIGHUP,
            Signal::SIGUSR1,
            Signal::SIGINT,
            Signal::SIGWINCH,
            Signal::SIGPIPE,
            LISTENER_SIGNAL,
        ] {
            set.add(s);
        }
        pthread_sigmask(SigmaskHow::SIG_BLOCK, Some(&set), None)?;
        let mut readable = SigSet::empty();
        for s in [
            Signal::SIGTERM,
            Signal::SIGHUP,
            Signal::SIGUSR1,
            Signal::SIGINT,
        ] {
            readable.add(s);
        }
        let fd = SignalFd::with_flags(&readable, SfdFlags::SFD_CLOEXEC | SfdFlags::SFD_NONBLOCK)?;
        Ok(ChildSignals { fd })
    }

    /// Take every pending signal; returns them in arrival order with the sender's pid (our
    /// own pid when the listener woke us, the parent's for reclaim).
    pub fn drain(&self) -> Vec<(Signal, i32)> {
        let mut out = Vec::new();
        while let Ok(Some(info)) = self.fd.read_signal() {
            if let Ok(sig) = Signal::try_from(info.ssi_signo as i32) {
                out.push((sig, info.ssi_pid as i32));
            }
        }
        out
    }

    /// After a graceful stop began: wait up to `timeout` for a SIGTERM sent by *another*
    /// process (the parent's reclaim after GracefulShutdownTimeout or a stop). Our own
    /// listener's wake-up SIGTERM does not count. Returns true if one arrived.
    pub fn wait_foreign_term(&self, timeout: std::time::Duration) -> bool {
        let mut fds = [PollFd::new(self.fd.as_fd(), PollFlags::POLLIN)];
        let ms = u16::try_from(timeout.as_millis()).unwrap_or(u16::MAX);
        let _ = poll(&mut fds, PollTimeout::from(ms));
        let me = std::process::id() as i32;
        self.drain()
            .iter()
            .any(|&(sig, from)| sig == Signal::SIGTERM && from != me)
    }
}

impl AsFd for ChildSignals {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

/// What ended [`wait_for_stop`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WakeReason {
    /// A pipe-of-death byte or our own listener's request.
    Stop(StopMode),
    /// `-X` mode (no POD): SIGTERM/SIGINT to the single process.
    Signal(Signal),
}

/// Step 2: the main thread's loop (`worker.c: child_main`, the `ap_mpm_podx_check` loop).
///
/// `pod` is the read end of the bucket's pipe of death (`None` in `-X` mode) and `try_read`
/// a non-blocking read of one podx byte: `Some(mode)` for a byte, `None` if a sibling child
/// took it first. SIGTERM only wakes us; we then look at [`ChildControl::stop_requested`].
pub fn wait_for_stop(
    pod: Option<BorrowedFd<'_>>,
    mut try_read: impl FnMut() -> Option<StopMode>,
    signals: &ChildSignals,
    ctl: &ChildControl,
) -> WakeReason {
    loop {
        if let Some(mode) = ctl.stop_requested() {
            return WakeReason::Stop(mode);
        }
        let mut fds = vec![PollFd::new(signals.as_fd(), PollFlags::POLLIN)];
        if let Some(p) = pod {
            fds.push(PollFd::new(p, PollFlags::POLLIN));
        }
        match poll(&mut fds, PollTimeout::NONE) {
            Ok(_) => {}
            Err(nix::errno::Errno::EINTR) => continue,
            // poll(2) on valid fds fails only for ENOMEM; retry rather than exit silently.
            Err(_) => {
                std::thread::sleep(std::time::Duration::from_millis(100));
                continue;
            }
        }
        let pod_events = fds
            .get(1)
            .and_then(|f| f.revents())
            .unwrap_or(PollFlags::empty());
        drop(fds);
        let pod_ready = pod_events.contains(PollFlags::POLLIN);
        // Every write end closed: the parent is gone. Stop gracefully instead of spinning.
        if !pod_ready && pod_events.contains(PollFlags::POLLHUP) {
            ctl.note_stop(StopMode::Graceful);
            return WakeReason::Stop(StopMode::Graceful);
        }
        let me = std::process::id() as i32;
        for (sig, from) in signals.drain() {
            // Our own SIGTERM is only a wake-up (step 3); the loop top reads the mode.
            if pod.is_none() && from != me && matches!(sig, Signal::SIGTERM | Signal::SIGINT) {
                return WakeReason::Signal(sig);
            }
        }
        if pod_ready && let Some(mode) = try_read() {
            ctl.note_stop(mode);
            return WakeReason::Stop(mode);
        }
    }
}
