//! [`ServerConfig`]: the effective core configuration every MPM and the HTTP layer read.
//!
//! Defaults follow Apache 2.4: `include/httpd.h` (`DEFAULT_TIMEOUT` 60, `DEFAULT_KEEPALIVE_TIMEOUT` 5,
//! `DEFAULT_KEEPALIVE` 100, `DEFAULT_LIMIT_REQUEST_LINE` 8190, `DEFAULT_LIMIT_REQUEST_FIELDSIZE` 8190,
//! `DEFAULT_LIMIT_REQUEST_FIELDS` 100, `AP_DEFAULT_LIMIT_REQ_BODY` 1 GiB), `mpm_common.h`
//! (`DEFAULT_LISTENBACKLOG` 511, `DEFAULT_PIDLOG` "logs/httpd.pid"), `httpd.h` (`DEFAULT_ERRORLOG`
//! "logs/error_log"), `unixd.c` (User/Group "#-1").

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::mpm::MpmDirectives;
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
    /// Absolute path of the log file.
    pub path: PathBuf,
    /// The format string, with a `LogFormat` nickname already resolved.
    pub format: String,
}

/// `Require all granted | all denied | local` (mod_authz_core, mod_authz_host).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Require {
    AllGranted,
    AllDenied,
    /// Loopback clients only (`Require local`: 127.0.0.0/8, ::1, or client address = server address).
    Local,
}

impl Require {
    /// Whether a client at `client` (talking to our `local` address) passes.
    pub fn allows(self, client: IpAddr, local: IpAddr) -> bool {
        match self {
            Require::AllGranted => true,
            Require::AllDenied => false,
            Require::Local => client.is_loopback() || client == local,
        }
    }
}

/// A `<Directory>` or `<Location>` section: the per-directory settings we support.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Section {
    /// For `<Directory>`: an absolute file-system path; for `<Location>`: a URL path.
    pub path: String,
    /// `SetHandler` inside the section (`server-status`, or `None`/`default-handler`).
    pub handler: Option<String>,
    /// `Require` inside the section.
    pub require: Option<Require>,
    /// `Options` inside the section ([`super::options`]).
    pub options: Option<super::options::OptionsSetting>,
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
    /// Defines in force at the end of the read (`-D` and `Define`), e.g. for `-t -D DUMP_RUN_CFG`.
    pub defines: Vec<String>,
    /// Modules that are off until `LoadModule` names them ([`super::modules::LOADABLE_MODULES`])
    /// and that the configuration loaded.
    pub loaded_modules: Vec<&'static str>,
    /// What `RequestReadTimeout` directives said (mod_reqtimeout).
    pub request_read_timeout_setting: ReqTimeoutSetting,
    /// mod_reqtimeout's stages when the module is loaded and not every stage is off; `None`
    /// costs a connection nothing.
    pub request_read_timeout: Option<ReqTimeout>,
    /// mod_alias (`Alias`, `ScriptAlias`, `Redirect`, …).
    pub alias: crate::modules::alias::AliasConfig,
    /// mod_cgi/mod_cgid settings and mod_mime's `AddHandler`.
    pub cgi: crate::modules::cgi_script::CgiConfig,
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
            mpm: MpmDirectives::default(),
            startup_warnings: Vec::new(),
            server_admin: None,
            server_tokens: "Full".to_string(),
            server_signature: "Off".to_string(),
            add_default_charset: None,
            trace_enable: true,
            runtime_dir: server_root.join("logs"),
            defines: Vec::new(),
            loaded_modules: Vec::new(),
            request_read_timeout_setting: ReqTimeoutSetting::default(),
            request_read_timeout: None,
            alias: Default::default(),
            cgi: crate::modules::cgi_script::CgiConfig {
                script_log_length: 10_385_760,
                script_log_buffer: 1024,
                ..Default::default()
            },
        }
    }

    /// `ap_server_root_relative`: absolute paths stay, others are joined to ServerRoot.
    pub fn server_root_relative(&self, p: &str) -> PathBuf {
        server_root_relative(&self.server_root, p)
    }

    /// The handler named by `SetHandler` in the `<Location>` sections matching `url_path`
    /// (the last matching section wins, as Apache merges sections in file order).
    /// `None` and `default-handler` both mean "serve files".
    pub fn handler_for(&self, url_path: &str) -> Option<&str> {
        let mut handler = None;
        for s in self
            .locations
            .iter()
            .filter(|s| location_matches(&s.path, url_path))
        {
            if let Some(h) = &s.handler {
                handler = Some(h.as_str());
            }
        }
        handler.filter(|h| {
            !h.eq_ignore_ascii_case("none") && !h.eq_ignore_ascii_case("default-handler")
        })
    }

    /// The `Require` in force: `<Directory>` sections (shortest path first, as Apache's
    /// `ap_directory_walk`), then `<Location>` sections in file order; the last one that sets
    /// `Require` wins. Without any, access is granted (we have no `<Directory />` denial default).
    pub fn require_for(&self, url_path: &str, fs_path: &Path) -> Require {
        self.sections_for(url_path, fs_path)
            .iter()
            .rev()
            .find_map(|s| s.require)
            .unwrap_or(Require::AllGranted)
    }

    /// `Options` in force for a file ([`super::options::merge`] over the same sections, same
    /// order as [`ServerConfig::require_for`]).
    pub fn options_for(&self, url_path: &str, fs_path: &Path) -> u8 {
        super::options::merge(
            self.sections_for(url_path, fs_path)
                .iter()
                .filter_map(|s| s.options.as_ref()),
        )
    }

    /// The sections that apply, in Apache's merge order.
    fn sections_for(&self, url_path: &str, fs_path: &Path) -> Vec<&Section> {
        let mut dirs: Vec<&Section> = self
            .directories
            .iter()
            .filter(|s| directory_matches(&s.path, fs_path))
            .collect();
        // Stable sort: same-length paths keep file order.
        dirs.sort_by_key(|s| s.path.trim_end_matches('/').len());
        let locs = self
            .locations
            .iter()
            .filter(|s| location_matches(&s.path, url_path));
        // The last section that says something wins: walk from the end.
        dirs.into_iter().chain(locs).collect()
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

/// `<Location /x>` matches `/x`, `/x/…` (and `/x?query`), not `/xyz` (Apache manual, `<Location>`:
/// "/private1" matches "/private1/file.txt" but not "/private1other"). A section ending in `/`
/// matches only below it.
fn location_matches(section: &str, url_path: &str) -> bool {
    match url_path.strip_prefix(section) {
        None => false,
        Some(rest) => section.ends_with('/') || rest.is_empty() || rest.starts_with(['/', '?']),
    }
}

/// `<Directory /a/b>` matches `/a/b` and everything below it, component-wise.
fn directory_matches(section: &str, fs_path: &Path) -> bool {
    fs_path.starts_with(Path::new(section))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> ServerConfig {
        let mut c = ServerConfig::with_defaults(Path::new("/srv"));
        c.locations.push(Section {
            path: "/server-status".into(),
            handler: Some("server-status".into()),
            require: Some(Require::Local),
            options: None,
        });
        c.locations.push(Section {
            path: "/server-status/off".into(),
            handler: Some("None".into()),
            require: None,
            options: None,
        });
        c.directories.push(Section {
            path: "/www/private".into(),
            handler: None,
            require: Some(Require::AllDenied),
            options: None,
        });
        c.directories.push(Section {
            path: "/www".into(),
            handler: None,
            require: Some(Require::AllGranted),
            options: None,
        });
        c
    }

    #[test]
    fn config_handler_for_last_matching_location_wins() {
        let c = cfg();
        assert_eq!(c.handler_for("/server-status"), Some("server-status"));
        assert_eq!(c.handler_for("/server-status?auto"), Some("server-status"));
        assert_eq!(c.handler_for("/server-status/off/x"), None);
        assert_eq!(c.handler_for("/index.html"), None);
        assert_eq!(
            c.handler_for("/server-statusx"),
            None,
            "a whole path segment must match"
        );
        assert_eq!(c.handler_for("/server-status/"), Some("server-status"));
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
            c.require_for("/a", Path::new("/www/a")),
            Require::AllGranted
        );
        assert_eq!(
            c.require_for("/private/x", Path::new("/www/private/x")),
            Require::AllDenied
        );
        assert_eq!(
            c.require_for("/server-status", Path::new("/www/server-status")),
            Require::Local
        );
        assert_eq!(
            c.require_for("/x", Path::new("/elsewhere")),
            Require::AllGranted
        );
        assert!(!c.directories.is_empty() && directory_matches("/www", Path::new("/www")));
        assert!(!directory_matches("/www", Path::new("/wwwx")));
    }

    #[test]
    fn config_require_local_allows_loopback_only() {
        let local: IpAddr = "10.0.0.1".parse().unwrap();
        assert!(Require::Local.allows("127.0.0.1".parse().unwrap(), local));
        assert!(Require::Local.allows("::1".parse().unwrap(), local));
        assert!(Require::Local.allows(local, local));
        assert!(!Require::Local.allows("10.0.0.2".parse().unwrap(), local));
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
