//! Loom models of the listener/worker hand-off in `httpd-core/src/fdqueue.rs`.
//!
//! The file under test is compiled here a second time, against loom's `Mutex`/`Condvar` (the
//! `sync` module at the root of this test crate mirrors `httpd-core/src/sync.rs`), so loom
//! explores every interleaving of the code the servers actually run. Each model is small
//! (2–3 threads, one assertion) and named after the property; steps refer to the numbered
//! protocol in `fdqueue.rs`.
//!
//! Lab ("lost wake-up"): delete the `notify_one` line marked `LAB` in `QueueInfo::set_idle`
//! and run `cargo test -p conformance loom_fdqueue`; `no_wakeup_is_lost` then fails with loom's
//! deadlock report, showing the interleaving in which the listener sleeps forever.

#[path = "../../../httpd-core/src/fdqueue.rs"]
#[allow(dead_code)]
mod fdqueue;

use fdqueue::{FdQueue, PopError, QueueInfo, Terminated};
use loom::sync::Arc;
use loom::sync::atomic::{AtomicUsize, Ordering};
use loom::thread;

fn model(f: impl Fn() + Sync + Send + 'static) {
    let mut b = loom::model::Builder::new();
    b.preemption_bound = Some(3);
    b.check(f);
}

/// A worker that announces itself idle once per item and pops until the queue is terminated
/// (`worker.c: worker_thread`, with its `is_idle` flag). Returns the items it got.
fn worker(qi: &QueueInfo, q: &FdQueue<usize>) -> Vec<usize> {
    let mut got = Vec::new();
    let mut is_idle = false;
    loop {
        if !is_idle {
            qi.set_idle();
            is_idle = true;
        }
        match q.pop() {
            Ok(item) => {
                got.push(item);
                is_idle = false;
            }
            Err(PopError::Interrupted) => continue,
            Err(PopError::Terminated) => return got,
        }
    }
}

/// Step 2 (`ap_queue_info_wait_for_idler`, rule 2): the listener gets a reservation only for a
/// worker that has announced itself idle, so it never accepts a connection no thread can take.
#[test]
fn listener_never_accepts_without_an_idle_worker() {
    model(|| {
        let qi = Arc::new(QueueInfo::new());
        let announced = Arc::new(AtomicUsize::new(0));
        let workers: Vec<_> = (0..2)
            .map(|_| {
                let (qi, announced) = (qi.clone(), announced.clone());
                thread::spawn(move || {
                    // Counted before set_idle: a reservation can only follow an announcement.
                    announced.fetch_add(1, Ordering::SeqCst);
                    qi.set_idle();
                })
            })
            .collect();
        let mut reserved = 0;
        let mut ok = true;
        for _ in 0..2 {
            let _idler = qi.wait_for_idler().expect("not terminated");
            reserved += 1;
            ok &= reserved <= announced.load(Ordering::SeqCst);
        }
        for w in workers {
            w.join().unwrap();
        }
        assert!(
            ok,
            "a reservation was handed out before any worker was idle"
        );
    });
}

/// Step 1 (`ap_queue_info_set_idle` signalling `wait_for_idler`): a listener that went to
/// sleep because no worker was idle is always woken by the next `set_idle`. If the wake-up
/// could be lost, loom reports a deadlock here.
#[test]
fn no_wakeup_is_lost() {
    model(|| {
        let qi = Arc::new(QueueInfo::new());
        let w = {
            let qi = qi.clone();
            thread::spawn(move || qi.set_idle())
        };
        let got = qi.wait_for_idler().map(drop);
        w.join().unwrap();
        assert_eq!(got, Ok(()));
    });
}

/// Steps 3–5 (`ap_queue_push_socket`, `ap_queue_pop_something`, `ap_queue_term`): with two
/// workers racing for two sockets, each socket is served exactly once, none lost, none twice.
#[test]
fn every_pushed_socket_is_popped_exactly_once() {
    model(|| {
        let qi = Arc::new(QueueInfo::new());
        let q = Arc::new(FdQueue::new(2));
        let workers: Vec<_> = (0..2)
            .map(|_| {
                let (qi, q) = (qi.clone(), q.clone());
                thread::spawn(move || worker(&qi, &q))
            })
            .collect();
        for item in 0..2 {
            let idler = qi.wait_for_idler().expect("not terminated");
            q.push(item, idler);
        }
        qi.term();
        q.term();
        let mut all: Vec<usize> = workers
            .into_iter()
            .flat_map(|w| w.join().unwrap())
            .collect();
        all.sort_unstable();
        assert_eq!(all, vec![0, 1]);
    });
}

/// Step 5 (`ap_queue_info_term`, `ap_queue_term`): stopping a child wakes both a listener
/// blocked for an idler and a worker blocked in pop, and both see "terminated".
#[test]
fn term_wakes_everyone() {
    model(|| {
        let qi = Arc::new(QueueInfo::new());
        let q = Arc::new(FdQueue::<usize>::new(1));
        let listener = {
            let qi = qi.clone();
            thread::spawn(move || qi.wait_for_idler().map(drop))
        };
        let popper = {
            let q = q.clone();
            thread::spawn(move || {
                loop {
                    match q.pop() {
                        Err(PopError::Interrupted) => continue,
                        other => return other,
                    }
                }
            })
        };
        qi.term();
        q.term();
        let results = (listener.join().unwrap(), popper.join().unwrap());
        assert_eq!(results, (Err(Terminated), Err(PopError::Terminated)));
    });
}
