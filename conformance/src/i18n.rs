//! The language of the messages students read most: the grade report (`kit::report`) and
//! the run summary (`summary`). English, or Spanish when the locale says so. No gettext and no
//! dependency: each module keeps one table per language, and the files a run writes
//! (`summary.txt`, `compare.txt`) stay in English so that committed outputs and scripts do not
//! depend on who ran them. Error-log lines are Apache's and are never translated.

/// The language of the messages students read most.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    /// English (the default).
    En,
    /// Spanish.
    Es,
}

impl Lang {
    /// From the locale variables, in POSIX precedence: LC_ALL, LC_MESSAGES, LANG.
    pub fn from_env() -> Lang {
        Lang::from_vars(|k| std::env::var(k).ok())
    }

    /// As [`Lang::from_env`], reading variables through `get` (testable).
    pub fn from_vars(get: impl Fn(&str) -> Option<String>) -> Lang {
        let locale = ["LC_ALL", "LC_MESSAGES", "LANG"]
            .iter()
            .filter_map(|k| get(k))
            .find(|v| !v.is_empty())
            .unwrap_or_default();
        if locale.starts_with("es") {
            Lang::Es
        } else {
            Lang::En
        }
    }
}
