//! A small closed-loop HTTP benchmark: N connections, each a thread that sends a request,
//! reads the whole response, and repeats, for a fixed time. Reports requests/s and latency
//! percentiles. It is deliberately simple (one thread per connection, like a prefork client);
//! `mpm-lab bench` prefers `wrk` when it is installed.

use crate::http;
use std::io::Write;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// One benchmark case.
#[derive(Debug, Clone)]
pub struct Case {
    pub path: String,
    pub keepalive: bool,
    pub connections: usize,
    pub duration: Duration,
}

/// What one case measured.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    pub requests: u64,
    pub errors: u64,
    pub rps: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

/// Run one case against `addr`.
pub fn run(addr: SocketAddr, case: &Case) -> Outcome {
    let lat = Arc::new(Mutex::new(Vec::new()));
    let errors = Arc::new(Mutex::new(0u64));
    let start = Instant::now();
    let end = start + case.duration;
    std::thread::scope(|sc| {
        for _ in 0..case.connections {
            let (lat, errors) = (lat.clone(), errors.clone());
            sc.spawn(move || {
                let conn_hdr = if case.keepalive {
                    ""
                } else {
                    "Connection: close\r\n"
                };
                let req = format!(
                    "GET {} HTTP/1.1\r\nHost: {addr}\r\n{conn_hdr}\r\n",
                    case.path
                );
                let mut mine = Vec::new();
                let mut errs = 0u64;
                let mut conn = None;
                while Instant::now() < end {
                    let t = Instant::now();
                    if conn.is_none() {
                        conn = http::connect(addr).ok();
                    }
                    let Some(s) = conn.as_mut() else {
                        errs += 1;
                        std::thread::sleep(Duration::from_millis(10));
                        continue;
                    };
                    let resp = match s.write_all(req.as_bytes()) {
                        Ok(()) => http::read_response(s, false).ok().flatten(),
                        Err(_) => None,
                    };
                    let ok = resp.as_ref().is_some_and(|r| r.status == 200);
                    if ok {
                        mine.push(t.elapsed());
                    } else {
                        errs += 1;
                    }
                    // The server ends a keep-alive connection after MaxKeepAliveRequests
                    // (announcing `Connection: close`): reconnect rather than count an error.
                    if !ok || !case.keepalive || resp.is_some_and(|r| r.closes()) {
                        conn = None;
                    }
                }
                lat.lock().unwrap_or_else(|e| e.into_inner()).extend(mine);
                *errors.lock().unwrap_or_else(|e| e.into_inner()) += errs;
            });
        }
    });
    let elapsed = start.elapsed().as_secs_f64();
    let mut l = std::mem::take(&mut *lat.lock().unwrap_or_else(|e| e.into_inner()));
    l.sort_unstable();
    let errors = *errors.lock().unwrap_or_else(|e| e.into_inner());
    Outcome {
        requests: l.len() as u64,
        errors,
        rps: l.len() as f64 / elapsed,
        p50_ms: percentile(&l, 0.50),
        p99_ms: percentile(&l, 0.99),
    }
}

/// The four standard cases: keep-alive and `Connection: close`, 1 KiB and 100 KiB.
pub fn standard_cases(connections: usize, duration: Duration) -> Vec<(String, Case)> {
    let mut v = Vec::new();
    for keepalive in [true, false] {
        for path in ["/1k.bin", "/100k.bin"] {
            let label = format!(
                "{} {}",
                if keepalive { "keep-alive" } else { "close" },
                path.trim_start_matches('/')
            );
            v.push((
                label,
                Case {
                    path: path.into(),
                    keepalive,
                    connections,
                    duration,
                },
            ));
        }
    }
    v
}

/// `wrk` on the PATH, if installed (Debian: `apt-get install wrk`).
pub fn wrk_path() -> Option<std::path::PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join("wrk"))
        .find(|p| p.is_file())
}

fn parse_duration_ms(s: &str) -> Option<f64> {
    let s = s.trim();
    let (num, unit) = s.split_at(s.find(|c: char| c.is_ascii_alphabetic())?);
    let v: f64 = num.parse().ok()?;
    Some(match unit {
        "us" => v / 1000.0,
        "ms" => v,
        "s" => v * 1000.0,
        "m" => v * 60_000.0,
        _ => return None,
    })
}

/// Parse `wrk --latency` output.
pub fn parse_wrk(out: &str) -> Option<Outcome> {
    let mut o = Outcome::default();
    for line in out.lines().map(str::trim) {
        if let Some(v) = line.strip_prefix("Requests/sec:") {
            o.rps = v.trim().parse().ok()?;
        } else if let Some(v) = line.strip_prefix("50%") {
            o.p50_ms = parse_duration_ms(v)?;
        } else if let Some(v) = line.strip_prefix("99%") {
            o.p99_ms = parse_duration_ms(v)?;
        } else if line.contains("requests in") {
            o.requests = line.split_whitespace().next()?.parse().ok()?;
        } else if let Some(v) = line.strip_prefix("Non-2xx or 3xx responses:") {
            o.errors += v.trim().parse::<u64>().ok()?;
        } else if let Some(v) = line.strip_prefix("Socket errors:") {
            o.errors += v
                .split(',')
                .filter_map(|p| p.split_whitespace().last()?.parse::<u64>().ok())
                .sum::<u64>();
        }
    }
    (o.rps > 0.0).then_some(o)
}

/// Run one case with `wrk` (2 threads).
pub fn run_wrk(wrk: &std::path::Path, addr: SocketAddr, case: &Case) -> std::io::Result<Outcome> {
    let mut cmd = std::process::Command::new(wrk);
    cmd.args(["-t2", "--latency"])
        .arg(format!("-c{}", case.connections))
        .arg(format!("-d{}s", case.duration.as_secs().max(1)));
    if !case.keepalive {
        cmd.args(["-H", "Connection: close"]);
    }
    let out = cmd.arg(format!("http://{addr}{}", case.path)).output()?;
    let text = String::from_utf8_lossy(&out.stdout);
    parse_wrk(&text)
        .ok_or_else(|| std::io::Error::other(format!("cannot parse wrk output:\n{text}")))
}

/// A results table: one line per (server, case).
pub fn table(results: &[(String, String, Outcome)]) -> String {
    let mut s = format!(
        "{:<28} {:<20} {:>10} {:>9} {:>9} {:>9} {:>7}\n",
        "server", "case", "requests", "req/s", "p50 ms", "p99 ms", "errors"
    );
    for (server, case, o) in results {
        s.push_str(&format!(
            "{server:<28} {case:<20} {:>10} {:>9.0} {:>9.2} {:>9.2} {:>7}\n",
            o.requests, o.rps, o.p50_ms, o.p99_ms, o.errors
        ));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_wrk_latency_output() {
        let out = "Running 5s test @ http://127.0.0.1:18080/1k.bin\n  2 threads and 50 connections\n  Latency Distribution\n     50%  812.00us\n     75%    1.2ms\n     90%    2.00ms\n     99%    5.10ms\n  61234 requests in 5.00s, 70.00MB read\n  Socket errors: connect 0, read 2, write 0, timeout 1\nRequests/sec:  12246.80\nTransfer/sec:     14.00MB\n";
        let o = parse_wrk(out).unwrap();
        assert_eq!(o.requests, 61234);
        assert!((o.p50_ms - 0.812).abs() < 1e-9 && (o.p99_ms - 5.1).abs() < 1e-9);
        assert_eq!(o.errors, 3);
    }
}
