//! `Include` and `IncludeOptional` file lists (Apache `config.c: ap_process_fnmatch_configs`,
//! `process_resource_config_fnmatch`): one file, every file of a directory (sorted), or a
//! pattern with `*`/`?` in the last path component (sorted, dot files skipped). `IncludeOptional`
//! turns "no match" and "no such directory" into an empty list.

use std::path::{Path, PathBuf};

use super::parse::io_text;

/// The files an `Include` names: one file, every file of a directory, or a `*`/`?` pattern in
/// the last path component.
pub fn expand_include(path: &Path, optional: bool) -> Result<Vec<PathBuf>, String> {
    let shown = path.display().to_string();
    let last = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let is_pattern = last.contains(['*', '?']);
    if path
        .parent()
        .is_some_and(|p| p.to_string_lossy().contains(['*', '?']))
    {
        return Err(format!(
            "Include {shown}: mpm-lab only expands wildcards in the last path component"
        ));
    }
    if !is_pattern {
        if path.is_dir() {
            let mut files = list_dir(path)
                .map_err(|e| format!("Could not open config directory {shown}: {}", io_text(&e)))?;
            files.retain(|f| f.is_file());
            return Ok(files);
        }
        if !path.exists() && optional {
            return Ok(Vec::new());
        }
        return Ok(vec![path.to_path_buf()]);
    }
    let dir = path.parent().unwrap_or(Path::new("/"));
    let entries = match list_dir(dir) {
        Ok(e) => e,
        Err(_) if optional => return Ok(Vec::new()),
        Err(e) => {
            return Err(format!(
                "Could not open config directory {}: {}",
                dir.display(),
                io_text(&e)
            ));
        }
    };
    let files: Vec<PathBuf> = entries
        .into_iter()
        .filter(|f| {
            f.file_name().is_some_and(|n| {
                let n = n.to_string_lossy();
                !n.starts_with('.') && fnmatch(&last, &n)
            }) && f.is_file()
        })
        .collect();
    if files.is_empty() && !optional {
        return Err(format!(
            "No matches for the wildcard '{last}' in '{}', failing",
            dir.display()
        ));
    }
    Ok(files)
}

fn list_dir(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    v.sort();
    Ok(v)
}

/// A small `fnmatch(3)`: `*` matches any run of characters, `?` one character.
pub fn fnmatch(pattern: &str, name: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    // Iterative matcher with one backtrack point (the last `*`), linear in practice.
    let (mut pi, mut ni, mut star, mut mark) = (0, 0, None, 0);
    while ni < n.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == n[ni]) {
            pi += 1;
            ni += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ni;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ni = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_fnmatch_star_and_question() {
        assert!(fnmatch("*.conf", "a.conf"));
        assert!(fnmatch("*.conf", ".conf"));
        assert!(!fnmatch("*.conf", "a.conf.bak"));
        assert!(fnmatch("x?.load", "x1.load"));
        assert!(!fnmatch("x?.load", "x12.load"));
        assert!(fnmatch("*", ""));
        assert!(fnmatch("a*b*c", "aXXbYYc"));
        assert!(!fnmatch("a*b*c", "aXXbYY"));
    }

    #[test]
    fn config_include_list_sorted_and_optional() {
        let dir = std::env::temp_dir().join(format!("mpm-lab-include-unit-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        for f in ["b.conf", "a.conf", ".x.conf", "c.txt"] {
            std::fs::write(dir.join(f), "").unwrap();
        }
        let names = |v: Vec<PathBuf>| {
            v.iter()
                .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
                .collect::<Vec<_>>()
        };
        assert_eq!(
            names(expand_include(&dir.join("*.conf"), false).unwrap()),
            ["a.conf", "b.conf"]
        );
        assert_eq!(
            names(expand_include(&dir, false).unwrap()),
            [".x.conf", "a.conf", "b.conf", "c.txt"]
        );
        assert!(
            expand_include(&dir.join("*.nope"), true)
                .unwrap()
                .is_empty()
        );
        assert!(
            expand_include(&dir.join("*.nope"), false)
                .unwrap_err()
                .starts_with("No matches for the wildcard '*.nope'")
        );
        assert!(
            expand_include(&dir.join("missing.conf"), true)
                .unwrap()
                .is_empty()
        );
        assert_eq!(
            expand_include(&dir.join("missing.conf"), false).unwrap(),
            [dir.join("missing.conf")]
        );
        assert!(
            expand_include(&dir.join("*/x.conf"), false)
                .unwrap_err()
                .contains("last path component")
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
