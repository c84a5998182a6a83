//! Apache error-log lines (spec §8.1): `[Www Mmm DD hh:mm:ss.uuuuuu YYYY] [module:level]
//! [pid P:tid T] message`.

/// One parsed error-log line.
#[derive(Debug, Clone, PartialEq)]
pub struct LogLine {
    /// The timestamp as written (`Sun Nov 22 16:02:07.863888 2026`).
    pub timestamp: String,
    /// Unix time of the timestamp (local time, as Apache writes it), if it parsed.
    pub epoch: Option<f64>,
    pub module: String,
    pub level: String,
    pub pid: u32,
    pub tid: Option<u32>,
    /// Everything after the `[pid …] ` prefix (AH code included).
    pub message: String,
}

/// The levels of rule 58.
pub const LEVELS: [&str; 16] = [
    "emerg", "alert", "crit", "error", "warn", "notice", "info", "debug", "trace1", "trace2",
    "trace3", "trace4", "trace5", "trace6", "trace7", "trace8",
];

/// Parse an Apache timestamp `Sun Nov 22 16:02:07.863888 2026` (local time) to Unix time.
pub fn parse_timestamp(ts: &str) -> Option<f64> {
    parse_timestamp_in(ts, &jiff::tz::TimeZone::system())
}

/// [`parse_timestamp`] for a log written in time zone `tz` (the reference runs: UTC).
pub fn parse_timestamp_in(ts: &str, tz: &jiff::tz::TimeZone) -> Option<f64> {
    let parts: Vec<&str> = ts.split_whitespace().collect();
    if parts.len() != 5 {
        return None;
    }
    let (hms, frac) = match parts[3].split_once('.') {
        Some((h, f)) => (h, format!("0.{f}").parse::<f64>().ok()?),
        None => (parts[3], 0.0),
    };
    let text = format!(
        "{} {} {} {} {}",
        parts[0], parts[1], parts[2], hms, parts[4]
    );
    let bdt = jiff::fmt::strtime::parse("%a %b %d %H:%M:%S %Y", &text).ok()?;
    let dt = bdt.to_datetime().ok()?;
    let z = dt.to_zoned(tz.clone()).ok()?;
    Some(z.timestamp().as_second() as f64 + frac)
}

/// Parse one line strictly by rule 58's shape; `None` if it does not have it.
pub fn parse_line(line: &str) -> Option<LogLine> {
    let rest = line.strip_prefix('[')?;
    let (ts, rest) = rest.split_once("] [")?;
    let epoch = parse_timestamp(ts);
    let (modlevel, rest) = rest.split_once("] [pid ")?;
    let (module, level) = modlevel.split_once(':')?;
    let (pidtid, message) = rest.split_once("] ")?;
    let (pid, tid) = match pidtid.split_once(":tid ") {
        Some((p, t)) => (p.parse().ok()?, Some(t.parse().ok()?)),
        None => (pidtid.parse().ok()?, None),
    };
    Some(LogLine {
        timestamp: ts.to_string(),
        epoch,
        module: module.to_string(),
        level: level.to_string(),
        pid,
        tid,
        message: message.to_string(),
    })
}

/// Rule 58, checked by hand (no regex crate): the whole prefix shape, including the
/// timestamp's fixed widths (`Www Mmm DD hh:mm:ss.uuuuuu YYYY`).
pub fn matches_rule_58(line: &str) -> bool {
    let Some(rest) = line.strip_prefix('[') else {
        return false;
    };
    let Some((ts, _)) = rest.split_once(']') else {
        return false;
    };
    let b = ts.as_bytes();
    let shape = "AAA AAA 00 00:00:00.000000 0000";
    if b.len() != shape.len() {
        return false;
    }
    let ts_ok = shape.bytes().zip(b).all(|(s, &c)| match s {
        b'A' => c.is_ascii_alphabetic(),
        b'0' => c.is_ascii_digit(),
        other => other == c,
    });
    let Some(p) = parse_line(line) else {
        return false;
    };
    let module_ok = !p.module.is_empty()
        && p.module
            .bytes()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'_');
    ts_ok && module_ok && LEVELS.contains(&p.level.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_reference_line() {
        let l = "[Sun Nov 22 16:02:07.863888 2026] [mpm_prefork:notice] [pid 6615:tid 6615] AH00163: Apache/2.4.71 (Debian) configured -- resuming normal operations";
        let p = parse_line(l).unwrap();
        assert_eq!(
            (p.module.as_str(), p.level.as_str(), p.pid),
            ("mpm_prefork", "notice", 6615)
        );
        assert!(p.message.starts_with("AH00163"));
        assert!(p.epoch.is_some());
        assert!(matches_rule_58(l));
        assert!(!matches_rule_58(
            "[Sun Nov 22 16:02:07 2026] [core:notice] [pid 1] x"
        ));
    }
}
