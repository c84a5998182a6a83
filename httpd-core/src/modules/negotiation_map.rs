//! Type-map files (`mod_negotiation.c: read_type_map`, `get_header_line`, `get_body`):
//! RFC 822-style records separated by blank lines, `#` comment lines, continuation lines
//! starting with white space, and `Body:TAG` … `TAG` inline bodies (Debian's
//! `/usr/share/apache2/error/*.var` files use them).
//!
//! A record becomes a variant when it names a file (`URI:`, or a `Body:`) and says something
//! about the content (`Content-Type`, `-Language`, `-Encoding`, `-Length`). A line without a
//! `:` or with an empty value is a 500 (AH00681, AH00682); a `Body:` whose end tag is missing
//! within 8 KB (Apache's `MAX_STRING_LEN`) or a bad `Content-Length` ends the reading
//! (AH00685, AH00684), keeping the variants before it.

use super::negotiation::{Variant, get_token};

/// `MAX_STRING_LEN`: longest line, and the window in which a `Body:` must end.
const MAX_STRING_LEN: usize = 8192;

/// A map file Apache refuses (500), with the error-log line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MapError {
    pub log: String,
}

/// What [`get_header_line`] saw.
enum Header {
    Eof,
    Seen(String),
    Sep,
}

struct Reader<'a> {
    b: &'a [u8],
    pos: usize,
}

impl Reader<'_> {
    /// `apr_file_gets`: a line with its `\n`, at most `MAX_STRING_LEN - 1` bytes.
    fn gets(&mut self) -> Option<&[u8]> {
        if self.pos >= self.b.len() {
            return None;
        }
        let start = self.pos;
        let limit = (start + MAX_STRING_LEN - 1).min(self.b.len());
        let end = self.b[start..limit]
            .iter()
            .position(|c| *c == b'\n')
            .map_or(limit, |i| start + i + 1);
        self.pos = end;
        Some(&self.b[start..end])
    }

    fn peek(&self) -> Option<u8> {
        self.b.get(self.pos).copied()
    }

    /// `get_header_line`.
    fn header_line(&mut self) -> Header {
        let line = loop {
            match self.gets() {
                None => return Header::Eof,
                Some(l) if l.first() == Some(&b'#') => continue,
                Some(l) => break l,
            }
        };
        if line.iter().all(u8::is_ascii_whitespace) {
            return Header::Sep;
        }
        let mut buf = String::from_utf8_lossy(line).into_owned();
        if buf.len() >= 5 && buf[..5].eq_ignore_ascii_case("body:") {
            return Header::Seen(buf);
        }
        while let Some(c) = self.peek() {
            if c == b'#' {
                // A comment line inside the record.
                while let Some(c) = self.peek() {
                    self.pos += 1;
                    if c == b'\n' {
                        break;
                    }
                }
            } else if c.is_ascii_whitespace() {
                while self
                    .peek()
                    .is_some_and(|c| c != b'\n' && c.is_ascii_whitespace())
                {
                    self.pos += 1;
                }
                if self.peek() == Some(b'\n') || self.peek().is_none() {
                    return Header::Seen(buf);
                }
                // A continuation: the rest of the line, after a newline.
                let start = self.pos;
                while self.peek().is_some_and(|c| c != b'\n') {
                    self.pos += 1;
                }
                buf.push_str(&String::from_utf8_lossy(&self.b[start..self.pos]));
                if self.peek() == Some(b'\n') {
                    self.pos += 1;
                }
                buf.push('\n');
            } else {
                return Header::Seen(buf);
            }
        }
        Header::Seen(buf)
    }

    /// `get_body`: the body runs to the first `tag`, searched for in the next 8 KB; reading
    /// resumes after the line holding the tag. `(offset, length)` in the file.
    fn body(&mut self, tag: &str) -> Option<(u64, u64)> {
        let start = self.pos;
        let window = &self.b[start..(start + MAX_STRING_LEN - 1).min(self.b.len())];
        let at = find(window, tag.as_bytes())?;
        let mut after = at + tag.len();
        while after < window.len() {
            after += 1;
            if window[after - 1] == b'\n' {
                break;
            }
        }
        self.pos = start + after;
        Some((start as u64, at as u64))
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() {
        return Some(0);
    }
    hay.windows(needle.len()).position(|w| w == needle)
}

/// `strip_paren_comments`: `(…)` outside quotes become spaces.
fn strip_paren_comments(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => {
                out.push(c);
                for d in chars.by_ref() {
                    out.push(d);
                    if d == '"' {
                        break;
                    }
                }
            }
            '(' => {
                out.push(' ');
                for d in chars.by_ref() {
                    out.push(' ');
                    if d == ')' {
                        break;
                    }
                }
            }
            _ => out.push(c),
        }
    }
    out
}

/// `do_languages_line`.
fn languages(mut line: &str) -> Vec<String> {
    let mut out = Vec::new();
    while !line.is_empty() {
        let (tok, rest) = get_token(line, false);
        out.push(tok.to_ascii_lowercase());
        line = rest.strip_prefix([',', ';']).unwrap_or(rest);
    }
    out
}

/// `read_type_map` for the file `path` (its name is the variant name of inline bodies),
/// whose bytes are `text`.
pub fn read(path: &str, text: &[u8]) -> Result<Vec<Variant>, MapError> {
    let own_name = path.rsplit('/').next().unwrap_or(path).to_string();
    let mut r = Reader { b: text, pos: 0 };
    let mut vars = Vec::new();
    let mut cur = Variant::new(String::new(), "");
    let mut has_content = false;
    loop {
        let h = r.header_line();
        let line = match h {
            Header::Seen(l) => l,
            Header::Sep | Header::Eof => {
                if !cur.file_name.is_empty() && has_content {
                    vars.push(cur);
                }
                cur = Variant::new(String::new(), "");
                has_content = false;
                if matches!(h, Header::Eof) {
                    return Ok(vars);
                }
                continue;
            }
        };
        let Some(colon) = line.find(':') else {
            return Err(MapError {
                log: format!(
                    "AH00681: Syntax error in type map, no ':' in {path} for header {line}"
                ),
            });
        };
        let name = line[..colon].to_ascii_lowercase();
        let value = line[colon + 1..].trim_start_matches(|c: char| c.is_ascii_whitespace());
        if value.is_empty() {
            return Err(MapError {
                log: format!(
                    "AH00682: Syntax error in type map --- no header body: {path} for {name}{}",
                    &line[colon..]
                ),
            });
        }
        let body = strip_paren_comments(value);
        match name.as_str() {
            "uri" => cur.file_name = get_token(&body, false).0.to_string(),
            "content-type" => {
                cur.set_mime_fields(&body);
                has_content = true;
            }
            "content-length" => {
                let tok = get_token(&body, false).0;
                match tok.parse::<u64>() {
                    Ok(n) if tok.bytes().all(|c| c.is_ascii_digit()) => cur.bytes = n as i64,
                    _ => {
                        // AH00684 ends the reading; what was read so far stays.
                        return Ok(vars);
                    }
                }
                has_content = true;
            }
            "content-language" => {
                cur.languages = languages(&body);
                has_content = true;
            }
            "content-encoding" => {
                cur.encoding = Some(get_token(&body, false).0.to_string());
                has_content = true;
            }
            "description" => {
                let mut d = body.replace('\n', " ");
                d.pop();
                cur.description = d;
            }
            "body" => {
                let tag = value.trim_end_matches(|c: char| c.is_ascii_whitespace());
                match r.body(tag) {
                    Some((off, len)) => {
                        cur.body = Some((off, len));
                        cur.bytes = len as i64;
                        cur.file_name.clone_from(&own_name);
                    }
                    None => return Ok(vars),
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_map_uri_records_and_comments() {
        let map = b"URI: map\n\n# a comment\nURI: map.en.html\nContent-Type: text/html\nContent-Language: en\n\nURI: map.de.html\nContent-Type: text/html;qs=0.5\nContent-Language: de, de-AT\nDescription: German\n  version\n";
        let v = read("/www/map.var", map).unwrap();
        assert_eq!(v.len(), 2, "the first record has no content");
        assert_eq!(v[0].file_name, "map.en.html");
        assert_eq!(v[0].languages, vec!["en"]);
        assert_eq!(v[1].source_quality, 0.5);
        assert_eq!(v[1].languages, vec!["de", "de-at"]);
        assert_eq!(v[1].description, "German version");
    }

    #[test]
    fn type_map_inline_bodies_as_debian_error_pages() {
        let map = b"Content-language: en\nContent-type: text/html; charset=UTF-8\nBody:----------en--\n<html>English</html>\n----------en--\n\nContent-language: es\nContent-type: text/html; charset=UTF-8\nBody:----------es--\n<html>Cuerpo</html>\n----------es--\n";
        let v = read("/e/HTTP_NOT_FOUND.html.var", map).unwrap();
        assert_eq!(v.len(), 2);
        assert_eq!(v[0].file_name, "HTTP_NOT_FOUND.html.var");
        assert_eq!(v[0].charset, "utf-8");
        let (off, len) = v[1].body.unwrap();
        assert_eq!(
            &map[off as usize..(off + len) as usize],
            b"<html>Cuerpo</html>\n"
        );
    }

    #[test]
    fn type_map_errors() {
        let e = read("/m.var", b"URI x\n").unwrap_err();
        assert!(
            e.log
                .starts_with("AH00681: Syntax error in type map, no ':' in /m.var"),
            "{}",
            e.log
        );
        let e = read("/m.var", b"URI:\n").unwrap_err();
        assert!(e.log.starts_with("AH00682"), "{}", e.log);
        // A missing end tag keeps what came before.
        let v = read(
            "/m.var",
            b"URI: a\nContent-Type: text/plain\n\nContent-Type: text/html\nBody:XX\nno end\n",
        )
        .unwrap();
        assert_eq!(v.len(), 1);
        assert_eq!(strip_paren_comments("text/html (c) x"), "text/html     x");
    }
}
