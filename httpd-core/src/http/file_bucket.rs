//! How a static file's bytes reach the socket: core's `EnableSendfile` and `EnableMMAP`
//! (Apache `server/core.c: set_enable_sendfile`, `set_enable_mmap`; APR
//! `buckets/apr_buckets_file.c: file_bucket_read`, `apr_buckets_mmap.c`;
//! `server/core_filters.c: send_brigade_nonblocking`).
//!
//! Three ways, chosen per directory at config time and fixed in the [`Chunk`] the handler
//! queues, so the output queue only follows what the chunk says:
//! 1. `EnableSendfile On`: `sendfile(2)` from the open file (no copy through user space).
//! 2. `EnableMMAP On` (Apache's default; with sendfile Off): the range is mapped once and the
//!    mapping is `send(2)`-ed like any buffer (APR turns a file bucket into an mmap bucket).
//! 3. Both Off: `pread(2)` into a buffer of [`READ_PIECE`] bytes, then `send(2)` (APR's
//!    `APR_BUCKET_BUFF_SIZE` reads).
//!
//! Small files never get here: they are read into the response head's buffer
//! ([`super::response::SMALL_FILE`]), which is faster than any of the three.
//!
//! The default differs from Apache's on purpose: with no `EnableSendfile` in force, mpm-lab
//! uses sendfile (Apache's compiled-in default is Off). Measured with `mpm-lab bench` (event,
//! 100 KB file, server CPU per request): sendfile 81 µs, read+send 113 µs, mmap+send 135 µs
//! (the per-request `munmap` costs TLB shoot-downs in a threaded child). An explicit
//! `EnableSendfile Off` gets Apache's behaviour: mmap, or read with `EnableMMAP Off`.

use std::fs::File;
use std::io;
use std::num::NonZeroUsize;
use std::os::fd::AsFd;
use std::ptr::NonNull;
use std::sync::Arc;

use super::response::Chunk;

/// Bytes read per `pread(2)` when neither sendfile nor mmap is allowed.
pub const READ_PIECE: usize = 64 * 1024;

/// `EnableSendfile` / `EnableMMAP` in force for a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileDelivery {
    pub sendfile: bool,
    pub mmap: bool,
}

impl Default for FileDelivery {
    /// Neither directive set: sendfile (module doc: measured fastest; Apache: Off), and
    /// EnableMMAP On as Apache's.
    fn default() -> Self {
        FileDelivery {
            sendfile: true,
            mmap: true,
        }
    }
}

/// A read-only shared mapping of part of a file, unmapped on drop.
#[derive(Debug)]
pub struct Mapping {
    ptr: NonNull<std::ffi::c_void>,
    len: usize,
}

// SAFETY: the mapping is read-only (PROT_READ) and never changed through this pointer; reading
// it from several threads is as safe as reading a shared `&[u8]`.
#[allow(unsafe_code)]
unsafe impl Send for Mapping {}
// SAFETY: as for Send: only shared reads happen through `bytes`.
#[allow(unsafe_code)]
unsafe impl Sync for Mapping {}

impl Mapping {
    /// Map `len` (> 0) bytes of `file` from `offset`. The offset given to `mmap(2)` must be a
    /// multiple of the page size: the mapping starts at the page below and skips the difference.
    pub fn new(file: &File, offset: u64, len: u64) -> io::Result<(Arc<Mapping>, usize)> {
        let page = nix::unistd::sysconf(nix::unistd::SysconfVar::PAGE_SIZE)
            .ok()
            .flatten()
            .unwrap_or(4096) as u64;
        let start = offset - offset % page;
        let skip = (offset - start) as usize;
        let total = NonZeroUsize::new(skip + len as usize)
            .ok_or_else(|| io::Error::other("empty mapping"))?;
        use nix::sys::mman::{MapFlags, ProtFlags, mmap};
        // SAFETY: a fresh read-only private mapping of an open file; no Rust object aliases the
        // address range. If the file shrinks while mapped, reading the lost tail raises SIGBUS
        // (Apache's EnableMMAP has the same hazard, documented in its manual for NFS files);
        // the handler mapped only the range the file had when it was opened.
        #[allow(unsafe_code)]
        let ptr = unsafe {
            mmap(
                None,
                total,
                ProtFlags::PROT_READ,
                MapFlags::MAP_PRIVATE,
                file.as_fd(),
                start as i64,
            )
        }
        .map_err(io::Error::from)?;
        Ok((
            Arc::new(Mapping {
                ptr,
                len: total.get(),
            }),
            skip,
        ))
    }

    /// The mapped bytes.
    pub fn bytes(&self) -> &[u8] {
        // SAFETY: `ptr` is a live PROT_READ mapping of `len` bytes until drop, and nothing
        // writes to it.
        #[allow(unsafe_code)]
        unsafe {
            std::slice::from_raw_parts(self.ptr.as_ptr().cast::<u8>(), self.len)
        }
    }
}

impl Drop for Mapping {
    fn drop(&mut self) {
        // SAFETY: unmaps exactly the range `mmap` returned; `bytes()` borrows end before drop.
        #[allow(unsafe_code)]
        unsafe {
            let _ = nix::sys::mman::munmap(self.ptr, self.len);
        }
    }
}

/// The chunk for `len` bytes of `file` from `offset`, as `how` says (steps 1–3).
pub fn file_chunk(file: &Arc<File>, offset: u64, len: u64, how: FileDelivery) -> io::Result<Chunk> {
    if how.sendfile {
        return Ok(Chunk::File {
            file: Arc::clone(file),
            offset,
            len,
            sendfile: true,
        });
    }
    if how.mmap {
        let (map, skip) = Mapping::new(file, offset, len)?;
        return Ok(Chunk::Mmap {
            map,
            start: skip,
            len: len as usize,
        });
    }
    Ok(Chunk::File {
        file: Arc::clone(file),
        offset,
        len,
        sendfile: false,
    })
}

/// Step 3 for one write: read the next piece at `offset` (at most `want` bytes).
pub fn read_piece(file: &File, offset: u64, want: u64, buf: &mut Vec<u8>) -> io::Result<usize> {
    let n = want.min(READ_PIECE as u64) as usize;
    buf.resize(n, 0);
    let got = std::os::unix::fs::FileExt::read_at(file, &mut buf[..n], offset)?;
    if got == 0 && n > 0 {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "file shrank while being sent",
        ));
    }
    buf.truncate(got);
    Ok(got)
}

impl Chunk {
    /// `len` bytes from `offset` within the chunk (the byterange step on a filtered body).
    pub fn slice(&self, offset: u64, len: u64) -> Chunk {
        match self {
            Chunk::Bytes(b) => Chunk::Bytes(b[offset as usize..(offset + len) as usize].to_vec()),
            Chunk::Mmap { map, start, .. } => Chunk::Mmap {
                map: Arc::clone(map),
                start: start + offset as usize,
                len: len as usize,
            },
            Chunk::File {
                file,
                offset: base,
                sendfile,
                ..
            } => Chunk::File {
                file: Arc::clone(file),
                offset: base + offset,
                len,
                sendfile: *sendfile,
            },
        }
    }

    /// Hand every byte of the chunk to `f`, in order (mod_deflate reads bodies this way).
    pub fn for_each_piece(&self, f: &mut dyn FnMut(&[u8]) -> io::Result<()>) -> io::Result<()> {
        match self {
            Chunk::Bytes(b) => f(b),
            Chunk::Mmap { map, start, len } => f(&map.bytes()[*start..*start + *len]),
            Chunk::File {
                file, offset, len, ..
            } => {
                let mut buf = Vec::new();
                let (mut off, end) = (*offset, *offset + *len);
                while off < end {
                    let n = read_piece(file, off, end - off, &mut buf)?;
                    f(&buf[..n])?;
                    off += n as u64;
                }
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each setting picks its way, and every way yields the file's bytes (whole and sliced).
    #[test]
    fn file_delivery_picks_sendfile_mmap_or_read() {
        let path = std::env::temp_dir().join(format!("mpm-lab-bucket-{}", std::process::id()));
        let data: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
        std::fs::write(&path, &data).unwrap();
        let file = Arc::new(File::open(&path).unwrap());
        let ways = [
            (true, false, "sendfile"),
            (false, true, "mmap"),
            (false, false, "read"),
        ];
        for (sendfile, mmap, want) in ways {
            let c = file_chunk(&file, 5000, 90_000, FileDelivery { sendfile, mmap }).unwrap();
            let got = match &c {
                Chunk::File { sendfile: true, .. } => "sendfile",
                Chunk::File {
                    sendfile: false, ..
                } => "read",
                Chunk::Mmap { .. } => "mmap",
                Chunk::Bytes(_) => "bytes",
            };
            assert_eq!(got, want);
            let mut out = Vec::new();
            c.for_each_piece(&mut |b| {
                out.extend_from_slice(b);
                Ok(())
            })
            .unwrap();
            assert!(out == data[5000..95_000], "{want}");
            let mut part = Vec::new();
            c.slice(100, 7000)
                .for_each_piece(&mut |b| {
                    part.extend_from_slice(b);
                    Ok(())
                })
                .unwrap();
            assert!(part == data[5100..12_100], "{want} slice");
        }
        assert_eq!(
            FileDelivery::default(),
            FileDelivery {
                sendfile: true,
                mmap: true
            }
        );
        let _ = std::fs::remove_file(&path);
    }
}
