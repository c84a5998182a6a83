//! The request line under Apache's default `HttpProtocolOptions Strict`
//! (`server/protocol.c: ap_parse_request_line`, `ap_parse_uri`).
//!
//! Apache checks the line in one pass and reports the *first* problem it saw ("deferred
//! error"), always with 400; the debug-level AH code says which problem it was.

use super::request::Rejection;

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
    text.split([' ', '\t', '\x0b', '\x0c', '\r'])
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
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
        [b'H', b'T', b'T', b'P', b'/', ma, b'.', mi]
            if ma.is_ascii_digit() && mi.is_ascii_digit() && *ma != b'0' =>
        {
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
        Rejection::bad(format!(
            "AH03450: HTTP Request Line; Unable to parse URI: '{}'",
            log_name(&target)
        ))
    })?;
    if target_parts.has_fragment {
        return Err(Rejection::bad(
            "AH02421: HTTP Request Line; URI must not contain a fragment".into(),
        ));
    }
    if target_parts.has_userinfo {
        return Err(Rejection::bad(
            "AH02422: HTTP Request Line; URI must not contain a username/password".into(),
        ));
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
pub(crate) fn log_name(s: &str) -> &str {
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
    let mut parts = TargetParts {
        path: String::new(),
        query,
        host: None,
        has_fragment: fragment,
        has_userinfo: false,
    };
    if method == "CONNECT" {
        // authority-form is host:port (`apr_uri_parse_hostinfo`: the port is required).
        let port_ok = t.rsplit_once(':').is_some_and(|(h, p)| {
            !h.is_empty() && !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit())
        });
        if !port_ok {
            return Err(());
        }
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
    // absolute-form: scheme "://" authority path. A scheme followed by a path without an
    // authority (`http:/x`) is that path, as `apr_uri_parse` reads it.
    let Some((scheme, rest)) = t.split_once(':') else {
        return Err(());
    };
    let Some(rest) = rest.strip_prefix("//") else {
        if rest.starts_with('/')
            && !scheme.is_empty()
            && scheme
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b))
        {
            parts.path = rest.to_string();
            return Ok(parts);
        }
        return Err(());
    };
    if scheme.is_empty()
        || !scheme
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b))
    {
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
        assert_eq!(
            parse_request_line(b"GET //a/b HTTP/1.0").unwrap().path,
            "/a/b"
        );
        assert_eq!(the_request(b"GET  /  http/1.1"), "GET / http/1.1");
        assert_eq!(status("CONNECT i HTTP/1.1"), 400);
        assert!(parse_request_line(b"CONNECT h:443 HTTP/1.1").is_ok());
        // No authority: the path after the scheme (apr_uri_parse), as Apache serves it.
        let l = parse_request_line(b"GET http:/l HTTP/1.0").unwrap();
        assert_eq!((l.path.as_str(), l.uri_host.as_deref()), ("/l", None));
    }
}
