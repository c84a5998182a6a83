//! mod_cgi: the process that handles the request forks the script itself (Apache
//! `modules/generators/mod_cgi.c: run_cgi_child`). Safe only in a single-threaded process:
//! the prefork child. worker and event use [`super::cgid`] instead.
//!
//! The child already runs as User/Group, so the script does too. `std::process::Command`
//! forks and execs with only async-signal-safe calls in between; the script gets its own
//! process group (so a timeout kill reaches its children) and the script's directory as its
//! working directory.

use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};

use super::cgi_script::{Script, ScriptCommand};

/// Start `cmd` with three pipes, in its own process group, in its directory, with exactly
/// its environment (`run_cgi_child`). mod_cgid's daemon starts scripts with this too.
///
/// `stderr`: where the script's stderr goes instead of a pipe (mod_cgid's error log); the
/// third descriptor returned is then a pipe that is already at its end.
pub fn spawn_piped(
    cmd: &ScriptCommand,
    stderr: Option<&std::os::fd::OwnedFd>,
) -> std::io::Result<(std::process::Child, [std::os::fd::OwnedFd; 3])> {
    let mut c = Command::new(&cmd.program);
    if let Some((first, rest)) = cmd.argv.split_first() {
        c.arg0(first).args(rest);
    }
    c.env_clear()
        .envs(cmd.env.iter().map(|(k, v)| (k, v)))
        .current_dir(&cmd.dir)
        .process_group(0)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped());
    match stderr {
        Some(fd) => c.stderr(Stdio::from(fd.try_clone()?)),
        None => c.stderr(Stdio::piped()),
    };
    let mut child = c.spawn()?;
    let (Some(i), Some(o)) = (child.stdin.take(), child.stdout.take()) else {
        return Err(std::io::Error::other("pipes missing"));
    };
    let e: std::os::fd::OwnedFd = match child.stderr.take() {
        Some(e) => e.into(),
        None => nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC)?.0,
    };
    Ok((child, [i.into(), o.into(), e]))
}

/// Step 2 of [`super::cgi_script`] in the prefork child.
pub fn spawn(cmd: &ScriptCommand) -> std::io::Result<Script> {
    let (child, [i, o, e]) = spawn_piped(cmd, None)?;
    Ok(Script {
        pid: child.id() as i32,
        stdin: Some(i.into()),
        stdout: o.into(),
        stderr: e.into(),
        child: Some(child),
    })
}
