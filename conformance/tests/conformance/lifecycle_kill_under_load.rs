//! A child SIGKILLed under keep-alive load costs at most the connections it held (issue #16,
//! "Faults under load"; rule 57 is the parent's half: the killed child is replaced at once).
//!
//! Clients keep `2 × ThreadsPerChild` keep-alive connections busy (a request as soon as the
//! previous response is read), so the children's threads are all in use. A child holding
//! connections is stopped (SIGSTOP, so the count cannot change), its connections are counted
//! from `/proc/PID/fd` and `/proc/net/tcp`, then it is killed. Each of its connections may fail one request
//! (the one in flight, or the next one written into the dead socket); nothing else may fail:
//! the listening socket lives on in the parent and the other children, so reconnecting clients
//! wait in the backlog at worst. Before the fix, event's survivor shed its keep-alive
//! connections while its workers were busy (Apache's rules 31 and 32), the shed clients
//! reconnected into the same survivor, and one kill cost thousands of requests
//! (`conformance/tools/faults-under-load.sh` measures the wrk figures; see DEVIATIONS.md).
//!
//! Run against real Apache 2.4.71 (`tools/apache-shim.sh`, see the conformance README), the
//! prefork and worker tests pass exactly as ours do (1 of 1 and 4 of 4 held connections
//! failed); the event test fails by design, 1,395–1,828 failed requests for a victim holding 4
//! connections in three runs: that is the deviation of rules 31 and 32.
//!
//! No timing is asserted: only counts, each wait bounded.

use std::io::Write;
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread;
use std::time::Duration;

use conformance::http::read_response;
use conformance::procfs;
use conformance::{Mpm, Server, ServerTest, wait_until};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

/// What the clients counted.
#[derive(Default)]
struct Counts {
    /// Complete 200 responses with the whole body.
    ok: AtomicU64,
    /// Requests written that got no complete response (EOF, reset, timeout).
    failed: AtomicU64,
    /// Connection attempts refused or timed out.
    connect_failed: AtomicU64,
}

const REQUEST: &[u8] = b"GET /1k.bin HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";

/// One client: keep-alive requests back to back until `stop`; a connection the server
/// announces it closes (MaxKeepAliveRequests) is replaced without counting a failure.
fn client(addr: SocketAddr, stop: Arc<AtomicBool>, counts: Arc<Counts>) {
    let mut conn: Option<TcpStream> = None;
    while !stop.load(Ordering::SeqCst) {
        let mut s = match conn.take() {
            Some(s) => s,
            None => match TcpStream::connect_timeout(&addr, Duration::from_secs(5)) {
                Ok(s) => {
                    // Bounded: a request that hangs counts as failed (read_response gives up
                    // after its own timeout too).
                    let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
                    let _ = s.set_write_timeout(Some(Duration::from_secs(5)));
                    s
                }
                Err(_) => {
                    counts.connect_failed.fetch_add(1, Ordering::SeqCst);
                    thread::sleep(Duration::from_millis(50));
                    continue;
                }
            },
        };
        let answered = s.write_all(REQUEST).is_ok()
            && match read_response(&mut s, false) {
                Ok(Some(r)) if r.status == 200 && r.body.len() == 1024 => {
                    if !r.closes() {
                        conn = Some(s);
                    }
                    true
                }
                _ => false,
            };
        let counter = if answered { &counts.ok } else { &counts.failed };
        counter.fetch_add(1, Ordering::SeqCst);
    }
}

/// Stop (SIGSTOP) the child of `first` that holds the most sockets, and count the client
/// connections it holds: stopped, it can neither accept nor close one, so the count is exact
/// (`/proc/net/tcp` is long on a busy machine, and connections come and go while it is read).
/// A child found holding none is continued and another try made.
fn stop_a_busy_child(s: &Server, first: &[i32]) -> (i32, usize) {
    let sockets = |pid: i32| procfs::socket_fds(pid);
    let (victim, held) = wait_until(
        "a stopped child holding client connections",
        Duration::from_secs(20),
        || {
            let victim = s
                .children()
                .into_iter()
                .filter(|pid| first.contains(pid))
                .max_by_key(|&pid| sockets(pid))
                .unwrap_or(0);
            if victim == 0 || kill(Pid::from_raw(victim), Signal::SIGSTOP).is_err() {
                return (0, 0);
            }
            let held = procfs::connections_held(victim, s.port());
            if held == 0 {
                let _ = kill(Pid::from_raw(victim), Signal::SIGCONT);
                thread::sleep(Duration::from_millis(50));
            }
            (victim, held)
        },
        |&(_, held)| held > 0,
    );
    (victim, held)
}

fn killed_child_costs_only_its_connections(test: ServerTest, children: usize, clients: usize) {
    let s = test.start();
    let first = s.wait_children(children, Duration::from_secs(10));
    let stop = Arc::new(AtomicBool::new(false));
    let counts = Arc::new(Counts::default());
    let threads: Vec<_> = (0..clients)
        .map(|_| {
            let (stop, counts, addr) = (Arc::clone(&stop), Arc::clone(&counts), s.addr());
            thread::spawn(move || client(addr, stop, counts))
        })
        .collect();
    // Every client connected and served at least once: the load is on.
    wait_until(
        "the clients' first responses",
        Duration::from_secs(20),
        || counts.ok.load(Ordering::SeqCst),
        |&ok| ok >= 4 * clients as u64,
    );
    let (victim, held) = stop_a_busy_child(&s, &first);
    let failed_before = counts.failed.load(Ordering::SeqCst);
    kill(Pid::from_raw(victim), Signal::SIGKILL).expect("SIGKILL the victim");
    // The parent reaps it and forks a replacement (rule 57); the load runs on meanwhile.
    wait_until(
        "the killed child replaced",
        Duration::from_secs(10),
        || s.children(),
        |k| !k.contains(&victim) && k.len() >= children,
    );
    let ok_at_replacement = counts.ok.load(Ordering::SeqCst);
    // Load on the replacement too: another round of requests per client after it came.
    wait_until(
        "requests served after the replacement",
        Duration::from_secs(20),
        || counts.ok.load(Ordering::SeqCst),
        |&ok| ok >= ok_at_replacement + 200 * clients as u64,
    );
    stop.store(true, Ordering::SeqCst);
    for t in threads {
        t.join().expect("client thread");
    }
    let failed = counts.failed.load(Ordering::SeqCst);
    let connect_failed = counts.connect_failed.load(Ordering::SeqCst);
    eprintln!(
        "{:?}: victim {victim} held {held} connections; failed requests {failed_before} before the kill, {failed} in all; {connect_failed} failed connects; {} ok",
        s.mpm(),
        counts.ok.load(Ordering::SeqCst)
    );
    assert!(
        failed as usize <= held,
        "{failed} requests failed, but the killed child held only {held} connections"
    );
    assert_eq!(failed_before, 0, "requests failed before any kill");
    assert_eq!(connect_failed, 0, "connections refused after the kill");
    assert!(!procfs::alive(victim), "the killed child is gone");
}

#[test]
fn killed_child_costs_only_its_connections_prefork() {
    let test = ServerTest::new(Mpm::Prefork)
        .directive("StartServers 4")
        .directive("MinSpareServers 1")
        .directive("MaxSpareServers 10")
        .directive("MaxRequestWorkers 10");
    killed_child_costs_only_its_connections(test, 4, 4);
}

/// Worker and event: two children of 4 threads, 8 busy connections.
fn threaded(mpm: Mpm) -> ServerTest {
    ServerTest::new(mpm)
        .directive("ServerLimit 4")
        .directive("StartServers 2")
        .directive("ThreadsPerChild 4")
        .directive("MinSpareThreads 4")
        .directive("MaxSpareThreads 16")
        .directive("MaxRequestWorkers 16")
}

#[test]
fn killed_child_costs_only_its_connections_worker() {
    killed_child_costs_only_its_connections(threaded(Mpm::Worker), 2, 8);
}

#[test]
fn killed_child_costs_only_its_connections_event() {
    killed_child_costs_only_its_connections(threaded(Mpm::Event), 2, 8);
}
