//! Apache modules that are built into every mpm-lab binary but stay off until the configuration
//! loads them with `LoadModule`, as Debian's `a2enmod` does with a shared object
//! ([`crate::config::modules::LOADABLE_MODULES`]). Until then their directives are an
//! "Invalid command" and `<IfModule>` is false, exactly as with Apache.
//!
//! | module | Apache |
//! |---|---|
//! | [`reqtimeout`] | `modules/filters/mod_reqtimeout.c` |

pub mod reqtimeout;
