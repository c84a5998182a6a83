//! The running-server fuzz (`mpm-lab fuzz-server`): mutated requests from [`generate`] against
//! one of our servers for a bounded time, then three checks:
//! 1. no panic in the error log (a panic is caught and answered 500, but must not happen);
//! 2. no connection held past Timeout: a sample of connections is left open after the request
//!    and must be closed by the server within Timeout + KeepAliveTimeout + the 2 s lingering
//!    close + 1 s of slack;
//! 3. no growth of open file descriptors or RSS per process between a warmed-up "before" and an
//!    "after" taken once the load has stopped and the server has settled (from `/proc`).

use std::io::Read;
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use super::generate::{Rng, mutate, request};
use super::observe::{Patience, exchange};
use crate::procfs;

/// The Timeout and KeepAliveTimeout the fuzzed server runs with (short, so holding is visible).
pub const TIMEOUT_SECS: u64 = 3;
pub const KEEPALIVE_SECS: u64 = 2;

/// What was open and resident in a server's process tree.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Footprint {
    pub processes: usize,
    pub fds: usize,
    pub rss_kb: u64,
}

impl Footprint {
    pub fn of(parent: i32) -> Footprint {
        let mut f = Footprint::default();
        for p in procfs::tree(parent) {
            let Some(info) = procfs::info(p) else {
                continue;
            };
            f.processes += 1;
            f.rss_kb += info.rss_kb;
            f.fds += std::fs::read_dir(format!("/proc/{p}/fd")).map_or(0, |d| d.count());
        }
        f
    }
    fn per_process(&self) -> (f64, f64) {
        let n = self.processes.max(1) as f64;
        (self.fds as f64 / n, self.rss_kb as f64 / n)
    }
}

/// The figures and the failures of one run.
#[derive(Debug, Clone, Default)]
pub struct SoakReport {
    pub requests: usize,
    pub held_checks: usize,
    pub held_past_timeout: Vec<String>,
    pub panics: Vec<String>,
    pub before: Footprint,
    pub after: Footprint,
}

impl SoakReport {
    /// Step 3: more than 2 descriptors per process, or twice the RSS per process.
    pub fn grew(&self) -> bool {
        let (fb, rb) = self.before.per_process();
        let (fa, ra) = self.after.per_process();
        fa > fb + 2.0 || ra > 2.0 * rb
    }
    pub fn ok(&self) -> bool {
        self.held_past_timeout.is_empty() && self.panics.is_empty() && !self.grew()
    }
}

fn mutated(rng: &mut Rng) -> Vec<u8> {
    let mut r = request(rng);
    for _ in 0..rng.below(3) {
        mutate(rng, &mut r);
    }
    r
}

/// Send requests for `seconds` on `threads` connections at a time, every 25th left open to
/// check step 2. `parent` is the server's parent pid, `error_log` reads its log.
pub fn soak(
    addr: SocketAddr,
    parent: i32,
    seconds: u64,
    seed: u64,
    threads: usize,
    error_log: impl Fn() -> String,
) -> SoakReport {
    let quick = Patience {
        first_byte: Duration::from_millis(500),
        idle: Duration::from_millis(50),
    };
    // Warm up so that "before" already has the pool and the heaps a loaded server has.
    let mut rng = Rng::new(seed ^ 0xfeed);
    let warm = Instant::now() + Duration::from_secs(2);
    while Instant::now() < warm {
        let _ = exchange(addr, &mutated(&mut rng), quick);
    }
    std::thread::sleep(Duration::from_secs(KEEPALIVE_SECS + 1));
    let mut report = SoakReport {
        before: Footprint::of(parent),
        ..SoakReport::default()
    };
    let sent = AtomicUsize::new(0);
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let limit = Duration::from_secs(TIMEOUT_SECS + KEEPALIVE_SECS + 3);
    let held: Vec<(usize, Vec<String>)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads.max(1))
            .map(|t| {
                let sent = &sent;
                s.spawn(move || {
                    let mut rng = Rng::new(seed.wrapping_add(t as u64));
                    let (mut checks, mut bad) = (0, Vec::new());
                    while Instant::now() < deadline {
                        let req = mutated(&mut rng);
                        let n = sent.fetch_add(1, Ordering::Relaxed);
                        if n % 25 == 0 {
                            checks += 1;
                            if let Some(e) = held_open(addr, &req, limit) {
                                bad.push(format!("{e}: {}", super::wire::escape(&req)));
                            }
                        } else {
                            let _ = exchange(addr, &req, quick);
                        }
                    }
                    (checks, bad)
                })
            })
            .collect();
        handles.into_iter().filter_map(|h| h.join().ok()).collect()
    });
    for (checks, bad) in held {
        report.held_checks += checks;
        report.held_past_timeout.extend(bad);
    }
    report.requests = sent.load(Ordering::Relaxed);
    std::thread::sleep(Duration::from_secs(KEEPALIVE_SECS + 1));
    report.after = Footprint::of(parent);
    report.panics = error_log()
        .lines()
        .filter(|l| l.contains("panic"))
        .map(str::to_string)
        .collect();
    report
}

/// Step 2 for one request: `Some(what)` when the server still holds the connection after `limit`.
fn held_open(addr: SocketAddr, req: &[u8], limit: Duration) -> Option<String> {
    use std::io::Write;
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(5)).ok()?;
    let _ = s.write_all(req);
    let start = Instant::now();
    let mut buf = [0u8; 16384];
    let held = || Some(format!("open after {limit:?}"));
    loop {
        let Some(left) = limit.checked_sub(start.elapsed()).filter(|l| !l.is_zero()) else {
            return held();
        };
        s.set_read_timeout(Some(left)).ok()?;
        match s.read(&mut buf) {
            Ok(0) => return None,
            Ok(_) => {}
            Err(e) if crate::http::is_timeout(&e) => return held(),
            // A reset closes it too.
            Err(_) => return None,
        }
    }
}
