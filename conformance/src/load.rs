//! Client-side load: held partial requests, idle keep-alive connections, bursts, and the
//! phased "held connections" load of the reference runs (`load.py --mode partial`).
//!
//! A partial request (`GET /1k.bin HTTP/1.1`, one `Host` header, never the blank line) keeps
//! one worker in `R` in all three MPMs — event too, because event hands a new connection to a
//! worker right after accept and that worker blocks reading the headers (reference README §3).

use crate::http;
use crate::phases::Phases;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

fn partial_request(addr: SocketAddr, path: &str) -> String {
    format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\n")
}

/// Connections held open by the test; dropping closes them.
#[derive(Debug)]
pub struct Held {
    conns: Vec<TcpStream>,
}

impl Held {
    /// `n` partial requests (see the module doc).
    pub fn partial(addr: SocketAddr, n: usize) -> io::Result<Held> {
        let mut conns = Vec::with_capacity(n);
        for _ in 0..n {
            let mut s = http::connect(addr)?;
            s.write_all(partial_request(addr, "/1k.bin").as_bytes())?;
            conns.push(s);
        }
        Ok(Held { conns })
    }

    /// `n` connections that each completed one keep-alive request and now sit idle.
    pub fn keepalive(addr: SocketAddr, n: usize) -> io::Result<Held> {
        let mut conns = Vec::with_capacity(n);
        for _ in 0..n {
            let mut s = http::connect(addr)?;
            let req = format!("GET /index.html HTTP/1.1\r\nHost: {addr}\r\n\r\n");
            s.write_all(req.as_bytes())?;
            match http::read_response(&mut s, false)? {
                Some(r) if r.status == 200 && !r.closes() => conns.push(s),
                Some(r) => {
                    return Err(io::Error::other(format!(
                        "keep-alive request got {} (Connection: {:?})",
                        r.status,
                        r.header("Connection")
                    )));
                }
                None => return Err(io::Error::other("server closed the keep-alive connection")),
            }
        }
        Ok(Held { conns })
    }

    /// How many connections are held.
    pub fn len(&self) -> usize {
        self.conns.len()
    }

    /// Whether none are held.
    pub fn is_empty(&self) -> bool {
        self.conns.is_empty()
    }

    /// How many of the held connections the server has closed (EOF or reset, checked without
    /// blocking).
    pub fn closed_by_server(&self) -> usize {
        self.conns.iter().filter(|s| peer_closed(s)).count()
    }

    /// The held streams (to finish a request, for example).
    pub fn streams(&mut self) -> &mut Vec<TcpStream> {
        &mut self.conns
    }

    /// Close them all now.
    pub fn close(self) {}
}

/// Whether the peer has closed `s` (a non-blocking read returns EOF or an error). Data that
/// arrives is consumed (a response to a held request also means the worker is free).
pub fn peer_closed(s: &TcpStream) -> bool {
    let mut buf = [0u8; 4096];
    if s.set_nonblocking(true).is_err() {
        return true;
    }
    let r = (&*s).read(&mut buf);
    let _ = s.set_nonblocking(false);
    match r {
        Ok(0) => true,
        Ok(_) => false,
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => false,
        Err(_) => true,
    }
}

/// The outcome of [`Burst::run`].
#[derive(Debug, Clone, Default)]
pub struct Burst {
    /// Status of every request (0 = I/O error).
    pub statuses: Vec<u16>,
    pub elapsed: Duration,
}

impl Burst {
    /// `n` complete `GET path` requests, each on its own connection, over `concurrency` threads.
    pub fn run(addr: SocketAddr, n: usize, concurrency: usize, path: &str) -> Burst {
        let start = Instant::now();
        let next = Arc::new(Mutex::new(0usize));
        let out = Arc::new(Mutex::new(Vec::with_capacity(n)));
        std::thread::scope(|sc| {
            for _ in 0..concurrency.max(1) {
                let (next, out) = (next.clone(), out.clone());
                sc.spawn(move || {
                    loop {
                        {
                            let mut i = next.lock().unwrap_or_else(|e| e.into_inner());
                            if *i >= n {
                                return;
                            }
                            *i += 1;
                        }
                        let st = http::get(addr, path).map(|r| r.status).unwrap_or(0);
                        out.lock().unwrap_or_else(|e| e.into_inner()).push(st);
                    }
                });
            }
        });
        let statuses = std::mem::take(&mut *out.lock().unwrap_or_else(|e| e.into_inner()));
        Burst {
            statuses,
            elapsed: start.elapsed(),
        }
    }

    /// How many got `status`.
    pub fn count(&self, status: u16) -> usize {
        self.statuses.iter().filter(|&&s| s == status).count()
    }
}

/// One row of the client-side load log: the columns of the reference `load.py --log`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LoadRow {
    pub t: f64,
    pub epoch: f64,
    pub phase: usize,
    pub target: usize,
    pub connecting: usize,
    pub held: usize,
    pub opened: u64,
    pub connect_fail: u64,
    pub server_closed: u64,
    pub responses: u64,
    pub client_closed: u64,
}

/// The header line of the load CSV.
pub const LOAD_COLS: &str = "t,epoch,phase,target,connecting,held,opened,connect_fail,server_closed,responses,client_closed";

impl LoadRow {
    /// One CSV line (no newline).
    pub fn csv(&self) -> String {
        format!(
            "{:.3},{:.3},{},{},{},{},{},{},{},{},{}",
            self.t,
            self.epoch,
            self.phase,
            self.target,
            self.connecting,
            self.held,
            self.opened,
            self.connect_fail,
            self.server_closed,
            self.responses,
            self.client_closed
        )
    }
}

/// Unix time in seconds.
pub fn epoch_now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

#[derive(Debug)]
enum Slot {
    Empty {
        since: Option<Instant>,
    },
    /// Keep-alive mode: request sent, answer not there yet (the connection may be waiting in
    /// the server's backlog while every worker is busy: worker with idle keep-alive clients).
    Waiting(TcpStream),
    Held(TcpStream),
}

/// What each held connection of a phased load does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// A request line and one header, never finished: a worker sits in `R` (`load.py --mode partial`).
    Partial,
    /// One complete keep-alive request, then idle: prefork and worker keep a worker in `K`
    /// for KeepAliveTimeout, event parks the connection without a thread.
    KeepAlive,
    /// A complete `GET /cgi-bin/sleep.cgi?SECONDS` with `Connection: close`, SECONDS being how
    /// long the slot is planned to stay (1–60): the worker sits in `W` while the script
    /// sleeps (`load.py --mode cgi`; the script is `conformance/fixtures/cgi-bin/sleep.cgi`).
    Cgi,
}

/// The CGI path [`Mode::Cgi`] requests (as `load.py --cgi-path`).
pub const CGI_SLEEP_PATH: &str = "/cgi-bin/sleep.cgi";

/// `load.py: planned_close` for [`Mode::Cgi`]: whole seconds until slot `slot` is dropped
/// (the first later phase with fewer connections, or the end), from `now` seconds into
/// phase `phase`, between 1 and 60.
pub fn cgi_seconds(spans: &[(f64, f64, usize)], phase: usize, slot: usize, now: f64) -> u64 {
    let end = spans[phase..]
        .iter()
        .take_while(|&&(_, _, target)| target > slot)
        .last()
        .map_or(now, |&(_, e, _)| e);
    ((end - now).ceil() as u64).clamp(1, 60)
}

/// Open one connection of `mode` and send its request: a partial one (then it is held), or a
/// complete keep-alive one (then it waits for the answer, see [`answered`]).
fn open_held(addr: SocketAddr, mode: Mode, partial: &str) -> io::Result<TcpStream> {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_millis(100))?;
    match mode {
        // Partial: the unfinished request; Cgi: the whole sleep.cgi request (built by the caller).
        Mode::Partial | Mode::Cgi => s.write_all(partial.as_bytes())?,
        Mode::KeepAlive => {
            let req = format!("GET /index.html HTTP/1.1\r\nHost: {addr}\r\n\r\n");
            s.write_all(req.as_bytes())?;
        }
    }
    Ok(s)
}

/// A waiting keep-alive connection: `Ok(None)` while no byte of the answer has arrived (checked
/// without blocking, so the load loop keeps its rhythm however long the server makes it wait);
/// `Ok(Some(true))` once the answer is read and the server keeps the connection open.
fn answered(s: &mut TcpStream) -> io::Result<Option<bool>> {
    let mut b = [0u8; 1];
    s.set_nonblocking(true)?;
    let peeked = s.peek(&mut b);
    s.set_nonblocking(false)?;
    match peeked {
        Ok(0) => Err(io::Error::other("closed before responding")),
        Ok(_) => {
            s.set_read_timeout(Some(Duration::from_secs(2)))?;
            match http::read_response(s, false)? {
                Some(r) => Ok(Some(!r.closes())),
                None => Err(io::Error::other("closed before responding")),
            }
        }
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(None),
        Err(e) => Err(e),
    }
}

/// Run the phased held-connection load against `addr` on the current thread, as `load.py
/// --mode partial` does: during phase *i* exactly `target` connections are held; on a phase
/// boundary the newest are closed or new ones opened; a connection the server closes is
/// reopened after 0.5 s. `on_row` receives a row every 0.5 s. `stop` ends it early.
pub fn run_phases(
    addr: SocketAddr,
    phases: &Phases,
    mode: Mode,
    stop: &AtomicBool,
    mut on_row: impl FnMut(&LoadRow),
) -> LoadRow {
    let t0 = Instant::now();
    let mut slots: Vec<Slot> = Vec::new();
    let mut row = LoadRow::default();
    let req = partial_request(addr, "/1k.bin");
    let spans = phases.spans();
    for (pi, &(_, end, target)) in spans.iter().enumerate() {
        while slots.len() > target {
            if let Some(Slot::Held(_)) = slots.pop() {
                row.client_closed += 1;
            }
        }
        while slots.len() < target {
            slots.push(Slot::Empty { since: None });
        }
        row.phase = pi;
        row.target = target;
        let mut next_log = Instant::now();
        loop {
            let now = t0.elapsed().as_secs_f64();
            if now >= end || stop.load(Ordering::Relaxed) {
                break;
            }
            let mut connecting = 0;
            for (si, slot) in slots.iter_mut().enumerate() {
                match slot {
                    Slot::Empty { since } => {
                        if since.is_some_and(|s| s.elapsed() < Duration::from_millis(500)) {
                            continue;
                        }
                        let cgi_req;
                        let req = if mode == Mode::Cgi {
                            let secs = cgi_seconds(&spans, pi, si, now);
                            cgi_req = format!(
                                "GET {CGI_SLEEP_PATH}?{secs} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
                            );
                            &cgi_req
                        } else {
                            &req
                        };
                        // connect() succeeds once the kernel queues the connection, so a
                        // backlog-full server shows up as slow connects, not failures.
                        match open_held(addr, mode, req) {
                            // Cgi: held until the script answers and the server closes.
                            Ok(s) if mode != Mode::KeepAlive => {
                                row.opened += 1;
                                *slot = Slot::Held(s);
                            }
                            Ok(s) => {
                                row.opened += 1;
                                connecting += 1;
                                *slot = Slot::Waiting(s);
                            }
                            Err(_) => {
                                row.connect_fail += 1;
                                connecting += 1;
                                *since = Some(Instant::now());
                            }
                        }
                    }
                    Slot::Waiting(s) => match answered(s) {
                        Ok(None) => connecting += 1,
                        Ok(Some(true)) => {
                            row.responses += 1;
                            let waiting = std::mem::replace(slot, Slot::Empty { since: None });
                            if let Slot::Waiting(s) = waiting {
                                *slot = Slot::Held(s);
                            }
                        }
                        Ok(Some(false)) => {
                            row.responses += 1;
                            row.server_closed += 1;
                            *slot = Slot::Empty {
                                since: Some(Instant::now()),
                            };
                        }
                        Err(_) => {
                            row.server_closed += 1;
                            *slot = Slot::Empty {
                                since: Some(Instant::now()),
                            };
                        }
                    },
                    Slot::Held(s) => {
                        if peer_closed(s) {
                            row.server_closed += 1;
                            *slot = Slot::Empty {
                                since: Some(Instant::now()),
                            };
                        }
                    }
                }
                if t0.elapsed().as_secs_f64() >= end {
                    break;
                }
            }
            row.connecting = connecting;
            row.held = slots.iter().filter(|s| matches!(s, Slot::Held(_))).count();
            if Instant::now() >= next_log {
                row.t = t0.elapsed().as_secs_f64();
                row.epoch = epoch_now();
                on_row(&row);
                next_log = Instant::now() + Duration::from_millis(500);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        if stop.load(Ordering::Relaxed) {
            break;
        }
    }
    row.client_closed += slots.iter().filter(|s| matches!(s, Slot::Held(_))).count() as u64;
    slots.clear();
    row.held = 0;
    row.t = t0.elapsed().as_secs_f64();
    row.epoch = epoch_now();
    row
}
