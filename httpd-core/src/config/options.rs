//! `Options`: the per-directory feature switches of core (Apache `server/core.c: set_options`,
//! `merge_core_dir_configs`, `http_core.h: OPT_*`).
//!
//! Parsing (`set_options`):
//! 1. Each word is an option name, optionally prefixed by `+` or `-`.
//! 2. Either every word has a prefix or none has: mixing them is the error
//!    "Either all Options must start with + or -, or no Option may." (2.4).
//! 3. Without prefixes the list *replaces* what is inherited; with prefixes it adds to or
//!    removes from it.
//!
//! Merging (`merge_core_dir_configs`), section by section in Apache's walk order: a section
//! with a plain list takes that list (its own `+`/`-` are forgotten); a section with only
//! `+`/`-` words applies them to what it inherits.
//!
//! What each flag does in mpm-lab:
//! - `FollowSymLinks` (the 2.4 default) / `SymLinksIfOwnerMatch`: checked on every static file
//!   and CGI script ([`symlinks_allowed`]): without either, any symbolic link on the path is a
//!   403 with AH00037; with only the second, a link whose owner differs from its target's.
//! - `ExecCGI`: the CGI handler refuses to run a script without it (AH02809).
//! - `Indexes`: mod_autoindex lists a directory without index file only with it (else 403,
//!   AH01276; `modules/autoindex`).
//! - `MultiViews`: mod_negotiation's `handle_multi` ([`crate::http::negotiate`]) looks for
//!   `NAME.*` variants when the requested file does not exist.
//! - `Includes`/`IncludesNOEXEC`: kept; they only matter to mod_include, which mpm-lab does not
//!   have (Apache without mod_include ignores them too).

use std::os::unix::fs::MetadataExt;
use std::path::Path;

pub const OPT_INDEXES: u8 = 1;
pub const OPT_INCLUDES: u8 = 2;
pub const OPT_SYM_LINKS: u8 = 4;
pub const OPT_EXECCGI: u8 = 8;
pub const OPT_INC_WITH_EXEC: u8 = 32;
pub const OPT_SYM_OWNER: u8 = 64;
pub const OPT_MULTI: u8 = 128;
/// `OPT_ALL`: everything but MultiViews and SymLinksIfOwnerMatch.
pub const OPT_ALL: u8 =
    OPT_INDEXES | OPT_INCLUDES | OPT_INC_WITH_EXEC | OPT_SYM_LINKS | OPT_EXECCGI;
/// The 2.4 default at server level (`create_core_dir_config`: `OPT_SYM_LINKS` since 2.3.11).
pub const DEFAULT_OPTIONS: u8 = OPT_SYM_LINKS;

/// One `Options` line (or several in one section), as `core_dir_config` keeps it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct OptionsSetting {
    /// A plain list replaced what was inherited (`None`: `OPT_UNSET`).
    pub opts: Option<u8>,
    pub add: u8,
    pub remove: u8,
}

fn option_bits(name: &str) -> Option<u8> {
    Some(match name.to_ascii_lowercase().as_str() {
        "indexes" => OPT_INDEXES,
        "includes" => OPT_INCLUDES | OPT_INC_WITH_EXEC,
        "includesnoexec" => OPT_INCLUDES,
        "followsymlinks" => OPT_SYM_LINKS,
        "symlinksifownermatch" => OPT_SYM_OWNER,
        "execcgi" => OPT_EXECCGI,
        "multiviews" => OPT_MULTI,
        "all" => OPT_ALL,
        "none" => 0,
        _ => return None,
    })
}

impl OptionsSetting {
    /// `set_options` for one directive's words (steps 1–3), on top of what this section had.
    pub fn parse(mut self, words: &[String]) -> Result<OptionsSetting, String> {
        let prefixed = words
            .iter()
            .filter(|w| w.starts_with('+') || w.starts_with('-'))
            .count();
        if prefixed != 0 && prefixed != words.len() {
            return Err("Either all Options must start with + or -, or no Option may.".into());
        }
        if prefixed == 0 {
            self.opts = Some(0);
        }
        for w in words {
            let (action, name) = match w.as_bytes().first() {
                Some(b'+' | b'-') => (Some(w.as_bytes()[0]), &w[1..]),
                _ => (None, w.as_str()),
            };
            let bits = option_bits(name).ok_or_else(|| format!("Illegal option {name}"))?;
            match action {
                Some(b'-') => {
                    self.remove |= bits;
                    self.add &= !bits;
                    self.opts = self.opts.map(|o| o & !bits);
                }
                Some(_) => {
                    self.add |= bits;
                    self.remove &= !bits;
                    self.opts = self.opts.map(|o| o | bits);
                }
                None => self.opts = Some(self.opts.unwrap_or(0) | bits),
            }
        }
        Ok(self)
    }
}

/// The effective flags after merging `sections` (already in Apache's walk order) over the
/// server default.
pub fn merge<'a>(sections: impl IntoIterator<Item = &'a OptionsSetting>) -> u8 {
    let mut opts = DEFAULT_OPTIONS;
    for s in sections {
        opts = match s.opts {
            Some(o) => o,
            None => (opts & !s.remove) | s.add,
        };
    }
    opts
}

/// Whether the path from `root` (trusted: DocumentRoot or an alias target) down to `path` may
/// be followed under `opts` (`server/request.c: resolve_symlink`). Returns the first link that
/// is refused.
pub fn symlinks_allowed(opts: u8, root: &Path, path: &Path) -> Result<(), std::path::PathBuf> {
    if opts & OPT_SYM_LINKS != 0 {
        return Ok(());
    }
    let Ok(rel) = path.strip_prefix(root) else {
        return Ok(());
    };
    let mut cur = root.to_path_buf();
    for c in rel.components() {
        cur.push(c);
        let Ok(lm) = std::fs::symlink_metadata(&cur) else {
            return Ok(());
        };
        if !lm.file_type().is_symlink() {
            continue;
        }
        let owner_ok =
            opts & OPT_SYM_OWNER != 0 && std::fs::metadata(&cur).is_ok_and(|t| t.uid() == lm.uid());
        if !owner_ok {
            return Err(cur);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Result<OptionsSetting, String> {
        let w: Vec<String> = s.split_whitespace().map(String::from).collect();
        OptionsSetting::default().parse(&w)
    }

    #[test]
    fn plain_list_replaces_and_prefixed_adjusts() {
        let plain = p("Indexes ExecCGI").unwrap();
        assert_eq!(merge([&plain]), OPT_INDEXES | OPT_EXECCGI);
        let rel = p("+ExecCGI -FollowSymLinks +SymLinksIfOwnerMatch").unwrap();
        assert_eq!(merge([&rel]), OPT_EXECCGI | OPT_SYM_OWNER);
        assert_eq!(merge([&plain, &p("-Indexes").unwrap()]), OPT_EXECCGI);
        assert_eq!(merge([&p("None").unwrap()]), 0);
        assert_eq!(merge([&p("All").unwrap()]) & OPT_MULTI, 0);
        assert_eq!(merge([]), OPT_SYM_LINKS);
    }

    #[test]
    fn mixing_prefixes_and_unknown_names_are_errors() {
        assert_eq!(
            p("+ExecCGI Indexes").unwrap_err(),
            "Either all Options must start with + or -, or no Option may."
        );
        assert_eq!(p("Bogus").unwrap_err(), "Illegal option Bogus");
    }

    #[test]
    fn symlink_without_follow_is_refused() {
        let d = std::env::temp_dir().join(format!("opt-sym-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&d);
        std::fs::write(d.join("f"), "x").unwrap();
        let _ = std::os::unix::fs::symlink(d.join("f"), d.join("l"));
        assert!(symlinks_allowed(OPT_SYM_LINKS, &d, &d.join("l")).is_ok());
        assert_eq!(symlinks_allowed(0, &d, &d.join("l")), Err(d.join("l")));
        assert!(symlinks_allowed(OPT_SYM_OWNER, &d, &d.join("l")).is_ok());
        assert!(symlinks_allowed(0, &d, &d.join("f")).is_ok());
        let _ = std::fs::remove_dir_all(&d);
    }
}
