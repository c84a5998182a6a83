//! What the grader prints and writes: the score table (English, or Spanish under
//! `LANG`/`LC_ALL`/`LC_MESSAGES=es*`), Gradescope's `results.json`, and GitHub Classroom's
//! `autograding.json`.
//!
//! Gradescope's format (gradescope-autograders.readthedocs.io, "Autograder Specifications"):
//! a top-level object with `score`, `execution_time` (seconds), `output`, `visibility`,
//! `stdout_visibility` and `tests`, each test with `score`, `max_score`, `status`
//! (`passed`/`failed`), `name`, `output` and `visibility` (`hidden`, `after_due_date`,
//! `after_published`, `visible`). GitHub Classroom's `.github/classroom/autograding.json` is
//! `{"tests": [{name, setup, run, input, output, comparison, timeout (minutes), points}]}`.

use std::fmt::Write as _;
use std::time::Duration;

use super::assignments::{Assignment, Runner};
use super::grade::{Outcome, Result1};

pub use crate::i18n::Lang;

/// The grader's messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Msg {
    /// Table header: the rule column.
    Rule,
    /// Table header: the points column.
    Points,
    /// A passed test.
    Pass,
    /// A failed test.
    Fail,
    /// A test killed at its deadline.
    Timeout,
    /// A test not run.
    NotRun,
    /// The total line.
    Total,
    /// Heading of the failure details.
    Failures,
    /// The workspace's tests or harness were changed.
    Tampered,
    /// A hidden test's marker.
    Hidden,
    /// "grading" heading.
    Grading,
    /// A test killed at its deadline: "timed out after N s".
    TimedOutAfter,
    /// The test binary has no test of that name.
    NoTestNamed,
    /// The test process ended without a verdict (a loom abort, a signal).
    ProcessDied,
    /// The workspace did not build.
    BuildFailed,
    /// The assignment's time budget ran out before this test.
    BudgetSpent,
    /// "lab" in `grade --lab`.
    Lab,
    /// "config task" in `grade --lab NN --config FILE`.
    ConfigTask,
    /// `grade --config`: some goal is not met.
    GoalsNotMet,
}

/// The message table (no gettext: one match per language).
pub fn t(lang: Lang, m: Msg) -> &'static str {
    use Msg::*;
    match (lang, m) {
        (Lang::En, Rule) => "rule",
        (Lang::En, Points) => "points",
        (Lang::En, Pass) => "pass",
        (Lang::En, Fail) => "FAIL",
        (Lang::En, Timeout) => "TIMEOUT",
        (Lang::En, NotRun) => "not run",
        (Lang::En, Total) => "total",
        (Lang::En, Failures) => {
            "Why it failed (first lines; proptest prints the smallest failing input)"
        }
        (Lang::En, Tampered) => {
            "refused: the workspace's tests, harness or build files differ from the kit's"
        }
        (Lang::En, Hidden) => "hidden",
        (Lang::En, Grading) => "grading",
        (Lang::En, TimedOutAfter) => "timed out after",
        (Lang::En, NoTestNamed) => "no test of this name in this build",
        (Lang::En, ProcessDied) => "the test process died without a verdict",
        (Lang::En, BuildFailed) => "build failed",
        (Lang::En, BudgetSpent) => "the assignment's time budget was spent",
        (Lang::En, Lab) => "lab",
        (Lang::En, ConfigTask) => "config task",
        (Lang::En, GoalsNotMet) => "the config does not meet every goal yet",
        (Lang::Es, Rule) => "regla",
        (Lang::Es, Points) => "puntos",
        (Lang::Es, Pass) => "bien",
        (Lang::Es, Fail) => "FALLA",
        (Lang::Es, Timeout) => "TIEMPO AGOTADO",
        (Lang::Es, NotRun) => "no se ejecutó",
        (Lang::Es, Total) => "total",
        (Lang::Es, Failures) => {
            "Por qué falló (primeras líneas; proptest muestra la entrada mínima que falla)"
        }
        (Lang::Es, Tampered) => {
            "rechazado: las pruebas, el arnés o los ficheros de compilación del espacio de trabajo no son los del kit"
        }
        (Lang::Es, Hidden) => "oculta",
        (Lang::Es, Grading) => "corrigiendo",
        (Lang::Es, TimedOutAfter) => "tiempo agotado tras",
        (Lang::Es, NoTestNamed) => "no hay ninguna prueba con este nombre en esta compilación",
        (Lang::Es, ProcessDied) => "el proceso de la prueba terminó sin veredicto",
        (Lang::Es, BuildFailed) => "la compilación falló",
        (Lang::Es, BudgetSpent) => "se agotó el tiempo total de la tarea",
        (Lang::Es, Lab) => "práctica",
        (Lang::Es, ConfigTask) => "tarea de configuración",
        (Lang::Es, GoalsNotMet) => "la configuración aún no cumple todos los objetivos",
    }
}

fn outcome_word(lang: Lang, o: &Outcome) -> &'static str {
    match o {
        Outcome::Passed => t(lang, Msg::Pass),
        Outcome::Failed => t(lang, Msg::Fail),
        Outcome::TimedOut => t(lang, Msg::Timeout),
        Outcome::NotRun => t(lang, Msg::NotRun),
    }
}

/// The score table and the failure details.
pub fn table(lang: Lang, title: &str, rows: &[Result1]) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{}: {title}\n", t(lang, Msg::Grading));
    let w = rows
        .iter()
        .map(|r| r.rule.chars().count())
        .max()
        .unwrap_or(4)
        .max(4);
    let _ = writeln!(
        out,
        "{:<w$}  {:>9}  {:<8}  {:>6}",
        t(lang, Msg::Rule),
        t(lang, Msg::Points),
        "",
        "s"
    );
    for r in rows {
        let hidden = if r.hidden {
            format!(" ({})", t(lang, Msg::Hidden))
        } else {
            String::new()
        };
        let _ = writeln!(
            out,
            "{:<w$}  {:>4} / {:<3}  {:<8}  {:>6.1}{hidden}",
            r.rule,
            r.points(),
            r.max_points,
            outcome_word(lang, &r.outcome),
            r.elapsed.as_secs_f64()
        );
    }
    let (got, max) = totals(rows);
    let _ = writeln!(
        out,
        "{:<w$}  {got:>4} / {max:<3}  ({:.0} %)",
        t(lang, Msg::Total),
        percent(got, max)
    );
    let failed: Vec<&Result1> = rows
        .iter()
        .filter(|r| r.outcome != Outcome::Passed)
        .collect();
    if !failed.is_empty() {
        let _ = writeln!(out, "\n{}:", t(lang, Msg::Failures));
        for r in failed {
            let _ = writeln!(out, "\n* {}  [{}]", r.rule, r.name);
            for l in r.output.lines().take(14) {
                let _ = writeln!(out, "    {l}");
            }
        }
    }
    out
}

/// Points earned and possible.
pub fn totals(rows: &[Result1]) -> (u32, u32) {
    (
        rows.iter().map(Result1::points).sum(),
        rows.iter().map(|r| r.max_points).sum(),
    )
}

fn percent(got: u32, max: u32) -> f64 {
    if max == 0 {
        0.0
    } else {
        100.0 * f64::from(got) / f64::from(max)
    }
}

/// A JSON string literal.
pub fn json_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Gradescope's `results.json`. `refused` (tampering, a failed build) goes to the top-level
/// `output` and scores 0.
pub fn gradescope_json(rows: &[Result1], elapsed: Duration, refused: Option<&str>) -> String {
    let (got, max) = totals(rows);
    let score = if refused.is_some() { 0 } else { got };
    let mut out = String::new();
    let _ = writeln!(out, "{{");
    let _ = writeln!(out, "  \"score\": {score}.0,");
    let _ = writeln!(out, "  \"max_score\": {max}.0,");
    let _ = writeln!(out, "  \"execution_time\": {},", elapsed.as_secs().max(1));
    let summary = refused.map_or_else(
        || format!("{got} / {max} points"),
        |r| format!("0 / {max} points: {r}"),
    );
    let _ = writeln!(out, "  \"output\": {},", json_str(&summary));
    let _ = writeln!(out, "  \"visibility\": \"visible\",");
    let _ = writeln!(out, "  \"stdout_visibility\": \"hidden\",");
    let _ = writeln!(out, "  \"tests\": [");
    for (i, r) in rows.iter().enumerate() {
        let points = if refused.is_some() { 0 } else { r.points() };
        let status = if points > 0 || (r.outcome == Outcome::Passed && refused.is_none()) {
            "passed"
        } else {
            "failed"
        };
        let visibility = if r.hidden {
            "after_published"
        } else {
            "visible"
        };
        let _ = writeln!(out, "    {{");
        let _ = writeln!(
            out,
            "      \"name\": {},",
            json_str(&format!("{} [{}]", r.rule, r.name))
        );
        let _ = writeln!(out, "      \"score\": {points}.0,");
        let _ = writeln!(out, "      \"max_score\": {}.0,", r.max_points);
        let _ = writeln!(out, "      \"status\": \"{status}\",");
        let _ = writeln!(out, "      \"output\": {},", json_str(&r.output));
        let _ = writeln!(out, "      \"visibility\": \"{visibility}\"");
        let comma = if i + 1 < rows.len() { "," } else { "" };
        let _ = writeln!(out, "    }}{comma}");
    }
    let _ = writeln!(out, "  ]");
    let _ = writeln!(out, "}}");
    out
}

/// GitHub Classroom's `autograding.json` for assignment `a`: one entry per check, each a
/// `cargo test --exact` run (Classroom gives the points when the command exits 0).
pub fn autograding_json(a: &Assignment) -> String {
    let mut out = String::from("{\n  \"tests\": [\n");
    for (i, c) in a.checks.iter().enumerate() {
        let run = match c.runner {
            Runner::Conformance => format!(
                "cargo test -q -p conformance --test conformance -- --exact {}",
                c.test
            ),
        };
        let comma = if i + 1 < a.checks.len() { "," } else { "" };
        let _ = write!(
            out,
            "    {{\n      \"name\": {},\n      \"setup\": \"\",\n      \"run\": {},\n      \"input\": \"\",\n      \"output\": \"\",\n      \"comparison\": \"included\",\n      \"timeout\": {},\n      \"points\": {}\n    }}{comma}\n",
            json_str(c.rule),
            json_str(&run),
            if c.real_server { 10 } else { 5 },
            c.points
        );
    }
    out.push_str("  ]\n}\n");
    out
}

/// The grading table of a handout (between its `grading-table` markers; the kit's self-test
/// keeps it equal to the assignment table).
pub fn handout_table(a: &Assignment) -> String {
    let mut out = String::from("| rule | test | points |\n|---|---|---|\n");
    for c in a.checks {
        let _ = writeln!(
            out,
            "| {} | `{}` | {} |",
            c.rule.replace('|', "\\|"),
            c.test,
            c.points
        );
    }
    let _ = writeln!(out, "| **total** | | **{}** |", a.max_points());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spanish_from_any_locale_variable_in_posix_order() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |k: &str| {
                pairs
                    .iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| v.to_string())
            }
        };
        assert_eq!(Lang::from_vars(env(&[("LANG", "es_ES.UTF-8")])), Lang::Es);
        assert_eq!(Lang::from_vars(env(&[("LC_MESSAGES", "es_MX")])), Lang::Es);
        assert_eq!(
            Lang::from_vars(env(&[("LC_ALL", "C"), ("LANG", "es_ES.UTF-8")])),
            Lang::En
        );
        assert_eq!(Lang::from_vars(env(&[])), Lang::En);
    }

    /// Every word of the score table a student reads is Spanish under `Lang::Es`.
    #[test]
    fn the_score_table_in_spanish() {
        let row = |outcome, output: &str| Result1 {
            name: "m::t".into(),
            rule: "Regla 6: una parada por pasada".into(),
            max_points: 10,
            outcome,
            output: output.into(),
            elapsed: Duration::from_millis(100),
            hidden: true,
        };
        let rows = [
            row(Outcome::Passed, ""),
            row(Outcome::Failed, "thread panicked"),
            row(Outcome::TimedOut, ""),
            row(Outcome::NotRun, ""),
        ];
        let es = table(Lang::Es, "prefork-maintenance", &rows);
        for w in [
            "corrigiendo: prefork-maintenance",
            "regla",
            "puntos",
            "bien",
            "FALLA",
            "TIEMPO AGOTADO",
            "no se ejecutó",
            "(oculta)",
            "total",
            "10 / 40",
            "Por qué falló",
        ] {
            assert!(es.contains(w), "{w} in\n{es}");
        }
        let en = table(Lang::En, "prefork-maintenance", &rows);
        for w in [
            "rule",
            "pass",
            "FAIL",
            "TIMEOUT",
            "not run",
            "(hidden)",
            "Why it failed",
        ] {
            assert!(en.contains(w), "{w} in\n{en}");
        }
        for w in ["regla", "bien", "FALLA", "oculta", "Por qué"] {
            assert!(!en.contains(w), "{w} in\n{en}");
        }
    }

    #[test]
    fn json_strings_are_escaped() {
        assert_eq!(json_str("a\"b\\c\nd\u{1}"), "\"a\\\"b\\\\c\\nd\\u0001\"");
    }
}
