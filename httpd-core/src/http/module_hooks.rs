//! The request-phase hooks of the modules in [`crate::modules`], as the handler calls them
//! (Apache's hook points in `server/request.c: ap_process_request_internal` and the output
//! filters): mod_setenvif (`post_read_request`, `header_parser`), access control and
//! authentication (`access_checker`, `check_user_id`, `auth_checker`), mod_headers (its output
//! filter), and the notes the access log reads afterwards. Kept apart from [`super::handler`]
//! so the core steps stay readable.

use super::handler::Exchange;
use super::response::Response;
use crate::log::Level;

pub(super) fn cfg_has_headers(x: &Exchange<'_>, out: &RequestNotes) -> bool {
    !x.server.inner.config.server_headers.is_empty() || !out.header_cmds.is_empty()
}

/// mod_headers' output filter: `onsuccess` lines on `headers_out` (not on error pages, which
/// drop that table), `always` lines on `err_headers_out`.
pub(super) fn apply_headers(x: &Exchange<'_>, r: &mut Response, out: &RequestNotes) {
    use crate::modules::headers::TagContext;
    let since_epoch =
        |t: std::time::SystemTime| t.duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    let cx = TagContext {
        request_time_us: since_epoch(x.req.time).as_micros(),
        elapsed_us: std::time::SystemTime::now()
            .duration_since(x.req.time)
            .unwrap_or_default()
            .as_micros(),
        env: &out.env,
    };
    let request: Vec<(&str, &str)> = x.req.headers.iter().collect();
    let cmds = x
        .server
        .inner
        .config
        .server_headers
        .iter()
        .chain(&out.header_cmds);
    for cmd in cmds {
        if cmd.always {
            let mut t = OwnedTable {
                fields: &mut r.err_headers,
                content_type: &mut r.content_type,
            };
            cmd.apply(&mut t, &cx, &request);
        } else if !r.error_page {
            let mut t = OutTable {
                fixed: &mut r.headers,
                added: &mut r.added_headers,
                content_type: &mut r.content_type,
            };
            cmd.apply(&mut t, &cx, &request);
        }
    }
}

/// `err_headers_out`: fields with owned names; `Content-Type` is the response's type.
struct OwnedTable<'a> {
    fields: &'a mut Vec<(String, String)>,
    content_type: &'a mut Option<String>,
}

impl crate::modules::headers::Table for OwnedTable<'_> {
    fn get(&self, name: &str) -> Option<String> {
        if name.eq_ignore_ascii_case("Content-Type") {
            return self.content_type.clone();
        }
        self.fields
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
    }
    fn set(&mut self, name: &str, value: String) {
        if name.eq_ignore_ascii_case("Content-Type") {
            *self.content_type = Some(value);
            return;
        }
        match self
            .fields
            .iter()
            .position(|(k, _)| k.eq_ignore_ascii_case(name))
        {
            Some(i) => {
                self.fields[i].1 = value;
                let mut seen = 0;
                self.fields.retain(|(k, _)| {
                    let same = k.eq_ignore_ascii_case(name);
                    seen += usize::from(same);
                    !same || seen == 1
                });
            }
            None => self.fields.push((name.to_string(), value)),
        }
    }
    fn add(&mut self, name: &str, value: String) {
        if name.eq_ignore_ascii_case("Content-Type") {
            *self.content_type = Some(value);
            return;
        }
        self.fields.push((name.to_string(), value));
    }
    fn unset(&mut self, name: &str) {
        if name.eq_ignore_ascii_case("Content-Type") {
            *self.content_type = None;
        }
        self.fields.retain(|(k, _)| !k.eq_ignore_ascii_case(name));
    }
}

/// `headers_out`: the handler's fields (fixed names, kept in place when changed), then the
/// fields mod_headers added.
struct OutTable<'a> {
    fixed: &'a mut Vec<(&'static str, String)>,
    added: &'a mut Vec<(String, String)>,
    content_type: &'a mut Option<String>,
}

impl crate::modules::headers::Table for OutTable<'_> {
    fn get(&self, name: &str) -> Option<String> {
        let fixed = self.fixed.iter().map(|(k, v)| (*k, v));
        let added = self.added.iter().map(|(k, v)| (k.as_str(), v));
        if name.eq_ignore_ascii_case("Content-Type") {
            return self.content_type.clone();
        }
        fixed
            .chain(added)
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
    }
    fn set(&mut self, name: &str, value: String) {
        match self
            .fixed
            .iter()
            .position(|(k, _)| k.eq_ignore_ascii_case(name))
        {
            // The handler's field keeps its place; added ones of the name go.
            Some(i) => {
                self.fixed[i].1 = value;
                self.added.retain(|(k, _)| !k.eq_ignore_ascii_case(name));
            }
            None => self.owned().set(name, value),
        }
    }
    fn add(&mut self, name: &str, value: String) {
        self.owned().add(name, value);
    }
    fn unset(&mut self, name: &str) {
        self.fixed.retain(|(k, _)| !k.eq_ignore_ascii_case(name));
        self.owned().unset(name);
    }
}

impl OutTable<'_> {
    fn owned(&mut self) -> OwnedTable<'_> {
        OwnedTable {
            fields: self.added,
            content_type: self.content_type,
        }
    }
}

/// What the request steps leave for the logs besides the response.
#[derive(Default)]
pub(super) struct RequestNotes {
    /// `r->subprocess_env` (mod_setenvif, mod_env): the access log's `%{VAR}e`.
    pub(super) env: crate::modules::setenvif::Env,
    /// `r->uri` after an internal redirect (mod_dir's index file): the access log's `%U`.
    pub(super) uri: Option<String>,
    /// The sections' `Header` lines in merge order (mod_headers; empty for most configs).
    pub(super) header_cmds: Vec<crate::modules::headers::HeaderCmd>,
    /// `r->handler` when `SetHandler` chose it (`%R`).
    pub(super) handler: Option<String>,
    /// `r->filename` (`%f`).
    pub(super) filename: Option<String>,
    /// What mod_negotiation adds to the answer (`Vary`, `TCN`, `Content-Location`, …).
    pub(super) negotiated: Option<super::negotiate::Negotiated>,
    /// `r->notes` (`%{name}n`: mod_deflate's `DeflateFilterNote`).
    pub(super) notes: crate::modules::setenvif::Env,
    /// mod_mime added DEFLATE for the served file's extension (`AddOutputFilter`).
    pub(super) mime_deflate: bool,
}

/// mod_setenvif: the server's rules (`post_read_request`), then the sections' in merge order
/// (`header_parser`).
pub(super) fn setenvif(
    x: &Exchange<'_>,
    uri: &str,
    sections: &[&crate::config::Section],
) -> crate::modules::setenvif::Env {
    use crate::modules::setenvif::{Env, RequestView};
    let cfg = &x.server.inner.config;
    let mut env = Env::default();
    if cfg.server_setenvif.is_empty() && sections.iter().all(|s| s.setenvif.is_empty()) {
        return env;
    }
    let headers: Vec<(&str, &str)> = x.req.headers.iter().collect();
    let protocol = match x.req.line.version {
        super::request_line::Version::Http09 => "HTTP/0.9".to_string(),
        super::request_line::Version::Http(ma, mi) => format!("HTTP/{ma}.{mi}"),
    };
    let view = RequestView {
        client: x.peer.ip(),
        local: x.local.ip(),
        method: &x.req.line.method,
        protocol: &protocol,
        uri,
        headers: &headers,
    };
    for rule in cfg
        .server_setenvif
        .iter()
        .chain(sections.iter().flat_map(|s| &s.setenvif))
    {
        rule.apply(&view, &mut env);
    }
    env
}

/// Step 4: `None` to go on, or the 403/401/500 to send; and the user (also on a 401: Apache
/// sets `r->user` before checking the password).
pub(super) fn access_check(
    x: &Exchange<'_>,
    access: &crate::modules::authz::DirAccess,
    fs_path: &std::path::Path,
    env: &crate::modules::setenvif::Env,
) -> (Option<Response>, Option<String>) {
    use crate::modules::authz::{Access, Request as AuthzRequest, check_access};
    let filename = fs_path.display().to_string();
    let has_env = |name: &str| env.get(name).is_some();
    let verdict = check_access(
        access,
        &AuthzRequest {
            client: x.peer.ip(),
            local: x.local.ip(),
            authorization: x.req.headers.get("Authorization"),
            uri: &x.req.line.path,
            filename: &filename,
            env: &has_env,
        },
    );
    match verdict {
        Access::Granted { user } => (None, user),
        Access::Forbidden { module, log } => {
            x.log(module, Level::Error, format_args!("{log}"));
            (Some(x.error(403, None)), None)
        }
        Access::Unauthorized {
            challenge,
            user,
            log,
        } => {
            if let Some((module, line)) = log {
                x.log(module, Level::Error, format_args!("{line}"));
            }
            let mut r = x.error(401, None);
            r.headers.push(("WWW-Authenticate", challenge));
            (Some(r), user)
        }
        Access::Error { module, log } => {
            x.log(module, Level::Error, format_args!("{log}"));
            (Some(x.error(500, None)), None)
        }
    }
}

/// mod_headers' fixup for `RequestHeader`: the edited request, or `None` when no line applies
/// (the common case costs two emptiness checks).
pub(super) fn request_headers(
    x: &Exchange<'_>,
    dir: &crate::config::Section,
    env: &crate::modules::setenvif::Env,
) -> Option<super::request::Request> {
    let server = &x.server.inner.config.server_request_headers;
    if server.is_empty() && dir.request_headers.is_empty() {
        return None;
    }
    let since_epoch =
        |t: std::time::SystemTime| t.duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    let cx = crate::modules::headers::TagContext {
        request_time_us: since_epoch(x.req.time).as_micros(),
        elapsed_us: std::time::SystemTime::now()
            .duration_since(x.req.time)
            .unwrap_or_default()
            .as_micros(),
        env,
    };
    let mut edited = x.req.clone();
    for cmd in server.iter().chain(&dir.request_headers) {
        cmd.apply(&mut edited.headers, &cx, &[]);
    }
    Some(edited)
}

/// The output filters of the request's section ([`crate::modules::filter`]): mod_deflate's
/// DEFLATE is the one there is. Nothing is looked at when the section names no filter.
pub(super) fn output_filters(
    x: &Exchange<'_>,
    section: &crate::config::Section,
    r: &mut Response,
    out: &mut RequestNotes,
) {
    // Apache's own error pages (and ErrorDocument messages) leave through the protocol
    // filters only (`ap_send_error_response` resets `r->output_filters`).
    if r.error_page || !(out.mime_deflate || section.has_output_filters()) {
        return;
    }
    // mod_mime's `AddOutputFilter DEFLATE .ext` and core's/mod_filter's configuration add the
    // same filter: it runs once if either asks.
    if out.mime_deflate
        || crate::modules::filter::applies(
            section,
            "DEFLATE",
            r.status,
            r.content_type.as_deref(),
            &out.env,
        )
    {
        deflate(x, r, out);
    }
    // The byterange filter, after the content filters.
    if r.range_pending.is_some()
        && super::static_files::apply_pending_range(r, &x.server.inner.boundary).is_err()
    {
        *r = super::handler::range_not_satisfiable(x);
    }
}

/// mod_deflate's filter with the request's facts: the one call any configuration of
/// DEFLATE (core, mod_filter, mod_mime) ends in.
pub(super) fn deflate(x: &Exchange<'_>, r: &mut Response, out: &mut RequestNotes) {
    let req = crate::modules::deflate::RequestFacts {
        accept_encoding: x.req.headers.get("Accept-Encoding"),
        http11: x.req.line.version.is_1_1_or_later(),
        head: x.req.is_head(),
        env: &out.env,
    };
    crate::modules::deflate::output_filter(&x.server.inner.config.deflate, &req, r, &mut out.notes);
}
