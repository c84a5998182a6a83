//! The listening sockets of an event child: accept under the accept limit, stop accepting
//! when above it, start again below it, close them on a stop.
//!
//! Source: Apache `event.c: listener_thread` (the accept branch), `disable_listensocks`,
//! `enable_listensocks`, `close_listeners`; rules 30, 53; steps 4 and 7 of [`super`].

use std::io;
use std::time::Instant;

use httpd_core::http::Connection;
use httpd_core::log::Level;
use httpd_core::scoreboard::WorkerStatus;
use nix::sys::epoll::{EpollEvent, EpollFlags};

use super::{Listener, Park, Task};
use crate::accept_limit::AboveLimit;

impl Listener {
    /// Step 4, listening socket `i` readable (hand-off steps 2 and 6).
    pub(super) fn on_listener_ready(&mut self, i: usize, workers_were_busy: &mut bool) {
        // Rule 53: exactly MaxConnectionsPerChild accepts, even when several listening
        // sockets are ready in one batch.
        if self.shared.handoff.listeners_disabled()
            || self.closed_listeners
            || self.budget == Some(0)
        {
            return;
        }
        // Requests already waiting for a worker go first (step 5).
        if !self.awaiting.is_empty() {
            *workers_were_busy = true;
            self.disable_listeners(AboveLimit::NoIdleWorker);
            return;
        }
        if let Some(reason) = self.shared.handoff.accept_check() {
            if reason == AboveLimit::NoIdleWorker {
                *workers_were_busy = true;
            }
            self.disable_listeners(reason);
            return;
        }
        let idler = match self.take_idler() {
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

    pub(super) fn disable_listeners(&mut self, reason: AboveLimit) {
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

    pub(super) fn enable_listeners(&mut self) {
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
    pub(super) fn close_listeners(&mut self) {
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
}
