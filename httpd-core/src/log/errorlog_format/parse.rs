//! `ErrorLogFormat`'s parser (`server/core.c: parse_errorlog_string`, `parse_errorlog_item`,
//! `parse_errorlog_misc_string`, `set_errorlog_format`) and the per-server set of formats.

use super::{FmtItem, Kind};

/// Parse one format (`parse_errorlog_string`). `main`: the one-argument form, which must hold
/// `%M` and may not use `+`; otherwise a `connection`/`request` line, which may not hold `%M`
/// nor a level.
pub fn parse(s: &str, main: bool) -> Result<Vec<FmtItem>, String> {
    let mut items = Vec::new();
    let mut rest = s;
    let mut seen_msg = false;
    while !rest.is_empty() {
        let (item, next) = parse_item(rest)?;
        rest = next;
        if item.kind == Kind::Message {
            if !main {
                return Err(
                    "%M cannot be used in once-per-request or once-per-connection formats".into(),
                );
            }
            seen_msg = true;
        }
        if main && item.required {
            return Err("The '+' flag cannot be used in the main error log format".into());
        }
        if !main && item.min_level != 0 {
            return Err("The loglevel cannot be used as a condition in once-per-request or once-per-connection formats".into());
        }
        if item.min_level > 15 {
            return Err("The specified loglevel modifier is out of range".into());
        }
        items.push(item);
    }
    if main && !seen_msg {
        return Err("main ErrorLogFormat must contain message format string '%M'".into());
    }
    Ok(items)
}

fn item(kind: Kind) -> FmtItem {
    FmtItem {
        kind,
        field_sep: false,
        required: false,
        hyphen: false,
        min_level: 0,
    }
}

/// `parse_errorlog_item`: one item from the front of `s`; returns it and the rest.
fn parse_item(s: &str) -> Result<(FmtItem, &str), String> {
    let Some(mut s) = s.strip_prefix('%') else {
        let mut it = item(Kind::Const(String::new()));
        it.field_sep = s.starts_with(' ');
        let (text, rest) = misc_string(s);
        it.kind = Kind::Const(text);
        return Ok((it, rest));
    };
    if let Some(rest) = s.strip_prefix(' ') {
        // `% ` is a field separator in front of the next item.
        let (mut it, rest) = parse_item(rest)?;
        it.field_sep = true;
        return Ok((it, rest));
    }
    if let Some(rest) = s.strip_prefix('%') {
        return Ok((item(Kind::Const("%".into())), rest));
    }
    let mut it = item(Kind::Message);
    let mut arg: Option<String> = None;
    loop {
        let Some(c) = s.chars().next() else {
            return Err("Ran off end of error log format parsing args to some directive".into());
        };
        match c {
            '{' => {
                let (a, rest) = s[1..].split_once('}').unwrap_or((&s[1..], ""));
                arg = Some(a.to_string());
                s = rest;
            }
            '+' => {
                it.required = true;
                s = &s[1..];
            }
            '-' => {
                it.hyphen = true;
                s = &s[1..];
            }
            '0'..='9' => {
                let n = s.bytes().take_while(u8::is_ascii_digit).count();
                it.min_level = s[..n].parse::<u32>().unwrap_or(u32::MAX).min(255) as u8;
                s = &s[n..];
            }
            _ => {
                let a = arg.take();
                it.kind = match c {
                    'M' => Kind::Message,
                    'a' => Kind::RemoteAddr,
                    'A' => Kind::LocalAddr,
                    'e' => Kind::Env(a.unwrap_or_default()),
                    'E' => Kind::Status,
                    'F' => Kind::FileLine,
                    'i' => Kind::Header(a.unwrap_or_default()),
                    'k' => Kind::Keepalives,
                    'l' => Kind::Level,
                    'L' => Kind::LogId(a.and_then(|a| a.chars().next())),
                    'm' => Kind::Module,
                    'n' => Kind::Note(a.unwrap_or_default()),
                    'P' => Kind::Pid,
                    'T' => Kind::Tid {
                        system: a.is_some_and(|a| a.starts_with('g')),
                    },
                    't' => Kind::Time(a),
                    'v' => Kind::VirtualHost,
                    'V' => Kind::ServerName,
                    other => {
                        return Err(format!("Unrecognized error log format directive %{other}"));
                    }
                };
                return Ok((it, &s[c.len_utf8()..]));
            }
        }
    }
}

/// `parse_errorlog_misc_string`: literal text up to the next `%` or the next non-leading
/// space; `\n`, `\r`, `\t` and `\X` escapes.
fn misc_string(s: &str) -> (String, &str) {
    let mut out = String::new();
    let mut at_start = true;
    let mut chars = s.char_indices().peekable();
    while let Some(&(i, c)) = chars.peek() {
        if c == '%' || (c == ' ' && !at_start) {
            return (out, &s[i..]);
        }
        chars.next();
        if c != '\\' {
            if c != ' ' {
                at_start = false;
            }
            out.push(c);
            continue;
        }
        match chars.next() {
            Some((_, 'r')) => out.push('\r'),
            Some((_, 'n')) => out.push('\n'),
            Some((_, 't')) => out.push('\t'),
            Some((_, other)) => out.push(other),
            None => out.push('\\'),
        }
    }
    (out, "")
}

/// The `ErrorLogFormat` directives of a server: the main format and the once-per-connection and
/// once-per-request lines (`core_server_config`: `error_log_format`, `error_log_conn`,
/// `error_log_req`). `None` lists: not set here (a virtual host then takes the main server's).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ErrorLogFormat {
    pub main: Option<Vec<FmtItem>>,
    pub connection: Option<Vec<Vec<FmtItem>>>,
    pub request: Option<Vec<Vec<FmtItem>>>,
    /// The MPM has threads (`%T`): decided when the directive is read.
    pub threaded: bool,
}

impl ErrorLogFormat {
    /// `set_errorlog_format`: `ErrorLogFormat fmt` or `ErrorLogFormat connection|request fmt`
    /// (an empty `fmt` only creates the list, as in Apache: it clears what the main server set).
    pub fn set(&mut self, a: &[String]) -> Result<(), String> {
        match a {
            [f] => self.main = Some(parse(f, true)?),
            [kind, f] => {
                let list = if kind.eq_ignore_ascii_case("connection") {
                    &mut self.connection
                } else if kind.eq_ignore_ascii_case("request") {
                    &mut self.request
                } else {
                    return Err("ErrorLogFormat type must be one of request, connection".into());
                };
                let list = list.get_or_insert_with(Vec::new);
                if !f.is_empty() {
                    list.push(parse(f, false)?);
                }
            }
            _ => return Err("ErrorLogFormat takes 1-2 arguments".into()),
        }
        Ok(())
    }

    /// `merge_core_server_configs`: what a virtual host did not set comes from the main server.
    pub fn merged_over(&self, main: &ErrorLogFormat) -> ErrorLogFormat {
        ErrorLogFormat {
            main: self.main.clone().or_else(|| main.main.clone()),
            connection: self.connection.clone().or_else(|| main.connection.clone()),
            request: self.request.clone().or_else(|| main.request.clone()),
            threaded: main.threaded,
        }
    }

    /// Whether an item prints the request's environment (`%{name}e`): only then does the
    /// request path keep a copy of it for the error log (decided at config time).
    pub fn uses_env(&self) -> bool {
        let lines = self.main.iter().chain(self.connection.iter().flatten());
        lines
            .chain(self.request.iter().flatten())
            .flatten()
            .any(|i| matches!(i.kind, Kind::Env(_)))
    }

    /// Whether anything is set (without it the default line is written).
    pub fn is_set(&self) -> bool {
        self.main.is_some() || self.connection.is_some() || self.request.is_some()
    }
}
