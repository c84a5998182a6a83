//! Debian's `setenvif.conf` and stock `combined` LogFormat on every MPM (httpd-core
//! `modules/setenvif.rs`, `modules/headers.rs`, `log/access_log.rs`): the file loads unchanged,
//! its `BrowserMatch "Mozilla/2" nokeepalive` closes a keep-alive request's connection, and
//! `%O` is exactly the number of bytes the client received (mod_logio's count).

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
