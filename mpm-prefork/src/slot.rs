//! TEMPORARY stand-in for `httpd_core::scoreboard::WorkerStatus` (CONTRACT.md's enum, same
//! variants, same characters) while CORE-PROCESS's scoreboard.rs is a placeholder. When it lands
//! this file becomes `pub use httpd_core::scoreboard::WorkerStatus;`.

/// A worker slot's state (Apache's `SERVER_*` values, in the same order).
#[repr(u8)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WorkerStatus {
    Dead = 0,
    Starting,
    Ready,
    BusyRead,
    BusyWrite,
    BusyKeepalive,
    BusyLog,
    BusyDns,
    Closing,
    Graceful,
    IdleKill,
}

impl WorkerStatus {
    /// The `?auto` scoreboard character.
    pub fn as_char(self) -> char {
        b".S_RWKLDCGI"[self as usize] as char
    }
}
