//! `-d DIR` runs: a whole configuration tree in Debian's layout (`apache2.conf` including
//! `mods-enabled/`, `sites-enabled/`, …) instead of one fixture file rendered into `-f`.
//!
//! Nothing in the tree is rewritten here: the caller copies and edits it (as an administrator
//! would), names the port it wrote into `Listen` and the log files its `ErrorLog`/`CustomLog`
//! lead to, and passes the environment `envvars` exports (as `apache2ctl` does). The caller
//! also owns the scratch directory: the running [`super::Server`] writes its stdout/stderr
//! there and leaves it in place on drop, so a second server (real Apache) can run on the
//! same copy afterwards.

use std::path::PathBuf;

use super::ServerTest;

/// Where a tree run lives and what the harness cannot read from a rendered config.
#[derive(Debug, Clone)]
pub(super) struct Tree {
    /// The caller's scratch directory (`stdout.log`, `stderr.log`); never removed by the harness.
    pub(super) root: PathBuf,
    /// The `-d` directory (ServerRoot), holding `apache2.conf`.
    pub(super) server_root: PathBuf,
    /// The port the tree's `Listen` names (Apache logs no `listening on` line to read it from).
    pub(super) port: u16,
    pub(super) error_log: PathBuf,
    pub(super) access_log: PathBuf,
}

impl ServerTest {
    /// Run `BIN -d server_root` on a prepared tree (see the module doc of `server/tree.rs`):
    /// `root` is the caller's scratch directory, `port` the one its `Listen` names.
    pub fn config_tree(
        mut self,
        root: impl Into<PathBuf>,
        server_root: impl Into<PathBuf>,
        port: u16,
    ) -> Self {
        let root = root.into();
        self.tree = Some(Tree {
            error_log: root.join("error_log"),
            access_log: root.join("access_log"),
            root,
            server_root: server_root.into(),
            port,
        });
        self
    }

    /// The error and access logs a tree's `ErrorLog`/`CustomLog` write (after
    /// [`ServerTest::config_tree`]).
    pub fn log_files(
        mut self,
        error_log: impl Into<PathBuf>,
        access_log: impl Into<PathBuf>,
    ) -> Self {
        if let Some(t) = self.tree.as_mut() {
            t.error_log = error_log.into();
            t.access_log = access_log.into();
        }
        self
    }

    /// One environment variable for the server process (`APACHE_RUN_USER`, …).
    pub fn env(mut self, key: &str, value: &str) -> Self {
        self.env.push((key.to_string(), value.to_string()));
        self
    }
}
