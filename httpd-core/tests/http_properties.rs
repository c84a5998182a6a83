//! Properties of the parsers: arbitrary client bytes never panic them, and what they accept is
//! consistent with what they promise.

use httpd_core::http::headers::HeaderParser;
use httpd_core::http::range::{RangeOutcome, byteranges};
use httpd_core::http::request::parse_request_line;
use httpd_core::http::static_files::{normalize_path, unescape_path};
use proptest::prelude::*;

proptest! {
    /// Any request line either parses into an origin-form path (or `*`/absolute form) or is
    /// refused with 400; it never panics.
    #[test]
    fn request_line_parser_total(line in proptest::collection::vec(any::<u8>(), 0..200)) {
        match parse_request_line(&line) {
            Ok(l) => prop_assert!(l.path.starts_with('/') || l.path == "*"),
            Err(r) => prop_assert_eq!(r.status, 400),
        }
    }

    /// Header lines of any bytes are accepted or refused with 400.
    #[test]
    fn header_parser_total(lines in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..60), 0..20)) {
        let mut p = HeaderParser::new(100, 8190);
        for l in &lines {
            match p.line(l) {
                Ok(true) => break,
                Ok(false) => {}
                Err(r) => { prop_assert_eq!(r.status, 400); break; }
            }
        }
    }

    /// Every satisfiable range lies inside the file, in order, without overlap.
    #[test]
    fn ranges_stay_inside_the_file(spec in "bytes=[0-9,\\-]{0,30}", len in 1u64..5000) {
        if let RangeOutcome::Partial(parts) = byteranges(&spec, len) {
            prop_assert!(!parts.is_empty());
            for (first, last) in &parts {
                prop_assert!(first <= last && *last < len);
            }
        }
    }

    /// A normalised path never climbs above the root and never keeps a dot segment.
    #[test]
    fn normalised_paths_stay_under_the_root(segs in proptest::collection::vec("(\\.|\\.\\.|%2e%2e|%2E|a|b%20c|)", 0..8)) {
        let path = format!("/{}", segs.join("/"));
        if let Ok(n) = normalize_path(&path) {
            prop_assert!(n.starts_with('/'));
            let bytes = unescape_path(&n).unwrap_or_default();
            let text = String::from_utf8_lossy(&bytes);
            prop_assert!(text.split('/').all(|s| s != ".." && s != "."), "{} -> {}", path, text);
        }
    }
}
