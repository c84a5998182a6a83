//! `?auto`: the machine-readable page (§7.5, rules 36, 37, 40). One `Key: value` per line,
//! after a first line holding only the host; the order is Apache's and rule 36 checks it.

use std::fmt::Write as _;

use super::{Report, fmt_g, format_time, show_time};

/// The `?auto` body for `report`, requested with `Host: host`.
pub fn write(host: &str, r: &Report) -> String {
    let mut o = String::with_capacity(1024 + r.scoreboard.len());
    // `writeln!` into a String cannot fail; the results are ignored on purpose.
    let _ = writeln!(o, "{host}");
    let _ = writeln!(o, "ServerVersion: {}", crate::SERVER_VERSION);
    let _ = writeln!(o, "ServerMPM: {}", r.info.mpm);
    let _ = writeln!(o, "Server Built: {}", crate::SERVER_BUILT);
    let _ = writeln!(o, "CurrentTime: {}", format_time(r.env.now));
    let _ = writeln!(o, "RestartTime: {}", format_time(r.restart_time));
    let _ = writeln!(o, "ParentServerConfigGeneration: {}", r.config_generation);
    let _ = writeln!(o, "ParentServerMPMGeneration: {}", r.running_generation);
    let _ = writeln!(o, "ServerUptimeSeconds: {}", r.uptime);
    // No space after the colon: `show_time` starts every part with one.
    let _ = writeln!(o, "ServerUptime:{}", show_time(r.uptime));
    let [l1, l5, l15] = r.env.load;
    let _ = writeln!(o, "Load1: {l1:.2}\nLoad5: {l5:.2}\nLoad15: {l15:.2}");

    // ExtendedStatus block (rule 40: always on, mod_status being loaded).
    let _ = writeln!(o, "Total Accesses: {}", r.accesses);
    let _ = writeln!(o, "Total kBytes: {}", r.kbytes);
    let _ = writeln!(o, "Total Duration: {}", r.duration_ms);
    let cpu = r.env.cpu;
    let _ = writeln!(o, "CPUUser: {}", fmt_g(cpu.user));
    let _ = writeln!(o, "CPUSystem: {}", fmt_g(cpu.system));
    let _ = writeln!(o, "CPUChildrenUser: {}", fmt_g(cpu.children_user));
    let _ = writeln!(o, "CPUChildrenSystem: {}", fmt_g(cpu.children_system));
    if cpu.total() != 0.0 && r.uptime > 0 {
        let _ = writeln!(
            o,
            "CPULoad: {}",
            fmt_g(cpu.total() / r.uptime as f64 * 100.0)
        );
    }
    let _ = writeln!(o, "Uptime: {}", r.uptime);
    if r.uptime > 0 {
        let up = r.uptime as f64;
        let _ = writeln!(o, "ReqPerSec: {}", fmt_g(r.accesses as f64 / up));
        let _ = writeln!(o, "BytesPerSec: {}", fmt_g(1024.0 * r.kbytes as f64 / up));
    }
    if r.accesses > 0 {
        let n = r.accesses as f64;
        let _ = writeln!(o, "BytesPerReq: {}", fmt_g(1024.0 * r.kbytes as f64 / n));
        let _ = writeln!(
            o,
            "DurationPerReq: {}",
            fmt_g(r.duration_us as f64 / n / 1000.0)
        );
    }

    let _ = writeln!(o, "BusyWorkers: {}", r.busy);
    let _ = writeln!(o, "GracefulWorkers: {}", r.graceful);
    let _ = writeln!(o, "IdleWorkers: {}", r.idle);
    if r.info.is_async {
        // Rule 37: only an async MPM (event) has these.
        let s = &r.sum;
        let _ = writeln!(o, "Processes: {}", r.processes);
        let _ = writeln!(o, "Stopping: {}", r.stopping);
        let _ = writeln!(o, "ConnsTotal: {}", s.connections);
        let _ = writeln!(o, "ConnsAsyncWaitIO: {}", s.wait_io);
        let _ = writeln!(o, "ConnsAsyncWriting: {}", s.writing);
        let _ = writeln!(o, "ConnsAsyncKeepAlive: {}", s.keep_alive);
        let _ = writeln!(o, "ConnsAsyncClosing: {}", s.closing);
    }
    let _ = writeln!(o, "Scoreboard: {}", r.scoreboard);
    o
}
