//! `--warm-target`: lend a built `target/`'s third-party crates to a student workspace, so a
//! grading run compiles only our crates.

use std::path::Path;

/// Our own crates' artifacts: never shared between trees (cargo would take another tree's
/// build of them for fresh).
const OWN_CRATES: &[&str] = &[
    "httpd_core",
    "httpd-core",
    "mpm_prefork",
    "mpm-prefork",
    "mpm_worker",
    "mpm-worker",
    "mpm_event",
    "mpm-event",
    "conformance",
    "conf_",
    "conf-",
    "mpm_lab",
    "mpm-lab",
    "hidden_",
];

/// Give a workspace's `target/` the third-party crates already built in `warm` (hard links:
/// no copy, no rebuild of dependencies). Our own crates are left out, so each tree builds its
/// own; third-party artifacts never change once built, so sharing them is safe.
pub fn seed_target(warm: &Path, target: &Path) -> Result<usize, String> {
    let mut n = 0;
    for sub in ["deps", "build", ".fingerprint"] {
        let from = warm.join("debug").join(sub);
        let to = target.join("debug").join(sub);
        let Ok(rd) = std::fs::read_dir(&from) else {
            continue;
        };
        std::fs::create_dir_all(&to).map_err(|e| format!("{}: {e}", to.display()))?;
        for e in rd.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            let own = OWN_CRATES
                .iter()
                .any(|c| name.starts_with(c) || name.starts_with(&format!("lib{c}")));
            if own || to.join(&name).exists() {
                continue;
            }
            n += link_tree(&e.path(), &to.join(&name))?;
        }
    }
    Ok(n)
}

fn link_tree(from: &Path, to: &Path) -> Result<usize, String> {
    if from.is_dir() {
        std::fs::create_dir_all(to).map_err(|e| format!("{}: {e}", to.display()))?;
        let mut n = 0;
        for e in std::fs::read_dir(from)
            .map_err(|e| format!("{}: {e}", from.display()))?
            .flatten()
        {
            n += link_tree(&e.path(), &to.join(e.file_name()))?;
        }
        Ok(n)
    } else {
        std::fs::hard_link(from, to)
            .or_else(|_| std::fs::copy(from, to).map(|_| ()))
            .map_err(|e| format!("{}: {e}", to.display()))?;
        Ok(1)
    }
}
