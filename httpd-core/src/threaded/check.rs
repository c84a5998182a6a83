//! Steps 1–7 of `worker_check_config` and `event_check_config`: the same clamping of the pool
//! directives in both threaded MPMs, each with its own AH codes and `MAX_THREAD_LIMIT`.
//!
//! Source: Apache `server/mpm/worker/worker.c: worker_check_config` (AH00300…AH00323) and
//! `server/mpm/event/event.c: event_check_config` (AH00497…AH00520); apache-mpm-rules.md §2.3,
//! rules 20–25, 28. The two C functions are line-for-line copies of each other apart from the
//! codes and the thread limit, so here they are one function and two [`CheckCodes`] tables
//! (`mpm_worker::config`, `mpm_event::config`). What differs afterwards (`worker_run`'s bucket
//! floors, event's AsyncRequestWorkerFactor) stays in the MPM crates.
//!
//! Every check has two texts: a long "WARNING: …" printed to the console at first start, and a
//! short one for the error log on restarts, each with its own AH code ([`CheckWarning`]).

/// The compile-time defaults worker.c and event.c share (`mpm_default.h` and the `#define`s
/// at the top of both files). Only `MAX_THREAD_LIMIT` differs, so each MPM's `defaults`
/// module re-exports these and adds its own.
pub mod defaults {
    /// `DEFAULT_START_DAEMON` for the threaded MPMs.
    pub const START_SERVERS: i64 = 3;
    /// `DEFAULT_THREADS_PER_CHILD`.
    pub const THREADS_PER_CHILD: i64 = 25;
    /// `DEFAULT_MIN_FREE_DAEMON × DEFAULT_THREADS_PER_CHILD` = 3 × 25.
    pub const MIN_SPARE_THREADS: i64 = 75;
    /// `DEFAULT_MAX_FREE_DAEMON × DEFAULT_THREADS_PER_CHILD` = 10 × 25.
    pub const MAX_SPARE_THREADS: i64 = 250;
    /// `DEFAULT_SERVER_LIMIT`.
    pub const SERVER_LIMIT: i64 = 16;
    /// `DEFAULT_THREAD_LIMIT`.
    pub const THREAD_LIMIT: i64 = 64;
    /// `MAX_SERVER_LIMIT`.
    pub const MAX_SERVER_LIMIT: i64 = 20000;
    /// `MAX_SPAWN_RATE`: the most children one maintenance pass forks (all buckets together).
    pub const MAX_SPAWN_RATE: usize = 32;
    /// `*_pre_config`: `max_workers = DEFAULT_SERVER_LIMIT × DEFAULT_THREADS_PER_CHILD`, from
    /// the *defaults*, whatever ThreadsPerChild and ServerLimit say (rules doc §10.8).
    pub const MAX_REQUEST_WORKERS: i64 = SERVER_LIMIT * THREADS_PER_CHILD;
}

/// Start-up code and restart code of one check.
pub type CodePair = (&'static str, &'static str);

/// An MPM's codes for the seven steps, and its compile-time limits.
#[derive(Debug, Clone, Copy)]
pub struct CheckCodes {
    /// `MAX_SERVER_LIMIT`.
    pub max_server_limit: i64,
    /// `MAX_THREAD_LIMIT` (worker 20000, event 100000).
    pub max_thread_limit: i64,
    pub server_limit_high: CodePair,
    pub server_limit_low: CodePair,
    /// ServerLimit changed by a restart (one code for both forms).
    pub server_limit_restart: &'static str,
    pub thread_limit_high: CodePair,
    pub thread_limit_low: CodePair,
    pub thread_limit_restart: &'static str,
    pub threads_per_child_high: CodePair,
    pub threads_per_child_low: CodePair,
    pub max_workers_low: CodePair,
    pub max_workers_not_multiple: CodePair,
    pub max_workers_over_server_limit: CodePair,
    pub start_servers_low: CodePair,
    pub min_spare_low: CodePair,
}

/// The directives as the file (or the MPM's defaults) set them, before any clamping.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Requested {
    pub server_limit: i64,
    pub thread_limit: i64,
    pub threads_per_child: i64,
    pub max_request_workers: i64,
    pub start_servers: i64,
    pub min_spare_threads: i64,
}

/// What steps 1–7 leave.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Clamped {
    pub server_limit: i64,
    pub thread_limit: i64,
    pub threads_per_child: i64,
    /// Apache's `max_workers`: after steps 4–5, *not* lowered by step 6 (rule 28).
    pub max_workers: i64,
    /// `ap_daemons_limit` / `active_daemons_limit`: MaxRequestWorkers / ThreadsPerChild,
    /// capped at ServerLimit.
    pub daemons_limit: i64,
    pub start_servers: i64,
    pub min_spare_threads: i64,
}

/// One message of the check, in both forms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckWarning {
    pub startup_code: &'static str,
    pub restart_code: &'static str,
    /// Console text at first start, without the code.
    pub long: String,
    /// Error-log text on a restart, without the code.
    pub short: String,
}

/// Steps 1–7. `first` is `None` at first start, else the (ServerLimit, ThreadLimit) the
/// parent started with: a restart may not change them (they size the scoreboard, rule 25).
pub fn check_limits(
    req: Requested,
    first: Option<(i64, i64)>,
    codes: &CheckCodes,
) -> (Clamped, Vec<CheckWarning>) {
    let mut w = Vec::new();
    let mut warn = |(startup_code, restart_code): CodePair, long: String, short: String| {
        w.push(CheckWarning {
            startup_code,
            restart_code,
            long,
            short,
        });
    };
    let Requested {
        mut server_limit,
        mut thread_limit,
        threads_per_child: mut tpc,
        max_request_workers: mut max_workers,
        start_servers: mut start,
        min_spare_threads: mut min_spare,
    } = req;

    // Step 1: ServerLimit within [1, MAX_SERVER_LIMIT]; a restart keeps the first value.
    let max = codes.max_server_limit;
    if server_limit > max {
        warn(
            codes.server_limit_high,
            format!(
                "WARNING: ServerLimit of {server_limit} exceeds compile-time limit of {max} servers, decreasing to {max}."
            ),
            format!(
                "ServerLimit of {server_limit} exceeds compile-time limit of {max}, decreasing to match"
            ),
        );
        server_limit = max;
    } else if server_limit < 1 {
        warn(
            codes.server_limit_low,
            format!("WARNING: ServerLimit of {server_limit} not allowed, increasing to 1."),
            format!("ServerLimit of {server_limit} not allowed, increasing to 1"),
        );
        server_limit = 1;
    }
    if let Some((first_server_limit, _)) = first
        && server_limit != first_server_limit
    {
        let text = format!(
            "changing ServerLimit to {server_limit} from original value of {first_server_limit} not allowed during restart"
        );
        let code = codes.server_limit_restart;
        warn((code, code), text.clone(), text);
        server_limit = first_server_limit;
    }

    // Step 2: ThreadLimit within [1, MAX_THREAD_LIMIT]; a restart keeps the first value.
    let tmax = codes.max_thread_limit;
    if thread_limit > tmax {
        warn(
            codes.thread_limit_high,
            format!(
                "WARNING: ThreadLimit of {thread_limit} exceeds compile-time limit of {tmax} threads, decreasing to {tmax}."
            ),
            format!(
                "ThreadLimit of {thread_limit} exceeds compile-time limit of {tmax}, decreasing to match"
            ),
        );
        thread_limit = tmax;
    } else if thread_limit < 1 {
        warn(
            codes.thread_limit_low,
            format!("WARNING: ThreadLimit of {thread_limit} not allowed, increasing to 1."),
            format!("ThreadLimit of {thread_limit} not allowed, increasing to 1"),
        );
        thread_limit = 1;
    }
    if let Some((_, first_thread_limit)) = first
        && thread_limit != first_thread_limit
    {
        let text = format!(
            "changing ThreadLimit to {thread_limit} from original value of {first_thread_limit} not allowed during restart"
        );
        let code = codes.thread_limit_restart;
        warn((code, code), text.clone(), text);
        thread_limit = first_thread_limit;
    }

    // Step 3: ThreadsPerChild within [1, ThreadLimit].
    if tpc > thread_limit {
        warn(
            codes.threads_per_child_high,
            format!(
                "WARNING: ThreadsPerChild of {tpc} exceeds ThreadLimit of {thread_limit} threads, decreasing to {thread_limit}. To increase, please see the ThreadLimit directive."
            ),
            format!(
                "ThreadsPerChild of {tpc} exceeds ThreadLimit of {thread_limit}, decreasing to match"
            ),
        );
        tpc = thread_limit;
    } else if tpc < 1 {
        warn(
            codes.threads_per_child_low,
            format!("WARNING: ThreadsPerChild of {tpc} not allowed, increasing to 1."),
            format!("ThreadsPerChild of {tpc} not allowed, increasing to 1"),
        );
        tpc = 1;
    }

    // Step 4: at least one full child's worth of workers.
    if max_workers < tpc {
        warn(
            codes.max_workers_low,
            format!(
                "WARNING: MaxRequestWorkers of {max_workers} is less than ThreadsPerChild of {tpc}, increasing to {tpc}. MaxRequestWorkers must be at least as large as the number of threads in a single server."
            ),
            format!(
                "MaxRequestWorkers of {max_workers} is less than ThreadsPerChild of {tpc}, increasing to match"
            ),
        );
        max_workers = tpc;
    }

    // ANCHOR: round_max_workers
    // Step 5: whole children only (rule 20).
    let mut daemons_limit = max_workers / tpc;
    if max_workers % tpc != 0 {
        let rounded = daemons_limit * tpc;
        warn(
            codes.max_workers_not_multiple,
            format!(
                "WARNING: MaxRequestWorkers of {max_workers} is not an integer multiple of ThreadsPerChild of {tpc}, decreasing to nearest multiple {rounded}, for a maximum of {daemons_limit} servers."
            ),
            format!(
                "MaxRequestWorkers of {max_workers} is not an integer multiple of ThreadsPerChild of {tpc}, decreasing to nearest multiple {rounded}"
            ),
        );
        max_workers = rounded;
    }

    // Step 6: no more children than ServerLimit. Apache lowers the process limit only, NOT
    // max_workers, although the message says "decreasing to": maintenance keeps comparing with
    // the configured value, so a saturated server never logs "reached MaxRequestWorkers" and
    // repeats "scoreboard is full" instead (rule 28, reproduced on purpose).
    if daemons_limit > server_limit {
        let lowered = server_limit * tpc;
        warn(
            codes.max_workers_over_server_limit,
            format!(
                "WARNING: MaxRequestWorkers of {max_workers} would require {daemons_limit} servers and would exceed ServerLimit of {server_limit}, decreasing to {lowered}. To increase, please see the ServerLimit directive."
            ),
            format!(
                "MaxRequestWorkers of {max_workers} would require {daemons_limit} servers and exceed ServerLimit of {server_limit}, decreasing to {lowered}"
            ),
        );
        daemons_limit = server_limit;
    }
    // ANCHOR_END: round_max_workers

    // Step 7: StartServers and MinSpareThreads at least 1 (rule 24).
    if start < 1 {
        warn(
            codes.start_servers_low,
            format!("WARNING: StartServers of {start} not allowed, increasing to 1."),
            format!("StartServers of {start} not allowed, increasing to 1"),
        );
        start = 1;
    }
    if min_spare < 1 {
        warn(
            codes.min_spare_low,
            format!(
                "WARNING: MinSpareThreads of {min_spare} not allowed, increasing to 1 to avoid almost certain server failure. Please read the documentation."
            ),
            format!("MinSpareThreads of {min_spare} not allowed, increasing to 1"),
        );
        min_spare = 1;
    }

    let clamped = Clamped {
        server_limit,
        thread_limit,
        threads_per_child: tpc,
        max_workers,
        daemons_limit,
        start_servers: start,
        min_spare_threads: min_spare,
    };
    (clamped, w)
}
