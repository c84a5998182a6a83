//! The server-wide record and the per-process slots (`global_score`, `process_score` in
//! `include/scoreboard.h`). Writers follow the slot-ownership rules of [`super`].

use std::sync::atomic::{AtomicI32, AtomicI64, AtomicU8, AtomicU32, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use super::from_us;

/// The server-wide part (`global_score`).
#[repr(C)]
pub struct GlobalScore {
    pub(super) server_limit: AtomicU32,
    pub(super) thread_limit: AtomicU32,
    running_generation: AtomicU32,
    pub(super) config_generation: AtomicU32,
    restart_time_us: AtomicI64,
}

impl GlobalScore {
    /// The MPM generation children must belong to (`ParentServerMPMGeneration`).
    pub fn running_generation(&self) -> u32 {
        self.running_generation.load(Ordering::Acquire)
    }
    /// Parent only (rule 2): a restart started generation `g`.
    pub fn set_running_generation(&self, g: u32) {
        self.running_generation.store(g, Ordering::Release)
    }
    /// How many times the configuration was read (`ParentServerConfigGeneration`, starts at 1).
    pub fn config_generation(&self) -> u32 {
        self.config_generation.load(Ordering::Relaxed)
    }
    /// Parent only.
    pub fn set_config_generation(&self, g: u32) {
        self.config_generation.store(g, Ordering::Relaxed)
    }
    /// When the scoreboard was created or last reset by a hard restart (`RestartTime`).
    pub fn restart_time(&self) -> SystemTime {
        from_us(self.restart_time_us.load(Ordering::Relaxed))
    }
    /// Parent only.
    pub fn set_restart_time(&self, t: SystemTime) {
        let us = t
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_micros() as i64)
            .unwrap_or(0);
        self.restart_time_us.store(us, Ordering::Relaxed)
    }
}

/// One process slot (`process_score`).
#[repr(C)]
pub struct ProcessScore {
    pid: AtomicI32,
    generation: AtomicU32,
    quiescing: AtomicU8,
    not_accepting: AtomicU8,
    connections: AtomicU32,
    write_completion: AtomicU32,
    lingering_close: AtomicU32,
    keep_alive: AtomicU32,
    suspended: AtomicU32,
    wait_io: AtomicU32,
}

macro_rules! counter {
    ($get:ident, $set:ident, $doc:literal) => {
        #[doc = $doc]
        pub fn $get(&self) -> u32 {
            self.$get.load(Ordering::Relaxed)
        }
        #[doc = concat!("Set by the child that owns the slot (rule 4). ", $doc)]
        pub fn $set(&self, v: u32) {
            self.$get.store(v, Ordering::Relaxed)
        }
    };
}

impl ProcessScore {
    /// The child's pid, 0 for a free slot.
    pub fn pid(&self) -> i32 {
        self.pid.load(Ordering::Acquire)
    }
    /// Parent only (rule 2). Publish the generation first with [`set_generation`](Self::set_generation).
    pub fn set_pid(&self, pid: i32) {
        self.pid.store(pid, Ordering::Release)
    }
    /// The generation the child was started in.
    pub fn generation(&self) -> u32 {
        self.generation.load(Ordering::Relaxed)
    }
    /// Parent only (rule 2), before `set_pid`.
    pub fn set_generation(&self, g: u32) {
        self.generation.store(g, Ordering::Relaxed)
    }
    /// Non-zero while the child is stopping (event switches 1 to 2 once the parent has seen it).
    pub fn quiescing(&self) -> u8 {
        self.quiescing.load(Ordering::Acquire)
    }
    /// The child says it is stopping (rule 4); the event parent also acknowledges 1 → 2.
    pub fn set_quiescing(&self, q: u8) {
        self.quiescing.store(q, Ordering::Release)
    }
    /// Non-zero while an event child has disabled its listeners (§5.4).
    pub fn not_accepting(&self) -> u8 {
        self.not_accepting.load(Ordering::Acquire)
    }
    /// Child only (rule 4).
    pub fn set_not_accepting(&self, v: u8) {
        self.not_accepting.store(v, Ordering::Release)
    }
    counter!(
        connections,
        set_connections,
        "Open connections of an event child."
    );
    counter!(
        write_completion,
        set_write_completion,
        "Event connections in write completion."
    );
    counter!(
        lingering_close,
        set_lingering_close,
        "Event connections in lingering close."
    );
    counter!(
        keep_alive,
        set_keep_alive,
        "Event connections parked in the keep-alive queue."
    );
    counter!(
        suspended,
        set_suspended,
        "Suspended connections (owned by a module)."
    );
    counter!(wait_io, set_wait_io, "Event connections waiting for I/O.");

    /// Parent, on reap: the slot is free again (rule 2).
    pub fn clear(&self) {
        self.quiescing.store(0, Ordering::Relaxed);
        self.not_accepting.store(0, Ordering::Relaxed);
        for c in [
            &self.connections,
            &self.write_completion,
            &self.lingering_close,
            &self.keep_alive,
            &self.suspended,
            &self.wait_io,
        ] {
            c.store(0, Ordering::Relaxed);
        }
        self.pid.store(0, Ordering::Release);
    }
}
