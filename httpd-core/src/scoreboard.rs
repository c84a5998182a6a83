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
use std::sync::atomic::{AtomicI32, AtomicI64, AtomicU8, AtomicU32, AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use nix::sys::mman::{MapFlags, ProtFlags, mmap_anonymous, munmap};

/// A worker slot's state, with Apache's values (`scoreboard.h`) and mod_status characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum WorkerStatus {
    /// `.` empty slot, or a thread that is not running.
    Dead = 0,
    /// `S` the parent has forked (prefork) or the thread is being started.
    Starting = 1,
    /// `_` idle, waiting for a connection.
    Ready = 2,
    /// `R` reading a request (event: waiting for I/O).
    BusyRead = 3,
    /// `W` handling a request and writing the response (event: write completion).
    BusyWrite = 4,
    /// `K` waiting for the next request on a keep-alive connection.
    BusyKeepalive = 5,
    /// `L` writing the access log.
    BusyLog = 6,
    /// `D` DNS lookup (defined by Apache, never set by the core).
    BusyDns = 7,
    /// `C` lingering close.
    Closing = 8,
    /// `G` finishing its work before leaving (graceful restart or stop).
    Graceful = 9,
    /// `I` defined by Apache, unused by the Unix MPMs.
    IdleKill = 10,
}

impl WorkerStatus {
    /// Every status, in value order.
    pub const ALL: [WorkerStatus; 11] = [
        WorkerStatus::Dead,
        WorkerStatus::Starting,
        WorkerStatus::Ready,
        WorkerStatus::BusyRead,
        WorkerStatus::BusyWrite,
        WorkerStatus::BusyKeepalive,
        WorkerStatus::BusyLog,
        WorkerStatus::BusyDns,
        WorkerStatus::Closing,
        WorkerStatus::Graceful,
        WorkerStatus::IdleKill,
    ];

    /// The character mod_status prints for this status.
    pub fn as_char(self) -> char {
        b".S_RWKLDCGI"[self as usize] as char
    }

    /// The status with this value; an out-of-range byte (impossible unless memory is corrupt)
    /// reads as `Dead` rather than panicking in a reader.
    pub fn from_u8(v: u8) -> WorkerStatus {
        Self::ALL
            .get(v as usize)
            .copied()
            .unwrap_or(WorkerStatus::Dead)
    }

    /// The status for a mod_status character.
    pub fn from_char(c: char) -> Option<WorkerStatus> {
        Self::ALL.iter().copied().find(|s| s.as_char() == c)
    }
}

fn now_us() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_micros() as i64)
        .unwrap_or(0)
}

fn from_us(us: i64) -> SystemTime {
    UNIX_EPOCH + Duration::from_micros(us.max(0) as u64)
}

/// A fixed-size text field in shared memory (NUL-terminated when shorter than `N`).
#[repr(C)]
pub struct Text<const N: usize>([AtomicU8; N]);

impl<const N: usize> Text<N> {
    fn set(&self, s: &str) {
        let b = s.as_bytes();
        let n = b.len().min(N - 1);
        for (cell, byte) in self.0.iter().zip(b[..n].iter()) {
            cell.store(*byte, Ordering::Relaxed);
        }
        self.0[n].store(0, Ordering::Relaxed);
    }

    fn get(&self) -> String {
        let bytes: Vec<u8> = self
            .0
            .iter()
            .map(|c| c.load(Ordering::Relaxed))
            .take_while(|b| *b != 0)
            .collect();
        String::from_utf8_lossy(&bytes).into_owned()
    }
}

/// The server-wide part (`global_score`).
#[repr(C)]
pub struct GlobalScore {
    server_limit: AtomicU32,
    thread_limit: AtomicU32,
    running_generation: AtomicU32,
    config_generation: AtomicU32,
    restart_time_us: AtomicI64,
}

impl GlobalScore {
    /// The MPM generation children must belong to (`ParentServerMPMGeneration`).
    pub fn running_generation(&self) -> u32 {
        self.running_generation.load(Ordering::Acquire)
    }
    /// Parent only (rule 2): a restart started generation `g`.
    pub fn set_running_generation(&self, g: u32) {
        self.running_generation.store(g, Ordering::Release)
    }
    /// How many times the configuration was read (`ParentServerConfigGeneration`, starts at 1).
    pub fn config_generation(&self) -> u32 {
        self.config_generation.load(Ordering::Relaxed)
    }
    /// Parent only.
    pub fn set_config_generation(&self, g: u32) {
        self.config_generation.store(g, Ordering::Relaxed)
    }
    /// When the scoreboard was created or last reset by a hard restart (`RestartTime`).
    pub fn restart_time(&self) -> SystemTime {
        from_us(self.restart_time_us.load(Ordering::Relaxed))
    }
    /// Parent only.
    pub fn set_restart_time(&self, t: SystemTime) {
        let us = t
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_micros() as i64)
            .unwrap_or(0);
        self.restart_time_us.store(us, Ordering::Relaxed)
    }
}

/// One process slot (`process_score`).
#[repr(C)]
pub struct ProcessScore {
    pid: AtomicI32,
    generation: AtomicU32,
    quiescing: AtomicU8,
    not_accepting: AtomicU8,
    connections: AtomicU32,
    write_completion: AtomicU32,
    lingering_close: AtomicU32,
    keep_alive: AtomicU32,
    suspended: AtomicU32,
    wait_io: AtomicU32,
}

macro_rules! counter {
    ($get:ident, $set:ident, $doc:literal) => {
        #[doc = $doc]
        pub fn $get(&self) -> u32 {
            self.$get.load(Ordering::Relaxed)
        }
        #[doc = concat!("Set by the child that owns the slot (rule 4). ", $doc)]
        pub fn $set(&self, v: u32) {
            self.$get.store(v, Ordering::Relaxed)
        }
    };
}

impl ProcessScore {
    /// The child's pid, 0 for a free slot.
    pub fn pid(&self) -> i32 {
        self.pid.load(Ordering::Acquire)
    }
    /// Parent only (rule 2). Publish the generation first with [`set_generation`](Self::set_generation).
    pub fn set_pid(&self, pid: i32) {
        self.pid.store(pid, Ordering::Release)
    }
    /// The generation the child was started in.
    pub fn generation(&self) -> u32 {
        self.generation.load(Ordering::Relaxed)
    }
    /// Parent only (rule 2), before `set_pid`.
    pub fn set_generation(&self, g: u32) {
        self.generation.store(g, Ordering::Relaxed)
    }
    /// Non-zero while the child is stopping (event switches 1 to 2 once the parent has seen it).
    pub fn quiescing(&self) -> u8 {
        self.quiescing.load(Ordering::Acquire)
    }
    /// The child says it is stopping (rule 4); the event parent also acknowledges 1 → 2.
    pub fn set_quiescing(&self, q: u8) {
        self.quiescing.store(q, Ordering::Release)
    }
    /// Non-zero while an event child has disabled its listeners (§5.4).
    pub fn not_accepting(&self) -> u8 {
        self.not_accepting.load(Ordering::Acquire)
    }
    /// Child only (rule 4).
    pub fn set_not_accepting(&self, v: u8) {
        self.not_accepting.store(v, Ordering::Release)
    }
    counter!(
        connections,
        set_connections,
        "Open connections of an event child."
    );
    counter!(
        write_completion,
        set_write_completion,
        "Event connections in write completion."
    );
    counter!(
        lingering_close,
        set_lingering_close,
        "Event connections in lingering close."
    );
    counter!(
        keep_alive,
        set_keep_alive,
        "Event connections parked in the keep-alive queue."
    );
    counter!(
        suspended,
        set_suspended,
        "Suspended connections (owned by a module)."
    );
    counter!(wait_io, set_wait_io, "Event connections waiting for I/O.");

    /// Parent, on reap: the slot is free again (rule 2).
    pub fn clear(&self) {
        self.quiescing.store(0, Ordering::Relaxed);
        self.not_accepting.store(0, Ordering::Relaxed);
        for c in [
            &self.connections,
            &self.write_completion,
            &self.lingering_close,
            &self.keep_alive,
            &self.suspended,
            &self.wait_io,
        ] {
            c.store(0, Ordering::Relaxed);
        }
        self.pid.store(0, Ordering::Release);
    }
}

/// One worker slot (`worker_score`).
#[repr(C)]
pub struct WorkerScore {
    status: AtomicU8,
    pid: AtomicI32,
    tid: AtomicI32,
    generation: AtomicU32,
    access_count: AtomicU64,
    bytes_served: AtomicU64,
    my_access_count: AtomicU64,
    my_bytes_served: AtomicU64,
    conn_count: AtomicU64,
    conn_bytes: AtomicU64,
    start_time_us: AtomicI64,
    stop_time_us: AtomicI64,
    last_used_us: AtomicI64,
    duration_us: AtomicU64,
    client: Text<32>,
    request: Text<64>,
    vhost: Text<32>,
    protocol: Text<16>,
}

impl WorkerScore {
    /// The current status.
    pub fn status(&self) -> WorkerStatus {
        WorkerStatus::from_u8(self.status.load(Ordering::Acquire))
    }

    /// `ap_update_child_status`: store the new status; entering `Ready` or `Dead` ends the
    /// connection's counters (and `Dead` the child's), and `Ready` clears the request text.
    pub fn set_status(&self, s: WorkerStatus) {
        if matches!(s, WorkerStatus::Ready | WorkerStatus::Dead) {
            if s == WorkerStatus::Dead {
                self.my_access_count.store(0, Ordering::Relaxed);
                self.my_bytes_served.store(0, Ordering::Relaxed);
            }
            self.conn_count.store(0, Ordering::Relaxed);
            self.conn_bytes.store(0, Ordering::Relaxed);
            self.last_used_us.store(now_us(), Ordering::Relaxed);
        }
        if s == WorkerStatus::Ready {
            self.client.set("");
            self.request.set("");
            self.vhost.set("");
            self.protocol.set("");
        }
        self.status.store(s as u8, Ordering::Release);
    }

    /// A thread records who runs in this slot when it starts (rule 4).
    pub fn set_identity(&self, pid: i32, tid: i32, generation: u32) {
        self.pid.store(pid, Ordering::Relaxed);
        self.tid.store(tid, Ordering::Relaxed);
        self.generation.store(generation, Ordering::Relaxed);
    }

    /// A request line has been read: record it for the status page (ExtendedStatus).
    pub fn begin_request(&self, client: &str, request_line: &str, vhost: &str, protocol: &str) {
        self.start_time_us.store(now_us(), Ordering::Relaxed);
        self.client.set(client);
        self.request.set(request_line);
        self.vhost.set(vhost);
        self.protocol.set(protocol);
    }

    /// The response is out (`ap_increment_counts`): count the access and its body bytes.
    pub fn end_request(&self, bytes: u64) {
        let now = now_us();
        let start = self.start_time_us.load(Ordering::Relaxed);
        for c in [&self.access_count, &self.my_access_count, &self.conn_count] {
            c.fetch_add(1, Ordering::Relaxed);
        }
        for c in [&self.bytes_served, &self.my_bytes_served, &self.conn_bytes] {
            c.fetch_add(bytes, Ordering::Relaxed);
        }
        if start > 0 && now >= start {
            self.duration_us
                .fetch_add((now - start) as u64, Ordering::Relaxed);
        }
        self.stop_time_us.store(now, Ordering::Relaxed);
        self.last_used_us.store(now, Ordering::Relaxed);
    }

    /// Pid of the process that last ran in this slot.
    pub fn pid(&self) -> i32 {
        self.pid.load(Ordering::Relaxed)
    }
    /// Kernel thread id of the thread that last ran in this slot.
    pub fn tid(&self) -> i32 {
        self.tid.load(Ordering::Relaxed)
    }
    /// Generation of the process that last ran in this slot.
    pub fn generation(&self) -> u32 {
        self.generation.load(Ordering::Relaxed)
    }
    /// Requests served by this slot since the scoreboard was created.
    pub fn access_count(&self) -> u64 {
        self.access_count.load(Ordering::Relaxed)
    }
    /// Body bytes sent by this slot since the scoreboard was created.
    pub fn bytes_served(&self) -> u64 {
        self.bytes_served.load(Ordering::Relaxed)
    }
    /// Requests served by the current child in this slot.
    pub fn my_access_count(&self) -> u64 {
        self.my_access_count.load(Ordering::Relaxed)
    }
    /// Body bytes sent by the current child in this slot.
    pub fn my_bytes_served(&self) -> u64 {
        self.my_bytes_served.load(Ordering::Relaxed)
    }
    /// Requests on the current connection.
    pub fn conn_count(&self) -> u64 {
        self.conn_count.load(Ordering::Relaxed)
    }
    /// Body bytes on the current connection.
    pub fn conn_bytes(&self) -> u64 {
        self.conn_bytes.load(Ordering::Relaxed)
    }
    /// When the current or last request started.
    pub fn start_time(&self) -> SystemTime {
        from_us(self.start_time_us.load(Ordering::Relaxed))
    }
    /// When the last request ended.
    pub fn stop_time(&self) -> SystemTime {
        from_us(self.stop_time_us.load(Ordering::Relaxed))
    }
    /// When the slot last changed between connections or requests.
    pub fn last_used(&self) -> SystemTime {
        from_us(self.last_used_us.load(Ordering::Relaxed))
    }
    /// Total time spent serving requests, in microseconds.
    pub fn duration_us(&self) -> u64 {
        self.duration_us.load(Ordering::Relaxed)
    }
    /// Client address of the current or last request.
    pub fn client(&self) -> String {
        self.client.get()
    }
    /// The current or last request line (first 63 bytes).
    pub fn request(&self) -> String {
        self.request.get()
    }
    /// `host:port` of the current or last request.
    pub fn vhost(&self) -> String {
        self.vhost.get()
    }
    /// Protocol of the current or last request.
    pub fn protocol(&self) -> String {
        self.protocol.get()
    }

    fn zero(&self) {
        self.status.store(0, Ordering::Relaxed);
        for c in [&self.pid, &self.tid] {
            c.store(0, Ordering::Relaxed);
        }
        self.generation.store(0, Ordering::Relaxed);
        for c in [
            &self.access_count,
            &self.bytes_served,
            &self.my_access_count,
            &self.my_bytes_served,
            &self.conn_count,
            &self.conn_bytes,
            &self.duration_us,
        ] {
            c.store(0, Ordering::Relaxed);
        }
        for c in [&self.start_time_us, &self.stop_time_us, &self.last_used_us] {
            c.store(0, Ordering::Relaxed);
        }
        self.client.set("");
        self.request.set("");
        self.vhost.set("");
        self.protocol.set("");
    }
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
