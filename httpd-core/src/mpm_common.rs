//! The control process's clock: `ap_wait_or_timeout` (`server/mpm_common.c`).
//!
//! Every MPM's main loop asks one question per turn: did a child exit, did a signal arrive,
//! or did a quiet second pass? Only a quiet second runs idle-server maintenance
//! (apache-mpm-rules.md §1.1, rule 10):
//!
//! 1. Reap without blocking. If a child was reaped, return at once: the caller handles that
//!    exit and loops, and maintenance does **not** run on this turn, because the scoreboard is
//!    still changing under it.
//! 2. Otherwise sleep up to one second. Only a signal to the parent cuts the sleep short; a child
//!    exiting does not (Apache installs no SIGCHLD handler), so exits found during a quiet
//!    second wait for the next turn.
//! 3. A second with neither is a maintenance tick.
use std::time::Duration;

use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use nix::unistd::Pid;

use crate::signals::{ParentSignal, ParentSignals};

/// Apache's `SCOREBOARD_MAINTENANCE_INTERVAL`: one second.
pub const MAINTENANCE_INTERVAL: Duration = Duration::from_secs(1);

/// What one turn of the main loop found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Turn {
    /// Step 1: a child exited; handle it and turn again without maintenance.
    Reaped(WaitStatus),
    /// Step 2: a signal asks for a stop or restart.
    Signal(ParentSignal),
    /// Step 3: a quiet second: run maintenance.
    Quiet,
}

/// One turn, with the two effects passed in so the rule can be checked without processes.
pub fn wait_or_timeout_with(
    mut reap: impl FnMut() -> Option<WaitStatus>,
    mut sleep_for_signal: impl FnMut(Duration) -> Option<ParentSignal>,
) -> Turn {
    if let Some(status) = reap() {
        return Turn::Reaped(status);
    }
    match sleep_for_signal(MAINTENANCE_INTERVAL) {
        Some(sig) => Turn::Signal(sig),
        None => Turn::Quiet,
    }
}

/// One turn of the real parent: `waitpid(-1, WNOHANG)`, then the signalfd for up to a second.
pub fn wait_or_timeout(signals: &ParentSignals) -> Turn {
    wait_or_timeout_with(
        || match waitpid(Pid::from_raw(-1), Some(WaitPidFlag::WNOHANG)) {
            // mod_cgid's daemon and piped loggers are "other children" (`cgid_maint`,
            // `piped_log_maintenance`), not MPM children.
            Ok(s @ (WaitStatus::Exited(..) | WaitStatus::Signaled(..)))
                if !s.pid().is_some_and(other_child_alert) =>
            {
                Some(s)
            }
            _ => None,
        },
        |d| signals.wait(d),
    )
}

/// `apr_proc_other_child_alert(pid, APR_OC_REASON_DEATH)`: hand a reaped process that is not an
/// MPM child to its owner (mod_cgid's daemon, a piped logger); `true` if one claimed it.
pub fn other_child_alert(pid: Pid) -> bool {
    crate::modules::cgid::maint(pid) || crate::log::piped::maint(pid)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_10_a_turn_that_reaped_never_sleeps_nor_maintains() {
        let status = WaitStatus::Exited(Pid::from_raw(42), 0);
        let mut slept = false;
        let turn = wait_or_timeout_with(
            || Some(status),
            |_| {
                slept = true;
                None
            },
        );
        assert_eq!(turn, Turn::Reaped(status));
        assert!(!slept, "a reaping turn returns at once");
    }

    #[test]
    fn rule_10_quiet_turns_wait_one_second_and_signals_cut_them_short() {
        let mut asked = None;
        let turn = wait_or_timeout_with(
            || None,
            |d| {
                asked = Some(d);
                None
            },
        );
        assert_eq!((turn, asked), (Turn::Quiet, Some(Duration::from_secs(1))));
        let turn = wait_or_timeout_with(|| None, |_| Some(ParentSignal::GracefulRestart));
        assert_eq!(turn, Turn::Signal(ParentSignal::GracefulRestart));
    }
}
