//! The directive handlers of mod_deflate, mod_filter, core's output-filter and file-delivery
//! directives, and mod_headers' `RequestHeader` (Apache's `command_rec` tables of
//! `mod_deflate.c`, `mod_filter.c`, `core.c`, `mod_headers.c`); the rules live in
//! [`crate::modules::deflate`], [`crate::modules::filter`], [`crate::http::file_bucket`] and
//! [`crate::modules::headers`].

use super::walk::Walker;
use crate::config::mpm::atoi;
use crate::modules::deflate::AlterEtag;
use crate::modules::filter;

type R = Result<(), String>;

/// `DeflateCompressionLevel 1-9`.
pub fn deflate_level(w: &mut Walker<'_>, a: &[String]) -> R {
    let i = atoi(&a[0]);
    if !(1..=9).contains(&i) {
        return Err("Compression Level must be between 1 and 9".into());
    }
    w.cfg.deflate.level = i as u32;
    Ok(())
}

/// `DeflateBufferSize n`.
pub fn deflate_buffer_size(w: &mut Walker<'_>, a: &[String]) -> R {
    let n = atoi(&a[0]);
    if n <= 0 {
        return Err("DeflateBufferSize should be positive".into());
    }
    w.cfg.deflate.buffer_size = n as usize;
    Ok(())
}

/// `DeflateWindowSize 1-15`: miniz_oxide always uses zlib's largest window, so only 15 (the
/// default) can be applied.
pub fn deflate_window_size(_: &mut Walker<'_>, a: &[String]) -> R {
    match atoi(&a[0]) {
        15 => Ok(()),
        1..=14 => Err("DeflateWindowSize: mpm-lab's compressor (miniz_oxide) has a fixed 32 KiB window; only 15, the default, is supported".into()),
        _ => Err("DeflateWindowSize must be between 1 and 15".into()),
    }
}

/// `DeflateMemLevel 1-9`: only 9 (the default), for the same reason.
pub fn deflate_mem_level(_: &mut Walker<'_>, a: &[String]) -> R {
    match atoi(&a[0]) {
        9 => Ok(()),
        1..=8 => Err("DeflateMemLevel: mpm-lab's compressor (miniz_oxide) has no memory level setting; only 9, the default, is supported".into()),
        _ => Err("DeflateMemLevel must be between 1 and 9".into()),
    }
}

/// `DeflateFilterNote [Input|Output|Ratio] name` (one word: the ratio).
pub fn deflate_note(w: &mut Walker<'_>, a: &[String]) -> R {
    let d = &mut w.cfg.deflate;
    match a {
        [name] => d.note_ratio = Some(name.clone()),
        [kind, name] if kind.eq_ignore_ascii_case("ratio") => d.note_ratio = Some(name.clone()),
        [kind, name] if kind.eq_ignore_ascii_case("input") => d.note_input = Some(name.clone()),
        [kind, name] if kind.eq_ignore_ascii_case("output") => d.note_output = Some(name.clone()),
        [kind, _] => return Err(format!("Unknown note type {kind}")),
        _ => return Err("DeflateFilterNote takes 1-2 arguments".into()),
    }
    Ok(())
}

/// `DeflateAlterETag AddSuffix|NoChange|Remove`.
pub fn deflate_alter_etag(w: &mut Walker<'_>, a: &[String]) -> R {
    let v = &a[0];
    w.cfg.deflate.alter_etag = if v.eq_ignore_ascii_case("NoChange") {
        AlterEtag::NoChange
    } else if v.eq_ignore_ascii_case("AddSuffix") {
        AlterEtag::AddSuffix
    } else if v.eq_ignore_ascii_case("Remove") {
        AlterEtag::Remove
    } else {
        return Err("DeflateAlterETAG accepts only 'NoChange', 'AddSuffix', and 'Remove'".into());
    };
    Ok(())
}

/// `DeflateInflateLimitRequestBody`, `DeflateInflateRatioLimit`, `DeflateInflateRatioBurst`:
/// they tune the INFLATE input filter, which mpm-lab does not have.
pub fn deflate_inflate_refused(_: &mut Walker<'_>, _: &[String]) -> R {
    Err("mpm-lab's mod_deflate has the DEFLATE output filter only; the INFLATE input filter and its DeflateInflate* limits are not implemented".into())
}

/// `AddOutputFilterByType filter[;filter…] media-type…` (mod_filter).
pub fn add_output_filter_by_type(w: &mut Walker<'_>, a: &[String]) -> R {
    let (names, types) = a
        .split_first()
        .ok_or("AddOutputFilterByType requires at least two arguments")?;
    if types.is_empty() {
        return Err("AddOutputFilterByType requires at least two arguments".into());
    }
    let names = filter_names(w, names)?;
    let sec = w.section_mut();
    for name in names {
        filter::add_by_type(&mut sec.filter_by_type, &name, types);
    }
    Ok(())
}

/// The names of a filter list; DEFLATE exists only once mod_deflate is loaded (Apache
/// registers the filter in the module's hooks).
pub(super) fn filter_names(w: &Walker<'_>, list: &str) -> Result<Vec<String>, String> {
    let names = filter::parse_filter_list(list)?;
    if !w.cfg.loaded_modules.contains(&"deflate") {
        return Err(format!(
            "Unknown filter provider {list}: the DEFLATE filter needs LoadModule deflate_module"
        ));
    }
    Ok(names)
}

/// `on`/`off` for core's `set_enable_sendfile` and `set_enable_mmap`.
fn on_off(v: &str) -> Result<bool, String> {
    if v.eq_ignore_ascii_case("on") {
        Ok(true)
    } else if v.eq_ignore_ascii_case("off") {
        Ok(false)
    } else {
        Err("parameter must be 'on' or 'off'".into())
    }
}

/// `SetOutputFilter filter[;filter…]` (core).
pub fn set_output_filter(w: &mut Walker<'_>, a: &[String]) -> R {
    let names = if a[0].eq_ignore_ascii_case("none") {
        Vec::new()
    } else {
        filter_names(w, &a[0])?
    };
    w.section_mut().output_filters = Some(names);
    Ok(())
}

/// `FilterDeclare`, `FilterProvider`, `FilterChain`, `FilterProtocol`, `FilterTrace`: the
/// general mod_filter, whose conditions are `ap_expr` expressions mpm-lab cannot evaluate.
pub fn filter_general_refused(_: &mut Walker<'_>, _: &[String]) -> R {
    Err("mpm-lab's mod_filter has AddOutputFilterByType only; FilterDeclare, FilterProvider (ap_expr conditions), FilterChain, FilterProtocol and FilterTrace are not implemented: use AddOutputFilterByType DEFLATE type... or SetOutputFilter DEFLATE".into())
}

/// `EnableSendfile On|Off` (core, per directory).
pub fn set_enable_sendfile(w: &mut Walker<'_>, a: &[String]) -> R {
    w.section_mut().enable_sendfile = Some(on_off(&a[0])?);
    Ok(())
}

/// `EnableMMAP On|Off` (core, per directory).
pub fn set_enable_mmap(w: &mut Walker<'_>, a: &[String]) -> R {
    w.section_mut().enable_mmap = Some(on_off(&a[0])?);
    Ok(())
}

/// `RequestHeader action name [value] [replacement] [env=[!]VAR]` (RAW_ARGS): edits the
/// request's fields before the handler (mod_headers' fixup).
pub fn request_header(w: &mut Walker<'_>, a: &[String]) -> R {
    let cmd = crate::modules::headers::parse_request(&super::parse::words(&a[0]))?;
    w.section_mut().request_headers.push(cmd);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::atoi;

    #[test]
    fn filter_cmds_atoi_reads_a_leading_number() {
        assert_eq!(atoi("9"), 9);
        assert_eq!(atoi(" 12abc"), 12);
        assert_eq!(atoi("x"), 0);
        assert_eq!(atoi("-3"), -3);
    }
}
