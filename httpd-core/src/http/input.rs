//! The connection's input buffer and Apache's line reader (`server/protocol.c: ap_rgetline_core`).
//!
//! A line may hold at most `limit + 2` bytes *including* its CRLF, with one exception Apache
//! makes on purpose: when only the final LF overflows (the CR still fits), the line is accepted.
//! So with `LimitRequestLine 8190` a request line of 8191 characters passes and 8192 gets 414.
//! Under `Strict`, a line that ends in a bare LF is refused (400).

use std::io::{self, Read};
use std::net::TcpStream;

/// Bytes read from the socket and not yet consumed.
#[derive(Debug, Default)]
pub struct Input {
    buf: Vec<u8>,
    start: usize,
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
    pub fn fill(&mut self, mut stream: &TcpStream) -> Result<usize, ReadError> {
        if self.start > 0 && self.start > self.buf.len() / 2 {
            self.buf.drain(..self.start);
            self.start = 0;
        }
        let old = self.buf.len();
        self.buf.resize(old + 16 * 1024, 0);
        let got = loop {
            match stream.read(&mut self.buf[old..]) {
                Ok(n) => break Ok(n),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => break Err(e),
            }
        };
        match got {
            Ok(0) => {
                self.buf.truncate(old);
                Err(ReadError::Closed)
            }
            Ok(n) => {
                self.buf.truncate(old + n);
                Ok(n)
            }
            Err(e) => {
                self.buf.truncate(old);
                Err(match e.kind() {
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => ReadError::Timeout,
                    _ => ReadError::Io(e),
                })
            }
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
