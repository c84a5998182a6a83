//! The second pass (Apache `config.c: ap_walk_config`, `invoke_cmd`): every [`Node`] left by the
//! first pass is looked up in [`DIRECTIVES`](super::directives::DIRECTIVES), its context and argument count are checked, and its
//! parser ([`super::cmds`]) fills the [`ServerConfig`].
//!
//! Steps for one node:
//!
//! 1. Look the name up (case-insensitive) among the directives *this MPM* knows; otherwise
//!    "Invalid command 'X', perhaps misspelled or defined by a module not included in the server
//!    configuration".
//! 2. Check the context: a server-only directive inside a section gives `X not allowed in
//!    <Directory> context`, a directory-only one at top level `X not allowed here`.
//! 3. A section (`<Directory>`, `<Location>`, …) walks its children in its own scope.
//! 4. Otherwise split the arguments ([`check_args`]) and call the parser.
//!
//! [`Walker::finish`] then resolves what depends on the whole file (LogFormat nicknames used
//! before their definition, PidFile under DefaultRuntimeDir).

use std::path::{Path, PathBuf};

use super::directives::{Context, Directive, check_args, lookup};
use super::parse::{Node, getword_conf};
use super::sections::{AllowOverride, SectionRegex};
use super::server::{CustomLog, ErrorLogTarget, Section, ServerConfig, server_root_relative};
use super::vhost::{VhostAddr, VirtualHost};
use super::{ConfigError, MpmIdent};
use crate::log::{COMBINED_FORMAT, COMMON_FORMAT, Level, compile_format};

/// Which kind of section the walker is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scope {
    Server,
    /// Inside `<VirtualHost>` (server context, restricted to [`VHOST_DIRECTIVES`]).
    Vhost,
    Directory,
    Location,
    Files,
}

/// Server-context directives Apache allows in `<VirtualHost>` that mpm-lab does not yet apply
/// per vhost: refused with a clear message (all others get Apache's `GLOBAL_ONLY` wording).
const APACHE_VHOST_DIRECTIVES: &[&str] = &[
    "LogFormat",
    "Timeout",
    "KeepAlive",
    "KeepAliveTimeout",
    "MaxKeepAliveRequests",
    "LimitRequestLine",
    "LimitRequestFieldSize",
    "LimitRequestFields",
    "LimitRequestBody",
    "TraceEnable",
    "HostnameLookups",
    "HttpProtocolOptions",
];

/// Server-context directives mpm-lab applies per virtual host; any other one inside
/// `<VirtualHost>` is refused (Apache would apply it to that vhost only).
const VHOST_DIRECTIVES: &[&str] = &[
    "ServerName",
    "ServerAlias",
    "ServerAdmin",
    "DocumentRoot",
    "ErrorLog",
    "CustomLog",
    "TransferLog",
    "LogLevel",
    "RequestReadTimeout",
    "ErrorLogFormat",
];

/// The second pass: applies nodes to a [`ServerConfig`].
pub struct Walker<'a> {
    pub(super) mpm: &'a MpmIdent,
    pub cfg: ServerConfig,
    scope: Scope,
    /// The name of the enclosing section as written (`<Directory`), for "not allowed in" errors.
    scope_name: String,
    /// The sections being read, innermost last (`<Files>` may sit in a `<Directory>`).
    stack: Vec<Section>,
    /// The `<VirtualHost>` being read.
    pub(super) vhost: Option<VirtualHost>,
    /// File and line of the directive being applied (for warnings that name them).
    pub(super) at: (String, u32),
    /// Reading a `.htaccess` file with these overrides allowed ([`super::htaccess`]).
    pub(super) htaccess: Option<AllowOverride>,
    /// The directory of that `.htaccess` file, with its trailing slash (its `cmd->path`).
    pub(super) htaccess_dir: Option<String>,
    pub(super) log_formats: Vec<(String, String)>,
    pub(super) default_format: String,
    /// `(path, format-or-nickname)`; an empty format means TransferLog's default format.
    pub(super) pending_logs: Vec<(PathBuf, String)>,
    pub(super) pid_file: Option<String>,
    pub(super) directory_index_set: bool,
    pub(super) runtime_dir_set: bool,
    /// `-T`: DocumentRoot is not checked.
    pub(super) skip_document_root_check: bool,
}

impl<'a> Walker<'a> {
    pub fn new(mpm: &'a MpmIdent, server_root: &Path) -> Walker<'a> {
        Walker {
            mpm,
            cfg: ServerConfig::with_defaults(server_root),
            scope: Scope::Server,
            scope_name: String::new(),
            stack: Vec::new(),
            vhost: None,
            htaccess: None,
            htaccess_dir: None,
            at: (String::new(), 0),
            // `common` and `combined` are predefined (Apache's stock httpd.conf defines them).
            log_formats: vec![
                ("common".into(), COMMON_FORMAT.into()),
                ("combined".into(), COMBINED_FORMAT.into()),
            ],
            default_format: COMMON_FORMAT.into(),
            pending_logs: Vec::new(),
            pid_file: None,
            directory_index_set: false,
            runtime_dir_set: false,
            skip_document_root_check: false,
        }
    }

    pub(super) fn root_relative(&self, p: &str) -> PathBuf {
        server_root_relative(&self.cfg.server_root, p)
    }

    pub(crate) fn section_mut(&mut self) -> &mut Section {
        match (self.stack.last_mut(), self.vhost.as_mut()) {
            (Some(s), _) => s,
            (None, Some(v)) => &mut v.base_section,
            (None, None) => &mut self.cfg.base_section,
        }
    }

    /// Apache's `cmd->path` (mod_autoindex scopes its patterns with it): the enclosing
    /// section's path, a `<Directory>` one ending in `/`, the `.htaccess` file's directory,
    /// or `None` at server level.
    pub(crate) fn cmd_path(&self) -> Option<String> {
        if let Some(d) = &self.htaccess_dir {
            return Some(d.clone());
        }
        let s = self.stack.last()?;
        if self.scope == Scope::Directory && s.regex.is_none() && !s.path.ends_with('/') {
            return Some(format!("{}/", s.path));
        }
        Some(s.path.clone())
    }

    /// Whether the walker is directly inside a `<Directory>`/`<DirectoryMatch>` (for
    /// `AllowOverride`, which Apache allows nowhere else).
    pub(super) fn in_directory(&self) -> bool {
        self.scope == Scope::Directory
    }

    /// Whether the walker is directly inside a `<Location>`/`<Files>` section.
    pub(super) fn in_location(&self) -> bool {
        matches!(self.scope, Scope::Location)
    }

    pub(super) fn in_url_or_files(&self) -> bool {
        matches!(self.scope, Scope::Location | Scope::Files)
    }

    pub(super) fn format_or_nickname(&self, s: &str) -> String {
        self.log_formats
            .iter()
            .rev()
            .find(|(n, _)| n == s)
            .map_or_else(|| s.to_string(), |(_, f)| f.clone())
    }

    pub(super) fn log_level(&mut self, arg: &str) -> Result<(), String> {
        let Some((module, level)) = arg.rsplit_once(':') else {
            self.cfg.log_level.default = Level::parse(arg)?;
            // ap_reset_module_loglevels: a bare level resets every per-module level.
            self.cfg.log_level.modules.clear();
            return Ok(());
        };
        if level.is_empty() {
            return Err(format!(
                "Module specifier '{module}' must be followed by a log level keyword"
            ));
        }
        let level = Level::parse(level).map_err(|e| format!("{module}:{level}: {e}"))?;
        let short = super::modules::module_short_name(self.mpm, module, &self.cfg.loaded_modules)
            .ok_or_else(|| format!("Cannot find module {module}"))?;
        self.cfg.log_level.modules.push((short.to_string(), level));
        Ok(())
    }

    /// Walk `nodes` in the current scope.
    pub fn walk(&mut self, nodes: &[Node]) -> Result<(), ConfigError> {
        for node in nodes {
            self.walk_one(node)?;
        }
        Ok(())
    }

    fn walk_one(&mut self, node: &Node) -> Result<(), ConfigError> {
        let err = |msg: String| ConfigError::walk(&node.file, node.line, msg);
        let loaded = &self.cfg.loaded_modules;
        let def = lookup(&node.name)
            .filter(|d| d.available_in(self.mpm) && !d.exec_on_read)
            .filter(|d| super::modules::directives_available(d.module, loaded))
            .ok_or_else(|| {
            err(format!(
                "Invalid command '{}', perhaps misspelled or defined by a module not included in the server configuration",
                node.name
            ))
        })?;
        if let Some(allowed) = &self.htaccess {
            super::htaccess::check(def.name, allowed).map_err(err)?;
        }
        let in_section =
            !matches!(self.scope, Scope::Server | Scope::Vhost) || self.htaccess.is_some();
        if self.scope == Scope::Vhost
            && def.context == Context::Server
            && def.args != super::directives::Args::Section
            && !VHOST_DIRECTIVES.contains(&def.name)
        {
            return Err(err(if APACHE_VHOST_DIRECTIVES.contains(&def.name) {
                format!(
                    "mpm-lab: {} inside <VirtualHost> is not supported yet (it would apply to the main server); set it at the top level",
                    def.name
                )
            } else {
                // ap_check_cmd_context(cmd, GLOBAL_ONLY)
                format!("{} cannot occur within <VirtualHost> section", def.name)
            }));
        }
        let allowed = match def.context {
            Context::Server => !in_section,
            Context::Directory => in_section,
            Context::Any => true,
        };
        if !allowed {
            return Err(err(if in_section {
                format!("{} not allowed in {}> context", def.name, self.scope_name)
            } else {
                format!("{} not allowed here", def.name)
            }));
        }
        if let Some(children) = &node.children {
            return self.section(def, node, children);
        }
        let args = check_args(def, &node.args).map_err(err)?;
        self.at = (node.file.to_string(), node.line);
        (def.apply)(self, &args).map_err(err)?;
        Ok(())
    }

    fn section(
        &mut self,
        def: &Directive,
        node: &Node,
        children: &[Node],
    ) -> Result<(), ConfigError> {
        let err = |msg: String| ConfigError::walk(&node.file, node.line, msg);
        // core.c: dirsection/urlsection: the '>' and an argument are checked when the section runs.
        let Some(end) = node.args.rfind('>') else {
            return Err(err(format!("{}> directive missing closing '>'", def.name)));
        };
        let (arg, _) = getword_conf(&node.args[..end]);
        if arg.is_empty() {
            return Err(err(format!(
                "{}> directive requires additional arguments",
                def.name
            )));
        }
        let name = def.name.to_ascii_lowercase();
        if name == "<virtualhost" {
            return self.virtual_host(node, &node.args[..end], children);
        }
        let regex = name.ends_with("match") || arg == "~";
        let pattern = if arg == "~" {
            getword_conf(getword_conf(&node.args[..end]).1).0
        } else {
            arg
        };
        let (scope, path) = if name.starts_with("<directory") {
            (Scope::Directory, pattern)
        } else if name.starts_with("<location") {
            (Scope::Location, pattern)
        } else {
            (Scope::Files, pattern)
        };
        // core.c: filesection is allowed in <Directory> and at top level, not in <Location>
        // or another <Files>.
        if scope == Scope::Files && matches!(self.scope, Scope::Location | Scope::Files) {
            return Err(err(format!(
                "{}> cannot occur within {}> section",
                def.name, self.scope_name
            )));
        }
        let mut section = Section::default();
        if regex {
            section.regex = Some(SectionRegex::compile(&path, false).map_err(err)?);
            section.path = path;
        } else if scope == Scope::Directory {
            let mut p = self.root_relative(&path).display().to_string();
            while p.len() > 1 && p.ends_with('/') {
                p.pop();
            }
            section.path = p;
        } else {
            section.path = path;
        }
        self.stack.push(section);
        let result = self.walk_in(scope, def.name, children);
        // The push above is popped here whatever the result.
        let Some(done) = self.stack.pop() else {
            return result;
        };
        result?;
        match (scope, self.stack.last_mut(), self.vhost.as_mut()) {
            (Scope::Files, Some(parent), _) => parent.files.push(done),
            (Scope::Files, None, Some(v)) => v.base_section.files.push(done),
            (Scope::Files, None, None) => self.cfg.base_section.files.push(done),
            (Scope::Directory, _, Some(v)) => v.directories.push(done),
            (Scope::Directory, _, None) => self.cfg.directories.push(done),
            (_, _, Some(v)) => v.locations.push(done),
            (_, _, None) => self.cfg.locations.push(done),
        }
        Ok(())
    }

    /// Walk a section's children in its scope, then restore the enclosing one.
    fn walk_in(&mut self, scope: Scope, name: &str, children: &[Node]) -> Result<(), ConfigError> {
        let saved = (
            std::mem::replace(&mut self.scope, scope),
            std::mem::replace(&mut self.scope_name, name.to_string()),
        );
        let result = self.walk(children);
        (self.scope, self.scope_name) = saved;
        result
    }

    /// `core.c: virtualhost_section`: read the body into a [`VirtualHost`]; the main server's
    /// values the vhost leaves unset are filled in by [`Walker::finish`].
    fn virtual_host(
        &mut self,
        node: &Node,
        args: &str,
        children: &[Node],
    ) -> Result<(), ConfigError> {
        let err = |msg: String| ConfigError::walk(&node.file, node.line, msg);
        if self.scope != Scope::Server {
            return Err(err(
                "<VirtualHost> cannot occur within <VirtualHost> section".into(),
            ));
        }
        let mut addrs = Vec::new();
        let mut rest = args;
        loop {
            let (w, r) = getword_conf(rest);
            if w.is_empty() {
                break;
            }
            addrs.push(VhostAddr::parse(&w).map_err(err)?);
            rest = r;
        }
        // The vhost's own values start unset; the main server's are put back afterwards.
        let main_name = self.cfg.server_name.take();
        let main_admin = self.cfg.server_admin.take();
        let main_root = std::mem::take(&mut self.cfg.document_root);
        // Logs: an empty path marks "ErrorLog not set here"; LogLevel starts from the main
        // server's (Apache merges the vhost's module levels over it); CustomLogs are collected
        // apart.
        let main_error_log = std::mem::replace(
            &mut self.cfg.error_log,
            ErrorLogTarget::File(PathBuf::new()),
        );
        let main_level = self.cfg.log_level.clone();
        let main_pending = std::mem::take(&mut self.pending_logs);
        let main_reqtimeout = std::mem::take(&mut self.cfg.request_read_timeout_setting);
        // ErrorLogFormat: the vhost starts with nothing set; what it sets is merged over the
        // main server's at the end of the configuration (Apache merges at the end too).
        let main_elf = std::mem::take(&mut self.cfg.error_log_format);
        self.cfg.error_log_format.threaded = main_elf.threaded;
        self.vhost = Some(VirtualHost {
            addrs,
            file: node.file.to_string(),
            line: node.line,
            ..VirtualHost::default()
        });
        let result = self.walk_in(Scope::Vhost, "<VirtualHost", children);
        let mut v = self.vhost.take().unwrap_or_default();
        v.server_name = std::mem::replace(&mut self.cfg.server_name, main_name);
        v.server_admin = std::mem::replace(&mut self.cfg.server_admin, main_admin);
        v.document_root = std::mem::replace(&mut self.cfg.document_root, main_root);
        let error_log = std::mem::replace(&mut self.cfg.error_log, main_error_log);
        v.error_log = Some(error_log).filter(|e| *e != ErrorLogTarget::File(PathBuf::new()));
        let level = std::mem::replace(&mut self.cfg.log_level, main_level);
        v.log_level = Some(level).filter(|l| *l != self.cfg.log_level);
        v.pending_logs = std::mem::replace(&mut self.pending_logs, main_pending);
        v.request_read_timeout_setting =
            std::mem::replace(&mut self.cfg.request_read_timeout_setting, main_reqtimeout);
        let elf = std::mem::replace(&mut self.cfg.error_log_format, main_elf);
        v.error_log_format = elf.is_set().then_some(elf);
        result?;
        self.cfg.vhosts.push(v);
        Ok(())
    }

    /// A CustomLog's format: TransferLog's default, a nickname, or the format itself, checked.
    fn resolve_log_format(&self, fmt: &str) -> Result<String, ConfigError> {
        let format = if fmt.is_empty() {
            self.default_format.clone()
        } else {
            self.format_or_nickname(fmt)
        };
        compile_format(&format).map_err(|e| ConfigError::general(e.to_string()))?;
        Ok(format)
    }

    /// After the walk: resolve nicknames and paths that depend on the whole file.
    pub fn finish(mut self) -> Result<ServerConfig, ConfigError> {
        // Server-level mod_setenvif/mod_env/mod_headers lines run before every section's (not
        // as a section of the walk).
        self.cfg.server_setenvif = std::mem::take(&mut self.cfg.base_section.setenvif);
        self.cfg.server_env_cmds = std::mem::take(&mut self.cfg.base_section.env_cmds);
        self.cfg.server_headers = std::mem::take(&mut self.cfg.base_section.headers);
        self.cfg.server_request_headers =
            std::mem::take(&mut self.cfg.base_section.request_headers);
        // ap_fixup_virtual_hosts: what a vhost leaves unset is the main server's.
        let mut vhosts = std::mem::take(&mut self.cfg.vhosts);
        for v in &mut vhosts {
            for (path, fmt) in std::mem::take(&mut v.pending_logs) {
                let format = self.resolve_log_format(&fmt)?;
                v.custom_logs.push(CustomLog { path, format });
            }
        }
        self.cfg.vhosts = vhosts;
        for v in &mut self.cfg.vhosts {
            if v.document_root.as_os_str().is_empty() {
                v.document_root.clone_from(&self.cfg.document_root);
            }
            if v.server_admin.is_none() {
                v.server_admin.clone_from(&self.cfg.server_admin);
            }
            if let Some(f) = &mut v.error_log_format {
                *f = f.merged_over(&self.cfg.error_log_format);
            }
        }
        for (path, fmt) in std::mem::take(&mut self.pending_logs) {
            let format = self.resolve_log_format(&fmt)?;
            self.cfg.custom_logs.push(CustomLog { path, format });
        }
        let pid = self
            .pid_file
            .take()
            .unwrap_or_else(|| "logs/httpd.pid".into());
        // ap_runtime_dir_relative: relative PidFile goes under DefaultRuntimeDir when one is set.
        self.cfg.pid_file = if self.runtime_dir_set {
            server_root_relative(&self.cfg.runtime_dir, &pid)
        } else {
            self.root_relative(&pid)
        };
        if self.cfg.loaded_modules.contains(&"reqtimeout") {
            let main = self.cfg.request_read_timeout_setting;
            self.cfg.request_read_timeout = main.effective();
            // reqtimeout_merge_srv_config: a stage the vhost leaves unset is the main server's.
            for v in &mut self.cfg.vhosts {
                v.request_read_timeout = v
                    .request_read_timeout_setting
                    .merged_over(&main)
                    .effective();
            }
        }
        Ok(self.cfg)
    }
}
