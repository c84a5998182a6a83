//! The control process: fork children, run maintenance every quiet second, obey signals.
//!
//! Source: Apache `event.c: event_run`, `server_main_loop`, `startup_children`, `make_child`,
//! `event_note_child_stopped`, and `mpm_common.c: ap_wait_or_timeout`. Spec:
//! apache-mpm-rules.md §1, §3.3, §3.5, §6; rules 10, 41, 43–50.
//!
//! # The parent's life (numbered)
//!
//! 1. Check the MPM config (warnings to the console), open the error log and the listening
//!    sockets, write the pid file, create the scoreboard and the pipe of death, install the
//!    signal handling.
//! 2. Cold start: fork StartServers children at once into the lowest slots; log AH00489,
//!    AH00490, AH00094.
//! 3. Main loop tick: reap exited children (a tick that reaped skips maintenance and does
//!    not sleep, rule 10); otherwise wait up to 1 s for a signal; then either fork what is
//!    left of a graceful restart's StartServers budget, or run [`maintenance::decide`].
//! 4. SIGTERM/SIGINT: RESTART bytes, reclaim, remove the pid file, AH00491.
//!    SIGWINCH: close listeners, GRACEFUL bytes, remove the pid file, AH00492, wait for the
//!    children (GracefulShutdownTimeout), then as SIGTERM.
//!    SIGHUP: AH00494, RESTART bytes, reclaim, new generation, fresh scoreboard, re-read the
//!    config, back to 2. SIGUSR1: new generation, AH00493, GRACEFUL bytes to the old
//!    children, re-read the config, back to 3 with the StartServers budget and 10 ticks of
//!    spawn-rate hold-off.
//!
//! Forking and reaping (steps 2–3) are in `parent/children.rs`, stopping (step 4's SIGTERM and
//! SIGWINCH) in `parent/stopping.rs`.

use std::net::TcpListener;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use httpd_core::child_status::{self, ChildExit};
use httpd_core::config::ServerConfig;
use httpd_core::listen::{self, Listener};
use httpd_core::log::{ErrorLog, Level};
use httpd_core::pod::{Pod, PodxMsg};
use httpd_core::scoreboard::Scoreboard;
use httpd_core::signals::{ParentSignal, ParentSignals};
use httpd_core::startup::Started;
use httpd_core::threaded::SuccessiveKills;
use httpd_core::threaded::view::ScoreboardView;
use httpd_core::unixd::Identity;
use httpd_core::{SERVER_BUILT, SERVER_VERSION, pidfile, reclaim};
use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use nix::unistd::{ForkResult, Pid, fork};

use crate::child::{self, ChildArgs};
use crate::config::{EventConfig, FirstLimits, check_config};
use crate::maintenance::{Decision, Retained, decide};

mod children;
mod stopping;

const MODULE: &str = "mpm_event";

/// Why the main loop returned.
enum Exit {
    Stop,
    GracefulStop,
    Restart {
        graceful: bool,
    },
    /// A fatal child or a give-up: stop like SIGTERM, exit status 1.
    Fatal,
}

struct Parent {
    started: Started,
    config: Arc<ServerConfig>,
    ev: EventConfig,
    first: FirstLimits,
    log: ErrorLog,
    listeners: Vec<Listener>,
    identity: Option<Identity>,
    scoreboard: Arc<Scoreboard>,
    pod: Pod,
    signals: ParentSignals,
    generation: u64,
    retained: Retained,
}

/// Print check_config's warnings: the long form on the console at start-up, the short form in
/// the error log on a restart (§2).
fn report_warnings(warnings: &[crate::config::ConfigWarning], log: Option<&ErrorLog>) {
    for w in warnings {
        match log {
            None => httpd_core::log::startup_warning(&w.text),
            Some(log) => {
                let level = if w.info { Level::Info } else { Level::Warn };
                log.log(MODULE, level, format_args!("{}", w.text));
            }
        }
    }
}

/// Apache rejects a bad AsyncRequestWorkerFactor while parsing (`set_worker_factor`), as
/// "AH00526: Syntax error on line N of FILE:" plus the reason. httpd-core keeps the raw text,
/// so we find the line again: the last one spelling the directive, as the last one wins.
fn factor_syntax_error(cfg: &ServerConfig, e: crate::config::FactorError) -> String {
    let located = cfg.config_file.as_ref().and_then(|path| {
        let text = std::fs::read_to_string(path).ok()?;
        let line = text.lines().enumerate().filter(|(_, l)| {
            l.trim_start()
                .get(..24)
                .is_some_and(|d| d.eq_ignore_ascii_case("AsyncRequestWorkerFactor"))
        });
        line.last()
            .map(|(n, _)| (n + 1, path.display().to_string()))
    });
    match located {
        Some((n, file)) => format!("AH00526: Syntax error on line {n} of {file}:\n{e}"),
        None => format!("AH00526: Syntax error in AsyncRequestWorkerFactor:\n{e}"),
    }
}

/// check_config at first start, for `-t` (startup step 4): the console warnings, or the
/// AsyncRequestWorkerFactor syntax error.
pub fn console_check(cfg: &ServerConfig) -> Result<Vec<String>, String> {
    match check_config(&cfg.mpm, None) {
        Ok(c) => Ok(c
            .warnings
            .into_iter()
            .filter(|w| !w.info)
            .map(|w| w.text)
            .collect()),
        Err(e) => Err(factor_syntax_error(cfg, e)),
    }
}

/// The whole server (step 1, then the loop of restarts).
pub fn run(started: Started) -> ExitCode {
    let config = Arc::new(started.config.clone());
    let checked = match check_config(&config.mpm, None) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{}", factor_syntax_error(&config, e));
            return ExitCode::from(1);
        }
    };
    report_warnings(&checked.warnings, None);
    let ev = checked.config;
    // Listeners, error log, then detach for `-k start` (httpd_core::service, steps 1-3).
    let (log, listeners) = match started.open_logs() {
        Ok(o) => (o.log, o.listeners),
        Err(code) => return code,
    };
    let scoreboard = match Scoreboard::create(ev.server_limit, ev.thread_limit) {
        Ok(sb) => Arc::new(sb),
        Err(e) => {
            log.log(
                "core",
                Level::Crit,
                format_args!("AH00004: Unable to create or access scoreboard: {e}"),
            );
            return ExitCode::from(1);
        }
    };
    if started.one_process {
        return one_process(&config, &ev, scoreboard, &listeners, log);
    }
    let identity = if nix::unistd::geteuid().is_root() {
        match Identity::resolve(&config.user, &config.group) {
            Ok(id) => Some(id),
            Err(e) => {
                log.log(MODULE, Level::Alert, format_args!("{e}"));
                return ExitCode::from(1);
            }
        }
    } else {
        None
    };
    let pod = match Pod::new() {
        Ok(p) => p,
        Err(e) => {
            log.log(
                MODULE,
                Level::Crit,
                format_args!("AH00479: could not open pipe-of-death: {e}"),
            );
            return ExitCode::from(1);
        }
    };
    let signals = match ParentSignals::install() {
        Ok(s) => s,
        Err(e) => {
            log.log(
                MODULE,
                Level::Crit,
                format_args!("cannot install signal handling: {e}"),
            );
            return ExitCode::from(1);
        }
    };
    if let Err(e) = pidfile::write(&config.pid_file, &log) {
        log.log(
            "core",
            Level::Error,
            format_args!(
                "AH00099: could not create {}: {e}",
                config.pid_file.display()
            ),
        );
    }
    let first = FirstLimits {
        server_limit: ev.server_limit as i64,
        thread_limit: ev.thread_limit as i64,
    };
    let mut parent = Parent {
        started,
        config,
        ev,
        first,
        log,
        listeners,
        identity,
        scoreboard,
        pod,
        signals,
        generation: 0,
        retained: Retained::default(),
    };
    parent.scoreboard.global().set_config_generation(1);
    parent.lifecycle()
}

impl Parent {
    fn lifecycle(&mut self) -> ExitCode {
        // Step 2: cold start.
        let mut remaining = 0;
        self.startup_children(self.ev.start_servers.min(self.ev.active_daemons_limit));
        loop {
            self.log_resuming();
            match self.main_loop(remaining) {
                Exit::Stop => return self.stop(false),
                Exit::Fatal => return self.stop(true),
                Exit::GracefulStop => return self.graceful_stop(),
                Exit::Restart { graceful } => {
                    self.generation += 1;
                    if graceful {
                        self.scoreboard
                            .global()
                            .set_running_generation(self.generation as _);
                        self.log.log(
                            MODULE,
                            Level::Notice,
                            format_args!("AH00493: SIGUSR1 received.  Doing graceful restart"),
                        );
                        let live = self.live_children(false).len();
                        self.pod.killpg_x(live, PodxMsg::Graceful);
                    } else {
                        // Logged before the children are killed, as Apache does.
                        self.log.log(
                            MODULE,
                            Level::Notice,
                            format_args!("AH00494: SIGHUP received.  Attempting to restart"),
                        );
                        let live = self.live_children(true);
                        self.pod.killpg_x(live.len(), PodxMsg::Restart);
                        self.reclaim(&live, true);
                        // Bytes nobody read would stop the next generation's children.
                        while self.pod.try_read_x().is_some() {}
                        self.scoreboard.reset();
                        self.scoreboard
                            .global()
                            .set_running_generation(self.generation as _);
                    }
                    if !self.reload() {
                        return self.stop(true);
                    }
                    if graceful {
                        remaining = self.ev.start_servers.min(self.ev.active_daemons_limit);
                        self.retained.hold_off = 10;
                    } else {
                        remaining = 0;
                        self.startup_children(
                            self.ev.start_servers.min(self.ev.active_daemons_limit),
                        );
                    }
                }
            }
        }
    }

    fn log_resuming(&self) {
        self.log.log(
            MODULE,
            Level::Notice,
            format_args!("AH00489: {SERVER_VERSION} configured -- resuming normal operations"),
        );
        self.log.log(
            MODULE,
            Level::Info,
            format_args!("AH00490: Server built: {SERVER_BUILT}"),
        );
        self.log.log(
            "core",
            Level::Notice,
            format_args!("AH00094: Command line: '{}'", self.started.command_line),
        );
    }

    /// Re-read the configuration after a restart signal; false if it is broken (the parent
    /// then exits with status 1, as Apache's main loop does).
    fn reload(&mut self) -> bool {
        let cfg = match self.started.reload() {
            Ok(c) => c,
            Err(e) => {
                eprintln!("{e}");
                self.log.log(
                    "core",
                    Level::Emerg,
                    format_args!("AH00018: Configuration check failed, exiting"),
                );
                return false;
            }
        };
        let checked = match check_config(&cfg.mpm, Some(self.first)) {
            Ok(c) => c,
            Err(e) => {
                self.log.log(
                    "core",
                    Level::Emerg,
                    format_args!("{}", factor_syntax_error(&cfg, e)),
                );
                return false;
            }
        };
        report_warnings(&checked.warnings, Some(&self.log));
        self.ev = checked.config;
        let old = std::mem::take(&mut self.listeners);
        match listen::open_listeners(&cfg.listen, listen::ListenOptions::of(&cfg), old, &self.log) {
            Ok(l) => self.listeners = l,
            Err(e) => {
                self.log.log(
                    "core",
                    Level::Emerg,
                    format_args!("AH00015: Unable to open logs: {e}"),
                );
                return false;
            }
        }
        // The error log is reopened as prefork's and worker's are (a piped one has a new logger).
        if let Ok(l) = httpd_core::log::ErrorLog::open_main(&cfg) {
            self.log = l;
        }
        self.config = Arc::new(cfg);
        // mod_cgid's daemon of the new configuration, before the new generation (cgid.rs step 5).
        httpd_core::modules::cgid::restart(&self.config, &self.log);
        let g = self.scoreboard.global();
        g.set_config_generation(g.config_generation() + 1);
        true
    }

    /// Step 3 (`server_main_loop`).
    fn main_loop(&mut self, mut remaining: usize) -> Exit {
        let mut kills = SuccessiveKills::default();
        loop {
            let reaped = self.reap();
            match reaped {
                Err(exit) => return exit,
                Ok(slots) if !slots.is_empty() => {
                    for (slot, signaled) in slots {
                        // A graceful restart replaces each old child in its slot while the
                        // StartServers budget lasts (§3.5).
                        if remaining > 0 {
                            self.make_child(slot);
                            remaining -= 1;
                        } else if signaled {
                            // Rule 57: a killed child is replaced at once, twice in a row at most.
                            let verdict = kills.killed();
                            if verdict.warn {
                                self.log.log(
                                    MODULE,
                                    Level::Warn,
                                    format_args!("AH10392: children are killed successively!"),
                                );
                            }
                            if verdict.replace_now {
                                self.make_child(slot);
                            }
                        }
                    }
                    continue; // rule 10: no sleep, no maintenance after a reap
                }
                Ok(_) => kills.quiet(),
            }
            if let Some(sig) = self.signals.wait(Duration::from_secs(1)) {
                return match sig {
                    ParentSignal::Stop => Exit::Stop,
                    ParentSignal::GracefulStop => Exit::GracefulStop,
                    ParentSignal::Restart => Exit::Restart { graceful: false },
                    ParentSignal::GracefulRestart => Exit::Restart { graceful: true },
                };
            }
            if remaining > 0 {
                // First quiet tick after a graceful restart: the rest of the budget at once;
                // the new children are not idle yet, so skip maintenance this tick.
                self.startup_children(remaining);
                remaining = 0;
                continue;
            }
            if let Some(exit) = self.maintenance() {
                return exit;
            }
        }
    }

    /// Run [`decide`] on the live scoreboard and carry it out.
    fn maintenance(&mut self) -> Option<Exit> {
        let view = ScoreboardView::read(
            &self.scoreboard,
            self.ev.server_limit,
            self.ev.threads_per_child,
            self.generation,
        );
        let (out, retained) = decide(&view, &self.ev, &self.retained);
        self.retained = retained;
        for line in &out.log {
            self.log
                .log(MODULE, line.level, format_args!("{}", line.text));
        }
        match out.decision {
            Decision::StopOne => self.pod.signal_x(PodxMsg::Graceful),
            Decision::Spawn { slots } => {
                for slot in slots {
                    self.make_child(slot);
                }
            }
            Decision::GiveUp => return Some(Exit::Fatal),
            Decision::Nothing
            | Decision::WaitForStopping
            | Decision::AtMaxRequestWorkers
            | Decision::ScoreboardFull
            | Decision::SpawnCancelled => {}
        }
        None
    }
}

/// `-X`: one process, no fork, slot 0; SIGTERM/SIGINT stop it.
fn one_process(
    config: &Arc<ServerConfig>,
    ev: &EventConfig,
    scoreboard: Arc<Scoreboard>,
    listeners: &[Listener],
    log: ErrorLog,
) -> ExitCode {
    if let Err(e) = pidfile::write(&config.pid_file, &log) {
        log.log(
            "core",
            Level::Error,
            format_args!(
                "AH00099: could not create {}: {e}",
                config.pid_file.display()
            ),
        );
    }
    scoreboard.global().set_config_generation(1);
    let ps = scoreboard.process(0);
    ps.set_pid(nix::unistd::getpid().as_raw());
    ps.set_generation(0);
    log.log(
        MODULE,
        Level::Notice,
        format_args!("AH00489: {SERVER_VERSION} configured -- resuming normal operations"),
    );
    log.log(
        MODULE,
        Level::Info,
        format_args!("AH00490: Server built: {SERVER_BUILT}"),
    );
    let code = child::child_main(ChildArgs {
        slot: 0,
        config: Arc::clone(config),
        event: ev,
        scoreboard,
        listeners: listeners
            .iter()
            .filter_map(|l| l.listener.try_clone().ok())
            .collect(),
        pod: None,
        log: log.clone(),
        identity: None,
    });
    pidfile::remove(&config.pid_file, &log);
    log.log(
        MODULE,
        Level::Notice,
        format_args!("AH00491: caught SIGTERM, shutting down"),
    );
    ExitCode::from(u8::try_from(code).unwrap_or(1))
}
