//! Listening sockets, opened by the parent and inherited by every child.
//!
//! Source: `server/listen.c` (`ap_setup_listeners`, `make_sock`, `find_listeners`).
//!
//! 1. The parent binds every `Listen` address before forking, so children that drop root can
//!    still serve port 80, and all children share one kernel accept queue per socket.
//! 2. On a restart the parent passes the sockets it already has: a socket whose `Listen` line
//!    is still in the configuration is kept as it is, never closed and bound again, so no
//!    connection waiting in its backlog is lost and no other program can take the port.
//! 3. Sockets are close-on-exec: a CGI or other program started by a child never inherits them.
//! 4. `Listen 127.0.0.1:0` (our addition) lets the kernel pick a free port; the bound address is
//!    logged at notice, `listening on 127.0.0.1:PORT`, which is how test harnesses find it.
//! 5. The accept filter (`ap_apply_accept_filter`), applied to every socket at every start and
//!    restart: Linux has no named filters, so Apache's default `AcceptFilter http data` becomes
//!    `TCP_DEFER_ACCEPT` (30 s): the kernel completes the handshake but hands the connection to
//!    accept(2) only once its first bytes have arrived. A child is never woken for a client that
//!    has sent nothing yet, and its first read finds the request there; a client that stays
//!    silent is not seen by the server at all (apache-mpm-rules.md §9). `AcceptFilter http none`
//!    turns it off.
use std::io;
use std::net::{SocketAddr, TcpListener};

use socket2::{Domain, Socket, Type};

use crate::config::ListenSpec;
use crate::log::{ErrorLog, Level};

/// One listening socket.
#[derive(Debug)]
pub struct Listener {
    /// The socket (blocking; MPMs switch it to non-blocking where they poll it).
    pub listener: TcpListener,
    /// The `Listen` directive it came from.
    pub spec: ListenSpec,
    /// The address it is bound to (the kernel's port when the spec said 0).
    pub local: SocketAddr,
}

/// How listening sockets are set up: from ListenBacklog and AcceptFilter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListenOptions {
    /// ListenBacklog.
    pub backlog: i32,
    /// `AcceptFilter http` is not `none`: defer accept until data arrives (step 5).
    pub defer_accept: bool,
    /// ListenCoresBucketsRatio, when set: new sockets get `SO_REUSEPORT`, as `make_sock` does
    /// (the ratio always makes one bucket here: larger counts are refused by the directive).
    pub buckets_ratio: Option<i64>,
}

/// `sysconf(_SC_NPROCESSORS_ONLN)`, at least 1: what `ap_duplicate_listeners` divides.
pub fn online_cores() -> i64 {
    use nix::unistd::{SysconfVar, sysconf};
    sysconf(SysconfVar::_NPROCESSORS_ONLN)
        .ok()
        .flatten()
        .map_or(1, |n| n.max(1))
}

/// Seconds of `TCP_DEFER_ACCEPT` (Apache's `ListenTCPDeferAccept` default).
pub const DEFER_ACCEPT_SECS: u32 = 30;

impl ListenOptions {
    pub fn of(cfg: &crate::config::ServerConfig) -> ListenOptions {
        ListenOptions {
            backlog: cfg.listen_backlog,
            defer_accept: cfg.accept_filter_http,
            buckets_ratio: cfg.mpm.listen_cores_buckets_ratio,
        }
    }
}

/// Open the listeners of `specs`, reusing those of `old` with the same spec (step 2).
pub fn open_listeners(
    specs: &[ListenSpec],
    opts: ListenOptions,
    old: Vec<Listener>,
    log: &ErrorLog,
) -> io::Result<Vec<Listener>> {
    let mut old = old;
    let mut out = Vec::with_capacity(specs.len());
    for spec in specs {
        // A port-0 spec matches the listener it produced before: the same spec text.
        let reused = old
            .iter()
            .position(|l| l.spec == *spec)
            .map(|i| old.swap_remove(i));
        let l = match reused {
            Some(l) => l,
            None => match bind(spec, opts.backlog, opts.buckets_ratio.is_some()) {
                Ok(l) => l,
                Err(e) => {
                    log.log(
                        "core",
                        Level::Crit,
                        format_args!(
                            "({}){}: AH00072: make_sock: could not bind to address {}",
                            e.raw_os_error().unwrap_or(0),
                            crate::config::parse::io_text(&e),
                            spec.addr
                        ),
                    );
                    no_listeners(log);
                    return Err(e);
                }
            },
        };
        // Step 5, for kept sockets too: a restart may have changed AcceptFilter.
        if let Err(e) = set_defer_accept(&l.listener, opts.defer_accept) {
            log.log(
                "core",
                Level::Warn,
                format_args!("({e}): AH00076: Failed to enable APR_TCP_DEFER_ACCEPT"),
            );
        }
        // At start-up the terminal gets only failures: the address goes to the error log
        // once it is open (service::open_logs calls log_listening).
        if !log.is_startup() {
            log_listening(log, &l);
        }
        out.push(l);
    }
    // What is left in `old` is no longer configured: dropping it closes it.
    drop(old);
    if out.is_empty() {
        no_listeners(log);
        return Err(io::Error::other("no listening sockets available"));
    }
    Ok(out)
}

/// `ap_duplicate_listeners`' AH02819 (info), in the error log once it is open at start-up.
pub fn log_buckets(log: &ErrorLog, opts: ListenOptions) {
    if let Some(ratio) = opts.buckets_ratio {
        let cores = online_cores();
        log.log(
            "core",
            Level::Info,
            format_args!(
                "AH02819: Using {} listeners bucket(s) based on {cores} online CPU cores and a ratio of {ratio}",
                (cores / ratio).max(1)
            ),
        );
    }
}

/// Step 4: `listening on 127.0.0.1:PORT` (notice: always written).
pub fn log_listening(log: &ErrorLog, l: &Listener) {
    log.log(
        "core",
        Level::Notice,
        format_args!("listening on {}", l.local),
    );
}

/// The MPMs' `open_logs` message. On the terminal at start-up Apache 2.4 (as Debian ships it)
/// prints it without a code; in the error log on a restart it carries AH00451.
fn no_listeners(log: &ErrorLog) {
    let code = if log.is_startup() { "" } else { "AH00451: " };
    log.log(
        "core",
        Level::Alert,
        format_args!("{code}no listening sockets available, shutting down"),
    );
}

fn bind(spec: &ListenSpec, backlog: i32, reuse_port: bool) -> io::Result<Listener> {
    let s = Socket::new(Domain::for_address(spec.addr), Type::STREAM.cloexec(), None)?;
    s.set_reuse_address(true)?;
    if reuse_port {
        s.set_reuse_port(true)?;
    }
    if spec.addr.is_ipv6() {
        s.set_only_v6(true)?;
    }
    s.bind(&spec.addr.into())?;
    s.listen(backlog.max(1))?;
    let listener: TcpListener = s.into();
    let local = listener.local_addr()?;
    Ok(Listener {
        listener,
        spec: *spec,
        local,
    })
}

/// `TCP_DEFER_ACCEPT`: `DEFER_ACCEPT_SECS` when `on`, 0 (off) otherwise.
#[allow(unsafe_code)]
fn set_defer_accept(l: &TcpListener, on: bool) -> io::Result<()> {
    use std::os::fd::AsRawFd;
    let secs: libc::c_int = if on {
        DEFER_ACCEPT_SECS as libc::c_int
    } else {
        0
    };
    // SAFETY: a valid socket and a pointer to an int that lives across the call, with its size
    // (neither nix nor socket2 wraps this option).
    let rc = unsafe {
        libc::setsockopt(
            l.as_raw_fd(),
            libc::IPPROTO_TCP,
            libc::TCP_DEFER_ACCEPT,
            (&raw const secs).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OPTS: ListenOptions = ListenOptions {
        backlog: 16,
        defer_accept: true,
        buckets_ratio: None,
    };

    fn spec(s: &str) -> ListenSpec {
        ListenSpec {
            addr: s.parse().unwrap(),
        }
    }

    #[test]
    fn port_zero_binds_and_restart_reuses_the_same_socket() {
        let log = ErrorLog::stderr();
        let first = open_listeners(&[spec("127.0.0.1:0")], OPTS, Vec::new(), &log).unwrap();
        let port = first[0].local.port();
        assert_ne!(port, 0);
        let again = open_listeners(&[spec("127.0.0.1:0")], OPTS, first, &log).unwrap();
        assert_eq!(
            again[0].local.port(),
            port,
            "a restart never re-binds an open listener"
        );
    }

    #[test]
    fn a_busy_port_is_an_error() {
        let log = ErrorLog::stderr();
        let a = open_listeners(&[spec("127.0.0.1:0")], OPTS, Vec::new(), &log).unwrap();
        let busy = ListenSpec { addr: a[0].local };
        assert!(open_listeners(&[busy], OPTS, Vec::new(), &log).is_err());
    }

    /// Step 5: with the default accept filter a connected but silent client is not handed to
    /// accept(2); its first byte is. `AcceptFilter http none` hands it over at once.
    #[test]
    fn the_data_accept_filter_hands_over_a_connection_once_it_has_data() {
        use std::io::Write;
        use std::time::{Duration, Instant};
        let log = ErrorLog::stderr();
        let ls = open_listeners(&[spec("127.0.0.1:0")], OPTS, Vec::new(), &log).unwrap();
        let l = &ls[0].listener;
        l.set_nonblocking(true).unwrap();
        let accepted_within = |d: Duration| {
            let end = Instant::now() + d;
            loop {
                match l.accept() {
                    Ok(_) => return true,
                    Err(_) if Instant::now() < end => std::thread::sleep(Duration::from_millis(10)),
                    Err(_) => return false,
                }
            }
        };
        let mut c = std::net::TcpStream::connect(ls[0].local).unwrap();
        assert!(
            !accepted_within(Duration::from_millis(300)),
            "silent: not yet"
        );
        c.write_all(b"G").unwrap();
        assert!(
            accepted_within(Duration::from_secs(2)),
            "first byte: accepted"
        );

        let none = ListenOptions {
            defer_accept: false,
            ..OPTS
        };
        let ls = open_listeners(&[ls[0].spec], none, ls, &log).unwrap();
        let _c = std::net::TcpStream::connect(ls[0].local).unwrap();
        let l = &ls[0].listener;
        let end = Instant::now() + Duration::from_secs(2);
        let mut ok = false;
        while Instant::now() < end && !ok {
            ok = l.accept().is_ok();
            std::thread::sleep(Duration::from_millis(10));
        }
        assert!(
            ok,
            "AcceptFilter http none: accepted while silent (kept socket reconfigured)"
        );
    }
}
