//! The one directive table, [`DIRECTIVES`]: every directive mpm-lab accepts.
//!
//! Each row says what Apache's `command_rec` says (name, where it may appear, how its arguments
//! are split, the help text Apache appends to argument errors), plus the default with its source
//! in Apache and the parser ([`super::cmds`], named after Apache's handler: `set_listener`,
//! `set_keep_alive_timeout`, …). The second pass ([`super::walk`]) applies the table; `-L`
//! ([`directive_list_text`]), `--help` and the book's directive reference
//! ([`directive_reference_markdown`]) are generated from it, so they cannot drift apart.
//!
//! Rows made with `on_read` are Apache's `EXEC_ON_READ` directives: the first pass
//! ([`super::parse`]) runs them; the table still gives their argument rules and help.

use super::MpmIdent;
use super::cmds;
use super::cmds_aaa;
use super::cmds_env;
use super::cmds_index;
use super::cmds_mime;
use super::cmds_filter;
use super::parse::words;
use super::walk::Walker;

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
    /// `TAKE1`: `X takes one argument, <help>`.
    Take1,
    /// `TAKE2`: `X takes two arguments, <help>`.
    Take2,
    /// `TAKE12`: `X takes 1-2 arguments, <help>`.
    Take12,
    /// `TAKE23`: `X takes two or three arguments, <help>`.
    Take23,
    /// `FLAG`: "X must be On or Off".
    Flag,
    /// `ITERATE`: one or more words, `X requires at least one argument, <help>`.
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
    /// The `AllowOverride` category that lets it into `.htaccess` (Apache's `OR_AUTHCFG`,
    /// `OR_LIMIT`, `OR_FILEINFO`, `OR_INDEXES`, `OR_OPTIONS`: `AuthConfig`, `Limit`, …);
    /// `None` for directives `.htaccess` may never hold. Set with [`Directive::overrides`].
    pub allow_override: Option<&'static str>,
    pub apply: Apply,
}

impl Directive {
    /// The row with its `AllowOverride` category.
    const fn overrides(self, category: &'static str) -> Directive {
        Directive {
            allow_override: Some(category),
            ..self
        }
    }
}

const PREFORK: Mpms = Mpms::Only(&["prefork"]);
const THREADED: Mpms = Mpms::Only(&["worker", "event"]);
const EVENT: Mpms = Mpms::Only(&["event"]);
const ALL: Mpms = Mpms::All;

/// One row; `const` so the table is a plain static.
#[allow(clippy::too_many_arguments)]
const fn row(
    name: &'static str,
    context: Context,
    args: Args,
    mpms: Mpms,
    module: &'static str,
    syntax: &'static str,
    default: &'static str,
    help: &'static str,
    apply: Apply,
) -> Directive {
    Directive {
        name,
        context,
        args,
        syntax,
        default,
        help,
        module,
        mpms,
        exec_on_read: false,
        allow_override: None,
        apply,
    }
}

/// A row for an `EXEC_ON_READ` directive: [`super::parse`] runs it, the table gives its rules.
const fn on_read(
    name: &'static str,
    args: Args,
    syntax: &'static str,
    help: &'static str,
) -> Directive {
    Directive {
        name,
        context: Context::Server,
        args,
        syntax,
        default: "-",
        help,
        module: "core",
        mpms: ALL,
        exec_on_read: true,
        allow_override: None,
        apply: cmds::run_at_read_time,
    }
}

use Args::{Argv, Flag, Iterate, Raw, Section as Sect, Take1, Take2, Take12, Take23};
use Context::{Any, Directory, Server};

/// Every directive mpm-lab accepts: name, context, arguments, MPMs, module, syntax, default
/// (with its Apache source), Apache's help text, parser.
#[rustfmt::skip]
pub static DIRECTIVES: &[Directive] = &[
    // ---- sections (core.c: dirsection, urlsection, filesection, virtualhost_section) ----
    row("<Directory", Server, Sect, ALL, "core", "<Directory directory-path> ... </Directory>", "-",
        "Container for directives affecting resources located in the specified directories", cmds::section),
    row("<Location", Server, Sect, ALL, "core", "<Location URL-path> ... </Location>", "-",
        "Container for directives affecting resources accessed through the specified URL paths", cmds::section),
    row("<DirectoryMatch", Server, Sect, ALL, "core", "<DirectoryMatch regex> ... </DirectoryMatch>", "-",
        "Container for directives affecting resources located in the specified directories", cmds::section),
    row("<LocationMatch", Server, Sect, ALL, "core", "<LocationMatch regex> ... </LocationMatch>", "-",
        "Container for directives affecting resources accessed through the specified URL paths", cmds::section),
    row("<Files", Any, Sect, ALL, "core", "<Files filename> ... </Files>", "-",
        "Container for directives affecting files matching specified patterns", cmds::section),
    row("<FilesMatch", Any, Sect, ALL, "core", "<FilesMatch regex> ... </FilesMatch>", "-",
        "Container for directives affecting files matching specified patterns", cmds::section),
    row("<VirtualHost", Server, Sect, ALL, "core", "<VirtualHost addr[:port] ...> ... </VirtualHost>", "-",
        "Container to map directives to a particular virtual host, takes one or more host addresses", cmds::section),
    row("AllowOverride", Directory, Argv, ALL, "core", "AllowOverride All|None|directive-type [directive-type] ...", "None (since 2.3.9)",
        "Controls what groups of directives can be configured by per-directory config files", super::sections::set_override),
    row("AllowOverrideList", Directory, Argv, ALL, "core", "AllowOverrideList None|directive [directive-type] ...", "None",
        "Controls what individual directives can be configured by per-directory config files", super::sections::set_override_list),
    row("AccessFileName", Server, Iterate, ALL, "core", "AccessFileName filename [filename] ...", ".htaccess",
        "Name(s) of per-directory config files (default: .htaccess)", super::sections::set_access_name),
    row("ServerAlias", Server, Iterate, ALL, "core", "ServerAlias hostname [hostname] ...", "-",
        "A name or names alternately used to access the server", super::vhost::set_server_alias),
    row("UseCanonicalName", Server, Take1, ALL, "core", "UseCanonicalName On|Off|DNS", "Off",
        "How to work out the ServerName : Port when constructing URLs", super::vhost::set_use_canonical_name),
    row("Protocols", Server, Iterate, ALL, "core", "Protocols protocol ...", "http/1.1 (h2, h2c need mod_http2: never negotiated, as in Apache without it)",
        "Controls which protocols are allowed", super::vhost::set_protocols),
    row("ErrorDocument", Any, Take2, ALL, "core", "ErrorDocument error-code document", "-",
        "Change responses for HTTP errors", crate::http::error_document::set_error_document),
    row("FileETag", Any, Iterate, ALL, "core", "FileETag component ...", "MTime Size",
        "One or more of 'INode', 'MTime', 'Size', 'All', 'None', or '+'/'-' forms of them", super::sections::set_etag_bits),
    // ---- read time (EXEC_ON_READ): conditionals, includes, defines ----
    on_read("<IfModule", Sect, "<IfModule [!]module-file|module-identifier> ... </IfModule>",
        "Container for directives based on existence of specified modules"),
    on_read("<IfDefine", Sect, "<IfDefine [!]parameter-name> ... </IfDefine>",
        "Container for directives based on existence of command line defines"),
    on_read("<IfFile", Sect, "<IfFile [!]filename> ... </IfFile>",
        "Container for directives based on existence of files on disk"),
    on_read("<IfDirective", Sect, "<IfDirective [!]directive-name> ... </IfDirective>",
        "Container for directives based on existence of named directive"),
    on_read("Include", Take1, "Include file-path|directory-path|wildcard",
        "Name(s) of the config file(s) to be included; fails if the wildcard does not match at least one file"),
    on_read("IncludeOptional", Take1, "IncludeOptional file-path|directory-path|wildcard",
        "Name or pattern of the config file(s) to be included; ignored if the file does not exist or the pattern does not match any files"),
    on_read("Define", Take12, "Define parameter-name [parameter-value]",
        "Define a variable, optionally to a value.  Same as passing -D to the command line."),
    on_read("UnDefine", Take1, "UnDefine parameter-name", "Undefine the existence of a variable. Undo a Define."),
    on_read("ServerRoot", Take1, "ServerRoot directory-path",
        "Common directory of server-related files (logs, confs, etc.)"),
    on_read("LoadModule", Take2, "LoadModule module filename",
        "a module name and the name of a shared object file to load it from"),
    // ---- listening (listen.c) ----
    row("Listen", Server, Argv, ALL, "mpm_common", "Listen [IP-address:]portnumber [protocol]", "none",
        "A port number or a numeric IP address and a port number, and an optional protocol", cmds::set_listener),
    row("ListenBacklog", Server, Take1, ALL, "mpm_common", "ListenBacklog backlog", "511 (mpm_common.h DEFAULT_LISTENBACKLOG)",
        "Maximum length of the queue of pending connections, as used by listen(2)", cmds::set_listen_backlog),
    row("AcceptFilter", Server, Take2, ALL, "core", "AcceptFilter protocol accept_filter", "http data, https data (Linux: TCP_DEFER_ACCEPT, 30 s)",
        "Set the Accept Filter to use for a protocol", cmds::set_accept_filter),
    row("ListenCoresBucketsRatio", Server, Take1, ALL, "mpm_common", "ListenCoresBucketsRatio ratio", "0 = one bucket (listen.c)",
        "Ratio between the number of CPU cores (online) and the number of listeners buckets", cmds::set_listen_cbratio),
    // ---- server identity, files, runtime (core.c, mod_unixd.c, mod_dir.c, mod_mime.c) ----
    row("ServerName", Server, Take1, ALL, "core", "ServerName [scheme://]domain-name|ip-address[:port]", "the host name",
        "The hostname and port of the server", cmds::set_server_name),
    row("ServerAdmin", Server, Take1, ALL, "core", "ServerAdmin email-address|URL", "none",
        "The email address of the server administrator", cmds::set_server_admin),
    row("DocumentRoot", Server, Take1, ALL, "core", "DocumentRoot directory-path", "htdocs (httpd.h DOCUMENT_LOCATION)",
        "Root directory of the document tree", cmds::set_document_root),
    row("DirectoryIndex", Any, Iterate, ALL, "mod_dir", "DirectoryIndex disabled | local-url [local-url] ...", "index.html (mod_dir.c)",
        "a list of file names", cmds::set_directory_index),
    row("PidFile", Server, Take1, ALL, "mpm_common", "PidFile filename", "logs/httpd.pid (mpm_common.h DEFAULT_PIDLOG)",
        "A file for logging the server process ID", cmds::set_pidfile),
    row("DefaultRuntimeDir", Server, Take1, ALL, "core", "DefaultRuntimeDir directory-path", "logs (httpd.h DEFAULT_REL_RUNTIMEDIR)",
        "Common directory for run-time files (shared memory, locks, etc.)", cmds::set_runtime_dir),
    row("User", Server, Take1, ALL, "mod_unixd", "User unix-userid", "#-1 (unixd.h DEFAULT_USER)",
        "Effective user id for this server", cmds::set_user),
    row("Group", Server, Take1, ALL, "mod_unixd", "Group unix-group", "#-1 (unixd.h DEFAULT_GROUP)",
        "Effective group id for this server", cmds::set_group),
    row("TypesConfig", Server, Take1, ALL, "mod_mime", "TypesConfig file-path", "conf/mime.types (mod_mime.c AP_TYPES_CONFIG_FILE)",
        "the MIME types config file", cmds::set_types_config),
    row("Mutex", Server, Raw, ALL, "core", "Mutex mechanism[:dir] [default] [OmitPID]", "default, in DefaultRuntimeDir (util_mutex.c ap_mutex_init)",
        "mutex (or \"default\") and mechanism", cmds::set_mutex),
    // ---- logs (core.c, mod_log_config.c) ----
    row("ErrorLog", Server, Take1, ALL, "core", "ErrorLog file-path|/dev/stderr|\"|program\"", "logs/error_log (httpd.h DEFAULT_ERRORLOG)",
        "The filename of the error log", cmds::set_error_log),
    row("ErrorLogFormat", Server, Take12, ALL, "core", "ErrorLogFormat [connection|request] format", "none (the default line: [%{u}t] [%-m:%l] [pid %P:tid %{g}T] [client %a] %M)",
        "Format string for the ErrorLog", cmds::set_errorlog_format),
    row("LogLevel", Server, Iterate, ALL, "core", "LogLevel [module:]level [module:level] ...", "warn (http_log.h DEFAULT_LOGLEVEL)",
        "Level of verbosity in error logging", cmds::set_loglevel),
    row("LogFormat", Server, Take12, ALL, "mod_log_config", "LogFormat format|nickname [nickname]", "\"%h %l %u %t \\\"%r\\\" %>s %b\" (DEFAULT_LOG_FORMAT)",
        "a log format string (see docs) and an optional format name", cmds::log_format),
    row("CustomLog", Server, Take23, ALL, "mod_log_config", "CustomLog file|\"|program\" format|nickname [env=[!]environment-variable]", "none",
        "a file name, a custom log format string or format name, and an optional \"env=\" or \"expr=\" clause (see docs)", cmds::add_custom_log),
    row("TransferLog", Server, Take1, ALL, "mod_log_config", "TransferLog file|\"|program\"", "none",
        "the filename of the access log", cmds::set_transfer_log),
    row("BufferedLogs", Server, Flag, ALL, "mod_log_config", "BufferedLogs On|Off", "Off (mod_log_config.c)",
        "Enable Buffered Logging (experimental)", cmds::set_buffered_logs),
    // ---- HTTP (core.c, http_core.c) ----
    row("Timeout", Server, Take1, ALL, "core", "Timeout seconds", "60 (httpd.h DEFAULT_TIMEOUT)",
        "Timeout duration (sec)", cmds::set_timeout),
    row("KeepAlive", Server, Flag, ALL, "http_core", "KeepAlive On|Off", "On (http_core.c)",
        "Whether persistent connections should be On or Off", cmds::set_keep_alive),
    row("KeepAliveTimeout", Server, Take1, ALL, "http_core", "KeepAliveTimeout num[ms]", "5 (httpd.h DEFAULT_KEEPALIVE_TIMEOUT)",
        "Keep-Alive timeout duration (sec)", cmds::set_keep_alive_timeout),
    row("MaxKeepAliveRequests", Server, Take1, ALL, "http_core", "MaxKeepAliveRequests number", "100 (httpd.h DEFAULT_KEEPALIVE)",
        "Maximum number of Keep-Alive requests per connection, or 0 for infinite", cmds::set_keep_alive_max),
    row("LimitRequestLine", Server, Take1, ALL, "core", "LimitRequestLine bytes", "8190 (httpd.h DEFAULT_LIMIT_REQUEST_LINE)",
        "Limit on maximum size of an HTTP request line", cmds::set_limit_req_line),
    row("LimitRequestFieldSize", Server, Take1, ALL, "core", "LimitRequestFieldSize bytes", "8190 (httpd.h DEFAULT_LIMIT_REQUEST_FIELDSIZE)",
        "Limit on maximum size of an HTTP request header field", cmds::set_limit_req_fieldsize),
    row("LimitRequestFields", Server, Take1, ALL, "core", "LimitRequestFields number", "100 (httpd.h DEFAULT_LIMIT_REQUEST_FIELDS)",
        "Limit (0 = unlimited) on max number of header fields in a request message", cmds::set_limit_req_fields),
    row("LimitRequestBody", Server, Take1, ALL, "core", "LimitRequestBody bytes", "1073741824 (httpd.h AP_DEFAULT_LIMIT_REQ_BODY)",
        "Limit (in bytes) on maximum size of request message body", cmds::set_limit_req_body),
    row("HttpProtocolOptions", Server, Iterate, ALL, "core", "HttpProtocolOptions Strict LenientMethods Allow0.9", "Strict LenientMethods Allow0.9",
        "'Allow0.9' or 'Require1.0' (default); 'RegisteredMethods' or 'LenientMethods' (default); 'Unsafe' or 'Strict' (default). Sets HTTP acceptance rules",
        cmds::set_http_protocol_options),
    row("TraceEnable", Server, Take1, ALL, "core", "TraceEnable on|off|extended", "on",
        "'on' (default), 'off' or 'extended' to trace request body content", cmds::set_trace_enable),
    row("HostnameLookups", Server, Take1, ALL, "core", "HostnameLookups Off", "Off",
        "\"on\" to enable, \"off\" to disable reverse DNS lookups, or \"double\" to enable double-reverse DNS lookups", cmds::set_hostname_lookups),
    row("ServerTokens", Server, Take1, ALL, "core", "ServerTokens Major|Minor|Min[imal]|Prod[uctOnly]|OS|Full", "Full",
        "Determine tokens displayed in the Server: header - Min(imal), Major, Minor, Prod(uctOnly), OS, or Full", cmds::set_serv_tokens),
    row("ServerSignature", Any, Take1, ALL, "core", "ServerSignature On|Off|EMail", "Off",
        "En-/disable server signature (on|off|email)", cmds::set_signature_flag),
    row("AddDefaultCharset", Any, Take1, ALL, "core", "AddDefaultCharset On|Off|charset", "Off",
        "The name of the default charset to add to any Content-Type without one or 'Off' to disable", cmds::set_add_default_charset),
    row("ExtendedStatus", Server, Flag, ALL, "core", "ExtendedStatus On|Off", "On (mod_status is always loaded)",
        "\"On\" to track extended status information, \"Off\" to disable", cmds::set_extended_status),
    row("SetHandler", Any, Take1, ALL, "core", "SetHandler handler-name|none", "none",
        "a handler name that overrides any other configured handler", cmds::set_sethandler),
    // ---- access control and authentication (mod_authz_core/host/user, mod_access_compat,
    //      mod_authn_core, mod_auth_basic, mod_authn_file: config/cmds_aaa.rs, modules/authz.rs) ----
    row("Require", Directory, Raw, ALL, "mod_authz_core", "Require all granted|all denied|local|ip addr…|host domain…|forward-dns name…|valid-user|user name…", "all granted",
        "specifies authorization directives which one must pass (or not) for a request to suceeed", cmds_aaa::add_require).overrides("AuthConfig"),
    row("AuthType", Directory, Take1, ALL, "authn_core", "AuthType None|Basic", "none (mod_authn_core.c)",
        "an HTTP authorization type (e.g., \"Basic\")", cmds_aaa::set_auth_type).overrides("AuthConfig"),
    row("AuthName", Directory, Take1, ALL, "authn_core", "AuthName auth-domain", "none",
        "the authentication realm (e.g. \"Members Only\")", cmds_aaa::set_auth_name).overrides("AuthConfig"),
    row("AuthBasicProvider", Directory, Iterate, ALL, "auth_basic", "AuthBasicProvider file", "file (mod_auth_basic.c AUTHN_DEFAULT_PROVIDER)",
        "specify the auth providers for a directory or location", cmds_aaa::set_auth_basic_provider).overrides("AuthConfig"),
    row("AuthUserFile", Directory, Take1, ALL, "authn_file", "AuthUserFile file-path", "none",
        "text file containing user IDs and passwords", cmds_aaa::set_auth_user_file).overrides("AuthConfig"),
    row("Order", Directory, Take1, ALL, "access_compat", "Order Deny,Allow|Allow,Deny|Mutual-failure", "Deny,Allow (mod_access_compat.c)",
        "'allow,deny', 'deny,allow', or 'mutual-failure'", cmds_aaa::set_order).overrides("Limit"),
    row("Allow", Directory, Argv, ALL, "access_compat", "Allow from all|host|ip|env=[!]env-variable [host|ip|env=[!]env-variable] ...", "none",
        "'from' followed by hostnames or IP-address wildcards", cmds_aaa::add_allow).overrides("Limit"),
    row("Deny", Directory, Argv, ALL, "access_compat", "Deny from all|host|ip|env=[!]env-variable [host|ip|env=[!]env-variable] ...", "none",
        "'from' followed by hostnames or IP-address wildcards", cmds_aaa::add_deny).overrides("Limit"),
    row("Satisfy", Directory, Take1, ALL, "access_compat", "Satisfy Any|All", "All",
        "access policy if both allow and require used ('all' or 'any')", cmds_aaa::set_satisfy).overrides("AuthConfig"),
    // ---- environment (mod_setenvif, mod_env: config/cmds_env.rs, modules/setenvif.rs, env.rs) ----
    row("SetEnvIf", Any, Argv, ALL, "setenvif", "SetEnvIf attribute regex [!]env-variable[=value] [[!]env-variable[=value]] ...", "none",
        "A header-name, regex and a list of variables.", cmds_env::set_env_if).overrides("FileInfo"),
    row("SetEnvIfNoCase", Any, Argv, ALL, "setenvif", "SetEnvIfNoCase attribute regex [!]env-variable[=value] [[!]env-variable[=value]] ...", "none",
        "a header-name, regex and a list of variables.", cmds_env::set_env_if_nocase).overrides("FileInfo"),
    row("BrowserMatch", Any, Argv, ALL, "setenvif", "BrowserMatch regex [!]env-variable[=value] [[!]env-variable[=value]] ...", "none",
        "A browser regex and a list of variables.", cmds_env::browser_match).overrides("FileInfo"),
    row("BrowserMatchNoCase", Any, Argv, ALL, "setenvif", "BrowserMatchNoCase regex [!]env-variable[=value] [[!]env-variable[=value]] ...", "none",
        "A browser regex and a list of variables.", cmds_env::browser_match_nocase).overrides("FileInfo"),
    row("SetEnv", Any, Take12, ALL, "env", "SetEnv env-variable [value]", "none",
        "an environment variable name and optional value to pass to CGI.", cmds_env::set_env).overrides("FileInfo"),
    row("UnsetEnv", Any, Iterate, ALL, "env", "UnsetEnv env-variable [env-variable] ...", "none",
        "a list of variables to remove from the CGI environment.", cmds_env::unset_env).overrides("FileInfo"),
    row("PassEnv", Any, Iterate, ALL, "env", "PassEnv env-variable [env-variable] ...", "none",
        "a list of environment variables to pass to CGI.", cmds_env::pass_env).overrides("FileInfo"),
    row("Header", Any, Raw, ALL, "headers", "Header [condition] add|append|echo|edit|edit*|merge|set|setifempty|unset header [[expr=]value [replacement] [early|env=[!]varname|expr=expression]]", "none",
        "an optional condition, an action, header and value followed by optional env clause", cmds_env::header).overrides("FileInfo"),
    row("RequestHeader", Any, Raw, ALL, "headers", "RequestHeader add|append|edit|edit*|merge|set|setifempty|unset header [[expr=]value [replacement] [early|env=[!]varname|expr=expression]]", "none",
        "an action, header and value followed by optional env clause", cmds_filter::request_header).overrides("FileInfo"),
    // ---- output filters and file delivery (mod_deflate, mod_filter, core: config/cmds_filter.rs,
    //      modules/deflate.rs, modules/filter.rs, http/file_bucket.rs) ----
    row("DeflateCompressionLevel", Server, Take1, ALL, "deflate", "DeflateCompressionLevel value", "6 (zlib's Z_DEFAULT_COMPRESSION)",
        "Set the Deflate Compression Level (1-9)", cmds_filter::deflate_level),
    row("DeflateBufferSize", Server, Take1, ALL, "deflate", "DeflateBufferSize value", "8096 (mod_deflate.c DEFAULT_BUFFERSIZE)",
        "Set the Deflate Buffer Size", cmds_filter::deflate_buffer_size),
    row("DeflateWindowSize", Server, Take1, ALL, "deflate", "DeflateWindowSize value", "15 (mod_deflate.c DEFAULT_WINDOWSIZE; the only value mpm-lab supports)",
        "Set the Deflate window size (1-15)", cmds_filter::deflate_window_size),
    row("DeflateMemLevel", Server, Take1, ALL, "deflate", "DeflateMemLevel value", "9 (mod_deflate.c DEFAULT_MEMLEVEL; the only value mpm-lab supports)",
        "Set the Deflate Memory Level (1-9)", cmds_filter::deflate_mem_level),
    row("DeflateFilterNote", Server, Take12, ALL, "deflate", "DeflateFilterNote [type] notename", "none",
        "Set a note to report on compression ratio", cmds_filter::deflate_note),
    row("DeflateAlterETag", Server, Take1, ALL, "deflate", "DeflateAlterETag AddSuffix|NoChange|Remove", "AddSuffix",
        "Set how mod_deflate should modify ETAG response headers: 'AddSuffix' (default), 'NoChange' (2.2.x behavior), 'Remove'", cmds_filter::deflate_alter_etag),
    row("DeflateInflateLimitRequestBody", Any, Take1, ALL, "deflate", "DeflateInflateLimitRequestBody value", "refused (no INFLATE filter)",
        "Set a limit on size of inflated input", cmds_filter::deflate_inflate_refused),
    row("DeflateInflateRatioLimit", Any, Take1, ALL, "deflate", "DeflateInflateRatioLimit value", "refused (no INFLATE filter)",
        "Set the inflate ratio limit above which inflation is aborted (default: 200)", cmds_filter::deflate_inflate_refused),
    row("DeflateInflateRatioBurst", Any, Take1, ALL, "deflate", "DeflateInflateRatioBurst value", "refused (no INFLATE filter)",
        "Set the maximum number of following inflate ratios above limit (default: 3)", cmds_filter::deflate_inflate_refused),
    row("AddOutputFilterByType", Any, Argv, ALL, "filter", "AddOutputFilterByType filter[;filter...] media-type [media-type] ...", "none",
        "output filter name followed by one or more content-types", cmds_filter::add_output_filter_by_type).overrides("FileInfo"),
    row("FilterDeclare", Any, Raw, ALL, "filter", "FilterDeclare filter-name [type] (refused by mpm-lab)", "none",
        "filter-name [filter-type]", cmds_filter::filter_general_refused).overrides("Options"),
    row("FilterProvider", Any, Raw, ALL, "filter", "FilterProvider filter-name provider-name expression (refused by mpm-lab)", "none",
        "filter-name, provider-name, match-expression", cmds_filter::filter_general_refused).overrides("Options"),
    row("FilterChain", Any, Raw, ALL, "filter", "FilterChain [+=-@!]filter-name ... (refused by mpm-lab)", "none",
        "list of filter names with optional [+-=!@]", cmds_filter::filter_general_refused).overrides("Options"),
    row("FilterProtocol", Any, Raw, ALL, "filter", "FilterProtocol filter-name [provider-name] proto-flags (refused by mpm-lab)", "none",
        "filter-name [provider-name] protocol-args", cmds_filter::filter_general_refused).overrides("Options"),
    row("FilterTrace", Any, Raw, ALL, "filter", "FilterTrace filter-name level (refused by mpm-lab)", "none",
        "filter-name debug-level", cmds_filter::filter_general_refused),
    row("SetOutputFilter", Any, Take1, ALL, "core", "SetOutputFilter filter[;filter...]", "none",
        "filters to be run", cmds_filter::set_output_filter).overrides("FileInfo"),
    row("EnableSendfile", Any, Take1, ALL, "core", "EnableSendfile On|Off", "Off in Apache (core.c); unset in mpm-lab: sendfile, measured fastest",
        "Controls whether sendfile may be used to transmit files", cmds_filter::set_enable_sendfile).overrides("FileInfo"),
    row("EnableMMAP", Any, Take1, ALL, "core", "EnableMMAP On|Off", "On (core.c ENABLE_MMAP_UNSET)",
        "Controls whether memory-mapping may be used to read files", cmds_filter::set_enable_mmap).overrides("FileInfo"),
    // ---- Options, AddHandler, mod_alias, mod_cgi, mod_cgid (issue #14) ----
    row("Options", Any, Argv, ALL, "core", "Options [+|-]option [[+|-]option] ...", "FollowSymLinks (core.c, 2.3.11+)",
        "Set a number of attributes for a given directory", cmds::set_options),
    // ---- mod_mime, ForceType, mod_negotiation (config/cmds_mime.rs, modules/mime.rs, negotiation.rs) ----
    row("AddHandler", Any, Argv, ALL, "mime", "AddHandler handler-name extension [extension] ...", "-",
        "a handler name followed by one or more file extensions", cmds_mime::add_handler).overrides("FileInfo"),
    row("AddType", Any, Argv, ALL, "mime", "AddType media-type extension [extension] ...", "-",
        "a mime type followed by one or more file extensions", cmds_mime::add_type).overrides("FileInfo"),
    row("AddEncoding", Any, Argv, ALL, "mime", "AddEncoding encoding extension [extension] ...", "-",
        "an encoding (e.g., gzip), followed by one or more file extensions", cmds_mime::add_encoding).overrides("FileInfo"),
    row("AddCharset", Any, Argv, ALL, "mime", "AddCharset charset extension [extension] ...", "-",
        "a charset (e.g., iso-2022-jp), followed by one or more file extensions", cmds_mime::add_charset).overrides("FileInfo"),
    row("AddLanguage", Any, Argv, ALL, "mime", "AddLanguage language-tag extension [extension] ...", "-",
        "a language (e.g., fr), followed by one or more file extensions", cmds_mime::add_language).overrides("FileInfo"),
    row("AddInputFilter", Any, Argv, ALL, "mime", "AddInputFilter filter[;filter...] extension [extension] ...", "-",
        "refused by mpm-lab (no per-extension filter chain)", cmds_mime::filters_refused).overrides("FileInfo"),
    row("AddOutputFilter", Any, Argv, ALL, "mime", "AddOutputFilter filter[;filter...] extension [extension] ...", "-",
        "refused by mpm-lab (no per-extension filter chain)", cmds_mime::filters_refused).overrides("FileInfo"),
    row("RemoveInputFilter", Any, Iterate, ALL, "mime", "RemoveInputFilter extension [extension] ...", "-",
        "refused by mpm-lab (no per-extension filter chain)", cmds_mime::filters_refused).overrides("FileInfo"),
    row("RemoveOutputFilter", Any, Iterate, ALL, "mime", "RemoveOutputFilter extension [extension] ...", "-",
        "refused by mpm-lab (no per-extension filter chain)", cmds_mime::filters_refused).overrides("FileInfo"),
    row("RemoveType", Any, Iterate, ALL, "mime", "RemoveType extension [extension] ...", "-",
        "one or more file extensions", cmds_mime::remove_type).overrides("FileInfo"),
    row("RemoveHandler", Any, Iterate, ALL, "mime", "RemoveHandler extension [extension] ...", "-",
        "one or more file extensions", cmds_mime::remove_handler).overrides("FileInfo"),
    row("RemoveEncoding", Any, Iterate, ALL, "mime", "RemoveEncoding extension [extension] ...", "-",
        "one or more file extensions", cmds_mime::remove_encoding).overrides("FileInfo"),
    row("RemoveCharset", Any, Iterate, ALL, "mime", "RemoveCharset extension [extension] ...", "-",
        "one or more file extensions", cmds_mime::remove_charset).overrides("FileInfo"),
    row("RemoveLanguage", Any, Iterate, ALL, "mime", "RemoveLanguage extension [extension] ...", "-",
        "one or more file extensions", cmds_mime::remove_language).overrides("FileInfo"),
    row("DefaultLanguage", Any, Take1, ALL, "mime", "DefaultLanguage language-tag", "none",
        "language to use for documents with no other language file extension", cmds_mime::default_language).overrides("FileInfo"),
    row("MultiviewsMatch", Any, Iterate, ALL, "mime", "MultiviewsMatch Any|NegotiatedOnly|Filters|Handlers [Handlers|Filters]", "NegotiatedOnly",
        "NegotiatedOnly (default), Handlers and/or Filters, or Any", cmds_mime::multiviews_match).overrides("FileInfo"),
    row("ModMimeUsePathInfo", Directory, Flag, ALL, "mime", "ModMimeUsePathInfo On|Off", "Off",
        "refused by mpm-lab (mod_mime looks at the file name only)", cmds_mime::mod_mime_use_path_info),
    row("ForceType", Any, Take1, ALL, "core", "ForceType media-type|None", "-",
        "a mime type that overrides other configured type", cmds_mime::force_type).overrides("FileInfo"),
    row("LanguagePriority", Any, Iterate, ALL, "negotiation", "LanguagePriority MIME-lang [MIME-lang] ...", "none",
        "space-delimited list of MIME language abbreviations", cmds_mime::language_priority).overrides("FileInfo"),
    row("ForceLanguagePriority", Any, Iterate, ALL, "negotiation", "ForceLanguagePriority None|Prefer|Fallback [Prefer|Fallback]", "Prefer",
        "Force LanguagePriority elections, either None, or Fallback and/or Prefer", cmds_mime::force_language_priority).overrides("FileInfo"),
    row("CacheNegotiatedDocs", Server, Flag, ALL, "negotiation", "CacheNegotiatedDocs On|Off", "Off",
        "Either 'on' or 'off' (default)", cmds_mime::cache_negotiated_docs),
    row("Alias", Server, Take2, ALL, "alias", "Alias URL-path file-path|directory-path", "-",
        "a fakename and a realname, or a realname in a Location", cmds::add_alias),
    row("AliasMatch", Server, Take2, ALL, "alias", "AliasMatch regex file-path|directory-path", "-",
        "a regular expression and a filename", cmds::add_alias_regex),
    row("ScriptAlias", Server, Take2, ALL, "alias", "ScriptAlias URL-path file-path|directory-path", "-",
        "a fakename and a realname, or a realname in a Location", cmds::add_script_alias),
    row("ScriptAliasMatch", Server, Take2, ALL, "alias", "ScriptAliasMatch regex file-path|directory-path", "-",
        "a regular expression and a filename", cmds::add_script_alias_regex),
    row("Redirect", Server, Argv, ALL, "alias", "Redirect [status] [URL-path] URL", "-",
        "an optional status, then document to be redirected and destination URL", cmds::add_redirect),
    row("RedirectMatch", Server, Argv, ALL, "alias", "RedirectMatch [status] regex URL", "-",
        "an optional status, then a regular expression and destination URL", cmds::add_redirect_regex),
    row("RedirectTemp", Server, Take2, ALL, "alias", "RedirectTemp URL-path URL", "-",
        "a document to be redirected, then the destination URL", cmds::add_redirect_temp),
    row("RedirectPermanent", Server, Take2, ALL, "alias", "RedirectPermanent URL-path URL", "-",
        "a document to be redirected, then the destination URL", cmds::add_redirect_permanent),
    row("ScriptLog", Server, Take1, ALL, "cgi", "ScriptLog file-path", "off",
        "the name of a log for script debugging info", cmds::set_scriptlog),
    row("ScriptLogLength", Server, Take1, ALL, "cgi", "ScriptLogLength bytes", "10385760 (mod_cgi.c DEFAULT_LOGBYTES)",
        "the maximum length (in bytes) of the script debug log", cmds::set_scriptlog_length),
    row("ScriptLogBuffer", Server, Take1, ALL, "cgi", "ScriptLogBuffer bytes", "1024 (mod_cgi.c DEFAULT_BUFBYTES)",
        "the maximum size (in bytes) to record of a POST request", cmds::set_scriptlog_buffer),
    row("ScriptSock", Server, Take1, ALL, "cgid", "ScriptSock file-path", "cgisock (under DefaultRuntimeDir, .PID appended)",
        "the name of the socket to use for communication with the cgi daemon.", cmds::set_script_socket),
    row("CGIDScriptTimeout", Server, Take1, ALL, "cgid", "CGIDScriptTimeout time[s|ms]", "Timeout",
        "The amount of time to wait between successful reads from the CGI script, in seconds.", cmds::set_script_timeout),
    // ---- mod_autoindex (config/cmds_index.rs, modules/autoindex/) ----
    row("IndexOptions", Any, Argv, ALL, "autoindex", "IndexOptions [+|-]option [[+|-]option] ...", "none (plain <ul> listing; Debian's autoindex.conf: FancyIndexing VersionSort HTMLTable NameWidth=* DescriptionWidth=* Charset=UTF-8)",
        "one or more index options [+|-][]", cmds_index::index_options).overrides("Indexes"),
    row("IndexOrderDefault", Any, Take2, ALL, "autoindex", "IndexOrderDefault Ascending|Descending Name|Date|Size|Description", "Ascending Name",
        "{Ascending,Descending} {Name,Size,Description,Date}", cmds_index::index_order_default).overrides("Indexes"),
    row("IndexIgnore", Any, Iterate, ALL, "autoindex", "IndexIgnore file [file] ...", "none (Debian: .??* *~ *# RCS CVS *,v *,t)",
        "one or more file extensions", cmds_index::index_ignore).overrides("Indexes"),
    row("IndexIgnoreReset", Any, Flag, ALL, "autoindex", "IndexIgnoreReset On|Off", "Off",
        "Reset the inherited list of IndexIgnore filenames", cmds_index::index_ignore_reset).overrides("Indexes"),
    row("IndexStyleSheet", Any, Take1, ALL, "autoindex", "IndexStyleSheet url-path", "none",
        "URL to style sheet", cmds_index::index_style_sheet).overrides("Indexes"),
    row("IndexHeadInsert", Any, Take1, ALL, "autoindex", "IndexHeadInsert \"markup ...\"", "none",
        "String to insert in HTML HEAD section", cmds_index::index_head_insert).overrides("Indexes"),
    row("HeaderName", Any, Take1, ALL, "autoindex", "HeaderName filename", "none (Debian: HEADER.html)",
        "a filename", cmds_index::header_name).overrides("Indexes"),
    row("ReadmeName", Any, Take1, ALL, "autoindex", "ReadmeName filename", "none (Debian: README.html)",
        "a filename", cmds_index::readme_name).overrides("Indexes"),
    row("AddIcon", Any, Argv, ALL, "autoindex", "AddIcon icon name [name] ...", "none",
        "an icon URL followed by one or more filenames", cmds_index::add_icon).overrides("Indexes"),
    row("AddIconByType", Any, Argv, ALL, "autoindex", "AddIconByType icon MIME-type [MIME-type] ...", "none",
        "an icon URL followed by one or more MIME types", cmds_index::add_icon_by_type).overrides("Indexes"),
    row("AddIconByEncoding", Any, Argv, ALL, "autoindex", "AddIconByEncoding icon MIME-encoding [MIME-encoding] ...", "none",
        "an icon URL followed by one or more content encodings", cmds_index::add_icon_by_encoding).overrides("Indexes"),
    row("AddAlt", Any, Argv, ALL, "autoindex", "AddAlt string file [file] ...", "none",
        "alternate descriptive text followed by one or more filenames", cmds_index::add_alt).overrides("Indexes"),
    row("AddAltByType", Any, Argv, ALL, "autoindex", "AddAltByType string MIME-type [MIME-type] ...", "none",
        "alternate descriptive text followed by one or more MIME types", cmds_index::add_alt_by_type).overrides("Indexes"),
    row("AddAltByEncoding", Any, Argv, ALL, "autoindex", "AddAltByEncoding string MIME-encoding [MIME-encoding] ...", "none",
        "alternate descriptive text followed by one or more content encodings", cmds_index::add_alt_by_encoding).overrides("Indexes"),
    row("AddDescription", Any, Argv, ALL, "autoindex", "AddDescription string file [file] ...", "none",
        "Descriptive text followed by one or more filenames", cmds_index::add_description).overrides("Indexes"),
    row("DefaultIcon", Any, Take1, ALL, "autoindex", "DefaultIcon url-path", "none (Debian: /icons/unknown.gif)",
        "an icon URL", cmds_index::default_icon).overrides("Indexes"),
    row("FancyIndexing", Any, Raw, ALL, "autoindex", "FancyIndexing (removed in 2.4)", "refused, as by Apache 2.4",
        "The FancyIndexing directive is no longer supported. Use IndexOptions FancyIndexing.", cmds_index::fancy_indexing).overrides("All"),
    // ---- MPM (stored raw with atoi; each MPM's check_config clamps; mpm_default.h defaults) ----
    row("StartServers", Server, Take1, ALL, "mpm", "StartServers number", "5 prefork, 3 worker/event (DEFAULT_START_DAEMON)",
        "Number of child processes launched at server startup", cmds::set_daemons_to_start),
    row("MinSpareServers", Server, Take1, PREFORK, "prefork", "MinSpareServers number", "5 (DEFAULT_MIN_FREE_DAEMON)",
        "Minimum number of idle children, to handle request spikes", cmds::set_min_free_servers),
    row("MaxSpareServers", Server, Take1, PREFORK, "prefork", "MaxSpareServers number", "10 (DEFAULT_MAX_FREE_DAEMON)",
        "Maximum number of idle children", cmds::set_max_free_servers),
    row("MinSpareThreads", Server, Take1, THREADED, "worker, event", "MinSpareThreads number", "75 (DEFAULT_MIN_SPARE_THREAD)",
        "Minimum number of idle threads, to handle request spikes", cmds::set_min_spare_threads),
    row("MaxSpareThreads", Server, Take1, THREADED, "worker, event", "MaxSpareThreads number", "250 (DEFAULT_MAX_SPARE_THREAD)",
        "Maximum number of idle threads", cmds::set_max_spare_threads),
    row("ThreadsPerChild", Server, Take1, THREADED, "worker, event", "ThreadsPerChild number", "25 (DEFAULT_THREADS_PER_CHILD)",
        "Number of threads each child creates", cmds::set_threads_per_child),
    row("ThreadLimit", Server, Take1, THREADED, "worker, event", "ThreadLimit number", "64 (DEFAULT_THREAD_LIMIT)",
        "Maximum number of worker threads per child process for this run of Apache - Upper limit for ThreadsPerChild", cmds::set_thread_limit),
    row("ServerLimit", Server, Take1, ALL, "mpm", "ServerLimit number", "256 prefork, 16 worker/event (DEFAULT_SERVER_LIMIT)",
        "Maximum number of child processes for this run of Apache", cmds::set_server_limit),
    row("MaxRequestWorkers", Server, Take1, ALL, "mpm", "MaxRequestWorkers number", "256 prefork, 400 worker/event",
        "Maximum number of threads alive at the same time", cmds::set_max_workers),
    row("MaxClients", Server, Take1, ALL, "mpm", "MaxClients number", "(old name of MaxRequestWorkers)",
        "Deprecated name of MaxRequestWorkers", cmds::set_max_clients),
    row("MaxConnectionsPerChild", Server, Take1, ALL, "mpm_common", "MaxConnectionsPerChild number", "0 = unlimited (mpm_common.c)",
        "Maximum number of connections a particular child serves before dying.", cmds::set_max_connections),
    row("MaxRequestsPerChild", Server, Take1, ALL, "mpm_common", "MaxRequestsPerChild number", "(old name of MaxConnectionsPerChild)",
        "Maximum number of connections a particular child serves before dying. (DEPRECATED, use MaxConnectionsPerChild)", cmds::set_max_requests),
    row("AsyncRequestWorkerFactor", Server, Take1, EVENT, "event", "AsyncRequestWorkerFactor factor", "2 (event.c)",
        "How many additional connects will be accepted per idle worker thread", cmds::set_worker_factor),
    row("GracefulShutdownTimeout", Server, Take1, ALL, "mpm_common", "GracefulShutdownTimeout seconds", "0 = wait forever (mpm_common.c)",
        "Maximum time in seconds to wait for child processes to complete transactions during shutdown", cmds::set_graceful_shutdown),
    row("RequestReadTimeout", Server, Raw, ALL, "reqtimeout",
        "RequestReadTimeout [handshake=timeout[-maxtimeout][,MinRate=rate] [header=timeout[-maxtimeout][,MinRate=rate] [body=timeout[-maxtimeout][,MinRate=rate]",
        "handshake=0 header=20-40,MinRate=500 body=20,MinRate=500 (mod_reqtimeout.c, once loaded)",
        "Set various timeout parameters for TLS handshake and/or reading request headers and body",
        cmds::set_reqtimeouts),
    row("MaxMemFree", Server, Take1, ALL, "mpm_common", "MaxMemFree KBytes", "2048 (accepted, no effect)",
        "Maximum number of 1k blocks a particular child's allocator may hold.", cmds::set_max_mem_free),
];

/// Case-insensitive lookup (`ap_find_command`).
pub fn lookup(name: &str) -> Option<&'static Directive> {
    DIRECTIVES
        .iter()
        .find(|d| d.name.eq_ignore_ascii_case(name))
}

impl Directive {
    /// Known to this MPM?
    pub fn available_in(&self, mpm: &MpmIdent) -> bool {
        match self.mpms {
            Mpms::All => true,
            Mpms::Only(list) => list.contains(&mpm.name),
        }
    }
    /// `<Directory>` for sections, the plain name otherwise.
    pub fn display_name(&self) -> String {
        if self.args == Args::Section {
            format!("{}>", self.name)
        } else {
            self.name.to_string()
        }
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
        Args::Take12 if w.is_empty() || w.len() > 2 || w[0].is_empty() => {
            err("takes 1-2 arguments")
        }
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

/// `httpd -L`: every directive with its module, help and where it is allowed.
pub fn directive_list_text(mpm: &MpmIdent) -> String {
    let mut out = String::new();
    for d in DIRECTIVES.iter().filter(|d| d.available_in(mpm)) {
        let module = if d.module == "mpm" || d.mpms != Mpms::All {
            format!("{}.c", mpm.name)
        } else {
            format!("{}.c", d.module)
        };
        let place = match d.context {
            Context::Server => {
                "Allowed in *.conf only outside <Directory>, <Files>, <Location>, or <If>"
            }
            Context::Directory => {
                "Allowed in *.conf only inside <Directory>, <Files>, <Location>, or <If>"
            }
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
        let ovr = d
            .allow_override
            .map(|o| format!(", .htaccess (AllowOverride {o})"))
            .unwrap_or_default();
        let esc = |s: &str| {
            s.replace('|', "\\|")
                .replace('<', "&lt;")
                .replace('>', "&gt;")
        };
        out.push_str(&format!(
            "| `{}` | `{}` | {} | {ctx}{ovr}{read} | {mpms} | {} |\n",
            d.display_name(),
            d.syntax.replace('|', "\\|"),
            esc(d.default),
            esc(d.help)
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_every_directive_is_unique_and_documented() {
        for (i, d) in DIRECTIVES.iter().enumerate() {
            assert!(
                !d.help.is_empty() && !d.syntax.is_empty() && !d.default.is_empty(),
                "{}",
                d.name
            );
            assert!(
                DIRECTIVES[i + 1..]
                    .iter()
                    .all(|o| !o.name.eq_ignore_ascii_case(d.name)),
                "duplicate {}",
                d.name
            );
        }
        let md = directive_reference_markdown();
        for d in DIRECTIVES {
            assert!(
                md.contains(&format!("`{}`", d.display_name())),
                "{} missing from the reference",
                d.name
            );
        }
        let l = directive_list_text(&MpmIdent::PREFORK);
        assert!(l.contains("Listen (mpm_common.c)\n\tA port number"), "{l}");
        assert!(
            !l.contains("ThreadsPerChild"),
            "prefork does not know ThreadsPerChild"
        );
    }

    #[test]
    fn config_lookup_is_case_insensitive() {
        assert_eq!(
            lookup("keepalivetimeout").map(|d| d.name),
            Some("KeepAliveTimeout")
        );
        assert_eq!(lookup("<directory").map(|d| d.name), Some("<Directory"));
        assert!(lookup("Foo").is_none());
    }

    #[test]
    fn config_check_args_apache_messages() {
        let get = |n| lookup(n).unwrap();
        assert_eq!(
            check_args(get("ServerName"), "a"),
            Ok(vec!["a".to_string()])
        );
        assert_eq!(
            check_args(get("ServerName"), ""),
            Err("ServerName takes one argument, The hostname and port of the server".into())
        );
        assert!(
            check_args(get("LoadModule"), "a")
                .unwrap_err()
                .starts_with("LoadModule takes two arguments, ")
        );
        assert!(
            check_args(get("Define"), "a b c")
                .unwrap_err()
                .starts_with("Define takes 1-2 arguments, ")
        );
        assert_eq!(
            check_args(get("KeepAlive"), "ON"),
            Ok(vec!["ON".to_string()])
        );
        assert_eq!(
            check_args(get("KeepAlive"), "1"),
            Err("KeepAlive must be On or Off".into())
        );
        assert_eq!(
            check_args(get("Require"), "all  granted"),
            Ok(vec!["all  granted".to_string()])
        );
        assert_eq!(
            check_args(get("DirectoryIndex"), "a \"b c\""),
            Ok(vec!["a".to_string(), "b c".to_string()])
        );
    }
}
