//! The `cgi-script` handler (`mod_cgi.c: cgi_handler`, `mod_cgid.c: cgid_handler`): steps 1–5
//! of [`super::cgi_script`], with the launcher chosen by the modules loaded: mod_cgid's daemon
//! when `cgid` is loaded, else mod_cgi's fork in this process.

use std::cell::Cell;
use std::path::Path;

use super::cgi_bucket::{CgiBucket, Head, Reporter};
use super::cgi_script::{self as cs, EnvInput, Parsed, ScriptCommand, check, environment};
use super::cgi_scriptlog as scriptlog;
use crate::http::handler::{Exchange, handle};
use crate::http::streamed::{Piece, Stream, take_ready};
use crate::log::Level;

thread_local! {
    /// Internal redirects in progress on this thread (`LimitInternalRecursion` 10).
    static DEPTH: Cell<u8> = const { Cell::new(0) };
}

/// Whether this request goes to the CGI handler: `SetHandler cgi-script`, a ScriptAlias, or
/// mod_mime's `AddHandler cgi-script .ext` for one of the file's extensions (`handler`, what
/// the merged sections give; a SetHandler of another name wins).
pub fn wants_cgi(
    x: &Exchange<'_>,
    set_handler: Option<&str>,
    aliased: bool,
    ext_handler: Option<&str>,
) -> bool {
    let cfg = &x.server.inner.config;
    if !cfg
        .loaded_modules
        .iter()
        .any(|m| *m == "cgi" || *m == "cgid")
    {
        return false;
    }
    if let Some(h) = set_handler {
        return h.eq_ignore_ascii_case("cgi-script");
    }
    aliased || ext_handler == Some("cgi-script")
}

/// Run `path` (the mapped file, possibly with PATH_INFO after it) for URL `url_path`.
pub fn run(
    x: &mut Exchange<'_>,
    url_path: &str,
    path: &Path,
    options: u8,
    aliased: bool,
    context: Option<&(String, String)>,
) -> crate::http::response::Response {
    let cfg = x.server.inner.config.clone();
    let module = if cfg.loaded_modules.contains(&"cgid") {
        "cgid"
    } else {
        "cgi"
    };
    let (file, path_info) = cs::split_path_info(path);
    let scriptlog = cfg
        .cgi
        .script_log
        .is_some()
        .then(|| scriptlog::LogRequest::of(x, url_path, &file));
    // 1. ExecCGI, existence, directory
    if let Err(r) = check(
        &file,
        options & crate::config::options::OPT_EXECCGI != 0,
        aliased,
    ) {
        // `log_scripterror`: the error log's line, then ScriptLog's `%error` entry.
        let (status, code, text) = cs::refusal(&r);
        let msg = format!("{code}: stderr from {}: {text}", file.display());
        cs::log(x, module, Level::Error, &msg);
        if let Some(req) = &scriptlog {
            scriptlog::error(&cfg.cgi, req, status, text);
        }
        return x.error(status, None);
    }
    let script_name = url_path
        .strip_suffix(path_info.as_str())
        .unwrap_or(url_path)
        .to_string();
    let env = environment(
        x,
        &EnvInput {
            script_name: &script_name,
            path_info: &path_info,
            filename: &file,
            document_root: &cfg.document_root,
            context,
            redirect_status: (DEPTH.with(Cell::get) > 0).then_some(200),
        },
    );
    let cmd = ScriptCommand {
        argv: cs::argv(&file, x.req.line.query.as_deref()),
        program: file.clone(),
        env,
        dir: file.parent().map(Path::to_path_buf).unwrap_or_default(),
    };
    // 2. start it
    let spawned = if module == "cgid" {
        super::cgid::spawn(&cmd)
    } else {
        super::cgi::spawn(&cmd).map_err(super::cgid::SpawnError::Script)
    };
    let script = match spawned {
        Ok(s) => s,
        Err(failure) => {
            use super::cgid::SpawnError;
            let (status, e, what) = match &failure {
                // `connect_to_daemon` logs through `log_scripterror`, hence "stderr from".
                SpawnError::Unreachable(e) => (
                    503,
                    e,
                    format!(
                        "AH01257: stderr from {}: unable to connect to cgi daemon after multiple tries",
                        file.display()
                    ),
                ),
                SpawnError::Script(e) => (
                    500,
                    e,
                    format!("AH01223: couldn't spawn child process: {}", file.display()),
                ),
            };
            let msg = format!(
                "({}){}: {what}",
                e.raw_os_error().unwrap_or(0),
                crate::config::parse::io_text(e)
            );
            cs::log(x, module, Level::Error, &msg);
            if let (SpawnError::Unreachable(_), Some(req)) = (&failure, &scriptlog) {
                let text = "unable to connect to cgi daemon after multiple tries";
                scriptlog::error(&cfg.cgi, req, status, text);
            }
            return x.error(status, None);
        }
    };
    // 3–4. body in, header block out
    let timeout = if module == "cgid" && !cfg.cgi.cgid_timeout.is_zero() {
        cfg.cgi.cgid_timeout
    } else {
        cfg.timeout
    };
    let report = Reporter {
        log: x.server.inner.error_log.clone(),
        peer: x.peer,
        module,
        file: file.display().to_string(),
        cgi: cfg.clone(),
        scriptlog: scriptlog.clone(),
        status: 200,
    };
    let mut bucket = CgiBucket::new(script, timeout, report);
    if let Err(e) = bucket.feed(x) {
        cs::log(
            x,
            module,
            Level::Error,
            "AH01225: Error reading request entity data",
        );
        return x.error(e.status, None);
    }
    let name = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let nph = name.starts_with("nph-");
    if nph {
        // 6, nph-: the output as it comes, parsed by nobody.
        let mut r = crate::http::response::Response::new(200);
        r.stream = Some(Stream {
            source: Box::new(bucket),
            raw: true,
        });
        return r;
    }
    // 5. the header block
    let (head, ended) = match bucket.read_head() {
        Head::Block(h) => (h, false),
        Head::Ended(all) => (all, true),
        Head::TimedOut(_) => {
            // mod_cgi's read loop logs AH01220; mod_cgid's only the "timed out" line below
            // (as Apache 2.4.71 does, checked with the reference apache.sh).
            if module == "cgi" {
                let msg = format!(
                    "AH01220: Timeout waiting for output from CGI script {}",
                    file.display()
                );
                cs::log(x, module, Level::Warn, &msg);
            }
            let msg = format!("Script timed out before returning headers: {name}");
            cs::log(x, module, Level::Error, &msg);
            // `log_script` with the output thrown away (the brigade is cleaned first).
            if let Some(req) = &scriptlog {
                let (body, _, stderr) = bucket.rest_for_log(false);
                let d = scriptlog::Dump {
                    status: 504,
                    body: &body,
                    line: "",
                    stdout: &[],
                    stderr: &stderr,
                };
                scriptlog::dump(&cfg.cgi, req, &d);
            }
            drop(bucket);
            return x.error(504, None);
        }
    };
    let mut parsed = cs::parse_output(&head, &name, &mut |level, msg| {
        cs::log(x, module, level, msg);
    });
    // `ap_scan_script_header_err_core_ex`: without a `Status:`, a GET (or HEAD) is checked
    // against the script's ETag and Last-Modified (`ap_meets_conditions`).
    let mut failed = None;
    if let Parsed::Answer(a) = &mut parsed
        && !a.status_set
        && matches!(x.req.line.method.as_str(), "GET" | "HEAD")
    {
        let v = crate::http::static_files::Validators {
            // `r->mtime`, else "now": a script without Last-Modified is never unmodified.
            mtime: a
                .last_modified
                .map_or(x.req.time + std::time::Duration::from_secs(1), |t| {
                    t.min(x.req.time)
                }),
            etag: a.etag().unwrap_or_default().to_string(),
        };
        match crate::http::static_files::meets_conditions(x.req, &v) {
            Some(304) => a.status = 304,
            Some(code) => failed = Some(code),
            None => {}
        }
    }
    if let Parsed::Answer(a) = &parsed {
        bucket.set_status(a.status);
    }
    // A failure `log_script` dumps into ScriptLog: the line the scan stopped at and where the
    // rest of the output starts.
    let failure = match &parsed {
        Parsed::Malformed(m) => Some((500, m.line.as_str(), m.rest_at)),
        _ => failed.map(|code| (code, "", head.len())),
    };
    // The script's fields other than Location are `err_headers_out` in Apache: a 412's error
    // page still carries them.
    let kept: Vec<(String, String)> = match &parsed {
        Parsed::Answer(a) if failed.is_some() => a
            .headers
            .iter()
            .filter(|(n, _)| !n.eq_ignore_ascii_case("Location"))
            .cloned()
            .collect(),
        _ => Vec::new(),
    };
    if let Some((status, line, rest_at)) = failure {
        if let Parsed::Malformed(m) = &parsed {
            cs::log(x, module, Level::Error, &m.log);
        }
        if let Some(req) = &scriptlog {
            let (body, mut stdout, stderr) = bucket.rest_for_log(true);
            stdout.insert(0, head[rest_at..].to_vec());
            let d = scriptlog::Dump {
                status,
                body: &body,
                line,
                stdout: &stdout,
                stderr: &stderr,
            };
            scriptlog::dump(&cfg.cgi, req, &d);
        }
        drop(bucket);
        let mut r = x.error(status, None);
        r.err_headers.extend(kept);
        return r;
    }
    match parsed {
        Parsed::Malformed(_) => x.error(500, None),
        Parsed::LocalRedirect(loc) => {
            // The rest of the output is discarded, its stderr still logged.
            let _ = bucket.read_all();
            drop(bucket);
            internal_redirect(x, &loc, true)
        }
        Parsed::Answer(_) if ended => {
            drop(bucket);
            cs::into_response(x, parsed, false)
        }
        Parsed::Answer(a) => body(x, a, bucket),
    }
}

/// Step 6: the body after the header block, streamed unless the script ends before it pauses.
fn body(
    x: &Exchange<'_>,
    mut answer: cs::Answer,
    mut bucket: CgiBucket,
) -> crate::http::response::Response {
    // A HEAD and a bodiless status send no body: the script is read to its end first.
    let whole = if x.req.is_head() || crate::http::response::status_is_header_only(answer.status) {
        bucket.read_all().ok_or(Piece::Failed)
    } else {
        take_ready(&mut bucket, &mut answer.body).map(|()| Vec::new())
    };
    let stream = match whole {
        Ok(rest) => {
            answer.body.extend(rest);
            None
        }
        Err(Piece::Pause) => Some(bucket),
        Err(_) => {
            drop(bucket);
            return cs::into_response(x, Parsed::Answer(answer), true);
        }
    };
    let answer = Parsed::Answer(answer);
    let mut r = cs::into_response(x, answer, false);
    if let Some(bucket) = stream {
        if x.req.line.version.is_1_1_or_later() {
            r.chunked = true;
        } else {
            r.close_delimited = true;
        }
        r.stream = Some(Stream {
            source: Box::new(bucket),
            raw: false,
        });
    }
    r
}

/// `ap_internal_redirect_handler` for `Location: /path`: the same connection serves a GET of
/// that path (`as_get`; mod_negotiation's `ap_internal_redirect` keeps the method); at most
/// 10 deep (`LimitInternalRecursion`, AH00124).
pub(crate) fn internal_redirect(
    x: &mut Exchange<'_>,
    location: &str,
    as_get: bool,
) -> crate::http::response::Response {
    if DEPTH.with(Cell::get) >= 10 {
        cs::log(
            x,
            "core",
            Level::Error,
            "AH00124: Request exceeded the limit of 10 internal redirects due to probable configuration error. Use 'LimitInternalRecursion' to increase the limit if necessary. Use 'LogLevel debug' to get a backtrace.",
        );
        return x.error(500, None);
    }
    let mut req = x.req.clone();
    let (path, query) = match location.split_once('?') {
        Some((p, q)) => (p.to_string(), Some(q.to_string())),
        None => (location.to_string(), None),
    };
    if as_get {
        req.line.method = "GET".into();
    }
    req.line.target = location.to_string();
    req.line.path = path;
    req.line.query = query;
    req.headers.remove("Content-Length");
    req.headers.remove("Transfer-Encoding");
    DEPTH.with(|d| d.set(d.get() + 1));
    let done = x.request_headers_done;
    let r = handle(&mut x.nested(&req, done));
    DEPTH.with(|d| d.set(d.get() - 1));
    r
}
