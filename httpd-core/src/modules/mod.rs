//! Apache modules that are built into every mpm-lab binary but stay off until the configuration
//! loads them with `LoadModule`, as Debian's `a2enmod` does with a shared object
//! ([`crate::config::modules::LOADABLE_MODULES`]). Until then their directives are an
//! "Invalid command" and `<IfModule>` is false, exactly as with Apache.
//!
//! | module | Apache |
//! |---|---|
//! | [`reqtimeout`] | `modules/filters/mod_reqtimeout.c` |
//! | [`alias`] | `modules/mappers/mod_alias.c` |
//! | [`cgi_script`] | `server/util_script.c`, `modules/generators/cgi_common.h` |
//! | [`cgi`] | `modules/generators/mod_cgi.c` |
//! | [`cgid`] | `modules/generators/mod_cgid.c` |

pub mod alias;
pub mod cgi;
pub mod cgi_handler;
pub mod cgi_script;
pub mod cgid;
pub mod reqtimeout;
