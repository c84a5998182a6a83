//! The control process: start-up, the one-second loop, restarts and stops.
//!
//! Source: `prefork.c: prefork_run`, `startup_children`, `make_child`, `prefork_note_child_*`;
//! `mpm_common.c: ap_wait_or_timeout`; `main.c`'s restart loop (apache-mpm-rules.md §1.1, §1.2,
//! §3.5, §6; rules 1, 10, 41–50, 56). The parent is single-threaded on purpose: it forks, and a
//! fork from a threaded process may copy a lock some other thread held.
//!
//! One generation, in order (a restart runs these steps again with the new configuration):
//! 1. (restart only) Retire the old generation. Graceful: wake idle old children with dummy
//!    connections, mark every live slot `G` and send each old child SIGUSR1; they leave when their
//!    connection ends. Hard (SIGHUP): SIGHUP every child and reclaim them. Then generation + 1.
//! 2. A hard (re)start resets the scoreboard counters and the spawn rate; publish the generation.
//! 3. Fork StartServers children at once (cold start, SIGHUP). After a graceful restart fork
//!    nothing yet: each old child reaped is replaced in its slot while the StartServers budget
//!    lasts, the rest of the budget is forked at the first quiet second, and the spawn rate may
//!    not double for the next 10 spawning passes (§3.5).
//! 4. Log AH00163 / AH00164 / AH00094.
//! 5. Loop until a signal asks for a stop or restart (`ap_wait_or_timeout`):
//!    a. reap one exited child without waiting; if one was reaped, handle it and loop again at
//!       once: **no maintenance on a tick that reaped** (rule 10);
//!    b. otherwise wait up to 1 s on the signal fd; a signal ends the loop;
//!    c. start what is left of the restart budget, or run one maintenance pass
//!       ([`maintenance::decide`]) and carry out its decision.
//! 6. Stop (SIGTERM/SIGINT): TERM and reclaim every child, remove the pid file, AH00169.
//!    Graceful stop (SIGWINCH): close our listeners, wake idle children, SIGUSR1 to all, remove
//!    the pid file, AH00170, then wait (checking every second) until they are gone, a SIGTERM
//!    arrives, or GracefulShutdownTimeout passes; TERM whatever is left.
//!    Restart: AH00171 (graceful) / AH00173 (SIGHUP), re-read the configuration, back to step 1
//!    with the listeners still open (a restart never re-binds one).
#![allow(unsafe_code)]

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use httpd_core::child_status::{ChildExit, process_child_status};
use httpd_core::config::ServerConfig;
use httpd_core::http::{HttpServer, StatusContext};
use httpd_core::listen::{Listener, open_listeners};
use httpd_core::log::{AccessLog, ErrorLog, Level, startup_warning};
use httpd_core::pod::Pod;
use httpd_core::scoreboard::{Scoreboard, WorkerStatus};
use httpd_core::signals::{ParentSignal, ParentSignals};
use httpd_core::startup::{Started, Startup, startup};
use httpd_core::status::MpmStatusInfo;
use httpd_core::unixd::Identity;
use httpd_core::{pidfile, reclaim};
use nix::sys::signal::{Signal, kill};
use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use nix::unistd::{ForkResult, Pid, fork};

use crate::child::{self, ChildCtx};
use crate::config::{PreforkConfig, Warning, check_config};
use crate::maintenance::{AH00161, Decision, Retained, ScoreboardView, decide};

const MODULE: &str = "mpm_prefork";

/// Spawning passes during which the rate does not double after a graceful restart (§3.5).
const GRACEFUL_HOLD_OFF: u32 = 10;

/// The program: shared start-up (command line, `-t`, `-k`, config), then the control process.
pub fn main() -> ExitCode {
    match startup(&crate::IDENT, std::env::args_os()) {
        Startup::Exit(code) => code,
        Startup::Run(started) => run(*started),
    }
}

/// How a generation ended.
enum Ending {
    /// Stopped (SIGTERM, SIGINT, or the end of a graceful stop): exit 0.
    Stopped,
    /// A restart was asked for.
    Restart { graceful: bool },
    /// A child of the current generation exited CHILDFATAL, or the server could not go on.
    Fatal,
}

/// The control process's state, kept across generations.
struct Parent {
    started: Started,
    config: Arc<ServerConfig>,
    cfg: PreforkConfig,
    log: ErrorLog,
    scoreboard: Arc<Scoreboard>,
    listeners: Vec<Listener>,
    signals: ParentSignals,
    retained: Retained,
    generation: u64,
    born: Instant,
    /// A stop/restart signal that arrived and ends the current generation's loop.
    pending: Option<ParentSignal>,
}

/// This generation's per-child context, built in the parent and inherited by fork.
struct Generation {
    pod: Pod,
    server: HttpServer,
    identity: Identity,
    /// Old children are being replaced one for one (graceful restart, step 3).
    remaining_children_to_start: usize,
    was_graceful: bool,
}

fn log_warnings(log: &ErrorLog, warnings: &[Warning]) {
    for w in warnings {
        if w.to_console {
            startup_warning(&w.to_string());
        } else {
            let level = if w.info_only { Level::Info } else { Level::Warn };
            log.log(MODULE, level, format_args!("{w}"));
        }
    }
}

/// Where the pipe of death's dummy connection goes: the first listener, through loopback when
/// it listens on a wildcard address.
fn dummy_addr(listeners: &[Listener]) -> Option<SocketAddr> {
    let mut a = listeners.first()?.local;
    if a.ip().is_unspecified() {
        a.set_ip(match a.ip() {
            IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::LOCALHOST),
            IpAddr::V6(_) => IpAddr::V6(Ipv6Addr::LOCALHOST),
        });
    }
    Some(a)
}

/// Start-up: everything before the first generation.
pub fn run(started: Started) -> ExitCode {
    let (cfg, warnings) = check_config(&started.config.mpm, None);
    let log = match ErrorLog::open(&started.config) {
        Ok(l) => l,
        Err(e) => {
            startup_warning(&format!("(errno {}) {e}: AH00091: could not open error log file.", e.raw_os_error().unwrap_or(0)));
            return ExitCode::FAILURE;
        }
    };
    log_warnings(&log, &warnings);
    for w in &started.config.startup_warnings {
        startup_warning(w);
    }
    let listeners = match open_listeners(&started.config.listen, started.config.listen_backlog, Vec::new(), &log) {
        Ok(l) if !l.is_empty() => l,
        Ok(_) => {
            log.log(MODULE, Level::Alert, format_args!("AH03279: no listening sockets available, shutting down"));
            return ExitCode::FAILURE;
        }
        Err(e) => {
            log.log(MODULE, Level::Alert, format_args!("AH00015: Unable to open logs: {e}"));
            return ExitCode::FAILURE;
        }
    };
    let scoreboard = match Scoreboard::create(cfg.server_limit, 1) {
        Ok(sb) => Arc::new(sb),
        Err(e) => {
            log.log(MODULE, Level::Crit, format_args!("AH00004: Unable to create or access scoreboard: {e}"));
            return ExitCode::FAILURE;
        }
    };
    if let Err(e) = pidfile::write(&started.config.pid_file, &log) {
        log.log("core", Level::Error, format_args!("AH00099: could not create {}: {e}", started.config.pid_file.display()));
        return ExitCode::FAILURE;
    }
    if started.one_process {
        return one_process(started, cfg, log, scoreboard, listeners);
    }
    let signals = match ParentSignals::install() {
        Ok(s) => s,
        Err(e) => {
            log.log(MODULE, Level::Emerg, format_args!("cannot install signal handling: {e}"));
            return ExitCode::FAILURE;
        }
    };
    let config = Arc::new(started.config.clone());
    let mut parent = Parent {
        started,
        config,
        cfg,
        log,
        scoreboard,
        listeners,
        signals,
        retained: Retained::default(),
        generation: 0,
        born: Instant::now(),
        pending: None,
    };
    parent.run_generations()
}

/// `-X`: one child, in this process, no parent and no pipe of death.
fn one_process(
    started: Started,
    cfg: PreforkConfig,
    log: ErrorLog,
    scoreboard: Arc<Scoreboard>,
    listeners: Vec<Listener>,
) -> ExitCode {
    let config = Arc::new(started.config.clone());
    let identity = match Identity::resolve(&config.user, &config.group) {
        Ok(i) => i,
        Err(e) => {
            log.log("unixd", Level::Alert, format_args!("{e}"));
            return ExitCode::FAILURE;
        }
    };
    let server = match http_server(&config, &log, &scoreboard, &cfg) {
        Ok(s) => s,
        Err(e) => {
            log.log(MODULE, Level::Emerg, format_args!("cannot set up HTTP: {e}"));
            return ExitCode::FAILURE;
        }
    };
    log_started(&log, &started);
    scoreboard.worker(0, 0).set_status(WorkerStatus::Starting);
    scoreboard.process(0).set_pid(std::process::id() as i32);
    child::child_main(ChildCtx {
        slot: 0,
        generation: 0,
        scoreboard: &scoreboard,
        listeners: &listeners,
        pod: None,
        identity: &identity,
        server: &server,
        log: &log,
        max_connections: cfg.max_connections_per_child,
        one_process: true,
    })
}

fn http_server(
    config: &Arc<ServerConfig>,
    log: &ErrorLog,
    scoreboard: &Arc<Scoreboard>,
    cfg: &PreforkConfig,
) -> std::io::Result<HttpServer> {
    let access = AccessLog::open(config)?;
    let info = MpmStatusInfo {
        mpm: "prefork",
        is_async: false,
        threads_per_child: 1,
        max_daemons: cfg.max_request_workers,
        server_limit: cfg.server_limit,
    };
    HttpServer::new(
        Arc::clone(config),
        log.clone(),
        access,
        Some(StatusContext { scoreboard: Arc::clone(scoreboard), info }),
    )
}

/// Step 4's lines.
fn log_started(log: &ErrorLog, started: &Started) {
    log.log(
        MODULE,
        Level::Notice,
        format_args!("AH00163: {} configured -- resuming normal operations", httpd_core::SERVER_VERSION),
    );
    log.log(MODULE, Level::Info, format_args!("AH00164: Server built: {}", httpd_core::SERVER_BUILT));
    log.log("core", Level::Notice, format_args!("AH00094: Command line: '{}'", started.command_line));
}

impl Parent {
    /// Generations until a stop.
    fn run_generations(&mut self) -> ExitCode {
        let mut old_pod: Option<Pod> = None;
        let mut restart: Option<bool> = None;
        loop {
            let (ending, pod) = self.run_generation(restart, old_pod.take());
            match ending {
                Ending::Stopped => return ExitCode::SUCCESS,
                Ending::Fatal => {
                    self.terminate_children();
                    pidfile::remove(&self.config.pid_file, &self.log);
                    return ExitCode::FAILURE;
                }
                Ending::Restart { graceful } => {
                    if let Err(code) = self.reload() {
                        return code;
                    }
                    restart = Some(graceful);
                    old_pod = pod;
                }
            }
        }
    }

    /// `main.c`'s restart: re-read the configuration; a broken one ends the server (status 1).
    fn reload(&mut self) -> Result<(), ExitCode> {
        let new = match self.started.reload() {
            Ok(c) => c,
            Err(e) => {
                startup_warning(&e.to_string());
                self.log.log("core", Level::Emerg, format_args!("{e}"));
                self.terminate_children();
                pidfile::remove(&self.config.pid_file, &self.log);
                return Err(ExitCode::FAILURE);
            }
        };
        let (cfg, warnings) = check_config(&new.mpm, Some(&self.cfg));
        if let Ok(log) = ErrorLog::open(&new) {
            self.log = log;
        }
        log_warnings(&self.log, &warnings);
        let old = std::mem::take(&mut self.listeners);
        match open_listeners(&new.listen, new.listen_backlog, old, &self.log) {
            Ok(l) if !l.is_empty() => self.listeners = l,
            Ok(_) | Err(_) => {
                self.log.log(MODULE, Level::Alert, format_args!("AH03279: no listening sockets available, shutting down"));
                self.terminate_children();
                pidfile::remove(&self.config.pid_file, &self.log);
                return Err(ExitCode::FAILURE);
            }
        }
        if new.pid_file != self.config.pid_file {
            let _ = pidfile::write(&new.pid_file, &self.log);
        }
        self.started.config = new.clone();
        self.config = Arc::new(new);
        self.cfg = cfg;
        let g = self.scoreboard.global();
        g.set_config_generation(g.config_generation() + 1);
        Ok(())
    }

    /// Pids of every live child, from the scoreboard (the parent's own record of its children).
    fn live_children(&self) -> Vec<(usize, Pid)> {
        (0..self.scoreboard.server_limit())
            .filter_map(|i| {
                let pid = self.scoreboard.process(i).pid();
                (pid > 0).then(|| (i, Pid::from_raw(pid)))
            })
            .collect()
    }

    fn find_child_by_pid(&self, pid: Pid) -> Option<usize> {
        (0..self.scoreboard.server_limit()).find(|&i| self.scoreboard.process(i).pid() == pid.as_raw())
    }

    /// The parent's half of "the child is gone": only the parent marks a slot dead.
    fn note_child_killed(&self, slot: usize) {
        self.scoreboard.worker(slot, 0).set_status(WorkerStatus::Dead);
        self.scoreboard.process(slot).set_pid(0);
    }

    /// SIGTERM every child and reclaim them on Apache's schedule (§6.4).
    fn terminate_children(&self) {
        let live = self.live_children();
        let pids: Vec<Pid> = live.iter().map(|&(_, p)| p).collect();
        reclaim::reclaim_child_processes(&pids, true, &self.log, MODULE);
        for (slot, _) in live {
            self.note_child_killed(slot);
        }
    }

    /// `make_child`: fork one child into `slot`.
    fn make_child(&mut self, gen: &Generation, slot: usize) {
        self.scoreboard.worker(slot, 0).set_status(WorkerStatus::Starting);
        // SAFETY: the parent is single-threaded (it never starts a thread), so the child's copy of
        // every lock and buffer is consistent; log lines are single write(2)s, nothing is buffered.
        match unsafe { fork() } {
            Ok(ForkResult::Child) => child::child_main(ChildCtx {
                slot,
                generation: self.generation,
                scoreboard: &self.scoreboard,
                listeners: &self.listeners,
                pod: Some(&gen.pod),
                identity: &gen.identity,
                server: &gen.server,
                log: &self.log,
                max_connections: self.cfg.max_connections_per_child,
                one_process: false,
            }),
            Ok(ForkResult::Parent { child }) => {
                let p = self.scoreboard.process(slot);
                p.set_generation(self.generation);
                p.set_pid(child.as_raw());
                self.retained.max_daemons_limit = self.retained.max_daemons_limit.max(slot + 1);
            }
            Err(e) => {
                self.scoreboard.worker(slot, 0).set_status(WorkerStatus::Dead);
                self.log.log(MODULE, Level::Error, format_args!("({}) {e}: AH00159: fork: Unable to fork new process", e as i32));
                // Apache sleeps 10 s so that a fork bomb does not spin; signals still stop us.
                if let Some(sig) = self.signals.wait(Duration::from_secs(10)) {
                    self.pending.get_or_insert(sig);
                }
            }
        }
    }

    /// `startup_children`: fork up to `n` children into the lowest dead slots below
    /// MaxRequestWorkers.
    fn startup_children(&mut self, gen: &Generation, mut n: usize) {
        for slot in 0..self.cfg.max_request_workers {
            if n == 0 {
                break;
            }
            if self.scoreboard.worker(slot, 0).status() != WorkerStatus::Dead {
                continue;
            }
            self.make_child(gen, slot);
            n -= 1;
        }
    }

    /// Steps 1–6 for one generation. `restart`: `None` at the first start, else whether the
    /// restart is graceful. Returns how it ended and this generation's pipe of death (the next
    /// generation uses it to wake the idle old children).
    fn run_generation(&mut self, restart: Option<bool>, old_pod: Option<Pod>) -> (Ending, Option<Pod>) {
        let was_graceful = restart == Some(true);
        // Step 1.
        if let Some(graceful) = restart {
            if graceful {
                if let (Some(pod), Some(addr)) = (&old_pod, dummy_addr(&self.listeners)) {
                    pod.killpg(&self.scoreboard, self.retained.max_daemons_limit, addr);
                }
                for (slot, pid) in self.live_children() {
                    // Rule 42: old children show G until they are reaped.
                    self.scoreboard.worker(slot, 0).set_status(WorkerStatus::Graceful);
                    let _ = kill(pid, Signal::SIGUSR1);
                }
            } else {
                let live = self.live_children();
                for &(_, pid) in &live {
                    if let Err(e) = kill(pid, Signal::SIGHUP) {
                        self.log.log(MODULE, Level::Warn, format_args!("({}) {e}: AH00172: killpg SIGHUP", e as i32));
                    }
                }
                let pids: Vec<Pid> = live.iter().map(|&(_, p)| p).collect();
                reclaim::reclaim_child_processes(&pids, false, &self.log, MODULE);
                for (slot, _) in live {
                    self.note_child_killed(slot);
                }
            }
            drop(old_pod);
            self.generation += 1;
        }
        // Step 2.
        if !was_graceful {
            if restart.is_some() {
                self.scoreboard.reset();
            }
            self.retained.idle_spawn_rate = 1;
        }
        self.scoreboard.global().set_running_generation(self.generation);
        let gen = match self.new_generation(was_graceful) {
            Ok(g) => g,
            Err(e) => {
                self.log.log(MODULE, Level::Crit, format_args!("AH03281: could not open pipe-of-death: {e}"));
                return (Ending::Fatal, None);
            }
        };
        let mut gen = gen;
        // Step 3.
        if was_graceful {
            self.retained.hold_off_on_exponential_spawning = GRACEFUL_HOLD_OFF;
        } else {
            let n = gen.remaining_children_to_start;
            gen.remaining_children_to_start = 0;
            self.startup_children(&gen, n);
        }
        // Step 4.
        log_started(&self.log, &self.started);
        // Step 5.
        self.pending = None;
        while self.pending.is_none() {
            if let Some(ending) = self.reap_one(&mut gen) {
                return (ending, Some(gen.pod));
            }
        }
        // Step 6.
        let ending = match self.pending.take() {
            Some(ParentSignal::Stop) | None => {
                self.terminate_children();
                pidfile::remove(&self.config.pid_file, &self.log);
                self.log.log(MODULE, Level::Notice, format_args!("AH00169: caught SIGTERM, shutting down"));
                Ending::Stopped
            }
            Some(ParentSignal::GracefulStop) => {
                self.graceful_stop(&gen);
                Ending::Stopped
            }
            Some(ParentSignal::GracefulRestart) => {
                self.log.log(MODULE, Level::Notice, format_args!("AH00171: Graceful restart requested, doing restart"));
                Ending::Restart { graceful: true }
            }
            Some(ParentSignal::Restart) => {
                self.log.log(MODULE, Level::Notice, format_args!("AH00173: SIGHUP received.  Attempting to restart"));
                Ending::Restart { graceful: false }
            }
        };
        (ending, Some(gen.pod))
    }

    /// What a generation's children share: a fresh pipe of death, the HTTP context, User/Group.
    fn new_generation(&mut self, was_graceful: bool) -> std::io::Result<Generation> {
        let pod = Pod::new()?;
        // Several listeners: children poll them all and lose accept races, so the sockets must not
        // block (Apache takes an accept mutex instead). One listener: a blocking accept, as Apache.
        let several = self.listeners.len() > 1;
        for l in &self.listeners {
            l.listener.set_nonblocking(several)?;
        }
        let identity = Identity::resolve(&self.config.user, &self.config.group)
            .map_err(|e| std::io::Error::other(e.to_string()))?;
        let server = http_server(&self.config, &self.log, &self.scoreboard, &self.cfg)?;
        Ok(Generation {
            pod,
            server,
            identity,
            remaining_children_to_start: self.cfg.children_to_start(),
            was_graceful,
        })
    }

    /// One turn of step 5 (`ap_wait_or_timeout` + what `prefork_run` does with it). Returns
    /// `Some` when the generation must end at once (fatal child exit).
    fn reap_one(&mut self, gen: &mut Generation) -> Option<Ending> {
        // a. Reap without waiting.
        match waitpid(Pid::from_raw(-1), Some(WaitPidFlag::WNOHANG)) {
            Ok(status @ (WaitStatus::Exited(..) | WaitStatus::Signaled(..))) => {
                return self.child_exited(gen, status);
            }
            Ok(_) | Err(_) => {}
        }
        // b. Nothing reaped: sleep up to a second, woken early only by a signal.
        if let Some(sig) = self.signals.wait(Duration::from_secs(1)) {
            self.pending = Some(sig);
            return None;
        }
        // c.
        if gen.remaining_children_to_start > 0 {
            // A quiet second after a graceful restart: the old children that were going to leave
            // at once have left; fork the rest of the budget. Skip maintenance: the children just
            // forked are not idle yet.
            let n = gen.remaining_children_to_start;
            gen.remaining_children_to_start = 0;
            self.startup_children(gen, n);
            return None;
        }
        self.perform_idle_server_maintenance(gen);
        None
    }

    /// A reaped child (step 5a).
    fn child_exited(&mut self, gen: &mut Generation, status: WaitStatus) -> Option<Ending> {
        let Some(pid) = status.pid() else { return None };
        let exit = process_child_status(pid, status, &self.log, MODULE);
        let slot = self.find_child_by_pid(pid);
        if exit == ChildExit::Fatal {
            // Rule 56: fatal in the current generation stops the server; an old generation's
            // child may fail while its world is being torn down (PR 39311).
            let current = slot.is_none_or(|s| self.scoreboard.process(s).generation() == self.generation);
            if current {
                return Some(Ending::Fatal);
            }
            self.log.log(
                MODULE,
                Level::Warn,
                format_args!("AH00166: Ignoring fatal error in child of previous generation (pid {pid})."),
            );
        }
        match slot {
            Some(slot) => {
                self.note_child_killed(slot);
                if exit == ChildExit::Sick {
                    self.retained.idle_spawn_rate = 1;
                } else if gen.remaining_children_to_start > 0 && slot < self.cfg.max_request_workers {
                    // Graceful restart: replace old children one for one while the budget lasts.
                    self.make_child(gen, slot);
                    gen.remaining_children_to_start -= 1;
                }
            }
            None if gen.was_graceful => {
                self.log.log(MODULE, Level::Warn, format_args!("AH00167: long lost child came home! (pid {pid})"));
            }
            None => {}
        }
        None
    }

    /// Step 5c: decide, then act.
    fn perform_idle_server_maintenance(&mut self, gen: &Generation) {
        let view = ScoreboardView::from_scoreboard(&self.scoreboard, self.cfg.max_request_workers);
        let (decision, retained) = decide(&view, &self.cfg, &self.retained, self.born.elapsed());
        self.retained = retained;
        match decision {
            Decision::StopOne { .. } => {
                if let Some(addr) = dummy_addr(&self.listeners) {
                    gen.pod.signal(addr);
                }
            }
            Decision::Spawn { slots, busy } => {
                if let Some(b) = busy {
                    self.log.log(MODULE, Level::Info, format_args!("{}", b.message()));
                }
                for slot in slots {
                    self.make_child(gen, slot);
                }
            }
            Decision::ReachedMaxRequestWorkers { report: true } => {
                self.log.log(MODULE, Level::Error, format_args!("{AH00161}"));
            }
            Decision::ReachedMaxRequestWorkers { report: false } | Decision::Nothing => {}
        }
    }

    /// Reap every child that has exited, without waiting (`ap_relieve_child_processes`).
    fn relieve_children(&self) {
        while let Ok(status @ (WaitStatus::Exited(..) | WaitStatus::Signaled(..))) =
            waitpid(Pid::from_raw(-1), Some(WaitPidFlag::WNOHANG))
        {
            if let Some(slot) = status.pid().and_then(|p| self.find_child_by_pid(p)) {
                self.note_child_killed(slot);
            }
        }
    }

    /// Step 6, SIGWINCH.
    fn graceful_stop(&mut self, gen: &Generation) {
        let addr = dummy_addr(&self.listeners);
        // Stop listening: the port is released once the children have closed theirs too.
        self.listeners.clear();
        if let Some(addr) = addr {
            gen.pod.killpg(&self.scoreboard, self.retained.max_daemons_limit, addr);
        }
        for (_, pid) in self.live_children() {
            let _ = kill(pid, Signal::SIGUSR1);
        }
        self.relieve_children();
        pidfile::remove(&self.config.pid_file, &self.log);
        self.log.log(MODULE, Level::Notice, format_args!("AH00170: caught SIGWINCH, shutting down gracefully"));
        let timeout = self.cfg.graceful_shutdown_timeout;
        let cutoff = Instant::now() + timeout;
        loop {
            if let Some(ParentSignal::Stop) = self.signals.wait(Duration::from_secs(1)) {
                break;
            }
            self.relieve_children();
            let alive = self.live_children().iter().any(|&(_, pid)| kill(pid, None).is_ok());
            if !alive || (!timeout.is_zero() && Instant::now() >= cutoff) {
                break;
            }
        }
        // Whatever is left is ended now (Apache: killpg SIGTERM); reap it too.
        self.terminate_children();
    }
}
