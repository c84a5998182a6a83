//! TEMPORARY: stand-ins for `crate::scoreboard` and `crate::status` until CORE-PROCESS
//! publishes them (CONTRACT.md signatures). Deleted as soon as the real modules exist.
#![allow(dead_code)]

use std::net::SocketAddr;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
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

#[derive(Debug, Default)]
pub struct WorkerScore;
impl WorkerScore {
    pub fn set_status(&self, _s: WorkerStatus) {}
    pub fn begin_request(&self, _client: &str, _request_line: &str, _vhost: &str, _protocol: &str) {
    }
    pub fn end_request(&self, _bytes: u64) {}
}

#[derive(Debug, Default)]
pub struct Scoreboard;

#[derive(Debug, Clone)]
pub struct MpmStatusInfo {
    pub mpm: &'static str,
    pub is_async: bool,
    pub threads_per_child: usize,
    pub max_daemons: usize,
    pub server_limit: usize,
}

#[derive(Debug, Clone, Default)]
pub struct StatusServerInfo;

pub struct StatusPage {
    pub content_type: &'static str,
    pub body: String,
    pub refresh: Option<u32>,
}

pub fn render(
    _query: &str,
    host: &str,
    _local: SocketAddr,
    _sb: &Scoreboard,
    info: &MpmStatusInfo,
    _started: &StatusServerInfo,
) -> StatusPage {
    StatusPage {
        content_type: "text/plain; charset=ISO-8859-1",
        body: format!("{host}\nServerMPM: {}\n", info.mpm),
        refresh: None,
    }
}
