//! Two name-based virtual hosts and the `.ht*` denial on every MPM (`server/vhost.c`,
//! `request.c`; httpd-core `config/vhost.rs`, `config/sections.rs`): the request's `Host`
//! picks the vhost, an unknown name gets the first one (the address's default), and Debian's
//! `<FilesMatch "^\.ht">` denies `.htaccess` and `.htpasswd` in both.

use conformance::{Mpm, ServerTest, for_each_mpm};
use std::time::Duration;

fn get(s: &conformance::Server, host: &str, path: &str) -> conformance::http::Response {
    let req = format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
    conformance::http::exchange(s.addr(), req.as_bytes(), Duration::from_secs(10))
        .unwrap()
        .response()
}

fn vhosts_select_by_host_and_deny_dot_ht(mpm: Mpm) {
    let s = ServerTest::new(mpm)
        .file("a/index.html", "site a\n")
        .file("a/.htpasswd", "u:secret\n")
        .file("b/index.html", "site b\n")
        .file("b/.htaccess", "# not served\n")
        .directive("<FilesMatch \"^\\.ht\">\n    Require all denied\n</FilesMatch>")
        .directive("<VirtualHost *>\n    ServerName a.example\n    DocumentRoot htdocs/a\n</VirtualHost>")
        .directive("<VirtualHost *>\n    ServerName b.example\n    ServerAlias *.b.example\n    DocumentRoot htdocs/b\n</VirtualHost>")
        .start();
    assert_eq!(get(&s, "a.example", "/").text(), "site a\n");
    assert_eq!(get(&s, "B.EXAMPLE:8080", "/").text(), "site b\n");
    assert_eq!(get(&s, "www.b.example", "/").text(), "site b\n");
    assert_eq!(
        get(&s, "other.example", "/").text(),
        "site a\n",
        "an unknown Host gets the first vhost"
    );
    assert_eq!(get(&s, "a.example", "/.htpasswd").status, 403);
    assert_eq!(get(&s, "b.example", "/.htaccess").status, 403);
    assert!(
        s.error_log()
            .contains("AH01630: client denied by server configuration"),
        "the denial is logged"
    );
}
for_each_mpm!(vhosts_select_by_host_and_deny_dot_ht);
