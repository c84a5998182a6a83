//! A snapshot of the scoreboard as the parent's maintenance reads it, and the per-thread
//! classifications worker and event share.
//!
//! Source: the slot loops at the top of `worker.c` / `event.c:
//! perform_idle_server_maintenance`; spec apache-mpm-rules.md §3.2, §3.3, rule 11.
//!
//! Maintenance is a pure function of this snapshot (STYLE.md "Decide, then act"): the real
//! parent fills it from shared memory with [`ScoreboardView::read`], the simulator and the
//! property tests build it by hand. Apache compares status *numbers* (`status <=
//! SERVER_READY`); we name each test ([`counts_as_idle`], [`counts_as_active`]) so the hidden
//! ordering becomes visible.

use crate::scoreboard::{Scoreboard, WorkerStatus};

/// One process slot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessView {
    /// 0 when no process occupies the slot.
    pub pid: i32,
    /// The generation the process was started in.
    pub generation: u64,
    /// The process is stopping (its listener has exited; `ps->quiescing`).
    pub quiescing: bool,
    /// event only: the process disabled its listeners (`ps->not_accepting`).
    pub not_accepting: bool,
    /// Status of its first ThreadsPerChild worker slots.
    pub threads: Vec<WorkerStatus>,
}

impl ProcessView {
    /// An empty slot with `tpc` dead threads.
    pub fn empty(tpc: usize) -> ProcessView {
        ProcessView {
            pid: 0,
            generation: 0,
            quiescing: false,
            not_accepting: false,
            threads: vec![WorkerStatus::Dead; tpc],
        }
    }

    /// True if a process occupies the slot.
    pub fn is_live(&self) -> bool {
        self.pid != 0
    }
}

/// What maintenance sees: the running generation and the first `slots` process slots.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScoreboardView {
    /// `ap_scoreboard_image->global->running_generation` (= the parent's `my_generation`).
    pub generation: u64,
    /// Process slots 0 … n−1 (worker: n = daemons_limit; event: n = ServerLimit).
    pub processes: Vec<ProcessView>,
}

impl ScoreboardView {
    /// Read `slots` process slots with `tpc` threads each from shared memory. Reads are not
    /// atomic as a whole, exactly like Apache's: a child may change a status while we scan,
    /// and the next tick sees the new value.
    pub fn read(sb: &Scoreboard, slots: usize, tpc: usize, generation: u64) -> ScoreboardView {
        let processes = (0..slots.min(sb.server_limit()))
            .map(|slot| {
                let ps = sb.process(slot);
                ProcessView {
                    pid: ps.pid(),
                    generation: u64::from(ps.generation()),
                    quiescing: ps.quiescing() != 0,
                    not_accepting: ps.not_accepting() != 0,
                    threads: (0..tpc.min(sb.thread_limit()))
                        .map(|t| sb.worker(slot, t).status())
                        .collect(),
                }
            })
            .collect();
        ScoreboardView {
            generation,
            processes,
        }
    }
}

// ANCHOR: count_idle
/// A thread slot that maintenance counts as idle when its process is live, not quiescing and
/// of the current generation: dead, starting or ready. A *starting* thread counts as idle on
/// purpose — it was started at least a tick ago, and forking more for it would swamp the
/// machine (`worker.c` comment on `SERVER_STARTING`). Dead counts too, because Apache tests
/// `status <= SERVER_READY`.
pub fn counts_as_idle(s: WorkerStatus) -> bool {
    matches!(
        s,
        WorkerStatus::Dead | WorkerStatus::Starting | WorkerStatus::Ready
    )
}
// ANCHOR_END: count_idle

/// A thread slot that counts towards "active threads" (compared with MaxRequestWorkers):
/// ready or busy, i.e. `SERVER_READY <= status < SERVER_GRACEFUL`.
pub fn counts_as_active(s: WorkerStatus) -> bool {
    matches!(
        s,
        WorkerStatus::Ready
            | WorkerStatus::BusyRead
            | WorkerStatus::BusyWrite
            | WorkerStatus::BusyKeepalive
            | WorkerStatus::BusyLog
            | WorkerStatus::BusyDns
            | WorkerStatus::Closing
    )
}

/// A thread slot a new child may take over: dead or gracefully finishing
/// (`worker.c: start_threads` and maintenance's `all_dead_threads`).
pub fn is_free_thread(s: WorkerStatus) -> bool {
    matches!(s, WorkerStatus::Dead | WorkerStatus::Graceful)
}

/// The spawn rate of one listener bucket: 1, doubling after each pass that spawned, up to
/// ceil(32/nb), back to 1 when a pass neither needed nor failed to spawn (rules 9, 11, 13).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SpawnRate {
    rate: usize,
}

impl Default for SpawnRate {
    fn default() -> Self {
        SpawnRate { rate: 1 }
    }
}

impl SpawnRate {
    /// The current rate (children this bucket may fork in one pass).
    pub fn get(self) -> usize {
        self.rate
    }

    /// Back to 1.
    pub fn reset(self) -> SpawnRate {
        SpawnRate { rate: 1 }
    }

    /// Double, capped at `max` (`max_spawn_rate_per_bucket`).
    pub fn doubled(self, max: usize) -> SpawnRate {
        SpawnRate {
            rate: (self.rate * 2).min(max.max(1)),
        }
    }

    /// A rate of `n` (tests and the simulator).
    pub fn of(n: usize) -> SpawnRate {
        SpawnRate { rate: n.max(1) }
    }
}
