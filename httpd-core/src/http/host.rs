//! Host validation under `HttpProtocolOptions Strict` (Apache's default): `server/vhost.c:
//! fix_hostname` with `fix_hostname_v6_literal`, `fix_hostname_non_v6` and
//! `strict_hostname_check`, and the parts of APR's `apr_parse_addr_port` it relies on.
//!
//! The steps, in Apache's order:
//! 1. An empty value is no host at all (RFC 2616 allows a blank Host; an HTTP/1.1 request
//!    without one is then refused by AH00569, not here).
//! 2. A value of digits only is refused (RFC 3986 §7.4: AH02416).
//! 3. A Host header is split into address and port (`apr_parse_addr_port`): the port is the
//!    digits after the last `:` and must be 1–65535; a bracketed address must be a valid IPv6
//!    address (`inet_pton`) with no `%scope`. The host of an absolute URI was split already by
//!    the URI parser; there, a `:` left in the name marks an IPv6 literal.
//! 4. An IPv6 literal may hold hex digits, `:` and `.` only, at most one `::`, no `:.`, `.:`, `..`.
//! 5. Any other name: no `..`, no `/` or `\`, one trailing `.` dropped, lower-cased; then the
//!    strict check: letters, digits, `-`, `_` and `.` only; all digits and dots must be a
//!    dotted-quad without leading zeroes (so `0x7f.1`, `127.1`, `0177.0.0.1` are refused);
//!    otherwise the last label must start with a letter.

use std::net::Ipv6Addr;

/// Where the host came from: its checks differ in step 3.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostSource {
    /// The `Host` header: `name[:port]` or `[v6][:port]`.
    Header,
    /// The authority of an absolute-form request target, as our request-line parser keeps it
    /// (`name[:port]` or `[v6][:port]`; the URI parser has checked the port's digits).
    Uri,
}

/// `fix_hostname`: `Ok(None)` for an empty value, `Ok(Some(name))` with the lower-cased name
/// without port or trailing dot (an IPv6 literal keeps its brackets), `Err(())` for a 400.
#[allow(clippy::result_unit_err)]
pub fn fix_hostname(value: &str, source: HostSource) -> Result<Option<String>, ()> {
    // 1.
    if value.is_empty() {
        return Ok(None);
    }
    // 2.
    if value.bytes().all(|b| b.is_ascii_digit()) {
        return Err(());
    }
    // 3.
    let (host, v6) = match source {
        HostSource::Header => parse_addr_port(value)?,
        HostSource::Uri => split_uri_authority(value),
    };
    if v6 {
        // 4.
        return v6_literal(&host).map(|h| Some(format!("[{h}]")));
    }
    // 5.
    let name = non_v6(&host)?;
    strict_check(&name)?;
    Ok(Some(name))
}

/// `apr_parse_addr_port` for a Host header: (address, is an IPv6 literal).
fn parse_addr_port(s: &str) -> Result<(String, bool), ()> {
    let digits = s.bytes().rev().take_while(u8::is_ascii_digit).count();
    let mut addr = s;
    // "name:" keeps its colon in the name (the strict check refuses it); ":80" is refused.
    if digits > 0 && s.as_bytes().get(s.len() - digits - 1) == Some(&b':') {
        let colon = s.len() - digits - 1;
        if colon == 0 {
            return Err(());
        }
        // atoi of more digits than fit is out of range as well.
        let port: u32 = s[colon + 1..].parse().unwrap_or(u32::MAX);
        if !(1..=65535).contains(&port) {
            return Err(());
        }
        addr = &s[..colon];
    }
    if let Some(rest) = addr.strip_prefix('[') {
        let inner = rest.strip_suffix(']').ok_or(())?;
        if inner.contains('%') || inner.contains(']') || inner.parse::<Ipv6Addr>().is_err() {
            return Err(());
        }
        return Ok((inner.to_string(), true));
    }
    Ok((addr.to_string(), false))
}

/// The authority of an absolute URI: brackets and port removed as `apr_uri_parse` does.
fn split_uri_authority(s: &str) -> (String, bool) {
    if let Some(rest) = s.strip_prefix('[') {
        let inner = rest.split(']').next().unwrap_or(rest);
        return (inner.to_string(), true);
    }
    let name = match s.rsplit_once(':') {
        Some((n, p)) if p.bytes().all(|b| b.is_ascii_digit()) => n,
        _ => s,
    };
    (name.to_string(), name.contains(':'))
}

/// `fix_hostname_v6_literal`: lower-cased, or `Err` on a character or sequence it refuses.
fn v6_literal(host: &str) -> Result<String, ()> {
    let b = host.as_bytes();
    let mut double_colon = false;
    for (i, &c) in b.iter().enumerate() {
        let next = b.get(i + 1).copied();
        match c {
            c if c.is_ascii_hexdigit() => {}
            b':' if next == Some(b':') => {
                if double_colon {
                    return Err(());
                }
                double_colon = true;
            }
            b':' if next == Some(b'.') => return Err(()),
            b':' => {}
            b'.' if matches!(next, Some(b':' | b'.')) => return Err(()),
            b'.' => {}
            _ => return Err(()),
        }
    }
    Ok(host.to_ascii_lowercase())
}

/// `fix_hostname_non_v6`: no `..`, `/` or `\`; lower-cased; one trailing dot dropped.
fn non_v6(host: &str) -> Result<String, ()> {
    if host.contains("..") || host.contains(['/', '\\']) {
        return Err(());
    }
    let lower = host.to_ascii_lowercase();
    Ok(lower.strip_suffix('.').unwrap_or(&lower).to_string())
}

/// `strict_hostname_check` (logged by Apache as AH02415).
fn strict_check(host: &str) -> Result<(), ()> {
    let b = host.as_bytes();
    let (mut dotted_decimal, mut leading_zeroes, mut dots) = (true, false, 0);
    for (i, &c) in b.iter().enumerate() {
        if c.is_ascii_alphabetic() || c == b'-' || c == b'_' {
            dotted_decimal = false;
        } else if c == b'.' {
            dots += 1;
            if b.get(i + 1) == Some(&b'0') && b.get(i + 2).is_some_and(u8::is_ascii_digit) {
                leading_zeroes = true;
            }
        } else if !c.is_ascii_digit() {
            return Err(());
        }
    }
    if dotted_decimal {
        if b.first() == Some(&b'.')
            || (b.first() == Some(&b'0') && b.get(1).is_some_and(u8::is_ascii_digit))
        {
            leading_zeroes = true;
        }
        if leading_zeroes || dots != 3 {
            return Err(());
        }
        return Ok(());
    }
    // The top-level label must start with a letter (RFC 1123 §2.1).
    match host.rsplit_once('.') {
        Some((_, tld)) if !tld.is_empty() && !tld.as_bytes()[0].is_ascii_alphabetic() => Err(()),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(v: &str) -> Result<Option<String>, ()> {
        fix_hostname(v, HostSource::Header)
    }

    #[test]
    fn host_accepted_forms() {
        for (v, name) in [
            ("Example.COM", "example.com"),
            ("example.com.:8080", "example.com"),
            ("127.0.0.1:80", "127.0.0.1"),
            ("localhost", "localhost"),
            ("a_b-c", "a_b-c"),
            ("[::1]:80", "[::1]"),
            ("[::FFFF:129.144.52.38]", "[::ffff:129.144.52.38]"),
        ] {
            assert_eq!(header(v), Ok(Some(name.to_string())), "{v}");
        }
        assert_eq!(header(""), Ok(None));
    }

    #[test]
    fn host_strict_refusals() {
        for v in [
            "1234",
            "0x7f.0.0.1",
            "127.1",
            "0177.0.0.1",
            "127.000.0.1",
            "1.2.3.4.5",
            "example.1com",
            "a..b",
            "a/b",
            "h:0",
            "h:65536",
            ":80",
            "h:",
            "[::1",
            "[::1]x",
            "[fe80::1%eth0]",
            "[1:::2]",
            "[::1::2]",
            "[zz::1]",
            "[]",
            "a b",
            "a,b",
            "é.com",
        ] {
            assert_eq!(header(v), Err(()), "{v}");
        }
    }

    #[test]
    fn host_uri_authority() {
        let uri = |v| fix_hostname(v, HostSource::Uri);
        assert_eq!(uri("Example.com:8080"), Ok(Some("example.com".into())));
        assert_eq!(uri("[::1]:80"), Ok(Some("[::1]".into())));
        assert_eq!(uri("0x7f.1"), Err(()));
        assert_eq!(uri("1.2.3"), Err(()));
        assert_eq!(uri("[::1::2]"), Err(()));
    }
}
