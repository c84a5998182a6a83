//! mod_mime and mod_negotiation over TCP (`mod_mime.c: find_ct`, `mod_negotiation.c:
//! handle_multi`, `handle_map_file`), with the expected bytes taken from Apache 2.4.71 runs
//! on the same files and directives.

mod http_support;

use http_support::*;
use httpd_core::config::{ConfigOptions, MpmIdent, ServerConfig, load_text};

/// The test server with `conf` (`@ROOT@` = its DocumentRoot) as its whole configuration,
/// keeping the harness's paths and logs; `files` replace the harness's under the DocumentRoot.
fn server(conf: &str, files: &[(&str, &[u8])]) -> TestServer {
    TestServer::with_config(|c| {
        let root = c.document_root.clone();
        // The harness's index.html would hide the index.html.* variants.
        std::fs::remove_file(root.join("index.html")).unwrap();
        for (rel, bytes) in files {
            let p = root.join(rel);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, bytes).unwrap();
        }
        let opts = ConfigOptions {
            skip_document_root_check: true,
            ..ConfigOptions::default()
        };
        let text = conf.replace("@ROOT@", &root.display().to_string());
        let parsed = load_text("negotiation.conf", &text, &opts, &MpmIdent::PREFORK).unwrap();
        *c = ServerConfig {
            document_root: root,
            error_log: c.error_log.clone(),
            log_level: c.log_level.clone(),
            custom_logs: c.custom_logs.clone(),
            server_root: c.server_root.clone(),
            ..parsed
        };
    })
}

fn get(srv: &TestServer, target: &str, headers: &[(&str, &str)]) -> Resp {
    let extra: String = headers
        .iter()
        .map(|(k, v)| format!("{k}: {v}\r\n"))
        .collect();
    parse(&srv.send(
        format!("GET {target} HTTP/1.1\r\nHost: h\r\nConnection: close\r\n{extra}\r\n").as_bytes(),
    ))
}

const MIME: &str = "LoadModule negotiation_module /usr/lib/apache2/modules/mod_negotiation.so
AddType text/html .html
AddType application/x-gzip .gz .tgz
AddLanguage en .en
AddLanguage es .es
RemoveType es
AddLanguage de .de
AddLanguage fr .fr
AddCharset UTF-8 .utf8
AddEncoding gzip .gz
AddHandler type-map var
LanguagePriority en es de
ForceLanguagePriority Prefer Fallback
";

fn variants() -> Vec<(&'static str, &'static [u8])> {
    vec![
        ("index.html.en", b"english\n"),
        ("index.html.es", b"espanol!\n"),
        ("index.html.de", b"deutsch\n"),
        ("foo.html", b"<html>foo</html>\n"),
        ("foo.html.gz", b"gzipdata-longer"),
        ("page.html.utf8", b"utf8 page\n"),
        ("img.png", b"a\n"),
        ("img.gif", b"bb\n"),
        (
            "inline.var",
            b"Content-language: en\nContent-type: text/html; charset=UTF-8\nBody:----------en--\n<html>English</html>\n----------en--\n\nContent-language: es\nContent-type: text/html; charset=UTF-8\nBody:----------es--\n<html>Cuerpo</html>\n----------es--\n",
        ),
    ]
}

fn multiviews(extra: &str) -> TestServer {
    let conf = format!(
        "{MIME}<Directory @ROOT@>\nOptions MultiViews\nAllowOverride FileInfo\n</Directory>\n{extra}"
    );
    server(&conf, &variants())
}

#[test]
fn multiviews_picks_by_accept_language_with_apaches_fields() {
    let srv = multiviews("");
    let r = get(&srv, "/index.html", &[("Accept-Language", "es")]);
    assert_eq!(r.status, 200);
    assert_eq!(r.text(), "espanol!\n");
    assert_eq!(
        r.header("Content-Location").as_deref(),
        Some("index.html.es")
    );
    assert_eq!(
        r.header("Vary").as_deref(),
        Some("negotiate,accept-language")
    );
    assert_eq!(r.header("TCN").as_deref(), Some("choice"));
    assert_eq!(r.header("Content-Language").as_deref(), Some("es"));
    assert_eq!(r.header("Content-Type").as_deref(), Some("text/html"));
    // Apache's ETag with a variant-list validator has no closing quote.
    let etag = r.header("ETag").unwrap();
    assert!(etag.contains(';') && !etag.ends_with('"'), "{etag}");
    // Fields in Apache's order: the negotiation's first, the content's last.
    let names: Vec<&str> = r
        .head
        .lines()
        .skip(3)
        .filter(|l| !l.is_empty())
        .filter_map(|l| l.split(':').next())
        .collect();
    assert_eq!(names[..3], ["Content-Location", "Vary", "TCN"]);
    assert_eq!(
        names[names.len() - 2..],
        ["Content-Type", "Content-Language"]
    );
    // No Accept-Language: LanguagePriority; an unavailable one: Fallback.
    assert_eq!(get(&srv, "/index.html", &[]).text(), "english\n");
    assert_eq!(
        get(&srv, "/index", &[("Accept-Language", "fr")]).text(),
        "english\n"
    );
    // DirectoryIndex index.html resolved by MultiViews.
    let r = get(&srv, "/", &[("Accept-Language", "es;q=0.5, de")]);
    assert_eq!((r.status, r.text().as_str()), (200, "deutsch\n"));
    assert_eq!(
        r.header("Content-Location").as_deref(),
        Some("index.html.de")
    );
}

#[test]
fn multiviews_encoding_charset_and_406() {
    let srv = multiviews("");
    let r = get(&srv, "/foo", &[("Accept-Encoding", "gzip")]);
    assert_eq!(r.text(), "gzipdata-longer");
    assert_eq!(r.header("Content-Encoding").as_deref(), Some("gzip"));
    assert_eq!(
        r.header("Content-Type").as_deref(),
        Some("application/x-gzip")
    );
    assert_eq!(
        r.header("Vary").as_deref(),
        Some("negotiate,accept,accept-encoding")
    );
    assert_eq!(get(&srv, "/foo", &[]).text(), "<html>foo</html>\n");
    let r = get(&srv, "/page", &[]);
    assert_eq!(
        r.header("Content-Type").as_deref(),
        Some("text/html; charset=utf-8")
    );
    // 406 with Apache's page, the variant list and Alternates.
    let r = get(&srv, "/img", &[("Accept", "text/plain")]);
    assert_eq!(r.status, 406);
    assert_eq!(
        r.header("Alternates").as_deref(),
        Some(
            "{\"img.gif\" 1 {type image/gif} {length 3}}, {\"img.png\" 1 {type image/png} {length 2}}"
        )
    );
    assert_eq!(r.header("TCN").as_deref(), Some("list"));
    assert!(r.text().contains(
        "<p>An appropriate representation of the requested resource could not be found on this server.</p>\nAvailable variants:\n<ul>\n<li><a href=\"img.gif\">img.gif</a> , type image/gif</li>\n"
    ), "{}", r.text());
    assert!(srv.error_log().contains("AH00690: no acceptable variant: "));
    // A client that does transparent negotiation gets 300.
    let r = get(
        &srv,
        "/img",
        &[("Accept", "image/*"), ("Negotiate", "trans")],
    );
    assert_eq!(r.status, 300);
    assert!(
        r.text()
            .contains("<h1>Multiple Choices</h1>\nAvailable variants:\n")
    );
    let r = get(
        &srv,
        "/img",
        &[("Accept", "image/gif;q=0.4, image/png;q=0.8")],
    );
    assert_eq!(r.text(), "a\n");
}

#[test]
fn multiviews_off_or_module_not_loaded_is_a_404() {
    let srv = server(
        &format!("{MIME}<Directory @ROOT@>\nOptions None\n</Directory>\n"),
        &variants(),
    );
    assert_eq!(get(&srv, "/index", &[]).status, 404);
    // The file itself is served with its metadata (AddLanguage, AddEncoding).
    let r = get(&srv, "/foo.html.gz", &[]);
    assert_eq!(r.header("Content-Encoding").as_deref(), Some("gzip"));
    let r = get(&srv, "/index.html.de", &[]);
    assert_eq!(r.header("Content-Language").as_deref(), Some("de"));
    assert_eq!(r.header("Vary"), None);
}

#[test]
fn type_map_inline_bodies() {
    let srv = multiviews("");
    let r = get(&srv, "/inline.var", &[("Accept-Language", "es")]);
    assert_eq!(r.status, 200);
    assert_eq!(r.text(), "<html>Cuerpo</html>\n");
    assert_eq!(r.header("Vary").as_deref(), Some("accept-language"));
    assert_eq!(
        r.header("Content-Type").as_deref(),
        Some("text/html; charset=utf-8")
    );
    assert_eq!(r.header("Content-Language").as_deref(), Some("es"));
    assert_eq!(r.header("TCN"), None, "an inline body is not transparent");
    // HTTP/1.0: not cacheable (Expires).
    let r = parse(&srv.send(b"GET /inline.var HTTP/1.0\r\nAccept-Language: en\r\n\r\n"));
    assert_eq!(r.text(), "<html>English</html>\n");
    assert!(r.header("Expires").is_some());
}

#[test]
fn htaccess_fileinfo_applies_mime_lines_and_none_ignores_them() {
    let conf = format!(
        "{MIME}<Directory @ROOT@/info>\nAllowOverride FileInfo\n</Directory>\n<Directory @ROOT@/none>\nAllowOverride None\n</Directory>\n"
    );
    let ht: &[u8] = b"AddLanguage fr .txt\nAddCharset koi8-r .txt\nDefaultLanguage it\nForceType text/x-forced\n";
    let srv = server(
        &conf,
        &[
            ("info/.htaccess", ht),
            ("info/a.txt", b"a\n"),
            ("none/.htaccess", ht),
            ("none/a.txt", b"a\n"),
        ],
    );
    let r = get(&srv, "/info/a.txt", &[]);
    assert_eq!(r.status, 200);
    assert_eq!(r.header("Content-Language").as_deref(), Some("fr"));
    assert_eq!(r.header("Content-Type").as_deref(), Some("text/x-forced"));
    let r = get(&srv, "/none/a.txt", &[]);
    assert_eq!(r.header("Content-Language"), None);
    assert_eq!(r.header("Content-Type").as_deref(), Some("text/plain"));
}

#[test]
fn remove_lines_merge_as_apache() {
    // RemoveEncoding in a <Directory> takes the server's AddEncoding away …
    let conf =
        format!("{MIME}<Directory @ROOT@/sub>\nRemoveEncoding .gz\nRemoveType gz\n</Directory>\n");
    let srv = server(&conf, &[("sub/z.gz", b"z")]);
    let r = get(&srv, "/sub/z.gz", &[]);
    assert_eq!(
        (r.header("Content-Encoding"), r.header("Content-Type")),
        (None, None)
    );
    // … unless a .htaccess with mime lines is merged over it first (Apache 2.4.71 does the same).
    let conf = format!(
        "{MIME}<Directory @ROOT@/sub>\nAllowOverride FileInfo\nRemoveEncoding .gz\n</Directory>\n"
    );
    let srv = server(
        &conf,
        &[
            ("sub/z.gz", b"z"),
            ("sub/.htaccess", b"AddLanguage it .gz\n"),
        ],
    );
    let r = get(&srv, "/sub/z.gz", &[]);
    assert_eq!(r.header("Content-Encoding").as_deref(), Some("gzip"));
    assert_eq!(r.header("Content-Language").as_deref(), Some("it"));
}

#[test]
fn add_output_filter_other_than_deflate_is_refused_with_a_clear_message() {
    let opts = ConfigOptions {
        skip_document_root_check: true,
        ..ConfigOptions::default()
    };
    let e = load_text(
        "x.conf",
        "AddOutputFilter INCLUDES .shtml\n",
        &opts,
        &MpmIdent::PREFORK,
    )
    .unwrap_err();
    // DEFLATE is mpm-lab's one output filter (tests/http_htaccess.rs).
    assert!(
        e.to_string()
            .contains("Unknown filter provider INCLUDES (mpm-lab's output filters: DEFLATE)"),
        "{e}"
    );
    // LanguagePriority needs mod_negotiation, as in Apache.
    let e = load_text("x.conf", "LanguagePriority en\n", &opts, &MpmIdent::PREFORK).unwrap_err();
    assert!(
        e.to_string().contains("Invalid command 'LanguagePriority'"),
        "{e}"
    );
}

#[test]
fn error_document_type_map_serves_the_clients_language() {
    // Debian's localized error pages: ErrorDocument 404 /error/HTTP_NOT_FOUND.html.var.
    let map: &[u8] = b"Content-language: en\nContent-type: text/html; charset=UTF-8\nBody:----------en--\n<p>Not found</p>\n----------en--\n\nContent-language: es\nContent-type: text/html\nBody:----------es--\n<p>No encontrado</p>\n----------es--\n";
    let conf = format!("{MIME}ErrorDocument 404 /error/HTTP_NOT_FOUND.html.var\n");
    let srv = server(&conf, &[("error/HTTP_NOT_FOUND.html.var", map)]);
    let r = get(&srv, "/nowhere", &[("Accept-Language", "es")]);
    assert_eq!(r.status, 404);
    assert_eq!(r.text(), "<p>No encontrado</p>\n");
    assert_eq!(r.header("Content-Language").as_deref(), Some("es"));
    assert_eq!(
        r.header("Vary").as_deref(),
        Some("accept-language,accept-charset")
    );
    let r = parse(&srv.send(b"HEAD /nowhere HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n"));
    assert_eq!(r.header("Content-Length").as_deref(), Some("17"));
    assert_eq!(
        r.header("Content-Type").as_deref(),
        Some("text/html; charset=utf-8")
    );
}
