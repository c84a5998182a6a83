//! Load phases, written `TARGET:SECONDS,…` as in the reference `load.py --phases`.
//!
//! During phase *i* exactly `target` connections are held; the phases follow each other with no
//! gap. `0:5,40:10,120:15,160:10,0:5` is the reference scenario of `reference/README.md`.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

/// One load phase (the simulators' type: a run and a simulation read the same `--phases`).
pub use httpd_core::sim::Phase;

/// A parsed `--phases` list.
#[derive(Debug, Clone, PartialEq)]
pub struct Phases(pub Vec<Phase>);

/// The most connections one phase may hold (as `load.py`'s `MAX_CONNS`).
pub const MAX_CONNS: usize = 5000;

impl Phases {
    /// Total duration of all phases.
    pub fn total(&self) -> Duration {
        self.0.iter().map(|p| p.duration).sum()
    }

    /// (start, end, target) of each phase in seconds from the start of the load.
    pub fn spans(&self) -> Vec<(f64, f64, usize)> {
        let mut t = 0.0;
        self.0
            .iter()
            .map(|p| {
                let s = t;
                t += p.duration.as_secs_f64();
                (s, t, p.target)
            })
            .collect()
    }

    /// The phase index active `t` seconds after the load started (`None` after the end).
    pub fn at(&self, t: f64) -> Option<usize> {
        self.spans().iter().position(|&(s, e, _)| t >= s && t < e)
    }
}

impl FromStr for Phases {
    type Err = String;

    /// `httpd_core::sim::parse_phases`, plus the limits of a real run: at most
    /// [`MAX_CONNS`] connections and 900 s per phase.
    fn from_str(s: &str) -> Result<Self, String> {
        let v = httpd_core::sim::parse_phases(s).map_err(|e| e.to_string())?;
        for p in &v {
            if p.target > MAX_CONNS {
                return Err(format!(
                    "phase {}:{}: at most {MAX_CONNS} connections",
                    p.target,
                    p.duration.as_secs_f64()
                ));
            }
            if p.duration > Duration::from_secs(900) {
                return Err(format!(
                    "phase {}:{}: at most 900 s",
                    p.target,
                    p.duration.as_secs_f64()
                ));
            }
        }
        Ok(Phases(v))
    }
}

impl fmt::Display for Phases {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self
            .0
            .iter()
            .map(|p| format!("{}:{}", p.target, p.duration.as_secs_f64()))
            .collect();
        f.write_str(&parts.join(","))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_reference_scenario() {
        let p: Phases = "0:5,40:10,120:15,160:10,0:5".parse().unwrap();
        assert_eq!(p.0.len(), 5);
        assert_eq!(p.total(), Duration::from_secs(45));
        assert_eq!(p.at(6.0), Some(1));
        assert_eq!(p.at(45.0), None);
        assert_eq!(p.to_string(), "0:5,40:10,120:15,160:10,0:5");
    }

    #[test]
    fn rejects_garbage() {
        assert!("40".parse::<Phases>().is_err());
        assert!("x:5".parse::<Phases>().is_err());
        assert!("".parse::<Phases>().is_err());
    }
}
