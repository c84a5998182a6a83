//! Basic authentication on every MPM (httpd-core `modules/authz.rs`, `auth_basic.rs`,
//! `authn_file.rs`): a `<Location>` protected by `AuthType Basic` + `AuthUserFile` (a file
//! written by apache2-utils' `htpasswd`, committed under httpd-core/tests/fixtures) answers 401
//! with the challenge, 200 to a good bcrypt password, 401 + AH01617 to a wrong one, and the
//! access log names the user.

use conformance::{Mpm, ServerTest, for_each_mpm};
use std::time::Duration;

const HTPASSWD: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../httpd-core/tests/fixtures/htpasswd/all.htpasswd"
);

fn auth_basic_protects_a_location(mpm: Mpm) {
    let s = ServerTest::new(mpm)
        .directive("LoadModule authn_core_module /usr/lib/apache2/modules/mod_authn_core.so")
        .directive("LoadModule auth_basic_module /usr/lib/apache2/modules/mod_auth_basic.so")
        .directive("LoadModule authn_file_module /usr/lib/apache2/modules/mod_authn_file.so")
        .directive("LoadModule authz_user_module /usr/lib/apache2/modules/mod_authz_user.so")
        .directive("<Location /private>")
        .directive("AuthType Basic")
        .directive("AuthName \"Lab area\"")
        .directive(&format!("AuthUserFile {HTPASSWD}"))
        .directive("Require valid-user")
        .directive("</Location>")
        .file("private/index.html", "secret\n")
        .start();
    let r = s.get("/private/");
    assert_eq!(r.status, 401, "{}", r.text());
    assert_eq!(
        r.header("WWW-Authenticate"),
        Some("Basic realm=\"Lab area\"")
    );
    let ask = |cred: &str| {
        s.raw(
            format!(
                "GET /private/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Basic {cred}\r\n\r\n"
            )
            .as_bytes(),
        )
        .response()
    };
    // "bcrypt:pw-bcrypt" and "bcrypt:nope", base64.
    let good = ask("YmNyeXB0OnB3LWJjcnlwdA==");
    assert_eq!((good.status, good.text().as_str()), (200, "secret\n"));
    assert_eq!(ask("YmNyeXB0Om5vcGU=").status, 401);
    s.wait_for_log(
        "AH01617: user bcrypt: authentication failure for \"/private/\": Password Mismatch",
        Duration::from_secs(5),
    );
    s.wait_for_access_log("- bcrypt [", Duration::from_secs(5));
}
for_each_mpm!(auth_basic_protects_a_location);
