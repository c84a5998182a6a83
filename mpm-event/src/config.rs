//! Event's configuration check: raw MPM directives → the numbers the MPM runs with.
//!
//! Source: Apache `event.c: event_pre_config` (defaults), `event_check_config` (clamping with
//! AH00497…AH00520; the steps worker shares are `httpd_core::threaded::check`, event's codes
//! are in `CODES`), `event_run` (silent bucket adjustments) and `set_worker_factor`
//! (AsyncRequestWorkerFactor). Spec: apache-mpm-rules.md §2.3, §3.4; rules 20–25, 27, 28, 29.
//!
//! Two stages, as STYLE.md asks: [`MpmDirectives`] is what the file says (parsed with `atoi`
//! by httpd-core); [`check_config`] turns it into an [`EventConfig`] plus the list of warnings
//! Apache would print, each carrying its AH code. On the first pass (start-up) the long
//! "WARNING: …" text goes to the console; on a restart the short text goes to the error log.

use std::fmt;

use httpd_core::config::MpmDirectives;
use httpd_core::threaded::check::{CheckCodes, Clamped, Requested, check_limits};

/// `event_check_config`'s codes for the steps httpd-core's `check_limits` runs.
const CODES: CheckCodes = CheckCodes {
    max_server_limit: defaults::MAX_SERVER_LIMIT,
    max_thread_limit: defaults::MAX_THREAD_LIMIT,
    server_limit_high: ("AH00497", "AH00498"),
    server_limit_low: ("AH00499", "AH00500"),
    server_limit_restart: "AH00501",
    thread_limit_high: ("AH00502", "AH00503"),
    thread_limit_low: ("AH00504", "AH00505"),
    thread_limit_restart: "AH00506",
    threads_per_child_high: ("AH00507", "AH00508"),
    threads_per_child_low: ("AH00509", "AH00510"),
    max_workers_low: ("AH00511", "AH00512"),
    max_workers_not_multiple: ("AH00513", "AH00514"),
    max_workers_over_server_limit: ("AH00515", "AH00516"),
    start_servers_low: ("AH00517", "AH00518"),
    min_spare_low: ("AH00519", "AH00520"),
};

/// `mpm_default.h`/`event.c` defaults and hard limits: those worker shares come from
/// `httpd_core::threaded::check::defaults`.
pub mod defaults {
    pub use httpd_core::threaded::check::defaults::*;
    /// `MAX_THREAD_LIMIT` (event.c; worker's is 20000).
    pub const MAX_THREAD_LIMIT: i64 = 100000;
    /// `DEFAULT_ASYNC_FACTOR`.
    pub const ASYNC_REQUEST_WORKER_FACTOR: f64 = 2.0;
}

/// `WORKER_FACTOR_SCALE`: AsyncRequestWorkerFactor is stored multiplied by 16.
pub const WORKER_FACTOR_SCALE: u32 = 16;

/// AsyncRequestWorkerFactor as Apache stores it: `value × 16`, at least 16 (rule 29).
///
/// Every use divides by 16 with *integer* division ([`WorkerFactor::effective`]), so 1.5
/// behaves exactly as 1 and 2.9 as 2, whatever the documentation says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WorkerFactor {
    /// The factor × [`WORKER_FACTOR_SCALE`], truncated like C's double → int conversion.
    pub scaled: u32,
}

impl Default for WorkerFactor {
    fn default() -> Self {
        WorkerFactor {
            scaled: (defaults::ASYNC_REQUEST_WORKER_FACTOR * f64::from(WORKER_FACTOR_SCALE)) as u32,
        }
    }
}

impl WorkerFactor {
    /// Parse the directive's argument like `set_worker_factor`: `strtod`, nothing may follow
    /// the number, it must be positive, and the stored value is raised to at least 1.0.
    pub fn parse(arg: &str) -> Result<WorkerFactor, FactorError> {
        let value = strtod_whole(arg).ok_or(FactorError::Parse)?;
        if value <= 0.0 || value.is_nan() {
            return Err(FactorError::NotPositive);
        }
        // C converts double → int by truncation; saturate instead of overflowing.
        let scaled = (value * f64::from(WORKER_FACTOR_SCALE)).min(f64::from(u32::MAX)) as u32;
        Ok(WorkerFactor {
            scaled: scaled.max(WORKER_FACTOR_SCALE),
        })
    }

    /// The factor as `connections_above_limit` uses it: `worker_factor / WORKER_FACTOR_SCALE`,
    /// integer division (§2.3, rule 29).
    pub fn effective(self) -> usize {
        (self.scaled / WORKER_FACTOR_SCALE) as usize
    }
}

/// C's `strtod` on the whole string: leading white space is skipped, the rest must be one
/// number (`*endptr` must be the terminating NUL). Returns `None` when nothing or junk remains.
fn strtod_whole(arg: &str) -> Option<f64> {
    let s = arg.trim_start_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
    if s.is_empty() {
        // strtod consumed nothing: endptr == arg, which points at '\0' only for "" — Apache
        // then stores 0.0 and answers "must be a positive number". Same outcome here.
        return Some(0.0);
    }
    // Rust's parser accepts what strtod accepts for plain decimal and exponent forms, plus
    // "inf"/"nan" spellings (strtod accepts those too).
    s.parse::<f64>().ok()
}

/// Why AsyncRequestWorkerFactor was rejected (a configuration syntax error, exit status 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FactorError {
    /// Something other than a number, or junk after it ("2x").
    Parse,
    /// Zero or negative.
    NotPositive,
}

impl fmt::Display for FactorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            FactorError::Parse => "error parsing value",
            FactorError::NotPositive => {
                "AsyncRequestWorkerFactor argument must be a positive number"
            }
        })
    }
}

impl std::error::Error for FactorError {}

/// The effective event configuration (after `event_check_config` and `event_run`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventConfig {
    /// Process slots in the scoreboard (fixed for the parent's life).
    pub server_limit: usize,
    /// Worker slots per process in the scoreboard (fixed for the parent's life).
    pub thread_limit: usize,
    /// Worker threads each child runs.
    pub threads_per_child: usize,
    /// MaxRequestWorkers as the maintenance compares it (`max_workers`). Rounded down to a
    /// multiple of ThreadsPerChild but **not** lowered to ServerLimit × TPC (§3.4 quirk).
    pub max_request_workers: usize,
    /// `active_daemons_limit`: at most this many non-stopping children (rule 17).
    pub active_daemons_limit: usize,
    /// Children forked at a cold start (capped at `active_daemons_limit` when used).
    pub start_servers: usize,
    /// Maintenance forks when idle threads fall below this.
    pub min_spare_threads: usize,
    /// Maintenance stops one child when idle threads rise above this.
    pub max_spare_threads: usize,
    /// 0 = unlimited; else the child stops after accepting exactly this many (rule 53).
    pub max_connections_per_child: u64,
    /// AsyncRequestWorkerFactor, scaled by 16.
    pub worker_factor: WorkerFactor,
    /// Seconds; 0 waits forever in a graceful stop.
    pub graceful_shutdown_timeout: u64,
}

impl EventConfig {
    /// The MPM status info for mod_status (`max_daemons` = slots shown).
    pub fn status_max_daemons(&self) -> usize {
        self.active_daemons_limit
    }
}

/// One warning `event_check_config` prints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigWarning {
    /// The AH code of the message actually chosen (startup or restart form).
    pub code: &'static str,
    /// The whole text, beginning with "AHnnnnn: ".
    pub text: String,
    /// True for informational notes (MaxClients deprecated), which Apache logs at info.
    pub info: bool,
}

/// The result of [`check_config`]: the config and what to print about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checked {
    /// The numbers the MPM runs with.
    pub config: EventConfig,
    /// Apache's messages, in the order `event_check_config` emits them.
    pub warnings: Vec<ConfigWarning>,
}

/// What survives a restart and constrains the next check: ServerLimit and ThreadLimit size the
/// shared scoreboard, so a restart may not change them (AH00501, AH00506).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FirstLimits {
    /// ServerLimit of the first configuration pass.
    pub server_limit: i64,
    /// ThreadLimit of the first configuration pass.
    pub thread_limit: i64,
}

// ANCHOR: check_config
/// `event_check_config` followed by `event_run`'s silent adjustments (one listener bucket).
///
/// `first` is `None` on the first configuration pass (start-up: long "WARNING:" texts for the
/// console) and the retained limits on a restart (short texts for the error log).
pub fn check_config(
    raw: &MpmDirectives,
    first: Option<FirstLimits>,
) -> Result<Checked, FactorError> {
    let startup = first.is_none();
    let mut warnings = Vec::new();
    let worker_factor = match &raw.async_request_worker_factor {
        Some(text) => WorkerFactor::parse(text)?,
        None => WorkerFactor::default(),
    };

    let requested = Requested {
        server_limit: raw.server_limit.unwrap_or(defaults::SERVER_LIMIT),
        thread_limit: raw.thread_limit.unwrap_or(defaults::THREAD_LIMIT),
        threads_per_child: raw.threads_per_child.unwrap_or(defaults::THREADS_PER_CHILD),
        max_request_workers: raw
            .max_request_workers
            .unwrap_or(defaults::MAX_REQUEST_WORKERS),
        start_servers: raw.start_servers.unwrap_or(defaults::START_SERVERS),
        min_spare_threads: raw.min_spare_threads.unwrap_or(defaults::MIN_SPARE_THREADS),
    };
    let mut max_spare = raw.max_spare_threads.unwrap_or(defaults::MAX_SPARE_THREADS);
    // Steps 1–7, shared with worker (httpd-core/src/threaded/check.rs), with event's codes.
    let (c, checks) = check_limits(
        requested,
        first.map(|f| (f.server_limit, f.thread_limit)),
        &CODES,
    );
    for c in checks {
        let (code, body) = if startup {
            (c.startup_code, c.long)
        } else {
            (c.restart_code, c.short)
        };
        warnings.push(ConfigWarning {
            code,
            text: format!("{code}: {body}"),
            info: false,
        });
    }
    let Clamped {
        server_limit,
        thread_limit,
        threads_per_child: tpc,
        max_workers,
        daemons_limit: active_daemons_limit,
        start_servers: start,
        min_spare_threads: min_spare,
    } = c;

    // event_run, silently, with one bucket (nb = 1): MinSpareThreads ≥ TPC×(nb−1)+nb = 1
    // (already true) and MaxSpareThreads ≥ MinSpareThreads + (TPC+1)×nb (rule 27).
    if max_spare < min_spare + tpc + 1 {
        max_spare = min_spare + tpc + 1;
    }
    // ANCHOR_END: check_config

    if raw.used_max_clients {
        warnings.push(ConfigWarning {
            code: "AH00521",
            text: "AH00521: MaxClients is deprecated, use MaxRequestWorkers instead.".into(),
            info: true,
        });
    }

    let as_usize = |v: i64| usize::try_from(v).unwrap_or(0);
    Ok(Checked {
        config: EventConfig {
            server_limit: as_usize(server_limit),
            thread_limit: as_usize(thread_limit),
            threads_per_child: as_usize(tpc),
            max_request_workers: as_usize(max_workers),
            active_daemons_limit: as_usize(active_daemons_limit),
            start_servers: as_usize(start),
            min_spare_threads: as_usize(min_spare),
            max_spare_threads: as_usize(max_spare),
            max_connections_per_child: u64::try_from(raw.max_connections_per_child.unwrap_or(0))
                .unwrap_or(0),
            worker_factor,
            graceful_shutdown_timeout: u64::try_from(raw.graceful_shutdown_timeout.unwrap_or(0))
                .unwrap_or(0),
        },
        warnings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(f: impl FnOnce(&mut MpmDirectives)) -> Checked {
        let mut d = MpmDirectives::default();
        f(&mut d);
        check_config(&d, None).expect("valid")
    }

    #[test]
    fn defaults_are_event_pre_config() {
        let c = check(|_| {}).config;
        assert_eq!(
            (c.server_limit, c.thread_limit, c.threads_per_child),
            (16, 64, 25)
        );
        assert_eq!((c.max_request_workers, c.active_daemons_limit), (400, 16));
        assert_eq!(
            (c.start_servers, c.min_spare_threads, c.max_spare_threads),
            (3, 75, 250)
        );
        assert_eq!(c.worker_factor.effective(), 2);
    }

    #[test]
    fn rule_20_tpc_64_alone_gives_384_workers_with_ah00513() {
        let c = check(|d| d.threads_per_child = Some(64));
        assert_eq!(c.config.max_request_workers, 384);
        assert_eq!(c.config.active_daemons_limit, 6);
        assert_eq!(
            c.warnings[0].text,
            "AH00513: WARNING: MaxRequestWorkers of 400 is not an integer multiple of ThreadsPerChild of 64, decreasing to nearest multiple 384, for a maximum of 6 servers."
        );
    }

    #[test]
    fn rule_28_max_workers_is_not_lowered_to_server_limit() {
        let c = check(|d| {
            d.server_limit = Some(1);
            d.threads_per_child = Some(2);
            d.max_request_workers = Some(10);
        });
        assert_eq!(c.config.active_daemons_limit, 1);
        assert_eq!(c.config.max_request_workers, 10);
        assert!(
            c.warnings[0]
                .text
                .starts_with("AH00515: WARNING: MaxRequestWorkers of 10 would require 5 servers")
        );
    }

    #[test]
    fn rule_25_restart_keeps_limits() {
        let d = MpmDirectives {
            server_limit: Some(8),
            ..MpmDirectives::default()
        };
        let c = check_config(
            &d,
            Some(FirstLimits {
                server_limit: 16,
                thread_limit: 64,
            }),
        )
        .unwrap();
        assert_eq!(c.config.server_limit, 16);
        assert_eq!(
            c.warnings[0].text,
            "AH00501: changing ServerLimit to 8 from original value of 16 not allowed during restart"
        );
    }

    #[test]
    fn rule_29_factor_is_truncated_to_an_integer() {
        assert_eq!(WorkerFactor::parse("1.5").unwrap().effective(), 1);
        assert_eq!(WorkerFactor::parse("2.9").unwrap().effective(), 2);
        assert_eq!(WorkerFactor::parse("0.1").unwrap().scaled, 16);
        assert_eq!(WorkerFactor::parse("10").unwrap().effective(), 10);
        assert_eq!(
            WorkerFactor::parse("2x").unwrap_err().to_string(),
            "error parsing value"
        );
        assert_eq!(
            WorkerFactor::parse("-1").unwrap_err().to_string(),
            "AsyncRequestWorkerFactor argument must be a positive number"
        );
        assert_eq!(
            WorkerFactor::parse("0").unwrap_err(),
            FactorError::NotPositive
        );
    }

    #[test]
    fn rule_24_start_and_min_spare_raised_to_one() {
        let c = check(|d| {
            d.start_servers = Some(0);
            d.min_spare_threads = Some(-2);
        });
        assert_eq!((c.config.start_servers, c.config.min_spare_threads), (1, 1));
        let codes: Vec<_> = c.warnings.iter().map(|w| w.code).collect();
        assert_eq!(codes, ["AH00517", "AH00519"]);
    }

    #[test]
    fn rule_27_max_spare_raised_silently() {
        let c = check(|d| {
            d.min_spare_threads = Some(25);
            d.max_spare_threads = Some(30);
        });
        assert_eq!(c.config.max_spare_threads, 25 + 25 + 1);
        assert!(c.warnings.is_empty());
    }
}
