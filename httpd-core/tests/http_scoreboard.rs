//! The worker slot tells the truth: `R` while a request is read, `W` while it is handled and
//! written, `K` between keep-alive requests, `C` in lingering close; the request line, client,
//! vhost, protocol, access count and bytes are recorded (`ap_update_child_status`,
//! `ap_increment_counts`).

mod http_support;

use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

use http_support::*;
use httpd_core::config::Section;
use httpd_core::http::response::Response;
use httpd_core::scoreboard::WorkerStatus;

#[test]
fn slot_shows_r_w_k_c_and_records_the_request() {
    let one = one_conn(
        |cfg| {
            cfg.locations.push(Section {
                path: "/slow".into(),
                handler: Some("slow".into()),
                require: None,
                options: None,
            })
        },
        |srv| {
            srv.register_handler(
                "slow",
                Arc::new(|_| {
                    std::thread::sleep(Duration::from_millis(400));
                    Response::new(204)
                }),
            );
        },
    );
    let port = one.addr.port();
    let sb = Arc::clone(&one.sb);
    let slot = sb.worker(0, 0);
    let settle = || std::thread::sleep(Duration::from_millis(150));

    let mut c = one.client.try_clone().unwrap();
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
    one.join();
    assert_eq!(slot.access_count(), 3);
}
