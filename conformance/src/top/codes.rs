//! The AH codes `top` explains in one line, with the book chapter that explains them in full.
//!
//! A small hand-written table, not the whole of `book/src/reference/error-messages.md`: only
//! the messages a student sees while pushing a pool around (a unit test checks that each code
//! is in that page and that each chapter exists, so the table cannot drift from the book).

/// An AH code, the one line `top` shows under the log, and the chapter (under `book/src/`).
#[derive(Debug, PartialEq, Eq)]
pub struct Explained {
    pub code: &'static str,
    pub line: &'static str,
    pub chapter: &'static str,
}

const fn e(code: &'static str, line: &'static str, chapter: &'static str) -> Explained {
    Explained {
        code,
        line,
        chapter,
    }
}

/// Every code `top` explains.
pub const EXPLAINED: &[Explained] = &[
    e(
        "AH00161",
        "prefork has no free slot while idle < MinSpareServers; logged once",
        "prefork/arithmetic.md",
    ),
    e(
        "AH00162",
        "prefork spawns 8 or more children in one pass (the rate doubles each second)",
        "prefork/arithmetic.md",
    ),
    e(
        "AH00286",
        "worker reached MaxRequestWorkers with no idle thread; logged once",
        "worker/arithmetic.md",
    ),
    e(
        "AH00287",
        "worker is within MinSpareThreads of MaxRequestWorkers; logged once",
        "worker/arithmetic.md",
    ),
    e(
        "AH00288",
        "worker: every process slot is taken (stopping children hold them)",
        "worker/arithmetic.md",
    ),
    e(
        "AH00289",
        "worker spawns 8 or more children in one pass",
        "worker/arithmetic.md",
    ),
    e(
        "AH00484",
        "event reached MaxRequestWorkers with no idle thread; logged once",
        "event/arithmetic.md",
    ),
    e(
        "AH10159",
        "event is within MinSpareThreads of MaxRequestWorkers; logged once",
        "event/arithmetic.md",
    ),
    e(
        "AH03490",
        "event: every slot is taken by stopping children; raise ServerLimit",
        "event/arithmetic.md",
    ),
    e(
        "AH00486",
        "event spawns 8 or more children in one pass",
        "event/arithmetic.md",
    ),
    e(
        "AH00171",
        "prefork graceful restart (SIGUSR1): old children finish, a new generation starts",
        "concepts/signals.md",
    ),
    e(
        "AH00297",
        "worker graceful restart (SIGUSR1): old children finish, a new generation starts",
        "concepts/signals.md",
    ),
    e(
        "AH00493",
        "event graceful restart (SIGUSR1): old children finish, a new generation starts",
        "concepts/signals.md",
    ),
    e(
        "AH00163",
        "prefork (re)started and serves requests",
        "concepts/signals.md",
    ),
    e(
        "AH00292",
        "worker (re)started and serves requests",
        "concepts/signals.md",
    ),
    e(
        "AH00489",
        "event (re)started and serves requests",
        "concepts/signals.md",
    ),
];

/// The first `AHnnnnn` code in `text`.
pub fn code_in(text: &str) -> Option<&str> {
    let b = text.as_bytes();
    (0..b.len().saturating_sub(6)).find_map(|i| {
        let is_code =
            b[i] == b'A' && b[i + 1] == b'H' && b[i + 2..i + 7].iter().all(u8::is_ascii_digit);
        let ends = b.get(i + 7).is_none_or(|c| !c.is_ascii_digit());
        (is_code && ends).then(|| &text[i..i + 7])
    })
}

/// The explanation of `code`, if `top` has one.
pub fn explain(code: &str) -> Option<&'static Explained> {
    EXPLAINED.iter().find(|x| x.code == code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_code_in_a_message() {
        assert_eq!(code_in("AH00161: server reached"), Some("AH00161"));
        assert_eq!(code_in("[mpm_event:error] AH00484: x"), Some("AH00484"));
        assert_eq!(code_in("no code AH123 here"), None);
        assert_eq!(code_in("AH001611 is too long"), None);
        assert_eq!(code_in("ends with AH00170"), Some("AH00170"));
    }

    #[test]
    fn every_explained_code_is_in_the_book_with_an_existing_chapter() {
        let book = crate::workspace_dir().join("book/src");
        let page = std::fs::read_to_string(book.join("reference/error-messages.md"))
            .expect("error-messages.md");
        for x in EXPLAINED {
            assert!(
                page.contains(x.code),
                "{} is not in error-messages.md",
                x.code
            );
            assert!(
                book.join(x.chapter).is_file(),
                "{} has no {}",
                x.code,
                x.chapter
            );
        }
    }
}
