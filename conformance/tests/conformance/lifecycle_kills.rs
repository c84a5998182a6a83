//! Rule 57 (worker and event): a child killed by a signal is replaced at once by the parent's
//! reap path, not by idle-server maintenance. The configuration makes maintenance content with
//! one child fewer (idle threads stay within [MinSpareThreads, MaxSpareThreads]), so the
//! replacement can only come from the fast path: without rule 57 the server stays at 2 children.

use std::time::Duration;

use conformance::{Mpm, Server, ServerTest, wait_until};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

fn three_children(mpm: Mpm) -> Server {
    let s = ServerTest::new(mpm)
        .directive("StartServers 3")
        .directive("ThreadsPerChild 5")
        .directive("MinSpareThreads 5")
        .directive("MaxSpareThreads 20")
        .directive("MaxRequestWorkers 50")
        .start();
    wait_until(
        "three children",
        Duration::from_secs(10),
        || s.children(),
        |k| k.len() == 3,
    );
    s
}

fn killed_child_is_replaced_without_maintenance(mpm: Mpm) {
    let s = three_children(mpm);
    let victim = s.children()[0];
    kill(Pid::from_raw(victim), Signal::SIGKILL).unwrap();
    let kids = wait_until(
        "the killed child replaced (maintenance alone would keep 2)",
        Duration::from_secs(5),
        || s.children(),
        |k| k.len() == 3 && !k.contains(&victim),
    );
    assert_eq!(kids.len(), 3);
    // Nothing else happens later: maintenance saw enough spare threads all along.
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(
        s.children().len(),
        3,
        "maintenance must not have had to act"
    );
    assert_eq!(s.get("/index.html").status, 200);
}

#[test]
fn rule_57_killed_child_replaced_by_the_reap_path_worker() {
    killed_child_is_replaced_without_maintenance(Mpm::Worker);
}

#[test]
fn rule_57_killed_child_replaced_by_the_reap_path_event() {
    killed_child_is_replaced_without_maintenance(Mpm::Event);
}
