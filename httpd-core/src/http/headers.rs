//! Header lines as `server/protocol.c: ap_get_mime_headers_core` reads them: obs-fold joined
//! with one SP, LimitRequestFields and LimitRequestFieldSize (also after merging), strict
//! field-name and field-value syntax.

use super::request::Rejection;
use super::request_line::{is_tchar, log_name};
use crate::log::Level;

/// Request headers: names as sent, repeated fields merged with ", " (`apr_table_compress`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Headers {
    fields: Vec<(String, String)>,
}

impl Headers {
    /// The (merged) value of `name`, compared case-insensitively.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    /// Add a field, merging it into an earlier one of the same name.
    pub fn add(&mut self, name: &str, value: &str) {
        match self
            .fields
            .iter_mut()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
        {
            Some((_, v)) => {
                v.push_str(", ");
                v.push_str(value);
            }
            None => self.fields.push((name.to_string(), value.to_string())),
        }
    }
    /// Replace the value of `name` where it first appeared, dropping repeats
    /// (`apr_table_setn`); add it at the end if absent.
    pub fn set(&mut self, name: &str, value: &str) {
        match self
            .fields
            .iter()
            .position(|(n, _)| n.eq_ignore_ascii_case(name))
        {
            Some(i) => {
                self.fields[i].1 = value.to_string();
                let mut seen = 0;
                self.fields.retain(|(n, _)| {
                    let same = n.eq_ignore_ascii_case(name);
                    seen += usize::from(same);
                    !same || seen == 1
                });
            }
            None => self.fields.push((name.to_string(), value.to_string())),
        }
    }
    /// Append a field even if the name is present (`apr_table_addn`: mod_headers'
    /// `RequestHeader add`).
    pub fn push(&mut self, name: &str, value: &str) {
        self.fields.push((name.to_string(), value.to_string()));
    }
    /// Drop a field.
    pub fn remove(&mut self, name: &str) {
        self.fields.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
    }
    /// Every field in arrival order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.fields.iter().map(|(n, v)| (n.as_str(), v.as_str()))
    }
    /// Whether a comma-separated header contains `token` (`ap_find_token`, case-insensitive).
    pub fn has_token(&self, name: &str, token: &str) -> bool {
        self.get(name)
            .is_some_and(|v| v.split(',').any(|t| t.trim().eq_ignore_ascii_case(token)))
    }
}

/// Collects header lines as `ap_get_mime_headers_core` does: obs-fold joined with one SP,
/// field count and size limits, strict name and value syntax.
pub struct HeaderParser {
    limit_fields: usize,
    limit_field_size: usize,
    pending: Option<Vec<u8>>,
    fields_read: usize,
    pub headers: Headers,
}

impl HeaderParser {
    pub fn new(limit_fields: usize, limit_field_size: usize) -> HeaderParser {
        HeaderParser {
            limit_fields,
            limit_field_size,
            pending: None,
            fields_read: 0,
            headers: Headers::default(),
        }
    }

    /// Feed one line (without CRLF). Returns `Ok(true)` at the empty line ending the headers.
    pub fn line(&mut self, raw: &[u8]) -> Result<bool, Rejection> {
        let mut len = raw.len();
        // Trailing SP/HT are no-ops; keep at least one byte.
        while len > 1 && matches!(raw[len - 1], b' ' | b'\t') {
            len -= 1;
        }
        let line = &raw[..len];
        if matches!(line.first(), Some(b' ' | b'\t')) {
            let Some(last) = self.pending.as_mut() else {
                return Err(Rejection::bad(
                    "AH03442: Line folding encountered before first header line".into(),
                ));
            };
            if line.len() == 1 {
                return Err(Rejection::bad(
                    "AH03443: Empty folded line encountered".into(),
                ));
            }
            let mut start = 1;
            while start < line.len() && matches!(line[start], b' ' | b'\t') {
                start += 1;
            }
            if last.len() + (line.len() - start) + 2 >= self.limit_field_size {
                let name = field_name(last);
                return Err(Rejection::new(
                    400,
                    Level::Info,
                    format!("AH00562: Request header exceeds LimitRequestFieldSize after folding: {name}"),
                )
                .with_notes(FIELD_TOO_LONG));
            }
            last.push(b' ');
            last.extend_from_slice(&line[start..]);
            return Ok(false);
        }
        if let Some(field) = self.pending.take() {
            self.store(&field)?;
        }
        if line.is_empty() {
            self.check_merged_lengths()?;
            return Ok(true);
        }
        self.pending = Some(line.to_vec());
        Ok(false)
    }

    fn store(&mut self, field: &[u8]) -> Result<(), Rejection> {
        self.fields_read += 1;
        if self.limit_fields != 0 && self.fields_read > self.limit_fields {
            return Err(Rejection::new(
                400,
                Level::Info,
                "AH00563: Number of request headers exceeds LimitRequestFields".into(),
            )
            .with_notes("The number of request header fields exceeds this server's limit."));
        }
        let name_end = field
            .iter()
            .position(|&b| !is_tchar(b))
            .unwrap_or(field.len());
        if name_end == 0 || field.get(name_end) != Some(&b':') {
            return Err(Rejection::bad(format!(
                "AH02426: Request header field name is malformed: {}",
                String::from_utf8_lossy(&field[..field.len().min(80)])
            )));
        }
        let mut v = name_end + 1;
        while v < field.len() && matches!(field[v], b' ' | b'\t') {
            v += 1;
        }
        let value = &field[v..];
        if value.iter().any(|&b| b != b'\t' && (b < 0x20 || b == 0x7f)) {
            return Err(Rejection::bad(format!(
                "AH02427: Request header value is malformed: {}",
                String::from_utf8_lossy(&value[..value.len().min(80)])
            )));
        }
        let name = String::from_utf8_lossy(&field[..name_end]);
        self.headers.add(&name, &String::from_utf8_lossy(value));
        Ok(())
    }

    /// `table_do_fn_check_lengths`: merged values obey LimitRequestFieldSize too.
    fn check_merged_lengths(&self) -> Result<(), Rejection> {
        for (name, value) in self.headers.iter() {
            if value.len() > self.limit_field_size {
                return Err(Rejection::new(
                    400,
                    Level::Info,
                    format!(
                        "AH00560: Request header exceeds LimitRequestFieldSize after merging: {}",
                        log_name(name)
                    ),
                )
                .with_notes(FIELD_TOO_LONG));
            }
        }
        Ok(())
    }
}

/// The error note of the field-size rejections.
pub const FIELD_TOO_LONG: &str = "Size of a request header field exceeds server limit.";

/// The name of a (possibly partial) header line, for AH00561/AH00562.
pub fn field_name(line: &[u8]) -> String {
    let end = line
        .iter()
        .position(|&b| b == b':')
        .unwrap_or(line.len())
        .min(80);
    String::from_utf8_lossy(&line[..end]).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(lines: &[&str]) -> Result<Headers, Rejection> {
        let mut p = HeaderParser::new(100, 8190);
        for l in lines {
            if p.line(l.as_bytes())? {
                return Ok(p.headers);
            }
        }
        panic!("no end of headers");
    }

    #[test]
    fn headers_merge_fold_and_reject() {
        let h = headers(&["A: 1", "a: 2", "B: x", "  y", ""]).unwrap();
        assert_eq!(h.get("A"), Some("1, 2"));
        assert_eq!(h.get("b"), Some("x y"));
        assert_eq!(headers(&[" x", ""]).unwrap_err().status, 400);
        assert_eq!(
            headers(&["A : 1", ""]).unwrap_err().status,
            400,
            "space before colon"
        );
        assert_eq!(
            headers(&["A: \x01", ""]).unwrap_err().status,
            400,
            "control byte"
        );
        assert_eq!(headers(&["NoColon", ""]).unwrap_err().status, 400);
    }

    #[test]
    fn rule_61_more_than_100_fields_is_400() {
        let mut p = HeaderParser::new(100, 8190);
        for i in 0..100 {
            assert!(!p.line(format!("X-{i}: v").as_bytes()).unwrap());
        }
        assert!(
            p.line(b"X-100: v").is_ok(),
            "the 101st is only counted when the next line arrives"
        );
        let err = p.line(b"").unwrap_err();
        assert_eq!((err.status, err.log.unwrap().0), (400, Level::Info));
    }
}
