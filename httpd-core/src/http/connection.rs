//! One client connection: read a request, handle it, answer, decide keep-alive
//! (`server/protocol.c: ap_read_request`, `modules/http/http_core.c:
//! ap_process_http_sync_connection` / `ap_process_http_async_connection`,
//! `server/connection.c: ap_lingering_close`).
//!
//! A request goes through these steps; the scoreboard slot shows where it is:
//! 1. `R`: read the request line (Timeout per read; up to 10 empty lines skipped). Silence or
//!    EOF before a complete line ends the connection without a response; a timeout on the
//!    connection's *first* request is still logged as `"-" 408 -` (rule 68).
//! 2. `R`: parse it, read the header lines, check them. A refusal is answered with Apache's
//!    error page and the connection is closed (its input is unusable); a timeout in the
//!    headers gets a 408 page (rule 68).
//! 3. `W`: run the handler inside `catch_unwind`; a panic becomes a 500 and an error-log line.
//! 4. `W`: consume what is left of the request body (or condemn the connection), decide
//!    keep-alive (`ap_set_keepalive`), write the response (blocking, or as far as the socket
//!    takes it in [`WriteMode::Async`]).
//! 5. `L`: access log, scoreboard counters.

use std::net::{Shutdown, SocketAddr, TcpStream};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::{Duration, Instant, SystemTime};

use super::body::{BodyReader, RequestBody};
use super::error_pages::{DEFAULT_ADMIN, PageContext};
use super::handler::{BodyAccess, Exchange, handle};
use super::input::Input;
use super::read::{ReadOutcome, read_request};
use super::request::{Request, Version};
use super::response::{
    Chunk, KeepAliveInput, Last, OutQueue, Response, client_asks_to_close, set_keepalive,
    status_drops_connection, status_is_header_only, write_head,
};
use super::{ConnCtx, WorkerStatus, set_status};
use crate::log::{AccessEntry, ConnFacts, Level};
use crate::modules::reqtimeout::StageKind;

/// `SECONDS_TO_LINGER`: the short lingering close after a mod_reqtimeout timeout.
const SECONDS_TO_LINGER: Duration = Duration::from_secs(2);

/// How [`Connection::process`] writes the response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteMode {
    /// Write everything before returning (prefork, worker; event when it must).
    Blocking,
    /// Write what the socket takes now; the rest waits for [`Connection::write_pending`].
    Async,
}

/// Where a connection stands after [`Connection::process`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnState {
    /// Idle between requests: wait (KeepAliveTimeout) for the next one.
    KeepAlive,
    /// Part of the response is still queued: call `write_pending` when writable.
    WriteCompletion,
    /// Done: close it with [`Connection::lingering_close`].
    Linger,
}

/// A client connection that can be parked between requests.
pub struct Connection {
    stream: TcpStream,
    peer: SocketAddr,
    local: SocketAddr,
    input: Input,
    out: OutQueue,
    /// `c->keepalives`: responses that kept the connection open.
    keepalives: u32,
    /// `input.consumed` when the current request began (`%I`).
    consumed_before: u64,
    /// Requests answered (including refused ones).
    requests: u32,
    /// What the connection becomes once `out` is empty.
    after_write: ConnState,
    /// The last response answered a client that asked to close (`Connection: close`, or
    /// HTTP/1.0 without `keep-alive`) and whose request was read to its end.
    client_closes: bool,
    /// Socket options as last set.
    opts: SockOpts,
    /// mod_reqtimeout cut a read: linger 2 s at most (`short-lingering-close`).
    short_linger: bool,
    /// `c->log_id` and the current request's `r->log_id`: given on the first error line
    /// (`%L` in ErrorLogFormat and LogFormat); the request's is emptied per request.
    conn_log_id: std::cell::OnceCell<String>,
    req_log_id: std::cell::OnceCell<String>,
}

/// The socket options as last set, so that a keep-alive connection does not repeat the same
/// `ioctl`/`setsockopt` for every request: each is a system call, and for a small response
/// they were a quarter of the calls a request made.
#[derive(Debug, Default)]
struct SockOpts {
    nonblocking: Option<bool>,
    // The read timeout as last set lives in `Input`, which sets it too (mod_reqtimeout).
    write_timeout: Option<Duration>,
}

impl Connection {
    pub fn new(stream: TcpStream, peer: SocketAddr) -> Connection {
        // Like ap_sock_disable_nagle: responses leave as soon as they are written.
        let _ = stream.set_nodelay(true);
        let local = stream.local_addr().unwrap_or(peer);
        Connection {
            stream,
            peer,
            local,
            input: Input::default(),
            out: OutQueue::default(),
            keepalives: 0,
            conn_log_id: std::cell::OnceCell::new(),
            req_log_id: std::cell::OnceCell::new(),
            consumed_before: 0,
            requests: 0,
            after_write: ConnState::Linger,
            client_closes: false,
            // As accept(2) returns it: blocking, no timeouts.
            opts: SockOpts {
                nonblocking: Some(false),
                ..SockOpts::default()
            },
            short_linger: false,
        }
    }

    /// Switch the socket between blocking and non-blocking (a system call only on a change).
    pub fn set_nonblocking(&mut self, on: bool) {
        if self.opts.nonblocking != Some(on) {
            self.opts.nonblocking = self.stream.set_nonblocking(on).ok().map(|()| on);
        }
    }

    fn set_read_timeout(&mut self, t: Duration) {
        self.input.set_read_timeout(&self.stream, t);
    }

    fn set_write_timeout(&mut self, t: Duration) {
        if self.opts.write_timeout != Some(t) {
            self.opts.write_timeout = self.stream.set_write_timeout(Some(t)).ok().map(|()| t);
        }
    }

    /// Give idle buffers back (the event MPM, when it parks the connection).
    pub fn release_buffers(&mut self) {
        self.input.release();
        if self.out.is_empty() {
            self.out = OutQueue::default();
        }
    }

    pub fn stream(&self) -> &TcpStream {
        &self.stream
    }

    /// Bytes of a next (pipelined) request are already buffered.
    pub fn has_pending_input(&self) -> bool {
        self.input.has_data()
    }

    /// mod_reqtimeout cut a read: linger at most `SECONDS_TO_LINGER` (2 s), Apache's
    /// `short-lingering-close` connection note (the event MPM uses its short linger queue).
    pub fn short_lingering_close(&self) -> bool {
        self.short_linger
    }

    pub fn requests_served(&self) -> u32 {
        self.requests
    }

    /// What the connection becomes once a `WriteCompletion` has been fully written:
    /// `KeepAlive` or `Linger` (our addition to the contract, for the event MPM).
    pub fn after_write(&self) -> ConnState {
        self.after_write
    }

    /// Serve requests: one, plus any that were pipelined behind it. Returns when the
    /// connection must wait for input, for writability, or be closed.
    pub fn process(&mut self, ctx: &ConnCtx<'_>, mode: WriteMode) -> ConnState {
        loop {
            // Reads block (bounded by Timeout) for every request, also a pipelined one after
            // an `Async` write left the socket non-blocking: a partial next request must be
            // waited for, not taken for a dead connection (found by mpm-lab diff).
            self.set_nonblocking(false);
            // Handler panics are answered with a 500 inside; a panic anywhere else in the
            // request path still must not take the worker thread down: close the connection.
            let state = match catch_unwind(AssertUnwindSafe(|| self.one_request(ctx, mode))) {
                Ok(state) => state,
                Err(_) => {
                    ctx.server.inner.error_log.log_client(
                        "core",
                        Level::Error,
                        self.peer,
                        format_args!("request processing panicked; closing the connection"),
                    );
                    self.out = OutQueue::default();
                    return ConnState::Linger;
                }
            };
            if state != ConnState::KeepAlive || !self.input.has_data() || (ctx.stopping)() {
                return state;
            }
        }
    }

    /// Write queued output without blocking; `Ok(true)` when all of it is out.
    pub fn write_pending(&mut self) -> std::io::Result<bool> {
        self.set_nonblocking(true);
        self.out.write_to(&self.stream, Last::Open)
    }

    /// Nothing more can come from the client: it asked to close, its request was read to the
    /// end, everything we owed it is written, and no byte is waiting, neither in our buffer nor
    /// in the socket (a non-blocking peek). RFC 9112 §9.6: a client that sent `close` MUST NOT
    /// send further requests. Then there is nothing to drain before closing, and no later byte
    /// of the client's can turn our FIN into a RST that would destroy the response in flight.
    pub fn client_is_done(&self) -> bool {
        use nix::sys::socket::{MsgFlags, recv};
        use std::os::fd::AsRawFd;
        if !self.client_closes || !self.out.is_empty() || self.input.has_data() {
            return false;
        }
        let mut byte = [0u8; 1];
        let flags = MsgFlags::MSG_PEEK | MsgFlags::MSG_DONTWAIT;
        // Ok(0): the client has closed already; an error: the socket is gone. Either way
        // there is nothing to drain.
        !matches!(recv(self.stream.as_raw_fd(), &mut byte, flags), Ok(n) if n > 0)
    }

    /// `ap_lingering_close`: flush, shut down our side, then read and drop what the client
    /// still sends, 2 s per read and at most `max` in total, so our FIN is not turned into a
    /// RST that would destroy the response in flight.
    pub fn lingering_close(mut self, max: Duration) {
        self.set_nonblocking(false);
        self.input.deadline.disarm();
        let max = if self.short_linger {
            max.min(SECONDS_TO_LINGER)
        } else {
            max
        };
        if !self.out.is_empty() {
            self.set_write_timeout(max.max(Duration::from_millis(1)));
            let _ = self.out.write_to(&self.stream, Last::ThenShutdown);
        }
        if self.stream.shutdown(Shutdown::Write).is_err() {
            return;
        }
        let deadline = Instant::now() + max;
        self.set_read_timeout(Duration::from_secs(2));
        self.input.clear();
        while Instant::now() < deadline {
            match self.input.fill(&self.stream) {
                Ok(_) => self.input.clear(),
                Err(_) => break,
            }
        }
    }

    fn timeout(ctx: &ConnCtx<'_>) -> Duration {
        ctx.server
            .inner
            .config
            .timeout
            .max(Duration::from_millis(1))
    }

    /// Enter a read stage (`reqtimeout_before_header`, `reqtimeout_before_body`): with
    /// mod_reqtimeout on for `kind`, its deadline governs the reads (and sets the socket's
    /// timeout per read); otherwise each read waits `Timeout`.
    ///
    /// Whose stages (reqtimeout.rs steps 5–7): the server chosen by the local address for the
    /// connection and its header stage, `vhost` (chosen by `Host`) for the body stage.
    fn enter_read_stage(&mut self, ctx: &ConnCtx<'_>, kind: StageKind, vhost: Option<usize>) {
        let cfg = &ctx.server.inner.config;
        let of = |v: Option<usize>| match v {
            Some(i) => cfg.vhosts[i].request_read_timeout,
            None => cfg.request_read_timeout,
        };
        // `c->base_server`: no vhosts, no search.
        let base = of(crate::config::vhost::select(&cfg.vhosts, self.local, None));
        let rt = match kind {
            StageKind::Body => base.and(of(vhost)),
            StageKind::Header | StageKind::Handshake => base,
        };
        let stage = rt.map(|rt| rt.stage(kind)).filter(|s| s.timeout > 0);
        match stage {
            Some(stage) => self.input.deadline.arm(kind, stage, Self::timeout(ctx)),
            None => {
                self.input.deadline.disarm();
                self.set_read_timeout(Self::timeout(ctx));
            }
        }
    }

    /// mod_reqtimeout step 4: a stage's deadline cut a read. `true` when it did: the
    /// connection must close, lingering only briefly.
    fn read_deadline_expired(&mut self, ctx: &ConnCtx<'_>) -> bool {
        let Some(kind) = self.input.take_timed_out() else {
            return false;
        };
        let elog = &ctx.server.inner.error_log;
        if elog.enabled("reqtimeout", Level::Info) {
            elog.log_request(
                "reqtimeout",
                Level::Info,
                self.peer,
                &self.conn_facts(),
                format_args!("AH01382: Request {kind} read timeout"),
            );
        }
        self.short_linger = true;
        true
    }

    /// What a connection-level error line may print (`ap_log_cerror`: `%A`, `%k`, `%{c}L`).
    fn conn_facts(&self) -> crate::log::errorlog_format::RequestFacts<'_> {
        crate::log::errorlog_format::RequestFacts {
            local: Some(self.local),
            keepalives: Some(self.keepalives),
            conn_log_id: Some(&self.conn_log_id),
            ..Default::default()
        }
    }

    fn log_error(&self, ctx: &ConnCtx<'_>, log: &Option<(Level, String)>) {
        if let Some((level, msg)) = log {
            let elog = &ctx.server.inner.error_log;
            if elog.enabled("core", *level) {
                // Apache logs a request it could not read with `ap_log_rerror`: the request
                // exists (and gets its log id) even though its header is broken.
                let facts = crate::log::errorlog_format::RequestFacts {
                    log_id: Some(&self.req_log_id),
                    ..self.conn_facts()
                };
                elog.log_request("core", *level, self.peer, &facts, format_args!("{msg}"));
            }
        }
    }

    /// Steps 1–5 for one request.
    fn one_request(&mut self, ctx: &ConnCtx<'_>, mode: WriteMode) -> ConnState {
        self.consumed_before = self.input.consumed;
        self.req_log_id.take();
        set_status(ctx, WorkerStatus::BusyRead);
        self.enter_read_stage(ctx, StageKind::Header, None);
        let outcome = read_request(
            &mut self.input,
            &self.stream,
            &ctx.server.inner.config,
            self.requests == 0,
        );
        // A read the deadline cut ends below as Silent or as a 408 page: both close.
        self.read_deadline_expired(ctx);
        let cfg = &ctx.server.inner.config;
        match outcome {
            ReadOutcome::Silent { log_408, time } => {
                if log_408 {
                    set_status(ctx, WorkerStatus::BusyLog);
                    self.access_log(ctx, time, "-", (408, None), 0, None);
                }
                ConnState::Linger
            }
            ReadOutcome::Refused {
                rejection,
                the_request,
                method,
                time,
                expect,
            } => {
                self.input.clear();
                self.begin(ctx, &the_request, "HTTP/1.0");
                self.log_error(ctx, &rejection.log);
                let cx = PageContext {
                    method: &method,
                    location: None,
                    notes: rejection.notes,
                    expect: expect.as_deref(),
                    admin: cfg.server_admin.as_deref().unwrap_or(DEFAULT_ADMIN),
                    signature: "",
                };
                let mut resp = Response::error(rejection.status, &cx);
                resp.close = true;
                // Apache knows the method of a refused line (`r->header_only` for HEAD): the
                // error page of a HEAD has no body and no length.
                resp.for_head = method == "HEAD";
                self.respond(ctx, mode, resp, None, time, &the_request)
            }
            ReadOutcome::Request(req) => {
                let protocol = match req.line.version {
                    Version::Http09 => "HTTP/0.9".to_string(),
                    Version::Http(a, b) => format!("HTTP/{a}.{b}"),
                };
                self.begin(ctx, &req.the_request, &protocol);
                set_status(ctx, WorkerStatus::BusyWrite);
                let mut resp = self.run_handler(ctx, &req);
                resp.for_head = req.is_head();
                let time = req.time;
                let the_req = req.the_request.clone();
                self.respond(ctx, mode, resp, Some(&req), time, &the_req)
            }
        }
    }

    /// The scoreboard's per-request fields; vhost is "ServerName:local port" as
    /// `ap_update_child_status` writes it (the local address when there is no ServerName).
    fn begin(&self, ctx: &ConnCtx<'_>, the_request: &str, protocol: &str) {
        if let Some(slot) = ctx.slot {
            let cfg = &ctx.server.inner.config;
            let name = match cfg.server_name.as_deref() {
                Some(n) => n.split(':').next().unwrap_or(n).to_string(),
                None => self.local.ip().to_string(),
            };
            let vhost = format!("{name}:{}", self.local.port());
            slot.begin_request(&self.peer.ip().to_string(), the_request, &vhost, protocol);
        }
    }

    /// Step 3 (and the body part of step 4): the handler, with panics turned into a 500.
    fn run_handler(&mut self, ctx: &ConnCtx<'_>, req: &Request) -> Response {
        let cfg = &ctx.server.inner.config;
        // `r->server`, as `handle` will choose it.
        let vhost =
            crate::config::vhost::select(&cfg.vhosts, self.local, req.checks.hostname.as_deref());
        self.enter_read_stage(ctx, StageKind::Body, vhost);
        let reader = BodyReader::new(
            req.checks.framing,
            cfg.limit_request_body,
            cfg.limit_request_field_size,
        );
        let mut body = RequestBody {
            reader,
            input: &mut self.input,
            stream: &self.stream,
            expecting_100: req.checks.expecting_100,
            http11: req.line.version.is_1_1_or_later(),
            connection_closes: req.checks.force_close,
            consumed: false,
            failed: false,
        };
        let mut x = Exchange {
            server: ctx.server,
            req,
            peer: self.peer,
            local: self.local,
            body: &mut body,
            vhost: None,
            log_ids: super::handler::LogIds {
                conn: &self.conn_log_id,
                req: &self.req_log_id,
                keepalives: self.keepalives,
            },
            log_env: None,
            request_headers_done: false,
        };
        let result = catch_unwind(AssertUnwindSafe(|| handle(&mut x)));
        let mut resp = match result {
            Ok(r) => r,
            Err(panic) => {
                let what = panic
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "unknown panic".into());
                let elog = &ctx.server.inner.error_log;
                elog.log_client(
                    "core",
                    Level::Error,
                    self.peer,
                    format_args!(
                        "handler panicked serving {}: {what}; answering 500",
                        req.the_request
                    ),
                );
                let cx = PageContext {
                    method: &req.line.method,
                    admin: cfg.server_admin.as_deref().unwrap_or(DEFAULT_ADMIN),
                    ..Default::default()
                };
                let mut r = Response::error(500, &cx);
                r.close = true;
                r
            }
        };
        // Step 4: a body nobody read must not be taken for the next request. With an unsent
        // `100 Continue` or a connection-dropping status the body is never read and the
        // connection closes (Apache: `ap_discard_request_body`); an `Expect: 100-continue`
        // that never got its 100 closes it in any case (`ap_set_keepalive`). Otherwise it is
        // read now, as `ap_finalize_request_protocol` does: an error page is still buffered
        // then, so a malformed body turns it into the body's own error (a 301 becomes a 400),
        // sent as `ap_die` sends a second error: the canned page, "Additionally, a 301 Moved
        // Permanently error was encountered …", no Content-Length (the error bucket's path).
        let mut body_log = None;
        if !body.consumed && body.has_body() {
            if body.expecting_100 || status_drops_connection(resp.status) {
                resp.close = true;
            } else if let Err(e) = body.discard() {
                if resp.error_page {
                    body_log = e.log;
                    let cx = PageContext {
                        method: &req.line.method,
                        expect: req.headers.get("Expect"),
                        admin: cfg.server_admin.as_deref().unwrap_or(DEFAULT_ADMIN),
                        ..Default::default()
                    };
                    let first = resp.status;
                    resp = Response::error(e.status, &cx);
                    super::error_document::additionally(&mut resp, first);
                    resp.close_delimited = true;
                }
                resp.close = true;
            }
        }
        if body.expecting_100 || body.failed || req.checks.force_close {
            resp.close = true;
        }
        if self.read_deadline_expired(ctx) {
            resp.close = true;
        }
        self.log_error(ctx, &body_log);
        resp
    }

    /// Step 4 and 5: keep-alive decision, head, body, log.
    fn respond(
        &mut self,
        ctx: &ConnCtx<'_>,
        mode: WriteMode,
        mut resp: Response,
        req: Option<&Request>,
        time: SystemTime,
        the_request: &str,
    ) -> ConnState {
        let cfg = &ctx.server.inner.config;
        self.requests += 1;
        let http09 = req.is_some_and(|r| r.line.version == Version::Http09);
        // `ap_set_keepalive` chooses chunking only for a connection not already condemned
        // (`c->keepalive != AP_CONN_CLOSE`, no unanswered `100-continue`): otherwise a body of
        // unknown length is ended by the close.
        if resp.chunked && resp.close {
            resp.chunked = false;
            resp.close_delimited = true;
        }
        let head = resp.for_head;
        let head_only = head || status_is_header_only(resp.status);
        // streamed.rs step 5: an nph- script's bytes go out as they are, and end the connection.
        let raw = resp.stream.as_ref().is_some_and(|s| s.raw);
        if raw {
            resp.close = true;
        }
        let ka = set_keepalive(&KeepAliveInput {
            must_close: resp.close || http09,
            status: resp.status,
            http11: req.is_some_and(|r| r.line.version.is_1_1_or_later()),
            connection: req.and_then(|r| r.headers.get("Connection")),
            length_known: !resp.close_delimited,
            enabled: cfg.keep_alive,
            timeout: cfg.keep_alive_timeout,
            max: cfg.max_keep_alive_requests,
            keepalives: self.keepalives,
            stopping: (ctx.stopping)(),
        });
        if ka.keep {
            self.keepalives += 1;
        }
        let keep = ka.keep && !resp.end_connection;
        // `resp.close` means we may have left part of the request unread (or failed): the
        // client may still be sending, so only a clean request counts.
        self.client_closes = !keep
            && !resp.close
            && req.is_some_and(|r| {
                client_asks_to_close(
                    r.headers.get("Connection"),
                    r.line.version.is_1_1_or_later(),
                )
            });
        // %O (mod_logio): every byte of this response handed to the network.
        let mut bytes_out = 0u64;
        if !http09 && !raw {
            let mut bytes = Vec::with_capacity(512);
            write_head(
                &mut bytes,
                &resp,
                &ka,
                SystemTime::now(),
                head,
                &ctx.server.inner.banner,
            );
            bytes_out += bytes.len() as u64;
            self.out.push(Chunk::Bytes(bytes));
        }
        // %{Name}o: only built when a log format asks for it.
        let response_headers: Vec<(String, String)> = if ctx
            .server
            .access_log_for(resp.vhost)
            .wants_response_headers()
        {
            resp.logged_headers()
        } else {
            Vec::new()
        };
        let mut bytes_sent = 0;
        // A streamed body's last chunk is written by the pump, once the source has ended.
        let ends_here = resp.stream.is_none();
        if !head_only || raw {
            bytes_sent = resp.body_len();
            bytes_out += bytes_sent;
            let chunked = resp.chunked && bytes_sent > 0;
            if chunked && resp.chunk_pieces {
                // One HTTP chunk per body piece (mod_deflate's passes), the last one closed
                // by the terminator below.
                let n = resp.body.len();
                for (i, c) in std::mem::take(&mut resp.body).into_iter().enumerate() {
                    let size = format!("{:x}\r\n", c.len());
                    bytes_out += size.len() as u64 + if i + 1 < n { 2 } else { 0 };
                    self.out.push(Chunk::Bytes(size.into_bytes()));
                    self.out.push(c);
                    if i + 1 < n {
                        self.out.push(Chunk::Bytes(b"\r\n".to_vec()));
                    }
                }
            } else if chunked {
                let size = format!("{bytes_sent:x}\r\n");
                bytes_out += size.len() as u64 + 2;
                self.out.push(Chunk::Bytes(size.into_bytes()));
            }
            for c in std::mem::take(&mut resp.body) {
                self.out.push(c);
            }
            if chunked {
                self.out.push(Chunk::Bytes(b"\r\n".to_vec()));
            }
            if resp.chunked && ends_here {
                bytes_out += 5;
                self.out.push(Chunk::Bytes(b"0\r\n\r\n".to_vec()));
            }
        }
        if raw {
            // Apache's nph- response never passes the content-length filter: `%b` is `-`.
            bytes_sent = 0;
        }
        self.after_write = if keep {
            ConnState::KeepAlive
        } else {
            ConnState::Linger
        };
        // %X: `c->aborted` when the blocking write failed.
        let mut aborted = false;
        let state = match (mode, resp.stream.as_mut()) {
            // streamed.rs steps 3–5, in this worker, with blocking writes (as Apache's handler
            // writes through the filters while the script runs). A HEAD or a bodiless status
            // never reaches here with a source: the handler has read it to its end.
            (_, Some(stream)) => {
                self.set_nonblocking(false);
                self.set_write_timeout(Self::timeout(ctx));
                let p = super::streamed::pump(&mut self.out, &self.stream, stream, resp.chunked);
                bytes_out += p.wire;
                if !raw {
                    bytes_sent += p.body;
                }
                aborted = p.aborted;
                if p.complete && !p.aborted {
                    self.after_write
                } else {
                    self.out = OutQueue::default();
                    self.after_write = ConnState::Linger;
                    self.client_closes = false;
                    ConnState::Linger
                }
            }
            (mode, None) => match mode {
                WriteMode::Blocking => {
                    self.set_write_timeout(Self::timeout(ctx));
                    // Blocking mode's caller shuts down right after a Linger answer.
                    let last = if keep { Last::Open } else { Last::ThenShutdown };
                    match self.out.write_to(&self.stream, last) {
                        Ok(true) => self.after_write,
                        // Ok(false) on a blocking socket: the send timeout (Timeout) expired.
                        Ok(false) | Err(_) => {
                            self.out = OutQueue::default();
                            aborted = true;
                            ConnState::Linger
                        }
                    }
                }
                WriteMode::Async => {
                    self.set_nonblocking(true);
                    match self.out.write_to(&self.stream, Last::Open) {
                        Ok(true) => self.after_write,
                        Ok(false) => ConnState::WriteCompletion,
                        Err(_) => {
                            self.out = OutQueue::default();
                            ConnState::Linger
                        }
                    }
                }
            },
        };
        // The script ends here if it has not (the source's drop), before the log line.
        drop(resp.stream.take());
        // The EOR filter: no read deadline between requests.
        self.input.deadline.disarm();
        set_status(ctx, WorkerStatus::BusyLog);
        let conn = ConnFacts {
            local: Some(self.local),
            remote_port: self.peer.port(),
            bytes_in: self.input.consumed - self.consumed_before,
            bytes_out,
            keepalives: self.keepalives.saturating_sub(1),
            status: match (aborted, ka.keep && state != ConnState::Linger) {
                (true, _) => 'X',
                (false, true) => '+',
                (false, false) => '-',
            },
        };
        self.access_log(
            ctx,
            time,
            the_request,
            (resp.status, resp.vhost),
            bytes_sent,
            Some(LogFields {
                headers: resp.request_headers.as_ref().or(req.map(|r| &r.headers)),
                notes: Some(&resp.notes),
                handler: resp.handler.as_deref(),
                filename: resp.filename.as_deref(),
                response_headers: &response_headers,
                user: resp.user.as_deref(),
                env: Some(&resp.env),
                uri: resp.final_uri.as_deref(),
                conn,
            }),
        );
        if let Some(slot) = ctx.slot {
            slot.end_request(bytes_sent);
        }
        state
    }

    fn access_log(
        &self,
        ctx: &ConnCtx<'_>,
        time: SystemTime,
        request_line: &str,
        (status, vhost): (u16, Option<usize>),
        bytes_sent: u64,
        fields: Option<LogFields<'_>>,
    ) {
        // A request never read (408 before the request line): only the connection's facts.
        let f = fields.unwrap_or(LogFields {
            headers: None,
            notes: None,
            handler: None,
            filename: None,
            response_headers: &[],
            user: None,
            env: None,
            uri: None,
            conn: ConnFacts {
                local: Some(self.local),
                remote_port: self.peer.port(),
                status: '-',
                ..Default::default()
            },
        });
        ctx.server.access_log_for(vhost).log(&AccessEntry {
            remote: self.peer.ip(),
            request_time: time,
            request_line,
            status,
            bytes_sent,
            headers: f.headers,
            remote_user: f.user,
            env: f.env,
            notes: f.notes,
            final_uri: f.uri,
            handler: f.handler,
            filename: f.filename,
            response_headers: f.response_headers,
            log_id: self.req_log_id.get().map(String::as_str),
            conn: f.conn,
        });
    }
}

/// What a served request adds to its access-log line: the request's headers (`%{Name}i`),
/// the user authentication named (`%u`), the request's environment (`%{VAR}e`) and the
/// connection's facts (`%O`, `%k`, `%X`, …).
struct LogFields<'a> {
    headers: Option<&'a super::headers::Headers>,
    /// `r->notes` (`%{name}n`).
    notes: Option<&'a crate::modules::setenvif::Env>,
    handler: Option<&'a str>,
    filename: Option<&'a str>,
    response_headers: &'a [(String, String)],
    user: Option<&'a str>,
    env: Option<&'a crate::modules::setenvif::Env>,
    uri: Option<&'a str>,
    conn: ConnFacts,
}
