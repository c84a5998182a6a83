//! Property tests of the worker MPM's pure maintenance decision and configuration check
//! (`mpm_worker::maintenance::decide`, `mpm_worker::config::check_config`).
//!
//! Apache: `worker.c: perform_idle_server_maintenance`, `worker_check_config`, `worker_run`;
//! rules 9, 11–14, 20, 24, 27, 28 of apache-mpm-rules.md §11 (rules 11, 21, 22 and 25 for
//! worker and event with one test body: `threaded_props.rs`).

use std::time::Duration;

use httpd_core::config::MpmDirectives;
use httpd_core::scoreboard::WorkerStatus;
use httpd_core::sim::Phase;
use httpd_core::threaded::view::{ProcessView, ScoreboardView, SpawnRate};
use mpm_worker::config::{WorkerConfig, check_config};
use mpm_worker::maintenance::{Decision, Retained, decide};
use mpm_worker::sim::simulate_worker;
use proptest::prelude::*;

/// Every status a worker slot can hold.
const STATUSES: [WorkerStatus; 11] = WorkerStatus::ALL;

fn config_strategy() -> impl Strategy<Value = WorkerConfig> {
    (1i64..6, 1i64..8, 1i64..60, 0i64..80, 0i64..120, 1usize..4).prop_map(
        |(server_limit, tpc, mrw, min, max, nb)| {
            let raw = MpmDirectives {
                server_limit: Some(server_limit),
                threads_per_child: Some(tpc),
                max_request_workers: Some(mrw),
                min_spare_threads: Some(min),
                max_spare_threads: Some(max),
                ..MpmDirectives::default()
            };
            check_config(&raw, None, nb).0
        },
    )
}

fn view_strategy(cfg: &WorkerConfig) -> impl Strategy<Value = ScoreboardView> + use<> {
    let tpc = cfg.threads_per_child;
    let slots = cfg.daemons_limit;
    let process = (
        any::<bool>(),
        any::<bool>(),
        0u64..2,
        prop::collection::vec(prop::sample::select(STATUSES.to_vec()), tpc),
    )
        .prop_map(move |(live, quiescing, generation, threads)| {
            if live {
                ProcessView {
                    pid: 4242,
                    generation,
                    quiescing,
                    not_accepting: false,
                    threads,
                }
            } else {
                ProcessView::empty(tpc)
            }
        });
    prop::collection::vec(process, slots).prop_map(|processes| ScoreboardView {
        generation: 1,
        processes,
    })
}

fn case() -> impl Strategy<Value = (WorkerConfig, ScoreboardView, usize, u32, usize)> {
    config_strategy().prop_flat_map(|cfg| {
        let nb = cfg.num_buckets;
        let max_rate = cfg.max_spawn_rate_per_bucket();
        (
            Just(cfg.clone()),
            view_strategy(&cfg),
            1usize..=max_rate,
            0u32..3,
            0..nb,
        )
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    /// Rules 11 and 13: a pass forks at most `rate` (≤ ceil(32/nb)) children, into distinct
    /// slots of its own bucket below daemons_limit that hold no process or a stopping one.
    #[test]
    fn rule_13_spawn_is_bounded_by_rate_and_free_slots((cfg, view, rate, hold, bucket) in case()) {
        let mut r = Retained::new(cfg.num_buckets);
        r.idle_spawn_rate[bucket] = SpawnRate::of(rate);
        r.hold_off_on_exponential_spawning = hold;
        let (tick, _) = decide(&view, &cfg, &r, bucket);
        if let Decision::Spawn { slots } = tick.decision {
            prop_assert!(!slots.is_empty());
            prop_assert!(slots.len() <= rate && rate <= 32usize.div_ceil(cfg.num_buckets));
            let mut sorted = slots.clone();
            sorted.sort_unstable();
            sorted.dedup();
            prop_assert_eq!(sorted.len(), slots.len());
            for s in slots {
                prop_assert!(s < cfg.daemons_limit);
                prop_assert_eq!(s % cfg.num_buckets, bucket);
                let p = &view.processes[s];
                prop_assert!(!p.is_live() || p.quiescing);
            }
            let busy_logged = tick.notes.iter().any(|n| n.text.starts_with("AH00289"));
            prop_assert_eq!(busy_logged, rate >= 8);
        }
    }

    /// Rules 9, 11, 12: the rate doubles (capped at ceil(32/nb)) after a spawning pass unless a
    /// graceful restart's hold-off is running, and is back to 1 after any other pass.
    #[test]
    fn rule_09_rate_doubles_after_spawning_and_resets_otherwise((cfg, view, rate, hold, bucket) in case()) {
        let mut r = Retained::new(cfg.num_buckets);
        r.idle_spawn_rate[bucket] = SpawnRate::of(rate);
        r.hold_off_on_exponential_spawning = hold;
        let (tick, next) = decide(&view, &cfg, &r, bucket);
        let new_rate = next.idle_spawn_rate[bucket].get();
        match tick.decision {
            Decision::Spawn { .. } if hold > 0 => {
                prop_assert_eq!(new_rate, rate);
                prop_assert_eq!(next.hold_off_on_exponential_spawning, hold - 1);
            }
            Decision::Spawn { .. } => {
                prop_assert_eq!(new_rate, (rate * 2).min(cfg.max_spawn_rate_per_bucket()));
            }
            Decision::StopOne | Decision::Nothing | Decision::NoRoom => prop_assert_eq!(new_rate, 1),
            Decision::Skip | Decision::GiveUp => {}
        }
        // The other buckets' rates are untouched.
        for b in (0..cfg.num_buckets).filter(|&b| b != bucket) {
            prop_assert_eq!(next.idle_spawn_rate[b].get(), 1);
        }
    }

    /// Rule 12: a pass stops a child (one GRACEFUL byte) exactly when idle > MaxSpareThreads/nb,
    /// and never spawns and stops in the same pass.
    #[test]
    fn rule_12_one_stop_per_pass_exactly_when_idle_exceeds_max_spare((cfg, view, rate, _hold, bucket) in case()) {
        let mut r = Retained::new(cfg.num_buckets);
        r.idle_spawn_rate[bucket] = SpawnRate::of(rate);
        let (tick, _) = decide(&view, &cfg, &r, bucket);
        let too_many = tick.idle_threads > cfg.max_spare_threads / cfg.num_buckets;
        prop_assert_eq!(tick.decision == Decision::StopOne, too_many);
    }

    /// Rule 14: AH00286 and AH00287 are each logged at most once per parent lifetime, whatever
    /// the sequence of scoreboards.
    #[test]
    fn rule_14_maxclients_messages_at_most_once(
        (cfg, views) in config_strategy().prop_flat_map(|c| {
            let v = prop::collection::vec(view_strategy(&c), 1..6);
            (Just(c), v)
        })
    ) {
        let mut r = Retained::new(cfg.num_buckets);
        let (mut n286, mut n287) = (0, 0);
        for v in &views {
            for _ in 0..2 {
                let (tick, next) = decide(v, &cfg, &r, cfg.num_buckets - 1);
                r = next;
                n286 += tick.notes.iter().filter(|n| n.text.starts_with("AH00286")).count();
                n287 += tick.notes.iter().filter(|n| n.text.starts_with("AH00287")).count();
            }
        }
        prop_assert!(n286 <= 1 && n287 <= 1);
    }

    /// Convergence (rules 9, 12, 13): under a steady load the simulated server (which calls the
    /// same `decide`) settles with MinSpareThreads ≤ idle ≤ MaxSpareThreads, unless it is at
    /// its process limit.
    #[test]
    fn steady_load_converges_into_the_spare_window(
        tpc in 1i64..30, min in 1i64..100, extra in 0i64..100, load in 0usize..300, limit in 1i64..20
    ) {
        let raw = MpmDirectives {
            threads_per_child: Some(tpc),
            min_spare_threads: Some(min),
            max_spare_threads: Some(min + extra),
            server_limit: Some(limit),
            max_request_workers: Some(limit * tpc),
            ..MpmDirectives::default()
        };
        let cfg = check_config(&raw, None, 1).0;
        let phases = [Phase { target: load, duration: Duration::from_secs(60) }];
        let tl = simulate_worker(&cfg, &phases, Duration::from_secs(1));
        let at_end = tl.at(Duration::from_secs(59)).expect("row at t=59");
        let at_limit = at_end.processes == cfg.daemons_limit;
        prop_assert!(
            at_limit || (cfg.min_spare_threads..=cfg.max_spare_threads).contains(&at_end.idle),
            "idle {} not in [{}, {}] with {} processes (limit {})\n{}",
            at_end.idle, cfg.min_spare_threads, cfg.max_spare_threads, at_end.processes,
            cfg.daemons_limit, tl.summary()
        );
    }
}

/// Rule 20: MaxRequestWorkers not a multiple of ThreadsPerChild is rounded down with AH00316;
/// `ThreadsPerChild 64` alone gives 6 servers and 384 workers.
#[test]
fn rule_20_threads_per_child_64_alone_gives_384_workers() {
    let raw = MpmDirectives {
        threads_per_child: Some(64),
        ..MpmDirectives::default()
    };
    let (cfg, warnings) = check_config(&raw, None, 1);
    assert_eq!((cfg.daemons_limit, cfg.max_workers), (6, 384));
    assert_eq!(warnings.len(), 1);
    assert!(warnings[0].startup.starts_with("AH00316: WARNING: MaxRequestWorkers of 400 is not an integer multiple of ThreadsPerChild of 64, decreasing to nearest multiple 384, for a maximum of 6 servers."));
}

/// Rule 24: StartServers 0 and MinSpareThreads 0 are raised to 1 with AH00320 and AH00322.
#[test]
fn rule_24_start_servers_and_min_spare_threads_raised_to_1() {
    let raw = MpmDirectives {
        start_servers: Some(0),
        min_spare_threads: Some(0),
        ..MpmDirectives::default()
    };
    let (cfg, warnings) = check_config(&raw, None, 1);
    let codes: Vec<&str> = warnings.iter().map(|w| w.code).collect();
    assert_eq!(codes, ["AH00320", "AH00322"]);
    assert_eq!((cfg.start_servers, cfg.min_spare_threads), (1, 1));
    assert!(warnings[1].startup.ends_with(
        "increasing to 1 to avoid almost certain server failure. Please read the documentation."
    ));
}

/// Rule 27: MaxSpareThreads is silently raised to MinSpareThreads + (TPC+1)×nb.
#[test]
fn rule_27_max_spare_threads_floor() {
    for nb in 1..4 {
        let raw = MpmDirectives {
            min_spare_threads: Some(100),
            max_spare_threads: Some(0),
            ..MpmDirectives::default()
        };
        let (cfg, warnings) = check_config(&raw, None, nb);
        assert!(warnings.is_empty());
        assert_eq!(cfg.max_spare_threads, cfg.min_spare_threads + 26 * nb);
    }
}

/// Rule 28: with MaxRequestWorkers > ServerLimit×TPC a saturated server logs AH00288 on every
/// pass and never AH00286 (Apache keeps the unlowered `max_workers`; reproduced on purpose).
#[test]
fn rule_28_over_server_limit_logs_ah00288_every_pass() {
    let raw = MpmDirectives {
        server_limit: Some(1),
        threads_per_child: Some(2),
        max_request_workers: Some(10),
        ..MpmDirectives::default()
    };
    let (cfg, _) = check_config(&raw, None, 1);
    let full = ScoreboardView {
        generation: 0,
        processes: vec![ProcessView {
            pid: 7,
            generation: 0,
            quiescing: false,
            not_accepting: false,
            threads: vec![WorkerStatus::BusyWrite; 2],
        }],
    };
    let mut r = Retained::new(1);
    for _ in 0..3 {
        let (tick, next) = decide(&full, &cfg, &r, 0);
        r = next;
        assert_eq!(tick.decision, Decision::NoRoom);
        assert_eq!(tick.notes.len(), 1);
        assert!(
            tick.notes[0]
                .text
                .starts_with("AH00288: scoreboard is full, not at MaxRequestWorkers")
        );
    }
}

/// Rule 11: with nb listener buckets each bucket's pass compares its own idle threads with
/// MinSpareThreads/nb, and its spawn rate is capped at 32/nb (rounded up, at least 1).
#[test]
fn rule_11_thresholds_and_spawn_rate_are_per_bucket() {
    let raw = MpmDirectives {
        server_limit: Some(16),
        threads_per_child: Some(10),
        max_request_workers: Some(160),
        min_spare_threads: Some(40),
        max_spare_threads: Some(400),
        ..MpmDirectives::default()
    };
    let idle_process = |pid| ProcessView {
        pid,
        generation: 0,
        quiescing: false,
        not_accepting: false,
        threads: vec![WorkerStatus::Ready; 10],
    };
    // Bucket 0 owns the even slots; two idle children there hold 20 idle threads.
    let mut processes = vec![ProcessView::empty(10); 16];
    processes[0] = idle_process(100);
    processes[2] = idle_process(102);
    let view = ScoreboardView {
        generation: 0,
        processes,
    };

    let (two, _) = check_config(&raw, None, 2);
    let (tick, _) = decide(&view, &two, &Retained::new(2), 0);
    assert_eq!(tick.idle_threads, 20);
    assert!(
        !matches!(tick.decision, Decision::Spawn { .. }),
        "20 idle is not below 40/2: {:?}",
        tick.decision
    );

    let (one, _) = check_config(&raw, None, 1);
    let (tick, _) = decide(&view, &one, &Retained::new(1), 0);
    assert!(
        matches!(tick.decision, Decision::Spawn { .. }),
        "20 idle is below 40/1: {:?}",
        tick.decision
    );

    let caps: Vec<usize> = (1..=4)
        .map(|nb| check_config(&raw, None, nb).0.max_spawn_rate_per_bucket())
        .collect();
    assert_eq!(caps, [32, 16, 11, 8]);
}
