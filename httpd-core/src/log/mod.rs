//! Logs: Apache's error log (`server/log.c`) and access log (`modules/loggers/mod_log_config.c`).
//!
//! Both are written the way Apache writes them from a forking server:
//!
//! 1. The parent opens every log file once, `O_APPEND`, before it forks; children inherit the fds.
//! 2. A line is formatted completely in memory and handed to the kernel with **one** `write(2)`.
//!    `O_APPEND` makes each write land at the current end of file, so lines from different
//!    processes and threads never interleave (for lines under `PIPE_BUF`-ish sizes, as Apache).
//! 3. No lock is ever taken while logging: a child forked while another thread held a lock would
//!    deadlock on its first log line. (The parent is single-threaded when it forks, like Apache's.)
//!
//! | item | Apache |
//! |---|---|
//! | [`ErrorLog`], [`ap_log!`](crate::ap_log) | `log.c: ap_log_error`, `do_errorlog_default` |
//! | [`Level`] | `http_log.h: APLOG_EMERG … APLOG_TRACE8`, `log.c: priorities[]` |
//! | [`AccessLog`], [`AccessEntry`] | `mod_log_config.c: config_log_transaction` |
//! | [`local_tz`] | `apr_time_exp_lt` → `localtime_r`: the zone `tzset` picks |
//! | [`startup_warning`] | `APLOG_STARTUP`: first-pass messages on the console, no prefix |
//! | [`flush_buffered_logs`] | `mod_log_config.c: ap_buffered_log_writer`, `flush_all_logs` (`BufferedLogs On`) |
//! | [`errorlog_format`] | `core.c: parse_errorlog_string`, `log.c: do_errorlog_format` (`ErrorLogFormat`) |
//! | [`piped`] | `log.c: ap_open_piped_log`, `piped_log_spawn`, `piped_log_maintenance`, `log_child` |
//! | [`open_piped_logs`] | `mod_log_config.c: open_multi_logs` (the piped part), run by the parent |

mod access_log;
mod buffered;
mod error_log;
pub mod errorlog_format;
mod localtime;
pub mod piped;

pub use access_log::{
    AccessEntry, AccessLog, COMBINED_FORMAT, COMMON_FORMAT, ConnFacts, LogFormatError,
    compile_format,
};
pub use buffered::{
    LOG_BUFSIZE, flush_all as flush_buffered_logs,
    flush_all_from_signal as flush_buffered_logs_from_signal,
};
pub use error_log::ErrorLog;
pub use localtime::local_tz;

use std::fmt;

/// Apache's log levels, most severe first (`APLOG_EMERG` = 0 … `APLOG_TRACE8` = 15).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    Emerg,
    Alert,
    Crit,
    Error,
    Warn,
    Notice,
    Info,
    Debug,
    Trace1,
    Trace2,
    Trace3,
    Trace4,
    Trace5,
    Trace6,
    Trace7,
    Trace8,
}

impl Level {
    /// Every level in order, most severe first.
    pub const ALL: [Level; 16] = [
        Level::Emerg,
        Level::Alert,
        Level::Crit,
        Level::Error,
        Level::Warn,
        Level::Notice,
        Level::Info,
        Level::Debug,
        Level::Trace1,
        Level::Trace2,
        Level::Trace3,
        Level::Trace4,
        Level::Trace5,
        Level::Trace6,
        Level::Trace7,
        Level::Trace8,
    ];

    /// The keyword used in `LogLevel` and in the `[module:level]` field.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Emerg => "emerg",
            Level::Alert => "alert",
            Level::Crit => "crit",
            Level::Error => "error",
            Level::Warn => "warn",
            Level::Notice => "notice",
            Level::Info => "info",
            Level::Debug => "debug",
            Level::Trace1 => "trace1",
            Level::Trace2 => "trace2",
            Level::Trace3 => "trace3",
            Level::Trace4 => "trace4",
            Level::Trace5 => "trace5",
            Level::Trace6 => "trace6",
            Level::Trace7 => "trace7",
            Level::Trace8 => "trace8",
        }
    }

    /// `ap_parse_log_level`: case-insensitive keyword, Apache's error text otherwise.
    pub fn parse(s: &str) -> Result<Level, String> {
        Level::ALL
            .iter()
            .copied()
            .find(|l| l.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| {
                "Log level keyword must be one of emerg/alert/crit/error/warn/notice/info/debug/trace1/.../trace8"
                    .to_string()
            })
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Start every piped logger the configuration names (main server and virtual hosts, access and
/// error logs) in the control process, before any child exists (`piped` step 1). The error is
/// in Apache's words (AH00104 for an access log, AH00089 for an error log), errno first.
pub fn open_piped_logs(cfg: &crate::config::ServerConfig) -> std::io::Result<()> {
    use crate::config::ErrorLogTarget;
    piped::claim_parent();
    let access = cfg
        .custom_logs
        .iter()
        .chain(cfg.vhosts.iter().flat_map(|v| v.custom_logs.iter()))
        .filter_map(|l| l.path.to_str().filter(|p| p.starts_with('|')));
    for target in access {
        piped::open(target, true, &cfg.server_root).map_err(|e| piped_error(&e, target, true))?;
    }
    let errors = std::iter::once(&cfg.error_log)
        .chain(cfg.vhosts.iter().filter_map(|v| v.error_log.as_ref()))
        .filter_map(|t| match t {
            ErrorLogTarget::Piped(t) => Some(t.as_str()),
            _ => None,
        });
    for target in errors {
        piped::open(target, false, &cfg.server_root).map_err(|e| piped_error(&e, target, false))?;
    }
    Ok(())
}

/// `(2)No such file or directory: AH00104: unable to start piped log program 'x'`.
pub(crate) fn piped_error(e: &std::io::Error, target: &str, access: bool) -> std::io::Error {
    let head = format!(
        "({}){}",
        e.raw_os_error().unwrap_or(0),
        crate::config::parse::io_text(e)
    );
    let msg = if access {
        let program = piped::Command::parse(target)
            .map(|c| c.program)
            .unwrap_or_default();
        format!("{head}: AH00104: unable to start piped log program '{program}'")
    } else {
        format!(
            "{head}: AH00089: Couldn't start ErrorLog process '{}'.",
            target.get(1..).unwrap_or_default()
        )
    };
    std::io::Error::new(e.kind(), msg)
}

/// A first-pass (APLOG_STARTUP) message: printed to stderr as is, without the bracketed prefix,
/// like Apache's "AH00180: WARNING: MaxRequestWorkers of 300 exceeds ServerLimit …".
pub fn startup_warning(msg: &str) {
    error_log::write_all_fd(std::io::stderr(), format!("{msg}\n").as_bytes());
}

/// Log through an [`ErrorLog`] with `format!` arguments, skipping the formatting when the level is off.
///
/// ```ignore
/// httpd_core::ap_log!(log, "mpm_prefork", Info, "AH00162: server seems busy, … spawning {} children", n);
/// ```
#[macro_export]
macro_rules! ap_log {
    ($log:expr, $module:expr, $level:ident, $($arg:tt)+) => {{
        let log: &$crate::log::ErrorLog = &$log;
        if log.enabled($module, $crate::log::Level::$level) {
            log.log($module, $crate::log::Level::$level, format_args!($($arg)+));
        }
    }};
}

#[cfg(test)]
mod tests {
    use super::Level;

    #[test]
    fn config_level_parse_is_case_insensitive_with_apache_error() {
        assert_eq!(Level::parse("INFO"), Ok(Level::Info));
        assert_eq!(Level::parse("trace8"), Ok(Level::Trace8));
        assert!(
            Level::parse("verbose")
                .unwrap_err()
                .starts_with("Log level keyword must be one of")
        );
        assert!(Level::Warn < Level::Info, "more severe levels sort first");
    }
}
