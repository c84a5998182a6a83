//! mod_status: the `/server-status` page, in HTML and as `?auto` text.
//!
//! Source: Apache `modules/generators/mod_status.c: status_handler`; spec
//! `apache-mpm-rules.md` §7.4–7.6, rules 36–40.
//!
//! The handler is split the way STYLE.md asks ("decide, then act"):
//!
//! 1. [`Report::gather`] reads the scoreboard once and applies Apache's counting rules
//!    (§7.4: who is busy, idle, gracefully finishing; which slots the scoreboard line shows).
//!    Time, load and CPU come in through [`Environment`], so tests can fix them.
//! 2. `auto::write` and `html::write` only format a [`Report`]; they never touch shared
//!    memory, so the page is one consistent reading even while children keep writing.
//!
//! | file | Apache | what |
//! |---|---|---|
//! | `report.rs` | the scoreboard loop of `status_handler` | counts, scoreboard line, table rows |
//! | `auto.rs` | the `if (short_report)` branches | `?auto` text, keys in Apache's order |
//! | `html.rs` | the HTML branches, `status_init` legend | the page, every scoreboard string escaped |
//! | `format.rs` | `show_time`, `format_byte_out`, `%g` | C number and time formats |
//!
//! [`StatusAuto`] parses the `?auto` text back (tests, the lab harness).
//!
//! What is *not* here: the per-worker CPU column and the `CPU*` figures of other processes
//! (our scoreboard keeps no `times` per worker; `CPU*` are those of the process answering),
//! and `status_hook` providers (mod_ssl has none to add).

mod auto;
mod format;
mod html;
mod report;

pub use format::{fmt_g, fmt_g_prec, format_bytes, format_kbytes, format_time, show_time};
pub use report::{Counted, ProcessRow, Report, WorkerRow, classify};

use std::net::SocketAddr;
use std::time::SystemTime;

use crate::scoreboard::Scoreboard;

/// What the MPM tells mod_status about itself (Apache's `ap_mpm_query` answers).
#[derive(Debug, Clone)]
pub struct MpmStatusInfo {
    /// `AP_MPMQ_...` name: "prefork", "worker" or "event".
    pub mpm: &'static str,
    /// `AP_MPMQ_IS_ASYNC`: event only; adds the per-process table and the `Conns*` keys.
    pub is_async: bool,
    /// `AP_MPMQ_MAX_THREADS` (1 for prefork).
    pub threads_per_child: usize,
    /// `AP_MPMQ_MAX_DAEMONS`: process slots shown in steady state (MaxRequestWorkers/TPC).
    pub max_daemons: usize,
    /// `AP_MPMQ_HARD_LIMIT_DAEMONS` (ServerLimit).
    pub server_limit: usize,
}

/// Reserved for server-wide facts the page may show later (kept as a unit struct: CONTRACT).
#[derive(Debug, Clone, Default)]
pub struct StatusServerInfo;

/// The rendered page; the http handler adds `Refresh: N` when `refresh` is set.
pub struct StatusPage {
    /// `text/plain; charset=ISO-8859-1` for `?auto`, else `text/html; charset=ISO-8859-1`.
    pub content_type: &'static str,
    /// The body.
    pub body: String,
    /// Seconds for the `Refresh` header (`?refresh[=N]`; N<1 or missing → 10).
    pub refresh: Option<u32>,
}

/// The page for a GET of the `server-status` handler with this query string.
pub fn render(
    query: &str,
    host: &str,
    local: SocketAddr,
    sb: &Scoreboard,
    info: &MpmStatusInfo,
    _started: &StatusServerInfo,
) -> StatusPage {
    render_with(query, host, local, sb, info, &Environment::now())
}

/// [`render`] with the clock, load and CPU given (tests fix them).
pub fn render_with(
    query: &str,
    host: &str,
    local: SocketAddr,
    sb: &Scoreboard,
    info: &MpmStatusInfo,
    env: &Environment,
) -> StatusPage {
    let q = Query::parse(query);
    let report = Report::gather(sb, info, env);
    if q.auto {
        StatusPage {
            content_type: "text/plain; charset=ISO-8859-1",
            body: auto::write(host, &report),
            refresh: q.refresh,
        }
    } else {
        StatusPage {
            content_type: "text/html; charset=ISO-8859-1",
            body: html::write(host, local, &report, q.notable),
            refresh: q.refresh,
        }
    }
}

/// The query options. Apache searches the query string for the substrings `refresh`,
/// `notable` and `auto` (anywhere, in any order: `?auto&refresh=5`, `?refresh=5;auto`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Query {
    /// `?auto`: the machine-readable text.
    pub auto: bool,
    /// `?notable`: HTML without tables.
    pub notable: bool,
    /// `?refresh[=N]`.
    pub refresh: Option<u32>,
}

impl Query {
    /// Parse a query string (without the `?`).
    pub fn parse(query: &str) -> Query {
        let refresh = query.find("refresh").map(|at| {
            let rest = &query[at + "refresh".len()..];
            // Apache: `atol` of what follows '='; anything < 1 (or no number) means 10 s.
            let n = rest
                .strip_prefix('=')
                .map(|r| {
                    r.chars()
                        .take_while(char::is_ascii_digit)
                        .collect::<String>()
                })
                .and_then(|d| d.parse::<u32>().ok())
                .unwrap_or(0);
            if n < 1 { 10 } else { n }
        });
        Query {
            auto: query.contains("auto"),
            notable: query.contains("notable"),
            refresh,
        }
    }
}

/// CPU seconds as Apache's `times()` figures: user, system, children user, children system.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct CpuTimes {
    /// `tms_utime` in seconds.
    pub user: f64,
    /// `tms_stime` in seconds.
    pub system: f64,
    /// `tms_cutime` in seconds.
    pub children_user: f64,
    /// `tms_cstime` in seconds.
    pub children_system: f64,
}

impl CpuTimes {
    /// This process's figures (`getrusage`, rounded to clock ticks of 1/100 s as `times()`).
    pub fn of_this_process() -> CpuTimes {
        use nix::sys::resource::{UsageWho, getrusage};
        let secs = |who| match getrusage(who) {
            Ok(u) => (tick(u.user_time()), tick(u.system_time())),
            Err(_) => (0.0, 0.0),
        };
        fn tick(tv: nix::sys::time::TimeVal) -> f64 {
            let hundredths = tv.tv_sec() as f64 * 100.0 + (tv.tv_usec() / 10_000) as f64;
            hundredths / 100.0
        }
        let (user, system) = secs(UsageWho::RUSAGE_SELF);
        let (children_user, children_system) = secs(UsageWho::RUSAGE_CHILDREN);
        CpuTimes {
            user,
            system,
            children_user,
            children_system,
        }
    }

    pub(crate) fn total(&self) -> f64 {
        self.user + self.system + self.children_user + self.children_system
    }
}

/// What the page needs from outside the scoreboard.
#[derive(Debug, Clone)]
pub struct Environment {
    /// "now" (CurrentTime, uptime, SS column).
    pub now: SystemTime,
    /// 1, 5 and 15 minute load averages.
    pub load: [f64; 3],
    /// CPU times.
    pub cpu: CpuTimes,
}

impl Environment {
    /// The real clock, `/proc/loadavg` and this process's CPU times.
    pub fn now() -> Environment {
        Environment {
            now: SystemTime::now(),
            load: load_average(),
            cpu: CpuTimes::of_this_process(),
        }
    }
}

/// `/proc/loadavg`'s first three numbers (Apache: `ap_get_loadavg`); zeros if unreadable.
fn load_average() -> [f64; 3] {
    let text = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let mut it = text
        .split_whitespace()
        .map(|w| w.parse::<f64>().unwrap_or(0.0));
    [
        it.next().unwrap_or(0.0),
        it.next().unwrap_or(0.0),
        it.next().unwrap_or(0.0),
    ]
}

/// A parsed `?auto` page: what `mod_status` writes, read back. The one parser of the
/// workspace: httpd-core's own tests and the conformance harness (which reads real Apache's
/// pages too) both use it.
///
/// The page is `Key: value` lines after a first line holding only the server name. The keys
/// are kept in the order received, because rule 36 is about that order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StatusAuto {
    /// The first line (the host name from the request, no key).
    pub server_name: String,
    /// Every `Key: value` line, in order (split at the first ':', trimmed).
    pub keys: Vec<(String, String)>,
    /// The `Scoreboard:` string (one character per worker slot shown; "" if absent).
    pub scoreboard: String,
}

impl StatusAuto {
    /// Parse the body of a `?auto` page.
    pub fn parse(body: &str) -> StatusAuto {
        let mut st = StatusAuto::default();
        for (i, line) in body.lines().enumerate() {
            match line.split_once(':') {
                // A first line is the server name unless it looks like `Key: value`.
                Some((k, v)) if !(i == 0 && !line.contains(": ") && !line.ends_with(':')) => {
                    let (k, v) = (k.trim().to_string(), v.trim().to_string());
                    if k == "Scoreboard" {
                        st.scoreboard = v.clone();
                    }
                    st.keys.push((k, v));
                }
                _ if i == 0 => st.server_name = line.trim().to_string(),
                _ => {}
            }
        }
        st
    }

    /// The value of `key`, if present.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.keys
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The value of `key` as an integer.
    pub fn int(&self, key: &str) -> Option<i64> {
        self.get(key).and_then(|v| v.parse().ok())
    }

    /// The key names in order.
    pub fn key_names(&self) -> Vec<&str> {
        self.keys.iter().map(|(k, _)| k.as_str()).collect()
    }

    /// `BusyWorkers` (0 if absent).
    pub fn busy(&self) -> i64 {
        self.int("BusyWorkers").unwrap_or(0)
    }

    /// `IdleWorkers` (0 if absent).
    pub fn idle(&self) -> i64 {
        self.int("IdleWorkers").unwrap_or(0)
    }

    /// `GracefulWorkers` (0 if absent).
    pub fn graceful(&self) -> i64 {
        self.int("GracefulWorkers").unwrap_or(0)
    }

    /// `ServerMPM`.
    pub fn mpm(&self) -> &str {
        self.get("ServerMPM").unwrap_or("")
    }

    /// How many scoreboard slots show `c`.
    pub fn count(&self, c: char) -> usize {
        self.scoreboard.chars().filter(|&x| x == c).count()
    }

    /// Processes: the `Processes` key (event) or else the number of process blocks of
    /// `width` characters in the scoreboard that are not all `.` (prefork: width 1).
    pub fn processes(&self, width: usize) -> Option<usize> {
        if let Some(n) = self.int("Processes") {
            return usize::try_from(n).ok();
        }
        let width = if self.mpm() == "prefork" { 1 } else { width };
        if self.scoreboard.is_empty() || width == 0 {
            return None;
        }
        let chars: Vec<char> = self.scoreboard.chars().collect();
        Some(
            chars
                .chunks(width)
                .filter(|b| b.iter().any(|&c| c != '.'))
                .count(),
        )
    }
}
