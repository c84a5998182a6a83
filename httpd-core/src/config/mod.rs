//! httpd.conf: reading (`server/config.c`), the directive table (`core.c`, `mpm_common.c`, module
//! `command_rec`s) and the resulting [`ServerConfig`].
//!
//! Apache reads a configuration in two passes, and so do we:
//!
//! 1. **Read** ([`parse`], Apache's `ap_build_config`): the file is cut into logical lines
//!    (comments dropped, `\` continuations joined, `${VAR}` expanded), and the directives Apache
//!    marks `EXEC_ON_READ` run immediately: `Include`, `IncludeOptional`, `Define`, `UnDefine`,
//!    `ServerRoot`, `LoadModule`, `<IfModule>`, `<IfDefine>`, `<IfFile>`, `<IfDirective>`.
//!    What remains is a tree of directives and `<Directory>`/`<Location>` sections.
//!    Errors here read `mpm-prefork: Syntax error on line 3 of /x.conf: <message>`.
//! 2. **Walk** ([`walk`], Apache's `ap_walk_config`): every node is looked up in the one
//!    directive table ([`directives`]), its context and argument count are checked, and its
//!    parser ([`cmds`]) fills [`ServerConfig`]. Errors here read `AH00526: Syntax error on line 12 of /x.conf:` and the
//!    message on the next line, e.g. `Invalid command 'Foo', perhaps misspelled or defined by a
//!    module not included in the server configuration`.
//!
//! `-C` directives are read before the file and `-c` directives after it, both as the pseudo file
//! `-c/-C directives`, exactly as `config.c: process_command_config` does.
//!
//! | file | Apache |
//! |---|---|
//! | [`tokenize`] | `util.c: ap_cfg_getline, cfg_trim_line, ap_getword_conf` |
//! | [`parse`] | `config.c: ap_build_config, ap_soak_end_container`, `core.c: include_config, start_cond_section, ap_resolve_env` |
//! | [`include`](mod@include) | `config.c: ap_process_fnmatch_configs` |
//! | [`directives`] | the `command_rec` tables of `core.c`, `listen.c`, `mpm_common.c`, the MPMs and modules |
//! | [`walk`] | `config.c: ap_walk_config, invoke_cmd`, `core.c: ap_check_cmd_context` |
//! | [`cmds`] | the directive handlers (`core.c: set_timeout`, `listen.c: ap_set_listener`, …) |
//! | [`modules`] | `core.c: find_module`, `mod_so.c: load_module` |
//! | [`server`] | `server_rec`, `core_dir_config` (what we keep of them) |
//! | [`mpm`] | the MPMs' `ap_daemons_*` globals, before `check_config` |
//!
//! MPM directives are stored raw in [`MpmDirectives`]; each MPM clamps them in its own
//! `check_config` (STYLE.md: "configuration in two stages").
//!
//! | [`sections`] | `request.c: ap_directory_walk, ap_file_walk, ap_location_walk`, `core.c: ap_core_reorder_directories` |
//! | [`htaccess`] | `config.c: ap_parse_htaccess` |
//! | [`vhost`] | `vhost.c` (`<VirtualHost>`, name- and IP-based selection, `-S`) |
//! | [`ifversion`] | `mod_version.c` |
//! | [`local_host`] | `util.c: ap_get_local_host` (the main server's name without ServerName) |
//!
//! Not supported (each is a clear error or a startup warning, never silently wrong): per-vhost
//! logs and server settings other than the names and DocumentRoot, most directives in
//! `.htaccess` (see [`htaccess`]), syslog error logs, `HostnameLookups On`.

pub mod cmds;
pub mod cmds_aaa;
pub mod cmds_env;
pub mod cmds_index;
pub mod cmds_mime;
pub mod cmds_filter;
pub mod directives;
pub mod htaccess;
pub mod ifversion;
pub mod include;
pub mod local_host;
pub mod modules;
pub mod mpm;
pub mod options;
pub mod parse;
pub mod sections;
pub mod server;
pub mod tokenize;
pub mod vhost;
pub mod walk;

pub use mpm::MpmDirectives;
pub use server::{
    AllowOverride, CustomLog, ErrorLogTarget, ListenSpec, LogLevelConfig, MutexDefault, Require,
    Section, SectionTable, ServerConfig, VirtualHost,
};

use std::fmt;
use std::path::PathBuf;

/// Which MPM binary is running: decides which `LoadModule mpm_*`, `<IfModule mpm_*>` and MPM
/// directives are ours.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MpmIdent {
    /// "prefork", "worker" or "event".
    pub name: &'static str,
    /// The error-log module name and `LoadModule` prefix: "mpm_prefork".
    pub module: &'static str,
    /// The binary: "mpm-prefork".
    pub binary: &'static str,
}

impl MpmIdent {
    pub const PREFORK: MpmIdent = MpmIdent {
        name: "prefork",
        module: "mpm_prefork",
        binary: "mpm-prefork",
    };
    pub const WORKER: MpmIdent = MpmIdent {
        name: "worker",
        module: "mpm_worker",
        binary: "mpm-worker",
    };
    pub const EVENT: MpmIdent = MpmIdent {
        name: "event",
        module: "mpm_event",
        binary: "mpm-event",
    };
    /// The three MPMs of mpm-lab.
    pub const ALL: [MpmIdent; 3] = [MpmIdent::PREFORK, MpmIdent::WORKER, MpmIdent::EVENT];
}

/// What the command line says about the configuration (`-f -d -D -C -c`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConfigOptions {
    /// `-f FILE`; `None` = `SERVER_ROOT/apache2.conf` with `-d`, else the embedded default
    /// configuration (conf/default.conf).
    pub file: Option<PathBuf>,
    /// `-d DIR`: the initial ServerRoot (a `ServerRoot` directive still overrides it).
    pub server_root: Option<PathBuf>,
    /// `-D NAME` (repeatable).
    pub defines: Vec<String>,
    /// `-C "directive"`: processed before the file.
    pub pre_directives: Vec<String>,
    /// `-c "directive"`: processed after the file.
    pub post_directives: Vec<String>,
    /// `-T`: no DocumentRoot check (not even our AH00112 warning).
    pub skip_document_root_check: bool,
}

/// The configuration file read with `-d DIR` and no `-f`, relative to DIR: Debian's compiled-in
/// `SERVER_CONFIG_FILE` (upstream Apache: `conf/httpd.conf`), so that `-d /etc/apache2` reads
/// `/etc/apache2/apache2.conf` as Debian's apache2 does. Without `-d` either, the embedded demo
/// configuration is used (mpm-lab's quick start).
pub const SERVER_CONFIG_FILE: &str = "apache2.conf";

/// A configuration error. `Display` is Apache's text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// Which pass failed: decides the wording.
    pub kind: ConfigErrorKind,
    /// File name as shown (absolute path, or `-c/-C directives`); empty when not tied to a file.
    pub file: String,
    /// Line number in `file` (the last physical line of a continued line, as Apache counts).
    pub line: u32,
    /// The message proper, e.g. `Invalid command 'Foo', perhaps misspelled …`.
    pub message: String,
    /// The program name Apache puts in front of read-pass errors (`ap_server_argv0`).
    pub argv0: String,
}

/// The three ways Apache words a configuration failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfigErrorKind {
    /// First pass (`ap_build_config`, `EXEC_ON_READ` directives, section nesting):
    /// `argv0: Syntax error on line N of FILE: message`.
    Read,
    /// Second pass (`ap_walk_config`): `AH00526: Syntax error on line N of FILE:\nmessage`.
    Walk,
    /// Not tied to a line, e.g. `argv0: Could not open configuration file F: No such file or directory`.
    General,
}

impl ConfigError {
    pub(crate) fn read(file: &str, line: u32, message: impl Into<String>) -> ConfigError {
        ConfigError {
            kind: ConfigErrorKind::Read,
            file: file.to_string(),
            line,
            message: message.into(),
            argv0: String::new(),
        }
    }
    pub(crate) fn walk(file: &str, line: u32, message: impl Into<String>) -> ConfigError {
        ConfigError {
            kind: ConfigErrorKind::Walk,
            ..ConfigError::read(file, line, message)
        }
    }
    pub(crate) fn general(message: impl Into<String>) -> ConfigError {
        ConfigError {
            kind: ConfigErrorKind::General,
            ..ConfigError::read("", 0, message)
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            ConfigErrorKind::Read => write!(
                f,
                "{}: Syntax error on line {} of {}: {}",
                self.argv0, self.line, self.file, self.message
            ),
            ConfigErrorKind::Walk => {
                write!(
                    f,
                    "AH00526: Syntax error on line {} of {}:\n{}",
                    self.line, self.file, self.message
                )
            }
            ConfigErrorKind::General => write!(f, "{}: {}", self.argv0, self.message),
        }
    }
}

impl std::error::Error for ConfigError {}

/// The embedded default configuration used when no `-f` is given. It refers to `${MPM_LAB_…}`
/// variables that [`load`] defines (see conf/default.conf).
pub const DEFAULT_CONF: &str = include_str!("../../conf/default.conf");

/// The bundled demo site (DocumentRoot of the default configuration).
pub const DEMO_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/demo");

/// Read and check the whole configuration: the file (or the embedded default), `-C`/`-c`
/// directives and `-D` defines. Errors carry Apache's wording; nothing is printed here.
pub fn load(opts: &ConfigOptions, mpm: &MpmIdent) -> Result<ServerConfig, ConfigError> {
    let mut cfg = parse::load(opts, mpm).map_err(|mut e| {
        e.argv0 = mpm.binary.to_string();
        e
    })?;
    // ap_fini_vhost_config: no global ServerName, so guess one (AH00558 on the console).
    if cfg.server_name.is_none() {
        let guessed = local_host::guess(mpm.binary);
        cfg.server_name = Some(guessed.name);
        cfg.startup_warnings.extend(guessed.messages);
    }
    Ok(cfg)
}

/// As [`load`], with the main configuration given as text; `name` is the file name shown in
/// errors. For tests, the simulator and the book's examples.
pub fn load_text(
    name: &str,
    text: &str,
    opts: &ConfigOptions,
    mpm: &MpmIdent,
) -> Result<ServerConfig, ConfigError> {
    parse::load_from(opts, mpm, parse::MainSource::Text { name, text }).map_err(|mut e| {
        e.argv0 = mpm.binary.to_string();
        e
    })
}

/// The per-user runtime directory used as default ServerRoot: `/tmp/mpm-lab-<binary>-<uid>`
/// (created when missing). Mode 0700, except for root: there the children and mod_cgid's
/// daemon run as `User` and must still reach the cgid socket in it, so it gets 0711 (search
/// only, as Debian's `/var/run/apache2` lets `www-data` through).
pub fn default_runtime_dir(mpm: &MpmIdent) -> std::io::Result<PathBuf> {
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    let uid = nix::unistd::getuid();
    let dir = std::env::temp_dir().join(format!("mpm-lab-{}-{}", mpm.binary, uid));
    let mode = if uid.is_root() { 0o711 } else { 0o700 };
    match std::fs::DirBuilder::new().mode(mode).create(&dir) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(e),
    }
    if uid.is_root() {
        // a directory left by an older build (0700) would keep the children out
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(mode))?;
    }
    Ok(dir)
}
