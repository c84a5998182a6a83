//! Grading: build the student's workspace, run each graded test in its own process (a loom
//! abort or a hang costs that test only), and score it.
//!
//! Each test runs as `<test binary> --exact NAME` in its own process group with a timeout;
//! libtest's output says `ok` or `FAILED`, and the failure text (the panic message, proptest's
//! minimal failing input) is kept for the report.

use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use super::assignments::{Assignment, Check, Runner};
use super::report::{Lang, Msg, t};

/// How one graded test ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// libtest printed `ok`.
    Passed,
    /// libtest printed `FAILED`, or the process died (a loom deadlock aborts), or the test is
    /// missing.
    Failed,
    /// Still running at its deadline; its process group was killed.
    TimedOut,
    /// Not run: the build failed, or the assignment's time budget was spent.
    NotRun,
}

/// One row of the score table.
#[derive(Debug, Clone)]
pub struct Result1 {
    /// The test name (`module::test`), or a hidden test's `target::name`.
    pub name: String,
    /// The rule it checks.
    pub rule: String,
    /// Points it is worth.
    pub max_points: u32,
    /// How it ended.
    pub outcome: Outcome,
    /// The first lines of the failure (empty when it passed).
    pub output: String,
    /// How long it ran.
    pub elapsed: Duration,
    /// A teacher's hidden test (Gradescope shows it after publication only).
    pub hidden: bool,
}

impl Result1 {
    /// Points earned.
    pub fn points(&self) -> u32 {
        if self.outcome == Outcome::Passed {
            self.max_points
        } else {
            0
        }
    }
}

/// A graded test: where it runs and what it is worth.
#[derive(Debug, Clone)]
pub struct Planned {
    /// Which executable.
    pub exe: Exe,
    /// Its libtest name.
    pub test: String,
    /// The rule.
    pub rule: String,
    /// Points.
    pub points: u32,
    /// From the teacher's hidden set.
    pub hidden: bool,
}

/// A test executable to build.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Exe {
    /// A built-in runner.
    Builtin(Runner),
    /// `conformance/tests/<name>.rs`, a hidden test file copied into the workspace.
    Extra(String),
}

/// The plan of an assignment's own checks, rules worded in `lang`.
pub fn plan(a: &Assignment, lang: Lang) -> Vec<Planned> {
    a.checks.iter().map(|c| planned(c, lang)).collect()
}

fn planned(c: &Check, lang: Lang) -> Planned {
    Planned {
        exe: Exe::Builtin(c.runner),
        test: c.test.into(),
        rule: match lang {
            Lang::En => c.rule.into(),
            Lang::Es => c.rule_es.into(),
        },
        points: c.points,
        hidden: false,
    }
}

/// `cargo test --no-run` for one executable; its path from cargo's "Executable" line.
pub fn build(ws: &Path, exe: &Exe, log: &mut String) -> Result<PathBuf, String> {
    let (pkg, selector): (&str, Vec<String>) = match exe {
        Exe::Builtin(Runner::Conformance) => {
            ("conformance", vec!["--test".into(), "conformance".into()])
        }
        Exe::Extra(name) => ("conformance", vec!["--test".into(), name.clone()]),
    };
    let out = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .current_dir(ws)
        .args(["test", "--no-run", "-p", pkg])
        .args(&selector)
        .env("CARGO_TERM_COLOR", "never")
        // Its own target/: cargo takes another tree's build of a path crate for fresh.
        .env("CARGO_TARGET_DIR", ws.join("target"))
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cargo: {e}"))?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() {
        let errors: Vec<&str> = stderr
            .lines()
            .filter(|l| !l.trim_start().starts_with("Compiling"))
            .take(40)
            .collect();
        log.push_str(&errors.join("\n"));
        return Err(errors.join("\n"));
    }
    stderr
        .lines()
        .filter_map(|l| l.trim().strip_prefix("Executable "))
        .filter_map(|l| {
            let (_, path) = l.rsplit_once(" (")?;
            Some(path.trim_end_matches(')').to_string())
        })
        .map(|p| {
            let p = PathBuf::from(p);
            if p.is_absolute() { p } else { ws.join(p) }
        })
        .next_back()
        .ok_or_else(|| format!("cargo printed no test executable for {pkg}"))
}

/// Run one test with `--exact`, killing its process group at `timeout`.
pub fn run_one(
    ws: &Path,
    bin: &Path,
    test: &str,
    timeout: Duration,
    lang: Lang,
) -> (Outcome, String, Duration) {
    let start = Instant::now();
    static RUNS: AtomicUsize = AtomicUsize::new(0);
    let tmp = std::env::temp_dir().join(format!(
        "mpm-lab-grade-{}-{}.log",
        std::process::id(),
        RUNS.fetch_add(1, Ordering::Relaxed)
    ));
    let log = match std::fs::File::create(&tmp) {
        Ok(f) => f,
        Err(e) => {
            return (
                Outcome::Failed,
                format!("{}: {e}", tmp.display()),
                start.elapsed(),
            );
        }
    };
    let log2 = match log.try_clone() {
        Ok(f) => f,
        Err(e) => return (Outcome::Failed, e.to_string(), start.elapsed()),
    };
    let child = Command::new(bin)
        // cargo runs an integration test in its package's directory.
        .current_dir(ws.join("conformance"))
        .args([test, "--exact", "--test-threads=1"])
        .env("RUST_BACKTRACE", "0")
        // No proptest-regressions/ files written into the workspace (they would look like
        // added test files to the tamper check).
        .env("PROPTEST_DISABLE_FAILURE_PERSISTENCE", "1")
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(log2)
        .process_group(0)
        .spawn();
    let mut child = match child {
        Ok(c) => c,
        Err(e) => {
            return (
                Outcome::Failed,
                format!("{}: {e}", bin.display()),
                start.elapsed(),
            );
        }
    };
    let status = loop {
        match child.try_wait() {
            Ok(Some(s)) => break Some(s),
            Ok(None) if start.elapsed() < timeout => std::thread::sleep(Duration::from_millis(50)),
            _ => break None,
        }
    };
    if status.is_none() {
        // The test and every server it started share its process group.
        let pgid = nix::unistd::Pid::from_raw(child.id() as i32);
        let _ = nix::sys::signal::killpg(pgid, nix::sys::signal::Signal::SIGKILL);
        let _ = child.wait();
    }
    let mut text = String::new();
    let _ = std::fs::File::open(&tmp).and_then(|mut f| f.read_to_string(&mut text));
    let _ = std::fs::remove_file(&tmp);
    let elapsed = start.elapsed();
    match status {
        None => (
            Outcome::TimedOut,
            format!(
                "{} {} s\n{}",
                t(lang, Msg::TimedOutAfter),
                timeout.as_secs(),
                failure_excerpt(&text, test)
            ),
            elapsed,
        ),
        Some(s) => {
            let (outcome, out) = parse_libtest(&text, test, s.success(), lang);
            (outcome, out, elapsed)
        }
    }
}

/// The verdict libtest printed for `test`, and the failure's first lines.
pub fn parse_libtest(text: &str, test: &str, exit_ok: bool, lang: Lang) -> (Outcome, String) {
    let line = format!("test {test} ... ");
    let verdict = text
        .lines()
        .find_map(|l| l.strip_prefix(&line))
        .map(str::trim);
    match verdict {
        Some("ok") if exit_ok => (Outcome::Passed, String::new()),
        Some(_) => (Outcome::Failed, failure_excerpt(text, test)),
        None if text.contains("running 0 tests") => (
            Outcome::Failed,
            format!("{}: {test}", t(lang, Msg::NoTestNamed)),
        ),
        None => (
            Outcome::Failed,
            format!("{}:\n{}", t(lang, Msg::ProcessDied), last_lines(text, 12)),
        ),
    }
}

/// The `---- NAME stdout ----` section (panic message, minimal failing input), shortened.
pub fn failure_excerpt(text: &str, test: &str) -> String {
    let head = format!("---- {test} stdout ----");
    let Some(start) = text.find(&head) else {
        return last_lines(text, 12);
    };
    let body = &text[start + head.len()..];
    let end = ["\n---- ", "\nfailures:\n", "\n\nfailures:"]
        .iter()
        .filter_map(|m| body.find(m))
        .min()
        .unwrap_or(body.len());
    // Proptest reruns the test while it shrinks: the same panic line comes many times. Keep
    // each line once (thread ids removed), then the minimal failing input in full.
    let mut kept: Vec<String> = Vec::new();
    let mut minimal: Vec<String> = Vec::new();
    let mut in_minimal = false;
    for l in body[..end].lines().map(str::trim_end) {
        if l.is_empty() || l.starts_with("note: run with `RUST_BACKTRACE") || is_backtrace(l) {
            continue;
        }
        if l.contains("minimal failing input") {
            in_minimal = true;
        }
        if in_minimal {
            if minimal.len() < 24 {
                minimal.push(l.to_string());
            }
            continue;
        }
        let l = strip_thread_id(l);
        if kept.len() < 10 && !kept.contains(&l) {
            kept.push(l);
        }
    }
    kept.extend(minimal);
    kept.join("\n")
}

/// A frame of a printed backtrace (loom prints one on a deadlock): `  12: 0x… - name` or
/// `      at file:line`, or its heading.
fn is_backtrace(line: &str) -> bool {
    let t = line.trim_start();
    t.starts_with("at ")
        || t.starts_with("stack backtrace:")
        || t.split_once(": ")
            .is_some_and(|(n, _)| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()))
}

/// `thread 'x' (12345) panicked` → `thread 'x' panicked`: the id changes every run.
fn strip_thread_id(line: &str) -> String {
    if let (Some(open), Some(close)) = (line.find("' ("), line.find(") panicked")) {
        if open < close {
            return format!("{}'{}", &line[..open], &line[close + 1..]);
        }
    }
    line.to_string()
}

fn last_lines(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().filter(|l| !is_backtrace(l)).collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// How long and how wide a grading run may be.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// All the plan's tests together (the build is not counted).
    pub budget: Duration,
    /// One test.
    pub per_test: Duration,
    /// Tests run at the same time. Real-server tests mostly wait for the servers' once-a-second
    /// maintenance, so two or more at a time shorten a run even on 2 cores; each test is its
    /// own process (group) on its own OS-given port, as under `cargo test`.
    pub jobs: usize,
}

impl Limits {
    /// The default width: the machine's cores, at least 2 and at most 4.
    pub fn default_jobs() -> usize {
        std::thread::available_parallelism().map_or(2, |n| n.get().clamp(2, 4))
    }
}

/// Build what the plan needs, run it within the limits, and return the rows (in plan order).
pub fn run_plan(ws: &Path, plan: &[Planned], limits: Limits, lang: Lang) -> (Vec<Result1>, String) {
    let mut build_log = String::new();
    let mut exes: Vec<(Exe, Result<PathBuf, String>)> = Vec::new();
    for p in plan {
        if !exes.iter().any(|(e, _)| *e == p.exe) {
            let r = build(ws, &p.exe, &mut build_log);
            exes.push((p.exe.clone(), r));
        }
    }
    let start = Instant::now();
    let run = |p: &Planned| -> Result1 {
        let built = exes
            .iter()
            .find(|(e, _)| *e == p.exe)
            .map(|(_, r)| r.clone())
            .unwrap_or_else(|| Err("not built".into()));
        let left = limits.budget.saturating_sub(start.elapsed());
        let (outcome, output, elapsed) = match built {
            Err(e) => (
                Outcome::NotRun,
                format!("{}:\n{e}", t(lang, Msg::BuildFailed)),
                Duration::ZERO,
            ),
            Ok(_) if left.is_zero() => (
                Outcome::NotRun,
                t(lang, Msg::BudgetSpent).into(),
                Duration::ZERO,
            ),
            Ok(bin) => run_one(ws, &bin, &p.test, limits.per_test.min(left), lang),
        };
        Result1 {
            name: p.test.clone(),
            rule: p.rule.clone(),
            max_points: p.points,
            outcome,
            output,
            elapsed,
            hidden: p.hidden,
        }
    };
    // A shared cursor over the plan; each slot is written by the one thread that took it.
    let next = AtomicUsize::new(0);
    let slots: Vec<std::sync::Mutex<Option<Result1>>> =
        plan.iter().map(|_| std::sync::Mutex::new(None)).collect();
    std::thread::scope(|scope| {
        for _ in 0..limits.jobs.clamp(1, plan.len().max(1)) {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(p) = plan.get(i) else { break };
                    let row = run(p);
                    // Poisoning cannot happen: nothing panics while the lock is held.
                    if let Ok(mut slot) = slots[i].lock() {
                        *slot = Some(row);
                    }
                }
            });
        }
    });
    let rows = slots
        .into_iter()
        .zip(plan)
        .map(|(slot, p)| {
            slot.into_inner().ok().flatten().unwrap_or_else(|| Result1 {
                name: p.test.clone(),
                rule: p.rule.clone(),
                max_points: p.points,
                outcome: Outcome::NotRun,
                output: String::new(),
                elapsed: Duration::ZERO,
                hidden: p.hidden,
            })
        })
        .collect();
    (rows, build_log)
}

#[cfg(test)]
mod tests {
    use super::*;

    const FAILED: &str = "running 1 test\ntest prefork_props::rule_x ... FAILED\n\nfailures:\n\n---- prefork_props::rule_x stdout ----\nthread 'prefork_props::rule_x' panicked at conformance/tests/conformance/prefork_props.rs:99:9:\nTest failed: assertion failed: idle > max; minimal failing input: (cfg, view, r) = (PreforkConfig { .. })\n\tsuccesses: 3\nnote: run with `RUST_BACKTRACE=1` environment variable to display a backtrace\n\n\nfailures:\n    prefork_props::rule_x\n\ntest result: FAILED. 0 passed; 1 failed\n";

    #[test]
    fn libtest_verdicts_and_excerpts() {
        let ok = "running 1 test\ntest a::b ... ok\n\ntest result: ok. 1 passed\n";
        assert_eq!(parse_libtest(ok, "a::b", true, Lang::En).0, Outcome::Passed);
        let (o, text) = parse_libtest(FAILED, "prefork_props::rule_x", false, Lang::En);
        assert_eq!(o, Outcome::Failed);
        assert!(text.contains("minimal failing input"), "{text}");
        assert!(!text.contains("RUST_BACKTRACE"), "{text}");
        let (o, text) = parse_libtest("running 0 tests\n", "a::c", true, Lang::En);
        assert_eq!(o, Outcome::Failed);
        assert!(text.contains("no test of this name in this build: a::c"));
        let (_, text) = parse_libtest("running 0 tests\n", "a::c", true, Lang::Es);
        assert!(
            text.starts_with("no hay ninguna prueba con este nombre"),
            "{text}"
        );
        // A loom deadlock aborts the process before libtest prints a verdict.
        let (o, _) = parse_libtest(
            "running 1 test\nthread panicked: deadlock\n",
            "a::d",
            false,
            Lang::En,
        );
        assert_eq!(o, Outcome::Failed);
        let bt = "test a::e ... FAILED\n---- a::e stdout ----\nthread 'a::e' panicked at x.rs:1:1:\ndeadlock\nstack backtrace:\n   0:     0x55 - loom::rt\n                at /x.rs:1:5\n\nfailures:\n";
        assert_eq!(
            failure_excerpt(bt, "a::e"),
            "thread 'a::e' panicked at x.rs:1:1:\ndeadlock"
        );
    }
}
