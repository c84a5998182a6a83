//! Requests per second of the core request path: GET of a 1 KiB file over keep-alive
//! connections, server in this process (a thread per connection running
//! `httpd_core::http::serve_connection`, as the worker MPM would), N client threads, fixed
//! duration. Not a test: run it by hand.
//!
//! ```text
//! cargo run --release -p httpd-core --example bench_core -- [CLIENTS] [SECONDS] [reqtimeout]
//! ```
//!
//! With `reqtimeout`, mod_reqtimeout runs with Debian's defaults (what `LoadModule
//! reqtimeout_module` gives): the cost of its per-read deadline. With `sections`, the
//! request walks the sections of Debian's `apache2.conf` (`<Directory />` denied,
//! `<Directory /var/www/>`-like granted, `<FilesMatch "^\.ht">` denied) and two name-based
//! virtual hosts: the cost of the section walk and the vhost choice.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use httpd_core::config::{ErrorLogTarget, ServerConfig};
use httpd_core::http::{ConnCtx, HttpServer, serve_connection};
use httpd_core::log::{AccessLog, ErrorLog};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let clients: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(4);
    let seconds: u64 = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(5);

    let dir = std::env::temp_dir().join(format!("mpm-lab-bench-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("htdocs")).expect("temp dir");
    std::fs::write(dir.join("htdocs/1k.txt"), vec![b'x'; 1024]).expect("1k file");
    let mut cfg = ServerConfig::with_defaults(&dir);
    cfg.document_root = dir.join("htdocs");
    cfg.error_log = ErrorLogTarget::Stderr;
    cfg.max_keep_alive_requests = 0; // unlimited: measure requests, not reconnects
    let reqtimeout = args.get(3).is_some_and(|a| a == "reqtimeout");
    if reqtimeout {
        cfg.request_read_timeout =
            httpd_core::modules::reqtimeout::ReqTimeoutSetting::default().effective();
    }
    if args.get(3).is_some_and(|a| a == "sections") {
        let conf = format!(
            "<Directory />\nAllowOverride None\nRequire all denied\n</Directory>\n\
             <Directory {0}>\nAllowOverride None\nRequire all granted\n</Directory>\n\
             <FilesMatch \"^\\.ht\">\nRequire all denied\n</FilesMatch>\n\
             DocumentRoot {0}\n\
             <VirtualHost *>\nServerName a.example\n</VirtualHost>\n\
             <VirtualHost *>\nServerName b.example\n</VirtualHost>\n",
            cfg.document_root.display()
        );
        let parsed = httpd_core::config::load_text(
            "bench.conf",
            &conf,
            &httpd_core::config::ConfigOptions::default(),
            &httpd_core::config::MpmIdent::WORKER,
        )
        .expect("bench sections config");
        cfg.directories = parsed.directories;
        cfg.base_section = parsed.base_section;
        cfg.vhosts = parsed.vhosts;
    }
    let server = HttpServer::new(
        Arc::new(cfg),
        ErrorLog::stderr(),
        AccessLog::disabled(),
        None,
    )
    .expect("server");

    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let server = server.clone();
            std::thread::spawn(move || {
                let peer = stream.peer_addr().expect("peer");
                let ctx = ConnCtx {
                    server: &server,
                    slot: None,
                    stopping: &|| false,
                };
                serve_connection(stream, peer, &ctx);
            });
        }
    });

    let stop = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicU64::new(0));
    let request = b"GET /1k.txt HTTP/1.1\r\nHost: bench\r\n\r\n";
    let threads: Vec<_> = (0..clients)
        .map(|_| {
            let (stop, done) = (Arc::clone(&stop), Arc::clone(&done));
            std::thread::spawn(move || {
                let mut s = TcpStream::connect(addr).expect("connect");
                s.set_nodelay(true).expect("nodelay");
                let mut buf = vec![0u8; 4096];
                while !stop.load(Ordering::Relaxed) {
                    s.write_all(request).expect("write");
                    // Head + 1024-byte body; read until the end of the body.
                    let mut have = 0;
                    loop {
                        let n = s.read(&mut buf[have..]).expect("read");
                        assert!(n > 0, "server closed");
                        have += n;
                        if let Some(end) = buf[..have].windows(4).position(|w| w == b"\r\n\r\n")
                            && have >= end + 4 + 1024
                        {
                            break;
                        }
                    }
                    done.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    let t0 = Instant::now();
    std::thread::sleep(Duration::from_secs(seconds));
    stop.store(true, Ordering::Relaxed);
    for t in threads {
        let _ = t.join();
    }
    let n = done.load(Ordering::Relaxed);
    let secs = t0.elapsed().as_secs_f64();
    println!(
        "{clients} clients, {secs:.1} s, {n} requests: {:.0} requests/s (1 KiB file, keep-alive{})",
        n as f64 / secs,
        if reqtimeout {
            ", mod_reqtimeout loaded"
        } else {
            ""
        }
    );
    let _ = std::fs::remove_dir_all(&dir);
}
