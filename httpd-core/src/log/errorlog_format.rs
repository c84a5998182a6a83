//! `ErrorLogFormat` (`server/core.c: parse_errorlog_string`, `parse_errorlog_item`;
//! `server/log.c: do_errorlog_format` and the `log_*` item functions).
//!
//! A format is a list of items. Rendering one line ([`render`]):
//!
//! 1. A *field* starts at the beginning of the line and after each field separator (a space
//!    in the format, or `% `). While a field is being skipped, items are not rendered until the
//!    next separator; the message (`%M`) is always rendered.
//! 2. An item with a level (`%7F`: only at debug or more verbose) that the line's level does not
//!    reach removes its field.
//! 3. An item with nothing to print: with `+` the whole line is dropped (once-per-connection
//!    and once-per-request lines only); with `-` a `-` is printed; otherwise its whole field is
//!    removed (so `[client %a] ` disappears for a line about no client).
//! 4. `%M` is the message, escaped as `ap_escape_errorlog_item` does (our messages are already
//!    plain text: control characters become `\xhh`).
//!
//! Without `ErrorLogFormat` the default line is written by [`super::ErrorLog`] itself, byte for
//! byte as before (Apache's separate `do_errorlog_default`).
//!
//! Not carried here: `%E` (our messages carry the `(errno)text: ` prefix themselves, so `%E`
//! is empty and the status stays in `%M`), `%F` (no C file and line: empty), `%{name}n`
//! (mpm-lab keeps no request notes: empty).

use std::cell::OnceCell;
use std::fmt::Write as _;
use std::net::SocketAddr;

use super::Level;

mod log_id;
mod parse;

#[cfg(test)]
use log_id::base64;
pub use log_id::generate_log_id;
pub use parse::{ErrorLogFormat, parse};

/// One item of a format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FmtItem {
    pub kind: Kind,
    /// Starts a new field (a space before it, or `% `).
    pub field_sep: bool,
    /// `+`: an empty value drops the line.
    pub required: bool,
    /// `-`: an empty value prints `-`.
    pub hyphen: bool,
    /// `%7x`: rendered only at this level (0 = emerg … 15 = trace8) or more verbose; 0 = always.
    pub min_level: u8,
}

/// What an item prints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    Const(String),
    /// `%M`
    Message,
    /// `%a` (`%{c}a`: the connection's peer, not the request's useragent; the same here)
    RemoteAddr,
    /// `%A`
    LocalAddr,
    /// `%{name}e`
    Env(String),
    /// `%E`
    Status,
    /// `%F`
    FileLine,
    /// `%{name}i`
    Header(String),
    /// `%k`
    Keepalives,
    /// `%l`
    Level,
    /// `%L`, `%{c}L`, `%{C}L`
    LogId(Option<char>),
    /// `%m`
    Module,
    /// `%{name}n`
    Note(String),
    /// `%P`
    Pid,
    /// `%T`, `%{g}T`
    Tid {
        system: bool,
    },
    /// `%t`, `%{u}t`, `%{cu}t`, `%{…%…}t` (strftime)
    Time(Option<String>),
    /// `%v`
    VirtualHost,
    /// `%V`
    ServerName,
}

/// The facts of a request a line may print (`info->r`).
#[derive(Debug, Clone, Copy, Default)]
pub struct RequestFacts<'a> {
    pub local: Option<SocketAddr>,
    pub headers: Option<&'a crate::http::headers::Headers>,
    pub env: Option<&'a crate::modules::setenvif::Env>,
    /// `%V`: `ap_get_server_name(r)`.
    pub server_name: Option<&'a str>,
    /// `%v`: the virtual host's ServerName.
    pub vhost_name: Option<&'a str>,
    /// `%k`
    pub keepalives: Option<u32>,
    /// `%L`: the request's log id; `%{c}L`: the connection's. Given on the request's first
    /// error line (`add_log_id`), which also prints the once-per-request/connection lines.
    pub log_id: Option<&'a OnceCell<String>>,
    pub conn_log_id: Option<&'a OnceCell<String>>,
    /// When the request started (the log id's time).
    pub request_time: Option<std::time::SystemTime>,
}

/// Everything one line may print (`ap_errorlog_info`).
#[derive(Debug, Clone, Copy)]
pub struct LineInfo<'a> {
    pub module: &'a str,
    /// `None` for once-per-connection/request lines (`info.level = -1`).
    pub level: Option<Level>,
    pub client: Option<SocketAddr>,
    pub request: Option<&'a RequestFacts<'a>>,
    /// The line is about the request (`info->r`), not only its connection: false for the
    /// once-per-connection lines.
    pub in_request: bool,
    /// The server's own ServerName (`info->s->server_hostname`), for `%v` outside a request.
    pub server_hostname: &'a str,
    /// Whether the MPM has threads (`%T` prints `pthread_self()` only then).
    pub threaded: bool,
    pub tz: &'a jiff::tz::TimeZone,
}

/// `do_errorlog_format`: the line, or `None` when a `+` item was empty (step 3).
pub fn render(items: &[FmtItem], info: &LineInfo<'_>, msg: &str) -> Option<String> {
    let mut out = String::with_capacity(160);
    let mut field_start = 0;
    let mut skipping = false;
    for it in items {
        if it.field_sep {
            if skipping {
                skipping = false;
            } else {
                field_start = out.len();
            }
        }
        if it.kind == Kind::Message {
            escape_errorlog_item(&mut out, msg);
            continue;
        }
        if skipping {
            continue;
        }
        if let Some(l) = info.level
            && it.min_level > l as u8
        {
            out.truncate(field_start);
            skipping = true;
            continue;
        }
        let before = out.len();
        value(&it.kind, info, &mut out);
        if out.len() == before {
            if it.required {
                return None;
            } else if it.hyphen {
                out.push('-');
            } else {
                out.truncate(field_start);
                skipping = true;
            }
        }
    }
    Some(out)
}

/// The `log_*` function of one item; prints nothing when it has no value.
fn value(kind: &Kind, info: &LineInfo<'_>, out: &mut String) {
    // `r`: the connection's facts (kept on once-per-connection lines); `rq`: the request's.
    let r = info.request;
    let rq = r.filter(|_| info.in_request);
    match kind {
        Kind::Const(s) => out.push_str(s),
        Kind::Message | Kind::Status | Kind::FileLine | Kind::Note(_) => {}
        Kind::RemoteAddr => {
            if let Some(c) = info.client {
                let _ = write!(out, "{}:{}", c.ip(), c.port());
            }
        }
        Kind::LocalAddr => {
            if let Some(a) = r.and_then(|r| r.local) {
                let _ = write!(out, "{}:{}", a.ip(), a.port());
            }
        }
        Kind::Env(name) => {
            if let Some(v) = rq.and_then(|r| r.env).and_then(|e| e.get(name)) {
                escape_errorlog_item(out, v);
            }
        }
        Kind::Header(name) => {
            if let Some(v) = rq.and_then(|r| r.headers).and_then(|h| h.get(name)) {
                escape_errorlog_item(out, v);
            }
        }
        Kind::Keepalives => {
            if let Some(k) = r.and_then(|r| r.keepalives) {
                let _ = write!(out, "{k}");
            }
        }
        Kind::Level => {
            if let Some(l) = info.level {
                out.push_str(l.as_str());
            }
        }
        Kind::LogId(arg) => {
            let id = match arg {
                // %{C}L: the connection's id only on a line that is not about a request.
                Some('C') if info.in_request => None,
                Some('c' | 'C') => r.and_then(|r| r.conn_log_id),
                _ => rq.and_then(|r| r.log_id),
            };
            out.push_str(id.and_then(OnceCell::get).map_or("", String::as_str));
        }
        Kind::Module => out.push_str(info.module),
        Kind::Pid => {
            let _ = write!(out, "{}", std::process::id());
        }
        Kind::Tid { system: true } => {
            let _ = write!(out, "{}", nix::unistd::gettid());
        }
        Kind::Tid { system: false } => {
            if info.threaded {
                // Apache prints `apr_os_thread_current()` with `%pT`: the pthread_t as a number.
                let _ = write!(out, "{}", pthread_self());
            }
        }
        Kind::Time(arg) => time(arg.as_deref(), info.tz, out),
        Kind::VirtualHost => match r.and_then(|r| r.vhost_name) {
            Some(v) => out.push_str(v),
            None => out.push_str(info.server_hostname),
        },
        Kind::ServerName => {
            if let Some(v) = rq.and_then(|r| r.server_name) {
                out.push_str(v);
            }
        }
    }
}

/// `apr_os_thread_current()` as a number.
fn pthread_self() -> u64 {
    // SAFETY: pthread_self(3) has no preconditions, always succeeds and touches no memory.
    #[allow(unsafe_code)]
    let t = unsafe { libc::pthread_self() };
    t as u64
}

/// `log_ctime`: `%t` ctime, `u` microseconds, `c` compact (ISO), `z` GMT offset, or a strftime
/// format when the argument holds a `%`.
fn time(arg: Option<&str>, tz: &jiff::tz::TimeZone, out: &mut String) {
    let now = jiff::Timestamp::now().to_zoned(tz.clone());
    let arg = arg.unwrap_or("");
    if arg.contains('%') {
        if let Ok(s) = jiff::fmt::strtime::format(arg, &now) {
            out.push_str(&s);
        }
        return;
    }
    let (usec, compact, gmtoff) = (arg.contains('u'), arg.contains('c'), arg.contains('z'));
    if compact {
        let _ = write!(out, "{}", now.strftime("%Y-%m-%d %H:%M:%S"));
    } else {
        let _ = write!(out, "{}", now.strftime("%a %b %d %H:%M:%S"));
    }
    if usec {
        let _ = write!(out, ".{:06}", now.subsec_nanosecond() / 1000);
    }
    if !compact {
        let _ = write!(out, " {}", now.year());
    }
    if gmtoff {
        let _ = write!(out, " {}", now.strftime("%z"));
    }
}

/// `ap_escape_errorlog_item`: `\` doubled, `\b \n \r \t \v` as letters, other control and
/// non-ASCII bytes as `\xhh`; `"` stays (the error log has no quoted fields).
pub fn escape_errorlog_item(out: &mut String, s: &str) {
    for b in s.bytes() {
        match b {
            b'\\' => out.push_str("\\\\"),
            0x08 => out.push_str("\\b"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            0x0b => out.push_str("\\v"),
            0x20..=0x7e => out.push(char::from(b)),
            _ => {
                let _ = write!(out, "\\x{b:02x}");
            }
        }
    }
}

#[cfg(test)]
mod tests;
