//! Rule 68 (timeouts and their 408s), rule 70 (stopping between requests), KeepAliveTimeout.

mod http_support;

use std::io::Write;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use http_support::*;
use httpd_core::config::Section;
use httpd_core::http::response::Response;
use std::sync::Arc;

fn fast_timeout() -> TestServer {
    TestServer::with_config(|c| {
        c.timeout = Duration::from_millis(500);
        c.keep_alive_timeout = Duration::from_millis(500);
    })
}

#[test]
fn rule_68_silent_mid_request_line_no_response_and_408_logged() {
    let srv = fast_timeout();
    let mut s = srv.connect();
    s.write_all(b"GET /index.ht").unwrap();
    let text = read_to_close(&mut s);
    assert_eq!(text, "", "no response at all");
    let lines = srv.access_lines(1);
    assert_eq!(lines.len(), 1);
    assert!(lines[0].ends_with("\"-\" 408 -"), "{lines:?}");
}

#[test]
fn rule_68_silent_mid_headers_gets_a_408_response() {
    let srv = fast_timeout();
    let mut s = srv.connect();
    s.write_all(b"GET /index.html HTTP/1.1\r\nHost: h\r\n")
        .unwrap();
    let r = parse(&read_to_close(&mut s));
    assert_eq!(r.status, 408);
    assert_eq!(r.header("Connection").as_deref(), Some("close"));
    assert!(
        r.text()
            .contains("<p>Server timeout waiting for the HTTP request from the client.</p>")
    );
}

#[test]
fn rule_68_timeout_on_a_later_request_is_not_logged() {
    let srv = fast_timeout();
    let mut s = srv.connect();
    s.write_all(b"GET /index.html HTTP/1.1\r\nHost: h\r\n\r\n")
        .unwrap();
    assert_eq!(read_response(&mut s, false).unwrap().status, 200);
    s.write_all(b"GET /ind").unwrap();
    assert_eq!(read_to_close(&mut s), "");
    std::thread::sleep(Duration::from_millis(200));
    let lines = srv.access_lines(1);
    assert_eq!(lines.len(), 1, "only the 200: {lines:?}");
    assert!(lines[0].contains("\"GET /index.html HTTP/1.1\" 200 6"));
}

#[test]
fn keep_alive_timeout_closes_an_idle_connection() {
    let srv = fast_timeout();
    let mut s = srv.connect();
    s.write_all(b"GET /index.html HTTP/1.1\r\nHost: h\r\n\r\n")
        .unwrap();
    assert_eq!(read_response(&mut s, false).unwrap().status, 200);
    let t0 = Instant::now();
    assert_eq!(read_to_close(&mut s), "");
    let waited = t0.elapsed();
    assert!(
        waited >= Duration::from_millis(400) && waited < Duration::from_secs(3),
        "{waited:?}"
    );
}

#[test]
fn rule_70_stopping_closes_keepalive_after_the_inflight_request() {
    let srv = TestServer::start_with(
        |c| {
            c.locations.push(Section {
                path: "/slow".into(),
                handler: Some("slow".into()),
                require: None,
                options: None,
            })
        },
        |s| {
            s.register_handler(
                "slow",
                Arc::new(|_| {
                    std::thread::sleep(Duration::from_millis(300));
                    Response::new(204)
                }),
            );
        },
    );
    let mut s = srv.connect();
    s.write_all(b"GET /index.html HTTP/1.1\r\nHost: h\r\n\r\n")
        .unwrap();
    let r = read_response(&mut s, false).unwrap();
    assert_eq!((r.status, r.header("Connection")), (200, None));
    s.write_all(b"GET /slow HTTP/1.1\r\nHost: h\r\n\r\n")
        .unwrap();
    std::thread::sleep(Duration::from_millis(100));
    srv.stopping.store(true, Ordering::SeqCst); // while /slow is in flight
    let r = read_response(&mut s, false).unwrap();
    assert_eq!(r.status, 204, "the in-flight request is still served");
    assert_eq!(r.header("Connection").as_deref(), Some("close"));
    assert_eq!(read_to_close(&mut s), "");
}

#[test]
fn rule_70_stopping_ends_an_idle_keepalive_wait_early() {
    let srv = TestServer::with_config(|c| c.keep_alive_timeout = Duration::from_secs(10));
    let mut s = srv.connect();
    s.write_all(b"GET /index.html HTTP/1.1\r\nHost: h\r\n\r\n")
        .unwrap();
    assert_eq!(read_response(&mut s, false).unwrap().status, 200);
    std::thread::sleep(Duration::from_millis(100));
    let t0 = Instant::now();
    srv.stopping.store(true, Ordering::SeqCst);
    assert_eq!(read_to_close(&mut s), "");
    assert!(
        t0.elapsed() < Duration::from_secs(2),
        "closed {:?} after the stop",
        t0.elapsed()
    );
}
