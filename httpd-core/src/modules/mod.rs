//! Apache modules that are built into every mpm-lab binary but stay off until the configuration
//! loads them with `LoadModule`, as Debian's `a2enmod` does with a shared object
//! ([`crate::config::modules::LOADABLE_MODULES`]). Until then their directives are an
//! "Invalid command" and `<IfModule>` is false, exactly as with Apache.
//!
//! | module | Apache |
//! |---|---|
//! | [`reqtimeout`] | `modules/filters/mod_reqtimeout.c` |
//! | [`access_compat`] | `modules/aaa/mod_access_compat.c` |
//! | [`auth_basic`] | `modules/aaa/mod_auth_basic.c`, `mod_authn_core.c` |
//! | [`authn_file`] | `modules/aaa/mod_authn_file.c`, APR `apr_passwd.c`, `apr_md5.c` |
//! | [`authz_host`] | `modules/aaa/mod_authz_host.c` (built in, as `authz_core`) |
//! | [`setenvif`] | `modules/metadata/mod_setenvif.c` |
//! | [`env`] | `modules/metadata/mod_env.c` |
//! | [`headers`] | `modules/metadata/mod_headers.c` (`Header`, `RequestHeader`) |
//! | [`authz`] | `modules/aaa/mod_authz_core.c`, `mod_authz_user.c`, `server/request.c` |
//! | [`alias`] | `modules/mappers/mod_alias.c` |
//! | [`autoindex`] | `modules/generators/mod_autoindex.c` |
//! | [`cgi_script`] | `server/util_script.c`, `modules/generators/cgi_common.h` |
//! | [`cgi`] | `modules/generators/mod_cgi.c` |
//! | [`cgi_scriptlog`] | `modules/generators/cgi_common.h: log_scripterror`, `mod_cgi.c: log_script` |
//! | [`cgid`] | `modules/generators/mod_cgid.c` |
//! | [`mime`] | `modules/http/mod_mime.c` (per-directory mappings; built in) |
//! | [`negotiation`], [`negotiation_accept`], [`negotiation_quality`], [`negotiation_map`] | `modules/mappers/mod_negotiation.c` |
//! | [`deflate`] | `modules/filters/mod_deflate.c` (the DEFLATE output filter) |
//! | [`filter`] | `modules/filters/mod_filter.c` (`AddOutputFilterByType`), core's `SetOutputFilter` |

pub mod access_compat;
pub mod alias;
pub mod auth_basic;
pub mod authn_file;
pub mod authz;
pub mod authz_host;
pub mod autoindex;
pub mod cgi;
pub mod cgi_bucket;
pub mod cgi_handler;
pub mod cgi_script;
pub mod cgi_scriptlog;
pub mod cgid;
pub mod deflate;
pub mod env;
pub mod filter;
pub mod headers;
pub mod mime;
pub mod negotiation;
pub mod negotiation_accept;
pub mod negotiation_map;
pub mod negotiation_quality;
pub mod reqtimeout;
pub mod setenvif;
