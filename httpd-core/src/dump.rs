//! What `-S`, `-M`, `-l` and the `-D DUMP_*` defines print, on stdout, in Apache's words
//! (`server/vhost.c: dump_vhost_config`, `server/core.c: core_dump_config`,
//! `os/unix/unixd.c: unixd_dump_config`, `modules/core/mod_so.c: dump_loaded_modules`,
//! `server/config.c: ap_show_modules`).
//!
//! `-S` prints one `Mutex` line, the default mutex's (`util_mutex.c: ap_dump_mutexes`): mpm-lab
//! registers no other (no accept mutex, no mod_watchdog). Left out: `Define: NAME=value` values
//! (names only), `-D DUMP_INCLUDES`, which prints nothing here (the include tree is not kept),
//! and `watchdog_module` in `-M` and `-l` (mpm-lab has no mod_watchdog).

use crate::config::modules::{BUILTIN_MODULES, LOADABLE_MODULES};
use crate::config::{ErrorLogTarget, MpmIdent, ServerConfig};

/// `-t -D DUMP_VHOSTS`: the `<VirtualHost>` table (`vhost.c: ap_dump_vhost_config`).
pub fn vhosts(cfg: &ServerConfig) -> String {
    crate::config::vhost::dump_vhosts(cfg)
}

/// `-t -D DUMP_RUN_CFG`: core's and unixd's part.
pub fn run_cfg(cfg: &ServerConfig) -> String {
    let error_log = match &cfg.error_log {
        ErrorLogTarget::File(p) => p.display().to_string(),
        ErrorLogTarget::Stderr => "/dev/stderr".to_string(),
        ErrorLogTarget::Piped(t) => t.clone(),
    };
    let m = &cfg.mutex_default;
    let mutex_dir = match &m.dir {
        Some(d) => d.display().to_string(),
        // ap_runtime_dir_relative(p, ""): the directory with its slash.
        None => format!("{}/", cfg.runtime_dir.display()),
    };
    let mut out = format!(
        "ServerRoot: \"{}\"\nMain DocumentRoot: \"{}\"\nMain ErrorLog: \"{error_log}\"\n\
         Mutex default: dir=\"{mutex_dir}\" mechanism={} {}\nPidFile: \"{}\"\n",
        cfg.server_root.display(),
        cfg.document_root.display(),
        m.mechanism,
        if m.omit_pid { "[OmitPid]" } else { "" },
        cfg.pid_file.display()
    );
    for d in &cfg.defines {
        out.push_str(&format!("Define: {d}\n"));
    }
    out.push_str(&format!(
        "User: name=\"{}\" id={}\nGroup: name=\"{}\" id={}\n",
        cfg.user,
        id_of(&cfg.user, true),
        cfg.group,
        id_of(&cfg.group, false)
    ));
    out
}

/// `unixd`'s uid/gid for a `User`/`Group` value: `#N` is N (so `#-1` prints as 4294967295, a
/// `uid_t`), a name is looked up; an unknown name prints as -1 converted the same way.
fn id_of(name: &str, user: bool) -> u32 {
    if let Some(n) = name.strip_prefix('#') {
        return n.parse::<i64>().map_or(u32::MAX, |v| v as u32);
    }
    let found = if user {
        nix::unistd::User::from_name(name)
            .ok()
            .flatten()
            .map(|u| u.uid.as_raw())
    } else {
        nix::unistd::Group::from_name(name)
            .ok()
            .flatten()
            .map(|g| g.gid.as_raw())
    };
    found.unwrap_or(u32::MAX)
}

/// Apache's statically linked modules on Debian, in `ap_prelinked_modules` order (`apache2 -l`);
/// `watchdog` is the one mpm-lab has not (no module of ours needs its timer threads).
const DEBIAN_STATIC_ORDER: [&str; 8] = [
    "core",
    "so",
    "watchdog",
    "http",
    "log_config",
    "logio",
    "version",
    "unixd",
];

/// `-M` / `-t -D DUMP_MODULES` (`mod_so.c: dump_loaded_modules`): first the modules no
/// `LoadModule` named, `(static)` (Debian's static ones in Apache's order, then the other
/// built-in ones and the MPM), then every module a `LoadModule` named, `(shared)`, in load
/// order, as Debian's loaded `.so` files. On Debian's own tree this is Apache's list but for
/// `watchdog_module`.
pub fn loaded_modules(mpm: &MpmIdent, cfg: &ServerConfig) -> String {
    let not_loaded = |m: &&str| !cfg.loaded_modules.contains(m);
    let static_ones = DEBIAN_STATIC_ORDER
        .iter()
        .copied()
        .filter(|m| crate::config::modules::is_built_in(m))
        .chain(
            BUILTIN_MODULES
                .iter()
                .map(|(short, _)| *short)
                .filter(|m| !DEBIAN_STATIC_ORDER.contains(m)),
        )
        .chain(std::iter::once(mpm.module))
        .filter(not_loaded);
    let mut out = String::from("Loaded Modules:\n");
    for short in static_ones {
        out.push_str(&format!(" {short}_module (static)\n"));
    }
    for short in &cfg.loaded_modules {
        out.push_str(&format!(" {short}_module (shared)\n"));
    }
    out
}

/// `-l`: every module compiled into the binary, by source file.
pub fn compiled_modules(mpm: &MpmIdent) -> String {
    let mut out = String::from("Compiled in modules:\n");
    for (_, file) in BUILTIN_MODULES.iter().chain(LOADABLE_MODULES) {
        out.push_str(&format!("  {file}\n"));
    }
    out.push_str(&format!("  {}.c\n", mpm.name));
    out
}

/// The dumps the defines ask for, in Apache's hook order (vhost, core + unixd, mod_so).
pub fn for_defines(mpm: &MpmIdent, cfg: &ServerConfig) -> String {
    let has = |d: &str| cfg.defines.iter().any(|x| x == d);
    let mut out = String::new();
    if has("DUMP_VHOSTS") {
        out.push_str(&vhosts(cfg));
    }
    if has("DUMP_RUN_CFG") {
        out.push_str(&run_cfg(cfg));
    }
    if has("DUMP_MODULES") {
        out.push_str(&loaded_modules(mpm, cfg));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn dump_run_cfg_and_modules_read_as_apaches() {
        let mut cfg = ServerConfig::with_defaults(Path::new("/tmp/ap"));
        cfg.document_root = "/tmp/ap".into();
        cfg.error_log = ErrorLogTarget::File("/tmp/ap/error_log".into());
        cfg.pid_file = "/tmp/ap/httpd.pid".into();
        cfg.defines = vec!["DUMP_VHOSTS".into(), "DUMP_RUN_CFG".into()];
        // Apache 2.4 (Debian) on the same settings, minus its `mpm-accept` and
        // `watchdog-callback` lines (mutexes mpm-lab does not have).
        assert_eq!(
            for_defines(&MpmIdent::PREFORK, &cfg),
            "VirtualHost configuration:\nServerRoot: \"/tmp/ap\"\nMain DocumentRoot: \"/tmp/ap\"\n\
             Main ErrorLog: \"/tmp/ap/error_log\"\n\
             Mutex default: dir=\"/tmp/ap/logs/\" mechanism=default \n\
             PidFile: \"/tmp/ap/httpd.pid\"\n\
             Define: DUMP_VHOSTS\nDefine: DUMP_RUN_CFG\n\
             User: name=\"#-1\" id=4294967295\nGroup: name=\"#-1\" id=4294967295\n"
        );
        cfg.loaded_modules = vec!["reqtimeout"];
        let m = loaded_modules(&MpmIdent::PREFORK, &cfg);
        assert!(m.starts_with("Loaded Modules:\n core_module (static)\n so_module (static)\n"));
        assert!(m.ends_with(" mpm_prefork_module (static)\n reqtimeout_module (shared)\n"));
        // Debian's tree loads mime, dir, status, authz_* and the MPM from `.so` files: those
        // move to the shared part, in load order, and the static part is Apache's.
        cfg.loaded_modules = vec![
            "authz_core",
            "mime",
            "mpm_prefork",
            "status",
            "dir",
            "authz_host",
        ];
        assert_eq!(
            loaded_modules(&MpmIdent::PREFORK, &cfg),
            "Loaded Modules:\n core_module (static)\n so_module (static)\n http_module (static)\n \
             log_config_module (static)\n logio_module (static)\n version_module (static)\n \
             unixd_module (static)\n authz_core_module (shared)\n mime_module (shared)\n \
             mpm_prefork_module (shared)\n status_module (shared)\n dir_module (shared)\n \
             authz_host_module (shared)\n"
        );
        let l = compiled_modules(&MpmIdent::EVENT);
        assert!(l.starts_with("Compiled in modules:\n  core.c\n  mod_so.c\n"));
        assert!(l.contains("  mod_reqtimeout.c\n") && l.ends_with("  event.c\n"));
        assert_eq!(id_of("root", true), 0);
        assert_eq!(id_of("#33", false), 33);
    }
}
