//! Timelines: one row every 200 ms of what the status page and /proc say.
//!
//! The CSV columns are exactly those of the reference `timeline.py`, so a timeline of our
//! server, one of real Apache (`reference/run*/<mpm>.timeline.csv`) and one from the simulator
//! load into the same [`Row`] and compare directly.

use crate::http;
use crate::procfs;
use crate::status::StatusAuto;
use std::fmt::Write as _;
use std::io;
use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant};

/// Scoreboard characters and their column names, in column order.
pub const SB_CHARS: [(char, &str); 11] = [
    ('_', "sb_wait"),
    ('S', "sb_S"),
    ('R', "sb_R"),
    ('W', "sb_W"),
    ('K', "sb_K"),
    ('D', "sb_D"),
    ('C', "sb_C"),
    ('L', "sb_L"),
    ('G', "sb_G"),
    ('I', "sb_I"),
    ('.', "sb_open"),
];

/// The CSV header, as `timeline.py` writes it.
pub const COLS: &str = "t,epoch,ok,processes,proc_src,busy,idle,graceful,sb_wait,sb_S,sb_R,sb_W,sb_K,sb_D,sb_C,sb_L,sb_G,sb_I,sb_open,conns_total,conns_keepalive,conns_writing,conns_closing,os_children,os_threads,os_rss_kb,fetch_ms,scoreboard";

/// One sample. `None` is an empty CSV cell (a failed status poll, or no `--pid`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Row {
    pub t: f64,
    pub epoch: f64,
    pub ok: bool,
    pub processes: Option<f64>,
    /// `key` (the `Processes:` key), `sb` (counted from the scoreboard), `os` (/proc), `sim`.
    pub proc_src: String,
    pub busy: Option<f64>,
    pub idle: Option<f64>,
    pub graceful: Option<f64>,
    /// Counts of the [`SB_CHARS`] characters, in that order.
    pub sb: [Option<f64>; 11],
    pub conns_total: Option<f64>,
    pub conns_keepalive: Option<f64>,
    pub conns_writing: Option<f64>,
    pub conns_closing: Option<f64>,
    pub os_children: Option<f64>,
    pub os_threads: Option<f64>,
    pub os_rss_kb: Option<f64>,
    pub fetch_ms: Option<f64>,
    pub scoreboard: String,
}

fn cell(v: Option<f64>) -> String {
    match v {
        Some(x) if x.fract() == 0.0 => format!("{}", x as i64),
        Some(x) => format!("{x}"),
        None => String::new(),
    }
}

fn num(s: &str) -> Option<f64> {
    s.trim().parse().ok()
}

impl Row {
    /// One CSV line (no newline).
    pub fn csv(&self) -> String {
        let mut s = format!(
            "{:.3},{:.3},{},{},{},{},{},{}",
            self.t,
            self.epoch,
            u8::from(self.ok),
            cell(self.processes),
            self.proc_src,
            cell(self.busy),
            cell(self.idle),
            cell(self.graceful)
        );
        for v in self.sb {
            let _ = write!(s, ",{}", cell(v));
        }
        for v in [
            self.conns_total,
            self.conns_keepalive,
            self.conns_writing,
            self.conns_closing,
            self.os_children,
            self.os_threads,
            self.os_rss_kb,
        ] {
            let _ = write!(s, ",{}", cell(v));
        }
        let fetch = self.fetch_ms.map(|f| format!("{f:.1}")).unwrap_or_default();
        let _ = write!(s, ",{fetch},{}", self.scoreboard);
        s
    }

    /// Parse a CSV line written by us or by `timeline.py` (no cell holds a comma).
    pub fn parse(header: &[&str], line: &str) -> Option<Row> {
        let cells: Vec<&str> = line.split(',').collect();
        let get = |name: &str| {
            header
                .iter()
                .position(|h| *h == name)
                .and_then(|i| cells.get(i))
                .copied()
        };
        let n = |name: &str| get(name).and_then(num);
        let mut r = Row {
            t: n("t")?,
            epoch: n("epoch").unwrap_or(0.0),
            ok: get("ok") == Some("1"),
            processes: n("processes"),
            proc_src: get("proc_src").unwrap_or("").to_string(),
            busy: n("busy"),
            idle: n("idle"),
            graceful: n("graceful"),
            conns_total: n("conns_total"),
            conns_keepalive: n("conns_keepalive"),
            conns_writing: n("conns_writing"),
            conns_closing: n("conns_closing"),
            os_children: n("os_children"),
            os_threads: n("os_threads"),
            os_rss_kb: n("os_rss_kb"),
            fetch_ms: n("fetch_ms"),
            scoreboard: get("scoreboard").unwrap_or("").to_string(),
            ..Row::default()
        };
        for (i, (_, col)) in SB_CHARS.iter().enumerate() {
            r.sb[i] = n(col);
        }
        Some(r)
    }

    /// Fill the status-page columns from a parsed `?auto` page.
    pub fn set_status(&mut self, st: &StatusAuto, tpc: usize) {
        self.ok = true;
        self.busy = st.int("BusyWorkers").map(|v| v as f64);
        self.idle = st.int("IdleWorkers").map(|v| v as f64);
        self.graceful = st.int("GracefulWorkers").map(|v| v as f64);
        self.scoreboard = st.scoreboard.clone();
        if !st.scoreboard.is_empty() {
            for (i, (c, _)) in SB_CHARS.iter().enumerate() {
                self.sb[i] = Some(st.count(*c) as f64);
            }
        }
        self.conns_total = st.int("ConnsTotal").map(|v| v as f64);
        self.conns_keepalive = st.int("ConnsAsyncKeepAlive").map(|v| v as f64);
        self.conns_writing = st.int("ConnsAsyncWriting").map(|v| v as f64);
        self.conns_closing = st.int("ConnsAsyncClosing").map(|v| v as f64);
        if st.get("Processes").is_some() {
            self.processes = st.processes(tpc).map(|v| v as f64);
            self.proc_src = "key".into();
        } else if let Some(p) = st
            .processes(tpc)
            .filter(|_| tpc > 0 || st.mpm() == "prefork")
        {
            self.processes = Some(p as f64);
            self.proc_src = "sb".into();
        }
    }
}

/// A whole timeline.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Timeline {
    pub rows: Vec<Row>,
}

impl Timeline {
    /// Read a CSV file (ours or the reference's).
    pub fn read(path: &Path) -> io::Result<Timeline> {
        Ok(Timeline::parse_csv(&std::fs::read_to_string(path)?))
    }

    /// Parse CSV text.
    pub fn parse_csv(text: &str) -> Timeline {
        let mut lines = text.lines();
        let header: Vec<&str> = lines.next().unwrap_or("").split(',').collect();
        Timeline {
            rows: lines.filter_map(|l| Row::parse(&header, l)).collect(),
        }
    }

    /// The CSV text.
    pub fn to_csv(&self) -> String {
        let mut s = String::from(COLS);
        s.push('\n');
        for r in &self.rows {
            s.push_str(&r.csv());
            s.push('\n');
        }
        s
    }

    /// Unix time of t = 0.
    pub fn epoch0(&self) -> f64 {
        self.rows.first().map(|r| r.epoch - r.t).unwrap_or(0.0)
    }
}

/// Take one sample: a status poll (one fresh connection, `Connection: close`, bounded by
/// `timeout`) and, when `pid` is given, the /proc columns. `tpc` is the scoreboard width of one
/// process for worker when there is no `Processes:` key (0: unknown).
pub fn sample(
    addr: SocketAddr,
    pid: Option<i32>,
    tpc: usize,
    t0: Instant,
    timeout: Duration,
) -> Row {
    sample_with(
        || http::get_with_timeout(addr, "/server-status?auto", timeout),
        pid,
        tpc,
        t0,
    )
}

/// [`sample`] with the status poll done by `fetch` (`mpm-lab top` may poll over a kept
/// connection): the time it takes is the row's `fetch_ms`.
pub fn sample_with(
    fetch: impl FnOnce() -> io::Result<http::Response>,
    pid: Option<i32>,
    tpc: usize,
    t0: Instant,
) -> Row {
    let now = t0.elapsed().as_secs_f64();
    let mut row = Row {
        t: now,
        epoch: crate::load::epoch_now(),
        ..Row::default()
    };
    let f0 = Instant::now();
    match fetch() {
        Ok(r) if r.status == 200 => row.set_status(&StatusAuto::parse(&r.text()), tpc),
        _ => row.ok = false,
    }
    row.fetch_ms = Some(f0.elapsed().as_secs_f64() * 1000.0);
    if let Some(pid) = pid {
        let st = procfs::tree_stats(pid);
        row.os_children = Some(st.children as f64);
        row.os_threads = Some(st.threads as f64);
        row.os_rss_kb = Some(st.rss_kb as f64);
        if row.processes.is_none() {
            row.processes = row.os_children;
            row.proc_src = "os".into();
        }
    }
    row
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_the_reference_format() {
        let text = format!(
            "{COLS}\n0.000,1795363328.028,1,5,sb,1,4,0,4,0,0,1,0,0,0,0,0,0,145,,,,,5,6,24248,3.0,____W...\n0.200,1795363328.229,0,,,,,,,,,,,,,,,,,,,,,5,6,24684,1001.6,\n"
        );
        let tl = Timeline::parse_csv(&text);
        assert_eq!(tl.rows.len(), 2);
        assert_eq!(tl.rows[0].processes, Some(5.0));
        assert_eq!(tl.rows[0].sb[0], Some(4.0));
        assert!(!tl.rows[1].ok);
        assert_eq!(tl.to_csv(), text);
    }
}
