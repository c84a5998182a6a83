//! mod_authn_file: look a user up in an `htpasswd` file and check the password the client sent
//! (Apache `modules/aaa/mod_authn_file.c: check_password`, with APR's
//! `crypto/apr_passwd.c: apr_password_validate` and `crypto/apr_md5.c: apr_md5_encode`).
//!
//! 1. The file is read on every request, as Apache does (`ap_pcfg_openfile` per check), so
//!    `htpasswd` edits apply at once. It cannot be opened: AH01620, 500.
//! 2. Lines are trimmed; empty lines and lines starting with `#` are skipped. The user name is
//!    the text before the first `:`, the hash runs to the next `:` (`ap_getword`). The first
//!    line naming the user wins.
//! 3. The hash is recognised by its prefix, in APR's order: `$apr1$` (APR's MD5-crypt,
//!    `htpasswd -m`, the default), `{SHA}` (base64 SHA-1, `-s`), `$2y$` (bcrypt, `-B`); anything
//!    else goes to the system `crypt(3)`, which on glibc/libxcrypt knows DES (`-d`), `$1$`,
//!    `$5$` (`-2`), `$6$` (`-5`) and yescrypt. Plaintext (`-p`) is therefore never accepted on
//!    Unix: APR compares plaintext only on Windows, NetWare and TPF.
//!
//! Left out: `AuthUserFile` through a `DBM` provider (mod_authn_dbm) and
//! `AuthBasicUseDigestAlgorithm` (needs `get_realm_hash`, digest files).
#![allow(unsafe_code)]

use std::ffi::{CStr, CString};
use std::os::raw::c_char;
use std::path::Path;

use base64::Engine;
use md5::{Digest, Md5};
use sha1::Sha1;

use crate::sync::{Mutex, lock};

/// What a password check found (`authn_status` in `mod_auth.h`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthnStatus {
    /// User found and the password matches (`AUTH_GRANTED`).
    Granted,
    /// User found, wrong password (`AUTH_DENIED`: AH01617).
    Denied,
    /// No line for this user (`AUTH_USER_NOT_FOUND`: AH01618).
    UserNotFound,
    /// The file could not be read (`AUTH_GENERAL_ERROR`: AH01620, 500); the message to log.
    GeneralError(String),
}

/// `check_password` of the file provider: look `user` up in `file`, check `password`.
pub fn check_password(file: &Path, user: &str, password: &str) -> AuthnStatus {
    let text = match std::fs::read(file) {
        Ok(t) => t,
        Err(e) => {
            // Apache puts "(errno)text: " before "[client …]"; our logger has no slot for it,
            // so the OS error follows the message.
            return AuthnStatus::GeneralError(format!(
                "AH01620: Could not open password file: {} ({e})",
                file.display()
            ));
        }
    };
    match find_hash(&String::from_utf8_lossy(&text), user) {
        None => AuthnStatus::UserNotFound,
        Some(hash) if password_validate(password, hash) => AuthnStatus::Granted,
        Some(_) => AuthnStatus::Denied,
    }
}

/// Step 2: the hash stored for `user`, if a line names it.
fn find_hash<'a>(text: &'a str, user: &str) -> Option<&'a str> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .find_map(|l| {
            let (name, rest) = l.split_once(':').unwrap_or((l, ""));
            (name == user).then(|| rest.split(':').next().unwrap_or(""))
        })
}

/// Step 3, `apr_password_validate`: whether `password` hashes to `hash`.
pub fn password_validate(password: &str, hash: &str) -> bool {
    if hash.starts_with("$apr1$") {
        constant_time_eq(apr1_md5(password, hash).as_bytes(), hash.as_bytes())
    } else if let Some(b64) = hash.strip_prefix("{SHA}") {
        let sum = base64::engine::general_purpose::STANDARD.encode(Sha1::digest(password));
        constant_time_eq(sum.as_bytes(), b64.as_bytes())
    } else if hash.starts_with("$2y$") {
        bcrypt::verify(password, hash).unwrap_or(false)
    } else {
        system_crypt(password, hash)
            .is_some_and(|c| constant_time_eq(c.as_bytes(), hash.as_bytes()))
    }
}

/// APR's `compare_strings`: no early exit on the first differing byte.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The 64 characters of crypt's base-64 (`itoa64` in `apr_md5.c`).
const ITOA64: &[u8; 64] = b"./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// `apr_md5_encode` with the `$apr1$` magic: Poul-Henning Kamp's MD5-crypt (FreeBSD
/// `crypt-md5.c`), 1000 rounds. `setting` is `$apr1$salt[$…]`; the salt is at most 8 characters.
pub fn apr1_md5(password: &str, setting: &str) -> String {
    const MAGIC: &str = "$apr1$";
    let pw = password.as_bytes();
    let rest = setting.strip_prefix(MAGIC).unwrap_or(setting).as_bytes();
    // Up to 8 bytes, stopping at '$' (bytes, not chars: a malformed file must not panic).
    let end = rest
        .iter()
        .position(|&b| b == b'$')
        .unwrap_or(rest.len())
        .min(8);
    let salt_b = &rest[..end];
    let salt = String::from_utf8_lossy(salt_b);

    let mut ctx = Md5::new();
    ctx.update(pw);
    ctx.update(MAGIC);
    ctx.update(salt_b);
    let mut alt = Md5::new();
    alt.update(pw);
    alt.update(salt_b);
    alt.update(pw);
    let alt = alt.finalize();
    let mut left = pw.len();
    while left > 0 {
        let n = left.min(16);
        ctx.update(&alt[..n]);
        left -= n;
    }
    // "Then something really weird...": a zero byte for each 1 bit of the length, else pw[0].
    let mut i = pw.len();
    while i > 0 {
        if i & 1 == 1 {
            ctx.update([0u8]);
        } else {
            ctx.update(&pw[..1]);
        }
        i >>= 1;
    }
    let mut fin = ctx.finalize();
    for round in 0..1000 {
        let mut c = Md5::new();
        if round & 1 == 1 {
            c.update(pw);
        } else {
            c.update(fin);
        }
        if round % 3 != 0 {
            c.update(salt_b);
        }
        if round % 7 != 0 {
            c.update(pw);
        }
        if round & 1 == 1 {
            c.update(fin);
        } else {
            c.update(pw);
        }
        fin = c.finalize();
    }
    let mut out = format!("{MAGIC}{salt}$");
    let mut to64 = |mut v: u32, n: usize| {
        for _ in 0..n {
            out.push(ITOA64[(v & 0x3f) as usize] as char);
            v >>= 6;
        }
    };
    let b = |i: usize| u32::from(fin[i]);
    for (x, y, z) in [(0, 6, 12), (1, 7, 13), (2, 8, 14), (3, 9, 15), (4, 10, 5)] {
        to64((b(x) << 16) | (b(y) << 8) | b(z), 4);
    }
    to64(b(11), 2);
    out
}

#[link(name = "crypt")]
unsafe extern "C" {
    fn crypt(key: *const c_char, salt: *const c_char) -> *mut c_char;
}

/// `crypt(3)` returns a pointer to a static buffer: APR without `crypt_r` serialises the calls
/// with a mutex, and so do we (the buffer's size differs between glibc's and libxcrypt's
/// `struct crypt_data`, which makes `crypt_r` fragile to call from Rust).
static CRYPT_LOCK: Mutex<()> = Mutex::new(());

/// The system's `crypt(password, hash)`, `None` when it refuses (NUL in the input, unknown
/// method: libxcrypt returns NULL or a string starting with `*`).
fn system_crypt(password: &str, hash: &str) -> Option<String> {
    let key = CString::new(password).ok()?;
    let salt = CString::new(hash).ok()?;
    let _g = lock(&CRYPT_LOCK);
    // SAFETY: both arguments are NUL-terminated strings that live across the call; crypt's
    // result points to its static buffer, which we copy before releasing CRYPT_LOCK, the only
    // way this process calls crypt.
    let out = unsafe {
        let p = crypt(key.as_ptr(), salt.as_ptr());
        if p.is_null() {
            return None;
        }
        CStr::from_ptr(p).to_string_lossy().into_owned()
    };
    (!out.starts_with('*')).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIXTURE: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/htpasswd/all.htpasswd"
    );

    #[test]
    fn authn_file_every_htpasswd_format() {
        let f = Path::new(FIXTURE);
        for user in ["bcrypt", "apr1", "sha1", "sha256", "sha512"] {
            let good = format!("pw-{user}");
            assert_eq!(
                check_password(f, user, &good),
                AuthnStatus::Granted,
                "{user}"
            );
            assert_eq!(
                check_password(f, user, "wrong"),
                AuthnStatus::Denied,
                "{user}"
            );
        }
        assert_eq!(check_password(f, "des", "pwdes"), AuthnStatus::Granted);
        assert_eq!(check_password(f, "des", "pwdex"), AuthnStatus::Denied);
        // htpasswd -p writes the password as is; APR never compares plaintext on Unix.
        assert_eq!(check_password(f, "plain", "pw-plain"), AuthnStatus::Denied);
        assert_eq!(check_password(f, "nobody", "x"), AuthnStatus::UserNotFound);
        assert!(matches!(
            check_password(Path::new("/nonexistent/x"), "a", "b"),
            AuthnStatus::GeneralError(m) if m.contains("AH01620: Could not open password file: /nonexistent/x")
        ));
    }

    #[test]
    fn authn_file_apr1_matches_htpasswd_m() {
        assert_eq!(
            apr1_md5("pw-apr1", "$apr1$BWyvWgm3$whatever"),
            "$apr1$BWyvWgm3$usr0Dmu0iQlFfjmEAI//V1"
        );
    }

    #[test]
    fn authn_file_line_rules() {
        let t = "# comment\n\n  alice:h1:extra  \nalice:h2\nbob\n";
        assert_eq!(find_hash(t, "alice"), Some("h1"));
        assert_eq!(find_hash(t, "bob"), Some(""));
        assert_eq!(find_hash(t, "# comment"), None);
        assert!(!password_validate("", ""));
        // A malformed salt with multi-byte characters is a mismatch, not a panic.
        assert!(!password_validate("x", "$apr1$ééééé$abc"));
    }
}
