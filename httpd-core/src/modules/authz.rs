//! `Require` and the order in which a request meets access control, authentication and
//! authorization (Apache `modules/aaa/mod_authz_core.c: authorize_user_core`,
//! `server/request.c: ap_process_request_internal`, with the providers of mod_authz_host
//! (`ip`, `host`, `forward-dns`, `local`), mod_authz_core (`all`) and mod_authz_user
//! (`valid-user`, `user`)).
//!
//! 1. mod_access_compat (`Order`/`Allow`/`Deny`) runs first. With `Satisfy All` (the default)
//!    a denial is final: 403, AH01797. With `Satisfy Any` passing it grants access at once.
//! 2. The `Require` lines of a section form an implicit `<RequireAny>`: granted if one grants.
//!    Before authentication, `valid-user` and `user` say "denied, no user yet".
//! 3. No `Require` in force: granted, unless an `AuthType` is (AH01627, 500).
//! 4. Denied without needing a user: 403, AH01630.
//! 5. "No user yet": authentication ([`super::auth_basic`]) must give one (401/500 if not),
//!    then the `Require` lines are evaluated again with it: still denied is 401 with the
//!    challenge, AH01631 (AH01629 if only user rules deny).
//!
//! Left out: `<RequireAll>`, `<RequireAny>`, `<RequireNone>`, `Require not`, `AuthMerging`
//! (a section's `Require` lines replace the outer ones, Apache's `AuthMerging Off`), `Require
//! expr`, `method`, `env`, `group`/`file-owner` and `AuthzSendForbiddenOnFailure`. They are
//! refused at config time, never ignored.

use std::net::IpAddr;

use super::access_compat::{AccessCompat, Client, Satisfy};
use super::auth_basic::{Authn, AuthnConfig, authenticate};
use super::authz_host::{
    IpMask, double_reverse_name, in_domain, is_local, parse_ip_list, resolves_to,
};

/// One `Require` line (an authz provider and its arguments).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Require {
    AllGranted,
    AllDenied,
    /// `local`: loopback or the server's own address.
    Local,
    Ip(Vec<IpMask>),
    Host(Vec<String>),
    ForwardDns(Vec<String>),
    /// mod_authz_user.
    ValidUser,
    User(Vec<String>),
}

/// A provider's answer (`authz_status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Authz {
    Granted,
    Denied,
    DeniedNoUser,
}

impl Require {
    /// `Require provider args…`; `loaded` says whether mod_authz_user is (its providers exist
    /// only then).
    pub fn parse(raw: &str, authz_user: bool) -> Result<Require, String> {
        let w: Vec<&str> = raw.split_whitespace().collect();
        let Some((provider, args)) = w.split_first() else {
            return Err("Require requires at least one argument, specifies authorization directives which one must pass (or not) for a request to suceeed".into());
        };
        let owned = || args.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let need = |what: &str| Err(format!("'Require {what}' requires an argument"));
        match (provider.to_ascii_lowercase().as_str(), args) {
            ("all", ["granted"]) => Ok(Require::AllGranted),
            ("all", ["denied"]) => Ok(Require::AllDenied),
            ("all", _) => Err("'Require all' accepts only 'granted' or 'denied'".into()),
            ("local", []) => Ok(Require::Local),
            ("local", _) => Err("'Require local' does not take an argument".into()),
            ("ip", _) => parse_ip_list(args).map(Require::Ip),
            ("host", []) => need("host"),
            ("host", _) => Ok(Require::Host(owned())),
            ("forward-dns", []) => need("forward-dns"),
            ("forward-dns", _) => Ok(Require::ForwardDns(owned())),
            ("valid-user", _) if authz_user => Ok(Require::ValidUser),
            ("user", []) if authz_user => need("user"),
            ("user", _) if authz_user => Ok(Require::User(owned())),
            _ => Err(format!(
                "Unknown Authz provider: {provider} (mpm-lab has all, local, ip, host, forward-dns{})",
                if authz_user {
                    ", valid-user, user"
                } else {
                    "; valid-user and user need LoadModule authz_user_module"
                }
            )),
        }
    }

    fn check(&self, c: &Request<'_>, user: Option<&str>) -> Authz {
        let yes = |b: bool| if b { Authz::Granted } else { Authz::Denied };
        match self {
            Require::AllGranted => Authz::Granted,
            Require::AllDenied => Authz::Denied,
            Require::Local => yes(is_local(c.client, c.local)),
            Require::Ip(masks) => yes(masks.iter().any(|m| m.matches(c.client))),
            Require::Host(domains) => yes(double_reverse_name(c.client)
                .is_some_and(|h| domains.iter().any(|d| in_domain(d, &h)))),
            Require::ForwardDns(names) => yes(names.iter().any(|n| resolves_to(n, c.client))),
            Require::ValidUser => match user {
                Some(_) => Authz::Granted,
                None => Authz::DeniedNoUser,
            },
            Require::User(names) => match user {
                Some(u) => yes(names.iter().any(|n| n == u)),
                None => Authz::DeniedNoUser,
            },
        }
    }
}

/// Step 2: the implicit `<RequireAny>`.
fn any(reqs: &[Require], c: &Request<'_>, user: Option<&str>) -> Authz {
    let results: Vec<Authz> = reqs.iter().map(|r| r.check(c, user)).collect();
    if results.contains(&Authz::Granted) {
        Authz::Granted
    } else if results.contains(&Authz::DeniedNoUser) {
        Authz::DeniedNoUser
    } else {
        Authz::Denied
    }
}

/// The access settings in force for one request, merged over its sections.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DirAccess {
    pub require: Vec<Require>,
    pub authn: AuthnConfig,
    pub compat: Option<AccessCompat>,
}

/// What the request brings.
pub struct Request<'a> {
    pub client: IpAddr,
    pub local: IpAddr,
    pub authorization: Option<&'a str>,
    /// `r->uri` for the log lines.
    pub uri: &'a str,
    /// `r->filename` for AH01630/AH01797.
    pub filename: &'a str,
    /// Whether an environment variable is set (for `Allow from env=`).
    pub env: &'a dyn Fn(&str) -> bool,
}

/// The verdict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Access {
    /// Serve it; the authenticated user, if any (`%u`).
    Granted { user: Option<String> },
    /// 403 and the line to log (module `access_compat` or `authz_core`).
    Forbidden { module: &'static str, log: String },
    /// 401 with `WWW-Authenticate: challenge`; the user sent and the line to log.
    Unauthorized {
        challenge: String,
        user: Option<String>,
        log: Option<(&'static str, String)>,
    },
    /// 500 and the line to log.
    Error { module: &'static str, log: String },
}

/// Steps 1–5.
pub fn check_access(a: &DirAccess, r: &Request<'_>) -> Access {
    // 1. mod_access_compat
    if let Some(compat) = &a.compat {
        let passes = compat.allows(&Client {
            ip: r.client,
            env: r.env,
        });
        match (compat.satisfy, passes) {
            (Satisfy::All, false) => {
                return Access::Forbidden {
                    module: "access_compat",
                    log: format!(
                        "AH01797: client denied by server configuration: {}",
                        r.filename
                    ),
                };
            }
            (Satisfy::Any, true) => return Access::Granted { user: None },
            _ => {}
        }
    }
    // 3. nothing to authorize
    if a.require.is_empty() {
        if a.authn.auth_type.is_some() {
            return Access::Error {
                module: "authz_core",
                log: "AH01627: AuthType configured with no corresponding authorization directives"
                    .to_string(),
            };
        }
        return Access::Granted { user: None };
    }
    match any(&a.require, r, None) {
        Authz::Granted => return Access::Granted { user: None },
        // 4.
        Authz::Denied => {
            return Access::Forbidden {
                module: "authz_core",
                log: format!(
                    "AH01630: client denied by server configuration: {}",
                    r.filename
                ),
            };
        }
        Authz::DeniedNoUser => {}
    }
    // 5. authenticate, then authorize with the user
    if !a.authn.is_basic() {
        return Access::Error {
            module: "core",
            log: format!(
                "AH00025: configuration error:  couldn't check user.  Check your authn provider!: {}",
                r.uri
            ),
        };
    }
    let user = match authenticate(&a.authn, r.authorization, r.uri) {
        Authn::User(u) => u,
        Authn::Unauthorized { user, log } => {
            return Access::Unauthorized {
                challenge: a.authn.challenge(),
                user,
                log: log.map(|l| ("auth_basic", l)),
            };
        }
        Authn::Error(log) => {
            return Access::Error {
                module: "auth_basic",
                log,
            };
        }
    };
    match any(&a.require, r, Some(&user)) {
        Authz::Granted => Access::Granted { user: Some(user) },
        denied => Access::Unauthorized {
            challenge: a.authn.challenge(),
            log: Some((
                "authz_core",
                if denied == Authz::DeniedNoUser {
                    format!(
                        "AH01629: authorization failure (no authenticated user): {}",
                        r.uri
                    )
                } else {
                    format!(
                        "AH01631: user {user}: authorization failure for \"{}\": ",
                        r.uri
                    )
                },
            )),
            user: Some(user),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::modules::access_compat::{Order, parse_from};
    use base64::Engine;

    fn access(require: &[&str]) -> DirAccess {
        DirAccess {
            require: require
                .iter()
                .map(|r| Require::parse(r, true).unwrap())
                .collect(),
            authn: crate::modules::auth_basic::test_config(),
            compat: None,
        }
    }

    fn run(a: &DirAccess, client: &str, cred: Option<&str>) -> Access {
        let h = cred.map(|c| {
            format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(c)
            )
        });
        let no_env = |_: &str| false;
        check_access(
            a,
            &Request {
                client: client.parse().unwrap(),
                local: "127.0.0.1".parse().unwrap(),
                authorization: h.as_deref(),
                uri: "/p/",
                filename: "/www/p/",
                env: &no_env,
            },
        )
    }

    #[test]
    fn authz_valid_user_and_user_list() {
        let a = access(&["valid-user"]);
        assert!(matches!(
            run(&a, "10.0.0.1", None),
            Access::Unauthorized { log: None, .. }
        ));
        assert_eq!(
            run(&a, "10.0.0.1", Some("sha1:pw-sha1")),
            Access::Granted {
                user: Some("sha1".into())
            }
        );
        let u = access(&["user bcrypt"]);
        assert!(matches!(
            run(&u, "10.0.0.1", Some("sha1:pw-sha1")),
            Access::Unauthorized { log: Some(("authz_core", l)), .. } if l.starts_with("AH01631: user sha1")
        ));
        // An IP rule beside valid-user lets that network in without a password (RequireAny).
        let ip_or_user = access(&["ip 10.1", "valid-user"]);
        assert_eq!(
            run(&ip_or_user, "10.1.3.4", None),
            Access::Granted { user: None }
        );
        assert!(matches!(
            run(&ip_or_user, "10.2.3.4", None),
            Access::Unauthorized { .. }
        ));
    }

    #[test]
    fn authz_ip_mismatch_is_403_and_compat_interplay() {
        let a = DirAccess {
            require: vec![Require::parse("ip 192.168.0.0/16", false).unwrap()],
            ..Default::default()
        };
        assert!(matches!(
            run(&a, "10.0.0.1", None),
            Access::Forbidden {
                module: "authz_core",
                ..
            }
        ));
        assert_eq!(run(&a, "192.168.9.9", None), Access::Granted { user: None });
        // Deny from all + Satisfy All: 403 even for a Require all granted.
        let mut c = DirAccess {
            require: vec![Require::AllGranted],
            ..Default::default()
        };
        c.compat = Some(AccessCompat {
            order: Order::DenyAllow,
            denys: parse_from(&["from".into(), "all".into()]).unwrap(),
            ..Default::default()
        });
        assert!(matches!(
            run(&c, "10.0.0.1", None),
            Access::Forbidden {
                module: "access_compat",
                ..
            }
        ));
        // Satisfy Any: Allow passes on its own; failing it leaves the decision to Require.
        let mut any = access(&["valid-user"]);
        any.compat = Some(AccessCompat {
            order: Order::AllowDeny,
            allows: parse_from(&["from".into(), "10.1".into()]).unwrap(),
            satisfy: Satisfy::Any,
            ..Default::default()
        });
        assert_eq!(run(&any, "10.1.0.1", None), Access::Granted { user: None });
        assert!(matches!(
            run(&any, "10.2.0.1", None),
            Access::Unauthorized { .. }
        ));
        assert_eq!(
            run(&any, "10.2.0.1", Some("apr1:pw-apr1")),
            Access::Granted {
                user: Some("apr1".into())
            }
        );
    }

    #[test]
    fn authz_parse_rules() {
        assert!(Require::parse("valid-user", false).is_err());
        assert!(Require::parse("ip 10.0.0.300", true).is_err());
        assert!(Require::parse("all maybe", true).is_err());
        assert!(Require::parse("group admins", true).is_err());
        assert!(Require::parse("", true).is_err());
        // AuthType without Require: 500 (AH01627).
        let mut a = access(&[]);
        a.require.clear();
        assert!(matches!(run(&a, "10.0.0.1", None), Access::Error { .. }));
    }
}
