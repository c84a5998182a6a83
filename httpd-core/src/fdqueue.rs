//! queue_info and the fd queue: how a listener thread hands accepted sockets to worker threads.
//!
//! Source: Apache `server/mpm_fdqueue.c` (`ap_queue_info_*`, `ap_queue_push_socket`,
//! `ap_queue_pop_something`, `ap_queue_interrupt_all`, `ap_queue_term`); spec
//! apache-mpm-rules.md §4.2, rules 2 and 54. Shared by mpm-worker (items are `TcpStream`s)
//! and mpm-event (items are parked connections), hence generic over `T`.
//!
//! # The hand-off protocol (numbered; loom models and tests cite these steps)
//!
//! 1. A worker thread that has nothing to do calls [`QueueInfo::set_idle`]: one more idler.
//!    If the listener is blocked waiting for an idler, it is woken.
//! 2. The listener calls [`QueueInfo::wait_for_idler`] **before** it accepts. This reserves
//!    one idle worker (the count goes down by one) and blocks while there is none, so a
//!    child never accepts a connection it has no thread for: waiting connections stay in
//!    the kernel's backlog, where another child can take them (rule 2, §4.2).
//! 3. The listener accepts and calls [`FdQueue::push`] with the [`Idler`] token from step 2.
//!    Because every push spends a reservation and there are only `capacity` workers, the
//!    ring can never overflow.
//! 4. Idle workers block in [`FdQueue::pop`]; one of them takes the socket, serves it, and
//!    goes back to step 1.
//! 5. Stopping: [`QueueInfo::term`] makes every present and future `wait_for_idler` return
//!    [`Terminated`] (the listener leaves its loop); [`FdQueue::term`] makes `pop` return
//!    [`PopError::Terminated`] once the ring is empty (workers drain what was accepted, then
//!    leave); [`FdQueue::interrupt_all`] wakes every blocked `pop` with
//!    [`PopError::Interrupted`] so workers re-check their stop flag (ungraceful stop).
//!
//! # Differences from Apache, and why
//!
//! * Apache keeps the idle count in a lock-free atomic biased around `UINT32_MAX/2` (values
//!   below the bias count waiting listeners) and takes the mutex only to sleep. We keep the
//!   count under the mutex: one lock per connection is cheap next to an accept(2), and the
//!   protocol reads like the numbered steps above. The loom models check the same
//!   properties Apache's comments argue for (no lost wake-up, no accept without an idler).
//! * Apache recycles APR pools through queue_info; Rust has no pools to recycle.
//! * A reservation is a value ([`Idler`]) that `push` consumes, so "push without a reserved
//!   idler" does not compile instead of being an `AP_DEBUG_ASSERT`.
//!
//! Concurrency primitives come only from `crate::sync`, so the conformance crate compiles
//! this very file against loom (`conformance/tests/conformance/loom_fdqueue.rs`). Unit tests
//! live in `fdqueue_tests.rs`.

use std::collections::VecDeque;
use std::fmt;

use crate::sync::{Condvar, Mutex, lock, wait};

/// Returned once [`QueueInfo::term`] has been called: the child is stopping.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Terminated;

impl fmt::Display for Terminated {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("queue terminated")
    }
}

impl std::error::Error for Terminated {}

/// One reserved idle worker (step 2). [`FdQueue::push`] consumes it (step 3).
///
/// Not `Clone`: one reservation pays for exactly one push. Dropping it without pushing
/// (the listener gives up because the child is stopping) simply forgets the reservation,
/// as Apache does; the queue is being torn down at that point anyway.
#[derive(Debug)]
#[must_use = "an Idler reserves a worker: push a socket with it"]
pub struct Idler {
    /// True if `wait_for_idler` had to sleep because every worker was busy. mpm-event
    /// uses it to set `workers_were_busy` (§5.3).
    pub had_to_block: bool,
}

/// The idle-worker accounting (`fd_queue_info_t`).
pub struct QueueInfo {
    state: Mutex<IdleState>,
    /// Signalled by `set_idle` (one waiter) and `term` (all waiters).
    wait_for_idler: Condvar,
}

struct IdleState {
    /// Idle workers not yet reserved by the listener.
    idlers: usize,
    terminated: bool,
}

impl Default for QueueInfo {
    fn default() -> Self {
        Self::new()
    }
}

impl QueueInfo {
    /// A queue_info with no idle worker (`ap_queue_info_create`).
    pub fn new() -> QueueInfo {
        QueueInfo {
            state: Mutex::new(IdleState {
                idlers: 0,
                terminated: false,
            }),
            wait_for_idler: Condvar::new(),
        }
    }

    // ANCHOR: set_idle
    /// Step 1: the calling worker is idle (`ap_queue_info_set_idle`).
    ///
    /// The increment and the signal happen under the same lock the listener holds while it
    /// checks the count and goes to sleep, so the listener is either not yet checking (it
    /// will see the new count) or already asleep (it gets the signal): no lost wake-up.
    pub fn set_idle(&self) {
        // ASSIGNMENT(queue-info): begin
        // HINT(queue-info): Step 1: one more idler, under the lock; wake the listener if it sleeps.
        let mut st = lock(&self.state);
        st.idlers += 1;
        // ANCHOR: set_idle_signal
        // LAB (loom, "lost wake-up"): delete the next line and run
        // `cargo test -p conformance loom_fdqueue`: `no_wakeup_is_lost` then reports a deadlock.
        self.wait_for_idler.notify_one();
        // ANCHOR_END: set_idle_signal
        // ASSIGNMENT(queue-info): end
    }
    // ANCHOR_END: set_idle

    // ANCHOR: wait_for_idler
    /// Step 2: reserve one idle worker, sleeping while there is none
    /// (`ap_queue_info_wait_for_idler`). Returns [`Terminated`] once [`QueueInfo::term`] ran,
    /// even if idlers are available: a stopping listener must not accept any more.
    pub fn wait_for_idler(&self) -> Result<Idler, Terminated> {
        // ASSIGNMENT(queue-info): begin
        // HINT(queue-info): Step 2: sleep while there is no idler and the queue is not terminated (a loop: spurious wake-ups).
        // HINT(queue-info): Terminated wins over an available idler. Remember whether you had to block.
        let mut st = lock(&self.state);
        let mut had_to_block = false;
        // A loop, not an `if`: condition variables may wake spuriously, and `term` wakes
        // everyone. Only a positive count or termination ends the wait.
        while st.idlers == 0 && !st.terminated {
            had_to_block = true;
            st = wait(&self.wait_for_idler, st);
        }
        if st.terminated {
            return Err(Terminated);
        }
        st.idlers -= 1;
        Ok(Idler { had_to_block })
        // ASSIGNMENT(queue-info): end
    }
    // ANCHOR_END: wait_for_idler

    /// Reserve an idle worker if there is one right now (`ap_queue_info_try_get_idler`,
    /// used by mpm-event's listener, which must never block). `None` after `term` too.
    pub fn try_get_idler(&self) -> Option<Idler> {
        let mut st = lock(&self.state);
        if st.terminated || st.idlers == 0 {
            return None;
        }
        st.idlers -= 1;
        Some(Idler {
            had_to_block: false,
        })
    }

    /// Idle workers not yet reserved (`ap_queue_info_num_idlers`).
    pub fn num_idlers(&self) -> usize {
        lock(&self.state).idlers
    }

    /// True once [`QueueInfo::term`] ran.
    pub fn is_terminated(&self) -> bool {
        lock(&self.state).terminated
    }

    /// Step 5: wake every waiting listener with [`Terminated`] (`ap_queue_info_term`).
    /// Idempotent.
    pub fn term(&self) {
        let mut st = lock(&self.state);
        st.terminated = true;
        self.wait_for_idler.notify_all();
    }
}

/// Why [`FdQueue::pop`] returned without an item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PopError {
    /// Woken by [`FdQueue::interrupt_all`]/[`FdQueue::interrupt_one`] (or spuriously) with
    /// nothing to take: re-check the stop flags and pop again (`APR_EINTR`).
    Interrupted,
    /// [`FdQueue::term`] ran and the ring is empty: nothing will ever arrive (`APR_EOF`).
    Terminated,
}

/// The bounded ring of accepted sockets (`fd_queue_t`).
pub struct FdQueue<T> {
    state: Mutex<Ring<T>>,
    /// Signalled by `push` (one popper), `interrupt_*` and `term`.
    not_empty: Condvar,
}

struct Ring<T> {
    items: VecDeque<T>,
    capacity: usize,
    terminated: bool,
}

impl<T> FdQueue<T> {
    /// A ring for `capacity` items, normally ThreadsPerChild (`ap_queue_create`).
    pub fn new(capacity: usize) -> FdQueue<T> {
        FdQueue {
            state: Mutex::new(Ring {
                items: VecDeque::with_capacity(capacity),
                capacity,
                terminated: false,
            }),
            not_empty: Condvar::new(),
        }
    }

    /// Step 3: hand `item` to a worker (`ap_queue_push_socket`). The [`Idler`] proves a
    /// worker was reserved for it, which is why the ring cannot be full.
    ///
    /// # Panics
    /// If the ring is full: that means more reservations were handed out than workers exist
    /// (a `set_idle` without a matching worker), a bug in the caller.
    pub fn push(&self, item: T, idler: Idler) {
        let _ = idler; // spent: this reservation is now the item in the ring
        let mut ring = lock(&self.state);
        assert!(
            ring.items.len() < ring.capacity,
            "fd queue overflow: more idlers reserved than workers exist"
        );
        ring.items.push_back(item);
        self.not_empty.notify_one();
    }

    /// Step 4: take the oldest item, sleeping once if there is none
    /// (`ap_queue_pop_something`).
    ///
    /// Like Apache it sleeps at most once: any wake-up with an empty ring returns
    /// [`PopError::Interrupted`], so `interrupt_all` can make every worker look at its stop
    /// flag. Callers loop — but must not call [`QueueInfo::set_idle`] again after
    /// `Interrupted`: a worker is idle once until it gets an item, even if another worker took
    /// the item it was woken for (`worker.c: worker_thread`'s `is_idle` flag). Announcing twice
    /// lets the listener reserve more workers than exist and overflow the ring.
    pub fn pop(&self) -> Result<T, PopError> {
        let mut ring = lock(&self.state);
        if ring.items.is_empty() {
            if ring.terminated {
                return Err(PopError::Terminated);
            }
            ring = wait(&self.not_empty, ring);
        }
        match ring.items.pop_front() {
            Some(item) => Ok(item),
            None if ring.terminated => Err(PopError::Terminated),
            None => Err(PopError::Interrupted),
        }
    }

    /// Items waiting in the ring.
    pub fn len(&self) -> usize {
        lock(&self.state).items.len()
    }

    /// True if no item waits.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Wake every sleeping `pop` (`ap_queue_interrupt_all`).
    pub fn interrupt_all(&self) {
        // Under the lock: a popper between its emptiness check and its sleep holds the lock,
        // so it cannot miss this broadcast.
        let _ring = lock(&self.state);
        self.not_empty.notify_all();
    }

    /// Wake one sleeping `pop` (`ap_queue_interrupt_one`).
    pub fn interrupt_one(&self) {
        let _ring = lock(&self.state);
        self.not_empty.notify_one();
    }

    /// Step 5: no more pushes will come; poppers get what is left, then
    /// [`PopError::Terminated`] (`ap_queue_term`). Idempotent.
    pub fn term(&self) {
        let mut ring = lock(&self.state);
        ring.terminated = true;
        self.not_empty.notify_all();
    }

    /// Take every item still in the ring (ungraceful stop: the child closes them unserved).
    pub fn drain(&self) -> Vec<T> {
        lock(&self.state).items.drain(..).collect()
    }
}
