//! `mpm-lab`: load a server in phases and watch it grow and shrink; simulate the same load;
//! compare timelines (ours, real Apache's, simulated); benchmark; print the rule table.
//!
//! ```text
//! mpm-lab run      --server mpm-prefork --config F --phases 0:5,40:10,… --out DIR
//! mpm-lab run      --server http://127.0.0.1:18080 --pid P --tpc 25 --phases … --out DIR
//! mpm-lab simulate --mpm prefork --config F --phases … --out DIR
//! mpm-lab compare  A/timeline.csv reference/run1/prefork.timeline.csv --out DIR
//! mpm-lab bench    --server mpm-event --config F [--apache] [--nginx]
//! mpm-lab rules    --out book/src/reference/rules.md [--check]
//! ```
//! The work is done by the `conformance` library (`conformance::lab`, `timeline`, `summary`,
//! `plot`, `bench`, `rules`); this file parses arguments and calls the MPM simulators.

use clap::{Parser, Subcommand, ValueEnum};
use conformance::lab::{self, Outputs, RunOptions, Target};
use conformance::load::{LoadRow, Mode};
use conformance::phases::Phases;
use conformance::summary;
use conformance::timeline::{Row, SB_CHARS, Timeline};
use conformance::{Mpm, ServerTest, bench, rules};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

const REFERENCE_PHASES: &str = "0:5,40:10,120:15,160:10,0:5";

#[derive(Parser)]
#[command(
    name = "mpm-lab",
    version,
    about = "Drive, watch, simulate and compare mpm-lab servers (and real Apache)."
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Run a phased load against our server (started here) or a running one (URL); record a timeline.
    Run(RunArgs),
    /// Run the MPM's simulator on the same config and phases (virtual time: well under a second).
    Simulate(SimArgs),
    /// Put two timelines side by side (text and one SVG).
    Compare(CompareArgs),
    /// Requests/s and latency for keep-alive and close, 1 KiB and 100 KiB.
    Bench(BenchArgs),
    /// Write the rule table (rules × MPM → tests, deviations) as markdown.
    Rules(RulesArgs),
}

#[derive(Clone, Copy, ValueEnum)]
enum LoadMode {
    /// request line + one header, never finished (a worker sits in R)
    Partial,
    /// one complete request, then the connection idles (K, or parked in event)
    Keepalive,
}

#[derive(Parser)]
struct RunArgs {
    /// mpm-prefork | mpm-worker | mpm-event | a path to a server binary | http://HOST:PORT
    #[arg(long)]
    server: String,
    /// httpd.conf for our server (paths and Listen are rewritten into a temporary directory)
    #[arg(long)]
    config: Option<PathBuf>,
    /// TARGET:SECONDS,… connections held per phase
    #[arg(long, default_value = REFERENCE_PHASES)]
    phases: String,
    #[arg(long)]
    out: PathBuf,
    #[arg(long, value_enum, default_value = "partial")]
    mode: LoadMode,
    /// seconds sampled before the load starts
    #[arg(long, default_value_t = 2.0)]
    before: f64,
    /// seconds sampled after the load ends (the reference runs used 150)
    #[arg(long, default_value_t = 20.0)]
    after: f64,
    /// seconds between samples
    #[arg(long, default_value_t = 0.2)]
    interval: f64,
    /// scoreboard characters per process when ?auto has no Processes: key (ThreadsPerChild)
    #[arg(long)]
    tpc: Option<usize>,
    /// with a URL: the server's parent pid, for the /proc columns and --signal
    #[arg(long)]
    pid: Option<i32>,
    /// with a URL: the server's error log, for the summary
    #[arg(long)]
    error_log: Option<PathBuf>,
    /// T:NAME, send a signal T seconds after the load starts (graceful, restart, stop, graceful-stop)
    #[arg(long = "signal")]
    signals: Vec<String>,
    /// no progress line
    #[arg(long)]
    quiet: bool,
}

#[derive(Parser)]
struct SimArgs {
    #[arg(long)]
    mpm: String,
    #[arg(long)]
    config: PathBuf,
    #[arg(long, default_value = REFERENCE_PHASES)]
    phases: String,
    #[arg(long)]
    out: PathBuf,
    /// virtual seconds between samples
    #[arg(long, default_value_t = 0.2)]
    tick: f64,
    /// idle seconds simulated before the load (as `run --before`)
    #[arg(long, default_value_t = 2.0)]
    before: f64,
    /// idle seconds simulated after the load (as `run --after`)
    #[arg(long, default_value_t = 20.0)]
    after: f64,
}

#[derive(Parser)]
struct CompareArgs {
    /// first timeline CSV (ours, the reference's, or a simulation's)
    a: PathBuf,
    /// second timeline CSV
    b: PathBuf,
    #[arg(long)]
    out: PathBuf,
}

#[derive(Parser)]
struct BenchArgs {
    /// mpm-prefork | mpm-worker | mpm-event | a server binary | http://HOST:PORT
    #[arg(long)]
    server: String,
    #[arg(long)]
    config: Option<PathBuf>,
    #[arg(long, default_value_t = 50)]
    connections: usize,
    /// seconds per case
    #[arg(long, default_value_t = 5)]
    duration: u64,
    /// also benchmark real Apache (Debian apache2) with the same MPM, via apache.sh
    #[arg(long)]
    apache: bool,
    /// the reference apache.sh
    #[arg(long, default_value = "../shared/reference/apache-2.4.71/apache.sh")]
    apache_script: PathBuf,
    /// also benchmark nginx (Debian nginx, 2 worker processes) serving the same files
    #[arg(long)]
    nginx: bool,
    /// use our own client even when wrk is installed
    #[arg(long)]
    own_client: bool,
    /// log every request on both sides (our default.conf fixture, apache.sh ACCESS_LOG=1);
    /// without it neither server writes an access log, as apache.sh's default
    #[arg(long)]
    access_log: bool,
    /// instead of request rates: open N idle keep-alive connections to each server and report
    /// processes, threads, PSS per connection and fresh-client latency
    #[arg(long, value_name = "N")]
    idle: Option<usize>,
}

#[derive(Parser)]
struct RulesArgs {
    #[arg(long, default_value = "book/src/reference/rules.md")]
    out: PathBuf,
    /// do not write; fail if the file is not up to date
    #[arg(long)]
    check: bool,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let r = match cli.cmd {
        Cmd::Run(a) => cmd_run(a),
        Cmd::Simulate(a) => cmd_simulate(a),
        Cmd::Compare(a) => lab::compare(&a.a, &a.b, &a.out)
            .map(|t| print!("{t}"))
            .map_err(|e| e.to_string()),
        Cmd::Bench(a) => cmd_bench(a),
        Cmd::Rules(a) => cmd_rules(a),
    };
    match r {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("mpm-lab: {e}");
            ExitCode::FAILURE
        }
    }
}

/// `mpm-prefork` → the real binary next to this one (or the conformance shim); a path → itself.
fn resolve_server(s: &str) -> Result<(Mpm, PathBuf), String> {
    let p = Path::new(s);
    let name = p.file_name().and_then(|n| n.to_str()).unwrap_or(s);
    let mpm = Mpm::from_name(name).ok_or_else(|| {
        format!("unknown server {s:?}: mpm-prefork, mpm-worker, mpm-event, a path, or a URL")
    })?;
    if p.is_file() {
        return Ok((mpm, p.to_path_buf()));
    }
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let dir = exe.parent().unwrap_or(Path::new("."));
    let real = dir.join(mpm.binary_name());
    if real.is_file() {
        return Ok((mpm, real));
    }
    mpm.binary().map(|b| (mpm, b)).ok_or_else(|| {
        format!(
            "no {} next to {}: run `cargo build --release -p {}`",
            mpm.binary_name(),
            exe.display(),
            mpm.binary_name()
        )
    })
}

fn parse_url(s: &str) -> Option<SocketAddr> {
    let rest = s.strip_prefix("http://")?;
    let hostport = rest.split('/').next()?;
    let hostport = if hostport.contains(':') {
        hostport.to_string()
    } else {
        format!("{hostport}:80")
    };
    std::net::ToSocketAddrs::to_socket_addrs(&hostport)
        .ok()?
        .find(|a| a.is_ipv4())
}

fn cmd_run(a: RunArgs) -> Result<(), String> {
    let phases: Phases = a.phases.parse()?;
    let target = if let Some(addr) = parse_url(&a.server) {
        Target::Url {
            addr,
            pid: a.pid,
            error_log: a.error_log.clone(),
        }
    } else {
        let (mpm, binary) = resolve_server(&a.server)?;
        let config = a
            .config
            .clone()
            .ok_or("--config is required to start our server")?;
        Target::Ours {
            mpm,
            binary,
            config,
        }
    };
    let signals = a
        .signals
        .iter()
        .map(|s| lab::parse_signal(s))
        .collect::<Result<Vec<_>, _>>()?;
    let opts = RunOptions {
        target,
        phases,
        mode: match a.mode {
            LoadMode::Partial => Mode::Partial,
            LoadMode::Keepalive => Mode::KeepAlive,
        },
        out: a.out.clone(),
        before: a.before,
        after: a.after,
        interval: Duration::from_secs_f64(a.interval.clamp(0.05, 5.0)),
        tpc: a.tpc,
        signals,
        progress: !a.quiet,
    };
    let text = lab::run(&opts).map_err(|e| e.to_string())?;
    print!("{text}");
    eprintln!(
        "wrote {}/{{timeline.csv,load.csv,error_log,summary.txt,timeline.svg}}",
        a.out.display()
    );
    Ok(())
}

/// The simulator's timeline in the columns of a real run (virtual t; epoch = t).
fn sim_to_timeline(sim: &httpd_core::sim::Timeline, offset: f64) -> Timeline {
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

fn cmd_simulate(a: SimArgs) -> Result<(), String> {
    let mpm = Mpm::from_name(&a.mpm).ok_or_else(|| format!("unknown MPM {:?}", a.mpm))?;
    let user: Phases = a.phases.parse()?;
    // The simulated load is the user's phases framed by idle time, as a real run samples
    // `before` seconds ahead of the load and `after` seconds past it.
    let idle = |secs: f64| httpd_core::sim::Phase {
        target: 0,
        duration: Duration::from_secs_f64(secs.max(0.0)),
    };
    let mut sim_phases = vec![idle(a.before)];
    sim_phases.extend(user.0.iter().copied());
    sim_phases.push(idle(a.after));
    let ident = httpd_core::config::MpmIdent::ALL
        .iter()
        .find(|m| m.name == mpm.name())
        .ok_or("no MpmIdent for this MPM")?;
    // Load the config as a run would see it: paths and Listen rewritten into a scratch
    // directory, so a reference Apache config (Debian paths, fixed port) loads here too.
    let scratch = std::env::temp_dir().join(format!("mpm-lab-sim-{}", std::process::id()));
    std::fs::create_dir_all(scratch.join("htdocs")).map_err(|e| e.to_string())?;
    let text =
        std::fs::read_to_string(&a.config).map_err(|e| format!("{}: {e}", a.config.display()))?;
    let conf = scratch.join("httpd.conf");
    std::fs::write(
        &conf,
        conformance::server::render_config(&text, &scratch, &[]),
    )
    .map_err(|e| e.to_string())?;
    let opts = httpd_core::config::ConfigOptions {
        file: Some(conf),
        server_root: None,
        defines: vec![],
        pre_directives: vec![],
        post_directives: vec![],
    };
    let cfg = httpd_core::config::load(&opts, ident).map_err(|e| e.to_string());
    let _ = std::fs::remove_dir_all(&scratch);
    let cfg = cfg?;
    let tick = Duration::from_secs_f64(a.tick.clamp(0.01, 5.0));
    let started = std::time::Instant::now();
    let sim = match mpm {
        Mpm::Prefork => mpm_prefork::sim::simulate(&cfg, &sim_phases, tick),
        Mpm::Worker => mpm_worker::sim::simulate(&cfg, &sim_phases, tick),
        Mpm::Event => mpm_event::sim::simulate(&cfg, &sim_phases, tick),
    };
    let elapsed = started.elapsed();
    let tl = sim_to_timeline(&sim, 0.0);
    let spans = summary::planned_spans(&user, a.before);
    let load: Vec<LoadRow> = tl
        .rows
        .iter()
        .filter_map(|r| {
            let i = user.at(r.t - a.before)?;
            let target = user.0[i].target;
            Some(LoadRow {
                t: r.t - a.before,
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
    std::fs::create_dir_all(&a.out).map_err(|e| e.to_string())?;
    std::fs::write(a.out.join("error_log"), apache_format_log(&sim)).map_err(|e| e.to_string())?;
    let title = format!("simulated {mpm} ({}), phases {}", a.config.display(), user);
    let text = lab::write_outputs(
        &a.out,
        &Outputs {
            title: &title,
            timeline: &tl,
            spans: &spans,
            load: &load,
            log_lines: &lines,
        },
    )
    .map_err(|e| e.to_string())?;
    print!("{text}");
    eprintln!(
        "simulated {:.0} s in {:.3} s; wrote {}",
        tl.rows.last().map_or(0.0, |r| r.t),
        elapsed.as_secs_f64(),
        a.out.display()
    );
    Ok(())
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

fn cmd_bench(a: BenchArgs) -> Result<(), String> {
    let cases = bench::standard_cases(a.connections, Duration::from_secs(a.duration));
    let wrk = if a.own_client {
        None
    } else {
        bench::wrk_path()
    };
    if let Some(n) = a.idle {
        let limit = bench::raise_nofile(n as u64 + 1024);
        if limit < n as u64 + 64 {
            return Err(format!(
                "--idle {n} needs {n} sockets but the open-file limit is {limit} (ulimit -n)"
            ));
        }
        eprintln!("idle capacity: {n} keep-alive connections per server");
    } else {
        eprintln!(
            "client: {}; {} connections, {} s per case",
            if wrk.is_some() {
                "wrk"
            } else {
                "mpm-lab's client"
            },
            a.connections,
            a.duration
        );
    }
    let mut results = Vec::new();
    let mut notes: Vec<String> = Vec::new();
    let measure = |t: &bench::Target,
                   results: &mut Vec<(String, String, bench::Outcome)>,
                   notes: &mut Vec<String>| {
        if let Some(pid) = t.pid {
            let m = bench::idle_memory(pid);
            notes.push(format!(
                "{:<28} idle: {} children, {} threads; per child PSS {:.0} KiB, private {:.0} KiB",
                t.label, m.children, m.threads, m.pss_kb, m.private_kb
            ));
        }
        if let Some(n) = a.idle {
            let Some(pid) = t.pid else {
                notes.push(format!("{}: --idle needs a server started here", t.label));
                return;
            };
            eprintln!("  {}: opening {n} idle keep-alive connections …", t.label);
            match bench::idle_capacity(t, pid, n, 50) {
                Ok(c) => notes.push(format!(
                    "{:<28} {} idle conns (opened in {:.1} s, {} closed by the server): \
                     {} processes, {} threads, {:.0} bytes PSS per conn; fresh clients {}/50 \
                     ok, p50 {:.2} ms, max {:.2} ms",
                    t.label,
                    c.opened,
                    c.open_seconds,
                    c.closed_by_server,
                    c.processes,
                    c.threads,
                    c.bytes_per_conn(),
                    c.fresh_ok,
                    c.fresh_p50_ms,
                    c.fresh_max_ms
                )),
                Err(e) => notes.push(format!("{}: idle capacity failed: {e}", t.label)),
            }
            return;
        }
        for (case_label, case) in &cases {
            eprintln!("  {}: {case_label} …", t.label);
            let o = bench::measure(t, case, wrk.as_deref());
            results.push((t.label.clone(), case_label.clone(), o));
        }
    };
    let mpm;
    if let Some(addr) = parse_url(&a.server) {
        mpm = None;
        measure(
            &bench::Target {
                label: a.server.clone(),
                addr,
                pid: None,
            },
            &mut results,
            &mut notes,
        );
    } else {
        let (m, binary) = resolve_server(&a.server)?;
        mpm = Some(m);
        let mut t = ServerTest::new(m).binary(&binary);
        t = match &a.config {
            Some(c) => t.config_file(
                std::fs::canonicalize(c).map_err(|e| format!("{}: {e}", c.display()))?,
            ),
            None if a.access_log => t,
            None => t.config_file(BENCH_FIXTURE),
        };
        let server = t.try_start().map_err(|e| e.to_string())?;
        // Let StartServers children finish starting before the idle-memory reading.
        std::thread::sleep(Duration::from_secs(1));
        measure(
            &bench::Target {
                label: m.binary_name().to_string(),
                addr: server.addr(),
                pid: Some(server.pid()),
            },
            &mut results,
            &mut notes,
        );
    }
    if a.apache {
        let m = mpm.ok_or("--apache needs --server mpm-X (to pick Apache's MPM)")?;
        match apache_start(&a.apache_script, m, a.config.as_deref(), a.access_log) {
            Ok((pid, addr)) => {
                std::thread::sleep(Duration::from_secs(1));
                measure(
                    &bench::Target {
                        label: format!("Apache 2.4 {m}"),
                        addr,
                        pid: Some(pid),
                    },
                    &mut results,
                    &mut notes,
                );
                let _ = std::process::Command::new(&a.apache_script)
                    .arg("stop")
                    .arg(pid.to_string())
                    .status();
            }
            Err(e) => notes.push(format!("skipping Apache: {e}")),
        }
    }
    if a.nginx {
        match conformance::nginx::binary() {
            Some(bin) => match conformance::nginx::Nginx::start(&bin, 18091, 2) {
                Ok(n) => {
                    std::thread::sleep(Duration::from_millis(500));
                    measure(
                        &bench::Target {
                            label: "nginx (2 workers)".into(),
                            addr: n.addr,
                            pid: Some(n.pid()),
                        },
                        &mut results,
                        &mut notes,
                    );
                }
                Err(e) => notes.push(format!("skipping nginx: {e}")),
            },
            None => notes.push("skipping nginx: not installed (apt-get install nginx)".into()),
        }
    }
    if !results.is_empty() {
        print!("{}", bench::table(&results));
    }
    for n in notes {
        println!("{n}");
    }
    Ok(())
}

/// `mpm-lab bench`'s config when none is given: apache.sh's settings (no access log).
const BENCH_FIXTURE: &str = "fixtures/bench.conf";

/// MPM directives of our config, passed on to apache.sh so Apache runs the same pool sizes.
fn mpm_directives(config: Option<&Path>) -> Vec<String> {
    const NAMES: [&str; 15] = [
        "StartServers",
        "MinSpareServers",
        "MaxSpareServers",
        "MinSpareThreads",
        "MaxSpareThreads",
        "ThreadsPerChild",
        "ThreadLimit",
        "ServerLimit",
        "MaxRequestWorkers",
        "MaxConnectionsPerChild",
        "KeepAlive",
        "MaxKeepAliveRequests",
        "KeepAliveTimeout",
        "AsyncRequestWorkerFactor",
        "Timeout",
    ];
    let text = config
        .and_then(|c| std::fs::read_to_string(c).ok())
        .unwrap_or_default();
    text.lines()
        .map(str::trim)
        .filter(|l| {
            l.split_whitespace()
                .next()
                .is_some_and(|d| NAMES.iter().any(|n| n.eq_ignore_ascii_case(d)))
        })
        .map(str::to_string)
        .collect()
}

fn apache_start(
    script: &Path,
    mpm: Mpm,
    config: Option<&Path>,
    access_log: bool,
) -> Result<(i32, SocketAddr), String> {
    if !Path::new("/usr/sbin/apache2").exists() {
        return Err("apache2 is not installed (apt-get install apache2)".into());
    }
    if !script.is_file() {
        return Err(format!("{} not found (--apache-script)", script.display()));
    }
    let port = 18090;
    let out = std::process::Command::new(script)
        .env("ACCESS_LOG", if access_log { "1" } else { "0" })
        .arg("start")
        .arg(mpm.name())
        .arg(port.to_string())
        .args(mpm_directives(config))
        .output()
        .map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    let pid = String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .map_err(|_| "apache.sh printed no pid")?;
    Ok((pid, SocketAddr::from(([127, 0, 0, 1], port))))
}

fn cmd_rules(a: RulesArgs) -> Result<(), String> {
    let root = conformance::workspace_dir();
    let cov = rules::Coverage::load(&root).map_err(|e| e.to_string())?;
    let md = cov.markdown();
    let out = if a.out.is_absolute() {
        a.out.clone()
    } else {
        root.join(&a.out)
    };
    if a.check {
        let current = std::fs::read_to_string(&out).unwrap_or_default();
        if current != md {
            return Err(format!(
                "{} is out of date: run `mpm-lab rules --out {}`",
                out.display(),
                a.out.display()
            ));
        }
        eprintln!("{} is up to date", out.display());
        return Ok(());
    }
    if let Some(p) = out.parent() {
        std::fs::create_dir_all(p).map_err(|e| e.to_string())?;
    }
    std::fs::write(&out, &md).map_err(|e| e.to_string())?;
    let gaps = cov.gaps();
    eprintln!(
        "wrote {} ({} rules, {} tests, {} deviations; rules without test or deviation: {:?}; (rule, MPM) gaps: {})",
        out.display(),
        cov.rules.len(),
        cov.tests.len(),
        cov.deviations.len(),
        cov.uncovered(),
        gaps.len()
    );
    Ok(())
}
