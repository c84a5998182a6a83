//! `<VirtualHost>`: which server answers a request (`server/vhost.c`).
//!
//! Selection, once per request, in Apache's two steps:
//!
//! 1. **By address** (`ap_update_vhost_given_ip`): the vhosts whose address is the
//!    connection's local `IP:port` exactly (IP-based); if there are none, those declared for
//!    `*:port`, `*` or `_default_` with a matching port (or no port). If still none, the main
//!    server answers.
//! 2. **By name** (`ap_update_vhost_from_headers`, `check_hostalias`): among those candidates,
//!    the first whose `ServerName` or a `ServerAlias` (wildcards allowed) equals the request's
//!    host (case-insensitive, port stripped); none matching: the first candidate, the
//!    default of that address.
//!
//! A vhost's settings are merged over the main server's at the end of the configuration
//! (`ap_fixup_virtual_hosts`): an unset `DocumentRoot` or `ServerAdmin` is the main server's,
//! and its sections come after the main server's (`<Directory>` sections are then sorted again).
//! A vhost's `ErrorLog`/`LogLevel` and `CustomLog`s, when it has them, replace the main
//! server's for the requests it answers (`crate::http` opens them at start).

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;

use super::sections::{SectionTable, fnmatch};
use super::server::{CustomLog, ErrorLogTarget, LogLevelConfig, Section, ServerConfig};
use super::walk::Walker;

/// One address of a `<VirtualHost>` line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VhostAddr {
    /// `None` for `*` and `_default_`.
    pub ip: Option<IpAddr>,
    /// `None` for no port or `:*`.
    pub port: Option<u16>,
}

impl VhostAddr {
    /// `vhost.c: get_addresses` for one word: `*`, `*:80`, `_default_:443`, `1.2.3.4:80`,
    /// `[::1]:80`. Host names are not resolved (Apache does; mpm-lab refuses them).
    pub fn parse(word: &str) -> Result<VhostAddr, String> {
        let (host, port) = if let Some(rest) = word.strip_prefix('[') {
            let (h, after) = rest
                .split_once(']')
                .ok_or_else(|| format!("Could not resolve host name {word} -- ignoring!"))?;
            (h, after.strip_prefix(':'))
        } else {
            match word.rsplit_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (word, None),
            }
        };
        let port = match port {
            None | Some("*") => None,
            Some(p) => Some(
                p.parse::<u16>()
                    .map_err(|_| format!("The address or port is invalid: {word}"))?,
            ),
        };
        let ip = match host {
            "*" | "_default_" => None,
            h => Some(h.parse::<IpAddr>().map_err(|_| {
                format!(
                    "mpm-lab: <VirtualHost {word}>: only IP addresses, '*' and '_default_' are supported (no DNS lookups at start-up)"
                )
            })?),
        };
        Ok(VhostAddr { ip, port })
    }

    fn port_matches(&self, port: u16) -> bool {
        self.port.is_none_or(|p| p == port)
    }
}

/// One `<VirtualHost>` section, merged over the main server at the end of the configuration.
#[derive(Debug, Clone, Default)]
pub struct VirtualHost {
    pub addrs: Vec<VhostAddr>,
    /// Where it was declared (for `-S`).
    pub file: String,
    pub line: u32,
    /// `ServerName` (as written, port included); unset: the main server's.
    pub server_name: Option<String>,
    /// `ServerAlias` names (lower case; may hold wildcards).
    pub aliases: Vec<String>,
    pub server_admin: Option<String>,
    /// Absolute; the main server's when the vhost sets none.
    pub document_root: PathBuf,
    /// The vhost's own sections (the main server's are added in [`VirtualHost::table`]).
    pub directories: Vec<Section>,
    pub locations: Vec<Section>,
    pub base_section: Section,
    /// `ErrorLog` of this vhost; `None`: the main server's.
    pub error_log: Option<ErrorLogTarget>,
    /// `ErrorLogFormat` of this vhost, merged over the main server's; `None`: the main server's.
    pub error_log_format: Option<crate::log::errorlog_format::ErrorLogFormat>,
    /// `LogLevel` of this vhost (starting from the main server's); `None`: the main server's.
    pub log_level: Option<LogLevelConfig>,
    /// `CustomLog`/`TransferLog` of this vhost; empty: requests go to the main server's logs
    /// (Apache: a vhost without its own logs uses the main server's).
    pub custom_logs: Vec<CustomLog>,
    /// `RequestReadTimeout` inside this vhost (stages it leaves unset are the main server's).
    pub request_read_timeout_setting: crate::modules::reqtimeout::ReqTimeoutSetting,
    /// The stages in force for this vhost once merged (`None`: off, or the module not loaded).
    pub request_read_timeout: Option<crate::modules::reqtimeout::ReqTimeout>,
    /// `(path, format-or-nickname)` until [`super::walk::Walker::finish`] resolves nicknames.
    pub(super) pending_logs: Vec<(PathBuf, String)>,
}

impl VirtualHost {
    /// `ServerName` without a port, lower case.
    pub fn name(&self) -> Option<String> {
        self.server_name
            .as_deref()
            .map(|n| bare_name(n).to_ascii_lowercase())
    }

    /// `check_hostalias`: ServerName exactly, or a ServerAlias (with wildcards).
    pub fn answers_to(&self, host: &str) -> bool {
        self.server_name
            .as_deref()
            .is_some_and(|n| bare_name(n).eq_ignore_ascii_case(host))
            || self
                .aliases
                .iter()
                .any(|a| fnmatch(a.as_bytes(), host.as_bytes()))
    }

    /// The vhost's sections after the main server's, sorted (`merge_core_dir_configs`).
    pub fn table(&self, main: &ServerConfig) -> SectionTable {
        let after_main =
            |m: &[Section], own: &[Section]| m.iter().chain(own).cloned().collect::<Vec<_>>();
        let dirs = after_main(&main.directories, &self.directories);
        let locs = after_main(&main.locations, &self.locations);
        let mut base = main.base_section.clone();
        super::sections::merge_settings(&mut base, &self.base_section);
        base.files.extend(self.base_section.files.iter().cloned());
        SectionTable::build(&base, &dirs, &locs)
    }
}

/// Step 1 and 2 of the module doc: the index in `vhosts` of the server for a request on
/// `local` with `host` (lower case, no port), or `None` for the main server.
pub fn select(vhosts: &[VirtualHost], local: SocketAddr, host: Option<&str>) -> Option<usize> {
    if vhosts.is_empty() {
        return None;
    }
    let ip = canonical(local.ip());
    let port = local.port();
    let exact = |v: &VirtualHost| {
        v.addrs
            .iter()
            .any(|a| a.ip.map(canonical) == Some(ip) && a.port_matches(port))
    };
    let wildcard = |v: &VirtualHost| {
        v.addrs
            .iter()
            .any(|a| a.ip.is_none() && a.port_matches(port))
    };
    // Step 1 without allocating: IP-based candidates if there are any, else wildcard ones.
    let is_candidate: &dyn Fn(&VirtualHost) -> bool = if vhosts.iter().any(exact) {
        &exact
    } else {
        &wildcard
    };
    let mut candidates = vhosts
        .iter()
        .enumerate()
        .filter(|(_, v)| is_candidate(v))
        .map(|(i, _)| i);
    let first = candidates.next()?;
    // Step 2.
    let Some(h) = host else { return Some(first) };
    if vhosts[first].answers_to(h) {
        return Some(first);
    }
    Some(
        candidates
            .find(|&i| vhosts[i].answers_to(h))
            .unwrap_or(first),
    )
}

/// `ServerName [scheme://]name[:port]` → `name`.
fn bare_name(n: &str) -> &str {
    let n = n.split_once("://").map_or(n, |(_, rest)| rest);
    n.rsplit_once(':')
        .filter(|(_, p)| p.bytes().all(|b| b.is_ascii_digit()))
        .map_or(n, |(h, _)| h)
}

/// IPv4-mapped IPv6 addresses compare as IPv4 (a dual-stack listener reports them).
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// `-S` / `-t -D DUMP_VHOSTS`: Apache's "VirtualHost configuration:" table
/// (`vhost.c: ap_dump_vhost_config`).
pub fn dump_vhosts(cfg: &ServerConfig) -> String {
    let mut out = String::from("VirtualHost configuration:\n");
    // Group by address as Apache does: one block per IP:port with the name list under it.
    let mut groups: Vec<(String, Vec<usize>)> = Vec::new();
    for (i, v) in cfg.vhosts.iter().enumerate() {
        for a in &v.addrs {
            let key = format!(
                "{}:{}",
                a.ip.map_or_else(|| "*".to_string(), |ip| ip.to_string()),
                a.port.map_or_else(|| "*".to_string(), |p| p.to_string())
            );
            match groups.iter_mut().find(|(k, _)| *k == key) {
                Some((_, list)) => list.push(i),
                None => groups.push((key, vec![i])),
            }
        }
    }
    let main_name = cfg
        .server_name
        .clone()
        .unwrap_or_else(|| "localhost".into());
    for (key, list) in &groups {
        let v = &cfg.vhosts[list[0]];
        let name = v.name().unwrap_or_else(|| main_name.clone());
        if list.len() == 1 {
            out.push_str(&format!("{key:<22} {name} ({}:{})\n", v.file, v.line));
            continue;
        }
        out.push_str(&format!("{key:<22} is a NameVirtualHost\n"));
        for (n, &i) in list.iter().enumerate() {
            let v = &cfg.vhosts[i];
            let name = v.name().unwrap_or_else(|| main_name.clone());
            let pad = "         ";
            if n == 0 {
                out.push_str(&format!(
                    "{pad}default server {name} ({}:{})\n",
                    v.file, v.line
                ));
            }
            out.push_str(&format!(
                "{pad}port {} namevhost {name} ({}:{})\n",
                key.rsplit_once(':').map_or("*", |(_, p)| p),
                v.file,
                v.line
            ));
            for a in &v.aliases {
                let wild = if a.contains(['*', '?']) { "wild " } else { "" };
                out.push_str(&format!("{pad}        {wild}alias {a}\n"));
            }
        }
    }
    out
}

/// `core.c: set_server_alias`: only inside `<VirtualHost>`.
pub fn set_server_alias(w: &mut Walker<'_>, a: &[String]) -> Result<(), String> {
    let Some(v) = w.vhost.as_mut() else {
        return Err("ServerAlias only used in <VirtualHost>".into());
    };
    v.aliases.extend(a.iter().map(|n| n.to_ascii_lowercase()));
    Ok(())
}

/// `core.c: set_use_canonical_name`. `DNS` would need a reverse lookup of the local address
/// per request: refused, like `HostnameLookups On`.
pub fn set_use_canonical_name(w: &mut Walker<'_>, a: &[String]) -> Result<(), String> {
    w.cfg.use_canonical_name = match a[0].to_ascii_lowercase().as_str() {
        "on" => true,
        "off" => false,
        "dns" => {
            return Err(
                "mpm-lab: UseCanonicalName DNS is not supported (no DNS lookups); use On or Off"
                    .into(),
            );
        }
        _ => return Err("parameter must be 'on', 'off', or 'dns'".into()),
    };
    Ok(())
}

/// `core.c: set_protocols`. Apache 2.4 without mod_http2 (and mpm-lab has none) serves
/// HTTP/1.x whatever the list says and never negotiates `h2`/`h2c` (checked against Debian's
/// apache2: `Protocols h2` alone still answers HTTP/1.1 requests and ignores `Upgrade: h2c`),
/// so the list changes nothing here: the names are only checked to be tokens.
pub fn set_protocols(_: &mut Walker<'_>, a: &[String]) -> Result<(), String> {
    match a.iter().find(|p| p.is_empty() || p.contains(['"', ','])) {
        Some(p) => Err(format!("Protocols: invalid protocol name '{p}'")),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vh(addr: &str, name: &str, aliases: &[&str]) -> VirtualHost {
        VirtualHost {
            addrs: vec![VhostAddr::parse(addr).unwrap()],
            server_name: Some(name.into()),
            aliases: aliases.iter().map(|a| a.to_string()).collect(),
            ..VirtualHost::default()
        }
    }

    #[test]
    fn select_by_address_then_name_first_is_default() {
        let v = vec![
            vh("*:80", "a.example", &[]),
            vh("*:80", "b.example:80", &["*.b.example"]),
            vh("127.0.0.2:80", "ip.example", &[]),
            vh("_default_:8080", "other", &[]),
        ];
        let l: SocketAddr = "127.0.0.1:80".parse().unwrap();
        assert_eq!(select(&v, l, Some("b.example")), Some(1));
        assert_eq!(select(&v, l, Some("www.b.example")), Some(1));
        assert_eq!(select(&v, l, Some("unknown")), Some(0), "first is default");
        assert_eq!(select(&v, l, None), Some(0));
        let ip: SocketAddr = "127.0.0.2:80".parse().unwrap();
        assert_eq!(select(&v, ip, Some("a.example")), Some(2), "IP-based wins");
        assert_eq!(select(&v, "127.0.0.1:8080".parse().unwrap(), None), Some(3));
        assert_eq!(select(&v, "127.0.0.1:81".parse().unwrap(), None), None);
    }

    #[test]
    fn parse_addresses() {
        assert_eq!(
            VhostAddr::parse("[::1]:8080").unwrap(),
            VhostAddr {
                ip: Some("::1".parse().unwrap()),
                port: Some(8080)
            }
        );
        assert_eq!(VhostAddr::parse("*").unwrap().port, None);
        assert!(VhostAddr::parse("www.example.com:80").is_err());
    }
}
