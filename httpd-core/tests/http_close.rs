//! How a prefork or worker connection ends (`serve_connection`).
//!
//! Apache's `ap_lingering_close` shuts down our side and then reads until the client's FIN (2 s
//! per read, 30 s at most), so that bytes the client is still sending cannot turn our FIN into
//! a RST that destroys the response in flight. We keep that for every close we decide, and skip
//! it only when the client asked to close and nothing of its is left unread (a listed deviation,
//! `conformance/DEVIATIONS.md`): then the process or thread is free at once.
//!
//! Each test runs one connection on its own thread and watches when that thread is done while
//! the client still holds its socket open: done at once = no linger; still busy after 600 ms =
//! lingering (it would wait 2 s for our FIN).

mod http_support;

use std::io::Write;
use std::time::Duration;

use http_support::*;
use httpd_core::scoreboard::WorkerStatus;

const LINGER_VISIBLE: Duration = Duration::from_millis(600);

#[test]
fn a_client_that_asked_to_close_is_not_lingered_on() {
    let mut c = one_conn(|_| {}, |_| {});
    c.client
        .write_all(b"GET /1k.txt HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n")
        .unwrap();
    let text = c.read_until_fin();
    assert!(text.starts_with("HTTP/1.1 200 OK\r\n"), "{text}");
    assert!(text.contains("Connection: close\r\n"));
    assert!(text.ends_with(&"x".repeat(1024)), "the whole body arrives");
    assert!(
        c.finishes_within(Duration::from_secs(1)),
        "the thread is free without waiting for the client's FIN"
    );
    c.join();
}

#[test]
fn an_http10_client_without_keep_alive_is_not_lingered_on() {
    let mut c = one_conn(|_| {}, |_| {});
    c.client
        .write_all(b"GET /index.html HTTP/1.0\r\n\r\n")
        .unwrap();
    let text = c.read_until_fin();
    assert!(text.ends_with("hello\n"), "{text}");
    assert!(c.finishes_within(Duration::from_secs(1)));
    c.join();
}

#[test]
fn a_close_the_server_decides_still_lingers() {
    // KeepAlive Off: the client asked for nothing, the server ends the connection.
    let mut c = one_conn(|cfg| cfg.keep_alive = false, |_| {});
    c.client
        .write_all(b"GET /index.html HTTP/1.1\r\nHost: h\r\n\r\n")
        .unwrap();
    let text = c.read_until_fin();
    assert!(text.contains("Connection: close\r\n"), "{text}");
    assert!(
        !c.finishes_within(LINGER_VISIBLE),
        "lingering close waits for the client's FIN"
    );
    assert_eq!(c.sb.worker(0, 0).status(), WorkerStatus::Closing);
    c.join();
}

#[test]
fn bytes_after_a_close_request_are_drained_not_reset() {
    // The client broke its promise: more bytes after `Connection: close`. They are read and
    // dropped (lingering close), and the response still arrives whole, ended by a FIN.
    let mut c = one_conn(|_| {}, |_| {});
    c.client
        .write_all(
            b"GET /1k.txt HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\nGET /index.html HTTP/1.1\r\n",
        )
        .unwrap();
    let text = c.read_until_fin();
    assert_eq!(count_responses(&text), 1, "{text}");
    assert!(text.ends_with(&"x".repeat(1024)));
    assert!(!c.finishes_within(LINGER_VISIBLE), "unread bytes: linger");
    c.join();
}

#[test]
fn an_unread_request_body_keeps_the_linger() {
    // A 413 is decided before the body is read: the client may still be sending it.
    let mut c = one_conn(|cfg| cfg.limit_request_body = 10, |_| {});
    c.client
        .write_all(
            b"POST /index.html HTTP/1.1\r\nHost: h\r\nConnection: close\r\nContent-Length: 100\r\n\r\n0123456789",
        )
        .unwrap();
    let text = c.read_until_fin();
    assert!(text.starts_with("HTTP/1.1 413 "), "{text}");
    assert!(!c.finishes_within(LINGER_VISIBLE));
    c.join();
}
