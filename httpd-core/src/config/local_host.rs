//! The main server's name when the configuration gives no global `ServerName`
//! (`server/util.c: ap_get_local_host`, called by `vhost.c: ap_fini_vhost_config`).
//!
//! Apache's steps, which [`guess`] follows:
//!
//! 1. `gethostname()`; on failure AH00556 and `127.0.0.1`.
//! 2. Resolve that name (first address, any family); on failure AH00557 and `127.0.0.1`.
//! 3. The address's own name (`getnameinfo`, `NI_NAMEREQD`): if it holds a dot it is a fully
//!    qualified name, used silently.
//! 4. Otherwise the host name itself if it holds a dot, else the address as text; then (and
//!    after 1 and 2) AH00558 on the console: "Could not reliably determine the server's fully
//!    qualified domain name, using X".
//!
//! The name then stands wherever Apache uses `server_hostname`: `-S`, the scoreboard's vhost
//! column, `%v`, a signature or redirect for a request without `Host`. Only [`super::load`]
//! (the binaries) guesses; [`super::load_text`] (tests, the simulator) does not look names up.

use std::net::{IpAddr, ToSocketAddrs};

/// What [`guess`] found: the name and, unless it was a fully qualified name, the console lines
/// (AH00556/AH00557 and AH00558, `argv0:` first as in Apache's start-up messages).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalHost {
    pub name: String,
    pub messages: Vec<String>,
}

/// Steps 1–4 of the module doc; `argv0` is the binary's name (`mpm-event`), `hostname` and
/// `lookup`/`reverse` are the system's answers (parameters so the decision is testable).
pub fn decide(
    argv0: &str,
    hostname: Option<&str>,
    lookup: impl FnOnce(&str) -> Option<IpAddr>,
    reverse: impl FnOnce(IpAddr) -> Option<String>,
) -> LocalHost {
    let mut messages = Vec::new();
    let name = match hostname {
        None => {
            messages.push(format!(
                "AH00556: {argv0}: apr_gethostname() failed to determine ServerName"
            ));
            "127.0.0.1".to_string()
        }
        Some(host) => match lookup(host) {
            None => {
                messages.push(format!(
                    "AH00557: {argv0}: apr_sockaddr_info_get() failed for {host}"
                ));
                "127.0.0.1".to_string()
            }
            Some(ip) => match reverse(ip) {
                Some(fqdn) if fqdn.contains('.') => {
                    return LocalHost {
                        name: fqdn,
                        messages,
                    };
                }
                _ if host.contains('.') => host.to_string(),
                _ => ip.to_string(),
            },
        },
    };
    messages.push(format!(
        "AH00558: {argv0}: Could not reliably determine the server's fully qualified domain name, using {name}. Set the 'ServerName' directive globally to suppress this message"
    ));
    LocalHost { name, messages }
}

/// [`decide`] with this machine's answers.
pub fn guess(argv0: &str) -> LocalHost {
    // gethostname(2) answers the UTS node name, which Linux shows here too.
    let hostname = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty());
    decide(
        argv0,
        hostname.as_deref(),
        |h| (h, 0).to_socket_addrs().ok()?.next().map(|a| a.ip()),
        crate::modules::authz_host::reverse_lookup,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOOPBACK: IpAddr = IpAddr::V4(std::net::Ipv4Addr::LOCALHOST);

    #[test]
    fn config_local_host_as_ap_get_local_host() {
        // Debian in a container: "vm" is 127.0.0.1 in /etc/hosts, whose name is "localhost".
        let vm = decide(
            "apache2",
            Some("vm"),
            |_| Some(LOOPBACK),
            |_| Some("localhost".into()),
        );
        assert_eq!(vm.name, "127.0.0.1");
        assert_eq!(
            vm.messages,
            [
                "AH00558: apache2: Could not reliably determine the server's fully qualified domain name, using 127.0.0.1. Set the 'ServerName' directive globally to suppress this message"
            ]
        );
        let fqdn = decide(
            "x",
            Some("web"),
            |_| Some(LOOPBACK),
            |_| Some("web.example.org".into()),
        );
        assert_eq!(
            (fqdn.name.as_str(), fqdn.messages.len()),
            ("web.example.org", 0)
        );
        let dotted = decide("x", Some("web.lan"), |_| Some(LOOPBACK), |_| None);
        assert_eq!(
            (dotted.name.as_str(), dotted.messages.len()),
            ("web.lan", 1)
        );
        let unresolved = decide("x", Some("nowhere"), |_| None, |_| None);
        assert_eq!(unresolved.name, "127.0.0.1");
        assert!(
            unresolved.messages[0]
                .starts_with("AH00557: x: apr_sockaddr_info_get() failed for nowhere")
        );
        assert!(unresolved.messages[1].starts_with("AH00558: "));
    }
}
