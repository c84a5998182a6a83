//! mod_access_compat: Apache 2.2's `Order`, `Allow`, `Deny` and `Satisfy`, kept in 2.4 for old
//! configurations (Apache `modules/aaa/mod_access_compat.c: check_dir_access`, `find_allowdeny`).
//!
//! 1. `Order Deny,Allow` (the default): denied if a `Deny` matches, then allowed again if an
//!    `Allow` matches; no match at all is allowed.
//!    `Order Allow,Deny`: denied unless an `Allow` matches, and a matching `Deny` wins.
//!    `Order Mutual-failure`: allowed only if an `Allow` matches and no `Deny` does.
//! 2. Each `Allow from`/`Deny from` word is `all`, `env=VAR`/`env=!VAR`, an IP rule (see
//!    [`super::authz_host::IpMask`]) or a domain matched against the double-reverse host name.
//! 3. A denial is 403 with AH01797 — unless `Satisfy Any`, where passing `Allow` is enough on its
//!    own and failing it hands the decision to `Require` and authentication (see
//!    [`super::authz::check_access`], which follows `request.c: ap_process_request_internal`).
//! 4. The module has no merge function: the settings of the last section (in merge order) that
//!    uses any of its directives replace everything before, `Order`, rules and `Satisfy` alike.
//!
//! Left out: `<Limit>`-scoped rules (Apache keeps them per method); our rules apply to every
//! method.

use std::net::IpAddr;

use super::authz_host::{IpMask, double_reverse_name, in_domain};

/// `Order`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Order {
    #[default]
    DenyAllow,
    AllowDeny,
    MutualFailure,
}

/// `Satisfy` (`SATISFY_NOSPEC` behaves as `All`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Satisfy {
    #[default]
    All,
    Any,
}

/// One `from` word.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum From {
    All,
    Env(String),
    NotEnv(String),
    Ip(IpMask),
    Host(String),
}

/// One section's mod_access_compat settings.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AccessCompat {
    pub order: Order,
    pub allows: Vec<From>,
    pub denys: Vec<From>,
    pub satisfy: Satisfy,
}

impl Order {
    /// `Order` argument, `Err` with Apache's message.
    pub fn parse(arg: &str) -> Result<Order, String> {
        match arg.to_ascii_lowercase().as_str() {
            "allow,deny" => Ok(Order::AllowDeny),
            "deny,allow" => Ok(Order::DenyAllow),
            "mutual-failure" => Ok(Order::MutualFailure),
            _ => Err("unknown order".into()),
        }
    }
}

impl Satisfy {
    pub fn parse(arg: &str) -> Result<Satisfy, String> {
        match arg.to_ascii_lowercase().as_str() {
            "all" => Ok(Satisfy::All),
            "any" => Ok(Satisfy::Any),
            _ => Err("Satisfy either 'any' or 'all'.".into()),
        }
    }
}

/// `allow_cmd`: `Allow from word…` (the first word must be `from`).
pub fn parse_from(args: &[String]) -> Result<Vec<From>, String> {
    match args.split_first() {
        Some((from, rest)) if from.eq_ignore_ascii_case("from") && !rest.is_empty() => {
            rest.iter().map(|w| parse_word(w)).collect()
        }
        _ => Err("allow and deny must be followed by 'from'".into()),
    }
}

fn parse_word(w: &str) -> Result<From, String> {
    if w.eq_ignore_ascii_case("all") {
        return Ok(From::All);
    }
    if let Some(var) = w.strip_prefix("env=") {
        return Ok(match var.strip_prefix('!') {
            Some(v) => From::NotEnv(v.to_string()),
            None => From::Env(var.to_string()),
        });
    }
    // Apache tries an address first; a word that is not one but looks numeric is an error.
    match IpMask::parse(w) {
        Ok(m) => Ok(From::Ip(m)),
        Err(_) if w.contains('/') || w.bytes().all(|b| b.is_ascii_digit() || b == b'.') => {
            Err(format!("An IP address was expected: {w}"))
        }
        Err(_) => Ok(From::Host(w.to_string())),
    }
}

/// What a request brings to the rules.
pub struct Client<'a> {
    pub ip: IpAddr,
    /// Whether an environment variable (mod_setenvif, mod_env) is set.
    pub env: &'a dyn Fn(&str) -> bool,
}

/// `find_allowdeny`: does any rule match? The host name is looked up once, at the first domain
/// rule.
fn find(rules: &[From], c: &Client<'_>) -> bool {
    let mut host: Option<Option<String>> = None;
    rules.iter().any(|r| match r {
        From::All => true,
        From::Env(v) => (c.env)(v),
        From::NotEnv(v) => !(c.env)(v),
        From::Ip(m) => m.matches(c.ip),
        From::Host(d) => host
            .get_or_insert_with(|| double_reverse_name(c.ip))
            .as_deref()
            .is_some_and(|h| in_domain(d, h)),
    })
}

impl AccessCompat {
    /// Step 1, `check_dir_access`: whether the client passes.
    pub fn allows(&self, c: &Client<'_>) -> bool {
        match self.order {
            Order::AllowDeny => find(&self.allows, c) && !find(&self.denys, c),
            Order::DenyAllow => !find(&self.denys, c) || find(&self.allows, c),
            Order::MutualFailure => find(&self.allows, c) && !find(&self.denys, c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    fn cfg(order: &str, allow: &str, deny: &str) -> AccessCompat {
        AccessCompat {
            order: Order::parse(order).unwrap(),
            allows: if allow.is_empty() {
                vec![]
            } else {
                parse_from(&words(allow)).unwrap()
            },
            denys: if deny.is_empty() {
                vec![]
            } else {
                parse_from(&words(deny)).unwrap()
            },
            satisfy: Satisfy::All,
        }
    }

    fn passes(a: &AccessCompat, ip: &str, env: &[&str]) -> bool {
        let f = |v: &str| env.contains(&v);
        a.allows(&Client {
            ip: ip.parse().unwrap(),
            env: &f,
        })
    }

    #[test]
    fn access_compat_order_semantics() {
        // Deny,Allow: default allow; Deny from all + Allow from 10.1 lets 10.1 in.
        assert!(passes(&cfg("Deny,Allow", "", ""), "1.2.3.4", &[]));
        let da = cfg("Deny,Allow", "from 10.1", "from all");
        assert!(passes(&da, "10.1.0.9", &[]));
        assert!(!passes(&da, "10.2.0.9", &[]));
        // Allow,Deny: default deny; a matching Deny wins over Allow.
        assert!(!passes(&cfg("Allow,Deny", "", ""), "1.2.3.4", &[]));
        let ad = cfg("Allow,Deny", "from all", "from 10.1.2.3");
        assert!(passes(&ad, "10.1.2.4", &[]));
        assert!(!passes(&ad, "10.1.2.3", &[]));
        let mf = cfg("Mutual-failure", "from 10.1", "from 10.1.2.3");
        assert!(passes(&mf, "10.1.9.9", &[]));
        assert!(!passes(&mf, "10.1.2.3", &[]));
        assert!(!passes(&mf, "10.2.2.3", &[]));
        let env = cfg("Deny,Allow", "from env=let_me_in", "from all");
        assert!(passes(&env, "8.8.8.8", &["let_me_in"]));
        assert!(!passes(&env, "8.8.8.8", &[]));
        let nenv = cfg("Allow,Deny", "from env=!blocked", "");
        assert!(passes(&nenv, "8.8.8.8", &[]));
        assert!(!passes(&nenv, "8.8.8.8", &["blocked"]));
    }

    #[test]
    fn access_compat_parse_errors() {
        assert!(Order::parse("allow").is_err());
        assert!(Satisfy::parse("some").is_err());
        assert!(parse_from(&words("10.0.0.1")).is_err());
        assert!(parse_from(&words("from")).is_err());
        assert!(parse_from(&words("from 10.0.0.300")).is_err());
        assert_eq!(
            parse_from(&words("from .example.org")).unwrap(),
            vec![From::Host(".example.org".into())]
        );
    }
}
