//! Chunked decoding's line parser (`http_filters.c: parse_chunk_size`), driven over a whole
//! chunked body: every size line, then that many bytes and CRLF, until the last chunk.
//! Must never panic nor loop: each step consumes input.
#![no_main]
use httpd_core::http::body::parse_chunk_size;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut rest = data;
    while let Some(eol) = rest.iter().position(|&b| b == b'\n') {
        let line = &rest[..eol];
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        rest = &rest[eol + 1..];
        let Some(size) = parse_chunk_size(line) else { return };
        if size == 0 {
            return;
        }
        let Ok(n) = usize::try_from(size) else { return };
        if rest.len() < n.saturating_add(2) {
            return;
        }
        rest = &rest[n + 2..];
    }
});
