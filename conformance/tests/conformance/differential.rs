//! The differential judge's regression file (`conformance/differential/regressions.txt`):
//! requests on which we once differed from Apache, with Apache's recorded answer, replayed
//! against our three servers (no Apache needed). New entries come from `mpm-lab diff`.

use conformance::differential::{self as diff, Patience, regressions};
use conformance::{Mpm, ServerTest};

#[test]
fn differential_regressions_match_apaches_recorded_answers_on_all_three_mpms() {
    let path = conformance::crate_dir().join(diff::REGRESSIONS);
    let text = std::fs::read_to_string(&path).expect("regression file");
    let entries = regressions::parse(&text).expect("regression file parses");
    assert!(entries.len() >= 20, "{} entries", entries.len());
    let failures: Vec<String> = std::thread::scope(|s| {
        let runs: Vec<_> = Mpm::ALL
            .into_iter()
            .map(|mpm| {
                let entries = &entries;
                s.spawn(move || {
                    let srv = diff::with_site(ServerTest::new(mpm)).start();
                    diff::replay(srv.addr(), entries, Patience::default())
                        .into_iter()
                        .map(|(name, got)| {
                            format!("{}: {name}: got {}", mpm.name(), got.lines.join(" | "))
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        runs.into_iter()
            .flat_map(|h| h.join().expect("replay thread"))
            .collect()
    });
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
