//! What happens to a request once it has been read: `server/request.c:
//! ap_process_request_internal` (URL to file, access control), the handlers (`core.c:
//! default_handler`, `mod_dir`, `mod_status`, `http_filters.c: ap_send_http_trace`,
//! `ap_send_http_options`) and the error page when one of them fails (`ap_die`).
//!
//! The order is Apache's (0. an `Expect` other than `100-continue` is a 417 before all):
//! 1. `OPTIONS *` is answered 200 with no `Allow` (as Apache 2.4.71: the server has no method list).
//! 2. The URL path is normalised and unescaped (400/404 on failure).
//! 3. TRACE is answered before any file mapping (a `map_to_storage` hook in Apache, which
//!    runs after the path checks of `ap_process_request_internal`).
//! 4. Access control of the matching `<Directory>`/`<Location>`: `Order`/`Allow`/`Deny`,
//!    `Require`, Basic authentication ([`crate::modules::authz::check_access`]: 403, 401, 500).
//! 5. `SetHandler server-status` serves the status page (GET/HEAD only; other methods fall
//!    through to the default handler, as mod_status declines them); other `SetHandler` names
//!    go to handlers registered with `HttpServer::register_handler`.
//! 6. mod_dir: a directory without its slash gets a 301; with it, the first DirectoryIndex
//!    file that exists is served; with none, mod_autoindex (when loaded) lists the directory
//!    or answers 403 (AH01276) without `Options Indexes` (`http/subreq.rs`); else the
//!    directory goes on to the default handler.
//! 7. The default handler: it first reads and discards the request body (sending
//!    `100 Continue` if asked), then: unknown method → 501 (AH00135), OPTIONS → 200 with
//!    `Allow`, other known methods except GET/HEAD/POST → 405, missing file → 404 (AH00128),
//!    directory → 404 (AH00129), unreadable → 403 (AH00132), else the file, for POST as for
//!    GET (Apache's `deliver_script` is on for every request).

use std::net::SocketAddr;
use std::os::unix::ffi::OsStrExt;

use super::HttpServer;
use super::body::BodyError;
use super::error_pages::{DEFAULT_ADMIN, PageContext};
use super::mime::with_default_charset;
use super::module_hooks::{
    RequestNotes, access_check, apply_headers, cfg_has_headers, output_filters, request_headers,
    setenvif,
};
use super::negotiate;
use super::request::Request;
use super::response::{Chunk, Response};
use super::static_files::{DocRoot, Located, PathError, normalize_path, serve_file, unescape_path};
use crate::config::options::symlinks_allowed;
use crate::log::Level;
use crate::modules::alias::Translated;
use crate::modules::cgi_handler;
use crate::modules::mime::{MimeInfo, type_check};
use crate::modules::negotiation::fix_encoding;

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
    /// The `<VirtualHost>` chosen for this request (index in the config), set by [`handle`].
    pub vhost: Option<usize>,
    /// The connection's and the request's log ids, for the error log (`%L`).
    pub log_ids: LogIds<'a>,
    /// The request's environment as the error log sees it (`%{name}e`); kept only when the
    /// ErrorLogFormat asks for it.
    pub log_env: Option<crate::modules::setenvif::Env>,
    /// mod_headers' `RequestHeader` lines have edited `req` (the fixup ran once).
    pub request_headers_done: bool,
}

/// `c->log_id`, `r->log_id` and `c->keepalives`, owned by the connection.
#[derive(Clone, Copy)]
pub struct LogIds<'a> {
    pub conn: &'a std::cell::OnceCell<String>,
    pub req: &'a std::cell::OnceCell<String>,
    pub keepalives: u32,
}

impl Exchange<'_> {
    /// The same exchange for another request (an internal redirect, or the request
    /// `RequestHeader` edited): same connection, request body and virtual host.
    pub fn nested<'b>(&'b mut self, req: &'b Request, request_headers_done: bool) -> Exchange<'b> {
        Exchange {
            server: self.server,
            req,
            peer: self.peer,
            local: self.local,
            body: &mut *self.body,
            vhost: self.vhost,
            log_ids: self.log_ids,
            log_env: self.log_env.clone(),
            request_headers_done,
        }
    }

    pub(super) fn log(&self, module: &str, level: Level, msg: std::fmt::Arguments<'_>) {
        let log = self.server.error_log_for(self.vhost);
        if log.enabled(module, level) {
            let vhost_name = self
                .vhost
                .and_then(|i| self.server.inner.config.vhosts.get(i))
                .and_then(|v| v.server_name.as_deref());
            // ap_get_server_name with UseCanonicalName Off: the Host the client asked for.
            let host = self
                .req
                .headers
                .get("Host")
                .map(|h| h.rsplit_once(':').map_or(h, |(n, _)| n));
            let facts = crate::log::errorlog_format::RequestFacts {
                local: Some(self.local),
                headers: Some(&self.req.headers),
                env: self.log_env.as_ref(),
                server_name: host.or(vhost_name),
                vhost_name,
                keepalives: Some(self.log_ids.keepalives),
                log_id: Some(self.log_ids.req),
                conn_log_id: Some(self.log_ids.conn),
                request_time: None,
            };
            log.log_request(module, level, self.peer, &facts, msg);
        }
    }

    /// Apache's error page for `status`, with `Allow` on 405/501.
    pub fn error(&self, status: u16, notes: Option<&str>) -> Response {
        let cfg = &self.server.inner.config;
        let admin = cfg.server_admin.as_deref().unwrap_or(DEFAULT_ADMIN);
        let signature = self.signature(admin);
        let cx = PageContext {
            method: &self.req.line.method,
            location: None,
            notes,
            expect: self.req.headers.get("Expect"),
            admin,
            signature: &signature,
        };
        let mut r = Response::error(status, &cx);
        if status == 405 || status == 501 {
            r.headers.push(("Allow", self.allow()));
        }
        r
    }

    /// `ap_psignature`: host and port as `ap_get_server_name`/`ap_get_server_port` give them
    /// with UseCanonicalName Off (the request's Host, else ServerName, else the local address).
    fn signature(&self, admin: &str) -> String {
        self.signature_with("<hr>\n", admin)
    }

    /// `ap_psignature(prefix, r)` with ServerAdmin (mod_autoindex uses an empty prefix).
    pub(super) fn psignature(&self, prefix: &str) -> String {
        let admin = self.server.inner.config.server_admin.as_deref();
        self.signature_with(prefix, admin.unwrap_or(DEFAULT_ADMIN))
    }

    fn signature_with(&self, prefix: &str, admin: &str) -> String {
        let cfg = &self.server.inner.config;
        if cfg.server_signature == "Off" {
            return String::new();
        }
        let (host, port) = self.server_name_port();
        super::signature::psignature(cfg, prefix, &self.server.inner.banner, &host, port, admin)
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

    pub(super) fn body_error(&self, e: BodyError) -> Response {
        let mut r = self.error(e.status, None);
        if let Some((level, msg)) = &e.log {
            self.log("http", *level, format_args!("{msg}"));
            // A body that cannot be read (bad chunk, too large) is `bail_out_on_error` in
            // Apache: the error reaches the output filters as an error bucket, and the page
            // goes out without a Content-Length, ended by the close (checked side by side).
            r.close = true;
            r.close_delimited = true;
        }
        r
    }

    /// `ap_get_server_name` and `ap_get_server_port`: with UseCanonicalName On the server's
    /// ServerName (and its port, else 80); Off (default): host and port from the request's
    /// Host, else ServerName or the local address.
    fn server_name_port(&self) -> (String, u16) {
        let cfg = &self.server.inner.config;
        if cfg.use_canonical_name {
            // UseCanonicalName On: the (virtual) server's ServerName and its port, else 80.
            let name = self
                .vhost
                .and_then(|i| cfg.vhosts[i].server_name.clone())
                .or_else(|| cfg.server_name.clone());
            if let Some(n) = name {
                let n = n.split_once("://").map_or(n.as_str(), |(_, r)| r);
                return match n.rsplit_once(':') {
                    Some((h, p)) if p.bytes().all(|b| b.is_ascii_digit()) => {
                        (h.to_string(), p.parse().unwrap_or(80))
                    }
                    _ => (n.to_string(), 80),
                };
            }
        }
        let host_field = self
            .req
            .line
            .uri_host
            .as_deref()
            .or_else(|| self.req.headers.get("Host"));
        match (&self.req.checks.hostname, host_field) {
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
                let (name, port) = match cfg.server_name.as_deref().map(|n| n.split_once(':')) {
                    Some(Some((n, p))) => (n.to_string(), p.parse().unwrap_or(80)),
                    Some(None) => (cfg.server_name.clone().unwrap_or_default(), 80),
                    None => (self.local.ip().to_string(), 80),
                };
                (name, port)
            }
        }
    }

    /// `ap_construct_url` with UseCanonicalName Off.
    fn absolute_url(&self, path: &str) -> String {
        let (name, port) = self.server_name_port();
        if port == 80 {
            format!("http://{name}{path}")
        } else {
            format!("http://{name}:{port}{path}")
        }
    }
}

/// Steps 0–7 of the module doc, then `ErrorDocument` for an error page (Apache's `ap_die`);
/// the response carries the user step 4 found (`%u`).
pub fn handle(x: &mut Exchange<'_>) -> Response {
    // The virtual host, once per request (vhost.c: address, then Host).
    let cfg = &x.server.inner.config;
    x.vhost = crate::config::vhost::select(&cfg.vhosts, x.local, x.req.checks.hostname.as_deref());
    let vhost = x.vhost;
    let mut user = None;
    let mut out = RequestNotes::default();
    let mut r = answer(x, &mut user, &mut out);
    r.vhost = vhost;
    r.user = user;
    // `nokeepalive` (Debian's setenvif.conf sets it for old browsers): http_protocol.c's
    // ap_set_keepalive closes the connection after this response.
    if out.env.get("nokeepalive").is_some() {
        r.close = true;
    }
    if cfg_has_headers(x, &out) {
        apply_headers(x, &mut r, &out);
    }
    r.env = out.env;
    r.final_uri = out.uri;
    r.handler = out.handler;
    r.filename = out.filename;
    if let Some(n) = out.negotiated {
        n.apply(&mut r);
    }
    r.notes = out.notes;
    r
}

/// [`route`], then `ErrorDocument` for an error page, then the output filters (mod_deflate).
fn answer(x: &mut Exchange<'_>, user_out: &mut Option<String>, out: &mut RequestNotes) -> Response {
    let mut dir = None;
    let mut r = route(x, &mut dir, user_out, out);
    if r.error_page {
        r = match &dir {
            Some(d) => super::error_document::apply(x, r, d),
            None if !x.server.inner.sections.base.error_documents.is_empty() => {
                super::error_document::apply(x, r, &x.server.inner.sections.base)
            }
            None => r,
        };
    }
    let section = dir.as_ref().unwrap_or(&x.server.inner.sections.base);
    output_filters(x, section, &mut r, out);
    r
}

/// Steps 0–7; `merged` receives the request's merged sections once they are known.
fn route(
    x: &mut Exchange<'_>,
    merged: &mut Option<crate::config::Section>,
    user_out: &mut Option<String>,
    out: &mut RequestNotes,
) -> Response {
    let cfg = &x.server.inner.config;
    let method = x.req.line.method.as_str();
    // 0. An unmet expectation is answered before any hook (ap_check_request_header).
    if let Some(r) = &x.req.checks.unmet_expectation {
        if let Some((level, msg)) = &r.log {
            x.log("core", *level, format_args!("{msg}"));
        }
        let mut resp = x.error(r.status, None);
        resp.end_connection = true;
        return resp;
    }
    // 1. OPTIONS *
    if x.req.line.path == "*" {
        if let Err(e) = x.body.discard() {
            return x.body_error(e);
        }
        // No Allow: the server as a whole has no method list to give (Apache 2.4.71 sends
        // none for `*`, checked side by side; a path's OPTIONS gets one).
        return Response::new(200);
    }
    // 2. normalise, unescape
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
    let (url_path, mut url_bytes) = url;
    // 3. TRACE: a map_to_storage hook, so after the path checks (`/%2f` is a 404 first).
    if method == "TRACE" {
        return trace(x);
    }
    let mut decoded = String::from_utf8_lossy(&url_bytes).into_owned();
    // 3a. The virtual host chosen by `handle`.
    let inner = &x.server.inner;
    let (docroot, table) = match x.vhost {
        Some(i) => (&inner.vhosts[i].docroot, &inner.vhosts[i].sections),
        None => (&inner.docroot, &inner.sections),
    };
    // 3b. translate_name: mod_alias's redirects and aliases, else DocumentRoot.
    let mut mapped = match map_url(x, docroot, &decoded) {
        Ok(m) => m,
        Err(r) => return *r,
    };
    let mut fs_path = mapped.fs_path.clone();
    // 3c. The sections in Apache's merge order, .htaccess files included.
    let mut dir: &crate::config::Section = match walk_sections(x, table, &decoded, &fs_path) {
        Ok(d) => merged.insert(d),
        Err(status) => return x.error(status, None),
    };
    // 4. access control, authentication, authorization (modules/authz.rs: check_access)
    out.filename = Some(fs_path.display().to_string());
    out.header_cmds = dir.headers.clone();
    let mut env = setenvif(x, &decoded, &[dir]);
    // `%{name}e` in ErrorLogFormat: the error lines from here on see the environment.
    let env_for_log = x.server.error_log_for(x.vhost).wants_env();
    if env_for_log {
        x.log_env = Some(env.clone());
    }
    let (verdict, user) = access_check(x, &dir.access(), &fs_path, &env);
    *user_out = user;
    if let Some(r) = verdict {
        out.env = env;
        return r;
    }
    // mod_env's fixups: after access control, before the handler.
    for cmd in cfg.server_env_cmds.iter().chain(&dir.env_cmds) {
        cmd.apply(&mut env);
    }
    if env_for_log {
        x.log_env = Some(env.clone());
    }
    out.env = env;
    // mod_alias's fixup_redir: the redirects of the sections and .htaccess files.
    if !dir.redirects.is_empty()
        && let Some(Translated::Redirect { status, location }) =
            crate::modules::alias::try_redirects(
                &dir.redirects,
                &decoded,
                x.req.line.query.as_deref(),
                &|p| x.absolute_url(p),
            )
    {
        return redirect_response(x, status, location.as_deref());
    }
    // mod_headers' fixup: RequestHeader edits the request, and the rest runs on the edited
    // one (steps 0–4 again: they pass, as they just did).
    if !x.request_headers_done
        && let Some(edited) = request_headers(x, dir, &out.env)
    {
        let mut r = route(&mut x.nested(&edited, true), merged, user_out, out);
        r.request_headers = Some(edited.headers);
        return r;
    }
    let env_now = out.env.clone();
    // 4b. mod_negotiation's type checker: MultiViews for a file that does not exist (the only
    // case that costs a stat more, and only with Options MultiViews in force).
    let mut options = crate::config::options::merge(dir.options.iter());
    if options & crate::config::options::OPT_MULTI != 0
        && cfg.loaded_modules.contains(&"negotiation")
        && !url_path.ends_with('/')
        && std::fs::symlink_metadata(&fs_path).is_err()
        && fs_path.parent().is_some_and(std::path::Path::is_dir)
    {
        match negotiate::multiviews(x, table, &decoded, &fs_path, &env_now, dir) {
            negotiate::Outcome::Declined(vlist) => {
                out.negotiated = vlist.map(|v| negotiate::Negotiated {
                    vlist: Some(v),
                    ..Default::default()
                });
            }
            negotiate::Outcome::Answer(r) => return *r,
            negotiate::Outcome::Chosen {
                path,
                url,
                section,
                neg,
            } => {
                // Apache's fast redirect: the variant's sub-request becomes the request.
                let cut = url_bytes
                    .iter()
                    .rposition(|b| *b == b'/')
                    .map_or(0, |i| i + 1);
                url_bytes.truncate(cut);
                url_bytes.extend_from_slice(path.file_name().map_or(&b""[..], |n| n.as_bytes()));
                out.filename = Some(path.display().to_string());
                out.uri = Some(url.clone());
                mapped.fs_path.clone_from(&path);
                (fs_path, decoded) = (path, url);
                dir = merged.insert(*section);
                // The variant's own sections from here on (its Options, Header lines).
                options = crate::config::options::merge(dir.options.iter());
                out.header_cmds = dir.headers.clone();
                out.negotiated = Some(neg);
            }
        }
    }
    // mod_mime's type checker, then core's SetHandler/ForceType fixup.
    let mime = file_mime(x, dir, &fs_path);
    out.mime_deflate = mime.deflate;
    // 5. server-status, or a handler registered with HttpServer::register_handler
    let handler = dir.effective_handler();
    out.handler = handler.map(str::to_string);
    if handler == Some("server-status")
        && matches!(method, "GET" | "HEAD")
        && let Some(r) = x.server.status_page(x.req, x.local)
    {
        return r;
    }
    if let Some(h) = handler.and_then(|name| x.server.custom_handler(name)) {
        return h(x.req);
    }
    // 5b. cgi-script (mod_cgi/mod_cgid): SetHandler, ScriptAlias or AddHandler.
    if cgi_handler::wants_cgi(x, handler, mapped.script, mime.handler.as_deref()) {
        let root = mapped
            .alias_root
            .clone()
            .unwrap_or_else(|| docroot.path.clone());
        if let Err(link) = symlinks_allowed(options, &root, &fs_path) {
            return symlink_refused(x, &link);
        }
        return cgi_handler::run(
            x,
            &decoded,
            &fs_path,
            options,
            mapped.script,
            mapped.context.as_ref(),
        );
    }
    let url_bytes = mapped.rel_bytes(url_bytes);
    let alias_root = mapped.root(docroot);
    let root = alias_root.as_ref().unwrap_or(docroot);
    // 6. mod_dir
    let mut located = root.locate(&url_bytes);
    let mut etag_bits = dir.etag_bits();
    let mut index_section = None;
    if let Located::Dir(_) = &located {
        if !url_path.ends_with('/') {
            let mut target = format!("{url_path}/");
            if let Some(q) = &x.req.line.query {
                target.push('?');
                target.push_str(q);
            }
            let location = x.absolute_url(&target);
            let signature = x.signature(DEFAULT_ADMIN);
            let cx = PageContext {
                location: Some(&location),
                signature: &signature,
                ..Default::default()
            };
            return Response::error(301, &cx);
        }
        // mod_dir's subrequest per name: a name whose sections deny it is skipped, and its
        // status is answered if no other name serves (fixup_dir's error_notfound).
        let mut error_notfound = None;
        let mut neg_error = None;
        let negotiation = cfg.loaded_modules.contains(&"negotiation");
        let names = dir.directory_index.as_ref().unwrap_or(&cfg.directory_index);
        let index = names.iter().find_map(|name| {
            let sub_url = format!("{decoded}{name}");
            let sub_fs = fs_path.join(name);
            let f = root.locate(&[&url_bytes[..], name.as_bytes()].concat());
            if let Located::NotFound(_) = f
                && negotiation
            {
                // The sub-request's own type checker: MultiViews resolves `index.html`
                // to `index.html.en` …
                let d = walk_sections(x, table, &sub_url, &sub_fs).ok()?;
                if crate::config::options::merge(d.options.iter())
                    & crate::config::options::OPT_MULTI
                    == 0
                {
                    return None;
                }
                return match negotiate::multiviews(x, table, &sub_url, &sub_fs, &env_now, &d) {
                    negotiate::Outcome::Declined(_) => None,
                    negotiate::Outcome::Answer(r) => {
                        // fixup_dir's error_notfound: a 406 (with its variant list and
                        // negotiation fields) is the answer if no other name serves.
                        if r.status != 404 {
                            neg_error = Some(r);
                        }
                        None
                    }
                    negotiate::Outcome::Chosen {
                        path, section, neg, ..
                    } => {
                        let vname = path.file_name()?.to_string_lossy().into_owned();
                        // The sub-request's variant-list validator does not reach the
                        // main request's ETag.
                        let neg = negotiate::Negotiated { vlist: None, ..neg };
                        let f = root.locate(&[&url_bytes[..], vname.as_bytes()].concat());
                        Some((f, vname, *section, Some(neg)))
                    }
                };
            }
            if !matches!(f, Located::File(..)) {
                return None;
            }
            match walk_sections(x, table, &sub_url, &sub_fs) {
                Ok(d) => match access_check(x, &d.access(), &sub_fs, &env_now).0 {
                    None => Some((f, name.clone(), d, None)),
                    Some(denied) => {
                        error_notfound = Some(denied.status);
                        None
                    }
                },
                Err(status) => {
                    error_notfound = Some(status);
                    None
                }
            }
        });
        if let (None, Some(r)) = (&index, neg_error) {
            return *r;
        }
        if let (None, Some(status)) = (&index, error_notfound) {
            return x.error(status, None);
        }
        match index {
            Some((f, name, d, neg)) => {
                // mod_dir's internal redirect: the access log's %U shows the index file.
                out.uri = Some(format!("{decoded}{name}"));
                out.filename = Some(format!("{}{name}", fs_path.display()));
                (located, etag_bits) = (f, d.etag_bits());
                if neg.is_some() {
                    out.negotiated = neg;
                }
                index_section = Some(d);
            }
            // No index: mod_autoindex, when loaded, lists the directory or refuses (403,
            // AH01276); without it, or for a method it declines, the directory reaches the
            // default handler, which will not serve a directory (404, AH00129).
            None if cfg.loaded_modules.contains(&"autoindex") => {
                // r->filename: the mapped path, not the one with its links resolved.
                if let Some(r) =
                    super::subreq::autoindex(x, dir, table, &env_now, &decoded, &fs_path, options)
                {
                    return r;
                }
            }
            None => {}
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
    // The served file's metadata: the index file's own when mod_dir chose one.
    let (dir, mime) = match (&index_section, &located) {
        (Some(d), Located::File(p, ..)) => (d, file_mime(x, d, p)),
        _ => (dir, mime),
    };
    out.mime_deflate = mime.deflate;
    // mod_negotiation's handler for type maps (AddHandler type-map, or the map's own type).
    if let Located::File(map, ..) = &located
        && cfg.loaded_modules.contains(&"negotiation")
        && (handler.or(mime.handler.as_deref()) == Some("type-map")
            || mime.content_type.as_deref() == Some("application/x-type-map"))
    {
        let url = out.uri.clone().unwrap_or_else(|| decoded.clone());
        return match negotiate::map_file(x, map, &url, dir, &env_now) {
            Err(r) => *r,
            Ok((variant_url, neg)) => {
                out.negotiated = Some(neg);
                cgi_handler::internal_redirect(x, &variant_url, false)
            }
        };
    }
    default_handler(
        x,
        located,
        etag_bits,
        &mime,
        dir.file_delivery(),
        mime.deflate || dir.has_output_filters(),
    )
}

/// mod_mime's `find_ct` for `path` under the merged sections `dir`, then core's `ForceType`.
pub(super) fn file_mime(
    x: &Exchange<'_>,
    dir: &crate::config::Section,
    path: &std::path::Path,
) -> MimeInfo {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default();
    let mut info = type_check(&name, dir.mime.as_deref(), &x.server.inner.mime, false);
    if let Some(t) = dir.force_type.as_deref().filter(|t| *t != "none") {
        info.content_type = Some(t.to_string());
    }
    info
}

/// Step 3b: the section walk, reading `.htaccess` files where the table allows them (a 500 or
/// 403 from a bad or unreadable one, logged at `alert` as Apache does).
pub(crate) fn walk_sections(
    x: &Exchange<'_>,
    table: &crate::config::SectionTable,
    url: &str,
    fs_path: &std::path::Path,
) -> Result<crate::config::Section, u16> {
    // Only a table with AllowOverride somewhere needs to know whether the target is a directory.
    let is_dir = table.htaccess_possible && fs_path.is_dir();
    table.walk(url, fs_path, is_dir, &mut |dir, allowed| {
        read_htaccess(x, dir, allowed)
    })
}

/// One directory's `.htaccess` for the walk, a bad or unreadable one logged at `alert`.
pub(super) fn read_htaccess(
    x: &Exchange<'_>,
    dir: &std::path::Path,
    allowed: &crate::config::AllowOverride,
) -> Result<Option<crate::config::Section>, u16> {
    crate::config::htaccess::read(&x.server.inner.config, dir, allowed).map_err(|e| {
        x.log("core", Level::Alert, format_args!("{}", e.log));
        e.status
    })
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
pub(super) struct Mapped {
    pub(super) fs_path: std::path::PathBuf,
    /// A ScriptAlias forced `cgi-script`.
    script: bool,
    /// The Alias target the file is under (`None`: DocumentRoot).
    alias_root: Option<std::path::PathBuf>,
    /// A prefix alias's (URL prefix, target): CGI's CONTEXT_PREFIX and CONTEXT_DOCUMENT_ROOT.
    context: Option<(String, String)>,
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
pub(super) fn map_url(
    x: &Exchange<'_>,
    root: &DocRoot,
    decoded: &str,
) -> Result<Mapped, Box<Response>> {
    let cfg = &x.server.inner.config;
    let docroot = || Mapped {
        fs_path: root.path.join(decoded.trim_start_matches('/')),
        script: false,
        alias_root: None,
        context: None,
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
            Err(Box::new(redirect_response(x, status, location.as_deref())))
        }
        Some(Translated::File {
            path,
            script,
            alias_root,
            context,
        }) => Ok(Mapped {
            fs_path: path,
            script,
            alias_root: Some(alias_root),
            context,
        }),
    }
}

/// mod_alias's answer: a 3xx with its `Location`, or the error page of another status.
fn redirect_response(x: &Exchange<'_>, status: u16, location: Option<&str>) -> Response {
    if !(300..400).contains(&status) {
        return x.error(status, None);
    }
    let cx = PageContext {
        location,
        method: &x.req.line.method,
        ..Default::default()
    };
    Response::error(status, &cx)
}

/// Step 7: `core.c: default_handler`.
fn default_handler(
    x: &mut Exchange<'_>,
    located: Located,
    etag_bits: u8,
    mime: &MimeInfo,
    how: super::file_bucket::FileDelivery,
    dir_has_filters: bool,
) -> Response {
    let method = x.req.line.method.as_str();
    if let Err(e) = x.body.discard() {
        return x.body_error(e);
    }
    let content_type = |_: &std::path::Path| {
        let charset = x.server.inner.config.add_default_charset.as_deref();
        mime.content_type
            .clone()
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
                content_fields(x, &mut r, mime);
            }
            return r;
        }
        return x.error(405, None);
    }
    // GET and POST alike: Apache 2.4 sets `deliver_script` on every request (core_create_req),
    // so a POST to a file is served like a GET once its body is discarded.
    let is_dir = matches!(located, Located::Dir(_));
    let (path, meta, file) = match located {
        Located::File(p, m, f) => (p, m, f),
        Located::NotFound(p) | Located::Dir(p) => {
            let what = if is_dir {
                "AH00129: Attempt to serve directory"
            } else {
                "AH00128: File does not exist"
            };
            x.log("core", Level::Info, format_args!("{what}: {}", p.display()));
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
    match serve_file(
        x.req,
        &path,
        &meta,
        file,
        content_type(&path),
        &x.server.inner.boundary,
        super::static_files::ServeOptions {
            etag_bits,
            delivery: how,
            defer_range: dir_has_filters,
        },
    ) {
        Ok(mut r) => {
            content_fields(x, &mut r, mime);
            r
        }
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
        Err((416, _)) => range_not_satisfiable(x),
        Err((status, _)) => x.error(status, None),
    }
}

/// `Content-Encoding` and `Content-Language` from mod_mime, the encoding spelled as the client
/// did when mod_negotiation is loaded (its `fix_encoding` fixup).
fn content_fields(x: &Exchange<'_>, r: &mut Response, mime: &MimeInfo) {
    r.content_encoding = mime.encoding.as_ref().map(|e| {
        x.server
            .inner
            .config
            .loaded_modules
            .contains(&"negotiation")
            .then(|| fix_encoding(e, x.req.headers.get("Accept-Encoding")))
            .flatten()
            .unwrap_or_else(|| e.clone())
    });
    if !mime.languages.is_empty() {
        r.content_languages = Some(mime.languages.join(","));
    }
}

/// The byterange filter fails after the head was decided: Apache sends its 416 page without a
/// length, chunked on HTTP/1.1 and ended by the close on HTTP/1.0.
pub(super) fn range_not_satisfiable(x: &Exchange<'_>) -> Response {
    let mut r = x.error(416, None);
    r.chunked = x.req.line.version.is_1_1_or_later();
    r.close_delimited = !r.chunked;
    r
}

/// `ap_send_http_trace` with TraceEnable On: no request body allowed; echo the request.
fn trace(x: &mut Exchange<'_>) -> Response {
    if !x.server.inner.config.trace_enable {
        return x.error(405, Some("TRACE denied by server configuration"));
    }
    // `ap_setup_client_block(r, REQUEST_NO_BODY)`: a Transfer-Encoding other than exactly
    // `chunked` is not implemented there (AH01592; the default handler's body reader would
    // accept `gzip, chunked`), and any body is refused (AH01595).
    if let Some(tenc) = x.req.headers.get("Transfer-Encoding")
        && !tenc.eq_ignore_ascii_case("chunked")
    {
        x.log(
            "http",
            crate::log::Level::Info,
            format_args!("AH01592: Unknown Transfer-Encoding {tenc}"),
        );
        let mut r = x.error(501, None);
        // `make_allow`: the methods the handler allowed (none yet), and TRACE when enabled.
        for h in r.headers.iter_mut().filter(|(n, _)| *n == "Allow") {
            h.1 = "TRACE".into();
        }
        return r;
    }
    if x.body.has_body() {
        x.log(
            "http",
            crate::log::Level::Info,
            format_args!(
                "AH01595: TRACE with body is not allowed for {}",
                x.req.line.path
            ),
        );
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
    // Apache does not know the length when the header goes out: chunked on HTTP/1.1, ended
    // by the close on HTTP/1.0.
    r.chunked = x.req.line.version.is_1_1_or_later();
    r.close_delimited = !r.chunked;
    r
}
