//! A small closed-loop HTTP benchmark: N connections, each a thread that sends a request,
//! reads the whole response, and repeats, for a fixed time. Reports requests/s and latency
//! percentiles. It is deliberately simple (one thread per connection, like a prefork client);
//! `mpm-lab bench` prefers `wrk` when it is installed.
//!
//! Around each case it also reads the server's CPU time from `/proc` ([`measure`]): requests/s
//! on a 2-core machine where the client runs too measure client and server together, while
//! server CPU per request is what the server itself costs. And [`idle_memory`] and
//! [`idle_capacity`] give the memory figures the MPM issues ask for.

use crate::http;
use std::io::{self, Write};
use std::net::SocketAddr;
use std::path::Path;
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
    /// Server CPU time (user + system, all its processes) per request, in µs, when the
    /// server's pid is known.
    pub cpu_us: Option<f64>,
}

/// A server under benchmark: where it listens and, when known, its control process.
#[derive(Debug, Clone)]
pub struct Target {
    pub label: String,
    pub addr: SocketAddr,
    pub pid: Option<i32>,
}

/// Run one case against `target` with `wrk` (or our client), and the server's CPU time.
pub fn measure(target: &Target, case: &Case, wrk: Option<&Path>) -> Outcome {
    let cpu = |pid: Option<i32>| pid.map(crate::procfs::tree_cpu_seconds);
    let before = cpu(target.pid);
    let mut o = match wrk {
        Some(w) => run_wrk(w, target.addr, case).unwrap_or_else(|e| {
            eprintln!("wrk failed ({e}); using our client");
            run(target.addr, case)
        }),
        None => run(target.addr, case),
    };
    if let (Some(b), Some(a)) = (before, cpu(target.pid))
        && o.requests > 0
    {
        o.cpu_us = Some((a - b) * 1e6 / o.requests as f64);
    }
    o
}

/// Memory of a server's idle children (KiB per child, means over the children).
#[derive(Debug, Clone, Copy, Default)]
pub struct IdleMemory {
    pub children: usize,
    pub threads: usize,
    pub pss_kb: f64,
    pub private_kb: f64,
    /// The same for the median child. The mean includes the child that answered the harness's
    /// readiness probe (`/server-status?auto`): its freed request buffers stay in its heap, so
    /// the median is the child that has served nothing yet.
    pub median_pss_kb: f64,
    pub median_private_kb: f64,
}

/// [`IdleMemory`] of the children of `pid`, read now (call it while no request runs).
pub fn idle_memory(pid: i32) -> IdleMemory {
    let kids = crate::procfs::children(pid);
    let mems: Vec<_> = kids
        .iter()
        .filter_map(|&c| crate::procfs::memory(c))
        .collect();
    let n = mems.len().max(1) as f64;
    let median = |f: fn(&crate::procfs::Memory) -> u64| {
        let mut v: Vec<u64> = mems.iter().map(f).collect();
        v.sort_unstable();
        v.get(v.len().saturating_sub(1) / 2).copied().unwrap_or(0) as f64
    };
    IdleMemory {
        children: mems.len(),
        threads: kids.iter().map(|&c| crate::procfs::threads(c)).sum(),
        pss_kb: mems.iter().map(|m| m.pss as f64).sum::<f64>() / n,
        private_kb: mems.iter().map(|m| m.private as f64).sum::<f64>() / n,
        median_pss_kb: median(|m| m.pss),
        median_private_kb: median(|m| m.private),
    }
}

/// What holding many idle keep-alive connections costs a server.
#[derive(Debug, Clone, Default)]
pub struct IdleCapacity {
    /// Connections opened (each served one request and was kept alive).
    pub opened: usize,
    pub open_seconds: f64,
    /// Of those, closed by the server by the time the figures were read.
    pub closed_by_server: usize,
    /// Processes of the server's tree, the parent included, and their threads.
    pub processes: usize,
    pub threads: usize,
    /// PSS of the whole server tree before and with the connections, in KiB.
    pub pss_before_kb: u64,
    pub pss_after_kb: u64,
    /// Fresh clients (new connection, one GET) while the connections are held.
    pub fresh_ok: usize,
    pub fresh_p50_ms: f64,
    pub fresh_max_ms: f64,
}

impl IdleCapacity {
    /// Extra PSS per held connection, in bytes.
    pub fn bytes_per_conn(&self) -> f64 {
        (self.pss_after_kb as f64 - self.pss_before_kb as f64) * 1024.0 / self.opened.max(1) as f64
    }
}

fn tree_pss_kb(pid: i32) -> u64 {
    crate::procfs::tree(pid)
        .into_iter()
        .filter_map(crate::procfs::memory)
        .map(|m| m.pss)
        .sum()
}

/// Open `n` keep-alive connections to `target` (one request each, then idle), read processes,
/// threads and PSS of the server, and time `fresh` new clients meanwhile. The caller's
/// open-file limit must allow `n` sockets (see [`raise_nofile`]).
pub fn idle_capacity(
    target: &Target,
    pid: i32,
    n: usize,
    fresh: usize,
) -> io::Result<IdleCapacity> {
    let pss_before_kb = tree_pss_kb(pid);
    let t = Instant::now();
    let held = crate::load::Held::keepalive(target.addr, n)?;
    let open_seconds = t.elapsed().as_secs_f64();
    // Let workers finish and connections settle into the keep-alive state.
    std::thread::sleep(Duration::from_secs(1));
    let tree = crate::procfs::tree(pid);
    let mut lat = Vec::new();
    for _ in 0..fresh {
        let t = Instant::now();
        if http::get_with_timeout(target.addr, "/index.html", Duration::from_secs(5))
            .is_ok_and(|r| r.status == 200)
        {
            lat.push(t.elapsed());
        }
    }
    lat.sort_unstable();
    Ok(IdleCapacity {
        opened: held.len(),
        open_seconds,
        closed_by_server: held.closed_by_server(),
        processes: tree.len(),
        threads: tree.iter().map(|&p| crate::procfs::threads(p)).sum(),
        pss_before_kb,
        pss_after_kb: tree_pss_kb(pid),
        fresh_ok: lat.len(),
        fresh_p50_ms: percentile(&lat, 0.5),
        fresh_max_ms: lat.last().map_or(0.0, |d| d.as_secs_f64() * 1000.0),
    })
}

/// Raise this process's soft open-file limit to at least `want` (capped by the hard limit);
/// servers started afterwards inherit it. Returns the soft limit now in force.
pub fn raise_nofile(want: u64) -> u64 {
    use nix::sys::resource::{Resource, getrlimit, setrlimit};
    match getrlimit(Resource::RLIMIT_NOFILE) {
        Ok((soft, hard)) if soft < want => {
            let new = want.min(hard);
            setrlimit(Resource::RLIMIT_NOFILE, new, hard).map_or(soft, |()| new)
        }
        Ok((soft, _)) => soft,
        Err(_) => 0,
    }
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
        cpu_us: None,
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

/// The order of a benchmark with several servers: `(round, case, target)` triples. Cases run
/// one after the other, and within a case every server takes its turn, starting one server
/// later each round. Why: every `Connection: close` request leaves a socket in TIME_WAIT for
/// 60 s on the server side of loopback, and that backlog slows down whoever runs next (the
/// kernel checks it on every new connection). Run one server's cases and then the other's, and
/// the second one pays for the first one's backlog; taking turns spreads it evenly.
pub fn interleave(rounds: usize, cases: usize, targets: usize) -> Vec<(usize, usize, usize)> {
    let mut v = Vec::with_capacity(rounds * cases * targets);
    for round in 0..rounds {
        for case in 0..cases {
            for k in 0..targets {
                v.push((round, case, (k + round) % targets));
            }
        }
    }
    v
}

/// A case's rounds summed up figure by figure: the median of each, taking the worse of the two
/// middle values for an even count (the lower rate, the higher latency and CPU), so that two
/// rounds report the worse one of each figure. Figure by figure rather than "the median round":
/// a round's p99 mostly says whether prefork's pool had finished growing, so the rounds that
/// are typical for the rate are not the ones that are typical for p99.
pub fn median_of_rounds(outcomes: &[Outcome]) -> Outcome {
    fn median(mut v: Vec<f64>, higher_is_worse: bool) -> f64 {
        if v.is_empty() {
            return 0.0;
        }
        v.sort_by(f64::total_cmp);
        let (lo, hi) = ((v.len() - 1) / 2, v.len() / 2);
        if higher_is_worse { v[hi] } else { v[lo] }
    }
    let of =
        |f: fn(&Outcome) -> f64, worse_high| median(outcomes.iter().map(f).collect(), worse_high);
    let cpu: Vec<f64> = outcomes.iter().filter_map(|o| o.cpu_us).collect();
    Outcome {
        requests: of(|o| o.requests as f64, false) as u64,
        errors: outcomes.iter().map(|o| o.errors).max().unwrap_or(0),
        rps: of(|o| o.rps, false),
        p50_ms: of(|o| o.p50_ms, true),
        p99_ms: of(|o| o.p99_ms, true),
        cpu_us: (!cpu.is_empty()).then(|| median(cpu, true)),
    }
}

/// One line per case: the first server's requests/s and p99 against each other server's.
pub fn ratios(results: &[(String, String, Outcome)]) -> Vec<String> {
    let Some((first, _, _)) = results.first() else {
        return Vec::new();
    };
    let mut lines = Vec::new();
    for (server, case, o) in results.iter().filter(|(s, _, _)| s == first) {
        for (other, _, p) in results.iter().filter(|(s, c, _)| s != first && c == case) {
            if p.rps > 0.0 && p.p99_ms > 0.0 {
                lines.push(format!(
                    "{case:<20} {server} / {other}: {:.2}× req/s, p99 {:.2}×",
                    o.rps / p.rps,
                    o.p99_ms / p.p99_ms
                ));
            }
        }
    }
    lines
}

/// A results table: one line per (server, case).
pub fn table(results: &[(String, String, Outcome)]) -> String {
    let mut s = format!(
        "{:<28} {:<20} {:>10} {:>9} {:>9} {:>9} {:>12} {:>7}\n",
        "server", "case", "requests", "req/s", "p50 ms", "p99 ms", "srv µs/req", "errors"
    );
    for (server, case, o) in results {
        let cpu = o.cpu_us.map_or("-".to_string(), |c| format!("{c:.1}"));
        s.push_str(&format!(
            "{server:<28} {case:<20} {:>10} {:>9.0} {:>9.2} {:>9.2} {cpu:>12} {:>7}\n",
            o.requests, o.rps, o.p50_ms, o.p99_ms, o.errors
        ));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn servers_take_turns_and_the_first_one_rotates() {
        let order = interleave(2, 2, 2);
        assert_eq!(
            order,
            vec![
                (0, 0, 0),
                (0, 0, 1),
                (0, 1, 0),
                (0, 1, 1),
                (1, 0, 1),
                (1, 0, 0),
                (1, 1, 1),
                (1, 1, 0),
            ]
        );
    }

    #[test]
    fn each_figure_is_its_own_median_taking_the_worse_middle() {
        let o = |rps: f64, p99_ms: f64, cpu: f64, errors: u64| Outcome {
            rps,
            p99_ms,
            cpu_us: Some(cpu),
            errors,
            ..Outcome::default()
        };
        let m = median_of_rounds(&[
            o(3.0, 10.0, 5.0, 0),
            o(1.0, 30.0, 7.0, 2),
            o(2.0, 20.0, 6.0, 0),
        ]);
        assert_eq!(
            (m.rps, m.p99_ms, m.cpu_us, m.errors),
            (2.0, 20.0, Some(6.0), 2)
        );
        // The best rate and the best p99 may come from different rounds; neither is kept.
        let two = median_of_rounds(&[o(5.0, 1.0, 1.0, 0), o(4.0, 9.0, 2.0, 0)]);
        assert_eq!((two.rps, two.p99_ms, two.cpu_us), (4.0, 9.0, Some(2.0)));
        assert_eq!(median_of_rounds(&[]).rps, 0.0);
    }

    #[test]
    fn ratios_compare_the_first_server_with_each_other() {
        let o = |rps: f64, p99_ms: f64| Outcome {
            rps,
            p99_ms,
            ..Outcome::default()
        };
        let r = vec![
            ("ours".to_string(), "close 1k".to_string(), o(150.0, 2.0)),
            ("apache".to_string(), "close 1k".to_string(), o(100.0, 4.0)),
        ];
        let lines = ratios(&r);
        assert_eq!(lines.len(), 1);
        assert!(
            lines[0].contains("ours / apache: 1.50× req/s, p99 0.50×"),
            "{}",
            lines[0]
        );
    }

    #[test]
    fn parses_wrk_latency_output() {
        let out = "Running 5s test @ http://127.0.0.1:18080/1k.bin\n  2 threads and 50 connections\n  Latency Distribution\n     50%  812.00us\n     75%    1.2ms\n     90%    2.00ms\n     99%    5.10ms\n  61234 requests in 5.00s, 70.00MB read\n  Socket errors: connect 0, read 2, write 0, timeout 1\nRequests/sec:  12246.80\nTransfer/sec:     14.00MB\n";
        let o = parse_wrk(out).unwrap();
        assert_eq!(o.requests, 61234);
        assert!((o.p50_ms - 0.812).abs() < 1e-9 && (o.p99_ms - 5.1).abs() < 1e-9);
        assert_eq!(o.errors, 3);
    }
}
