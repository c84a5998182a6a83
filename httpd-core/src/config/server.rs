//! [`ServerConfig`]: the effective core configuration every MPM and the HTTP layer read.
//!
//! Defaults follow Apache 2.4: `include/httpd.h` (`DEFAULT_TIMEOUT` 60, `DEFAULT_KEEPALIVE_TIMEOUT` 5,
//! `DEFAULT_KEEPALIVE` 100, `DEFAULT_LIMIT_REQUEST_LINE` 8190, `DEFAULT_LIMIT_REQUEST_FIELDSIZE` 8190,
//! `DEFAULT_LIMIT_REQUEST_FIELDS` 100, `AP_DEFAULT_LIMIT_REQ_BODY` 1 GiB), `mpm_common.h`
//! (`DEFAULT_LISTENBACKLOG` 511, `DEFAULT_PIDLOG` "logs/httpd.pid"), `httpd.h` (`DEFAULT_ERRORLOG`
//! "logs/error_log"), `unixd.c` (User/Group "#-1").

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::mpm::MpmDirectives;
use super::sections::HtaccessReader;
pub use super::sections::{AllowOverride, SectionRegex, SectionTable};
pub use super::vhost::VirtualHost;
use crate::log::Level;
use crate::modules::reqtimeout::{ReqTimeout, ReqTimeoutSetting};

/// One `Listen` directive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ListenSpec {
    /// Address and port; port 0 means "let the kernel choose" (our addition for tests).
    pub addr: SocketAddr,
}

/// Where `ErrorLog` writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ErrorLogTarget {
    /// The terminal (`ErrorLog /dev/stderr`, the embedded default config).
    Stderr,
    /// An absolute file path, opened `O_APPEND` by the parent.
    File(PathBuf),
    /// A piped log, the target as written (`|program`, `||program`, `|$command`): see
    /// [`crate::log::piped`].
    Piped(String),
}

/// `LogLevel warn mpm_prefork:info`: a default level and per-module overrides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLevelConfig {
    /// The level for every module without an override (Apache's default: warn).
    pub default: Level,
    /// `(module short name, level)`, e.g. `("mpm_prefork", Info)`; the last one set wins.
    pub modules: Vec<(String, Level)>,
}

impl Default for LogLevelConfig {
    fn default() -> Self {
        LogLevelConfig {
            default: Level::Warn,
            modules: Vec::new(),
        }
    }
}

impl LogLevelConfig {
    /// The level in force for `module`.
    pub fn level_for(&self, module: &str) -> Level {
        self.modules
            .iter()
            .rev()
            .find(|(m, _)| m == module)
            .map_or(self.default, |(_, l)| *l)
    }
}

/// One `CustomLog` (or `TransferLog`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomLog {
    /// Absolute path of the log file, or the target as written for a piped log (`|program`,
    /// Apache's `fname`): see [`crate::log::piped`].
    pub path: PathBuf,
    /// The format string, with a `LogFormat` nickname already resolved.
    pub format: String,
}

/// `Require` lines live with the access-control modules ([`crate::modules::authz`]).
pub use crate::modules::authz::Require;

/// A `<Directory>` or `<Location>` section: the per-directory settings we support.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Section {
    /// For `<Directory>`: an absolute file-system path; for `<Location>`: a URL path; for
    /// `<Files>`: a wildcard; for the regex forms: the pattern as written.
    pub path: String,
    /// `SetHandler` inside the section (`server-status`, or `None`/`default-handler`).
    pub handler: Option<String>,
    /// `Require` lines inside the section (an implicit `<RequireAny>`).
    pub require: Option<Vec<Require>>,
    /// `AuthType`, `AuthName`, `AuthBasicProvider`, `AuthUserFile` (mod_authn_core,
    /// mod_auth_basic, mod_authn_file).
    pub authn: crate::modules::auth_basic::AuthnConfig,
    /// `Order`/`Allow`/`Deny`/`Satisfy` when the section uses any (mod_access_compat).
    pub compat: Option<crate::modules::access_compat::AccessCompat>,
    /// `SetEnvIf`, `BrowserMatch`, … in file order (mod_setenvif).
    pub setenvif: Vec<crate::modules::setenvif::SetEnvIf>,
    /// `SetEnv`, `UnsetEnv`, `PassEnv` in file order (mod_env).
    pub env_cmds: Vec<crate::modules::env::EnvCmd>,
    /// `Header` lines in file order (mod_headers).
    pub headers: Vec<crate::modules::headers::HeaderCmd>,
    /// `Some` for `<DirectoryMatch>`, `<LocationMatch>`, `<FilesMatch>` and the `~` forms.
    pub regex: Option<SectionRegex>,
    /// `AllowOverride` / `AllowOverrideList` (`<Directory>` only).
    pub allow_override: Option<AllowOverride>,
    /// `ErrorDocument` entries `(status, document)`; a message keeps Apache's leading `"`.
    pub error_documents: Vec<(u16, String)>,
    /// `FileETag` (mod_core `OR_FILEINFO`).
    pub file_etag: Option<super::sections::FileEtag>,
    /// `<Files>`/`<FilesMatch>` nested in this section (or at top level, in the base section).
    pub files: Vec<Section>,
    /// `Options` inside the section ([`super::options`]); in a merged section, the options in
    /// force as an absolute setting.
    pub options: Option<super::options::OptionsSetting>,
    /// mod_autoindex's settings: the section's own, or in a merged section those of every
    /// section that had some, merged only when a listing is made.
    pub autoindex: crate::modules::autoindex::merge::Layers,
    /// mod_mime's extension mappings (`AddType`, `AddLanguage`, …); shared, so a request
    /// whose sections add none merges nothing.
    pub mime: Option<std::sync::Arc<crate::modules::mime::MimeDir>>,
    /// `ForceType` (core), lower case; `none` cancels an outer one.
    pub force_type: Option<String>,
    /// `LanguagePriority`, `ForceLanguagePriority` (mod_negotiation).
    pub negotiation: Option<std::sync::Arc<crate::modules::negotiation::NegConfig>>,
    /// `SetOutputFilter` (core): filter names, `Some(empty)` for `none`.
    pub output_filters: Option<Vec<String>>,
    /// `AddOutputFilterByType` (mod_filter): `(filter, media types)`.
    pub filter_by_type: Vec<(String, Vec<String>)>,
    /// `RequestHeader` lines in file order (mod_headers).
    pub request_headers: Vec<crate::modules::headers::HeaderCmd>,
    /// `EnableSendfile` (core; unset: sendfile, where Apache's default is Off).
    pub enable_sendfile: Option<bool>,
    /// `EnableMMAP` (core; Apache's default On).
    pub enable_mmap: Option<bool>,
    /// `DirectoryIndex` in a section or `.htaccess` (mod_dir's per-directory list: the inner
    /// one replaces the outer; `Some(empty)` for `disabled`). `None`: the server's list.
    pub directory_index: Option<Vec<String>>,
    /// `Redirect*` in a section or `.htaccess` (mod_alias's `dirconf->redirects`, tried in
    /// the fixup phase: inner sections' entries first).
    pub redirects: Vec<crate::modules::alias::RedirectEntry>,
}

/// The configuration of the one server we run (no virtual hosts).
#[derive(Debug, Clone)]
pub struct ServerConfig {
    pub server_root: PathBuf,
    /// The file given with `-f` (absolute), `None` for the embedded default config.
    pub config_file: Option<PathBuf>,
    pub listen: Vec<ListenSpec>,
    /// ListenBacklog, default 511 (`DEFAULT_LISTENBACKLOG`).
    pub listen_backlog: i32,
    /// `AcceptFilter http` is not `none` (Linux default `data`: TCP_DEFER_ACCEPT).
    pub accept_filter_http: bool,
    pub server_name: Option<String>,
    /// Absolute.
    pub document_root: PathBuf,
    pub directory_index: Vec<String>,
    /// Absolute.
    pub pid_file: PathBuf,
    /// "#-1" unless set, like Apache (`DEFAULT_USER`).
    pub user: String,
    pub group: String,
    pub error_log: ErrorLogTarget,
    pub log_level: LogLevelConfig,
    pub custom_logs: Vec<CustomLog>,
    /// `ErrorLogFormat` (unset: the default line).
    pub error_log_format: crate::log::errorlog_format::ErrorLogFormat,
    /// `BufferedLogs On`: access-log lines buffered per child (`mod_log_config.c`, default Off).
    pub buffered_logs: bool,
    pub timeout: Duration,
    pub keep_alive: bool,
    pub keep_alive_timeout: Duration,
    /// 0 = unlimited.
    pub max_keep_alive_requests: u32,
    pub limit_request_line: usize,
    pub limit_request_field_size: usize,
    /// 0 = unlimited.
    pub limit_request_fields: usize,
    /// 0 = unlimited.
    pub limit_request_body: u64,
    /// `TypesConfig` (absolute). The http module loads it; a missing file means the built-in table.
    pub types_config: Option<PathBuf>,
    pub extended_status: bool,
    pub locations: Vec<Section>,
    pub directories: Vec<Section>,
    /// Top-level `<Files>`/`<FilesMatch>` and top-level `SetHandler` (the server's own
    /// per-directory config, which every section merges over).
    pub base_section: Section,
    /// `UseCanonicalName On`: self-referential URLs use ServerName and its port, not `Host`.
    pub use_canonical_name: bool,
    /// `AccessFileName` (default `.htaccess`).
    pub access_file_name: Vec<String>,
    /// `<VirtualHost>` sections in file order (the first one for an address is its default).
    pub vhosts: Vec<VirtualHost>,
    pub mpm: MpmDirectives,
    /// Non-MPM warnings to print once at start (without prefix, like APLOG_STARTUP).
    pub startup_warnings: Vec<String>,
    // ---- additions beyond CONTRACT.md ----
    /// `ServerAdmin` (shown on error pages with `ServerSignature EMail`).
    pub server_admin: Option<String>,
    /// `ServerTokens`: Prod, Major, Minor, Min(imal), OS, Full (default Full).
    pub server_tokens: String,
    /// `ServerSignature`: Off (default), On, EMail.
    pub server_signature: String,
    /// `AddDefaultCharset`: None = Off.
    pub add_default_charset: Option<String>,
    /// `TraceEnable` (default On).
    pub trace_enable: bool,
    /// `DefaultRuntimeDir` (absolute; default ServerRoot/logs like `DEFAULT_REL_RUNTIMEDIR`).
    pub runtime_dir: PathBuf,
    /// `Mutex … default`: what `-S` prints for the default mutex (mpm-lab has no other).
    pub mutex_default: MutexDefault,
    /// Defines in force at the end of the read (`-D` and `Define`), e.g. for `-t -D DUMP_RUN_CFG`.
    pub defines: Vec<String>,
    /// The modules the configuration's `LoadModule` lines name, in order: those that are off
    /// until loaded ([`super::modules::LOADABLE_MODULES`]) and built-in ones (`-M` shows all of
    /// them `(shared)`).
    pub loaded_modules: Vec<&'static str>,
    /// Server-level `SetEnvIf`/`BrowserMatch` lines, run when the request has been read
    /// (mod_setenvif `post_read_request`), before any section's.
    pub server_setenvif: Vec<crate::modules::setenvif::SetEnvIf>,
    /// Server-level `SetEnv`/`UnsetEnv`/`PassEnv` lines (mod_env), before any section's.
    pub server_env_cmds: Vec<crate::modules::env::EnvCmd>,
    /// Server-level `Header` lines (mod_headers), before any section's.
    pub server_headers: Vec<crate::modules::headers::HeaderCmd>,
    /// Top-level `RequestHeader` lines (run before the sections' ones).
    pub server_request_headers: Vec<crate::modules::headers::HeaderCmd>,
    /// mod_deflate's server settings (`DeflateCompressionLevel`, …).
    pub deflate: crate::modules::deflate::DeflateConfig,
    /// What `RequestReadTimeout` directives said (mod_reqtimeout).
    pub request_read_timeout_setting: ReqTimeoutSetting,
    /// mod_reqtimeout's stages when the module is loaded and not every stage is off; `None`
    /// costs a connection nothing.
    pub request_read_timeout: Option<ReqTimeout>,
    /// mod_alias (`Alias`, `ScriptAlias`, `Redirect`, …).
    pub alias: crate::modules::alias::AliasConfig,
    /// mod_cgi/mod_cgid settings.
    pub cgi: crate::modules::cgi_script::CgiConfig,
    /// `CacheNegotiatedDocs` (mod_negotiation, server-wide).
    pub cache_negotiated_docs: bool,
}

impl ServerConfig {
    /// A configuration with Apache's compiled-in defaults, rooted at `server_root`.
    pub fn with_defaults(server_root: &Path) -> ServerConfig {
        ServerConfig {
            server_root: server_root.to_path_buf(),
            config_file: None,
            listen: Vec::new(),
            listen_backlog: 511,
            accept_filter_http: true,
            server_name: None,
            document_root: server_root.join("htdocs"),
            directory_index: vec!["index.html".to_string()],
            pid_file: server_root.join("logs/httpd.pid"),
            user: "#-1".to_string(),
            group: "#-1".to_string(),
            error_log: ErrorLogTarget::File(server_root.join("logs/error_log")),
            log_level: LogLevelConfig::default(),
            custom_logs: Vec::new(),
            buffered_logs: false,
            error_log_format: Default::default(),
            timeout: Duration::from_secs(60),
            keep_alive: true,
            keep_alive_timeout: Duration::from_secs(5),
            max_keep_alive_requests: 100,
            limit_request_line: 8190,
            limit_request_field_size: 8190,
            limit_request_fields: 100,
            limit_request_body: 1 << 30,
            types_config: None,
            extended_status: true,
            locations: Vec::new(),
            directories: Vec::new(),
            base_section: Section::default(),
            access_file_name: vec![".htaccess".to_string()],
            use_canonical_name: false,
            vhosts: Vec::new(),
            mpm: MpmDirectives::default(),
            startup_warnings: Vec::new(),
            server_admin: None,
            server_tokens: "Full".to_string(),
            server_signature: "Off".to_string(),
            add_default_charset: None,
            trace_enable: true,
            runtime_dir: server_root.join("logs"),
            mutex_default: MutexDefault::default(),
            defines: Vec::new(),
            loaded_modules: Vec::new(),
            server_setenvif: Vec::new(),
            server_env_cmds: Vec::new(),
            server_headers: Vec::new(),
            server_request_headers: Vec::new(),
            deflate: Default::default(),
            request_read_timeout_setting: ReqTimeoutSetting::default(),
            request_read_timeout: None,
            alias: Default::default(),
            cgi: crate::modules::cgi_script::CgiConfig {
                script_log_length: 10_385_760,
                script_log_buffer: 1024,
                ..Default::default()
            },
            cache_negotiated_docs: false,
        }
    }

    /// `ap_server_root_relative`: absolute paths stay, others are joined to ServerRoot.
    pub fn server_root_relative(&self, p: &str) -> PathBuf {
        server_root_relative(&self.server_root, p)
    }

    /// The sections of the main server, sorted for the request walk ([`SectionTable::build`]).
    pub fn section_table(&self) -> SectionTable {
        SectionTable::build(&self.base_section, &self.directories, &self.locations)
    }

    /// The merged per-directory settings for a request, without `.htaccess` files (a
    /// convenience for tests; the HTTP layer keeps a prebuilt table).
    fn walk_no_htaccess(&self, url_path: &str, fs_path: &Path) -> Section {
        let mut none: Box<HtaccessReader<'_>> = Box::new(|_, _| Ok(None));
        self.section_table()
            .walk(url_path, fs_path, false, &mut *none)
            .unwrap_or_default()
    }

    /// The handler named by `SetHandler` for `url_path` (sections merged in Apache's order).
    /// `None` and `default-handler` both mean "serve files".
    pub fn handler_for(&self, url_path: &str) -> Option<String> {
        let fs = self.document_root.join(url_path.trim_start_matches('/'));
        self.walk_no_htaccess(url_path, &fs)
            .effective_handler()
            .map(str::to_string)
    }

    /// The `Require` in force for a request (sections merged in Apache's order).
    pub fn access_for(&self, url_path: &str, fs_path: &Path) -> crate::modules::authz::DirAccess {
        self.walk_no_htaccess(url_path, fs_path).access()
    }

    /// `Options` in force for a file (sections merged in Apache's order, no `.htaccess`).
    pub fn options_for(&self, url_path: &str, fs_path: &Path) -> u8 {
        super::options::merge(self.walk_no_htaccess(url_path, fs_path).options.iter())
    }
}

/// `ap_server_root_relative` for a given root.
pub fn server_root_relative(root: &Path, p: &str) -> PathBuf {
    let path = Path::new(p);
    if path.is_absolute() {
        path.to_path_buf()
    } else {
        root.join(path)
    }
}

#[cfg(test)]
mod tests {
    use super::super::sections::{directory_matches, location_matches};
    use super::*;

    fn cfg() -> ServerConfig {
        let mut c = ServerConfig::with_defaults(Path::new("/srv"));
        c.locations.push(Section {
            path: "/server-status".into(),
            handler: Some("server-status".into()),
            require: Some(vec![Require::Local]),
            ..Default::default()
        });
        c.locations.push(Section {
            path: "/server-status/off".into(),
            handler: Some("None".into()),
            ..Default::default()
        });
        c.directories.push(Section {
            path: "/www/private".into(),
            handler: None,
            require: Some(vec![Require::AllDenied]),
            ..Default::default()
        });
        c.directories.push(Section {
            path: "/www".into(),
            handler: None,
            require: Some(vec![Require::AllGranted]),
            ..Default::default()
        });
        c
    }

    #[test]
    fn config_handler_for_last_matching_location_wins() {
        let c = cfg();
        assert_eq!(
            c.handler_for("/server-status").as_deref(),
            Some("server-status")
        );
        assert_eq!(
            c.handler_for("/server-status?auto").as_deref(),
            Some("server-status")
        );
        assert_eq!(c.handler_for("/server-status/off/x").as_deref(), None);
        assert_eq!(c.handler_for("/index.html").as_deref(), None);
        assert_eq!(
            c.handler_for("/server-statusx").as_deref(),
            None,
            "a whole path segment must match"
        );
        assert_eq!(
            c.handler_for("/server-status/").as_deref(),
            Some("server-status")
        );
        assert!(
            location_matches("/", "/anything")
                && location_matches("/a/", "/a/b")
                && !location_matches("/a/", "/a")
        );
    }

    #[test]
    fn config_require_for_deeper_directory_wins_then_location() {
        let c = cfg();
        assert_eq!(
            c.access_for("/a", Path::new("/www/a")).require,
            vec![Require::AllGranted]
        );
        assert_eq!(
            c.access_for("/private/x", Path::new("/www/private/x"))
                .require,
            vec![Require::AllDenied]
        );
        assert_eq!(
            c.access_for("/server-status", Path::new("/www/server-status"))
                .require,
            vec![Require::Local]
        );
        // No section with Require: none in force, which check_access grants.
        assert!(
            c.access_for("/x", Path::new("/elsewhere"))
                .require
                .is_empty()
        );
        assert!(!c.directories.is_empty() && directory_matches("/www", Path::new("/www")));
        assert!(!directory_matches("/www", Path::new("/wwwx")));
    }

    #[test]
    fn config_log_level_for_module_override() {
        let l = LogLevelConfig {
            default: Level::Warn,
            modules: vec![("mpm_event".into(), Level::Info)],
        };
        assert_eq!(l.level_for("mpm_event"), Level::Info);
        assert_eq!(l.level_for("core"), Level::Warn);
    }
}

/// The `default` mutex's settings (`util_mutex.c: mutex_cfg_t`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MutexDefault {
    /// APR's name for the mechanism: `default`, `fcntl`, `flock`, `posixsem`, `sysvsem`,
    /// `pthread`.
    pub mechanism: &'static str,
    /// The lock files' directory; `None` = DefaultRuntimeDir.
    pub dir: Option<PathBuf>,
    pub omit_pid: bool,
}

impl Default for MutexDefault {
    fn default() -> Self {
        MutexDefault {
            mechanism: "default",
            dir: None,
            omit_pid: false,
        }
    }
}
