//! What a child's exit means: `ap_process_child_status`.
//!
//! Source: `include/httpd.h` (APEXIT_*), `server/mpm_unix.c`; apache-mpm-rules.md §1.6, rule 56.
use nix::sys::signal::Signal;
use nix::sys::wait::WaitStatus;
use nix::unistd::Pid;

use crate::log::{ErrorLog, Level};

/// Exit code of a child that hit a resource shortage: the parent resets its spawn rate.
pub const APEXIT_CHILDSICK: i32 = 7;
/// Exit code of a child that cannot ever work (e.g. privilege drop failed): stop the server.
pub const APEXIT_CHILDFATAL: i32 = 15;
/// Exit code of a child whose initialisation failed.
pub const APEXIT_CHILDINIT: i32 = 3;

/// The class of a child's exit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChildExit {
    /// Exited 0 (or another code without meaning for the parent).
    Normal,
    /// Exit code 7.
    Sick,
    /// Exit code 15: the caller stops the server with AH00050 unless the child was of an older
    /// generation (rule 56).
    Fatal,
    /// Killed by a signal.
    Signaled(Signal),
}

/// Classify a reaped child and log what Apache logs: AH00050 (alert) for exit code 15, AH00051/AH00052 at notice for a signal
/// other than the ones the server itself sends (TERM, HUP, USR1, KILL).
pub fn process_child_status(
    pid: Pid,
    status: WaitStatus,
    log: &ErrorLog,
    module: &str,
) -> ChildExit {
    let _ = module; // Apache logs these from mpm_unix.c, i.e. as "core".
    match status {
        WaitStatus::Exited(_, APEXIT_CHILDSICK) => ChildExit::Sick,
        WaitStatus::Exited(_, APEXIT_CHILDFATAL) => {
            // Apache logs this here, for every generation; the MPM then decides whether the
            // server really stops (current generation) or ignores it (AH00166/AH00290/AH00487).
            log.log(
                "core",
                Level::Alert,
                format_args!("AH00050: Child {pid} returned a Fatal error... Apache is exiting!"),
            );
            ChildExit::Fatal
        }
        WaitStatus::Signaled(_, sig, core) => {
            if !matches!(
                sig,
                Signal::SIGTERM | Signal::SIGHUP | Signal::SIGUSR1 | Signal::SIGKILL
            ) {
                let name = signal_description(sig);
                if core {
                    log.log(
                        "core",
                        Level::Notice,
                        format_args!(
                            "AH00051: child pid {pid} exit signal {name} ({}), possible coredump in {}",
                            sig as i32,
                            std::env::current_dir().map(|d| d.display().to_string()).unwrap_or_default()
                        ),
                    );
                } else {
                    log.log(
                        "core",
                        Level::Notice,
                        format_args!(
                            "AH00052: child pid {pid} exit signal {name} ({})",
                            sig as i32
                        ),
                    );
                }
            }
            ChildExit::Signaled(sig)
        }
        _ => ChildExit::Normal,
    }
}

/// The C library's name for a signal, as Apache prints it (`apr_signal_description_get`).
pub fn signal_description(sig: Signal) -> &'static str {
    match sig {
        Signal::SIGSEGV => "Segmentation fault",
        Signal::SIGBUS => "Bus error",
        Signal::SIGABRT => "Aborted",
        Signal::SIGILL => "Illegal instruction",
        Signal::SIGFPE => "Floating point exception",
        Signal::SIGINT => "Interrupt",
        Signal::SIGQUIT => "Quit",
        Signal::SIGPIPE => "Broken pipe",
        Signal::SIGALRM => "Alarm clock",
        Signal::SIGUSR2 => "User defined signal 2",
        Signal::SIGTERM => "Terminated",
        Signal::SIGKILL => "Killed",
        Signal::SIGHUP => "Hangup",
        Signal::SIGUSR1 => "User defined signal 1",
        _ => sig.as_str(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_classify() {
        let log = ErrorLog::stderr();
        let p = Pid::from_raw(1);
        assert_eq!(
            process_child_status(p, WaitStatus::Exited(p, 7), &log, "core"),
            ChildExit::Sick
        );
        assert_eq!(
            process_child_status(p, WaitStatus::Exited(p, 15), &log, "core"),
            ChildExit::Fatal
        );
        assert_eq!(
            process_child_status(p, WaitStatus::Exited(p, 0), &log, "core"),
            ChildExit::Normal
        );
        assert_eq!(
            process_child_status(
                p,
                WaitStatus::Signaled(p, Signal::SIGSEGV, false),
                &log,
                "core"
            ),
            ChildExit::Signaled(Signal::SIGSEGV)
        );
    }
}
