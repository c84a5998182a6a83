//! The scoreboard: one table in shared memory that every process of the server can read.
//!
//! Source: `include/scoreboard.h` and `server/scoreboard.c` (`ap_create_scoreboard`,
//! `ap_update_child_status_from_indexes`, `ap_increment_counts`); apache-mpm-rules.md §7.1–7.3.
//!
//! ```text
//!   one MAP_SHARED anonymous mapping, created by the parent before the first fork
//!   ┌──────────────┬──────────────────────────────┬──────────────────────────────────────────────┐
//!   │ GlobalScore  │ ProcessScore × ServerLimit    │ WorkerScore × (ServerLimit × ThreadLimit)     │
//!   └──────────────┴──────────────────────────────┴──────────────────────────────────────────────┘
//!                   slot i: pid, generation,          slot i, thread t at i × ThreadLimit + t:
//!                   quiescing, connection counters    status (. S _ R W K L D C G I), counters,
//!                                                     client, request line, vhost, protocol
//! ```
//!
//! Every field is an atomic, so no process ever holds a lock another process could need: a child
//! killed mid-update leaves at worst a stale number, never a stuck server.
//!
//! This file owns the mapping ([`Scoreboard`]: layout, create, reset, lookups); the records it
//! holds are in `scoreboard/process_score.rs` ([`GlobalScore`], [`ProcessScore`]) and
//! `scoreboard/worker_score.rs` ([`WorkerScore`], [`WorkerStatus`]).
//!
// ANCHOR: slot_rules
//! ## Who writes what (slot-ownership rules)
//!
//! 1. The parent creates the mapping before any fork and never resizes it: ServerLimit and
//!    ThreadLimit are fixed for the life of the parent (rule 25 refuses to change them).
//! 2. Only the parent writes a process slot's `pid` and `generation`: when it has forked a child
//!    into the slot, and `pid = 0` when it has reaped that child. It writes `generation` first and
//!    publishes `pid` with Release, so a reader that sees the pid (Acquire) sees its generation.
//! 3. The parent writes worker statuses only in three places: `Starting` into a slot before it
//!    forks a prefork child there, `Dead` into every worker slot of a child it has reaped, and
//!    `Graceful` into live prefork slots on a graceful restart (apache-mpm-rules.md rule 42).
//! 4. While a child lives, each of its threads writes only its own worker slot (status, counters,
//!    request text), and the child alone writes its process slot's `quiescing`,
//!    `not_accepting` and connection counters.
//! 5. Anyone may read anything at any time without a lock. Readers (maintenance in the parent,
//!    mod_status in any child) accept a view that mixes two moments: Apache reads the same way.
//!    Text fields are copied byte by byte and may be torn mid-update; they are display only.
// ANCHOR_END: slot_rules
//!
//! Orderings: status bytes are stored with Release and loaded with Acquire, so a reader that sees
//! `Ready` also sees the counters the thread updated before becoming ready. Counters are Relaxed:
//! they are statistics, and nothing is decided on two of them being consistent.
#![allow(unsafe_code)]

use std::io;
use std::num::NonZeroUsize;
use std::ptr::NonNull;
use std::sync::atomic::Ordering;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use nix::sys::mman::{MapFlags, ProtFlags, mmap_anonymous, munmap};

mod process_score;
mod worker_score;

pub use process_score::{GlobalScore, ProcessScore};
pub use worker_score::{Text, WorkerScore, WorkerStatus};

pub(crate) fn now_us() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_micros() as i64)
        .unwrap_or(0)
}

pub(crate) fn from_us(us: i64) -> SystemTime {
    UNIX_EPOCH + Duration::from_micros(us.max(0) as u64)
}

/// The whole table. Create it in the parent before forking; children inherit the mapping.
pub struct Scoreboard {
    base: NonNull<u8>,
    bytes: NonZeroUsize,
    server_limit: usize,
    thread_limit: usize,
}

// SAFETY: the mapping holds only atomics (rule 5: every access is an atomic load or store), so
// sharing references to it between threads is as safe as sharing the atomics themselves.
unsafe impl Send for Scoreboard {}
// SAFETY: see `Send` above; no method hands out `&mut` to the mapping.
unsafe impl Sync for Scoreboard {}

fn align_up(n: usize, a: usize) -> usize {
    n.div_ceil(a) * a
}

impl Scoreboard {
    fn process_offset() -> usize {
        align_up(size_of::<GlobalScore>(), align_of::<ProcessScore>().max(8))
    }
    fn worker_offset(server_limit: usize) -> usize {
        align_up(
            Self::process_offset() + server_limit * size_of::<ProcessScore>(),
            align_of::<WorkerScore>().max(8),
        )
    }

    /// Map a zeroed table for `server_limit` processes of `thread_limit` threads each.
    pub fn create(server_limit: usize, thread_limit: usize) -> io::Result<Scoreboard> {
        let (server_limit, thread_limit) = (server_limit.max(1), thread_limit.max(1));
        let len = Self::worker_offset(server_limit)
            + server_limit
                .checked_mul(thread_limit)
                .and_then(|n| n.checked_mul(size_of::<WorkerScore>()))
                .ok_or_else(|| io::Error::other("scoreboard size overflows"))?;
        let bytes = NonZeroUsize::new(len).ok_or_else(|| io::Error::other("empty scoreboard"))?;
        // SAFETY: a fresh anonymous mapping aliases no Rust object. MAP_SHARED keeps it shared
        // with every child forked later (fork(2) duplicates the mapping, not the pages); the
        // kernel zero-fills it, and all-zero bytes are valid values for every atomic in it.
        let ptr = unsafe {
            mmap_anonymous(
                None,
                bytes,
                ProtFlags::PROT_READ | ProtFlags::PROT_WRITE,
                MapFlags::MAP_SHARED,
            )
        }?;
        let sb = Scoreboard {
            base: ptr.cast(),
            bytes,
            server_limit,
            thread_limit,
        };
        let g = sb.global();
        g.server_limit.store(server_limit as u32, Ordering::Relaxed);
        g.thread_limit.store(thread_limit as u32, Ordering::Relaxed);
        g.config_generation.store(1, Ordering::Relaxed);
        g.set_restart_time(SystemTime::now());
        Ok(sb)
    }

    /// Number of process slots (ServerLimit).
    pub fn server_limit(&self) -> usize {
        self.server_limit
    }
    /// Worker slots per process (ThreadLimit; 1 for prefork).
    pub fn thread_limit(&self) -> usize {
        self.thread_limit
    }

    /// The server-wide fields.
    pub fn global(&self) -> &GlobalScore {
        // SAFETY: offset 0 of the mapping is the GlobalScore, suitably aligned (page alignment),
        // and lives as long as `self` (munmap only in Drop).
        unsafe { &*self.base.as_ptr().cast::<GlobalScore>() }
    }

    /// Process slot `slot` (panics when `slot >= server_limit`, a caller bug).
    pub fn process(&self, slot: usize) -> &ProcessScore {
        assert!(slot < self.server_limit, "process slot {slot} out of range");
        // SAFETY: in bounds by the assert; the offset is aligned for ProcessScore by construction
        // (`process_offset`), and the memory lives as long as `self`.
        unsafe {
            &*self
                .base
                .as_ptr()
                .add(Self::process_offset())
                .cast::<ProcessScore>()
                .add(slot)
        }
    }

    /// Worker slot `thread` of process slot `slot`.
    pub fn worker(&self, slot: usize, thread: usize) -> &WorkerScore {
        assert!(
            slot < self.server_limit && thread < self.thread_limit,
            "worker slot out of range"
        );
        let index = slot * self.thread_limit + thread;
        // SAFETY: in bounds by the assert; aligned by `worker_offset`; lives as long as `self`.
        unsafe {
            &*self
                .base
                .as_ptr()
                .add(Self::worker_offset(self.server_limit))
                .cast::<WorkerScore>()
                .add(index)
        }
    }

    /// Hard restart (SIGHUP): Apache recreates the scoreboard, so counters and `RestartTime`
    /// start again. Generations are kept (the parent sets the new one). Parent only, with no
    /// children alive.
    pub fn reset(&self) {
        for slot in 0..self.server_limit {
            self.process(slot).clear();
            for t in 0..self.thread_limit {
                self.worker(slot, t).zero();
            }
        }
        self.global().set_restart_time(SystemTime::now());
    }

    /// Slot of the child with this pid, if any (`ap_find_child_by_pid`).
    pub fn find_pid(&self, pid: i32) -> Option<usize> {
        (0..self.server_limit).find(|&s| pid != 0 && self.process(s).pid() == pid)
    }

    /// Parent, after reaping the child in `slot`: every worker slot dead, the process slot free.
    pub fn mark_reaped(&self, slot: usize) {
        for t in 0..self.thread_limit {
            self.worker(slot, t).set_status(WorkerStatus::Dead);
        }
        self.process(slot).clear();
    }

    /// The scoreboard line as mod_status prints it, over `slots` processes × `threads` threads.
    pub fn status_string(&self, slots: usize, threads: usize) -> String {
        let mut s = String::with_capacity(slots * threads);
        for slot in 0..slots.min(self.server_limit) {
            for t in 0..threads.min(self.thread_limit) {
                s.push(self.worker(slot, t).status().as_char());
            }
        }
        s
    }
}

impl Drop for Scoreboard {
    fn drop(&mut self) {
        // SAFETY: `base`/`bytes` are exactly the mapping made in `create`; no reference into it
        // outlives `self` (every accessor borrows `self`). Other processes keep their own mapping.
        let _ = unsafe { munmap(self.base.cast(), self.bytes.get()) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn create_zeroed_and_sized() {
        let sb = Scoreboard::create(16, 64).unwrap();
        assert_eq!((sb.server_limit(), sb.thread_limit()), (16, 64));
        assert_eq!(sb.global().config_generation(), 1);
        assert_eq!(sb.status_string(16, 64), ".".repeat(16 * 64));
        assert_eq!(sb.process(15).pid(), 0);
    }

    #[test]
    fn slots_do_not_overlap() {
        let sb = Scoreboard::create(3, 2).unwrap();
        sb.process(2).set_pid(42);
        sb.worker(2, 1).set_status(WorkerStatus::BusyWrite);
        sb.worker(0, 0)
            .begin_request("127.0.0.1", "GET / HTTP/1.1", "x:80", "HTTP/1.1");
        assert_eq!(sb.status_string(3, 2), ".....W");
        assert_eq!(sb.process(1).pid(), 0);
        assert_eq!(sb.worker(0, 0).request(), "GET / HTTP/1.1");
        assert_eq!(sb.worker(0, 1).request(), "");
        assert_eq!(sb.find_pid(42), Some(2));
    }

    #[test]
    fn counters_and_ready_reset() {
        let sb = Scoreboard::create(1, 1).unwrap();
        let w = sb.worker(0, 0);
        w.set_status(WorkerStatus::BusyRead);
        w.begin_request("10.0.0.1", &"x".repeat(200), "h:1", "HTTP/1.1");
        assert_eq!(
            w.request().len(),
            63,
            "request text is truncated to the field"
        );
        w.end_request(1000);
        w.end_request(24);
        assert_eq!(
            (w.access_count(), w.bytes_served(), w.conn_count()),
            (2, 1024, 2)
        );
        w.set_status(WorkerStatus::Ready);
        assert_eq!(
            (w.conn_count(), w.my_access_count(), w.access_count()),
            (0, 2, 2)
        );
        assert_eq!(w.request(), "");
        w.set_status(WorkerStatus::Dead);
        assert_eq!(w.my_access_count(), 0);
    }

    #[test]
    fn reaped_slot_is_free_and_dead() {
        let sb = Scoreboard::create(2, 3).unwrap();
        sb.process(1).set_generation(4);
        sb.process(1).set_pid(99);
        sb.process(1).set_quiescing(1);
        for t in 0..3 {
            sb.worker(1, t).set_status(WorkerStatus::Graceful);
        }
        sb.mark_reaped(1);
        assert_eq!((sb.process(1).pid(), sb.process(1).quiescing()), (0, 0));
        assert_eq!(sb.status_string(2, 3), "......");
    }

    #[test]
    fn characters_round_trip() {
        for s in WorkerStatus::ALL {
            assert_eq!(WorkerStatus::from_char(s.as_char()), Some(s));
            assert_eq!(WorkerStatus::from_u8(s as u8), s);
        }
        assert_eq!(WorkerStatus::from_u8(200), WorkerStatus::Dead);
    }
}
