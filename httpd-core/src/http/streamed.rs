//! A body produced while it is sent: mod_cgi's CGI bucket as the content-length filter and the
//! core output filter see it (`modules/generators/cgi_common.h: cgi_bucket_read`,
//! `server/protocol.c: ap_content_length_filter`).
//!
//! The protocol, step by step:
//! 1. The handler reads what the source has *without waiting* (Apache's non-blocking bucket
//!    read). If the source ends before it pauses, the whole body is known: the handler answers
//!    an ordinary response with a `Content-Length`, as Apache's content-length filter does.
//! 2. Otherwise the response carries the source ([`Response::stream`]): the head goes out at
//!    once without a length, chunked for HTTP/1.1, else ended by the close.
//! 3. [`pump`] then waits for the source (bounded by the source's own timeout), takes what
//!    follows without waiting up to [`FLUSH_AT`] bytes, and writes it as one chunk: the source
//!    pausing is Apache's FLUSH bucket (`EAGAIN` → flush, then a blocking read).
//! 4. At the end the last chunk (`0\r\n\r\n`) goes out. A source that fails (the script's
//!    Timeout) ends the response without it, and the connection closes: the client can tell
//!    the body is incomplete (Apache's AH00574 case).
//! 5. A raw source (`nph-` scripts) is written as it comes, with no head and no framing, and
//!    the connection closes after it (`cgi_handle_response`: `AP_CONN_CLOSE`).
//!
//! [`Response::stream`]: super::response::Response::stream

use std::net::TcpStream;

use super::response::{Chunk, Last, OutQueue};

/// How much is gathered before it is written when the source keeps producing without a pause
/// (the core output filter's `THRESHOLD_MAX_BUFFER`, 64 KiB).
pub const FLUSH_AT: usize = 64 * 1024;

/// What one read of a [`BodySource`] gave.
#[derive(Debug, PartialEq, Eq)]
pub enum Piece {
    Data(Vec<u8>),
    /// Nothing now (only from a read that must not wait): time to flush.
    Pause,
    /// The body is complete.
    End,
    /// The source gave up (it has logged why): the body is incomplete.
    Failed,
}

/// A body read while it is sent.
pub trait BodySource {
    /// The next piece; `wait` says whether the read may block (up to the source's timeout).
    fn read(&mut self, wait: bool) -> Piece;
}

/// The source a response carries. `Debug` only names it.
pub struct Stream {
    pub source: Box<dyn BodySource>,
    /// Step 5: pass the bytes through untouched (no head, no chunking).
    pub raw: bool,
}

impl std::fmt::Debug for Stream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Stream").field("raw", &self.raw).finish()
    }
}

/// Step 1: everything the source has now, without waiting. `Ok` when it ended on the way.
pub fn take_ready(source: &mut dyn BodySource, into: &mut Vec<u8>) -> Result<(), Piece> {
    loop {
        match source.read(false) {
            Piece::Data(d) => into.extend_from_slice(&d),
            Piece::End => return Ok(()),
            other => return Err(other),
        }
    }
}

/// How [`pump`] ended, and what it wrote.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Pumped {
    /// Body bytes (`%b`, `r->bytes_sent`).
    pub body: u64,
    /// Bytes handed to the network, framing included (`%O`).
    pub wire: u64,
    /// The body is complete and framed: the connection may be kept.
    pub complete: bool,
    /// Writing to the client failed (`c->aborted`, `%X`).
    pub aborted: bool,
}

/// Steps 3–5: write what `out` holds (the head and the first bytes), then the rest of the
/// source, each piece as soon as the source pauses. `out` is written with the blocking socket
/// (its send timeout is the caller's `Timeout`). A client that goes away stops the pump: the
/// source is dropped, which ends the script.
pub fn pump(out: &mut OutQueue, socket: &TcpStream, stream: &mut Stream, chunked: bool) -> Pumped {
    let mut done = Pumped::default();
    let send = |out: &mut OutQueue| matches!(out.write_to(socket, Last::Open), Ok(true));
    if !send(out) {
        done.aborted = true;
        return done;
    }
    let mut pending: Vec<u8> = Vec::new();
    let mut wait = true;
    loop {
        let piece = stream.source.read(wait);
        let (flush, last) = match piece {
            Piece::Data(d) => {
                pending.extend_from_slice(&d);
                wait = false;
                (pending.len() >= FLUSH_AT, None)
            }
            Piece::Pause => {
                wait = true;
                (true, None)
            }
            Piece::End => (true, Some(true)),
            Piece::Failed => (true, Some(false)),
        };
        if flush {
            let frame = !stream.raw && chunked;
            let body = std::mem::take(&mut pending);
            done.body += body.len() as u64;
            if !body.is_empty() {
                if frame {
                    let size = format!("{:x}\r\n", body.len());
                    done.wire += size.len() as u64 + 2;
                    out.push(Chunk::Bytes(size.into_bytes()));
                }
                done.wire += body.len() as u64;
                out.push(Chunk::Bytes(body));
                if frame {
                    out.push(Chunk::Bytes(b"\r\n".to_vec()));
                }
            }
            if last == Some(true) && frame {
                done.wire += 5;
                out.push(Chunk::Bytes(b"0\r\n\r\n".to_vec()));
            }
            if !send(out) {
                done.aborted = true;
                return done;
            }
        }
        if let Some(complete) = last {
            done.complete = complete && !stream.raw;
            return done;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::VecDeque;
    use std::io::Read;
    use std::net::TcpListener;

    struct Script(VecDeque<Piece>);

    impl BodySource for Script {
        fn read(&mut self, _wait: bool) -> Piece {
            self.0.pop_front().unwrap_or(Piece::End)
        }
    }

    fn run(pieces: Vec<Piece>, raw: bool, chunked: bool) -> (Pumped, Vec<u8>) {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let c = TcpStream::connect(l.local_addr().unwrap()).unwrap();
        let (s, _) = l.accept().unwrap();
        let mut stream = Stream {
            source: Box::new(Script(pieces.into())),
            raw,
        };
        let mut out = OutQueue::default();
        out.push(Chunk::Bytes(b"H".to_vec()));
        let p = pump(&mut out, &s, &mut stream, chunked);
        drop(s);
        let mut got = Vec::new();
        (&c).read_to_end(&mut got).unwrap();
        (p, got)
    }

    #[test]
    fn pauses_flush_chunks_and_the_end_sends_the_last_chunk() {
        let (p, got) = run(
            vec![
                Piece::Data(b"ab".to_vec()),
                Piece::Data(b"c".to_vec()),
                Piece::Pause,
                Piece::Data(b"de".to_vec()),
                Piece::End,
            ],
            false,
            true,
        );
        assert_eq!(got, b"H3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n");
        assert_eq!((p.body, p.complete), (5, true));
        assert_eq!(p.wire as usize, got.len() - 1);
    }

    #[test]
    fn a_failed_source_gets_no_last_chunk_and_raw_is_untouched() {
        let (p, got) = run(vec![Piece::Data(b"x".to_vec()), Piece::Failed], false, true);
        assert_eq!(got, b"H1\r\nx\r\n");
        assert!(!p.complete);
        let (p, got) = run(vec![Piece::Data(b"HTTP/1.1 200".to_vec())], true, true);
        assert_eq!(got, b"HHTTP/1.1 200");
        assert!(!p.complete, "a raw body always ends the connection");
    }
}
