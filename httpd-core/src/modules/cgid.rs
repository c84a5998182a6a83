//! mod_cgid: CGI for the threaded MPMs (Apache `modules/generators/mod_cgid.c`).
//!
//! Why: `fork()` in a multi-threaded process copies only the calling thread; a lock another
//! worker thread held at that instant (the allocator's, a log's) stays locked forever in the
//! copy. A worker/event child therefore never forks. Instead:
//!
//! 1. The parent forks the cgid daemon *before* any child (`cgid_init`), while it is still
//!    single-threaded. The daemon binds a Unix socket, `ScriptSock` (default
//!    `cgisock.PARENTPID` under DefaultRuntimeDir), owned by User so the children may connect,
//!    then drops to User/Group (`cgid_server`: `ap_unixd_setup_child`) and dies with the parent
//!    (`PR_SET_PDEATHSIG`). The parent forks it again if it dies (`cgid_maint`:
//!    [`CgidDaemon::reaped`]).
//! 2. A worker thread connects and sends the script's program, argv, directory and environment
//!    (`send_req`).
//! 3. The daemon — single-threaded, so forking is safe — starts the script in its own process
//!    group with pipes for stdin and stdout and the main error log as its stderr (Debian's
//!    Apache is built without `HAVE_CGID_FDPASSING`: stderr lines land there raw, with no
//!    AH01215 and no ScriptLog entry), and sends back the script's pid and the handler's ends
//!    of the pipes (and a stderr pipe already at its end) over the socket as `SCM_RIGHTS`
//!    ancillary data. It keeps nothing: its copies close,
//!    and `SIGCHLD` ignored makes the kernel reap the script.
//! 4. From there the worker thread drives the script exactly as mod_cgi does
//!    ([`super::cgi_script`]), and kills its process group on `CGIDScriptTimeout` (Apache asks
//!    the daemon to kill; here the thread and the script run as the same User, so it may
//!    signal it directly).
//! 5. Every restart, graceful or not, replaces the daemon ([`restart`]): Apache clears the old
//!    configuration's pool, which unregisters the daemon as an "other child" (`cgid_maint`,
//!    `APR_OC_REASON_UNREGISTER`: the daemon is signalled and its socket unlinked) and kills
//!    it on the pool's subprocess schedule (`APR_KILL_AFTER_TIMEOUT`: SIGTERM, SIGKILL 3 s
//!    later, then reaped); `cgid_init` then forks a daemon of the new configuration (its
//!    User, its ScriptSock) before the new generation of children. Scripts the old daemon
//!    started run on; requests in flight already hold their pipes.

use std::io::{IoSlice, IoSliceMut, Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::PathBuf;
use std::time::Duration;

use nix::sys::socket::{ControlMessage, ControlMessageOwned, MsgFlags, recvmsg, sendmsg};
use nix::unistd::{ForkResult, Pid, fork};

use super::cgi_script::{Script, ScriptCommand};
use crate::config::ServerConfig;
use crate::unixd::Identity;

/// The socket the children connect to, set in the parent before the children are forked
/// (they inherit it). A restart may name another one (ScriptSock); the lock is never held
/// across a fork (the control process is single-threaded).
static SOCKET: crate::sync::Mutex<Option<PathBuf>> = crate::sync::Mutex::new(None);

/// `ScriptSock` resolved: DefaultRuntimeDir-relative, `.PID` of the parent appended.
pub fn socket_path(cfg: &ServerConfig, parent: u32) -> PathBuf {
    let name = cfg.cgi.script_sock.as_deref().unwrap_or("cgisock");
    let base = crate::config::server::server_root_relative(&cfg.runtime_dir, name);
    PathBuf::from(format!("{}.{parent}", base.display()))
}

/// The daemon of this parent (the control process is single-threaded: the lock is never
/// contended; it only makes the static safe to share).
static DAEMON: crate::sync::Mutex<Option<CgidDaemon>> = crate::sync::Mutex::new(None);

/// Step 1 at start-up, once the listeners and logs are open and the process has detached:
/// start the daemon when `LoadModule cgid_module` is in the configuration. A failure is
/// logged (AH01243) and CGI requests then answer 500, as Apache's would.
pub fn start_if_loaded(cfg: &ServerConfig, log: &crate::log::ErrorLog) {
    if !cfg.loaded_modules.contains(&"cgid") || crate::sync::lock(&DAEMON).is_some() {
        return;
    }
    let started = Identity::resolve(&cfg.user, &cfg.group)
        .map_err(|e| std::io::Error::other(e.to_string()))
        .and_then(|id| CgidDaemon::start(cfg, &id, log.clone_fd()));
    match started {
        Ok(d) => *crate::sync::lock(&DAEMON) = Some(d),
        Err(e) => log.log(
            "cgid",
            crate::log::Level::Error,
            format_args!("AH01243: Couldn't spawn cgid daemon process: {e}"),
        ),
    }
}

/// `cgid_maint` from the parent's reaping loop: `true` when `pid` was the daemon (a new one
/// has been forked).
pub fn maint(pid: Pid) -> bool {
    crate::sync::lock(&DAEMON)
        .as_mut()
        .is_some_and(|d| d.reaped(pid))
}

/// The parent is ending (called with the PidFile's removal): stop the daemon and remove its
/// socket (`cgid`'s pool cleanup).
pub fn shutdown() {
    let old = crate::sync::lock(&DAEMON).take();
    if let Some(d) = old {
        d.stop();
    }
}

/// Step 5, in the control process once a restart's configuration has been read and before
/// the new generation is forked: the old daemon is stopped and reaped, and one of the new
/// configuration is started if it still loads mod_cgid.
pub fn restart(cfg: &ServerConfig, log: &crate::log::ErrorLog) {
    shutdown();
    start_if_loaded(cfg, log);
}

/// The parent's handle on the daemon (step 1).
pub struct CgidDaemon {
    pid: Pid,
    socket: PathBuf,
    identity: Identity,
    /// The main error log, the scripts' stderr (`None`: the daemon's own stderr).
    stderr: Option<OwnedFd>,
}

impl CgidDaemon {
    /// Bind the socket and fork the daemon. Call in the parent before any child is forked.
    pub fn start(
        cfg: &ServerConfig,
        identity: &Identity,
        stderr: Option<OwnedFd>,
    ) -> std::io::Result<CgidDaemon> {
        let socket = socket_path(cfg, std::process::id());
        let _ = std::fs::remove_file(&socket);
        *crate::sync::lock(&SOCKET) = Some(socket.clone());
        let mut d = CgidDaemon {
            pid: Pid::from_raw(0),
            socket,
            identity: identity.clone(),
            stderr,
        };
        d.fork_daemon()?;
        Ok(d)
    }

    fn fork_daemon(&mut self) -> std::io::Result<()> {
        let _ = std::fs::remove_file(&self.socket);
        let listener = UnixListener::bind(&self.socket)?;
        // The children run as User and must be able to connect (`cgid_init`: chown).
        let _ = nix::unistd::chown(&self.socket, Some(self.identity.uid().into()), None);
        let parent = nix::unistd::getpid();
        // SAFETY: called by the control process, which is single-threaded (see the MPMs'
        // make_child); the daemon child only runs `daemon_main` and exits.
        #[allow(unsafe_code)]
        match unsafe { fork() }? {
            ForkResult::Child => {
                crate::signals::child_reset();
                let code = daemon_main(listener, &self.identity, parent, self.stderr.as_ref());
                std::process::exit(code);
            }
            ForkResult::Parent { child } => {
                self.pid = child;
                Ok(())
            }
        }
    }

    /// `cgid_maint`: if `pid` was the daemon, fork a new one and say so.
    pub fn reaped(&mut self, pid: Pid) -> bool {
        if pid != self.pid {
            return false;
        }
        let _ = self.fork_daemon();
        true
    }

    /// The daemon's pid.
    pub fn pid(&self) -> Pid {
        self.pid
    }

    /// Stop the daemon and remove its socket (`cgid_maint` on UNREGISTER, then the pool's
    /// `APR_KILL_AFTER_TIMEOUT`: SIGTERM, SIGKILL after 3 s, reaped, so no zombie is left).
    pub fn stop(&self) {
        use nix::sys::signal::{Signal, kill};
        use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
        let _ = std::fs::remove_file(&self.socket);
        if kill(self.pid, Signal::SIGTERM).is_err() {
            return;
        }
        let deadline = std::time::Instant::now() + Duration::from_secs(3);
        loop {
            match waitpid(self.pid, Some(WaitPidFlag::WNOHANG)) {
                Ok(WaitStatus::StillAlive) if std::time::Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(10));
                }
                Ok(WaitStatus::StillAlive) => {
                    let _ = kill(self.pid, Signal::SIGKILL);
                    let _ = waitpid(self.pid, None);
                    return;
                }
                // Reaped, or not ours any more.
                _ => return,
            }
        }
    }
}

/// The daemon (steps 1 and 3).
fn daemon_main(
    listener: UnixListener,
    identity: &Identity,
    parent: Pid,
    stderr: Option<&OwnedFd>,
) -> i32 {
    // SAFETY: SIG_IGN installs no handler code; with SIGCHLD ignored the kernel reaps scripts.
    #[allow(unsafe_code)]
    let _ = unsafe {
        nix::sys::signal::signal(
            nix::sys::signal::Signal::SIGCHLD,
            nix::sys::signal::SigHandler::SigIgn,
        )
    };
    if identity.drop_privileges().is_err() {
        return 1;
    }
    // After the drop: a change of credentials clears the parent-death signal (prctl(2)).
    let _ = nix::sys::prctl::set_pdeathsig(nix::sys::signal::Signal::SIGTERM);
    if nix::unistd::getppid() != parent {
        return 0;
    }
    for conn in listener.incoming() {
        let Ok(mut conn) = conn else { continue };
        let _ = conn.set_read_timeout(Some(Duration::from_secs(10)));
        let reply = match read_request(&mut conn) {
            Some(cmd) => spawn_local(&cmd, stderr),
            None => continue,
        };
        match reply {
            Ok((pid, fds)) => {
                let raw: Vec<RawFd> = fds.iter().map(AsRawFd::as_raw_fd).collect();
                let _ = send_with_fds(&conn, &pid.to_le_bytes(), &raw);
            }
            Err(e) => {
                let code = -(e.raw_os_error().unwrap_or(libc::EIO));
                let _ = send_with_fds(&conn, &code.to_le_bytes(), &[]);
            }
        }
    }
    0
}

/// Step 3 in the daemon: start the script (as mod_cgi does), return its pid and the handler's
/// pipe ends. The `Child` is dropped unwaited: SIGCHLD is ignored, the kernel reaps it.
///
/// The script's stderr is the main error log, written raw, as Debian's Apache 2.4.71 does: it
/// is built without `HAVE_CGID_FDPASSING`, so the daemon's stderr (the error log) is the
/// script's, and no AH01215 line or ScriptLog entry is made of it (checked side by side). The
/// handler gets a stderr pipe that is already at its end.
fn spawn_local(
    cmd: &ScriptCommand,
    stderr: Option<&OwnedFd>,
) -> std::io::Result<(i32, [OwnedFd; 3])> {
    let inherited;
    let stderr = match stderr {
        Some(fd) => fd,
        None => {
            inherited = std::os::fd::AsFd::as_fd(&std::io::stderr()).try_clone_to_owned()?;
            &inherited
        }
    };
    let (child, fds) = super::cgi::spawn_piped(cmd, Some(stderr))?;
    Ok((child.id() as i32, fds))
}

fn send_with_fds(conn: &UnixStream, data: &[u8], fds: &[RawFd]) -> nix::Result<usize> {
    let iov = [IoSlice::new(data)];
    let cmsg = [ControlMessage::ScmRights(fds)];
    let cmsgs: &[ControlMessage] = if fds.is_empty() { &[] } else { &cmsg };
    sendmsg::<()>(conn.as_raw_fd(), &iov, cmsgs, MsgFlags::empty(), None)
}

/// Step 2's message: length-prefixed, NUL-separated `program, dir, argc, argv…, K=V…`.
fn encode(cmd: &ScriptCommand) -> Vec<u8> {
    let mut fields: Vec<String> = vec![
        cmd.program.display().to_string(),
        cmd.dir.display().to_string(),
        cmd.argv.len().to_string(),
    ];
    fields.extend(cmd.argv.iter().cloned());
    fields.extend(cmd.env.iter().map(|(k, v)| format!("{k}={v}")));
    let body = fields.join("\0").into_bytes();
    let mut out = (body.len() as u32).to_le_bytes().to_vec();
    out.extend(body);
    out
}

fn decode(body: &[u8]) -> Option<ScriptCommand> {
    let text = String::from_utf8_lossy(body);
    let mut it = text.split('\0');
    let program = PathBuf::from(it.next()?);
    let dir = PathBuf::from(it.next()?);
    let argc: usize = it.next()?.parse().ok()?;
    let argv: Vec<String> = it.by_ref().take(argc).map(String::from).collect();
    let env = it
        .filter_map(|kv| kv.split_once('=').map(|(k, v)| (k.into(), v.into())))
        .collect();
    Some(ScriptCommand {
        program,
        argv,
        env,
        dir,
    })
}

fn read_request(conn: &mut UnixStream) -> Option<ScriptCommand> {
    let mut len = [0u8; 4];
    conn.read_exact(&mut len).ok()?;
    let len = u32::from_le_bytes(len) as usize;
    if len > 16 << 20 {
        return None;
    }
    let mut body = vec![0u8; len];
    conn.read_exact(&mut body).ok()?;
    decode(&body)
}

/// `DEFAULT_CONNECT_ATTEMPTS`: how often a worker tries to reach the daemon.
const CONNECT_ATTEMPTS: u32 = 15;

/// Why [`spawn`] failed: the handler answers as `connect_to_daemon` and `cgid_handler` do.
#[derive(Debug)]
pub enum SpawnError {
    /// No daemon answered after [`CONNECT_ATTEMPTS`] tries: 503, AH01257.
    Unreachable(std::io::Error),
    /// The daemon answered but the script could not be started: 500, AH01223.
    Script(std::io::Error),
}

/// Steps 2–3 from a worker thread: ask the daemon to start `cmd`.
///
/// While a restart replaces the daemon (step 5) its socket is briefly missing, or an old
/// daemon may die with our request in its queue: as `connect_to_daemon` does, the worker
/// tries again, sleeping 100 ms, then twice as long each time up to 2 s, 15 tries at most.
pub fn spawn(cmd: &ScriptCommand) -> Result<Script, SpawnError> {
    spawn_within(cmd, CONNECT_ATTEMPTS)
}

fn spawn_within(cmd: &ScriptCommand, attempts: u32) -> Result<Script, SpawnError> {
    let mut pause = Duration::from_millis(100);
    let mut tries = 1;
    loop {
        match ask_daemon(cmd) {
            Err(e) if daemon_missing(&e) && tries < attempts => {
                std::thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_secs(2));
                tries += 1;
            }
            Err(e) if daemon_missing(&e) => return Err(SpawnError::Unreachable(e)),
            Err(e) => return Err(SpawnError::Script(e)),
            Ok(script) => return Ok(script),
        }
    }
}

/// The daemon was not there to answer (as opposed to a script that could not start).
fn daemon_missing(e: &std::io::Error) -> bool {
    use std::io::ErrorKind::*;
    matches!(
        e.kind(),
        NotFound | ConnectionRefused | BrokenPipe | ConnectionReset | UnexpectedEof
    )
}

/// One exchange with the daemon.
fn ask_daemon(cmd: &ScriptCommand) -> std::io::Result<Script> {
    let path: PathBuf = crate::sync::lock(&SOCKET)
        .clone()
        // No daemon was ever started (AH01243 at start-up): as a missing ScriptSock.
        .ok_or(std::io::ErrorKind::NotFound)?;
    let mut conn = UnixStream::connect(&path)?;
    conn.set_read_timeout(Some(Duration::from_secs(10)))?;
    conn.write_all(&encode(cmd))?;
    let mut pid = [0u8; 4];
    let mut space = nix::cmsg_space!([RawFd; 3]);
    let mut fds = Vec::new();
    {
        let mut iov = [IoSliceMut::new(&mut pid)];
        let msg = recvmsg::<()>(
            conn.as_raw_fd(),
            &mut iov,
            Some(&mut space),
            MsgFlags::MSG_CMSG_CLOEXEC,
        )?;
        if msg.bytes == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        for c in msg.cmsgs()? {
            if let ControlMessageOwned::ScmRights(r) = c {
                fds.extend(r);
            }
        }
    }
    // SAFETY: the kernel just installed these descriptors in this process for us (SCM_RIGHTS);
    // nothing else owns them.
    #[allow(unsafe_code)]
    let owned: Vec<OwnedFd> = fds
        .into_iter()
        .map(|fd| unsafe { OwnedFd::from_raw_fd(fd) })
        .collect();
    let pid = i32::from_le_bytes(pid);
    if pid <= 0 {
        return Err(std::io::Error::from_raw_os_error(-pid));
    }
    let [i, o, e]: [OwnedFd; 3] = owned
        .try_into()
        .map_err(|_| std::io::Error::other("cgid sent no pipes"))?;
    Ok(Script {
        pid,
        stdin: Some(i.into()),
        stdout: o.into(),
        stderr: e.into(),
        child: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_round_trips() {
        let cmd = ScriptCommand {
            program: "/x/s.cgi".into(),
            argv: vec!["/x/s.cgi".into(), "a b".into()],
            env: vec![("A".into(), "1=2".into()), ("B".into(), String::new())],
            dir: "/x".into(),
        };
        let wire = encode(&cmd);
        assert_eq!(decode(&wire[4..]), Some(cmd));
    }

    /// A socket nobody listens on: the worker retries, then gives up as Unreachable (503), not
    /// as a script that failed to start (500).
    #[test]
    fn missing_daemon_is_unreachable_after_the_tries() {
        let dir = std::env::temp_dir().join(format!("cgid-unit-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let cmd = ScriptCommand {
            program: "/x/s.cgi".into(),
            argv: vec!["/x/s.cgi".into()],
            env: vec![],
            dir: "/x".into(),
        };
        // Socket file absent (ENOENT), then present with its listener gone (ECONNREFUSED).
        let path = dir.join("cgisock.missing");
        *crate::sync::lock(&SOCKET) = Some(path.clone());
        let t0 = std::time::Instant::now();
        match spawn_within(&cmd, 2) {
            Err(SpawnError::Unreachable(e)) => assert_eq!(e.kind(), std::io::ErrorKind::NotFound),
            other => panic!("{:?}", other.map(|s| s.pid)),
        }
        assert!(
            t0.elapsed() >= Duration::from_millis(100),
            "no pause between tries"
        );
        drop(UnixListener::bind(&path).unwrap());
        match spawn_within(&cmd, 1) {
            Err(SpawnError::Unreachable(e)) => {
                assert_eq!(e.kind(), std::io::ErrorKind::ConnectionRefused)
            }
            other => panic!("{:?}", other.map(|s| s.pid)),
        }
        *crate::sync::lock(&SOCKET) = None;
        let _ = std::fs::remove_dir_all(&dir);
    }
}
