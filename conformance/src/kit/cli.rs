//! The `mpm-lab assignment` and `mpm-lab grade` commands (argument parsing is in the binary).

use std::fmt::Write as _;
use std::path::Path;

use super::report::{self, Lang, Msg};
use super::{GradeOptions, assignments, labs, skeleton};

/// `mpm-lab assignment new NAME --out DIR`.
pub fn assignment_new(name: &str, out: &Path, git: bool) -> Result<(), String> {
    let a = assignments::find(name)
        .ok_or_else(|| format!("no assignment {name}: one of {}", assignments::names()))?;
    let files = skeleton::write_workspace(&super::kit_root(), a, out, git)?;
    println!(
        "{}: {} files written to {}\n  handout: book/assignments/{}/README.md\n  grade:   cargo run -p conformance --bin mpm-lab -- grade",
        a.name,
        files.len(),
        out.display(),
        a.handout
    );
    Ok(())
}

/// `mpm-lab assignment list`.
pub fn assignment_list() -> String {
    let mut s = String::new();
    for a in assignments::ASSIGNMENTS {
        let _ = writeln!(
            s,
            "{:<20} {:>3} points  {} checks  {}",
            a.name,
            a.max_points(),
            a.checks.len(),
            a.title
        );
    }
    s
}

/// `mpm-lab grade`: the table on stdout, `results.json` if asked.
pub fn grade(opts: &GradeOptions, json: Option<&Path>) -> Result<(), String> {
    let lang = Lang::from_env();
    let g = super::grade_workspace(opts)?;
    let title = format!("{} ({})", g.assignment.name, opts.workspace.display());
    if let Some(why) = &g.refused {
        println!(
            "{}: {title}\n{}:\n  {why}",
            report::t(lang, Msg::Grading),
            report::t(lang, Msg::Tampered)
        );
    } else {
        print!("{}", report::table(lang, &title, &g.rows));
        println!("({:.0} s)", g.elapsed.as_secs_f64());
    }
    if let Some(path) = json {
        let text = report::gradescope_json(&g.rows, g.elapsed, g.refused.as_deref());
        std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    match g.refused {
        Some(_) => Err(report::t(lang, Msg::Tampered).into()),
        None => Ok(()),
    }
}

/// `mpm-lab grade --lab NN --config FILE`: the lab's config task (a step that asks for
/// directives reaching a goal), checked on the student's httpd.conf. Fails (an error, exit
/// status 1) unless every goal is met, so a script can use it.
pub fn grade_config(lab: &str, file: &Path) -> Result<(), String> {
    let lang = Lang::from_env();
    let goals = labs::tasks::check(lab, file)?;
    let lab = labs::number(lab);
    println!(
        "{}: {} {lab}, {} ({})",
        report::t(lang, Msg::Grading),
        report::t(lang, Msg::Lab),
        report::t(lang, Msg::ConfigTask),
        file.display()
    );
    for g in &goals {
        let mark = if g.ok {
            report::t(lang, Msg::Pass)
        } else {
            report::t(lang, Msg::Fail)
        };
        println!("  {mark:<5} {}", g.text(lang));
    }
    let met = goals.iter().filter(|g| g.ok).count();
    println!("{}: {met} / {}", report::t(lang, Msg::Total), goals.len());
    if met == goals.len() {
        Ok(())
    } else {
        Err(report::t(lang, Msg::GoalsNotMet).into())
    }
}

/// `mpm-lab grade --lab NN (--answers FILE | --template | --print-key)`.
pub fn grade_lab(
    lab: &str,
    answers: Option<&Path>,
    template: bool,
    print_key: bool,
) -> Result<(), String> {
    let lang = Lang::from_env();
    let key = labs::key(&super::kit_root(), lab)?;
    if template {
        print!("{}", labs::template(lab, &key));
        return Ok(());
    }
    if print_key {
        print!("{}", labs::filled(lab, &key));
        return Ok(());
    }
    let path = answers.ok_or("--answers FILE (or --template to get one)")?;
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let checked = labs::check(&key, &text);
    let right = checked.iter().filter(|c| c.3).count();
    let lab = labs::number(lab);
    println!(
        "{}: {} {lab} ({})",
        report::t(lang, Msg::Grading),
        report::t(lang, Msg::Lab),
        path.display()
    );
    let w = checked.iter().map(|c| c.0.len()).max().unwrap_or(4);
    // The right value is not printed: the student tries again (the key is for teachers).
    for (k, _, given, ok) in &checked {
        let mark = if *ok {
            report::t(lang, Msg::Pass)
        } else {
            report::t(lang, Msg::Fail)
        };
        println!("  {k:<w$}  {:>6}  {mark}", given.as_deref().unwrap_or("-"));
    }
    println!(
        "{}: {right} / {}",
        report::t(lang, Msg::Total),
        checked.len()
    );
    Ok(())
}
