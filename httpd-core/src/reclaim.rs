//! Making children exit, politely and then not: `ap_reclaim_child_processes`.
//!
//! Source: `server/mpm_unix.c`; apache-mpm-rules.md §6.4, rule 50.
//!
//! | time since start | action |
//! |---|---|
//! | 0 s | SIGTERM, silently (only when `terminate`) |
//! | 3 s, 5 s, 7 s | SIGTERM again, warning AH00045 |
//! | 9 s | SIGKILL, error AH00046 |
//! | 10 s | give up, error AH00047 |
//!
//! Between actions it polls with waits of 16 ms, ×4 after every round, capped at 1 s.
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::sys::signal::{Signal, kill};
use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use nix::unistd::Pid;

use crate::log::{ErrorLog, Level};

/// One step of the schedule: at `after`, do `action`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReclaimAction {
    /// SIGTERM, with or without the AH00045 warning.
    Term { warn: bool },
    /// SIGKILL with AH00046.
    Kill,
    /// AH00047 and stop waiting.
    GiveUp,
}

/// The schedule as data, so tests and the book can show it.
pub const SCHEDULE: [(Duration, ReclaimAction); 5] = [
    (Duration::from_secs(3), ReclaimAction::Term { warn: true }),
    (Duration::from_secs(5), ReclaimAction::Term { warn: true }),
    (Duration::from_secs(7), ReclaimAction::Term { warn: true }),
    (Duration::from_secs(9), ReclaimAction::Kill),
    (Duration::from_secs(10), ReclaimAction::GiveUp),
];

/// Wait for `pids` to exit, escalating as in the table; returns what was reaped.
pub fn reclaim_child_processes(
    pids: &[Pid],
    terminate: bool,
    log: &ErrorLog,
    module: &str,
) -> Vec<(Pid, WaitStatus)> {
    let _ = module; // Apache logs these from mpm_unix.c, i.e. as "core".
    let start = Instant::now();
    let mut left: Vec<Pid> = pids.to_vec();
    let mut reaped = Vec::new();
    if terminate {
        for p in &left {
            let _ = kill(*p, Signal::SIGTERM);
        }
    }
    let mut next = 0;
    let mut wait = Duration::from_millis(16);
    while !left.is_empty() {
        left.retain(|p| match waitpid(*p, Some(WaitPidFlag::WNOHANG)) {
            Ok(WaitStatus::StillAlive) => true,
            Ok(s) => {
                reaped.push((*p, s));
                false
            }
            Err(Errno::EINTR) => true,
            Err(_) => false, // not our child any more (already reaped elsewhere)
        });
        if left.is_empty() {
            break;
        }
        while next < SCHEDULE.len() && start.elapsed() >= SCHEDULE[next].0 {
            let action = SCHEDULE[next].1;
            next += 1;
            for p in &left {
                match action {
                    ReclaimAction::Term { warn } => {
                        if warn {
                            log.log("core", Level::Warn, format_args!("AH00045: child process {p} still did not exit, sending a SIGTERM"));
                        }
                        let _ = kill(*p, Signal::SIGTERM);
                    }
                    ReclaimAction::Kill => {
                        log.log(
                            "core",
                            Level::Error,
                            format_args!(
                                "AH00046: child process {p} still did not exit, sending a SIGKILL"
                            ),
                        );
                        let _ = kill(*p, Signal::SIGKILL);
                    }
                    ReclaimAction::GiveUp => {
                        log.log(
                            "core",
                            Level::Error,
                            format_args!("AH00047: could not make child process {p} exit, attempting to continue anyway"),
                        );
                    }
                }
            }
            if action == ReclaimAction::GiveUp {
                return reaped;
            }
        }
        std::thread::sleep(wait);
        wait = (wait * 4).min(Duration::from_secs(1));
    }
    reaped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_50_schedule_is_apaches() {
        let secs: Vec<u64> = SCHEDULE.iter().map(|(d, _)| d.as_secs()).collect();
        assert_eq!(secs, [3, 5, 7, 9, 10]);
        assert_eq!(SCHEDULE[3].1, ReclaimAction::Kill);
    }

    #[test]
    fn reaps_a_child_that_obeys_sigterm() {
        // reclaim reaps it with waitpid, so std's Child handle is deliberately not waited on.
        #[allow(clippy::zombie_processes)]
        let child = std::process::Command::new("sleep")
            .arg("30")
            .spawn()
            .unwrap();
        let pid = Pid::from_raw(child.id() as i32);
        let got = reclaim_child_processes(&[pid], true, &ErrorLog::stderr(), "core");
        assert_eq!(got.len(), 1);
        assert!(matches!(
            got[0].1,
            WaitStatus::Signaled(_, Signal::SIGTERM, _)
        ));
    }
}
