//! `SetHandler server-status` dispatch: GET/HEAD only (mod_status declines other methods, so
//! they fall to the default handler), `Require` applies, `?refresh=N` adds `Refresh`.

mod http_support;

use std::io::Write;
use std::net::TcpListener;
use std::sync::Arc;

use http_support::*;
use httpd_core::config::{Require, Section};
use httpd_core::http::{ConnCtx, HttpServer, StatusContext, serve_connection};
use httpd_core::log::{AccessLog, ErrorLog};
use httpd_core::scoreboard::Scoreboard;
use httpd_core::status::MpmStatusInfo;

fn status_server(require: Require) -> (std::net::SocketAddr, std::path::PathBuf) {
    let dir = test_dir();
    let mut cfg = test_config(&dir);
    cfg.locations.push(Section {
        path: "/server-status".into(),
        handler: Some("server-status".into()),
        require: Some(require),
        options: None,
    });
    let (e, a) = (
        ErrorLog::open(&cfg).unwrap(),
        AccessLog::open(&cfg).unwrap(),
    );
    let info = MpmStatusInfo {
        mpm: "prefork",
        is_async: false,
        threads_per_child: 1,
        max_daemons: 2,
        server_limit: 2,
    };
    let sb = Arc::new(Scoreboard::create(2, 1).unwrap());
    let status = StatusContext {
        scoreboard: sb,
        info,
    };
    let srv = HttpServer::new(Arc::new(cfg), e, a, Some(status)).unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let peer = stream.peer_addr().unwrap();
            let ctx = ConnCtx {
                server: &srv,
                slot: None,
                stopping: &|| false,
            };
            serve_connection(stream, peer, &ctx);
        }
    });
    (addr, dir)
}

fn send(addr: std::net::SocketAddr, req: &str) -> Resp {
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.write_all(req.as_bytes()).unwrap();
    let _ = s.shutdown(std::net::Shutdown::Write);
    parse(&read_to_close(&mut s))
}

#[test]
fn server_status_auto_is_served_to_get_only() {
    let (addr, dir) = status_server(Require::Local);
    let r = send(addr, "GET /server-status?auto HTTP/1.0\r\n\r\n");
    assert_eq!(r.status, 200);
    assert_eq!(
        r.header("Content-Type").as_deref(),
        Some("text/plain; charset=ISO-8859-1")
    );
    assert!(r.text().contains("ServerMPM: prefork"), "{}", r.text());
    let r = send(addr, "GET /server-status?refresh=5 HTTP/1.0\r\n\r\n");
    assert_eq!(r.header("Refresh").as_deref(), Some("5"));
    // POST: mod_status declines, the default handler finds no file.
    assert_eq!(
        send(
            addr,
            "POST /server-status HTTP/1.0\r\nContent-Length: 0\r\n\r\n"
        )
        .status,
        404
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn server_status_obeys_require() {
    let (addr, dir) = status_server(Require::AllDenied);
    assert_eq!(
        send(addr, "GET /server-status?auto HTTP/1.0\r\n\r\n").status,
        403
    );
    let _ = std::fs::remove_dir_all(dir);
}
