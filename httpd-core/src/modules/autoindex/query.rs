//! The query arguments of a listing (`index_directory`'s loop): `C=` sort column, `O=`
//! order, `F=` format, `V=` version sort, `P=` pattern, separated by `&` or `;`. The first
//! argument that does not parse ends the scan (Apache: "Syntax error? Ignore the remainder!").
//! With `IgnoreClient` none is read and the column titles are no links.

use super::config::{
    FANCY_INDEXING, IGNORE_CLIENT, SUPPRESS_COLSORT, TABLE_INDEXING, VERSION_SORT,
};
use super::format::os_escape_path;

/// What the query changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    pub key: u8,
    pub direction: u8,
    pub opts: u32,
    /// `P=`, unescaped.
    pub pattern: Option<Vec<u8>>,
    /// Appended to the column links: `;F=2;V=1;P=pat`.
    pub colargs: String,
}

/// Read `query` over the defaults (`IndexOrderDefault`, else name ascending).
pub fn parse(query: Option<&str>, key: u8, direction: u8, opts: u32) -> Query {
    let mut q = Query {
        key,
        direction,
        opts,
        pattern: None,
        colargs: String::new(),
    };
    if opts & IGNORE_CLIENT != 0 {
        q.opts |= SUPPRESS_COLSORT;
        return q;
    }
    let (mut fval, mut vval, mut ppre, mut epattern) =
        (String::new(), String::new(), "", String::new());
    let mut s = query.unwrap_or("").as_bytes();
    let at = |s: &[u8], i: usize| s.get(i).copied().unwrap_or(0);
    // An argument of one letter ends at `&`, `;` or the end.
    let ends = |s: &[u8]| matches!(at(s, 3), b'&' | b';' | 0);
    let step = |s: &[u8]| if at(s, 3) != 0 { 4 } else { 3 };
    while !s.is_empty() {
        let (k, v) = (at(s, 0), at(s, 2));
        if at(s, 1) != b'=' {
            break;
        }
        if k == b'C' && b"NMSD".contains(&v) && v != 0 && ends(s) {
            q.key = v;
        } else if k == b'O' && (v == b'A' || v == b'D') && ends(s) {
            q.direction = v;
        } else if k == b'F' && b"012".contains(&v) && v != 0 && ends(s) {
            q.opts = match v {
                b'0' => q.opts & !(FANCY_INDEXING | TABLE_INDEXING),
                b'1' => (q.opts | FANCY_INDEXING) & !TABLE_INDEXING,
                _ => q.opts | FANCY_INDEXING | TABLE_INDEXING,
            };
            fval = format!(";F={}", char::from(v));
        } else if k == b'V' && (v == b'0' || v == b'1') && ends(s) {
            if v == b'0' {
                q.opts &= !VERSION_SORT;
            } else {
                q.opts |= VERSION_SORT;
            }
            vval = format!(";V={}", char::from(v));
        } else if k == b'P' {
            let rest = &s[2..];
            let end = rest
                .iter()
                .position(|&c| c == b'&' || c == b';')
                .unwrap_or(rest.len());
            q.pattern = None;
            if end > 0 {
                let raw = String::from_utf8_lossy(&rest[..end]);
                // A pattern that does not unescape is ignored.
                if let Ok(p) = crate::http::static_files::unescape_path(&raw) {
                    ppre = ";P=";
                    epattern = os_escape_path(&p, true);
                    q.pattern = Some(p);
                }
            }
            s = match rest.get(end + 1..) {
                Some(r) if !r.is_empty() => r,
                _ => &[],
            };
            continue;
        } else {
            break;
        }
        s = &s[step(s)..];
    }
    q.colargs = format!("{fval}{vval}{ppre}{epattern}");
    q
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_arguments_as_apache() {
        let q = parse(Some("C=M;O=D"), b'N', b'A', FANCY_INDEXING);
        assert_eq!((q.key, q.direction, q.colargs.as_str()), (b'M', b'D', ""));
        let q = parse(Some("F=2&V=0&P=*.txt"), b'N', b'A', VERSION_SORT);
        assert_eq!(q.opts, FANCY_INDEXING | TABLE_INDEXING);
        assert_eq!(q.pattern.as_deref(), Some(&b"*.txt"[..]));
        assert_eq!(q.colargs, ";F=2;V=0;P=*.txt");
        // A bad argument stops the scan; what came before stays.
        let q = parse(Some("C=S;X=1;O=D"), b'N', b'A', 0);
        assert_eq!((q.key, q.direction), (b'S', b'A'));
        let q = parse(Some("C=Z"), b'N', b'A', 0);
        assert_eq!(q.key, b'N');
        let q = parse(Some("P=a%20b*"), b'N', b'A', 0);
        assert_eq!(q.pattern.as_deref(), Some(&b"a b*"[..]));
        assert_eq!(q.colargs, ";P=a%20b*");
        // IgnoreClient: nothing is read, the column titles lose their links.
        let q = parse(Some("C=M"), b'N', b'A', IGNORE_CLIENT);
        assert_eq!(q.key, b'N');
        assert_ne!(q.opts & SUPPRESS_COLSORT, 0);
    }
}
