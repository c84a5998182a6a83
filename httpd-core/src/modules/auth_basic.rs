//! mod_auth_basic with mod_authn_core's `AuthType`/`AuthName`: ask the client for a user name
//! and password and check them with the `file` provider (Apache `modules/aaa/mod_auth_basic.c:
//! authenticate_basic_user`, `get_basic_auth`, `note_basic_auth_failure`;
//! `modules/aaa/mod_authn_core.c`).
//!
//! 1. Only when `AuthType Basic` is in force (otherwise another scheme would be asked: none here).
//! 2. No `AuthName`: 500, AH01615.
//! 3. No `Authorization` header: 401 with `WWW-Authenticate: Basic realm="<AuthName>"`, nothing
//!    logged. Another scheme: 401, AH01614.
//! 4. The credentials are base64 `user:password` (split at the first `:`); the user is set on
//!    the request even before the check (`%u` of the access log shows it on a 401 too).
//! 5. The providers of `AuthBasicProvider` (default `file`) are asked in turn until one knows
//!    the user: wrong password → 401 + AH01617, unknown user → 401 + AH01618, file error → 500.
//!
//! Left out: `AuthBasicAuthoritative`, `AuthBasicFake`, `AuthBasicUseDigestAlgorithm`, providers
//! other than `file` (dbm, dbd, ldap, socache: "Unknown Authn provider" at config time), and
//! `<AuthnProviderAlias>`.

use std::path::PathBuf;

use base64::Engine;

use super::authn_file::{AuthnStatus, check_password};

/// The per-directory settings of mod_authn_core, mod_auth_basic and mod_authn_file, merged as
/// Apache merges them: each set value overrides the outer one.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AuthnConfig {
    /// `AuthType` (`None` for unset; `AuthType None` stores `None` too).
    pub auth_type: Option<String>,
    /// `AuthName`.
    pub auth_name: Option<String>,
    /// `AuthBasicProvider` (only `file` exists).
    pub providers: Option<Vec<String>>,
    /// `AuthUserFile` (absolute).
    pub user_file: Option<PathBuf>,
}

impl AuthnConfig {
    /// `inner` over `self`, field by field.
    pub fn merged(&self, inner: &AuthnConfig) -> AuthnConfig {
        AuthnConfig {
            auth_type: inner.auth_type.clone().or_else(|| self.auth_type.clone()),
            auth_name: inner.auth_name.clone().or_else(|| self.auth_name.clone()),
            providers: inner.providers.clone().or_else(|| self.providers.clone()),
            user_file: inner.user_file.clone().or_else(|| self.user_file.clone()),
        }
    }

    /// `ap_auth_type`: the scheme when it is Basic (the only one we have).
    pub fn is_basic(&self) -> bool {
        self.auth_type
            .as_deref()
            .is_some_and(|t| t.eq_ignore_ascii_case("basic"))
    }

    /// The `WWW-Authenticate` value (`note_basic_auth_failure`).
    pub fn challenge(&self) -> String {
        format!(
            "Basic realm=\"{}\"",
            self.auth_name.as_deref().unwrap_or("")
        )
    }
}

/// `AuthBasicProvider` words: only `file` is built in.
pub fn parse_providers(args: &[String]) -> Result<Vec<String>, String> {
    args.iter()
        .map(|p| match p.as_str() {
            "file" => Ok(p.clone()),
            _ => Err(format!(
                "Unknown Authn provider: {p} (mpm-lab has mod_authn_file only)"
            )),
        })
        .collect()
}

/// What authentication decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Authn {
    /// The user is who they claim.
    User(String),
    /// 401 with the challenge; the user the client sent (if any) and the line to log (if any).
    Unauthorized {
        user: Option<String>,
        log: Option<String>,
    },
    /// 500 with the line to log.
    Error(String),
}

/// Steps 2–5 for a request to `uri` with this `Authorization` header.
pub fn authenticate(cfg: &AuthnConfig, authorization: Option<&str>, uri: &str) -> Authn {
    if cfg.auth_name.is_none() {
        return Authn::Error(format!("AH01615: need AuthName: {uri}"));
    }
    let Some(line) = authorization else {
        return Authn::Unauthorized {
            user: None,
            log: None,
        };
    };
    let (scheme, rest) = line.split_once(' ').unwrap_or((line, ""));
    if !scheme.eq_ignore_ascii_case("basic") {
        return Authn::Unauthorized {
            user: None,
            log: Some(format!(
                "AH01614: client used wrong authentication scheme: {uri}"
            )),
        };
    }
    let decoded = decode_lenient(rest.trim_start_matches([' ', '\t']));
    let (user, pw) = decoded.split_once(':').unwrap_or((&decoded, ""));
    let Some(file) = &cfg.user_file else {
        return Authn::Error(format!(
            "AH01619: AuthUserFile not specified in the configuration: {uri}"
        ));
    };
    match check_password(file, user, pw) {
        AuthnStatus::Granted => Authn::User(user.to_string()),
        AuthnStatus::Denied => Authn::Unauthorized {
            user: Some(user.to_string()),
            log: Some(format!(
                "AH01617: user {user}: authentication failure for \"{uri}\": Password Mismatch"
            )),
        },
        AuthnStatus::UserNotFound => Authn::Unauthorized {
            user: Some(user.to_string()),
            log: Some(format!("AH01618: user {user} not found: {uri}")),
        },
        AuthnStatus::GeneralError(m) => Authn::Error(m),
    }
}

/// `ap_pbase64decode`: decodes up to the first character outside the alphabet, padding optional.
fn decode_lenient(s: &str) -> String {
    let valid: String = s
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '+' || *c == '/')
        .collect();
    let engine = base64::engine::GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        base64::engine::GeneralPurposeConfig::new()
            .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent)
            .with_decode_allow_trailing_bits(true),
    );
    // A length of 4n+1 cannot be decoded: drop the stray character, as APR's decoder does.
    let usable = &valid[..valid.len() - usize::from(valid.len() % 4 == 1)];
    String::from_utf8_lossy(&engine.decode(usable).unwrap_or_default()).into_owned()
}

/// `AuthType Basic`, `AuthName Lab` and the committed htpasswd fixture, for unit tests.
#[cfg(test)]
pub(crate) fn test_config() -> AuthnConfig {
    AuthnConfig {
        auth_type: Some("Basic".into()),
        auth_name: Some("Lab".into()),
        providers: None,
        user_file: Some(
            concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/tests/fixtures/htpasswd/all.htpasswd"
            )
            .into(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> AuthnConfig {
        test_config()
    }

    fn basic(cred: &str) -> String {
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(cred)
        )
    }

    #[test]
    fn auth_basic_decisions() {
        let c = cfg();
        assert_eq!(
            authenticate(&c, Some(&basic("apr1:pw-apr1")), "/p"),
            Authn::User("apr1".into())
        );
        assert_eq!(
            authenticate(&c, Some(&basic("apr1:nope")), "/p"),
            Authn::Unauthorized {
                user: Some("apr1".into()),
                log: Some(
                    "AH01617: user apr1: authentication failure for \"/p\": Password Mismatch"
                        .into()
                )
            }
        );
        assert_eq!(
            authenticate(&c, Some(&basic("zed:x")), "/p"),
            Authn::Unauthorized {
                user: Some("zed".into()),
                log: Some("AH01618: user zed not found: /p".into())
            }
        );
        assert_eq!(
            authenticate(&c, None, "/p"),
            Authn::Unauthorized {
                user: None,
                log: None
            }
        );
        assert!(matches!(
            authenticate(&c, Some("Digest x"), "/p"),
            Authn::Unauthorized { log: Some(l), .. } if l.starts_with("AH01614")
        ));
        let noname = AuthnConfig {
            auth_name: None,
            ..cfg()
        };
        assert!(
            matches!(authenticate(&noname, None, "/p"), Authn::Error(m) if m.starts_with("AH01615"))
        );
        assert_eq!(c.challenge(), "Basic realm=\"Lab\"");
        assert!(parse_providers(&["dbm".into()]).is_err());
    }

    #[test]
    fn auth_basic_lenient_base64() {
        assert_eq!(decode_lenient("YTpi"), "a:b");
        assert_eq!(decode_lenient("YTpiYw"), "a:bc");
        assert_eq!(decode_lenient("YTpiYw== trailing"), "a:bc");
    }
}
