//! A tiny HTTP/1.1 client for conformance tests: send exact bytes, parse what comes back.
//!
//! General clients normalise requests (they add `Host`, fix line endings, refuse bad methods),
//! which is precisely what the rules of §9 test. Here a request is the bytes you write, and a
//! response is parsed strictly enough to assert on its status line, headers and framing.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

/// Default read timeout of one exchange: long against a local server, short against a hang.
pub const TIMEOUT: Duration = Duration::from_secs(10);

/// One parsed HTTP response.
#[derive(Debug, Clone, PartialEq)]
pub struct Response {
    /// `HTTP/1.1`; empty for an HTTP/0.9 (headerless) response.
    pub version: String,
    /// 0 for an HTTP/0.9 response.
    pub status: u16,
    pub reason: String,
    /// Header fields in the order received (names as sent).
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    /// The first header named `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body as text (lossy UTF-8).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// Whether the server announced it closes the connection.
    pub fn closes(&self) -> bool {
        self.header("Connection")
            .is_some_and(|v| v.to_ascii_lowercase().contains("close"))
    }
}

/// What happened on a connection after a request was written and the reader gave up or the
/// peer closed.
#[derive(Debug, Clone, PartialEq)]
pub struct Exchange {
    /// Every byte received.
    pub raw: Vec<u8>,
    /// Whether the server closed the connection (EOF) within the timeout.
    pub closed: bool,
}

impl Exchange {
    /// Parse all responses in `raw` (pipelined or keep-alive), as many as are complete.
    pub fn responses(&self, head_request: bool) -> Vec<Response> {
        let mut out = Vec::new();
        let mut rest = &self.raw[..];
        while !rest.is_empty() {
            match parse_response(rest, head_request, self.closed) {
                Some((r, used)) => {
                    out.push(r);
                    rest = &rest[used..];
                }
                None => break,
            }
        }
        out
    }

    /// The first response; panics with the raw bytes if there is none.
    pub fn response(&self) -> Response {
        self.responses(false).into_iter().next().unwrap_or_else(|| {
            panic!(
                "no complete HTTP response; got {:?}",
                String::from_utf8_lossy(&self.raw)
            )
        })
    }
}

/// Connect to `addr` with a bounded connect time.
pub fn connect(addr: SocketAddr) -> io::Result<TcpStream> {
    let s = TcpStream::connect_timeout(&addr, Duration::from_secs(5))?;
    s.set_read_timeout(Some(TIMEOUT))?;
    s.set_write_timeout(Some(TIMEOUT))?;
    s.set_nodelay(true)?;
    Ok(s)
}

/// Write `request` on a fresh connection, then read until the server closes it or `timeout`
/// passes with no new byte.
pub fn exchange(addr: SocketAddr, request: &[u8], timeout: Duration) -> io::Result<Exchange> {
    let mut s = connect(addr)?;
    s.write_all(request)?;
    read_until_close(&mut s, timeout)
}

/// A read timeout (`SO_RCVTIMEO` expiring shows as `WouldBlock` on Linux).
pub fn is_timeout(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
}

/// Read until EOF, or until `idle` passes without data. Connection resets count as close.
pub fn read_until_close(s: &mut TcpStream, idle: Duration) -> io::Result<Exchange> {
    s.set_read_timeout(Some(idle))?;
    let mut raw = Vec::new();
    let mut buf = [0u8; 16384];
    let closed = loop {
        match s.read(&mut buf) {
            Ok(0) => break true,
            Ok(n) => raw.extend_from_slice(&buf[..n]),
            Err(e) if is_timeout(&e) => break false,
            Err(e) if e.kind() == io::ErrorKind::ConnectionReset => break true,
            Err(e) => return Err(e),
        }
    };
    Ok(Exchange { raw, closed })
}

/// Read exactly one response from a keep-alive connection (framing by Content-Length or
/// chunked; HEAD has no body). Returns `Ok(None)` if the server closed before any byte.
pub fn read_response(s: &mut TcpStream, head_request: bool) -> io::Result<Option<Response>> {
    let deadline = Instant::now() + TIMEOUT;
    let mut raw = Vec::new();
    let mut buf = [0u8; 16384];
    loop {
        if let Some((r, _)) = parse_response(&raw, head_request, false) {
            return Ok(Some(r));
        }
        if Instant::now() > deadline {
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "no complete response",
            ));
        }
        match s.read(&mut buf) {
            Ok(0) if raw.is_empty() => return Ok(None),
            Ok(0) => {
                return parse_response(&raw, head_request, true)
                    .map(|(r, _)| Some(r))
                    .ok_or_else(|| io::Error::new(io::ErrorKind::UnexpectedEof, "truncated"));
            }
            Ok(n) => raw.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == io::ErrorKind::ConnectionReset && raw.is_empty() => {
                return Ok(None);
            }
            Err(e) => return Err(e),
        }
    }
}

/// `GET path` with `Host` and `Connection: close`; returns the response.
pub fn get(addr: SocketAddr, path: &str) -> io::Result<Response> {
    get_with_timeout(addr, path, TIMEOUT)
}

/// [`get`] with every step (connect, each read) bounded by `timeout`.
pub fn get_with_timeout(addr: SocketAddr, path: &str, timeout: Duration) -> io::Result<Response> {
    let req = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    let mut s = TcpStream::connect_timeout(&addr, timeout)?;
    s.set_write_timeout(Some(timeout))?;
    s.write_all(req.as_bytes())?;
    let ex = read_until_close(&mut s, timeout)?;
    ex.responses(false)
        .into_iter()
        .next()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "no HTTP response"))
}

fn find(h: &[u8], needle: &[u8]) -> Option<usize> {
    h.windows(needle.len()).position(|w| w == needle)
}

/// Parse one response at the start of `raw`. `eof` says the connection is closed, so a body
/// without framing ends at the end of `raw`. Returns the response and the bytes it used.
/// A reply that does not start with `HTTP/` is an HTTP/0.9 body (status 0).
pub fn parse_response(raw: &[u8], head_request: bool, eof: bool) -> Option<(Response, usize)> {
    if !raw.starts_with(b"HTTP/") {
        if eof && !raw.is_empty() {
            let r = Response {
                version: String::new(),
                status: 0,
                reason: String::new(),
                headers: vec![],
                body: raw.to_vec(),
            };
            return Some((r, raw.len()));
        }
        return None;
    }
    let head_end = find(raw, b"\r\n\r\n")? + 4;
    let head = String::from_utf8_lossy(&raw[..head_end - 4]).into_owned();
    let mut lines = head.split("\r\n");
    let status_line = lines.next()?;
    let mut parts = status_line.splitn(3, ' ');
    let version = parts.next()?.to_string();
    let status: u16 = parts.next()?.parse().ok()?;
    let reason = parts.next().unwrap_or("").to_string();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.to_string(), v.trim().to_string()))
        .collect();
    let mut r = Response {
        version,
        status,
        reason,
        headers,
        body: Vec::new(),
    };
    let rest = &raw[head_end..];
    let no_body = head_request || status == 204 || status == 304 || (100..200).contains(&status);
    if no_body {
        return Some((r, head_end));
    }
    if r.header("Transfer-Encoding")
        .is_some_and(|v| v.eq_ignore_ascii_case("chunked"))
    {
        let (body, used) = dechunk(rest)?;
        r.body = body;
        return Some((r, head_end + used));
    }
    if let Some(len) = r
        .header("Content-Length")
        .and_then(|v| v.parse::<usize>().ok())
    {
        if rest.len() < len {
            return None;
        }
        r.body = rest[..len].to_vec();
        return Some((r, head_end + len));
    }
    if eof {
        r.body = rest.to_vec();
        return Some((r, raw.len()));
    }
    None
}

fn dechunk(mut rest: &[u8]) -> Option<(Vec<u8>, usize)> {
    let total = rest.len();
    let mut body = Vec::new();
    loop {
        let eol = find(rest, b"\r\n")?;
        let size_text = String::from_utf8_lossy(&rest[..eol]);
        let size = usize::from_str_radix(size_text.split(';').next()?.trim(), 16).ok()?;
        rest = &rest[eol + 2..];
        if size == 0 {
            let end = find(rest, b"\r\n")?; // trailers are not expected; the final CRLF
            rest = &rest[end + 2..];
            return Some((body, total - rest.len()));
        }
        if rest.len() < size + 2 {
            return None;
        }
        body.extend_from_slice(&rest[..size]);
        rest = &rest[size + 2..];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_content_length_and_chunked_and_http09() {
        let raw = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhiHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n0\r\n\r\n";
        let ex = Exchange {
            raw: raw.to_vec(),
            closed: true,
        };
        let rs = ex.responses(false);
        assert_eq!(rs.len(), 2);
        assert_eq!(rs[0].body, b"hi");
        assert_eq!(rs[1].body, b"ab");
        let ex = Exchange {
            raw: b"<html>".to_vec(),
            closed: true,
        };
        assert_eq!(ex.response().status, 0);
    }
}
