//! Lifecycle rules shared by the two threaded MPMs, checked on the real binaries with one body
//! per rule: rule 2 (default process/thread shape), rule 12 (an idle surplus stops one child
//! per second), rules 46 and 48 (graceful-stop timeout, SIGHUP restart), rule 51 (SIGTERM to a
//! child is only a wake-up) and rule 55 (children run as User/Group, the parent keeps root).

use std::time::{Duration, Instant};

use conformance::{Mpm, Server, ServerTest, procfs, wait_until};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

/// Rule 2: with the defaults, exactly 3 children, each with ThreadsPerChild (25) workers, one
/// listener and the main thread; the parent is single-threaded.
fn default_shape(mpm: Mpm) {
    let s = ServerTest::new(mpm).start();
    let kids = wait_until(
        "3 children with 27 threads",
        Duration::from_secs(10),
        || s.child_infos(),
        |k| k.len() == 3 && k.iter().all(|c| c.threads == 27),
    );
    assert_eq!(kids.len(), 3);
    assert_eq!(
        procfs::info(s.pid()).unwrap().threads,
        1,
        "the parent never starts a thread"
    );
}

/// Rule 51: SIGTERM sent straight to a threaded child does not stop it (the child acts on the
/// pipe of death; SIGTERM only wakes its main thread).
fn sigterm_to_child_is_not_a_stop(mpm: Mpm) {
    let s = ServerTest::new(mpm).directive("StartServers 2").start();
    let kids = wait_until(
        "2 children",
        Duration::from_secs(10),
        || s.children(),
        |k| k.len() == 2,
    );
    kill(Pid::from_raw(kids[0]), Signal::SIGTERM).unwrap();
    // The child must still be there once the parent has had two maintenance seconds to notice.
    std::thread::sleep(Duration::from_millis(2500));
    assert!(procfs::alive(kids[0]), "child {} left on SIGTERM", kids[0]);
    assert_eq!(s.get("/index.html").status, 200);
}

/// Rule 55: started as root, every child runs as User/Group; the parent keeps uid 0.
fn children_drop_root(mpm: Mpm) {
    if !nix::unistd::geteuid().is_root() {
        eprintln!("skipped: needs root");
        return;
    }
    let s = ServerTest::new(mpm)
        .directive("User nobody")
        .directive("Group nogroup")
        .start();
    s.assert_children_run_as("nobody", "nogroup", 3);
}

/// Rule 55 with a virtual host whose logs are in a directory only root may enter (as Debian's
/// `/var/log/apache2` is to `www-data`): the logs are opened before the children drop root, as
/// Apache's parent opens them, so the children start, serve, and write to them.
fn vhost_logs_in_a_root_only_directory(mpm: Mpm) {
    use std::os::unix::fs::DirBuilderExt;
    if !nix::unistd::geteuid().is_root() {
        eprintln!("skipped: needs root");
        return;
    }
    struct RemoveOnDrop(std::path::PathBuf);
    impl Drop for RemoveOnDrop {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
    let logs = std::env::temp_dir().join(format!(
        "mpm-lab-rootlogs-{}-{}",
        mpm.name(),
        std::process::id()
    ));
    std::fs::DirBuilder::new()
        .mode(0o700)
        .create(&logs)
        .expect("a root-only log directory");
    let _cleanup = RemoveOnDrop(logs.clone());
    let vhost = format!(
        "<VirtualHost *>\n    ServerName v.example\n    ErrorLog {0}/error_log\n    \
         CustomLog {0}/access_log \"%h \\\"%r\\\" %>s\"\n</VirtualHost>",
        logs.display()
    );
    let s = ServerTest::new(mpm)
        .directive("User nobody")
        .directive("Group nogroup")
        .directive(&vhost)
        .start();
    s.assert_children_run_as("nobody", "nogroup", 3);
    assert_eq!(s.get("/index.html").status, 200);
    let line = wait_until(
        "the request in the virtual host's access log",
        Duration::from_secs(5),
        || std::fs::read_to_string(logs.join("access_log")).unwrap_or_default(),
        |l| l.contains("\"GET /index.html HTTP/1.1\" 200"),
    );
    assert!(line.contains(" 200"), "access log: {line}");
}

#[test]
fn rule_55_vhost_logs_in_a_root_only_directory_worker() {
    vhost_logs_in_a_root_only_directory(Mpm::Worker);
}

#[test]
fn rule_55_vhost_logs_in_a_root_only_directory_event() {
    vhost_logs_in_a_root_only_directory(Mpm::Event);
}

#[test]
fn rule_02_defaults_three_children_of_27_threads_event() {
    default_shape(Mpm::Event);
}

#[test]
fn rule_51_sigterm_to_a_child_does_not_stop_it_event() {
    sigterm_to_child_is_not_a_stop(Mpm::Event);
}

#[test]
fn rule_55_children_run_as_user_and_group_worker() {
    children_drop_root(Mpm::Worker);
}

#[test]
fn rule_55_children_run_as_user_and_group_event() {
    children_drop_root(Mpm::Event);
}

/// (SIGWINCH, SIGHUP, "resuming normal operations") codes of a threaded MPM.
fn codes(mpm: Mpm) -> [&'static str; 3] {
    match mpm {
        Mpm::Worker => ["AH00296", "AH00298", "AH00292"],
        Mpm::Event => ["AH00492", "AH00494", "AH00489"],
        Mpm::Prefork => unreachable!("threaded MPMs only"),
    }
}

/// The reference run's shape (run1/*.httpd.conf) at a fifth of the size: TPC 5,
/// MinSpareThreads 5, MaxSpareThreads 15, MaxRequestWorkers 30 (6 children), StartServers 2.
pub(crate) fn small_reference(mpm: Mpm) -> ServerTest {
    ServerTest::new(mpm)
        .directive("ServerLimit 16")
        .directive("StartServers 2")
        .directive("ThreadsPerChild 5")
        .directive("MinSpareThreads 5")
        .directive("MaxSpareThreads 15")
        .directive("MaxRequestWorkers 30")
        .directive("LogLevel info")
}

/// Watch the number of children every 50 ms; return each change with when it was seen. Ends
/// as soon as the count has stayed at `settled` for `hold`, or at `timeout`. A loaded machine
/// (CI, two cores) stretches startup and the passes; the shape of the changes is what the
/// tests check, not how long the whole took.
pub(crate) fn count_changes_until(
    s: &Server,
    settled: usize,
    hold: Duration,
    timeout: Duration,
) -> Vec<(Duration, usize)> {
    let t0 = Instant::now();
    let mut seen: Vec<(Duration, usize)> = Vec::new();
    while t0.elapsed() < timeout {
        let n = s.children().len();
        if seen.last().is_none_or(|&(_, last)| last != n) {
            seen.push((t0.elapsed(), n));
        }
        if let Some(&(since, last)) = seen.last() {
            if last == settled && t0.elapsed() - since >= hold {
                break;
            }
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    seen
}

/// The changes from the first time the largest count was seen: what comes before is startup
/// still forking, which the shape checks must not read as the pool growing.
fn from_first_peak(changes: &[(Duration, usize)]) -> &[(Duration, usize)] {
    let peak = changes.iter().map(|&(_, n)| n).max().unwrap_or(0);
    let first = changes.iter().position(|&(_, n)| n == peak).unwrap_or(0);
    &changes[first..]
}

/// Rule 12's shape, in a watch that starts at the peak: down one child at a time to `to`, each
/// stop from its own maintenance pass. A stop is seen when the child has exited, which a loaded
/// machine delays by a varying few hundred milliseconds, so a single gap is only required to be
/// well apart; all the stops together must span the ticks between the first pass and the last.
pub(crate) fn assert_one_stop_per_pass(changes: &[(Duration, usize)], to: usize) {
    let counts: Vec<usize> = changes.iter().map(|&(_, n)| n).collect();
    assert_eq!(counts.last(), Some(&to), "counts {changes:?}");
    assert!(
        counts.windows(2).all(|w| w[0] == w[1] + 1),
        "one child at a time: {changes:?}"
    );
    assert!(
        changes
            .windows(2)
            .all(|w| w[1].0 - w[0].0 >= Duration::from_millis(400)),
        "at most one stop per second: {changes:?}"
    );
    let ticks_between = changes.len().saturating_sub(2) as u64;
    if let (Some(&(first_stop, _)), Some(&(at_end, _))) = (changes.get(1), changes.last()) {
        assert!(
            at_end - first_stop >= Duration::from_secs(ticks_between) / 4 * 3,
            "{} stops need {ticks_between} more ticks after the first: {changes:?}",
            changes.len() - 1
        );
    }
}

/// Rule 12: 6 idle children of 5 threads (30 idle > MaxSpareThreads 15) lose one child per
/// maintenance pass, ~1 s apart, down to 3 (15 idle, no longer above the threshold).
fn idle_surplus_stops_one_child_per_second(mpm: Mpm) {
    let s = small_reference(mpm).directive("StartServers 6").start();
    let watched = count_changes_until(&s, 3, Duration::from_millis(1500), Duration::from_secs(15));
    // The server answers its readiness probe from the first child, possibly before the parent
    // has forked all six (a loaded CI box showed 5, then 6, 50 ms later). Rule 12 is about what
    // happens after startup, so the shape is read from the first time six were seen.
    let peak = watched.iter().map(|&(_, n)| n).max();
    assert_eq!(peak, Some(6), "StartServers 6: {watched:?}");
    let changes = from_first_peak(&watched);
    assert_one_stop_per_pass(changes, 3);
    // And it stayed there for 1.5 s (a pass and a half), and still does.
    assert_eq!(s.children().len(), 3);
}

#[test]
fn rule_12_idle_surplus_stops_one_child_per_second_worker() {
    idle_surplus_stops_one_child_per_second(Mpm::Worker);
}

#[test]
fn rule_12_idle_surplus_stops_one_child_per_second_event() {
    idle_surplus_stops_one_child_per_second(Mpm::Event);
}

/// Rule 46: a graceful stop waits for busy connections, but only GracefulShutdownTimeout (2 s):
/// two requests held half-sent keep the server up past 1 s; at the timeout the parent writes
/// RESTART bytes and reclaims the children. How fast they then go differs:
/// * event, as Apache: the draining child no longer reads the pipe of death and SIGTERM only
///   wakes it (rule 51), so the reclaim schedule SIGKILLs it 9 s later (AH00046, rule 50);
/// * worker turns ungraceful on the parent's SIGTERM at once (DEVIATIONS.md, rule 46 worker).
fn graceful_stop_waits_for_busy_connections_until_the_timeout(mpm: Mpm) {
    let mut s = small_reference(mpm)
        .directive("GracefulShutdownTimeout 2")
        .start();
    s.wait_children(2, Duration::from_secs(5));
    let _held = s.hold_partial(2);
    std::thread::sleep(Duration::from_millis(300));
    let t0 = Instant::now();
    s.signal(Signal::SIGWINCH);
    let [sigwinch, ..] = codes(mpm);
    let line = s.wait_for_log(sigwinch, Duration::from_secs(5));
    assert!(
        line.contains("caught SIGWINCH, shutting down gracefully"),
        "{line}"
    );
    std::thread::sleep(Duration::from_secs(1).saturating_sub(t0.elapsed()));
    assert!(
        procfs::alive(s.pid()),
        "still waiting for the busy connections 1 s after SIGWINCH"
    );
    assert!(
        s.wait_exit(Duration::from_secs(20)).is_some(),
        "parent exits"
    );
    let took = t0.elapsed();
    let (expected, sigkilled) = match mpm {
        // 2 s timeout + the 9 s SIGKILL step; the reclaim loop may catch up late on a loaded
        // machine (seen at 14.85 s with load 12 on 2 cores), never past its 10 s give-up.
        Mpm::Event => (Duration::from_secs(10)..Duration::from_secs(16), true),
        _ => (Duration::from_millis(1500)..Duration::from_secs(8), false),
    };
    assert!(
        expected.contains(&took),
        "took {took:?}, expected {expected:?}"
    );
    assert_eq!(
        !s.log_lines("AH00046").is_empty(),
        sigkilled,
        "SIGKILL by the reclaim schedule:\n{}",
        s.error_log()
    );
}

#[test]
fn rule_46_graceful_stop_waits_for_busy_connections_until_the_timeout_worker() {
    graceful_stop_waits_for_busy_connections_until_the_timeout(Mpm::Worker);
}

#[test]
fn rule_46_graceful_stop_waits_for_busy_connections_until_the_timeout_event() {
    graceful_stop_waits_for_busy_connections_until_the_timeout(Mpm::Event);
}

/// Rule 48: SIGHUP logs "SIGHUP received.  Attempting to restart", replaces every child and
/// starts StartServers new ones at once, then logs "resuming normal operations" again.
fn sighup_restarts_start_servers_children_at_once(mpm: Mpm) {
    let s = small_reference(mpm).start();
    let old = s.wait_children(2, Duration::from_secs(5));
    let [_, sighup, resuming] = codes(mpm);
    s.signal(Signal::SIGHUP);
    let line = s.wait_for_log(sighup, Duration::from_secs(5));
    assert!(
        line.contains("SIGHUP received.  Attempting to restart"),
        "{line}"
    );
    let new = wait_until(
        "StartServers new children",
        Duration::from_secs(10),
        || s.children(),
        |kids| kids.len() == 2 && kids.iter().all(|k| !old.contains(k)),
    );
    assert_eq!(new.len(), 2);
    assert_eq!(
        s.log_lines(resuming).len(),
        2,
        "configured -- resuming, after start and restart"
    );
    assert_eq!(s.get("/index.html").status, 200);
}

#[test]
fn rule_48_sighup_restarts_start_servers_children_at_once_worker() {
    sighup_restarts_start_servers_children_at_once(Mpm::Worker);
}

#[test]
fn rule_48_sighup_restarts_start_servers_children_at_once_event() {
    sighup_restarts_start_servers_children_at_once(Mpm::Event);
}
