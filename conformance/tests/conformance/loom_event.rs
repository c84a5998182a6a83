//! Loom models of mpm-event's listener ↔ worker hand-off (`mpm-event/src/handoff.rs`).
//!
//! The hand-off file, the accept-limit formula and httpd-core's fd queue are compiled here a
//! second time against loom (the `sync` module at this crate's root), so loom explores every
//! interleaving of the code the event children run. Steps cite the numbered protocol in
//! `handoff.rs`. The listener's eventfd is modelled by [`EventFd`], a flag under a loom mutex
//! with a condvar (`read` blocks until a `write` happened, then resets it), and the listener
//! resets it *before* draining (hand-off step 5), as the real listener reads the eventfd
//! before `take_back`.
//!
//! Lab ("order matters"): in `wait_and_take` below, drain with `take_back()` first and read
//! the eventfd afterwards, then run `cargo test -p conformance loom_event`:
//! `returns_from_two_workers_share_wakeups_without_loss` reports a deadlock — the interleaving
//! in which the second connection is stranded with no wake-up pending.

// A second copy of fdqueue.rs (loom_fdqueue.rs has the first): `handoff.rs` names it
// `super::fdqueue`, so it must be a sibling module here; the two copies never meet.
#[path = "../../../httpd-core/src/fdqueue.rs"]
#[allow(dead_code, clippy::duplicate_mod)]
mod fdqueue;

#[path = "../../../mpm-event/src/accept_limit.rs"]
#[allow(dead_code)]
mod accept_limit;

#[path = "../../../mpm-event/src/handoff.rs"]
#[allow(dead_code)]
mod handoff;

use handoff::{Handoff, Next};
use loom::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use loom::sync::{Arc, Condvar, Mutex};
use loom::thread;

fn model(f: impl Fn() + Sync + Send + 'static) {
    let mut b = loom::model::Builder::new();
    b.preemption_bound = Some(3);
    b.check(f);
}

/// A connection in the model: counts the threads that hold it right now.
struct Conn {
    holders: Arc<AtomicUsize>,
}

/// The listener's waker as the model sees an eventfd: `write` sets it, `read` blocks until it
/// is set and resets it.
#[derive(Default)]
struct EventFd {
    pending: Mutex<bool>,
    cv: Condvar,
}

impl EventFd {
    fn write(&self) {
        *self.pending.lock().unwrap() = true;
        self.cv.notify_one();
    }

    fn read(&self) {
        let mut p = self.pending.lock().unwrap();
        while !*p {
            p = self.cv.wait(p).unwrap();
        }
        *p = false;
    }
}

/// The listener's side of hand-off step 5: wait for a wake-up, reset it, then drain.
fn wait_and_take(h: &Handoff<Conn>, waker: &EventFd) -> Vec<(Conn, Next)> {
    waker.read();
    h.take_back()
}

/// Steps 1–5 (`push2worker`, `worker_thread`, `process_socket`): a connection the listener
/// hands to a worker is held by exactly one thread at a time and always comes back to the
/// listener — never lost, never closed while the worker still holds it.
#[test]
fn handed_off_connection_is_never_lost_nor_shared() {
    model(|| {
        let h = Arc::new(Handoff::<Conn>::new(1, 2));
        let waker = Arc::new(EventFd::default());
        let holders = Arc::new(AtomicUsize::new(0));
        let worker = {
            let (h, waker) = (h.clone(), waker.clone());
            thread::spawn(move || {
                if h.worker_idle() {
                    waker.write();
                }
                let conn = loop {
                    match h.pop() {
                        Ok(c) => break c,
                        Err(_) => continue,
                    }
                };
                let n = conn.holders.fetch_add(1, Ordering::SeqCst) + 1;
                assert_eq!(n, 1, "a connection is being served by two threads");
                conn.holders.fetch_sub(1, Ordering::SeqCst);
                if h.give_back(conn, Next::KeepAlive) {
                    waker.write();
                }
            })
        };
        // Listener: step 2. The real listener uses `try_get_idler` when a socket is readable;
        // the model blocks instead of polling, which reserves the same way.
        let idler = h.info.wait_for_idler().expect("not terminated");
        let conn = Conn {
            holders: holders.clone(),
        };
        h.dispatch(conn, idler);
        // Step 5: it comes back, and nobody else holds it when the listener closes it.
        let mut back = Vec::new();
        while back.is_empty() {
            back = wait_and_take(&h, &waker);
        }
        assert_eq!(back.len(), 1);
        assert_eq!(
            back[0].0.holders.load(Ordering::SeqCst),
            0,
            "closed while a worker holds it"
        );
        worker.join().unwrap();
    });
}

/// Step 4–5: `give_back` wakes the listener only when the list was empty, so one wake-up may
/// cover several connections; because the listener resets the wake-up before draining, no
/// connection is ever left in the list with no wake-up pending.
#[test]
fn returns_from_two_workers_share_wakeups_without_loss() {
    model(|| {
        let h = Arc::new(Handoff::<Conn>::new(2, 2));
        let waker = Arc::new(EventFd::default());
        let workers: Vec<_> = (0..2)
            .map(|_| {
                let (h, waker) = (h.clone(), waker.clone());
                thread::spawn(move || {
                    let conn = Conn {
                        holders: Arc::new(AtomicUsize::new(0)),
                    };
                    if h.give_back(conn, Next::Linger) {
                        waker.write();
                    }
                })
            })
            .collect();
        let mut got = 0;
        while got < 2 {
            got += wait_and_take(&h, &waker).len();
        }
        for w in workers {
            w.join().unwrap();
        }
        assert_eq!(got, 2);
    });
}

/// A worker thread that goes idle once (hand-off step 1) and records whether `worker_idle`
/// told it to wake the listener.
fn worker_going_idle(h: &Arc<Handoff<Conn>>) -> (thread::JoinHandle<()>, Arc<AtomicBool>) {
    let woke = Arc::new(AtomicBool::new(false));
    let worker = {
        let (h, woke) = (h.clone(), woke.clone());
        thread::spawn(move || {
            if h.worker_idle() {
                woke.store(true, Ordering::SeqCst);
            }
        })
    };
    (worker, woke)
}

/// Step 6 (`disable_listensocks`, `should_enable_listensocks`, the wake-up in
/// `worker_thread`; rule 30): a listener that disables its listening sockets because no worker
/// is idle never stays disabled while a worker is idle — the worker's `set_idle` is seen either
/// by the listener's re-check or through a wake-up.
#[test]
fn listener_never_stays_disabled_while_a_worker_is_idle() {
    model(|| {
        let h = Arc::new(Handoff::<Conn>::new(1, 2));
        let (worker, woke) = worker_going_idle(&h);
        // One listener iteration: a listening socket is readable.
        if h.accept_check().is_some() {
            h.disable_listeners();
        }
        // End of the iteration (step 7 of the listener).
        if h.should_enable_listeners() {
            h.enable_listeners();
        }
        worker.join().unwrap();
        assert!(
            !h.listeners_disabled() || woke.load(Ordering::SeqCst),
            "listeners disabled, a worker idle, and nobody will wake the listener"
        );
    });
}

/// Step 4 with the next round's step 1 (`idle_then_give_back`; rule 31): once the listener has
/// taken a connection back, the worker that served it already counts as idle, so a next
/// request arriving at once finds it and does not wait for a worker.
///
/// The listener here drains the hand-back list whenever it runs, not only after this worker's
/// wake-up: in the server any other worker's wake-up makes it drain. Lab: swap the two steps in
/// `idle_then_give_back` (give back first, then `worker_idle`) and loom finds the interleaving
/// in which the listener holds the connection, its next request is readable, and no worker is
/// idle.
#[test]
fn connection_given_back_finds_its_worker_idle() {
    model(|| {
        let h = Arc::new(Handoff::<Conn>::new(1, 2));
        let worker = {
            let h = h.clone();
            thread::spawn(move || {
                let _ = h.worker_idle();
                let conn = loop {
                    match h.pop() {
                        Ok(c) => break c,
                        Err(_) => continue,
                    }
                };
                let _ = h.idle_then_give_back(conn, Next::KeepAlive);
            })
        };
        let idler = h.info.wait_for_idler().expect("not terminated");
        h.dispatch(
            Conn {
                holders: Arc::new(AtomicUsize::new(0)),
            },
            idler,
        );
        while h.take_back().is_empty() {
            thread::yield_now();
        }
        // The client's next request is readable right now: rule 31 asks for an idler *now*.
        assert!(
            h.info.try_get_idler().is_some(),
            "keep-alive request left waiting: no idle worker"
        );
        worker.join().unwrap();
    });
}

/// Step 2 (our rule 31): a keep-alive request waiting in the listener for a worker is never
/// stranded — a worker going idle is found by the listener's last `try_get_idler` after
/// `set_awaiting`, or the worker's `worker_idle` says to wake the listener. Lab: publish the
/// length *after* the last look (swap the two lines below) and loom finds the interleaving in
/// which the listener sleeps with a request waiting and an idle worker that did not wake it.
#[test]
fn awaiting_request_is_never_stranded() {
    model(|| {
        let h = Arc::new(Handoff::<Conn>::new(1, 2));
        let (worker, woke) = worker_going_idle(&h);
        // The listener found no idler when the request arrived; before sleeping it publishes
        // the awaiting list and looks once more (`dispatch_awaiting`).
        h.set_awaiting(1);
        let found = h.info.try_get_idler().is_some();
        worker.join().unwrap();
        assert!(
            found || woke.load(Ordering::SeqCst),
            "a request waits, a worker is idle, and nobody will wake the listener"
        );
    });
}
