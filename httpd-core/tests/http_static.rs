//! Static files under DocumentRoot: headers, HEAD, DirectoryIndex, redirects, 403/404,
//! MIME types, validators and conditional requests, ranges, OPTIONS, TRACE.

mod http_support;

use std::time::{Duration, SystemTime};

use http_support::*;
use httpd_core::config::{Require, Section};

fn get(srv: &TestServer, target: &str, extra: &str) -> Resp {
    parse(&srv.send(
        format!("GET {target} HTTP/1.1\r\nHost: h\r\nConnection: close\r\n{extra}\r\n").as_bytes(),
    ))
}

#[test]
fn static_get_carries_apaches_headers_in_order() {
    let srv = TestServer::start();
    let r = get(&srv, "/index.html", "");
    assert_eq!(r.status, 200);
    assert_eq!(r.text(), "hello\n");
    let names: Vec<&str> = r
        .head
        .lines()
        .skip(1)
        .filter_map(|l| l.split_once(':').map(|(n, _)| n))
        .collect();
    assert_eq!(
        names,
        [
            "Date",
            "Server",
            "Last-Modified",
            "ETag",
            "Accept-Ranges",
            "Content-Length",
            "Connection",
            "Content-Type"
        ]
    );
    assert_eq!(
        r.header("Server").as_deref(),
        Some(httpd_core::SERVER_VERSION)
    );
    assert_eq!(
        r.header("Content-Type").as_deref(),
        Some("text/html"),
        "no charset without AddDefaultCharset"
    );
    assert_eq!(r.header("Accept-Ranges").as_deref(), Some("bytes"));
    let etag = r.header("ETag").unwrap();
    assert!(
        etag.starts_with("W/\"6-") || etag.starts_with("\"6-"),
        "size-mtime form: {etag}"
    );
    let lines = srv.access_lines(1);
    assert!(lines[0].starts_with("127.0.0.1 - - ["), "{lines:?}");
    assert!(
        lines[0].ends_with("\"GET /index.html HTTP/1.1\" 200 6"),
        "{lines:?}"
    );
}

#[test]
fn head_has_the_headers_of_get_and_no_body() {
    let srv = TestServer::start();
    let text = srv.send(b"HEAD /1k.txt HTTP/1.0\r\n\r\n");
    let r = parse(&text);
    assert_eq!(r.status, 200);
    assert_eq!(r.header("Content-Length").as_deref(), Some("1024"));
    assert!(r.body.is_empty());
    assert!(srv.access_lines(1)[0].ends_with("\"HEAD /1k.txt HTTP/1.0\" 200 -"));
    // Apache never generates an error page for HEAD: no body, no length.
    let r = parse(&srv.send(b"HEAD /nope HTTP/1.0\r\n\r\n"));
    assert_eq!(r.status, 404);
    assert_eq!(r.header("Content-Length"), None);
    assert!(r.body.is_empty());
}

#[test]
fn directory_without_slash_301_with_absolute_location() {
    let srv = TestServer::start();
    let port = srv.addr.port();
    let r = get(&srv, "/sub?x=1", "");
    assert_eq!(r.status, 301);
    assert_eq!(r.header("Location").as_deref(), Some("http://h/sub/?x=1"));
    assert!(
        r.text()
            .contains("<p>The document has moved <a href=\"http://h/sub/?x=1\">here</a>.</p>")
    );
    let r = parse(
        &srv.send(
            format!("GET /sub HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n")
                .as_bytes(),
        ),
    );
    assert_eq!(
        r.header("Location"),
        Some(format!("http://127.0.0.1:{port}/sub/"))
    );
    // No Host: ServerName or the local address, and port 80 (ap_get_server_port with
    // UseCanonicalPhysicalPort Off never uses the local port; checked with mpm-lab diff).
    let r = parse(&srv.send(b"GET /sub HTTP/1.0\r\n\r\n"));
    assert_eq!(
        r.header("Location"),
        Some("http://127.0.0.1/sub/".to_string()),
        "no Host: local address, port 80"
    );
}

#[test]
fn directory_index_is_served_and_missing_index_is_404_without_mod_autoindex() {
    let srv = TestServer::start();
    assert_eq!(get(&srv, "/", "").text(), "hello\n");
    assert_eq!(get(&srv, "/sub/", "").text(), "sub index\n");
    std::fs::create_dir(srv.path("htdocs/empty")).unwrap();
    // mod_autoindex is not loaded (it is loadable, not built in): the default handler refuses
    // the directory (AH00129). Loaded, it lists it or refuses (tests/http_autoindex.rs).
    assert!(!httpd_core::config::modules::is_built_in("autoindex"));
    assert_eq!(get(&srv, "/empty/", "").status, 404);
    assert!(
        srv.error_log()
            .contains("AH00129: Attempt to serve directory")
    );
}

#[test]
fn missing_file_404_with_apaches_page() {
    let srv = TestServer::start();
    let r = get(&srv, "/nope.html", "");
    assert_eq!(r.status, 404);
    assert_eq!(
        r.header("Content-Type").as_deref(),
        Some("text/html; charset=iso-8859-1")
    );
    assert_eq!(
        r.text(),
        "<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.01//EN\" \"http://www.w3.org/TR/html4/strict.dtd\">\n\
         <html><head>\n<title>404 Not Found</title>\n</head><body>\n<h1>Not Found</h1>\n\
         <p>The requested URL was not found on this server.</p>\n</body></html>\n"
    );
    assert!(srv.error_log().contains("[core:info]"));
    assert!(srv.error_log().contains("AH00128: File does not exist: "));
}

#[test]
fn require_all_denied_is_403_and_unreadable_file_is_403() {
    let srv = TestServer::with_config(|c| {
        c.directories.push(Section {
            path: c.document_root.join("sub").display().to_string(),
            handler: None,
            require: Some(vec![Require::AllDenied]),
            ..Default::default()
        })
    });
    let r = get(&srv, "/sub/index.html", "");
    assert_eq!(r.status, 403);
    assert!(
        r.text()
            .contains("<p>You don't have permission to access this resource.</p>")
    );
    assert!(srv.error_log().contains("[authz_core:error]"));
    assert!(
        srv.error_log()
            .contains("AH01630: client denied by server configuration: ")
    );
    assert_eq!(get(&srv, "/index.html", "").status, 200);
}

#[test]
fn mime_types_from_types_config_file() {
    let srv = TestServer::with_config(|c| {
        let path = c.server_root.join("mime.types");
        std::fs::write(&path, "# test\ntext/x-lab\ttxt\n").unwrap();
        c.types_config = Some(path);
        c.add_default_charset = Some("UTF-8".into());
    });
    assert_eq!(
        get(&srv, "/1k.txt", "").header("Content-Type").as_deref(),
        Some("text/x-lab; charset=UTF-8")
    );
    assert_eq!(
        get(&srv, "/index.html", "").header("Content-Type"),
        None,
        "html is not in this table"
    );
}

fn set_old_mtime(srv: &TestServer) {
    let f = std::fs::File::options()
        .write(true)
        .open(srv.path("htdocs/1k.txt"))
        .unwrap();
    f.set_modified(SystemTime::now() - Duration::from_secs(3600))
        .unwrap();
}

#[test]
fn conditional_requests_304_and_412() {
    let srv = TestServer::start();
    set_old_mtime(&srv);
    let r = get(&srv, "/1k.txt", "");
    let (etag, lm) = (
        r.header("ETag").unwrap(),
        r.header("Last-Modified").unwrap(),
    );
    assert!(
        etag.starts_with('"'),
        "an old file has a strong ETag: {etag}"
    );
    let r = get(&srv, "/1k.txt", &format!("If-None-Match: {etag}\r\n"));
    assert_eq!(r.status, 304);
    assert_eq!(r.header("Content-Length"), None);
    assert_eq!(r.header("ETag").as_deref(), Some(etag.as_str()));
    assert!(r.body.is_empty());
    assert_eq!(
        get(&srv, "/1k.txt", &format!("If-Modified-Since: {lm}\r\n")).status,
        304
    );
    assert_eq!(
        get(
            &srv,
            "/1k.txt",
            "If-Modified-Since: Thu, 01 Jan 1998 00:00:00 GMT\r\n"
        )
        .status,
        200
    );
    assert_eq!(
        get(&srv, "/1k.txt", "If-None-Match: \"other\"\r\n").status,
        200
    );
    // Apache's default handler answers 412 itself: the file's fields, no content (checked
    // against Debian's apache2 with mpm-lab diff).
    let r = get(&srv, "/1k.txt", "If-Match: \"other\"\r\n");
    assert_eq!(r.status, 412);
    assert_eq!(r.header("Content-Length").as_deref(), Some("0"));
    assert!(r.header("ETag").is_some());
    assert_eq!(r.text(), "");
    assert_eq!(
        get(&srv, "/1k.txt", &format!("If-Match: {etag}\r\n")).status,
        200
    );
    assert_eq!(
        get(
            &srv,
            "/1k.txt",
            "If-Unmodified-Since: Thu, 01 Jan 1998 00:00:00 GMT\r\n"
        )
        .status,
        412
    );
}

#[test]
fn range_single_206_with_content_range() {
    let srv = TestServer::start();
    std::fs::write(srv.path("htdocs/digits.txt"), "0123456789").unwrap();
    let r = get(&srv, "/digits.txt", "Range: bytes=2-4\r\n");
    assert_eq!(r.status, 206);
    assert_eq!(r.text(), "234");
    assert_eq!(r.header("Content-Range").as_deref(), Some("bytes 2-4/10"));
    assert_eq!(r.header("Content-Length").as_deref(), Some("3"));
    assert_eq!(
        get(&srv, "/digits.txt", "Range: bytes=-3\r\n").text(),
        "789"
    );
    assert_eq!(
        get(&srv, "/digits.txt", "Range: bytes=5-2\r\n").status,
        200,
        "invalid range ignored"
    );
    assert_eq!(
        get(
            &srv,
            "/digits.txt",
            "Range: bytes=2-4\r\nIf-Range: \"nope\"\r\n"
        )
        .status,
        200
    );
}

#[test]
fn range_multiple_206_multipart_byteranges() {
    let srv = TestServer::start();
    std::fs::write(srv.path("htdocs/digits.txt"), "0123456789").unwrap();
    let r = get(&srv, "/digits.txt", "Range: bytes=0-1,5-6\r\n");
    assert_eq!(r.status, 206);
    let ct = r.header("Content-Type").unwrap();
    let boundary = ct
        .strip_prefix("multipart/byteranges; boundary=")
        .expect(&ct);
    let body = r.text();
    assert_eq!(
        body,
        format!(
            "\r\n--{boundary}\r\nContent-type: text/plain\r\nContent-range: bytes 0-1/10\r\n\r\n01\
             \r\n--{boundary}\r\nContent-type: text/plain\r\nContent-range: bytes 5-6/10\r\n\r\n56\
             \r\n--{boundary}--\r\n"
        )
    );
    assert_eq!(r.header("Content-Length"), Some(body.len().to_string()));
}

#[test]
fn range_unsatisfiable_416() {
    let srv = TestServer::start();
    let r = get(&srv, "/index.html", "Range: bytes=100-200\r\n");
    assert_eq!(r.status, 416);
    assert!(
        r.text()
            .contains("None of the range-specifier values in the Range")
    );
    assert_eq!(
        r.header("Connection").as_deref(),
        Some("close"),
        "we asked for close"
    );
}

#[test]
fn options_answers_200_with_allow_and_options_star_without() {
    let srv = TestServer::start();
    // Apache 2.4.71, side by side: a path's OPTIONS lists its methods, `*` lists none.
    for (target, allow) in [
        ("*", None),
        ("/index.html", Some("GET,POST,OPTIONS,HEAD,TRACE")),
    ] {
        let r = parse(&srv.send(format!("OPTIONS {target} HTTP/1.0\r\n\r\n").as_bytes()));
        assert_eq!(r.status, 200, "{target}");
        assert_eq!(r.header("Allow").as_deref(), allow, "{target}");
        assert_eq!(r.header("Content-Length").as_deref(), Some("0"));
    }
}

#[test]
fn trace_echoes_the_request_as_message_http() {
    let srv = TestServer::start();
    let text = srv.send(b"TRACE /x HTTP/1.1\r\nHost: h\r\nX-Test: 1\r\nConnection: close\r\n\r\n");
    let r = parse(&text);
    assert_eq!(r.status, 200);
    assert_eq!(r.header("Content-Type").as_deref(), Some("message/http"));
    assert_eq!(r.header("Transfer-Encoding").as_deref(), Some("chunked"));
    assert!(
        text.contains("TRACE /x HTTP/1.1\r\nHost: h\r\nX-Test: 1\r\nConnection: close\r\n\r\n")
    );
    let r = parse(&srv.send(b"TRACE / HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\nab"));
    assert_eq!(r.status, 413, "TRACE with a body");
}

#[test]
fn trace_disabled_is_405() {
    let srv = TestServer::with_config(|c| c.trace_enable = false);
    let r = parse(&srv.send(b"TRACE / HTTP/1.0\r\n\r\n"));
    assert_eq!(r.status, 405);
    assert_eq!(r.header("Allow").as_deref(), Some("GET,POST,OPTIONS,HEAD"));
}
