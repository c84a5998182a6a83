//! The first pass: httpd.conf text → a tree of [`Node`]s (Apache `server/config.c: ap_build_config`,
//! `server/util.c: ap_cfg_getline`, `ap_getword_conf`, `core.c: ap_resolve_env`).
//!
//! Steps for every file, in this order (each is a function below):
//!
//! 1. [`logical_lines`]: a physical line ending in `\` continues on the next one (the backslash and
//!    newline vanish); leading and trailing white space is trimmed; empty lines and lines whose
//!    first character is `#` are dropped. A logical line carries the number of its *last* physical
//!    line, which is what Apache prints in errors.
//! 2. [`Reader::expand`]: `${NAME}` is replaced by a `Define`d value or an environment variable;
//!    an unknown name stays as written and gives warning AH00111.
//! 3. [`getword_conf`]: words are separated by white space; `"…"` or `'…'` quote a word, inside
//!    which `\"` (or `\'`) and `\\` are escapes.
//! 4. The first word names the directive (case-insensitive). `EXEC_ON_READ` directives run now
//!    (`Include`, `Define`, `ServerRoot`, `LoadModule`, `<IfModule>` …); all others become nodes,
//!    `<Section …>` nodes holding their children, for the second pass in [`super::directives`].

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::directives::{self, Walker};
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
    /// For a section: the text between the name and the closing `>`.
    pub args: String,
    /// File the directive came from (for error messages).
    pub file: Arc<str>,
    /// Line number in `file`.
    pub line: u32,
    /// `Some` for a `<Section>`: its body.
    pub children: Option<Vec<Node>>,
}

/// One logical line of a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogicalLine {
    /// Number of the last physical line it spans.
    pub line: u32,
    pub text: String,
}

/// Step 1: join `\` continuations, trim, drop blank lines and `#` comments.
pub fn logical_lines(text: &str) -> Vec<LogicalLine> {
    let mut out = Vec::new();
    let mut pending = String::new();
    for (i, raw) in text.split('\n').enumerate() {
        let line_no = u32::try_from(i + 1).unwrap_or(u32::MAX);
        let raw = raw.strip_suffix('\r').unwrap_or(raw);
        // Apache: only a backslash immediately before the newline continues the line.
        if let Some(head) = raw.strip_suffix('\\') {
            pending.push_str(head);
            continue;
        }
        pending.push_str(raw);
        let trimmed = pending.trim();
        if !trimmed.is_empty() && !trimmed.starts_with('#') {
            out.push(LogicalLine { line: line_no, text: trimmed.to_string() });
        }
        pending.clear();
    }
    // A file ending in a continuation: Apache keeps what it has.
    let trimmed = pending.trim();
    if !trimmed.is_empty() && !trimmed.starts_with('#') {
        let last = u32::try_from(text.split('\n').count()).unwrap_or(u32::MAX);
        out.push(LogicalLine { line: last, text: trimmed.to_string() });
    }
    out
}

/// Step 3, `ap_getword_conf`: take the next word from `line`, returning it and the rest (leading
/// white space of the rest skipped). An empty word with an empty rest means "no more words".
pub fn getword_conf(line: &str) -> (String, &str) {
    let s = line.trim_start();
    let Some(quote) = s.chars().next() else {
        return (String::new(), s);
    };
    if quote == '"' || quote == '\'' {
        let body = &s[1..];
        let mut word = String::new();
        let mut chars = body.char_indices().peekable();
        let mut end = body.len();
        while let Some((i, c)) = chars.next() {
            if c == quote {
                end = i + 1;
                break;
            }
            if c == '\\'
                && let Some(&(_, next)) = chars.peek()
                && (next == quote || next == '\\')
            {
                word.push(next);
                chars.next();
                continue;
            }
            word.push(c);
        }
        (word, body[end.min(body.len())..].trim_start())
    } else {
        let end = s.find(char::is_whitespace).unwrap_or(s.len());
        // Unquoted words also honour `\\` (substring_conf with no quote).
        let word = s[..end].replace("\\\\", "\\");
        (word, s[end..].trim_start())
    }
}

/// Every word of `args`.
pub fn words(args: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = args;
    loop {
        let (w, r) = getword_conf(rest);
        if w.is_empty() && r.is_empty() {
            return out;
        }
        out.push(w);
        rest = r;
    }
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
    include_depth: u32,
}

/// A section whose closing tag we are looking for.
struct Open<'s> {
    /// `<Directory`, as written.
    name: &'s str,
    file: &'s Arc<str>,
    line: u32,
}

impl<'a> Reader<'a> {
    pub fn new(mpm: &'a MpmIdent, server_root: PathBuf, defines: Vec<String>) -> Reader<'a> {
        Reader { mpm, defines, vars: HashMap::new(), server_root, warnings: Vec::new(), include_depth: 0 }
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
            if let Some(v) = self.vars.get(name).cloned().or_else(|| std::env::var(name).ok()) {
                out.push_str(&v);
            } else {
                if !name.contains(':') {
                    self.warnings.push(format!("AH00111: Config variable ${{{name}}} is not defined"));
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
                    return Err(err(format!("Expected </{}> but saw </{close}>", &open.name[1..])));
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
                let Some(end) = args.rfind('>') else {
                    return Err(err(format!("{cmd}> directive missing closing '>'")));
                };
                let inner = args[..end].trim().to_string();
                let this = Open { name: &cmd, file, line: ll.line };
                if let Some(result) = self.conditional(&section, &inner).map_err(err)? {
                    if result {
                        nodes.extend(self.read_block(lines, pos, file, Some(&this))?);
                    } else {
                        soak(lines, pos, &this)?;
                    }
                    continue;
                }
                if inner.is_empty() {
                    return Err(err(format!("{cmd}> directive requires additional arguments")));
                }
                let children = self.read_block(lines, pos, file, Some(&this))?;
                nodes.push(Node {
                    name: cmd.clone(),
                    args: inner,
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
            nodes.push(Node { name, args: args.to_string(), file: file.clone(), line: ll.line, children: None });
        }
        match open {
            None => Ok(nodes),
            // Apache: "FILE:LINE: <Directory> was not closed." reported at the opening line.
            Some(open) => Err(ConfigError::read(
                open.file,
                open.line,
                format!("{}:{}: {}> was not closed.", open.file, open.line, open.name),
            )),
        }
    }

    /// `<IfModule>`, `<IfDefine>`, `<IfFile>`, `<IfDirective>`: `Some(test result)`, `None` for
    /// other sections. `!` negates (`core.c: start_cond_section`).
    fn conditional(&self, section: &str, inner: &str) -> Result<Option<bool>, String> {
        let kind = section.to_ascii_lowercase();
        if !matches!(kind.as_str(), "ifmodule" | "ifdefine" | "iffile" | "ifdirective") {
            return Ok(None);
        }
        let (not, arg) = match inner.strip_prefix('!') {
            Some(rest) => (true, rest),
            None => (false, inner),
        };
        let (arg, _) = getword_conf(arg);
        if arg.is_empty() {
            return Err(format!("<{section}> directive requires additional arguments"));
        }
        let result = match kind.as_str() {
            "ifmodule" => directives::module_is_loaded(self.mpm, &arg),
            "ifdefine" => self.defines.iter().any(|d| *d == arg),
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
                    // Errors inside the included file keep that file's name and line.
                    Err(IncludeError::Inside(e)) => Err(e),
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
                    std::env::current_dir().map(|c| c.join(p)).unwrap_or_else(|_| p.to_path_buf())
                };
                if !abs.is_dir() {
                    return Err(err("ServerRoot must be a valid directory".into()));
                }
                self.server_root = abs;
                Ok(Some(Vec::new()))
            }
            "LoadModule" => {
                directives::load_module(self.mpm, &argv[0], &argv[1]).map_err(err)?;
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
            let text = std::fs::read_to_string(&f)
                .map_err(|e| IncludeError::Here(format!("Could not open configuration file {shown}: {}", io_text(&e))))?;
            nodes.extend(self.read_source(&shown, &text).map_err(IncludeError::Inside)?);
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
            let inner = if args.is_empty() { inner.trim_end_matches('>') } else { inner };
            let nested = format!("<{inner}");
            soak(lines, pos, &Open { name: &nested, file: open.file, line: ll.line })?;
        }
    }
    Err(ConfigError::read(
        open.file,
        open.line,
        format!("Expected </{}> before end of configuration", &open.name[1..]),
    ))
}

/// The files an `Include` names: one file, every file of a directory, or a `*`/`?` pattern in
/// the last path component.
fn expand_include(path: &Path, optional: bool) -> Result<Vec<PathBuf>, String> {
    let shown = path.display().to_string();
    let last = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let is_pattern = last.contains(['*', '?']);
    if path.parent().is_some_and(|p| p.to_string_lossy().contains(['*', '?'])) {
        return Err(format!(
            "Include {shown}: mpm-lab only expands wildcards in the last path component"
        ));
    }
    if !is_pattern {
        if path.is_dir() {
            let mut files = list_dir(path).map_err(|e| format!("Could not open config directory {shown}: {e}"))?;
            files.retain(|f| f.is_file());
            return Ok(files);
        }
        if !path.exists() && optional {
            return Ok(Vec::new());
        }
        return Ok(vec![path.to_path_buf()]);
    }
    let dir = path.parent().unwrap_or(Path::new("/"));
    let entries = match list_dir(dir) {
        Ok(e) => e,
        Err(_) if optional => return Ok(Vec::new()),
        Err(e) => return Err(format!("Could not open config directory {}: {e}", dir.display())),
    };
    let files: Vec<PathBuf> = entries
        .into_iter()
        .filter(|f| {
            f.file_name().is_some_and(|n| {
                let n = n.to_string_lossy();
                !n.starts_with('.') && fnmatch(&last, &n)
            }) && f.is_file()
        })
        .collect();
    if files.is_empty() && !optional {
        return Err(format!("No matches for the wildcard '{last}' in '{}', failing", dir.display()));
    }
    Ok(files)
}

fn list_dir(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)?.filter_map(|e| e.ok().map(|e| e.path())).collect();
    v.sort();
    Ok(v)
}

/// A small `fnmatch(3)`: `*` matches any run of characters, `?` one character.
pub fn fnmatch(pattern: &str, name: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    // Iterative matcher with one backtrack point (the last `*`), linear in practice.
    let (mut pi, mut ni, mut star, mut mark) = (0, 0, None, 0);
    while ni < n.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == n[ni]) {
            pi += 1;
            ni += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ni;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ni = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
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

pub(crate) fn load_from(opts: &ConfigOptions, mpm: &MpmIdent, main: MainSource<'_>) -> Result<ServerConfig, ConfigError> {
    let runtime = super::default_runtime_dir(mpm)
        .map_err(|e| ConfigError::general(format!("cannot create the runtime directory: {e}")))?;
    let initial_root = match &opts.server_root {
        Some(d) => absolute(d),
        None => runtime.clone(),
    };
    let mut reader = Reader::new(mpm, initial_root, opts.defines.clone());
    // The embedded config's variables; a user file may use them too.
    reader.vars.insert("MPM_LAB_RUNTIME".into(), runtime.display().to_string());
    reader.vars.insert("MPM_LAB_DEMO".into(), super::DEMO_DIR.into());
    reader.vars.insert("MPM_LAB_MPM".into(), mpm.module.into());

    let mut nodes = reader.read_source(COMMAND_LINE_SOURCE, &opts.pre_directives.join("\n"))?;
    let config_file = match (main, &opts.file) {
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
                ConfigError::general(format!("Could not open configuration file {}: {}", path.display(), io_text(&e)))
            })?;
            nodes.extend(reader.read_source(&path.display().to_string(), &text)?);
            Some(path)
        }
        (MainSource::Options, None) => {
            nodes.extend(reader.read_source(DEFAULT_CONF_NAME, super::DEFAULT_CONF)?);
            None
        }
    };
    // -c lines continue the numbering of -C lines, as they share one pseudo file in Apache.
    let mut post = vec![String::new(); opts.pre_directives.len()];
    post.extend(opts.post_directives.iter().cloned());
    nodes.extend(reader.read_source(COMMAND_LINE_SOURCE, &post.join("\n"))?);

    let mut walker = Walker::new(mpm, &reader.server_root);
    walker.cfg.config_file = config_file;
    walker.cfg.defines = reader.defines.clone();
    walker.cfg.startup_warnings.append(&mut reader.warnings);
    walker.walk(&nodes, None)?;
    walker.finish()
}

/// The name errors in the embedded configuration show.
pub const DEFAULT_CONF_NAME: &str = "(built-in default configuration)";

fn absolute(p: &Path) -> PathBuf {
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        std::env::current_dir().map(|c| c.join(p)).unwrap_or_else(|_| p.to_path_buf())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_tokenizer_joins_continuations_and_drops_comments() {
        let text = "# comment\n  Listen 80  \n\nLogFormat \"%h %l \\\n%u\" x\n   # indented comment\nKeepAlive On\\\n";
        let lines = logical_lines(text);
        assert_eq!(
            lines,
            vec![
                LogicalLine { line: 2, text: "Listen 80".into() },
                LogicalLine { line: 5, text: "LogFormat \"%h %l %u\" x".into() },
                // The continuation swallows the (empty) last line, so Apache counts 8 too.
                LogicalLine { line: 8, text: "KeepAlive On".into() },
            ]
        );
    }

    #[test]
    fn config_tokenizer_crlf_lines() {
        let lines = logical_lines("Listen 80\r\nKeepAlive Off\r\n");
        assert_eq!(lines[0].text, "Listen 80");
        assert_eq!(lines[1].text, "KeepAlive Off");
    }

    #[test]
    fn config_getword_conf_quotes_and_escapes() {
        assert_eq!(words(r#"a "b c" 'd e' f"#), vec!["a", "b c", "d e", "f"]);
        assert_eq!(words(r#""say \"hi\"" "back\\slash" "keep \n""#), vec![r#"say "hi""#, r"back\slash", r"keep \n"]);
        assert_eq!(words(r#"'it\'s'"#), vec!["it's"]);
        assert_eq!(words(r#""unterminated"#), vec!["unterminated"]);
        assert_eq!(words(""), Vec::<String>::new());
        // ap_getword_conf's caller stops at an empty last word: `""` alone is no argument at all.
        assert_eq!(words(r#""""#), Vec::<String>::new());
        assert_eq!(words(r#""" x"#), vec!["", "x"]);
        let (w, rest) = getword_conf("  first   second third");
        assert_eq!((w.as_str(), rest), ("first", "second third"));
    }

    #[test]
    fn config_fnmatch_star_and_question() {
        assert!(fnmatch("*.conf", "a.conf"));
        assert!(fnmatch("*.conf", ".conf"));
        assert!(!fnmatch("*.conf", "a.conf.bak"));
        assert!(fnmatch("x?.load", "x1.load"));
        assert!(!fnmatch("x?.load", "x12.load"));
        assert!(fnmatch("*", ""));
        assert!(fnmatch("a*b*c", "aXXbYYc"));
        assert!(!fnmatch("a*b*c", "aXXbYY"));
    }

    #[test]
    fn config_expand_define_env_and_undefined() {
        let mpm = MpmIdent::PREFORK;
        let mut r = Reader::new(&mpm, PathBuf::from("/"), vec![]);
        r.vars.insert("PORT".into(), "8081".into());
        assert_eq!(r.expand("Listen ${PORT}"), "Listen 8081");
        assert_eq!(r.expand("x ${MPM_LAB_SURELY_UNSET_1} y"), "x ${MPM_LAB_SURELY_UNSET_1} y");
        assert_eq!(r.warnings, vec!["AH00111: Config variable ${MPM_LAB_SURELY_UNSET_1} is not defined"]);
        assert_eq!(r.expand("${a:b} $x ${"), "${a:b} $x ${");
        assert_eq!(r.warnings.len(), 1, "names with ':' are not warned about");
    }
}
