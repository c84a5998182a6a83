//! Hidden tests for prefork-maintenance (an example for teachers: copy, change the numbers).
//! `mpm-lab grade --hidden DIR` copies this file into the workspace as
//! `conformance/tests/hidden_prefork_extra.rs` and runs the tests `checks.txt` names.

use std::time::Duration;

use httpd_core::config::MpmDirectives;
use httpd_core::scoreboard::WorkerStatus;
use httpd_core::sim::Phase;
use mpm_prefork::config::check_config;
use mpm_prefork::maintenance::{Decision, Retained, ScoreboardView, decide};
use mpm_prefork::sim::simulate_prefork;

fn config(min: i64, max: i64, limit: i64) -> mpm_prefork::config::PreforkConfig {
    check_config(
        &MpmDirectives {
            min_spare_servers: Some(min),
            max_spare_servers: Some(max),
            max_request_workers: Some(limit),
            server_limit: Some(limit),
            ..MpmDirectives::default()
        },
        None,
    )
    .0
}

/// Another MinSpareServers than the visible tests: with every child busy the batches are
/// 1, 2, 4, 8, 16, 32, 32.
#[test]
fn other_spares_double_from_rate_1_to_32() {
    let cfg = config(1000, 2000, 200);
    let mut slots = vec![WorkerStatus::Dead; 200];
    slots[0] = WorkerStatus::BusyRead;
    let mut view = ScoreboardView { slots };
    let mut r = Retained::default();
    let mut sizes = Vec::new();
    for i in 0..7 {
        let (d, next) = decide(&view, &cfg, &r, Duration::from_secs(i));
        let Decision::Spawn { slots, .. } = d else {
            panic!("pass {i}: expected a spawn, got {d:?}")
        };
        sizes.push(slots.len());
        for s in slots {
            view.slots[s] = WorkerStatus::BusyRead;
        }
        r = next;
    }
    assert_eq!(sizes, [1, 2, 4, 8, 16, 32, 32]);
}

/// A recorded phase list: 25 connections for 10 s, then none. The simulator (your `decide` on
/// a virtual clock) grows past 25 busy children and then loses at most one child per second
/// until the idle children are within [MinSpare, MaxSpare].
#[test]
fn recorded_phases_grow_and_shrink_like_the_run() {
    let cfg = config(2, 4, 64);
    let phases = [
        Phase { target: 0, duration: Duration::from_secs(3) },
        Phase { target: 25, duration: Duration::from_secs(10) },
        Phase { target: 0, duration: Duration::from_secs(40) },
    ];
    let tl = simulate_prefork(&cfg, &phases, Duration::from_secs(1));
    let peak = tl.rows.iter().map(|r| r.processes).max().unwrap();
    assert!(peak >= 27, "peak {peak}: 25 busy + MinSpare 2\n{}", tl.summary());
    for w in tl.rows.windows(2) {
        assert!(w[0].processes <= w[1].processes + 1, "more than one child stopped in a second");
    }
    let last = tl.rows.last().unwrap();
    assert!(last.idle >= 2 && last.idle <= 4, "idle {} at the end\n{}", last.idle, tl.summary());
}
