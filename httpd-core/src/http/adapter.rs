//! TEMPORARY: stand-ins for `crate::status` until STATUS publishes it (CONTRACT.md
//! signatures). Deleted as soon as the real module exists.
#![allow(dead_code)]

use std::net::SocketAddr;

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
    _sb: &crate::scoreboard::Scoreboard,
    info: &MpmStatusInfo,
    _started: &StatusServerInfo,
) -> StatusPage {
    StatusPage {
        content_type: "text/plain; charset=ISO-8859-1",
        body: format!("{host}\nServerMPM: {}\n", info.mpm),
        refresh: None,
    }
}
