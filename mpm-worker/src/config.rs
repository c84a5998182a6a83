//! The worker MPM's directives: defaults, `check_config` clamping and `worker_run`'s silent
//! adjustments.
//!
//! Source: Apache `server/mpm/worker/worker.c: worker_pre_config` (defaults from
//! `mpm_default.h`), `worker_check_config` (steps 1–7 below, AH00300…AH00323) and the
//! bucket adjustments at the top of `worker_run`; spec apache-mpm-rules.md §2.3, rules 20–25,
//! 27, 28.
//!
//! Two stages, as everywhere in mpm-lab: [`MpmDirectives`] is what the file says (raw `atoi`
//! values, `None` when absent); [`WorkerConfig`] is what the server runs with, together with
//! the [`ConfigWarning`]s Apache would log while clamping.
//!
//! # The rule-28 quirk, reproduced on purpose
//! Step 6 lowers the *process* limit to ServerLimit when MaxRequestWorkers/TPC exceeds it, and
//! says "decreasing to N" — but Apache leaves `max_workers` unchanged. Maintenance compares
//! active threads with `max_workers`, which a saturated server then never reaches, so it logs
//! AH00288 "scoreboard is full" every second instead of AH00286 once. We keep both numbers
//! ([`WorkerConfig::max_workers`] = Apache's `max_workers`, [`WorkerConfig::daemons_limit`])
//! so the behaviour, and conformance rule 28 that checks it, match the real server.

use httpd_core::config::MpmDirectives;
use httpd_core::threaded::check::{CheckCodes, Clamped, Requested, check_limits};

/// `worker_check_config`'s codes for the steps httpd-core's `check_limits` runs.
const CODES: CheckCodes = CheckCodes {
    max_server_limit: defaults::MAX_SERVER_LIMIT,
    max_thread_limit: defaults::MAX_THREAD_LIMIT,
    server_limit_high: ("AH00300", "AH00301"),
    server_limit_low: ("AH00302", "AH00303"),
    server_limit_restart: "AH00304",
    thread_limit_high: ("AH00305", "AH00306"),
    thread_limit_low: ("AH00307", "AH00308"),
    thread_limit_restart: "AH00309",
    threads_per_child_high: ("AH00310", "AH00311"),
    threads_per_child_low: ("AH00312", "AH00313"),
    max_workers_low: ("AH00314", "AH00315"),
    max_workers_not_multiple: ("AH00316", "AH00317"),
    max_workers_over_server_limit: ("AH00318", "AH00319"),
    start_servers_low: ("AH00320", "AH00321"),
    min_spare_low: ("AH00322", "AH00323"),
};

/// `mpm_default.h` / `worker.c` compile-time constants: those event shares come from
/// `httpd_core::threaded::check::defaults`.
pub mod defaults {
    pub use httpd_core::threaded::check::defaults::*;
    /// `MAX_THREAD_LIMIT` (worker.c; event's is 100000).
    pub const MAX_THREAD_LIMIT: i64 = 20000;
}

/// The configuration the worker MPM runs with (Apache's globals after `worker_check_config`
/// and `worker_run`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkerConfig {
    /// ServerLimit: process slots in the scoreboard (fixed for the parent's life).
    pub server_limit: usize,
    /// ThreadLimit: worker slots per process slot (fixed for the parent's life).
    pub thread_limit: usize,
    /// ThreadsPerChild.
    pub threads_per_child: usize,
    /// Apache's `max_workers`: MaxRequestWorkers after steps 4–5 but *not* step 6 (rule 28).
    pub max_workers: usize,
    /// Apache's `ap_daemons_limit`: the most child processes (MaxRequestWorkers/TPC, capped at
    /// ServerLimit).
    pub daemons_limit: usize,
    /// StartServers (capped at `daemons_limit` when children are started).
    pub start_servers: usize,
    /// MinSpareThreads after clamping and the `worker_run` floor.
    pub min_spare_threads: usize,
    /// MaxSpareThreads after the `worker_run` floor (rule 27).
    pub max_spare_threads: usize,
    /// MaxConnectionsPerChild; 0 = unlimited.
    pub max_connections_per_child: u64,
    /// GracefulShutdownTimeout in seconds; 0 = wait forever.
    pub graceful_shutdown_timeout: u64,
    /// Listener buckets (always 1 here: we do not duplicate listeners with SO_REUSEPORT).
    pub num_buckets: usize,
}

impl WorkerConfig {
    /// Apache's `max_spawn_rate_per_bucket`: ceil(32 / nb), at least 1 (rule 11).
    pub fn max_spawn_rate_per_bucket(&self) -> usize {
        defaults::MAX_SPAWN_RATE.div_ceil(self.num_buckets).max(1)
    }

    /// Children forked at a cold start: StartServers, at most `daemons_limit` (`worker_run`).
    pub fn children_to_start(&self) -> usize {
        self.start_servers.min(self.daemons_limit)
    }
}

/// A message `check_config` logs while clamping. Apache has two texts per check: a long
/// "WARNING: …" printed to the console at first start, and a short one in the error log on
/// restarts (the second AH code of each pair).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigWarning {
    /// The AH code of the start-up form, e.g. `"AH00316"`.
    pub code: &'static str,
    /// Console text at first start, code included: `"AH00316: WARNING: MaxRequestWorkers …"`.
    pub startup: String,
    /// Error-log text on restart (logged at warn), code included.
    pub restart: String,
}

impl ConfigWarning {
    fn new(code: &'static str, restart_code: &'static str, long: String, short: String) -> Self {
        ConfigWarning {
            code,
            startup: format!("{code}: {long}"),
            restart: format!("{restart_code}: {short}"),
        }
    }
}

/// The limits a restart may not change (Apache's `retained->first_server_limit` and
/// `first_thread_limit`, rule 25).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FirstLimits {
    pub server_limit: usize,
    pub thread_limit: usize,
}

fn clamp_usize(v: i64) -> usize {
    // Every caller has already raised v to at least 1.
    usize::try_from(v).unwrap_or(usize::MAX)
}

/// `worker_check_config` steps 1–7 then `worker_run`'s silent floors, with `num_buckets`
/// listener buckets. `first` is `None` at first start and the retained limits on restart.
pub fn check_config(
    raw: &MpmDirectives,
    first: Option<FirstLimits>,
    num_buckets: usize,
) -> (WorkerConfig, Vec<ConfigWarning>) {
    use defaults as d;
    let requested = Requested {
        server_limit: raw.server_limit.unwrap_or(d::SERVER_LIMIT),
        thread_limit: raw.thread_limit.unwrap_or(d::THREAD_LIMIT),
        threads_per_child: raw.threads_per_child.unwrap_or(d::THREADS_PER_CHILD),
        max_request_workers: raw.max_request_workers.unwrap_or(d::MAX_REQUEST_WORKERS),
        start_servers: raw.start_servers.unwrap_or(d::START_SERVERS),
        min_spare_threads: raw.min_spare_threads.unwrap_or(d::MIN_SPARE_THREADS),
    };
    let max_spare = raw.max_spare_threads.unwrap_or(d::MAX_SPARE_THREADS);
    let first = first.map(|f| (f.server_limit as i64, f.thread_limit as i64));
    // Steps 1–7, shared with event (httpd-core/src/threaded/check.rs).
    let (c, checks) = check_limits(requested, first, &CODES);
    let w = checks
        .into_iter()
        .map(|c| ConfigWarning::new(c.startup_code, c.restart_code, c.long, c.short))
        .collect();
    let Clamped {
        server_limit,
        thread_limit,
        threads_per_child: tpc,
        max_workers,
        daemons_limit,
        start_servers: start,
        min_spare_threads: min_spare,
    } = c;

    // worker_run, silently: every bucket gets a child, and the spare thresholds leave room for
    // one child per bucket between them (rule 27).
    let nb = num_buckets.max(1) as i64;
    let daemons_limit = daemons_limit.max(nb);
    let start = start.max(nb);
    let min_spare = min_spare.max(tpc * (nb - 1) + nb);
    let max_spare = max_spare.max(min_spare + (tpc + 1) * nb);

    let cfg = WorkerConfig {
        server_limit: clamp_usize(server_limit),
        thread_limit: clamp_usize(thread_limit),
        threads_per_child: clamp_usize(tpc),
        max_workers: clamp_usize(max_workers),
        daemons_limit: clamp_usize(daemons_limit),
        start_servers: clamp_usize(start),
        min_spare_threads: clamp_usize(min_spare),
        max_spare_threads: clamp_usize(max_spare),
        max_connections_per_child: raw.max_connections_per_child.unwrap_or(0).max(0) as u64,
        graceful_shutdown_timeout: raw.graceful_shutdown_timeout.unwrap_or(0).max(0) as u64,
        num_buckets: nb as usize,
    };
    (cfg, w)
}

/// Info messages for deprecated spellings (`worker.c: set_max_workers` AH00324 and
/// `mpm_common.c` AH00545), logged once at start.
pub fn deprecation_notes(raw: &MpmDirectives) -> Vec<String> {
    let mut notes = Vec::new();
    if raw.used_max_clients {
        notes.push("AH00324: MaxClients is deprecated, use MaxRequestWorkers instead.".to_string());
    }
    if raw.used_max_requests_per_child {
        notes.push(
            "AH00545: MaxRequestsPerChild is deprecated, use MaxConnectionsPerChild instead."
                .to_string(),
        );
    }
    notes
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw() -> MpmDirectives {
        MpmDirectives::default()
    }

    #[test]
    fn defaults_match_mpm_default_h() {
        let (c, w) = check_config(&raw(), None, 1);
        assert!(w.is_empty());
        assert_eq!(
            (c.server_limit, c.thread_limit, c.threads_per_child),
            (16, 64, 25)
        );
        assert_eq!(
            (c.max_workers, c.daemons_limit, c.start_servers),
            (400, 16, 3)
        );
        assert_eq!((c.min_spare_threads, c.max_spare_threads), (75, 250));
    }

    #[test]
    fn tpc_64_alone_gives_384_workers_with_ah00316() {
        let mut r = raw();
        r.threads_per_child = Some(64);
        let (c, w) = check_config(&r, None, 1);
        assert_eq!((c.max_workers, c.daemons_limit), (384, 6));
        assert_eq!(w.len(), 1);
        assert_eq!(
            w[0].startup,
            "AH00316: WARNING: MaxRequestWorkers of 400 is not an integer multiple of ThreadsPerChild of 64, decreasing to nearest multiple 384, for a maximum of 6 servers."
        );
    }

    #[test]
    fn step_6_keeps_max_workers_like_apache() {
        let mut r = raw();
        r.server_limit = Some(1);
        r.threads_per_child = Some(2);
        r.max_request_workers = Some(10);
        let (c, w) = check_config(&r, None, 1);
        assert_eq!(c.daemons_limit, 1);
        assert_eq!(c.max_workers, 10, "rule 28: max_workers is not lowered");
        assert_eq!(w[0].code, "AH00318");
    }

    #[test]
    fn max_spare_is_raised_silently() {
        let mut r = raw();
        r.min_spare_threads = Some(25);
        r.max_spare_threads = Some(30);
        let (c, w) = check_config(&r, None, 1);
        assert!(w.is_empty());
        assert_eq!(c.max_spare_threads, 25 + 26);
    }

    #[test]
    fn restart_cannot_change_limits() {
        let mut r = raw();
        r.server_limit = Some(20);
        let first = FirstLimits {
            server_limit: 16,
            thread_limit: 64,
        };
        let (c, w) = check_config(&r, Some(first), 1);
        assert_eq!(c.server_limit, 16);
        assert_eq!(
            w[0].restart,
            "AH00304: changing ServerLimit to 20 from original value of 16 not allowed during restart"
        );
    }
}
