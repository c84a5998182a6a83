//! Rules 60, 61, 69 and the request-line/header limits over real TCP.

mod http_support;

use http_support::*;

/// A request line of exactly `len` characters (without CRLF).
fn request_line(len: usize) -> String {
    let fixed = "GET / HTTP/1.0".len();
    format!("GET /{} HTTP/1.0", "a".repeat(len - fixed))
}

#[test]
fn rule_60_request_line_8191_ok_8192_414() {
    let srv = TestServer::start();
    let ok = srv.send(format!("{}\r\n\r\n", request_line(8191)).as_bytes());
    assert_eq!(
        parse(&ok).status,
        404,
        "8191 characters pass the limit: {ok}"
    );
    let too_long = srv.send(format!("{}\r\n\r\n", request_line(8192)).as_bytes());
    let r = parse(&too_long);
    assert_eq!(r.status, 414);
    assert_eq!(r.header("Connection").as_deref(), Some("close"));
    assert!(
        r.text()
            .contains("The requested URL's length exceeds the capacity\nlimit for this server.")
    );
    assert!(srv.error_log().contains("[core:info]"));
    assert!(srv.error_log().contains(
        "AH00565: request failed: client's request-line exceeds LimitRequestLine (longer than 8190)"
    ));
}

#[test]
fn rule_61_header_line_8191_ok_8192_400() {
    let srv = TestServer::start();
    let field = |len: usize| format!("X-Long: {}", "b".repeat(len - "X-Long: ".len()));
    let ok = srv.send(format!("GET / HTTP/1.0\r\n{}\r\n\r\n", field(8191)).as_bytes());
    assert_eq!(parse(&ok).status, 200);
    let bad = srv.send(format!("GET / HTTP/1.0\r\n{}\r\n\r\n", field(8192)).as_bytes());
    let r = parse(&bad);
    assert_eq!(r.status, 400, "never 431");
    assert!(
        r.text()
            .contains("Size of a request header field exceeds server limit.")
    );
    assert!(
        srv.error_log()
            .contains("AH00561: Request header exceeds LimitRequestFieldSize: X-Long")
    );
}

#[test]
fn rule_61_100_fields_ok_101_fields_400() {
    let srv = TestServer::start();
    let fields = |n: usize| (0..n).map(|i| format!("X-F{i}: v\r\n")).collect::<String>();
    let ok = srv.send(format!("GET / HTTP/1.0\r\n{}\r\n", fields(100)).as_bytes());
    assert_eq!(parse(&ok).status, 200);
    let bad = srv.send(format!("GET / HTTP/1.0\r\n{}\r\n", fields(101)).as_bytes());
    assert_eq!(parse(&bad).status, 400);
    assert!(
        srv.error_log()
            .contains("AH00563: Number of request headers exceeds LimitRequestFields")
    );
}

#[test]
fn rule_69_error_statuses_close_with_connection_close() {
    let srv = TestServer::start();
    // A refused request followed by a pipelined valid one: only the 400 is answered.
    let text = srv.send(b"GET / HTTP/1.1\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n");
    assert_eq!(count_responses(&text), 1, "{text}");
    let r = parse(&text);
    assert_eq!(r.status, 400);
    assert_eq!(r.header("Connection").as_deref(), Some("close"));
    assert_eq!(
        r.header("Content-Type").as_deref(),
        Some("text/html; charset=iso-8859-1")
    );
    assert!(r.text().contains(
        "<p>Your browser sent a request that this server could not understand.<br />\n</p>"
    ));
    // 404 keeps the connection: the pipelined request is answered too.
    let text = srv.send(b"GET /nope HTTP/1.1\r\nHost: h\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n");
    assert_eq!(count_responses(&text), 2, "{text}");
}

#[test]
fn rule_60_limit_request_line_is_configurable() {
    let srv = TestServer::with_config(|c| c.limit_request_line = 100);
    assert_eq!(
        parse(&srv.send(format!("{}\r\n\r\n", request_line(101)).as_bytes())).status,
        404
    );
    assert_eq!(
        parse(&srv.send(format!("{}\r\n\r\n", request_line(102)).as_bytes())).status,
        414
    );
}

#[test]
fn leading_empty_lines_up_to_10_are_skipped() {
    let srv = TestServer::start();
    let ten = format!("{}GET / HTTP/1.0\r\n\r\n", "\r\n".repeat(10));
    assert_eq!(parse(&srv.send(ten.as_bytes())).status, 200);
    let eleven = format!("{}GET / HTTP/1.0\r\n\r\n", "\r\n".repeat(11));
    assert_eq!(parse(&srv.send(eleven.as_bytes())).status, 400);
}
