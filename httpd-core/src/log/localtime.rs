//! The local time zone, found the way glibc's `tzset` finds it (Apache's `apr_time_exp_lt` ends
//! in `localtime_r`, so that is the zone Apache's logs and status page show).
//!
//! 1. `TZ` set and empty: UTC.
//! 2. `TZ` names a TZif file (`:Europe/Madrid`, `Europe/Madrid`, or an absolute path), looked up
//!    under `$TZDIR` or `/usr/share/zoneinfo`: that file.
//! 3. `TZ` is a POSIX rule (`CET-1CEST,M3.5.0,M10.5.0/3`): that rule.
//! 4. `TZ` unset: `/etc/localtime`.
//! 5. Anything unreadable: UTC, as glibc.
//!
//! Why not `jiff::tz::TimeZone::system()`: to name the zone it walks the whole zoneinfo tree
//! and keeps every zone name on the heap (about 600 names; the parent's heap was 196 KiB with
//! them and is 36 KiB without). The parent did that before forking, so every child mapped
//! those pages; a server only needs the zone's rules.
//! The zone is read once per process, in the parent, and inherited by fork.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use jiff::tz::TimeZone;

/// The local zone, read on first use and kept for the process's life (as `tzset` keeps it).
pub fn local_tz() -> TimeZone {
    static TZ: OnceLock<TimeZone> = OnceLock::new();
    TZ.get_or_init(|| {
        let tz = std::env::var_os("TZ").map(|v| v.to_string_lossy().into_owned());
        let dir = std::env::var_os("TZDIR").map(PathBuf::from);
        resolve(tz.as_deref(), dir.as_deref(), Path::new("/etc/localtime"))
    })
    .clone()
}

/// Steps 1–5 above, with the environment and the files passed in (tests use their own).
fn resolve(tz: Option<&str>, tzdir: Option<&Path>, localtime: &Path) -> TimeZone {
    let Some(tz) = tz else {
        return tzif_file(localtime).unwrap_or(TimeZone::UTC);
    };
    let name = tz.strip_prefix(':').unwrap_or(tz);
    if name.is_empty() {
        return TimeZone::UTC;
    }
    let file = if Path::new(name).is_absolute() {
        PathBuf::from(name)
    } else {
        tzdir.unwrap_or(Path::new("/usr/share/zoneinfo")).join(name)
    };
    // A relative name must not climb out of the zoneinfo directory.
    let safe = Path::new(name).is_absolute() || !name.split('/').any(|c| c == "..");
    safe.then(|| tzif_file(&file))
        .flatten()
        .or_else(|| TimeZone::posix(name).ok())
        .unwrap_or(TimeZone::UTC)
}

fn tzif_file(path: &Path) -> Option<TimeZone> {
    let data = std::fs::read(path).ok()?;
    TimeZone::tzif("Local", &data).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::Timestamp;

    /// Offset in seconds of `tz` at 2026-07-01 (northern summer).
    fn july_offset(tz: &TimeZone) -> i32 {
        let t: Timestamp = "2026-07-01T12:00:00Z".parse().unwrap();
        tz.to_offset(t).seconds()
    }

    fn zoneinfo() -> Option<&'static Path> {
        let p = Path::new("/usr/share/zoneinfo");
        p.join("Europe/Madrid").exists().then_some(p)
    }

    #[test]
    fn empty_tz_is_utc() {
        assert_eq!(
            july_offset(&resolve(Some(""), None, Path::new("/nonexistent"))),
            0
        );
        assert_eq!(
            july_offset(&resolve(Some(":"), None, Path::new("/nonexistent"))),
            0
        );
    }

    #[test]
    fn posix_rule() {
        let tz = resolve(
            Some("CET-1CEST,M3.5.0,M10.5.0/3"),
            Some(Path::new("/nonexistent")),
            Path::new("/nonexistent"),
        );
        assert_eq!(july_offset(&tz), 7200);
    }

    #[test]
    fn unreadable_falls_back_to_utc() {
        assert_eq!(
            july_offset(&resolve(None, None, Path::new("/nonexistent"))),
            0
        );
        assert_eq!(
            july_offset(&resolve(
                Some("No/Such_Zone"),
                Some(Path::new("/nonexistent")),
                Path::new("/x")
            )),
            0
        );
    }

    #[test]
    fn zone_names_and_files() {
        let Some(dir) = zoneinfo() else { return };
        for tz in ["Europe/Madrid", ":Europe/Madrid"] {
            assert_eq!(
                july_offset(&resolve(Some(tz), Some(dir), Path::new("/x"))),
                7200,
                "{tz}"
            );
        }
        let file = dir.join("America/New_York");
        assert_eq!(july_offset(&resolve(None, None, &file)), -4 * 3600);
        let abs = format!(":{}", file.display());
        assert_eq!(
            july_offset(&resolve(Some(&abs), None, Path::new("/x"))),
            -4 * 3600
        );
    }

    #[test]
    fn relative_names_stay_in_the_zoneinfo_dir() {
        let Some(dir) = zoneinfo() else { return };
        // "../zoneinfo/Europe/Madrid" would resolve to a real file; it is refused and, not being a
        // POSIX rule either, ends as UTC.
        let tz = resolve(
            Some("../zoneinfo/Europe/Madrid"),
            Some(dir),
            Path::new("/x"),
        );
        assert_eq!(july_offset(&tz), 0);
    }
}
