//! `ErrorDocument` (`core.c: set_error_document`, `http_request.c: ap_die`,
//! `http_protocol.c: ap_send_error_response`): what replaces Apache's canned error page.
//!
//! The second argument is classified once, at configuration time, as Apache does:
//!
//! 1. It contains a space, or is none of the forms below: a **message**, sent as the body
//!    (Apache keeps it with a leading `"` to tell it apart; so do we).
//! 2. It starts with `/`: a **local URL**, served with the error's status (Apache's internal
//!    redirect; mpm-lab serves the file it maps to, without running the sections again). If
//!    that fails, the canned page says "Additionally, a 404 Not Found error was encountered …".
//! 3. It is a full URL (`scheme://…`): a **302 redirect** to it (refused for 401, AH00113).
//!
//! `ErrorDocument 404 default` removes an inherited setting.

use super::error_pages::{PageContext, reason};
use super::handler::Exchange;
use super::response::{Chunk, Response};
use super::static_files::Located;
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

/// Steps 1–3 for an error response `r` of the request in `x`.
pub fn apply(x: &Exchange<'_>, mut r: Response, dir: &Section) -> Response {
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
    let path = doc.split('?').next().unwrap_or(doc);
    if let Some(body) = local_document(x, path) {
        r.content_type = body.1;
        r.body = vec![Chunk::Bytes(body.0)];
        return r;
    }
    // ap_die's "Additionally": the canned page with the second failure appended. Debian's
    // apache2 names the original status there (checked: a 403 whose ErrorDocument is missing
    // says "Additionally, a 403 Forbidden"), so we do too.
    let extra = format!(
        "<p>Additionally, a {} {}\nerror was encountered while trying to use an ErrorDocument to handle the request.</p>\n",
        r.status,
        reason(r.status)
    );
    if let Some(Chunk::Bytes(page)) = r.body.first_mut()
        && let Some(at) = find(page, b"</body></html>")
    {
        page.splice(at..at, extra.into_bytes());
    }
    r
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).rposition(|w| w == needle)
}

/// The file a local ErrorDocument URL maps to in the request's (virtual) server, with its type.
fn local_document(x: &Exchange<'_>, url: &str) -> Option<(Vec<u8>, Option<String>)> {
    let inner = &x.server.inner;
    let docroot = match x.vhost {
        Some(i) => &inner.vhosts[i].docroot,
        None => &inner.docroot,
    };
    let Located::File(path, ..) = docroot.locate(url.as_bytes()) else {
        return None;
    };
    let body = std::fs::read(&path).ok()?;
    let name = path.file_name()?.to_string_lossy().into_owned();
    Some((body, inner.mime.content_type(&name)))
}
