//! Screens drawn with ratatui's TestBackend, kept as insta snapshots. The book includes some of
//! these files (the prefork, worker and event chapters), so its screenshots cannot drift.
//!
//! The data are recordings: real Apache 2.4.71's reference runs (`reference/run1/`) and a
//! `top` session against our mpm-event (`fixtures/top/event-keepalive/`, three presses of `K`).

use super::*;
use crate::top::model::{Held, ProcRow, Sample, SlotInfo};
use crate::top::playback::Replay;

/// The model a replay of `csv` (under the conformance crate) shows at virtual time `until`.
fn replay(csv: &str, mpm: &str, tpc: usize, until: f64, window: f64) -> Model {
    let mut r = Replay::open(&crate::crate_dir().join(csv)).expect("recording");
    let mut m = Model::new(format!("replay of {csv}"), Some(mpm), tpc);
    m.window = window;
    r.advance_to(until, &mut m);
    m.clock = "replay ×1".into();
    m
}

fn screen(m: &Model, w: u16, h: u16) -> String {
    to_text(m, Palette { color: false }, w, h)
}

#[test]
fn prefork_ramp_sequence() {
    // Apache's prefork under 40 held requests from t=7: 5 → 68 children in 6 s.
    for (i, t) in [(1, 9.0), (2, 11.0), (3, 13.0)] {
        let m = replay("reference/run1/prefork.timeline.csv", "prefork", 1, t, 60.0);
        insta::assert_snapshot!(format!("prefork_ramp_{i}"), screen(&m, 80, 24));
    }
}

#[test]
fn prefork_cap_at_120x40() {
    let m = replay(
        "reference/run1/prefork.timeline.csv",
        "prefork",
        1,
        40.0,
        120.0,
    );
    let s = screen(&m, 120, 40);
    assert!(s.contains("AH00161"), "{s}");
    insta::assert_snapshot!("prefork_cap_120x40", s);
}

#[test]
fn worker_cap_sequence() {
    // Apache's worker: 120 held from t=17, 160 from t=32 (more than MaxRequestWorkers 150).
    for (i, t) in [(1, 20.0), (2, 34.0)] {
        let m = replay("reference/run1/worker.timeline.csv", "worker", 25, t, 60.0);
        insta::assert_snapshot!(format!("worker_cap_{i}"), screen(&m, 80, 24));
    }
}

#[test]
fn event_keepalive_wave_sequence() {
    // Our mpm-event, KeepAliveTimeout 30: 100, 200, 300 idle keep-alive connections, then the
    // server closes them 30 s after their last request.
    for (i, t) in [(1, 10.0), (2, 20.0), (3, 44.0)] {
        let m = replay(
            "fixtures/top/event-keepalive/timeline.csv",
            "event",
            25,
            t,
            60.0,
        );
        insta::assert_snapshot!(format!("event_keepalive_wave_{i}"), screen(&m, 80, 24));
    }
}

/// A fixed scoreboard after a graceful restart: slot 1 still runs generation 0 (`G` letters),
/// slots 0 and 2 run generation 1; the process pane knows each child's slot.
fn after_graceful() -> Model {
    let mut m = Model::new("fixed scoreboard", Some("worker"), 5);
    let body = "127.0.0.1\nServerMPM: worker\nParentServerMPMGeneration: 1\nBusyWorkers: 3\nIdleWorkers: 7\nGracefulWorkers: 2\nScoreboard: RR___GGR__....._____.....\n";
    for (t, generation) in [(0.0, 0), (1.0, 1)] {
        if t == 1.0 {
            // Between the two samples: 3 requests held, SIGUSR1 sent, the parent logs it.
            m.set_held(
                0.5,
                1000.5,
                Held {
                    partial: 3,
                    keepalive: 0,
                },
            );
            m.action(0.8, "sent SIGUSR1 (graceful) to 1980");
            m.push_log(
                0.9,
                "[mpm_worker:notice] AH00297: SIGUSR1 received.  Doing graceful restart",
            );
        }
        let mut row = crate::timeline::Row {
            t,
            epoch: 1000.0 + t,
            ..Default::default()
        };
        row.set_status(&crate::status::StatusAuto::parse(body), 5);
        row.os_threads = Some(19.0);
        m.push_sample(Sample {
            row,
            generation: Some(generation),
            slots: Some(vec![
                SlotInfo {
                    slot: 0,
                    pid: 2001,
                    generation: 1,
                },
                SlotInfo {
                    slot: 1,
                    pid: 1990,
                    generation: 0,
                },
                SlotInfo {
                    slot: 3,
                    pid: 2002,
                    generation: 1,
                },
            ]),
            procs: Some(vec![
                ProcRow {
                    pid: 1980,
                    parent: true,
                    threads: 1,
                    rss_kb: 6000,
                    pss_kb: Some(2000),
                    cpu_percent: Some(0.0),
                },
                ProcRow {
                    pid: 1990,
                    parent: false,
                    threads: 7,
                    rss_kb: 7000,
                    pss_kb: Some(3000),
                    cpu_percent: Some(0.5),
                },
                ProcRow {
                    pid: 2001,
                    parent: false,
                    threads: 7,
                    rss_kb: 7100,
                    pss_kb: None,
                    cpu_percent: None,
                },
            ]),
        });
    }
    m.pid = Some(1980);
    m.clock = "live 250 ms".into();
    m
}

#[test]
fn fixed_scoreboard_tells_generations_apart() {
    let m = after_graceful();
    let s = screen(&m, 80, 24);
    let old = s
        .lines()
        .find(|l| l.contains("1990"))
        .expect("slot 1's row");
    assert!(old.contains("g0 old") && old.contains("GGR"), "{old}");
    insta::assert_snapshot!("fixed_scoreboard_80x24", s);
}

#[test]
fn help_screen_fits_80x24() {
    let mut m = after_graceful();
    m.show_help = true;
    let s = screen(&m, 80, 24);
    assert!(s.contains("10 CGI sleeps"));
    insta::assert_snapshot!("help_80x24", s);
}

#[test]
fn no_color_draws_no_colour() {
    let m = after_graceful();
    for (color, coloured_cells_expected) in [(true, true), (false, false)] {
        let backend = ratatui::backend::TestBackend::new(80, 24);
        let mut term = ratatui::Terminal::new(backend).expect("test terminal");
        term.draw(|f| draw(f, &m, Palette { color })).expect("draw");
        let buf = term.backend().buffer();
        let coloured = buf
            .content()
            .iter()
            .any(|c| c.fg != ratatui::style::Color::Reset);
        assert_eq!(coloured, coloured_cells_expected, "color: {color}");
    }
}
