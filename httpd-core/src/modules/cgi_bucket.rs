//! Steps 3–4 of [`super::cgi_script`]: the pipes of a running script, read as Apache's CGI
//! bucket reads them (`modules/generators/cgi_common.h: cgi_bucket_read`, `cgi_read_stdout`,
//! `log_script_err`; `mod_cgi.c: cgi_handle_request` for the body).
//!
//! One [`CgiBucket`] per script, in three phases:
//! 1. [`CgiBucket::feed`]: the request body goes to the script's stdin as it arrives; while
//!    stdin is full its output is read meanwhile, so a script that echoes a large body
//!    (`cat`) cannot block itself and us.
//! 2. [`CgiBucket::read_head`]: stdout is read until the header block is complete (or the
//!    script ends or falls silent for `Timeout`); what follows the block stays in the bucket.
//! 3. The rest is the response body, read as a [`BodySource`] while it is sent
//!    ([`crate::http::streamed`]): one `poll(2)` on stdout and stderr per read, waiting up to
//!    `Timeout` or not at all. stderr lines go to the error log (AH01215) as they come. A
//!    wait that expires kills the script (AH01220 for mod_cgi, then the core's AH00574).
//!
//! Dropping the bucket ends the script: a script still writing is killed (its process group,
//! SIGKILL), and mod_cgi's own child is reaped (Apache's pool cleanup of the subprocess).

use std::fs::File;
use std::io::{Read, Write};
use std::net::SocketAddr;
use std::os::fd::AsFd;
use std::time::Duration;

use nix::poll::{PollFd, PollFlags, PollTimeout, poll};

use super::cgi_script::{Script, kill_script};
use crate::http::handler::Exchange;
use crate::http::streamed::{BodySource, Piece};
use crate::log::{ErrorLog, Level};

/// Where the bucket reports: the error log (with the client), ScriptLog, and which module it
/// speaks for.
pub struct Reporter {
    pub log: ErrorLog,
    pub peer: SocketAddr,
    /// `cgi` or `cgid`.
    pub module: &'static str,
    /// The script's file, as Apache's messages name it.
    pub file: String,
    pub cgi: std::sync::Arc<crate::config::ServerConfig>,
    /// The request as ScriptLog writes it; `None` when ScriptLog is off.
    pub scriptlog: Option<super::cgi_scriptlog::LogRequest>,
    /// `r->status` for ScriptLog's stderr entries: 200 until the script's status is known.
    pub status: u16,
}

impl Reporter {
    fn line(&self, level: Level, module: &str, msg: &str) {
        if self.log.enabled(module, level) {
            self.log
                .log_client(module, level, self.peer, format_args!("{msg}"));
        }
    }

    /// `log_script_err`: one stderr line.
    fn stderr(&self, line: &str) {
        self.line(
            Level::Error,
            self.module,
            &format!("AH01215: stderr from {}: {line}", self.file),
        );
        if let Some(req) = &self.scriptlog {
            super::cgi_scriptlog::error(&self.cgi.cgi, req, self.status, line);
        }
    }
}

/// How phase 2 ended.
#[derive(Debug, PartialEq, Eq)]
pub enum Head {
    /// The bytes up to and including the empty line (the rest stays in the bucket).
    Block(Vec<u8>),
    /// The script closed stdout first: all it wrote.
    Ended(Vec<u8>),
    /// `Timeout` passed first: what it wrote so far.
    TimedOut(Vec<u8>),
}

/// A running script's pipes (see the module doc).
pub struct CgiBucket {
    script: Script,
    /// stdout read but not yet handed on.
    out: Vec<u8>,
    /// An incomplete stderr line.
    err: Vec<u8>,
    out_open: bool,
    err_open: bool,
    /// `Timeout` (`CGIDScriptTimeout` for mod_cgid) in poll's milliseconds.
    wait_ms: u16,
    report: Reporter,
    /// The first `ScriptLogBuffer` bytes of the request body, kept only when ScriptLog is on
    /// (`cgi_handle_request`'s `dbuf`).
    logged_body: Vec<u8>,
}

#[derive(Debug, PartialEq, Eq)]
enum Turn {
    /// stdin has room.
    Writable,
    /// Something was read from stdout or stderr.
    Read,
    TimedOut,
    /// Nothing left to wait for.
    Done,
}

impl CgiBucket {
    pub fn new(script: Script, timeout: Duration, report: Reporter) -> CgiBucket {
        CgiBucket {
            script,
            out: Vec::new(),
            err: Vec::new(),
            out_open: true,
            err_open: true,
            wait_ms: u16::try_from(timeout.as_millis()).unwrap_or(u16::MAX),
            report,
            logged_body: Vec::new(),
        }
    }

    /// The request's status from here on, for ScriptLog's stderr entries.
    pub fn set_status(&mut self, status: u16) {
        self.report.status = status;
    }

    /// What ScriptLog's `log_script` needs once the header block has failed: the first
    /// `ScriptLogBuffer` bytes of the body, the rest of stdout as it is read (each wait up to
    /// Timeout; complete stderr lines meanwhile go to the logs as usual), and the unfinished
    /// stderr line left at the end. Without ScriptLog nothing is read (the bucket's drop ends
    /// the script).
    pub fn rest_for_log(&mut self, with_stdout: bool) -> (Vec<u8>, Vec<Vec<u8>>, Vec<u8>) {
        let mut pieces = Vec::new();
        if self.report.scriptlog.is_none() {
            return (Vec::new(), pieces, Vec::new());
        }
        if with_stdout {
            loop {
                if !self.out.is_empty() {
                    pieces.push(std::mem::take(&mut self.out));
                }
                if !self.out_open || self.turn(None, self.wait_ms) == Turn::TimedOut {
                    break;
                }
            }
            while self.err_open && self.turn(None, self.wait_ms) != Turn::TimedOut {}
        }
        let body = std::mem::take(&mut self.logged_body);
        (body, pieces, std::mem::take(&mut self.err))
    }

    /// The script's pid (its process group).
    pub fn pid(&self) -> i32 {
        self.script.pid
    }

    /// Phase 1: the request body to stdin, then stdin closed.
    pub fn feed(&mut self, x: &mut Exchange<'_>) -> Result<(), crate::http::body::BodyError> {
        let mut stdin = self.script.stdin.take();
        let wait = self.wait_ms;
        let keep = if self.report.scriptlog.is_some() {
            usize::try_from(self.report.cgi.cgi.script_log_buffer).unwrap_or(usize::MAX)
        } else {
            0
        };
        let r = x.body.stream_to(&mut |mut piece| {
            if self.logged_body.len() < keep {
                let n = piece.len().min(keep - self.logged_body.len());
                self.logged_body.extend_from_slice(&piece[..n]);
            }
            while let Some(w) = &mut stdin
                && !piece.is_empty()
            {
                match self.turn(Some(w), wait) {
                    Turn::Writable => match w.write(piece) {
                        Ok(n) if n > 0 => piece = &piece[n..],
                        // The script stopped reading (or died): the rest of the body is dropped.
                        _ => stdin = None,
                    },
                    Turn::Read => {}
                    Turn::TimedOut | Turn::Done => stdin = None,
                }
            }
        });
        drop(stdin);
        r
    }

    /// Phase 2 (never for an `nph-` script, whose output nobody parses).
    pub fn read_head(&mut self) -> Head {
        loop {
            if let Some(end) = header_end(&self.out) {
                let rest = self.out.split_off(end);
                return Head::Block(std::mem::replace(&mut self.out, rest));
            }
            if !self.out_open {
                return Head::Ended(std::mem::take(&mut self.out));
            }
            if self.turn(None, self.wait_ms) == Turn::TimedOut {
                return Head::TimedOut(std::mem::take(&mut self.out));
            }
        }
    }

    /// Read everything to the end (a HEAD, a bodiless status): `None` on a timeout.
    pub fn read_all(&mut self) -> Option<Vec<u8>> {
        let mut all = Vec::new();
        loop {
            match self.read(true) {
                Piece::Data(d) => all.extend_from_slice(&d),
                Piece::End => return Some(all),
                Piece::Pause | Piece::Failed => return None,
            }
        }
    }

    /// One `poll(2)` on the open pipes (and stdin when given), at most `ms` long.
    fn turn(&mut self, stdin: Option<&File>, ms: u16) -> Turn {
        let mut fds = Vec::with_capacity(3);
        if self.out_open {
            fds.push(PollFd::new(self.script.stdout.as_fd(), PollFlags::POLLIN));
        }
        if self.err_open {
            fds.push(PollFd::new(self.script.stderr.as_fd(), PollFlags::POLLIN));
        }
        if let Some(w) = stdin {
            fds.push(PollFd::new(w.as_fd(), PollFlags::POLLOUT));
        }
        if fds.is_empty() {
            return Turn::Done;
        }
        if poll(&mut fds, PollTimeout::from(ms)).unwrap_or(0) == 0 {
            return Turn::TimedOut;
        }
        let ready: Vec<bool> = fds
            .iter()
            .map(|f| f.revents().is_some_and(|r| !r.is_empty()))
            .collect();
        drop(fds);
        let mut i = 0;
        let mut buf = [0u8; 16 * 1024];
        let mut read = false;
        if self.out_open {
            if ready[i] {
                read = true;
                read_pipe(
                    &mut self.script.stdout,
                    &mut self.out_open,
                    &mut self.out,
                    &mut buf,
                );
            }
            i += 1;
        }
        if self.err_open {
            if ready[i] {
                read = true;
                read_pipe(
                    &mut self.script.stderr,
                    &mut self.err_open,
                    &mut self.err,
                    &mut buf,
                );
                while let Some(p) = self.err.iter().position(|&b| b == b'\n') {
                    let line: Vec<u8> = self.err.drain(..=p).collect();
                    let text = String::from_utf8_lossy(&line[..p]);
                    self.report.stderr(text.trim_end_matches('\r'));
                }
            }
            i += 1;
        }
        if read {
            Turn::Read
        } else if stdin.is_some() && ready.get(i) == Some(&true) {
            Turn::Writable
        } else {
            Turn::Read
        }
    }

    /// After stdout's end: what the script still writes to stderr, each wait up to Timeout
    /// (`cgi_handle_response` → `log_script_err`), then the last partial line.
    fn finish_stderr(&mut self) {
        while self.err_open {
            if self.turn(None, self.wait_ms) == Turn::TimedOut {
                break;
            }
        }
        if !self.err.is_empty() {
            let rest = std::mem::take(&mut self.err);
            self.report.stderr(&String::from_utf8_lossy(&rest));
        }
    }

    /// The wait for output expired: the script is killed, and the lines Apache logs.
    fn timed_out(&mut self) {
        kill_script(self.script.pid);
        if self.report.module == "cgi" {
            let msg = format!(
                "AH01220: Timeout waiting for output from CGI script {}",
                self.report.file
            );
            self.report.line(Level::Warn, "cgi", &msg);
        }
    }
}

impl BodySource for CgiBucket {
    fn read(&mut self, wait: bool) -> Piece {
        loop {
            if !self.out.is_empty() {
                return Piece::Data(std::mem::take(&mut self.out));
            }
            if !self.out_open {
                self.finish_stderr();
                return Piece::End;
            }
            let ms = if wait { self.wait_ms } else { 0 };
            if self.turn(None, ms) == Turn::TimedOut {
                if !wait {
                    return Piece::Pause;
                }
                self.timed_out();
                self.report.line(
                    Level::Error,
                    "core",
                    "(70007)The timeout specified has expired: AH00574: ap_content_length_filter: apr_bucket_read() failed",
                );
                return Piece::Failed;
            }
        }
    }
}

impl Drop for CgiBucket {
    fn drop(&mut self) {
        if self.out_open {
            kill_script(self.script.pid);
        }
        // mod_cgi: reap our own child (cgid's daemon reaps its scripts). One that closed its
        // stdout but runs on is ended as Apache's pool cleanup ends a subprocess
        // (`APR_KILL_AFTER_TIMEOUT`): SIGTERM to its group, SIGKILL 3 s later, so the worker
        // is never held by it for longer.
        let Some(child) = &mut self.script.child else {
            return;
        };
        if matches!(child.try_wait(), Ok(None)) {
            let group = nix::unistd::Pid::from_raw(self.script.pid);
            let _ = nix::sys::signal::killpg(group, nix::sys::signal::Signal::SIGTERM);
            let deadline = std::time::Instant::now() + Duration::from_secs(3);
            while matches!(child.try_wait(), Ok(None)) && std::time::Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(10));
            }
            kill_script(self.script.pid);
        }
        let _ = child.wait();
    }
}

/// One read of a ready pipe into `into`; its end (or an error) closes it.
fn read_pipe(pipe: &mut File, open: &mut bool, into: &mut Vec<u8>, buf: &mut [u8]) {
    match pipe.read(buf) {
        Ok(0) | Err(_) => *open = false,
        Ok(n) => into.extend_from_slice(&buf[..n]),
    }
}

/// The end of the header block: just past the first empty line (`\n\n` or `\r\n\r\n`).
pub fn header_end(out: &[u8]) -> Option<usize> {
    let lf = out.windows(2).position(|w| w == b"\n\n").map(|p| p + 2);
    let crlf = out.windows(4).position(|w| w == b"\r\n\r\n").map(|p| p + 4);
    match (lf, crlf) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

#[cfg(test)]
mod tests {
    use super::header_end;

    #[test]
    fn the_header_block_ends_at_the_first_empty_line() {
        assert_eq!(header_end(b"A: 1\n\nbody\n\n"), Some(6));
        assert_eq!(header_end(b"A: 1\r\n\r\nx"), Some(8));
        assert_eq!(header_end(b"A: 1\r\n"), None);
    }
}
