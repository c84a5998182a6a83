//! Start a real server binary for one test, watch it, and always clean it up.
//!
//! Modelled on mdBook's `BookTest`: a builder describes the test's server, [`ServerTest::start`]
//! makes it real, and the returned [`Server`] kills it on drop. The protocol, step by step:
//!
//! 1. A fresh directory under `std::env::temp_dir()` holds everything the server writes.
//! 2. The fixture config is copied there; `ServerRoot`, `ErrorLog`, `PidFile`, `DocumentRoot`
//!    (and the `<Directory>` naming it), `CustomLog` and `Listen` are rewritten into that
//!    directory and to `127.0.0.1:0`; the builder's extra directives are appended (last wins).
//! 3. The binary runs as `BIN -f DIR/httpd.conf [args]` in its own process group, stdout and
//!    stderr going to files in the directory.
//! 4. The port comes from the error-log line `listening on 127.0.0.1:PORT` (the OS chose it).
//! 5. The server is ready when `GET /server-status?auto` answers 200.
//! 6. On drop: SIGTERM to the process group, a bounded wait until every member has exited,
//!    SIGKILL to whatever is left, reap. If the test is panicking, the config path and the
//!    last 30 error-log lines are printed first; on success the directory is removed.
//!
//! Every wait is bounded; nothing is found or killed by name.

use crate::http::{self, Exchange, Response};
use crate::load::{Burst, Held};
use crate::procfs;
use crate::status::StatusAuto;
use crate::wait::{try_wait_until, wait_until};
use nix::sys::signal::{Signal, kill, killpg};
use nix::unistd::Pid;
use std::fmt;
use std::fs;
use std::io;
use std::net::SocketAddr;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// How long a server may take to bind and answer its status page.
pub const START_TIMEOUT: Duration = Duration::from_secs(20);
/// How long a SIGTERM'd server may take to exit before SIGKILL.
pub const STOP_TIMEOUT: Duration = Duration::from_secs(12);

/// The three MPMs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Mpm {
    Prefork,
    Worker,
    Event,
}

impl Mpm {
    /// All three, in the order the book presents them.
    pub const ALL: [Mpm; 3] = [Mpm::Prefork, Mpm::Worker, Mpm::Event];

    /// `prefork`, `worker`, `event` (as `ServerMPM:` shows it).
    pub fn name(self) -> &'static str {
        match self {
            Mpm::Prefork => "prefork",
            Mpm::Worker => "worker",
            Mpm::Event => "event",
        }
    }

    /// The error-log module name, `mpm_prefork` etc.
    pub fn module(self) -> &'static str {
        match self {
            Mpm::Prefork => "mpm_prefork",
            Mpm::Worker => "mpm_worker",
            Mpm::Event => "mpm_event",
        }
    }

    /// The real binary's name, `mpm-prefork` etc.
    pub fn binary_name(self) -> &'static str {
        match self {
            Mpm::Prefork => "mpm-prefork",
            Mpm::Worker => "mpm-worker",
            Mpm::Event => "mpm-event",
        }
    }

    /// The conformance shim's name, `conf-prefork` etc.
    pub fn shim_name(self) -> &'static str {
        match self {
            Mpm::Prefork => "conf-prefork",
            Mpm::Worker => "conf-worker",
            Mpm::Event => "conf-event",
        }
    }

    /// Parse `prefork`, `mpm-prefork`, `mpm_prefork`, ….
    pub fn from_name(s: &str) -> Option<Mpm> {
        let s = s
            .trim_start_matches("mpm-")
            .trim_start_matches("mpm_")
            .trim_start_matches("conf-");
        Mpm::ALL.into_iter().find(|m| m.name() == s)
    }

    /// Find this MPM's server binary next to the running executable.
    ///
    /// Test binaries live in `target/<profile>/deps/`, `mpm-lab` in `target/<profile>/`; the
    /// shims (`conf-*`) and the real binaries (`mpm-*`) in `target/<profile>/`. The variable
    /// `MPM_LAB_BIN_<MPM>` (e.g. `MPM_LAB_BIN_PREFORK`) overrides the search.
    pub fn binary(self) -> Option<PathBuf> {
        let var = format!("MPM_LAB_BIN_{}", self.name().to_ascii_uppercase());
        if let Some(p) = std::env::var_os(var) {
            return Some(PathBuf::from(p));
        }
        let exe = std::env::current_exe().ok()?;
        let dir = exe.parent()?;
        let dirs = [Some(dir), dir.parent()];
        for name in [self.shim_name(), self.binary_name()] {
            for d in dirs.iter().flatten() {
                let p = d.join(name);
                if p.is_file() {
                    return Some(p);
                }
            }
        }
        None
    }
}

impl fmt::Display for Mpm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why a server did not come up.
#[derive(Debug)]
pub enum StartError {
    /// No binary was found for the MPM (build the conformance package's bins).
    NoBinary(Mpm),
    /// Creating the test directory, the config or the process failed.
    Io(io::Error),
    /// The server exited during start-up (config error, bind failure, …).
    Exited {
        status: ExitStatus,
        stderr: String,
        error_log: String,
        config: PathBuf,
    },
    /// It did not log `listening on …` or did not answer `/server-status?auto` in time.
    NotReady {
        what: &'static str,
        stderr: String,
        error_log: String,
        config: PathBuf,
    },
}

impl fmt::Display for StartError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StartError::NoBinary(m) => {
                write!(
                    f,
                    "no binary for {m}: run `cargo build -p conformance --bins`"
                )
            }
            StartError::Io(e) => write!(f, "i/o error starting the server: {e}"),
            StartError::Exited {
                status,
                stderr,
                error_log,
                config,
            } => write!(
                f,
                "server exited during start-up ({status}); config {}\n--- stderr\n{stderr}\n--- error log\n{}",
                config.display(),
                tail(error_log, 30)
            ),
            StartError::NotReady {
                what,
                stderr,
                error_log,
                config,
            } => write!(
                f,
                "server not ready: {what}; config {}\n--- stderr\n{stderr}\n--- error log\n{}",
                config.display(),
                tail(error_log, 30)
            ),
        }
    }
}

impl std::error::Error for StartError {}

impl From<io::Error> for StartError {
    fn from(e: io::Error) -> Self {
        StartError::Io(e)
    }
}

fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// Where the config comes from.
#[derive(Debug, Clone)]
enum ConfigSource {
    File(PathBuf),
    Text(String),
}

/// Describes one test's server; see the module doc for what [`ServerTest::start`] does.
#[derive(Debug, Clone)]
pub struct ServerTest {
    mpm: Mpm,
    binary: Option<PathBuf>,
    config: ConfigSource,
    directives: Vec<String>,
    args: Vec<String>,
    files: Vec<(String, Vec<u8>)>,
    wait_ready: bool,
    start_timeout: Duration,
    stop_timeout: Duration,
}

/// The default fixture: a small site and the status page, no MPM directives.
pub const DEFAULT_FIXTURE: &str = "fixtures/default.conf";

impl ServerTest {
    /// A server of `mpm` on [`DEFAULT_FIXTURE`].
    pub fn new(mpm: Mpm) -> ServerTest {
        ServerTest {
            mpm,
            binary: None,
            config: ConfigSource::File(crate::crate_dir().join(DEFAULT_FIXTURE)),
            directives: vec![],
            args: vec![],
            files: vec![],
            wait_ready: true,
            start_timeout: START_TIMEOUT,
            stop_timeout: STOP_TIMEOUT,
        }
    }

    /// Use this fixture (relative to the conformance crate, or absolute).
    pub fn config_file(mut self, path: impl AsRef<Path>) -> Self {
        let p = path.as_ref();
        let p = if p.is_absolute() {
            p.to_path_buf()
        } else {
            crate::crate_dir().join(p)
        };
        self.config = ConfigSource::File(p);
        self
    }

    /// Use this config text instead of a file (it is rewritten like a fixture).
    pub fn config_text(mut self, text: &str) -> Self {
        self.config = ConfigSource::Text(text.to_string());
        self
    }

    /// Append one directive line to the config (after the fixture, so it wins).
    pub fn directive(mut self, line: &str) -> Self {
        self.directives.push(line.to_string());
        self
    }

    /// Append one command-line argument after `-f CONF` (e.g. `-X`).
    pub fn arg(mut self, a: &str) -> Self {
        self.args.push(a.to_string());
        self
    }

    /// Put a file into the document root (`name` relative to it).
    pub fn file(mut self, name: &str, contents: impl Into<Vec<u8>>) -> Self {
        self.files.push((name.to_string(), contents.into()));
        self
    }

    /// Run this binary instead of the MPM's shim.
    pub fn binary(mut self, path: impl Into<PathBuf>) -> Self {
        self.binary = Some(path.into());
        self
    }

    /// Do not wait for `/server-status?auto` (for configs without the status handler).
    pub fn no_status_wait(mut self) -> Self {
        self.wait_ready = false;
        self
    }

    /// How long Drop waits after SIGTERM before SIGKILL (default [`STOP_TIMEOUT`]).
    pub fn stop_timeout(mut self, d: Duration) -> Self {
        self.stop_timeout = d;
        self
    }

    /// The MPM.
    pub fn mpm(&self) -> Mpm {
        self.mpm
    }

    /// Start, panicking with diagnostics if the server does not come up.
    pub fn start(self) -> Server {
        match self.try_start() {
            Ok(s) => s,
            Err(e) => panic!("{e}"),
        }
    }

    /// Prepare the directory and config without starting; returns (dir, config path).
    pub fn prepare(&self) -> Result<(PathBuf, PathBuf), StartError> {
        let dir = unique_dir(self.mpm)?;
        let docroot = dir.join("htdocs");
        fs::create_dir_all(&docroot)?;
        write_site(&docroot)?;
        for (name, data) in &self.files {
            let p = docroot.join(name);
            if let Some(parent) = p.parent() {
                fs::create_dir_all(parent)?;
            }
            fs::write(p, data)?;
        }
        let text = match &self.config {
            ConfigSource::File(p) => fs::read_to_string(p)
                .map_err(|e| io::Error::new(e.kind(), format!("fixture {}: {e}", p.display())))?,
            ConfigSource::Text(t) => t.clone(),
        };
        let conf = dir.join("httpd.conf");
        fs::write(&conf, render_config(&text, &dir, &self.directives))?;
        Ok((dir, conf))
    }

    fn spawn(&self, dir: &Path, conf: &Path) -> Result<Child, StartError> {
        let bin = match &self.binary {
            Some(b) => b.clone(),
            None => self.mpm.binary().ok_or(StartError::NoBinary(self.mpm))?,
        };
        let child = Command::new(bin)
            .arg("-f")
            .arg(conf)
            .args(&self.args)
            .current_dir(dir)
            // Lets one wrapper script serve all three MPMs (tools/apache-shim.sh runs real Apache).
            .env("MPM_LAB_MPM", self.mpm.name())
            .stdin(Stdio::null())
            .stdout(fs::File::create(dir.join("stdout.log"))?)
            .stderr(fs::File::create(dir.join("stderr.log"))?)
            // Step 3: its own process group, so Drop can signal the server and all its children
            // by PGID without touching the test runner (Apache itself signals its group).
            .process_group(0)
            .spawn()?;
        Ok(child)
    }

    /// Start and wait until ready (steps 1–5 of the module doc).
    pub fn try_start(self) -> Result<Server, StartError> {
        let (dir, conf) = self.prepare()?;
        let child = self.spawn(&dir, &conf)?;
        let pid = child.id() as i32;
        let mut server = Server {
            mpm: self.mpm,
            child: Some(child),
            pid,
            port: 0,
            dir,
            conf,
            exit: None,
            stop_timeout: self.stop_timeout,
        };
        // Step 4: the port, from the error log (or stderr when there is no ErrorLog file).
        let port = try_wait_until(self.start_timeout, || {
            if let Some(p) = server.logged_port() {
                return Some(Ok(p));
            }
            server.try_exit_status().map(Err)
        });
        match port {
            Some(Ok(p)) => server.port = p,
            Some(Err(status)) => {
                return Err(StartError::Exited {
                    status,
                    stderr: server.stderr(),
                    error_log: server.error_log(),
                    config: server.conf.clone(),
                });
            }
            None => {
                return Err(server.not_ready("no `listening on 127.0.0.1:PORT` in the error log"));
            }
        }
        // Step 5: the status page answers.
        if self.wait_ready {
            let ok = try_wait_until(self.start_timeout, || {
                if server.try_exit_status().is_some() {
                    return Some(false);
                }
                match http::get(server.addr(), "/server-status?auto") {
                    Ok(r) if r.status == 200 => Some(true),
                    _ => None,
                }
            });
            match ok {
                Some(true) => {}
                Some(false) => {
                    return Err(StartError::Exited {
                        status: server.exit.unwrap_or_default(),
                        stderr: server.stderr(),
                        error_log: server.error_log(),
                        config: server.conf.clone(),
                    });
                }
                None => return Err(server.not_ready("/server-status?auto did not answer 200")),
            }
        }
        Ok(server)
    }

    /// Run the server to completion (for `-t`, `-v`, config errors): returns its exit status,
    /// stdout, stderr and error log. Killed after `timeout`.
    pub fn run_to_exit(self, timeout: Duration) -> Result<Finished, StartError> {
        let (dir, conf) = self.prepare()?;
        let child = self.spawn(&dir, &conf)?;
        let pid = child.id() as i32;
        let mut server = Server {
            mpm: self.mpm,
            child: Some(child),
            pid,
            port: 0,
            dir,
            conf,
            exit: None,
            stop_timeout: self.stop_timeout,
        };
        let status = server.wait_exit(timeout);
        Ok(Finished {
            status,
            stdout: fs::read_to_string(server.dir.join("stdout.log")).unwrap_or_default(),
            stderr: server.stderr(),
            error_log: server.error_log(),
            dir: server.dir.clone(),
            config: server.conf.clone(),
        })
    }
}

/// What [`ServerTest::run_to_exit`] saw.
#[derive(Debug)]
pub struct Finished {
    /// `None` if the server had to be killed at the timeout.
    pub status: Option<ExitStatus>,
    pub stdout: String,
    pub stderr: String,
    pub error_log: String,
    pub dir: PathBuf,
    pub config: PathBuf,
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

fn unique_dir(mpm: Mpm) -> io::Result<PathBuf> {
    let base = std::env::temp_dir().join("mpm-lab-tests");
    fs::create_dir_all(&base)?;
    loop {
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let d = base.join(format!(
            "{}-{}-{n}-{nanos:x}",
            mpm.name(),
            std::process::id()
        ));
        match fs::create_dir(&d) {
            Ok(()) => return Ok(d),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
}

/// The small site every test server has: `index.html`, `1k.bin`, `100k.bin` (as the
/// reference `apache.sh` creates, but with deterministic bytes).
pub fn write_site(docroot: &Path) -> io::Result<()> {
    fs::write(
        docroot.join("index.html"),
        "<html><body>lab</body></html>\n",
    )?;
    let pattern: Vec<u8> = (0..102_400u32).map(|i| (i * 7 % 251) as u8).collect();
    fs::write(docroot.join("1k.bin"), &pattern[..1024])?;
    fs::write(docroot.join("100k.bin"), &pattern)?;
    Ok(())
}

fn quote(p: &Path) -> String {
    format!("\"{}\"", p.display())
}

fn unquote(s: &str) -> &str {
    s.trim().trim_matches('"')
}

/// Step 2 of the module doc: rewrite a fixture config into `dir` and append `extra` lines.
pub fn render_config(text: &str, dir: &Path, extra: &[String]) -> String {
    let docroot = dir.join("htdocs");
    let mut old_docroot: Option<String> = None;
    for line in text.lines() {
        let t = line.trim_start();
        if let Some((d, rest)) = t.split_once(char::is_whitespace)
            && d.eq_ignore_ascii_case("DocumentRoot")
        {
            old_docroot = Some(unquote(rest).trim_end_matches('/').to_string());
        }
    }
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::new();
    for line in text.lines() {
        let t = line.trim_start();
        let indent = &line[..line.len() - t.len()];
        let (word, rest) = t.split_once(char::is_whitespace).unwrap_or((t, ""));
        let key = word.to_ascii_lowercase();
        let new = match key.as_str() {
            "serverroot" => Some(format!("ServerRoot {}", quote(dir))),
            "errorlog" => Some(format!("ErrorLog {}", quote(&dir.join("error_log")))),
            "pidfile" => Some(format!("PidFile {}", quote(&dir.join("httpd.pid")))),
            "defaultruntimedir" => Some(format!("DefaultRuntimeDir {}", quote(dir))),
            "documentroot" => Some(format!("DocumentRoot {}", quote(&docroot))),
            "listen" => Some("Listen 127.0.0.1:0".to_string()),
            "customlog" | "transferlog" => {
                let fmt = rest
                    .trim()
                    .split_once(char::is_whitespace)
                    .map(|x| x.1)
                    .unwrap_or("");
                Some(
                    format!("{word} {} {fmt}", quote(&dir.join("access_log")))
                        .trim_end()
                        .to_string(),
                )
            }
            "<directory" => {
                let arg = unquote(rest.trim_end_matches('>')).trim_end_matches('/');
                if old_docroot.as_deref() == Some(arg) {
                    Some(format!("<Directory {}>", quote(&docroot)))
                } else {
                    None
                }
            }
            _ => None,
        };
        seen.insert(key);
        out.push(match new {
            Some(n) => format!("{indent}{n}"),
            None => line.to_string(),
        });
    }
    let mut head = vec![format!(
        "# rewritten by the conformance harness into {}",
        dir.display()
    )];
    if !seen.contains("serverroot") {
        head.push(format!("ServerRoot {}", quote(dir)));
    }
    if !seen.contains("listen") {
        head.push("Listen 127.0.0.1:0".into());
    }
    if !seen.contains("errorlog") {
        head.push(format!("ErrorLog {}", quote(&dir.join("error_log"))));
    }
    if !seen.contains("pidfile") {
        head.push(format!("PidFile {}", quote(&dir.join("httpd.pid"))));
    }
    if !seen.contains("documentroot") {
        head.push(format!("DocumentRoot {}", quote(&docroot)));
    }
    let mut all = head;
    all.extend(out);
    if !extra.is_empty() {
        all.push("# ---- test directives ----".into());
        all.extend(extra.iter().cloned());
    }
    all.push(String::new());
    all.join("\n")
}

/// A running server; dropping it stops it (step 6 of the module doc).
#[derive(Debug)]
pub struct Server {
    mpm: Mpm,
    child: Option<Child>,
    pid: i32,
    port: u16,
    dir: PathBuf,
    conf: PathBuf,
    exit: Option<ExitStatus>,
    stop_timeout: Duration,
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
        fs::read_to_string(self.dir.join("error_log")).unwrap_or_default()
    }

    /// The access log ("" if the config has no CustomLog).
    pub fn access_log(&self) -> String {
        fs::read_to_string(self.dir.join("access_log")).unwrap_or_default()
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

    fn logged_port(&self) -> Option<u16> {
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

    /// Stop now: SIGTERM to the group, bounded wait, SIGKILL, reap. Idempotent.
    pub fn stop(&mut self) {
        let pgid = Pid::from_raw(self.pid);
        if self.exit.is_none() {
            let _ = killpg(pgid, Signal::SIGTERM);
            // Wait until no group member is alive (the parent as a zombie still holds the
            // PGID, so a SIGKILL below cannot reach an unrelated group).
            let deadline = Instant::now() + self.stop_timeout;
            while Instant::now() < deadline && !procfs::group_members(self.pid).is_empty() {
                std::thread::sleep(Duration::from_millis(20));
            }
            if !procfs::group_members(self.pid).is_empty() {
                let _ = killpg(pgid, Signal::SIGKILL);
            }
            if let Some(c) = self.child.as_mut() {
                self.exit = c.wait().ok();
            }
        } else if !procfs::group_members(self.pid).is_empty() {
            // The parent exited by itself and was reaped, but members of its group live on:
            // while they exist the PGID cannot be reused, so this signal reaches only them.
            let _ = killpg(pgid, Signal::SIGKILL);
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
    fn not_ready(&mut self, what: &'static str) -> StartError {
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
        if !failing && std::env::var_os("MPM_LAB_KEEP").is_none() {
            let _ = fs::remove_dir_all(&self.dir);
        }
    }
}
