//! Lines and words of httpd.conf (Apache `server/util.c: ap_cfg_getline`, `cfg_trim_line`,
//! `ap_getword_conf`, `substring_conf`).
//!
//! 1. [`logical_lines`]: a physical line ending in `\` continues on the next one (the backslash
//!    and the newline vanish, nothing is inserted); leading and trailing white space is trimmed;
//!    empty lines and lines whose first character is `#` are dropped. A logical line carries the
//!    number of its *last* physical line, which is what Apache prints in errors.
//! 2. [`getword_conf`]: words are separated by white space; `"…"` or `'…'` quote a word, inside
//!    which `\"` (or `\'`) and `\\` are escapes. A `#` after a directive is *not* a comment
//!    (`ServerName x # web` gives "ServerName takes one argument", in Apache as here).

/// One logical line of a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogicalLine {
    /// Number of the last physical line it spans.
    pub line: u32,
    pub text: String,
}

/// join `\` continuations, trim, drop blank lines and `#` comments.
pub fn logical_lines(text: &str) -> Vec<LogicalLine> {
    let mut out = Vec::new();
    let mut pending = String::new();
    for (i, raw) in text.split('\n').enumerate() {
        let line_no = u32::try_from(i + 1).unwrap_or(u32::MAX);
        let raw = raw.strip_suffix('\r').unwrap_or(raw);
        // Apache: only a backslash immediately before the newline continues the line.
        if let Some(head) = raw.strip_suffix('\\') {
            pending.push_str(head);
            continue;
        }
        pending.push_str(raw);
        let trimmed = pending.trim();
        if !trimmed.is_empty() && !trimmed.starts_with('#') {
            out.push(LogicalLine {
                line: line_no,
                text: trimmed.to_string(),
            });
        }
        pending.clear();
    }
    // A file ending in a continuation: Apache keeps what it has.
    let trimmed = pending.trim();
    if !trimmed.is_empty() && !trimmed.starts_with('#') {
        let last = u32::try_from(text.split('\n').count()).unwrap_or(u32::MAX);
        out.push(LogicalLine {
            line: last,
            text: trimmed.to_string(),
        });
    }
    out
}

/// `ap_getword_conf`: take the next word from `line`, returning it and the rest (leading
/// white space of the rest skipped). An empty word with an empty rest means "no more words".
pub fn getword_conf(line: &str) -> (String, &str) {
    let s = line.trim_start();
    let Some(quote) = s.chars().next() else {
        return (String::new(), s);
    };
    if quote == '"' || quote == '\'' {
        let body = &s[1..];
        let mut word = String::new();
        let mut chars = body.char_indices().peekable();
        let mut end = body.len();
        while let Some((i, c)) = chars.next() {
            if c == quote {
                end = i + 1;
                break;
            }
            if c == '\\'
                && let Some(&(_, next)) = chars.peek()
                && (next == quote || next == '\\')
            {
                word.push(next);
                chars.next();
                continue;
            }
            word.push(c);
        }
        (word, body[end.min(body.len())..].trim_start())
    } else {
        let end = s.find(char::is_whitespace).unwrap_or(s.len());
        // Unquoted words also honour `\\` (substring_conf with no quote).
        let word = s[..end].replace("\\\\", "\\");
        (word, s[end..].trim_start())
    }
}

/// Every word of `args`.
pub fn words(args: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = args;
    loop {
        let (w, r) = getword_conf(rest);
        if w.is_empty() && r.is_empty() {
            return out;
        }
        out.push(w);
        rest = r;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_tokenizer_joins_continuations_and_drops_comments() {
        let text = "# comment\n  Listen 80  \n\nLogFormat \"%h %l \\\n%u\" x\n   # indented comment\nKeepAlive On\\\n";
        let lines = logical_lines(text);
        assert_eq!(
            lines,
            vec![
                LogicalLine {
                    line: 2,
                    text: "Listen 80".into()
                },
                LogicalLine {
                    line: 5,
                    text: "LogFormat \"%h %l %u\" x".into()
                },
                // The continuation swallows the (empty) last line, so Apache counts 8 too.
                LogicalLine {
                    line: 8,
                    text: "KeepAlive On".into()
                },
            ]
        );
    }

    #[test]
    fn config_tokenizer_crlf_lines() {
        let lines = logical_lines("Listen 80\r\nKeepAlive Off\r\n");
        assert_eq!(lines[0].text, "Listen 80");
        assert_eq!(lines[1].text, "KeepAlive Off");
    }

    #[test]
    fn config_getword_conf_quotes_and_escapes() {
        assert_eq!(words(r#"a "b c" 'd e' f"#), vec!["a", "b c", "d e", "f"]);
        assert_eq!(
            words(r#""say \"hi\"" "back\\slash" "keep \n""#),
            vec![r#"say "hi""#, r"back\slash", r"keep \n"]
        );
        assert_eq!(words(r#"'it\'s'"#), vec!["it's"]);
        assert_eq!(words(r#""unterminated"#), vec!["unterminated"]);
        assert_eq!(words(""), Vec::<String>::new());
        // ap_getword_conf's caller stops at an empty last word: `""` alone is no argument at all.
        assert_eq!(words(r#""""#), Vec::<String>::new());
        assert_eq!(words(r#""" x"#), vec!["", "x"]);
        let (w, rest) = getword_conf("  first   second third");
        assert_eq!((w.as_str(), rest), ("first", "second third"));
    }

    proptest::proptest! {
        /// Any word written the way Apache's docs say to quote it (`"` around, `\"` and `\\`
        /// escaped) reads back unchanged, whatever it contains.
        #[test]
        fn config_quoted_word_round_trips(word in "[ -~]{1,40}", other in "[a-z]{1,8}") {
            let quoted = format!("\"{}\"", word.replace('\\', "\\\\").replace('"', "\\\""));
            let line = format!("{quoted} {other}");
            proptest::prop_assert_eq!(words(&line), vec![word, other]);
        }

        /// Splitting a line anywhere with `\` + newline gives the same logical line back.
        #[test]
        fn config_continuation_is_invisible(text in "[a-zA-Z0-9 ]{2,40}", at in 1usize..39) {
            let text = text.trim().to_string();
            proptest::prop_assume!(!text.is_empty() && at < text.len());
            let split = format!("{}\\\n{}", &text[..at], &text[at..]);
            let lines = logical_lines(&split);
            proptest::prop_assert_eq!(lines.len(), 1);
            proptest::prop_assert_eq!(&lines[0].text, &text);
            proptest::prop_assert_eq!(lines[0].line, 2);
        }
    }
}
