//! Debian's `setenvif.conf` and stock `combined` LogFormat on every MPM (httpd-core
//! `modules/setenvif.rs`, `modules/headers.rs`, `log/access_log.rs`): the file loads unchanged,
//! its `BrowserMatch "Mozilla/2" nokeepalive` closes a keep-alive request's connection, and
//! `%O` is exactly the number of bytes the client received (mod_logio's count). Debian's
//! `deflate.load`, `filter.load` and `deflate.conf` load unchanged and gzip a text/html page
//! with Apache's headers (`modules/deflate.rs`, `modules/filter.rs`).

use conformance::{Mpm, ServerTest, for_each_mpm};
use std::time::Duration;

const SETENVIF_CONF: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/fixtures/debian-mods/setenvif.conf"
);

fn debian_setenvif_and_combined_log(mpm: Mpm) {
    let s = ServerTest::new(mpm)
        .directive("LoadModule setenvif_module /usr/lib/apache2/modules/mod_setenvif.so")
        .directive("LoadModule headers_module /usr/lib/apache2/modules/mod_headers.so")
        .directive(&format!("Include {SETENVIF_CONF}"))
        .directive("Header always set X-Lab \"nokeepalive=%{nokeepalive}e\"")
        // Debian's apache2.conf `combined`, under the fixture's nickname: CustomLog resolves
        // the nickname when the log is opened, so the last LogFormat wins (as in Apache).
        .directive(
            r#"LogFormat "%h %l %u %t \"%r\" %>s %O \"%{Referer}i\" \"%{User-Agent}i\"" common"#,
        )
        .start();
    let ex = s.raw(
        b"GET /index.html HTTP/1.1\r\nHost: x\r\nUser-Agent: Mozilla/2\r\nReferer: http://ref/\r\n\r\n",
    );
    let r = ex.response();
    assert_eq!(r.status, 200);
    assert_eq!(r.header("X-Lab"), Some("nokeepalive=1"));
    assert!(r.closes() && ex.closed, "nokeepalive closes the connection");
    let received = ex.raw.len();
    let line = s.wait_for_access_log("\"Mozilla/2\"", Duration::from_secs(5));
    assert!(
        line.contains(&format!(
            "\"GET /index.html HTTP/1.1\" 200 {received} \"http://ref/\" \"Mozilla/2\""
        )),
        "{line}"
    );
}
for_each_mpm!(debian_setenvif_and_combined_log);

const AUTOINDEX_LOAD: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/fixtures/debian-mods/autoindex.load"
);
const AUTOINDEX_CONF: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/fixtures/debian-mods/autoindex.conf"
);

/// Debian's `autoindex.load` and `autoindex.conf`, unchanged, on every MPM (httpd-core
/// `modules/autoindex/`; the byte-for-byte comparison with Apache's page is
/// `httpd-core/tests/http_autoindex.rs`): `Options Indexes` gives the fancy table with
/// Debian's icons, IndexIgnore hides dotfiles, the query sorts, no Indexes is a 403 (AH01276).
fn debian_autoindex_listing(mpm: Mpm) {
    let s = ServerTest::new(mpm)
        .directive(&format!("Include {AUTOINDEX_LOAD}"))
        .directive(&format!("Include {AUTOINDEX_CONF}"))
        .directive("<Location /list/>")
        .directive("Options Indexes")
        .directive("</Location>")
        .file("list/a.txt", "hello\n")
        .file("list/b.bin", vec![0u8; 5000])
        .file("list/.hidden", "h\n")
        .file("closed/a.txt", "a\n")
        .start();
    let r = s.get("/list/");
    assert_eq!(r.status, 200, "{}", s.error_log());
    assert_eq!(r.header("Content-Type"), Some("text/html;charset=UTF-8"));
    let body = String::from_utf8_lossy(&r.body).into_owned();
    assert!(body.contains("<title>Index of /list</title>"), "{body}");
    assert!(
        body.contains(r#"<td valign="top"><img src="/icons/text.gif" alt="[TXT]"></td><td><a href="a.txt">a.txt</a></td>"#),
        "{body}"
    );
    assert!(body.contains(r#"<td align="right">4.9K</td>"#), "{body}");
    assert!(!body.contains(".hidden"), "IndexIgnore .??*: {body}");
    let by_size = String::from_utf8_lossy(&s.get("/list/?C=S;O=D").body).into_owned();
    assert!(
        by_size.find("b.bin").unwrap() < by_size.find("a.txt").unwrap(),
        "{by_size}"
    );
    assert_eq!(s.get("/closed/").status, 403);
    assert!(s.error_log().contains("AH01276: Cannot serve directory "));
}
for_each_mpm!(debian_autoindex_listing);
const DEBIAN_MODS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/debian-mods");

fn debian_deflate_conf_compresses_html(mpm: Mpm) {
    let page: Vec<u8> = (0..100)
        .flat_map(|i| format!("<p>line {i} of the page</p>\n").into_bytes())
        .collect();
    let s = ServerTest::new(mpm)
        .directive(&format!("Include {DEBIAN_MODS}/filter.load"))
        .directive(&format!("Include {DEBIAN_MODS}/deflate.load"))
        .directive(&format!("Include {DEBIAN_MODS}/deflate.conf"))
        .file("page.html", page.clone())
        .file("page.bin", page.clone())
        .start();
    let r = s
        .raw(b"GET /page.html HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\nConnection: close\r\n\r\n")
        .response();
    assert_eq!(r.status, 200);
    assert_eq!(r.header("Content-Encoding"), Some("gzip"));
    assert_eq!(r.header("Vary"), Some("Accept-Encoding"));
    assert!(r.header("ETag").is_some_and(|e| e.ends_with("-gzip\"")));
    let mut plain = Vec::new();
    std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&r.body[..]), &mut plain)
        .expect("a gzip body");
    assert_eq!(plain, page);
    // A type deflate.conf does not list: untouched.
    let r = s
        .raw(b"GET /page.bin HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\nConnection: close\r\n\r\n")
        .response();
    assert_eq!(
        (r.header("Content-Encoding"), r.header("Vary")),
        (None, None)
    );
    assert_eq!(r.body, page);
}
for_each_mpm!(debian_deflate_conf_compresses_html);
