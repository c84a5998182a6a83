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
        let found = mpm
            .binary()
            .expect("binary found next to the test executable");
        assert_eq!(
            found.canonicalize().unwrap(),
            Path::new(path).canonicalize().unwrap(),
            "{mpm}"
        );
    }
}

#[test]
fn config_is_rewritten_into_the_test_directory() {
    let text =
        std::fs::read_to_string(conformance::crate_dir().join("fixtures/default.conf")).unwrap();
    let dir = Path::new("/tmp/x-test");
    let out = render_config(&text, dir, &["StartServers 2".to_string()]);
    assert!(
        !out.contains("/srv/mpm-lab"),
        "a fixture path survived:\n{out}"
    );
    assert!(out.contains("ServerRoot \"/tmp/x-test\""));
    assert!(out.contains("ErrorLog \"/tmp/x-test/error_log\""));
    assert!(out.contains("<Directory \"/tmp/x-test/htdocs\">"));
    assert!(out.contains("CustomLog \"/tmp/x-test/access_log\" common"));
    assert!(out.contains("Listen 127.0.0.1:0"));
    assert!(
        out.trim_end().ends_with("StartServers 2"),
        "extra directives come last"
    );
    // A reference Apache config (fixed port, Debian paths) becomes runnable the same way.
    let apache =
        std::fs::read_to_string(conformance::crate_dir().join("reference/run1/prefork.httpd.conf"))
            .unwrap();
    let out = render_config(&apache, dir, &[]);
    assert!(out.contains("Listen 127.0.0.1:0") && !out.contains("18080"));
    assert!(!out.contains("/tmp/lab/apache-prefork"), "{out}");
}

#[test]
#[should_panic(expected = "timed out after")]
fn wait_until_reports_what_it_waited_for() {
    let mut n = 0;
    wait_until(
        "n to reach 1000",
        Duration::from_millis(200),
        || {
            n += 1;
            n
        },
        |&n| n >= 1000,
    );
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
        let done = ServerTest::new(mpm)
            .config_file(fixture)
            .arg("-t")
            .run_to_exit(Duration::from_secs(20))
            .unwrap();
        let status = done.status.expect("-t exits by itself");
        let output = format!("{}{}{}", done.stdout, done.stderr, done.error_log);
        assert!(
            status.success() && output.contains("Syntax OK"),
            "{mpm} -t {fixture}: {status}\n{output}\nconfig {}",
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
    let members = wait_until(
        "two group members",
        Duration::from_secs(5),
        || procfs::group_members(pid),
        |m| m.len() == 2,
    );
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
    let server = ServerTest::new(Mpm::Prefork)
        .directive("StartServers 2")
        .start();
    assert_ne!(server.port(), 0);
    let st = server.status_auto();
    assert_eq!(st.mpm(), "prefork");
    let r = server.get("/index.html");
    assert_eq!(r.status, 200);
    assert_eq!(r.text(), "<html><body>lab</body></html>\n");
    let held = server.hold_partial(2);
    wait_until(
        "2 slots in R",
        Duration::from_secs(10),
        || server.status_auto().count('R'),
        |&n| n >= 2,
    );
    drop(held);
    let tree = procfs::tree(server.pid());
    assert!(tree.len() >= 3, "parent and at least 2 children: {tree:?}");
    drop(server);
    for p in tree {
        assert!(!procfs::alive(p), "pid {p} survived the drop");
    }
}

/// The loom facade at the crate root must offer every name `httpd-core/src/sync.rs` exports,
/// or a `#[path]`-included server file stops compiling in the loom build (or, worse, a name
/// added later silently resolves to std somewhere). Compile-time half: `main.rs` imports them.
#[test]
fn loom_sync_facade_mirrors_httpd_core_sync() {
    let core = std::fs::read_to_string(conformance::workspace_dir().join("httpd-core/src/sync.rs"))
        .unwrap();
    let ours = std::fs::read_to_string(conformance::crate_dir().join("tests/conformance/main.rs"))
        .unwrap();
    let facade = &ours[ours.find("mod sync {").unwrap()..];
    let facade = &facade[..facade.find("\n}\n").unwrap()];
    for line in core.lines().map(str::trim) {
        if let Some(rest) = line.strip_prefix("pub fn ") {
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            assert!(
                facade.contains(&format!("pub fn {name}")),
                "the loom facade lacks `fn {name}`"
            );
        }
        if let Some(rest) = line.strip_prefix("pub mod ") {
            let name = rest.trim_end_matches([';', '{']).trim();
            assert!(
                facade.contains(&format!("mod {name}")),
                "the loom facade lacks `mod {name}`"
            );
        }
    }
}

/// The client-side load tools against a listener in this test: held connections are counted,
/// a server-side close is seen, and the phased load holds each phase's target.
#[test]
fn load_tools_hold_count_and_notice_server_closes() {
    use std::net::TcpListener;
    use std::sync::atomic::AtomicBool;
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for s in listener.incoming().flatten() {
            if tx.send(s).is_err() {
                return;
            }
        }
    });
    let held = conformance::load::Held::partial(addr, 3).unwrap();
    let mut accepted: Vec<_> = (0..3)
        .map(|_| rx.recv_timeout(Duration::from_secs(5)).unwrap())
        .collect();
    assert_eq!((held.len(), held.closed_by_server()), (3, 0));
    drop(accepted.pop());
    wait_until(
        "one close seen",
        Duration::from_secs(5),
        || held.closed_by_server(),
        |&n| n == 1,
    );

    let phases: conformance::phases::Phases = "4:0.8,1:0.6".parse().unwrap();
    let stop = AtomicBool::new(false);
    let mut rows = Vec::new();
    let last = conformance::load::run_phases(
        addr,
        &phases,
        conformance::load::Mode::Partial,
        &stop,
        |r| rows.push(r.clone()),
    );
    let max_held = |phase| {
        rows.iter()
            .filter(|r| r.phase == phase)
            .map(|r| r.held)
            .max()
            .unwrap_or(0)
    };
    assert_eq!((max_held(0), max_held(1)), (4, 1), "{rows:?}");
    assert_eq!(last.opened, 4);
    assert_eq!(
        last.client_closed, 4,
        "3 closed at the phase boundary, 1 at the end"
    );
    drop(accepted);
}
