//! The directive handlers of mod_setenvif, mod_env and mod_headers (Apache's `command_rec`
//! tables of `mod_setenvif.c`, `mod_env.c`, `mod_headers.c`); the rules live in
//! [`crate::modules::setenvif`], [`crate::modules::env`] and [`crate::modules::headers`]. At top level they fill the server's list, in a section the
//! section's.

use super::walk::Walker;
use crate::modules::env::{EnvCmd, parse_pass, parse_set};
use crate::modules::setenvif::parse;

type R = Result<(), String>;

/// `SetEnvIf attribute regex [!]var[=value] …`.
pub fn set_env_if(w: &mut Walker<'_>, a: &[String]) -> R {
    setenvif(w, "SetEnvIf", a, false)
}

/// `SetEnvIfNoCase`.
pub fn set_env_if_nocase(w: &mut Walker<'_>, a: &[String]) -> R {
    setenvif(w, "SetEnvIfNoCase", a, true)
}

/// `BrowserMatch regex …` = `SetEnvIf User-Agent regex …`.
pub fn browser_match(w: &mut Walker<'_>, a: &[String]) -> R {
    let with_attr: Vec<String> = std::iter::once("User-Agent".to_string())
        .chain(a.iter().cloned())
        .collect();
    setenvif(w, "BrowserMatch", &with_attr, false)
}

/// `BrowserMatchNoCase`.
pub fn browser_match_nocase(w: &mut Walker<'_>, a: &[String]) -> R {
    let with_attr: Vec<String> = std::iter::once("User-Agent".to_string())
        .chain(a.iter().cloned())
        .collect();
    setenvif(w, "BrowserMatchNoCase", &with_attr, true)
}

fn setenvif(w: &mut Walker<'_>, name: &str, a: &[String], nocase: bool) -> R {
    let Some((attr, rest)) = a.split_first() else {
        return Err(format!("Missing header-field name for {name}"));
    };
    let rule = parse(name, attr, rest, nocase)?;
    w.section_mut().setenvif.push(rule);
    Ok(())
}

/// `SetEnv var [value]`.
pub fn set_env(w: &mut Walker<'_>, a: &[String]) -> R {
    w.section_mut().env_cmds.push(parse_set(a));
    Ok(())
}

/// `UnsetEnv var…`.
pub fn unset_env(w: &mut Walker<'_>, a: &[String]) -> R {
    w.section_mut().env_cmds.push(EnvCmd::Unset(a.to_vec()));
    Ok(())
}

/// `PassEnv var…`: variables the server's environment lacks get AH01506 at start-up.
pub fn pass_env(w: &mut Walker<'_>, a: &[String]) -> R {
    let (cmd, warnings) = parse_pass(a);
    w.section_mut().env_cmds.push(cmd);
    w.cfg.startup_warnings.extend(warnings);
    Ok(())
}

/// `Header [always|onsuccess] action name [value] [replacement] [env=[!]VAR]` (RAW_ARGS).
pub fn header(w: &mut Walker<'_>, a: &[String]) -> R {
    let cmd = crate::modules::headers::parse(&super::parse::words(&a[0]))?;
    w.section_mut().headers.push(cmd);
    Ok(())
}
