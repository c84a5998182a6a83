//! The course kit: assignments cut out of the real source, and the grader that scores them.
//!
//! * [`assignments`]: the table (assignment → files, graded tests, rules, points, budget).
//! * [`skeleton`]: markers → `todo!()`, the student workspace, the manifest of protected files.
//! * [`grade`]: build the workspace, run each graded test in its own process group, score.
//! * [`report`]: the score table (English/Spanish), Gradescope's and GitHub Classroom's JSON.
//! * [`labs`]: `grade --lab NN`: a lab's answers file checked against the simulator.
//! * [`sha256`]: the hash behind the anti-tampering manifest.
//! * [`warm`]: `--warm-target`, third-party builds lent to a workspace's `target/`.
//!
//! The book's teacher chapter (`book/src/assignments/teacher.md`) explains how to use it.

pub mod assignments;
pub mod cli;
pub mod grade;
pub mod labs;
pub mod report;
pub mod sha256;
pub mod skeleton;
pub mod warm;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use assignments::Assignment;
use grade::{Exe, Planned, Result1};

/// The kit this grader was built from (the repository holding this crate).
pub fn kit_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}

/// What `mpm-lab grade` was asked.
#[derive(Debug, Clone)]
pub struct GradeOptions {
    /// The student's workspace.
    pub workspace: PathBuf,
    /// The assignment; default: the one written in the workspace's `.mpm-lab/assignment`.
    pub assignment: Option<String>,
    /// A teacher's hidden-test directory.
    pub hidden: Option<PathBuf>,
    /// The longest one test may run.
    pub per_test: Duration,
    /// A `target/` directory whose third-party builds seed the workspace's own `target/`.
    pub warm_target: Option<PathBuf>,
    /// The language of the rules in the report.
    pub lang: report::Lang,
    /// Tests run at the same time ([`grade::Limits::jobs`]).
    pub jobs: usize,
}

/// The result of grading one workspace.
#[derive(Debug, Clone)]
pub struct Graded {
    /// The assignment graded.
    pub assignment: &'static Assignment,
    /// One row per graded test.
    pub rows: Vec<Result1>,
    /// Why the workspace scores 0 whatever its tests say (tampering).
    pub refused: Option<String>,
    /// Wall time, build included.
    pub elapsed: Duration,
}

/// The assignment a workspace was generated for.
pub fn workspace_assignment(ws: &Path) -> Option<String> {
    std::fs::read_to_string(ws.join(skeleton::ASSIGNMENT_FILE))
        .ok()
        .map(|s| s.trim().to_string())
}

/// The protected files' expected hashes: from the kit's own files, or, when the grader runs
/// inside the workspace itself (a student checking their work), from its manifest.
fn expected_manifest(kit: &Path, ws: &Path) -> Result<String, String> {
    let same = kit.canonicalize().ok() == ws.canonicalize().ok();
    if same {
        return std::fs::read_to_string(ws.join(skeleton::MANIFEST))
            .or_else(|_| skeleton::manifest(kit, &skeleton::kit_files(kit)?));
    }
    let files: Vec<String> = skeleton::kit_files(kit)?
        .into_iter()
        .filter(|f| !skeleton::is_teacher_only(f))
        .collect();
    skeleton::manifest(kit, &files)
}

/// A hidden test file to copy in: its path, and its test target name (`hidden_<stem>`).
pub type HiddenFile = (PathBuf, String);

/// Hidden tests: `checks.txt` lines `ASSIGNMENT TARGET TEST POINTS RULE…` (`#` comments);
/// TARGET is `conformance` (the suite) or the stem of a `.rs` file of the directory, which is
/// copied into the workspace as `conformance/tests/hidden_<stem>.rs` for the run.
pub fn hidden_plan(
    dir: &Path,
    assignment: &str,
) -> Result<(Vec<Planned>, Vec<HiddenFile>), String> {
    let list = dir.join("checks.txt");
    let text = std::fs::read_to_string(&list).map_err(|e| format!("{}: {e}", list.display()))?;
    let mut plan = Vec::new();
    let mut files = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut it = line.split_whitespace();
        let (Some(a), Some(target), Some(test), Some(points)) =
            (it.next(), it.next(), it.next(), it.next())
        else {
            return Err(format!(
                "{}:{}: want ASSIGNMENT TARGET TEST POINTS RULE",
                list.display(),
                n + 1
            ));
        };
        if a != assignment {
            continue;
        }
        let points: u32 = points
            .parse()
            .map_err(|_| format!("{}:{}: points must be a number", list.display(), n + 1))?;
        let rule = it.collect::<Vec<_>>().join(" ");
        let exe = if target == "conformance" {
            Exe::Builtin(assignments::Runner::Conformance)
        } else {
            let src = dir.join(format!("{target}.rs"));
            if !src.is_file() {
                return Err(format!(
                    "{}:{}: no {}",
                    list.display(),
                    n + 1,
                    src.display()
                ));
            }
            let name = format!("hidden_{target}");
            if !files.iter().any(|(_, f)| *f == name) {
                files.push((src, name.clone()));
            }
            Exe::Extra(name)
        };
        plan.push(Planned {
            exe,
            test: test.into(),
            rule,
            points,
            hidden: true,
        });
    }
    Ok((plan, files))
}

/// Grade a workspace: refuse it if protected files changed, else build and run its checks
/// (and the hidden ones).
pub fn grade_workspace(opts: &GradeOptions) -> Result<Graded, String> {
    let start = Instant::now();
    let ws = &opts
        .workspace
        .canonicalize()
        .map_err(|e| format!("{}: {e}", opts.workspace.display()))?;
    let name = match &opts.assignment {
        Some(n) => n.clone(),
        None => workspace_assignment(ws).ok_or_else(|| {
            format!(
                "{} names no assignment (no {}): pass --assignment, one of {}",
                ws.display(),
                skeleton::ASSIGNMENT_FILE,
                assignments::names()
            )
        })?,
    };
    let a = assignments::find(&name)
        .ok_or_else(|| format!("no assignment {name}: one of {}", assignments::names()))?;
    let mut plan = grade::plan(a, opts.lang);
    let mut extra = Vec::new();
    if let Some(dir) = &opts.hidden {
        let (p, f) = hidden_plan(dir, a.name)?;
        plan.extend(p);
        extra = f;
    }
    let kit = kit_root();
    let bad = skeleton::tampered(&kit, ws, &expected_manifest(&kit, ws)?);
    if !bad.is_empty() {
        let rows = plan
            .iter()
            .map(|p| Result1 {
                name: p.test.clone(),
                rule: p.rule.clone(),
                max_points: p.points,
                outcome: grade::Outcome::NotRun,
                output: String::new(),
                elapsed: Duration::ZERO,
                hidden: p.hidden,
            })
            .collect();
        return Ok(Graded {
            assignment: a,
            rows,
            refused: Some(bad.join(", ")),
            elapsed: start.elapsed(),
        });
    }
    if let Some(lender) = &opts.warm_target {
        warm::seed_target(lender, &ws.join("target"))?;
    }
    let mut copied = Vec::new();
    for (src, name) in &extra {
        let dst = ws.join("conformance/tests").join(format!("{name}.rs"));
        std::fs::copy(src, &dst).map_err(|e| format!("{}: {e}", dst.display()))?;
        copied.push(dst);
    }
    let (rows, _log) = grade::run_plan(
        ws,
        &plan,
        grade::Limits {
            budget: a.budget,
            per_test: opts.per_test,
            jobs: opts.jobs,
        },
        opts.lang,
    );
    for f in copied {
        let _ = std::fs::remove_file(f);
    }
    Ok(Graded {
        assignment: a,
        rows,
        refused: None,
        elapsed: start.elapsed(),
    })
}
