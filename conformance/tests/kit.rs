//! The course kit's self-test (teachers only: `assignment new` leaves this file out of student
//! workspaces, because it holds the known-wrong solutions).
//!
//! Fast checks (seconds, run in CI): markers, graded test names, handout tables, the known-wrong
//! patches still apply, workspaces are complete and untampered, the JSON formats.
//! The end-to-end check (`--ignored`, minutes; CI runs it as its own step in `.ci/run`): every
//! workspace generated and graded — skeleton 0, reference 100 %, each known-wrong solution
//! loses exactly the points of the tests it breaks, each run's `results.json` valid.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use conformance::kit::assignments::{ASSIGNMENTS, Assignment, Runner};
use conformance::kit::grade::{Outcome, Result1};
use conformance::kit::{self, report, skeleton};

/// A known-wrong solution: one textual replacement in the reference source.
struct Mutant {
    name: &'static str,
    assignment: &'static str,
    file: &'static str,
    from: &'static str,
    to: &'static str,
    /// The graded tests it must fail (all others must pass).
    fails: &'static [&'static str],
}

const MUTANTS: &[Mutant] = &[
    Mutant {
        name: "no doubling",
        assignment: "prefork-maintenance",
        file: "mpm-prefork/src/maintenance.rs",
        from: "next.idle_spawn_rate = (rate * 2).min(MAX_SPAWN_RATE);",
        to: "next.idle_spawn_rate = rate;",
        fails: &[
            "prefork_props::rule_03_spawn_sequence_doubles_to_32_and_resets",
            "prefork_server::rule_04_min_spare_60_from_one_child_doubles_to_64",
        ],
    },
    Mutant {
        name: "counts Starting as busy",
        assignment: "prefork-maintenance",
        file: "mpm-prefork/src/maintenance.rs",
        from: "matches!(status, WorkerStatus::Starting | WorkerStatus::Ready)",
        to: "matches!(status, WorkerStatus::Ready)",
        fails: &["prefork_props::rule_03_starting_children_count_as_idle"],
    },
    Mutant {
        name: "stops a child at MaxSpareServers (>= for >)",
        assignment: "prefork-maintenance",
        file: "mpm-prefork/src/maintenance.rs",
        from: "let decision = if counts.idle > cfg.max_spare_servers {",
        to: "let decision = if counts.idle >= cfg.max_spare_servers {",
        // The property sees the wrong threshold; the real server settles one child short.
        fails: &[
            "prefork_props::rule_06_at_most_one_child_stopped_per_pass",
            "prefork_server::rule_06_surplus_is_stopped_one_child_per_second",
        ],
    },
    Mutant {
        name: "kills two per pass",
        assignment: "prefork-maintenance",
        file: "mpm-prefork/src/parent/prefork_run.rs",
        from: "this_gen.pod.signal(addr);",
        to: "this_gen.pod.signal(addr);\n                    this_gen.pod.signal(addr);",
        // `decide` still says StopOne; the real server halves the surplus time (9 → 3
        // children in 3 s, not 6).
        fails: &["prefork_server::rule_06_surplus_is_stopped_one_child_per_second"],
    },
    Mutant {
        name: "MinSpareThreads not divided by the buckets",
        assignment: "worker-maintenance",
        file: "mpm-worker/src/maintenance.rs",
        from: "} else if idle < cfg.min_spare_threads / nb {",
        to: "} else if idle < cfg.min_spare_threads {",
        fails: &["worker_maintenance::rule_11_thresholds_and_spawn_rate_are_per_bucket"],
    },
    Mutant {
        name: "lost wake-up",
        assignment: "queue-info",
        file: "httpd-core/src/fdqueue.rs",
        from: "        self.wait_for_idler.notify_one();\n",
        to: "",
        // Every model in which the listener has to sleep deadlocks, and so does the unit test
        // that makes it sleep; `term` and the reservation of an idle worker still work.
        fails: &[
            "loom_fdqueue::listener_never_accepts_without_an_idle_worker",
            "loom_fdqueue::no_wakeup_is_lost",
            "loom_fdqueue::every_pushed_socket_is_popped_exactly_once",
            "fdqueue_std::fdqueue_tests::wait_for_idler_blocks_until_set_idle",
        ],
    },
    Mutant {
        name: "off-by-one in the accept limit",
        assignment: "event-accept-limit",
        file: "mpm-event/src/accept_limit.rs",
        from: "if active < limit {",
        to: "if active <= limit {",
        fails: &[
            "event_props::rule_30_accept_limit_formula",
            "event_server::rule_30_accept_limit_cuts_in_where_the_formula_says",
        ],
    },
    Mutant {
        name: "old children not marked G",
        assignment: "graceful-restart",
        file: "mpm-prefork/src/parent/prefork_run.rs",
        from: ".set_status(WorkerStatus::Graceful);",
        to: ".status();",
        fails: &[
            "prefork_server::rule_42_graceful_restart_marks_old_children_g_and_drops_no_connection",
        ],
    },
];

fn kit_root() -> PathBuf {
    kit::kit_root()
}

fn read(path: &str) -> String {
    std::fs::read_to_string(kit_root().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[test]
fn every_assignment_has_balanced_regions_that_become_todo() {
    for a in ASSIGNMENTS {
        for f in a.files {
            let src = read(f);
            let regions = skeleton::regions(&src, a.name).unwrap_or_else(|e| panic!("{f}: {e}"));
            assert!(!regions.is_empty(), "{f}: no ASSIGNMENT({}) region", a.name);
            let blank = skeleton::blank(&src, a.name, a.handout).unwrap();
            assert_eq!(blank.matches("todo!(").count(), regions.len(), "{f}");
            // A region is a whole body: the line after `end` closes a brace.
            let lines: Vec<&str> = src.lines().collect();
            for r in regions {
                assert_eq!(
                    lines[r.end + 1].trim(),
                    "}",
                    "{f}:{}: a region must end a body",
                    r.end + 1
                );
            }
        }
    }
}

/// A check's test must exist: its function in the suite's sources (or httpd-core's queue
/// tests), so a renamed test cannot silently turn into "no test named …".
#[test]
fn every_graded_test_exists() {
    let mut suite = String::new();
    for e in std::fs::read_dir(kit_root().join("conformance/tests/conformance")).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "rs") {
            suite.push_str(&std::fs::read_to_string(p).unwrap());
        }
    }
    // httpd-core's queue tests are compiled into the suite too (`fdqueue_std.rs`).
    suite.push_str(&read("httpd-core/src/fdqueue_tests.rs"));
    for a in ASSIGNMENTS {
        for c in a.checks {
            let parts: Vec<&str> = c.test.split("::").collect();
            // `module::test` or `module::test::mpm` (one test per MPM, generated by a macro).
            let name = if matches!(parts.last(), Some(&("prefork" | "worker" | "event"))) {
                parts[parts.len() - 2]
            } else {
                parts[parts.len() - 1]
            };
            assert_eq!(c.runner, Runner::Conformance);
            assert!(
                suite.contains(&format!("fn {name}")),
                "{}: no test {name}",
                a.name
            );
            assert!(c.points > 0);
            assert!(
                !c.rule_es.is_empty() && c.rule_es != c.rule,
                "{}: no Spanish wording",
                c.test
            );
        }
        assert_eq!(a.max_points(), 100, "{}: points should total 100", a.name);
    }
}

/// The handouts' grading tables are generated from the assignment table
/// (`KIT_BLESS=1 cargo test -p conformance --test kit handout` rewrites them).
#[test]
fn handout_tables_are_current() {
    let bless = std::env::var_os("KIT_BLESS").is_some();
    for a in ASSIGNMENTS {
        let path = format!("book/assignments/{}/README.md", a.handout);
        let text = read(&path);
        let begin = format!("<!-- grading-table: begin {} -->\n", a.name);
        let end = "<!-- grading-table: end -->";
        let (Some(b), Some(e)) = (text.find(&begin), text.find(end)) else {
            panic!("{path}: no grading-table markers for {}", a.name);
        };
        let want = report::handout_table(a);
        let have = &text[b + begin.len()..e];
        if have != want {
            if bless {
                let new = format!("{}{want}{}", &text[..b + begin.len()], &text[e..]);
                std::fs::write(kit_root().join(&path), new).unwrap();
            } else {
                panic!("{path}: grading table out of date; run with KIT_BLESS=1. Want:\n{want}");
            }
        }
        // Every signature the handout shows is in the source.
        let sources: String = a.files.iter().map(|f| read(f)).collect();
        for line in text.lines().filter(|l| l.trim_start().starts_with("pub")) {
            let sig = line.trim();
            assert!(
                sources.contains(sig),
                "{path}: signature not in the source: {sig}"
            );
        }
    }
}

#[test]
fn known_wrong_solutions_still_apply_inside_their_regions() {
    for m in MUTANTS {
        let a = kit::assignments::find(m.assignment).unwrap();
        assert!(
            a.files.contains(&m.file),
            "{}: {} is not a file of {}",
            m.name,
            m.file,
            a.name
        );
        let src = read(m.file);
        assert_eq!(
            src.matches(m.from).count(),
            1,
            "{}: `{}` must occur once",
            m.name,
            m.from
        );
        let at = src.find(m.from).unwrap();
        let line = src[..at].lines().count();
        let inside = skeleton::regions(&src, a.name)
            .unwrap()
            .iter()
            .any(|r| r.begin < line && line <= r.end);
        assert!(
            inside,
            "{}: the patch is outside the student's regions",
            m.name
        );
        for f in m.fails {
            assert!(
                a.checks.iter().any(|c| c.test == *f),
                "{}: {f} is not graded",
                m.name
            );
        }
    }
}

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("mpm-lab-kit-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

#[test]
fn a_workspace_is_complete_untampered_and_free_of_teacher_files() {
    let a = kit::assignments::find("prefork-maintenance").unwrap();
    let ws = scratch("ws");
    let files = skeleton::write_workspace(&kit_root(), a, &ws, false).unwrap();
    assert!(files.iter().any(|f| f == "Cargo.toml"));
    assert!(!ws.join("conformance/tests/kit.rs").exists());
    assert!(!ws.join("book/answers").exists());
    assert!(!ws.join("book/assignments/hidden-example").exists());
    let text = std::fs::read_to_string(ws.join("mpm-prefork/src/maintenance.rs")).unwrap();
    assert!(text.contains("todo!(\"prefork-maintenance"));
    assert!(
        !text.contains("(rate * 2).min(MAX_SPAWN_RATE)"),
        "the solution leaked"
    );
    let kit_manifest = skeleton::manifest(
        &kit_root(),
        &skeleton::kit_files(&kit_root())
            .unwrap()
            .into_iter()
            .filter(|f| !skeleton::is_teacher_only(f))
            .collect::<Vec<_>>(),
    )
    .unwrap();
    assert_eq!(
        skeleton::tampered(&kit_root(), &ws, &kit_manifest),
        Vec::<String>::new()
    );
    // Editing a test, or adding one, is caught.
    let t = ws.join("conformance/tests/conformance/prefork_props.rs");
    let mut src = std::fs::read_to_string(&t).unwrap();
    src = src.replace("prop_assert_eq!(slots.len(), want);", "");
    std::fs::write(&t, src).unwrap();
    std::fs::write(ws.join("conformance/tests/mine.rs"), "").unwrap();
    let bad = skeleton::tampered(&kit_root(), &ws, &kit_manifest);
    assert_eq!(
        bad,
        [
            "conformance/tests/conformance/prefork_props.rs (changed)",
            "conformance/tests/mine.rs (added)"
        ]
    );
    let _ = std::fs::remove_dir_all(&ws);
}

// ---- JSON formats --------------------------------------------------------------------------

/// A minimal JSON value and parser: enough to validate our two formats without a dependency.
#[derive(Debug, Clone, PartialEq)]
enum J {
    Null,
    Bool(bool),
    Num(f64),
    Str(String),
    Arr(Vec<J>),
    Obj(Vec<(String, J)>),
}

impl J {
    fn get(&self, k: &str) -> Option<&J> {
        match self {
            J::Obj(m) => m.iter().find(|(n, _)| n == k).map(|(_, v)| v),
            _ => None,
        }
    }
    fn keys(&self) -> Vec<&str> {
        match self {
            J::Obj(m) => m.iter().map(|(k, _)| k.as_str()).collect(),
            _ => vec![],
        }
    }
}

fn parse_json(s: &str) -> J {
    fn ws(b: &[u8], i: &mut usize) {
        while *i < b.len() && b[*i].is_ascii_whitespace() {
            *i += 1;
        }
    }
    fn string(b: &[u8], i: &mut usize) -> String {
        assert_eq!(b[*i], b'"');
        *i += 1;
        let mut out = Vec::new();
        loop {
            match b[*i] {
                b'"' => {
                    *i += 1;
                    return String::from_utf8(out).unwrap();
                }
                b'\\' => {
                    let c = b[*i + 1];
                    *i += 2;
                    match c {
                        b'n' => out.push(b'\n'),
                        b't' => out.push(b'\t'),
                        b'r' => out.push(b'\r'),
                        b'u' => {
                            let h = std::str::from_utf8(&b[*i..*i + 4]).unwrap();
                            let ch = char::from_u32(u32::from_str_radix(h, 16).unwrap()).unwrap();
                            out.extend(ch.to_string().bytes());
                            *i += 4;
                        }
                        c => out.push(c),
                    }
                }
                c => {
                    assert!(c >= 0x20, "raw control character in a JSON string");
                    out.push(c);
                    *i += 1;
                }
            }
        }
    }
    fn value(b: &[u8], i: &mut usize) -> J {
        ws(b, i);
        let v = match b[*i] {
            b'{' => {
                *i += 1;
                let mut m = Vec::new();
                ws(b, i);
                if b[*i] == b'}' {
                    *i += 1;
                    return J::Obj(m);
                }
                loop {
                    ws(b, i);
                    let k = string(b, i);
                    ws(b, i);
                    assert_eq!(b[*i], b':');
                    *i += 1;
                    m.push((k, value(b, i)));
                    ws(b, i);
                    *i += 1;
                    if b[*i - 1] == b'}' {
                        break J::Obj(m);
                    }
                    assert_eq!(b[*i - 1], b',');
                }
            }
            b'[' => {
                *i += 1;
                let mut a = Vec::new();
                ws(b, i);
                if b[*i] == b']' {
                    *i += 1;
                    return J::Arr(a);
                }
                loop {
                    a.push(value(b, i));
                    ws(b, i);
                    *i += 1;
                    if b[*i - 1] == b']' {
                        break J::Arr(a);
                    }
                    assert_eq!(b[*i - 1], b',');
                }
            }
            b'"' => J::Str(string(b, i)),
            b't' => {
                *i += 4;
                J::Bool(true)
            }
            b'f' => {
                *i += 5;
                J::Bool(false)
            }
            b'n' => {
                *i += 4;
                J::Null
            }
            _ => {
                let start = *i;
                while *i < b.len() && b"-+.eE0123456789".contains(&b[*i]) {
                    *i += 1;
                }
                J::Num(std::str::from_utf8(&b[start..*i]).unwrap().parse().unwrap())
            }
        };
        ws(b, i);
        v
    }
    let b = s.as_bytes();
    let mut i = 0;
    let v = value(b, &mut i);
    assert_eq!(i, b.len(), "trailing text after the JSON value");
    v
}

fn row(name: &str, points: u32, outcome: Outcome, hidden: bool) -> Result1 {
    Result1 {
        name: name.into(),
        rule: format!("Rule \"{name}\""),
        max_points: points,
        outcome,
        output: "line 1\n\tminimal failing input: x = 1".into(),
        elapsed: Duration::from_millis(1500),
        hidden,
    }
}

/// Gradescope's documented `results.json` (Autograder Specifications): numeric `score` and
/// `execution_time`, `tests[]` with numeric `score`/`max_score`, `status` passed|failed,
/// string `name`/`output`, `visibility` one of hidden|after_due_date|after_published|visible.
/// Check `text` against Gradescope's `results.json` specification; returns the parsed value
/// and its score (the sum of the tests' scores).
fn assert_gradescope_schema(text: &str) -> (J, f64) {
    let j = parse_json(text);
    let allowed_top = [
        "score",
        "max_score",
        "execution_time",
        "output",
        "visibility",
        "stdout_visibility",
        "extra_data",
        "tests",
        "leaderboard",
    ];
    for k in j.keys() {
        assert!(allowed_top.contains(&k), "unknown top-level key {k}");
    }
    let Some(J::Num(score)) = j.get("score") else {
        panic!("score")
    };
    assert!(matches!(j.get("execution_time"), Some(J::Num(t)) if *t >= 0.0));
    let vis = ["hidden", "after_due_date", "after_published", "visible"];
    for k in ["visibility", "stdout_visibility"] {
        let Some(J::Str(v)) = j.get(k) else {
            panic!("{k}")
        };
        assert!(vis.contains(&v.as_str()));
    }
    let Some(J::Arr(tests)) = j.get("tests") else {
        panic!("tests")
    };
    let mut sum = 0.0;
    for t in tests {
        for k in t.keys() {
            assert!(
                [
                    "score",
                    "max_score",
                    "status",
                    "name",
                    "name_format",
                    "number",
                    "output",
                    "output_format",
                    "tags",
                    "visibility",
                    "extra_data"
                ]
                .contains(&k),
                "unknown test key {k}"
            );
        }
        let (Some(J::Num(s)), Some(J::Num(m))) = (t.get("score"), t.get("max_score")) else {
            panic!("test score/max_score")
        };
        assert!(*s >= 0.0 && s <= m);
        sum += s;
        assert!(matches!(t.get("status"), Some(J::Str(s)) if s == "passed" || s == "failed"));
        assert!(matches!(t.get("name"), Some(J::Str(_))));
        assert!(matches!(t.get("output"), Some(J::Str(_))));
        let Some(J::Str(v)) = t.get("visibility") else {
            panic!("visibility")
        };
        assert!(vis.contains(&v.as_str()));
    }
    assert_eq!(*score, sum);
    let score = *score;
    (j, score)
}

#[test]
fn gradescope_results_json_follows_the_spec() {
    let rows = [
        row("a::one", 15, Outcome::Passed, false),
        row("a::two", 10, Outcome::Failed, false),
        row("h::three", 5, Outcome::TimedOut, true),
    ];
    for refused in [None, Some("conformance/tests/x.rs (changed)")] {
        let text = report::gradescope_json(&rows, Duration::from_secs(42), refused);
        let (j, score) = assert_gradescope_schema(&text);
        assert!(matches!(j.get("execution_time"), Some(J::Num(t)) if *t == 42.0));
        let Some(J::Arr(tests)) = j.get("tests") else {
            panic!("tests")
        };
        assert_eq!(tests.len(), 3);
        for t in tests {
            assert!(
                matches!(t.get("output"), Some(J::Str(o)) if o.contains("minimal failing input"))
            );
        }
        assert_eq!(score, if refused.is_some() { 0.0 } else { 15.0 });
        assert!(matches!(tests[2].get("visibility"), Some(J::Str(v)) if v == "after_published"));
    }
}

/// GitHub Classroom's `.github/classroom/autograding.json`: `tests[]` of name, setup, run,
/// input, output, comparison (included|exact|regex), timeout (minutes), points.
#[test]
fn classroom_autograding_json_follows_the_format() {
    for a in ASSIGNMENTS {
        let j = parse_json(&report::autograding_json(a));
        let Some(J::Arr(tests)) = j.get("tests") else {
            panic!("tests")
        };
        assert_eq!(tests.len(), a.checks.len());
        let mut points = 0.0;
        for (t, c) in tests.iter().zip(a.checks) {
            assert_eq!(
                t.keys(),
                [
                    "name",
                    "setup",
                    "run",
                    "input",
                    "output",
                    "comparison",
                    "timeout",
                    "points"
                ]
            );
            assert!(
                matches!(t.get("comparison"), Some(J::Str(s)) if ["included", "exact", "regex"].contains(&s.as_str()))
            );
            assert!(
                matches!(t.get("run"), Some(J::Str(s)) if s.contains(c.test) && s.contains("--exact"))
            );
            assert!(matches!(t.get("timeout"), Some(J::Num(m)) if *m >= 1.0 && *m <= 60.0));
            let Some(J::Num(p)) = t.get("points") else {
                panic!("points")
            };
            points += p;
        }
        assert_eq!(points, f64::from(a.max_points()));
    }
}

#[test]
fn lab_01_key_is_the_doubling_table() {
    let key = kit::labs::key(&kit_root(), "01").unwrap();
    let forked: Vec<i64> = key
        .iter()
        .filter(|a| a.key.starts_with("forked_"))
        .map(|a| a.expected)
        .collect();
    assert_eq!(forked, [1, 2, 4, 8, 16, 32]);
    let filled = kit::labs::filled("01", &key);
    assert!(kit::labs::check(&key, &filled).iter().all(|c| c.3));
    let template = kit::labs::template("01", &key);
    assert!(kit::labs::check(&key, &template).iter().all(|c| !c.3));
    // The committed answer key is the one the simulator gives.
    assert_eq!(read("book/answers/lab-01.txt"), filled);
}

/// Every lab's template (`book/labs/NN-name/answers.txt`) and key (`book/answers/lab-NN.txt`)
/// are what the code computes (`KIT_BLESS=1` rewrites them); the key scores full marks and
/// the empty template none.
#[test]
fn every_lab_has_a_current_template_and_key() {
    let bless = std::env::var_os("KIT_BLESS").is_some();
    for (lab, dir) in kit::labs::LABS {
        let key = kit::labs::key(&kit_root(), lab).unwrap();
        assert!(!key.is_empty(), "lab {lab}");
        let files = [
            (
                format!("book/labs/{dir}/answers.txt"),
                kit::labs::template(lab, &key),
            ),
            (
                format!("book/answers/lab-{lab}.txt"),
                kit::labs::filled(lab, &key),
            ),
        ];
        for (path, want) in files {
            let have = std::fs::read_to_string(kit_root().join(&path)).unwrap_or_default();
            if have != want {
                if bless {
                    std::fs::write(kit_root().join(&path), &want).unwrap();
                } else {
                    panic!("{path} is out of date; run with KIT_BLESS=1. Want:\n{want}");
                }
            }
        }
        let filled = kit::labs::filled(lab, &key);
        assert!(
            kit::labs::check(&key, &filled).iter().all(|c| c.3),
            "lab {lab}"
        );
        let template = kit::labs::template(lab, &key);
        assert!(
            kit::labs::check(&key, &template).iter().all(|c| !c.3),
            "lab {lab}"
        );
    }
}

#[test]
fn lab_02_03_key_values_follow_the_rules() {
    let v = |lab: &str| -> Vec<(String, i64)> {
        kit::labs::key(&kit_root(), lab)
            .unwrap()
            .into_iter()
            .map(|a| (a.key, a.expected))
            .collect()
    };
    let lab02 = v("02");
    let get = |k: &str, l: &[(String, i64)]| l.iter().find(|(n, _)| n == k).unwrap().1;
    // The 2.0 worker documentation's example: 41 busy, 9 idle, 2 → 6 → 3 processes.
    assert_eq!(get("idle_threads", &lab02), 9);
    assert_eq!(get("most_processes", &lab02), 6);
    assert_eq!(get("processes_at_the_end", &lab02), 3);
    assert_eq!(get("ah00286_times", &lab02), 1);
    // Rule 20: rounded down to a multiple of ThreadsPerChild.
    assert_eq!(get("workers_with_max_request_workers_160", &lab02), 150);
    let lab03 = v("03");
    // Rule 30: 25 + 24 × 2; 1.5 truncates to 1 (rule 29).
    assert_eq!(get("event_most_connections_24_idle", &lab03), 73);
    assert_eq!(
        get("event_most_connections_factor_1_5", &lab03),
        get("event_most_connections_factor_1", &lab03)
    );
}

/// `mpm-lab grade --lab` through the binary, in each language: right/wrong per key, the
/// total, and nothing of the key printed.
#[test]
fn grade_lab_reports_in_english_and_spanish() {
    let dir = scratch("lab-answers");
    std::fs::create_dir_all(&dir).unwrap();
    let key = kit::labs::key(&kit_root(), "03").unwrap();
    // All right but the first.
    let answers = kit::labs::filled("03", &key).replacen(
        &format!("{} = {}", key[0].key, key[0].expected),
        &format!("{} = {}", key[0].key, key[0].expected + 1),
        1,
    );
    std::fs::write(dir.join("answers.txt"), answers).unwrap();
    let grade = |var: &str, value: &str| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_mpm-lab"))
            .args(["grade", "--lab", "3", "--answers"])
            .arg(dir.join("answers.txt"))
            .env_remove("LC_ALL")
            .env_remove("LC_MESSAGES")
            .env_remove("LANG")
            .env(var, value)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let n = key.len();
    let en = grade("LC_ALL", "C.UTF-8");
    assert!(en.starts_with("grading: lab 03 ("), "{en}");
    assert!(en.contains(&format!("total: {} / {n}", n - 1)), "{en}");
    assert_eq!(en.matches(" FAIL").count(), 1, "{en}");
    let es = grade("LANG", "es_ES.UTF-8");
    assert!(es.starts_with("corrigiendo: práctica 03 ("), "{es}");
    assert!(es.contains(&format!("total: {} / {n}", n - 1)), "{es}");
    assert_eq!(es.matches(" FALLA").count(), 1, "{es}");
    assert_eq!(es.matches(" bien").count(), n - 1, "{es}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// `mpm-lab grade --lab 04 --config FILE` through the binary: the lab's file as shipped (its
/// MaxRequestWorkers is clamped on purpose) fails with exit status 1, a right answer passes
/// with 0; English and Spanish.
#[test]
fn grade_lab_config_task_fails_the_shipped_file_and_passes_a_right_one() {
    let dir = scratch("lab-config");
    std::fs::create_dir_all(&dir).unwrap();
    let shipped = kit_root().join("book/labs/04-memory-budget/httpd.conf");
    let right = dir.join("httpd.conf");
    let text = std::fs::read_to_string(&shipped).unwrap();
    std::fs::write(
        &right,
        format!("{text}\nServerLimit 64\nMaxRequestWorkers 64\n"),
    )
    .unwrap();
    let grade = |file: &Path, lang: &str| {
        std::process::Command::new(env!("CARGO_BIN_EXE_mpm-lab"))
            .args(["grade", "--lab", "4", "--config"])
            .arg(file)
            .env_remove("LC_ALL")
            .env_remove("LC_MESSAGES")
            .env("LANG", lang)
            .output()
            .unwrap()
    };
    let out = grade(&shipped, "C.UTF-8");
    let en = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success(), "{en}");
    assert!(en.starts_with("grading: lab 04, config task ("), "{en}");
    assert!(
        en.contains("FAIL  no clamping warning at start-up (AH00180"),
        "{en}"
    );
    let out = grade(&right, "es_ES.UTF-8");
    let es = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{es}");
    assert!(
        es.starts_with("corrigiendo: práctica 04, tarea de configuración ("),
        "{es}"
    );
    assert!(es.contains("total: 4 / 4") && !es.contains("FALLA"), "{es}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// The labs with a config task are exactly the labs whose page gives the student the
/// `grade --config` command, in the step that asks for it and in the Grading section
/// (`book/tools/grading.py` writes the latter from the same list).
#[test]
fn every_config_task_is_named_in_its_lab_page() {
    for &(lab, dir) in kit::labs::LABS {
        let readme = read(&format!("book/labs/{dir}/README.md"));
        let command = format!("grade --lab {lab} --config book/labs/{dir}/httpd.conf");
        let task = kit::labs::tasks::TASKS.iter().find(|(l, _)| *l == lab);
        match task {
            Some((_, step)) => {
                assert_eq!(
                    readme.matches(&command).count(),
                    2,
                    "lab {lab}: `{command}` in step {step} and in Grading"
                );
                assert!(
                    readme.contains(&format!("**Your config.** Step {step} ")),
                    "lab {lab}"
                );
            }
            None => assert!(
                !readme.contains(&format!("grade --lab {lab} --config")),
                "lab {lab} has no config task"
            ),
        }
    }
}

#[test]
fn lab_04_key_is_the_clamped_limit_and_the_budget() {
    let key = kit::labs::key(&kit_root(), "04").unwrap();
    let values: Vec<i64> = key.iter().map(|a| a.expected).collect();
    // The lab's config asks for more than ServerLimit allows: AH00180 clamps it to 40.
    assert_eq!(values, [40, 64, 960]);
    assert_eq!(
        read("book/answers/lab-04.txt"),
        kit::labs::filled("04", &key)
    );
}

// ---- end to end ----------------------------------------------------------------------------

fn grade(ws: &Path, a: &Assignment) -> (Vec<Result1>, Duration) {
    let opts = kit::GradeOptions {
        workspace: ws.to_path_buf(),
        assignment: Some(a.name.into()),
        hidden: None,
        per_test: Duration::from_secs(60),
        warm_target: Some(kit_root().join("target")),
        lang: report::Lang::En,
        jobs: kit::grade::Limits::default_jobs(),
    };
    let g = kit::grade_workspace(&opts).unwrap();
    assert_eq!(g.refused, None, "{}: workspace refused", a.name);
    // The results.json Gradescope would get for this run follows its specification.
    let json = report::gradescope_json(&g.rows, g.elapsed, None);
    let (_, score) = assert_gradescope_schema(&json);
    assert_eq!(score, f64::from(report::totals(&g.rows).0));
    print!("{}", report::table(report::Lang::En, a.name, &g.rows));
    println!("({:.0} s)\n", g.elapsed.as_secs_f64());
    (g.rows, g.elapsed)
}

fn failing(rows: &[Result1]) -> Vec<&str> {
    rows.iter()
        .filter(|r| r.outcome != Outcome::Passed)
        .map(|r| r.name.as_str())
        .collect()
}

/// Bring `ws` to the workspace of `a`, writing only the files whose content differs (and
/// removing those it no longer has). Cargo decides what to rebuild from mtimes, so every
/// variant graded in the same directory rebuilds only the crates it changes: the first build
/// compiles the kit's crates once, the next ones recompile one MPM crate and the suite.
fn sync_workspace(a: &Assignment, ws: &Path) -> Vec<String> {
    let stage = scratch(&format!("stage-{}", a.name));
    let files = skeleton::write_workspace(&kit_root(), a, &stage, false).unwrap();
    let before: Vec<String> = std::fs::read_to_string(ws.join(".mpm-lab/files"))
        .unwrap_or_default()
        .lines()
        .map(String::from)
        .collect();
    for f in before.iter().filter(|f| !files.contains(f)) {
        let _ = std::fs::remove_file(ws.join(f));
    }
    for f in &files {
        let (from, to) = (stage.join(f), ws.join(f));
        let meta = std::fs::symlink_metadata(&from).unwrap();
        if meta.file_type().is_symlink() {
            if std::fs::symlink_metadata(&to).is_err() {
                std::fs::create_dir_all(to.parent().unwrap()).unwrap();
                std::os::unix::fs::symlink(std::fs::read_link(&from).unwrap(), &to).unwrap();
            }
            continue;
        }
        let new = std::fs::read(&from).unwrap();
        if std::fs::read(&to).ok().as_ref() != Some(&new) {
            std::fs::create_dir_all(to.parent().unwrap()).unwrap();
            std::fs::write(&to, new).unwrap();
        }
    }
    std::fs::write(ws.join(".mpm-lab/files"), files.join("\n")).unwrap();
    let _ = std::fs::remove_dir_all(&stage);
    files
}

/// Every assignment: the skeleton scores 0, the reference 100, each known-wrong solution fails
/// exactly its tests. All variants are graded in one directory (see [`sync_workspace`]), so
/// the whole run costs one build of the kit plus one MPM crate and the suite per variant.
/// CI runs it as its own step (`.ci/run`); `KIT_ONLY=NAME` grades one assignment.
#[test]
#[ignore = "minutes: cargo test -p conformance --test kit -- --ignored --nocapture (CI runs it)"]
fn end_to_end_skeleton_reference_and_known_wrong_solutions() {
    let only = std::env::var("KIT_ONLY").ok();
    let mut wrong = Vec::new();
    let mut summary = String::new();
    let ws = scratch("e2e");
    for a in ASSIGNMENTS
        .iter()
        .filter(|a| only.as_deref().is_none_or(|o| o == a.name))
    {
        let started = Instant::now();
        sync_workspace(a, &ws);
        println!("==== {}: skeleton", a.name);
        let (rows, t) = grade(&ws, a);
        let got = report::totals(&rows).0;
        summary += &format!(
            "{:<20} skeleton    {got:>3} / 100  {:>4.0} s\n",
            a.name,
            t.as_secs_f64()
        );
        if got != 0 {
            wrong.push(format!("{}: the skeleton scores {got}", a.name));
        }
        println!("==== {}: reference", a.name);
        for f in a.files {
            std::fs::copy(kit_root().join(f), ws.join(f)).unwrap();
        }
        let (rows, t) = grade(&ws, a);
        let got = report::totals(&rows).0;
        summary += &format!(
            "{:<20} reference   {got:>3} / 100  {:>4.0} s\n",
            a.name,
            t.as_secs_f64()
        );
        if !failing(&rows).is_empty() {
            wrong.push(format!(
                "{}: the reference fails {:?}",
                a.name,
                failing(&rows)
            ));
        }
        for m in MUTANTS.iter().filter(|m| m.assignment == a.name) {
            println!("==== {}: known-wrong \"{}\"", a.name, m.name);
            let path = ws.join(m.file);
            let good = std::fs::read_to_string(&path).unwrap();
            std::fs::write(&path, good.replacen(m.from, m.to, 1)).unwrap();
            let (rows, t) = grade(&ws, a);
            std::fs::write(&path, &good).unwrap();
            let lost: u32 = rows
                .iter()
                .filter(|r| m.fails.contains(&r.name.as_str()))
                .map(|r| r.max_points)
                .sum();
            let got = report::totals(&rows).0;
            summary += &format!(
                "{:<20} {:<44} {got:>3} / 100 (expected {}) {:>4.0} s\n",
                a.name,
                m.name,
                a.max_points() - lost,
                t.as_secs_f64()
            );
            if failing(&rows) != m.fails {
                wrong.push(format!(
                    "{}: \"{}\" fails {:?}, expected {:?}",
                    a.name,
                    m.name,
                    failing(&rows),
                    m.fails
                ));
            }
        }
        println!(
            "==== {}: {:.0} s in all\n",
            a.name,
            started.elapsed().as_secs_f64()
        );
        summary += &format!(
            "{:<20} all variants {:>4.0} s\n",
            a.name,
            started.elapsed().as_secs_f64()
        );
    }
    let _ = std::fs::remove_dir_all(&ws);
    println!("==== summary\n{summary}");
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
