//! The listener ↔ worker hand-off of one event child: who holds a connection, and when.
//!
//! Source: Apache `event.c: push2worker`, `get_worker`, `process_socket` (the return path),
//! `connections_above_limit`, `disable_listensocks`/`enable_listensocks`, and
//! `server/mpm_fdqueue.c` (through httpd-core's [`fdqueue`](super::fdqueue)). Spec:
//! apache-mpm-rules.md §4.3, §5.1, §5.3, §5.4; rules 30, 31.
//!
//! # The protocol (numbered; the loom models in `conformance/tests/conformance/loom_event.rs`
//! # and the listener cite these steps)
//!
//! A connection always has exactly one holder: the listener thread (parked in its poll set or
//! a timeout queue) or one worker thread (reading a request, running the handler). Holding is
//! ownership of the value `C`, so "served by two threads" cannot compile; what remains to get
//! right is that no hand-over loses a connection or a wake-up.
//!
//! 1. **Worker idle.** A worker with nothing to do calls [`Handoff::worker_idle`] (queue_info
//!    `set_idle`). If the child's listening sockets are disabled, or connections wait for a
//!    worker (step 2), it must wake the listener (the return value says so), which re-checks
//!    the accept limit (step 6) and hands out the waiting connections.
//! 2. **Listener to worker.** The listener reserves an idle worker with
//!    [`QueueInfo::try_get_idler`] (never blocking: the listener also serves every parked
//!    connection) and passes the connection with [`Handoff::dispatch`]. A new connection that
//!    finds no idler stays in the kernel's backlog; a keep-alive connection whose next request
//!    arrives when no worker is idle waits in the listener's awaiting list, in arrival order,
//!    until a worker is idle (rule 31 as we deviate from it: Apache closes it). The listener
//!    publishes the list's length with [`Handoff::set_awaiting`] *before* it tries for an
//!    idler once more, and a worker reads it *after* its `set_idle`: so either the listener
//!    finds the new idler or the worker sees the list and wakes the listener.
//! 3. **Worker serves.** A worker pops it ([`FdQueue::pop`]) and runs the request(s).
//! 4. **Worker to listener.** The worker hands it back with [`Handoff::give_back`], saying what
//!    it needs next ([`Next`]); a worker that will pop again counts itself idle first
//!    ([`Handoff::idle_then_give_back`], so that step 2 finds it). The item is appended under the `back` mutex *before* the worker
//!    wakes the listener, and `give_back` returns true only when the list was empty, so one
//!    wake-up covers every item appended until the listener drains the list.
//! 5. **Listener takes back.** On a wake-up the listener **first** resets its wake-up signal
//!    (reads the eventfd), **then** drains the list with [`Handoff::take_back`]. In the other
//!    order, a `give_back` between the drain and the reset would have its wake-up consumed
//!    and its connection stranded until some unrelated event.
//! 6. **Accept limit.** Before accepting, the listener asks [`Handoff::accept_check`]. Above
//!    the limit it calls [`Handoff::disable_listeners`] (status "accepting: no"); at the end of
//!    each iteration [`Handoff::should_enable_listeners`] re-reads the idle count *after* the
//!    disable was published, so a worker going idle in between is seen either here or through
//!    step 1's wake-up — never by neither.
//! 7. **Counting.** [`Handoff::conn_opened`] on accept, [`Handoff::conn_closed`] on close,
//!    [`Handoff::linger_started`] when a connection enters lingering close: the counts C and L
//!    of the accept-limit formula.

use super::fdqueue::{FdQueue, Idler, PopError, QueueInfo};
use crate::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use crate::sync::{Mutex, lock};

/// What a connection needs after a worker is done with it (`ConnState` seen by the MPM).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// Wait for the next request in the keep-alive queue (status `K`).
    KeepAlive,
    /// Unsent response bytes: wait for writability in the write-completion queue (`W`).
    WriteCompletion,
    /// Close: lingering close is done by the listener (`C`).
    Linger,
}

/// The accept-limit inputs as this child sees them now (step 6).
pub use super::accept_limit::{AboveLimit, AcceptCounts};

/// The shared state of one child's hand-off (one per child, shared by `Arc`).
pub struct Handoff<C> {
    /// Idle-worker accounting (step 1, 2).
    pub info: QueueInfo,
    /// Connections on their way to a worker (step 2, 3).
    pub queue: FdQueue<C>,
    /// Connections on their way back to the listener (step 4, 5).
    back: Mutex<Vec<(C, Next)>>,
    /// `connection_count`: open connections of this child (C).
    connections: AtomicUsize,
    /// `lingering_count`: of those, in lingering close (L).
    lingering: AtomicUsize,
    /// `listensocks_disabled` (D).
    listeners_disabled: AtomicBool,
    /// Keep-alive connections whose request waits for a worker in the listener (step 2).
    awaiting: AtomicUsize,
    /// The child is stopping: listeners never come back.
    dying: AtomicBool,
    threads_per_child: usize,
    factor: usize,
}

impl<C> Handoff<C> {
    /// A hand-off for `threads_per_child` workers and the effective (integer) factor.
    pub fn new(threads_per_child: usize, factor: usize) -> Handoff<C> {
        Handoff {
            info: QueueInfo::new(),
            queue: FdQueue::new(threads_per_child),
            back: Mutex::new(Vec::new()),
            connections: AtomicUsize::new(0),
            lingering: AtomicUsize::new(0),
            listeners_disabled: AtomicBool::new(false),
            awaiting: AtomicUsize::new(0),
            dying: AtomicBool::new(false),
            threads_per_child,
            factor,
        }
    }

    /// Step 1: the calling worker is idle. Returns true if the listener must be woken
    /// because its listening sockets are disabled and this idler may re-enable them, or
    /// because connections wait for a worker (step 2).
    pub fn worker_idle(&self) -> bool {
        self.info.set_idle();
        // Pairs with `disable_listeners` + `should_enable_listeners` and with `set_awaiting`
        // + `try_get_idler`: the queue_info mutex orders our increment against the
        // listener's re-read (see steps 2 and 6).
        self.listeners_disabled.load(Ordering::SeqCst) || self.awaiting.load(Ordering::SeqCst) > 0
    }

    /// Step 2: `n` keep-alive connections wait in the listener for a worker. The listener
    /// calls this before its last `try_get_idler` of an iteration.
    pub fn set_awaiting(&self, n: usize) {
        self.awaiting.store(n, Ordering::SeqCst);
    }

    /// Step 2: hand `conn` to the worker reserved by `idler`.
    pub fn dispatch(&self, conn: C, idler: Idler) {
        self.queue.push(conn, idler);
    }

    /// Step 3: wait for a connection (`ap_queue_pop_something`).
    pub fn pop(&self) -> Result<C, PopError> {
        self.queue.pop()
    }

    /// Step 4: give `conn` back to the listener. Returns true when the caller must wake the
    /// listener (the list was empty, so no wake-up is pending for it yet).
    #[must_use = "wake the listener when this returns true"]
    pub fn give_back(&self, conn: C, next: Next) -> bool {
        let mut back = lock(&self.back);
        let was_empty = back.is_empty();
        back.push((conn, next));
        was_empty
    }

    /// Step 4 followed by the next round's step 1, in the other order: count the calling
    /// worker idle, **then** give `conn` back. Returns true when the listener must be woken
    /// (for either reason).
    ///
    /// Why idle first: the listener may take the connection back, park it and see the client's
    /// next request before this thread runs again. Step 2 then needs an idle worker *at that
    /// moment* or makes the request wait, and with every other worker busy the only candidate
    /// is this one. Apache marks the worker idle right after its `apr_pollset_add`, a window of a
    /// few instructions; here the listener is woken through an eventfd and may preempt the
    /// worker on a two-core machine; when rule 31 still closed such connections, that window
    /// closed a few per 100,000 requests under `wrk -c50`, and now it would make a request
    /// wait for no reason. Counting the worker idle a moment early is harmless: a connection dispatched to it waits in the queue until it
    /// pops.
    #[must_use = "wake the listener when this returns true"]
    pub fn idle_then_give_back(&self, conn: C, next: Next) -> bool {
        let wake_for_idle = self.worker_idle();
        self.give_back(conn, next) || wake_for_idle
    }

    /// Step 5: everything workers gave back since the last call (after resetting the wake-up).
    pub fn take_back(&self) -> Vec<(C, Next)> {
        std::mem::take(&mut *lock(&self.back))
    }

    /// Step 6: the accept-limit inputs now.
    pub fn accept_counts(&self) -> AcceptCounts {
        AcceptCounts {
            idle_workers: self.info.num_idlers(),
            connections: self.connections.load(Ordering::SeqCst),
            lingering: self.lingering.load(Ordering::SeqCst),
            threads_per_child: self.threads_per_child,
            factor: self.factor,
            listeners_disabled: self.listeners_disabled.load(Ordering::SeqCst),
        }
    }

    /// Step 6: `connections_above_limit`; `None` = may accept.
    pub fn accept_check(&self) -> Option<AboveLimit> {
        super::accept_limit::connections_above_limit(self.accept_counts())
    }

    /// Step 6: take the listening sockets out of the poll set (the caller does the epoll
    /// part and sets the scoreboard's `not_accepting`). Returns false if already disabled.
    pub fn disable_listeners(&self) -> bool {
        !self.listeners_disabled.swap(true, Ordering::SeqCst)
    }

    /// Step 6: `should_enable_listensocks`: disabled, not dying, and below the limit again.
    pub fn should_enable_listeners(&self) -> bool {
        let dying = self.dying.load(Ordering::SeqCst);
        super::accept_limit::should_enable_listeners(dying, self.accept_counts())
    }

    /// Step 6: the listening sockets are back in the poll set.
    pub fn enable_listeners(&self) {
        self.listeners_disabled.store(false, Ordering::SeqCst);
    }

    /// True while the listening sockets are out of the poll set.
    pub fn listeners_disabled(&self) -> bool {
        self.listeners_disabled.load(Ordering::SeqCst)
    }

    /// The child is stopping: listeners stay disabled for good.
    pub fn set_dying(&self) {
        self.dying.store(true, Ordering::SeqCst);
        self.listeners_disabled.store(true, Ordering::SeqCst);
    }

    /// True once [`Handoff::set_dying`] ran.
    pub fn is_dying(&self) -> bool {
        self.dying.load(Ordering::SeqCst)
    }

    /// Step 7: a connection was accepted.
    pub fn conn_opened(&self) {
        self.connections.fetch_add(1, Ordering::SeqCst);
    }

    /// Step 7: a connection entered lingering close (it stops counting against the limit).
    pub fn linger_started(&self) {
        self.lingering.fetch_add(1, Ordering::SeqCst);
    }

    /// Step 7: a connection was closed; `was_lingering` if it had been counted by
    /// [`Handoff::linger_started`].
    pub fn conn_closed(&self, was_lingering: bool) {
        if was_lingering {
            self.lingering.fetch_sub(1, Ordering::SeqCst);
        }
        self.connections.fetch_sub(1, Ordering::SeqCst);
    }

    /// Open connections (C).
    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }
}
