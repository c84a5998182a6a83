//! One reading of the scoreboard with mod_status's counting rules applied (§7.4, rules
//! 38–39): the "decide" half of `status_handler`; `auto` and `html` only format the result.

use std::time::{Duration, SystemTime};

use super::{Environment, MpmStatusInfo};
use crate::scoreboard::{Scoreboard, WorkerStatus};

/// One process slot's row of event's table.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProcessRow {
    /// Slot number.
    pub slot: usize,
    /// Process id.
    pub pid: i32,
    /// `quiescing` ≠ 0: "Stopping: yes".
    pub stopping: bool,
    /// Generation differs from the running one: " (old gen)".
    pub old_gen: bool,
    /// `connections`.
    pub connections: u32,
    /// `not_accepting` = 0.
    pub accepting: bool,
    /// Threads busy / graceful / idle (counted only for non-quiescing processes, as Apache).
    pub busy: u32,
    /// Threads `G`.
    pub graceful: u32,
    /// Threads `_`.
    pub idle: u32,
    /// Async connections: wait-io, writing, keep-alive, closing.
    pub wait_io: u32,
    /// `write_completion`.
    pub writing: u32,
    /// `keep_alive`.
    pub keep_alive: u32,
    /// `lingering_close`.
    pub closing: u32,
}

/// One worker slot's row of the per-worker table (shown unless it never served and is
/// `_` or `.`, as Apache).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WorkerRow {
    /// Process slot.
    pub slot: usize,
    /// Thread number.
    pub thread: usize,
    /// The process slot's generation ("Srv slot-gen").
    pub generation: u32,
    /// Pid of the process slot, 0 when dead (shown as "-").
    pub pid: i32,
    /// Mode character.
    pub mode: char,
    /// Long name of the mode (`?notable`).
    pub mode_name: &'static str,
    /// Accesses this connection / child / slot.
    pub conn_count: u64,
    /// `my_access_count`.
    pub my_access_count: u64,
    /// `access_count`.
    pub access_count: u64,
    /// Seconds since last used.
    pub ss: u64,
    /// Milliseconds of the most recent request.
    pub req_ms: u64,
    /// Total milliseconds of all requests.
    pub dur_ms: u64,
    /// Bytes this connection / child / slot.
    pub conn_bytes: u64,
    /// `my_bytes_served`.
    pub my_bytes: u64,
    /// `bytes_served`.
    pub bytes: u64,
    /// Client address.
    pub client: String,
    /// Protocol.
    pub protocol: String,
    /// Virtual host "name:port".
    pub vhost: String,
    /// Request line (client-controlled: escape before printing).
    pub request: String,
}

/// One reading of the scoreboard with Apache's counts applied.
#[derive(Debug, Clone)]
pub struct Report {
    /// MPM facts.
    pub info: MpmStatusInfo,
    /// Clock, load, CPU.
    pub env: Environment,
    /// `RestartTime`.
    pub restart_time: SystemTime,
    /// `ParentServerConfigGeneration`.
    pub config_generation: u32,
    /// `ParentServerMPMGeneration`.
    pub running_generation: u32,
    /// Whole seconds since restart.
    pub uptime: u64,
    /// `Total Accesses`.
    pub accesses: u64,
    /// `Total kBytes`.
    pub kbytes: u64,
    /// `Total Duration` in ms.
    pub duration_ms: u64,
    /// The same in µs (DurationPerReq divides this).
    pub duration_us: u64,
    /// `BusyWorkers`.
    pub busy: u32,
    /// `GracefulWorkers`.
    pub graceful: u32,
    /// `IdleWorkers`.
    pub idle: u32,
    /// Event: process slots with a pid / of which quiescing.
    pub processes: u32,
    /// `Stopping`.
    pub stopping: u32,
    /// Sums of the process counters.
    pub sum: ProcessRow,
    /// Event's per-process rows (slots with a pid).
    pub process_rows: Vec<ProcessRow>,
    /// The scoreboard line.
    pub scoreboard: String,
    /// Per-worker rows.
    pub workers: Vec<WorkerRow>,
}

/// Rule 39: does a worker slot count as idle / graceful / busy? `None`: not counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Counted {
    /// `_` of a current-generation process.
    Idle,
    /// `G`.
    Graceful,
    /// Anything else but `. S I` (and `_` of an old generation, which is not counted).
    Busy,
}

/// §7.4: how a worker slot of a live, non-quiescing process is counted.
pub fn classify(status: WorkerStatus, process_is_current: bool) -> Option<Counted> {
    use WorkerStatus::*;
    match status {
        Ready if process_is_current => Some(Counted::Idle),
        Ready | Dead | Starting | IdleKill => None,
        Graceful => Some(Counted::Graceful),
        BusyRead | BusyWrite | BusyKeepalive | BusyLog | BusyDns | Closing => Some(Counted::Busy),
    }
}

fn mode_name(s: WorkerStatus) -> &'static str {
    use WorkerStatus::*;
    match s {
        Dead => "Dead",
        Starting => "Starting",
        Ready => "Ready",
        BusyRead => "Read",
        BusyWrite => "Write",
        BusyKeepalive => "Keepalive",
        BusyLog => "Logging",
        BusyDns => "DNS lookup",
        Closing => "Closing",
        Graceful => "Graceful",
        IdleKill => "Dying",
    }
}

fn since(later: SystemTime, earlier: SystemTime) -> Duration {
    later.duration_since(earlier).unwrap_or_default()
}

impl Report {
    /// Read the scoreboard (the loop of `status_handler`).
    pub fn gather(sb: &Scoreboard, info: &MpmStatusInfo, env: &Environment) -> Report {
        let g = sb.global();
        let running = g.running_generation();
        let restart_time = g.restart_time();
        let server_limit = info.server_limit.min(sb.server_limit());
        let thread_limit = sb.thread_limit();
        let tpc = info.threads_per_child.max(1); // Apache: "work around buggy MPMs"
        let mut r = Report {
            info: info.clone(),
            env: env.clone(),
            restart_time,
            config_generation: g.config_generation(),
            running_generation: running,
            uptime: since(env.now, restart_time).as_secs(),
            accesses: 0,
            kbytes: 0,
            duration_ms: 0,
            duration_us: 0,
            busy: 0,
            graceful: 0,
            idle: 0,
            processes: 0,
            stopping: 0,
            sum: ProcessRow::default(),
            process_rows: Vec::new(),
            scoreboard: String::with_capacity(info.max_daemons * tpc),
            workers: Vec::new(),
        };
        let (mut bytes, mut duration_us) = (0u64, 0u64);
        for i in 0..server_limit {
            let ps = sb.process(i);
            let pid = ps.pid();
            let counted = pid != 0 && ps.quiescing() == 0;
            let current = ps.generation() == running;
            let mut row = ProcessRow {
                slot: i,
                pid,
                stopping: ps.quiescing() != 0,
                old_gen: !current,
                connections: ps.connections(),
                accepting: ps.not_accepting() == 0,
                wait_io: ps.wait_io(),
                writing: ps.write_completion(),
                keep_alive: ps.keep_alive(),
                closing: ps.lingering_close(),
                ..ProcessRow::default()
            };
            for j in 0..thread_limit {
                let ws = sb.worker(i, j);
                let st = ws.status();
                // Rule 38: a dead slot beyond MaxRequestWorkers (SERVER_DISABLED) is left out.
                if !((i >= info.max_daemons || j >= tpc) && st == WorkerStatus::Dead) {
                    r.scoreboard.push(st.as_char());
                }
                if counted {
                    match classify(st, current) {
                        Some(Counted::Idle) => r.idle += 1,
                        Some(Counted::Graceful) => r.graceful += 1,
                        Some(Counted::Busy) => r.busy += 1,
                        None => {}
                    }
                    // Per-process thread counts: Apache counts every `_` here, old gen or not.
                    match classify(st, true) {
                        Some(Counted::Idle) => row.idle += 1,
                        Some(Counted::Graceful) => row.graceful += 1,
                        Some(Counted::Busy) => row.busy += 1,
                        None => {}
                    }
                }
                let acc = ws.access_count();
                let busy_or_served =
                    acc != 0 || !matches!(st, WorkerStatus::Ready | WorkerStatus::Dead);
                if busy_or_served {
                    r.accesses += acc;
                    bytes += ws.bytes_served();
                    duration_us += ws.duration_us();
                    r.workers.push(worker_row(sb, i, j, env.now));
                }
            }
            if pid != 0 {
                r.processes += 1;
                r.stopping += u32::from(row.stopping);
                r.sum.busy += row.busy;
                r.sum.graceful += row.graceful;
                r.sum.idle += row.idle;
                r.process_rows.push(row.clone());
            }
            // Apache sums the connection counters over every slot, live or not.
            r.sum.connections += row.connections;
            r.sum.wait_io += row.wait_io;
            r.sum.writing += row.writing;
            r.sum.keep_alive += row.keep_alive;
            r.sum.closing += row.closing;
        }
        r.kbytes = bytes >> 10;
        r.duration_us = duration_us;
        r.duration_ms = duration_us / 1000;
        r
    }
}

fn worker_row(sb: &Scoreboard, i: usize, j: usize, now: SystemTime) -> WorkerRow {
    let ps = sb.process(i);
    let ws = sb.worker(i, j);
    let st = ws.status();
    let (start, stop) = (ws.start_time(), ws.stop_time());
    // Apache: req_time is stop − start only once the request has finished (stop > start).
    let req_ms = if stop > start {
        since(stop, start).as_millis() as u64
    } else {
        0
    };
    WorkerRow {
        slot: i,
        thread: j,
        generation: ps.generation(),
        pid: if st == WorkerStatus::Dead {
            0
        } else {
            ps.pid()
        },
        mode: st.as_char(),
        mode_name: mode_name(st),
        conn_count: ws.conn_count(),
        my_access_count: ws.my_access_count(),
        access_count: ws.access_count(),
        // Apache stamps `last_used` on every status change; a slot never stamped here (epoch)
        // would otherwise show the seconds since 1970.
        ss: match ws.last_used() {
            SystemTime::UNIX_EPOCH => 0,
            used => since(now, used).as_secs(),
        },
        req_ms,
        dur_ms: ws.duration_us() / 1000,
        conn_bytes: ws.conn_bytes(),
        my_bytes: ws.my_bytes_served(),
        bytes: ws.bytes_served(),
        client: ws.client(),
        protocol: ws.protocol(),
        vhost: ws.vhost(),
        request: ws.request(),
    }
}
