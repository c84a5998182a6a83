//! A worker thread of an event child: take a connection from the listener, run requests on
//! it until it would have to wait, give it back.
//!
//! Source: Apache `event.c: worker_thread`, `process_socket`,
//! `worker_thread_should_exit_early`. Spec: apache-mpm-rules.md §4.3, §5.1; rules 31, 43.
//!
//! # One connection (numbered; continues the hand-off steps of [`crate::handoff`])
//!
//! 1. Become idle once (hand-off step 1); status `_` (or `G` if the child is stopping).
//! 2. Pop a connection (hand-off step 3) and register its socket so an ungraceful stop can
//!    shut it down.
//! 3. `Connection::process` with `WriteMode::Async` reads the request (a partial request holds
//!    this worker, as in Apache 2.4), runs it, writes what fits without blocking.
//! 4. `KeepAlive` with pipelined input already buffered → process again at once; otherwise
//!    become idle (step 1 of the next round) and give it back (hand-off step 4): `KeepAlive` →
//!    keep-alive queue, `WriteCompletion` → write-completion queue, `Linger` → lingering close,
//!    all in the listener.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use httpd_core::fdqueue::PopError;
use httpd_core::http::{ConnCtx, ConnState, HttpServer, WriteMode};
use httpd_core::scoreboard::WorkerStatus;
use httpd_core::threaded::BusySockets;

use crate::handoff::Next;
use crate::listener::{ChildShared, Task};

/// What every worker of a child shares beyond [`ChildShared`].
pub struct WorkerShared {
    /// The child's HTTP server (config, logs, handlers).
    pub server: HttpServer,
    /// Sockets being served now, for an ungraceful stop.
    pub busy: BusySockets,
    /// `threads_shutdown`: workers that left early during a graceful stop.
    pub threads_shutdown: AtomicUsize,
}

/// The worker loop for thread `t` of the child.
pub fn run(t: usize, shared: Arc<ChildShared>, ws: Arc<WorkerShared>) {
    let sb = &shared.scoreboard;
    let slot = sb.worker(shared.slot, t);
    let generation = sb.process(shared.slot).generation();
    slot.set_identity(
        nix::unistd::getpid().as_raw(),
        nix::unistd::gettid().as_raw(),
        generation,
    );
    // True once this worker has counted itself idle for its next pop: on the first pass, then
    // with every hand-back (`idle_then_give_back`). `pop` may return `Interrupted`, and a
    // worker must not count itself twice (see `FdQueue::pop`).
    let mut is_idle = false;
    loop {
        let dying = shared.handoff.is_dying();
        if shared.control.workers_may_exit() {
            break;
        }
        if dying && should_exit_early(&shared, &ws) {
            break;
        }
        // Step 1, the first time; afterwards step 4 counts this worker idle with the hand-back.
        if !is_idle {
            if shared.handoff.worker_idle() {
                shared.wake_listener();
            }
            is_idle = true;
        }
        slot.set_status(if dying {
            WorkerStatus::Graceful
        } else {
            WorkerStatus::Ready
        });
        // Step 2.
        let task = match shared.handoff.pop() {
            Ok(task) => task,
            Err(PopError::Interrupted) => continue,
            Err(PopError::Terminated) => break,
        };
        if shared.control.workers_may_exit() {
            drop(task); // ungraceful: close unserved
            break;
        }
        ws.busy.set(t, task.conn.stream());
        let Task { id, mut conn } = task;
        let stopping = || shared.control.stopping();
        let ctx = ConnCtx {
            server: &ws.server,
            slot: Some(slot),
            stopping: &stopping,
        };
        // Steps 3 and 4.
        let next = loop {
            match conn.process(&ctx, WriteMode::Async) {
                ConnState::KeepAlive if conn.has_pending_input() && !shared.control.stopping() => {
                    continue;
                }
                ConnState::KeepAlive => break Next::KeepAlive,
                ConnState::WriteCompletion => break Next::WriteCompletion,
                ConnState::Linger => break Next::Linger,
            }
        };
        ws.busy.clear(t);
        // Idle before the hand-back: the client's next request may reach the listener at once.
        if shared.handoff.idle_then_give_back(Task { id, conn }, next) {
            shared.wake_listener();
        }
        is_idle = true;
    }
    // A stopping child's slots stay `G` until the process is reaped (rule 43); a worker of a
    // running child that leaves (ungraceful) is dead.
    slot.set_status(if shared.handoff.is_dying() {
        WorkerStatus::Graceful
    } else {
        WorkerStatus::Dead
    });
}

/// `worker_thread_should_exit_early`: during a graceful stop, a worker leaves when the open
/// connections could be served by the workers that remain.
fn should_exit_early(shared: &ChildShared, ws: &WorkerShared) -> bool {
    loop {
        let conns = shared.handoff.connections();
        let dead = ws.threads_shutdown.load(Ordering::SeqCst);
        if conns >= shared.threads_per_child.saturating_sub(dead) {
            return false;
        }
        if ws
            .threads_shutdown
            .compare_exchange(dead, dead + 1, Ordering::SeqCst, Ordering::SeqCst)
            .is_ok()
        {
            return true;
        }
    }
}
