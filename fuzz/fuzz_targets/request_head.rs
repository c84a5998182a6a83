//! A request head as `read.rs` takes it apart: the request line (`ap_parse_request_line`),
//! header lines (`ap_get_mime_headers_core`) and the checks of `ap_check_request_header`.
//! Must never panic; a parsed request line must re-join to a non-empty `the_request`.
#![no_main]
use httpd_core::http::request::{HeaderParser, check_headers, parse_request_line, the_request};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut lines = data.split(|&b| b == b'\n').map(|l| l.strip_suffix(b"\r").unwrap_or(l));
    let Some(first) = lines.next() else { return };
    let _ = the_request(first);
    let Ok(line) = parse_request_line(first) else { return };
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
});
