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

/// Open the listeners of `specs`, reusing those of `old` with the same spec (step 2).
pub fn open_listeners(
    specs: &[ListenSpec],
    backlog: i32,
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
            None => match bind(spec, backlog) {
                Ok(l) => l,
                Err(e) => {
                    log.log(
                        "core",
                        Level::Crit,
                        format_args!(
                            "({}){}: AH00072: make_sock: could not bind to address {}",
                            e.raw_os_error().unwrap_or(0),
                            e,
                            spec.addr
                        ),
                    );
                    log.log(
                        "core",
                        Level::Alert,
                        format_args!("AH00451: no listening sockets available, shutting down"),
                    );
                    return Err(e);
                }
            },
        };
        log.log(
            "core",
            Level::Notice,
            format_args!("listening on {}", l.local),
        );
        out.push(l);
    }
    // What is left in `old` is no longer configured: dropping it closes it.
    drop(old);
    if out.is_empty() {
        log.log(
            "core",
            Level::Alert,
            format_args!("AH00451: no listening sockets available, shutting down"),
        );
        return Err(io::Error::other("no listening sockets available"));
    }
    Ok(out)
}

fn bind(spec: &ListenSpec, backlog: i32) -> io::Result<Listener> {
    let s = Socket::new(Domain::for_address(spec.addr), Type::STREAM.cloexec(), None)?;
    s.set_reuse_address(true)?;
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

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(s: &str) -> ListenSpec {
        ListenSpec {
            addr: s.parse().unwrap(),
        }
    }

    #[test]
    fn port_zero_binds_and_restart_reuses_the_same_socket() {
        let log = ErrorLog::stderr();
        let first = open_listeners(&[spec("127.0.0.1:0")], 16, Vec::new(), &log).unwrap();
        let port = first[0].local.port();
        assert_ne!(port, 0);
        let again = open_listeners(&[spec("127.0.0.1:0")], 16, first, &log).unwrap();
        assert_eq!(
            again[0].local.port(),
            port,
            "a restart never re-binds an open listener"
        );
    }

    #[test]
    fn a_busy_port_is_an_error() {
        let log = ErrorLog::stderr();
        let a = open_listeners(&[spec("127.0.0.1:0")], 16, Vec::new(), &log).unwrap();
        let busy = ListenSpec { addr: a[0].local };
        assert!(open_listeners(&[busy], 16, Vec::new(), &log).is_err());
    }
}
