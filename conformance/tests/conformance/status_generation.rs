//! Generations on the status page (spec §1.2, §7.5, rule 41).

use conformance::{Mpm, ServerTest, for_each_mpm, wait_until};
use nix::sys::signal::Signal;
use std::time::Duration;

/// Rule 41: a graceful restart (SIGUSR1) increments ParentServerMPMGeneration and keeps
/// RestartTime and the counters; a restart (SIGHUP) increments it too but resets RestartTime,
/// the uptime and the counters.
fn rule_41_generation_and_restart_time_across_restarts(mpm: Mpm) {
    let s = ServerTest::new(mpm).start();
    let st0 = s.status_auto();
    let g0 = st0
        .int("ParentServerMPMGeneration")
        .expect("generation key");
    let r0 = st0.get("RestartTime").expect("RestartTime").to_string();
    for _ in 0..3 {
        assert_eq!(s.get("/index.html").status, 200);
    }
    s.signal(Signal::SIGUSR1);
    let st1 = wait_until(
        "generation +1 after SIGUSR1",
        Duration::from_secs(15),
        || s.try_status_auto().ok(),
        |st| {
            st.as_ref()
                .and_then(|st| st.int("ParentServerMPMGeneration"))
                == Some(g0 + 1)
        },
    )
    .unwrap();
    assert_eq!(
        st1.get("RestartTime"),
        Some(r0.as_str()),
        "graceful keeps RestartTime"
    );
    let acc1 = st1.int("Total Accesses").unwrap_or(0);
    assert!(acc1 >= 4, "graceful keeps the counters: {acc1}");
    // RestartTime has one-second resolution: let the clock move before the hard restart.
    wait_until(
        "uptime ≥ 2 s",
        Duration::from_secs(10),
        || s.status_auto().int("ServerUptimeSeconds"),
        |u| u.unwrap_or(0) >= 2,
    );
    let up1 = s.status_auto().int("ServerUptimeSeconds").unwrap_or(0);
    s.signal(Signal::SIGHUP);
    let st2 = wait_until(
        "generation +2 after SIGHUP",
        Duration::from_secs(15),
        || s.try_status_auto().ok(),
        |st| {
            st.as_ref()
                .and_then(|st| st.int("ParentServerMPMGeneration"))
                == Some(g0 + 2)
        },
    )
    .unwrap();
    assert_ne!(
        st2.get("RestartTime"),
        Some(r0.as_str()),
        "SIGHUP resets RestartTime"
    );
    assert!(
        st2.int("ServerUptimeSeconds").unwrap_or(i64::MAX) < up1,
        "SIGHUP resets the uptime"
    );
    assert!(
        st2.int("Total Accesses").unwrap_or(i64::MAX) < acc1,
        "SIGHUP resets the counters"
    );
}
for_each_mpm!(rule_41_generation_and_restart_time_across_restarts);
