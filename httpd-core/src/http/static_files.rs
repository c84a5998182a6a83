//! Files under DocumentRoot: URL to path (`server/request.c: ap_process_request_internal`,
//! `util.c: ap_normalize_path`, `ap_unescape_url_ex`), validators and conditional requests
//! (`http_protocol.c: ap_make_etag`, `ap_meets_conditions`) and byte ranges.
//!
//! The URL path goes through three steps before it touches the file system:
//! 1. normalise: decode `%XX` of unreserved characters, merge `//`, resolve `.` and `..`;
//!    a `..` above the root is a 400 (AH10244);
//! 2. unescape the rest; an encoded slash `%2F` is a 404 (AllowEncodedSlashes Off, AH00026),
//!    an encoded NUL a 404, a malformed escape a 400;
//! 3. join to DocumentRoot and canonicalise: a path whose real location (symlinks resolved)
//!    is outside DocumentRoot is refused with 403, so nothing can ever escape it. The common
//!    case costs one `openat2(RESOLVE_BENEATH)` relative to DocumentRoot opened once
//!    ([`DocRoot::locate`]); only what the kernel will not resolve beneath the root (an
//!    absolute symlink, an old kernel) takes the general path: `realpath`, a prefix check,
//!    `stat`, `open` ([`locate`]).

use std::fs::{File, Metadata};
use std::os::fd::OwnedFd;
use std::os::unix::ffi::OsStrExt;

use nix::errno::Errno;
use nix::fcntl::{OFlag, OpenHow, ResolveFlag};
use nix::sys::stat::Mode;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::file_bucket::FileDelivery;
use super::range::{RangeOutcome, byteranges};
use super::request::Request;
use super::response::{Chunk, Response, SMALL_FILE};

/// Why a URL path cannot name a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathError {
    /// `..` above the root (400, AH10244 at error level).
    AboveRoot,
    /// A `%` not followed by two hex digits (400).
    BadEscape,
    /// `%2F` (404, AH00026 at info).
    EncodedSlash,
    /// `%00` (404).
    EncodedNul,
}

fn hex(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

/// `ap_normalize_path(NOT_ABOVE_ROOT | MERGE_SLASHES | DECODE_UNRESERVED)`.
pub fn normalize_path(path: &str) -> Result<String, PathError> {
    // Decode unreserved characters first, so "%2e%2e" is a ".." like any other.
    let b = path.as_bytes();
    let mut decoded = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            if let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2])) {
                let c = h * 16 + l;
                if c.is_ascii_alphanumeric() || b"-._~".contains(&c) {
                    decoded.push(c);
                    i += 3;
                    continue;
                }
            }
        }
        decoded.push(b[i]);
        i += 1;
    }
    let text = String::from_utf8_lossy(&decoded).into_owned();
    let mut out: Vec<&str> = Vec::new();
    let mut trailing_slash = false;
    let segments: Vec<&str> = text.trim_start_matches('/').split('/').collect();
    let n = segments.len();
    for (k, seg) in segments.into_iter().enumerate() {
        let last = k + 1 == n;
        match seg {
            "" | "." => trailing_slash = last,
            ".." => {
                if out.pop().is_none() {
                    return Err(PathError::AboveRoot);
                }
                trailing_slash = last;
            }
            s => {
                out.push(s);
                trailing_slash = false;
            }
        }
    }
    let mut result = String::from("/");
    result.push_str(&out.join("/"));
    if trailing_slash && !out.is_empty() {
        result.push('/');
    }
    Ok(result)
}

/// `ap_unescape_url_ex(FORBID_SLASHES)`: the bytes of the file-system path.
pub fn unescape_path(path: &str) -> Result<Vec<u8>, PathError> {
    let b = path.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'%' {
            out.push(b[i]);
            i += 1;
            continue;
        }
        let (Some(h), Some(l)) = (
            b.get(i + 1).and_then(|&c| hex(c)),
            b.get(i + 2).and_then(|&c| hex(c)),
        ) else {
            return Err(PathError::BadEscape);
        };
        match h * 16 + l {
            b'/' => return Err(PathError::EncodedSlash),
            0 => return Err(PathError::EncodedNul),
            c => out.push(c),
        }
        i += 3;
    }
    Ok(out)
}

/// Where a URL path leads inside DocumentRoot.
#[derive(Debug)]
pub enum Located {
    /// A file; already open when the fast path found it.
    File(PathBuf, Metadata, Option<File>),
    Dir(PathBuf),
    NotFound(PathBuf),
    /// Unreadable or outside DocumentRoot (canonical path given for the log).
    Forbidden(PathBuf),
}

/// DocumentRoot, canonical, and opened once (`O_PATH`) for [`DocRoot::locate`].
#[derive(Debug)]
pub struct DocRoot {
    pub path: PathBuf,
    dir: Option<OwnedFd>,
}

impl DocRoot {
    /// `path` must be canonical (the containment check compares real paths with it).
    pub fn new(path: PathBuf) -> DocRoot {
        let dir = nix::fcntl::open(
            &path,
            OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
            Mode::empty(),
        )
        .ok();
        DocRoot { path, dir }
    }

    /// Step 3. The kernel resolves the path beneath DocumentRoot and opens it in one call;
    /// it refuses (EXDEV) anything that would leave the root, and those cases, like any
    /// error other than "no such file", go to the general [`locate`], which decides them
    /// exactly as before. Permissions are those of the calling (unprivileged) child.
    pub fn locate(&self, url_bytes: &[u8]) -> Located {
        let rel = url_bytes.strip_prefix(b"/").unwrap_or(url_bytes);
        let rel = std::ffi::OsStr::from_bytes(if rel.is_empty() { b"." } else { rel });
        if let Some(dir) = &self.dir {
            let how = OpenHow::new()
                .flags(OFlag::O_RDONLY | OFlag::O_CLOEXEC)
                .resolve(ResolveFlag::RESOLVE_BENEATH | ResolveFlag::RESOLVE_NO_MAGICLINKS);
            match nix::fcntl::openat2(dir, rel, how) {
                Ok(fd) => {
                    let file = File::from(fd);
                    if let Ok(m) = file.metadata() {
                        let joined = self.path.join(rel);
                        return if m.is_dir() {
                            Located::Dir(joined)
                        } else {
                            Located::File(joined, m, Some(file))
                        };
                    }
                }
                Err(Errno::ENOENT | Errno::ENOTDIR) => {
                    return Located::NotFound(self.path.join(rel));
                }
                Err(_) => {}
            }
        }
        locate(&self.path, url_bytes)
    }
}

/// Step 3, the general way: join, canonicalise, check the prefix.
pub fn locate(docroot: &Path, url_bytes: &[u8]) -> Located {
    let rel = std::ffi::OsStr::from_bytes(url_bytes.strip_prefix(b"/").unwrap_or(url_bytes));
    let joined = docroot.join(rel);
    match joined.canonicalize() {
        Ok(real) if !real.starts_with(docroot) => Located::Forbidden(joined),
        Ok(real) => match std::fs::metadata(&real) {
            Ok(m) if m.is_dir() => Located::Dir(real),
            Ok(m) => Located::File(real, m, None),
            Err(_) => Located::Forbidden(joined),
        },
        Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => Located::Forbidden(joined),
        Err(_) => Located::NotFound(joined),
    }
}

/// Validators of one file as Apache computes them for one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Validators {
    /// `ap_rationalize_mtime`: never later than the request time.
    pub mtime: SystemTime,
    /// `"size-mtime"` in hex, mtime in microseconds (FileETag default `MTime Size`);
    /// weak (`W/`) when the file changed less than a second before the request.
    pub etag: String,
}

impl Validators {
    pub fn new(meta: &Metadata, request_time: SystemTime) -> Validators {
        Validators::with_etag_bits(
            meta,
            request_time,
            crate::config::sections::FileEtag::DEFAULT,
        )
    }

    /// `ap_make_etag` with `FileETag` components `bits` (inode, size, mtime in that order,
    /// hex, joined by `-`); no component: no ETag.
    pub fn with_etag_bits(meta: &Metadata, request_time: SystemTime, bits: u8) -> Validators {
        use crate::config::sections::FileEtag;
        use std::os::unix::fs::MetadataExt;
        let mtime = meta.modified().unwrap_or(UNIX_EPOCH).min(request_time);
        let usec = mtime
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_micros();
        let weak = request_time.duration_since(mtime).unwrap_or_default() <= Duration::from_secs(1);
        // One allocation, as before FileETag existed: the default path stays as cheap.
        let mut etag = String::new();
        if bits & (FileEtag::INODE | FileEtag::SIZE | FileEtag::MTIME) != 0 {
            use std::fmt::Write;
            etag.push_str(if weak { "W/\"" } else { "\"" });
            let mut sep = "";
            for (bit, value) in [
                (FileEtag::INODE, u128::from(meta.ino())),
                (FileEtag::SIZE, u128::from(meta.len())),
                (FileEtag::MTIME, usec),
            ] {
                if bits & bit != 0 {
                    let _ = write!(etag, "{sep}{value:x}");
                    sep = "-";
                }
            }
            etag.push('"');
        }
        Validators { mtime, etag }
    }
    fn mtime_secs(&self) -> u64 {
        self.mtime
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs()
    }
}

/// Whether `list` (an `If-Match`/`If-None-Match` value) names `etag`; weak comparison
/// ignores `W/`, strong comparison never matches a weak tag.
fn etag_matches(list: &str, etag: &str, weak: bool) -> bool {
    if list.trim() == "*" {
        return true;
    }
    let strip = |t: &str| t.trim().trim_start_matches("W/").to_string();
    list.split(',').any(|t| {
        let t = t.trim();
        if weak {
            strip(t) == strip(etag)
        } else {
            !t.starts_with("W/") && !etag.starts_with("W/") && t == etag
        }
    })
}

fn http_date_secs(v: &str) -> Option<u64> {
    httpdate::parse_http_date(v)
        .ok()
        .map(|t| t.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs())
}

/// `ap_meets_conditions`: `Some(304 | 412)` when the request's preconditions say so.
pub fn meets_conditions(req: &Request, v: &Validators) -> Option<u16> {
    let h = &req.headers;
    let get = matches!(req.line.method.as_str(), "GET" | "HEAD");
    let now = req
        .time
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs();
    if let Some(im) = h.get("If-Match") {
        if !etag_matches(im, &v.etag, false) {
            return Some(412);
        }
    } else if let Some(ius) = h.get("If-Unmodified-Since").and_then(http_date_secs)
        && v.mtime_secs() > ius
        // ap_condition_if_unmodified_since: a file changed in the last minute is only a
        // "weak" failure, which a request with a Range header does not count (Apache 2.4.71
        // then serves it; found by mpm-lab diff).
        && !(now < v.mtime_secs() + 60 && h.get("Range").is_some())
    {
        return Some(412);
    }
    if let Some(inm) = h.get("If-None-Match") {
        if etag_matches(inm, &v.etag, true) {
            return Some(if get { 304 } else { 412 });
        }
        return None;
    }
    if get
        && let Some(ims) = h.get("If-Modified-Since").and_then(http_date_secs)
        && ims <= now
        && v.mtime_secs() <= ims
    {
        return Some(304);
    }
    None
}

/// `ap_condition_if_range`: an entity tag must match strongly, a date exactly.
fn if_range_matches(value: &str, v: &Validators) -> bool {
    let value = value.trim();
    if value.starts_with('"') || value.starts_with("W/") {
        etag_matches(value, &v.etag, false)
    } else {
        http_date_secs(value) == Some(v.mtime_secs())
    }
}

/// The per-directory settings [`serve_file`] follows.
#[derive(Debug, Clone, Copy)]
pub struct ServeOptions {
    /// `FileETag` components.
    pub etag_bits: u8,
    /// `EnableSendfile` / `EnableMMAP`.
    pub delivery: FileDelivery,
    /// An output filter is configured: leave a `Range` for after it
    /// ([`apply_pending_range`]).
    pub defer_range: bool,
}

/// The 200/206/304/412/416 answer for a GET, HEAD or POST of a regular file. `Err(status)`
/// means "send Apache's error page for this status" (416).
pub fn serve_file(
    req: &Request,
    path: &Path,
    meta: &Metadata,
    file: Option<File>,
    content_type: Option<String>,
    boundary: &str,
    opts: ServeOptions,
) -> Result<Response, (u16, std::io::Error)> {
    let ServeOptions {
        etag_bits,
        delivery: how,
        defer_range,
    } = opts;
    let file = match file {
        Some(f) => f,
        None => File::open(path).map_err(|e| (403, e))?,
    };
    let v = Validators::with_etag_bits(meta, req.time, etag_bits);
    let mut resp = Response::new(200);
    resp.content_length_set = true;
    resp.headers
        .push(("Last-Modified", httpdate::fmt_http_date(v.mtime)));
    if !v.etag.is_empty() {
        resp.headers.push(("ETag", v.etag.clone()));
    }
    resp.headers.push(("Accept-Ranges", "bytes".into()));
    resp.content_type = content_type;
    if let Some(status) = meets_conditions(req, &v) {
        resp.status = status;
        // default_handler sets r->status = 412 and sends no content: the file's fields, an
        // empty body (Content-Length: 0), but a HEAD keeps the file's length.
        if status == 412 && req.is_head() {
            let size = meta.len();
            resp.body.push(file_chunk(&Arc::new(file), 0, size, how)?);
        }
        return Ok(resp);
    }
    let size = meta.len();
    let file = Arc::new(file);
    let ranges = match req.headers.get("Range") {
        Some(r)
            if req
                .headers
                .get("If-Range")
                .is_none_or(|ir| if_range_matches(ir, &v)) =>
        {
            byteranges(r, size)
        }
        _ => RangeOutcome::Full,
    };
    if let (true, RangeOutcome::Partial(_) | RangeOutcome::Unsatisfiable) = (defer_range, &ranges) {
        // An output filter may change the body: the byterange step runs after it.
        resp.range_pending = req.headers.get("Range").map(str::to_string);
        resp.body.push(file_chunk(&file, 0, size, how)?);
        return Ok(resp);
    }
    apply_ranges(&mut resp, ranges, size, boundary, &mut |first, len| {
        file_chunk(&file, first, len, how)
    })?;
    Ok(resp)
}

/// The body of a ranged answer (`byterange_filter.c`): the whole body, one part with
/// `Content-Range`, or `multipart/byteranges`; `part(first, len)` gives a part's bytes.
/// `Content-Range` follows the length when the handler set the length (a file), and precedes
/// it when the length is computed later (a body an output filter changed).
pub fn apply_ranges(
    resp: &mut Response,
    ranges: RangeOutcome,
    size: u64,
    boundary: &str,
    part: &mut dyn FnMut(u64, u64) -> Result<Chunk, (u16, std::io::Error)>,
) -> Result<(), (u16, std::io::Error)> {
    match ranges {
        RangeOutcome::Full => resp.body.push(part(0, size)?),
        RangeOutcome::Unsatisfiable => {
            return Err((416, std::io::Error::other("range not satisfiable")));
        }
        RangeOutcome::Partial(parts) if parts.len() == 1 => {
            let (first, last) = parts[0];
            resp.status = 206;
            let field = ("Content-Range", format!("bytes {first}-{last}/{size}"));
            if resp.content_length_set {
                resp.late_headers.push(field);
            } else {
                resp.headers.push(field);
            }
            resp.body.push(part(first, last - first + 1)?);
        }
        RangeOutcome::Partial(parts) => {
            resp.status = 206;
            let part_type = resp.content_type.take();
            resp.content_type = Some(format!("multipart/byteranges; boundary={boundary}"));
            for (first, last) in parts {
                let head = match &part_type {
                    Some(t) => format!(
                        "\r\n--{boundary}\r\nContent-type: {t}\r\nContent-range: bytes {first}-{last}/{size}\r\n\r\n"
                    ),
                    None => format!(
                        "\r\n--{boundary}\r\nContent-range: bytes {first}-{last}/{size}\r\n\r\n"
                    ),
                };
                resp.body.push(Chunk::Bytes(head.into_bytes()));
                resp.body.push(part(first, last - first + 1)?);
            }
            resp.body
                .push(Chunk::Bytes(format!("\r\n--{boundary}--\r\n").into_bytes()));
        }
    }
    Ok(())
}

/// The byterange step after the output filters, for a range [`serve_file`] deferred: on the
/// body as the filters left it, if it is whole (one piece), as Apache's byterange filter
/// needs the whole response in one brigade.
pub fn apply_pending_range(
    resp: &mut Response,
    boundary: &str,
) -> Result<(), (u16, std::io::Error)> {
    let Some(header) = resp.range_pending.take() else {
        return Ok(());
    };
    if resp.body.len() != 1 || resp.status != 200 {
        return Ok(());
    }
    let whole = resp.body.pop().expect("one piece, checked");
    let size = whole.len();
    apply_ranges(
        resp,
        byteranges(&header, size),
        size,
        boundary,
        &mut |first, len| Ok(whole.slice(first, len)),
    )
}

/// A file range: small ones are read now (one `write(2)` with the head), large ones go out
/// as `EnableSendfile`/`EnableMMAP` say ([`super::file_bucket`]).
fn file_chunk(
    file: &Arc<File>,
    offset: u64,
    len: u64,
    how: FileDelivery,
) -> Result<Chunk, (u16, std::io::Error)> {
    if len <= SMALL_FILE {
        let mut buf = vec![0u8; len as usize];
        std::os::unix::fs::FileExt::read_exact_at(&**file, &mut buf, offset)
            .map_err(|e| (500, e))?;
        Ok(Chunk::Bytes(buf))
    } else {
        super::file_bucket::file_chunk(file, offset, len, how).map_err(|e| (500, e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What a `Located` says, without the open file, to compare the two paths.
    fn shape(l: &Located) -> (&'static str, PathBuf) {
        match l {
            Located::File(p, ..) => ("file", p.clone()),
            Located::Dir(p) => ("dir", p.clone()),
            Located::NotFound(p) => ("not found", p.clone()),
            Located::Forbidden(p) => ("forbidden", p.clone()),
        }
    }

    /// The one-call fast path must decide every case as the general path does: plain files,
    /// directories, missing names, symlinks that stay inside (relative and absolute) and
    /// symlinks that leave the root (relative and absolute).
    #[test]
    fn docroot_fast_path_agrees_with_the_general_path() {
        use std::os::unix::fs::symlink;
        let base = std::env::temp_dir().join(format!("mpm-lab-docroot-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&base);
        let root = base.join("htdocs");
        std::fs::create_dir_all(root.join("sub")).unwrap();
        std::fs::write(root.join("index.html"), "x").unwrap();
        std::fs::write(root.join("sub/a.txt"), "a").unwrap();
        std::fs::write(base.join("secret.txt"), "s").unwrap();
        symlink("index.html", root.join("rel-inside")).unwrap();
        symlink(root.join("sub/a.txt"), root.join("abs-inside")).unwrap();
        symlink("../secret.txt", root.join("rel-outside")).unwrap();
        symlink(base.join("secret.txt"), root.join("abs-outside")).unwrap();
        symlink("sub", root.join("dirlink")).unwrap();
        let root = root.canonicalize().unwrap();
        let docroot = DocRoot::new(root.clone());
        assert!(docroot.dir.is_some(), "DocumentRoot opened");
        let cases: [(&str, &str); 11] = [
            ("/index.html", "file"),
            ("/", "dir"),
            ("/sub", "dir"),
            ("/sub/a.txt", "file"),
            ("/missing", "not found"),
            ("/index.html/x", "not found"),
            ("/rel-inside", "file"),
            ("/abs-inside", "file"),
            ("/rel-outside", "forbidden"),
            ("/abs-outside", "forbidden"),
            ("/dirlink/a.txt", "file"),
        ];
        for (url, want) in cases {
            let fast = docroot.locate(url.as_bytes());
            let general = locate(&root, url.as_bytes());
            assert_eq!(shape(&fast).0, want, "{url}");
            assert_eq!(shape(&general).0, want, "{url} (general path)");
            if let Located::File(_, m, f) = &fast {
                assert_eq!(
                    m.len(),
                    f.as_ref().map_or(m.len(), |f| f.metadata().unwrap().len())
                );
            }
        }
        let _ = std::fs::remove_dir_all(&base);
    }

    #[test]
    fn normalize_dots_slashes_and_unreserved_escapes() {
        assert_eq!(normalize_path("/a//b/./c/../d").unwrap(), "/a/b/d");
        assert_eq!(normalize_path("/a/b/").unwrap(), "/a/b/");
        assert_eq!(normalize_path("/a/.").unwrap(), "/a/");
        assert_eq!(normalize_path("/a/..").unwrap(), "/");
        assert_eq!(normalize_path("/").unwrap(), "/");
        assert_eq!(normalize_path("/%7Euser/%41").unwrap(), "/~user/A");
        assert_eq!(normalize_path("/../etc/passwd"), Err(PathError::AboveRoot));
        assert_eq!(
            normalize_path("/%2e%2e/etc/passwd"),
            Err(PathError::AboveRoot)
        );
        assert_eq!(
            normalize_path("/a/%2E%2E/%2e%2e/x"),
            Err(PathError::AboveRoot)
        );
        assert_eq!(
            normalize_path("/%2F"),
            Ok("/%2F".into()),
            "reserved escapes stay for step 2"
        );
    }

    #[test]
    fn unescape_forbids_slash_and_nul() {
        assert_eq!(unescape_path("/a%20b").unwrap(), b"/a b");
        assert_eq!(unescape_path("/a%2fb"), Err(PathError::EncodedSlash));
        assert_eq!(unescape_path("/a%00"), Err(PathError::EncodedNul));
        assert_eq!(unescape_path("/a%zz"), Err(PathError::BadEscape));
        assert_eq!(unescape_path("/a%2"), Err(PathError::BadEscape));
    }

    #[test]
    fn etag_comparisons() {
        assert!(etag_matches("\"a\", \"b\"", "\"b\"", false));
        assert!(etag_matches("W/\"b\"", "\"b\"", true));
        assert!(!etag_matches("W/\"b\"", "\"b\"", false));
        assert!(!etag_matches("\"b\"", "W/\"b\"", false));
        assert!(etag_matches("*", "\"x\"", false));
    }
}
