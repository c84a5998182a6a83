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
//!    once: **no maintenance on a tick that reaped** (rule 10);
//!    b. otherwise wait up to 1 s on the signal fd; a signal ends the loop;
//!    c. start what is left of the restart budget, or run one maintenance pass
//!    ([`maintenance::decide`]) and carry out its decision.
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

use httpd_core::config::ServerConfig;
use httpd_core::http::{HttpServer, StatusContext};
use httpd_core::listen::{ListenOptions, Listener, open_listeners};
use httpd_core::log::{AccessLog, ErrorLog, Level, startup_warning};
use httpd_core::pod::Pod;
use httpd_core::scoreboard::{Scoreboard, WorkerStatus};
use httpd_core::signals::{ParentSignal, ParentSignals};
use httpd_core::startup::{Started, Startup, startup};
use httpd_core::status::MpmStatusInfo;
use httpd_core::unixd::Identity;
use httpd_core::{pidfile, reclaim};
use nix::unistd::{ForkResult, Pid, fork};

mod prefork_run;

use crate::child::{self, ChildCtx};
use crate::config::{PreforkConfig, Warning, check_config};
use crate::maintenance::Retained;

const MODULE: &str = "mpm_prefork";

/// Spawning passes during which the rate does not double after a graceful restart (§3.5).
const GRACEFUL_HOLD_OFF: u32 = 10;

/// The program: shared start-up (command line, `-t`, `-k`, config), then the control process.
pub fn main() -> ExitCode {
    match startup(&crate::IDENT, console_check, std::env::args_os()) {
        Startup::Exit(code) => code,
        Startup::Run(started) => run(*started),
    }
}

/// check_config at first start, for `-t` (startup step 4): the warnings printed on the console.
fn console_check(cfg: &ServerConfig) -> Result<Vec<String>, String> {
    let (_, warnings) = check_config(&cfg.mpm, None);
    Ok(warnings
        .iter()
        .filter(|w| w.to_console)
        .map(ToString::to_string)
        .collect())
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
    generation: u32,
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
            let level = if w.info_only {
                Level::Info
            } else {
                Level::Warn
            };
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
    for w in warnings.iter().filter(|w| w.to_console) {
        startup_warning(&w.to_string());
    }
    for w in &started.config.startup_warnings {
        startup_warning(w);
    }
    // Listeners, error log, then detach for `-k start` (httpd_core::service, steps 1-3).
    let (log, listeners) = match started.open_logs() {
        Ok(o) => (o.log, o.listeners),
        Err(code) => return code,
    };
    let quiet: Vec<Warning> = warnings.into_iter().filter(|w| !w.to_console).collect();
    log_warnings(&log, &quiet);
    let scoreboard = match Scoreboard::create(cfg.server_limit, 1) {
        Ok(sb) => Arc::new(sb),
        Err(e) => {
            log.log(
                MODULE,
                Level::Crit,
                format_args!("AH00004: Unable to create or access scoreboard: {e}"),
            );
            return ExitCode::FAILURE;
        }
    };
    if let Err(e) = pidfile::write(&started.config.pid_file, &log) {
        log.log(
            "core",
            Level::Error,
            format_args!(
                "AH00099: could not create {}: {e}",
                started.config.pid_file.display()
            ),
        );
        return ExitCode::FAILURE;
    }
    if started.one_process {
        return one_process(started, cfg, log, scoreboard, listeners);
    }
    let signals = match ParentSignals::install() {
        Ok(s) => s,
        Err(e) => {
            log.log(
                MODULE,
                Level::Emerg,
                format_args!("cannot install signal handling: {e}"),
            );
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
            log.log(
                MODULE,
                Level::Emerg,
                format_args!("cannot set up HTTP: {e}"),
            );
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
        Some(StatusContext {
            scoreboard: Arc::clone(scoreboard),
            info,
        }),
    )
}

/// Step 4's lines.
fn log_started(log: &ErrorLog, started: &Started) {
    log.log(
        MODULE,
        Level::Notice,
        format_args!(
            "AH00163: {} configured -- resuming normal operations",
            httpd_core::SERVER_VERSION
        ),
    );
    log.log(
        MODULE,
        Level::Info,
        format_args!("AH00164: Server built: {}", httpd_core::SERVER_BUILT),
    );
    log.log(
        "core",
        Level::Notice,
        format_args!("AH00094: Command line: '{}'", started.command_line),
    );
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
        if let Ok(log) = ErrorLog::open_main(&new) {
            self.log = log;
        }
        log_warnings(&self.log, &warnings);
        let old = std::mem::take(&mut self.listeners);
        match open_listeners(&new.listen, ListenOptions::of(&new), old, &self.log) {
            Ok(l) if !l.is_empty() => self.listeners = l,
            Ok(_) | Err(_) => {
                self.log.log(
                    MODULE,
                    Level::Alert,
                    format_args!("AH03279: no listening sockets available, shutting down"),
                );
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
        // mod_cgid's daemon of the new configuration, before the new generation (cgid.rs step 5).
        httpd_core::modules::cgid::restart(&self.config, &self.log);
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
        (0..self.scoreboard.server_limit())
            .find(|&i| self.scoreboard.process(i).pid() == pid.as_raw())
    }

    /// The parent's half of "the child is gone": only the parent marks a slot dead.
    fn note_child_killed(&self, slot: usize) {
        self.scoreboard
            .worker(slot, 0)
            .set_status(WorkerStatus::Dead);
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
    fn make_child(&mut self, this_gen: &Generation, slot: usize) {
        self.scoreboard
            .worker(slot, 0)
            .set_status(WorkerStatus::Starting);
        // SAFETY: the parent is single-threaded (it never starts a thread), so the child's copy of
        // every lock and buffer is consistent; log lines are single write(2)s, nothing is buffered.
        match unsafe { fork() } {
            Ok(ForkResult::Child) => child::child_main(ChildCtx {
                slot,
                generation: self.generation,
                scoreboard: &self.scoreboard,
                listeners: &self.listeners,
                pod: Some(&this_gen.pod),
                identity: &this_gen.identity,
                server: &this_gen.server,
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
                self.scoreboard
                    .worker(slot, 0)
                    .set_status(WorkerStatus::Dead);
                self.log.log(
                    MODULE,
                    Level::Error,
                    format_args!(
                        "({}) {e}: AH00159: fork: Unable to fork new process",
                        e as i32
                    ),
                );
                // Apache sleeps 10 s so that a fork bomb does not spin; signals still stop us.
                if let Some(sig) = self.signals.wait(Duration::from_secs(10)) {
                    self.pending.get_or_insert(sig);
                }
            }
        }
    }

    /// `startup_children`: fork up to `n` children into the lowest dead slots below
    /// MaxRequestWorkers.
    fn startup_children(&mut self, this_gen: &Generation, mut n: usize) {
        for slot in 0..self.cfg.max_request_workers {
            if n == 0 {
                break;
            }
            if self.scoreboard.worker(slot, 0).status() != WorkerStatus::Dead {
                continue;
            }
            self.make_child(this_gen, slot);
            n -= 1;
        }
    }
}
