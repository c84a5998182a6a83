//! The order of a listing: `mod_autoindex.c: dsortf` with APR's natural order
//! (`apr_strnatcmp.c`, Martin Pool's strnatcmp) for `VersionSort`.
//!
//! 1. The parent directory is always first.
//! 2. With `FoldersFirst`, directories before files.
//! 3. The column key (`C=`): date and size numerically, description as text; descending
//!    order swaps the two entries before comparing.
//! 4. Ties (and `C=N`) by name: natural order with `VersionSort` (case-blind first with
//!    `IgnoreCase`), then `strcasecmp` with `IgnoreCase`, then `strcmp`, so that the order is
//!    always total.

use std::cmp::Ordering;

/// What an entry is sorted by.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SortKey {
    /// The name as listed (`sub/` for a directory), bytes as the file system has them; the
    /// parent's starts with `/`.
    pub name: Vec<u8>,
    pub is_parent: bool,
    /// Counts only with `FoldersFirst`.
    pub isdir: bool,
    /// Microseconds since the epoch; -1 unknown.
    pub lm: i64,
    /// Bytes; -1 for directories.
    pub size: i64,
    pub desc: Option<String>,
}

/// The sort order of one listing (`C=`, `O=`, `VersionSort`, `IgnoreCase`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SortSpec {
    /// `N`, `M`, `S` or `D`.
    pub key: u8,
    pub ascending: bool,
    pub version_sort: bool,
    pub ignore_case: bool,
}

/// `dsortf`.
pub fn compare(spec: &SortSpec, e1: &SortKey, e2: &SortKey) -> Ordering {
    if e1.is_parent {
        return Ordering::Less;
    }
    if e2.is_parent {
        return Ordering::Greater;
    }
    if e1.isdir != e2.isdir {
        return if e1.isdir {
            Ordering::Less
        } else {
            Ordering::Greater
        };
    }
    let (c1, c2) = if spec.ascending { (e1, e2) } else { (e2, e1) };
    let by_key = match spec.key {
        b'M' => c1.lm.cmp(&c2.lm),
        b'S' => c1.size.cmp(&c2.size),
        b'D' => {
            let (d1, d2) = (
                c1.desc.as_deref().unwrap_or(""),
                c2.desc.as_deref().unwrap_or(""),
            );
            if spec.version_sort {
                strnatcmp(d1.as_bytes(), d2.as_bytes(), false)
            } else {
                d1.as_bytes().cmp(d2.as_bytes())
            }
        }
        _ => Ordering::Equal,
    };
    if by_key != Ordering::Equal {
        return by_key;
    }
    let (n1, n2) = (&c1.name[..], &c2.name[..]);
    let mut result = Ordering::Equal;
    if spec.version_sort {
        if spec.ignore_case {
            result = strnatcmp(n1, n2, true);
        }
        if result == Ordering::Equal {
            result = strnatcmp(n1, n2, false);
        }
    }
    if result == Ordering::Equal && spec.ignore_case {
        result = strcasecmp(n1, n2);
    }
    if result == Ordering::Equal {
        result = n1.cmp(n2);
    }
    result
}

/// `strcasecmp` in the C locale.
fn strcasecmp(a: &[u8], b: &[u8]) -> Ordering {
    a.iter()
        .map(u8::to_ascii_lowercase)
        .cmp(b.iter().map(u8::to_ascii_lowercase))
}

/// `apr_strnatcmp` / `apr_strnatcasecmp` (`fold`). Bytes compare as C's signed `char`, as on
/// x86: a UTF-8 byte sorts *before* ASCII here, unlike `strcmp`.
pub fn strnatcmp(a: &[u8], b: &[u8], fold: bool) -> Ordering {
    let at = |s: &[u8], i: usize| s.get(i).copied().unwrap_or(0);
    let (mut ai, mut bi) = (0, 0);
    loop {
        let mut ca = at(a, ai);
        let mut cb = at(b, bi);
        while is_space(ca) {
            ai += 1;
            ca = at(a, ai);
        }
        while is_space(cb) {
            bi += 1;
            cb = at(b, bi);
        }
        if ca.is_ascii_digit() && cb.is_ascii_digit() {
            let fractional = ca == b'0' || cb == b'0';
            let r = if fractional {
                compare_left(&a[ai..], &b[bi..])
            } else {
                compare_right(&a[ai..], &b[bi..])
            };
            if r != Ordering::Equal {
                return r;
            }
        }
        if ca == 0 && cb == 0 {
            return Ordering::Equal;
        }
        if fold {
            ca = ca.to_ascii_uppercase();
            cb = cb.to_ascii_uppercase();
        }
        let r = (ca as i8).cmp(&(cb as i8));
        if r != Ordering::Equal {
            return r;
        }
        ai += 1;
        bi += 1;
    }
}

/// `apr_isspace` in the C locale.
fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)
}

/// Right-aligned numbers: the longest run of digits wins, else the first difference.
fn compare_right(a: &[u8], b: &[u8]) -> Ordering {
    let at = |s: &[u8], i: usize| s.get(i).copied().unwrap_or(0);
    let mut bias = Ordering::Equal;
    let mut i = 0;
    loop {
        let (ca, cb) = (at(a, i), at(b, i));
        match (ca.is_ascii_digit(), cb.is_ascii_digit()) {
            (false, false) => return bias,
            (false, true) => return Ordering::Less,
            (true, false) => return Ordering::Greater,
            _ => {}
        }
        if bias == Ordering::Equal {
            bias = ca.cmp(&cb);
        }
        i += 1;
    }
}

/// Left-aligned numbers (a leading zero): the first different digit wins.
fn compare_left(a: &[u8], b: &[u8]) -> Ordering {
    let at = |s: &[u8], i: usize| s.get(i).copied().unwrap_or(0);
    let mut i = 0;
    loop {
        let (ca, cb) = (at(a, i), at(b, i));
        match (ca.is_ascii_digit(), cb.is_ascii_digit()) {
            (false, false) => return Ordering::Equal,
            (false, true) => return Ordering::Less,
            (true, false) => return Ordering::Greater,
            _ => {}
        }
        if ca != cb {
            return ca.cmp(&cb);
        }
        i += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(name: &str) -> SortKey {
        SortKey {
            name: name.as_bytes().to_vec(),
            lm: -1,
            size: -1,
            ..SortKey::default()
        }
    }

    fn sorted(spec: &SortSpec, names: &[&str]) -> Vec<String> {
        let mut v: Vec<SortKey> = names.iter().map(|n| key(n)).collect();
        v.sort_by(|a, b| compare(spec, a, b));
        v.into_iter()
            .map(|k| String::from_utf8(k.name).unwrap())
            .collect()
    }

    const NAME: SortSpec = SortSpec {
        key: b'N',
        ascending: true,
        version_sort: false,
        ignore_case: false,
    };

    #[test]
    fn version_sort_puts_9_before_10() {
        let names = ["file10.txt", "file9.txt", "File2.txt", "a.txt"];
        assert_eq!(
            sorted(&NAME, &names),
            ["File2.txt", "a.txt", "file10.txt", "file9.txt"]
        );
        let v = SortSpec {
            version_sort: true,
            ..NAME
        };
        assert_eq!(
            sorted(&v, &names),
            ["File2.txt", "a.txt", "file9.txt", "file10.txt"]
        );
        let vi = SortSpec {
            ignore_case: true,
            ..v
        };
        assert_eq!(
            sorted(&vi, &names),
            ["a.txt", "File2.txt", "file9.txt", "file10.txt"]
        );
        let desc = SortSpec {
            ascending: false,
            ..v
        };
        assert_eq!(
            sorted(&desc, &names),
            ["file10.txt", "file9.txt", "a.txt", "File2.txt"]
        );
    }

    #[test]
    fn parent_first_then_folders_then_key() {
        let mut parent = key("/");
        parent.is_parent = true;
        let mut dir = key("sub/");
        dir.isdir = true;
        let mut big = key("big");
        big.size = 10;
        let mut small = key("small");
        small.size = 1;
        let spec = SortSpec {
            key: b'S',
            ascending: false,
            ..NAME
        };
        let mut v = [small, big, dir, parent];
        v.sort_by(|a, b| compare(&spec, a, b));
        let names: Vec<_> = v.iter().map(|k| &k.name[..]).collect();
        assert_eq!(names, [&b"/"[..], b"sub/", b"big", b"small"]);
    }

    #[test]
    fn strnatcmp_signed_bytes_and_leading_zeros() {
        assert_eq!(strnatcmp(b"x1.01", b"x1.1", false), Ordering::Less);
        assert_eq!(strnatcmp("ñ".as_bytes(), b"a", false), Ordering::Less);
        assert_eq!(strnatcmp(b"a 2", b"a2", false), Ordering::Equal);
    }
}
