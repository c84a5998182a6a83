//! The first pass: httpd.conf text → a tree of [`Node`]s (Apache `server/config.c: ap_build_config`,
//! `server/util.c: ap_cfg_getline`, `ap_getword_conf`, `core.c: ap_resolve_env`).
//!
//! Steps for every file, in this order (each is a function below):
//!
//! 1. [`logical_lines`] ([`super::tokenize`]): `\` continuations joined, comments and blank
//!    lines dropped, each line numbered by its last physical line.
//! 2. [`Reader::expand`]: `${NAME}` is replaced by a `Define`d value or an environment variable;
//!    an unknown name stays as written and gives warning AH00111.
//! 3. [`getword_conf`]: the first word is the directive's name, the rest its arguments.
//! 4. The first word names the directive (case-insensitive). `EXEC_ON_READ` directives run now
//!    (`Include`, `Define`, `ServerRoot`, `LoadModule`, `<IfModule>` …); all others become nodes,
//!    `<Section …>` nodes holding their children, for the second pass ([`super::walk`]).
//! 5. Section nesting is checked here, with Apache's texts: `<Directory> was not closed.`,
//!    `Expected </Directory> but saw </Location>`, `</Directory> without matching <Directory>
//!    section`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::directives;
use super::include::expand_include;
use super::modules;
pub use super::tokenize::{LogicalLine, getword_conf, logical_lines, words};
use super::walk::Walker;
use super::{ConfigError, ConfigOptions, MpmIdent, ServerConfig};

/// Apache's `AP_MAX_INCLUDE_DEPTH`.
const MAX_INCLUDE_DEPTH: u32 = 128;

/// The pseudo file name of `-C`/`-c` directives (`config.c: process_command_config`).
pub const COMMAND_LINE_SOURCE: &str = "-c/-C directives";

/// One directive (or section) left for the second pass.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    /// As written: `Listen`, or `<Directory` for a section.
    pub name: String,
    /// The rest of the line after `${VAR}` expansion, still quoted (for [`getword_conf`]).
    /// For a section: the text after the name, closing `>` included (checked in the second pass).
    pub args: String,
    /// File the directive came from (for error messages).
    pub file: Arc<str>,
    /// Line number in `file`.
    pub line: u32,
    /// `Some` for a `<Section>`: its body.
    pub children: Option<Vec<Node>>,
}

/// State of the first pass.
pub struct Reader<'a> {
    pub mpm: &'a MpmIdent,
    /// `-D` names and `Define`s (`ap_server_config_defines`).
    pub defines: Vec<String>,
    /// `Define NAME VALUE` values (`server_config_defined_vars`).
    pub vars: HashMap<String, String>,
    /// Current ServerRoot (`ServerRoot` is `EXEC_ON_READ`, so later Includes see it).
    pub server_root: PathBuf,
    /// Warnings to print once at start-up (AH00111, ignored directives).
    pub warnings: Vec<String>,
    /// The modules `LoadModule` named so far, in order: [`modules::LOADABLE_MODULES`] it switched
    /// on, and built-in ones (always on) it named.
    pub loaded: Vec<&'static str>,
    include_depth: u32,
}

/// A section whose closing tag we are looking for.
struct Open<'s> {
    /// `<Directory`, as written.
    name: &'s str,
    file: &'s Arc<str>,
    line: u32,
    /// `<IfModule>` and friends: their end is looked for like Apache's `ap_build_cont_config`.
    conditional: bool,
}

/// The tail of Apache's "was not closed." message for one open section.
fn not_closed(open: &Open<'_>) -> String {
    format!(
        "{}:{}: {}> was not closed.",
        open.file, open.line, open.name
    )
}

impl<'a> Reader<'a> {
    pub fn new(mpm: &'a MpmIdent, server_root: PathBuf, defines: Vec<String>) -> Reader<'a> {
        Reader {
            mpm,
            defines,
            vars: HashMap::new(),
            server_root,
            warnings: Vec::new(),
            loaded: Vec::new(),
            include_depth: 0,
        }
    }

    /// Step 2, `ap_resolve_env`: `${NAME}` from Define, then the environment; else kept + AH00111.
    pub fn expand(&mut self, line: &str) -> String {
        let mut out = String::with_capacity(line.len());
        let mut rest = line;
        while let Some(pos) = rest.find("${") {
            out.push_str(&rest[..pos]);
            let after = &rest[pos + 2..];
            let Some(close) = after.find('}') else {
                out.push_str(&rest[pos..]);
                return out;
            };
            let name = &after[..close];
            if let Some(v) = self
                .vars
                .get(name)
                .cloned()
                .or_else(|| std::env::var(name).ok())
            {
                out.push_str(&v);
            } else {
                if !name.contains(':') {
                    self.warnings.push(format!(
                        "AH00111: Config variable ${{{name}}} is not defined"
                    ));
                }
                out.push_str(&rest[pos..pos + 2 + close + 1]);
            }
            rest = &after[close + 1..];
        }
        out.push_str(rest);
        out
    }

    /// Read one file (or pseudo file) into nodes.
    pub fn read_source(&mut self, file: &str, text: &str) -> Result<Vec<Node>, ConfigError> {
        let lines = logical_lines(text);
        let file: Arc<str> = Arc::from(file);
        let mut pos = 0;
        self.read_block(&lines, &mut pos, &file, None)
    }

    /// Read lines until the end (top level) or until the closing tag of `open`.
    fn read_block(
        &mut self,
        lines: &[LogicalLine],
        pos: &mut usize,
        file: &Arc<str>,
        open: Option<&Open<'_>>,
    ) -> Result<Vec<Node>, ConfigError> {
        let mut nodes = Vec::new();
        while let Some(ll) = lines.get(*pos) {
            *pos += 1;
            let text = self.expand(&ll.text);
            let (name, args) = getword_conf(&text);
            let err = |msg: String| ConfigError::read(file, ll.line, msg);

            if let Some(close) = name.strip_prefix("</") {
                let Some(open) = open else {
                    let bare = close.trim_end_matches('>');
                    return Err(err(format!("</{bare}> without matching <{bare}> section")));
                };
                let Some(close) = close.strip_suffix('>') else {
                    return Err(err(format!("{name}> directive missing closing '>'")));
                };
                if !close.eq_ignore_ascii_case(&open.name[1..]) {
                    return Err(err(format!(
                        "Expected </{}> but saw </{close}>",
                        &open.name[1..]
                    )));
                }
                return Ok(nodes);
            }

            if let Some(section) = name.strip_prefix('<') {
                // `<Directory>` with the '>' glued to the name, or `<Directory /x>`.
                let (section, args) = match section.strip_suffix('>') {
                    Some(s) if args.is_empty() => (s.to_string(), ">".to_string()),
                    Some(s) => (s.to_string(), args.to_string()),
                    None => (section.to_string(), args.to_string()),
                };
                let cmd = format!("<{section}");
                if let Some(result) = self.conditional(&section, &args).map_err(err)? {
                    let this = Open {
                        name: &cmd,
                        file,
                        line: ll.line,
                        conditional: true,
                    };
                    if result {
                        nodes.extend(self.read_block(lines, pos, file, Some(&this))?);
                    } else {
                        soak(lines, pos, &this)?;
                    }
                    continue;
                }
                // Other sections check their `>` and argument in the second pass, as Apache's
                // `dirsection`/`urlsection` do; here we only collect the body.
                let this = Open {
                    name: &cmd,
                    file,
                    line: ll.line,
                    conditional: false,
                };
                let children = match self.read_block(lines, pos, file, Some(&this)) {
                    Ok(c) => c,
                    // End of file inside nested sections: Apache lists every open one, innermost
                    // first, and reports the line of the outermost.
                    Err(mut e)
                        if *pos >= lines.len() && e.message.ends_with(" was not closed.") =>
                    {
                        if let Some(open) = open.filter(|o| !o.conditional) {
                            e.message = format!("{}\n{}", e.message, not_closed(open));
                            e.line = open.line;
                            e.file = open.file.to_string();
                        }
                        return Err(e);
                    }
                    Err(e) => return Err(e),
                };
                nodes.push(Node {
                    name: cmd.clone(),
                    args,
                    file: file.clone(),
                    line: ll.line,
                    children: Some(children),
                });
                continue;
            }

            if let Some(included) = self.exec_on_read(&name, args, file, ll.line)? {
                nodes.extend(included);
                continue;
            }
            nodes.push(Node {
                name,
                args: args.to_string(),
                file: file.clone(),
                line: ll.line,
                children: None,
            });
        }
        match open {
            None => Ok(nodes),
            // A true <IfModule> at end of file: Apache silently ends it (ap_build_cont_config);
            // we report it like a false one, which Apache does report.
            Some(open) if open.conditional => Err(ConfigError::read(
                open.file,
                open.line,
                format!(
                    "Expected </{}> before end of configuration",
                    &open.name[1..]
                ),
            )),
            // Apache: "FILE:LINE: <Directory> was not closed." reported at the opening line.
            Some(open) => Err(ConfigError::read(open.file, open.line, not_closed(open))),
        }
    }

    /// `<IfModule>`, `<IfDefine>`, `<IfFile>`, `<IfDirective>`: `Some(test result)`, `None` for
    /// other sections. `!` negates (`core.c: start_cond_section`).
    fn conditional(&self, section: &str, args: &str) -> Result<Option<bool>, String> {
        let kind = section.to_ascii_lowercase();
        if !matches!(
            kind.as_str(),
            "ifmodule" | "ifdefine" | "iffile" | "ifdirective" | "ifversion"
        ) {
            return Ok(None);
        }
        let Some(end) = args.rfind('>') else {
            return Err(format!("<{section}> directive missing closing '>'"));
        };
        let inner = args[..end].trim();
        if kind == "ifversion" {
            return super::ifversion::evaluate(inner).map(Some);
        }
        let (not, arg) = match inner.strip_prefix('!') {
            Some(rest) => (true, rest),
            None => (false, inner),
        };
        let (arg, _) = getword_conf(arg);
        if arg.is_empty() {
            return Err(format!(
                "<{section}> directive requires additional arguments"
            ));
        }
        let result = match kind.as_str() {
            "ifmodule" => modules::module_is_loaded(self.mpm, &arg, &self.loaded),
            "ifdefine" => self.defines.contains(&arg),
            "iffile" => super::server::server_root_relative(&self.server_root, &arg).exists(),
            _ => directives::lookup(&arg).is_some(),
        };
        Ok(Some(result != not))
    }

    /// Run an `EXEC_ON_READ` directive. `Ok(Some(nodes))` = handled (nodes of an Include, or none),
    /// `Ok(None)` = not one of them.
    fn exec_on_read(
        &mut self,
        name: &str,
        args: &str,
        file: &Arc<str>,
        line: u32,
    ) -> Result<Option<Vec<Node>>, ConfigError> {
        let Some(def) = directives::lookup(name).filter(|d| d.exec_on_read) else {
            return Ok(None);
        };
        let err = |msg: String| ConfigError::read(file, line, msg);
        let argv = directives::check_args(def, args).map_err(err)?;
        match def.name {
            "Include" | "IncludeOptional" => {
                match self.include(&argv[0], def.name == "IncludeOptional") {
                    Ok(nodes) => Ok(Some(nodes)),
                    Err(IncludeError::Here(msg)) => Err(err(msg)),
                    // A first-pass error inside the included file is nested in the Include line's
                    // error, as Apache prints it: "Syntax error on line 1 of httpd.conf: Syntax
                    // error on line 3 of mods-enabled/x.load: Cannot load …".
                    Err(IncludeError::Inside(e)) => Err(err(format!(
                        "Syntax error on line {} of {}: {}",
                        e.line, e.file, e.message
                    ))),
                }
            }
            "Define" => {
                let name = &argv[0];
                if name.contains(':') {
                    return Err(err("Variable name must not contain ':'".into()));
                }
                if !self.defines.contains(name) {
                    self.defines.push(name.clone());
                }
                if let Some(v) = argv.get(1) {
                    self.vars.insert(name.clone(), v.clone());
                }
                Ok(Some(Vec::new()))
            }
            "UnDefine" => {
                let name = &argv[0];
                if name.contains(':') {
                    return Err(err("Variable name must not contain ':'".into()));
                }
                self.defines.retain(|d| d != name);
                self.vars.remove(name);
                Ok(Some(Vec::new()))
            }
            "ServerRoot" => {
                let p = Path::new(&argv[0]);
                let abs = if p.is_absolute() {
                    p.to_path_buf()
                } else {
                    std::env::current_dir()
                        .map(|c| c.join(p))
                        .unwrap_or_else(|_| p.to_path_buf())
                };
                if !abs.is_dir() {
                    return Err(err("ServerRoot must be a valid directory".into()));
                }
                self.server_root = abs;
                Ok(Some(Vec::new()))
            }
            "LoadModule" => {
                let on = modules::load_module(self.mpm, &argv[0], &argv[1]).map_err(err)?;
                // A built-in module named by LoadModule is recorded too, in load order: `-M`
                // shows it `(shared)`, as Apache shows the `.so` it loaded.
                let on = on.or_else(|| modules::module_short_name(self.mpm, &argv[0], &[]));
                if let Some(short) = on.filter(|s| !self.loaded.contains(s)) {
                    self.loaded.push(short);
                }
                Ok(Some(Vec::new()))
            }
            _ => Ok(None),
        }
    }

    /// `Include` / `IncludeOptional` (`core.c: include_config`, `config.c: ap_process_fnmatch_configs`):
    /// relative to ServerRoot; a directory includes every file in it (sorted); `*` and `?` in the
    /// last component match files (sorted, dot files skipped).
    fn include(&mut self, pattern: &str, optional: bool) -> Result<Vec<Node>, IncludeError> {
        self.include_depth += 1;
        if self.include_depth > MAX_INCLUDE_DEPTH {
            self.include_depth = 0;
            return Err(IncludeError::Here(format!(
                "Exceeded maximum include depth of {MAX_INCLUDE_DEPTH}, There appears to be a recursion."
            )));
        }
        let path = super::server::server_root_relative(&self.server_root, pattern);
        let files = expand_include(&path, optional).map_err(IncludeError::Here)?;
        let mut nodes = Vec::new();
        for f in files {
            let shown = f.display().to_string();
            let text = std::fs::read_to_string(&f).map_err(|e| {
                IncludeError::Here(format!(
                    "Could not open configuration file {shown}: {}",
                    io_text(&e)
                ))
            })?;
            nodes.extend(
                self.read_source(&shown, &text)
                    .map_err(IncludeError::Inside)?,
            );
        }
        self.include_depth -= 1;
        Ok(nodes)
    }
}

/// Why an `Include` failed.
enum IncludeError {
    /// At the `Include` line itself (no such file, no wildcard match, recursion).
    Here(String),
    /// Inside the included file: that file's error, unchanged.
    Inside(ConfigError),
}

/// Skip a false conditional section up to its closing tag, honouring nesting
/// (`config.c: ap_soak_end_container`).
fn soak(lines: &[LogicalLine], pos: &mut usize, open: &Open<'_>) -> Result<(), ConfigError> {
    while let Some(ll) = lines.get(*pos) {
        *pos += 1;
        let (name, args) = getword_conf(&ll.text);
        if let Some(close) = name.strip_prefix("</") {
            let close = close.strip_suffix('>').unwrap_or(close);
            if !close.eq_ignore_ascii_case(&open.name[1..]) {
                return Err(ConfigError::read(
                    open.file,
                    ll.line,
                    format!("Expected </{}> but saw </{close}>", &open.name[1..]),
                ));
            }
            return Ok(());
        }
        if let Some(inner) = name.strip_prefix('<') {
            let inner = if args.is_empty() {
                inner.trim_end_matches('>')
            } else {
                inner
            };
            let nested = format!("<{inner}");
            soak(
                lines,
                pos,
                &Open {
                    name: &nested,
                    file: open.file,
                    line: ll.line,
                    conditional: true,
                },
            )?;
        }
    }
    Err(ConfigError::read(
        open.file,
        open.line,
        format!(
            "Expected </{}> before end of configuration",
            &open.name[1..]
        ),
    ))
}

/// `strerror`-like text for an io error without Rust's " (os error 2)" suffix.
pub(crate) fn io_text(e: &std::io::Error) -> String {
    match e.raw_os_error() {
        Some(code) => nix::errno::Errno::from_raw(code).desc().to_string(),
        None => e.to_string(),
    }
}

/// Where the main configuration text comes from.
pub(crate) enum MainSource<'t> {
    /// `-f FILE` (or the embedded default when `opts.file` is `None`).
    Options,
    /// Text with a file name for messages (unit tests, the simulator).
    Text { name: &'t str, text: &'t str },
}

/// The whole load: defaults, `-C`, the file, `-c`, then the second pass.
pub(crate) fn load(opts: &ConfigOptions, mpm: &MpmIdent) -> Result<ServerConfig, ConfigError> {
    load_from(opts, mpm, MainSource::Options)
}

pub(crate) fn load_from(
    opts: &ConfigOptions,
    mpm: &MpmIdent,
    main: MainSource<'_>,
) -> Result<ServerConfig, ConfigError> {
    let runtime = super::default_runtime_dir(mpm)
        .map_err(|e| ConfigError::general(format!("cannot create the runtime directory: {e}")))?;
    let initial_root = match &opts.server_root {
        Some(d) => absolute(d),
        None => runtime.clone(),
    };
    let mut reader = Reader::new(mpm, initial_root, opts.defines.clone());
    // The embedded config's variables; a user file may use them too.
    reader
        .vars
        .insert("MPM_LAB_RUNTIME".into(), runtime.display().to_string());
    reader
        .vars
        .insert("MPM_LAB_DEMO".into(), super::DEMO_DIR.into());
    reader.vars.insert("MPM_LAB_MPM".into(), mpm.module.into());

    let mut nodes = reader.read_source(COMMAND_LINE_SOURCE, &opts.pre_directives.join("\n"))?;
    // Without -f: SERVER_CONFIG_FILE under -d (Apache's `confname` default), else the
    // embedded demo configuration.
    let file = opts.file.clone().or_else(|| {
        opts.server_root
            .as_ref()
            .map(|_| PathBuf::from(super::SERVER_CONFIG_FILE))
    });
    let config_file = match (main, &file) {
        (MainSource::Text { name, text }, _) => {
            nodes.extend(reader.read_source(name, text)?);
            Some(PathBuf::from(name))
        }
        (MainSource::Options, Some(f)) => {
            // -f is relative to -d when given, else to the current directory (Apache: ServerRoot).
            let path = match &opts.server_root {
                Some(root) if f.is_relative() => absolute(root).join(f),
                _ => absolute(f),
            };
            let text = std::fs::read_to_string(&path).map_err(|e| {
                ConfigError::general(format!(
                    "Could not open configuration file {}: {}",
                    path.display(),
                    io_text(&e)
                ))
            })?;
            nodes.extend(reader.read_source(&path.display().to_string(), &text)?);
            Some(path)
        }
        (MainSource::Options, None) => {
            nodes.extend(reader.read_source(DEFAULT_CONF_NAME, super::DEFAULT_CONF)?);
            None
        }
    };
    // -c lines are a second pseudo file of the same name: numbering starts at 1 again.
    nodes.extend(reader.read_source(COMMAND_LINE_SOURCE, &opts.post_directives.join("\n"))?);

    let mut walker = Walker::new(mpm, &reader.server_root);
    walker.skip_document_root_check = opts.skip_document_root_check;
    walker.cfg.config_file = config_file;
    walker.cfg.defines = reader.defines.clone();
    walker.cfg.startup_warnings.append(&mut reader.warnings);
    walker.cfg.loaded_modules = reader.loaded.clone();
    walker.walk(&nodes)?;
    walker.finish()
}

/// The name errors in the embedded configuration show.
pub const DEFAULT_CONF_NAME: &str = "(built-in default configuration)";

fn absolute(p: &Path) -> PathBuf {
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        std::env::current_dir()
            .map(|c| c.join(p))
            .unwrap_or_else(|_| p.to_path_buf())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_expand_define_env_and_undefined() {
        let mpm = MpmIdent::PREFORK;
        let mut r = Reader::new(&mpm, PathBuf::from("/"), vec![]);
        r.vars.insert("PORT".into(), "8081".into());
        assert_eq!(r.expand("Listen ${PORT}"), "Listen 8081");
        assert_eq!(
            r.expand("x ${MPM_LAB_SURELY_UNSET_1} y"),
            "x ${MPM_LAB_SURELY_UNSET_1} y"
        );
        assert_eq!(
            r.warnings,
            vec!["AH00111: Config variable ${MPM_LAB_SURELY_UNSET_1} is not defined"]
        );
        assert_eq!(r.expand("${a:b} $x ${"), "${a:b} $x ${");
        assert_eq!(r.warnings.len(), 1, "names with ':' are not warned about");
    }
}
