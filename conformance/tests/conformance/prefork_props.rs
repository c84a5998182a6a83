//! Properties of prefork's idle-server maintenance (`mpm_prefork::maintenance::decide`, §3.1),
//! checked on random scoreboards and random loads. The simulator calls the same `decide` the
//! server calls, so a property that holds here holds for the real parent's decisions.

use std::time::Duration;

use httpd_core::config::MpmDirectives;
use httpd_core::scoreboard::WorkerStatus;
use httpd_core::sim::Phase;
use mpm_prefork::config::{MAX_SPAWN_RATE, PreforkConfig, check_config};
use mpm_prefork::maintenance::{Decision, Retained, ScoreboardView, counts_as_idle, decide};
use mpm_prefork::sim::simulate_prefork;
use proptest::prelude::*;

fn status() -> impl Strategy<Value = WorkerStatus> {
    prop_oneof![
        3 => Just(WorkerStatus::Dead),
        1 => Just(WorkerStatus::Starting),
        3 => Just(WorkerStatus::Ready),
        2 => Just(WorkerStatus::BusyRead),
        2 => Just(WorkerStatus::BusyWrite),
        1 => Just(WorkerStatus::BusyKeepalive),
        1 => Just(WorkerStatus::Graceful),
    ]
}

/// Raw directives in and around the interesting ranges (including values check_config clamps).
fn config() -> impl Strategy<Value = PreforkConfig> {
    (1i64..=64, 0i64..=12, 0i64..=30, 1i64..=80, 1i64..=8).prop_map(
        |(limit, min, max, server_limit, start)| {
            check_config(
                &MpmDirectives {
                    server_limit: Some(server_limit.max(limit / 2)),
                    max_request_workers: Some(limit),
                    min_spare_servers: Some(min),
                    max_spare_servers: Some(max),
                    start_servers: Some(start),
                    ..MpmDirectives::default()
                },
                None,
            )
            .0
        },
    )
}

fn retained() -> impl Strategy<Value = Retained> {
    (0u32..6, 0u32..3, any::<bool>()).prop_map(|(exp, hold, reported)| Retained {
        idle_spawn_rate: 1 << exp,
        hold_off_on_exponential_spawning: hold,
        maxclients_reported: reported,
        ..Retained::default()
    })
}

fn view_for(cfg: &PreforkConfig) -> impl Strategy<Value = ScoreboardView> + use<> {
    proptest::collection::vec(status(), cfg.max_request_workers)
        .prop_map(|slots| ScoreboardView { slots })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Rules 3/4 and the slot limits: a spawn fills only dead slots below MaxRequestWorkers, at most
    /// `rate` of them, so children never exceed MaxRequestWorkers (hence never ServerLimit).
    #[test]
    fn rule_03_spawn_only_into_free_slots_below_max_request_workers(
        (cfg, view, r) in config().prop_flat_map(|c| (Just(c.clone()), view_for(&c), retained()))
    ) {
        prop_assert!(cfg.max_request_workers <= cfg.server_limit);
        let (d, next) = decide(&view, &cfg, &r, Duration::ZERO);
        let total = view.slots.iter().filter(|s| **s != WorkerStatus::Dead).count();
        if let Decision::Spawn { slots, .. } = &d {
            prop_assert!(!slots.is_empty() && slots.len() <= r.idle_spawn_rate);
            for &s in slots {
                prop_assert!(s < cfg.max_request_workers);
                prop_assert_eq!(view.slots[s], WorkerStatus::Dead);
            }
            prop_assert!(total + slots.len() <= cfg.max_request_workers);
            // The batch is the lowest free slots.
            let free: Vec<usize> = (0..view.slots.len()).filter(|&i| view.slots[i] == WorkerStatus::Dead).take(slots.len()).collect();
            prop_assert_eq!(&free, slots);
        }
        prop_assert!(next.idle_spawn_rate >= 1 && next.idle_spawn_rate <= MAX_SPAWN_RATE);
    }

    /// Rule 6: a surplus stops exactly one child per pass (one POD byte) and resets the rate;
    /// the decision is taken only when idle children exist, so a busy child is never the target
    /// (a child reads the POD only between connections).
    #[test]
    fn rule_06_at_most_one_child_stopped_per_pass(
        (cfg, view, r) in config().prop_flat_map(|c| (Just(c.clone()), view_for(&c), retained()))
    ) {
        let idle = view.slots.iter().filter(|s| counts_as_idle(**s)).count();
        let (d, next) = decide(&view, &cfg, &r, Duration::ZERO);
        match d {
            Decision::StopOne { bucket } => {
                prop_assert!(idle > cfg.max_spare_servers && idle > 0);
                prop_assert_eq!(bucket, 0);
                prop_assert_eq!(next.idle_spawn_rate, 1);
            }
            Decision::Spawn { .. } | Decision::ReachedMaxRequestWorkers { .. } => prop_assert!(idle < cfg.min_spare_servers),
            Decision::Nothing => {
                prop_assert!(idle >= cfg.min_spare_servers && idle <= cfg.max_spare_servers);
                prop_assert_eq!(next.idle_spawn_rate, 1);
            }
        }
    }

    /// Rules 3 and 9: under a lasting shortage the batches are 1, 2, 4, … 32, 32 (or the free
    /// slots left); the first pass without shortage resets the rate to 1.
    #[test]
    fn rule_03_spawn_sequence_doubles_to_32_and_resets(passes in 1usize..10, limit in 40usize..300) {
        let cfg = check_config(&MpmDirectives {
            max_request_workers: Some(limit as i64), server_limit: Some(300), min_spare_servers: Some(1000),
            max_spare_servers: Some(2000), ..MpmDirectives::default() }, None).0;
        let mut view = ScoreboardView { slots: vec![WorkerStatus::Dead; limit] };
        view.slots[0] = WorkerStatus::BusyWrite;
        let mut r = Retained::default();
        let mut alive = 1;
        for i in 0..passes {
            let (d, next) = decide(&view, &cfg, &r, Duration::from_secs(i as u64));
            let want = (1usize << i.min(5)).min(MAX_SPAWN_RATE).min(limit - alive);
            match d {
                Decision::Spawn { slots, .. } => {
                    prop_assert_eq!(slots.len(), want);
                    for s in slots { view.slots[s] = WorkerStatus::BusyWrite; alive += 1; }
                }
                Decision::ReachedMaxRequestWorkers { .. } => prop_assert_eq!(want, 0),
                other => prop_assert!(false, "unexpected {:?}", other),
            }
            r = next;
        }
        // The shortage ends: everything idle within [MinSpare, MaxSpare] resets the rate.
        let calm = check_config(&MpmDirectives { max_request_workers: Some(limit as i64), server_limit: Some(300),
            min_spare_servers: Some(0), max_spare_servers: Some(1000), ..MpmDirectives::default() }, None).0;
        let mut v = view.clone();
        v.slots[0] = WorkerStatus::Ready;
        let (d, next) = decide(&v, &calm, &r, Duration::ZERO);
        prop_assert_eq!(d, Decision::Nothing);
        prop_assert_eq!(next.idle_spawn_rate, 1);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Whole runs: never more children than MaxRequestWorkers; at most one fewer child per second;
    /// and with a steady load the idle count settles inside [MinSpareServers, MaxSpareServers]
    /// (when the limits allow it).
    #[test]
    fn rule_06_runs_stay_bounded_and_converge_to_the_spare_range(
        cfg in config(),
        loads in proptest::collection::vec((0usize..70, 1u64..20), 1..5),
        steady in 0usize..60,
    ) {
        let mut phases: Vec<Phase> = loads.iter().map(|&(t, s)| Phase { target: t, duration: Duration::from_secs(s) }).collect();
        // Finish with a long steady phase so that the run can settle.
        let settle = (cfg.max_request_workers + 40) as u64;
        phases.push(Phase { target: steady, duration: Duration::from_secs(settle) });
        let tl = simulate_prefork(&cfg, &phases, Duration::from_secs(1));
        for w in tl.rows.windows(2) {
            prop_assert!(w[1].processes <= cfg.max_request_workers);
            prop_assert!(w[0].processes <= w[1].processes + 1, "more than one child stopped in a second");
        }
        let load_end: Duration = phases.iter().map(|p| p.duration).sum();
        let row = tl.at(load_end - Duration::from_secs(1)).unwrap();
        if steady + cfg.max_spare_servers + MAX_SPAWN_RATE <= cfg.max_request_workers {
            prop_assert!(row.idle >= cfg.min_spare_servers && row.idle <= cfg.max_spare_servers,
                "idle {} not in [{}, {}]\n{}", row.idle, cfg.min_spare_servers, cfg.max_spare_servers, tl.summary());
            prop_assert_eq!(row.busy, steady);
        }
    }
}

/// Step 1 of §3.1: a child still Starting counts as idle (Apache: `status <= SERVER_READY`).
/// Five children forked a second ago and not yet Ready already cover MinSpareServers 5: counting
/// them as busy would fork more and "swamp things worse".
#[test]
fn rule_03_starting_children_count_as_idle() {
    let cfg = check_config(
        &MpmDirectives {
            min_spare_servers: Some(5),
            max_spare_servers: Some(10),
            max_request_workers: Some(150),
            ..MpmDirectives::default()
        },
        None,
    )
    .0;
    let mut slots = vec![WorkerStatus::Starting; 5];
    slots.extend([WorkerStatus::BusyWrite; 3]);
    slots.resize(150, WorkerStatus::Dead);
    let (d, next) = decide(
        &ScoreboardView { slots },
        &cfg,
        &Retained {
            idle_spawn_rate: 4,
            ..Retained::default()
        },
        Duration::ZERO,
    );
    assert_eq!(d, Decision::Nothing, "5 Starting children are 5 idle ones");
    assert_eq!(next.idle_spawn_rate, 1);
}
