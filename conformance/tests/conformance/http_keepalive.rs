//! Keep-alive and graceful restarts in the synchronous MPMs (spec §9 last bullet, rule 70).

use conformance::http::read_until_close;
use conformance::{Mpm, ServerTest, wait_until};
use nix::sys::signal::Signal;
use std::io::Write;
use std::time::Duration;

/// Rule 70: once a graceful restart has begun, prefork and worker finish the request in
/// flight, answer it with `Connection: close`, and close the keep-alive connection.
fn rule_70_sync_mpms_close_keepalive_after_inflight_request_on_graceful(mpm: Mpm) {
    let s = ServerTest::new(mpm).start();
    let g0 = s
        .status_auto()
        .int("ParentServerMPMGeneration")
        .expect("generation key");
    let mut c = s.connect();
    // A keep-alive request, in flight: its blank line has not been sent yet.
    c.write_all(b"GET /index.html HTTP/1.1\r\nHost: x\r\n")
        .unwrap();
    wait_until(
        "the request being read (R)",
        Duration::from_secs(10),
        || s.status_auto().count('R'),
        |&n| n >= 1,
    );
    s.signal(Signal::SIGUSR1);
    wait_until(
        "the new generation",
        Duration::from_secs(15),
        || {
            s.try_status_auto()
                .ok()
                .and_then(|st| st.int("ParentServerMPMGeneration"))
        },
        |g| *g == Some(g0 + 1),
    );
    c.write_all(b"\r\n").unwrap();
    let ex = read_until_close(&mut c, Duration::from_secs(10)).unwrap();
    let r = ex.response();
    assert_eq!(r.status, 200, "the request in flight is served");
    assert!(r.closes(), "with Connection: close: {:?}", r.headers);
    assert!(ex.closed, "and the connection is closed, not kept alive");
}

mod rule_70_sync_mpms_close_keepalive_after_inflight_request_on_graceful {
    use conformance::Mpm;
    #[test]
    fn prefork() {
        super::rule_70_sync_mpms_close_keepalive_after_inflight_request_on_graceful(Mpm::Prefork)
    }
    #[test]
    fn worker() {
        super::rule_70_sync_mpms_close_keepalive_after_inflight_request_on_graceful(Mpm::Worker)
    }
}
