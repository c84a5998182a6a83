//! The event simulator: the real [`maintenance::decide`](crate::maintenance::decide) driven on a
//! virtual clock.
//!
//! The model is event seen from the parent's chair, under the reference load (clients holding
//! a partial request, which holds a worker thread in event too: reference README §3):
//! * a process slot (all `ServerLimit` of them) holds nothing or a child of ThreadsPerChild
//!   threads; each thread is starting (`S`), idle (`_`) or serving one held connection (`R`);
//! * a child with no idle thread disables its listeners (`not_accepting`, §5.4), so the
//!   parent does not count it as idle capacity (rule 19);
//! * the load ([`Phase`]s) holds `target` connections; a new connection is taken by an idle
//!   thread of an accepting child (lowest slot first) or waits in the listen backlog; when the
//!   target drops, connections close (backlog first, then the most recent ones);
//! * a forked child is starting until the next step, then its threads are idle;
//! * once per virtual second the parent runs [`decide`](crate::maintenance::decide):
//!   `Spawn` fills slots with starting children; `StopOne` makes one running child read the
//!   GRACEFUL byte (we take the highest-numbered one): all its threads show `G` (rule 43), its
//!   held connections finish, and it exits when none is left.
//!
//! A 200-second run takes milliseconds: there is no sleeping and no process.

use std::time::Duration;

use httpd_core::config::ServerConfig;
use httpd_core::log::Level;
use httpd_core::scoreboard::WorkerStatus;
use httpd_core::sim::{Phase, SimLogLine, SimModel, Timeline, TimelineRow, VirtualClock, drive};
use httpd_core::threaded::view::{ProcessView, ScoreboardView};

use crate::config::{EventConfig, check_config};
use crate::maintenance::{Decision, Retained, decide};

/// Simulate event under `phases`, sampling every `tick`, with the MPM directives of `cfg`
/// (an invalid AsyncRequestWorkerFactor falls back to the default: the real server would
/// have refused to start).
pub fn simulate(cfg: &ServerConfig, phases: &[Phase], tick: Duration) -> Timeline {
    let mut mpm = cfg.mpm.clone();
    let checked = check_config(&mpm, None).unwrap_or_else(|_| {
        mpm.async_request_worker_factor = None;
        check_config(&mpm, None).expect("the default factor is valid")
    });
    simulate_event(&checked.config, phases, tick)
}

#[derive(Debug, Clone)]
struct Child {
    /// Threads serving a held connection.
    serving: usize,
    /// Threads still starting (first step after the fork).
    starting: bool,
    /// Read a GRACEFUL byte: all threads `G`, exits when `serving` is 0.
    quiescing: bool,
}

struct Model<'a> {
    cfg: &'a EventConfig,
    slots: Vec<Option<Child>>,
    backlog: usize,
    retained: Retained,
    log: Vec<SimLogLine>,
}

impl Model<'_> {
    fn log(&mut self, t: Duration, level: Level, message: String) {
        self.log.push(SimLogLine {
            t,
            module: "mpm_event",
            level: level.as_str(),
            message,
        });
    }

    fn serving(&self) -> usize {
        self.slots.iter().flatten().map(|c| c.serving).sum()
    }

    fn apply_load(&mut self, target: usize) {
        let tpc = self.cfg.threads_per_child;
        let held = self.serving() + self.backlog;
        if target > held {
            self.backlog += target - held;
        } else {
            let mut close = held - target;
            let from_backlog = close.min(self.backlog);
            self.backlog -= from_backlog;
            close -= from_backlog;
            for child in self.slots.iter_mut().rev().flatten() {
                let n = close.min(child.serving);
                child.serving -= n;
                close -= n;
            }
        }
        for child in self.slots.iter_mut().flatten() {
            if child.quiescing || child.starting {
                continue;
            }
            let n = self.backlog.min(tpc - child.serving);
            child.serving += n;
            self.backlog -= n;
        }
        for s in self.slots.iter_mut() {
            if s.as_ref().is_some_and(|c| c.quiescing && c.serving == 0) {
                *s = None;
            }
        }
    }

    fn threads_of(&self, c: &Child) -> Vec<WorkerStatus> {
        let tpc = self.cfg.threads_per_child;
        if c.quiescing {
            return vec![WorkerStatus::Graceful; tpc];
        }
        let idle = if c.starting {
            WorkerStatus::Starting
        } else {
            WorkerStatus::Ready
        };
        let mut v = vec![WorkerStatus::BusyRead; c.serving];
        v.resize(tpc, idle);
        v
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
                        not_accepting: !c.starting && c.serving == tpc,
                        threads: self.threads_of(c),
                    },
                })
                .collect(),
        }
    }

    fn maintenance(&mut self, now: Duration) {
        let (out, retained) = decide(&self.view(), self.cfg, &self.retained);
        self.retained = retained;
        for l in out.log {
            self.log(now, l.level, l.text);
        }
        match out.decision {
            Decision::Spawn { slots } => {
                for i in slots {
                    self.slots[i] = Some(Child {
                        serving: 0,
                        starting: true,
                        quiescing: false,
                    });
                }
            }
            Decision::StopOne => {
                if let Some(c) = self.slots.iter_mut().rev().flatten().find(|c| !c.quiescing) {
                    c.quiescing = true;
                }
            }
            Decision::Nothing
            | Decision::WaitForStopping
            | Decision::AtMaxRequestWorkers
            | Decision::ScoreboardFull
            | Decision::SpawnCancelled
            | Decision::GiveUp => {}
        }
    }

    fn row(&mut self, t: Duration) -> TimelineRow {
        let tpc = self.cfg.threads_per_child;
        let processes = self.slots.iter().flatten().count();
        let live = || self.slots.iter().flatten();
        let busy = live().filter(|c| !c.quiescing).map(|c| c.serving).sum();
        let idle = live()
            .filter(|c| !c.quiescing && !c.starting)
            .map(|c| tpc - c.serving)
            .sum();
        let graceful = live().filter(|c| c.quiescing).count() * tpc;
        // The status page shows the first MaxRequestWorkers/TPC slots (rule 38).
        let scoreboard = self
            .slots
            .iter()
            .take(self.cfg.active_daemons_limit)
            .flat_map(|s| match s {
                None => vec![WorkerStatus::Dead; tpc],
                Some(c) => self.threads_of(c),
            })
            .map(|s| s.as_char())
            .collect();
        TimelineRow {
            t,
            processes,
            threads: processes * tpc,
            busy,
            idle,
            graceful,
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
        for c in self.slots.iter_mut().flatten() {
            c.starting = false;
        }
    }
    fn maintenance(&mut self, now: Duration) {
        Model::maintenance(self, now)
    }
}

/// [`simulate`] on an already checked configuration.
pub fn simulate_event(cfg: &EventConfig, phases: &[Phase], tick: Duration) -> Timeline {
    let tick = tick.max(Duration::from_millis(1));
    let mut m = Model {
        cfg,
        slots: vec![None; cfg.server_limit],
        backlog: 0,
        retained: Retained::default(),
        log: Vec::new(),
    };
    let clock = VirtualClock::new();
    for i in 0..cfg.start_servers.min(cfg.active_daemons_limit) {
        m.slots[i] = Some(Child {
            serving: 0,
            starting: true,
            quiescing: false,
        });
    }
    m.log(
        clock.now(),
        Level::Notice,
        format!(
            "AH00489: {} configured -- resuming normal operations",
            httpd_core::SERVER_VERSION
        ),
    );
    let drain = Duration::from_secs(cfg.server_limit as u64 + 5);
    drive(&mut m, phases, tick, drain)
}

#[cfg(test)]
mod tests {
    use super::*;
    use httpd_core::config::MpmDirectives;
    use httpd_core::sim::parse_phases;

    /// run1/event.httpd.conf.
    fn reference_config() -> EventConfig {
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
        )
        .expect("valid")
        .config
    }

    #[test]
    fn reference_shape_2_3_4_6_then_back_to_3() {
        let phases = parse_phases("0:7,40:10,120:15,160:10,0:5").unwrap();
        let tl = simulate_event(&reference_config(), &phases, Duration::from_millis(200));
        let procs = |t: f64| tl.at(Duration::from_secs_f64(t)).map(|r| r.processes);
        assert_eq!(
            [
                procs(6.0),
                procs(8.2),
                procs(16.8),
                procs(18.2),
                procs(40.0)
            ],
            [Some(2), Some(3), Some(3), Some(6), Some(6)],
            "{}",
            tl.summary()
        );
        let last = *tl.process_runs().last().unwrap();
        assert_eq!((last.from, last.to), (6, 3), "{}", tl.summary());
        let ah484 = tl
            .log_lines()
            .filter(|l| l.message.starts_with("AH00484"))
            .count();
        assert_eq!(ah484, 1, "{}", tl.error_log());
        assert!(tl.rows.iter().all(|r| r.processes <= 6));
    }
}
