//! mod_autoindex's per-directory configuration (`autoindex_config_rec`) and what the
//! directives do to it (`add_opts`, `add_icon`, `add_alt`, `add_desc`, `add_ignore`,
//! `set_default_order`), as `mod_autoindex.c` has them; merging is in [`super::merge`].
//!
//! `IndexOptions` follows Apache's three-way bookkeeping:
//! 1. A keyword without `+`/`-` sets `opts` and forgets the `+`/`-` words seen before it.
//! 2. `+X` / `-X` go to `incremented` / `decremented`, each removing X from the other.
//! 3. Merging: a section whose `opts` is set (any plain keyword) takes it as the whole answer
//!    (its own `+`/`-` words are dropped, as Apache's merge drops them); a section with only
//!    `+`/`-` words applies them to what it inherits and passes them further down.
//!
//! The lists (icons, alts, descriptions, ignores) are appended with the deeper section's
//! entries first (`apr_array_append(add, base)`), so the first match wins from the inside out.

use super::format::{fnmatch_test, is_matchexp};
use crate::config::mpm::atoi;

pub const NO_OPTIONS: u32 = 1 << 0;
pub const ICONS_ARE_LINKS: u32 = 1 << 1;
pub const SCAN_HTML_TITLES: u32 = 1 << 2;
pub const SUPPRESS_ICON: u32 = 1 << 3;
pub const SUPPRESS_LAST_MOD: u32 = 1 << 4;
pub const SUPPRESS_SIZE: u32 = 1 << 5;
pub const SUPPRESS_DESC: u32 = 1 << 6;
pub const SUPPRESS_PREAMBLE: u32 = 1 << 7;
pub const SUPPRESS_COLSORT: u32 = 1 << 8;
pub const SUPPRESS_RULES: u32 = 1 << 9;
pub const FOLDERS_FIRST: u32 = 1 << 10;
pub const VERSION_SORT: u32 = 1 << 11;
pub const TRACK_MODIFIED: u32 = 1 << 12;
pub const FANCY_INDEXING: u32 = 1 << 13;
pub const TABLE_INDEXING: u32 = 1 << 14;
pub const IGNORE_CLIENT: u32 = 1 << 15;
pub const IGNORE_CASE: u32 = 1 << 16;
pub const EMIT_XHTML: u32 = 1 << 17;
pub const SHOW_FORBIDDEN: u32 = 1 << 18;
pub const ADDALTCLASS: u32 = 1 << 19;
pub const OPTION_UNSET: u32 = 1 << 20;

/// `DEFAULT_ICON_WIDTH`, `DEFAULT_ICON_HEIGHT`: Apache's own icons.
const DEFAULT_ICON_WIDTH: i32 = 20;
const DEFAULT_ICON_HEIGHT: i32 = 22;
/// `DEFAULT_NAME_WIDTH`, `DEFAULT_DESC_WIDTH`.
pub const DEFAULT_NAME_WIDTH: usize = 23;
pub const DEFAULT_DESC_WIDTH: usize = 23;

/// `NameWidth`/`DescriptionWidth` state (`K_NOADJUST`, `K_ADJUST`, `K_UNSET`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Adjust {
    /// A fixed width.
    Fixed,
    /// `=*`: as wide as the longest entry.
    Auto,
    /// Not set here: inherit.
    Unset,
}

/// What an `AddIcon*`/`AddAlt*`/`IndexIgnore` entry is matched against (`BY_PATH`, `BY_TYPE`,
/// `BY_ENCODING`; `IndexIgnore` entries have no type in Apache).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum By {
    Path,
    Type,
    Encoding,
    Ignore,
}

/// `struct item`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    pub by: By,
    /// The pattern for the name, type or encoding (`*` prepended to a plain path suffix).
    pub apply_to: String,
    /// `cmd->path` of the section plus `*`: which files the entry may apply to at all.
    pub apply_path: String,
    /// The icon URL or alt text (empty for ignores).
    pub data: String,
}

/// `ai_desc_t`: one `AddDescription`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Desc {
    pub pattern: String,
    pub description: String,
    /// The pattern holds a `/`: matched against the whole path.
    pub full_path: bool,
    /// Matched with `fnmatch`, else as a substring.
    pub wildcards: bool,
}

/// `autoindex_config_rec`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AutoindexConfig {
    pub default_icon: Option<String>,
    pub style_sheet: Option<String>,
    pub head_insert: Option<String>,
    pub header: Option<String>,
    pub readme: Option<String>,
    pub opts: u32,
    pub incremented: u32,
    pub decremented: u32,
    pub name_width: usize,
    pub name_adjust: Adjust,
    pub desc_width: usize,
    pub desc_adjust: Adjust,
    pub icon_width: i32,
    pub icon_height: i32,
    /// `IndexOrderDefault`: `N`, `M`, `S` or `D`.
    pub default_key: Option<u8>,
    /// `A` or `D`.
    pub default_direction: Option<u8>,
    pub icons: Vec<Item>,
    pub alts: Vec<Item>,
    pub descs: Vec<Desc>,
    pub ignores: Vec<Item>,
    /// `IndexIgnoreReset On`.
    pub ignore_reset: bool,
    pub ctype: Option<String>,
    pub charset: Option<String>,
    pub datetime_format: Option<String>,
    /// Set at server level (Apache's `lookup_defaults`): used as the base without a merge.
    pub server_level: bool,
}

impl Default for AutoindexConfig {
    /// `create_autoindex_config`.
    fn default() -> Self {
        AutoindexConfig {
            default_icon: None,
            style_sheet: None,
            head_insert: None,
            header: None,
            readme: None,
            opts: OPTION_UNSET,
            incremented: 0,
            decremented: 0,
            name_width: DEFAULT_NAME_WIDTH,
            name_adjust: Adjust::Unset,
            desc_width: DEFAULT_DESC_WIDTH,
            desc_adjust: Adjust::Unset,
            icon_width: 0,
            icon_height: 0,
            default_key: None,
            default_direction: None,
            icons: Vec::new(),
            alts: Vec::new(),
            descs: Vec::new(),
            ignores: Vec::new(),
            ignore_reset: false,
            ctype: None,
            charset: None,
            datetime_format: None,
            server_level: false,
        }
    }
}

/// The bit of an `IndexOptions` keyword that is a plain flag.
fn flag(word: &str) -> Option<u32> {
    const FLAGS: &[(&str, u32)] = &[
        ("FancyIndexing", FANCY_INDEXING),
        ("FoldersFirst", FOLDERS_FIRST),
        ("HTMLTable", TABLE_INDEXING),
        ("IconsAreLinks", ICONS_ARE_LINKS),
        ("IgnoreCase", IGNORE_CASE),
        ("IgnoreClient", IGNORE_CLIENT),
        ("ScanHTMLTitles", SCAN_HTML_TITLES),
        ("SuppressColumnSorting", SUPPRESS_COLSORT),
        ("SuppressDescription", SUPPRESS_DESC),
        ("SuppressHTMLPreamble", SUPPRESS_PREAMBLE),
        ("SuppressIcon", SUPPRESS_ICON),
        ("SuppressLastModified", SUPPRESS_LAST_MOD),
        ("SuppressSize", SUPPRESS_SIZE),
        ("SuppressRules", SUPPRESS_RULES),
        ("TrackModified", TRACK_MODIFIED),
        ("VersionSort", VERSION_SORT),
        ("XHTML", EMIT_XHTML),
        ("ShowForbidden", SHOW_FORBIDDEN),
        ("AddAltClass", ADDALTCLASS),
    ];
    FLAGS
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(word))
        .map(|(_, b)| *b)
}

/// `strncasecmp(w, prefix, len) == 0`: the rest after a case-blind prefix.
fn strip_prefix_ci<'a>(w: &'a str, prefix: &str) -> Option<&'a str> {
    w.get(..prefix.len())
        .filter(|head| head.eq_ignore_ascii_case(prefix))
        .map(|_| &w[prefix.len()..])
}

/// `IconWidth`, `IconHeight`, `NameWidth`, `DescriptionWidth`, alone or with `=value`.
fn sized_keyword(w: &str) -> Option<(&'static str, Option<&str>)> {
    ["IconWidth", "IconHeight", "NameWidth", "DescriptionWidth"]
        .into_iter()
        .find_map(|key| {
            if w.eq_ignore_ascii_case(key) {
                Some((key, None))
            } else {
                strip_prefix_ci(w, key)
                    .and_then(|rest| rest.strip_prefix('='))
                    .map(|v| (key, Some(v)))
            }
        })
}

/// `IconWidth[=n]`: alone Apache's icon size (`-` form: none), or n pixels.
fn icon_size(key: &str, value: Option<&str>, minus: bool, default: i32) -> Result<i32, String> {
    match value {
        None => Ok(if minus { 0 } else { default }),
        Some(_) if minus => Err(format!("Cannot combine '-' with {key}=n")),
        Some(v) => Ok(atoi(v) as i32),
    }
}

/// `NameWidth=n|*` / `DescriptionWidth=n|*`, or `-NameWidth` for the default; `min` is the
/// smallest width Apache takes (0 is allowed too), `default` the one `-NameWidth` restores.
fn column_width(
    key: &str,
    value: Option<&str>,
    minus: bool,
    (min, default): (i64, usize),
    current: usize,
) -> Result<(usize, Adjust), String> {
    match value {
        None if !minus => Err(format!("{key} with no value may only appear as '-{key}'")),
        None => Ok((default, Adjust::Fixed)),
        Some(_) if minus => Err(format!("Cannot combine '-' with {key}=n")),
        Some(v) if v.starts_with('*') => Ok((current, Adjust::Auto)),
        Some(v) => match atoi(v) {
            w if w != 0 && w < min => Err(format!("{key} value must be greater than {min}")),
            w => Ok((w.max(0) as usize, Adjust::Fixed)),
        },
    }
}

impl AutoindexConfig {
    /// `add_opts`: one `IndexOptions` line.
    pub fn add_opts(&mut self, args: &[String]) -> Result<(), String> {
        let (mut opts, mut add, mut remove) = (self.opts, self.incremented, self.decremented);
        for arg in args {
            let (action, w) = match arg.as_bytes().first() {
                Some(b'+') => (Some(b'+'), &arg[1..]),
                Some(b'-') => (Some(b'-'), &arg[1..]),
                _ => (None, arg.as_str()),
            };
            let minus = action == Some(b'-');
            let mut option = 0;
            if let Some(bit) = flag(w) {
                option = bit;
            } else if w.eq_ignore_ascii_case("None") {
                if action.is_some() {
                    return Err("Cannot combine '+' or '-' with 'None' keyword".into());
                }
                (opts, add, remove) = (NO_OPTIONS, 0, 0);
            } else if let Some((key, value)) = sized_keyword(w) {
                match key {
                    "IconWidth" => {
                        self.icon_width = icon_size(key, value, minus, DEFAULT_ICON_WIDTH)?;
                    }
                    "IconHeight" => {
                        self.icon_height = icon_size(key, value, minus, DEFAULT_ICON_HEIGHT)?;
                    }
                    "NameWidth" => {
                        (self.name_width, self.name_adjust) = column_width(
                            key,
                            value,
                            minus,
                            (5, DEFAULT_NAME_WIDTH),
                            self.name_width,
                        )?;
                    }
                    _ => {
                        (self.desc_width, self.desc_adjust) = column_width(
                            key,
                            value,
                            minus,
                            (12, DEFAULT_DESC_WIDTH),
                            self.desc_width,
                        )?;
                    }
                }
            } else if let Some(v) = strip_prefix_ci(w, "Type=") {
                self.ctype = Some(v.to_string());
            } else if let Some(v) = strip_prefix_ci(w, "Charset=") {
                self.charset = Some(v.to_string());
            } else if w.eq_ignore_ascii_case("UseOldDateFormat") {
                self.datetime_format = Some("%d-%b-%Y %H:%M".into());
            } else {
                return Err("Invalid directory indexing option".into());
            }
            match action {
                None => {
                    opts |= option;
                    (add, remove) = (0, 0);
                }
                Some(b'+') => {
                    add |= option;
                    remove &= !option;
                }
                _ => {
                    remove |= option;
                    add &= !option;
                }
            }
        }
        if opts & NO_OPTIONS != 0 && opts & !NO_OPTIONS != 0 {
            return Err("Cannot combine other IndexOptions keywords with 'None'".into());
        }
        (self.opts, self.incremented, self.decremented) = (opts, add, remove);
        Ok(())
    }

    /// `set_default_order`: `IndexOrderDefault Ascending|Descending Name|Date|Size|Description`.
    pub fn set_default_order(&mut self, direction: &str, key: &str) -> Result<(), String> {
        self.default_direction = Some(match direction.to_ascii_lowercase().as_str() {
            "ascending" => b'A',
            "descending" => b'D',
            _ => return Err("First keyword must be 'Ascending' or 'Descending'".into()),
        });
        self.default_key = Some(match key.to_ascii_lowercase().as_str() {
            "name" => b'N',
            "date" => b'M',
            "size" => b'S',
            "description" => b'D',
            _ => {
                return Err(
                    "Second keyword must be 'Name', 'Date', 'Size', or 'Description'".into(),
                );
            }
        });
        Ok(())
    }

    /// `push_item`: `cmd_path` is the enclosing section's path (`""` at server level).
    fn push(list: &mut Vec<Item>, by: By, to: &str, cmd_path: &str, data: &str) {
        let apply_to = if by == By::Path && !is_matchexp(to) {
            format!("*{to}")
        } else {
            to.to_string()
        };
        list.push(Item {
            by,
            apply_to,
            apply_path: format!("{cmd_path}*"),
            data: data.to_string(),
        });
    }

    /// The special names of `AddIcon`/`AddAlt`, and lower-cased encodings.
    fn target(by: By, to: &str) -> String {
        match by {
            By::Path if to == "**DIRECTORY**" => "^^DIRECTORY^^".into(),
            By::Encoding => to.to_ascii_lowercase(),
            _ => to.to_string(),
        }
    }

    /// `add_alt` for one target.
    pub fn add_alt(&mut self, by: By, alt: &str, to: &str, cmd_path: &str) {
        Self::push(&mut self.alts, by, &Self::target(by, to), cmd_path, alt);
    }

    /// `add_icon` for one target: `(ALT,/icon.gif)` also adds the alt text.
    pub fn add_icon(&mut self, by: By, icon: &str, to: &str, cmd_path: &str) -> Result<(), String> {
        let mut url = icon;
        if let Some(inner) = icon.strip_prefix('(') {
            let Some(close) = inner.find(')') else {
                return Err("missing closing paren".into());
            };
            // ap_getword_nc(',') over "(ALT,URL)" with the ')' cut: "(ALT" and "URL".
            let inner = &inner[..close];
            let (alt, rest) = inner.split_once(',').unwrap_or((inner, ""));
            self.add_alt(by, alt, to, cmd_path);
            url = rest;
        }
        Self::push(&mut self.icons, by, &Self::target(by, to), cmd_path, url);
        Ok(())
    }

    /// `add_desc`.
    pub fn add_desc(&mut self, desc: &str, to: &str) {
        let full_path = to.contains('/');
        let wildcards = full_path || fnmatch_test(to);
        let pattern = if wildcards {
            format!("{}{to}*", if full_path { "*/" } else { "*" })
        } else {
            to.to_string()
        };
        self.descs.push(Desc {
            pattern,
            description: desc.to_string(),
            full_path,
            wildcards,
        });
    }

    /// `add_ignore`.
    pub fn add_ignore(&mut self, pattern: &str, cmd_path: &str) {
        Self::push(&mut self.ignores, By::Ignore, pattern, cmd_path, "");
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// A section with one `IndexOptions` line (shared with the merge tests).
    pub(in crate::modules::autoindex) fn opts(words: &[&str]) -> AutoindexConfig {
        let mut c = AutoindexConfig::default();
        c.add_opts(&words.iter().map(|s| s.to_string()).collect::<Vec<_>>())
            .unwrap();
        c
    }

    #[test]
    fn index_options_errors_and_widths() {
        let mut c = AutoindexConfig::default();
        let e = |c: &mut AutoindexConfig, w: &str| c.add_opts(&[w.to_string()]).unwrap_err();
        assert_eq!(e(&mut c, "Bogus"), "Invalid directory indexing option");
        assert_eq!(
            e(&mut c, "+None"),
            "Cannot combine '+' or '-' with 'None' keyword"
        );
        assert_eq!(
            e(&mut c, "NameWidth=3"),
            "NameWidth value must be greater than 5"
        );
        assert_eq!(
            e(&mut c, "NameWidth"),
            "NameWidth with no value may only appear as '-NameWidth'"
        );
        assert_eq!(
            c.add_opts(&["None".into(), "FancyIndexing".into()])
                .unwrap_err(),
            "Cannot combine other IndexOptions keywords with 'None'"
        );
        let c = opts(&[
            "NameWidth=*",
            "DescriptionWidth=40",
            "Charset=UTF-8",
            "IconHeight",
        ]);
        assert_eq!(c.name_adjust, Adjust::Auto);
        assert_eq!((c.desc_width, c.desc_adjust), (40, Adjust::Fixed));
        assert_eq!(c.charset.as_deref(), Some("UTF-8"));
        assert_eq!(c.icon_height, DEFAULT_ICON_HEIGHT);
    }
}
