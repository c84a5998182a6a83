//! What the worker and event MPMs share: the threaded child's control flow and the parent's
//! view of threads.
//!
//! Source: the parts of `server/mpm/worker/worker.c` and `server/mpm/event/event.c` that are
//! the same in both (`child_main`, `signal_threads`, `close_worker_sockets`, the slot loop of
//! `perform_idle_server_maintenance`); spec apache-mpm-rules.md §3.2, §4.2.
//!
//! ```text
//! threaded child process (one per process slot)
//! ├── main thread ── child::wait_for_stop(POD, signalfd) ── then signal threads, join, exit
//! ├── listener thread ── fdqueue::QueueInfo::wait_for_idler → accept → FdQueue::push
//! └── ThreadsPerChild worker threads ── set_idle → FdQueue::pop → serve → repeat
//! ```
//!
//! | module | Apache | what |
//! |---|---|---|
//! | [`child`] | `child_main`, `signal_threads`, `close_worker_sockets` | stop flags ([`ChildControl`]), the main thread on the POD ([`wait_for_stop`]), busy-socket registry |
//! | [`check`] | `worker_check_config`, `event_check_config` steps 1–7 | the clamping both MPMs share, with a table of each MPM's AH codes |
//! | [`view`] | slot loop of `perform_idle_server_maintenance` | [`ScoreboardView`] snapshot, idle/active classification, [`SpawnRate`] doubling |
//! | [`crate::fdqueue`] | `mpm_fdqueue.c` | queue_info and the fd queue |
//!
//! API for the MPMs (stable; additions only):
//! * `ChildSignals::block()` in the child's main thread before any other thread exists;
//! * `ChildControl` shared by `Arc`: `request_stop(mode)` (listener, MaxConnectionsPerChild),
//!   `stopping()` (for `ConnCtx::stopping`), `listener_may_exit()`, `workers_may_exit()`;
//! * `wait_for_stop(pod_fd, try_read, &signals, &ctl) -> WakeReason` in the main thread;
//! * `BusySockets::{set, clear, shutdown_all}` for ungraceful stops;
//! * `ScoreboardView::read(sb, slots, tpc, generation)`, `counts_as_idle`, `counts_as_active`,
//!   `is_free_thread`, `SpawnRate::{get, reset, doubled}` for the parent's maintenance.
//!
//! What this module does not do: decide anything. How many children, which to stop, and how
//! event parks connections stay in the MPM crates.

pub mod check;
pub mod child;
pub mod kills;
pub mod view;

pub use child::{BusySockets, ChildControl, ChildSignals, StopMode, WakeReason, wait_for_stop};
pub use kills::{KillVerdict, SuccessiveKills};
pub use view::{ProcessView, ScoreboardView, SpawnRate};
