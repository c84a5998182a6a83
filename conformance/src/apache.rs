//! Real Apache httpd 2.4 beside ours, through the reference run's own script
//! (`../shared/reference/apache-2.4.71/apache.sh`, Debian's `apache2` package): `mpm-lab bench
//! --apache` measures both servers in the same run on the same files.

use std::net::SocketAddr;
use std::path::Path;

use crate::Mpm;

/// Where `apache.sh` lives relative to the workspace.
pub const DEFAULT_SCRIPT: &str = "../shared/reference/apache-2.4.71/apache.sh";

/// MPM directives of our config, passed on to apache.sh so Apache runs the same pool sizes.
pub fn mpm_directives(config: Option<&Path>) -> Vec<String> {
    const NAMES: [&str; 15] = [
        "StartServers",
        "MinSpareServers",
        "MaxSpareServers",
        "MinSpareThreads",
        "MaxSpareThreads",
        "ThreadsPerChild",
        "ThreadLimit",
        "ServerLimit",
        "MaxRequestWorkers",
        "MaxConnectionsPerChild",
        "KeepAlive",
        "MaxKeepAliveRequests",
        "KeepAliveTimeout",
        "AsyncRequestWorkerFactor",
        "Timeout",
    ];
    let text = config
        .and_then(|c| std::fs::read_to_string(c).ok())
        .unwrap_or_default();
    text.lines()
        .map(str::trim)
        .filter(|l| {
            l.split_whitespace()
                .next()
                .is_some_and(|d| NAMES.iter().any(|n| n.eq_ignore_ascii_case(d)))
        })
        .map(str::to_string)
        .collect()
}

/// Start real Apache with `mpm` on port 18090 through the reference `apache.sh` (which
/// generates its config: the same site and pool directives as `config`); returns the parent's
/// pid and address. Stop it with [`stop`].
pub fn start(
    script: &Path,
    mpm: Mpm,
    config: Option<&Path>,
    access_log: bool,
) -> Result<(i32, SocketAddr), String> {
    start_with(script, mpm, 18090, &mpm_directives(config), access_log)
}

/// As [`start`], on `port` (18080–18099, apache.sh's range) with `lines` appended to the
/// generated config (they override its defaults).
pub fn start_with(
    script: &Path,
    mpm: Mpm,
    port: u16,
    lines: &[String],
    access_log: bool,
) -> Result<(i32, SocketAddr), String> {
    if !Path::new("/usr/sbin/apache2").exists() {
        return Err("apache2 is not installed (apt-get install apache2)".into());
    }
    if !script.is_file() {
        return Err(format!("{} not found", script.display()));
    }
    let out = std::process::Command::new(script)
        .env("ACCESS_LOG", if access_log { "1" } else { "0" })
        .arg("start")
        .arg(mpm.name())
        .arg(port.to_string())
        .args(lines)
        .output()
        .map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    let pid = String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .map_err(|_| "apache.sh printed no pid")?;
    Ok((pid, SocketAddr::from(([127, 0, 0, 1], port))))
}

/// Stop an Apache started by [`start`] (`apache.sh stop PID`).
pub fn stop(script: &Path, pid: i32) {
    let _ = std::process::Command::new(script)
        .arg("stop")
        .arg(pid.to_string())
        .status();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_pool_directives_are_passed_on() {
        let dir = std::env::temp_dir().join(format!("mpm-lab-apache-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let conf = dir.join("httpd.conf");
        std::fs::write(
            &conf,
            "Listen 127.0.0.1:0\n  StartServers 2\nDocumentRoot /x\nasyncrequestworkerfactor 10\nKeepAliveTimeout 60\n",
        )
        .unwrap();
        assert_eq!(
            mpm_directives(Some(&conf)),
            [
                "StartServers 2",
                "asyncrequestworkerfactor 10",
                "KeepAliveTimeout 60"
            ]
        );
        assert!(mpm_directives(None).is_empty());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
