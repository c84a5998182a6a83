//! The `cgi-script` handler (`mod_cgi.c: cgi_handler`, `mod_cgid.c: cgid_handler`): steps 1–5
//! of [`super::cgi_script`], with the launcher chosen by the modules loaded: mod_cgid's daemon
//! when `cgid` is loaded, else mod_cgi's fork in this process.

use std::cell::Cell;
use std::path::Path;

use super::cgi_script::{
    self as cs, EnvInput, Parsed, ScriptCommand, check, environment, exchange, kill_script,
};
use crate::http::handler::{Exchange, handle};
use crate::log::Level;

thread_local! {
    /// Internal redirects in progress on this thread (`LimitInternalRecursion` 10).
    static DEPTH: Cell<u8> = const { Cell::new(0) };
}

/// Whether this request goes to the CGI handler: `SetHandler cgi-script`, a ScriptAlias, or
/// `AddHandler cgi-script .ext` for the file's extension (a SetHandler of another name wins).
pub fn wants_cgi(
    x: &Exchange<'_>,
    set_handler: Option<&str>,
    aliased: bool,
    url_path: &str,
    file: &Path,
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
    if aliased {
        return true;
    }
    // mod_mime looks at every extension of the name (`a.cgi.bak` has two).
    let name = file
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    name.split('.').skip(1).any(|ext| {
        cfg.cgi
            .handlers_by_ext
            .iter()
            .any(|(e, h, scope)| e == ext && h == "cgi-script" && scope.covers(url_path, file))
    })
}

/// Run `path` (the mapped file, possibly with PATH_INFO after it) for URL `url_path`.
pub fn run(
    x: &mut Exchange<'_>,
    url_path: &str,
    path: &Path,
    options: u8,
    aliased: bool,
) -> crate::http::response::Response {
    let cfg = x.server.inner.config.clone();
    let module = if cfg.loaded_modules.contains(&"cgid") {
        "cgid"
    } else {
        "cgi"
    };
    let (file, path_info) = cs::split_path_info(path);
    // 1. ExecCGI, existence, directory
    if let Err(r) = check(
        &file,
        options & crate::config::options::OPT_EXECCGI != 0,
        aliased,
    ) {
        let (status, msg) = cs::refusal(&r, &file);
        cs::log(x, module, Level::Error, &msg);
        cs::script_log(&cfg.cgi, &msg);
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
        super::cgi::spawn(&cmd)
    };
    let mut script = match spawned {
        Ok(s) => s,
        Err(e) => {
            let msg = format!(
                "({}){e}: AH01223: couldn't spawn child process: {}",
                e.raw_os_error().unwrap_or(0),
                file.display()
            );
            cs::log(x, module, Level::Error, &msg);
            cs::script_log(&cfg.cgi, &msg);
            return x.error(500, None);
        }
    };
    // 3–4. body in, output out
    let timeout = if module == "cgid" && !cfg.cgi.cgid_timeout.is_zero() {
        cfg.cgi.cgid_timeout
    } else {
        cfg.timeout
    };
    let peer = x.peer;
    let elog = x.server.inner.error_log.clone();
    let fname = file.display().to_string();
    let result = exchange(x, &mut script, timeout, &mut |line| {
        if elog.enabled(module, Level::Error) {
            elog.log_client(
                module,
                Level::Error,
                peer,
                format_args!("AH01215: stderr from {fname}: {line}"),
            );
        }
        cs::script_log(&cfg.cgi, &format!("stderr from {fname}: {line}"));
    });
    let output = match result {
        Ok(o) => o,
        Err(e) => {
            kill_script(script.pid);
            reap(&mut script);
            cs::log(
                x,
                module,
                Level::Error,
                "AH01225: Error reading request entity data",
            );
            return x.error(e.status, None);
        }
    };
    if output.timed_out {
        kill_script(script.pid);
    }
    // mod_cgi's read loop logs AH01220; mod_cgid's only the "timed out" line below (as
    // Apache 2.4.71 does, checked with the reference apache.sh).
    if output.timed_out && module == "cgi" {
        let msg = format!(
            "AH01220: Timeout waiting for output from CGI script {}",
            file.display()
        );
        cs::log(x, module, Level::Warn, &msg);
        cs::script_log(&cfg.cgi, &msg);
    }
    reap(&mut script);
    // 5. the header block
    let name = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let nph = name.starts_with("nph-");
    let parsed = cs::parse_output(&output.stdout, &name, nph);
    match &parsed {
        Parsed::Malformed(_) if output.timed_out => {
            let msg = format!("Script timed out before returning headers: {name}");
            cs::log(x, module, Level::Error, &msg);
            x.error(504, None)
        }
        Parsed::Malformed(msg) => {
            cs::log(x, module, Level::Error, msg);
            cs::script_log(&cfg.cgi, msg);
            cs::into_response(x, parsed, false)
        }
        Parsed::LocalRedirect(loc) => internal_redirect(x, loc),
        Parsed::Answer { .. } => cs::into_response(x, parsed, output.timed_out),
    }
}

/// mod_cgi: reap our own child (cgid's daemon reaps its scripts).
fn reap(script: &mut cs::Script) {
    if let Some(child) = &mut script.child {
        let _ = child.wait();
    }
}

/// `ap_internal_redirect_handler` for `Location: /path`: the same connection serves a GET of
/// that path; at most 10 deep (`LimitInternalRecursion`, AH00124).
fn internal_redirect(x: &mut Exchange<'_>, location: &str) -> crate::http::response::Response {
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
    req.line.method = "GET".into();
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
