//! The directive handlers of the access-control and authentication modules (Apache's
//! `command_rec` tables of `mod_authz_core.c`, `mod_access_compat.c`, `mod_authn_core.c`,
//! `mod_auth_basic.c`, `mod_authn_file.c`). The rules themselves live in
//! [`crate::modules::authz`] and its neighbours; these only fill the section being read.

use super::walk::Walker;
use crate::modules::access_compat::{AccessCompat, Order, Satisfy, parse_from};
use crate::modules::auth_basic::parse_providers;
use crate::modules::authz::Require;

type R = Result<(), String>;

/// `mod_authz_core.c: add_authz_provider`. Several `Require` lines in one section are an
/// implicit `<RequireAny>`.
pub fn add_require(w: &mut Walker<'_>, a: &[String]) -> R {
    let authz_user = w.cfg.loaded_modules.contains(&"authz_user");
    let r = Require::parse(&a[0], authz_user)?;
    w.section_mut().require.get_or_insert_with(Vec::new).push(r);
    Ok(())
}

/// `mod_authn_core.c: AuthType` (`None` unsets it).
pub fn set_auth_type(w: &mut Walker<'_>, a: &[String]) -> R {
    w.section_mut().authn.auth_type = (!a[0].eq_ignore_ascii_case("none")).then(|| a[0].clone());
    if let Some(t) = &w.section_mut().authn.auth_type
        && !t.eq_ignore_ascii_case("basic")
    {
        return Err(format!(
            "AuthType {t} is not supported by mpm-lab (it has mod_auth_basic only: AuthType Basic)"
        ));
    }
    Ok(())
}

/// `mod_authn_core.c: AuthName`.
pub fn set_auth_name(w: &mut Walker<'_>, a: &[String]) -> R {
    w.section_mut().authn.auth_name = Some(a[0].clone());
    Ok(())
}

/// `mod_auth_basic.c: add_authn_provider`.
pub fn set_auth_basic_provider(w: &mut Walker<'_>, a: &[String]) -> R {
    w.section_mut().authn.providers = Some(parse_providers(a)?);
    Ok(())
}

/// `mod_authn_file.c: set_authn_file_slot` (relative to ServerRoot).
pub fn set_auth_user_file(w: &mut Walker<'_>, a: &[String]) -> R {
    let path = w.root_relative(&a[0]);
    w.section_mut().authn.user_file = Some(path);
    Ok(())
}

/// The section's mod_access_compat settings, created by its first directive.
fn compat<'w>(w: &'w mut Walker<'_>) -> &'w mut AccessCompat {
    w.section_mut().compat.get_or_insert_with(Default::default)
}

/// `mod_access_compat.c: order`.
pub fn set_order(w: &mut Walker<'_>, a: &[String]) -> R {
    compat(w).order = Order::parse(&a[0])?;
    Ok(())
}

/// `mod_access_compat.c: satisfy`.
pub fn set_satisfy(w: &mut Walker<'_>, a: &[String]) -> R {
    compat(w).satisfy = Satisfy::parse(&a[0])?;
    Ok(())
}

/// `mod_access_compat.c: allow_cmd` for `Allow`.
pub fn add_allow(w: &mut Walker<'_>, a: &[String]) -> R {
    compat(w).allows.extend(parse_from(a)?);
    Ok(())
}

/// `mod_access_compat.c: allow_cmd` for `Deny`.
pub fn add_deny(w: &mut Walker<'_>, a: &[String]) -> R {
    compat(w).denys.extend(parse_from(a)?);
    Ok(())
}
