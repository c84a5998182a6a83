//! Timeouts and the statuses that drop the connection (spec §9, rules 68, 69).

use conformance::{Mpm, ServerTest, for_each_mpm};
use std::io::Write;
use std::time::{Duration, Instant};

/// Rule 68: silent in the middle of the request line for `Timeout` → closed with no response,
/// access log `"-" 408 -`; silent in the middle of the headers → a 408 response.
fn rule_68_timeout_mid_request_line_silent_mid_headers_408(mpm: Mpm) {
    let s = ServerTest::new(mpm).directive("Timeout 1").start();
    let start = Instant::now();
    let ex = s.raw_timeout(b"GET /ind", Duration::from_secs(10));
    assert!(ex.closed, "the server closes the connection");
    assert!(
        ex.raw.is_empty(),
        "and sends nothing: {:?}",
        String::from_utf8_lossy(&ex.raw)
    );
    assert!(
        start.elapsed() < Duration::from_secs(8),
        "after about Timeout (1 s), took {:?}",
        start.elapsed()
    );
    s.wait_for_access_log("\"-\" 408 -", Duration::from_secs(5));
    let ex = s.raw_timeout(
        b"GET /index.html HTTP/1.1\r\nHost: x\r\n",
        Duration::from_secs(10),
    );
    assert_eq!(ex.response().status, 408);
}
for_each_mpm!(rule_68_timeout_mid_request_line_silent_mid_headers_408);

/// Rule 69: 400, 408, 413, 414 and 501 carry `Connection: close` and the server closes, even
/// on a connection that asked for keep-alive.
fn rule_69_error_statuses_close_the_connection(mpm: Mpm) {
    let s = ServerTest::new(mpm)
        .directive("LimitRequestBody 10")
        .directive("Timeout 1")
        .start();
    let long = format!("GET /{} HTTP/1.1\r\nHost: x\r\n\r\n", "a".repeat(9000));
    let cases: Vec<(u16, Vec<u8>)> = vec![
        (400, b"GET /index.html HTTP/1.1\r\n\r\n".to_vec()),
        (
            413,
            b"POST /index.html HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n".to_vec(),
        ),
        (414, long.into_bytes()),
        (501, b"FOO /index.html HTTP/1.1\r\nHost: x\r\n\r\n".to_vec()),
        (408, b"GET /index.html HTTP/1.1\r\nHost: x\r\n".to_vec()),
    ];
    for (status, req) in cases {
        let mut c = s.connect();
        c.write_all(&req).unwrap();
        let ex = conformance::http::read_until_close(&mut c, Duration::from_secs(10)).unwrap();
        let r = ex.response();
        assert_eq!(r.status, status);
        assert!(
            r.closes(),
            "{status} carries Connection: close: {:?}",
            r.headers
        );
        assert!(ex.closed, "{status}: the server closed the connection");
    }
    // Contrast: a 404 keeps the connection open.
    let mut c = s.connect();
    c.write_all(b"GET /missing HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let r = conformance::http::read_response(&mut c, false)
        .unwrap()
        .unwrap();
    assert_eq!(r.status, 404);
    assert!(!r.closes());
}
for_each_mpm!(rule_69_error_statuses_close_the_connection);
