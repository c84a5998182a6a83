//! Sub-requests for mod_autoindex (`server/request.c: ap_sub_req_lookup_uri,
//! ap_sub_req_lookup_dirent`) and its handler step (`mod_autoindex.c: handle_autoindex`).
//!
//! A sub-request here runs the parts of [`super::handler`]'s route that decide a status
//! without serving anything: URL mapping (mod_alias, DocumentRoot), the section walk with
//! `.htaccess` files, and access control. Listing entries use the dirent form (their path is
//! known), header and readme files the URI form.

use std::path::{Path, PathBuf};

use std::cell::RefCell;

use super::handler::{Exchange, file_mime, map_url, read_htaccess, walk_sections};
use super::module_hooks::access_check;
use super::response::{Chunk, Response};
use super::static_files::{Validators, normalize_path, unescape_path};
use crate::config::{AllowOverride, Section, SectionTable};
use crate::log::Level;
use crate::modules::autoindex::{self, DirRequest, Dirent, SubRequests};
use crate::modules::setenvif::Env;

/// The listing request's context, for its sub-requests.
struct SubReq<'a, 'x> {
    x: &'a Exchange<'x>,
    table: &'a SectionTable,
    env: &'a Env,
    /// The `.htaccess` files read so far: every entry's walk passes the same directories, and
    /// Apache reads each once per request too (`ap_parse_htaccess` keeps `r->htaccess`).
    htaccess: RefCell<Vec<(PathBuf, AllowOverride, Option<Section>)>>,
}

impl SubReq<'_, '_> {
    /// The section walk of one entry, `.htaccess` files from the cache.
    fn walk(&self, url: &str, fs: &Path, is_dir: bool) -> Result<Section, u16> {
        let is_dir = is_dir && self.table.htaccess_possible;
        self.table.walk(url, fs, is_dir, &mut |dir, allowed| {
            let cached = self
                .htaccess
                .borrow()
                .iter()
                .find_map(|(d, a, s)| (d == dir && a == allowed).then(|| s.clone()));
            if let Some(s) = cached {
                return Ok(s);
            }
            let s = read_htaccess(self.x, dir, allowed)?;
            let entry = (dir.to_path_buf(), allowed.clone(), s.clone());
            self.htaccess.borrow_mut().push(entry);
            Ok(s)
        })
    }
}

impl SubRequests for SubReq<'_, '_> {
    fn dirent(&self, uri: &str, fs: &Path, is_dir: bool) -> Dirent {
        let mut walk_url = uri.to_string();
        if is_dir {
            walk_url.push('/');
        }
        let refused = |status| Dirent {
            status,
            ..Dirent::default()
        };
        let dir = match self.walk(&walk_url, fs, is_dir) {
            Ok(d) => d,
            Err(status) => return refused(status),
        };
        if let Some(denied) = access_check(self.x, &dir.access(), fs, self.env).0 {
            return refused(denied.status);
        }
        if is_dir {
            return refused(200);
        }
        // The type checker and core's ForceType fixup, as for the request itself.
        let mime = file_mime(self.x, &dir, fs);
        Dirent {
            status: 200,
            content_type: mime.content_type,
            content_encoding: mime.encoding,
        }
    }

    fn lookup_file(&self, uri: &str) -> Option<(PathBuf, Option<String>)> {
        let path = uri.split('?').next().unwrap_or(uri);
        let normal = normalize_path(path).ok()?;
        let bytes = unescape_path(&normal).ok()?;
        let decoded = String::from_utf8_lossy(&bytes).into_owned();
        let inner = &self.x.server.inner;
        let docroot = match self.x.vhost {
            Some(i) => &inner.vhosts[i].docroot,
            None => &inner.docroot,
        };
        let fs = map_url(self.x, docroot, &decoded).ok()?.fs_path;
        let dir = walk_sections(self.x, self.table, &decoded, &fs).ok()?;
        if access_check(self.x, &dir.access(), &fs, self.env)
            .0
            .is_some()
        {
            return None;
        }
        if !std::fs::metadata(&fs).ok()?.is_file() {
            return None;
        }
        let ct = file_mime(self.x, &dir, &fs).content_type;
        Some((fs, ct))
    }

    fn signature(&self) -> String {
        self.x.psignature("")
    }
}

/// `handle_autoindex` for a directory request without index file: the listing with
/// `Options Indexes`, else 403 (AH01276). `None`: declined (not GET/HEAD), so the default
/// handler answers.
pub(super) fn autoindex(
    x: &mut Exchange<'_>,
    section: &Section,
    table: &SectionTable,
    env: &Env,
    uri: &str,
    dir: &Path,
    options: u8,
) -> Option<Response> {
    let method = x.req.line.method.as_str();
    if !matches!(method, "GET" | "HEAD") {
        return None;
    }
    let cfg = &x.server.inner.config;
    // r->filename with the one trailing slash handle_autoindex gives it.
    let shown = format!("{}/", dir.display().to_string().trim_end_matches('/'));
    if options & crate::config::options::OPT_INDEXES == 0 {
        x.log(
            "autoindex",
            Level::Error,
            format_args!(
                "AH01276: Cannot serve directory {shown}: No matching DirectoryIndex ({}) found, and server-generated directory index forbidden by Options directive",
                // mod_dir's `dir-index-names` note: empty after `DirectoryIndex disabled`.
                section
                    .directory_index
                    .as_ref()
                    .unwrap_or(&cfg.directory_index)
                    .join(",")
            ),
        );
        return Some(x.error(403, None));
    }
    if let Err(e) = x.body.discard() {
        return Some(x.body_error(e));
    }
    let ai = section.autoindex.resolve();
    let tz = crate::log::local_tz();
    let req = DirRequest {
        uri,
        dir,
        query: x.req.line.query.as_deref(),
        head: method == "HEAD",
        cfg: &ai,
        tz: &tz,
    };
    let sub = SubReq {
        x,
        table,
        env,
        htaccess: RefCell::new(Vec::new()),
    };
    let listing = match autoindex::index_directory(&req, &sub) {
        Ok(l) => l,
        Err(autoindex::OpenError(e)) => {
            x.log(
                "autoindex",
                Level::Error,
                format_args!(
                    "({}){e}: AH01275: Can't open directory for index: {shown}",
                    e.raw_os_error().unwrap_or(0),
                ),
            );
            return Some(x.error(403, None));
        }
    };
    let mut r = Response::new(200);
    if listing.track_modified
        && let Ok(meta) = std::fs::metadata(dir)
    {
        let v = Validators::with_etag_bits(&meta, x.req.time, section.etag_bits());
        r.headers
            .push(("Last-Modified", httpdate::fmt_http_date(v.mtime)));
        if !v.etag.is_empty() {
            r.headers.push(("ETag", v.etag));
        }
    }
    r.content_type = Some(listing.content_type);
    if listing.streamed {
        r.chunked = x.req.line.version.is_1_1_or_later();
        r.close_delimited = !r.chunked;
    }
    if !listing.body.is_empty() {
        r.body.push(Chunk::Bytes(listing.body));
    }
    Some(r)
}
