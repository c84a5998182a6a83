//! `mpm-lab top` driven through a pseudo-terminal, as a student uses it: against a real
//! mpm-prefork it starts itself, the `R` key holds partial requests, the pool grows on the
//! screen and in the recorded `timeline.csv`, and `q` leaves no process behind.
//!
//! The child is spawned with `std::process::Command` (never `fork()` from this multi-threaded
//! test harness), the pty's slave as its stdin/stdout/stderr and its own process group. The
//! test reads the screen with [`Screen`], a terminal small enough to follow what ratatui's
//! crossterm backend writes: cursor moves (`CSI row;col H`) and printed characters.

use conformance::procfs;
use nix::fcntl::{FcntlArg, FdFlag, fcntl};
use nix::pty::{Winsize, openpty};
use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use std::io::Read;
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The screen as the bytes so far draw it (`w`×`h` cells).
struct Screen {
    cells: Vec<Vec<char>>,
}

impl Screen {
    fn parse(bytes: &[u8], w: usize, h: usize) -> Screen {
        let mut cells = vec![vec![' '; w]; h];
        let text = String::from_utf8_lossy(bytes);
        let mut chars = text.chars().peekable();
        let (mut row, mut col) = (0usize, 0usize);
        while let Some(c) = chars.next() {
            match c {
                '\u{1b}' => match chars.next() {
                    Some('[') => {
                        let mut params = String::new();
                        let mut fin = None;
                        for d in chars.by_ref() {
                            if ('\u{40}'..='\u{7e}').contains(&d) {
                                fin = Some(d);
                                break;
                            }
                            params.push(d);
                        }
                        match fin {
                            Some('H') => {
                                let mut p =
                                    params.split(';').map(|x| x.parse::<usize>().unwrap_or(1));
                                row = p.next().unwrap_or(1).saturating_sub(1);
                                col = p.next().unwrap_or(1).saturating_sub(1);
                            }
                            Some('J') if params == "2" => cells = vec![vec![' '; w]; h],
                            _ => {}
                        }
                    }
                    Some(']') => {
                        // OSC: up to BEL or ESC \.
                        for d in chars.by_ref() {
                            if d == '\u{7}' || d == '\\' {
                                break;
                            }
                        }
                    }
                    _ => {}
                },
                '\r' => col = 0,
                '\n' => row = (row + 1).min(h - 1),
                c if c >= ' ' => {
                    if row < h && col < w {
                        cells[row][col] = c;
                    }
                    col += 1;
                }
                _ => {}
            }
        }
        Screen { cells }
    }

    fn line(&self, i: usize) -> String {
        self.cells
            .get(i)
            .map(|l| l.iter().collect::<String>().trim_end().to_string())
            .unwrap_or_default()
    }

    fn text(&self) -> String {
        (0..self.cells.len())
            .map(|i| self.line(i))
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// The number after `word ` on the screen's second line (`procs 5  threads 6 …`).
    fn count(&self, word: &str) -> Option<usize> {
        let l = self.line(1);
        let rest = l.split(&format!("{word} ")).nth(1)?;
        rest.split_whitespace().next()?.parse().ok()
    }

    /// The server's pid from the header (`… pid 1234 …`).
    fn server_pid(&self) -> Option<i32> {
        let l = self.line(0);
        l.split("  pid ")
            .nth(1)?
            .split_whitespace()
            .next()?
            .parse()
            .ok()
    }
}

/// Kills whatever is left if the test fails half-way (process groups, by PID).
struct Leftovers {
    groups: Vec<i32>,
}

impl Drop for Leftovers {
    fn drop(&mut self) {
        for &g in &self.groups {
            if !procfs::group_members(g).is_empty() {
                let _ = killpg(Pid::from_raw(g), Signal::SIGKILL);
            }
        }
    }
}

const W: u16 = 80;
const H: u16 = 24;

/// `mpm-lab top --server conf-prefork` running in a pseudo-terminal of W×H.
struct TopInPty {
    child: std::process::Child,
    /// The pty's master, for the keys (the reader thread has its own descriptor).
    keys: Option<std::fs::File>,
    bytes: Arc<Mutex<Vec<u8>>>,
    /// Set to make the reader thread close its master descriptor (a hang-up, with `keys`).
    hang_up: Arc<AtomicBool>,
    leftovers: Leftovers,
    out: std::path::PathBuf,
}

impl TopInPty {
    /// Start `top` on the reference prefork config, recording into a fresh `out` directory.
    fn start(name: &str) -> TopInPty {
        let out = std::env::temp_dir().join(format!("mpm-lab-top-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&out);
        let size = Winsize {
            ws_row: H,
            ws_col: W,
            ws_xpixel: 0,
            ws_ypixel: 0,
        };
        let pty = openpty(Some(&size), None).expect("openpty");
        // openpty's descriptors are inherited by every process spawned meanwhile by the other
        // tests running in parallel: one of those would keep the master open after the test
        // closes it, and the hang-up would never come. (The Stdio copies given to the child
        // are dup'd without the flag by `spawn`, as they must be.)
        for fd in [&pty.master, &pty.slave] {
            fcntl(fd, FcntlArg::F_SETFD(FdFlag::FD_CLOEXEC)).expect("FD_CLOEXEC");
        }
        let config = conformance::crate_dir().join("fixtures/prefork-reference.conf");
        let child = Command::new(env!("CARGO_BIN_EXE_mpm-lab"))
            .args([
                "top",
                "--server",
                env!("CARGO_BIN_EXE_conf-prefork"),
                "--config",
            ])
            .arg(&config)
            .arg("--out")
            .arg(&out)
            .env_remove("NO_COLOR")
            .stdin(Stdio::from(pty.slave.try_clone().expect("dup slave")))
            .stdout(Stdio::from(pty.slave.try_clone().expect("dup slave")))
            .stderr(Stdio::from(pty.slave))
            // Its own group: the test can signal it and everything it forks without touching
            // the test runner. (The server `top` starts gets a group of its own as well.)
            .process_group(0)
            .spawn()
            .expect("spawn mpm-lab top");
        let leftovers = Leftovers {
            groups: vec![child.id() as i32],
        };
        let bytes: Arc<Mutex<Vec<u8>>> = Arc::default();
        let hang_up = Arc::new(AtomicBool::new(false));
        let master = std::fs::File::from(pty.master);
        let keys = master.try_clone().expect("dup master");
        {
            let (bytes, hang_up) = (bytes.clone(), hang_up.clone());
            std::thread::spawn(move || read_master(master, &bytes, &hang_up));
        }
        TopInPty {
            child,
            keys: Some(keys),
            bytes,
            hang_up,
            leftovers,
            out,
        }
    }

    fn screen(&self) -> Screen {
        Screen::parse(
            &self.bytes.lock().unwrap_or_else(|e| e.into_inner()),
            W as usize,
            H as usize,
        )
    }

    /// Wait (bounded) until the screen satisfies `ok`.
    fn wait_screen(&self, what: &str, timeout: Duration, ok: impl Fn(&Screen) -> bool) -> Screen {
        let deadline = Instant::now() + timeout;
        loop {
            let s = self.screen();
            if ok(&s) {
                return s;
            }
            assert!(
                Instant::now() < deadline,
                "{what}: not on screen after {timeout:?}; screen:\n{}",
                s.text()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn press(&mut self, key: &[u8]) {
        use std::io::Write;
        if let Some(k) = self.keys.as_mut() {
            k.write_all(key).expect("write a key to the pty");
        }
    }

    /// The running server's pid, once the first poll is on screen (it is then also cleaned up
    /// by process group if the test fails).
    fn server_pid(&mut self) -> (i32, usize) {
        let s = self.wait_screen("5 processes", Duration::from_secs(30), |s| {
            s.count("procs").is_some_and(|n| n >= 5) && s.server_pid().is_some()
        });
        let pid = s.server_pid().expect("server pid on screen");
        self.leftovers.groups.push(pid);
        (pid, s.count("procs").expect("procs"))
    }

    /// Wait (bounded) for `top` to exit; it must exit with success.
    fn wait_exit(&mut self, what: &str) {
        let deadline = Instant::now() + Duration::from_secs(30);
        let status = loop {
            if let Some(st) = self.child.try_wait().expect("try_wait") {
                break st;
            }
            assert!(
                Instant::now() < deadline,
                "top did not quit on {what}; screen:\n{}",
                self.screen().text()
            );
            std::thread::sleep(Duration::from_millis(50));
        };
        assert!(
            status.success(),
            "top exited with {status} on {what}; screen:\n{}",
            self.screen().text()
        );
    }

    /// Nothing left: neither the server's process group nor top's.
    fn assert_nothing_left(&self, server_pid: i32) {
        assert!(
            !procfs::alive(server_pid),
            "server {server_pid} still alive"
        );
        assert!(procfs::group_members(server_pid).is_empty());
        assert!(procfs::group_members(self.child.id() as i32).is_empty());
    }
}

impl Drop for TopInPty {
    fn drop(&mut self) {
        self.hang_up.store(true, Ordering::Relaxed);
        let _ = std::fs::remove_dir_all(&self.out);
    }
}

/// Copy what `top` draws into `bytes`, until the pty closes or `hang_up` is set; then close
/// this descriptor of the master.
fn read_master(master: std::fs::File, bytes: &Mutex<Vec<u8>>, hang_up: &AtomicBool) {
    use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
    use std::os::fd::AsFd;
    let mut buf = [0u8; 8192];
    while !hang_up.load(Ordering::Relaxed) {
        let mut fds = [PollFd::new(master.as_fd(), PollFlags::POLLIN)];
        if poll(&mut fds, PollTimeout::from(100u16)).unwrap_or(0) == 0 {
            continue;
        }
        // Ends with EIO once the child and its slave descriptors are gone.
        match (&master).read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => bytes
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .extend_from_slice(&buf[..n]),
        }
    }
}

#[test]
fn top_held_requests_key_grows_prefork_on_screen_and_in_timeline_then_q_leaves_nothing() {
    let mut top = TopInPty::start("keys");
    let (server_pid, before) = top.server_pid();
    assert!(
        top.screen().text().contains("Scoreboard"),
        "{}",
        top.screen().text()
    );

    // 30 held partial requests: idle drops below MinSpareServers 5, the parent spawns 1, 2, 4 …
    for _ in 0..3 {
        top.press(b"R");
        std::thread::sleep(Duration::from_millis(300));
    }
    let s = top.wait_screen("30 held and a bigger pool", Duration::from_secs(40), |s| {
        s.line(1).contains("held R 30") && s.count("procs").is_some_and(|n| n >= before + 8)
    });
    let grown = s.count("procs").expect("procs");

    top.press(b"q");
    top.wait_exit("q");
    top.assert_nothing_left(server_pid);

    // The recording shows the same growth, and holds what the key held.
    let out = top.out.clone();
    let tl =
        conformance::timeline::Timeline::read(&out.join("timeline.csv")).expect("timeline.csv");
    let max = tl
        .rows
        .iter()
        .filter_map(|r| r.processes)
        .fold(0.0, f64::max);
    assert!(
        max >= grown as f64,
        "timeline max {max} < {grown} seen on screen"
    );
    assert!(tl.rows.first().and_then(|r| r.processes) <= Some(before as f64));
    let load = std::fs::read_to_string(out.join("load.csv")).expect("load.csv");
    let held: Vec<usize> = conformance::summary::parse_load_csv(&load)
        .iter()
        .map(|l| l.held)
        .collect();
    assert_eq!(
        held,
        [0, 10, 20, 30, 0],
        "load.csv (released on quit): {load}"
    );
    assert!(out.join("summary.txt").is_file());
}

/// A closed terminal window (the pty's master closed under `top`) ends the session as `q`
/// does: the server it started is stopped and the session is recorded. Without this, crossterm
/// would spin on the dead terminal and the server would be left running.
#[test]
fn top_on_a_terminal_that_hangs_up_stops_its_server_and_records() {
    let mut top = TopInPty::start("hangup");
    let (server_pid, _) = top.server_pid();
    top.press(b"R");
    top.wait_screen("10 held", Duration::from_secs(20), |s| {
        s.line(1).contains("held R 10")
    });
    top.keys = None;
    top.hang_up.store(true, Ordering::Relaxed);
    top.wait_exit("a hang-up");
    top.assert_nothing_left(server_pid);
    let tl = conformance::timeline::Timeline::read(&top.out.join("timeline.csv"))
        .expect("the session was recorded");
    assert!(!tl.rows.is_empty());
}

/// `W` starts 10 requests to the bundled sleep CGI: the server `top` started has the script and
/// mod_cgi, and the scoreboard line shows workers in `W` (prefork: one child each), where `R`
/// would show reading workers.
#[test]
fn top_cgi_key_fills_w_slots_on_prefork() {
    let mut top = TopInPty::start("cgi");
    let (server_pid, _) = top.server_pid();
    top.press(b"W");
    let s = top.wait_screen("10 CGI sleeps in W", Duration::from_secs(30), |s| {
        s.line(1).contains("held R 10")
            && s.text()
                .lines()
                .filter(|l| l.contains('│'))
                .map(|l| l.matches('W').count())
                .sum::<usize>()
                >= 10
    });
    assert!(s.text().contains("CGI sleeps"), "{}", s.text());
    top.press(b"q");
    top.wait_exit("q");
    top.assert_nothing_left(server_pid);
}
