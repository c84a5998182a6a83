//! The worker slot tells the truth: `R` while a request is read, `W` while it is handled and
//! written, `K` between keep-alive requests, `C` in lingering close; the request line, client,
//! vhost, protocol, access count and bytes are recorded (`ap_update_child_status`,
//! `ap_increment_counts`).

mod http_support;

use std::io::Write;
use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use http_support::*;
use httpd_core::config::Section;
use httpd_core::http::{ConnCtx, HttpServer, response::Response, serve_connection};
use httpd_core::log::{AccessLog, ErrorLog};
use httpd_core::scoreboard::{Scoreboard, WorkerStatus};

#[test]
fn slot_shows_r_w_k_c_and_records_the_request() {
    let dir = test_dir();
    let mut cfg = test_config(&dir);
    cfg.locations.push(Section {
        path: "/slow".into(),
        handler: Some("slow".into()),
        require: None,
    });
    let (e, a) = (
        ErrorLog::open(&cfg).unwrap(),
        AccessLog::open(&cfg).unwrap(),
    );
    let mut srv = HttpServer::new(Arc::new(cfg), e, a, None).unwrap();
    srv.register_handler(
        "slow",
        Arc::new(|_| {
            std::thread::sleep(Duration::from_millis(400));
            Response::new(204)
        }),
    );
    let sb = Arc::new(Scoreboard::create(1, 1).unwrap());
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let sb2 = Arc::clone(&sb);
    let server = std::thread::spawn(move || {
        let (stream, peer) = listener.accept().unwrap();
        let ctx = ConnCtx {
            server: &srv,
            slot: Some(sb2.worker(0, 0)),
            stopping: &|| false,
        };
        serve_connection(stream, peer, &ctx);
    });
    let slot = sb.worker(0, 0);
    let settle = || std::thread::sleep(Duration::from_millis(150));

    let mut c = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    c.write_all(b"GET /index.html HTTP/1.1\r\nHost: h\r\n\r\n")
        .unwrap();
    assert_eq!(read_response(&mut c, false).unwrap().status, 200);
    settle();
    assert_eq!(slot.status(), WorkerStatus::BusyKeepalive);
    assert_eq!(slot.request(), "GET /index.html HTTP/1.1");
    assert_eq!(slot.client(), "127.0.0.1");
    assert_eq!(slot.protocol(), "HTTP/1.1");
    assert_eq!(slot.vhost(), format!("127.0.0.1:{port}"));
    assert_eq!((slot.access_count(), slot.bytes_served()), (1, 6));

    c.write_all(b"GET /slo").unwrap();
    settle();
    assert_eq!(slot.status(), WorkerStatus::BusyRead);
    c.write_all(b"w HTTP/1.1\r\nHost: h\r\n\r\n").unwrap();
    settle();
    assert_eq!(slot.status(), WorkerStatus::BusyWrite);
    assert_eq!(read_response(&mut c, false).unwrap().status, 204);
    settle();
    assert_eq!(slot.status(), WorkerStatus::BusyKeepalive);
    assert_eq!(slot.access_count(), 2);

    c.write_all(b"GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n")
        .unwrap();
    assert_eq!(read_response(&mut c, false).unwrap().status, 200);
    settle();
    assert_eq!(
        slot.status(),
        WorkerStatus::Closing,
        "the connection ends in C (the MPM sets the next status); tests/http_close.rs checks when it lingers"
    );
    drop(c);
    server.join().unwrap();
    assert_eq!(slot.access_count(), 3);
    let _ = std::fs::remove_dir_all(&dir);
}
