//! # mpm-event: Apache's event MPM, rebuilt
//!
//! ## The problem it solves: idle keep-alive connections starve threads
//!
//! HTTP/1.1 keeps a connection open after a response so the client can send its next request
//! without a new TCP handshake. In the worker MPM the thread that served the request then
//! waits on that connection for up to `KeepAliveTimeout` (5 s), doing nothing. A browser keeps
//! several connections open and reads a page in seconds, so most of a worker child's threads
//! sit in `K` state, and once every thread of every child waits like that, new clients queue in
//! the kernel's backlog although the machine is idle. Raising the thread count only moves the
//! wall.
//!
//! The event MPM lets a *listener* thread hold every connection that is waiting for something
//! — the next request (keep-alive), the client draining a large response (write completion),
//! the client's FIN (lingering close) — in one epoll set, and gives a connection to a worker
//! thread only while there is work to do. One child with 25 threads then holds hundreds of
//! idle connections. Apache 2.4 still hands a *new* connection to a worker right after accept,
//! and that worker blocks reading the request headers, so slow or partial requests still hold
//! threads (reference run README §3); only the waits between requests are asynchronous.
//!
//! Holding more connections than threads needs a brake: when a burst of kept-alive clients all
//! send a request at once, there may be no worker for them. So a child stops accepting when it
//! holds more connections than `ThreadsPerChild + idle workers × AsyncRequestWorkerFactor`
//! ([`accept_limit`]) or when it finds every worker busy, and the parent's maintenance does not
//! count a non-accepting child's idle threads, so it forks another child. Apache's busy child
//! also closes its keep-alive connections so that their clients reconnect to another child;
//! ours lets their requests wait for its next idle worker instead, because nothing guarantees
//! that another child can take them (a deviation, argued in [`listener`]'s module doc).
//!
//! ## Processes and threads
//!
//! ```text
//! mpm-event (parent, keeps root; never serves)       parent.rs
//! │  tick 1 s: reap → maintenance::decide → fork / GRACEFUL byte on the pipe of death
//! │  signals: TERM/INT stop, WINCH graceful stop, HUP restart, USR1 graceful restart
//! │
//! ├── child, slot 0 (User/Group)                      child.rs
//! │   ├── main thread ── waits on pipe of death + SIGTERM (httpd_core::threaded)
//! │   ├── listener thread ── epoll: listening sockets, eventfd waker,     listener.rs
//! │   │      every parked connection; timeout queues (keep-alive 5 s,     keepalive_queue.rs
//! │   │      write completion 60 s, linger 30 s, short linger 2 s)
//! │   │        │ dispatch (idle worker reserved)      ▲ give_back(KeepAlive | Write | Linger)
//! │   │        ▼                                      │                       handoff.rs
//! │   └── ThreadsPerChild worker threads ── read request, run handler,       worker.rs
//! │          write without blocking (httpd_core::http::Connection, WriteMode::Async)
//! ├── child, slot 1 …
//! └── (at most MaxRequestWorkers/ThreadsPerChild running + stopping ones ≤ ServerLimit)
//! ```
//!
//! ## Our modules and Apache's functions
//!
//! | module | Apache (`server/mpm/event/event.c` unless noted) | what it does |
//! |---|---|---|
//! | [`config`] | `event_pre_config`, `event_check_config`, `set_worker_factor`, `event_run` | defaults, AH00497–AH00520 clamping, AsyncRequestWorkerFactor ×16 |
//! | [`accept_limit`] | `connections_above_limit`, `should_enable_listensocks` | when a child may accept (the formula above, with hysteresis) |
//! | [`handoff`] | `push2worker`, `get_worker`, `process_socket`'s return path | who holds a connection; the numbered hand-off protocol loom checks |
//! | [`keepalive_queue`] | `struct timeout_queue`, `TO_QUEUE_APPEND`, `process_timeout_queue` | FIFO queues with one timeout each |
//! | [`listener`] (+ `listener/accepting.rs`, `listener/parked.rs`) | `listener_thread`, `disable_listensocks`, `close_listeners`, `start_lingering_close_nonblocking` | the epoll loop and timeout queues; accepting under the limit; parked connections: keep-alive, write completion, lingering close |
//! | [`worker`] | `worker_thread`, `worker_thread_should_exit_early` | serve one connection until it would wait, give it back |
//! | [`child`] | `child_main`, `start_threads`, `signal_threads` | one child's threads and its stop |
//! | [`maintenance`] | `perform_idle_server_maintenance` | pure `decide`: fork, stop one, or nothing, with AH00484/AH10159/AH03490/AH00486 |
//! | [`parent`] | `event_run`, `server_main_loop`, `make_child`, `startup_children` | the control process and its signals |
//! | [`sim`] | (none) | the simulator model on `httpd_core::sim` |
//! | `httpd_core::fdqueue` | `server/mpm_fdqueue.c` | queue_info (idle workers) and the fd queue, shared with mpm-worker |
//! | `httpd_core::threaded` | `child_main`'s POD loop, `signal_threads` | the parts event shares with worker |
//!
//! ## What this crate does not do
//!
//! No listener buckets (`ListenCoresBucketsRatio`: one bucket always), no wait-io state
//! (mod_http2 only), no suspended connections (no module suspends), no deferred lingering
//! close to workers (our listener lingers non-blockingly itself), no timer skiplist. HTTP
//! itself lives in `httpd_core::http`.

pub mod accept_limit;
pub mod child;
pub mod config;
pub mod handoff;
pub mod keepalive_queue;
pub mod listener;
pub mod maintenance;
pub mod parent;
pub mod sim;
pub mod worker;

// The hand-off module names its primitives `crate::sync` and the fd queue `super::fdqueue`, so
// that the conformance crate can compile the very same file against loom (STYLE.md).
pub(crate) use httpd_core::fdqueue;
pub(crate) use httpd_core::sync;

use std::process::ExitCode;

use httpd_core::startup::{MpmIdent, Startup, startup};

/// How this binary names itself to the shared start-up code.
pub const IDENT: MpmIdent = MpmIdent {
    name: "event",
    module: "mpm_event",
    binary: "mpm-event",
};

/// The `mpm-event` binary: parse the command line and configuration, then run the parent.
pub fn main() -> ExitCode {
    match startup(&IDENT, parent::console_check, std::env::args_os()) {
        Startup::Exit(code) => code,
        Startup::Run(started) => {
            let code = parent::run(*started);
            // Apache's pool cleanups at exit: stop and reap the piped loggers.
            httpd_core::log::piped::shutdown();
            code
        }
    }
}
