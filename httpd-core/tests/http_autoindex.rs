//! mod_autoindex over TCP (`modules/generators/mod_autoindex.c`), with Debian's stock
//! `autoindex.conf` (a byte-for-byte copy in `conformance/fixtures/debian-mods/`). The
//! expected pages are Apache 2.4.71's for the same files and configuration (captured with
//! `/usr/sbin/apache2`; only the directory name differs).

mod http_support;

use std::io::Write;
use std::path::Path;
use std::time::{Duration, SystemTime};

use http_support::*;
use httpd_core::config::{ConfigOptions, MpmIdent, ServerConfig, load_text};

const DEBIAN_AUTOINDEX_LOAD: &str =
    include_str!("../../conformance/fixtures/debian-mods/autoindex.load");
const DEBIAN_AUTOINDEX_CONF: &str =
    include_str!("../../conformance/fixtures/debian-mods/autoindex.conf");

/// 2024-01-02 03:04:05 UTC, the mtime of every test file.
fn mtime() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_704_164_645)
}

/// That time as the listing shows it (local time, as `apr_time_exp_lt`).
fn shown_mtime() -> String {
    jiff::Timestamp::from_second(1_704_164_645)
        .unwrap()
        .to_zoned(httpd_core::log::local_tz())
        .strftime("%Y-%m-%d %H:%M")
        .to_string()
}

/// Create `files` under DocumentRoot (a name ending in `/` is a directory), all with
/// [`mtime`]; then read Debian's autoindex.load and autoindex.conf, and `conf` (with `@ROOT@`
/// = DocumentRoot), into the test configuration.
fn apply(c: &mut ServerConfig, conf: &str, files: &[(&str, &[u8])]) {
    let root = c.document_root.clone();
    for (rel, body) in files {
        let p = root.join(rel);
        if rel.ends_with('/') {
            std::fs::create_dir_all(&p).unwrap();
        } else {
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(&p, body).unwrap();
        }
    }
    for (rel, _) in files {
        set_mtime(&root.join(rel));
        set_mtime(root.join(rel).parent().unwrap());
    }
    let text = format!(
        "{DEBIAN_AUTOINDEX_LOAD}{DEBIAN_AUTOINDEX_CONF}{}",
        conf.replace("@ROOT@", &root.display().to_string())
    );
    load_sections(c, &text);
}

fn set_mtime(p: &Path) {
    let f = std::fs::File::open(p).unwrap();
    f.set_modified(mtime()).unwrap();
}

/// One request on its own connection; chunked bodies are decoded.
fn fetch(srv: &TestServer, method: &str, target: &str) -> Resp {
    let mut s = srv.connect();
    write!(
        s,
        "{method} {target} HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    read_response(&mut s, method == "HEAD").expect("a response")
}

const FILES: &[(&str, &[u8])] = &[
    ("list/a.txt", b"hello\n"),
    ("list/b.bin", &[0; 5000]),
    ("list/.hidden", b"h\n"),
    ("list/old~", b"o\n"),
    ("list/file9.txt", b"9\n"),
    ("list/file10.txt", b"10\n"),
    ("list/page.html", b"<b>x</b>\n"),
    ("list/sub/", b""),
];

const INDEXES: &str = "<Directory @ROOT@>\nOptions Indexes\nAllowOverride Indexes\n</Directory>\n";

/// Apache 2.4.71's page for [`FILES`] with Debian's autoindex.conf (`@DATE@` = the mtime).
const DEBIAN_TABLE: &str = r#"<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 4.01//EN" "http://www.w3.org/TR/html4/strict.dtd">
<html>
 <head>
  <title>Index of /list</title>
 </head>
 <body>
<h1>Index of /list</h1>
  <table>
   <tr><th valign="top"><img src="/icons/blank.gif" alt="[ICO]"></th><th><a href="?C=N;O=D">Name</a></th><th><a href="?C=M;O=A">Last modified</a></th><th><a href="?C=S;O=A">Size</a></th><th><a href="?C=D;O=A">Description</a></th></tr>
   <tr><th colspan="5"><hr></th></tr>
<tr><td valign="top"><img src="/icons/back.gif" alt="[PARENTDIR]"></td><td><a href="/">Parent Directory</a></td><td>&nbsp;</td><td align="right">  - </td><td>&nbsp;</td></tr>
<tr><td valign="top"><img src="/icons/text.gif" alt="[TXT]"></td><td><a href="a.txt">a.txt</a></td><td align="right">@DATE@  </td><td align="right">  6 </td><td>&nbsp;</td></tr>
<tr><td valign="top"><img src="/icons/binary.gif" alt="[   ]"></td><td><a href="b.bin">b.bin</a></td><td align="right">@DATE@  </td><td align="right">4.9K</td><td>&nbsp;</td></tr>
<tr><td valign="top"><img src="/icons/text.gif" alt="[TXT]"></td><td><a href="file9.txt">file9.txt</a></td><td align="right">@DATE@  </td><td align="right">  2 </td><td>&nbsp;</td></tr>
<tr><td valign="top"><img src="/icons/text.gif" alt="[TXT]"></td><td><a href="file10.txt">file10.txt</a></td><td align="right">@DATE@  </td><td align="right">  3 </td><td>&nbsp;</td></tr>
<tr><td valign="top"><img src="/icons/text.gif" alt="[TXT]"></td><td><a href="page.html">page.html</a></td><td align="right">@DATE@  </td><td align="right">  9 </td><td>&nbsp;</td></tr>
<tr><td valign="top"><img src="/icons/folder.gif" alt="[DIR]"></td><td><a href="sub/">sub/</a></td><td align="right">@DATE@  </td><td align="right">  - </td><td>&nbsp;</td></tr>
   <tr><th colspan="5"><hr></th></tr>
</table>
</body></html>
"#;

/// The same files, `?C=S;O=D&F=1`: the `<pre>` layout, biggest first.
const DEBIAN_PRE_BY_SIZE: &str = r#"<pre><img src="/icons/blank.gif" alt="Icon "> <a href="?C=N;O=A;F=1">Name</a>                    <a href="?C=M;O=A;F=1">Last modified</a>      <a href="?C=S;O=A;F=1">Size</a>  <a href="?C=D;O=A;F=1">Description</a><hr><img src="/icons/back.gif" alt="[PARENTDIR]"> <a href="/">Parent Directory</a>                             -   
<img src="/icons/binary.gif" alt="[   ]"> <a href="b.bin">b.bin</a>                   @DATE@  4.9K  
<img src="/icons/text.gif" alt="[TXT]"> <a href="page.html">page.html</a>               @DATE@    9   
<img src="/icons/text.gif" alt="[TXT]"> <a href="a.txt">a.txt</a>                   @DATE@    6   
<img src="/icons/text.gif" alt="[TXT]"> <a href="file10.txt">file10.txt</a>              @DATE@    3   
<img src="/icons/text.gif" alt="[TXT]"> <a href="file9.txt">file9.txt</a>               @DATE@    2   
<img src="/icons/folder.gif" alt="[DIR]"> <a href="sub/">sub/</a>                    @DATE@    -   
<hr></pre>
"#;

#[test]
fn autoindex_debian_listing_is_apaches_byte_for_byte() {
    let srv = TestServer::with_config(|c| apply(c, INDEXES, FILES));
    let r = fetch(&srv, "GET", "/list/");
    assert_eq!(r.status, 200, "{}", srv.error_log());
    assert_eq!(
        r.header("Content-Type").as_deref(),
        Some("text/html;charset=UTF-8")
    );
    // Short enough for Apache's 8000-byte buffer: the length is known.
    assert_eq!(r.header("Content-Length"), Some(r.body.len().to_string()));
    assert_eq!(r.text(), DEBIAN_TABLE.replace("@DATE@", &shown_mtime()));
    let r = fetch(&srv, "GET", "/list/?C=S;O=D&F=1");
    let text = r.text();
    let pre = DEBIAN_PRE_BY_SIZE.replace("@DATE@", &shown_mtime());
    assert!(text.contains(&pre), "{text}");
    // HEAD: the head only, no length (Apache stops before writing anything).
    let r = fetch(&srv, "HEAD", "/list/");
    assert_eq!(r.status, 200);
    assert_eq!(r.header("Content-Length"), None);
    assert_eq!(
        r.header("Content-Type").as_deref(),
        Some("text/html;charset=UTF-8")
    );
}

#[test]
fn autoindex_without_indexes_is_403_with_ah01276_and_post_is_declined() {
    let srv = TestServer::with_config(|c| {
        apply(
            c,
            "<Directory @ROOT@/list>\nOptions -Indexes\n</Directory>\n",
            FILES,
        )
    });
    assert_eq!(fetch(&srv, "GET", "/list/").status, 403);
    let log = srv.error_log();
    assert!(
        log.contains("[autoindex:error]")
            && log.contains("AH01276: Cannot serve directory ")
            && log.contains("/htdocs/list/: No matching DirectoryIndex (index.html) found, and server-generated directory index forbidden by Options directive"),
        "{log}"
    );
    // handle_autoindex declines other methods before looking at Options: the default
    // handler will not serve a directory.
    assert_eq!(fetch(&srv, "POST", "/list/").status, 404);
    // A directory with its index file is not listed.
    assert_eq!(fetch(&srv, "GET", "/sub/").text(), "sub index\n");
}

#[test]
fn autoindex_not_loaded_leaves_directories_to_the_default_handler() {
    let srv = TestServer::with_config(|c| {
        apply(c, INDEXES, FILES);
        c.loaded_modules.retain(|m| *m != "autoindex");
    });
    assert_eq!(fetch(&srv, "GET", "/list/").status, 404);
    assert!(
        srv.error_log()
            .contains("AH00129: Attempt to serve directory")
    );
}

#[test]
fn autoindex_header_and_readme_replace_h1_and_signature() {
    let mut files = FILES.to_vec();
    files.push(("list/HEADER.html", b"<h2>Top</h2>\n"));
    files.push(("list/README.html", b"<p>Bottom &amp; end</p>\n"));
    files.push(("plain/HEADER.txt", b"Plain <b> & text\n"));
    let srv = TestServer::with_config(|c| {
        apply(
            c,
            "<Directory @ROOT@>\nOptions Indexes\n</Directory>\n<Directory @ROOT@/plain>\nHeaderName HEADER.txt\n</Directory>\n",
            &files,
        );
        c.server_signature = "On".into();
    });
    let r = fetch(&srv, "GET", "/list/");
    let text = r.text();
    assert!(
        text.contains(" </head>\n <body>\n<h2>Top</h2>\n  <table>"),
        "the HTML header replaces the <h1>: {text}"
    );
    assert!(
        text.ends_with("</table>\n<p>Bottom &amp; end</p>\n</body></html>\n"),
        "{text}"
    );
    assert!(
        !text.contains("<address>"),
        "a readme replaces the signature"
    );
    // The header went through a sub-request: Apache cannot know the length in advance.
    assert_eq!(r.header("Transfer-Encoding").as_deref(), Some("chunked"));
    let text = fetch(&srv, "GET", "/plain/").text();
    assert!(
        text.contains(" <body>\n<pre>\nPlain &lt;b&gt; &amp; text\n</pre>\n  <table>"),
        "a text header comes in <pre>, escaped, and replaces the <h1>: {text}"
    );
    assert!(
        text.contains("<address>")
            && text.contains(" Server at h Port 80</address>\n</body></html>\n"),
        "{text}"
    );
}

#[test]
fn autoindex_query_arguments_and_ignore_client() {
    let srv = TestServer::with_config(|c| {
        apply(
            c,
            "<Directory @ROOT@>\nOptions Indexes\n</Directory>\n<Directory @ROOT@/fixed>\nIndexOptions +IgnoreClient\n</Directory>\n",
            &[FILES, &[("fixed/a.txt", b"a"), ("fixed/b.txt", b"bb")]].concat(),
        )
    });
    let names = |t: &str| -> Vec<String> {
        t.split("<a href=\"")
            .skip(1)
            .filter_map(|s| s.split('"').next())
            .filter(|s| !s.starts_with('?'))
            .map(str::to_string)
            .collect()
    };
    let t = fetch(&srv, "GET", "/list/?F=0").text();
    assert!(
        t.contains("<ul><li><a href=\"/\"> Parent Directory</a></li>\n"),
        "{t}"
    );
    assert_eq!(
        names(&t),
        [
            "/",
            "a.txt",
            "b.bin",
            "file9.txt",
            "file10.txt",
            "page.html",
            "sub/"
        ]
    );
    let t = fetch(&srv, "GET", "/list/?C=N;O=D;F=0").text();
    assert_eq!(
        names(&t),
        [
            "/",
            "sub/",
            "page.html",
            "file10.txt",
            "file9.txt",
            "b.bin",
            "a.txt"
        ]
    );
    // V=0: plain strcmp, file10 before file9.
    let t = fetch(&srv, "GET", "/list/?V=0&F=0").text();
    assert_eq!(names(&t)[3..5], ["file10.txt", "file9.txt"]);
    // P=: only matching names (the parent stays); the pattern is carried into the links.
    let t = fetch(&srv, "GET", "/list/?P=*.txt").text();
    assert_eq!(names(&t), ["/", "a.txt", "file9.txt", "file10.txt"]);
    assert!(t.contains("<a href=\"?C=S;O=A;P=*.txt\">Size</a>"), "{t}");
    // IgnoreClient: the query is not read and the column titles are plain text.
    let t = fetch(&srv, "GET", "/fixed/?C=S;O=D").text();
    assert_eq!(names(&t), ["/", "a.txt", "b.txt"]);
    assert!(t.contains("<th>Name</th>"), "{t}");
}

#[test]
fn autoindex_htaccess_index_options_need_allow_override_indexes() {
    let files: &[(&str, &[u8])] = &[
        (
            "ht/yes/.htaccess",
            b"IndexOptions -HTMLTable\nIndexIgnore *.bin\n",
        ),
        ("ht/yes/a.txt", b"a"),
        ("ht/yes/b.bin", b"b"),
        ("ht/no/.htaccess", b"IndexOptions -HTMLTable\n"),
        ("ht/no/a.txt", b"a"),
        ("ht/bad/.htaccess", b"IndexOptions Bogus\n"),
        ("ht/bad/a.txt", b"a"),
    ];
    let srv = TestServer::with_config(|c| {
        apply(
            c,
            "<Directory @ROOT@>\nOptions Indexes\nAllowOverride Indexes\n</Directory>\n<Directory @ROOT@/ht/no>\nAllowOverride None\n</Directory>\n",
            files,
        )
    });
    let t = fetch(&srv, "GET", "/ht/yes/").text();
    assert!(
        t.contains("<pre><img src=\"/icons/blank.gif\""),
        "-HTMLTable applies: {t}"
    );
    assert!(!t.contains("b.bin"), "IndexIgnore from .htaccess: {t}");
    let t = fetch(&srv, "GET", "/ht/no/").text();
    assert!(
        t.contains("  <table>\n"),
        ".htaccess not read under AllowOverride None: {t}"
    );
    assert_eq!(fetch(&srv, "GET", "/ht/bad/").status, 500);
    assert!(
        srv.error_log()
            .contains("/ht/bad/.htaccess: Invalid directory indexing option")
    );
    // The root listing hides the directory whose .htaccess is broken (its sub-request fails).
    let t = fetch(&srv, "GET", "/ht/").text();
    assert!(t.contains("\"yes/\"") && !t.contains("bad/"), "{t}");
}

#[test]
fn autoindex_directives_need_the_module_and_refuse_bad_values() {
    let load = |text: &str| {
        load_text(
            "t.conf",
            text,
            &ConfigOptions {
                skip_document_root_check: true,
                ..ConfigOptions::default()
            },
            &MpmIdent::EVENT,
        )
    };
    let e = load("IndexOptions FancyIndexing\n").unwrap_err();
    assert!(
        e.message.starts_with("Invalid command 'IndexOptions'"),
        "{e}"
    );
    let with = |line: &str| load(&format!("LoadModule autoindex_module x.so\n{line}\n"));
    assert!(with("IndexOptions FancyIndexing +FoldersFirst").is_ok());
    assert_eq!(
        with("IndexOptions Fancy").unwrap_err().message,
        "Invalid directory indexing option"
    );
    assert_eq!(
        with("FancyIndexing On").unwrap_err().message,
        "The FancyIndexing directive is no longer supported. Use IndexOptions FancyIndexing."
    );
    assert_eq!(
        with("AddIcon /i.gif").unwrap_err().message,
        "AddIcon requires at least two arguments, an icon URL followed by one or more filenames"
    );
    assert_eq!(
        with("IndexOrderDefault Up Name").unwrap_err().message,
        "First keyword must be 'Ascending' or 'Descending'"
    );
    assert_eq!(
        with("AddIcon (ALT,/i.gif .x").unwrap_err().message,
        "missing closing paren"
    );
}
