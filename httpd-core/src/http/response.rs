//! Responses: what a handler produces, how its head is written (`http_filters.c:
//! ap_http_header_filter`, `basic_http_header`), whether the connection stays open
//! (`http_protocol.c: ap_set_keepalive`), and the output queue that `sendfile(2)`s files,
//! blocking or not.

use std::fs::File;
use std::io::{self, Write};
use std::net::TcpStream;
use std::os::fd::AsFd;
use std::sync::Arc;
use std::time::SystemTime;

use super::error_pages::{ERROR_CONTENT_TYPE, PageContext, error_page, reason};

/// Files up to this size are read into the header buffer and sent with one `write(2)`;
/// larger ones go out with `sendfile(2)` (Apache: `AP_MIN_SENDFILE_BYTES` and the core
/// output filter's small-bucket coalescing play the same role).
pub const SMALL_FILE: u64 = 16 * 1024;

/// One piece of a response body.
#[derive(Debug, Clone)]
pub enum Chunk {
    Bytes(Vec<u8>),
    /// A byte range of an open file, sent with `sendfile(2)` (`EnableSendfile On`) or read
    /// and written piece by piece ([`super::file_bucket`]).
    File {
        file: Arc<File>,
        offset: u64,
        len: u64,
        sendfile: bool,
    },
    /// A byte range of a mapped file (`EnableMMAP On`): `map.bytes()[start..start + len]`.
    Mmap {
        map: Arc<super::file_bucket::Mapping>,
        start: usize,
        len: usize,
    },
}

impl Chunk {
    pub fn len(&self) -> u64 {
        match self {
            Chunk::Bytes(b) => b.len() as u64,
            Chunk::File { len, .. } => *len,
            Chunk::Mmap { len, .. } => *len as u64,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// What a handler answers.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    /// A reason phrase of the handler's own (a CGI script's `Status: 404 Gone Fishing`,
    /// Apache's `r->status_line`), instead of the standard one.
    pub reason: Option<String>,
    /// Fields after `Date` and `Server`, in Apache's order (`Location`, `Allow`, `Last-Modified`,
    /// `ETag`, `Accept-Ranges`, …). `Content-Length`, `Connection`, `Keep-Alive` and
    /// `Content-Type` are added when the head is written.
    pub headers: Vec<(&'static str, String)>,
    /// Fields that Apache sets after the length (`Content-Range`).
    pub late_headers: Vec<(&'static str, String)>,
    /// Fields a CGI script sent (any name), written after `headers`.
    pub script_headers: Vec<(String, String)>,
    pub content_type: Option<String>,
    /// `r->content_encoding` (mod_mime's `AddEncoding`), sent after `Content-Type`.
    pub content_encoding: Option<String>,
    /// `r->content_languages` joined with `,` (mod_mime's `AddLanguage`).
    pub content_languages: Option<String>,
    /// `r->no_cache` (mod_negotiation for HTTP/1.0 clients): `Expires` is the request's date.
    pub no_cache: bool,
    pub body: Vec<Chunk>,
    /// The rest of the body, produced while it is sent (a CGI script's output), after `body`.
    pub stream: Option<super::streamed::Stream>,
    /// Send the body with `Transfer-Encoding: chunked` (HTTP/1.1, length unknown to Apache: TRACE).
    pub chunked: bool,
    /// The handler demands the connection be closed after this response.
    pub close: bool,
    /// The body is one of Apache's generated error pages (which a HEAD never generates).
    pub error_page: bool,
    /// The connection ends after this response although its head was written as for
    /// keep-alive (no `Connection: close`): Apache answers a request refused by
    /// `ap_check_request_header` (an unmet `Expect`) from `ap_read_request` through `ap_die`,
    /// which then returns no request, and that ends the connection loop.
    pub end_connection: bool,
    /// The length is unknown when the head goes out and the client cannot take chunks
    /// (HTTP/1.0 TRACE): no Content-Length, and the connection's close ends the body.
    pub close_delimited: bool,
    /// It answers a HEAD (`r->header_only`, known even for a refused request line): the head
    /// only, and no length for an error page.
    pub for_head: bool,
    /// The user named by authentication (`r->user`, the access log's `%u`).
    pub user: Option<String>,
    /// The request's environment (`r->subprocess_env`, the access log's `%{VAR}e`).
    pub env: crate::modules::setenvif::Env,
    /// The URI after an internal redirect (mod_dir's index file), for the access log's `%U`.
    pub final_uri: Option<String>,
    /// `err_headers_out` (mod_headers' `Header always`): sent by every response, first.
    pub err_headers: Vec<(String, String)>,
    /// Fields mod_headers added to `headers_out`: after `Content-Length`, as Apache's
    /// output filter appends them to a table that already holds it.
    pub added_headers: Vec<(String, String)>,
    /// `r->handler` when `SetHandler` named the handler that served it (`%R`).
    pub handler: Option<String>,
    /// `r->filename`: the file the request mapped to (`%f`).
    pub filename: Option<String>,
    /// The `<VirtualHost>` (index in the config) that answered, for its access log.
    pub vhost: Option<usize>,
    /// The handler set `Content-Length` itself (`default_handler`'s `ap_set_content_length`):
    /// fields added later by output filters come after it.
    pub content_length_set: bool,
    /// The body came through a pipe (CGI): its length was not known when filters first saw it.
    pub streamed: bool,
    /// With `chunked`: each body chunk is its own HTTP chunk (mod_deflate's passes).
    pub chunk_pieces: bool,
    /// `r->notes` the access log reads (`%{name}n`: mod_deflate's `DeflateFilterNote`).
    pub notes: crate::modules::setenvif::Env,
    /// The request's fields after mod_headers' `RequestHeader` (the access log's `%{Name}i`);
    /// `None` when no `RequestHeader` line applied.
    pub request_headers: Option<super::headers::Headers>,
    /// A `Range` the static handler left for after the output filters (Apache's byterange
    /// filter runs after mod_deflate).
    pub range_pending: Option<String>,
}

impl Response {
    /// The fields the access log's `%{Name}o` can see, in the order they are sent.
    pub fn logged_headers(&self) -> Vec<(String, String)> {
        let fixed = self.headers.iter().chain(&self.late_headers);
        self.err_headers
            .iter()
            .cloned()
            .chain(fixed.map(|(k, v)| (k.to_string(), v.clone())))
            .chain(self.added_headers.iter().cloned())
            .chain(
                self.content_type
                    .iter()
                    .map(|c| ("Content-Type".to_string(), c.clone())),
            )
            .collect()
    }

    /// An empty 200.
    pub fn new(status: u16) -> Response {
        Response {
            status,
            reason: None,
            headers: Vec::new(),
            late_headers: Vec::new(),
            script_headers: Vec::new(),
            content_type: None,
            content_encoding: None,
            content_languages: None,
            no_cache: false,
            body: Vec::new(),
            stream: None,
            chunked: false,
            close: false,
            error_page: false,
            end_connection: false,
            close_delimited: false,
            for_head: false,
            user: None,
            env: Default::default(),
            final_uri: None,
            err_headers: Vec::new(),
            added_headers: Vec::new(),
            handler: None,
            filename: None,
            vhost: None,
            content_length_set: false,
            streamed: false,
            chunk_pieces: false,
            notes: Default::default(),
            request_headers: None,
            range_pending: None,
        }
    }

    /// Apache's error page for `status` (`ap_send_error_response`).
    pub fn error(status: u16, cx: &PageContext<'_>) -> Response {
        let mut r = Response::new(status);
        if let Some(loc) = cx.location {
            r.headers.push(("Location", loc.to_string()));
        }
        r.content_type = Some(ERROR_CONTENT_TYPE.to_string());
        r.body
            .push(Chunk::Bytes(error_page(status, cx).into_bytes()));
        r.error_page = true;
        r
    }

    /// A header value set by the handler.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .chain(&self.late_headers)
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Body length in bytes.
    pub fn body_len(&self) -> u64 {
        self.body.iter().map(Chunk::len).sum()
    }
}

/// `ap_status_drops_connection`: these statuses always end the connection (rule 69).
pub fn status_drops_connection(status: u16) -> bool {
    matches!(status, 400 | 408 | 411 | 413 | 414 | 500 | 503 | 501)
}

/// `AP_STATUS_IS_HEADER_ONLY`: no body and no content headers.
pub fn status_is_header_only(status: u16) -> bool {
    matches!(status, 204 | 304)
}

/// The inputs of `ap_set_keepalive`.
#[derive(Debug, Clone, Copy)]
pub struct KeepAliveInput<'a> {
    /// The connection is already condemned (unusable input, TE+CL, unread `100-continue` body).
    pub must_close: bool,
    pub status: u16,
    /// `r->proto_num` ≥ 1001.
    pub http11: bool,
    /// The request's `Connection` header.
    pub connection: Option<&'a str>,
    /// The response length is known (Content-Length, chunked, HEAD or 204/304).
    pub length_known: bool,
    /// `KeepAlive On` and KeepAliveTimeout > 0.
    pub enabled: bool,
    /// KeepAliveTimeout (the field shows whole seconds, like `apr_time_sec`).
    pub timeout: std::time::Duration,
    /// MaxKeepAliveRequests (0 = unlimited) and `c->keepalives` so far.
    pub max: u32,
    pub keepalives: u32,
    /// The MPM is stopping (graceful restart or stop, rule 70).
    pub stopping: bool,
}

/// What `ap_set_keepalive` decided: keep the connection, and which fields to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeepAliveDecision {
    pub keep: bool,
    /// `Keep-Alive: timeout=N, max=M` (only when the client sent a `keep-alive` token).
    pub keep_alive_field: Option<String>,
    /// `Connection: Keep-Alive` or `Connection: close`.
    pub connection_field: Option<&'static str>,
}

fn has_token(v: Option<&str>, token: &str) -> bool {
    // `ap_find_token`: tokens end at separators, spaces and controls (T_HTTP_TOKEN_STOP), and
    // each is compared over its own length only (`ap_cstr_casecmpn`), so any prefix of
    // `token` matches: `Connection: cl` closes in Apache 2.4.71 (found by mpm-lab diff).
    let is_stop = |c: char| c.is_ascii_control() || " \t()<>@,;:\\\"/[]?={}".contains(c);
    v.is_some_and(|v| {
        v.split(is_stop).any(|t| {
            !t.is_empty()
                && t.len() <= token.len()
                && token.as_bytes()[..t.len()].eq_ignore_ascii_case(t.as_bytes())
        })
    })
}

/// The client itself asked for the connection to end after this response: `Connection:
/// close`, or HTTP/1.0 (or 0.9) without a `keep-alive` token.
pub fn client_asks_to_close(connection: Option<&str>, http11: bool) -> bool {
    has_token(connection, "close") || (!http11 && !has_token(connection, "keep-alive"))
}

/// `ap_set_keepalive`, condition by condition in Apache's order.
pub fn set_keepalive(i: &KeepAliveInput<'_>) -> KeepAliveDecision {
    let left = i.max as i64 - i.keepalives as i64;
    let ka_sent = has_token(i.connection, "keep-alive");
    let keep = !i.must_close
        && i.length_known
        && i.enabled
        && !i.timeout.is_zero()
        && (i.max == 0 || left > 0)
        && !status_drops_connection(i.status)
        && !has_token(i.connection, "close")
        && (ka_sent || i.http11)
        && !i.stopping;
    if !keep {
        return KeepAliveDecision {
            keep: false,
            keep_alive_field: None,
            connection_field: Some("close"),
        };
    }
    if ka_sent {
        let field = if i.max != 0 {
            format!("timeout={}, max={}", i.timeout.as_secs(), left)
        } else {
            format!("timeout={}", i.timeout.as_secs())
        };
        return KeepAliveDecision {
            keep: true,
            keep_alive_field: Some(field),
            connection_field: Some("Keep-Alive"),
        };
    }
    KeepAliveDecision {
        keep: true,
        keep_alive_field: None,
        connection_field: None,
    }
}

/// The response head: status line, Date, Server, the handler's fields, length, connection
/// fields, Content-Type, empty line. Apache answers every HTTP/1.x request as HTTP/1.1.
/// For a HEAD (`head`), a length of 0 is left out, and so is the length of an error page,
/// which Apache never generates for HEAD (`ap_http_header_filter`).
pub fn write_head(
    out: &mut Vec<u8>,
    resp: &Response,
    ka: &KeepAliveDecision,
    now: SystemTime,
    head: bool,
    server: &str,
) {
    let phrase = resp
        .reason
        .as_deref()
        .unwrap_or_else(|| reason(resp.status));
    let _ = write!(out, "HTTP/1.1 {} {phrase}\r\n", resp.status);
    let _ = write!(
        out,
        "Date: {}\r\nServer: {}\r\n",
        httpdate::fmt_http_date(now),
        server
    );
    for (n, v) in &resp.err_headers {
        let _ = write!(out, "{n}: {v}\r\n");
    }
    for (n, v) in &resp.headers {
        let _ = write!(out, "{n}: {v}\r\n");
    }
    for (n, v) in &resp.script_headers {
        let _ = write!(out, "{n}: {v}\r\n");
    }
    let header_only = status_is_header_only(resp.status);
    let head_without_length = head && (resp.error_page || resp.body_len() == 0);
    if !header_only && !head_without_length {
        if resp.chunked {
            out.extend_from_slice(b"Transfer-Encoding: chunked\r\n");
        } else if !resp.close_delimited {
            let _ = write!(out, "Content-Length: {}\r\n", resp.body_len());
        }
    }
    for (n, v) in &resp.added_headers {
        let _ = write!(out, "{n}: {v}\r\n");
    }
    for (n, v) in &resp.late_headers {
        let _ = write!(out, "{n}: {v}\r\n");
    }
    if let Some(k) = &ka.keep_alive_field {
        let _ = write!(out, "Keep-Alive: {k}\r\n");
    }
    if let Some(c) = ka.connection_field {
        let _ = write!(out, "Connection: {c}\r\n");
    }
    if resp.no_cache
        && !resp
            .headers
            .iter()
            .any(|(n, _)| n.eq_ignore_ascii_case("Expires"))
    {
        let _ = write!(out, "Expires: {}\r\n", httpdate::fmt_http_date(now));
    }
    if !header_only {
        if let Some(ct) = &resp.content_type {
            let _ = write!(out, "Content-Type: {ct}\r\n");
        }
        if let Some(e) = &resp.content_encoding {
            let _ = write!(out, "Content-Encoding: {e}\r\n");
        }
        if let Some(l) = &resp.content_languages {
            let _ = write!(out, "Content-Language: {l}\r\n");
        }
    }
    out.extend_from_slice(b"\r\n");
}

/// What follows the queued bytes on the connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Last {
    /// More responses may follow (keep-alive), or we do not know yet: send at once.
    Open,
    /// `shutdown(SHUT_WR)` or `close(2)` follows at once: the final chunk goes out with
    /// `MSG_MORE`, so the kernel holds its last partial segment and the FIN that `shutdown`
    /// sends rides on it (`tcp_send_fin` flags the unsent tail). One packet and one ACK fewer
    /// per closed connection; the data still leaves in the same instant.
    ThenShutdown,
}

/// `send(2)` with `MSG_NOSIGNAL` (a vanished client is an error, not a SIGPIPE), plus
/// `MSG_MORE` when more is about to follow: the next chunk, or the FIN of a shutdown. The
/// kernel then holds a partial last segment only until that next write (or, if the next write
/// finds the socket full, until the peer's next ACK: `MSG_MORE` corks one call, not the socket).
fn send(stream: &TcpStream, buf: &[u8], more: bool) -> io::Result<usize> {
    use nix::sys::socket::{MsgFlags, send};
    use std::os::fd::AsRawFd;
    let mut flags = MsgFlags::MSG_NOSIGNAL;
    if more {
        // nix does not name MSG_MORE (Linux-only); the bit is libc's.
        flags |= MsgFlags::from_bits_retain(libc::MSG_MORE);
    }
    send(stream.as_raw_fd(), buf, flags).map_err(io::Error::from)
}

/// Bytes waiting to go out on a connection, oldest first.
#[derive(Debug, Default)]
pub struct OutQueue {
    chunks: std::collections::VecDeque<Chunk>,
    /// Bytes of the front `Bytes` chunk already written.
    front_done: usize,
    /// The piece of a read (not sendfile) `File` chunk being written ([`super::file_bucket`]).
    read_buf: Vec<u8>,
}

impl OutQueue {
    pub fn is_empty(&self) -> bool {
        self.chunks.is_empty()
    }

    /// Queue a chunk (empty ones are dropped).
    pub fn push(&mut self, c: Chunk) {
        if c.is_empty() {
            return;
        }
        // Coalesce small byte chunks so a small response leaves in one write(2).
        // Appending to the front chunk is safe too: `front_done` indexes from its start.
        if let (Chunk::Bytes(new), Some(Chunk::Bytes(last))) = (&c, self.chunks.back_mut()) {
            last.extend_from_slice(new);
            return;
        }
        self.chunks.push_back(c);
    }

    /// Write as much as the socket takes. With a blocking socket (and its send timeout) this
    /// returns only when everything is out or an error occurred; with a non-blocking socket it
    /// returns `Ok(false)` when the socket is full (write completion, event MPM).
    pub fn write_to(&mut self, stream: &TcpStream, last: Last) -> io::Result<bool> {
        while !self.chunks.is_empty() {
            let is_last = self.chunks.len() == 1;
            let front = self.chunks.front_mut().expect("checked");
            let res = match front {
                Chunk::Bytes(b) => {
                    // A head followed by a file goes out with the file's first segment, as
                    // APR corks a header before sendfile.
                    let more = !is_last || last == Last::ThenShutdown;
                    send(stream, &b[self.front_done..], more).map(|n| {
                        self.front_done += n;
                        (n, self.front_done == b.len())
                    })
                }
                Chunk::Mmap { map, start, len } => {
                    let more = !is_last || last == Last::ThenShutdown;
                    send(stream, &map.bytes()[*start..*start + *len], more).map(|n| {
                        *start += n;
                        *len -= n;
                        (n, *len == 0)
                    })
                }
                Chunk::File {
                    file,
                    offset,
                    len,
                    sendfile: false,
                } => {
                    // Read the next piece at the current offset and send what the socket
                    // takes; an unsent tail is read again next time (pread is cheap, and the
                    // queue keeps no partial state beyond the offset).
                    let more = !is_last || last == Last::ThenShutdown;
                    let buf = &mut self.read_buf;
                    super::file_bucket::read_piece(file, *offset, *len, buf)
                        .and_then(|_| send(stream, buf, more))
                        .map(|n| {
                            *offset += n as u64;
                            *len -= n as u64;
                            (n, *len == 0)
                        })
                }
                Chunk::File {
                    file, offset, len, ..
                } => {
                    let mut off = *offset as i64;
                    let want = (*len).min(1 << 30) as usize;
                    nix::sys::sendfile::sendfile(stream.as_fd(), file.as_fd(), Some(&mut off), want)
                        .map_err(io::Error::from)
                        .map(|n| {
                            *offset += n as u64;
                            *len -= n as u64;
                            (n, *len == 0)
                        })
                }
            };
            match res {
                Ok((0, false)) => {
                    return Err(io::Error::new(
                        io::ErrorKind::WriteZero,
                        "peer stopped reading",
                    ));
                }
                Ok((_, true)) => {
                    self.chunks.pop_front();
                    self.front_done = 0;
                }
                Ok((_, false)) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
                Err(e) => return Err(e),
            }
        }
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ka(connection: Option<&str>, http11: bool, keepalives: u32) -> KeepAliveDecision {
        set_keepalive(&KeepAliveInput {
            must_close: false,
            status: 200,
            http11,
            connection,
            length_known: true,
            enabled: true,
            timeout: std::time::Duration::from_secs(5),
            max: 100,
            keepalives,
            stopping: false,
        })
    }

    #[test]
    fn keepalive_http10_needs_the_token_and_gets_apaches_fields() {
        let d = ka(Some("keep-alive"), false, 0);
        assert!(d.keep);
        assert_eq!(d.keep_alive_field.as_deref(), Some("timeout=5, max=100"));
        assert_eq!(d.connection_field, Some("Keep-Alive"));
        let d = ka(None, false, 0);
        assert_eq!((d.keep, d.connection_field), (false, Some("close")));
    }

    #[test]
    fn keepalive_http11_default_close_token_and_max() {
        assert_eq!(
            ka(None, true, 0),
            KeepAliveDecision {
                keep: true,
                keep_alive_field: None,
                connection_field: None
            }
        );
        assert!(!ka(Some("close"), true, 0).keep);
        assert!(ka(None, true, 99).keep, "left = 1");
        assert!(!ka(None, true, 100).keep, "MaxKeepAliveRequests reached");
    }

    #[test]
    fn connection_tokens_match_by_prefix_as_ap_find_token() {
        assert!(has_token(Some("cl"), "close"));
        assert!(has_token(Some("x, CLOSE"), "close"));
        assert!(has_token(Some("keep"), "keep-alive"));
        assert!(!has_token(Some("closed"), "close"));
        assert!(!has_token(Some("xyz"), "close"));
        assert!(!has_token(Some(""), "close"));
    }

    #[test]
    fn rule_69_error_statuses_drop_the_connection() {
        for s in [400, 408, 411, 413, 414, 500, 501, 503] {
            assert!(status_drops_connection(s));
        }
        for s in [200, 304, 403, 404, 405, 412, 416, 417] {
            assert!(!status_drops_connection(s), "{s}");
        }
    }

    #[test]
    fn head_order_is_apaches() {
        let mut r = Response::new(200);
        r.headers.push(("ETag", "\"1-2\"".into()));
        r.content_type = Some("text/html".into());
        r.body.push(Chunk::Bytes(b"hello".to_vec()));
        let mut out = Vec::new();
        let d = KeepAliveDecision {
            keep: false,
            keep_alive_field: None,
            connection_field: Some("close"),
        };
        write_head(
            &mut out,
            &r,
            &d,
            SystemTime::UNIX_EPOCH,
            false,
            crate::SERVER_VERSION,
        );
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.starts_with("HTTP/1.1 200 OK\r\nDate: Thu, 01 Jan 1970 00:00:00 GMT\r\nServer: ")
        );
        assert!(text.ends_with("ETag: \"1-2\"\r\nContent-Length: 5\r\nConnection: close\r\nContent-Type: text/html\r\n\r\n"));
    }
}
