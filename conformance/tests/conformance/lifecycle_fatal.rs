//! Rule 56: a child of the current generation that exits with APEXIT_CHILDFATAL (15) stops the
//! whole server with AH00050. The fault is real, not injected: started as root with
//! `User #4294967295`, the name resolves (a numeric id), but `setuid((uid_t)-1)` fails with
//! EINVAL in every child, which is exactly the privilege-drop failure Apache treats as fatal.

use std::time::Duration;

use conformance::{Mpm, ServerTest};

fn fatal_child_stops_the_server(mpm: Mpm) {
    if !nix::unistd::geteuid().is_root() {
        eprintln!("skipped: needs root (privilege drop only happens as root)");
        return;
    }
    let done = ServerTest::new(mpm)
        .directive("User #4294967295")
        .run_to_exit(Duration::from_secs(30))
        .expect("server starts");
    let status = done
        .status
        .unwrap_or_else(|| panic!("the server did not stop by itself\n{}", done.error_log));
    assert!(
        !status.success(),
        "a fatal child must make the server exit with an error: {status:?}"
    );
    assert!(
        done.error_log
            .contains("AH02162: setuid: unable to change to uid: 4294967295"),
        "{}",
        done.error_log
    );
    assert!(
        done.error_log
            .contains("returned a Fatal error... Apache is exiting!"),
        "{}",
        done.error_log
    );
    assert!(done.error_log.contains("AH00050"), "{}", done.error_log);
}

#[test]
fn rule_56_fatal_child_stops_the_server_prefork() {
    fatal_child_stops_the_server(Mpm::Prefork);
}

#[test]
fn rule_56_fatal_child_stops_the_server_worker() {
    fatal_child_stops_the_server(Mpm::Worker);
}

#[test]
fn rule_56_fatal_child_stops_the_server_event() {
    fatal_child_stops_the_server(Mpm::Event);
}
