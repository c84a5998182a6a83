//! The listener thread of an event child: one epoll set for the listening sockets, the
//! waker, and every connection no worker is busy with.
//!
//! Source: Apache `event.c: listener_thread`, `process_keepalive_queue`,
//! `process_timeout_queue`, `close_listeners`, `start_lingering_close_nonblocking`,
//! `shutdown_connection`,
//! `check_infinite_requests`. Spec: apache-mpm-rules.md §4.3, §5, §6.5, §6.6; rules 30–35,
//! 43, 53. The hand-off steps cited below are those of [`crate::handoff`].
//!
//! # One iteration (numbered; tests cite these steps)
//!
//! 1. MaxConnectionsPerChild spent → ask the main thread for a graceful stop (rule 53).
//! 2. Stopping → on the first pass close the listening sockets, mark the slot stopping and
//!    every worker slot `G` (rule 43), close all keep-alive connections, force lingering
//!    closes to 2 s; leave once no connection is left (or at once when ungraceful).
//! 3. Wait in epoll until the earliest queue deadline (or a wake-up from a worker/main).
//! 4. For each ready item: the waker → reset it, then take back what workers returned
//!    (hand-off step 5); a listening socket → accept if below the accept limit (hand-off
//!    step 6), else disable the listening sockets; a keep-alive connection readable → to an
//!    idle worker if one is idle *now*, else to the awaiting list (rule 31, where we deviate:
//!    Apache closes it, `shutdown_connection`); a write-completion connection
//!    writable → `write_pending`; a lingering connection readable → read and discard.
//! 5. Hand the awaiting connections to the workers that are idle now, oldest first; any
//!    left over count as "workers were busy". A stopping child closes every keep-alive
//!    connection, each by a short lingering close (rule 43). A child whose workers are busy
//!    does *not* close them (rule 32, where we deviate from Apache's kill'em-all: see below).
//! 6. Expire the timeout queues (rules 33–35) and publish the counters to the scoreboard.
//! 7. Not busy, nothing awaiting and below the limit again → re-enable the listening sockets.
//!
//! # Why a busy child keeps its connections (rules 31, 32; conformance/DEVIATIONS.md)
//!
//! Apache sheds load from a child whose workers are all busy: the kept-alive connection whose
//! request just arrived is closed unanswered, and so is every idle one, "so that they may
//! connect to another process". Whether another process can take them is never checked.
//! When a child is SIGKILLed under keep-alive load its clients reconnect at once, the
//! survivors accept them (the accept limit counts idle workers × AsyncRequestWorkerFactor),
//! find their workers busy, and shed; the shed clients reconnect to the same survivors, which
//! shed again, until the replacement child takes a share. `wrk -c50` against the reference
//! config measured thousands of failed requests per run this way, with Apache 2.4.71 as with
//! us, for a killed child that held 25 connections. So a busy child here queues instead, as
//! a worker MPM child does: it stops accepting (new clients wait in the backlog, where
//! another child may take them; the parent counts none of its threads idle and forks one
//! more, rule 19) and serves the requests it already has as workers free up.
//!
//! This file holds the loop and the timeout queues; `listener/accepting.rs` the listening
//! sockets (steps 4 and 7), `listener/parked.rs` the connections waiting in the listener
//! (step 4, keep-alive, write completion, lingering close).

use std::collections::{HashMap, VecDeque};
use std::io;
use std::net::TcpListener;
use std::os::fd::AsFd;
use std::sync::Arc;
use std::time::{Duration, Instant};

use httpd_core::http::Connection;
use httpd_core::log::{ErrorLog, Level};
use httpd_core::scoreboard::Scoreboard;
use httpd_core::threaded::{ChildControl, StopMode};
use nix::sys::epoll::{Epoll, EpollCreateFlags, EpollEvent, EpollFlags, EpollTimeout};
use nix::sys::eventfd::EventFd;

use crate::handoff::Handoff;

mod accepting;
mod parked;
use crate::keepalive_queue::TimeoutQueue;

/// Lingering close waits at most this long for the client's FIN (`MAX_SECS_TO_LINGER`).
pub const LINGER: Duration = Duration::from_secs(30);
/// Short lingering close, and every lingering close of a stopping child (`SECONDS_TO_LINGER`).
pub const SHORT_LINGER: Duration = Duration::from_secs(2);

/// epoll token of the waker; listening socket `i` has token `i`; connections have ids from
/// [`FIRST_CONN_ID`] on.
const WAKER: u64 = u64::MAX;
const FIRST_CONN_ID: u64 = 1 << 32;

/// A connection travelling between the listener and the workers.
pub struct Task {
    /// The listener's id for it (epoll token, timeout-queue key).
    pub id: u64,
    /// The connection itself.
    pub conn: Connection,
}

/// Everything of one child that the listener and the workers share.
pub struct ChildShared {
    /// The hand-off (queue_info, fd queue, return list, counters).
    pub handoff: Handoff<Task>,
    /// Wakes the listener out of epoll (Apache: `apr_pollset_wakeup`).
    pub waker: EventFd,
    /// Stop flags and the main thread's wake-up.
    pub control: Arc<ChildControl>,
    /// The shared scoreboard.
    pub scoreboard: Arc<Scoreboard>,
    /// Our process slot.
    pub slot: usize,
    /// ThreadsPerChild.
    pub threads_per_child: usize,
    /// The error log.
    pub log: ErrorLog,
}

impl ChildShared {
    /// Wake the listener. A failing eventfd write means the counter is saturated, i.e. a
    /// wake-up is already pending: nothing is lost by ignoring it.
    pub fn wake_listener(&self) {
        let _ = self.waker.write(1);
    }
}

/// Where a parked connection waits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Park {
    /// Waiting for the next request (EPOLLIN).
    KeepAlive,
    /// Its next request arrived while no worker was idle: waits in `awaiting` for one, out
    /// of the poll set (step 5).
    AwaitingWorker,
    /// Waiting to write the rest of a response (EPOLLOUT).
    Writing,
    /// Lingering close: write side shut, discarding input until EOF (EPOLLIN).
    Lingering { short: bool },
}

struct Parked {
    conn: Connection,
    park: Park,
}

/// The listener's own state (only this thread touches it).
pub struct Listener {
    shared: Arc<ChildShared>,
    listeners: Vec<TcpListener>,
    epoll: Epoll,
    parked: HashMap<u64, Parked>,
    keepalive_q: TimeoutQueue,
    write_q: TimeoutQueue,
    linger_q: TimeoutQueue,
    short_linger_q: TimeoutQueue,
    /// Connections in `Park::AwaitingWorker`, oldest first (step 5).
    awaiting: VecDeque<u64>,
    next_id: u64,
    /// `conns_this_child`: None = unlimited.
    budget: Option<u64>,
    /// An idler reserved but not yet used (an accept that found no connection).
    have_idler: Option<httpd_core::fdqueue::Idler>,
    closed_listeners: bool,
    keep_alive_enabled: bool,
}

/// The settings the listener needs.
pub struct ListenerConfig {
    /// KeepAliveTimeout: the keep-alive queue's timeout (rule 33).
    pub keep_alive_timeout: Duration,
    /// Timeout: the write-completion queue's timeout (rule 34).
    pub timeout: Duration,
    /// MaxConnectionsPerChild, 0 = unlimited (rule 53).
    pub max_connections_per_child: u64,
    /// KeepAlive On/Off.
    pub keep_alive: bool,
}

impl Listener {
    /// Set up the poll set with the listening sockets (non-blocking) and the waker.
    pub fn new(
        shared: Arc<ChildShared>,
        listeners: Vec<TcpListener>,
        cfg: &ListenerConfig,
    ) -> io::Result<Listener> {
        let epoll = Epoll::new(EpollCreateFlags::EPOLL_CLOEXEC)?;
        // Every child polls the same listening sockets; all of them wake for a new connection
        // and the losers of the accept race get EAGAIN. No EPOLLEXCLUSIVE: a woken child that
        // is above its accept limit leaves the connection in the backlog, and with exclusive
        // wake-ups no other child would hear of it until the next connection arrives.
        for (i, l) in listeners.iter().enumerate() {
            l.set_nonblocking(true)?;
            epoll.add(l, EpollEvent::new(EpollFlags::EPOLLIN, i as u64))?;
        }
        epoll.add(
            shared.waker.as_fd(),
            EpollEvent::new(EpollFlags::EPOLLIN, WAKER),
        )?;
        Ok(Listener {
            shared,
            listeners,
            epoll,
            parked: HashMap::new(),
            keepalive_q: TimeoutQueue::new(cfg.keep_alive_timeout),
            write_q: TimeoutQueue::new(cfg.timeout),
            linger_q: TimeoutQueue::new(LINGER),
            short_linger_q: TimeoutQueue::new(SHORT_LINGER),
            awaiting: VecDeque::new(),
            next_id: FIRST_CONN_ID,
            budget: (cfg.max_connections_per_child > 0).then_some(cfg.max_connections_per_child),
            have_idler: None,
            closed_listeners: false,
            keep_alive_enabled: cfg.keep_alive,
        })
    }

    /// The listener loop; returns when the child may exit.
    pub fn run(mut self) {
        let mut events = vec![EpollEvent::empty(); 256];
        loop {
            // Step 1.
            if self.budget == Some(0) && self.shared.control.stop_requested().is_none() {
                self.shared.log.log(
                    "mpm_event",
                    Level::Trace1,
                    format_args!("Stopping process due to MaxConnectionsPerChild"),
                );
                self.shared.control.request_stop(StopMode::Graceful);
            }
            // Step 2.
            if let Some(mode) = self.shared.control.stop_requested() {
                if !self.closed_listeners {
                    self.close_listeners();
                }
                if mode == StopMode::Ungraceful || self.shared.handoff.connections() == 0 {
                    break;
                }
            }
            // Step 3.
            let timeout = self.poll_timeout(Instant::now());
            let n = match self.epoll.wait(&mut events, timeout) {
                Ok(n) => n,
                Err(nix::errno::Errno::EINTR) => 0,
                Err(e) => {
                    self.shared.log.log(
                        "mpm_event",
                        Level::Crit,
                        format_args!("AH03267: apr_pollset_poll failed: {e}"),
                    );
                    self.shared.control.request_stop(StopMode::Graceful);
                    0
                }
            };
            // Step 4.
            let mut workers_were_busy = false;
            for ev in &events[..n] {
                let token = ev.data();
                if token == WAKER {
                    // Hand-off step 5: reset the eventfd FIRST, then drain the list.
                    let _ = self.shared.waker.read();
                    for (task, next) in self.shared.handoff.take_back() {
                        self.park(task, next);
                    }
                } else if token < FIRST_CONN_ID {
                    self.on_listener_ready(token as usize, &mut workers_were_busy);
                } else {
                    self.on_conn_ready(token, ev.events(), &mut workers_were_busy);
                }
            }
            // Step 5.
            if !self.dispatch_awaiting() {
                workers_were_busy = true;
            }
            let dying = self.shared.control.stop_requested().is_some();
            if dying {
                let all = self.keepalive_q.drain_all();
                if !all.is_empty() {
                    self.shared.log.log(
                        "mpm_event",
                        Level::Trace1,
                        // Apache's words, although only "dying" brings us here.
                        format_args!(
                            "All workers are busy or dying, will shutdown {} keep-alive connections",
                            all.len()
                        ),
                    );
                }
                // `shutdown_connection` for each: a short lingering close (rule 35).
                let now = Instant::now();
                for id in all {
                    self.start_linger(id, true, now);
                }
            }
            // Step 6.
            self.expire(Instant::now());
            self.publish_counters();
            // Step 7.
            if !workers_were_busy && self.shared.handoff.should_enable_listeners() {
                self.enable_listeners();
            }
        }
        // Ungraceful, or nothing left: whatever is still parked is closed by dropping it.
        for (_, p) in self.parked.drain() {
            drop(p.conn);
        }
        self.shared.handoff.queue.term();
        self.shared.handoff.info.term();
    }

    fn poll_timeout(&mut self, now: Instant) -> EpollTimeout {
        let deadlines = [
            self.keepalive_q.next_deadline(),
            self.write_q.next_deadline(),
            self.linger_q.next_deadline(),
            self.short_linger_q.next_deadline(),
        ];
        // Never sleep longer than a second: the scoreboard counters are refreshed each pass.
        let mut wait = Duration::from_secs(1);
        for d in deadlines.into_iter().flatten() {
            wait = wait.min(d.saturating_duration_since(now));
        }
        // Round up to the next millisecond so we never wake just before a deadline.
        let ms = wait.as_micros().div_ceil(1000).min(1000) as u16;
        EpollTimeout::from(ms)
    }

    /// Step 6 (`process_timeout_queue` for each queue; rules 33–35).
    fn expire(&mut self, now: Instant) {
        let mut due = self.keepalive_q.expire(now);
        due.extend(self.write_q.expire(now));
        due.extend(self.linger_q.expire(now));
        due.extend(self.short_linger_q.expire(now));
        for id in due {
            self.close(id);
        }
    }

    /// Step 6: the `process_score` counters `?auto`'s Conns* keys show.
    fn publish_counters(&self) {
        let ps = self.shared.scoreboard.process(self.shared.slot);
        let lingering = self.linger_q.len() + self.short_linger_q.len();
        ps.set_connections(self.shared.handoff.connections() as u32);
        ps.set_keep_alive(self.keepalive_q.len() as u32);
        ps.set_write_completion(self.write_q.len() as u32);
        ps.set_lingering_close(lingering as u32);
    }

    fn new_id(&mut self) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        id
    }
}
