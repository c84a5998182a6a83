//! The real `mpm-prefork` binary (through the `conf-prefork` shim), watched from outside: /proc,
//! `?auto`, the error and access logs. Each test is named after its rule in
//! apache-mpm-rules.md §11; scenarios are scaled down to a few seconds (the long reference run is
//! reproduced by the simulator, `mpm_prefork::sim`, and by `mpm-lab run`).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use conformance::procfs;
use conformance::wait::{try_wait_until, wait_until};
use conformance::{Mpm, Server, ServerTest};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

fn prefork() -> ServerTest {
    ServerTest::new(Mpm::Prefork)
}

/// Live (non-zombie) children of the parent.
fn live_children(s: &Server) -> Vec<i32> {
    s.children()
        .into_iter()
        .filter(|&p| procfs::info(p).is_some_and(|i| i.state != 'Z'))
        .collect()
}

/// Sample the live-children count every 50 ms until it has stayed at `settled` for a second and
/// a half (`timeout` at most); return the distinct values in order. Ending on the shape rather
/// than after a fixed window keeps the test honest on a loaded machine, where forks and
/// passes run late.
fn counts_until(s: &Server, settled: usize, timeout: Duration) -> Vec<usize> {
    let t0 = Instant::now();
    let mut seen: Vec<usize> = Vec::new();
    let mut since = t0;
    while t0.elapsed() < timeout {
        let n = live_children(s).len();
        if seen.last() != Some(&n) {
            seen.push(n);
            since = Instant::now();
        }
        if n == settled && since.elapsed() >= Duration::from_millis(1500) {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    seen
}

fn send_rest_of_request(stream: &mut TcpStream) -> String {
    // The server may already have cut the connection (SIGHUP): then writing fails, which is fine.
    let _ = stream.write_all(b"Connection: close\r\n\r\n");
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let mut out = Vec::new();
    let _ = stream.read_to_end(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}

#[test]
fn rule_01_default_config_starts_five_single_threaded_children() {
    let s = prefork().start();
    let kids = s.wait_children(5, Duration::from_secs(5));
    for k in kids {
        assert_eq!(procfs::threads(k), 1, "prefork children have one thread");
    }
    assert_eq!(
        procfs::threads(s.pid()),
        1,
        "the parent is single-threaded (it forks)"
    );
    let st = s.status_auto();
    assert_eq!(st.mpm(), "prefork");
    assert_eq!(
        st.scoreboard.len(),
        256,
        "one slot per MaxRequestWorkers (default 256)"
    );
    // Stays at 5 for a couple of maintenance passes (5 idle is within [5, 10]).
    std::thread::sleep(Duration::from_millis(2500));
    assert_eq!(live_children(&s).len(), 5);
}

#[test]
fn rule_04_min_spare_60_from_one_child_doubles_to_64() {
    // Rules 3, 4, 5: 1 → 2 → 4 → 8 → 16 → 32 → 64 children, one batch per second, the last batch
    // forked whole although 60 were needed; AH00162 carries the rate from 8 on.
    let s = prefork()
        .directive("StartServers 1")
        .directive("MinSpareServers 60")
        .directive("MaxSpareServers 100")
        .directive("MaxRequestWorkers 100")
        .start();
    let seen = counts_until(&s, 64, Duration::from_secs(20));
    for want in [2, 4, 8, 16, 32, 64] {
        assert!(seen.contains(&want), "process counts {seen:?} miss {want}");
    }
    assert_eq!(live_children(&s).len(), 64, "counts seen {seen:?}");
    let rates: Vec<String> = s
        .log_lines("AH00162")
        .iter()
        .map(|l| {
            l.split("spawning ")
                .nth(1)
                .unwrap()
                .split(' ')
                .next()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(rates, ["8", "16", "32"]);
    assert!(s.log_lines("AH00162")[0].contains("[mpm_prefork:info]"));
}

#[test]
fn rule_06_surplus_is_stopped_one_child_per_second() {
    // Rules 6, 7: 9 idle children, MaxSpareServers 3: one stopped per pass through the pipe of
    // death, whose dummy connection shows in the access log.
    let s = prefork()
        .directive("StartServers 9")
        .directive("MinSpareServers 1")
        .directive("MaxSpareServers 3")
        .start();
    let t0 = Instant::now();
    wait_until(
        "3 children",
        Duration::from_secs(12),
        || live_children(&s).len(),
        |n| *n <= 3,
    );
    let took = t0.elapsed();
    assert!(
        took >= Duration::from_millis(4500),
        "6 children stopped in {took:?}: faster than one per second"
    );
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(live_children(&s).len(), 3, "stops at MaxSpareServers");
    let dummies = s
        .access_log()
        .lines()
        .filter(|l| l.contains("\"OPTIONS * HTTP/1.0\" 200 -"))
        .count();
    assert!(
        dummies >= 6,
        "pipe-of-death dummy connections in the access log: {dummies}"
    );
}

#[test]
fn rule_08_ah00161_once_per_parent_even_across_restarts() {
    let s = prefork()
        .directive("StartServers 3")
        .directive("MinSpareServers 2")
        .directive("MaxSpareServers 4")
        .directive("MaxRequestWorkers 3")
        .start();
    s.wait_children(3, Duration::from_secs(5));
    let _held = s.hold_partial(3);
    s.wait_for_log("AH00161", Duration::from_secs(4));
    let line = &s.log_lines("AH00161")[0];
    assert!(line.contains("[mpm_prefork:error]") && line.ends_with(
        "AH00161: server reached MaxRequestWorkers setting, consider raising the MaxRequestWorkers setting"
    ));
    // A graceful restart keeps the held (old-generation) children; still at the limit, but the
    // message is not repeated.
    s.signal(Signal::SIGUSR1);
    s.wait_for_log("AH00171", Duration::from_secs(5));
    std::thread::sleep(Duration::from_millis(3000));
    assert_eq!(s.log_lines("AH00161").len(), 1);
}

#[test]
fn rule_44_sigterm_stops_children_and_removes_the_pid_file() {
    for sig in [Signal::SIGTERM, Signal::SIGINT] {
        let mut s = prefork().start();
        let kids = s.wait_children(5, Duration::from_secs(5));
        let pid_file = s.dir().join("httpd.pid");
        assert!(pid_file.exists());
        s.signal(sig);
        let st = s.wait_exit(Duration::from_secs(10)).expect("parent exits");
        assert!(st.success(), "{sig:?}: exit {st:?}");
        assert!(
            kids.iter().all(|&k| !procfs::alive(k)),
            "children gone after {sig:?}"
        );
        assert!(!pid_file.exists());
        assert_eq!(
            s.log_lines("AH00169: caught SIGTERM, shutting down").len(),
            1,
            "{sig:?}"
        );
    }
}

#[test]
fn rule_46_graceful_stop_closes_listeners_and_honours_the_timeout() {
    // Rules 45, 46: SIGWINCH removes the pid file, logs AH00170, stops accepting at once, and
    // ends a child that is still busy GracefulShutdownTimeout seconds later.
    let mut s = prefork().directive("GracefulShutdownTimeout 2").start();
    s.wait_children(5, Duration::from_secs(5));
    let held = s.hold_partial(1);
    wait_until(
        "1 busy R",
        Duration::from_secs(5),
        || s.status_auto().count('R'),
        |n| *n >= 1,
    );
    let t0 = Instant::now();
    s.signal(Signal::SIGWINCH);
    s.wait_for_log(
        "AH00170: caught SIGWINCH, shutting down gracefully",
        Duration::from_secs(5),
    );
    assert!(!s.dir().join("httpd.pid").exists());
    let refused = try_wait_until(Duration::from_secs(2), || {
        TcpStream::connect(s.addr()).err().map(|_| ())
    });
    assert!(refused.is_some(), "the listener is closed at once");
    let st = s
        .wait_exit(Duration::from_secs(8))
        .expect("parent exits after the timeout");
    let took = t0.elapsed();
    assert!(st.success());
    assert!(
        took >= Duration::from_millis(1800) && took < Duration::from_secs(6),
        "graceful stop took {took:?}"
    );
    drop(held);
}

#[test]
fn rule_42_graceful_restart_marks_old_children_g_and_drops_no_connection() {
    // Rules 41, 42, 47, 70: SIGUSR1 → AH00171, generation + 1, busy old children shown as G
    // finish their request (the held connections are answered), a new generation serves at once.
    let s = prefork().start();
    s.wait_children(5, Duration::from_secs(5));
    let port = s.port();
    let before = s.status_auto();
    let mut held = s.hold_partial(2);
    wait_until(
        "2 R",
        Duration::from_secs(5),
        || s.status_auto().count('R'),
        |n| *n >= 2,
    );
    s.signal(Signal::SIGUSR1);
    s.wait_for_log(
        "AH00171: Graceful restart requested, doing restart",
        Duration::from_secs(5),
    );
    let st = wait_until(
        "2 G",
        Duration::from_secs(5),
        || s.status_auto(),
        |st| st.count('G') == 2,
    );
    assert_eq!(
        st.int("ParentServerMPMGeneration"),
        before.int("ParentServerMPMGeneration").map(|g| g + 1),
        "graceful restart increments the generation"
    );
    assert!(st.get("ServerUptimeSeconds").is_some());
    // The old children finish what they were doing.
    for c in held.streams().iter_mut() {
        let resp = send_rest_of_request(c);
        assert!(
            resp.starts_with("HTTP/1.1 200"),
            "held connection answered after graceful restart: {resp:?}"
        );
    }
    wait_until(
        "no G left",
        Duration::from_secs(5),
        || s.status_auto().count('G'),
        |n| *n == 0,
    );
    assert_eq!(s.port(), port);
    assert_eq!(s.get("/index.html").status, 200);
    assert_eq!(
        s.log_lines("AH00163").len(),
        2,
        "AH00163 after start and after the restart"
    );
}

#[test]
fn rule_48_sighup_kills_children_and_restarts_start_servers() {
    let s = prefork().start();
    let old = s.wait_children(5, Duration::from_secs(5));
    let mut held = s.hold_partial(1);
    wait_until(
        "1 R",
        Duration::from_secs(5),
        || s.status_auto().count('R'),
        |n| *n >= 1,
    );
    s.signal(Signal::SIGHUP);
    s.wait_for_log(
        "AH00173: SIGHUP received.  Attempting to restart",
        Duration::from_secs(5),
    );
    wait_until(
        "new generation of 5",
        Duration::from_secs(8),
        || live_children(&s),
        |k| k.len() == 5 && k.iter().all(|p| !old.contains(p)),
    );
    // The held connection was cut, not answered.
    let resp = send_rest_of_request(&mut held.streams()[0]);
    assert!(
        !resp.starts_with("HTTP/1.1 200"),
        "HUP drops in-flight connections: {resp:?}"
    );
    let st = s.status_auto();
    assert_eq!(st.int("ParentServerMPMGeneration"), Some(1));
    assert_eq!(
        s.get("/index.html").status,
        200,
        "same listener, still serving"
    );
}

#[test]
fn rule_52_max_connections_per_child_counts_connections_not_requests() {
    // One child at a time (MaxRequestWorkers 1). The harness's readiness probe was connection 1.
    let s = prefork()
        .directive("StartServers 1")
        .directive("MinSpareServers 1")
        .directive("MaxSpareServers 2")
        .directive("MaxRequestWorkers 1")
        .directive("MaxConnectionsPerChild 3")
        .start();
    let first = s.wait_children(1, Duration::from_secs(5))[0];
    // Connection 2: four keep-alive requests count once.
    let mut c = s.connect();
    let host = s.addr();
    c.write_all(
        format!("GET /index.html HTTP/1.1\r\nHost: {host}\r\n\r\n")
            .repeat(3)
            .as_bytes(),
    )
    .unwrap();
    c.write_all(
        format!("GET /index.html HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n").as_bytes(),
    )
    .unwrap();
    let mut out = String::new();
    c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    c.read_to_string(&mut out).unwrap();
    assert_eq!(out.matches("HTTP/1.1 200").count(), 4);
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        procfs::alive(first),
        "2 connections < MaxConnectionsPerChild 3"
    );
    // Connection 3 is the last one this child accepts.
    assert_eq!(s.get("/index.html").status, 200);
    wait_until(
        "the first child exits",
        Duration::from_secs(3),
        || procfs::alive(first) && procfs::info(first).is_some_and(|i| i.state != 'Z'),
        |a| !a,
    );
    let next = wait_until(
        "a replacement",
        Duration::from_secs(5),
        || live_children(&s),
        |k| k.len() == 1,
    );
    assert_ne!(next[0], first);
    assert_eq!(s.get("/index.html").status, 200);
}

#[test]
fn rule_51_sigterm_to_a_child_ends_it_and_it_is_replaced() {
    let s = prefork().start();
    let kids = s.wait_children(5, Duration::from_secs(5));
    kill(Pid::from_raw(kids[0]), Signal::SIGTERM).unwrap();
    wait_until(
        "child gone",
        Duration::from_secs(3),
        || live_children(&s).contains(&kids[0]),
        |c| !c,
    );
    wait_until(
        "replaced",
        Duration::from_secs(5),
        || live_children(&s).len(),
        |n| *n == 5,
    );
}

#[test]
fn killed_busy_child_is_replaced_its_slot_freed_and_abnormal_exit_logged() {
    // AH00052 (or AH00051 with a core) names the signal; SIGKILL is not logged (§1.6).
    let s = prefork().start();
    s.wait_children(5, Duration::from_secs(5));
    let _held = s.hold_partial(3);
    wait_until(
        "3 R",
        Duration::from_secs(5),
        || s.status_auto().count('R'),
        |n| *n >= 3,
    );
    let kids = live_children(&s);
    kill(Pid::from_raw(kids[0]), Signal::SIGKILL).unwrap();
    kill(Pid::from_raw(kids[1]), Signal::SIGSEGV).unwrap();
    let line = wait_until(
        "AH00051/AH00052",
        Duration::from_secs(5),
        || s.log_lines(&format!("child pid {} exit signal", kids[1])),
        |l| !l.is_empty(),
    );
    assert!(line[0].contains("Segmentation fault (11)"), "{line:?}");
    assert!(
        s.log_lines(&format!("child pid {} exit signal", kids[0]))
            .is_empty(),
        "SIGKILL is not logged"
    );
    wait_until(
        "5+ children again",
        Duration::from_secs(6),
        || live_children(&s),
        |k| k.len() >= 5 && !k.contains(&kids[0]) && !k.contains(&kids[1]),
    );
    // Dead slots are '.' again: the scoreboard shows as many processes as /proc (once spawning
    // has settled).
    wait_until(
        "scoreboard agrees with /proc",
        Duration::from_secs(5),
        || (s.status_auto().processes(1), live_children(&s).len()),
        |(sb, procs)| *sb == Some(*procs),
    );
}

#[test]
fn one_process_mode_serves_without_children() {
    let s = prefork().arg("-X").start();
    assert!(live_children(&s).is_empty(), "-X: no children");
    assert_eq!(s.get("/index.html").status, 200);
    assert_eq!(s.get("/index.html").status, 200);
}

#[test]
fn rule_55_children_run_as_user_and_group_when_root() {
    if !nix::unistd::geteuid().is_root() {
        eprintln!("skipped: needs root");
        return;
    }
    let s = prefork()
        .directive("User nobody")
        .directive("Group nogroup")
        .start();
    s.assert_children_run_as("nobody", "nogroup", 5);
}
