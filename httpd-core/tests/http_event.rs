//! The event MPM's view of a connection: `Connection::process` in `WriteMode::Async` leaves
//! what the socket cannot take as pending output (`ConnState::WriteCompletion`), and
//! `write_pending` finishes it without blocking.

mod http_support;

use std::io::Write;
use std::net::TcpListener;
use std::sync::Arc;
use std::time::{Duration, Instant};

use http_support::*;
use httpd_core::http::{ConnCtx, ConnState, Connection, HttpServer, WriteMode};
use httpd_core::log::{AccessLog, ErrorLog};

fn server(dir: &std::path::Path) -> HttpServer {
    let cfg = test_config(dir);
    let (e, a) = (
        ErrorLog::open(&cfg).unwrap(),
        AccessLog::open(&cfg).unwrap(),
    );
    HttpServer::new(Arc::new(cfg), e, a, None).unwrap()
}

#[test]
fn async_write_leaves_a_large_response_pending_until_write_pending_finishes_it() {
    let dir = test_dir();
    let big: Vec<u8> = (0..8_000_000u32).map(|i| (i % 253) as u8).collect();
    std::fs::write(dir.join("htdocs/big.bin"), &big).unwrap();
    let srv = server(&dir);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let mut client = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    client
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let (stream, peer) = listener.accept().unwrap();
    client
        .write_all(b"GET /big.bin HTTP/1.1\r\nHost: h\r\n\r\n")
        .unwrap();

    let mut conn = Connection::new(stream, peer);
    let ctx = ConnCtx {
        server: &srv,
        slot: None,
        stopping: &|| false,
    };
    assert_eq!(
        conn.process(&ctx, WriteMode::Async),
        ConnState::WriteCompletion,
        "8 MB cannot fit the socket"
    );
    assert_eq!(conn.after_write(), ConnState::KeepAlive);

    let reader =
        std::thread::spawn(move || read_response(&mut client, false).map(|r| (r.status, r.body)));
    let deadline = Instant::now() + Duration::from_secs(10);
    while !conn.write_pending().unwrap() {
        assert!(Instant::now() < deadline, "write completion never finished");
        std::thread::sleep(Duration::from_millis(1));
    }
    let (status, body) = reader.join().unwrap().unwrap();
    assert_eq!(status, 200);
    assert!(body == big, "body intact");
    assert_eq!(conn.requests_served(), 1);
    assert!(!conn.has_pending_input());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn async_small_response_completes_at_once_and_pipelined_requests_are_served_together() {
    let dir = test_dir();
    let srv = server(&dir);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let mut client = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    client
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let (stream, peer) = listener.accept().unwrap();
    client
        .write_all(b"GET / HTTP/1.1\r\nHost: h\r\n\r\nGET /1k.txt HTTP/1.1\r\nHost: h\r\n\r\n")
        .unwrap();
    std::thread::sleep(Duration::from_millis(50));
    let mut conn = Connection::new(stream, peer);
    let ctx = ConnCtx {
        server: &srv,
        slot: None,
        stopping: &|| false,
    };
    assert_eq!(conn.process(&ctx, WriteMode::Async), ConnState::KeepAlive);
    assert_eq!(conn.requests_served(), 2);
    assert_eq!(read_response(&mut client, false).unwrap().body, b"hello\n");
    assert_eq!(read_response(&mut client, false).unwrap().body.len(), 1024);
    client
        .write_all(b"GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n")
        .unwrap();
    assert_eq!(conn.process(&ctx, WriteMode::Async), ConnState::Linger);
    conn.lingering_close(Duration::from_secs(1));
    assert_eq!(read_response(&mut client, false).unwrap().status, 200);
    let _ = std::fs::remove_dir_all(&dir);
}
