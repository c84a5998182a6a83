//! A worker slot (`worker_score` in `include/scoreboard.h`): the status letter mod_status
//! shows, the request counters, and the text of the request in progress. Each slot is written
//! only by its own thread (prefork: its process), per the slot-ownership rules of [`super`].

use std::sync::atomic::{AtomicI32, AtomicI64, AtomicU8, AtomicU32, AtomicU64, Ordering};
use std::time::SystemTime;

use super::{from_us, now_us};

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

    pub(super) fn zero(&self) {
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
