//! mod_alias: URL paths mapped to other places in the file system (`Alias`, `ScriptAlias`) or
//! answered with a redirect (`Redirect`, `RedirectMatch`, …) (Apache
//! `modules/mappers/mod_alias.c`). On once `LoadModule alias_module` is read.
//!
//! `translate_alias_redir`, in order:
//! 1. The redirects, in file order: the first that matches answers. A 3xx gets a `Location`
//!    (a target starting with `/` is made absolute, AH00673) with the request's query appended
//!    unless the target has its own; `gone` and other non-3xx codes answer that status.
//! 2. The aliases (`Alias`, `ScriptAlias`, `*Match`), in file order: the first that matches
//!    gives the file name; a `ScriptAlias` also forces the `cgi-script` handler (which then
//!    needs no `Options ExecCGI`, as `is_scriptaliased`).
//! 3. Otherwise the URL is left to DocumentRoot.
//!
//! A plain prefix matches whole path segments, and any run of `/` in it matches any run of
//! `/` in the URL (`alias_matches`). `*Match` patterns are regular expressions on the URL path,
//! their target takes `$0`–`$9` (`ap_pregsub`). What this leaves out: the one-argument
//! `Alias`/`Redirect` forms inside `<Location>` (expressions) are refused with a clear error;
//! the overlap warning AH00671 is not printed.

use std::path::PathBuf;

use regex::Regex;

/// What a prefix or pattern is matched with.
#[derive(Debug, Clone)]
pub enum Matcher {
    Prefix(String),
    Regex(Regex),
}

/// One `Alias`/`ScriptAlias`/`*Match`.
#[derive(Debug, Clone)]
pub struct AliasEntry {
    pub fake: Matcher,
    pub real: String,
    /// `ScriptAlias`: the handler forced on what it maps (`cgi-script`).
    pub script: bool,
}

/// Two patterns are the same when written the same (a section compares its settings).
impl PartialEq for Matcher {
    fn eq(&self, other: &Matcher) -> bool {
        match (self, other) {
            (Matcher::Prefix(a), Matcher::Prefix(b)) => a == b,
            (Matcher::Regex(a), Matcher::Regex(b)) => a.as_str() == b.as_str(),
            _ => false,
        }
    }
}
impl Eq for Matcher {}

/// One `Redirect*`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedirectEntry {
    pub fake: Matcher,
    /// `None` for a non-3xx status (`gone`, `404`, …).
    pub url: Option<String>,
    pub status: u16,
}

/// mod_alias's server configuration (`alias_server_conf`).
#[derive(Debug, Clone, Default)]
pub struct AliasConfig {
    pub aliases: Vec<AliasEntry>,
    pub redirects: Vec<RedirectEntry>,
}

/// What translation decided for a URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Translated {
    /// Answer with this status; `location` is the `Location` field for a 3xx.
    Redirect {
        status: u16,
        location: Option<String>,
    },
    /// The URL maps to this file; `script` when a ScriptAlias forced `cgi-script`.
    /// `alias_root` is the alias target the file is under (for the symlink check).
    /// `context` is `ap_set_context_info`'s (URL prefix, target) of a prefix alias, which
    /// CGI sees as CONTEXT_PREFIX and CONTEXT_DOCUMENT_ROOT.
    File {
        path: PathBuf,
        script: bool,
        alias_root: PathBuf,
        context: Option<(String, String)>,
    },
}

/// `alias_matches`: how many bytes of `uri` the prefix `fake` covers, 0 for no match.
pub fn alias_matches(uri: &str, fake: &str) -> usize {
    let (a, u) = (fake.as_bytes(), uri.as_bytes());
    let (mut i, mut j) = (0, 0);
    while i < a.len() {
        if a[i] == b'/' {
            if u.get(j) != Some(&b'/') {
                return 0;
            }
            while i < a.len() && a[i] == b'/' {
                i += 1;
            }
            while u.get(j) == Some(&b'/') {
                j += 1;
            }
        } else {
            if u.get(j) != Some(&a[i]) {
                return 0;
            }
            i += 1;
            j += 1;
        }
    }
    if a.last() != Some(&b'/') && j < u.len() && u[j] != b'/' {
        return 0;
    }
    j
}

/// `ap_pregsub`: `$0`–`$9` become the groups (empty when unmatched), `\x` is a literal `x`.
pub fn pregsub(template: &str, caps: &regex::Captures<'_>) -> String {
    let mut out = String::new();
    let mut it = template.chars().peekable();
    while let Some(c) = it.next() {
        match c {
            '\\' => out.extend(it.next()),
            '$' if it.peek().is_some_and(char::is_ascii_digit) => {
                let n = it.next().and_then(|d| d.to_digit(10)).unwrap_or(0) as usize;
                out.push_str(caps.get(n).map_or("", |m| m.as_str()));
            }
            _ => out.push(c),
        }
    }
    out
}

/// The status keyword or code of `Redirect` (`add_redirect_internal`): `Some(status)` and
/// whether the word was understood.
fn redirect_status(word: &str) -> Option<u16> {
    match word.to_ascii_lowercase().as_str() {
        "permanent" => Some(301),
        "temp" => Some(302),
        "seeother" => Some(303),
        "gone" => Some(410),
        w if w.len() == 3 && w.bytes().all(|b| b.is_ascii_digit()) => w.parse().ok(),
        _ => None,
    }
}

/// `ap_is_url`: a scheme (letters, digits, `+-.`) then `:`.
fn is_url(u: &str) -> bool {
    u.split_once(':').is_some_and(|(s, _)| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b))
    })
}

fn compile(pattern: &str, regex: bool) -> Result<Matcher, String> {
    if regex {
        Regex::new(pattern)
            .map(Matcher::Regex)
            .map_err(|_| "Regular expression could not be compiled.".into())
    } else {
        Ok(Matcher::Prefix(pattern.to_string()))
    }
}

impl AliasConfig {
    /// `Alias`, `ScriptAlias`, `AliasMatch`, `ScriptAliasMatch` (`add_alias_internal`).
    pub fn add_alias(&mut self, a: &[String], regex: bool, script: bool) -> Result<(), String> {
        let [fake, real] = a else {
            return Err(
                "mpm-lab: the one-argument Alias form (inside <Location>) is not supported".into(),
            );
        };
        self.aliases.push(AliasEntry {
            fake: compile(fake, regex)?,
            real: real.clone(),
            script,
        });
        Ok(())
    }

    /// `Redirect`, `RedirectMatch`, `RedirectTemp` (`forced` 302), `RedirectPermanent` (301)
    /// (`add_redirect_internal`, server context).
    pub fn add_redirect(
        &mut self,
        a: &[String],
        regex: bool,
        forced: Option<u16>,
    ) -> Result<(), String> {
        self.redirects
            .push(parse_redirect(a, regex, forced, false)?);
        Ok(())
    }

    /// Steps 1–3 of the module doc for the decoded URL path `uri` and the raw query `args`.
    /// `absolute` makes a `/path` target absolute (`ap_construct_url`).
    pub fn translate(
        &self,
        uri: &str,
        args: Option<&str>,
        absolute: impl Fn(&str) -> String,
    ) -> Option<Translated> {
        if !uri.starts_with('/') {
            return None;
        }
        if let Some(r) = try_redirects(&self.redirects, uri, args, &absolute) {
            return Some(r);
        }
        self.try_aliases(uri)
    }

    /// Step 2: the aliases.
    fn try_aliases(&self, uri: &str) -> Option<Translated> {
        for a in &self.aliases {
            let path = match &a.fake {
                Matcher::Regex(re) => re.captures(uri).map(|c| pregsub(&a.real, &c)),
                Matcher::Prefix(p) => match alias_matches(uri, p) {
                    0 => None,
                    l => {
                        let rest = uri[l..].trim_start_matches('/');
                        Some(if rest.is_empty() {
                            format!("{}{}", a.real, &uri[l..])
                        } else {
                            format!("{}/{rest}", a.real.trim_end_matches('/'))
                        })
                    }
                },
            };
            if let Some(path) = path {
                let root = match &a.fake {
                    Matcher::Prefix(_) => PathBuf::from(&a.real),
                    Matcher::Regex(_) => PathBuf::from(&path)
                        .parent()
                        .map(PathBuf::from)
                        .unwrap_or_default(),
                };
                let context = match &a.fake {
                    Matcher::Prefix(p) => Some((p.clone(), a.real.clone())),
                    Matcher::Regex(_) => None,
                };
                return Some(Translated::File {
                    path: PathBuf::from(path),
                    script: a.script,
                    alias_root: root,
                    context,
                });
            }
        }
        None
    }
}

/// Apache's expression form of `Redirect` (one argument after the status, in a section).
const ONE_ARG: &str =
    "mpm-lab: the one-argument Redirect form (inside <Location>) is not supported";

/// The arguments of a `Redirect*` line (`add_redirect_internal`). `in_dir`: the line has a
/// `cmd->path` (section, `.htaccess`), where `Redirect 301 URL` would be Apache's expression
/// form, which mpm-lab refuses.
pub fn parse_redirect(
    a: &[String],
    regex: bool,
    forced: Option<u16>,
    in_dir: bool,
) -> Result<RedirectEntry, String> {
    if in_dir
        && forced.is_none()
        && let [w, _] = a
        && redirect_status(w).is_some_and(|s| (300..400).contains(&s))
    {
        return Err(ONE_ARG.into());
    }
    let (status, fake, url) = match (forced, a) {
        (Some(s), [fake, url]) => (s, fake, Some(url)),
        (None, [w, fake, url]) => (
            redirect_status(w).ok_or_else(|| format!("{w} is not a valid status"))?,
            fake,
            Some(url),
        ),
        (None, [w, fake]) if redirect_status(w).is_some() => {
            (redirect_status(w).unwrap_or(302), fake, None)
        }
        (None, [fake, url]) => (302, fake, Some(url)),
        _ => {
            return Err(ONE_ARG.into());
        }
    };
    let fake = compile(fake, regex)?;
    if (300..400).contains(&status) {
        let Some(u) = url else {
            return Err("URL to redirect to is missing".into());
        };
        if !regex && !is_url(u) && !u.starts_with('/') {
            return Err("Redirect to non-URL".into());
        }
    } else if url.is_some() {
        return Err("Redirect URL not valid for this status".into());
    }
    Ok(RedirectEntry {
        fake,
        url: url.cloned(),
        status,
    })
}

/// Step 1 of the module doc, and mod_alias's `fixup_redir` for a section's or `.htaccess`
/// file's redirects: the first entry matching the decoded URL path `uri` answers. `absolute`
/// makes a `/path` target absolute (`ap_construct_url`, AH00673/AH00675).
pub fn try_redirects(
    redirects: &[RedirectEntry],
    uri: &str,
    args: Option<&str>,
    absolute: &dyn Fn(&str) -> String,
) -> Option<Translated> {
    for r in redirects {
        let found = match &r.fake {
            Matcher::Regex(re) => re
                .captures(uri)
                .map(|c| r.url.as_deref().map(|u| pregsub(u, &c))),
            Matcher::Prefix(p) => match alias_matches(uri, p) {
                0 => None,
                l => Some(r.url.as_ref().map(|u| format!("{u}{}", &uri[l..]))),
            },
        };
        let Some(found) = found else { continue };
        let location = found.map(|mut loc| {
            if loc.starts_with('/') {
                loc = absolute(&loc);
            }
            if let Some(q) = args.filter(|_| !loc.contains('?')) {
                loc = format!("{loc}?{q}");
            }
            loc
        });
        return Some(Translated::Redirect {
            status: r.status,
            location,
        });
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn prefix_matches_whole_segments_and_slash_runs() {
        assert_eq!(alias_matches("/cgi-bin/x.cgi", "/cgi-bin/"), 9);
        assert_eq!(alias_matches("//cgi-bin//x", "/cgi-bin/"), 11);
        assert_eq!(alias_matches("/icons", "/icons"), 6);
        assert_eq!(alias_matches("/iconsx", "/icons"), 0);
        assert_eq!(alias_matches("/icons/a", "/icons"), 6);
        assert_eq!(alias_matches("/cgi-bin", "/cgi-bin/"), 0);
    }

    #[test]
    fn redirects_come_first_then_the_first_alias() {
        let mut c = AliasConfig::default();
        c.add_alias(&s(&["/cgi-bin/", "/usr/lib/cgi-bin/"]), false, true)
            .unwrap();
        c.add_alias(&s(&["^/img/(.*)\\.png$", "/srv/png/$1.png"]), true, false)
            .unwrap();
        c.add_redirect(&s(&["permanent", "/cgi-bin/old", "/new"]), false, None)
            .unwrap();
        c.add_redirect(&s(&["gone", "/dead"]), false, None).unwrap();
        let abs = |p: &str| format!("http://h{p}");
        assert_eq!(
            c.translate("/cgi-bin/old/x", Some("q=1"), abs),
            Some(Translated::Redirect {
                status: 301,
                location: Some("http://h/new/x?q=1".into())
            })
        );
        assert_eq!(
            c.translate("/dead", None, abs),
            Some(Translated::Redirect {
                status: 410,
                location: None
            })
        );
        assert_eq!(
            c.translate("/cgi-bin/t.cgi/extra", None, abs),
            Some(Translated::File {
                path: "/usr/lib/cgi-bin/t.cgi/extra".into(),
                script: true,
                alias_root: "/usr/lib/cgi-bin/".into(),
                context: Some(("/cgi-bin/".into(), "/usr/lib/cgi-bin/".into()))
            })
        );
        assert!(matches!(
            c.translate("/img/a.png", None, abs),
            Some(Translated::File { path, script: false, .. }) if path == Path::new("/srv/png/a.png")
        ));
        assert_eq!(c.translate("/other", None, abs), None);
    }

    #[test]
    fn redirect_argument_errors_are_apaches() {
        let mut c = AliasConfig::default();
        let e = |c: &mut AliasConfig, a: &[&str]| c.add_redirect(&s(a), false, None).unwrap_err();
        assert_eq!(e(&mut c, &["/a", "b"]), "Redirect to non-URL");
        assert_eq!(
            e(&mut c, &["gone", "/a", "/b"]),
            "Redirect URL not valid for this status"
        );
        assert_eq!(e(&mut c, &["301", "/a"]), "URL to redirect to is missing");
        assert!(
            c.add_redirect(&s(&["/a", "http://x/"]), false, Some(301))
                .is_ok()
        );
    }
}
