//! The process groups this process started, and how they are stopped (step 6 of [`super`]).
//!
//! Two ways a server could outlive the one who started it, both closed here:
//!
//! - **Its CGI scripts.** A script runs in a process group of its own (so a timeout can kill it
//!   and everything it forked), which a signal to the server's group does not reach; once the
//!   server is gone the script belongs to init and may sleep on for a minute. [`stop_group`]
//!   notes the script groups before it stops the server and kills them after.
//! - **A quit signal to `mpm-lab`.** The servers run in their own groups, so Ctrl-C in the
//!   terminal reaches `mpm-lab` only, and a killed `mpm-lab` never runs the `Drop` that stops
//!   them. [`stop_servers_on_quit_signals`] stops every group still [`register`]ed, removes
//!   its temporary directory, then exits as the signal would have.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;

use crate::procfs;

/// A group started and not yet stopped, with the temporary directory its owner's `Drop` would
/// remove (`None`: the caller's own directory, or `MPM_LAB_KEEP` asks to keep it).
struct Live {
    pgid: i32,
    dir: Option<PathBuf>,
}

/// Groups started and not yet stopped. The quit-signal thread holds the lock while it stops
/// them and exits holding it, so a `Drop` running meanwhile waits in [`unregister`] instead of
/// reaping a parent whose group id the signal thread is still using.
static LIVE: std::sync::Mutex<Vec<Live>> = std::sync::Mutex::new(Vec::new());

fn live() -> std::sync::MutexGuard<'static, Vec<Live>> {
    LIVE.lock().unwrap_or_else(|e| e.into_inner())
}

/// A server (its parent is the group leader) has been started; `dir` is removed with it.
pub(crate) fn register(pgid: i32, dir: Option<PathBuf>) {
    let dir = dir.filter(|_| std::env::var_os("MPM_LAB_KEEP").is_none());
    live().push(Live { pgid, dir });
}

/// Its owner is stopping it.
pub(crate) fn unregister(pgid: i32) {
    live().retain(|l| l.pgid != pgid);
}

/// Wait (bounded) until no member of `pgid` is alive.
fn wait_empty(pgid: i32, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if procfs::group_members(pgid).is_empty() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// SIGKILL the script groups noted before their server stopped, and wait (bounded) until they
/// are gone. A group with no member left is skipped: its id may belong to someone else now.
pub(crate) fn kill_script_groups(groups: &[i32]) {
    for &g in groups {
        if !procfs::group_members(g).is_empty() {
            let _ = killpg(Pid::from_raw(g), Signal::SIGKILL);
        }
    }
    for &g in groups {
        wait_empty(g, Duration::from_secs(2));
    }
}

/// SIGTERM to the group, up to `grace` for it to empty, SIGKILL, then its scripts. The caller
/// reaps the parent afterwards (until then its zombie keeps the group id from being reused).
pub(crate) fn stop_group(pgid: i32, grace: Duration) {
    if procfs::group_members(pgid).is_empty() {
        // Nothing left to stop, and the id may no longer be this server's.
        return;
    }
    let scripts = procfs::descendant_groups(pgid);
    let _ = killpg(Pid::from_raw(pgid), Signal::SIGTERM);
    if !wait_empty(pgid, grace) {
        let _ = killpg(Pid::from_raw(pgid), Signal::SIGKILL);
        wait_empty(pgid, Duration::from_secs(5));
    }
    kill_script_groups(&scripts);
}

/// For a binary that starts servers (`mpm-lab run`, `bench`, `fuzz-server`, …): on SIGINT,
/// SIGTERM or SIGHUP, stop every server still running, say so on stderr, and exit with 128 +
/// the signal's number, as the default action would have ended it. Not for `mpm-lab top`,
/// which reads these signals itself (from a signalfd) to restore the terminal first.
pub fn stop_servers_on_quit_signals() -> std::io::Result<()> {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    let mut signals = signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP])?;
    std::thread::Builder::new()
        .name("quit-signals".into())
        .spawn(move || {
            if let Some(sig) = signals.forever().next() {
                let groups = live();
                for l in groups.iter() {
                    stop_group(l.pgid, Duration::from_secs(10));
                    if let Some(d) = &l.dir {
                        let _ = std::fs::remove_dir_all(d);
                    }
                }
                let name = Signal::try_from(sig).map_or("signal", |s| s.as_str());
                if !groups.is_empty() {
                    eprintln!(
                        "\nmpm-lab: {name}: stopped the server(s) it had started (pid {})",
                        groups
                            .iter()
                            .map(|l| l.pgid.to_string())
                            .collect::<Vec<_>>()
                            .join(", ")
                    );
                }
                std::process::exit(128 + sig);
            }
        })?;
    Ok(())
}
