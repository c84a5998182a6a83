//! Request-size limits inherited from the core (spec §9, rules 60, 61, 67), over real TCP
//! against each MPM's binary.

use conformance::{Mpm, ServerTest, for_each_mpm};

/// A request line of exactly `len` characters (CRLF not counted):
/// `GET /index.html?aaa… HTTP/1.1` (a query string, so the file exists whatever the length;
/// a long *path* would get 403 from Apache for a file name too long).
fn request_line_of(len: usize) -> String {
    let fixed = "GET /index.html?".len() + " HTTP/1.1".len();
    format!("GET /index.html?{} HTTP/1.1", "a".repeat(len - fixed))
}

/// Rule 60: LimitRequestLine 8190 accepts 8191 characters (the buffer is limit+2 and only the
/// LF may overflow) and answers 8192 with 414, not 400.
fn rule_60_request_line_8191_accepted_8192_gets_414(mpm: Mpm) {
    let s = ServerTest::new(mpm).start();
    let ok = s
        .raw(
            format!(
                "{}\r\nHost: x\r\nConnection: close\r\n\r\n",
                request_line_of(8191)
            )
            .as_bytes(),
        )
        .response();
    assert_eq!(ok.status, 200, "8191 characters are a valid request line");
    let long = s
        .raw(
            format!(
                "{}\r\nHost: x\r\nConnection: close\r\n\r\n",
                request_line_of(8192)
            )
            .as_bytes(),
        )
        .response();
    assert_eq!(long.status, 414);
    s.wait_for_log("AH00565", std::time::Duration::from_secs(5));
}
for_each_mpm!(rule_60_request_line_8191_accepted_8192_gets_414);

/// Rule 61: a header line of 8192 characters gets 400 (never 431); 101 header fields get 400.
fn rule_61_header_8192_or_101_fields_get_400(mpm: Mpm) {
    let s = ServerTest::new(mpm).start();
    let header_of = |len: usize| format!("X-Long: {}", "b".repeat(len - "X-Long: ".len()));
    let req = |h: String| {
        format!("GET /index.html HTTP/1.1\r\nHost: x\r\n{h}\r\nConnection: close\r\n\r\n")
    };
    assert_eq!(
        s.raw(req(header_of(8191)).as_bytes()).response().status,
        200
    );
    assert_eq!(
        s.raw(req(header_of(8192)).as_bytes()).response().status,
        400
    );
    // Host + Connection + N others.
    let fields = |n: usize| (0..n).map(|i| format!("X-F{i}: v\r\n")).collect::<String>();
    let many = |n: usize| {
        format!(
            "GET /index.html HTTP/1.1\r\nHost: x\r\nConnection: close\r\n{}\r\n",
            fields(n)
        )
    };
    assert_eq!(
        s.raw(many(98).as_bytes()).response().status,
        200,
        "100 fields are allowed"
    );
    assert_eq!(
        s.raw(many(99).as_bytes()).response().status,
        400,
        "101 fields are not"
    );
}
for_each_mpm!(rule_61_header_8192_or_101_fields_get_400);

/// Rule 67: Content-Length must be plain decimal digits (400 otherwise); above
/// LimitRequestBody it gets 413.
fn rule_67_bad_content_length_400_too_large_413(mpm: Mpm) {
    let s = ServerTest::new(mpm)
        .directive("LimitRequestBody 10")
        .start();
    for cl in ["abc", "-1", "+5", ""] {
        let r = s.raw(
            format!("POST /index.html HTTP/1.1\r\nHost: x\r\nContent-Length: {cl}\r\n\r\n")
                .as_bytes(),
        );
        assert_eq!(r.response().status, 400, "Content-Length: {cl:?}");
    }
    let r = s.raw(b"POST /index.html HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n");
    assert_eq!(r.response().status, 413);
}
for_each_mpm!(rule_67_bad_content_length_400_too_large_413);
