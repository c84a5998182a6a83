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

    /// A TZif (version 1) file for a fixed UTC offset with no transitions: enough for the
    /// lookup to be tested without the machine's tzdata, which a fresh CI box may lack.
    fn tzif_fixed(offset_secs: i32) -> Vec<u8> {
        let mut f = b"TZif".to_vec();
        f.push(0); // version 1
        f.extend([0u8; 15]);
        // isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt
        for n in [0u32, 0, 0, 0, 1, 4] {
            f.extend(n.to_be_bytes());
        }
        f.extend(offset_secs.to_be_bytes()); // ttinfo: utoff
        f.extend([0, 0]); // isdst, abbreviation index
        f.extend(b"TST\0");
        f
    }

    /// A zoneinfo directory holding `Test/Plus2` (+02:00) and `Test/Minus4` (−04:00), one per
    /// test (`tag`): tests run in parallel and must not read a file another one is writing.
    fn zoneinfo(tag: &str) -> TempDir {
        let dir =
            std::env::temp_dir().join(format!("mpm-lab-zoneinfo-{}-{tag}", std::process::id()));
        std::fs::create_dir_all(dir.join("Test")).unwrap();
        std::fs::write(dir.join("Test/Plus2"), tzif_fixed(7200)).unwrap();
        std::fs::write(dir.join("Test/Minus4"), tzif_fixed(-4 * 3600)).unwrap();
        TempDir(dir)
    }

    /// Removed when the test ends.
    struct TempDir(PathBuf);

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    #[test]
    fn empty_tz_is_utc() {
        let tmp = zoneinfo("empty_tz_is_utc");
        let dir = tmp.0.as_path();
        let localtime = dir.join("Test/Plus2");
        assert_eq!(july_offset(&resolve(Some(""), None, &localtime)), 0);
        assert_eq!(july_offset(&resolve(Some(":"), None, &localtime)), 0);
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
        let tmp = zoneinfo("unreadable_falls_back_to_utc");
        let dir = tmp.0.as_path();
        assert_eq!(
            july_offset(&resolve(None, None, Path::new("/nonexistent"))),
            0
        );
        assert_eq!(
            july_offset(&resolve(Some("No/Such_Zone"), Some(dir), Path::new("/x"))),
            0
        );
    }

    #[test]
    fn zone_names_and_files() {
        let tmp = zoneinfo("zone_names_and_files");
        let dir = tmp.0.as_path();
        for tz in ["Test/Plus2", ":Test/Plus2"] {
            assert_eq!(
                july_offset(&resolve(Some(tz), Some(dir), Path::new("/x"))),
                7200,
                "{tz}"
            );
        }
        // TZ unset: /etc/localtime (here, its stand-in).
        let file = dir.join("Test/Minus4");
        assert_eq!(july_offset(&resolve(None, None, &file)), -4 * 3600);
        let abs = format!(":{}", file.display());
        assert_eq!(
            july_offset(&resolve(Some(&abs), None, Path::new("/x"))),
            -4 * 3600
        );
    }

    #[test]
    fn relative_names_stay_in_the_zoneinfo_dir() {
        let tmp = zoneinfo("relative_names_stay_in_the_zoneinfo_dir");
        let dir = tmp.0.as_path();
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        // "../<dir>/Test/Plus2" leads back to a real file; it is refused and, not being a
        // POSIX rule either, ends as UTC.
        let climbing = format!("../{name}/Test/Plus2");
        assert!(
            dir.join(&climbing).exists(),
            "the escape leads somewhere real"
        );
        let tz = resolve(Some(&climbing), Some(dir), Path::new("/x"));
        assert_eq!(july_offset(&tz), 0);
    }
}
