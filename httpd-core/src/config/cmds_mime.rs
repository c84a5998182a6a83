//! The directive handlers of mod_mime, core's `ForceType` and mod_negotiation (Apache's
//! `command_rec` tables of `mod_mime.c`, `core.c`, `mod_negotiation.c`). They fill the
//! section being read (the server's own for top-level lines, a `.htaccess`'s); the rules live
//! in [`crate::modules::mime`] and [`crate::modules::negotiation`].

use std::sync::Arc;

use super::walk::Walker;
use crate::modules::mime::{Field, MimeDir};
use crate::modules::negotiation::NegConfig;

type R = Result<(), String>;

fn mime<'w>(w: &'w mut Walker<'_>) -> &'w mut MimeDir {
    Arc::make_mut(w.section_mut().mime.get_or_insert_default())
}

/// `ITERATE2`: a value then one or more extensions.
fn add(w: &mut Walker<'_>, name: &str, help: &str, field: Field, a: &[String]) -> R {
    let [value, exts @ ..] = a else {
        return Err(format!("{name} requires at least two arguments, {help}"));
    };
    if exts.is_empty() {
        return Err(format!("{name} requires at least two arguments, {help}"));
    }
    let m = mime(w);
    for e in exts {
        m.add(field, value, e);
    }
    Ok(())
}

pub fn add_type(w: &mut Walker<'_>, a: &[String]) -> R {
    add(
        w,
        "AddType",
        "a mime type followed by one or more file extensions",
        Field::Type,
        a,
    )
}
pub fn add_encoding(w: &mut Walker<'_>, a: &[String]) -> R {
    add(
        w,
        "AddEncoding",
        "an encoding (e.g., gzip), followed by one or more file extensions",
        Field::Encoding,
        a,
    )
}
pub fn add_charset(w: &mut Walker<'_>, a: &[String]) -> R {
    add(
        w,
        "AddCharset",
        "a charset (e.g., iso-2022-jp), followed by one or more file extensions",
        Field::Charset,
        a,
    )
}
pub fn add_language(w: &mut Walker<'_>, a: &[String]) -> R {
    add(
        w,
        "AddLanguage",
        "a language (e.g., fr), followed by one or more file extensions",
        Field::Language,
        a,
    )
}
/// `AddHandler` (the `cgi-script` and `type-map` handlers act on it).
pub fn add_handler(w: &mut Walker<'_>, a: &[String]) -> R {
    add(
        w,
        "AddHandler",
        "a handler name followed by one or more file extensions",
        Field::Handler,
        a,
    )
}

/// `RemoveType`: an empty type, so that TypesConfig is overridden too.
pub fn remove_type(w: &mut Walker<'_>, a: &[String]) -> R {
    let m = mime(w);
    a.iter().for_each(|e| m.add(Field::Type, "", e));
    Ok(())
}

fn remove(w: &mut Walker<'_>, field: Field, a: &[String]) -> R {
    let m = mime(w);
    a.iter().for_each(|e| m.remove(field, e));
    Ok(())
}
pub fn remove_handler(w: &mut Walker<'_>, a: &[String]) -> R {
    remove(w, Field::Handler, a)
}
pub fn remove_encoding(w: &mut Walker<'_>, a: &[String]) -> R {
    remove(w, Field::Encoding, a)
}
pub fn remove_charset(w: &mut Walker<'_>, a: &[String]) -> R {
    remove(w, Field::Charset, a)
}
pub fn remove_language(w: &mut Walker<'_>, a: &[String]) -> R {
    remove(w, Field::Language, a)
}

/// `AddInputFilter`, `RemoveInputFilter`: refused, not ignored.
pub fn filters_refused(_: &mut Walker<'_>, _: &[String]) -> R {
    Err(
        "mpm-lab has no input filters: AddInputFilter and RemoveInputFilter are not supported"
            .into(),
    )
}

/// `AddOutputFilter filter[;filter…] ext…`: the names are checked as `SetOutputFilter`'s
/// (DEFLATE, with mod_deflate loaded), then stored per extension.
pub fn add_output_filter(w: &mut Walker<'_>, a: &[String]) -> R {
    if let Some(list) = a.first() {
        super::cmds_filter::filter_names(w, list)?;
    }
    add(
        w,
        "AddOutputFilter",
        "output filter name followed by one or more file extensions",
        Field::OutputFilter,
        a,
    )
}

pub fn remove_output_filter(w: &mut Walker<'_>, a: &[String]) -> R {
    remove(w, Field::OutputFilter, a)
}

pub fn default_language(w: &mut Walker<'_>, a: &[String]) -> R {
    mime(w).default_language = Some(a[0].clone());
    Ok(())
}

/// `MultiviewsMatch` (NOT_IN_LOCATION).
pub fn multiviews_match(w: &mut Walker<'_>, a: &[String]) -> R {
    if w.in_location() {
        return Err("MultiviewsMatch cannot occur within <Location> section".into());
    }
    let m = mime(w);
    a.iter().try_for_each(|word| m.multiviews_match(word))
}

/// `ModMimeUsePathInfo`: refused, not ignored (the type checker sees the file name only).
pub fn mod_mime_use_path_info(_: &mut Walker<'_>, _: &[String]) -> R {
    Err(
        "ModMimeUsePathInfo is not supported by mpm-lab: mod_mime looks at the file name only"
            .into(),
    )
}

/// `ForceType` (core.c `ap_set_string_slot_lower`).
pub fn force_type(w: &mut Walker<'_>, a: &[String]) -> R {
    w.section_mut().force_type = Some(a[0].to_ascii_lowercase());
    Ok(())
}

fn neg<'w>(w: &'w mut Walker<'_>) -> &'w mut NegConfig {
    Arc::make_mut(w.section_mut().negotiation.get_or_insert_default())
}

/// `LanguagePriority` (ITERATE: several lines add up).
pub fn language_priority(w: &mut Walker<'_>, a: &[String]) -> R {
    neg(w)
        .language_priority
        .get_or_insert_default()
        .extend(a.iter().cloned());
    Ok(())
}

pub fn force_language_priority(w: &mut Walker<'_>, a: &[String]) -> R {
    let n = neg(w);
    a.iter().try_for_each(|word| n.force(word))
}

/// `CacheNegotiatedDocs` (RSRC_CONF).
pub fn cache_negotiated_docs(w: &mut Walker<'_>, a: &[String]) -> R {
    w.cfg.cache_negotiated_docs = a[0].eq_ignore_ascii_case("on");
    Ok(())
}
