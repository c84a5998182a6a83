//! Running as a service: the part of start-up that every MPM shares between reading the
//! configuration and starting its children (`server/main.c` first pass `open_logs`, the MPMs'
//! `pre_config` detach, APR's `apr_proc_detach`, `server/log.c: ap_replace_stderr_log`).
//!
//! 1. **Listeners first, on the terminal.** [`open_logs`] binds the `Listen` sockets before
//!    anything else; a failure prints Apache's lines on stderr (or the `-E` file) and the exit
//!    status is 1, so `apache2ctl start` and systemd report it:
//!    `(98)Address already in use: AH00072: make_sock: could not bind to address 127.0.0.1:80`,
//!    `no listening sockets available, shutting down`, `AH00015: Unable to open logs`.
//! 2. **Then the error log.** A missing directory is Apache's check_config failure (AH02291,
//!    AH00014); another open error is AH00091 then AH00015.
//! 3. **Then detach** ([`DetachMode`], decided by [`detach_mode`]): `fork`, the original process
//!    exits 0 at once (as `apr_proc_detach` does: it does not wait for the daemon), the daemon
//!    calls `setsid`, moves to `/`, and points stdin/stdout/stderr at `/dev/null`, then stderr at
//!    the error log (Apache's `ap_open_logs` does the same `dup2`). The MPM then writes the
//!    PidFile: from the daemon, so the PidFile names the process systemd must watch.
//!    This happens before any thread exists: `fork` copies only the calling thread, so a
//!    process that forks after starting threads may inherit a lock some other thread held.
//!    [`detach`] checks `/proc/self/status` and refuses to fork a threaded process.
//!
//! Deviation (conformance/DEVIATIONS.md): Apache detaches on every start unless `-X`,
//! `-D FOREGROUND` or `-D NO_DETACH`; mpm-lab detaches only for `-k start` (and a `-k restart` or
//! `-k graceful` that finds nothing running and starts), so the labs, the README's commands and
//! the conformance harness keep a server attached to their terminal or process group.

use std::io;
use std::os::fd::AsRawFd;
use std::process::ExitCode;

use crate::cli::{Args, KCommand};
use crate::config::{ErrorLogTarget, ServerConfig};
use crate::listen::{ListenOptions, Listener, open_listeners};
use crate::log::{ErrorLog, Level, startup_warning};

/// How a starting server leaves its terminal (`apr_proc_detach`'s argument, or no call).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DetachMode {
    /// Stay as started: no `-k start`, or `-X`, or `-D FOREGROUND`.
    Attached,
    /// `-D NO_DETACH`: a new session, no fork (`APR_PROC_DETACH_FOREGROUND`), for supervisors
    /// that want the server as their own child.
    NewSession,
    /// `-k start`: fork, the original exits 0, the daemon leads a new session
    /// (`APR_PROC_DETACH_DAEMONIZE`).
    Daemon,
}

/// The MPMs' `pre_config` rule (`prefork.c`, `worker.c`, `event.c`: `debug` → foreground;
/// `NO_DETACH`; `FOREGROUND`), applied to the starts that detach in mpm-lab (module doc).
pub fn detach_mode(args: &Args) -> DetachMode {
    let starts_service = matches!(
        args.command,
        Some(KCommand::Start | KCommand::Restart | KCommand::Graceful)
    );
    if !starts_service || args.one_process || args.defines_name("DEBUG") {
        return DetachMode::Attached;
    }
    if args.defines_name("FOREGROUND") {
        DetachMode::Attached
    } else if args.defines_name("NO_DETACH") {
        DetachMode::NewSession
    } else {
        DetachMode::Daemon
    }
}

/// Why [`detach`] did not happen.
#[derive(Debug)]
pub enum DetachError {
    /// The process already runs more than one thread: forking it is not safe.
    Threaded(usize),
    /// `fork`, `setsid` or reopening the standard descriptors failed.
    Os(nix::Error),
}

impl std::fmt::Display for DetachError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DetachError::Threaded(n) => write!(f, "refusing to fork a process with {n} threads"),
            DetachError::Os(e) => write!(f, "({}){}", *e as i32, e.desc()),
        }
    }
}

/// The number of threads of this process (`Threads:` of `/proc/self/status`).
pub fn thread_count() -> usize {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Threads:"))
                .and_then(|n| n.trim().parse().ok())
        })
        .unwrap_or(1)
}

/// Step 3: `apr_proc_detach`. In `Daemon` mode only the daemon returns.
#[allow(unsafe_code)]
pub fn detach(mode: DetachMode) -> Result<(), DetachError> {
    use nix::unistd::{ForkResult, chdir, fork, setsid};
    if mode == DetachMode::Attached {
        return Ok(());
    }
    let _ = chdir("/");
    if mode == DetachMode::Daemon {
        let threads = thread_count();
        if threads > 1 {
            return Err(DetachError::Threaded(threads));
        }
        // SAFETY: the process has exactly one thread (checked just above), so no lock can be
        // held by a thread that the child would lack; the child goes on running ordinary Rust
        // code, and the parent only calls `_exit`.
        match unsafe { fork() }.map_err(DetachError::Os)? {
            ForkResult::Parent { .. } => {
                // As apr_proc_detach: the original process exits 0 at once. `_exit`: no atexit
                // handlers or buffered stdio of the daemon's state run twice.
                // SAFETY: `_exit` is async-signal-safe and ends the process immediately.
                unsafe { libc::_exit(0) }
            }
            ForkResult::Child => {}
        }
        setsid().map_err(DetachError::Os)?;
    } else {
        // Not fatal without a fork: we may already lead a process group (apr_proc_detach).
        let _ = setsid();
    }
    let null = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/null")
        .map_err(|e| DetachError::Os(nix::Error::from_raw(e.raw_os_error().unwrap_or(0))))?;
    for fd in 0..=2 {
        dup_onto(null.as_raw_fd(), fd).map_err(DetachError::Os)?;
    }
    Ok(())
}

/// `dup2(from, to)`: make the standard descriptor `to` another name for `from`.
#[allow(unsafe_code)]
fn dup_onto(from: std::os::fd::RawFd, to: std::os::fd::RawFd) -> Result<(), nix::Error> {
    // SAFETY: dup2 only changes the descriptor table: `from` is open for the whole call (its
    // owner is borrowed by the caller) and `to` is one of this process's standard descriptors,
    // which it means to replace; no Rust object owns 0, 1 or 2.
    if unsafe { libc::dup2(from, to) } < 0 {
        return Err(nix::Error::last());
    }
    Ok(())
}

/// `-E FILE` (`ap_replace_stderr_log`): from now on stderr is FILE, opened for appending. On
/// failure Apache's message goes to the old stderr and nothing changes.
pub fn replace_stderr(path: &std::path::Path, argv0: &str) {
    match std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(path)
    {
        Ok(f) => {
            let _ = dup_onto(f.as_raw_fd(), 2);
        }
        Err(e) => startup_warning(&format!(
            "({}){e}: AH00086: {argv0}: could not open error log file {}.",
            e.raw_os_error().unwrap_or(0),
            path.display()
        )),
    }
}

/// What a started server owns after [`open_logs`].
pub struct Opened {
    pub log: ErrorLog,
    pub listeners: Vec<Listener>,
}

/// Steps 1–3 for a first start. `Err` = the messages are printed, exit with this status.
pub fn open_logs(
    cfg: &ServerConfig,
    argv0: &str,
    startup_level: Level,
    detach_as: DetachMode,
) -> Result<Opened, ExitCode> {
    let startup = ErrorLog::startup(startup_level);
    let listeners = match open_listeners(&cfg.listen, ListenOptions::of(cfg), Vec::new(), &startup)
    {
        Ok(l) => l,
        Err(_) => {
            startup_warning("AH00015: Unable to open logs");
            return Err(ExitCode::from(1));
        }
    };
    let open_error_log = || {
        ErrorLog::open_main(cfg).map_err(|e| {
            startup_warning(&error_log_failure(cfg, argv0, &e));
            ExitCode::from(1)
        })
    };
    // A piped logger must be a child of the daemon, which reaps and replaces it: when detaching,
    // it is spawned after the fork (Apache detaches in pre_config, before open_logs).
    let piped = matches!(cfg.error_log, ErrorLogTarget::Piped(_));
    let early = if piped && detach_as != DetachMode::Attached {
        None
    } else {
        Some(open_error_log()?)
    };
    if let Err(e) = detach(detach_as) {
        startup_warning(&format!("{e}: AH00020: apr_proc_detach failed"));
        return Err(ExitCode::from(1));
    }
    let log = match early {
        Some(l) => l,
        None => open_error_log()?,
    };
    for l in &listeners {
        crate::listen::log_listening(&log, l);
    }
    crate::listen::log_buckets(&log, ListenOptions::of(cfg));
    // mod_log_config's open_logs hook: every piped access logger starts now, before any child
    // (an event child opens its access logs itself, from the write ends it inherits).
    if let Err(e) = crate::log::open_piped_logs(cfg) {
        startup_warning(&format!("{e}\nAH00015: Unable to open logs"));
        return Err(ExitCode::from(1));
    }
    if detach_as != DetachMode::Attached
        && let ErrorLogTarget::File(_) | ErrorLogTarget::Piped(_) = cfg.error_log
    {
        // Stray writes to stderr (a panic message) land in the error log, as in Apache.
        let _ = dup_onto(log.fd(), 2);
    }
    Ok(Opened { log, listeners })
}

/// Apache's words for an error log that cannot be opened (step 2).
fn error_log_failure(cfg: &ServerConfig, argv0: &str, e: &io::Error) -> String {
    let errno = e.raw_os_error().unwrap_or(0);
    let text = crate::config::parse::io_text(e);
    if let ErrorLogTarget::Piped(t) = &cfg.error_log {
        return format!(
            "({errno}){text}: AH00089: Couldn't start ErrorLog process '{}'.\nAH00015: Unable to open logs",
            &t[1..]
        );
    }
    let path = match &cfg.error_log {
        ErrorLogTarget::File(p) => p.clone(),
        ErrorLogTarget::Stderr => "/dev/stderr".into(),
        ErrorLogTarget::Piped(t) => t.into(),
    };
    match path.parent() {
        Some(dir) if !dir.is_dir() => format!(
            "({errno}){text}: AH02291: Cannot access directory '{}/' for main error log\nAH00014: Configuration check failed",
            dir.display()
        ),
        _ => format!(
            "({errno}){text}: AH00091: {argv0}: could not open error log file {}.\nAH00015: Unable to open logs",
            path.display()
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_detach_mode_follows_the_mpms_pre_config() {
        use DetachMode::*;
        let cases: [(&[&str], DetachMode, &str); 8] = [
            (&[], Attached, "no -k: attached"),
            (&["-k", "start"], Daemon, "-k start detaches"),
            (
                &["-k", "graceful"],
                Daemon,
                "a graceful that starts detaches",
            ),
            (&["-k", "start", "-DFOREGROUND"], Attached, "FOREGROUND"),
            (&["-k", "start", "-D", "NO_DETACH"], NewSession, "NO_DETACH"),
            (
                &["-k", "start", "-D", "NO_DETACH", "-D", "FOREGROUND"],
                Attached,
                "FOREGROUND wins, as in prefork.c",
            ),
            (&["-k", "start", "-X"], Attached, "-X"),
            (&["-k", "start", "-D", "DEBUG"], Attached, "DEBUG"),
        ];
        for (argv, want, why) in cases {
            assert_eq!(
                detach_mode(&crate::cli::parse_test_args(argv)),
                want,
                "{why}"
            );
        }
    }

    #[test]
    fn service_error_log_failures_in_apaches_words() {
        let mut cfg = ServerConfig::with_defaults(std::path::Path::new("/"));
        cfg.error_log = ErrorLogTarget::File("/nonexistent-dir/x/error_log".into());
        let e = io::Error::from_raw_os_error(2);
        assert_eq!(
            error_log_failure(&cfg, "mpm-event", &e),
            "(2)No such file or directory: AH02291: Cannot access directory '/nonexistent-dir/x/' for main error log\nAH00014: Configuration check failed"
        );
        cfg.error_log = ErrorLogTarget::File("/tmp/error_log".into());
        let e = io::Error::from_raw_os_error(13);
        assert_eq!(
            error_log_failure(&cfg, "mpm-event", &e),
            "(13)Permission denied: AH00091: mpm-event: could not open error log file /tmp/error_log.\nAH00015: Unable to open logs"
        );
        assert_eq!(detach(DetachMode::Attached).ok(), Some(()));
        assert!(thread_count() >= 1);
    }
}
