//! Request parsing under the default `HttpProtocolOptions Strict` (spec §9, rules 62–66).

use conformance::{Mpm, ServerTest, for_each_mpm};

/// Rule 62: HTTP/1.1 needs Host; HTTP/1.0 does not.
fn rule_62_http11_without_host_400_http10_200(mpm: Mpm) {
    let s = ServerTest::new(mpm).start();
    assert_eq!(
        s.raw(b"GET /index.html HTTP/1.1\r\nConnection: close\r\n\r\n")
            .response()
            .status,
        400
    );
    assert_eq!(
        s.raw(b"GET /index.html HTTP/1.0\r\n\r\n").response().status,
        200
    );
    // Two Host headers are merged into "a, b" and refused.
    let dup = s.raw(b"GET /index.html HTTP/1.1\r\nHost: a\r\nHost: b\r\nConnection: close\r\n\r\n");
    assert_eq!(dup.response().status, 400);
}
for_each_mpm!(rule_62_http11_without_host_400_http10_200);

/// Rule 63: an unknown method on a static file gets 501 with Allow; PUT and DELETE get 405.
fn rule_63_unknown_method_501_with_allow_put_delete_405(mpm: Mpm) {
    let s = ServerTest::new(mpm).start();
    let r = s
        .raw(b"FOO /index.html HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .response();
    assert_eq!(r.status, 501);
    assert!(
        r.header("Allow").is_some(),
        "501 carries Allow: {:?}",
        r.headers
    );
    for m in ["PUT", "DELETE"] {
        let r = s.raw(format!("{m} /index.html HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n").as_bytes());
        assert_eq!(r.response().status, 405, "{m}");
    }
}
for_each_mpm!(rule_63_unknown_method_501_with_allow_put_delete_405);

/// Rule 64: `GET /path` with no protocol is HTTP/0.9: the body alone. `HEAD /path` is not
/// allowed in 0.9 and gets a 400 sent as HTTP/1.x.
fn rule_64_http09_get_is_headerless_head_is_400(mpm: Mpm) {
    let s = ServerTest::new(mpm).start();
    let ex = s.raw(b"GET /index.html\r\n");
    assert!(ex.closed);
    assert_eq!(
        ex.raw, b"<html><body>lab</body></html>\n",
        "no status line, no headers"
    );
    let head = s.raw(b"HEAD /index.html\r\n").response();
    assert_eq!(head.status, 400);
    assert!(head.version.starts_with("HTTP/1."));
}
for_each_mpm!(rule_64_http09_get_is_headerless_head_is_400);

/// Rule 65: Strict parsing refuses bare LF, a lowercase protocol, double spaces, fragments
/// and userinfo in the request target.
fn rule_65_strict_parsing_refuses_malformed_request_lines(mpm: Mpm) {
    let s = ServerTest::new(mpm).start();
    let bad: [&[u8]; 6] = [
        b"GET /index.html HTTP/1.1\nHost: x\nConnection: close\n\n",
        b"GET /index.html http/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        b"GET  /index.html HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        b"GET /index.html  HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        b"GET /index.html#top HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        b"GET http://user:pw@127.0.0.1/index.html HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    ];
    for req in bad {
        let r = s.raw(req).response();
        assert_eq!(r.status, 400, "{:?}", String::from_utf8_lossy(req));
    }
    // Versions above 1.1 are served as HTTP/1.1, not refused.
    let r = s
        .raw(b"GET /index.html HTTP/1.2\r\nHost: x\r\nConnection: close\r\n\r\n")
        .response();
    assert_eq!(r.status, 200);
}
for_each_mpm!(rule_65_strict_parsing_refuses_malformed_request_lines);

/// Rule 66: a Transfer-Encoding whose last coding is not chunked gets 400; chunked together
/// with Content-Length is served (Content-Length dropped) and the connection is closed.
fn rule_66_transfer_encoding_rules(mpm: Mpm) {
    let s = ServerTest::new(mpm).start();
    let r = s
        .raw(b"POST /index.html HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n")
        .response();
    assert_eq!(r.status, 400);
    let ex = s.raw(b"GET /index.html HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n");
    assert_eq!(ex.response().status, 200);
    assert!(ex.closed, "the server closes after a request that had both");
}
for_each_mpm!(rule_66_transfer_encoding_rules);
