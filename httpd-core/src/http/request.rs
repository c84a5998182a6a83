//! Parsing a request the way Apache does with its default `HttpProtocolOptions Strict`.
//!
//! Sources: `server/protocol.c: ap_parse_request_line` (request line), `ap_get_mime_headers_core`
//! (header lines, obs-fold, limits), `ap_read_request` (Content-Length, Transfer-Encoding) and
//! `ap_check_request_header` (Host, Expect); `server/vhost.c: fix_hostname` (Host syntax).
//! Everything here works on lines already split off the socket by
//! [`connection`](super::connection); nothing here does I/O, so every rule is unit-tested.
//!
//! Apache checks the request line in one pass and reports the *first* problem it saw
//! ("deferred error"), always with 400; the debug-level AH code says which problem it was.

use super::range::parse_strict_length;
use crate::log::Level;

/// Why a request is refused before any handler runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    /// 400, 408, 414, 417 or 501.
    pub status: u16,
    /// The error-log line: level and message with its AH code (Apache logs most parse errors at
    /// debug only).
    pub log: Option<(Level, String)>,
    /// `r->notes["error-notes"]`, which some error pages quote.
    pub notes: Option<&'static str>,
}

impl Rejection {
    fn new(status: u16, level: Level, msg: String) -> Rejection {
        Rejection { status, log: Some((level, msg)), notes: None }
    }
    fn bad(msg: String) -> Rejection {
        Rejection::new(400, Level::Debug, msg)
    }
    fn with_notes(mut self, notes: &'static str) -> Rejection {
        self.notes = Some(notes);
        self
    }
}

/// The protocol a request line names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    /// No protocol token: a "simple request", answered with the bare body.
    Http09,
    /// `HTTP/major.minor` (1.2 and 2.0 are accepted and answered as HTTP/1.1, like Apache).
    Http(u8, u8),
}

impl Version {
    /// `r->proto_num` as major*1000+minor.
    pub fn num(self) -> u32 {
        match self {
            Version::Http09 => 9,
            Version::Http(ma, mi) => ma as u32 * 1000 + mi as u32,
        }
    }
    /// At least HTTP/1.1 (persistent by default, Host required).
    pub fn is_1_1_or_later(self) -> bool {
        self.num() >= 1001
    }
}

/// A successfully parsed request line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestLine {
    pub method: String,
    /// The request target as sent.
    pub target: String,
    /// The path part (still percent-encoded), `*` for `OPTIONS *`, `/` when an absolute URI has
    /// no path.
    pub path: String,
    pub query: Option<String>,
    /// The host of an absolute-form target (`GET http://h:1/ HTTP/1.1`).
    pub uri_host: Option<String>,
    pub version: Version,
}

/// `r->the_request` for logs: method, target and protocol re-joined with single spaces, even when
/// the line was refused. `None` when nothing usable was read.
pub fn the_request(line: &[u8]) -> String {
    let text = String::from_utf8_lossy(line);
    text.split([' ', '\t', '\x0b', '\x0c', '\r']).filter(|w| !w.is_empty()).collect::<Vec<_>>().join(" ")
}

/// `tchar` of RFC 9110 §5.6.2 (`ap_scan_http_token`).
pub fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// VCHAR or obs-text (`ap_scan_vchar_obstext`).
fn is_vchar_obstext(b: u8) -> bool {
    (0x21..=0x7e).contains(&b) || b >= 0x80
}

/// `apr_isspace`.
fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// `ap_parse_request_line` under `Strict`: the line without its CRLF.
pub fn parse_request_line(line: &[u8]) -> Result<RequestLine, Rejection> {
    #[derive(PartialEq)]
    enum Deferred {
        None,
        BadMethod,
        BadWhitespace,
        ExcessWhitespace,
        MissingUri,
        BadUri,
        BadProtocol,
    }
    let mut err = Deferred::None;
    let mut i = 0;
    if line.first().is_some_and(|&b| is_space(b)) {
        err = Deferred::BadWhitespace;
        while i < line.len() && is_space(line[i]) {
            i += 1;
        }
    }
    // 1. The method: one or more tchar, then whitespace.
    let m_start = i;
    while i < line.len() && is_tchar(line[i]) {
        i += 1;
    }
    if (i == m_start || (i < line.len() && !is_space(line[i]))) && err == Deferred::None {
        err = Deferred::BadMethod;
    }
    while i < line.len() && !is_space(line[i]) {
        i += 1;
    }
    let method = String::from_utf8_lossy(&line[m_start..i]).into_owned();
    // 2. Exactly one SP before the target.
    if i + 1 < line.len() && is_space(line[i + 1]) && err == Deferred::None {
        err = Deferred::ExcessWhitespace;
    }
    while i < line.len() && is_space(line[i]) {
        if line[i] != b' ' && err == Deferred::None {
            err = Deferred::BadWhitespace;
        }
        i += 1;
    }
    if i == line.len() && err == Deferred::None {
        err = Deferred::MissingUri;
    }
    // 3. The target: visible characters only.
    let u_start = i;
    while i < line.len() && is_vchar_obstext(line[i]) {
        i += 1;
    }
    if i < line.len() && !is_space(line[i]) {
        err = Deferred::BadUri;
        while i < line.len() && !is_space(line[i]) {
            i += 1;
        }
    }
    let target = String::from_utf8_lossy(&line[u_start..i]).into_owned();
    if i + 1 < line.len() && is_space(line[i + 1]) && err == Deferred::None {
        err = Deferred::ExcessWhitespace;
    }
    while i < line.len() && is_space(line[i]) {
        if line[i] != b' ' && err == Deferred::None {
            err = Deferred::BadWhitespace;
        }
        i += 1;
    }
    // 4. The protocol, then nothing.
    let p_start = i;
    while i < line.len() && is_vchar_obstext(line[i]) {
        i += 1;
    }
    let protocol = &line[p_start..i];
    if i < line.len() {
        if !is_space(line[i]) {
            err = Deferred::BadProtocol;
        } else if err == Deferred::None {
            // Strict: any whitespace after the protocol is excess.
            err = Deferred::ExcessWhitespace;
        }
    }
    let version = match protocol {
        [b'H', b'T', b'T', b'P', b'/', ma, b'.', mi] if ma.is_ascii_digit() && mi.is_ascii_digit() && *ma != b'0' => {
            Version::Http(ma - b'0', mi - b'0')
        }
        [] => Version::Http09,
        _ => {
            if err == Deferred::None {
                err = Deferred::BadProtocol;
            }
            Version::Http(1, 0)
        }
    };
    let parsed = parse_target(&method, &target);
    // 5. HTTP/0.9 is GET only.
    if version == Version::Http09 && err == Deferred::None && method != "GET" {
        return Err(Rejection::bad(format!(
            "AH03444: HTTP Request Line; Invalid method token: '{}' (only GET is allowed for HTTP/0.9 requests)",
            log_name(&method)
        )));
    }
    let msg = match err {
        Deferred::None => None,
        Deferred::BadMethod => Some(format!("AH03445: HTTP Request Line; Invalid method token: '{}'", log_name(&method))),
        Deferred::MissingUri => Some("AH03446: HTTP Request Line; Missing URI".to_string()),
        Deferred::BadUri => {
            Some(format!("AH03454: HTTP Request Line; URI incorrectly encoded: '{}'", log_name(&target)))
        }
        Deferred::BadWhitespace => Some("AH03447: HTTP Request Line; Invalid whitespace".to_string()),
        Deferred::ExcessWhitespace => Some(
            "AH03448: HTTP Request Line; Excess whitespace (disallowed by HttpProtocolOptions Strict)".to_string(),
        ),
        Deferred::BadProtocol => Some(format!(
            "AH02418: HTTP Request Line; Unrecognized protocol '{}' (perhaps whitespace was injected?)",
            log_name(&String::from_utf8_lossy(protocol))
        )),
    };
    if let Some(msg) = msg {
        return Err(Rejection::bad(msg));
    }
    let target_parts = parsed.map_err(|()| {
        Rejection::bad(format!("AH03450: HTTP Request Line; Unable to parse URI: '{}'", log_name(&target)))
    })?;
    if target_parts.has_fragment {
        return Err(Rejection::bad("AH02421: HTTP Request Line; URI must not contain a fragment".into()));
    }
    if target_parts.has_userinfo {
        return Err(Rejection::bad("AH02422: HTTP Request Line; URI must not contain a username/password".into()));
    }
    Ok(RequestLine {
        method,
        target,
        path: target_parts.path,
        query: target_parts.query,
        uri_host: target_parts.host,
        version,
    })
}

/// `field_name_len`: at most 80 characters of a name in log lines.
fn log_name(s: &str) -> &str {
    let end = s.find(':').unwrap_or(s.len()).min(80);
    s.get(..end).unwrap_or(s)
}

struct TargetParts {
    path: String,
    query: Option<String>,
    host: Option<String>,
    has_fragment: bool,
    has_userinfo: bool,
}

/// `ap_parse_uri` + the RFC 9112 §3.2 check: origin-form, absolute-form, `*` for OPTIONS and
/// authority-form for CONNECT.
fn parse_target(method: &str, target: &str) -> Result<TargetParts, ()> {
    // A leading "//" is a path, not an authority (Apache strips the extra slashes).
    let mut t = target;
    while t.starts_with("//") {
        t = &t[1..];
    }
    let (t, fragment) = match t.split_once('#') {
        Some((a, _)) => (a, true),
        None => (t, false),
    };
    let (t, query) = match t.split_once('?') {
        Some((a, q)) => (a, Some(q.to_string())),
        None => (t, None),
    };
    let mut parts = TargetParts { path: String::new(), query, host: None, has_fragment: fragment, has_userinfo: false };
    if method == "CONNECT" {
        parts.host = Some(t.to_string());
        parts.path = "/".into();
        return Ok(parts);
    }
    if t.starts_with('/') {
        parts.path = t.to_string();
        return Ok(parts);
    }
    if t == "*" && method == "OPTIONS" {
        parts.path = "*".into();
        return Ok(parts);
    }
    // absolute-form: scheme "://" authority path
    let Some((scheme, rest)) = t.split_once("://") else { return Err(()) };
    if scheme.is_empty() || !scheme.bytes().all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b)) {
        return Err(());
    }
    let (authority, path) = match rest.find('/') {
        Some(p) => (&rest[..p], &rest[p..]),
        None => (rest, "/"),
    };
    let host = match authority.rsplit_once('@') {
        Some((_, h)) => {
            parts.has_userinfo = true;
            h
        }
        None => authority,
    };
    if scheme.eq_ignore_ascii_case("http") {
        parts.host = Some(host.to_string());
    }
    parts.path = path.to_string();
    Ok(parts)
}

/// Request headers: names as sent, repeated fields merged with ", " (`apr_table_compress`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Headers {
    fields: Vec<(String, String)>,
}

impl Headers {
    /// The (merged) value of `name`, compared case-insensitively.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.fields.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
    /// Add a field, merging it into an earlier one of the same name.
    pub fn add(&mut self, name: &str, value: &str) {
        match self.fields.iter_mut().find(|(n, _)| n.eq_ignore_ascii_case(name)) {
            Some((_, v)) => {
                v.push_str(", ");
                v.push_str(value);
            }
            None => self.fields.push((name.to_string(), value.to_string())),
        }
    }
    /// Drop a field.
    pub fn remove(&mut self, name: &str) {
        self.fields.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
    }
    /// Every field in arrival order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.fields.iter().map(|(n, v)| (n.as_str(), v.as_str()))
    }
    /// Whether a comma-separated header contains `token` (`ap_find_token`, case-insensitive).
    pub fn has_token(&self, name: &str, token: &str) -> bool {
        self.get(name).is_some_and(|v| v.split(',').any(|t| t.trim().eq_ignore_ascii_case(token)))
    }
}

/// Collects header lines as `ap_get_mime_headers_core` does: obs-fold joined with one SP,
/// field count and size limits, strict name and value syntax.
pub struct HeaderParser {
    limit_fields: usize,
    limit_field_size: usize,
    pending: Option<Vec<u8>>,
    fields_read: usize,
    pub headers: Headers,
}

impl HeaderParser {
    pub fn new(limit_fields: usize, limit_field_size: usize) -> HeaderParser {
        HeaderParser { limit_fields, limit_field_size, pending: None, fields_read: 0, headers: Headers::default() }
    }

    /// Feed one line (without CRLF). Returns `Ok(true)` at the empty line ending the headers.
    pub fn line(&mut self, raw: &[u8]) -> Result<bool, Rejection> {
        let mut len = raw.len();
        // Trailing SP/HT are no-ops; keep at least one byte.
        while len > 1 && matches!(raw[len - 1], b' ' | b'\t') {
            len -= 1;
        }
        let line = &raw[..len];
        if matches!(line.first(), Some(b' ' | b'\t')) {
            let Some(last) = self.pending.as_mut() else {
                return Err(Rejection::bad("AH03442: Line folding encountered before first header line".into()));
            };
            if line.len() == 1 {
                return Err(Rejection::bad("AH03443: Empty folded line encountered".into()));
            }
            let mut start = 1;
            while start < line.len() && matches!(line[start], b' ' | b'\t') {
                start += 1;
            }
            if last.len() + (line.len() - start) + 2 >= self.limit_field_size {
                let name = field_name(last);
                return Err(Rejection::new(
                    400,
                    Level::Info,
                    format!("AH00562: Request header exceeds LimitRequestFieldSize after folding: {name}"),
                )
                .with_notes(FIELD_TOO_LONG));
            }
            last.push(b' ');
            last.extend_from_slice(&line[start..]);
            return Ok(false);
        }
        if let Some(field) = self.pending.take() {
            self.store(&field)?;
        }
        if line.is_empty() {
            self.check_merged_lengths()?;
            return Ok(true);
        }
        self.pending = Some(line.to_vec());
        Ok(false)
    }

    fn store(&mut self, field: &[u8]) -> Result<(), Rejection> {
        self.fields_read += 1;
        if self.limit_fields != 0 && self.fields_read > self.limit_fields {
            return Err(Rejection::new(
                400,
                Level::Info,
                "AH00563: Number of request headers exceeds LimitRequestFields".into(),
            )
            .with_notes("The number of request header fields exceeds this server's limit."));
        }
        let name_end = field.iter().position(|&b| !is_tchar(b)).unwrap_or(field.len());
        if name_end == 0 || field.get(name_end) != Some(&b':') {
            return Err(Rejection::bad(format!(
                "AH02426: Request header field name is malformed: {}",
                String::from_utf8_lossy(&field[..field.len().min(80)])
            )));
        }
        let mut v = name_end + 1;
        while v < field.len() && matches!(field[v], b' ' | b'\t') {
            v += 1;
        }
        let value = &field[v..];
        if value.iter().any(|&b| b != b'\t' && (b < 0x20 || b == 0x7f)) {
            return Err(Rejection::bad(format!(
                "AH02427: Request header value is malformed: {}",
                String::from_utf8_lossy(&value[..value.len().min(80)])
            )));
        }
        let name = String::from_utf8_lossy(&field[..name_end]);
        self.headers.add(&name, &String::from_utf8_lossy(value));
        Ok(())
    }

    /// `table_do_fn_check_lengths`: merged values obey LimitRequestFieldSize too.
    fn check_merged_lengths(&self) -> Result<(), Rejection> {
        for (name, value) in self.headers.iter() {
            if value.len() > self.limit_field_size {
                return Err(Rejection::new(
                    400,
                    Level::Info,
                    format!("AH00560: Request header exceeds LimitRequestFieldSize after merging: {}", log_name(name)),
                )
                .with_notes(FIELD_TOO_LONG));
            }
        }
        Ok(())
    }
}

/// The error note of the field-size rejections.
pub const FIELD_TOO_LONG: &str = "Size of a request header field exceeds server limit.";

/// The name of a (possibly partial) header line, for AH00561/AH00562.
pub fn field_name(line: &[u8]) -> String {
    let end = line.iter().position(|&b| b == b':').unwrap_or(line.len()).min(80);
    String::from_utf8_lossy(&line[..end]).into_owned()
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
}

/// Content-Length / Transfer-Encoding (`ap_read_request`), Host and Expect
/// (`ap_check_request_header`), in Apache's order. `target` is for the log lines.
pub fn check_headers(headers: &mut Headers, line: &RequestLine) -> Result<HeaderChecks, Rejection> {
    let mut checks =
        HeaderChecks { framing: BodyFraming::None, hostname: None, expecting_100: false, force_close: false };
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
            return Err(Rejection::bad(format!("AH02539: client sent unknown Transfer-Encoding ({te}): {}", line.path)));
        }
        checks.framing = BodyFraming::Chunked;
        if clen.is_some() {
            headers.remove("Content-Length");
            checks.force_close = true;
        }
    }
    let host = line.uri_host.clone().or_else(|| headers.get("Host").map(str::to_string));
    if let Some(h) = host {
        match valid_hostname(&h) {
            Some(name) => checks.hostname = Some(name),
            None => return Err(Rejection::bad(format!("AH00550: Client sent malformed Host header: {h}"))),
        }
    }
    let version = line.version.num();
    if (checks.hostname.is_none() && version >= 1001) || (version == 1001 && headers.get("Host").is_none()) {
        return Err(Rejection::bad(format!(
            "AH00569: client sent HTTP/1.1 request without hostname (see RFC2616 section 14.23): {}",
            line.path
        )));
    }
    if let Some(expect) = headers.get("Expect").filter(|e| !e.is_empty()) {
        if expect.eq_ignore_ascii_case("100-continue") {
            checks.expecting_100 = true;
        } else {
            return Err(Rejection::new(
                417,
                Level::Info,
                format!("AH00570: client sent an unrecognized expectation value of Expect: {expect}"),
            ));
        }
    }
    Ok(checks)
}

/// `ap_is_chunked`: the final transfer coding is `chunked`.
pub fn is_chunked(te: &str) -> bool {
    te.rsplit(',').next().is_some_and(|last| last.trim().eq_ignore_ascii_case("chunked"))
}

/// `fix_hostname`: a DNS name or IPv4 address with an optional port, or a bracketed IPv6
/// literal. Returns the lower-cased name without the port.
pub fn valid_hostname(host: &str) -> Option<String> {
    if host.is_empty() {
        return None;
    }
    let (name, port) = if let Some(rest) = host.strip_prefix('[') {
        let (v6, after) = rest.split_once(']')?;
        if v6.is_empty() || !v6.bytes().all(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.') {
            return None;
        }
        (format!("[{v6}]"), after.strip_prefix(':'))
    } else {
        let (n, p) = match host.split_once(':') {
            Some((n, p)) => (n, Some(p)),
            None => (host, None),
        };
        if n.is_empty() || !n.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.') {
            return None;
        }
        if n.contains("..") {
            return None;
        }
        (n.trim_end_matches('.').to_string(), p)
    };
    if let Some(p) = port
        && !p.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    Some(name.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(line: &str) -> u16 {
        match parse_request_line(line.as_bytes()) {
            Ok(_) => 200,
            Err(r) => r.status,
        }
    }

    #[test]
    fn rule_65_strict_request_line_rejections() {
        assert_eq!(status("GET / HTTP/1.1"), 200);
        assert_eq!(status("GET  / HTTP/1.1"), 400, "double space");
        assert_eq!(status("GET / HTTP/1.1 "), 400, "trailing space");
        assert_eq!(status("GET\t/ HTTP/1.1"), 400, "tab");
        assert_eq!(status(" GET / HTTP/1.1"), 400, "leading space");
        assert_eq!(status("GET / http/1.1"), 400, "lowercase protocol");
        assert_eq!(status("GET / HTTP/1.1 x"), 400, "trailing text");
        assert_eq!(status("GET /#frag HTTP/1.1"), 400, "fragment");
        assert_eq!(status("GET http://u:p@h/ HTTP/1.1"), 400, "userinfo");
        assert_eq!(status("GET x HTTP/1.1"), 400, "target not starting with /");
        assert_eq!(status("G(T / HTTP/1.1"), 400, "bad method token");
        assert_eq!(status("GET /\x01 HTTP/1.1"), 400, "control character");
        assert_eq!(status("GET"), 400, "missing URI");
        assert_eq!(status("GET / HTTP/01.1"), 400);
        assert_eq!(status("GET / HTTP/0.9"), 400, "HTTP/0.x protocol token");
    }

    #[test]
    fn rule_64_http09_get_only() {
        let l = parse_request_line(b"GET /x").unwrap();
        assert_eq!(l.version, Version::Http09);
        assert_eq!(status("HEAD /x"), 400);
        assert_eq!(status("POST /x"), 400);
    }

    #[test]
    fn request_line_forms_and_versions() {
        let l = parse_request_line(b"GET http://Example.com:8080?q=1 HTTP/1.2").unwrap();
        assert_eq!((l.path.as_str(), l.query.as_deref()), ("/", Some("q=1")));
        assert_eq!(l.uri_host.as_deref(), Some("Example.com:8080"));
        assert_eq!(l.version, Version::Http(1, 2));
        assert_eq!(parse_request_line(b"OPTIONS * HTTP/1.1").unwrap().path, "*");
        assert_eq!(status("GET * HTTP/1.1"), 400);
        assert_eq!(parse_request_line(b"GET //a/b HTTP/1.0").unwrap().path, "/a/b");
        assert_eq!(the_request(b"GET  /  http/1.1"), "GET / http/1.1");
    }

    fn headers(lines: &[&str]) -> Result<Headers, Rejection> {
        let mut p = HeaderParser::new(100, 8190);
        for l in lines {
            if p.line(l.as_bytes())? {
                return Ok(p.headers);
            }
        }
        panic!("no end of headers");
    }

    #[test]
    fn headers_merge_fold_and_reject() {
        let h = headers(&["A: 1", "a: 2", "B: x", "  y", ""]).unwrap();
        assert_eq!(h.get("A"), Some("1, 2"));
        assert_eq!(h.get("b"), Some("x y"));
        assert_eq!(headers(&[" x", ""]).unwrap_err().status, 400);
        assert_eq!(headers(&["A : 1", ""]).unwrap_err().status, 400, "space before colon");
        assert_eq!(headers(&["A: \x01", ""]).unwrap_err().status, 400, "control byte");
        assert_eq!(headers(&["NoColon", ""]).unwrap_err().status, 400);
    }

    #[test]
    fn rule_61_more_than_100_fields_is_400() {
        let mut p = HeaderParser::new(100, 8190);
        for i in 0..100 {
            assert!(!p.line(format!("X-{i}: v").as_bytes()).unwrap());
        }
        assert!(p.line(b"X-100: v").is_ok(), "the 101st is only counted when the next line arrives");
        let err = p.line(b"").unwrap_err();
        assert_eq!((err.status, err.log.unwrap().0), (400, Level::Info));
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
        assert_eq!(checks("GET / HTTP/1.1", &["Host: a", "Host: b"]).unwrap_err().status, 400);
        assert_eq!(checks("GET / HTTP/1.1", &["Host: a b"]).unwrap_err().status, 400);
        assert_eq!(checks("GET / HTTP/1.1", &["Host: [::1]:80"]).unwrap().hostname.as_deref(), Some("[::1]"));
        assert_eq!(checks("GET / HTTP/1.1", &["Host: WWW.x.org:80"]).unwrap().hostname.as_deref(), Some("www.x.org"));
    }

    #[test]
    fn rule_66_67_body_framing() {
        assert_eq!(checks("POST / HTTP/1.1", &["Host: h", "Content-Length: 5"]).unwrap().framing, BodyFraming::Length(5));
        for bad in ["-1", "+5", "5x", "", "1, 2"] {
            let h = format!("Content-Length: {bad}");
            assert_eq!(checks("POST / HTTP/1.1", &["Host: h", &h]).unwrap_err().status, 400, "{bad}");
        }
        assert_eq!(checks("POST / HTTP/1.1", &["Host: h", "Transfer-Encoding: gzip"]).unwrap_err().status, 400);
        let c = checks("POST / HTTP/1.1", &["Host: h", "Transfer-Encoding: gzip, chunked", "Content-Length: 3"]).unwrap();
        assert_eq!((c.framing, c.force_close), (BodyFraming::Chunked, true));
    }

    #[test]
    fn expect_other_than_100_continue_is_417() {
        assert!(checks("POST / HTTP/1.1", &["Host: h", "Expect: 100-Continue"]).unwrap().expecting_100);
        assert_eq!(checks("POST / HTTP/1.1", &["Host: h", "Expect: x"]).unwrap_err().status, 417);
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
