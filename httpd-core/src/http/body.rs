//! Request bodies: `modules/http/http_filters.c: ap_http_filter` (Content-Length and chunked,
//! `parse_chunk_size`, LimitRequestBody) and `ap_discard_request_body`.
//!
//! A body must be consumed completely, even when nobody wants it, or the next request on a
//! keep-alive connection would start in the middle of it. When the body cannot be read
//! (bad chunk syntax, too large, timeout) the connection is closed after the error response,
//! as Apache's `bail_out_on_error` does.

use std::net::TcpStream;

use super::handler::BodyAccess;
use super::input::{Input, LineError, ReadError};
use super::request::BodyFraming;
use crate::log::Level;

/// Why a body could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BodyError {
    /// 400 (syntax), 408 (timeout) or 413 (LimitRequestBody).
    pub status: u16,
    pub log: Option<(Level, String)>,
}

impl BodyError {
    fn new(status: u16, level: Level, msg: String) -> BodyError {
        BodyError {
            status,
            log: Some((level, msg)),
        }
    }
    fn read(err: ReadError) -> BodyError {
        match err {
            ReadError::Timeout => BodyError {
                status: 408,
                log: None,
            },
            // The client went away: nobody will see the answer, 400 is what Apache logs.
            _ => BodyError {
                status: 400,
                log: None,
            },
        }
    }
}

/// Reads one request body off [`Input`].
pub struct BodyReader {
    framing: BodyFraming,
    /// LimitRequestBody (0 = unlimited).
    limit: u64,
    /// LimitRequestFieldSize, which also bounds chunk-size lines.
    line_limit: usize,
    /// Body bytes delivered so far.
    pub total: u64,
}

impl BodyReader {
    pub fn new(framing: BodyFraming, limit: u64, line_limit: usize) -> BodyReader {
        BodyReader {
            framing,
            limit,
            line_limit,
            total: 0,
        }
    }

    /// The Content-Length check done before reading anything (AH01588).
    pub fn check_declared_length(&self) -> Result<(), BodyError> {
        if let BodyFraming::Length(n) = self.framing
            && self.limit != 0
            && n > self.limit
        {
            return Err(BodyError::new(
                413,
                Level::Info,
                format!(
                    "AH01588: Requested content-length of {n} is larger than the configured limit of {}",
                    self.limit
                ),
            ));
        }
        Ok(())
    }

    /// Whether there is a body at all (a 100 Continue is only worth sending then).
    pub fn has_body(&self) -> bool {
        match self.framing {
            BodyFraming::None => false,
            BodyFraming::Length(n) => n > 0,
            BodyFraming::Chunked => true,
        }
    }

    /// Read the whole body, handing each piece as it arrives to `out` (a CGI script's stdin;
    /// a no-op to discard).
    pub fn read_all(
        &mut self,
        input: &mut Input,
        stream: &TcpStream,
        out: &mut dyn FnMut(&[u8]),
    ) -> Result<(), BodyError> {
        self.check_declared_length()?;
        match self.framing {
            BodyFraming::None => Ok(()),
            BodyFraming::Length(n) => self.read_exact(input, stream, n, out),
            BodyFraming::Chunked => self.read_chunked(input, stream, out),
        }
    }

    fn read_exact(
        &mut self,
        input: &mut Input,
        stream: &TcpStream,
        mut remaining: u64,
        out: &mut dyn FnMut(&[u8]),
    ) -> Result<(), BodyError> {
        while remaining > 0 {
            if !input.has_data() {
                input.fill(stream).map_err(BodyError::read)?;
            }
            let take = (input.data().len() as u64).min(remaining) as usize;
            out(&input.data()[..take]);
            input.consume(take);
            remaining -= take as u64;
            self.total += take as u64;
        }
        Ok(())
    }

    fn read_chunked(
        &mut self,
        input: &mut Input,
        stream: &TcpStream,
        out: &mut dyn FnMut(&[u8]),
    ) -> Result<(), BodyError> {
        loop {
            let line = input
                .read_line(stream, self.line_limit + 2)
                .map_err(chunk_line_error)?;
            // An overflowing size is APR_ENOSPC in Apache's parser, mapped to 413.
            let size =
                parse_chunk_size(&line).ok_or_else(|| match chunk_size_overflows(&line) {
                    true => BodyError::new(
                        413,
                        Level::Info,
                        "AH01590: Error reading/parsing chunk (overflow)".to_string(),
                    ),
                    false => BodyError::new(
                        400,
                        Level::Info,
                        "AH01590: Error reading/parsing chunk ".to_string(),
                    ),
                })?;
            if size == 0 {
                break;
            }
            if self.limit != 0 && self.total + size > self.limit {
                return Err(BodyError::new(
                    413,
                    Level::Info,
                    format!(
                        "AH01591: Read content length of {} is larger than the configured limit of {}",
                        self.total + size,
                        self.limit
                    ),
                ));
            }
            self.read_exact(input, stream, size, out)?;
            // The chunk data must be followed by exactly CRLF: anything else there is a
            // syntax error (400), however long (not the 413 of an overlong size line).
            let crlf = input.read_line(stream, 2).map_err(|e| match e {
                LineError::TooLong(_) => BodyError::new(
                    400,
                    Level::Info,
                    "AH01590: Error reading/parsing chunk ".into(),
                ),
                e => chunk_line_error(e),
            })?;
            if !crlf.is_empty() {
                return Err(BodyError::new(
                    400,
                    Level::Info,
                    "AH01590: Error reading/parsing chunk ".into(),
                ));
            }
        }
        // Trailer fields, up to the empty line; we do not use them.
        loop {
            let line = input
                .read_line(stream, self.line_limit + 2)
                .map_err(chunk_line_error)?;
            if line.is_empty() {
                return Ok(());
            }
        }
    }
}

fn chunk_line_error(e: LineError) -> BodyError {
    match e {
        LineError::Read { err, .. } => BodyError::read(err),
        // APR_ENOSPC, as for an overflowing size: 413.
        LineError::TooLong(_) => BodyError::new(
            413,
            Level::Info,
            "AH01590: Error reading/parsing chunk (overflow)".into(),
        ),
        LineError::BareLf(_) => BodyError::new(
            400,
            Level::Info,
            "AH01590: Error reading/parsing chunk ".into(),
        ),
    }
}

/// More than 15 significant hex digits: the size overflows `apr_off_t` (`chunkbits`).
pub fn chunk_size_overflows(line: &[u8]) -> bool {
    let digits = line.iter().take_while(|b| b.is_ascii_hexdigit());
    digits.skip_while(|&&b| b == b'0').count() > 15
}

/// `parse_chunk_size` under Strict: hex digits, up to 10 SP/HT of "bad whitespace", an
/// optional `;extension` without control characters. `None` = syntax error or overflow.
pub fn parse_chunk_size(line: &[u8]) -> Option<u64> {
    let digits = line.iter().take_while(|b| b.is_ascii_hexdigit()).count();
    if digits == 0 {
        return None;
    }
    let significant = line[..digits].iter().skip_while(|&&b| b == b'0').count();
    if significant > 15 {
        return None; // would overflow apr_off_t
    }
    let size = u64::from_str_radix(std::str::from_utf8(&line[..digits]).ok()?, 16).ok()?;
    let rest = &line[digits..];
    let bws = rest
        .iter()
        .take_while(|&&b| b == b' ' || b == b'\t')
        .count();
    if bws > 10 {
        return None;
    }
    match &rest[bws..] {
        [] => Some(size),
        [b';', ext @ ..] if ext.iter().all(|&b| b == b'\t' || !(b < 0x20 || b == 0x7f)) => {
            Some(size)
        }
        _ => None,
    }
}

/// The handler's view of the request body (`ap_discard_request_body` with `ap_http_filter`).
pub(crate) struct RequestBody<'a> {
    pub(crate) reader: BodyReader,
    pub(crate) input: &'a mut Input,
    pub(crate) stream: &'a TcpStream,
    /// `r->expecting_100`: the client sent `Expect: 100-continue` and no `100 Continue` has
    /// gone out yet. Only HTTP/1.1 clients get one (`http11`); while it stays set the
    /// connection is not kept alive (`ap_set_keepalive`).
    pub(crate) expecting_100: bool,
    pub(crate) http11: bool,
    /// The connection closes after this request whatever happens (`c->keepalive ==
    /// AP_CONN_CLOSE`: Transfer-Encoding with Content-Length): Apache then does not read the
    /// body at all, so a malformed one is never noticed.
    pub(crate) connection_closes: bool,
    pub(crate) consumed: bool,
    pub(crate) failed: bool,
}

impl BodyAccess for RequestBody<'_> {
    fn has_body(&self) -> bool {
        self.reader.has_body()
    }

    fn discard(&mut self) -> Result<(), BodyError> {
        self.stream_to(&mut |_| {})
    }

    fn stream_to(&mut self, out: &mut dyn FnMut(&[u8])) -> Result<(), BodyError> {
        if self.consumed {
            return Ok(());
        }
        self.consumed = true;
        if self.connection_closes {
            return Ok(());
        }
        let result = (|| {
            self.reader.check_declared_length()?;
            if self.expecting_100 && self.http11 && self.reader.has_body() {
                use std::io::Write;
                let mut s = self.stream;
                s.write_all(b"HTTP/1.1 100 Continue\r\n\r\n")
                    .map_err(|_| BodyError {
                        status: 400,
                        log: None,
                    })?;
                self.expecting_100 = false;
            }
            self.reader.read_all(self.input, self.stream, out)
        })();
        if result.is_err() {
            self.failed = true;
        }
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunk_size_syntax() {
        assert_eq!(parse_chunk_size(b"1a"), Some(26));
        assert_eq!(parse_chunk_size(b"0"), Some(0));
        assert_eq!(parse_chunk_size(b"00000000000000000010"), Some(16));
        assert_eq!(parse_chunk_size(b"5;name=value"), Some(5));
        assert_eq!(parse_chunk_size(b"5 ;x"), Some(5));
        assert_eq!(parse_chunk_size(b""), None);
        assert_eq!(parse_chunk_size(b"x"), None);
        assert_eq!(parse_chunk_size(b"5 5"), None);
        assert_eq!(parse_chunk_size(b"-5"), None);
        assert_eq!(parse_chunk_size(b"1000000000000000"), None, "overflow");
        assert!(chunk_size_overflows(b"fffffffffffffffff"));
        assert!(!chunk_size_overflows(b"000000000000000000001"));
    }
}
