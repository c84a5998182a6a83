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
//! 5. The server is ready when `GET /server-status?auto` answers 200 and the parent has logged
//!    `configured -- resuming normal operations`, which it does once every StartServers child is
//!    forked (not with `-X`, which has no parent).
//! 6. On drop: SIGTERM to the process group, a bounded wait until every member has exited,
//!    SIGKILL to whatever is left, reap; then SIGKILL to the groups of the CGI scripts it had
//!    started (`server/groups.rs`, which also stops the servers when `mpm-lab` gets a quit
//!    signal). If the test is panicking, the config path and the last 30 error-log lines are
//!    printed first; on success the directory is removed.
//!
//! Every wait is bounded; nothing is found or killed by name.
//!
//! This file holds the builder and steps 3–5; `server/fixture.rs` steps 1–2, `server/running.rs`
//! the running [`Server`] and step 6, `server/mpm.rs` the [`Mpm`] names and binaries.
//! `server/tree.rs` replaces steps 1–2 and 4 for a whole configuration tree run with `-d DIR`
//! (Debian's layout): the caller prepares the copy and names its port and logs.

mod fixture;
pub(crate) mod groups;
mod mpm;
mod running;
mod tree;

use fixture::unique_dir;
pub use fixture::{render_config, write_site};
pub use groups::stop_servers_on_quit_signals;
pub use mpm::Mpm;
pub use running::Server;

use crate::http;
use crate::wait::try_wait_until;
use std::fmt;
use std::fs;
use std::io;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::Duration;

/// How long a server may take to bind and answer its status page.
pub const START_TIMEOUT: Duration = Duration::from_secs(20);
/// How long a SIGTERM'd server may take to exit before SIGKILL.
pub const STOP_TIMEOUT: Duration = Duration::from_secs(12);

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
    env: Vec<(String, String)>,
    tree: Option<tree::Tree>,
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
            env: vec![],
            tree: None,
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

    /// The scratch directory and config of this run: a rendered fixture, or the caller's tree.
    fn dir_and_config(&self) -> Result<(PathBuf, PathBuf), StartError> {
        match &self.tree {
            Some(t) => Ok((t.root.clone(), t.server_root.join("apache2.conf"))),
            None => self.prepare(),
        }
    }

    fn spawn(&self, dir: &Path, conf: &Path) -> Result<Child, StartError> {
        let bin = match &self.binary {
            Some(b) => b.clone(),
            None => self.mpm.binary().ok_or(StartError::NoBinary(self.mpm))?,
        };
        let mut cmd = Command::new(bin);
        match &self.tree {
            Some(t) => cmd.arg("-d").arg(&t.server_root),
            None => cmd.arg("-f").arg(conf),
        };
        let child = cmd
            .args(&self.args)
            .envs(self.env.iter().map(|(k, v)| (k, v)))
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

    /// The running server for `child` (its logs where the config or the tree puts them).
    fn server(&self, dir: PathBuf, conf: PathBuf, child: Child) -> Server {
        let (error_log, access_log) = match &self.tree {
            Some(t) => (t.error_log.clone(), t.access_log.clone()),
            None => (dir.join("error_log"), dir.join("access_log")),
        };
        groups::register(child.id() as i32, self.tree.is_none().then(|| dir.clone()));
        Server {
            mpm: self.mpm,
            pid: child.id() as i32,
            child: Some(child),
            port: 0,
            keep_dir: self.tree.is_some(),
            error_log,
            access_log,
            dir,
            conf,
            exit: None,
            stop_timeout: self.stop_timeout,
        }
    }

    /// Start and wait until ready (steps 1–5 of the module doc).
    pub fn try_start(self) -> Result<Server, StartError> {
        let (dir, conf) = self.dir_and_config()?;
        let child = self.spawn(&dir, &conf)?;
        let mut server = self.server(dir, conf, child);
        // Step 4: the port, from the error log (or stderr when there is no ErrorLog file); a
        // tree's is known (its Listen names it).
        let port = try_wait_until(self.start_timeout, || {
            if let Some(t) = &self.tree {
                return Some(Ok(t.port));
            }
            if let Some(p) = server.logged_port() {
                return Some(Ok(p));
            }
            server.try_exit_status().map(Err)
        });
        match port {
            Some(Ok(p)) => server.port = p,
            Some(Err(status)) => {
                return Err(server.exited(status));
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
                    return Err(server.exited(server.exit.unwrap_or_default()));
                }
                None => return Err(server.not_ready("/server-status?auto did not answer 200")),
            }
            // Step 5b: the first child answers the probe while the parent may still be forking
            // the rest of StartServers; the parent logs "resuming normal operations" (notice,
            // so whatever LogLevel says) once all are forked. `-X` has no parent and no line.
            if !self.args.iter().any(|a| a == "-X") {
                let resumed = try_wait_until(self.start_timeout, || {
                    let text = server.error_log() + &server.stderr();
                    if text.contains("configured -- resuming normal operations") {
                        return Some(true);
                    }
                    server.try_exit_status().map(|_| false)
                });
                match resumed {
                    Some(true) => {}
                    Some(false) => {
                        return Err(server.exited(server.exit.unwrap_or_default()));
                    }
                    None => {
                        return Err(
                            server.not_ready("no \"resuming normal operations\" in the error log")
                        );
                    }
                }
            }
        }
        Ok(server)
    }

    /// Run the server to completion (for `-t`, `-v`, config errors): returns its exit status,
    /// stdout, stderr and error log. Killed after `timeout`.
    pub fn run_to_exit(self, timeout: Duration) -> Result<Finished, StartError> {
        let (dir, conf) = self.dir_and_config()?;
        let child = self.spawn(&dir, &conf)?;
        let mut server = self.server(dir, conf, child);
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
