//! The first pass: Include, Define/${VAR}, <IfDefine>, <IfModule>, -C/-c/-D, and the embedded default.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use httpd_core::config::{self, ConfigOptions, ErrorLogTarget, MpmIdent, Require};
use httpd_core::log::Level;

fn test_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "mpm-lab-config-features-{}-{name}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn opts(dir: &Path) -> ConfigOptions {
    ConfigOptions {
        file: Some(dir.join("httpd.conf")),
        server_root: Some(dir.to_path_buf()),
        ..Default::default()
    }
}

#[test]
fn config_include_glob_directory_and_optional() {
    let dir = test_dir("include");
    std::fs::create_dir_all(dir.join("conf.d")).unwrap();
    std::fs::create_dir_all(dir.join("mods")).unwrap();
    std::fs::write(dir.join("conf.d/b.conf"), "Listen 127.0.0.1:8002\n").unwrap();
    std::fs::write(dir.join("conf.d/a.conf"), "Listen 127.0.0.1:8001\n").unwrap();
    std::fs::write(dir.join("conf.d/c.conf.bak"), "Bogus\n").unwrap();
    std::fs::write(dir.join("conf.d/.hidden.conf"), "Bogus\n").unwrap();
    std::fs::write(dir.join("mods/x1.load"), "Listen 127.0.0.1:8003\n").unwrap();
    std::fs::write(dir.join("mods/x2.load"), "Include conf.d/a?.conf\n").unwrap();
    std::fs::write(
        dir.join("httpd.conf"),
        "Include conf.d/*.conf\nIncludeOptional nothing/*.conf\nIncludeOptional missing.conf\nInclude mods\n",
    )
    .unwrap();
    // mods/x2.load includes a pattern that matches nothing ("a?.conf" needs two characters after a).
    let e = config::load(&opts(&dir), &MpmIdent::PREFORK).unwrap_err();
    assert!(
        e.to_string()
            .contains("No matches for the wildcard 'a?.conf'"),
        "{e}"
    );
    std::fs::write(dir.join("mods/x2.load"), "IncludeOptional conf.d/??.conf\n").unwrap();
    let c = config::load(&opts(&dir), &MpmIdent::PREFORK).unwrap();
    let ports: Vec<u16> = c.listen.iter().map(|l| l.addr.port()).collect();
    // Sorted file order; ??.conf matches nothing (a.conf has one character), dot files and .bak skipped.
    assert_eq!(ports, [8001, 8002, 8003]);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn config_include_recursion_is_stopped() {
    let dir = test_dir("recursion");
    std::fs::write(dir.join("httpd.conf"), "Include httpd.conf\n").unwrap();
    let e = config::load(&opts(&dir), &MpmIdent::PREFORK).unwrap_err();
    assert!(
        e.to_string()
            .contains("Exceeded maximum include depth of 128, There appears to be a recursion."),
        "{e}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn config_define_ifdefine_and_variables() {
    let dir = test_dir("define");
    std::fs::write(
        dir.join("httpd.conf"),
        "Define PORT 8080\nDefine LAB\nListen 127.0.0.1:${PORT}\n\
         <IfDefine LAB>\n  <IfDefine !NOPE>\n    ServerName lab\n  </IfDefine>\n</IfDefine>\n\
         <IfDefine FROM_CLI>\n  ServerAdmin cli@example.org\n</IfDefine>\n\
         <IfDefine !LAB>\n  Bogus directive never read\n  <Directory /x>\n  </Directory>\n</IfDefine>\n\
         UnDefine LAB\n<IfDefine LAB>\n  ServerName wrong\n</IfDefine>\n\
         ServerSignature ${UNDEFINED_THING}\n",
    )
    .unwrap();
    // ${UNDEFINED_THING} stays literal (AH00111) and then fails ServerSignature's check.
    let e = config::load(&opts(&dir), &MpmIdent::PREFORK).unwrap_err();
    assert_eq!(e.message, "ServerSignature: use one of: off | on | email");
    let text = std::fs::read_to_string(dir.join("httpd.conf"))
        .unwrap()
        .replace("${UNDEFINED_THING}", "On\nLogLevel ${UNDEFINED_THING}:info");
    std::fs::write(dir.join("httpd.conf"), text).unwrap();
    let e = config::load(&opts(&dir), &MpmIdent::PREFORK).unwrap_err();
    assert_eq!(e.message, "Cannot find module ${UNDEFINED_THING}");
    let text = std::fs::read_to_string(dir.join("httpd.conf"))
        .unwrap()
        .replace(
            "LogLevel ${UNDEFINED_THING}:info",
            "DocumentRoot /x/${UNDEFINED_THING}",
        );
    std::fs::write(dir.join("httpd.conf"), text).unwrap();

    let mut o = opts(&dir);
    o.defines = vec!["FROM_CLI".into()];
    let c = config::load(&o, &MpmIdent::PREFORK).unwrap();
    assert_eq!(
        c.listen[0].addr,
        "127.0.0.1:8080".parse::<SocketAddr>().unwrap()
    );
    assert_eq!(c.server_name.as_deref(), Some("lab"));
    assert_eq!(c.server_admin.as_deref(), Some("cli@example.org"));
    assert_eq!(c.document_root, Path::new("/x/${UNDEFINED_THING}"));
    assert!(
        c.startup_warnings
            .contains(&"AH00111: Config variable ${UNDEFINED_THING} is not defined".to_string())
    );
    assert!(c.defines.contains(&"PORT".to_string()) && !c.defines.contains(&"LAB".to_string()));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn config_ifmodule_spellings() {
    let dir = test_dir("ifmodule");
    std::fs::write(
        dir.join("httpd.conf"),
        "<IfModule mod_status.c>\n Listen 127.0.0.1:1\n</IfModule>\n\
         <IfModule status_module>\n Listen 127.0.0.1:2\n</IfModule>\n\
         <IfModule !mod_ssl.c>\n Listen 127.0.0.1:3\n</IfModule>\n\
         <IfModule mod_ssl.c>\n SSLEngine on\n</IfModule>\n\
         <IfModule mpm_worker_module>\n ThreadsPerChild 25\n</IfModule>\n\
         <IfModule mpm_prefork_module>\n StartServers 7\n</IfModule>\n\
         <IfModule prefork.c>\n MaxSpareServers 11\n</IfModule>\n\
         <ifmodule MOD_DIR.C>\n Listen 127.0.0.1:4\n</IFMODULE>\n\
         <IfFile httpd.conf>\n Listen 127.0.0.1:5\n</IfFile>\n\
         <IfDirective !Frobnicate>\n Listen 127.0.0.1:6\n</IfDirective>\n",
    )
    .unwrap();
    let c = config::load(&opts(&dir), &MpmIdent::PREFORK).unwrap();
    let ports: Vec<u16> = c.listen.iter().map(|l| l.addr.port()).collect();
    // MOD_DIR.C: module names are case-sensitive in Apache, so that block is skipped.
    assert_eq!(ports, [1, 2, 3, 5, 6]);
    assert_eq!(
        (
            c.mpm.start_servers,
            c.mpm.max_spare_servers,
            c.mpm.threads_per_child
        ),
        (Some(7), Some(11), None)
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn config_dash_c_before_and_after_the_file() {
    let dir = test_dir("dashc");
    std::fs::write(
        dir.join("httpd.conf"),
        "KeepAliveTimeout 7\nServerName file\n",
    )
    .unwrap();
    let mut o = opts(&dir);
    o.pre_directives = vec![
        "KeepAliveTimeout 1".into(),
        "ServerAdmin pre@example.org".into(),
    ];
    o.post_directives = vec!["ServerName post".into()];
    let c = config::load(&o, &MpmIdent::EVENT).unwrap();
    // -C runs first (the file overrides it), -c last (it overrides the file).
    assert_eq!(c.keep_alive_timeout.as_secs(), 7);
    assert_eq!(c.server_admin.as_deref(), Some("pre@example.org"));
    assert_eq!(c.server_name.as_deref(), Some("post"));
    // -C may set the ServerRoot the file's relative paths use.
    std::fs::create_dir_all(dir.join("other")).unwrap();
    let mut o = opts(&dir);
    o.pre_directives = vec![format!("ServerRoot {}", dir.join("other").display())];
    let c = config::load(&o, &MpmIdent::EVENT).unwrap();
    assert_eq!(c.pid_file, dir.join("other/logs/httpd.pid"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn config_relative_f_is_relative_to_d() {
    let dir = test_dir("relf");
    std::fs::write(dir.join("my.conf"), "Listen 127.0.0.1:0\n").unwrap();
    let o = ConfigOptions {
        file: Some("my.conf".into()),
        server_root: Some(dir.clone()),
        ..Default::default()
    };
    let c = config::load(&o, &MpmIdent::WORKER).unwrap();
    assert_eq!(c.config_file, Some(dir.join("my.conf")));
    assert_eq!(c.server_root, dir);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn config_embedded_default_for_each_mpm() {
    for ident in MpmIdent::ALL {
        let c = config::load(&ConfigOptions::default(), &ident).unwrap_or_else(|e| panic!("{e}"));
        let runtime = config::default_runtime_dir(&ident).unwrap();
        assert!(
            runtime.ends_with(format!(
                "mpm-lab-{}-{}",
                ident.binary,
                nix::unistd::getuid()
            )),
            "{}",
            runtime.display()
        );
        assert_eq!(c.config_file, None);
        assert_eq!(c.server_root, runtime);
        assert_eq!(c.pid_file, runtime.join("httpd.pid"));
        assert_eq!(
            c.listen[0].addr,
            "127.0.0.1:8080".parse::<SocketAddr>().unwrap()
        );
        assert_eq!(c.document_root, Path::new(config::DEMO_DIR));
        assert!(c.document_root.join("index.html").is_file());
        assert_eq!(
            std::fs::metadata(c.document_root.join("1k.bin"))
                .unwrap()
                .len(),
            1024
        );
        assert!(c.document_root.join("subdir/index.html").is_file());
        assert_eq!(c.error_log, ErrorLogTarget::Stderr);
        assert_eq!(c.log_level.level_for(ident.module), Level::Info);
        assert_eq!(c.log_level.level_for("core"), Level::Warn);
        assert_eq!((c.user.as_str(), c.group.as_str()), ("nobody", "nogroup"));
        assert_eq!(
            c.handler_for("/server-status").as_deref(),
            Some("server-status")
        );
        assert_eq!(
            c.access_for("/server-status", &c.document_root.join("server-status"))
                .require,
            vec![Require::Local]
        );
        assert_eq!(
            c.access_for("/", &c.document_root.join("index.html"))
                .require,
            vec![Require::AllGranted]
        );
        assert!(c.startup_warnings.is_empty(), "{:?}", c.startup_warnings);
    }
}
