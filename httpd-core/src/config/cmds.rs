//! The directive parsers of the table in [`super::directives`], one function per directive,
//! named after Apache's handler (`core.c: set_timeout`, `listen.c: ap_set_listener` →
//! [`set_listener`], `prefork.c: set_daemons_to_start`, …). Each gets the words [`check_args`]
//! split and returns Apache's message on error.
//!
//! MPM directives are stored raw with [`atoi`] semantics (garbage → 0) as Apache's MPMs parse
//! them; core limits must be non-negative, with Apache's texts.
//!
//! [`check_args`]: super::directives::check_args

use std::net::{IpAddr, Ipv4Addr, SocketAddr, ToSocketAddrs};
use std::time::Duration;

use super::mpm::atoi;
use super::server::{ErrorLogTarget, ListenSpec, server_root_relative};
use super::walk::Walker;
use crate::log::compile_format;

type R = Result<(), String>;

/// `<Directory>` and friends: the walker walks sections itself, so this is never called.
pub fn section(_: &mut Walker<'_>, _: &[String]) -> R {
    Ok(())
}

/// `EXEC_ON_READ` rows: the first pass runs them, so this is never called.
pub fn run_at_read_time(_: &mut Walker<'_>, _: &[String]) -> R {
    Ok(())
}

/// `listen.c: ap_set_listenbacklog`.
pub fn set_listen_backlog(w: &mut Walker<'_>, a: &[String]) -> R {
    let b = atoi(&a[0]);
    if b < 1 {
        return Err("ListenBacklog must be > 0".into());
    }
    w.cfg.listen_backlog = i32::try_from(b).unwrap_or(i32::MAX);
    Ok(())
}

/// `core.c: set_accf_map`: `AcceptFilter protocol filter`. On Linux every filter but `none`
/// means TCP_DEFER_ACCEPT (`listen.c: ap_apply_accept_filter`). We serve `http` only; a line for
/// another protocol (`https`) is accepted and has nothing to apply to.
pub fn set_accept_filter(w: &mut Walker<'_>, a: &[String]) -> R {
    if a[0].eq_ignore_ascii_case("http") {
        w.cfg.accept_filter_http = !a[1].eq_ignore_ascii_case("none");
    }
    Ok(())
}

/// `listen.c: ap_set_listencbratio`, then the count `ap_duplicate_listeners` makes of it:
/// `online cores / ratio` listener buckets. mpm-lab serves a single bucket (no duplicated
/// `SO_REUSEPORT` sockets, one pipe of death), so a ratio that would make more is refused here
/// rather than accepted and ignored; one that makes exactly one behaves as Apache's does.
pub fn set_listen_cbratio(w: &mut Walker<'_>, a: &[String]) -> R {
    let b = atoi(&a[0]);
    if b < 1 {
        return Err("ListenCoresBucketsRatio must be > 0".into());
    }
    let cores = crate::listen::online_cores();
    if cores / b > 1 {
        return Err(format!(
            "ListenCoresBucketsRatio {b} would make {} listeners buckets from this machine's \
             {cores} online CPU cores, and mpm-lab has a single listeners bucket: use a ratio \
             of {cores} or more, or leave the directive out (one bucket, as Apache's default)",
            cores / b
        ));
    }
    w.cfg.mpm.listen_cores_buckets_ratio = Some(b);
    Ok(())
}

pub fn set_server_name(w: &mut Walker<'_>, a: &[String]) -> R {
    w.cfg.server_name = Some(a[0].clone());
    Ok(())
}

pub fn set_server_admin(w: &mut Walker<'_>, a: &[String]) -> R {
    w.cfg.server_admin = Some(a[0].clone());
    Ok(())
}

/// `core.c: set_document_root`: a missing directory is only a warning (AH00112; Apache refuses
/// it in the main server, see DEVIATIONS.md), and `-T` skips the check, as Apache's
/// `ap_document_root_check`.
pub fn set_document_root(w: &mut Walker<'_>, a: &[String]) -> R {
    let p = w.root_relative(&a[0]);
    if !w.skip_document_root_check && !p.is_dir() {
        w.cfg.startup_warnings.push(format!(
            "AH00112: Warning: DocumentRoot [{}] does not exist",
            p.display()
        ));
    }
    w.cfg.document_root = p;
    Ok(())
}

/// `mod_dir.c: add_index`: the first DirectoryIndex of a scope replaces the inherited list,
/// later ones add; `disabled` alone empties it (with other names it is a file name). At server
/// level the list is the server's; in a virtual host, section or `.htaccess` it is that
/// section's, merged per directory (the inner list wins).
pub fn set_directory_index(w: &mut Walker<'_>, a: &[String]) -> R {
    let list = if w.cmd_path().is_none() && w.vhost.is_none() {
        if !w.directory_index_set {
            w.cfg.directory_index.clear();
            w.directory_index_set = true;
        }
        &mut w.cfg.directory_index
    } else {
        w.section_mut().directory_index.get_or_insert_with(Vec::new)
    };
    if let [only] = a
        && only.eq_ignore_ascii_case("disabled")
    {
        list.clear();
    } else {
        list.extend(a.iter().cloned());
    }
    Ok(())
}

/// `mpm_common.c: ap_mpm_set_pidfile`; resolved in `Walker::finish` (DefaultRuntimeDir may follow).
pub fn set_pidfile(w: &mut Walker<'_>, a: &[String]) -> R {
    w.pid_file = Some(a[0].clone());
    Ok(())
}

/// `core.c: set_runtime_dir`.
pub fn set_runtime_dir(w: &mut Walker<'_>, a: &[String]) -> R {
    let p = w.root_relative(&a[0]);
    if !p.is_dir() {
        return Err(
            "DefaultRuntimeDir must be a valid directory, absolute or relative to ServerRoot"
                .into(),
        );
    }
    w.cfg.runtime_dir = p;
    w.runtime_dir_set = true;
    Ok(())
}

/// `mod_unixd.c: unixd_set_user` resolves the name while the file is read (`ap_uname2id`), so
/// an unknown user fails `-t` too, whether or not the server would run as root.
pub fn set_user(w: &mut Walker<'_>, a: &[String]) -> R {
    if !a[0].starts_with('#') && !matches!(nix::unistd::User::from_name(&a[0]), Ok(Some(_))) {
        return Err(format!("AH00543: bad user name {}", a[0]));
    }
    w.cfg.user = a[0].clone();
    Ok(())
}

/// `unixd_set_group` → `ap_gname2id`: AH00544 for an unknown group, as for User.
pub fn set_group(w: &mut Walker<'_>, a: &[String]) -> R {
    if !a[0].starts_with('#') && !matches!(nix::unistd::Group::from_name(&a[0]), Ok(Some(_))) {
        return Err(format!("AH00544: bad group name {}", a[0]));
    }
    w.cfg.group = a[0].clone();
    Ok(())
}

/// `mod_mime.c: set_types_config`. The file is read at start (`Started::open_logs`): a
/// missing one passes `-t` and stops the start with AH01597, as in Apache.
pub fn set_types_config(w: &mut Walker<'_>, a: &[String]) -> R {
    w.cfg.types_config = Some(w.root_relative(&a[0]));
    Ok(())
}

/// `util_mutex.c: ap_set_mutex` for the one mutex type mpm-lab registers, `default`: its
/// mechanism, directory and OmitPID, which `-S` prints. Apache's other types (`mpm-accept` of
/// prefork and worker, `watchdog-callback`) belong to mutexes mpm-lab does not have, so they
/// are refused as Apache refuses a type no loaded module registered.
pub fn set_mutex(w: &mut Walker<'_>, a: &[String]) -> R {
    let words = crate::config::parse::words(&a[0]);
    let Some((mechdir, rest)) = words.split_first() else {
        return Err(format!(
            "Mutex requires at least a mechanism argument ({MUTEX_MECHS})"
        ));
    };
    let (mech, file) = match mechdir.split_once(':') {
        Some((m, f)) => (m, Some(f).filter(|f| !f.is_empty())),
        None => (mechdir.as_str(), None),
    };
    let mech = match mech.to_ascii_lowercase().as_str() {
        "none" | "no" => None,
        "default" | "yes" => Some("default"),
        // Linux has every APR mechanism; `file` is fcntl (tried before flock), `sem` posixsem.
        "fcntl" | "file" => Some("fcntl"),
        "flock" => Some("flock"),
        "posixsem" | "sem" => Some("posixsem"),
        "sysvsem" => Some("sysvsem"),
        "pthread" => Some("pthread"),
        _ => return Err(format!("Invalid Mutex argument {mechdir} ({MUTEX_MECHS})")),
    };
    let dir = match file {
        Some(f) => {
            let d = server_root_relative(&w.cfg.runtime_dir, f);
            if !d.is_dir() {
                return Err(format!("Invalid Mutex directory in argument {mechdir}"));
            }
            Some(d)
        }
        None => None,
    };
    let omit_pid = rest.iter().any(|t| t.eq_ignore_ascii_case("omitpid"));
    let types: Vec<&String> = rest
        .iter()
        .filter(|t| !t.eq_ignore_ascii_case("omitpid"))
        .collect();
    for t in &types {
        if *t != "default" {
            return Err(format!(
                "Mutex type {t} is not valid (mpm-lab has no such mutex: its MPMs accept without an accept mutex)"
            ));
        }
    }
    let Some(mech) = mech else {
        return Err("None is not allowed for mutex type default".into());
    };
    let m = &mut w.cfg.mutex_default;
    m.mechanism = mech;
    m.omit_pid = omit_pid;
    if dir.is_some() {
        m.dir = dir;
    }
    Ok(())
}

/// `AP_ALL_AVAILABLE_MUTEXES_STRING` on Linux.
const MUTEX_MECHS: &str = "Mutex mechanisms are: 'none', 'default', 'flock:/path/to/file', 'fcntl:/path/to/file', 'file:/path/to/file', 'pthread', 'sysvsem', 'posixsem', 'sem'";

/// `ErrorLog`: a file (ServerRoot-relative), `/dev/stderr` or a piped logger (`|program`);
/// syslog is refused.
pub fn set_error_log(w: &mut Walker<'_>, a: &[String]) -> R {
    let v = &a[0];
    if v.to_ascii_lowercase().starts_with("syslog") {
        return Err(format!(
            "ErrorLog {v}: mpm-lab writes the error log to a file, /dev/stderr or a piped logger only (syslog is not supported)"
        ));
    }
    w.cfg.error_log = if v.starts_with('|') {
        ErrorLogTarget::Piped(v.clone())
    } else if v == "/dev/stderr" {
        ErrorLogTarget::Stderr
    } else {
        ErrorLogTarget::File(w.root_relative(v))
    };
    Ok(())
}

/// `core.c: set_loglevel`, once per word.
pub fn set_loglevel(w: &mut Walker<'_>, a: &[String]) -> R {
    a.iter().try_for_each(|arg| w.log_level(arg))
}

/// `mod_log_config.c: log_format`: with a nickname it defines it, without it sets the default
/// format of TransferLog.
pub fn log_format(w: &mut Walker<'_>, a: &[String]) -> R {
    let format = w.format_or_nickname(&a[0]);
    compile_format(&format).map_err(|e| e.to_string())?;
    match a.get(1) {
        Some(nick) => w.log_formats.push((nick.clone(), format)),
        None => w.default_format = format,
    }
    Ok(())
}

/// `mod_log_config.c: add_custom_log`; the nickname is resolved in `Walker::finish`, so a
/// LogFormat defined later still counts (as in Apache, which resolves at open time).
pub fn add_custom_log(w: &mut Walker<'_>, a: &[String]) -> R {
    if let Some(cond) = a.get(2) {
        if !(cond.starts_with("env=") || cond.starts_with("expr=")) {
            return Err("error in condition clause".into());
        }
        w.cfg.startup_warnings.push(format!(
            "mpm-lab: CustomLog condition '{cond}' is ignored: every request is logged"
        ));
    }
    w.pending_logs.push((log_target(w, &a[0]), a[1].clone()));
    Ok(())
}

/// `core.c: set_errorlog_format` (the main format, or a `connection`/`request` line).
pub fn set_errorlog_format(w: &mut Walker<'_>, a: &[String]) -> R {
    // %T prints the thread only where the MPM has threads (AP_MPMQ_IS_THREADED).
    w.cfg.error_log_format.threaded = w.mpm.name != "prefork";
    w.cfg.error_log_format.set(a)
}

/// `mod_log_config.c: set_buffered_logs_on`.
pub fn set_buffered_logs(w: &mut Walker<'_>, a: &[String]) -> R {
    w.cfg.buffered_logs = a[0].eq_ignore_ascii_case("on");
    Ok(())
}

/// `mod_log_config.c: set_transfer_log`: a CustomLog with the default format.
pub fn set_transfer_log(w: &mut Walker<'_>, a: &[String]) -> R {
    w.pending_logs.push((log_target(w, &a[0]), String::new()));
    Ok(())
}

/// A transfer log's file, ServerRoot-relative, or a piped log kept as written (`|program`).
fn log_target(w: &Walker<'_>, target: &str) -> std::path::PathBuf {
    if target.starts_with('|') {
        target.into()
    } else {
        w.root_relative(target)
    }
}

/// `mod_reqtimeout.c: set_reqtimeouts` (RAW_ARGS: `key=value` words).
pub fn set_reqtimeouts(w: &mut Walker<'_>, a: &[String]) -> R {
    w.cfg
        .request_read_timeout_setting
        .apply(a.first().map_or("", String::as_str))
}

/// `core.c: set_timeout` (atoi seconds).
pub fn set_timeout(w: &mut Walker<'_>, a: &[String]) -> R {
    w.cfg.timeout = Duration::from_secs(u64::try_from(atoi(&a[0])).unwrap_or(0));
    Ok(())
}

pub fn set_keep_alive(w: &mut Walker<'_>, a: &[String]) -> R {
    w.cfg.keep_alive = a[0].eq_ignore_ascii_case("on");
    Ok(())
}

/// `http_core.c: set_keep_alive_timeout` (`ap_timeout_parameter_parse`, default unit s).
pub fn set_keep_alive_timeout(w: &mut Walker<'_>, a: &[String]) -> R {
    w.cfg.keep_alive_timeout = parse_timeout(&a[0]).ok_or("KeepAliveTimeout has wrong format")?;
    Ok(())
}

/// `http_core.c: set_keep_alive_max`: atoi; anything <= 0 means "no limit" where Apache uses it.
pub fn set_keep_alive_max(w: &mut Walker<'_>, a: &[String]) -> R {
    w.cfg.max_keep_alive_requests = u32::try_from(atoi(&a[0]).max(0)).unwrap_or(u32::MAX);
    Ok(())
}

pub fn set_limit_req_line(w: &mut Walker<'_>, a: &[String]) -> R {
    w.cfg.limit_request_line = non_negative(&a[0], "LimitRequestLine", "")?;
    Ok(())
}

/// Apache's message spells it "LimitRequestFieldsize".
pub fn set_limit_req_fieldsize(w: &mut Walker<'_>, a: &[String]) -> R {
    w.cfg.limit_request_field_size = non_negative(&a[0], "LimitRequestFieldsize", "")?;
    Ok(())
}

pub fn set_limit_req_fields(w: &mut Walker<'_>, a: &[String]) -> R {
    w.cfg.limit_request_fields = non_negative(&a[0], "LimitRequestFields", " (0 = no limit)")?;
    Ok(())
}

pub fn set_limit_req_body(w: &mut Walker<'_>, a: &[String]) -> R {
    w.cfg.limit_request_body = parse_body_limit(&a[0])?;
    Ok(())
}

/// `core.c: set_http_protocol_options`: only the defaults are implemented.
pub fn set_http_protocol_options(_: &mut Walker<'_>, a: &[String]) -> R {
    for opt in a {
        match opt.to_ascii_lowercase().as_str() {
            "strict" | "lenientmethods" | "allow0.9" => {}
            "unsafe" | "registeredmethods" | "require1.0" => {
                return Err(format!(
                    "HttpProtocolOptions {opt}: mpm-lab implements only the defaults Strict LenientMethods Allow0.9"
                ));
            }
            _ => {
                return Err("HttpProtocolOptions accepts 'Unsafe' or 'Strict' (default), 'RegisteredMethods' or 'LenientMethods' (default), and 'Require1.0' or 'Allow0.9' (default)".into());
            }
        }
    }
    Ok(())
}

pub fn set_trace_enable(w: &mut Walker<'_>, a: &[String]) -> R {
    match a[0].to_ascii_lowercase().as_str() {
        "on" => w.cfg.trace_enable = true,
        "off" => w.cfg.trace_enable = false,
        "extended" => {
            w.cfg.trace_enable = true;
            w.cfg.startup_warnings.push(
                "mpm-lab: TraceEnable extended behaves as On (TRACE bodies are refused)".into(),
            );
        }
        _ => return Err("TraceEnable must be one of 'on', 'off', or 'extended'".into()),
    }
    Ok(())
}

/// Only `Off`: the access log shows addresses, never names.
pub fn set_hostname_lookups(_: &mut Walker<'_>, a: &[String]) -> R {
    match a[0].to_ascii_lowercase().as_str() {
        "off" => Ok(()),
        "on" | "double" => Err(format!(
            "HostnameLookups {}: mpm-lab does no reverse DNS lookups; use Off",
            a[0]
        )),
        _ => Err("parameter must be 'on', 'off', or 'double'".into()),
    }
}

/// `core.c: set_serv_tokens`; anything unrecognised means Full.
pub fn set_serv_tokens(w: &mut Walker<'_>, a: &[String]) -> R {
    w.cfg.server_tokens = match a[0].to_ascii_lowercase().as_str() {
        "os" => "OS",
        "min" | "minimal" => "Minimal",
        "major" => "Major",
        "minor" => "Minor",
        "prod" | "productonly" => "Prod",
        _ => "Full",
    }
    .to_string();
    Ok(())
}

pub fn set_signature_flag(w: &mut Walker<'_>, a: &[String]) -> R {
    w.cfg.server_signature = match a[0].to_ascii_lowercase().as_str() {
        "on" => "On",
        "off" => "Off",
        "email" => "EMail",
        _ => return Err("ServerSignature: use one of: off | on | email".into()),
    }
    .to_string();
    Ok(())
}

pub fn set_add_default_charset(w: &mut Walker<'_>, a: &[String]) -> R {
    w.cfg.add_default_charset = match a[0].to_ascii_lowercase().as_str() {
        "off" => None,
        "on" => Some("iso-8859-1".into()),
        _ => Some(a[0].clone()),
    };
    Ok(())
}

pub fn set_extended_status(w: &mut Walker<'_>, a: &[String]) -> R {
    w.cfg.extended_status = a[0].eq_ignore_ascii_case("on");
    Ok(())
}

/// `core.c: set_sethandler`: in a section it is the section's handler; at top level it applies
/// to every URL (the walker turns it into a `<Location />` before every section).
pub fn set_sethandler(w: &mut Walker<'_>, a: &[String]) -> R {
    w.section_mut().handler = Some(a[0].clone());
    Ok(())
}

/// `core.c: set_options` ([`super::options`]); several lines in one section accumulate.
pub fn set_options(w: &mut Walker<'_>, a: &[String]) -> R {
    let s = w.section_mut();
    s.options = Some(s.options.unwrap_or_default().parse(a)?);
    Ok(())
}

/// `mod_alias.c: add_alias`, `add_alias_regex`, and the ScriptAlias variants.
pub fn add_alias(w: &mut Walker<'_>, a: &[String]) -> R {
    w.cfg.alias.add_alias(a, false, false)
}
pub fn add_alias_regex(w: &mut Walker<'_>, a: &[String]) -> R {
    w.cfg.alias.add_alias(a, true, false)
}
pub fn add_script_alias(w: &mut Walker<'_>, a: &[String]) -> R {
    w.cfg.alias.add_alias(a, false, true)
}
pub fn add_script_alias_regex(w: &mut Walker<'_>, a: &[String]) -> R {
    w.cfg.alias.add_alias(a, true, true)
}
/// `mod_alias.c: add_redirect`, `add_redirect_regex`, `add_redirect2` (Temp/Permanent).
pub fn add_redirect(w: &mut Walker<'_>, a: &[String]) -> R {
    redirect_to(w, a, false, None)
}
pub fn add_redirect_regex(w: &mut Walker<'_>, a: &[String]) -> R {
    redirect_to(w, a, true, None)
}
pub fn add_redirect_temp(w: &mut Walker<'_>, a: &[String]) -> R {
    redirect_to(w, a, false, Some(302))
}
pub fn add_redirect_permanent(w: &mut Walker<'_>, a: &[String]) -> R {
    redirect_to(w, a, false, Some(301))
}

/// `add_redirect_internal`'s last step: with a `cmd->path` (section, `.htaccess`) the entry
/// goes to the per-directory list tried in the fixup phase, else to the server's.
fn redirect_to(w: &mut Walker<'_>, a: &[String], regex: bool, forced: Option<u16>) -> R {
    if w.cmd_path().is_none() {
        return w.cfg.alias.add_redirect(a, regex, forced);
    }
    let entry = crate::modules::alias::parse_redirect(a, regex, forced, true)?;
    w.section_mut().redirects.push(entry);
    Ok(())
}

/// `mod_cgi.c: set_scriptlog` and friends.
pub fn set_scriptlog(w: &mut Walker<'_>, a: &[String]) -> R {
    w.cfg.cgi.script_log = Some(w.root_relative(&a[0]));
    Ok(())
}
pub fn set_scriptlog_length(w: &mut Walker<'_>, a: &[String]) -> R {
    w.cfg.cgi.script_log_length = a[0]
        .parse()
        .map_err(|_| "ScriptLogLength must be a number".to_string())?;
    Ok(())
}
pub fn set_scriptlog_buffer(w: &mut Walker<'_>, a: &[String]) -> R {
    w.cfg.cgi.script_log_buffer = a[0]
        .parse()
        .map_err(|_| "ScriptLogBuffer must be a number".to_string())?;
    Ok(())
}
/// `mod_cgid.c: set_script_socket`, `set_script_timeout`.
pub fn set_script_socket(w: &mut Walker<'_>, a: &[String]) -> R {
    w.cfg.cgi.script_sock = Some(a[0].clone());
    Ok(())
}
pub fn set_script_timeout(w: &mut Walker<'_>, a: &[String]) -> R {
    let secs: u64 = a[0]
        .parse()
        .map_err(|_| "CGIDScriptTimeout: invalid time".to_string())?;
    w.cfg.cgi.cgid_timeout = Duration::from_secs(secs);
    Ok(())
}

// ---- MPM directives: raw atoi (prefork.c, worker.c, event.c, mpm_common.c) ----

pub fn set_daemons_to_start(w: &mut Walker<'_>, a: &[String]) -> R {
    w.cfg.mpm.start_servers = Some(atoi(&a[0]));
    Ok(())
}
pub fn set_min_free_servers(w: &mut Walker<'_>, a: &[String]) -> R {
    w.cfg.mpm.min_spare_servers = Some(atoi(&a[0]));
    Ok(())
}
pub fn set_max_free_servers(w: &mut Walker<'_>, a: &[String]) -> R {
    w.cfg.mpm.max_spare_servers = Some(atoi(&a[0]));
    Ok(())
}
pub fn set_min_spare_threads(w: &mut Walker<'_>, a: &[String]) -> R {
    w.cfg.mpm.min_spare_threads = Some(atoi(&a[0]));
    Ok(())
}
pub fn set_max_spare_threads(w: &mut Walker<'_>, a: &[String]) -> R {
    w.cfg.mpm.max_spare_threads = Some(atoi(&a[0]));
    Ok(())
}
pub fn set_threads_per_child(w: &mut Walker<'_>, a: &[String]) -> R {
    w.cfg.mpm.threads_per_child = Some(atoi(&a[0]));
    Ok(())
}
pub fn set_thread_limit(w: &mut Walker<'_>, a: &[String]) -> R {
    w.cfg.mpm.thread_limit = Some(atoi(&a[0]));
    Ok(())
}
pub fn set_server_limit(w: &mut Walker<'_>, a: &[String]) -> R {
    w.cfg.mpm.server_limit = Some(atoi(&a[0]));
    Ok(())
}
pub fn set_max_workers(w: &mut Walker<'_>, a: &[String]) -> R {
    w.cfg.mpm.max_request_workers = Some(atoi(&a[0]));
    Ok(())
}
/// The MPM logs "MaxClients is deprecated, use MaxRequestWorkers instead." (AH00188/AH00324/AH00521).
pub fn set_max_clients(w: &mut Walker<'_>, a: &[String]) -> R {
    w.cfg.mpm.used_max_clients = true;
    set_max_workers(w, a)
}
pub fn set_max_connections(w: &mut Walker<'_>, a: &[String]) -> R {
    w.cfg.mpm.max_connections_per_child = Some(atoi(&a[0]));
    Ok(())
}
/// The MPM logs AH00545 "MaxRequestsPerChild is deprecated, use MaxConnectionsPerChild instead.".
pub fn set_max_requests(w: &mut Walker<'_>, a: &[String]) -> R {
    w.cfg.mpm.used_max_requests_per_child = true;
    set_max_connections(w, a)
}
/// Raw text: event parses it with strtod and its own messages (`event.c: set_worker_factor`).
pub fn set_worker_factor(w: &mut Walker<'_>, a: &[String]) -> R {
    w.cfg.mpm.async_request_worker_factor = Some(a[0].clone());
    Ok(())
}
pub fn set_graceful_shutdown(w: &mut Walker<'_>, a: &[String]) -> R {
    w.cfg.mpm.graceful_shutdown_timeout = Some(atoi(&a[0]));
    Ok(())
}
/// `mpm_common.c: ap_mpm_set_max_mem_free`.
pub fn set_max_mem_free(w: &mut Walker<'_>, a: &[String]) -> R {
    let v = atoi(&a[0]);
    if v < 0 {
        return Err("MaxMemFree requires a non-negative integer".into());
    }
    w.cfg.mpm.max_mem_free = Some(v);
    Ok(())
}

// ---- helpers ----

/// `Listen [addr:]port [protocol]` (`listen.c: ap_set_listener`). Port 0 is accepted (our
/// addition: the kernel picks a free port, tests read it from the log).
pub fn set_listener(w: &mut Walker<'_>, a: &[String]) -> Result<(), String> {
    if a.is_empty() || a.len() > 2 {
        return Err("Listen requires 1 or 2 arguments.".into());
    }
    if let Some(proto) = a.get(1)
        && !proto.eq_ignore_ascii_case("http")
    {
        return Err(format!(
            "Listen {} {proto}: mpm-lab speaks plain HTTP only",
            a[0]
        ));
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
        (
            Some(h),
            p.strip_prefix(':').ok_or("Port must be specified")?,
        )
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
            Err(_) => (h, port)
                .to_socket_addrs()
                .ok()
                .and_then(|mut it| it.next())
                .map(|sa| sa.ip())
                .ok_or_else(invalid)?,
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
        return Err(format!(
            "{name} \"{arg}\" must be a non-negative integer{suffix}"
        ));
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
        rest[..digits]
            .parse()
            .map_err(|_| "LimitRequestBody argument is not parsable.".to_string())?
    };
    if digits < rest.len() || neg && value > 0 {
        return Err("LimitRequestBody requires a non-negative integer.".into());
    }
    Ok(u64::try_from(value).unwrap_or(0))
}
