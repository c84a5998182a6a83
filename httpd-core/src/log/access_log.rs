//! The access log (`modules/loggers/mod_log_config.c`, rule 59).
//!
//! A `LogFormat` string is compiled once ([`compile_format`], Apache's `parse_log_string`) into
//! items; each request renders its line from an [`AccessEntry`] and writes it with one `write(2)`.
//! Supported: `%h %a %l %u %t %r %s %>s %<s %b %B %{Header}i %T %D %v %V %p %U %q %m %H %P %%`,
//! `%{VAR}e`, `%{name}C`, `%A`, `%O` (mod_logio: head, framing and body handed to the network),
//! `%k`, `%X`, `%{[begin:|end:]strftime|sec|msec|usec|msec_frac|usec_frac}t`, `%{ms|us|s}T`,
//! `%{local|remote|canonical}p`, `%{pid|tid|hextid}P`, status conditions (`%400,501{…}i`,
//! `%!200,304{…}i`) and literal text. `%b` prints `-` for zero bytes (`clf_log_bytes_sent`).
//! `%I`/`%S` (mod_logio's request bytes), `%R`, `%f`, `%{Name}o` and `%L` (the request's log
//! id, given by its first error-log line; `-` if it had none) too. Refused with a clear error:
//! `%n`, `%c`, `%^ti`/`%^to`. Lines go out one `write(2)` each, or through
//! [`super::buffered`] with `BufferedLogs On`, to a file or a piped logger ([`super::piped`]).

use std::fmt;
use std::fs::OpenOptions;
use std::io;
use std::net::IpAddr;
use std::os::fd::OwnedFd;
use std::os::unix::fs::OpenOptionsExt;
use std::sync::Arc;
use std::time::SystemTime;

use super::buffered::BufferedFd;
use super::error_log::write_all_fd;
use crate::config::ServerConfig;

/// Common Log Format (`mod_log_config.c: DEFAULT_LOG_FORMAT`).
pub const COMMON_FORMAT: &str = "%h %l %u %t \"%r\" %>s %b";
/// NCSA extended/combined log format (the Apache manual's `combined`).
pub const COMBINED_FORMAT: &str = "%h %l %u %t \"%r\" %>s %b \"%{Referer}i\" \"%{User-Agent}i\"";

/// What one request tells the access log.
#[derive(Debug, Clone)]
pub struct AccessEntry<'a> {
    pub remote: IpAddr,
    /// When the request started (`%t`; `%T`/`%D` measure from here to the log call).
    pub request_time: SystemTime,
    /// The first line of the request as received, `"-"` if none was read.
    pub request_line: &'a str,
    pub status: u16,
    /// Body bytes sent (no headers).
    pub bytes_sent: u64,
    /// The request's header fields (`%{Name}i`, `%{name}C`); `None` when none were read.
    pub headers: Option<&'a crate::http::headers::Headers>,
    /// `%u`: the user authentication named (`r->user`).
    pub remote_user: Option<&'a str>,
    /// `%{VAR}e`: the request's environment (mod_setenvif, mod_env).
    pub env: Option<&'a crate::modules::setenvif::Env>,
    /// `%{name}n`: the request's notes (mod_deflate's `DeflateFilterNote`).
    pub notes: Option<&'a crate::modules::setenvif::Env>,
    /// `%U` after an internal redirect (mod_dir's index file); `None`: the request line's path.
    pub final_uri: Option<&'a str>,
    /// `%R`: the handler named by `SetHandler` that served it.
    pub handler: Option<&'a str>,
    /// `%f`: the file the request mapped to.
    pub filename: Option<&'a str>,
    /// `%{Name}o`: the response's header fields as sent.
    pub response_headers: &'a [(String, String)],
    /// `%L`: the request's log id, if an error line gave it one.
    pub log_id: Option<&'a str>,
    /// What the connection adds: addresses, counters (`%A`, `%{remote}p`, `%O`, `%k`, `%X`).
    pub conn: ConnFacts,
}

/// The connection's side of a log line.
#[derive(Debug, Clone, Copy, Default)]
pub struct ConnFacts {
    /// `%A`, `%{local}p`.
    pub local: Option<std::net::SocketAddr>,
    /// `%{remote}p`.
    pub remote_port: u16,
    /// `%I` (mod_logio): bytes of this request read from the network (line, headers, body).
    pub bytes_in: u64,
    /// `%O` (mod_logio): bytes of this response handed to the network, head and framing
    /// included; 0 when nothing was sent.
    pub bytes_out: u64,
    /// `%k`: keep-alive requests before this one on the connection (`c->keepalives - 1`).
    pub keepalives: u32,
    /// `%X`: `+` the connection stays open, `-` it closes, `X` it was aborted.
    pub status: char,
}

/// A `LogFormat` the access log cannot render.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogFormatError(pub String);

impl fmt::Display for LogFormatError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for LogFormatError {}

/// One compiled piece of a format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    Literal(String),
    /// `%h`, `%a`
    RemoteHost,
    /// `%l` (identd: always `-`)
    RemoteLogname,
    /// `%u` (no authentication: always `-`)
    RemoteUser,
    /// `%t`
    Time,
    /// `%r`
    RequestLine,
    /// `%s`, `%>s`, `%<s`
    Status,
    /// `%b`
    BytesClf,
    /// `%B`
    Bytes,
    /// `%{Name}i`
    Header(String),
    /// `%T`
    Seconds,
    /// `%D`
    Micros,
    /// `%v`, `%V`
    ServerName,
    /// `%p`
    Port,
    /// `%U`
    UrlPath,
    /// `%q`
    Query,
    /// `%m`
    Method,
    /// `%H`
    Protocol,
    /// `%P`
    Pid,
    /// `%{VAR}e`
    Env(String),
    /// `%{name}n`
    Note(String),
    /// `%{name}C`: one cookie of the `Cookie` header.
    Cookie(String),
    /// `%A`
    LocalIp,
    /// `%{local}p`, `%{remote}p`
    LocalPort,
    RemotePort,
    /// `%O`
    BytesOut,
    /// `%I`
    BytesIn,
    /// `%S` (`%I` + `%O`)
    BytesBoth,
    /// `%R`: the handler that served the request (`-`: the default handler)
    Handler,
    /// `%f`: the file the request mapped to
    Filename,
    /// `%{Name}o`: a response header field
    ResponseHeader(String),
    /// `%L`: the request's log id (`-`: no error line gave it one)
    LogId,
    /// `%k`
    Keepalives,
    /// `%X`
    ConnStatus,
    /// `%{tid}P`, `%{hextid}P`
    Tid {
        hex: bool,
    },
    /// `%{ms}T`, `%{us}T` (`%{s}T` is [`Item::Seconds`])
    Elapsed {
        micros: bool,
    },
    /// `%{[begin:|end:]format}t`: a strftime format or `sec`, `msec`, `usec`, `msec_frac`,
    /// `usec_frac`, at the request's start or at log time.
    TimeFmt {
        format: String,
        end: bool,
    },
    /// `%400,501{…}i`, `%!200,304{…}i`: the item only for (or except for) these statuses, `-`
    /// otherwise.
    Cond {
        negate: bool,
        statuses: Vec<u16>,
        item: Box<Item>,
    },
}

/// Compile a `LogFormat` string (`mod_log_config.c: parse_log_string`).
pub fn compile_format(fmt: &str) -> Result<Vec<Item>, LogFormatError> {
    let mut items = Vec::new();
    let mut lit = String::new();
    let mut chars = fmt.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                // parse_log_misc_string: \n and \t are control characters, \X is X.
                Some('n') => lit.push('\n'),
                Some('t') => lit.push('\t'),
                Some(other) => lit.push(other),
                None => lit.push('\\'),
            },
            '%' => {
                let mut arg = None;
                let mut negate = false;
                let mut statuses: Vec<u16> = Vec::new();
                let mut digits = String::new();
                // Modifiers: '<' and '>' (original/final request), '{arg}', and status
                // conditions `!200,304` (parse_log_item: digits and commas, '!' negates).
                loop {
                    match chars.peek() {
                        Some('<' | '>') => {
                            chars.next();
                        }
                        Some('!') => {
                            chars.next();
                            negate = true;
                        }
                        Some(c @ ('0'..='9' | ',')) => {
                            if *c == ',' {
                                statuses.extend(digits.parse::<u16>().ok());
                                digits.clear();
                            } else {
                                digits.push(*c);
                            }
                            chars.next();
                        }
                        Some('{') => {
                            chars.next();
                            let s: String = chars.by_ref().take_while(|&c| c != '}').collect();
                            arg = Some(s);
                        }
                        _ => break,
                    }
                }
                statuses.extend(digits.parse::<u16>().ok());
                let Some(d) = chars.next() else {
                    return Err(LogFormatError("Unrecognized LogFormat directive %".into()));
                };
                let item = match d {
                    '%' => {
                        lit.push('%');
                        continue;
                    }
                    'h' | 'a' => Item::RemoteHost,
                    'l' => Item::RemoteLogname,
                    'u' => Item::RemoteUser,
                    't' if arg.is_none() => Item::Time,
                    't' => time_item(arg.take().unwrap_or_default())?,
                    'T' if matches!(arg.as_deref(), Some("s")) => Item::Seconds,
                    'T' if matches!(arg.as_deref(), Some("ms" | "us")) => Item::Elapsed {
                        micros: arg.as_deref() == Some("us"),
                    },
                    'C' => Item::Cookie(arg.take().unwrap_or_default()),
                    'A' => Item::LocalIp,
                    'O' => Item::BytesOut,
                    'I' => Item::BytesIn,
                    'S' => Item::BytesBoth,
                    'R' => Item::Handler,
                    'f' => Item::Filename,
                    'o' => Item::ResponseHeader(arg.take().unwrap_or_default()),
                    'L' => Item::LogId,
                    'k' => Item::Keepalives,
                    'X' => Item::ConnStatus,
                    'p' if matches!(arg.as_deref(), Some("local")) => Item::LocalPort,
                    'p' if matches!(arg.as_deref(), Some("remote")) => Item::RemotePort,
                    'P' if matches!(arg.as_deref(), Some("tid" | "hextid")) => Item::Tid {
                        hex: arg.as_deref() == Some("hextid"),
                    },
                    'r' => Item::RequestLine,
                    's' => Item::Status,
                    'b' => Item::BytesClf,
                    'B' => Item::Bytes,
                    'i' => Item::Header(arg.take().unwrap_or_default()),
                    'T' if arg.is_none() => Item::Seconds,
                    'D' => Item::Micros,
                    'v' | 'V' => Item::ServerName,
                    'p' => Item::Port,
                    'U' => Item::UrlPath,
                    'q' => Item::Query,
                    'm' => Item::Method,
                    'H' => Item::Protocol,
                    'P' => Item::Pid,
                    'e' => Item::Env(arg.take().unwrap_or_default()),
                    'n' => Item::Note(arg.take().unwrap_or_default()),
                    other => {
                        return Err(LogFormatError(format!(
                            "Unrecognized LogFormat directive %{other} (mpm-lab supports %h %a %l %u %t %r %s %b %B %{{Header}}i %T %D %v %V %p %U %q %m %H %P %{{VAR}}e %{{note}}n %{{name}}C %A %O %k %X %{{fmt}}t %{{ms|us|s}}T %{{local|remote|canonical}}p %{{pid|tid|hextid}}P %I %S %R %L %f %{{Name}}o; not %^ti %^to %c)"
                        )));
                    }
                };
                let item = if statuses.is_empty() {
                    item
                } else {
                    Item::Cond {
                        negate,
                        statuses,
                        item: Box::new(item),
                    }
                };
                if !lit.is_empty() {
                    items.push(Item::Literal(std::mem::take(&mut lit)));
                }
                items.push(item);
            }
            c => lit.push(c),
        }
    }
    if !lit.is_empty() {
        items.push(Item::Literal(lit));
    }
    Ok(items)
}

/// `%{…}t`: check a strftime format once, at config time (jiff refuses what it cannot print).
fn time_item(arg: String) -> Result<Item, LogFormatError> {
    let (format, end) = match (arg.strip_prefix("begin:"), arg.strip_prefix("end:")) {
        (Some(f), _) => (f.to_string(), false),
        (_, Some(f)) => (f.to_string(), true),
        _ => (arg, false),
    };
    let named = matches!(
        format.as_str(),
        "sec" | "msec" | "usec" | "msec_frac" | "usec_frac"
    );
    if !named {
        let probe = jiff::Timestamp::UNIX_EPOCH.to_zoned(jiff::tz::TimeZone::UTC);
        jiff::fmt::strtime::format(format.as_str(), &probe)
            .map_err(|e| LogFormatError(format!("Unsupported time format %{{{format}}}t: {e}")))?;
    }
    Ok(Item::TimeFmt { format, end })
}

/// Where a log's lines go.
enum Sink {
    /// One `write(2)` per line (the default).
    Direct(OwnedFd),
    /// `BufferedLogs On`: see [`super::buffered`].
    Buffered(Arc<BufferedFd>),
}

/// The access logs of a server (one per `CustomLog`/`TransferLog`; none = nothing logged, as Apache).
#[derive(Clone)]
pub struct AccessLog {
    inner: Arc<Inner>,
}

struct Inner {
    logs: Vec<(Sink, Vec<Item>)>,
    server_name: String,
    port: u16,
    tz: jiff::tz::TimeZone,
}

impl fmt::Debug for AccessLog {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccessLog")
            .field("logs", &self.inner.logs.len())
            .finish()
    }
}

impl AccessLog {
    /// Open every configured log (`O_APPEND|O_CREAT|O_CLOEXEC`, 0644) in the parent, before forking.
    pub fn open(cfg: &ServerConfig) -> io::Result<AccessLog> {
        let mut logs = Vec::new();
        for cl in &cfg.custom_logs {
            let items = compile_format(&cl.format)
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
            let fd = match cl.path.to_str().filter(|p| p.starts_with('|')) {
                // Started by the parent before the children (`piped` step 1).
                Some(target) => super::piped::open(target, true, &cfg.server_root)
                    .map_err(|e| super::piped_error(&e, target, true))?,
                // errno kept for the caller's AH00649 "could not open transfer log file X." message.
                None => OwnedFd::from(
                    OpenOptions::new()
                        .append(true)
                        .create(true)
                        .mode(0o644)
                        .open(&cl.path)?,
                ),
            };
            // BufferedLogs is decided here, once: unbuffered logs keep the lock-free write(2).
            let sink = if cfg.buffered_logs {
                Sink::Buffered(BufferedFd::new(fd))
            } else {
                Sink::Direct(fd)
            };
            logs.push((sink, items));
        }
        Ok(AccessLog {
            inner: Arc::new(Inner::new(cfg, logs)),
        })
    }

    /// An access log that writes nothing.
    pub fn disabled() -> AccessLog {
        AccessLog {
            inner: Arc::new(Inner {
                logs: Vec::new(),
                server_name: String::new(),
                port: 0,
                tz: jiff::tz::TimeZone::UTC,
            }),
        }
    }

    /// Whether a format logs a response header (`%{Name}o`): only then are they collected.
    pub fn wants_response_headers(&self) -> bool {
        self.inner.logs.iter().any(|(_, items)| {
            items.iter().any(|i| match i {
                Item::ResponseHeader(_) => true,
                Item::Cond { item, .. } => matches!(**item, Item::ResponseHeader(_)),
                _ => false,
            })
        })
    }

    /// Whether any log is configured.
    pub fn is_enabled(&self) -> bool {
        !self.inner.logs.is_empty()
    }

    /// Write one line per configured log.
    pub fn log(&self, e: &AccessEntry<'_>) {
        for (sink, items) in &self.inner.logs {
            let mut line = self.inner.render(items, e);
            line.push('\n');
            match sink {
                Sink::Direct(fd) => write_all_fd(fd, line.as_bytes()),
                Sink::Buffered(b) => b.write(line.as_bytes()),
            }
        }
    }

    /// Render `format` for `e` without writing (tests, the simulator).
    pub fn render(
        cfg: &ServerConfig,
        format: &str,
        e: &AccessEntry<'_>,
    ) -> Result<String, LogFormatError> {
        let items = compile_format(format)?;
        Ok(Inner::new(cfg, Vec::new()).render(&items, e))
    }
}

impl Inner {
    fn new(cfg: &ServerConfig, logs: Vec<(Sink, Vec<Item>)>) -> Inner {
        let server_name = cfg.server_name.clone().unwrap_or_else(|| {
            std::fs::read_to_string("/proc/sys/kernel/hostname")
                .map(|h| h.trim().to_string())
                .unwrap_or_else(|_| "localhost".into())
        });
        // %p is the canonical port (log_server_port: `r->server->port`, else
        // `ap_default_port`): ServerName's port, else 80 — not the port Listen uses, as a
        // Debian vhost_combined line shows (`localhost:80` on a server listening on 8080).
        let port = cfg
            .server_name
            .as_deref()
            .and_then(|n| n.rsplit_once(':'))
            .and_then(|(_, p)| p.parse().ok())
            .unwrap_or(80);
        let tz = super::local_tz();
        Inner {
            logs,
            server_name,
            port,
            tz,
        }
    }

    fn render(&self, items: &[Item], e: &AccessEntry<'_>) -> String {
        let mut out = String::with_capacity(128);
        let mut parts = e.request_line.split(' ');
        let method = parts.next().unwrap_or("-");
        let target = parts.next().unwrap_or("");
        let protocol = parts.next().unwrap_or("");
        let (path, query) = match target.split_once('?') {
            Some((p, q)) => (p, Some(q)),
            None => (target, None),
        };
        let line = LineParts {
            method,
            protocol,
            path,
            query,
            now: SystemTime::now(),
        };
        for item in items {
            self.render_item(item, e, &line, &mut out);
        }
        out
    }

    fn render_item(&self, item: &Item, e: &AccessEntry<'_>, l: &LineParts<'_>, out: &mut String) {
        let LineParts {
            method,
            protocol,
            path,
            query,
            now,
        } = *l;
        let elapsed = now.duration_since(e.request_time).unwrap_or_default();
        {
            match item {
                Item::Literal(s) => out.push_str(s),
                Item::RemoteHost => out.push_str(&e.remote.to_string()),
                Item::RemoteLogname => out.push('-'),
                // mod_log_config `log_remote_user`: an empty user shows as `""`.
                Item::RemoteUser => match e.remote_user {
                    None => out.push('-'),
                    Some("") => out.push_str("\"\""),
                    Some(u) => escape_logitem(out, u),
                },
                // log_env_var: unset is "-", the value escaped as a header's.
                Item::Env(name) => match e.env.and_then(|env| env.get(name)) {
                    Some(v) => escape_logitem(out, v),
                    None => out.push('-'),
                },
                // log_note: unset is "-".
                Item::Note(name) => match e.notes.and_then(|n| n.get(name)) {
                    Some(v) => escape_logitem(out, v),
                    None => out.push('-'),
                },
                Item::Time => out.push_str(&self.clf_time(e.request_time)),
                Item::RequestLine => escape_logitem(out, e.request_line),
                Item::Status => out.push_str(&e.status.to_string()),
                Item::BytesClf if e.bytes_sent == 0 => out.push('-'),
                Item::BytesClf | Item::Bytes => out.push_str(&e.bytes_sent.to_string()),
                Item::Header(name) => match e.headers.and_then(|h| h.get(name)) {
                    Some(v) => escape_logitem(out, v),
                    None => out.push('-'),
                },
                Item::Cookie(name) => match e
                    .headers
                    .and_then(|h| h.get("Cookie"))
                    .and_then(|c| cookie(c, name))
                {
                    Some(v) => escape_logitem(out, v),
                    None => out.push('-'),
                },
                Item::LocalIp => match e.conn.local {
                    Some(a) => out.push_str(&a.ip().to_string()),
                    None => out.push('-'),
                },
                Item::LocalPort => match e.conn.local {
                    Some(a) => out.push_str(&a.port().to_string()),
                    None => out.push('-'),
                },
                Item::RemotePort => out.push_str(&e.conn.remote_port.to_string()),
                // mod_logio: `-` when nothing was sent... Apache prints 0 only with LogIOTrackTTFB.
                Item::BytesOut => out.push_str(&e.conn.bytes_out.to_string()),
                Item::BytesIn => out.push_str(&e.conn.bytes_in.to_string()),
                Item::BytesBoth => out.push_str(&(e.conn.bytes_in + e.conn.bytes_out).to_string()),
                Item::Handler | Item::Filename | Item::ResponseHeader(_) => {
                    let v = match item {
                        Item::Handler => e.handler,
                        Item::Filename => e.filename,
                        Item::ResponseHeader(name) => e
                            .response_headers
                            .iter()
                            .find(|(k, _)| k.eq_ignore_ascii_case(name))
                            .map(|(_, v)| v.as_str()),
                        _ => None,
                    };
                    match v {
                        Some(v) => escape_logitem(out, v),
                        None => out.push('-'),
                    }
                }
                Item::LogId => match e.log_id {
                    Some(id) => out.push_str(id),
                    None => out.push('-'),
                },
                Item::Keepalives => out.push_str(&e.conn.keepalives.to_string()),
                Item::ConnStatus => out.push(e.conn.status),
                Item::Tid { hex: false } => out.push_str(&nix::unistd::gettid().to_string()),
                Item::Tid { hex: true } => {
                    out.push_str(&format!("{:x}", nix::unistd::gettid().as_raw()))
                }
                Item::Elapsed { micros: true } => out.push_str(&elapsed.as_micros().to_string()),
                Item::Elapsed { micros: false } => out.push_str(&elapsed.as_millis().to_string()),
                Item::TimeFmt { format, end } => {
                    let t = if *end { now } else { e.request_time };
                    out.push_str(&self.format_time(t, format));
                }
                Item::Cond {
                    negate,
                    statuses,
                    item,
                } => {
                    if statuses.contains(&e.status) != *negate {
                        self.render_item(item, e, l, out);
                    } else {
                        out.push('-');
                    }
                }
                Item::Seconds => out.push_str(&elapsed.as_secs().to_string()),
                Item::Micros => out.push_str(&elapsed.as_micros().to_string()),
                Item::ServerName => out.push_str(&self.server_name),
                Item::Port => out.push_str(&self.port.to_string()),
                Item::UrlPath if e.final_uri.is_some() => {
                    escape_logitem(out, e.final_uri.unwrap_or_default())
                }
                Item::UrlPath if path.is_empty() => out.push('-'),
                Item::UrlPath => escape_logitem(out, path),
                Item::Query => {
                    if let Some(q) = query {
                        out.push('?');
                        escape_logitem(out, q);
                    }
                }
                Item::Method => escape_logitem(out, method),
                Item::Protocol => escape_logitem(out, protocol),
                Item::Pid => out.push_str(&std::process::id().to_string()),
            }
        }
    }

    /// `%{format}t` (`log_request_time_custom`): the named forms, else strftime.
    fn format_time(&self, t: SystemTime, format: &str) -> String {
        let since = t.duration_since(SystemTime::UNIX_EPOCH).unwrap_or_default();
        match format {
            "sec" => since.as_secs().to_string(),
            "msec" => since.as_millis().to_string(),
            "usec" => since.as_micros().to_string(),
            "msec_frac" => format!("{:03}", since.subsec_millis()),
            "usec_frac" => format!("{:06}", since.subsec_micros()),
            _ => {
                let ts = jiff::Timestamp::try_from(t).unwrap_or(jiff::Timestamp::UNIX_EPOCH);
                // The format was checked at config time; "-" if jiff still refuses.
                jiff::fmt::strtime::format(format, &ts.to_zoned(self.tz.clone()))
                    .unwrap_or_else(|_| "-".into())
            }
        }
    }

    /// `[22/Nov/2026:22:12:05 +0000]` in local time.
    fn clf_time(&self, t: SystemTime) -> String {
        let ts = jiff::Timestamp::try_from(t).unwrap_or(jiff::Timestamp::UNIX_EPOCH);
        ts.to_zoned(self.tz.clone())
            .strftime("[%d/%b/%Y:%H:%M:%S %z]")
            .to_string()
    }
}

/// The split request line and the log time, shared by a line's items.
struct LineParts<'a> {
    method: &'a str,
    protocol: &'a str,
    path: &'a str,
    query: Option<&'a str>,
    now: SystemTime,
}

/// `log_cookie`: the value of cookie `name` in a `Cookie` header (`a=1; b=2`).
fn cookie<'a>(header: &'a str, name: &str) -> Option<&'a str> {
    header.split(';').find_map(|pair| {
        let (k, v) = pair.trim().split_once('=')?;
        (k == name).then_some(v)
    })
}

/// `ap_escape_logitem`: `"` and `\` get a backslash, `\n \r \t` and other control bytes and
/// non-ASCII bytes are written as `\n`, `\xhh`.
fn escape_logitem(out: &mut String, s: &str) {
    for b in s.bytes() {
        match b {
            b'"' => out.push_str("\\\""),
            b'\\' => out.push_str("\\\\"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            0x20..=0x7e => out.push(char::from(b)),
            _ => out.push_str(&format!("\\x{b:02x}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;
    use std::time::Duration;

    /// Rule 59's regex, checked by hand (no regex crate): `^\S+ \S+ \S+ \[\d{2}/\w{3}/\d{4}:\d{2}:\d{2}:\d{2} [+-]\d{4}\] "[^"]*" \d{3} (\d+|-)$`
    fn matches_rule_59(line: &str) -> bool {
        let Some((h, rest)) = line.split_once(' ') else {
            return false;
        };
        let Some((l, rest)) = rest.split_once(' ') else {
            return false;
        };
        let Some((u, rest)) = rest.split_once(' ') else {
            return false;
        };
        if [h, l, u]
            .iter()
            .any(|s| s.is_empty() || s.contains(char::is_whitespace))
        {
            return false;
        }
        let b = rest.as_bytes();
        if b.len() < 28 || b[0] != b'[' || b[27] != b']' {
            return false;
        }
        let t = &rest[1..27]; // dd/Mon/yyyy:hh:mm:ss +zzzz
        let tb = t.as_bytes();
        let shape = "00/Aaa/0000:00:00:00 +0000";
        let ok_time = tb.len() == shape.len()
            && shape.bytes().zip(tb).all(|(s, c)| match s {
                b'0' => c.is_ascii_digit(),
                b'A' | b'a' => c.is_ascii_alphanumeric(),
                b'+' => *c == b'+' || *c == b'-',
                other => other == *c,
            });
        if !ok_time {
            return false;
        }
        let rest = &rest[28..];
        let Some(rest) = rest.strip_prefix(" \"") else {
            return false;
        };
        let Some(end) = rest.find('"') else {
            return false;
        };
        let rest = &rest[end + 1..];
        let Some(rest) = rest.strip_prefix(' ') else {
            return false;
        };
        let Some((status, bytes)) = rest.split_once(' ') else {
            return false;
        };
        status.len() == 3
            && status.bytes().all(|c| c.is_ascii_digit())
            && (bytes == "-" || (!bytes.is_empty() && bytes.bytes().all(|c| c.is_ascii_digit())))
    }

    fn entry<'a>(line: &'a str, status: u16, bytes: u64) -> AccessEntry<'a> {
        AccessEntry {
            remote: "127.0.0.1".parse().unwrap(),
            request_time: SystemTime::UNIX_EPOCH + Duration::from_secs(1_795_385_525),
            request_line: line,
            status,
            bytes_sent: bytes,
            headers: Some(test_headers()),
            final_uri: None,
            handler: None,
            filename: None,
            response_headers: &[],
            log_id: None,
            remote_user: None,
            env: None,
            notes: None,
            conn: ConnFacts {
                local: Some("127.0.0.2:8080".parse().unwrap()),
                remote_port: 50_000,
                bytes_in: 80,
                bytes_out: 250,
                keepalives: 3,
                status: '+',
            },
        }
    }

    /// Referer with a quote and a Cookie header, made once for the whole test run.
    fn test_headers() -> &'static crate::http::headers::Headers {
        static H: std::sync::OnceLock<crate::http::headers::Headers> = std::sync::OnceLock::new();
        H.get_or_init(|| {
            let mut h = crate::http::headers::Headers::default();
            h.add("Referer", "http://x/\"q\"");
            h.add("Cookie", "a=1; session=xyz; b=2");
            h
        })
    }

    #[test]
    fn log_config_every_new_format_code() {
        let cfg = ServerConfig::with_defaults(Path::new("/"));
        let render = |f: &str, status: u16| {
            AccessLog::render(&cfg, f, &entry("GET /a?b HTTP/1.1", status, 6)).unwrap()
        };
        assert_eq!(
            render(
                "%A %{local}p %{remote}p %O %I %S %k %X %{session}C %{nope}C %R %f %L",
                200
            ),
            "127.0.0.2 8080 50000 250 80 330 3 + xyz - - - -"
        );
        assert_eq!(render("%400,501{Referer}i|%!200,304{Referer}i", 200), "-|-");
        let mut with_id = entry("GET / HTTP/1.1", 404, 0);
        with_id.log_id = Some("AbCdEfGhIjK");
        assert_eq!(
            AccessLog::render(&cfg, "%L", &with_id).unwrap(),
            "AbCdEfGhIjK"
        );
        assert_eq!(render("%400,501{Referer}i", 501), "http://x/\\\"q\\\"");
        assert_eq!(
            render("%{sec}t %{msec_frac}t %{%Y-%m}t", 200),
            "1795385525 000 2026-11"
        );
        assert_eq!(render("%{begin:usec_frac}t", 200), "000000");
        let tid = render("%{tid}P", 200);
        assert!(tid.parse::<u32>().is_ok(), "{tid}");
        assert!(
            render("%{ms}T %{us}T %{s}T", 200)
                .split(' ')
                .all(|n| n.parse::<u64>().is_ok())
        );
        // %{name}n: the request's notes (mod_deflate's DeflateFilterNote), "-" when unset.
        assert_eq!(render("%{ratio}n", 200), "-");
        for refused in ["%^ti", "%c", "%{%@}t"] {
            assert!(compile_format(refused).is_err(), "{refused}");
        }
        // Debian's stock LogFormats (apache2.conf) compile.
        for f in [
            "%v:%p %h %l %u %t \"%r\" %>s %O \"%{Referer}i\" \"%{User-Agent}i\"",
            "%h %l %u %t \"%r\" %>s %O \"%{Referer}i\" \"%{User-Agent}i\"",
            "%h %l %u %t \"%r\" %>s %O",
            "%{Referer}i -> %U",
            "%{User-agent}i",
        ] {
            assert!(compile_format(f).is_ok(), "{f}");
        }
    }

    #[test]
    fn rule_59_common_log_format_and_dash_for_zero_bytes() {
        let cfg = ServerConfig::with_defaults(Path::new("/"));
        let l = AccessLog::render(&cfg, COMMON_FORMAT, &entry("GET / HTTP/1.1", 200, 6)).unwrap();
        assert!(matches_rule_59(&l), "{l}");
        assert!(l.starts_with("127.0.0.1 - - ["), "{l}");
        assert!(l.ends_with("] \"GET / HTTP/1.1\" 200 6"), "{l}");
        let l = AccessLog::render(&cfg, COMMON_FORMAT, &entry("-", 408, 0)).unwrap();
        assert!(l.ends_with("\"-\" 408 -"), "{l}");
        assert!(matches_rule_59(&l), "{l}");
        let l =
            AccessLog::render(&cfg, COMMON_FORMAT, &entry("OPTIONS * HTTP/1.0", 200, 0)).unwrap();
        assert!(l.ends_with("\"OPTIONS * HTTP/1.0\" 200 -"), "{l}");
    }

    #[test]
    fn rule_59_combined_escapes_quotes_and_dash_for_missing_headers() {
        let cfg = ServerConfig::with_defaults(Path::new("/"));
        let l = AccessLog::render(&cfg, COMBINED_FORMAT, &entry("GET /a\"b HTTP/1.1", 404, 10))
            .unwrap();
        assert!(
            l.contains("\"GET /a\\\"b HTTP/1.1\" 404 10 \"http://x/\\\"q\\\"\" \"-\""),
            "{l}"
        );
    }

    #[test]
    fn config_log_format_items_render() {
        let mut cfg = ServerConfig::with_defaults(Path::new("/"));
        cfg.server_name = Some("lab.example:8081".into());
        let l = AccessLog::render(
            &cfg,
            "%v %p %m %U%q %H %B %>s %% %T",
            &entry("GET /x/y?z=1 HTTP/1.0", 200, 0),
        )
        .unwrap();
        assert!(
            l.starts_with("lab.example:8081 8081 GET /x/y?z=1 HTTP/1.0 0 200 % "),
            "{l}"
        );
        assert!(
            compile_format("%Z")
                .unwrap_err()
                .0
                .starts_with("Unrecognized LogFormat directive %Z")
        );
        assert_eq!(
            compile_format("a\\tb").unwrap(),
            vec![Item::Literal("a\tb".into())]
        );
    }

    #[test]
    fn rule_59_access_log_file_one_line_per_request() {
        let dir = std::env::temp_dir().join(format!("mpm-lab-acclog-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut cfg = ServerConfig::with_defaults(&dir);
        let path = dir.join("access_log");
        let _ = std::fs::remove_file(&path);
        cfg.custom_logs.push(crate::config::CustomLog {
            path: path.clone(),
            format: COMMON_FORMAT.into(),
        });
        let log = AccessLog::open(&cfg).unwrap();
        log.log(&entry("GET / HTTP/1.1", 200, 1024));
        log.log(&entry("GET /nope HTTP/1.1", 404, 0));
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.lines().count(), 2);
        assert!(text.lines().all(matches_rule_59), "{text}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
