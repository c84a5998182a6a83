//! Forking and reaping children (steps 2 and 3 of [`super`]): `startup_children`,
//! `make_child`, the reap loop with `event_note_child_stopped`, and `ap_reclaim_child_processes`.

use super::*;

impl Parent {
    /// `startup_children`: fork `n` children into the lowest free slots.
    pub(super) fn startup_children(&mut self, n: usize) {
        let mut left = n;
        for slot in 0..self.ev.server_limit {
            if left == 0 {
                break;
            }
            if self.scoreboard.process(slot).pid() == 0 {
                self.make_child(slot);
                left -= 1;
            }
        }
    }

    /// `make_child`: fork one child into `slot` (only the parent writes pid and generation).
    pub(super) fn make_child(&mut self, slot: usize) {
        let ps = self.scoreboard.process(slot);
        if ps.pid() != 0 {
            self.log.log(
                MODULE,
                Level::Crit,
                format_args!(
                    "AH03455: BUG: Scoreboard slot {slot} should be empty but is in use by pid {}",
                    ps.pid()
                ),
            );
            return;
        }
        let listeners: Vec<TcpListener> = self
            .listeners
            .iter()
            .filter_map(|l| l.listener.try_clone().ok())
            .collect();
        // SAFETY: the parent is single-threaded (it never spawns threads; the signal handling
        // uses a signalfd), so the child starts with a consistent heap and no lock held by a
        // vanished thread. The child leaves only through `std::process::exit` below.
        #[allow(unsafe_code)]
        let forked = unsafe { fork() };
        match forked {
            Ok(ForkResult::Child) => {
                ParentSignals::child_reset();
                let code = child::child_main(ChildArgs {
                    slot,
                    config: Arc::clone(&self.config),
                    event: &self.ev,
                    scoreboard: Arc::clone(&self.scoreboard),
                    listeners,
                    pod: Some(&self.pod),
                    log: self.log.clone(),
                    identity: self.identity.as_ref(),
                });
                // The child pool's cleanup: BufferedLogs' last lines (`flush_all_logs`).
                httpd_core::log::flush_buffered_logs();
                std::process::exit(code);
            }
            Ok(ForkResult::Parent { child }) => {
                drop(listeners);
                ps.set_quiescing(0);
                ps.set_not_accepting(0);
                ps.set_connections(0);
                ps.set_keep_alive(0);
                ps.set_write_completion(0);
                ps.set_lingering_close(0);
                ps.set_generation(self.generation as _);
                ps.set_pid(child.as_raw());
            }
            Err(e) => {
                self.log.log(
                    MODULE,
                    Level::Alert,
                    format_args!("AH00481: fork: Unable to fork new process: {e}"),
                );
                // Apache sleeps 10 s so a fork storm does not hog the machine.
                std::thread::sleep(Duration::from_secs(10));
            }
        }
    }

    /// Non-blocking reap of every exited child; returns the freed slots, or how to exit.
    /// Reap every exited child; returns each freed slot and whether a signal killed its child.
    pub(super) fn reap(&mut self) -> Result<Vec<(usize, bool)>, Exit> {
        let mut freed = Vec::new();
        loop {
            let status = match waitpid(None::<Pid>, Some(WaitPidFlag::WNOHANG)) {
                Ok(WaitStatus::StillAlive) | Err(_) => break,
                Ok(s) => s,
            };
            let Some(pid) = status.pid() else { continue };
            let Some(slot) = self.slot_of(pid) else {
                // mod_cgid's daemon is re-forked, a piped logger restarted (other children).
                httpd_core::mpm_common::other_child_alert(pid);
                continue;
            };
            let old_generation =
                u64::from(self.scoreboard.process(slot).generation()) != self.generation;
            self.free_slot(slot);
            freed.push((slot, matches!(status, WaitStatus::Signaled(..))));
            match child_status::process_child_status(pid, status, &self.log, MODULE) {
                ChildExit::Fatal if !old_generation => return Err(Exit::Fatal),
                ChildExit::Fatal => self.log.log(
                    MODULE,
                    Level::Warn,
                    format_args!(
                        "AH00487: Ignoring fatal error in child of previous generation (pid {pid})."
                    ),
                ),
                ChildExit::Sick => {
                    self.retained.idle_spawn_rate = self.retained.idle_spawn_rate.reset();
                    self.retained.sick_child_detected = true;
                }
                _ => {}
            }
        }
        Ok(freed)
    }

    pub(super) fn slot_of(&self, pid: Pid) -> Option<usize> {
        self.scoreboard.find_pid(pid.as_raw())
    }

    /// The parent marks a reaped child's slot free and its threads dead.
    pub(super) fn free_slot(&self, slot: usize) {
        self.scoreboard.mark_reaped(slot);
    }

    /// Pids of live children; with `include_stopping` false only those still reading the POD.
    pub(super) fn live_children(&self, include_stopping: bool) -> Vec<Pid> {
        (0..self.ev.server_limit)
            .map(|s| self.scoreboard.process(s))
            .filter(|ps| ps.pid() != 0 && (include_stopping || ps.quiescing() == 0))
            .map(|ps| Pid::from_raw(ps.pid()))
            .collect()
    }

    pub(super) fn reclaim(&mut self, pids: &[Pid], terminate: bool) {
        for (pid, _) in reclaim::reclaim_child_processes(pids, terminate, &self.log, MODULE) {
            if let Some(slot) = self.slot_of(pid) {
                self.free_slot(slot);
            }
        }
    }
}
