//! Idle-server maintenance: how many children prefork keeps, decided once per quiet second.
//!
//! Source: `prefork.c: perform_idle_server_maintenance` (apache-mpm-rules.md §3.1; rules 3–6, 8,
//! 9). Apache reads the scoreboard, decides and forks in one function; here [`decide`] is pure —
//! scoreboard snapshot, configuration and retained state in, a [`Decision`] and the new retained
//! state out — and `parent.rs` carries the decision out (fork, pipe of death, log). The simulator
//! (`sim.rs`) and the property tests call the very same function on a virtual clock.
//!
//! The pass, in order:
//! 1. Scan slots `0..MaxRequestWorkers`: a `Dead` slot is free (the lowest `rate` free slots are
//!    kept); any other slot counts towards the total, and towards *idle* if it
//!    [`counts_as_idle`] (Starting or Ready: a child still starting was forked a second ago, so
//!    counting it as busy would fork more and "swamp things worse").
//! 2. idle > MaxSpareServers → stop **one** child through the pipe of death; rate back to 1.
//! 3. idle < MinSpareServers and no free slot → AH00161 (once per parent lifetime); rate 1.
//! 4. idle < MinSpareServers → fork one child per kept free slot (the whole batch, even when fewer
//!    would do: rule 4), AH00162 when rate ≥ 8, then double the rate up to 32 unless a
//!    post-graceful hold-off is still counting down.
//! 5. otherwise → rate back to 1 (rule 9).

use std::time::Duration;

use httpd_core::scoreboard::{Scoreboard, WorkerStatus};

use crate::config::{MAX_SPAWN_RATE, PreforkConfig};

/// What the pass sees of the scoreboard: the status of each process slot (prefork has one worker
/// per process), for slots `0..MaxRequestWorkers`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScoreboardView {
    /// `slots[i]` = status of slot i's only worker.
    pub slots: Vec<WorkerStatus>,
}

impl ScoreboardView {
    /// Snapshot the first `limit` slots of the shared scoreboard (torn reads between slots are
    /// fine: Apache reads it unlocked too, and the next pass corrects any miscount).
    pub fn from_scoreboard(sb: &Scoreboard, limit: usize) -> Self {
        let limit = limit.min(sb.server_limit());
        ScoreboardView {
            slots: (0..limit).map(|i| sb.worker(i, 0).status()).collect(),
        }
    }
}

/// State kept across passes and across restarts (Apache's `retained` data for the parent).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Retained {
    /// Children to fork on the next spawning pass: 1, 2, 4, … up to [`MAX_SPAWN_RATE`].
    pub idle_spawn_rate: usize,
    /// Spawning passes left during which the rate must not double (10 after a graceful restart,
    /// §3.5).
    pub hold_off_on_exponential_spawning: u32,
    /// AH00161 was logged; never again for this parent, even across restarts (rule 8).
    pub maxclients_reported: bool,
    /// One past the highest slot seen in use (Apache's `max_daemons_limit`): the pipe-of-death
    /// "kill the idle ones" step only looks this far.
    pub max_daemons_limit: usize,
    /// The bucket that received the last POD signal (round robin over buckets).
    pub bucket_kill_child_record: usize,
    /// Time of the last pass (virtual in the simulator); only for observation.
    pub last_pass: Option<Duration>,
}

impl Default for Retained {
    fn default() -> Self {
        Retained {
            idle_spawn_rate: 1,
            hold_off_on_exponential_spawning: 0,
            maxclients_reported: false,
            max_daemons_limit: 0,
            bucket_kill_child_record: 0,
            last_pass: None,
        }
    }
}

/// AH00162's numbers: note that `rate` is the spawn rate, not how many children are forked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerSeemsBusy {
    /// The spawn rate of this pass.
    pub rate: usize,
    /// Idle children counted.
    pub idle: usize,
    /// Non-dead slots counted.
    pub total: usize,
}

impl ServerSeemsBusy {
    /// The log message, AH code included, exactly as Apache words it.
    pub fn message(&self) -> String {
        format!(
            "AH00162: server seems busy, (you may need to increase StartServers, or Min/MaxSpareServers), spawning {} children, there are {} idle, and {} total children",
            self.rate, self.idle, self.total
        )
    }
}

/// The text of AH00161.
pub const AH00161: &str = "AH00161: server reached MaxRequestWorkers setting, consider raising the MaxRequestWorkers setting";

/// What one maintenance pass wants done.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Too many idle children: write the pipe of death of `bucket` once (one child exits).
    StopOne {
        /// Listener bucket whose pipe gets the byte.
        bucket: usize,
    },
    /// Too few idle children: fork one child into each slot, lowest first.
    Spawn {
        /// The free slots to fill (at most the spawn rate).
        slots: Vec<usize>,
        /// `Some` when AH00162 must be logged (rate ≥ 8).
        busy: Option<ServerSeemsBusy>,
    },
    /// Too few idle children and no free slot below MaxRequestWorkers.
    ReachedMaxRequestWorkers {
        /// Log AH00161 now (first time for this parent).
        report: bool,
    },
    /// The number of idle children is within [MinSpareServers, MaxSpareServers].
    Nothing,
}

/// Whether a slot in this state counts as an idle child (Apache: `status <= SERVER_READY`).
/// Starting counts as idle on purpose (see the module doc, step 1).
// ANCHOR: count_idle
pub fn counts_as_idle(status: WorkerStatus) -> bool {
    // ASSIGNMENT(prefork-maintenance): begin
    // HINT(prefork-maintenance): Apache: `status <= SERVER_READY`. Which states are at or below Ready?
    matches!(status, WorkerStatus::Starting | WorkerStatus::Ready)
    // ASSIGNMENT(prefork-maintenance): end
}

/// The scan of step 1.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Counts {
    /// Slots whose child counts as idle.
    pub idle: usize,
    /// Slots that are not `Dead`.
    pub total: usize,
    /// The lowest free slots, at most `want` of them.
    pub free: Vec<usize>,
    /// One past the highest non-dead slot.
    pub last_non_dead: usize,
}

/// Scan slots `0..MaxRequestWorkers`, keeping at most `want` free slots.
pub fn count(view: &ScoreboardView, cfg: &PreforkConfig, want: usize) -> Counts {
    // ASSIGNMENT(prefork-maintenance): begin
    // HINT(prefork-maintenance): Scan `view.slots`, but only the first `cfg.max_request_workers` of them.
    // HINT(prefork-maintenance): Dead → a free slot (keep the lowest `want`); anything else → total, and idle if `counts_as_idle`.
    // HINT(prefork-maintenance): A view shorter than MaxRequestWorkers has free slots past its end.
    let mut c = Counts::default();
    for (i, &status) in view.slots.iter().enumerate().take(cfg.max_request_workers) {
        if status == WorkerStatus::Dead {
            if c.free.len() < want {
                c.free.push(i);
            }
        } else {
            c.total += 1;
            c.last_non_dead = i + 1;
            if counts_as_idle(status) {
                c.idle += 1;
            }
        }
    }
    // A view shorter than MaxRequestWorkers (never from the real scoreboard) has free slots past
    // its end.
    let mut i = view.slots.len();
    while c.free.len() < want && i < cfg.max_request_workers {
        c.free.push(i);
        i += 1;
    }
    c
    // ASSIGNMENT(prefork-maintenance): end
}
// ANCHOR_END: count_idle

/// One maintenance pass (steps 1–5 of the module doc). Pure: the caller carries out the decision
/// and keeps the returned [`Retained`] for the next pass.
// ANCHOR: decide
pub fn decide(
    view: &ScoreboardView,
    cfg: &PreforkConfig,
    retained: &Retained,
    now: Duration,
) -> (Decision, Retained) {
    // ASSIGNMENT(prefork-maintenance): begin
    // HINT(prefork-maintenance): Steps 2-5 of the module doc, in that order. Start from `let mut next = retained.clone();`.
    // HINT(prefork-maintenance): Too many idle: stop ONE child per pass (round robin over buckets), rate back to 1.
    // HINT(prefork-maintenance): Too few idle: fork into every kept free slot; AH00162 from rate 8; double the rate up to MAX_SPAWN_RATE unless the graceful hold-off is counting down.
    // HINT(prefork-maintenance): No free slot: AH00161 once per parent lifetime (`maxclients_reported`).
    let mut next = retained.clone();
    next.last_pass = Some(now);
    let rate = retained.idle_spawn_rate.clamp(1, MAX_SPAWN_RATE);
    let counts = count(view, cfg, rate);
    next.max_daemons_limit = counts.last_non_dead;

    let decision = if counts.idle > cfg.max_spare_servers {
        // Step 2: one child per pass, whichever of the bucket reads the byte first.
        next.bucket_kill_child_record =
            (retained.bucket_kill_child_record + 1) % cfg.num_buckets.max(1);
        next.idle_spawn_rate = 1;
        Decision::StopOne {
            bucket: next.bucket_kill_child_record,
        }
    } else if counts.idle < cfg.min_spare_servers {
        if counts.free.is_empty() {
            // Step 3.
            next.idle_spawn_rate = 1;
            next.maxclients_reported = true;
            Decision::ReachedMaxRequestWorkers {
                report: !retained.maxclients_reported,
            }
        } else {
            // Step 4.
            let busy = (rate >= 8).then_some(ServerSeemsBusy {
                rate,
                idle: counts.idle,
                total: counts.total,
            });
            // ANCHOR: spawn_rate
            // Next time twice as many if this was not enough, but not right after a graceful
            // restart: the old generation's exits would look like a shortage (§3.5).
            if next.hold_off_on_exponential_spawning > 0 {
                next.hold_off_on_exponential_spawning -= 1;
                next.idle_spawn_rate = rate;
            } else {
                next.idle_spawn_rate = (rate * 2).min(MAX_SPAWN_RATE);
            }
            // ANCHOR_END: spawn_rate
            Decision::Spawn {
                slots: counts.free,
                busy,
            }
        }
    } else {
        // Step 5 (rule 9).
        next.idle_spawn_rate = 1;
        Decision::Nothing
    };
    if let Decision::Spawn { slots, .. } = &decision {
        // Freshly forked children occupy their slots from now on.
        let highest = slots.iter().max().map_or(0, |s| s + 1);
        next.max_daemons_limit = next.max_daemons_limit.max(highest);
    }
    (decision, next)
    // ASSIGNMENT(prefork-maintenance): end
}
// ANCHOR_END: decide

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::check_config;
    use WorkerStatus::{BusyRead, BusyWrite, Dead, Ready, Starting};
    use httpd_core::config::MpmDirectives;

    fn cfg(min: i64, max: i64, limit: i64) -> PreforkConfig {
        check_config(
            &MpmDirectives {
                min_spare_servers: Some(min),
                max_spare_servers: Some(max),
                max_request_workers: Some(limit),
                ..MpmDirectives::default()
            },
            None,
        )
        .0
    }

    fn view(s: &str, len: usize) -> ScoreboardView {
        let mut slots: Vec<WorkerStatus> = s
            .chars()
            .map(|c| match c {
                '_' => Ready,
                'S' => Starting,
                'R' => BusyRead,
                'W' => BusyWrite,
                'G' => WorkerStatus::Graceful,
                _ => Dead,
            })
            .collect();
        slots.resize(len, Dead);
        ScoreboardView { slots }
    }

    #[test]
    fn starting_counts_as_idle_and_graceful_does_not() {
        assert!(counts_as_idle(Starting));
        assert!(counts_as_idle(Ready));
        assert!(!counts_as_idle(WorkerStatus::Graceful));
        assert!(!counts_as_idle(BusyWrite));
        assert!(!counts_as_idle(Dead));
        let c = count(&view("S_RG.W", 10), &cfg(5, 10, 10), 3);
        assert_eq!(
            (c.idle, c.total, c.free.clone(), c.last_non_dead),
            (2, 5, vec![4, 6, 7], 6)
        );
    }

    #[test]
    fn rule_03_spawn_rate_doubles_up_to_32_then_stays() {
        let c = cfg(5, 10, 150);
        let mut r = Retained::default();
        let mut sizes = Vec::new();
        for _ in 0..8 {
            let (d, next) = decide(&view("WWWWW", 150), &c, &r, Duration::ZERO);
            match d {
                Decision::Spawn { slots, .. } => sizes.push(slots.len()),
                other => panic!("expected spawn, got {other:?}"),
            }
            r = next;
        }
        assert_eq!(sizes, [1, 2, 4, 8, 16, 32, 32, 32]);
    }

    #[test]
    fn rule_04_the_whole_batch_is_forked_even_when_fewer_are_needed() {
        // 4 idle, MinSpare 5: one short, but rate 8 forks 8.
        let c = cfg(5, 100, 150);
        let r = Retained {
            idle_spawn_rate: 8,
            ..Retained::default()
        };
        let (d, _) = decide(&view("____WWW", 150), &c, &r, Duration::ZERO);
        assert_eq!(
            d,
            Decision::Spawn {
                slots: (7..15).collect(),
                busy: Some(ServerSeemsBusy {
                    rate: 8,
                    idle: 4,
                    total: 7
                })
            }
        );
    }

    #[test]
    fn rule_04_the_batch_is_limited_by_free_slots() {
        let c = cfg(5, 10, 10);
        let r = Retained {
            idle_spawn_rate: 32,
            ..Retained::default()
        };
        let (d, next) = decide(&view("WWWWWWWW", 10), &c, &r, Duration::ZERO);
        assert!(matches!(d, Decision::Spawn { ref slots, .. } if slots == &vec![8, 9]));
        assert_eq!(next.idle_spawn_rate, 32);
    }

    #[test]
    fn rule_05_ah00162_carries_the_rate_from_8_on() {
        let c = cfg(5, 10, 150);
        let r = Retained {
            idle_spawn_rate: 4,
            ..Retained::default()
        };
        let (d, r) = decide(&view("WWWW", 150), &c, &r, Duration::ZERO);
        assert!(matches!(d, Decision::Spawn { busy: None, .. }));
        let (d, _) = decide(&view("WWWWWWWWWWWW", 150), &c, &r, Duration::ZERO);
        let Decision::Spawn { busy: Some(b), .. } = d else {
            panic!("AH00162 expected")
        };
        assert_eq!(
            b.message(),
            "AH00162: server seems busy, (you may need to increase StartServers, or Min/MaxSpareServers), spawning 8 children, there are 0 idle, and 12 total children"
        );
    }

    #[test]
    fn rule_06_one_child_stopped_per_pass_and_rate_reset() {
        let c = cfg(5, 10, 150);
        let r = Retained {
            idle_spawn_rate: 16,
            ..Retained::default()
        };
        let (d, next) = decide(&view(&"_".repeat(20), 150), &c, &r, Duration::ZERO);
        assert_eq!(d, Decision::StopOne { bucket: 0 });
        assert_eq!(next.idle_spawn_rate, 1);
        // Exactly MaxSpare idle: nothing.
        let (d, _) = decide(&view(&"_".repeat(10), 150), &c, &r, Duration::ZERO);
        assert_eq!(d, Decision::Nothing);
    }

    #[test]
    fn rule_08_ah00161_is_reported_once_per_parent() {
        let c = cfg(5, 10, 4);
        let (d, r) = decide(
            &view("WWWW", 4),
            &c,
            &Retained {
                idle_spawn_rate: 8,
                ..Retained::default()
            },
            Duration::ZERO,
        );
        assert_eq!(d, Decision::ReachedMaxRequestWorkers { report: true });
        assert_eq!(r.idle_spawn_rate, 1);
        let (d, r) = decide(&view("WWWW", 4), &c, &r, Duration::ZERO);
        assert_eq!(d, Decision::ReachedMaxRequestWorkers { report: false });
        assert!(r.maxclients_reported);
    }

    #[test]
    fn rule_09_rate_resets_when_the_shortage_ends() {
        let c = cfg(5, 10, 150);
        let r = Retained {
            idle_spawn_rate: 16,
            ..Retained::default()
        };
        let (d, next) = decide(&view("_______", 150), &c, &r, Duration::from_secs(3));
        assert_eq!(d, Decision::Nothing);
        assert_eq!(next.idle_spawn_rate, 1);
        assert_eq!(next.last_pass, Some(Duration::from_secs(3)));
    }

    #[test]
    fn hold_off_after_graceful_keeps_the_rate() {
        let c = cfg(5, 10, 150);
        let mut r = Retained {
            hold_off_on_exponential_spawning: 10,
            ..Retained::default()
        };
        for _ in 0..10 {
            let (d, next) = decide(&view("W", 150), &c, &r, Duration::ZERO);
            assert!(matches!(d, Decision::Spawn { ref slots, .. } if slots.len() == 1));
            r = next;
        }
        assert_eq!(r.hold_off_on_exponential_spawning, 0);
        let (_, r) = decide(&view("W", 150), &c, &r, Duration::ZERO);
        assert_eq!(r.idle_spawn_rate, 2);
    }

    #[test]
    fn lowest_free_slots_are_used_first() {
        let c = cfg(5, 10, 150);
        let r = Retained {
            idle_spawn_rate: 4,
            ..Retained::default()
        };
        let (d, next) = decide(&view("W.W.W.W", 150), &c, &r, Duration::ZERO);
        assert!(matches!(d, Decision::Spawn { ref slots, .. } if slots == &vec![1, 3, 5, 7]));
        assert_eq!(next.max_daemons_limit, 8);
    }
}
