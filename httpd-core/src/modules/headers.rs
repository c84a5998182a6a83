//! mod_headers' `Header`: change the response's header fields (Apache
//! `modules/metadata/mod_headers.c: header_inout_cmd`, `do_headers_fixup`, `process_tags`).
//!
//! `Header [always|onsuccess] set|append|add|merge|setifempty|unset|echo|edit|edit* name
//! [value] [replacement] [env=[!]VAR]`.
//!
//! 1. Two tables, as in Apache: `onsuccess` (the default) works on `headers_out`, which error
//!    pages drop; `always` works on `err_headers_out`, which every response keeps. One does not
//!    see the other: `Header always unset ETag` leaves the handler's ETag alone.
//! 2. The lines run in order when the response is ready (`ap_headers_output_filter`), after
//!    mod_env, so `env=VAR` / `env=!VAR` see the whole request environment.
//! 3. `set` replaces every field of the name, `add` adds one more, `append` joins with `, `,
//!    `merge` appends only a token not already present, `setifempty` sets only an absent field,
//!    `unset` removes, `edit`/`edit*` replace the first/every regex match (`$1`… groups),
//!    `echo regex` copies the request fields whose names match. `Content-Type` changes the
//!    response's type.
//! 4. Values may hold `%%`, `%t` (`t=` and the request's start in microseconds), `%D` (`D=` and
//!    the microseconds since) and `%{VAR}e` (the environment; `(null)` when unset).
//!
//! 5. `RequestHeader` lines (no `always`/`onsuccess`, no `echo`) edit the request's fields in
//!    the fixup phase, after access control and before the handler: a CGI sees the edited
//!    `HTTP_*` variables and the access log's `%{Name}i` the edited value.
//!
//! Left out, refused at config time: the `early` condition, `expr=`, the `note`
//! action, and `%{VAR}s` / `%l` / `%i` / `%b` (SSL and MPM load figures).

use regex::Regex;

use super::setenvif::Env;

/// What a line does.
#[derive(Debug, Clone)]
pub enum Action {
    Set,
    SetIfEmpty,
    Add,
    Append,
    Merge,
    Unset,
    Echo(Regex),
    Edit { regex: Regex, all: bool },
}

/// One piece of a value.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Tag {
    Text(String),
    RequestTime,
    Duration,
    Env(String),
}

/// One `Header` line.
#[derive(Debug, Clone)]
pub struct HeaderCmd {
    /// `always`.
    pub always: bool,
    pub action: Action,
    pub name: String,
    value: Vec<Tag>,
    /// For `edit`: the replacement.
    replacement: String,
    /// `env=VAR` (`true`: must be set) or `env=!VAR`.
    condition: Option<(String, bool)>,
}

impl PartialEq for HeaderCmd {
    /// Lines are equal when written alike (configs are compared in tests).
    fn eq(&self, o: &HeaderCmd) -> bool {
        self.always == o.always && self.name == o.name && self.value == o.value
    }
}
impl Eq for HeaderCmd {}

/// `header_cmd` + `header_inout_cmd`: the words after `Header`.
pub fn parse(words: &[String]) -> Result<HeaderCmd, String> {
    let mut w = words.iter().map(String::as_str);
    let mut action = w.next().unwrap_or("");
    let mut always = false;
    if action.eq_ignore_ascii_case("always") || action.eq_ignore_ascii_case("onsuccess") {
        always = action.eq_ignore_ascii_case("always");
        action = w.next().unwrap_or("");
    }
    let hdr = w.next().unwrap_or("");
    let mut value = w.next();
    let subs = w.next();
    let mut envclause = w.next();
    if w.next().is_some() {
        return Err("Header has too many arguments".into());
    }
    let lower = action.to_ascii_lowercase();
    let is_edit = matches!(lower.as_str(), "edit" | "edit*");
    if !is_edit {
        if envclause.is_some() {
            return Err("Too many arguments to directive".into());
        }
        envclause = subs;
    }
    if matches!(lower.as_str(), "unset" | "echo") && value.is_some() {
        if envclause.is_some() {
            return Err(format!("header {lower} takes two arguments"));
        }
        envclause = value.take();
    }
    let action = match lower.as_str() {
        "set" => Action::Set,
        "setifempty" => Action::SetIfEmpty,
        "add" => Action::Add,
        "append" => Action::Append,
        "merge" => Action::Merge,
        "unset" => Action::Unset,
        "echo" => Action::Echo(
            Regex::new(hdr).map_err(|_| "Header echo regex could not be compiled".to_string())?,
        ),
        "edit" | "edit*" => {
            if subs.is_none() {
                return Err("Header edit requires a match and a substitution".into());
            }
            Action::Edit {
                regex: Regex::new(value.unwrap_or(""))
                    .map_err(|_| "Header edit regex could not be compiled".to_string())?,
                all: lower == "edit*",
            }
        }
        "note" => return Err("Header note is not supported by mpm-lab".into()),
        _ => return Err("first argument must be 'add', 'set', 'setifempty', 'append', 'merge', 'unset', 'echo', 'note', 'edit', or 'edit*'.".into()),
    };
    if value.is_none() && !matches!(action, Action::Unset | Action::Echo(_)) {
        return Err("Header requires three arguments".into());
    }
    let condition = match envclause {
        None => None,
        Some(c) if c.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("env=")) => {
            let var = &c[4..];
            match var.strip_prefix('!') {
                _ if var.is_empty() || var == "!" => {
                    return Err("error: missing environment variable name. envclause should be in the form env=envar ".into());
                }
                Some(v) => Some((v.to_string(), false)),
                None => Some((var.to_string(), true)),
            }
        }
        Some(c)
            if c.eq_ignore_ascii_case("early") || c.to_ascii_lowercase().starts_with("expr=") =>
        {
            return Err(format!("Header ... {c} is not supported by mpm-lab"));
        }
        Some(c) => return Err(format!("Unknown parameter: {c}")),
    };
    let name = hdr.split(':').next().unwrap_or(hdr).to_string();
    let (value, replacement) = match &action {
        Action::Edit { .. } => (Vec::new(), subs.unwrap_or("").to_string()),
        _ => (parse_format(value.unwrap_or(""))?, String::new()),
    };
    Ok(HeaderCmd {
        always,
        action,
        name,
        value,
        replacement,
        condition,
    })
}

/// `header_cmd` for `RequestHeader` (`hdr_in`): no condition word, no `echo` or `note`.
pub fn parse_request(words: &[String]) -> Result<HeaderCmd, String> {
    let action = words.first().map(String::as_str).unwrap_or("");
    if action.eq_ignore_ascii_case("always") || action.eq_ignore_ascii_case("onsuccess") {
        return Err("first argument must be 'add', 'set', 'setifempty', 'append', 'merge', 'unset', 'edit', or 'edit*'.".into());
    }
    if words.iter().any(|w| w.eq_ignore_ascii_case("early")) {
        return Err("RequestHeader ... early is not supported by mpm-lab (there is no post_read_request pass for it); without early the edit happens before the handler".into());
    }
    let cmd = parse(words).map_err(|e| e.replacen("Header", "RequestHeader", 1))?;
    if matches!(cmd.action, Action::Echo(_)) {
        return Err("echo not valid for RequestHeader".into());
    }
    Ok(cmd)
}

/// The request's fields as the [`Table`] `RequestHeader` edits (`r->headers_in`).
impl Table for crate::http::headers::Headers {
    fn get(&self, name: &str) -> Option<String> {
        crate::http::headers::Headers::get(self, name).map(str::to_string)
    }
    fn set(&mut self, name: &str, value: String) {
        crate::http::headers::Headers::set(self, name, &value);
    }
    fn add(&mut self, name: &str, value: String) {
        self.push(name, &value);
    }
    fn unset(&mut self, name: &str) {
        self.remove(name);
    }
}

/// `parse_format_string`: `%%`, `%t`, `%D`, `%{VAR}e`; other text as is.
fn parse_format(s: &str) -> Result<Vec<Tag>, String> {
    let mut tags = Vec::new();
    let mut text = String::new();
    let mut it = s.chars().peekable();
    while let Some(c) = it.next() {
        if c != '%' {
            text.push(c);
            continue;
        }
        let arg: Option<String> = if it.peek() == Some(&'{') {
            it.next();
            Some(it.by_ref().take_while(|&c| c != '}').collect())
        } else {
            None
        };
        let tag = match (it.next(), arg) {
            (Some('%'), None) => {
                text.push('%');
                continue;
            }
            (Some('t'), None) => Tag::RequestTime,
            (Some('D'), None) => Tag::Duration,
            (Some('e'), Some(v)) => Tag::Env(v),
            (Some(other), _) => {
                return Err(format!(
                    "Unrecognized header format %{other} (mpm-lab has %%, %t, %D, %{{VAR}}e)"
                ));
            }
            (None, _) => return Err("Unrecognized header format %".into()),
        };
        if !text.is_empty() {
            tags.push(Tag::Text(std::mem::take(&mut text)));
        }
        tags.push(tag);
    }
    if !text.is_empty() {
        tags.push(Tag::Text(text));
    }
    Ok(tags)
}

/// What a value's tags read.
pub struct TagContext<'a> {
    /// `r->request_time`, microseconds since the epoch.
    pub request_time_us: u128,
    /// Microseconds since the request started.
    pub elapsed_us: u128,
    pub env: &'a Env,
}

/// A response header table: `headers_out` or `err_headers_out`.
pub trait Table {
    fn get(&self, name: &str) -> Option<String>;
    /// Replace every field `name` with one.
    fn set(&mut self, name: &str, value: String);
    /// One more field.
    fn add(&mut self, name: &str, value: String);
    fn unset(&mut self, name: &str);
    /// `apr_table_mergen`: join to the first field, or add one.
    fn merge(&mut self, name: &str, value: String) {
        match self.get(name) {
            Some(old) => self.set(name, format!("{old}, {value}")),
            None => self.add(name, value),
        }
    }
}

impl HeaderCmd {
    /// Steps 2–4 for one line on `table`; `request` are the request's fields (for `echo`).
    pub fn apply(&self, table: &mut dyn Table, cx: &TagContext<'_>, request: &[(&str, &str)]) {
        if let Some((var, must_be_set)) = &self.condition
            && cx.env.get(var).is_some() != *must_be_set
        {
            return;
        }
        let value = || self.render(cx);
        let name = self.name.as_str();
        match &self.action {
            Action::Set => table.set(name, value()),
            Action::SetIfEmpty if table.get(name).is_none() => table.set(name, value()),
            Action::SetIfEmpty => {}
            Action::Add => table.add(name, value()),
            Action::Append => table.merge(name, value()),
            Action::Merge => {
                let v = value();
                let present = table
                    .get(name)
                    .is_some_and(|old| old.split(',').any(|t| t.trim_start() == v));
                if !present {
                    table.merge(name, v);
                }
            }
            Action::Unset => table.unset(name),
            Action::Echo(re) => {
                for (k, v) in request {
                    if re.is_match(k) {
                        table.add(k, v.to_string());
                    }
                }
            }
            Action::Edit { regex, all } => {
                if let Some(old) = table.get(name) {
                    let new = if *all {
                        regex.replace_all(&old, self.replacement.as_str())
                    } else {
                        regex.replace(&old, self.replacement.as_str())
                    };
                    // Apache collects the edited values, unsets the name and adds them back:
                    // the field moves to the end of the table, matched or not.
                    let new = new.into_owned();
                    table.unset(name);
                    table.add(name, new);
                }
            }
        }
    }

    /// `process_tags`.
    fn render(&self, cx: &TagContext<'_>) -> String {
        self.value
            .iter()
            .map(|t| match t {
                Tag::Text(s) => s.clone(),
                Tag::RequestTime => format!("t={}", cx.request_time_us),
                Tag::Duration => format!("D={}", cx.elapsed_us),
                Tag::Env(v) => cx.env.get(v).unwrap_or("(null)").to_string(),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Default)]
    struct T(Vec<(String, String)>);
    impl Table for T {
        fn get(&self, n: &str) -> Option<String> {
            self.0
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(n))
                .map(|(_, v)| v.clone())
        }
        fn set(&mut self, n: &str, v: String) {
            self.unset(n);
            self.0.push((n.into(), v));
        }
        fn add(&mut self, n: &str, v: String) {
            self.0.push((n.into(), v));
        }
        fn unset(&mut self, n: &str) {
            self.0.retain(|(k, _)| !k.eq_ignore_ascii_case(n));
        }
    }

    fn run(lines: &[&str], env: &Env) -> Vec<(String, String)> {
        let mut t = T(vec![("ETag".into(), "\"abc\"".into())]);
        let cx = TagContext {
            request_time_us: 7,
            elapsed_us: 3,
            env,
        };
        for l in lines {
            let words: Vec<String> = crate::config::parse::words(l);
            parse(&words)
                .unwrap()
                .apply(&mut t, &cx, &[("X-Req", "r1")]);
        }
        t.0
    }

    #[test]
    fn headers_actions_conditions_and_tags() {
        let mut env = Env::default();
        env.set("lab", "on".into());
        let out = run(
            &[
                "set X-A \"%t %D %{lab}e %{none}e 100%%\"",
                "append X-A two",
                "merge X-A two",
                "merge X-A three",
                "add X-B 1",
                "add X-B 2",
                "setifempty X-B no",
                "set X-C only env=!lab",
                "set X-D yes env=lab",
                "edit ETag ^\"(.*)\"$ W/\"$1\"",
                "edit* X-D [ey] _",
                "unset X-B",
                "echo ^X-R",
            ],
            &env,
        );
        let names: Vec<String> = out.iter().map(|(k, v)| format!("{k}: {v}")).collect();
        assert_eq!(
            names,
            vec![
                "X-A: t=7 D=3 on (null) 100%, two, three",
                "ETag: W/\"abc\"",
                "X-D: __s",
                "X-Req: r1",
            ]
        );
    }

    #[test]
    fn headers_parse_errors() {
        let p = |s: &str| parse(&crate::config::parse::words(s));
        assert!(p("set X").is_err());
        assert!(p("frob X 1").is_err());
        assert!(p("edit X onlyregex").is_err());
        assert!(p("set X 1 early").is_err());
        assert!(p("set X 1 expr=true").is_err());
        assert!(p("set X 1 env=").is_err());
        assert!(p("set X %{HTTPS}s").is_err());
        assert!(p("always unset X").is_ok());
        assert!(p("unset X env=a").is_ok());
        let rq = |s: &str| parse_request(&crate::config::parse::words(s));
        assert!(rq("set X-Lab edited").is_ok());
        assert!(rq("edit* X-Lab a b").is_ok());
        assert!(rq("always set X 1").is_err());
        assert!(rq("echo ^X").unwrap_err().contains("echo"));
        assert!(rq("set X 1 early").unwrap_err().contains("early"));
    }

    #[test]
    fn request_header_edits_the_request_table() {
        let mut h = crate::http::headers::Headers::default();
        h.add("X-Lab", "orig");
        h.add("User-Agent", "curl/8");
        let env = Env::default();
        let cx = TagContext {
            request_time_us: 0,
            elapsed_us: 0,
            env: &env,
        };
        for l in [
            "append X-Lab more",
            "edit User-Agent ^curl lab",
            "add X-New 1",
            "unset X-Gone",
        ] {
            parse_request(&crate::config::parse::words(l))
                .unwrap()
                .apply(&mut h, &cx, &[]);
        }
        assert_eq!(h.get("X-Lab"), Some("orig, more"));
        assert_eq!(h.get("User-Agent"), Some("lab/8"));
        assert_eq!(h.get("X-New"), Some("1"));
    }
}
