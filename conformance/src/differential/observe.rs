//! One request on a fresh connection, and what came back reduced to what must match Apache:
//! the status lines, the headers of [`COMPARED`], each body's length and hash, the number of
//! responses and the connection's fate.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use super::wire::fnv1a;
use crate::http::{is_timeout, parse_response};

/// Headers whose values must match (after [`normalise`]); others (Date, Server,
/// Last-Modified, Keep-Alive, Content-Type) may differ.
pub const COMPARED: &[&str] = &[
    "Allow",
    "Content-Length",
    "Content-Range",
    "Connection",
    "Location",
    "Vary",
    "ETag",
    "Transfer-Encoding",
];

/// How long the server may take to send its first byte, and how long a silence after a byte
/// means "the server is done and keeps the connection".
#[derive(Debug, Clone, Copy)]
pub struct Patience {
    pub first_byte: Duration,
    pub idle: Duration,
}

impl Default for Patience {
    fn default() -> Patience {
        Patience {
            first_byte: Duration::from_millis(1500),
            idle: Duration::from_millis(250),
        }
    }
}

/// What the server did with the connection once it stopped sending.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fate {
    /// Still open after the idle time (keep-alive, or waiting for more of a request).
    Kept,
    /// Closed with a FIN.
    Closed,
    /// Reset (RST): closed with our data unread.
    Reset,
    /// Not a byte within `first_byte`, connection still open.
    Timeout,
}

impl Fate {
    pub fn name(self) -> &'static str {
        match self {
            Fate::Kept => "kept",
            Fate::Closed => "closed",
            Fate::Reset => "reset",
            Fate::Timeout => "timeout",
        }
    }
}

/// The comparable summary of one exchange, as lines (see [`Observation::lines`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Observation {
    pub lines: Vec<String>,
}

impl Observation {
    /// One line per fact: `fate=…`, then per response `N status=…`, `N Header=value` for each
    /// compared header present, `N body=LEN/HASH`, and `unparsed=LEN/HASH` for trailing bytes
    /// that are not a response.
    pub fn lines(&self) -> &[String] {
        &self.lines
    }

    /// The status of the first response (0 for none), for summaries.
    pub fn first_status(&self) -> u16 {
        self.lines
            .iter()
            .find_map(|l| l.strip_prefix("1 status="))
            .and_then(|s| s.get(..3))
            .and_then(|s| s.parse().ok())
            .unwrap_or(0)
    }
}

/// Send `request` to `addr` on a new connection and observe the answer. `port` is replaced
/// by `PORT` in Location and bodies, so two servers on different ports compare equal.
pub fn observe(addr: SocketAddr, request: &[u8], patience: Patience) -> io::Result<Observation> {
    let (raw, fate) = exchange(addr, request, patience)?;
    let head = request.starts_with(b"HEAD ");
    Ok(summarise(&raw, fate, head, addr.port()))
}

/// The raw bytes that came back and the connection's fate.
pub fn exchange(
    addr: SocketAddr,
    request: &[u8],
    patience: Patience,
) -> io::Result<(Vec<u8>, Fate)> {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(5))?;
    s.set_nodelay(true)?;
    s.set_write_timeout(Some(Duration::from_secs(5)))?;
    // A server may refuse and close before all is written: that is an answer, not an error.
    let _ = s.write_all(request);
    read_all(&mut s, patience)
}

fn read_all(s: &mut TcpStream, p: Patience) -> io::Result<(Vec<u8>, Fate)> {
    let mut raw = Vec::new();
    let mut buf = [0u8; 16384];
    let start = Instant::now();
    loop {
        let wait = if raw.is_empty() {
            p.first_byte.saturating_sub(start.elapsed())
        } else {
            p.idle
        };
        if wait.is_zero() {
            return Ok((raw, Fate::Timeout));
        }
        s.set_read_timeout(Some(wait))?;
        match s.read(&mut buf) {
            Ok(0) => return Ok((raw, Fate::Closed)),
            Ok(n) => raw.extend_from_slice(&buf[..n]),
            Err(e) if is_timeout(&e) => {
                let fate = if raw.is_empty() {
                    Fate::Timeout
                } else {
                    Fate::Kept
                };
                return Ok((raw, fate));
            }
            Err(e) if e.kind() == io::ErrorKind::ConnectionReset => {
                return Ok((raw, Fate::Reset));
            }
            Err(e) => return Err(e),
        }
    }
}

/// Reduce raw bytes to an [`Observation`].
pub fn summarise(raw: &[u8], fate: Fate, head: bool, port: u16) -> Observation {
    let port = port.to_string();
    let mut lines = vec![format!("fate={}", fate.name())];
    let mut rest = raw;
    let mut n = 0;
    let eof = fate != Fate::Kept && fate != Fate::Timeout;
    while !rest.is_empty() {
        let Some((r, used)) = parse_response(rest, head, eof) else {
            break;
        };
        n += 1;
        lines.push(format!("{n} status={} {}", r.status, r.reason));
        // A multipart body's boundary is random on both sides: compare it as `BOUNDARY`, and
        // the length as that of the body so rewritten.
        let boundary = r
            .header("Content-Type")
            .and_then(|ct| ct.split_once("boundary="))
            .map(|(_, b)| b.trim().to_string());
        let mut body = replace_port(&r.body, &port);
        if let Some(b) = boundary.as_deref().filter(|b| !b.is_empty()) {
            body = String::from_utf8_lossy(&body)
                .replace(b, "BOUNDARY")
                .into_bytes();
        }
        for name in COMPARED {
            if let Some(v) = r.header(name) {
                let v = match (*name, &boundary) {
                    ("Content-Length", Some(_)) => body.len().to_string(),
                    _ => normalise(name, v, &port),
                };
                lines.push(format!("{n} {name}={v}"));
            }
        }
        lines.push(format!("{n} body={}/{:016x}", body.len(), fnv1a(&body)));
        rest = &rest[used..];
    }
    if !rest.is_empty() {
        lines.push(format!("unparsed={}/{:016x}", rest.len(), fnv1a(rest)));
    }
    Observation { lines }
}

/// Header values as compared: Allow and Connection as sorted, lower-cased token sets, ETag by
/// its shape, the port in Location as `PORT`.
pub fn normalise(name: &str, v: &str, port: &str) -> String {
    match name {
        "Allow" | "Connection" | "Vary" => {
            let mut t: Vec<String> = v
                .split(',')
                .map(|s| s.trim().to_ascii_lowercase())
                .filter(|s| !s.is_empty())
                .collect();
            t.sort();
            t.join(",")
        }
        "ETag" => etag_shape(v),
        "Location" => v.replace(&format!(":{port}"), ":PORT"),
        _ => v.to_string(),
    }
}

/// `"size-mtime"` for Apache's default `FileETag MTime Size` form, weak or not (a file
/// younger than a second gets a weak one, so weakness depends on when the request came), the
/// value itself otherwise (its mtime differs between two document roots).
fn etag_shape(v: &str) -> String {
    let inner = v.strip_prefix("W/").unwrap_or(v);
    let quoted = inner.strip_prefix('"').and_then(|i| i.strip_suffix('"'));
    match quoted.and_then(|q| q.split_once('-')) {
        Some((a, b))
            if !a.is_empty()
                && !b.is_empty()
                && (a.bytes().chain(b.bytes())).all(|c| c.is_ascii_hexdigit()) =>
        {
            "size-mtime".into()
        }
        _ => v.to_string(),
    }
}

fn replace_port(body: &[u8], port: &str) -> Vec<u8> {
    let needle = format!(":{port}");
    let text = String::from_utf8_lossy(body);
    if text.contains(&needle) && std::str::from_utf8(body).is_ok() {
        text.replace(&needle, ":PORT").into_bytes()
    } else {
        body.to_vec()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_normalises_ports_sets_and_etags() {
        let raw = b"HTTP/1.1 301 Moved\r\nLocation: http://127.0.0.1:4242/sub/\r\nAllow: POST,GET\r\nETag: \"a-b\"\r\nContent-Length: 30\r\n\r\n<a href=\"http://127.0.0.1:4242\">";
        let o = summarise(&raw[..], Fate::Closed, false, 4242);
        assert_eq!(o.lines[0], "fate=closed");
        assert!(
            o.lines
                .contains(&"1 Location=http://127.0.0.1:PORT/sub/".to_string())
        );
        assert!(o.lines.contains(&"1 Allow=get,post".to_string()));
        assert!(o.lines.contains(&"1 ETag=size-mtime".to_string()));
        assert_eq!(o.first_status(), 301);
        let o = summarise(b"junk", Fate::Kept, false, 1);
        assert_eq!(o.lines[1], format!("unparsed=4/{:016x}", fnv1a(b"junk")));
    }
}
