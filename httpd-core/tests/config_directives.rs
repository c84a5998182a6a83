//! One test per directive parser of `httpd-core/src/config/cmds.rs`, in table order, through the
//! whole load so that argument splitting and context checks are exercised too.

use std::path::Path;
use std::time::Duration;

use httpd_core::config::cmds::parse_timeout;
use httpd_core::config::{
    ConfigError, ConfigOptions, ErrorLogTarget, MpmDirectives, MpmIdent, Require, ServerConfig,
    load_text,
};
use httpd_core::log::{COMBINED_FORMAT, COMMON_FORMAT, Level};

fn load_as(mpm: &MpmIdent, text: &str) -> Result<ServerConfig, ConfigError> {
    load_text("/t.conf", text, &ConfigOptions::default(), mpm)
}
fn load(text: &str) -> ServerConfig {
    load_as(&MpmIdent::PREFORK, text).unwrap_or_else(|e| panic!("{e}"))
}
/// The message part of a walk error (second line of AH00526).
fn err(text: &str) -> String {
    load_as(&MpmIdent::PREFORK, text).unwrap_err().message
}

#[test]
fn config_listen_forms() {
    let c = load(
        "Listen 8080\nListen 127.0.0.1:0\nListen [::1]:80\nListen *:81 http\nlisten 127.0.0.1:0",
    );
    let got: Vec<String> = c.listen.iter().map(|l| l.addr.to_string()).collect();
    assert_eq!(
        got,
        [
            "0.0.0.0:8080",
            "127.0.0.1:0",
            "[::1]:80",
            "0.0.0.0:81",
            "127.0.0.1:0"
        ]
    );
    assert_eq!(err("Listen"), "Listen requires 1 or 2 arguments.");
    assert_eq!(err("Listen 1 http x"), "Listen requires 1 or 2 arguments.");
    assert_eq!(err("Listen 127.0.0.1"), "Port must be specified");
    assert_eq!(err("Listen 127.0.0.1:99999"), "Invalid address or port");
    assert_eq!(
        err("Listen 80\nListen 80"),
        "Cannot define multiple Listeners on the same IP:port"
    );
    assert!(err("Listen 443 https").contains("plain HTTP only"));
}

#[test]
fn config_accept_filter() {
    assert!(
        load("").accept_filter_http,
        "Linux default: AcceptFilter http data"
    );
    assert!(!load("AcceptFilter http none").accept_filter_http);
    assert!(load("AcceptFilter http none\nAcceptFilter HTTP data").accept_filter_http);
    assert!(
        load("AcceptFilter https none").accept_filter_http,
        "another protocol"
    );
    assert!(err("AcceptFilter http").contains("AcceptFilter"));
}

#[test]
fn config_listen_backlog_and_buckets() {
    assert_eq!(load("ListenBacklog 64").listen_backlog, 64);
    assert_eq!(load("").listen_backlog, 511);
    assert_eq!(err("ListenBacklog 0"), "ListenBacklog must be > 0");
    assert_eq!(err("ListenBacklog x"), "ListenBacklog must be > 0");
    assert_eq!(
        err("ListenCoresBucketsRatio 0"),
        "ListenCoresBucketsRatio must be > 0"
    );
    // One bucket (cores / ratio <= 1) is what mpm-lab serves: accepted, as Apache would.
    let cores = httpd_core::listen::online_cores();
    assert_eq!(
        load(&format!("ListenCoresBucketsRatio {cores}"))
            .mpm
            .listen_cores_buckets_ratio,
        Some(cores)
    );
    assert_eq!(
        load(&format!("ListenCoresBucketsRatio {}", cores + 1))
            .mpm
            .listen_cores_buckets_ratio,
        Some(cores + 1)
    );
    // More than one bucket would be accepted and ignored: refused, saying why and what works.
    if cores >= 2 {
        let e = err(&format!("ListenCoresBucketsRatio {}", cores / 2));
        assert!(
            e.starts_with(&format!(
                "ListenCoresBucketsRatio {} would make {} listeners buckets from this machine's {cores} online CPU cores",
                cores / 2,
                cores / (cores / 2)
            )) && e.contains(&format!("use a ratio of {cores} or more")),
            "{e}"
        );
    }
}

#[test]
fn config_paths_are_server_root_relative() {
    let root = std::env::temp_dir();
    let c = load(&format!(
        "ServerRoot {}\nDocumentRoot www\nErrorLog logs/err\nPidFile run/x.pid\nTypesConfig conf/mime.types",
        root.display()
    ));
    assert_eq!(c.server_root, root);
    assert_eq!(c.document_root, root.join("www"));
    assert_eq!(c.error_log, ErrorLogTarget::File(root.join("logs/err")));
    assert_eq!(c.pid_file, root.join("run/x.pid"));
    assert_eq!(c.types_config, Some(root.join("conf/mime.types")));
    assert!(
        c.startup_warnings
            .iter()
            .any(|w| w.starts_with("AH00112: Warning: DocumentRoot ["))
    );
    // A missing TypesConfig passes the syntax check; the start refuses it (AH01597).
    assert!(!c.startup_warnings.iter().any(|w| w.contains("mime")));
    let d = load(&format!("ServerRoot {}", root.display()));
    assert_eq!(
        d.pid_file,
        root.join("logs/httpd.pid"),
        "Apache's DEFAULT_PIDLOG"
    );
    assert_eq!(
        d.error_log,
        ErrorLogTarget::File(root.join("logs/error_log")),
        "Apache's DEFAULT_ERRORLOG"
    );
    assert_eq!((d.user.as_str(), d.group.as_str()), ("#-1", "#-1"));
    assert_eq!(
        err("ServerRoot /surely/not/here"),
        "ServerRoot must be a valid directory"
    );
}

#[test]
fn config_pid_file_under_default_runtime_dir() {
    let root = std::env::temp_dir();
    let c = load(&format!(
        "DefaultRuntimeDir {}\nPidFile x.pid",
        root.display()
    ));
    assert_eq!(c.pid_file, root.join("x.pid"));
    assert!(
        err("DefaultRuntimeDir /surely/not/here")
            .starts_with("DefaultRuntimeDir must be a valid directory")
    );
}

#[test]
fn config_identity_and_names() {
    let c = load("ServerName lab:8081\nServerAdmin you@example.org\nUser nobody\nGroup nogroup");
    assert_eq!(c.server_name.as_deref(), Some("lab:8081"));
    assert_eq!(c.server_admin.as_deref(), Some("you@example.org"));
    assert_eq!((c.user.as_str(), c.group.as_str()), ("nobody", "nogroup"));
    assert_eq!(
        err("ServerName a b"),
        "ServerName takes one argument, The hostname and port of the server"
    );
}

#[test]
fn config_directory_index_replaces_then_adds() {
    assert_eq!(load("").directory_index, ["index.html"]);
    assert_eq!(
        load("DirectoryIndex a.html b.html\nDirectoryIndex c.html").directory_index,
        ["a.html", "b.html", "c.html"]
    );
    assert!(load("DirectoryIndex disabled").directory_index.is_empty());
}

#[test]
fn config_error_log_targets() {
    assert_eq!(
        load("ErrorLog /dev/stderr").error_log,
        ErrorLogTarget::Stderr
    );
    assert_eq!(
        load("ErrorLog /var/x").error_log,
        ErrorLogTarget::File("/var/x".into())
    );
    // Piped loggers are kept as written (log::piped parses `|`, `||`, `|$`).
    assert_eq!(
        load("ErrorLog \"|$cat >> /tmp/x\"").error_log,
        ErrorLogTarget::Piped("|$cat >> /tmp/x".into())
    );
    assert!(err("ErrorLog syslog:local7").contains("syslog is not supported"));
}

#[test]
fn config_piped_transfer_logs_buffered_logs_and_error_log_format() {
    let c = load(
        "CustomLog \"||/usr/bin/rotatelogs /l/a.%Y 86400\" common\nTransferLog \"|$cat\"\n\
         BufferedLogs On\nErrorLogFormat \"[%l] %M\"\nErrorLogFormat request \"R %L\"\n\
         <VirtualHost *:80>\nServerName v.example\nErrorLogFormat connection \"C %a\"\n</VirtualHost>",
    );
    assert_eq!(
        c.custom_logs[0].path,
        Path::new("||/usr/bin/rotatelogs /l/a.%Y 86400")
    );
    assert_eq!(c.custom_logs[1].path, Path::new("|$cat"));
    assert!(c.buffered_logs);
    assert!(!load("BufferedLogs Off").buffered_logs);
    assert!(c.error_log_format.main.is_some() && c.error_log_format.request.is_some());
    assert!(!c.error_log_format.threaded, "prefork: %T prints nothing");
    let v = c.vhosts[0].error_log_format.as_ref().expect("vhost format");
    assert_eq!(
        v.main, c.error_log_format.main,
        "merged from the main server"
    );
    assert_eq!(v.connection.as_ref().map(Vec::len), Some(1));
    assert!(
        load_as(&MpmIdent::WORKER, "ErrorLogFormat %M")
            .unwrap()
            .error_log_format
            .threaded
    );
    assert_eq!(
        err("ErrorLogFormat \"[%t]\""),
        "main ErrorLogFormat must contain message format string '%M'"
    );
    assert!(err("BufferedLogs maybe").contains("BufferedLogs must be On or Off"));
}

#[test]
fn config_log_level_per_module() {
    let c = load("LogLevel warn mpm_prefork:info core:debug");
    assert_eq!(c.log_level.default, Level::Warn);
    assert_eq!(c.log_level.level_for("mpm_prefork"), Level::Info);
    assert_eq!(c.log_level.level_for("core"), Level::Debug);
    assert_eq!(
        load("LogLevel status_module:error")
            .log_level
            .level_for("status"),
        Level::Error
    );
    assert_eq!(
        load("LogLevel mod_status.c:error")
            .log_level
            .level_for("status"),
        Level::Error
    );
    // A bare level resets every module level, as ap_reset_module_loglevels.
    assert!(
        load("LogLevel mpm_prefork:info\nLogLevel error")
            .log_level
            .modules
            .is_empty()
    );
    assert_eq!(
        err("LogLevel mpm_worker:info"),
        "Cannot find module mpm_worker"
    );
    assert_eq!(
        err("LogLevel core:"),
        "Module specifier 'core' must be followed by a log level keyword"
    );
    assert!(err("LogLevel loud").starts_with("Log level keyword must be one of"));
    assert!(err("LogLevel core:loud").starts_with("core:loud: Log level keyword"));
    assert_eq!(
        err("LogLevel"),
        "LogLevel requires at least one argument, Level of verbosity in error logging"
    );
}

#[test]
fn config_log_format_custom_log_transfer_log() {
    let c = load(
        "CustomLog /l/a combined\nLogFormat \"%h %>s\" short\nCustomLog /l/b short\nCustomLog /l/c \"%h %t\"\n\
         LogFormat \"%h %b\"\nTransferLog /l/d\nCustomLog /l/e common env=!x",
    );
    let got: Vec<(String, &str)> = c
        .custom_logs
        .iter()
        .map(|l| (l.path.display().to_string(), l.format.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            ("/l/a".into(), COMBINED_FORMAT),
            ("/l/b".into(), "%h %>s"),
            ("/l/c".into(), "%h %t"),
            ("/l/d".into(), "%h %b"),
            ("/l/e".into(), COMMON_FORMAT),
        ]
    );
    assert!(
        c.startup_warnings
            .iter()
            .any(|w| w.contains("condition 'env=!x' is ignored"))
    );
    assert!(err("LogFormat \"%h %Z\" x").starts_with("Unrecognized LogFormat directive %Z"));
    assert_eq!(
        err("CustomLog /l/a common junk"),
        "error in condition clause"
    );
    assert!(err("CustomLog /l/a").starts_with("CustomLog takes two or three arguments, "));
}

#[test]
fn config_timeouts_and_keepalive() {
    let c = load("Timeout 30\nKeepAlive off\nKeepAliveTimeout 500ms\nMaxKeepAliveRequests 0");
    assert_eq!(c.timeout, Duration::from_secs(30));
    assert!(!c.keep_alive);
    assert_eq!(c.keep_alive_timeout, Duration::from_millis(500));
    assert_eq!(c.max_keep_alive_requests, 0);
    let d = load("");
    assert_eq!(
        (
            d.timeout,
            d.keep_alive,
            d.keep_alive_timeout,
            d.max_keep_alive_requests
        ),
        (Duration::from_secs(60), true, Duration::from_secs(5), 100)
    );
    assert_eq!(
        load("KeepAliveTimeout 2").keep_alive_timeout,
        Duration::from_secs(2)
    );
    assert_eq!(
        err("KeepAliveTimeout soon"),
        "KeepAliveTimeout has wrong format"
    );
    assert_eq!(err("KeepAlive maybe"), "KeepAlive must be On or Off");
    assert_eq!(
        load("Timeout abc").timeout,
        Duration::ZERO,
        "atoi semantics"
    );
}

#[test]
fn config_request_limits() {
    let d = load("");
    assert_eq!(
        (
            d.limit_request_line,
            d.limit_request_field_size,
            d.limit_request_fields,
            d.limit_request_body
        ),
        (8190, 8190, 100, 1 << 30)
    );
    let c = load(
        "LimitRequestLine 100\nLimitRequestFieldSize 200\nLimitRequestFields 0\nLimitRequestBody 0",
    );
    assert_eq!(
        (
            c.limit_request_line,
            c.limit_request_field_size,
            c.limit_request_fields,
            c.limit_request_body
        ),
        (100, 200, 0, 0)
    );
    assert_eq!(
        err("LimitRequestLine -1"),
        "LimitRequestLine \"-1\" must be a non-negative integer"
    );
    assert_eq!(
        err("LimitRequestFieldSize -5"),
        "LimitRequestFieldsize \"-5\" must be a non-negative integer"
    );
    assert_eq!(
        err("LimitRequestFields -1"),
        "LimitRequestFields \"-1\" must be a non-negative integer (0 = no limit)"
    );
    assert_eq!(
        err("LimitRequestBody 12k"),
        "LimitRequestBody requires a non-negative integer."
    );
    assert_eq!(
        err("LimitRequestBody -1"),
        "LimitRequestBody requires a non-negative integer."
    );
    assert_eq!(
        err("LimitRequestBody 99999999999999999999"),
        "LimitRequestBody argument is not parsable."
    );
}

#[test]
fn config_protocol_options_trace_hostname_lookups() {
    load("HttpProtocolOptions Strict LenientMethods Allow0.9\nHostnameLookups Off");
    assert!(err("HttpProtocolOptions Unsafe").contains("only the defaults"));
    assert!(err("HttpProtocolOptions Sloppy").starts_with("HttpProtocolOptions accepts"));
    assert!(!load("TraceEnable off").trace_enable);
    assert_eq!(
        err("TraceEnable sometimes"),
        "TraceEnable must be one of 'on', 'off', or 'extended'"
    );
    assert!(err("HostnameLookups On").contains("use Off"));
    assert_eq!(
        err("HostnameLookups x"),
        "parameter must be 'on', 'off', or 'double'"
    );
}

#[test]
fn config_tokens_signature_charset_status_mutex() {
    let c = load(
        "ServerTokens Prod\nServerSignature EMail\nAddDefaultCharset utf-8\nExtendedStatus Off\nMutex file:/tmp default",
    );
    assert_eq!(
        (c.server_tokens.as_str(), c.server_signature.as_str()),
        ("Prod", "EMail")
    );
    assert_eq!(c.add_default_charset.as_deref(), Some("utf-8"));
    assert!(!c.extended_status);
    assert_eq!(c.mutex_default.mechanism, "fcntl");
    assert_eq!(
        load("AddDefaultCharset On").add_default_charset.as_deref(),
        Some("iso-8859-1")
    );
    assert_eq!(load("ServerTokens whatever").server_tokens, "Full");
    assert_eq!(
        err("ServerSignature loud"),
        "ServerSignature: use one of: off | on | email"
    );
}

#[test]
fn config_sections_set_handler_and_require() {
    let c = load(
        "<Location /server-status>\n SetHandler server-status\n Require local\n</Location>\n\
         <Directory /srv/www/>\n Require all denied\n Require all granted\n</Directory>\n\
         <Directory /srv/www/private>\n Require all denied\n</Directory>",
    );
    assert_eq!(
        c.handler_for("/server-status").as_deref(),
        Some("server-status")
    );
    assert_eq!(c.directories[0].path, "/srv/www", "trailing slash dropped");
    assert_eq!(
        c.directories[0].require,
        Some(vec![Require::AllDenied, Require::AllGranted]),
        "several Require lines: kept in order, an implicit <RequireAny>"
    );
    assert_eq!(
        c.access_for("/private/a", Path::new("/srv/www/private/a"))
            .require,
        vec![Require::AllDenied]
    );
    assert_eq!(
        c.access_for("/server-status", Path::new("/srv/www/server-status"))
            .require,
        vec![Require::Local]
    );
    // Server-level SetHandler applies everywhere, like a <Location /> before every section.
    assert_eq!(
        load("SetHandler server-status")
            .handler_for("/x")
            .as_deref(),
        Some("server-status")
    );
    assert_eq!(err("Require all granted"), "Require not allowed here");
    assert!(
        err("<Location /x>\nRequire group admins\n</Location>")
            .starts_with("Unknown Authz provider: group")
    );
    assert_eq!(
        err("<Location /x>\nRequire all maybe\n</Location>"),
        "'Require all' accepts only 'granted' or 'denied'"
    );
    assert_eq!(
        err("<Directory /x>\nListen 80\n</Directory>"),
        "Listen not allowed in <Directory> context"
    );
}

#[test]
fn config_regex_and_file_sections_are_applied() {
    let c = load(
        "<FilesMatch \"^\\.ht\">\n Require all denied\n</FilesMatch>\n<Location ~ \"/x\">\n SetHandler server-status\n</Location>",
    );
    assert_eq!(c.base_section.files.len(), 1);
    assert!(c.startup_warnings.is_empty(), "{:?}", c.startup_warnings);
    let root = &c.document_root;
    assert_eq!(
        c.access_for("/.htpasswd", &root.join(".htpasswd")).require,
        vec![Require::AllDenied]
    );
    assert!(
        c.access_for("/a.htpasswd", &root.join("a.htpasswd"))
            .require
            .is_empty(),
        "no Require in force: granted"
    );
    assert_eq!(c.handler_for("/a/xy").as_deref(), Some("server-status"));
    assert_eq!(c.handler_for("/a").as_deref(), None);
    assert_eq!(
        err("<DirectoryMatch \"(a)\\1\">\n</DirectoryMatch>"),
        "Regex could not be compiled"
    );
    assert_eq!(
        err("<Location /x>\n<Files y>\n</Files>\n</Location>"),
        "<Files> cannot occur within <Location> section"
    );
}

#[test]
fn config_mpm_directives_raw_atoi() {
    let c = load(
        "StartServers 5\nMinSpareServers 2x\nMaxSpareServers junk\nServerLimit -3\nMaxClients 150\nMaxRequestsPerChild 1000\nGracefulShutdownTimeout 7\nMaxMemFree 0",
    );
    let m = &c.mpm;
    assert_eq!(
        (
            m.start_servers,
            m.min_spare_servers,
            m.max_spare_servers,
            m.server_limit
        ),
        (Some(5), Some(2), Some(0), Some(-3))
    );
    assert_eq!(
        (m.max_request_workers, m.used_max_clients),
        (Some(150), true)
    );
    assert_eq!(
        (m.max_connections_per_child, m.used_max_requests_per_child),
        (Some(1000), true)
    );
    assert_eq!(
        (m.graceful_shutdown_timeout, m.max_mem_free),
        (Some(7), Some(0))
    );
    assert_eq!(load("").mpm, MpmDirectives::default());
    assert_eq!(
        err("MaxMemFree -1"),
        "MaxMemFree requires a non-negative integer"
    );

    let t = load_as(&MpmIdent::EVENT, "ThreadsPerChild 64\nThreadLimit 128\nMinSpareThreads 10\nMaxSpareThreads 20\nAsyncRequestWorkerFactor 1.5").unwrap();
    assert_eq!(
        (t.mpm.threads_per_child, t.mpm.thread_limit),
        (Some(64), Some(128))
    );
    assert_eq!(
        (t.mpm.min_spare_threads, t.mpm.max_spare_threads),
        (Some(10), Some(20))
    );
    assert_eq!(t.mpm.async_request_worker_factor.as_deref(), Some("1.5"));
    // Each MPM knows only its own directives, as in Apache.
    assert!(err("ThreadsPerChild 25").starts_with("Invalid command 'ThreadsPerChild'"));
    let w = load_as(&MpmIdent::WORKER, "AsyncRequestWorkerFactor 2").unwrap_err();
    assert!(
        w.message
            .starts_with("Invalid command 'AsyncRequestWorkerFactor'")
    );
    let w = load_as(&MpmIdent::WORKER, "MinSpareServers 2").unwrap_err();
    assert!(w.message.starts_with("Invalid command 'MinSpareServers'"));
}

#[test]
fn config_parse_timeout_units() {
    assert_eq!(parse_timeout("5"), Some(Duration::from_secs(5)));
    assert_eq!(parse_timeout("250ms"), Some(Duration::from_millis(250)));
    assert_eq!(parse_timeout("2mi"), Some(Duration::from_secs(120)));
    assert_eq!(parse_timeout("1h"), Some(Duration::from_secs(3600)));
    assert_eq!(parse_timeout("-1"), None);
    assert_eq!(parse_timeout("5x"), None);
}

#[test]
fn config_trailing_hash_is_not_a_comment() {
    assert!(err("ServerName x # web").starts_with("ServerName takes one argument"));
}

#[test]
fn config_set_handler_in_files_section_applies() {
    let c = load("<Files x>\nSetHandler server-status\n</Files>\nKeepAlive On");
    assert_eq!(c.handler_for("/x").as_deref(), Some("server-status"));
    assert_eq!(c.handler_for("/y").as_deref(), None);
    let c = load(
        "SetHandler server-status\nSetHandler none\n<Location /a>\nSetHandler server-status\n</Location>",
    );
    assert_eq!(
        c.handler_for("/b").as_deref(),
        None,
        "the last server-level SetHandler wins"
    );
    assert_eq!(
        c.handler_for("/a").as_deref(),
        Some("server-status"),
        "sections override the server level"
    );
}

#[test]
fn config_options_merge_over_sections_and_errors() {
    let c = load(
        "ServerRoot /srv\nOptions Indexes FollowSymLinks\n<Directory /srv/cgi>\nOptions -FollowSymLinks +ExecCGI\n</Directory>\n<Directory /srv/cgi/plain>\nOptions None\n</Directory>",
    );
    use httpd_core::config::options::{OPT_EXECCGI, OPT_INDEXES, OPT_SYM_LINKS};
    assert_eq!(
        c.options_for("/x", Path::new("/srv/htdocs/x")),
        OPT_INDEXES | OPT_SYM_LINKS
    );
    assert_eq!(
        c.options_for("/cgi-bin/a", Path::new("/srv/cgi/a")),
        OPT_INDEXES | OPT_EXECCGI
    );
    assert_eq!(c.options_for("/p", Path::new("/srv/cgi/plain/a")), 0);
    assert_eq!(
        err("Options +Indexes ExecCGI"),
        "Either all Options must start with + or -, or no Option may."
    );
    assert_eq!(
        err("LoadModule alias_module x.so\nAlias /a"),
        "Alias takes two arguments, a fakename and a realname, or a realname in a Location"
    );
    assert!(err("ScriptLog x").starts_with("Invalid command 'ScriptLog'"));
}

/// `Mutex` (util_mutex.c: ap_set_mutex) for the default mutex, with Apache 2.4.71's messages
/// for what it refuses (checked side by side with Debian's apache2 -S).
#[test]
fn config_mutex_default_and_refusals() {
    let c = load("Mutex file:/tmp default OmitPID\n");
    assert_eq!(c.mutex_default.mechanism, "fcntl");
    assert_eq!(c.mutex_default.dir.as_deref(), Some(Path::new("/tmp")));
    assert!(c.mutex_default.omit_pid);
    assert_eq!(load("Mutex sem\n").mutex_default.mechanism, "posixsem");
    assert!(err("Mutex none\n").contains("None is not allowed for mutex type default"));
    assert!(err("Mutex bogus\n").contains("Invalid Mutex argument bogus (Mutex mechanisms are:"));
    assert!(err("Mutex fcntl:/no/such/dir\n").contains("Invalid Mutex directory in argument"));
    assert!(err("Mutex fcntl mpm-accept\n").contains("Mutex type mpm-accept is not valid"));
}
