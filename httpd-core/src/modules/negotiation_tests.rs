//! Unit tests of [`super`]: header parsing and the steps of `is_variant_better`.

use super::*;
use crate::modules::negotiation_accept::atoq;

fn neg(headers: &[(&str, &str)], conf: NegConfig) -> Neg {
    let owned: Vec<(String, String)> = headers
        .iter()
        .map(|(k, v)| (k.to_ascii_lowercase(), v.to_string()))
        .collect();
    let get = move |n: &str| {
        owned
            .iter()
            .find(|(k, _)| *k == n.to_ascii_lowercase())
            .map(|(_, v)| v.clone())
    };
    let mut n = Neg::from_headers(&get, conf);
    n.add_default_accepts(false);
    n
}

fn var(name: &str, ct: &str, langs: &[&str], enc: Option<&str>, bytes: i64) -> Variant {
    let mut v = Variant::new(name.into(), ct);
    v.languages = langs.iter().map(|l| l.to_string()).collect();
    v.encoding = enc.map(str::to_string);
    v.bytes = bytes;
    v
}

fn choose(headers: &[(&str, &str)], conf: NegConfig, vars: &mut [Variant]) -> Option<String> {
    let mut n = neg(headers, conf);
    let (best, choice) = best_match(&mut n, vars, &|v| v.bytes);
    best.filter(|_| choice).map(|i| vars[i].file_name.clone())
}

fn debian_priority() -> NegConfig {
    let mut c = NegConfig {
        language_priority: Some(
            "en ca cs da de el eo es et fr"
                .split(' ')
                .map(String::from)
                .collect(),
        ),
        force_priority: 0,
    };
    c.force("Prefer").unwrap();
    c.force("Fallback").unwrap();
    c
}

fn index_variants() -> Vec<Variant> {
    vec![
        var("index.html.de", "text/html", &["de"], None, 8),
        var("index.html.en", "text/html", &["en"], None, 8),
        var("index.html.es", "text/html", &["es"], None, 9),
    ]
}

#[test]
fn accept_parsing_as_apache() {
    let a = header_line(Some(
        "text/html;level=1, text/*; q=0.5 ,*/*;q=.1,image/png;Q=0.7",
    ))
    .unwrap();
    assert_eq!(a.len(), 4);
    assert_eq!(
        (a[0].name.as_str(), a[0].level, a[0].quality),
        ("text/html", 1.0, 1.0)
    );
    assert_eq!((a[1].name.as_str(), a[1].quality), ("text/*", 0.5));
    assert_eq!(a[2].quality, 0.1);
    assert_eq!(a[3].quality, 0.7, "parameter names are case-insensitive");
    assert_eq!(atoq("1"), 1.0);
    assert_eq!(atoq("0"), 0.0);
    assert_eq!(atoq("0.001"), 0.001);
    assert_eq!(atoq("2"), 1.0, "anything but 0.xxx is 1");
    let (ct, _) = get_entry("text/html; charset=\"UTF-8\"; qs=0.5");
    assert_eq!(
        (ct.charset.as_str(), ct.quality, ct.level),
        ("utf-8", 0.5, 2.0)
    );
}

#[test]
fn step_3_language_quality_and_step_4_priority() {
    let mut v = index_variants();
    assert_eq!(
        choose(
            &[("Accept-Language", "es, en;q=0.5")],
            debian_priority(),
            &mut v
        )
        .as_deref(),
        Some("index.html.es")
    );
    // No Accept-Language: LanguagePriority decides (en first).
    let mut v = index_variants();
    assert_eq!(
        choose(&[], debian_priority(), &mut v).as_deref(),
        Some("index.html.en")
    );
    // Accept-Language de-AT matches de by prefix only through the 0.001 fiddle; Fallback
    // would give the others 0.0001, so de wins.
    let mut v = index_variants();
    assert_eq!(
        choose(&[("Accept-Language", "de-AT")], debian_priority(), &mut v).as_deref(),
        Some("index.html.de")
    );
}

#[test]
fn force_language_priority_fallback_and_none() {
    // fr is not available: Fallback picks LanguagePriority's first available (en).
    let mut v = index_variants();
    assert_eq!(
        choose(&[("Accept-Language", "fr")], debian_priority(), &mut v).as_deref(),
        Some("index.html.en")
    );
    // ForceLanguagePriority None (or Prefer alone): nothing acceptable, no choice (406).
    let mut c = debian_priority();
    c.force_priority = 0;
    c.force("Prefer").unwrap();
    let mut v = index_variants();
    assert_eq!(choose(&[("Accept-Language", "fr")], c, &mut v), None);
    let mut none = NegConfig::default();
    assert!(none.force("None").is_ok());
    assert_eq!(
        none.force("Prefer").unwrap_err(),
        "Cannot combine ForceLanguagePriority options None and Prefer"
    );
    assert!(none.force("sometimes").is_err());
}

#[test]
fn step_2_type_quality_and_wildcard_fiddle() {
    let mk = || {
        vec![
            var("img.gif", "image/gif", &[], None, 3),
            var("img.png", "image/png", &[], None, 2),
        ]
    };
    let mut v = mk();
    assert_eq!(
        choose(
            &[("Accept", "image/gif;q=0.4, image/png;q=0.8")],
            NegConfig::default(),
            &mut v
        )
        .as_deref(),
        Some("img.png")
    );
    // Without any q, an exact match (1) beats a wildcard (0.01).
    let mut v = mk();
    assert_eq!(
        choose(
            &[("Accept", "image/gif, */*")],
            NegConfig::default(),
            &mut v
        )
        .as_deref(),
        Some("img.gif")
    );
    // Both by wildcard: step 8, the smaller file.
    let mut v = mk();
    assert_eq!(
        choose(&[("Accept", "image/*")], NegConfig::default(), &mut v).as_deref(),
        Some("img.png")
    );
    // Nothing acceptable.
    let mut v = mk();
    assert_eq!(
        choose(&[("Accept", "text/plain")], NegConfig::default(), &mut v),
        None
    );
}

#[test]
fn step_6_charset_and_step_7_encoding() {
    let mk = || {
        vec![
            var("p.html.iso", "text/html; charset=iso-8859-1", &[], None, 5),
            var("p.html.utf8", "text/html; charset=utf-8", &[], None, 9),
        ]
    };
    // Equal quality: the charset that is not ISO-8859-1 is preferred.
    let mut v = mk();
    assert_eq!(
        choose(&[], NegConfig::default(), &mut v).as_deref(),
        Some("p.html.utf8")
    );
    let mut v = mk();
    assert_eq!(
        choose(
            &[("Accept-Charset", "iso-8859-1")],
            NegConfig::default(),
            &mut v
        )
        .as_deref(),
        Some("p.html.iso"),
        "utf-8 is unlisted: quality 0"
    );
    let mk = || {
        vec![
            var("foo.html", "text/html", &[], None, 17),
            var("foo.html.gz", "text/html", &[], Some("gzip"), 15),
        ]
    };
    // No Accept-Encoding: encodings are acceptable at 0.5, the plain file wins.
    let mut v = mk();
    assert_eq!(
        choose(&[], NegConfig::default(), &mut v).as_deref(),
        Some("foo.html")
    );
    // gzip accepted: identity is 0.0001 unless listed, so gzip wins.
    let mut v = mk();
    assert_eq!(
        choose(&[("Accept-Encoding", "gzip")], NegConfig::default(), &mut v).as_deref(),
        Some("foo.html.gz")
    );
    // no-gzip in the environment drops encoded variants.
    let mut v = mk();
    let mut n = neg(&[("Accept-Encoding", "gzip")], NegConfig::default());
    n.may_discard = 1;
    let (best, _) = best_match(&mut n, &mut v, &|v| v.bytes);
    assert_eq!(best.map(|b| v[b].file_name.as_str()), Some("foo.html"));
}

#[test]
fn step_5_level_and_rvsa() {
    let mut v = vec![
        var("a.html3", "text/html;level=3", &[], None, 1),
        var("a.html2", "text/html;level=2", &[], None, 9),
    ];
    // A client that does not name level 3 gets the lowest level.
    assert_eq!(
        choose(&[("Accept", "text/html")], NegConfig::default(), &mut v).as_deref(),
        Some("a.html2")
    );
    // RVSA/1.0 (Negotiate: 1.0): q is the product; a wildcard match is indefinite → list.
    let mut n = neg(&[("Accept", "*/*")], NegConfig::default());
    n.parse_negotiate(Some("1.0"), None);
    let mut v = index_variants();
    let (_, choice) = best_match(&mut n, &mut v, &|v| v.bytes);
    assert!(!choice);
    assert!(n.ua_supports_trans && n.send_alternates && n.use_rvsa);
}

#[test]
fn fix_encoding_uses_the_clients_spelling() {
    assert_eq!(
        fix_encoding("gzip", Some("x-gzip")).as_deref(),
        Some("x-gzip")
    );
    assert_eq!(
        fix_encoding("x-gzip", Some("gzip, x-gzip")).as_deref(),
        Some("gzip")
    );
    assert_eq!(fix_encoding("gzip", Some("br")), None);
    assert_eq!(fix_encoding("gzip", None), None);
}
