//! `ServerTokens` and `ServerSignature` (`core.c: set_serv_tokens, ap_get_server_banner`,
//! `ap_psignature`): what the `Server` header and the line under error pages say.
//!
//! Apache builds its banner once at start-up from ServerTokens; so do we, with mpm-lab's
//! product name and version in place of Apache's:
//!
//! | ServerTokens | Server header |
//! |---|---|
//! | `Prod` | `mpm-lab` |
//! | `Major` | `mpm-lab/0` |
//! | `Minor` | `mpm-lab/0.1` |
//! | `Min[imal]` | `mpm-lab/0.1.0` |
//! | `OS`, `Full` (default) | `mpm-lab/0.1.0 (Unix)` (we add no module tokens to Full) |

use crate::config::ServerConfig;

const PRODUCT: &str = "mpm-lab";
const VERSION: &str = env!("CARGO_PKG_VERSION");

/// `ap_get_server_banner` for a `ServerTokens` value as stored by the config (`Prod`, `Major`,
/// `Minor`, `Minimal`, `OS`, `Full`).
pub fn server_banner(tokens: &str) -> String {
    let mut parts = VERSION.split('.');
    let major = parts.next().unwrap_or("0");
    let minor = parts.next().unwrap_or("0");
    match tokens {
        "Prod" => PRODUCT.to_string(),
        "Major" => format!("{PRODUCT}/{major}"),
        "Minor" => format!("{PRODUCT}/{major}.{minor}"),
        "Minimal" => format!("{PRODUCT}/{VERSION}"),
        _ => crate::SERVER_VERSION.to_string(),
    }
}

/// `ap_psignature("<hr>\n", r)`: empty with `ServerSignature Off`; with `On` the banner, host
/// and port; with `EMail` the host links to `mailto:ServerAdmin`.
pub fn signature(cfg: &ServerConfig, banner: &str, host: &str, port: u16, admin: &str) -> String {
    psignature(cfg, "<hr>\n", banner, host, port, admin)
}

/// `ap_psignature(prefix, r)`: [`signature`] with another prefix (mod_autoindex: none).
pub fn psignature(
    cfg: &ServerConfig,
    prefix: &str,
    banner: &str,
    host: &str,
    port: u16,
    admin: &str,
) -> String {
    match cfg.server_signature.as_str() {
        "On" => format!("{prefix}<address>{banner} Server at {host} Port {port}</address>\n"),
        "EMail" => format!(
            "{prefix}<address>{banner} Server at <a href=\"mailto:{admin}\">{host}</a> Port {port}</address>\n"
        ),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn banner_per_server_tokens() {
        assert_eq!(server_banner("Prod"), "mpm-lab");
        assert!(
            server_banner("Major").starts_with("mpm-lab/") && !server_banner("Major").contains('.')
        );
        assert_eq!(server_banner("Minimal"), format!("mpm-lab/{VERSION}"));
        assert_eq!(server_banner("Full"), crate::SERVER_VERSION);
        let mut cfg = ServerConfig::with_defaults(std::path::Path::new("/srv"));
        assert_eq!(signature(&cfg, "b", "h", 80, "a"), "");
        cfg.server_signature = "On".into();
        assert_eq!(
            signature(&cfg, "b", "h", 8080, "a"),
            "<hr>\n<address>b Server at h Port 8080</address>\n"
        );
        cfg.server_signature = "EMail".into();
        assert!(signature(&cfg, "b", "h", 80, "a@x").contains("<a href=\"mailto:a@x\">h</a>"));
    }
}
