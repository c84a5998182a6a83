//! mod_autoindex: the listing of a directory that has no `DirectoryIndex` file (Apache
//! `modules/generators/mod_autoindex.c: handle_autoindex, index_directory,
//! make_autoindex_entry, make_parent_entry, emit_head, emit_tail`).
//!
//! Steps for `GET /dir/` once mod_dir found no index file (the HTTP side is
//! `crate::http::subreq`):
//!
//! 1. `Options Indexes` off: 403 with AH01276 (other methods than GET/HEAD are declined and
//!    reach the default handler, as Apache's handler declines them).
//! 2. The directory is opened (a failure is a 403 with AH01275); the content type is
//!    `Type=` (`text/html`) with `;charset=` and `Charset=` (`ISO-8859-1` on Unix, where APR
//!    has no Unicode file system); `TrackModified` adds Last-Modified and ETag. A HEAD stops here.
//! 3. The query (`C= O= F= V= P=`, see [`query`]) adjusts the order and format unless
//!    `IgnoreClient`.
//! 4. `HeaderName` is looked up as a sub-request relative to the directory: an HTML file is
//!    copied after the preamble and replaces the `<h1>`; another `text/*` file comes in a
//!    `<pre>`; anything else (or nothing) leaves the preamble and `<h1>`.
//! 5. The parent entry (none at `/`), then every directory entry that is not `.`/`..`, not
//!    refused by `P=`, not hidden by `IndexIgnore`, and whose sub-request (the sections'
//!    access control of that file) succeeds, or is 401/403 with `ShowForbidden`.
//! 6. Sorted ([`sort`]) and written ([`listing`]).
//! 7. `ReadmeName` as in step 4 (an HTML file, or text in a `<pre>`), else the server
//!    signature; then `</body></html>` unless an HTML readme was sent under
//!    `SuppressHTMLPreamble`.
//!
//! | file | Apache |
//! |---|---|
//! | [`config`] | `autoindex_config_rec`, `add_opts`, `add_icon`, `add_alt`, `add_desc`, `add_ignore` |
//! | [`merge`] | `merge_autoindex_configs` |
//! | [`lookup`] | `find_item`, `find_desc`, `ignore_entry`, `find_title` |
//! | [`query`] | the query loop of `index_directory` |
//! | [`sort`] | `dsortf`, APR's `apr_strnatcmp` |
//! | [`listing`] | `emit_preamble`, `output_directories`, `do_emit_plain` |
//! | [`format`](mod@format) | `apr_strfsize`, `ap_escape_html`, `ap_os_escape_path`, `ap_strcmp_match`, `terminate_description` |
//!
//! Left out: header and readme files are copied as files, not run as sub-requests through
//! their own handlers (an SSI `HEADER.shtml` is not parsed; mpm-lab has no mod_include), and
//! they are not negotiated (no MultiViews yet). A request that matches no section at all uses
//! the server settings merged once (Apache would use them unmerged; every Debian request
//! matches `<Directory />`).

pub mod config;
pub mod format;
pub mod listing;
pub mod lookup;
pub mod merge;
pub mod query;
pub mod sort;

use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use config::*;
use listing::{Entry, Page};
use sort::{SortKey, SortSpec};

/// What a dirent sub-request tells the listing (`rr->status`, `rr->content_type`,
/// `rr->content_encoding`).
#[derive(Debug, Clone, Default)]
pub struct Dirent {
    pub status: u16,
    pub content_type: Option<String>,
    pub content_encoding: Option<String>,
}

/// What the listing asks of the server: Apache's sub-requests and mod_mime's lookups.
pub trait SubRequests {
    /// `ap_sub_req_lookup_dirent`: the status the sections give this entry (200 when its
    /// access checks pass) and, for a file that passed them, the type and encoding mod_mime's
    /// type checker gives it under the entry's own sections. `uri` is escaped as a URL, `fs`
    /// the entry's path.
    fn dirent(&self, uri: &str, fs: &Path, is_dir: bool) -> Dirent;
    /// `ap_sub_req_lookup_uri` for a header or readme file (`uri` absolute, escaped): the file
    /// and its content type when the lookup is a 200 for a regular file.
    fn lookup_file(&self, uri: &str) -> Option<(PathBuf, Option<String>)>;
    /// `ap_psignature("", r)`.
    fn signature(&self) -> String;
}

/// The directory request (after mod_dir found no index).
pub struct DirRequest<'a> {
    /// `r->uri`, decoded, ending in `/`.
    pub uri: &'a str,
    /// `r->filename`: the directory.
    pub dir: &'a Path,
    pub query: Option<&'a str>,
    /// HEAD: headers only.
    pub head: bool,
    pub cfg: &'a AutoindexConfig,
    pub tz: &'a jiff::tz::TimeZone,
}

/// The answer: a 200 with this type and body.
#[derive(Debug)]
pub struct Listing {
    pub content_type: String,
    pub body: Vec<u8>,
    /// Apache would not know the length when the head goes out: an HTML header or readme was
    /// sent through a sub-request, or the page outgrew the 8000-byte buffer of `ap_rputs`.
    pub streamed: bool,
    /// `TrackModified`: the directory's modification time for Last-Modified and ETag.
    pub track_modified: bool,
}

/// `apr_bucket_brigade`'s buffer (`APR_BUCKET_BUFF_SIZE`): a page longer than this is passed
/// on before it ends, so Apache cannot give its length.
const BUCKET_BUFF_SIZE: usize = 8000;

/// The directory could not be read (AH01275): 403.
#[derive(Debug)]
pub struct OpenError(pub std::io::Error);

/// `index_directory`.
pub fn index_directory(req: &DirRequest<'_>, sub: &dyn SubRequests) -> Result<Listing, OpenError> {
    let cfg = req.cfg;
    let read = std::fs::read_dir(req.dir).map_err(OpenError)?;
    let ctype = cfg.ctype.as_deref().unwrap_or("text/html");
    // APR_HAS_UNICODE_FS is 0 on Unix.
    let charset = cfg.charset.as_deref().unwrap_or("ISO-8859-1");
    let content_type = if charset.is_empty() {
        ctype.to_string()
    } else {
        format!("{ctype};charset={charset}")
    };
    let mut out = Listing {
        content_type,
        body: Vec::new(),
        streamed: false,
        track_modified: cfg.opts & TRACK_MODIFIED != 0,
    };
    if req.head {
        return Ok(out);
    }
    let q = query::parse(
        req.query,
        cfg.default_key.unwrap_or(b'N'),
        cfg.default_direction.unwrap_or(b'A'),
        cfg.opts,
    );
    let opts = q.opts;
    // The title: the URI, HTML-escaped, without its trailing slashes.
    let mut title = format::escape_html(req.uri.as_bytes());
    while title.len() > 1 && title.last() == Some(&b'/') {
        title.pop();
    }
    let body = &mut out.body;
    let header_html = emit_head(body, req, sub, opts, &title);
    let dir_slash = format!("{}/", req.dir.display().to_string().trim_end_matches('/'));
    let spec = SortSpec {
        key: q.key,
        ascending: q.direction == b'A',
        version_sort: opts & VERSION_SORT != 0,
        ignore_case: opts & IGNORE_CASE != 0,
    };
    let mut entries: Vec<Entry> = parent_entry(req, opts, &dir_slash).into_iter().collect();
    for dirent in read.flatten() {
        let name = dirent.file_name();
        if let Some(e) = make_entry(
            req,
            sub,
            opts,
            q.key,
            &dir_slash,
            name.as_encoded_bytes(),
            q.pattern.as_deref(),
        ) {
            entries.push(e);
        }
    }
    entries.sort_by(|a, b| sort::compare(&spec, &a.key, &b.key));
    let page = Page {
        cfg,
        opts,
        key: q.key,
        direction: q.direction,
        colargs: &q.colargs,
        tz: req.tz,
    };
    listing::output_directories(body, &entries, &page);
    let readme_html = emit_tail(body, req, sub, opts);
    out.streamed = header_html || readme_html || out.body.len() > BUCKET_BUFF_SIZE;
    Ok(out)
}

/// A header or readme file found by its sub-request.
enum Include {
    Html(Vec<u8>),
    Text(Vec<u8>),
    Nothing,
}

/// Look up `name` (relative to the directory) as `emit_head`/`emit_tail` do.
fn include(
    req: &DirRequest<'_>,
    sub: &dyn SubRequests,
    name: Option<&str>,
    args: Option<&str>,
) -> Include {
    let Some(name) = name else {
        return Include::Nothing;
    };
    let mut uri = if name.starts_with('/') {
        name.to_string()
    } else {
        format!("{}{name}", format::os_escape_path(req.uri.as_bytes(), true))
    };
    if let Some(a) = args {
        uri = format!("{uri}?{a}");
    }
    let Some((path, Some(ct))) = sub.lookup_file(&uri) else {
        return Include::Nothing;
    };
    let base = ct.split(';').next().unwrap_or("").trim();
    let html = base.eq_ignore_ascii_case("text/html")
        || base.eq_ignore_ascii_case("application/xhtml+xml");
    let text = ct.get(..5).is_some_and(|t| t.eq_ignore_ascii_case("text/"));
    match std::fs::read(&path) {
        Ok(bytes) if html => Include::Html(bytes),
        Ok(bytes) if text => Include::Text(bytes),
        _ => Include::Nothing,
    }
}

/// `emit_head`: preamble, header file, `<h1>`. `true` when an HTML header was sent.
fn emit_head(
    out: &mut Vec<u8>,
    req: &DirRequest<'_>,
    sub: &dyn SubRequests,
    opts: u32,
    title: &[u8],
) -> bool {
    let cfg = req.cfg;
    let xhtml = opts & EMIT_XHTML != 0;
    let header = include(
        req,
        sub,
        cfg.header.as_deref(),
        req.query.filter(|q| !q.is_empty()),
    );
    let sent_html = matches!(header, Include::Html(_));
    match header {
        Include::Html(bytes) => {
            if opts & SUPPRESS_PREAMBLE == 0 {
                listing::preamble(out, cfg, xhtml, title);
            }
            out.extend_from_slice(&bytes);
        }
        Include::Text(bytes) => {
            listing::preamble(out, cfg, xhtml, title);
            listing::emit_plain(out, &bytes);
        }
        Include::Nothing => {
            listing::preamble(out, cfg, xhtml, title);
            listing::h1(out, cfg, title);
        }
    }
    sent_html
}

/// `emit_tail`: readme file or signature, then the end of the page. `true` when an HTML
/// readme was sent.
fn emit_tail(out: &mut Vec<u8>, req: &DirRequest<'_>, sub: &dyn SubRequests, opts: u32) -> bool {
    let (mut suppress_sig, mut suppress_post) = (false, false);
    let readme = include(req, sub, req.cfg.readme.as_deref(), None);
    let sent_html = matches!(readme, Include::Html(_));
    match readme {
        Include::Html(bytes) => {
            out.extend_from_slice(&bytes);
            suppress_sig = true;
            suppress_post = opts & SUPPRESS_PREAMBLE != 0;
        }
        Include::Text(bytes) => {
            listing::emit_plain(out, &bytes);
            suppress_sig = true;
        }
        Include::Nothing => {}
    }
    if !suppress_sig {
        out.extend_from_slice(sub.signature().as_bytes());
    }
    if !suppress_post {
        out.extend_from_slice(b"</body></html>\n");
    }
    sent_html
}

/// `make_parent_entry`: `../` of the URI, unless at `/` or ignored (as `DIR/..`).
fn parent_entry(req: &DirRequest<'_>, opts: u32, dir_slash: &str) -> Option<Entry> {
    let cfg = req.cfg;
    let trimmed = req.uri.strip_suffix('/').unwrap_or(req.uri);
    let cut = trimmed.rfind('/')?;
    let name = trimmed.as_bytes()[..=cut].to_vec();
    let testpath = format!("{dir_slash}..");
    if lookup::ignore_entry(cfg, testpath.as_bytes()) {
        return None;
    }
    let mut e = Entry {
        key: SortKey {
            name,
            is_parent: true,
            lm: -1,
            size: -1,
            ..SortKey::default()
        },
        ..Entry::default()
    };
    if opts & FANCY_INDEXING != 0 {
        let t = testpath.as_bytes();
        let dir = b"^^DIRECTORY^^";
        e.icon = lookup::find_item(None, None, t, &cfg.icons, true)
            .or_else(|| lookup::find_item(None, None, dir, &cfg.icons, true))
            .map(str::to_string);
        e.alt = lookup::find_item(None, None, t, &cfg.alts, true)
            .or_else(|| lookup::find_item(None, None, dir, &cfg.alts, true))
            .unwrap_or("PARENTDIR")
            .to_string()
            .into();
        e.key.desc = lookup::find_desc(cfg, t).map(str::to_string);
    }
    Some(e)
}

/// `make_autoindex_entry` for one name read from the directory.
fn make_entry(
    req: &DirRequest<'_>,
    sub: &dyn SubRequests,
    opts: u32,
    key: u8,
    dir_slash: &str,
    name: &[u8],
    pattern: Option<&[u8]>,
) -> Option<Entry> {
    let cfg = req.cfg;
    if name == b"." || name == b".." {
        return None;
    }
    if pattern.is_some_and(|p| !format::fnmatch_period_noescape(p, name)) {
        return None;
    }
    // Names are bytes, as the file system has them (not necessarily UTF-8).
    let full_bytes = [dir_slash.as_bytes(), name].concat();
    let full = Path::new(std::ffi::OsStr::from_bytes(&full_bytes));
    if lookup::ignore_entry(cfg, &full_bytes) {
        return None;
    }
    // apr_dir_read stats the entry; index_directory follows a symbolic link to its target.
    let meta = std::fs::metadata(full).ok()?;
    let is_dir = meta.is_dir();
    if !is_dir && !meta.is_file() {
        return None;
    }
    let mut uri = format::os_escape_path(&[req.uri.as_bytes(), name].concat(), true);
    if is_dir {
        uri.push('/');
    }
    let dirent = sub.dirent(&uri, full, is_dir);
    let status = dirent.status;
    let forbidden_shown = opts & SHOW_FORBIDDEN != 0 && (status == 401 || status == 403);
    if !((200..400).contains(&status) || forbidden_shown) {
        return None;
    }
    let mut e = Entry {
        key: SortKey {
            name: if is_dir {
                [name, b"/"].concat()
            } else {
                name.to_vec()
            },
            lm: -1,
            size: -1,
            ..SortKey::default()
        },
        ..Entry::default()
    };
    if opts & (FANCY_INDEXING | TABLE_INDEXING) != 0 {
        e.key.lm = meta.mtime() * 1_000_000 + meta.mtime_nsec() / 1000;
        // rr->filename: the file, or the directory without its slash.
        let filename = &full_bytes[..];
        if is_dir {
            e.key.isdir = opts & FOLDERS_FIRST != 0;
            let dir = b"^^DIRECTORY^^";
            e.icon = lookup::find_item(None, None, filename, &cfg.icons, true)
                .or_else(|| lookup::find_item(None, None, dir, &cfg.icons, true))
                .map(str::to_string);
            e.alt = Some(
                lookup::find_item(None, None, filename, &cfg.alts, true)
                    .or_else(|| lookup::find_item(None, None, dir, &cfg.alts, true))
                    .unwrap_or("DIR")
                    .to_string(),
            );
        } else {
            // A refused sub-request (shown with ShowForbidden) stopped before mod_mime's
            // type checker: no type, no encoding.
            let (ct, enc) = (dirent.content_type, dirent.content_encoding);
            e.icon = lookup::find_item(ct.as_deref(), enc.as_deref(), filename, &cfg.icons, false)
                .map(str::to_string);
            e.alt = lookup::find_item(ct.as_deref(), enc.as_deref(), filename, &cfg.alts, false)
                .map(str::to_string);
            e.key.size = i64::try_from(meta.len()).unwrap_or(i64::MAX);
            if opts & SCAN_HTML_TITLES != 0
                && lookup::find_desc(cfg, filename).is_none()
                && enc.is_none()
                && ct.as_deref().is_some_and(|t| {
                    t.eq_ignore_ascii_case("text/html")
                        || t.eq_ignore_ascii_case("application/xhtml+xml")
                        || t == "text/x-server-parsed-html"
                })
            {
                e.key.desc = read_head(full).and_then(|h| lookup::find_title(&h));
            }
        }
        if e.key.desc.is_none() {
            e.key.desc = lookup::find_desc(cfg, filename).map(str::to_string);
        }
    }
    if key == b'M' && e.key.lm < 0 {
        e.key.lm = 0;
    }
    Some(e)
}

/// The first `MAX_STRING_LEN - 1` bytes of a file, for `find_title`.
fn read_head(path: &Path) -> Option<Vec<u8>> {
    use std::io::Read;
    let mut buf = Vec::with_capacity(8191);
    std::fs::File::open(path)
        .ok()?
        .take(8191)
        .read_to_end(&mut buf)
        .ok()?;
    Some(buf)
}
