//! Idle-server maintenance: once per quiet second, decide whether to fork or stop a child.
//!
//! Source: Apache `event.c: perform_idle_server_maintenance` (2.4.x). Spec:
//! apache-mpm-rules.md §3.3, §3.4; rules 9, 11, 15–19, 28.
//!
//! [`decide`] is pure: it reads a [`ScoreboardView`] (a copy of the process slots taken by the
//! executor), the effective config and the [`Retained`] state, and returns what to do plus the
//! log lines Apache would write. The parent's executor (`parent.rs`) forks and writes the pipe
//! of death; the simulator (`sim.rs`) and the property tests drive the same function.
//!
//! Differences from worker (`mpm-worker/src/maintenance.rs`), all from `event.c`:
//! * all `ServerLimit` slots are scanned; a free slot is one with pid 0 (no squatting);
//! * threads of a `not_accepting` child are not idle (rule 19);
//! * `active_daemons` (running, not quiescing) and `total_daemons` (with stopping ones) are
//!   both bounded: active by MaxRequestWorkers/TPC, total by ServerLimit (rule 17);
//! * a surplus child is stopped only with enough scoreboard slack (rule 18).
//!
//! One listener bucket (`ListenCoresBucketsRatio` is not implemented), so every "/nb" is /1.

use httpd_core::log::Level;
use httpd_core::threaded::view::{
    ProcessView, ScoreboardView, SpawnRate, counts_as_active, counts_as_idle,
};

use crate::config::{EventConfig, defaults::MAX_SPAWN_RATE};

/// State kept across ticks (and restarts) in Apache's `retained` struct. The default is a
/// fresh parent: rate 1, nothing reported.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Retained {
    /// `idle_spawn_rate`: 1, 2, 4 … 32 children per tick.
    pub idle_spawn_rate: SpawnRate,
    /// `hold_off_on_exponential_spawning`: ticks during which the rate does not double.
    pub hold_off: u32,
    /// AH00484 was logged (once per parent lifetime).
    pub maxclients_reported: bool,
    /// AH10159 was logged (once per parent lifetime).
    pub near_maxclients_reported: bool,
    /// A child exited with APEXIT_CHILDSICK since the last healthy child.
    pub sick_child_detected: bool,
    /// Some child once had all its threads started.
    pub had_healthy_child: bool,
    /// One past the highest slot ever used (`max_daemon_used`).
    pub max_daemon_used: usize,
}

/// What the executor must do after one maintenance pass.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Idle threads are within [MinSpareThreads, MaxSpareThreads].
    Nothing,
    /// Too many idle threads: write one GRACEFUL byte to the pipe of death.
    StopOne,
    /// Too many idle threads, but stopping children fill the scoreboard: wait (rule 18).
    WaitForStopping,
    /// Fork a child into each of these free slots (lowest first).
    Spawn { slots: Vec<usize> },
    /// Too few idle threads and MaxRequestWorkers active threads: nothing to do (rule 15).
    AtMaxRequestWorkers,
    /// Too few idle threads, not at MaxRequestWorkers, no free slot (AH03490, rule 16).
    ScoreboardFull,
    /// Too few idle threads but MaxRequestWorkers/TPC children are already active.
    SpawnCancelled,
    /// A sick child and never a healthy one: shut the server down (AH02324).
    GiveUp,
}

/// One log line [`decide`] asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine {
    /// Apache's level for it.
    pub level: Level,
    /// The message, with its AH code when Apache has one.
    pub text: String,
}

/// The result of one pass.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// What to do.
    pub decision: Decision,
    /// Lines to log, in order.
    pub log: Vec<LogLine>,
    /// Idle threads counted (rule 19).
    pub idle_threads: usize,
    /// Active threads counted.
    pub active_threads: usize,
    /// Children running and not stopping.
    pub active_daemons: usize,
    /// Children in the scoreboard, stopping ones included.
    pub total_daemons: usize,
}

// ANCHOR: count_idle
/// Event's idle test (rule 19): worker's per-thread test ([`counts_as_idle`]: dead, starting
/// or ready) in a live process of the current generation that is neither stopping nor
/// refusing connections. A child that disabled its listeners cannot take new connections, so
/// its idle threads do not count and the parent tends to add a process.
pub fn thread_counts_as_idle(
    ps: &ProcessView,
    status: httpd_core::scoreboard::WorkerStatus,
    generation: u64,
) -> bool {
    counts_as_idle(status) && !ps.quiescing && !ps.not_accepting && ps.generation == generation
}
// ANCHOR_END: count_idle

// ANCHOR: decide
/// `perform_idle_server_maintenance` for the single bucket.
pub fn decide(
    view: &ScoreboardView,
    cfg: &EventConfig,
    retained: &Retained,
) -> (Outcome, Retained) {
    let mut r = retained.clone();
    let mut log = Vec::new();
    let mut idle = 0;
    let mut active_threads = 0;
    let mut free = Vec::new();
    let mut active_daemons = 0;
    let mut total_daemons = 0;
    let mut last_non_dead = None;
    let tpc = cfg.threads_per_child;

    // Scan every slot below ServerLimit; collect at most `rate` free ones.
    for (i, ps) in view.processes.iter().enumerate().take(cfg.server_limit) {
        if ps.pid == 0 {
            if free.len() < r.idle_spawn_rate.get() {
                free.push(i);
            }
            continue;
        }
        total_daemons += 1;
        // Apache flips `quiescing` 1 → 2 here to decrement its running `active_daemons`
        // counter once; we count from the snapshot every tick, so "not quiescing" is enough.
        if !ps.quiescing {
            active_daemons += 1;
        }
        let mut child_active = 0;
        for &status in ps.threads.iter().take(tpc) {
            if thread_counts_as_idle(ps, status, view.generation) {
                idle += 1;
            }
            if counts_as_active(status) {
                child_active += 1;
            }
        }
        active_threads += child_active;
        if child_active == tpc {
            r.had_healthy_child = true;
        }
        last_non_dead = Some(i);
    }
    if let Some(i) = last_non_dead {
        r.max_daemon_used = r.max_daemon_used.max(i + 1);
    }

    let out = |decision, log| Outcome {
        decision,
        log,
        idle_threads: idle,
        active_threads,
        active_daemons,
        total_daemons,
    };

    if r.sick_child_detected {
        if r.had_healthy_child {
            r.sick_child_detected = false;
        } else {
            log.push(LogLine {
                level: Level::Alert,
                text: "AH02324: A resource shortage or other unrecoverable failure was encountered before any child process initialized successfully... httpd is exiting!".into(),
            });
            return (out(Decision::GiveUp, log), r);
        }
    }

    let decision = if idle > cfg.max_spare_threads {
        // Rule 18: stopping children linger while they finish their connections; stopping
        // more while some are already stopping could fill the scoreboard, unless there is
        // room for a whole new set of active children beside them.
        let do_kill = active_daemons == total_daemons
            || cfg.server_limit.saturating_sub(total_daemons) > cfg.active_daemons_limit;
        r.idle_spawn_rate = r.idle_spawn_rate.reset();
        if do_kill {
            Decision::StopOne
        } else {
            Decision::WaitForStopping
        }
    } else if idle < cfg.min_spare_threads {
        if active_threads >= cfg.max_request_workers {
            // Rule 15: each message once per parent lifetime.
            if idle == 0 {
                if !r.maxclients_reported {
                    log.push(LogLine {
                        level: Level::Error,
                        text: "AH00484: server reached MaxRequestWorkers setting, consider raising the MaxRequestWorkers setting".into(),
                    });
                    r.maxclients_reported = true;
                }
            } else if !r.near_maxclients_reported {
                log.push(LogLine {
                    level: Level::Error,
                    text: "AH10159: server is within MinSpareThreads of MaxRequestWorkers, consider raising the MaxRequestWorkers setting".into(),
                });
                r.near_maxclients_reported = true;
            }
            r.idle_spawn_rate = r.idle_spawn_rate.reset();
            Decision::AtMaxRequestWorkers
        } else if free.is_empty() {
            // Rule 16: every tick (Apache's text lacks the space after the period).
            log.push(LogLine {
                level: Level::Error,
                text: "AH03490: scoreboard is full, not at MaxRequestWorkers.Increase ServerLimit."
                    .into(),
            });
            r.idle_spawn_rate = r.idle_spawn_rate.reset();
            Decision::ScoreboardFull
        } else {
            // `free` already holds at most `rate` slots. Rule 17: never more than
            // active_daemons_limit running children.
            let mut n = free.len();
            let mut cancelled = false;
            if n + active_daemons > cfg.active_daemons_limit {
                if active_daemons < cfg.active_daemons_limit {
                    n = cfg.active_daemons_limit - active_daemons;
                } else {
                    log.push(LogLine {
                        level: Level::Trace1,
                        text: format!(
                            "server is at active daemons limit, spawning of {n} children cancelled: active {active_daemons}/{}, total {total_daemons}/{}/{}, rate {}",
                            cfg.active_daemons_limit, r.max_daemon_used, cfg.server_limit, r.idle_spawn_rate.get()
                        ),
                    });
                    r.idle_spawn_rate = r.idle_spawn_rate.reset();
                    r.hold_off += 1;
                    n = 0;
                    cancelled = true;
                }
            }
            if r.idle_spawn_rate.get() >= 8 {
                log.push(LogLine {
                    level: Level::Info,
                    text: format!(
                        "AH00486: server seems busy, (you may need to increase StartServers, ThreadsPerChild or Min/MaxSpareThreads), spawning {n} children, there are around {idle} idle threads, {active_daemons} active children, and {total_daemons} children that are shutting down"
                    ),
                });
            }
            free.truncate(n);
            if let Some(&last) = free.last() {
                r.max_daemon_used = r.max_daemon_used.max(last + 1);
            }
            // Double the rate next time, unless we are in the hold-off after a graceful
            // restart (or after a cancelled spawn, which incremented it just above).
            if r.hold_off > 0 {
                r.hold_off -= 1;
            } else {
                r.idle_spawn_rate = r.idle_spawn_rate.doubled(MAX_SPAWN_RATE);
            }
            if cancelled {
                Decision::SpawnCancelled
            } else {
                Decision::Spawn { slots: free }
            }
        }
    } else {
        r.idle_spawn_rate = r.idle_spawn_rate.reset();
        Decision::Nothing
    };
    (out(decision, log), r)
}
// ANCHOR_END: decide
