//! The `mpm-lab` tools checked on the real Apache reference runs: our summarizer reproduces
//! the reference summaries byte for byte, and `mpm-lab compare` reads the reference layout.

use conformance::summary;
use conformance::timeline::Timeline;
use std::fs;
use std::path::Path;
use std::process::Command;

fn reference() -> &'static Path {
    Box::leak(conformance::crate_dir().join("reference").into_boxed_path())
}

#[test]
fn summaries_reproduce_the_reference_ones() {
    for run in ["run1", "run2"] {
        for mpm in ["prefork", "worker", "event"] {
            let d = reference().join(run);
            let tl = Timeline::read(&d.join(format!("{mpm}.timeline.csv"))).unwrap();
            let load = summary::parse_load_csv(
                &fs::read_to_string(d.join(format!("{mpm}.load.csv"))).unwrap(),
            );
            let log = fs::read_to_string(d.join(format!("{mpm}.error_log"))).unwrap();
            // The reference machine logged in UTC.
            let utc = jiff::tz::TimeZone::UTC;
            let ours = summary::summarize_in(&tl, Some(&load), Some(&log), &utc);
            let theirs = fs::read_to_string(d.join(format!("{mpm}.summary.txt"))).unwrap();
            assert_eq!(ours, theirs, "{run}/{mpm}");
        }
    }
}

#[test]
fn timelines_round_trip_through_our_csv_writer() {
    // Python's csv module ends lines with CRLF; we write LF. Everything else is identical.
    let text = fs::read_to_string(reference().join("run1/event.timeline.csv"))
        .unwrap()
        .replace("\r\n", "\n");
    let tl = Timeline::parse_csv(&text);
    assert_eq!(tl.rows.len(), text.lines().count() - 1);
    let ours = tl.to_csv();
    for (i, (a, b)) in ours.lines().zip(text.lines()).enumerate() {
        assert_eq!(a, b, "line {}", i + 1);
    }
    assert_eq!(ours.len(), text.len());
}

#[test]
fn mpm_lab_compare_reads_the_reference_layout() {
    let out = std::env::temp_dir().join(format!("mpm-lab-compare-{}", std::process::id()));
    let r = Command::new(env!("CARGO_BIN_EXE_mpm-lab"))
        .arg("compare")
        .arg(reference().join("run1/prefork.timeline.csv"))
        .arg(reference().join("run2/prefork.timeline.csv"))
        .arg("--out")
        .arg(&out)
        .env("LC_ALL", "C")
        .output()
        .unwrap();
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let text = String::from_utf8_lossy(&r.stdout);
    let line = text
        .lines()
        .find(|l| l.starts_with("max processes"))
        .unwrap();
    assert_eq!(
        line.split_whitespace().collect::<Vec<_>>(),
        ["max", "processes", "150", "150"]
    );
    assert!(
        text.contains("AH00161"),
        "the error logs next to the CSVs are read"
    );
    let svg = fs::read_to_string(out.join("compare.svg")).unwrap();
    assert!(svg.starts_with("<svg") && svg.contains("processes"));
    // Panels are named after the server and run, never after a path on this machine.
    for label in [
        "Apache 2.4.71 prefork (reference run1)",
        "Apache 2.4.71 prefork (reference run2)",
    ] {
        assert!(svg.contains(label) && text.contains(label), "{label}");
    }
    let root = env!("CARGO_MANIFEST_DIR");
    assert!(
        !svg.contains(root) && !text.contains(root),
        "no path in labels"
    );
    let _ = fs::remove_dir_all(out);
}

/// With a Spanish locale `mpm-lab compare` and `simulate` print their summaries in Spanish
/// (the same numbers; Apache's error-log lines untouched), while the files they write stay
/// English.
#[test]
fn mpm_lab_summaries_speak_spanish_under_an_es_locale() {
    let out = std::env::temp_dir().join(format!("mpm-lab-es-{}", std::process::id()));
    let mpm_lab = |args: &[&str], lang: (&str, &str)| {
        let r = Command::new(env!("CARGO_BIN_EXE_mpm-lab"))
            .args(args)
            .arg("--out")
            .arg(&out)
            .env_remove("LC_ALL")
            .env_remove("LC_MESSAGES")
            .env_remove("LANG")
            .env(lang.0, lang.1)
            .output()
            .unwrap();
        assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
        String::from_utf8_lossy(&r.stdout).into_owned()
    };
    let run1 = reference().join("run1/prefork.timeline.csv");
    let run2 = reference().join("run2/prefork.timeline.csv");
    let (a, b) = (run1.to_str().unwrap(), run2.to_str().unwrap());
    let es = mpm_lab(&["compare", a, b], ("LANG", "es_ES.UTF-8"));
    let line = es
        .lines()
        .find(|l| l.starts_with("máximo de procesos "))
        .unwrap();
    assert_eq!(
        line.split_whitespace().collect::<Vec<_>>(),
        ["máximo", "de", "procesos", "150", "150"]
    );
    for phrase in [
        "línea de tiempo:",
        "cambios del número de procesos",
        "pasos,",
    ] {
        assert!(es.contains(phrase), "{phrase} in\n{es}");
    }
    let apache = "[mpm_prefork:error] AH00161: server reached MaxRequestWorkers setting";
    assert!(es.contains(apache), "error-log lines stay Apache's");
    let file = fs::read_to_string(out.join("compare.txt")).unwrap();
    assert!(file.contains("max processes") && !file.contains("máximo"));
    // LC_MESSAGES alone is enough, and `simulate` prints the same way.
    let es = mpm_lab(
        &[
            "simulate", "--mpm", "worker", "--phases", "40:5", "--config",
        ]
        .into_iter()
        .chain([reference().join("run1/worker.httpd.conf").to_str().unwrap()])
        .collect::<Vec<_>>(),
        ("LC_MESSAGES", "es_MX.UTF-8"),
    );
    assert!(es.contains("máximo de procesos:"), "{es}");
    let file = fs::read_to_string(out.join("summary.txt")).unwrap();
    assert!(
        file.contains("max processes:") && !file.contains("máximo"),
        "{file}"
    );
    // The C locale is English.
    let en = mpm_lab(&["compare", a, b], ("LC_ALL", "C"));
    assert!(en.contains("max processes") && !en.contains("máximo"));
    let _ = fs::remove_dir_all(out);
}

/// `mpm-lab simulate` on the reference config and load writes the same files as a run, and
/// the simulated prefork reaches the reference's cap (150) and its AH00161.
#[test]
fn mpm_lab_simulate_writes_a_comparable_timeline() {
    let out = std::env::temp_dir().join(format!("mpm-lab-sim-test-{}", std::process::id()));
    let started = std::time::Instant::now();
    let r = Command::new(env!("CARGO_BIN_EXE_mpm-lab"))
        .args([
            "simulate",
            "--mpm",
            "prefork",
            "--phases",
            "0:5,40:10,120:15,160:10,0:5",
            "--after",
            "150",
        ])
        .arg("--config")
        .arg(reference().join("run1/prefork.httpd.conf"))
        .arg("--out")
        .arg(&out)
        .env("LC_ALL", "C")
        .output()
        .unwrap();
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    assert!(
        started.elapsed() < std::time::Duration::from_secs(10),
        "a simulation is fast"
    );
    let tl = Timeline::read(&out.join("timeline.csv")).unwrap();
    let max = tl
        .rows
        .iter()
        .filter_map(|r| r.processes)
        .fold(0.0, f64::max);
    assert_eq!(max, 150.0);
    let summary = fs::read_to_string(out.join("summary.txt")).unwrap();
    assert!(summary.contains("AH00161"), "{summary}");
    for f in ["load.csv", "error_log", "timeline.svg"] {
        assert!(out.join(f).is_file(), "{f}");
    }
    // The title names the MPM and the config file, not the directory it was read from.
    let title = summary.lines().next().unwrap();
    assert!(
        title.starts_with("simulated mpm-prefork (prefork.httpd.conf), phases 0:5,"),
        "{title}"
    );
    let _ = fs::remove_dir_all(out);
}

/// A stand-in server for `mpm-lab run`: one thread per connection, a request counts as busy
/// until its header ends, and `?auto` reports busy/idle out of 10 "slots".
fn tiny_status_server() -> std::net::SocketAddr {
    use std::io::{Read, Write};
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let busy = Arc::new(AtomicUsize::new(0));
    std::thread::spawn(move || {
        for mut s in listener.incoming().flatten() {
            let busy = busy.clone();
            std::thread::spawn(move || {
                busy.fetch_add(1, Ordering::SeqCst);
                let mut buf = Vec::new();
                let mut b = [0u8; 1024];
                while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                    match s.read(&mut b) {
                        Ok(0) | Err(_) => {
                            busy.fetch_sub(1, Ordering::SeqCst);
                            return;
                        }
                        Ok(n) => buf.extend_from_slice(&b[..n]),
                    }
                }
                let n = busy.load(Ordering::SeqCst);
                let sb: String = (0..10).map(|i| if i < n { 'R' } else { '_' }).collect();
                let body = format!(
                    "127.0.0.1\nServerMPM: prefork\nBusyWorkers: {n}\nIdleWorkers: {}\nScoreboard: {sb}\n",
                    10usize.saturating_sub(n)
                );
                let _ = write!(
                    s,
                    "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                busy.fetch_sub(1, Ordering::SeqCst);
            });
        }
    });
    addr
}

/// `mpm-lab run` against a URL: samples, drives the phases, and writes every output file.
#[test]
fn mpm_lab_run_samples_and_loads_a_url() {
    let addr = tiny_status_server();
    let out = std::env::temp_dir().join(format!("mpm-lab-run-test-{}", std::process::id()));
    let r = Command::new(env!("CARGO_BIN_EXE_mpm-lab"))
        .args([
            "run",
            "--server",
            &format!("http://{addr}"),
            "--phases",
            "0:0.5,3:1.5,0:0.5",
        ])
        .args([
            "--before",
            "0.3",
            "--after",
            "0.5",
            "--quiet",
            "--pid",
            &std::process::id().to_string(),
        ])
        .arg("--out")
        .arg(&out)
        .env("LC_ALL", "C")
        .output()
        .unwrap();
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let tl = Timeline::read(&out.join("timeline.csv")).unwrap();
    assert!(
        tl.rows.len() >= 10,
        "{} samples in ~3 s at 200 ms",
        tl.rows.len()
    );
    assert!(
        tl.rows.iter().all(|r| r.ok && r.os_threads.is_some()),
        "status and /proc columns filled"
    );
    let busy = tl.rows.iter().filter_map(|r| r.busy).fold(0.0, f64::max);
    assert_eq!(busy, 4.0, "3 held requests + the status poll itself");
    let load = summary::parse_load_csv(&fs::read_to_string(out.join("load.csv")).unwrap());
    assert_eq!(
        load.iter().filter(|l| l.phase == 1).map(|l| l.held).max(),
        Some(3)
    );
    let text = fs::read_to_string(out.join("summary.txt")).unwrap();
    assert!(text.contains("phase  target"), "{text}");
    assert!(
        fs::read_to_string(out.join("timeline.svg"))
            .unwrap()
            .starts_with("<svg")
    );
    let _ = fs::remove_dir_all(out);
}

/// The simulated outputs committed under `book/labs/*/expected/` are what the simulator says
/// today: each `simulate …` line of `book/labs/regenerate.sh` (the one list of them) is run
/// again and its `timeline.csv`, `summary.txt` and `error_log` compared with the committed ones.
/// A failure means a change to an MPM's logic or to the simulator: run
/// `book/labs/regenerate.sh` and review the difference, as the labs quote these figures.
#[test]
fn committed_lab_simulations_are_current() {
    let root = conformance::crate_dir().join("..");
    let script = fs::read_to_string(root.join("book/labs/regenerate.sh")).unwrap();
    let jobs: Vec<Vec<&str>> = script
        .lines()
        .filter_map(|l| l.strip_prefix("simulate "))
        .map(|l| l.split_whitespace().map(|w| w.trim_matches('"')).collect())
        .collect();
    assert!(
        jobs.len() >= 4,
        "the simulate lines of regenerate.sh were found"
    );
    let phases_var = script
        .lines()
        .find_map(|l| l.strip_prefix("REFERENCE_PHASES="))
        .unwrap();
    for job in jobs {
        let [lab, out_name, mpm, phases] = job[..] else {
            panic!("simulate LAB OUT MPM PHASES: {job:?}")
        };
        let phases = phases.replace("$REFERENCE_PHASES", phases_var);
        let expected = root
            .join("book/labs")
            .join(lab)
            .join("expected")
            .join(out_name);
        let out = std::env::temp_dir().join(format!(
            "mpm-lab-current-{}-{lab}-{out_name}",
            std::process::id()
        ));
        let r = Command::new(env!("CARGO_BIN_EXE_mpm-lab"))
            .current_dir(&root)
            .args(["simulate", "--mpm", mpm, "--phases", &phases])
            .arg("--config")
            .arg(format!("book/labs/{lab}/httpd.conf"))
            .arg("--out")
            .arg(&out)
            .output()
            .unwrap();
        assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
        for f in ["timeline.csv", "summary.txt", "error_log"] {
            let now = fs::read_to_string(out.join(f)).unwrap();
            let committed = fs::read_to_string(expected.join(f)).unwrap();
            assert!(
                now == committed,
                "book/labs/{lab}/expected/{out_name}/{f} is stale: run book/labs/regenerate.sh"
            );
        }
        let _ = fs::remove_dir_all(out);
    }
}

/// Ctrl-C or `kill` ends `mpm-lab run`, not the server it started: the server runs in a group
/// of its own (the terminal's SIGINT misses it) and its CGI scripts in groups of theirs. After
/// SIGTERM to mpm-lab, the server's group and every script's group must be empty, and mpm-lab
/// must exit as SIGTERM's default action would report it (143).
#[test]
fn mpm_lab_run_stops_its_server_and_scripts_on_sigterm() {
    use conformance::procfs;
    use nix::sys::signal::{Signal, kill, killpg};
    use nix::unistd::Pid;
    use std::os::unix::process::CommandExt;
    use std::time::{Duration, Instant};

    let out = std::env::temp_dir().join(format!("mpm-lab-run-sigterm-{}", std::process::id()));
    let mut lab = Command::new(env!("CARGO_BIN_EXE_mpm-lab"))
        .args([
            "run",
            "--server",
            env!("CARGO_BIN_EXE_conf-prefork"),
            "--config",
        ])
        .arg(conformance::crate_dir().join("fixtures/prefork-reference.conf"))
        .args(["--mode", "cgi", "--phases", "3:60", "--quiet", "--out"])
        .arg(&out)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        // Its own group, so that whatever goes wrong the test can end all of it.
        .process_group(0)
        .spawn()
        .unwrap();
    let lab_pid = lab.id() as i32;
    // What to kill if an assertion fails: mpm-lab's group, the server's, the scripts'.
    struct Leftovers(Vec<i32>);
    impl Drop for Leftovers {
        fn drop(&mut self) {
            for &g in &self.0 {
                if !procfs::group_members(g).is_empty() {
                    let _ = killpg(Pid::from_raw(g), Signal::SIGKILL);
                }
            }
        }
    }
    let mut leftovers = Leftovers(vec![lab_pid]);
    let deadline = Instant::now() + Duration::from_secs(30);
    let (server, scripts) = loop {
        if let Some(&server) = procfs::children(lab_pid).first() {
            let scripts = procfs::descendant_groups(server);
            if scripts.len() >= 3 {
                break (server, scripts);
            }
        }
        assert!(
            Instant::now() < deadline,
            "mpm-lab run did not start a server with 3 CGI scripts"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    leftovers.0.push(server);
    leftovers.0.extend(&scripts);
    kill(Pid::from_raw(lab_pid), Signal::SIGTERM).unwrap();
    let status = conformance::wait::try_wait_until(Duration::from_secs(30), || {
        lab.try_wait().ok().flatten()
    })
    .expect("mpm-lab did not exit within 30 s of SIGTERM");
    let mut stderr = String::new();
    std::io::Read::read_to_string(lab.stderr.as_mut().unwrap(), &mut stderr).unwrap();
    assert_eq!(status.code(), Some(143), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "SIGTERM: stopped the server(s) it had started (pid {server})"
        )),
        "{stderr}"
    );
    // Its temporary directory goes too (the harness names it after mpm-lab's pid).
    let tmp = std::env::temp_dir().join("mpm-lab-tests");
    let prefix = format!("prefork-{lab_pid}-");
    let left: Vec<_> = fs::read_dir(&tmp)
        .map(|rd| {
            rd.filter_map(|e| e.ok()?.file_name().into_string().ok())
                .filter(|n| n.starts_with(&prefix))
                .collect()
        })
        .unwrap_or_default();
    assert!(left.is_empty(), "left in {}: {left:?}", tmp.display());
    for g in std::iter::once(server).chain(scripts.iter().copied()) {
        assert_eq!(
            procfs::group_members(g),
            Vec::<i32>::new(),
            "group {g} outlived mpm-lab (server {server}, scripts {scripts:?})"
        );
    }
    let _ = fs::remove_dir_all(out);
}
