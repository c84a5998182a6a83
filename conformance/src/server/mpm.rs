//! The three MPMs the harness can start, and where their binaries are found.

use std::fmt;
use std::path::PathBuf;

/// The three MPMs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Mpm {
    Prefork,
    Worker,
    Event,
}

impl Mpm {
    /// All three, in the order the book presents them.
    pub const ALL: [Mpm; 3] = [Mpm::Prefork, Mpm::Worker, Mpm::Event];

    /// `prefork`, `worker`, `event` (as `ServerMPM:` shows it).
    pub fn name(self) -> &'static str {
        match self {
            Mpm::Prefork => "prefork",
            Mpm::Worker => "worker",
            Mpm::Event => "event",
        }
    }

    /// The error-log module name, `mpm_prefork` etc.
    pub fn module(self) -> &'static str {
        match self {
            Mpm::Prefork => "mpm_prefork",
            Mpm::Worker => "mpm_worker",
            Mpm::Event => "mpm_event",
        }
    }

    /// The real binary's name, `mpm-prefork` etc.
    pub fn binary_name(self) -> &'static str {
        match self {
            Mpm::Prefork => "mpm-prefork",
            Mpm::Worker => "mpm-worker",
            Mpm::Event => "mpm-event",
        }
    }

    /// The conformance shim's name, `conf-prefork` etc.
    pub fn shim_name(self) -> &'static str {
        match self {
            Mpm::Prefork => "conf-prefork",
            Mpm::Worker => "conf-worker",
            Mpm::Event => "conf-event",
        }
    }

    /// Parse `prefork`, `mpm-prefork`, `mpm_prefork`, ….
    pub fn from_name(s: &str) -> Option<Mpm> {
        let s = s
            .trim_start_matches("mpm-")
            .trim_start_matches("mpm_")
            .trim_start_matches("conf-");
        Mpm::ALL.into_iter().find(|m| m.name() == s)
    }

    /// Find this MPM's server binary next to the running executable.
    ///
    /// Test binaries live in `target/<profile>/deps/`, `mpm-lab` in `target/<profile>/`; the
    /// shims (`conf-*`) and the real binaries (`mpm-*`) in `target/<profile>/`. The variable
    /// `MPM_LAB_BIN_<MPM>` (e.g. `MPM_LAB_BIN_PREFORK`) overrides the search.
    pub fn binary(self) -> Option<PathBuf> {
        let var = format!("MPM_LAB_BIN_{}", self.name().to_ascii_uppercase());
        if let Some(p) = std::env::var_os(var) {
            return Some(PathBuf::from(p));
        }
        let exe = std::env::current_exe().ok()?;
        let dir = exe.parent()?;
        let dirs = [Some(dir), dir.parent()];
        for name in [self.shim_name(), self.binary_name()] {
            for d in dirs.iter().flatten() {
                let p = d.join(name);
                if p.is_file() {
                    return Some(p);
                }
            }
        }
        None
    }
}

impl fmt::Display for Mpm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
