//! The MPM directives, kept raw (`RawConfig` in STYLE.md's two stages).
//!
//! Apache parses every MPM directive with `atoi(3)` (`prefork.c: set_start_servers` and friends): leading
//! blanks and a sign are accepted, parsing stops at the first non-digit, and garbage gives 0. Clamping
//! (AH00175…AH00187 for prefork, AH00300…AH00322 worker, AH00497…AH00519 event) is the MPM's own
//! `check_config`, so this module only records what the file says.

/// Raw MPM directive values exactly as written (Apache parses them with atoi: garbage -> 0). None = not set.
/// Each MPM applies its own defaults and check_config clamping with its own AH codes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MpmDirectives {
    pub start_servers: Option<i64>,
    pub min_spare_servers: Option<i64>,
    pub max_spare_servers: Option<i64>,
    pub min_spare_threads: Option<i64>,
    pub max_spare_threads: Option<i64>,
    pub threads_per_child: Option<i64>,
    pub thread_limit: Option<i64>,
    pub server_limit: Option<i64>,
    pub max_request_workers: Option<i64>,
    pub max_connections_per_child: Option<i64>,
    /// Raw text: event parses it with `strtod` and has its own error messages (`event.c: set_worker_factor`).
    pub async_request_worker_factor: Option<String>,
    pub graceful_shutdown_timeout: Option<i64>,
    pub listen_cores_buckets_ratio: Option<i64>,
    /// `MaxClients` was spelled (the MPM logs AH00188/AH00324/AH00521 "MaxClients is deprecated…").
    pub used_max_clients: bool,
    /// `MaxRequestsPerChild` was spelled (info AH00545 "MaxRequestsPerChild is deprecated…").
    pub used_max_requests_per_child: bool,
    /// `MaxMemFree` in KiB (accepted for compatibility; we have no APR allocator to trim).
    pub max_mem_free: Option<i64>,
}

/// C's `atoi`: skip leading white space, an optional sign, then decimal digits up to the first other
/// character. No digits gives 0; overflow saturates (glibc's `strtol` behaviour; `atoi` itself is
/// undefined there, and clamping later makes the exact value irrelevant).
pub fn atoi(s: &str) -> i64 {
    let s = s.trim_start_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
    let (neg, digits) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let mut value: i64 = 0;
    for b in digits.bytes().take_while(u8::is_ascii_digit) {
        value = value.saturating_mul(10).saturating_add(i64::from(b - b'0'));
    }
    if neg { -value } else { value }
}

#[cfg(test)]
mod tests {
    use super::atoi;

    #[test]
    fn config_atoi_matches_c() {
        assert_eq!(atoi("150"), 150);
        assert_eq!(atoi("  42abc"), 42);
        assert_eq!(atoi("abc"), 0);
        assert_eq!(atoi(""), 0);
        assert_eq!(atoi("-3"), -3);
        assert_eq!(atoi("+7"), 7);
        assert_eq!(atoi("1.5"), 1);
        assert_eq!(atoi("99999999999999999999999"), i64::MAX);
    }
}
