//! A worker thread: take a socket, serve the whole connection, repeat.
//!
//! Source: Apache `server/mpm/worker/worker.c: worker_thread, process_socket`; spec
//! apache-mpm-rules.md §4.2, §6.5, §6.6, rules 54, 70.
//!
//! # One iteration
//! 1. Unless already announced, tell queue_info this worker is idle and show `_` in its slot.
//!    (Once per connection, not once per wake-up: see `FdQueue::pop`.)
//! 2. Pop a socket (blocks). `Interrupted` → look at the stop flags and pop again;
//!    `Terminated` → the listener is gone and the queue is empty: leave.
//! 3. Serve every request of the connection with `httpd_core::http::serve_connection`, which
//!    keeps the slot's status (R/W/K/L/C) and closes after the current request once the child
//!    is stopping (rule 70). The socket is registered in `BusySockets` so an ungraceful stop
//!    can shut it down. A panic is caught here, logged, and the thread goes on.
//! 4. Count the connection against MaxConnectionsPerChild (after it ends, rule 54).
//!
//! On exit the slot shows DEAD if the child is dying (ungraceful), else GRACEFUL, as Apache.

use std::sync::atomic::Ordering;

use httpd_core::fdqueue::PopError;
use httpd_core::http::{ConnCtx, serve_connection};
use httpd_core::scoreboard::WorkerStatus;

use crate::child::{Shared, catch_connection_panic};

/// `worker_thread` for worker slot `i` of this child.
pub(crate) fn worker_thread(shared: &Shared, i: usize) {
    let ws = shared.sb.worker(shared.slot, i);
    ws.set_identity(
        std::process::id() as i32,
        nix::unistd::gettid().as_raw(),
        shared.generation as _,
    );
    // Stopping (rule 70): a stop this child has read from the pipe of death, or a restart the
    // parent has already published in the scoreboard while that byte is still on its way
    // (prefork's children check the generation the same way).
    let stopping = || {
        shared.ctl.stopping()
            || u64::from(shared.sb.global().running_generation()) != shared.generation
    };
    let mut is_idle = false;
    loop {
        if shared.ctl.workers_may_exit() {
            break;
        }
        // Step 1.
        if !is_idle {
            ws.set_status(WorkerStatus::Ready);
            shared.queue_info.set_idle();
            is_idle = true;
        }
        // Step 2.
        let (stream, peer) = match shared.queue.pop() {
            Ok(item) => item,
            Err(PopError::Interrupted) => continue,
            Err(PopError::Terminated) => break,
        };
        is_idle = false;
        if shared.ctl.workers_may_exit() {
            // Ungraceful stop: queued sockets are closed unserved.
            break;
        }
        // Step 3.
        shared.busy.set(i, &stream);
        let ctx = ConnCtx {
            server: &shared.server,
            slot: Some(ws),
            stopping: &stopping,
        };
        catch_connection_panic(&shared.log, peer, || serve_connection(stream, peer, &ctx));
        shared.busy.clear(i);
        // Step 4.
        shared.conns_left.fetch_sub(1, Ordering::SeqCst);
    }
    ws.set_status(if shared.ctl.workers_may_exit() {
        WorkerStatus::Dead
    } else {
        WorkerStatus::Graceful
    });
}
