//! Property tests of event's pure decisions: `maintenance::decide` (§3.3), the accept limit
//! (§5.4) and AsyncRequestWorkerFactor (§2.3). One property per numbered rule.

use httpd_core::config::MpmDirectives;
use httpd_core::scoreboard::WorkerStatus;
use httpd_core::threaded::view::{ProcessView, ScoreboardView, SpawnRate};
use mpm_event::accept_limit::{
    AboveLimit, AcceptCounts, connections_above_limit, should_enable_listeners,
};
use mpm_event::config::{EventConfig, WorkerFactor, check_config};
use mpm_event::keepalive_queue::TimeoutQueue;
use mpm_event::maintenance::{Decision, Retained, decide, thread_counts_as_idle};
use proptest::prelude::*;
use std::time::{Duration, Instant};

const STATUSES: [WorkerStatus; 11] = WorkerStatus::ALL;

fn config() -> impl Strategy<Value = EventConfig> {
    (1i64..8, 1i64..6, 1i64..60, 1i64..40, 0i64..80, 1i64..5).prop_map(
        |(sl, tpc, mrw, min, max, start)| {
            check_config(
                &MpmDirectives {
                    server_limit: Some(sl),
                    threads_per_child: Some(tpc),
                    max_request_workers: Some(mrw),
                    min_spare_threads: Some(min),
                    max_spare_threads: Some(max),
                    start_servers: Some(start),
                    ..MpmDirectives::default()
                },
                None,
            )
            .expect("no factor set")
            .config
        },
    )
}

fn process(tpc: usize) -> impl Strategy<Value = ProcessView> {
    (
        prop::bool::weighted(0.7),
        0u64..2,
        prop::bool::weighted(0.2),
        prop::bool::weighted(0.2),
        prop::collection::vec(prop::sample::select(&STATUSES[..]), tpc),
    )
        .prop_map(
            move |(live, generation, quiescing, not_accepting, threads)| {
                if !live {
                    return ProcessView::empty(tpc);
                }
                ProcessView {
                    pid: 100,
                    generation,
                    quiescing,
                    not_accepting,
                    threads,
                }
            },
        )
}

fn scenario() -> impl Strategy<Value = (EventConfig, ScoreboardView, Retained)> {
    config().prop_flat_map(|cfg| {
        let slots = prop::collection::vec(process(cfg.threads_per_child), cfg.server_limit);
        let retained =
            (0u32..6, 0u32..3, any::<bool>(), any::<bool>()).prop_map(|(r, hold, m, n)| Retained {
                idle_spawn_rate: SpawnRate::of(1 << r),
                hold_off: hold,
                maxclients_reported: m,
                near_maxclients_reported: n,
                ..Retained::default()
            });
        (Just(cfg), slots, retained).prop_map(|(cfg, processes, retained)| {
            (
                cfg,
                ScoreboardView {
                    generation: 1,
                    processes,
                },
                retained,
            )
        })
    })
}

fn active_and_total(view: &ScoreboardView) -> (usize, usize) {
    let live = view.processes.iter().filter(|p| p.pid != 0);
    let total = live.clone().count();
    (live.filter(|p| !p.quiescing).count(), total)
}

proptest! {
    /// Rule 17: forks only into free slots below ServerLimit, at most `rate` of them, and never
    /// beyond MaxRequestWorkers/TPC running children.
    #[test]
    fn rule_17_spawn_respects_both_process_limits((cfg, view, retained) in scenario()) {
        let (out, _) = decide(&view, &cfg, &retained);
        if let Decision::Spawn { slots } = out.decision {
            let (active, _) = active_and_total(&view);
            prop_assert!(slots.len() <= retained.idle_spawn_rate.get());
            prop_assert!(active + slots.len() <= cfg.active_daemons_limit);
            for s in &slots {
                prop_assert!(*s < cfg.server_limit && view.processes[*s].pid == 0);
            }
        }
    }

    /// Rule 18: a surplus child is stopped only when no child is stopping or the scoreboard
    /// has room for a whole set of active children beside the stopping ones.
    #[test]
    fn rule_18_stop_one_needs_scoreboard_slack((cfg, view, retained) in scenario()) {
        let (out, r) = decide(&view, &cfg, &retained);
        let (active, total) = active_and_total(&view);
        let slack = active == total || cfg.server_limit - total > cfg.active_daemons_limit;
        match out.decision {
            Decision::StopOne => prop_assert!(slack),
            Decision::WaitForStopping => prop_assert!(!slack),
            _ => {}
        }
        if matches!(out.decision, Decision::StopOne | Decision::WaitForStopping) {
            prop_assert!(out.idle_threads > cfg.max_spare_threads);
            prop_assert_eq!(r.idle_spawn_rate.get(), 1);
        }
    }

    /// Rule 19: idle threads exclude not-accepting, stopping and old-generation children.
    #[test]
    fn rule_19_idle_excludes_not_accepting_children((cfg, view, retained) in scenario()) {
        let (out, _) = decide(&view, &cfg, &retained);
        let expected: usize = view.processes.iter().filter(|p| p.pid != 0).map(|p| {
            p.threads.iter().filter(|&&s| {
                matches!(s, WorkerStatus::Dead | WorkerStatus::Starting | WorkerStatus::Ready)
                    && !p.not_accepting && !p.quiescing && p.generation == view.generation
            }).count()
        }).sum();
        prop_assert_eq!(out.idle_threads, expected);
        for p in &view.processes {
            if p.not_accepting {
                prop_assert!(p.threads.iter().all(|&s| !thread_counts_as_idle(p, s, view.generation)));
            }
        }
    }

    /// Rule 15: AH00484 / AH10159 at most once per parent lifetime.
    #[test]
    fn rule_15_max_workers_messages_are_logged_once((cfg, view, retained) in scenario()) {
        let (first, r) = decide(&view, &cfg, &retained);
        let (second, _) = decide(&view, &cfg, &r);
        for code in ["AH00484", "AH10159"] {
            let n1 = first.log.iter().filter(|l| l.text.starts_with(code)).count();
            let n2 = second.log.iter().filter(|l| l.text.starts_with(code)).count();
            prop_assert!(n1 + n2 <= 1, "{} logged {} then {}", code, n1, n2);
        }
        if retained.maxclients_reported {
            prop_assert!(first.log.iter().all(|l| !l.text.starts_with("AH00484")));
        }
    }

    /// Rule 16: AH03490 repeats on every pass that finds no free slot below MaxRequestWorkers.
    #[test]
    fn rule_16_scoreboard_full_repeats_every_tick((cfg, view, retained) in scenario()) {
        let (first, r) = decide(&view, &cfg, &retained);
        if first.decision == Decision::ScoreboardFull {
            prop_assert!(first.log.iter().any(|l| l.text.starts_with("AH03490: scoreboard is full, not at MaxRequestWorkers.Increase ServerLimit.")));
            let (second, _) = decide(&view, &cfg, &r);
            prop_assert_eq!(second.decision, Decision::ScoreboardFull);
            prop_assert!(second.log.iter().any(|l| l.text.starts_with("AH03490")));
        }
    }

    /// AH00486 only on passes whose rate is at least 8; rule 9: a pass with nothing to do
    /// resets the rate to 1.
    #[test]
    fn rule_09_rate_and_ah00486((cfg, view, retained) in scenario()) {
        let (out, r) = decide(&view, &cfg, &retained);
        if out.log.iter().any(|l| l.text.starts_with("AH00486")) {
            prop_assert!(retained.idle_spawn_rate.get() >= 8);
        }
        if out.decision == Decision::Nothing {
            prop_assert_eq!(r.idle_spawn_rate.get(), 1);
        }
    }

    /// Rule 30: the accept limit is exactly Apache's formula, including I = 0 and hysteresis.
    #[test]
    fn rule_30_accept_limit_formula(i in 0usize..40, c in 0usize..400, l in 0usize..100,
                                    tpc in 1usize..64, f in 1usize..12, d in any::<bool>()) {
        let counts = AcceptCounts { idle_workers: i, connections: c, lingering: l,
                                    threads_per_child: tpc, factor: f, listeners_disabled: d };
        let above = connections_above_limit(counts);
        let expected = if i == 0 {
            Some(AboveLimit::NoIdleWorker)
        } else if c > l && c - l >= tpc + (i - usize::from(d)) * f {
            Some(AboveLimit::TooManyConnections)
        } else {
            None
        };
        prop_assert_eq!(above, expected);
        // The edge itself, whatever `c` was drawn (a random `c` rarely lands on it): L − 1
        // active connections are accepted, L are not.
        if i > 0 {
            let limit = tpc + (i - usize::from(d)) * f;
            let at = |active| connections_above_limit(AcceptCounts { connections: l + active, ..counts });
            prop_assert_eq!(at(limit - 1), None);
            prop_assert_eq!(at(limit), Some(AboveLimit::TooManyConnections));
        }
        // Hysteresis: re-enabling (D = 1) is never easier than staying enabled (D = 0).
        if d && above.is_none() {
            let enabled = AcceptCounts { listeners_disabled: false, ..counts };
            prop_assert!(connections_above_limit(enabled).is_none());
        }
        prop_assert_eq!(should_enable_listeners(false, counts), d && above.is_none());
        prop_assert!(!should_enable_listeners(true, counts));
    }

    /// Rule 29: a fractional AsyncRequestWorkerFactor behaves exactly like its integer part
    /// (1.5 like 1, 2.9 like 2), because the ×16 value is divided back with integer division.
    #[test]
    fn rule_29_fractional_factor_is_truncated(whole in 1u32..20, tenths in 0u32..10,
                                              i in 1usize..30, c in 0usize..300, tpc in 1usize..30) {
        let frac = WorkerFactor::parse(&format!("{whole}.{tenths}")).unwrap().effective();
        let int = WorkerFactor::parse(&whole.to_string()).unwrap().effective();
        prop_assert_eq!(frac, int);
        let counts = |factor| AcceptCounts { idle_workers: i, connections: c, lingering: 0,
                                             threads_per_child: tpc, factor, listeners_disabled: false };
        prop_assert_eq!(connections_above_limit(counts(frac)), connections_above_limit(counts(int)));
    }
}

proptest! {
    /// Rules 33–35 (`process_timeout_queue`): a timeout queue expires exactly the live entries
    /// parked at least `timeout` ago, oldest first; removed entries never expire; a re-parked
    /// key expires by its new deadline only.
    #[test]
    fn rule_33_timeout_queue_expires_exactly_the_due_entries(
        ops in prop::collection::vec((0u64..8, any::<bool>(), 0u64..400), 1..60),
        check_at in 0u64..3000,
    ) {
        let t0 = Instant::now();
        let timeout = Duration::from_millis(1000);
        let mut q = TimeoutQueue::new(timeout);
        let mut model: Vec<(u64, u64)> = Vec::new(); // (key, parked at ms), in park order
        let mut now = 0;
        for (key, park, dt) in ops {
            now += dt;
            if park {
                q.remove(key);
                model.retain(|&(k, _)| k != key);
                q.push(key, t0 + Duration::from_millis(now));
                model.push((key, now));
            } else {
                let was = model.iter().any(|&(k, _)| k == key);
                prop_assert_eq!(q.remove(key), was);
                model.retain(|&(k, _)| k != key);
            }
        }
        let at = now + check_at;
        let due: Vec<u64> = model.iter().filter(|&&(_, t)| t + 1000 <= at).map(|&(k, _)| k).collect();
        prop_assert_eq!(q.expire(t0 + Duration::from_millis(at)), due.clone());
        prop_assert_eq!(q.len(), model.len() - due.len());
    }
}

/// Rule 29 with Apache's own example and error texts.
#[test]
fn rule_29_factor_parsing_matches_set_worker_factor() {
    assert_eq!(WorkerFactor::parse("1.5").unwrap().effective(), 1);
    assert_eq!(
        WorkerFactor::parse("0.5").unwrap().effective(),
        1,
        "raised to at least 1"
    );
    assert_eq!(
        WorkerFactor::parse("abc").unwrap_err().to_string(),
        "error parsing value"
    );
    assert_eq!(
        WorkerFactor::parse("-2").unwrap_err().to_string(),
        "AsyncRequestWorkerFactor argument must be a positive number"
    );
}

/// §3.3 on the reference configuration: from 3 children with every thread busy the rate
/// doubles (1, 2, …) until MaxRequestWorkers/TPC running children, then AH00484 once.
#[test]
fn rule_15_reference_growth_then_ah00484_once() {
    let cfg = check_config(
        &MpmDirectives {
            server_limit: Some(16),
            start_servers: Some(2),
            max_request_workers: Some(150),
            min_spare_threads: Some(25),
            max_spare_threads: Some(75),
            threads_per_child: Some(25),
            ..MpmDirectives::default()
        },
        None,
    )
    .unwrap()
    .config;
    let busy = |n: usize| {
        let mut processes = vec![ProcessView::empty(25); 16];
        for p in processes.iter_mut().take(n) {
            *p = ProcessView {
                pid: 7,
                generation: 0,
                quiescing: false,
                not_accepting: true,
                threads: vec![WorkerStatus::BusyRead; 25],
            };
        }
        ScoreboardView {
            generation: 0,
            processes,
        }
    };
    let mut r = Retained::default();
    let mut children = 3;
    let mut spawned = Vec::new();
    let mut ah00484 = 0;
    for _ in 0..6 {
        let (out, next) = decide(&busy(children), &cfg, &r);
        r = next;
        ah00484 += out
            .log
            .iter()
            .filter(|l| l.text.starts_with("AH00484"))
            .count();
        if let Decision::Spawn { slots } = out.decision {
            spawned.push(slots.len());
            children += slots.len();
        }
    }
    assert_eq!(spawned, [1, 2], "3 -> 4 -> 6");
    assert_eq!(children, 6);
    assert_eq!(ah00484, 1);
}

/// Rule 35: a lingering close waits in the 30 s linger queue (`MAX_SECS_TO_LINGER`), or in the
/// 2 s short-linger queue after a timeout or when the child is stopping (`SECONDS_TO_LINGER`);
/// checked on the listener's own queues with a simulated clock.
#[test]
fn rule_35_lingering_close_waits_at_most_30s_or_2s() {
    use mpm_event::listener::{LINGER, SHORT_LINGER};
    assert_eq!(
        (LINGER, SHORT_LINGER),
        (Duration::from_secs(30), Duration::from_secs(2))
    );
    let t0 = Instant::now();
    for (timeout, secs) in [(LINGER, 30), (SHORT_LINGER, 2)] {
        let mut q = TimeoutQueue::new(timeout);
        q.push(7, t0);
        q.push(8, t0 + Duration::from_millis(500));
        let just_before = t0 + Duration::from_secs(secs) - Duration::from_millis(1);
        assert!(q.expire(just_before).is_empty(), "closed before {secs} s");
        assert_eq!(q.expire(t0 + Duration::from_secs(secs)), vec![7]);
        assert_eq!(
            q.next_deadline(),
            Some(t0 + Duration::from_millis(500) + timeout)
        );
    }
}
