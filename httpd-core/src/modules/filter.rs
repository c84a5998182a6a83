//! Which output filters a response goes through: mod_filter's `AddOutputFilterByType` (Apache
//! `modules/filters/mod_filter.c: add_filter`, `filter_harness`, `filter_lookup`) and core's
//! `SetOutputFilter` (`core.c: core_insert_filter`). The one filter mpm-lab has is mod_deflate's
//! `DEFLATE` ([`super::deflate`]).
//!
//! 0. Apache's own error pages never reach a content filter: `ap_send_error_response` sends
//!    them through the protocol filters only (the caller checks `Response::error_page`).
//! 1. `SetOutputFilter DEFLATE` inserts the filter itself: every other response of the
//!    section reaches it, whatever its status (the filter's own rules then decide).
//! 2. `AddOutputFilterByType DEFLATE type…` inserts mod_filter's harness, which looks at the
//!    response when its first bytes arrive, i.e. after the handler (a CGI's `Content-Type`
//!    counts): the type before any `;`, space or tab must equal one of the listed types
//!    (case-sensitive, as `strncmp`). The harness removes itself from any response whose
//!    status is not 200, unless the environment has `filter-errordocs`.
//! 3. Per directory, a section's `AddOutputFilterByType` for a filter replaces what outer
//!    sections said for that filter (mod_filter's `filter_merge` overlays the filter table);
//!    lines in one section add up.
//!
//! Left out, refused at config time: `FilterDeclare`, `FilterProvider` (its `ap_expr`
//! conditions), `FilterChain`, `FilterProtocol`, `FilterTrace`, and filters other than DEFLATE.

/// The output filters mpm-lab implements (by the name Apache registers).
pub const KNOWN_FILTERS: &[&str] = &["DEFLATE"];

/// `filter[;filter…]`, names checked against [`KNOWN_FILTERS`] (case-insensitive, as
/// `ap_get_output_filter_handle`), returned in upper case.
pub fn parse_filter_list(list: &str) -> Result<Vec<String>, String> {
    list.split(';')
        .filter(|n| !n.is_empty())
        .map(|n| {
            let up = n.to_ascii_uppercase();
            if KNOWN_FILTERS.contains(&up.as_str()) {
                Ok(up)
            } else if up == "INFLATE" {
                Err("Unknown filter provider INFLATE: mpm-lab's mod_deflate has the DEFLATE output filter only".into())
            } else {
                Err(format!(
                    "Unknown filter provider {n} (mpm-lab's output filters: {})",
                    KNOWN_FILTERS.join(", ")
                ))
            }
        })
        .collect()
}

/// Rule 3 within one section: add `types` to `name`'s list.
pub fn add_by_type(table: &mut Vec<(String, Vec<String>)>, name: &str, types: &[String]) {
    match table.iter_mut().find(|(n, _)| n == name) {
        Some((_, list)) => list.extend(types.iter().cloned()),
        None => table.push((name.to_string(), types.to_vec())),
    }
}

/// Rule 3 across sections: `inner`'s filters replace `merged`'s of the same name.
pub fn merge_by_type(merged: &mut Vec<(String, Vec<String>)>, inner: &[(String, Vec<String>)]) {
    for (name, types) in inner {
        merged.retain(|(n, _)| n != name);
        merged.push((name.clone(), types.clone()));
    }
}

/// `filter_lookup`'s type test (rule 2).
pub fn type_matches(types: &[String], content_type: Option<&str>) -> bool {
    let Some(ct) = content_type else {
        return false;
    };
    let len = ct.find([';', ' ', '\t']).unwrap_or(ct.len());
    types.iter().any(|t| t.as_bytes() == &ct.as_bytes()[..len])
}

/// Whether `filter` runs on this response (rules 1 and 2).
pub fn applies(
    section: &crate::config::Section,
    filter: &str,
    status: u16,
    content_type: Option<&str>,
    env: &super::setenvif::Env,
) -> bool {
    let set = section
        .output_filters
        .as_ref()
        .is_some_and(|f| f.iter().any(|n| n == filter));
    set || ((status == 200 || env.get("filter-errordocs").is_some())
        && section
            .filter_by_type
            .iter()
            .any(|(n, types)| n == filter && type_matches(types, content_type)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filter_types_match_before_parameters_and_case_sensitively() {
        let t = vec!["text/html".to_string(), "text/plain".to_string()];
        assert!(type_matches(&t, Some("text/html")));
        assert!(type_matches(&t, Some("text/html; charset=UTF-8")));
        assert!(type_matches(&t, Some("text/plain;charset=x")));
        assert!(!type_matches(&t, Some("text/htmlx")));
        assert!(!type_matches(&t, Some("Text/HTML")));
        assert!(!type_matches(&t, Some("text/css")));
        assert!(!type_matches(&t, None));
    }

    #[test]
    fn filter_lists_and_merge() {
        assert_eq!(parse_filter_list("deflate").unwrap(), vec!["DEFLATE"]);
        assert!(
            parse_filter_list("INCLUDES")
                .unwrap_err()
                .contains("INCLUDES")
        );
        assert!(parse_filter_list("INFLATE").is_err());
        let mut outer = Vec::new();
        add_by_type(&mut outer, "DEFLATE", &["text/html".into()]);
        add_by_type(&mut outer, "DEFLATE", &["text/css".into()]);
        assert_eq!(outer[0].1, vec!["text/html", "text/css"]);
        merge_by_type(&mut outer, &[("DEFLATE".into(), vec!["text/plain".into()])]);
        assert_eq!(
            outer,
            vec![("DEFLATE".to_string(), vec!["text/plain".to_string()])]
        );
    }

    #[test]
    fn filter_harness_skips_non_200_unless_filter_errordocs() {
        let s = crate::config::Section {
            filter_by_type: vec![("DEFLATE".into(), vec!["text/html".into()])],
            ..Default::default()
        };
        let mut env = super::super::setenvif::Env::default();
        assert!(applies(&s, "DEFLATE", 200, Some("text/html"), &env));
        assert!(!applies(&s, "DEFLATE", 404, Some("text/html"), &env));
        assert!(!applies(&s, "DEFLATE", 200, Some("image/png"), &env));
        env.set("filter-errordocs", "1".into());
        assert!(applies(&s, "DEFLATE", 404, Some("text/html"), &env));
        let set = crate::config::Section {
            output_filters: Some(vec!["DEFLATE".into()]),
            ..Default::default()
        };
        assert!(applies(
            &set,
            "DEFLATE",
            404,
            Some("image/png"),
            &Default::default()
        ));
    }
}
