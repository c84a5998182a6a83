//! `top`'s two sources without a server: a recorded timeline played back (ours or a reference
//! run of real Apache, with its load log and error log), and an MPM's simulator (the servers'
//! own maintenance code, `mpm_*::sim`) on a virtual clock whose held-request target the keys
//! change as it runs.

use super::model::Sample;
use crate::timeline::{Row, Timeline};
use std::io;
use std::path::Path;
use std::time::Duration;

/// A recorded timeline played back at `speed` × real time.
pub struct Replay {
    pub timeline: Timeline,
    /// Load rows with `t` on the timeline's axis.
    pub load: Vec<crate::load::LoadRow>,
    pub log_lines: Vec<(f64, String)>,
    /// Virtual time reached.
    pub vt: f64,
    next_row: usize,
    next_load: usize,
    next_log: usize,
}

impl Replay {
    /// Read `csv` and its siblings (`X.load.csv`/`load.csv`, `X.error_log`/`error_log`).
    pub fn open(csv: &Path) -> io::Result<Replay> {
        let timeline = Timeline::read(csv)?;
        let (load, log, _) = crate::lab::siblings(csv);
        let epoch0 = timeline.epoch0();
        let mut load = load
            .map(std::fs::read_to_string)
            .transpose()?
            .map(|t| crate::summary::parse_load_csv(&t))
            .unwrap_or_default();
        for l in &mut load {
            l.t = l.epoch - epoch0;
        }
        // The reference runs were made in UTC; ours in local time (as Apache writes it).
        let reference = csv.to_string_lossy().contains("reference");
        let log_lines = log
            .map(std::fs::read_to_string)
            .transpose()?
            .map(|text| {
                if reference {
                    crate::summary::error_lines_in(&text, epoch0, &jiff::tz::TimeZone::UTC)
                } else {
                    crate::summary::error_lines(&text, epoch0)
                }
            })
            .unwrap_or_default();
        Ok(Replay {
            vt: timeline.rows.first().map_or(0.0, |r| r.t),
            timeline,
            load,
            log_lines,
            next_row: 0,
            next_load: 0,
            next_log: 0,
        })
    }

    /// Whether every row has been played.
    pub fn finished(&self) -> bool {
        self.next_row >= self.timeline.rows.len()
    }

    /// Move virtual time to `vt` and hand the model what happened up to it, in time order
    /// across the three recordings (load, error log, timeline).
    pub fn advance_to(&mut self, vt: f64, model: &mut super::model::Model) {
        self.vt = vt;
        loop {
            let next = [
                self.load.get(self.next_load).map(|l| l.t),
                self.log_lines.get(self.next_log).map(|l| l.0),
                self.timeline.rows.get(self.next_row).map(|r| r.t),
            ];
            let Some((which, t)) = next
                .iter()
                .enumerate()
                .filter_map(|(i, t)| Some((i, (*t)?)))
                .min_by(|a, b| a.1.total_cmp(&b.1))
            else {
                return;
            };
            if t > vt {
                return;
            }
            match which {
                0 => {
                    let l = &self.load[self.next_load];
                    let keepalive = (l.responses as usize).min(l.held);
                    let held = super::model::Held {
                        partial: l.held - keepalive,
                        keepalive,
                    };
                    if model.held != held {
                        model.action(
                            t,
                            format!("client holds R {} K {}", held.partial, held.keepalive),
                        );
                    }
                    model.set_held(t, l.epoch, held);
                    self.next_load += 1;
                }
                1 => {
                    model.push_log(t, &self.log_lines[self.next_log].1);
                    self.next_log += 1;
                }
                _ => {
                    model.push_sample(Sample {
                        row: self.timeline.rows[self.next_row].clone(),
                        ..Sample::default()
                    });
                    self.next_row += 1;
                }
            }
        }
    }
}

/// An MPM's simulator on a virtual clock; the held-request target can change as it runs.
pub struct Simulated {
    pub mpm: crate::Mpm,
    cfg: httpd_core::config::ServerConfig,
    /// (virtual time, held requests from then on).
    targets: Vec<(f64, usize)>,
    tick: Duration,
    /// The simulation of `targets` as far as it was run.
    cache: Option<SimRun>,
    pub vt: f64,
    next_row: usize,
    next_log: usize,
}

/// One run of the simulator: its timeline, its log lines on the same axis, and how far it went.
struct SimRun {
    timeline: Timeline,
    lines: Vec<(f64, String)>,
    until: f64,
}

/// How far ahead one simulator run goes (re-run when the clock passes it or the load changes).
const SIM_HORIZON: f64 = 600.0;

impl Simulated {
    pub fn new(mpm: crate::Mpm, config: &Path) -> Result<Simulated, String> {
        Ok(Simulated {
            mpm,
            cfg: crate::simulate::load_config(mpm, config)?,
            targets: vec![(0.0, 0)],
            tick: Duration::from_millis(200),
            cache: None,
            vt: 0.0,
            next_row: 0,
            next_log: 0,
        })
    }

    /// The held-request target now.
    pub fn target(&self) -> usize {
        self.targets.last().map_or(0, |t| t.1)
    }

    /// From virtual time `vt` on, `target` requests are held. The simulator is deterministic,
    /// so re-running it from 0 with the new phase list reproduces everything already shown.
    pub fn set_target(&mut self, target: usize) {
        self.targets.retain(|&(t, _)| t < self.vt);
        self.targets.push((self.vt, target));
        self.cache = None;
    }

    fn simulate(&mut self) -> &SimRun {
        let until = self.vt + SIM_HORIZON;
        let stale = self.cache.as_ref().is_none_or(|c| c.until < self.vt + 1.0);
        if stale {
            let mut phases = Vec::new();
            for (i, &(t, target)) in self.targets.iter().enumerate() {
                let end = self.targets.get(i + 1).map_or(until, |n| n.0);
                phases.push(httpd_core::sim::Phase {
                    target,
                    duration: Duration::from_secs_f64((end - t).max(0.0)),
                });
            }
            let sim = crate::simulate::run(self.mpm, &self.cfg, &phases, self.tick);
            let lines = sim
                .log_lines()
                .map(|l| {
                    (
                        l.t.as_secs_f64(),
                        format!("[{}:{}] {}", l.module, l.level, l.message),
                    )
                })
                .collect();
            self.cache = Some(SimRun {
                timeline: crate::simulate::sim_to_timeline(&sim, 0.0),
                lines,
                until,
            });
        }
        // Just filled when it was stale.
        self.cache.get_or_insert_with(|| SimRun {
            timeline: Timeline::default(),
            lines: Vec::new(),
            until: 0.0,
        })
    }

    /// Move the virtual clock to `vt` and hand the model the rows and log lines up to it.
    pub fn advance_to(&mut self, vt: f64, model: &mut super::model::Model) {
        self.vt = vt;
        let (next_row, next_log) = (self.next_row, self.next_log);
        let run = self.simulate();
        let (tl, lines) = (&run.timeline, &run.lines);
        let rows: Vec<Row> = tl.rows[next_row.min(tl.rows.len())..]
            .iter()
            .take_while(|r| r.t <= vt)
            .cloned()
            .collect();
        let logs: Vec<(f64, String)> = lines[next_log.min(lines.len())..]
            .iter()
            .take_while(|(t, _)| *t <= vt)
            .cloned()
            .collect();
        self.next_row += rows.len();
        self.next_log += logs.len();
        for (t, l) in logs {
            model.push_log(t, &l);
        }
        for row in rows {
            model.push_sample(Sample {
                row,
                ..Sample::default()
            });
        }
    }
}

#[cfg(test)]
#[path = "playback_tests.rs"]
mod tests;
