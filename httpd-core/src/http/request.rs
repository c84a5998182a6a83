//! What `ap_read_request` and `ap_check_request_header` (`server/protocol.c`) decide once the
//! request line ([`request_line`](super::request_line)) and the header lines
//! ([`headers`](super::headers)) are read: body framing (Content-Length, Transfer-Encoding),
//! Host ([`host`](super::host)) and Expect. Nothing here does I/O, so every rule is
//! unit-tested; [`connection`](super::connection) reads the lines off the socket.

pub use super::headers::{FIELD_TOO_LONG, HeaderParser, Headers, field_name};
use super::host::{HostSource, fix_hostname};
use super::range::parse_strict_length;
pub use super::request_line::{RequestLine, Version, parse_request_line, the_request};
use crate::log::Level;

/// Why a request is refused before any handler runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    /// 400, 408, 414 or 417.
    pub status: u16,
    /// The error-log line: level and message with its AH code (Apache logs most parse errors at
    /// debug only).
    pub log: Option<(Level, String)>,
    /// `r->notes["error-notes"]`, which some error pages quote.
    pub notes: Option<&'static str>,
}

impl Rejection {
    pub(crate) fn new(status: u16, level: Level, msg: String) -> Rejection {
        Rejection {
            status,
            log: Some((level, msg)),
            notes: None,
        }
    }
    pub(crate) fn bad(msg: String) -> Rejection {
        Rejection::new(400, Level::Debug, msg)
    }
    pub(crate) fn with_notes(mut self, notes: &'static str) -> Rejection {
        self.notes = Some(notes);
        self
    }
}

/// How the request body is delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyFraming {
    None,
    Length(u64),
    Chunked,
}

/// What `ap_read_request` and `ap_check_request_header` decide from the headers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeaderChecks {
    pub framing: BodyFraming,
    /// The host name used for redirects (`r->hostname`), without port.
    pub hostname: Option<String>,
    /// `Expect: 100-continue` was sent.
    pub expecting_100: bool,
    /// Transfer-Encoding and Content-Length were both sent: serve, then close.
    pub force_close: bool,
    /// An `Expect` other than `100-continue` (answered 417 before any handler). Unlike the
    /// other refusals the input stays usable: the body is discarded and keep-alive may go on
    /// (`ap_read_request`: `die_before_hooks`).
    pub unmet_expectation: Option<Rejection>,
}

/// Content-Length / Transfer-Encoding (`ap_read_request`), Host and Expect
/// (`ap_check_request_header`), in Apache's order. `target` is for the log lines.
pub fn check_headers(headers: &mut Headers, line: &RequestLine) -> Result<HeaderChecks, Rejection> {
    let mut checks = HeaderChecks {
        framing: BodyFraming::None,
        hostname: None,
        expecting_100: false,
        force_close: false,
        unmet_expectation: None,
    };
    let clen = headers.get("Content-Length").map(str::to_string);
    if let Some(cl) = &clen {
        match parse_strict_length(cl) {
            Some(n) => checks.framing = BodyFraming::Length(n),
            None => {
                return Err(Rejection::bad(format!(
                    "AH10242: client sent invalid Content-Length ({cl}): {}",
                    line.path
                )));
            }
        }
    }
    if let Some(te) = headers.get("Transfer-Encoding").map(str::to_string) {
        if !is_chunked(&te) {
            return Err(Rejection::bad(format!(
                "AH02539: client sent unknown Transfer-Encoding ({te}): {}",
                line.path
            )));
        }
        checks.framing = BodyFraming::Chunked;
        if clen.is_some() {
            headers.remove("Content-Length");
            checks.force_close = true;
        }
    }
    // A host in the request URI wins over the Host header (ap_update_vhost_from_headers).
    let host = match &line.uri_host {
        Some(h) => Some((h.clone(), HostSource::Uri)),
        None => headers
            .get("Host")
            .map(|h| (h.to_string(), HostSource::Header)),
    };
    if let Some((h, source)) = host {
        match fix_hostname(&h, source) {
            Ok(name) => {
                // Strict: a Host header beside an absolute URI is replaced by the URI's host
                // (`construct_host_header`), so TRACE echoes and handlers see that one.
                if let (HostSource::Uri, Some(n), true) =
                    (source, &name, headers.get("Host").is_some())
                {
                    let port = h.rsplit_once(':').map(|(_, p)| p).filter(|p| {
                        !p.is_empty() && !p.contains(']') && p.bytes().all(|b| b.is_ascii_digit())
                    });
                    let value = match port {
                        Some(p) => format!("{n}:{p}"),
                        None => n.clone(),
                    };
                    headers.set("Host", &value);
                }
                checks.hostname = name;
            }
            Err(()) => {
                return Err(Rejection::bad(format!(
                    "AH00550: Client sent malformed Host header: {h}"
                )));
            }
        }
    }
    let version = line.version.num();
    if (checks.hostname.is_none() && version >= 1001)
        || (version == 1001 && headers.get("Host").is_none())
    {
        return Err(Rejection::bad(format!(
            "AH00569: client sent HTTP/1.1 request without hostname (see RFC2616 section 14.23): {}",
            line.path
        )));
    }
    if let Some(expect) = headers.get("Expect").filter(|e| !e.is_empty()) {
        if expect.eq_ignore_ascii_case("100-continue") {
            checks.expecting_100 = true;
        } else {
            checks.unmet_expectation = Some(Rejection::new(
                417,
                Level::Info,
                format!(
                    "AH00570: client sent an unrecognized expectation value of Expect: {expect}"
                ),
            ));
        }
    }
    Ok(checks)
}

/// `ap_is_chunked`: the final transfer coding is `chunked`.
pub fn is_chunked(te: &str) -> bool {
    te.rsplit(',')
        .next()
        .is_some_and(|last| last.trim().eq_ignore_ascii_case("chunked"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(lines: &[&str]) -> Result<Headers, Rejection> {
        let mut p = HeaderParser::new(100, 8190);
        for l in lines {
            if p.line(l.as_bytes())? {
                return Ok(p.headers);
            }
        }
        panic!("no end of headers");
    }

    fn checks(line: &str, hs: &[&str]) -> Result<HeaderChecks, Rejection> {
        let l = parse_request_line(line.as_bytes()).unwrap();
        let mut lines: Vec<&str> = hs.to_vec();
        lines.push("");
        let mut h = headers(&lines).unwrap();
        check_headers(&mut h, &l)
    }

    #[test]
    fn rule_62_host_rules() {
        assert_eq!(checks("GET / HTTP/1.1", &[]).unwrap_err().status, 400);
        assert!(checks("GET / HTTP/1.0", &[]).is_ok());
        assert_eq!(
            checks("GET / HTTP/1.1", &["Host: a", "Host: b"])
                .unwrap_err()
                .status,
            400
        );
        assert_eq!(
            checks("GET / HTTP/1.1", &["Host: a b"]).unwrap_err().status,
            400
        );
        assert_eq!(
            checks("GET / HTTP/1.1", &["Host: [::1]:80"])
                .unwrap()
                .hostname
                .as_deref(),
            Some("[::1]")
        );
        assert_eq!(
            checks("GET / HTTP/1.1", &["Host: WWW.x.org:80"])
                .unwrap()
                .hostname
                .as_deref(),
            Some("www.x.org")
        );
    }

    #[test]
    fn rule_66_67_body_framing() {
        assert_eq!(
            checks("POST / HTTP/1.1", &["Host: h", "Content-Length: 5"])
                .unwrap()
                .framing,
            BodyFraming::Length(5)
        );
        for bad in ["-1", "+5", "5x", "", "1, 2"] {
            let h = format!("Content-Length: {bad}");
            assert_eq!(
                checks("POST / HTTP/1.1", &["Host: h", &h])
                    .unwrap_err()
                    .status,
                400,
                "{bad}"
            );
        }
        assert_eq!(
            checks("POST / HTTP/1.1", &["Host: h", "Transfer-Encoding: gzip"])
                .unwrap_err()
                .status,
            400
        );
        let c = checks(
            "POST / HTTP/1.1",
            &[
                "Host: h",
                "Transfer-Encoding: gzip, chunked",
                "Content-Length: 3",
            ],
        )
        .unwrap();
        assert_eq!((c.framing, c.force_close), (BodyFraming::Chunked, true));
    }

    #[test]
    fn expect_other_than_100_continue_is_417() {
        assert!(
            checks("POST / HTTP/1.1", &["Host: h", "Expect: 100-Continue"])
                .unwrap()
                .expecting_100
        );
        let c = checks("POST / HTTP/1.1", &["Host: h", "Expect: x"]).unwrap();
        assert_eq!(c.unmet_expectation.map(|r| r.status), Some(417));
    }
}

/// A request that passed every check of `ap_read_request`: what handlers see.
#[derive(Debug, Clone)]
pub struct Request {
    pub line: RequestLine,
    pub headers: Headers,
    pub checks: HeaderChecks,
    /// `r->the_request`, for the access log and the scoreboard.
    pub the_request: String,
    /// `r->request_time`: when the request line was read.
    pub time: std::time::SystemTime,
}

impl Request {
    /// `HEAD` (`r->header_only`): the head of a GET, no body.
    pub fn is_head(&self) -> bool {
        self.line.method == "HEAD"
    }
}
