//! Content negotiation's decision (`modules/mappers/mod_negotiation.c`): the client's
//! `Accept*` headers, the variants, and Apache's server-driven algorithm (`best_match` with
//! `is_variant_better`, or RFC 2296's RVSA/1.0 when the client sends `Negotiate: 1.0`).
//! The headers are parsed by [`super::negotiation_accept`], each dimension's quality set by
//! [`super::negotiation_quality`]. Pure functions: the variants come in already read (a directory scan for MultiViews or a
//! type map, [`super::negotiation_map`]), and what to send goes out as data
//! ([`super::negotiation_handler`] acts on it).
//!
//! The tie-breaking order of `is_variant_better`, numbered as the tests cite it:
//! 1. a variant with any quality 0 (type, language, charset, encoding, source) is out;
//! 2. higher `type q × source q` wins;
//! 3. then higher language quality;
//! 4. then the lower language index (order in `Accept-Language`, else `LanguagePriority`);
//! 5. then the media-type level (`level_cmp`);
//! 6. then higher charset quality, or a charset other than ISO-8859-1;
//! 7. then higher encoding quality (an unencoded variant when no `Accept-Encoding`);
//! 8. then the smaller content length; on a full tie the earlier variant (sorted by name).
//!
//! Apache's "fiddles" are kept: with no `q=` in `Accept`, wildcard matches count 0.01
//! (`*/*`) and 0.02 (`type/*`); a variant without language gets 0.0001 when others have
//! one; `Accept-Language: en-US` matches `en` at 0.001; `ForceLanguagePriority` Prefer and
//! Fallback. Quality values are `f32` as in Apache, so ties break the same way.

pub use super::negotiation_accept::{AcceptRec, fix_encoding, get_entry, get_token, header_line};
use super::negotiation_quality::{
    is_identity, level_cmp, set_accept_quality, set_charset_quality, set_encoding_quality,
    set_language_quality,
};

/// `INCLUDES_MAGIC_TYPE` and `INCLUDES_MAGIC_TYPE3` (mod_include's pseudo-HTML types).
pub(crate) const INCLUDES_MAGIC: &str = "text/x-server-parsed-html";
pub(crate) const INCLUDES_MAGIC3: &str = "text/x-server-parsed-html3";
/// `CGI_MAGIC_TYPE`: what a variant with a handler and no type is taken for.
pub const CGI_MAGIC_TYPE: &str = "application/x-httpd-cgi";

/// `ForceLanguagePriority` bits (`FLP_*`); 0 = unset, which means Prefer.
pub const FLP_NONE: u8 = 1;
pub const FLP_PREFER: u8 = 2;
pub const FLP_FALLBACK: u8 = 4;

/// `neg_dir_config`: `LanguagePriority` and `ForceLanguagePriority` of a section.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NegConfig {
    pub language_priority: Option<Vec<String>>,
    pub force_priority: u8,
}

impl NegConfig {
    /// `merge_neg_dir_configs`: what the inner section sets wins.
    pub fn merged(&self, add: &NegConfig) -> NegConfig {
        NegConfig {
            language_priority: add
                .language_priority
                .clone()
                .or_else(|| self.language_priority.clone()),
            force_priority: if add.force_priority != 0 {
                add.force_priority
            } else {
                self.force_priority
            },
        }
    }

    /// `set_force_priority`, one word.
    pub fn force(&mut self, w: &str) -> Result<(), String> {
        let f = &mut self.force_priority;
        match w.to_ascii_lowercase().as_str() {
            "none" if *f & !FLP_NONE != 0 => {
                Err("Cannot combine ForceLanguagePriority options with None".into())
            }
            "none" => {
                *f = FLP_NONE;
                Ok(())
            }
            "prefer" | "fallback" if *f & FLP_NONE != 0 => Err(format!(
                "Cannot combine ForceLanguagePriority options None and {}",
                if w.eq_ignore_ascii_case("prefer") {
                    "Prefer"
                } else {
                    "Fallback"
                }
            )),
            "prefer" => {
                *f |= FLP_PREFER;
                Ok(())
            }
            "fallback" => {
                *f |= FLP_FALLBACK;
                Ok(())
            }
            _ => Err(format!("Invalid ForceLanguagePriority option {w}")),
        }
    }
}

/// One variant (`var_rec`), with the qualities `best_match` fills in.
#[derive(Debug, Clone, PartialEq)]
pub struct Variant {
    /// Name relative to the directory (MultiViews) or the map's `URI:`.
    pub file_name: String,
    pub mime_type: String,
    pub encoding: Option<String>,
    pub languages: Vec<String>,
    pub charset: String,
    pub description: String,
    /// A type map's inline `Body:`: (offset, length) in the map file.
    pub body: Option<(u64, u64)>,
    /// Length when known, else -1.
    pub bytes: i64,
    /// The variant's file has a handler (its `{length}` is not advertised).
    pub has_handler: bool,
    pub source_quality: f32,
    pub level: f32,
    pub is_pseudo_html: bool,
    pub lang_quality: f32,
    pub encoding_quality: f32,
    pub charset_quality: f32,
    pub mime_type_quality: f32,
    pub lang_index: i32,
    pub level_matched: f32,
    pub mime_stars: u8,
    pub definite: bool,
}

impl Variant {
    /// `clean_var_rec` then `set_mime_fields` from a `Content-Type` value.
    pub fn new(file_name: String, content_type: &str) -> Variant {
        let mut v = Variant {
            file_name,
            mime_type: String::new(),
            encoding: None,
            languages: Vec::new(),
            charset: String::new(),
            description: String::new(),
            body: None,
            bytes: -1,
            has_handler: false,
            source_quality: 0.0,
            level: 0.0,
            is_pseudo_html: false,
            lang_quality: 1.0,
            encoding_quality: 1.0,
            charset_quality: 1.0,
            mime_type_quality: 1.0,
            lang_index: -1,
            level_matched: 0.0,
            mime_stars: 0,
            definite: true,
        };
        if !content_type.is_empty() {
            v.set_mime_fields(content_type);
        }
        v
    }

    /// `set_mime_fields`: type, source quality (`qs`), level and charset from a
    /// `Content-Type` value.
    pub fn set_mime_fields(&mut self, content_type: &str) {
        let (ct, _) = get_entry(content_type);
        self.is_pseudo_html = matches!(
            ct.name.as_str(),
            "text/html" | INCLUDES_MAGIC | INCLUDES_MAGIC3
        );
        self.mime_type = ct.name;
        self.source_quality = ct.quality;
        self.level = ct.level;
        self.charset = ct.charset;
    }
}

/// The request's side of the negotiation (`negotiation_state`).
#[derive(Debug, Clone, Default)]
pub struct Neg {
    pub accepts: Option<Vec<AcceptRec>>,
    pub accept_encodings: Option<Vec<AcceptRec>>,
    pub accept_charsets: Option<Vec<AcceptRec>>,
    pub accept_langs: Option<Vec<AcceptRec>>,
    /// Some `Accept` item has `q` < 1.
    pub accept_q: bool,
    pub conf: NegConfig,
    pub default_lang_quality: f32,
    pub is_transparent: bool,
    pub dont_fiddle_headers: bool,
    pub ua_supports_trans: bool,
    pub send_alternates: bool,
    pub may_choose: bool,
    pub use_rvsa: bool,
    /// `prefer-language`, and `no-gzip` / `gzip-only-text/html` (1 / 2) from the environment.
    pub prefer_language: Option<String>,
    pub may_discard: u8,
}

impl Neg {
    /// `parse_accept_headers` from the request's header lookup.
    pub fn from_headers(get: &dyn Fn(&str) -> Option<String>, conf: NegConfig) -> Neg {
        let accepts = header_line(get("Accept").as_deref());
        let accept_q = accepts
            .as_ref()
            .is_some_and(|a| a.iter().any(|r| r.quality < 1.0));
        Neg {
            accepts,
            accept_q,
            accept_encodings: header_line(get("Accept-Encoding").as_deref()),
            accept_langs: header_line(get("Accept-Language").as_deref()),
            accept_charsets: header_line(get("Accept-Charset").as_deref()),
            conf,
            may_choose: true,
            ..Default::default()
        }
    }

    /// `parse_negotiate_header` (only for a transparently negotiable resource).
    pub fn parse_negotiate(&mut self, negotiate: Option<&str>, user_agent: Option<&str>) {
        self.may_choose = true;
        let Some(n) = negotiate else { return };
        // Lynx 2.7 and 2.8 send `Negotiate: trans` without supporting TCN.
        if n == "trans" && user_agent.is_some_and(|ua| ua.starts_with("Lynx")) {
            return;
        }
        self.may_choose = false;
        for tok in n.split(',').map(str::trim).filter(|t| !t.is_empty()) {
            let tok = tok.to_ascii_lowercase();
            if matches!(tok.as_str(), "trans" | "vlist" | "guess-small" | "*")
                || tok.starts_with(|c: char| c.is_ascii_digit())
            {
                self.ua_supports_trans = true;
                self.send_alternates = true;
                if tok == "1.0" {
                    self.may_choose = true;
                    self.use_rvsa = true;
                    self.dont_fiddle_headers = true;
                } else if tok.starts_with('*') {
                    self.may_choose = true;
                    self.dont_fiddle_headers = true;
                }
            }
        }
    }

    /// `maybe_add_default_accepts`.
    pub fn add_default_accepts(&mut self, prefer_scripts: bool) {
        let rvsa = self.use_rvsa;
        let a = self.accepts.get_or_insert_with(|| {
            vec![AcceptRec {
                name: "*/*".into(),
                quality: 1.0,
                level: 0.0,
                charset: String::new(),
            }]
        });
        a.push(AcceptRec {
            name: CGI_MAGIC_TYPE.into(),
            quality: if rvsa {
                0.0
            } else if prefer_scripts {
                2.0
            } else {
                0.001
            },
            level: 0.0,
            charset: String::new(),
        });
    }
}

/// `is_variant_better_rvsa` (RFC 2296).
fn better_rvsa(v: &Variant, best: Option<&Variant>, bestq: &mut f32) -> bool {
    if v.encoding_quality == 0.0 {
        return false;
    }
    let q = v.mime_type_quality * v.source_quality * v.charset_quality * v.lang_quality;
    if q <= 0.0 {
        return false;
    }
    if q > *bestq || (q == *bestq && best.is_some_and(|b| v.encoding_quality > b.encoding_quality))
    {
        *bestq = q;
        return true;
    }
    false
}

/// `is_variant_better`: steps 1–8 of the module doc. `len` gives a variant's length.
fn better(
    v: &Variant,
    best: Option<&Variant>,
    bestq: &mut f32,
    len: &dyn Fn(&Variant) -> i64,
) -> bool {
    // 1.
    if [
        v.encoding_quality,
        v.lang_quality,
        v.source_quality,
        v.charset_quality,
        v.mime_type_quality,
    ]
    .contains(&0.0)
    {
        return false;
    }
    // 2.
    let q = v.mime_type_quality * v.source_quality;
    if q == 0.0 || q < *bestq {
        return false;
    }
    let Some(b) = best.filter(|_| q <= *bestq) else {
        *bestq = q;
        return true;
    };
    let mut win = |w: bool| {
        if w {
            *bestq = q;
        }
        w
    };
    // 3.
    if v.lang_quality != b.lang_quality {
        return win(v.lang_quality > b.lang_quality);
    }
    // 4.
    if b.lang_index != -1 && (v.lang_index == -1 || v.lang_index > b.lang_index) {
        return false;
    }
    if v.lang_index != -1 && (b.lang_index == -1 || v.lang_index < b.lang_index) {
        return win(true);
    }
    // 5.
    match level_cmp(v, b) {
        -1 => return false,
        1 => return win(true),
        _ => {}
    }
    // 6.
    if v.charset_quality < b.charset_quality {
        return false;
    }
    let not_latin1 = |c: &str| !c.is_empty() && c != "iso-8859-1";
    if v.charset_quality > b.charset_quality || (not_latin1(&v.charset) && !not_latin1(&b.charset))
    {
        return win(true);
    }
    // 7.
    if v.encoding_quality != b.encoding_quality {
        return win(v.encoding_quality > b.encoding_quality);
    }
    // 8.
    win(len(v) < len(b))
}

/// `discard_variant_by_env` (`no-gzip` = 1, `gzip-only-text/html` = 2).
fn discarded(v: &Variant, discard: u8) -> bool {
    if is_identity(v.encoding.as_deref()) || v.encoding.as_deref() == Some("identity") {
        return false;
    }
    discard == 1 || (discard == 2 && !v.mime_type.starts_with("text/html"))
}

/// `best_match`: the qualities of every variant, the best one, and whether the algorithm
/// chose it (`alg_choice`; `false` is `alg_list`). `len` stats a variant when its length is
/// needed (step 8).
pub fn best_match(
    neg: &mut Neg,
    vars: &mut [Variant],
    len: &dyn Fn(&Variant) -> i64,
) -> (Option<usize>, bool) {
    neg.default_lang_quality =
        if !neg.dont_fiddle_headers && vars.iter().any(|v| !v.languages.is_empty()) {
            0.0001
        } else {
            1.0
        };
    let mut preferred = neg.prefer_language.clone();
    loop {
        let mut best: Option<usize> = None;
        let mut bestq = 0.0f32;
        for j in 0..vars.len() {
            if neg.may_discard != 0 && discarded(&vars[j], neg.may_discard) {
                continue;
            }
            if let Some(p) = &preferred
                && !vars[j].languages.iter().any(|l| l == p)
            {
                continue;
            }
            let v = &mut vars[j];
            set_accept_quality(neg, v);
            if preferred.is_some() {
                v.lang_quality = 1.0;
                v.definite = true;
            } else {
                set_language_quality(neg, v);
            }
            set_encoding_quality(neg, v);
            set_charset_quality(neg, v);
            if neg.may_choose {
                let b = best.map(|i| &vars[i]);
                let is_better = if neg.use_rvsa {
                    better_rvsa(&vars[j], b, &mut bestq)
                } else {
                    better(&vars[j], b, &mut bestq, len)
                };
                if is_better {
                    best = Some(j);
                }
            }
        }
        let choice = if neg.use_rvsa {
            best.is_some_and(|b| vars[b].definite) && bestq > 0.0
        } else {
            bestq > 0.0
        };
        if preferred.is_some() && (best.is_none() || !choice) {
            preferred = None;
            continue;
        }
        return (best, choice);
    }
}

#[cfg(test)]
#[path = "negotiation_tests.rs"]
mod tests;
