//! mod_env: `SetEnv`, `UnsetEnv`, `PassEnv` (Apache `modules/metadata/mod_env.c`).
//!
//! The variables join the request's environment in the `fixups` phase, after access control
//! and after mod_setenvif: `Allow from env=` does not see them, the access log's `%{VAR}e` and
//! (later) CGI do. Server-level lines apply first, then each section's in merge order, so an
//! inner `UnsetEnv` removes an outer `SetEnv`.
//!
//! Left out: nothing of the directives; `PassEnv` of a variable the server's own environment
//! lacks is skipped, with Apache's AH01506 warning at start-up.

use super::setenvif::Env;

/// One line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EnvCmd {
    /// `SetEnv var [value]` (no value: the empty string).
    Set(String, String),
    Unset(Vec<String>),
    /// `PassEnv var…`: the values read from the server's environment at config time.
    Pass(Vec<(String, String)>),
}

/// `SetEnv` (TAKE12).
pub fn parse_set(args: &[String]) -> EnvCmd {
    EnvCmd::Set(args[0].clone(), args.get(1).cloned().unwrap_or_default())
}

/// `PassEnv var…`: `Err` lists the variables the environment lacks (AH01506), `Ok` the rest.
pub fn parse_pass(args: &[String]) -> (EnvCmd, Vec<String>) {
    let mut found = Vec::new();
    let mut missing = Vec::new();
    for a in args {
        match std::env::var(a) {
            Ok(v) => found.push((a.clone(), v)),
            Err(_) => missing.push(format!("AH01506: PassEnv variable {a} was undefined")),
        }
    }
    (EnvCmd::Pass(found), missing)
}

impl EnvCmd {
    /// The fixup for one line.
    pub fn apply(&self, env: &mut Env) {
        match self {
            EnvCmd::Set(k, v) => env.set(k, v.clone()),
            EnvCmd::Unset(ks) => ks.iter().for_each(|k| env.unset(k)),
            EnvCmd::Pass(kv) => kv.iter().for_each(|(k, v)| env.set(k, v.clone())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_set_unset_pass() {
        let mut env = Env::default();
        parse_set(&["A".into(), "x y".into()]).apply(&mut env);
        parse_set(&["B".into()]).apply(&mut env);
        EnvCmd::Unset(vec!["a".into()]).apply(&mut env);
        let (pass, missing) = parse_pass(&["PATH".into(), "MPM_LAB_SURELY_UNSET".into()]);
        pass.apply(&mut env);
        assert_eq!(env.get("A"), None);
        assert_eq!(env.get("B"), Some(""));
        assert!(env.get("PATH").is_some());
        assert_eq!(
            missing,
            vec!["AH01506: PassEnv variable MPM_LAB_SURELY_UNSET was undefined"]
        );
    }
}
