//! What `mpm-lab run`, `compare` and `bench` do, as library functions (the binary only parses
//! arguments). `simulate` lives in the binary because it calls the MPM crates.
//!
//! A run, step by step:
//! 1. start our server from a config (or attach to a URL, e.g. real Apache);
//! 2. sample `/server-status?auto` and /proc every `interval` into `timeline.csv`;
//! 3. after `before` seconds, drive the phased load (held partial requests, or idle keep-alive
//!    connections), logging the client side into `load.csv`; send any scheduled signals;
//! 4. keep sampling `after` seconds once the load has ended;
//! 5. write `summary.txt`, `timeline.svg`, and copy the config, error log and access log (if
//!    the config has a CustomLog) next to them.

use crate::i18n::Lang;
use crate::load::{self, LoadRow, Mode};
use crate::phases::Phases;
use crate::plot;
use crate::procfs;
use crate::server::{Mpm, ServerTest};
use crate::summary::{self, PhaseSpan};
use crate::timeline::{self, Row, Timeline};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use std::fs;
use std::io::{self, Write};
use std::net::SocketAddr;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What to run the load against.
#[derive(Debug, Clone)]
pub enum Target {
    /// Start one of our servers (`binary`) on `config`.
    Ours {
        mpm: Mpm,
        binary: PathBuf,
        config: PathBuf,
    },
    /// A server that is already running (real Apache, nginx with a compatible status page…).
    Url {
        addr: SocketAddr,
        pid: Option<i32>,
        error_log: Option<PathBuf>,
    },
}

/// `mpm-lab run` options.
#[derive(Debug, Clone)]
pub struct RunOptions {
    pub target: Target,
    pub phases: Phases,
    pub mode: Mode,
    pub out: PathBuf,
    /// Seconds sampled before the load starts (the reference runs used 2).
    pub before: f64,
    /// Seconds sampled after the load ends.
    pub after: f64,
    pub interval: Duration,
    /// Scoreboard characters per process (ThreadsPerChild) when `?auto` has no `Processes:`.
    pub tpc: Option<usize>,
    /// Signals to send to the server's parent, in seconds after the load started.
    pub signals: Vec<(f64, Signal)>,
    /// Print a progress line on stderr.
    pub progress: bool,
    /// The language of the summary [`run`] returns (`summary.txt` is always English).
    pub lang: Lang,
}

/// Parse `T:NAME` (`10:graceful`, `30:restart`, `45:stop`, `50:graceful-stop`, or a signal
/// name such as `USR1`).
pub fn parse_signal(s: &str) -> Result<(f64, Signal), String> {
    let (t, name) = s
        .split_once(':')
        .ok_or_else(|| format!("{s:?} is not T:SIGNAL"))?;
    let t: f64 = t.parse().map_err(|_| format!("{s:?}: bad time"))?;
    let sig = match name.to_ascii_lowercase().trim_start_matches("sig") {
        "graceful" | "usr1" => Signal::SIGUSR1,
        "restart" | "hup" => Signal::SIGHUP,
        "stop" | "term" => Signal::SIGTERM,
        "graceful-stop" | "winch" => Signal::SIGWINCH,
        other => {
            return Err(format!(
                "unknown signal {other:?} (graceful, restart, stop, graceful-stop)"
            ));
        }
    };
    Ok((t, sig))
}

/// The last `ThreadsPerChild` in a config (25 if none; 1 for prefork).
pub fn threads_per_child(config: &str, mpm: Mpm) -> usize {
    if mpm == Mpm::Prefork {
        return 1;
    }
    config
        .lines()
        .rev()
        .filter_map(|l| {
            let mut w = l.split_whitespace();
            let d = w.next()?;
            d.eq_ignore_ascii_case("ThreadsPerChild")
                .then(|| w.next()?.parse().ok())?
        })
        .next()
        .unwrap_or(25)
}

/// Everything a run or a simulation leaves in its output directory.
pub struct Outputs<'a> {
    pub title: &'a str,
    pub timeline: &'a Timeline,
    pub spans: &'a [PhaseSpan],
    pub load: &'a [LoadRow],
    /// Log lines already placed on the timeline's axis.
    pub log_lines: &'a [(f64, String)],
    /// The language of the returned summary.
    pub lang: Lang,
}

/// Write `timeline.csv`, `load.csv`, `summary.txt` and `timeline.svg` into `out`; returns the
/// summary text in `o.lang` (the file is English: committed outputs do not depend on the
/// locale of whoever regenerated them).
pub fn write_outputs(out: &Path, o: &Outputs) -> io::Result<String> {
    fs::create_dir_all(out)?;
    fs::write(out.join("timeline.csv"), o.timeline.to_csv())?;
    let mut l = String::from(load::LOAD_COLS);
    l.push('\n');
    for r in o.load {
        l.push_str(&r.csv());
        l.push('\n');
    }
    fs::write(out.join("load.csv"), l)?;
    let lines = (!o.log_lines.is_empty()).then_some(o.log_lines);
    let text = format!(
        "{}\n{}",
        o.title,
        summary::summarize_spans(o.timeline, o.spans, lines)
    );
    fs::write(out.join("summary.txt"), &text)?;
    let text = match o.lang {
        Lang::En => text,
        lang => format!(
            "{}\n{}",
            o.title,
            summary::summarize_spans_lang(o.timeline, o.spans, lines, lang)
        ),
    };
    let spans: Vec<plot::Span> = o.spans.iter().map(|s| (s.t0, s.t1, s.target)).collect();
    plot::plot_timeline(&out.join("timeline.svg"), o.title, o.timeline, &spans)?;
    Ok(text)
}

fn progress_line(t: f64, phase: Option<&LoadRow>, row: Option<&Row>) {
    let load = phase
        .map(|l| {
            format!(
                "phase {} target {:>4} held {:>4}",
                l.phase, l.target, l.held
            )
        })
        .unwrap_or_else(|| "no load".into());
    let srv = row
        .map(|r| {
            let f = |v: Option<f64>| v.map(|x| format!("{x}")).unwrap_or_else(|| "-".into());
            format!(
                "processes {} threads {} busy {} idle {}",
                f(r.processes),
                f(r.os_threads),
                f(r.busy),
                f(r.idle)
            )
        })
        .unwrap_or_default();
    eprint!("\r\x1b[2Kt={t:6.1}s  {load} | {srv}");
    let _ = io::stderr().flush();
}

/// `mpm-lab run`: steps 1–5 of the module doc. Returns the summary.
pub fn run(opts: &RunOptions) -> io::Result<String> {
    fs::create_dir_all(&opts.out)?;
    // Step 1.
    let (server, addr, pid, tpc, title) = match &opts.target {
        Target::Ours {
            mpm,
            binary,
            config,
        } => {
            let text = fs::read_to_string(config)?;
            let tpc = opts.tpc.unwrap_or_else(|| threads_per_child(&text, *mpm));
            let mut t = ServerTest::new(*mpm)
                .binary(binary)
                .config_file(fs::canonicalize(config)?);
            if opts.mode == Mode::Cgi {
                t = with_sleep_cgi(t, *mpm);
            }
            let s = t.try_start().map_err(|e| io::Error::other(e.to_string()))?;
            if opts.mode == Mode::Cgi {
                sleep_cgi_executable(&s)?;
            }
            let (a, p) = (s.addr(), s.pid());
            fs::copy(s.config_path(), opts.out.join("httpd.conf"))?;
            let title = format!(
                "{} ({}), phases {}",
                server_label(binary),
                shown_path(config),
                opts.phases
            );
            (Some(s), a, Some(p), tpc, title)
        }
        Target::Url { addr, pid, .. } => (
            None,
            *addr,
            *pid,
            opts.tpc.unwrap_or(0),
            format!(
                "{} (http://{addr}), phases {}",
                url_label(*addr),
                opts.phases
            ),
        ),
    };
    let t0 = Instant::now();
    let rows: Arc<Mutex<Vec<Row>>> = Arc::default();
    let loads: Arc<Mutex<Vec<LoadRow>>> = Arc::default();
    let turnover: Mutex<crate::turnover::Turnover> = Mutex::default();
    let stop_sampler = AtomicBool::new(false);
    let stop_load = AtomicBool::new(false);
    let load_start = Arc::new(Mutex::new(None::<f64>));
    std::thread::scope(|sc| -> io::Result<()> {
        // Step 2: the sampler.
        let sampler = sc.spawn(|| {
            let mut n: u32 = 0;
            while !stop_sampler.load(Ordering::Relaxed) {
                let row = timeline::sample(addr, pid, tpc, t0, Duration::from_secs(1));
                if let Some(p) = pid {
                    let children: Vec<i32> =
                        procfs::tree(p).into_iter().filter(|&c| c != p).collect();
                    turnover
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .observe(row.t, &children);
                }
                rows.lock().unwrap_or_else(|e| e.into_inner()).push(row);
                n += 1;
                let next = opts.interval * n;
                let now = t0.elapsed();
                if next > now {
                    std::thread::sleep(next - now);
                } else {
                    // A slow poll (every worker busy): re-anchor instead of bursting.
                    n = (now.as_secs_f64() / opts.interval.as_secs_f64()) as u32;
                }
            }
        });
        // Step 3: the load, after `before` seconds of baseline.
        let before = Duration::from_secs_f64(opts.before);
        while t0.elapsed() < before {
            if opts.progress {
                let r = rows
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .last()
                    .cloned();
                progress_line(t0.elapsed().as_secs_f64(), None, r.as_ref());
            }
            std::thread::sleep(Duration::from_millis(250).min(before.saturating_sub(t0.elapsed())));
        }
        let loader = sc.spawn(|| {
            *load_start.lock().unwrap_or_else(|e| e.into_inner()) =
                Some(t0.elapsed().as_secs_f64());
            load::run_phases(addr, &opts.phases, opts.mode, &stop_load, |r| {
                loads
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push(r.clone());
            })
        });
        let load_t0 = Instant::now();
        let mut pending: Vec<(f64, Signal)> = opts.signals.clone();
        pending.sort_by(|a, b| a.0.total_cmp(&b.0));
        let mut after_deadline: Option<Instant> = None;
        loop {
            let elapsed = load_t0.elapsed().as_secs_f64();
            while let Some(&(t, sig)) = pending.first() {
                if t > elapsed {
                    break;
                }
                pending.remove(0);
                if let Some(p) = pid {
                    let _ = kill(Pid::from_raw(p), sig);
                    if opts.progress {
                        eprintln!("\nsent {sig:?} at load t={elapsed:.1}s");
                    }
                }
            }
            if after_deadline.is_none() && loader.is_finished() {
                after_deadline = Some(Instant::now() + Duration::from_secs_f64(opts.after));
            }
            if after_deadline.is_some_and(|d| Instant::now() >= d) {
                break;
            }
            if opts.progress {
                let l = loads
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .last()
                    .cloned();
                let r = rows
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .last()
                    .cloned();
                let l = if loader.is_finished() { None } else { l };
                progress_line(t0.elapsed().as_secs_f64(), l.as_ref(), r.as_ref());
            }
            std::thread::sleep(Duration::from_millis(250));
        }
        stop_load.store(true, Ordering::Relaxed);
        let last = loader
            .join()
            .map_err(|_| io::Error::other("load thread panicked"))?;
        loads.lock().unwrap_or_else(|e| e.into_inner()).push(last);
        stop_sampler.store(true, Ordering::Relaxed);
        sampler
            .join()
            .map_err(|_| io::Error::other("sampler thread panicked"))?;
        if opts.progress {
            eprintln!();
        }
        Ok(())
    })?;
    // Step 5.
    let tl = Timeline {
        rows: std::mem::take(&mut *rows.lock().unwrap_or_else(|e| e.into_inner())),
    };
    let load_rows = std::mem::take(&mut *loads.lock().unwrap_or_else(|e| e.into_inner()));
    let error_log = match (&server, &opts.target) {
        (Some(s), _) => Some(s.error_log()),
        (
            None,
            Target::Url {
                error_log: Some(p), ..
            },
        ) => fs::read_to_string(p).ok(),
        _ => None,
    };
    if let Some(log) = &error_log {
        fs::write(opts.out.join("error_log"), log)?;
    }
    if let Some(s) = &server
        && !s.access_log().is_empty()
    {
        fs::write(opts.out.join("access_log"), s.access_log())?;
    }
    drop(server);
    let spans = summary::phase_spans(&load_rows, tl.epoch0());
    let lines = error_log
        .map(|l| summary::error_lines(&l, tl.epoch0()))
        .unwrap_or_default();
    let text = write_outputs(
        &opts.out,
        &Outputs {
            title: &title,
            timeline: &tl,
            spans: &spans,
            load: &load_rows,
            log_lines: &lines,
            lang: opts.lang,
        },
    )?;
    // Recycled children leave the process count flat: the pids show them (lab 06).
    let turnover = turnover.into_inner().unwrap_or_else(|e| e.into_inner());
    let pids = turnover.summary(&spans);
    if !pids.is_empty() {
        let file = opts.out.join("summary.txt");
        let english = fs::read_to_string(&file)?;
        fs::write(&file, format!("{english}{pids}"))?;
    }
    Ok(format!(
        "{text}{}",
        turnover.summary_lang(&spans, opts.lang)
    ))
}

/// What a server found by URL calls itself, from its `?auto` page's `ServerVersion` and
/// `ServerMPM`: `Apache 2.4.71 event`, or `mpm-lab 0.1.0 event` for ours; `server` if the page
/// does not answer.
fn url_label(addr: SocketAddr) -> String {
    let Ok(r) = crate::http::get_with_timeout(addr, "/server-status?auto", Duration::from_secs(2))
    else {
        return "server".into();
    };
    let st = crate::status::StatusAuto::parse(&r.text());
    let version = st
        .get("ServerVersion")
        .and_then(|v| v.split_whitespace().next())
        .map(|v| v.replace('/', " "))
        .unwrap_or_else(|| "server".into());
    match st.get("ServerMPM") {
        Some(mpm) => format!("{version} {mpm}"),
        None => version,
    }
}

/// `mpm-lab replot DIR`: draw `DIR/timeline.svg` again from `timeline.csv`, `load.csv` and the
/// title line of `summary.txt`, so that a change to the plot reaches committed outputs without
/// re-running their load.
pub fn replot(dir: &Path) -> io::Result<()> {
    let csv = dir.join("timeline.csv");
    let tl = Timeline::read(&csv)?;
    let (load, _, title) = siblings(&csv);
    let load_rows = load
        .map(|p| fs::read_to_string(p).map(|t| summary::parse_load_csv(&t)))
        .transpose()?
        .unwrap_or_default();
    let spans: Vec<plot::Span> = summary::phase_spans(&load_rows, tl.epoch0())
        .iter()
        .map(|s| (s.t0, s.t1, s.target))
        .collect();
    plot::plot_timeline(&dir.join("timeline.svg"), &title, &tl, &spans)
}

/// What a plot or a summary calls a server binary: `mpm-prefork` for our binary or its
/// conformance shim (`conf-prefork`), wherever it was built; otherwise the file name. A title
/// never carries the build directory, so committed outputs do not change from one checkout to
/// the next.
pub fn server_label(binary: &Path) -> String {
    let name = binary
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("server");
    match crate::Mpm::from_name(name) {
        Some(mpm) => mpm.binary_name().to_string(),
        None => name.to_string(),
    }
}

/// A path as a title shows it: as given when relative (`book/labs/01-…/httpd.conf`), only its
/// file name when absolute (a temporary or build directory means nothing to a reader).
pub fn shown_path(p: &Path) -> String {
    if p.is_absolute() {
        p.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    } else {
        p.display().to_string()
    }
}

/// The label of a timeline in `compare`: `Apache 2.4.71 prefork (reference run1)` for a
/// reference file `prefork.timeline.csv` (the version read from its error log); for one of our outputs, the first line of the
/// `summary.txt` beside it (`mpm-prefork (httpd.conf), phases …`); else the path as given.
fn timeline_label(csv: &Path, name: &str) -> String {
    let dir = csv.parent().unwrap_or(Path::new("."));
    let dir_name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    if let Some(mpm) = name.strip_suffix(".timeline.csv") {
        // The version is the one the run's own error log announces (AH00163/AH00292/AH00489).
        let log = fs::read_to_string(dir.join(format!("{mpm}.error_log"))).unwrap_or_default();
        let version = log
            .split_whitespace()
            .find_map(|w| w.strip_prefix("Apache/"))
            .map(|v| format!("Apache {v}"))
            .unwrap_or_else(|| "Apache".into());
        return format!("{version} {mpm} (reference {dir_name})");
    }
    let first = fs::read_to_string(dir.join("summary.txt"))
        .ok()
        .and_then(|t| t.lines().next().map(str::to_string))
        .filter(|l| !l.starts_with("timeline:") && !l.is_empty());
    first.unwrap_or_else(|| shown_path(csv))
}

/// The files that belong with a timeline CSV: (load log, error log, label). For
/// `X.timeline.csv` they are `X.load.csv` and `X.error_log` (the reference layout); for
/// `timeline.csv`, `load.csv` and `error_log` (ours).
pub fn siblings(csv: &Path) -> (Option<PathBuf>, Option<PathBuf>, String) {
    let dir = csv.parent().unwrap_or(Path::new("."));
    let name = csv.file_name().and_then(|n| n.to_str()).unwrap_or("");
    let (load, log) = match name.strip_suffix(".timeline.csv") {
        Some(stem) => (
            dir.join(format!("{stem}.load.csv")),
            dir.join(format!("{stem}.error_log")),
        ),
        None => (dir.join("load.csv"), dir.join("error_log")),
    };
    let label = timeline_label(csv, name);
    (
        load.is_file().then_some(load),
        log.is_file().then_some(log),
        label,
    )
}

/// The side-by-side table's row labels, in headline order.
fn headline_labels(lang: Lang) -> [&'static str; 9] {
    match lang {
        Lang::En => [
            "samples",
            "failed status polls",
            "processes at start",
            "max processes",
            "max threads (/proc)",
            "max busy",
            "final processes",
            "growth runs",
            "reaping runs",
        ],
        Lang::Es => [
            "muestras",
            "consultas de estado fallidas",
            "procesos al inicio",
            "máximo de procesos",
            "máximo de hilos (/proc)",
            "máximo de ocupados",
            "procesos al final",
            "tramos de crecimiento",
            "tramos de retirada",
        ],
    }
}

/// Headline figures of one timeline, for the side-by-side table.
fn headline(tl: &Timeline, lang: Lang) -> Vec<(String, String)> {
    let f = |v: Option<f64>| v.map(|x| format!("{x}")).unwrap_or_else(|| "-".into());
    let max = |g: fn(&Row) -> Option<f64>| {
        tl.rows
            .iter()
            .filter_map(g)
            .fold(None, |m: Option<f64>, v| Some(m.map_or(v, |m| m.max(v))))
    };
    let runs = summary::change_runs(&tl.rows, |r| r.processes, 3.0);
    let grow = runs
        .iter()
        .filter(|r| r.dir > 0)
        .map(|r| format!("{}→{} ({:+.2}/s)", r.v0, r.v1, r.rate()))
        .collect::<Vec<_>>();
    let shrink = runs
        .iter()
        .filter(|r| r.dir < 0)
        .map(|r| format!("{}→{} ({:+.2}/s)", r.v0, r.v1, r.rate()))
        .collect::<Vec<_>>();
    let values = [
        tl.rows.len().to_string(),
        tl.rows.iter().filter(|r| !r.ok).count().to_string(),
        f(tl.rows.first().and_then(|r| r.processes)),
        f(max(|r| r.processes)),
        f(max(|r| r.os_threads)),
        f(max(|r| r.busy)),
        f(tl.rows.last().and_then(|r| r.processes)),
        if grow.is_empty() {
            "-".into()
        } else {
            grow.join(", ")
        },
        if shrink.is_empty() {
            "-".into()
        } else {
            shrink.join(", ")
        },
    ];
    headline_labels(lang)
        .into_iter()
        .map(String::from)
        .zip(values)
        .collect()
}

/// `mpm-lab compare A B --out DIR`: a side-by-side table, both summaries, one SVG with two
/// panels. Returns the text (also written to `DIR/compare.txt`).
pub fn compare(a: &Path, b: &Path, out: &Path) -> io::Result<String> {
    compare_lang(a, b, out, Lang::En)
}

/// [`compare`], returning the text in `lang` (`compare.txt` stays English).
pub fn compare_lang(a: &Path, b: &Path, out: &Path, lang: Lang) -> io::Result<String> {
    let english = compare_in(a, b, out, Lang::En)?;
    if lang == Lang::En {
        return Ok(english);
    }
    let text = compare_in(a, b, out, lang)?;
    fs::write(out.join("compare.txt"), &english)?;
    Ok(text)
}

fn compare_in(a: &Path, b: &Path, out: &Path, lang: Lang) -> io::Result<String> {
    fs::create_dir_all(out)?;
    let mut text = String::new();
    let mut panels = Vec::new();
    let mut heads = Vec::new();
    let mut summaries = Vec::new();
    for csv in [a, b] {
        let tl = Timeline::read(csv)?;
        let (load, log, label) = siblings(csv);
        let load_rows = load
            .map(|p| fs::read_to_string(p).map(|t| summary::parse_load_csv(&t)))
            .transpose()?
            .unwrap_or_default();
        let log_text = log.map(fs::read_to_string).transpose()?;
        summaries.push(format!(
            "== {label}\n{}",
            summary::summarize_lang(&tl, Some(&load_rows), log_text.as_deref(), lang)
        ));
        let spans: Vec<plot::Span> = summary::phase_spans(&load_rows, tl.epoch0())
            .iter()
            .map(|s| (s.t0, s.t1, s.target))
            .collect();
        heads.push(headline(&tl, lang));
        panels.push((label, tl, spans));
    }
    let w = heads[0].iter().map(|(k, _)| k.len()).max().unwrap_or(10);
    let wa = heads[0]
        .iter()
        .map(|(_, v)| v.chars().count())
        .max()
        .unwrap_or(10)
        .max(1);
    text.push_str(&format!(
        "A = {}\nB = {}\n\n{:w$}  {:wa$}  B\n",
        panels[0].0, panels[1].0, "", "A"
    ));
    for ((k, va), (_, vb)) in heads[0].iter().zip(&heads[1]) {
        text.push_str(&format!("{k:w$}  {va:wa$}  {vb}\n"));
    }
    text.push('\n');
    text.push_str(&summaries.join("\n"));
    fs::write(out.join("compare.txt"), &text)?;
    let refs: Vec<(&str, &Timeline, &[plot::Span])> = panels
        .iter()
        .map(|(l, t, s)| (l.as_str(), t, s.as_slice()))
        .collect();
    plot::plot_panels(&out.join("compare.svg"), &refs)?;
    Ok(text)
}

/// The bundled sleep CGI is written by the harness as a plain file: make it executable.
pub fn sleep_cgi_executable(s: &crate::Server) -> io::Result<()> {
    let script = s.dir().join("htdocs/cgi-bin/sleep.cgi");
    fs::set_permissions(&script, fs::Permissions::from_mode(0o755))
}

/// `--mode cgi` on our server (and every server `mpm-lab top` starts): the bundled sleep CGI in `htdocs/cgi-bin/`, mod_alias with
/// Debian's ScriptAlias, and mod_cgi (prefork) or mod_cgid (worker, event), as the reference
/// `apache.sh` does with `CGI=1`. Modules the configuration already loads are not loaded again.
pub fn with_sleep_cgi(t: ServerTest, mpm: Mpm) -> ServerTest {
    let (module, file) = match mpm {
        Mpm::Prefork => ("cgi_module", "mod_cgi"),
        _ => ("cgid_module", "mod_cgid"),
    };
    let mut t = t
        .file(
            "cgi-bin/sleep.cgi",
            include_str!("../fixtures/cgi-bin/sleep.cgi"),
        )
        .directive("<IfModule !mod_alias.c>")
        .directive("LoadModule alias_module /usr/lib/apache2/modules/mod_alias.so")
        .directive("</IfModule>")
        .directive(&format!("<IfModule !{file}.c>"))
        .directive(&format!(
            "LoadModule {module} /usr/lib/apache2/modules/{file}.so"
        ))
        .directive("</IfModule>")
        .directive("ScriptAlias /cgi-bin/ \"@DIR@/htdocs/cgi-bin/\"");
    if mpm != Mpm::Prefork {
        // The rewritten configuration may have no ServerRoot/logs for the default socket.
        t = t.directive("ScriptSock \"@DIR@/cgisock\"");
    }
    t
}
