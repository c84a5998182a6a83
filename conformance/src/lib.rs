//! # conformance: the harness behind the suite and `mpm-lab`
//!
//! The tests in `tests/conformance/` and the `mpm-lab` command line both drive *real* servers
//! over TCP and watch them from outside, the way an administrator watches Apache: the
//! `/server-status?auto` page, `/proc`, the error log and the access log. Nothing here reaches
//! into a server's memory.
//!
//! ```text
//!  test / mpm-lab ──spawn (own process group)──▶ conf-prefork -f DIR/httpd.conf
//!        │                                           ├── child ┐
//!        │◀── "listening on 127.0.0.1:PORT" ─ DIR/error_log     ├── serve TCP on PORT
//!        │── GET /server-status?auto ──────────────────────────▶ │
//!        │── /proc/PID/{stat,status,task,smaps_rollup} ─────────▶ (children, threads, RSS, uid)
//!        └── Drop: SIGTERM, then SIGKILL, to the process group; reap
//! ```
//!
//! | module | what it does |
//! |---|---|
//! | [`server`] | [`ServerTest`] builder (fixture config → per-test dir → started binary) and the running [`Server`] |
//! | [`http`] | a tiny, strict HTTP/1.1 client: raw bytes in, parsed [`http::Response`] out |
//! | [`status`] | `?auto` parsed into [`StatusAuto`] (keys in order, scoreboard, counts) |
//! | [`procfs`] | children of a pid, threads, RSS/PSS, uid/gid, read from `/proc` |
//! | [`load`] | held partial requests, idle keep-alive connections, bursts, and phased load like `load.py` |
//! | [`wait`] | [`wait_until`]: poll a condition with a deadline (never a bare sleep) |
//! | [`errorlog`] | Apache error-log lines: timestamp, module, level, message |
//! | [`timeline`] | the 200 ms sampler and its CSV (the columns of the reference `timeline.py`) |
//! | [`summary`] | the text summary of a timeline (growth and reaping runs, phases, log lines) |
//! | [`plot`] | SVG plots of timelines (plotters) |
//! | [`phases`] | `--phases 0:5,40:10,…` |
//! | [`lab`] | `mpm-lab run`, `compare` |
//! | [`simulate`] | `mpm-lab simulate`: the MPMs' simulators as a run's timeline |
//! | [`nginx`] | nginx started from a generated config, for `mpm-lab bench --nginx` |
//! | [`bench`](mod@bench) | a small threaded HTTP benchmark client (requests/s, p50, p99), server CPU per request, idle memory and idle keep-alive capacity |
//! | [`apache`] | real Apache started through the reference `apache.sh`, for `mpm-lab bench --apache` |
//! | [`differential`] | `mpm-lab diff`: Apache as the oracle, a request generator, external corpora, shrinking, the regression file |
//! | [`rules`] | the rule table: §11 rules × MPM → tests, deviations |
//! | [`top`] | `mpm-lab top`: the live terminal UI (scoreboard, /proc, timeline, log; load from the keyboard), replay and simulator |
//!
//! What this crate does not do: judge. Tests assert; this crate only observes and drives.

pub mod apache;
pub mod bench;
pub mod differential;
pub mod errorlog;
pub mod http;
pub mod i18n;
pub mod kit;
pub mod lab;
pub mod load;
pub mod nginx;
pub mod phases;
pub mod plot;
pub mod procfs;
pub mod rules;
pub mod server;
pub mod simulate;
pub mod slowloris;
pub mod status;
pub mod summary;
pub mod timeline;
pub mod top;
pub mod turnover;
pub mod wait;

pub use server::{Mpm, Server, ServerTest, StartError, stop_servers_on_quit_signals};
pub use status::StatusAuto;
pub use wait::{try_wait_until, wait_until};

/// The conformance crate's own directory (fixtures, reference data, DEVIATIONS.md live here).
pub fn crate_dir() -> &'static std::path::Path {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The workspace root (the parent of the conformance crate).
pub fn workspace_dir() -> std::path::PathBuf {
    crate_dir()
        .parent()
        .map(|p| p.to_path_buf())
        .unwrap_or_else(|| crate_dir().to_path_buf())
}

/// Generate, for one test function `f(mpm: Mpm)`, a module `f` with three `#[test]`s:
/// `f::prefork`, `f::worker`, `f::event`. The rule table counts such a test for all three MPMs.
///
/// ```ignore
/// fn rule_62_http11_without_host_gets_400(mpm: Mpm) { /* … */ }
/// for_each_mpm!(rule_62_http11_without_host_gets_400);
/// ```
#[macro_export]
macro_rules! for_each_mpm {
    ($f:ident) => {
        mod $f {
            #[test]
            fn prefork() {
                super::$f($crate::Mpm::Prefork)
            }
            #[test]
            fn worker() {
                super::$f($crate::Mpm::Worker)
            }
            #[test]
            fn event() {
                super::$f($crate::Mpm::Event)
            }
        }
    };
}
