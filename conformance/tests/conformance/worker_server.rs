//! The real `mpm-worker` binary (through the `conf-worker` shim), watched from outside: /proc,
//! `?auto`, the error log. Each test is named after its rule in apache-mpm-rules.md §11;
//! scenarios are scaled down (ThreadsPerChild 5 instead of 25, a few seconds per phase): the
//! full reference run is reproduced by `mpm_worker::sim` and by `mpm-lab run`.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use conformance::procfs;
use conformance::wait::wait_until;
use conformance::{Mpm, Server, ServerTest};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

fn worker() -> ServerTest {
    ServerTest::new(Mpm::Worker)
}

/// The reference run's shape at a fifth of the size (shared with event's tests).
fn small_reference() -> ServerTest {
    crate::lifecycle_threaded::small_reference(Mpm::Worker)
}

/// Live (non-zombie) children of the parent.
fn live_children(s: &Server) -> Vec<i32> {
    s.children()
        .into_iter()
        .filter(|&p| procfs::info(p).is_some_and(|i| i.state != 'Z'))
        .collect()
}

fn wait_live(s: &Server, n: usize, timeout: Duration) {
    wait_until(
        &format!("{n} live children"),
        timeout,
        || live_children(s).len(),
        |&c| c == n,
    );
}

/// The live-children counts seen until the count has stayed at `n` for a second (15 s at most).
fn settle_at(s: &Server, n: usize) -> Vec<usize> {
    crate::lifecycle_threaded::count_changes_until(
        s,
        n,
        Duration::from_secs(1),
        Duration::from_secs(15),
    )
    .into_iter()
    .map(|(_, n)| n)
    .collect()
}

fn finish_request(stream: &mut TcpStream) -> String {
    stream.write_all(b"\r\n").unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut out = Vec::new();
    let _ = stream.read_to_end(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}

#[test]
fn rule_02_defaults_start_three_children_of_25_workers_listener_and_main() {
    let s = worker().start();
    s.wait_children(3, Duration::from_secs(5));
    // 25 workers + 1 listener + the main thread; the start thread exits once all exist.
    let threads = wait_until(
        "27 threads in each child",
        Duration::from_secs(5),
        || s.child_threads(),
        |t| t.len() == 3 && t.iter().all(|&n| n == 27),
    );
    assert_eq!(threads, [27, 27, 27]);
    assert_eq!(
        procfs::threads(s.pid()),
        1,
        "the parent is single-threaded (it forks)"
    );
    // The status request itself occupies one of the 75 workers. A thread exists a moment
    // before it marks its slot `_` (a loaded machine stretches that moment), so wait for it.
    let st = wait_until(
        "74 idle workers and the status request",
        Duration::from_secs(5),
        || s.status_auto(),
        |st| (st.busy(), st.idle()) == (1, 74),
    );
    assert_eq!(st.mpm(), "worker");
    assert_eq!(st.scoreboard.len(), 400, "16 processes × 25 threads");
    // 75 idle threads are within [75, 250]: no change over two passes.
    std::thread::sleep(Duration::from_millis(2500));
    assert_eq!(live_children(&s).len(), 3);
}

#[test]
fn rule_13_reference_shape_grows_2_3_4_6_caps_with_ah00286_then_stops_one_per_second() {
    let s = small_reference().start();
    wait_live(&s, 2, Duration::from_secs(5));
    // Like the reference phase 1 (40 of 50 threads held): one more child at the next pass.
    let h1 = s.hold_partial(8);
    wait_live(&s, 3, Duration::from_secs(4));
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(live_children(&s).len(), 3, "7 idle ≥ MinSpareThreads 5");
    // Phase 2 (120 of 150): 3 → 4 → 6, the rate doubling from 1 to 2.
    let h2 = s.hold_partial(16);
    let seen = settle_at(&s, 6);
    assert!(
        seen.contains(&4) && seen.last() == Some(&6),
        "counts {seen:?}"
    );
    // Phase 3 (160 > 150): saturated, AH00286 once, never more than 6 children.
    let h3 = s.hold_partial(8);
    s.wait_for_log(
        "AH00286: server reached MaxRequestWorkers setting",
        Duration::from_secs(5),
    );
    std::thread::sleep(Duration::from_millis(2500));
    assert_eq!(
        s.log_lines("AH00286").len(),
        1,
        "AH00286 is logged once per parent lifetime"
    );
    assert_eq!(live_children(&s).len(), 6);
    // Phase 4 (no load): 30 idle > 15, one child stopped per pass down to 3 (15 idle).
    drop((h1, h2, h3));
    let changes = crate::lifecycle_threaded::count_changes_until(
        &s,
        3,
        Duration::from_millis(1500),
        Duration::from_secs(15),
    );
    assert_eq!(changes.first().map(|&(_, n)| n), Some(6), "{changes:?}");
    crate::lifecycle_threaded::assert_one_stop_per_pass(&changes, 3);
}

#[test]
fn rule_70_graceful_restart_loses_no_held_connection() {
    let s = small_reference().start();
    wait_live(&s, 2, Duration::from_secs(5));
    let mut held = s.hold_partial(6);
    std::thread::sleep(Duration::from_millis(300));
    let old: Vec<i32> = live_children(&s);
    s.signal(Signal::SIGUSR1);
    s.wait_for_log(
        "AH00297: SIGUSR1 received.  Doing graceful restart",
        Duration::from_secs(5),
    );
    // New children of the new generation appear while the old ones finish their requests.
    wait_until(
        "a child of the new generation",
        Duration::from_secs(5),
        || live_children(&s),
        |kids| kids.iter().any(|k| !old.contains(k)),
    );
    for (i, c) in held.streams().iter_mut().enumerate() {
        let out = finish_request(c);
        assert!(
            out.starts_with("HTTP/1.1 200 OK"),
            "held connection {i} got {out:?}"
        );
        assert!(
            out.contains("Connection: close"),
            "after a graceful restart the connection closes (rule 70)"
        );
    }
    // The old children then exit; the server keeps serving.
    wait_until(
        "old children gone",
        Duration::from_secs(10),
        || live_children(&s),
        |kids| kids.iter().all(|k| !old.contains(k)),
    );
    assert_eq!(s.get("/index.html").status, 200);
    assert_eq!(s.status_auto().int("ParentServerMPMGeneration"), Some(1));
}

#[test]
fn rule_54_max_connections_per_child_recycles_children() {
    let s = worker()
        .directive("StartServers 1")
        .directive("ThreadsPerChild 2")
        .directive("MinSpareThreads 1")
        .directive("MaxSpareThreads 10")
        .directive("MaxRequestWorkers 4")
        .directive("MaxConnectionsPerChild 3")
        .start();
    let first = s.wait_children(1, Duration::from_secs(5))[0];
    for _ in 0..12 {
        let r = conformance::http::get(s.addr(), "/index.html").expect("served");
        assert_eq!(r.status, 200);
    }
    // The first child stopped after its budget (maybe a little over, rule 54) and was replaced.
    wait_until(
        "the first child to exit",
        Duration::from_secs(10),
        || procfs::info(first).is_some_and(|i| i.state != 'Z'),
        |alive| !alive,
    );
    // The parent sees the exit on its next one-second pass and, with no idle thread left
    // (MinSpareThreads 1), forks the replacement then; until that the pool may be empty.
    wait_until(
        "a replacement child",
        Duration::from_secs(5),
        || live_children(&s),
        |kids| !kids.is_empty() && !kids.contains(&first),
    );
    assert_eq!(s.get("/index.html").status, 200);
}

#[test]
fn rule_02_proc_threads_and_processes_match_the_scoreboard() {
    let s = small_reference().start();
    wait_live(&s, 2, Duration::from_secs(5));
    let _h = s.hold_partial(8);
    wait_live(&s, 3, Duration::from_secs(4));
    let threads = wait_until(
        "7 threads per child",
        Duration::from_secs(5),
        || s.child_threads(),
        |t| t.iter().all(|&n| n == 7),
    );
    let st = s.status_auto();
    assert_eq!(
        st.processes(5),
        Some(threads.len()),
        "scoreboard {}",
        st.scoreboard
    );
    assert_eq!(
        (st.busy() + st.idle()) as usize,
        threads.len() * 5,
        "{}",
        st.scoreboard
    );
}

#[test]
fn rule_51_sigterm_to_a_worker_child_does_not_stop_it() {
    let s = small_reference().start();
    wait_live(&s, 2, Duration::from_secs(5));
    let child = live_children(&s)[0];
    kill(Pid::from_raw(child), Signal::SIGTERM).unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    assert!(
        live_children(&s).contains(&child),
        "SIGTERM only wakes the main thread"
    );
    assert_eq!(s.get("/index.html").status, 200);
}

#[test]
fn rule_57_children_killed_in_a_row_are_replaced_at_once_until_the_third() {
    // The parent notices deaths only when its 1 s sleep ends (no SIGCHLD wake-up, like
    // `ap_wait_or_timeout`); then it reaps them one per loop iteration. Three children killed
    // together are three successive kills: two are replaced at once, the third logs AH10393.
    let s = small_reference().directive("StartServers 3").start();
    wait_live(&s, 3, Duration::from_secs(5));
    let victims = live_children(&s);
    for v in &victims {
        kill(Pid::from_raw(*v), Signal::SIGKILL).unwrap();
    }
    s.wait_for_log(
        "AH10393: children are killed successively!",
        Duration::from_secs(4),
    );
    assert_eq!(s.log_lines("AH10393").len(), 1);
    // Maintenance then restores the spare threads.
    wait_until(
        "replacement children",
        Duration::from_secs(6),
        || live_children(&s),
        |kids| kids.len() >= 2 && kids.iter().all(|k| !victims.contains(k)),
    );
    assert_eq!(s.get("/index.html").status, 200);
}

#[test]
fn rule_44_sigterm_stops_with_ah00295_and_removes_the_pid_file() {
    let mut s = small_reference().start();
    wait_live(&s, 2, Duration::from_secs(5));
    let pid_file = s.dir().join("httpd.pid");
    assert!(pid_file.exists());
    s.signal(Signal::SIGTERM);
    assert!(
        s.wait_exit(Duration::from_secs(15)).is_some(),
        "parent exits"
    );
    assert!(
        s.error_log()
            .contains("AH00295: caught SIGTERM, shutting down")
    );
    assert!(!pid_file.exists());
}

#[test]
fn rule_28_max_request_workers_over_server_limit_logs_ah00288_every_second() {
    // 10 workers would need 5 children of 2 threads, ServerLimit allows 1: AH00318 at start,
    // and Apache's unlowered max_workers makes saturation "scoreboard is full" every pass.
    let s = worker()
        .directive("ServerLimit 1")
        .directive("StartServers 1")
        .directive("ThreadsPerChild 2")
        .directive("MaxRequestWorkers 10")
        .start();
    assert!(s.stderr().contains("AH00318: WARNING: MaxRequestWorkers of 10 would require 5 servers and would exceed ServerLimit of 1, decreasing to 2."), "stderr: {}", s.stderr());
    let _held = s.hold_partial(2);
    wait_until(
        "AH00288 on several passes",
        Duration::from_secs(6),
        || {
            s.log_lines("AH00288: scoreboard is full, not at MaxRequestWorkers")
                .len()
        },
        |&n| n >= 3,
    );
    assert!(s.log_lines("AH00286").is_empty(), "never AH00286 (rule 28)");
}
