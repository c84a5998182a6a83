//! Rule coverage: every numbered rule has a test or a declared deviation, and the book's rule
//! table is the one the current sources generate.

use conformance::rules::Coverage;

fn coverage() -> Coverage {
    Coverage::load(&conformance::workspace_dir())
        .expect("reference/rules.md and DEVIATIONS.md readable")
}

#[test]
fn the_spec_has_seventy_rules() {
    let c = coverage();
    let nums: Vec<u32> = c.rules.iter().map(|r| r.num).collect();
    assert_eq!(nums, (1..=70).collect::<Vec<_>>());
}

#[test]
fn every_rule_has_a_test_or_a_deviation() {
    let c = coverage();
    let missing = c.uncovered();
    assert!(
        missing.is_empty(),
        "rules with neither a `rule_NN_…` test nor a line in conformance/DEVIATIONS.md: {missing:?}"
    );
    // And per MPM: every (rule, MPM) pair the rule applies to.
    let gaps = c.gaps();
    assert!(
        gaps.is_empty(),
        "(rule, MPM) pairs without a `rule_NN_…` test for that MPM or a deviation: {gaps:?}"
    );
}

#[test]
fn deviations_name_real_rules() {
    let c = coverage();
    for d in &c.deviations {
        assert!(
            (1..=70).contains(&d.rule),
            "DEVIATIONS.md names rule {}",
            d.rule
        );
        assert!(
            !d.reason.trim().is_empty(),
            "rule {} deviation without a reason",
            d.rule
        );
    }
}

#[test]
fn book_rule_table_is_up_to_date() {
    let root = conformance::workspace_dir();
    let path = root.join("book/src/reference/rules.md");
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == coverage().markdown(),
        "{} is out of date: run `cargo run -p conformance --bin mpm-lab -- rules --out book/src/reference/rules.md`",
        path.display()
    );
}
