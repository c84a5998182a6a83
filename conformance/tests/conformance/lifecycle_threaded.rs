//! Lifecycle rules shared by the two threaded MPMs, checked on the real binaries:
//! rule 2 (default process/thread shape), rule 51 (SIGTERM to a child is only a wake-up) and
//! rule 55 (children run as User/Group, the parent keeps root).

use std::time::Duration;

use conformance::{Mpm, ServerTest, procfs, wait_until};
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
