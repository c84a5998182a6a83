//! The control process's signals.
//!
//! Source: `os/unix/unixd.c: ap_unixd_mpm_set_signals`, `sig_term`, `restart`;
//! apache-mpm-rules.md §6.1, rules 44–48.
//!
//! | signal | meaning |
//! |---|---|
//! | SIGTERM, SIGINT | stop now |
//! | SIGHUP | restart: children killed, config re-read |
//! | SIGUSR1 | graceful restart: children finish, a new generation starts at once |
//! | SIGWINCH | graceful stop |
//!
//! The parent blocks these and reads them from a signalfd, so no handler runs at an awkward
//! moment and the main loop stays one plain sequence. SIGCHLD is deliberately *not* read:
//! Apache's loop does not wake when a child exits, it finds exits with `waitpid(WNOHANG)` on
//! its next one-second tick (§1.1), and the maintenance timing students measure depends on
//! that. SIGPIPE is ignored (Rust's runtime already does), so a write to a closed socket is
//! an error, not a death.
use std::io;
use std::os::fd::{AsFd, BorrowedFd};
use std::time::Duration;

use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::signal::{SigHandler, SigSet, Signal, signal};
use nix::sys::signalfd::{SfdFlags, SignalFd};

/// What a signal to the parent asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParentSignal {
    /// SIGTERM or SIGINT: stop now (rule 44).
    Stop,
    /// SIGHUP: restart now (rule 48).
    Restart,
    /// SIGUSR1: graceful restart (rule 47).
    GracefulRestart,
    /// SIGWINCH: graceful stop (rule 45).
    GracefulStop,
}

impl ParentSignal {
    /// The signal number's meaning, if it is one of ours.
    pub fn from_signal(s: Signal) -> Option<ParentSignal> {
        Some(match s {
            Signal::SIGTERM | Signal::SIGINT => ParentSignal::Stop,
            Signal::SIGHUP => ParentSignal::Restart,
            Signal::SIGUSR1 => ParentSignal::GracefulRestart,
            Signal::SIGWINCH => ParentSignal::GracefulStop,
            _ => return None,
        })
    }

    /// Apache's rule for a signal arriving while another request is pending: a stop beats a
    /// graceful stop, and anything beats nothing; a repeated graceful signal changes nothing.
    pub fn merge(pending: Option<ParentSignal>, new: ParentSignal) -> ParentSignal {
        use ParentSignal::*;
        match (pending, new) {
            (Some(Stop), _) | (_, Stop) => Stop,
            (Some(GracefulStop), _) => GracefulStop,
            (_, n) => n,
        }
    }
}

/// The signals the parent takes through its signalfd (stop, restart, graceful, graceful-stop).
const HANDLED: [Signal; 5] = [
    Signal::SIGTERM,
    Signal::SIGINT,
    Signal::SIGHUP,
    Signal::SIGUSR1,
    Signal::SIGWINCH,
];

fn handled() -> SigSet {
    let mut s = SigSet::empty();
    for sig in HANDLED {
        s.add(sig);
    }
    s
}

/// The parent's signal inbox.
pub struct ParentSignals {
    fd: SignalFd,
}

impl ParentSignals {
    /// Block the five signals and open a signalfd for them. Call while single-threaded.
    pub fn install() -> io::Result<ParentSignals> {
        // SAFETY: setting SIG_IGN installs no handler code; the parent is single-threaded here.
        #[allow(unsafe_code)]
        unsafe {
            signal(Signal::SIGPIPE, SigHandler::SigIgn)?;
            signal(Signal::SIGXFSZ, SigHandler::SigIgn)?;
        }
        handled().thread_block()?;
        let fd = SignalFd::with_flags(&handled(), SfdFlags::SFD_NONBLOCK | SfdFlags::SFD_CLOEXEC)?;
        Ok(ParentSignals { fd })
    }

    /// Wait up to `timeout` for one of our signals.
    pub fn wait(&self, timeout: Duration) -> Option<ParentSignal> {
        if let Some(s) = self.try_read() {
            return Some(s);
        }
        let ms = i32::try_from(timeout.as_millis()).unwrap_or(i32::MAX);
        let mut fds = [PollFd::new(self.fd.as_fd(), PollFlags::POLLIN)];
        let _ = poll(
            &mut fds,
            PollTimeout::try_from(ms).unwrap_or(PollTimeout::MAX),
        );
        self.try_read()
    }

    /// A signal that is already waiting, without blocking.
    pub fn try_read(&self) -> Option<ParentSignal> {
        loop {
            match self.fd.read_signal() {
                Ok(Some(info)) => {
                    if let Some(s) = Signal::try_from(info.ssi_signo as i32)
                        .ok()
                        .and_then(ParentSignal::from_signal)
                    {
                        return Some(s);
                    }
                }
                _ => return None,
            }
        }
    }

    /// In a freshly forked child: see [`child_reset`].
    pub fn child_reset() {
        child_reset();
    }
}

impl AsFd for ParentSignals {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

/// In a freshly forked child: default dispositions for the parent's signals, and unblock them,
/// so that the MPM's child code can install its own handling (prefork: SIGTERM/SIGHUP exit at
/// once; worker/event: SIGTERM only wakes the main thread). The inherited signalfd is
/// close-on-exec and never read by the child.
pub fn child_reset() {
    for sig in HANDLED {
        // SAFETY: SIG_DFL installs no handler code.
        #[allow(unsafe_code)]
        let _ = unsafe { signal(sig, SigHandler::SigDfl) };
    }
    let _ = handled().thread_unblock();
    // Every forked child passes here: only the parent may restart a piped logger.
    crate::log::piped::child_init();
}

#[cfg(test)]
mod tests {
    use super::ParentSignal::*;
    use super::*;

    #[test]
    fn rule_44_45_stop_beats_graceful_stop_and_repeats_are_idempotent() {
        assert_eq!(ParentSignal::merge(Some(GracefulStop), Stop), Stop);
        assert_eq!(ParentSignal::merge(Some(Stop), GracefulRestart), Stop);
        assert_eq!(
            ParentSignal::merge(Some(GracefulStop), GracefulRestart),
            GracefulStop
        );
        assert_eq!(
            ParentSignal::merge(Some(GracefulRestart), GracefulRestart),
            GracefulRestart
        );
        assert_eq!(ParentSignal::merge(None, Restart), Restart);
    }

    #[test]
    fn signal_numbers_map_like_apache() {
        assert_eq!(ParentSignal::from_signal(Signal::SIGINT), Some(Stop));
        assert_eq!(
            ParentSignal::from_signal(Signal::SIGWINCH),
            Some(GracefulStop)
        );
        assert_eq!(ParentSignal::from_signal(Signal::SIGCHLD), None);
    }
}
