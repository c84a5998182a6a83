//! The small string routines a listing is made of, each as Apache or APR has it:
//! `util.c: ap_strcmp_match, ap_strcasecmp_match, ap_is_matchexp, ap_escape_html2,
//! ap_os_escape_path`, `apr_strings.c: apr_strfsize`, `apr_fnmatch.c: apr_fnmatch_test`, and
//! `mod_autoindex.c: terminate_description`.

/// `ap_strcmp_match` / `ap_strcasecmp_match` (`fold`): `*` matches any run (slashes too), `?`
/// one byte; no brackets, no escapes. `true` on a match.
pub fn strcmp_match(s: &[u8], pat: &[u8], fold: bool) -> bool {
    match_at(s, pat, fold) == 0
}

/// Apache's tri-state result: 0 match, 1 no match, -1 abort (the text ran out).
fn match_at(s: &[u8], pat: &[u8], fold: bool) -> i32 {
    let eq = |a: u8, b: u8| {
        if fold {
            a.eq_ignore_ascii_case(&b)
        } else {
            a == b
        }
    };
    let (mut x, mut y) = (0, 0);
    while y < pat.len() {
        if pat[y] == b'*' {
            while y < pat.len() && pat[y] == b'*' {
                y += 1;
            }
            if y == pat.len() {
                return 0;
            }
            while x < s.len() {
                let r = match_at(&s[x..], &pat[y..], fold);
                x += 1;
                if r != 1 {
                    return r;
                }
            }
            return -1;
        }
        if x >= s.len() {
            return -1;
        }
        if pat[y] != b'?' && !eq(s[x], pat[y]) {
            return 1;
        }
        x += 1;
        y += 1;
    }
    i32::from(x < s.len())
}

/// `ap_is_matchexp`: the pattern has a `*` or `?`.
pub fn is_matchexp(s: &str) -> bool {
    s.contains(['*', '?'])
}

/// `apr_fnmatch_test`: the pattern has `*`, `?` or a closed `[…]`.
pub fn fnmatch_test(s: &str) -> bool {
    let b = s.as_bytes();
    let mut nesting = 0;
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'?' | b'*' => return true,
            b'\\' => {
                i += 1;
                if i >= b.len() {
                    return false;
                }
            }
            b'[' => nesting += 1,
            b']' if nesting > 0 => return true,
            _ => {}
        }
        i += 1;
    }
    false
}

/// `apr_fnmatch(pattern, name, APR_FNM_NOESCAPE | APR_FNM_PERIOD)` for the `P=` argument: a
/// leading dot must be matched by a dot, a backslash is an ordinary character.
pub fn fnmatch_period_noescape(pattern: &[u8], name: &[u8]) -> bool {
    if name.first() == Some(&b'.') && pattern.first() != Some(&b'.') {
        return false;
    }
    let mut pat = Vec::with_capacity(pattern.len());
    for &c in pattern {
        if c == b'\\' {
            pat.extend_from_slice(b"[\\]");
        } else {
            pat.push(c);
        }
    }
    crate::config::sections::fnmatch(&pat, name)
}

/// `apr_strfsize`: a size in at most four characters (`  - ` for none, `973 `, `1.1M`, `68K`).
pub fn strfsize(size: i64) -> String {
    const ORD: &[u8] = b"KMGTPE";
    if size < 0 {
        return "  - ".into();
    }
    if size < 973 {
        return format!("{size:3} ");
    }
    let mut size = size;
    let mut o = 0;
    loop {
        let mut remain = size & 1023;
        size >>= 10;
        if size >= 973 {
            o += 1;
            continue;
        }
        let unit = char::from(ORD[o.min(ORD.len() - 1)]);
        if size < 9 || (size == 9 && remain < 973) {
            remain = (remain * 5 + 256) / 512;
            if remain >= 10 {
                size += 1;
                remain = 0;
            }
            return format!("{size}.{remain}{unit}");
        }
        if remain >= 512 {
            size += 1;
        }
        return format!("{size:3}{unit}");
    }
}

/// `ap_escape_html`: `<`, `>`, `&`, `"` (other bytes, UTF-8 or not, pass unchanged).
pub fn escape_html(s: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    for &c in s {
        match c {
            b'<' => out.extend_from_slice(b"&lt;"),
            b'>' => out.extend_from_slice(b"&gt;"),
            b'&' => out.extend_from_slice(b"&amp;"),
            b'"' => out.extend_from_slice(b"&quot;"),
            _ => out.push(c),
        }
    }
    out
}

/// `ap_os_escape_path(path, partial)`: `%xx` (lower-case hex) for every byte outside
/// alphanumerics and `$-_.+!*'(),:;@&=/~`; without `partial`, a `:` before the first `/`
/// gets `./` in front, so the name cannot read as a URL scheme.
pub fn os_escape_path(path: &[u8], partial: bool) -> String {
    const SAFE: &[u8] = b"$-_.+!*'(),:;@&=/~";
    let mut out = String::with_capacity(path.len() + 2);
    if !partial {
        let colon = path.iter().position(|&c| c == b':');
        let slash = path.iter().position(|&c| c == b'/');
        if let Some(c) = colon
            && slash.is_none_or(|s| c < s)
        {
            out.push_str("./");
        }
    }
    for &c in path {
        if c.is_ascii_alphanumeric() || SAFE.contains(&c) {
            out.push(char::from(c));
        } else {
            out.push_str(&format!("%{c:02x}"));
        }
    }
    out
}

/// `terminate_description`: cut a description to `width` visible characters (tags are free,
/// an entity counts one), ending a cut one with `>` as Apache does. `adjust_unset`: no
/// `DescriptionWidth` anywhere, so the room of suppressed columns is added.
pub fn terminate_description(desc: &str, opts: u32, width: usize, adjust_unset: bool) -> Vec<u8> {
    use super::config::{SUPPRESS_ICON, SUPPRESS_LAST_MOD, SUPPRESS_SIZE};
    let mut maxsize = width as i64;
    if adjust_unset {
        if opts & SUPPRESS_ICON != 0 {
            maxsize += 6;
        }
        if opts & SUPPRESS_LAST_MOD != 0 {
            maxsize += 19;
        }
        if opts & SUPPRESS_SIZE != 0 {
            maxsize += 7;
        }
    }
    let d = desc.as_bytes();
    let at = |i: usize| d.get(i).copied().unwrap_or(0);
    let mut x = 0;
    while at(x) != 0 && (maxsize > 0 || at(x) == b'<') {
        if at(x) == b'<' {
            while at(x) != b'>' {
                if at(x) == 0 {
                    maxsize = 0;
                    break;
                }
                x += 1;
            }
        } else if at(x) == b'&' {
            maxsize -= 1;
            while at(x) != b';' {
                if at(x) == 0 {
                    maxsize = 0;
                    break;
                }
                x += 1;
            }
        } else {
            maxsize -= 1;
        }
        // Apache's for loop steps past the byte it stopped on, even the NUL.
        if at(x) == 0 {
            break;
        }
        x += 1;
    }
    if maxsize == 0 && at(x) != 0 && x > 0 {
        // Bytes, as Apache cuts them (even inside a UTF-8 character).
        let mut out = d[..x - 1].to_vec();
        out.push(b'>');
        return out;
    }
    d.to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strfsize_as_apr() {
        let cases = [
            (-1, "  - "),
            (0, "  0 "),
            (972, "972 "),
            (973, "1.0K"),
            (2048, "2.0K"),
            (5000, "4.9K"),
            (70000, " 68K"),
            (1_200_000, "1.1M"),
            (10 * 1024 * 1024, " 10M"),
            (9 * 1024 + 1000, " 10K"),
            (1 << 40, "1.0T"),
        ];
        for (n, want) in cases {
            assert_eq!(strfsize(n), want, "{n}");
        }
    }

    #[test]
    fn strcmp_match_wildcards() {
        assert!(strcmp_match(b"/www/a.txt", b"*.txt", false));
        assert!(strcmp_match(b"/www/a.txt", b"/www/*", false));
        assert!(!strcmp_match(b"/www/a.TXT", b"*.txt", false));
        assert!(strcmp_match(b"text/plain", b"TEXT/*", true));
        assert!(strcmp_match(b"abc", b"a?c", false));
        assert!(!strcmp_match(b"ab", b"a?c", false));
        assert!(strcmp_match(b".hidden", b".??*", false));
        assert!(!strcmp_match(b"..", b".??*", false));
    }

    #[test]
    fn escapes_as_apache() {
        assert_eq!(os_escape_path(b"a b.txt", false), "a%20b.txt");
        assert_eq!(os_escape_path(b"c:olon.txt", false), "./c:olon.txt");
        assert_eq!(
            os_escape_path("ñ<>&\"".as_bytes(), false),
            "%c3%b1%3c%3e&%22"
        );
        assert_eq!(escape_html(b"we<ird>&\"q"), b"we&lt;ird&gt;&amp;&quot;q");
        assert!(
            fnmatch_test("a*")
                && fnmatch_test("[ab]")
                && !fnmatch_test("a[b")
                && !fnmatch_test("ab")
        );
        assert!(fnmatch_period_noescape(b"*.txt", b"a.txt"));
        assert!(!fnmatch_period_noescape(b"*", b".hidden"));
    }

    #[test]
    fn description_cut_to_width() {
        assert_eq!(terminate_description("short", 0, 23, false), b"short");
        assert_eq!(
            terminate_description("0123456789abcdefghijklmnopq", 0, 23, false),
            b"0123456789abcdefghijkl>"
        );
        assert_eq!(
            terminate_description("<b>bold</b> text", 0, 6, false),
            b"<b>bold</b> >"
        );
    }
}
