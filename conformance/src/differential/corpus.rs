//! Requests from test suites written by others, read as data from a directory the user
//! fetched (nothing of theirs is in this repository; see the book's differential page):
//!
//! - llhttp (MIT, <https://github.com/nodejs/llhttp>): `test/request/*.md`, each
//!   ```` ```http ```` block under a `<!-- meta={"type": "request"...} -->` line is one input,
//!   decoded as llhttp's own `test/md-test.ts` does (trailing newline dropped, escaped newlines
//!   joined, newlines made CRLF, then `\r \n \t \f \xHH` and octal escapes).
//! - h11 (MIT, <https://github.com/python-hyper/h11>): `h11/tests/*.py`, every Python bytes
//!   literal (adjacent literals joined) that starts with a method and a space and holds
//!   `HTTP/`.
//!
//! Any other file ending in `.http` is one raw request.

use std::fs;
use std::path::{Path, PathBuf};

/// One input and where it came from (`file:line`).
#[derive(Debug, Clone)]
pub struct CorpusRequest {
    pub origin: String,
    pub bytes: Vec<u8>,
}

/// Every request found under `dir` (recursively).
pub fn read_dir(dir: &Path) -> std::io::Result<Vec<CorpusRequest>> {
    let mut files = Vec::new();
    walk(dir, &mut files)?;
    files.sort();
    let mut out = Vec::new();
    for f in files {
        let name = f.display().to_string();
        let ext = f.extension().and_then(|e| e.to_str()).unwrap_or("");
        let in_request_tests = name.contains("test/request/") || name.contains("test\\request\\");
        match ext {
            "md" if in_request_tests => {
                out.extend(llhttp_markdown(&fs::read_to_string(&f)?, &name));
            }
            "py" if name.contains("tests") => {
                out.extend(python_bytes(&fs::read_to_string(&f)?, &name));
            }
            "http" => out.push(CorpusRequest {
                origin: name,
                bytes: fs::read(&f)?,
            }),
            _ => {}
        }
    }
    Ok(out)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for e in fs::read_dir(dir)? {
        let p = e?.path();
        if p.is_dir() {
            if p.file_name()
                .is_some_and(|n| n == ".git" || n == "node_modules")
            {
                continue;
            }
            walk(&p, out)?;
        } else {
            out.push(p);
        }
    }
    Ok(())
}

/// The request blocks of one llhttp markdown test file.
pub fn llhttp_markdown(text: &str, origin: &str) -> Vec<CorpusRequest> {
    let mut out = Vec::new();
    let lines: Vec<&str> = text.lines().collect();
    let mut i = 0;
    while i < lines.len() {
        let is_request = lines[i].contains("<!-- meta=") && lines[i].contains("\"request");
        if is_request && lines.get(i + 1).is_some_and(|l| l.trim() == "```http") {
            let start = i + 2;
            let end = (start..lines.len())
                .find(|&j| lines[j].trim_end() == "```")
                .unwrap_or(lines.len());
            let block = lines[start..end].join("\n") + "\n";
            out.push(CorpusRequest {
                origin: format!("{origin}:{}", start + 1),
                bytes: llhttp_decode(&block),
            });
            i = end;
        }
        i += 1;
    }
    out
}

/// llhttp's `md-test.ts` input decoding.
fn llhttp_decode(block: &str) -> Vec<u8> {
    let s = block.strip_suffix('\n').unwrap_or(block);
    let s = s.replace("\\\n", "");
    let s = s.replace('\n', "\r\n");
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' && i + 1 < b.len() {
            let esc = match b[i + 1] {
                b'r' => Some((b'\r', 2)),
                b'n' => Some((b'\n', 2)),
                b't' => Some((b'\t', 2)),
                b'f' => Some((0x0c, 2)),
                b'x' => hex_escape(&b[i + 2..]),
                b'0'..=b'7' => octal_escape(&b[i + 1..]),
                _ => None,
            };
            if let Some((byte, used)) = esc {
                out.push(byte);
                i += used;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    out
}

fn hex_escape(b: &[u8]) -> Option<(u8, usize)> {
    let n = b
        .iter()
        .take(2)
        .take_while(|c| c.is_ascii_hexdigit())
        .count();
    let v = u8::from_str_radix(std::str::from_utf8(&b[..n]).ok()?, 16).ok()?;
    Some((v, 2 + n))
}

fn octal_escape(b: &[u8]) -> Option<(u8, usize)> {
    let n = b
        .iter()
        .take(3)
        .take_while(|c| (b'0'..=b'7').contains(c))
        .count();
    let v = u32::from_str_radix(std::str::from_utf8(&b[..n]).ok()?, 8).ok()?;
    Some(((v & 0xff) as u8, 1 + n))
}

/// Bytes literals of a Python test file that look like requests.
pub fn python_bytes(text: &str, origin: &str) -> Vec<CorpusRequest> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i + 1 < b.len() {
        let starts = b[i] == b'b'
            && matches!(b[i + 1], b'"' | b'\'')
            && (i == 0 || !b[i - 1].is_ascii_alphanumeric());
        if !starts {
            i += 1;
            continue;
        }
        let line = text[..i].matches('\n').count() + 1;
        let mut joined = Vec::new();
        let mut j = i;
        // Adjacent literals (across spaces and newlines) are one value in Python.
        while j + 1 < b.len() && b[j] == b'b' && matches!(b[j + 1], b'"' | b'\'') {
            let Some((bytes, next)) = py_literal(b, j + 1) else {
                break;
            };
            joined.extend(bytes);
            j = next;
            while j < b.len() && b[j].is_ascii_whitespace() {
                j += 1;
            }
        }
        i = j.max(i + 1);
        let method_len = joined.iter().take_while(|c| c.is_ascii_uppercase()).count();
        if method_len > 0
            && joined.get(method_len) == Some(&b' ')
            && joined.windows(5).any(|w| w == b"HTTP/")
        {
            out.push(CorpusRequest {
                origin: format!("{origin}:{line}"),
                bytes: joined,
            });
        }
    }
    out
}

/// One quoted literal starting at the quote `b[q]`: its bytes and the index after it.
fn py_literal(b: &[u8], q: usize) -> Option<(Vec<u8>, usize)> {
    let quote = b[q];
    let mut out = Vec::new();
    let mut i = q + 1;
    while i < b.len() {
        match b[i] {
            c if c == quote => return Some((out, i + 1)),
            b'\n' => return None,
            b'\\' => {
                let (v, used) = match *b.get(i + 1)? {
                    b'r' => (b'\r', 2),
                    b'n' => (b'\n', 2),
                    b't' => (b'\t', 2),
                    b'0' => (0, 2),
                    b'x' => hex_escape(&b[i + 2..])?,
                    c => (c, 2),
                };
                out.push(v);
                i += used;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn llhttp_blocks_are_decoded_like_md_test() {
        let md = "### x\n\n<!-- meta={\"type\": \"request\"} -->\n```http\nGET / HTTP/1.1\nX: a\\tb\\x41\n\n\n```\n\n<!-- meta={\"type\": \"response\"} -->\n```http\nHTTP/1.1 200 OK\n\n\n```\n";
        let r = llhttp_markdown(md, "t.md");
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].bytes, b"GET / HTTP/1.1\r\nX: a\tbA\r\n\r\n");
        assert_eq!(r[0].origin, "t.md:5");
    }

    #[test]
    fn python_adjacent_literals_are_joined() {
        let py = "tr(R, b\"HEAD /foo HTTP/1.1\\r\\n\" b\"  folded: line\\r\\n\\r\\n\", None)\nx = b'abc'\n";
        let r = python_bytes(py, "t.py");
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].bytes, b"HEAD /foo HTTP/1.1\r\n  folded: line\r\n\r\n");
    }
}
