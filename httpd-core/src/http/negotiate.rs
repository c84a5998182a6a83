//! mod_negotiation's hooks on the request path (`mod_negotiation.c: handle_multi`,
//! `read_types_multi`, `handle_map_file`, `do_negotiation`, `set_neg_headers`,
//! `setup_choice_response`, `make_variant_list`); the decision itself is
//! [`crate::modules::negotiation`].
//!
//! Steps for MultiViews ([`multiviews`], called only when `Options MultiViews` is in force
//! and the requested file does not exist, so other requests pay nothing):
//! 1. Read the directory; every entry `NAME.*` that is not a directory is a candidate.
//! 2. Each candidate is looked up like Apache's sub-request: the sections merged for it, its
//!    access checked, mod_mime's `find_ct` run. It is dropped when denied, when its
//!    unrecognised extensions do not match the requested name's segments in order, or when
//!    it has no type. A type map among them replaces the list with the map's variants.
//! 3. Candidates but no variant: 404 with AH00687. No candidate: decline (the 404 stays).
//! 4. Variants are sorted by source quality then name, [`do_negotiation`] chooses; the
//!    chosen variant's file is then served as if requested (Apache's fast redirect), with
//!    `Content-Location`, `Vary` and `TCN` added.
//!
//! A type map ([`map_file`]) is the `type-map` handler: the map's variants are negotiated, an
//! inline `Body:` is sent from the map file, a `URI:` variant is an internal redirect.

use std::path::{Path, PathBuf};

use super::handler::{Exchange, walk_sections};
use super::module_hooks::access_check;
use super::response::{Chunk, Response};
use crate::config::Section;
use crate::log::Level;
use crate::modules::mime::find_ct;
use crate::modules::negotiation::{CGI_MAGIC_TYPE, Neg, Variant, best_match};
use crate::modules::negotiation_map;
use crate::modules::setenvif::Env;

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
fn dir_vlist(dir: &Path, now: std::time::SystemTime) -> Option<String> {
    let m = std::fs::metadata(dir).ok()?.modified().ok()?;
    let us = m.duration_since(std::time::UNIX_EPOCH).ok()?.as_micros() as u64;
    let weak = now.duration_since(m).is_ok_and(|d| d.as_secs() < 1);
    Some(format!("{}\"{us:x}\"", if weak { "W/" } else { "" }))
}

/// How a negotiation ended.
pub enum Outcome {
    /// Not ours (no candidate): the request goes on as if MultiViews were off.
    Declined,
    /// Serve this file (under the URL `url`), merged with these sections.
    Chosen {
        path: PathBuf,
        url: String,
        section: Box<Section>,
        neg: Negotiated,
    },
    /// An error answer (300, 404, 406, 500).
    Answer(Box<Response>),
}

/// Steps 1–4 of the module doc, for `url` mapped to the missing `fs_path`.
pub fn multiviews(
    x: &Exchange<'_>,
    table: &crate::config::SectionTable,
    url: &str,
    fs_path: &Path,
    env: &Env,
    conf: &Section,
) -> Outcome {
    let (Some(dir), Some(want)) = (
        fs_path.parent(),
        fs_path.file_name().and_then(|n| n.to_str()),
    ) else {
        return Outcome::Declined;
    };
    let url_dir = &url[..url.rfind('/').map_or(0, |i| i + 1)];
    // 1.
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) => {
            x.log(
                "negotiation",
                Level::Error,
                format_args!(
                    "({}){e}: AH00686: cannot read directory for multi: {}/",
                    e.raw_os_error().unwrap_or(0),
                    dir.display()
                ),
            );
            return Outcome::Answer(Box::new(x.error(403, None)));
        }
    };
    let mut vars = Vec::new();
    let mut sections = Vec::new();
    let mut anymatch = false;
    let types = &x.server.inner.mime;
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if !(name.len() > want.len()
            && name.starts_with(want)
            && name.as_bytes()[want.len()] == b'.')
        {
            continue;
        }
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            continue;
        }
        anymatch = true;
        // 2. the sub-request.
        let path = dir.join(name);
        let Ok(meta) = std::fs::metadata(&path) else {
            continue;
        };
        if !meta.is_file() {
            continue;
        }
        let sub_url = format!("{url_dir}{name}");
        let Ok(sec) = walk_sections(x, table, &sub_url, &path) else {
            continue;
        };
        if access_check(x, &sec.access(), &path, env).0.is_some() {
            continue;
        }
        let info = find_ct(name, sec.mime.as_deref(), types);
        let Some(exceptions) = &info.exceptions else {
            continue;
        };
        if !exceptions_match(want, exceptions) {
            continue;
        }
        let handler = sec
            .handler
            .clone()
            .filter(|h| !h.eq_ignore_ascii_case("none"))
            .or(info.handler.clone());
        let mut ctype = sec.force_type.clone().or(info.content_type.clone());
        if handler.is_some() && ctype.is_none() {
            ctype = Some(CGI_MAGIC_TYPE.to_string());
        }
        let Some(ctype) = ctype else { continue };
        if ctype == "application/x-type-map" || handler.as_deref() == Some("type-map") {
            // The map's choice is fast-redirected like any variant: no `Expires`.
            return match map_negotiation(x, &path, url, conf, env) {
                Outcome::Chosen {
                    path,
                    url,
                    section,
                    neg,
                } => Outcome::Chosen {
                    path,
                    url,
                    section,
                    neg: Negotiated {
                        no_cache: false,
                        ..neg
                    },
                },
                other => other,
            };
        }
        let mut v = Variant::new(name.to_string(), &ctype);
        v.encoding = info.encoding.clone();
        v.languages = info.languages.clone();
        v.bytes = meta.len() as i64;
        v.has_handler = handler.is_some();
        vars.push(v);
        sections.push((path, sub_url, sec));
    }
    // 3.
    if vars.is_empty() {
        if anymatch {
            x.log(
                "negotiation",
                Level::Error,
                format_args!(
                    "AH00687: Negotiation: discovered file(s) matching request: {} (None could be negotiated).",
                    fs_path.display()
                ),
            );
            return Outcome::Answer(Box::new(x.error(404, None)));
        }
        return Outcome::Declined;
    }
    // 4. variantsortf: source quality down, then name.
    let mut order: Vec<usize> = (0..vars.len()).collect();
    order.sort_by(|&a, &b| {
        vars[b]
            .source_quality
            .partial_cmp(&vars[a].source_quality)
            .unwrap_or(std::cmp::Ordering::Equal)
            .then_with(|| vars[a].file_name.cmp(&vars[b].file_name))
    });
    let mut sorted: Vec<Variant> = order.iter().map(|&i| vars[i].clone()).collect();
    let mut secs: Vec<Option<(PathBuf, String, Section)>> =
        order.iter().map(|&i| Some(sections[i].clone())).collect();
    let count = sorted.len();
    let prefer_scripts =
        x.req.line.method != "GET" && x.req.line.method != "HEAD" || x.req.line.query.is_some();
    match do_negotiation(x, conf, env, &mut sorted, prefer_scripts, count, fs_path) {
        Err(r) => Outcome::Answer(r),
        Ok((best, mut neg)) => {
            neg.vlist = dir_vlist(dir, x.req.time);
            // ap_internal_fast_redirect keeps `no_cache` only if the variant's sub-request
            // has it too, which it never has: MultiViews answers carry no `Expires`.
            neg.no_cache = false;
            let (path, url, section) = secs[best].take().unwrap_or_default();
            Outcome::Chosen {
                path,
                url,
                section: Box::new(section),
                neg,
            }
        }
    }
}

/// Step 2's name check: each unrecognised segment of the variant must appear, in order,
/// among the requested name's `.`-separated segments (`index.html.foo` serves `index.foo`).
fn exceptions_match(want: &str, exceptions: &[String]) -> bool {
    let mut pending = exceptions.iter().peekable();
    for seg in want.split('.') {
        if pending.peek().is_some_and(|e| e.as_str() == seg) {
            pending.next();
        }
        if pending.peek().is_none() {
            break;
        }
    }
    pending.peek().is_none()
}

/// The negotiation of a type map's variants (requested, or found by MultiViews).
fn map_negotiation(x: &Exchange<'_>, map: &Path, url: &str, conf: &Section, env: &Env) -> Outcome {
    let text = match std::fs::read(map) {
        Ok(t) => t,
        Err(e) => {
            x.log(
                "negotiation",
                Level::Error,
                format_args!(
                    "({}){e}: AH00683: cannot access type map file: {}",
                    e.raw_os_error().unwrap_or(0),
                    map.display()
                ),
            );
            let status = if e.kind() == std::io::ErrorKind::NotFound {
                404
            } else {
                403
            };
            return Outcome::Answer(Box::new(x.error(status, None)));
        }
    };
    let mut vars = match negotiation_map::read(&map.display().to_string(), &text) {
        Ok(v) => v,
        Err(e) => {
            x.log("negotiation", Level::Error, format_args!("{}", e.log));
            return Outcome::Answer(Box::new(x.error(500, None)));
        }
    };
    let dir = map.parent().unwrap_or(map);
    let (best, mut neg) = match do_negotiation(x, conf, env, &mut vars, false, 0, map) {
        Ok(v) => v,
        Err(r) => return Outcome::Answer(r),
    };
    // The map's own validator (`set_vlist_validator(r, rr)`): its ETag.
    neg.vlist = std::fs::metadata(map)
        .ok()
        .map(|m| {
            super::static_files::Validators::with_etag_bits(&m, x.req.time, conf.etag_bits()).etag
        })
        .filter(|e| !e.is_empty());
    let v = &vars[best];
    if let Some((off, len)) = v.body {
        let mut r = Response::new(200);
        let body = text
            .get(off as usize..(off + len) as usize)
            .unwrap_or_default()
            .to_vec();
        r.headers.push(("Accept-Ranges", "bytes".into()));
        if !v.mime_type.is_empty() {
            r.content_type = Some(if v.charset.is_empty() {
                v.mime_type.clone()
            } else {
                format!("{}; charset={}", v.mime_type, v.charset)
            });
        }
        if !v.languages.is_empty() {
            r.content_languages = Some(v.languages.join(","));
        }
        r.content_encoding = v.encoding.clone().filter(|e| !e.is_empty());
        r.body.push(Chunk::Bytes(body));
        neg.apply(&mut r);
        return Outcome::Answer(Box::new(r));
    }
    let url_dir = &url[..url.rfind('/').map_or(0, |i| i + 1)];
    Outcome::Chosen {
        path: dir.join(&v.file_name),
        url: format!("{url_dir}{}", v.file_name),
        section: Box::default(),
        neg,
    }
}

/// The `type-map` handler (`handle_map_file`) for the map file `map` requested as `url`.
/// `Ok(new_url)` asks for an internal redirect to the chosen variant.
pub fn map_file(
    x: &Exchange<'_>,
    map: &Path,
    url: &str,
    conf: &Section,
    env: &Env,
) -> Result<(String, Negotiated), Box<Response>> {
    let method = x.req.line.method.as_str();
    match map_negotiation(x, map, url, conf, env) {
        Outcome::Answer(mut r) => {
            // An inline body answers GET and POST only (ap_allow_standard_methods).
            if r.status == 200 && !matches!(method, "GET" | "HEAD" | "POST") {
                let mut e = x.error(405, None);
                e.err_headers = std::mem::take(&mut r.err_headers);
                return Err(Box::new(e));
            }
            Err(r)
        }
        Outcome::Declined => Err(Box::new(x.error(404, None))),
        Outcome::Chosen { url: new, neg, .. } => {
            let with_query = match &x.req.line.query {
                Some(q) => format!("{new}?{q}"),
                None => new,
            };
            Ok((with_query, neg))
        }
    }
}

/// `do_negotiation` + `setup_choice_response` for `r->filename` (the missing file or the
/// map): the index of the chosen variant and the headers to add, or the 300/406 answer (with the variant list) to send.
fn do_negotiation(
    x: &Exchange<'_>,
    conf: &Section,
    env: &Env,
    vars: &mut [Variant],
    prefer_scripts: bool,
    multiviews_count: usize,
    filename: &Path,
) -> Result<(usize, Negotiated), Box<Response>> {
    let dir = filename.parent().unwrap_or(filename);
    let req = x.req;
    let get = |n: &str| req.headers.get(n).map(str::to_string);
    let mut neg = Neg::from_headers(&get, conf.negotiation.clone().unwrap_or_default());
    neg.is_transparent = matches!(req.line.method.as_str(), "GET" | "HEAD")
        && vars
            .iter()
            .all(|v| !v.file_name.contains('/') && v.body.is_none());
    if neg.is_transparent {
        neg.parse_negotiate(req.headers.get("Negotiate"), req.headers.get("User-Agent"));
    } else {
        neg.may_choose = true;
    }
    neg.prefer_language = env.get("prefer-language").map(str::to_string);
    neg.may_discard = if env.get("no-gzip").is_some() {
        1
    } else if env.get("gzip-only-text/html") == Some("1") {
        2
    } else {
        0
    };
    neg.add_default_accepts(prefer_scripts);
    let len = |v: &Variant| {
        if v.bytes >= 0 {
            v.bytes
        } else {
            std::fs::metadata(dir.join(&v.file_name)).map_or(-1, |m| m.len() as i64)
        }
    };
    let (best, choice) = best_match(&mut neg, vars, &len);
    let mut out = Negotiated::default();
    if !choice {
        neg.send_alternates = true;
        let headers = neg_headers(&neg, vars, false, &len);
        let list = variant_list(vars);
        let status = if neg.is_transparent && neg.ua_supports_trans {
            300
        } else if best.is_none() {
            x.log(
                "negotiation",
                Level::Error,
                format_args!(
                    "AH00690: no acceptable variant: {}",
                    dir.join(req.line.path.rsplit('/').next().unwrap_or(""))
                        .display()
                ),
            );
            406
        } else {
            0
        };
        if status != 0 {
            let mut r = x.error(status, Some(&list));
            r.err_headers = headers;
            return Err(Box::new(r));
        }
    }
    let best = best.unwrap_or(0);
    if neg.is_transparent {
        out.err_headers.push((
            "Content-Location".into(),
            escape_path_segment(&vars[best].file_name),
        ));
    }
    out.err_headers
        .extend(neg_headers(&neg, vars, neg.is_transparent && choice, &len));
    let cache = x.server.inner.config.cache_negotiated_docs;
    out.no_cache = !cache && !req.line.version.is_1_1_or_later() && multiviews_count != 1;
    Ok((best, out))
}

/// `set_neg_headers`: `Alternates` when asked for, `Vary` by the dimensions in which the
/// variants differ, `TCN` for a transparent resource.
fn neg_headers(
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
fn variant_list(vars: &[Variant]) -> String {
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
fn escape_path_segment(s: &str) -> String {
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
    fn multiviews_name_check_and_escapes() {
        assert!(exceptions_match("index", &["index".into()]));
        assert!(exceptions_match("index.html", &["index".into()]));
        assert!(exceptions_match(
            "index.foo",
            &["index".into(), "foo".into()]
        ));
        assert!(!exceptions_match("index", &["index".into(), "foo".into()]));
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
