//! What mod_cgi and mod_cgid share: the checks before a script runs, its CGI/1.1 environment
//! (RFC 3875; Apache `server/util_script.c: ap_add_common_vars, ap_add_cgi_vars`), feeding it
//! the request body, reading its output within `Timeout`, and turning its header block into a
//! response (`ap_scan_script_header_err_brigade`, `modules/generators/cgi_common.h`).
//!
//! The `cgi-script` handler, step by step (`cgi_handler`):
//! 1. `Options ExecCGI` must be on, unless a `ScriptAlias` mapped the URL (403, AH02809);
//!    a missing file is a 404 (AH02811), a directory a 403 (AH02812).
//! 2. The script starts with the environment below, as the configured User/Group: by the
//!    prefork child itself ([`super::cgi`]) or by the cgid daemon ([`super::cgid`]); failure is
//!    a 500 (AH01223). It runs in its own process group, so a kill reaches what it started.
//! 3. The request body is streamed to its stdin as it arrives (Content-Length or chunked),
//!    then stdin is closed. A script that stops reading loses the rest (it is discarded).
//! 4. Its stdout is read up to the end of the header block, each wait bounded by `Timeout`
//!    (`CGIDScriptTimeout` for cgid); with mod_cgi stderr lines go to the error log as
//!    `AH01215: stderr from FILE: line` (and to ScriptLog) as they come
//!    ([`super::cgi_bucket`]); a mod_cgid script writes its stderr into the error log itself
//!    (see [`super::cgid`]). A wait that expires
//!    kills the process group (SIGKILL): before the header block the client gets a 504
//!    (`Script timed out before returning headers`; mod_cgi warns AH01220 first).
//! 5. The header block (up to the empty line) becomes the response: `Status:` sets the status,
//!    `Location:` with a local path and no `Status:` is an internal redirect (a GET of that path,
//!    `REDIRECT_STATUS=200` in the new environment), an absolute URL a 302; `Content-Type` and
//!    every other field pass through, the script's `Content-Length` does not (Apache lets the
//!    core decide the framing). No empty line at all is a 500 (`End of script output before
//!    headers`).
//! 6. The body is streamed ([`crate::http::streamed`]): if the script has ended by the time
//!    what it wrote is taken without waiting, the response has a Content-Length; otherwise it
//!    goes out chunked (HTTP/1.1) or ended by the close (HTTP/1.0), each piece as soon as the
//!    script pauses. A wait beyond Timeout kills the script and ends the response without its
//!    last chunk. An `nph-` script's output is passed to the client untouched: no header
//!    parsing, no head of ours, and the connection closes after it.
//!
//! What this leaves out: `ScriptLog` records the stderr lines and failures but not the request
//! and response dumps Apache adds.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::config::mpm::atoi;
use crate::http::handler::Exchange;
use crate::http::response::{Chunk, Response};
use crate::log::Level;

/// mod_cgi's settings (`cgi_server_conf`, plus cgid's socket and timeout).
#[derive(Debug, Clone, Default)]
pub struct CgiConfig {
    /// `ScriptLog` (absolute), `None` when off.
    pub script_log: Option<PathBuf>,
    /// `ScriptLogLength` (default 10385760, `DEFAULT_LOGBYTES`).
    pub script_log_length: u64,
    /// `ScriptLogBuffer` (default 1024, `DEFAULT_BUFBYTES`): how much of a POST or PUT body
    /// ScriptLog records when the script's header block fails.
    pub script_log_buffer: u64,
    /// `ScriptSock` as written (default `cgisock`, under DefaultRuntimeDir, `.PID` appended).
    pub script_sock: Option<String>,
    /// `CGIDScriptTimeout`: 0 means `Timeout`.
    pub cgid_timeout: Duration,
}

/// What a launcher needs to start a script (`ap_os_create_privileged_process`' arguments).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptCommand {
    pub program: PathBuf,
    pub argv: Vec<String>,
    pub env: Vec<(String, String)>,
    /// The script's directory (Apache `chdir`s there).
    pub dir: PathBuf,
}

/// A running script: its process group and its three pipes.
pub struct Script {
    /// The script's pid, which is also its process group.
    pub pid: i32,
    pub stdin: Option<File>,
    pub stdout: File,
    pub stderr: File,
    /// mod_cgi: the child we must reap. cgid scripts are reaped by the daemon.
    pub child: Option<std::process::Child>,
}

/// Step 1's outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// 403, AH02809.
    ExecCgiOff,
    /// 404, AH02811.
    NotFound,
    /// 403, AH02812.
    Directory,
}

/// Step 1: may `file` run as a script?
pub fn check(file: &Path, exec_cgi: bool, script_aliased: bool) -> Result<(), Refusal> {
    if !exec_cgi && !script_aliased {
        return Err(Refusal::ExecCgiOff);
    }
    match std::fs::metadata(file) {
        Err(_) => Err(Refusal::NotFound),
        Ok(m) if m.is_dir() => Err(Refusal::Directory),
        Ok(_) => Ok(()),
    }
}

/// `ap_find_path_info` for a script: the longest leading part of `path` that exists and is
/// not a directory is the script, the rest is PATH_INFO.
pub fn split_path_info(path: &Path) -> (PathBuf, String) {
    let mut file = path.to_path_buf();
    let mut info = String::new();
    while std::fs::metadata(&file).is_err() {
        let (Some(parent), Some(name)) = (file.parent(), file.file_name()) else {
            return (path.to_path_buf(), String::new());
        };
        info = format!("/{}{info}", name.to_string_lossy());
        file = parent.to_path_buf();
    }
    if std::fs::metadata(&file).is_ok_and(|m| m.is_dir()) && !info.is_empty() {
        return (path.to_path_buf(), String::new());
    }
    (file, info)
}

/// The per-request values of the environment, gathered by the handler.
pub struct EnvInput<'a> {
    pub script_name: &'a str,
    pub path_info: &'a str,
    pub filename: &'a Path,
    pub document_root: &'a Path,
    /// The alias the URL went through (`ap_set_context_info`): URL prefix and target.
    pub context: Option<&'a (String, String)>,
    pub redirect_status: Option<u16>,
}

/// `ap_add_common_vars` + `ap_add_cgi_vars` (RFC 3875 section 4.1).
pub fn environment(x: &Exchange<'_>, i: &EnvInput<'_>) -> Vec<(String, String)> {
    let cfg = &x.server.inner.config;
    let req = x.req;
    let mut env: Vec<(String, String)> = Vec::new();
    for (n, v) in req.headers.iter() {
        let key = match n.to_ascii_lowercase().as_str() {
            "content-type" => "CONTENT_TYPE".to_string(),
            "content-length" => "CONTENT_LENGTH".to_string(),
            // Never the credentials (SECURITY_HOLE_PASS_AUTHORIZATION is off).
            "authorization" | "proxy-authorization" => continue,
            _ => format!("HTTP_{}", n.to_ascii_uppercase().replace('-', "_")),
        };
        if !key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
            continue;
        }
        match env.iter_mut().find(|(k, _)| *k == key) {
            Some((_, old)) => *old = format!("{old}, {v}"),
            None => env.push((key, v.to_string())),
        }
    }
    let path = std::env::var("PATH")
        .unwrap_or_else(|_| "/bin:/usr/bin:/usr/ucb:/usr/bsd:/usr/local/bin".into());
    let host = req
        .headers
        .get("Host")
        .map(|h| h.split(':').next().unwrap_or("").to_string());
    let server_name = host
        .filter(|h| !h.is_empty())
        .or_else(|| cfg.server_name.clone())
        .unwrap_or_else(|| x.local.ip().to_string());
    let protocol = match req.line.version {
        crate::http::request_line::Version::Http09 => "HTTP/0.9".to_string(),
        crate::http::request_line::Version::Http(a, b) => format!("HTTP/{a}.{b}"),
    };
    let mut put = |k: &str, v: String| env.push((k.to_string(), v));
    put("PATH", path);
    put("SERVER_SIGNATURE", String::new());
    put("SERVER_SOFTWARE", crate::SERVER_VERSION.to_string());
    put("SERVER_NAME", server_name);
    put("SERVER_ADDR", x.local.ip().to_string());
    put("SERVER_PORT", x.local.port().to_string());
    put("REMOTE_ADDR", x.peer.ip().to_string());
    put("DOCUMENT_ROOT", i.document_root.display().to_string());
    put("REQUEST_SCHEME", "http".into());
    let (prefix, context_root) = match i.context {
        Some((p, r)) => (p.clone(), r.clone()),
        None => (String::new(), i.document_root.display().to_string()),
    };
    put("CONTEXT_PREFIX", prefix);
    put("CONTEXT_DOCUMENT_ROOT", context_root);
    put(
        "SERVER_ADMIN",
        cfg.server_admin
            .clone()
            .unwrap_or_else(|| "[no address given]".into()),
    );
    put("SCRIPT_FILENAME", i.filename.display().to_string());
    put("REMOTE_PORT", x.peer.port().to_string());
    if let Some(s) = i.redirect_status {
        put("REDIRECT_STATUS", s.to_string());
    }
    put("GATEWAY_INTERFACE", "CGI/1.1".into());
    put("SERVER_PROTOCOL", protocol);
    put("REQUEST_METHOD", req.line.method.clone());
    put("QUERY_STRING", req.line.query.clone().unwrap_or_default());
    put("REQUEST_URI", req.line.target.clone());
    put("SCRIPT_NAME", i.script_name.to_string());
    if !i.path_info.is_empty() {
        put("PATH_INFO", i.path_info.to_string());
        let translated = i.document_root.join(i.path_info.trim_start_matches('/'));
        put("PATH_TRANSLATED", translated.display().to_string());
    }
    env
}

/// mod_cgi's argv: the script, then the query's `+`-separated words when it has no `=`
/// (the ISINDEX convention, RFC 3875 section 4.4).
pub fn argv(program: &Path, query: Option<&str>) -> Vec<String> {
    let mut v = vec![program.display().to_string()];
    if let Some(q) = query.filter(|q| !q.is_empty() && !q.contains('=')) {
        v.extend(q.split('+').map(|w| {
            crate::http::static_files::unescape_path(w)
                .map(|b| String::from_utf8_lossy(&b).into_owned())
                .unwrap_or_else(|_| w.to_string())
        }));
    }
    v
}

/// Step 5's result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parsed {
    /// A response to send.
    Answer(Answer),
    /// `Location: /local` without `Status:`: serve this path instead (GET).
    LocalRedirect(String),
    /// The header block failed: 500.
    Malformed(Malformed),
}

/// What a script's header block says, read as `ap_scan_script_header_err_core_ex` reads it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Answer {
    pub status: u16,
    /// The reason phrase of a valid `Status: NNN reason` (`r->status_line`), sent instead of
    /// the standard one.
    pub reason: Option<String>,
    /// The script sent a `Status:` (`cgi_status` set): then no precondition is evaluated.
    pub status_set: bool,
    /// Fields in Apache's order: the others merged by name (`1, 2`), then `Set-Cookie` one by
    /// one (`err_headers_out`), then `Location` (`headers_out`).
    pub headers: Vec<(String, String)>,
    pub content_type: Option<String>,
    /// A valid `Last-Modified` (`ap_update_mtime`); sent re-formatted, never later than the
    /// request.
    pub last_modified: Option<std::time::SystemTime>,
    pub body: Vec<u8>,
}

impl Answer {
    /// The script's `ETag`, if it sent one.
    pub fn etag(&self) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case("ETag"))
            .map(|(_, v)| v.as_str())
    }
}

/// `ap_content_type_tolower`: the media type lowercased up to the parameters.
fn content_type_tolower(v: &str) -> String {
    match v.split_once(';') {
        Some((t, rest)) => format!("{};{rest}", t.to_ascii_lowercase()),
        None => v.to_ascii_lowercase(),
    }
}

/// `validate_status_line`: `NNN` alone gives the standard phrase, `NNN reason` its own.
fn status_reason(line: &str, status: u16) -> Option<String> {
    let digits = line.get(..3)?;
    (digits.bytes().all(|b| b.is_ascii_digit())
        && digits.parse::<u16>().ok() == Some(status)
        && line.as_bytes().get(3).is_some_and(u8::is_ascii_whitespace))
    .then(|| line[4..].to_string())
}

/// A failed header block (`ap_scan_script_header_err_core_ex` returning 500).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Malformed {
    /// The error-log message.
    pub log: String,
    /// The line the scan stopped at (ScriptLog's `sbuf`): the bad header, or a last line the
    /// output ended in without its newline; empty when there is none.
    pub line: String,
    /// Where the output after that line starts (the rest is ScriptLog's `%stdout`).
    pub rest_at: usize,
}

/// Step 5: parse `out` (the script's output up to and including its header block, or all of
/// it) line by line as `ap_scan_script_header_err_core_ex` does. `name` is the script's file
/// name. An invalid `Status:` (outside 100–599, read as `atoi` reads it) is logged through
/// `invalid_status` and answered 500 with the script's fields and body, as Apache does.
pub fn parse_output(out: &[u8], name: &str, log: &mut dyn FnMut(Level, &str)) -> Parsed {
    let mut a = Answer::default();
    let mut status = None;
    let mut location = None;
    let mut cookies = Vec::new();
    let mut pos = 0;
    let mut first_header = true;
    let body_start = loop {
        let Some(nl) = out[pos..].iter().position(|&b| b == b'\n') else {
            let msg = if first_header {
                "End of script output before headers"
            } else {
                "Premature end of script headers"
            };
            return Parsed::Malformed(Malformed {
                log: format!("{msg}: {name}"),
                line: String::from_utf8_lossy(&out[pos..]).into_owned(),
                rest_at: out.len(),
            });
        };
        let next = pos + nl + 1;
        let raw = &out[pos..pos + nl];
        let line = String::from_utf8_lossy(raw.strip_suffix(b"\r").unwrap_or(raw)).into_owned();
        if line.is_empty() {
            break next;
        }
        let Some((n, v)) = line.split_once(':') else {
            let bad: String = line.chars().take(30).collect();
            return Parsed::Malformed(Malformed {
                log: format!("malformed header from script '{name}': Bad header: {bad}"),
                line,
                rest_at: next,
            });
        };
        // Only leading blanks go: the rest of the value is kept as the script wrote it.
        let v = v.trim_start().to_string();
        match n.to_ascii_lowercase().as_str() {
            "status" => {
                let code = atoi(&v);
                if (100..600).contains(&code) {
                    status = Some(code as u16);
                    a.reason = status_reason(&v, code as u16);
                } else {
                    let bad: String = v.chars().take(30).collect();
                    log(
                        Level::Error,
                        &format!("Invalid status line from script '{name}': {bad}"),
                    );
                    status = Some(500);
                }
                a.status_set = true;
            }
            "location" => location = Some(v),
            "content-type" => a.content_type = Some(content_type_tolower(v.trim_end())),
            "last-modified" => match httpdate::parse_http_date(&v) {
                Ok(t) => a.last_modified = Some(t),
                Err(_) => log(
                    Level::Info,
                    &format!("AH10247: Ignored invalid header value: Last-Modified: '{v}'"),
                ),
            },
            "set-cookie" => cookies.push((n.to_string(), v)),
            // Framing is ours to decide.
            "content-length" | "transfer-encoding" | "connection" | "date" | "server" => {}
            _ => match a
                .headers
                .iter_mut()
                .find(|(h, _)| h.eq_ignore_ascii_case(n))
            {
                Some(h) => h.1 = format!("{}, {v}", h.1),
                None => a.headers.push((n.to_string(), v)),
            },
        }
        first_header = false;
        pos = next;
    };
    a.headers.extend(cookies);
    if let Some(loc) = location {
        if status.is_none() && loc.starts_with('/') {
            return Parsed::LocalRedirect(loc);
        }
        a.status = status.unwrap_or(302);
        a.headers.push(("Location".into(), loc));
    } else {
        a.status = status.unwrap_or(200);
    }
    a.body = out[body_start..].to_vec();
    Parsed::Answer(a)
}

/// Kill a script's whole process group (step 4, timeout).
pub fn kill_script(pid: i32) {
    let _ = nix::sys::signal::killpg(
        nix::unistd::Pid::from_raw(pid),
        nix::sys::signal::Signal::SIGKILL,
    );
}

/// Build the final response from step 5 (the local redirect is handled by the caller).
pub fn into_response(x: &Exchange<'_>, parsed: Parsed, timed_out: bool) -> Response {
    match parsed {
        Parsed::Answer(a) => {
            let mut r = Response::new(a.status);
            r.reason = a.reason;
            r.script_headers = a.headers;
            if let Some(t) = a.last_modified {
                // `ap_set_last_modified` after `ap_rationalize_mtime`.
                r.script_headers.push((
                    "Last-Modified".into(),
                    httpdate::fmt_http_date(t.min(x.req.time)),
                ));
            }
            r.content_type = a.content_type;
            // A HEAD gets no body, hence no Content-Length either (Apache's content-length
            // filter sees no bytes of a CGI answer to a HEAD).
            if !a.body.is_empty() && !x.req.is_head() {
                r.body.push(Chunk::Bytes(a.body));
            }
            r.close = timed_out;
            // The output came through a pipe: output filters never saw it whole.
            r.streamed = true;
            r
        }
        Parsed::LocalRedirect(_) | Parsed::Malformed(_) => x.error(500, None),
    }
}

/// A refusal's status, AH code and text (`log_scripterror` logs `CODE: stderr from FILE:
/// TEXT` and gives ScriptLog the text).
pub fn refusal(r: &Refusal) -> (u16, &'static str, &'static str) {
    match r {
        Refusal::ExecCgiOff => (403, "AH02809", "Options ExecCGI is off in this directory"),
        Refusal::NotFound => (404, "AH02811", "script not found or unable to stat"),
        Refusal::Directory => (403, "AH02812", "attempt to invoke directory as script"),
    }
}

/// Log at error level for module `module` with the client's address.
pub fn log(x: &Exchange<'_>, module: &str, level: Level, msg: &str) {
    let log = &x.server.inner.error_log;
    if log.enabled(module, level) {
        log.log_client(module, level, x.peer, format_args!("{msg}"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `parse_output` with nothing logged.
    fn parse(out: &[u8], name: &str) -> Parsed {
        parse_output(out, name, &mut |_, m| panic!("unexpected: {m}"))
    }

    fn answer(p: Parsed) -> Answer {
        match p {
            Parsed::Answer(a) => a,
            other => panic!("{other:?}"),
        }
    }

    fn malformed(log: &str, line: &str, rest_at: usize) -> Parsed {
        Parsed::Malformed(Malformed {
            log: log.into(),
            line: line.into(),
            rest_at,
        })
    }

    fn fields(v: &[(&str, &str)]) -> Vec<(String, String)> {
        v.iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn header_block_status_location_and_errors() {
        let a = answer(parse(
            b"Status: 201 Created\nX-A: 1\nContent-Type: text/plain\n\nhi",
            "s",
        ));
        assert_eq!((a.status, a.reason.as_deref()), (201, Some("Created")));
        assert_eq!(a.headers, fields(&[("X-A", "1")]));
        assert_eq!(a.content_type.as_deref(), Some("text/plain"));
        assert_eq!(a.body, b"hi");
        assert!(a.status_set);
        assert_eq!(
            parse(b"Location: /x\r\n\r\n", "s"),
            Parsed::LocalRedirect("/x".into())
        );
        let a = answer(parse(b"Location: http://e/\n\n", "s"));
        assert_eq!(a.status, 302);
        assert!(!a.status_set);
    }

    /// As Apache 2.4.71 answers (compared side by side): fields of one name merged, cookies
    /// kept apart, values kept with their trailing blanks, the media type lowercased, a
    /// reason phrase of the script's own, an invalid Last-Modified dropped.
    #[test]
    fn fields_are_read_as_apache_reads_them() {
        let mut said = Vec::new();
        let p = parse_output(
            b"Set-Cookie: a=1\nX-Dup: 1\nset-cookie: b=2\nx-dup: 2\nX-Sp:    lots   \nContent-Type: Text/HTML; Charset=UTF-8  \nStatus: 404 Gone Fishing\nLast-Modified: garbage\n\n",
            "s",
            &mut |l, m| said.push((l, m.to_string())),
        );
        let a = answer(p);
        assert_eq!(
            a.headers,
            fields(&[
                ("X-Dup", "1, 2"),
                ("X-Sp", "lots   "),
                ("Set-Cookie", "a=1"),
                ("set-cookie", "b=2")
            ])
        );
        assert_eq!(a.content_type.as_deref(), Some("text/html; Charset=UTF-8"));
        assert_eq!((a.status, a.reason.as_deref()), (404, Some("Gone Fishing")));
        assert_eq!(a.last_modified, None);
        assert_eq!(
            said,
            [(
                Level::Info,
                "AH10247: Ignored invalid header value: Last-Modified: 'garbage'".to_string()
            )]
        );
        let a = answer(parse(
            b"Status: 404\nLast-Modified: Tue, 01 Dec 2026 10:00:00 GMT\n\n",
            "s",
        ));
        assert_eq!((a.status, a.reason), (404, None));
        assert_eq!(
            a.last_modified,
            Some(httpdate::parse_http_date("Tue, 01 Dec 2026 10:00:00 GMT").unwrap())
        );
    }

    /// The failures as Apache 2.4.71 logs them (checked side by side, ScriptLog included): a
    /// line the output ends in without its newline is not a header yet.
    #[test]
    fn failed_header_blocks_say_what_apache_says() {
        assert_eq!(
            parse(b"oops", "s.cgi"),
            malformed("End of script output before headers: s.cgi", "oops", 4)
        );
        assert_eq!(
            parse(b"", "s.cgi"),
            malformed("End of script output before headers: s.cgi", "", 0)
        );
        assert_eq!(
            parse(b"X-A: 1\n", "s.cgi"),
            malformed("Premature end of script headers: s.cgi", "", 7)
        );
        assert_eq!(
            parse(b"oops\n\nbody text\n", "s.cgi"),
            malformed(
                "malformed header from script 's.cgi': Bad header: oops",
                "oops",
                5
            )
        );
        let long = format!("{}\n\n", "x".repeat(40));
        assert_eq!(
            parse(long.as_bytes(), "s.cgi"),
            malformed(
                &format!(
                    "malformed header from script 's.cgi': Bad header: {}",
                    "x".repeat(30)
                ),
                &"x".repeat(40),
                41
            )
        );
    }

    /// `Status:` is read with `atoi`; one outside 100–599 is logged and answered 500 with the
    /// script's own body.
    #[test]
    fn invalid_status_is_logged_and_answered_500() {
        let mut said = Vec::new();
        let a = answer(parse_output(
            b"Status: 99\nX-A: 1\n\nbody",
            "s.cgi",
            &mut |l, m| said.push((l, m.to_string())),
        ));
        assert_eq!((a.status, a.body.as_slice()), (500, &b"body"[..]));
        assert_eq!(a.headers, fields(&[("X-A", "1")]));
        assert_eq!(
            said,
            [(
                Level::Error,
                "Invalid status line from script 's.cgi': 99".to_string()
            )]
        );
        for (v, code) in [
            ("404abc", 404),
            (" 201 Created", 201),
            ("2000", 500),
            ("abc", 500),
        ] {
            let out = format!("Status: {v}\n\n");
            let a = answer(parse_output(out.as_bytes(), "s", &mut |_, _| ()));
            assert_eq!(a.status, code, "{v}");
        }
    }

    #[test]
    fn argv_takes_isindex_words_only() {
        let p = Path::new("/s");
        assert_eq!(argv(p, Some("a+b%20c")), vec!["/s", "a", "b c"]);
        assert_eq!(argv(p, Some("a=1")), vec!["/s"]);
    }
}
