//! The quality of one variant in each dimension (`mod_negotiation.c: mime_match`,
//! `level_cmp`, `set_accept_quality`, `set_language_quality`, `set_charset_quality`,
//! `set_encoding_quality`), which `best_match` ([`super::negotiation`]) then compares.

use super::negotiation::{FLP_FALLBACK, FLP_PREFER, INCLUDES_MAGIC, INCLUDES_MAGIC3, Neg, Variant};
use super::negotiation_accept::AcceptRec;

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
pub(super) fn level_cmp(a: &Variant, b: &Variant) -> i32 {
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

pub(super) fn set_language_quality(neg: &Neg, v: &mut Variant) {
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

pub(super) fn set_accept_quality(neg: &Neg, v: &mut Variant) {
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

pub(super) fn set_charset_quality(neg: &Neg, v: &mut Variant) {
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
pub(super) fn is_identity(enc: Option<&str>) -> bool {
    enc.is_none_or(|e| e.is_empty() || matches!(e, "7bit" | "8bit" | "binary"))
}

pub(super) fn set_encoding_quality(neg: &Neg, v: &mut Variant) {
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
