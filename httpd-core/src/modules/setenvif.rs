//! mod_setenvif: set environment variables from the request (Apache
//! `modules/metadata/mod_setenvif.c: add_setenvif_core`, `add_envvars`, `match_headers`).
//!
//! `SetEnvIf attribute regex [!]var[=value] …`, `SetEnvIfNoCase` (case-insensitive regex),
//! `BrowserMatch regex …` = `SetEnvIf User-Agent regex …`, `BrowserMatchNoCase`.
//!
//! 1. The attribute is one of `Remote_Addr`, `Server_Addr`, `Remote_Host`, `Request_Method`,
//!    `Request_Protocol`, `Request_URI` (case-insensitive); else a request header name; a
//!    name with characters other than letters, digits, `-` and `_` is a regex over header
//!    names (the last matching header's value counts). A plain name that is no header falls
//!    back to a variable set by an earlier rule.
//! 2. A missing value is the empty string, so `^$` matches an absent header.
//! 3. On a match each `var` is set to `1`, `var=value` to the value with `$0`–`$9` replaced by
//!    the regex's groups (`ap_pregsub`), `!var` is removed.
//! 4. Rules at server level run first, when the request has been read (`post_read_request`);
//!    rules in `<Directory>`/`<Location>` run after, in merge order (`header_parser`), both
//!    before access control, so `Allow from env=…` sees them.
//!
//! Left out: `SetEnvIfExpr` (needs ap_expr) and `Remote_Host` names other than the
//! double-reverse one (`HostnameLookups` is not implemented: we look it up only when asked).

use std::net::IpAddr;

use regex::{Regex, RegexBuilder};

use super::authz_host::double_reverse_name;

/// What a rule reads (`special_type`).
#[derive(Debug, Clone)]
pub enum Attribute {
    RemoteAddr,
    ServerAddr,
    RemoteHost,
    RequestMethod,
    RequestProtocol,
    RequestUri,
    /// A header, or a variable set by an earlier rule.
    Header(String),
    /// A regex over header names.
    HeaderRegex(Regex),
}

/// One variable a matching rule changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Feature {
    Set(String, String),
    Unset(String),
}

/// One `SetEnvIf` line.
#[derive(Debug, Clone)]
pub struct SetEnvIf {
    pub attribute: Attribute,
    pub regex: Regex,
    pub features: Vec<Feature>,
}

impl PartialEq for SetEnvIf {
    /// Rules are equal when written the same way (the config is compared in tests).
    fn eq(&self, o: &SetEnvIf) -> bool {
        self.regex.as_str() == o.regex.as_str() && self.features == o.features
    }
}
impl Eq for SetEnvIf {}

/// What the rules see of a request.
pub struct RequestView<'a> {
    pub client: IpAddr,
    pub local: IpAddr,
    pub method: &'a str,
    pub protocol: &'a str,
    /// `r->uri`: the path, without the query.
    pub uri: &'a str,
    pub headers: &'a [(&'a str, &'a str)],
}

/// The request's environment (`r->subprocess_env`), in the order variables were set.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Env(pub Vec<(String, String)>);

impl Env {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    pub fn set(&mut self, name: &str, value: String) {
        match self
            .0
            .iter_mut()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
        {
            Some(slot) => slot.1 = value,
            None => self.0.push((name.to_string(), value)),
        }
    }
    pub fn unset(&mut self, name: &str) {
        self.0.retain(|(k, _)| !k.eq_ignore_ascii_case(name));
    }
}

/// `add_setenvif_core`: `name` is the directive (for messages), `attribute` is `User-Agent`
/// for BrowserMatch, `args` the remaining words.
pub fn parse(
    name: &str,
    attribute: &str,
    args: &[String],
    nocase: bool,
) -> Result<SetEnvIf, String> {
    let Some((pattern, vars)) = args.split_first() else {
        return Err(format!("Missing regular expression for {name}"));
    };
    // Apache compiles the regex before it reads the variables (add_envvars).
    let regex = RegexBuilder::new(pattern)
        .case_insensitive(nocase)
        .build()
        .map_err(|_| format!("{name} regex could not be compiled."))?;
    if vars.is_empty() {
        return Err(format!("Missing envariable expression for {name}"));
    }
    let attribute = match attribute.to_ascii_lowercase().as_str() {
        "remote_addr" => Attribute::RemoteAddr,
        "server_addr" => Attribute::ServerAddr,
        "remote_host" => Attribute::RemoteHost,
        "request_method" => Attribute::RequestMethod,
        "request_protocol" => Attribute::RequestProtocol,
        "request_uri" => Attribute::RequestUri,
        _ if attribute
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') =>
        {
            Attribute::Header(attribute.to_string())
        }
        _ => Attribute::HeaderRegex(
            RegexBuilder::new(attribute)
                .case_insensitive(nocase)
                .build()
                .map_err(|_| format!("{name}Header name regex could not be compiled."))?,
        ),
    };
    let features = vars
        .iter()
        .map(|v| match v.strip_prefix('!') {
            Some(var) => Feature::Unset(var.to_string()),
            None => match v.split_once('=') {
                Some((k, val)) => Feature::Set(k.to_string(), val.to_string()),
                None => Feature::Set(v.clone(), "1".to_string()),
            },
        })
        .collect();
    Ok(SetEnvIf {
        attribute,
        regex,
        features,
    })
}

impl SetEnvIf {
    /// Steps 1–3 for one rule.
    pub fn apply(&self, r: &RequestView<'_>, env: &mut Env) {
        let owned;
        let val: &str = match &self.attribute {
            Attribute::RemoteAddr => {
                owned = r.client.to_string();
                &owned
            }
            Attribute::ServerAddr => {
                owned = r.local.to_string();
                &owned
            }
            Attribute::RemoteHost => {
                owned = double_reverse_name(r.client).unwrap_or_else(|| r.client.to_string());
                &owned
            }
            Attribute::RequestMethod => r.method,
            Attribute::RequestProtocol => r.protocol,
            Attribute::RequestUri => r.uri,
            Attribute::Header(h) => {
                match r.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(h)) {
                    Some((_, v)) => v,
                    None => {
                        owned = env.get(h).unwrap_or("").to_string();
                        &owned
                    }
                }
            }
            Attribute::HeaderRegex(re) => r
                .headers
                .iter()
                .rev()
                .find(|(k, _)| re.is_match(k))
                .map_or("", |(_, v)| *v),
        };
        let Some(caps) = self.regex.captures(val) else {
            return;
        };
        for f in &self.features {
            match f {
                Feature::Unset(k) => env.unset(k),
                Feature::Set(k, v) => env.set(k, substitute(v, &caps)),
            }
        }
    }
}

/// `ap_pregsub`: `$0`–`$9` (and `\$` for a dollar) in `template`.
fn substitute(template: &str, caps: &regex::Captures<'_>) -> String {
    let mut out = String::new();
    let mut it = template.chars().peekable();
    while let Some(c) = it.next() {
        match (c, it.peek().copied()) {
            ('$', Some(d)) if d.is_ascii_digit() => {
                it.next();
                let n = (d as u8 - b'0') as usize;
                out.push_str(caps.get(n).map_or("", |m| m.as_str()));
            }
            ('\\', Some(n @ ('$' | '&'))) => {
                it.next();
                out.push(n);
            }
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    fn run(rules: &[SetEnvIf], headers: &[(&str, &str)]) -> Env {
        let r = RequestView {
            client: "10.1.2.3".parse().unwrap(),
            local: "127.0.0.1".parse().unwrap(),
            method: "GET",
            protocol: "HTTP/1.1",
            uri: "/img/a.gif",
            headers,
        };
        let mut env = Env::default();
        for rule in rules {
            rule.apply(&r, &mut env);
        }
        env
    }

    #[test]
    fn setenvif_attributes_and_features() {
        let rules = vec![
            parse("SetEnvIf", "Remote_Addr", &w(r"^10\.1\. internal"), false).unwrap(),
            parse(
                "SetEnvIf",
                "Request_URI",
                &w(r"\.(gif|png)$ image=$1 kind=pic"),
                false,
            )
            .unwrap(),
            parse(
                "BrowserMatch",
                "User-Agent",
                &w("^Mozilla/4 nokeepalive"),
                false,
            )
            .unwrap(),
            parse("BrowserMatchNoCase", "User-Agent", &w("curl is_curl"), true).unwrap(),
            parse("SetEnvIf", "Referer", &w("^$ no_referer"), false).unwrap(),
            parse("SetEnvIf", "^X-Fo+$", &w("yes via_regex=$0"), false).unwrap(),
            parse("SetEnvIf", "internal", &w("1 seen_internal !kind"), false).unwrap(),
        ];
        let env = run(&rules, &[("User-Agent", "CURL/8"), ("X-Foo", "yes")]);
        assert_eq!(env.get("internal"), Some("1"));
        assert_eq!(env.get("image"), Some("gif"));
        assert_eq!(env.get("kind"), None, "unset by the last rule");
        assert_eq!(env.get("nokeepalive"), None, "no match: nothing set");
        assert_eq!(env.get("is_curl"), Some("1"));
        assert_eq!(
            env.get("no_referer"),
            Some("1"),
            "a missing header is the empty string"
        );
        assert_eq!(env.get("via_regex"), Some("yes"));
        assert_eq!(
            env.get("seen_internal"),
            Some("1"),
            "falls back to an earlier variable"
        );
    }

    #[test]
    fn setenvif_no_match_and_errors() {
        let rules = vec![parse("SetEnvIf", "Request_Method", &w("^POST$ post"), false).unwrap()];
        assert_eq!(run(&rules, &[]), Env::default());
        assert!(parse("SetEnvIf", "Host", &w("("), false).is_err());
        assert!(parse("SetEnvIf", "Host", &[], false).is_err());
        assert!(parse("SetEnvIf", "Host", &w("x"), false).is_err());
    }
}
