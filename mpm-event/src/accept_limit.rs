//! When may an event child accept another connection?
//!
//! Source: Apache `event.c: connections_above_limit`, `should_enable_listensocks`,
//! `disable_listensocks`, `enable_listensocks`. Spec: apache-mpm-rules.md §5.3, §5.4;
//! rules 29, 30.
//!
//! An event child holds far more connections than it has threads, because idle keep-alive
//! connections wait in the listener's poll set, not in a thread. But every one of them may
//! send a request at any moment, and a request needs a worker. So a child stops accepting
//! once it holds "enough" connections for its idle workers:
//!
//! ```text
//!   above limit  ⇔  I = 0  ∨  ( C > L  ∧  C − L ≥ TPC + (I − D) × F )
//!
//!   I  idle workers          C  open connections        L  connections in lingering close
//!   F  ⌊AsyncRequestWorkerFactor⌋  (integer division of the ×16 value, rule 29)
//!   D  1 while this child's listeners are disabled, else 0 (hysteresis: re-enabling needs
//!      one idle worker more than disabling did, so the child does not flip-flop)
//! ```
//!
//! The documentation's "accept while C − L < TPC + F × I" is the same formula without the
//! I = 0 rule, the hysteresis and the truncation (§10 item 5).

/// The numbers `connections_above_limit` reads (all are atomics in the child; the caller
/// loads them once so the decision is made on one consistent-enough snapshot, as Apache does).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AcceptCounts {
    /// `I`: idle workers not yet reserved (`ap_queue_info_num_idlers`).
    pub idle_workers: usize,
    /// `C`: open connections of this child (`connection_count`).
    pub connections: usize,
    /// `L`: of those, in lingering close (`lingering_count`).
    pub lingering: usize,
    /// ThreadsPerChild.
    pub threads_per_child: usize,
    /// `F`: the effective (integer) AsyncRequestWorkerFactor.
    pub factor: usize,
    /// `D`: true while this child's listening sockets are out of the poll set.
    pub listeners_disabled: bool,
}

/// Why the child is above its limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AboveLimit {
    /// No idle worker at all: sets `workers_were_busy` (§5.3), which keeps the listening
    /// sockets disabled (in Apache it also closes every keep-alive connection of the child,
    /// rule 32; we do not, see the `listener` module doc).
    NoIdleWorker,
    /// Too many open connections for the idle workers there are.
    TooManyConnections,
}

// ANCHOR: accept_limit
/// `connections_above_limit`: `None` when the child may accept, else the reason (rule 30).
pub fn connections_above_limit(c: AcceptCounts) -> Option<AboveLimit> {
    // ASSIGNMENT(event-accept-limit): begin
    // HINT(event-accept-limit): I = 0 → NoIdleWorker. Lingering connections do not count.
    // HINT(event-accept-limit): Above when C − L ≥ TPC + (I − D) × F, with D = 1 while the listeners are disabled.
    if c.idle_workers == 0 {
        return Some(AboveLimit::NoIdleWorker);
    }
    if c.connections <= c.lingering {
        return None;
    }
    let active = c.connections - c.lingering;
    // I ≥ 1 here and D ≤ 1, so I − D never underflows.
    let idle_for_limit = c.idle_workers - usize::from(c.listeners_disabled);
    let limit = c.threads_per_child + idle_for_limit * c.factor;
    if active < limit {
        None
    } else {
        Some(AboveLimit::TooManyConnections)
    }
    // ASSIGNMENT(event-accept-limit): end
}
// ANCHOR_END: accept_limit

/// `should_enable_listensocks`: disabled listeners come back once the child is not dying
/// and no longer above the limit (with D = 1, the hysteresis).
pub fn should_enable_listeners(dying: bool, c: AcceptCounts) -> bool {
    !dying && c.listeners_disabled && connections_above_limit(c).is_none()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(idle: usize, conns: usize, lingering: usize, disabled: bool) -> AcceptCounts {
        AcceptCounts {
            idle_workers: idle,
            connections: conns,
            lingering,
            threads_per_child: 25,
            factor: 2,
            listeners_disabled: disabled,
        }
    }

    #[test]
    fn rule_30_no_idle_worker_is_always_above() {
        assert_eq!(
            connections_above_limit(counts(0, 0, 0, false)),
            Some(AboveLimit::NoIdleWorker)
        );
    }

    #[test]
    fn rule_30_formula_edges() {
        // TPC 25 + 5 idle × 2 = 35: 34 active connections accepted, 35 not.
        assert_eq!(connections_above_limit(counts(5, 34, 0, false)), None);
        assert_eq!(
            connections_above_limit(counts(5, 35, 0, false)),
            Some(AboveLimit::TooManyConnections)
        );
        // Lingering connections do not count.
        assert_eq!(connections_above_limit(counts(5, 44, 10, false)), None);
        // Hysteresis: disabled needs one more idle worker: 25 + 4 × 2 = 33.
        assert_eq!(
            connections_above_limit(counts(5, 33, 0, true)),
            Some(AboveLimit::TooManyConnections)
        );
        assert_eq!(connections_above_limit(counts(5, 32, 0, true)), None);
        assert!(should_enable_listeners(false, counts(5, 32, 0, true)));
        assert!(!should_enable_listeners(true, counts(5, 32, 0, true)));
    }
}
