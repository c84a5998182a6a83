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

/// Parse one format (`parse_errorlog_string`). `main`: the one-argument form, which must hold
/// `%M` and may not use `+`; otherwise a `connection`/`request` line, which may not hold `%M`
/// nor a level.
pub fn parse(s: &str, main: bool) -> Result<Vec<FmtItem>, String> {
    let mut items = Vec::new();
    let mut rest = s;
    let mut seen_msg = false;
    while !rest.is_empty() {
        let (item, next) = parse_item(rest)?;
        rest = next;
        if item.kind == Kind::Message {
            if !main {
                return Err(
                    "%M cannot be used in once-per-request or once-per-connection formats".into(),
                );
            }
            seen_msg = true;
        }
        if main && item.required {
            return Err("The '+' flag cannot be used in the main error log format".into());
        }
        if !main && item.min_level != 0 {
            return Err("The loglevel cannot be used as a condition in once-per-request or once-per-connection formats".into());
        }
        if item.min_level > 15 {
            return Err("The specified loglevel modifier is out of range".into());
        }
        items.push(item);
    }
    if main && !seen_msg {
        return Err("main ErrorLogFormat must contain message format string '%M'".into());
    }
    Ok(items)
}

fn item(kind: Kind) -> FmtItem {
    FmtItem {
        kind,
        field_sep: false,
        required: false,
        hyphen: false,
        min_level: 0,
    }
}

/// `parse_errorlog_item`: one item from the front of `s`; returns it and the rest.
fn parse_item(s: &str) -> Result<(FmtItem, &str), String> {
    let Some(mut s) = s.strip_prefix('%') else {
        let mut it = item(Kind::Const(String::new()));
        it.field_sep = s.starts_with(' ');
        let (text, rest) = misc_string(s);
        it.kind = Kind::Const(text);
        return Ok((it, rest));
    };
    if let Some(rest) = s.strip_prefix(' ') {
        // `% ` is a field separator in front of the next item.
        let (mut it, rest) = parse_item(rest)?;
        it.field_sep = true;
        return Ok((it, rest));
    }
    if let Some(rest) = s.strip_prefix('%') {
        return Ok((item(Kind::Const("%".into())), rest));
    }
    let mut it = item(Kind::Message);
    let mut arg: Option<String> = None;
    loop {
        let Some(c) = s.chars().next() else {
            return Err("Ran off end of error log format parsing args to some directive".into());
        };
        match c {
            '{' => {
                let (a, rest) = s[1..].split_once('}').unwrap_or((&s[1..], ""));
                arg = Some(a.to_string());
                s = rest;
            }
            '+' => {
                it.required = true;
                s = &s[1..];
            }
            '-' => {
                it.hyphen = true;
                s = &s[1..];
            }
            '0'..='9' => {
                let n = s.bytes().take_while(u8::is_ascii_digit).count();
                it.min_level = s[..n].parse::<u32>().unwrap_or(u32::MAX).min(255) as u8;
                s = &s[n..];
            }
            _ => {
                let a = arg.take();
                it.kind = match c {
                    'M' => Kind::Message,
                    'a' => Kind::RemoteAddr,
                    'A' => Kind::LocalAddr,
                    'e' => Kind::Env(a.unwrap_or_default()),
                    'E' => Kind::Status,
                    'F' => Kind::FileLine,
                    'i' => Kind::Header(a.unwrap_or_default()),
                    'k' => Kind::Keepalives,
                    'l' => Kind::Level,
                    'L' => Kind::LogId(a.and_then(|a| a.chars().next())),
                    'm' => Kind::Module,
                    'n' => Kind::Note(a.unwrap_or_default()),
                    'P' => Kind::Pid,
                    'T' => Kind::Tid {
                        system: a.is_some_and(|a| a.starts_with('g')),
                    },
                    't' => Kind::Time(a),
                    'v' => Kind::VirtualHost,
                    'V' => Kind::ServerName,
                    other => {
                        return Err(format!("Unrecognized error log format directive %{other}"));
                    }
                };
                return Ok((it, &s[c.len_utf8()..]));
            }
        }
    }
}

/// `parse_errorlog_misc_string`: literal text up to the next `%` or the next non-leading
/// space; `\n`, `\r`, `\t` and `\X` escapes.
fn misc_string(s: &str) -> (String, &str) {
    let mut out = String::new();
    let mut at_start = true;
    let mut chars = s.char_indices().peekable();
    while let Some(&(i, c)) = chars.peek() {
        if c == '%' || (c == ' ' && !at_start) {
            return (out, &s[i..]);
        }
        chars.next();
        if c != '\\' {
            if c != ' ' {
                at_start = false;
            }
            out.push(c);
            continue;
        }
        match chars.next() {
            Some((_, 'r')) => out.push('\r'),
            Some((_, 'n')) => out.push('\n'),
            Some((_, 't')) => out.push('\t'),
            Some((_, other)) => out.push(other),
            None => out.push('\\'),
        }
    }
    (out, "")
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

/// The `ErrorLogFormat` directives of a server: the main format and the once-per-connection and
/// once-per-request lines (`core_server_config`: `error_log_format`, `error_log_conn`,
/// `error_log_req`). `None` lists: not set here (a virtual host then takes the main server's).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ErrorLogFormat {
    pub main: Option<Vec<FmtItem>>,
    pub connection: Option<Vec<Vec<FmtItem>>>,
    pub request: Option<Vec<Vec<FmtItem>>>,
    /// The MPM has threads (`%T`): decided when the directive is read.
    pub threaded: bool,
}

impl ErrorLogFormat {
    /// `set_errorlog_format`: `ErrorLogFormat fmt` or `ErrorLogFormat connection|request fmt`
    /// (an empty `fmt` only creates the list, as in Apache: it clears what the main server set).
    pub fn set(&mut self, a: &[String]) -> Result<(), String> {
        match a {
            [f] => self.main = Some(parse(f, true)?),
            [kind, f] => {
                let list = if kind.eq_ignore_ascii_case("connection") {
                    &mut self.connection
                } else if kind.eq_ignore_ascii_case("request") {
                    &mut self.request
                } else {
                    return Err("ErrorLogFormat type must be one of request, connection".into());
                };
                let list = list.get_or_insert_with(Vec::new);
                if !f.is_empty() {
                    list.push(parse(f, false)?);
                }
            }
            _ => return Err("ErrorLogFormat takes 1-2 arguments".into()),
        }
        Ok(())
    }

    /// `merge_core_server_configs`: what a virtual host did not set comes from the main server.
    pub fn merged_over(&self, main: &ErrorLogFormat) -> ErrorLogFormat {
        ErrorLogFormat {
            main: self.main.clone().or_else(|| main.main.clone()),
            connection: self.connection.clone().or_else(|| main.connection.clone()),
            request: self.request.clone().or_else(|| main.request.clone()),
            threaded: main.threaded,
        }
    }

    /// Whether an item prints the request's environment (`%{name}e`): only then does the
    /// request path keep a copy of it for the error log (decided at config time).
    pub fn uses_env(&self) -> bool {
        let lines = self.main.iter().chain(self.connection.iter().flatten());
        lines
            .chain(self.request.iter().flatten())
            .flatten()
            .any(|i| matches!(i.kind, Kind::Env(_)))
    }

    /// Whether anything is set (without it the default line is written).
    pub fn is_set(&self) -> bool {
        self.main.is_some() || self.connection.is_some() || self.request.is_some()
    }
}

/// `core_generate_log_id`: 64 bits from the request's start (or now), the pid and the thread,
/// base64 without its final `=` (11 characters).
pub fn generate_log_id(request_time: Option<std::time::SystemTime>) -> String {
    let t = request_time.unwrap_or_else(std::time::SystemTime::now);
    let mut id = t
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_micros() as u64)
        .unwrap_or(0);
    let pid = u64::from(std::process::id());
    id ^= pid << 40;
    id ^= (pid >> 24) << 56;
    id ^= pthread_self() << 32;
    let mut s = base64(&id.to_ne_bytes());
    s.pop();
    s
}

/// Standard base64 with padding (`apr_base64_encode`).
fn base64(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(A[(n >> (18 - 6 * i) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
#[path = "errorlog_format_tests.rs"]
mod tests;
