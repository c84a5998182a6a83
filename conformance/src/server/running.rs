//! A running server (steps 3–6 of the module doc of [`super`]): what a test reads from it,
//! the load it drives, the signals it sends, and the stop on drop.

use std::fs;
use std::io;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, ExitStatus};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill, killpg};
use nix::unistd::Pid;

use super::{Mpm, StartError, tail};
use crate::http::{self, Exchange, Response};
use crate::load::{Burst, Held};
use crate::procfs;
use crate::status::StatusAuto;
use crate::wait::{try_wait_until, wait_until};

/// A running server; dropping it stops it (step 6 of the module doc).
#[derive(Debug)]
pub struct Server {
    pub(super) mpm: Mpm,
    pub(super) child: Option<Child>,
    pub(super) pid: i32,
    pub(super) port: u16,
    pub(super) dir: PathBuf,
    pub(super) conf: PathBuf,
    /// Where the config's ErrorLog and CustomLog write (`dir/error_log`, `dir/access_log` for a
    /// rendered fixture).
    pub(super) error_log: PathBuf,
    pub(super) access_log: PathBuf,
    /// A tree run: the caller owns `dir`, Drop leaves it.
    pub(super) keep_dir: bool,
    pub(super) exit: Option<ExitStatus>,
    pub(super) stop_timeout: Duration,
}

impl Server {
    /// The MPM.
    pub fn mpm(&self) -> Mpm {
        self.mpm
    }

    /// The parent (control process) pid, which is also the process group id.
    pub fn pid(&self) -> i32 {
        self.pid
    }

    /// The bound port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `127.0.0.1:PORT`.
    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr())
    }

    /// The per-test directory (ServerRoot).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The config file the server runs.
    pub fn config_path(&self) -> &Path {
        &self.conf
    }

    /// Replace the config file (e.g. before a restart signal); `text` is used as is.
    pub fn write_config(&self, text: &str) -> io::Result<()> {
        fs::write(&self.conf, text)
    }

    /// Append directive lines to the running server's config file (read at the next restart).
    pub fn append_config(&self, lines: &[&str]) -> io::Result<()> {
        let mut text = fs::read_to_string(&self.conf)?;
        for l in lines {
            text.push_str(l);
            text.push('\n');
        }
        fs::write(&self.conf, text)
    }

    // ---- HTTP ----

    /// `GET path` with `Connection: close`; panics on I/O errors.
    pub fn get(&self, path: &str) -> Response {
        http::get(self.addr(), path).unwrap_or_else(|e| panic!("GET {path}: {e}"))
    }

    /// Send raw bytes on a new connection; read until close or 5 s without data.
    pub fn raw(&self, request: &[u8]) -> Exchange {
        http::exchange(self.addr(), request, Duration::from_secs(5))
            .unwrap_or_else(|e| panic!("raw request: {e}"))
    }

    /// Send raw bytes and read until close or `idle` without data.
    pub fn raw_timeout(&self, request: &[u8], idle: Duration) -> Exchange {
        http::exchange(self.addr(), request, idle).unwrap_or_else(|e| panic!("raw request: {e}"))
    }

    /// A new connection (timeouts set).
    pub fn connect(&self) -> std::net::TcpStream {
        http::connect(self.addr()).unwrap_or_else(|e| panic!("connect {}: {e}", self.addr()))
    }

    /// The `?auto` page, parsed; panics if it does not answer 200.
    pub fn status_auto(&self) -> StatusAuto {
        self.try_status_auto()
            .unwrap_or_else(|e| panic!("/server-status?auto: {e}"))
    }

    /// The `?auto` page, or why not.
    pub fn try_status_auto(&self) -> io::Result<StatusAuto> {
        let r = http::get(self.addr(), "/server-status?auto")?;
        if r.status != 200 {
            return Err(io::Error::other(format!("status {}", r.status)));
        }
        Ok(StatusAuto::parse(&r.text()))
    }

    /// The HTML status page body.
    pub fn status_html(&self) -> String {
        let r = self.get("/server-status");
        assert_eq!(r.status, 200, "GET /server-status");
        r.text()
    }

    // ---- /proc ----

    /// Live child processes of the parent, sorted by pid.
    pub fn children(&self) -> Vec<i32> {
        procfs::children(self.pid)
    }

    /// Threads of each live child, in pid order.
    pub fn child_threads(&self) -> Vec<usize> {
        self.children().into_iter().map(procfs::threads).collect()
    }

    /// /proc details of each live child.
    pub fn child_infos(&self) -> Vec<procfs::ProcInfo> {
        self.children()
            .into_iter()
            .filter_map(procfs::info)
            .collect()
    }

    /// Totals over the server's process tree.
    pub fn tree_stats(&self) -> procfs::TreeStats {
        procfs::tree_stats(self.pid)
    }

    /// Rule 55, started as root: wait for `n` children, then check that each runs as `user`
    /// and `group` with exactly `user`'s supplementary groups (`initgroups`: none of root's
    /// leak through), while the parent keeps root.
    pub fn assert_children_run_as(&self, user: &str, group: &str, n: usize) {
        use nix::unistd::{Group, User, getgrouplist};
        let u = User::from_name(user)
            .ok()
            .flatten()
            .expect("the user exists");
        let g = Group::from_name(group)
            .ok()
            .flatten()
            .expect("the group exists");
        let name = std::ffi::CString::new(user).expect("a user name");
        let mut groups: Vec<u32> = getgrouplist(&name, g.gid)
            .expect("getgrouplist")
            .iter()
            .map(|g| g.as_raw())
            .collect();
        groups.sort_unstable();
        groups.dedup();
        let kids = wait_until(
            &format!("{n} children"),
            Duration::from_secs(10),
            || self.child_infos(),
            |k| k.len() == n,
        );
        for k in kids {
            assert_eq!(
                k.uid,
                (u.uid.as_raw(), u.uid.as_raw()),
                "child {} uid",
                k.pid
            );
            assert_eq!(
                k.gid,
                (g.gid.as_raw(), g.gid.as_raw()),
                "child {} gid",
                k.pid
            );
            assert_eq!(k.groups, groups, "child {} supplementary groups", k.pid);
        }
        assert_eq!(
            procfs::info(self.pid).expect("the parent").uid.0,
            0,
            "the parent keeps root"
        );
    }

    /// Wait until the server has exactly `n` children; panics after `timeout`.
    pub fn wait_children(&self, n: usize, timeout: Duration) -> Vec<i32> {
        wait_until(
            &format!("{n} children"),
            timeout,
            || self.children(),
            |c| c.len() == n,
        )
    }

    // ---- logs ----

    /// The whole error log ("" if none yet).
    pub fn error_log(&self) -> String {
        fs::read_to_string(&self.error_log).unwrap_or_default()
    }

    /// The access log ("" if the config has no CustomLog).
    pub fn access_log(&self) -> String {
        fs::read_to_string(&self.access_log).unwrap_or_default()
    }

    /// What the server wrote to stderr (start-up warnings go there, without a prefix).
    pub fn stderr(&self) -> String {
        fs::read_to_string(self.dir.join("stderr.log")).unwrap_or_default()
    }

    /// Error-log lines containing `needle`.
    pub fn log_lines(&self, needle: &str) -> Vec<String> {
        self.error_log()
            .lines()
            .filter(|l| l.contains(needle))
            .map(str::to_string)
            .collect()
    }

    /// Wait until the error log has a line containing `needle`; returns it. Panics after `timeout`.
    pub fn wait_for_log(&self, needle: &str, timeout: Duration) -> String {
        match try_wait_until(timeout, || self.log_lines(needle).into_iter().next()) {
            Some(l) => l,
            None => panic!(
                "no error-log line containing {needle:?} within {timeout:?}; log tail:\n{}",
                tail(&self.error_log(), 30)
            ),
        }
    }

    /// Wait until the access log has a line containing `needle`; returns it.
    pub fn wait_for_access_log(&self, needle: &str, timeout: Duration) -> String {
        let got = try_wait_until(timeout, || {
            self.access_log()
                .lines()
                .find(|l| l.contains(needle))
                .map(str::to_string)
        });
        got.unwrap_or_else(|| {
            panic!(
                "no access-log line containing {needle:?}; log:\n{}",
                tail(&self.access_log(), 30)
            )
        })
    }

    pub(super) fn logged_port(&self) -> Option<u16> {
        let text = self.error_log() + &self.stderr();
        let i = text.find("listening on 127.0.0.1:")? + "listening on 127.0.0.1:".len();
        let digits: String = text[i..]
            .chars()
            .take_while(|c| c.is_ascii_digit())
            .collect();
        digits.parse().ok().filter(|&p| p != 0)
    }

    // ---- load ----

    /// Open `n` connections that each send a request line and one header, never finishing
    /// (a worker sits in `R` on each). Waits until all are connected.
    pub fn hold_partial(&self, n: usize) -> Held {
        Held::partial(self.addr(), n).unwrap_or_else(|e| panic!("hold {n} partial requests: {e}"))
    }

    /// Open `n` keep-alive connections, each having completed one request, left idle.
    pub fn hold_keepalive(&self, n: usize) -> Held {
        Held::keepalive(self.addr(), n).unwrap_or_else(|e| panic!("hold {n} keep-alive: {e}"))
    }

    /// `n` complete GETs of `path` over `concurrency` threads.
    pub fn burst(&self, n: usize, concurrency: usize, path: &str) -> Burst {
        Burst::run(self.addr(), n, concurrency, path)
    }

    // ---- signals and exit ----

    /// Send `sig` to the parent process.
    pub fn signal(&self, sig: Signal) {
        kill(Pid::from_raw(self.pid), sig).unwrap_or_else(|e| panic!("kill {sig:?}: {e}"));
    }

    /// The exit status if the parent has exited (reaps it).
    pub fn try_exit_status(&mut self) -> Option<ExitStatus> {
        if self.exit.is_none()
            && let Some(c) = self.child.as_mut()
            && let Ok(Some(st)) = c.try_wait()
        {
            self.exit = Some(st);
        }
        self.exit
    }

    /// Wait (bounded) for the parent to exit by itself; `None` on timeout.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        try_wait_until(timeout, || self.try_exit_status())
    }

    /// Stop now: SIGTERM to the group, bounded wait, SIGKILL, reap; then the groups of the
    /// CGI scripts it had started. Idempotent.
    pub fn stop(&mut self) {
        super::groups::unregister(self.pid);
        if self.exit.is_none() {
            // Until reaped below, the parent's zombie holds the PGID, so no signal sent here
            // can reach an unrelated group.
            super::groups::stop_group(self.pid, self.stop_timeout);
            if let Some(c) = self.child.as_mut() {
                self.exit = c.wait().ok();
            }
        } else if !procfs::group_members(self.pid).is_empty() {
            // The parent exited by itself and was reaped, but members of its group live on:
            // while they exist the PGID cannot be reused, so this signal reaches only them.
            let scripts: Vec<i32> = procfs::group_members(self.pid)
                .into_iter()
                .flat_map(procfs::descendant_groups)
                .collect();
            let _ = killpg(Pid::from_raw(self.pid), Signal::SIGKILL);
            super::groups::kill_script_groups(&scripts);
        }
        // SIGKILL is delivered asynchronously: a grandchild may still be exiting when killpg
        // returns. Leave only once the group is empty (bounded), so no test leaves a process behind.
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline && !procfs::group_members(self.pid).is_empty() {
            std::thread::sleep(Duration::from_millis(10));
        }
        self.child = None;
    }

    /// Print the config path, stderr and the last 30 error-log lines (used when a test fails).
    pub fn print_diagnostics(&self) {
        eprintln!(
            "--- {} server pid {} port {}; config {}",
            self.mpm,
            self.pid,
            self.port,
            self.conf.display()
        );
        let stderr = self.stderr();
        if !stderr.trim().is_empty() {
            eprintln!("--- stderr\n{}", tail(&stderr, 30));
        }
        eprintln!(
            "--- error log (last 30 lines)\n{}",
            tail(&self.error_log(), 30)
        );
    }
}

impl Server {
    /// The error for a server that exited during start-up with `status`.
    pub(super) fn exited(&self, status: ExitStatus) -> StartError {
        StartError::Exited {
            status,
            stderr: self.stderr(),
            error_log: self.error_log(),
            config: self.conf.clone(),
        }
    }

    pub(super) fn not_ready(&mut self, what: &'static str) -> StartError {
        let e = StartError::NotReady {
            what,
            stderr: self.stderr(),
            error_log: self.error_log(),
            config: self.conf.clone(),
        };
        self.stop();
        e
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let failing = std::thread::panicking();
        if failing {
            self.print_diagnostics();
        }
        self.stop();
        if !failing && !self.keep_dir && std::env::var_os("MPM_LAB_KEEP").is_none() {
            let _ = fs::remove_dir_all(&self.dir);
        }
    }
}
