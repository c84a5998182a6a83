//! Error-log and access-log formats (spec §8, rules 58 and 59).

use conformance::errorlog::matches_rule_58;
use conformance::{Mpm, ServerTest, for_each_mpm};
use std::time::Duration;

/// Rule 58: every error-log line has Apache's prefix: `[Www Mmm DD hh:mm:ss.uuuuuu YYYY]
/// [module:level] [pid P:tid T] `.
fn rule_58_error_log_lines_have_apaches_prefix(mpm: Mpm) {
    let mut s = ServerTest::new(mpm).start();
    // Provoke an info-level per-request line too (AH00565, 414).
    let long = format!("GET /{} HTTP/1.1\r\nHost: x\r\n\r\n", "a".repeat(9000));
    assert_eq!(s.raw(long.as_bytes()).response().status, 414);
    s.wait_for_log("AH00565", Duration::from_secs(5));
    s.stop();
    let log = s.error_log();
    assert!(
        log.lines().count() >= 3,
        "start-up, request and shutdown lines:\n{log}"
    );
    for line in log.lines().filter(|l| !l.is_empty()) {
        assert!(
            matches_rule_58(line),
            "not in Apache's error-log format: {line:?}"
        );
    }
    let first = log
        .lines()
        .find(|l| l.contains("resuming normal operations"))
        .expect("AH00163-style line");
    assert!(
        first.contains(&format!("[{}:notice]", mpm.module())),
        "{first}"
    );
}
for_each_mpm!(rule_58_error_log_lines_have_apaches_prefix);

/// CLF shape of rule 59: `%h %l %u [%t] "%r" %>s %b`, `%b` = `-` for an empty body.
fn clf_fields(line: &str) -> Option<(String, u16, String)> {
    let (head, rest) = line.split_once(" [")?;
    if head.split(' ').count() != 3 {
        return None;
    }
    let (time, rest) = rest.split_once("] \"")?;
    // dd/Mon/yyyy:hh:mm:ss +zzzz
    let tb = time.as_bytes();
    let shape = "00/AAA/0000:00:00:00 +0000";
    let time_ok = tb.len() == shape.len()
        && shape.bytes().zip(tb).all(|(s, &c)| match s {
            b'0' => c.is_ascii_digit(),
            b'A' => c.is_ascii_alphabetic(),
            b'+' => c == b'+' || c == b'-',
            o => o == c,
        });
    let (request, rest) = rest.rsplit_once("\" ")?;
    let (status, bytes) = rest.split_once(' ')?;
    let status: u16 = status.parse().ok()?;
    let bytes_ok = bytes == "-"
        || (!bytes.is_empty() && bytes.bytes().all(|c| c.is_ascii_digit()) && bytes != "0");
    (time_ok && bytes_ok && status >= 100).then(|| (request.to_string(), status, bytes.to_string()))
}

/// Rule 59: access-log lines are CLF and use `-` for zero body bytes.
fn rule_59_access_log_is_clf_with_dash_for_zero_bytes(mpm: Mpm) {
    let s = ServerTest::new(mpm).start();
    assert_eq!(s.get("/index.html").status, 200);
    assert_eq!(
        s.raw(b"HEAD /index.html HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .responses(true)[0]
            .status,
        200
    );
    let get = s.wait_for_access_log("\"GET /index.html HTTP/1.1\"", Duration::from_secs(5));
    let head = s.wait_for_access_log("\"HEAD /index.html HTTP/1.1\"", Duration::from_secs(5));
    assert_eq!(
        clf_fields(&get),
        Some(("GET /index.html HTTP/1.1".into(), 200, "30".into())),
        "{get}"
    );
    assert_eq!(
        clf_fields(&head),
        Some(("HEAD /index.html HTTP/1.1".into(), 200, "-".into())),
        "{head}"
    );
    assert!(get.starts_with("127.0.0.1 - - ["), "{get}");
    for line in s.access_log().lines() {
        assert!(clf_fields(line).is_some(), "not CLF: {line:?}");
    }
}
for_each_mpm!(rule_59_access_log_is_clf_with_dash_for_zero_bytes);
