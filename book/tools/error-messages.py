#!/usr/bin/env python3
"""Writes book/src/reference/error-messages.md: every AH code of the MPM specification, with its
meaning, and whether mpm-lab's servers log it (found by searching their Rust source).

Run from anywhere: python3 book/tools/error-messages.py
"""
import os, re, pathlib

ROOT = pathlib.Path(__file__).resolve().parents[2]
SOURCES = ["httpd-core/src", "mpm-prefork/src", "mpm-worker/src", "mpm-event/src"]

# (group, [(codes, level, text, meaning)])
GROUPS = [
 ("Start, restart and stop", [
  ("AH00163 AH00292 AH00489", "notice", "%s configured -- resuming normal operations", "The server (re)started and serves requests. One code per MPM: prefork, worker, event."),
  ("AH00164 AH00293 AH00490", "info", "Server built: %s", "Build date, right after the line above."),
  ("AH00094", "notice", "Command line: '%s'", "How the server was started (core)."),
  ("AH00169 AH00295 AH00491", "notice", "caught SIGTERM, shutting down", "Immediate stop (`-k stop`, SIGTERM, SIGINT)."),
  ("AH00170 AH00296 AH00492", "notice", "caught SIGWINCH, shutting down gracefully", "Graceful stop (`-k graceful-stop`)."),
  ("AH00171", "notice", "Graceful restart requested, doing restart", "prefork: graceful restart (`-k graceful`, SIGUSR1)."),
  ("AH00297 AH00493", "notice", "SIGUSR1 received.  Doing graceful restart", "worker, event: graceful restart."),
  ("AH00173 AH00298 AH00494", "notice", "SIGHUP received.  Attempting to restart", "Hard restart (`-k restart`)."),
  ("AH00168", "warn", "killpg SIGTERM", "prefork: signalling the process group failed at stop."),
  ("AH00172", "warn", "killpg SIGHUP", "prefork: signalling the process group failed at restart."),
  ("AH00096", "info", "removed PID file %s (pid=%d)", "The pid file was removed at stop."),
  ("AH00018", "emerg", "Configuration check failed, exiting", "A restart signal met a broken configuration: the parent exits."),
  ("AH00165 AH00294", "debug", "Accept mutex: %s (default: %s)", "prefork, worker: which accept mutex is used."),
  ("AH02639", "debug", "Using SO_REUSEPORT: %s (%d)", "Whether listener buckets can use SO_REUSEPORT."),
 ]),
 ("Too few or too many workers (maintenance)", [
  ("AH00161", "error", "server reached MaxRequestWorkers setting, consider raising the MaxRequestWorkers setting", "prefork: no free slot left while idle < MinSpareServers. Once per parent lifetime."),
  ("AH00162", "info", "server seems busy, (you may need to increase StartServers, or Min/MaxSpareServers), spawning %d children, there are %d idle, and %d total children", "prefork: spawning with a rate of 8 or more. The first number is the rate."),
  ("AH00286 AH00484", "error", "server reached MaxRequestWorkers setting, consider raising the MaxRequestWorkers setting", "worker, event: at MaxRequestWorkers with no idle thread. Once per parent lifetime."),
  ("AH00287 AH10159", "error", "server is within MinSpareThreads of MaxRequestWorkers, consider raising the MaxRequestWorkers setting", "worker, event: at MaxRequestWorkers with some, but too few, idle threads. Once."),
  ("AH00288", "error", "scoreboard is full, not at MaxRequestWorkers", "worker: no free process slot although MaxRequestWorkers is not reached. Every second."),
  ("AH03490", "error", "scoreboard is full, not at MaxRequestWorkers.Increase ServerLimit.", "event: same situation (stopping children hold the slots). Every second. (No space after the dot, as in Apache.)"),
  ("AH00485", "error", "scoreboard is full, not at MaxRequestWorkers", "event before 2.4.25; replaced by AH03490."),
  ("AH00289", "info", "server seems busy, (you may need to increase StartServers, ThreadsPerChild or Min/MaxSpareThreads), spawning %d children, there are around %d idle threads, and %d total children", "worker: spawning with a rate of 8 or more."),
  ("AH00486", "info", "server seems busy, (…), spawning %d children, there are around %d idle threads, %d active children, and %d children that are shutting down", "event: spawning with a rate of 8 or more."),
  ("AH00457", "debug", "Accepting new connections again: %u active conns (%u lingering/%u clogged/%u suspended), %u idle workers", "event: a child went back under its accept limit."),
  ("AH00263", "debug", "pid %d taking over scoreboard slot from %d (quiescing)", "worker: a new child uses the slot of one that is still stopping."),
  ("AH03455", "error", "BUG: Scoreboard slot %d should be empty but is in use by pid %d", "event: internal consistency check."),
 ]),
 ("Children that fail", [
  ("AH00159 AH00283 AH00481", "error", "fork: Unable to fork new process", "fork() failed; the parent waits 10 s."),
  ("AH00050", "alert", "Child %pid returned a Fatal error... Apache is exiting!", "A child exited with code 15 (fatal): the whole server stops."),
  ("AH00166 AH00290 AH00487", "warn", "Ignoring fatal error in child of previous generation (pid %ld).", "The fatal child was an old one: no stop."),
  ("AH00051", "notice", "child pid %ld exit signal %s (%d), possible coredump in %s", "A child died from a signal and may have dumped core."),
  ("AH00052", "notice", "child pid %ld exit signal %s (%d)", "A child died from a signal."),
  ("AH10393 AH10392", "error", "children are killed successively!", "worker, event: a child was killed by a signal 3, 13, 23, … times in a row."),
  ("AH02325 AH02324", "alert", "A resource shortage or other unrecoverable failure was encountered before any child process initialized successfully... httpd is exiting!", "worker, event: children fail at start-up: give up."),
  ("AH00045", "warn", "child process %d still did not exit, sending a SIGTERM", "Stop: a child is still alive after 3, 5, 7 s."),
  ("AH00046", "error", "child process %d still did not exit, sending a SIGKILL", "Stop: after 9 s."),
  ("AH00047", "error", "could not make child process %d exit, attempting to continue anyway", "Stop: after 10 s."),
  ("AH02177", "emerg", "apr_socket_accept: giving up.", "accept() failed with ENETDOWN: the child exits (code 7)."),
  ("AH02179", "error", "apr_socket_accept: (client socket)", "accept() failed with another error: the child exits (code 7)."),
  ("AH00144 AH00146", "emerg", "couldn't grab the accept mutex / couldn't release the accept mutex", "prefork: accept mutex error: fatal in the current generation."),
  ("AH02155 AH02162", "alert", "setgid / initgroups / setuid failed …", "A child could not drop root privileges: fatal, the server stops."),
 ]),
 ("Configuration: prefork (start-up / restart)", [
  ("AH00175 AH00176", "warn", "WARNING: ServerLimit of %d exceeds compile-time limit of %d servers, decreasing to %d.", "ServerLimit > 200000."),
  ("AH00177 AH00178", "warn", "WARNING: ServerLimit of %d not allowed, increasing to 1.", "ServerLimit < 1."),
  ("AH00179", "warn", "changing ServerLimit to %d from original value of %d not allowed during restart", "The scoreboard cannot grow on restart."),
  ("AH00180 AH00181", "warn", "WARNING: MaxRequestWorkers of %d exceeds ServerLimit value of %d servers, decreasing MaxRequestWorkers to %d. To increase, please see the ServerLimit directive.", "MaxRequestWorkers > ServerLimit."),
  ("AH00182 AH00183", "warn", "WARNING: MaxRequestWorkers of %d not allowed, increasing to 1.", "MaxRequestWorkers < 1."),
  ("AH00184 AH00185", "warn", "WARNING: StartServers of %d not allowed, increasing to 1.", "StartServers < 1."),
  ("AH00186 AH00187", "warn", "WARNING: MinSpareServers of %d not allowed, increasing to 1 to avoid almost certain server failure. Please read the documentation.", "MinSpareServers < 1."),
 ]),
 ("Configuration: worker / event (start-up and restart codes)", [
  ("AH00300 AH00497", "warn", "WARNING: ServerLimit of %d exceeds compile-time limit of %d servers, decreasing to %d.", "ServerLimit > 20000."),
  ("AH00302 AH00499", "warn", "WARNING: ServerLimit of %d not allowed, increasing to 1.", "ServerLimit < 1."),
  ("AH00304 AH00501", "warn", "changing ServerLimit to %d from original value of %d not allowed during restart", ""),
  ("AH00305 AH00502", "warn", "WARNING: ThreadLimit of %d exceeds compile-time limit of %d threads, decreasing to %d.", "ThreadLimit > 20000 (worker) / 100000 (event)."),
  ("AH00307 AH00504", "warn", "WARNING: ThreadLimit of %d not allowed, increasing to 1.", ""),
  ("AH00309 AH00506", "warn", "changing ThreadLimit to %d from original value of %d not allowed during restart", ""),
  ("AH00310 AH00507", "warn", "WARNING: ThreadsPerChild of %d exceeds ThreadLimit of %d threads, decreasing to %d. To increase, please see the ThreadLimit directive.", ""),
  ("AH00312 AH00509", "warn", "WARNING: ThreadsPerChild of %d not allowed, increasing to 1.", ""),
  ("AH00314 AH00511", "warn", "WARNING: MaxRequestWorkers of %d is less than ThreadsPerChild of %d, increasing to %d. MaxRequestWorkers must be at least as large as the number of threads in a single server.", ""),
  ("AH00316 AH00513", "warn", "WARNING: MaxRequestWorkers of %d is not an integer multiple of ThreadsPerChild of %d, decreasing to nearest multiple %d, for a maximum of %d servers.", "See [worker arithmetic](../worker/arithmetic.md)."),
  ("AH00318 AH00515", "warn", "WARNING: MaxRequestWorkers of %d would require %d servers and would exceed ServerLimit of %d, decreasing to %d. To increase, please see the ServerLimit directive.", "Only the process limit is lowered (Apache bug, reproduced)."),
  ("AH00320 AH00517", "warn", "WARNING: StartServers of %d not allowed, increasing to 1.", ""),
  ("AH00322 AH00519", "warn", "WARNING: MinSpareThreads of %d not allowed, increasing to 1 to avoid almost certain server failure. Please read the documentation.", ""),
 ]),
 ("Configuration: old names and other", [
  ("AH00188 AH00324 AH00521", "info", "MaxClients is deprecated, use MaxRequestWorkers instead.", "The 2.2 name was used."),
  ("AH00545", "info", "MaxRequestsPerChild is deprecated, use MaxConnectionsPerChild instead.", "The 2.2 name was used."),
  ("AH02819", "info", "Using %i listeners bucket(s) based on %i online CPU cores and a ratio of %i", "ListenCoresBucketsRatio is active."),
  ("AH02820", "warn", "ListenCoresBucketsRatio ignored without SO_REUSEPORT and _SC_NPROCESSORS_ONLN support: using a single listeners bucket", ""),
 ]),
 ("HTTP requests (core)", [
  ("AH00565", "info", "request failed: client's request-line exceeds LimitRequestLine (longer than %d)", "414."),
  ("AH00561", "info", "Request header exceeds LimitRequestFieldSize: %s", "400."),
  ("AH00560 AH00562", "info", "Request header exceeds LimitRequestFieldSize after merging/folding: %s", "400."),
  ("AH00563", "info", "Number of request headers exceeds LimitRequestFields", "400."),
  ("AH00569", "debug", "client sent HTTP/1.1 request without hostname (see RFC2616 section 14.23): %s", "400."),
  ("AH00570", "info", "client sent an unrecognized expectation value of Expect: %s", "417."),
  ("AH00134 AH00135", "error", "Invalid method in request %s (AH00134: it looks like TLS)", "501 for an unknown method."),
  ("AH01588", "error", "Requested content-length of %d is larger than the configured limit of %d", "413."),
  ("AH02539", "info", "client sent unknown Transfer-Encoding (%s): %s", "400."),
  ("AH10242", "debug", "client sent invalid Content-Length (%s): %s", "400."),
  ("AH02401", "debug", "HTTP Request Line; Rejected HTTP/0.9 request", "400 with Require1.0."),
  ("AH02418 AH02421 AH02422 AH02423", "debug", "HTTP Request Line; … (invalid protocol, trailing text, …)", "400 (or 501 for AH02423) under the default Strict rules."),
  ("AH03444 AH03454", "debug", "HTTP Request Line; … (range AH03444–AH03454: bad whitespace, control characters, URI problems)", "400."),
  ("AH10111", "debug", "process_socket: connection processing returned %d (%sstate %d): closing", "event: unexpected connection state: lingering close."),
 ]),
]

def logged_codes():
    found = set()
    for d in SOURCES:
        for p in (ROOT / d).rglob("*.rs"):
            found.update(re.findall(r"AH\d{5}", p.read_text(errors="replace")))
    return found

def main():
    have = logged_codes()
    out = ["<!-- Generated by book/tools/error-messages.py: edit the script, not this page. -->",
           "# Error messages and AH codes", "",
           "Every Apache message has a number, `AHnnnnn`, so that you can search for it whatever the",
           "language or version. Our servers print the same codes with the same text (the server name",
           "becomes `mpm-lab/0.1.0 (Unix)`). An error-log line looks like this:", "",
           "```text",
           "[Sun Nov 22 16:02:45.972844 2026] [mpm_prefork:error] [pid 6615:tid 6615] AH00161: server reached MaxRequestWorkers setting, consider raising the MaxRequestWorkers setting",
           "```", "",
           "`[module:level]` says who wrote it and how serious it is (`emerg alert crit error warn",
           "notice info debug trace1…8`). `LogLevel warn mpm_prefork:info` shows the MPM's `info`",
           "messages (such as AH00162) without the rest. Notice-level messages are always written.",
           "When several codes are given, they are the same message in prefork / worker / event, or",
           "at start-up / on restart. Configuration warnings at start-up go to the terminal without",
           "the bracketed prefix, as in Apache.", "",
           "The column **mpm-lab** says whether our source contains the code (✔), i.e. whether our",
           "servers can log it. A code without ✔ belongs to a feature we do not have (accept mutex,",
           "listener buckets, HTTP/0.9 options …) or is not reproduced; see",
           "[Deviations](../porting/deviations.md).", ""]
    for title, rows in GROUPS:
        out += [f"## {title}", "", "| code | level | text | meaning | mpm-lab |", "|---|---|---|---|---|"]
        for codes, level, text, meaning in rows:
            cs = codes.split()
            n = sum(c in have for c in cs)
            mark = "✔" if n == len(cs) else (f"{n}/{len(cs)}" if n else "")
            text = text.replace("|", "\\|")
            out.append(f"| {' '.join(cs)} | {level} | `{text}` | {meaning} | {mark} |")
        out.append("")
    dest = ROOT / "book/src/reference/error-messages.md"
    dest.write_text("\n".join(out))
    total = {c for _, rows in GROUPS for r in rows for c in r[0].split()}
    print(f"{dest.relative_to(ROOT)}: {len(total)} codes, {len(total & have)} found in the servers' source")

if __name__ == "__main__":
    main()
