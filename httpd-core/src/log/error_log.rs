//! The error log (`server/log.c: do_errorlog_default`, rule 58).
//!
//! Line format: `[Sun Nov 22 16:02:18.879007 2026] [mpm_prefork:info] [pid 6615:tid 6615] msg`
//! (local time, microseconds, kernel thread id), `[client IP:port] ` before the message when the
//! line is about a connection. Notice-level lines are written whatever `LogLevel` says: Apache's
//! `log.c` treats `APLOG_NOTICE` as "always" so that start/stop messages are never lost.

use std::fmt;
use std::fs::OpenOptions;
use std::io;
use std::net::SocketAddr;
use std::os::fd::{AsFd, AsRawFd, OwnedFd, RawFd};
use std::os::unix::fs::OpenOptionsExt;
use std::sync::Arc;

use super::Level;
use super::errorlog_format::{self, ErrorLogFormat, LineInfo, RequestFacts};
use crate::config::{ErrorLogTarget, LogLevelConfig, ServerConfig};

/// A cheap-to-clone handle on the error log. Fork-safe: no locks, each line is one `write(2)` on
/// an `O_APPEND` descriptor that children inherit.
#[derive(Clone)]
pub struct ErrorLog {
    inner: Arc<Inner>,
}

struct Inner {
    /// `None` = stderr (fd 2, never closed by us).
    file: Option<OwnedFd>,
    levels: LogLevelConfig,
    /// Resolved once: jiff reads the zone database at first use, not on every line.
    tz: jiff::tz::TimeZone,
    /// The start-up log: the message alone, no bracketed prefix (`APLOG_STARTUP`, and what
    /// Apache prints on the terminal before the error log is open).
    bare: bool,
    /// `ErrorLogFormat`, when set; `None` writes the default line.
    format: Option<Arc<ErrorLogFormat>>,
    /// `%v` outside a request: this server's ServerName.
    server_hostname: String,
}

impl fmt::Debug for ErrorLog {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ErrorLog")
            .field("fd", &self.fd())
            .field("levels", &self.inner.levels)
            .finish()
    }
}

impl ErrorLog {
    /// [`open`](Self::open) for the main server: also where the piped-log manager writes
    /// AH00106 (Apache's `stderr_log`).
    pub fn open_main(cfg: &ServerConfig) -> io::Result<ErrorLog> {
        let log = ErrorLog::open(cfg)?;
        super::piped::set_notice_log(log.inner.file.as_ref().and_then(|f| f.try_clone().ok()));
        Ok(log)
    }

    /// Open the configured error log (`O_WRONLY|O_APPEND|O_CREAT|O_CLOEXEC`, mode 0644; close-on-exec
    /// only matters for exec, forked children keep it). The parent calls this before forking.
    pub fn open(cfg: &ServerConfig) -> io::Result<ErrorLog> {
        let file = match &cfg.error_log {
            ErrorLogTarget::Stderr => None,
            // Spawned by the parent (or inherited by a child): `piped` step 4. The raw error
            // (errno kept) lets the caller print AH00089.
            ErrorLogTarget::Piped(target) => {
                Some(super::piped::open(target, false, &cfg.server_root)?)
            }
            ErrorLogTarget::File(path) => {
                // The io::Error is returned as is (errno kept) so the MPM can print Apache's
                // "(13)Permission denied: AH00091: could not open error log file X." itself.
                let f = OpenOptions::new()
                    .append(true)
                    .create(true)
                    .mode(0o644)
                    .open(path)?;
                Some(OwnedFd::from(f))
            }
        };
        let server_hostname = cfg
            .server_name
            .as_deref()
            .map(|n| n.rsplit_once(':').map_or(n, |(h, _)| h).to_string())
            .unwrap_or_default();
        Ok(ErrorLog {
            inner: Arc::new(Inner {
                file,
                levels: cfg.log_level.clone(),
                tz: super::local_tz(),
                bare: false,
                format: cfg
                    .error_log_format
                    .is_set()
                    .then(|| Arc::new(cfg.error_log_format.clone())),
                server_hostname,
            }),
        })
    }

    /// The log of the start-up, before the error log is open: stderr (or the `-E` file, which
    /// replaced it), messages without prefix, lines above `level` (`-e`, default warn) dropped.
    /// Apache prints a bind failure this way: `(98)Address already in use: AH00072: make_sock:
    /// could not bind to address 127.0.0.1:80`.
    pub fn startup(level: Level) -> ErrorLog {
        ErrorLog {
            inner: Arc::new(Inner {
                file: None,
                levels: LogLevelConfig {
                    default: level,
                    modules: Vec::new(),
                },
                tz: super::local_tz(),
                bare: true,
                format: None,
                server_hostname: String::new(),
            }),
        }
    }

    /// Whether this is the [`startup`](Self::startup) log.
    pub fn is_startup(&self) -> bool {
        self.inner.bare
    }

    /// A log on stderr with Apache's default level (warn), for use before the config is read.
    pub fn stderr() -> ErrorLog {
        ErrorLog {
            inner: Arc::new(Inner {
                file: None,
                levels: LogLevelConfig::default(),
                tz: super::local_tz(),
                bare: false,
                format: None,
                server_hostname: String::new(),
            }),
        }
    }

    /// The same destination with other levels (e.g. after a restart re-read the config).
    pub fn with_levels(&self, levels: LogLevelConfig) -> ErrorLog {
        let file = self.inner.file.as_ref().and_then(|f| f.try_clone().ok());
        ErrorLog {
            inner: Arc::new(Inner {
                file,
                levels,
                tz: self.inner.tz.clone(),
                bare: self.inner.bare,
                format: self.inner.format.clone(),
                server_hostname: self.inner.server_hostname.clone(),
            }),
        }
    }

    /// The descriptor lines go to (2 for stderr).
    /// Another descriptor for the log's file or pipe (`None`: it writes to stderr). mod_cgid
    /// hands it to scripts as their stderr.
    pub fn clone_fd(&self) -> Option<OwnedFd> {
        self.inner.file.as_ref()?.try_clone().ok()
    }

    pub fn fd(&self) -> RawFd {
        self.inner.file.as_ref().map_or(2, AsRawFd::as_raw_fd)
    }

    /// Whether this log's `ErrorLogFormat` prints the request's environment (`%{name}e`).
    pub fn wants_env(&self) -> bool {
        self.inner.format.as_ref().is_some_and(|f| f.uses_env())
    }

    /// Would a line at `level` from `module` be written? Notice is always written.
    pub fn enabled(&self, module: &str, level: Level) -> bool {
        level == Level::Notice || level <= self.inner.levels.level_for(module)
    }

    /// Write one line: `[time] [module:level] [pid P:tid T] message`.
    pub fn log(&self, module: &str, level: Level, args: fmt::Arguments<'_>) {
        self.write_line(module, level, None, None, args);
    }

    /// As [`log`](Self::log), with `[client IP:port] ` before the message.
    pub fn log_client(
        &self,
        module: &str,
        level: Level,
        client: SocketAddr,
        args: fmt::Arguments<'_>,
    ) {
        self.write_line(module, level, Some(client), None, args);
    }

    /// As [`log_client`](Self::log_client), for a line about a request: `ErrorLogFormat`'s
    /// request items (`%{Referer}i`, `%V`, `%L`, …) and, on the request's first line, the
    /// once-per-connection/request lines and the log ids (`log.c: add_log_id`). With facts
    /// that give no request id (`log_id: None`) the line is about the connection only
    /// (`ap_log_cerror`): `%{c}L`, `%{C}L`, `%A`, `%k` and the once-per-connection lines.
    pub fn log_request(
        &self,
        module: &str,
        level: Level,
        client: SocketAddr,
        facts: &RequestFacts<'_>,
        args: fmt::Arguments<'_>,
    ) {
        self.write_line(module, level, Some(client), Some(facts), args);
    }

    fn write_line(
        &self,
        module: &str,
        level: Level,
        client: Option<SocketAddr>,
        facts: Option<&RequestFacts<'_>>,
        args: fmt::Arguments<'_>,
    ) {
        if !self.enabled(module, level) {
            return;
        }
        let mut line = if self.inner.bare {
            args.to_string()
        } else {
            match &self.inner.format {
                Some(f) => match self.formatted(f, module, level, client, facts, args) {
                    Some(l) => l,
                    None => return,
                },
                None => {
                    give_log_ids(facts);
                    self.format_line(module, level, client, args)
                }
            }
        };
        line.push('\n');
        match &self.inner.file {
            Some(f) => write_all_fd(f, line.as_bytes()),
            // `as_fd` on stderr takes no lock (only writing through `Stderr` does).
            None => write_all_fd(io::stderr(), line.as_bytes()),
        }
    }

    /// `log_error_core` with an `ErrorLogFormat`: the once-per-connection and once-per-request
    /// lines when the ids are given now, then the line (default form if only those are set).
    /// `None`: nothing to write.
    fn formatted(
        &self,
        f: &ErrorLogFormat,
        module: &str,
        level: Level,
        client: Option<SocketAddr>,
        facts: Option<&RequestFacts<'_>>,
        args: fmt::Arguments<'_>,
    ) -> Option<String> {
        let mut info = LineInfo {
            module,
            level: None,
            client,
            request: facts,
            in_request: false,
            server_hostname: &self.inner.server_hostname,
            threaded: f.threaded,
            tz: &self.inner.tz,
        };
        let mut out = String::new();
        let (new_conn, new_req) = give_log_ids(facts);
        // Lines whose `+` item was empty are dropped (`if (!*errstr) continue`).
        let mut extra = |lines: &Option<Vec<Vec<errorlog_format::FmtItem>>>,
                         info: &LineInfo<'_>| {
            for items in lines.iter().flatten() {
                if let Some(l) = errorlog_format::render(items, info, "")
                    && !l.is_empty()
                {
                    out.push_str(&l);
                    out.push('\n');
                }
            }
        };
        if new_conn {
            extra(&f.connection, &info);
        }
        // A line about a connection only (no request id to give) keeps the request items empty.
        info.in_request = facts.is_some_and(|f| f.log_id.is_some());
        if new_req {
            extra(&f.request, &info);
        }
        info.level = Some(level);
        let line = match &f.main {
            Some(items) => errorlog_format::render(items, &info, &args.to_string())?,
            None => self.format_line(module, level, client, args),
        };
        out.push_str(&line);
        Some(out)
    }

    /// The line without its newline (exposed for tests and the simulator).
    pub fn format_line(
        &self,
        module: &str,
        level: Level,
        client: Option<SocketAddr>,
        args: fmt::Arguments<'_>,
    ) -> String {
        let now = jiff::Timestamp::now().to_zoned(self.inner.tz.clone());
        let pid = std::process::id();
        let tid = nix::unistd::gettid();
        let mut line = format!(
            "[{}.{:06} {}] [{module}:{level}] [pid {pid}:tid {tid}] ",
            now.strftime("%a %b %d %H:%M:%S"),
            now.subsec_nanosecond() / 1000,
            now.year()
        );
        if let Some(c) = client {
            // log.c: log_remote_address prints "ip:port" (IPv6 without brackets, as Apache).
            line.push_str(&format!("[client {}:{}] ", c.ip(), c.port()));
        }
        use fmt::Write;
        // Writing into a String cannot fail.
        let _ = line.write_fmt(args);
        line
    }
}

/// `add_log_id`: give the connection and the request their log ids if they have none yet;
/// returns which were given now.
fn give_log_ids(facts: Option<&RequestFacts<'_>>) -> (bool, bool) {
    let Some(r) = facts else {
        return (false, false);
    };
    let mut given = (false, false);
    if let Some(c) = r.conn_log_id
        && c.get().is_none()
    {
        given.0 = c.set(errorlog_format::generate_log_id(None)).is_ok();
    }
    if let Some(q) = r.log_id
        && q.get().is_none()
    {
        given.1 = q
            .set(errorlog_format::generate_log_id(r.request_time))
            .is_ok();
    }
    given
}

/// `write(2)` until done, retrying on EINTR. One call for a normal line; a short write (disk
/// full, signal) continues where it stopped. Errors are dropped: a logger has nowhere to report.
pub(crate) fn write_all_fd(fd: impl AsFd, mut buf: &[u8]) {
    while !buf.is_empty() {
        match nix::unistd::write(&fd, buf) {
            Ok(0) => return,
            Ok(n) => buf = &buf[n..],
            Err(nix::errno::Errno::EINTR) => continue,
            Err(_) => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ServerConfig;
    use std::path::Path;

    /// Rule 58's regex (apache-mpm-rules.md §11), checked by hand so the test needs no regex crate:
    /// `^\[\w{3} \w{3} \d{2} \d{2}:\d{2}:\d{2}\.\d{6} \d{4}\] \[[a-z_0-9]+:(emerg|…|trace[1-8])\] \[pid \d+(:tid \d+)?\] `
    fn matches_rule_58(line: &str) -> bool {
        let b = line.as_bytes();
        let mut i = 0;
        let lit = |s: &str, i: &mut usize| {
            if line[*i..].starts_with(s) {
                *i += s.len();
                true
            } else {
                false
            }
        };
        let word = |n: usize, i: &mut usize| {
            let ok = b.len() >= *i + n
                && b[*i..*i + n]
                    .iter()
                    .all(|c| c.is_ascii_alphanumeric() || *c == b'_');
            *i += n;
            ok
        };
        let digits = |n: usize, i: &mut usize| {
            let ok = b.len() >= *i + n && b[*i..*i + n].iter().all(u8::is_ascii_digit);
            *i += n;
            ok
        };
        let ok = lit("[", &mut i)
            && word(3, &mut i)
            && lit(" ", &mut i)
            && word(3, &mut i)
            && lit(" ", &mut i)
            && digits(2, &mut i)
            && lit(" ", &mut i)
            && digits(2, &mut i)
            && lit(":", &mut i)
            && digits(2, &mut i)
            && lit(":", &mut i)
            && digits(2, &mut i)
            && lit(".", &mut i)
            && digits(6, &mut i)
            && lit(" ", &mut i)
            && digits(4, &mut i)
            && lit("] [", &mut i);
        if !ok {
            return false;
        }
        let module_end = line[i..].find(':').map(|p| i + p);
        let Some(me) = module_end else { return false };
        if me == i
            || !line[i..me]
                .bytes()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'_')
        {
            return false;
        }
        i = me + 1;
        let Some(le) = line[i..].find(']').map(|p| i + p) else {
            return false;
        };
        if Level::parse(&line[i..le])
            .map(|l| l.as_str() != &line[i..le])
            .unwrap_or(true)
        {
            return false;
        }
        i = le;
        if !lit("] [pid ", &mut i) {
            return false;
        }
        let n = line[i..].bytes().take_while(u8::is_ascii_digit).count();
        if n == 0 {
            return false;
        }
        i += n;
        if lit(":tid ", &mut i) {
            let n = line[i..].bytes().take_while(u8::is_ascii_digit).count();
            if n == 0 {
                return false;
            }
            i += n;
        }
        lit("] ", &mut i)
    }

    #[test]
    fn rule_58_error_log_line_format() {
        let log = ErrorLog::stderr();
        let line = log.format_line(
            "mpm_prefork",
            Level::Info,
            None,
            format_args!("AH00162: server seems busy"),
        );
        assert!(matches_rule_58(&line), "{line}");
        assert!(line.contains("] [mpm_prefork:info] [pid "), "{line}");
        assert!(line.ends_with("AH00162: server seems busy"));
        let pid = std::process::id();
        assert!(line.contains(&format!("[pid {pid}:tid ")));
        // The observed Apache line must pass our matcher too.
        assert!(matches_rule_58(
            "[Sun Nov 22 16:02:18.879007 2026] [mpm_prefork:info] [pid 6615:tid 6615] AH00162: x"
        ));
        assert!(!matches_rule_58(
            "[Sun Nov 22 16:02:18 2026] [mpm_prefork:info] [pid 6615] x"
        ));
    }

    #[test]
    fn rule_58_client_prefix_and_notice_always() {
        let mut cfg = ServerConfig::with_defaults(Path::new("/"));
        cfg.log_level.default = Level::Emerg;
        let dir = std::env::temp_dir().join(format!("mpm-lab-errlog-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("error_log");
        let _ = std::fs::remove_file(&path);
        cfg.error_log = ErrorLogTarget::File(path.clone());
        let log = ErrorLog::open(&cfg).unwrap();
        assert!(!log.enabled("core", Level::Error));
        assert!(
            log.enabled("core", Level::Notice),
            "notice is always logged"
        );
        crate::ap_log!(log, "core", Error, "dropped {}", 1);
        crate::ap_log!(log, "core", Notice, "AH00094: Command line: '{}'", "x");
        log.log_client(
            "http",
            Level::Notice,
            "127.0.0.1:5555".parse().unwrap(),
            format_args!("hello"),
        );
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2, "{text}");
        assert!(lines.iter().all(|l| matches_rule_58(l)), "{text}");
        assert!(
            lines[0].contains("] [core:notice] [pid ")
                && lines[0].ends_with("AH00094: Command line: 'x'"),
            "{text}"
        );
        assert!(lines[1].contains("] [client 127.0.0.1:5555] hello"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
