//! How children wait for connections (`listen.c`, prefork's and worker's accept loops, event's
//! listener). With one `Listen`, prefork and worker children block in accept(2), as Apache's
//! do ("Only one listener, so skip the poll"): the kernel wakes one of them per connection.
//! With several, each child polls them all. Either way every socket is served, and a stop
//! reaches a child wherever it waits: these tests fail by hanging into their time limits.

use std::time::{Duration, Instant};

use conformance::{Mpm, Server, ServerTest, for_each_mpm, http, wait_until};
use nix::sys::signal::Signal;

/// Every `listening on 127.0.0.1:PORT` port in the error log, in order.
fn ports(s: &Server) -> Vec<u16> {
    s.log_lines("listening on 127.0.0.1:")
        .iter()
        .filter_map(|l| l.rsplit(':').next()?.trim().parse().ok())
        .collect()
}

/// Stop gracefully (SIGWINCH) and return how long the exit took.
fn graceful_stop(s: &mut Server) -> Duration {
    let t = Instant::now();
    s.signal(Signal::SIGWINCH);
    s.wait_exit(Duration::from_secs(15))
        .expect("an idle server stops gracefully");
    t.elapsed()
}

fn several_listen_sockets_each_serve_and_stop_promptly(mpm: Mpm) {
    let mut s = ServerTest::new(mpm)
        .directive("Listen 127.0.0.1:0")
        .directive("Listen 127.0.0.1:0")
        .start();
    let ports = ports(&s);
    assert_eq!(ports.len(), 3, "three listeners:\n{}", s.error_log());
    // More requests than children, on every socket, so that children wake on all of them.
    for round in 0..4 {
        for &p in &ports {
            let addr = std::net::SocketAddr::from(([127, 0, 0, 1], p));
            let r = http::get(addr, "/index.html").expect("the socket answers");
            assert_eq!(r.status, 200, "round {round}, port {p}");
        }
    }
    let took = graceful_stop(&mut s);
    assert!(took < Duration::from_secs(5), "graceful stop took {took:?}");
}
for_each_mpm!(several_listen_sockets_each_serve_and_stop_promptly);

fn children_blocked_in_accept_stop_promptly(mpm: Mpm) {
    let mut s = ServerTest::new(mpm).start();
    // Served, then idle: every child is back waiting for the next connection.
    for _ in 0..10 {
        assert_eq!(s.get("/index.html").status, 200);
    }
    wait_until(
        "every worker idle again (only the status request busy)",
        Duration::from_secs(5),
        || s.status_auto().busy(),
        |&b| b == 1,
    );
    let took = graceful_stop(&mut s);
    // worker: each listener is interrupted by its stop signal (repeated every 200 ms in case
    // one arrives just before accept); prefork: SIGUSR1 closes the child's listeners.
    assert!(took < Duration::from_secs(5), "graceful stop took {took:?}");
}
for_each_mpm!(children_blocked_in_accept_stop_promptly);

/// `ListenCoresBucketsRatio` equal to the online core count makes one listeners bucket, which
/// is what our servers serve: the server starts, logs AH02819 at info as `ap_duplicate_listeners`
/// does, and its socket carries `SO_REUSEPORT` as `make_sock` sets it. The kernel lets a second
/// socket bind the same port only when both have the option, so that bind is the probe; on a
/// server without the directive the same bind fails (EADDRINUSE).
fn one_listeners_bucket_sets_so_reuseport(mpm: Mpm) {
    use nix::sys::socket::{
        AddressFamily, SockFlag, SockType, SockaddrIn, bind, setsockopt, socket, sockopt,
    };
    let probe = |s: &Server| {
        let fd = socket(
            AddressFamily::Inet,
            SockType::Stream,
            SockFlag::SOCK_CLOEXEC,
            None,
        )
        .unwrap();
        setsockopt(&fd, sockopt::ReusePort, &true).unwrap();
        let std::net::SocketAddr::V4(a) = s.addr() else {
            unreachable!("the harness listens on 127.0.0.1")
        };
        bind(std::os::fd::AsRawFd::as_raw_fd(&fd), &SockaddrIn::from(a))
    };
    let cores = httpd_core::listen::online_cores();
    let s = ServerTest::new(mpm)
        .directive(&format!("ListenCoresBucketsRatio {cores}"))
        .directive("LogLevel info")
        .start();
    let line = format!(
        "AH02819: Using 1 listeners bucket(s) based on {cores} online CPU cores and a ratio of {cores}"
    );
    assert_eq!(s.log_lines(&line).len(), 1, "{}", s.error_log());
    assert_eq!(probe(&s), Ok(()), "SO_REUSEPORT on the server's socket");
    assert_eq!(http::get(s.addr(), "/index.html").unwrap().status, 200);
    drop(s);
    let plain = ServerTest::new(mpm).start();
    assert_eq!(probe(&plain), Err(nix::errno::Errno::EADDRINUSE));
}
for_each_mpm!(one_listeners_bucket_sets_so_reuseport);
