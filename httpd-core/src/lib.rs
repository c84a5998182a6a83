//! # httpd-core: what every MPM inherits from Apache's core
//!
//! Apache httpd splits a server into the *core* (configuration, the HTTP protocol, logs, the
//! scoreboard, mod_status, listeners) and one *multi-processing module* that decides how
//! processes and threads serve connections. This crate is the core; `mpm-prefork`,
//! `mpm-worker` and `mpm-event` each hold only the logic of their MPM.
//!
//! | module | Apache counterpart | what it does |
//! |---|---|---|
//! | [`config`] | `server/config.c`, `server/core.c`, `mpm_common.c` | httpd.conf syntax, the directive table, [`config::ServerConfig`] |
//! | [`cli`], [`startup`] | `server/main.c`, `mpm_unix.c: ap_signal_server` | the shared command line (`-f -d -C -c -D -e -E -t -T -S -M -l -v -V -X -k`) |
//! | [`dump`] | `vhost.c`, `core.c: core_dump_config`, `mod_so.c`, `config.c: ap_show_modules` | what `-S`, `-M`, `-l` print |
//! | [`log`] | `server/log.c`, `mod_log_config.c` | error log (Apache's line format, LogLevel, ErrorLogFormat), access log (LogFormat, BufferedLogs), piped loggers |
//! | [`http`] | `protocol.c`, `http_core.c`, `core.c: default_handler`, `connection.c` | HTTP/1.1 requests, static files, keep-alive, lingering close |
//! | [`scoreboard`] | `include/scoreboard.h`, `server/scoreboard.c` | the shared-memory table of process and worker slots |
//! | [`status`] | `modules/generators/mod_status.c` | `/server-status`, HTML and `?auto` |
//! | [`listen`] | `server/listen.c` | listening sockets, kept open across restarts |
//! | [`pod`] | `server/mpm_unix.c: ap_mpm_pod_*`, `ap_mpm_podx_*` | the pipe of death |
//! | [`service`] | `main.c` first-pass `open_logs`, the MPMs' `pre_config` detach, `apr_proc_detach` | listeners and error log on the terminal, then detach for `-k start` |
//! | [`signals`] | `os/unix/unixd.c: ap_unixd_mpm_set_signals` | the control process's signals |
//! | [`unixd`] | `modules/arch/unix/mod_unixd.c` | dropping root in children |
//! | [`reclaim`] | `mpm_unix.c: ap_reclaim_child_processes` | the TERM/KILL schedule for children that do not exit |
//! | [`modules`] | `modules/filters/mod_reqtimeout.c` | optional modules, on with `LoadModule` (mod_reqtimeout) |
//! | [`mpm_common`] | `server/mpm_common.c: ap_wait_or_timeout` | one turn of the parent's loop: reap, signal or quiet second (rule 10) |
//! | [`pidfile`] | `server/log.c: ap_log_pid`, `ap_remove_pid` | the PidFile |
//! | [`child_status`] | `mpm_unix.c: ap_process_child_status` | what a child's exit code means |
//! | [`fdqueue`] | `server/mpm_fdqueue.c` | queue_info and the fd queue shared by worker and event |
//! | [`threaded`] | shared parts of `worker.c` / `event.c` | the child's main thread on the POD, thread start-up |
//! | [`sim`] | (none) | virtual clock and load phases for the MPM simulators |
//!
//! What this crate does not do: decide how many processes or threads exist. That is the MPM's job.

pub mod child_status;
pub mod cli;
pub mod config;
pub mod dump;
pub mod fdqueue;
pub mod http;
pub mod listen;
pub mod log;
pub mod modules;
pub mod mpm_common;
pub mod pidfile;
pub mod pod;
pub mod reclaim;
pub mod scoreboard;
pub mod service;
pub mod signals;
pub mod sim;
pub mod startup;
pub mod status;
pub mod sync;
pub mod threaded;
pub mod unixd;

#[cfg(test)]
mod fdqueue_tests;

/// What we call ourselves in the `Server:` header, in `?auto` and in AH00163.
pub const SERVER_VERSION: &str = concat!("mpm-lab/", env!("CARGO_PKG_VERSION"), " (Unix)");

/// The "Server built:" string (AH00164/AH00293/AH00490 and the status page).
pub const SERVER_BUILT: &str = env!("MPM_LAB_BUILT");
