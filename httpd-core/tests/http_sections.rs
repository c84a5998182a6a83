//! Sections, `.htaccess` and virtual hosts over TCP, in Apache's merge order
//! (`request.c: ap_directory_walk, ap_file_walk, ap_location_walk`, `vhost.c`).

mod http_support;

use std::path::Path;

use http_support::*;
use httpd_core::config::{ConfigOptions, MpmIdent, load_text};

fn get(srv: &TestServer, host: &str, target: &str) -> Resp {
    parse(&srv.send(
        format!("GET {target} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n").as_bytes(),
    ))
}

const DENY_HT: &str = "<FilesMatch \"^\\.ht\">\nRequire all denied\n</FilesMatch>\n";

#[test]
fn sections_files_match_denies_dot_ht_files() {
    let srv = TestServer::with_config(|c| {
        load_with_files(
            c,
            DENY_HT,
            &[(".htpasswd", "u:x\n"), (".htaccess", "# nothing\n")],
        )
    });
    assert_eq!(get(&srv, "h", "/.htpasswd").status, 403);
    assert_eq!(get(&srv, "h", "/.htaccess").status, 403);
    assert_eq!(get(&srv, "h", "/index.html").status, 200);
    assert!(
        srv.error_log()
            .contains("AH01630: client denied by server configuration"),
        "{}",
        srv.error_log()
    );
}

#[test]
fn sections_files_match_denies_before_directory_index() {
    let srv = TestServer::with_config(|c| {
        load_with_files(
            c,
            "<Directory @ROOT@/sub>\n<Files index.html>\nRequire all denied\n</Files>\n</Directory>\n",
            &[],
        )
    });
    // sub/index.html exists, but its section denies it: mod_dir answers the subrequest's 403.
    assert_eq!(get(&srv, "h", "/sub/").status, 403);
    assert_eq!(get(&srv, "h", "/sub/index.html").status, 403);
    assert_eq!(get(&srv, "h", "/").status, 200);
}

#[test]
fn sections_directory_match_and_location_match_apply_after_plain_sections() {
    let srv = TestServer::with_config(|c| {
        load_with_files(
            c,
            "<Directory @ROOT@>\nRequire all granted\n</Directory>\n\
             <DirectoryMatch \"/sub/$\">\nRequire all denied\n</DirectoryMatch>\n\
             <Directory @ROOT@/sub>\nRequire all granted\n</Directory>\n\
             <LocationMatch \"^/open\">\nRequire all granted\n</LocationMatch>\n",
            &[("open/x.txt", "x\n")],
        )
    });
    assert_eq!(
        get(&srv, "h", "/sub/index.html").status,
        403,
        "DirectoryMatch is merged after every <Directory>"
    );
    assert_eq!(get(&srv, "h", "/open/x.txt").status, 200);
}

#[test]
fn sections_htaccess_is_read_only_where_allow_override_permits() {
    let srv = TestServer::with_config(|c| {
        load_with_files(
            c,
            "<Directory @ROOT@>\nAllowOverride AuthConfig\n</Directory>\n\
             <Directory @ROOT@/none>\nAllowOverride None\n</Directory>\n\
             <Directory @ROOT@/fileinfo>\nAllowOverride FileInfo\n</Directory>\n",
            &[
                ("deny/.htaccess", "Require all denied\n"),
                ("deny/a.txt", "a\n"),
                ("none/.htaccess", "Require all denied\n"),
                ("none/a.txt", "a\n"),
                ("bad/.htaccess", "Bogus directive\n"),
                ("bad/a.txt", "a\n"),
                ("fileinfo/.htaccess", "Require all denied\n"),
                ("fileinfo/a.txt", "a\n"),
            ],
        )
    });
    assert_eq!(get(&srv, "h", "/deny/a.txt").status, 403);
    assert_eq!(
        get(&srv, "h", "/none/a.txt").status,
        200,
        "AllowOverride None: the .htaccess is not read"
    );
    assert_eq!(get(&srv, "h", "/bad/a.txt").status, 500);
    assert_eq!(
        get(&srv, "h", "/fileinfo/a.txt").status,
        500,
        "Require needs AuthConfig"
    );
    let log = srv.error_log();
    assert!(
        log.contains("[core:alert]")
            && log.contains("bad/.htaccess: Invalid command 'Bogus', perhaps misspelled or defined by a module not included in the server configuration"),
        "{log}"
    );
    assert!(
        log.contains("fileinfo/.htaccess: Require not allowed here"),
        "{log}"
    );
}

#[test]
fn sections_vhost_by_host_with_default_fallback() {
    let srv = TestServer::with_config(|c| {
        let root = c.document_root.clone();
        let b = root.parent().unwrap().join("b");
        std::fs::create_dir_all(&b).unwrap();
        std::fs::write(b.join("index.html"), "site b\n").unwrap();
        // The main server's DocumentRoot is what a vhost without one inherits.
        let conf = format!(
            "DocumentRoot @ROOT@\n<VirtualHost *:*>\nServerName a.example\n</VirtualHost>\n\
             <VirtualHost *>\nServerName b.example\nServerAlias *.b.example\nDocumentRoot {}\n</VirtualHost>\n",
            b.display()
        );
        load_with_files(c, &conf, &[]);
    });
    assert_eq!(get(&srv, "a.example", "/").text(), "hello\n");
    assert_eq!(get(&srv, "B.Example:80", "/").text(), "site b\n");
    assert_eq!(get(&srv, "www.b.example", "/").text(), "site b\n");
    assert_eq!(
        get(&srv, "unknown.example", "/").text(),
        "hello\n",
        "the first vhost is the default"
    );
}

#[test]
fn sections_unknown_regex_feature_is_refused() {
    let e = load_text(
        "t.conf",
        "<LocationMatch \"^/(?=x)\">\n</LocationMatch>\n",
        &ConfigOptions::default(),
        &MpmIdent::EVENT,
    )
    .unwrap_err();
    assert!(
        e.to_string().ends_with("Regex could not be compiled"),
        "{e}"
    );
    assert!(Path::new("t.conf").is_relative());
}

#[test]
fn sections_error_document_message_local_and_redirect() {
    let srv = TestServer::with_config(|c| {
        load_with_files(
            c,
            "ErrorDocument 404 /missing.html\n\
             <Directory @ROOT@/text>\nErrorDocument 404 \"Nothing here, sorry\"\n</Directory>\n\
             <Directory @ROOT@/away>\nErrorDocument 404 http://example.com/notfound\n</Directory>\n\
             <Directory @ROOT@/broken>\nErrorDocument 404 /nope.html\n</Directory>\n",
            &[("missing.html", "custom 404\n")],
        )
    });
    let r = get(&srv, "h", "/zz");
    assert_eq!((r.status, r.text().as_str()), (404, "custom 404\n"));
    let r = get(&srv, "h", "/text/zz");
    assert_eq!((r.status, r.text().as_str()), (404, "Nothing here, sorry"));
    let r = get(&srv, "h", "/away/zz");
    assert_eq!(r.status, 302);
    assert_eq!(
        r.header("Location").as_deref(),
        Some("http://example.com/notfound")
    );
    let r = get(&srv, "h", "/broken/zz");
    assert_eq!(r.status, 404);
    assert!(
        r.text()
            .contains("<p>Additionally, a 404 Not Found\nerror was encountered")
    );
}

#[test]
fn sections_file_etag_per_directory() {
    let srv = TestServer::with_config(|c| {
        load_with_files(
            c,
            "<Directory @ROOT@/none>\nFileETag None\n</Directory>\n\
             <Directory @ROOT@/size>\nFileETag Size\n</Directory>\n",
            &[("none/a.txt", "a\n"), ("size/a.txt", "a\n")],
        )
    });
    assert_eq!(get(&srv, "h", "/none/a.txt").header("ETag"), None);
    let etag = get(&srv, "h", "/size/a.txt").header("ETag").unwrap();
    assert!(etag.ends_with("\"2\""), "{etag}");
    let etag = get(&srv, "h", "/index.html").header("ETag").unwrap();
    assert!(etag.contains("\"6-"), "default MTime Size: {etag}");
}

#[test]
fn sections_vhost_has_its_own_logs() {
    let mut logs = std::path::PathBuf::new();
    let srv = TestServer::with_config(|c| {
        logs = c.document_root.parent().unwrap().to_path_buf();
        let conf = format!(
            "DocumentRoot @ROOT@\n<VirtualHost *>\nServerName main.example\n</VirtualHost>\n\
             <VirtualHost *>\nServerName own.example\nCustomLog {0}/own_access \"%v %>s %U\"\n\
             ErrorLog {0}/own_error\nLogLevel info\n</VirtualHost>\n",
            logs.display()
        );
        load_with_files(c, &conf, &[]);
    });
    assert_eq!(get(&srv, "own.example", "/missing").status, 404);
    assert_eq!(get(&srv, "main.example", "/index.html").status, 200);
    let own = std::fs::read_to_string(logs.join("own_access")).unwrap_or_default();
    assert!(own.contains("404 /missing"), "{own}");
    assert!(!own.contains("/index.html"), "{own}");
    assert!(srv.access_log().contains("/index.html"));
    assert!(!srv.access_log().contains("/missing"));
    let own_err = std::fs::read_to_string(logs.join("own_error")).unwrap_or_default();
    assert!(
        own_err.contains("AH00128: File does not exist"),
        "{own_err}"
    );
}

/// mod_auth_basic in a `.htaccess` (AllowOverride AuthConfig), the commonest use of the file:
/// the merged section carries AuthType/AuthName/AuthUserFile/Require to the access check.
#[test]
fn sections_htaccess_basic_auth_applies() {
    let htpasswd =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/htpasswd/all.htpasswd");
    let htaccess = format!(
        "AuthType Basic\nAuthName lab\nAuthUserFile {}\nRequire valid-user\n",
        htpasswd.display()
    );
    let srv = TestServer::with_config(|c| {
        load_with_files(
            c,
            "LoadModule authn_core_module x.so\nLoadModule auth_basic_module x.so\n\
             LoadModule authn_file_module x.so\nLoadModule authz_user_module x.so\n\
             <Directory @ROOT@>\nAllowOverride AuthConfig\n</Directory>\n",
            &[
                ("auth/.htaccess", &htaccess),
                ("auth/a.txt", "a\n"),
                ("open.txt", "o\n"),
            ],
        )
    });
    let r = get(&srv, "h", "/auth/a.txt");
    assert_eq!(r.status, 401);
    assert!(
        r.header("WWW-Authenticate")
            .is_some_and(|v| v.contains("realm=\"lab\""))
    );
    assert_eq!(
        get(&srv, "h", "/open.txt").status,
        200,
        "outside the .htaccess directory"
    );
    // bcrypt:pw-bcrypt, as `htpasswd -B` wrote it into the fixture.
    let ok = parse(&srv.send(
        b"GET /auth/a.txt HTTP/1.1\r\nHost: h\r\nAuthorization: Basic YmNyeXB0OnB3LWJjcnlwdA==\r\nConnection: close\r\n\r\n",
    ));
    assert_eq!(ok.status, 200);
}
