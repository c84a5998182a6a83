//! Access control and Basic authentication over TCP, configured through the real config
//! loader: mod_authz_host (`Require ip`), mod_access_compat (`Order`/`Allow`/`Deny`/`Satisfy`),
//! mod_auth_basic + mod_authn_file with `htpasswd` files of every format (fixtures made by
//! apache2-utils' `htpasswd -B/-m/-s/-d/-2/-5/-p`), mod_authz_user (`valid-user`, `user`);
//! mod_setenvif and mod_env with the access log's `%{VAR}e` and `Allow from env=`; mod_headers.

mod http_support;

use base64::Engine;
use http_support::*;
use httpd_core::config::{MpmIdent, ServerConfig};

const HTPASSWD: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/htpasswd/all.htpasswd"
);

const MODULES: &str = "LoadModule authn_core_module x.so\nLoadModule auth_basic_module x.so\n\
     LoadModule authn_file_module x.so\nLoadModule authz_user_module x.so\n\
     LoadModule access_compat_module x.so\nLoadModule setenvif_module x.so\nLoadModule env_module x.so\nLoadModule headers_module x.so\n";

fn load(text: &str) -> Result<ServerConfig, String> {
    parse_conf(text, &MpmIdent::PREFORK)
}

/// A server whose sections come from `sections` (with `@DOCROOT@` and `@HTPASSWD@` filled in).
fn server(sections: &str) -> TestServer {
    server_logging(sections, "%h %l %u %t \"%r\" %>s %b")
}

/// As [`server`], with this access-log format.
fn server_logging(sections: &str, format: &str) -> TestServer {
    let srv = TestServer::with_config(|c| {
        c.custom_logs[0].format = format.to_string();
        let docroot = c.document_root.display().to_string();
        let text = format!(
            "Listen 127.0.0.1:1\n{MODULES}{}",
            sections
                .replace("@DOCROOT@", &docroot)
                .replace("@HTPASSWD@", HTPASSWD)
        );
        adopt_sections(c, load(&text).unwrap());
    });
    for d in ["private", "deny", "ip", "any", "bob"] {
        std::fs::create_dir_all(srv.path(&format!("htdocs/{d}"))).unwrap();
        std::fs::write(
            srv.path(&format!("htdocs/{d}/index.html")),
            format!("{d}\n"),
        )
        .unwrap();
    }
    srv
}

fn get(srv: &TestServer, target: &str, cred: Option<&str>) -> Resp {
    get_with(srv, target, cred, "")
}

fn get_with(srv: &TestServer, target: &str, cred: Option<&str>, extra: &str) -> Resp {
    let auth = cred
        .map(|c| {
            format!(
                "Authorization: Basic {}\r\n",
                base64::engine::general_purpose::STANDARD.encode(c)
            )
        })
        .unwrap_or_default();
    parse(
        &srv.send(
            format!("GET {target} HTTP/1.1\r\nHost: h\r\nConnection: close\r\n{auth}{extra}\r\n")
                .as_bytes(),
        ),
    )
}

const PRIVATE: &str = "<Directory @DOCROOT@/private>\n AuthType Basic\n AuthName \"Lab area\"\n \
     AuthBasicProvider file\n AuthUserFile @HTPASSWD@\n Require valid-user\n</Directory>\n\
     <Directory @DOCROOT@/bob>\n AuthType Basic\n AuthName bob\n AuthUserFile @HTPASSWD@\n Require user apr1\n</Directory>\n";

#[test]
fn auth_basic_every_htpasswd_format_and_the_401s() {
    let srv = server(PRIVATE);
    let r = get(&srv, "/private/", None);
    assert_eq!(r.status, 401);
    assert_eq!(
        r.header("WWW-Authenticate").as_deref(),
        Some("Basic realm=\"Lab area\"")
    );
    for (cred, user) in [
        ("bcrypt:pw-bcrypt", "bcrypt"),
        ("apr1:pw-apr1", "apr1"),
        ("sha1:pw-sha1", "sha1"),
        ("des:pwdes", "des"),
        ("sha256:pw-sha256", "sha256"),
        ("sha512:pw-sha512", "sha512"),
    ] {
        let r = get(&srv, "/private/", Some(cred));
        assert_eq!((r.status, r.text().as_str()), (200, "private\n"), "{user}");
    }
    // Negative: wrong password, unknown user, plaintext (never compared on Unix).
    assert_eq!(get(&srv, "/private/", Some("apr1:wrong")).status, 401);
    assert_eq!(get(&srv, "/private/", Some("mallory:x")).status, 401);
    assert_eq!(get(&srv, "/private/", Some("plain:pw-plain")).status, 401);
    // `Require user apr1`: another valid user is refused with a new challenge.
    let r = get(&srv, "/bob/", Some("sha1:pw-sha1"));
    assert_eq!(r.status, 401);
    assert_eq!(
        r.header("WWW-Authenticate").as_deref(),
        Some("Basic realm=\"bob\"")
    );
    assert_eq!(get(&srv, "/bob/", Some("apr1:pw-apr1")).status, 200);
    let log = srv.error_log();
    assert!(log.contains("[auth_basic:error]"), "{log}");
    assert!(
        log.contains(
            "AH01617: user apr1: authentication failure for \"/private/\": Password Mismatch"
        ),
        "{log}"
    );
    assert!(
        log.contains("AH01618: user mallory not found: /private/"),
        "{log}"
    );
    assert!(
        log.contains("AH01631: user sha1: authorization failure for \"/bob/\": "),
        "{log}"
    );
    // %u: the authenticated user, and the user sent with a failed password too.
    let lines = srv.access_lines(12);
    assert!(lines[0].starts_with("127.0.0.1 - - ["), "{}", lines[0]);
    assert!(lines[1].starts_with("127.0.0.1 - bcrypt ["), "{}", lines[1]);
    assert!(
        lines[7].starts_with("127.0.0.1 - apr1 [") && lines[7].contains("\" 401 "),
        "{}",
        lines[7]
    );
}

#[test]
fn access_compat_and_require_ip_deny() {
    let srv = server(
        "<Directory @DOCROOT@/deny>\n Order Deny,Allow\n Deny from all\n</Directory>\n\
         <Directory @DOCROOT@/ip>\n Require ip 10.0.0.0/8 192.168\n</Directory>\n\
         <Directory @DOCROOT@/any>\n AuthType Basic\n AuthName any\n AuthUserFile @HTPASSWD@\n \
         Require valid-user\n Order Allow,Deny\n Allow from 127.0.0.1\n Satisfy Any\n</Directory>\n\
         <Location /deny/open>\n Order Allow,Deny\n Allow from 127.0.0\n</Location>\n",
    );
    assert_eq!(get(&srv, "/deny/", None).status, 403);
    // The last section using mod_access_compat replaces the rules whole.
    assert_eq!(get(&srv, "/deny/open", None).status, 404);
    assert_eq!(get(&srv, "/ip/", None).status, 403);
    // Satisfy Any: the Allow line lets 127.0.0.1 in without a password.
    assert_eq!(get(&srv, "/any/", None).status, 200);
    assert_eq!(get(&srv, "/index.html", None).status, 200);
    let log = srv.error_log();
    assert!(
        log.contains("[access_compat:error]")
            && log.contains("AH01797: client denied by server configuration: "),
        "{log}"
    );
    assert!(
        log.contains("AH01630: client denied by server configuration: "),
        "{log}"
    );
}

#[test]
fn auth_directives_need_their_modules_and_valid_arguments() {
    let bare = "Listen 127.0.0.1:1\n<Directory /x>\n";
    let e = load(&format!("{bare}AuthType Basic\n</Directory>\n")).unwrap_err();
    assert!(e.contains("Invalid command 'AuthType'"), "{e}");
    let e = load(&format!("{bare}Order deny,allow\n</Directory>\n")).unwrap_err();
    assert!(e.contains("Invalid command 'Order'"), "{e}");
    let e = load(&format!("{bare}Require valid-user\n</Directory>\n")).unwrap_err();
    assert!(e.contains("Unknown Authz provider: valid-user"), "{e}");
    let with = |body: &str| {
        load(&format!(
            "Listen 127.0.0.1:1\n{MODULES}<Directory /x>\n{body}\n</Directory>\n"
        ))
    };
    for (line, message) in [
        ("Require ip 10.1.2.300", "appears to be invalid"),
        (
            "Allow 10.0.0.1",
            "allow and deny must be followed by 'from'",
        ),
        ("Order sideways", "unknown order"),
        ("AuthBasicProvider dbm", "Unknown Authn provider: dbm"),
        ("AuthType Digest", "not supported"),
        (
            "SetEnvIf User-Agent (",
            "SetEnvIf regex could not be compiled.",
        ),
        (
            "BrowserMatch ^x",
            "Missing envariable expression for BrowserMatch",
        ),
    ] {
        let e = with(line).unwrap_err();
        assert!(e.contains(message), "{line}: {e}");
    }
    let e = load(&format!("Listen 127.0.0.1:1\n{MODULES}AuthName x\n")).unwrap_err();
    assert!(
        e.contains("AuthName not allowed here") || e.contains("not allowed"),
        "{e}"
    );
    let c = with(
        "Require ip 10.1 ::1\nRequire host example.org\nRequire forward-dns localhost\nSatisfy any",
    )
    .unwrap();
    assert_eq!(c.directories[0].require.as_ref().map(Vec::len), Some(3));
}

#[test]
fn setenvif_and_env_reach_the_log_and_allow_from_env() {
    let srv = server_logging(
        "SetEnvIf Request_URI \\.gif$ image=$0\nBrowserMatchNoCase ^curl is_curl\n\
         SetEnvIf X-Lab ^(a+)$ lab=$1\nSetEnv stage outer\n\
         <Directory @DOCROOT@/deny>\n Order Deny,Allow\n Deny from all\n Allow from env=is_curl\n \
         SetEnv stage inner\n</Directory>\n\
         <Directory @DOCROOT@/ip>\n UnsetEnv stage\n</Directory>\n",
        "%>s %{image}e %{is_curl}e %{lab}e %{stage}e",
    );
    std::fs::write(srv.path("htdocs/x.gif"), "GIF").unwrap();
    assert_eq!(get_with(&srv, "/x.gif", None, "X-Lab: aaa\r\n").status, 200);
    // No match anywhere: every variable unset.
    assert_eq!(
        get_with(&srv, "/index.html", None, "X-Lab: b\r\n").status,
        200
    );
    // Allow from env= sees mod_setenvif's variables (set before access control).
    assert_eq!(
        get_with(&srv, "/deny/", None, "User-Agent: Curl/8\r\n").status,
        200
    );
    assert_eq!(
        get_with(&srv, "/deny/", None, "User-Agent: wget\r\n").status,
        403
    );
    assert_eq!(get_with(&srv, "/ip/", None, "").status, 200);
    let lines = srv.access_lines(5);
    assert_eq!(
        lines,
        vec![
            "200 .gif - aaa outer",
            "200 - - - outer",
            "200 - 1 - inner",
            "403 - - - -",
            "200 - - - -",
        ]
    );
}

/// The order and content Apache 2.4.71 sends for the same lines (checked side by side):
/// `always` first, the handler's fields, `Content-Length`, then what `onsuccess` added; an
/// edited field moves to the end; error pages keep only `always`.
#[test]
fn header_onsuccess_always_edit_echo_and_error_pages() {
    let srv = server(
        "SetEnvIf User-Agent ^lab is_lab\nHeader set X-Lab \"on %{is_lab}e\"\n\
         Header always set X-Always yes\nHeader append X-Lab more\n\
         Header edit ETag ^\"(.*)\"$ W/\"$1\"\nHeader unset Accept-Ranges\n\
         Header set X-Only-Lab 1 env=is_lab\nHeader set X-Not-Lab 1 env=!is_lab\n\
         Header merge Cache-Control no-cache\nHeader merge Cache-Control no-cache\n\
         Header echo ^X-Echo\nHeader always unset ETag\n\
         <Directory @DOCROOT@/ip>\n Header always set X-Dir ip\n</Directory>\n",
    );
    let names = |r: &Resp| -> Vec<String> {
        r.head
            .lines()
            .skip(1)
            .filter_map(|l| l.split_once(':'))
            .map(|(n, v)| format!("{n}:{v}"))
            .filter(|l| !l.starts_with("Date:") && !l.starts_with("Server:"))
            .collect()
    };
    let r = get_with(
        &srv,
        "/index.html",
        None,
        "User-Agent: lab/1\r\nX-Echo-Me: hi\r\n",
    );
    let got = names(&r);
    assert_eq!(got[0], "X-Always: yes");
    assert!(got[1].starts_with("Last-Modified: "), "{got:?}");
    assert_eq!(got[2], "Content-Length: 6");
    assert_eq!(got[3], "X-Lab: on 1, more");
    assert!(got[4].starts_with("ETag: W/\""), "{got:?}");
    assert_eq!(
        got[5..],
        [
            "X-Only-Lab: 1",
            "Cache-Control: no-cache",
            "X-Echo-Me: hi",
            "Connection: close",
            "Content-Type: text/html"
        ]
    );
    // An error page keeps only `always` lines; a section's lines apply to its requests.
    let r = get(&srv, "/nothere", None);
    assert_eq!(names(&r)[0], "X-Always: yes");
    assert!(r.header("X-Lab").is_none() && r.header("X-Not-Lab").is_none());
    let r = get(&srv, "/ip/", None);
    assert_eq!(r.header("X-Dir").as_deref(), Some("ip"));
    assert_eq!(r.header("X-Not-Lab").as_deref(), Some("1"));
    // RequestHeader is mod_headers' too (http_deflate.rs checks what it does); `echo` is not.
    assert!(
        load(&format!(
            "Listen 127.0.0.1:1\n{MODULES}RequestHeader set X 1\n"
        ))
        .is_ok()
    );
    let e = load(&format!(
        "Listen 127.0.0.1:1\n{MODULES}RequestHeader echo ^X\n"
    ))
    .unwrap_err();
    assert!(e.contains("echo not valid for RequestHeader"), "{e}");
}
