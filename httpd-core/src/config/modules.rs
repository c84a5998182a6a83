//! The modules an mpm-lab binary has, for `<IfModule>`, `LoadModule` and `LogLevel module:level`
//! (Apache `core.c: find_module`, `mod_so.c: load_module`).
//!
//! Everything is built in: `LoadModule` of one of these is accepted without opening the file
//! (the reference configurations name Debian `.so` paths that need not exist); `LoadModule` of
//! another MPM is an error naming the binary to run; anything else cannot be loaded.
//! [`LOADABLE_MODULES`] are built in too but stay off until a `LoadModule` names them, because
//! loading them changes behaviour (mod_reqtimeout's defaults apply as soon as it is loaded).

use super::MpmIdent;

/// The modules built into every mpm-lab binary: (short name, source file). The MPM is added per binary.
pub const BUILTIN_MODULES: &[(&str, &str)] = &[
    ("core", "core.c"),
    ("so", "mod_so.c"),
    ("http", "http_core.c"),
    ("mime", "mod_mime.c"),
    ("dir", "mod_dir.c"),
    ("status", "mod_status.c"),
    ("authz_core", "mod_authz_core.c"),
    ("authz_host", "mod_authz_host.c"),
    ("log_config", "mod_log_config.c"),
    // %I/%O/%S of log/access_log.rs and <IfVersion> of config/ifversion.rs: static in
    // Debian's apache2 too.
    ("logio", "mod_logio.c"),
    ("version", "mod_version.c"),
    ("unixd", "mod_unixd.c"),
];

/// Built in, but off until `LoadModule` names them: (short name, source file).
pub const LOADABLE_MODULES: &[(&str, &str)] = &[
    ("reqtimeout", "mod_reqtimeout.c"),
    ("access_compat", "mod_access_compat.c"),
    ("authn_core", "mod_authn_core.c"),
    ("auth_basic", "mod_auth_basic.c"),
    ("authn_file", "mod_authn_file.c"),
    ("authz_user", "mod_authz_user.c"),
    ("setenvif", "mod_setenvif.c"),
    ("env", "mod_env.c"),
    ("headers", "mod_headers.c"),
    ("alias", "mod_alias.c"),
    ("autoindex", "mod_autoindex.c"),
    ("cgi", "mod_cgi.c"),
    ("cgid", "mod_cgid.c"),
    ("negotiation", "mod_negotiation.c"),
    ("deflate", "mod_deflate.c"),
    ("filter", "mod_filter.c"),
];

/// The short name in `table` for any of Apache's spellings: `status`, `status_module`,
/// `mod_status.c`.
fn find(table: &'static [(&'static str, &'static str)], name: &str) -> Option<&'static str> {
    let bare = name.strip_suffix("_module").unwrap_or(name);
    table
        .iter()
        .find(|(short, file)| bare == *short || name == *file)
        .map(|(short, _)| *short)
}

/// The short module name (`status`, `mpm_prefork`) for any of Apache's spellings: `status`,
/// `status_module`, `mod_status.c`, `prefork.c`. `None` if the module is not in this binary, or
/// is one of [`LOADABLE_MODULES`] that `loaded` does not hold.
pub fn module_short_name(mpm: &MpmIdent, name: &str, loaded: &[&str]) -> Option<&'static str> {
    let bare = name.strip_suffix("_module").unwrap_or(name);
    let mpm_file = format!("{}.c", mpm.name);
    if bare == mpm.module || name == mpm_file {
        return Some(mpm.module);
    }
    find(BUILTIN_MODULES, name)
        .or_else(|| find(LOADABLE_MODULES, name).filter(|short| loaded.contains(short)))
}

/// Whether the module with this short name is in every binary, loaded or not (`autoindex` is
/// not: it is one of [`LOADABLE_MODULES`]).
pub fn is_built_in(short: &str) -> bool {
    BUILTIN_MODULES.iter().any(|(s, _)| *s == short)
}

/// `<IfModule name>`.
pub fn module_is_loaded(mpm: &MpmIdent, name: &str, loaded: &[&str]) -> bool {
    module_short_name(mpm, name, loaded).is_some()
}

/// Whether the directives of `module` (a directive table's module column) can be used: always,
/// unless it is one of [`LOADABLE_MODULES`] not loaded.
pub fn directives_available(module: &str, loaded: &[&str]) -> bool {
    // mod_cgid declares mod_cgi's ScriptLog directives too.
    if module == "cgi" && loaded.contains(&"cgid") {
        return true;
    }
    find(LOADABLE_MODULES, module).is_none_or(|short| loaded.contains(&short))
}

/// `LoadModule name path`: our modules are built in, so the path is not opened (it may not
/// exist: Debian paths in the reference configs). Another MPM is an error naming the binary to run.
/// `Ok(Some(short))` when one of [`LOADABLE_MODULES`] is switched on.
pub fn load_module(mpm: &MpmIdent, name: &str, path: &str) -> Result<Option<&'static str>, String> {
    if let Some(short) = find(LOADABLE_MODULES, name) {
        return Ok(Some(short));
    }
    if module_short_name(mpm, name, &[]).is_some() {
        return Ok(None);
    }
    if let Some(other) = MpmIdent::ALL
        .iter()
        .find(|m| name == format!("{}_module", m.module))
    {
        return Err(format!(
            "This is {}; the configuration loads {name}: run {} instead",
            mpm.binary, other.binary
        ));
    }
    Err(format!(
        "Cannot load {path} into server: mpm-lab has no {name} (its modules are built in: {}, {}_module)",
        BUILTIN_MODULES
            .iter()
            .chain(LOADABLE_MODULES)
            .map(|(s, _)| format!("{s}_module"))
            .collect::<Vec<_>>()
            .join(", "),
        mpm.module
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_module_names() {
        let m = MpmIdent::EVENT;
        assert_eq!(
            module_short_name(&m, "mpm_event_module", &[]),
            Some("mpm_event")
        );
        assert_eq!(module_short_name(&m, "event.c", &[]), Some("mpm_event"));
        assert_eq!(module_short_name(&m, "mod_status.c", &[]), Some("status"));
        assert_eq!(module_short_name(&m, "dir_module", &[]), Some("dir"));
        assert_eq!(module_short_name(&m, "prefork.c", &[]), None);
        assert_eq!(module_short_name(&m, "mod_ssl.c", &[]), None);
        assert!(module_is_loaded(&m, "log_config_module", &[]));
        // A loadable module exists only once loaded.
        assert!(!module_is_loaded(&m, "reqtimeout_module", &[]));
        assert!(module_is_loaded(&m, "mod_reqtimeout.c", &["reqtimeout"]));
        assert!(!directives_available("reqtimeout", &[]));
        assert!(directives_available("reqtimeout", &["reqtimeout"]));
        assert!(directives_available("core", &[]));
    }

    #[test]
    fn config_load_module_builtin_other_mpm_unknown() {
        assert_eq!(
            load_module(
                &MpmIdent::PREFORK,
                "status_module",
                "/nonexistent/mod_status.so"
            ),
            Ok(None)
        );
        assert_eq!(
            load_module(&MpmIdent::PREFORK, "mpm_prefork_module", "x.so"),
            Ok(None)
        );
        assert_eq!(
            load_module(&MpmIdent::PREFORK, "reqtimeout_module", "x.so"),
            Ok(Some("reqtimeout"))
        );
        assert_eq!(
            load_module(&MpmIdent::WORKER, "mpm_prefork_module", "/usr/lib/apache2/modules/mod_mpm_prefork.so"),
            Err("This is mpm-worker; the configuration loads mpm_prefork_module: run mpm-prefork instead".into())
        );
        let e = load_module(&MpmIdent::PREFORK, "ssl_module", "modules/mod_ssl.so").unwrap_err();
        assert!(
            e.starts_with("Cannot load modules/mod_ssl.so into server: mpm-lab has no ssl_module"),
            "{e}"
        );
    }
}
