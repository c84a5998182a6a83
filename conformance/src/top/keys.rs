//! The keyboard: which key means what ([`action_for`], pure), and the [`Loader`] thread that
//! opens and holds the connections a key asks for, so the screen never waits on the server.
//!
//! Connections are opened with the harness's own load code ([`crate::load`]): a partial
//! request keeps one worker in `R` in all three MPMs; an idle keep-alive connection keeps a
//! worker in `K` in prefork and worker and sits in the listener's queue in event.

use crate::load::{Burst, Held};
use crossbeam_channel::{Receiver, Sender};
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use std::io::Write;
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// Held partial requests added or released per key press.
pub const PARTIAL_STEP: usize = 10;
/// Idle keep-alive connections added or released per key press.
pub const KEEPALIVE_STEP: usize = 100;
/// CGI sleeps started per key press, and how long each script sleeps.
pub const CGI_STEP: usize = 10;
pub const CGI_SECONDS: u64 = 60;

/// What a key asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Quit,
    Help,
    AddPartial,
    ReleasePartial,
    AddKeepAlive,
    ReleaseKeepAlive,
    /// 10 requests to the bundled sleep CGI (a worker in `W` each while the script sleeps).
    Cgi,
    Burst,
    /// `graceful`, `restart` or `graceful-stop` (names of [`crate::lab::parse_signal`]).
    Signal(&'static str),
    Pause,
    Faster,
    Slower,
    Step,
}

/// The action of a key press (`None`: not ours, or a key release).
pub fn action_for(k: KeyEvent) -> Option<Action> {
    if k.kind == KeyEventKind::Release {
        return None;
    }
    if k.modifiers.contains(KeyModifiers::CONTROL) {
        return (k.code == KeyCode::Char('c')).then_some(Action::Quit);
    }
    Some(match k.code {
        KeyCode::Char('q') | KeyCode::Esc => Action::Quit,
        KeyCode::Char('?') | KeyCode::F(1) => Action::Help,
        KeyCode::Char('R') => Action::AddPartial,
        KeyCode::Char('r') => Action::ReleasePartial,
        KeyCode::Char('K') => Action::AddKeepAlive,
        KeyCode::Char('k') => Action::ReleaseKeepAlive,
        KeyCode::Char('W' | 'w') => Action::Cgi,
        KeyCode::Char('b' | 'B') => Action::Burst,
        KeyCode::Char('g' | 'G') => Action::Signal("graceful"),
        KeyCode::Char('h' | 'H') => Action::Signal("restart"),
        KeyCode::Char('s' | 'S') => Action::Signal("graceful-stop"),
        KeyCode::Char(' ') => Action::Pause,
        KeyCode::Char('+' | '=') => Action::Faster,
        KeyCode::Char('-') => Action::Slower,
        KeyCode::Char('n') | KeyCode::Right => Action::Step,
        _ => return None,
    })
}

/// What the loader is asked to do.
enum Command {
    AddPartial(usize),
    ReleasePartial(usize),
    AddKeepAlive(usize),
    ReleaseKeepAlive(usize),
    AddCgi(usize),
    Burst(usize),
}

/// What the loader reports back: the connections it holds now, and a line for the feed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    pub partial: usize,
    pub keepalive: usize,
    pub message: String,
    /// The answer to a key (else something the server did: closed held connections).
    pub answers_key: bool,
}

/// The thread that holds `top`'s connections. Dropping it releases every one of them.
pub struct Loader {
    tx: Option<Sender<Command>>,
    rx: Receiver<Report>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Loader {
    pub fn start(addr: SocketAddr) -> Loader {
        let (tx, cmd_rx) = crossbeam_channel::unbounded();
        let (report_tx, rx) = crossbeam_channel::unbounded();
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let stop = stop.clone();
            std::thread::spawn(move || loader_loop(addr, &cmd_rx, &report_tx, &stop))
        };
        Loader {
            tx: Some(tx),
            rx,
            stop,
            thread: Some(thread),
        }
    }

    fn send(&self, c: Command) {
        if let Some(tx) = &self.tx {
            let _ = tx.send(c);
        }
    }

    pub fn add_partial(&self) {
        self.send(Command::AddPartial(PARTIAL_STEP));
    }
    pub fn release_partial(&self) {
        self.send(Command::ReleasePartial(PARTIAL_STEP));
    }
    pub fn add_keepalive(&self) {
        self.send(Command::AddKeepAlive(KEEPALIVE_STEP));
    }
    pub fn release_keepalive(&self) {
        self.send(Command::ReleaseKeepAlive(KEEPALIVE_STEP));
    }
    pub fn add_cgi(&self) {
        self.send(Command::AddCgi(CGI_STEP));
    }
    pub fn burst(&self, n: usize) {
        self.send(Command::Burst(n));
    }

    /// Reports since the last call.
    pub fn drain(&self) -> Vec<Report> {
        self.rx.try_iter().collect()
    }

    /// Release everything and wait (bounded) for the thread: it may be inside one connect or
    /// one keep-alive request, each bounded by the harness's timeouts; past `wait` the
    /// connections close when the process exits.
    pub fn shutdown(&mut self, wait: Duration) {
        self.stop.store(true, Ordering::Relaxed);
        self.tx = None;
        if let Some(t) = self.thread.take() {
            let deadline = std::time::Instant::now() + wait;
            while !t.is_finished() && std::time::Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(20));
            }
            if t.is_finished() {
                let _ = t.join();
            }
        }
    }
}

impl Drop for Loader {
    fn drop(&mut self) {
        self.shutdown(Duration::from_secs(2));
    }
}

/// Open up to `n` connections with `open` into `held`, one at a time, until an error or a stop:
/// how many were opened, and the error that ended it early.
fn open_up_to(
    n: usize,
    stop: &AtomicBool,
    held: &mut Vec<TcpStream>,
    mut open: impl FnMut() -> std::io::Result<Vec<TcpStream>>,
) -> (usize, Option<std::io::Error>) {
    let mut opened = 0;
    while opened < n && !stop.load(Ordering::Relaxed) {
        match open() {
            Ok(mut c) => {
                held.append(&mut c);
                opened += 1;
            }
            Err(e) => return (opened, Some(e)),
        }
    }
    (opened, None)
}

fn loader_loop(addr: SocketAddr, rx: &Receiver<Command>, tx: &Sender<Report>, stop: &AtomicBool) {
    let mut partial: Vec<TcpStream> = Vec::new();
    let mut keepalive: Vec<TcpStream> = Vec::new();
    let report = |p: &[TcpStream], k: &[TcpStream], message: String, answers_key: bool| {
        let _ = tx.send(Report {
            partial: p.len(),
            keepalive: k.len(),
            message,
            answers_key,
        });
    };
    loop {
        let cmd = match rx.recv_timeout(Duration::from_secs(1)) {
            Ok(c) => c,
            Err(crossbeam_channel::RecvTimeoutError::Timeout) => {
                // Connections the server closed (Timeout, KeepAliveTimeout, a stop) are no
                // longer held: count them out.
                let (p0, k0) = (partial.len(), keepalive.len());
                partial.retain(|s| !crate::load::peer_closed(s));
                keepalive.retain(|s| !crate::load::peer_closed(s));
                let gone = p0 - partial.len() + k0 - keepalive.len();
                if gone > 0 {
                    report(
                        &partial,
                        &keepalive,
                        format!("the server closed {gone} held connections"),
                        false,
                    );
                }
                continue;
            }
            Err(crossbeam_channel::RecvTimeoutError::Disconnected) => return,
        };
        if stop.load(Ordering::Relaxed) {
            return;
        }
        let message = match cmd {
            Command::AddPartial(n) => match Held::partial(addr, n) {
                Ok(mut h) => {
                    partial.append(h.streams());
                    format!("R: +{n} held partial requests")
                }
                Err(e) => format!("R: could not open {n} connections: {e}"),
            },
            Command::ReleasePartial(n) => {
                let n = n.min(partial.len());
                partial.truncate(partial.len() - n);
                format!("r: released {n} partial requests")
            }
            Command::AddKeepAlive(n) => {
                let (opened, err) = open_up_to(n, stop, &mut keepalive, || {
                    Held::keepalive(addr, 1).map(|mut h| std::mem::take(h.streams()))
                });
                match err {
                    None => format!("K: +{opened} idle keep-alive connections"),
                    Some(e) => format!("K: +{opened} of {n} keep-alive connections ({e})"),
                }
            }
            Command::ReleaseKeepAlive(n) => {
                let n = n.min(keepalive.len());
                keepalive.truncate(keepalive.len() - n);
                format!("k: released {n} keep-alive connections")
            }
            Command::AddCgi(n) => {
                // `/cgi-bin/sleep.cgi?60`, as `mpm-lab run --mode cgi` sends it: the connection
                // is held (counted with the partial requests, `r` releases it) until the script
                // answers and the server closes.
                let req = format!(
                    "GET {}?{CGI_SECONDS} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n",
                    crate::load::CGI_SLEEP_PATH
                );
                let (opened, err) = open_up_to(n, stop, &mut partial, || {
                    let mut c = TcpStream::connect_timeout(&addr, Duration::from_millis(500))?;
                    c.write_all(req.as_bytes())?;
                    Ok(vec![c])
                });
                match err {
                    None => format!("W: +{opened} CGI sleeps ({CGI_SECONDS} s each)"),
                    Some(e) => format!("W: +{opened} of {n} CGI sleeps ({e})"),
                }
            }
            Command::Burst(n) => {
                // Its own thread: a burst against a full pool waits in the backlog.
                let tx = tx.clone();
                let (p, k) = (partial.len(), keepalive.len());
                std::thread::spawn(move || {
                    let b = Burst::run(addr, n, 10, "/index.html");
                    let _ = tx.send(Report {
                        partial: p,
                        keepalive: k,
                        message: format!(
                            "b: burst of {n} done: {} × 200 in {:.0} ms",
                            b.count(200),
                            b.elapsed.as_secs_f64() * 1000.0
                        ),
                        answers_key: false,
                    });
                });
                format!("b: burst of {n} requests started (10 at a time)")
            }
        };
        report(&partial, &keepalive, message, true);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(c: char) -> KeyEvent {
        KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)
    }

    #[test]
    fn keys_map_to_the_actions_the_help_screen_lists() {
        assert_eq!(action_for(key('R')), Some(Action::AddPartial));
        assert_eq!(action_for(key('r')), Some(Action::ReleasePartial));
        assert_eq!(action_for(key('K')), Some(Action::AddKeepAlive));
        assert_eq!(action_for(key('W')), Some(Action::Cgi));
        assert_eq!(action_for(key('g')), Some(Action::Signal("graceful")));
        assert_eq!(action_for(key('q')), Some(Action::Quit));
        assert_eq!(
            action_for(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL)),
            Some(Action::Quit)
        );
        assert_eq!(action_for(key('x')), None);
        for (k, a) in [('g', "graceful"), ('h', "restart"), ('s', "graceful-stop")] {
            assert_eq!(action_for(key(k)), Some(Action::Signal(a)));
            assert!(crate::lab::parse_signal(&format!("0:{a}")).is_ok());
        }
        assert!(super::super::render::HELP.contains("10 CGI sleeps"));
    }
}
