//! `mpm-lab`: load a server in phases and watch it grow and shrink; simulate the same load;
//! compare timelines (ours, real Apache's, simulated); benchmark; print the rule table.
//!
//! ```text
//! mpm-lab run      --server mpm-prefork --config F --phases 0:5,40:10,… --out DIR
//! mpm-lab run      --server http://127.0.0.1:18080 --pid P --tpc 25 --phases … --out DIR
//! mpm-lab simulate --mpm prefork --config F --phases … --out DIR
//! mpm-lab compare  A/timeline.csv reference/run1/prefork.timeline.csv --out DIR
//! mpm-lab replot   DIR…   (timeline.svg again from DIR/timeline.csv, after a plot change)
//! mpm-lab bench    --server mpm-event --config F [--apache] [--nginx]
//! mpm-lab slowloris [--connections 1000] [--duration 60] [--apache] [--reconnect]
//! mpm-lab rules    --out book/src/reference/rules.md [--check]
//! mpm-lab top      --server mpm-event --config F | --url http://127.0.0.1:18080 --pid P
//! mpm-lab top      --replay reference/run1/prefork.timeline.csv | --simulate --mpm prefork --config F
//! mpm-lab assignment new prefork-maintenance --out DIR     (a student workspace)
//! mpm-lab grade    [--assignment NAME] [--workspace DIR] [--hidden DIR] [--json results.json]
//! mpm-lab grade    --lab 01 --answers FILE | --template | --print-key
//! mpm-lab grade    --lab 04 --config httpd.conf     (a lab's config task)
//! mpm-lab diff     --mpm event [--count 2000] [--seed 1] [--corpus DIR]… [--out FILE]
//! mpm-lab diff     --mpm event --replay conformance/differential/regressions.txt
//! mpm-lab fuzz-server --mpm event --seconds 120
//! ```
//! The work is done by the `conformance` library (`conformance::lab`, `timeline`, `summary`,
//! `plot`, `bench`, `rules`); this file parses arguments and calls the MPM simulators.

use clap::{Parser, Subcommand, ValueEnum};
use conformance::i18n::Lang;
use conformance::lab::{self, Outputs, RunOptions, Target};
use conformance::load::Mode;
use conformance::phases::Phases;
use conformance::{Mpm, ServerTest, bench, kit, rules, simulate};
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
    /// Draw timeline.svg again from the timeline.csv and load.csv of output directories.
    Replot(ReplotArgs),
    /// Requests/s and latency for keep-alive and close, 1 KiB and 100 KiB.
    Bench(BenchArgs),
    /// Write the rule table (rules × MPM → tests, deviations) as markdown.
    Rules(RulesArgs),
    /// 1000 slowloris connections against each MPM with Debian's mod_reqtimeout default;
    /// a fresh client's latency meanwhile (prints figures, ours and Apache's).
    Slowloris(SlowlorisArgs),
    /// Watch a server live (scoreboard, /proc, timeline, log) and push it from the keyboard;
    /// or replay a recorded timeline; or drive the simulator.
    Top(TopArgs),
    /// Course kit: write a student workspace for an assignment.
    #[command(subcommand)]
    Assignment(AssignmentCmd),
    /// Course kit: score a student workspace (or a lab's answers file).
    Grade(GradeArgs),
    /// Differential test against real Apache (Debian apache2) with the same MPM, config and site.
    Diff(DiffArgs),
    /// Mutated requests against one of our servers for a bounded time; then no panic, no
    /// connection held past Timeout, no fd or RSS growth.
    FuzzServer(FuzzServerArgs),
}

#[derive(Parser)]
struct SlowlorisArgs {
    /// slow connections per server
    #[arg(long, default_value_t = 1000)]
    connections: usize,
    /// seconds between two header lines of a slow connection
    #[arg(long, default_value_t = 10)]
    interval: u64,
    /// seconds of attack per server
    #[arg(long, default_value_t = 60)]
    duration: u64,
    /// reopen a slow connection as soon as the server cuts it (constant pressure)
    #[arg(long)]
    reconnect: bool,
    /// window boundaries for the report, seconds
    #[arg(long, value_delimiter = ',', default_value = "20,40")]
    windows: Vec<u64>,
    /// MPMs to attack
    #[arg(long, value_delimiter = ',', default_value = "prefork,worker,event")]
    mpms: Vec<String>,
    /// also attack real Apache (Debian apache2) with the same settings, via apache.sh
    #[arg(long)]
    apache: bool,
    /// the reference apache.sh
    #[arg(long, default_value = conformance::apache::DEFAULT_SCRIPT)]
    apache_script: PathBuf,
}

#[derive(Subcommand)]
enum AssignmentCmd {
    /// The whole project with the assignment's regions replaced by todo!() and hints.
    New {
        /// prefork-maintenance | worker-maintenance | queue-info | event-accept-limit | graceful-restart
        name: String,
        /// an empty or new directory
        #[arg(long)]
        out: PathBuf,
        /// do not create a git repository in it
        #[arg(long)]
        no_git: bool,
    },
    /// List the assignments with their points.
    List,
}

#[derive(Parser)]
struct GradeArgs {
    /// default: the one named in the workspace's .mpm-lab/assignment
    #[arg(long)]
    assignment: Option<String>,
    /// the student's workspace
    #[arg(long, default_value = ".")]
    workspace: PathBuf,
    /// a teacher's hidden-test directory (checks.txt and test files)
    #[arg(long)]
    hidden: Option<PathBuf>,
    /// also write Gradescope's results.json here
    #[arg(long)]
    json: Option<PathBuf>,
    /// longest run of one test, seconds
    #[arg(long, default_value_t = 120)]
    per_test: u64,
    /// a target/ directory with the dependencies built (e.g. the kit's): hard-linked into the
    /// workspace's target/ so only our crates are compiled
    #[arg(long)]
    warm_target: Option<PathBuf>,
    /// tests run at the same time (default: the cores, 2 to 4)
    #[arg(long)]
    jobs: Option<usize>,
    /// grade a lab's answers instead (01, …)
    #[arg(long)]
    lab: Option<String>,
    /// the lab's answers file
    #[arg(long)]
    answers: Option<PathBuf>,
    /// check the lab's config task on this httpd.conf (labs 02, 04, 06)
    #[arg(long)]
    config: Option<PathBuf>,
    /// print the lab's answers template
    #[arg(long)]
    template: bool,
    /// print the lab's answer key (teachers)
    #[arg(long)]
    print_key: bool,
}

#[derive(Parser)]
struct FuzzServerArgs {
    /// prefork | worker | event
    #[arg(long)]
    mpm: String,
    #[arg(long, default_value_t = 60)]
    seconds: u64,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// connections at a time
    #[arg(long, default_value_t = 2)]
    threads: usize,
}

#[derive(Clone, Copy, ValueEnum)]
enum LoadMode {
    /// request line + one header, never finished (a worker sits in R)
    Partial,
    /// one complete request, then the connection idles (K, or parked in event)
    Keepalive,
    /// GET /cgi-bin/sleep.cgi?SECONDS: a worker sits in W while the script sleeps (our server
    /// gets the ScriptAlias and the bundled sleep.cgi; a URL target must serve it itself)
    Cgi,
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
struct ReplotArgs {
    /// directories written by `run` or `simulate`
    #[arg(required = true)]
    dirs: Vec<PathBuf>,
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
    #[arg(long, default_value = conformance::apache::DEFAULT_SCRIPT)]
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
    /// run every case this many times; the servers take turns case by case, in an order that
    /// rotates each round, so each sees the same TIME_WAIT backlog from the others
    #[arg(long, default_value_t = 2)]
    rounds: usize,
    /// seconds of unrecorded load before each measured run (the same case), so that the pool
    /// has grown to the load
    #[arg(long, default_value_t = 1)]
    warmup: u64,
}

#[derive(Parser)]
struct DiffArgs {
    /// prefork | worker | event (Apache runs the same MPM)
    #[arg(long)]
    mpm: String,
    /// generated requests
    #[arg(long, default_value_t = 1000)]
    count: usize,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// a directory of external test inputs (llhttp's test/request/*.md, h11's tests/*.py,
    /// *.http files); repeatable
    #[arg(long = "corpus")]
    corpora: Vec<PathBuf>,
    /// where the shrunk disagreements go, in the regression file's format
    #[arg(long, default_value = "target/diff-findings.txt")]
    out: PathBuf,
    /// shrinking trials per kind of disagreement
    #[arg(long, default_value_t = 60)]
    shrink_budget: usize,
    /// milliseconds of silence after which a connection counts as kept open
    #[arg(long, default_value_t = 250)]
    idle_ms: u64,
    /// instead: replay this regression file against our server only
    #[arg(long)]
    replay: Option<PathBuf>,
    /// instead: send this one request (escaped: \r \n \t \xHH) to both and print both raw answers
    #[arg(long)]
    show: Option<String>,
    /// instead: write every --corpus request with Apache's answer as regression entries to
    /// --out (those where ours differs are marked `# DIFFERS`)
    #[arg(long)]
    record: bool,
}

#[derive(Parser)]
struct RulesArgs {
    #[arg(long, default_value = "book/src/reference/rules.md")]
    out: PathBuf,
    /// do not write; fail if the file is not up to date
    #[arg(long)]
    check: bool,
}

#[derive(Parser)]
struct TopArgs {
    /// mpm-prefork | mpm-worker | mpm-event | a server binary (started here) | http://HOST:PORT
    #[arg(long)]
    server: Option<String>,
    /// a running server: http://HOST:PORT (our servers or real Apache)
    #[arg(long, conflicts_with = "server")]
    url: Option<String>,
    /// httpd.conf for a server started here, or for --simulate
    #[arg(long)]
    config: Option<PathBuf>,
    /// with a URL: the server's parent pid (/proc columns, signals)
    #[arg(long)]
    pid: Option<i32>,
    /// with a URL: the server's error log, tailed into the log pane
    #[arg(long)]
    error_log: Option<PathBuf>,
    /// scoreboard letters per process (ThreadsPerChild) for a URL or a replay (default: from
    /// the config next to the replayed file; 1 for prefork)
    #[arg(long)]
    tpc: Option<usize>,
    /// play a recorded timeline.csv (ours, or a reference run's X.timeline.csv)
    #[arg(long)]
    replay: Option<PathBuf>,
    /// drive the MPM's simulator (needs --mpm and --config)
    #[arg(long)]
    simulate: bool,
    /// prefork | worker | event (simulator; replay when the file name does not say)
    #[arg(long)]
    mpm: Option<String>,
    /// virtual seconds per second (replay, simulator)
    #[arg(long, default_value_t = 1.0)]
    speed: f64,
    /// seconds between status polls (0.2 to 0.5)
    #[arg(long, default_value_t = 0.25)]
    interval: f64,
    /// seconds of history in the chart (60 to 300)
    #[arg(long, default_value_t = 180.0)]
    window: f64,
    /// record the session here on quit (timeline.csv, load.csv, summary.txt as `run` writes)
    #[arg(long)]
    out: Option<PathBuf>,
    /// requests in one `b` burst
    #[arg(long, default_value_t = 200)]
    burst: usize,
    /// poll over one kept connection (in prefork and worker it keeps one worker in K)
    #[arg(long)]
    poll_keepalive: bool,
    /// write the last screen as plain text here on quit
    #[arg(long)]
    screenshot: Option<PathBuf>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // `top` reads the quit signals itself (it restores the terminal first); every other command
    // that starts a server must not leave it running when Ctrl-C or `kill` ends mpm-lab.
    if !matches!(cli.cmd, Cmd::Top(_))
        && let Err(e) = conformance::stop_servers_on_quit_signals()
    {
        eprintln!("mpm-lab: cannot watch for quit signals: {e}");
    }
    let r = match cli.cmd {
        Cmd::Run(a) => cmd_run(a),
        Cmd::Simulate(a) => cmd_simulate(a),
        Cmd::Compare(a) => lab::compare_lang(&a.a, &a.b, &a.out, Lang::from_env())
            .map(|t| print!("{t}"))
            .map_err(|e| e.to_string()),
        Cmd::Replot(a) => a
            .dirs
            .iter()
            .try_for_each(|d| lab::replot(d))
            .map_err(|e| e.to_string()),
        Cmd::Bench(a) => cmd_bench(a),
        Cmd::Rules(a) => cmd_rules(a),
        Cmd::Slowloris(a) => cmd_slowloris(a),
        Cmd::Top(a) => cmd_top(a),
        Cmd::Assignment(AssignmentCmd::New { name, out, no_git }) => {
            kit::cli::assignment_new(&name, &out, !no_git)
        }
        Cmd::Assignment(AssignmentCmd::List) => {
            print!("{}", kit::cli::assignment_list());
            Ok(())
        }
        Cmd::Grade(a) => cmd_grade(a),
        Cmd::Diff(a) => cmd_diff(a),
        Cmd::FuzzServer(a) => cmd_fuzz_server(a),
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
    // Run from this workspace (`cargo run -p conformance --bin mpm-lab`): build the server too,
    // so a fresh clone needs one command and an edited server is never run stale.
    if let Some(release) = workspace_profile(dir) {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let mut cmd = std::process::Command::new(cargo);
        cmd.current_dir(conformance::workspace_dir()).args([
            "build",
            "-p",
            mpm.binary_name(),
            "--bin",
            mpm.binary_name(),
        ]);
        if release {
            cmd.arg("--release");
        }
        let ok = cmd.status().map(|st| st.success()).unwrap_or(false);
        if !ok {
            return Err(format!("building {} failed", mpm.binary_name()));
        }
    }
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

/// `Some(release?)` when `dir` is this workspace's `target/release` or `target/debug`.
fn workspace_profile(dir: &Path) -> Option<bool> {
    let target = conformance::workspace_dir().join("target");
    let dir = dir.canonicalize().ok()?;
    let release = target
        .join("release")
        .canonicalize()
        .is_ok_and(|d| d == dir);
    let debug = target.join("debug").canonicalize().is_ok_and(|d| d == dir);
    (release || debug).then_some(release)
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
            LoadMode::Cgi => Mode::Cgi,
        },
        out: a.out.clone(),
        before: a.before,
        after: a.after,
        interval: Duration::from_secs_f64(a.interval.clamp(0.05, 5.0)),
        tpc: a.tpc,
        signals,
        progress: !a.quiet,
        lang: Lang::from_env(),
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
fn cmd_simulate(a: SimArgs) -> Result<(), String> {
    let mpm = Mpm::from_name(&a.mpm).ok_or_else(|| format!("unknown MPM {:?}", a.mpm))?;
    let user: Phases = a.phases.parse()?;
    let tick = Duration::from_secs_f64(a.tick.clamp(0.01, 5.0));
    let sim = simulate::simulate(mpm, &a.config, &user, a.before, a.after, tick)?;
    std::fs::create_dir_all(&a.out).map_err(|e| e.to_string())?;
    std::fs::write(a.out.join("error_log"), &sim.error_log).map_err(|e| e.to_string())?;
    let title = format!(
        "simulated {} ({}), phases {}",
        mpm.binary_name(),
        lab::shown_path(&a.config),
        user
    );
    let text = lab::write_outputs(
        &a.out,
        &Outputs {
            title: &title,
            timeline: &sim.timeline,
            spans: &sim.spans,
            load: &sim.load,
            log_lines: &sim.log_lines,
            lang: Lang::from_env(),
        },
    )
    .map_err(|e| e.to_string())?;
    print!("{text}");
    eprintln!(
        "simulated {:.0} s in {:.3} s; wrote {}",
        sim.timeline.rows.last().map_or(0.0, |r| r.t),
        sim.elapsed.as_secs_f64(),
        a.out.display()
    );
    Ok(())
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
            "client: {}; {} connections, {} s per case after {} s of warm-up, {} round(s)",
            if wrk.is_some() {
                "wrk"
            } else {
                "mpm-lab's client"
            },
            a.connections,
            a.duration,
            a.warmup,
            a.rounds
        );
    }
    let mut notes: Vec<String> = Vec::new();

    // Every server is started first and runs until the end, so that the cases can take turns
    // (see `bench::interleave`). Guards stop ours and nginx on drop; Apache is stopped below.
    let mut targets: Vec<bench::Target> = Vec::new();
    let mut _ours = None;
    let mut _nginx = None;
    let mut apache_pid = None;
    let mpm;
    if let Some(addr) = parse_url(&a.server) {
        mpm = None;
        targets.push(bench::Target {
            label: a.server.clone(),
            addr,
            pid: None,
        });
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
        targets.push(bench::Target {
            label: m.binary_name().to_string(),
            addr: server.addr(),
            pid: Some(server.pid()),
        });
        _ours = Some(server);
    }
    if a.apache {
        let m = mpm.ok_or("--apache needs --server mpm-X (to pick Apache's MPM)")?;
        match conformance::apache::start(&a.apache_script, m, a.config.as_deref(), a.access_log) {
            Ok((pid, addr)) => {
                apache_pid = Some(pid);
                targets.push(bench::Target {
                    label: format!("Apache 2.4 {m}"),
                    addr,
                    pid: Some(pid),
                });
            }
            Err(e) => notes.push(format!("skipping Apache: {e}")),
        }
    }
    if a.nginx {
        match conformance::nginx::binary() {
            Some(bin) => match conformance::nginx::Nginx::start(&bin, 18091, 2) {
                Ok(n) => {
                    targets.push(bench::Target {
                        label: "nginx (2 workers)".into(),
                        addr: n.addr,
                        pid: Some(n.pid()),
                    });
                    _nginx = Some(n);
                }
                Err(e) => notes.push(format!("skipping nginx: {e}")),
            },
            None => notes.push("skipping nginx: not installed (apt-get install nginx)".into()),
        }
    }
    // Let StartServers children finish starting before the idle-memory reading.
    std::thread::sleep(Duration::from_secs(1));
    for t in &targets {
        if let Some(pid) = t.pid {
            let m = bench::idle_memory(pid);
            notes.push(format!(
                "{:<28} idle: {} children, {} threads; per child PSS {:.0} KiB, private {:.0} KiB \
                 (median child: {:.0} / {:.0} KiB)",
                t.label,
                m.children,
                m.threads,
                m.pss_kb,
                m.private_kb,
                m.median_pss_kb,
                m.median_private_kb
            ));
        }
    }

    let mut results = Vec::new();
    if let Some(n) = a.idle {
        for t in &targets {
            let Some(pid) = t.pid else {
                notes.push(format!("{}: --idle needs a server started here", t.label));
                continue;
            };
            eprintln!("  {}: opening {n} idle keep-alive connections …", t.label);
            match bench::idle_capacity(t, pid, n, 50) {
                Ok(c) => notes.push(format!(
                    "{:<28} {} idle conns (opened in {:.1} s, {} closed by the server): \
                     {} processes (parent included), {} threads, {:.0} bytes PSS per conn; fresh clients {}/50 \
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
        }
    } else {
        let rounds = a.rounds.max(1);
        let mut runs: Vec<Vec<Vec<bench::Outcome>>> =
            vec![vec![Vec::new(); cases.len()]; targets.len()];
        for (round, ci, ti) in bench::interleave(rounds, cases.len(), targets.len()) {
            let (case_label, case) = &cases[ci];
            let t = &targets[ti];
            if a.warmup > 0 {
                // Unrecorded: lets the pool grow to the load first (prefork spawns at most
                // 1, 2, 4 … children a second), so p99 is the steady state's, not the ramp's.
                let warm = bench::Case {
                    duration: Duration::from_secs(a.warmup),
                    ..case.clone()
                };
                bench::measure(t, &warm, wrk.as_deref());
            }
            let o = bench::measure(t, case, wrk.as_deref());
            eprintln!(
                "  round {}: {:<24} {case_label:<20} {:>8.0} req/s, p99 {:.2} ms",
                round + 1,
                t.label,
                o.rps,
                o.p99_ms
            );
            runs[ti][ci].push(o);
        }
        for (t, per_case) in targets.iter().zip(&runs) {
            for ((case_label, _), outcomes) in cases.iter().zip(per_case) {
                results.push((
                    t.label.clone(),
                    case_label.clone(),
                    bench::median_of_rounds(outcomes),
                ));
            }
        }
    }
    if let Some(pid) = apache_pid {
        conformance::apache::stop(&a.apache_script, pid);
    }
    if !results.is_empty() {
        print!("{}", bench::table(&results));
        if a.rounds > 1 {
            println!(
                "(each figure: its median over {} rounds, the worse middle one for an even count)",
                a.rounds
            );
        }
        for line in bench::ratios(&results) {
            println!("{line}");
        }
    }
    for n in notes {
        println!("{n}");
    }
    Ok(())
}

/// Debian's settings for the slowloris benchmark: apache2.conf's `Timeout 300`, the MPM's
/// `mods-available/mpm_*.conf`, and `mods-enabled/reqtimeout.{load,conf}`.
fn debian_lines(mpm: Mpm) -> Vec<String> {
    let pool: &[&str] = match mpm {
        Mpm::Prefork => &[
            "StartServers 5",
            "MinSpareServers 5",
            "MaxSpareServers 10",
            "MaxRequestWorkers 150",
            "MaxConnectionsPerChild 0",
        ],
        Mpm::Worker | Mpm::Event => &[
            "StartServers 2",
            "MinSpareThreads 25",
            "MaxSpareThreads 75",
            "ThreadLimit 64",
            "ThreadsPerChild 25",
            "MaxRequestWorkers 150",
            "MaxConnectionsPerChild 0",
        ],
    };
    let mut lines: Vec<String> = [
        "Timeout 300",
        "KeepAlive On",
        "MaxKeepAliveRequests 100",
        "KeepAliveTimeout 5",
        "LoadModule reqtimeout_module /usr/lib/apache2/modules/mod_reqtimeout.so",
        // Debian's mods-available/reqtimeout.conf, as it is.
        "RequestReadTimeout header=20-40,minrate=500",
        "RequestReadTimeout body=10,minrate=500",
    ]
    .iter()
    .chain(pool)
    .map(|s| s.to_string())
    .collect();
    lines.push("LogLevel warn".into());
    lines
}

fn cmd_slowloris(a: SlowlorisArgs) -> Result<(), String> {
    let want = a.connections as u64 * 2 + 1024;
    let limit = bench::raise_nofile(want);
    if limit < a.connections as u64 + 256 {
        return Err(format!(
            "{} slow connections need more open files than the limit {limit} (ulimit -n)",
            a.connections
        ));
    }
    let attack = conformance::slowloris::Attack {
        connections: a.connections,
        interval: Duration::from_secs(a.interval),
        duration: Duration::from_secs(a.duration),
        reconnect: a.reconnect,
        probe_every: Duration::from_millis(200),
        probe_timeout: Duration::from_secs(5),
        windows: a.windows.clone(),
    };
    eprintln!(
        "{} slow connections (a header line every {} s{}), {} s per server; a fresh GET every 200 ms, error = failed or > 5 s",
        a.connections,
        a.interval,
        if a.reconnect {
            ", reopened when cut"
        } else {
            ""
        },
        a.duration
    );
    let mut reports = Vec::new();
    for name in &a.mpms {
        let m = Mpm::from_name(name).ok_or_else(|| format!("unknown MPM {name}"))?;
        let (_, binary) = resolve_server(m.binary_name())?;
        let mut t = ServerTest::new(m)
            .binary(&binary)
            .config_file(BENCH_FIXTURE);
        for l in debian_lines(m) {
            t = t.directive(&l);
        }
        let first = reports.len();
        let server = t.try_start().map_err(|e| e.to_string())?;
        eprintln!("attacking {} …", m.binary_name());
        reports.push(conformance::slowloris::run(
            m.binary_name(),
            server.addr(),
            &attack,
        ));
        drop(server);
        if a.apache {
            match conformance::apache::start_with(
                &a.apache_script,
                m,
                18092,
                &debian_lines(m),
                false,
            ) {
                Ok((pid, addr)) => {
                    eprintln!("attacking Apache 2.4 {} …", m.name());
                    reports.push(conformance::slowloris::run(
                        &format!("Apache 2.4 {}", m.name()),
                        addr,
                        &attack,
                    ));
                    conformance::apache::stop(&a.apache_script, pid);
                }
                Err(e) => eprintln!("skipping Apache {}: {e}", m.name()),
            }
        }
        print!("{}", conformance::slowloris::table(&reports[first..]));
    }
    println!("\nall servers:");
    print!("{}", conformance::slowloris::table(&reports));
    Ok(())
}

/// `mpm-lab bench`'s config when none is given: apache.sh's settings (no access log).
const BENCH_FIXTURE: &str = "fixtures/bench.conf";

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

/// The MPM a replayed file is of: `--mpm`, else its name (`prefork.timeline.csv`), else the
/// config next to it (Apache's `LoadModule mpm_X`), else the title line of the `summary.txt`
/// next to it (`run`, `simulate` and `top` name the server there).
fn replay_mpm(csv: &Path, mpm: Option<&str>) -> (Option<Mpm>, Option<String>) {
    let dir = csv.parent().unwrap_or(Path::new("."));
    let name = csv.file_name().and_then(|n| n.to_str()).unwrap_or("");
    let conf = match name.strip_suffix(".timeline.csv") {
        Some(stem) => dir.join(format!("{stem}.httpd.conf")),
        None => dir.join("httpd.conf"),
    };
    let text = std::fs::read_to_string(conf).ok();
    let from_conf = || {
        let t = text.as_deref()?.to_ascii_lowercase();
        Mpm::ALL
            .into_iter()
            .find(|m| t.contains(&format!("mpm_{}", m.name())))
    };
    let from_summary = || {
        let t = std::fs::read_to_string(dir.join("summary.txt")).ok()?;
        let title = t.lines().next()?.to_string();
        Mpm::ALL.into_iter().find(|m| {
            title.contains(m.binary_name())
                || title.contains(m.shim_name())
                || title.contains(&format!("simulated {}", m.name()))
        })
    };
    let m = mpm
        .and_then(Mpm::from_name)
        .or_else(|| Mpm::from_name(name.split('.').next().unwrap_or("")))
        .or_else(from_conf)
        .or_else(from_summary);
    (m, text)
}

fn cmd_top(a: TopArgs) -> Result<(), String> {
    use conformance::top::{Options, Target as TopTarget};
    let server = a.url.clone().or(a.server.clone());
    let target = if let Some(csv) = &a.replay {
        let (mpm, conf) = replay_mpm(csv, a.mpm.as_deref());
        let tpc = a.tpc.unwrap_or_else(|| match (mpm, conf) {
            (Some(m), Some(c)) => lab::threads_per_child(&c, m),
            (Some(Mpm::Prefork), None) | (None, _) => 1,
            (Some(_), None) => 25,
        });
        TopTarget::Replay {
            csv: csv.clone(),
            mpm,
            tpc,
        }
    } else if a.simulate {
        let name = a
            .mpm
            .as_deref()
            .ok_or("--simulate needs --mpm prefork|worker|event")?;
        let mpm = Mpm::from_name(name).ok_or_else(|| format!("unknown MPM {name:?}"))?;
        let config = a.config.clone().ok_or("--simulate needs --config")?;
        TopTarget::Simulate { mpm, config }
    } else {
        let server = server.ok_or("give --server, --url, --replay or --simulate")?;
        if let Some(addr) = parse_url(&server) {
            let tpc = a.tpc.unwrap_or_else(|| {
                a.mpm
                    .as_deref()
                    .and_then(Mpm::from_name)
                    .map_or(1, |m| if m == Mpm::Prefork { 1 } else { 25 })
            });
            TopTarget::Live {
                server: Target::Url {
                    addr,
                    pid: a.pid,
                    error_log: a.error_log.clone(),
                },
                tpc,
            }
        } else {
            let (mpm, binary) = resolve_server(&server)?;
            let config = a
                .config
                .clone()
                .ok_or("--config is required to start our server")?;
            TopTarget::Live {
                server: Target::Ours {
                    mpm,
                    binary,
                    config,
                },
                tpc: 1,
            }
        }
    };
    let opts = Options {
        target,
        interval: Duration::from_secs_f64(a.interval.clamp(0.2, 0.5)),
        window: a.window,
        out: a.out.clone(),
        burst: a.burst.max(1),
        poll_keepalive: a.poll_keepalive,
        speed: a.speed,
        screenshot: a.screenshot.clone(),
    };
    let text = conformance::top::run(&opts)?;
    // The terminal may be gone (that is one way a session ends): no panic for a lost print.
    let _ = std::io::Write::write_all(&mut std::io::stdout(), text.as_bytes());
    Ok(())
}

fn cmd_grade(a: GradeArgs) -> Result<(), String> {
    if let (Some(lab), Some(config)) = (&a.lab, &a.config) {
        return kit::cli::grade_config(lab, config);
    }
    if let Some(lab) = &a.lab {
        return kit::cli::grade_lab(lab, a.answers.as_deref(), a.template, a.print_key);
    }
    let opts = kit::GradeOptions {
        workspace: a.workspace,
        assignment: a.assignment,
        hidden: a.hidden,
        per_test: Duration::from_secs(a.per_test),
        warm_target: a.warm_target,
        lang: Lang::from_env(),
        jobs: a
            .jobs
            .unwrap_or_else(kit::grade::Limits::default_jobs)
            .max(1),
    };
    kit::cli::grade(&opts, a.json.as_deref())
}

fn cmd_diff(a: DiffArgs) -> Result<(), String> {
    use conformance::differential::{self as diff, Options, Patience, regressions};
    let (mpm, bin) = resolve_server(&format!("mpm-{}", a.mpm.trim_start_matches("mpm-")))?;
    let patience = Patience {
        idle: Duration::from_millis(a.idle_ms),
        ..Patience::default()
    };
    if let Some(file) = &a.replay {
        let text = std::fs::read_to_string(file).map_err(|e| format!("{}: {e}", file.display()))?;
        let entries = regressions::parse(&text)?;
        let ours = diff::with_site(ServerTest::new(mpm).binary(bin))
            .try_start()
            .map_err(|e| e.to_string())?;
        let failed = diff::replay(ours.addr(), &entries, patience);
        for (name, got) in &failed {
            println!("FAIL {name}\n  got: {}", got.lines.join(" | "));
        }
        println!("{} entries, {} failed", entries.len(), failed.len());
        return if failed.is_empty() {
            Ok(())
        } else {
            Err("regressions failed".into())
        };
    }
    let opts = Options {
        mpm,
        seed: a.seed,
        count: a.count,
        corpora: a.corpora.clone(),
        shrink_budget: a.shrink_budget,
        patience,
    };
    let ours = diff::with_site(ServerTest::new(mpm).binary(bin));
    let pair = diff::Pair {
        ours: ours.try_start().map_err(|e| e.to_string())?,
        apache: diff::start_apache(mpm)?,
    };
    if a.record {
        let mut text = String::new();
        for dir in &a.corpora {
            let found =
                diff::corpus::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
            for c in found {
                let v = diff::judge(pair.apache.addr(), pair.ours.addr(), &c.bytes, patience)
                    .map_err(|e| e.to_string())?;
                if !v.agrees() {
                    text.push_str(&format!("# DIFFERS, ours: {}\n", v.ours.lines.join(" | ")));
                }
                let name = std::path::Path::new(&c.origin)
                    .file_stem()
                    .map_or(c.origin.clone(), |n| n.to_string_lossy().into_owned());
                text.push_str(&regressions::format(&diff::Regression {
                    name,
                    request: c.bytes,
                    apache: v.apache,
                    deviation: None,
                }));
            }
        }
        std::fs::write(&a.out, text).map_err(|e| format!("{}: {e}", a.out.display()))?;
        println!("recorded -> {}", a.out.display());
        return Ok(());
    }
    if let Some(req) = &a.show {
        let bytes = diff::wire::unescape(req).ok_or("--show: bad escape")?;
        for (name, srv) in [("apache", &pair.apache), ("ours", &pair.ours)] {
            let (raw, fate) =
                diff::observe::exchange(srv.addr(), &bytes, patience).map_err(|e| e.to_string())?;
            println!(
                "--- {name} ({})\n{}",
                fate.name(),
                String::from_utf8_lossy(&raw)
            );
        }
        return Ok(());
    }
    let report = diff::run(&pair, &opts, |line| eprintln!("{line}"))?;
    let text = report.regression_text(mpm);
    if let Some(parent) = a.out.parent() {
        std::fs::create_dir_all(parent).map_err(|e| e.to_string())?;
    }
    std::fs::write(&a.out, &text).map_err(|e| format!("{}: {e}", a.out.display()))?;
    println!(
        "mpm-lab diff --mpm {}: {} requests tried, {} disagreements ({} flaky dropped), {} kinds -> {}",
        mpm.name(),
        report.tried,
        report.disagreements,
        report.flaky,
        report.findings.len(),
        a.out.display()
    );
    for f in &report.findings {
        println!(
            "  [{}] x{}  {}",
            f.kind,
            f.seen,
            diff::wire::escape(&f.shrunk)
        );
    }
    Ok(())
}

fn cmd_fuzz_server(a: FuzzServerArgs) -> Result<(), String> {
    use conformance::differential::{self as diff, soak};
    let (mpm, bin) = resolve_server(&format!("mpm-{}", a.mpm.trim_start_matches("mpm-")))?;
    let srv = diff::with_site(ServerTest::new(mpm).binary(bin))
        .directive(&format!("Timeout {}", soak::TIMEOUT_SECS))
        .directive(&format!("KeepAliveTimeout {}", soak::KEEPALIVE_SECS))
        .try_start()
        .map_err(|e| e.to_string())?;
    let r = soak::soak(srv.addr(), srv.pid(), a.seconds, a.seed, a.threads, || {
        srv.error_log()
    });
    println!(
        "mpm-lab fuzz-server --mpm {} --seconds {}: {} requests, {} held-open checks, {} held past Timeout, {} panic lines",
        mpm.name(),
        a.seconds,
        r.requests,
        r.held_checks,
        r.held_past_timeout.len(),
        r.panics.len()
    );
    println!(
        "  before: {} processes, {} fds, {} kB RSS; after: {} processes, {} fds, {} kB RSS",
        r.before.processes,
        r.before.fds,
        r.before.rss_kb,
        r.after.processes,
        r.after.fds,
        r.after.rss_kb
    );
    for l in r.held_past_timeout.iter().chain(&r.panics) {
        println!("  {l}");
    }
    if r.ok() {
        Ok(())
    } else {
        Err("fuzz-server found a problem".into())
    }
}
