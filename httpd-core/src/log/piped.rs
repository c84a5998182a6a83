//! Piped logs: `CustomLog "|program"`, `ErrorLog "|program"` (`server/log.c: ap_open_piped_log`,
//! `piped_log_spawn`, `piped_log_maintenance`, `log_child`).
//!
//! A piped log is a pipe whose read end is the standard input of a logger program (`rotatelogs`,
//! `cat >> file`, a shipper). The server writes lines to the write end exactly as to a file: one
//! `write(2)` per line, atomic up to `PIPE_BUF` bytes.
//!
//! 1. **Who spawns.** Only the control process, while it is single-threaded, before it forks any
//!    child (`open_logs` runs before `ap_run_mpm`). Children inherit the write end by `fork`; a
//!    child never spawns: a worker/event child is multi-threaded, and a child could not reap the
//!    logger anyway. [`open`] in a child only hands out a copy of an inherited write end, and
//!    [`child_init`] closes the read ends there (`close_handle_in_child`).
//! 2. **Syntax** ([`Command::parse`]): `|prog args` runs the program directly (2.4's
//!    `APR_PROGRAM_ENV`: `execv`, no shell, no `PATH` search); `||prog` is the same (accepted for
//!    2.2 compatibility); `|$cmd` runs `/bin/sh -c cmd` (`APR_SHELLCMD_ENV`). The logger runs in
//!    ServerRoot, in the server's process group, with the server's stdout (and stdout as stderr
//!    for the error log's logger: the old stderr may be the previous logger's pipe).
//! 3. **Reliable access logs.** For `CustomLog`/`TransferLog` the parent keeps *both* ends of the
//!    pipe (`AP_HAVE_RELIABLE_PIPED_LOGS`). When the logger dies the parent reaps it like any
//!    child, logs `AH00106: piped log program '…' failed unexpectedly` (a startup-style line,
//!    no prefix, in the main error log) and starts a new logger on the *same* pipe
//!    ([`maint`], Apache's "other child" callback): lines written in between wait in the pipe
//!    (64 KiB on Linux) and nothing is lost unless the pipe fills. `AH00107` if it cannot.
//!    While the server is stopping, a dead logger is not replaced.
//! 4. **Error logs** are spawned by `log_child`: the parent keeps no read end and does not watch
//!    the logger. A dead error logger is not replaced (Apache 2.4.71 does the same; lines go
//!    nowhere until the next restart).
//! 5. **Restart** (graceful or not) clears Apache's log pool: every logger of the old generation
//!    is stopped and the new configuration spawns new ones ([`restart`]). Ours first closes the
//!    parent's copies and gives the logger 200 ms to drain the pipe and leave on end-of-file,
//!    then sends `SIGTERM` as Apache does. Old-generation children still writing after that
//!    (graceful restart) write into a closed pipe, as in Apache.
//! 6. **Stop** ([`shutdown`]): at the parent's very end, after the children are gone: the same
//!    close-then-`SIGTERM`, and every logger is reaped (then `SIGKILL` after 3 s, APR's
//!    `APR_KILL_AFTER_TIMEOUT`), so no zombie and no orphan is left.
//!
//! Left out: the same program text in two `CustomLog` lines shares one logger here (Apache
//! starts two); `APR_OC_REASON_UNWRITABLE` (Apache does nothing with it either).

use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command as Process, Stdio};
use std::time::{Duration, Instant};

use nix::fcntl::OFlag;
use nix::sys::signal::{Signal, kill};
use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use nix::unistd::Pid;

use crate::sync::{Mutex, lock};

/// How the program is started (`apr_cmdtype_e`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmdType {
    /// `|prog` and `||prog`: `execv` of the tokenized words (`APR_PROGRAM_ENV`).
    Program,
    /// `|$cmd`: `/bin/sh -c cmd` (`APR_SHELLCMD_ENV`).
    Shell,
}

/// A logger program as written after the `|`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    /// The program text without the `|`, `||` or `|$` prefix (Apache's `pl->program`, the text
    /// quoted in AH00106).
    pub program: String,
    pub cmdtype: CmdType,
}

impl Command {
    /// Parse a log target: `None` when it is not a pipe (no leading `|`).
    pub fn parse(target: &str) -> Option<Command> {
        let rest = target.strip_prefix('|')?;
        // ap_open_piped_log: one more '|' is the 2.2 spelling of the default; '$' asks for a shell.
        let rest = rest.strip_prefix('|').unwrap_or(rest);
        let (program, cmdtype) = match rest.strip_prefix('$') {
            Some(cmd) => (cmd, CmdType::Shell),
            None => (rest, CmdType::Program),
        };
        Some(Command {
            program: program.trim_start().to_string(),
            cmdtype,
        })
    }

    /// The argument vector `apr_proc_create` gets.
    pub fn argv(&self) -> Vec<String> {
        match self.cmdtype {
            CmdType::Shell => vec!["/bin/sh".into(), "-c".into(), self.program.clone()],
            CmdType::Program => tokenize_to_argv(&self.program),
        }
    }
}

/// `apr_tokenize_to_argv`: words split on blanks; `"…"` and `'…'` group; a backslash keeps the
/// next character as is.
pub fn tokenize_to_argv(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut chars = s.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| *c == ' ' || *c == '\t') {
            chars.next();
        }
        let Some(&first) = chars.peek() else { break };
        let quote = (first == '"' || first == '\'').then(|| {
            chars.next();
            first
        });
        let mut word = String::new();
        while let Some(c) = chars.next() {
            match (c, quote) {
                ('\\', _) => word.extend(chars.next()),
                (c, Some(q)) if c == q => break,
                (' ' | '\t', None) => break,
                (c, _) => word.push(c),
            }
        }
        out.push(word);
    }
    out
}

/// Step 1's rule: only the process that created the registry (the control process) spawns.
pub fn may_spawn(owner: Option<Pid>, me: Pid) -> bool {
    owner.is_none_or(|o| o == me)
}

/// One logger and its pipe (`struct piped_log`).
struct PipedLog {
    /// The target as written (`|…`), the key the children look the pipe up by.
    target: String,
    command: Command,
    /// Kept by the parent for reliable (access) logs only, so a new logger reads the same pipe.
    read: Option<OwnedFd>,
    write: OwnedFd,
    /// `None` once the logger is known dead and was not replaced.
    pid: Option<Pid>,
    reliable: bool,
    /// ServerRoot: the logger's working directory.
    root: std::path::PathBuf,
}

struct Registry {
    /// The control process (step 1); `None` until the first logger is spawned.
    owner: Option<Pid>,
    logs: Vec<PipedLog>,
    /// Loggers of an old generation, told to stop and not yet reaped.
    retired: Vec<Pid>,
    /// Where AH00106/AH00107 go: a copy of the main error log's descriptor.
    notice: Option<OwnedFd>,
    /// Set by [`stopping`]: a dead logger is not replaced (`AP_MPMQ_STOPPING`).
    stopping: bool,
}

/// The control process is single-threaded (step 1): the lock is never contended, it only makes
/// the static shareable; a child takes it once, right after `fork`, when no other thread exists.
static REGISTRY: Mutex<Registry> = Mutex::new(Registry {
    owner: None,
    logs: Vec::new(),
    retired: Vec::new(),
    notice: None,
    stopping: false,
});

/// The calling process is the control process (step 1): from now on only it spawns loggers,
/// whatever a child finds in its configuration.
pub fn claim_parent() {
    let mut reg = lock(&REGISTRY);
    if reg.owner.is_none() {
        reg.owner = Some(nix::unistd::getpid());
    }
}

/// A write end for the log `target` (`|…`): the existing pipe's, else (in the control process
/// only) a new pipe and logger. `reliable`: an access log (step 3); `false`: an error log (step 4).
pub fn open(target: &str, reliable: bool, server_root: &Path) -> io::Result<OwnedFd> {
    let mut reg = lock(&REGISTRY);
    if let Some(l) = reg.logs.iter().find(|l| l.target == target) {
        return l.write.try_clone();
    }
    let me = nix::unistd::getpid();
    if !may_spawn(reg.owner, me) {
        return Err(io::Error::other(format!(
            "piped log '{target}' was not started by the parent before the children"
        )));
    }
    let command = Command::parse(target)
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "not a piped log"))?;
    // Close-on-exec: only the logger's stdin (a dup made by Stdio) may reach the program; a
    // logger holding the write end of its own pipe would never see end-of-file.
    let (read, write) = nix::unistd::pipe2(OFlag::O_CLOEXEC).map_err(io::Error::from)?;
    // The error keeps its errno: the caller words it (AH00104 for an access log, AH00089 for
    // an error log).
    let pid = spawn(&command, &read, !reliable, server_root)?;
    reg.owner = Some(me);
    let out = write.try_clone()?;
    reg.logs.push(PipedLog {
        target: target.to_string(),
        command,
        read: reliable.then_some(read),
        write,
        pid: Some(pid),
        reliable,
        root: server_root.to_path_buf(),
    });
    Ok(out)
}

/// `piped_log_spawn` / `log_child`: start the program with `read` as its stdin (step 2).
fn spawn(command: &Command, read: &OwnedFd, dummy_stderr: bool, root: &Path) -> io::Result<Pid> {
    // Step 1, checked rather than assumed: every spawn (start-up, restart, a dead logger's
    // replacement) happens in a process with one thread. The conformance tests start, restart
    // and kill loggers under all three MPMs, so a threaded caller would fail them.
    let threads = crate::service::thread_count();
    if threads != 1 {
        return Err(io::Error::other(format!(
            "refusing to start a piped logger from a process with {threads} threads"
        )));
    }
    let argv = command.argv();
    let Some(first) = argv.first() else {
        return Err(io::Error::new(io::ErrorKind::InvalidInput, "empty command"));
    };
    // execv, not execvp: a bare name is relative to the working directory, ServerRoot.
    let program = if first.contains('/') {
        Path::new(first).to_path_buf()
    } else {
        root.join(first)
    };
    let mut p = Process::new(program);
    p.arg0(first)
        .args(&argv[1..])
        .current_dir(root)
        .stdin(Stdio::from(read.try_clone()?));
    if dummy_stderr {
        p.stderr(Stdio::from(io::stdout().as_fd().try_clone_to_owned()?));
    }
    // std's spawn resets the signal mask and SIGPIPE in the new process, so the logger does not
    // inherit the parent's blocked signals (the signalfd).
    let child = p.spawn()?;
    // The `Child` is dropped without waiting: the MPM's reaping loop reaps it ([`maint`]).
    Ok(Pid::from_raw(child.id() as i32))
}

/// `close_handle_in_child`: a freshly forked child closes the read ends (only the parent may
/// restart a logger) and forgets it may spawn (step 1).
pub fn child_init() {
    let mut reg = lock(&REGISTRY);
    for l in &mut reg.logs {
        l.read = None;
    }
    reg.notice = None;
}

/// Remember where AH00106 goes: the main server's error log (Apache: `stderr_log`).
pub fn set_notice_log(fd: Option<OwnedFd>) {
    lock(&REGISTRY).notice = fd;
}

/// The server is stopping: dead loggers are no longer replaced.
pub fn stopping() {
    lock(&REGISTRY).stopping = true;
}

/// Step 3's "other child" callback for a reaped `pid`: `true` if it was a logger (replaced when
/// it was a reliable one and the server is not stopping), `false` for any other process.
pub fn maint(pid: Pid) -> bool {
    let mut reg = lock(&REGISTRY);
    if let Some(i) = reg.retired.iter().position(|p| *p == pid) {
        reg.retired.swap_remove(i);
        return true;
    }
    let stopping = reg.stopping;
    let Some(i) = reg.logs.iter().position(|l| l.pid == Some(pid)) else {
        return false;
    };
    reg.logs[i].pid = None;
    if !reg.logs[i].reliable || stopping {
        return true;
    }
    let program = reg.logs[i].command.program.clone();
    let mut lines = format!("AH00106: piped log program '{program}' failed unexpectedly\n");
    let respawned = match &reg.logs[i].read {
        Some(read) => spawn(&reg.logs[i].command, read, false, &reg.logs[i].root),
        None => Err(io::Error::other("no read end")),
    };
    match respawned {
        Ok(p) => reg.logs[i].pid = Some(p),
        Err(e) => lines.push_str(&format!(
            "({}){}: AH00107: piped_log_maintenance: unable to respawn '{program}'\n",
            e.raw_os_error().unwrap_or(0),
            crate::config::parse::io_text(&e)
        )),
    }
    match &reg.notice {
        Some(fd) => super::error_log::write_all_fd(fd, lines.as_bytes()),
        None => super::error_log::write_all_fd(io::stderr(), lines.as_bytes()),
    }
    true
}

/// Step 5: the log pool of the old generation is cleared. Called by the parent before it opens
/// the new configuration's logs.
pub fn restart() {
    let old: Vec<PipedLog> = std::mem::take(&mut lock(&REGISTRY).logs);
    let pids = stop_loggers(old, Duration::from_millis(200));
    lock(&REGISTRY).retired.extend(pids);
}

/// Step 6: the parent is exiting; stop and reap every logger.
pub fn shutdown() {
    let (old, retired) = {
        let mut reg = lock(&REGISTRY);
        // Only the control process owns the loggers (a child never gets here; be sure).
        if reg.owner.is_some_and(|o| o != nix::unistd::getpid()) {
            return;
        }
        reg.stopping = true;
        (
            std::mem::take(&mut reg.logs),
            std::mem::take(&mut reg.retired),
        )
    };
    let mut left = stop_loggers(old, Duration::from_millis(500));
    left.extend(retired);
    reap_all(left, Duration::from_secs(3));
}

/// Close the parent's ends, wait up to `drain` for the loggers to leave on end-of-file, then
/// `SIGTERM` those still running; returns the pids not reaped yet.
fn stop_loggers(logs: Vec<PipedLog>, drain: Duration) -> Vec<Pid> {
    let pids: Vec<Pid> = logs.iter().filter_map(|l| l.pid).collect();
    drop(logs);
    let cutoff = Instant::now() + drain;
    let mut left = pids;
    loop {
        left.retain(|p| {
            matches!(
                waitpid(*p, Some(WaitPidFlag::WNOHANG)),
                Ok(WaitStatus::StillAlive)
            )
        });
        if left.is_empty() || Instant::now() >= cutoff {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    for p in &left {
        let _ = kill(*p, Signal::SIGTERM);
    }
    left
}

/// Reap `pids`, `SIGKILL` after `grace` (`APR_KILL_AFTER_TIMEOUT`).
fn reap_all(mut pids: Vec<Pid>, grace: Duration) {
    let cutoff = Instant::now() + grace;
    let mut killed = false;
    while !pids.is_empty() {
        pids.retain(|p| {
            matches!(
                waitpid(*p, Some(WaitPidFlag::WNOHANG)),
                Ok(WaitStatus::StillAlive)
            )
        });
        if Instant::now() >= cutoff && !killed {
            for p in &pids {
                let _ = kill(*p, Signal::SIGKILL);
            }
            killed = true;
        }
        if !pids.is_empty() {
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn piped_target_syntax_as_ap_open_piped_log() {
        let c = Command::parse("|/usr/bin/rotatelogs /var/log/a.%Y 86400").unwrap();
        assert_eq!(c.cmdtype, CmdType::Program);
        assert_eq!(c.program, "/usr/bin/rotatelogs /var/log/a.%Y 86400");
        assert_eq!(c.argv(), ["/usr/bin/rotatelogs", "/var/log/a.%Y", "86400"]);
        assert_eq!(
            Command::parse("||/bin/cat").unwrap(),
            Command::parse("|/bin/cat").unwrap()
        );
        let s = Command::parse("|$cat >> /tmp/x").unwrap();
        assert_eq!(s.cmdtype, CmdType::Shell);
        assert_eq!(s.program, "cat >> /tmp/x");
        assert_eq!(s.argv(), ["/bin/sh", "-c", "cat >> /tmp/x"]);
        assert!(Command::parse("/var/log/access.log").is_none());
    }

    #[test]
    fn piped_tokenize_quotes_and_backslashes() {
        assert_eq!(
            tokenize_to_argv(r#"prog "a b" 'c d' e\ f  g"#),
            ["prog", "a b", "c d", "e f", "g"]
        );
        assert!(tokenize_to_argv("   ").is_empty());
    }

    #[test]
    fn piped_only_the_parent_spawns() {
        let parent = Pid::from_raw(100);
        assert!(may_spawn(None, parent));
        assert!(may_spawn(Some(parent), parent));
        assert!(
            !may_spawn(Some(parent), Pid::from_raw(101)),
            "a child never spawns"
        );
    }
}
