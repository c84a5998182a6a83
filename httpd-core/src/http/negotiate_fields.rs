//! What mod_negotiation adds to an answer (`mod_negotiation.c: set_neg_headers`,
//! `make_variant_list`, `setup_choice_response`; `util_etag.c` for the variant-list
//! validator): `Alternates`, `Vary`, `TCN`, `Content-Location`, the HTML list of a 300 or 406
//! page, and the `ETag` as Apache prints it for a negotiated variant.

use std::path::Path;

use super::response::Response;
use crate::modules::negotiation::{Neg, Variant};

/// What a chosen variant adds to the response (`err_headers_out`, `no_cache`, the variant
/// list validator that ends up in the `ETag`).
#[derive(Debug, Clone, Default)]
pub struct Negotiated {
    pub err_headers: Vec<(String, String)>,
    /// HTTP/1.0 client, several variants, no `CacheNegotiatedDocs`: `Expires` now.
    pub no_cache: bool,
    /// `r->vlist_validator` as `ap_make_etag` would print it (`"hex"` or `W/"hex"`).
    pub vlist: Option<String>,
}

impl Negotiated {
    /// Put the fields on the answer (`ap_http_header_filter` sends `err_headers_out` first).
    pub fn apply(self, r: &mut Response) {
        let mut front = self.err_headers;
        front.append(&mut r.err_headers);
        r.err_headers = front;
        r.no_cache |= self.no_cache;
        if let Some(v) = self.vlist {
            add_vlist_to_etag(r, &v);
        }
    }
}

/// `ap_make_etag_ex` with a variant-list validator: `"size-mtime;` then the validator
/// without its quotes, and Apache's `apr_cpystrn` drops the closing quote; a weak validator
/// makes the tag weak.
fn add_vlist_to_etag(r: &mut Response, vlist: &str) {
    let Some(slot) = r.headers.iter_mut().find(|(n, _)| *n == "ETag") else {
        return;
    };
    let (weak_v, inner) = match vlist.strip_prefix("W/\"") {
        Some(rest) => (true, rest),
        None => (false, vlist.strip_prefix('"').unwrap_or(vlist)),
    };
    let inner = inner.strip_suffix('"').unwrap_or(inner);
    let etag = slot.1.strip_suffix('"').unwrap_or(&slot.1);
    let etag = if weak_v && !etag.starts_with("W/") {
        format!("W/{etag}")
    } else {
        etag.to_string()
    };
    slot.1 = format!("{etag};{inner}");
}

/// The validator of a directory-scan variant list: Apache's `r->finfo` still holds the
/// directory's stat when the file is missing, so it is the directory's mtime in µs.
pub(super) fn dir_vlist(dir: &Path, now: std::time::SystemTime) -> Option<String> {
    let m = std::fs::metadata(dir).ok()?.modified().ok()?;
    let us = m.duration_since(std::time::UNIX_EPOCH).ok()?.as_micros() as u64;
    let weak = now.duration_since(m).is_ok_and(|d| d.as_secs() < 1);
    Some(format!("{}\"{us:x}\"", if weak { "W/" } else { "" }))
}

/// `set_neg_headers`: `Alternates` when asked for, `Vary` by the dimensions in which the
/// variants differ, `TCN` for a transparent resource.
pub(super) fn neg_headers(
    neg: &Neg,
    vars: &[Variant],
    choice: bool,
    len: &dyn Fn(&Variant) -> i64,
) -> Vec<(String, String)> {
    let mut h = Vec::new();
    let first = vars.first();
    let lang = |v: &Variant| v.languages.join(",");
    let differs = |f: &dyn Fn(&Variant) -> String| {
        first.is_some_and(|a| vars.iter().skip(1).any(|v| f(v) != f(a)))
    };
    let by_type = differs(&|v| v.mime_type.clone());
    let by_lang = differs(&lang);
    let by_charset = differs(&|v| v.charset.clone());
    let by_enc = differs(&|v| v.encoding.clone().unwrap_or_default());
    if neg.send_alternates && !vars.is_empty() {
        let alts: Vec<String> = vars
            .iter()
            .map(|v| {
                let mut s = format!(
                    "{{\"{}\" {}",
                    escape_path_segment(&v.file_name),
                    qstr(v.source_quality)
                );
                if !v.mime_type.is_empty() {
                    s.push_str(&format!(" {{type {}}}", v.mime_type));
                }
                if !v.charset.is_empty() {
                    s.push_str(&format!(" {{charset {}}}", v.charset));
                }
                if !v.languages.is_empty() {
                    s.push_str(&format!(" {{language {}}}", lang(v)));
                }
                if let Some(e) = v.encoding.as_deref().filter(|e| !e.is_empty()) {
                    s.push_str(&format!(" {{encoding {e}}}"));
                }
                let n = len(v);
                if !v.has_handler && n >= 0 {
                    s.push_str(&format!(" {{length {n}}}"));
                }
                s.push('}');
                s
            })
            .collect();
        h.push(("Alternates".into(), alts.join(", ")));
    }
    if neg.is_transparent || by_type || by_lang || by_charset || by_enc {
        // fixup_vary joins the tokens with "," when the head is written.
        let toks: Vec<&str> = [
            (neg.is_transparent, "negotiate"),
            (by_type, "accept"),
            (by_lang, "accept-language"),
            (by_charset, "accept-charset"),
            (by_enc, "accept-encoding"),
        ]
        .iter()
        .filter(|(on, _)| *on)
        .map(|(_, t)| *t)
        .collect();
        h.push(("Vary".into(), toks.join(",")));
    }
    if neg.is_transparent {
        h.push(("TCN".into(), if choice { "choice" } else { "list" }.into()));
    }
    h
}

/// `%1.3f` with trailing zeros stripped as `set_neg_headers` does (`1.000` → `1`).
fn qstr(q: f32) -> String {
    let s = format!("{q:1.3}");
    let b = s.as_bytes();
    if b.len() >= 5 && b[4] == b'0' {
        if b[3] == b'0' {
            if b[2] == b'0' {
                return s[..1].to_string();
            }
            return s[..3].to_string();
        }
        return s[..4].to_string();
    }
    s
}

/// `make_variant_list`: the HTML list of a 300 or 406 page.
pub(super) fn variant_list(vars: &[Variant]) -> String {
    use super::error_pages::escape_html;
    let mut s = String::from("Available variants:\n<ul>\n");
    for v in vars {
        s.push_str(&format!(
            "<li><a href=\"{}\">{}</a> {}",
            escape_path_segment(&v.file_name),
            escape_html(&v.file_name),
            v.description
        ));
        if !v.mime_type.is_empty() {
            s.push_str(&format!(", type {}", v.mime_type));
        }
        if !v.languages.is_empty() {
            s.push_str(&format!(", language {}", v.languages.join(",")));
        }
        if !v.charset.is_empty() {
            s.push_str(&format!(", charset {}", v.charset));
        }
        if let Some(e) = &v.encoding {
            s.push_str(&format!(", encoding {e}"));
        }
        s.push_str("</li>\n");
    }
    s.push_str("</ul>\n");
    s
}

/// `ap_escape_path_segment`: what is not a path character is `%XX`.
pub(super) fn escape_path_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"$-_.+!*'(),:@&=~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02x}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_and_source_quality_text() {
        assert_eq!(escape_path_segment("a b/c.html"), "a%20b%2fc.html");
        assert_eq!(qstr(1.0), "1");
        assert_eq!(qstr(0.5), "0.5");
        assert_eq!(qstr(0.25), "0.25");
        assert_eq!(qstr(0.125), "0.125");
    }

    #[test]
    fn vlist_goes_into_the_etag_as_apache_prints_it() {
        let mut r = Response::new(200);
        r.headers.push(("ETag", "\"9-661c\"".into()));
        add_vlist_to_etag(&mut r, "\"abc\"");
        assert_eq!(r.headers[0].1, "\"9-661c;abc");
        let mut r = Response::new(200);
        r.headers.push(("ETag", "\"9-661c\"".into()));
        add_vlist_to_etag(&mut r, "W/\"abc\"");
        assert_eq!(r.headers[0].1, "W/\"9-661c;abc");
    }
}
