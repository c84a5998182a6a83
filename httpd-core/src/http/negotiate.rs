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
//! inline `Body:` is sent from the map file, a `URI:` variant is an internal redirect. The
//! fields added to the answer are [`super::negotiate_fields`].

use std::path::{Path, PathBuf};

use super::handler::{Exchange, walk_sections};
use super::module_hooks::access_check;
pub use super::negotiate_fields::Negotiated;
use super::negotiate_fields::{dir_vlist, escape_path_segment, neg_headers, variant_list};
use super::response::{Chunk, Response};
use crate::config::Section;
use crate::log::Level;
use crate::modules::mime::find_ct;
use crate::modules::negotiation::{CGI_MAGIC_TYPE, Neg, Variant, best_match};
use crate::modules::negotiation_map;
use crate::modules::setenvif::Env;

/// How a negotiation ended.
pub enum Outcome {
    /// Not ours (no candidate): the request goes on as if MultiViews were off. A directory
    /// scan that found nothing still leaves its validator (`read_types_multi` sets it before
    /// `handle_multi` declines), which an ErrorDocument's ETag then carries.
    Declined(Option<String>),
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
        return Outcome::Declined(None);
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
        return Outcome::Declined(dir_vlist(dir, x.req.time));
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
        Outcome::Declined(_) => Err(Box::new(x.error(404, None))),
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
    let mut neg = Neg::from_headers(
        &get,
        conf.negotiation.as_deref().cloned().unwrap_or_default(),
    );
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
                format_args!("AH00690: no acceptable variant: {}", filename.display()),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multiviews_name_check() {
        assert!(exceptions_match("index", &["index".into()]));
        assert!(exceptions_match("index.html", &["index".into()]));
        assert!(exceptions_match(
            "index.foo",
            &["index".into(), "foo".into()]
        ));
        assert!(!exceptions_match("index", &["index".into(), "foo".into()]));
    }
}
