//! The prefork simulator: the real [`maintenance::decide`] driven on a virtual clock.
//!
//! The model is what prefork looks like from the parent's chair:
//! * each slot holds nothing (`.`), a child that is starting (`S`), an idle child blocked in
//!   `accept` (`_`) or a child serving one held connection (`W`);
//! * the load ([`Phase`]s) holds `target` connections; a new connection is taken by an idle child
//!   (lowest slot first) or waits in the listen backlog until a child is free; when the target
//!   drops, connections close (backlog first, then served ones) and their children become idle;
//! * a forked child is `S` until the next simulation step, then `_` (real children need a few ms);
//! * once per virtual second the parent runs one maintenance pass, exactly as `parent.rs` does
//!   after a quiet `ap_wait_or_timeout`: [`Decision::Spawn`] fills slots with starting children,
//!   [`Decision::StopOne`] makes one idle child read the pipe of death and exit (it is reaped
//!   before the next pass, so it never blocks one: rule 10 costs no time here).
//!
//! The rows carry the columns of a real run (httpd_core::sim). A 200-second run takes a few
//! milliseconds: there is no sleeping and no process.

use std::time::Duration;

use httpd_core::config::ServerConfig;
use httpd_core::scoreboard::WorkerStatus;
use httpd_core::sim::{Phase, SimLogLine, SimModel, Timeline, TimelineRow, VirtualClock, drive};

use crate::config::{PreforkConfig, check_config};
use crate::maintenance::{AH00161, Decision, Retained, ScoreboardView, decide};

/// Simulate prefork under `phases`, sampling every `tick`, with the MPM directives of `cfg`.
/// The run lasts the phases plus enough time for the idle surplus to drain (one child per second
/// down to MaxSpareServers), like the reference run.
pub fn simulate(cfg: &ServerConfig, phases: &[Phase], tick: Duration) -> Timeline {
    let (pcfg, _warnings) = check_config(&cfg.mpm, None);
    simulate_prefork(&pcfg, phases, tick)
}

/// A simulated child slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Slot {
    Free,
    Starting,
    Idle,
    Busy,
}

impl Slot {
    fn status(self) -> WorkerStatus {
        match self {
            Slot::Free => WorkerStatus::Dead,
            Slot::Starting => WorkerStatus::Starting,
            Slot::Idle => WorkerStatus::Ready,
            Slot::Busy => WorkerStatus::BusyWrite,
        }
    }
}

/// The simulated server: slots, backlog, the parent's retained state and the pending log.
struct Model<'a> {
    cfg: &'a PreforkConfig,
    slots: Vec<Slot>,
    backlog: usize,
    retained: Retained,
    log: Vec<SimLogLine>,
}

impl Model<'_> {
    fn count(&self, s: Slot) -> usize {
        self.slots.iter().filter(|&&x| x == s).count()
    }

    fn log(&mut self, t: Duration, level: &'static str, message: String) {
        self.log.push(SimLogLine {
            t,
            module: "mpm_prefork",
            level,
            message,
        });
    }

    /// Connections come and go so that `target` are held (served or waiting).
    fn apply_load(&mut self, target: usize) {
        let held = self.count(Slot::Busy) + self.backlog;
        if target > held {
            self.backlog += target - held;
        } else {
            let mut close = held - target;
            let from_backlog = close.min(self.backlog);
            self.backlog -= from_backlog;
            close -= from_backlog;
            // Most recently taken first (highest slot): the order does not change the counts.
            for s in self.slots.iter_mut().rev() {
                if close == 0 {
                    break;
                }
                if *s == Slot::Busy {
                    *s = Slot::Idle;
                    close -= 1;
                }
            }
        }
        // Idle children accept waiting connections.
        for s in self.slots.iter_mut() {
            if self.backlog == 0 {
                break;
            }
            if *s == Slot::Idle {
                *s = Slot::Busy;
                self.backlog -= 1;
            }
        }
    }

    /// One maintenance pass, as `parent.rs` runs it after a quiet second.
    fn maintenance(&mut self, now: Duration) {
        let view = ScoreboardView {
            slots: self.slots.iter().map(|s| s.status()).collect(),
        };
        let (decision, retained) = decide(&view, self.cfg, &self.retained, now);
        self.retained = retained;
        match decision {
            Decision::Spawn { slots, busy } => {
                if let Some(b) = busy {
                    self.log(now, "info", b.message());
                }
                for i in slots {
                    self.slots[i] = Slot::Starting;
                }
            }
            Decision::StopOne { .. } => {
                // The dummy connection wakes one child blocked in accept; it reads the POD byte
                // and exits. Take the highest idle slot (the kernel's choice; any would do).
                if let Some(s) = self.slots.iter_mut().rev().find(|s| **s == Slot::Idle) {
                    *s = Slot::Free;
                }
            }
            Decision::ReachedMaxRequestWorkers { report } => {
                if report {
                    self.log(now, "error", AH00161.to_string());
                }
            }
            Decision::Nothing => {}
        }
    }

    fn row(&mut self, t: Duration) -> TimelineRow {
        let busy = self.count(Slot::Busy);
        let processes = self.slots.len() - self.count(Slot::Free);
        TimelineRow {
            t,
            processes,
            threads: processes,
            busy,
            idle: self.count(Slot::Idle),
            graceful: 0,
            backlog: self.backlog,
            scoreboard: self.slots.iter().map(|s| s.status().as_char()).collect(),
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
        for s in self.slots.iter_mut() {
            if *s == Slot::Starting {
                *s = Slot::Idle;
            }
        }
    }
    fn maintenance(&mut self, now: Duration) {
        Model::maintenance(self, now)
    }
}

/// [`simulate`] on an already checked configuration.
pub fn simulate_prefork(cfg: &PreforkConfig, phases: &[Phase], tick: Duration) -> Timeline {
    let tick = tick.max(Duration::from_millis(1));
    let mut m = Model {
        cfg,
        slots: vec![Slot::Free; cfg.max_request_workers],
        backlog: 0,
        retained: Retained::default(),
        log: Vec::new(),
    };
    let clock = VirtualClock::new();
    // Cold start (`startup_children`): StartServers children in the lowest slots.
    for s in m.slots.iter_mut().take(cfg.children_to_start()) {
        *s = Slot::Starting;
    }
    let t0 = clock.now();
    m.log(
        t0,
        "notice",
        format!(
            "AH00163: {} configured -- resuming normal operations",
            httpd_core::SERVER_VERSION
        ),
    );

    // After the load, leave time for the surplus to drain at one child per second.
    let drain = Duration::from_secs(
        (cfg.max_request_workers
            .saturating_sub(cfg.max_spare_servers)
            + 5) as u64,
    );
    drive(&mut m, phases, tick, drain)
}

#[cfg(test)]
mod tests {
    use super::*;
    use httpd_core::config::MpmDirectives;
    use httpd_core::sim::parse_phases;

    fn reference_config() -> PreforkConfig {
        // run1/prefork.httpd.conf
        check_config(
            &MpmDirectives {
                start_servers: Some(5),
                min_spare_servers: Some(5),
                max_spare_servers: Some(10),
                max_request_workers: Some(150),
                ..MpmDirectives::default()
            },
            None,
        )
        .0
    }

    #[test]
    fn reference_shape_5_to_68_by_doubling() {
        let phases = parse_phases("0:7,40:10,120:15,160:10,0:5").unwrap();
        let started = std::time::Instant::now();
        let tl = simulate_prefork(&reference_config(), &phases, Duration::from_millis(200));
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "simulation must be fast"
        );
        let runs = tl.process_runs();
        // First growth: 5 -> 68 through 6, 8, 12, 20, 36, 68 in ~6 s.
        let g = runs[0];
        assert_eq!((g.from, g.to, g.steps), (5, 68, 6), "{}", tl.summary());
        assert!(g.t_end - g.t_start <= 6.5, "{}", tl.summary());
        // Then the surplus is reaped at one per second until the next phase.
        assert!(runs[1].to < 68 && runs[1].steps >= 2);
        // The cap: 150 children, AH00161 exactly once.
        assert_eq!(tl.max_processes().unwrap().0, 150);
        let ah161 = tl
            .log_lines()
            .filter(|l| l.message.starts_with("AH00161"))
            .count();
        assert_eq!(ah161, 1);
        // AH00162 with 8, 16, 32 in the first growth.
        let rates: Vec<String> = tl
            .log_lines()
            .filter(|l| l.message.starts_with("AH00162"))
            .take(3)
            .map(|l| {
                l.message
                    .split("spawning ")
                    .nth(1)
                    .unwrap()
                    .split(' ')
                    .next()
                    .unwrap()
                    .to_string()
            })
            .collect();
        assert_eq!(rates, ["8", "16", "32"]);
        // After the load: back to MaxSpareServers at one per second.
        let last = runs.last().unwrap();
        assert_eq!((last.from, last.to), (150, 10), "{}", tl.summary());
        assert_eq!(last.steps, 140);
        assert!((last.t_end - last.t_start - 140.0).abs() <= 1.5);
        assert!(tl.rows.iter().all(|r| r.processes <= 150));
    }

    /// The reference scenario's summary, kept as a snapshot: what `mpm-lab simulate` prints for
    /// the lab on prefork's lifecycle (compare with reference/apache-2.4.71/run1/prefork.summary.txt).
    #[test]
    fn reference_run_summary_snapshot() {
        let phases = parse_phases("0:7,40:10,120:15,160:10,0:5").unwrap();
        let tl = simulate_prefork(&reference_config(), &phases, Duration::from_millis(200));
        insta::assert_snapshot!(tl.summary());
    }

    #[test]
    fn idle_server_stays_at_start_servers() {
        let tl = simulate_prefork(
            &reference_config(),
            &parse_phases("0:10").unwrap(),
            Duration::from_millis(500),
        );
        assert!(tl.rows.iter().all(|r| r.processes == 5));
        assert_eq!(tl.rows.last().unwrap().scoreboard.len(), 150);
    }

    #[test]
    fn rule_04_min_spare_60_from_one_child_gives_64() {
        let cfg = check_config(
            &MpmDirectives {
                start_servers: Some(1),
                min_spare_servers: Some(60),
                max_spare_servers: Some(100),
                ..MpmDirectives::default()
            },
            None,
        )
        .0;
        let tl = simulate_prefork(
            &cfg,
            &parse_phases("0:10").unwrap(),
            Duration::from_millis(500),
        );
        assert_eq!(tl.rows.last().unwrap().processes, 64, "{}", tl.summary());
    }
}
