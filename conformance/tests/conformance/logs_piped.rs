//! Piped logs and BufferedLogs on every MPM (`server/log.c: ap_open_piped_log`,
//! `piped_log_maintenance`; `mod_log_config.c: ap_buffered_log_writer`; httpd-core
//! `log/piped.rs`, `log/buffered.rs`).
//!
//! The loggers are `cat` under `/bin/sh` (`|$exec cat >> FILE`), `tee` run directly
//! (`||/usr/bin/tee -a FILE`) and, where apache2-utils is installed, Debian's `rotatelogs`.

use conformance::{Mpm, Server, ServerTest, for_each_mpm, procfs, wait_until};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use std::io::{Read, Write};
use std::path::Path;
use std::time::Duration;

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_default()
}

/// The server's children whose standard output is `file` (a `cat >> file` logger).
fn logger_writing(s: &Server, file: &Path) -> Vec<i32> {
    s.children()
        .into_iter()
        .filter(|p| std::fs::read_link(format!("/proc/{p}/fd/1")).is_ok_and(|l| l == file))
        .collect()
}

fn get_host(s: &Server, host: &str, path: &str) -> u16 {
    let req = format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
    conformance::http::exchange(s.addr(), req.as_bytes(), Duration::from_secs(10))
        .unwrap()
        .response()
        .status
}

/// Stop with SIGTERM and check the parent took its loggers with it: nothing of the process
/// group is left (the harness would kill stragglers; here they must not exist).
fn stop_and_check_no_logger_left(mut s: Server) {
    let pid = s.pid();
    s.signal(Signal::SIGTERM);
    assert!(
        s.wait_exit(Duration::from_secs(15)).is_some(),
        "the parent exits on SIGTERM"
    );
    let left = conformance::try_wait_until(Duration::from_secs(5), || {
        procfs::group_members(pid).is_empty().then_some(())
    });
    assert!(
        left.is_some(),
        "processes left in the server's group: {:?}",
        procfs::group_members(pid)
    );
}

/// `|$cmd` (shell) and `||prog` (no shell) access logs, a piped main error log and a piped
/// per-vhost error log: every line arrives, the loggers are the parent's children in its
/// process group, and they are gone after the stop.
fn piped_access_and_error_logs(mpm: Mpm) {
    let s = ServerTest::new(mpm)
        .directive("ErrorLog \"|$exec cat >> @DIR@/error_log\"")
        .directive("CustomLog \"|$exec cat >> @DIR@/piped_access\" \"%>s %U\"")
        .directive("CustomLog \"||/usr/bin/tee -a @DIR@/tee_access\" \"tee %>s %U\"")
        .directive(
            "<VirtualHost *>\n    ServerName main.example\n</VirtualHost>\n\
             <VirtualHost *>\n    ServerName v.example\n    ErrorLog \"|$exec cat >> @DIR@/vhost_error\"\n</VirtualHost>",
        )
        .start();
    // The port was read from the error log: the piped main error log works from the start.
    assert!(s.error_log().contains("AH00094: Command line"));
    let dir = s.dir().to_path_buf();
    assert_eq!(get_host(&s, "main.example", "/index.html"), 200);
    assert_eq!(get_host(&s, "v.example", "/nope"), 404);
    let acc = dir.join("piped_access");
    wait_until(
        "both access loggers wrote both lines",
        Duration::from_secs(10),
        || (read(&acc), read(&dir.join("tee_access"))),
        // The harness's own /server-status requests are logged too: wait for the last line.
        |(a, t)| a.contains("404 /nope\n") && t.contains("tee 404 /nope\n"),
    );
    assert!(
        read(&acc).contains("200 /index.html\n404 /nope\n"),
        "{}",
        read(&acc)
    );
    assert!(read(&dir.join("tee_access")).contains("tee 404 /nope\n"));
    let vhost_err = wait_until(
        "the vhost's piped error log got the 404",
        Duration::from_secs(10),
        || read(&dir.join("vhost_error")),
        |t| t.contains("AH00128: File does not exist"),
    );
    assert!(
        !s.error_log().contains("AH00128"),
        "not in the main error log: {vhost_err}"
    );
    // Spawned by the parent (step 1), in its process group (the stop reaches them).
    let loggers = logger_writing(&s, &acc);
    assert_eq!(loggers.len(), 1, "one cat for the access log");
    let info = procfs::info(loggers[0]).expect("logger alive");
    assert_eq!(info.ppid, s.pid(), "the parent spawned the logger");
    assert!(procfs::group_members(s.pid()).contains(&loggers[0]));
    stop_and_check_no_logger_left(s);
}
for_each_mpm!(piped_access_and_error_logs);

/// Step 3 of `log/piped.rs`: a logger killed by SIGKILL is replaced by the parent, with
/// Apache's bare AH00106 line in the main error log, on the same pipe: lines written while no
/// logger ran are read by the new one. Measured: N before, N during the gap, N after; all 3N
/// arrive (what Apache can lose, lines the dead logger had read but not written, is zero here
/// because the test waits for the first N before killing).
fn piped_logger_killed_is_restarted_without_losing_lines(mpm: Mpm) {
    const N: usize = 20;
    let s = ServerTest::new(mpm)
        .directive("CustomLog \"|$exec cat >> @DIR@/piped_access\" \"%U\"")
        .start();
    let acc = s.dir().join("piped_access");
    let count = |tag: &str| read(&acc).lines().filter(|l| l.starts_with(tag)).count();
    for i in 0..N {
        assert_eq!(s.get(&format!("/before-{i}")).status, 404);
    }
    wait_until(
        "N lines",
        Duration::from_secs(10),
        || count("/before-"),
        |n| *n == N,
    );
    let old = logger_writing(&s, &acc);
    assert_eq!(old.len(), 1);
    kill(Pid::from_raw(old[0]), Signal::SIGKILL).unwrap();
    for i in 0..N {
        assert_eq!(s.get(&format!("/during-{i}")).status, 404);
    }
    let expected = format!(
        "AH00106: piped log program 'exec cat >> {}' failed unexpectedly",
        acc.display()
    );
    let line = s.wait_for_log("AH00106", Duration::from_secs(10));
    assert_eq!(
        line, expected,
        "a startup-style line, no prefix, as Apache 2.4.71 writes it"
    );
    let new = wait_until(
        "a new logger",
        Duration::from_secs(10),
        || logger_writing(&s, &acc),
        |l| l.len() == 1 && l[0] != old[0],
    );
    assert_eq!(procfs::info(new[0]).map(|i| i.ppid), Some(s.pid()));
    for i in 0..N {
        assert_eq!(s.get(&format!("/after-{i}")).status, 404);
    }
    wait_until(
        "every line of the three batches",
        Duration::from_secs(10),
        || (count("/before-"), count("/during-"), count("/after-")),
        |c| *c == (N, N, N),
    );
    stop_and_check_no_logger_left(s);
}
for_each_mpm!(piped_logger_killed_is_restarted_without_losing_lines);

/// Debian's rotatelogs (apache2-utils) as the logger, run directly as Apache 2.4 does with
/// `|prog`; skipped (with a message) where it is not installed.
fn piped_rotatelogs_writes_the_dated_file(mpm: Mpm) {
    let rotatelogs = Path::new("/usr/bin/rotatelogs");
    if !rotatelogs.exists() {
        eprintln!("SKIPPED: /usr/bin/rotatelogs not installed (apt-get install apache2-utils)");
        return;
    }
    let s = ServerTest::new(mpm)
        .directive("CustomLog \"|/usr/bin/rotatelogs -f @DIR@/rot.%Y 86400\" \"rot %>s %U\"")
        .start();
    assert_eq!(s.get("/index.html").status, 200);
    let year = jiff::Zoned::now().year();
    let file = s.dir().join(format!("rot.{year}"));
    wait_until(
        "rotatelogs wrote the line",
        Duration::from_secs(10),
        || read(&file),
        |t| t.contains("rot 200 /index.html\n"),
    );
    stop_and_check_no_logger_left(s);
}
for_each_mpm!(piped_rotatelogs_writes_the_dated_file);

/// Send `n` pipelined requests for `/index.html` on `c` and read their `n` responses.
fn pipelined(c: &mut std::net::TcpStream, n: usize, close_last: bool) {
    let mut out = Vec::new();
    for i in 0..n {
        let close = if close_last && i + 1 == n {
            "Connection: close\r\n"
        } else {
            ""
        };
        out.extend_from_slice(
            format!("GET /index.html HTTP/1.1\r\nHost: x\r\n{close}\r\n").as_bytes(),
        );
    }
    c.write_all(&out).unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 65536];
    let body = "<html><body>lab</body></html>\n";
    while String::from_utf8_lossy(&got).matches(body).count() < n {
        let k = c.read(&mut buf).unwrap();
        assert!(k > 0, "connection closed early");
        got.extend_from_slice(&buf[..k]);
    }
}

/// BufferedLogs: a child's lines reach the file in blocks of at most LOG_BUFSIZE (4096) bytes
/// of whole lines, and the rest is flushed when the child exits at a graceful stop.
fn buffered_logs_write_blocks_and_flush_at_graceful_stop(mpm: Mpm) {
    let mut s = ServerTest::new(mpm).directive("BufferedLogs On").start();
    let log = s.dir().join("access_log");
    let size = || std::fs::metadata(&log).map(|m| m.len()).unwrap_or(0);
    // One keep-alive connection: one child, one buffer. A line is 77 bytes here.
    let mut c = s.connect();
    c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    pipelined(&mut c, 40, false);
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(
        size(),
        0,
        "40 lines (about 3 KB) stay in the child's buffer"
    );
    pipelined(&mut c, 30, true);
    let block = wait_until("the first block", Duration::from_secs(5), size, |n| *n > 0);
    assert!(
        (3900..=4096).contains(&block),
        "one write of whole lines filling the 4096-byte buffer: {block} bytes"
    );
    assert!(read(&log).ends_with('\n'));
    s.signal(Signal::SIGWINCH);
    assert!(
        s.wait_exit(Duration::from_secs(20)).is_some(),
        "graceful stop"
    );
    let lines = read(&log)
        .lines()
        .filter(|l| l.contains("\"GET /index.html HTTP/1.1\" 200 30"))
        .count();
    assert_eq!(
        lines, 70,
        "no line lost: the child flushed its buffer on the way out"
    );
}
for_each_mpm!(buffered_logs_write_blocks_and_flush_at_graceful_stop);

/// Step 5 of `log/piped.rs`: a graceful restart (SIGUSR1) and a restart (SIGHUP) stop the old
/// generation's logger and start a new one, as Apache's log pool cleanup does; the old one is
/// reaped (no zombie) and the lines after the restart reach the new logger.
fn piped_loggers_are_replaced_at_restart(mpm: Mpm) {
    let s = ServerTest::new(mpm)
        .directive("CustomLog \"|$exec cat >> @DIR@/piped_access\" \"%U\"")
        .start();
    let acc = s.dir().join("piped_access");
    let mut logger = logger_writing(&s, &acc);
    assert_eq!(logger.len(), 1);
    for (sig, path) in [
        (Signal::SIGUSR1, "/after-graceful"),
        (Signal::SIGHUP, "/after-restart"),
    ] {
        s.signal(sig);
        let new = wait_until(
            "a new logger",
            Duration::from_secs(15),
            || logger_writing(&s, &acc),
            |l| l.len() == 1 && l[0] != logger[0],
        );
        // Gone from /proc altogether: reaped by the parent, not a zombie.
        wait_until(
            "the old logger reaped",
            Duration::from_secs(10),
            || Path::new(&format!("/proc/{}", logger[0])).exists(),
            |exists| !exists,
        );
        logger = new;
        wait_until(
            "the new generation answers",
            Duration::from_secs(15),
            || s.get(path).status,
            |st| *st == 404,
        );
        wait_until(
            "its line reaches the new logger",
            Duration::from_secs(10),
            || read(&acc),
            |t| t.contains(path),
        );
    }
    stop_and_check_no_logger_left(s);
}
for_each_mpm!(piped_loggers_are_replaced_at_restart);

/// ErrorLogFormat on every MPM's request path: the once-per-connection and once-per-request
/// lines come first, the message line carries the same ids, and `%L` in the access log is the
/// request's id (log.c: add_log_id; mod_log_config's `%L`).
fn error_log_format_request_and_connection_lines(mpm: Mpm) {
    let s = ServerTest::new(mpm)
        .directive("LoadModule setenvif_module /usr/lib/apache2/modules/mod_setenvif.so")
        .directive("SetEnvIf Request_URI \"nope$\" LAB=yes")
        .directive("ErrorLogFormat \"[%-m:%l] [C:%{C}L] [R:%L] %{LAB}e %M\"")
        .directive("ErrorLogFormat connection \"conn [C:%{c}L] remote\\ %a\"")
        .directive("ErrorLogFormat request \"req [R:%L] UA:%+{User-Agent}i\"")
        .directive("CustomLog @DIR@/ids_access \"%U %L\"")
        .start();
    let req = "GET /nope HTTP/1.1\r\nHost: x\r\nUser-Agent: lab/1\r\nConnection: close\r\n\r\n";
    conformance::http::exchange(s.addr(), req.as_bytes(), Duration::from_secs(10)).unwrap();
    let line = s.wait_for_log("AH00128", Duration::from_secs(10));
    let log = s.error_log();
    let lines: Vec<&str> = log.lines().collect();
    let at = lines.iter().position(|l| *l == line).unwrap();
    let (conn, reql) = (lines[at - 2], lines[at - 1]);
    assert!(
        conn.starts_with("conn [C:") && conn.contains("] remote 127.0.0.1:"),
        "{conn}"
    );
    assert!(
        reql.starts_with("req [R:") && reql.ends_with("] UA:lab/1"),
        "{reql}"
    );
    let rid = &reql["req [R:".len().."req [R:".len() + 11];
    assert_eq!(
        line,
        format!(
            "[core:info] [R:{rid}] yes AH00128: File does not exist: {}/htdocs/nope",
            s.dir().display()
        )
    );
    let acc = wait_until(
        "the access line",
        Duration::from_secs(10),
        || read(&s.dir().join("ids_access")),
        |t| t.contains("/nope "),
    );
    assert!(
        acc.contains(&format!("/nope {rid}\n")),
        "%L is the request's id: {acc}"
    );
    // Lines that are not about a request keep the main format, ids empty (fields dropped).
    assert!(log.contains("[core:notice] AH00094: Command line"), "{log}");
}
for_each_mpm!(error_log_format_request_and_connection_lines);
