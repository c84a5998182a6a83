//! Which `<Directory>`, `<DirectoryMatch>`, `.htaccess`, `<Files>`, `<FilesMatch>`,
//! `<Location>` and `<LocationMatch>` sections apply to a request, merged in Apache's order
//! (`server/request.c: ap_directory_walk, ap_file_walk, ap_location_walk`; the sort is
//! `core.c: ap_core_reorder_directories`).
//!
//! Everything that can be decided once is decided in [`SectionTable::build`], at start-up:
//! regexes are compiled by the config walk, `<Directory>` sections are sorted, and a table
//! without any `AllowOverride` other than `None` never looks for `.htaccess` files. A request
//! then runs these steps ([`SectionTable::walk`]), each merging over the previous one (a
//! setting made later wins):
//!
//! 1. `<Directory>` sections (not regex), shortest path first (by number of components; equal
//!    lengths in file order). While walking down the directories of the file, after the
//!    sections of one depth, that directory's `.htaccess` (AccessFileName) is read when the
//!    merged `AllowOverride` permits (Apache reads it inside the same loop).
//! 2. `<DirectoryMatch>` / `<Directory ~>`, in file order, against the directory path with
//!    its trailing slash.
//! 3. `<Files>` / `<FilesMatch>` / `<Files ~>` against the file's last path component: first the
//!    top-level ones, then those nested in the sections and `.htaccess` files merged in steps
//!    1–2, in that order.
//! 4. `<Location>` / `<LocationMatch>` / `<Location ~>` against the URL path, in file order
//!    (Apache does not sort them).
//!
//! Regexes: Apache uses PCRE, we use the `regex` crate. What differs for a configuration:
//! no backreferences and no lookaround (`(?=`, `(?!`, `(?<=`, `\1`); such a pattern is refused
//! at start-up with Apache's `Regex could not be compiled` wording instead of being applied
//! differently. Named groups are written `(?<name>…)` or `(?P<name>…)` in both.

use std::borrow::Cow;
use std::path::Path;

use regex::Regex;

use super::server::{Require, Section};
use super::walk::Walker;

/// A compiled section regex; equal when the patterns are equal (so [`Section`] stays `Eq`).
#[derive(Debug, Clone)]
pub struct SectionRegex(pub Regex);

impl PartialEq for SectionRegex {
    fn eq(&self, other: &Self) -> bool {
        self.0.as_str() == other.0.as_str()
    }
}
impl Eq for SectionRegex {}

impl SectionRegex {
    /// `ap_pregcomp` for a section argument; the error is `core.c`'s wording.
    pub fn compile(pattern: &str, case_insensitive: bool) -> Result<SectionRegex, String> {
        regex::RegexBuilder::new(pattern)
            .case_insensitive(case_insensitive)
            .build()
            .map(SectionRegex)
            .map_err(|_| "Regex could not be compiled".to_string())
    }
}

/// `AllowOverride` categories (`http_config.h: OR_LIMIT … OR_AUTHCFG`) and `AllowOverrideList`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AllowOverride {
    /// Bit set of [`AllowOverride::AUTHCFG`] …; 0 = `None`.
    pub categories: u8,
    /// `AllowOverrideList` directive names (lower case); empty = `None`.
    pub list: Vec<String>,
}

impl AllowOverride {
    pub const LIMIT: u8 = 1;
    pub const OPTIONS: u8 = 2;
    pub const FILEINFO: u8 = 4;
    pub const AUTHCFG: u8 = 8;
    pub const INDEXES: u8 = 16;
    pub const ALL: u8 = 31;

    /// Whether a `.htaccess` file is looked for at all.
    pub fn any(&self) -> bool {
        self.categories != 0 || !self.list.is_empty()
    }

    /// `core.c: set_override`: `None`, `All`, `AuthConfig`, `FileInfo`, `Indexes`, `Limit`,
    /// `Options[=…]` (the option list is for the Options directive: kept as the category here).
    pub fn parse(args: &[String]) -> Result<u8, String> {
        let mut bits = 0;
        for a in args {
            let (word, _opts) = a.split_once('=').unwrap_or((a, ""));
            bits |= match word.to_ascii_lowercase().as_str() {
                "none" => 0,
                "all" => AllowOverride::ALL,
                "authconfig" => AllowOverride::AUTHCFG,
                "fileinfo" => AllowOverride::FILEINFO,
                "indexes" => AllowOverride::INDEXES,
                "limit" => AllowOverride::LIMIT,
                "options" => AllowOverride::OPTIONS,
                "nonfatal" => 0,
                _ => return Err(format!("Illegal override option {a}")),
            };
        }
        Ok(bits)
    }
}

/// `FileETag` in one section (`core.c: set_etag_bits`): absolute keywords replace what is
/// inherited, `+X`/`-X` adjust it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileEtag {
    Absolute(u8),
    Relative { add: u8, remove: u8 },
}

impl FileEtag {
    pub const INODE: u8 = 1;
    pub const MTIME: u8 = 2;
    pub const SIZE: u8 = 4;
    /// Apache 2.4's default, `MTime Size`.
    pub const DEFAULT: u8 = FileEtag::MTIME | FileEtag::SIZE;

    /// Parse the arguments in order, as `set_etag_bits` does: a plain keyword sets its
    /// component (and makes the setting absolute), `+X`/`-X` add or remove one.
    pub fn parse(args: &[String]) -> Result<FileEtag, String> {
        let (mut acc, mut add, mut remove, mut absolute) = (0u8, 0u8, 0u8, false);
        for a in args {
            let (sign, word) = match a.as_bytes().first() {
                Some(b'+') => (Some(true), &a[1..]),
                Some(b'-') => (Some(false), &a[1..]),
                _ => (None, a.as_str()),
            };
            let bit = match word.to_ascii_lowercase().as_str() {
                "none" if sign.is_none() => 0,
                "all" => FileEtag::INODE | FileEtag::MTIME | FileEtag::SIZE,
                "inode" => FileEtag::INODE,
                "mtime" => FileEtag::MTIME,
                "size" => FileEtag::SIZE,
                _ => return Err(format!("Unknown keyword '{word}' for FileETag directive")),
            };
            match sign {
                None => {
                    absolute = true;
                    acc |= bit;
                }
                Some(true) => {
                    acc |= bit;
                    add |= bit;
                    remove &= !bit;
                }
                Some(false) => {
                    acc &= !bit;
                    remove |= bit;
                    add &= !bit;
                }
            }
        }
        Ok(if absolute {
            FileEtag::Absolute(acc)
        } else {
            FileEtag::Relative { add, remove }
        })
    }

    /// This setting over what is inherited (`None` = unset). Relative keywords over an unset
    /// value start from nothing, as Apache's merge does (verified: `FileETag +INode` alone
    /// gives an inode-only ETag, `-Size` alone leaves the default).
    pub fn over(self, inherited: Option<u8>) -> Option<u8> {
        match self {
            FileEtag::Absolute(b) => Some(b),
            FileEtag::Relative { add, remove } => {
                Some((inherited.unwrap_or(0) | add) & !remove).filter(|b| *b != 0)
            }
        }
    }

    /// The merged components (an unmerged relative setting counts as over unset).
    pub fn bits(self) -> u8 {
        self.over(None).unwrap_or(FileEtag::DEFAULT)
    }
}

/// `FileETag` directive.
pub fn set_etag_bits(w: &mut Walker<'_>, a: &[String]) -> Result<(), String> {
    let e = FileEtag::parse(a)?;
    w.section_mut().file_etag = Some(e);
    Ok(())
}

/// The sections of one server (the main server, or a virtual host merged over it), ordered
/// for [`walk`](SectionTable::walk).
#[derive(Debug, Clone, Default)]
pub struct SectionTable {
    /// Server-level per-directory settings (`SetHandler` at top level) and top-level `<Files>`.
    pub base: Section,
    /// `<Directory>` (not regex), sorted by component count, stable.
    pub dirs: Vec<(usize, Section)>,
    /// `<DirectoryMatch>`, file order.
    pub dir_regex: Vec<Section>,
    /// `<Location>` and `<LocationMatch>`, file order.
    pub locations: Vec<Section>,
    /// Some section allows `.htaccess`: only then does a request walk the directories.
    pub htaccess_possible: bool,
}

/// `.htaccess` reader the walk calls for a directory where overrides are allowed:
/// `Ok(None)` when there is no such file.
pub type HtaccessReader<'a> = dyn FnMut(&Path, &AllowOverride) -> Result<Option<Section>, u16> + 'a;

impl SectionTable {
    /// Sort and classify once (`ap_core_reorder_directories`).
    pub fn build(base: &Section, directories: &[Section], locations: &[Section]) -> SectionTable {
        let mut dirs: Vec<(usize, Section)> = directories
            .iter()
            .filter(|s| s.regex.is_none())
            .map(|s| (components(&s.path), s.clone()))
            .collect();
        dirs.sort_by_key(|(n, _)| *n);
        let dir_regex: Vec<Section> = directories
            .iter()
            .filter(|s| s.regex.is_some())
            .cloned()
            .collect();
        let htaccess_possible = dirs
            .iter()
            .map(|(_, s)| s)
            .chain(&dir_regex)
            .any(|s| s.allow_override.as_ref().is_some_and(AllowOverride::any));
        SectionTable {
            base: base.clone(),
            dirs,
            dir_regex,
            locations: locations.to_vec(),
            htaccess_possible,
        }
    }

    /// Steps 1–4 of the module doc for the file `fs_path` (mapped from `url_path`);
    /// `is_dir` says whether the target is a directory (its own `.htaccess` is then read too).
    /// `Err(status)` comes from the `.htaccess` reader (500 on a bad line).
    pub fn walk(
        &self,
        url_path: &str,
        fs_path: &Path,
        is_dir: bool,
        htaccess: &mut HtaccessReader<'_>,
    ) -> Result<Section, u16> {
        // Only what a section sets is cloned; <Files> sections are borrowed from the table
        // (owned only when they come from a .htaccess file).
        let mut merged = Section::default();
        merge_settings(&mut merged, &self.base);
        // ap_directory_walk merges the sections among themselves and only then over the
        // server's config: mod_mime's Remove* lines meet the server's mappings only if no
        // merge consumed them before (a .htaccess with mime lines does).
        let server_mime = merged.mime.take();
        let mut files: Vec<Cow<'_, Section>> = self.base.files.iter().map(Cow::Borrowed).collect();
        // 1. <Directory>, with .htaccess interleaved per depth.
        let matching = self
            .dirs
            .iter()
            .filter(|(_, s)| directory_matches(&s.path, fs_path));
        if self.htaccess_possible {
            let mut pending = matching.peekable();
            let dir = if is_dir {
                fs_path
            } else {
                fs_path.parent().unwrap_or(fs_path)
            };
            let mut levels: Vec<&Path> = dir.ancestors().collect();
            levels.reverse();
            for level in levels {
                let depth = components(&level.to_string_lossy());
                while let Some((_, s)) = pending.next_if(|(n, _)| *n <= depth) {
                    merge(&mut merged, &mut files, s);
                }
                if let Some(ao) = merged.allow_override.clone().filter(AllowOverride::any)
                    && let Some(h) = htaccess(level, &ao)?
                {
                    merge_settings(&mut merged, &h);
                    files.extend(h.files.into_iter().map(Cow::Owned));
                }
            }
            for (_, s) in pending {
                merge(&mut merged, &mut files, s);
            }
        } else {
            for (_, s) in matching {
                merge(&mut merged, &mut files, s);
            }
        }
        // 2. <DirectoryMatch>
        if !self.dir_regex.is_empty() {
            let mut dir = if is_dir {
                fs_path.to_string_lossy().into_owned()
            } else {
                fs_path
                    .parent()
                    .map_or_else(String::new, |p| p.to_string_lossy().into_owned())
            };
            if !dir.ends_with('/') {
                dir.push('/');
            }
            for s in &self.dir_regex {
                if s.regex.as_ref().is_some_and(|r| r.0.is_match(&dir)) {
                    merge(&mut merged, &mut files, s);
                }
            }
        }
        // 3. <Files>
        if !files.is_empty() {
            let name = if url_path.ends_with('/') {
                ""
            } else {
                fs_path.file_name().and_then(|n| n.to_str()).unwrap_or("")
            };
            for s in &files {
                let hit = match &s.regex {
                    Some(r) => r.0.is_match(name),
                    None => fnmatch(s.path.as_bytes(), name.as_bytes()),
                };
                if hit {
                    merge_settings(&mut merged, s);
                }
            }
        }
        // 4. <Location>
        for s in &self.locations {
            let hit = match &s.regex {
                Some(r) => r.0.is_match(url_path),
                None => location_matches(&s.path, url_path),
            };
            if hit {
                merge_settings(&mut merged, s);
            }
        }
        merged.mime = match (server_mime, merged.mime.take()) {
            (base, Some(sections)) => Some(crate::modules::mime::merge(base.as_ref(), &sections)),
            (base, None) => base,
        };
        Ok(merged)
    }
}

/// Merge a section's settings and collect its nested `<Files>`.
fn merge<'t>(merged: &mut Section, files: &mut Vec<Cow<'t, Section>>, s: &'t Section) {
    merge_settings(merged, s);
    files.extend(s.files.iter().map(Cow::Borrowed));
}

/// `merge_core_dir_configs` for the settings we keep: what the later section sets wins.
pub fn merge_settings(merged: &mut Section, s: &Section) {
    if s.handler.is_some() {
        merged.handler.clone_from(&s.handler);
    }
    // mod_authz_core with `AuthMerging Off`: the last section with `Require` lines replaces
    // the others'; each `Auth*` value overrides the outer one (mod_authn_core); mod_access_compat
    // has no merge function, so its last section replaces the settings whole.
    if s.require.is_some() {
        merged.require.clone_from(&s.require);
    }
    merged.authn = merged.authn.merged(&s.authn);
    if s.compat.is_some() {
        merged.compat.clone_from(&s.compat);
    }
    // mod_setenvif, mod_env, mod_headers: the commands of every section, in merge order.
    merged.setenvif.extend(s.setenvif.iter().cloned());
    merged.env_cmds.extend(s.env_cmds.iter().cloned());
    merged.headers.extend(s.headers.iter().cloned());
    merged
        .request_headers
        .extend(s.request_headers.iter().cloned());
    // core's SetOutputFilter: the inner section's list replaces; mod_filter: rule 3 of
    // crate::modules::filter. EnableSendfile/EnableMMAP: the inner setting wins.
    if s.output_filters.is_some() {
        merged.output_filters.clone_from(&s.output_filters);
    }
    if !s.filter_by_type.is_empty() {
        crate::modules::filter::merge_by_type(&mut merged.filter_by_type, &s.filter_by_type);
    }
    merged.enable_sendfile = s.enable_sendfile.or(merged.enable_sendfile);
    merged.enable_mmap = s.enable_mmap.or(merged.enable_mmap);
    // mod_dir: the inner list replaces; mod_alias: `apr_array_append(overrides, base)`.
    if s.directory_index.is_some() {
        merged.directory_index.clone_from(&s.directory_index);
    }
    if !s.redirects.is_empty() {
        let outer = std::mem::take(&mut merged.redirects);
        merged.redirects = s.redirects.iter().cloned().chain(outer).collect();
    }
    if s.allow_override.is_some() {
        merged.allow_override.clone_from(&s.allow_override);
    }
    // core's Options: a plain list replaces what is inherited, +/- adjust it; the merged
    // section keeps the result as an absolute setting.
    if let Some(o) = &s.options {
        let abs = super::options::merge(merged.options.iter().chain(std::iter::once(o)));
        merged.options = Some(super::options::OptionsSetting {
            opts: Some(abs),
            add: 0,
            remove: 0,
        });
    }
    // mod_autoindex: a clone of the section's Arc; merged only for a listing.
    merged.autoindex.extend(&s.autoindex);
    for (code, doc) in &s.error_documents {
        merged.error_documents.retain(|(c, _)| c != code);
        merged.error_documents.push((*code, doc.clone()));
    }
    // mod_mime (its own merge, rule 4 of modules/mime.rs), ForceType, mod_negotiation.
    // `ap_merge_per_dir_configs` calls a module's merge only when both sides have its
    // config: the first one is taken as it is, its `Remove*` lines still pending.
    if let Some(m) = &s.mime {
        merged.mime = Some(match &merged.mime {
            None => m.clone(),
            Some(b) => crate::modules::mime::merge(Some(b), m),
        });
    }
    if s.force_type.is_some() {
        merged.force_type.clone_from(&s.force_type);
    }
    if let Some(n) = &s.negotiation {
        merged.negotiation = Some(match &merged.negotiation {
            None => n.clone(),
            Some(b) => std::sync::Arc::new(b.merged(n)),
        });
    }
    if let Some(e) = s.file_etag {
        merged.file_etag = e
            .over(merged.file_etag.map(FileEtag::bits))
            .map(FileEtag::Absolute);
    }
}

impl Section {
    /// The `Require` lines in force (none set: granted, we have no `<Directory />` denial
    /// default).
    pub fn require_or_granted(&self) -> Vec<Require> {
        self.require
            .clone()
            .unwrap_or_else(|| vec![Require::AllGranted])
    }

    /// What mod_authz_core, mod_authn_core and mod_access_compat check for this request.
    pub fn access(&self) -> crate::modules::authz::DirAccess {
        crate::modules::authz::DirAccess {
            require: self.require.clone().unwrap_or_default(),
            authn: self.authn.clone(),
            compat: self.compat.clone(),
        }
    }

    /// Whether any output filter is configured here (`SetOutputFilter`,
    /// `AddOutputFilterByType`): a static `Range` then waits for the filters, and the request
    /// path looks at filters at all only when this is true.
    pub fn has_output_filters(&self) -> bool {
        self.output_filters.as_ref().is_some_and(|f| !f.is_empty())
            || !self.filter_by_type.is_empty()
    }

    /// `EnableSendfile` and `EnableMMAP` in force (unset: [`crate::http::file_bucket::FileDelivery::default`]).
    pub fn file_delivery(&self) -> crate::http::file_bucket::FileDelivery {
        let d = crate::http::file_bucket::FileDelivery::default();
        crate::http::file_bucket::FileDelivery {
            sendfile: self.enable_sendfile.unwrap_or(d.sendfile),
            mmap: self.enable_mmap.unwrap_or(d.mmap),
        }
    }

    /// The `FileETag` components in force (Apache 2.4's default: MTime Size).
    pub fn etag_bits(&self) -> u8 {
        self.file_etag.map_or(FileEtag::DEFAULT, FileEtag::bits)
    }

    /// `SetHandler`, with `None` and `default-handler` meaning "serve files".
    pub fn effective_handler(&self) -> Option<&str> {
        self.handler.as_deref().filter(|h| {
            !h.eq_ignore_ascii_case("none") && !h.eq_ignore_ascii_case("default-handler")
        })
    }
}

/// Number of path components (`ap_count_dirs`), "/" = 0.
fn components(path: &str) -> usize {
    path.split('/').filter(|c| !c.is_empty()).count()
}

/// `<Location /x>` matches `/x`, `/x/…` (and `/x?query`), not `/xyz` (Apache manual, `<Location>`:
/// "/private1" matches "/private1/file.txt" but not "/private1other"). A section ending in `/`
/// matches only below it.
pub fn location_matches(section: &str, url_path: &str) -> bool {
    match url_path.strip_prefix(section) {
        None => false,
        Some(rest) => section.ends_with('/') || rest.is_empty() || rest.starts_with(['/', '?']),
    }
}

/// `<Directory /a/b>` matches `/a/b` and everything below it, component-wise; a path with
/// wildcards (`/home/*/public_html`) matches component by component (`fnmatch` with
/// `FNM_PATHNAME`, as `ap_directory_walk` does).
pub fn directory_matches(section: &str, fs_path: &Path) -> bool {
    if !section.contains(['*', '?', '[']) {
        return fs_path.starts_with(Path::new(section));
    }
    let pat: Vec<&str> = section.split('/').filter(|c| !c.is_empty()).collect();
    let path = fs_path.to_string_lossy();
    let comps: Vec<&str> = path.split('/').filter(|c| !c.is_empty()).collect();
    comps.len() >= pat.len()
        && pat
            .iter()
            .zip(&comps)
            .all(|(p, c)| fnmatch(p.as_bytes(), c.as_bytes()))
}

/// Shell wildcard match of one name (`apr_fnmatch`): `*`, `?`, `[a-z]`, `[!x]`, `\x`.
pub fn fnmatch(pat: &[u8], s: &[u8]) -> bool {
    match pat.first() {
        None => s.is_empty(),
        Some(b'*') => (0..=s.len()).any(|i| fnmatch(&pat[1..], &s[i..])),
        Some(b'?') => !s.is_empty() && fnmatch(&pat[1..], &s[1..]),
        Some(b'[') => {
            let Some(end) = pat[1..].iter().position(|&b| b == b']').map(|i| i + 1) else {
                return s.first() == Some(&b'[') && fnmatch(&pat[1..], &s[1..]);
            };
            let Some(&c) = s.first() else { return false };
            let set = &pat[1..end];
            let (neg, set) = match set.first() {
                Some(b'!' | b'^') => (true, &set[1..]),
                _ => (false, set),
            };
            let mut hit = false;
            let mut i = 0;
            while i < set.len() {
                if i + 2 < set.len() && set[i + 1] == b'-' {
                    hit |= set[i] <= c && c <= set[i + 2];
                    i += 3;
                } else {
                    hit |= set[i] == c;
                    i += 1;
                }
            }
            hit != neg && fnmatch(&pat[end + 1..], &s[1..])
        }
        Some(b'\\') if pat.len() > 1 => s.first() == Some(&pat[1]) && fnmatch(&pat[2..], &s[1..]),
        Some(&p) => s.first() == Some(&p) && fnmatch(&pat[1..], &s[1..]),
    }
}

/// Where `AllowOverride`/`AllowOverrideList` may be: `Ok(true)` in `<Directory>`; in
/// `<Location>`/`<Files>` Apache only warns (`Ok(false)`, warning built by `warning(file, line)`);
/// elsewhere "not allowed here".
fn override_context(
    w: &mut Walker<'_>,
    name: &str,
    warning: impl Fn(&str, u32) -> String,
) -> Result<bool, String> {
    if w.in_url_or_files() {
        let (file, line) = w.at.clone();
        w.cfg.startup_warnings.push(warning(&file, line));
        return Ok(false);
    }
    if !w.in_directory() {
        return Err(format!("{name} not allowed here"));
    }
    Ok(true)
}

/// `core.c: set_override`: `AllowOverride` inside `<Directory>` only.
pub fn set_override(w: &mut Walker<'_>, a: &[String]) -> Result<(), String> {
    if !override_context(w, "AllowOverride", |file, line| {
        format!("AH00114: Useless use of AllowOverride in line {line} of {file}.")
    })? {
        return Ok(());
    }
    if a.is_empty() {
        return Err("AllowOverride requires at least one argument".into());
    }
    let categories = AllowOverride::parse(a)?;
    let s = w.section_mut();
    let list = s.allow_override.take().map(|o| o.list).unwrap_or_default();
    s.allow_override = Some(AllowOverride { categories, list });
    Ok(())
}

/// `core.c: set_override_list`: directive names allowed in `.htaccess` whatever the categories.
pub fn set_override_list(w: &mut Walker<'_>, a: &[String]) -> Result<(), String> {
    if !override_context(w, "AllowOverrideList", |file, line| {
        format!("AH00115: Useless use of AllowOverrideList at {file}:{line}")
    })? {
        return Ok(());
    }
    let list: Vec<String> = if a.len() == 1 && a[0].eq_ignore_ascii_case("none") {
        Vec::new()
    } else {
        a.iter().map(|d| d.to_ascii_lowercase()).collect()
    };
    let s = w.section_mut();
    let categories = s.allow_override.as_ref().map_or(0, |o| o.categories);
    s.allow_override = Some(AllowOverride { categories, list });
    Ok(())
}

/// `core.c: set_access_name`.
pub fn set_access_name(w: &mut Walker<'_>, a: &[String]) -> Result<(), String> {
    w.cfg.access_file_name = a.to_vec();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sec(path: &str, require: Option<Require>) -> Section {
        Section {
            path: path.into(),
            require: require.map(|r| vec![r]),
            ..Section::default()
        }
    }

    fn no_htaccess(_: &Path, _: &AllowOverride) -> Result<Option<Section>, u16> {
        panic!("no .htaccess may be read")
    }

    #[test]
    fn fnmatch_wildcards() {
        assert!(fnmatch(b".ht*", b".htpasswd"));
        assert!(!fnmatch(b".ht*", b"x.htpasswd"));
        assert!(fnmatch(b"*.[gj]if", b"a.gif") && !fnmatch(b"*.[gj]if", b"a.tif"));
        assert!(fnmatch(b"[!a]b", b"cb") && !fnmatch(b"[!a]b", b"ab"));
        assert!(directory_matches(
            "/home/*/public_html",
            Path::new("/home/u/public_html/x")
        ));
        assert!(!directory_matches(
            "/home/*/public_html",
            Path::new("/home/u/www")
        ));
    }

    #[test]
    fn walk_merge_order_directory_then_regex_then_files_then_location() {
        let mut deny_ht = sec(r"^\.ht", Some(Require::AllDenied));
        deny_ht.regex = Some(SectionRegex::compile(r"^\.ht", false).unwrap());
        let base = Section {
            files: vec![deny_ht],
            ..Section::default()
        };
        let mut dm = sec("^/www/sub/$", Some(Require::Local));
        dm.regex = Some(SectionRegex::compile("^/www/sub/$", false).unwrap());
        let dirs = vec![
            sec("/www/sub", Some(Require::AllGranted)),
            sec("/", Some(Require::AllDenied)),
            dm,
            sec("/www", Some(Require::AllGranted)),
        ];
        let locs = vec![sec("/open", Some(Require::AllGranted))];
        let t = SectionTable::build(&base, &dirs, &locs);
        assert!(!t.htaccess_possible);
        let w = |url: &str, fs: &str| {
            t.walk(url, Path::new(fs), false, &mut no_htaccess)
                .unwrap()
                .require_or_granted()
        };
        assert_eq!(w("/a", "/www/a"), vec![Require::AllGranted]);
        assert_eq!(w("/x", "/etc/x"), vec![Require::AllDenied]);
        assert_eq!(
            w("/sub/a", "/www/sub/a"),
            vec![Require::Local],
            "regex after plain"
        );
        assert_eq!(w("/.htpasswd", "/www/.htpasswd"), vec![Require::AllDenied]);
        assert_eq!(
            w("/open/.htaccess", "/www/open/.htaccess"),
            vec![Require::AllGranted]
        );
    }

    #[test]
    fn walk_reads_htaccess_only_where_allowed() {
        let mut www = sec("/www", None);
        www.allow_override = Some(AllowOverride {
            categories: AllowOverride::AUTHCFG,
            list: Vec::new(),
        });
        let mut off = sec("/www/off", None);
        off.allow_override = Some(AllowOverride::default());
        let t = SectionTable::build(&Section::default(), &[www, off], &[]);
        assert!(t.htaccess_possible);
        let mut seen = Vec::new();
        let mut reader = |p: &Path, _: &AllowOverride| {
            seen.push(p.to_path_buf());
            Ok(None)
        };
        t.walk("/off/a/b", Path::new("/www/off/a/b"), false, &mut reader)
            .unwrap();
        t.walk("/d/", Path::new("/www/d"), true, &mut reader)
            .unwrap();
        assert_eq!(
            seen,
            vec![
                Path::new("/www").to_path_buf(),
                "/www".into(),
                "/www/d".into()
            ]
        );
    }

    #[test]
    fn file_etag_merges_as_apache() {
        let p = |a: &[&str]| {
            FileEtag::parse(&a.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap()
        };
        assert_eq!(p(&["+INode"]).bits(), FileEtag::INODE);
        assert_eq!(p(&["-Size"]).bits(), FileEtag::DEFAULT);
        assert_eq!(p(&["MTime", "-MTime", "+Size"]).bits(), FileEtag::SIZE);
        assert_eq!(p(&["None"]).bits(), 0);
        let mut merged = Section::default();
        for e in [p(&["INode", "MTime"]), p(&["-INode", "+Size"])] {
            let s = Section {
                file_etag: Some(e),
                ..Section::default()
            };
            merge_settings(&mut merged, &s);
        }
        assert_eq!(merged.etag_bits(), FileEtag::MTIME | FileEtag::SIZE);
        assert!(FileEtag::parse(&["Bogus".to_string()]).is_err());
    }

    #[test]
    fn regex_refusal_uses_apache_wording() {
        assert_eq!(
            SectionRegex::compile(r"(a)\1", false).unwrap_err(),
            "Regex could not be compiled"
        );
        assert!(SectionRegex::compile(r"^(?!x)", false).is_err());
    }
}
