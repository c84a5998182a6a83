//! In-process test server for the `http_*` integration tests: a thread accepts on
//! 127.0.0.1:0 and runs `serve_connection` on a thread per connection (no fork: the test
//! harness is multi-threaded). Each server gets its own directory with htdocs, error_log and
//! access_log.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use httpd_core::config::{CustomLog, ErrorLogTarget, LogLevelConfig, ServerConfig};
use httpd_core::http::{ConnCtx, HttpServer, serve_connection};
use httpd_core::log::{AccessLog, ErrorLog, Level};
use httpd_core::scoreboard::Scoreboard;

pub struct TestServer {
    pub addr: SocketAddr,
    pub dir: PathBuf,
    pub stopping: Arc<AtomicBool>,
    shutdown: Arc<AtomicBool>,
}

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// A fresh directory with `htdocs/index.html` ("hello\n") and `htdocs/1k.txt` (1024 bytes).
pub fn test_dir() -> PathBuf {
    let n = COUNTER.fetch_add(1, Ordering::SeqCst);
    let dir = std::env::temp_dir().join(format!("mpm-lab-http-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("htdocs/sub")).unwrap();
    std::fs::write(dir.join("htdocs/index.html"), "hello\n").unwrap();
    std::fs::write(dir.join("htdocs/sub/index.html"), "sub index\n").unwrap();
    std::fs::write(dir.join("htdocs/1k.txt"), vec![b'x'; 1024]).unwrap();
    dir
}

/// Test defaults: debug logging, an access log in CLF, short KeepAliveTimeout.
pub fn test_config(dir: &Path) -> ServerConfig {
    let mut cfg = ServerConfig::with_defaults(dir);
    cfg.document_root = dir.join("htdocs");
    cfg.error_log = ErrorLogTarget::File(dir.join("error_log"));
    cfg.log_level = LogLevelConfig {
        default: Level::Debug,
        modules: Vec::new(),
    };
    cfg.custom_logs = vec![CustomLog {
        path: dir.join("access_log"),
        format: "%h %l %u %t \"%r\" %>s %b".into(),
    }];
    cfg.keep_alive_timeout = Duration::from_secs(2);
    cfg
}

impl TestServer {
    pub fn start() -> TestServer {
        Self::start_with(|_| {}, |_| {})
    }

    pub fn with_config(f: impl FnOnce(&mut ServerConfig)) -> TestServer {
        Self::start_with(f, |_| {})
    }

    /// `cfg` adjusts the configuration, `srv` the server (e.g. to register handlers).
    pub fn start_with(
        cfg: impl FnOnce(&mut ServerConfig),
        srv: impl FnOnce(&mut HttpServer),
    ) -> TestServer {
        let dir = test_dir();
        let mut config = test_config(&dir);
        cfg(&mut config);
        let elog = ErrorLog::open(&config).unwrap();
        let alog = AccessLog::open(&config).unwrap();
        let mut server = HttpServer::new(Arc::new(config), elog, alog, None).unwrap();
        srv(&mut server);
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let stopping = Arc::new(AtomicBool::new(false));
        let shutdown = Arc::new(AtomicBool::new(false));
        let (st, sd) = (Arc::clone(&stopping), Arc::clone(&shutdown));
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if sd.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = conn else { continue };
                let (server, st) = (server.clone(), Arc::clone(&st));
                std::thread::spawn(move || {
                    let peer = stream.peer_addr().unwrap();
                    let stop = move || st.load(Ordering::SeqCst);
                    let ctx = ConnCtx {
                        server: &server,
                        slot: None,
                        stopping: &stop,
                    };
                    serve_connection(stream, peer, &ctx);
                });
            }
        });
        TestServer {
            addr,
            dir,
            stopping,
            shutdown,
        }
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.join(rel)
    }

    pub fn error_log(&self) -> String {
        std::fs::read_to_string(self.dir.join("error_log")).unwrap_or_default()
    }

    pub fn access_log(&self) -> String {
        std::fs::read_to_string(self.dir.join("access_log")).unwrap_or_default()
    }

    /// Wait (up to 3 s) until the access log has `n` lines.
    pub fn access_lines(&self, n: usize) -> Vec<String> {
        let deadline = Instant::now() + Duration::from_secs(3);
        loop {
            let lines: Vec<String> = self.access_log().lines().map(str::to_string).collect();
            if lines.len() >= n || Instant::now() > deadline {
                return lines;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn connect(&self) -> TcpStream {
        let s = TcpStream::connect(self.addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        s
    }

    /// Send `req`, close our sending side, read everything until the server closes.
    pub fn send(&self, req: &[u8]) -> String {
        let mut s = self.connect();
        s.write_all(req).unwrap();
        let _ = s.shutdown(Shutdown::Write);
        read_to_close(&mut s)
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.shutdown.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.addr);
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// One connection served by `serve_connection` on its own thread, with scoreboard slot (0, 0),
/// as an MPM would; `client` is the connected client side.
pub struct OneConn {
    pub client: TcpStream,
    pub addr: SocketAddr,
    pub server: std::thread::JoinHandle<()>,
    pub sb: Arc<Scoreboard>,
    pub dir: PathBuf,
}

/// Start a [`OneConn`]: `cfg` adjusts the configuration, `srv` the server (handlers).
pub fn one_conn(cfg: impl FnOnce(&mut ServerConfig), srv: impl FnOnce(&mut HttpServer)) -> OneConn {
    let dir = test_dir();
    let mut config = test_config(&dir);
    cfg(&mut config);
    let (e, a) = (
        ErrorLog::open(&config).unwrap(),
        AccessLog::open(&config).unwrap(),
    );
    let mut server = HttpServer::new(Arc::new(config), e, a, None).unwrap();
    srv(&mut server);
    let sb = Arc::new(Scoreboard::create(1, 1).unwrap());
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let sb2 = Arc::clone(&sb);
    let handle = std::thread::spawn(move || {
        let (stream, peer) = listener.accept().unwrap();
        let ctx = ConnCtx {
            server: &server,
            slot: Some(sb2.worker(0, 0)),
            stopping: &|| false,
        };
        serve_connection(stream, peer, &ctx);
    });
    let client = TcpStream::connect(addr).unwrap();
    client
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    OneConn {
        client,
        addr,
        server: handle,
        sb,
        dir,
    }
}

impl OneConn {
    /// Whether the connection's thread finishes within `within` (the client socket stays open).
    pub fn finishes_within(&self, within: Duration) -> bool {
        let deadline = Instant::now() + within;
        while Instant::now() < deadline {
            if self.server.is_finished() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        self.server.is_finished()
    }

    /// Everything the server sends until its FIN (an error here would be a reset).
    pub fn read_until_fin(&mut self) -> String {
        let mut out = Vec::new();
        self.client
            .read_to_end(&mut out)
            .expect("the connection ends with a FIN, not a reset");
        String::from_utf8_lossy(&out).into_owned()
    }

    /// Close the client, wait for the connection's thread, remove the directory.
    pub fn join(self) {
        drop(self.client);
        self.server.join().unwrap();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

pub fn read_to_close(s: &mut TcpStream) -> String {
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}

/// One parsed response.
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub head: String,
    pub body: Vec<u8>,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<String> {
        self.head.lines().skip(1).find_map(|l| {
            let (n, v) = l.split_once(':')?;
            n.eq_ignore_ascii_case(name).then(|| v.trim().to_string())
        })
    }
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Read exactly one response from a kept-alive connection (Content-Length or chunked;
/// `head_only` for HEAD and 304).
pub fn read_response(s: &mut TcpStream, head_only: bool) -> Option<Resp> {
    let mut buf = Vec::new();
    let mut byte = [0u8; 1];
    while !buf.ends_with(b"\r\n\r\n") {
        match s.read(&mut byte) {
            Ok(1) => buf.push(byte[0]),
            _ => return None,
        }
    }
    let head = String::from_utf8_lossy(&buf).into_owned();
    let status = head.split(' ').nth(1)?.parse().ok()?;
    let mut r = Resp {
        status,
        head,
        body: Vec::new(),
    };
    if head_only || matches!(status, 100 | 204 | 304) {
        return Some(r);
    }
    if let Some(n) = r.header("Content-Length") {
        let mut body = vec![0u8; n.parse().ok()?];
        s.read_exact(&mut body).ok()?;
        r.body = body;
    } else if r.header("Transfer-Encoding").is_some() {
        loop {
            let mut line = Vec::new();
            while !line.ends_with(b"\r\n") {
                s.read_exact(&mut byte).ok()?;
                line.push(byte[0]);
            }
            let n = usize::from_str_radix(std::str::from_utf8(&line).ok()?.trim(), 16).ok()?;
            let mut chunk = vec![0u8; n + 2];
            s.read_exact(&mut chunk).ok()?;
            if n == 0 {
                break;
            }
            r.body.extend_from_slice(&chunk[..n]);
        }
    } else {
        s.read_to_end(&mut r.body).ok()?;
    }
    Some(r)
}

/// Parse the first response of a complete exchange text.
pub fn parse(text: &str) -> Resp {
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((text, ""));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    Resp {
        status,
        head: format!("{head}\r\n\r\n"),
        body: body.as_bytes().to_vec(),
    }
}

/// Count the status lines in an exchange.
pub fn count_responses(text: &str) -> usize {
    text.matches("HTTP/1.1 ").count()
}

/// Parse `text` as an httpd.conf for `mpm`, without the DocumentRoot check (`-T`).
pub fn parse_conf(text: &str, mpm: &httpd_core::config::MpmIdent) -> Result<ServerConfig, String> {
    let opts = httpd_core::config::ConfigOptions {
        skip_document_root_check: true,
        ..Default::default()
    };
    httpd_core::config::load_text("test.conf", text, &opts, mpm).map_err(|e| e.to_string())
}

/// Put what `parsed` says about sections, virtual hosts, AccessFileName, loaded modules and the
/// server-level module settings into the test configuration `c`; its Listen, DocumentRoot and
/// logs stay the test server's.
pub fn adopt_sections(c: &mut ServerConfig, parsed: ServerConfig) {
    c.directories = parsed.directories;
    c.locations = parsed.locations;
    c.base_section = parsed.base_section;
    c.vhosts = parsed.vhosts;
    c.access_file_name = parsed.access_file_name;
    c.loaded_modules = parsed.loaded_modules;
    c.server_setenvif = parsed.server_setenvif;
    c.server_env_cmds = parsed.server_env_cmds;
    c.server_headers = parsed.server_headers;
    c.server_request_headers = parsed.server_request_headers;
    c.deflate = parsed.deflate;
    c.alias = parsed.alias;
}

/// Read `text` as an httpd.conf (as mpm-event) and [`adopt_sections`] it into `c`.
pub fn load_sections(c: &mut ServerConfig, text: &str) {
    adopt_sections(
        c,
        parse_conf(text, &httpd_core::config::MpmIdent::EVENT).unwrap(),
    );
}

/// Create `files` under DocumentRoot, then [`load_sections`] `conf` with `@ROOT@` standing for
/// DocumentRoot.
pub fn load_with_files(c: &mut ServerConfig, conf: &str, files: &[(&str, &str)]) {
    let root = c.document_root.clone();
    for (rel, text) in files {
        let p = root.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    load_sections(c, &conf.replace("@ROOT@", &root.display().to_string()));
}
