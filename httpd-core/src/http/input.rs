//! The connection's input buffer and Apache's line reader (`server/protocol.c: ap_rgetline_core`).
//!
//! A line may hold at most `limit + 2` bytes *including* its CRLF, with one exception Apache
//! makes on purpose: when only the final LF overflows (the CR still fits), the line is accepted.
//! So with `LimitRequestLine 8190` a request line of 8191 characters passes and 8192 gets 414.
//! Under `Strict`, a line that ends in a bare LF is refused (400).

use std::io;
use std::net::TcpStream;
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

use crate::modules::reqtimeout::{ReadDeadline, StageKind};

/// Bytes asked of the socket per read (Apache's core input filter reads 8 KiB blocks).
const READ_SIZE: usize = 8 * 1024;
/// Below this much free room the buffer grows by `READ_SIZE` before reading.
const MIN_READ: usize = 1024;

/// `read(2)` into `buf`'s spare capacity; the bytes read become part of `buf`.
#[allow(unsafe_code)]
fn read_into_spare(stream: &TcpStream, buf: &mut Vec<u8>) -> io::Result<usize> {
    let spare = buf.spare_capacity_mut();
    // SAFETY: the pointer and length describe `spare`, memory owned by `buf` that nobody else
    // references while this call runs; read(2) writes at most `spare.len()` bytes into it and
    // never reads it, so uninitialised memory is fine.
    let n = unsafe { libc::read(stream.as_raw_fd(), spare.as_mut_ptr().cast(), spare.len()) };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    let n = n as usize;
    // SAFETY: read(2) initialised the first `n` bytes of the spare capacity (n <= spare.len()).
    unsafe { buf.set_len(buf.len() + n) };
    Ok(n)
}

/// Bytes read from the socket and not yet consumed.
#[derive(Debug, Default)]
pub struct Input {
    buf: Vec<u8>,
    start: usize,
    /// mod_reqtimeout's deadline for the current stage (`Off` unless the module is loaded).
    pub(crate) deadline: ReadDeadline,
    /// The stage whose deadline made a read fail, until [`Input::take_timed_out`].
    timed_out: Option<StageKind>,
    /// The socket's read timeout as last set (each change is a `setsockopt`: set it only when
    /// it changes, here and for the connection's `Timeout`).
    read_timeout: Option<Duration>,
    /// Bytes consumed since the connection opened: request lines, headers, bodies (mod_logio's
    /// input count, `%I`).
    pub consumed: u64,
}

/// Why a read stopped.
#[derive(Debug)]
pub enum ReadError {
    /// The socket timeout (Timeout or KeepAliveTimeout) expired.
    Timeout,
    /// The client closed its side.
    Closed,
    /// Any other socket error (reset, …).
    Io(io::Error),
}

/// Why [`Input::read_line`] returned no line.
#[derive(Debug)]
pub enum LineError {
    /// More than the limit without LF (`APR_ENOSPC`); carries what was read, for the logs.
    TooLong(Vec<u8>),
    /// The line ended in LF without CR (`APR_EINVAL` under Strict); carries the line.
    BareLf(Vec<u8>),
    /// Timeout, EOF or error; `partial` says whether some bytes of this line had arrived.
    Read { err: ReadError, partial: bool },
}

impl Input {
    /// Whether unread bytes are buffered (a pipelined request, or the start of the next one).
    pub fn has_data(&self) -> bool {
        self.start < self.buf.len()
    }

    /// The unread bytes.
    pub fn data(&self) -> &[u8] {
        &self.buf[self.start..]
    }

    /// Mark `n` buffered bytes as read.
    pub fn consume(&mut self, n: usize) {
        self.consumed += n as u64;
        self.start += n;
        if self.start == self.buf.len() {
            self.buf.clear();
            self.start = 0;
        }
    }

    /// Throw away everything buffered (after an unusable request, like Apache's
    /// `die_unusable_input`).
    pub fn clear(&mut self) {
        self.buf.clear();
        self.start = 0;
    }

    /// Read once more from the socket (blocking with the socket's current read timeout).
    ///
    /// Reads into the buffer's spare capacity, so no byte is zeroed first: with a 1 KiB
    /// request per connection, clearing a fresh 8 KiB buffer every time showed up in profiles.
    pub fn fill(&mut self, stream: &TcpStream) -> Result<usize, ReadError> {
        if self.start > 0 && self.start > self.buf.len() / 2 {
            self.buf.drain(..self.start);
            self.start = 0;
        }
        if self.buf.capacity() - self.buf.len() < MIN_READ {
            self.buf.reserve(READ_SIZE);
        }
        // mod_reqtimeout (module doc step 3): this read waits at most what the stage has left.
        if !matches!(self.deadline, ReadDeadline::Off) {
            match self.deadline.before_read(Instant::now()) {
                Ok(Some(t)) => self.set_read_timeout(stream, t),
                Ok(None) => {}
                Err(kind) => {
                    self.timed_out = Some(kind);
                    return Err(ReadError::Timeout);
                }
            }
        }
        let got = loop {
            match read_into_spare(stream, &mut self.buf) {
                Ok(n) => break Ok(n),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => break Err(e),
            }
        };
        match got {
            Ok(0) => Err(ReadError::Closed),
            Ok(n) => {
                self.deadline.after_read(n);
                Ok(n)
            }
            Err(e) => Err(match e.kind() {
                io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => {
                    // Under a running stage, a timed-out read is that stage's timeout (Apache's
                    // filter reports APR_TIMEUP from its poll either way).
                    if let Some(kind) = self.deadline.running() {
                        self.timed_out = Some(kind);
                    }
                    ReadError::Timeout
                }
                _ => ReadError::Io(e),
            }),
        }
    }

    /// Set the socket's read timeout, unless it is already `t`.
    pub(crate) fn set_read_timeout(&mut self, stream: &TcpStream, t: Duration) {
        if self.read_timeout != Some(t) {
            self.read_timeout = stream.set_read_timeout(Some(t)).ok().map(|()| t);
        }
    }

    /// The stage whose deadline cut a read since the last call (`AH01382` is due).
    pub(crate) fn take_timed_out(&mut self) -> Option<StageKind> {
        self.timed_out.take()
    }

    /// Give the buffer's memory back when nothing is buffered. The event MPM calls this when
    /// it parks a connection: an idle keep-alive connection should cost its socket and a few
    /// hundred bytes of bookkeeping, not a read buffer (the 10,000-idle-connections goal).
    pub fn release(&mut self) {
        if !self.has_data() {
            self.buf = Vec::new();
            self.start = 0;
        }
    }

    /// One line of at most `n` bytes (`n` = limit + 2), without its CRLF.
    pub fn read_line(&mut self, stream: &TcpStream, n: usize) -> Result<Vec<u8>, LineError> {
        loop {
            let data = self.data();
            match line_end(data, n) {
                LineScan::Line { content, consumed } => {
                    let line = data[..content].to_vec();
                    self.consume(consumed);
                    return Ok(line);
                }
                LineScan::BareLf { consumed } => {
                    let line = data[..consumed - 1].to_vec();
                    self.consume(consumed);
                    return Err(LineError::BareLf(line));
                }
                LineScan::TooLong => {
                    let partial = data[..data.len().min(n)].to_vec();
                    return Err(LineError::TooLong(partial));
                }
                LineScan::NeedMore => {}
            }
            let partial = self.has_data();
            if let Err(err) = self.fill(stream) {
                return Err(LineError::Read { err, partial });
            }
        }
    }
}

/// What the buffered bytes hold.
#[derive(Debug, PartialEq, Eq)]
enum LineScan {
    Line { content: usize, consumed: usize },
    BareLf { consumed: usize },
    TooLong,
    NeedMore,
}

/// `ap_rgetline_core`'s decision for a buffer of `n` bytes: `m` = bytes before the LF.
fn line_end(data: &[u8], n: usize) -> LineScan {
    let search = &data[..data.len().min(n + 1)];
    match search.iter().position(|&b| b == b'\n') {
        Some(m) => {
            let ends_in_cr = m > 0 && data[m - 1] == b'\r';
            if m > n || (m == n && !ends_in_cr) {
                LineScan::TooLong
            } else if ends_in_cr {
                LineScan::Line {
                    content: m - 1,
                    consumed: m + 1,
                }
            } else {
                LineScan::BareLf { consumed: m + 1 }
            }
        }
        None if data.len() > n => LineScan::TooLong,
        None => LineScan::NeedMore,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reads land after what is buffered, lines span reads, and an empty buffer gives its
    /// memory back on `release` (a parked event connection) but a non-empty one does not.
    #[test]
    fn fill_appends_and_release_frees_only_when_empty() {
        use std::io::Write;
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let mut client = TcpStream::connect(l.local_addr().unwrap()).unwrap();
        let (server, _) = l.accept().unwrap();
        let mut input = Input::default();
        client.write_all(b"GET / HT").unwrap();
        assert_eq!(input.fill(&server).unwrap(), 8);
        client.write_all(b"TP/1.1\r\nHost: a\r\n").unwrap();
        assert_eq!(input.read_line(&server, 100).unwrap(), b"GET / HTTP/1.1");
        input.release();
        assert!(input.has_data(), "release keeps unread bytes");
        assert_eq!(input.read_line(&server, 100).unwrap(), b"Host: a");
        assert!(!input.has_data());
        input.release();
        assert_eq!(input.buf.capacity(), 0, "an empty buffer is freed");
        client.write_all(&[b'x'; 20_000]).unwrap();
        drop(client);
        let mut total = 0;
        while let Ok(n) = input.fill(&server) {
            total += n;
        }
        assert_eq!(total, 20_000);
        assert!(input.data().iter().all(|&b| b == b'x'));
    }

    #[test]
    fn rule_60_line_limit_lets_only_the_lf_overflow() {
        let n = 8192; // LimitRequestLine 8190 + 2
        let line = |len: usize| {
            let mut v = vec![b'a'; len];
            v.extend_from_slice(b"\r\n");
            v
        };
        assert_eq!(
            line_end(&line(8190), n),
            LineScan::Line {
                content: 8190,
                consumed: 8192
            }
        );
        assert_eq!(
            line_end(&line(8191), n),
            LineScan::Line {
                content: 8191,
                consumed: 8193
            }
        );
        assert_eq!(line_end(&line(8192), n), LineScan::TooLong);
        assert_eq!(line_end(&vec![b'a'; 8193], n), LineScan::TooLong);
        assert_eq!(line_end(&vec![b'a'; 8192], n), LineScan::NeedMore);
    }

    #[test]
    fn bare_lf_is_refused() {
        assert_eq!(
            line_end(b"GET / HTTP/1.1\n", 100),
            LineScan::BareLf { consumed: 15 }
        );
        assert_eq!(
            line_end(b"\r\n", 100),
            LineScan::Line {
                content: 0,
                consumed: 2
            }
        );
    }
}
