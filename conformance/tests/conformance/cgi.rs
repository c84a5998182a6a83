//! CGI on every MPM (httpd-core `modules/cgi_script.rs`, steps 1–5; `cgi.rs` for prefork,
//! `cgid.rs` for worker and event): output, environment, request bodies, `Status:`/`Location:`,
//! nph-, stderr, the Timeout kill, the scripts' uid, the `W` slot, and that a threaded child
//! never forks. The servers run as root and drop to `nobody`, as Debian's do to `www-data`.

use conformance::{Mpm, ServerTest, for_each_mpm};
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::time::{Duration, Instant};

fn root() -> bool {
    nix::unistd::geteuid().is_root()
}

/// The scripts every test server has, in `htdocs/cgi-bin/` (mapped by a ScriptAlias).
const SCRIPTS: &[(&str, &str)] = &[
    (
        "hello.cgi",
        "#!/bin/sh\nprintf 'Status: 201 Created\\nX-Test: yes\\nContent-Type: text/plain\\n\\nhello\\n'\n",
    ),
    (
        "env.cgi",
        "#!/bin/sh\nprintf 'Content-Type: text/plain\\n\\n'\nenv\necho \"UID=$(id -u)\"\necho \"PPID=$PPID\"\n",
    ),
    (
        "cat.cgi",
        "#!/bin/sh\nprintf 'Content-Type: text/plain\\n\\n'\ncat\n",
    ),
    (
        "local.cgi",
        "#!/bin/sh\nprintf 'Location: /index.html\\n\\n'\n",
    ),
    (
        "away.cgi",
        "#!/bin/sh\nprintf 'Location: http://example.com/x\\n\\n'\n",
    ),
    (
        "nph-raw.cgi",
        "#!/bin/sh\nprintf 'HTTP/1.1 202 Accepted\\nX-Nph: 1\\nContent-Type: text/plain\\n\\nraw\\n'\n",
    ),
    (
        "err.cgi",
        "#!/bin/sh\necho 'something went wrong' >&2\nprintf 'Content-Type: text/plain\\n\\nok\\n'\n",
    ),
    // Headers and a first piece, then silence.
    (
        "partial.cgi",
        "#!/bin/sh\nprintf 'Content-Type: text/plain\\n\\npart\\n'\necho $$ > \"${SCRIPT_FILENAME%/*}/partial.pid\"\nexec sleep 100\n",
    ),
    // Never answers: writes its pid where the test can find it, then sleeps.
    (
        "hang.cgi",
        "#!/bin/sh\necho $$ > \"${SCRIPT_FILENAME%/*}/hang.pid\"\nexec sleep 100\n",
    ),
    // A first line, then nothing until the test creates `go` (at most 1.5 s), then a second.
    (
        "stream.cgi",
        "#!/bin/sh\nprintf 'Content-Type: text/plain\\n\\nfirst\\n'\nd=\"${SCRIPT_FILENAME%/*}\"\ni=0\nwhile [ ! -e \"$d/go\" ] && [ $i -lt 30 ]; do sleep 0.05; i=$((i+1)); done\nprintf 'second\\n'\n",
    ),
    (
        "sleep.cgi",
        "#!/bin/sh\nsleep \"${QUERY_STRING:-1}\"\nprintf 'Content-Type: text/plain\\n\\nslept\\n'\n",
    ),
    // A header block that fails (a line with no colon), after reading its whole body.
    (
        "bad.cgi",
        "#!/bin/sh\ncat > /dev/null\nprintf 'This is not a header\\n\\nbody text\\n'\n",
    ),
    // Headers that end with the output, before their empty line.
    ("short.cgi", "#!/bin/sh\nprintf 'X-A: 1\\n'\n"),
    // Fields as Apache reads them: merged, cookies apart, trailing blanks kept, a date.
    (
        "fields.cgi",
        "#!/bin/sh\nprintf 'Set-Cookie: a=1\\nX-Dup: 1\\nSet-Cookie: b=2\\nX-Dup: 2\\nX-Sp:    lots   \\nLast-Modified: Tue, 01 Dec 2026 10:00:00 GMT\\nETag: \"v1\"\\nContent-Type: Text/Plain\\n\\nfields\\n'\n",
    ),
    (
        "reason.cgi",
        "#!/bin/sh\nprintf 'Status: 404 Gone Fishing\\nContent-Type: text/plain\\n\\nnope\\n'\n",
    ),
    (
        "badstatus.cgi",
        "#!/bin/sh\nprintf 'Status: 2000\\nContent-Type: text/plain\\n\\nmine\\n'\n",
    ),
];

fn server(mpm: Mpm, extra: &[&str]) -> conformance::Server {
    server_with(mpm, mpm != Mpm::Prefork, extra)
}

/// As Debian: mod_cgi for prefork, mod_cgid for the others, unless `cgid` asks for mod_cgid
/// everywhere (Apache allows it with prefork too).
fn server_with(mpm: Mpm, cgid: bool, extra: &[&str]) -> conformance::Server {
    let module = if cgid {
        "LoadModule cgid_module /usr/lib/apache2/modules/mod_cgid.so"
    } else {
        "LoadModule cgi_module /usr/lib/apache2/modules/mod_cgi.so"
    };
    let mut t = ServerTest::new(mpm)
        .directive("LoadModule alias_module /usr/lib/apache2/modules/mod_alias.so")
        .directive(module)
        .directive("User nobody")
        .directive("Group nogroup")
        .directive("Timeout 2");
    if cgid {
        // The harness has no ServerRoot/logs (the default runtime directory).
        t = t.directive("ScriptSock \"@DIR@/cgisock\"");
    }
    for (name, body) in SCRIPTS {
        t = t.file(&format!("cgi-bin/{name}"), *body);
    }
    for e in extra {
        t = t.directive(e);
    }
    let s = t.start();
    let bin = s.dir().join("htdocs/cgi-bin");
    for (name, _) in SCRIPTS {
        std::fs::set_permissions(bin.join(name), std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    // hang.cgi writes its pid here; nobody must be able to write.
    std::fs::set_permissions(&bin, std::fs::Permissions::from_mode(0o777)).unwrap();
    s
}

/// The server with Debian's ScriptAlias for its `cgi-bin`.
fn cgi_server(mpm: Mpm) -> conformance::Server {
    server(mpm, &["ScriptAlias /cgi-bin/ \"@DIR@/htdocs/cgi-bin/\""])
}

fn cgi_output_status_headers_and_body(mpm: Mpm) {
    let s = cgi_server(mpm);
    let r = s.get("/cgi-bin/hello.cgi");
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(r.header("X-Test"), Some("yes"));
    assert_eq!(r.header("Content-Type"), Some("text/plain"));
    assert_eq!(r.text(), "hello\n");
}
for_each_mpm!(cgi_output_status_headers_and_body);

fn cgi_environment_is_rfc3875(mpm: Mpm) {
    let s = cgi_server(mpm);
    let r = s.raw(
        b"GET /cgi-bin/env.cgi/extra/path?a=1&b=2 HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Foo: bar\r\nConnection: close\r\n\r\n",
    );
    let r = r.response();
    assert_eq!(r.status, 200, "{}", r.text());
    let env = r.text();
    for want in [
        "GATEWAY_INTERFACE=CGI/1.1",
        "REQUEST_METHOD=GET",
        "QUERY_STRING=a=1&b=2",
        "SCRIPT_NAME=/cgi-bin/env.cgi",
        "PATH_INFO=/extra/path",
        "HTTP_X_FOO=bar",
        "SERVER_PROTOCOL=HTTP/1.1",
        "REMOTE_ADDR=127.0.0.1",
        "REQUEST_URI=/cgi-bin/env.cgi/extra/path?a=1&b=2",
    ] {
        assert!(env.lines().any(|l| l == want), "{want} missing in\n{env}");
    }
    // Started as root the server drops to User nobody, and so do the scripts (never root).
    let uid = if root() {
        65534
    } else {
        nix::unistd::geteuid().as_raw()
    };
    assert!(env.lines().any(|l| l == format!("UID={uid}")), "{env}");
    let file = s.dir().join("htdocs/cgi-bin/env.cgi");
    assert!(
        env.contains(&format!("SCRIPT_FILENAME={}", file.display())),
        "{env}"
    );
    assert!(env.contains(&format!("SERVER_PORT={}", s.port())), "{env}");
    // mod_alias's `ap_set_context_info`: the ScriptAlias's URL prefix and target, as written.
    assert!(
        env.lines().any(|l| l == "CONTEXT_PREFIX=/cgi-bin/"),
        "{env}"
    );
    let target = format!(
        "CONTEXT_DOCUMENT_ROOT={}/",
        s.dir().join("htdocs/cgi-bin").display()
    );
    assert!(env.lines().any(|l| l == target), "{env}");
    // Who started the script: the prefork child itself, or the cgid daemon (a worker/event
    // child never forks).
    let ppid: i32 = env
        .lines()
        .find_map(|l| l.strip_prefix("PPID="))
        .and_then(|p| p.parse().ok())
        .expect("PPID line");
    let children = s.children();
    match mpm {
        Mpm::Prefork => assert!(children.contains(&ppid), "{ppid} not in {children:?}"),
        _ => {
            // The script's parent is the cgid daemon: a child of the server's parent with one
            // thread, never a (multi-threaded) worker/event child.
            assert_ne!(ppid, s.pid());
            let status = std::fs::read_to_string(format!("/proc/{ppid}/status")).unwrap();
            let threads = status.lines().find(|l| l.starts_with("Threads:")).unwrap();
            assert_eq!(
                threads, "Threads:\t1",
                "the script's parent is single-threaded"
            );
            let parent_line = status.lines().find(|l| l.starts_with("PPid:")).unwrap();
            assert!(
                parent_line.ends_with(&format!("\t{}", s.pid())),
                "the cgid daemon is a child of the parent: {parent_line}"
            );
            let uid_line = status.lines().find(|l| l.starts_with("Uid:")).unwrap();
            assert!(
                !root() || uid_line.contains("65534"),
                "daemon dropped to User: {uid_line}"
            );
        }
    }
}
for_each_mpm!(cgi_environment_is_rfc3875);

fn cgi_request_body_is_streamed_to_the_script(mpm: Mpm) {
    let s = cgi_server(mpm);
    let body = "x".repeat(200_000);
    let req = format!(
        "POST /cgi-bin/cat.cgi HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let r = s.raw(req.as_bytes()).response();
    assert_eq!(r.status, 200);
    assert_eq!(r.text().len(), body.len());
    let chunked = b"POST /cgi-bin/cat.cgi HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n";
    let r = s.raw(chunked).response();
    assert_eq!(r.status, 200);
    assert_eq!(r.text(), "hello world");
}
for_each_mpm!(cgi_request_body_is_streamed_to_the_script);

fn cgi_location_local_and_client_redirects(mpm: Mpm) {
    let s = cgi_server(mpm);
    let r = s.get("/cgi-bin/local.cgi");
    assert_eq!(r.status, 200);
    assert_eq!(r.text(), "<html><body>lab</body></html>\n");
    let r = s.get("/cgi-bin/away.cgi");
    assert_eq!(r.status, 302);
    assert_eq!(r.header("Location"), Some("http://example.com/x"));
}
for_each_mpm!(cgi_location_local_and_client_redirects);

/// An `nph-` script's output reaches the client byte for byte (its bare `\n` line ends too):
/// no `Date`, no `Server`, no framing of ours, and the connection closes after it. Apache logs
/// it as a 200 with `%b` `-` (the content-length filter never saw it) and `%O` the bytes sent.
fn cgi_nph_output_is_passed_through_raw(mpm: Mpm) {
    let s = io_server(mpm);
    let ex = s.raw(b"GET /cgi-bin/nph-raw.cgi HTTP/1.1\r\nHost: x\r\n\r\n");
    let want = b"HTTP/1.1 202 Accepted\nX-Nph: 1\nContent-Type: text/plain\n\nraw\n";
    assert_eq!(
        String::from_utf8_lossy(&ex.raw),
        String::from_utf8_lossy(want)
    );
    assert!(ex.closed, "the connection ends after an nph- response");
    let line = wait_for_file_line(&s.dir().join("io_log"), "nph-raw.cgi");
    assert_eq!(
        line,
        format!("GET /cgi-bin/nph-raw.cgi HTTP/1.1 200 - {}", want.len())
    );
}
for_each_mpm!(cgi_nph_output_is_passed_through_raw);

/// The CGI server with a second access log, `io_log`: request, status, `%b`, `%O`.
fn io_server(mpm: Mpm) -> conformance::Server {
    server(
        mpm,
        &[
            "ScriptAlias /cgi-bin/ \"@DIR@/htdocs/cgi-bin/\"",
            "LogFormat \"%r %>s %b %O\" io",
            "CustomLog \"@DIR@/io_log\" io",
        ],
    )
}

/// The first line written to `path` that contains `needle`, within 5 s.
fn wait_for_file_line(path: &std::path::Path, needle: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        if let Some(l) = text.lines().find(|l| l.contains(needle)) {
            return l.to_string();
        }
        assert!(
            Instant::now() < deadline,
            "no {needle} in {}",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Output is streamed (cgi_common.h's CGI bucket, streamed.rs steps 2–4): the client reads the
/// script's first line while the script is still waiting for the `go` file, which the test only
/// creates after that line has arrived; the body is chunked (the script paused, so its length
/// was unknown), the connection stays usable, and `%b`/`%O` count the body and the framing.
fn cgi_output_is_streamed_as_the_script_writes(mpm: Mpm) {
    let s = io_server(mpm);
    let mut c = s.connect();
    c.write_all(b"GET /cgi-bin/stream.cgi HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let has = |raw: &[u8], what: &[u8]| raw.windows(what.len()).any(|w| w == what);
    let mut raw = Vec::new();
    let mut buf = [0u8; 4096];
    while !has(&raw, b"first\n") {
        let n = std::io::Read::read(&mut c, &mut buf).expect("the first line in time");
        assert!(n > 0, "closed early: {:?}", String::from_utf8_lossy(&raw));
        raw.extend_from_slice(&buf[..n]);
    }
    assert!(
        !has(&raw, b"second"),
        "the first line came with the rest: the output was buffered"
    );
    std::fs::write(s.dir().join("htdocs/cgi-bin/go"), "").unwrap();
    while !raw.ends_with(b"0\r\n\r\n") {
        let n = std::io::Read::read(&mut c, &mut buf).expect("the rest");
        assert!(n > 0, "closed early: {:?}", String::from_utf8_lossy(&raw));
        raw.extend_from_slice(&buf[..n]);
    }
    let (r, used) = conformance::http::parse_response(&raw, false, false).expect("a response");
    assert_eq!(used, raw.len());
    assert_eq!(r.header("Transfer-Encoding"), Some("chunked"));
    assert_eq!(r.header("Content-Length"), None);
    assert_eq!(r.text(), "first\nsecond\n");
    // The connection is kept: the next request on it is answered.
    c.write_all(b"GET /cgi-bin/hello.cgi HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .unwrap();
    let next = conformance::http::read_until_close(&mut c, Duration::from_secs(5)).unwrap();
    assert_eq!(next.response().status, 201);
    let line = wait_for_file_line(&s.dir().join("io_log"), "stream.cgi");
    assert_eq!(
        line,
        format!("GET /cgi-bin/stream.cgi HTTP/1.1 200 13 {}", raw.len())
    );
}
for_each_mpm!(cgi_output_is_streamed_as_the_script_writes);

/// mod_cgi reads the script's stderr and logs each line as AH01215. Debian's mod_cgid is built
/// without fd passing: the script writes straight into the main error log, raw (compared
/// side by side with Apache 2.4.71).
fn cgi_stderr_goes_to_the_error_log(mpm: Mpm) {
    let s = cgi_server(mpm);
    let r = s.get("/cgi-bin/err.cgi");
    assert_eq!(r.status, 200);
    let line = s.wait_for_log("something went wrong", Duration::from_secs(5));
    if mpm == Mpm::Prefork {
        assert!(line.contains("[cgi:error]"), "{line}");
        assert!(
            line.contains("AH01215: stderr from ")
                && line.ends_with("err.cgi: something went wrong"),
            "{line}"
        );
    } else {
        assert_eq!(line, "something went wrong");
        assert!(s.log_lines("AH01215").is_empty(), "{}", s.error_log());
    }
}
for_each_mpm!(cgi_stderr_goes_to_the_error_log);

fn cgi_script_that_never_answers_is_killed_after_timeout(mpm: Mpm) {
    let s = cgi_server(mpm);
    let started = Instant::now();
    let r = s.get("/cgi-bin/hang.cgi");
    assert_eq!(r.status, 504, "{}", r.text());
    assert!(started.elapsed() < Duration::from_secs(10));
    let pid_file = s.dir().join("htdocs/cgi-bin/hang.pid");
    let pid: i32 = std::fs::read_to_string(&pid_file)
        .expect("hang.cgi wrote its pid")
        .trim()
        .parse()
        .unwrap();
    wait_gone(pid);
    // Apache's lines: mod_cgi warns AH01220 first; both log the timeout before the headers.
    let line = s.wait_for_log(
        "Script timed out before returning headers",
        Duration::from_secs(5),
    );
    assert!(line.contains("hang.cgi"), "{line}");
    if mpm == Mpm::Prefork {
        s.wait_for_log(
            "AH01220: Timeout waiting for output from CGI script",
            Duration::from_secs(5),
        );
    }
    // The worker is free again.
    assert_eq!(s.get("/cgi-bin/hello.cgi").status, 201);
}
for_each_mpm!(cgi_script_that_never_answers_is_killed_after_timeout);

fn cgi_sleeping_script_holds_a_w_slot(mpm: Mpm) {
    let s = cgi_server(mpm);
    let mut c = s.connect();
    c.write_all(b"GET /cgi-bin/sleep.cgi?1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let st = s.status_auto();
    // The status request itself is one W; the sleeping script holds another.
    assert!(st.count('W') >= 2, "scoreboard {}", st.scoreboard);
    let ex = conformance::http::read_until_close(&mut c, Duration::from_secs(5)).unwrap();
    assert_eq!(ex.response().text(), "slept\n");
}
for_each_mpm!(cgi_sleeping_script_holds_a_w_slot);

fn cgi_needs_execcgi_outside_script_alias(mpm: Mpm) {
    let s = server(mpm, &["AddHandler cgi-script .cgi"]);
    let r = s.get("/cgi-bin/hello.cgi");
    assert_eq!(r.status, 403);
    let line = s.wait_for_log("AH02809", Duration::from_secs(5));
    assert!(
        line.contains("Options ExecCGI is off in this directory"),
        "{line}"
    );
    drop(s);
    let s = server(
        mpm,
        &[
            "AddHandler cgi-script .cgi",
            "<Directory htdocs/cgi-bin>",
            "Options +ExecCGI",
            "</Directory>",
        ],
    );
    assert_eq!(s.get("/cgi-bin/hello.cgi").status, 201);
    // A file without the extension is served as a file.
    assert_eq!(s.get("/index.html").status, 200);
}
for_each_mpm!(cgi_needs_execcgi_outside_script_alias);

/// Debian's `conf-enabled/serve-cgi-bin.conf`, unchanged (`conformance/fixtures/debian/`): its
/// `<IfModule mod_alias.c>`, `<IfModule mod_cgi.c>`/`<IfModule mod_cgid.c>`, `Define` and
/// `<IfDefine>` turn on the ScriptAlias for `/usr/lib/cgi-bin/`, which the cgi module then
/// answers (a missing script is its 404 with AH02811, not the file handler's AH00128).
fn cgi_debian_serve_cgi_bin_conf_loads_unchanged(mpm: Mpm) {
    let text = include_str!("../../fixtures/debian/serve-cgi-bin.conf");
    let lines: Vec<&str> = text.lines().collect();
    let s = server(mpm, &lines);
    let r = s.get("/cgi-bin/no-such-script-mpm-lab");
    assert_eq!(r.status, 404);
    let line = s.wait_for_log("AH02811", Duration::from_secs(5));
    assert!(
        line.contains(
            "AH02811: stderr from /usr/lib/cgi-bin/no-such-script-mpm-lab: script not found or unable to stat"
        ),
        "{line}"
    );
}
for_each_mpm!(cgi_debian_serve_cgi_bin_conf_loads_unchanged);

/// mod_alias: `Redirect` answers before any alias (with the query appended), `gone` is a 410,
/// `Alias` serves files from outside DocumentRoot, and without FollowSymLinks a symbolic link
/// there is a 403 with AH00037.
fn alias_redirect_and_symlink_options(mpm: Mpm) {
    let s = server(
        mpm,
        &[
            "Redirect permanent /old http://example.com/new",
            "Redirect gone /dead",
            "Alias /files/ \"@DIR@/htdocs/cgi-bin/\"",
            "ScriptAlias /run/ \"@DIR@/htdocs/cgi-bin/\"",
            "<Directory htdocs/cgi-bin>",
            "Options -FollowSymLinks",
            "</Directory>",
        ],
    );
    let r = s.get("/old/page?q=1");
    assert_eq!(r.status, 301);
    assert_eq!(
        r.header("Location"),
        Some("http://example.com/new/page?q=1")
    );
    assert_eq!(s.get("/dead").status, 410);
    let r = s.get("/files/hello.cgi");
    assert_eq!(r.status, 200, "served as a file, not run");
    assert!(r.text().starts_with("#!/bin/sh"));
    let dir = s.dir().join("htdocs/cgi-bin");
    std::os::unix::fs::symlink(dir.join("hello.cgi"), dir.join("link.txt")).unwrap();
    assert_eq!(s.get("/files/link.txt").status, 403);
    let line = s.wait_for_log("AH00037", Duration::from_secs(5));
    assert!(line.contains("link.txt"), "{line}");
    // The same for a script behind a link (through the ScriptAlias of the same directory).
    assert_eq!(s.get("/run/hello.cgi").status, 201);
    std::os::unix::fs::symlink(dir.join("hello.cgi"), dir.join("link.cgi")).unwrap();
    assert_eq!(s.get("/run/link.cgi").status, 403);
}
for_each_mpm!(alias_redirect_and_symlink_options);

/// A script that sent its headers and part of its body, then went silent: the client has the
/// part at once; after Timeout the script is killed, the response ends without its last chunk
/// and the connection closes (Apache keeps it for KeepAliveTimeout first); the worker serves
/// the next request.
fn cgi_script_silent_mid_response_is_cut_and_killed(mpm: Mpm) {
    let s = cgi_server(mpm);
    let ex = s.raw_timeout(
        b"GET /cgi-bin/partial.cgi HTTP/1.1\r\nHost: x\r\n\r\n",
        Duration::from_secs(10),
    );
    assert!(ex.closed, "the connection is closed after the cut");
    // As Apache 2.4.71: the head and the first chunk, then no last chunk.
    let text = String::from_utf8_lossy(&ex.raw);
    assert!(text.starts_with("HTTP/1.1 200 OK\r\n"), "{text}");
    assert!(
        text.contains("\r\nTransfer-Encoding: chunked\r\n"),
        "{text}"
    );
    assert!(text.ends_with("\r\n\r\n5\r\npart\n\r\n"), "{text}");
    s.wait_for_log("AH00574", Duration::from_secs(5));
    let pid: i32 = std::fs::read_to_string(s.dir().join("htdocs/cgi-bin/partial.pid"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    wait_gone(pid);
    assert_eq!(s.get("/cgi-bin/hello.cgi").status, 201);
    // The same script killed by a signal mid-response: its output simply ends, so the
    // response ends with its last chunk, at once, and the connection is kept.
    let pid_file = s.dir().join("htdocs/cgi-bin/partial.pid");
    std::fs::remove_file(&pid_file).unwrap();
    let mut c = s.connect();
    c.write_all(b"GET /cgi-bin/partial.cgi HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    let pid: i32 = loop {
        if let Some(p) = std::fs::read_to_string(&pid_file)
            .ok()
            .and_then(|t| t.trim().parse().ok())
        {
            break p;
        }
        assert!(Instant::now() < deadline, "partial.cgi wrote no pid");
        std::thread::sleep(Duration::from_millis(20));
    };
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    let r = conformance::http::read_response(&mut c, false)
        .unwrap()
        .expect("a complete response");
    assert_eq!(r.text(), "part\n");
    c.write_all(b"GET /cgi-bin/hello.cgi HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let next = conformance::http::read_response(&mut c, false)
        .unwrap()
        .unwrap();
    assert_eq!(next.status, 201);
}
for_each_mpm!(cgi_script_silent_mid_response_is_cut_and_killed);

/// `pid` has exited (or is a zombie about to be reaped), within 5 s.
fn wait_gone(pid: i32) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| !s.contains(") Z ")) {
        assert!(Instant::now() < deadline, "script {pid} still alive");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// mod_cgid on every MPM (prefork too, as Apache allows): when the daemon dies the parent forks
/// a new one (`cgid_maint`) and scripts run again; ScriptLog records a refusal.
fn cgid_daemon_is_reforked_and_scriptlog_records(mpm: Mpm) {
    let s = server_with(
        mpm,
        true,
        &[
            "ScriptAlias /cgi-bin/ \"@DIR@/htdocs/cgi-bin/\"",
            "ScriptLog htdocs/cgi-bin/script.log",
        ],
    );
    let ppid = |s: &conformance::Server| -> i32 {
        let env = s.get("/cgi-bin/env.cgi").text();
        env.lines()
            .find_map(|l| l.strip_prefix("PPID="))
            .and_then(|p| p.parse().ok())
            .expect("PPID line")
    };
    let daemon = ppid(&s);
    assert!(!s.children().is_empty());
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(daemon),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    let new = loop {
        let r = s.get("/cgi-bin/env.cgi");
        if r.status == 200 {
            break ppid(&s);
        }
        assert!(
            Instant::now() < deadline,
            "no new cgid daemon: {}",
            s.error_log()
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    assert_ne!(new, daemon);
    // The new daemon's scripts write into the error log too (mod_cgid: raw, no ScriptLog).
    assert_eq!(s.get("/cgi-bin/err.cgi").status, 200);
    assert_eq!(
        s.wait_for_log("something went wrong", Duration::from_secs(5)),
        "something went wrong"
    );
    // `log_scripterror`'s entry for a refusal: the request, the status, `%error`.
    assert_eq!(s.get("/cgi-bin/missing.cgi").status, 404);
    let log = std::fs::read_to_string(s.dir().join("htdocs/cgi-bin/script.log")).unwrap();
    let file = s.dir().join("htdocs/cgi-bin/missing.cgi");
    assert!(
        log.contains(&format!(
            "] GET /cgi-bin/missing.cgi HTTP/1.1\n%% 404 {}\n%error\nscript not found or unable to stat\n",
            file.display()
        )),
        "{log}"
    );
    assert!(!log.contains("something went wrong"), "{log}");
}
for_each_mpm!(cgid_daemon_is_reforked_and_scriptlog_records);

/// The header block fails as it does in Apache 2.4.71 (compared side by side: status, body,
/// the error-log line and ScriptLog): a line with no colon, headers cut short by the end of the
/// output, and a `Status:` outside 100–599, which Apache answers 500 with the script's own body.
/// ScriptLog's `log_script` entry holds the request's fields, the first `ScriptLogBuffer`
/// bytes of a POST body, the offending line and the rest of stdout.
fn cgi_failed_header_block_is_logged_as_apache_does(mpm: Mpm) {
    let s = server(
        mpm,
        &[
            "ScriptAlias /cgi-bin/ \"@DIR@/htdocs/cgi-bin/\"",
            "ScriptLog htdocs/cgi-bin/script.log",
            "ScriptLogBuffer 10",
        ],
    );
    let r = s
        .raw(b"POST /cgi-bin/bad.cgi?a=1 HTTP/1.1\r\nHost: x\r\nX-Test: yes\r\nContent-Length: 20\r\nConnection: close\r\n\r\n0123456789abcdefghij")
        .response();
    assert_eq!(r.status, 500);
    s.wait_for_log(
        "malformed header from script 'bad.cgi': Bad header: This is not a header",
        Duration::from_secs(5),
    );
    assert_eq!(s.get("/cgi-bin/short.cgi").status, 500);
    s.wait_for_log(
        "Premature end of script headers: short.cgi",
        Duration::from_secs(5),
    );
    let r = s.get("/cgi-bin/badstatus.cgi");
    assert_eq!((r.status, r.text().as_str()), (500, "mine\n"));
    s.wait_for_log(
        "Invalid status line from script 'badstatus.cgi': 2000",
        Duration::from_secs(5),
    );
    let log = std::fs::read_to_string(s.dir().join("htdocs/cgi-bin/script.log")).unwrap();
    let bad = s.dir().join("htdocs/cgi-bin/bad.cgi");
    // The rest of stdout comes in pieces as it was read, each followed by a newline.
    let head = format!(
        "] POST /cgi-bin/bad.cgi?a=1 HTTP/1.1\n%% 500 {}\n%request\nHost: x\nX-Test: yes\nContent-Length: 20\nConnection: close\n\n0123456789\n%response\nThis is not a header\n%stdout\n",
        bad.display()
    );
    assert!(log.contains(&head), "{log}");
    assert!(log.contains("body text\n"), "{log}");
    let short = s.dir().join("htdocs/cgi-bin/short.cgi");
    assert!(
        log.contains(&format!(
            "] GET /cgi-bin/short.cgi HTTP/1.1\n%% 500 {}\n%request\n",
            short.display()
        )),
        "{log}"
    );
    assert!(
        !log.contains("badstatus"),
        "no entry for an invalid Status: {log}"
    );
}
for_each_mpm!(cgi_failed_header_block_is_logged_as_apache_does);

/// The cgid daemon: the parent of the scripts, as env.cgi reports it.
fn cgid_daemon(s: &conformance::Server) -> Option<i32> {
    // A hard restart may drop a connection in flight: no answer is not a failure here.
    let r = conformance::http::get(s.addr(), "/cgi-bin/env.cgi").ok()?;
    (r.status == 200)
        .then(|| r.text())?
        .lines()
        .find_map(|l| l.strip_prefix("PPID="))
        .and_then(|p| p.parse().ok())
}

/// The parent's child processes from /proc, zombies included.
fn children_with_zombies(parent: i32) -> Vec<conformance::procfs::ProcInfo> {
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<i32>().ok())
        .filter_map(conformance::procfs::info)
        .filter(|p| p.ppid == parent)
        .collect()
}

/// cgid.rs step 5 (`cgid_init` at every post_config): after a graceful restart (SIGUSR1) and
/// after a restart (SIGHUP) a new daemon serves CGI, and the old one is gone and reaped: the
/// parent's only single-threaded child is the new daemon (the worker/event children have
/// several threads), and none of its children is a zombie.
fn cgid_daemon_is_replaced_on_restarts(mpm: Mpm) {
    let s = cgi_server(mpm);
    let mut daemon = cgid_daemon(&s).expect("CGI before any restart");
    for sig in [
        nix::sys::signal::Signal::SIGUSR1,
        nix::sys::signal::Signal::SIGHUP,
    ] {
        s.signal(sig);
        let deadline = Instant::now() + Duration::from_secs(15);
        let new = loop {
            // A request that reached the old daemon just before it was stopped reports the
            // orphaned script's new parent (init): only a live child of the server counts.
            if let Some(d) = cgid_daemon(&s).filter(|&d| {
                d != daemon && conformance::procfs::info(d).is_some_and(|p| p.ppid == s.pid())
            }) {
                break d;
            }
            assert!(
                Instant::now() < deadline,
                "no new cgid daemon after {sig}: {}",
                s.error_log()
            );
            std::thread::sleep(Duration::from_millis(100));
        };
        assert!(
            !conformance::procfs::alive(daemon),
            "old daemon {daemon} still runs"
        );
        loop {
            let kids = children_with_zombies(s.pid());
            let zombies: Vec<i32> = kids
                .iter()
                .filter(|p| p.state == 'Z')
                .map(|p| p.pid)
                .collect();
            let single: Vec<i32> = kids
                .iter()
                .filter(|p| p.threads == 1)
                .map(|p| p.pid)
                .collect();
            if zombies.is_empty() && single == [new] {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "after {sig}: zombies {zombies:?}, single-threaded children {single:?} (daemon {new})"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        daemon = new;
    }
}

#[test]
fn cgid_daemon_is_replaced_on_restarts_worker() {
    cgid_daemon_is_replaced_on_restarts(Mpm::Worker);
}

#[test]
fn cgid_daemon_is_replaced_on_restarts_event() {
    cgid_daemon_is_replaced_on_restarts(Mpm::Event);
}

/// A script's header block read as Apache 2.4.71 reads it (each answer compared side by side
/// with Apache's on the same scripts): fields of one name merged and cookies kept apart, the
/// script's own reason phrase, preconditions checked against its ETag and Last-Modified when it
/// sent no `Status:` (304, or a 412 page that keeps its fields), and no Content-Length on HEAD.
fn cgi_header_block_is_read_as_apache_reads_it(mpm: Mpm) {
    let s = cgi_server(mpm);
    let get = |path: &str, extra: &str| {
        s.raw(
            format!("GET {path} HTTP/1.1\r\nHost: x\r\n{extra}Connection: close\r\n\r\n")
                .as_bytes(),
        )
        .response()
    };
    let r = get("/cgi-bin/fields.cgi", "");
    assert_eq!((r.status, r.text().as_str()), (200, "fields\n"));
    assert_eq!(r.header("X-Dup"), Some("1, 2"));
    assert_eq!(r.header("Content-Type"), Some("text/plain"));
    assert_eq!(
        r.header("Last-Modified"),
        Some("Tue, 01 Dec 2026 10:00:00 GMT")
    );
    let raw = s
        .raw(b"GET /cgi-bin/fields.cgi HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .raw;
    let raw = String::from_utf8_lossy(&raw).into_owned();
    assert!(
        raw.contains(
            "X-Dup: 1, 2\r\nX-Sp: lots   \r\nETag: \"v1\"\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\n"
        ),
        "{raw}"
    );
    let r = get(
        "/cgi-bin/fields.cgi",
        "If-Modified-Since: Wed, 02 Dec 2026 10:00:00 GMT\r\n",
    );
    assert_eq!((r.status, r.text().as_str()), (304, ""));
    let r = get("/cgi-bin/fields.cgi", "If-None-Match: \"v1\"\r\n");
    assert_eq!(r.status, 304);
    let r = get("/cgi-bin/fields.cgi", "If-Match: \"other\"\r\n");
    assert_eq!(r.status, 412);
    assert_eq!(r.header("X-Dup"), Some("1, 2"));
    assert!(r.text().contains("Precondition Failed"), "{}", r.text());
    let raw = s
        .raw(b"GET /cgi-bin/reason.cgi HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .raw;
    let raw = String::from_utf8_lossy(&raw).into_owned();
    assert!(raw.starts_with("HTTP/1.1 404 Gone Fishing\r\n"), "{raw}");
    let head = s
        .raw(b"HEAD /cgi-bin/fields.cgi HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .raw;
    let head = String::from_utf8_lossy(&head).into_owned();
    assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
    assert!(!head.contains("Content-Length"), "{head}");
}
for_each_mpm!(cgi_header_block_is_read_as_apache_reads_it);
