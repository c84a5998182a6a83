//! Content negotiation's decision (`modules/mappers/mod_negotiation.c`): the client's
//! `Accept*` headers, the variants, and Apache's server-driven algorithm (`best_match` with
//! `is_variant_better`, or RFC 2296's RVSA/1.0 when the client sends `Negotiate: 1.0`).
//! Pure functions: the variants come in already read (a directory scan for MultiViews or a
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

/// `INCLUDES_MAGIC_TYPE` and `INCLUDES_MAGIC_TYPE3` (mod_include's pseudo-HTML types).
const INCLUDES_MAGIC: &str = "text/x-server-parsed-html";
const INCLUDES_MAGIC3: &str = "text/x-server-parsed-html3";
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

/// One item of an `Accept*` header or a variant's `Content-Type` (`accept_rec`).
#[derive(Debug, Clone, PartialEq)]
pub struct AcceptRec {
    /// Lower case.
    pub name: String,
    pub quality: f32,
    pub level: f32,
    pub charset: String,
}

/// `ap_get_token`: skip white space, take up to `;`, `,` (or white space unless
/// `accept_white`), quoted strings whole; skip the white space after it.
pub fn get_token(s: &str, accept_white: bool) -> (&str, &str) {
    let s = s.trim_start_matches(|c: char| c.is_ascii_whitespace());
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len()
        && (accept_white || !b[i].is_ascii_whitespace())
        && b[i] != b';'
        && b[i] != b','
    {
        i += 1;
        if b[i - 1] == b'"' {
            while i < b.len() {
                i += 1;
                if b[i - 1] == b'"' {
                    break;
                }
            }
        }
    }
    let rest = s[i..].trim_start_matches(|c: char| c.is_ascii_whitespace());
    (&s[..i], rest)
}

/// `atoq`: `0`, `0.d`, `0.dd`, `0.ddd` or `.ddd`; anything else is 1.
pub fn atoq(s: &str) -> f32 {
    let s = s.trim_start_matches(|c: char| c.is_ascii_whitespace());
    let b = s.as_bytes();
    if b.is_empty() {
        return 1.0;
    }
    let mut i = 0;
    if b[0] != b'.' {
        if b[0] != b'0' {
            return 1.0;
        }
        i = 1;
    }
    if b.get(i) != Some(&b'.') {
        return 0.0;
    }
    let d = |k: usize| {
        b.get(i + k)
            .filter(|c| c.is_ascii_digit())
            .map(|c| (c - b'0') as i32)
    };
    let mut n = 0;
    if let Some(a) = d(1) {
        n += a * 100;
        if let Some(b2) = d(2) {
            n += b2 * 10;
            // Apache's test is `> '0'`: a third digit 0 adds nothing either way.
            if let Some(c) = d(3) {
                n += c;
            }
        }
    }
    n as f32 / 1000.0
}

/// `get_entry`: one media range with its `q`/`qs`, `level` and `charset` parameters.
pub fn get_entry(line: &str) -> (AcceptRec, &str) {
    let (name, mut rest) = get_token(line, false);
    let name = name.to_ascii_lowercase();
    let level = match name.as_str() {
        // "KLUDGE!!! Default HTML to level 2.0 unless the browser *explicitly* says
        // something else."
        "text/html" | INCLUDES_MAGIC => 2.0,
        INCLUDES_MAGIC3 => 3.0,
        _ => 0.0,
    };
    let mut rec = AcceptRec {
        name,
        quality: 1.0,
        level,
        charset: String::new(),
    };
    while let Some(after) = rest.strip_prefix(';') {
        let (parm, r) = get_token(after, true);
        rest = r;
        let end = parm
            .find(|c: char| c.is_ascii_whitespace() || c == '=')
            .unwrap_or(parm.len());
        if end == parm.len() {
            continue;
        }
        let attr = parm[..end].to_ascii_lowercase();
        let v = parm[end + 1..].trim_start_matches(|c: char| c.is_ascii_whitespace() || c == '=');
        let v = match v.strip_prefix('"') {
            Some(q) => q.split(['"', '\r', '\n']).next().unwrap_or(""),
            None => v
                .split(|c: char| c.is_ascii_whitespace())
                .next()
                .unwrap_or(""),
        };
        let v = v.to_ascii_lowercase();
        match attr.as_str() {
            "q" | "qs" => rec.quality = atoq(&v),
            "level" => rec.level = atoi(&v) as f32,
            "charset" => rec.charset = v,
            _ => {}
        }
    }
    if let Some(r) = rest.strip_prefix(',') {
        rest = r;
    }
    (rec, rest)
}

/// C's `atoi`: leading digits (with a sign), 0 if none.
fn atoi(s: &str) -> i64 {
    let s = s.trim_start();
    let (neg, digits) = match s.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let n: i64 = digits
        .bytes()
        .take_while(u8::is_ascii_digit)
        .fold(0i64, |a, c| {
            a.saturating_mul(10).saturating_add((c - b'0') as i64)
        });
    if neg { -n } else { n }
}

/// `do_header_line`: `None` when the header is absent.
pub fn header_line(v: Option<&str>) -> Option<Vec<AcceptRec>> {
    let mut line = v?;
    let mut out = Vec::new();
    while !line.is_empty() {
        let (rec, rest) = get_entry(line);
        out.push(rec);
        line = rest;
    }
    Some(out)
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

/// `mime_match`.
fn mime_match(a: &AcceptRec, v: &mut Variant) -> bool {
    let t = a.name.as_str();
    if t == "*" || t == "*/*" {
        v.mime_stars = v.mime_stars.max(1);
        return true;
    }
    if let Some(major) = t.strip_suffix("/*")
        && v.mime_type.len() > major.len()
        && v.mime_type.starts_with(major)
        && v.mime_type.as_bytes()[major.len()] == b'/'
    {
        v.mime_stars = v.mime_stars.max(2);
        return true;
    }
    if (t == v.mime_type
        || (t == "text/html" && matches!(v.mime_type.as_str(), INCLUDES_MAGIC | INCLUDES_MAGIC3)))
        && a.level >= v.level
    {
        v.level_matched = v.level;
        v.mime_stars = 3;
        return true;
    }
    false
}

/// `level_cmp`: 1 when `a` is better, -1 when worse, 0 for a tie.
fn level_cmp(a: &Variant, b: &Variant) -> i32 {
    if a.is_pseudo_html && !b.is_pseudo_html {
        return 0;
    }
    if !a.is_pseudo_html && a.mime_type != b.mime_type {
        return 0;
    }
    if a.level_matched != b.level_matched {
        return if a.level_matched > b.level_matched {
            1
        } else {
            -1
        };
    }
    if a.level != b.level {
        return if a.level < b.level { 1 } else { -1 };
    }
    0
}

/// `find_lang_index`: the first range that is a (case-insensitive) prefix of `lang`.
fn find_lang_index(list: Option<&[String]>, lang: &str) -> i32 {
    list.and_then(|l| {
        l.iter().position(|a| {
            lang.len() >= a.len() && lang.as_bytes()[..a.len()].eq_ignore_ascii_case(a.as_bytes())
        })
    })
    .map_or(-1, |i| i as i32)
}

fn set_language_quality(neg: &Neg, v: &mut Variant) {
    let force = if neg.conf.force_priority == 0 {
        FLP_PREFER
    } else {
        neg.conf.force_priority
    };
    if v.languages.is_empty() {
        if !neg.dont_fiddle_headers {
            v.lang_quality = neg.default_lang_quality;
        }
        return;
    }
    match &neg.accept_langs {
        // No Accept-Language makes the variant indefinite.
        None => v.definite = false,
        Some(accs) => {
            let mut best: Option<&AcceptRec> = None;
            let mut star: Option<&AcceptRec> = None;
            let mut fiddle_q = 0.0f32;
            let mut any_match_on_star = false;
            for lang in &v.languages {
                let mut this: Option<&AcceptRec> = None;
                let mut longest = 0;
                for a in accs {
                    if a.name == "*" {
                        star.get_or_insert(a);
                        continue;
                    }
                    let n = a.name.len();
                    if lang.len() >= n
                        && lang.as_bytes()[..n] == *a.name.as_bytes()
                        && (lang.len() == n || lang.as_bytes()[n] == b'-')
                        && n > longest
                    {
                        longest = n;
                        this = Some(a);
                    }
                    // en-US also matches en and en-GB, at 0.001.
                    if this.is_none()
                        && !neg.dont_fiddle_headers
                        && let Some(p) = a.name.find('-')
                        && lang.as_bytes().starts_with(&a.name.as_bytes()[..p])
                    {
                        fiddle_q = 0.001;
                    }
                }
                if best.is_none()
                    || this.is_some_and(|t| best.is_some_and(|b| t.quality > b.quality))
                {
                    best = this;
                }
                if this.is_none() && star.is_some() {
                    any_match_on_star = true;
                }
            }
            if any_match_on_star
                && let Some(s) = star
                && best.is_none_or(|b| s.quality > b.quality)
            {
                best = Some(s);
                v.definite = false;
            }
            v.lang_quality = best.map_or(fiddle_q, |b| b.quality);
        }
    }
    // ForceLanguagePriority: the lowest LanguagePriority index of the variant's languages.
    if (force & FLP_PREFER != 0 && v.lang_index < 0)
        || (force & FLP_FALLBACK != 0 && v.lang_quality == 0.0)
    {
        let prio = neg.conf.language_priority.as_deref();
        let bestidx = v
            .languages
            .iter()
            .map(|l| find_lang_index(prio, l))
            .filter(|i| *i >= 0)
            .min();
        if let Some(idx) = bestidx {
            if v.lang_quality != 0.0 {
                if force & FLP_PREFER != 0 {
                    v.lang_index = idx;
                }
            } else if force & FLP_FALLBACK != 0 {
                v.lang_index = idx;
                v.lang_quality = 0.0001;
                v.definite = false;
            }
        }
    }
}

fn set_accept_quality(neg: &Neg, v: &mut Variant) {
    let Some(accepts) = &neg.accepts else {
        if !v.mime_type.is_empty() {
            v.definite = false;
        }
        return;
    };
    let mut q = 0.0f32;
    let mut q_definite = true;
    for a in accepts {
        let prev = v.mime_stars;
        if !mime_match(a, v) || prev == v.mime_stars {
            continue;
        }
        let fiddle = !neg.dont_fiddle_headers && !neg.accept_q;
        q = match v.mime_stars {
            1 if fiddle => 0.01,
            2 if fiddle => 0.02,
            _ => a.quality,
        };
        q_definite = v.mime_stars == 3;
    }
    v.mime_type_quality = q;
    v.definite = v.definite && q_definite;
}

fn set_charset_quality(neg: &Neg, v: &mut Variant) {
    let Some(accs) = &neg.accept_charsets else {
        if !v.charset.is_empty() {
            v.definite = false;
        }
        return;
    };
    let mut charset = v.charset.as_str();
    if charset.is_empty() {
        let textual = v.mime_type.starts_with("text/")
            || matches!(v.mime_type.as_str(), INCLUDES_MAGIC | INCLUDES_MAGIC3);
        if !textual || neg.dont_fiddle_headers {
            return;
        }
        charset = "iso-8859-1";
    }
    let mut star = None;
    for a in accs {
        if a.name == charset {
            v.charset_quality = a.quality;
            return;
        }
        if a.name == "*" {
            star = Some(a);
        }
    }
    if let Some(s) = star {
        v.charset_quality = s.quality;
        v.definite = false;
        return;
    }
    v.charset_quality = if charset == "iso-8859-1" { 1.0 } else { 0.0 };
}

/// `is_identity_encoding`.
fn is_identity(enc: Option<&str>) -> bool {
    enc.is_none_or(|e| e.is_empty() || matches!(e, "7bit" | "8bit" | "binary"))
}

fn set_encoding_quality(neg: &Neg, v: &mut Variant) {
    let Some(accs) = &neg.accept_encodings else {
        v.encoding_quality = if is_identity(v.encoding.as_deref()) {
            1.0
        } else {
            0.5
        };
        return;
    };
    let (enc, not_found) = if is_identity(v.encoding.as_deref()) {
        ("identity", 0.0001f32)
    } else {
        (v.encoding.as_deref().unwrap_or(""), 0.0)
    };
    let enc = enc.strip_prefix("x-").unwrap_or(enc);
    let mut star = None;
    for a in accs {
        let name = a.name.strip_prefix("x-").unwrap_or(&a.name);
        if name == enc {
            v.encoding_quality = a.quality;
            return;
        }
        if name == "*" {
            star = Some(a);
        }
    }
    v.encoding_quality = star.map_or(not_found, |s| s.quality);
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

/// `fix_encoding` (a fixup, for every response once mod_negotiation is loaded): the client's
/// own spelling of the response's encoding, `gzip` or `x-gzip`, when it sent one.
pub fn fix_encoding(enc: &str, accept_encoding: Option<&str>) -> Option<String> {
    let bare = enc.strip_prefix("x-").unwrap_or(enc);
    let accepts = header_line(accept_encoding)?;
    if let Some(a) = accepts.iter().find(|a| a.name == bare) {
        return Some(a.name.clone());
    }
    accepts
        .iter()
        .rev()
        .find(|a| a.name.strip_prefix("x-") == Some(bare))
        .map(|a| a.name.clone())
}

#[cfg(test)]
#[path = "negotiation_tests.rs"]
mod tests;
