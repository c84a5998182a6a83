//! Rules 62–67: strict parsing, methods, HTTP/0.9, body framing, paths that try to escape.

mod http_support;

use http_support::*;

fn status(srv: &TestServer, req: &str) -> u16 {
    parse(&srv.send(req.as_bytes())).status
}

#[test]
fn rule_62_http11_without_host_400_http10_without_host_200() {
    let srv = TestServer::start();
    assert_eq!(status(&srv, "GET / HTTP/1.1\r\n\r\n"), 400);
    assert_eq!(status(&srv, "GET / HTTP/1.0\r\n\r\n"), 200);
    assert_eq!(
        status(
            &srv,
            "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"
        ),
        200
    );
    assert!(srv.error_log().contains(
        "AH00569: client sent HTTP/1.1 request without hostname (see RFC2616 section 14.23): /"
    ));
}

#[test]
fn rule_62_duplicate_host_400() {
    let srv = TestServer::start();
    assert_eq!(
        status(&srv, "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"),
        400
    );
}

#[test]
fn rule_63_unknown_method_501_with_allow() {
    let srv = TestServer::start();
    let r = parse(&srv.send(b"FOO /index.html HTTP/1.0\r\n\r\n"));
    assert_eq!(r.status, 501);
    assert_eq!(
        r.header("Allow").as_deref(),
        Some("GET,POST,OPTIONS,HEAD,TRACE")
    );
    assert_eq!(r.header("Connection").as_deref(), Some("close"));
    assert!(
        r.text()
            .contains("<p>FOO not supported for current URL.<br />\n</p>")
    );
    assert!(srv.error_log().contains("[core:error]"));
    assert!(
        srv.error_log()
            .contains("AH00135: Invalid method in request FOO /index.html HTTP/1.0")
    );
}

#[test]
fn rule_63_put_delete_405_with_allow() {
    let srv = TestServer::start();
    for m in ["PUT", "DELETE", "PATCH"] {
        let r = parse(
            &srv.send(format!("{m} /index.html HTTP/1.0\r\nContent-Length: 0\r\n\r\n").as_bytes()),
        );
        assert_eq!(r.status, 405, "{m}");
        assert_eq!(
            r.header("Allow").as_deref(),
            Some("GET,POST,OPTIONS,HEAD,TRACE")
        );
        assert!(r.text().contains(&format!(
            "<p>The requested method {m} is not allowed for this URL.</p>"
        )));
    }
}

#[test]
fn post_to_a_static_file_discards_the_body_and_serves_the_file() {
    // Apache 2.4's default handler serves GET and POST alike (`deliver_script` is set for every
    // request in core_create_req), whatever frames the body.
    let srv = TestServer::start();
    for req in [
        "POST /index.html HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc",
        "POST /index.html HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3;x=y\r\nabc\r\n0\r\n\r\n",
        "POST /index.html HTTP/1.1\r\nHost: h\r\n\r\n",
        "POST / HTTP/1.0\r\nContent-Length: 1\r\n\r\nz",
    ] {
        // The body was read: the pipelined GET after it is the second response.
        let text = srv.send(
            format!("{req}GET /index.html HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n")
                .as_bytes(),
        );
        let r = parse(&text);
        assert_eq!(
            (r.status, r.text().starts_with("hello\n")),
            (200, true),
            "{req}: {text}"
        );
        if req.contains("HTTP/1.1") {
            assert_eq!(count_responses(&text), 2, "{req}: {text}");
        }
    }
    assert_eq!(
        status(&srv, "POST /missing HTTP/1.0\r\nContent-Length: 0\r\n\r\n"),
        404
    );
}

#[test]
fn default_handler_refuses_every_other_known_method_with_405() {
    let srv = TestServer::start();
    for m in [
        "PUT", "DELETE", "PATCH", "PROPFIND", "MKCOL", "LOCK", "CONNECT",
    ] {
        let target = if m == "CONNECT" {
            "h:80"
        } else {
            "/index.html"
        };
        let text = srv.send(format!("{m} {target} HTTP/1.0\r\n\r\n").as_bytes());
        let st = parse(&text).status;
        assert!(st == 405 || (m == "CONNECT" && st == 400), "{m}: {text}");
    }
}

#[test]
fn rule_64_http09_get_gets_a_headerless_body() {
    let srv = TestServer::start();
    assert_eq!(srv.send(b"GET /index.html\r\n"), "hello\n");
}

#[test]
fn rule_64_head_without_protocol_400() {
    let srv = TestServer::start();
    let text = srv.send(b"HEAD /index.html\r\n");
    assert!(text.starts_with("HTTP/1.1 400 Bad Request\r\n"), "{text}");
}

#[test]
fn rule_65_strict_request_lines_400() {
    let srv = TestServer::start();
    for req in [
        "GET / HTTP/1.0\n\n",
        "GET / http/1.1\r\nHost: h\r\n\r\n",
        "GET  / HTTP/1.1\r\nHost: h\r\n\r\n",
        "GET /index.html#frag HTTP/1.1\r\nHost: h\r\n\r\n",
        "GET http://user:pw@h/ HTTP/1.1\r\nHost: h\r\n\r\n",
        "GET /a\x01b HTTP/1.1\r\nHost: h\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: h\r\nX: a\x00b\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: h\r\nBad Name: x\r\n\r\n",
    ] {
        let text = srv.send(req.as_bytes());
        assert_eq!(parse(&text).status, 400, "{req:?} -> {text}");
    }
}

#[test]
fn rule_65_http_1_2_is_accepted_as_1_1() {
    let srv = TestServer::start();
    let text = srv.send(b"GET /index.html HTTP/1.2\r\nHost: h\r\nConnection: close\r\n\r\n");
    assert!(text.starts_with("HTTP/1.1 200 OK\r\n"), "{text}");
}

#[test]
fn rule_66_transfer_encoding_not_ending_in_chunked_400() {
    let srv = TestServer::start();
    assert_eq!(
        status(
            &srv,
            "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip\r\n\r\n"
        ),
        400
    );
    assert_eq!(
        status(
            &srv,
            "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked, gzip\r\n\r\n"
        ),
        400
    );
}

#[test]
fn rule_66_chunked_plus_content_length_served_then_closed() {
    let srv = TestServer::start();
    let text = srv.send(
        b"GET /index.html HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n\
          GET /index.html HTTP/1.1\r\nHost: h\r\n\r\n",
    );
    assert_eq!(count_responses(&text), 1, "{text}");
    let r = parse(&text);
    assert_eq!(r.status, 200);
    assert_eq!(r.header("Connection").as_deref(), Some("close"));
}

#[test]
fn rule_67_bad_content_length_400() {
    let srv = TestServer::start();
    for cl in ["-1", "abc", "+3", "1 2", ""] {
        let req = format!("POST /index.html HTTP/1.1\r\nHost: h\r\nContent-Length: {cl}\r\n\r\n");
        assert_eq!(status(&srv, &req), 400, "Content-Length: {cl:?}");
    }
}

#[test]
fn rule_67_content_length_above_limit_request_body_413() {
    let srv = TestServer::with_config(|c| c.limit_request_body = 10);
    let r = parse(
        &srv.send(b"GET /index.html HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\n\r\n01234567890"),
    );
    assert_eq!(r.status, 413);
    assert_eq!(r.header("Connection").as_deref(), Some("close"));
    assert!(srv.error_log().contains(
        "AH01588: Requested content-length of 11 is larger than the configured limit of 10"
    ));
    let chunked = srv.send(b"GET /index.html HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\nb\r\n01234567890\r\n0\r\n\r\n");
    assert_eq!(parse(&chunked).status, 413);
    assert_eq!(
        status(
            &srv,
            "GET /index.html HTTP/1.1\r\nHost: h\r\nConnection: close\r\nContent-Length: 10\r\n\r\n0123456789"
        ),
        200
    );
}

#[test]
fn bad_chunk_syntax_400() {
    let srv = TestServer::start();
    for body in [
        "zz\r\nabc\r\n0\r\n\r\n",
        "3\r\nabcX\r\n0\r\n\r\n",
        "3\nabc\r\n0\r\n\r\n",
    ] {
        let req = format!(
            "GET /index.html HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n{body}"
        );
        assert_eq!(status(&srv, &req), 400, "{body:?}");
    }
}

#[test]
fn expect_other_than_100_continue_is_417_and_closes_the_connection() {
    let srv = TestServer::start();
    let r = parse(&srv.send(b"GET / HTTP/1.1\r\nHost: h\r\nExpect: teapot\r\n\r\n"));
    assert_eq!(r.status, 417);
    assert!(r.text().contains("Expect: teapot"));
    assert!(
        srv.error_log()
            .contains("AH00570: client sent an unrecognized expectation value of Expect: teapot")
    );
    // 417 keeps the head of a keep-alive answer but Apache ends the connection after it
    // (ap_read_request returns no request after ap_die): the pipelined GET is not answered.
    let text = srv.send(
        b"POST / HTTP/1.1\r\nHost: h\r\nExpect: teapot\r\nContent-Length: 3\r\n\r\nabcGET / HTTP/1.1\r\nHost: h\r\n\r\n",
    );
    assert_eq!(count_responses(&text), 1, "{text}");
    assert_eq!(parse(&text).header("Connection"), None, "{text}");
}

#[test]
fn dot_dot_and_encoded_dot_dot_never_escape_document_root() {
    let srv = TestServer::start();
    std::fs::write(srv.path("secret.txt"), "secret").unwrap();
    for target in [
        "/../secret.txt",
        "/sub/../../secret.txt",
        "/%2e%2e/secret.txt",
        "/sub/%2E%2E/%2e%2e/secret.txt",
    ] {
        let text = srv.send(format!("GET {target} HTTP/1.0\r\n\r\n").as_bytes());
        assert_eq!(parse(&text).status, 400, "{target}: {text}");
        assert!(!text.contains("secret"));
    }
    assert!(
        srv.error_log()
            .contains("AH10244: invalid URI path (/../secret.txt)")
    );
    // Inside the root, dot segments are fine.
    assert_eq!(status(&srv, "GET /sub/../index.html HTTP/1.0\r\n\r\n"), 200);
}

#[test]
fn encoded_slash_is_404_and_symlinks_out_of_the_root_are_403() {
    let srv = TestServer::start();
    assert_eq!(status(&srv, "GET /sub%2Findex.html HTTP/1.0\r\n\r\n"), 404);
    assert!(srv.error_log().contains(
        "AH00026: found %2f (encoded '/') in URI path (/sub%2Findex.html), returning 404"
    ));
    std::fs::write(srv.path("outside.txt"), "outside").unwrap();
    std::os::unix::fs::symlink(srv.path("outside.txt"), srv.path("htdocs/link.txt")).unwrap();
    std::os::unix::fs::symlink(srv.path("htdocs/index.html"), srv.path("htdocs/inside.txt"))
        .unwrap();
    let text = srv.send(b"GET /link.txt HTTP/1.0\r\n\r\n");
    assert_eq!(parse(&text).status, 403);
    assert!(!text.contains("outside\n") && !text.ends_with("outside"));
    assert_eq!(status(&srv, "GET /inside.txt HTTP/1.0\r\n\r\n"), 200);
    assert_eq!(status(&srv, "GET /a%zz HTTP/1.0\r\n\r\n"), 400);
}

#[test]
fn strict_host_checks_refuse_what_apaches_fix_hostname_refuses() {
    // Each answer checked against Debian's apache2 2.4.71 (HttpProtocolOptions Strict).
    let srv = TestServer::start();
    let refused = [
        "0x7f.0.0.1",
        "127.1",
        "0177.0.0.1",
        "1.2.3.4.5",
        "example.1com",
        "1234",
        "[::1::2]",
        "[1:::2]",
        "[zz::1]",
        "[::1.:2]",
        "[::1%25eth0]",
    ];
    let accepted = ["[::1]", "[::ffff:1.2.3.4]", "a_b", "x.", "h.:80"];
    for h in refused.iter().chain(&accepted) {
        let want = if refused.contains(h) { 400 } else { 200 };
        let uri = format!("GET http://{h}/ HTTP/1.1\r\nHost: y\r\n\r\n");
        assert_eq!(status(&srv, &uri), want, "absolute URI with {h}");
        let header = format!("GET / HTTP/1.1\r\nHost: {h}\r\n\r\n");
        assert_eq!(status(&srv, &header), want, "Host: {h}");
    }
    // A port of 0 or none: refused in Host (apr_parse_addr_port), accepted in a URI.
    for (h, want) in [("h:0", 400), ("h:", 400), ("h:65536", 400)] {
        assert_eq!(
            status(&srv, &format!("GET / HTTP/1.1\r\nHost: {h}\r\n\r\n")),
            want,
            "{h}"
        );
    }
    assert_eq!(
        status(&srv, "GET http://h:0/ HTTP/1.1\r\nHost: y\r\n\r\n"),
        200
    );
}
