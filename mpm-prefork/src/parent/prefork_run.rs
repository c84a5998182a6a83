//! One generation of the control process: `prefork_run`'s body, steps 1–6 of the module doc of
//! [`crate::parent`] (restart handling, the one-second loop of `ap_wait_or_timeout`, stops).

use httpd_core::mpm_common::{Turn, wait_or_timeout};
use std::time::{Duration, Instant};

use httpd_core::child_status::{ChildExit, process_child_status};
use httpd_core::log::Level;
use httpd_core::pod::Pod;
use httpd_core::scoreboard::WorkerStatus;
use httpd_core::signals::ParentSignal;
use httpd_core::unixd::Identity;
use httpd_core::{pidfile, reclaim};
use nix::sys::signal::{Signal, kill};
use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use nix::unistd::Pid;

use super::{
    Ending, GRACEFUL_HOLD_OFF, Generation, MODULE, Parent, dummy_addr, http_server, log_started,
};
use crate::maintenance::{AH00161, Decision, ScoreboardView, decide};

impl Parent {
    /// Steps 1–6 for one generation. `restart`: `None` at the first start, else whether the
    /// restart is graceful. Returns how it ended and this generation's pipe of death (the next
    /// generation uses it to wake the idle old children).
    pub(super) fn run_generation(
        &mut self,
        restart: Option<bool>,
        old_pod: Option<Pod>,
    ) -> (Ending, Option<Pod>) {
        let was_graceful = restart == Some(true);
        // Step 1.
        if let Some(graceful) = restart {
            // ASSIGNMENT(graceful-restart): begin
            // HINT(graceful-restart): graceful: wake the idle old children (killpg on the OLD pod), mark every live child's slot G (rule 42), send each SIGUSR1.
            // HINT(graceful-restart): not graceful: SIGHUP every live child (AH00172 on failure), reclaim them, `note_child_killed` their slots.
            // HINT(graceful-restart): either way this is a new generation (rule 41).
            if graceful {
                if let (Some(pod), Some(addr)) = (&old_pod, dummy_addr(&self.listeners)) {
                    pod.killpg(&self.scoreboard, self.retained.max_daemons_limit, addr);
                }
                for (slot, pid) in self.live_children() {
                    // Rule 42: old children show G until they are reaped.
                    self.scoreboard
                        .worker(slot, 0)
                        .set_status(WorkerStatus::Graceful);
                    let _ = kill(pid, Signal::SIGUSR1);
                }
            } else {
                let live = self.live_children();
                for &(_, pid) in &live {
                    if let Err(e) = kill(pid, Signal::SIGHUP) {
                        self.log.log(
                            MODULE,
                            Level::Warn,
                            format_args!("({}) {e}: AH00172: killpg SIGHUP", e as i32),
                        );
                    }
                }
                let pids: Vec<Pid> = live.iter().map(|&(_, p)| p).collect();
                reclaim::reclaim_child_processes(&pids, false, &self.log, MODULE);
                for (slot, _) in live {
                    self.note_child_killed(slot);
                }
            }
            self.generation += 1;
            // ASSIGNMENT(graceful-restart): end
        }
        // Step 2.
        if !was_graceful {
            if restart.is_some() {
                self.scoreboard.reset();
            }
            self.retained.idle_spawn_rate = 1;
        }
        self.scoreboard
            .global()
            .set_running_generation(self.generation);
        let mut this_gen = match self.new_generation(was_graceful) {
            Ok(g) => g,
            Err(e) => {
                self.log.log(
                    MODULE,
                    Level::Crit,
                    format_args!("AH03281: could not open pipe-of-death: {e}"),
                );
                return (Ending::Fatal, None);
            }
        };

        // Step 3.
        if was_graceful {
            self.retained.hold_off_on_exponential_spawning = GRACEFUL_HOLD_OFF;
        } else {
            let n = this_gen.remaining_children_to_start;
            this_gen.remaining_children_to_start = 0;
            self.startup_children(&this_gen, n);
        }
        // Step 4.
        log_started(&self.log, &self.started);
        // Step 5.
        self.pending = None;
        while self.pending.is_none() {
            if let Some(ending) = self.reap_one(&mut this_gen) {
                return (ending, Some(this_gen.pod));
            }
        }
        // Step 6.
        let ending = match self.pending.take() {
            Some(ParentSignal::Stop) | None => {
                self.terminate_children();
                pidfile::remove(&self.config.pid_file, &self.log);
                self.log.log(
                    MODULE,
                    Level::Notice,
                    format_args!("AH00169: caught SIGTERM, shutting down"),
                );
                Ending::Stopped
            }
            Some(ParentSignal::GracefulStop) => {
                self.graceful_stop(&this_gen);
                Ending::Stopped
            }
            Some(ParentSignal::GracefulRestart) => {
                self.log.log(
                    MODULE,
                    Level::Notice,
                    format_args!("AH00171: Graceful restart requested, doing restart"),
                );
                Ending::Restart { graceful: true }
            }
            Some(ParentSignal::Restart) => {
                self.log.log(
                    MODULE,
                    Level::Notice,
                    format_args!("AH00173: SIGHUP received.  Attempting to restart"),
                );
                Ending::Restart { graceful: false }
            }
        };
        (ending, Some(this_gen.pod))
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
    fn reap_one(&mut self, this_gen: &mut Generation) -> Option<Ending> {
        // a./b. Reap without waiting; if nothing was reaped, sleep up to a second, woken early
        // only by a signal (rule 10: a reaping turn never runs maintenance).
        match wait_or_timeout(&self.signals) {
            Turn::Reaped(status) => return self.child_exited(this_gen, status),
            Turn::Signal(sig) => {
                self.pending = Some(sig);
                return None;
            }
            Turn::Quiet => {}
        }
        // c.
        if this_gen.remaining_children_to_start > 0 {
            // A quiet second after a graceful restart: the old children that were going to leave
            // at once have left; fork the rest of the budget. Skip maintenance: the children just
            // forked are not idle yet.
            let n = this_gen.remaining_children_to_start;
            this_gen.remaining_children_to_start = 0;
            self.startup_children(this_gen, n);
            return None;
        }
        self.perform_idle_server_maintenance(this_gen);
        None
    }

    /// A reaped child (step 5a).
    fn child_exited(&mut self, this_gen: &mut Generation, status: WaitStatus) -> Option<Ending> {
        let pid = status.pid()?;
        let exit = process_child_status(pid, status, &self.log, MODULE);
        let slot = self.find_child_by_pid(pid);
        if exit == ChildExit::Fatal {
            // Rule 56: fatal in the current generation stops the server; an old generation's
            // child may fail while its world is being torn down (PR 39311).
            let current =
                slot.is_none_or(|s| self.scoreboard.process(s).generation() == self.generation);
            if current {
                // AH00050 was logged by process_child_status, as ap_process_child_status does.
                return Some(Ending::Fatal);
            }
            self.log.log(
                MODULE,
                Level::Warn,
                format_args!(
                    "AH00166: Ignoring fatal error in child of previous generation (pid {pid})."
                ),
            );
        }
        match slot {
            Some(slot) => {
                self.note_child_killed(slot);
                if exit == ChildExit::Sick {
                    self.retained.idle_spawn_rate = 1;
                } else if this_gen.remaining_children_to_start > 0
                    && slot < self.cfg.max_request_workers
                {
                    // Graceful restart: replace old children one for one while the budget lasts.
                    self.make_child(this_gen, slot);
                    this_gen.remaining_children_to_start -= 1;
                }
            }
            None if this_gen.was_graceful => {
                self.log.log(
                    MODULE,
                    Level::Warn,
                    format_args!("AH00167: long lost child came home! (pid {pid})"),
                );
            }
            None => {}
        }
        None
    }

    /// Step 5c: decide, then act.
    fn perform_idle_server_maintenance(&mut self, this_gen: &Generation) {
        let view = ScoreboardView::from_scoreboard(&self.scoreboard, self.cfg.max_request_workers);
        let (decision, retained) = decide(&view, &self.cfg, &self.retained, self.born.elapsed());
        self.retained = retained;
        match decision {
            Decision::StopOne { .. } => {
                // ASSIGNMENT(prefork-maintenance): begin
                // HINT(prefork-maintenance): Stopping one child is ONE byte on this generation's pipe of death (`this_gen.pod.signal`), sent to a listener address so that a child blocked in accept wakes up to read it (`dummy_addr`).
                if let Some(addr) = dummy_addr(&self.listeners) {
                    this_gen.pod.signal(addr);
                }
                // ASSIGNMENT(prefork-maintenance): end
            }
            Decision::Spawn { slots, busy } => {
                if let Some(b) = busy {
                    self.log
                        .log(MODULE, Level::Info, format_args!("{}", b.message()));
                }
                for slot in slots {
                    self.make_child(this_gen, slot);
                }
            }
            Decision::ReachedMaxRequestWorkers { report: true } => {
                self.log
                    .log(MODULE, Level::Error, format_args!("{AH00161}"));
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
    fn graceful_stop(&mut self, this_gen: &Generation) {
        let addr = dummy_addr(&self.listeners);
        // Stop listening: the port is released once the children have closed theirs too.
        self.listeners.clear();
        if let Some(addr) = addr {
            this_gen
                .pod
                .killpg(&self.scoreboard, self.retained.max_daemons_limit, addr);
        }
        for (_, pid) in self.live_children() {
            let _ = kill(pid, Signal::SIGUSR1);
        }
        self.relieve_children();
        pidfile::remove(&self.config.pid_file, &self.log);
        self.log.log(
            MODULE,
            Level::Notice,
            format_args!("AH00170: caught SIGWINCH, shutting down gracefully"),
        );
        let timeout = self.cfg.graceful_shutdown_timeout;
        let cutoff = Instant::now() + timeout;
        loop {
            if let Some(ParentSignal::Stop) = self.signals.wait(Duration::from_secs(1)) {
                break;
            }
            self.relieve_children();
            let alive = self
                .live_children()
                .iter()
                .any(|&(_, pid)| kill(pid, None).is_ok());
            if !alive || (!timeout.is_zero() && Instant::now() >= cutoff) {
                break;
            }
        }
        // Whatever is left is ended now (Apache: killpg SIGTERM); reap it too.
        self.terminate_children();
    }
}
