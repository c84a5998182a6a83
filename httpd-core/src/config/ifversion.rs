//! `<IfVersion [[!]operator] version>` (`modules/core/mod_version.c`), evaluated in the first
//! pass like `<IfModule>`. mpm-lab answers as the Apache release it reproduces,
//! [`APACHE_VERSION`], so that configurations written for Apache 2.4 take the same branches.
//!
//! Operators: `=`/`==` (the default), `>`, `>=`, `<`, `<=` on `major[.minor[.patch]]` (a
//! missing part is 0), and `~` with a regex or `/regex/` matched against `2.4.71`; a `!`
//! glued to the operator negates (`!=`, `!~`).

/// The Apache release whose behaviour mpm-lab reproduces (the reference runs are 2.4.71).
pub const APACHE_VERSION: (u32, u32, u32) = (2, 4, 71);

/// The condition's value (`!` negates); errors are mod_version's texts.
pub fn evaluate(inner: &str) -> Result<bool, String> {
    let words: Vec<&str> = inner.split_whitespace().collect();
    let (op, arg) = match words.as_slice() {
        [v] if v.starts_with('/') => ("~", *v),
        [v] => ("=", *v),
        [op, v, ..] => (*op, *v),
        [] => return Err("Missing version argument in <IfVersion>".into()),
    };
    // The '!' is glued to the operator (`!=`, `!~`, `!>=`); a lone '!' is no operator.
    let (not, op) = match op.strip_prefix('!') {
        Some(rest) if !rest.is_empty() => (true, rest),
        _ => (false, op),
    };
    let current = format!(
        "{}.{}.{}",
        APACHE_VERSION.0, APACHE_VERSION.1, APACHE_VERSION.2
    );
    let result = match op {
        "~" => regex::Regex::new(arg.trim_matches('/'))
            .map_err(|_| format!("Unable to compile regular expression '{arg}'"))?
            .is_match(&current),
        "=" | "==" | ">" | ">=" | "<" | "<=" => {
            let mut parts = arg.split('.').map(|p| p.parse::<u32>());
            let mut next = || parts.next().unwrap_or(Ok(0));
            let wanted = match (next(), next(), next()) {
                (Ok(a), Ok(b), Ok(c)) => (a, b, c),
                _ => return Err(format!("Invalid version format: '{arg}'")),
            };
            match op {
                "=" | "==" => APACHE_VERSION == wanted,
                ">" => APACHE_VERSION > wanted,
                ">=" => APACHE_VERSION >= wanted,
                "<" => APACHE_VERSION < wanted,
                _ => APACHE_VERSION <= wanted,
            }
        }
        _ => return Err(format!("unrecognized operator '{op}'")),
    };
    Ok(result != not)
}

#[cfg(test)]
mod tests {
    use super::evaluate;

    #[test]
    fn ifversion_operators() {
        assert!(evaluate(">= 2.4").unwrap());
        assert!(!evaluate("< 2.4").unwrap());
        assert!(evaluate("2.4.71").unwrap() && !evaluate("2.4").unwrap());
        assert!(evaluate("!= 2").unwrap());
        assert_eq!(
            evaluate("! > 2.5").unwrap_err(),
            "unrecognized operator '!'"
        );
        assert!(evaluate("~ ^2\\.4").unwrap());
        assert!(evaluate("/^2\\.4\\./").unwrap());
        assert!(evaluate("!> 2.5").unwrap());
        assert!(evaluate("> x.y").is_err());
    }
}
