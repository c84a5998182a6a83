//! `BufferedLogs On` (`mod_log_config.c: ap_buffered_log_writer`, `flush_log`, `flush_all_logs`).
//!
//! Without it every access-log line is one `write(2)`. With it, each log of each child keeps a
//! buffer of [`LOG_BUFSIZE`] bytes:
//!
//! 1. A line that would overflow the buffer first flushes it (one `write(2)` of whole lines).
//! 2. A line of `LOG_BUFSIZE` bytes or more is then written on its own; a shorter one is
//!    appended. So the file grows in blocks of at most `PIPE_BUF` bytes, each written
//!    atomically even into a pipe.
//! 3. The buffer belongs to the child process: the parent opens the logs before forking, with
//!    empty buffers, and each child fills its own copy. In worker/event the child's threads share
//!    it under a mutex (Apache: an `apr_thread_mutex` made in `init_child` when the MPM has
//!    threads); in prefork the mutex is never contended.
//! 4. The child flushes every buffer when it exits ([`flush_all`], Apache's `flush_all_logs`
//!    pool cleanup on `pchild`): MaxConnectionsPerChild, idle kill, graceful and hard stop and
//!    restart. prefork's `SIGTERM` handler flushes too ([`flush_all_from_signal`]), as
//!    Apache's `just_die` runs the child pool's cleanups. A child killed by `SIGKILL` loses
//!    its buffer, in Apache as here.
//!
//! The choice is made when the logs are opened: without `BufferedLogs` the request path is the
//! plain `write(2)`, no lock.

use std::os::fd::OwnedFd;

use super::error_log::write_all_fd;
use crate::sync::{Arc, Mutex, lock};

/// `LOG_BUFSIZE`: `PIPE_BUF`, 4096 bytes on Linux.
pub const LOG_BUFSIZE: usize = 4096;

/// One log file or pipe with its buffer.
pub struct BufferedFd {
    fd: OwnedFd,
    out: Mutex<Vec<u8>>,
}

impl BufferedFd {
    /// A buffered writer on `fd`, registered for [`flush_all`].
    pub fn new(fd: OwnedFd) -> Arc<BufferedFd> {
        let b = Arc::new(BufferedFd {
            fd,
            out: Mutex::new(Vec::with_capacity(LOG_BUFSIZE)),
        });
        lock(&ALL).push(Arc::clone(&b));
        b
    }

    /// Steps 1 and 2 for one line (newline included).
    pub fn write(&self, line: &[u8]) {
        let mut out = lock(&self.out);
        if out.len() + line.len() > LOG_BUFSIZE {
            write_all_fd(&self.fd, &out);
            out.clear();
        }
        if line.len() >= LOG_BUFSIZE {
            write_all_fd(&self.fd, line);
        } else {
            out.extend_from_slice(line);
        }
    }

    /// `flush_log`: write what the buffer holds.
    pub fn flush(&self) {
        let mut out = lock(&self.out);
        if !out.is_empty() {
            write_all_fd(&self.fd, &out);
            out.clear();
        }
    }
}

/// Every buffered log this process opened (`all_buffered_logs`). Logs of an old configuration
/// stay listed: they are flushed at exit too, which is what a graceful restart needs.
static ALL: Mutex<Vec<Arc<BufferedFd>>> = Mutex::new(Vec::new());

/// Step 4: flush every buffer (a child about to exit).
pub fn flush_all() {
    let all: Vec<Arc<BufferedFd>> = lock(&ALL).clone();
    for b in all {
        b.flush();
    }
}

/// Step 4 from prefork's `SIGTERM` handler: the same, but never waiting for a lock. The only
/// thread was interrupted; if it held a buffer's lock (a line half appended), that buffer is
/// skipped rather than deadlocking. `try_lock` is one atomic compare-and-swap, and `write(2)` is
/// async-signal-safe; nothing here allocates.
pub fn flush_all_from_signal() {
    let Ok(all) = ALL.try_lock() else { return };
    for b in all.iter() {
        if let Ok(mut out) = b.out.try_lock()
            && !out.is_empty()
        {
            write_all_fd(&b.fd, &out);
            out.clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn pipe_pair() -> (std::fs::File, OwnedFd) {
        let (r, w) = nix::unistd::pipe().unwrap();
        (std::fs::File::from(r), w)
    }

    fn available(r: &std::fs::File) -> usize {
        let mut n: libc::c_int = 0;
        // SAFETY: FIONREAD writes one int through the valid pointer; the fd is open.
        #[allow(unsafe_code)]
        unsafe {
            libc::ioctl(std::os::fd::AsRawFd::as_raw_fd(r), libc::FIONREAD, &mut n)
        };
        n as usize
    }

    #[test]
    fn buffered_logs_write_whole_lines_in_blocks_of_at_most_pipe_buf() {
        let (mut r, w) = pipe_pair();
        let b = BufferedFd::new(w);
        let line = [b'x'; 99]
            .iter()
            .copied()
            .chain([b'\n'])
            .collect::<Vec<u8>>();
        for _ in 0..40 {
            b.write(&line);
        }
        assert_eq!(available(&r), 0, "4000 bytes stay in the buffer");
        b.write(&line);
        assert_eq!(
            available(&r),
            4000,
            "the 41st line flushes the 40 before it"
        );
        let big = vec![b'y'; LOG_BUFSIZE];
        b.write(&big);
        assert_eq!(
            available(&r),
            4000 + 100 + LOG_BUFSIZE,
            "a line >= LOG_BUFSIZE goes alone"
        );
        b.flush();
        let mut all = vec![0; 4000 + 100 + LOG_BUFSIZE];
        r.read_exact(&mut all).unwrap();
        assert_eq!(available(&r), 0);
        assert!(all.ends_with(&big));
    }
}
