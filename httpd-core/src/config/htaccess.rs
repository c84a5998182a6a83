//! `.htaccess` files (`server/config.c: ap_parse_htaccess`): read during the directory walk
//! where `AllowOverride` permits, parsed with the same directive table as httpd.conf, each
//! directive checked against the override categories in force.
//!
//! Steps for one directory ([`read`]):
//!
//! 1. Try each `AccessFileName` in turn; the first that opens is the one read. A missing file
//!    (`ENOENT`, `ENOTDIR`) is no error; any other open error is a 403 with AH00529.
//! 2. The text is read like httpd.conf (first pass: `<IfModule>`, `${VAR}` …).
//! 3. Each directive must have an override category ([`override_category`]) among those
//!    allowed, or be in `AllowOverrideList`; otherwise `X not allowed here`. An unknown name is
//!    `Invalid command 'X', perhaps misspelled …`. Either error is a 500, logged at `alert`
//!    as `<path>: <message>` (Apache logs no AH number for it).
//! 4. The directives fill a [`Section`] merged at this depth of the walk. Nothing is cached:
//!    Apache reads the file again on every request, and so do we.

use std::io::ErrorKind;
use std::path::Path;

use super::parse::Reader;
use super::sections::AllowOverride;
use super::server::{Section, ServerConfig};
use super::walk::Walker;
use super::{ConfigError, MpmIdent};

/// Override category of a directive (`command_rec.req_override` `OR_*` bits), `None` when it is
/// not allowed in `.htaccess` at all (`RSRC_CONF`/`ACCESS_CONF` only). Listed by name so the
/// directives of every module are here, including those other work adds to the table.
pub fn override_category(name: &str) -> Option<u8> {
    const A: u8 = AllowOverride::AUTHCFG;
    const F: u8 = AllowOverride::FILEINFO;
    const I: u8 = AllowOverride::INDEXES;
    const L: u8 = AllowOverride::LIMIT;
    const O: u8 = AllowOverride::OPTIONS;
    const ALL: u8 = AllowOverride::ALL;
    #[rustfmt::skip]
    const TABLE: &[(&str, u8)] = &[
        // core.c
        ("<Files", ALL), ("<FilesMatch", ALL), ("<Limit", ALL), ("<LimitExcept", ALL),
        ("<If", ALL), ("<ElseIf", ALL), ("<Else", ALL),
        ("ServerSignature", ALL), ("AddDefaultCharset", F), ("SetHandler", F),
        ("ForceType", F), ("SetOutputFilter", F), ("SetInputFilter", F),
        ("ErrorDocument", F), ("FileETag", F), ("EnableSendfile", F), ("EnableMMAP", F),
        ("Options", O), ("AcceptPathInfo", F), ("LimitRequestBody", ALL),
        // mod_authz_core, mod_auth_basic, mod_authn_*, mod_access_compat
        ("Require", A), ("<RequireAll", A), ("<RequireAny", A), ("<RequireNone", A),
        ("AuthType", A), ("AuthName", A), ("AuthUserFile", A), ("AuthGroupFile", A),
        ("AuthBasicProvider", A), ("AuthMerging", A), ("Satisfy", A),
        ("Order", L), ("Allow", L), ("Deny", L),
        // mod_dir, mod_autoindex
        ("DirectoryIndex", I), ("DirectorySlash", I), ("FallbackResource", I),
        ("IndexOptions", I), ("IndexIgnore", I), ("AddIcon", I), ("AddIconByType", I),
        ("AddIconByEncoding", I), ("DefaultIcon", I), ("AddDescription", I),
        ("HeaderName", I), ("ReadmeName", I), ("IndexOrderDefault", I),
        ("AddAlt", I), ("AddAltByType", I), ("AddAltByEncoding", I), ("IndexIgnoreReset", I),
        ("IndexStyleSheet", I), ("IndexHeadInsert", I), ("FancyIndexing", ALL),
        // mod_mime, mod_negotiation, mod_env, mod_setenvif, mod_headers, mod_alias, mod_filter
        ("AddType", F), ("AddHandler", F), ("AddEncoding", F), ("AddCharset", F),
        ("AddLanguage", F), ("RemoveType", F), ("RemoveHandler", F), ("DefaultLanguage", F),
        ("RemoveEncoding", F), ("RemoveCharset", F), ("RemoveLanguage", F), ("MultiviewsMatch", F),
        ("AddInputFilter", F), ("AddOutputFilter", F), ("RemoveInputFilter", F),
        ("RemoveOutputFilter", F),
        ("LanguagePriority", F), ("ForceLanguagePriority", F),
        ("SetEnv", F), ("UnsetEnv", F), ("PassEnv", F),
        ("SetEnvIf", F), ("SetEnvIfNoCase", F), ("BrowserMatch", F), ("BrowserMatchNoCase", F),
        ("Header", F), ("RequestHeader", F),
        ("Redirect", F), ("RedirectMatch", F), ("RedirectTemp", F), ("RedirectPermanent", F),
        ("AddOutputFilterByType", F),
    ];
    TABLE
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, c)| *c)
}

/// Directives whose effect mpm-lab keeps per directory, so that a `.htaccess` line really
/// applies. Any other allowed directive in a `.htaccess` is refused (500) rather than accepted
/// and ignored. The Options engineer's hook: add `Options` here once it is stored in [`Section`].
const APPLIED_IN_HTACCESS: &[&str] = &[
    "Require",
    "SetHandler",
    "<Files",
    "<FilesMatch",
    "FileETag",
    // core's Options (merged over the sections' as `merge_settings` does)
    "Options",
    // mod_authn_core, mod_auth_basic, mod_authn_file, mod_access_compat (the merged section
    // carries them to the access check)
    "AuthType",
    "AuthName",
    "AuthBasicProvider",
    "AuthUserFile",
    "Order",
    "Allow",
    "Deny",
    "Satisfy",
    // mod_setenvif, mod_env, mod_headers (their commands are appended in merge order)
    "SetEnvIf",
    "SetEnvIfNoCase",
    "BrowserMatch",
    "BrowserMatchNoCase",
    "SetEnv",
    "UnsetEnv",
    "PassEnv",
    "Header",
    // mod_autoindex (its settings are layers of the merged section, like Options)
    "IndexOptions",
    "IndexIgnore",
    "IndexIgnoreReset",
    "IndexOrderDefault",
    "IndexStyleSheet",
    "IndexHeadInsert",
    "HeaderName",
    "ReadmeName",
    "AddIcon",
    "AddIconByType",
    "AddIconByEncoding",
    "AddAlt",
    "AddAltByType",
    "AddAltByEncoding",
    "AddDescription",
    "DefaultIcon",
    "FancyIndexing",
    // mod_mime, core's ForceType, mod_negotiation (their section fields merge as Apache's)
    "AddType",
    "AddHandler",
    "AddEncoding",
    "AddCharset",
    "AddLanguage",
    "RemoveType",
    "RemoveHandler",
    "RemoveEncoding",
    "RemoveCharset",
    "RemoveLanguage",
    "DefaultLanguage",
    "MultiviewsMatch",
    "ForceType",
    "LanguagePriority",
    "ForceLanguagePriority",
    // mod_headers' RequestHeader, mod_filter, core's SetOutputFilter/EnableSendfile/EnableMMAP
    // (kept in the merged section)
    "RequestHeader",
    "AddOutputFilterByType",
    "SetOutputFilter",
    "EnableSendfile",
    "EnableMMAP",
    // core's ErrorDocument, mod_dir's DirectoryIndex, mod_alias's redirects (fixup_redir)
    "ErrorDocument",
    "DirectoryIndex",
    "Redirect",
    "RedirectMatch",
    "RedirectTemp",
    "RedirectPermanent",
    // mod_mime's AddOutputFilter (DEFLATE) and RemoveOutputFilter (the mime field merges)
    "AddOutputFilter",
    "RemoveOutputFilter",
];

/// Why a `.htaccess` could not be used, with the status Apache answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HtaccessError {
    /// 500 for a bad line, 403 for an unreadable file.
    pub status: u16,
    /// The error-log line after the `[core:alert]` prefix.
    pub log: String,
}

/// Step 1–4 of the module doc for the directory `dir`.
pub fn read(
    cfg: &ServerConfig,
    dir: &Path,
    allowed: &AllowOverride,
) -> Result<Option<Section>, HtaccessError> {
    for name in &cfg.access_file_name {
        let path = dir.join(name);
        let text = match std::fs::read(&path) {
            Ok(t) => String::from_utf8_lossy(&t).into_owned(),
            Err(e) if matches!(e.kind(), ErrorKind::NotFound | ErrorKind::NotADirectory) => {
                continue;
            }
            Err(e) => {
                return Err(HtaccessError {
                    status: 403,
                    log: format!(
                        "({}){e}: AH00529: {} pcfg_openfile: unable to check htaccess file, ensure it is readable and that '{}/' is executable",
                        e.raw_os_error().unwrap_or(0),
                        path.display(),
                        dir.display()
                    ),
                });
            }
        };
        return parse(cfg, &path, &text, allowed)
            .map(Some)
            .map_err(|e| HtaccessError {
                status: 500,
                log: format!("{}: {}", path.display(), e.message),
            });
    }
    Ok(None)
}

/// Steps 2–3: `text` (from `path`) as a [`Section`].
pub fn parse(
    cfg: &ServerConfig,
    path: &Path,
    text: &str,
    allowed: &AllowOverride,
) -> Result<Section, ConfigError> {
    // Which MPM runs does not matter here: MPM directives are never allowed in .htaccess.
    let mpm = &MpmIdent::PREFORK;
    // The first pass would run these (EXEC_ON_READ); Apache refuses them in .htaccess
    // (RSRC_CONF only), so refuse them before reading: no Include of arbitrary files.
    for ll in super::parse::logical_lines(text) {
        let (name, _) = super::parse::getword_conf(&ll.text);
        if let Some(d) = super::directives::lookup(&name)
            .filter(|d| d.exec_on_read && d.args != super::directives::Args::Section)
        {
            return Err(ConfigError::walk(
                &path.display().to_string(),
                ll.line,
                format!("{} not allowed here", d.name),
            ));
        }
    }
    let mut reader = Reader::new(mpm, cfg.server_root.clone(), cfg.defines.clone());
    reader.loaded.clone_from(&cfg.loaded_modules);
    let nodes = reader.read_source(&path.display().to_string(), text)?;
    let mut w = Walker::new(mpm, &cfg.server_root);
    w.cfg.loaded_modules.clone_from(&cfg.loaded_modules);
    w.htaccess = Some(allowed.clone());
    w.htaccess_dir = path
        .parent()
        .map(|d| format!("{}/", d.display().to_string().trim_end_matches('/')));
    w.walk(&nodes)?;
    Ok(w.cfg.base_section)
}

/// The check of step 3, called by the walker for every `.htaccess` directive.
pub(super) fn check(name: &str, allowed: &AllowOverride) -> Result<(), String> {
    let listed = allowed.list.iter().any(|d| d.eq_ignore_ascii_case(name));
    let by_category = override_category(name).is_some_and(|c| c & allowed.categories != 0);
    if !listed && !by_category {
        return Err(format!("{name} not allowed here"));
    }
    if !APPLIED_IN_HTACCESS
        .iter()
        .any(|d| d.eq_ignore_ascii_case(name))
    {
        return Err(format!(
            "{name} is not supported in .htaccess files by mpm-lab (put it in the server configuration)"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Require;

    fn allow(c: u8) -> AllowOverride {
        AllowOverride {
            categories: c,
            list: Vec::new(),
        }
    }

    #[test]
    fn htaccess_categories_and_errors() {
        let cfg = ServerConfig::with_defaults(Path::new("/srv"));
        let p = Path::new("/www/.htaccess");
        let s = parse(
            &cfg,
            p,
            "Require all denied\n",
            &allow(AllowOverride::AUTHCFG),
        )
        .unwrap();
        assert_eq!(s.require, Some(vec![Require::AllDenied]));
        let e = parse(
            &cfg,
            p,
            "Require all denied\n",
            &allow(AllowOverride::FILEINFO),
        )
        .unwrap_err();
        assert_eq!(e.message, "Require not allowed here");
        let e = parse(&cfg, p, "Bogus x\n", &allow(AllowOverride::ALL)).unwrap_err();
        assert!(
            e.message
                .starts_with("Invalid command 'Bogus', perhaps misspelled")
        );
        let e = parse(&cfg, p, "Listen 80\n", &allow(AllowOverride::ALL)).unwrap_err();
        assert_eq!(e.message, "Listen not allowed here");
        let e = parse(&cfg, p, "Include /etc/passwd\n", &allow(AllowOverride::ALL)).unwrap_err();
        assert_eq!(e.message, "Include not allowed here");
        let list = AllowOverride {
            categories: 0,
            list: vec!["require".into()],
        };
        assert!(parse(&cfg, p, "Require local\n", &list).is_ok());
        let s = parse(
            &cfg,
            p,
            "<Files secret.txt>\nRequire all denied\n</Files>\n",
            &allow(AllowOverride::AUTHCFG),
        )
        .unwrap();
        assert_eq!(s.files.len(), 1);
    }

    #[test]
    fn htaccess_file_info_lines_fill_the_section() {
        let mut cfg = ServerConfig::with_defaults(Path::new("/srv"));
        cfg.loaded_modules = vec!["alias", "deflate"];
        let p = Path::new("/www/.htaccess");
        let fi = allow(AllowOverride::FILEINFO);
        let s = parse(
            &cfg,
            p,
            "ErrorDocument 404 /nf.html
Redirect /a http://x/
AddOutputFilter DEFLATE .txt
",
            &fi,
        )
        .unwrap();
        assert_eq!(s.error_documents, vec![(404, "/nf.html".to_string())]);
        assert_eq!(s.redirects.len(), 1);
        assert!(s.mime.is_some());
        let s = parse(
            &cfg,
            p,
            "DirectoryIndex a.html b.html
",
            &allow(AllowOverride::INDEXES),
        );
        assert_eq!(
            s.unwrap().directory_index,
            Some(vec!["a.html".into(), "b.html".into()])
        );
        let e = parse(
            &cfg,
            p,
            "DirectoryIndex a.html
",
            &fi,
        )
        .unwrap_err();
        assert_eq!(e.message, "DirectoryIndex not allowed here");
        // Apache's expression form, and filters mpm-lab does not have: refused.
        assert!(
            parse(
                &cfg,
                p,
                "Redirect 301 http://x/
",
                &fi
            )
            .is_err()
        );
        let e = parse(
            &cfg,
            p,
            "AddOutputFilter INFLATE .gz
",
            &fi,
        )
        .unwrap_err();
        assert!(e.message.contains("INFLATE"), "{}", e.message);
        assert!(
            parse(
                &cfg,
                p,
                "AddInputFilter DEFLATE .gz
",
                &fi
            )
            .is_err()
        );
        cfg.loaded_modules = vec!["alias"];
        let e = parse(
            &cfg,
            p,
            "AddOutputFilter DEFLATE .txt
",
            &fi,
        )
        .unwrap_err();
        assert!(
            e.message.contains("LoadModule deflate_module"),
            "{}",
            e.message
        );
    }
}
