//! `mpm-lab top` driven through a pseudo-terminal, as a student uses it: against a real
//! mpm-prefork it starts itself, the `R` key holds partial requests, the pool grows on the
//! screen and in the recorded `timeline.csv`, and `q` leaves no process behind.
//!
//! The child is spawned with `std::process::Command` (never `fork()` from this multi-threaded
//! test harness), the pty's slave as its stdin/stdout/stderr and its own process group. The
//! test reads the screen with [`Screen`], a terminal small enough to follow what ratatui's
//! crossterm backend writes: cursor moves (`CSI row;col H`) and printed characters.

use conformance::procfs;
use nix::pty::{Winsize, openpty};
use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use std::io::Read;
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
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

#[test]
fn top_held_requests_key_grows_prefork_on_screen_and_in_timeline_then_q_leaves_nothing() {
    let out = std::env::temp_dir().join(format!("mpm-lab-top-pty-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    let size = Winsize {
        ws_row: H,
        ws_col: W,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    let pty = openpty(Some(&size), None).expect("openpty");
    let config = conformance::crate_dir().join("fixtures/prefork-reference.conf");
    let mut child = Command::new(env!("CARGO_BIN_EXE_mpm-lab"))
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
    let mut leftovers = Leftovers {
        groups: vec![child.id() as i32],
    };
    let bytes: Arc<Mutex<Vec<u8>>> = Arc::default();
    let mut master = std::fs::File::from(pty.master);
    let mut keys = master.try_clone().expect("dup master");
    {
        let bytes = bytes.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 8192];
            // Ends with EIO once the child and its slave descriptors are gone.
            while let Ok(n) = master.read(&mut buf) {
                if n == 0 {
                    break;
                }
                bytes
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .extend_from_slice(&buf[..n]);
            }
        });
    }
    let screen = || {
        Screen::parse(
            &bytes.lock().unwrap_or_else(|e| e.into_inner()),
            W as usize,
            H as usize,
        )
    };
    let wait_screen = |what: &str, timeout: Duration, ok: &dyn Fn(&Screen) -> bool| -> Screen {
        let deadline = Instant::now() + timeout;
        loop {
            let s = screen();
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
    };
    // StartServers 5: the first polls show them.
    let s = wait_screen("5 processes", Duration::from_secs(30), &|s| {
        s.count("procs").is_some_and(|n| n >= 5) && s.server_pid().is_some()
    });
    let server_pid = s.server_pid().expect("server pid on screen");
    leftovers.groups.push(server_pid);
    let before = s.count("procs").expect("procs");
    assert!(s.text().contains("Scoreboard"), "{}", s.text());

    // 30 held partial requests: idle drops below MinSpareServers 5, the parent spawns 1, 2, 4 …
    use std::io::Write;
    for _ in 0..3 {
        keys.write_all(b"R").expect("press R");
        std::thread::sleep(Duration::from_millis(300));
    }
    let s = wait_screen("30 held and a bigger pool", Duration::from_secs(40), &|s| {
        s.line(1).contains("held R 30") && s.count("procs").is_some_and(|n| n >= before + 8)
    });
    let grown = s.count("procs").expect("procs");

    keys.write_all(b"q").expect("press q");
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(st) = child.try_wait().expect("try_wait") {
            break st;
        }
        assert!(
            Instant::now() < deadline,
            "top did not quit on q; screen:\n{}",
            screen().text()
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(
        status.success(),
        "top exited with {status}; screen:\n{}",
        screen().text()
    );
    // Nothing left: the server's whole group is gone, and so is top's.
    assert!(
        !procfs::alive(server_pid),
        "server {server_pid} still alive"
    );
    assert!(procfs::group_members(server_pid).is_empty());
    assert!(procfs::group_members(child.id() as i32).is_empty());

    // The recording shows the same growth, and holds what the key held.
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
    drop(leftovers);
    let _ = std::fs::remove_dir_all(&out);
}
