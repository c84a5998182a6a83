//! The regression file: requests on which our servers once differed from Apache, with
//! Apache's recorded answer. CI replays it against our servers alone.
//!
//! ```text
//! # comment
//! == name (where the request came from)
//! > GET / HTTP/1.1\r\nHost: 1234\r\n\r\n        the request, escaped (wire::escape)
//! < fate=closed                                 Apache's answer, one Observation line each
//! < 1 status=400 Bad Request
//! ! deviation: reason (conformance/DEVIATIONS.md)   optional: a listed deviation; then
//! ~ fate=kept                                   our answer, which the replay checks instead
//! ```

use super::observe::Observation;
use super::wire::{escape, unescape};

/// One entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Regression {
    pub name: String,
    pub request: Vec<u8>,
    /// Apache's answer.
    pub apache: Observation,
    /// For a listed deviation: why, and our answer.
    pub deviation: Option<(String, Observation)>,
}

impl Regression {
    /// What our server must answer: Apache's answer, or ours for a listed deviation.
    pub fn expected(&self) -> &Observation {
        self.deviation.as_ref().map_or(&self.apache, |(_, o)| o)
    }
}

/// Parse a regression file; errors name the line.
pub fn parse(text: &str) -> Result<Vec<Regression>, String> {
    let mut out: Vec<Regression> = Vec::new();
    for (n, raw) in text.lines().enumerate() {
        let line = raw.trim_end();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let err = |m: &str| format!("line {}: {m}: {line}", n + 1);
        if let Some(name) = line.strip_prefix("== ") {
            out.push(Regression {
                name: name.to_string(),
                request: Vec::new(),
                apache: Observation { lines: vec![] },
                deviation: None,
            });
            continue;
        }
        let cur = out
            .last_mut()
            .ok_or_else(|| err("before the first `== name`"))?;
        let (tag, rest) = line.split_at(line.find(' ').unwrap_or(line.len()));
        let rest = rest.strip_prefix(' ').unwrap_or(rest);
        match tag {
            ">" => cur.request = unescape(rest).ok_or_else(|| err("bad escape"))?,
            "<" => cur.apache.lines.push(rest.to_string()),
            "!" => {
                let reason = rest
                    .strip_prefix("deviation:")
                    .ok_or_else(|| err("`! deviation: reason`"))?;
                cur.deviation = Some((reason.trim().to_string(), Observation { lines: vec![] }));
            }
            "~" => match &mut cur.deviation {
                Some((_, o)) => o.lines.push(rest.to_string()),
                None => return Err(err("`~` line without `! deviation:`")),
            },
            _ => return Err(err("unknown tag")),
        }
    }
    for r in &out {
        if r.request.is_empty() || r.apache.lines.is_empty() {
            return Err(format!(
                "entry `{}` lacks a request or Apache's answer",
                r.name
            ));
        }
    }
    Ok(out)
}

/// One entry in the file's format.
pub fn format(r: &Regression) -> String {
    let mut s = format!("== {}\n> {}\n", r.name, escape(&r.request));
    for l in &r.apache.lines {
        s.push_str(&format!("< {l}\n"));
    }
    if let Some((reason, ours)) = &r.deviation {
        s.push_str(&format!("! deviation: {reason}\n"));
        for l in &ours.lines {
            s.push_str(&format!("~ {l}\n"));
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regression_file_round_trips() {
        let r = Regression {
            name: "x".into(),
            request: b"GET / HTTP/1.1\r\n\r\n".to_vec(),
            apache: Observation {
                lines: vec!["fate=closed".into(), "1 status=400 Bad Request".into()],
            },
            deviation: Some((
                "why".into(),
                Observation {
                    lines: vec!["fate=kept".into()],
                },
            )),
        };
        let text = format!("# c\n\n{}", format(&r));
        assert_eq!(parse(&text), Ok(vec![r.clone()]));
        assert_eq!(r.expected().lines, vec!["fate=kept".to_string()]);
        assert!(parse("> x").is_err());
    }
}
