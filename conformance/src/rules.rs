//! The rule table: every numbered rule of the spec (§11 of apache-mpm-rules.md, copied to
//! `conformance/reference/rules.md`) against the tests that check it and the deviations we
//! declare, per MPM.
//!
//! Tests are found by name: a function `rule_NN_…` anywhere in the scanned sources (the
//! conformance suite, httpd-core and the three MPM crates). Which MPM a test covers is read
//! from where it lives: `for_each_mpm!(rule_…)` covers all three; a file or crate named after
//! an MPM (`prefork_*.rs`, `mpm-event/…`) covers that one; otherwise an MPM named in the test's
//! name; otherwise every MPM the rule applies to. Deviations are lines `rule NN | mpm | reason`
//! in `conformance/DEVIATIONS.md` (`mpm` may be `all`).

use crate::server::Mpm;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

/// One numbered rule.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    pub num: u32,
    pub text: String,
    /// The MPMs the rule talks about.
    pub mpms: Vec<Mpm>,
}

/// One test function named after a rule (`rule_66_67_…` names two rules and yields two).
#[derive(Debug, Clone, PartialEq)]
pub struct TestRef {
    pub rule: u32,
    pub name: String,
    /// Path relative to the workspace root.
    pub file: String,
    pub mpms: Vec<Mpm>,
    pub ignored: bool,
}

/// One declared deviation.
#[derive(Debug, Clone, PartialEq)]
pub struct Deviation {
    pub rule: u32,
    /// `None` = all MPMs.
    pub mpm: Option<Mpm>,
    pub reason: String,
}

/// Rules whose wording misleads the name-based guess of which MPMs they concern.
fn applicability_override(num: u32) -> Option<Vec<Mpm>> {
    match num {
        // AsyncRequestWorkerFactor exists only in event; 30 and 31 are event's accept limit and
        // keep-alive hand-off, whose text says "idle worker" (a thread, not the MPM).
        29..=31 => Some(vec![Mpm::Event]),
        // "only for event" is about the key set of every MPM's page.
        37 => Some(Mpm::ALL.to_vec()),
        // Names prefork's message and worker/event's codes: all three.
        47 => Some(Mpm::ALL.to_vec()),
        _ => None,
    }
}

/// Which MPMs a rule's text names (the final citation in parentheses is ignored).
fn mpms_named(text: &str) -> Vec<Mpm> {
    let body = match text.rfind(" (") {
        Some(i) => &text[..i],
        None => text,
    };
    let words: Vec<String> = body
        .split(|c: char| !c.is_ascii_alphanumeric())
        .map(|w| w.to_ascii_lowercase())
        .collect();
    Mpm::ALL
        .into_iter()
        .filter(|m| words.iter().any(|w| w == m.name()))
        .collect()
}

/// Parse the numbered list of §11 (or of a file that holds only that list).
pub fn parse_rules(md: &str) -> Vec<Rule> {
    let start = md.find("## 11.").unwrap_or(0);
    let mut rules = Vec::new();
    for line in md[start..].lines() {
        let Some((n, text)) = line.split_once(". ") else {
            continue;
        };
        let Ok(num) = n.trim().parse::<u32>() else {
            continue;
        };
        let text = text.trim().to_string();
        let mut mpms = applicability_override(num).unwrap_or_else(|| mpms_named(&text));
        if mpms.is_empty() {
            mpms = Mpm::ALL.to_vec();
        }
        rules.push(Rule { num, text, mpms });
    }
    rules
}

/// Parse `rule NN | mpm | reason` lines.
pub fn parse_deviations(md: &str) -> Vec<Deviation> {
    md.lines()
        .filter_map(|l| {
            let mut parts = l.splitn(3, '|').map(str::trim);
            let rule = parts.next()?.strip_prefix("rule ")?.trim().parse().ok()?;
            let mpm_text = parts.next()?;
            let mpm = if mpm_text.eq_ignore_ascii_case("all") {
                None
            } else {
                Some(Mpm::from_name(mpm_text)?)
            };
            Some(Deviation {
                rule,
                mpm,
                reason: parts.next()?.to_string(),
            })
        })
        .collect()
}

fn mpm_of_path(rel: &str) -> Option<Mpm> {
    let file = rel.rsplit('/').next().unwrap_or(rel);
    for m in Mpm::ALL {
        if file.starts_with(&format!("{}_", m.name())) || rel.starts_with(m.binary_name()) {
            return Some(m);
        }
    }
    None
}

/// Find `rule_NN_…` test functions in one file's text.
pub fn scan_source(rel: &str, text: &str, rules: &[Rule]) -> Vec<TestRef> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let t = line.trim_start();
        if t.starts_with("//") {
            continue;
        }
        let Some(pos) = t.find("fn rule_") else {
            continue;
        };
        let ident: String = t[pos + 3..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        // The rule numbers right after `rule_`: `rule_66_67_body` → [66, 67].
        let nums: Vec<u32> = ident["rule_".len()..]
            .split('_')
            .map_while(|w| {
                w.parse::<u32>()
                    .ok()
                    .filter(|n| rules.iter().any(|r| r.num == *n) || rules.is_empty())
            })
            .collect();
        if nums.is_empty() {
            continue;
        }
        let attrs = lines[i.saturating_sub(4)..i].iter().rev().take_while(|l| {
            let l = l.trim_start();
            l.starts_with("#[") || l.starts_with("///") || l.starts_with("//")
        });
        let ignored = attrs.clone().any(|l| l.contains("#[ignore"));
        let applicable = rules
            .iter()
            .find(|r| r.num == nums[0])
            .map(|r| r.mpms.clone())
            .unwrap_or(Mpm::ALL.to_vec());
        let each = text.contains(&format!("for_each_mpm!({ident})"));
        let named: Vec<Mpm> = Mpm::ALL
            .into_iter()
            .filter(|m| ident.split('_').any(|w| w == m.name()))
            .collect();
        let mpms = if each {
            Mpm::ALL.to_vec()
        } else if let Some(m) = mpm_of_path(rel) {
            vec![m]
        } else if !named.is_empty() {
            named
        } else {
            applicable
        };
        for rule in nums {
            out.push(TestRef {
                rule,
                name: ident.clone(),
                file: rel.to_string(),
                mpms: mpms.clone(),
                ignored,
            });
        }
    }
    out
}

fn rs_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = fs::read_dir(dir) else { return };
    let mut entries: Vec<PathBuf> = rd.filter_map(|e| Some(e.ok()?.path())).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            if p.file_name()
                .is_some_and(|n| n == "target" || n == "snapshots")
            {
                continue;
            }
            rs_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
}

/// The directories scanned for tests, relative to the workspace root.
pub const SCANNED: [&str; 9] = [
    "conformance/tests",
    "httpd-core/src",
    "httpd-core/tests",
    "mpm-prefork/src",
    "mpm-prefork/tests",
    "mpm-worker/src",
    "mpm-worker/tests",
    "mpm-event/src",
    "mpm-event/tests",
];

/// Every rule test in the workspace rooted at `root`.
pub fn scan_workspace(root: &Path, rules: &[Rule]) -> Vec<TestRef> {
    let mut files = Vec::new();
    for d in SCANNED {
        rs_files(&root.join(d), &mut files);
    }
    let mut out = Vec::new();
    for f in files {
        let Ok(text) = fs::read_to_string(&f) else {
            continue;
        };
        let rel = f
            .strip_prefix(root)
            .unwrap_or(&f)
            .to_string_lossy()
            .replace('\\', "/");
        out.extend(scan_source(&rel, &text, rules));
    }
    out
}

/// Rules, tests and deviations together.
#[derive(Debug, Clone)]
pub struct Coverage {
    pub rules: Vec<Rule>,
    pub tests: Vec<TestRef>,
    pub deviations: Vec<Deviation>,
}

impl Coverage {
    /// Load everything from the workspace: `conformance/reference/rules.md`,
    /// `conformance/DEVIATIONS.md` and the scanned sources.
    pub fn load(root: &Path) -> std::io::Result<Coverage> {
        let rules = parse_rules(&fs::read_to_string(
            root.join("conformance/reference/rules.md"),
        )?);
        let deviations = parse_deviations(
            &fs::read_to_string(root.join("conformance/DEVIATIONS.md")).unwrap_or_default(),
        );
        let tests = scan_workspace(root, &rules);
        Ok(Coverage {
            rules,
            tests,
            deviations,
        })
    }

    /// Tests for `rule` covering `mpm`.
    pub fn tests_for(&self, rule: u32, mpm: Mpm) -> Vec<&TestRef> {
        self.tests
            .iter()
            .filter(|t| t.rule == rule && t.mpms.contains(&mpm))
            .collect()
    }

    /// Deviations for `rule` that concern `mpm`.
    pub fn deviations_for(&self, rule: u32, mpm: Mpm) -> Vec<&Deviation> {
        self.deviations
            .iter()
            .filter(|d| d.rule == rule && d.mpm.is_none_or(|m| m == mpm))
            .collect()
    }

    /// Rule numbers with neither a test nor a deviation at all.
    pub fn uncovered(&self) -> Vec<u32> {
        self.rules
            .iter()
            .filter(|r| {
                !self.tests.iter().any(|t| t.rule == r.num)
                    && !self.deviations.iter().any(|d| d.rule == r.num)
            })
            .map(|r| r.num)
            .collect()
    }

    /// (rule, mpm) pairs the rule applies to with neither a test nor a deviation.
    pub fn gaps(&self) -> Vec<(u32, Mpm)> {
        let mut v = Vec::new();
        for r in &self.rules {
            for &m in &r.mpms {
                if self.tests_for(r.num, m).is_empty() && self.deviations_for(r.num, m).is_empty() {
                    v.push((r.num, m));
                }
            }
        }
        v
    }

    /// The markdown table for the book (`book/src/reference/rules.md`).
    pub fn markdown(&self) -> String {
        let mut o = String::new();
        let _ = writeln!(o, "# Rules and the tests that check them\n");
        let _ = writeln!(
            o,
            "<!-- generated by `cargo run -p conformance --bin mpm-lab -- rules --out book/src/reference/rules.md`; do not edit -->\n"
        );
        let _ = writeln!(
            o,
            "Each numbered rule of the specification (`conformance/reference/rules.md`, §11 of the Apache MPM\n\
             rules) against the tests named `rule_NN_…` that check it, per MPM. A cell is a test (file and\n\
             function; *ignored* = `#[ignore]`, run it by name), a declared deviation from Apache\n\
             (`conformance/DEVIATIONS.md`), `n/a` when the rule does not concern that MPM, or **missing**.\n\
             Run one rule's tests with `cargo test -p conformance rule_NN` (or `cargo test --workspace rule_NN`).\n"
        );
        let gaps = self.gaps();
        let covered = self.rules.len() - self.uncovered().len();
        let _ = writeln!(
            o,
            "{} rules; {covered} with a test or a deviation; {} (rule, MPM) pairs missing.\n",
            self.rules.len(),
            gaps.len()
        );
        let _ = writeln!(o, "| # | rule | prefork | worker | event |");
        let _ = writeln!(o, "|---|---|---|---|---|");
        for r in &self.rules {
            let text = escape(&r.text);
            let _ = write!(o, "| {} | {} |", r.num, text);
            for m in Mpm::ALL {
                let cell = if !r.mpms.contains(&m) {
                    "n/a".to_string()
                } else {
                    let mut parts: Vec<String> = self
                        .tests_for(r.num, m)
                        .iter()
                        .map(|t| {
                            let file = t.file.rsplit('/').next().unwrap_or(&t.file);
                            format!(
                                "`{file}`: `{}`{}",
                                t.name,
                                if t.ignored { " *ignored*" } else { "" }
                            )
                        })
                        .collect();
                    parts.extend(
                        self.deviations_for(r.num, m)
                            .iter()
                            .map(|d| format!("deviation: {}", escape(&d.reason))),
                    );
                    if parts.is_empty() {
                        "**missing**".to_string()
                    } else {
                        parts.join("<br>")
                    }
                };
                let _ = write!(o, " {cell} |");
            }
            o.push('\n');
        }
        o
    }
}

fn escape(s: &str) -> String {
    s.replace('|', "\\|")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn applicability_and_scanning() {
        let md = "## 11. Checkable rules\n\n1. prefork, defaults: after start exactly 5 children (`x`) [ext].\n2. worker/event, defaults: 3 children (`y`) [ext].\n9. resets (all MPMs, `perform_idle_server_maintenance`) [int].\n";
        let rules = parse_rules(md);
        assert_eq!(rules.len(), 3);
        assert_eq!(rules[0].mpms, vec![Mpm::Prefork]);
        assert_eq!(rules[1].mpms, vec![Mpm::Worker, Mpm::Event]);
        assert_eq!(rules[2].mpms, Mpm::ALL.to_vec());
        // "worker" as a word for a thread does not make an event-only rule a worker rule.
        let event_only = parse_rules(
            "30. an event child stops accepting when it has no idle worker (`x`) [ext].\n",
        );
        assert_eq!(event_only[0].mpms, vec![Mpm::Event]);
        let src = "#[test]\n#[ignore]\nfn rule_02_three_children() {}\nfn rule_09_x(mpm: Mpm) {}\nfor_each_mpm!(rule_09_x);\n// fn rule_01_comment() {}\n";
        let t = scan_source("conformance/tests/conformance/worker_start.rs", src, &rules);
        assert_eq!(t.len(), 2);
        assert_eq!(
            (t[0].rule, t[0].ignored, t[0].mpms.clone()),
            (2, true, vec![Mpm::Worker])
        );
        assert_eq!(t[1].mpms, Mpm::ALL.to_vec());
        let d = parse_deviations(
            "rule 34 | event | write completion is not asynchronous\nnot a line\n",
        );
        assert_eq!(
            d,
            vec![Deviation {
                rule: 34,
                mpm: Some(Mpm::Event),
                reason: "write completion is not asynchronous".into()
            }]
        );
    }
}
