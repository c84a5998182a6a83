//! Rules the two threaded MPMs share word for word (11, 21, 22, 25), checked with ONE body each
//! against both crates' own pure functions: `check_config` (`worker_check_config`,
//! `event_check_config`) and `maintenance::decide` (`perform_idle_server_maintenance`).
//!
//! The two crates keep their own types (worker's `decide` takes a bucket, event's has one
//! bucket only; their warnings differ in shape), so the adapters below reduce each MPM's answer
//! to what the rule speaks about, and the test bodies never name an MPM except through
//! [`Mpm`]. Spec: apache-mpm-rules.md §2.3, §3.2, §3.3.

use httpd_core::config::MpmDirectives;
use httpd_core::scoreboard::WorkerStatus;
use httpd_core::threaded::view::{ProcessView, ScoreboardView, SpawnRate};
use mpm_event::config as ev_config;
use mpm_event::maintenance as ev;
use mpm_worker::config as wk_config;
use mpm_worker::maintenance as wk;

use conformance::Mpm;

/// What `check_config` made of the directives, in either MPM's terms.
#[derive(Debug)]
struct Checked {
    /// The AH codes of the messages, in order (start-up form, or restart form with `first`).
    codes: Vec<&'static str>,
    /// (ServerLimit, ThreadLimit, ThreadsPerChild) after clamping.
    limits: (usize, usize, usize),
}

/// `check_config` of `mpm` (one listener bucket); `first` = the retained (ServerLimit,
/// ThreadLimit) on a restart.
fn check(mpm: Mpm, raw: &MpmDirectives, first: Option<(usize, usize)>) -> Checked {
    match mpm {
        Mpm::Worker => {
            let first = first.map(|(server_limit, thread_limit)| wk_config::FirstLimits {
                server_limit,
                thread_limit,
            });
            let (c, w) = wk_config::check_config(raw, first, 1);
            Checked {
                codes: w.iter().map(|w| w.code).collect(),
                limits: (c.server_limit, c.thread_limit, c.threads_per_child),
            }
        }
        Mpm::Event => {
            let first = first.map(|(s, t)| ev_config::FirstLimits {
                server_limit: s as i64,
                thread_limit: t as i64,
            });
            let c = ev_config::check_config(raw, first).expect("no AsyncRequestWorkerFactor");
            Checked {
                codes: c.warnings.iter().map(|w| w.code).collect(),
                limits: (
                    c.config.server_limit,
                    c.config.thread_limit,
                    c.config.threads_per_child,
                ),
            }
        }
        Mpm::Prefork => unreachable!("prefork has no ThreadLimit"),
    }
}

/// `MAX_THREAD_LIMIT` differs: worker.c 20000, event.c 100000.
fn max_thread_limit(mpm: Mpm) -> usize {
    match mpm {
        Mpm::Worker => wk_config::defaults::MAX_THREAD_LIMIT as usize,
        Mpm::Event => ev_config::defaults::MAX_THREAD_LIMIT as usize,
        Mpm::Prefork => unreachable!("prefork has no ThreadLimit"),
    }
}

/// One maintenance pass, reduced to what rules 11 and 12 speak about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pass {
    /// Fork this many children.
    Spawn(usize),
    /// Write one GRACEFUL byte to the pipe of death.
    StopOne,
    /// Anything else (nothing to do, no room, …).
    Other,
}

/// One pass of `mpm`'s `decide` with a spawn rate of `rate` (one bucket): the decision, the
/// idle threads it counted and the rate it keeps for the next pass.
fn one_pass(
    mpm: Mpm,
    raw: &MpmDirectives,
    view: &ScoreboardView,
    rate: usize,
) -> (Pass, usize, usize) {
    match mpm {
        Mpm::Worker => {
            let (cfg, _) = wk_config::check_config(raw, None, 1);
            let mut r = wk::Retained::new(1);
            r.idle_spawn_rate[0] = SpawnRate::of(rate);
            let (tick, next) = wk::decide(view, &cfg, &r, 0);
            let pass = match tick.decision {
                wk::Decision::Spawn { slots } => Pass::Spawn(slots.len()),
                wk::Decision::StopOne => Pass::StopOne,
                _ => Pass::Other,
            };
            (pass, tick.idle_threads, next.idle_spawn_rate[0].get())
        }
        Mpm::Event => {
            let cfg = ev_config::check_config(raw, None).expect("valid").config;
            let r = ev::Retained {
                idle_spawn_rate: SpawnRate::of(rate),
                ..ev::Retained::default()
            };
            let (out, next) = ev::decide(view, &cfg, &r);
            let pass = match out.decision {
                ev::Decision::Spawn { slots } => Pass::Spawn(slots.len()),
                ev::Decision::StopOne => Pass::StopOne,
                _ => Pass::Other,
            };
            (pass, out.idle_threads, next.idle_spawn_rate.get())
        }
        Mpm::Prefork => unreachable!("prefork has its own maintenance"),
    }
}

/// A scoreboard of 64 slots of 10 threads whose first `idle_children` hold idle children.
fn idle_children(idle_children: usize) -> ScoreboardView {
    let mut processes = vec![ProcessView::empty(10); 64];
    for (i, p) in processes.iter_mut().take(idle_children).enumerate() {
        *p = ProcessView {
            pid: 100 + i as i32,
            generation: 0,
            quiescing: false,
            not_accepting: false,
            threads: vec![WorkerStatus::Ready; 10],
        };
    }
    ScoreboardView {
        generation: 0,
        processes,
    }
}

/// Rule 11 with one listener bucket (all our servers have one: DEVIATIONS.md): a pass compares
/// idle threads with MinSpareThreads/1 and MaxSpareThreads/1 exactly, and the spawn rate
/// doubles up to 32/1 and no further. Worker's per-bucket split (nb > 1) is
/// `worker_maintenance::rule_11_thresholds_and_spawn_rate_are_per_bucket`.
fn thresholds_and_rate_cap_with_one_bucket(mpm: Mpm) {
    let raw = MpmDirectives {
        server_limit: Some(64),
        threads_per_child: Some(10),
        max_request_workers: Some(640),
        min_spare_threads: Some(40),
        max_spare_threads: Some(60),
        ..MpmDirectives::default()
    };
    let pass = |children, rate| one_pass(mpm, &raw, &idle_children(children), rate);
    // 30 idle < 40: spawn `rate` children, and the rate doubles.
    assert_eq!(pass(3, 1), (Pass::Spawn(1), 30, 2));
    assert_eq!(pass(3, 4), (Pass::Spawn(4), 30, 8));
    // 40 idle is not below MinSpareThreads, 60 is not above MaxSpareThreads: nothing, rate 1.
    assert_eq!(pass(4, 8), (Pass::Other, 40, 1));
    assert_eq!(pass(6, 8), (Pass::Other, 60, 1));
    // 70 idle > 60: one child stopped, rate back to 1.
    assert_eq!(pass(7, 8), (Pass::StopOne, 70, 1));
    // The rate is capped at MAX_SPAWN_RATE / nb = 32.
    assert_eq!(pass(0, 16), (Pass::Spawn(16), 0, 32));
    assert_eq!(pass(0, 32), (Pass::Spawn(32), 0, 32));
}

#[test]
fn rule_11_thresholds_and_rate_cap_with_one_bucket_worker() {
    thresholds_and_rate_cap_with_one_bucket(Mpm::Worker);
}

#[test]
fn rule_11_thresholds_and_rate_cap_with_one_bucket_event() {
    thresholds_and_rate_cap_with_one_bucket(Mpm::Event);
}

/// Rules 21, 22: ServerLimit over 20000, ThreadLimit over the MPM's MAX_THREAD_LIMIT and
/// ThreadsPerChild over ThreadLimit are each reduced, with the MPM's own codes in that order.
fn limits_are_reduced_with_their_codes(mpm: Mpm, codes: [&str; 3]) {
    let tmax = max_thread_limit(mpm);
    let raw = MpmDirectives {
        server_limit: Some(30000),
        thread_limit: Some(tmax as i64 + 1),
        threads_per_child: Some(tmax as i64 + 5),
        max_request_workers: Some(i64::MAX / 2),
        ..MpmDirectives::default()
    };
    let c = check(mpm, &raw, None);
    assert_eq!(c.codes[..3], codes, "{c:?}");
    assert_eq!(c.limits, (20000, tmax, tmax));
    // At the limits nothing is said about them.
    let raw = MpmDirectives {
        server_limit: Some(20000),
        thread_limit: Some(tmax as i64),
        threads_per_child: Some(tmax as i64),
        ..raw
    };
    let c = check(mpm, &raw, None);
    assert!(c.codes.iter().all(|c| !codes.contains(c)), "{c:?}");
}

#[test]
fn rule_21_22_limits_are_reduced_with_their_codes_worker() {
    limits_are_reduced_with_their_codes(Mpm::Worker, ["AH00300", "AH00305", "AH00310"]);
}

#[test]
fn rule_21_22_limits_are_reduced_with_their_codes_event() {
    limits_are_reduced_with_their_codes(Mpm::Event, ["AH00497", "AH00502", "AH00507"]);
}

/// Rule 25: a restart may not change ServerLimit or ThreadLimit (they size the shared
/// scoreboard): each change is refused with its code and the first value is kept.
fn restart_keeps_server_and_thread_limit(mpm: Mpm, codes: [&str; 2]) {
    let raw = MpmDirectives {
        server_limit: Some(8),
        thread_limit: Some(32),
        threads_per_child: Some(16),
        max_request_workers: Some(128),
        ..MpmDirectives::default()
    };
    let c = check(mpm, &raw, Some((16, 64)));
    assert_eq!(c.codes, codes, "{c:?}");
    assert_eq!(c.limits, (16, 64, 16));
    // The same values as at start-up: nothing to refuse.
    let c = check(mpm, &raw, Some((8, 32)));
    assert!(c.codes.is_empty(), "{c:?}");
    assert_eq!(c.limits, (8, 32, 16));
}

#[test]
fn rule_25_restart_keeps_server_and_thread_limit_worker() {
    restart_keeps_server_and_thread_limit(Mpm::Worker, ["AH00304", "AH00309"]);
}

#[test]
fn rule_25_restart_keeps_server_and_thread_limit_event() {
    restart_keeps_server_and_thread_limit(Mpm::Event, ["AH00501", "AH00506"]);
}
