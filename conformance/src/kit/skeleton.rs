//! From the real source to a student workspace: find the `ASSIGNMENT(name)` regions, replace
//! them with the hints and a `todo!()`, copy the rest of the project, and write the manifest
//! of protected files.
//!
//! A region is always a whole function body (or a whole block): the markers sit on their own
//! lines just inside its braces, so `todo!()` (which has every type) keeps it compiling.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use super::assignments::Assignment;
use super::sha256;

/// Where `mpm-lab` keeps its files inside a student workspace.
pub const KIT_DIR: &str = ".mpm-lab";
/// The manifest: `sha256  path` per protected file, as `sha256sum` prints it.
pub const MANIFEST: &str = ".mpm-lab/manifest.sha256";
/// The assignment a workspace was generated for.
pub const ASSIGNMENT_FILE: &str = ".mpm-lab/assignment";

/// Files of the kit that never go into a student workspace: the lab answer key, the kit's own
/// self-test (it holds the known-wrong solutions) and the teachers' hidden-test example.
pub fn is_teacher_only(path: &str) -> bool {
    path.starts_with("book/answers/")
        || path.starts_with("book/assignments/hidden-example/")
        || path == "conformance/tests/kit.rs"
}

/// Files a student must not change: the tests, the harness and grader, the build files, and
/// httpd-core's queue tests (they grade queue-info).
pub fn is_protected(path: &str) -> bool {
    (path.starts_with("conformance/") && !path.starts_with("conformance/reference/"))
        || path.ends_with("Cargo.toml")
        || path == "Cargo.lock"
        || path.starts_with(".cargo/")
        || path == "rust-toolchain.toml"
        || path == "httpd-core/src/fdqueue_tests.rs"
        || path.starts_with(".github/")
}

/// One marked region: 0-based line numbers of its `begin` and `end` marker lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Region {
    /// The `// ASSIGNMENT(name): begin` line.
    pub begin: usize,
    /// The `// ASSIGNMENT(name): end` line.
    pub end: usize,
}

fn marker(line: &str) -> Option<(&str, &str)> {
    let rest = line.trim_start().strip_prefix("// ASSIGNMENT(")?;
    let (name, what) = rest.split_once("): ")?;
    Some((name, what.trim_end()))
}

/// The regions of assignment `name` in `src`; an error for unbalanced or nested markers.
pub fn regions(src: &str, name: &str) -> Result<Vec<Region>, String> {
    let mut out = Vec::new();
    let mut open: Option<usize> = None;
    for (i, line) in src.lines().enumerate() {
        match marker(line) {
            Some((n, "begin")) if n == name => {
                if open.is_some() {
                    return Err(format!("line {}: nested ASSIGNMENT({name}) begin", i + 1));
                }
                open = Some(i);
            }
            Some((n, "end")) if n == name => {
                let begin = open.take().ok_or_else(|| {
                    format!("line {}: ASSIGNMENT({name}) end without begin", i + 1)
                })?;
                out.push(Region { begin, end: i });
            }
            _ => {}
        }
    }
    match open {
        Some(b) => Err(format!(
            "line {}: ASSIGNMENT({name}) begin without end",
            b + 1
        )),
        None => Ok(out),
    }
}

/// `src` with every region of `name` replaced by its hints and a `todo!()`.
pub fn blank(src: &str, name: &str, handout: &str) -> Result<String, String> {
    let regions = regions(src, name)?;
    let lines: Vec<&str> = src.lines().collect();
    let mut out = String::with_capacity(src.len());
    let mut i = 0;
    for r in &regions {
        for l in &lines[i..=r.begin] {
            out.push_str(l);
            out.push('\n');
        }
        let indent: String = lines[r.begin]
            .chars()
            .take_while(|c| c.is_whitespace())
            .collect();
        let hint = format!("// HINT({name}): ");
        for l in &lines[r.begin + 1..r.end] {
            if let Some(h) = l.trim_start().strip_prefix(&hint) {
                let _ = writeln!(out, "{indent}// Hint: {h}");
            }
        }
        let _ = writeln!(
            out,
            "{indent}todo!(\"{name}: write this (book/assignments/{handout}/README.md)\")"
        );
        out.push_str(lines[r.end]);
        out.push('\n');
        i = r.end + 1;
    }
    for l in &lines[i..] {
        out.push_str(l);
        out.push('\n');
    }
    if !src.ends_with('\n') {
        out.pop();
    }
    Ok(out)
}

/// The files of the kit repository (`git ls-files`: never `target/`, never untracked files).
pub fn kit_files(kit: &Path) -> Result<Vec<String>, String> {
    let out = Command::new("git")
        .arg("-C")
        .arg(kit)
        .args(["ls-files", "-z"])
        .output()
        .map_err(|e| format!("git ls-files: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "git ls-files in {}: {}",
            kit.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(out
        .stdout
        .split(|&b| b == 0)
        .filter(|p| !p.is_empty())
        .map(|p| String::from_utf8_lossy(p).into_owned())
        .collect())
}

/// The manifest text for the protected files among `files`, hashed from `root`.
pub fn manifest(root: &Path, files: &[String]) -> Result<String, String> {
    let mut out = String::new();
    for f in files.iter().filter(|f| is_protected(f)) {
        let data = std::fs::read(root.join(f)).map_err(|e| format!("{f}: {e}"))?;
        let _ = writeln!(out, "{}  {f}", sha256::hex(&data));
    }
    Ok(out)
}

/// Write the student workspace for `a` into `out` (which must not exist or be empty).
/// Returns the files written. With `git`, the workspace gets a fresh repository with one commit.
pub fn write_workspace(
    kit: &Path,
    a: &Assignment,
    out: &Path,
    git: bool,
) -> Result<Vec<String>, String> {
    if out.exists()
        && std::fs::read_dir(out)
            .map_err(|e| format!("{}: {e}", out.display()))?
            .next()
            .is_some()
    {
        return Err(format!("{} exists and is not empty", out.display()));
    }
    let files: Vec<String> = kit_files(kit)?
        .into_iter()
        .filter(|f| !is_teacher_only(f))
        .collect();
    let mut blanked = 0;
    for f in &files {
        let src = kit.join(f);
        let dst = out.join(f);
        if let Some(dir) = dst.parent() {
            std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        }
        let meta = std::fs::symlink_metadata(&src).map_err(|e| format!("{f}: {e}"))?;
        if meta.file_type().is_symlink() {
            let target = std::fs::read_link(&src).map_err(|e| format!("{f}: {e}"))?;
            std::os::unix::fs::symlink(&target, &dst).map_err(|e| format!("{f}: {e}"))?;
            continue;
        }
        if f.ends_with(".rs") {
            let text = std::fs::read_to_string(&src).map_err(|e| format!("{f}: {e}"))?;
            if !regions(&text, a.name)?.is_empty() {
                let b = blank(&text, a.name, a.handout).map_err(|e| format!("{f}: {e}"))?;
                std::fs::write(&dst, b).map_err(|e| format!("{}: {e}", dst.display()))?;
                blanked += 1;
                continue;
            }
        }
        std::fs::copy(&src, &dst).map_err(|e| format!("{f}: {e}"))?;
    }
    if blanked == 0 {
        return Err(format!("no ASSIGNMENT({}) region in the kit", a.name));
    }
    std::fs::create_dir_all(out.join(KIT_DIR)).map_err(|e| format!("{KIT_DIR}: {e}"))?;
    std::fs::write(out.join(ASSIGNMENT_FILE), format!("{}\n", a.name))
        .map_err(|e| format!("{ASSIGNMENT_FILE}: {e}"))?;
    let classroom = PathBuf::from(".github/classroom/autograding.json");
    std::fs::create_dir_all(out.join(".github/classroom")).map_err(|e| e.to_string())?;
    std::fs::write(out.join(&classroom), super::report::autograding_json(a))
        .map_err(|e| format!("{}: {e}", classroom.display()))?;
    let mut written = files;
    written.push(classroom.display().to_string());
    std::fs::write(out.join(MANIFEST), manifest(out, &written)?)
        .map_err(|e| format!("{MANIFEST}: {e}"))?;
    written.push(MANIFEST.into());
    written.push(ASSIGNMENT_FILE.into());
    if git {
        fresh_repository(out)?;
    }
    Ok(written)
}

/// `git init` and one commit: the student's history starts at the skeleton.
fn fresh_repository(dir: &Path) -> Result<(), String> {
    let run = |args: &[&str]| -> Result<(), String> {
        let o = Command::new("git")
            .arg("-C")
            .arg(dir)
            .args([
                "-c",
                "user.name=mpm-lab",
                "-c",
                "user.email=mpm-lab@localhost",
                "-c",
                "init.defaultBranch=main",
                "-c",
                "commit.gpgsign=false",
            ])
            .args(args)
            .output()
            .map_err(|e| format!("git {}: {e}", args[0]))?;
        if o.status.success() {
            Ok(())
        } else {
            Err(format!(
                "git {}: {}",
                args[0],
                String::from_utf8_lossy(&o.stderr).trim()
            ))
        }
    };
    run(&["init", "-q"])?;
    run(&["add", "-A"])?;
    run(&["commit", "-q", "-m", "mpm-lab assignment skeleton"])
}

/// A protected file that differs from the kit, or is missing, or a file added under the
/// protected test and harness directories.
pub fn tampered(kit: &Path, ws: &Path, kit_manifest: &str) -> Vec<String> {
    let mut bad = Vec::new();
    let mut listed = std::collections::HashSet::new();
    for line in kit_manifest.lines() {
        let Some((hash, path)) = line.split_once("  ") else {
            continue;
        };
        listed.insert(path.to_string());
        match std::fs::read(ws.join(path)) {
            Ok(data) if sha256::hex(&data) == hash => {}
            Ok(_) => bad.push(format!("{path} (changed)")),
            Err(_) => bad.push(format!("{path} (missing)")),
        }
    }
    for dir in ["conformance/tests", "conformance/src", ".cargo"] {
        for f in walk(&ws.join(dir)) {
            let rel = f
                .strip_prefix(ws)
                .map(|p| p.display().to_string())
                .unwrap_or_default();
            // proptest-regressions/: written by the student's own failing runs; they only add
            // cases, they cannot raise a score.
            if !listed.contains(&rel)
                && !kit.join(&rel).is_file()
                && !rel.contains("proptest-regressions/")
            {
                bad.push(format!("{rel} (added)"));
            }
        }
    }
    bad
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(rd) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const SRC: &str = "fn a() -> u32 {\n    // ASSIGNMENT(x): begin\n    // HINT(x): add one\n    1 + 0\n    // ASSIGNMENT(x): end\n}\nfn b() {}\n";

    #[test]
    fn a_region_becomes_hints_and_todo() {
        assert_eq!(regions(SRC, "x").unwrap(), [Region { begin: 1, end: 4 }]);
        assert_eq!(
            blank(SRC, "x", "01-x").unwrap(),
            "fn a() -> u32 {\n    // ASSIGNMENT(x): begin\n    // Hint: add one\n    todo!(\"x: write this (book/assignments/01-x/README.md)\")\n    // ASSIGNMENT(x): end\n}\nfn b() {}\n"
        );
        assert_eq!(blank(SRC, "y", "02-y").unwrap(), SRC);
    }

    #[test]
    fn unbalanced_markers_are_errors() {
        assert!(regions("// ASSIGNMENT(x): begin\n", "x").is_err());
        assert!(regions("// ASSIGNMENT(x): end\n", "x").is_err());
        assert!(regions("// ASSIGNMENT(x): begin\n// ASSIGNMENT(x): begin\n", "x").is_err());
    }

    #[test]
    fn protected_and_teacher_only_files() {
        assert!(is_protected(
            "conformance/tests/conformance/prefork_props.rs"
        ));
        assert!(is_protected("mpm-prefork/Cargo.toml"));
        assert!(is_protected("httpd-core/src/fdqueue_tests.rs"));
        assert!(!is_protected("mpm-prefork/src/maintenance.rs"));
        assert!(is_teacher_only("book/answers/labs.md"));
        assert!(is_teacher_only("conformance/tests/kit.rs"));
    }
}
