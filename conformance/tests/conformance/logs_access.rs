//! What the access log shows of the MPM's own housekeeping (spec §1.5, rule 7).

use conformance::{Mpm, ServerTest, wait_until};
use std::time::Duration;

/// Rule 7: each prefork idle-kill is a pipe-of-death byte plus a dummy connection from the
/// server to itself, which the woken child serves and logs as `"OPTIONS * HTTP/1.0" 200 -`.
#[test]
fn rule_07_each_prefork_idle_kill_logs_a_dummy_options_request() {
    let s = ServerTest::new(Mpm::Prefork)
        .directive("StartServers 6")
        .directive("MinSpareServers 1")
        .directive("MaxSpareServers 2")
        .start();
    // 6 idle > MaxSpareServers 2: one child per maintenance tick (1 s) until 2 are left.
    s.wait_children(2, Duration::from_secs(20));
    let dummy: Vec<String> = wait_until(
        "four dummy requests logged",
        Duration::from_secs(5),
        || {
            s.access_log()
                .lines()
                .filter(|l| l.contains("\"OPTIONS * HTTP/1.0\""))
                .map(str::to_string)
                .collect()
        },
        |v: &Vec<String>| v.len() >= 4,
    );
    assert_eq!(
        dummy.len(),
        4,
        "one per killed child:\n{}",
        dummy.join("\n")
    );
    for l in &dummy {
        assert!(
            l.starts_with("127.0.0.1 "),
            "from the server's own address: {l}"
        );
        assert!(l.ends_with("\"OPTIONS * HTTP/1.0\" 200 -"), "{l}");
    }
}
