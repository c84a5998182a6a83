//! The shared part of the MPM simulators: load phases, a virtual clock and the timeline.
//!
//! Each MPM crate has a `sim.rs` that models its children (prefork: one connection per process;
//! worker/event: threads) and calls the **same** pure `maintenance::decide` the real server calls,
//! once per virtual second. What they share lives here:
//!
//! * [`Phase`] and [`parse_phases`]: the load, written `TARGET:SECONDS,…` exactly as the reference
//!   `load.py --phases 0:5,40:10,120:15,160:10,0:5` (hold TARGET connections for SECONDS, phases back to
//!   back, nothing held after the last one);
//! * [`VirtualClock`]: time that only moves when the simulator says so, so 200 simulated seconds
//!   take milliseconds;
//! * [`Timeline`] / [`TimelineRow`]: the samples, with the columns of a real `mpm-lab run`
//!   (`t, processes, threads, busy, idle, graceful, scoreboard`) and the error-log lines the
//!   simulated parent would have written, so a simulated run and a measured one can be compared
//!   side by side ([`Timeline::process_runs`] mirrors the reference `summarize.py`).
//!
//! Nothing here knows about any MPM: the MPM's model fills the rows.

use std::fmt;
use std::time::Duration;

/// One load phase: hold `target` connections open for `duration`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Phase {
    /// Connections held during the phase.
    pub target: usize,
    /// How long the phase lasts.
    pub duration: Duration,
}

/// Why a `--phases` string was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PhaseError {
    /// A comma-separated part is not `TARGET:SECONDS`.
    NotAPair(String),
    /// TARGET is not a non-negative integer.
    BadTarget(String),
    /// SECONDS is not a non-negative number.
    BadSeconds(String),
    /// The string holds no phase at all.
    Empty,
}

impl fmt::Display for PhaseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PhaseError::NotAPair(p) => write!(f, "phase {p:?} is not TARGET:SECONDS"),
            PhaseError::BadTarget(p) => write!(f, "phase {p:?}: TARGET must be a whole number"),
            PhaseError::BadSeconds(p) => write!(f, "phase {p:?}: SECONDS must be a number >= 0"),
            PhaseError::Empty => write!(f, "no phases given"),
        }
    }
}

impl std::error::Error for PhaseError {}

/// Parse `"0:5,40:10,120:15"` (TARGET:SECONDS, comma separated; blanks around items ignored;
/// fractional seconds allowed).
pub fn parse_phases(s: &str) -> Result<Vec<Phase>, PhaseError> {
    let mut phases = Vec::new();
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (target, secs) = part
            .split_once(':')
            .ok_or_else(|| PhaseError::NotAPair(part.into()))?;
        let target: usize = target
            .trim()
            .parse()
            .map_err(|_| PhaseError::BadTarget(part.into()))?;
        let secs: f64 = secs
            .trim()
            .parse()
            .map_err(|_| PhaseError::BadSeconds(part.into()))?;
        if !secs.is_finite() || secs < 0.0 {
            return Err(PhaseError::BadSeconds(part.into()));
        }
        phases.push(Phase {
            target,
            duration: Duration::from_secs_f64(secs),
        });
    }
    if phases.is_empty() {
        return Err(PhaseError::Empty);
    }
    Ok(phases)
}

/// The whole load's length.
pub fn total_duration(phases: &[Phase]) -> Duration {
    phases.iter().map(|p| p.duration).sum()
}

/// How many connections the load holds at `t` (0 after the last phase).
pub fn target_at(phases: &[Phase], t: Duration) -> usize {
    let mut end = Duration::ZERO;
    for p in phases {
        end += p.duration;
        if t < end {
            return p.target;
        }
    }
    0
}

/// The index of the phase active at `t` (`None` after the last phase).
pub fn phase_at(phases: &[Phase], t: Duration) -> Option<usize> {
    let mut end = Duration::ZERO;
    for (i, p) in phases.iter().enumerate() {
        end += p.duration;
        if t < end {
            return Some(i);
        }
    }
    None
}

/// Time that moves only when told to. Simulators pass [`VirtualClock::now`] to `decide` where the
/// real server passes the time since start.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct VirtualClock {
    now: Duration,
}

impl VirtualClock {
    /// A clock at t = 0.
    pub fn new() -> Self {
        Self::default()
    }

    /// The current virtual time since the start of the simulation.
    pub fn now(&self) -> Duration {
        self.now
    }

    /// Move the clock forward by `d`.
    pub fn advance(&mut self, d: Duration) {
        self.now += d;
    }
}

/// One line the simulated server would have written to its error log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimLogLine {
    /// Virtual time of the line.
    pub t: Duration,
    /// Apache module name (`mpm_prefork`, `core`, …).
    pub module: &'static str,
    /// Level name as Apache prints it (`info`, `error`, `notice`, …).
    pub level: &'static str,
    /// The message, AH code first, exactly as the real server writes it.
    pub message: String,
}

impl fmt::Display for SimLogLine {
    /// `[t=12.000] [mpm_prefork:info] AH00162: …` — the real line with virtual time in place of
    /// the timestamp and no pid (there is no process).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "[t={:.3}] [{}:{}] {}",
            self.t.as_secs_f64(),
            self.module,
            self.level,
            self.message
        )
    }
}

/// One sample, with the columns of a real run's timeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimelineRow {
    /// Time of the sample since the start.
    pub t: Duration,
    /// Child processes alive (a real run counts them from the scoreboard or /proc).
    pub processes: usize,
    /// Threads that serve connections, over all children (prefork: = processes).
    pub threads: usize,
    /// Busy worker slots (R, W, K, L, C, D) as `?auto` BusyWorkers counts them.
    pub busy: usize,
    /// Idle worker slots (`_`) as `?auto` IdleWorkers counts them.
    pub idle: usize,
    /// Slots shown as `G` (finishing after a graceful restart/stop).
    pub graceful: usize,
    /// Connections the load wanted held but that wait in the listen backlog (no free worker).
    pub backlog: usize,
    /// The scoreboard string of `?auto` (one character per slot).
    pub scoreboard: String,
    /// Error-log lines written since the previous row.
    pub log: Vec<SimLogLine>,
}

/// A whole simulated run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Timeline {
    /// The samples, in time order.
    pub rows: Vec<TimelineRow>,
}

/// A run of consecutive process-count changes in one direction (`summarize.py`'s "monotone runs").
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ProcessRun {
    /// Time of the last sample before the first change.
    pub t_start: f64,
    /// Time of the sample with the last change of the run.
    pub t_end: f64,
    /// Process count before the run.
    pub from: usize,
    /// Process count at the end of the run.
    pub to: usize,
    /// How many samples changed the count.
    pub steps: usize,
}

impl Timeline {
    /// The CSV header of [`Timeline::to_csv`]; these names match the reference `timeline.csv`.
    pub const CSV_HEADER: &'static str =
        "t,processes,threads,busy,idle,graceful,backlog,scoreboard";

    /// The timeline as CSV (one row per sample), the columns of [`Self::CSV_HEADER`].
    pub fn to_csv(&self) -> String {
        let mut out = String::from(Self::CSV_HEADER);
        out.push('\n');
        for r in &self.rows {
            out.push_str(&format!(
                "{:.3},{},{},{},{},{},{},{}\n",
                r.t.as_secs_f64(),
                r.processes,
                r.threads,
                r.busy,
                r.idle,
                r.graceful,
                r.backlog,
                r.scoreboard
            ));
        }
        out
    }

    /// Every log line of the run, in order, one per text line.
    pub fn error_log(&self) -> String {
        self.log_lines().map(|l| format!("{l}\n")).collect()
    }

    /// Iterate over every log line of the run.
    pub fn log_lines(&self) -> impl Iterator<Item = &SimLogLine> {
        self.rows.iter().flat_map(|r| r.log.iter())
    }

    /// The greatest process count and the first time it was reached.
    pub fn max_processes(&self) -> Option<(usize, Duration)> {
        let max = self.rows.iter().map(|r| r.processes).max()?;
        let first = self.rows.iter().find(|r| r.processes == max)?;
        Some((max, first.t))
    }

    /// The row in effect at `t` (the last sample not after `t`).
    pub fn at(&self, t: Duration) -> Option<&TimelineRow> {
        self.rows.iter().take_while(|r| r.t <= t).last()
    }

    /// Process-count changes grouped into monotone runs, as the reference summary prints them
    /// ("t= 6.8..13.0  5 -> 68 (6 steps)").
    pub fn process_runs(&self) -> Vec<ProcessRun> {
        let mut runs: Vec<ProcessRun> = Vec::new();
        let mut dir = 0i8;
        for w in self.rows.windows(2) {
            let (a, b) = (&w[0], &w[1]);
            if a.processes == b.processes {
                continue;
            }
            let d = if b.processes > a.processes { 1 } else { -1 };
            match runs.last_mut() {
                Some(run) if d == dir => {
                    run.to = b.processes;
                    run.t_end = b.t.as_secs_f64();
                    run.steps += 1;
                }
                _ => {
                    runs.push(ProcessRun {
                        t_start: a.t.as_secs_f64(),
                        t_end: b.t.as_secs_f64(),
                        from: a.processes,
                        to: b.processes,
                        steps: 1,
                    });
                    dir = d;
                }
            }
        }
        runs
    }

    /// A short text summary: the process runs and the log lines (what the lab's `expected/` holds).
    pub fn summary(&self) -> String {
        let mut out = String::new();
        if let Some((max, t)) = self.max_processes() {
            out.push_str(&format!(
                "max processes: {max} (first at t={:.1})\n",
                t.as_secs_f64()
            ));
        }
        out.push_str("process-count changes (monotone runs):\n");
        for r in self.process_runs() {
            out.push_str(&format!(
                "  t={:6.1}..{:6.1}  {} -> {}  ({} steps)\n",
                r.t_start, r.t_end, r.from, r.to, r.steps
            ));
        }
        out.push_str("error_log:\n");
        for l in self.log_lines() {
            out.push_str(&format!("  {l}\n"));
        }
        out
    }
}

/// What an MPM's simulator model offers the shared driver, [`drive`]. Each MPM keeps its own
/// model (slots, threads, its own `decide`); the clock, the phases and the sampling live here once.
pub trait SimModel {
    /// Hold exactly `target` client connections: new ones take idle workers (the rest wait in
    /// the listen backlog), ended ones free theirs.
    fn apply_load(&mut self, target: usize);
    /// The timeline row for time `t`, with the log lines written since the previous row.
    fn row(&mut self, t: Duration) -> TimelineRow;
    /// Children forked during the previous sampling step have finished starting.
    fn finish_starting(&mut self);
    /// One idle-server maintenance pass at `now` (the MPM's real `decide`).
    fn maintenance(&mut self, now: Duration);
}

/// Run `model` under `phases`: a row every `tick`, a maintenance pass every second (§1.1), and
/// after the load up to `drain` more for the idle surplus to leave. Stops early once nothing has
/// changed for five simulated seconds after the load.
pub fn drive(
    model: &mut impl SimModel,
    phases: &[Phase],
    tick: Duration,
    drain: Duration,
) -> Timeline {
    let tick = tick.max(Duration::from_millis(1));
    let mut clock = VirtualClock::new();
    let load_end = total_duration(phases);
    let end = load_end + drain;
    let second = Duration::from_secs(1);
    let mut next_pass = second;
    let mut timeline = Timeline::default();
    let mut quiet_rows = 0u128;
    loop {
        let now = clock.now();
        model.apply_load(target_at(phases, now));
        let row = model.row(now);
        let settled = now >= load_end
            && timeline
                .rows
                .last()
                .is_some_and(|p: &TimelineRow| p.processes == row.processes && p.busy == row.busy);
        quiet_rows = if settled && row.log.is_empty() {
            quiet_rows + 1
        } else {
            0
        };
        timeline.rows.push(row);
        if now >= end || quiet_rows * tick.as_millis() > 5_000 {
            break;
        }
        clock.advance(tick);
        model.finish_starting();
        while next_pass <= clock.now() {
            model.apply_load(target_at(phases, next_pass));
            model.maintenance(next_pass);
            next_pass += second;
        }
    }
    timeline
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phases_parse_the_reference_scenario() {
        let p = parse_phases("0:5, 40:10,120:15,160:10,0:5").unwrap();
        assert_eq!(p.len(), 5);
        assert_eq!(
            p[1],
            Phase {
                target: 40,
                duration: Duration::from_secs(10)
            }
        );
        assert_eq!(total_duration(&p), Duration::from_secs(45));
        assert_eq!(target_at(&p, Duration::from_secs(4)), 0);
        assert_eq!(target_at(&p, Duration::from_secs(5)), 40);
        assert_eq!(target_at(&p, Duration::from_millis(14_999)), 40);
        assert_eq!(target_at(&p, Duration::from_secs(15)), 120);
        assert_eq!(target_at(&p, Duration::from_secs(100)), 0);
        assert_eq!(phase_at(&p, Duration::from_secs(31)), Some(3));
        assert_eq!(phase_at(&p, Duration::from_secs(45)), None);
        assert_eq!(
            parse_phases("1:0.5").unwrap()[0].duration,
            Duration::from_millis(500)
        );
    }

    #[test]
    fn phases_refuse_garbage() {
        assert_eq!(parse_phases(""), Err(PhaseError::Empty));
        assert!(matches!(parse_phases("5"), Err(PhaseError::NotAPair(_))));
        assert!(matches!(
            parse_phases("-1:5"),
            Err(PhaseError::BadTarget(_))
        ));
        assert!(matches!(
            parse_phases("1:-5"),
            Err(PhaseError::BadSeconds(_))
        ));
        assert!(matches!(
            parse_phases("1:x"),
            Err(PhaseError::BadSeconds(_))
        ));
    }

    fn row(t: u64, processes: usize) -> TimelineRow {
        TimelineRow {
            t: Duration::from_secs(t),
            processes,
            threads: processes,
            busy: 0,
            idle: processes,
            graceful: 0,
            backlog: 0,
            scoreboard: "_".repeat(processes),
            log: Vec::new(),
        }
    }

    #[test]
    fn timeline_groups_monotone_runs() {
        let tl = Timeline {
            rows: [5, 5, 6, 8, 12, 12, 11, 10, 10]
                .iter()
                .enumerate()
                .map(|(i, &p)| row(i as u64, p))
                .collect(),
        };
        let runs = tl.process_runs();
        assert_eq!(runs.len(), 2);
        assert_eq!((runs[0].from, runs[0].to, runs[0].steps), (5, 12, 3));
        assert_eq!((runs[1].from, runs[1].to, runs[1].steps), (12, 10, 2));
        assert_eq!(tl.max_processes(), Some((12, Duration::from_secs(4))));
        assert_eq!(tl.at(Duration::from_millis(2500)).unwrap().processes, 6);
        assert!(tl.to_csv().starts_with(
            "t,processes,threads,busy,idle,graceful,backlog,scoreboard\n0.000,5,5,0,5,0,0,_____\n"
        ));
    }
}
