//! Reading one request off the connection (`server/protocol.c: ap_read_request`,
//! `read_request_line`): the request line with up to 10 empty lines before it, the header
//! lines, then the checks of [`request`](super::request). Every refusal carries Apache's
//! status, error-log line and what the access log needs.

use std::net::TcpStream;
use std::time::SystemTime;

use super::input::{Input, LineError, ReadError};
use super::request::{
    FIELD_TOO_LONG, HeaderParser, Rejection, Request, Version, check_headers, field_name,
    parse_request_line, the_request,
};
use crate::config::ServerConfig;
use crate::log::Level;

/// Empty lines Apache skips before a request line (`DEFAULT_LIMIT_BLANK_LINES`).
const MAX_BLANK_LINES: usize = 10;

/// How reading a request ended.
pub(crate) enum ReadOutcome {
    Request(Box<Request>),
    /// Answer with an error page, then close (`die_unusable_input`).
    Refused {
        rejection: Rejection,
        the_request: String,
        method: String,
        time: SystemTime,
        expect: Option<String>,
    },
    /// Close without a word; `log_408` = access-log `"-" 408 -` (first request only).
    Silent {
        log_408: bool,
        time: SystemTime,
    },
}

/// Steps 1 and 2 of [`connection`](super::connection): read and check one request.
/// `first`: this is the connection's first request (only then is a timeout logged).
pub(crate) fn read_request(
    input: &mut Input,
    stream: &TcpStream,
    cfg: &ServerConfig,
    first: bool,
) -> ReadOutcome {
    let mut blank = 0;
    let line = loop {
        match input.read_line(stream, cfg.limit_request_line + 2) {
            Ok(l) if l.is_empty() && blank < MAX_BLANK_LINES => blank += 1,
            Ok(l) => break l,
            Err(LineError::TooLong(partial)) => {
                let rejection = Rejection {
                    status: 414,
                    log: Some((
                        Level::Info,
                        format!(
                            "AH00565: request failed: client's request-line exceeds LimitRequestLine (longer than {})",
                            cfg.limit_request_line
                        ),
                    )),
                    notes: None,
                };
                let method = the_request(&partial)
                    .split(' ')
                    .next()
                    .unwrap_or("")
                    .to_string();
                return ReadOutcome::Refused {
                    rejection,
                    the_request: the_request(&partial),
                    method,
                    time: SystemTime::now(),
                    expect: None,
                };
            }
            Err(LineError::BareLf(l)) => {
                let rejection = Rejection {
                    status: 400,
                    log: None,
                    notes: None,
                };
                return ReadOutcome::Refused {
                    rejection,
                    the_request: the_request(&l),
                    method: String::new(),
                    time: SystemTime::now(),
                    expect: None,
                };
            }
            Err(LineError::Read {
                err: ReadError::Timeout,
                ..
            }) => {
                return ReadOutcome::Silent {
                    log_408: first,
                    time: SystemTime::now(),
                };
            }
            Err(LineError::Read { .. }) => {
                return ReadOutcome::Silent {
                    log_408: false,
                    time: SystemTime::now(),
                };
            }
        }
    };
    let time = SystemTime::now();
    let the_req = the_request(&line);
    let refused = |rejection: Rejection, method: &str| ReadOutcome::Refused {
        rejection,
        the_request: the_req.clone(),
        method: method.to_string(),
        time,
        expect: None,
    };
    let parsed = match parse_request_line(&line) {
        Ok(p) => p,
        Err(r) => {
            let method = the_req.split(' ').next().unwrap_or("").to_string();
            return refused(r, &method);
        }
    };
    let mut headers = HeaderParser::new(cfg.limit_request_fields, cfg.limit_request_field_size);
    if parsed.version != Version::Http09 {
        loop {
            match input.read_line(stream, cfg.limit_request_field_size + 2) {
                Ok(l) => match headers.line(&l) {
                    Ok(true) => break,
                    Ok(false) => {}
                    Err(r) => return refused(r, &parsed.method),
                },
                Err(LineError::TooLong(partial)) => {
                    let name = field_name(&partial);
                    let sep = if name.is_empty() { "" } else { ": " };
                    let r = Rejection {
                        status: 400,
                        log: Some((
                            Level::Info,
                            format!(
                                "AH00561: Request header exceeds LimitRequestFieldSize{sep}{name}"
                            ),
                        )),
                        notes: Some(FIELD_TOO_LONG),
                    };
                    return refused(r, &parsed.method);
                }
                Err(LineError::Read {
                    err: ReadError::Timeout,
                    ..
                }) => {
                    let r = Rejection {
                        status: 408,
                        log: Some((
                            Level::Debug,
                            "AH00567: request failed: error reading the headers".into(),
                        )),
                        notes: None,
                    };
                    return refused(r, &parsed.method);
                }
                Err(_) => {
                    let r = Rejection {
                        status: 400,
                        log: Some((
                            Level::Debug,
                            "AH00567: request failed: error reading the headers".into(),
                        )),
                        notes: None,
                    };
                    return refused(r, &parsed.method);
                }
            }
        }
    }
    let mut headers = headers.headers;
    match check_headers(&mut headers, &parsed) {
        Ok(checks) => ReadOutcome::Request(Box::new(Request {
            line: parsed,
            headers,
            checks,
            the_request: the_req,
            time,
        })),
        Err(rejection) => ReadOutcome::Refused {
            rejection,
            the_request: the_req.clone(),
            method: parsed.method.clone(),
            time,
            expect: headers.get("Expect").map(str::to_string),
        },
    }
}
