//! Steps 1 and 2 of the module doc of [`super`]: a fresh directory per test, the small site,
//! and the fixture config rewritten into that directory.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

use super::Mpm;

static COUNTER: AtomicU32 = AtomicU32::new(0);

pub(super) fn unique_dir(mpm: Mpm) -> io::Result<PathBuf> {
    let base = std::env::temp_dir().join("mpm-lab-tests");
    fs::create_dir_all(&base)?;
    loop {
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let d = base.join(format!(
            "{}-{}-{n}-{nanos:x}",
            mpm.name(),
            std::process::id()
        ));
        match fs::create_dir(&d) {
            Ok(()) => return Ok(d),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
}

/// The small site every test server has: `index.html`, `1k.bin`, `100k.bin` (as the
/// reference `apache.sh` creates, but with deterministic bytes).
pub fn write_site(docroot: &Path) -> io::Result<()> {
    fs::write(
        docroot.join("index.html"),
        "<html><body>lab</body></html>\n",
    )?;
    let pattern: Vec<u8> = (0..102_400u32).map(|i| (i * 7 % 251) as u8).collect();
    fs::write(docroot.join("1k.bin"), &pattern[..1024])?;
    fs::write(docroot.join("100k.bin"), &pattern)?;
    Ok(())
}

fn quote(p: &Path) -> String {
    format!("\"{}\"", p.display())
}

fn unquote(s: &str) -> &str {
    s.trim().trim_matches('"')
}

/// Step 2 of the module doc: rewrite a fixture config into `dir` and append `extra` lines
/// (where `@DIR@` stands for `dir`).
pub fn render_config(text: &str, dir: &Path, extra: &[String]) -> String {
    let docroot = dir.join("htdocs");
    let mut old_docroot: Option<String> = None;
    for line in text.lines() {
        let t = line.trim_start();
        if let Some((d, rest)) = t.split_once(char::is_whitespace)
            && d.eq_ignore_ascii_case("DocumentRoot")
        {
            old_docroot = Some(unquote(rest).trim_end_matches('/').to_string());
        }
    }
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::new();
    for line in text.lines() {
        let t = line.trim_start();
        let indent = &line[..line.len() - t.len()];
        let (word, rest) = t.split_once(char::is_whitespace).unwrap_or((t, ""));
        let key = word.to_ascii_lowercase();
        let new = match key.as_str() {
            "serverroot" => Some(format!("ServerRoot {}", quote(dir))),
            "errorlog" => Some(format!("ErrorLog {}", quote(&dir.join("error_log")))),
            "pidfile" => Some(format!("PidFile {}", quote(&dir.join("httpd.pid")))),
            "defaultruntimedir" => Some(format!("DefaultRuntimeDir {}", quote(dir))),
            "documentroot" => Some(format!("DocumentRoot {}", quote(&docroot))),
            "listen" => Some("Listen 127.0.0.1:0".to_string()),
            "customlog" | "transferlog" => {
                let fmt = rest
                    .trim()
                    .split_once(char::is_whitespace)
                    .map(|x| x.1)
                    .unwrap_or("");
                Some(
                    format!("{word} {} {fmt}", quote(&dir.join("access_log")))
                        .trim_end()
                        .to_string(),
                )
            }
            "<directory" => {
                let arg = unquote(rest.trim_end_matches('>')).trim_end_matches('/');
                if old_docroot.as_deref() == Some(arg) {
                    Some(format!("<Directory {}>", quote(&docroot)))
                } else {
                    None
                }
            }
            _ => None,
        };
        seen.insert(key);
        out.push(match new {
            Some(n) => format!("{indent}{n}"),
            None => line.to_string(),
        });
    }
    let mut head = vec![format!(
        "# rewritten by the conformance harness into {}",
        dir.display()
    )];
    if !seen.contains("serverroot") {
        head.push(format!("ServerRoot {}", quote(dir)));
    }
    if !seen.contains("listen") {
        head.push("Listen 127.0.0.1:0".into());
    }
    if !seen.contains("errorlog") {
        head.push(format!("ErrorLog {}", quote(&dir.join("error_log"))));
    }
    if !seen.contains("pidfile") {
        head.push(format!("PidFile {}", quote(&dir.join("httpd.pid"))));
    }
    if !seen.contains("documentroot") {
        head.push(format!("DocumentRoot {}", quote(&docroot)));
    }
    let mut all = head;
    all.extend(out);
    if !extra.is_empty() {
        all.push("# ---- test directives ----".into());
        // `@DIR@` names the test directory (an Alias target is not ServerRoot-relative).
        let d = dir.display().to_string();
        all.extend(extra.iter().map(|l| l.replace("@DIR@", &d)));
    }
    all.push(String::new());
    all.join("\n")
}
