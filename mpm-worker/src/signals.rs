//! What the control process does for each signal, and `-X`.
//!
//! Source: Apache `server/mpm/worker/worker.c: worker_run` (the code after `server_main_loop`
//! returns, and its start on a restart); spec apache-mpm-rules.md §6.1–§6.3, rules 41, 44–49.
//!
//! | signal | what happens |
//! |---|---|
//! | TERM, INT | RESTART byte × daemons_limit, reclaim (TERM/KILL schedule), remove PidFile, AH00295 |
//! | WINCH | close listeners, GRACEFUL bytes, remove PidFile, AH00296, wait for children (at most GracefulShutdownTimeout), then as TERM |
//! | HUP | AH00298, re-read the config, RESTART bytes + reclaim, reset the scoreboard, generation + 1, StartServers children at once |
//! | USR1 | AH00297, re-read the config, GRACEFUL bytes on the old pipe of death, new pipe, generation + 1; old children are replaced as they exit, the rest of StartServers at the first quiet tick, then 10 passes without rate doubling |

use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use httpd_core::ap_log;
use httpd_core::child_status::process_child_status;
use httpd_core::listen::{ListenOptions, open_listeners};
use httpd_core::log::ErrorLog;
use httpd_core::pidfile;
use httpd_core::pod::{Pod, PodxMsg};
use httpd_core::reclaim::reclaim_child_processes;
use httpd_core::signals::ParentSignal;
use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use nix::unistd::Pid;

use crate::child::{ChildArgs, child_main};
use crate::config::check_config;
use crate::parent::{HOLD_OFF_PASSES, MODULE, Parent, new_http_server};

impl Parent {
    /// Write `daemons_limit` podx bytes, then (for RESTART) reclaim everyone (`worker_run`).
    pub(crate) fn kill_children(&mut self, msg: PodxMsg) {
        self.pod.killpg_x(self.wcfg.daemons_limit, msg);
        if msg == PodxMsg::Restart {
            let pids = self.live_pids();
            for (pid, _) in reclaim_child_processes(&pids, true, &self.log, MODULE) {
                if let Some(s) = self.slot_of(pid) {
                    self.note_child_killed(s);
                }
                self.extras.remove(&pid);
            }
        }
    }

    /// SIGTERM/SIGINT (rule 44): RESTART bytes, reclaim, remove the PidFile, AH00295.
    pub(crate) fn stop(mut self) -> ExitCode {
        self.kill_children(PodxMsg::Restart);
        pidfile::remove(&self.config.pid_file, &self.log);
        ap_log!(
            self.log,
            MODULE,
            Notice,
            "AH00295: caught SIGTERM, shutting down"
        );
        ExitCode::SUCCESS
    }

    /// SIGWINCH (rules 45, 46): close listeners, GRACEFUL bytes, remove the PidFile, AH00296,
    /// then wait for the children, at most GracefulShutdownTimeout, or until a SIGTERM.
    pub(crate) fn graceful_stop(mut self) -> ExitCode {
        self.listeners.clear();
        self.pod
            .killpg_x(self.wcfg.daemons_limit, PodxMsg::Graceful);
        pidfile::remove(&self.config.pid_file, &self.log);
        ap_log!(
            self.log,
            MODULE,
            Notice,
            "AH00296: caught SIGWINCH, shutting down gracefully"
        );
        let cutoff = (self.wcfg.graceful_shutdown_timeout > 0)
            .then(|| Instant::now() + Duration::from_secs(self.wcfg.graceful_shutdown_timeout));
        loop {
            if let Some(ParentSignal::Stop) = self.signals.wait(Duration::from_secs(1)) {
                break;
            }
            while let Ok(status @ (WaitStatus::Exited(..) | WaitStatus::Signaled(..))) =
                waitpid(Pid::from_raw(-1), Some(WaitPidFlag::WNOHANG))
            {
                let pid = status
                    .pid()
                    .expect("exited and signaled statuses carry a pid");
                process_child_status(pid, status, &self.log, MODULE);
                if let Some(s) = self.slot_of(pid) {
                    self.note_child_killed(s);
                }
                self.extras.remove(&pid);
            }
            if self.live_pids().is_empty() || cutoff.is_some_and(|c| Instant::now() >= c) {
                break;
            }
        }
        self.kill_children(PodxMsg::Restart);
        ExitCode::SUCCESS
    }

    /// SIGHUP / SIGUSR1 (rules 41, 47, 48): log, re-read the configuration, stop the old
    /// generation (gracefully or not), start the new one. Returns the graceful start-up budget.
    pub(crate) fn restart(&mut self, graceful: bool) -> Result<usize, ExitCode> {
        if graceful {
            ap_log!(
                self.log,
                MODULE,
                Notice,
                "AH00297: SIGUSR1 received.  Doing graceful restart"
            );
        } else {
            ap_log!(
                self.log,
                MODULE,
                Notice,
                "AH00298: SIGHUP received.  Attempting to restart"
            );
        }
        let new_cfg = match self.started.reload() {
            Ok(c) => c,
            Err(e) => {
                ap_log!(self.log, "core", Alert, "{e}");
                ap_log!(
                    self.log,
                    "core",
                    Alert,
                    "AH00018: Configuration check failed, exiting"
                );
                self.kill_children(PodxMsg::Restart);
                pidfile::remove(&self.config.pid_file, &self.log);
                return Err(ExitCode::from(1));
            }
        };
        // Stop the old generation through the old pipe of death, then open a new one.
        if graceful {
            self.pod
                .killpg_x(self.wcfg.daemons_limit, PodxMsg::Graceful);
        } else {
            self.kill_children(PodxMsg::Restart);
        }
        self.pod = match Pod::new() {
            Ok(p) => p,
            Err(e) => {
                ap_log!(
                    self.log,
                    MODULE,
                    Crit,
                    "AH03292: could not open pipe-of-death: {e}"
                );
                return Err(ExitCode::from(1));
            }
        };
        let (wcfg, warnings) = check_config(&new_cfg.mpm, Some(self.first), 1);
        for w in &warnings {
            ap_log!(self.log, MODULE, Warn, "{}", w.restart);
        }
        if !graceful {
            self.sb.reset();
        }
        self.generation += 1;
        self.sb
            .global()
            .set_running_generation(self.generation as _);
        self.sb
            .global()
            .set_config_generation(self.sb.global().config_generation() + 1);
        let old = std::mem::take(&mut self.listeners);
        self.listeners =
            open_listeners(&new_cfg.listen, ListenOptions::of(&new_cfg), old, &self.log).map_err(
                |e| {
                    ap_log!(self.log, MODULE, Alert, "could not open listeners: {e}");
                    ExitCode::from(1)
                },
            )?;
        if let Ok(l) = ErrorLog::open_main(&new_cfg) {
            self.log = l;
        }
        self.config = Arc::new(new_cfg);
        // mod_cgid's daemon of the new configuration, before the new generation (cgid.rs step 5).
        httpd_core::modules::cgid::restart(&self.config, &self.log);
        self.wcfg = wcfg;
        self.server =
            new_http_server(&self.config, &self.log, &self.sb, &self.wcfg).map_err(|e| {
                ap_log!(
                    self.log,
                    MODULE,
                    Alert,
                    "could not open the access log: {e}"
                );
                ExitCode::from(1)
            })?;
        let to_start = self.wcfg.children_to_start();
        let remaining = if graceful {
            self.retained.hold_off_on_exponential_spawning = HOLD_OFF_PASSES;
            to_start
        } else {
            self.startup_children(to_start);
            0
        };
        self.log_resuming();
        Ok(remaining)
    }

    /// `-X`: no children; this process is the only child (slot 0) until SIGTERM/SIGINT.
    pub(crate) fn one_process(self) -> ExitCode {
        self.log_resuming();
        self.sb.process(0).set_pid(std::process::id() as i32);
        let args = ChildArgs {
            wcfg: &self.wcfg,
            sb: &self.sb,
            listeners: &self.listeners,
            pod: None,
            log: &self.log,
            identity: &self.identity,
            server: &self.server,
            generation: self.generation,
            slot: 0,
        };
        let code = child_main(&args);
        pidfile::remove(&self.config.pid_file, &self.log);
        ap_log!(
            self.log,
            MODULE,
            Notice,
            "AH00295: caught SIGTERM, shutting down"
        );
        ExitCode::from(code as u8)
    }
}
