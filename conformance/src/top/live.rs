//! `top`'s live source: a server (ours started here, or any by URL) polled from a thread.
//!
//! Polling, step by step (one thread, `poll_loop`):
//! 1. every `interval` (200–500 ms) read `/server-status?auto`, one request at a time on one
//!    connection (kept alive with `--poll-keepalive`, else a fresh one per poll, as
//!    `mpm-lab run` and the reference `timeline.py` do); the row is built by
//!    [`timeline::sample_with`], so it is a `mpm-lab run` row;
//! 2. every 8th poll also read `?notable` (slot → pid, generation) and PSS from smaps_rollup;
//! 3. read /proc of the server's tree (threads, RSS, CPU since the last poll);
//! 4. read what the error log gained since the last poll;
//! 5. send all of it to the UI thread, which never blocks on the server.

use super::model::{ProcRow, Sample, SlotInfo, parse_notable};
use crate::http::{self, Response};
use crate::procfs;
use crate::server::Server;
use crate::status::StatusAuto;
use crate::timeline;
use crossbeam_channel::{Receiver, Sender};
use std::collections::HashMap;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// What the poller sends to the UI.
pub enum Polled {
    Sample(Box<Sample>),
    /// An error-log line and its time on the timeline's axis.
    Log(f64, String),
}

/// How the poller reaches the status page: a kept connection, or a fresh one per request.
struct StatusClient {
    addr: SocketAddr,
    keepalive: bool,
    conn: Option<TcpStream>,
}

impl StatusClient {
    fn get(&mut self, path: &str) -> io::Result<Response> {
        if !self.keepalive {
            return http::get_with_timeout(self.addr, path, Duration::from_secs(1));
        }
        // One retry on a fresh connection: the server may have closed the kept one
        // (KeepAliveTimeout, MaxKeepAliveRequests, a restart).
        for _ in 0..2 {
            if self.conn.is_none() {
                let s = http::connect(self.addr)?;
                s.set_read_timeout(Some(Duration::from_secs(1)))?;
                self.conn = Some(s);
            }
            let Some(s) = self.conn.as_mut() else {
                continue;
            };
            let req = format!("GET {path} HTTP/1.1\r\nHost: {}\r\n\r\n", self.addr);
            let r = s
                .write_all(req.as_bytes())
                .and_then(|_| http::read_response(s, false));
            match r {
                Ok(Some(resp)) => {
                    if resp.closes() {
                        self.conn = None;
                    }
                    return Ok(resp);
                }
                Ok(None) | Err(_) => self.conn = None,
            }
        }
        Err(io::Error::other("status page did not answer"))
    }
}

/// The live poller's settings.
#[derive(Debug, Clone)]
pub struct PollOptions {
    pub addr: SocketAddr,
    pub pid: Option<i32>,
    pub tpc: usize,
    pub interval: Duration,
    pub keepalive: bool,
    pub error_log: Option<PathBuf>,
}

/// The live source: a poller thread and, if `top` started it, the server.
pub struct Live {
    pub addr: SocketAddr,
    pub pid: Option<i32>,
    pub server: Option<Server>,
    pub t0: Instant,
    pub epoch0: f64,
    rx: Receiver<Polled>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Live {
    /// Start polling (steps 1–5 of the module doc).
    pub fn start(opts: PollOptions, server: Option<Server>) -> Live {
        let (tx, rx) = crossbeam_channel::unbounded();
        let stop = Arc::new(AtomicBool::new(false));
        let t0 = Instant::now();
        let epoch0 = crate::load::epoch_now();
        let thread = {
            let stop = stop.clone();
            let opts = opts.clone();
            std::thread::spawn(move || poll_loop(&opts, t0, epoch0, &tx, &stop))
        };
        Live {
            addr: opts.addr,
            pid: opts.pid,
            server,
            t0,
            epoch0,
            rx,
            stop,
            thread: Some(thread),
        }
    }

    /// Everything polled since the last call.
    pub fn drain(&self) -> Vec<Polled> {
        self.rx.try_iter().collect()
    }

    /// Seconds on the timeline's axis.
    pub fn now(&self) -> f64 {
        self.t0.elapsed().as_secs_f64()
    }

    /// Stop polling (the server, if ours, is stopped when `self` is dropped).
    pub fn stop_polling(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Live {
    fn drop(&mut self) {
        self.stop_polling();
    }
}

/// CPU times per pid at the previous poll, for the per-process CPU column.
type CpuSeen = HashMap<i32, (f64, Instant)>;

fn poll_loop(opts: &PollOptions, t0: Instant, epoch0: f64, tx: &Sender<Polled>, stop: &AtomicBool) {
    let mut client = StatusClient {
        addr: opts.addr,
        keepalive: opts.keepalive,
        conn: None,
    };
    let mut log_pos = 0u64;
    let mut cpu_seen = CpuSeen::new();
    let mut pss: HashMap<i32, u64> = HashMap::new();
    let mut n: u32 = 0;
    while !stop.load(Ordering::Relaxed) {
        let started = Instant::now();
        // Step 1.
        let mut body = None;
        let row = timeline::sample_with(
            || {
                let r = client.get("/server-status?auto");
                if let Ok(r) = &r {
                    body = Some(r.text());
                }
                r
            },
            opts.pid,
            opts.tpc,
            t0,
        );
        let generation = body
            .as_deref()
            .map(StatusAuto::parse)
            .and_then(|st| st.int("ParentServerMPMGeneration"))
            .map(|g| g as u32);
        // Step 2.
        let slow = n % 8 == 0;
        let slots: Option<Vec<SlotInfo>> = if slow {
            client
                .get("/server-status?notable")
                .ok()
                .filter(|r| r.status == 200)
                .map(|r| parse_notable(&r.text()))
        } else {
            None
        };
        // Step 3.
        let procs = opts
            .pid
            .map(|pid| read_procs(pid, &mut cpu_seen, &mut pss, slow));
        let sample = Sample {
            row,
            generation,
            slots,
            procs,
        };
        if tx.send(Polled::Sample(Box::new(sample))).is_err() {
            return;
        }
        // Step 4.
        if let Some(path) = &opts.error_log {
            for line in read_new_lines(path, &mut log_pos) {
                let t = crate::errorlog::parse_line(&line)
                    .and_then(|l| l.epoch)
                    .map_or(t0.elapsed().as_secs_f64(), |e| e - epoch0);
                if tx.send(Polled::Log(t, line)).is_err() {
                    return;
                }
            }
        }
        n = n.wrapping_add(1);
        let spent = started.elapsed();
        let mut left = opts.interval.saturating_sub(spent);
        while !left.is_zero() && !stop.load(Ordering::Relaxed) {
            let d = left.min(Duration::from_millis(50));
            std::thread::sleep(d);
            left -= d;
        }
    }
}

/// The server's tree from /proc, with each process's CPU use since the last reading.
fn read_procs(
    parent: i32,
    cpu_seen: &mut CpuSeen,
    pss: &mut HashMap<i32, u64>,
    read_pss: bool,
) -> Vec<ProcRow> {
    let now = Instant::now();
    let pids = procfs::tree(parent);
    let rows = pids
        .iter()
        .filter_map(|&pid| {
            let info = procfs::info(pid)?;
            let cpu = procfs::cpu_seconds(pid);
            let cpu_percent = match (cpu, cpu_seen.get(&pid)) {
                (Some(c), Some(&(c0, t0))) => {
                    let dt = now.duration_since(t0).as_secs_f64();
                    (dt > 0.0).then(|| (c - c0) / dt * 100.0)
                }
                _ => None,
            };
            if let Some(c) = cpu {
                cpu_seen.insert(pid, (c, now));
            }
            if read_pss && let Some(m) = procfs::memory(pid) {
                pss.insert(pid, m.pss);
            }
            Some(ProcRow {
                pid,
                parent: pid == parent,
                threads: info.threads,
                rss_kb: info.rss_kb,
                pss_kb: pss.get(&pid).copied(),
                cpu_percent,
            })
        })
        .collect();
    cpu_seen.retain(|p, _| pids.contains(p));
    pss.retain(|p, _| pids.contains(p));
    rows
}

/// Complete lines appended to `path` since byte `pos` (which moves past them).
fn read_new_lines(path: &Path, pos: &mut u64) -> Vec<String> {
    let Ok(mut f) = std::fs::File::open(path) else {
        return Vec::new();
    };
    let len = f.metadata().map(|m| m.len()).unwrap_or(0);
    if len < *pos {
        *pos = 0; // the log was truncated or replaced
    }
    if f.seek(SeekFrom::Start(*pos)).is_err() {
        return Vec::new();
    }
    let mut buf = Vec::new();
    if f.take(1 << 20).read_to_end(&mut buf).is_err() {
        return Vec::new();
    }
    let Some(end) = buf.iter().rposition(|&b| b == b'\n') else {
        return Vec::new();
    };
    *pos += end as u64 + 1;
    String::from_utf8_lossy(&buf[..end])
        .lines()
        .map(str::to_string)
        .collect()
}
