//! The PidFile: where `-k stop` and init scripts find the parent.
//!
//! Source: `server/log.c: ap_log_pid`, `ap_remove_pid`.
use std::io;
use std::path::Path;

use crate::log::{ErrorLog, Level};

/// Write our pid (parent, after binding the listeners). A left-over file from a crashed run is
/// overwritten with Apache's warning AH00099.
pub fn write(path: &Path, log: &ErrorLog) -> io::Result<()> {
    if path.exists() {
        log.log(
            "core",
            Level::Warn,
            format_args!(
                "AH00098: pid file {} overwritten -- Unclean shutdown of previous Apache run?",
                path.display()
            ),
        );
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(path, format!("{}\n", std::process::id())).inspect_err(|e| {
        log.log(
            "core",
            Level::Error,
            format_args!(
                "({}){e}: AH00099: could not create {}",
                e.raw_os_error().unwrap_or(0),
                path.display()
            ),
        );
    })
}

/// Remove it on stop and graceful stop (rule 45), logging AH00096 at info.
pub fn remove(path: &Path, log: &ErrorLog) {
    // mod_cgid's daemon and socket go with the PidFile, at every end of the parent.
    crate::modules::cgid::shutdown();
    // The server is stopping: a logger that dies now is not replaced (AP_MPMQ_STOPPING).
    crate::log::piped::stopping();
    if std::fs::remove_file(path).is_ok() {
        httpd_log_info(log, path);
    }
}

fn httpd_log_info(log: &ErrorLog, path: &Path) {
    crate::ap_log!(
        log,
        "core",
        Info,
        "AH00096: removed PID file {} (pid={})",
        path.display(),
        std::process::id()
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_then_remove() {
        let dir = std::env::temp_dir().join(format!("mpm-lab-pidfile-{}", std::process::id()));
        let p = dir.join("logs/httpd.pid");
        let log = ErrorLog::stderr();
        write(&p, &log).unwrap();
        assert_eq!(
            std::fs::read_to_string(&p).unwrap().trim(),
            std::process::id().to_string()
        );
        remove(&p, &log);
        assert!(!p.exists());
        let _ = std::fs::remove_dir_all(dir);
    }
}
