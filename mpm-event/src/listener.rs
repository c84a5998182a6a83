//! The listener thread of an event child: one epoll set for the listening sockets, the
//! waker, and every connection no worker is busy with.
//!
//! Source: Apache `event.c: listener_thread`, `process_keepalive_queue`,
//! `process_timeout_queue`, `close_listeners`, `start_lingering_close_nonblocking`,
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
//!    idle worker if one is idle *now*, else close (rule 31); a write-completion connection
//!    writable → `write_pending`; a lingering connection readable → read and discard.
//! 5. Workers found busy (or dying) → close every keep-alive connection (rule 32).
//! 6. Expire the timeout queues (rules 33–35) and publish the counters to the scoreboard.
//! 7. Not busy and below the limit again → re-enable the listening sockets.

use std::collections::HashMap;
use std::io::{self, Read};
use std::net::{Shutdown, TcpListener};
use std::os::fd::AsFd;
use std::sync::Arc;
use std::time::{Duration, Instant};

use httpd_core::http::{ConnState, Connection};
use httpd_core::log::{ErrorLog, Level};
use httpd_core::scoreboard::{Scoreboard, WorkerStatus};
use httpd_core::threaded::{ChildControl, StopMode};
use nix::sys::epoll::{Epoll, EpollCreateFlags, EpollEvent, EpollFlags, EpollTimeout};
use nix::sys::eventfd::EventFd;

use crate::accept_limit::AboveLimit;
use crate::handoff::{Handoff, Next};
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
            let dying = self.shared.control.stop_requested().is_some();
            if workers_were_busy || dying {
                let all = self.keepalive_q.drain_all();
                if !all.is_empty() {
                    self.shared.log.log(
                        "mpm_event",
                        Level::Trace1,
                        format_args!(
                            "All workers are busy or dying, will shutdown {} keep-alive connections",
                            all.len()
                        ),
                    );
                }
                for id in all {
                    self.close(id);
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

    /// Step 4, listening socket `i` readable (hand-off steps 2 and 6).
    fn on_listener_ready(&mut self, i: usize, workers_were_busy: &mut bool) {
        // Rule 53: exactly MaxConnectionsPerChild accepts, even when several listening
        // sockets are ready in one batch.
        if self.shared.handoff.listeners_disabled()
            || self.closed_listeners
            || self.budget == Some(0)
        {
            return;
        }
        if let Some(reason) = self.shared.handoff.accept_check() {
            if reason == AboveLimit::NoIdleWorker {
                *workers_were_busy = true;
            }
            self.disable_listeners(reason);
            return;
        }
        let idler = match self
            .have_idler
            .take()
            .or_else(|| self.shared.handoff.info.try_get_idler())
        {
            Some(idler) => idler,
            None => {
                // A worker went busy between the limit check and here.
                *workers_were_busy = true;
                self.disable_listeners(AboveLimit::NoIdleWorker);
                return;
            }
        };
        match self.listeners[i].accept() {
            Ok((stream, peer)) => {
                // Accepted sockets do not inherit O_NONBLOCK on Linux; workers read blocking.
                if let Some(b) = self.budget.as_mut() {
                    *b -= 1;
                }
                self.shared.handoff.conn_opened();
                let id = self.new_id();
                let task = Task {
                    id,
                    conn: Connection::new(stream, peer),
                };
                self.shared.handoff.dispatch(task, idler);
            }
            Err(e) => {
                // EAGAIN: another child took it (the listening socket is shared). Keep the
                // reservation for the next readable event.
                self.have_idler = Some(idler);
                if e.kind() != io::ErrorKind::WouldBlock && e.kind() != io::ErrorKind::Interrupted {
                    self.shared.log.log(
                        "mpm_event",
                        Level::Error,
                        format_args!("AH02179: apr_socket_accept: {e}"),
                    );
                }
            }
        }
    }

    /// Step 4, a parked connection is ready.
    fn on_conn_ready(&mut self, id: u64, events: EpollFlags, workers_were_busy: &mut bool) {
        let Some(park) = self.parked.get(&id).map(|p| p.park) else {
            return;
        };
        match park {
            Park::KeepAlive => {
                self.keepalive_q.remove(id);
                // Rule 31: a worker only if one is idle right now; else close so the client
                // reconnects to another child.
                let idler = self
                    .have_idler
                    .take()
                    .or_else(|| self.shared.handoff.info.try_get_idler());
                match idler {
                    Some(idler) => {
                        // The worker's `process` makes the socket blocking again.
                        let p = self.unpark(id);
                        self.shared
                            .handoff
                            .dispatch(Task { id, conn: p.conn }, idler);
                    }
                    None => {
                        *workers_were_busy = true;
                        self.close(id);
                    }
                }
            }
            Park::Writing => {
                if events.intersects(EpollFlags::EPOLLERR | EpollFlags::EPOLLHUP)
                    && !events.contains(EpollFlags::EPOLLOUT)
                {
                    self.write_q.remove(id);
                    self.close(id);
                    return;
                }
                let result = self.parked.get_mut(&id).map(|p| p.conn.write_pending());
                match result {
                    Some(Ok(true)) => {
                        self.write_q.remove(id);
                        let p = self.unpark(id);
                        let next = match p.conn.after_write() {
                            ConnState::KeepAlive => Next::KeepAlive,
                            _ => Next::Linger,
                        };
                        self.park(Task { id, conn: p.conn }, next);
                    }
                    Some(Ok(false)) => {}
                    _ => {
                        self.write_q.remove(id);
                        self.close(id);
                    }
                }
            }
            Park::Lingering { short } => {
                if self.discard_input(id) {
                    if short {
                        self.short_linger_q.remove(id);
                    } else {
                        self.linger_q.remove(id);
                    }
                    self.close(id);
                }
            }
        }
    }

    /// Read and drop whatever the client still sends; true once it sent EOF or an error.
    fn discard_input(&mut self, id: u64) -> bool {
        let Some(p) = self.parked.get_mut(&id) else {
            return true;
        };
        let mut buf = [0u8; 4096];
        loop {
            match p.conn.stream().read(&mut buf) {
                Ok(0) => return true,
                Ok(_) => continue,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return false,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => return true,
            }
        }
    }

    /// Put a connection a worker gave back where it belongs (hand-off step 5).
    fn park(&mut self, task: Task, next: Next) {
        let Task { id, conn } = task;
        let now = Instant::now();
        let dying = self.shared.control.stop_requested().is_some();
        match next {
            // A stopping child, or KeepAlive Off, does not keep idle connections (rule 43).
            Next::KeepAlive if dying || !self.keep_alive_enabled => {
                self.insert(
                    id,
                    conn,
                    Park::Lingering { short: true },
                    EpollFlags::EPOLLIN,
                );
                self.start_linger(id, true, now);
            }
            Next::KeepAlive => {
                self.insert(id, conn, Park::KeepAlive, EpollFlags::EPOLLIN);
                self.keepalive_q.push(id, now);
            }
            Next::WriteCompletion => {
                self.insert(id, conn, Park::Writing, EpollFlags::EPOLLOUT);
                self.write_q.push(id, now);
            }
            Next::Linger => {
                self.insert(
                    id,
                    conn,
                    Park::Lingering { short: dying },
                    EpollFlags::EPOLLIN,
                );
                self.start_linger(id, dying, now);
            }
        }
    }

    fn insert(&mut self, id: u64, mut conn: Connection, park: Park, interest: EpollFlags) {
        // A parked connection keeps no empty buffer: ten thousand idle keep-alive connections
        // then cost their sockets and this map's entries, not 8 KiB of read buffer each.
        conn.release_buffers();
        if self
            .epoll
            .add(conn.stream(), EpollEvent::new(interest, id))
            .is_err()
        {
            // The fd is already gone (closed by the peer's reset and reused?): drop it.
            self.shared.handoff.conn_closed(false);
            return;
        }
        self.parked.insert(id, Parked { conn, park });
    }

    /// Lingering close without blocking (`start_lingering_close_nonblocking`): shut down our
    /// side, then wait for the client's EOF in the (short-)linger queue (rule 35).
    fn start_linger(&mut self, id: u64, short: bool, now: Instant) {
        let Some(p) = self.parked.get_mut(&id) else {
            return;
        };
        self.shared.handoff.linger_started();
        p.park = Park::Lingering { short };
        p.conn.set_nonblocking(true);
        if p.conn.stream().shutdown(Shutdown::Write).is_err() {
            self.close(id);
            return;
        }
        if self.discard_input(id) {
            self.close(id);
            return;
        }
        if short {
            self.short_linger_q.push(id, now);
        } else {
            self.linger_q.push(id, now);
        }
    }

    fn unpark(&mut self, id: u64) -> Parked {
        // Called only for ids found in `parked` just before.
        let p = self.parked.remove(&id).expect("parked connection");
        let _ = self.epoll.delete(p.conn.stream());
        p
    }

    /// Close a parked connection (all closes happen here, in the listener: hand-off step 7).
    fn close(&mut self, id: u64) {
        if let Some(p) = self.parked.remove(&id) {
            let _ = self.epoll.delete(p.conn.stream());
            let lingering = matches!(p.park, Park::Lingering { .. });
            drop(p.conn);
            self.shared.handoff.conn_closed(lingering);
        }
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

    fn disable_listeners(&mut self, reason: AboveLimit) {
        if !self.shared.handoff.disable_listeners() {
            return;
        }
        for l in &self.listeners {
            let _ = self.epoll.delete(l);
        }
        self.shared
            .scoreboard
            .process(self.shared.slot)
            .set_not_accepting(1);
        let (msg, n) = match reason {
            AboveLimit::NoIdleWorker => (
                "All workers busy, not accepting new conns in this process",
                None,
            ),
            AboveLimit::TooManyConnections => ("", Some(self.shared.handoff.connections())),
        };
        match n {
            None => self
                .shared
                .log
                .log("mpm_event", Level::Debug, format_args!("{msg}")),
            Some(n) => self.shared.log.log(
                "mpm_event",
                Level::Debug,
                format_args!(
                    "Too many open connections ({n}), not accepting new conns in this process"
                ),
            ),
        }
    }

    fn enable_listeners(&mut self) {
        for (i, l) in self.listeners.iter().enumerate() {
            let _ = self
                .epoll
                .add(l, EpollEvent::new(EpollFlags::EPOLLIN, i as u64));
        }
        self.shared.handoff.enable_listeners();
        let c = self.shared.handoff.accept_counts();
        self.shared.log.log(
            "mpm_event",
            Level::Debug,
            format_args!(
                "AH00457: Accepting new connections again: {} active conns ({} lingering/0 clogged/0 suspended), {} idle workers",
                c.connections, c.lingering, c.idle_workers
            ),
        );
        self.shared
            .scoreboard
            .process(self.shared.slot)
            .set_not_accepting(0);
    }

    /// Step 2, first pass (`close_listeners`): stop accepting for good, mark the process
    /// stopping and all its worker slots `G` (rule 43), and shorten lingering closes.
    fn close_listeners(&mut self) {
        self.closed_listeners = true;
        self.shared.handoff.set_dying();
        for l in self.listeners.drain(..) {
            let _ = self.epoll.delete(&l);
        }
        let sb = &self.shared.scoreboard;
        let ps = sb.process(self.shared.slot);
        ps.set_quiescing(1);
        ps.set_not_accepting(1);
        for t in 0..self.shared.threads_per_child {
            sb.worker(self.shared.slot, t)
                .set_status(WorkerStatus::Graceful);
        }
        // Lingering closes of a stopping child get 2 s (rule 35).
        let long: Vec<u64> = self.linger_q.drain_all();
        let now = Instant::now();
        for id in long {
            if let Some(p) = self.parked.get_mut(&id) {
                p.park = Park::Lingering { short: true };
            }
            self.short_linger_q.push(id, now);
        }
        // Idle threads leave now; busy ones after their connection.
        self.shared.handoff.queue.interrupt_all();
    }

    fn new_id(&mut self) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        id
    }
}
