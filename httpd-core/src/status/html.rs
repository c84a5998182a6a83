//! The HTML page (§7.6): Apache's structure and texts, so a student can hold ours and
//! Apache's side by side. Every string that comes from the scoreboard is escaped: the
//! request line, vhost and protocol are written there from what the client sent.

use std::fmt::Write as _;
use std::net::SocketAddr;

use super::{
    Report, WorkerRow, fmt_g, fmt_g_prec, format_bytes, format_kbytes, format_time, show_time,
};

/// Apache's `ap_escape_html`: `&`, `<`, `>`, `"` (and `'` for good measure).
pub fn escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c => o.push(c),
        }
    }
    o
}

/// The legend printed under the scoreboard (`status_handler`, verbatim).
const SCOREBOARD_KEY: &str = "<p>Scoreboard Key:<br />\n\
\"<b><code>_</code></b>\" Waiting for Connection, \n\
\"<b><code>S</code></b>\" Starting up, \n\
\"<b><code>R</code></b>\" Reading Request,<br />\n\
\"<b><code>W</code></b>\" Sending Reply, \n\
\"<b><code>K</code></b>\" Keepalive (read), \n\
\"<b><code>D</code></b>\" DNS Lookup,<br />\n\
\"<b><code>C</code></b>\" Closing connection, \n\
\"<b><code>L</code></b>\" Logging, \n\
\"<b><code>G</code></b>\" Gracefully finishing,<br /> \n\
\"<b><code>I</code></b>\" Idle cleanup of worker, \n\
\"<b><code>.</code></b>\" Open slot with no current process<br />\n\
</p>\n";

/// The column legend under the per-worker table.
const WORKER_KEY: &str = "<hr /> <table>\n\
 <tr><th>Srv</th><td>Child Server number - generation</td></tr>\n\
 <tr><th>PID</th><td>OS process ID</td></tr>\n\
 <tr><th>Acc</th><td>Number of accesses this connection / this child / this slot</td></tr>\n\
 <tr><th>M</th><td>Mode of operation</td></tr>\n\
 <tr><th>SS</th><td>Seconds since beginning of most recent request</td></tr>\n\
 <tr><th>Req</th><td>Milliseconds required to process most recent request</td></tr>\n\
 <tr><th>Dur</th><td>Sum of milliseconds required to process all requests</td></tr>\n\
 <tr><th>Conn</th><td>Kilobytes transferred this connection</td></tr>\n\
 <tr><th>Child</th><td>Megabytes transferred this child</td></tr>\n\
 <tr><th>Slot</th><td>Total megabytes transferred this slot</td></tr>\n\
 </table>\n";

/// The HTML body; `notable` leaves the tables out (`?notable`).
pub fn write(host: &str, local: SocketAddr, r: &Report, notable: bool) -> String {
    let mut o = String::with_capacity(4096 + r.workers.len() * 256);
    // `write!` into a String cannot fail; results are ignored on purpose.
    o.push_str("<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.01//EN\" \"http://www.w3.org/TR/html4/strict.dtd\">\n<html><head>\n");
    o.push_str("<title>Apache Status</title>\n</head><body>\n");
    let _ = writeln!(
        o,
        "<h1>Apache Server Status for {} (via {})</h1>\n",
        escape(host),
        local.ip()
    );
    let _ = writeln!(
        o,
        "<dl><dt>Server Version: {}</dt>",
        escape(crate::SERVER_VERSION)
    );
    let _ = writeln!(o, "<dt>Server MPM: {}</dt>", r.info.mpm);
    let _ = writeln!(
        o,
        "<dt>Server Built: {}\n</dt></dl><hr /><dl>",
        escape(crate::SERVER_BUILT)
    );
    let _ = writeln!(o, "<dt>Current Time: {}</dt>", format_time(r.env.now));
    let _ = writeln!(o, "<dt>Restart Time: {}</dt>", format_time(r.restart_time));
    let _ = writeln!(
        o,
        "<dt>Parent Server Config. Generation: {}</dt>",
        r.config_generation
    );
    let _ = writeln!(
        o,
        "<dt>Parent Server MPM Generation: {}</dt>",
        r.running_generation
    );
    let _ = writeln!(o, "<dt>Server uptime: {}</dt>", show_time(r.uptime));
    let [l1, l5, l15] = r.env.load;
    let _ = writeln!(o, "<dt>Server load: {l1:.2} {l5:.2} {l15:.2}</dt>");
    extended(&mut o, r);
    let _ = writeln!(
        o,
        "<dt>{} requests currently being processed, {} workers gracefully restarting, {} idle workers</dt>",
        r.busy, r.graceful, r.idle
    );
    o.push_str("</dl>");
    if r.info.is_async && !notable {
        process_table(&mut o, r);
    }
    // The scoreboard, wrapped every 64 characters as Apache does.
    o.push_str("<pre>");
    for (n, c) in r.scoreboard.chars().enumerate() {
        if n > 0 && n % 64 == 0 {
            o.push('\n');
        }
        o.push(c);
    }
    o.push_str("</pre>\n");
    o.push_str(SCOREBOARD_KEY);
    if notable {
        for w in &r.workers {
            worker_line(&mut o, w);
        }
    } else {
        o.push_str(
            "\n\n<table border=\"0\"><tr><th>Srv</th><th>PID</th><th>Acc</th><th>M</th>\
             <th>SS</th><th>Req</th><th>Dur</th><th>Conn</th><th>Child</th><th>Slot</th>\
             <th>Client</th><th>Protocol</th><th>VHost</th><th>Request</th></tr>\n\n",
        );
        for w in &r.workers {
            worker_tr(&mut o, w);
        }
        o.push_str("</table>\n");
        o.push_str(WORKER_KEY);
    }
    o.push_str("</body></html>\n");
    o
}

/// "Total accesses … / CPU Usage … / requests/sec …" (ExtendedStatus, always on).
fn extended(o: &mut String, r: &Report) {
    let _ = writeln!(
        o,
        "<dt>Total accesses: {} - Total Traffic: {} - Total Duration: {}</dt>",
        r.accesses,
        format_kbytes(r.kbytes),
        r.duration_ms
    );
    let c = r.env.cpu;
    let _ = write!(
        o,
        "<dt>CPU Usage: u{} s{} cu{} cs{}",
        fmt_g(c.user),
        fmt_g(c.system),
        fmt_g(c.children_user),
        fmt_g(c.children_system)
    );
    if c.total() != 0.0 && r.uptime > 0 {
        let _ = write!(
            o,
            " - {}% CPU load",
            fmt_g_prec(c.total() / r.uptime as f64 * 100.0, 3)
        );
    }
    o.push_str("</dt>\n<dt>");
    let up = r.uptime as f64;
    if r.uptime > 0 {
        let _ = write!(
            o,
            "{} requests/sec - {}/second",
            fmt_g_prec(r.accesses as f64 / up, 3),
            format_bytes(1024.0 * r.kbytes as f64 / up)
        );
    }
    if r.accesses > 0 {
        let n = r.accesses as f64;
        if r.uptime > 0 {
            o.push_str(" - ");
        }
        let _ = write!(
            o,
            "{}/request - {} ms/request",
            format_bytes(1024.0 * r.kbytes as f64 / n),
            fmt_g(r.duration_us as f64 / n / 1000.0)
        );
    }
    o.push_str("</dt>\n");
}

/// Event's per-process table (only for an async MPM).
fn process_table(o: &mut String, r: &Report) {
    o.push_str(
        "\n\n<table rules=\"all\" cellpadding=\"1%\">\n\
         <tr><th rowspan=\"2\">Slot</th><th rowspan=\"2\">PID</th><th rowspan=\"2\">Stopping</th>\
         <th colspan=\"2\">Connections</th>\n\
         <th colspan=\"3\">Threads</th><th colspan=\"4\">Async connections</th></tr>\n\
         <tr><th>total</th><th>accepting</th><th>busy</th><th>graceful</th><th>idle</th>\
         <th>wait-io</th><th>writing</th><th>keep-alive</th><th>closing</th></tr>\n",
    );
    for p in &r.process_rows {
        let _ = writeln!(
            o,
            "<tr><td>{}</td><td>{}</td><td>{}{}</td><td>{}</td><td>{}</td>\
             <td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            p.slot,
            p.pid,
            if p.stopping { "yes" } else { "no" },
            if p.old_gen { " (old gen)" } else { "" },
            p.connections,
            if p.accepting { "yes" } else { "no" },
            p.busy,
            p.graceful,
            p.idle,
            p.wait_io,
            p.writing,
            p.keep_alive,
            p.closing
        );
    }
    let s = &r.sum;
    let _ = writeln!(
        o,
        "<tr><td>Sum</td><td>{}</td><td>{}</td><td>{}</td><td>&nbsp;</td>\
         <td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n</table>",
        r.processes,
        r.stopping,
        s.connections,
        s.busy,
        s.graceful,
        s.idle,
        s.wait_io,
        s.writing,
        s.keep_alive,
        s.closing
    );
}

fn pid_cell(w: &WorkerRow) -> String {
    if w.pid == 0 {
        "-".into()
    } else {
        w.pid.to_string()
    }
}

/// One row of the per-worker table.
fn worker_tr(o: &mut String, w: &WorkerRow) {
    const MB: f64 = 1024.0 * 1024.0;
    let _ = write!(
        o,
        "<tr><td><b>{}-{}</b></td><td>{}</td><td>{}/{}/{}</td><td>{}</td>\
         <td>{}</td><td>{}</td><td>{}</td><td>{:.1}</td><td>{:.2}</td><td>{:.2}</td>\
         <td>{}</td><td>{}</td><td nowrap>{}</td><td nowrap>{}</td></tr>\n\n",
        w.slot,
        w.generation,
        pid_cell(w),
        w.conn_count,
        w.my_access_count,
        w.access_count,
        w.mode,
        w.ss,
        w.req_ms,
        w.dur_ms,
        w.conn_bytes as f64 / 1024.0,
        w.my_bytes as f64 / MB,
        w.bytes as f64 / MB,
        escape(&w.client),
        escape(&w.protocol),
        escape(&w.vhost),
        escape(&w.request)
    );
}

/// One worker in `?notable` form.
fn worker_line(o: &mut String, w: &WorkerRow) {
    let _ = write!(
        o,
        "<b>Server {}-{}</b> ({}): {}|{}|{} [{}]\n {} {} ({} | {} | {})\n \
         <i>{} {{{}}}</i> <i>({})</i> <b>[{}]</b><br />\n\n",
        w.slot,
        w.generation,
        pid_cell(w),
        w.conn_count,
        w.my_access_count,
        w.access_count,
        w.mode_name,
        w.ss,
        w.req_ms,
        format_bytes(w.bytes as f64),
        format_bytes(w.my_bytes as f64),
        format_bytes(w.conn_bytes as f64),
        escape(&w.client),
        escape(&w.request),
        escape(&w.protocol),
        escape(&w.vhost)
    );
}
