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
use super::server::{CustomLog, Section, ServerConfig, server_root_relative};
use super::{ConfigError, MpmIdent};
use crate::log::{COMBINED_FORMAT, COMMON_FORMAT, Level, compile_format};

/// Which kind of section the walker is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scope {
    Server,
    Directory(usize),
    Location(usize),
    /// A section we check but do not apply (regex sections, `<Files>`).
    Ignored,
}

/// The second pass: applies nodes to a [`ServerConfig`].
pub struct Walker<'a> {
    pub(super) mpm: &'a MpmIdent,
    pub cfg: ServerConfig,
    scope: Scope,
    /// The name of the enclosing section as written (`<Directory`), for "not allowed in" errors.
    scope_name: String,
    /// Server-level settings of per-directory directives (`SetHandler` at top level, which
    /// Apache allows), and the sink for sections we check but do not apply.
    server_section: Section,
    ignored_section: Section,
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
            server_section: Section {
                path: "/".into(),
                ..Default::default()
            },
            ignored_section: Section {
                path: String::new(),
                ..Default::default()
            },
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

    pub(super) fn section_mut(&mut self) -> &mut Section {
        match self.scope {
            Scope::Directory(i) => &mut self.cfg.directories[i],
            Scope::Location(i) => &mut self.cfg.locations[i],
            Scope::Server => &mut self.server_section,
            Scope::Ignored => &mut self.ignored_section,
        }
    }

    /// Where a per-directory directive is being applied (`AddHandler`'s scope).
    pub(super) fn handler_scope(&self) -> crate::modules::cgi_script::HandlerScope {
        use crate::modules::cgi_script::HandlerScope;
        match self.scope {
            Scope::Directory(i) => HandlerScope::Directory(self.cfg.directories[i].path.clone()),
            Scope::Location(i) => HandlerScope::Location(self.cfg.locations[i].path.clone()),
            Scope::Server => HandlerScope::Server,
            Scope::Ignored => HandlerScope::Nowhere,
        }
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
        let in_section = self.scope != Scope::Server;
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
        let regex = arg == "~";
        let scope = match def.name {
            "<VirtualHost" => {
                return Err(err(
                    "<VirtualHost> is not supported by mpm-lab: it runs one server; put these directives at the top level"
                        .into(),
                ));
            }
            "<Directory" if !regex => {
                let path = self.root_relative(&arg);
                let mut path = path.display().to_string();
                while path.len() > 1 && path.ends_with('/') {
                    path.pop();
                }
                self.cfg.directories.push(Section {
                    path,
                    ..Default::default()
                });
                Scope::Directory(self.cfg.directories.len() - 1)
            }
            "<Location" if !regex => {
                self.cfg.locations.push(Section {
                    path: arg,
                    ..Default::default()
                });
                Scope::Location(self.cfg.locations.len() - 1)
            }
            _ => {
                self.cfg.startup_warnings.push(format!(
                    "mpm-lab: {}> at {}:{} is checked but not applied (regex and file sections are not implemented)",
                    def.name, node.file, node.line
                ));
                Scope::Ignored
            }
        };
        let saved = (
            self.scope,
            std::mem::replace(&mut self.scope_name, def.name.to_string()),
        );
        self.scope = scope;
        let result = self.walk(children);
        self.scope = saved.0;
        self.scope_name = saved.1;
        result
    }

    /// After the walk: resolve nicknames and paths that depend on the whole file.
    pub fn finish(mut self) -> Result<ServerConfig, ConfigError> {
        // Server-level SetHandler: a <Location /> before every real section, so sections win.
        // Server-level Options: a <Directory /> before every other, so every section merges
        // over it (Apache's per-server default dir config).
        if let Some(options) = self.server_section.options.take() {
            self.cfg.directories.insert(
                0,
                Section {
                    path: "/".into(),
                    options: Some(options),
                    ..Default::default()
                },
            );
        }
        if self.server_section.handler.is_some() {
            self.cfg.locations.insert(0, self.server_section.clone());
        }
        for (path, fmt) in std::mem::take(&mut self.pending_logs) {
            let format = if fmt.is_empty() {
                self.default_format.clone()
            } else {
                self.format_or_nickname(&fmt)
            };
            compile_format(&format).map_err(|e| ConfigError::general(e.to_string()))?;
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
            self.cfg.request_read_timeout = self.cfg.request_read_timeout_setting.effective();
        }
        Ok(self.cfg)
    }
}
