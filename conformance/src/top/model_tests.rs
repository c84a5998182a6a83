//! The model from fixed sequences of `?auto` samples, log lines and actions.

use super::*;
use crate::status::StatusAuto;

/// A sample at `t` from an `?auto` page with `scoreboard` (prefork unless `tpc` > 1).
fn auto(t: f64, scoreboard: &str, generation: u32, tpc: usize) -> Sample {
    let busy = scoreboard.chars().filter(|c| !"_.".contains(*c)).count();
    let idle = scoreboard.chars().filter(|&c| c == '_').count();
    let body = format!(
        "127.0.0.1\nServerMPM: {}\nParentServerMPMGeneration: {generation}\nBusyWorkers: {busy}\nIdleWorkers: {idle}\nScoreboard: {scoreboard}\n",
        if tpc == 1 { "prefork" } else { "worker" }
    );
    let st = StatusAuto::parse(&body);
    let mut row = Row {
        t,
        epoch: 1000.0 + t,
        ..Row::default()
    };
    row.set_status(&st, tpc);
    Sample {
        row,
        generation: Some(generation),
        ..Sample::default()
    }
}

#[test]
fn a_growing_scoreboard_becomes_fork_entries_and_grid_rows() {
    let mut m = Model::new("test", Some("prefork"), 1);
    m.push_sample(auto(0.0, "_____.....", 0, 1));
    m.push_sample(auto(1.0, "RRRRR_....", 0, 1));
    m.push_sample(auto(2.0, "RRRRR___..", 0, 1));
    assert_eq!(m.latest().and_then(|r| r.processes), Some(8.0));
    let forks: Vec<&Entry> = m.feed.iter().filter(|e| e.kind == Kind::Fork).collect();
    assert_eq!(forks.len(), 2);
    assert_eq!(forks[1].text, "+2 → 8 processes");
    let grid = m.grid();
    assert_eq!(grid.len(), 8, "the two open slots are left out");
    assert_eq!(grid[0].letters, "R");
    assert_eq!(grid[7].slot, 7);
}

#[test]
fn a_shrinking_pool_becomes_reap_entries() {
    let mut m = Model::new("test", Some("prefork"), 1);
    m.push_sample(auto(0.0, "__________", 0, 1));
    m.push_sample(auto(1.0, "_________.", 0, 1));
    assert_eq!(m.feed.back().map(|e| e.kind), Some(Kind::Reap));
}

#[test]
fn threaded_scoreboards_split_by_threads_per_child() {
    let mut m = Model::new("test", Some("worker"), 4);
    m.push_sample(auto(0.0, "RR__....GG__", 1, 4));
    m.slots = vec![
        SlotInfo {
            slot: 0,
            pid: 100,
            generation: 1,
        },
        SlotInfo {
            slot: 2,
            pid: 90,
            generation: 0,
        },
    ];
    let g = m.grid();
    assert_eq!(g.len(), 2);
    assert_eq!((g[0].letters.as_str(), g[0].pid), ("RR__", Some(100)));
    assert!(!g[0].old_generation);
    assert_eq!((g[1].slot, g[1].letters.as_str()), (2, "GG__"));
    assert!(g[1].old_generation, "generation 0 while 1 runs");
}

#[test]
fn a_new_generation_is_an_entry() {
    let mut m = Model::new("test", Some("prefork"), 1);
    m.push_sample(auto(0.0, "_____", 0, 1));
    m.push_sample(auto(1.0, "_____", 1, 1));
    assert_eq!(m.feed.back().map(|e| e.kind), Some(Kind::Graceful));
    assert_eq!(m.generation, Some(1));
}

#[test]
fn log_lines_are_classified_by_ah_code_and_explained() {
    let mut m = Model::new("test", Some("prefork"), 1);
    m.push_log(
        5.0,
        "[Sun Nov 22 16:02:45.972844 2026] [mpm_prefork:error] [pid 6615:tid 6615] AH00161: server reached MaxRequestWorkers setting, consider raising the MaxRequestWorkers setting",
    );
    m.push_log(
        6.0,
        "[mpm_prefork:notice] AH00171: Graceful restart requested, doing restart",
    );
    m.push_log(
        7.0,
        "[core:notice] AH00052: child pid 1 exit signal Segmentation fault (11)",
    );
    let kinds: Vec<Kind> = m.feed.iter().map(|e| e.kind).collect();
    assert_eq!(kinds, [Kind::MaxWorkers, Kind::Graceful, Kind::Log]);
    assert!(m.feed[0].text.starts_with("[mpm_prefork:error] AH00161"));
    assert_eq!(m.last_code.map(|c| c.code), Some("AH00171"));
    assert_eq!(m.log_lines.len(), 3);
}

#[test]
fn the_window_keeps_only_recent_rows() {
    let mut m = Model::new("test", Some("prefork"), 1);
    m.window = 60.0;
    for i in 0..200 {
        m.push_sample(auto(i as f64, "_____", 0, 1));
    }
    let v = m.visible_rows();
    assert_eq!(v.first().map(|r| r.t), Some(139.0));
    assert_eq!(m.rows.len(), 200, "every row is kept for the recording");
}

#[test]
fn held_changes_become_load_phases() {
    let mut m = Model::new("test", Some("prefork"), 1);
    m.set_held(0.0, 1000.0, Held::default());
    m.set_held(
        1.0,
        1001.0,
        Held {
            partial: 10,
            keepalive: 0,
        },
    );
    m.set_held(
        1.5,
        1001.5,
        Held {
            partial: 10,
            keepalive: 0,
        },
    );
    m.set_held(
        2.0,
        1002.0,
        Held {
            partial: 10,
            keepalive: 100,
        },
    );
    let targets: Vec<(usize, usize)> = m.load.iter().map(|l| (l.phase, l.target)).collect();
    assert_eq!(targets, [(0, 0), (1, 10), (2, 110)]);
}

#[test]
fn notable_rows_give_each_slot_its_pid_and_generation() {
    let html = "<b>Server 0-1</b> (4242): 0|0|0 [Ready]\n<b>Server 0-1</b> (4242): x\n\
                <b>Server 3-0</b> (4100): 1|2|3 [Gracefully finishing]\n<b>Server 5-0</b> (-): 0";
    assert_eq!(
        parse_notable(html),
        [
            SlotInfo {
                slot: 0,
                pid: 4242,
                generation: 1
            },
            SlotInfo {
                slot: 3,
                pid: 4100,
                generation: 0
            }
        ]
    );
}
