//! The three configurations of the real Apache 2.4.71 runs (/work/shared/reference/apache-2.4.71/run1)
//! load unchanged with the matching MPM, and are refused by the other two with the binary to run.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use httpd_core::config::{self, ConfigOptions, ErrorLogTarget, MpmIdent, Require};
use httpd_core::log::Level;

/// The reference files, copied next to this test so the crate does not depend on the lab machine.
fn reference(mpm: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tests/reference/{mpm}.httpd.conf"))
}

/// The configs name `ServerRoot "/tmp/lab/apache-<mpm>-18080"`, which Apache requires to exist.
fn make_server_root(mpm: &str) -> PathBuf {
    let root = PathBuf::from(format!("/tmp/lab/apache-{mpm}-18080"));
    std::fs::create_dir_all(&root).unwrap();
    root
}

fn load(ident: &MpmIdent) -> Result<config::ServerConfig, config::ConfigError> {
    make_server_root(ident.name);
    config::load(
        &ConfigOptions {
            file: Some(reference(ident.name)),
            ..Default::default()
        },
        ident,
    )
}

#[test]
fn config_reference_configs_load_with_their_mpm() {
    for ident in MpmIdent::ALL {
        let c = load(&ident).unwrap_or_else(|e| panic!("{}: {e}", ident.name));
        let root = make_server_root(ident.name);
        assert_eq!(c.server_root, root);
        assert_eq!(
            c.config_file.as_deref(),
            Some(reference(ident.name).as_path())
        );
        assert_eq!(c.server_name.as_deref(), Some("127.0.0.1"));
        assert_eq!(
            c.listen.iter().map(|l| l.addr).collect::<Vec<_>>(),
            ["127.0.0.1:18080".parse::<SocketAddr>().unwrap()]
        );
        assert_eq!(c.pid_file, root.join("httpd.pid"));
        assert_eq!(c.runtime_dir, root);
        assert_eq!(c.error_log, ErrorLogTarget::File(root.join("error_log")));
        assert_eq!(
            (c.user.as_str(), c.group.as_str()),
            ("www-data", "www-data")
        );
        assert_eq!(c.log_level.default, Level::Warn);
        assert_eq!(c.log_level.level_for(ident.module), Level::Info);
        assert_eq!(c.log_level.level_for("core"), Level::Warn);
        assert_eq!(
            c.types_config.as_deref(),
            Some(Path::new("/etc/mime.types"))
        );
        assert_eq!(c.document_root, Path::new("/tmp/lab/www"));
        assert_eq!(c.directory_index, ["index.html"]);
        assert!(c.extended_status && c.keep_alive);
        assert_eq!(c.keep_alive_timeout, Duration::from_secs(5));
        assert_eq!(
            c.handler_for("/server-status").as_deref(),
            Some("server-status")
        );
        assert_eq!(c.handler_for("/index.html").as_deref(), None);
        assert_eq!(
            c.access_for("/", Path::new("/tmp/lab/www/index.html"))
                .require,
            vec![Require::AllGranted]
        );
        assert_eq!(
            c.access_for("/server-status", Path::new("/tmp/lab/www/server-status"))
                .require,
            vec![Require::AllGranted]
        );
        assert!(
            c.custom_logs.is_empty(),
            "the reference runs had no access log"
        );
        let m = &c.mpm;
        assert_eq!(m.max_request_workers, Some(150));
        assert_eq!(m.max_connections_per_child, Some(0));
        if ident.name == "prefork" {
            assert_eq!(
                (m.start_servers, m.min_spare_servers, m.max_spare_servers),
                (Some(5), Some(5), Some(10))
            );
            assert_eq!(m.threads_per_child, None);
        } else {
            assert_eq!((m.server_limit, m.start_servers), (Some(16), Some(2)));
            assert_eq!(
                (
                    m.min_spare_threads,
                    m.max_spare_threads,
                    m.threads_per_child
                ),
                (Some(25), Some(75), Some(25))
            );
        }
        assert!(!m.used_max_clients && !m.used_max_requests_per_child);
    }
}

#[test]
fn config_reference_config_of_another_mpm_names_the_binary_to_run() {
    let worker_cfg = reference("worker");
    make_server_root("worker");
    let e = config::load(
        &ConfigOptions {
            file: Some(worker_cfg.clone()),
            ..Default::default()
        },
        &MpmIdent::PREFORK,
    )
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        format!(
            "mpm-prefork: Syntax error on line 10 of {}: This is mpm-prefork; the configuration loads mpm_worker_module: run mpm-worker instead",
            worker_cfg.display()
        )
    );
}

#[test]
fn config_reference_copies_match_the_lab_files() {
    // When the shared reference directory exists (the lab machine), our copies must be identical.
    for mpm in ["prefork", "worker", "event"] {
        let shared = PathBuf::from(format!(
            "/work/shared/reference/apache-2.4.71/run1/{mpm}.httpd.conf"
        ));
        if let Ok(original) = std::fs::read_to_string(&shared) {
            assert_eq!(
                std::fs::read_to_string(reference(mpm)).unwrap(),
                original,
                "{mpm}"
            );
        }
    }
}
