//! # HTTP/1.1 as Apache httpd 2.4 speaks it
//!
//! RFC 9110/9112 with Apache's observable choices: its strict request parsing
//! (`HttpProtocolOptions Strict`), its limits and their exact statuses (rules 60–69), its error
//! pages, its static-file handler with validators and ranges, and its keep-alive rules. Every MPM
//! serves connections through this module; only *who* calls it differs.
//!
//! ```text
//!  prefork / worker                         event
//!  ────────────────                         ─────
//!  serve_connection(stream) ──┐             Connection::new(stream)
//!    loop {                   │             worker:   process(ctx, Async) ──► ConnState
//!      Connection::process ◄──┘               KeepAlive       → listener parks it (K queue)
//!      K: wait KeepAliveTimeout               WriteCompletion → listener: write_pending()
//!    }                                        Linger          → lingering_close()
//!    lingering_close (C)
//! ```
//!
//! | module | Apache | what |
//! |---|---|---|
//! | [`connection`] | `protocol.c: ap_read_request`, `http_core.c: ap_process_http_*_connection`, `connection.c: ap_lingering_close` | one connection: read, handle, answer, keep-alive, scoreboard status |
//! | [`read`] | `protocol.c: ap_read_request`, `read_request_line` | one request off the socket, refusals with their statuses |
//! | [`input`] | `protocol.c: ap_rgetline_core` | the input buffer and the line limits |
//! | [`request_line`] | `protocol.c: ap_parse_request_line` | strict parsing of the request line |
//! | [`headers`] | `protocol.c: ap_get_mime_headers_core` | header lines, obs-fold, field limits |
//! | [`request`] | `protocol.c: ap_read_request`, `ap_check_request_header` | body framing, Host, Expect; the [`request::Request`] handlers see |
//! | [`host`] | `vhost.c: fix_hostname`, `strict_hostname_check` | Host validation under `HttpProtocolOptions Strict` |
//! | [`body`] | `http_filters.c: ap_http_filter`, `ap_discard_request_body` | Content-Length and chunked bodies, LimitRequestBody |
//! | [`handler`] | `request.c: ap_process_request_internal`, `core.c: default_handler`, `mod_dir`, TRACE/OPTIONS | which answer a request gets |
//! | [`static_files`] | `util.c: ap_normalize_path`, `http_protocol.c: ap_meets_conditions`, `ap_make_etag` | URL to file, validators, conditionals |
//! | [`range`] | `byterange_filter.c` | `Range` → 206 / multipart / 416 |
//! | [`file_bucket`] | `core.c: EnableSendfile/EnableMMAP`, APR file and mmap buckets | how a file's bytes reach the socket: sendfile, mmap or read |
//! | [`response`] | `http_filters.c: ap_http_header_filter`, `http_protocol.c: ap_set_keepalive` | response head, keep-alive decision, output queue with sendfile |
//! | [`error_pages`] | `http_protocol.c: ap_send_error_response` | Apache's error pages |
//! | [`mime`] | `mod_mime.c` | content types (TypesConfig or built-in) |
//! | [`error_document`] | `core.c: set_error_document`, `http_request.c: ap_die` | ErrorDocument |
//! | [`signature`] | `core.c: ap_get_server_banner`, `ap_psignature` | ServerTokens, ServerSignature |
//! | `subreq` | `request.c: ap_sub_req_lookup_uri`, `ap_sub_req_lookup_dirent`; `mod_autoindex.c: handle_autoindex` | sub-requests and the listing handler step |
//!
//! ETags have Apache 2.4's `ap_make_etag` form, by default `FileETag MTime Size`:
//! `"<size hex>-<mtime µs hex>"`.
//!
//! Which sections and virtual host apply is decided by [`crate::config::sections`] and
//! [`crate::config::vhost`]; [`error_document`] and [`signature`] shape error pages.
//!
//! Compression is mod_deflate's output filter ([`crate::modules::deflate`]).
//!
//! What this module does not do: TLS, HTTP/2.

pub mod body;
pub mod connection;
pub mod error_document;
pub mod error_pages;
pub mod file_bucket;
pub mod handler;
pub mod headers;
pub mod host;
pub mod input;
pub mod mime;
mod module_hooks;
pub mod negotiate;
mod negotiate_fields;
pub mod range;
pub mod read;
pub mod request;
pub mod request_line;
pub mod response;
pub mod signature;
pub mod static_files;
mod subreq;
pub mod streamed;

use std::io;
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::Duration;

pub use connection::{ConnState, Connection, WriteMode};

use crate::config::ServerConfig;
use crate::log::{AccessLog, ErrorLog};
use crate::scoreboard::{Scoreboard, WorkerScore, WorkerStatus};
use crate::status::{MpmStatusInfo, StatusServerInfo};
use response::Response;

/// Lingering close waits at most this long (`MAX_SECS_TO_LINGER`).
pub const MAX_SECS_TO_LINGER: Duration = Duration::from_secs(30);

/// What `SetHandler server-status` needs: the scoreboard and the MPM's description.
pub struct StatusContext {
    pub scoreboard: Arc<Scoreboard>,
    pub info: MpmStatusInfo,
}

/// The per-process HTTP context: configuration, logs, MIME table. Cheap to clone.
#[derive(Clone)]
pub struct HttpServer {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub config: Arc<ServerConfig>,
    pub error_log: ErrorLog,
    pub access_log: AccessLog,
    pub status: Option<StatusContext>,
    pub mime: mime::MimeTypes,
    /// DocumentRoot, canonical (symlinks resolved), for the containment check.
    pub docroot: static_files::DocRoot,
    /// The main server's sections, sorted once ([`crate::config::SectionTable`]).
    pub sections: crate::config::SectionTable,
    /// The `Server` header (ServerTokens), built once as Apache's `ap_get_server_banner`.
    pub banner: String,
    /// One per `<VirtualHost>`, same order as `config.vhosts`.
    pub vhosts: Vec<VhostRuntime>,
    /// `ap_multipart_boundary`: one per process, random-looking hex.
    pub boundary: String,
    /// Handlers added with [`HttpServer::register_handler`], by `SetHandler` name.
    pub handlers: Vec<(String, CustomHandler)>,
}

/// What a virtual host needs at request time, built once per process.
pub(crate) struct VhostRuntime {
    pub docroot: static_files::DocRoot,
    pub sections: crate::config::SectionTable,
    /// The vhost's own CustomLogs; `None`: the main server's.
    pub access_log: Option<AccessLog>,
    /// The vhost's own ErrorLog/LogLevel; `None`: the main server's.
    pub error_log: Option<ErrorLog>,
}

/// A handler for `SetHandler NAME` (Apache modules register theirs with `ap_hook_handler`).
/// It gets the parsed request and answers; a panic inside becomes a 500 (rule: panics never
/// reach the client).
pub type CustomHandler = Arc<dyn Fn(&request::Request) -> Response + Send + Sync>;

impl HttpServer {
    /// Build the per-process context (loads TypesConfig). The `io::Result` is kept for
    /// future failures (none today).
    pub fn new(
        cfg: Arc<ServerConfig>,
        error_log: ErrorLog,
        access_log: AccessLog,
        status: Option<StatusContext>,
    ) -> io::Result<HttpServer> {
        // Apache only warns about a missing DocumentRoot (AH00112) and then answers 404s.
        let docroot = cfg.document_root.canonicalize().unwrap_or_else(|_| {
            error_log.log(
                "core",
                crate::log::Level::Warn,
                format_args!(
                    "AH00112: Warning: DocumentRoot [{}] does not exist",
                    cfg.document_root.display()
                ),
            );
            cfg.document_root.clone()
        });
        let mime = mime::MimeTypes::load(cfg.types_config.as_deref());
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos();
        let boundary = format!("{:x}{:x}", seed as u64 ^ 0x5deece66d, std::process::id());
        let handlers = Vec::new();
        let mut vhosts = Vec::with_capacity(cfg.vhosts.len());
        for v in &cfg.vhosts {
            // A vhost's logs are opened like the main server's, from a copy of the config
            // that names them (Apache: open_multi_logs / ap_open_logs per server_rec).
            let access_log = if v.custom_logs.is_empty() {
                None
            } else {
                let mut own = (*cfg).clone();
                own.custom_logs.clone_from(&v.custom_logs);
                Some(AccessLog::open(&own)?)
            };
            let error_log =
                if v.error_log.is_none() && v.log_level.is_none() && v.error_log_format.is_none() {
                    None
                } else {
                    let mut own = (*cfg).clone();
                    if let Some(e) = &v.error_log {
                        own.error_log = e.clone();
                    }
                    if let Some(l) = &v.log_level {
                        own.log_level = l.clone();
                    }
                    if let Some(f) = &v.error_log_format {
                        own.error_log_format = f.clone();
                    }
                    // `%v` on this vhost's lines: its own ServerName.
                    if v.server_name.is_some() {
                        own.server_name.clone_from(&v.server_name);
                    }
                    Some(ErrorLog::open(&own)?)
                };
            vhosts.push(VhostRuntime {
                docroot: static_files::DocRoot::new(
                    v.document_root
                        .canonicalize()
                        .unwrap_or_else(|_| v.document_root.clone()),
                ),
                sections: v.table(&cfg),
                access_log,
                error_log,
            });
        }
        let sections = cfg.section_table();
        let banner = signature::server_banner(&cfg.server_tokens);
        let inner = Inner {
            banner,
            sections,
            vhosts,
            config: cfg,
            error_log,
            access_log,
            status,
            mime,
            docroot: static_files::DocRoot::new(docroot),
            boundary,
            handlers,
        };
        Ok(HttpServer {
            inner: Arc::new(inner),
        })
    }

    /// Add a handler for `SetHandler name` in a `<Location>`. Only before the server is
    /// shared (cloned): returns `false` otherwise.
    pub fn register_handler(&mut self, name: &str, handler: CustomHandler) -> bool {
        match Arc::get_mut(&mut self.inner) {
            Some(inner) => {
                inner.handlers.push((name.to_ascii_lowercase(), handler));
                true
            }
            None => false,
        }
    }

    /// The registered handler for a `SetHandler` name.
    pub(crate) fn custom_handler(&self, name: &str) -> Option<&CustomHandler> {
        self.inner
            .handlers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, h)| h)
    }

    /// The access log of the (virtual) server that answered.
    pub(crate) fn access_log_for(&self, vhost: Option<usize>) -> &AccessLog {
        vhost
            .and_then(|i| self.inner.vhosts.get(i))
            .and_then(|v| v.access_log.as_ref())
            .unwrap_or(&self.inner.access_log)
    }

    /// The error log of the (virtual) server that answers.
    pub(crate) fn error_log_for(&self, vhost: Option<usize>) -> &ErrorLog {
        vhost
            .and_then(|i| self.inner.vhosts.get(i))
            .and_then(|v| v.error_log.as_ref())
            .unwrap_or(&self.inner.error_log)
    }

    /// The configuration this server runs with.
    pub fn config(&self) -> &ServerConfig {
        &self.inner.config
    }

    /// `mod_status`'s handler for a GET/HEAD, or `None` when status is not enabled here.
    pub(crate) fn status_page(
        &self,
        req: &request::Request,
        local: SocketAddr,
    ) -> Option<Response> {
        let st = self.inner.status.as_ref()?;
        let host = req
            .checks
            .hostname
            .clone()
            .unwrap_or_else(|| local.ip().to_string());
        let page = crate::status::render(
            req.line.query.as_deref().unwrap_or(""),
            &host,
            local,
            &st.scoreboard,
            &st.info,
            &StatusServerInfo,
        );
        let mut r = Response::new(200);
        if let Some(n) = page.refresh {
            r.headers.push(("Refresh", n.to_string()));
        }
        r.content_type = Some(page.content_type.to_string());
        r.body.push(response::Chunk::Bytes(page.body.into_bytes()));
        Some(r)
    }
}

/// What a connection needs from its MPM: the server, the worker's scoreboard slot, and a
/// way to ask whether the process is stopping (rule 70).
pub struct ConnCtx<'a> {
    pub server: &'a HttpServer,
    pub slot: Option<&'a WorkerScore>,
    pub stopping: &'a dyn Fn() -> bool,
}

/// `ap_update_child_status` for this connection's slot.
pub(crate) fn set_status(ctx: &ConnCtx<'_>, s: WorkerStatus) {
    if let Some(slot) = ctx.slot {
        slot.set_status(s);
    }
}

/// prefork and worker (`ap_process_http_sync_connection`): serve every request of the
/// connection, waiting KeepAliveTimeout (status `K`) between them, stop after
/// MaxKeepAliveRequests or once the MPM is stopping (rule 70), then lingering close (`C`), which
/// is skipped when the client asked to close and left nothing unread ([`Connection::client_is_done`]).
/// Never panics: a handler panic is answered with a 500.
pub fn serve_connection(stream: TcpStream, peer: SocketAddr, ctx: &ConnCtx<'_>) {
    let mut conn = Connection::new(stream, peer);
    // WriteCompletion cannot happen in Blocking mode; Linger ends the loop.
    while conn.process(ctx, WriteMode::Blocking) == ConnState::KeepAlive {
        if (ctx.stopping)() {
            break;
        }
        set_status(ctx, WorkerStatus::BusyKeepalive);
        if !wait_readable(
            conn.stream(),
            ctx.server.inner.config.keep_alive_timeout,
            ctx.stopping,
        ) {
            break;
        }
    }
    set_status(ctx, WorkerStatus::Closing);
    // Deviation (conformance/DEVIATIONS.md): Apache lingers after every response. When the
    // client asked to close and nothing of its is left unread, there is nothing to drain, and
    // waiting for its FIN would only hold this process or thread (and cost a sleep and a
    // wake-up) for nothing: close at once, as nginx does. Every other close lingers.
    if conn.client_is_done() {
        drop(conn);
    } else {
        conn.lingering_close(MAX_SECS_TO_LINGER);
    }
}

/// Wait until the socket has data (or EOF) for at most `timeout`, giving up early when the
/// MPM starts stopping (checked every 200 ms: a graceful stop need not wait out
/// KeepAliveTimeout on idle connections).
fn wait_readable(stream: &TcpStream, timeout: Duration, stopping: &dyn Fn() -> bool) -> bool {
    use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
    use std::os::fd::AsFd;
    let deadline = std::time::Instant::now() + timeout;
    let mut fds = [PollFd::new(stream.as_fd(), PollFlags::POLLIN)];
    loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        if left.is_zero() || stopping() {
            return false;
        }
        let slice = left.min(Duration::from_millis(200)).as_millis() as u16;
        match poll(&mut fds, PollTimeout::from(slice.max(1))) {
            Ok(0) | Err(nix::errno::Errno::EINTR) => continue,
            Ok(_) => return true,
            Err(_) => return false,
        }
    }
}
