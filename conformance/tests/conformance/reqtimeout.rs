//! mod_reqtimeout on every MPM (`modules/filters/mod_reqtimeout.c`; httpd-core
//! `modules/reqtimeout.rs`, steps 1–4): a client slower than MinRate is cut with a 408 and
//! AH01382 long before `Timeout`, a client faster than MinRate is given more time up to the
//! maximum, and the body has its own stage. Short timeouts (seconds, Apache's unit) keep the
//! tests quick; `Timeout 30` shows that the cut comes from mod_reqtimeout, not from Timeout.

use conformance::{Mpm, ServerTest, for_each_mpm};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// The server with mod_reqtimeout loaded and short stages: header 1 s, extended by 50 B/s up
/// to 4 s; body 1 s, extended by 50 B/s.
fn server(mpm: Mpm) -> conformance::Server {
    ServerTest::new(mpm)
        .directive("LoadModule reqtimeout_module /usr/lib/apache2/modules/mod_reqtimeout.so")
        .directive("RequestReadTimeout header=1-4,MinRate=50 body=1,MinRate=50")
        .directive("Timeout 30")
        .directive("LogLevel info")
        .start()
}

/// Write `bytes` in pieces of `piece` bytes every `every`, stopping early (without error) when
/// the server has answered or closed. Returns how long the writing lasted.
fn trickle(c: &mut TcpStream, bytes: &[u8], piece: usize, every: Duration) -> Duration {
    let start = Instant::now();
    c.set_nonblocking(true).unwrap();
    for chunk in bytes.chunks(piece) {
        let mut probe = [0u8; 1];
        match c.peek(&mut probe) {
            // The server answered (or closed): stop sending, as a real client would.
            Ok(_) => break,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(_) => break,
        }
        if c.write_all(chunk).is_err() {
            break;
        }
        std::thread::sleep(every);
    }
    c.set_nonblocking(false).unwrap();
    start.elapsed()
}

fn read_all(c: &mut TcpStream) -> conformance::http::Exchange {
    conformance::http::read_until_close(c, Duration::from_secs(20)).unwrap()
}

/// Header stage, below MinRate: one byte every 300 ms (3 B/s against MinRate=50) after a
/// complete request line is cut after about the initial second: 408, `Connection: close`,
/// and `[reqtimeout:info] … AH01382: Request header read timeout`.
fn reqtimeout_slow_headers_get_408_and_ah01382(mpm: Mpm) {
    let s = server(mpm);
    let mut c = s.connect();
    c.write_all(b"GET /index.html HTTP/1.1\r\n").unwrap();
    let started = Instant::now();
    trickle(
        &mut c,
        b"Host: 127.0.0.1\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n",
        1,
        Duration::from_millis(300),
    );
    let ex = read_all(&mut c);
    let waited = started.elapsed();
    let r = ex.response();
    assert_eq!(r.status, 408, "{}", r.text());
    assert!(r.closes() && ex.closed, "a 408 closes the connection");
    assert!(
        waited < Duration::from_secs(15),
        "cut by the header stage (1-4 s), not by Timeout 30: {waited:?}"
    );
    let line = s.wait_for_log("AH01382", Duration::from_secs(5));
    assert!(
        line.contains("[reqtimeout:info]") && line.contains("AH01382: Request header read timeout"),
        "{line}"
    );
    assert!(line.contains("[client 127.0.0.1:"), "{line}");
}
for_each_mpm!(reqtimeout_slow_headers_get_408_and_ah01382);

/// Header stage, above MinRate: 10 bytes every 100 ms (100 B/s against MinRate=50) keeps the
/// deadline moving. A 250-byte request that takes about 2.5 s, well past the initial 1 s, is
/// answered 200; an endless trickle at the same rate is still cut, at the 4 s maximum.
fn reqtimeout_trickle_above_min_rate_is_extended_up_to_the_maximum(mpm: Mpm) {
    let s = server(mpm);
    let mut c = s.connect();
    let pad = "b".repeat(180);
    let req = format!(
        "GET /index.html HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Pad: {pad}\r\nConnection: close\r\n\r\n"
    );
    let took = trickle(&mut c, req.as_bytes(), 10, Duration::from_millis(100));
    let ex = read_all(&mut c);
    assert_eq!(ex.response().status, 200, "took {took:?}");
    assert!(
        took > Duration::from_millis(1500),
        "the request really outlasted the initial timeout: {took:?}"
    );
    // The same rate, forever: the maximum (4 s) still cuts it.
    let mut c = s.connect();
    let endless = format!(
        "GET /index.html HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Pad: {}",
        "c".repeat(2000)
    );
    let took = trickle(&mut c, endless.as_bytes(), 10, Duration::from_millis(100));
    let ex = read_all(&mut c);
    assert_eq!(ex.response().status, 408);
    assert!(
        took < Duration::from_secs(15),
        "cut at the maximum, long before the 20 s the padding would take: {took:?}"
    );
    s.wait_for_log(
        "AH01382: Request header read timeout",
        Duration::from_secs(5),
    );
}
for_each_mpm!(reqtimeout_trickle_above_min_rate_is_extended_up_to_the_maximum);

/// Body stage: headers arrive at once, then the 1000-byte body at 3 B/s: the body stage (1 s,
/// MinRate=50) cuts it: `AH01382: Request body read timeout`, and the connection is closed
/// with a 408.
fn reqtimeout_slow_body_is_cut_by_the_body_stage(mpm: Mpm) {
    let s = server(mpm);
    let mut c = s.connect();
    c.write_all(b"POST /index.html HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1000\r\n\r\n")
        .unwrap();
    let started = Instant::now();
    trickle(&mut c, &[b'x'; 1000], 1, Duration::from_millis(300));
    let ex = read_all(&mut c);
    assert!(ex.closed, "the connection is closed");
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "cut by the body stage, not by Timeout 30: {:?}",
        started.elapsed()
    );
    assert_eq!(ex.response().status, 408, "{}", ex.response().text());
    s.wait_for_log("AH01382: Request body read timeout", Duration::from_secs(5));
}
for_each_mpm!(reqtimeout_slow_body_is_cut_by_the_body_stage);

/// Without `LoadModule reqtimeout_module` the directive is refused at start-up with Apache's
/// message, and the server does not run.
#[test]
fn reqtimeout_directive_needs_the_module() {
    let out = ServerTest::new(Mpm::Prefork)
        .directive("RequestReadTimeout header=1")
        .run_to_exit(Duration::from_secs(20))
        .expect("the server starts and exits");
    assert!(
        out.status.is_some_and(|s| !s.success()),
        "exits with an error"
    );
    assert!(
        out.stderr.contains(
            "Invalid command 'RequestReadTimeout', perhaps misspelled or defined by a module not included in the server configuration"
        ),
        "{}",
        out.stderr
    );
}

/// Keep-alive: the header stage starts with a request's first byte, not when the connection
/// went idle, so a client that waits 2 s (KeepAliveTimeout 5) before its second request is
/// still served.
#[test]
fn reqtimeout_keepalive_wait_is_not_charged_to_the_header_stage() {
    let s = ServerTest::new(Mpm::Event)
        .directive("LoadModule reqtimeout_module mod_reqtimeout.so")
        .directive("RequestReadTimeout header=1,MinRate=50")
        .directive("KeepAliveTimeout 5")
        .start();
    let mut c = s.connect();
    let req = b"GET /index.html HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    c.write_all(req).unwrap();
    let first = conformance::http::read_response(&mut c, false)
        .unwrap()
        .unwrap();
    assert_eq!(first.status, 200);
    std::thread::sleep(Duration::from_secs(2));
    c.write_all(req).unwrap();
    let second = conformance::http::read_response(&mut c, false)
        .unwrap()
        .unwrap();
    assert_eq!(second.status, 200);
    let mut rest = Vec::new();
    c.set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let _ = c.read_to_end(&mut rest);
}

/// Per virtual host (reqtimeout.rs steps 5–7, `reqtimeout_merge_srv_config`), as Apache 2.4.71
/// answers the same configuration: the header stage is the address-chosen server's (the first
/// vhost, `header=1`), even for a request naming the second vhost, whose own header stage is
/// the main server's 20 s; the body stage is the `Host`-chosen server's: `slowbody.test`
/// (`body=1`) cuts a slow body, `first.test` (the main server's `body=20`) waits for it.
fn reqtimeout_stages_follow_the_virtual_host(mpm: Mpm) {
    let s = ServerTest::new(mpm)
        .directive("LoadModule reqtimeout_module /usr/lib/apache2/modules/mod_reqtimeout.so")
        .directive("RequestReadTimeout header=20 body=20")
        .directive("Timeout 30")
        .directive("LogLevel info")
        .directive("<VirtualHost *>")
        .directive("ServerName first.test")
        .directive("RequestReadTimeout header=1")
        .directive("</VirtualHost>")
        .directive("<VirtualHost *>")
        .directive("ServerName slowbody.test")
        .directive("RequestReadTimeout body=1")
        .directive("</VirtualHost>")
        .start();
    // Header stage: first.test's 1 s, although the Host names slowbody.test.
    let mut c = s.connect();
    c.write_all(b"GET /index.html HTTP/1.1\r\nHost: slowbody.test\r\n")
        .unwrap();
    let started = Instant::now();
    trickle(&mut c, &[b'x'; 100], 1, Duration::from_millis(300));
    let ex = read_all(&mut c);
    assert_eq!(ex.response().status, 408);
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    s.wait_for_log(
        "AH01382: Request header read timeout",
        Duration::from_secs(5),
    );
    // Body stage: slowbody.test's 1 s.
    let post = |host: &str| {
        let mut c = s.connect();
        let head = format!(
            "POST /index.html HTTP/1.1\r\nHost: {host}\r\nContent-Length: 10\r\nConnection: close\r\n\r\n"
        );
        c.write_all(head.as_bytes()).unwrap();
        let took = trickle(&mut c, &[b'x'; 10], 1, Duration::from_millis(300));
        (read_all(&mut c).response().status, took)
    };
    let (status, _) = post("slowbody.test");
    assert_eq!(status, 408);
    s.wait_for_log("AH01382: Request body read timeout", Duration::from_secs(5));
    // first.test's body stage is the main server's 20 s: the 3 s body is read to its end.
    let (status, took) = post("first.test");
    assert_eq!(status, 200);
    assert!(took > Duration::from_secs(2), "{took:?}");
}
for_each_mpm!(reqtimeout_stages_follow_the_virtual_host);
