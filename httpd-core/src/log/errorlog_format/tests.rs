//! ErrorLogFormat: parsing as `core.c: parse_errorlog_string`, rendering as
//! `log.c: do_errorlog_format` (the steps of the module doc).

use super::*;
use std::cell::OnceCell;

fn tz() -> jiff::tz::TimeZone {
    jiff::tz::TimeZone::UTC
}

fn line(
    fmt: &str,
    level: Level,
    client: Option<&str>,
    req: Option<&RequestFacts<'_>>,
) -> Option<String> {
    let items = parse(fmt, true).unwrap();
    let tz = tz();
    let info = LineInfo {
        module: "core",
        level: Some(level),
        client: client.map(|c| c.parse().unwrap()),
        request: req,
        in_request: req.is_some(),
        server_hostname: "main.example",
        threaded: false,
        tz: &tz,
    };
    render(&items, &info, "AH00128: File does not exist: /x")
}

#[test]
fn errorlog_format_parse_errors_in_apaches_words() {
    let err = |f: &str, main: bool| parse(f, main).unwrap_err();
    assert_eq!(
        err("%Z %M", true),
        "Unrecognized error log format directive %Z"
    );
    assert_eq!(
        err("[%t]", true),
        "main ErrorLogFormat must contain message format string '%M'"
    );
    assert_eq!(
        err("%+a %M", true),
        "The '+' flag cannot be used in the main error log format"
    );
    assert_eq!(
        err("%M", false),
        "%M cannot be used in once-per-request or once-per-connection formats"
    );
    assert_eq!(
        err("%7a", false),
        "The loglevel cannot be used as a condition in once-per-request or once-per-connection formats"
    );
    assert_eq!(
        err("%16F %M", true),
        "The specified loglevel modifier is out of range"
    );
    assert_eq!(
        err("%{x", true),
        "Ran off end of error log format parsing args to some directive"
    );
    let mut f = ErrorLogFormat::default();
    assert_eq!(
        f.set(&["session".into(), "%a".into()]).unwrap_err(),
        "ErrorLogFormat type must be one of request, connection"
    );
}

#[test]
fn errorlog_format_items_fields_and_separators() {
    let items = parse(
        "[%{u}t] [%-m:%l] [client\\ %a] %M% ,\\ referer\\ %{Referer}i",
        true,
    )
    .unwrap();
    // "[", the time item, "] [" … : field separators where a space starts an item.
    assert!(items.iter().any(|i| i.kind == Kind::Time(Some("u".into()))));
    assert!(items.iter().any(|i| i.kind == Kind::Module && i.hyphen));
    assert!(
        items
            .iter()
            .any(|i| i.kind == Kind::Header("Referer".into()) && !i.field_sep)
    );
    let sep = items.iter().filter(|i| i.field_sep).count();
    assert_eq!(sep, 4, "' [', ' [client…', ' %M', '% ,…': {items:?}");
    assert_eq!(
        parse("a\\tb %% %M", true).unwrap()[0].kind,
        Kind::Const("a\tb".into())
    );
}

#[test]
fn errorlog_format_empty_item_drops_its_field_hyphen_keeps_it() {
    // No client: "[client %a] " vanishes as one field (step 3).
    let l = line("[%l] [client\\ %a] %M", Level::Error, None, None).unwrap();
    assert_eq!(l, "[error] AH00128: File does not exist: /x");
    let l = line(
        "[%l] [client\\ %a] %M",
        Level::Error,
        Some("127.0.0.1:5000"),
        None,
    )
    .unwrap();
    assert_eq!(
        l,
        "[error] [client 127.0.0.1:5000] AH00128: File does not exist: /x"
    );
    // '-': a dash in place of the missing value.
    let l = line("[%-a] %-{Referer}i %M", Level::Error, None, None).unwrap();
    assert_eq!(l, "[-] - AH00128: File does not exist: /x");
    // %% and the pid.
    let l = line("%% %P %M", Level::Error, None, None).unwrap();
    assert_eq!(
        l,
        format!("% {} AH00128: File does not exist: /x", std::process::id())
    );
}

#[test]
fn errorlog_format_level_condition_removes_the_field_below_it() {
    // `%7F`: only at debug (7) or more verbose; `%F` has no value here, so test with %P.
    let l = line("[%l] %7P: %M", Level::Error, None, None).unwrap();
    assert_eq!(l, "[error] AH00128: File does not exist: /x");
    let l = line("[%l] %7P: %M", Level::Debug, None, None).unwrap();
    assert_eq!(
        l,
        format!(
            "[debug] {}: AH00128: File does not exist: /x",
            std::process::id()
        )
    );
}

#[test]
fn errorlog_format_request_items_and_required_lines() {
    let mut h = crate::http::headers::Headers::default();
    h.add("Referer", "http://r/\"q\"\t");
    let id = OnceCell::new();
    id.set("AbCdEfGhIjK".to_string()).unwrap();
    let env = crate::modules::setenvif::Env(vec![("FOO".into(), "bar".into())]);
    let req = RequestFacts {
        local: Some("127.0.0.2:8080".parse().unwrap()),
        headers: Some(&h),
        env: Some(&env),
        server_name: Some("www.example"),
        vhost_name: Some("vhost.example"),
        keepalives: Some(2),
        log_id: Some(&id),
        ..RequestFacts::default()
    };
    let l = line(
        "%v %V %A %k [%L] %{Referer}i %{FOO}e%-{BAR}e %M",
        Level::Info,
        Some("127.0.0.1:1"),
        Some(&req),
    )
    .unwrap();
    // ap_escape_errorlog_item: the quote stays, the tab is escaped.
    assert_eq!(
        l,
        "vhost.example www.example 127.0.0.2:8080 2 [AbCdEfGhIjK] http://r/\"q\"\\t bar- AH00128: File does not exist: /x"
    );
    // Outside a request: %v is the server's own name, request items are empty.
    let l = line("%v [%V] %M", Level::Info, None, None).unwrap();
    assert_eq!(l, "main.example AH00128: File does not exist: /x");
    // '+' in a once-per-request line: an empty value drops the whole line.
    let items = parse("UA:%+{User-Agent}i", false).unwrap();
    let tz = tz();
    let info = LineInfo {
        module: "core",
        level: None,
        client: None,
        request: Some(&req),
        in_request: true,
        server_hostname: "",
        threaded: false,
        tz: &tz,
    };
    assert_eq!(render(&items, &info, ""), None);
}

#[test]
fn errorlog_format_time_forms() {
    let t = |a: &str| {
        let mut s = String::new();
        time(Some(a), &tz(), &mut s);
        s
    };
    let ctime = t("");
    assert_eq!(ctime.len(), "Fri Dec 04 07:34:37 2026".len(), "{ctime}");
    assert_eq!(t("u").len(), "Fri Dec 04 07:34:37.213848 2026".len());
    assert_eq!(t("cu").len(), "2026-12-04 07:34:37.213848".len());
    assert!(t("cz").ends_with(" +0000"), "{}", t("cz"));
    assert_eq!(t("%Y").len(), 4);
}

#[test]
fn errorlog_format_log_id_is_eleven_base64_characters() {
    let id = generate_log_id(None);
    assert_eq!(id.len(), 11, "{id}");
    assert!(
        id.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/')
    );
    assert_eq!(base64(b"\0\0\0\0\0\0\0\0"), "AAAAAAAAAAA=");
    assert_eq!(base64(b"Man"), "TWFu");
}

#[test]
fn errorlog_format_vhost_merge_takes_what_the_vhost_left_unset() {
    let mut main = ErrorLogFormat::default();
    main.set(&["[%l] %M".into()]).unwrap();
    main.set(&["connection".into(), "C %a".into()]).unwrap();
    let mut v = ErrorLogFormat::default();
    v.set(&["request".into(), "R %L".into()]).unwrap();
    let m = v.merged_over(&main);
    assert_eq!(m.main, main.main);
    assert_eq!(m.connection, main.connection);
    assert_eq!(m.request.as_ref().map(Vec::len), Some(1));
    // An empty format creates an empty list: the main server's lines are not inherited.
    let mut v = ErrorLogFormat::default();
    v.set(&["connection".into(), String::new()]).unwrap();
    assert_eq!(v.merged_over(&main).connection, Some(Vec::new()));
}
