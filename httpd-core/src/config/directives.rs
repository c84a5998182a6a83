//! The one directive table ([`DIRECTIVES`]) and the second pass that applies it ([`Walker`],
//! Apache `config.c: ap_walk_config`, `invoke_cmd`).
//!
//! Each row says what Apache's `command_rec` says (name, where it may appear, how its arguments
//! are split, the help text Apache appends to argument errors) plus the default with its source
//! in Apache and our parser. `--help`/`-L` ([`directive_list_text`]) and the book's directive
//! reference ([`directive_reference_markdown`]) are generated from it, so they cannot drift.
//!
//! Directives marked `exec_on_read` run in the first pass ([`super::parse`]); their row still
//! gives their argument rules and help.

use std::net::{IpAddr, Ipv4Addr, SocketAddr, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::mpm::atoi;
use super::parse::{Node, getword_conf, words};
use super::server::{CustomLog, ErrorLogTarget, ListenSpec, Require, Section, ServerConfig, server_root_relative};
use super::{ConfigError, MpmIdent};
use crate::log::{Level, compile_format};

/// Where a directive may appear (Apache's `RSRC_CONF`, `ACCESS_CONF`, `OR_*` bits, simplified to
/// the two contexts we have).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Context {
    /// Only at the top level of the configuration ("server config").
    Server,
    /// Only inside `<Directory>`/`<Location>` (e.g. `Require`).
    Directory,
    /// Both.
    Any,
}

/// How the arguments are split (Apache's `cmd_how`), which decides the argument-count errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Args {
    /// `TAKE1`: "X takes one argument, <help>".
    Take1,
    /// `TAKE2`: "X takes two arguments, <help>".
    Take2,
    /// `TAKE12`: "X takes 1-2 arguments, <help>".
    Take12,
    /// `TAKE23`: "X takes two or three arguments, <help>".
    Take23,
    /// `FLAG`: "X must be On or Off".
    Flag,
    /// `ITERATE`: one or more words, "X requires at least one argument, <help>".
    Iterate,
    /// `TAKE_ARGV`: all words, the parser checks the count.
    Argv,
    /// `RAW_ARGS`: the text as written.
    Raw,
    /// A `<Section arg>` container.
    Section,
}

/// Which MPMs know a directive (a directive of another MPM is an "Invalid command", as in Apache).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mpms {
    All,
    Only(&'static [&'static str]),
}

/// A directive's parser: gets the split arguments, fills the walker's config.
pub type Apply = fn(&mut Walker<'_>, &[String]) -> Result<(), String>;

/// One row of the table.
pub struct Directive {
    /// Canonical spelling (sections start with `<`).
    pub name: &'static str,
    pub context: Context,
    pub args: Args,
    /// Syntax as in the Apache manual.
    pub syntax: &'static str,
    /// Default and where Apache defines it.
    pub default: &'static str,
    /// Apache's one-line help (appended to argument errors, shown by `-L`).
    pub help: &'static str,
    /// Apache module that owns it (for `-L` and the reference).
    pub module: &'static str,
    pub mpms: Mpms,
    /// Runs in the first pass (Apache's `EXEC_ON_READ`).
    pub exec_on_read: bool,
    pub apply: Apply,
}

const PREFORK: &[&str] = &["prefork"];
const THREADED: &[&str] = &["worker", "event"];
const EVENT: &[&str] = &["event"];
const ALL3: &[&str] = &["prefork", "worker", "event"];

macro_rules! d {
    ($name:expr, $ctx:ident, $args:ident, $syntax:expr, $default:expr, $module:expr, $mpms:expr, $help:expr, $apply:expr) => {
        Directive {
            name: $name,
            context: Context::$ctx,
            args: Args::$args,
            syntax: $syntax,
            default: $default,
            help: $help,
            module: $module,
            mpms: $mpms,
            exec_on_read: false,
            apply: $apply,
        }
    };
}

macro_rules! on_read {
    ($name:expr, $args:ident, $syntax:expr, $default:expr, $module:expr, $help:expr) => {
        Directive {
            name: $name,
            context: Context::Server,
            args: Args::$args,
            syntax: $syntax,
            default: $default,
            help: $help,
            module: $module,
            mpms: Mpms::All,
            exec_on_read: true,
            apply: |_, _| Ok(()),
        }
    };
}

/// Every directive mpm-lab accepts.
pub static DIRECTIVES: &[Directive] = &[
    // ---- sections ----
    d!("<Directory", Server, Section, "<Directory directory-path> ... </Directory>", "-", "core", Mpms::All,
       "Container for directives affecting resources located in the specified directories", |_, _| Ok(())),
    d!("<Location", Server, Section, "<Location URL-path> ... </Location>", "-", "core", Mpms::All,
       "Container for directives affecting resources accessed through the specified URL paths", |_, _| Ok(())),
    d!("<DirectoryMatch", Server, Section, "<DirectoryMatch regex> ... </DirectoryMatch>", "-", "core", Mpms::All,
       "Container for directives affecting resources located in the specified directories (checked, not applied by mpm-lab)", |_, _| Ok(())),
    d!("<LocationMatch", Server, Section, "<LocationMatch regex> ... </LocationMatch>", "-", "core", Mpms::All,
       "Container for directives affecting resources accessed through the specified URL paths (checked, not applied by mpm-lab)", |_, _| Ok(())),
    d!("<Files", Any, Section, "<Files filename> ... </Files>", "-", "core", Mpms::All,
       "Container for directives affecting files matching specified patterns (checked, not applied by mpm-lab)", |_, _| Ok(())),
    d!("<FilesMatch", Any, Section, "<FilesMatch regex> ... </FilesMatch>", "-", "core", Mpms::All,
       "Container for directives affecting files matching specified patterns (checked, not applied by mpm-lab)", |_, _| Ok(())),
    d!("<VirtualHost", Server, Section, "<VirtualHost addr[:port] ...> ... </VirtualHost>", "-", "core", Mpms::All,
       "Container to map directives to a particular virtual host (not supported by mpm-lab)", |_, _| Ok(())),
    on_read!("<IfModule", Section, "<IfModule [!]module-file|module-identifier> ... </IfModule>", "-", "core",
       "Container for directives based on existence of specified modules"),
    on_read!("<IfDefine", Section, "<IfDefine [!]parameter-name> ... </IfDefine>", "-", "core",
       "Container for directives based on existence of command line defines"),
    on_read!("<IfFile", Section, "<IfFile [!]filename> ... </IfFile>", "-", "core",
       "Container for directives based on existence of files on disk"),
    on_read!("<IfDirective", Section, "<IfDirective [!]directive-name> ... </IfDirective>", "-", "core",
       "Container for directives based on existence of named directive"),
    // ---- read-time directives ----
    on_read!("Include", Take1, "Include file-path|directory-path|wildcard", "-", "core",
       "Name(s) of the config file(s) to be included; fails if the wildcard does not match at least one file"),
    on_read!("IncludeOptional", Take1, "IncludeOptional file-path|directory-path|wildcard", "-", "core",
       "Name or pattern of the config file(s) to be included; ignored if the file does not exist or the pattern does not match any files"),
    on_read!("Define", Take12, "Define parameter-name [parameter-value]", "-", "core",
       "Define a variable, optionally to a value.  Same as passing -D to the command line."),
    on_read!("UnDefine", Take1, "UnDefine parameter-name", "-", "core",
       "Undefine the existence of a variable. Undo a Define."),
    on_read!("ServerRoot", Take1, "ServerRoot directory-path", "/tmp/mpm-lab-<binary>-<uid> (Apache: HTTPD_ROOT)", "core",
       "Common directory of server-related files (logs, confs, etc.)"),
    on_read!("LoadModule", Take2, "LoadModule module filename", "-", "mod_so",
       "a module name and the name of a shared object file to load it from"),
    // ---- core: listening ----
    d!("Listen", Server, Argv, "Listen [IP-address:]portnumber [protocol]", "none", "mpm_common", Mpms::All,
       "A port number or a numeric IP address and a port number, and an optional protocol", set_listen),
    d!("ListenBacklog", Server, Take1, "ListenBacklog backlog", "511 (mpm_common.h DEFAULT_LISTENBACKLOG)", "mpm_common", Mpms::All,
       "Maximum length of the queue of pending connections, as used by listen(2)", |w, a| {
        let b = atoi(&a[0]);
        if b < 1 {
            return Err("ListenBacklog must be > 0".into());
        }
        w.cfg.listen_backlog = i32::try_from(b).unwrap_or(i32::MAX);
        Ok(())
    }),
    d!("ListenCoresBucketsRatio", Server, Take1, "ListenCoresBucketsRatio ratio", "0 (no buckets)", "mpm_common", Mpms::All,
       "Ratio between the number of CPU cores (online) and the number of listeners buckets", |w, a| {
        let b = atoi(&a[0]);
        if b < 1 {
            return Err("ListenCoresBucketsRatio must be > 0".into());
        }
        w.cfg.mpm.listen_cores_buckets_ratio = Some(b);
        Ok(())
    }),
    // ---- core: server identity and files ----
    d!("ServerName", Server, Take1, "ServerName [scheme://]domain-name|ip-address[:port]", "the host name", "core", Mpms::All,
       "The hostname and port of the server", |w, a| {
        w.cfg.server_name = Some(a[0].clone());
        Ok(())
    }),
    d!("ServerAdmin", Server, Take1, "ServerAdmin email-address|URL", "none", "core", Mpms::All,
       "The email address of the server administrator", |w, a| {
        w.cfg.server_admin = Some(a[0].clone());
        Ok(())
    }),
    d!("DocumentRoot", Server, Take1, "DocumentRoot directory-path", "htdocs (relative to ServerRoot; httpd.h DOCUMENT_LOCATION)", "core", Mpms::All,
       "Root directory of the document tree", |w, a| {
        let p = w.root_relative(&a[0]);
        if !p.is_dir() {
            w.cfg.startup_warnings.push(format!("AH00112: Warning: DocumentRoot [{}] does not exist", p.display()));
        }
        w.cfg.document_root = p;
        Ok(())
    }),
    d!("DirectoryIndex", Any, Iterate, "DirectoryIndex disabled | local-url [local-url] ...", "index.html (mod_dir)", "mod_dir", Mpms::All,
       "a list of file names", |w, a| {
        if !w.directory_index_set {
            w.cfg.directory_index.clear();
            w.directory_index_set = true;
        }
        for name in a {
            if name.eq_ignore_ascii_case("disabled") {
                w.cfg.directory_index.clear();
            } else {
                w.cfg.directory_index.push(name.clone());
            }
        }
        Ok(())
    }),
    d!("PidFile", Server, Take1, "PidFile filename", "logs/httpd.pid (mpm_common.h DEFAULT_PIDLOG)", "mpm_common", Mpms::All,
       "A file for logging the server process ID", |w, a| {
        w.pid_file = Some(a[0].clone());
        Ok(())
    }),
    d!("DefaultRuntimeDir", Server, Take1, "DefaultRuntimeDir directory-path", "logs (httpd.h DEFAULT_REL_RUNTIMEDIR)", "core", Mpms::All,
       "Common directory for run-time files (shared memory, locks, etc.)", |w, a| {
        let p = w.root_relative(&a[0]);
        if !p.is_dir() {
            return Err("DefaultRuntimeDir must be a valid directory, absolute or relative to ServerRoot".into());
        }
        w.cfg.runtime_dir = p;
        w.runtime_dir_set = true;
        Ok(())
    }),
    d!("User", Server, Take1, "User unix-userid", "#-1 (unixd.h DEFAULT_USER)", "mod_unixd", Mpms::All,
       "Effective user id for this server", |w, a| {
        w.cfg.user = a[0].clone();
        Ok(())
    }),
    d!("Group", Server, Take1, "Group unix-group", "#-1 (unixd.h DEFAULT_GROUP)", "mod_unixd", Mpms::All,
       "Effective group id for this server", |w, a| {
        w.cfg.group = a[0].clone();
        Ok(())
    }),
    d!("Mutex", Server, Raw, "Mutex mechanism [default|mutex-name] ... [OmitPID]", "default", "core", Mpms::All,
       "mutex (or \"default\") and mechanism", |w, _| {
        w.cfg.startup_warnings.push(
            "mpm-lab: Mutex is accepted and ignored: children accept on the shared listening socket without an accept mutex".into(),
        );
        Ok(())
    }),
    // ---- logs ----
    d!("ErrorLog", Server, Take1, "ErrorLog file-path", "logs/error_log (httpd.h DEFAULT_ERRORLOG)", "core", Mpms::All,
       "The filename of the error log", |w, a| {
        let v = &a[0];
        if v.starts_with('|') || v.to_ascii_lowercase().starts_with("syslog") {
            return Err(format!("ErrorLog {v}: mpm-lab writes the error log to a file or /dev/stderr only (piped logs and syslog are not supported)"));
        }
        w.cfg.error_log = if v == "/dev/stderr" { ErrorLogTarget::Stderr } else { ErrorLogTarget::File(w.root_relative(v)) };
        Ok(())
    }),
    d!("LogLevel", Server, Iterate, "LogLevel [module:]level [module:level] ...", "warn (http_log.h DEFAULT_LOGLEVEL)", "core", Mpms::All,
       "Level of verbosity in error logging", |w, a| {
        for arg in a {
            w.log_level(arg)?;
        }
        Ok(())
    }),
    d!("LogFormat", Server, Take12, "LogFormat format|nickname [nickname]", "\"%h %l %u %t \\\"%r\\\" %>s %b\" (common)", "mod_log_config", Mpms::All,
       "a log format string (see docs) and an optional format name", |w, a| {
        // The second word is a nickname; a bare nickname as first word copies a defined format.
        let format = w.format_or_nickname(&a[0]);
        compile_format(&format).map_err(|e| e.to_string())?;
        match a.get(1) {
            Some(nick) => w.log_formats.push((nick.clone(), format)),
            None => w.default_format = format,
        }
        Ok(())
    }),
    d!("CustomLog", Server, Take23, "CustomLog file format|nickname [env=[!]environment-variable]", "none", "mod_log_config", Mpms::All,
       "a file name, a custom log format string or format name, and an optional \"env=\" or \"expr=\" clause (see docs)", |w, a| {
        if a[0].starts_with('|') {
            return Err(format!("CustomLog {}: piped logs are not supported by mpm-lab", a[0]));
        }
        if let Some(cond) = a.get(2) {
            if !(cond.starts_with("env=") || cond.starts_with("expr=")) {
                return Err("error in condition clause".into());
            }
            w.cfg.startup_warnings.push(format!("mpm-lab: CustomLog condition '{cond}' is ignored: every request is logged"));
        }
        let path = w.root_relative(&a[0]);
        w.pending_logs.push((path, a[1].clone()));
        Ok(())
    }),
    d!("TransferLog", Server, Take1, "TransferLog file", "none", "mod_log_config", Mpms::All,
       "the filename of the access log", |w, a| {
        if a[0].starts_with('|') {
            return Err(format!("TransferLog {}: piped logs are not supported by mpm-lab", a[0]));
        }
        let path = w.root_relative(&a[0]);
        w.pending_logs.push((path, String::new()));
        Ok(())
    }),
    // ---- HTTP core ----
    d!("Timeout", Server, Take1, "Timeout seconds", "60 (httpd.h DEFAULT_TIMEOUT)", "core", Mpms::All,
       "Timeout duration (sec)", |w, a| {
        w.cfg.timeout = Duration::from_secs(u64::try_from(atoi(&a[0])).unwrap_or(0));
        Ok(())
    }),
    d!("KeepAlive", Server, Flag, "KeepAlive On|Off", "On", "http_core", Mpms::All,
       "Whether persistent connections should be On or Off", |w, a| {
        w.cfg.keep_alive = a[0].eq_ignore_ascii_case("on");
        Ok(())
    }),
    d!("KeepAliveTimeout", Server, Take1, "KeepAliveTimeout num[ms]", "5 (httpd.h DEFAULT_KEEPALIVE_TIMEOUT)", "http_core", Mpms::All,
       "Keep-Alive timeout duration (sec)", |w, a| {
        w.cfg.keep_alive_timeout = parse_timeout(&a[0]).ok_or("KeepAliveTimeout has wrong format")?;
        Ok(())
    }),
    d!("MaxKeepAliveRequests", Server, Take1, "MaxKeepAliveRequests number", "100 (httpd.h DEFAULT_KEEPALIVE)", "http_core", Mpms::All,
       "Maximum number of Keep-Alive requests per connection, or 0 for infinite", |w, a| {
        // Apache stores atoi's int; anything <= 0 means "no limit" where it is used.
        w.cfg.max_keep_alive_requests = u32::try_from(atoi(&a[0]).max(0)).unwrap_or(u32::MAX);
        Ok(())
    }),
    d!("LimitRequestLine", Server, Take1, "LimitRequestLine bytes", "8190 (httpd.h DEFAULT_LIMIT_REQUEST_LINE)", "core", Mpms::All,
       "Limit on maximum size of an HTTP request line", |w, a| {
        w.cfg.limit_request_line = non_negative(&a[0], "LimitRequestLine", "")?;
        Ok(())
    }),
    d!("LimitRequestFieldSize", Server, Take1, "LimitRequestFieldSize bytes", "8190 (httpd.h DEFAULT_LIMIT_REQUEST_FIELDSIZE)", "core", Mpms::All,
       "Limit on maximum size of an HTTP request header field", |w, a| {
        // Apache's message spells it "LimitRequestFieldsize".
        w.cfg.limit_request_field_size = non_negative(&a[0], "LimitRequestFieldsize", "")?;
        Ok(())
    }),
    d!("LimitRequestFields", Server, Take1, "LimitRequestFields number", "100 (httpd.h DEFAULT_LIMIT_REQUEST_FIELDS)", "core", Mpms::All,
       "Limit (0 = unlimited) on max number of header fields in a request message", |w, a| {
        w.cfg.limit_request_fields = non_negative(&a[0], "LimitRequestFields", " (0 = no limit)")?;
        Ok(())
    }),
    d!("LimitRequestBody", Server, Take1, "LimitRequestBody bytes", "1073741824 (httpd.h AP_DEFAULT_LIMIT_REQ_BODY)", "core", Mpms::All,
       "Limit (in bytes) on maximum size of request message body", |w, a| {
        w.cfg.limit_request_body = parse_body_limit(&a[0])?;
        Ok(())
    }),
    d!("HttpProtocolOptions", Server, Iterate, "HttpProtocolOptions [Strict|Unsafe] [RegisteredMethods|LenientMethods] [Allow0.9|Require1.0]", "Strict LenientMethods Allow0.9", "core", Mpms::All,
       "'Allow0.9' or 'Require1.0' (default); 'RegisteredMethods' or 'LenientMethods' (default); 'Unsafe' or 'Strict' (default). Sets HTTP acceptance rules", |_, a| {
        for opt in a {
            let o = opt.to_ascii_lowercase();
            match o.as_str() {
                "strict" | "lenientmethods" | "allow0.9" => {}
                "unsafe" | "registeredmethods" | "require1.0" => {
                    return Err(format!("HttpProtocolOptions {opt}: mpm-lab implements only the defaults Strict LenientMethods Allow0.9"));
                }
                _ => return Err("HttpProtocolOptions accepts 'Unsafe' or 'Strict' (default), 'RegisteredMethods' or 'LenientMethods' (default), and 'Require1.0' or 'Allow0.9' (default)".into()),
            }
        }
        Ok(())
    }),
    d!("TraceEnable", Server, Take1, "TraceEnable [on|off|extended]", "on", "core", Mpms::All,
       "'on' (default), 'off' or 'extended' to trace request body content", |w, a| {
        match a[0].to_ascii_lowercase().as_str() {
            "on" => w.cfg.trace_enable = true,
            "off" => w.cfg.trace_enable = false,
            "extended" => {
                w.cfg.trace_enable = true;
                w.cfg.startup_warnings.push("mpm-lab: TraceEnable extended behaves as On (TRACE bodies are refused)".into());
            }
            _ => return Err("TraceEnable must be one of 'on', 'off', or 'extended'".into()),
        }
        Ok(())
    }),
    d!("HostnameLookups", Server, Take1, "HostnameLookups Off", "Off", "core", Mpms::All,
       "\"on\" to enable, \"off\" to disable reverse DNS lookups, or \"double\" to enable double-reverse DNS lookups", |_, a| {
        match a[0].to_ascii_lowercase().as_str() {
            "off" => Ok(()),
            "on" | "double" => Err(format!("HostnameLookups {}: mpm-lab does no reverse DNS lookups; use Off", a[0])),
            _ => Err("parameter must be 'on', 'off', or 'double'".into()),
        }
    }),
    d!("ServerTokens", Server, Take1, "ServerTokens Major|Minor|Min[imal]|Prod[uctOnly]|OS|Full", "Full", "core", Mpms::All,
       "Determine tokens displayed in the Server: header - Min(imal), Major, Minor, Prod(uctOnly), OS, or Full", |w, a| {
        let v = a[0].to_ascii_lowercase();
        // core.c: set_serv_tokens; anything unrecognised means Full.
        w.cfg.server_tokens = match v.as_str() {
            "os" => "OS",
            "min" | "minimal" => "Minimal",
            "major" => "Major",
            "minor" => "Minor",
            "prod" | "productonly" => "Prod",
            _ => "Full",
        }
        .to_string();
        Ok(())
    }),
    d!("ServerSignature", Any, Take1, "ServerSignature On|Off|EMail", "Off", "core", Mpms::All,
       "En-/disable server signature (on|off|email)", |w, a| {
        w.cfg.server_signature = match a[0].to_ascii_lowercase().as_str() {
            "on" => "On",
            "off" => "Off",
            "email" => "EMail",
            _ => return Err("ServerSignature: use one of: off | on | email".into()),
        }
        .to_string();
        Ok(())
    }),
    d!("AddDefaultCharset", Any, Take1, "AddDefaultCharset On|Off|charset", "Off", "core", Mpms::All,
       "The name of the default charset to add to any Content-Type without one or 'Off' to disable", |w, a| {
        w.cfg.add_default_charset = match a[0].to_ascii_lowercase().as_str() {
            "off" => None,
            "on" => Some("iso-8859-1".into()),
            _ => Some(a[0].clone()),
        };
        Ok(())
    }),
    d!("TypesConfig", Server, Take1, "TypesConfig file-path", "conf/mime.types (mod_mime)", "mod_mime", Mpms::All,
       "the MIME types config file", |w, a| {
        let p = w.root_relative(&a[0]);
        if !p.is_file() {
            w.cfg.startup_warnings.push(format!(
                "mpm-lab: TypesConfig {} not found; using the built-in MIME type table",
                p.display()
            ));
        }
        w.cfg.types_config = Some(p);
        Ok(())
    }),
    d!("ExtendedStatus", Server, Flag, "ExtendedStatus On|Off", "On (mod_status loaded)", "core", Mpms::All,
       "\"On\" to track extended status information, \"Off\" to disable", |w, a| {
        w.cfg.extended_status = a[0].eq_ignore_ascii_case("on");
        Ok(())
    }),
    d!("SetHandler", Any, Take1, "SetHandler handler-name|none|expression", "none", "core", Mpms::All,
       "a handler name that overrides any other configured handler", |w, a| {
        w.section_mut().handler = Some(a[0].clone());
        Ok(())
    }),
    d!("Require", Directory, Raw, "Require all granted|all denied|local", "all granted (mpm-lab; Apache denies nothing by default either)", "mod_authz_core", Mpms::All,
       "specifies authorization directives which one must pass (or not) for a request to suceeed", |w, a| {
        let r = parse_require(&a[0])?;
        let s = w.section_mut();
        // Several Require lines in one section are an implicit <RequireAny>: the most permissive wins.
        s.require = Some(match (s.require, r) {
            (Some(Require::AllGranted), _) | (_, Require::AllGranted) => Require::AllGranted,
            (Some(Require::Local), _) | (_, Require::Local) => Require::Local,
            _ => Require::AllDenied,
        });
        Ok(())
    }),
    // ---- MPM directives (stored raw, clamped by each MPM's check_config) ----
    d!("StartServers", Server, Take1, "StartServers number", "5 prefork, 3 worker/event (mpm_default.h DEFAULT_START_DAEMON)", "mpm", Mpms::Only(ALL3),
       "Number of child processes launched at server startup", |w, a| { w.cfg.mpm.start_servers = Some(atoi(&a[0])); Ok(()) }),
    d!("MinSpareServers", Server, Take1, "MinSpareServers number", "5 (mpm_default.h DEFAULT_MIN_FREE_DAEMON)", "prefork", Mpms::Only(PREFORK),
       "Minimum number of idle children, to handle request spikes", |w, a| { w.cfg.mpm.min_spare_servers = Some(atoi(&a[0])); Ok(()) }),
    d!("MaxSpareServers", Server, Take1, "MaxSpareServers number", "10 (mpm_default.h DEFAULT_MAX_FREE_DAEMON)", "prefork", Mpms::Only(PREFORK),
       "Maximum number of idle children", |w, a| { w.cfg.mpm.max_spare_servers = Some(atoi(&a[0])); Ok(()) }),
    d!("MinSpareThreads", Server, Take1, "MinSpareThreads number", "75 (mpm_default.h DEFAULT_MIN_SPARE_THREAD)", "worker, event", Mpms::Only(THREADED),
       "Minimum number of idle threads, to handle request spikes", |w, a| { w.cfg.mpm.min_spare_threads = Some(atoi(&a[0])); Ok(()) }),
    d!("MaxSpareThreads", Server, Take1, "MaxSpareThreads number", "250 (mpm_default.h DEFAULT_MAX_SPARE_THREAD)", "worker, event", Mpms::Only(THREADED),
       "Maximum number of idle threads", |w, a| { w.cfg.mpm.max_spare_threads = Some(atoi(&a[0])); Ok(()) }),
    d!("ThreadsPerChild", Server, Take1, "ThreadsPerChild number", "25 (mpm_default.h DEFAULT_THREADS_PER_CHILD)", "worker, event", Mpms::Only(THREADED),
       "Number of threads each child creates", |w, a| { w.cfg.mpm.threads_per_child = Some(atoi(&a[0])); Ok(()) }),
    d!("ThreadLimit", Server, Take1, "ThreadLimit number", "64 (DEFAULT_THREAD_LIMIT)", "worker, event", Mpms::Only(THREADED),
       "Maximum number of worker threads per child process for this run of Apache - Upper limit for ThreadsPerChild", |w, a| { w.cfg.mpm.thread_limit = Some(atoi(&a[0])); Ok(()) }),
    d!("ServerLimit", Server, Take1, "ServerLimit number", "256 prefork, 16 worker/event (DEFAULT_SERVER_LIMIT)", "mpm", Mpms::Only(ALL3),
       "Maximum number of child processes for this run of Apache", |w, a| { w.cfg.mpm.server_limit = Some(atoi(&a[0])); Ok(()) }),
    d!("MaxRequestWorkers", Server, Take1, "MaxRequestWorkers number", "256 prefork, 400 worker/event", "mpm", Mpms::Only(ALL3),
       "Maximum number of threads alive at the same time", |w, a| { w.cfg.mpm.max_request_workers = Some(atoi(&a[0])); Ok(()) }),
    d!("MaxClients", Server, Take1, "MaxClients number", "(old name of MaxRequestWorkers)", "mpm", Mpms::Only(ALL3),
       "Deprecated name of MaxRequestWorkers", |w, a| {
        w.cfg.mpm.max_request_workers = Some(atoi(&a[0]));
        w.cfg.mpm.used_max_clients = true;
        Ok(())
    }),
    d!("MaxConnectionsPerChild", Server, Take1, "MaxConnectionsPerChild number", "0 = unlimited (mpm_common.c)", "mpm_common", Mpms::All,
       "Maximum number of connections a particular child serves before dying.", |w, a| { w.cfg.mpm.max_connections_per_child = Some(atoi(&a[0])); Ok(()) }),
    d!("MaxRequestsPerChild", Server, Take1, "MaxRequestsPerChild number", "(old name of MaxConnectionsPerChild)", "mpm_common", Mpms::All,
       "Maximum number of connections a particular child serves before dying. (DEPRECATED, use MaxConnectionsPerChild)", |w, a| {
        w.cfg.mpm.max_connections_per_child = Some(atoi(&a[0]));
        w.cfg.mpm.used_max_requests_per_child = true;
        Ok(())
    }),
    d!("AsyncRequestWorkerFactor", Server, Take1, "AsyncRequestWorkerFactor factor", "2 (event.c)", "event", Mpms::Only(EVENT),
       "How many additional connects will be accepted per idle worker thread", |w, a| { w.cfg.mpm.async_request_worker_factor = Some(a[0].clone()); Ok(()) }),
    d!("GracefulShutdownTimeout", Server, Take1, "GracefulShutdownTimeout seconds", "0 = wait forever (mpm_common.c)", "mpm_common", Mpms::All,
       "Maximum time in seconds to wait for child processes to complete transactions during shutdown", |w, a| { w.cfg.mpm.graceful_shutdown_timeout = Some(atoi(&a[0])); Ok(()) }),
    d!("MaxMemFree", Server, Take1, "MaxMemFree KBytes", "2048 (accepted; no effect in mpm-lab)", "mpm_common", Mpms::All,
       "Maximum number of 1k blocks a particular child's allocator may hold.", |w, a| {
        let v = atoi(&a[0]);
        if v < 0 {
            return Err("MaxMemFree requires a non-negative integer".into());
        }
        w.cfg.mpm.max_mem_free = Some(v);
        Ok(())
    }),
];

/// Case-insensitive lookup (`ap_find_command`).
pub fn lookup(name: &str) -> Option<&'static Directive> {
    DIRECTIVES.iter().find(|d| d.name.eq_ignore_ascii_case(name))
}

impl Directive {
    /// Known to this MPM?
    pub fn available_in(&self, mpm: &MpmIdent) -> bool {
        match self.mpms {
            Mpms::All => true,
            Mpms::Only(list) => list.contains(&mpm.name),
        }
    }
    fn display_name(&self) -> String {
        if self.args == Args::Section { format!("{}>", self.name) } else { self.name.to_string() }
    }
}

/// Split `raw` as the directive's `Args` says, with Apache's argument-count errors
/// (`config.c: invoke_cmd`), the help text appended after a comma.
pub fn check_args(def: &Directive, raw: &str) -> Result<Vec<String>, String> {
    let w = words(raw);
    let err = |what: &str| Err(format!("{} {what}, {}", def.name, def.help));
    match def.args {
        Args::Take1 if w.len() != 1 || w[0].is_empty() => err("takes one argument"),
        Args::Take2 if w.len() != 2 || w.iter().any(String::is_empty) => err("takes two arguments"),
        Args::Take12 if w.is_empty() || w.len() > 2 || w[0].is_empty() => err("takes 1-2 arguments"),
        Args::Take23 if !(2..=3).contains(&w.len()) || w[0].is_empty() || w[1].is_empty() => {
            err("takes two or three arguments")
        }
        Args::Iterate if w.is_empty() || w[0].is_empty() => err("requires at least one argument"),
        Args::Flag => {
            let first = w.first().map(String::as_str).unwrap_or("");
            if first.eq_ignore_ascii_case("on") || first.eq_ignore_ascii_case("off") {
                Ok(vec![first.to_string()])
            } else {
                Err(format!("{} must be On or Off", def.name))
            }
        }
        Args::Raw => Ok(vec![raw.to_string()]),
        _ => Ok(w),
    }
}

// ---------------------------------------------------------------------------------------------
// Modules: what IfModule, LoadModule and LogLevel know about.
// ---------------------------------------------------------------------------------------------

/// The modules built into every mpm-lab binary: (short name, source file). The MPM is added per binary.
pub const BUILTIN_MODULES: &[(&str, &str)] = &[
    ("core", "core.c"),
    ("so", "mod_so.c"),
    ("http", "http_core.c"),
    ("mime", "mod_mime.c"),
    ("dir", "mod_dir.c"),
    ("status", "mod_status.c"),
    ("authz_core", "mod_authz_core.c"),
    ("authz_host", "mod_authz_host.c"),
    ("log_config", "mod_log_config.c"),
    ("unixd", "mod_unixd.c"),
];

/// The short module name (`status`, `mpm_prefork`) for any of Apache's spellings: `status`,
/// `status_module`, `mod_status.c`, `prefork.c`. `None` if the module is not in this binary.
pub fn module_short_name(mpm: &MpmIdent, name: &str) -> Option<&'static str> {
    let bare = name.strip_suffix("_module").unwrap_or(name);
    let mpm_file = format!("{}.c", mpm.name);
    if bare == mpm.module || name == mpm_file {
        return Some(mpm.module);
    }
    BUILTIN_MODULES.iter().find(|(short, file)| bare == *short || name == *file).map(|(short, _)| *short)
}

/// `<IfModule name>`.
pub fn module_is_loaded(mpm: &MpmIdent, name: &str) -> bool {
    module_short_name(mpm, name).is_some()
}

/// `LoadModule name path`: our modules are built in, so the path is not opened (it may not
/// exist: Debian paths in the reference configs). Another MPM is an error naming the binary to run.
pub fn load_module(mpm: &MpmIdent, name: &str, path: &str) -> Result<(), String> {
    if module_short_name(mpm, name).is_some() {
        return Ok(());
    }
    if let Some(other) = MpmIdent::ALL.iter().find(|m| name == format!("{}_module", m.module)) {
        return Err(format!(
            "This is {}; the configuration loads {name}: run {} instead",
            mpm.binary, other.binary
        ));
    }
    Err(format!(
        "Cannot load {path} into server: mpm-lab has no {name} (its modules are built in: {}, {}_module)",
        BUILTIN_MODULES.iter().map(|(s, _)| format!("{s}_module")).collect::<Vec<_>>().join(", "),
        mpm.module
    ))
}

// ---------------------------------------------------------------------------------------------
// The second pass.
// ---------------------------------------------------------------------------------------------

/// Which kind of section the walker is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scope {
    Server,
    Directory(usize),
    Location(usize),
    /// A section we check but do not apply (regex sections, `<Files>`).
    Ignored,
}

/// The second pass: applies nodes to a [`ServerConfig`].
pub struct Walker<'a> {
    mpm: &'a MpmIdent,
    pub cfg: ServerConfig,
    scope: Scope,
    /// The name of the enclosing section as written (`<Directory`), for "not allowed in" errors.
    scope_name: String,
    /// A section that stands for server-level `SetHandler` (Apache allows it at top level).
    scratch: Section,
    log_formats: Vec<(String, String)>,
    default_format: String,
    /// `(path, format-or-nickname)`; an empty format means TransferLog's default format.
    pending_logs: Vec<(PathBuf, String)>,
    pid_file: Option<String>,
    directory_index_set: bool,
    runtime_dir_set: bool,
}

/// Common Log Format (`mod_log_config.c: DEFAULT_LOG_FORMAT`).
pub const COMMON_FORMAT: &str = "%h %l %u %t \"%r\" %>s %b";
/// NCSA extended/combined log format (the Apache manual's `combined`).
pub const COMBINED_FORMAT: &str = "%h %l %u %t \"%r\" %>s %b \"%{Referer}i\" \"%{User-Agent}i\"";

impl<'a> Walker<'a> {
    pub fn new(mpm: &'a MpmIdent, server_root: &Path) -> Walker<'a> {
        Walker {
            mpm,
            cfg: ServerConfig::with_defaults(server_root),
            scope: Scope::Server,
            scope_name: String::new(),
            scratch: Section { path: "/".into(), handler: None, require: None },
            // `common` and `combined` are predefined (Apache's stock httpd.conf defines them).
            log_formats: vec![
                ("common".into(), COMMON_FORMAT.into()),
                ("combined".into(), COMBINED_FORMAT.into()),
            ],
            default_format: COMMON_FORMAT.into(),
            pending_logs: Vec::new(),
            pid_file: None,
            directory_index_set: false,
            runtime_dir_set: false,
        }
    }

    fn root_relative(&self, p: &str) -> PathBuf {
        server_root_relative(&self.cfg.server_root, p)
    }

    fn section_mut(&mut self) -> &mut Section {
        match self.scope {
            Scope::Directory(i) => &mut self.cfg.directories[i],
            Scope::Location(i) => &mut self.cfg.locations[i],
            Scope::Server | Scope::Ignored => &mut self.scratch,
        }
    }

    fn format_or_nickname(&self, s: &str) -> String {
        self.log_formats.iter().rev().find(|(n, _)| n == s).map_or_else(|| s.to_string(), |(_, f)| f.clone())
    }

    fn log_level(&mut self, arg: &str) -> Result<(), String> {
        let Some((module, level)) = arg.rsplit_once(':') else {
            self.cfg.log_level.default = Level::parse(arg)?;
            // ap_reset_module_loglevels: a bare level resets every per-module level.
            self.cfg.log_level.modules.clear();
            return Ok(());
        };
        if level.is_empty() {
            return Err(format!("Module specifier '{module}' must be followed by a log level keyword"));
        }
        let level = Level::parse(level).map_err(|e| format!("{module}:{level}: {e}"))?;
        let short = module_short_name(self.mpm, module).ok_or_else(|| format!("Cannot find module {module}"))?;
        self.cfg.log_level.modules.push((short.to_string(), level));
        Ok(())
    }

    /// Walk `nodes` in the current scope.
    pub fn walk(&mut self, nodes: &[Node], _parent: Option<&Node>) -> Result<(), ConfigError> {
        for node in nodes {
            self.walk_one(node)?;
        }
        Ok(())
    }

    fn walk_one(&mut self, node: &Node) -> Result<(), ConfigError> {
        let err = |msg: String| ConfigError::walk(&node.file, node.line, msg);
        let def = lookup(&node.name).filter(|d| d.available_in(self.mpm) && !d.exec_on_read).ok_or_else(|| {
            err(format!(
                "Invalid command '{}', perhaps misspelled or defined by a module not included in the server configuration",
                node.name
            ))
        })?;
        let in_section = self.scope != Scope::Server;
        let allowed = match def.context {
            Context::Server => !in_section,
            Context::Directory => in_section,
            Context::Any => true,
        };
        if !allowed {
            return Err(err(if in_section {
                format!("{} not allowed in {}> context", def.name, self.scope_name)
            } else {
                format!("{} not allowed here", def.name)
            }));
        }
        if let Some(children) = &node.children {
            return self.section(def, node, children);
        }
        let args = check_args(def, &node.args).map_err(err)?;
        (def.apply)(self, &args).map_err(err)?;
        if self.scope == Scope::Server && self.scratch.handler.is_some() {
            // Server-level SetHandler: a <Location /> placed before every real section.
            let mut s = std::mem::replace(&mut self.scratch, Section { path: "/".into(), handler: None, require: None });
            s.require = None;
            self.cfg.locations.insert(0, s);
        }
        Ok(())
    }

    fn section(&mut self, def: &Directive, node: &Node, children: &[Node]) -> Result<(), ConfigError> {
        let err = |msg: String| ConfigError::walk(&node.file, node.line, msg);
        let (arg, _) = getword_conf(&node.args);
        let regex = arg == "~";
        let scope = match def.name {
            "<VirtualHost" => {
                return Err(err(
                    "<VirtualHost> is not supported by mpm-lab: it runs one server; put these directives at the top level"
                        .into(),
                ));
            }
            "<Directory" if !regex => {
                let path = self.root_relative(&arg);
                let mut path = path.display().to_string();
                while path.len() > 1 && path.ends_with('/') {
                    path.pop();
                }
                self.cfg.directories.push(Section { path, handler: None, require: None });
                Scope::Directory(self.cfg.directories.len() - 1)
            }
            "<Location" if !regex => {
                self.cfg.locations.push(Section { path: arg, handler: None, require: None });
                Scope::Location(self.cfg.locations.len() - 1)
            }
            _ => {
                self.cfg.startup_warnings.push(format!(
                    "mpm-lab: {}> at {}:{} is checked but not applied (regex and file sections are not implemented)",
                    def.name, node.file, node.line
                ));
                Scope::Ignored
            }
        };
        let saved = (self.scope, std::mem::replace(&mut self.scope_name, def.name.to_string()));
        self.scope = scope;
        let result = self.walk(children, Some(node));
        self.scope = saved.0;
        self.scope_name = saved.1;
        result
    }

    /// After the walk: resolve nicknames and paths that depend on the whole file.
    pub fn finish(mut self) -> Result<ServerConfig, ConfigError> {
        for (path, fmt) in std::mem::take(&mut self.pending_logs) {
            let format = if fmt.is_empty() { self.default_format.clone() } else { self.format_or_nickname(&fmt) };
            compile_format(&format).map_err(|e| ConfigError::general(e.to_string()))?;
            self.cfg.custom_logs.push(CustomLog { path, format });
        }
        let pid = self.pid_file.take().unwrap_or_else(|| "logs/httpd.pid".into());
        // ap_runtime_dir_relative: relative PidFile goes under DefaultRuntimeDir when one is set.
        self.cfg.pid_file = if self.runtime_dir_set {
            server_root_relative(&self.cfg.runtime_dir, &pid)
        } else {
            self.root_relative(&pid)
        };
        Ok(self.cfg)
    }
}

/// `Listen [addr:]port [protocol]` (`listen.c: ap_set_listener`). Port 0 is accepted (our
/// addition: the kernel picks a free port, tests read it from the log).
fn set_listen(w: &mut Walker<'_>, a: &[String]) -> Result<(), String> {
    if a.is_empty() || a.len() > 2 {
        return Err("Listen requires 1 or 2 arguments.".into());
    }
    if let Some(proto) = a.get(1)
        && !proto.eq_ignore_ascii_case("http")
    {
        return Err(format!("Listen {} {proto}: mpm-lab speaks plain HTTP only", a[0]));
    }
    let addr = parse_listen_addr(&a[0])?;
    if addr.port() != 0 && w.cfg.listen.iter().any(|l| l.addr == addr) {
        return Err("Cannot define multiple Listeners on the same IP:port".into());
    }
    w.cfg.listen.push(ListenSpec { addr });
    Ok(())
}

/// `8080`, `*:8080`, `127.0.0.1:0`, `[::1]:80`, `localhost:8080`.
pub fn parse_listen_addr(s: &str) -> Result<SocketAddr, String> {
    let invalid = || "Invalid address or port".to_string();
    let (host, port) = if let Some(rest) = s.strip_prefix('[') {
        let (h, p) = rest.split_once(']').ok_or_else(invalid)?;
        (Some(h), p.strip_prefix(':').ok_or("Port must be specified")?)
    } else if s.bytes().all(|b| b.is_ascii_digit()) {
        (None, s)
    } else {
        match s.rsplit_once(':') {
            Some((h, p)) if !h.contains(':') => (Some(h), p),
            _ => return Err("Port must be specified".into()),
        }
    };
    let port: u16 = port.parse().map_err(|_| invalid())?;
    let ip = match host {
        None | Some("*") => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        Some(h) => match h.parse::<IpAddr>() {
            Ok(ip) => ip,
            Err(_) => (h, port).to_socket_addrs().ok().and_then(|mut it| it.next()).map(|sa| sa.ip()).ok_or_else(invalid)?,
        },
    };
    Ok(SocketAddr::new(ip, port))
}

/// `ap_timeout_parameter_parse` with default unit seconds: `5`, `500ms`, `2s`, `1mi`, `1h`.
pub fn parse_timeout(s: &str) -> Option<Duration> {
    let digits = s.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 {
        return None;
    }
    let n: u64 = s[..digits].parse().ok()?;
    match s[digits..].to_ascii_lowercase().as_str() {
        "" | "s" => Some(Duration::from_secs(n)),
        "ms" => Some(Duration::from_millis(n)),
        "mi" | "min" => Some(Duration::from_secs(n * 60)),
        "h" | "hr" => Some(Duration::from_secs(n * 3600)),
        _ => None,
    }
}

/// atoi then "X \"arg\" must be a non-negative integer" (`core.c: set_limit_req_*`).
fn non_negative(arg: &str, name: &str, suffix: &str) -> Result<usize, String> {
    let v = atoi(arg);
    if v < 0 {
        return Err(format!("{name} \"{arg}\" must be a non-negative integer{suffix}"));
    }
    Ok(usize::try_from(v).unwrap_or(usize::MAX))
}

/// `apr_strtoff` (base 10, leading blanks and sign) then the checks of `core.c: set_limit_req_body`.
fn parse_body_limit(arg: &str) -> Result<u64, String> {
    let s = arg.trim_start();
    let (neg, rest) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    let value: i64 = if digits == 0 {
        0
    } else {
        rest[..digits].parse().map_err(|_| "LimitRequestBody argument is not parsable.".to_string())?
    };
    if digits < rest.len() || neg && value > 0 {
        return Err("LimitRequestBody requires a non-negative integer.".into());
    }
    Ok(u64::try_from(value).unwrap_or(0))
}

fn parse_require(raw: &str) -> Result<Require, String> {
    let w: Vec<String> = words(raw).into_iter().map(|s| s.to_ascii_lowercase()).collect();
    let w: Vec<&str> = w.iter().map(String::as_str).collect();
    match w.as_slice() {
        ["all", "granted"] => Ok(Require::AllGranted),
        ["all", "denied"] => Ok(Require::AllDenied),
        ["local"] => Ok(Require::Local),
        ["all", ..] => Err("'Require all' accepts only 'granted' or 'denied'".into()),
        ["local", ..] => Err("'Require local' does not take an argument".into()),
        [] => Err("Require requires at least one argument, specifies authorization directives which one must pass (or not) for a request to suceeed".into()),
        [provider, ..] => Err(format!(
            "Unknown Authz provider: {provider} (mpm-lab supports Require all granted, all denied and local)"
        )),
    }
}

// ---------------------------------------------------------------------------------------------
// Generated documentation.
// ---------------------------------------------------------------------------------------------

/// `httpd -L`: every directive with its module, help and where it is allowed.
pub fn directive_list_text(mpm: &MpmIdent) -> String {
    let mut out = String::new();
    for d in DIRECTIVES.iter().filter(|d| d.available_in(mpm)) {
        let module = if d.module == "mpm" || d.mpms != Mpms::All { format!("{}.c", mpm.name) } else { format!("{}.c", d.module) };
        let place = match d.context {
            Context::Server => "Allowed in *.conf only outside <Directory>, <Files>, <Location>, or <If>",
            Context::Directory => "Allowed in *.conf only inside <Directory>, <Files>, <Location>, or <If>",
            Context::Any => "Allowed in *.conf anywhere",
        };
        out.push_str(&format!("{} ({module})\n\t{}\n\t{place}\n", d.name, d.help));
    }
    out
}

/// The book's directive reference: one Markdown table generated from [`DIRECTIVES`].
pub fn directive_reference_markdown() -> String {
    let mut out = String::from(
        "# Directive reference\n\n\
         Generated from `httpd-core/src/config/directives.rs` (`directive_reference_markdown`); do not edit.\n\n\
         | Directive | Syntax | Default (Apache source) | Context | MPMs | Help |\n|---|---|---|---|---|---|\n",
    );
    for d in DIRECTIVES {
        let ctx = match d.context {
            Context::Server => "server config",
            Context::Directory => "directory",
            Context::Any => "server config, directory",
        };
        let mpms = match d.mpms {
            Mpms::All => "all".to_string(),
            Mpms::Only(l) => l.join(", "),
        };
        let read = if d.exec_on_read { " (read time)" } else { "" };
        let esc = |s: &str| s.replace('|', "\\|").replace('<', "&lt;").replace('>', "&gt;");
        out.push_str(&format!(
            "| `{}` | `{}` | {} | {ctx}{read} | {mpms} | {} |\n",
            d.display_name(),
            d.syntax.replace('|', "\\|"),
            esc(d.default),
            esc(d.help)
        ));
    }
    out
}
