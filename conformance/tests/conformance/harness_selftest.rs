//! The harness checked against itself and against the first real server: if these fail, every
//! other failure in the suite is suspect.

use conformance::server::render_config;
use conformance::{Mpm, ServerTest, procfs, wait_until};
use std::path::Path;
use std::time::Duration;

#[test]
fn shims_are_found_where_cargo_built_them() {
    let expected = [
        (Mpm::Prefork, env!("CARGO_BIN_EXE_conf-prefork")),
        (Mpm::Worker, env!("CARGO_BIN_EXE_conf-worker")),
        (Mpm::Event, env!("CARGO_BIN_EXE_conf-event")),
    ];
    for (mpm, path) in expected {
        let found = mpm.binary().expect("binary found next to the test executable");
        assert_eq!(found.canonicalize().unwrap(), Path::new(path).canonicalize().unwrap(), "{mpm}");
    }
}

#[test]
fn config_is_rewritten_into_the_test_directory() {
    let text = std::fs::read_to_string(conformance::crate_dir().join("fixtures/default.conf")).unwrap();
    let dir = Path::new("/tmp/x-test");
    let out = render_config(&text, dir, &["StartServers 2".to_string()]);
    assert!(!out.contains("/srv/mpm-lab"), "a fixture path survived:\n{out}");
    assert!(out.contains("ServerRoot \"/tmp/x-test\""));
    assert!(out.contains("ErrorLog \"/tmp/x-test/error_log\""));
    assert!(out.contains("<Directory \"/tmp/x-test/htdocs\">"));
    assert!(out.contains("CustomLog \"/tmp/x-test/access_log\" common"));
    assert!(out.contains("Listen 127.0.0.1:0"));
    assert!(out.trim_end().ends_with("StartServers 2"), "extra directives come last");
    // A reference Apache config (fixed port, Debian paths) becomes runnable the same way.
    let apache = std::fs::read_to_string(conformance::crate_dir().join("reference/run1/prefork.httpd.conf")).unwrap();
    let out = render_config(&apache, dir, &[]);
    assert!(out.contains("Listen 127.0.0.1:0") && !out.contains("18080"));
    assert!(!out.contains("/tmp/lab/apache-prefork"), "{out}");
}

#[test]
#[should_panic(expected = "timed out after")]
fn wait_until_reports_what_it_waited_for() {
    let mut n = 0;
    wait_until("n to reach 1000", Duration::from_millis(200), || { n += 1; n }, |&n| n >= 1000);
}

/// Fixtures must be valid for the MPM they are written for: `-t` says "Syntax OK".
#[test]
fn fixtures_pass_the_syntax_check() {
    let cases = [
        (Mpm::Prefork, "fixtures/default.conf"),
        (Mpm::Worker, "fixtures/default.conf"),
        (Mpm::Event, "fixtures/default.conf"),
        (Mpm::Prefork, "fixtures/prefork-reference.conf"),
        (Mpm::Worker, "fixtures/worker-reference.conf"),
        (Mpm::Event, "fixtures/event-reference.conf"),
    ];
    for (mpm, fixture) in cases {
        let done = ServerTest::new(mpm).config_file(fixture).arg("-t").run_to_exit(Duration::from_secs(20)).unwrap();
        let status = done.status.expect("-t exits by itself");
        assert!(
            status.success() && (done.stdout + &done.stderr).contains("Syntax OK"),
            "{mpm} -t {fixture}: {status}\n{}\nconfig {}",
            done.error_log,
            done.config.display()
        );
    }
}

/// A process that ignores SIGTERM is SIGKILLed on drop, together with its process group.
#[test]
fn drop_kills_the_whole_group_even_when_sigterm_is_ignored() {
    let dir = std::env::temp_dir().join(format!("mpm-lab-selftest-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let script = dir.join("stubborn.sh");
    // Not a server: a shell that ignores TERM, says it listens, and leaves a child behind.
    std::fs::write(&script, "#!/bin/sh\ntrap '' TERM\nsleep 600 &\necho 'listening on 127.0.0.1:9' >&2\nexec sleep 600\n").unwrap();
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let server = ServerTest::new(Mpm::Prefork)
        .binary(&script)
        .no_status_wait()
        .stop_timeout(Duration::from_millis(500))
        .start();
    let pid = server.pid();
    let members = wait_until("two group members", Duration::from_secs(5), || procfs::group_members(pid), |m| m.len() == 2);
    drop(server);
    for p in members {
        assert!(!procfs::alive(p), "pid {p} survived the drop");
    }
    let _ = std::fs::remove_dir_all(dir);
}

/// The first real server: start, read the port, see children, hold partial requests (they
/// show as `R`, reference README §3), and leave nothing behind.
#[test]
fn prefork_starts_serves_and_stops_cleanly() {
    let server = ServerTest::new(Mpm::Prefork).directive("StartServers 2").start();
    assert_ne!(server.port(), 0);
    let st = server.status_auto();
    assert_eq!(st.mpm(), "prefork");
    let r = server.get("/index.html");
    assert_eq!(r.status, 200);
    assert_eq!(r.text(), "<html><body>lab</body></html>\n");
    let held = server.hold_partial(2);
    wait_until("2 slots in R", Duration::from_secs(10), || server.status_auto().count('R'), |&n| n >= 2);
    drop(held);
    let tree = procfs::tree(server.pid());
    assert!(tree.len() >= 3, "parent and at least 2 children: {tree:?}");
    drop(server);
    for p in tree {
        assert!(!procfs::alive(p), "pid {p} survived the drop");
    }
}
