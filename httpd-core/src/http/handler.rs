//! What happens to a request once it has been read: `server/request.c:
//! ap_process_request_internal` (URL to file, access control), the handlers (`core.c:
//! default_handler`, `mod_dir`, `mod_status`, `http_filters.c: ap_send_http_trace`,
//! `ap_send_http_options`) and the error page when one of them fails (`ap_die`).
//!
//! The order is Apache's (0. an `Expect` other than `100-continue` is a 417 before all):
//! 1. TRACE is answered before any file mapping (a `map_to_storage` hook in Apache).
//! 2. `OPTIONS *` is answered with `Allow`.
//! 3. The URL path is normalised and unescaped (400/404 on failure).
//! 4. `Require` of the matching `<Directory>`/`<Location>` (403, AH01630).
//! 5. `SetHandler server-status` serves the status page (GET/HEAD only; other methods fall
//!    through to the default handler, as mod_status declines them); other `SetHandler` names
//!    go to handlers registered with `HttpServer::register_handler`.
//! 6. mod_dir: a directory without its slash gets a 301; with it, the first DirectoryIndex
//!    file that exists is served; none is a 403 (AH01276).
//! 7. The default handler: it first reads and discards the request body (sending
//!    `100 Continue` if asked), then: unknown method → 501 (AH00135), OPTIONS → 200 with
//!    `Allow`, other known methods except GET/HEAD/POST → 405, missing file → 404 (AH00128),
//!    POST → 405 (AH00131), unreadable → 403 (AH00132), else the file.

use std::net::SocketAddr;
use std::os::unix::ffi::OsStrExt;

use super::HttpServer;
use super::body::BodyError;
use super::error_pages::{DEFAULT_ADMIN, PageContext};
use super::mime::with_default_charset;
use super::request::Request;
use super::response::{Chunk, Response};
use super::static_files::{DocRoot, Located, PathError, normalize_path, serve_file, unescape_path};
use crate::config::options::symlinks_allowed;
use crate::log::Level;
use crate::modules::alias::Translated;
use crate::modules::cgi_handler;

/// Methods Apache registers (`http_protocol.c: register_one_method` calls); HEAD counts as GET.
const KNOWN_METHODS: &[&str] = &[
    "GET",
    "HEAD",
    "PUT",
    "POST",
    "DELETE",
    "CONNECT",
    "OPTIONS",
    "TRACE",
    "PATCH",
    "PROPFIND",
    "PROPPATCH",
    "MKCOL",
    "COPY",
    "MOVE",
    "LOCK",
    "UNLOCK",
    "VERSION-CONTROL",
    "CHECKOUT",
    "UNCHECKOUT",
    "CHECKIN",
    "UPDATE",
    "LABEL",
    "REPORT",
    "MKWORKSPACE",
    "MKACTIVITY",
    "BASELINE-CONTROL",
    "MERGE",
];

/// Access to the request body for handlers.
pub trait BodyAccess {
    /// Whether the request announced a body.
    fn has_body(&self) -> bool;
    /// Read and drop the whole body (`ap_discard_request_body`), sending `100 Continue` first
    /// when the client asked for it.
    fn discard(&mut self) -> Result<(), BodyError>;
    /// Read the whole body like [`BodyAccess::discard`], handing each piece to `out` as it
    /// arrives (mod_cgi feeding a script's stdin).
    fn stream_to(&mut self, out: &mut dyn FnMut(&[u8])) -> Result<(), BodyError>;
}

/// One request being handled.
pub struct Exchange<'a> {
    pub server: &'a HttpServer,
    pub req: &'a Request,
    pub peer: SocketAddr,
    pub local: SocketAddr,
    pub body: &'a mut dyn BodyAccess,
}

impl Exchange<'_> {
    fn log(&self, module: &str, level: Level, msg: std::fmt::Arguments<'_>) {
        let log = &self.server.inner.error_log;
        if log.enabled(module, level) {
            log.log_client(module, level, self.peer, msg);
        }
    }

    /// Apache's error page for `status`, with `Allow` on 405/501.
    pub fn error(&self, status: u16, notes: Option<&str>) -> Response {
        let cfg = &self.server.inner.config;
        let cx = PageContext {
            method: &self.req.line.method,
            location: None,
            notes,
            expect: self.req.headers.get("Expect"),
            admin: cfg.server_admin.as_deref().unwrap_or(DEFAULT_ADMIN),
        };
        let mut r = Response::error(status, &cx);
        if status == 405 || status == 501 {
            r.headers.push(("Allow", self.allow()));
        }
        r
    }

    /// `make_allow` for the default handler: GET, POST, OPTIONS (HEAD comes with GET), and
    /// TRACE when TraceEnable is on. Apache prints its method hash in no fixed order.
    fn allow(&self) -> String {
        let mut a = String::from("GET,POST,OPTIONS,HEAD");
        if self.server.inner.config.trace_enable {
            a.push_str(",TRACE");
        }
        a
    }

    fn body_error(&self, e: BodyError) -> Response {
        if let Some((level, msg)) = &e.log {
            self.log("http", *level, format_args!("{msg}"));
        }
        self.error(e.status, None)
    }

    /// `ap_construct_url` with UseCanonicalName Off: host and port from the request's Host,
    /// else ServerName or the local address.
    fn absolute_url(&self, path: &str) -> String {
        let host_field = self
            .req
            .line
            .uri_host
            .as_deref()
            .or_else(|| self.req.headers.get("Host"));
        let (name, port) = match (&self.req.checks.hostname, host_field) {
            (Some(name), Some(field)) => {
                let port = field.rsplit_once(':').filter(|(_, p)| {
                    p.bytes().all(|b| b.is_ascii_digit()) && !field.ends_with(']')
                });
                (
                    name.clone(),
                    port.and_then(|(_, p)| p.parse().ok()).unwrap_or(80),
                )
            }
            _ => {
                let cfg = &self.server.inner.config;
                let name = cfg
                    .server_name
                    .clone()
                    .map(|n| n.split(':').next().unwrap_or("").to_string());
                (
                    name.unwrap_or_else(|| self.local.ip().to_string()),
                    self.local.port(),
                )
            }
        };
        if port == 80 {
            format!("http://{name}{path}")
        } else {
            format!("http://{name}:{port}{path}")
        }
    }
}

/// Steps 1–7 of the module doc.
pub fn handle(x: &mut Exchange<'_>) -> Response {
    let cfg = &x.server.inner.config;
    let method = x.req.line.method.as_str();
    // 0. An unmet expectation is answered before any hook (ap_check_request_header).
    if let Some(r) = &x.req.checks.unmet_expectation {
        if let Some((level, msg)) = &r.log {
            x.log("core", *level, format_args!("{msg}"));
        }
        return x.error(r.status, None);
    }
    // 1. TRACE
    if method == "TRACE" {
        return trace(x);
    }
    // 2. OPTIONS *
    if x.req.line.path == "*" {
        if let Err(e) = x.body.discard() {
            return x.body_error(e);
        }
        let mut r = Response::new(200);
        r.headers.push(("Allow", x.allow()));
        return r;
    }
    // 3. normalise, unescape
    let url = match normalize_path(&x.req.line.path).and_then(|p| unescape_path(&p).map(|b| (p, b)))
    {
        Ok(v) => v,
        Err(PathError::AboveRoot) => {
            x.log(
                "core",
                Level::Error,
                format_args!("AH10244: invalid URI path ({})", x.req.line.target),
            );
            return x.error(400, None);
        }
        Err(PathError::BadEscape) => return x.error(400, None),
        Err(PathError::EncodedSlash) => {
            x.log(
                "core",
                Level::Info,
                format_args!(
                    "AH00026: found %2f (encoded '/') in URI path ({}), returning 404",
                    x.req.line.target
                ),
            );
            return x.error(404, None);
        }
        Err(PathError::EncodedNul) => return x.error(404, None),
    };
    let (url_path, url_bytes) = url;
    let decoded = String::from_utf8_lossy(&url_bytes).into_owned();
    // 3b. translate_name: mod_alias's redirects and aliases, else DocumentRoot.
    let mapped = match map_url(x, &decoded) {
        Ok(m) => m,
        Err(r) => return *r,
    };
    let fs_path = mapped.fs_path.clone();
    // 4. Require
    if !cfg
        .require_for(&decoded, &fs_path)
        .allows(x.peer.ip(), x.local.ip())
    {
        x.log(
            "authz_core",
            Level::Error,
            format_args!(
                "AH01630: client denied by server configuration: {}",
                fs_path.display()
            ),
        );
        return x.error(403, None);
    }
    // 5. server-status, or a handler registered with HttpServer::register_handler
    let handler = cfg.handler_for(&decoded);
    if handler == Some("server-status")
        && matches!(method, "GET" | "HEAD")
        && let Some(r) = x.server.status_page(x.req, x.local)
    {
        return r;
    }
    if let Some(h) = handler.and_then(|name| x.server.custom_handler(name)) {
        return h(x.req);
    }
    let options = cfg.options_for(&decoded, &fs_path);
    // 5b. cgi-script (mod_cgi/mod_cgid): SetHandler, ScriptAlias or AddHandler.
    if cgi_handler::wants_cgi(x, handler, mapped.script, &decoded, &fs_path) {
        let root = mapped
            .alias_root
            .clone()
            .unwrap_or_else(|| x.server.inner.docroot.path.clone());
        if let Err(link) = symlinks_allowed(options, &root, &fs_path) {
            return symlink_refused(x, &link);
        }
        return cgi_handler::run(x, &decoded, &fs_path, options, mapped.script);
    }
    let url_bytes = mapped.rel_bytes(url_bytes);
    let root = mapped.root(&x.server.inner.docroot);
    let root = root.as_ref().unwrap_or(&x.server.inner.docroot);
    // 6. mod_dir
    let mut located = root.locate(&url_bytes);
    if let Located::Dir(dir) = &located {
        if !url_path.ends_with('/') {
            let mut target = format!("{url_path}/");
            if let Some(q) = &x.req.line.query {
                target.push('?');
                target.push_str(q);
            }
            let location = x.absolute_url(&target);
            let cx = PageContext {
                location: Some(&location),
                ..Default::default()
            };
            return Response::error(301, &cx);
        }
        let index = cfg.directory_index.iter().find_map(|name| {
            match root.locate(&[&url_bytes[..], name.as_bytes()].concat()) {
                f @ Located::File(..) => Some(f),
                _ => None,
            }
        });
        match index {
            Some(f) => located = f,
            None => {
                x.log(
                    "autoindex",
                    Level::Error,
                    format_args!(
                        "AH01276: Cannot serve directory {}/: No matching DirectoryIndex ({}) found, and server-generated directory index forbidden by Options directive",
                        dir.display(),
                        cfg.directory_index.join(",")
                    ),
                );
                return x.error(403, None);
            }
        }
    }
    // Options FollowSymLinks / SymLinksIfOwnerMatch (core's resolve_symlink).
    // The path as requested (the located one may have its links already resolved), plus the
    // DirectoryIndex name when mod_dir chose one.
    let mut requested = root.path.join(std::ffi::OsStr::from_bytes(
        url_bytes.strip_prefix(b"/").unwrap_or(&url_bytes),
    ));
    if let Located::File(p, ..) = &located
        && url_bytes.ends_with(b"/")
        && let Some(name) = p.file_name()
    {
        requested.push(name);
    }
    if let Located::File(..) = &located
        && let Err(link) = symlinks_allowed(options, &root.path, &requested)
    {
        return symlink_refused(x, &link);
    }
    default_handler(x, located)
}

/// 403 with AH00037 (`core.c: resolve_symlink` refused by Options).
fn symlink_refused(x: &Exchange<'_>, link: &std::path::Path) -> Response {
    x.log(
        "core",
        Level::Error,
        format_args!(
            "AH00037: Symbolic link not allowed or link target not accessible: {}",
            link.display()
        ),
    );
    x.error(403, None)
}

/// Where step 3b mapped a URL.
struct Mapped {
    fs_path: std::path::PathBuf,
    /// A ScriptAlias forced `cgi-script`.
    script: bool,
    /// The Alias target the file is under (`None`: DocumentRoot).
    alias_root: Option<std::path::PathBuf>,
}

impl Mapped {
    /// The bytes to locate under [`Mapped::root`].
    fn rel_bytes(&self, url_bytes: Vec<u8>) -> Vec<u8> {
        match &self.alias_root {
            None => url_bytes,
            Some(r) => {
                let rel = self.fs_path.strip_prefix(r).unwrap_or(&self.fs_path);
                let mut b = b"/".to_vec();
                b.extend_from_slice(rel.as_os_str().as_encoded_bytes());
                if url_bytes.ends_with(b"/") && !b.ends_with(b"/") {
                    b.push(b'/');
                }
                b
            }
        }
    }

    /// The root to locate files under, when it is not DocumentRoot.
    fn root(&self, _docroot: &DocRoot) -> Option<DocRoot> {
        let r = self.alias_root.as_ref()?;
        Some(DocRoot::new(r.canonicalize().unwrap_or_else(|_| r.clone())))
    }
}

/// Step 3b (`ap_process_request_internal` → `translate_name`): mod_alias when loaded, else
/// DocumentRoot joined with the path. `Err` is the redirect (or gone) answer.
fn map_url(x: &Exchange<'_>, decoded: &str) -> Result<Mapped, Box<Response>> {
    let cfg = &x.server.inner.config;
    let docroot = || Mapped {
        fs_path: x
            .server
            .inner
            .docroot
            .path
            .join(decoded.trim_start_matches('/')),
        script: false,
        alias_root: None,
    };
    if !cfg.loaded_modules.contains(&"alias") {
        return Ok(docroot());
    }
    match cfg
        .alias
        .translate(decoded, x.req.line.query.as_deref(), |p| x.absolute_url(p))
    {
        None => Ok(docroot()),
        Some(Translated::Redirect { status, location }) => {
            let cx = PageContext {
                location: location.as_deref(),
                method: &x.req.line.method,
                ..Default::default()
            };
            let mut r = Response::error(status, &cx);
            if !(300..400).contains(&status) {
                r = x.error(status, None);
            }
            Err(Box::new(r))
        }
        Some(Translated::File {
            path,
            script,
            alias_root,
        }) => Ok(Mapped {
            fs_path: path,
            script,
            alias_root: Some(alias_root),
        }),
    }
}

/// Step 7: `core.c: default_handler`.
fn default_handler(x: &mut Exchange<'_>, located: Located) -> Response {
    let method = x.req.line.method.as_str();
    if let Err(e) = x.body.discard() {
        return x.body_error(e);
    }
    let content_type = |path: &std::path::Path| {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let charset = x.server.inner.config.add_default_charset.as_deref();
        x.server
            .inner
            .mime
            .content_type(&name)
            .map(|t| with_default_charset(t, charset))
    };
    if !matches!(method, "GET" | "HEAD" | "POST") {
        if !KNOWN_METHODS.contains(&method) {
            x.log(
                "core",
                Level::Error,
                format_args!("AH00135: Invalid method in request {}", x.req.the_request),
            );
            return x.error(501, None);
        }
        if method == "OPTIONS" {
            let mut r = Response::new(200);
            r.headers.push(("Allow", x.allow()));
            if let Located::File(p, ..) = &located {
                r.content_type = content_type(p);
            }
            return r;
        }
        return x.error(405, None);
    }
    let (path, meta, file) = match located {
        Located::File(p, m, f) => (p, m, f),
        Located::NotFound(p) | Located::Dir(p) => {
            x.log(
                "core",
                Level::Info,
                format_args!("AH00128: File does not exist: {}", p.display()),
            );
            return x.error(404, None);
        }
        Located::Forbidden(p) => {
            x.log(
                "core",
                Level::Error,
                format_args!(
                    "AH00037: Symbolic link not allowed or link target not accessible: {}",
                    p.display()
                ),
            );
            return x.error(403, None);
        }
    };
    if method == "POST" {
        x.log(
            "core",
            Level::Error,
            format_args!("AH00131: This resource does not accept the POST method."),
        );
        return x.error(405, None);
    }
    match serve_file(
        x.req,
        &path,
        &meta,
        file,
        content_type(&path),
        &x.server.inner.boundary,
    ) {
        Ok(r) => r,
        Err((403, e)) => {
            x.log(
                "core",
                Level::Error,
                format_args!(
                    "({}){e}: AH00132: file permissions deny server access: {}",
                    e.raw_os_error().unwrap_or(0),
                    path.display()
                ),
            );
            x.error(403, None)
        }
        Err((status, _)) => x.error(status, None),
    }
}

/// `ap_send_http_trace` with TraceEnable On: no request body allowed; echo the request.
fn trace(x: &mut Exchange<'_>) -> Response {
    if !x.server.inner.config.trace_enable {
        return x.error(405, Some("TRACE denied by server configuration"));
    }
    if x.body.has_body() {
        return x.error(413, Some("TRACE with a request body is not allowed"));
    }
    let mut echo = format!("{}\r\n", x.req.the_request);
    for (n, v) in x.req.headers.iter() {
        echo.push_str(&format!("{n}: {v}\r\n"));
    }
    echo.push_str("\r\n");
    let mut r = Response::new(200);
    r.content_type = Some("message/http".into());
    r.body.push(Chunk::Bytes(echo.into_bytes()));
    // Apache does not know the length when the header goes out: chunked on HTTP/1.1.
    r.chunked = x.req.line.version.is_1_1_or_later();
    r
}
