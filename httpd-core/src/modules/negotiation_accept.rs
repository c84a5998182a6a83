//! The client's side of content negotiation (`mod_negotiation.c: get_entry`, `atoq`,
//! `do_header_line`, `fix_encoding`): `Accept`, `Accept-Charset`, `Accept-Encoding` and
//! `Accept-Language` parsed as Apache parses them, tolerant of the old space-separated
//! `Accept` form, with `q` values of at most three decimals (anything else counts as 1).

use super::negotiation::{INCLUDES_MAGIC, INCLUDES_MAGIC3};
use crate::config::mpm::atoi;

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
