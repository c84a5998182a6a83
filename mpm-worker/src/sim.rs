//! The worker simulator: the real [`maintenance::decide`](crate::maintenance::decide) driven on
//! a virtual clock.
//!
//! The model is worker seen from the parent's chair:
//! * a process slot holds nothing or a child of ThreadsPerChild threads; each thread is
//!   starting (`S`), idle (`_`) or serving one held connection (`R`, as the reference run shows
//!   clients that hold a connection open);
//! * the load ([`Phase`]s) holds `target` connections; a new connection is taken by an idle
//!   thread of a child that is not stopping (lowest slot first, as listeners race for the
//!   accept) or waits in the listen backlog; when the target drops, connections close (backlog
//!   first, then the most recent ones) and their threads become idle;
//! * a forked child is starting until the next simulation step, then all its threads are idle;
//! * once per virtual second the parent runs one maintenance pass per bucket, as `parent.rs`
//!   does after a quiet `ap_wait_or_timeout`: [`Decision::Spawn`] fills slots with starting
//!   children; [`Decision::StopOne`] makes one child read the GRACEFUL byte (we take the
//!   highest-numbered running child): its idle threads leave at once, its busy ones finish
//!   their connection, and it exits when none is left. Exits are reaped between passes, so
//!   rule 10 costs no time here, as on the real server where the reaping iteration does not
//!   sleep.
//!
//! A 200-second run takes milliseconds: there is no sleeping and no process.

use std::time::Duration;

use httpd_core::config::ServerConfig;
use httpd_core::log::Level;
use httpd_core::scoreboard::WorkerStatus;
use httpd_core::sim::{Phase, SimLogLine, SimModel, Timeline, TimelineRow, VirtualClock, drive};
use httpd_core::threaded::view::{ProcessView, ScoreboardView};

use crate::config::{WorkerConfig, check_config};
use crate::maintenance::{Decision, Retained, decide};

/// Simulate worker under `phases`, sampling every `tick`, with the MPM directives of `cfg`.
pub fn simulate(cfg: &ServerConfig, phases: &[Phase], tick: Duration) -> Timeline {
    let (wcfg, _warnings) = check_config(&cfg.mpm, None, 1);
    simulate_worker(&wcfg, phases, tick)
}

/// One simulated child.
#[derive(Debug, Clone)]
struct Child {
    threads: Vec<WorkerStatus>,
    quiescing: bool,
}

struct Model<'a> {
    cfg: &'a WorkerConfig,
    slots: Vec<Option<Child>>,
    backlog: usize,
    retained: Retained,
    log: Vec<SimLogLine>,
}

const SERVING: WorkerStatus = WorkerStatus::BusyRead;

impl Model<'_> {
    fn log(&mut self, t: Duration, level: Level, message: String) {
        self.log.push(SimLogLine {
            t,
            module: "mpm_worker",
            level: level.as_str(),
            message,
        });
    }

    fn threads(&self) -> impl Iterator<Item = &WorkerStatus> {
        self.slots.iter().flatten().flat_map(|c| c.threads.iter())
    }

    fn count(&self, s: WorkerStatus) -> usize {
        self.threads().filter(|&&t| t == s).count()
    }

    fn make_child(&mut self, slot: usize) {
        let tpc = self.cfg.threads_per_child;
        self.slots[slot] = Some(Child {
            threads: vec![WorkerStatus::Starting; tpc],
            quiescing: false,
        });
    }

    /// Connections come and go so that `target` are held (served or waiting).
    fn apply_load(&mut self, target: usize) {
        let held = self.count(SERVING) + self.backlog;
        if target > held {
            self.backlog += target - held;
        } else {
            let mut close = held - target;
            let from_backlog = close.min(self.backlog);
            self.backlog -= from_backlog;
            close -= from_backlog;
            for child in self.slots.iter_mut().rev().flatten() {
                for t in child.threads.iter_mut().rev() {
                    if close > 0 && *t == SERVING {
                        // A stopping child's thread leaves after its connection.
                        *t = if child.quiescing {
                            WorkerStatus::Dead
                        } else {
                            WorkerStatus::Ready
                        };
                        close -= 1;
                    }
                }
            }
        }
        // Listeners of running children accept into idle threads.
        for child in self.slots.iter_mut().flatten() {
            if child.quiescing {
                continue;
            }
            for t in child.threads.iter_mut() {
                if self.backlog > 0 && *t == WorkerStatus::Ready {
                    *t = SERVING;
                    self.backlog -= 1;
                }
            }
        }
        // Stopping children whose threads are all gone exit and are reaped.
        for s in self.slots.iter_mut() {
            if s.as_ref()
                .is_some_and(|c| c.quiescing && c.threads.iter().all(|&t| t == WorkerStatus::Dead))
            {
                *s = None;
            }
        }
    }

    fn view(&self) -> ScoreboardView {
        let tpc = self.cfg.threads_per_child;
        ScoreboardView {
            generation: 0,
            processes: self
                .slots
                .iter()
                .enumerate()
                .map(|(i, s)| match s {
                    None => ProcessView::empty(tpc),
                    Some(c) => ProcessView {
                        pid: 1000 + i as i32,
                        generation: 0,
                        quiescing: c.quiescing,
                        not_accepting: false,
                        threads: c.threads.clone(),
                    },
                })
                .collect(),
        }
    }

    /// One maintenance pass per bucket, as `parent.rs` runs it after a quiet second.
    fn maintenance(&mut self, now: Duration) {
        for bucket in 0..self.cfg.num_buckets {
            let (tick, retained) = decide(&self.view(), self.cfg, &self.retained, bucket);
            self.retained = retained;
            for n in tick.notes {
                self.log(now, n.level, n.text);
            }
            match tick.decision {
                Decision::Spawn { slots } => {
                    for i in slots {
                        self.make_child(i);
                    }
                }
                Decision::StopOne => {
                    if let Some(c) = self.slots.iter_mut().rev().flatten().find(|c| !c.quiescing) {
                        c.quiescing = true;
                        for t in c.threads.iter_mut() {
                            if *t != SERVING {
                                *t = WorkerStatus::Dead;
                            }
                        }
                    }
                }
                Decision::Nothing | Decision::NoRoom | Decision::Skip | Decision::GiveUp => {}
            }
        }
    }

    fn row(&mut self, t: Duration) -> TimelineRow {
        let processes = self.slots.iter().flatten().count();
        let tpc = self.cfg.threads_per_child;
        let scoreboard = self
            .slots
            .iter()
            .flat_map(|s| match s {
                None => vec![WorkerStatus::Dead; tpc],
                Some(c) => c.threads.clone(),
            })
            .map(|s| s.as_char())
            .collect();
        TimelineRow {
            t,
            processes,
            threads: processes * tpc,
            busy: self.count(SERVING),
            idle: self
                .slots
                .iter()
                .flatten()
                .filter(|c| !c.quiescing)
                .flat_map(|c| c.threads.iter())
                .filter(|&&s| s == WorkerStatus::Ready)
                .count(),
            graceful: 0,
            backlog: self.backlog,
            scoreboard,
            log: std::mem::take(&mut self.log),
        }
    }
}

impl SimModel for Model<'_> {
    fn apply_load(&mut self, target: usize) {
        Model::apply_load(self, target)
    }
    fn row(&mut self, t: Duration) -> TimelineRow {
        Model::row(self, t)
    }
    fn finish_starting(&mut self) {
        for t in self
            .slots
            .iter_mut()
            .flatten()
            .flat_map(|c| c.threads.iter_mut())
        {
            if *t == WorkerStatus::Starting {
                *t = WorkerStatus::Ready;
            }
        }
    }
    fn maintenance(&mut self, now: Duration) {
        Model::maintenance(self, now)
    }
}

/// [`simulate`] on an already checked configuration.
pub fn simulate_worker(cfg: &WorkerConfig, phases: &[Phase], tick: Duration) -> Timeline {
    let tick = tick.max(Duration::from_millis(1));
    let mut m = Model {
        cfg,
        slots: vec![None; cfg.daemons_limit],
        backlog: 0,
        retained: Retained::new(cfg.num_buckets),
        log: Vec::new(),
    };
    let clock = VirtualClock::new();
    // Cold start (`startup_children`): StartServers children in the lowest slots.
    for i in 0..cfg.children_to_start() {
        m.make_child(i);
    }
    m.log(
        clock.now(),
        Level::Notice,
        format!(
            "AH00292: {} configured -- resuming normal operations",
            httpd_core::SERVER_VERSION
        ),
    );
    // After the load, leave time for the surplus to drain at one child per second.
    let drain = Duration::from_secs(cfg.daemons_limit as u64 + 5);
    drive(&mut m, phases, tick, drain)
}

#[cfg(test)]
mod tests {
    use super::*;
    use httpd_core::config::MpmDirectives;
    use httpd_core::sim::parse_phases;

    /// run1/worker.httpd.conf.
    pub(crate) fn reference_config() -> WorkerConfig {
        check_config(
            &MpmDirectives {
                server_limit: Some(16),
                start_servers: Some(2),
                max_request_workers: Some(150),
                min_spare_threads: Some(25),
                max_spare_threads: Some(75),
                threads_per_child: Some(25),
                ..MpmDirectives::default()
            },
            None,
            1,
        )
        .0
    }

    #[test]
    fn reference_shape_2_3_4_6_then_back_to_3() {
        let phases = parse_phases("0:7,40:10,120:15,160:10,0:5").unwrap();
        let tl = simulate_worker(&reference_config(), &phases, Duration::from_millis(200));
        let procs = |t: f64| tl.at(Duration::from_secs_f64(t)).map(|r| r.processes);
        // Phase 0 (idle): StartServers. Phase 1 (40 held from t=7): one more child at the next
        // pass. Phase 2 (120 held from t=17): 3 -> 4 -> 6 (rate 1 then 2), capped at 150/25.
        assert_eq!(
            [
                procs(6.0),
                procs(8.2),
                procs(16.8),
                procs(17.2),
                procs(18.2),
                procs(40.0)
            ],
            [Some(2), Some(3), Some(3), Some(4), Some(6), Some(6)],
            "{}",
            tl.summary()
        );
        // After the load (t=42): one child stopped per second down to 3 (idle 75 = MaxSpare).
        let last = *tl.process_runs().last().unwrap();
        assert_eq!(
            (last.from, last.to, last.steps),
            (6, 3, 3),
            "{}",
            tl.summary()
        );
        assert_eq!(tl.rows.last().unwrap().processes, 3);
        let ah286 = tl
            .log_lines()
            .filter(|l| l.message.starts_with("AH00286"))
            .count();
        assert_eq!(ah286, 1, "{}", tl.error_log());
        assert!(tl.rows.iter().all(|r| r.processes <= 6));
    }
}
