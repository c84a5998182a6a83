//! `ErrorDocument` (`core.c: set_error_document`, `http_request.c: ap_die`,
//! `http_protocol.c: ap_send_error_response`): what replaces Apache's canned error page.
//!
//! The second argument is classified once, at configuration time, as Apache does:
//!
//! 1. It contains a space, or is none of the forms below: a **message**, sent as the body
//!    (Apache keeps it with a leading `"` to tell it apart; so do we).
//! 2. It starts with `/`: a **local URL**, served with the error's status by an internal
//!    redirect (a GET of that URL through the whole request path, so Aliases, sections and
//!    mod_negotiation's type maps apply: Debian's localized `/error/*.html.var` pages). If
//!    that fails, the canned page says "Additionally, a 404 Not Found error was encountered …"
//!    (an error while serving the ErrorDocument gets no ErrorDocument of its own).
//! 3. It is a full URL (`scheme://…`): a **302 redirect** to it (refused for 401, AH00113).
//!
//! `ErrorDocument 404 default` removes an inherited setting.

use super::error_pages::{PageContext, reason};
use super::handler::Exchange;
use super::response::{Chunk, Response};
use crate::config::Section;

/// The directive (context: server, sections, `.htaccess` with FileInfo).
pub fn set_error_document(
    w: &mut crate::config::walk::Walker<'_>,
    a: &[String],
) -> Result<(), String> {
    let code: u16 = a[0].parse().unwrap_or(0);
    if !(400..=599).contains(&code) && !(300..=399).contains(&code) {
        return Err(format!("Unsupported HTTP response code {}", a[0]));
    }
    let msg = &a[1];
    let is_url = msg
        .split_once("://")
        .is_some_and(|(s, _)| !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric()));
    let stored = if msg.contains(' ') || (!msg.starts_with('/') && !is_url) {
        format!("\"{msg}\"")
    } else if code == 401 && is_url {
        w.cfg.startup_warnings.push(
            "AH00113: cannot use a full URL in a 401 ErrorDocument directive --- ignoring!"
                .to_string(),
        );
        return Ok(());
    } else {
        msg.clone()
    };
    let s = w.section_mut();
    s.error_documents.retain(|(c, _)| *c != code);
    s.error_documents.push((code, stored));
    Ok(())
}

/// The `ErrorDocument` for `status` in `dir`, `None` when unset or `default`.
fn lookup(dir: &Section, status: u16) -> Option<&str> {
    dir.error_documents
        .iter()
        .rev()
        .find(|(c, _)| *c == status)
        .map(|(_, d)| d.as_str())
        .filter(|d| *d != "\"default\"" && *d != "default")
}

thread_local! {
    /// An ErrorDocument's internal redirect is running on this thread (`ap_die`'s
    /// `recursive_error`: its own errors get the canned page).
    static SERVING: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Steps 1–3 for an error response `r` of the request in `x`.
pub fn apply(x: &mut Exchange<'_>, mut r: Response, dir: &Section) -> Response {
    if SERVING.with(std::cell::Cell::get) {
        return r;
    }
    let Some(doc) = lookup(dir, r.status) else {
        return r;
    };
    if let Some(text) = doc.strip_prefix('"') {
        r.body = vec![Chunk::Bytes(text.trim_end_matches('"').as_bytes().to_vec())];
        return r;
    }
    if !doc.starts_with('/') {
        let cx = PageContext {
            location: Some(doc),
            ..Default::default()
        };
        return Response::error(302, &cx);
    }
    let doc = doc.to_string();
    SERVING.with(|s| s.set(true));
    let served = crate::modules::cgi_handler::internal_redirect(x, &doc, true);
    SERVING.with(|s| s.set(false));
    if served.status == 200 {
        // The redirected request's answer under the original status (`ap_die` keeps
        // r->status): its fields and body, this request's connection handling.
        r.headers = served.headers;
        r.err_headers.extend(served.err_headers);
        r.content_type = served.content_type;
        r.content_encoding = served.content_encoding;
        r.content_languages = served.content_languages;
        r.no_cache |= served.no_cache;
        r.body = served.body;
        r.chunked = served.chunked;
        r.close_delimited = served.close_delimited;
        // A real document now: a HEAD gets its length, as for any file.
        r.error_page = false;
        return r;
    }
    // ap_die's "Additionally": the canned page with the second failure appended. Debian's
    // apache2 names the original status there (checked: a 403 whose ErrorDocument is missing
    // says "Additionally, a 403 Forbidden"), so we do too.
    let status = r.status;
    additionally(&mut r, status);
    r
}

/// `ap_send_error_response(r, recursive_error)`: the canned page `r` gets the paragraph that
/// names `recursive` (the status whose page could not be sent).
pub(crate) fn additionally(r: &mut Response, recursive: u16) {
    let extra = format!(
        "<p>Additionally, a {} {}\nerror was encountered while trying to use an ErrorDocument to handle the request.</p>\n",
        recursive,
        reason(recursive)
    );
    if let Some(Chunk::Bytes(page)) = r.body.first_mut()
        && let Some(at) = find(page, b"</body></html>")
    {
        page.splice(at..at, extra.into_bytes());
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).rposition(|w| w == needle)
}
