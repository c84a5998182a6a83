//! Content types from file names: `mod_mime` (`modules/http/mod_mime.c: find_ct`).
//!
//! With `TypesConfig` naming a readable file in Apache's `mime.types` format (`type ext ext …`
//! per line, `#` comments), that table decides. Otherwise the built-in table of the
//! `mime_guess` crate does. Like `find_ct`, every extension of the name counts, not only the
//! last: `index.html.en` is `text/html` because `en` has no type. A name with no known
//! extension gets no `Content-Type` at all (Apache 2.4 has no `DefaultType`).

use std::collections::HashMap;
use std::path::Path;

/// Extension (lower case, no dot) to media type.
#[derive(Debug, Clone, Default)]
pub struct MimeTypes {
    /// `None`: use `mime_guess`.
    table: Option<HashMap<String, String>>,
}

impl MimeTypes {
    /// The built-in table.
    pub fn builtin() -> MimeTypes {
        MimeTypes { table: None }
    }

    /// Parse a `mime.types` file's text.
    pub fn parse(text: &str) -> MimeTypes {
        let mut table = HashMap::new();
        for line in text.lines() {
            let line = line.split('#').next().unwrap_or("");
            let mut words = line.split_whitespace();
            let Some(media_type) = words.next() else {
                continue;
            };
            for ext in words {
                table.insert(ext.to_ascii_lowercase(), media_type.to_ascii_lowercase());
            }
        }
        MimeTypes { table: Some(table) }
    }

    /// `TypesConfig`: the file if it can be read, else the built-in table.
    pub fn load(types_config: Option<&Path>) -> MimeTypes {
        match types_config.and_then(|p| std::fs::read_to_string(p).ok()) {
            Some(text) => MimeTypes::parse(&text),
            None => MimeTypes::builtin(),
        }
    }

    /// The media type for one extension.
    pub(crate) fn lookup(&self, ext: &str) -> Option<String> {
        let ext = ext.to_ascii_lowercase();
        match &self.table {
            Some(t) => t.get(&ext).cloned(),
            None => mime_guess::from_ext(&ext).first_raw().map(str::to_string),
        }
    }

    /// `find_ct`: scan every extension after the first dot; the last one with a type wins.
    pub fn content_type(&self, file_name: &str) -> Option<String> {
        let mut parts = file_name.split('.');
        parts.next(); // the base name is never an extension
        let mut found = None;
        for ext in parts.filter(|e| !e.is_empty()) {
            if let Some(t) = self.lookup(ext) {
                found = Some(t);
            }
        }
        found
    }
}

/// `ap_make_content_type`: `AddDefaultCharset` adds a charset to `text/*` types that have none.
pub fn with_default_charset(media_type: String, charset: Option<&str>) -> String {
    match charset {
        Some(cs) if media_type.starts_with("text/") && !media_type.contains("charset") => {
            format!("{media_type}; charset={cs}")
        }
        _ => media_type,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mime_types_file_format_and_multiple_extensions() {
        let m = MimeTypes::parse("# comment\ntext/html\t\thtml htm\nimage/png png\n\n");
        assert_eq!(m.content_type("index.html").as_deref(), Some("text/html"));
        assert_eq!(
            m.content_type("index.html.en").as_deref(),
            Some("text/html")
        );
        assert_eq!(m.content_type("A.PNG").as_deref(), Some("image/png"));
        assert_eq!(m.content_type("README"), None);
    }

    #[test]
    fn mime_builtin_table_and_default_charset() {
        let m = MimeTypes::builtin();
        assert_eq!(m.content_type("a.html").as_deref(), Some("text/html"));
        assert_eq!(with_default_charset("text/html".into(), None), "text/html");
        assert_eq!(
            with_default_charset("text/html".into(), Some("UTF-8")),
            "text/html; charset=UTF-8"
        );
        assert_eq!(
            with_default_charset("image/png".into(), Some("UTF-8")),
            "image/png"
        );
    }
}
