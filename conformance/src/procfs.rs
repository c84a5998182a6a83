//! What `/proc` says about a server: its children, their threads, memory and identity.
//!
//! Counting from `/proc` keeps working when the status page cannot answer (every worker busy),
//! which is why the reference timelines carry `os_children` and `os_threads` columns.

use std::fs;

/// One process as `/proc/PID/stat` and `/proc/PID/status` describe it.
#[derive(Debug, Clone, PartialEq)]
pub struct ProcInfo {
    pub pid: i32,
    pub ppid: i32,
    /// Single-letter state (`R`, `S`, `Z`, …).
    pub state: char,
    pub threads: usize,
    /// Real and effective uid, real and effective gid.
    pub uid: (u32, u32),
    pub gid: (u32, u32),
    /// Supplementary groups (`Groups:`), sorted.
    pub groups: Vec<u32>,
    pub rss_kb: u64,
}

/// `/proc/PID/stat` fields after the command name: (state, ppid).
fn stat(pid: i32) -> Option<(char, i32)> {
    let s = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name is in parentheses and may contain spaces: split after the last ')'.
    let rest = &s[s.rfind(')')? + 2..];
    let mut f = rest.split_whitespace();
    let state = f.next()?.chars().next()?;
    let ppid = f.next()?.parse().ok()?;
    Some((state, ppid))
}

fn status_field(status: &str, key: &str) -> Option<Vec<u64>> {
    let line = status.lines().find(|l| l.starts_with(key))?;
    Some(
        line[key.len()..]
            .split_whitespace()
            .filter_map(|x| x.parse().ok())
            .collect(),
    )
}

/// Read one process; `None` if it is gone.
pub fn info(pid: i32) -> Option<ProcInfo> {
    let (state, ppid) = stat(pid)?;
    let status = fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let uid = status_field(&status, "Uid:")?;
    let gid = status_field(&status, "Gid:")?;
    let threads = status_field(&status, "Threads:")
        .and_then(|v| v.first().copied())
        .unwrap_or(0);
    let rss_kb = status_field(&status, "VmRSS:")
        .and_then(|v| v.first().copied())
        .unwrap_or(0);
    let mut groups: Vec<u32> = status_field(&status, "Groups:")
        .unwrap_or_default()
        .into_iter()
        .map(|g| g as u32)
        .collect();
    groups.sort_unstable();
    Some(ProcInfo {
        pid,
        groups,
        ppid,
        state,
        threads: threads as usize,
        uid: (uid.first().copied()? as u32, uid.get(1).copied()? as u32),
        gid: (gid.first().copied()? as u32, gid.get(1).copied()? as u32),
        rss_kb,
    })
}

/// Every live process (pids from `/proc`).
fn all_pids() -> Vec<i32> {
    let Ok(rd) = fs::read_dir("/proc") else {
        return vec![];
    };
    rd.filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .collect()
}

/// Direct children of `parent` that are not zombies (a zombie holds no slot and no thread).
pub fn children(parent: i32) -> Vec<i32> {
    let mut v: Vec<i32> = all_pids()
        .into_iter()
        .filter(|&p| matches!(stat(p), Some((st, pp)) if pp == parent && st != 'Z'))
        .collect();
    v.sort_unstable();
    v
}

/// `parent` and all its live descendants.
pub fn tree(parent: i32) -> Vec<i32> {
    let table: Vec<(i32, i32, char)> = all_pids()
        .into_iter()
        .filter_map(|p| stat(p).map(|(s, pp)| (p, pp, s)))
        .collect();
    let mut out = vec![];
    if table.iter().any(|&(p, _, s)| p == parent && s != 'Z') {
        out.push(parent);
    }
    let mut i = 0;
    let mut frontier = vec![parent];
    while i < frontier.len() {
        let p = frontier[i];
        for &(c, pp, s) in &table {
            if pp == p && s != 'Z' && !frontier.contains(&c) {
                frontier.push(c);
                out.push(c);
            }
        }
        i += 1;
    }
    out
}

/// Threads of one process (`/proc/PID/task` entries); 0 if it is gone.
pub fn threads(pid: i32) -> usize {
    fs::read_dir(format!("/proc/{pid}/task"))
        .map(|d| d.count())
        .unwrap_or(0)
}

/// What `/proc/PID/smaps_rollup` says of one process's memory, in KiB.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Memory {
    pub rss: u64,
    /// Proportional set size: private pages, plus each shared page divided by its sharers.
    pub pss: u64,
    /// Pages no other process maps (Private_Clean + Private_Dirty): what the process would
    /// give back if it exited, the marginal cost of one more child.
    pub private: u64,
}

/// [`Memory`] of one process; `None` if it is gone (or smaps_rollup is unreadable).
pub fn memory(pid: i32) -> Option<Memory> {
    let s = fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).ok()?;
    let f = |k: &str| status_field(&s, k).and_then(|v| v.first().copied());
    Some(Memory {
        rss: f("Rss:")?,
        pss: f("Pss:")?,
        private: f("Private_Clean:")? + f("Private_Dirty:")?,
    })
}

/// CPU time used by `parent`'s whole tree so far, in seconds: user + system time of every live
/// process (all threads), plus the time of the children each has already reaped (`cutime`,
/// `cstime`), so a child that exits between two readings is still counted.
pub fn tree_cpu_seconds(parent: i32) -> f64 {
    let ticks: u64 = tree(parent)
        .into_iter()
        .filter_map(|p| cpu_ticks(p, 11..=14))
        .sum();
    ticks as f64 / clock_ticks_per_second()
}

/// CPU time one process has used so far (user + system, all its threads), in seconds; `None`
/// if it is gone.
pub fn cpu_seconds(pid: i32) -> Option<f64> {
    Some(cpu_ticks(pid, 11..=12)? as f64 / clock_ticks_per_second())
}

/// The sum of the `/proc/PID/stat` fields `fields`, counted after the name: state(0) ppid(1) …
/// utime(11) stime(12) cutime(13) cstime(14).
fn cpu_ticks(pid: i32, fields: std::ops::RangeInclusive<usize>) -> Option<u64> {
    let s = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let f: Vec<&str> = s[s.rfind(')')? + 2..].split_whitespace().collect();
    Some(
        fields
            .filter_map(|i| f.get(i)?.parse::<u64>().ok())
            .sum::<u64>(),
    )
}

fn clock_ticks_per_second() -> f64 {
    nix::unistd::sysconf(nix::unistd::SysconfVar::CLK_TCK)
        .ok()
        .flatten()
        .unwrap_or(100) as f64
}

/// Totals over a server's tree, as the reference `timeline.py` computes them: children exclude
/// the parent; threads and RSS include it.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct TreeStats {
    pub children: usize,
    pub threads: usize,
    pub rss_kb: u64,
}

/// [`TreeStats`] of `parent` and its descendants.
pub fn tree_stats(parent: i32) -> TreeStats {
    let pids = tree(parent);
    let mut st = TreeStats::default();
    for p in pids {
        if let Some(i) = info(p) {
            if p != parent {
                st.children += 1;
            }
            st.threads += i.threads;
            st.rss_kb += i.rss_kb;
        }
    }
    st
}

/// Live (non-zombie) members of process group `pgid`.
pub fn group_members(pgid: i32) -> Vec<i32> {
    all_pids()
        .into_iter()
        .filter(|&p| {
            let Ok(s) = fs::read_to_string(format!("/proc/{p}/stat")) else {
                return false;
            };
            let Some(close) = s.rfind(')') else {
                return false;
            };
            let f: Vec<&str> = s[close + 2..].split_whitespace().collect();
            // fields after the name: state ppid pgrp …
            f.len() > 2 && f[0] != "Z" && f[2].parse::<i32>().ok() == Some(pgid)
        })
        .collect()
}

/// The process groups of `root`'s living descendants other than `root`'s own group: the CGI
/// scripts a server started (each runs in a group of its own, so a signal to the server's group
/// misses them, and once the server is gone they belong to init).
pub fn descendant_groups(root: i32) -> Vec<i32> {
    // pid → (ppid, pgrp) of every living process
    let table: Vec<(i32, i32, i32)> = all_pids()
        .into_iter()
        .filter_map(|p| {
            let s = fs::read_to_string(format!("/proc/{p}/stat")).ok()?;
            let f: Vec<&str> = s[s.rfind(')')? + 2..].split_whitespace().collect();
            (f.len() > 2 && f[0] != "Z").then_some((p, f[1].parse().ok()?, f[2].parse().ok()?))
        })
        .collect();
    let own = table
        .iter()
        .find(|&&(p, _, _)| p == root)
        .map_or(root, |&(_, _, g)| g);
    let mut seen = vec![root];
    let mut groups = Vec::new();
    let mut i = 0;
    while i < seen.len() {
        let parent = seen[i];
        for &(pid, ppid, pgrp) in &table {
            if ppid == parent && !seen.contains(&pid) {
                seen.push(pid);
                if pgrp != own && !groups.contains(&pgrp) {
                    groups.push(pgrp);
                }
            }
        }
        i += 1;
    }
    groups
}

/// Whether `pid` exists and is not a zombie.
pub fn alive(pid: i32) -> bool {
    matches!(stat(pid), Some((s, _)) if s != 'Z')
}

/// Inodes of the IPv4 TCP sockets in state ESTABLISHED whose local port is `port`, from
/// `/proc/net/tcp` (the server's side of its client connections, accepted or still in the
/// listen backlog).
fn established_inodes(port: u16) -> std::collections::HashSet<u64> {
    let Ok(table) = fs::read_to_string("/proc/net/tcp") else {
        return Default::default();
    };
    table
        .lines()
        .skip(1)
        .filter_map(|line| {
            // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode …
            let f: Vec<&str> = line.split_whitespace().collect();
            let local_port = u16::from_str_radix(f.get(1)?.rsplit(':').next()?, 16).ok()?;
            (local_port == port && *f.get(3)? == "01").then(|| f.get(9)?.parse().ok())?
        })
        .collect()
}

/// Socket inodes among the open file descriptors of `pid` (each once).
fn socket_inodes(pid: i32) -> std::collections::HashSet<u64> {
    let Ok(fds) = fs::read_dir(format!("/proc/{pid}/fd")) else {
        return Default::default();
    };
    fds.filter_map(|e| fs::read_link(e.ok()?.path()).ok())
        .filter_map(|target| {
            let t = target.to_str()?;
            t.strip_prefix("socket:[")?.strip_suffix(']')?.parse().ok()
        })
        .collect()
}

/// How many distinct sockets process `pid` has open (listening ones included): a cheap
/// "who is busy" measure where [`connections_held`] would be too slow.
pub fn socket_fds(pid: i32) -> usize {
    socket_inodes(pid).len()
}

/// How many client connections on `port` process `pid` holds open: its file descriptors that
/// are established TCP sockets with local port `port`. Stop the process (SIGSTOP) first for a
/// count that cannot change while it is read.
pub fn connections_held(pid: i32, port: u16) -> usize {
    let established = established_inodes(port);
    socket_inodes(pid).intersection(&established).count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_the_connections_we_hold() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = l.local_addr().expect("addr").port();
        let _c1 = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
        let _c2 = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
        let me = std::process::id() as i32;
        // Both still in the backlog: established, but no descriptor of ours yet.
        assert_eq!(connections_held(me, port), 0);
        let _a = l.accept().expect("accept");
        assert_eq!(connections_held(me, port), 1);
        let _b = l.accept().expect("accept");
        assert_eq!(connections_held(me, port), 2);
    }

    #[test]
    fn reads_our_own_process() {
        let me = std::process::id() as i32;
        let i = info(me).expect("own /proc entry");
        assert!(i.threads >= 1);
        assert!(threads(me) >= 1);
        assert!(tree(me).contains(&me));
        assert!(memory(me).is_some_and(|m| m.rss > 0 && m.pss > 0));
    }

    #[test]
    fn cpu_time_grows_while_we_spin() {
        let me = std::process::id() as i32;
        // Spin until the kernel's own account (getrusage) shows 100 ms of CPU, not for 100 ms
        // of wall time: on a loaded machine those differ by the share the others take.
        let rusage_secs = || {
            use nix::sys::resource::{UsageWho, getrusage};
            let u = getrusage(UsageWho::RUSAGE_SELF).expect("getrusage");
            let tv = |t: nix::sys::time::TimeVal| t.tv_sec() as f64 + t.tv_usec() as f64 / 1e6;
            tv(u.user_time()) + tv(u.system_time())
        };
        let before = tree_cpu_seconds(me);
        let (start, t) = (rusage_secs(), std::time::Instant::now());
        let mut x = 0u64;
        while rusage_secs() - start < 0.1 && t.elapsed() < std::time::Duration::from_secs(10) {
            for _ in 0..10_000 {
                x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(7));
            }
        }
        let used = tree_cpu_seconds(me) - before;
        assert!(used >= 0.05, "100 ms of spinning counted as {used} s");
    }
}
