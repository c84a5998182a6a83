//! mod_deflate's `DEFLATE` output filter (Apache `modules/filters/mod_deflate.c:
//! deflate_out_filter`, `deflate_check_etag`): gzip a response for clients that accept it.
//!
//! The filter runs on the finished response (our handlers hand over the whole body, as a
//! brigade ending in EOS), after the handler and `ErrorDocument`, before mod_headers' output
//! filter (`AP_FTYPE_CONTENT_SET` runs after the resource filters). [`decide`] is pure and
//! takes Apache's steps in Apache's order:
//! 1. A body known whole and at most 68 bytes (gzip header + trailer + 50) is left alone.
//! 2. 204, `no-gzip` in the environment, a `Content-Range` already set: left alone.
//! 3. `gzip-only-text/html=1` and a type other than `text/html…`: left alone.
//! 4. A `Content-Encoding` other than identity/7bit/8bit/binary: left alone (no double gzip).
//! 5. From here on `Vary: Accept-Encoding` is added, compressed or not.
//! 6. Unless `force-gzip` is set, `Accept-Encoding` must name `gzip` (case-insensitive; not
//!    `x-gzip`, not `*`) without `q=0`.
//! 7. A 304 only gets the headers (`Content-Encoding`, the `-gzip` ETag).
//! 8. Otherwise the body is compressed: Apache's 10-byte gzip header, the raw deflate stream,
//!    CRC-32 and length. The ETag gets `-gzip` before its closing quote (`DeflateAlterETag`).
//!
//! A `Range` on a static file is applied after this filter (the handler defers it,
//! [`crate::http::static_files::apply_pending_range`]): as Apache's byterange filter, it cuts
//! the gzip stream, and only when the compressed body is whole (not chunked).
//!
//! Framing: Apache's content-length filter can only count a body that reaches it in one
//! brigade; zlib holds roughly the first 60 KB of output before the first pass, so small
//! bodies get a `Content-Length` and large ones go chunked (HTTP/1.1) or close-delimited
//! (HTTP/1.0), in `DeflateBufferSize` pieces. We compress the whole body at once and use
//! [`WHOLE_BODY_LIMIT`] for that boundary (a DEVIATIONS.md line: zlib's exact boundary
//! depends on the data). A streamed body (CGI output still coming) is first read to its end.
//!
//! The compressor is flate2's rust backend (miniz_oxide): the decompressed body is Apache's,
//! the compressed bytes are not zlib's. `DeflateWindowSize` and `DeflateMemLevel` are accepted
//! at their defaults only (miniz_oxide has a fixed 32 KiB window); the INFLATE input filter
//! and its `DeflateInflate*` directives are refused.

use std::io::Write;

use flate2::Compression;
use flate2::write::DeflateEncoder;

use super::setenvif::Env;
use crate::http::response::{Chunk, Response};

/// `gzip_header` in mod_deflate.c: magic, deflate, no flags, no mtime, no extra flags, OS_CODE
/// 0x03 (Unix).
const GZIP_HEADER: [u8; 10] = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3];

/// Step 1: `sizeof(gzip_header) + VALIDATION_SIZE + 50`.
pub const SMALL_RESPONSE: u64 = 10 + 8 + 50;

/// Compressed bodies up to this size go out with a `Content-Length` (see the module doc).
pub const WHOLE_BODY_LIMIT: usize = 64 * 1024;

/// `DeflateAlterETag`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AlterEtag {
    /// `AddSuffix` (default): `"…-gzip"`.
    #[default]
    AddSuffix,
    NoChange,
    Remove,
}

/// mod_deflate's server configuration (`deflate_filter_config`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeflateConfig {
    /// `DeflateCompressionLevel` 1–9; zlib's `Z_DEFAULT_COMPRESSION` is level 6.
    pub level: u32,
    /// `DeflateBufferSize` (8096, `DEFAULT_BUFFERSIZE`): the size of each chunk of a chunked body.
    pub buffer_size: usize,
    /// `DeflateFilterNote Input|Output|Ratio name`: notes for the access log's `%{name}n`.
    pub note_input: Option<String>,
    pub note_output: Option<String>,
    pub note_ratio: Option<String>,
    pub alter_etag: AlterEtag,
}

impl Default for DeflateConfig {
    fn default() -> Self {
        DeflateConfig {
            level: 6,
            buffer_size: 8096,
            note_input: None,
            note_output: None,
            note_ratio: None,
            alter_etag: AlterEtag::AddSuffix,
        }
    }
}

/// What [`decide`] reads about the request and the response so far.
#[derive(Debug, Clone, Copy)]
pub struct Facts<'a> {
    pub status: u16,
    pub content_type: Option<&'a str>,
    /// Every `Content-Encoding` the response carries, joined with `,`.
    pub content_encoding: Option<&'a str>,
    pub has_content_range: bool,
    /// The request's `Accept-Encoding`.
    pub accept_encoding: Option<&'a str>,
    /// The body length when the whole body is in hand (not for a CGI's pipe).
    pub known_length: Option<u64>,
    pub env: &'a Env,
}

/// What the filter does with a response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Steps 1–4: remove the filter, change nothing.
    Pass,
    /// Step 6: `Vary: Accept-Encoding` only.
    VaryOnly,
    /// Step 7: a 304 gets the compressed variant's headers.
    HeadersOnly,
    /// Step 8.
    Compress,
}

/// Steps 1–7 of the module doc.
pub fn decide(f: &Facts<'_>) -> Decision {
    if f.known_length.is_some_and(|n| n <= SMALL_RESPONSE) {
        return Decision::Pass;
    }
    if f.status == 204 || f.env.get("no-gzip").is_some() || f.has_content_range {
        return Decision::Pass;
    }
    if !f.content_type.is_some_and(|t| t.starts_with("text/html"))
        && f.env.get("gzip-only-text/html") == Some("1")
    {
        return Decision::Pass;
    }
    if let Some(enc) = f.content_encoding {
        let mut rest = enc;
        while !rest.is_empty() {
            let token = get_token(&mut rest, false);
            if !matches!(token, "identity" | "7bit" | "8bit" | "binary") && !token.is_empty() {
                return Decision::Pass;
            }
            rest = rest.strip_prefix([',', ';']).unwrap_or(rest);
        }
    }
    if f.env.get("force-gzip").is_none() && !accepts_gzip(f.accept_encoding) {
        return Decision::VaryOnly;
    }
    if f.status == 304 {
        return Decision::HeadersOnly;
    }
    Decision::Compress
}

/// `ap_get_token`: skip white space, take up to `;` or `,` (or white space unless
/// `accept_white`), trim, and leave `s` at the next non-white byte.
fn get_token<'a>(s: &mut &'a str, accept_white: bool) -> &'a str {
    let t = s.trim_start();
    let end = t
        .find(|c: char| c == ';' || c == ',' || (!accept_white && c.is_ascii_whitespace()))
        .unwrap_or(t.len());
    *s = t[end..].trim_start();
    t[..end].trim_end()
}

/// Step 6 as `deflate_out_filter` reads `Accept-Encoding`: the first `gzip` token, and its
/// first parameter as the q-value; `q=0`, `q=0.0`… refuse (a prefix of `q=0.000`).
pub fn accepts_gzip(accept: Option<&str>) -> bool {
    let Some(mut a) = accept else {
        return false;
    };
    let mut token = Some(get_token(&mut a, false));
    while token.is_some_and(|t| !t.is_empty() && !t.eq_ignore_ascii_case("gzip")) {
        while let Some(rest) = a.strip_prefix(';') {
            a = rest;
            get_token(&mut a, true);
        }
        if let Some(rest) = a.strip_prefix(',') {
            a = rest;
        }
        token = (!a.is_empty()).then(|| get_token(&mut a, false));
    }
    let mut q = None;
    if !a.is_empty() {
        a = a.trim_start_matches(';');
        q = Some(get_token(&mut a, true));
    }
    let zero = q.is_some_and(|q| q.len() >= 3 && "q=0.000".starts_with(q));
    token.is_some_and(|t| !t.is_empty()) && !zero
}

/// The request facts the filter needs beyond the response.
#[derive(Debug, Clone, Copy)]
pub struct RequestFacts<'a> {
    pub accept_encoding: Option<&'a str>,
    /// HTTP/1.1 or later: a long body goes chunked, else it ends with the close.
    pub http11: bool,
    pub head: bool,
    pub env: &'a Env,
}

/// The `DEFLATE` filter on `r`: the one entry point that `SetOutputFilter`, mod_mime's
/// `AddOutputFilter` and mod_filter's `AddOutputFilterByType` call. Access-log notes
/// (`DeflateFilterNote`) go to `notes`.
pub fn output_filter(
    cfg: &DeflateConfig,
    req: &RequestFacts<'_>,
    r: &mut Response,
    notes: &mut Env,
) {
    let encoding = response_field(r, "Content-Encoding");
    let facts = Facts {
        status: r.status,
        content_type: r.content_type.as_deref(),
        content_encoding: encoding.as_deref(),
        has_content_range: response_field(r, "Content-Range").is_some(),
        accept_encoding: req.accept_encoding,
        known_length: (!r.streamed).then(|| r.body_len()),
        env: req.env,
    };
    let decision = decide(&facts);
    if decision == Decision::Pass {
        return;
    }
    if decision != Decision::VaryOnly {
        // Apache unsets the handler's Content-Length below and the content-length filter
        // sets it again at the end: Vary and Content-Encoding come before it.
        r.content_length_set = false;
    }
    add_field(r, "Vary", "Accept-Encoding");
    if decision == Decision::VaryOnly {
        return;
    }
    if decision == Decision::Compress {
        drain_stream(r);
    }
    let compressed = match decision {
        Decision::Compress => match gzip(&r.body, cfg.level) {
            Ok(c) => Some(c),
            // A file that cannot be read now goes out as it is (Apache would abort the
            // response half-way; we have not sent anything yet).
            Err(_) => return,
        },
        _ => None,
    };
    // The compressed variant's headers.
    match encoding.as_deref() {
        None => add_field(r, "Content-Encoding", "gzip"),
        Some(e) if e.eq_ignore_ascii_case("identity") => set_field(r, "Content-Encoding", "gzip"),
        Some(_) => add_field(r, "Content-Encoding", "gzip"),
    }
    alter_etag(r, cfg.alter_etag);
    let Some(Gzipped {
        body,
        total_in,
        total_out,
    }) = compressed
    else {
        return;
    };
    // A HEAD whose body would go chunked: Apache's filter stops at its second pass
    // (`r->header_only && r->bytes_sent`), before the notes are written.
    let stopped_early = req.head && body.len() > WHOLE_BODY_LIMIT;
    for (name, value) in [
        (&cfg.note_input, total_in),
        (&cfg.note_output, total_out),
        (
            &cfg.note_ratio,
            (total_out * 100).checked_div(total_in).unwrap_or(0),
        ),
    ] {
        if let Some(n) = name.as_ref().filter(|_| !stopped_early) {
            let v = if total_in > 0 {
                value.to_string()
            } else {
                "-".into()
            };
            notes.set(n, v);
        }
    }
    frame(r, body, cfg.buffer_size, req);
}

/// A response's field wherever the handler put it (`headers_out` + `err_headers_out`).
fn response_field(r: &Response, name: &str) -> Option<String> {
    let fixed = r
        .headers
        .iter()
        .chain(&r.late_headers)
        .map(|(k, v)| (*k, v));
    let owned = r.script_headers.iter().chain(&r.err_headers);
    let values: Vec<&String> = fixed
        .chain(owned.map(|(k, v)| (k.as_str(), v)))
        .filter(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v)
        .collect();
    (!values.is_empty()).then(|| {
        values
            .iter()
            .map(|v| v.as_str())
            .collect::<Vec<_>>()
            .join(",")
    })
}

/// `apr_table_mergen`: join to the existing field, or append one where Apache's table would
/// have it: after a `Content-Length` the handler set (static files), else before the length.
fn add_field(r: &mut Response, name: &'static str, value: &str) {
    if let Some((_, v)) = r
        .headers
        .iter_mut()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
    {
        *v = format!("{v}, {value}");
    } else if let Some((_, v)) = r
        .script_headers
        .iter_mut()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
    {
        *v = format!("{v}, {value}");
    } else if r.content_length_set {
        r.added_headers.push((name.to_string(), value.to_string()));
    } else if !r.script_headers.is_empty() {
        r.script_headers.push((name.to_string(), value.to_string()));
    } else {
        r.headers.push((name, value.to_string()));
    }
}

/// `apr_table_setn` on a field that exists.
fn set_field(r: &mut Response, name: &'static str, value: &str) {
    for (k, v) in r.headers.iter_mut() {
        if k.eq_ignore_ascii_case(name) {
            *v = value.to_string();
        }
    }
    for (k, v) in r.script_headers.iter_mut() {
        if k.eq_ignore_ascii_case(name) {
            *v = value.to_string();
        }
    }
}

/// `deflate_check_etag`.
fn alter_etag(r: &mut Response, how: AlterEtag) {
    match how {
        AlterEtag::NoChange => {}
        AlterEtag::Remove => {
            r.headers.retain(|(k, _)| !k.eq_ignore_ascii_case("ETag"));
            r.script_headers
                .retain(|(k, _)| !k.eq_ignore_ascii_case("ETag"));
        }
        AlterEtag::AddSuffix => {
            let fixed = r.headers.iter_mut().map(|(k, v)| (*k, v));
            let owned = r.script_headers.iter_mut().map(|(k, v)| (k.as_str(), v));
            for (_, v) in fixed
                .chain(owned)
                .filter(|(k, _)| k.eq_ignore_ascii_case("ETag"))
            {
                if v.len() > 2 && v.ends_with('"') {
                    v.insert_str(v.len() - 1, "-gzip");
                }
            }
        }
    }
}

/// A compressed body and the deflate stream's counters (`total_in`, `total_out`).
struct Gzipped {
    body: Vec<u8>,
    total_in: u64,
    total_out: u64,
}

/// Step 8: header, raw deflate of every chunk (files read in 64 KiB pieces), CRC-32 and
/// length, little-endian (`putLong`).
/// The rest of a streamed body (a CGI script still writing) read to its end into `r.body`:
/// the compressed body is built whole, so nothing may follow it uncompressed.
fn drain_stream(r: &mut Response) {
    use crate::http::streamed::Piece;
    let Some(mut s) = r.stream.take_if(|s| !s.raw) else {
        return;
    };
    loop {
        match s.source.read(true) {
            Piece::Data(d) => r.body.push(Chunk::Bytes(d)),
            // Only a read that must not wait pauses; this one may.
            Piece::Pause => {}
            Piece::End => break,
            // The source has logged why; the connection ends after this answer, as the
            // pump would end it.
            Piece::Failed => {
                r.close = true;
                break;
            }
        }
    }
    // The body is whole now: framed like any other compressed body (a Content-Length up to
    // WHOLE_BODY_LIMIT, as Apache's content-length filter gives a small CGI answer).
    r.chunked = false;
    r.close_delimited = false;
}

fn gzip(body: &[Chunk], level: u32) -> std::io::Result<Gzipped> {
    let mut out = Vec::with_capacity(1024);
    out.extend_from_slice(&GZIP_HEADER);
    let mut enc = DeflateEncoder::new(out, Compression::new(level));
    let mut crc = flate2::Crc::new();
    let mut feed = |data: &[u8]| -> std::io::Result<()> {
        crc.update(data);
        enc.write_all(data)
    };
    for c in body {
        c.for_each_piece(&mut feed)?;
    }
    let mut out = enc.finish()?;
    let total_out = (out.len() - GZIP_HEADER.len()) as u64;
    out.extend_from_slice(&crc.sum().to_le_bytes());
    out.extend_from_slice(&crc.amount().to_le_bytes());
    Ok(Gzipped {
        body: out,
        total_in: u64::from(crc.amount()),
        total_out,
    })
}

/// The compressed body and how its end is marked (module doc, "Framing").
fn frame(r: &mut Response, body: Vec<u8>, piece: usize, req: &RequestFacts<'_>) {
    let whole = body.len() <= WHOLE_BODY_LIMIT;
    r.body.clear();
    if whole {
        r.body.push(Chunk::Bytes(body));
        return;
    }
    if req.head {
        // No length for a HEAD whose GET would be chunked (ap_set_keepalive, header_only).
        return;
    }
    if req.http11 {
        r.chunked = true;
        r.chunk_pieces = true;
    } else {
        r.close_delimited = true;
    }
    // Apache's passes: the gzip header with the first buffer, then one buffer each, and
    // what the final flush produced.
    let piece = piece.max(1);
    let mut rest = &body[..];
    let mut first = GZIP_HEADER.len() + piece;
    while rest.len() > first + piece {
        let (head, tail) = rest.split_at(first);
        r.body.push(Chunk::Bytes(head.to_vec()));
        rest = tail;
        first = piece;
    }
    r.body.push(Chunk::Bytes(rest.to_vec()));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deflate_accept_encoding_as_deflate_out_filter() {
        for yes in [
            "gzip",
            "GZIP",
            "deflate, gzip",
            "gzip;q=0.5",
            "deflate;q=1, gzip ; q=0.001",
            "br, gzip, deflate",
        ] {
            assert!(accepts_gzip(Some(yes)), "{yes}");
        }
        for no in [
            "",
            "identity",
            "x-gzip",
            "*",
            "gzip;q=0",
            "gzip; q=0.0, deflate",
            "gzip;q=0.000",
            "deflate",
        ] {
            assert!(!accepts_gzip(Some(no)), "{no}");
        }
        assert!(!accepts_gzip(None));
    }

    fn facts<'a>(env: &'a Env) -> Facts<'a> {
        Facts {
            status: 200,
            content_type: Some("text/html"),
            content_encoding: None,
            has_content_range: false,
            accept_encoding: Some("gzip"),
            known_length: Some(1000),
            env,
        }
    }

    #[test]
    fn deflate_decision_steps_in_apaches_order() {
        let env = Env::default();
        assert_eq!(decide(&facts(&env)), Decision::Compress);
        let small = Facts {
            known_length: Some(68),
            ..facts(&env)
        };
        assert_eq!(decide(&small), Decision::Pass);
        let cgi = Facts {
            known_length: None,
            ..facts(&env)
        };
        assert_eq!(decide(&cgi), Decision::Compress);
        for f in [
            Facts {
                status: 204,
                ..facts(&env)
            },
            Facts {
                has_content_range: true,
                ..facts(&env)
            },
            Facts {
                content_encoding: Some("gzip"),
                ..facts(&env)
            },
            Facts {
                content_encoding: Some("identity, br"),
                ..facts(&env)
            },
        ] {
            assert_eq!(decide(&f), Decision::Pass, "{f:?}");
        }
        let ident = Facts {
            content_encoding: Some("identity"),
            ..facts(&env)
        };
        assert_eq!(decide(&ident), Decision::Compress);
        let no_ae = Facts {
            accept_encoding: None,
            ..facts(&env)
        };
        assert_eq!(decide(&no_ae), Decision::VaryOnly);
        let not_modified = Facts {
            status: 304,
            known_length: None,
            ..facts(&env)
        };
        assert_eq!(decide(&not_modified), Decision::HeadersOnly);
        let mut env = Env::default();
        env.set("no-gzip", "1".into());
        assert_eq!(decide(&facts(&env)), Decision::Pass);
        let mut env = Env::default();
        env.set("gzip-only-text/html", "1".into());
        assert_eq!(decide(&facts(&env)), Decision::Compress);
        let plain = Facts {
            content_type: Some("text/plain"),
            ..facts(&env)
        };
        assert_eq!(decide(&plain), Decision::Pass);
        let mut env = Env::default();
        env.set("force-gzip", "1".into());
        let forced = Facts {
            accept_encoding: None,
            ..facts(&env)
        };
        assert_eq!(decide(&forced), Decision::Compress);
    }

    #[test]
    fn deflate_gzip_round_trips_with_apaches_header() {
        let text = b"<p>hello</p>\n".repeat(200);
        let g = gzip(&[Chunk::Bytes(text.clone())], 6).unwrap();
        assert_eq!(&g.body[..10], &GZIP_HEADER);
        assert_eq!(g.total_in, text.len() as u64);
        assert_eq!(g.total_out as usize, g.body.len() - 18);
        let mut d = flate2::read::GzDecoder::new(&g.body[..]);
        let mut back = Vec::new();
        std::io::Read::read_to_end(&mut d, &mut back).unwrap();
        assert_eq!(back, text);
    }

    #[test]
    fn deflate_etag_suffix_and_large_bodies_are_chunked_in_buffer_pieces() {
        let mut r = Response::new(200);
        r.headers.push(("ETag", "\"a9d-61\"".into()));
        r.headers.push(("ETag-Weak", "W/\"x\"".into()));
        alter_etag(&mut r, AlterEtag::AddSuffix);
        assert_eq!(r.header("ETag"), Some("\"a9d-61-gzip\""));
        let env = Env::default();
        let req = RequestFacts {
            accept_encoding: Some("gzip"),
            http11: true,
            head: false,
            env: &env,
        };
        frame(&mut r, vec![7u8; WHOLE_BODY_LIMIT + 30_000], 8096, &req);
        let sizes: Vec<u64> = r.body.iter().map(Chunk::len).collect();
        assert_eq!(sizes[0], 8106);
        assert_eq!(sizes[1], 8096);
        assert!(r.chunked && r.chunk_pieces);
        assert_eq!(r.body_len() as usize, WHOLE_BODY_LIMIT + 30_000);
    }
}
