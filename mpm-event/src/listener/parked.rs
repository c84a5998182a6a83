//! The connections the listener holds while no worker needs them: parked in the keep-alive
//! queue, finishing a write, or lingering before close; and their way back to a worker.
//!
//! Source: Apache `event.c: listener_thread` (the connection branch), `process_socket`'s
//! hand-back, `start_lingering_close_nonblocking`, `process_lingering_close`; rules 31–35;
//! step 4 of [`super`] and hand-off steps 5 and 7 of [`crate::handoff`].

use std::io::{self, Read};
use std::net::Shutdown;
use std::time::Instant;

use httpd_core::http::{ConnState, Connection};
use nix::sys::epoll::{EpollEvent, EpollFlags};

use super::{Listener, Park, Parked, Task};
use crate::handoff::Next;

impl Listener {
    /// Step 4, a parked connection is ready.
    pub(super) fn on_conn_ready(
        &mut self,
        id: u64,
        events: EpollFlags,
        workers_were_busy: &mut bool,
    ) {
        let Some(park) = self.parked.get(&id).map(|p| p.park) else {
            return;
        };
        match park {
            Park::KeepAlive => {
                self.keepalive_q.remove(id);
                // Rule 31 (deviation, see the module doc of `listener`): a worker if one is
                // idle right now, else wait for one, behind the requests already waiting.
                let p = self.unpark(id);
                if self.awaiting.is_empty()
                    && let Some(idler) = self.take_idler()
                {
                    // The worker's `process` makes the socket blocking again.
                    self.shared
                        .handoff
                        .dispatch(Task { id, conn: p.conn }, idler);
                    return;
                }
                *workers_were_busy = true;
                self.parked.insert(
                    id,
                    Parked {
                        conn: p.conn,
                        park: Park::AwaitingWorker,
                    },
                );
                self.awaiting.push_back(id);
            }
            // Out of the poll set: no event comes for it.
            Park::AwaitingWorker => {}
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

    /// An idle worker reserved for us: the one kept from an accept that found no connection,
    /// or a fresh reservation.
    pub(super) fn take_idler(&mut self) -> Option<httpd_core::fdqueue::Idler> {
        self.have_idler
            .take()
            .or_else(|| self.shared.handoff.info.try_get_idler())
    }

    /// Step 5: hand awaiting connections, oldest first, to the workers idle now. Returns
    /// true when none is left waiting.
    pub(super) fn dispatch_awaiting(&mut self) -> bool {
        while let Some(&id) = self.awaiting.front() {
            // Hand-off step 2: publish the length before the last look for an idler, so a
            // worker going idle after that look sees it and wakes us.
            self.shared.handoff.set_awaiting(self.awaiting.len());
            let Some(idler) = self.take_idler() else {
                return false;
            };
            self.awaiting.pop_front();
            // Only awaiting connections are in `awaiting`, and nothing else removes them.
            match self.parked.remove(&id) {
                Some(p) => self
                    .shared
                    .handoff
                    .dispatch(Task { id, conn: p.conn }, idler),
                None => self.have_idler = Some(idler),
            }
        }
        self.shared.handoff.set_awaiting(0);
        true
    }

    /// Read and drop whatever the client still sends; true once it sent EOF or an error.
    pub(super) fn discard_input(&mut self, id: u64) -> bool {
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
    pub(super) fn park(&mut self, task: Task, next: Next) {
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
                // A stopping child, and a connection mod_reqtimeout cut, linger briefly.
                let short = dying || conn.short_lingering_close();
                self.insert(id, conn, Park::Lingering { short }, EpollFlags::EPOLLIN);
                self.start_linger(id, short, now);
            }
        }
    }

    pub(super) fn insert(
        &mut self,
        id: u64,
        mut conn: Connection,
        park: Park,
        interest: EpollFlags,
    ) {
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
    pub(super) fn start_linger(&mut self, id: u64, short: bool, now: Instant) {
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

    pub(super) fn unpark(&mut self, id: u64) -> Parked {
        // Called only for ids found in `parked` just before.
        let p = self.parked.remove(&id).expect("parked connection");
        if p.park != Park::AwaitingWorker {
            let _ = self.epoll.delete(p.conn.stream());
        }
        p
    }

    /// Close a parked connection (all closes happen here, in the listener: hand-off step 7).
    pub(super) fn close(&mut self, id: u64) {
        if let Some(p) = self.parked.remove(&id) {
            if p.park != Park::AwaitingWorker {
                let _ = self.epoll.delete(p.conn.stream());
            }
            let lingering = matches!(p.park, Park::Lingering { .. });
            drop(p.conn);
            self.shared.handoff.conn_closed(lingering);
        }
    }
}
