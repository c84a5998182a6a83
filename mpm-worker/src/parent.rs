//! The control process: start children, keep the right number of them, obey signals.
//!
//! Source: Apache `server/mpm/worker/worker.c: worker_run, server_main_loop, make_child,
//! startup_children, worker_note_child_killed` and `server/mpm_common.c: ap_wait_or_timeout`;
//! spec apache-mpm-rules.md §1.1, §3.5, §6, rules 10, 41, 44–50, 57.
//!
//! # The main loop (`server_main_loop`), one iteration
//! 1. Reap one exited child without blocking (`waitpid(WNOHANG)`). If one was reaped: note its
//!    exit status (child_status), mark its slot dead, replace it at once while a graceful
//!    restart's start-up budget lasts, and — if it was killed by a signal — replace it at once
//!    up to 2 times in a row (the 3rd successive kill logs AH10393, rule 57). Then go to 1
//!    **without** maintenance (rule 10).
//! 2. Otherwise wait up to 1 s for a signal. A signal ends the loop (stop, graceful stop,
//!    restart, graceful restart).
//! 3. A quiet second: first fork what is left of the start-up budget (and skip maintenance:
//!    those children are not idle yet), else run [`decide`] for each bucket and execute it.
//!
//! The parent only writes what the scoreboard rules give it: a slot's pid and generation
//! (before a child runs) and DEAD for every thread of a reaped child.

use std::collections::HashMap;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use httpd_core::ap_log;
use httpd_core::child_status::{ChildExit, process_child_status};
use httpd_core::config::ServerConfig;
use httpd_core::http::{HttpServer, StatusContext};
use httpd_core::listen::Listener;
use httpd_core::log::{AccessLog, ErrorLog};
use httpd_core::pod::{Pod, PodxMsg};
use httpd_core::scoreboard::{Scoreboard, WorkerStatus};
use httpd_core::signals::{ParentSignal, ParentSignals};
use httpd_core::startup::Started;
use httpd_core::status::MpmStatusInfo;
use httpd_core::threaded::view::ScoreboardView;
use httpd_core::unixd::Identity;
use httpd_core::{SERVER_BUILT, SERVER_VERSION, pidfile};
use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use nix::unistd::{ForkResult, Pid, fork};

use crate::child::{ChildArgs, child_main};
use crate::config::{FirstLimits, WorkerConfig, check_config, deprecation_notes};
use crate::maintenance::{Decision, Retained, decide};

pub(crate) const MODULE: &str = "mpm_worker";

/// Graceful restarts leave this many maintenance passes without rate doubling (`worker_run`).
pub(crate) const HOLD_OFF_PASSES: u32 = 10;

/// Why the main loop ended.
pub(crate) enum LoopEnd {
    Stop,
    GracefulStop,
    Restart {
        graceful: bool,
    },
    /// A child of the current generation exited with APEXIT_CHILDFATAL, or AH02325.
    Fatal,
}

/// The control process's state (Apache's `retained` data plus the globals of worker.c).
pub(crate) struct Parent {
    pub(crate) started: Started,
    pub(crate) config: Arc<ServerConfig>,
    pub(crate) wcfg: WorkerConfig,
    pub(crate) first: FirstLimits,
    pub(crate) log: ErrorLog,
    pub(crate) sb: Arc<Scoreboard>,
    pub(crate) listeners: Vec<Listener>,
    pub(crate) pod: Pod,
    pub(crate) signals: ParentSignals,
    pub(crate) identity: Identity,
    pub(crate) server: HttpServer,
    pub(crate) generation: u64,
    pub(crate) retained: Retained,
    /// Processes that lost their slot to a squatting new child, with their generation
    /// (`worker_note_child_lost_slot`, `ap_register_extra_mpm_process`).
    pub(crate) extras: HashMap<Pid, u64>,
}

/// `worker_run` and its restarts: the whole life of the control process.
pub(crate) fn run(started: Started) -> ExitCode {
    let (wcfg, warnings) = check_config(&started.config.mpm, None, 1);
    for w in started.config.startup_warnings.iter() {
        httpd_core::log::startup_warning(w);
    }
    for w in &warnings {
        httpd_core::log::startup_warning(&w.startup);
    }
    let mut p = match Parent::new(started, wcfg) {
        Ok(p) => p,
        Err(code) => return code,
    };
    if p.started.one_process {
        return p.one_process();
    }
    let mut remaining = 0;
    p.startup_children(p.wcfg.children_to_start());
    p.log_resuming();
    loop {
        match p.server_main_loop(remaining) {
            LoopEnd::Stop => return p.stop(),
            LoopEnd::GracefulStop => return p.graceful_stop(),
            LoopEnd::Fatal => {
                p.kill_children(PodxMsg::Restart);
                return ExitCode::from(1);
            }
            LoopEnd::Restart { graceful } => match p.restart(graceful) {
                Ok(r) => remaining = r,
                Err(code) => return code,
            },
        }
    }
}

impl Parent {
    pub(crate) fn new(started: Started, wcfg: WorkerConfig) -> Result<Parent, ExitCode> {
        let cfg = &started.config;
        let fail = |what: &str, e: &dyn std::fmt::Display| {
            eprintln!("mpm-worker: {what}: {e}");
            ExitCode::from(1)
        };
        // Listeners, error log, then detach for `-k start` (httpd_core::service, steps 1-3).
        let httpd_core::service::Opened { log, listeners } = started.open_logs()?;
        for note in deprecation_notes(&cfg.mpm) {
            ap_log!(log, MODULE, Info, "{note}");
        }
        let identity = Identity::resolve(&cfg.user, &cfg.group)
            .map_err(|e| fail("cannot resolve User/Group", &e))?;
        let sb = Arc::new(
            Scoreboard::create(wcfg.server_limit, wcfg.thread_limit)
                .map_err(|e| fail("cannot create the scoreboard", &e))?,
        );
        let signals = ParentSignals::install().map_err(|e| fail("cannot install signals", &e))?;
        let pod = Pod::new().map_err(|e| fail("cannot create the pipe of death", &e))?;
        if let Err(e) = pidfile::write(&cfg.pid_file, &log) {
            return Err(fail("cannot write the PidFile", &e));
        }
        let config = Arc::new(cfg.clone());
        let server = new_http_server(&config, &log, &sb, &wcfg)
            .map_err(|e| fail("cannot open the access log", &e))?;
        sb.global().set_running_generation(0);
        sb.global().set_config_generation(1);
        Ok(Parent {
            first: FirstLimits {
                server_limit: wcfg.server_limit,
                thread_limit: wcfg.thread_limit,
            },
            retained: Retained::new(wcfg.num_buckets),
            started,
            config,
            wcfg,
            log,
            sb,
            listeners,
            pod,
            signals,
            identity,
            server,
            generation: 0,
            extras: HashMap::new(),
        })
    }

    /// AH00292, AH00293 and core's AH00094 after every (re)start (rule 49).
    pub(crate) fn log_resuming(&self) {
        ap_log!(
            self.log,
            MODULE,
            Notice,
            "AH00292: {SERVER_VERSION} configured -- resuming normal operations"
        );
        ap_log!(
            self.log,
            MODULE,
            Info,
            "AH00293: Server built: {SERVER_BUILT}"
        );
        ap_log!(
            self.log,
            "core",
            Notice,
            "AH00094: Command line: '{}'",
            self.started.command_line
        );
    }

    /// `startup_children`: fork `n` children into the lowest slots without a process.
    pub(crate) fn startup_children(&mut self, n: usize) {
        let mut left = n;
        for slot in 0..self.wcfg.daemons_limit {
            if left == 0 {
                break;
            }
            if self.sb.process(slot).pid() != 0 {
                continue;
            }
            self.make_child(slot);
            left -= 1;
        }
    }

    /// `make_child`: fork one child into `slot`.
    #[allow(unsafe_code)]
    pub(crate) fn make_child(&mut self, slot: usize) {
        let old_pid = self.sb.process(slot).pid();
        let args = ChildArgs {
            wcfg: &self.wcfg,
            sb: &self.sb,
            listeners: &self.listeners,
            pod: Some(&self.pod),
            log: &self.log,
            identity: &self.identity,
            server: &self.server,
            generation: self.generation,
            slot,
        };
        // SAFETY: the control process is single-threaded (it never spawns threads: signals come
        // through a signalfd, logs are plain write(2)s), so the child starts with consistent
        // memory and no lock held by a vanished thread. The child only returns from
        // `child_main` by exiting the process.
        match unsafe { fork() } {
            Ok(ForkResult::Child) => {
                ParentSignals::child_reset();
                let code = child_main(&args);
                // The child pool's cleanup: BufferedLogs' last lines (`flush_all_logs`).
                httpd_core::log::flush_buffered_logs();
                std::process::exit(code);
            }
            Ok(ForkResult::Parent { child }) => {
                if old_pid != 0 {
                    // The new child squats on the slot of an old one that is still finishing
                    // its connections; keep tracking the old pid so it can be reaped.
                    ap_log!(
                        self.log,
                        MODULE,
                        Debug,
                        "AH00263: pid {} taking over scoreboard slot from {} (quiescing)",
                        child,
                        old_pid
                    );
                    let old_gen = u64::from(self.sb.process(slot).generation());
                    self.extras.insert(Pid::from_raw(old_pid), old_gen);
                }
                let ps = self.sb.process(slot);
                ps.set_quiescing(0);
                ps.set_generation(self.generation as _);
                ps.set_pid(child.as_raw());
            }
            Err(e) => {
                ap_log!(
                    self.log,
                    MODULE,
                    Error,
                    "({}){}: AH00283: fork: Unable to fork new process",
                    e as i32,
                    e.desc()
                );
                // Apache sleeps 10 s so a fork storm cannot eat the machine.
                std::thread::sleep(Duration::from_secs(10));
            }
        }
    }

    pub(crate) fn slot_of(&self, pid: Pid) -> Option<usize> {
        (0..self.sb.server_limit()).find(|&s| self.sb.process(s).pid() == pid.as_raw())
    }

    /// `worker_note_child_killed` plus the scoreboard clean-up of `server_main_loop`.
    pub(crate) fn note_child_killed(&self, slot: usize) {
        for t in 0..self.wcfg.threads_per_child {
            self.sb.worker(slot, t).set_status(WorkerStatus::Dead);
        }
        let ps = self.sb.process(slot);
        ps.set_quiescing(0);
        ps.set_pid(0);
    }

    pub(crate) fn live_pids(&self) -> Vec<Pid> {
        let mut pids: Vec<Pid> = (0..self.sb.server_limit())
            .map(|s| self.sb.process(s).pid())
            .filter(|&p| p != 0)
            .map(Pid::from_raw)
            .collect();
        pids.extend(self.extras.keys().copied());
        pids
    }

    /// Steps 1–3 of the module doc, until a signal or a fatal child.
    fn server_main_loop(&mut self, mut remaining: usize) -> LoopEnd {
        let mut kills = httpd_core::threaded::SuccessiveKills::default();
        loop {
            // Step 1: reap without blocking.
            match waitpid(Pid::from_raw(-1), Some(WaitPidFlag::WNOHANG)) {
                Ok(status @ (WaitStatus::Exited(..) | WaitStatus::Signaled(..))) => {
                    let pid = status
                        .pid()
                        .expect("exited and signaled statuses carry a pid");
                    let exit = process_child_status(pid, status, &self.log, MODULE);
                    let slot = self.slot_of(pid);
                    if exit == ChildExit::Fatal {
                        let current = slot.is_none_or(|s| {
                            u64::from(self.sb.process(s).generation()) == self.generation
                        });
                        if current {
                            if let Some(s) = slot {
                                self.note_child_killed(s);
                            }
                            return LoopEnd::Fatal;
                        }
                        ap_log!(
                            self.log,
                            MODULE,
                            Warn,
                            "AH00290: Ignoring fatal error in child of previous generation (pid {pid})."
                        );
                        self.retained.sick_child_detected = true;
                    } else if exit == ChildExit::Sick {
                        self.retained.sick_child_detected = true;
                    }
                    if let Some(s) = slot {
                        self.note_child_killed(s);
                        if exit == ChildExit::Sick {
                            self.retained.idle_spawn_rate[s % self.wcfg.num_buckets] =
                                Default::default();
                        } else if remaining > 0 && s < self.wcfg.daemons_limit {
                            self.make_child(s);
                            remaining -= 1;
                        }
                    } else if self.extras.remove(&pid).is_some() {
                        // An old process that had lost its slot to a squatter.
                    } else {
                        // mod_cgid's daemon is re-forked, a piped logger restarted (other children).
                        httpd_core::mpm_common::other_child_alert(pid);
                    }
                    let signaled = matches!(status, WaitStatus::Signaled(..));
                    if slot.is_none() || !signaled {
                        continue;
                    }
                    let verdict = kills.killed();
                    if verdict.warn {
                        ap_log!(
                            self.log,
                            MODULE,
                            Warn,
                            "AH10393: children are killed successively!"
                        );
                    }
                    if !verdict.replace_now {
                        continue;
                    }
                    // Killed by a signal: replace it at once (rule 57).
                    remaining += 1;
                }
                Ok(_) | Err(_) => {
                    kills.quiet();
                    // Step 2: the quiet second, cut short by a signal.
                    if let Some(sig) = self.signals.wait(Duration::from_secs(1)) {
                        return match sig {
                            ParentSignal::Stop => LoopEnd::Stop,
                            ParentSignal::GracefulStop => LoopEnd::GracefulStop,
                            ParentSignal::Restart => LoopEnd::Restart { graceful: false },
                            ParentSignal::GracefulRestart => LoopEnd::Restart { graceful: true },
                        };
                    }
                }
            }
            // Step 3.
            if remaining > 0 {
                self.startup_children(remaining);
                remaining = 0;
                continue;
            }
            for bucket in 0..self.wcfg.num_buckets {
                if let Some(end) = self.maintenance(bucket) {
                    return end;
                }
            }
        }
    }

    /// One `perform_idle_server_maintenance(bucket)`: decide, log, execute.
    fn maintenance(&mut self, bucket: usize) -> Option<LoopEnd> {
        let view = ScoreboardView::read(
            &self.sb,
            self.wcfg.daemons_limit,
            self.wcfg.threads_per_child,
            self.generation,
        );
        let (tick, retained) = decide(&view, &self.wcfg, &self.retained, bucket);
        self.retained = retained;
        for n in &tick.notes {
            if self.log.enabled(MODULE, n.level) {
                self.log.log(MODULE, n.level, format_args!("{}", n.text));
            }
        }
        match tick.decision {
            Decision::StopOne => self.pod.signal_x(PodxMsg::Graceful),
            Decision::Spawn { slots } => {
                for s in slots {
                    self.make_child(s);
                }
            }
            Decision::GiveUp => return Some(LoopEnd::Fatal),
            Decision::Nothing | Decision::NoRoom | Decision::Skip => {}
        }
        None
    }
}

/// The per-generation HTTP context, built in the parent so children inherit it.
pub(crate) fn new_http_server(
    config: &Arc<ServerConfig>,
    log: &ErrorLog,
    sb: &Arc<Scoreboard>,
    wcfg: &WorkerConfig,
) -> std::io::Result<HttpServer> {
    let access_log = AccessLog::open(config)?;
    let status = StatusContext {
        scoreboard: sb.clone(),
        info: MpmStatusInfo {
            mpm: "worker",
            is_async: false,
            threads_per_child: wcfg.threads_per_child,
            max_daemons: wcfg.daemons_limit,
            server_limit: wcfg.server_limit,
        },
    };
    HttpServer::new(config.clone(), log.clone(), access_log, Some(status))
}
