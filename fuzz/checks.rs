//! The checks behind the fuzz targets, shared with the stable test that replays the seed
//! corpora (`httpd-core/tests/fuzz_seeds.rs` includes this file by path), so CI runs every
//! seed without nightly. Each function must never panic on any input.

use httpd_core::config::{ConfigOptions, MpmIdent, load_text};
use httpd_core::http::body::parse_chunk_size;
use httpd_core::http::range::{RangeOutcome, byteranges};
use httpd_core::http::request::{HeaderParser, check_headers, parse_request_line, the_request};
use httpd_core::log::compile_format;
use httpd_core::status::StatusAuto;

/// A request head as `read.rs` takes it apart: the request line (`ap_parse_request_line`),
/// header lines (`ap_get_mime_headers_core`) and the checks of `ap_check_request_header`.
/// Must never panic; a parsed request line must re-join to a non-empty `the_request`.
pub fn request_head(data: &[u8]) {
    let mut lines = data
        .split(|&b| b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l));
    let Some(first) = lines.next() else { return };
    let _ = the_request(first);
    let Ok(line) = parse_request_line(first) else {
        return;
    };
    assert!(!line.method.is_empty());
    let mut p = HeaderParser::new(100, 8190);
    for l in lines {
        match p.line(l) {
            Ok(true) => {
                let mut headers = p.headers;
                let _ = check_headers(&mut headers, &line);
                return;
            }
            Ok(false) => {}
            Err(_) => return,
        }
    }
}

/// Chunked decoding's line parser (`http_filters.c: parse_chunk_size`), driven over a whole
/// chunked body: every size line, then that many bytes and CRLF, until the last chunk.
/// Must never panic nor loop: each step consumes input.
pub fn chunk_size(data: &[u8]) {
    let mut rest = data;
    while let Some(eol) = rest.iter().position(|&b| b == b'\n') {
        let line = &rest[..eol];
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        rest = &rest[eol + 1..];
        let Some(size) = parse_chunk_size(line) else {
            return;
        };
        if size == 0 {
            return;
        }
        let Ok(n) = usize::try_from(size) else { return };
        if rest.len() < n.saturating_add(2) {
            return;
        }
        rest = &rest[n + 2..];
    }
}

/// `Range` header parsing (`byterange_filter.c: ap_set_byterange`) against any length: must
/// never panic, and every range it returns must lie inside the file.
pub fn range(data: &[u8]) {
    if data.len() < 8 {
        return;
    }
    // Cannot fail: the slice is 8 bytes long (checked above).
    let clength = u64::from_le_bytes(data[..8].try_into().unwrap()) % (1 << 40);
    let Ok(header) = std::str::from_utf8(&data[8..]) else {
        return;
    };
    if let RangeOutcome::Partial(rs) = byteranges(header, clength) {
        assert!(!rs.is_empty());
        for (first, last) in rs {
            assert!(
                first <= last && last < clength,
                "{header:?} {clength}: {first}-{last}"
            );
        }
    }
}

/// A whole configuration file through `config::load_text` (tokenizer, sections, every
/// directive's parser, the two-stage checks) for the event MPM: errors are fine, panics are not.
pub fn config(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // Include and friends would read the machine's files: keep the fuzzer inside the input.
    let lower = text.to_ascii_lowercase();
    if lower.contains("include") || lower.contains("typesconfig") || lower.contains("serverroot") {
        return;
    }
    let opts = ConfigOptions {
        server_root: Some("/nonexistent-mpm-lab-fuzz".into()),
        ..ConfigOptions::default()
    };
    let _ = load_text("fuzz.conf", text, &opts, &MpmIdent::EVENT);
}

/// mod_status's `?auto` page parser (`StatusAuto::parse`), which the harness also runs on real
/// Apache's pages: any text must parse without a panic.
pub fn status_auto(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = StatusAuto::parse(text);
}

/// The access-log format compiler (`mod_log_config.c: parse_log_string`): any LogFormat string
/// compiles or is refused, never a panic.
pub fn log_format(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = compile_format(text);
}
