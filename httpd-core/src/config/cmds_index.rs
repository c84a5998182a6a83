//! mod_autoindex's directive handlers (`mod_autoindex.c: autoindex_cmds`): each fills the
//! enclosing section's [`AutoindexConfig`] (server level: the base section's, used as the
//! base of every merge).

use super::walk::Walker;
use crate::modules::autoindex::config::{AutoindexConfig, By};

type R = Result<(), String>;

/// The section's own settings, marked as server-level outside any section.
fn own<'w>(w: &'w mut Walker<'_>) -> &'w mut AutoindexConfig {
    let server_level = w.cmd_path().is_none();
    let c = w.section_mut().autoindex.own_mut();
    c.server_level = server_level;
    c
}

/// `ITERATE2`: a first word, then one or more; Apache's wording when there is no second.
fn iterate2<'a>(
    name: &str,
    help: &str,
    a: &'a [String],
) -> Result<(&'a String, &'a [String]), String> {
    match a {
        [first, rest @ ..] if !rest.is_empty() && !first.is_empty() => Ok((first, rest)),
        _ => Err(format!("{name} requires at least two arguments, {help}")),
    }
}

fn icon(w: &mut Walker<'_>, a: &[String], by: By, name: &str, help: &str) -> R {
    let (url, targets) = iterate2(name, help, a)?;
    let path = w.cmd_path().unwrap_or_default();
    let c = own(w);
    for t in targets {
        c.add_icon(by, url, t, &path)?;
    }
    Ok(())
}

fn alt(w: &mut Walker<'_>, a: &[String], by: By, name: &str, help: &str) -> R {
    let (text, targets) = iterate2(name, help, a)?;
    let path = w.cmd_path().unwrap_or_default();
    let c = own(w);
    for t in targets {
        c.add_alt(by, text, t, &path);
    }
    Ok(())
}

pub fn add_icon(w: &mut Walker<'_>, a: &[String]) -> R {
    icon(
        w,
        a,
        By::Path,
        "AddIcon",
        "an icon URL followed by one or more filenames",
    )
}
pub fn add_icon_by_type(w: &mut Walker<'_>, a: &[String]) -> R {
    icon(
        w,
        a,
        By::Type,
        "AddIconByType",
        "an icon URL followed by one or more MIME types",
    )
}
pub fn add_icon_by_encoding(w: &mut Walker<'_>, a: &[String]) -> R {
    icon(
        w,
        a,
        By::Encoding,
        "AddIconByEncoding",
        "an icon URL followed by one or more content encodings",
    )
}
pub fn add_alt(w: &mut Walker<'_>, a: &[String]) -> R {
    alt(
        w,
        a,
        By::Path,
        "AddAlt",
        "alternate descriptive text followed by one or more filenames",
    )
}
pub fn add_alt_by_type(w: &mut Walker<'_>, a: &[String]) -> R {
    alt(
        w,
        a,
        By::Type,
        "AddAltByType",
        "alternate descriptive text followed by one or more MIME types",
    )
}
pub fn add_alt_by_encoding(w: &mut Walker<'_>, a: &[String]) -> R {
    alt(
        w,
        a,
        By::Encoding,
        "AddAltByEncoding",
        "alternate descriptive text followed by one or more content encodings",
    )
}

/// `AddDescription "text" file …`.
pub fn add_description(w: &mut Walker<'_>, a: &[String]) -> R {
    let (text, targets) = iterate2(
        "AddDescription",
        "Descriptive text followed by one or more filenames",
        a,
    )?;
    let c = own(w);
    for t in targets {
        c.add_desc(text, t);
    }
    Ok(())
}

/// `IndexOptions [+|-]option …`.
pub fn index_options(w: &mut Walker<'_>, a: &[String]) -> R {
    own(w).add_opts(a)
}

/// `IndexOrderDefault Ascending|Descending Name|Date|Size|Description`.
pub fn index_order_default(w: &mut Walker<'_>, a: &[String]) -> R {
    own(w).set_default_order(&a[0], &a[1])
}

/// `IndexIgnore pattern …`.
pub fn index_ignore(w: &mut Walker<'_>, a: &[String]) -> R {
    let path = w.cmd_path().unwrap_or_default();
    let c = own(w);
    for p in a {
        c.add_ignore(p, &path);
    }
    Ok(())
}

/// `IndexIgnoreReset On|Off`.
pub fn index_ignore_reset(w: &mut Walker<'_>, a: &[String]) -> R {
    own(w).ignore_reset = a[0].eq_ignore_ascii_case("on");
    Ok(())
}

/// `ap_set_string_slot`: a `TAKE1` directive that sets one string of the section.
fn set_slot(
    w: &mut Walker<'_>,
    a: &[String],
    slot: fn(&mut AutoindexConfig) -> &mut Option<String>,
) -> R {
    *slot(own(w)) = Some(a[0].clone());
    Ok(())
}

pub fn header_name(w: &mut Walker<'_>, a: &[String]) -> R {
    set_slot(w, a, |c| &mut c.header)
}
pub fn readme_name(w: &mut Walker<'_>, a: &[String]) -> R {
    set_slot(w, a, |c| &mut c.readme)
}
pub fn default_icon(w: &mut Walker<'_>, a: &[String]) -> R {
    set_slot(w, a, |c| &mut c.default_icon)
}
pub fn index_style_sheet(w: &mut Walker<'_>, a: &[String]) -> R {
    set_slot(w, a, |c| &mut c.style_sheet)
}
pub fn index_head_insert(w: &mut Walker<'_>, a: &[String]) -> R {
    set_slot(w, a, |c| &mut c.head_insert)
}

/// `FancyIndexing` (`ap_set_deprecated`): always refused with Apache's message.
pub fn fancy_indexing(_: &mut Walker<'_>, _: &[String]) -> R {
    Err(
        "The FancyIndexing directive is no longer supported. Use IndexOptions FancyIndexing."
            .into(),
    )
}
