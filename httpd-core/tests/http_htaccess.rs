//! `.htaccess` lines that change the answer rather than the access check: core's
//! `ErrorDocument`, mod_dir's `DirectoryIndex`, mod_alias's `Redirect*` (its `fixup_redir`),
//! and mod_autoindex's icons chosen from the entry's own mod_mime mapping. The expected
//! answers are Apache 2.4.71's for the same configuration and files (captured with
//! `/usr/sbin/apache2`; only the port differs).

mod http_support;

use http_support::*;

fn get(srv: &TestServer, target: &str) -> Resp {
    parse(
        &srv.send(
            format!("GET {target} HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n").as_bytes(),
        ),
    )
}

/// FileInfo and Indexes below DocumentRoot; `none` reads nothing, `idx` only Indexes, `fi`
/// only FileInfo.
const OVERRIDES: &str = "<Directory @ROOT@>\nAllowOverride FileInfo Indexes\n</Directory>\n\
    <Directory @ROOT@/none>\nAllowOverride None\n</Directory>\n\
    <Directory @ROOT@/idx>\nAllowOverride Indexes\n</Directory>\n\
    <Directory @ROOT@/fi>\nAllowOverride FileInfo\n</Directory>\n";

#[test]
fn htaccess_error_document_message_local_and_remote_over_the_servers() {
    let srv = TestServer::with_config(|c| {
        load_with_files(
            c,
            &format!("ErrorDocument 404 \"server level\n{OVERRIDES}"),
            &[
                ("err404.html", "err404\n"),
                ("a/.htaccess", "ErrorDocument 404 \"gone away\n"),
                ("b/.htaccess", "ErrorDocument 404 /err404.html\n"),
                ("c/.htaccess", "ErrorDocument 404 http://example.com/nf\n"),
                ("b/in/.htaccess", "ErrorDocument 404 default\n"),
                ("none/.htaccess", "ErrorDocument 404 \"not read\"\n"),
                ("idx/.htaccess", "ErrorDocument 404 \"not allowed\"\n"),
            ],
        )
    });
    let r = get(&srv, "/a/nope");
    assert_eq!((r.status, r.text()), (404, "gone away".to_string()));
    let r = get(&srv, "/b/nope");
    assert_eq!((r.status, r.text()), (404, "err404\n".to_string()));
    assert_eq!(r.header("Content-Type").as_deref(), Some("text/html"));
    let r = get(&srv, "/c/nope");
    assert_eq!(r.status, 302);
    assert_eq!(
        r.header("Location").as_deref(),
        Some("http://example.com/nf")
    );
    // `default` below b/ gives back the canned page, not the server's message.
    let r = get(&srv, "/b/in/nope");
    assert_eq!(r.status, 404);
    assert!(r.text().contains("<h1>Not Found</h1>"), "{}", r.text());
    // Elsewhere, and where AllowOverride None keeps the file unread: the server's.
    assert_eq!(get(&srv, "/nope").text(), "server level");
    assert_eq!(get(&srv, "/none/nope").text(), "server level");
    // AllowOverride without FileInfo: Apache's "not allowed here", a 500.
    assert_eq!(get(&srv, "/idx/nope").status, 500);
    let log = srv.error_log();
    assert!(
        log.contains("idx/.htaccess: ErrorDocument not allowed here"),
        "{log}"
    );
}

#[test]
fn htaccess_and_sections_directory_index_per_directory() {
    let srv = TestServer::with_config(|c| {
        load_with_files(
            c,
            &format!(
                "LoadModule autoindex_module x.so\n{OVERRIDES}\
                 <Directory @ROOT@/di>\nDirectoryIndex home.html\n</Directory>\n\
                 <Location /loc>\nDirectoryIndex lochome.html\n</Location>\n"
            ),
            &[
                ("di/index.html", "di index\n"),
                ("di/home.html", "home\n"),
                ("di/sub/index.html", "di sub index\n"),
                ("di/sub/home.html", "di sub home\n"),
                ("loc/index.html", "loc index\n"),
                ("loc/lochome.html", "lochome\n"),
                ("ht/index.html", "ht index\n"),
                ("ht/start.html", "start\n"),
                ("ht/.htaccess", "DirectoryIndex start.html\n"),
                ("off/index.html", "off index\n"),
                ("off/.htaccess", "DirectoryIndex disabled\n"),
                ("none/index.html", "none index\n"),
                ("none/start.html", "start\n"),
                ("none/.htaccess", "DirectoryIndex start.html\n"),
                ("fi/index.html", "fi index\n"),
                ("fi/.htaccess", "DirectoryIndex x.html\n"),
            ],
        )
    });
    assert_eq!(get(&srv, "/di/").text(), "home\n");
    assert_eq!(get(&srv, "/di/sub/").text(), "di sub home\n", "inherited");
    assert_eq!(get(&srv, "/loc/").text(), "lochome\n");
    assert_eq!(get(&srv, "/ht/").text(), "start\n");
    assert_eq!(get(&srv, "/").status, 200);
    assert_eq!(get(&srv, "/none/").text(), "none index\n", "not read");
    // disabled: no index, and no Options Indexes: mod_autoindex's 403.
    assert_eq!(get(&srv, "/off/").status, 403);
    assert_eq!(get(&srv, "/fi/").status, 500);
    let log = srv.error_log();
    assert!(
        log.contains("off/: No matching DirectoryIndex () found"),
        "{log}"
    );
    assert!(
        log.contains("fi/.htaccess: DirectoryIndex not allowed here"),
        "{log}"
    );
}

#[test]
fn htaccess_and_directory_redirects_in_the_fixup_phase() {
    let srv = TestServer::with_config(|c| {
        load_with_files(
            c,
            &format!(
                "LoadModule alias_module x.so\n{OVERRIDES}\
                 <Directory @ROOT@/d>\nRedirect /d/old http://example.com/d\n</Directory>\n"
            ),
            &[
                (
                    "r/.htaccess",
                    "Redirect /r/old http://example.com/new\n\
                     RedirectMatch 301 ^/r/m(.*)$ /target$1\n\
                     RedirectPermanent /r/perm /elsewhere\n\
                     Redirect gone /r/gone\n\
                     RedirectTemp /r/tmp http://example.com/t?x=1\n",
                ),
                ("r/in/.htaccess", "Redirect seeother /r/in/x /seen\n"),
                ("r/keep.txt", "keep\n"),
                ("d/a.txt", "a\n"),
                ("none/.htaccess", "Redirect /none http://example.com/\n"),
                ("none/a.txt", "a\n"),
                ("idx/.htaccess", "Redirect /idx http://example.com/\n"),
                ("idx/a.txt", "a\n"),
            ],
        )
    });
    let r = get(&srv, "/r/old/x?q=1");
    assert_eq!(r.status, 302);
    assert_eq!(
        r.header("Location").as_deref(),
        Some("http://example.com/new/x?q=1")
    );
    let r = get(&srv, "/r/mabc");
    assert_eq!(r.status, 301);
    // A `/path` target made absolute from the Host (no port in it: port 80, not shown).
    assert_eq!(r.header("Location").as_deref(), Some("http://h/targetabc"));
    assert_eq!(
        get(&srv, "/r/perm").header("Location").as_deref(),
        Some("http://h/elsewhere")
    );
    let r = get(&srv, "/r/gone");
    assert_eq!(r.status, 410);
    assert!(r.text().contains("<h1>Gone</h1>"), "{}", r.text());
    let r = get(&srv, "/r/tmp?y=2");
    assert_eq!(
        r.header("Location").as_deref(),
        Some("http://example.com/t?x=1")
    );
    // An inner .htaccess adds its entries before the outer ones.
    let r = get(&srv, "/r/in/x");
    assert_eq!(r.status, 303);
    assert!(r.text().contains("The answer to your request is located"));
    assert_eq!(get(&srv, "/r/keep.txt").text(), "keep\n");
    let r = get(&srv, "/d/old");
    assert_eq!(r.status, 302, "Redirect inside <Directory>");
    assert_eq!(get(&srv, "/d/a.txt").status, 200);
    assert_eq!(get(&srv, "/none/a.txt").status, 200, "not read");
    assert_eq!(get(&srv, "/idx/a.txt").status, 500, "needs FileInfo");
}

#[test]
fn htaccess_autoindex_icons_follow_the_entrys_mime_mapping() {
    let srv = TestServer::with_config(|c| {
        load_with_files(
            c,
            "LoadModule autoindex_module x.so\n\
             <Directory @ROOT@>\nAllowOverride FileInfo Indexes\nOptions Indexes\n</Directory>\n\
             IndexOptions FancyIndexing\n\
             AddIconByType /icons/foo.gif text/x-foo\n\
             AddIcon /icons/txt.gif .txt\n\
             DefaultIcon /icons/unknown.gif\n\
             <Directory @ROOT@/sec>\nAddType text/x-foo .bar\n</Directory>\n",
            &[
                ("ai/a.foo", "x\n"),
                ("ai/b.gz", "x\n"),
                ("ai/c.txt", "x\n"),
                (
                    "ai/.htaccess",
                    "AddType text/x-foo .foo\nAddEncoding x-gzip .gz\n\
                     AddIconByEncoding /icons/zip.gif x-gzip\n",
                ),
                ("sec/d.bar", "x\n"),
                ("plain/a.foo", "x\n"),
            ],
        )
    });
    let t = get(&srv, "/ai/").text();
    assert!(
        t.contains("<img src=\"/icons/foo.gif\" alt=\"[   ]\"> <a href=\"a.foo\">"),
        "AddType from .htaccess: {t}"
    );
    assert!(
        t.contains("<img src=\"/icons/zip.gif\" alt=\"[   ]\"> <a href=\"b.gz\">"),
        "AddEncoding from .htaccess: {t}"
    );
    assert!(t.contains("<img src=\"/icons/txt.gif\" alt=\"[   ]\"> <a href=\"c.txt\">"));
    let t = get(&srv, "/sec/").text();
    assert!(
        t.contains("<img src=\"/icons/foo.gif\" alt=\"[   ]\"> <a href=\"d.bar\">"),
        "AddType from <Directory>: {t}"
    );
    let t = get(&srv, "/plain/").text();
    assert!(
        t.contains("<img src=\"/icons/unknown.gif\" alt=\"[   ]\"> <a href=\"a.foo\">"),
        "no mapping here: {t}"
    );
}

fn get_with(srv: &TestServer, target: &str, extra: &str) -> Resp {
    let mut s = srv.connect();
    std::io::Write::write_all(
        &mut s,
        format!("GET {target} HTTP/1.1\r\nHost: h\r\n{extra}\r\n").as_bytes(),
    )
    .unwrap();
    read_response(&mut s, false).expect("a response")
}

/// mod_mime's `AddOutputFilter DEFLATE .ext` (server and `.htaccess`), `RemoveOutputFilter`
/// below it; the headers are Apache's for the same files (`Vary`, the `-gzip` ETag).
#[test]
fn htaccess_add_output_filter_deflate_per_extension() {
    use std::io::Read;
    let page = "hello world ".repeat(200);
    let srv = TestServer::with_config(|c| {
        load_with_files(
            c,
            &format!(
                "LoadModule deflate_module x.so\nLoadModule filter_module x.so\n{OVERRIDES}\
                 AddOutputFilter DEFLATE .css\n"
            ),
            &[
                ("df/.htaccess", "AddOutputFilter DEFLATE .txt\n"),
                ("df/in/.htaccess", "RemoveOutputFilter .txt\n"),
                ("df/a.txt", &page),
                ("df/c.html", &page),
                ("df/in/b.txt", &page),
                ("df2/s.css", &page),
                ("df2/t.txt", &page),
                ("idx/.htaccess", "AddOutputFilter DEFLATE .txt\n"),
                ("idx/a.txt", &page),
            ],
        )
    });
    let gz = "Accept-Encoding: gzip\r\n";
    for target in ["/df/a.txt", "/df2/s.css"] {
        let r = get_with(&srv, target, gz);
        assert_eq!(r.status, 200);
        assert_eq!(
            r.header("Content-Encoding").as_deref(),
            Some("gzip"),
            "{target}"
        );
        assert_eq!(r.header("Vary").as_deref(), Some("Accept-Encoding"));
        assert!(r.header("ETag").unwrap().ends_with("-gzip\""));
        let mut plain = String::new();
        flate2::read::GzDecoder::new(&r.body[..])
            .read_to_string(&mut plain)
            .unwrap();
        assert_eq!(plain, page);
    }
    for target in ["/df/c.html", "/df/in/b.txt", "/df2/t.txt"] {
        let r = get_with(&srv, target, gz);
        assert_eq!(r.header("Content-Encoding"), None, "{target}");
        assert_eq!(r.body, page.as_bytes());
    }
    // Without Accept-Encoding: the file as it is, with Vary.
    let r = get_with(&srv, "/df/a.txt", "");
    assert_eq!(r.body, page.as_bytes());
    assert_eq!(r.header("Vary").as_deref(), Some("Accept-Encoding"));
    // A range of the compressed body, as Apache's byterange filter after DEFLATE.
    let r = get_with(
        &srv,
        "/df/a.txt",
        "Accept-Encoding: gzip\r\nRange: bytes=0-9\r\n",
    );
    assert_eq!(r.status, 206);
    assert_eq!(r.body.len(), 10);
    assert_eq!(r.body[..2], [0x1f, 0x8b]);
    // AllowOverride without FileInfo: "not allowed here".
    assert_eq!(get_with(&srv, "/idx/a.txt", gz).status, 500);
}
