//! Which icon, alt text and description an entry gets and which entries are hidden:
//! `mod_autoindex.c: find_item, find_desc, ignore_entry, find_title`.

use super::config::{AutoindexConfig, By, Item};
use super::format::strcmp_match;

/// `find_item`: the first entry of `list` (deeper sections first) for a file. `path` is the
/// full file-system path, or `^^DIRECTORY^^`/`^^BLANKICON^^`; `path_only` (directories and
/// defaults) skips the type and encoding entries. A file with a content encoding is matched
/// by encoding only, one without by type.
pub fn find_item<'a>(
    content_type: Option<&str>,
    content_encoding: Option<&str>,
    path: &[u8],
    list: &'a [Item],
    path_only: bool,
) -> Option<&'a str> {
    let special = path.first() == Some(&b'^');
    list.iter()
        .find(|p| {
            if !special && !strcmp_match(path, p.apply_path.as_bytes(), false) {
                return false;
            }
            if p.apply_to.is_empty() {
                return true;
            }
            if p.by == By::Path || special {
                return strcmp_match(path, p.apply_to.as_bytes(), false);
            }
            if path_only {
                return false;
            }
            match content_encoding {
                None => {
                    p.by == By::Type
                        && content_type.is_some_and(|t| {
                            strcmp_match(t.as_bytes(), p.apply_to.as_bytes(), true)
                        })
                }
                Some(enc) => {
                    p.by == By::Encoding
                        && strcmp_match(enc.as_bytes(), p.apply_to.as_bytes(), true)
                }
            }
        })
        .map(|p| p.data.as_str())
}

/// `find_desc`: the first `AddDescription` whose pattern matches the file name (or the whole
/// path, for a pattern with a `/`).
pub fn find_desc<'a>(cfg: &'a AutoindexConfig, full: &[u8]) -> Option<&'a str> {
    let only = match full.iter().rposition(|&c| c == b'/') {
        Some(i) => &full[i + 1..],
        None => full,
    };
    cfg.descs
        .iter()
        .find(|d| {
            let name = if d.full_path { full } else { only };
            if d.wildcards {
                crate::config::sections::fnmatch(d.pattern.as_bytes(), name)
            } else {
                name.windows(d.pattern.len().max(1))
                    .any(|w| w == d.pattern.as_bytes())
                    || d.pattern.is_empty()
            }
        })
        .map(|d| d.description.as_str())
}

/// `ignore_entry`: `IndexIgnore` for the full path of an entry (the parent is `DIR/..`).
pub fn ignore_entry(cfg: &AutoindexConfig, path: &[u8]) -> bool {
    let tt = match path.iter().rposition(|&c| c == b'/') {
        Some(i) => &path[i + 1..],
        None => path,
    };
    cfg.ignores.iter().any(|p| {
        let ap = match p.apply_to.rfind('/') {
            Some(i) => &p.apply_to[i + 1..],
            None => p.apply_to.as_str(),
        };
        strcmp_match(path, p.apply_path.as_bytes(), false) && strcmp_match(tt, ap.as_bytes(), false)
    })
}

/// `find_title` (`ScanHTMLTitles`): the text after the first `<title>` (case-blind) in the
/// first 8 KiB of an HTML file, up to the next `<`, line breaks made blanks.
pub fn find_title(head: &[u8]) -> Option<String> {
    // MAX_STRING_LEN - 1 bytes are read; a NUL ends the text as in C.
    let head = &head[..head.len().min(8191)];
    let head = match head.iter().position(|&c| c == 0) {
        Some(i) => &head[..i],
        None => head,
    };
    const FIND: &[u8] = b"<title>";
    let mut p = 0;
    for (x, &c) in head.iter().enumerate() {
        if c.to_ascii_lowercase() == FIND[p] {
            p += 1;
            if p == FIND.len() {
                let mut rest = &head[x + 1..];
                if let Some(end) = rest.iter().position(|&c| c == b'<') {
                    rest = &rest[..end];
                }
                // A line break right at the start is skipped; later ones become blanks.
                let mut out = Vec::with_capacity(rest.len());
                let mut start = true;
                for &c in rest {
                    if c == b'\r' || c == b'\n' {
                        if !start {
                            out.push(b' ');
                        }
                    } else {
                        start = false;
                        out.push(c);
                    }
                }
                return Some(String::from_utf8_lossy(&out).into_owned());
            }
        } else {
            p = 0;
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn debian() -> AutoindexConfig {
        let mut c = AutoindexConfig::default();
        c.add_icon(By::Encoding, "(CMP,/icons/compressed.gif)", "x-gzip", "")
            .unwrap();
        c.add_icon(By::Type, "(TXT,/icons/text.gif)", "text/*", "")
            .unwrap();
        c.add_icon(By::Path, "/icons/compressed.gif", ".gz", "")
            .unwrap();
        c.add_icon(By::Path, "/icons/back.gif", "..", "").unwrap();
        c.add_icon(By::Path, "/icons/hand.right.gif", "README", "")
            .unwrap();
        c.add_icon(By::Path, "/icons/folder.gif", "^^DIRECTORY^^", "")
            .unwrap();
        for p in [".??*", "*~", "*#", "RCS", "CVS", "*,v", "*,t"] {
            c.add_ignore(p, "");
        }
        c
    }

    #[test]
    fn icons_by_type_encoding_path_and_specials() {
        let c = debian();
        let f = |t, e, p: &str, only| find_item(t, e, p.as_bytes(), &c.icons, only);
        assert_eq!(
            f(Some("text/html"), None, "/w/a.html", false),
            Some("/icons/text.gif")
        );
        // An encoded file is matched by its encoding, never by its type.
        assert_eq!(
            f(Some("text/plain"), Some("x-gzip"), "/w/a.txt.gz", false),
            Some("/icons/compressed.gif")
        );
        assert_eq!(
            f(Some("application/gzip"), None, "/w/a.gz", false),
            Some("/icons/compressed.gif")
        );
        assert_eq!(
            f(None, None, "/w/README", false),
            Some("/icons/hand.right.gif")
        );
        assert_eq!(f(None, None, "/w/sub/..", true), Some("/icons/back.gif"));
        assert_eq!(
            f(None, None, "^^DIRECTORY^^", true),
            Some("/icons/folder.gif")
        );
        // Directories are matched by path only: a directory named x.txt gets no text icon.
        assert_eq!(f(Some("text/plain"), None, "/w/x.txt", true), None);
        let alts = |t, p: &str| find_item(t, None, p.as_bytes(), &c.alts, false);
        assert_eq!(alts(Some("text/plain"), "/w/a.txt"), Some("TXT"));
    }

    #[test]
    fn ignore_patterns_debian() {
        let c = debian();
        let ig = |p: &str| ignore_entry(&c, p.as_bytes());
        assert!(ig("/w/.hidden") && ig("/w/old~") && ig("/w/x#") && ig("/w/CVS") && ig("/w/f,v"));
        assert!(
            !ig("/w/..") && !ig("/w/a.txt") && !ig("/w/.x"),
            ".?? needs three characters"
        );
        let mut scoped = AutoindexConfig::default();
        scoped.add_ignore("*.log", "/w/logs/");
        assert!(ignore_entry(&scoped, b"/w/logs/a.log"));
        assert!(
            !ignore_entry(&scoped, b"/w/a.log"),
            "only under its section's path"
        );
    }

    #[test]
    fn descriptions_and_titles() {
        let mut c = AutoindexConfig::default();
        c.add_desc("The H file", "h.txt");
        c.add_desc("Pictures", "*.png");
        c.add_desc("Deep", "sub/y.txt");
        assert_eq!(find_desc(&c, b"/w/h.txt"), Some("The H file"));
        assert_eq!(
            find_desc(&c, b"/w/xh.txt.bak"),
            Some("The H file"),
            "substring"
        );
        assert_eq!(find_desc(&c, b"/w/p.png"), Some("Pictures"));
        assert_eq!(find_desc(&c, b"/w/sub/y.txt"), Some("Deep"));
        assert_eq!(find_desc(&c, b"/w/other"), None);
        assert_eq!(
            find_title(b"<html><TITLE>\nMy\npage</title>").as_deref(),
            Some("My page")
        );
        assert_eq!(find_title(b"no title"), None);
    }
}
