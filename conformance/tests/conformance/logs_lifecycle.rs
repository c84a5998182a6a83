//! The control process's lifecycle as the error log tells it (spec §6.3, rules 44, 45, 47, 49):
//! the same messages, with each MPM's own AH codes.

use conformance::{Mpm, ServerTest, for_each_mpm, wait_until};
use nix::sys::signal::Signal;
use std::time::Duration;

/// (resuming normal operations, Server built, SIGTERM, SIGWINCH, SIGUSR1) codes per MPM.
fn codes(mpm: Mpm) -> [&'static str; 5] {
    match mpm {
        Mpm::Prefork => ["AH00163", "AH00164", "AH00169", "AH00170", "AH00171"],
        Mpm::Worker => ["AH00292", "AH00293", "AH00295", "AH00296", "AH00297"],
        Mpm::Event => ["AH00489", "AH00490", "AH00491", "AH00492", "AH00493"],
    }
}

/// Rule 49: after each (re)start, notice "… configured -- resuming normal operations", then
/// info "Server built:".
fn rule_49_start_logs_resuming_then_server_built(mpm: Mpm) {
    let s = ServerTest::new(mpm).start();
    let [resuming, built, ..] = codes(mpm);
    let l = s.wait_for_log(resuming, Duration::from_secs(5));
    assert!(l.contains(&format!("[{}:notice]", mpm.module())), "{l}");
    assert!(
        l.contains("configured -- resuming normal operations"),
        "{l}"
    );
    let b = s.wait_for_log(built, Duration::from_secs(5));
    assert!(
        b.contains(&format!("[{}:info]", mpm.module())) && b.contains("Server built:"),
        "{b}"
    );
    let log = s.error_log();
    assert!(
        log.find(resuming) < log.find(built),
        "resuming comes first:\n{log}"
    );
    // A restart logs both again.
    s.signal(Signal::SIGHUP);
    wait_until(
        "a second AH code pair",
        Duration::from_secs(15),
        || s.log_lines(built).len(),
        |&n| n >= 2,
    );
    assert_eq!(s.log_lines(resuming).len(), 2);
}
for_each_mpm!(rule_49_start_logs_resuming_then_server_built);

/// Rule 44: SIGTERM (and SIGINT) stop at once with "caught SIGTERM, shutting down".
fn rule_44_sigterm_and_sigint_stop_with_caught_sigterm(mpm: Mpm) {
    for sig in [Signal::SIGTERM, Signal::SIGINT] {
        let mut s = ServerTest::new(mpm).start();
        s.signal(sig);
        let status = s
            .wait_exit(Duration::from_secs(12))
            .expect("the server exits");
        assert!(
            status.success() || status.code().is_some(),
            "{sig:?}: {status}"
        );
        let l = s.log_lines(codes(mpm)[2]);
        assert_eq!(l.len(), 1, "{sig:?}:\n{}", s.error_log());
        assert!(l[0].contains("caught SIGTERM, shutting down"), "{}", l[0]);
    }
}
for_each_mpm!(rule_44_sigterm_and_sigint_stop_with_caught_sigterm);

/// Rule 45: SIGWINCH removes the pid file (info AH00096), logs "caught SIGWINCH, shutting down
/// gracefully", and the server exits once its children are done.
fn rule_45_sigwinch_removes_pidfile_and_stops_gracefully(mpm: Mpm) {
    let mut s = ServerTest::new(mpm).start();
    let pidfile = s.dir().join("httpd.pid");
    let written = std::fs::read_to_string(&pidfile).expect("PidFile written at start");
    assert_eq!(written.trim(), s.pid().to_string());
    s.signal(Signal::SIGWINCH);
    s.wait_exit(Duration::from_secs(15))
        .expect("a graceful stop of an idle server ends");
    assert!(!pidfile.exists(), "the pid file is removed");
    let l = s.log_lines(codes(mpm)[3]);
    assert!(
        l.first()
            .is_some_and(|l| l.contains("caught SIGWINCH, shutting down gracefully")),
        "{}",
        s.error_log()
    );
    assert!(
        !s.log_lines("AH00096").is_empty(),
        "AH00096 (pid file removed) at info:\n{}",
        s.error_log()
    );
}
for_each_mpm!(rule_45_sigwinch_removes_pidfile_and_stops_gracefully);

/// Rule 47: SIGUSR1 logs the graceful-restart message (prefork's wording differs).
fn rule_47_sigusr1_logs_graceful_restart(mpm: Mpm) {
    let s = ServerTest::new(mpm).start();
    s.signal(Signal::SIGUSR1);
    let l = s.wait_for_log(codes(mpm)[4], Duration::from_secs(10));
    let text = match mpm {
        Mpm::Prefork => "Graceful restart requested, doing restart",
        Mpm::Worker | Mpm::Event => "SIGUSR1 received.  Doing graceful restart",
    };
    assert!(l.contains(text), "{l}");
    // And the server serves on.
    wait_until(
        "a second start",
        Duration::from_secs(15),
        || s.log_lines(codes(mpm)[0]).len(),
        |&n| n >= 2,
    );
    assert_eq!(s.get("/index.html").status, 200);
}
for_each_mpm!(rule_47_sigusr1_logs_graceful_restart);
