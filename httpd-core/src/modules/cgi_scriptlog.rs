//! ScriptLog, the CGI debugging log (Apache `modules/generators/cgi_common.h: log_scripterror`
//! and `mod_cgi.c: log_script`, which mod_cgid shares).
//!
//! Two kinds of entry, both opening with the request and the status:
//!
//! ```text
//! %% [Fri Dec 04 10:13:09 2026] GET /cgi-bin/bad.cgi?a=1 HTTP/1.1
//! %% 500 /usr/lib/cgi-bin/bad.cgi
//! ```
//!
//! - [`error`] (`log_scripterror`): one `%error` section. Every stderr line of a script is one
//!   (with the status of the request at that moment, 200 until a status is known), and so are
//!   the handler's refusals (AH02809, AH02811, AH02812) and mod_cgid's unreachable daemon.
//! - [`dump`] (`log_script`): when the header block fails (malformed, ended early, timed out)
//!   the request's header fields, the first `ScriptLogBuffer` bytes of a POST or PUT body, the
//!   offending line, the rest of the script's stdout and what is left on its stderr.
//!
//! Nothing is written when ScriptLog is off, when the file is longer than `ScriptLogLength`
//! (checked before each entry, as Apache's `apr_stat`), or when it cannot be opened. Not
//! reproduced: the `err_headers_out` fields of the `%response` section (the handler has set
//! none when the header block fails).

use std::fs::File;
use std::io::Write;
use std::path::Path;

use super::cgi_script::CgiConfig;
use crate::http::handler::Exchange;

/// What an entry says of the request (`r->method`, `r->uri`, `r->args`, `r->protocol`,
/// `r->filename`, `r->headers_in`). Built only when ScriptLog is on.
#[derive(Debug, Clone)]
pub struct LogRequest {
    method: String,
    uri: String,
    args: Option<String>,
    protocol: String,
    filename: String,
    headers: Vec<(String, String)>,
}

impl LogRequest {
    /// The request of `x`, whose decoded path is `uri`, running `file`.
    pub fn of(x: &Exchange<'_>, uri: &str, file: &Path) -> LogRequest {
        let protocol = match x.req.line.version {
            crate::http::request_line::Version::Http09 => "HTTP/0.9".to_string(),
            crate::http::request_line::Version::Http(a, b) => format!("HTTP/{a}.{b}"),
        };
        LogRequest {
            method: x.req.line.method.clone(),
            uri: uri.to_string(),
            args: x.req.line.query.clone(),
            protocol,
            filename: file.display().to_string(),
            headers: x
                .req
                .headers
                .iter()
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect(),
        }
    }

    /// `log_script` shows the body only for these (`M_POST`, `M_PUT`).
    pub fn has_logged_body(&self) -> bool {
        self.method == "POST" || self.method == "PUT"
    }
}

/// The file, opened for one entry, or `None` (see the module doc).
fn open(cfg: &CgiConfig) -> Option<File> {
    let path = cfg.script_log.as_ref()?;
    if std::fs::metadata(path).is_ok_and(|m| m.len() > cfg.script_log_length) {
        return None;
    }
    std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(path)
        .ok()
}

/// The two opening lines (`apr_ctime`: local time, no fraction).
fn head(out: &mut Vec<u8>, req: &LogRequest, status: u16) {
    let now = jiff::Zoned::now().strftime("%a %b %d %H:%M:%S %Y");
    let args = req
        .args
        .as_deref()
        .map(|a| format!("?{a}"))
        .unwrap_or_default();
    let _ = write!(
        out,
        "%% [{now}] {} {}{args} {}\n%% {status} {}\n",
        req.method, req.uri, req.protocol, req.filename
    );
}

/// `log_scripterror`'s entry: `%error` and the text (without its AH code).
pub fn error(cfg: &CgiConfig, req: &LogRequest, status: u16, text: &str) {
    let Some(mut f) = open(cfg) else { return };
    let mut out = Vec::new();
    head(&mut out, req, status);
    let _ = write!(out, "%error\n{text}\n");
    let _ = f.write_all(&out);
}

/// What `log_script` records of a failed header block.
pub struct Dump<'a> {
    /// The status the failure gives (500, or 504 for a timeout).
    pub status: u16,
    /// The first `ScriptLogBuffer` bytes of the request body.
    pub body: &'a [u8],
    /// The line the header scanner stopped at (`sbuf`), empty when there was none.
    pub line: &'a str,
    /// The rest of stdout, as it was read: each piece is followed by a newline.
    pub stdout: &'a [Vec<u8>],
    /// What the script left on stderr.
    pub stderr: &'a [u8],
}

/// `log_script`'s entry (see the module doc).
pub fn dump(cfg: &CgiConfig, req: &LogRequest, d: &Dump<'_>) {
    let Some(mut f) = open(cfg) else { return };
    let mut out = Vec::new();
    head(&mut out, req, d.status);
    out.extend_from_slice(b"%request\n");
    for (n, v) in &req.headers {
        let _ = writeln!(out, "{n}: {v}");
    }
    if req.has_logged_body() && !d.body.is_empty() {
        out.push(b'\n');
        out.extend_from_slice(d.body);
        out.push(b'\n');
    }
    out.extend_from_slice(b"%response\n");
    if !d.line.is_empty() {
        let _ = writeln!(out, "{}", d.line);
    }
    for (i, piece) in d.stdout.iter().filter(|p| !p.is_empty()).enumerate() {
        if i == 0 {
            out.extend_from_slice(b"%stdout\n");
        }
        out.extend_from_slice(piece);
        out.push(b'\n');
    }
    if !d.stderr.is_empty() {
        out.extend_from_slice(b"%stderr\n");
        out.extend_from_slice(d.stderr);
        out.push(b'\n');
    }
    let _ = f.write_all(&out);
}
