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
pub fn spawn_piped(
    cmd: &ScriptCommand,
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
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = c.spawn()?;
    let pipes = (child.stdin.take(), child.stdout.take(), child.stderr.take());
    let (Some(i), Some(o), Some(e)) = pipes else {
        return Err(std::io::Error::other("pipes missing"));
    };
    Ok((child, [i.into(), o.into(), e.into()]))
}

/// Step 2 of [`super::cgi_script`] in the prefork child.
pub fn spawn(cmd: &ScriptCommand) -> std::io::Result<Script> {
    let (child, [i, o, e]) = spawn_piped(cmd)?;
    Ok(Script {
        pid: child.id() as i32,
        stdin: Some(i.into()),
        stdout: o.into(),
        stderr: e.into(),
        child: Some(child),
    })
}
