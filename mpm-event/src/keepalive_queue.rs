//! Timeout queues: FIFO lists of parked connections, each list with one timeout.
//!
//! Source: Apache `event.c: struct timeout_queue`, `TO_QUEUE_APPEND`, `TO_QUEUE_REMOVE`,
//! `process_timeout_queue`. Spec: apache-mpm-rules.md §5.2; rules 32–35.
//!
//! The listener keeps every connection that waits for something (the next keep-alive request,
//! writability, the client's FIN) in one of these queues. Because all entries of a queue share
//! one timeout, appending at the back keeps the queue sorted by deadline: expiring is popping
//! from the front while the front is due, and the poll timeout is the front's deadline. No
//! heap, no timer wheel: that is the whole trick.
//!
//! Entries are keys (the listener's connection ids), not connections: the listener owns the
//! connections in a map and a queue only says *when* each one is due. Removing an entry from
//! the middle (the connection became readable) is a map removal; the stale key left in the
//! deque is skipped when it reaches the front. Apache unlinks from a doubly linked ring
//! instead; the effect is the same.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

/// One queue with one timeout (`struct timeout_queue`).
#[derive(Debug)]
pub struct TimeoutQueue {
    /// Every entry expires this long after it was appended.
    timeout: Duration,
    /// (key, deadline) in append order, which is deadline order. May hold stale keys.
    order: VecDeque<(u64, Instant)>,
    /// The live entries: key → deadline. An `order` entry is live only if its deadline
    /// matches, so a key removed and re-appended is not expired by its old entry.
    live: HashMap<u64, Instant>,
}

impl TimeoutQueue {
    /// An empty queue whose entries expire after `timeout`.
    pub fn new(timeout: Duration) -> TimeoutQueue {
        TimeoutQueue {
            timeout,
            order: VecDeque::new(),
            live: HashMap::new(),
        }
    }

    /// The queue's timeout.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    // ANCHOR: keepalive_queue
    /// Park `key` at `now`; it is due at `now + timeout` (`TO_QUEUE_APPEND`). Appending keeps
    /// the deque sorted because every entry has the same timeout and time only moves forward.
    pub fn push(&mut self, key: u64, now: Instant) {
        let deadline = now + self.timeout;
        self.live.insert(key, deadline);
        self.order.push_back((key, deadline));
    }

    /// Take `key` out before it expires (`TO_QUEUE_REMOVE`): it became readable/writable.
    /// Returns false if it was not queued.
    pub fn remove(&mut self, key: u64) -> bool {
        self.live.remove(&key).is_some()
    }

    /// Pop every entry due at `now` (`process_timeout_queue`), oldest first.
    pub fn expire(&mut self, now: Instant) -> Vec<u64> {
        // ASSIGNMENT(event-accept-limit): begin
        // HINT(event-accept-limit): Pop from the front while the front is due; skip stale entries (removed or re-appended keys).
        let mut due = Vec::new();
        while let Some(&(key, deadline)) = self.order.front() {
            if self.live.get(&key) != Some(&deadline) {
                self.order.pop_front(); // stale: removed or re-appended since
                continue;
            }
            if deadline > now {
                break;
            }
            self.order.pop_front();
            self.live.remove(&key);
            due.push(key);
        }
        due
        // ASSIGNMENT(event-accept-limit): end
    }
    // ANCHOR_END: keepalive_queue

    /// Pop every entry regardless of its deadline (Apache's "kill'em all" of rule 32; ours
    /// only when the child is stopping, rule 43, see the `listener` module doc).
    pub fn drain_all(&mut self) -> Vec<u64> {
        // ASSIGNMENT(event-accept-limit): begin
        // HINT(event-accept-limit): Kill'em all (a stopping child, rule 43): every live entry, oldest first, whatever its deadline.
        let mut all = Vec::with_capacity(self.live.len());
        while let Some((key, deadline)) = self.order.pop_front() {
            if self.live.get(&key) == Some(&deadline) {
                self.live.remove(&key);
                all.push(key);
            }
        }
        all
        // ASSIGNMENT(event-accept-limit): end
    }

    /// The earliest live deadline, for the poll timeout.
    pub fn next_deadline(&mut self) -> Option<Instant> {
        while let Some(&(key, deadline)) = self.order.front() {
            if self.live.get(&key) == Some(&deadline) {
                return Some(deadline);
            }
            self.order.pop_front();
        }
        None
    }

    /// Live entries.
    pub fn len(&self) -> usize {
        self.live.len()
    }

    /// True when nothing is parked.
    pub fn is_empty(&self) -> bool {
        self.live.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_33_expires_in_fifo_order_at_the_timeout() {
        let t0 = Instant::now();
        let mut q = TimeoutQueue::new(Duration::from_secs(5));
        q.push(1, t0);
        q.push(2, t0 + Duration::from_secs(1));
        q.push(3, t0 + Duration::from_secs(2));
        assert!(q.expire(t0 + Duration::from_millis(4999)).is_empty());
        assert_eq!(q.expire(t0 + Duration::from_secs(6)), vec![1, 2]);
        assert_eq!(q.next_deadline(), Some(t0 + Duration::from_secs(7)));
        assert_eq!(q.len(), 1);
    }

    #[test]
    fn removed_and_requeued_keys_keep_only_their_new_deadline() {
        let t0 = Instant::now();
        let mut q = TimeoutQueue::new(Duration::from_secs(5));
        q.push(1, t0);
        q.push(2, t0);
        assert!(q.remove(1));
        assert!(!q.remove(1));
        q.push(1, t0 + Duration::from_secs(3));
        assert_eq!(q.expire(t0 + Duration::from_secs(5)), vec![2]);
        assert_eq!(q.expire(t0 + Duration::from_secs(8)), vec![1]);
        assert!(q.is_empty());
        assert_eq!(q.next_deadline(), None);
    }

    #[test]
    fn rule_32_drain_all_takes_everything() {
        let t0 = Instant::now();
        let mut q = TimeoutQueue::new(Duration::from_secs(5));
        for k in 0..4 {
            q.push(k, t0);
        }
        q.remove(2);
        assert_eq!(q.drain_all(), vec![0, 1, 3]);
        assert!(q.is_empty());
    }
}
