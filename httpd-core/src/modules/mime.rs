//! mod_mime's per-directory half (`modules/http/mod_mime.c`): the extension mappings of
//! `AddType`, `AddEncoding`, `AddCharset`, `AddLanguage`, `AddHandler` and their `Remove*`
//! forms, `DefaultLanguage`, `MultiviewsMatch`, and `find_ct`, the
//! type checker that turns a file name into its metadata. The `TypesConfig` table itself is
//! [`crate::http::mime::MimeTypes`].
//!
//! Rules (Apache's, numbered for the tests):
//! 1. Every extension after the base name counts (`find_ct`): `file.html.en` is `text/html`
//!    in English, `file.tar.gz` is `application/x-gzip` encoded `gzip`. Each piece of
//!    metadata comes from its own mapping; the last extension with a type wins, encodings
//!    accumulate in order (`gzip, compress`), languages accumulate.
//! 2. Extensions match case-insensitively; leading dots belong to the base name (`.png` has
//!    no extension); empty extensions (`a..html`) are skipped.
//! 3. `AddType` beats `TypesConfig` for its extension; `RemoveType` records an empty type so
//!    that `TypesConfig` is overridden too.
//! 4. Merge (`merge_mime_dir_configs`): the inner section's mappings overlay the outer ones
//!    field by field; its `Remove*` lines then clear the field from the merged mapping (so a
//!    removal is not inherited further in, but an `Add*` deeper in can set it again).
//! 5. A charset from `AddCharset` is appended to the type as `; charset=` (replacing one the
//!    type had); `DefaultLanguage` applies when no extension gave a language.
//! 6. Extensions that gave no metadata are the "exceptions" mod_negotiation matches against
//!    the requested name; a handler or filter counts as metadata only under
//!    `MultiviewsMatch Handlers`/`Filters`, any extension under `MultiviewsMatch Any`.
//!
//! 7. `AddOutputFilter DEFLATE .ext` adds mod_deflate's filter to the requests for such files
//!    (on top of `SetOutputFilter`/`AddOutputFilterByType`); `RemoveOutputFilter` clears it.
//!
//! Left out: `AddInputFilter`/`RemoveInputFilter` are refused at configuration time
//! (mpm-lab has no input filters), `AddOutputFilter` takes DEFLATE only, and
//! `ModMimeUsePathInfo` is refused (the type checker sees the file name only). `MimeOptions` is trunk's,
//! not 2.4's: an unknown directive, as in Apache 2.4.

use std::collections::HashMap;
use std::sync::Arc;

use crate::http::mime::MimeTypes;

/// One extension's mappings (`extension_info`). `Some("")` for `forced_type` is `RemoveType`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExtInfo {
    pub forced_type: Option<String>,
    pub encoding: Option<String>,
    pub language: Option<String>,
    pub handler: Option<String>,
    pub charset: Option<String>,
    /// `AddOutputFilter` (`;`-separated names, lower case; DEFLATE is the only one mpm-lab has).
    pub output_filters: Option<String>,
}

/// Which field of [`ExtInfo`] an `Add*`/`Remove*` directive touches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Type,
    Encoding,
    Language,
    Handler,
    Charset,
    OutputFilter,
}

impl ExtInfo {
    fn slot(&mut self, f: Field) -> &mut Option<String> {
        match f {
            Field::Type => &mut self.forced_type,
            Field::Encoding => &mut self.encoding,
            Field::Language => &mut self.language,
            Field::Handler => &mut self.handler,
            Field::Charset => &mut self.charset,
            Field::OutputFilter => &mut self.output_filters,
        }
    }

    /// `overlay_extension_mappings`: every field the overlay sets wins.
    fn overlay(&mut self, o: &ExtInfo) {
        for (mine, theirs) in [
            (&mut self.forced_type, &o.forced_type),
            (&mut self.encoding, &o.encoding),
            (&mut self.language, &o.language),
            (&mut self.handler, &o.handler),
            (&mut self.charset, &o.charset),
            (&mut self.output_filters, &o.output_filters),
        ] {
            if theirs.is_some() {
                mine.clone_from(theirs);
            }
        }
    }
}

/// `MultiviewsMatch` bits (`MULTIMATCH_*`); 0 is unset (= NegotiatedOnly).
pub const MULTIMATCH_ANY: u8 = 1;
pub const MULTIMATCH_NEGOTIATED: u8 = 2;
pub const MULTIMATCH_HANDLERS: u8 = 4;
pub const MULTIMATCH_FILTERS: u8 = 8;

/// `mime_dir_config` of one section (or, merged, of a request).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MimeDir {
    /// Lower-case extension (no dot) to its mappings.
    pub ext: HashMap<String, ExtInfo>,
    /// `Remove*` lines of this section, applied when it is merged (rule 4).
    pub remove: Vec<(String, Field)>,
    pub default_language: Option<String>,
    pub multimatch: u8,
}

/// `ITERATE2` extension key: lower case, one leading dot dropped.
fn key(ext: &str) -> String {
    ext.strip_prefix('.').unwrap_or(ext).to_ascii_lowercase()
}

impl MimeDir {
    /// `add_extension_info`: the value is stored in lower case, like Apache.
    pub fn add(&mut self, field: Field, value: &str, ext: &str) {
        *self.ext.entry(key(ext)).or_default().slot(field) = Some(value.to_ascii_lowercase());
    }

    /// `remove_extension_info` (`RemoveType` is `add(Type, "")`, rule 3).
    pub fn remove(&mut self, field: Field, ext: &str) {
        self.remove.push((key(ext), field));
    }

    /// `MultiviewsMatch` (`multiviews_match`), one word.
    pub fn multiviews_match(&mut self, word: &str) -> Result<(), String> {
        let m = self.multimatch;
        let (bit, clash, msg) = match word.to_ascii_lowercase().as_str() {
            "any" => (
                MULTIMATCH_ANY,
                !MULTIMATCH_ANY,
                "Any is incompatible with NegotiatedOnly, Filters and Handlers",
            ),
            "negotiatedonly" => (
                MULTIMATCH_NEGOTIATED,
                !MULTIMATCH_NEGOTIATED,
                "NegotiatedOnly is incompatible with Any, Filters and Handlers",
            ),
            "filters" => (
                MULTIMATCH_FILTERS,
                MULTIMATCH_NEGOTIATED | MULTIMATCH_ANY,
                "Filters is incompatible with Any and NegotiatedOnly",
            ),
            "handlers" => (
                MULTIMATCH_HANDLERS,
                MULTIMATCH_NEGOTIATED | MULTIMATCH_ANY,
                "Handlers is incompatible with Any and NegotiatedOnly",
            ),
            _ => return Err(format!("Unrecognized option '{word}'")),
        };
        if m & clash != 0 {
            return Err(msg.to_string());
        }
        self.multimatch |= bit;
        Ok(())
    }
}

/// Rule 4: `base` merged with the inner section `add`. Cheap when `add` sets nothing: the
/// outer `Arc` is shared.
pub fn merge(base: Option<&Arc<MimeDir>>, add: &Arc<MimeDir>) -> Arc<MimeDir> {
    let Some(base) = base else {
        if add.remove.is_empty() {
            return add.clone();
        }
        let mut own = (**add).clone();
        apply_removes(&mut own.ext, &add.remove);
        own.remove.clear();
        return Arc::new(own);
    };
    let mut ext = base.ext.clone();
    for (k, v) in &add.ext {
        ext.entry(k.clone()).or_default().overlay(v);
    }
    apply_removes(&mut ext, &add.remove);
    Arc::new(MimeDir {
        ext,
        remove: Vec::new(),
        default_language: add
            .default_language
            .clone()
            .or_else(|| base.default_language.clone()),
        multimatch: if add.multimatch != 0 {
            add.multimatch
        } else {
            base.multimatch
        },
    })
}

fn apply_removes(ext: &mut HashMap<String, ExtInfo>, removes: &[(String, Field)]) {
    for (k, f) in removes {
        if let Some(info) = ext.get_mut(k) {
            *info.slot(*f) = None;
        }
    }
}

/// What `find_ct` found for one file name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MimeInfo {
    /// The media type with any `; charset=` (rule 5).
    pub content_type: Option<String>,
    /// `Content-Encoding`, encodings joined with `, ` in extension order.
    pub encoding: Option<String>,
    /// `Content-Language` items in extension order (or `DefaultLanguage`).
    pub languages: Vec<String>,
    /// The charset alone (mod_negotiation scores it).
    pub charset: Option<String>,
    /// `AddHandler`'s handler.
    pub handler: Option<String>,
    /// An extension's `AddOutputFilter` named DEFLATE (`ap_add_output_filter` for the request).
    pub deflate: bool,
    /// Rule 6: `Some` when some extension gave metadata: the base name, then every extension
    /// (as written) that gave none.
    pub exceptions: Option<Vec<String>>,
}

/// `find_ct` for `file_name` (no directory part) under the merged section's `dir`.
pub fn find_ct(file_name: &str, dir: Option<&MimeDir>, types: &MimeTypes) -> MimeInfo {
    type_check(file_name, dir, types, true)
}

/// [`find_ct`]; without `exceptions` the list mod_negotiation needs is not built (the request
/// path's call: no allocation beyond the metadata found).
pub fn type_check(
    file_name: &str,
    dir: Option<&MimeDir>,
    types: &MimeTypes,
    exceptions: bool,
) -> MimeInfo {
    let collect = exceptions;
    let mut info = MimeInfo::default();
    // Leading dots are part of the base name (rule 2).
    let lead = file_name.len() - file_name.trim_start_matches('.').len();
    let (base, rest) = match file_name[lead..].find('.') {
        Some(i) => (&file_name[..lead + i], &file_name[lead + i + 1..]),
        None => (file_name, ""),
    };
    let mut exceptions = Vec::new();
    if collect {
        exceptions.push(base.to_string());
    }
    let mut found_metadata = false;
    let multimatch = dir.map_or(0, |d| d.multimatch);
    let mut charset: Option<&str> = None;
    for ext in rest.split('.').filter(|e| !e.is_empty()) {
        let lower = ext.to_ascii_lowercase();
        let exinfo = dir.and_then(|d| d.ext.get(&lower));
        let mut found = false;
        if exinfo.is_none_or(|e| e.forced_type.is_none())
            && let Some(t) = types.lookup(&lower)
        {
            info.content_type = Some(t);
            found = true;
        }
        if let Some(e) = exinfo {
            if let Some(t) = e.forced_type.as_deref().filter(|t| !t.is_empty()) {
                info.content_type = Some(t.to_string());
                found = true;
            }
            if let Some(c) = &e.charset {
                charset = Some(c);
                found = true;
            }
            if let Some(l) = &e.language {
                info.languages.push(l.clone());
                found = true;
            }
            if let Some(enc) = &e.encoding {
                info.encoding = Some(match info.encoding.take() {
                    None => enc.clone(),
                    Some(prev) => format!("{prev}, {enc}"),
                });
                found = true;
            }
            if let Some(h) = &e.handler {
                info.handler = Some(h.clone());
                found |= multimatch & MULTIMATCH_HANDLERS != 0;
            }
            if let Some(f) = &e.output_filters {
                info.deflate |= f.split(';').any(|n| n == "deflate");
                found |= multimatch & MULTIMATCH_FILTERS != 0;
            }
        }
        if found || multimatch & MULTIMATCH_ANY != 0 {
            found_metadata = true;
        } else if collect {
            exceptions.push(ext.to_string());
        }
    }
    if found_metadata && collect {
        info.exceptions = Some(exceptions);
    }
    if let (Some(t), Some(cs)) = (&info.content_type, charset) {
        info.content_type = Some(with_charset(t, cs));
    }
    info.charset = charset.map(str::to_string);
    if info.languages.is_empty()
        && let Some(l) = dir.and_then(|d| d.default_language.as_ref())
    {
        info.languages.push(l.clone());
    }
    info
}

/// Rule 5 (`find_ct`'s parameter rewrite): the type's own `charset` parameter is replaced,
/// others are kept, and the charset comes last when the type had none.
fn with_charset(t: &str, cs: &str) -> String {
    let mut parts = t.split(';');
    let mut out = parts.next().unwrap_or("").trim().to_string();
    let mut replaced = false;
    for p in parts {
        let p = p.trim();
        let (attr, val) = p.split_once('=').unwrap_or((p, ""));
        if attr.trim().eq_ignore_ascii_case("charset") {
            if !replaced {
                out.push_str("; charset=");
                out.push_str(cs);
                replaced = true;
            }
        } else {
            out.push_str(&format!("; {}={}", attr.trim(), val.trim()));
        }
    }
    if !replaced {
        out.push_str("; charset=");
        out.push_str(cs);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn debian_like() -> MimeDir {
        let mut d = MimeDir::default();
        d.add(Field::Type, "application/x-gzip", ".gz");
        d.add(Field::Language, "en", ".en");
        d.add(Field::Language, "es", ".es");
        d.add(Field::Type, "", "es"); // RemoveType es
        d.add(Field::Charset, "UTF-8", ".utf8");
        d.add(Field::Encoding, "gzip", "gz");
        d.add(Field::Handler, "type-map", "var");
        d
    }

    fn types() -> MimeTypes {
        MimeTypes::parse("text/html html\napplication/ecmascript es\ntext/plain txt\n")
    }

    #[test]
    fn mime_1_every_extension_gives_its_own_metadata() {
        let d = debian_like();
        let i = find_ct("index.html.en", Some(&d), &types());
        assert_eq!(i.content_type.as_deref(), Some("text/html"));
        assert_eq!(i.languages, vec!["en"]);
        let i = find_ct("file.tar.gz", Some(&d), &types());
        assert_eq!(i.content_type.as_deref(), Some("application/x-gzip"));
        assert_eq!(i.encoding.as_deref(), Some("gzip"));
        assert_eq!(i.exceptions, Some(vec!["file".into(), "tar".into()]));
        let i = find_ct("page.html.utf8", Some(&d), &types());
        assert_eq!(i.content_type.as_deref(), Some("text/html; charset=utf-8"));
        assert_eq!(i.handler, None);
        assert_eq!(
            find_ct("map.var", Some(&d), &types()).handler.as_deref(),
            Some("type-map")
        );
        // A handler alone is no metadata (rule 6): no exception list for negotiation.
        assert_eq!(find_ct("map.var", Some(&d), &types()).exceptions, None);
    }

    #[test]
    fn mime_2_and_3_case_dots_and_remove_type() {
        let d = debian_like();
        let i = find_ct("INDEX.HTML.ES", Some(&d), &types());
        // RemoveType es hides TypesConfig's application/ecmascript for .es.
        assert_eq!(i.content_type.as_deref(), Some("text/html"));
        assert_eq!(i.languages, vec!["es"]);
        assert_eq!(find_ct(".html", Some(&d), &types()).content_type, None);
        assert_eq!(
            find_ct("a..txt", None, &types()).content_type.as_deref(),
            Some("text/plain")
        );
    }

    #[test]
    fn mime_4_merge_overlays_then_removes() {
        let base = Arc::new(debian_like());
        let mut inner = MimeDir::default();
        inner.add(Field::Charset, "iso-8859-1", "en");
        inner.remove(Field::Encoding, ".gz");
        inner.default_language = Some("fr".into());
        let m = merge(Some(&base), &Arc::new(inner));
        let en = &m.ext["en"];
        assert_eq!(en.language.as_deref(), Some("en"));
        assert_eq!(en.charset.as_deref(), Some("iso-8859-1"));
        assert_eq!(m.ext["gz"].encoding, None);
        assert_eq!(
            m.ext["gz"].forced_type.as_deref(),
            Some("application/x-gzip")
        );
        let i = find_ct("doc.txt", Some(&m), &types());
        assert_eq!(i.languages, vec!["fr"], "DefaultLanguage");
        // A section that sets nothing shares the outer table.
        let same = merge(Some(&m), &Arc::new(MimeDir::default()));
        assert!(same.ext == m.ext);
    }

    #[test]
    fn mime_5_charset_replaces_the_types_own() {
        assert_eq!(
            with_charset("text/html; charset=x; level=2", "utf-8"),
            "text/html; charset=utf-8; level=2"
        );
        assert_eq!(
            with_charset("text/plain", "koi8-r"),
            "text/plain; charset=koi8-r"
        );
    }

    #[test]
    fn mime_6_multiviews_match() {
        let mut d = debian_like();
        assert!(d.multiviews_match("Handlers").is_ok());
        assert_eq!(
            d.multiviews_match("Any").unwrap_err(),
            "Any is incompatible with NegotiatedOnly, Filters and Handlers"
        );
        assert_eq!(
            find_ct("map.var", Some(&d), &types()).exceptions,
            Some(vec!["map".into()])
        );
        let mut any = MimeDir::default();
        any.multiviews_match("any").unwrap();
        assert_eq!(
            find_ct("a.zzz", Some(&any), &types()).exceptions,
            Some(vec!["a".into()])
        );
        assert!(any.multiviews_match("bogus").is_err());
    }
}
