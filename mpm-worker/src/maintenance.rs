//! Idle-thread maintenance, as a pure decision.
//!
//! Source: Apache `server/mpm/worker/worker.c: perform_idle_server_maintenance` (one call per
//! listener bucket per quiet tick); spec apache-mpm-rules.md §3.2, rules 9, 11–14, 28.
//!
//! Apache reads the scoreboard, decides and forks in one function. Here [`decide`] only reads a
//! [`ScoreboardView`] and returns a [`Tick`] (what to do and what to log); the executor in
//! `parent.rs` acts on it, and `sim.rs` and the property tests call the very same function.
//!
//! # The decision (per bucket b of nb; thresholds divided by nb with integer division)
//! 1. Scan slots `i < daemons_limit` with `i % nb == b`. A thread is *idle* if its process is
//!    live, not quiescing, of the current generation and the thread is dead, starting or ready
//!    ([`counts_as_idle`]); *active* if ready or busy in any live process ([`counts_as_active`]).
//!    A slot is a spawn *candidate* if it has a dead thread and no process or a quiescing one;
//!    slots whose threads are all dead/graceful ("totally free") go first. At most `rate`
//!    totally-free slots and `ceil(32/nb)` candidates are collected.
//! 2. idle > MaxSpareThreads/nb → [`Decision::StopOne`] (one GRACEFUL byte on the bucket's POD;
//!    which child reads it is up to the children), rate = 1 (rule 12).
//! 3. idle < MinSpareThreads/nb:
//!    * no candidate → [`Decision::NoRoom`]: if active ≥ max_workers/nb, AH00286 (idle = 0) or
//!      AH00287 (idle > 0), each once per parent lifetime; else AH00288 every tick (rules 14,
//!      28). rate = 1.
//!    * else [`Decision::Spawn`] into min(candidates, rate) slots, AH00289 at info when
//!      rate ≥ 8 (rule 13), then the rate doubles up to ceil(32/nb) unless a graceful restart's
//!      hold-off counter is still running (it is decremented instead).
//! 4. Otherwise rate = 1 (rule 9).

use httpd_core::log::Level;
use httpd_core::scoreboard::WorkerStatus;
use httpd_core::threaded::view::{ScoreboardView, SpawnRate, counts_as_active, counts_as_idle};

use crate::config::WorkerConfig;

/// What the parent keeps across ticks and restarts (Apache's `worker_retained_data` fields
/// that maintenance touches).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Retained {
    /// Per bucket: children to fork at the next spawning pass (`idle_spawn_rate[]`).
    pub idle_spawn_rate: Vec<SpawnRate>,
    /// Passes left after a graceful restart during which the rate does not double.
    pub hold_off_on_exponential_spawning: u32,
    /// AH00286 was logged (once per parent lifetime, kept across restarts).
    pub maxclients_reported: bool,
    /// AH00287 was logged (once per parent lifetime, kept across restarts).
    pub near_maxclients_reported: bool,
    /// One past the highest slot holding a process at the last pass (scan short-cut).
    pub max_daemons_limit: usize,
    /// A child exited with APEXIT_CHILDSICK since the last pass.
    pub sick_child_detected: bool,
    /// Some child once had all its threads active (then a sick child is not fatal).
    pub had_healthy_child: bool,
}

impl Retained {
    /// Fresh state for a parent with `num_buckets` listener buckets.
    pub fn new(num_buckets: usize) -> Retained {
        Retained {
            idle_spawn_rate: vec![SpawnRate::default(); num_buckets.max(1)],
            hold_off_on_exponential_spawning: 0,
            maxclients_reported: false,
            near_maxclients_reported: false,
            max_daemons_limit: 0,
            sick_child_detected: false,
            had_healthy_child: false,
        }
    }
}

/// What one maintenance pass for one bucket decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Too few idle threads is not the problem and neither is too many.
    Nothing,
    /// Too many idle threads: write one GRACEFUL byte to this bucket's pipe of death.
    StopOne,
    /// Too few idle threads: fork one child into each of these slots, in order.
    Spawn {
        /// Scoreboard process slots.
        slots: Vec<usize>,
    },
    /// Too few idle threads and no slot to fork into.
    NoRoom,
    /// A child was sick before any child ever started all its threads: stop the server
    /// (AH02325, the parent exits with the fatal status).
    GiveUp,
    /// A sick child was seen and this is not the last bucket: wait for the last bucket's pass
    /// (Apache returns early for it).
    Skip,
}

/// One line to write to the error log (module `mpm_worker`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    /// Level to log at.
    pub level: Level,
    /// The message, AH code first.
    pub text: String,
}

/// The result of [`decide`]: the decision, what to log, and the counts it was based on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tick {
    /// What to do.
    pub decision: Decision,
    /// Lines to log, in order.
    pub notes: Vec<Note>,
    /// Idle threads counted in this bucket.
    pub idle_threads: usize,
    /// Active threads counted in this bucket.
    pub active_threads: usize,
    /// Apache's `total_non_dead`: slots without a GRACEFUL thread, scanned ones only (it also
    /// counts empty slots, hence the over-report in AH00289, §3.2).
    pub total_non_dead: usize,
}

// ANCHOR: decide
/// One maintenance pass for `bucket` (see the module doc for the numbered steps).
pub fn decide(
    view: &ScoreboardView,
    cfg: &WorkerConfig,
    retained: &Retained,
    bucket: usize,
) -> (Tick, Retained) {
    // ASSIGNMENT(worker-maintenance): begin
    // HINT(worker-maintenance): Per bucket: slots i with i % nb == bucket; thresholds are MinSpareThreads/nb and MaxSpareThreads/nb.
    // HINT(worker-maintenance): Idle threads count only in live, non-quiescing processes of the current generation (`counts_as_idle`).
    // HINT(worker-maintenance): Candidates: a slot with a dead thread and no process (or a quiescing one); totally free slots first.
    // HINT(worker-maintenance): No candidate: AH00286/AH00287 once per parent lifetime when active >= max_workers/nb, else AH00288 every pass.
    let nb = cfg.num_buckets.max(1);
    let tpc = cfg.threads_per_child;
    let max_rate = cfg.max_spawn_rate_per_bucket();
    let mut next = retained.clone();
    if next.idle_spawn_rate.len() < nb {
        next.idle_spawn_rate.resize(nb, SpawnRate::default());
    }
    let rate = next.idle_spawn_rate[bucket];

    // Step 1: scan.
    let mut idle = 0usize;
    let mut active = 0usize;
    let mut total_non_dead = 0usize;
    let mut last_non_dead: Option<usize> = None;
    let mut candidates: Vec<usize> = Vec::new();
    let mut totally_free = 0usize;
    let empty = httpd_core::threaded::view::ProcessView::empty(tpc);
    for i in 0..cfg.daemons_limit {
        if nb > 1 && i % nb != bucket {
            continue;
        }
        if i >= retained.max_daemons_limit && totally_free == rate.get() {
            // Every slot that ever held a process was seen, and enough empty ones found.
            break;
        }
        let ps = view.processes.get(i).unwrap_or(&empty);
        let mut any_dying = false;
        let mut any_dead = false;
        let mut all_dead = true;
        let mut child_active = 0usize;
        for j in 0..tpc {
            let status = ps.threads.get(j).copied().unwrap_or(WorkerStatus::Dead);
            any_dying |= status == WorkerStatus::Graceful;
            any_dead |= status == WorkerStatus::Dead;
            all_dead &= httpd_core::threaded::view::is_free_thread(status);
            if ps.is_live() {
                if counts_as_idle(status) && !ps.quiescing && ps.generation == view.generation {
                    idle += 1;
                }
                if counts_as_active(status) {
                    child_active += 1;
                }
            }
        }
        active += child_active;
        if any_dead
            && totally_free < rate.get()
            && candidates.len() < max_rate
            && (!ps.is_live() || ps.quiescing)
        {
            candidates.push(i);
            if all_dead {
                // Totally free slots go to the front: a new child there starts all its
                // threads at once instead of waiting for the old ones to leave.
                let last = candidates.len() - 1;
                candidates.swap(totally_free, last);
                totally_free += 1;
            }
        } else if child_active == tpc {
            next.had_healthy_child = true;
        }
        if !any_dying {
            total_non_dead += 1;
        }
        if ps.is_live() {
            last_non_dead = Some(i);
        }
    }
    next.max_daemons_limit = last_non_dead.map_or(0, |i| i + 1);

    let mut tick = Tick {
        decision: Decision::Nothing,
        notes: Vec::new(),
        idle_threads: idle,
        active_threads: active,
        total_non_dead,
    };

    if next.sick_child_detected {
        if next.had_healthy_child {
            // Probably transient: keep serving.
            next.sick_child_detected = false;
        } else if bucket < nb - 1 {
            tick.decision = Decision::Skip;
            return (tick, next);
        } else {
            tick.decision = Decision::GiveUp;
            tick.notes.push(Note {
                level: Level::Alert,
                text: "AH02325: A resource shortage or other unrecoverable failure was encountered before any child process initialized successfully... httpd is exiting!".into(),
            });
            return (tick, next);
        }
    }

    if idle > cfg.max_spare_threads / nb {
        // Step 2.
        tick.decision = Decision::StopOne;
        next.idle_spawn_rate[bucket] = rate.reset();
    } else if idle < cfg.min_spare_threads / nb {
        if candidates.is_empty() {
            // Step 3, no room. `max_workers` is Apache's unlowered value (rule 28).
            tick.decision = Decision::NoRoom;
            if active >= cfg.max_workers / nb {
                if idle == 0 {
                    if !next.maxclients_reported {
                        tick.notes.push(Note {
                            level: Level::Error,
                            text: "AH00286: server reached MaxRequestWorkers setting, consider raising the MaxRequestWorkers setting".into(),
                        });
                        next.maxclients_reported = true;
                    }
                } else if !next.near_maxclients_reported {
                    tick.notes.push(Note {
                        level: Level::Error,
                        text: "AH00287: server is within MinSpareThreads of MaxRequestWorkers, consider raising the MaxRequestWorkers setting".into(),
                    });
                    next.near_maxclients_reported = true;
                }
            } else {
                tick.notes.push(Note {
                    level: Level::Error,
                    text: "AH00288: scoreboard is full, not at MaxRequestWorkers".into(),
                });
            }
            next.idle_spawn_rate[bucket] = rate.reset();
        } else {
            // Step 3, spawn.
            candidates.truncate(rate.get());
            if rate.get() >= 8 {
                tick.notes.push(Note {
                    level: Level::Info,
                    text: format!(
                        "AH00289: server seems busy, (you may need to increase StartServers, ThreadsPerChild or Min/MaxSpareThreads), spawning {} children, there are around {} idle threads, and {} total children",
                        candidates.len(),
                        idle,
                        total_non_dead
                    ),
                });
            }
            tick.decision = Decision::Spawn { slots: candidates };
            if next.hold_off_on_exponential_spawning > 0 {
                next.hold_off_on_exponential_spawning -= 1;
            } else {
                next.idle_spawn_rate[bucket] = rate.doubled(max_rate);
            }
        }
    } else {
        // Step 4.
        next.idle_spawn_rate[bucket] = rate.reset();
    }
    (tick, next)
    // ASSIGNMENT(worker-maintenance): end
}
// ANCHOR_END: decide

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::check_config;
    use httpd_core::config::MpmDirectives;
    use httpd_core::threaded::view::ProcessView;

    fn cfg(min: i64, max: i64, tpc: i64, mrw: i64) -> WorkerConfig {
        let raw = MpmDirectives {
            min_spare_threads: Some(min),
            max_spare_threads: Some(max),
            threads_per_child: Some(tpc),
            max_request_workers: Some(mrw),
            ..MpmDirectives::default()
        };
        check_config(&raw, None, 1).0
    }

    fn child(pid: i32, st: &[WorkerStatus]) -> ProcessView {
        ProcessView {
            pid,
            generation: 0,
            quiescing: false,
            not_accepting: false,
            threads: st.to_vec(),
        }
    }

    fn view(c: &WorkerConfig, children: &[(usize, WorkerStatus)]) -> ScoreboardView {
        let mut processes = vec![ProcessView::empty(c.threads_per_child); c.daemons_limit];
        for (slot, (busy, rest)) in children.iter().enumerate() {
            let mut t = vec![WorkerStatus::BusyRead; *busy];
            t.resize(c.threads_per_child, *rest);
            processes[slot] = child(100 + slot as i32, &t);
        }
        ScoreboardView {
            generation: 0,
            processes,
        }
    }

    #[test]
    fn spawns_one_then_doubles() {
        let c = cfg(25, 75, 25, 150);
        let v = view(&c, &[(25, WorkerStatus::Ready), (25, WorkerStatus::Ready)]);
        let (t, r) = decide(&v, &c, &Retained::new(1), 0);
        assert_eq!(t.decision, Decision::Spawn { slots: vec![2] });
        assert_eq!(r.idle_spawn_rate[0].get(), 2);
    }

    #[test]
    fn too_many_idle_stops_one_and_resets_rate() {
        let c = cfg(25, 75, 25, 150);
        let v = view(&c, &[(0, WorkerStatus::Ready); 4]);
        let mut r = Retained::new(1);
        r.idle_spawn_rate[0] = SpawnRate::of(8);
        let (t, r) = decide(&v, &c, &r, 0);
        assert_eq!(t.decision, Decision::StopOne);
        assert_eq!(r.idle_spawn_rate[0].get(), 1);
    }

    #[test]
    fn full_at_max_workers_logs_ah00286_once() {
        let c = cfg(25, 75, 25, 50);
        let v = view(&c, &[(25, WorkerStatus::Ready), (25, WorkerStatus::Ready)]);
        let (t, r) = decide(&v, &c, &Retained::new(1), 0);
        assert_eq!(t.decision, Decision::NoRoom);
        assert!(t.notes[0].text.starts_with("AH00286"));
        let (t2, _) = decide(&v, &c, &r, 0);
        assert!(t2.notes.is_empty());
    }
}
