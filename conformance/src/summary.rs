//! A timeline in words: per load phase, runs of growth and reaping with their rates, the
//! maxima, and the error-log lines on the same time axis. The layout follows the reference
//! `summary.txt` files so that ours and Apache's read side by side.

mod words;

use crate::errorlog;
use crate::i18n::Lang;
use crate::load::LoadRow;
use crate::timeline::{Row, Timeline};
use std::fmt::Write as _;

/// Start-up and shutdown chatter left out of the log section (as the reference summaries do).
pub const SKIP_CODES: [&str; 11] = [
    "AH00094", "AH00164", "AH00293", "AH00490", "AH00163", "AH00292", "AH00489", "AH00169",
    "AH00295", "AH00491", "AH00558",
];

/// One monotone run of changes of a column.
#[derive(Debug, Clone, PartialEq)]
pub struct ChangeRun {
    /// +1 growing, -1 shrinking.
    pub dir: i8,
    pub t0: f64,
    pub v0: f64,
    pub t1: f64,
    pub v1: f64,
    pub steps: usize,
}

impl ChangeRun {
    /// Change per second over the run.
    pub fn rate(&self) -> f64 {
        let dt = self.t1 - self.t0;
        if dt > 0.0 {
            (self.v1 - self.v0) / dt
        } else {
            f64::INFINITY
        }
    }
}

/// Group the changes of `value(row)` into monotone runs; changes in the same direction
/// separated by at most `gap` seconds belong to one run.
pub fn change_runs(rows: &[Row], value: impl Fn(&Row) -> Option<f64>, gap: f64) -> Vec<ChangeRun> {
    let mut runs: Vec<ChangeRun> = Vec::new();
    let mut prev: Option<(f64, f64)> = None;
    for r in rows {
        let Some(v) = value(r) else { continue };
        if let Some((pt, pv)) = prev
            && v != pv
        {
            let dir = if v > pv { 1 } else { -1 };
            match runs.last_mut() {
                Some(last) if last.dir == dir && r.t - last.t1 <= gap => {
                    last.t1 = r.t;
                    last.v1 = v;
                    last.steps += 1;
                }
                _ => runs.push(ChangeRun {
                    dir,
                    t0: pt,
                    v0: pv,
                    t1: r.t,
                    v1: v,
                    steps: 1,
                }),
            }
        }
        prev = Some((r.t, v));
    }
    runs
}

/// Parse a load CSV (ours or `load.py`'s).
pub fn parse_load_csv(text: &str) -> Vec<LoadRow> {
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap_or("").split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name);
    lines
        .filter_map(|l| {
            let c: Vec<&str> = l.split(',').collect();
            let f = |name: &str| {
                col(name)
                    .and_then(|i| c.get(i))
                    .and_then(|v| v.parse::<f64>().ok())
            };
            Some(LoadRow {
                t: f("t")?,
                epoch: f("epoch")?,
                phase: f("phase")? as usize,
                target: f("target")? as usize,
                connecting: f("connecting").unwrap_or(0.0) as usize,
                held: f("held").unwrap_or(0.0) as usize,
                opened: f("opened").unwrap_or(0.0) as u64,
                connect_fail: f("connect_fail").unwrap_or(0.0) as u64,
                server_closed: f("server_closed").unwrap_or(0.0) as u64,
                responses: f("responses").unwrap_or(0.0) as u64,
                client_closed: f("client_closed").unwrap_or(0.0) as u64,
            })
        })
        .collect()
}

/// Error-log lines as (t relative to `epoch0`, `"[module:level] message"`), chatter skipped.
/// Timestamps are read in the local time zone, as Apache wrote them.
pub fn error_lines(log: &str, epoch0: f64) -> Vec<(f64, String)> {
    error_lines_in(log, epoch0, &jiff::tz::TimeZone::system())
}

/// [`error_lines`] for a log written in time zone `tz` (the reference runs were made in UTC).
pub fn error_lines_in(log: &str, epoch0: f64, tz: &jiff::tz::TimeZone) -> Vec<(f64, String)> {
    log.lines()
        .filter_map(errorlog::parse_line)
        .map(|mut l| {
            l.epoch = errorlog::parse_timestamp_in(&l.timestamp, tz);
            l
        })
        .filter(|l| !SKIP_CODES.iter().any(|c| l.message.starts_with(c)))
        .filter(|l| !l.message.starts_with("listening on "))
        .filter_map(|l| {
            Some((
                l.epoch? - epoch0,
                format!("[{}:{}] {}", l.module, l.level, l.message),
            ))
        })
        .collect()
}

/// A load phase on the timeline's axis.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PhaseSpan {
    pub phase: usize,
    pub target: usize,
    pub t0: f64,
    pub t1: f64,
    /// Most connections the client held during the phase (from the load log), if known.
    pub held: Option<usize>,
}

/// Phases as the load log saw them (times relative to `epoch0`, the timeline's t = 0).
pub fn phase_spans(load: &[LoadRow], epoch0: f64) -> Vec<PhaseSpan> {
    let mut spans: Vec<PhaseSpan> = Vec::new();
    for l in load {
        let t = l.epoch - epoch0;
        match spans.last_mut() {
            Some(s) if s.phase == l.phase => {
                s.t1 = t + 0.5;
                s.held = Some(s.held.unwrap_or(0).max(l.held));
            }
            _ => spans.push(PhaseSpan {
                phase: l.phase,
                target: l.target,
                t0: t,
                t1: t + 0.5,
                held: Some(l.held),
            }),
        }
    }
    for i in 0..spans.len().saturating_sub(1) {
        spans[i].t1 = spans[i + 1].t0;
    }
    spans
}

/// Phases as planned, starting `offset` seconds into the timeline (for simulations).
pub fn planned_spans(phases: &crate::phases::Phases, offset: f64) -> Vec<PhaseSpan> {
    phases
        .spans()
        .into_iter()
        .enumerate()
        .map(|(i, (s, e, target))| PhaseSpan {
            phase: i,
            target,
            t0: s + offset,
            t1: e + offset,
            held: None,
        })
        .collect()
}

fn fmt_opt(v: Option<f64>) -> String {
    v.map(|x| format!("{x}")).unwrap_or_else(|| "-".into())
}

fn max_of(it: impl Iterator<Item = f64>) -> Option<f64> {
    it.fold(None, |m, v| Some(m.map_or(v, |m: f64| m.max(v))))
}

fn min_of(it: impl Iterator<Item = f64>) -> Option<f64> {
    it.fold(None, |m, v| Some(m.map_or(v, |m: f64| m.min(v))))
}

/// The text summary of a timeline, with the load log and error log when given.
pub fn summarize(tl: &Timeline, load: Option<&[LoadRow]>, error_log: Option<&str>) -> String {
    summarize_lang(tl, load, error_log, Lang::En)
}

/// [`summarize`] in `lang`.
pub fn summarize_lang(
    tl: &Timeline,
    load: Option<&[LoadRow]>,
    error_log: Option<&str>,
    lang: Lang,
) -> String {
    let spans = load
        .map(|l| phase_spans(l, tl.epoch0()))
        .unwrap_or_default();
    let lines =
        error_log.map(|log| error_lines_in(log, tl.epoch0(), &jiff::tz::TimeZone::system()));
    summarize_spans_lang(tl, &spans, lines.as_deref(), lang)
}

/// [`summarize`] for an error log written in time zone `tz`.
pub fn summarize_in(
    tl: &Timeline,
    load: Option<&[LoadRow]>,
    error_log: Option<&str>,
    tz: &jiff::tz::TimeZone,
) -> String {
    let spans = load
        .map(|l| phase_spans(l, tl.epoch0()))
        .unwrap_or_default();
    let lines = error_log.map(|log| error_lines_in(log, tl.epoch0(), tz));
    summarize_spans(tl, &spans, lines.as_deref())
}

/// The text summary from phase spans and already-placed log lines (t, `"[module:level] msg"`).
pub fn summarize_spans(
    tl: &Timeline,
    spans: &[PhaseSpan],
    log_lines: Option<&[(f64, String)]>,
) -> String {
    summarize_spans_lang(tl, spans, log_lines, Lang::En)
}

/// [`summarize_spans`] in `lang` (the numbers, column names and log lines are the same).
pub fn summarize_spans_lang(
    tl: &Timeline,
    spans: &[PhaseSpan],
    log_lines: Option<&[(f64, String)]>,
    lang: Lang,
) -> String {
    let rows = &tl.rows;
    let mut o = String::new();
    let Some(last) = rows.last() else {
        return format!("{}\n", words::empty(lang));
    };
    let fails: Vec<&Row> = rows.iter().filter(|r| !r.ok).collect();
    let mut src: Vec<&str> = rows
        .iter()
        .map(|r| r.proc_src.as_str())
        .filter(|s| !s.is_empty())
        .collect();
    src.sort_unstable();
    src.dedup();
    o.push_str(&words::samples(lang, rows.len(), last.t, fails.len()));
    if let (Some(a), Some(b)) = (fails.first(), fails.last()) {
        let _ = write!(o, " (t={:.1}..{:.1})", a.t, b.t);
    }
    let _ = writeln!(
        o,
        "; {}: {}",
        words::processes_from(lang),
        if src.is_empty() {
            "-".into()
        } else {
            src.join(",")
        }
    );
    let r0 = &rows[0];
    let _ = writeln!(
        o,
        "{}: processes={} busy={} idle={} os_children={} os_threads={}",
        words::start(lang),
        fmt_opt(r0.processes),
        fmt_opt(r0.busy),
        fmt_opt(r0.idle),
        fmt_opt(r0.os_children),
        fmt_opt(r0.os_threads)
    );

    let mut load_end = None;
    if !spans.is_empty() {
        let _ = writeln!(o, "\n{}", words::phase_header(lang));
        for sp in spans {
            let (ph, target, ts, te) = (sp.phase, sp.target, sp.t0, sp.t1);
            // A status reply describes the server when it was generated: at the end of the fetch.
            let seg: Vec<&Row> = rows
                .iter()
                .filter(|r| {
                    let at = r.t
                        + if r.ok {
                            r.fetch_ms.unwrap_or(0.0) / 1000.0
                        } else {
                            0.0
                        };
                    ts <= at && at < te
                })
                .collect();
            if seg.is_empty() {
                continue;
            }
            let procs: Vec<(f64, f64)> = seg
                .iter()
                .filter_map(|r| r.processes.map(|p| (p, r.t)))
                .collect();
            let pmax = max_of(procs.iter().map(|p| p.0));
            let tmax = pmax.and_then(|m| procs.iter().find(|p| p.0 == m).map(|p| p.1));
            let busy = max_of(seg.iter().filter_map(|r| r.busy));
            let idle = min_of(seg.iter().filter_map(|r| r.idle));
            let held = sp.held.map(|h| h.to_string()).unwrap_or_else(|| "-".into());
            let nfail = seg.iter().filter(|r| !r.ok).count();
            let _ = writeln!(
                o,
                "{ph:>5}  {target:6}  {ts:7.1}  {te:6.1}   {:>5} -> {} (t={:.1}, +{:.1}s)  {:>7} {:>8}  {held:>6}        {nfail}/{}",
                procs
                    .first()
                    .map(|p| format!("{:.1}", p.0))
                    .unwrap_or_else(|| "-".into()),
                pmax.map(|m| format!("{m:.1}"))
                    .unwrap_or_else(|| "-".into()),
                tmax.unwrap_or(ts),
                tmax.unwrap_or(ts) - ts,
                busy.map(|b| format!("{b:.1}"))
                    .unwrap_or_else(|| "-".into()),
                idle.map(|b| format!("{b:.1}"))
                    .unwrap_or_else(|| "-".into()),
                seg.len()
            );
        }
        if let Some(last) = spans.last()
            && last.target == 0
        {
            load_end = Some(last.t0);
        }
    }
    let _ = writeln!(o, "{}", words::poll_note(lang));
    let _ = writeln!(o, "\n{}", words::changes(lang));
    for run in change_runs(rows, |r| r.processes, 3.0) {
        let _ = writeln!(
            o,
            "  t={:6.1}..{:6.1}  {} -> {}  ({} {}, {:+.2}/s)",
            run.t0,
            run.t1,
            run.v0,
            run.v1,
            run.steps,
            words::steps(lang),
            run.rate()
        );
    }
    let procs: Vec<(f64, f64)> = rows
        .iter()
        .filter_map(|r| r.processes.map(|p| (p, r.t)))
        .collect();
    if let Some(pm) = max_of(procs.iter().map(|p| p.0)) {
        let tm = procs.iter().find(|p| p.0 == pm).map(|p| p.1).unwrap_or(0.0);
        let fin = procs.last().copied().unwrap_or((0.0, 0.0));
        let _ = writeln!(o, "{}", words::max_processes(lang, pm, tm, fin.0, fin.1));
        if let Some(end) = load_end {
            let last_change = rows
                .windows(2)
                .filter(|w| {
                    w[0].processes.is_some()
                        && w[1].processes.is_some()
                        && w[0].processes != w[1].processes
                })
                .map(|w| w[1].t)
                .fold(None, |m: Option<f64>, t| Some(m.map_or(t, |m| m.max(t))));
            let at_end = procs.iter().find(|p| p.1 >= end).map(|p| p.0);
            if let Some(lc) = last_change.filter(|&lc| lc > end) {
                let _ = writeln!(o, "{}", words::after_load(lang, end, &fmt_opt(at_end), lc));
            }
        }
    }
    if let Some(b) = max_of(rows.iter().filter_map(|r| r.busy)) {
        let tot = max_of(rows.iter().filter_map(|r| Some(r.busy? + r.idle?)));
        // `{:?}` prints a float sum as the reference summaries do ("150.0").
        let tot = tot.map(|t| format!("{t:?}")).unwrap_or_else(|| "-".into());
        let _ = writeln!(o, "{}", words::max_busy(lang, b, &tot));
    }
    if let Some(c) = max_of(rows.iter().filter_map(|r| r.os_children)) {
        let t = max_of(rows.iter().filter_map(|r| r.os_threads));
        let _ = writeln!(o, "{}", words::proc_max(lang, c, &fmt_opt(t)));
    }
    if let Some(lines) = log_lines {
        let _ = writeln!(o, "\n{}", words::error_log(lang));
        for (t, msg) in lines {
            let msg: String = msg.chars().take(220).collect();
            let _ = writeln!(o, "  t={t:7.2}  {msg}");
        }
    }
    o
}
