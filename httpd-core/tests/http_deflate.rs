//! Output filters, request-header editing and file delivery over TCP, configured through the
//! real config loader: mod_deflate + mod_filter (`AddOutputFilterByType DEFLATE`, core's
//! `SetOutputFilter`), mod_headers' `RequestHeader` (seen by a CGI script and the access log),
//! core's `EnableSendfile` / `EnableMMAP`. The expected headers are those Debian's Apache
//! 2.4.71 sent for the same requests (side by side, see the module docs of
//! `httpd_core::modules::deflate`).

mod http_support;

use std::io::Read;

use http_support::*;
use httpd_core::config::{MpmIdent, ServerConfig};

const MODULES: &str = "LoadModule deflate_module x.so\nLoadModule filter_module x.so\n\
    LoadModule setenvif_module x.so\nLoadModule headers_module x.so\nLoadModule alias_module x.so\n\
    LoadModule cgi_module x.so\n";

fn load(text: &str) -> Result<ServerConfig, String> {
    parse_conf(text, &MpmIdent::EVENT)
}

/// A page of HTML that compresses well (2.7 KB, as the side-by-side run's page.html).
fn page() -> Vec<u8> {
    let mut p = b"<html><body>".to_vec();
    for i in 0..100 {
        p.extend_from_slice(format!("<p>line {i} of the page</p>\n").as_bytes());
    }
    p.extend_from_slice(b"</body></html>\n");
    p
}

/// Hex lines from a fixed LCG: about 55% of its size after compression.
fn hex_lines(n: usize) -> Vec<u8> {
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    let mut out = Vec::with_capacity(n);
    while out.len() < n {
        x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
        out.extend_from_slice(format!("{:08x}\n", x >> 32).as_bytes());
    }
    out.truncate(n);
    out
}

/// A server whose configuration is `conf` (`@ROOT@` = DocumentRoot, `@CGI@` = a script
/// directory) after the modules; `files` are written under DocumentRoot first.
fn server(conf: &str, files: &[(&str, Vec<u8>)]) -> TestServer {
    TestServer::with_config(|c| {
        let root = c.document_root.clone();
        for (rel, data) in files {
            let p = root.join(rel);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, data).unwrap();
        }
        let cgi = root.parent().unwrap().join("cgi");
        std::fs::create_dir_all(&cgi).unwrap();
        let text = format!(
            "Listen 127.0.0.1:1\n{MODULES}{}",
            conf.replace("@ROOT@", &root.display().to_string())
                .replace("@CGI@", &cgi.display().to_string())
        );
        let p = load(&text).unwrap();
        if let Some(f) = p.custom_logs.last() {
            c.custom_logs[0].format.clone_from(&f.format);
        }
        adopt_sections(c, p);
    })
}

fn request(srv: &TestServer, method: &str, target: &str, extra: &str) -> Resp {
    let mut s = srv.connect();
    std::io::Write::write_all(
        &mut s,
        format!("{method} {target} HTTP/1.1\r\nHost: h\r\n{extra}\r\n").as_bytes(),
    )
    .unwrap();
    read_response(&mut s, method == "HEAD").expect("a response")
}

fn gunzip(b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(b)
        .read_to_end(&mut out)
        .expect("a gzip body");
    out
}

/// The field names of a response head, in order, without Date and Server.
fn names(r: &Resp) -> Vec<String> {
    r.head
        .lines()
        .skip(1)
        .filter_map(|l| l.split_once(':').map(|(n, _)| n.to_string()))
        .filter(|n| n != "Date" && n != "Server")
        .collect()
}

const GZIP: &str = "Accept-Encoding: gzip\r\n";

/// The head of a compressed file, as Apache 2.4.71 sends it (Date and Server left out).
const GZIP_FIELDS: [&str; 7] = [
    "Last-Modified",
    "ETag",
    "Accept-Ranges",
    "Vary",
    "Content-Encoding",
    "Content-Length",
    "Content-Type",
];

/// Debian's `mods-available/deflate.load`, `filter.load` and `deflate.conf` (apache2
/// 2.4.71-1), verbatim, then the test's own lines.
const DEBIAN: &str = "# Depends: filter\n\
    LoadModule deflate_module /usr/lib/apache2/modules/mod_deflate.so\n\
    LoadModule filter_module /usr/lib/apache2/modules/mod_filter.so\n\
    <IfModule mod_filter.c>\n\
    \tAddOutputFilterByType DEFLATE text/html text/plain text/xml text/css text/javascript\n\
    \tAddOutputFilterByType DEFLATE application/x-javascript application/javascript application/ecmascript\n\
    \tAddOutputFilterByType DEFLATE application/rss+xml\n\
    \tAddOutputFilterByType DEFLATE application/wasm\n\
    \tAddOutputFilterByType DEFLATE application/xml\n\
    </IfModule>\n\
    BrowserMatch ^OldBrowser no-gzip\nBrowserMatch ^HtmlOnly gzip-only-text/html\n\
    DeflateFilterNote Input instream\nDeflateFilterNote Output outstream\nDeflateFilterNote Ratio ratio\n\
    LogFormat \"%r %>s %{outstream}n/%{instream}n (%{ratio}n%%)\" deflate\nCustomLog x deflate\n";

fn debian() -> TestServer {
    server(
        DEBIAN,
        &[
            ("page.html", page()),
            ("small.html", b"<p>hi</p>\n".to_vec()),
            ("big.txt", hex_lines(300_000)),
            ("img.bin", hex_lines(5000)),
        ],
    )
}

#[test]
fn deflate_compresses_for_gzip_clients_with_apaches_headers() {
    let srv = debian();
    let r = request(&srv, "GET", "/page.html", GZIP);
    assert_eq!(r.status, 200);
    assert_eq!(names(&r), GZIP_FIELDS);
    assert_eq!(r.header("Content-Encoding").as_deref(), Some("gzip"));
    assert_eq!(r.header("Vary").as_deref(), Some("Accept-Encoding"));
    assert!(r.header("ETag").unwrap().ends_with("-gzip\""), "{}", r.head);
    assert_eq!(&r.body[..3], &[0x1f, 0x8b, 8]);
    assert_eq!(r.body[9], 3, "Apache's OS byte (Unix)");
    assert_eq!(gunzip(&r.body), page());
    // The access log's %{…}n notes: deflate output / input and the ratio.
    let line = srv.access_lines(1).pop().unwrap();
    let out = r.body.len() - 18;
    assert_eq!(
        line,
        format!(
            "GET /page.html HTTP/1.1 200 {out}/{} ({}%)",
            page().len(),
            out * 100 / page().len()
        )
    );
}

#[test]
fn deflate_accept_encoding_variants() {
    let srv = debian();
    for (ae, gz) in [
        ("Accept-Encoding: GZIP\r\n", true),
        ("Accept-Encoding: deflate, gzip;q=0.5\r\n", true),
        ("", false),
        ("Accept-Encoding: gzip;q=0\r\n", false),
        ("Accept-Encoding: gzip; q=0.0, deflate\r\n", false),
        ("Accept-Encoding: identity\r\n", false),
        ("Accept-Encoding: x-gzip\r\n", false),
        ("Accept-Encoding: *\r\n", false),
    ] {
        let r = request(&srv, "GET", "/page.html", ae);
        assert_eq!(
            r.header("Content-Encoding").is_some(),
            gz,
            "{ae}: {}",
            r.head
        );
        // Vary in every case: the answer depends on Accept-Encoding.
        assert_eq!(r.header("Vary").as_deref(), Some("Accept-Encoding"), "{ae}");
        if !gz {
            assert_eq!(r.body, page());
            assert!(!r.header("ETag").unwrap().contains("gzip"));
            // The handler's Content-Length stays first, Vary comes after it (Apache's table).
            let n = names(&r);
            let pos = |f: &str| n.iter().position(|x| x == f).unwrap();
            assert!(pos("Content-Length") < pos("Vary"), "{n:?}");
        }
    }
}

#[test]
fn deflate_ranges_the_gzip_stream_and_skips_304_no_gzip_small_and_other_types() {
    let srv = debian();
    // A Range on a file: Apache's byterange filter runs after DEFLATE, on the gzip stream.
    let get = request(&srv, "GET", "/page.html", GZIP);
    let gzip_range = |range: &str| {
        let extra = format!("{GZIP}Range: bytes={range}\r\n");
        request(&srv, "GET", "/page.html", &extra)
    };
    let r = gzip_range("0-99");
    assert_eq!(r.status, 206);
    assert_eq!(r.header("Content-Encoding").as_deref(), Some("gzip"));
    assert_eq!(
        r.header("Content-Range"),
        Some(format!("bytes 0-99/{}", get.body.len()))
    );
    assert_eq!(r.body, &get.body[..100]);
    // Content-Range comes before the length the content-length filter recomputes.
    let mut want = GZIP_FIELDS.to_vec();
    want.insert(5, "Content-Range");
    assert_eq!(names(&r), want);
    // Without gzip: the identity range, the handler's field order.
    let r = request(&srv, "GET", "/page.html", "Range: bytes=0-99\r\n");
    assert_eq!(r.status, 206);
    assert_eq!(r.body, &page()[..100]);
    assert_eq!(r.header("Content-Encoding"), None);
    let n = names(&r);
    assert_eq!(&n[3..6], ["Content-Length", "Vary", "Content-Range"]);
    // A range past the end of the compressed body: 416.
    assert_eq!(gzip_range("2000-").status, 416);
    // HEAD: the compressed variant's head, its length as the GET's.
    let head = request(&srv, "HEAD", "/page.html", GZIP);
    assert_eq!(names(&head), names(&get));
    assert_eq!(head.header("Content-Length"), get.header("Content-Length"));
    // 304 for the identity ETag: untouched (mod_filter only filters 200s).
    let plain = request(&srv, "GET", "/page.html", "");
    let etag = plain.header("ETag").unwrap();
    let r = request(
        &srv,
        "GET",
        "/page.html",
        &format!("{GZIP}If-None-Match: {etag}\r\n"),
    );
    assert_eq!(r.status, 304);
    assert_eq!(names(&r), ["Last-Modified", "ETag", "Accept-Ranges"]);
    // The -gzip ETag does not match the file's (Apache 2.4's known behaviour): a 200.
    let r = request(
        &srv,
        "GET",
        "/page.html",
        &format!("{GZIP}If-None-Match: {}\r\n", get.header("ETag").unwrap()),
    );
    assert_eq!(r.status, 200);
    // no-gzip (BrowserMatch), gzip-only-text/html on text/plain, a tiny body, a type not
    // listed, a 404: nothing changed, no Vary.
    for (target, extra) in [
        ("/page.html", "User-Agent: OldBrowser/1\r\n"),
        ("/big.txt", "User-Agent: HtmlOnly/1\r\n"),
        ("/small.html", ""),
        ("/img.bin", ""),
        ("/missing.html", ""),
    ] {
        let r = request(&srv, "GET", target, &format!("{GZIP}{extra}"));
        assert_eq!(r.header("Content-Encoding"), None, "{target} {extra}");
        assert_eq!(r.header("Vary"), None, "{target} {extra}");
    }
    // gzip-only-text/html still compresses text/html.
    let r = request(
        &srv,
        "GET",
        "/page.html",
        "Accept-Encoding: gzip\r\nUser-Agent: HtmlOnly/1\r\n",
    );
    assert_eq!(r.header("Content-Encoding").as_deref(), Some("gzip"));
}

#[test]
fn deflate_large_bodies_are_chunked_on_http11_and_close_delimited_on_http10() {
    let srv = debian();
    let want = hex_lines(300_000);
    let r = request(&srv, "GET", "/big.txt", GZIP);
    assert_eq!(r.header("Transfer-Encoding").as_deref(), Some("chunked"));
    assert_eq!(r.header("Content-Length"), None);
    assert_eq!(gunzip(&r.body), want);
    // DeflateBufferSize pieces: the first chunk holds the gzip header and 8096 bytes.
    let raw = srv.send(
        b"GET /big.txt HTTP/1.1\r\nHost: h\r\nAccept-Encoding: gzip\r\nConnection: close\r\n\r\n",
    );
    let body = raw.split_once("\r\n\r\n").unwrap().1;
    assert!(body.starts_with("1faa\r\n"), "first chunk 8106 bytes");
    let r = parse(&srv.send(b"GET /big.txt HTTP/1.0\r\nAccept-Encoding: gzip\r\n\r\n"));
    assert_eq!(r.header("Connection").as_deref(), Some("close"));
    assert_eq!(r.header("Content-Length"), None);
    assert_eq!(r.header("Transfer-Encoding"), None);
    // HEAD of a body that would be chunked: no length at all, and no notes (Apache's filter
    // stops before the end).
    let h = request(&srv, "HEAD", "/big.txt", GZIP);
    assert_eq!(h.header("Content-Length"), None);
    assert_eq!(h.header("Transfer-Encoding"), None);
    assert_eq!(h.header("Content-Encoding").as_deref(), Some("gzip"));
    let last = srv.access_lines(4).pop().unwrap();
    assert_eq!(last, "HEAD /big.txt HTTP/1.1 200 -/- (-%)");
}

#[test]
fn deflate_cgi_output_request_header_and_already_encoded_bodies() {
    let srv = server(
        &format!(
            "{DEBIAN}ScriptAlias /cgi-bin/ @CGI@/\nRequestHeader set X-Lab edited\n\
             RequestHeader append Accept-Language fr\nLogFormat \"%{{X-Lab}}i %{{Accept-Language}}i\" h\nCustomLog y h\n"
        ),
        &[],
    );
    let cgi = srv.path("cgi");
    let script = |name: &str, text: &str| {
        use std::os::unix::fs::PermissionsExt;
        let p = cgi.join(name);
        std::fs::write(&p, text).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    };
    script(
        "env.cgi",
        "#!/bin/sh\necho 'Content-Type: text/html'\necho\nfor i in 1 2 3 4 5 6 7 8 9; do echo \"<p>$HTTP_X_LAB $HTTP_ACCEPT_LANGUAGE</p>\"; done\n",
    );
    script(
        "enc.cgi",
        "#!/bin/sh\necho 'Content-Type: text/html'\necho 'Content-Encoding: gzip'\necho\nfor i in 1 2 3 4 5 6 7 8 9 10; do echo \"<p>already encoded</p>\"; done\n",
    );
    let r = request(
        &srv,
        "GET",
        "/cgi-bin/env.cgi",
        "Accept-Encoding: gzip\r\nX-Lab: original\r\nAccept-Language: en\r\n",
    );
    assert_eq!(r.status, 200, "{}", srv.error_log());
    assert_eq!(r.header("Content-Encoding").as_deref(), Some("gzip"));
    let text = String::from_utf8(gunzip(&r.body)).unwrap();
    assert!(text.starts_with("<p>edited en, fr</p>\n"), "{text}");
    assert_eq!(srv.access_lines(1).pop().unwrap(), "edited en, fr");
    // A 206 the handler made itself: mod_deflate leaves a Content-Range alone.
    script(
        "part.cgi",
        "#!/bin/sh\necho 'Status: 206'\necho 'Content-Type: text/html'\necho 'Content-Range: bytes 0-99/1000'\necho\nfor i in 1 2 3 4 5 6 7 8 9 10; do echo \"<p>part</p>\"; done\n",
    );
    let r = request(&srv, "GET", "/cgi-bin/part.cgi", GZIP);
    assert_eq!(r.status, 206);
    assert_eq!(r.header("Content-Encoding"), None);
    let r = request(&srv, "GET", "/cgi-bin/enc.cgi", GZIP);
    assert_eq!(r.header("Content-Encoding").as_deref(), Some("gzip"));
    assert_eq!(r.header("Vary"), None);
    assert!(
        r.text().starts_with("<p>already encoded</p>"),
        "not gzipped twice"
    );
    // A script that pauses after its header block: the rest of its output is read and
    // compressed with the first part, never sent after the gzip trailer as it is.
    script(
        "slow.cgi",
        "#!/bin/sh\necho 'Content-Type: text/html'\necho\nsleep 0.3\nfor i in 1 2 3 4 5 6 7 8 9; do echo '<p>late</p>'; done\n",
    );
    let r = request(&srv, "GET", "/cgi-bin/slow.cgi", GZIP);
    assert_eq!(r.header("Content-Encoding").as_deref(), Some("gzip"));
    assert_eq!(gunzip(&r.body), "<p>late</p>\n".repeat(9).into_bytes());
    assert!(
        r.header("Content-Length").is_some(),
        "a small whole body, as Apache's"
    );
}

#[test]
fn deflate_set_output_filter_compresses_every_type_but_not_apaches_error_pages() {
    let srv = server(
        "<Directory @ROOT@/z>\nSetOutputFilter DEFLATE\n</Directory>\nDeflateCompressionLevel 1\n",
        &[("z/img.bin", hex_lines(5000)), ("page.html", page())],
    );
    let r = request(&srv, "GET", "/z/img.bin", GZIP);
    assert_eq!(r.header("Content-Encoding").as_deref(), Some("gzip"));
    assert_eq!(gunzip(&r.body), hex_lines(5000));
    let r = request(&srv, "GET", "/z/missing", GZIP);
    assert_eq!(r.status, 404);
    assert_eq!(
        r.header("Content-Encoding"),
        None,
        "ap_send_error_response skips content filters"
    );
    assert!(r.text().contains("Not Found"));
    // Outside the directory: no filter, no Vary.
    let r = request(&srv, "GET", "/page.html", GZIP);
    assert_eq!(r.header("Vary"), None);
}

/// Every (EnableSendfile, EnableMMAP) pair sends the same bytes: empty, small, large files,
/// and single and multiple ranges of the large one.
#[test]
fn file_delivery_sendfile_mmap_and_read_send_identical_bytes() {
    let large = hex_lines(700_000);
    let mut files = Vec::new();
    let mut conf = String::new();
    for (dir, sf, mm) in [
        ("sf", "On", "Off"),
        ("mm", "Off", "On"),
        ("rd", "Off", "Off"),
        ("both", "On", "On"),
    ] {
        conf.push_str(&format!(
            "<Directory @ROOT@/{dir}>\nEnableSendfile {sf}\nEnableMMAP {mm}\n</Directory>\n"
        ));
        files.push((format!("{dir}/empty"), Vec::new()));
        files.push((format!("{dir}/small"), b"0123456789".repeat(10)));
        files.push((format!("{dir}/large"), large.clone()));
    }
    let files: Vec<(&str, Vec<u8>)> = files.iter().map(|(p, d)| (p.as_str(), d.clone())).collect();
    let srv = server(&conf, &files);
    for dir in ["sf", "mm", "rd", "both"] {
        for (name, want) in [
            ("empty", Vec::new()),
            ("small", b"0123456789".repeat(10)),
            ("large", large.clone()),
        ] {
            let r = request(&srv, "GET", &format!("/{dir}/{name}"), "");
            assert_eq!(r.status, 200);
            assert!(r.body == want, "/{dir}/{name}: {} bytes", r.body.len());
        }
        let r = request(
            &srv,
            "GET",
            &format!("/{dir}/large"),
            "Range: bytes=4097-600000\r\n",
        );
        assert_eq!(r.status, 206);
        assert!(r.body == large[4097..=600_000], "/{dir}/large range");
        let r = request(
            &srv,
            "GET",
            &format!("/{dir}/large"),
            "Range: bytes=1-20000,500000-\r\n",
        );
        assert_eq!(r.status, 206);
        let text = r.body;
        let find = |needle: &[u8]| text.windows(needle.len()).any(|w| w == needle);
        assert!(
            find(&large[1..=20000]) && find(&large[500_000..]),
            "/{dir} multipart"
        );
    }
}

#[test]
fn filter_config_refusals_name_what_is_missing() {
    for (line, want) in [
        ("DeflateWindowSize 10", "fixed 32 KiB window"),
        ("DeflateWindowSize 16", "between 1 and 15"),
        ("DeflateMemLevel 5", "memory level"),
        ("DeflateCompressionLevel 0", "between 1 and 9"),
        ("DeflateInflateLimitRequestBody 100", "INFLATE"),
        (
            "FilterProvider F DEFLATE \"%{CONTENT_TYPE} = 'text/html'\"",
            "AddOutputFilterByType only",
        ),
        ("FilterChain DEFLATE", "AddOutputFilterByType only"),
        ("AddOutputFilterByType INCLUDES text/html", "INCLUDES"),
        ("SetOutputFilter SUBSTITUTE", "SUBSTITUTE"),
        ("EnableSendfile maybe", "parameter must be 'on' or 'off'"),
        ("RequestHeader echo ^X", "echo not valid"),
        ("RequestHeader set X 1 early", "early"),
    ] {
        let e = load(&format!("Listen 127.0.0.1:1\n{MODULES}{line}\n")).unwrap_err();
        assert!(e.contains(want), "{line}: {e}");
    }
    // Without the modules, their directives do not exist, as in Apache.
    let e = load("Listen 127.0.0.1:1\nAddOutputFilterByType DEFLATE text/html\n").unwrap_err();
    assert!(e.contains("Invalid command"), "{e}");
    let e = load("Listen 127.0.0.1:1\nSetOutputFilter DEFLATE\n").unwrap_err();
    assert!(e.contains("deflate_module"), "{e}");
    assert!(load(&format!("Listen 127.0.0.1:1\n{MODULES}DeflateWindowSize 15\nDeflateMemLevel 9\nDeflateAlterETag Remove\nEnableMMAP off\n")).is_ok());
}

/// `AddOutputFilterByType`, `EnableMMAP` and `RequestHeader` in a `.htaccess` (FileInfo) apply
/// to its directory only.
#[test]
fn deflate_htaccess_file_info_lines_apply_below_their_directory() {
    let srv = server(
        "<Directory @ROOT@/h>\nAllowOverride FileInfo\n</Directory>\n\
         LogFormat \"%U %{X-H}i\" h\nCustomLog y h\n",
        &[
            (
                "h/.htaccess",
                b"AddOutputFilterByType DEFLATE text/html\nRequestHeader set X-H from-htaccess\nEnableMMAP Off\n"
                    .to_vec(),
            ),
            ("h/page.html", page()),
            ("page.html", page()),
        ],
    );
    let r = request(&srv, "GET", "/h/page.html", GZIP);
    assert_eq!(
        r.header("Content-Encoding").as_deref(),
        Some("gzip"),
        "{}",
        srv.error_log()
    );
    assert_eq!(gunzip(&r.body), page());
    let r = request(&srv, "GET", "/page.html", GZIP);
    assert_eq!(r.header("Content-Encoding"), None);
    let lines = srv.access_lines(2);
    assert_eq!(lines, ["/h/page.html from-htaccess", "/page.html -"]);
}
