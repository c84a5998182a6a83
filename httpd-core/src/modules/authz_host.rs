//! mod_authz_host's `Require` providers: `ip`, `host`, `forward-dns`, `local` (Apache
//! `modules/aaa/mod_authz_host.c`, with APR's `network_io/unix/sockaddr.c: apr_ipsubnet_create`
//! and `apr_ipsubnet_test`). mod_access_compat's `Allow from`/`Deny from` use the same matchers.
//!
//! - `ip`: a full address (`10.1.2.3`, `::1`), a partial IPv4 address (`10.1` = `10.1.0.0/16`),
//!   `net/len` or `net/a.b.c.d` (`netmask`). An IPv4 rule also matches an IPv4-mapped IPv6
//!   client (`::ffff:10.1.2.3`), as APR does.
//! - `host`: the client's name, found by a double-reverse lookup (name of the address, then the
//!   addresses of that name must include it: `REMOTE_DOUBLE_REV`), ends with the given domain on
//!   a dot boundary (`in_domain`), case-insensitively. No name: denied (AH01753).
//! - `forward-dns`: the given name resolves to the client's address.
//! - `local`: 127.0.0.0/8, `::1`, or the client address equals the server address.
//!
//! Left out: `HostnameLookups` (we look names up only for `host` rules, which Apache does too
//! when the directive is off: `ap_get_useragent_host` with `REMOTE_DOUBLE_REV`) and caching the
//! looked-up name on the connection (each request asks the resolver again).
#![allow(unsafe_code)]

use std::net::{IpAddr, Ipv4Addr, ToSocketAddrs};

/// One `ip` rule: network and mask (APR keeps both, so a non-contiguous netmask works too).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IpMask {
    V4 { net: u32, mask: u32 },
    V6 { net: u128, mask: u128 },
}

impl IpMask {
    /// `apr_ipsubnet_create(ip, mask)`: `Err` with Apache's reason when it is not an address.
    pub fn parse(word: &str) -> Result<IpMask, String> {
        let bad = || format!("ip address '{word}' appears to be invalid");
        let (ip, len) = match word.split_once('/') {
            Some((ip, len)) => (ip, Some(len)),
            None => (ip_part(word), None),
        };
        if let Ok(v6) = ip.parse::<std::net::Ipv6Addr>() {
            let bits = match len {
                None => 128,
                Some(l) => l
                    .parse::<u32>()
                    .ok()
                    .filter(|b| *b <= 128)
                    .ok_or_else(bad)?,
            };
            let mask = u128::MAX.checked_shl(128 - bits).unwrap_or(0);
            return Ok(IpMask::V6 {
                net: u128::from(v6) & mask,
                mask,
            });
        }
        // IPv4, possibly partial: each given octet adds 8 bits to the mask.
        let octets: Vec<&str> = ip.split('.').collect();
        if octets.is_empty() || octets.len() > 4 {
            return Err(bad());
        }
        let mut net = 0u32;
        for (i, o) in octets.iter().enumerate() {
            let v: u8 = o.parse().map_err(|_| bad())?;
            net |= u32::from(v) << (24 - 8 * i);
        }
        let implied = u32::MAX
            .checked_shl(32 - 8 * octets.len() as u32)
            .unwrap_or(0);
        let mask = match len {
            None => implied,
            // A network with an explicit mask must be a full address.
            Some(_) if octets.len() != 4 => return Err(bad()),
            Some(l) if l.contains('.') => u32::from(l.parse::<Ipv4Addr>().map_err(|_| bad())?),
            Some(l) => {
                let bits = l.parse::<u32>().ok().filter(|b| *b <= 32).ok_or_else(bad)?;
                u32::MAX.checked_shl(32 - bits).unwrap_or(0)
            }
        };
        Ok(IpMask::V4 {
            net: net & mask,
            mask,
        })
    }

    /// `apr_ipsubnet_test`.
    pub fn matches(&self, client: IpAddr) -> bool {
        let client = match client {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(client, IpAddr::V4),
            v4 => v4,
        };
        match (self, client) {
            (IpMask::V4 { net, mask }, IpAddr::V4(c)) => u32::from(c) & mask == *net,
            (IpMask::V6 { net, mask }, IpAddr::V6(c)) => u128::from(c) & mask == *net,
            _ => false,
        }
    }
}

/// A bare word: `10.1.` is accepted as `10.1` (APR strips one trailing dot of a partial address).
fn ip_part(word: &str) -> &str {
    if word.contains(':') {
        word
    } else {
        word.strip_suffix('.').unwrap_or(word)
    }
}

/// `Require ip a b c`: every word parsed, `Err` naming the first bad one.
pub fn parse_ip_list(words: &[&str]) -> Result<Vec<IpMask>, String> {
    if words.is_empty() {
        return Err("'Require ip' requires an argument".into());
    }
    words.iter().map(|w| IpMask::parse(w)).collect()
}

/// `Require local`.
pub fn is_local(client: IpAddr, local: IpAddr) -> bool {
    let client = match client {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(client, IpAddr::V4),
        v4 => v4,
    };
    client.is_loopback() || client == local
}

/// `in_domain` of mod_authz_host: `what` ends with `domain` on a label boundary.
pub fn in_domain(domain: &str, what: &str) -> bool {
    let (dl, wl) = (domain.len(), what.len());
    if dl > wl || !what.is_char_boundary(wl - dl) {
        return false;
    }
    if !what[wl - dl..].eq_ignore_ascii_case(domain) {
        return false;
    }
    dl == wl || domain.starts_with('.') || what.as_bytes()[wl - dl - 1] == b'.'
}

/// `ap_get_useragent_host(r, REMOTE_DOUBLE_REV)`: the client's name if its address has one and
/// that name resolves back to the address.
pub fn double_reverse_name(client: IpAddr) -> Option<String> {
    let name = reverse_lookup(client)?;
    resolves_to(&name, client).then_some(name)
}

/// `Require forward-dns name`: `name` resolves to `client`.
pub fn resolves_to(name: &str, client: IpAddr) -> bool {
    (name, 0)
        .to_socket_addrs()
        .map(|mut it| it.any(|a| a.ip() == client))
        .unwrap_or(false)
}

/// `getnameinfo(NI_NAMEREQD)`: the address's name, `None` without one.
pub(crate) fn reverse_lookup(ip: IpAddr) -> Option<String> {
    let sa = socket2::SockAddr::from(std::net::SocketAddr::new(ip, 0));
    let mut host = [0 as libc::c_char; libc::NI_MAXHOST as usize];
    // SAFETY: `sa` is a valid sockaddr of `sa.len()` bytes; `host` is a writable buffer whose
    // length we pass; no service buffer is requested (null, 0). getnameinfo is thread-safe.
    let rc = unsafe {
        libc::getnameinfo(
            sa.as_ptr().cast(),
            sa.len(),
            host.as_mut_ptr(),
            host.len() as libc::socklen_t,
            std::ptr::null_mut(),
            0,
            libc::NI_NAMEREQD,
        )
    };
    if rc != 0 {
        return None;
    }
    // SAFETY: on success getnameinfo wrote a NUL-terminated string into `host`.
    let name = unsafe { std::ffi::CStr::from_ptr(host.as_ptr()) };
    Some(name.to_string_lossy().into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn authz_host_ip_forms() {
        let m = |r: &str, c: &str| IpMask::parse(r).unwrap().matches(ip(c));
        assert!(m("10.1.2.3", "10.1.2.3"));
        assert!(!m("10.1.2.3", "10.1.2.4"));
        assert!(m("10.1", "10.1.200.7"));
        assert!(m("10.1.", "10.1.200.7"));
        assert!(!m("10.1", "10.2.0.1"));
        assert!(m("192.168.0.0/16", "192.168.44.1"));
        assert!(m("192.168.0.0/255.255.0.0", "192.168.44.1"));
        assert!(!m("192.168.0.0/24", "192.168.1.1"));
        assert!(m("127.0.0.1", "::ffff:127.0.0.1"));
        assert!(m("2001:db8::/32", "2001:db8:1::5"));
        assert!(!m("2001:db8::/32", "2001:db9::5"));
        assert!(!m("::1", "127.0.0.1"));
        assert!(m("0.0.0.0/0", "8.8.8.8"));
        for bad in ["10.1.2.300", "abc", "10.1/16", "10.0.0.0/33", "::1/129", ""] {
            assert!(IpMask::parse(bad).is_err(), "{bad}");
        }
        assert!(parse_ip_list(&[]).is_err());
    }

    #[test]
    fn authz_host_in_domain_and_local() {
        assert!(in_domain("example.org", "www.Example.ORG"));
        assert!(in_domain("example.org", "example.org"));
        assert!(!in_domain("example.org", "badexample.org"));
        assert!(in_domain(".org", "x.org"));
        assert!(!in_domain("www.example.org", "example.org"));
        assert!(is_local(ip("127.0.0.5"), ip("10.0.0.1")));
        assert!(is_local(ip("::1"), ip("10.0.0.1")));
        assert!(is_local(ip("10.0.0.1"), ip("10.0.0.1")));
        assert!(!is_local(ip("10.0.0.2"), ip("10.0.0.1")));
        // /etc/hosts has localhost on every Debian system.
        assert!(resolves_to("localhost", ip("127.0.0.1")));
        assert!(!resolves_to("localhost", ip("10.9.9.9")));
    }
}
