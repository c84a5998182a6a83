//! Keep-alive and pipelining (HTTP/1.0 and 1.1), request bodies that must be consumed,
//! `Expect: 100-continue`, and panics in handlers.

mod http_support;

use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

use http_support::*;
use httpd_core::config::Section;

#[test]
fn keepalive_http11_pipelined_requests_all_answered_in_order() {
    let srv = TestServer::start();
    let text = srv.send(
        b"GET /index.html HTTP/1.1\r\nHost: h\r\n\r\nGET /1k.txt HTTP/1.1\r\nHost: h\r\n\r\nHEAD /index.html HTTP/1.1\r\nHost: h\r\n\r\n",
    );
    assert_eq!(count_responses(&text), 3, "{text}");
    let first = text.find("Content-Length: 6").unwrap();
    let second = text.find("Content-Length: 1024").unwrap();
    assert!(first < second);
    assert_eq!(srv.access_lines(3).len(), 3);
}

#[test]
fn keepalive_http10_answers_keep_alive_and_connection_fields() {
    let srv = TestServer::start();
    let mut s = srv.connect();
    s.write_all(b"GET /index.html HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        .unwrap();
    let r = read_response(&mut s, false).unwrap();
    assert_eq!(
        r.header("Keep-Alive").as_deref(),
        Some("timeout=2, max=100")
    );
    assert_eq!(r.header("Connection").as_deref(), Some("Keep-Alive"));
    s.write_all(b"GET /index.html HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        .unwrap();
    let r = read_response(&mut s, false).unwrap();
    assert_eq!(r.header("Keep-Alive").as_deref(), Some("timeout=2, max=99"));
    // Without the token an HTTP/1.0 connection closes.
    s.write_all(b"GET /index.html HTTP/1.0\r\n\r\n").unwrap();
    let r = read_response(&mut s, false).unwrap();
    assert_eq!(r.header("Connection").as_deref(), Some("close"));
    assert_eq!(read_to_close(&mut s), "");
}

#[test]
fn max_keep_alive_requests_closes_after_the_limit() {
    let srv = TestServer::with_config(|c| c.max_keep_alive_requests = 2);
    let req = "GET /index.html HTTP/1.1\r\nHost: h\r\n\r\n".repeat(5);
    let text = srv.send(req.as_bytes());
    // Apache keeps the connection while keepalives < max: 2 kept, the 3rd says close.
    assert_eq!(count_responses(&text), 3, "{text}");
    assert_eq!(text.matches("Connection: close").count(), 1);
}

#[test]
fn keep_alive_off_closes_after_each_response() {
    let srv = TestServer::with_config(|c| c.keep_alive = false);
    let text = srv.send(b"GET / HTTP/1.1\r\nHost: h\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n");
    assert_eq!(count_responses(&text), 1);
}

#[test]
fn request_bodies_are_discarded_so_the_next_request_stays_in_sync() {
    let srv = TestServer::start();
    let text = srv.send(
        b"GET /missing HTTP/1.1\r\nHost: h\r\nContent-Length: 20\r\n\r\nGET /nope HTTP/1.1\r\n\
          GET /index.html HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nGET /\r\n0\r\nTrailer: x\r\n\r\n\
          GET /1k.txt HTTP/1.1\r\nHost: h\r\n\r\n",
    );
    assert_eq!(count_responses(&text), 3, "{text}");
    assert!(text.starts_with("HTTP/1.1 404"));
    assert!(text.contains("Content-Length: 1024"));
}

#[test]
fn expect_100_continue_is_sent_only_when_the_body_is_read() {
    let srv = TestServer::start();
    // GET of a file: the default handler reads (discards) the body: 100 first.
    let mut s = srv.connect();
    s.write_all(
        b"GET /index.html HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n",
    )
    .unwrap();
    let r = read_response(&mut s, false).unwrap();
    assert_eq!(r.status, 100);
    s.write_all(b"body").unwrap();
    let r = read_response(&mut s, false).unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(r.header("Connection"), None, "still keep-alive");
    // Refused before any handler (TE not chunked): no 100, an error, close.
    let mut s = srv.connect();
    s.write_all(b"PUT /x HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 500\r\nTransfer-Encoding: gzip\r\n\r\n")
        .unwrap();
    let r = read_response(&mut s, false).unwrap();
    assert_eq!(r.status, 400);
    // 403 before the handler: no 100, the unread body condemns the connection.
    let srv = TestServer::with_config(|c| {
        c.directories.push(Section {
            path: c.document_root.display().to_string(),
            handler: None,
            require: Some(httpd_core::config::Require::AllDenied),
            options: None,
        })
    });
    let mut s = srv.connect();
    s.write_all(b"POST /index.html HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n").unwrap();
    let r = read_response(&mut s, false).unwrap();
    assert_eq!(r.status, 403);
    assert_eq!(r.header("Connection").as_deref(), Some("close"));
}

#[test]
fn a_panicking_handler_gets_a_500_and_an_error_log_line() {
    let srv = TestServer::start_with(
        |c| {
            c.locations.push(Section {
                path: "/boom".into(),
                handler: Some("boom".into()),
                require: None,
                options: None,
            })
        },
        |s| {
            assert!(s.register_handler("boom", Arc::new(|_req| panic!("deliberate test panic"))));
        },
    );
    let prev = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let text = srv.send(b"GET /boom HTTP/1.1\r\nHost: h\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n");
    std::panic::set_hook(prev);
    assert_eq!(count_responses(&text), 1, "the connection closes: {text}");
    let r = parse(&text);
    assert_eq!(r.status, 500);
    assert_eq!(r.header("Connection").as_deref(), Some("close"));
    assert!(
        r.text()
            .contains("The server encountered an internal error or\nmisconfiguration")
    );
    assert!(srv.error_log().contains("deliberate test panic"));
    // The server still works.
    assert_eq!(parse(&srv.send(b"GET / HTTP/1.0\r\n\r\n")).status, 200);
}

#[test]
fn a_slow_client_still_gets_a_large_file_via_sendfile() {
    let srv = TestServer::start();
    let big: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
    std::fs::write(srv.path("htdocs/big.bin"), &big).unwrap();
    let mut s = srv.connect();
    s.write_all(b"GET /big.bin HTTP/1.1\r\nHost: h\r\n\r\n")
        .unwrap();
    std::thread::sleep(Duration::from_millis(300)); // let the socket buffers fill
    let r = read_response(&mut s, false).unwrap();
    assert_eq!(r.status, 200);
    assert!(r.body == big, "body intact ({} bytes)", r.body.len());
}
