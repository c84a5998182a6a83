//! mod_status's `?auto` page, parsed (spec §7.5).
//!
//! The page is `Key: value` lines after a first line holding only the server name. The keys
//! are kept in the order received, because rule 36 is about that order.

/// One `/server-status?auto` page.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct StatusAuto {
    /// The first line (the host name from the request, no key).
    pub server_name: String,
    /// Every `Key: value` line, in order.
    pub keys: Vec<(String, String)>,
    /// The `Scoreboard:` string (one character per worker slot shown).
    pub scoreboard: String,
}

impl StatusAuto {
    /// Parse the body of a `?auto` page.
    pub fn parse(body: &str) -> StatusAuto {
        let mut st = StatusAuto::default();
        for (i, line) in body.lines().enumerate() {
            match line.split_once(':') {
                Some((k, v)) if !(i == 0 && !line.contains(": ") && !line.ends_with(':')) => {
                    let (k, v) = (k.trim().to_string(), v.trim().to_string());
                    if k == "Scoreboard" {
                        st.scoreboard = v.clone();
                    }
                    st.keys.push((k, v));
                }
                _ if i == 0 => st.server_name = line.trim().to_string(),
                _ => {}
            }
        }
        st
    }

    /// The value of `key`, if present.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.keys
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The value of `key` as an integer.
    pub fn int(&self, key: &str) -> Option<i64> {
        self.get(key).and_then(|v| v.parse().ok())
    }

    /// The key names in order.
    pub fn key_names(&self) -> Vec<&str> {
        self.keys.iter().map(|(k, _)| k.as_str()).collect()
    }

    /// `BusyWorkers` (0 if absent).
    pub fn busy(&self) -> i64 {
        self.int("BusyWorkers").unwrap_or(0)
    }

    /// `IdleWorkers` (0 if absent).
    pub fn idle(&self) -> i64 {
        self.int("IdleWorkers").unwrap_or(0)
    }

    /// `GracefulWorkers` (0 if absent).
    pub fn graceful(&self) -> i64 {
        self.int("GracefulWorkers").unwrap_or(0)
    }

    /// `ServerMPM`.
    pub fn mpm(&self) -> &str {
        self.get("ServerMPM").unwrap_or("")
    }

    /// How many scoreboard slots show `c`.
    pub fn count(&self, c: char) -> usize {
        self.scoreboard.chars().filter(|&x| x == c).count()
    }

    /// Processes: the `Processes` key (event) or else the number of process blocks of
    /// `width` characters in the scoreboard that are not all `.` (prefork: width 1).
    pub fn processes(&self, width: usize) -> Option<usize> {
        if let Some(n) = self.int("Processes") {
            return usize::try_from(n).ok();
        }
        let width = if self.mpm() == "prefork" { 1 } else { width };
        if self.scoreboard.is_empty() || width == 0 {
            return None;
        }
        let chars: Vec<char> = self.scoreboard.chars().collect();
        Some(
            chars
                .chunks(width)
                .filter(|b| b.iter().any(|&c| c != '.'))
                .count(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_reference_shape() {
        let body = "127.0.0.1\nServerVersion: Apache/2.4.71 (Debian)\nServerMPM: prefork\nServer Built: 2026-11-12T08:58:41\nBusyWorkers: 1\nIdleWorkers: 4\nScoreboard: ____W....\n";
        let st = StatusAuto::parse(body);
        assert_eq!(st.server_name, "127.0.0.1");
        assert_eq!(st.key_names()[2], "Server Built");
        assert_eq!(st.get("Server Built"), Some("2026-11-12T08:58:41"));
        assert_eq!((st.busy(), st.idle()), (1, 4));
        assert_eq!(st.count('_'), 4);
        assert_eq!(st.processes(25), Some(5));
    }
}
