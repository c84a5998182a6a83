//! What `top`'s screen shows, as plain data: fed samples (from `?auto` and /proc, a recorded
//! timeline or the simulator), error-log lines and the actions of the keyboard; read by
//! [`super::render`]. No I/O and no clock here: every input carries its time `t` (seconds on
//! the timeline's axis), so the unit tests drive it with fixed sequences.

use super::codes;
use crate::load::LoadRow;
use crate::timeline::Row;
use std::collections::VecDeque;

/// Seconds of history the timeline chart shows by default.
pub const DEFAULT_WINDOW: f64 = 180.0;
/// Entries kept in the feed (log lines, events and actions).
const FEED_LEN: usize = 200;

/// A process slot as the worker table of `?notable` shows it: which pid and generation hold it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SlotInfo {
    pub slot: usize,
    pub pid: u32,
    pub generation: u32,
}

/// One process of the server tree, from /proc.
#[derive(Debug, Clone, PartialEq)]
pub struct ProcRow {
    pub pid: i32,
    /// The control process (the others are its children).
    pub parent: bool,
    pub threads: usize,
    pub rss_kb: u64,
    /// Proportional set size (smaps_rollup), read less often than the rest.
    pub pss_kb: Option<u64>,
    /// CPU use since the previous reading, in percent of one core.
    pub cpu_percent: Option<f64>,
}

/// One reading from a source.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Sample {
    /// The timeline row, exactly as `mpm-lab run` records it.
    pub row: Row,
    /// `ParentServerMPMGeneration` (the running generation), if the page has it.
    pub generation: Option<u32>,
    /// Slot → pid and generation, when this poll read `?notable`.
    pub slots: Option<Vec<SlotInfo>>,
    /// The server's process tree, when there is a pid to read /proc from.
    pub procs: Option<Vec<ProcRow>>,
}

/// What a feed entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The process count went up between two samples.
    Fork,
    /// The process count went down.
    Reap,
    /// AH00161 / AH00286 / AH00484 (and the "within MinSpareThreads" variants).
    MaxWorkers,
    /// A graceful restart was logged (AH00171 / AH00297 / AH00493).
    Graceful,
    /// A hard restart was logged (AH00173 / AH00298 / AH00494).
    Restart,
    /// A stop or graceful stop was logged.
    Stop,
    /// Any other error-log line.
    Log,
    /// Something `top` did (a key).
    Action,
    /// Something the client side saw (the server closed held connections, a burst ended).
    Client,
}

impl Kind {
    /// The short tag shown in the feed.
    pub fn tag(self) -> &'static str {
        match self {
            Kind::Fork => "fork",
            Kind::Reap => "reap",
            Kind::MaxWorkers => "MAX",
            Kind::Graceful => "grace",
            Kind::Restart => "rstrt",
            Kind::Stop => "stop",
            Kind::Log => "log",
            Kind::Action => "key",
            Kind::Client => "conns",
        }
    }

    /// Whether the timeline marks this entry with a vertical line (fork and reap show in the
    /// process curve itself; plain log lines would clutter it).
    pub fn marked(self) -> bool {
        matches!(
            self,
            Kind::MaxWorkers | Kind::Graceful | Kind::Restart | Kind::Stop | Kind::Action
        )
    }

    /// The mark of this entry in the timeline's event row, and its priority when two entries
    /// fall in the same column (`None`: not marked).
    pub fn mark(self) -> Option<(char, u8)> {
        Some(match self {
            Kind::MaxWorkers => ('!', 5),
            Kind::Graceful => ('G', 4),
            Kind::Restart => ('H', 4),
            Kind::Stop => ('S', 4),
            Kind::Action => ('*', 3),
            Kind::Fork => ('+', 2),
            Kind::Reap => ('-', 1),
            Kind::Log | Kind::Client => return None,
        })
    }

    /// The kind of an error-log message, by its AH code.
    fn of_message(msg: &str) -> Kind {
        match codes::code_in(msg) {
            Some("AH00161" | "AH00286" | "AH00484" | "AH00287" | "AH10159") => Kind::MaxWorkers,
            Some("AH00171" | "AH00297" | "AH00493") => Kind::Graceful,
            Some("AH00173" | "AH00298" | "AH00494") => Kind::Restart,
            Some("AH00169" | "AH00295" | "AH00491" | "AH00170" | "AH00296" | "AH00492") => {
                Kind::Stop
            }
            _ => Kind::Log,
        }
    }
}

/// One line of the feed.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub t: f64,
    pub kind: Kind,
    pub text: String,
}

/// Connections `top` itself holds open against the server.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Held {
    /// Partial requests (a worker in `R` each).
    pub partial: usize,
    /// Idle keep-alive connections.
    pub keepalive: usize,
}

impl Held {
    pub fn total(self) -> usize {
        self.partial + self.keepalive
    }
}

/// One row of the scoreboard grid: a process slot and its workers' letters.
#[derive(Debug, Clone, PartialEq)]
pub struct GridRow {
    pub slot: usize,
    pub letters: String,
    pub pid: Option<u32>,
    pub generation: Option<u32>,
    /// The slot's generation is not the running one (a child of before a graceful restart).
    pub old_generation: bool,
}

/// Everything the screen shows.
#[derive(Debug, Clone)]
pub struct Model {
    /// What is watched (`mpm-prefork (conf) at 127.0.0.1:PORT`, `replay of X`, …).
    pub title: String,
    /// `prefork`, `worker` or `event`, when known.
    pub mpm: Option<String>,
    /// Scoreboard letters per process slot (ThreadsPerChild; 1 for prefork).
    pub tpc: usize,
    /// Seconds of history in the timeline chart.
    pub window: f64,
    /// The server's parent pid, when known.
    pub pid: Option<i32>,
    /// Every sample, oldest first: what `record` writes as `timeline.csv`.
    pub rows: Vec<Row>,
    /// The client-side load log (one row per change of what `top` holds).
    pub load: Vec<LoadRow>,
    pub generation: Option<u32>,
    pub slots: Vec<SlotInfo>,
    pub procs: Vec<ProcRow>,
    pub feed: VecDeque<Entry>,
    /// Error-log lines as (t, `"[module:level] message"`), for `summary.txt`.
    pub log_lines: Vec<(f64, String)>,
    pub held: Held,
    /// The latest explained AH code seen in the log.
    pub last_code: Option<&'static codes::Explained>,
    /// A line about the source's clock (`live, polling every 250 ms`, `replay ×4, paused`).
    pub clock: String,
    /// The last thing `top` did or could not do, for the footer.
    pub message: String,
    pub show_help: bool,
}

impl Model {
    pub fn new(title: impl Into<String>, mpm: Option<&str>, tpc: usize) -> Model {
        Model {
            title: title.into(),
            mpm: mpm.map(str::to_string),
            tpc: tpc.max(1),
            window: DEFAULT_WINDOW,
            pid: None,
            rows: Vec::new(),
            load: Vec::new(),
            generation: None,
            slots: Vec::new(),
            procs: Vec::new(),
            feed: VecDeque::new(),
            log_lines: Vec::new(),
            held: Held::default(),
            last_code: None,
            clock: String::new(),
            message: "? for help".into(),
            show_help: false,
        }
    }

    /// The latest sample.
    pub fn latest(&self) -> Option<&Row> {
        self.rows.last()
    }

    /// The latest sample whose status poll answered with a scoreboard (a poll fails when every
    /// worker is busy: the screen then keeps the last scoreboard it saw).
    pub fn last_scoreboard(&self) -> Option<&Row> {
        self.rows
            .iter()
            .rev()
            .find(|r| r.ok && !r.scoreboard.is_empty())
    }

    /// The time of the latest sample (0 before the first).
    pub fn now(&self) -> f64 {
        self.latest().map_or(0.0, |r| r.t)
    }

    /// The samples inside the chart's window.
    pub fn visible_rows(&self) -> &[Row] {
        let from = self.now() - self.window;
        let i = self.rows.partition_point(|r| r.t < from);
        &self.rows[i..]
    }

    /// The feed entries inside the chart's window.
    pub fn visible_feed(&self) -> impl Iterator<Item = &Entry> {
        let from = self.now() - self.window;
        self.feed.iter().filter(move |e| e.t >= from)
    }

    fn push_entry(&mut self, t: f64, kind: Kind, text: String) {
        if self.feed.len() == FEED_LEN {
            self.feed.pop_front();
        }
        self.feed.push_back(Entry { t, kind, text });
    }

    /// Take one sample: the row goes on the timeline; a change in the process count becomes a
    /// fork or reap entry; a new running generation is noted.
    pub fn push_sample(&mut self, s: Sample) {
        let before = self.latest().and_then(|r| r.processes);
        if let (Some(a), Some(b)) = (before, s.row.processes) {
            let t = s.row.t;
            if b > a {
                self.push_entry(t, Kind::Fork, format!("+{} → {b} processes", b - a));
            } else if b < a {
                self.push_entry(t, Kind::Reap, format!("−{} → {b} processes", a - b));
            }
        }
        if let Some(g) = s.generation {
            if self.generation.is_some_and(|old| old != g) {
                self.push_entry(s.row.t, Kind::Graceful, format!("generation {g} running"));
            }
            self.generation = Some(g);
        }
        if let Some(slots) = s.slots {
            self.slots = slots;
        }
        if let Some(procs) = s.procs {
            self.procs = procs;
        }
        self.rows.push(s.row);
    }

    /// Take one error-log line (`[module:level] message` or a raw Apache line) at time `t`.
    pub fn push_log(&mut self, t: f64, line: &str) {
        let text = match crate::errorlog::parse_line(line) {
            Some(l) => format!("[{}:{}] {}", l.module, l.level, l.message),
            None => line.trim_end().to_string(),
        };
        if text.is_empty() {
            return;
        }
        let kind = Kind::of_message(&text);
        if let Some(x) = codes::code_in(&text).and_then(codes::explain) {
            self.last_code = Some(x);
        }
        self.log_lines.push((t, text.clone()));
        self.push_entry(t, kind, text);
    }

    /// Note something `top` did (or refused to do) at time `t`.
    pub fn action(&mut self, t: f64, text: impl Into<String>) {
        let text = text.into();
        self.message = text.clone();
        self.push_entry(t, Kind::Action, text);
    }

    /// Note something the client side saw at time `t` (not marked on the timeline).
    pub fn client(&mut self, t: f64, text: impl Into<String>) {
        let text = text.into();
        self.message = text.clone();
        self.push_entry(t, Kind::Client, text);
    }

    /// The connections `top` holds changed: one load-log row (each change is a new phase, so
    /// `mpm-lab compare` draws the held count as it draws a run's phases).
    pub fn set_held(&mut self, t: f64, epoch: f64, held: Held) {
        if held == self.held && !self.load.is_empty() {
            return;
        }
        self.held = held;
        let phase = self.load.last().map_or(0, |l| l.phase + 1);
        // `responses`: each held keep-alive connection has had its one response; a partial
        // request none. So the split survives the round trip through load.csv.
        self.load.push(LoadRow {
            t,
            epoch,
            phase,
            target: held.total(),
            held: held.total(),
            responses: held.keepalive as u64,
            ..LoadRow::default()
        });
    }

    /// The [`last_scoreboard`](Self::last_scoreboard) as one row per process slot, leaving out slots whose
    /// workers are all `.` (open). Each row carries the slot's pid and generation when known.
    pub fn grid(&self) -> Vec<GridRow> {
        let Some(r) = self.last_scoreboard() else {
            return Vec::new();
        };
        let letters: Vec<char> = r.scoreboard.chars().collect();
        letters
            .chunks(self.tpc)
            .enumerate()
            .filter(|(_, c)| c.iter().any(|&l| l != '.'))
            .map(|(slot, c)| {
                let info = self.slots.iter().find(|s| s.slot == slot);
                GridRow {
                    slot,
                    letters: c.iter().collect(),
                    pid: info.map(|i| i.pid),
                    generation: info.map(|i| i.generation),
                    old_generation: match (info, self.generation) {
                        (Some(i), Some(g)) => i.generation != g,
                        _ => false,
                    },
                }
            })
            .collect()
    }

    /// The slot and generation of the child `pid`, when `?notable` named it.
    pub fn slot_of(&self, pid: i32) -> Option<SlotInfo> {
        self.slots.iter().copied().find(|s| s.pid as i32 == pid)
    }
}

/// The worker rows of `/server-status?notable` as slot → (pid, generation): Apache writes one
/// `<b>Server SLOT-GEN</b> (PID): …` line per worker that is busy or has served a request.
pub fn parse_notable(html: &str) -> Vec<SlotInfo> {
    let mut out: Vec<SlotInfo> = Vec::new();
    for part in html.split("<b>Server ").skip(1) {
        let Some((sg, rest)) = part.split_once("</b> (") else {
            continue;
        };
        let Some((slot, generation)) = sg.split_once('-') else {
            continue;
        };
        let pid = rest.split(')').next().unwrap_or("");
        let (Ok(slot), Ok(generation), Ok(pid)) = (slot.parse(), generation.parse(), pid.parse())
        else {
            continue; // a worker with no process ("-")
        };
        if !out.iter().any(|s: &SlotInfo| s.slot == slot) {
            out.push(SlotInfo {
                slot,
                pid,
                generation,
            });
        }
    }
    out.sort_by_key(|s| s.slot);
    out
}

#[cfg(test)]
#[path = "model_tests.rs"]
mod tests;
