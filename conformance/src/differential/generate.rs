//! A seeded generator of requests: mostly well-formed HTTP/1.x with one or two odd parts each
//! (request-line forms, methods, versions, header names and values, obs-fold, whitespace, Host
//! forms, Content-Length / Transfer-Encoding combinations, chunk sizes and extensions, Range,
//! conditionals, percent-encoding and dot segments), and sometimes a byte-level mutation.
//! The same seed gives the same requests, so a run can be repeated.

/// xorshift64*: small, seedable, good enough to pick grammar branches.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    /// 0..n
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }
    /// True with probability `pct` %.
    pub fn chance(&mut self, pct: u64) -> bool {
        self.next_u64() % 100 < pct
    }
    pub fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())]
    }
}

const METHODS: &[&str] = &[
    "GET", "GET", "GET", "HEAD", "HEAD", "POST", "POST", "PUT", "DELETE", "OPTIONS", "TRACE",
    "PATCH", "PROPFIND", "FOO", "get", "G@T", "CONNECT",
];

const PATHS: &[&str] = &[
    "/",
    "/index.html",
    "/index.html",
    "/1k.bin",
    "/100k.bin",
    "/missing.html",
    "/sub",
    "/sub/",
    "/sub/index.html",
    "/empty",
    "/empty/",
    "/%69ndex.html",
    "/./index.html",
    "/sub/../index.html",
    "/sub/./../1k.bin",
    "/../index.html",
    "/%2e%2e/index.html",
    "/sub%2findex.html",
    "/index.html%00",
    "/index.%zz",
    "/index.html?a=b",
    "/index.html?",
    "/index.html#frag",
    "//index.html",
    "/index.html/",
    "/index.html/extra",
    "/a%20b",
    "/\x7f",
    "*",
    "http://127.0.0.1/index.html",
    "http://example.com:80/sub",
    "HTTP://EXAMPLE.COM/",
    "http://[::1]/1k.bin",
    "http://user@h/",
    "h:80",
    "index.html",
];

const VERSIONS: &[&str] = &[
    "HTTP/1.1",
    "HTTP/1.1",
    "HTTP/1.1",
    "HTTP/1.0",
    "HTTP/1.0",
    "HTTP/0.9",
    "HTTP/2.0",
    "HTTP/1.2",
    "http/1.1",
    "HTTP/01.1",
    "HTTP/1.10",
    "HTTP/1",
    "HTTP/1.1 ",
    "",
];

const HOSTS: &[&str] = &[
    "localhost",
    "127.0.0.1",
    "127.0.0.1:80",
    "example.com.",
    "EXAMPLE.com",
    "[::1]",
    "[::1]:8080",
    "127.1",
    "0x7f.0.0.1",
    "1234",
    "a..b",
    "a_b",
    "h:0",
    "h:",
    "h:99999",
    "[::1::2]",
    "",
    "a b",
    "x/y",
    "é.com",
];

const RANGES: &[&str] = &[
    "bytes=0-10",
    "bytes=-5",
    "bytes=5-",
    "bytes=0-0,2-3",
    "bytes=0-1,1-2,3-4",
    "bytes=100-50",
    "bytes=2000-",
    "bytes=x-y",
    "bytes = 0-1",
    "BYTES=0-1",
    "items=0-1",
    "bytes=0-1,",
    "bytes=0-99999999999999999999",
];

const CONDITIONALS: &[(&str, &str)] = &[
    ("If-None-Match", "*"),
    ("If-None-Match", "\"nope\""),
    ("If-Match", "*"),
    ("If-Match", "\"nope\""),
    ("If-Modified-Since", "Sat, 01 Jan 2000 00:00:00 GMT"),
    ("If-Modified-Since", "Fri, 01 Jan 2100 00:00:00 GMT"),
    ("If-Modified-Since", "garbage"),
    ("If-Unmodified-Since", "Sat, 01 Jan 2000 00:00:00 GMT"),
    ("If-Range", "\"nope\""),
    ("If-Range", "Sat, 01 Jan 2000 00:00:00 GMT"),
];

const ODD_HEADERS: &[&str] = &[
    "X-Folded: a\r\n b",
    "X-Folded: a\r\n\tb",
    "X-Empty:",
    "X-Space : v",
    "X Bad: v",
    "X-Ctl: a\x01b",
    "X-Obs: caf\u{e9}",
    "NoColon",
    ": novalue",
    "X-Long: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    "Connection: close",
    "Connection: keep-alive",
    "Connection: Close, TE",
    "Expect: 100-continue",
    "Expect: teapot",
    "Content-Type: text/plain",
    "Accept: */*",
    "User-Agent: mpm-lab-diff",
    "Upgrade: h2c",
    "\tX-Leading-Tab: v",
];

/// Body framing and the bytes after the head.
fn framing(rng: &mut Rng, headers: &mut Vec<String>, body: &mut Vec<u8>) {
    let data = &b"hello, world"[..rng.below(13)];
    match rng.below(12) {
        0..=3 => {}
        4 => {
            headers.push(format!("Content-Length: {}", data.len()));
            body.extend_from_slice(data);
        }
        5 => {
            let cl = rng.pick(&[
                "05",
                "+5",
                "5,5",
                "5, 5",
                " 5",
                "5 ",
                "-1",
                "0x5",
                "",
                "99999999999999999999",
            ]);
            headers.push(format!("Content-Length: {cl}"));
            body.extend_from_slice(b"hello");
        }
        6 => {
            headers.push("Content-Length: 5".into());
            headers.push(format!("Content-Length: {}", rng.pick(&["5", "6"])));
            body.extend_from_slice(b"hello");
        }
        7 => {
            // Shorter body than announced: both servers wait for the rest.
            headers.push("Content-Length: 3".into());
            body.extend_from_slice(b"abcdefGET / HTTP/1.1\r\nHost: h\r\n\r\n");
        }
        _ => {
            let te = rng.pick(&[
                "chunked",
                "chunked",
                "Chunked",
                "gzip, chunked",
                "chunked, gzip",
                "identity",
                "chunked, chunked",
                " chunked",
            ]);
            headers.push(format!("Transfer-Encoding: {te}"));
            if rng.chance(20) {
                headers.push("Content-Length: 5".into());
            }
            chunks(rng, body);
        }
    }
}

fn chunks(rng: &mut Rng, body: &mut Vec<u8>) {
    for _ in 0..rng.below(3) {
        let n = 1 + rng.below(6);
        let size = match rng.below(8) {
            0 => format!("{n:X}"),
            1 => format!("0{n:x}"),
            2 => format!("{n:x};ext=1"),
            3 => format!("{n:x} ;ext"),
            4 => format!("{n:x} "),
            5 => format!("{n:x}\t"),
            _ => format!("{n:x}"),
        };
        body.extend_from_slice(size.as_bytes());
        body.extend_from_slice(b"\r\n");
        body.extend_from_slice(&b"abcdef"[..n]);
        body.extend_from_slice(b"\r\n");
    }
    let last = rng.pick(&[
        "0",
        "0",
        "0",
        "00",
        "0;x=y",
        "ffffffffffffffffff",
        "-1",
        "g",
    ]);
    body.extend_from_slice(last.as_bytes());
    body.extend_from_slice(b"\r\n");
    if rng.chance(15) {
        body.extend_from_slice(b"Trailer-Field: v\r\n");
    }
    body.extend_from_slice(b"\r\n");
}

/// One request.
pub fn request(rng: &mut Rng) -> Vec<u8> {
    let method = rng.pick(METHODS);
    let path = rng.pick(PATHS);
    let version = rng.pick(VERSIONS);
    let sep = if rng.chance(8) {
        rng.pick(&["  ", "\t", " \t"])
    } else {
        " "
    };
    let mut line = format!("{method}{sep}{path}");
    if !version.is_empty() {
        line.push_str(&format!("{sep}{version}"));
    }
    let mut headers = Vec::new();
    if !rng.chance(10) {
        let host = rng.pick(HOSTS);
        let host = if rng.chance(60) { "localhost" } else { host };
        headers.push(format!("Host: {host}"));
        if rng.chance(4) {
            headers.push("Host: other".into());
        }
    }
    if rng.chance(15) {
        headers.push(format!("Range: {}", rng.pick(RANGES)));
    }
    if rng.chance(12) {
        let (n, v) = CONDITIONALS[rng.below(CONDITIONALS.len())];
        headers.push(format!("{n}: {v}"));
    }
    for _ in 0..rng.below(3) {
        if rng.chance(40) {
            headers.push(rng.pick(ODD_HEADERS).to_string());
        }
    }
    if rng.chance(50) {
        headers.push("Connection: close".into());
    }
    let mut body = Vec::new();
    if matches!(method, "POST" | "PUT" | "PATCH") || rng.chance(10) {
        framing(rng, &mut headers, &mut body);
    }
    let eol: &[u8] = if rng.chance(4) { b"\n" } else { b"\r\n" };
    let mut out = line.into_bytes();
    out.extend_from_slice(eol);
    if !version.is_empty() || rng.chance(20) {
        for h in &headers {
            out.extend_from_slice(h.as_bytes());
            out.extend_from_slice(eol);
        }
        out.extend_from_slice(eol);
        out.extend_from_slice(&body);
    }
    if rng.chance(6) {
        mutate(rng, &mut out);
    }
    out
}

/// One byte-level change: flip, delete, insert a control byte, or duplicate a slice.
pub fn mutate(rng: &mut Rng, req: &mut Vec<u8>) {
    if req.is_empty() {
        return;
    }
    let at = rng.below(req.len());
    match rng.below(4) {
        0 => req[at] ^= 1 << rng.below(8),
        1 => {
            req.remove(at);
        }
        2 => req.insert(at, rng.pick(&[0u8, b'\r', b'\n', b' ', 0x7f, 0xff])),
        _ => {
            let end = (at + 1 + rng.below(8)).min(req.len());
            let slice = req[at..end].to_vec();
            req.splice(at..at, slice);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generator_is_deterministic_and_varied() {
        let a: Vec<_> = (0..50)
            .map({
                let mut r = Rng::new(7);
                move |_| request(&mut r)
            })
            .collect();
        let b: Vec<_> = (0..50)
            .map({
                let mut r = Rng::new(7);
                move |_| request(&mut r)
            })
            .collect();
        assert_eq!(a, b);
        let distinct: std::collections::HashSet<_> = a.iter().collect();
        assert!(distinct.len() > 40);
        assert!(a.iter().any(|r| r.starts_with(b"GET ")));
    }
}
